//! Time chunks of a table: the buckets a dump records for each database, as
//! `time >= a AND time < b` ranges in the database's precision unit (the unit of both the
//! bucket records and of an integer compared with the `time` column).

use std::collections::BTreeMap;
use std::io::Read;

use serde::Deserialize;

use crate::dump::{DumpReader, Key, KeyKind};
use crate::error::{InputError, Result};

/// A half-open time range `[start, end)`; `None` is unbounded on that side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Chunk {
    /// First time in the chunk, in the database's unit.
    pub start: Option<i64>,
    /// First time after the chunk.
    pub end: Option<i64>,
}

impl Chunk {
    /// Every time: a database the dump records no bucket for.
    pub const ALL: Chunk = Chunk {
        start: None,
        end: None,
    };

    /// A name for staging paths and the ledger: `START-END`, `min`/`max` for an open side.
    pub fn id(&self) -> String {
        let side =
            |v: Option<i64>, open: &str| v.map_or_else(|| open.to_string(), |v| v.to_string());
        format!("{}_{}", side(self.start, "min"), side(self.end, "max"))
    }

    /// The `WHERE` condition selecting the chunk's rows; `None` for [`Chunk::ALL`].
    pub fn predicate(&self) -> Option<String> {
        match (self.start, self.end) {
            (None, None) => None,
            (Some(a), None) => Some(format!("time >= {a}")),
            (None, Some(b)) => Some(format!("time < {b}")),
            (Some(a), Some(b)) => Some(format!("time >= {a} AND time < {b}")),
        }
    }

    /// The two halves of a bounded chunk of at least two time units.
    pub fn halves(&self) -> Option<(Chunk, Chunk)> {
        let (a, b) = (self.start?, self.end?);
        let mid = a + (b - a) / 2;
        (mid > a).then_some((
            Chunk {
                start: Some(a),
                end: Some(mid),
            },
            Chunk {
                start: Some(mid),
                end: Some(b),
            },
        ))
    }
}

/// What a dump says about one database's time layout.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DbLayout {
    /// Nanoseconds per unit of the database's precision (1, 1 000 or 1 000 000).
    pub unit_ns: i64,
    /// Rows older than this many nanoseconds are expired; `None` is no TTL.
    pub ttl_ns: Option<i64>,
    /// `[start, end)` of every bucket, in the database's unit, sorted.
    pub buckets: Vec<(i64, i64)>,
}

/// `(tenant, database)`.
pub type DbKey = (String, String);

#[derive(Deserialize)]
struct DbRecord {
    config: DbConfig,
}

#[derive(Deserialize)]
struct DbConfig {
    ttl: Option<Span>,
    precision: Option<String>,
}

#[derive(Deserialize)]
struct Span {
    time_num: u64,
    unit: String,
}

#[derive(Deserialize)]
struct BucketRecord {
    start_time: i64,
    end_time: i64,
}

fn unit_ns(precision: Option<&str>) -> std::result::Result<i64, String> {
    match precision.map(str::to_ascii_uppercase).as_deref() {
        None | Some("NS") => Ok(1),
        Some("US") => Ok(1_000),
        Some("MS") => Ok(1_000_000),
        Some(p) => Err(format!("unknown precision {p:?}")),
    }
}

fn span_ns(s: &Span) -> std::result::Result<i64, String> {
    let unit: i64 = match s.unit.as_str() {
        "Minutes" | "Minute" => 60_000_000_000,
        "Hour" => 3_600_000_000_000,
        "Day" => 86_400_000_000_000,
        "Inf" => return Ok(i64::MAX),
        other => return Err(format!("unknown TTL unit {other:?}")),
    };
    Ok(i64::try_from(s.time_num)
        .ok()
        .and_then(|n| n.checked_mul(unit))
        .unwrap_or(i64::MAX))
}

