//! The chunk plan: each table's time chunks from its database's buckets, clipped to a start
//! time, chunks older than the TTL marked; with a row limit, large chunks halved while the old
//! node counts more rows in them, and small neighbours merged up to it.

use std::collections::BTreeMap;

use super::{PlannedChunk, TablePlan};
use crate::remote::sql::{SqlError, SqlNode};
use crate::tables::chunks::{bucket_chunks, expired, merge, split, Chunk, DbKey, DbLayout};
use crate::tables::sql::count_statement;
use crate::tables::TableInfo;

/// How chunks are cut.
#[derive(Debug, Clone, Copy)]
pub struct PlanOptions {
    /// Halve a chunk while the old node counts more rows in it; `None`: no counting.
    pub chunk_rows: Option<u64>,
    /// Only rows at or after this time (ns since the epoch).
    pub since_ns: Option<i64>,
    /// The time the TTL is measured from (ns since the epoch).
    pub now_ns: i64,
    /// Tables counted at once.
    pub threads: usize,
}

/// A count the old node did not answer while planning.
#[derive(Debug, thiserror::Error)]
#[error("table {table}: counting rows on {node} failed: {error}; statement: {statement}")]
pub struct PlanError {
    /// The table, `tenant.db.table`.
    pub table: String,
    /// The node's endpoint.
    pub node: String,
    /// The count statement.
    pub statement: String,
    /// What went wrong.
    pub error: SqlError,
}

/// Plans the chunks of each `(table, staging url)`; `from` answers the counts when
/// `options.chunk_rows` asks for them.
pub fn plan_tables(
    tables: Vec<(TableInfo, String)>,
    layouts: &BTreeMap<DbKey, DbLayout>,
    options: &PlanOptions,
    from: Option<&SqlNode>,
) -> Result<Vec<TablePlan>, Box<PlanError>> {
    (tables.iter())
        .map(|(info, url)| plan_table(info, url, layouts, options, from))
        .collect()
}

/// The plan of one table.
fn plan_table(
    info: &TableInfo,
    url: &str,
    layouts: &BTreeMap<DbKey, DbLayout>,
    options: &PlanOptions,
    from: Option<&SqlNode>,
) -> Result<TablePlan, Box<PlanError>> {
    let layout = layouts.get(&(info.tenant.clone(), info.database.clone()));
    let default = DbLayout {
        unit_ns: 1,
        ..DbLayout::default()
    };
    let layout = layout.unwrap_or(&default);
    let mut chunks: Vec<Chunk> = bucket_chunks(Some(layout));
    if let Some(since) = options.since_ns {
        let unit = layout.unit_ns.max(1);
        // The first whole unit at or after `since`.
        let since = since.div_euclid(unit) + i64::from(since.rem_euclid(unit) != 0);
        chunks = clip(&chunks, since);
    }
    let counted = match (options.chunk_rows, from) {
        (Some(limit), Some(node)) => count_chunks(info, &chunks, limit, node, options.threads)?,
        _ => chunks.into_iter().map(|c| (c, None)).collect(),
    };
    let chunks = counted
        .into_iter()
        .map(|(chunk, estimate)| PlannedChunk {
            name: match options.since_ns {
                Some(since) => format!("since{since}-{}", chunk.id()),
                None => chunk.id(),
            },
            expired: expired(&chunk, layout, options.now_ns),
            chunk,
            estimate,
        })
        .collect();
    Ok(TablePlan {
        info: info.clone(),
        url: url.to_string(),
        chunks,
    })
}

/// The chunks from `since` (in the database's unit) on.
fn clip(chunks: &[Chunk], since: i64) -> Vec<Chunk> {
    chunks
        .iter()
        .filter(|c| c.end.is_none_or(|e| e > since))
        .map(|c| Chunk {
            start: Some(c.start.map_or(since, |s| s.max(since))),
            end: c.end,
        })
        .collect()
}

/// Counts and splits the bounded chunks (dropping those without rows), up to `threads`
/// chunks at once; open chunks are counted and kept, since rows may arrive in them after the
/// count. Then neighbours are merged up to `limit` rows.
fn count_chunks(
    info: &TableInfo,
    chunks: &[Chunk],
    limit: u64,
    node: &SqlNode,
    threads: usize,
) -> Result<Vec<(Chunk, Option<u64>)>, Box<PlanError>> {
    let count = |c: &Chunk| {
        let statement = count_statement(info, c);
        node.count(&info.tenant, &info.database, &statement)
            .map_err(|error| {
                Box::new(PlanError {
                    table: info.qualified(),
                    node: node.endpoint(&info.tenant, &info.database),
                    statement,
                    error,
                })
            })
    };
    let limit = limit.max(1);
    let counted = super::par_map(chunks, threads, |&c| {
        if c.start.is_some() && c.end.is_some() {
            split(c, limit, &mut |c: &Chunk| count(c))
        } else {
            Ok(vec![(c, count(&c)?)])
        }
    });
    let mut out = Vec::new();
    for c in counted {
        out.extend(c?);
    }
    Ok(merge(out, limit)
        .into_iter()
        .map(|(c, n)| (c, Some(n)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(a: Option<i64>, b: Option<i64>) -> Chunk {
        Chunk { start: a, end: b }
    }

    #[test]
    fn since_clips_and_drops() {
        let chunks = [
            c(Some(0), Some(10)),
            c(Some(10), Some(20)),
            c(Some(20), None),
        ];
        assert_eq!(
            clip(&chunks, 15),
            [c(Some(15), Some(20)), c(Some(20), None)]
        );
        assert_eq!(clip(&[Chunk::ALL], 7), [c(Some(7), None)]);
    }

    #[test]
    fn without_counting_the_buckets_are_the_chunks() {
        let info = TableInfo {
            tenant: "t".into(),
            database: "d".into(),
            table: "x".into(),
            engine: crate::tables::Engine::Tskv,
            tags: Some(1),
            fields: 1,
            system: false,
            line: 1,
        };
        let mut layouts = BTreeMap::new();
        layouts.insert(
            ("t".into(), "d".into()),
            DbLayout {
                unit_ns: 1_000_000,
                ttl_ns: Some(1_000_000_000),
                buckets: vec![(0, 1000), (5000, 6000)],
            },
        );
        let options = PlanOptions {
            chunk_rows: None,
            since_ns: None,
            now_ns: 3_000_000_000,
            threads: 1,
        };
        let p = plan_tables(vec![(info, "file:///s".into())], &layouts, &options, None).unwrap();
        let got: Vec<(String, bool)> = p[0]
            .chunks
            .iter()
            .map(|c| (c.chunk.id(), c.expired))
            .collect();
        assert_eq!(
            got,
            [
                ("0_1000".into(), true),
                ("5000_6000".into(), false),
                ("6000_max".into(), false)
            ]
        );
    }
}
