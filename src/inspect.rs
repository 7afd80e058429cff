//! `inspect`: a summary of any dump (either form, either version), read in one streaming pass.
//!
//! Memory holds the summary (names, counts and flags) and a few ~1 MiB batches of table records
//! on their way to the thread that parses them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Read;
use std::panic;
use std::sync::mpsc::Receiver;
use std::thread;

use serde::Serialize;

use crate::dump::batch::{batch_channel, Batch, BatchSender};
use crate::dump::{DumpReader, Key, KeyKind};
use crate::error::Result;
use crate::json::{Object, Raw};
use crate::model::{user_facts, Password};
use crate::release::{table_shape, Detector, Releases};
use crate::rules::TableEngine;

/// A table's engine name and column count.
type Shape = (&'static str, Option<usize>);

/// How many example keys or lines a warning names.
const EXAMPLES: usize = 3;

/// A table: its engine and column count.
#[derive(Debug, Clone, Serialize)]
pub struct TableInfo {
    /// Table name.
    pub name: String,
    /// `TSKV`, `EXTERNAL` or `STREAM`; `?` when the record is not a table schema.
    pub engine: &'static str,
    /// Number of columns (TSKV) or schema fields (external, stream).
    pub columns: Option<usize>,
}

/// A database and its tables.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DatabaseInfo {
    /// Database name.
    pub name: String,
    /// False when only its tables or buckets were seen, not its own record.
    pub record: bool,
    /// Number of bucket records.
    pub buckets: u64,
    /// Its tables, by name.
    pub tables: Vec<TableInfo>,
}

/// A tenant and its databases.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TenantInfo {
    /// Tenant name.
    pub name: String,
    /// False when only records under it were seen, not its own record.
    pub record: bool,
    /// Member records.
    pub members: u64,
    /// Custom role records.
    pub roles: u64,
    /// Its databases, by name.
    pub databases: Vec<DatabaseInfo>,
}

/// A user: name and flags, never a value.
#[derive(Debug, Clone, Serialize)]
pub struct UserInfo {
    /// User name (from the key).
    pub name: String,
    /// `is_admin` / `is_root_admin`.
    pub admin: bool,
    /// `options.granted_admin`.
    pub granted_admin: bool,
    /// `options.must_change_password`.
    pub must_change_password: bool,
    /// `none`, `bcrypt` or `plaintext`.
    pub password: &'static str,
}

/// The summary of a dump.
#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    /// `dump` or `debug`; absent for an empty input.
    pub form: Option<&'static str>,
    /// Cluster names seen in keys.
    pub clusters: Vec<String>,
    /// Records read.
    pub records: u64,
    /// Records per key kind.
    pub kinds: BTreeMap<&'static str, u64>,
    /// The release family the record shapes point to.
    pub release: String,
    /// What each key kind alone says about the release.
    pub release_by_kind: BTreeMap<&'static str, String>,
    /// Tenants, by name.
    pub tenants: Vec<TenantInfo>,
    /// Users, by name.
    pub users: Vec<UserInfo>,
    /// Things to look at before moving this dump.
    pub warnings: Vec<String>,
}

#[derive(Default)]
struct Db {
    record: bool,
    buckets: u64,
    tables: BTreeMap<String, Shape>,
}

#[derive(Default)]
struct Tenant {
    record: bool,
    members: u64,
    roles: u64,
    dbs: BTreeMap<String, Db>,
}

/// Reads a dump and summarises it. Table schemas, the costly part, are parsed on a second
/// thread while this one reads on.
pub fn inspect<R: Read>(input: R) -> Result<Inspection> {
    thread::scope(|scope| {
        let (tx, rx) = batch_channel();
        let worker = scope.spawn(move || parse_tables(rx));
        let mut summary = read(input, tx)?;
        let tables = worker.join().unwrap_or_else(|p| panic::resume_unwind(p));
        summary.add_tables(tables);
        Ok(summary.finish())
    })
}

/// What the parsing thread learns from the tables.
struct Tables {
    /// `(tenant, db, table, (engine, columns))`.
    found: Vec<(String, String, String, Shape)>,
    /// Lines of the records that are not table schemas.
    malformed: Vec<u64>,
    /// The tables' release evidence.
    detector: Detector,
}

