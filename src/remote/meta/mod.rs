//! HTTP client for a CnosDB meta service: `GET /dump` or `/debug`, `POST /restore`.
//!
//! Plain HTTP (the meta service has no TLS). A status code alone never means success: bodies
//! are read and checked, because CnosDB answers 200 with an error text when a write fails.
//!
//! The client is here; [`download`] checks and saves a dump as it arrives, [`answers`] reads
//! the server's answers and says what went wrong.

mod answers;
mod download;

use std::fmt;
use std::io::Read;
use std::time::Duration;

use ureq::http::{header, StatusCode, Uri};
use ureq::{Agent, Body, SendBody};

use crate::error::{Error, Result};
use answers::{
    connect_failed, describe, describe_io, parse_success, quote, quote_body, read_text,
    reply_error, status_text,
};
pub use download::{Download, Fetched};

/// Connect and read timeouts of every request.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Limit for establishing the TCP connection.
    pub connect: Duration,
    /// Limit for each read (and write) on the connection, so also for the wait for an answer.
    pub read: Duration,
    /// What the caller calls the two limits.
    pub names: TimeoutNames,
}

/// What the caller calls each limit (e.g. the settings that set them): a message about a
/// timeout names it, so that the user knows what to change.
#[derive(Debug, Clone, Copy)]
pub struct TimeoutNames {
    /// The name of [`Timeouts::connect`].
    pub connect: &'static str,
    /// The name of [`Timeouts::read`].
    pub read: &'static str,
}

/// A meta service address: scheme and authority, plus the path when the URL named one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    origin: String,
    path: Option<String>,
}

impl Endpoint {
    /// Parses `http://host:port[/path]`; `host:port` alone means `http://host:port`.
    pub fn parse(url: &str) -> Result<Endpoint> {
        let bad = |why: &str| {
            Error::Usage(format!(
                "`{url}` is not a meta service URL ({why}); expected http://HOST:8901"
            ))
        };
        let with_scheme = if url.contains("://") {
            url.to_string()
        } else {
            format!("http://{url}")
        };
        let uri: Uri = with_scheme.parse().map_err(|_| bad("cannot parse it"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => {
                return Err(Error::Usage(format!(
                    "`{url}`: https is not supported; the CnosDB meta service speaks plain HTTP \
                     (use http://, or a tunnel if the network is untrusted)"
                )))
            }
            _ => return Err(bad("only http:// is supported")),
        }
        let authority = uri.authority().ok_or_else(|| bad("no host"))?;
        if authority.as_str().contains('@') {
            return Err(bad("credentials in the URL are not supported"));
        }
        let path = uri
            .path_and_query()
            .map(|p| p.as_str())
            .filter(|p| !p.is_empty() && *p != "/")
            .map(str::to_string);
        Ok(Endpoint {
            origin: format!("http://{authority}"),
            path,
        })
    }

    /// The URL to download from: the path given, or `/dump`.
    pub fn dump_url(&self) -> String {
        format!("{}{}", self.origin, self.path.as_deref().unwrap_or("/dump"))
    }

    /// The URL to post a restore to: `/restore`, or the path given when it ends in `/restore`.
    pub fn restore_url(&self) -> Result<String> {
        match &self.path {
            None => Ok(format!("{}/restore", self.origin)),
            Some(p) if p.ends_with("/restore") => Ok(format!("{}{p}", self.origin)),
            Some(p) => Err(Error::Usage(format!(
                "restore posts to /restore, not to `{p}`; give the service URL ({}) or {}/restore",
                self.origin, self.origin
            ))),
        }
    }

    /// The same service's `/dump`, whatever path this endpoint names.
    pub fn service_dump(&self) -> Endpoint {
        Endpoint {
            origin: self.origin.clone(),
            path: Some("/dump".into()),
        }
    }

    fn names_dump(&self) -> bool {
        self.path.as_deref().is_none_or(|p| p.ends_with("/dump"))
    }
}

/// A client for one meta service, with the timeouts it was built with.
pub struct MetaClient {
    agent: Agent,
    timeouts: Timeouts,
}

impl MetaClient {
    /// A client that never follows redirects or reuses a connection, asks for an
    /// uncompressed body, and hands every status (not only 2xx) to the caller.
    pub fn new(timeouts: Timeouts) -> MetaClient {
        let agent = Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            // A fresh connection per request: a failure can then never come from a pooled
            // connection the server had already closed, so it always says something about
            // the request itself.
            .max_idle_connections(0)
            .accept_encoding("identity")
            .user_agent(concat!("cnosdb-migrate/", env!("CARGO_PKG_VERSION")))
            .timeout_connect(Some(timeouts.connect))
            .timeout_per_read(Some(timeouts.read))
            .timeout_per_write(Some(timeouts.read))
            .build()
            .new_agent();
        MetaClient { agent, timeouts }
    }

