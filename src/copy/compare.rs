//! Every table compared on both nodes over the time range the copy took (during the copy: the
//! old node's side once the table's chunks are exported, the new node's once they are
//! verified, from the chunks' own counts when all were counted in this run; or on its own) —
//! the row count and the first and last time (with a time condition, so that 2.4 counts rows
//! of the same series and time once) — and, when asked, each column's count, min and max over
//! every chunk.

use super::{Nodes, TablePlan};
use crate::remote::sql::{SqlError, SqlNode};
use crate::tables::chunks::Chunk;
use crate::tables::quote::quote_ident;
use crate::tables::sql::extent_statement;
use crate::tables::TableInfo;

/// What one node holds of a table over a time range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Extent {
    /// Rows counted.
    pub rows: u64,
    /// The first time, in the database's unit.
    pub first: Option<i64>,
    /// The last time, in the database's unit.
    pub last: Option<i64>,
}

impl Extent {
    /// Adds what the node holds over another, disjoint range.
    pub fn add(&mut self, other: Extent) {
        self.rows += other.rows;
        self.first = self.first.into_iter().chain(other.first).min();
        // `None` orders before every `Some`.
        self.last = self.last.max(other.last);
    }
}

/// How a table compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The same count, first and last time (and columns, when compared).
    Equal,
    /// The new node holds every row's range and more rows: rows of its own, or rows the old
    /// node no longer holds.
    More,
    /// Fewer rows on the new node, another first or last time, or a column that differs.
    Differs,
    /// Nothing to compare: every chunk of the table is older than its TTL.
    Skipped,
    /// A node did not answer.
    Failed,
}

impl Verdict {
    /// The verdict's name in tables and reports.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Equal => "equal",
            Verdict::More => "more",
            Verdict::Differs => "differs",
            Verdict::Skipped => "skipped",
            Verdict::Failed => "failed",
        }
    }

    /// True unless rows may be missing (or could not be compared).
    pub fn ok(self) -> bool {
        matches!(self, Verdict::Equal | Verdict::More | Verdict::Skipped)
    }
}

/// One table on both nodes.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TableComparison {
    /// Index of the table in the plan.
    #[serde(skip)]
    pub table: usize,
    /// The range compared: from the first chunk the copy took to the end of its last.
    pub range: Chunk,
    /// The old node's rows in the range.
    pub old: Extent,
    /// The new node's rows in the range.
    pub new: Extent,
    /// Every column difference found, one line each (with `columns`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
    /// The verdict.
    pub verdict: Verdict,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Compares every table of `plan` on both nodes; with `columns`, also every column's count,
/// min and max over each chunk (columns from `DESCRIBE TABLE` on the old node). Up to
/// `threads` tables at once, each with a statement to both nodes at the same time.
pub fn compare_tables(
    plan: &[TablePlan],
    nodes: Nodes<'_>,
    columns: bool,
    threads: usize,
) -> Vec<TableComparison> {
    let indexed: Vec<(usize, &TablePlan)> = plan.iter().enumerate().collect();
    super::par_map(&indexed, threads, |&(i, p)| {
        compare_table(i, p, nodes, columns)
    })
}

fn compare_table(i: usize, p: &TablePlan, nodes: Nodes<'_>, columns: bool) -> TableComparison {
    let Some(range) = copied_range(p) else {
        return skipped(i);
    };
    let sides = super::both(
        || extent(nodes.from, p, &range),
        || extent(nodes.to, p, &range),
    );
    judge(i, p, nodes, columns, sides)
}

/// What is sent to the comparing thread while the copy goes on.
pub(super) enum Event {
    /// Every chunk of table `.0` is exported (or needs no export): the old node's side.
    Exported(usize),
    /// Every chunk of table `.0` is finished and verified: the new node's side, the verdict.
    /// `.1`: what the new node counted in each chunk right after its import, when every chunk
    /// was counted in this run (none came verified from an earlier run's ledger): then it is
    /// the new node's side, with no second scan.
    Finished(usize, Option<Extent>),
}

