//! The `cnosdb-migrate` command: argument parsing and exit codes; the work is in the library.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use cnosdb_migrate::commands;

const EXIT_CODES: &str = "Exit codes:
  0  success
  1  invalid input (or `check` found problems)
  2  usage error
  3  I/O error
  4  remote failure (connection, status, body, count mismatch)";

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
    Copy(commands::copy::CopyArgs),
    /// Download a dump from a meta service (GET /dump or /debug), checked and saved atomically.
    #[command(after_help = EXIT_CODES)]
    Fetch(commands::fetch::FetchArgs),
    /// Send a restore-ready file to a meta service (POST /restore) and verify the count.
    #[command(after_help = EXIT_CODES)]
    Restore(commands::restore::RestoreArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let result = match cli.command {
        Command::Transform(args) => commands::transform::run(args),
        Command::Tables(args) => commands::tables::run(args),
        Command::CopyPlan(args) => commands::copy_plan::run(args),
        Command::Copy(args) => commands::copy::run(args),
        Command::Fetch(args) => commands::fetch::run(args),
        Command::Restore(args) => commands::restore::run(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cnosdb-migrate: error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
