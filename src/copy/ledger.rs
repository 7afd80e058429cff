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
mod tests {
    use super::*;

    fn entry(attempt: u32, step: Step, rows: Option<u64>) -> Entry {
        Entry {
            to: "http://n".into(),
            tenant: "t".into(),
            database: "d".into(),
            table: "x".into(),
            chunk: "0_10".into(),
            attempt,
            step,
            location: format!("file:///s/0_10-{attempt}"),
            rows,
            at: (step == Step::Planned).then_some(100 + i64::from(attempt)),
        }
    }

    #[test]
    fn a_later_attempt_replaces_an_earlier_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger");
        let mut l = Ledger::open(&path, "http://n").unwrap();
        l.append(&entry(1, Step::Planned, None)).unwrap();
        l.append(&entry(1, Step::Exported, Some(5))).unwrap();
        l.append(&entry(2, Step::Planned, None)).unwrap();
        drop(l);
        // A cut last line and a record for another node are ignored.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        let mut other = entry(9, Step::Verified, Some(1));
        other.to = "http://other".into();
        writeln!(f, "{}", serde_json::to_string(&other).unwrap()).unwrap();
        write!(f, "{{\"to\":\"http://n\",\"ten").unwrap();
        drop(f);
        let l = Ledger::open(&path, "http://n").unwrap();
        let p = l.progress(&entry(1, Step::Planned, None).key()).unwrap();
        assert_eq!((p.attempt, p.step, p.exported), (2, Step::Planned, None));
        assert_eq!(p.planned_at, Some(102));
        assert_eq!(p.location, "file:///s/0_10-2");
        assert!(std::fs::read_to_string(&path).unwrap().ends_with("}\n"));
    }

    #[test]
    fn passes_are_kept_beside_the_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger");
        let info = crate::tables::TableInfo {
            tenant: "t".into(),
            database: "d".into(),
            table: "x".into(),
            engine: crate::tables::Engine::Tskv,
            tags: Some(1),
            fields: 1,
            system: false,
            line: 1,
        };
        let plan = [super::super::TablePlan {
            info,
            url: "file:///s".into(),
            chunks: vec![super::super::PlannedChunk {
                name: "0_10".into(),
                chunk: crate::tables::chunks::Chunk {
                    start: Some(0),
                    end: None,
                },
                estimate: None,
                expired: false,
            }],
        }];
        let mut l = Ledger::open(&path, "http://n").unwrap();
        // No open-ended chunk recorded with its time yet: no pass.
        assert_eq!(l.finish_pass(&plan, None).unwrap(), None);
        l.append(&entry(1, Step::Planned, None)).unwrap();
        l.append(&entry(1, Step::Verified, Some(5))).unwrap();
        assert_eq!(l.finish_pass(&plan, Some(3)).unwrap(), Some(101));
        // A pass recorded for another node is not this node's.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        writeln!(
            f,
            r#"{{"to":"http://other","since":null,"watermark":9,"chunks":1}}"#
        )
        .unwrap();
        drop((f, l));
        let l = Ledger::open(&path, "http://n").unwrap();
        let pass = PassEntry {
            to: "http://n".into(),
            since: Some(3),
            watermark: 101,
            chunks: 1,
        };
        assert_eq!(l.passes(), [pass]);
        assert!(l.progress(&entry(1, Step::Planned, None).key()).is_some());
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(r#"{"to":"http://n","since":3,"watermark":101,"chunks":1}"#));
    }

    #[test]
    fn a_table_level_state_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state");
        std::fs::write(
            &path,
            "{\"tenant\":\"t\",\"database\":\"d\",\"table\":\"x\",\"exported\":1,\"imported\":1,\"status\":\"copied\",\"to\":\"http://n\"}\n",
        )
        .unwrap();
        let e = Ledger::open(&path, "http://n").err().unwrap().to_string();
        assert!(e.contains("table-level state file"), "{e}");
    }
}
