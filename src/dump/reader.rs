//! A streaming reader of either dump form that yields one record per line.

use std::io::{self, Read};

use super::frame::is_frame_line;
use crate::error::{Error, InputError, Result};

/// The longest line accepted, in bytes; memory stays bounded by it.
pub const MAX_LINE_BYTES: usize = 64 << 20;

const INITIAL_BUFFER: usize = 256 << 10;

/// The two forms a meta dump comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `GET /dump`: bare `KEY: VALUE` lines.
    Dump,
    /// `GET /debug`: a frame line, `* KEY: VALUE` lines, the frame line again.
    Debug,
}

impl Form {
    /// `"dump"` or `"debug"`.
    pub fn name(self) -> &'static str {
        match self {
            Form::Dump => "dump",
            Form::Debug => "debug",
        }
    }
}

/// One `KEY: VALUE` line, split at its first `": "`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// 1-based line number in the input.
    pub line: u64,
    /// Byte offset of the line in the input.
    pub offset: u64,
    /// The key, starting with `/`.
    pub key: &'a str,
    /// The value, without a line ending.
    pub value: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    Body,
    AfterFooter,
}

/// Reads records from a dump of either form, holding at most one line (plus a read buffer).
///
/// Blank lines are skipped, a CR before the LF is removed (and counted), a missing final
/// newline is accepted. Everything else that is not a well-formed record is an [`InputError`].
pub struct DumpReader<R> {
    inner: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    line_no: u64,
    offset: u64,
    line_offset: u64,
    form: Option<Form>,
    state: State,
    header_line: u64,
    crlf_lines: u64,
    records: u64,
    /// Index in `buf` of the first NUL byte of the line being searched, if any.
    nul: Option<usize>,
}

impl<R: Read> DumpReader<R> {
    /// A reader over `inner`; it does its own buffering, so pass an unbuffered reader.
    pub fn new(inner: R) -> Self {
        DumpReader {
            inner,
            buf: vec![0; INITIAL_BUFFER],
            start: 0,
            end: 0,
            eof: false,
            line_no: 0,
            offset: 0,
            line_offset: 0,
            form: None,
            state: State::Start,
            header_line: 0,
            crlf_lines: 0,
            records: 0,
            nul: None,
        }
    }

    /// The detected form; `None` until the first non-blank line was read.
    pub fn form(&self) -> Option<Form> {
        self.form
    }

    /// How many lines ended in CR LF.
    pub fn crlf_lines(&self) -> u64 {
        self.crlf_lines
    }

    /// How many records were returned so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// How many bytes were consumed so far (all of them once `next_record` returned `None`).
    pub fn bytes_read(&self) -> u64 {
        self.offset
    }

    /// Gives back the underlying reader.
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// The next line as a range of `buf`, without its LF, and the index of its first NUL.
    ///
    /// NULs are looked for in the same scan as the LF (a dump is text: a NUL is an error).
    fn next_line(&mut self) -> Result<Option<(usize, usize, Option<usize>)>> {
        let mut searched = self.start;
        loop {
            while let Some(i) = memchr::memchr2(b'\n', 0, &self.buf[searched..self.end]) {
                let at = searched + i;
                if self.buf[at] == b'\n' {
                    return Ok(Some(self.take_line(at, at + 1)));
                }
                self.nul.get_or_insert(at);
                searched = at + 1;
            }
            if self.eof {
                if self.start == self.end {
                    return Ok(None);
                }
                let end = self.end;
                return Ok(Some(self.take_line(end, end)));
            }
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                if let Some(nul) = &mut self.nul {
                    *nul -= self.start;
                }
                self.start = 0;
            }
            searched = self.end;
            if self.end == self.buf.len() {
                if self.buf.len() > MAX_LINE_BYTES {
                    return Err(InputError {
                        line: self.line_no + 1,
                        offset: Some(self.offset),
                        message: format!(
                            "line longer than {} MiB; a meta dump line is one key and one JSON value, \
                             so this is not a dump (or it is corrupt)",
                            MAX_LINE_BYTES >> 20
                        ),
                        hint: None,
                    }
                    .into());
                }
                let grown = (self.buf.len() * 2).min(MAX_LINE_BYTES + 1);
                self.buf.resize(grown, 0);
            }
            let n = loop {
                match self.inner.read(&mut self.buf[self.end..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(Error::io("reading the input", e)),
                }
            };
            if n == 0 {
                self.eof = true;
            } else {
                self.end += n;
            }
        }
    }

