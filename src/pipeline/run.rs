//! The converting thread: each kept record through the rules, written, and told to the
//! observer.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::panic;
use std::thread;

use super::first_pass::{user_identity, FirstPass};
use super::reading::{read_records, Fate};
use super::TransformOptions;
use crate::dump::batch::batch_channel;
use crate::dump::{fingerprint, Key, KeyKind, Record};
use crate::error::{Error, Hint, InputError, Result};
use crate::filter::rename_cluster;
use crate::model::{self, is_invisible_name, Release, ShapeError};
use crate::report::{Action, Entry, HashingWriter, Observer, Summary};
use crate::rules::{patch_database, patch_table, patch_tenant, patch_user, Op, Outcome};

/// The second pass, itself two threads: one reads and splits the records and drops the ones
/// every target drops (most of a dump's bytes), the other converts and writes the rest, in
/// order. Batches of records go from the first to the second through a short queue, so memory
/// stays bounded.
pub(super) fn convert<'s, R: Read + Send + 's, W: Write>(
    scope: &'s thread::Scope<'s, '_>,
    input: R,
    output: W,
    opts: &'s TransformOptions,
    observer: &mut dyn Observer,
    index: &mut FirstPass<'_>,
) -> Result<Summary> {
    let (tx, rx) = batch_channel();
    let each_dropped = observer.wants_dropped();
    let reading = scope.spawn(move || read_records(input, opts, each_dropped, tx));
    let mut run = Run {
        opts,
        out: HashingWriter::new(output, opts.checksums),
        observer,
        summary: Summary::new(opts.rules.target),
        index,
        pending: (Action::Kept, "", "", 0),
        written: Some(HashMap::new()),
        written_settled: false,
        databases: HashMap::new(),
    };
    // On an error here, dropping `rx` stops the reading thread at its next batch.
    for batch in rx {
        for (item, key, value) in batch.iter() {
            match item.meta {
                Fate::Convert { offset } => run.record(Record {
                    line: item.line,
                    offset,
                    key,
                    value,
                })?,
                Fate::Dropped {
                    kind,
                    rule,
                    count: 1,
                } => run.dropped(item.line, key, kind, rule)?,
                Fate::Dropped { kind, rule, count } => run.count_dropped(kind, rule, count),
            }
        }
    }
    let read = reading.join().unwrap_or_else(|p| panic::resume_unwind(p))?;
    run.flush_counts();
    run.summary.form = read.form;
    run.summary.input_records = read.records;
    run.summary.crlf_lines = read.crlf_lines;
    run.summary.input_sha256 = read.sha256;
    run.summary.input_bytes = read.bytes;
    let Run {
        out, mut summary, ..
    } = run;
    let (output_sha, output_bytes, mut inner) = out.finish();
    inner
        .flush()
        .map_err(|e| Error::io("writing the output", e))?;
    summary.output_sha256 = output_sha;
    summary.output_bytes = output_bytes;
    Ok(summary)
}

struct Run<'o, 's, W: Write> {
    opts: &'o TransformOptions,
    out: HashingWriter<W>,
    observer: &'o mut dyn Observer,
    summary: Summary,
    /// What the first pass learns about users and roles.
    index: &'o mut FirstPass<'s>,
    /// Records not yet added to `summary`: a run with the same action, kind and rule (dumps
    /// come in long runs of one kind, and three map updates per record show in profiles).
    pending: (Action, &'static str, &'static str, u64),
    /// The written keys (fingerprint, input line), kept only when two of them can be equal
    /// without being neighbours in the input: see [`super::first_pass::SourceIndex::sorted`]. Kept from the start
    /// until the first pass has answered (`written_settled`).
    written: Option<HashMap<u128, u64>>,
    written_settled: bool,
    /// The databases whose record this pass has read, by tenant: a table of one of them needs
    /// no answer from the first pass.
    databases: HashMap<String, HashSet<String>>,
}

