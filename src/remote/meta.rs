//! HTTP client for a CnosDB meta service: `GET /dump` or `/debug`, `POST /restore`.
//!
//! Plain HTTP (the meta service has no TLS). A status code alone never means success: bodies
//! are read and checked, because CnosDB answers 200 with an error text when a write fails.

use std::fmt;
use std::io::{self, Read, Write};
use std::time::Duration;

use sha2::{Digest, Sha256};
use ureq::http::{header, StatusCode, Uri};
use ureq::{Agent, Body, SendBody};

use crate::dump::{DumpReader, Form};
use crate::error::{Error, Result};

/// How much of an unexpected body is read to quote it.
const QUOTE_READ: u64 = 64 << 10;
/// How much of an unexpected body is quoted in a message, in characters.
const QUOTE_CHARS: usize = 300;
/// How many leading bytes of a dump are inspected before it is parsed.
const SNIFF: usize = 512;

/// Connect and read timeouts of every request.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Limit for establishing the TCP connection.
    pub connect: Duration,
    /// Limit for each read (and write) on the connection, so also for the wait for an answer.
    pub read: Duration,
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
        let failure = |applied, message: String| RestoreFailure {
            applied,
            message: format!("POST {url}: {message}"),
        };
        let response = self
            .agent
            .post(url)
            .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .header(header::CONTENT_LENGTH, length)
            .send(SendBody::from_owned_reader(body))
            .map_err(|e| {
                let applied = if connect_failed(&e) {
                    Applied::None
                } else {
                    Applied::Unknown
                };
                let mut msg = self.transport(&e);
                if length > 256 << 10 && matches!(e, ureq::Error::Io(_)) {
                    msg.push_str(&format!(
                        "; the body was {} KiB, and 2.3.0–2.3.5.3 servers drop bodies over \
                         256 KiB: try --chunk-records",
                        length >> 10
                    ));
                }
                failure(applied, msg)
            })?;
        let (parts, mut body) = response.into_parts();
        let status = parts.status;
        if !status.is_success() {
            let quoted = quote_body(&mut body);
            let mut msg = format!("{}{quoted}", status_text(status));
            let hint = match status {
                StatusCode::PAYLOAD_TOO_LARGE => Some(format!(
                    "the body ({} KiB) is over the server's limit (256 KiB on 2.3.0–2.3.5.3): \
                     send it in smaller requests with --chunk-records",
                    length.div_ceil(1024)
                )),
                StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => Some(
                    "this server has no POST /restore: a 2.3 single-instance server has none, \
                     and only the meta service (port 8901) has it"
                        .to_string(),
                ),
                StatusCode::BAD_REQUEST if msg.contains("decode") => Some(
                    "the server could not decode the body as UTF-8; run the offline checks \
                     (drop --no-check)"
                        .to_string(),
                ),
                _ => None,
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
            return Err(failure(applied, msg));
        }
        let (text, err) = read_text(&mut body);
        if let Some(e) = err {
            return Err(failure(
                Applied::Unknown,
                format!(
                    "the answer broke off: {}; it began {}",
                    describe_io(&e, self.timeouts),
                    quote(text.as_bytes())
                ),
            ));
        }
        match parse_success(&text) {
            Some(n) if n == records => Ok(()),
            Some(n) => Err(failure(
                Applied::Unknown,
                format!(
                    "the server reports {n} records restored, but {records} were sent; the body \
                     was changed on the way, or the server is not CnosDB"
                ),
            )),
            None => Err(failure(Applied::Unknown, reply_error(&text))),
        }
    }

    /// A one-line description of a failed request.
    fn transport(&self, e: &ureq::Error) -> String {
        describe(e, self.timeouts)
    }
}

/// How much of a failed restore request the server may have applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// Nothing: the request never reached the handler.
    None,
    /// Some leading records of the request may have been applied.
    Unknown,
}

