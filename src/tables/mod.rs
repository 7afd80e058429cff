//! The tables a dump lists, and the SQL that copies their rows (spec sections 4.3, 7, 8).
//!
//! [`read_tables`] streams a dump and keeps one small [`TableInfo`] per table record; the
//! [`sql`] submodule quotes names and writes the `COPY INTO` statements, [`s3`] their
//! connection to an object store.

pub mod chunks;
pub mod quote;
pub mod s3;
pub mod sql;
pub mod time;

use std::borrow::Cow;
use std::fmt;
use std::io::Read;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use crate::dump::{DumpReader, Key, KeyKind};
use crate::error::{InputError, Result};

/// How a table stores its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Engine {
    /// `TsKvTableSchema`: rows live in CnosDB and are copied with `COPY INTO`.
    #[serde(rename = "TSKV")]
    Tskv,
    /// `ExternalTableSchema`: rows stay in the files at the table's `location`.
    #[serde(rename = "EXTERNAL")]
    External,
    /// `StreamTableSchema`: a streaming definition over another table, no rows.
    #[serde(rename = "STREAM")]
    Stream,
}

impl Engine {
    /// The name CnosDB shows in `information_schema.tables.table_engine`.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Tskv => "TSKV",
            Engine::External => "EXTERNAL",
            Engine::Stream => "STREAM",
        }
    }

    /// True when the table's rows are stored by CnosDB (and so must be copied).
    pub fn holds_rows(self) -> bool {
        self == Engine::Tskv
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One table record of a dump, summarized.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableInfo {
    /// Tenant name, from the key.
    pub tenant: String,
    /// Database name, from the key.
    pub database: String,
    /// Table name, from the key.
    pub table: String,
    /// Storage engine.
    pub engine: Engine,
    /// Tag columns (TSKV only; `None` for external and stream tables).
    pub tags: Option<u32>,
    /// Field columns (TSKV), or every schema field (external and stream tables).
    pub fields: u32,
    /// True for the system databases of tenant `cnosdb` (`usage_schema`, `cluster_schema`).
    pub system: bool,
    /// The line of the dump holding the record.
    #[serde(skip)]
    pub line: u64,
}

impl TableInfo {
    /// An upper estimate of the bytes `rows` rows take once staged: 8 bytes for the time and
    /// for each tag and field (uncompressed; Parquet files are usually smaller).
    pub fn staged_bytes(&self, rows: u64) -> u64 {
        let columns = 1 + u64::from(self.tags.unwrap_or(0)) + u64::from(self.fields);
        rows.saturating_mul(8 * columns)
    }

    /// `tenant.database.table`, for messages (control characters escaped).
    pub fn qualified(&self) -> String {
        let name = format!("{}.{}.{}", self.tenant, self.database, self.table);
        printable(&name).into_owned()
    }
}

/// A name as shown in text output: control characters escaped, everything else as is.
pub fn printable(name: &str) -> Cow<'_, str> {
    if name.chars().any(char::is_control) {
        Cow::Owned(name.escape_debug().to_string())
    } else {
        Cow::Borrowed(name)
    }
}

/// True for the databases CnosDB writes itself (never copied unless asked).
pub fn is_system_db(tenant: &str, db: &str) -> bool {
    tenant == "cnosdb" && matches!(db, "usage_schema" | "cluster_schema")
}

#[derive(Deserialize)]
enum TableValue {
    #[serde(rename = "TsKvTableSchema")]
    Tskv(TskvShape),
    #[serde(rename = "ExternalTableSchema")]
    External(SchemaHolder),
    #[serde(rename = "StreamTableSchema")]
    Stream(SchemaHolder),
}

#[derive(Deserialize)]
struct TskvShape {
    columns: Vec<Column>,
}

#[derive(Deserialize)]
struct Column {
    column_type: ColumnType,
}

#[derive(Deserialize)]
enum ColumnType {
    Tag,
    Field(IgnoredAny),
    Time(IgnoredAny),
}

#[derive(Deserialize)]
struct SchemaHolder {
    schema: ArrowSchema,
}

#[derive(Deserialize)]
struct ArrowSchema {
    fields: Vec<IgnoredAny>,
}

