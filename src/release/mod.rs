//! Which CnosDB release wrote a dump, told from the shapes of its records (spec section 4.3).
//!
//! Every record that carries a version-specific shape narrows a set of candidate release
//! families; the answer is what is left. Records that contradict each other are "mixed".
//! [`learn_target`] (in `learn.rs`) tells a target from a dump of the new cluster.

mod learn;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use memchr::memmem::Finder;

use crate::dump::KeyKind;
use crate::json::{as_u128, Object, Raw};
use crate::model;
use crate::model::{could_write, Record};
pub use crate::model::{Release, Releases};
use crate::rules::TableEngine;
pub use learn::{db_config_of, learn_target, LearnedTarget};

/// What the record shapes say about the release that wrote a dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    /// The candidate families; empty when the shapes contradict each other.
    pub releases: Releases,
    /// For each key kind that narrowed the answer, what its records alone say.
    pub by_kind: BTreeMap<&'static str, Releases>,
}

impl Detection {
    /// True when records of different releases are mixed.
    pub fn is_mixed(&self) -> bool {
        self.releases.is_empty()
    }

    /// One line: the releases, or why there is no answer.
    pub fn describe(&self) -> String {
        if self.releases.is_any() {
            "unknown (no record with a release-specific shape)".into()
        } else if self.is_mixed() {
            format!("mixed shapes ({})", self.kinds())
        } else {
            self.releases.to_string()
        }
    }

    /// `user: 2.3.4–2.3.5, tenant: 2.4.0` (kinds whose records disagree say `mixed`).
    pub fn kinds(&self) -> String {
        let parts: Vec<String> = self
            .by_kind
            .iter()
            .map(|(k, r)| match r.is_empty() {
                true => format!("{k}: mixed"),
                false => format!("{k}: {r}"),
            })
            .collect();
        parts.join(", ")
    }
}

/// Collects release evidence record by record.
#[derive(Debug, Default)]
pub struct Detector {
    by_kind: BTreeMap<&'static str, Releases>,
    weak: Option<Releases>,
}

impl Detector {
    /// A detector that has seen nothing.
    pub fn new() -> Self {
        Detector::default()
    }

    /// Takes the evidence of one record.
    pub fn observe(&mut self, key: &str, kind: &KeyKind<'_>, value: &str) {
        let (strong, weak) = evidence(key, kind, value);
        self.observe_shape(kind, strong);
        if let Some(w) = weak {
            self.weak = Some(self.weak.unwrap_or(Releases::ANY).and(w));
        }
    }

    /// Takes the shape evidence of one record, worked out by the caller (see [`table_shape`]).
    pub fn observe_shape(&mut self, kind: &KeyKind<'_>, strong: Releases) {
        if !strong.is_any() {
            let slot = self.by_kind.entry(kind.name()).or_insert(Releases::ANY);
            *slot = slot.and(strong);
        }
    }

    /// Takes what another detector has seen (of other records of the same dump).
    pub fn absorb(&mut self, other: Detector) {
        for (kind, strong) in other.by_kind {
            let slot = self.by_kind.entry(kind).or_insert(Releases::ANY);
            *slot = slot.and(strong);
        }
        if let Some(w) = other.weak {
            self.weak = Some(self.weak.unwrap_or(Releases::ANY).and(w));
        }
    }

    /// The answer so far. Weak evidence (init-time defaults) only narrows a consistent answer.
    pub fn detection(&self) -> Detection {
        let strong = self
            .by_kind
            .values()
            .fold(Releases::ANY, |acc, r| acc.and(*r));
        let mut by_kind = self.by_kind.clone();
        let mut releases = strong;
        if let Some(weak) = self.weak.filter(|w| !strong.and(*w).is_empty()) {
            releases = strong.and(weak);
            by_kind.insert("system database defaults", weak);
        }
        Detection { releases, by_kind }
    }
}

