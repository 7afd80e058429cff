//! `inspect`: a summary of any dump (either form, either version), read in one streaming pass.
//!
//! Memory holds the summary only: names, counts and flags, never a whole record.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Read;

use serde::Serialize;

use crate::dump::{DumpReader, Key, KeyKind};
use crate::error::Result;
use crate::json::{as_bool, as_str, is_null, Object, Raw};
use crate::release::{table_shape, Detector, Releases};
use crate::rules::{is_bcrypt, TableEngine};

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
    tables: BTreeMap<String, (&'static str, Option<usize>)>,
}

#[derive(Default)]
struct Tenant {
    record: bool,
    members: u64,
    roles: u64,
    dbs: BTreeMap<String, Db>,
}

/// Reads a dump and summarises it.
pub fn inspect<R: Read>(input: R) -> Result<Inspection> {
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
            KeyKind::Table { tenant, db, table } => {
                let (info, shape) = table_info(rec.value);
                detector.observe_shape(&kind, shape);
                if info.0 == "?" {
                    malformed.push(rec.line);
                }
                db_entry(&mut tenants, tenant, db)
                    .tables
                    .insert(table.to_string(), info);
            }
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
    if reader.crlf_lines() > 0 {
        warnings.push(format!("{} lines end in CR LF", reader.crlf_lines()));
    }
    Ok(Inspection {
        form: reader.form().map(|f| f.name()),
        clusters: clusters.into_iter().collect(),
        records: reader.records(),
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
    })
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
fn table_info(value: &str) -> ((&'static str, Option<usize>), Releases) {
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
    let user = Object::parse(value).ok()?;
    let options = user.object("options").ok()?;
    let flag = |o: &Object<'_>, f: &str| o.get(f).and_then(as_bool).unwrap_or(false);
    let admin = flag(&user, "is_admin") || flag(&user, "is_root_admin");
    let password = match options
        .get("hash_password")
        .or_else(|| options.get("password"))
        .filter(|raw| !is_null(*raw))
        .map(as_str)
    {
        None => "none",
        Some(Some(pw)) if is_bcrypt(&pw) => "bcrypt",
        Some(_) => "plaintext",
    };
    Some(UserInfo {
        name: name.to_string(),
        admin,
        granted_admin: flag(&options, "granted_admin"),
        must_change_password: flag(&options, "must_change_password"),
        password,
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
}
