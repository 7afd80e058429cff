//! The chunk plan: each table's time chunks from its database's buckets, clipped to a start
//! time, chunks older than the TTL marked; with a row limit, large chunks halved while the old
//! node counts more rows in them, and small neighbours merged up to it.

use std::collections::BTreeMap;

use super::{PlannedChunk, TablePlan};
use crate::remote::sql::{SqlError, SqlNode};
use crate::tables::chunks::{bucket_chunks, expired, merge, split, Chunk, DbKey, DbLayout};
use crate::tables::sql::{count_statement, grouped_count_statement};
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
    let mut plans = Vec::with_capacity(tables.len());
    for (info, url) in tables {
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
            (Some(limit), Some(node)) => count_chunks(&info, &chunks, limit, node)?,
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
        plans.push(TablePlan { info, url, chunks });
    }
    Ok(plans)
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

/// Counts and splits the bounded chunks (dropping those without rows); open chunks are
/// counted and kept, since rows may arrive in them after the count. Then neighbours are
/// merged up to `limit` rows. One grouped statement counts every chunk when their bounds
/// allow it ([`group_width`]); else one count per chunk.
fn count_chunks(
    info: &TableInfo,
    chunks: &[Chunk],
    limit: u64,
    node: &SqlNode,
) -> Result<Vec<(Chunk, Option<u64>)>, Box<PlanError>> {
    let failed = |statement: String, error: SqlError| {
        Box::new(PlanError {
            table: info.qualified(),
            node: node.endpoint(&info.tenant, &info.database),
            statement,
            error,
        })
    };
    let mut count = |c: &Chunk| {
        let statement = count_statement(info, c);
        node.count(&info.tenant, &info.database, &statement)
            .map_err(|error| failed(statement, error))
    };
    let known = match group_width(chunks) {
        Some((from, width)) => {
            let statement = grouped_count_statement(info, from, width);
            let answer = node.query_csv(&info.tenant, &info.database, &statement);
            let groups = answer
                .and_then(|csv| parse_groups(&csv).map_err(SqlError::Body))
                .map_err(|error| failed(statement, error))?;
            Some(assign(chunks, &groups, width))
        }
        None => None,
    };
    let limit = limit.max(1);
    let mut out = Vec::new();
    for (i, &c) in chunks.iter().enumerate() {
        let bounded = c.start.is_some() && c.end.is_some();
        match known.as_ref().map(|k| k[i]) {
            // Known to hold no row, or few enough (or open): no statement.
            Some(0) if bounded => {}
            Some(n) if n <= limit || !bounded => out.push((c, n)),
            _ if bounded => out.extend(split(c, limit, &mut count)?),
            _ => out.push((c, count(&c)?)),
        }
    }
    Ok(merge(out, limit)
        .into_iter()
        .map(|(c, n)| (c, Some(n)))
        .collect())
}

/// Groups at most this many: a plan that would need more counts chunk by chunk.
const MAX_GROUPS: i64 = 100_000;

/// `(from, width)` of a grouped count of `chunks`: from the first chunk's start, groups of the
/// greatest common divisor of the other bounds, so that no group straddles a bound between two
/// chunks (the group of `from` holds only rows at or after it). `None` when a chunk has no
/// start, a bound is negative (the division rounds toward zero), or there would be more than
/// [`MAX_GROUPS`] groups.
fn group_width(chunks: &[Chunk]) -> Option<(i64, i64)> {
    let from = chunks.first()?.start?;
    let bounds: Vec<i64> = (chunks.iter().flat_map(|c| [c.start, c.end]))
        .flatten()
        .skip(1)
        .collect();
    if chunks.iter().any(|c| c.start.is_none()) || from < 0 || bounds.iter().any(|&b| b < 0) {
        return None;
    }
    let width = bounds.iter().fold(0, |g, &b| gcd(g, b));
    let last = bounds.iter().copied().max().unwrap_or(from);
    (width > 0 && (last - from) / width <= MAX_GROUPS).then_some((from, width))
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// The `g,n` rows of a grouped count's CSV answer (after its header).
fn parse_groups(csv: &str) -> Result<Vec<(i64, u64)>, String> {
    let mut lines = csv.lines().filter(|l| !l.is_empty());
    lines.next();
    lines
        .map(|line| {
            let (g, n) = line.split_once(',').ok_or("a row without two columns")?;
            match (g.parse(), n.parse()) {
                (Ok(g), Ok(n)) => Ok((g, n)),
                _ => Err(format!("`{line}` is not a group and a count")),
            }
        })
        .collect()
}

/// The rows of each chunk: the groups whose times it holds (a group holds no bound inside; the
/// first group may start before the first chunk, its rows do not).
fn assign(chunks: &[Chunk], groups: &[(i64, u64)], width: i64) -> Vec<u64> {
    let from = chunks.first().and_then(|c| c.start).unwrap_or(i64::MIN);
    let mut rows = vec![0; chunks.len()];
    for &(g, n) in groups {
        let t = g.saturating_mul(width).max(from);
        let holds = |c: &Chunk| c.start.is_none_or(|s| s <= t) && c.end.is_none_or(|e| t < e);
        if let Some(i) = chunks.iter().position(holds) {
            rows[i] += n;
        }
    }
    rows
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
    fn one_grouped_count_serves_every_chunk() {
        let day = 86_400_000;
        let chunks = [
            c(Some(10 * day), Some(11 * day)),
            c(Some(11 * day), Some(13 * day)),
            c(Some(20 * day), Some(21 * day)),
            c(Some(21 * day), None),
        ];
        assert_eq!(group_width(&chunks), Some((10 * day, day)));
        let csv = "g,n\n10,5\n12,7\n11,1\n20,2\n25,4\n";
        let groups = parse_groups(csv).unwrap();
        assert_eq!(assign(&chunks, &groups, day), [5, 8, 2, 4]);
        assert!(parse_groups("g,n\n1\n").is_err());
        assert!(parse_groups("g,n\nx,1\n").is_err());
        // A clipped start (a `since` pass) is no bound between chunks: its group holds only
        // rows at or after it.
        let since = [c(Some(7), Some(day)), c(Some(day), None)];
        assert_eq!(group_width(&since), Some((7, day)));
        assert_eq!(assign(&since, &[(0, 3), (1, 2)], day), [3, 2]);
        // Bounds that make the groups too fine, no start, a negative bound: none.
        assert_eq!(
            group_width(&[c(Some(0), Some(7)), c(Some(7), Some(day * 1000))]),
            None
        );
        assert_eq!(group_width(&[Chunk::ALL]), None);
        assert_eq!(group_width(&[c(Some(-day), Some(day))]), None);
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
