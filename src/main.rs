//! The `cnosdb-migrate` command: argument parsing and exit codes; the work is in the library.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
mod commands;
use cnosdb_migrate::output::Output;
use cnosdb_migrate::{Error, Result};

const EXIT_CODES: &str = "Exit codes:
  0  success
  1  invalid input, an input with no record to restore (or `check` found problems)
  2  usage error (also: a filter naming what the input does not hold, an output that is not
     a regular file, a dump to a terminal without --to-terminal)
  3  I/O error (also: a missing output directory)
  4  remote failure (connection, status, body, count mismatch)
  130  `copy` or `upgrade` stopped by Ctrl-C or SIGTERM (run the same command again to go on)";

/// Moves a CnosDB 2.3 meta store (and its tables' rows) to CnosDB 2.4.x.
#[derive(Parser)]
#[command(name = "cnosdb-migrate", version, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Convert a 2.3 meta dump into a restore-ready file for a 2.4.x release.
    #[command(after_help = EXIT_CODES)]
    Transform(commands::transform::TransformArgs),
    /// List every table of a dump: engine and column counts.
    Tables(commands::tables::TablesArgs),
    /// Write export.sql and import.sql (COPY INTO per table) to run with cnosdb-cli.
    CopyPlan(commands::copy_plan::CopyPlanArgs),
    /// Copy every table's rows from the old data node to the new one and compare counts.
    #[command(after_help = EXIT_CODES)]
    Copy(Box<commands::copy::CopyArgs>),
    /// Download a dump from a meta service (GET /dump or /debug), checked and saved atomically.
    #[command(after_help = EXIT_CODES)]
    Fetch(commands::fetch::FetchArgs),
    /// Send a restore-ready file to a meta service (POST /restore) and verify the count.
    #[command(after_help = EXIT_CODES)]
    Restore(commands::restore::RestoreArgs),
    /// Verify that a restore-ready file is safe for a 2.4.x release; list every problem.
    #[command(after_help = EXIT_CODES)]
    Check(commands::check::CheckArgs),
    /// Summarise any dump: form, release, tenants, databases, tables, users, warnings.
    #[command(after_help = EXIT_CODES)]
    Inspect(commands::inspect::InspectArgs),
    /// Dry run of transform: what would be dropped and patched, record by record.
    #[command(after_help = EXIT_CODES)]
    Diff(commands::diff::DiffArgs),
    /// After a restore: prove the new cluster holds every record sent (its /dump, by
    /// meaning) and lists every database and table (its SQL API).
    #[command(after_help = EXIT_CODES)]
    Verify(commands::verify::VerifyArgs),
    /// The whole upgrade in one command: pre-flight (changes nothing), restore, verify, copy,
    /// with every artifact and a journal in a work directory; a rerun continues.
    #[command(after_help = EXIT_CODES)]
    Upgrade(commands::upgrade::UpgradeArgs),
    /// Print a shell completion script, e.g. `cnosdb-migrate completions bash`.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) on stdout, or write one page per command into DIR.
    Man {
        /// Write cnosdb-migrate.1 and cnosdb-migrate-COMMAND.1 into this directory (pages
        /// already there are replaced); `-`: the main page on stdout.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// Prints the completion script for `shell` on stdout.
fn completions(shell: clap_complete::Shell) -> Result<u8> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "cnosdb-migrate", &mut script);
    to_stdout(&script)
}

/// Prints the main man page, or writes every page into `dir`.
fn man(dir: Option<&Path>) -> Result<u8> {
    let mut cli = Cli::command().disable_help_subcommand(true);
    cli.build();
    let render = |cmd: &clap::Command| -> Result<Vec<u8>> {
        let mut page = Vec::new();
        clap_mangen::Man::new(cmd.clone())
            .render(&mut page)
            .map_err(|e| Error::io("rendering the man page", e))?;
        Ok(page)
    };
    let Some(dir) = dir else {
        return to_stdout(&render(&cli)?);
    };
    let mut pages = vec![("cnosdb-migrate.1".to_string(), render(&cli)?)];
    for sub in cli.get_subcommands() {
        pages.push((format!("cnosdb-migrate-{}.1", sub.get_name()), render(sub)?));
    }
    for (name, page) in &pages {
        let path = dir.join(name);
        let mut out = Output::open(Some(&path), true, false)?;
        out.write_all(page)
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
        out.commit()?;
        // Output files are private (0600); a man page holds no secret and is for everyone.
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .map_err(|e| Error::io(format!("making {} readable", path.display()), e))?;
    }
    commands::term::stderr_line(&format!(
        "cnosdb-migrate: wrote {} man pages into {}",
        pages.len(),
        dir.display()
    ));
    Ok(0)
}

fn to_stdout(bytes: &[u8]) -> Result<u8> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| Error::io("writing to stdout", e))?;
    Ok(0)
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(cli.command) {
        Ok(code) => ExitCode::from(code),
        Err(e) if library_error(&e).is_some_and(Error::is_broken_pipe) => ExitCode::SUCCESS,
        Err(e) => {
            commands::term::error(&e);
            ExitCode::from(exit_code(&e))
        }
    }
}

/// Runs a subcommand; a library error comes back with the command line's advice as its
/// context, when there is advice to give.
fn run(command: Command) -> anyhow::Result<u8> {
    let result = match command {
        Command::Transform(args) => commands::transform::run(args),
        Command::Tables(args) => commands::tables::run(args),
        Command::CopyPlan(args) => commands::copy_plan::run(args),
        Command::Copy(args) => commands::copy::run(*args),
        Command::Fetch(args) => commands::fetch::run(args),
        Command::Restore(args) => commands::restore::run(args),
        Command::Check(args) => commands::check::run(args),
        Command::Inspect(args) => commands::inspect::run(args),
        Command::Diff(args) => commands::diff::run(args),
        Command::Verify(args) => commands::verify::run(args),
        Command::Upgrade(args) => commands::upgrade::run(args),
        Command::Completions { shell } => completions(shell),
        Command::Man { dir } => man(dir.as_deref().filter(|d| d.as_os_str() != "-")),
    };
    result.map_err(|e| match advice(&e) {
        Some(advice) => anyhow::Error::new(Advised(e, advice)),
        None => anyhow::Error::new(e),
    })
}

/// What the command line can do about a library error that does not say it itself.
fn advice(e: &Error) -> Option<&'static str> {
    match e {
        Error::OutputExists(_) => Some("pass --force to replace it"),
        _ => None,
    }
}

/// A library error and the command line's advice for it: `ERROR; ADVICE`.
#[derive(Debug)]
struct Advised(Error, &'static str);

impl std::fmt::Display for Advised {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}; {}", self.0, self.1)
    }
}

impl std::error::Error for Advised {}

/// The library error inside `e`, advised or not.
fn library_error(e: &anyhow::Error) -> Option<&Error> {
    (e.downcast_ref::<Advised>().map(|a| &a.0)).or_else(|| e.downcast_ref::<Error>())
}

/// The documented exit code of `e` (an error that is not the library's is an I/O error).
fn exit_code(e: &anyhow::Error) -> u8 {
    library_error(e).map_or(cnosdb_migrate::error::EXIT_IO, Error::exit_code)
}
