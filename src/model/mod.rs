//! One model of every record shape per release family, taken from each release's source (the
//! citations sit next to each shape). `transform` writes from it, `check` reads with it the
//! way the target's deserializer reads, `inspect` tells the release from it.
//!
//! A shape lists each member with its JSON type, whether the release requires it (no
//! `Option`, no serde default), reads its absence as `None`, or defaults it; whether unknown
//! members are refused or skipped; the order the release writes the members in, and which it
//! leaves out when `None` (`skip_serializing_if`).

mod database;
mod dropped;
mod error;
mod members;
mod read;
mod releases;
mod shape;
mod table;
mod tenant;
mod user;

pub use dropped::{drop_rule, is_invisible_name, is_system_db, unreadable_set};
pub use error::{json_type, ShapeError};
pub use members::could_write;
pub use read::{read, Reading};
pub use releases::{Release, Releases};
pub use shape::{Field, Presence, Shape, Ty, Unknown};
pub use tenant::{custom_role, CNOS_DURATION, DURATION_23, LIMITER, MEMBER};
pub use user::{facts as user_facts, is_bcrypt, Password, UserFacts};

use crate::dump::KeyKind;
use crate::json::Object;

/// The record kinds the model knows (the kinds every target drops are in [`drop_rule`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    /// `/{c}/tenants/{t}`
    Tenant,
    /// `/{c}/tenants/{t}/limiter`
    Limiter,
    /// `/{c}/tenants/{t}/roles/{r}`
    Role,
    /// `/{c}/tenants/{t}/members/{uid}`
    Member,
    /// `/{c}/users/{u}`
    User,
    /// `/{c}/tenants/{t}/dbs/{db}`
    Database,
    /// `/{c}/tenants/{t}/dbs/{db}/schemas/{tbl}`
    Table,
}

impl Record {
    /// The modelled kind of a key, if it is one.
    pub fn of(kind: &KeyKind<'_>) -> Option<Record> {
        Some(match kind {
            KeyKind::Tenant { .. } => Record::Tenant,
            KeyKind::Limiter { .. } => Record::Limiter,
            KeyKind::Role { .. } => Record::Role,
            KeyKind::Member { .. } => Record::Member,
            KeyKind::User { .. } => Record::User,
            KeyKind::Database { .. } => Record::Database,
            KeyKind::Table { .. } => Record::Table,
            _ => return None,
        })
    }

    /// The type `release` reads this kind's value as.
    pub fn ty(self, release: Release) -> Ty {
        match self {
            Record::Tenant => Ty::Struct(tenant::shape(release)),
            Record::Limiter => Ty::Struct(&LIMITER),
            Record::Role => Ty::Struct(tenant::role(release)),
            Record::Member => MEMBER,
            Record::User => Ty::Struct(user::shapes(release).last().expect("one shape at least")),
            Record::Database => Ty::Struct(database::shape(release)),
            Record::Table => table::ty(release),
        }
    }

    /// The shapes `release` writes this kind in (one, or for users of 2.3.0–2.3.3, two; for
    /// tables, the TSKV schema inside).
    fn written(self, release: Release) -> &'static [Shape] {
        match self {
            Record::User => user::shapes(release),
            Record::Table => std::slice::from_ref(table::tskv(release)),
            _ => match self.ty(release) {
                Ty::Struct(shape) => std::slice::from_ref(shape),
                _ => &[],
            },
        }
    }

    /// The families that could have written `value` (member names and nulls only). A value
    /// no family writes says nothing: [`Releases::ANY`].
    pub fn written_by(self, value: &str) -> Releases {
        let Ok(obj) = Object::parse(value) else {
            return Releases::ANY;
        };
        self.written_by_object(&obj)
    }

    /// [`Record::written_by`] of a parsed value.
    pub fn written_by_object(self, obj: &Object<'_>) -> Releases {
        let found = Release::ALL
            .into_iter()
            .filter(|r| self.written(*r).iter().any(|s| could_write(obj, s)))
            .fold(Releases::NONE, |set, r| set.or(Releases::only(r)));
        if found.is_empty() {
            Releases::ANY
        } else {
            found
        }
    }
}

/// The TSKV table shape of a release family.
pub fn tskv(release: Release) -> &'static Shape {
    table::tskv(release)
}

/// The database shape of a release family.
pub fn database(release: Release) -> &'static Shape {
    database::shape(release)
}

/// The tenant shape of a release family.
pub fn tenant(release: Release) -> &'static Shape {
    tenant::shape(release)
}

/// The user shape a release family writes today (its newest).
pub fn user(release: Release) -> &'static Shape {
    user::shapes(release).last().expect("one shape at least")
}

/// The data node shapes a release family writes.
pub fn data_node(release: Release) -> &'static [Shape] {
    dropped::data_node(release)
}