/// A restore request that did not end in a confirmed success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreFailure {
    /// Whether part of the request may have been applied.
    pub applied: Applied,
    /// What happened, with the server's answer quoted.
    pub message: String,
}

impl fmt::Display for RestoreFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// An accepted dump download whose body has not been read yet.
pub struct Download {
    url: String,
    length: Option<u64>,
    body: Body,
    timeouts: Timeouts,
}

/// What a completed download saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// Bytes saved.
    pub bytes: u64,
    /// Records in the dump.
    pub records: u64,
    /// The form of the dump.
    pub form: Form,
    /// SHA-256 of the bytes saved.
    pub sha256: [u8; 32],
}

impl Download {
    /// The URL the dump comes from.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The body size the server announced, if it did.
    pub fn content_length(&self) -> Option<u64> {
        self.length
    }

    /// Streams the body into `sink` while checking it is a complete dump; `progress` gets
    /// the byte count so far. On error the sink holds a partial body: discard it.
    pub fn save(self, sink: &mut dyn Write, progress: &mut dyn FnMut(u64)) -> Result<Fetched> {
        let Download {
            url,
            body,
            timeouts,
            ..
        } = self;
        let mut net = body.into_reader();
        let mut head = Vec::with_capacity(SNIFF);
        if let Err(e) = (&mut net).take(SNIFF as u64).read_to_end(&mut head) {
            return Err(broke_off(&url, head.len() as u64, &e, timeouts));
        }
        if let Some(kind) = sniff_error_page(&head) {
            return Err(Error::Remote(format!(
                "GET {url}: the server answered {kind}, not a dump: {}",
                quote(&head)
            )));
        }
        let tee = Tee {
            inner: io::Cursor::new(head).chain(net),
            sink,
            hasher: Sha256::new(),
            bytes: 0,
            progress,
            net_error: None,
            sink_error: None,
        };
        let mut reader = DumpReader::new(tee);
        let outcome = loop {
            match reader.next_record() {
                Ok(Some(_)) => {}
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        let (records, form) = (reader.records(), reader.form());
        let tee = reader.into_inner();
        if let Some(e) = tee.net_error {
            return Err(broke_off(&url, tee.bytes, &e, timeouts));
        }
        if let Some(e) = tee.sink_error {
            return Err(Error::io("writing the dump", e));
        }
        match outcome {
            Ok(()) => {}
            Err(Error::Input(e)) => {
                return Err(Error::Remote(format!(
                    "GET {url}: the answer is not a complete dump: {e}"
                )))
            }
            Err(e) => return Err(e),
        }
        let Some(form) = form.filter(|_| records > 0) else {
            return Err(Error::Remote(format!(
                "GET {url}: the server sent no record ({} bytes); an initialized meta service \
                 always has some: check the URL (the meta service, port 8901)",
                tee.bytes
            )));
        };
        Ok(Fetched {
            bytes: tee.bytes,
            records,
            form,
            sha256: tee.hasher.finalize().into(),
        })
    }
}

/// Passes what it reads from the network on to a sink and a hash, and keeps the first error
/// of either side, so that a broken download and a full disk are told apart.
struct Tee<'a, R> {
    inner: R,
    sink: &'a mut dyn Write,
    hasher: Sha256,
    bytes: u64,
    progress: &'a mut dyn FnMut(u64),
    net_error: Option<io::Error>,
    sink_error: Option<io::Error>,
}

impl<R: Read> Read for Tee<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = match self.inner.read(buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Err(e),
            Err(e) => {
                let kind = e.kind();
                self.net_error = Some(e);
                return Err(kind.into());
            }
        };
        if let Err(e) = self.sink.write_all(&buf[..n]) {
            let kind = e.kind();
            self.sink_error = Some(e);
            return Err(kind.into());
        }
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        (self.progress)(self.bytes);
        Ok(n)
    }
}

fn broke_off(url: &str, bytes: u64, e: &io::Error, timeouts: Timeouts) -> Error {
    Error::Remote(format!(
        "GET {url}: the download broke off after {bytes} bytes: {}",
        describe_io(e, timeouts)
    ))
}

