//! What `copy` shows: the progress bar and messages while it runs, the dry-run plan, the final
//! table and the JSON Lines report.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::ProgressBar;
use serde::Serialize;

use super::progress;
use super::tables::text_table;
use cnosdb_migrate::copy::compare::TableComparison;
use cnosdb_migrate::copy::ledger::{ChunkKey, Progress, Step};
use cnosdb_migrate::copy::{run_token, staging_location};
use cnosdb_migrate::copy::{
    ChunkOutcome, ChunkStatus, CopyOutcome, Observer, PlannedChunk, TablePlan,
};
use cnosdb_migrate::error::{Error, Result};
use cnosdb_migrate::output::Output;
use cnosdb_migrate::remote::sql::SqlNode;
use cnosdb_migrate::tables::chunks::Chunk;
use cnosdb_migrate::tables::printable;
use cnosdb_migrate::tables::s3::S3Connection;
use cnosdb_migrate::tables::sql::{
    export_chunk_statement, extent_statement, import_statement, FileFormat,
};

/// Progress on stderr (a bar over chunks, rows in the message; hidden when not a terminal),
/// or a progress line per chunk for `upgrade` to read; and each failure or retry as it
/// happens.
pub struct Watch {
    bar: ProgressBar,
    /// Write a progress line per chunk.
    lines: bool,
    chunks: u64,
    done: AtomicU64,
    exported: AtomicU64,
    imported: AtomicU64,
}

