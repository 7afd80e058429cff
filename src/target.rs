//! The 2.4.x releases a dump can be converted for, and what differs between them.

use std::fmt;
use std::str::FromStr;

/// A target release. Order follows release order, so `>=` compares releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    /// 2.4.0
    V2_4_0,
    /// 2.4.0.1
    V2_4_0_1,
    /// 2.4.1
    V2_4_1,
    /// 2.4.2
    V2_4_2,
    /// 2.4.2.1
    V2_4_2_1,
    /// 2.4.3 and its point releases 2.4.3.0–2.4.3.4 (one format)
    V2_4_3,
}

impl Target {
    /// Every target, oldest first.
    pub const ALL: [Target; 6] = [
        Target::V2_4_0,
        Target::V2_4_0_1,
        Target::V2_4_1,
        Target::V2_4_2,
        Target::V2_4_2_1,
        Target::V2_4_3,
    ];

    /// The version as written on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Target::V2_4_0 => "2.4.0",
            Target::V2_4_0_1 => "2.4.0.1",
            Target::V2_4_1 => "2.4.1",
            Target::V2_4_2 => "2.4.2",
            Target::V2_4_2_1 => "2.4.2.1",
            Target::V2_4_3 => "2.4.3",
        }
    }

    /// Tenant options carry `drop_after` (2.4.0.1+).
    pub fn tenant_has_drop_after(self) -> bool {
        self >= Target::V2_4_0_1
    }

    /// Durations are `CnosDuration` and databases have the `is_hidden`/`options`/`config`
    /// shape (2.4.2+).
    pub fn structured_databases(self) -> bool {
        self >= Target::V2_4_2
    }

    /// Users carry `is_root_admin` instead of `is_admin`, and TSKV tables `schema_version`
    /// instead of `schema_id` (2.4.1+).
    pub fn renamed_admin_and_schema_version(self) -> bool {
        self >= Target::V2_4_1
    }

    /// User options left out when `None` (2.4.0.1+); 2.4.0 writes `must_change_password` and
    /// `granted_admin` always.
    pub fn skips_empty_user_options(self) -> bool {
        self >= Target::V2_4_0_1
    }

    /// TSKV tables must hold exactly the known fields (2.4.3+).
    pub fn strict_tables(self) -> bool {
        self >= Target::V2_4_3
    }

    /// With authentication on, a user with `must_change_password: true` is refused every
    /// statement but `ALTER USER` (2.4.1+: `query_server/query/src/sql/planner.rs:159` at
    /// v2.4.1; seen on a real 2.4.1).
    pub fn enforces_must_change_password(self) -> bool {
        self >= Target::V2_4_1
    }

    /// `DatabaseConfig::default()` of this release (meaningful for 2.4.2+).
    pub fn default_db_config(self) -> DbConfig {
        DbConfig {
            max_memcache_size: 536_870_912,
            memcache_partitions: 16,
            wal_max_file_size: if self >= Target::V2_4_3 {
                134_217_728
            } else {
                1_073_741_824
            },
            wal_sync: false,
            strict_write: false,
            max_cache_readers: 32,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The point releases of 2.4.3 known to the project; each writes the format of 2.4.3.
pub const POINT_RELEASES_2_4_3: [&str; 5] = ["2.4.3.0", "2.4.3.1", "2.4.3.2", "2.4.3.3", "2.4.3.4"];

impl Target {
    /// Every accepted spelling of a release, oldest first (each also with a leading `v`).
    pub fn accepted() -> impl Iterator<Item = (&'static str, Target)> {
        Target::ALL
            .into_iter()
            .map(|t| (t.as_str(), t))
            .chain(POINT_RELEASES_2_4_3.map(|v| (v, Target::V2_4_3)))
    }
}

impl FromStr for Target {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let v = s.strip_prefix('v').unwrap_or(s);
        Target::accepted()
            .find(|(name, _)| *name == v)
            .map(|(_, t)| t)
            .ok_or_else(|| {
                let valid: Vec<_> = Target::ALL.iter().map(|t| t.as_str()).collect();
                format!(
                    "unknown target release `{s}`; valid: {}, and 2.4.3.0–2.4.3.4 (the format \
                     of 2.4.3)",
                    valid.join(", ")
                )
            })
    }
}

/// The numeric and boolean part of a 2.4.2+ database `config` (everything but `precision`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DbConfig {
    /// `max_memcache_size`, bytes.
    pub max_memcache_size: u64,
    /// `memcache_partitions`.
    pub memcache_partitions: u64,
    /// `wal_max_file_size`, bytes.
    pub wal_max_file_size: u64,
    /// `wal_sync`.
    pub wal_sync: bool,
    /// `strict_write`.
    pub strict_write: bool,
    /// `max_cache_readers`.
    pub max_cache_readers: u64,
}