impl<W: Write> Run<'_, '_, W> {
    /// Converts and writes a record the reading thread kept (see [`read_records`]: it drops
    /// what every target drops and what the filter leaves out).
    fn record(&mut self, rec: Record<'_>) -> Result<()> {
        let key = Key::parse(rec.key);
        let kind = key.kind;
        if let KeyKind::Database { tenant, db } = kind {
            self.databases
                .entry(tenant.to_string())
                .or_default()
                .insert(db.to_string());
        }
        let rules = &self.opts.rules;
        let release = Release::from(rules.target);
        let bad = |e: ShapeError| -> Error { shape_error(rec.line, &kind, rec.key, e) };
        let (rule, outcome) = match kind {
            KeyKind::Member { tenant, uid } => {
                readable(rec.value, model::Record::Member, release).map_err(bad)?;
                let uid = uid.parse::<u128>().ok();
                let index = self.index.get()?;
                let source_root = uid.is_some_and(|id| index.dropped_roots.contains(&id));
                let role_missing = model::custom_role(rec.value)
                    .is_some_and(|role| !index.roles.contains(&(tenant.to_string(), role)));
                let orphan = role_missing || !uid.is_some_and(|id| index.users.contains(&id));
                if source_root {
                    return self.dropped(rec.line, rec.key, kind.name(), "drop.source-root");
                }
                if orphan {
                    return self.dropped(rec.line, rec.key, kind.name(), "drop.orphan-member");
                }
                ("member", Outcome::Unchanged)
            }
            KeyKind::User { name } => {
                if name == "root" {
                    let (id, _) = user_identity(rec.value, release).map_err(bad)?;
                    if self.index.get()?.dropped_roots.contains(&id) {
                        return self.dropped(rec.line, rec.key, kind.name(), "drop.source-root");
                    }
                }
                ("user", patch_user(rec.value, rules).map_err(bad)?)
            }
            KeyKind::Role { .. } => {
                readable(rec.value, model::Record::Role, release).map_err(bad)?;
                ("role", Outcome::Unchanged)
            }
            KeyKind::Tenant { .. } => ("tenant", patch_tenant(rec.value, rules).map_err(bad)?),
            KeyKind::Database { .. } => {
                ("database", patch_database(rec.value, rules).map_err(bad)?)
            }
            KeyKind::Table { tenant, db, .. } => {
                let outcome = patch_table(rec.value, rules).map_err(bad)?;
                let has_db = |dbs: &HashMap<String, HashSet<String>>| {
                    dbs.get(tenant).is_some_and(|names| names.contains(db))
                };
                // In a dump the database's record comes before its tables: ask the first pass
                // only about a table met before its database record, or without one.
                if !has_db(&self.databases) && !has_db(&self.index.get()?.dbs) {
                    return self.dropped(rec.line, rec.key, kind.name(), "drop.orphan-table");
                }
                ("table", outcome)
            }
            KeyKind::Limiter { .. } => {
                readable(rec.value, model::Record::Limiter, release).map_err(bad)?;
                ("limiter", Outcome::Unchanged)
            }
            _ if is_invisible_name(rec.key) => {
                return self.dropped(rec.line, rec.key, kind.name(), "drop.invisible-name");
            }
            _ => {
                self.summary.unknown_keys += 1;
                ("unknown", Outcome::Unchanged)
            }
        };
        check_written(&rec, &kind, &outcome, release).map_err(bad)?;
        if let (Outcome::Patched { changes, .. }, KeyKind::User { name }) = (&outcome, kind) {
            if changes.iter().any(|c| c.op == Op::Hashed) {
                self.summary.hashed_password_users.push(name.to_string());
            }
        }
        self.write(&rec, key, rule, outcome)
    }