impl Watch {
    /// A bar over `chunks` chunks, unless `quiet` or stderr is not a terminal; with `lines`,
    /// progress lines instead.
    pub fn new(chunks: usize, quiet: bool, lines: bool) -> Watch {
        let bar = progress::bar(
            quiet || lines,
            Some(chunks as u64),
            "{elapsed_precise} [{bar:20}] {pos}/{len} chunks, {msg}",
        );
        bar.set_message("rows 0 out, 0 in");
        Watch {
            bar,
            lines,
            chunks: chunks as u64,
            done: AtomicU64::new(0),
            exported: AtomicU64::new(0),
            imported: AtomicU64::new(0),
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Observer for Watch {
    fn chunk_done(&self, table: &TablePlan, o: &ChunkOutcome) {
        if o.status != ChunkStatus::Done {
            let e = self
                .exported
                .fetch_add(o.exported.unwrap_or(0), Ordering::Relaxed);
            let i = self
                .imported
                .fetch_add(o.imported.unwrap_or(0), Ordering::Relaxed);
            let (e, i) = (e + o.exported.unwrap_or(0), i + o.imported.unwrap_or(0));
            self.bar.set_message(format!("rows {e} out, {i} in"));
        }
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if self.lines {
            let (e, i) = (
                self.exported.load(Ordering::Relaxed),
                self.imported.load(Ordering::Relaxed),
            );
            let what = format!("chunks, rows {e} out, {i} in");
            say!("{}", progress::line(done, self.chunks, &what));
        }
        if let (Some(c), Some(i)) = (o.counted, o.imported) {
            if o.status == ChunkStatus::Copied && c > i {
                let t = &table.info;
                self.bar.suspend(|| {
                    say!(
                        "cnosdb-migrate: warning: table {}, chunk {}: the new node counts {c} \
                         rows in the range, {} more than copied: rows written there, not copied",
                        t.qualified(),
                        o.chunk.id(),
                        c - i
                    )
                });
            }
        }
        if let Some(error) = &o.error {
            self.bar.suspend(|| say!("cnosdb-migrate: {error}"));
        }
        self.bar.inc(1);
    }

    fn retrying(&self, _table: &TablePlan, _chunk: &Chunk, error: &str) {
        self.bar
            .suspend(|| say!("cnosdb-migrate: {error}; trying again"));
    }
}

fn key(t: &TablePlan, c: &PlannedChunk) -> ChunkKey {
    let i = &t.info;
    (
        i.tenant.clone(),
        i.database.clone(),
        i.table.clone(),
        c.name.clone(),
    )
}

/// Prints each table's chunks, what the ledger says of them and the statements a run sends
/// (an object store's secrets masked).
pub fn print_dry_run(
    plan: &[TablePlan],
    ledger: &HashMap<ChunkKey, Progress>,
    (from, to): (&SqlNode, &SqlNode),
    format: FileFormat,
    conn: Option<&S3Connection>,
) -> Result<()> {
    let masked = conn.map(S3Connection::masked);
    let conn = masked.as_ref();
    // The locations of a run started now (each run has its own).
    let run = run_token();
    let mut text = String::new();
    for t in plan {
        let i = &t.info;
        text.push_str(&format!(
            "-- table {}: {} chunks\n",
            i.qualified(),
            t.chunks.len()
        ));
        for c in &t.chunks {
            let range = c.chunk.predicate().unwrap_or_else(|| "every time".into());
            let estimate = c
                .estimate
                .map_or_else(String::new, |n| format!(", about {n} rows"));
            text.push_str(&format!("-- chunk {} ({range}{estimate})\n", c.name));
            if c.expired {
                text.push_str("-- older than the database's TTL: skipped\n");
                continue;
            }
            let progress = ledger.get(&key(t, c));
            let location = match progress {
                Some(p) if p.step == Step::Verified => {
                    text.push_str("-- verified according to the ledger: skipped\n");
                    continue;
                }
                Some(p) if p.step >= Step::Exported => {
                    text.push_str(&format!(
                        "-- exported before ({} rows) according to the ledger: import only\n",
                        p.exported.unwrap_or(0)
                    ));
                    p.location.clone()
                }
                p => {
                    let attempt = p.map_or(1, |p| p.attempt + 1);
                    let location = staging_location(&t.url, &c.name, attempt, run);
                    text.push_str(&format!(
                        "-- POST {}\n{}\n",
                        from.endpoint(&i.tenant, &i.database),
                        export_chunk_statement(&location, i, &c.chunk, format, conn)
                    ));
                    location
                }
            };
            let endpoint = to.endpoint(&i.tenant, &i.database);
            text.push_str(&format!(
                "-- POST {endpoint}\n{}\n-- POST {endpoint}\n{};\n",
                import_statement(&location, i, format, conn),
                extent_statement(i, &c.chunk)
            ));
        }
    }
    let mut out = Output::open(None, false, true)?;
    out.write_all(text.as_bytes())
        .map_err(|e| Error::io("writing to stdout", e))?;
    out.commit()
}

/// One table's line of the report.
#[derive(Serialize)]
struct TableLine<'a> {
    tenant: &'a str,
    database: &'a str,
    table: &'a str,
    exported: u64,
    imported: u64,
    status: &'static str,
    seconds: f64,
    chunks: Vec<ChunkLine<'a>>,
    /// The table compared on both nodes after its chunks.
    #[serde(skip_serializing_if = "Option::is_none")]
    compared: Option<&'a TableComparison>,
}

#[derive(Serialize)]
struct ChunkLine<'a> {
    chunk: String,
    start: Option<i64>,
    end: Option<i64>,
    exported: Option<u64>,
    imported: Option<u64>,
    counted: Option<u64>,
    attempt: u32,
    status: &'static str,
    seconds: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    statement: Option<&'a str>,
}

/// A table's status: the worst of its chunks'.
fn table_status(chunks: &[&ChunkOutcome]) -> ChunkStatus {
    use ChunkStatus::*;
    let any = |s: ChunkStatus| chunks.iter().any(|c| c.status == s);
    [Failed, Mismatch, Stopped, Copied, Done, Empty, Expired]
        .into_iter()
        .find(|&s| any(s))
        .unwrap_or(Empty)
}

fn lines<'a>(
    plan: &'a [TablePlan],
    outcome: &'a CopyOutcome,
    compared: &'a [TableComparison],
) -> Vec<TableLine<'a>> {
    plan.iter()
        .enumerate()
        .map(|(n, t)| {
            let chunks: Vec<&ChunkOutcome> =
                outcome.chunks.iter().filter(|c| c.table == n).collect();
            TableLine {
                tenant: &t.info.tenant,
                database: &t.info.database,
                table: &t.info.table,
                exported: chunks.iter().filter_map(|c| c.exported).sum(),
                imported: chunks.iter().filter_map(|c| c.imported).sum(),
                status: table_status(&chunks).name(),
                compared: compared.iter().find(|c| c.table == n),
                seconds: chunks.iter().map(|c| c.elapsed.as_secs_f64()).sum(),
                chunks: chunks
                    .iter()
                    .map(|c| ChunkLine {
                        chunk: c.chunk.id(),
                        start: c.chunk.start,
                        end: c.chunk.end,
                        exported: c.exported,
                        imported: c.imported,
                        counted: c.counted,
                        attempt: c.attempt,
                        status: c.status.name(),
                        seconds: c.elapsed.as_secs_f64(),
                        error: c.error.as_deref(),
                        statement: c.statement.as_deref(),
                    })
                    .collect(),
            }
        })
        .collect()
}

