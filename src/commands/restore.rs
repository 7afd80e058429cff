//! `restore`: post a restore-ready file to a meta service and prove that all of it was taken.

use std::fs::File;
use std::io::{self, IsTerminal, Seek, SeekFrom};
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::fetch::{parse_seconds, CONNECT_TIMEOUT};
use cnosdb_migrate::dump::{DumpReader, Form};
use cnosdb_migrate::error::{Error, InputError, Result, EXIT_OK};
use cnosdb_migrate::output::{is_stdout, open_rereadable_input};
use cnosdb_migrate::remote::meta::{Applied, Endpoint, MetaClient, Remedy, Timeouts};
use cnosdb_migrate::remote::records::{self, Chunk, Plan};
use cnosdb_migrate::target::Target;

const READ_TIMEOUT: f64 = 600.0;

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

/// The release and cluster to check the file for: from `--target` or `--target-from`, and
/// from the server's own `/dump`, which must agree and (unless `--merge` or `--resume-from`)
/// show a fresh cluster. A dry run with a named target does not ask the server.
fn learn_target(args: &RestoreArgs, endpoint: &Endpoint) -> Result<(Target, Option<String>)> {
    let named = match (&args.target, &args.target_from) {
        (Some(t), _) => Some((*t, None)),
        (None, Some(path)) => {
            let f = File::open(path)
                .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
            let learned = cnosdb_migrate::release::learn_target(f, path)?;
            Some((learned.target, learned.cluster))
        }
        (None, None) => None,
    };
    if args.dry_run {
        if let Some(named) = named {
            return Ok(named);
        }
    }
    let server = read_server(args, endpoint)?;
    let url = endpoint.service_dump().dump_url();
    if let Some((target, _)) = named {
        if target != server.target {
            return Err(Error::Usage(format!(
                "the file is for CnosDB {target}, but the server at {url} runs {} (it converts \
                 as {}); transform the 2.3 dump for that release",
                server.detected, server.target
            )));
        }
    }
    if !server.not_fresh.is_empty() && !args.merge && args.resume_from.is_none() {
        return Err(Error::Usage(format!(
            "the cluster at {url} is not fresh: it holds e.g. {}; the restore would merge \
             into what it has. Restore into a fresh cluster, or pass --merge to merge",
            server.not_fresh.join(", ")
        )));
    }
    if !args.quiet {
        say!(
            "cnosdb-migrate: {url} runs CnosDB {} (target {}){}",
            server.detected,
            server.target,
            if server.not_fresh.is_empty() {
                ", a fresh cluster"
            } else {
                ""
            }
        );
    }
    Ok((server.target, server.cluster))
}

/// Reads the server's `/dump` (into a private temporary file) and learns its release.
fn read_server(
    args: &RestoreArgs,
    endpoint: &Endpoint,
) -> Result<cnosdb_migrate::release::LearnedTarget> {
    let dump = endpoint.service_dump();
    let client = MetaClient::new(Timeouts {
        connect: args
            .connect_timeout
            .unwrap_or(Duration::from_secs_f64(CONNECT_TIMEOUT)),
        read: Duration::from_secs_f64(super::fetch::READ_TIMEOUT),
        names: super::fetch::TIMEOUT_NAMES,
    });
    let before_sending = |e: Error| match e {
        Error::Remote(m) => Error::Remote(format!(
            "{m}\n(reading the target's release and contents before sending; nothing was sent)"
        )),
        other => other,
    };
    let spool = client.download_spooled(&dump).map_err(before_sending)?;
    let url = dump.dump_url();
    cnosdb_migrate::release::learn_target(spool, std::path::Path::new(&url)).map_err(|e| {
        Error::Usage(format!(
            "cannot tell which release the server at {url} runs, so nothing was sent: {e}"
        ))
    })
}

/// The restore-ready text checks: a complete `/dump`-form file with LF line endings.
fn check_text(file: &File, args: &RestoreArgs) -> Result<()> {
    let name = input_name(args);
    let mut reader = DumpReader::new(reader_at(file, 0)?);
    let mut first_crlf = None;
    while let Some(line) = reader.next_record()?.map(|r| r.line) {
        if first_crlf.is_none() && reader.crlf_lines() > 0 {
            first_crlf = Some(line);
        }
    }
    let fail = |line, msg: String| -> Result<()> {
        Err(InputError::at(line, format!("{name} is not restore-ready: {msg}")).into())
    };
    if reader.form() == Some(Form::Debug) {
        return fail(
            1,
            "it is a /debug dump (frame lines, `* ` prefixes), which /restore would store \
             under junk keys; run `cnosdb-migrate transform --target VERSION` on it first"
                .into(),
        );
    }
    if reader.crlf_lines() > 0 {
        return fail(
            first_crlf.unwrap_or(1),
            format!(
                "{} lines end in CR LF; /restore keeps the CR in every value (plain numbers \
                 then read wrong); convert the line endings to LF",
                reader.crlf_lines()
            ),
        );
    }
    if reader.records() == 0 {
        return fail(1, "it holds no record".into());
    }
    Ok(())
}

