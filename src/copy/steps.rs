//! The steps of one chunk: what the workers share, the three statements (export into a
//! fresh staging location, import, count on the new node) and what each answer leads to.

use std::sync::Mutex;

use super::compare::query_extent;
use super::ledger::{ChunkKey, Entry, Ledger, Step};
use super::slots::Slots;
use super::tally::TableTally;
use super::TablePlan;
use super::{keep_first, lock, ChunkOutcome, ChunkStatus, CopyConfig, Nodes, Observer};
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

impl Ctx<'_> {
    pub(super) fn record(
        &self,
        key: &ChunkKey,
        attempt: u32,
        step: Step,
        location: &str,
        rows: Option<u64>,
    ) {
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
}

/// The next step of a chunk.
pub(super) enum Next {
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

/// What one step leads to.
pub(super) enum Flow<'n> {
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
pub(super) struct Job<'a> {
    /// The table's index in the plan.
    pub t: usize,
    pub table: &'a TablePlan,
    pub chunk: Chunk,
    pub key: ChunkKey,
}

/// Runs one step.
pub(super) fn step<'n>(
    ctx: &Ctx<'n>,
    job: &Job<'_>,
    next: Next,
    out: &mut ChunkOutcome,
) -> Flow<'n> {
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

pub(super) fn failure(job: &Job<'_>, node: &SqlNode, sql: &str, e: &SqlError) -> String {
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
