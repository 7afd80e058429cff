//! The copy's ledger: one JSON line per step of each chunk attempt (planned, exported,
//! imported, verified), synced after each, so that a rerun continues where a run stopped;
//! and one line per finished pass, with the watermark it reached ([`PassEntry`]).

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, InputError, Result};

/// A step of one chunk attempt, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    /// The attempt is about to export into its own staging location.
    Planned,
    /// The export answered `rows`.
    Exported,
    /// The import answered `rows`.
    Imported,
    /// The destination counted `rows` in the chunk's range, equal to both answers.
    Verified,
}

/// `(tenant, database, table, chunk id)`.
pub type ChunkKey = (String, String, String, String);

/// One ledger line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The destination node: records for another one are ignored.
    pub to: String,
    /// Tenant.
    pub tenant: String,
    /// Database.
    pub database: String,
    /// Table.
    pub table: String,
    /// The chunk's id ([`crate::tables::chunks::Chunk::id`]).
    pub chunk: String,
    /// Attempt number, from 1; each attempt has its own staging location.
    pub attempt: u32,
    /// What was done.
    pub step: Step,
    /// The attempt's staging location (without a trailing `/`).
    pub location: String,
    /// Rows the step answered (none for `planned`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
    /// When the step was recorded (ns since the epoch; written for `planned`, just before the
    /// export is sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<i64>,
}

/// A pass of the copy whose every chunk is verified: rows written before `watermark` are on
/// the destination (those at or after `since`, for a `since` pass).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassEntry {
    /// The destination node.
    pub to: String,
    /// The pass's start time (ns since the epoch); `None`: every time.
    pub since: Option<i64>,
    /// When the export of the pass's earliest open-ended chunk was sent (ns since the epoch):
    /// every row written before it was copied. The next pass's `since`.
    pub watermark: i64,
    /// Chunks in the pass.
    pub chunks: u64,
}

impl Entry {
    /// The chunk this line is about.
    pub fn key(&self) -> ChunkKey {
        (
            self.tenant.clone(),
            self.database.clone(),
            self.table.clone(),
            self.chunk.clone(),
        )
    }
}

/// Where a chunk stands according to the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// The latest attempt.
    pub attempt: u32,
    /// Its last step.
    pub step: Step,
    /// Its staging location.
    pub location: String,
    /// Rows the export answered.
    pub exported: Option<u64>,
    /// Rows the import answered.
    pub imported: Option<u64>,
    /// Rows the destination counted.
    pub verified: Option<u64>,
    /// When the attempt's export was sent (ns since the epoch), when the ledger says.
    pub planned_at: Option<i64>,
}

/// The ledger file, opened for appending; what it held is in [`Ledger::progress`].
pub struct Ledger {
    file: File,
    path: PathBuf,
    to: String,
    progress: HashMap<ChunkKey, Progress>,
    passes: Vec<PassEntry>,
}

impl Ledger {
    /// Opens (or creates) the ledger at `path` and reads the records for node `to`. A last
    /// line cut short by a crash is dropped; a table-level state file of an earlier release
    /// is refused.
    pub fn open(path: &Path, to: &str) -> Result<Ledger> {
        let (progress, passes) = load(path, to)?;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
        let text =
            std::fs::read(path).map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        let keep = memchr::memrchr(b'\n', &text).map_or(0, |i| i + 1);
        if keep < text.len() {
            file.set_len(keep as u64)
                .map_err(|e| Error::io(format!("repairing {}", path.display()), e))?;
        }
        Ok(Ledger {
            file,
            path: path.to_path_buf(),
            to: to.to_string(),
            progress,
            passes,
        })
    }

    /// The destination node whose records it holds.
    pub fn to(&self) -> &str {
        &self.to
    }

    /// The finished passes, oldest first.
    pub fn passes(&self) -> &[PassEntry] {
        &self.passes
    }

    /// Where each chunk stood when the ledger was opened, updated by [`Ledger::append`].
    pub fn progress(&self, key: &ChunkKey) -> Option<&Progress> {
        self.progress.get(key)
    }

    /// Appends one line and syncs it to disk.
    pub fn append(&mut self, entry: &Entry) -> Result<()> {
        self.write(entry)?;
        apply(&mut self.progress, entry);
        Ok(())
    }

