//! A fake CnosDB data node on 127.0.0.1: the HTTP SQL API of spec section 8, as far as
//! `COPY INTO` goes.
//!
//! - `POST /api/v1/sql?tenant=…&db=…` (defaults `cnosdb` / `public`); any other route is 404.
//! - Basic auth is required: a missing or unparsable `Authorization` header is a 400 JSON error,
//!   a wrong user or password a 422.
//! - Query errors are 422 `{"error_code","error_message"}`.
//! - `COPY INTO '<path>' FROM <table> …` exports: the table's row count is added under `path`
//!   in a [`Fs`] that several nodes can share (like a shared directory; exporting twice doubles
//!   what the directory holds, as with CnosDB's uniquely named files). The path must not end
//!   with `/`.
//! - `COPY INTO <table> FROM '<path>/' …` imports what `path` holds into an existing table; a
//!   path without its trailing `/` fails, as CnosDB does. Importing the same directory again
//!   adds nothing (CnosDB merges rows of the same series and time).
//! - `DELIMITER` / `WITH_HEADER` after a non-CSV `TYPE` fail, as on 2.4.1+.
//! - The answer is the one-row `rows` result: JSON `[{"rows":N}]` when `Accept` asks for JSON,
//!   else CSV `rows\nN\n` (or always CSV with [`NodeConfig::csv_always`]).
//! - Every row of a table sits at one time, [`NodeConfig::row_time`]: an export whose source is
//!   `(SELECT * FROM <table> WHERE time >= A AND time < B)` takes the table's rows when that
//!   time is in the range, none otherwise (and writes nothing, as CnosDB writes no file for an
//!   empty result); `SELECT count(*) FROM <table> [WHERE …]` counts the same way, answering
//!   `[{"COUNT(UInt8(1))":N}]` (or CSV).
//! - The copy's chunk counts and comparison `SELECT count(*) AS n, CAST(min(time) …) AS first,
//!   … AS last FROM <table> WHERE …` answer the same count, and `row_time` as first and last
//!   (CSV).
//! - `DESCRIBE TABLE <table>` answers two columns (see [`NodeConfig::field_types`]), JSON.
//! - [`Fault`]s a real server shows only by accident: an error status, a slow answer; each for
//!   the first N statements containing a text.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use base64::Engine as _;
use tiny_http::{Header, Response, Server};

/// A shared "filesystem": directory path → rows written there.
pub type Fs = Arc<Mutex<BTreeMap<String, u64>>>;

/// The default [`NodeConfig::row_time`]: in the bucket `fixtures/copy/dump.txt` records for
/// `cnosdb.public` (2022-12-19 to 2023-12-19, ns).
pub const ROW_TIME: i64 = 1_690_000_000_000_000_000;

/// The start of the copy's comparison of a table (before `"<table>" WHERE …`).
const EXTENT: &str = "SELECT count(*) AS n, CAST(min(time) AS BIGINT) AS first, \
                      CAST(max(time) AS BIGINT) AS last FROM ";

/// `(tenant, database, table)`.
pub type TableKey = (String, String, String);

/// How a fake node behaves.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// The only user accepted.
    pub user: String,
    /// Its password.
    pub password: String,
    /// Existing tables and their rows.
    pub tables: BTreeMap<TableKey, u64>,
    /// A COPY naming this table fails with a 422.
    pub fail_table: Option<String>,
    /// Each import loses this many rows.
    pub drop_rows: u64,
    /// Answer CSV whatever `Accept` says.
    pub csv_always: bool,
    /// The time of every row (in the database's unit).
    pub row_time: i64,
    /// What goes wrong, in order of precedence.
    pub faults: Vec<Fault>,
    /// `DESCRIBE TABLE` answers `time TIMESTAMP(NANOSECOND) TIME` and `v <type> FIELD`, the
    /// type `DOUBLE` unless this names another for the table.
    pub field_types: BTreeMap<String, String>,
    /// Rows imported so far from each directory into each table: importing the same files
    /// again adds nothing (CnosDB merges rows of the same series and time).
    pub imported: BTreeMap<(TableKey, String), u64>,
}

/// A statement containing `matching` goes wrong, `times` times.
#[derive(Debug, Clone)]
pub struct Fault {
    /// A text of the statement.
    pub matching: String,
    /// How often it goes wrong.
    pub times: u32,
    /// How.
    pub kind: FaultKind,
}

/// How a statement goes wrong.
#[derive(Debug, Clone, Copy)]
pub enum FaultKind {
    /// A CnosDB JSON error with this status.
    Status(u16),
    /// The answer comes after this long (and is right).
    Slow(std::time::Duration),
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            user: "root".into(),
            password: "secret".into(),
            tables: BTreeMap::new(),
            fail_table: None,
            drop_rows: 0,
            csv_always: false,
            row_time: ROW_TIME,
            faults: Vec::new(),
            field_types: BTreeMap::new(),
            imported: BTreeMap::new(),
        }
    }
}