/// The comparing thread of a copy: the old node's side of a table as soon as all its chunks
/// are exported (so that it runs while the new node imports), the new node's side and the
/// verdict once they are all verified. Returns the comparisons in the order they finished.
pub(super) fn compare_as_copied(
    events: std::sync::mpsc::Receiver<Event>,
    plan: &[TablePlan],
    nodes: Nodes<'_>,
    columns: bool,
) -> Vec<TableComparison> {
    let mut old: Vec<Option<Result<Extent, String>>> = plan.iter().map(|_| None).collect();
    let mut out = Vec::new();
    for event in events {
        let side = |t: usize| copied_range(&plan[t]).map(|r| extent(nodes.from, &plan[t], &r));
        match event {
            Event::Exported(t) => old[t] = side(t),
            Event::Finished(t, counted) => {
                let Some(old) = old[t].take().or_else(|| side(t)) else {
                    out.push(skipped(t));
                    continue;
                };
                let range = copied_range(&plan[t]).unwrap_or(Chunk::ALL);
                let new = counted.map_or_else(|| extent(nodes.to, &plan[t], &range), Ok);
                out.push(judge(t, &plan[t], nodes, columns, (old, new)));
            }
        }
    }
    out.sort_by_key(|c| c.table);
    out
}

/// A table the copy took no chunk of.
fn skipped(i: usize) -> TableComparison {
    TableComparison {
        table: i,
        range: Chunk::ALL,
        old: Extent::default(),
        new: Extent::default(),
        columns: Vec::new(),
        verdict: Verdict::Skipped,
        error: None,
    }
}

/// The verdict on table `i` from both nodes' sides.
fn judge(
    i: usize,
    p: &TablePlan,
    nodes: Nodes<'_>,
    columns: bool,
    sides: (Result<Extent, String>, Result<Extent, String>),
) -> TableComparison {
    let mut out = skipped(i);
    out.range = copied_range(p).unwrap_or(Chunk::ALL);
    let (old, new) = match sides {
        (Ok(old), Ok(new)) => (old, new),
        (Err(e), _) | (_, Err(e)) => return failed(out, e),
    };
    (out.old, out.new) = (old, new);
    out.verdict = if old == new {
        Verdict::Equal
    } else if new.rows > old.rows && covers(new, old) {
        Verdict::More
    } else {
        Verdict::Differs
    };
    if columns && out.verdict != Verdict::Differs {
        match column_differences(p, nodes) {
            Ok(d) if d.is_empty() => {}
            Ok(d) => (out.columns, out.verdict) = (d, Verdict::Differs),
            Err(e) => return failed(out, e),
        }
    }
    out
}

fn failed(mut out: TableComparison, e: String) -> TableComparison {
    out.verdict = Verdict::Failed;
    out.error = Some(e);
    out
}

/// True when `new`'s first and last time enclose `old`'s.
fn covers(new: Extent, old: Extent) -> bool {
    let first = match (new.first, old.first) {
        (Some(n), Some(o)) => n <= o,
        (_, None) => true,
        (None, Some(_)) => false,
    };
    let last = match (new.last, old.last) {
        (Some(n), Some(o)) => n >= o,
        (_, None) => true,
        (None, Some(_)) => false,
    };
    first && last
}

/// From the start of the first chunk the copy takes (those older than the TTL left out) to
/// the end of its last; `None` when it takes none. An open start becomes the earliest time,
/// so that the statement always holds a time condition.
fn copied_range(p: &TablePlan) -> Option<Chunk> {
    let mut taken = p.chunks.iter().filter(|c| !c.expired);
    let first = taken.next()?;
    let last = taken.next_back().unwrap_or(first);
    Some(Chunk {
        start: Some(first.chunk.start.unwrap_or(i64::MIN + 1)),
        end: last.chunk.end,
    })
}

/// What `node` holds of table `info` over `range` ([`extent_statement`]).
pub(super) fn query_extent(
    node: &SqlNode,
    info: &TableInfo,
    range: &Chunk,
) -> Result<Extent, SqlError> {
    let sql = extent_statement(info, range);
    let body = node.query_csv(&info.tenant, &info.database, &sql)?;
    parse_extent(&body).map_err(SqlError::Body)
}

/// [`query_extent`], its error worded with the table, the node and the statement.
fn extent(node: &SqlNode, p: &TablePlan, range: &Chunk) -> Result<Extent, String> {
    query_extent(node, &p.info, range)
        .map_err(|e| answer_error(node, p, &extent_statement(&p.info, range), &e))
}