/// `Some(n)` when `body` is exactly CnosDB's success answer `Restore Data Success, Total: n`
/// (the server adds a trailing space).
fn parse_success(body: &str) -> Option<u64> {
    let n = body
        .trim_end()
        .strip_prefix("Restore Data Success, Total: ")?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok()
}

/// The message for a 2xx answer that is not the success text.
fn reply_error(text: &str) -> String {
    let mut msg = format!(
        "the server answered 200 but not `Restore Data Success, Total: N`: {}",
        quote(text.as_bytes())
    );
    if text.contains("forward request to") {
        msg.push_str(
            "; this meta node is a raft follower and writes only go through the leader: \
             restore to the leader",
        );
        match leader_addr(text) {
            Some(addr) => msg.push_str(&format!(" (the answer names http://{addr})")),
            None => msg.push_str(" (GET /metrics on any meta node shows current_leader)"),
        }
    }
    msg
}

/// The first `addr: "host:port"` in a forward-to-leader text, if it names one.
fn leader_addr(text: &str) -> Option<&str> {
    let rest = &text[text.find("addr: \"")? + 7..];
    let addr = &rest[..rest.find('"')?];
    let plausible = !addr.is_empty()
        && addr
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".:-[]".contains(&b));
    plausible.then_some(addr)
}

/// "an HTML page" or "a JSON document" when a body's start says so.
fn sniff_error_page(head: &[u8]) -> Option<&'static str> {
    let start = head.iter().position(|b| !b.is_ascii_whitespace())?;
    match head[start] {
        b'<' => Some("an HTML page"),
        b'{' | b'[' => Some("a JSON document"),
        _ => None,
    }
}

