//! The table records, most of a dump's bytes, parsed on their own thread: each table's engine,
//! column count and release evidence.

use std::sync::mpsc::Receiver;

use super::Shape;
use crate::dump::batch::Batch;
use crate::dump::{Key, KeyKind};
use crate::json::{Object, Raw};
use crate::release::{table_shape, Detector, Releases};
use crate::rules::TableEngine;

/// What the parsing thread learns from the tables.
pub(super) struct Tables {
    /// `(tenant, db, table, (engine, columns))`.
    pub(super) found: Vec<(String, String, String, Shape)>,
    /// Lines of the records that are not table schemas.
    pub(super) malformed: Vec<u64>,
    /// The tables' release evidence.
    pub(super) detector: Detector,
}

/// The parsing thread: each table's engine, column count and release evidence.
pub(super) fn parse_tables(rx: Receiver<Batch<()>>) -> Tables {
    let mut tables = Tables {
        found: Vec::new(),
        malformed: Vec::new(),
        detector: Detector::new(),
    };
    for batch in rx {
        for (item, key, value) in batch.iter() {
            let kind = Key::parse(key).kind;
            let KeyKind::Table { tenant, db, table } = kind else {
                continue;
            };
            let (info, shape) = table_info(value);
            tables.detector.observe_shape(&kind, shape);
            if info.0 == "?" {
                tables.malformed.push(item.line);
            }
            tables
                .found
                .push((tenant.to_string(), db.to_string(), table.to_string(), info));
        }
    }
    tables
}

fn count(raw: Option<Raw<'_>>) -> Option<usize> {
    raw?.count_elements().ok()
}

/// A table's engine and column count, `("?", None)` when it is not a table schema, and what its
/// shape says of the release (one parse serves both).
fn table_info(value: &str) -> (Shape, Releases) {
    let Ok((engine, inner)) = TableEngine::of(value) else {
        return (("?", None), Releases::ANY);
    };
    let Ok(inner) = Object::parse(inner) else {
        return ((engine.name(), None), Releases::ANY);
    };
    let columns = match engine {
        TableEngine::Tskv => count(inner.get("columns")),
        TableEngine::External | TableEngine::Stream => inner
            .object("schema")
            .ok()
            .and_then(|s| count(s.get("fields"))),
    };
    ((engine.name(), columns), table_shape(engine, &inner))
}
