//! `restore`: post a restore-ready file to a meta service and prove that all of it was taken.

mod checks;
mod send;

use std::fs::File;
use std::io::{self, IsTerminal, Seek, SeekFrom};
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::timeouts::parse_seconds;
use checks::{check_for, check_text, learn_target};
use cnosdb_migrate::error::{Error, InputError, Result, EXIT_OK};
use cnosdb_migrate::output::{is_stdout, open_rereadable_input};
use cnosdb_migrate::remote::meta::Endpoint;
use cnosdb_migrate::remote::records::{self, Chunk, Plan};
use cnosdb_migrate::target::Target;
use send::{send, span};

pub(super) const READ_TIMEOUT: f64 = 600.0;

/// Arguments of `restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The meta service of the target cluster's raft leader: http://HOST:8901 (the request
    /// goes to /restore).
    #[arg(value_name = "URL")]
    pub url: String,
    /// The restore-ready file (what `transform` wrote); `-` or absent for stdin.
    #[arg(value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// The 2.4.x release the file is for (2.4.0 … 2.4.3). Without it (and without
    /// --target-from) the release is learned from the server's own /dump. Either way the
    /// full `check` for it runs before anything is sent, and the server must run it.
    #[arg(long, value_name = "VERSION", value_parser = super::TargetParser, conflicts_with = "target_from")]
    pub target: Option<Target>,
    /// Learn the release from a dump of the new cluster taken before (as transform and check
    /// do).
    #[arg(long, value_name = "FRESH_DUMP")]
    pub target_from: Option<PathBuf>,
    /// Restore into a cluster that already holds tenants, users or tables of its own (refused
    /// otherwise: the records would merge into what it has).
    #[arg(long)]
    pub merge: bool,
    /// Send without any check (not recommended: a /debug or CRLF file is restored as junk
    /// keys, and records the server cannot read break it, without an error).
    #[arg(long, conflicts_with_all = ["target", "target_from", "merge"])]
    pub no_check: bool,
    /// Send N records per request (a 2.3.0–2.3.5.3 server rejects bodies over 256 KiB).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub chunk_records: Option<u64>,
    /// Start at this record (1-based), after a failure; every record is an idempotent set,
    /// so sending one again is safe.
    #[arg(long, value_name = "RECORD", value_parser = clap::value_parser!(u64).range(1..))]
    pub resume_from: Option<u64>,
    /// Print what would be sent, and send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Seconds to wait for the connection [default: 10].
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub connect_timeout: Option<Duration>,
    /// Seconds to wait for each read, including the server's answer [default: 600].
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub read_timeout: Option<Duration>,
    /// Print neither progress nor the summary (warnings and errors still go to stderr).
    #[arg(short, long)]
    pub quiet: bool,
}

/// Runs `restore`.
pub fn run(args: RestoreArgs) -> Result<u8> {
    let endpoint = Endpoint::parse(&args.url)?;
    let url = endpoint.restore_url()?;
    let file = open_file(&args)?;
    if args.no_check {
        say!(
            "cnosdb-migrate: warning: --no-check: sending without any check; \
             whatever the file holds is written to the meta store as it is"
        );
    } else {
        check_text(&file, &args)?;
        let target = learn_target(&args, &endpoint)?;
        check_for(&file, &args, target)?;
    }
    let start = args.resume_from.unwrap_or(1);
    let plan = records::plan(reader_at(&file, 0)?, args.chunk_records, start)
        .map_err(|e| Error::io(format!("reading {}", input_name(&args)), e))?;
    if plan.total_records == 0 {
        return Err(InputError::at(1, "no record to restore (no line holds \": \")").into());
    }
    if start > plan.total_records {
        return Err(Error::Usage(format!(
            "--resume-from {start} is past the last record ({})",
            plan.total_records
        )));
    }
    if args.dry_run {
        print_plan(&url, &plan, start);
        return Ok(EXIT_OK);
    }
    send(&args, &url, &file, &plan, start)?;
    if !args.quiet {
        say!(
            "cnosdb-migrate: restored records {start}..{} ({} in {} request{}) to {url}; \
             the server confirmed every count",
            plan.total_records,
            plan.total_records - start + 1,
            plan.chunks.len(),
            if plan.chunks.len() == 1 { "" } else { "s" }
        );
    }
    Ok(EXIT_OK)
}

/// The input as a seekable file: the file named, or stdin spooled to a temporary file.
fn open_file(args: &RestoreArgs) -> Result<File> {
    let path = args.input.as_deref().filter(|p| !is_stdout(Some(p)));
    if path.is_none() && io::stdin().is_terminal() {
        return Err(Error::Usage(
            "no FILE given and stdin is a terminal; name the restore-ready file".into(),
        ));
    }
    open_rereadable_input(path)
}

fn input_name(args: &RestoreArgs) -> String {
    match &args.input {
        Some(p) if !is_stdout(Some(p)) => p.display().to_string(),
        _ => "stdin".to_string(),
    }
}

/// A handle on `file` positioned at `offset`; handles share the position, so use one at a time.
fn reader_at(file: &File, offset: u64) -> Result<File> {
    let mut f = file
        .try_clone()
        .map_err(|e| Error::io("reopening the input", e))?;
    f.seek(SeekFrom::Start(offset))
        .map_err(|e| Error::io("seeking in the input", e))?;
    Ok(f)
}

fn print_plan(url: &str, plan: &Plan, start: u64) {
    let bytes: u64 = plan.chunks.iter().map(Chunk::bytes).sum();
    out!(
        "dry run: would POST {} request{} to {url}: records {start}..{} of {} ({bytes} bytes)",
        plan.chunks.len(),
        if plan.chunks.len() == 1 { "" } else { "s" },
        plan.total_records,
        plan.total_records
    );
    for (i, c) in plan.chunks.iter().enumerate() {
        out!(
            "  request {}: records {} ({} record{}, bytes {}..{})",
            i + 1,
            span(c.first, c.last),
            c.records(),
            if c.records() == 1 { "" } else { "s" },
            c.start,
            c.end
        );
    }
    out!("nothing was sent");
}
