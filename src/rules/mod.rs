//! Per-record conversion rules, one module per record kind, parameterised by the target.
//!
//! Each patcher takes a value's text and returns it unchanged, or rebuilt in exactly the
//! target's shape (the member order and the members left out come from [`crate::model`]) with
//! the list of field changes. A shape problem comes back as a [`ShapeError`], which never holds
//! a value (user records hold password hashes).

mod database;
mod duration;
mod table;
mod tenant;
mod user;

pub use database::patch_database;
pub use duration::{cnos_duration, CNOS_INF};
pub use table::{patch_table, TableEngine};
pub use tenant::patch_tenant;
pub use user::{patch_user, PlaintextPolicy};

use crate::json::{as_str, as_u128, Object, Raw};
use crate::model::{Release, Shape, ShapeError};
use crate::target::{DbConfig, Target};

/// What a patcher returns.
pub type Patched = Result<Outcome, ShapeError>;

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
fn newer(what: impl Into<String>, target: Target) -> ShapeError {
    ShapeError::Newer {
        what: what.into(),
        release: target.into(),
    }
}

/// `value` as an object.
fn parse(value: &str) -> Result<Object<'_>, ShapeError> {
    Object::parse(value).map_err(ShapeError::not_json)
}

/// Member `name` of `obj` (at `path`), which must be an object.
fn member_object<'a>(
    obj: &Object<'a>,
    name: &str,
    path: &str,
    release: Release,
) -> Result<Object<'a>, ShapeError> {
    let raw = obj
        .get(name)
        .ok_or_else(|| ShapeError::missing(format!("{path}{name}"), release))?;
    raw.object()
        .map_err(|_| ShapeError::wrong(format!("{path}{name}"), "an object", raw, release))
}

/// The `id` (u128), `name` (string) and `options` (object) shared by tenant and user
/// records, and the members neither the record nor its options may hold (as removals): the
/// members of `shape` and its `options`, their old names, and `also`.
fn identity<'a>(
    top: &Object<'a>,
    shape: &Shape,
    also: &[&str],
    release: Release,
) -> Result<(Raw<'a>, Raw<'a>, Object<'a>, Vec<Change>), ShapeError> {
    let id = top.get("id").ok_or(ShapeError::missing("id", release))?;
    as_u128(id).ok_or_else(|| ShapeError::wrong("id", "an unsigned integer", id, release))?;
    let name = top
        .get("name")
        .ok_or(ShapeError::missing("name", release))?;
    as_str(name).ok_or_else(|| ShapeError::wrong("name", "a string", name, release))?;
    let options = member_object(top, "options", "", release)?;
    let known = |shape: &Shape, n: &str| {
        shape.field(n).is_some()
            || shape.renamed.iter().any(|(old, _)| *old == n)
            || also.contains(&n)
    };
    let option_shape = shape.nested("options");
    let mut changes: Vec<Change> = top
        .members
        .iter()
        .filter(|(n, _)| !known(shape, n))
        .map(|(n, _)| Change::new(n.as_ref(), Op::Removed))
        .collect();
    changes.extend(
        options
            .members
            .iter()
            .filter(|(n, _)| !known(option_shape, n))
            .map(|(n, _)| Change::new(format!("options.{n}"), Op::Removed)),
    );
    Ok((id, name, options, changes))
}