    /// Records a finished pass over `plan` from `since` (its line synced to disk) and returns
    /// its watermark, the next pass's start; `None` (nothing written) while a table's
    /// open-ended chunk is not recorded with its time.
    pub fn finish_pass(
        &mut self,
        plan: &[super::TablePlan],
        since: Option<i64>,
    ) -> Result<Option<i64>> {
        let Some(watermark) = watermark(plan, self) else {
            return Ok(None);
        };
        let pass = PassEntry {
            to: self.to().to_string(),
            since,
            watermark,
            chunks: plan.iter().map(|t| t.chunks.len() as u64).sum(),
        };
        self.write(&pass)?;
        self.passes.push(pass);
        Ok(Some(watermark))
    }

    fn write(&mut self, value: &impl Serialize) -> Result<()> {
        let mut line = serde_json::to_vec(value)
            .map_err(|e| Error::io(format!("writing {}", self.path.display()), e.into()))?;
        line.push(b'\n');
        self.file
            .write_all(&line)
            .and_then(|()| self.file.sync_data())
            .map_err(|e| Error::io(format!("writing {}", self.path.display()), e))
    }
}

/// The watermark a pass over `plan` reached by the ledger: the earliest time the export of a
/// table's open-ended last chunk was sent. `None` when a table has no such chunk recorded
/// with its time (every chunk must be verified first).
fn watermark(plan: &[super::TablePlan], ledger: &Ledger) -> Option<i64> {
    let mut earliest: Option<i64> = None;
    for t in plan {
        let open = t.chunks.iter().find(|c| c.chunk.end.is_none())?;
        let i = &t.info;
        let key = (
            i.tenant.clone(),
            i.database.clone(),
            i.table.clone(),
            open.name.clone(),
        );
        let at = ledger.progress(&key)?.planned_at?;
        earliest = Some(earliest.map_or(at, |e| e.min(at)));
    }
    earliest
}

fn apply(progress: &mut HashMap<ChunkKey, Progress>, e: &Entry) {
    let fresh = Progress {
        attempt: e.attempt,
        step: e.step,
        location: e.location.clone(),
        exported: None,
        imported: None,
        verified: None,
        planned_at: None,
    };
    let p = progress.entry(e.key()).or_insert_with(|| fresh.clone());
    if e.attempt > p.attempt {
        *p = fresh;
    } else if e.attempt < p.attempt {
        return;
    }
    p.step = p.step.max(e.step);
    match e.step {
        Step::Planned => p.planned_at = e.at,
        Step::Exported => p.exported = e.rows,
        Step::Imported => p.imported = e.rows,
        Step::Verified => p.verified = e.rows,
    }
}

/// Where each chunk stands according to the ledger at `path` (records for node `to`), read
/// without changing the file; no file is an empty ledger.
pub fn read(path: &Path, to: &str) -> Result<HashMap<ChunkKey, Progress>> {
    Ok(load(path, to)?.0)
}

/// The chunks' progress and the finished passes of the ledger at `path` for node `to`.
fn load(path: &Path, to: &str) -> Result<(HashMap<ChunkKey, Progress>, Vec<PassEntry>)> {
    let (mut progress, mut passes) = (HashMap::new(), Vec::new());
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((progress, passes)),
        Err(e) => return Err(Error::io(format!("opening {}", path.display()), e)),
    };
    let mut lines = BufReader::new(file).lines().peekable();
    let mut n = 0u64;
    while let Some(line) = lines.next() {
        n += 1;
        let line = line.map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        if line.trim().is_empty() {
            continue;
        }
        if let Ok(pass) = serde_json::from_str::<PassEntry>(&line) {
            if pass.to == to {
                passes.push(pass);
            }
            continue;
        }
        match serde_json::from_str::<Entry>(&line) {
            Ok(e) if e.to == to => apply(&mut progress, &e),
            Ok(_) => {}
            // A crash can cut the last line short: it records nothing.
            Err(_) if lines.peek().is_none() && !line.ends_with('}') => {}
            Err(e) => return Err(InputError::at(n, not_a_record(path, &line, &e)).into()),
        }
    }
    Ok((progress, passes))
}

fn not_a_record(path: &Path, line: &str, e: &serde_json::Error) -> String {
    let table_level = serde_json::from_str::<serde_json::Value>(line)
        .is_ok_and(|v| v.get("status").is_some() && v.get("step").is_none());
    if table_level {
        format!(
            "{}: a table-level state file of an earlier cnosdb-migrate; this release keeps a \
             ledger of time chunks: finish that copy with the earlier release, or use a new \
             ledger file (tables are then copied again, into new staging directories; rows \
             already imported are merged, not duplicated)",
            path.display()
        )
    } else {
        format!(
            "{}: not a ledger record ({e}); it is written by the copy, remove the line or the \
             file to copy those chunks again",
            path.display()
        )
    }
}

#[cfg(test)]
#[path = "ledger_tests.rs"]
mod tests;