/// The parsing thread: each table's engine, column count and release evidence.
fn parse_tables(rx: Receiver<Batch<()>>) -> Tables {
    let mut tables = Tables {
        found: Vec::new(),
        malformed: Vec::new(),
        detector: Detector::new(),
    };
    for batch in rx {
        for (item, key, value) in batch.iter() {
            let kind = Key::parse(key).kind;
            let KeyKind::Table { tenant, db, table } = kind else {
                continue;
            };
            let (info, shape) = table_info(value);
            tables.detector.observe_shape(&kind, shape);
            if info.0 == "?" {
                tables.malformed.push(item.line);
            }
            tables
                .found
                .push((tenant.to_string(), db.to_string(), table.to_string(), info));
        }
    }
    tables
}

/// Everything but the tables' details, as read.
struct Reading {
    form: Option<&'static str>,
    records: u64,
    crlf_lines: u64,
    detector: Detector,
    clusters: BTreeSet<String>,
    kinds: BTreeMap<&'static str, u64>,
    tenants: BTreeMap<String, Tenant>,
    users: Vec<UserInfo>,
    unknown: Vec<String>,
    unknown_count: u64,
    malformed: Vec<u64>,
}

/// Reads every record, sending the tables to `tx`.
fn read<R: Read>(input: R, mut tx: BatchSender<()>) -> Result<Reading> {
    let mut reader = DumpReader::new(input);
    let mut detector = Detector::new();
    let mut clusters = BTreeSet::new();
    let mut kinds: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut tenants: BTreeMap<String, Tenant> = BTreeMap::new();
    let mut users = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    let mut unknown_count = 0u64;
    let mut malformed: Vec<u64> = Vec::new();
    // Buckets are most of the records and come grouped by database: count a run of them, and
    // file the count when the run ends.
    let mut buckets: Option<(String, String, u64)> = None;
    while let Some(rec) = reader.next_record()? {
        let key = Key::parse(rec.key);
        let kind = key.kind;
        if let Some(c) = key.cluster {
            if !clusters.contains(c) {
                clusters.insert(c.to_string());
            }
        }
        *kinds.entry(kind.name()).or_default() += 1;
        if !matches!(kind, KeyKind::Table { .. }) {
            detector.observe(rec.key, &kind, rec.value);
        }
        match kind {
            KeyKind::Tenant { tenant } => entry(&mut tenants, tenant).record = true,
            KeyKind::Member { tenant, .. } => entry(&mut tenants, tenant).members += 1,
            KeyKind::Role { tenant, .. } => entry(&mut tenants, tenant).roles += 1,
            KeyKind::Limiter { tenant } => {
                entry(&mut tenants, tenant);
            }
            KeyKind::Database { tenant, db } => db_entry(&mut tenants, tenant, db).record = true,
            KeyKind::Bucket { tenant, db } => match &mut buckets {
                Some((t, d, n)) if t == tenant && d == db => *n += 1,
                run => {
                    let ended = run.replace((tenant.to_string(), db.to_string(), 1));
                    file_buckets(&mut tenants, ended);
                }
            },
            // Sent to the parsing thread; the `_` arm below takes the table once it is sent.
            KeyKind::Table { .. } if !tx.push(rec.line, rec.key, rec.value, ()) => break,
            KeyKind::User { name } => match user_info(name, rec.value) {
                Some(u) => users.push(u),
                None => malformed.push(rec.line),
            },
            KeyKind::Unknown => {
                unknown_count += 1;
                if unknown.len() < EXAMPLES {
                    unknown.push(rec.key.to_string());
                }
            }
            _ => {}
        }
    }
    file_buckets(&mut tenants, buckets);
    // A send fails only when the parsing thread panicked: its join reports that.
    tx.finish();
    Ok(Reading {
        form: reader.form().map(|f| f.name()),
        records: reader.records(),
        crlf_lines: reader.crlf_lines(),
        detector,
        clusters,
        kinds,
        tenants,
        users,
        unknown,
        unknown_count,
        malformed,
    })
}

impl Reading {
    /// Files the tables the parsing thread found.
    fn add_tables(&mut self, tables: Tables) {
        for (tenant, db, table, info) in tables.found {
            db_entry(&mut self.tenants, &tenant, &db)
                .tables
                .insert(table, info);
        }
        self.malformed.extend(tables.malformed);
        self.malformed.sort_unstable();
        self.detector.absorb(tables.detector);
    }

