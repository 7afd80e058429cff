//! Per-record conversion rules, one module per record kind, parameterised by the target.
//!
//! Each patcher takes a value's text and returns it unchanged, or rebuilt in exactly the
//! target's shape with the list of field changes. A shape problem comes back as a message
//! that never quotes the value (user records hold password hashes).

mod database;
mod duration;
mod table;
mod tenant;
mod user;

pub use database::patch_database;
pub use duration::{cnos_duration, CNOS_INF};
pub use table::{patch_table, TableEngine};
pub use tenant::patch_tenant;
pub use user::{is_bcrypt, patch_user, PlaintextPolicy};

use crate::json::{as_str, as_u128, Object, Raw};
use crate::target::{DbConfig, Target};

/// What happened to one field of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The field path, dotted (`options.tenant_is_hidden`).
    pub field: String,
    /// What was done to it.
    pub op: Op,
}

/// The kinds of field change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Added with the target's default.
    Added,
    /// Left out (the target does not know it, or it was cleared).
    Removed,
    /// The same value under a new name.
    RenamedFrom(String),
    /// The value converted to the target's representation.
    Converted,
    /// A plaintext password replaced by its bcrypt hash.
    Hashed,
}

impl Op {
    /// The name used in reports.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Added => "added",
            Op::Removed => "removed",
            Op::RenamedFrom(_) => "renamed",
            Op::Converted => "converted",
            Op::Hashed => "hashed",
        }
    }
}

impl Change {
    fn new(field: impl Into<String>, op: Op) -> Self {
        Change {
            field: field.into(),
            op,
        }
    }
}

/// The result of patching one value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The value is already what the target writes.
    Unchanged,
    /// The value was rebuilt.
    Patched {
        /// The new value, compact JSON.
        value: String,
        /// What changed, field by field.
        changes: Vec<Change>,
    },
}

impl Outcome {
    /// `Unchanged` when the rebuilt text equals the input, else `Patched`.
    fn from_rebuilt(input: &str, value: String, changes: Vec<Change>) -> Outcome {
        if value == input {
            Outcome::Unchanged
        } else {
            Outcome::Patched { value, changes }
        }
    }
}

/// Everything the patchers need to know besides the value.
#[derive(Debug, Clone)]
pub struct Rules {
    /// The release the output is for.
    pub target: Target,
    /// The 2.4.2+ database `config` values for converted databases.
    pub db_config: DbConfig,
    /// What to do with a plaintext password.
    pub plaintext: PlaintextPolicy,
    /// Keep `must_change_password` on 2.4.3 targets.
    pub keep_must_change_password: bool,
}

impl Rules {
    /// The default rules for a target.
    pub fn new(target: Target) -> Self {
        Rules {
            target,
            db_config: target.default_db_config(),
            plaintext: PlaintextPolicy::Hash,
            keep_must_change_password: false,
        }
    }
}

/// The error for a record whose shape is newer than the target.
fn newer_shape(what: &str, target: Target) -> String {
    format!(
        "{what}, a shape written by a release newer than {target}; conversion only goes forward: \
         pick a newer --target or start from the 2.3 dump"
    )
}

/// The `id` (u128), `name` (string) and `options` (object) shared by tenant and user
/// records, and the members neither the record nor its options may hold (as removals).
fn identity<'a>(
    top: &Object<'a>,
    known: &[&str],
    known_options: &[&str],
) -> Result<(Raw<'a>, Raw<'a>, Object<'a>, Vec<Change>), String> {
    let id = top.get("id").ok_or("missing `id`")?;
    as_u128(id).ok_or("`id` is not an unsigned integer")?;
    let name = top.get("name").ok_or("missing `name`")?;
    as_str(name).ok_or("`name` is not a string")?;
    let options = top.object("options")?;
    let mut changes: Vec<Change> = top
        .unknown_members(known)
        .map(|n| Change::new(n, Op::Removed))
        .collect();
    changes.extend(
        options
            .unknown_members(known_options)
            .map(|n| Change::new(format!("options.{n}"), Op::Removed)),
    );
    Ok((id, name, options, changes))
}
