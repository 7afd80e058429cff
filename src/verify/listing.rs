//! What the SQL API of the cluster must list for the sent file, and the check that it does.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use super::{Difference, Verdict};
use crate::dump::{DumpReader, Key, KeyKind};
use crate::error::Result;
use crate::json::{self, Raw};
use crate::tables::quote::quote_ident;

/// A table the SQL API must list, with its column names (TSKV tables).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedTable {
    /// The line of its record.
    pub line: u64,
    /// The record's key.
    pub key: String,
    /// Column names, time column first (empty for external and stream tables, whose
    /// columns are not compared).
    pub columns: Vec<String>,
}

/// What the SQL API of the cluster must list for the sent file: per tenant, per database,
/// the tables. Tenants and databases come with the line and key of their record.
#[derive(Debug, Default)]
pub struct Listing {
    /// Tenant → (line, key).
    pub tenants: BTreeMap<String, (u64, String)>,
    /// (tenant, database) → (line, key).
    pub databases: BTreeMap<(String, String), (u64, String)>,
    /// (tenant, database, table) → the table.
    pub tables: BTreeMap<(String, String, String), ListedTable>,
}

impl Listing {
    /// Reads what `sent` defines. The system databases of `cnosdb` are the cluster's own and
    /// not listed.
    pub fn of(sent: impl Read) -> Result<Listing> {
        let mut listing = Listing::default();
        let mut reader = DumpReader::new(sent);
        while let Some(rec) = reader.next_record()? {
            let at = (rec.line, rec.key.to_string());
            match Key::parse(rec.key).kind {
                KeyKind::Tenant { tenant } => {
                    listing.tenants.insert(tenant.into(), at);
                }
                KeyKind::Database { tenant, db } if !crate::tables::is_system_db(tenant, db) => {
                    listing.databases.insert((tenant.into(), db.into()), at);
                }
                KeyKind::Table { tenant, db, table }
                    if !crate::tables::is_system_db(tenant, db) =>
                {
                    listing.tables.insert(
                        (tenant.into(), db.into(), table.into()),
                        ListedTable {
                            line: rec.line,
                            key: rec.key.to_string(),
                            columns: column_names(rec.value),
                        },
                    );
                }
                _ => {}
            }
        }
        Ok(listing)
    }

    /// The tenants whose databases the SQL API must list (every tenant with a database or
    /// a tenant record).
    pub fn tenant_names(&self) -> BTreeSet<&str> {
        self.tenants
            .keys()
            .map(String::as_str)
            .chain(self.databases.keys().map(|(t, _)| t.as_str()))
            .collect()
    }
}

/// Asks the SQL API, through `ask(tenant, db, statement)` (the CSV answer, or the server's
/// error), to list every tenant's databases, every database's tables, and to describe every
/// table; returns what it does not show, in file order.
pub fn check_listing(
    listing: &Listing,
    ask: impl FnMut(&str, &str, &str) -> std::result::Result<String, String>,
) -> Vec<Difference> {
    let mut check = ListingCheck {
        listing,
        ask,
        out: Vec::new(),
    };
    for tenant in listing.tenant_names() {
        check.tenant(tenant);
    }
    let mut out = check.out;
    out.sort_by_key(|d| d.line);
    out
}

/// A [`check_listing`] under way: the question asker and what was not shown.
struct ListingCheck<'l, F> {
    listing: &'l Listing,
    ask: F,
    out: Vec<Difference>,
}

impl<F: FnMut(&str, &str, &str) -> std::result::Result<String, String>> ListingCheck<'_, F> {
    fn not_listed(&mut self, line: u64, key: &str, detail: String) {
        self.out.push(Difference {
            line,
            key: key.to_string(),
            verdict: Verdict::NotListed,
            detail: Some(detail),
        })
    }

    /// A tenant's databases must be listed, and each of them checked.
    fn tenant(&mut self, tenant: &str) {
        let listing = self.listing;
        let dbs: Vec<_> = listing.databases.range(range_of(tenant)).collect();
        let shown = match (self.ask)(tenant, "public", "SHOW DATABASES") {
            Ok(csv) => first_fields(&csv),
            Err(e) => {
                let (line, key) = (listing.tenants.get(tenant).cloned())
                    .or_else(|| dbs.first().map(|(_, at)| (*at).clone()))
                    .unwrap_or_default();
                let detail = format!("SHOW DATABASES in tenant {tenant}: {e}");
                return self.not_listed(line, &key, detail);
            }
        };
        for ((_, db), (line, key)) in dbs {
            if !shown.contains(db) {
                let detail = format!("SHOW DATABASES in tenant {tenant} does not list it");
                self.not_listed(*line, key, detail);
                continue;
            }
            let tables = match (self.ask)(tenant, db, "SHOW TABLES") {
                Ok(csv) => first_fields(&csv),
                Err(e) => {
                    self.not_listed(*line, key, format!("SHOW TABLES: {e}"));
                    continue;
                }
            };
            for ((_, _, name), table) in (listing.tables)
                .range((tenant.to_string(), db.clone(), String::new())..)
                .take_while(|((t, d, _), _)| t == tenant && d == db)
            {
                if !tables.contains(name) {
                    let detail = "SHOW TABLES does not list it".into();
                    self.not_listed(table.line, &table.key, detail);
                    continue;
                }
                self.table(tenant, db, name, table);
            }
        }
    }

    /// A listed table must be described with the record's columns (TSKV tables).
    fn table(&mut self, tenant: &str, db: &str, name: &str, table: &ListedTable) {
        match (self.ask)(tenant, db, &format!("DESCRIBE TABLE {}", quote_ident(name))) {
            Err(e) => self.not_listed(table.line, &table.key, format!("DESCRIBE TABLE: {e}")),
            Ok(csv) => {
                let described = first_fields(&csv);
                let expected: BTreeSet<&String> = table.columns.iter().collect();
                if !table.columns.is_empty()
                    && described.iter().collect::<BTreeSet<_>>() != expected
                {
                    let detail = format!(
                        "DESCRIBE TABLE shows columns {described:?}, the record has {:?}",
                        table.columns
                    );
                    self.not_listed(table.line, &table.key, detail);
                }
            }
        }
    }
}

/// The keys of `databases` that belong to `tenant`.
fn range_of(tenant: &str) -> std::ops::Range<(String, String)> {
    let mut next = tenant.to_string();
    next.push('\0');
    (tenant.to_string(), String::new())..(next, String::new())
}

/// The first field of every row of a CSV answer (the header line skipped).
fn first_fields(csv: &str) -> Vec<String> {
    csv.lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|line| {
            if let Some(rest) = line.strip_prefix('"') {
                let mut field = String::new();
                let mut chars = rest.chars().peekable();
                while let Some(c) = chars.next() {
                    match c {
                        '"' if chars.peek() == Some(&'"') => {
                            chars.next();
                            field.push('"');
                        }
                        '"' => break,
                        c => field.push(c),
                    }
                }
                field
            } else {
                line.split(',').next().unwrap_or("").to_string()
            }
        })
        .collect()
}

/// The column names of a TSKV table record, in order; empty for other tables.
fn column_names(value: &str) -> Vec<String> {
    let Ok(outer) = json::Object::parse(value) else {
        return Vec::new();
    };
    let Ok(tskv) = outer.object("TsKvTableSchema") else {
        return Vec::new();
    };
    let Some(Ok(columns)) = tskv.get("columns").map(Raw::elements) else {
        return Vec::new();
    };
    columns
        .iter()
        .filter_map(|c| c.object().ok()?.get("name").and_then(json::as_str))
        .map(|n| n.into_owned())
        .collect()
}
