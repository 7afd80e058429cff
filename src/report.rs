//! The audit trail: one JSON Lines record per input record, then a summary.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::rules::{Change, Op};
use crate::target::Target;
use crate::worker::Worker;

/// What happened to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Written as read.
    Kept,
    /// Not written.
    Dropped,
    /// Written with a converted value.
    Patched,
    /// Written unchanged under its key in the new cluster's name (`--rename-cluster`); a
    /// field's new name is the change op `renamed`, never this.
    Moved,
}

impl Action {
    /// The lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Action::Kept => "kept",
            Action::Dropped => "dropped",
            Action::Patched => "patched",
            Action::Moved => "moved",
        }
    }
}

/// The fate of one input record.
#[derive(Debug, Clone, Serialize)]
pub struct Entry<'a> {
    /// Input line number.
    pub line: u64,
    /// The key as read.
    pub key: &'a str,
    /// The key as written, when it changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_key: Option<&'a str>,
    /// The key kind (`user`, `table`, …).
    pub kind: &'static str,
    /// What happened.
    pub action: Action,
    /// The rule that decided it.
    pub rule: &'static str,
    /// Field changes of a patched record (names only, never values).
    #[serde(serialize_with = "changes_json")]
    pub changes: &'a [Change],
}

fn changes_json<S: serde::Serializer>(changes: &&[Change], s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct C<'a> {
        field: &'a str,
        op: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        from: Option<&'a str>,
    }
    s.collect_seq(changes.iter().map(|c| C {
        field: &c.field,
        op: c.op.name(),
        from: match &c.op {
            Op::RenamedFrom(f) => Some(f.as_str()),
            _ => None,
        },
    }))
}

/// Receives each record's fate as the pipeline decides it.
pub trait Observer {
    /// Called once per input record.
    fn entry(&mut self, entry: &Entry<'_>) -> Result<()>;

    /// False when [`Observer::entry`] ignores the dropped records: the transform then counts
    /// runs of them instead of calling it for each.
    fn wants_dropped(&self) -> bool {
        true
    }
}

/// An observer that ignores everything.
pub struct NoReport;

impl Observer for NoReport {
    fn entry(&mut self, _: &Entry<'_>) -> Result<()> {
        Ok(())
    }

    fn wants_dropped(&self) -> bool {
        false
    }
}

/// Writes entries as JSON Lines.
pub struct JsonLines<W: Write>(pub W);

impl<W: Write> Observer for JsonLines<W> {
    fn entry(&mut self, entry: &Entry<'_>) -> Result<()> {
        serde_json::to_writer(&mut self.0, entry)
            .map_err(io::Error::from)
            .and_then(|()| self.0.write_all(b"\n"))
            .map_err(|e| Error::io("writing the report", e))
    }
}

/// Totals of a transform run; the last record of the report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Always true: tells the summary from the entries.
    pub summary: bool,
    /// The tool that wrote it.
    pub tool_version: &'static str,
    /// The release the output is for.
    pub target: String,
    /// `dump` or `debug`.
    pub form: Option<&'static str>,
    /// SHA-256 of the input bytes, hex (empty unless checksums were asked for).
    pub input_sha256: String,
    /// Input size.
    pub input_bytes: u64,
    /// Records read.
    pub input_records: u64,
    /// Lines that ended in CR LF (normalized to LF).
    pub crlf_lines: u64,
    /// SHA-256 of the output bytes, hex (empty unless checksums were asked for, or when a dry
    /// run cannot predict it; written `null` when empty).
    #[serde(serialize_with = "null_if_empty")]
    pub output_sha256: String,
    /// Why a dry run cannot predict `output_sha256` (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_sha256_unpredictable: Option<String>,
    /// Output size.
    pub output_bytes: u64,
    /// Records written.
    pub output_records: u64,
    /// Records per action.
    pub actions: BTreeMap<&'static str, u64>,
    /// Records per key kind.
    pub kinds: BTreeMap<&'static str, u64>,
    /// Records per rule.
    pub rules: BTreeMap<&'static str, u64>,
    /// Users whose plaintext password was replaced by a bcrypt hash (names only).
    pub hashed_password_users: Vec<String>,
    /// Keys the tool does not know, kept as they were.
    pub unknown_keys: u64,
}

fn null_if_empty<S: serde::Serializer>(text: &str, s: S) -> std::result::Result<S::Ok, S::Error> {
    if text.is_empty() {
        s.serialize_none()
    } else {
        s.serialize_str(text)
    }
}

impl Summary {
    pub(crate) fn new(target: Target) -> Self {
        Summary {
            summary: true,
            tool_version: env!("CARGO_PKG_VERSION"),
            target: target.to_string(),
            ..Summary::default()
        }
    }

    /// Counts `n` records with the same action, kind and rule at once.
    pub(crate) fn count_n(
        &mut self,
        action: Action,
        kind: &'static str,
        rule: &'static str,
        n: u64,
    ) {
        *self.actions.entry(action.name()).or_default() += n;
        *self.kinds.entry(kind).or_default() += n;
        *self.rules.entry(rule).or_default() += n;
        if action != Action::Dropped {
            self.output_records += n;
        }
    }

