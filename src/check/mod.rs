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
mod tests {
    use super::*;

    /// `(line, code)` of every problem and note, in line order.
    fn codes(text: &str, t: Target) -> Vec<(u64, &'static str)> {
        let report = check(text.as_bytes(), t, None).unwrap();
        let mut all: Vec<(u64, &'static str)> = report
            .problems
            .iter()
            .chain(&report.notes)
            .map(|p| (p.line, p.code))
            .collect();
        all.sort();
        all
    }

    #[test]
    fn expected_transform_outputs_are_clean() {
        for t in Target::ALL {
            for size in ["small", "full"] {
                let path = format!("fixtures/expected/{size}.{t}.txt");
                let text = std::fs::read_to_string(&path).unwrap();
                // The placeholder stands for a fresh hash; any bcrypt hash will do.
                let text = text.replace(
                    "<BCRYPT-OF:secret-pw>",
                    "$2b$12$UXtD3jygSi76oO2IyV/UHeC2TqqD3SBp0yxoyp3intrNueiHVjri6",
                );
                let report = check(text.as_bytes(), t, None).unwrap();
                assert!(report.problems.is_empty(), "{path}: {:?}", report.problems);
                // What transform writes is canonical by definition.
                assert!(report.notes.is_empty(), "{path}: {:?}", report.notes);
            }
        }
    }

    #[test]
    fn a_real_servers_own_records_are_canonical_for_its_release() {
        for (file, t) in [
            ("v2.4.0-dump-fresh.txt", Target::V2_4_0),
            ("v2.4.3.4-dump-fresh.txt", Target::V2_4_3),
        ] {
            let text = std::fs::read_to_string(format!("fixtures/real/{file}")).unwrap();
            let report = check(text.as_bytes(), t, None).unwrap();
            // What such a dump holds besides: the keys that must not move, and the hazards of
            // restoring a cluster's own system records.
            assert!(report.notes.is_empty(), "{file}: {:?}", report.notes);
            assert!(
                report.problems.iter().all(|p| p.code.starts_with("drop.")
                    || matches!(
                        p.code,
                        "system-db" | "root-without-password" | "must-change-password"
                    )),
                "{file}: {:?}",
                report.problems
            );
        }
    }

    #[test]
    fn a_2_3_dump_fails_everywhere() {
        let text = std::fs::read_to_string("fixtures/v2.3/small.dump.txt").unwrap();
        let found = codes(&text, Target::V2_4_3);
        assert!(found.contains(&(1, "drop.auto-incr-id")), "{found:?}");
        assert!(found.contains(&(5, "bucket-without-leader")), "{found:?}");
        assert!(found.contains(&(10, "root-without-password")), "{found:?}");
        assert!(found.contains(&(11, "old-field-name")), "{found:?}");
    }

    #[test]
    fn text_problems_do_not_stop_the_scan() {
        let text = "/a: 1\r\n\n* /b: 2\n/c 3\n: 4\n/d: \u{0}\n/data_version: 1\n/data_version: 2\n";
        assert_eq!(
            codes(text, Target::V2_4_0),
            [
                (1, "crlf"),
                (2, "blank-line"),
                (3, "debug-prefix"),
                (4, "no-separator"),
                (5, "empty-key"),
                (6, "nul"),
                (7, "drop.global"),
                (8, "duplicate-key"),
            ]
        );
        let bad_utf8 = check(&b"/a: \xff\n/b/x: 1\n"[..], Target::V2_4_0, None).unwrap();
        assert_eq!(bad_utf8.problems[0].code, "invalid-utf8");
        assert_eq!(bad_utf8.summary.records, 1);
    }

    #[test]
    fn the_table_threads_find_what_one_thread_finds() {
        // Tables over many batches, with problems, and bad text among them.
        let small = std::fs::read_to_string("fixtures/v2.3/full.debug.txt").unwrap();
        let text = small.repeat(300);
        assert!(text.len() > 3 * crate::dump::batch::BATCH_BYTES);
        let all = |threads| {
            let r = check_on(text.as_bytes(), Target::V2_4_3, None, threads).unwrap();
            (r.problems, r.notes, r.summary.problems, r.summary.records)
        };
        let one = all(1);
        assert!(one.0.len() > 1000, "{}", one.0.len());
        assert_eq!(all(3), one);
    }

    #[test]
    fn keys_of_another_cluster() {
        let text = std::fs::read_to_string("fixtures/expected/small.2.4.3.txt").unwrap();
        assert!(
            check(text.as_bytes(), Target::V2_4_3, Some("cluster_xxx"))
                .unwrap()
                .summary
                .ok
        );
        let report = check(text.as_bytes(), Target::V2_4_3, Some("prod")).unwrap();
        assert_eq!(report.problems.len(), 5);
        assert!(report.problems.iter().all(|p| p.code == "other-cluster"));
    }

    #[test]
    fn reasons_never_quote_user_values() {
        let u = r#"{"id":7,"name":"dave","options":{"password":"secret-pw"},"is_admin":false}"#;
        let report = check(
            format!("/c/users/dave: {u}\n").as_bytes(),
            Target::V2_4_1,
            None,
        )
        .unwrap();
        assert!(report.problems.len() >= 2);
        for p in &report.problems {
            assert!(!p.reason.contains("secret-pw"), "{p:?}");
        }
    }
}
