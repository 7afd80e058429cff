//! The work directory of `upgrade`: its artifacts, the logs of its steps, and the journal
//! of the steps done (JSON Lines, synced after each line).

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::UpgradeArgs;
use crate::commands::progress;
use cnosdb_migrate::error::{Error, Result};

/// One line of the journal.
#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Entry {
    /// The first line: the arguments the journal was started with.
    Started { arguments: BTreeMap<String, String> },
    /// A step that finished, with its duration.
    Done { step: String, seconds: f64 },
}

/// The work directory: artifacts, step logs and the journal.
#[derive(Debug)]
pub struct Workdir {
    dir: PathBuf,
}

impl Workdir {
    /// Creates the directory (0700) or opens it; a journal started with other arguments is
    /// refused, naming the differences.
    pub fn open(args: &UpgradeArgs) -> Result<Workdir> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&args.workdir)
            .map_err(|e| Error::io(format!("creating {}", args.workdir.display()), e))?;
        let work = Workdir {
            dir: args.workdir.clone(),
        };
        let wanted = arguments(args);
        match work.entries()?.first() {
            None => work.append(&Entry::Started { arguments: wanted })?,
            Some(Entry::Started { arguments }) if *arguments == wanted => {}
            Some(Entry::Started { arguments }) => {
                let diff: Vec<String> = wanted
                    .iter()
                    .filter(|(k, v)| arguments.get(*k) != Some(v))
                    .map(|(k, v)| {
                        format!(
                            "{k}: journal {:?}, now {v:?}",
                            arguments.get(k).map_or("", |s| s)
                        )
                    })
                    .collect();
                return Err(Error::Usage(format!(
                    "{} was started with other arguments ({}); rerun with the same arguments, or \
                     use another --workdir",
                    work.journal().display(),
                    diff.join("; ")
                )));
            }
            Some(_) => {
                return Err(Error::Usage(format!(
                    "{} does not start with its arguments: not an upgrade journal",
                    work.journal().display()
                )))
            }
        }
        Ok(work)
    }

    /// True once a restore was started (its log exists): the cluster may hold part of it.
    pub fn restore_attempted(&self) -> bool {
        self.path("restore.log").exists()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub fn journal(&self) -> PathBuf {
        self.path("journal.jsonl")
    }

    pub fn entries(&self) -> Result<Vec<Entry>> {
        let text = match fs::read_to_string(self.journal()) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(Error::io(
                    format!("reading {}", self.journal().display()),
                    e,
                ))
            }
        };
        // A line cut short by a crash records nothing.
        Ok(text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect())
    }

    /// The steps finished so far, with their seconds.
    pub fn done(&self) -> Result<BTreeMap<String, f64>> {
        Ok(self
            .entries()?
            .into_iter()
            .filter_map(|e| match e {
                Entry::Done { step, seconds } => Some((step, seconds)),
                Entry::Started { .. } => None,
            })
            .collect())
    }

    pub fn append(&self, entry: &Entry) -> Result<()> {
        let path = self.journal();
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
        let line = serde_json::to_string(entry).unwrap_or_default();
        writeln!(f, "{line}")
            .and_then(|()| f.sync_all())
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes `name` (0600), replacing it.
    pub fn write_private(&self, name: &str, body: &str) -> Result<()> {
        let path = self.path(name);
        OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
            .and_then(|mut f| f.write_all(body.as_bytes()))
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))
    }

    /// Creates `name` (0600) when it does not exist; an existing file is left as it is.
    pub fn create_private(&self, name: &str) -> Result<()> {
        let path = self.path(name);
        OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&path)
            .map(drop)
            .map_err(|e| Error::io(format!("creating {}", path.display()), e))
    }

    /// Runs this binary with `words`, its output into `<name>.log` (0600); `Err` holds the
    /// last lines of that log.
    pub fn run_logged(&self, name: &str, words: &[&str]) -> std::result::Result<(), String> {
        let log_path = self.path(&format!("{name}.log"));
        let log = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .mode(0o600)
            .open(&log_path)
            .map_err(|e| format!("opening {}: {e}", log_path.display()))?;
        let exe = std::env::current_exe().map_err(|e| format!("finding this program: {e}"))?;
        let mut child = Command::new(exe)
            .args(words)
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("running {name}: {e}"))?;
        let status = watch(name, &log_path, &mut child).map_err(|e| format!("{name}: {e}"))?;
        if status.success() {
            return Ok(());
        }
        let text = fs::read_to_string(&log_path).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(8).collect();
        Err(format!(
            "exit {} (see {}):\n    {}",
            status.code().unwrap_or(-1),
            log_path.display(),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n    ")
        ))
    }
}

/// Waits for a step, with a bar on a terminal: the step's name and time, and the last
/// progress line of its log (the copy writes one per chunk).
fn watch(name: &str, log: &Path, child: &mut Child) -> std::io::Result<ExitStatus> {
    let bar = progress::bar(false, None, "{spinner} {prefix:<10} {elapsed_precise}");
    if bar.is_hidden() {
        return child.wait();
    }
    bar.set_prefix(name.to_string());
    loop {
        if let Some(status) = child.try_wait()? {
            bar.finish_and_clear();
            return Ok(status);
        }
        if let Some((done, total, what)) = progress::last_line(&tail(log)) {
            if bar.length().is_none() {
                progress::restyle(
                    &bar,
                    "{spinner} {prefix:<10} {elapsed_precise} [{bar:30}] {pos}/{len} {msg}",
                );
            }
            bar.set_length(total);
            bar.set_position(done);
            bar.set_message(what.to_string());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The last few KiB of a log (a progress line is among them while the copy runs).
fn tail(log: &Path) -> String {
    let mut bytes = Vec::new();
    if let Ok(mut f) = fs::File::open(log) {
        let len = f.metadata().map_or(0, |m| m.len());
        let _ = f.seek(SeekFrom::Start(len.saturating_sub(4096)));
        let _ = f.read_to_end(&mut bytes);
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The arguments a journal is bound to (no secret: only the variables' names).
fn arguments(args: &UpgradeArgs) -> BTreeMap<String, String> {
    let value = serde_json::to_value(args).unwrap_or_default();
    value
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map_or_else(|| v.to_string(), str::to_string),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}