/// Reads every database record (precision, TTL) and bucket record of a dump.
pub fn read_layouts(input: impl Read) -> Result<BTreeMap<DbKey, DbLayout>> {
    let mut reader = DumpReader::new(input);
    let mut out: BTreeMap<DbKey, DbLayout> = BTreeMap::new();
    while let Some(rec) = reader.next_record()? {
        let bad = |what: &str, e: String| InputError::at(rec.line, format!("{what}: {e}"));
        match Key::parse(rec.key).kind {
            KeyKind::Database { tenant, db } => {
                let r: DbRecord = serde_json::from_str(rec.value)
                    .map_err(|e| bad(&format!("database {tenant}.{db}"), e.to_string()))?;
                let layout = out.entry((tenant.into(), db.into())).or_default();
                layout.unit_ns = unit_ns(r.config.precision.as_deref())
                    .map_err(|e| bad(&format!("database {tenant}.{db}"), e))?;
                layout.ttl_ns = match &r.config.ttl {
                    Some(s) => {
                        Some(span_ns(s).map_err(|e| bad(&format!("database {tenant}.{db}"), e))?)
                            .filter(|&t| t != i64::MAX)
                    }
                    None => None,
                };
            }
            KeyKind::Bucket { tenant, db } => {
                let b: BucketRecord = serde_json::from_str(rec.value)
                    .map_err(|e| bad(&format!("bucket of {tenant}.{db}"), e.to_string()))?;
                out.entry((tenant.into(), db.into()))
                    .or_default()
                    .buckets
                    .push((b.start_time, b.end_time));
            }
            _ => {}
        }
    }
    for layout in out.values_mut() {
        layout.buckets.sort_unstable();
        if layout.unit_ns == 0 {
            layout.unit_ns = 1;
        }
    }
    Ok(out)
}

/// The chunks of a table in a database laid out so: one per bucket (time spans with no
/// bucket hold no row and are left out), then an open chunk after the last bucket for rows
/// written since the dump. No bucket at all (or no layout): one chunk of every time.
pub fn bucket_chunks(layout: Option<&DbLayout>) -> Vec<Chunk> {
    let Some(layout) = layout.filter(|l| !l.buckets.is_empty()) else {
        return vec![Chunk::ALL];
    };
    let mut chunks: Vec<Chunk> = Vec::new();
    for &(a, b) in &layout.buckets {
        match chunks.last_mut() {
            // Overlapping records (a replicated or re-created bucket): one range.
            Some(last) if last.end.is_some_and(|e| a < e) => {
                last.end = last.end.max(Some(b));
            }
            _ => chunks.push(Chunk {
                start: Some(a),
                end: Some(b),
            }),
        }
    }
    chunks.push(Chunk {
        start: chunks.last().and_then(|c| c.end),
        end: None,
    });
    chunks
}

/// Splits `chunk` in halves while `count` says it holds more than `limit` rows; chunks that
/// hold no row are dropped. Returns each chunk with its count.
pub fn split<E>(
    chunk: Chunk,
    limit: u64,
    count: &mut dyn FnMut(&Chunk) -> std::result::Result<u64, E>,
) -> std::result::Result<Vec<(Chunk, u64)>, E> {
    let rows = count(&chunk)?;
    if rows == 0 {
        return Ok(Vec::new());
    }
    match chunk.halves() {
        Some((a, b)) if rows > limit => {
            let mut out = split(a, limit, count)?;
            out.extend(split(b, limit, count)?);
            Ok(out)
        }
        _ => Ok(vec![(chunk, rows)]),
    }
}

/// Joins neighbouring counted chunks while together they hold at most `limit` rows, summing
/// their counts: fewer statements for small buckets. A time span between two joined chunks
/// holds no bucket, so no row; an open-ended last chunk takes in the one before it and stays
/// open.
pub fn merge(chunks: Vec<(Chunk, u64)>, limit: u64) -> Vec<(Chunk, u64)> {
    let mut out: Vec<(Chunk, u64)> = Vec::with_capacity(chunks.len());
    for (chunk, rows) in chunks {
        match out.last_mut() {
            Some((last, n))
                if last.end.is_some() && chunk.start.is_some() && *n + rows <= limit =>
            {
                last.end = chunk.end;
                *n += rows;
            }
            _ => out.push((chunk, rows)),
        }
    }
    out
}

