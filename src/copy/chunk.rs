//! One chunk through its steps: export into a fresh staging location, import, count on the
//! new node; transient failures retried with backoff, a disagreement re-copied once.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::compare::{query_extent, Event, Extent};
use super::ledger::{ChunkKey, Entry, Ledger, Step};
use super::slots::Slots;
use super::{keep_first, lock, ChunkOutcome, ChunkStatus, CopyConfig, Nodes, Observer};
use super::{PlannedChunk, TablePlan};
use crate::error::Error;
use crate::remote::sql::{SqlError, SqlNode};
use crate::tables::chunks::Chunk;
use crate::tables::sql::{export_chunk_statement, extent_statement, import_statement};

/// What the workers share.
pub(super) struct Ctx<'a> {
    pub nodes: Nodes<'a>,
    pub config: &'a CopyConfig,
    pub ledger: Mutex<Option<&'a mut Ledger>>,
    pub ledger_error: Mutex<Option<Error>>,
    pub failed_tables: Mutex<Vec<bool>>,
    pub observer: &'a dyn Observer,
    /// The run's token in each staging location it exports into ([`super::staging_location`]).
    pub run: u128,
    /// What each table still waits for, told to the comparison.
    pub tables: TableTally,
    /// The exports running at once on the old node, the imports and counts on the new one.
    pub slots: (Slots, Slots),
}

/// Per table, the chunks still to be exported and still to be finished; when none is left,
/// the comparing thread is told ([`super::compare::Event`]).
pub(super) struct TableTally {
    exports_left: Vec<AtomicUsize>,
    chunks_left: Vec<AtomicUsize>,
    failed: Vec<AtomicBool>,
    /// What the new node counted in the table's chunks in this run; `None` once a chunk was
    /// not counted in this run.
    counted: Mutex<Vec<Option<Extent>>>,
    events: Mutex<Option<Sender<Event>>>,
}

impl TableTally {
    /// The tally of `plan`, telling `events` (none: nobody listens).
    pub fn new(plan: &[TablePlan], events: Option<Sender<Event>>) -> TableTally {
        let left = || {
            plan.iter()
                .map(|t| AtomicUsize::new(t.chunks.len()))
                .collect()
        };
        let tally = TableTally {
            exports_left: left(),
            chunks_left: left(),
            failed: plan.iter().map(|_| AtomicBool::new(false)).collect(),
            counted: Mutex::new(plan.iter().map(|_| Some(Extent::default())).collect()),
            events: Mutex::new(events),
        };
        // A table without chunks has nothing to wait for.
        for (t, _) in plan.iter().enumerate().filter(|(_, p)| p.chunks.is_empty()) {
            tally.tell(Event::Exported(t));
            tally.tell(Event::Finished(t, None));
        }
        tally
    }

    /// A chunk of table `t` is exported, or needs no export.
    fn exported(&self, t: usize) {
        if self.exports_left[t].fetch_sub(1, Ordering::SeqCst) == 1 {
            self.tell(Event::Exported(t));
        }
    }

    /// A chunk of table `t` is finished (`ok`: verified, or needs nothing), with what the new
    /// node counted in it in this run (`None`: not counted in this run).
    fn finished(&self, t: usize, ok: bool, counted: Option<Extent>) {
        if !ok {
            self.failed[t].store(true, Ordering::SeqCst);
        }
        let sum = {
            let mut all = lock(&self.counted);
            match (&mut all[t], counted) {
                (Some(sum), Some(c)) => sum.add(c),
                (slot, _) => *slot = None,
            }
            all[t]
        };
        let last = self.chunks_left[t].fetch_sub(1, Ordering::SeqCst) == 1;
        if last && !self.failed[t].load(Ordering::SeqCst) {
            self.tell(Event::Finished(t, sum));
        }
    }

    fn tell(&self, event: Event) {
        if let Some(events) = lock(&self.events).as_ref() {
            // The comparer ends only after `close`: a send cannot fail before.
            let _ = events.send(event);
        }
    }

