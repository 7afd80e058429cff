//! Before the copy: every table must exist on the new node with the old node's columns and
//! types (`DESCRIBE TABLE` on both), or the imports fail midway.

use std::collections::BTreeMap;

use super::{Nodes, TablePlan};
use crate::remote::sql::{SqlError, SqlNode};
use crate::tables::quote::quote_ident;
use crate::tables::TableInfo;

/// A `DESCRIBE TABLE` that failed for another reason than a missing table.
#[derive(Debug, thiserror::Error)]
#[error("table {table}: DESCRIBE TABLE on {node} failed: {error}")]
pub struct DescribeError {
    /// The table, `tenant.db.table`.
    pub table: String,
    /// The node's endpoint.
    pub node: String,
    /// What went wrong.
    pub error: SqlError,
}

/// Column name → `data_type column_type`, or `None` for a table the node does not have.
fn describe(
    node: &SqlNode,
    t: &TableInfo,
) -> Result<Option<BTreeMap<String, String>>, Box<DescribeError>> {
    let sql = format!("DESCRIBE TABLE {}", quote_ident(&t.table));
    match node.rows(&t.tenant, &t.database, &sql) {
        Ok(rows) => {
            let text = |r: &serde_json::Map<String, serde_json::Value>, k: &str| {
                r.get(k).and_then(|v| v.as_str()).unwrap_or("?").to_string()
            };
            Ok(Some(
                rows.iter()
                    .map(|r| {
                        let kind = format!("{} {}", text(r, "data_type"), text(r, "column_type"));
                        (text(r, "column_name"), kind)
                    })
                    .collect(),
            ))
        }
        Err(SqlError::Status {
            status, message, ..
        }) if (400..500).contains(&status) && message.contains("not found") => Ok(None),
        Err(error) => Err(Box::new(DescribeError {
            table: t.qualified(),
            node: node.endpoint(&t.tenant, &t.database),
            error,
        })),
    }
}

/// The columns of `t` on `node`, as `DESCRIBE TABLE` lists them; a missing table is an error.
pub(super) fn column_names(
    node: &SqlNode,
    t: &TableInfo,
) -> Result<Vec<String>, Box<DescribeError>> {
    match describe(node, t)? {
        Some(columns) => Ok(columns.into_keys().collect()),
        None => Err(Box::new(DescribeError {
            table: t.qualified(),
            node: node.endpoint(&t.tenant, &t.database),
            error: SqlError::Body("the table is not there".into()),
        })),
    }
}

/// Every difference between the two nodes' tables of `plan`, one line each; empty when they
/// agree. Up to `threads` tables at once, each described on both nodes at the same time.
pub fn schema_differences(
    plan: &[TablePlan],
    nodes: Nodes<'_>,
    threads: usize,
) -> Result<Vec<String>, Box<DescribeError>> {
    let per_table = super::par_map(plan, threads, |p| table_differences(p, nodes));
    let mut out = Vec::new();
    for differences in per_table {
        out.extend(differences?);
    }
    Ok(out)
}

/// The differences of one table.
fn table_differences(p: &TablePlan, nodes: Nodes<'_>) -> Result<Vec<String>, Box<DescribeError>> {
    let t = &p.info;
    let missing = |node: &SqlNode| {
        vec![format!(
            "table {}: missing on {}",
            t.qualified(),
            node.url()
        )]
    };
    let (old, new) = super::both(|| describe(nodes.from, t), || describe(nodes.to, t));
    let Some(old) = old? else {
        return Ok(missing(nodes.from));
    };
    let Some(new) = new? else {
        return Ok(missing(nodes.to));
    };
    let mut out = Vec::new();
    for (column, kind) in &old {
        match new.get(column) {
            None => out.push(format!(
                "table {}: column {column} ({kind}) missing on {}",
                t.qualified(),
                nodes.to.url()
            )),
            Some(k) if k != kind => out.push(format!(
                "table {}: column {column} is {kind} on {} but {k} on {}",
                t.qualified(),
                nodes.from.url(),
                nodes.to.url()
            )),
            Some(_) => {}
        }
    }
    for (column, kind) in new.iter().filter(|(c, _)| !old.contains_key(*c)) {
        out.push(format!(
            "table {}: column {column} ({kind}) only on {}",
            t.qualified(),
            nodes.to.url()
        ));
    }
    Ok(out)
}
