//! Which tenants and databases move, and the cluster name they move to.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read};

use crate::dump::{scan_records, Key, KeyKind};
use crate::model::drop_rule;

/// Selection of tenants and databases, shared by every command that reads a dump.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only these tenants move (all when empty), with their roles, members, limiter,
    /// databases and tables.
    pub include_tenants: Vec<String>,
    /// These tenants stay behind.
    pub exclude_tenants: Vec<String>,
    /// These databases (tenant, database) stay behind, with their tables.
    pub exclude_dbs: Vec<(String, String)>,
}

impl Filter {
    /// True when the filter names nothing: every tenant and database is selected.
    pub fn is_empty(&self) -> bool {
        self.include_tenants.is_empty()
            && self.exclude_tenants.is_empty()
            && self.exclude_dbs.is_empty()
    }

    /// True when the filter lets a tenant through.
    pub fn tenant_selected(&self, tenant: &str) -> bool {
        (self.include_tenants.is_empty() || self.include_tenants.iter().any(|t| t == tenant))
            && !self.exclude_tenants.iter().any(|t| t == tenant)
    }

    /// True when the filter lets a database through.
    pub fn db_selected(&self, tenant: &str, db: &str) -> bool {
        self.tenant_selected(tenant)
            && !self.exclude_dbs.iter().any(|(t, d)| t == tenant && d == db)
    }

    /// True when a record of this kind is selected; records outside any tenant (users,
    /// global keys) always are.
    pub fn selects(&self, kind: &KeyKind<'_>) -> bool {
        match (kind.tenant(), kind.database()) {
            (Some(t), Some(d)) => self.db_selected(t, d),
            (Some(t), None) => self.tenant_selected(t),
            _ => true,
        }
    }
}

/// The tenants, databases and tables named by the keys of a dump, and its record count.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    /// `KEY: VALUE` lines read.
    pub records: u64,
    /// Records that `transform` drops by their key alone, per rule.
    pub dropped: BTreeMap<&'static str, u64>,
    /// Every tenant some key belongs to.
    pub tenants: BTreeSet<String>,
    /// Every (tenant, database) some key belongs to.
    pub databases: BTreeSet<(String, String)>,
    /// Every (tenant, database, table) with a table record.
    pub tables: BTreeSet<(String, String, String)>,
}

impl Names {
    /// Reads the names from every record of a dump in either form (a quick scan: lines that
    /// are not records, or whose key is not UTF-8, are skipped).
    pub fn scan(input: impl Read) -> io::Result<Names> {
        let mut names = Names::default();
        scan_records(input, |key, _| {
            names.records += 1;
            if let Ok(key) = std::str::from_utf8(key) {
                names.add(&Key::parse(key).kind);
            }
        })?;
        Ok(names)
    }

    /// Adds the names of one record, and counts it if its key alone drops it.
    pub fn add(&mut self, kind: &KeyKind<'_>) {
        if let Some(rule) = drop_rule(kind) {
            *self.dropped.entry(rule).or_default() += 1;
        }
        if let Some(t) = kind.tenant() {
            if !self.tenants.contains(t) {
                self.tenants.insert(t.to_string());
            }
            if let Some(d) = kind.database() {
                self.databases.insert((t.to_string(), d.to_string()));
                if let KeyKind::Table { table, .. } = kind {
                    self.tables
                        .insert((t.to_string(), d.to_string(), table.to_string()));
                }
            }
        }
    }
}

/// The `n` candidates closest to `name` by edit distance (then by name), nearest first.
pub fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    n: usize,
) -> Vec<&'a str> {
    let mut scored: Vec<(usize, &str)> = candidates
        .into_iter()
        .map(|c| (edit_distance(name, c), c))
        .collect();
    scored.sort();
    scored.dedup();
    scored.into_iter().take(n).map(|(_, c)| c).collect()
}

/// Levenshtein distance between two strings, counted in characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != cb))
                .min(above + 1)
                .min(row[j] + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

/// Rewrites the cluster segment of a key: `/{old}/rest` becomes `/{new}/rest`.
pub fn rename_cluster(key: &str, cluster: &str, new_name: &str) -> String {
    let rest = &key[1 + cluster.len()..];
    let mut out = String::with_capacity(key.len() + new_name.len());
    out.push('/');
    out.push_str(new_name);
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dump::Key;

    #[test]
    fn tenant_and_db_selection() {
        let f = Filter {
            include_tenants: vec![],
            exclude_tenants: vec!["t2".into()],
            exclude_dbs: vec![("t1".into(), "old".into())],
        };
        let sel = |k: &str| f.selects(&Key::parse(k).kind);
        assert!(sel("/c/tenants/t1/dbs/db"));
        assert!(!sel("/c/tenants/t1/dbs/old/schemas/x"));
        assert!(sel("/c/tenants/t1/dbs/older"));
        assert!(!sel("/c/tenants/t2/members/1"));
        assert!(sel("/c/users/u"));
        let only = Filter {
            include_tenants: vec!["t1".into()],
            ..Filter::default()
        };
        assert!(only.selects(&Key::parse("/c/tenants/t1").kind));
        assert!(!only.selects(&Key::parse("/c/tenants/t3/limiter").kind));
    }

    #[test]
    fn names_of_a_dump_and_the_closest_ones() {
        let dump = "/c/tenants/acme: {}\n* /c/tenants/acme/dbs/metrics/schemas/cpu: {}\n\
                    /c/tenants/cnosdb/dbs/public: {}\n/c/users/root: {}\nnot a record\n";
        let names = Names::scan(dump.as_bytes()).unwrap();
        assert_eq!(names.records, 4);
        assert!(names.dropped.is_empty());
        let dropped = Names::scan(
            "/data_version: 1\n/c/tenants/cnosdb/dbs/usage_schema: {}\n/c/users/u: {}\n".as_bytes(),
        )
        .unwrap();
        assert_eq!(dropped.records, 3);
        assert_eq!(
            dropped.dropped,
            BTreeMap::from([("drop.global", 1), ("drop.system-db", 1)])
        );
        assert_eq!(
            names.tenants,
            BTreeSet::from(["acme".into(), "cnosdb".into()])
        );
        assert_eq!(names.databases.len(), 2);
        assert_eq!(
            names.tables,
            BTreeSet::from([("acme".into(), "metrics".into(), "cpu".into())])
        );
        assert_eq!(edit_distance("acmee", "acme"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(
            closest("acmee", names.tenants.iter().map(String::as_str), 5),
            ["acme", "cnosdb"]
        );
    }

    #[test]
    fn cluster_rename_keeps_the_rest() {
        assert_eq!(
            rename_cluster("/cluster_xxx/users/u", "cluster_xxx", "prod"),
            "/prod/users/u"
        );
    }
}