    /// No more events.
    pub fn close(&self) {
        lock(&self.events).take();
    }
}

/// The next step of a chunk.
enum Next {
    Export {
        attempt: u32,
    },
    Import {
        attempt: u32,
        location: String,
        exported: u64,
    },
    Verify {
        attempt: u32,
        location: String,
        exported: u64,
        imported: u64,
    },
}

impl Ctx<'_> {
    fn record(&self, key: &ChunkKey, attempt: u32, step: Step, location: &str, rows: Option<u64>) {
        let mut ledger = lock(&self.ledger);
        let Some(ledger) = ledger.as_mut() else {
            return;
        };
        let entry = Entry {
            to: self.nodes.to.url().to_string(),
            tenant: key.0.clone(),
            database: key.1.clone(),
            table: key.2.clone(),
            chunk: key.3.clone(),
            attempt,
            step,
            location: location.to_string(),
            rows,
            at: (step == Step::Planned).then(super::now_ns),
        };
        if let Err(e) = ledger.append(&entry) {
            keep_first(&self.ledger_error, e);
        }
    }

    /// Where the ledger says the chunk stands: `None` when it is verified.
    fn resume(&self, key: &ChunkKey, outcome: &mut ChunkOutcome) -> Option<Next> {
        let ledger = lock(&self.ledger);
        let Some(p) = ledger.as_ref().and_then(|l| l.progress(key)) else {
            return Some(Next::Export { attempt: 1 });
        };
        outcome.attempt = p.attempt;
        outcome.exported = p.exported;
        outcome.imported = p.imported;
        let (attempt, location) = (p.attempt, p.location.clone());
        match (p.step, p.exported, p.imported) {
            (Step::Verified, ..) => {
                outcome.counted = p.verified;
                None
            }
            (Step::Imported, Some(exported), Some(imported)) => Some(Next::Verify {
                attempt,
                location,
                exported,
                imported,
            }),
            (Step::Exported | Step::Imported, Some(exported), _) => Some(Next::Import {
                attempt,
                location,
                exported,
            }),
            _ => Some(Next::Export {
                attempt: attempt + 1,
            }),
        }
    }
}

/// What one step leads to.
enum Flow<'n> {
    /// Go on with this step.
    Go(Next),
    /// Finished with this status.
    End(ChunkStatus),
    /// A statement failed; `then` is the step to retry.
    Failed {
        node: &'n SqlNode,
        sql: String,
        error: SqlError,
        then: Next,
    },
    /// The three counts disagree.
    Disagree(String, Next),
}

/// One chunk and where it is copied.
struct Job<'a> {
    /// The table's index in the plan.
    t: usize,
    table: &'a TablePlan,
    chunk: Chunk,
    key: ChunkKey,
}

/// A chunk left for the next run: the copy was stopped before it.
pub(super) fn stopped(t: usize, planned: &PlannedChunk) -> ChunkOutcome {
    ChunkOutcome {
        table: t,
        chunk: planned.chunk,
        exported: None,
        imported: None,
        counted: None,
        found: None,
        attempt: 0,
        status: ChunkStatus::Stopped,
        error: None,
        statement: None,
        elapsed: Duration::ZERO,
    }
}

/// Copies one chunk of `table` (index `t` of the plan), and tells the tally.
pub(super) fn copy_chunk(
    ctx: &Ctx<'_>,
    t: usize,
    table: &TablePlan,
    planned: &PlannedChunk,
) -> ChunkOutcome {
    let mut exported = false;
    let out = chunk_steps(ctx, t, table, planned, &mut exported);
    if out.status.ok() && !exported {
        ctx.tables.exported(t);
    }
    // An empty or expired chunk brought no row: it adds nothing to the new node's side.
    let counted = match out.status {
        ChunkStatus::Copied => out.found,
        ChunkStatus::Empty | ChunkStatus::Expired => Some(Extent::default()),
        _ => None,
    };
    ctx.tables.finished(t, out.status.ok(), counted);
    out
}

