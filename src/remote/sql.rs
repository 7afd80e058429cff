//! A client of a data node's HTTP SQL API (spec section 8.1): `POST /api/v1/sql?tenant=…&db=…`
//! with Basic auth, answers read as CSV or JSON.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use serde::Deserialize;

use crate::tables::sql::percent_encode;

/// Largest answer body read; a `COPY INTO` answer is one short row.
const BODY_LIMIT: u64 = 1 << 20;

/// User name and password for Basic auth.
#[derive(Clone)]
pub struct Credentials {
    /// The user name.
    pub user: String,
    /// The password (may be empty when the server runs without authentication).
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// Why a statement did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlError {
    /// No answer: connection refused, reset, timed out.
    Transport(String),
    /// A non-2xx answer; CnosDB sends `{"error_code","error_message"}` (422 for query errors).
    Status {
        /// HTTP status.
        status: u16,
        /// `error_code`, when the body is CnosDB's JSON error.
        code: Option<String>,
        /// `error_message`, or the body text.
        message: String,
    },
    /// A 2xx answer that is not the expected one-row `rows` result.
    Body(String),
}

impl fmt::Display for SqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SqlError::Transport(e) => write!(f, "no answer: {e}"),
            SqlError::Status {
                status,
                code: Some(code),
                message,
            } => write!(f, "HTTP {status}, error {code}: {message}"),
            SqlError::Status {
                status,
                code: None,
                message,
            } => write!(f, "HTTP {status}: {message}"),
            SqlError::Body(e) => write!(f, "unexpected answer: {e}"),
        }
    }
}

/// One data node's SQL endpoint.
pub struct SqlNode {
    base: String,
    authorization: Option<String>,
    agent: ureq::Agent,
}

impl SqlNode {
    /// A node at `url` (`http://host:port`, as `cnosdb-cli` would reach it). `timeout` bounds
    /// each statement; `None` waits as long as the server works. Statements carry no
    /// credentials until [`SqlNode::set_credentials`].
    pub fn new(url: &str, timeout: Option<Duration>) -> Result<SqlNode, String> {
        let rest = if let Some(rest) = url.strip_prefix("http://") {
            rest
        } else if url.starts_with("https://") {
            return Err(format!(
                "`{url}`: https is not supported by this build; reach the data node over http \
                 (e.g. through an SSH tunnel)"
            ));
        } else {
            return Err(format!(
                "`{url}` is not an http:// URL (e.g. http://127.0.0.1:8902)"
            ));
        };
        if rest.is_empty() || rest.starts_with('/') || rest.contains(['?', '#']) {
            return Err(format!(
                "`{url}` needs a host and no query, e.g. http://127.0.0.1:8902"
            ));
        }
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_global(timeout)
            .build();
        Ok(SqlNode {
            base: url.trim_end_matches('/').to_string(),
            authorization: None,
            agent: config.into(),
        })
    }

    /// Sends Basic auth with these credentials from now on.
    pub fn set_credentials(&mut self, credentials: &Credentials) {
        let token = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", credentials.user, credentials.password));
        self.authorization = Some(format!("Basic {token}"));
    }

    /// The node's base URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    /// The endpoint a statement for `tenant` and `db` is posted to.
    pub fn endpoint(&self, tenant: &str, db: &str) -> String {
        format!(
            "{}/api/v1/sql?tenant={}&db={}",
            self.base,
            percent_encode(tenant),
            percent_encode(db)
        )
    }

    /// Runs a statement that answers CnosDB's one-row `rows` result (`COPY INTO`) and
    /// returns that count.
    pub fn copy_rows(&self, tenant: &str, db: &str, sql: &str) -> Result<u64, SqlError> {
        let (body, content_type) = self.post(tenant, db, sql, "application/json")?;
        parse_rows(&body, content_type.as_deref()).map_err(SqlError::Body)
    }

    /// What the node says it runs: the `version` of `GET /api/v1/ping` (`2.4.3, revision: …`).
    pub fn version(&self) -> Result<String, SqlError> {
        let url = format!("{}/api/v1/ping", self.base);
        let mut resp = self
            .agent
            .get(&url)
            .call()
            .map_err(|e| SqlError::Transport(e.to_string()))?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .read_to_string()
            .map_err(|e| SqlError::Transport(format!("reading the answer: {e}")))?;
        if !(200..300).contains(&status) {
            return Err(status_error(status, &body));
        }
        #[derive(Deserialize)]
        struct Ping {
            version: String,
        }
        serde_json::from_str::<Ping>(&body)
            .map(|p| p.version)
            .map_err(|e| SqlError::Body(format!("GET {url}: {e}")))
    }

    /// Runs a statement and returns its answer as CSV (a header line, then the rows).
    pub fn query_csv(&self, tenant: &str, db: &str, sql: &str) -> Result<String, SqlError> {
        self.post(tenant, db, sql, "application/csv")
            .map(|(body, _)| body)
    }

    /// Runs a query answering one row of one integer (`SELECT count(*) …`) and returns it.
    pub fn count(&self, tenant: &str, db: &str, sql: &str) -> Result<u64, SqlError> {
        let (body, _) = self.post(tenant, db, sql, "application/json")?;
        parse_count(&body).map_err(SqlError::Body)
    }

    /// Runs a query and returns its rows, each a JSON object by column name.
    pub fn rows(
        &self,
        tenant: &str,
        db: &str,
        sql: &str,
    ) -> Result<Vec<serde_json::Map<String, serde_json::Value>>, SqlError> {
        let (body, _) = self.post(tenant, db, sql, "application/json")?;
        let text = body.trim_start_matches('\u{feff}').trim();
        serde_json::from_str(text).map_err(|e| {
            SqlError::Body(format!("not a JSON array of rows ({e}): {}", shorten(text)))
        })
    }

