//! `check`: is a restore-ready file safe for a 2.4.x release? Exit 0 when no problem fails the
//! check (`unreadable`, `lossy`; with `--strict` also `changed`), 1 otherwise.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use clap::Args;

use super::term::{ERROR, GOOD};
use super::TargetArgs;
use cnosdb_migrate::check::{check, CheckReport, Problem, Severity};
use cnosdb_migrate::error::{Error, Result, EXIT_INVALID_INPUT, EXIT_OK};
use cnosdb_migrate::output::open_input;

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
    /// Also fail on `changed` problems (read correctly, but the cluster behaves differently).
    #[arg(long)]
    pub strict: bool,
    /// Also list the `noncanonical` records (same meaning, written otherwise).
    #[arg(long, short)]
    pub verbose: bool,
}

/// Runs `check`.
pub fn run(args: CheckArgs) -> Result<u8> {
    let learned = args.target.resolve(false)?;
    super::term::notice_stdin(args.input.as_deref(), "the restore-ready file");
    let input = open_input(args.input.as_deref())?;
    let mut report = check(input, learned.target, learned.cluster.as_deref())?;
    if report.summary.records == 0 && report.summary.ok {
        return Err(super::no_record(
            args.input.as_deref(),
            report.summary.bytes,
        ));
    }
    report.set_strict(args.strict);
    let mut listed: Vec<&Problem> = report.problems.iter().collect();
    if args.verbose {
        listed.extend(&report.notes);
        listed.sort_by_key(|p| (p.line, p.severity));
    }
    let mut out = BufWriter::new(anstream::AutoStream::auto(io::stdout().lock()));
    let written = if args.json {
        listed
            .iter()
            .map(|p| serde_json::to_string(p).unwrap_or_default())
            .chain([serde_json::to_string(&report.summary).unwrap_or_default()])
            .try_for_each(|line| writeln!(out, "{line}"))
    } else {
        write_text(&mut out, &listed, &report)
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

fn write_text(out: &mut impl Write, listed: &[&Problem], report: &CheckReport) -> io::Result<()> {
    for p in listed {
        let severity = p.severity.name();
        match &p.key {
            Some(key) => writeln!(
                out,
                "line {} {severity} [{}] {}: {}",
                p.line, p.code, key, p.reason
            )?,
            None => writeln!(out, "line {} {severity} [{}] {}", p.line, p.code, p.reason)?,
        }
    }
    let s = &report.summary;
    let counts: Vec<String> = Severity::ALL
        .iter()
        .map(|sev| {
            let n = match sev {
                Severity::Unreadable => s.unreadable,
                Severity::Lossy => s.lossy,
                Severity::Changed => s.changed,
                Severity::Noncanonical => s.noncanonical,
            };
            format!("{n} {}", sev.name())
        })
        .collect();
    let verdict = if s.ok {
        format!("safe to restore into CnosDB {}", s.target)
    } else {
        format!(
            "{ERROR}NOT safe{ERROR:#} to restore into CnosDB {}",
            s.target
        )
    };
    writeln!(
        out,
        "{}: {} ({} records, {} lines): {verdict}{}",
        if s.ok {
            format!("{GOOD}OK{GOOD:#}")
        } else {
            format!("{ERROR}FAILED{ERROR:#}")
        },
        counts.join(", "),
        s.records,
        s.lines,
        if s.strict { " (strict)" } else { "" }
    )?;
    writeln!(out, "sha256 {}  ({} bytes)", s.sha256, s.bytes)
}
