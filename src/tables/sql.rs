//! Quoting, the per-table directory, and the `COPY INTO` statements (spec sections 7, 8.2).

use std::fmt::Write as _;

use super::chunks::Chunk;
use super::quote::{quote_ident, quote_literal};
use super::s3::{parse_s3_url, S3Connection};
use super::TableInfo;

/// The file format rows travel in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FileFormat {
    /// Typed, compressed; the default.
    #[default]
    Parquet,
    /// Comma separated, with a header line.
    Csv,
    /// JSON records.
    Json,
}

impl FileFormat {
    /// The `FILE_FORMAT = (…)` clause. `DELIMITER` and `WITH_HEADER` only for CSV: 2.4.1+
    /// rejects them after any other `TYPE`.
    pub fn clause(self) -> &'static str {
        match self {
            FileFormat::Parquet => "FILE_FORMAT = (TYPE = 'PARQUET')",
            FileFormat::Csv => "FILE_FORMAT = (TYPE = 'CSV', DELIMITER = ',', WITH_HEADER = true)",
            FileFormat::Json => "FILE_FORMAT = (TYPE = 'JSON')",
        }
    }
}

/// The staging location under which each table gets `<tenant>/<db>/<table>`: a `file://`
/// directory (on the data nodes' shared disk) or an `s3://bucket/prefix` with its connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyDir {
    base: String,
    connection: Option<S3Connection>,
}

impl CopyDir {
    /// Checks a staging URL: `file:///absolute/path` or `s3://bucket/prefix` (a trailing `/`
    /// is dropped). An `s3://` location needs [`CopyDir::with_connection`] before use.
    pub fn parse(url: &str) -> Result<CopyDir, String> {
        if url.starts_with("s3://") {
            return Ok(CopyDir {
                base: parse_s3_url(url)?,
                connection: None,
            });
        }
        let Some(path) = url.strip_prefix("file://") else {
            return Err(format!(
                "`{url}` is neither a file:// nor an s3:// URL; give a directory as \
                 file:///absolute/path (a path on the data nodes, not on this machine) or a \
                 bucket as s3://bucket/prefix"
            ));
        };
        if !path.starts_with('/') {
            return Err(format!(
                "`{url}`: the path must be absolute, e.g. file:///var/lib/cnosdb-copy"
            ));
        }
        if let Some(c) = path
            .chars()
            .find(|c| c.is_control() || matches!(c, '?' | '#'))
        {
            return Err(format!(
                "`{url}`: the path contains {c:?}, which a URL cannot carry"
            ));
        }
        let path = path.trim_end_matches('/');
        if path.is_empty() {
            return Err(format!("`{url}`: the root directory cannot hold the copy"));
        }
        Ok(CopyDir {
            base: format!("file://{path}"),
            connection: None,
        })
    }

    /// True for an `s3://` location.
    pub fn is_object_store(&self) -> bool {
        self.base.starts_with("s3://")
    }

    /// The location with the connection the data nodes reach it with.
    pub fn with_connection(mut self, connection: S3Connection) -> CopyDir {
        self.connection = Some(connection);
        self
    }

    /// The object store's connection, when there is one.
    pub fn connection(&self) -> Option<&S3Connection> {
        self.connection.as_ref()
    }

    /// The directory URL, without a trailing `/`.
    pub fn as_str(&self) -> &str {
        &self.base
    }

    /// `<dir>/<tenant>/<db>/<table>` without a trailing `/`, each name percent-encoded.
    /// Fails for a name that is `.` or `..` (it would leave the directory).
    pub fn table_url(&self, table: &TableInfo) -> Result<String, String> {
        let mut url = self.base.clone();
        for name in [&table.tenant, &table.database, &table.table] {
            if name == "." || name == ".." {
                return Err(format!(
                    "table {}: `{name}` cannot be a directory name",
                    table.qualified()
                ));
            }
            url.push('/');
            url.push_str(&percent_encode(name));
        }
        Ok(url)
    }
}

/// Percent-encodes every byte outside the URL-unreserved set (`A-Z a-z 0-9 - . _ ~`).
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// `COPY INTO '<dir>/<t>/<db>/<table>' FROM "<table>" FILE_FORMAT = (…)`: run on the old node
/// with the table's tenant and database selected. The path has no trailing `/`.
/// `conn` adds its `CONNECTION = (…)` clause (an `s3://` location).
pub fn export_statement(
    url: &str,
    table: &TableInfo,
    format: FileFormat,
    conn: Option<&S3Connection>,
) -> String {
    format!(
        "COPY INTO {} FROM {}{} {};",
        quote_literal(url),
        quote_ident(&table.table),
        clause(conn),
        format.clause()
    )
}

fn clause(conn: Option<&S3Connection>) -> String {
    conn.map(S3Connection::clause).unwrap_or_default()
}

/// `COPY INTO "<table>" FROM '<dir>/<t>/<db>/<table>/' FILE_FORMAT = (…)`: run on the new node;
/// the source path ends with `/` (CnosDB reads a directory only then); `conn` as for
/// [`export_statement`].
pub fn import_statement(
    url: &str,
    table: &TableInfo,
    format: FileFormat,
    conn: Option<&S3Connection>,
) -> String {
    format!(
        "COPY INTO {} FROM {}{} {};",
        quote_ident(&table.table),
        quote_literal(&format!("{url}/")),
        clause(conn),
        format.clause()
    )
}

