//! `copy`: plans every table's time chunks and runs them through the library's
//! [`copy_rows`], then prints the table of what was copied.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

use clap::Args;

use super::copy_compare::{comparison_table, comparison_totals, write_comparisons, VerifyLevel};
use super::copy_plan::{plan, Format, Selection};
use super::copy_report::{print_dry_run, print_summary, write_report, Watch};
use super::password::from_env_or_terminal;
use cnosdb_migrate::copy::compare::{compare_tables, TableComparison};
use cnosdb_migrate::copy::ledger::{self, Ledger};
use cnosdb_migrate::copy::plan::{plan_tables, PlanOptions};
use cnosdb_migrate::copy::schema::schema_differences;
use cnosdb_migrate::copy::{copy_rows, CopyConfig, CopyOutcome, Nodes, TablePlan};
use cnosdb_migrate::error::{Error, Result, EXIT_INTERRUPTED, EXIT_OK, EXIT_REMOTE};
use cnosdb_migrate::output::{is_stdout, Output};
use cnosdb_migrate::remote::sql::{Credentials, SqlNode};
use cnosdb_migrate::tables::sql::{CopyDir, FileFormat};
use cnosdb_migrate::tables::time::{format_timestamp, parse_timestamp};

/// Arguments of `copy`.
#[derive(Debug, Args)]
pub struct CopyArgs {
    /// The dump that lists the tables (`/dump` or `/debug` form); `-` or absent for stdin.
    pub input: Option<PathBuf>,
    /// The old (2.3) data node's HTTP address, e.g. http://old:8902.
    #[arg(long, value_name = "URL")]
    pub from: String,
    /// The new (2.4) data node's HTTP address, e.g. http://new:8902.
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// Staging location both data nodes can reach: a shared directory (file:///path) or an
    /// object store (s3://bucket/prefix, see --s3-*); each table gets
    /// <dir>/<tenant>/<db>/<table>.
    #[arg(long, value_name = "URL", required_unless_present = "verify_only")]
    pub dir: Option<String>,
    #[command(flatten)]
    pub s3: super::s3::S3Args,
    /// File format of the copied rows.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// User for Basic auth on both nodes.
    #[arg(long, default_value = "root")]
    pub user: String,
    /// Read the password from this environment variable (else it is asked on the terminal).
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    /// User on the new node, when it differs from --user.
    #[arg(long, value_name = "USER")]
    pub to_user: Option<String>,
    /// Environment variable with the new node's password, when it differs.
    #[arg(long, value_name = "VAR")]
    pub to_password_env: Option<String>,
    /// Keep a ledger of every chunk's steps in FILE (JSON Lines); a rerun continues where
    /// the last run stopped.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Chunks in flight at once: while one imports, the next exports.
    #[arg(long, value_name = "N", default_value_t = 2,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallel: u16,
    /// At most N exports at once on the old node (default: as many as --parallel).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub exports: Option<u16>,
    /// At most N imports (and their counts) at once on the new node (default: as many as
    /// --parallel).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub imports: Option<u16>,
    /// Halve a time chunk while the old node counts more than N rows in it.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub chunk_rows: Option<u64>,
    /// Copy only rows at or after this time: RFC 3339 (2025-01-31T00:00:00Z) or
    /// nanoseconds since the epoch.
    #[arg(long, value_name = "TIMESTAMP", value_parser = parse_since)]
    pub since: Option<i64>,
    /// Also copy chunks older than their database's TTL (the new node refuses such rows).
    #[arg(long)]
    pub include_expired: bool,
    /// Tries again a statement failing with no answer or a 5xx, N times (with backoff).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub retries: u32,
    /// Print the statements and where they would go; send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// After the chunks, compare every table on both nodes: `rows` (count, first and last
    /// time), `content` (also every column's count, min and max per chunk), or `none`.
    #[arg(long, value_enum, value_name = "LEVEL", default_value_t)]
    pub verify: VerifyLevel,
    /// Copy nothing: only compare the tables on both nodes (as --verify says; exit 0 only
    /// when none differs).
    #[arg(long, conflicts_with = "dry_run")]
    pub verify_only: bool,
    /// Also write the final table as JSON Lines to PATH (replaced if it exists); `-`: on stdout,
    /// instead of the text table.
    #[arg(long, value_name = "PATH")]
    pub report: Option<PathBuf>,
    /// Give up on a statement after SECS seconds (default: wait as long as the server works).
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: Option<u64>,
    /// No progress bar.
    #[arg(short, long)]
    pub quiet: bool,
    /// A progress line per chunk on stderr instead of a bar (for `upgrade`'s logs).
    #[arg(long, hide = true)]
    pub progress_lines: bool,
    #[command(flatten)]
    pub selection: Selection,
}

fn parse_since(s: &str) -> std::result::Result<i64, String> {
    parse_timestamp(s)
}