    /// The summary.
    fn finish(self) -> Inspection {
        let Reading {
            form,
            records,
            crlf_lines,
            detector,
            clusters,
            kinds,
            tenants,
            mut users,
            unknown,
            unknown_count,
            malformed,
        } = self;
        users.sort_by(|a, b| a.name.cmp(&b.name));
        let detection = detector.detection();
        let mut warnings = Vec::new();
        let plaintext: Vec<&str> = users
            .iter()
            .filter(|u| u.password == "plaintext")
            .map(|u| u.name.as_str())
            .collect();
        if !plaintext.is_empty() {
            warnings.push(format!(
                "plaintext passwords (2.3.0–2.3.3 leftovers; 2.4 cannot verify them): {}",
                plaintext.join(", ")
            ));
        }
        if unknown_count > 0 {
            warnings.push(format!(
                "{unknown_count} unknown keys (kept as they are by transform), e.g. {}",
                unknown.join(", ")
            ));
        }
        if detection.is_mixed() {
            warnings.push(format!(
                "mixed shapes: records of different releases ({})",
                detection.kinds()
            ));
        }
        if clusters.len() > 1 {
            warnings.push(format!(
                "{} cluster names in one dump: {}",
                clusters.len(),
                clusters.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        if !malformed.is_empty() {
            let lines: Vec<String> = malformed
                .iter()
                .take(EXAMPLES)
                .map(u64::to_string)
                .collect();
            warnings.push(format!(
                "{} user or table records that do not parse, e.g. on line {}",
                malformed.len(),
                lines.join(", ")
            ));
        }
        if crlf_lines > 0 {
            warnings.push(format!("{crlf_lines} lines end in CR LF"));
        }
        Inspection {
            form,
            clusters: clusters.into_iter().collect(),
            records,
            kinds,
            release: detection.describe(),
            release_by_kind: detection
                .by_kind
                .iter()
                .map(|(k, r)| (*k, r.to_string()))
                .collect(),
            tenants: tenants
                .into_iter()
                .map(|(name, t)| TenantInfo {
                    name,
                    record: t.record,
                    members: t.members,
                    roles: t.roles,
                    databases: t
                        .dbs
                        .into_iter()
                        .map(|(name, d)| DatabaseInfo {
                            name,
                            record: d.record,
                            buckets: d.buckets,
                            tables: d
                                .tables
                                .into_iter()
                                .map(|(name, (engine, columns))| TableInfo {
                                    name,
                                    engine,
                                    columns,
                                })
                                .collect(),
                        })
                        .collect(),
                })
                .collect(),
            users,
            warnings,
        }
    }
}

fn entry<'m>(tenants: &'m mut BTreeMap<String, Tenant>, t: &str) -> &'m mut Tenant {
    if !tenants.contains_key(t) {
        tenants.insert(t.to_string(), Tenant::default());
    }
    tenants.get_mut(t).expect("just inserted")
}

fn db_entry<'m>(tenants: &'m mut BTreeMap<String, Tenant>, t: &str, db: &str) -> &'m mut Db {
    let dbs = &mut entry(tenants, t).dbs;
    if !dbs.contains_key(db) {
        dbs.insert(db.to_string(), Db::default());
    }
    dbs.get_mut(db).expect("just inserted")
}

/// Adds a run of `(tenant, db, count)` buckets to its database.
fn file_buckets(tenants: &mut BTreeMap<String, Tenant>, run: Option<(String, String, u64)>) {
    if let Some((tenant, db, n)) = run {
        db_entry(tenants, &tenant, &db).buckets += n;
    }
}

fn count(raw: Option<Raw<'_>>) -> Option<usize> {
    raw?.count_elements().ok()
}

/// A table's engine and column count, `("?", None)` when it is not a table schema, and what its
/// shape says of the release (one parse serves both).
fn table_info(value: &str) -> (Shape, Releases) {
    let Ok((engine, inner)) = TableEngine::of(value) else {
        return (("?", None), Releases::ANY);
    };
    let Ok(inner) = Object::parse(inner) else {
        return ((engine.name(), None), Releases::ANY);
    };
    let columns = match engine {
        TableEngine::Tskv => count(inner.get("columns")),
        TableEngine::External | TableEngine::Stream => inner
            .object("schema")
            .ok()
            .and_then(|s| count(s.get("fields"))),
    };
    ((engine.name(), columns), table_shape(engine, &inner))
}

fn user_info(name: &str, value: &str) -> Option<UserInfo> {
    let facts = user_facts(value)?;
    Some(UserInfo {
        name: name.to_string(),
        admin: facts.admin,
        granted_admin: facts.granted_admin,
        must_change_password: facts.must_change_password,
        password: match facts.password {
            Password::None => "none",
            Password::Bcrypt => "bcrypt",
            Password::Plaintext => "plaintext",
        },
    })
}