    fn write(
        &mut self,
        rec: &Record<'_>,
        key: Key<'_>,
        rule: &'static str,
        outcome: Outcome,
    ) -> Result<()> {
        let new_key = match (&self.opts.rename_cluster, key.cluster) {
            (Some(new), Some(old)) if new != old => Some(rename_cluster(rec.key, old, new)),
            _ => None,
        };
        let (value, changes, action) = match &outcome {
            Outcome::Patched { value, changes } => {
                (value.as_str(), changes.as_slice(), Action::Patched)
            }
            Outcome::Unchanged if new_key.is_some() => (rec.value, &[][..], Action::Moved),
            Outcome::Unchanged => (rec.value, &[][..], Action::Kept),
        };
        if value.ends_with('\r') {
            // Left over after the line's CR LF was read as LF (a CR CR LF line): restore would
            // keep it in the value, and the line would end in CR LF again.
            return Err(InputError::at(
                rec.line,
                format!(
                    "{} record {}: the value ends in a carriage return (CR) before the line's \
                     CR LF ending; restore would keep it in the value: remove it, or remove \
                     this record",
                    key.kind.name(),
                    rec.key
                ),
            )
            .into());
        }
        let written_key = new_key.as_deref().unwrap_or(rec.key);
        if !self.written_settled && self.index.poll() {
            self.settle_written()?;
        }
        if let Some(written) = &mut self.written {
            if let Some(first) = written.insert(fingerprint(written_key), rec.line) {
                return Err(InputError::at(
                    rec.line,
                    format!(
                        "duplicate key {written_key} (also on line {first}, as written); a \
                         restore-ready file holds each key once: the dump was edited, or the \
                         new cluster name made two keys equal"
                    ),
                )
                .with_hint(
                    (self.opts.rename_cluster.is_some()).then_some(Hint::RenamedClusterCollision),
                )
                .into());
            }
        }
        let out = &mut self.out;
        out.write_all(written_key.as_bytes())
            .and_then(|()| out.write_all(b": "))
            .and_then(|()| out.write_all(value.as_bytes()))
            .and_then(|()| out.write_all(b"\n"))
            .map_err(|e| Error::io("writing the output", e))?;
        self.observe(Entry {
            line: rec.line,
            key: rec.key,
            new_key: new_key.as_deref(),
            kind: key.kind.name(),
            action,
            rule,
            changes,
        })
    }

    /// Once the first pass has answered: forget the written keys if they cannot repeat apart.
    fn settle_written(&mut self) -> Result<()> {
        let index = self.index.get()?;
        let several = self.opts.rename_cluster.is_some() && index.several_clusters;
        if index.sorted && !several {
            self.written = None;
        }
        self.written_settled = true;
        Ok(())
    }

    /// Reports a dropped record.
    fn dropped(
        &mut self,
        line: u64,
        key: &str,
        kind: &'static str,
        rule: &'static str,
    ) -> Result<()> {
        self.observe(Entry {
            line,
            key,
            new_key: None,
            kind,
            action: Action::Dropped,
            rule,
            changes: &[],
        })
    }

    /// Counts `count` dropped records for an observer that does not want them one by one.
    fn count_dropped(&mut self, kind: &'static str, rule: &'static str, count: u64) {
        self.count(Action::Dropped, kind, rule, count);
    }

    fn observe(&mut self, entry: Entry<'_>) -> Result<()> {
        self.count(entry.action, entry.kind, entry.rule, 1);
        self.observer.entry(&entry)
    }

    /// Adds `n` records to the pending run, or flushes it and starts another.
    fn count(&mut self, action: Action, kind: &'static str, rule: &'static str, n: u64) {
        let pending = &mut self.pending;
        if (pending.0, pending.1, pending.2) == (action, kind, rule) {
            pending.3 += n;
        } else {
            self.flush_counts();
            self.pending = (action, kind, rule, n);
        }
    }

    fn flush_counts(&mut self) {
        let (action, kind, rule, n) = self.pending;
        if n > 0 {
            self.summary.count_n(action, kind, rule, n);
        }
        self.pending.3 = 0;
    }
}

/// What is written must be what the target reads: the rules rebuild only the members they
/// convert, the model reads them all (members, roles and limiters are read before).
fn check_written(
    rec: &Record<'_>,
    kind: &KeyKind<'_>,
    outcome: &Outcome,
    release: Release,
) -> std::result::Result<(), ShapeError> {
    use model::Record as R;
    match R::of(kind) {
        Some(record @ (R::Tenant | R::User | R::Database | R::Table)) => {
            let written = match outcome {
                Outcome::Patched { value, .. } => value.as_str(),
                Outcome::Unchanged => rec.value,
            };
            readable(written, record, release)
        }
        _ => Ok(()),
    }
}

/// A record value `release` reads without failing: the first finding that makes it fail.
fn readable(
    value: &str,
    record: model::Record,
    release: Release,
) -> std::result::Result<(), ShapeError> {
    match model::read(value, record.ty(release), release)
        .findings
        .into_iter()
        .find(|e| !matches!(e, ShapeError::Absent { .. } | ShapeError::Ignored { .. }))
    {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// The error for a record whose value the rules refuse, at `line`.
fn shape_error(line: u64, kind: &KeyKind<'_>, key: &str, e: ShapeError) -> Error {
    let remedy = match e.hint() {
        Some(_) => "",
        None => "; fix or remove this record",
    };
    InputError::at(
        line,
        format!("{} record {key}: the value {e}{remedy}", kind.name()),
    )
    .with_hint(e.hint())
    .into()
}
