//! Copying the rows: every table cut into time chunks ([`plan`]), each chunk exported from
//! the old data node into a staging location of its own, imported into the new node and
//! counted there ([`chunk`]), every step kept in a [`ledger::Ledger`] so that a rerun
//! continues where a run stopped. [`copy_rows`] runs the chunks with a pool of workers: while
//! one chunk imports, the next one exports.

mod chunk;
pub mod compare;
pub mod ledger;
pub mod plan;
pub mod schema;
mod slots;
mod steps;
mod tally;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::remote::sql::SqlNode;
use crate::tables::chunks::Chunk;
use crate::tables::s3::S3Connection;
use crate::tables::sql::FileFormat;
use crate::tables::TableInfo;
use ledger::Ledger;

/// One table's chunks.
#[derive(Debug, Clone)]
pub struct TablePlan {
    /// The table.
    pub info: TableInfo,
    /// Its staging directory, `<dir>/<tenant>/<db>/<table>` (no trailing `/`).
    pub url: String,
    /// Its time chunks, oldest first.
    pub chunks: Vec<PlannedChunk>,
}

/// One time chunk of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedChunk {
    /// The chunk's name in the ledger and its staging paths: the range's id, prefixed by the
    /// pass's start time in a `since` pass (so that the pass copies its chunks again).
    pub name: String,
    /// The time range.
    pub chunk: Chunk,
    /// Rows the source counted in it while planning, when it was asked.
    pub estimate: Option<u64>,
    /// Older than the database's TTL: the new node would refuse its rows.
    pub expired: bool,
}

/// How the copy runs.
#[derive(Debug, Clone)]
pub struct CopyConfig {
    /// File format of the staged rows.
    pub format: FileFormat,
    /// The object store's connection when the staging location is `s3://`; its secrets are
    /// masked in every message and outcome.
    pub connection: Option<S3Connection>,
    /// Chunks in flight at once (at least 1).
    pub parallel: usize,
    /// Exports running at once on the old node (at least 1; at most [`CopyConfig::parallel`]
    /// matter): the old node is usually a production cluster still serving reads.
    pub exports: usize,
    /// Imports and counts running at once on the new node (at least 1).
    pub imports: usize,
    /// Times a statement failing with a transient error (no answer, 5xx) is tried again
    /// (counted per step of a chunk).
    pub retries: u32,
    /// Wait before the first retry; doubled before each further one.
    pub backoff: Duration,
    /// Also copy chunks older than the TTL (the new node refuses such rows).
    pub include_expired: bool,
    /// Set to stop: no chunk is started any more, and a chunk in flight stops after its
    /// current statement (and its ledger line); what is left is [`ChunkStatus::Stopped`].
    pub stop: Arc<AtomicBool>,
    /// Compare each table on both nodes while the copy goes on ([`compare`]); `Some(true)`
    /// also compares every column.
    pub compare: Option<bool>,
}

impl CopyConfig {
    /// `text` (a statement, a message) with the connection's secrets masked.
    fn shown(&self, text: &str) -> String {
        self.connection
            .as_ref()
            .map_or_else(|| text.to_string(), |c| c.mask(text))
    }
}

/// The two data nodes.
#[derive(Clone, Copy)]
pub struct Nodes<'a> {
    /// The old node, exported from.
    pub from: &'a SqlNode,
    /// The new node, imported into.
    pub to: &'a SqlNode,
}

/// What became of a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChunkStatus {
    /// Exported, imported and counted on the new node: the export and import agree and the
    /// new node counts at least as many rows in the range (more when it holds rows of its
    /// own there).
    Copied,
    /// The export found no row: nothing to import.
    Empty,
    /// Verified by an earlier run, according to the ledger.
    Done,
    /// Older than the TTL: left out.
    Expired,
    /// The counts still disagree after one automatic re-copy (or the new node counts fewer
    /// rows in the range than were copied).
    Mismatch,
    /// A statement failed (or an earlier chunk of the table did).
    Failed,
    /// Not finished: the copy was stopped first; a rerun with the ledger goes on with it.
    Stopped,
}

impl ChunkStatus {
    /// The status's name in tables and reports.
    pub fn name(self) -> &'static str {
        match self {
            ChunkStatus::Copied => "copied",
            ChunkStatus::Empty => "empty",
            ChunkStatus::Done => "done",
            ChunkStatus::Expired => "expired",
            ChunkStatus::Mismatch => "mismatch",
            ChunkStatus::Failed => "failed",
            ChunkStatus::Stopped => "stopped",
        }
    }

    /// True when nothing is left to do for the chunk.
    pub fn ok(self) -> bool {
        !matches!(
            self,
            ChunkStatus::Mismatch | ChunkStatus::Failed | ChunkStatus::Stopped
        )
    }
}

/// The result of one chunk.
#[derive(Debug, Clone)]
pub struct ChunkOutcome {
    /// Index of the table in the plan.
    pub table: usize,
    /// The chunk.
    pub chunk: Chunk,
    /// Rows the (last) export answered.
    pub exported: Option<u64>,
    /// Rows the (last) import answered.
    pub imported: Option<u64>,
    /// Rows the new node counted in the chunk's range.
    pub counted: Option<u64>,
    /// What the new node holds in the chunk's range, counted in this run after the import.
    pub found: Option<compare::Extent>,
    /// The last attempt's number.
    pub attempt: u32,
    /// What became of it.
    pub status: ChunkStatus,
    /// Why it failed or disagrees.
    pub error: Option<String>,
    /// The statement that failed.
    pub statement: Option<String>,
    /// Time spent on it in this run.
    pub elapsed: Duration,
}

