//! Every problem code `check` reports, its severity and the consequence it claims: the one table
//! the README's check section mirrors (a test compares them), and the one `match` from a
//! [`ShapeError`] to a code.

use serde::Serialize;

use crate::model::ShapeError;

/// What a real target does with a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// The target's deserializer fails on it: a data node panics at start, or a tenant cannot
    /// be loaded or listed.
    Unreadable,
    /// The target reads it but loses a meaning (a password, a record, a name).
    Lossy,
    /// Read correctly, but the cluster behaves differently than the source did.
    Changed,
    /// Not written the way the target writes it; the same meaning. Not a problem.
    Noncanonical,
}

impl Severity {
    /// Every severity, worst first.
    pub const ALL: [Severity; 4] = [
        Severity::Unreadable,
        Severity::Lossy,
        Severity::Changed,
        Severity::Noncanonical,
    ];

    /// The name in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Unreadable => "unreadable",
            Severity::Lossy => "lossy",
            Severity::Changed => "changed",
            Severity::Noncanonical => "noncanonical",
        }
    }

    /// True when a problem of this severity makes `check` fail (`strict` adds `changed`).
    pub fn fails(self, strict: bool) -> bool {
        match self {
            Severity::Unreadable | Severity::Lossy => true,
            Severity::Changed => strict,
            Severity::Noncanonical => false,
        }
    }
}

/// One problem code: its name, severity and the consequence on a real target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    /// The stable short name.
    pub name: &'static str,
    /// What the target does with it.
    pub severity: Severity,
    /// The consequence claimed (the README's column).
    pub consequence: &'static str,
}

const fn code(name: &'static str, severity: Severity, consequence: &'static str) -> Code {
    Code {
        name,
        severity,
        consequence,
    }
}

use Severity::{Changed, Lossy, Noncanonical, Unreadable};

/// Every code, in the README's order.
pub const CODES: &[Code] = &[
    // The text of the file.
    code("invalid-utf8", Lossy, "2.4 stores U+FFFD for the bad bytes: a name or value changes"),
    code("crlf", Noncanonical, "the CR stays at the end of the value; JSON values still parse (plain values are never restored)"),
    code("nul", Unreadable, "a NUL is not valid inside a JSON value: the record does not parse"),
    code("blank-line", Noncanonical, "restore skips the line"),
    code("line-too-long", Unreadable, "not a record any CnosDB writes: it does not parse"),
    code("debug-frame", Noncanonical, "the frame line has no \": \": restore skips it"),
    code("debug-prefix", Lossy, "stored under the key `* /…`, which nothing reads: the record is lost"),
    code("no-separator", Lossy, "restore skips the line: the record is lost"),
    code("empty-key", Lossy, "the store refuses an empty key (restore still counts it): the record is lost"),
    code("key-without-slash", Lossy, "stored under a key no listing reads: the record is lost"),
    code("invisible-name", Lossy, "2.4 lists children by prefix and skips names with a `/`: the record is never read"),
    code("duplicate-key", Lossy, "the later line replaces the earlier one"),
    // Keys every target drops.
    code("drop.global", Changed, "2.4 overwrites `/data_version` and keeps its own init keys"),
    code("drop.auto-incr-id", Lossy, "a smaller id counter makes the target reuse bucket and vnode ids"),
    code("drop.data-node", Lossy, "vnodes are placed on a data node that does not exist"),
    code("drop.bucket", Lossy, "the vnodes name the old data nodes' directories: the bucket's data is not found"),
    code("drop.resource-info", Changed, "the source's background tasks are resumed on the target"),
    code("drop.query", Unreadable, "a query record of the source cluster: a real 2.4.3.4 panicked at its next start (main/src/server.rs:301, make_cnosdbms)"),
    code("bucket-without-leader", Unreadable, "`missing field leader_node_id`: the tenant fails to load"),
    // Record values, judged by the target's deserializer.
    code("not-json", Unreadable, "the value does not parse: its listing fails"),
    code("missing-field", Unreadable, "`missing field …`: its listing fails (users: every data node panics at start; tenant objects: the tenant fails to load)"),
    code("wrong-type", Unreadable, "`invalid type …`: its listing fails"),
    code("duplicate-field", Unreadable, "`duplicate field …`: its listing fails"),
    code("unknown-field", Unreadable, "`unknown field …` (2.4.3+ TSKV tables): the tenant fails to load"),
    code("old-field-name", Unreadable, "a required member under its old name: `missing field …`"),
    code("other-release-shape", Unreadable, "a record of another release's shape: `missing field …` or `invalid type …`"),
    code("lost-under-old-name", Lossy, "an optional member under its old name is skipped: with `options.password` the user has no password and cannot log in"),
    code("plaintext-password", Lossy, "2.4 only verifies bcrypt hashes: the user cannot log in"),
    code("other-cluster", Lossy, "2.4 only reads keys of its own cluster: the record is never read"),
    // Read correctly, but the cluster behaves differently.
    code("must-change-password", Changed, "2.4.3 refuses every statement of the user until the password is changed; 2.3 never enforced it"),
    code("root-without-password", Changed, "it replaces the new cluster's root; with authentication on nobody can log in as root"),
    code("system-db", Changed, "it replaces the record 2.4 wrote for its own system database"),
    code("orphan-member", Changed, "the member of a user that does not exist is left out of every listing"),
    code("missing-role", Changed, "the member of a role that does not exist has no privileges"),
    code("orphan-table", Changed, "a table whose database does not exist is never listed"),
    // Same meaning, other bytes.
    code("noncanonical", Noncanonical, "read as it is meant; transform would write it differently (absent optional members, member order, spacing, members the target skips)"),
];

/// The code named `name`.
pub fn lookup(name: &str) -> &'static Code {
    CODES
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("`{name}` is not in CODES"))
}

/// The code of a finding of the model about a record's value.
pub fn of_finding(e: &ShapeError) -> &'static str {
    match e {
        ShapeError::NotJson { .. } => "not-json",
        ShapeError::Missing { .. } => "missing-field",
        ShapeError::WrongType { .. } | ShapeError::NotTable => "wrong-type",
        ShapeError::Duplicate { .. } => "duplicate-field",
        ShapeError::Refused { .. } => "unknown-field",
        ShapeError::OldName { .. } => "old-field-name",
        ShapeError::LostUnderOldName { .. } => "lost-under-old-name",
        ShapeError::Newer { .. } => "other-release-shape",
        ShapeError::Plaintext | ShapeError::HashFailed => "plaintext-password",
        ShapeError::Ignored { .. } | ShapeError::Absent { .. } | ShapeError::Both { .. } => {
            "noncanonical"
        }
    }
}

/// Why a dropped key must not move, by transform's rule.
pub fn drop_reason(rule: &str) -> &'static str {
    match rule {
        "drop.global" => "a global key of the source store (`/data_version`, `/already_init_key`, `/test_alive`): the target keeps its own",
        "drop.auto-incr-id" => "the source's id counter: restoring it makes the target reuse bucket and vnode ids",
        "drop.data-node" => "describes a data node of the source cluster: the target would place vnodes on a node that does not exist",
        "drop.bucket" => "a bucket of the source cluster: its vnodes name the old data nodes' directories; 2.4 creates its own buckets",
        "drop.resource-info" => "background-task state of the source cluster",
        "drop.query" => "a running query of the source cluster (transient state)",
        _ => "transform never moves this key",
    }
}