/// [`copy_chunk`]'s steps; `exported` is set once the tally was told of the export.
fn chunk_steps(
    ctx: &Ctx<'_>,
    t: usize,
    table: &TablePlan,
    planned: &PlannedChunk,
    exported: &mut bool,
) -> ChunkOutcome {
    let started = Instant::now();
    let info = &table.info;
    let job = Job {
        t,
        table,
        chunk: planned.chunk,
        key: (
            info.tenant.clone(),
            info.database.clone(),
            info.table.clone(),
            planned.name.clone(),
        ),
    };
    let mut out = ChunkOutcome {
        status: ChunkStatus::Failed,
        ..stopped(t, planned)
    };
    if planned.expired && !ctx.config.include_expired {
        out.status = ChunkStatus::Expired;
        return out;
    }
    let Some(next) = ctx.resume(&job.key, &mut out) else {
        out.status = ChunkStatus::Done;
        return out;
    };
    if lock(&ctx.failed_tables)[t] {
        out.error = Some(format!(
            "table {}, chunk {}: not copied, an earlier chunk of the table failed",
            info.qualified(),
            job.key.3
        ));
        return out;
    }
    run_steps(ctx, &job, next, &mut out, exported);
    out.elapsed = started.elapsed();
    out
}

/// Runs the steps from `next` on until the chunk is finished; tells the tally once its rows
/// are staged.
fn run_steps(
    ctx: &Ctx<'_>,
    job: &Job<'_>,
    mut next: Next,
    out: &mut ChunkOutcome,
    exported: &mut bool,
) {
    let (mut retries, mut recopied) = (0u32, false);
    loop {
        if !*exported && !matches!(next, Next::Export { .. }) {
            *exported = true;
            ctx.tables.exported(job.t);
        }
        if lock(&ctx.ledger_error).is_some() {
            out.status = ChunkStatus::Failed;
            return;
        }
        if ctx.config.stop.load(Ordering::SeqCst) {
            out.status = ChunkStatus::Stopped;
            return;
        }
        next = match step(ctx, job, next, out) {
            Flow::Go(n) => {
                retries = 0;
                n
            }
            Flow::End(status) => {
                out.status = status;
                return;
            }
            Flow::Disagree(why, then) if !recopied => {
                recopied = true;
                ctx.observer.retrying(job.table, &job.chunk, &why);
                then
            }
            Flow::Disagree(why, _) => {
                out.status = ChunkStatus::Mismatch;
                out.error = Some(why);
                return;
            }
            Flow::Failed {
                node,
                sql,
                error,
                then,
            } => {
                let message = ctx.config.shown(&failure(job, node, &sql, &error));
                if !error.is_transient() || retries >= ctx.config.retries {
                    out.status = ChunkStatus::Failed;
                    out.error = Some(message);
                    out.statement = Some(sql);
                    return;
                }
                ctx.observer.retrying(job.table, &job.chunk, &message);
                std::thread::sleep(ctx.config.backoff.saturating_mul(1 << retries.min(10)));
                retries += 1;
                then
            }
        };
    }
}

/// Runs one step.
fn step<'n>(ctx: &Ctx<'n>, job: &Job<'_>, next: Next, out: &mut ChunkOutcome) -> Flow<'n> {
    match next {
        Next::Export { attempt } => {
            out.attempt = attempt;
            export(ctx, job, attempt, out)
        }
        Next::Import {
            attempt,
            location,
            exported,
        } => import(ctx, job, attempt, location, exported, out),
        Next::Verify {
            attempt,
            location,
            exported,
            imported,
        } => verify(ctx, job, (attempt, location), (exported, imported), out),
    }
}

