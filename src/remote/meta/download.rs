//! A dump download: checked as it arrives (a complete dump of either form), saved, hashed.

use std::io::{self, Read, Write};

use sha2::{Digest, Sha256};
use ureq::Body;

use super::answers::{describe_io, quote};
use super::Timeouts;
use crate::dump::{DumpReader, Form};
use crate::error::{Error, Result};

/// How many leading bytes of a dump are inspected before it is parsed.
const SNIFF: usize = 512;

/// An accepted dump download whose body has not been read yet.
pub struct Download {
    pub(super) url: String,
    pub(super) length: Option<u64>,
    pub(super) body: Body,
    pub(super) timeouts: Timeouts,
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

/// "an HTML page" or "a JSON document" when a body's start says so.
fn sniff_error_page(head: &[u8]) -> Option<&'static str> {
    let start = head.iter().position(|b| !b.is_ascii_whitespace())?;
    match head[start] {
        b'<' => Some("an HTML page"),
        b'{' | b'[' => Some("a JSON document"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
