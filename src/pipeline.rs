//! The transform: read records, decide each one's fate by the rules, write the kept ones.

use std::collections::{HashMap, HashSet};
use std::io::{self, Read, Write};
use std::ops::Range;
use std::panic;
use std::thread::{self, ScopedJoinHandle};

use crate::dump::batch::{batch_channel, BatchSender, Item};
use crate::dump::{fingerprint, scan_records, DumpReader, Key, KeyKind, Record};
use crate::error::{Error, Hint, InputError, Result};
use crate::filter::{rename_cluster, Filter};
use crate::model::{self, drop_rule, is_invisible_name, user_facts, Password, Release, ShapeError};
use crate::report::{Action, Entry, HashingReader, HashingWriter, Observer, Summary};
use crate::rules::{patch_database, patch_table, patch_tenant, patch_user, Op, Outcome, Rules};
use crate::source::{line_parts, Rereadable};

/// Everything `transform` can be asked to do besides the target's record rules.
#[derive(Debug, Clone)]
pub struct TransformOptions {
    /// The record rules (target, database config, password policy).
    pub rules: Rules,
    /// Which tenants and databases move.
    pub filter: Filter,
    /// The new cluster name, if it changes.
    pub rename_cluster: Option<String>,
    /// Leave the source's `root` user and its memberships out.
    pub keep_target_root: bool,
    /// Compute the SHA-256 of input and output for the summary.
    pub checksums: bool,
}

impl TransformOptions {
    /// The defaults for `rules`.
    pub fn new(rules: Rules) -> Self {
        TransformOptions {
            rules,
            filter: Filter::default(),
            rename_cluster: None,
            keep_target_root: false,
            checksums: false,
        }
    }
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
    /// without being neighbours in the input: see [`SourceIndex::sorted`]. Kept from the start
    /// until the first pass has answered (`written_settled`).
    written: Option<HashMap<u128, u64>>,
    written_settled: bool,
    /// The databases whose record this pass has read, by tenant: a table of one of them needs
    /// no answer from the first pass.
    databases: HashMap<String, HashSet<String>>,
}

/// What the first pass learns: the users, roles and databases that exist, and the `root` users
/// that are left out. Ids are kept as `u128` (16 bytes a user), role and database names per
/// tenant.
#[derive(Debug, Default)]
struct SourceIndex {
    dropped_roots: HashSet<u128>,
    users: HashSet<u128>,
    roles: HashSet<(String, String)>,
    dbs: HashMap<String, HashSet<String>>,
    /// Every key sorts after the one before it, as in every dump CnosDB writes: then no key
    /// repeats except right after itself, which the second pass sees without remembering keys.
    sorted: bool,
    /// Keys of more than one cluster: `--rename-cluster` can make two of them equal.
    several_clusters: bool,
}

/// The first pass, running on its own thread while the second pass converts the records
/// that do not depend on it.
struct FirstPass<'s> {
    thread: Option<ScopedJoinHandle<'s, Result<SourceIndex>>>,
    result: Option<Result<SourceIndex>>,
}

impl FirstPass<'_> {
    /// Waits for the first pass (a panic in it goes on in this thread).
    fn wait(&mut self) {
        if let Some(thread) = self.thread.take() {
            self.result = Some(thread.join().unwrap_or_else(|p| panic::resume_unwind(p)));
        }
    }

    /// True once the first pass is done (joined now if it just finished); never waits.
    fn poll(&mut self) -> bool {
        if self.thread.as_ref().is_some_and(|t| t.is_finished()) {
            self.wait();
        }
        self.thread.is_none()
    }

    /// The index, once the first pass is done; an error when it failed (its own error is what
    /// [`transform`] reports).
    fn get(&mut self) -> Result<&SourceIndex> {
        self.wait();
        match &self.result {
            Some(Ok(index)) => Ok(index),
            _ => Err(Error::io(
                "reading the input",
                io::Error::other("the first pass failed"),
            )),
        }
    }

    /// The first pass's error, if it failed.
    fn finish(mut self) -> Result<()> {
        self.wait();
        match self.result.take() {
            Some(Err(e)) => Err(e),
            _ => Ok(()),
        }
    }
}