/// Stops with the list of differences when a table differs between the nodes.
fn check_schemas(plan: &[TablePlan], nodes: Nodes<'_>, threads: usize) -> Result<()> {
    let differences =
        schema_differences(plan, nodes, threads).map_err(|e| Error::Remote(e.to_string()))?;
    if differences.is_empty() {
        return Ok(());
    }
    for d in &differences {
        say!("cnosdb-migrate: {d}");
    }
    Err(Error::Remote(format!(
        "{} differences between the tables of the two nodes (DESCRIBE TABLE): nothing \
         copied; restore the converted meta dump into the new cluster first, or leave those \
         tables out",
        differences.len()
    )))
}

/// Runs `copy`.
pub fn run(args: CopyArgs) -> Result<u8> {
    // A comparison sends no COPY INTO: the staging directory only names the plan's locations.
    let dir = args.dir.as_deref().unwrap_or("file:///unused");
    let dir = CopyDir::parse(dir).map_err(|e| Error::Usage(format!("--dir: {e}")))?;
    let dir = args.s3.connect(dir)?;
    let format = args.format.into();
    if args.state.as_deref().is_some_and(|p| is_stdout(Some(p))) {
        return Err(Error::Usage("--state needs a file path".into()));
    }
    let timeout = args.timeout.map(Duration::from_secs);
    let mut from =
        SqlNode::new(&args.from, timeout).map_err(|e| Error::Usage(format!("--from: {e}")))?;
    let mut to = SqlNode::new(&args.to, timeout).map_err(|e| Error::Usage(format!("--to: {e}")))?;

    super::term::notice_stdin(args.input.as_deref(), "the dump");
    let tables = plan(args.input.as_deref(), &args.selection, &dir, format)?;
    let options = PlanOptions {
        chunk_rows: args.chunk_rows,
        since_ns: args.since,
        now_ns: cnosdb_migrate::copy::now_ns(),
        threads: usize::from(args.parallel),
    };
    // A dry run without counting needs no password and sends nothing.
    let ask = !args.dry_run || args.chunk_rows.is_some();
    if ask {
        let (from_creds, to_creds) = credentials(&args)?;
        from.set_credentials(&from_creds);
        to.set_credentials(&to_creds);
    }
    let selected = tables.copy.iter().map(|p| (p.info.clone(), p.url.clone()));
    let chunked = plan_tables(selected.collect(), &tables.layouts, &options, Some(&from))
        .map_err(|e| Error::Remote(e.to_string()))?;
    if args.dry_run {
        let progress = match &args.state {
            Some(path) => ledger::read(path, to.url())?,
            None => Default::default(),
        };
        print_dry_run(&chunked, &progress, (&from, &to), format, dir.connection())?;
        return Ok(EXIT_OK);
    }
    let nodes = Nodes {
        from: &from,
        to: &to,
    };
    if args.verify_only {
        return verify_only(&args, &chunked, nodes);
    }
    check_schemas(&chunked, nodes, usize::from(args.parallel))?;
    if let Some(conn) = dir.connection() {
        say!("cnosdb-migrate: {}", super::s3::history_warning(conn));
    }
    let mut ledger = match &args.state {
        Some(path) => Some(Ledger::open(path, to.url())?),
        None => None,
    };
    let config = copy_config(&args, &dir, format);
    let watch = Watch::new(
        chunked.iter().map(|t| t.chunks.len()).sum(),
        args.quiet,
        args.progress_lines,
    );
    let outcome = copy_rows(&chunked, &config, nodes, ledger.as_mut(), &watch)?;
    watch.finish();
    let stopped_early = config.stop.load(Ordering::SeqCst);
    let definitions_only = tables.definitions_only.len();
    conclude(
        &args,
        &chunked,
        &outcome,
        stopped_early,
        definitions_only,
        ledger.as_mut(),
    )
}

/// How the copy runs, from the arguments.
fn copy_config(args: &CopyArgs, dir: &CopyDir, format: FileFormat) -> CopyConfig {
    CopyConfig {
        format,
        connection: dir.connection().cloned(),
        parallel: usize::from(args.parallel),
        exports: usize::from(args.exports.unwrap_or(args.parallel)),
        imports: usize::from(args.imports.unwrap_or(args.parallel)),
        retries: args.retries,
        backoff: Duration::from_millis(500),
        include_expired: args.include_expired,
        stop: super::interrupt::stop_flag(super::interrupt::COPY_STOPPING),
        compare: match args.verify {
            VerifyLevel::None => None,
            level => Some(level == VerifyLevel::Content),
        },
    }
}

