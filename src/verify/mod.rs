//! Proof after a restore: what a cluster holds (its `/dump` or `/debug`) compared, record by
//! record and by meaning, with the restore-ready file that was sent; and the listing its SQL
//! API must give for it (tenants, databases, tables and their columns).
//!
//! No network here: the remote side reads the dump and asks the SQL API, this module says
//! what must match. Messages name keys only, never values (user records hold password
//! hashes).
//!
//! [`compare`] is here, the SQL listing in [`listing`].

mod listing;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use serde::Serialize;

use crate::dump::{DumpReader, Key, KeyKind};
use crate::error::Result;
use crate::json::{self, Raw};
pub use listing::{check_listing, ListedTable, Listing};

/// How a sent record stands in the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The cluster holds no record under the key.
    Missing,
    /// The cluster holds another value under the key.
    Changed,
    /// The SQL API does not list, or cannot describe, what the record defines.
    NotListed,
}

impl Verdict {
    /// The verdict's code, as in JSON output.
    pub fn code(self) -> &'static str {
        match self {
            Verdict::Missing => "missing",
            Verdict::Changed => "changed",
            Verdict::NotListed => "not-listed",
        }
    }

    /// What the verdict means, for text output.
    pub fn describe(self) -> &'static str {
        match self {
            Verdict::Missing => "sent, but the cluster holds no such key",
            Verdict::Changed => "the cluster holds another value than the one sent",
            Verdict::NotListed => "stored, but the SQL API does not show it",
        }
    }
}

/// One difference, with the key and the line of the sent file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// The line of the record in the sent file.
    pub line: u64,
    /// The record's key.
    pub key: String,
    /// What is wrong.
    pub verdict: Verdict,
    /// Details that show no value (a server's error, a missing column's name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The outcome of comparing the sent file with the cluster's dump.
#[derive(Debug, Default, Serialize)]
pub struct MetaComparison {
    /// Records in the sent file.
    pub sent: u64,
    /// Records the cluster holds with the same meaning.
    pub matched: u64,
    /// Sent records that are missing or changed, in file order.
    pub differences: Vec<Difference>,
    /// Keys the cluster holds that were not sent and that it writes itself (its system
    /// tenant and databases, root, data nodes, buckets, counters).
    pub own: Vec<String>,
    /// Keys the cluster holds that were not sent and are not its own (a merge, or writes
    /// since the restore).
    pub extra: Vec<String>,
}

/// One sent record, kept until the cluster's dump has been read.
struct Sent {
    line: u64,
    value: String,
    seen: bool,
}

/// Compares the restore-ready file `sent` with the cluster's dump `held` (either form).
/// Compares the restore-ready file `sent` with the cluster's dump `held` (either form).
/// Memory holds the sent file's records (a restore-ready file has no buckets), not the dump.
pub fn compare(sent: impl Read, held: impl Read) -> Result<MetaComparison> {
    let mut out = MetaComparison::default();
    let mut records = read_sent(sent, &mut out)?;
    let clusters = match_held(held, &mut records, &mut out)?;
    // Keys of another cluster than the one whose data nodes the dump holds: stored, and never
    // read.
    if let [own] = clusters.iter().collect::<Vec<_>>()[..] {
        for (key, sent) in &records {
            if Key::parse(key).cluster.is_some_and(|c| c != own) {
                out.differences.push(Difference {
                    line: sent.line,
                    key: key.clone(),
                    verdict: Verdict::NotListed,
                    detail: Some(format!(
                        "a key of another cluster than `{own}`: it is never read"
                    )),
                });
            }
        }
    }
    for (key, sent) in records.iter().filter(|(_, s)| !s.seen) {
        out.differences.push(Difference {
            line: sent.line,
            key: key.clone(),
            verdict: Verdict::Missing,
            detail: None,
        });
    }
    out.differences.sort_by_key(|d| d.line);
    Ok(out)
}