/// Told about the copy as it goes (progress, messages); called from the worker threads.
pub trait Observer: Sync {
    /// A chunk is finished, whatever its status.
    fn chunk_done(&self, table: &TablePlan, outcome: &ChunkOutcome);
    /// A statement failed with a transient error and is tried again.
    fn retrying(&self, table: &TablePlan, chunk: &Chunk, error: &str);
}

/// Every chunk's result, in plan order.
#[derive(Debug, Clone, Default)]
pub struct CopyOutcome {
    /// One per planned chunk.
    pub chunks: Vec<ChunkOutcome>,
    /// With [`CopyConfig::compare`]: each table whose every chunk was verified, in plan order.
    pub compared: Vec<compare::TableComparison>,
}

/// Copies every chunk of `plan` from `nodes.from` to `nodes.to`, recording each step in
/// `ledger` (a chunk it lists as verified is not copied again). A ledger that cannot be
/// written stops the copy with that error; statement failures are in the outcome.
pub fn copy_rows(
    plan: &[TablePlan],
    config: &CopyConfig,
    nodes: Nodes<'_>,
    ledger: Option<&mut Ledger>,
    observer: &dyn Observer,
) -> Result<CopyOutcome> {
    let jobs: Vec<(usize, usize)> = plan
        .iter()
        .enumerate()
        .flat_map(|(t, p)| (0..p.chunks.len()).map(move |c| (t, c)))
        .collect();
    let run = run_token();
    let (events, received) = std::sync::mpsc::channel();
    let ctx = steps::Ctx {
        run,
        nodes,
        config,
        ledger: Mutex::new(ledger),
        ledger_error: Mutex::new(None),
        failed_tables: Mutex::new(vec![false; plan.len()]),
        observer,
        tables: tally::TableTally::new(plan, config.compare.map(|_| events)),
        slots: (
            slots::Slots::new(config.exports),
            slots::Slots::new(config.imports),
        ),
    };
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<ChunkOutcome>>> = Mutex::new(vec![None; jobs.len()]);
    let workers = config.parallel.clamp(1, jobs.len().max(1));
    let compared = std::thread::scope(|scope| {
        let comparer = config.compare.map(|columns| {
            scope.spawn(move || compare::compare_as_copied(received, plan, nodes, columns))
        });
        let pool: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(t, c)) = jobs.get(i) else { break };
                    if lock(&ctx.ledger_error).is_some() || config.stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let outcome = chunk::copy_chunk(&ctx, t, &plan[t], &plan[t].chunks[c]);
                    if outcome.status == ChunkStatus::Failed {
                        lock(&ctx.failed_tables)[t] = true;
                    }
                    observer.chunk_done(&plan[t], &outcome);
                    lock(&results)[i] = Some(outcome);
                })
            })
            .collect();
        for worker in pool {
            worker
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
        }
        // No event after the workers: the comparer ends with the last one.
        ctx.tables.close();
        comparer.map_or_else(Vec::new, |c| {
            c.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
        })
    });
    if let Some(e) = ctx
        .ledger_error
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
    {
        return Err(e);
    }
    // The chunks never started (the copy was stopped) are left for the next run.
    let chunks = results
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .zip(&jobs)
        .map(|(o, &(t, c))| o.unwrap_or_else(|| chunk::stopped(t, &plan[t].chunks[c])))
        .collect();
    Ok(CopyOutcome { chunks, compared })
}

/// Now, in ns since the epoch.
pub fn now_ns() -> i64 {
    i64::try_from(run_token()).unwrap_or(i64::MAX)
}

/// A run's token in its staging locations: the time it started (ns since the epoch).
pub fn run_token() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// Where an attempt of a chunk stages its rows: `<table url>/<chunk>-<attempt>-<run>`. The run's
/// token keeps every run apart, with or without a ledger, so that no export ever adds to the
/// files of an earlier run (a ledger of its own, or none).
pub fn staging_location(table_url: &str, chunk: &str, attempt: u32, run: u128) -> String {
    format!("{table_url}/{chunk}-{attempt}-{run}")
}

/// `f` of every item, on up to `threads` threads at once (the statements of a plan, a schema
/// check or a comparison go to different nodes and tables); the results in the items' order.
pub(crate) fn par_map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let out: Mutex<Vec<Option<R>>> = Mutex::new(items.iter().map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, items.len().max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let r = f(item);
                lock(&out)[i] = Some(r);
            });
        }
    });
    // A thread that panicked made the scope panic: every item has its result here.
    let out = out.into_inner().unwrap_or_else(|p| p.into_inner());
    out.into_iter().flatten().collect()
}

/// `a()` and `b()` at the same time (a statement to each node); `a` on a thread of its own.
pub(crate) fn both<A: Send, B>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B) -> (A, B) {
    std::thread::scope(|scope| {
        let a = scope.spawn(a);
        let b = b();
        (a.join().unwrap_or_else(|p| std::panic::resume_unwind(p)), b)
    })
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The error of a ledger that could not be written, kept to stop the copy.
fn keep_first(slot: &Mutex<Option<Error>>, e: Error) {
    lock(slot).get_or_insert(e);
}