    /// Sends `GET` for a dump and checks the status and headers; the body is read by
    /// [`Download::save`].
    pub fn download(&self, endpoint: &Endpoint) -> Result<Download> {
        let url = endpoint.dump_url();
        let response = self
            .agent
            .get(&url)
            .call()
            .map_err(|e| Error::Remote(format!("GET {url}: {}", self.transport(&e))))?;
        let (parts, mut body) = response.into_parts();
        let status = parts.status;
        if !status.is_success() {
            let quoted = quote_body(&mut body);
            let mut msg = format!("GET {url}: {}{quoted}", status_text(status));
            if status == StatusCode::NOT_FOUND && endpoint.names_dump() {
                msg.push_str(&format!(
                    "; a 2.3 single-instance server (cnosdb run -M singleton) serves only /debug: \
                     try {}/debug (and check that this is the meta port, 8901 by default)",
                    endpoint.origin
                ));
            } else if status.is_redirection() {
                if let Some(to) = parts.headers.get(header::LOCATION) {
                    msg.push_str(&format!(
                        "; the server redirects to {}: use that URL",
                        String::from_utf8_lossy(to.as_bytes())
                    ));
                }
            }
            return Err(Error::Remote(msg));
        }
        if let Some(enc) = parts.headers.get(header::CONTENT_ENCODING) {
            let enc = String::from_utf8_lossy(enc.as_bytes())
                .trim()
                .to_ascii_lowercase();
            if !enc.is_empty() && enc != "identity" {
                return Err(Error::Remote(format!(
                    "GET {url}: the body is {enc}-encoded although an uncompressed one was asked \
                     for, and this build cannot decode it; fetch directly from the meta service, \
                     not through a proxy that compresses"
                )));
            }
        }
        if let Some(ct) = parts.headers.get(header::CONTENT_TYPE) {
            let ct = String::from_utf8_lossy(ct.as_bytes()).to_ascii_lowercase();
            if ct.contains("html") || ct.contains("json") {
                let quoted = quote_body(&mut body);
                return Err(Error::Remote(format!(
                    "GET {url}: the server answered {ct}, not a dump{quoted}; is this the meta \
                     service (port 8901), not a data node or a proxy?"
                )));
            }
        }
        Ok(Download {
            url,
            length: body.content_length(),
            body,
            timeouts: self.timeouts,
        })
    }

    /// Downloads a dump (checked as [`Download::save`] checks it) into a private temporary
    /// file, rewound to its start.
    pub fn download_spooled(&self, endpoint: &Endpoint) -> Result<std::fs::File> {
        let mut spool =
            tempfile::tempfile().map_err(|e| Error::io("creating a temporary file", e))?;
        self.download(endpoint)?.save(&mut spool, &mut |_| {})?;
        std::io::Seek::rewind(&mut spool).map_err(|e| Error::io("rereading the dump", e))?;
        Ok(spool)
    }