    fn take_line(
        &mut self,
        content_end: usize,
        next_start: usize,
    ) -> (usize, usize, Option<usize>) {
        let range = (self.start, content_end, self.nul.take());
        self.line_offset = self.offset;
        self.offset += (next_start - self.start) as u64;
        self.start = next_start;
        self.line_no += 1;
        range
    }

    fn error(&self, message: impl Into<String>) -> Error {
        InputError::at(self.line_no, message).into()
    }

    fn error_at(&self, byte: usize, message: impl Into<String>) -> Error {
        InputError {
            line: self.line_no,
            offset: Some(self.line_offset + byte as u64),
            message: message.into(),
            hint: None,
        }
        .into()
    }

    /// The next record, or `None` at the end of a complete dump.
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>> {
        loop {
            let Some((a, mut b, nul)) = self.next_line()? else {
                return self.finish().map(|()| None);
            };
            if b > a && self.buf[b - 1] == b'\r' {
                b -= 1;
                self.crlf_lines += 1;
            }
            if a == b {
                continue;
            }
            let line = &self.buf[a..b];
            if let Some(i) = nul {
                return Err(self.error_at(
                    i - a,
                    "NUL byte; a dump is text: this file is binary or corrupt",
                ));
            }
            match self.state {
                State::Start => {
                    self.state = State::Body;
                    if is_frame_line(line) {
                        self.form = Some(Form::Debug);
                        self.header_line = self.line_no;
                        continue;
                    }
                    self.form = Some(Form::Dump);
                }
                State::AfterFooter => {
                    return Err(self.error(format!(
                        "text after the /debug footer (the frame closed at line {}); \
                         remove it, or check that two dumps were not concatenated",
                        self.header_line
                    )));
                }
                State::Body => {}
            }
            let mut content = a;
            if self.form == Some(Form::Debug) {
                if line.starts_with(b"***") && is_frame_line(line) {
                    self.state = State::AfterFooter;
                    self.header_line = self.line_no;
                    continue;
                }
                if !line.starts_with(b"* ") {
                    return Err(self.error(
                        "line inside a /debug frame without its `* ` prefix; \
                         the file mixes the /debug and /dump forms",
                    ));
                }
                content += 2;
                if content == b {
                    continue;
                }
            } else if line[0] == b'*' {
                return Err(self.error(
                    "line starts with `*` in a /dump-form file; a /debug dump must start \
                     with its frame line (`******---…---******`), so the header is missing",
                ));
            }
            let text = &self.buf[content..b];
            let Some(sep) = separator(text) else {
                return Err(self.error(
                    "no \": \" separator; every line must be `KEY: VALUE` \
                     (a value with a raw newline, or a truncated line?)",
                ));
            };
            if sep == 0 {
                return Err(self.error("empty key (the line starts with \": \")"));
            }
            if text[0] != b'/' {
                return Err(self.error("key does not start with `/`"));
            }
            self.records += 1;
            let (line_no, offset) = (self.line_no, self.line_offset);
            return match std::str::from_utf8(text) {
                Ok(s) => Ok(Some(Record {
                    line: line_no,
                    offset,
                    key: &s[..sep],
                    value: &s[sep + 2..],
                })),
                Err(e) => Err(InputError {
                    line: line_no,
                    offset: Some(offset + (content - a + e.valid_up_to()) as u64),
                    message: "invalid UTF-8; CnosDB keys and values are UTF-8 text, \
                              so the file was damaged in transfer or re-encoded"
                        .into(),
                    hint: None,
                }
                .into()),
            };
        }
    }

    fn finish(&self) -> Result<()> {
        if self.form == Some(Form::Debug) && self.state != State::AfterFooter {
            return Err(InputError::at(
                self.line_no,
                format!(
                    "the /debug dump has a header (line {}) but no footer: the download was \
                     truncated; fetch it again",
                    self.header_line
                ),
            )
            .into());
        }
        Ok(())
    }
}

