//! `check`: is a restore-ready file safe for one 2.4.x release? Lists every problem, each with
//! its severity (see [`codes`]).
//!
//! A record's value is read with [`crate::model`] as the target's deserializer reads it: a
//! member the target reads as absent is fine, an unknown member fails only where the target
//! refuses it. A value the target reads but `transform` would write differently is
//! `noncanonical`, not a problem. On top come the checks of the text itself, the keys that must
//! not move, and the hazards a readable record can still carry. Reasons never quote a value.

pub mod codes;
mod record;
mod tables;
mod text;

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::panic;
use std::sync::Mutex;
use std::thread;

use serde::Serialize;

use crate::dump::batch::batch_channel;
use crate::dump::{LineBuffer, Piece, MAX_LINE_BYTES};
use crate::error::{Error, Result};
use crate::report::HashingReader;
use crate::target::Target;
pub use codes::{Severity, CODES};
use tables::{judge_tables, TableSink};

/// One problem, located at a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// 1-based line number.
    pub line: u64,
    /// The key, when the line has one that is valid text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// What the target does with it.
    pub severity: Severity,
    /// A stable short name (`duplicate-key`, `drop.bucket`, `old-field-name`, …).
    pub code: &'static str,
    /// One line for people; never a value of the record.
    pub reason: String,
}

/// Totals of a check; the last JSON line.
#[derive(Debug, Clone, Serialize)]
pub struct CheckSummary {
    /// Always true: tells the summary from the problems.
    pub summary: bool,
    /// The release checked against.
    pub target: String,
    /// True when no problem makes the check fail (see [`Severity::fails`]).
    pub ok: bool,
    /// Whether `changed` problems fail the check.
    pub strict: bool,
    /// Number of problems (`noncanonical` records are not problems).
    pub problems: usize,
    /// Problems per severity.
    pub unreadable: usize,
    /// See [`Severity::Lossy`].
    pub lossy: usize,
    /// See [`Severity::Changed`].
    pub changed: usize,
    /// Records written otherwise than the target writes them, with the same meaning.
    pub noncanonical: usize,
    /// Lines read.
    pub lines: u64,
    /// `KEY: VALUE` records read.
    pub records: u64,
    /// Keys the tool does not know (kept by transform, so not a problem).
    pub unknown_keys: u64,
    /// Size of the input.
    pub bytes: u64,
    /// SHA-256 of the input, hex: compare it with the transform report's `output_sha256`.
    pub sha256: String,
}

/// Everything a check found.
#[derive(Debug, Clone)]
pub struct CheckReport {
    /// The problems, in line order (`unreadable`, `lossy`, `changed`).
    pub problems: Vec<Problem>,
    /// The `noncanonical` records, in line order.
    pub notes: Vec<Problem>,
    /// Totals.
    pub summary: CheckSummary,
}

impl CheckReport {
    /// Makes `changed` problems fail the check (or not), and says so in the summary.
    pub fn set_strict(&mut self, strict: bool) {
        self.summary.strict = strict;
        self.summary.ok = !self.problems.iter().any(|p| p.severity.fails(strict));
    }
}

/// A record whose verdict needs the whole file (member → user, role; table → database).
enum Pending {
    Member {
        line: u64,
        key: String,
        tenant: String,
        uid: Option<u128>,
        role: Option<String>,
    },
    Table {
        line: u64,
        key: String,
        tenant: String,
        db: String,
    },
}

struct Checker {
    target: Target,
    tables: TableSink,
    cluster: Option<String>,
    problems: Vec<Problem>,
    seen: HashMap<u128, u64>,
    user_ids: HashSet<u128>,
    roles: HashSet<(String, String)>,
    dbs: HashSet<(String, String)>,
    pending: Vec<Pending>,
    records: u64,
    unknown_keys: u64,
}

/// Checks the restore-ready text read from `input` against `target` (and, when known, the
/// target's cluster name). Fails only on I/O errors. `changed` problems do not fail the check
/// (see [`CheckReport::set_strict`]).
pub fn check<R: Read>(input: R, target: Target, cluster: Option<&str>) -> Result<CheckReport> {
    check_on(input, target, cluster, table_threads())
}