/// Writes one JSON line per table, its chunks and its comparison inside, to `path`
/// (replaced; `-`: stdout).
pub fn write_report(
    path: &Path,
    plan: &[TablePlan],
    outcome: &CopyOutcome,
    compared: &[TableComparison],
) -> Result<()> {
    let mut out = Output::open(Some(path), true, false)?;
    lines(plan, outcome, compared)
        .iter()
        .try_for_each(|l| {
            serde_json::to_writer(&mut out, l)?;
            out.write_all(b"\n")
        })
        .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
    out.commit()
}

/// Prints the final table: one row per table (chunks done of all), then the totals; the
/// time each chunk took is in the report.
pub fn print_summary(
    plan: &[TablePlan],
    outcome: &CopyOutcome,
    definitions_only: usize,
) -> Result<()> {
    let lines = lines(plan, outcome, &[]);
    let rows: Vec<Vec<String>> = lines
        .iter()
        .map(|l| {
            let n = |s: ChunkStatus| l.chunks.iter().filter(|c| c.status == s.name()).count();
            vec![
                printable(l.tenant).into_owned(),
                printable(l.database).into_owned(),
                printable(l.table).into_owned(),
                format!(
                    "{}/{}",
                    n(ChunkStatus::Copied) + n(ChunkStatus::Done) + n(ChunkStatus::Empty),
                    l.chunks.len()
                ),
                l.exported.to_string(),
                l.imported.to_string(),
                l.status.to_string(),
            ]
        })
        .collect();
    let mut text = text_table(
        &[
            "TENANT", "DATABASE", "TABLE", "CHUNKS", "EXPORTED", "IMPORTED", "STATUS",
        ],
        &[false, false, false, true, true, true, false],
        &rows,
    );
    let n = |s: &str| lines.iter().filter(|l| l.status == s).count();
    text.push_str(&format!(
        "{} tables: {} copied, {} empty, {} done before, {} expired, {} mismatched, {} failed{}; \
         rows exported {}, imported {}\n",
        lines.len(),
        n("copied"),
        n("empty"),
        n("done"),
        n("expired"),
        n("mismatch"),
        n("failed"),
        match n("stopped") {
            0 => String::new(),
            k => format!(", {k} stopped"),
        },
        lines.iter().map(|l| l.exported).sum::<u64>(),
        lines.iter().map(|l| l.imported).sum::<u64>(),
    ));
    if definitions_only > 0 {
        text.push_str(&format!(
            "{definitions_only} external/stream tables have no rows to copy (definitions only)\n"
        ));
    }
    let mut out = Output::open(None, false, true)?;
    out.write_all(text.as_bytes())
        .map_err(|e| Error::io("writing to stdout", e))?;
    out.commit()
}