/// The one row of an extent statement's CSV answer.
fn parse_extent(body: &str) -> Result<Extent, String> {
    let rows = csv_rows(body)?;
    let value = |r: &[String], i: usize| r.get(i).filter(|v| !v.is_empty()).cloned();
    let row = rows.get(1).map(Vec::as_slice).unwrap_or_default();
    let int = |i: usize| -> Result<Option<i64>, String> {
        value(row, i)
            .map(|v| v.parse().map_err(|_| format!("not a time: {v:?}")))
            .transpose()
    };
    Ok(Extent {
        rows: match value(row, 0) {
            Some(v) => v.parse().map_err(|_| format!("not a count: {v:?}"))?,
            None => 0,
        },
        first: int(1)?,
        last: int(2)?,
    })
}

fn answer_error(node: &SqlNode, p: &TablePlan, sql: &str, e: &SqlError) -> String {
    format!(
        "table {} on {}: {e}; statement: {sql}",
        p.info.qualified(),
        node.url()
    )
}

/// Each chunk's `count`, `min` and `max` of every column but `time`, on both nodes; one line
/// per column and chunk that differs.
fn column_differences(p: &TablePlan, nodes: Nodes<'_>) -> Result<Vec<String>, String> {
    let names = super::schema::column_names(nodes.from, &p.info).map_err(|e| e.to_string())?;
    let names: Vec<&String> = names.iter().filter(|c| c.as_str() != "time").collect();
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let aggregates: Vec<String> = names
        .iter()
        .map(|c| {
            let c = quote_ident(c);
            format!("count({c}), min({c}), max({c})")
        })
        .collect();
    let mut out = Vec::new();
    for c in p.chunks.iter().filter(|c| !c.expired) {
        let mut sql = format!(
            "SELECT {} FROM {}",
            aggregates.join(", "),
            quote_ident(&p.info.table)
        );
        if let Some(w) = c.chunk.predicate() {
            sql.push_str(" WHERE ");
            sql.push_str(&w);
        }
        let answer = |node: &SqlNode| -> Result<Vec<String>, String> {
            let body = node
                .query_csv(&p.info.tenant, &p.info.database, &sql)
                .map_err(|e| answer_error(node, p, &sql, &e))?;
            let mut rows = csv_rows(&body).map_err(|e| format!("{}: {e}", node.url()))?;
            Ok(if rows.len() > 1 {
                rows.swap_remove(1)
            } else {
                Vec::new()
            })
        };
        let (old, new) = (answer(nodes.from)?, answer(nodes.to)?);
        for (k, name) in names.iter().enumerate() {
            for (j, what) in ["count", "min", "max"].iter().enumerate() {
                let (a, b) = (old.get(3 * k + j), new.get(3 * k + j));
                if !same_value(a, b) {
                    out.push(format!(
                        "table {}: chunk {}: {what}({name}) is {} on the old node, {} on the new",
                        p.info.qualified(),
                        c.chunk.id(),
                        shown(a),
                        shown(b)
                    ));
                }
            }
        }
    }
    Ok(out)
}

/// Equal text, or equal numbers (a float may be printed with other digits by another
/// release).
fn same_value(a: Option<&String>, b: Option<&String>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) if a == b => true,
        (Some(a), Some(b)) => matches!(
            (a.parse::<f64>(), b.parse::<f64>()),
            (Ok(x), Ok(y)) if x == y
        ),
        (None, None) => true,
        _ => false,
    }
}

fn shown(v: Option<&String>) -> String {
    match v {
        Some(v) if v.is_empty() => "null".into(),
        Some(v) => format!("{:?}", crate::tables::printable(v)),
        None => "absent".into(),
    }
}

/// The records of a CSV answer (the header first): fields split at commas, `"…"` quoted with
/// `""` for a quote, records at line ends outside quotes.
fn csv_rows(body: &str) -> Result<Vec<Vec<String>>, String> {
    let text = body.trim_start_matches('\u{feff}');
    let (mut rows, mut row, mut field) = (Vec::new(), Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(ch) = chars.next() {
        match (quoted, ch) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err("a CSV answer ends inside a quoted value".into());
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    Ok(rows)
}

#[cfg(test)]
#[path = "compare_tests.rs"]
mod tests;
