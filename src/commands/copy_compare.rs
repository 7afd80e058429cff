//! What `copy` shows of the tables compared on both nodes after the chunks (and of
//! `copy --verify-only`): a table, or JSON Lines.

use std::io::Write;
use std::path::Path;

use clap::ValueEnum;
use serde::Serialize;

use super::tables::text_table;
use cnosdb_migrate::copy::compare::{TableComparison, Verdict};
use cnosdb_migrate::copy::TablePlan;
use cnosdb_migrate::error::{Error, Result};
use cnosdb_migrate::output::Output;
use cnosdb_migrate::tables::printable;

/// How the tables are compared on both nodes once their chunks are copied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum VerifyLevel {
    /// Not compared (each chunk is still counted on the new node).
    None,
    /// Each table's row count and first and last time.
    #[default]
    Rows,
    /// Also every column's count, min and max over each chunk.
    Content,
}

/// One line of the JSON Lines comparison report.
#[derive(Serialize)]
struct Line<'a> {
    tenant: &'a str,
    database: &'a str,
    table: &'a str,
    #[serde(flatten)]
    comparison: &'a TableComparison,
}

/// Writes one JSON line per table to `path` (replaced; `-`: stdout).
pub fn write_comparisons(
    path: &Path,
    plan: &[TablePlan],
    compared: &[TableComparison],
) -> Result<()> {
    let mut out = Output::open(Some(path), true, false)?;
    compared
        .iter()
        .try_for_each(|c| {
            let i = &plan[c.table].info;
            let line = Line {
                tenant: &i.tenant,
                database: &i.database,
                table: &i.table,
                comparison: c,
            };
            serde_json::to_writer(&mut out, &line)?;
            out.write_all(b"\n")
        })
        .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
    out.commit()
}

/// The table of every comparison: rows and first/last time on both nodes, the verdict.
pub fn comparison_table(plan: &[TablePlan], compared: &[TableComparison]) -> String {
    let time = |t: Option<i64>| t.map_or_else(|| "-".into(), |t| t.to_string());
    let rows: Vec<Vec<String>> = compared
        .iter()
        .map(|c| {
            let i = &plan[c.table].info;
            vec![
                printable(&i.tenant).into_owned(),
                printable(&i.database).into_owned(),
                printable(&i.table).into_owned(),
                c.old.rows.to_string(),
                c.new.rows.to_string(),
                format!("{}..{}", time(c.old.first), time(c.old.last)),
                format!("{}..{}", time(c.new.first), time(c.new.last)),
                c.verdict.name().to_string(),
            ]
        })
        .collect();
    let mut text = text_table(
        &[
            "TENANT",
            "DATABASE",
            "TABLE",
            "OLD ROWS",
            "NEW ROWS",
            "OLD TIMES",
            "NEW TIMES",
            "VERDICT",
        ],
        &[false, false, false, true, true, false, false, false],
        &rows,
    );
    text.push_str(&comparison_totals(plan, compared));
    text
}

/// The totals line, then a line for each table that does not compare equal.
pub fn comparison_totals(plan: &[TablePlan], compared: &[TableComparison]) -> String {
    let n = |v: Verdict| compared.iter().filter(|c| c.verdict == v).count();
    let mut text = format!(
        "{} tables compared on both nodes (rows, first and last time): {} equal, {} with more \
         rows on the new node, {} differ, {} skipped (expired), {} failed\n",
        compared.len(),
        n(Verdict::Equal),
        n(Verdict::More),
        n(Verdict::Differs),
        n(Verdict::Skipped),
        n(Verdict::Failed),
    );
    for c in compared {
        let name = plan[c.table].info.qualified();
        match c.verdict {
            Verdict::Equal | Verdict::Skipped => {}
            Verdict::More => text.push_str(&format!(
                "warning: table {name}: the new node holds {} rows in the copied range, the old \
                 one {} (rows of its own?)\n",
                c.new.rows, c.old.rows
            )),
            Verdict::Differs if c.columns.is_empty() => text.push_str(&format!(
                "table {name}: {} rows on the old node, {} on the new; times {:?}..{:?} and \
                 {:?}..{:?}\n",
                c.old.rows, c.new.rows, c.old.first, c.old.last, c.new.first, c.new.last
            )),
            Verdict::Differs => {
                for d in &c.columns {
                    text.push_str(d);
                    text.push('\n');
                }
            }
            Verdict::Failed => text.push_str(&format!(
                "table {name}: not compared: {}\n",
                c.error.as_deref().unwrap_or("?")
            )),
        }
    }
    text
}