impl Inspection {
    /// The summary for people.
    pub fn human(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "form: {}", self.form.unwrap_or("empty"));
        let clusters = match self.clusters.is_empty() {
            true => "none".to_string(),
            false => self.clusters.join(", "),
        };
        let _ = writeln!(s, "cluster: {clusters}");
        let _ = writeln!(s, "written by: CnosDB {}", self.release);
        let _ = writeln!(s, "records: {}", self.records);
        let width = self.kinds.keys().map(|k| k.len()).max().unwrap_or(0);
        for (kind, n) in &self.kinds {
            let _ = writeln!(s, "  {kind:<width$}  {n}");
        }
        let _ = writeln!(s, "tenants: {}", self.tenants.len());
        for t in &self.tenants {
            let absent = if t.record { "" } else { " (no tenant record)" };
            let _ = writeln!(
                s,
                "  {}{absent}: {} databases, {} members, {} roles",
                t.name,
                t.databases.len(),
                t.members,
                t.roles
            );
            for d in &t.databases {
                let absent = if d.record {
                    ""
                } else {
                    " (no database record)"
                };
                let _ = writeln!(
                    s,
                    "    {}{absent}: {} tables, {} buckets",
                    d.name,
                    d.tables.len(),
                    d.buckets
                );
                for tb in &d.tables {
                    let cols = tb.columns.map_or("?".into(), |c| c.to_string());
                    let _ = writeln!(s, "      {} {} {cols} columns", tb.name, tb.engine);
                }
            }
        }
        let _ = writeln!(s, "users: {}", self.users.len());
        for u in &self.users {
            let mut flags = vec![format!("password {}", u.password)];
            for (set, name) in [
                (u.admin, "admin"),
                (u.granted_admin, "granted_admin"),
                (u.must_change_password, "must_change_password"),
            ] {
                if set {
                    flags.push(name.into());
                }
            }
            let _ = writeln!(s, "  {}: {}", u.name, flags.join(", "));
        }
        if self.warnings.is_empty() {
            let _ = writeln!(s, "warnings: none");
        } else {
            let _ = writeln!(s, "warnings:");
            for w in &self.warnings {
                let _ = writeln!(s, "  - {w}");
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_fixture() {
        let f = std::fs::File::open("fixtures/v2.3/full.debug.txt").unwrap();
        let i = inspect(f).unwrap();
        assert_eq!(i.form, Some("debug"));
        assert_eq!(i.release, "2.3.4–2.3.5");
        assert_eq!(i.users.len(), 5);
        let dave = i.users.iter().find(|u| u.name == "dave").unwrap();
        assert_eq!(dave.password, "plaintext");
        assert!(i.warnings[0].contains("dave"));
        let acme = &i.tenants[0];
        assert_eq!((acme.name.as_str(), acme.databases.len()), ("acme", 2));
        assert_eq!(acme.databases[0].tables[0].engine, "TSKV");
    }

    #[test]
    fn tables_over_many_batches_and_bad_records_in_line_order() {
        // ~2.5 MiB of tables: several batches for the parsing thread; bad users before and after
        // them and a bad table among them come back in line order.
        let mut dump = String::from("/c/users/u: not json\n/c/tenants/t/dbs/d: {}\n");
        let columns: Vec<String> = (0..20)
            .map(|i| {
                format!(r#"{{"id":{i},"name":"c{i}","column_type":"Tag","encoding":"Default"}}"#)
            })
            .collect();
        for n in 0..2000 {
            if n == 1500 {
                dump.push_str("/c/tenants/t/dbs/d/schemas/bad: {\"Nope\":1}\n");
            }
            dump.push_str(&format!(
                "/c/tenants/t/dbs/d/schemas/m{n:04}: {{\"TsKvTableSchema\":{{\"tenant\":\"t\",\
                 \"db\":\"d\",\"name\":\"m{n:04}\",\"schema_id\":0,\"next_column_id\":20,\
                 \"columns\":[{}]}}}}\n",
                columns.join(",")
            ));
        }
        dump.push_str("/c/users/v: not json\n");
        assert!(dump.len() > 2 * crate::dump::batch::BATCH_BYTES);
        let i = inspect(dump.as_bytes()).unwrap();
        let tables = &i.tenants[0].databases[0].tables;
        assert_eq!(tables.len(), 2001);
        assert!(tables
            .iter()
            .filter(|t| t.name != "bad")
            .all(|t| (t.engine, t.columns) == ("TSKV", Some(20))));
        let warning = i
            .warnings
            .iter()
            .find(|w| w.contains("do not parse"))
            .unwrap();
        assert!(warning.starts_with("3 user or table records"), "{warning}");
        assert!(warning.ends_with("on line 1, 1503, 2004"), "{warning}");
    }
}