/// The full `check` of the file for `target` (and the target's cluster name, when known).
fn check_for(
    file: &File,
    args: &RestoreArgs,
    (target, cluster): (Target, Option<String>),
) -> Result<()> {
    let name = input_name(args);
    let fail = |line, msg: String| -> Result<()> {
        Err(InputError::at(line, format!("{name} is not restore-ready: {msg}")).into())
    };
    let report = cnosdb_migrate::check::check(reader_at(file, 0)?, target, cluster.as_deref())?;
    // As `check` decides: `unreadable` and `lossy` refuse the file; `changed` (a behaviour the
    // transform's options chose, such as a kept `must_change_password`) is said and sent.
    for p in &report.problems {
        let label = if p.severity.fails(false) {
            ""
        } else {
            "warning: "
        };
        say!(
            "{label}line {} {} [{}] {}: {}",
            p.line,
            p.severity.name(),
            p.code,
            p.key.as_deref().unwrap_or("-"),
            p.reason
        );
    }
    let failing: Vec<_> = report
        .problems
        .iter()
        .filter(|p| p.severity.fails(false))
        .collect();
    let Some(first) = failing.first() else {
        return Ok(());
    };
    fail(
        first.line,
        format!(
            "`check --target {target}` found {} problem(s) the target cannot read or would lose, \
             listed above; nothing was sent",
            failing.len()
        ),
    )
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

fn send(args: &RestoreArgs, url: &str, file: &File, plan: &Plan, start: u64) -> Result<()> {
    let client = MetaClient::new(Timeouts {
        connect: args
            .connect_timeout
            .unwrap_or(Duration::from_secs_f64(CONNECT_TIMEOUT)),
        read: args
            .read_timeout
            .unwrap_or(Duration::from_secs_f64(READ_TIMEOUT)),
        names: super::fetch::TIMEOUT_NAMES,
    });
    let bar = progress_bar(args.quiet, plan.total_records - start + 1);
    let n = plan.chunks.len();
    for (i, chunk) in plan.chunks.iter().enumerate() {
        bar.set_message(format!("request {}/{n}", i + 1));
        let body = reader_at(file, chunk.start)?;
        let sent = client.restore(
            url,
            io::Read::take(body, chunk.bytes()),
            chunk.bytes(),
            chunk.records(),
        );
        if let Err(failure) = sent {
            bar.abandon();
            let mut state = Vec::new();
            if chunk.first > start {
                state.push(format!(
                    "records {start}..{} are applied (the server confirmed them)",
                    chunk.first - 1
                ));
            }
            state.push(match failure.applied {
                Applied::None => {
                    format!("records {} were not applied", span(chunk.first, chunk.last))
                }
                Applied::Unknown => format!(
                    "records {} may be partly applied",
                    span(chunk.first, chunk.last)
                ),
            });
            if chunk.last < plan.total_records {
                state.push(format!(
                    "records {} were not sent",
                    span(chunk.last + 1, plan.total_records)
                ));
            }
            return Err(Error::Remote(format!(
                "{failure}{}\n{}.\nEvery record is an idempotent set, so resume with:\n  {}",
                failure.remedy.map_or("", advice),
                state.join("; "),
                resume_command(args, chunk.first)
            )));
        }
        bar.inc(chunk.records());
    }
    bar.finish_and_clear();
    Ok(())
}

/// The command line's words for a failed request's remedy, to follow its message.
fn advice(remedy: Remedy) -> &'static str {
    match remedy {
        Remedy::BodyDropped => ": try --chunk-records",
        Remedy::BodyTooLarge => " with --chunk-records",
        Remedy::NotUtf8 => " (drop --no-check)",
    }
}

/// `a..b`, or `a` alone when `a == b`.
fn span(a: u64, b: u64) -> String {
    if a == b {
        a.to_string()
    } else {
        format!("{a}..{b}")
    }
}

/// The command that sends the rest again from `record`, with the options of this run.
fn resume_command(args: &RestoreArgs, record: u64) -> String {
    let mut words = vec![
        "cnosdb-migrate".to_string(),
        "restore".to_string(),
        shell_word(&args.url),
    ];
    let from_stdin = is_stdout(args.input.as_deref());
    words.push(match &args.input {
        Some(p) if !from_stdin => shell_word(&p.display().to_string()),
        _ => "FILE".to_string(),
    });
    words.push(format!("--resume-from {record}"));
    if let Some(n) = args.chunk_records {
        words.push(format!("--chunk-records {n}"));
    }
    if let Some(t) = args.target {
        words.push(format!("--target {t}"));
    }
    if let Some(p) = &args.target_from {
        words.push(format!(
            "--target-from {}",
            shell_word(&p.display().to_string())
        ));
    }
    if args.no_check {
        words.push("--no-check".to_string());
    }
    if let Some(d) = args.connect_timeout {
        words.push(format!("--connect-timeout {}", d.as_secs_f64()));
    }
    if let Some(d) = args.read_timeout {
        words.push(format!("--read-timeout {}", d.as_secs_f64()));
    }
    if args.quiet {
        words.push("-q".to_string());
    }
    let mut cmd = words.join(" ");
    if from_stdin {
        cmd.push_str("\n(the input came from stdin: save the same bytes to FILE)");
    }
    cmd
}

/// `s` as one POSIX shell word.
fn shell_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_./:=@%+,-".contains(&b));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Records sent so far, on stderr when it is a terminal; hidden otherwise.
fn progress_bar(quiet: bool, records: u64) -> ProgressBar {
    if quiet || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(records);
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} {bar:30} {pos}/{len} records {msg} {elapsed}")
    {
        bar.set_style(style);
    }
    bar.set_draw_target(ProgressDrawTarget::stderr());
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words() {
        assert_eq!(shell_word("http://h:8901"), "http://h:8901");
        assert_eq!(shell_word("my dump.txt"), "'my dump.txt'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word(""), "''");
    }
}
