//! What can be wrong with a record, as a value: turned into text here (the `Display`), into
//! `check`'s problem codes in `check` (one `match`), never decided from the wording.
//!
//! No variant holds a value of the record: user records hold password hashes.

use super::Release;
use crate::error::Hint;
use crate::json::Raw;

/// One finding about a record's value, from the model or from a conversion rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShapeError {
    /// The value is not JSON (the reason reads "is not valid JSON …").
    #[error("{reason}")]
    NotJson {
        /// The parser's reason (it never quotes the text).
        reason: String,
    },
    /// A member the release requires is absent.
    #[error("lacks `{field}`, which CnosDB {release} requires")]
    Missing {
        /// Dotted path of the member.
        field: String,
        /// The release that requires it.
        release: Release,
    },
    /// A member holds another JSON type (or another enum name) than the release reads.
    #[error("has `{field}` as {found}, where CnosDB {release} reads {expected}")]
    WrongType {
        /// Dotted path of the member (empty for the whole value).
        field: String,
        /// What the release reads.
        expected: String,
        /// What the value holds (a JSON type, never the value).
        found: &'static str,
        /// The release.
        release: Release,
    },
    /// A table value that is not one of the three table kinds.
    #[error("is not a table schema ({{\"TsKvTableSchema\":…}}, {{\"ExternalTableSchema\":…}} or {{\"StreamTableSchema\":…}})")]
    NotTable,
    /// A member the release refuses (its deserializer has no place for it).
    #[error("has `{field}`, which CnosDB {release} refuses: it accepts only the members it knows")]
    Refused {
        /// Dotted path of the member.
        field: String,
        /// The release.
        release: Release,
    },
    /// A member name written twice in one object (serde's `duplicate field`).
    #[error("repeats a member name in {object}")]
    Duplicate {
        /// The object: `the value` or a quoted dotted path.
        object: String,
    },
    /// A required member present only under the name an older release gave it.
    #[error("has `{old}` where CnosDB {release} requires `{field}` (renamed from `{old}`)")]
    OldName {
        /// Dotted path of the member as the release names it.
        field: String,
        /// Dotted path of its older name.
        old: String,
        /// The release.
        release: Release,
    },
    /// An optional member present only under an older name: the release ignores it and reads
    /// the member as absent, so its value is lost.
    #[error("has `{old}` where CnosDB {release} reads `{field}` (renamed from `{old}`): it skips `{old}`, so the value is lost")]
    LostUnderOldName {
        /// Dotted path of the member as the release names it.
        field: String,
        /// Dotted path of its older name.
        old: String,
        /// The release.
        release: Release,
    },
    /// A member the release does not declare and skips.
    #[error("has `{field}`, which CnosDB {release} does not know and skips")]
    Ignored {
        /// Dotted path of the member.
        field: String,
        /// The release.
        release: Release,
    },
    /// An optional member that is absent where the release would write it (as `null`).
    #[error("lacks `{field}`, which CnosDB {release} writes; it reads the absence as none")]
    Absent {
        /// Dotted path of the member.
        field: String,
        /// The release.
        release: Release,
    },
    /// A member or shape only a newer release writes: conversion only goes forward.
    #[error("{what}, which only a release newer than CnosDB {release} writes")]
    Newer {
        /// What was found (`has \`options.drop_after\` set`).
        what: String,
        /// The release converted for.
        release: Release,
    },
    /// Two members that mean the same (an old and a new name): which one holds is unclear.
    #[error("has both `{old}` and `{new}`")]
    Both {
        /// The older name.
        old: &'static str,
        /// The newer name.
        new: &'static str,
    },
    /// A password that is not a bcrypt hash, where plaintext is refused.
    #[error(
        "has a plaintext password (stored by CnosDB 2.3.0–2.3.3); 2.4 only accepts bcrypt hashes"
    )]
    Plaintext,
    /// Hashing a plaintext password failed.
    #[error("has a plaintext password that could not be hashed")]
    HashFailed,
}

impl ShapeError {
    /// What the command line can do about it, if anything beyond fixing the record.
    pub fn hint(&self) -> Option<Hint> {
        match self {
            ShapeError::Newer { .. } => Some(Hint::NewerShape),
            ShapeError::Plaintext => Some(Hint::PlaintextRefused),
            _ => None,
        }
    }

    /// A `WrongType` for `field`, found as the JSON type of `raw`.
    pub fn wrong(field: impl Into<String>, expected: &str, raw: Raw<'_>, release: Release) -> Self {
        ShapeError::WrongType {
            field: field.into(),
            expected: expected.to_string(),
            found: json_type(raw),
            release,
        }
    }

    /// A `Missing` for `field`.
    pub fn missing(field: impl Into<String>, release: Release) -> Self {
        ShapeError::Missing {
            field: field.into(),
            release,
        }
    }

    /// A `NotJson` from the JSON reader's message.
    pub fn not_json(reason: String) -> Self {
        ShapeError::NotJson { reason }
    }
}

/// The JSON type of a value, for messages: never the value.
pub fn json_type(raw: Raw<'_>) -> &'static str {
    match raw.get().as_bytes().first() {
        Some(b'n') => "null",
        Some(b't' | b'f') => "a boolean",
        Some(b'"') => "a string",
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b'-') => "a negative number",
        _ if raw.get().contains(['.', 'e', 'E']) => "a fractional number",
        _ => "a number",
    }
}