/// The sent file's records by key; what no listing reads and what is sent twice go to `out`.
fn read_sent(sent: impl Read, out: &mut MetaComparison) -> Result<BTreeMap<String, Sent>> {
    let mut records: BTreeMap<String, Sent> = BTreeMap::new();
    let mut reader = DumpReader::new(sent);
    while let Some(rec) = reader.next_record()? {
        out.sent += 1;
        if let Some(invisible) = never_read(rec.key) {
            out.differences.push(Difference {
                line: rec.line,
                key: rec.key.to_string(),
                verdict: Verdict::NotListed,
                detail: Some(invisible.into()),
            });
        }
        let earlier = records.insert(
            rec.key.to_string(),
            Sent {
                line: rec.line,
                value: rec.value.to_string(),
                seen: false,
            },
        );
        if let Some(earlier) = earlier {
            out.differences.push(Difference {
                line: earlier.line,
                key: rec.key.to_string(),
                verdict: Verdict::Changed,
                detail: Some(format!(
                    "sent again on line {}: the cluster holds only the later value",
                    rec.line
                )),
            });
        }
    }
    Ok(records)
}

/// Reads the cluster's dump and marks each sent record it holds, matched or changed; returns
/// the clusters that registered data nodes.
fn match_held(
    held: impl Read,
    records: &mut BTreeMap<String, Sent>,
    out: &mut MetaComparison,
) -> Result<BTreeSet<String>> {
    let mut clusters = BTreeSet::new();
    let mut reader = DumpReader::new(held);
    while let Some(rec) = reader.next_record()? {
        // A cluster registers its own data nodes under its own name.
        if let Key {
            kind: KeyKind::DataNode,
            cluster: Some(c),
        } = Key::parse(rec.key)
        {
            clusters.insert(c.to_string());
        }
        match records.get_mut(rec.key) {
            Some(sent) => {
                sent.seen = true;
                if same_value(&sent.value, rec.value) {
                    out.matched += 1;
                } else {
                    out.differences.push(Difference {
                        line: sent.line,
                        key: rec.key.to_string(),
                        verdict: Verdict::Changed,
                        detail: None,
                    });
                }
            }
            None if is_own(rec.key) => out.own.push(rec.key.to_string()),
            None => out.extra.push(rec.key.to_string()),
        }
    }
    Ok(clusters)
}

/// Equal JSON by meaning, or (for values that are not JSON, such as plain counters) equal
/// text.
fn same_value(a: &str, b: &str) -> bool {
    match (Raw::parse(a), Raw::parse(b)) {
        (Ok(x), Ok(y)) => json::same_meaning(x, y),
        _ => a == b,
    }
}

/// Why a sent key is never read by any listing, if it is not: a name holding `/`, or an
/// empty segment.
fn never_read(key: &str) -> Option<&'static str> {
    crate::model::is_invisible_name(key)
        .then_some("a name with `/` or an empty segment: no listing reads it")
}

