//! `inspect`: a summary of any dump (either form, either version), read in one streaming pass.
//!
//! Memory holds the summary (names, counts and flags) and a few ~1 MiB batches of table records
//! on their way to the thread that parses them.

//!
//! [`reading`] reads every record, [`tables`] parses the table records on a second thread,
//! [`summary`] makes the [`Inspection`] of what both learnt.

mod reading;
mod summary;
mod tables;

use std::collections::BTreeMap;
use std::io::Read;
use std::panic;
use std::thread;

use serde::Serialize;

use crate::dump::batch::batch_channel;
use crate::error::Result;
use reading::read;
use tables::parse_tables;

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
    /// Records that `transform` drops by their key alone, per rule (not in the JSON summary:
    /// `kinds` shows them).
    #[serde(skip)]
    pub dropped_by_key: BTreeMap<&'static str, u64>,
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