/// [`check`] with `threads` threads judging the table records.
fn check_on<R: Read>(
    input: R,
    target: Target,
    cluster: Option<&str>,
    threads: usize,
) -> Result<CheckReport> {
    let (tx, rx) = batch_channel();
    let rx = Mutex::new(rx);
    thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| scope.spawn(|| judge_tables(target, &rx)))
            .collect();
        let checked = check_lines(input, target, cluster, tx);
        let tables: Vec<Vec<Problem>> = (workers.into_iter())
            .map(|w| w.join().unwrap_or_else(|p| panic::resume_unwind(p)))
            .collect();
        let (mut c, reader, line) = checked?;
        // Each record's problems come from one thread, in order: the sort in `report` puts
        // them where one thread would have.
        c.problems.extend(tables.into_iter().flatten());
        Ok(report(c, reader, line))
    })
}

/// How many threads judge the table records: one per core, up to three (the reading thread
/// does less, and waits on the queue when they fall behind: on 2 cores, 2 judges check the
/// 200 MiB benchmark's output in 241 ms, 1 in 300 ms).
fn table_threads() -> usize {
    thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 3))
}

/// Reads and checks every line, sending the table records to `tables`.
fn check_lines<R: Read>(
    input: R,
    target: Target,
    cluster: Option<&str>,
    tables: TableSink,
) -> Result<(Checker, LineBuffer<HashingReader<R>>, u64)> {
    let mut c = Checker {
        target,
        tables,
        cluster: cluster.map(str::to_string),
        problems: Vec::new(),
        seen: HashMap::new(),
        user_ids: HashSet::new(),
        roles: HashSet::new(),
        dbs: HashSet::new(),
        pending: Vec::new(),
        records: 0,
        unknown_keys: 0,
    };
    let mut lines = LineBuffer::new(HashingReader::new(input, true));
    // Set on a part of an over-long line: reported once, skipped up to its end.
    let mut skipping = false;
    while let Some(piece) = lines
        .next_piece()
        .map_err(|e| Error::io("reading the input", e))?
    {
        let whole = matches!(piece, Piece::Line(_));
        let line = lines.line_number();
        match whole {
            false if skipping => {}
            false => {
                skipping = true;
                let reason = format!(
                    "line longer than {} MiB: not a meta dump line",
                    MAX_LINE_BYTES >> 20
                );
                c.push(line, None, "line-too-long", reason);
            }
            true if std::mem::take(&mut skipping) => {}
            true => c.line(line, lines.last()),
        }
    }
    let line = lines.line_number();
    c.tables.finish();
    c.resolve();
    Ok((c, lines, line))
}

/// The report of a check whose every line was read.
fn report<R: Read>(mut c: Checker, reader: LineBuffer<HashingReader<R>>, line: u64) -> CheckReport {
    c.problems.sort_by_key(|p| (p.line, p.severity));
    let (notes, problems): (Vec<Problem>, Vec<Problem>) = c
        .problems
        .into_iter()
        .partition(|p| p.severity == Severity::Noncanonical);
    let count = |s: Severity| problems.iter().filter(|p| p.severity == s).count();
    let (sha256, bytes) = reader.into_inner().finish();
    let mut report = CheckReport {
        summary: CheckSummary {
            summary: true,
            target: c.target.to_string(),
            ok: true,
            strict: false,
            problems: problems.len(),
            unreadable: count(Severity::Unreadable),
            lossy: count(Severity::Lossy),
            changed: count(Severity::Changed),
            noncanonical: notes.len(),
            lines: line,
            records: c.records,
            unknown_keys: c.unknown_keys,
            bytes,
            sha256,
        },
        problems,
        notes,
    };
    report.set_strict(false);
    report
}

impl Checker {
    /// Records a problem of code `code` (its severity comes from [`CODES`]).
    fn push(&mut self, line: u64, key: Option<&str>, code: &'static str, reason: String) {
        self.problems.push(problem(line, key, code, reason));
    }
}

/// A problem of code `code` (its severity comes from [`CODES`]).
fn problem(line: u64, key: Option<&str>, code: &'static str, mut reason: String) -> Problem {
    // One line: a name taken from a key or a value may hold a CR or (decoded) an LF.
    if reason.contains(['\n', '\r']) {
        reason = reason.replace('\n', "\\n").replace('\r', "\\r");
    }
    let code = codes::lookup(code);
    Problem {
        line,
        key: key.map(str::to_string),
        severity: code.severity,
        code: code.name,
        reason,
    }
}

#[cfg(test)]
mod tests;
