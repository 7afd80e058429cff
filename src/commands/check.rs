//! `check`: is a restore-ready file safe for a 2.4.x release? Exit 0 when clean, 1 otherwise.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use clap::Args;

use super::term::{ERROR, GOOD};
use super::TargetArgs;
use crate::check::check;
use crate::error::{Error, Result, EXIT_INVALID_INPUT, EXIT_OK};
use crate::output::open_input;

/// Arguments of `check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// The restore-ready file to check; `-` or absent for stdin.
    pub input: Option<PathBuf>,
    /// One JSON line per problem, then a summary line.
    #[arg(long)]
    pub json: bool,
}

/// Runs `check`.
pub fn run(args: CheckArgs) -> Result<u8> {
    let learned = args.target.resolve(false)?;
    super::term::notice_stdin(args.input.as_deref(), "the restore-ready file");
    let input = open_input(args.input.as_deref())?;
    let report = check(input, learned.target, learned.cluster.as_deref())?;
    if report.summary.records == 0 && report.summary.ok {
        return Err(super::no_record(
            args.input.as_deref(),
            report.summary.bytes,
        ));
    }
    let mut out = BufWriter::new(anstream::AutoStream::auto(io::stdout().lock()));
    let written = if args.json {
        report
            .problems
            .iter()
            .map(|p| serde_json::to_string(p).unwrap_or_default())
            .chain([serde_json::to_string(&report.summary).unwrap_or_default()])
            .try_for_each(|line| writeln!(out, "{line}"))
    } else {
        write_text(&mut out, &report)
    };
    written
        .and_then(|()| out.flush())
        .map_err(|e| Error::io("writing to stdout", e))?;
    Ok(if report.summary.ok {
        EXIT_OK
    } else {
        EXIT_INVALID_INPUT
    })
}

fn write_text(out: &mut impl Write, report: &crate::check::CheckReport) -> io::Result<()> {
    for p in &report.problems {
        match &p.key {
            Some(key) => writeln!(out, "line {} [{}] {}: {}", p.line, p.code, key, p.reason)?,
            None => writeln!(out, "line {} [{}] {}", p.line, p.code, p.reason)?,
        }
    }
    let s = &report.summary;
    if s.ok {
        writeln!(
            out,
            "{GOOD}OK{GOOD:#}: {} records, safe to restore into CnosDB {}",
            s.records, s.target
        )?;
    } else {
        writeln!(
            out,
            "{} problem{} ({} records, {} lines): {ERROR}NOT safe{ERROR:#} to restore into CnosDB {}",
            s.problems,
            if s.problems == 1 { "" } else { "s" },
            s.records,
            s.lines,
            s.target
        )?;
    }
    writeln!(out, "sha256 {}  ({} bytes)", s.sha256, s.bytes)
}