fn export<'n>(ctx: &Ctx<'n>, job: &Job<'_>, attempt: u32, out: &mut ChunkOutcome) -> Flow<'n> {
    let info = &job.table.info;
    // A fresh location per attempt: a retried export never adds to an earlier one's files.
    let location = super::staging_location(&job.table.url, &job.key.3, attempt, ctx.run);
    ctx.record(&job.key, attempt, Step::Planned, &location, None);
    let conn = ctx.config.connection.as_ref();
    let sql = export_chunk_statement(&location, info, &job.chunk, ctx.config.format, conn);
    let from = ctx.nodes.from;
    let answer = {
        let _slot = ctx.slots.0.take();
        from.copy_rows(&info.tenant, &info.database, &sql)
    };
    match answer {
        Ok(0) => {
            out.exported = Some(0);
            ctx.record(&job.key, attempt, Step::Exported, &location, Some(0));
            ctx.record(&job.key, attempt, Step::Verified, &location, Some(0));
            Flow::End(ChunkStatus::Empty)
        }
        Ok(exported) => {
            out.exported = Some(exported);
            ctx.record(&job.key, attempt, Step::Exported, &location, Some(exported));
            Flow::Go(Next::Import {
                attempt,
                location,
                exported,
            })
        }
        Err(error) => Flow::Failed {
            node: from,
            sql: ctx.config.shown(&sql),
            error,
            then: Next::Export {
                attempt: attempt + 1,
            },
        },
    }
}

fn import<'n>(
    ctx: &Ctx<'n>,
    job: &Job<'_>,
    attempt: u32,
    location: String,
    exported: u64,
    out: &mut ChunkOutcome,
) -> Flow<'n> {
    let info = &job.table.info;
    let conn = ctx.config.connection.as_ref();
    let sql = import_statement(&location, info, ctx.config.format, conn);
    let to = ctx.nodes.to;
    let answer = {
        let _slot = ctx.slots.1.take();
        to.copy_rows(&info.tenant, &info.database, &sql)
    };
    match answer {
        Ok(imported) => {
            out.imported = Some(imported);
            ctx.record(&job.key, attempt, Step::Imported, &location, Some(imported));
            Flow::Go(Next::Verify {
                attempt,
                location,
                exported,
                imported,
            })
        }
        Err(error) => Flow::Failed {
            node: to,
            sql: ctx.config.shown(&sql),
            error,
            then: Next::Import {
                attempt,
                location,
                exported,
            },
        },
    }
}

fn verify<'n>(
    ctx: &Ctx<'n>,
    job: &Job<'_>,
    (attempt, location): (u32, String),
    (exported, imported): (u64, u64),
    out: &mut ChunkOutcome,
) -> Flow<'n> {
    let info = &job.table.info;
    let to = ctx.nodes.to;
    let answer = {
        let _slot = ctx.slots.1.take();
        query_extent(to, info, &job.chunk)
    };
    match answer.map(|found| (found, found.rows)) {
        // More rows than copied: the new node holds rows of its own in the range (written
        // there, not copied); fewer: rows were lost.
        Ok((found, counted)) if exported == imported && counted >= imported => {
            out.counted = Some(counted);
            out.found = Some(found);
            ctx.record(&job.key, attempt, Step::Verified, &location, Some(counted));
            Flow::End(ChunkStatus::Copied)
        }
        Ok((_, counted)) => {
            out.counted = Some(counted);
            let why = format!(
                "table {}, chunk {}: exported {exported} rows from {}, imported {imported} \
                 into {}, which counts {counted} in the chunk's time range (at least \
                 {exported} expected)",
                info.qualified(),
                job.key.3,
                ctx.nodes.from.url(),
                to.url()
            );
            Flow::Disagree(
                why,
                Next::Export {
                    attempt: attempt + 1,
                },
            )
        }
        Err(error) => Flow::Failed {
            node: to,
            sql: extent_statement(info, &job.chunk),
            error,
            then: Next::Verify {
                attempt,
                location,
                exported,
                imported,
            },
        },
    }
}

fn failure(job: &Job<'_>, node: &SqlNode, sql: &str, e: &SqlError) -> String {
    let step = if sql.starts_with("SELECT") {
        "count"
    } else if sql.starts_with("COPY INTO '") {
        "export"
    } else {
        "import"
    };
    let t = &job.table.info;
    format!(
        "table {}, chunk {}: {step} on {} failed: {e}; statement: {sql}",
        t.qualified(),
        job.key.3,
        node.endpoint(&t.tenant, &t.database),
    )
}