    /// Posts `length` bytes from `body` to `url` (as `curl --data-binary` would) and checks
    /// that the server reports exactly `records` records restored.
    pub fn restore(
        &self,
        url: &str,
        body: impl Read + 'static,
        length: u64,
        records: u64,
    ) -> std::result::Result<(), RestoreFailure> {
        let failure =
            |(applied, message, remedy): (Applied, String, Option<Remedy>)| RestoreFailure {
                remedy,
                applied,
                message: format!("POST {url}: {message}"),
            };
        let response = self
            .agent
            .post(url)
            .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .header(header::CONTENT_LENGTH, length)
            .send(SendBody::from_owned_reader(body))
            .map_err(|e| failure(self.send_failure(&e, length)))?;
        let (parts, mut body) = response.into_parts();
        if !parts.status.is_success() {
            return Err(failure(status_failure(parts.status, &mut body, length)));
        }
        let (text, err) = read_text(&mut body);
        if let Some(e) = err {
            return Err(failure((
                Applied::Unknown,
                format!(
                    "the answer broke off: {}; it began {}",
                    describe_io(&e, self.timeouts),
                    quote(text.as_bytes())
                ),
                None,
            )));
        }
        match parse_success(&text) {
            Some(n) if n == records => Ok(()),
            Some(n) => Err(failure((
                Applied::Unknown,
                format!(
                    "the server reports {n} records restored, but {records} were sent; the body \
                     was changed on the way, or the server is not CnosDB"
                ),
                None,
            ))),
            None => Err(failure((Applied::Unknown, reply_error(&text), None))),
        }
    }

    /// What a restore request that could not be sent applied, and why it failed.
    fn send_failure(&self, e: &ureq::Error, length: u64) -> (Applied, String, Option<Remedy>) {
        let applied = if connect_failed(e) {
            Applied::None
        } else {
            Applied::Unknown
        };
        let mut msg = self.transport(e);
        let mut remedy = None;
        if length > 256 << 10 && matches!(e, ureq::Error::Io(_)) {
            msg.push_str(&format!(
                "; the body was {} KiB, and 2.3.0–2.3.5.3 servers drop bodies over 256 KiB",
                length >> 10
            ));
            remedy = Some(Remedy::BodyDropped);
        }
        (applied, msg, remedy)
    }

    /// A one-line description of a failed request.
    fn transport(&self, e: &ureq::Error) -> String {
        describe(e, self.timeouts)
    }
}

/// What a restore answered with a status other than 2xx applied, and why it failed.
fn status_failure(
    status: StatusCode,
    body: &mut Body,
    length: u64,
) -> (Applied, String, Option<Remedy>) {
    let quoted = quote_body(body);
    let mut msg = format!("{}{quoted}", status_text(status));
    let (hint, remedy) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => (
            Some(format!(
                "the body ({} KiB) is over the server's limit (256 KiB on 2.3.0–2.3.5.3): \
                 send it in smaller requests",
                length.div_ceil(1024)
            )),
            Some(Remedy::BodyTooLarge),
        ),
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => (
            Some(
                "this server has no POST /restore: a 2.3 single-instance server has none, \
                 and only the meta service (port 8901) has it"
                    .to_string(),
            ),
            None,
        ),
        StatusCode::BAD_REQUEST if msg.contains("decode") => (
            Some(
                "the server could not decode the body as UTF-8; run the offline checks".to_string(),
            ),
            Some(Remedy::NotUtf8),
        ),
        _ => (None, None),
    };
    if let Some(h) = hint {
        msg.push_str("; ");
        msg.push_str(&h);
    }
    // A 4xx comes from the HTTP layer before the handler ran: nothing was written.
    let applied = if status.is_client_error() {
        Applied::None
    } else {
        Applied::Unknown
    };
    (applied, msg, remedy)
}

/// How much of a failed restore request the server may have applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// Nothing: the request never reached the handler.
    None,
    /// Some leading records of the request may have been applied.
    Unknown,
}

/// What the caller can change about a restore request that failed, when the failure says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Remedy {
    /// The server dropped a large body: send fewer records per request.
    BodyDropped,
    /// The body is over the server's size limit: send fewer records per request.
    BodyTooLarge,
    /// The server could not decode the body as UTF-8: check the file before sending it.
    NotUtf8,
}

/// A restore request that did not end in a confirmed success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreFailure {
    /// Whether part of the request may have been applied.
    pub applied: Applied,
    /// What happened, with the server's answer quoted.
    pub message: String,
    /// What the caller can change about it, if the failure says (the message does not word
    /// it: the command line does).
    pub remedy: Option<Remedy>,
}

impl fmt::Display for RestoreFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

#[cfg(test)]
mod tests;