/// What one record says: strong evidence (its shape) and weak evidence (default values).
pub fn evidence(key: &str, kind: &KeyKind<'_>, value: &str) -> (Releases, Option<Releases>) {
    let strong = match kind {
        KeyKind::AlreadyInit | KeyKind::TestAlive => Releases::from(Release::V2_4_0),
        KeyKind::ResourceInfo => resource_info(value),
        KeyKind::Query => {
            if key.split('/').count() == 5 {
                Releases::only(Release::V2_4_2)
            } else {
                Releases::from(Release::V2_4_2_1)
            }
        }
        KeyKind::DataNode => data_node(value),
        KeyKind::Tenant { .. } => tenant(value),
        KeyKind::User { .. } => Record::User.written_by(value),
        KeyKind::Role { .. } => Record::Role.written_by(value),
        KeyKind::Database { .. } => Record::Database.written_by(value),
        KeyKind::Bucket { .. } => bucket(value),
        KeyKind::Table { .. } => table(value),
        _ => Releases::ANY,
    };
    let weak = match kind {
        KeyKind::Database {
            tenant: "cnosdb",
            db,
        } if matches!(*db, "public" | "usage_schema" | "cluster_schema") => init_wal_size(value),
        _ => None,
    };
    (strong, weak)
}

fn resource_info(value: &str) -> Releases {
    let Ok(o) = Object::parse(value) else {
        // `/resourceinfosmark` holds a tuple, not an object.
        return Releases::from(Release::V2_4_0);
    };
    if o.has("names") {
        Releases::only(Release::V2_4_0)
    } else if o.has("execute_node_id") {
        Releases::from(Release::V2_4_1)
    } else if o.has("tenant_id_and_db") {
        Releases::only(Release::V2_4_0_1)
    } else {
        Releases::from(Release::V2_4_0)
    }
}

fn data_node(value: &str) -> Releases {
    let Ok(node) = Object::parse(value) else {
        return Releases::ANY;
    };
    Release::ALL
        .into_iter()
        .filter(|r| model::data_node(*r).iter().any(|s| could_write(&node, s)))
        .fold(Releases::NONE, |set, r| set.or(Releases::only(r)))
}

/// The tenant's shape, narrowed by its limiter's request names (2.3.0–2.3.3 `data_in`, 2.3.4+
/// `coord_data_in`; the limiter config is opaque to the model).
fn tenant(value: &str) -> Releases {
    let Ok(top) = Object::parse(value) else {
        return Releases::ANY;
    };
    let mut r = Record::Tenant.written_by_object(&top);
    let request = top
        .object("options")
        .and_then(|o| o.object("limiter_config"))
        .and_then(|l| l.object("request_config"));
    if let Ok(request) = request {
        if request.has("data_in") {
            r = r.and(Releases::only(Release::V2_3_0));
        } else if request.has("coord_data_in") {
            r = r.and(Releases::from(Release::V2_3_4));
        }
    }
    r
}

/// The WAL size a 2.4.2+ cluster writes into the databases it creates at init:
/// 1 GiB up to 2.4.2.1, 128 MiB from 2.4.3.
fn init_wal_size(value: &str) -> Option<Releases> {
    let top = Object::parse(value).ok()?;
    let wal = top.object("config").ok()?.get("wal_max_file_size")?;
    match as_u128(wal)? {
        134_217_728 => Some(Releases::only(Release::V2_4_3)),
        1_073_741_824 => Some(Releases::range(Release::V2_4_2, Release::V2_4_2_1)),
        _ => None,
    }
}

fn bucket(value: &str) -> Releases {
    // Only the first shard group's shape matters: in the compact form CnosDB writes, read just
    // that group instead of the whole record (buckets are most of a dump's bytes, and every
    // target drops them).
    const GROUPS: &str = "\"shard_group\":[";
    static FINDER: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(GROUPS));
    let first = match FINDER.find(value.as_bytes()) {
        Some(at) if value.starts_with('{') => Raw::leading(&value[at + GROUPS.len()..]),
        _ => {
            let Ok(top) = Object::parse(value) else {
                return Releases::ANY;
            };
            let Some(groups) = top.get("shard_group") else {
                return Releases::ANY;
            };
            let Ok(sets) = groups.elements() else {
                return Releases::ANY;
            };
            sets.first().copied()
        }
    };
    match first.map(Raw::object) {
        Some(Ok(set)) if set.has("leader_node_id") => Releases::from(Release::V2_4_0),
        Some(Ok(_)) => Releases::v2_3(),
        _ => Releases::ANY,
    }
}

fn table(value: &str) -> Releases {
    match TableEngine::of(value) {
        Ok((TableEngine::Tskv, inner)) => match Object::parse(inner) {
            Ok(schema) => table_shape(TableEngine::Tskv, &schema),
            Err(_) => Releases::ANY,
        },
        _ => Releases::ANY,
    }
}