impl DbConfig {
    /// The field names, in the order the target writes them.
    pub const FIELDS: [&'static str; 6] = [
        "max_memcache_size",
        "memcache_partitions",
        "wal_max_file_size",
        "wal_sync",
        "strict_write",
        "max_cache_readers",
    ];

    /// Sets one field from `NAME=VALUE` text, as `--db-config` gives it.
    pub fn set(&mut self, assignment: &str) -> Result<(), String> {
        let (name, value) = assignment
            .split_once('=')
            .ok_or_else(|| format!("`{assignment}` is not NAME=VALUE"))?;
        let num = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("{name} takes an unsigned integer, not `{value}`"))
        };
        let flag = || {
            value
                .parse::<bool>()
                .map_err(|_| format!("{name} takes true or false, not `{value}`"))
        };
        match name {
            "max_memcache_size" => self.max_memcache_size = num()?,
            "memcache_partitions" => self.memcache_partitions = num()?,
            "wal_max_file_size" => self.wal_max_file_size = num()?,
            "wal_sync" => self.wal_sync = flag()?,
            "strict_write" => self.strict_write = flag()?,
            "max_cache_readers" => self.max_cache_readers = num()?,
            _ => {
                return Err(format!(
                    "unknown database config `{name}`; valid: {}",
                    Self::FIELDS.join(", ")
                ))
            }
        }
        Ok(())
    }

    /// The six fields as compact JSON members (no braces), in the target's order.
    pub fn json_members(&self) -> String {
        format!(
            "\"max_memcache_size\":{},\"memcache_partitions\":{},\"wal_max_file_size\":{},\
             \"wal_sync\":{},\"strict_write\":{},\"max_cache_readers\":{}",
            self.max_memcache_size,
            self.memcache_partitions,
            self.wal_max_file_size,
            self.wal_sync,
            self.strict_write,
            self.max_cache_readers
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_target_and_rejects_others() {
        for t in Target::ALL {
            assert_eq!(t.as_str().parse::<Target>(), Ok(t));
        }
        for point in POINT_RELEASES_2_4_3 {
            assert_eq!(point.parse::<Target>(), Ok(Target::V2_4_3));
        }
        assert_eq!("v2.4.1".parse::<Target>(), Ok(Target::V2_4_1));
        for bad in ["2.5.0", "2.4.3.9", "2.4.3.", "main", "2.4.3.4.1", "2.4"] {
            let err = bad.parse::<Target>().unwrap_err();
            assert!(err.contains(bad) && err.contains("2.4.0.1"), "{err}");
        }
    }

    #[test]
    fn db_config_overrides() {
        let mut c = Target::V2_4_3.default_db_config();
        assert_eq!(c.wal_max_file_size, 134_217_728);
        c.set("wal_sync=true").unwrap();
        c.set("max_cache_readers=8").unwrap();
        assert!(c.set("wal_sync=1").is_err());
        assert!(c.set("nope=1").is_err());
        assert!(c.json_members().contains("\"wal_sync\":true"));
        assert!(c.json_members().ends_with("\"max_cache_readers\":8"));
    }
}