/// The export of one time chunk: `COPY INTO '<location>' FROM (SELECT * FROM "<table>" WHERE
/// …) FILE_FORMAT = (…)` (the time condition prunes shards); the whole table for
/// [`Chunk::ALL`].
pub fn export_chunk_statement(
    location: &str,
    table: &TableInfo,
    chunk: &Chunk,
    format: FileFormat,
    conn: Option<&S3Connection>,
) -> String {
    match chunk.predicate() {
        None => export_statement(location, table, format, conn),
        Some(p) => format!(
            "COPY INTO {} FROM (SELECT * FROM {} WHERE {p}){} {};",
            quote_literal(location.trim_end_matches('/')),
            quote_ident(&table.table),
            clause(conn),
            format.clause()
        ),
    }
}

/// `SELECT count(*) FROM "<table>" [WHERE …]`: the rows of one chunk.
pub fn count_statement(table: &TableInfo, chunk: &Chunk) -> String {
    let mut sql = format!("SELECT count(*) FROM {}", quote_ident(&table.table));
    if let Some(p) = chunk.predicate() {
        sql.push_str(" WHERE ");
        sql.push_str(&p);
    }
    sql
}

/// `SELECT count(*) AS n, CAST(min(time) AS BIGINT) AS first, CAST(max(time) AS BIGINT) AS
/// last FROM "t" WHERE …` over `chunk`, always with a time condition (an open start becomes
/// the earliest time), so that 2.4 counts rows of the same series and time once.
pub fn extent_statement(table: &TableInfo, chunk: &Chunk) -> String {
    let timed = Chunk {
        start: Some(chunk.start.unwrap_or(i64::MIN + 1)),
        end: chunk.end,
    };
    format!(
        "SELECT count(*) AS n, CAST(min(time) AS BIGINT) AS first, \
         CAST(max(time) AS BIGINT) AS last FROM {} WHERE {}",
        quote_ident(&table.table),
        timed.predicate().unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::Engine;

    fn table(t: &str, d: &str, n: &str) -> TableInfo {
        TableInfo {
            tenant: t.into(),
            database: d.into(),
            table: n.into(),
            engine: Engine::Tskv,
            tags: Some(0),
            fields: 0,
            system: false,
            line: 1,
        }
    }

    #[test]
    fn paths_and_statements() {
        let dir = CopyDir::parse("file:///data/copy/").unwrap();
        let t = table("t 1", "db", r#"o'k "x"/%"#);
        let url = dir.table_url(&t).unwrap();
        assert_eq!(url, "file:///data/copy/t%201/db/o%27k%20%22x%22%2F%25");
        assert_eq!(
            export_statement(&url, &t, FileFormat::Parquet, None),
            format!(r#"COPY INTO '{url}' FROM "o'k ""x""/%" FILE_FORMAT = (TYPE = 'PARQUET');"#)
        );
        assert_eq!(
            import_statement("file:///d/t/db/o'k", &t, FileFormat::Json, None),
            r#"COPY INTO "o'k ""x""/%" FROM 'file:///d/t/db/o''k/' FILE_FORMAT = (TYPE = 'JSON');"#
        );
        assert!(import_statement("u", &t, FileFormat::Csv, None).ends_with("WITH_HEADER = true);"));
        assert!(dir.table_url(&table("t", "..", "x")).is_err());
        let c = Chunk {
            start: Some(5),
            end: Some(9),
        };
        assert_eq!(
            export_chunk_statement("file:///d/c/", &t, &c, FileFormat::Parquet, None),
            r#"COPY INTO 'file:///d/c' FROM (SELECT * FROM "o'k ""x""/%" WHERE time >= 5 AND time < 9) FILE_FORMAT = (TYPE = 'PARQUET');"#
        );
        assert_eq!(
            count_statement(&t, &Chunk::ALL),
            r#"SELECT count(*) FROM "o'k ""x""/%""#
        );
    }

    #[test]
    fn an_object_store_location_carries_its_connection() {
        use crate::tables::s3::Secret;
        let conn = S3Connection {
            region: "r".into(),
            access_key_id: Secret::new("A"),
            secret_key: Secret::new("S"),
            token: None,
            endpoint_url: None,
            path_style: false,
        };
        let dir = CopyDir::parse("s3://bkt/pre/")
            .unwrap()
            .with_connection(conn);
        let t = table("t", "db", "x");
        let url = dir.table_url(&t).unwrap();
        assert_eq!(url, "s3://bkt/pre/t/db/x");
        let c = Chunk {
            start: Some(5),
            end: Some(9),
        };
        let conn = dir.connection();
        assert_eq!(
            export_chunk_statement(&url, &t, &c, FileFormat::Parquet, conn),
            "COPY INTO 's3://bkt/pre/t/db/x' FROM (SELECT * FROM \"x\" WHERE time >= 5 AND \
             time < 9) CONNECTION = (region = 'r', access_key_id = 'A', secret_key = 'S') \
             FILE_FORMAT = (TYPE = 'PARQUET');"
        );
        assert_eq!(
            import_statement(&url, &t, FileFormat::Parquet, conn),
            "COPY INTO \"x\" FROM 's3://bkt/pre/t/db/x/' CONNECTION = (region = 'r', \
             access_key_id = 'A', secret_key = 'S') FILE_FORMAT = (TYPE = 'PARQUET');"
        );
    }

    #[test]
    fn dir_validation() {
        assert!(CopyDir::parse("/data").is_err());
        assert!(CopyDir::parse("s3://bucket/x").unwrap().is_object_store());
        assert!(CopyDir::parse("gcs://bucket/x").is_err());
        assert!(CopyDir::parse("file://relative").is_err());
        assert!(CopyDir::parse("file:///").is_err());
        assert!(CopyDir::parse("file:///a?b").is_err());
        assert!(CopyDir::parse("file:///a").is_ok());
    }
}
