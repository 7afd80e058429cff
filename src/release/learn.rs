//! A target learned from a dump of the new, still empty cluster.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;

use super::{Detector, Release};
use crate::dump::{DumpReader, Key, KeyKind};
use crate::error::{Error, Result};
use crate::json::{as_bool, Object};
use crate::target::{DbConfig, Target};

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
    let read = read_target(input)?;
    let refuse = |why: String| Error::Usage(format!("{}: {why}", name.display()));
    let d = read.detector.detection();
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
        let value = read.public.ok_or_else(|| {
            refuse("it has no `cnosdb` tenant `public` database to learn the config from".into())
        })?;
        Some(db_config_of(&value).map_err(|e| refuse(format!("its `public` database {e}")))?)
    } else {
        None
    };
    let mut clusters = read.clusters;
    Ok(LearnedTarget {
        target: newest,
        detected: d.releases.to_string(),
        db_config,
        not_fresh: read.not_fresh,
        cluster: match clusters.len() {
            1 => clusters.pop_first(),
            _ => None,
        },
    })
}

/// What a dump of the new cluster says, as read.
struct TargetDump {
    detector: Detector,
    /// The value of its `cnosdb/public` database record.
    public: Option<String>,
    /// Up to three keys that a fresh cluster does not hold.
    not_fresh: Vec<String>,
    clusters: BTreeSet<String>,
}

/// Reads every record of a dump of the new cluster.
fn read_target(input: impl Read) -> Result<TargetDump> {
    let mut reader = DumpReader::new(input);
    let mut read = TargetDump {
        detector: Detector::new(),
        public: None,
        not_fresh: Vec::new(),
        clusters: BTreeSet::new(),
    };
    while let Some(rec) = reader.next_record()? {
        let key = Key::parse(rec.key);
        let kind = key.kind;
        if let Some(c) = key.cluster.filter(|c| !read.clusters.contains(*c)) {
            read.clusters.insert(c.to_string());
        }
        read.detector.observe(rec.key, &kind, rec.value);
        if !is_fresh_clusters_own(&kind) && read.not_fresh.len() < 3 {
            read.not_fresh.push(rec.key.to_string());
        }
        if kind
            == (KeyKind::Database {
                tenant: "cnosdb",
                db: "public",
            })
        {
            read.public = Some(rec.value.to_string());
        }
    }
    Ok(read)
}

/// Whether a fresh 2.4 cluster holds a record of this kind itself.
fn is_fresh_clusters_own(kind: &KeyKind<'_>) -> bool {
    match *kind {
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
    }
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
