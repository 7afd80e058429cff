//! Which CnosDB release wrote a dump, told from the shapes of its records (spec section 4.3).
//!
//! Every record that carries a version-specific shape narrows a set of candidate release
//! families; the answer is what is left. Records that contradict each other are "mixed".

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::sync::LazyLock;

use memchr::memmem::Finder;

use crate::dump::{DumpReader, KeyKind};
use crate::error::{Error, Result};
use crate::json::{as_bool, as_u128, Object, Raw};
use crate::model;
use crate::model::{could_write, Record};
pub use crate::model::{Release, Releases};
use crate::rules::TableEngine;
use crate::target::{DbConfig, Target};

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

/// A target learned from a dump of the new, still empty cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LearnedTarget {
    /// The release to convert for.
    pub target: Target,
    /// What the records said, for messages (`2.4.3`, `2.4.2–2.4.2.1`).
    pub detected: String,
    /// The `config` of its `cnosdb/public` database (2.4.2+ targets).
    pub db_config: Option<DbConfig>,
    /// What the dump holds besides a fresh cluster's own records (tenants, users, tables).
    pub not_fresh: Vec<String>,
    /// The target's cluster name, when its keys name exactly one.
    pub cluster: Option<String>,
}

/// The rules-relevant traits of a target: targets that agree on all give the same output.
fn behaviour(t: Target) -> (bool, bool, bool, bool, bool, bool, DbConfig) {
    (
        t.tenant_has_drop_after(),
        t.structured_databases(),
        t.renamed_admin_and_schema_version(),
        t.skips_empty_user_options(),
        t.strict_tables(),
        t.enforces_must_change_password(),
        t.default_db_config(),
    )
}

/// Reads a dump of the new cluster, detects its release and takes its `public` database's
/// config. Refuses a dump that is not 2.4, mixes releases, or fits releases that convert
/// differently (a usage error that starts with `name`, the file's name).
pub fn learn_target(input: impl Read, name: &Path) -> Result<LearnedTarget> {
    let mut reader = DumpReader::new(input);
    let mut detector = Detector::new();
    let mut public: Option<String> = None;
    let mut not_fresh = Vec::new();
    let mut clusters = std::collections::BTreeSet::new();
    while let Some(rec) = reader.next_record()? {
        let key = crate::dump::Key::parse(rec.key);
        let kind = key.kind;
        if let Some(c) = key.cluster.filter(|c| !clusters.contains(*c)) {
            clusters.insert(c.to_string());
        }
        detector.observe(rec.key, &kind, rec.value);
        let own = match kind {
            KeyKind::Tenant { tenant } => tenant == "cnosdb",
            KeyKind::User { name } => name == "root",
            KeyKind::Role { .. } => false,
            KeyKind::Database { tenant, db } => {
                tenant == "cnosdb" && matches!(db, "public" | "usage_schema" | "cluster_schema")
            }
            // A running 2.4 writes its own metrics tables within seconds of starting.
            KeyKind::Table { tenant, db, .. } => {
                tenant == "cnosdb" && matches!(db, "usage_schema" | "cluster_schema")
            }
            _ => true,
        };
        if !own && not_fresh.len() < 3 {
            not_fresh.push(rec.key.to_string());
        }
        if kind
            == (KeyKind::Database {
                tenant: "cnosdb",
                db: "public",
            })
        {
            public = Some(rec.value.to_string());
        }
    }
    let refuse = |why: String| Error::Usage(format!("{}: {why}", name.display()));
    let d = detector.detection();
    if d.releases.is_any() {
        return Err(refuse(
            "no record tells which release wrote it (is it an empty file?)".into(),
        ));
    }
    if d.is_mixed() {
        return Err(refuse(format!(
            "its records come from different releases ({})",
            d.kinds()
        )));
    }
    let targets: Vec<Target> = d.releases.iter().filter_map(Release::target).collect();
    if targets.len() != d.releases.iter().count() {
        return Err(refuse(format!(
            "it was written by CnosDB {}, not by a 2.4 release; it must be a dump of the new \
             2.4 cluster",
            d.releases
        )));
    }
    let newest = *targets.last().expect("a non-empty set");
    if targets.iter().any(|t| behaviour(*t) != behaviour(newest)) {
        return Err(refuse(format!(
            "it fits CnosDB {}, releases that need different conversions",
            d.releases
        )));
    }
    let db_config = if newest.structured_databases() {
        let value = public.ok_or_else(|| {
            refuse("it has no `cnosdb` tenant `public` database to learn the config from".into())
        })?;
        Some(db_config_of(&value).map_err(|e| refuse(format!("its `public` database {e}")))?)
    } else {
        None
    };
    Ok(LearnedTarget {
        target: newest,
        detected: d.releases.to_string(),
        db_config,
        not_fresh,
        cluster: match clusters.len() {
            1 => clusters.pop_first(),
            _ => None,
        },
    })
}

/// The six numeric and boolean `config` fields of a 2.4.2+ database record.
pub fn db_config_of(value: &str) -> Result<DbConfig, String> {
    let config = Object::parse(value)?.object("config")?;
    let num = |f: &str| -> Result<u64, String> {
        config
            .get(f)
            .and_then(|r| r.get().parse::<u64>().ok())
            .ok_or_else(|| format!("has no unsigned integer `config.{f}`"))
    };
    let flag = |f: &str| -> Result<bool, String> {
        config
            .get(f)
            .and_then(as_bool)
            .ok_or_else(|| format!("has no boolean `config.{f}`"))
    };
    Ok(DbConfig {
        max_memcache_size: num("max_memcache_size")?,
        memcache_partitions: num("memcache_partitions")?,
        wal_max_file_size: num("wal_max_file_size")?,
        wal_sync: flag("wal_sync")?,
        strict_write: flag("strict_write")?,
        max_cache_readers: num("max_cache_readers")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dump::Key;

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

    #[test]
    fn learning_a_target() {
        let file = |f: &str| std::fs::File::open(format!("fixtures/real/{f}")).unwrap();
        let l = learn_target(file("v2.4.3.4-dump-fresh.txt"), Path::new("x")).unwrap();
        assert_eq!(l.target, Target::V2_4_3);
        assert_eq!(l.db_config, Some(Target::V2_4_3.default_db_config()));
        assert!(l.not_fresh.is_empty());
        assert_eq!(l.cluster.as_deref(), Some("cluster_xxx"));
        let l = learn_target(file("v2.4.0-debug-fresh.txt"), Path::new("x")).unwrap();
        assert_eq!((l.target, l.db_config), (Target::V2_4_0, None));
        let e = learn_target(
            std::fs::File::open("fixtures/v2.3/small.dump.txt").unwrap(),
            Path::new("old.txt"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("2.3.4–2.3.5, not by a 2.4 release"), "{e}");
        let ambiguous = "/c/tenants/cnosdb: {\"id\":1,\"name\":\"cnosdb\",\"options\":{\"comment\":null,\"limiter_config\":null,\"drop_after\":null,\"tenant_is_hidden\":false}}\n";
        let e = learn_target(ambiguous.as_bytes(), Path::new("a.txt"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("2.4.0.1–2.4.3, releases that need different"),
            "{e}"
        );
        assert!(learn_target(&b""[..], Path::new("e")).is_err());
    }
}