/// Converts the dump read from `input` and writes the restore-ready records to `output`, in
/// input order.
///
/// Reads the input twice, at the same time: a first pass finds the users, the custom roles,
/// the databases and the source's `root` user (which sort after the member records that name
/// them), and whether the keys are in byte order, over parts of the input on as many threads as
/// there are cores (up to 4); the second converts, and waits for the first only at the first
/// record that needs its answer. Errors come as if the passes ran one after
/// the other: the first pass's, else the second's. Memory stays bounded by the longest line
/// plus 16 bytes per user and the role and database names (and each written key's fingerprint
/// when the keys are out of byte order, or `--rename-cluster` meets several clusters). Reports
/// every record's fate to `observer`. On error, what was written to `output` is incomplete:
/// callers write to an [`crate::output::Output`] and commit only on success.
pub fn transform<S: Rereadable + ?Sized, W: Write>(
    input: &S,
    output: W,
    opts: &TransformOptions,
    observer: &mut dyn Observer,
) -> Result<Summary> {
    thread::scope(|scope| {
        let first = scope.spawn(|| index_source(input, opts.keep_target_root));
        let mut index = FirstPass {
            thread: Some(first),
            result: None,
        };
        let converted = convert(scope, input.reader(), output, opts, observer, &mut index);
        index.finish()?;
        converted
    })
}