/// What a table's parsed inner schema says of the release: the families whose TSKV shape could
/// have written it; other engines are the same in every release.
pub fn table_shape(engine: TableEngine, schema: &Object<'_>) -> Releases {
    match engine {
        TableEngine::Tskv => Record::Table.written_by_object(schema),
        _ => Releases::ANY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dump::{DumpReader, Key};

    fn detect(text: &str) -> Detection {
        let mut reader = DumpReader::new(text.as_bytes());
        let mut d = Detector::new();
        while let Some(rec) = reader.next_record().unwrap() {
            d.observe(rec.key, &Key::parse(rec.key).kind, rec.value);
        }
        d.detection()
    }

    #[test]
    fn real_and_fixture_dumps() {
        let real = |f: &str| std::fs::read_to_string(format!("fixtures/real/{f}")).unwrap();
        for f in ["v2.4.0-dump-fresh.txt", "v2.4.0-debug-fresh.txt"] {
            assert_eq!(detect(&real(f)).describe(), "2.4.0", "{f}");
        }
        for f in ["v2.4.3.4-dump-fresh.txt", "v2.4.3.4-debug-fresh.txt"] {
            assert_eq!(detect(&real(f)).describe(), "2.4.3", "{f}");
        }
        for f in ["full.dump.txt", "full.debug.txt", "small.dump.txt"] {
            let text = std::fs::read_to_string(format!("fixtures/v2.3/{f}")).unwrap();
            assert_eq!(detect(&text).describe(), "2.3.4–2.3.5", "{f}");
        }
    }

    #[test]
    fn expected_outputs_detect_as_their_target() {
        for (t, want) in [
            ("2.4.0", "2.4.0"),
            ("2.4.0.1", "2.4.0.1"),
            ("2.4.1", "2.4.1"),
            ("2.4.2", "2.4.2–2.4.2.1"),
            ("2.4.2.1", "2.4.2–2.4.2.1"),
            ("2.4.3", "2.4.3"),
        ] {
            let text = std::fs::read_to_string(format!("fixtures/expected/full.{t}.txt")).unwrap();
            assert_eq!(detect(&text).describe(), want, "{t}");
        }
    }

    #[test]
    fn user_option_rules_per_2_3_release() {
        let user = |options: &str| {
            let v = format!(r#"{{"id":1,"name":"u","options":{{{options}}},"is_admin":false}}"#);
            Record::User.written_by(&v).to_string()
        };
        let all =
            r#""password":"p","must_change_password":false,"rsa_public_key":"k","comment":"c""#;
        assert_eq!(
            user(&format!("{all},\"granted_admin\":false")),
            "2.3.0–2.3.5"
        );
        assert_eq!(user(all), "2.3.0–2.3.5");
        // 2.3.0 writes every option, `null` when unset; a shape no release writes says nothing.
        assert_eq!(
            user(
                r#""password":"p","must_change_password":null,"rsa_public_key":null,"comment":null"#
            ),
            "2.3.0–2.3.3"
        );
        assert_eq!(
            user(r#""password":"p","rsa_public_key":null"#),
            "2.3.0–2.4.3"
        );
        assert_eq!(user(r#""password":"p","comment":"c""#), "2.3.4–2.3.5");
        assert_eq!(
            user(r#""password":"p","must_change_password":true"#),
            "2.3.4–2.3.5"
        );
    }

    #[test]
    fn sets_display_as_ranges() {
        assert_eq!(Releases::v2_3().to_string(), "2.3.0–2.3.5");
        assert_eq!(Releases::from(Release::V2_4_2).to_string(), "2.4.2–2.4.3");
        assert_eq!(
            Releases::only(Release::V2_3_0)
                .or(Releases::only(Release::V2_4_0))
                .to_string(),
            "2.3.0–2.3.3 or 2.4.0"
        );
        assert_eq!(Releases::NONE.to_string(), "none");
    }

    #[test]
    fn mixed_shapes_are_reported() {
        let d = detect(concat!(
            "/c/tenants/t: {\"id\":1,\"name\":\"t\",\"options\":{\"comment\":null,\"limiter_config\":null}}\n",
            "/c/users/u: {\"id\":2,\"name\":\"u\",\"options\":{\"hash_password\":null},\"is_root_admin\":false}\n",
        ));
        assert!(d.is_mixed());
        assert_eq!(
            d.describe(),
            "mixed shapes (tenant: 2.3.0–2.3.5, user: 2.4.1–2.4.3)"
        );
    }
}