fn status_text(status: StatusCode) -> String {
    format!(
        "HTTP {} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    )
    .trim_end()
    .to_string()
}

/// `: «start of body»`, or nothing for an empty body.
fn quote_body(body: &mut Body) -> String {
    // A body that cannot be read in full is quoted as far as it went.
    let (text, _) = read_text(body);
    if text.trim().is_empty() {
        String::new()
    } else {
        format!(": {}", quote(text.as_bytes()))
    }
}

/// The start of a body as text, and the error that cut it short, if one did.
fn read_text(body: &mut Body) -> (String, Option<io::Error>) {
    let mut bytes = Vec::new();
    let err = body
        .as_reader()
        .take(QUOTE_READ)
        .read_to_end(&mut bytes)
        .err();
    (String::from_utf8_lossy(&bytes).into_owned(), err)
}

/// A server's text, made safe for one line of a terminal: whitespace runs become one space,
/// control characters are escaped, and it is cut to a few hundred characters.
fn quote(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::from("«");
    let mut chars = 0;
    let mut space = false;
    for c in text.trim().chars() {
        if chars == QUOTE_CHARS {
            out.push('…');
            break;
        }
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space {
            out.push(' ');
            chars += 1;
            space = false;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
        chars += 1;
    }
    out.push('»');
    out
}

fn connect_failed(e: &ureq::Error) -> bool {
    match e {
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => true,
        ureq::Error::Timeout(t) => {
            matches!(t, ureq::Timeout::Connect | ureq::Timeout::Resolve)
        }
        ureq::Error::Io(io) => matches!(
            io.kind(),
            io::ErrorKind::ConnectionRefused
                | io::ErrorKind::AddrNotAvailable
                | io::ErrorKind::NetworkUnreachable
                | io::ErrorKind::HostUnreachable
        ),
        _ => false,
    }
}

fn describe(e: &ureq::Error, timeouts: Timeouts) -> String {
    match e {
        ureq::Error::Timeout(ureq::Timeout::Connect | ureq::Timeout::Resolve) => format!(
            "could not connect within {} (--connect-timeout)",
            secs(timeouts.connect)
        ),
        ureq::Error::Timeout(
            ureq::Timeout::PerWrite | ureq::Timeout::SendRequest | ureq::Timeout::SendBody,
        ) => format!(
            "the server took nothing of the request for {} (--read-timeout); it is stuck or \
             overloaded",
            secs(timeouts.read)
        ),
        ureq::Error::Timeout(_) => format!(
            "the server sent nothing for {} (--read-timeout); it is stuck or overloaded, or \
             needs a longer timeout",
            secs(timeouts.read)
        ),
        ureq::Error::HostNotFound => "cannot resolve the host name".to_string(),
        ureq::Error::Io(io) => describe_io(io, timeouts),
        ureq::Error::Protocol(p) => format!("the answer is not valid HTTP: {p}"),
        other => other.to_string(),
    }
}

fn describe_io(e: &io::Error, timeouts: Timeouts) -> String {
    if let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<ureq::Error>()) {
        return describe(inner, timeouts);
    }
    match e.kind() {
        io::ErrorKind::ConnectionRefused => {
            "connection refused: is the meta service listening there (port 8901 by default)?"
                .to_string()
        }
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => format!(
            "the server sent nothing for {} (--read-timeout)",
            secs(timeouts.read)
        ),
        io::ErrorKind::UnexpectedEof => "the server closed the connection early".to_string(),
        _ => e.to_string(),
    }
}

fn secs(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        let e = Endpoint::parse("http://h:8901").unwrap();
        assert_eq!(e.dump_url(), "http://h:8901/dump");
        assert_eq!(e.restore_url().unwrap(), "http://h:8901/restore");
        let e = Endpoint::parse("h:8901/").unwrap();
        assert_eq!(e.dump_url(), "http://h:8901/dump");
        let e = Endpoint::parse("http://h:8901/debug").unwrap();
        assert_eq!(e.dump_url(), "http://h:8901/debug");
        assert!(matches!(e.restore_url(), Err(Error::Usage(_))));
        let e = Endpoint::parse("http://gw/meta/restore").unwrap();
        assert_eq!(e.restore_url().unwrap(), "http://gw/meta/restore");
        assert!(matches!(
            Endpoint::parse("https://h:8901"),
            Err(Error::Usage(m)) if m.contains("plain HTTP")
        ));
        assert!(Endpoint::parse("ftp://h").is_err());
        assert!(Endpoint::parse("http://").is_err());
    }

    #[test]
    fn success_text() {
        assert_eq!(parse_success("Restore Data Success, Total: 12 "), Some(12));
        assert_eq!(parse_success("Restore Data Success, Total: 0"), Some(0));
        assert_eq!(parse_success("Restore Data Success, Total: "), None);
        assert_eq!(parse_success("Restore Data Success, Total: -1"), None);
        assert_eq!(parse_success("x Restore Data Success, Total: 1"), None);
        assert_eq!(parse_success("has to forward request to: Some(1)"), None);
    }

    #[test]
    fn follower_reply_names_the_leader() {
        let m = reply_error(
            "has to forward request to: Some(1), Some(BasicNode { addr: \"10.0.0.1:8901\" })",
        );
        assert!(
            m.contains("follower") && m.contains("http://10.0.0.1:8901"),
            "{m}"
        );
        let m = reply_error("has to forward request to: None, None");
        assert!(m.contains("current_leader"), "{m}");
    }

    #[test]
    fn quotes_are_one_short_line() {
        assert_eq!(quote(b"  a\n\n b\x07 "), "«a b\\u{7}»");
        let long = quote("x".repeat(1000).as_bytes());
        assert_eq!(long.chars().count(), QUOTE_CHARS + 3);
    }

    #[test]
    fn sniffing() {
        assert_eq!(sniff_error_page(b"\n <html>"), Some("an HTML page"));
        assert_eq!(
            sniff_error_page(b"{\"error_code\":1}"),
            Some("a JSON document")
        );
        assert_eq!(sniff_error_page(b"/a: {}"), None);
        assert_eq!(sniff_error_page(b""), None);
    }
}