/// A request as the node saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    /// `tenant` parameter (decoded).
    pub tenant: String,
    /// `db` parameter (decoded).
    pub db: String,
    /// The body.
    pub sql: String,
    /// When it was received.
    pub at: std::time::Instant,
}

struct State {
    config: NodeConfig,
    log: Vec<Logged>,
}

/// A running fake node; stops when dropped.
pub struct FakeNode {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    state: Arc<Mutex<State>>,
    server: Arc<Server>,
    thread: Option<JoinHandle<()>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl FakeNode {
    /// Starts a node on a free port of 127.0.0.1.
    pub fn start(config: NodeConfig, fs: Fs) -> FakeNode {
        let server = Arc::new(Server::http("127.0.0.1:0").expect("bind 127.0.0.1"));
        let port = server.server_addr().to_ip().expect("an IP address").port();
        let state = Arc::new(Mutex::new(State {
            config,
            log: Vec::new(),
        }));
        let (srv, st) = (Arc::clone(&server), Arc::clone(&state));
        // Each request on a thread of its own, as a real node answers a statement while
        // another one runs.
        let thread = std::thread::spawn(move || {
            for mut req in srv.incoming_requests() {
                let (st, fs) = (Arc::clone(&st), Arc::clone(&fs));
                std::thread::spawn(move || {
                    let mut body = String::new();
                    let read = std::io::Read::read_to_string(req.as_reader(), &mut body);
                    let (status, content_type, text) = match read {
                        Ok(_) => handle(&st, &fs, &req, body),
                        Err(e) => error(400, "000000", &format!("body: {e}")),
                    };
                    let resp = Response::from_string(text)
                        .with_status_code(status)
                        .with_header(
                            Header::from_bytes("Content-Type", content_type).expect("header"),
                        );
                    let _ = req.respond(resp);
                });
            }
        });
        FakeNode {
            url: format!("http://127.0.0.1:{port}"),
            state,
            server,
            thread: Some(thread),
        }
    }

    /// The rows a table holds now.
    pub fn rows(&self, tenant: &str, db: &str, table: &str) -> Option<u64> {
        lock(&self.state)
            .config
            .tables
            .get(&(tenant.into(), db.into(), table.into()))
            .copied()
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Logged> {
        lock(&self.state).log.clone()
    }

    /// Changes which table fails.
    pub fn set_fail_table(&self, table: Option<&str>) {
        lock(&self.state).config.fail_table = table.map(str::to_owned);
    }
}

impl Drop for FakeNode {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

type Answer = (u16, &'static str, String);

fn error(status: u16, code: &str, message: &str) -> Answer {
    let body = serde_json::json!({"error_code": code, "error_message": message});
    (status, "application/json", body.to_string())
}

fn handle(state: &Mutex<State>, fs: &Fs, req: &tiny_http::Request, sql: String) -> Answer {
    let (path, query) = req.url().split_once('?').unwrap_or((req.url(), ""));
    if path != "/api/v1/sql" || *req.method() != tiny_http::Method::Post {
        return (404, "text/plain", String::new());
    }
    let mut tenant = "cnosdb".to_string();
    let mut db = "public".to_string();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "tenant" => tenant = decode(v),
            "db" => db = decode(v),
            _ => {}
        }
    }
    let header = |name: &'static str| {
        req.headers()
            .iter()
            .find(|h| h.field.equiv(name))
            .map(|h| h.value.as_str().to_string())
    };
    let mut st = lock(state);
    st.log.push(Logged {
        tenant: tenant.clone(),
        db: db.clone(),
        sql: sql.clone(),
        at: std::time::Instant::now(),
    });
    let Some(auth) = header("Authorization") else {
        return error(400, "010003", "Auth error: missing Authorization header");
    };
    let decoded = auth
        .strip_prefix("Basic ")
        .and_then(|t| base64::engine::general_purpose::STANDARD.decode(t).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let Some(decoded) = decoded else {
        return error(400, "010003", "Auth error: invalid Authorization header");
    };
    let (user, password) = decoded.split_once(':').unwrap_or((&decoded, ""));
    if user != st.config.user || password != st.config.password {
        return error(
            422,
            "010016",
            &format!("Auth error: Access denied for user '{user}'"),
        );
    }
    let json =
        !st.config.csv_always && header("Accept").is_some_and(|a| a.contains("application/json"));
    let fault = st
        .config
        .faults
        .iter_mut()
        .find(|f| f.times > 0 && sql.contains(&f.matching))
        .map(|f| {
            f.times -= 1;
            f.kind
        });
    match fault {
        Some(FaultKind::Status(status)) => {
            return error(status, "050001", &format!("injected failure of: {sql}"))
        }
        Some(FaultKind::Slow(wait)) => {
            // Slow without holding the node: other statements are answered meanwhile.
            drop(st);
            std::thread::sleep(wait);
            st = lock(state);
        }
        None => {}
    }
    if let Some(rest) = sql.trim().strip_prefix("DESCRIBE TABLE ") {
        let Some((table, _)) = ident(rest) else {
            return error(422, "010001", "sql parser error");
        };
        let key = (tenant.clone(), db.clone(), table.clone());
        if !st.config.tables.contains_key(&key) {
            return error(
                422,
                "030019",
                &format!("Table not found: {tenant}.{db}.{table}"),
            );
        }
        let ty = st
            .config
            .field_types
            .get(&table)
            .map_or("DOUBLE", String::as_str);
        let body = serde_json::json!([
            {"column_name": "time", "data_type": "TIMESTAMP(NANOSECOND)", "column_type": "TIME", "compression_codec": "DEFAULT"},
            {"column_name": "v", "data_type": ty, "column_type": "FIELD", "compression_codec": "DEFAULT"},
        ]);
        return (200, "application/json", body.to_string());
    }
    if let Some(rest) = sql.strip_prefix(EXTENT) {
        // The copy's comparison of a table: count, first and last time (CSV).
        let time = st.config.row_time;
        let query = format!("SELECT count(*) FROM {rest}");
        return match execute(&mut st.config, fs, &tenant, &db, &query) {
            Ok(0) => (200, "application/csv", "n,first,last\n0,,\n".into()),
            Ok(n) => (
                200,
                "application/csv",
                format!("n,first,last\n{n},{time},{time}\n"),
            ),
            Err(message) => error(422, "010001", &message),
        };
    }
    let column = if sql.starts_with("SELECT") {
        "COUNT(UInt8(1))"
    } else {
        "rows"
    };
    match execute(&mut st.config, fs, &tenant, &db, &sql) {
        Ok(rows) if json => (
            200,
            "application/json",
            format!("[{{\"{column}\":{rows}}}]"),
        ),
        Ok(rows) => (200, "application/csv", format!("{column}\n{rows}\n")),
        Err(message) => error(422, "010001", &message),
    }
}

/// `time >= A AND time < B` (either part, or none) holds for `t`; `None` if unparsable.
fn in_range(predicate: &str, t: i64) -> Option<bool> {
    let mut ok = true;
    for part in predicate.split(" AND ").filter(|p| !p.trim().is_empty()) {
        let part = part.trim();
        if let Some(a) = part.strip_prefix("time >= ") {
            ok &= t >= a.trim().parse::<i64>().ok()?;
        } else if let Some(b) = part.strip_prefix("time < ") {
            ok &= t < b.trim().parse::<i64>().ok()?;
        } else {
            return None;
        }
    }
    Some(ok)
}

/// `(SELECT * FROM <table> WHERE …)` at the start of `s`: the table, the condition, the rest.
fn subquery(s: &str) -> Option<(String, String, &str)> {
    let rest = s.strip_prefix("(SELECT * FROM ")?;
    let (table, rest) = ident(rest)?;
    let rest = rest.strip_prefix(" WHERE ")?;
    let close = rest.find(')')?;
    Some((table, rest[..close].to_string(), &rest[close + 1..]))
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses `'…'` (with `''`) at the start of `s`; returns the text and the rest.
fn literal(s: &str) -> Option<(String, &str)> {
    let mut rest = s.strip_prefix('\'')?;
    let mut out = String::new();
    loop {
        let i = rest.find('\'')?;
        out.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        match rest.strip_prefix('\'') {
            Some(r) => {
                out.push('\'');
                rest = r;
            }
            None => return Some((out, rest)),
        }
    }
}

/// Parses `"…"` (with `""`) or a bare word (lower-cased) at the start of `s`.
fn ident(s: &str) -> Option<(String, &str)> {
    if let Some(mut rest) = s.strip_prefix('"') {
        let mut out = String::new();
        loop {
            let i = rest.find('"')?;
            out.push_str(&rest[..i]);
            rest = &rest[i + 1..];
            match rest.strip_prefix('"') {
                Some(r) => {
                    out.push('"');
                    rest = r;
                }
                None => return Some((out, rest)),
            }
        }
    }
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    (end > 0).then(|| (s[..end].to_lowercase(), &s[end..]))
}

fn check_format(rest: &str) -> Result<(), String> {
    let rest = rest.trim();
    if rest.is_empty() {
        return Ok(());
    }
    let upper = rest.to_uppercase();
    let Some(inner) = upper
        .strip_prefix("FILE_FORMAT = (")
        .and_then(|r| r.strip_suffix(')'))
    else {
        return Err(format!("sql parser error: unexpected {rest}"));
    };
    let is_csv = inner.contains("TYPE = 'CSV'") || !inner.contains("TYPE");
    if !is_csv && (inner.contains("DELIMITER") || inner.contains("WITH_HEADER")) {
        return Err("delimiter and with_header fields are specific to CSV".into());
    }
    Ok(())
}

fn execute(
    config: &mut NodeConfig,
    fs: &Fs,
    tenant: &str,
    db: &str,
    sql: &str,
) -> Result<u64, String> {
    let sql = sql.trim().trim_end_matches(';');
    let parse_err = || format!("sql parser error: {sql}");
    if let Some(rest) = sql.strip_prefix("SELECT count(*) FROM ") {
        let (table, rest) = ident(rest).ok_or_else(parse_err)?;
        let predicate = rest.trim().strip_prefix("WHERE ").unwrap_or(rest);
        let key = (tenant.to_string(), db.to_string(), table.clone());
        let rows = *config
            .tables
            .get(&key)
            .ok_or_else(|| format!("Table not found: {tenant}.{db}.{table}"))?;
        let hit = in_range(predicate, config.row_time).ok_or_else(parse_err)?;
        return Ok(if hit { rows } else { 0 });
    }
    let Some(rest) = sql.strip_prefix("COPY INTO ") else {
        return Err(format!(
            "this fake node only runs COPY INTO and count(*), not: {sql}"
        ));
    };
    if rest.starts_with('\'') {
        let (path, rest) = literal(rest).ok_or_else(parse_err)?;
        let rest = rest.strip_prefix(" FROM ").ok_or_else(parse_err)?;
        let (table, predicate, rest) = match subquery(rest) {
            Some(q) => q,
            None => {
                let (table, rest) = ident(rest).ok_or_else(parse_err)?;
                (table, String::new(), rest)
            }
        };
        check_format(rest)?;
        if path.ends_with('/') {
            return Err(format!("export path {path} ends with /"));
        }
        if config.fail_table.as_deref() == Some(table.as_str()) {
            return Err(format!(
                "Datafusion: Execution error: failed to scan {table}"
            ));
        }
        let key = (tenant.to_string(), db.to_string(), table.clone());
        let mut rows = *config
            .tables
            .get(&key)
            .ok_or_else(|| format!("Table not found: {tenant}.{db}.{table}"))?;
        if !in_range(&predicate, config.row_time).ok_or_else(parse_err)? {
            rows = 0;
        }
        // Like CnosDB, a second export into the same directory adds files next to the first;
        // an empty result writes no file.
        if rows > 0 {
            *lock(fs).entry(path).or_insert(0) += rows;
        }
        Ok(rows)
    } else {
        let (table, rest) = ident(rest).ok_or_else(parse_err)?;
        let rest = rest.strip_prefix(" FROM ").ok_or_else(parse_err)?;
        let (path, rest) = literal(rest).ok_or_else(parse_err)?;
        check_format(rest)?;
        let Some(dir) = path.strip_suffix('/') else {
            return Err(format!(
                "Datafusion: Execution error: no files found at {path} (a directory path must end with /)"
            ));
        };
        if config.fail_table.as_deref() == Some(table.as_str()) {
            return Err(format!(
                "Datafusion: Execution error: failed to write {table}"
            ));
        }
        let written = *lock(fs)
            .get(dir)
            .ok_or_else(|| format!("Datafusion: Execution error: no files found at {path}"))?;
        let drop = config.drop_rows;
        let key = (tenant.to_string(), db.to_string(), table.clone());
        let rows = config
            .tables
            .get_mut(&key)
            .ok_or_else(|| format!("Table not found: {tenant}.{db}.{table}"))?;
        let imported = written.saturating_sub(drop);
        let before = config.imported.entry((key, dir.to_string())).or_insert(0);
        *rows += imported.saturating_sub(*before);
        *before = (*before).max(imported);
        Ok(imported)
    }
}

/// `text` with each staging location's run token (`<chunk>-<attempt>-<ns>`) written `RUN`, so
/// that a statement can be compared with a fixed one.
pub fn runless(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('-') {
        // After the attempt's digits (not a minus sign, as in `time >= -9223372036854775807`).
        let after_digit = at > 0 && rest.as_bytes()[at - 1].is_ascii_digit();
        let (before, after) = rest.split_at(at + 1);
        out.push_str(before);
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if digits >= 15 && after_digit {
            out.push_str("RUN");
            rest = &after[digits..];
        } else {
            rest = after;
        }
    }
    out.push_str(rest);
    out
}