/// Keys a 2.4 cluster writes itself.
fn is_own(key: &str) -> bool {
    match Key::parse(key).kind {
        KeyKind::DataVersion
        | KeyKind::AlreadyInit
        | KeyKind::TestAlive
        | KeyKind::AutoIncrId
        | KeyKind::DataNode
        | KeyKind::DataNodeMetrics
        | KeyKind::Bucket { .. }
        | KeyKind::ResourceInfo
        | KeyKind::Query => true,
        KeyKind::User { name } => name == "root",
        KeyKind::Tenant { tenant } | KeyKind::Member { tenant, .. } => tenant == "cnosdb",
        KeyKind::Database { tenant, db } | KeyKind::Table { tenant, db, .. } => {
            tenant == "cnosdb" && matches!(db, "public" | "usage_schema" | "cluster_schema")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SENT: &str =
        "/c/tenants/t: {\"id\":340282366920938463463374607431768211455,\"name\":\"t\"}\n\
         /c/tenants/t/dbs/d: {\"a\":1}\n\
         /c/users/u: {\"x\":1}\n";
    const HELD: &str = "/c/tenants/cnosdb: {}\n\
         /c/tenants/t: { \"name\" : \"t\", \"id\" : 340282366920938463463374607431768211455 }\n\
         /c/tenants/t/dbs/d: {\"a\":2}\n\
         /c/tenants/t/dbs/d/buckets/1: {}\n\
         /c/tenants/x: {}\n\
         /data_version: 7\n";

    #[test]
    fn compares_by_meaning_and_sorts_what_was_not_sent() {
        let c = compare(SENT.as_bytes(), HELD.as_bytes()).unwrap();
        assert_eq!((c.sent, c.matched), (3, 1));
        let found: Vec<_> = c
            .differences
            .iter()
            .map(|d| (d.line, d.key.as_str(), d.verdict))
            .collect();
        assert_eq!(
            found,
            [
                (2, "/c/tenants/t/dbs/d", Verdict::Changed),
                (3, "/c/users/u", Verdict::Missing)
            ]
        );
        assert_eq!(
            c.own,
            [
                "/c/tenants/cnosdb",
                "/c/tenants/t/dbs/d/buckets/1",
                "/data_version"
            ]
        );
        assert_eq!(c.extra, ["/c/tenants/x"]);
    }

    #[test]
    fn each_line_of_a_key_sent_twice_is_compared_and_stray_keys_are_missing() {
        let twice = format!("{SENT}/c/users/u: {{\"x\":2}}\n/c/tenants/t/schemas/a/b: {{}}\n/other/tenants/t: {{}}\n");
        let held = format!("{HELD}/c/data_nodes/1: {{}}\n/c/users/u: {{\"x\":2}}\n");
        let d = compare(twice.as_bytes(), held.as_bytes()).unwrap();
        let found: Vec<_> = d.differences.iter().map(|d| (d.line, d.verdict)).collect();
        assert_eq!(
            found,
            [
                (2, Verdict::Changed),
                (3, Verdict::Changed),
                (5, Verdict::NotListed),
                (5, Verdict::Missing),
                (6, Verdict::NotListed),
                (6, Verdict::Missing)
            ],
            "{:?}",
            d.differences
        );
    }

    #[test]
    fn the_sql_listing_must_show_every_database_table_and_column() {
        let sent = "/c/tenants/a: {}\n\
                    /c/tenants/a/dbs/d: {}\n\
                    /c/tenants/a/dbs/d/schemas/t: {\"TsKvTableSchema\":{\"columns\":[{\"name\":\"time\"},{\"name\":\"v\"}]}}\n\
                    /c/tenants/a/dbs/d/schemas/u: {\"TsKvTableSchema\":{\"columns\":[{\"name\":\"time\"}]}}\n\
                    /c/tenants/a/dbs/e: {}\n\
                    /c/tenants/b: {}\n";
        let l = Listing::of(sent.as_bytes()).unwrap();
        let found = check_listing(&l, |tenant, db, sql| match (tenant, db, sql) {
            ("a", "public", "SHOW DATABASES") => Ok("database_name\nd\n\"e\"\n".into()),
            ("a", "d", "SHOW TABLES") => Ok("table_name\nt\nu\n".into()),
            ("a", "d", "DESCRIBE TABLE \"t\"") => Ok("column_name,data_type\ntime,T\nv,D\n".into()),
            ("a", "d", "DESCRIBE TABLE \"u\"") => Ok("column_name,data_type\ntime,T\nw,D\n".into()),
            ("a", "e", "SHOW TABLES") => Ok("table_name\n".into()),
            ("b", "public", "SHOW DATABASES") => Err("HTTP 500".into()),
            other => panic!("unexpected {other:?}"),
        });
        let lines: Vec<_> = found.iter().map(|d| (d.line, d.verdict)).collect();
        assert_eq!(lines, [(4, Verdict::NotListed), (6, Verdict::NotListed)]);
        assert!(found[1].detail.as_deref().unwrap().contains("HTTP 500"));
    }

    #[test]
    fn the_listing_skips_system_databases_and_names_columns() {
        let sent = "/c/tenants/a: {}\n\
                    /c/tenants/a/dbs/d: {}\n\
                    /c/tenants/a/dbs/d/schemas/t: {\"TsKvTableSchema\":{\"columns\":[{\"name\":\"time\"},{\"name\":\"v\"}]}}\n\
                    /c/tenants/cnosdb/dbs/usage_schema: {}\n";
        let l = Listing::of(sent.as_bytes()).unwrap();
        assert_eq!(l.tenant_names().into_iter().collect::<Vec<_>>(), ["a"]);
        assert_eq!(l.databases.len(), 1);
        let t = &l.tables[&("a".into(), "d".into(), "t".into())];
        assert_eq!(
            (t.line, t.columns.clone()),
            (3, vec!["time".into(), "v".into()])
        );
    }
}