/// After the chunks: the summary, the report, the comparison's verdicts, the pass in the
/// ledger, and the exit code.
fn conclude(
    args: &CopyArgs,
    chunked: &[TablePlan],
    outcome: &CopyOutcome,
    stopped_early: bool,
    definitions_only: usize,
    ledger: Option<&mut Ledger>,
) -> Result<u8> {
    let failed = outcome.chunks.iter().filter(|o| !o.status.ok()).count();
    // A table is compared once its every chunk is verified; after a failure or a stop the
    // copy is unfinished, and so is the comparison.
    let compared = match failed > 0 || stopped_early {
        true => Vec::new(),
        false => outcome.compared.clone(),
    };
    let report_to_stdout = args.report.as_deref().is_some_and(|p| is_stdout(Some(p)));
    if !report_to_stdout {
        print_summary(chunked, outcome, definitions_only)?;
        if !compared.is_empty() {
            say!("{}", comparison_totals(chunked, &compared).trim_end());
        }
    }
    if let Some(path) = &args.report {
        write_report(path, chunked, outcome, &compared)?;
    }
    if stopped_early {
        return Ok(stopped(outcome, args.state.is_some()));
    }
    let differ = compared.iter().filter(|c| !c.verdict.ok()).count();
    if differ > 0 {
        say!(
            "cnosdb-migrate: {differ} tables differ between the nodes after every chunk was \
             verified: rows were written or removed on one of them during the copy, or a chunk \
             was copied by another run; see the lines above"
        );
        return Ok(EXIT_REMOTE);
    }
    if failed > 0 {
        let errors = outcome.chunks.iter().filter_map(|o| o.error.as_deref());
        if let Some(hint) = errors.filter_map(super::s3::refused_keys_hint).next() {
            say!("cnosdb-migrate: {hint}");
        }
        say!(
            "cnosdb-migrate: {failed} of {} chunks not copied; fix the cause and run the same \
             command again{}",
            outcome.chunks.len(),
            if args.state.is_some() {
                " (the ledger skips the chunks already verified)"
            } else {
                " (with --state FILE a rerun skips the chunks already verified)"
            }
        );
        return Ok(EXIT_REMOTE);
    }
    if let Some(ledger) = ledger {
        record_pass(ledger, chunked, args.since)?;
    }
    Ok(EXIT_OK)
}

/// Records the finished pass and its watermark in the ledger, and says what the next pass is.
fn record_pass(ledger: &mut Ledger, plan: &[TablePlan], since: Option<i64>) -> Result<()> {
    if let Some(watermark) = ledger.finish_pass(plan, since)? {
        say!(
            "cnosdb-migrate: pass complete: every row written before {} ({watermark} ns) is on \
             the new cluster; once the writers write there, copy the rest with --since {watermark}",
            format_timestamp(watermark)
        );
    }
    Ok(())
}

/// `copy --verify-only`: the comparison of every table, as a table or JSON Lines.
fn verify_only(args: &CopyArgs, plan: &[TablePlan], nodes: Nodes<'_>) -> Result<u8> {
    let content = args.verify == VerifyLevel::Content;
    let compared: Vec<TableComparison> =
        compare_tables(plan, nodes, content, usize::from(args.parallel));
    if let Some(path) = &args.report {
        write_comparisons(path, plan, &compared)?;
    }
    if !args.report.as_deref().is_some_and(|p| is_stdout(Some(p))) {
        let mut out = Output::open(None, false, true)?;
        out.write_all(comparison_table(plan, &compared).as_bytes())
            .map_err(|e| Error::io("writing to stdout", e))?;
        out.commit()?;
    }
    Ok(if compared.iter().all(|c| c.verdict.ok()) {
        EXIT_OK
    } else {
        EXIT_REMOTE
    })
}

/// What is said when the copy was stopped; its exit code.
fn stopped(outcome: &CopyOutcome, ledger: bool) -> u8 {
    let left = outcome.chunks.iter().filter(|o| !o.status.ok()).count();
    say!(
        "cnosdb-migrate: stopped: {left} of {} chunks left to copy; {}",
        outcome.chunks.len(),
        if ledger {
            "run the same command again (with the same --state) to go on where it stopped"
        } else {
            "without --state a rerun copies every chunk again: pass --state FILE next time"
        }
    );
    EXIT_INTERRUPTED
}

/// The two nodes' credentials: the password from the environment, else from the terminal.
fn credentials(args: &CopyArgs) -> Result<(Credentials, Credentials)> {
    let from = Credentials {
        user: args.user.clone(),
        password: from_env_or_terminal(
            "--password-env",
            args.password_env.as_deref(),
            &args.user,
            &args.from,
        )?,
    };
    let to = match (&args.to_user, &args.to_password_env) {
        (None, None) => from.clone(),
        (user, var) => {
            let user = user.clone().unwrap_or_else(|| args.user.clone());
            let password =
                from_env_or_terminal("--to-password-env", var.as_deref(), &user, &args.to)?;
            Credentials { user, password }
        }
    };
    Ok((from, to))
}