/// True when every row of `chunk` is older than the TTL at `now_ns` (nanoseconds since the
/// epoch).
pub fn expired(chunk: &Chunk, layout: &DbLayout, now_ns: i64) -> bool {
    match (layout.ttl_ns, chunk.end) {
        (Some(ttl), Some(end)) => end.saturating_mul(layout.unit_ns) <= now_ns.saturating_sub(ttl),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DUMP: &str = "\
/c/tenants/t/dbs/ms: {\"tenant\":\"t\",\"database\":\"ms\",\"config\":{\"ttl\":{\"time_num\":30,\"unit\":\"Day\"},\"shard_num\":null,\"vnode_duration\":null,\"replica\":null,\"precision\":\"MS\"}}
/c/tenants/t/dbs/ms/buckets/4: {\"id\":4,\"start_time\":300,\"end_time\":400,\"shard_group\":[]}
/c/tenants/t/dbs/ms/buckets/1: {\"id\":1,\"start_time\":100,\"end_time\":200,\"shard_group\":[]}
/c/tenants/t/dbs/ns: {\"tenant\":\"t\",\"database\":\"ns\",\"config\":{\"ttl\":null,\"precision\":null}}
";

    #[test]
    fn layouts_and_chunks_from_buckets() {
        let l = read_layouts(DUMP.as_bytes()).unwrap();
        let ms = &l[&("t".into(), "ms".into())];
        assert_eq!(ms.unit_ns, 1_000_000);
        assert_eq!(ms.ttl_ns, Some(30 * 86_400_000_000_000));
        let c = bucket_chunks(Some(ms));
        let ids: Vec<String> = c.iter().map(Chunk::id).collect();
        assert_eq!(ids, ["100_200", "300_400", "400_max"]);
        assert_eq!(c[0].predicate().unwrap(), "time >= 100 AND time < 200");
        assert_eq!(c[2].predicate().unwrap(), "time >= 400");
        let ns = &l[&("t".into(), "ns".into())];
        assert_eq!((ns.unit_ns, ns.ttl_ns), (1, None));
        assert_eq!(bucket_chunks(Some(ns)), [Chunk::ALL]);
        assert_eq!(Chunk::ALL.predicate(), None);
    }

    #[test]
    fn splitting_halves_large_chunks_and_drops_empty_ones() {
        // One row at each time 0..8 except 4..6.
        let rows = [0i64, 1, 2, 3, 6, 7];
        let mut asked = 0;
        let mut count = |c: &Chunk| -> std::result::Result<u64, ()> {
            asked += 1;
            let (a, b) = (c.start.unwrap(), c.end.unwrap());
            Ok(rows.iter().filter(|&&t| t >= a && t < b).count() as u64)
        };
        let chunk = Chunk {
            start: Some(0),
            end: Some(8),
        };
        let got = split(chunk, 2, &mut count).unwrap();
        let got: Vec<(String, u64)> = got.iter().map(|(c, n)| (c.id(), *n)).collect();
        assert_eq!(
            got,
            [("0_2".into(), 2), ("2_4".into(), 2), ("4_8".into(), 2)]
        );
        assert!(asked >= 5);
    }

    #[test]
    fn small_neighbours_are_merged_up_to_the_limit() {
        let c = |a: i64, b: Option<i64>| Chunk {
            start: Some(a),
            end: b,
        };
        let counted = vec![
            (c(0, Some(10)), 4),
            (c(10, Some(20)), 3),
            (c(30, Some(40)), 3),
            (c(40, Some(50)), 9),
            (c(50, Some(60)), 2),
            (c(60, None), 0),
        ];
        assert_eq!(
            merge(counted.clone(), 10),
            [(c(0, Some(40)), 10), (c(40, Some(50)), 9), (c(50, None), 2)]
        );
        assert_eq!(merge(counted.clone(), 1), counted);
        assert_eq!(merge(counted, 100), [(c(0, None), 21)]);
        assert_eq!(merge(vec![(Chunk::ALL, 5)], 100), [(Chunk::ALL, 5)]);
    }

    #[test]
    fn expiry_uses_the_unit() {
        let l = DbLayout {
            unit_ns: 1_000_000,
            ttl_ns: Some(1_000_000_000),
            buckets: vec![],
        };
        let old = Chunk {
            start: Some(0),
            end: Some(1000),
        };
        assert!(expired(&old, &l, 2_000_000_000));
        assert!(!expired(&old, &l, 1_500_000_000));
        assert!(!expired(&Chunk::ALL, &l, i64::MAX));
    }
}
