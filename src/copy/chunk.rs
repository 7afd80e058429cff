//! One chunk through its steps ([`super::steps`]): resumed where the ledger says it stands,
//! transient failures retried with backoff, a disagreement re-copied once.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::compare::Extent;
use super::ledger::{ChunkKey, Step};
use super::steps::{failure, step, Ctx, Flow, Job, Next};
use super::{lock, ChunkOutcome, ChunkStatus, PlannedChunk, TablePlan};

impl Ctx<'_> {
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