/// The second pass, itself two threads: one reads and splits the records and drops the ones
/// every target drops (most of a dump's bytes), the other converts and writes the rest, in
/// order. Batches of records go from the first to the second through a short queue, so memory
/// stays bounded.
fn convert<'s, R: Read + Send + 's, W: Write>(
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

/// What the reading thread decided about a record.
enum Fate {
    /// For the converting thread's rules (key and value are in the batch).
    Convert { offset: u64 },
    /// Dropped by the reading thread, by a target-independent rule or the filter.
    /// `count` records in a row (more than one only when the observer does not want each
    /// dropped record: then the key is left out).
    Dropped {
        kind: &'static str,
        rule: &'static str,
        count: u64,
    },
}

impl Fate {
    /// One record dropped by `rule`.
    fn dropped(kind: &KeyKind<'_>, rule: &'static str) -> Self {
        Fate::Dropped {
            kind: kind.name(),
            rule,
            count: 1,
        }
    }
}

/// What the reading thread learns about the whole input.
struct ReadStats {
    form: Option<&'static str>,
    records: u64,
    crlf_lines: u64,
    sha256: String,
    bytes: u64,
}

/// The reading thread: every record of `input` in order, in batches, to `tx`; a key repeated
/// on the next line is an error. Without `each_dropped`, a run of records dropped by one rule
/// goes as one item. Stops quietly when the converting thread has stopped.
fn read_records<R: Read>(
    input: R,
    opts: &TransformOptions,
    each_dropped: bool,
    mut tx: BatchSender<Fate>,
) -> Result<ReadStats> {
    let mut reader = DumpReader::new(HashingReader::new(input, opts.checksums));
    let mut prev_key = String::new();
    let mut prev_line = 0;
    let outcome = loop {
        let rec = match reader.next_record() {
            Ok(Some(rec)) => rec,
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        };
        if rec.key == prev_key {
            break Err(InputError::at(
                rec.line,
                format!(
                    "duplicate key {} (also on line {prev_line}); a dump holds each key once: \
                     two dumps were concatenated or the file was edited",
                    rec.key
                ),
            )
            .into());
        }
        prev_key.clear();
        prev_key.push_str(rec.key);
        prev_line = rec.line;
        let kind = Key::parse(rec.key).kind;
        let dropped =
            drop_rule(&kind).or_else(|| (!opts.filter.selects(&kind)).then_some("drop.filtered"));
        let batch = tx.batch();
        match (dropped, each_dropped) {
            // Without a report: one more of the run the last item counts, or a new run.
            (Some(rule), false) => match batch.last_mut() {
                Some(Item {
                    meta:
                        Fate::Dropped {
                            kind: k,
                            rule: r,
                            count,
                        },
                    ..
                }) if (*k, *r) == (kind.name(), rule) => *count += 1,
                _ => batch.push(rec.line, "", "", Fate::dropped(&kind, rule)),
            },
            (Some(rule), true) => batch.push(rec.line, rec.key, "", Fate::dropped(&kind, rule)),
            (None, _) => {
                let fate = Fate::Convert { offset: rec.offset };
                batch.push(rec.line, rec.key, rec.value, fate);
            }
        }
        if !tx.send_if_full() {
            break Ok(());
        }
    };
    // What was read before an error is converted first: its errors come first.
    tx.finish();
    outcome?;
    let stats = ReadStats {
        form: reader.form().map(|f| f.name()),
        records: reader.records(),
        crlf_lines: reader.crlf_lines(),
        sha256: String::new(),
        bytes: 0,
    };
    let (sha256, bytes) = reader.into_inner().finish();
    Ok(ReadStats {
        sha256,
        bytes,
        ..stats
    })
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

/// A user's id and whether it has no password.
fn user_identity(value: &str, release: Release) -> std::result::Result<(u128, bool), ShapeError> {
    let facts =
        user_facts(value).ok_or_else(|| ShapeError::not_json("is not a JSON object".into()))?;
    let id = facts.id.ok_or_else(|| ShapeError::missing("id", release))?;
    Ok((id, facts.password == Password::None))
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

/// First pass: the users, roles and databases that exist, and the `root` users to leave out
/// (all of them with `keep_target_root`, else those without a password); whether the keys are in
/// byte order, and whether they name several clusters.
///
/// It parses only keys with as many segments as a user, a role or a database key, and checks
/// nothing: the second pass reads every line with [`DumpReader`] and reports each problem with
/// its line. An input of 16 MiB or more is read in parts (whole lines), one thread each, up to
/// one per core and four in all; the parts' answers are joined in input order.
fn index_source<S: Rereadable + ?Sized>(input: &S, keep_target_root: bool) -> Result<SourceIndex> {
    let io_error = |e| Error::io("reading the input", e);
    let threads = thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let parts = line_parts(input, threads, 8 << 20).map_err(io_error)?;
    let indexes: Vec<io::Result<PartIndex>> = thread::scope(|scope| {
        let index_part = |range: &Range<u64>| {
            let part = input.reader_at(range.start).take(range.end - range.start);
            index_part(part, keep_target_root)
        };
        let (first, rest) = parts.split_first().unwrap_or((&(0..0), &[]));
        let others: Vec<_> = rest
            .iter()
            .map(|r| scope.spawn(move || index_part(r)))
            .collect();
        let mut all = vec![index_part(first)];
        all.extend(
            others
                .into_iter()
                .map(|t| t.join().unwrap_or_else(|p| panic::resume_unwind(p))),
        );
        all
    });
    let mut whole = PartIndex::new();
    for part in indexes {
        whole.append(part.map_err(io_error)?);
    }
    Ok(whole.index)
}

/// What the first pass learns from a part of the input: joined in input order, the parts tell
/// what one pass over the whole would.
struct PartIndex {
    index: SourceIndex,
    /// The first and last keys of the part's records.
    first_key: Option<Vec<u8>>,
    last_key: Option<Vec<u8>>,
    /// The cluster of the first key that names one.
    first_cluster: Option<Vec<u8>>,
}

impl PartIndex {
    /// Nothing read yet.
    fn new() -> Self {
        PartIndex {
            index: SourceIndex {
                sorted: true,
                ..SourceIndex::default()
            },
            first_key: None,
            last_key: None,
            first_cluster: None,
        }
    }

    /// Adds the part that follows this one.
    fn append(&mut self, next: PartIndex) {
        let index = &mut self.index;
        index.sorted &= next.index.sorted
            && match (&self.last_key, &next.first_key) {
                (Some(last), Some(first)) => last < first,
                _ => true,
            };
        index.several_clusters |= next.index.several_clusters
            || matches!((&self.first_cluster, &next.first_cluster), (Some(a), Some(b)) if a != b);
        index.dropped_roots.extend(next.index.dropped_roots);
        index.users.extend(next.index.users);
        index.roles.extend(next.index.roles);
        for (tenant, dbs) in next.index.dbs {
            index.dbs.entry(tenant).or_default().extend(dbs);
        }
        self.first_key = self.first_key.take().or(next.first_key);
        self.last_key = next.last_key.or(self.last_key.take());
        self.first_cluster = self.first_cluster.take().or(next.first_cluster);
    }
}

/// The first pass over one part of the input (whole lines).
fn index_part<R: Read>(input: R, keep_target_root: bool) -> io::Result<PartIndex> {
    let mut part = PartIndex::new();
    let mut prev_key: Vec<u8> = Vec::new();
    scan_records(input, |key, value| {
        let index = &mut part.index;
        index.sorted &= key > prev_key.as_slice();
        prev_key.clear();
        prev_key.extend_from_slice(key);
        if part.first_key.is_none() {
            part.first_key = Some(key.to_vec());
        }
        // The cluster: the first segment of a key with two or more.
        let rest = key.strip_prefix(b"/").unwrap_or(key);
        let cluster = memchr::memchr(b'/', rest).map(|at| &rest[..at]);
        if let Some(cluster) = cluster.filter(|c| !c.is_empty()) {
            match &part.first_cluster {
                None => part.first_cluster = Some(cluster.to_vec()),
                Some(first) if first.as_slice() != cluster => index.several_clusters = true,
                _ => {}
            }
        }
        // `/{c}/users/{u}` has three slashes, `/{c}/tenants/{t}/roles/{r}` and
        // `/{c}/tenants/{t}/dbs/{db}` five; buckets and tables, most keys, have seven.
        let slashes = key.iter().filter(|&&b| b == b'/').count();
        if slashes != 3 && slashes != 5 {
            return;
        }
        let (Ok(key), Ok(value)) = (std::str::from_utf8(key), std::str::from_utf8(value)) else {
            return;
        };
        match Key::parse(key).kind {
            KeyKind::User { name } => {
                let Ok((id, no_password)) = user_identity(value, Release::V2_4_3) else {
                    return;
                };
                if name == "root" && (keep_target_root || no_password) {
                    index.dropped_roots.insert(id);
                } else {
                    index.users.insert(id);
                }
            }
            KeyKind::Role { tenant, role } => {
                index.roles.insert((tenant.to_string(), role.to_string()));
            }
            KeyKind::Database { tenant, db } => {
                index
                    .dbs
                    .entry(tenant.to_string())
                    .or_default()
                    .insert(db.to_string());
            }
            _ => {}
        }
    })?;
    part.last_key = (part.first_key.is_some()).then_some(prev_key);
    Ok(part)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a test can compare of a [`SourceIndex`].
    fn summary(i: &SourceIndex) -> String {
        let mut users: Vec<_> = i.users.iter().collect();
        users.sort();
        let mut roots: Vec<_> = i.dropped_roots.iter().collect();
        roots.sort();
        let mut roles: Vec<_> = i.roles.iter().collect();
        roles.sort();
        let mut dbs: Vec<_> = i
            .dbs
            .iter()
            .flat_map(|(t, d)| d.iter().map(move |d| (t, d)))
            .collect();
        dbs.sort();
        format!(
            "{users:?} {roots:?} {roles:?} {dbs:?} sorted={} several={}",
            i.sorted, i.several_clusters
        )
    }

    proptest::proptest! {
        #[test]
        fn the_first_pass_in_parts_learns_what_one_pass_learns(
            lines in proptest::collection::vec(
                proptest::sample::select(vec![
                    "/c/tenants/t: {}",
                    "/c/tenants/t/dbs/a: {}",
                    "/c/tenants/t/dbs/b: {}",
                    "/c/tenants/u/dbs/a: {}",
                    "/c/tenants/t/roles/r: {}",
                    "/c/tenants/t/members/1: {}",
                    "/c/users/root: {\"id\":1,\"desc\":{\"password\":\"\",\"options\":{}}}",
                    "/c/users/u: {\"id\":2,\"desc\":{\"password\":\"x\",\"options\":{}}}",
                    "/d/users/v: {\"id\":3,\"desc\":{\"password\":\"x\",\"options\":{}}}",
                    "/c/tenants/t/dbs/a/buckets/1: {}",
                    "* /c/tenants/t/dbs/a/schemas/x: {}",
                    "****** frame ******",
                    ": no key",
                    "",
                ]),
                0..24,
            ),
            parts in 1usize..6,
            keep_root in proptest::bool::ANY,
        ) {
            let text = lines.join("\n");
            let one = index_part(text.as_bytes(), keep_root).unwrap().index;
            // Every line boundary is a possible start of a part: try the ones line_parts picks.
            let split = line_parts(text.as_bytes(), parts, 1).unwrap();
            let mut whole: Option<PartIndex> = None;
            for range in &split {
                let part = index_part(
                    &text.as_bytes()[range.start as usize..range.end as usize],
                    keep_root,
                )
                .unwrap();
                match whole.as_mut() {
                    None => whole = Some(part),
                    Some(w) => w.append(part),
                }
            }
            let whole = whole.unwrap().index;
            proptest::prop_assert_eq!(summary(&one), summary(&whole));
            proptest::prop_assert_eq!(
                summary(&index_source(text.as_bytes(), keep_root).unwrap()),
                summary(&one)
            );
        }
    }
}
