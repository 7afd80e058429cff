//! The server's answers read, and what went wrong said in one line.

use std::io::{self, Read};
use std::time::Duration;

use ureq::http::StatusCode;
use ureq::Body;

use super::Timeouts;

/// How much of an unexpected body is read to quote it.
const QUOTE_READ: u64 = 64 << 10;
/// How much of an unexpected body is quoted in a message, in characters.
const QUOTE_CHARS: usize = 300;

/// `Some(n)` when `body` is exactly CnosDB's success answer `Restore Data Success, Total: n`
/// (the server adds a trailing space).
pub(super) fn parse_success(body: &str) -> Option<u64> {
    let n = body
        .trim_end()
        .strip_prefix("Restore Data Success, Total: ")?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok()
}

/// The message for a 2xx answer that is not the success text.
pub(super) fn reply_error(text: &str) -> String {
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
pub(super) fn leader_addr(text: &str) -> Option<&str> {
    let rest = &text[text.find("addr: \"")? + 7..];
    let addr = &rest[..rest.find('"')?];
    let plausible = !addr.is_empty()
        && addr
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".:-[]".contains(&b));
    plausible.then_some(addr)
}

pub(super) fn status_text(status: StatusCode) -> String {
    format!(
        "HTTP {} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    )
    .trim_end()
    .to_string()
}

/// `: «start of body»`, or nothing for an empty body.
pub(super) fn quote_body(body: &mut Body) -> String {
    // A body that cannot be read in full is quoted as far as it went.
    let (text, _) = read_text(body);
    if text.trim().is_empty() {
        String::new()
    } else {
        format!(": {}", quote(text.as_bytes()))
    }
}

/// The start of a body as text, and the error that cut it short, if one did.
pub(super) fn read_text(body: &mut Body) -> (String, Option<io::Error>) {
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
pub(super) fn quote(bytes: &[u8]) -> String {
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

pub(super) fn connect_failed(e: &ureq::Error) -> bool {
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

pub(super) fn describe(e: &ureq::Error, timeouts: Timeouts) -> String {
    match e {
        ureq::Error::Timeout(ureq::Timeout::Connect | ureq::Timeout::Resolve) => format!(
            "could not connect within {} ({})",
            secs(timeouts.connect),
            timeouts.names.connect
        ),
        ureq::Error::Timeout(
            ureq::Timeout::PerWrite | ureq::Timeout::SendRequest | ureq::Timeout::SendBody,
        ) => format!(
            "the server took nothing of the request for {} ({}); it is stuck or overloaded",
            secs(timeouts.read),
            timeouts.names.read
        ),
        ureq::Error::Timeout(_) => format!(
            "the server sent nothing for {} ({}); it is stuck or overloaded, or needs a \
             longer timeout",
            secs(timeouts.read),
            timeouts.names.read
        ),
        ureq::Error::HostNotFound => "cannot resolve the host name".to_string(),
        ureq::Error::Io(io) => describe_io(io, timeouts),
        ureq::Error::Protocol(p) => format!("the answer is not valid HTTP: {p}"),
        other => other.to_string(),
    }
}

pub(super) fn describe_io(e: &io::Error, timeouts: Timeouts) -> String {
    if let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<ureq::Error>()) {
        return describe(inner, timeouts);
    }
    match e.kind() {
        io::ErrorKind::ConnectionRefused => {
            "connection refused: is the meta service listening there (port 8901 by default)?"
                .to_string()
        }
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => format!(
            "the server sent nothing for {} ({})",
            secs(timeouts.read),
            timeouts.names.read
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
}