/// Summarizes one table record; `value` is the record's JSON text.
fn summarize(tenant: &str, db: &str, table: &str, value: &str, line: u64) -> Result<TableInfo> {
    let parsed: TableValue = serde_json::from_str(value).map_err(|e| {
        InputError::at(
            line,
            format!(
                "table {tenant}.{db}.{table}: not a TsKvTableSchema, ExternalTableSchema or \
                 StreamTableSchema value: {e}"
            ),
        )
    })?;
    let (engine, tags, fields) = match parsed {
        TableValue::Tskv(t) => {
            let (mut tags, mut fields) = (0u32, 0u32);
            for c in &t.columns {
                match c.column_type {
                    ColumnType::Tag => tags += 1,
                    ColumnType::Field(_) => fields += 1,
                    ColumnType::Time(_) => {}
                }
            }
            (Engine::Tskv, Some(tags), fields)
        }
        TableValue::External(s) => (Engine::External, None, count(&s)),
        TableValue::Stream(s) => (Engine::Stream, None, count(&s)),
    };
    Ok(TableInfo {
        tenant: tenant.to_string(),
        database: db.to_string(),
        table: table.to_string(),
        engine,
        tags,
        fields,
        system: is_system_db(tenant, db),
        line,
    })
}

fn count(s: &SchemaHolder) -> u32 {
    u32::try_from(s.schema.fields.len()).unwrap_or(u32::MAX)
}

/// Reads every table record of a dump (either form), sorted by tenant, database and table.
///
/// Only table records are parsed; memory holds one summary per table, never the dump.
pub fn read_tables(input: impl Read) -> Result<Vec<TableInfo>> {
    let mut reader = DumpReader::new(input);
    let mut tables = Vec::new();
    while let Some(rec) = reader.next_record()? {
        if let KeyKind::Table { tenant, db, table } = Key::parse(rec.key).kind {
            tables.push(summarize(tenant, db, table, rec.value, rec.line)?);
        }
    }
    tables.sort_by(|a, b| {
        (&a.tenant, &a.database, &a.table).cmp(&(&b.tenant, &b.database, &b.table))
    });
    Ok(tables)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TSKV: &str = r#"{"TsKvTableSchema":{"tenant":"cnosdb","db":"public","name":"air","schema_id":0,"next_column_id":5,"columns":[{"id":0,"name":"time","column_type":{"Time":"Nanosecond"},"encoding":"Default"},{"id":1,"name":"station","column_type":"Tag","encoding":"Default"},{"id":2,"name":"visibility","column_type":{"Field":"Float"},"encoding":"Default"},{"id":3,"name":"g","column_type":{"Field":{"Geometry":{"sub_type":"Point","srid":0}}},"encoding":"Default"}],"columns_index":{"time":0}}}"#;
    const EXT: &str = r#"{"ExternalTableSchema":{"tenant":"cnosdb","db":"public","name":"ext","file_compression_type":"","file_type":"CSV","location":"file:///tmp/a.csv","target_partitions":8,"table_partition_cols":[],"has_header":true,"delimiter":44,"schema":{"fields":[{"name":"a","data_type":"Int64","nullable":true,"dict_id":0,"dict_is_ordered":false,"metadata":{}}],"metadata":{}}}}"#;

    #[test]
    fn counts_tags_and_fields() {
        let t = summarize("cnosdb", "public", "air", TSKV, 3).unwrap();
        assert_eq!(
            (t.engine, t.tags, t.fields, t.line),
            (Engine::Tskv, Some(1), 2, 3)
        );
        let e = summarize("cnosdb", "usage_schema", "ext", EXT, 1).unwrap();
        assert_eq!(
            (e.engine, e.tags, e.fields, e.system),
            (Engine::External, None, 1, true)
        );
    }

    #[test]
    fn names_come_from_the_key_and_output_is_sorted() {
        let dump = format!(
            "/c/tenants/b/dbs/d/schemas/x: {TSKV}\n/c/tenants/a/dbs/d/schemas/Odd name: {EXT}\n\
             /c/tenants/a/dbs/d: {{}}\n"
        );
        let t = read_tables(dump.as_bytes()).unwrap();
        let names: Vec<_> = t.iter().map(TableInfo::qualified).collect();
        assert_eq!(names, ["a.d.Odd name", "b.d.x"]);
    }

    #[test]
    fn a_bad_table_value_names_table_and_line() {
        let e = read_tables(&b"/c/tenants/t/dbs/d/schemas/x: {\"Nope\":{}}\n"[..]).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("line 1") && msg.contains("t.d.x"), "{msg}");
        let e = read_tables(
            &b"/c/tenants/t/dbs/d/schemas/x: {\"TsKvTableSchema\":{\"columns\":[{\"column_type\":\"Foo\"}]}}\n"[..],
        )
        .unwrap_err();
        assert!(e.to_string().contains("unknown variant"), "{e}");
    }
}