    /// Posts `sql` asking for `accept`; the 2xx answer's body and content type.
    fn post(
        &self,
        tenant: &str,
        db: &str,
        sql: &str,
        accept: &str,
    ) -> Result<(String, Option<String>), SqlError> {
        let mut req = self.agent.post(self.endpoint(tenant, db));
        if let Some(auth) = &self.authorization {
            req = req.header("Authorization", auth);
        }
        let mut resp = req
            .header("Accept", accept)
            .content_type("text/plain; charset=utf-8")
            .send(sql)
            .map_err(|e| SqlError::Transport(e.to_string()))?;
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = resp
            .body_mut()
            .with_config()
            .limit(BODY_LIMIT)
            .read_to_string()
            .map_err(|e| SqlError::Transport(format!("reading the answer: {e}")))?;
        if !(200..300).contains(&status) {
            return Err(status_error(status, &body));
        }
        Ok((body, content_type))
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    error_code: Option<serde_json::Value>,
    error_message: Option<String>,
}

fn status_error(status: u16, body: &str) -> SqlError {
    if let Ok(ErrorBody {
        error_code,
        error_message: Some(message),
    }) = serde_json::from_str::<ErrorBody>(body)
    {
        let code = error_code.map(|c| match c {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        });
        return SqlError::Status {
            status,
            code,
            message,
        };
    }
    SqlError::Status {
        status,
        code: None,
        message: shorten(body.trim()),
    }
}

fn shorten(text: &str) -> String {
    const MAX: usize = 500;
    if text.is_empty() {
        return "(empty body)".into();
    }
    match text.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

/// Reads the `rows` count from a `COPY INTO` answer: JSON `[{"rows":N}]` or CSV `rows\nN\n`
/// (chosen by the content type, else by the first character). An empty value counts 0.
pub fn parse_rows(body: &str, content_type: Option<&str>) -> Result<u64, String> {
    let text = body.trim_start_matches('\u{feff}').trim();
    let json = match content_type {
        Some(ct) if ct.contains("json") => true,
        Some(ct) if ct.contains("csv") => false,
        _ => text.starts_with('['),
    };
    if json {
        let rows: Vec<serde_json::Map<String, serde_json::Value>> = serde_json::from_str(text)
            .map_err(|e| format!("not a JSON array of rows ({e}): {}", shorten(text)))?;
        let [row] = rows.as_slice() else {
            return Err(format!(
                "expected one row, got {}: {}",
                rows.len(),
                shorten(text)
            ));
        };
        return match row.get("rows") {
            Some(serde_json::Value::Number(n)) => n
                .as_u64()
                .ok_or_else(|| format!("`rows` is not a count: {n}")),
            Some(serde_json::Value::Null) => Ok(0),
            Some(serde_json::Value::String(s)) => count(s),
            _ => Err(format!("no `rows` column: {}", shorten(text))),
        };
    }
    let mut lines = text.lines().map(|l| l.trim_end_matches('\r'));
    match (lines.next(), lines.next(), lines.next()) {
        (Some("rows"), value, None) => count(value.unwrap_or("")),
        _ => Err(format!(
            "expected a CSV `rows` column and one row: {}",
            shorten(text)
        )),
    }
}

/// Reads the one value of a `SELECT count(*)` answer: JSON `[{"COL":N}]` or CSV `COL\nN\n`.
/// No row, or 2.3.5.4's `[{}]` for a range without rows, counts 0.
pub fn parse_count(body: &str) -> Result<u64, String> {
    let text = body.trim_start_matches('\u{feff}').trim();
    if !text.starts_with('[') {
        let mut lines = text.lines().map(|l| l.trim_end_matches('\r'));
        return match (lines.next(), lines.next(), lines.next()) {
            (Some(h), value, None) if !h.contains(',') => value.map_or(Ok(0), |v| {
                v.trim().parse().map_err(|_| format!("not a count: {v:?}"))
            }),
            _ => Err(format!(
                "expected one CSV column and one row: {}",
                shorten(text)
            )),
        };
    }
    let rows: Vec<serde_json::Map<String, serde_json::Value>> = serde_json::from_str(text)
        .map_err(|e| format!("not a JSON array of rows ({e}): {}", shorten(text)))?;
    match rows.as_slice() {
        [] => Ok(0),
        [row] if row.is_empty() => Ok(0),
        [row] if row.len() == 1 => match row.values().next() {
            Some(serde_json::Value::Number(n)) => {
                n.as_u64().ok_or_else(|| format!("not a count: {n}"))
            }
            _ => Err(format!("not a count: {}", shorten(text))),
        },
        _ => Err(format!("expected one row of one value: {}", shorten(text))),
    }
}

impl SqlError {
    /// True for a failure that may pass when the statement is sent again: no answer, or a
    /// 5xx status.
    pub fn is_transient(&self) -> bool {
        match self {
            SqlError::Transport(_) => true,
            SqlError::Status { status, .. } => *status >= 500,
            SqlError::Body(_) => false,
        }
    }
}

fn count(value: &str) -> Result<u64, String> {
    let v = value.trim().trim_matches('"');
    if v.is_empty() {
        return Ok(0);
    }
    v.parse()
        .map_err(|_| format!("`rows` is not a count: {value:?}"))
}

#[cfg(test)]
#[path = "sql_tests.rs"]
mod tests;