    /// The summary as one JSON line (without newline).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A few lines for people, for stderr.
    pub fn human(&self) -> String {
        let n = |a: &str| self.actions.get(a).copied().unwrap_or(0);
        let mut s = format!(
            "{} records read ({} form, {} bytes), {} written for CnosDB {}: {} kept, {} patched, {} moved to the new cluster name; {} dropped\n",
            self.input_records,
            self.form.unwrap_or("empty"),
            self.input_bytes,
            self.output_records,
            self.target,
            n("kept"),
            n("patched"),
            n("moved"),
            n("dropped"),
        );
        let dropped: Vec<String> = self
            .rules
            .iter()
            .filter(|(r, _)| r.starts_with("drop."))
            .map(|(r, c)| format!("{r} {c}"))
            .collect();
        if !dropped.is_empty() {
            s += &format!("dropped by rule: {}\n", dropped.join(", "));
        }
        if !self.hashed_password_users.is_empty() {
            s += &format!(
                "plaintext passwords replaced by bcrypt hashes for users: {}\n",
                self.hashed_password_users.join(", ")
            );
        }
        if self.unknown_keys > 0 {
            s += &format!(
                "{} unknown keys kept as they were (see the report, rule `unknown`)\n",
                self.unknown_keys
            );
        }
        if self.crlf_lines > 0 {
            s += &format!("{} CRLF line endings normalized to LF\n", self.crlf_lines);
        }
        if !self.output_sha256.is_empty() {
            s += &format!("output sha256 {}\n", self.output_sha256);
        }
        s
    }
}

/// Counts bytes and, when asked to, hashes them with SHA-256 on a thread of its own: the
/// bytes are copied into blocks, and the reading or writing thread pays only for the copy.
struct Tally {
    hasher: Option<BackgroundSha>,
    bytes: u64,
}

/// Bytes gathered before a block goes to the hashing thread.
const SHA_BLOCK: usize = 256 << 10;

/// The hashing thread and the block being filled for it.
struct BackgroundSha {
    block: Vec<u8>,
    worker: Worker<Vec<u8>, Sha256>,
}

impl BackgroundSha {
    fn start() -> Self {
        BackgroundSha {
            block: Vec::with_capacity(SHA_BLOCK),
            worker: Worker::start(4, |blocks| {
                let mut sha = Sha256::new();
                for block in blocks {
                    sha.update(&block);
                }
                sha
            }),
        }
    }

    fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let n = data.len().min(SHA_BLOCK - self.block.len());
            self.block.extend_from_slice(&data[..n]);
            data = &data[n..];
            if self.block.len() == SHA_BLOCK {
                let full = std::mem::replace(&mut self.block, Vec::with_capacity(SHA_BLOCK));
                self.worker.send(full);
            }
        }
    }

    fn finish(self) -> String {
        self.worker.send(self.block);
        hex(self.worker.finish().finalize().as_slice())
    }
}

impl Tally {
    fn new(hash: bool) -> Self {
        Tally {
            hasher: hash.then(BackgroundSha::start),
            bytes: 0,
        }
    }

    fn add(&mut self, data: &[u8]) {
        if let Some(h) = &mut self.hasher {
            h.update(data);
        }
        self.bytes += data.len() as u64;
    }

    /// The hex SHA-256 (empty when not hashing) and the byte count.
    fn finish(self) -> (String, u64) {
        let sha = self.hasher.map(BackgroundSha::finish).unwrap_or_default();
        (sha, self.bytes)
    }
}

/// A reader that counts (and optionally hashes) what passes through.
pub struct HashingReader<R> {
    inner: R,
    tally: Tally,
}

impl<R: Read> HashingReader<R> {
    /// Wraps `inner`; `hash` turns SHA-256 on.
    pub fn new(inner: R, hash: bool) -> Self {
        HashingReader {
            inner,
            tally: Tally::new(hash),
        }
    }

    /// The hex SHA-256 (empty when not hashing) and byte count of everything read.
    pub fn finish(self) -> (String, u64) {
        self.tally.finish()
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.tally.add(&buf[..n]);
        Ok(n)
    }
}

/// A writer that counts (and optionally hashes) what passes through.
pub struct HashingWriter<W> {
    inner: W,
    tally: Tally,
}

impl<W: Write> HashingWriter<W> {
    /// Wraps `inner`; `hash` turns SHA-256 on.
    pub fn new(inner: W, hash: bool) -> Self {
        HashingWriter {
            inner,
            tally: Tally::new(hash),
        }
    }

    /// The hex SHA-256 (empty when not hashing) and byte count of everything written, and
    /// the inner writer.
    pub fn finish(self) -> (String, u64, W) {
        let (sha, bytes) = self.tally.finish();
        (sha, bytes, self.inner)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.tally.add(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The hex SHA-256 of everything `r` yields.
pub fn sha256_of(mut r: impl Read) -> io::Result<String> {
    let mut hasher = Sha256::new();
    io::copy(&mut r, &mut hasher)?;
    Ok(hex(hasher.finalize().as_slice()))
}
