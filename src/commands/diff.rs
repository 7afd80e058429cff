//! `diff`: a dry run of `transform`, record by record. Writes nothing.

use std::collections::BTreeMap;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use clap::Args;

use super::transform::ConvertArgs;
use super::{hinted, TargetArgs};
use cnosdb_migrate::error::{Error, Result, EXIT_OK};
use cnosdb_migrate::output::open_rereadable_input;
use cnosdb_migrate::pipeline::transform;
use cnosdb_migrate::report::{Action, Entry, JsonLines, Observer, Summary};
use cnosdb_migrate::rules::Op;

/// Arguments of `diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// The dump to read (`/dump` or `/debug` form, detected); `-` or absent for stdin.
    pub input: Option<PathBuf>,
    /// The transform report instead: one JSON line per record, then the summary.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub convert: ConvertArgs,
}

/// One written record that differs from its input, for the text rendering.
struct Changed {
    line: u64,
    key: String,
    new_key: Option<String>,
    kind: &'static str,
    changes: Vec<String>,
}

/// Collects what the text rendering needs: dropped keys by rule, changed records.
#[derive(Default)]
struct Collect {
    dropped: BTreeMap<&'static str, Vec<(u64, String)>>,
    changed: Vec<Changed>,
}

impl Observer for Collect {
    fn entry(&mut self, e: &Entry<'_>) -> Result<()> {
        match e.action {
            Action::Dropped => self
                .dropped
                .entry(e.rule)
                .or_default()
                .push((e.line, e.key.to_string())),
            Action::Patched | Action::Moved => self.changed.push(Changed {
                line: e.line,
                key: e.key.to_string(),
                new_key: e.new_key.map(str::to_string),
                kind: e.kind,
                changes: e
                    .changes
                    .iter()
                    .map(|c| match &c.op {
                        Op::RenamedFrom(old) => format!("{}: renamed from {old}", c.field),
                        op => format!("{}: {}", c.field, op.name()),
                    })
                    .collect(),
            }),
            Action::Kept => {}
        }
        Ok(())
    }
}

/// Runs `diff`.
pub fn run(args: DiffArgs) -> Result<u8> {
    let mut opts = args.convert.options(&args.target.resolve(false)?)?;
    opts.checksums = true;
    super::term::notice_stdin(args.input.as_deref(), "the dump");
    let input = open_rereadable_input(args.input.as_deref())?;
    super::check_filter(&input, args.input.as_deref(), &opts.filter)?;
    let mut out = BufWriter::new(io::stdout().lock());
    let (written, summary) = if args.json {
        let mut summary =
            transform(&input, io::sink(), &opts, &mut JsonLines(&mut out)).map_err(hinted)?;
        no_record(&summary, args.input.as_deref())?;
        unpredictable(&mut summary);
        (writeln!(out, "{}", summary.to_json()), summary)
    } else {
        let mut collect = Collect::default();
        let mut summary = transform(&input, io::sink(), &opts, &mut collect).map_err(hinted)?;
        no_record(&summary, args.input.as_deref())?;
        unpredictable(&mut summary);
        collect.dropped.values_mut().for_each(|keys| keys.sort());
        collect.changed.sort_by_key(|c| c.line);
        (write_text(&mut out, &collect, &summary), summary)
    };
    written
        .and_then(|()| out.flush())
        .map_err(|e| Error::io("writing to stdout", e))?;
    // Shown, then refused: every record is dropped.
    super::check_written(&summary, args.input.as_deref())?;
    Ok(EXIT_OK)
}

/// An input without a record has nothing to show: the error alone.
fn no_record(summary: &Summary, input: Option<&Path>) -> Result<()> {
    if summary.input_records == 0 {
        return Err(super::no_record(input, summary.input_bytes));
    }
    Ok(())
}

/// A plaintext password is hashed with a fresh random bcrypt salt on every run, so the bytes
/// `transform` will write cannot be known in advance: the dry run's hash is withdrawn, with
/// the reason.
fn unpredictable(summary: &mut Summary) {
    let users = &summary.hashed_password_users;
    if users.is_empty() {
        return;
    }
    summary.output_sha256.clear();
    summary.output_sha256_unpredictable = Some(format!(
        "{} plaintext password{} ({}) will be bcrypt-hashed with a fresh random salt, so every \
         transform writes different bytes; compare the sha256 that `check` prints for the \
         written file with `output_sha256` in transform's --report instead",
        users.len(),
        if users.len() == 1 { "" } else { "s" },
        users.join(", ")
    ));
}

fn write_text(out: &mut impl Write, c: &Collect, s: &Summary) -> io::Result<()> {
    let n = |a: &str| s.actions.get(a).copied().unwrap_or(0);
    writeln!(
        out,
        "dry run for CnosDB {}: {} records read, {} would be written",
        s.target, s.input_records, s.output_records
    )?;
    writeln!(out, "dropped: {}", n("dropped"))?;
    for (rule, keys) in &c.dropped {
        writeln!(out, "  {rule}: {}", keys.len())?;
        for (line, key) in keys {
            writeln!(out, "    line {line} {key}")?;
        }
    }
    writeln!(
        out,
        "patched: {}, moved to the new cluster name: {}",
        n("patched"),
        n("moved")
    )?;
    for ch in &c.changed {
        match &ch.new_key {
            Some(new) => writeln!(out, "  line {} {} ({}) -> {new}", ch.line, ch.key, ch.kind)?,
            None => writeln!(out, "  line {} {} ({})", ch.line, ch.key, ch.kind)?,
        }
        for change in &ch.changes {
            writeln!(out, "    {change}")?;
        }
    }
    writeln!(out, "kept unchanged: {}", n("kept"))?;
    if s.unknown_keys > 0 {
        writeln!(out, "unknown keys kept as they are: {}", s.unknown_keys)?;
    }
    match &s.output_sha256_unpredictable {
        Some(why) => writeln!(
            out,
            "output would be {} bytes; its sha256 cannot be predicted: {why}",
            s.output_bytes
        ),
        None => writeln!(
            out,
            "output would be {} bytes, sha256 {}",
            s.output_bytes, s.output_sha256
        ),
    }
}
