//! `tables`: every table a dump lists, with its engine and column counts.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use cnosdb_migrate::error::{Error, Result, EXIT_OK};
use cnosdb_migrate::output::{open_rereadable_input, Output};
use cnosdb_migrate::source::Rereadable as _;
use cnosdb_migrate::tables::{printable, read_tables, Engine, TableInfo};

/// Arguments of `tables`.
#[derive(Debug, Args)]
pub struct TablesArgs {
    /// The dump to read (`/dump` or `/debug` form, 2.3 or 2.4); `-` or absent for stdin.
    pub input: Option<PathBuf>,
    /// One JSON object per table and line, instead of a text table.
    #[arg(long)]
    pub json: bool,
}

/// Runs `tables`.
pub fn run(args: TablesArgs) -> Result<u8> {
    super::term::notice_stdin(args.input.as_deref(), "the dump");
    let input = open_rereadable_input(args.input.as_deref())?;
    super::scan_names(&input, args.input.as_deref())?;
    let tables = read_tables(input.reader())?;
    let mut out = Output::open(None, false, true)?;
    let written = if args.json {
        tables.iter().try_for_each(|t| {
            serde_json::to_writer(&mut out, t)?;
            out.write_all(b"\n")
        })
    } else {
        out.write_all(render(&tables).as_bytes())
    };
    written.map_err(|e| Error::io("writing to stdout", e))?;
    out.commit()?;
    Ok(EXIT_OK)
}

fn render(tables: &[TableInfo]) -> String {
    let rows: Vec<Vec<String>> = tables
        .iter()
        .map(|t| {
            vec![
                printable(&t.tenant).into_owned(),
                printable(&t.database).into_owned(),
                printable(&t.table).into_owned(),
                t.engine.to_string(),
                t.tags.map_or_else(|| "-".into(), |n| n.to_string()),
                t.fields.to_string(),
                if t.system {
                    "system".into()
                } else if t.engine.holds_rows() {
                    "rows".into()
                } else {
                    "definition only".into()
                },
            ]
        })
        .collect();
    let mut text = text_table(
        &[
            "TENANT", "DATABASE", "TABLE", "ENGINE", "TAGS", "FIELDS", "DATA",
        ],
        &[false, false, false, false, true, true, false],
        &rows,
    );
    let n = |e: Engine| tables.iter().filter(|t| t.engine == e).count();
    text.push_str(&format!(
        "{} tables: {} TSKV (hold rows, {} in system databases), {} EXTERNAL, {} STREAM (definitions only)\n",
        tables.len(),
        n(Engine::Tskv),
        tables.iter().filter(|t| t.system && t.engine.holds_rows()).count(),
        n(Engine::External),
        n(Engine::Stream),
    ));
    text
}

/// Lays out rows under a header, columns separated by two spaces; `right[i]` right-aligns
/// column `i`. Trailing spaces are trimmed.
pub fn text_table(header: &[&str], right: &[bool], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            let pad = widths[i].saturating_sub(cell.chars().count());
            if i > 0 {
                line.push_str("  ");
            }
            if right.get(i).copied().unwrap_or(false) {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            }
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}
