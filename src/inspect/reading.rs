//! The reading: every record of the dump, counted and filed by tenant and database; the table
//! records go to the parsing thread.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use super::tables::Tables;
use super::{Db, Tenant, UserInfo, EXAMPLES};
use crate::dump::batch::BatchSender;
use crate::dump::{DumpReader, Key, KeyKind};
use crate::error::Result;
use crate::model::{drop_rule, user_facts, Password};
use crate::release::Detector;

/// Everything but the tables' details, as read.
pub(super) struct Reading {
    pub(super) form: Option<&'static str>,
    pub(super) records: u64,
    pub(super) crlf_lines: u64,
    pub(super) detector: Detector,
    pub(super) clusters: BTreeSet<String>,
    pub(super) kinds: BTreeMap<&'static str, u64>,
    pub(super) tenants: BTreeMap<String, Tenant>,
    pub(super) users: Vec<UserInfo>,
    pub(super) unknown: Vec<String>,
    pub(super) unknown_count: u64,
    pub(super) malformed: Vec<u64>,
    pub(super) dropped: BTreeMap<&'static str, u64>,
}

/// Counts by a `&'static str` name; consecutive records mostly share their name (buckets come
/// in runs), so a run is counted on its own and filed when it ends.
#[derive(Default)]
struct RunCounts {
    counts: BTreeMap<&'static str, u64>,
    run: Option<(&'static str, u64)>,
}

impl RunCounts {
    fn add(&mut self, name: &'static str) {
        match &mut self.run {
            Some((n, count)) if *n == name => *count += 1,
            run => {
                if let Some((n, count)) = run.replace((name, 1)) {
                    *self.counts.entry(n).or_default() += count;
                }
            }
        }
    }

    fn finish(mut self) -> BTreeMap<&'static str, u64> {
        if let Some((n, count)) = self.run.take() {
            *self.counts.entry(n).or_default() += count;
        }
        self.counts
    }
}

/// Reads every record, sending the tables to `tx`.
pub(super) fn read<R: Read>(input: R, mut tx: BatchSender<()>) -> Result<Reading> {
    let mut reader = DumpReader::new(input);
    let mut detector = Detector::new();
    let mut clusters = BTreeSet::new();
    let mut kinds = RunCounts::default();
    let mut dropped = RunCounts::default();
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
        kinds.add(kind.name());
        if let Some(rule) = drop_rule(&kind) {
            dropped.add(rule);
        }
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
        kinds: kinds.finish(),
        tenants,
        users,
        unknown,
        unknown_count,
        malformed,
        dropped: dropped.finish(),
    })
}

impl Reading {
    /// Files the tables the parsing thread found.
    pub(super) fn add_tables(&mut self, tables: Tables) {
        for (tenant, db, table, info) in tables.found {
            db_entry(&mut self.tenants, &tenant, &db)
                .tables
                .insert(table, info);
        }
        self.malformed.extend(tables.malformed);
        self.malformed.sort_unstable();
        self.detector.absorb(tables.detector);
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