/// The index of the first `": "` in `text` (a key rarely holds a colon: look for those).
fn separator(text: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = memchr::memchr(b':', &text[from..]) {
        let at = from + i;
        if text.get(at + 1) == Some(&b' ') {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(input: &[u8]) -> Result<Vec<(u64, String, String)>> {
        let mut r = DumpReader::new(input);
        let mut out = Vec::new();
        while let Some(rec) = r.next_record()? {
            out.push((rec.line, rec.key.to_string(), rec.value.to_string()));
        }
        Ok(out)
    }

    fn err(input: &[u8]) -> InputError {
        match read_all(input) {
            Err(Error::Input(e)) => e,
            other => panic!("expected an input error, got {other:?}"),
        }
    }

    #[test]
    fn dump_form_with_blank_lines_crlf_and_no_final_newline() {
        let recs = read_all(b"/a: 1\r\n\n/b: {\"x\": 2}").unwrap();
        assert_eq!(
            recs,
            vec![
                (1, "/a".into(), "1".into()),
                (3, "/b".into(), "{\"x\": 2}".into())
            ]
        );
    }

    #[test]
    fn debug_form_strips_frame_and_one_prefix() {
        let input = b"******---******\n* /a: * x\n* /b: 2\n******------******\n\n";
        let mut r = DumpReader::new(&input[..]);
        let first = r.next_record().unwrap().unwrap();
        assert_eq!((first.key, first.value), ("/a", "* x"));
        assert!(r.next_record().unwrap().is_some());
        assert!(r.next_record().unwrap().is_none());
        assert_eq!(r.form(), Some(Form::Debug));
    }

    #[test]
    fn truncated_debug_is_an_error() {
        let e = err(b"****** --- ******\n* /a: 1\n");
        assert!(e.message.contains("no footer"), "{e}");
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(err(b"/a: 1\n/b 2\n").line, 2);
        assert_eq!(err(b"/a: 1\n: 2\n").line, 2);
        assert_eq!(err(b"a: 1\n").line, 1);
        assert_eq!(err(b"/a: 1\n* /b: 2\n").line, 2);
        assert_eq!(err(b"***-***\n/a: 1\n***-***\n").line, 2);
        assert_eq!(err(b"***-***\n* /a: 1\n***-***\n/b: 2\n").line, 4);
        let nul = err(b"/a: 1\n/b: x\0\n");
        assert_eq!((nul.line, nul.offset), (2, Some(11)));
        let utf = err(b"/a: 1\n/b: \xff\n");
        assert_eq!((utf.line, utf.offset), (2, Some(10)));
        let utf_debug = err(b"***-***\n* /b: \xff\n***-***\n");
        assert_eq!((utf_debug.line, utf_debug.offset), (2, Some(14)));
    }

    #[test]
    fn lines_longer_than_the_buffer() {
        let long = "x".repeat(INITIAL_BUFFER * 3);
        let input = format!("/a: {long}\n/b: 1\n");
        let recs = read_all(input.as_bytes()).unwrap();
        assert_eq!(recs[0].2.len(), long.len());
        assert_eq!(recs[1].0, 2);
    }

    #[test]
    fn nul_offsets_across_buffer_refills() {
        // The second line starts before the end of the first buffer, its NUL lies after it.
        let pad = "x".repeat(INITIAL_BUFFER - 10);
        let input = format!("/a: {pad}\n/b: {}\0y\n", "z".repeat(100));
        let e = err(input.as_bytes());
        assert_eq!((e.line, e.offset), (2, Some((pad.len() + 5 + 104) as u64)));
        // A NUL at the end of a line longer than the buffer.
        let long = "x".repeat(INITIAL_BUFFER * 2);
        let e = err(format!("/a: 1\n/b: {long}\0\0\n").as_bytes());
        assert_eq!((e.line, e.offset), (2, Some((6 + 4 + long.len()) as u64)));
    }

    #[test]
    fn empty_input_is_an_empty_dump() {
        assert!(read_all(b"").unwrap().is_empty());
        assert!(read_all(b"\n\n").unwrap().is_empty());
    }
}
