//! `inspect`: a summary of any dump, either form, either version.

use std::io::{self, Write};
use std::path::PathBuf;

use clap::Args;

use cnosdb_migrate::error::{Error, Result, EXIT_OK};
use cnosdb_migrate::inspect::inspect;
use cnosdb_migrate::output::open_rereadable_input;
use cnosdb_migrate::source::Rereadable as _;

/// Arguments of `inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The dump to read (`/dump` or `/debug` form, 2.3 or 2.4); `-` or absent for stdin.
    pub input: Option<PathBuf>,
    /// The summary as one JSON document.
    #[arg(long)]
    pub json: bool,
}

/// Runs `inspect`.
pub fn run(args: InspectArgs) -> Result<u8> {
    super::term::notice_stdin(args.input.as_deref(), "the dump");
    let input = open_rereadable_input(args.input.as_deref())?;
    let summary = inspect(input.reader())?;
    super::refuse_nothing_to_restore(
        summary.records,
        &summary.dropped_by_key,
        &input,
        args.input.as_deref(),
    )?;
    let text = if args.json {
        serde_json::to_string_pretty(&summary).unwrap_or_default() + "\n"
    } else {
        // The warnings' heading is coloured on a terminal.
        let heading = super::term::WARNING;
        summary.human().replacen(
            "\nwarnings:\n",
            &format!("\n{heading}warnings:{heading:#}\n"),
            1,
        )
    };
    anstream::AutoStream::auto(io::stdout().lock())
        .write_all(text.as_bytes())
        .map_err(|e| Error::io("writing to stdout", e))?;
    Ok(EXIT_OK)
}
