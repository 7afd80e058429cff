//! A streaming reader of either dump form that yields one record per line.

use std::io::Read;

use super::frame::is_frame_line;
use super::lines::{separator, strip_cr, LineBuffer, Piece, MAX_LINE_BYTES};
use crate::error::{Error, InputError, Result};

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
    lines: LineBuffer<R>,
    frame: Frame,
    crlf_lines: u64,
    records: u64,
}

/// The form found, and where the reader is in the `/debug` frame.
struct Frame {
    form: Option<Form>,
    state: State,
    /// The line of the frame's header, then of its footer.
    header_line: u64,
}

/// Where a record's text lies in its line: after the `* ` prefix, before the CR, its `": "`.
struct Split {
    content: usize,
    end: usize,
    sep: usize,
}

impl<R: Read> DumpReader<R> {
    /// A reader over `inner`; it does its own buffering, so pass an unbuffered reader.
    pub fn new(inner: R) -> Self {
        DumpReader {
            // NULs are looked for in the same scan as the LF (a dump is text: a NUL is an error).
            lines: LineBuffer::new(inner).watching(0),
            frame: Frame {
                form: None,
                state: State::Start,
                header_line: 0,
            },
            crlf_lines: 0,
            records: 0,
        }
    }

    /// The detected form; `None` until the first non-blank line was read.
    pub fn form(&self) -> Option<Form> {
        self.frame.form
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
        self.lines.consumed()
    }

    /// Gives back the underlying reader.
    pub fn into_inner(self) -> R {
        self.lines.into_inner()
    }

    fn error(&self, message: impl Into<String>) -> Error {
        InputError::at(self.lines.line_number(), message).into()
    }

    fn error_at(&self, byte: usize, message: impl Into<String>) -> Error {
        InputError {
            line: self.lines.line_number(),
            offset: Some(self.lines.line_offset() + byte as u64),
            message: message.into(),
            hint: None,
        }
        .into()
    }

    /// The next record, or `None` at the end of a complete dump.
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>> {
        let split = loop {
            match self.lines.next_piece() {
                Ok(Some(Piece::Line(_))) => {}
                Ok(Some(Piece::Part(_))) => return Err(self.too_long()),
                Ok(None) => return self.finish().map(|()| None),
                Err(e) => return Err(Error::io("reading the input", e)),
            }
            if let Some(split) = self.split()? {
                break split;
            }
        };
        self.records += 1;
        let line = self.lines.last();
        let text = &line[split.content..split.end];
        let (line_no, offset) = (self.lines.line_number(), self.lines.line_offset());
        match std::str::from_utf8(text) {
            Ok(s) => Ok(Some(Record {
                line: line_no,
                offset,
                key: &s[..split.sep],
                value: &s[split.sep + 2..],
            })),
            Err(e) => Err(InputError {
                line: line_no,
                offset: Some(offset + (split.content + e.valid_up_to()) as u64),
                message: "invalid UTF-8; CnosDB keys and values are UTF-8 text, \
                          so the file was damaged in transfer or re-encoded"
                    .into(),
                hint: None,
            }
            .into()),
        }
    }

    fn too_long(&self) -> Error {
        InputError {
            line: self.lines.line_number(),
            offset: Some(self.lines.line_offset()),
            message: format!(
                "line longer than {} MiB; a meta dump line is one key and one JSON value, \
                 so this is not a dump (or it is corrupt)",
                MAX_LINE_BYTES >> 20
            ),
            hint: None,
        }
        .into()
    }

    /// Judges the last line read: the place of its record, `None` for a line that holds none
    /// (blank, a frame line, an empty `* ` line), or the error that stops the reading.
    fn split(&mut self) -> Result<Option<Split>> {
        let (line, crlf) = strip_cr(self.lines.last());
        self.crlf_lines += u64::from(crlf);
        if line.is_empty() {
            return Ok(None);
        }
        if let Some(i) = self.lines.watched() {
            return Err(self.error_at(
                i,
                "NUL byte; a dump is text: this file is binary or corrupt",
            ));
        }
        let end = line.len();
        let Some(content) = self.frame.prefix(line, self.lines.line_number())? else {
            return Ok(None);
        };
        if content == end {
            return Ok(None);
        }
        let text = &line[content..];
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
        Ok(Some(Split { content, end, sep }))
    }

    fn finish(&self) -> Result<()> {
        let frame = &self.frame;
        if frame.form == Some(Form::Debug) && frame.state != State::AfterFooter {
            return Err(InputError::at(
                self.lines.line_number(),
                format!(
                    "the /debug dump has a header (line {}) but no footer: the download was \
                     truncated; fetch it again",
                    frame.header_line
                ),
            )
            .into());
        }
        Ok(())
    }
}

impl Frame {
    /// Tells the form from the first line and follows the `/debug` frame: where the record's
    /// text starts in `line` (after the `* ` prefix), or `None` for a frame line.
    fn prefix(&mut self, line: &[u8], line_no: u64) -> Result<Option<usize>> {
        match self.state {
            State::Start => {
                self.state = State::Body;
                if is_frame_line(line) {
                    self.form = Some(Form::Debug);
                    self.header_line = line_no;
                    return Ok(None);
                }
                self.form = Some(Form::Dump);
            }
            State::AfterFooter => {
                return Err(InputError::at(
                    line_no,
                    format!(
                        "text after the /debug footer (the frame closed at line {}); \
                     remove it, or check that two dumps were not concatenated",
                        self.header_line
                    ),
                )
                .into());
            }
            State::Body => {}
        }
        if self.form == Some(Form::Debug) {
            if line.starts_with(b"***") && is_frame_line(line) {
                self.state = State::AfterFooter;
                self.header_line = line_no;
                return Ok(None);
            }
            if !line.starts_with(b"* ") {
                return Err(InputError::at(
                    line_no,
                    "line inside a /debug frame without its `* ` prefix; \
                     the file mixes the /debug and /dump forms",
                )
                .into());
            }
            return Ok(Some(2));
        }
        if line[0] == b'*' {
            return Err(InputError::at(
                line_no,
                "line starts with `*` in a /dump-form file; a /debug dump must start \
                 with its frame line (`******---…---******`), so the header is missing",
            )
            .into());
        }
        Ok(Some(0))
    }
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
        let long = "x".repeat((256 << 10) * 3);
        let input = format!("/a: {long}\n/b: 1\n");
        let recs = read_all(input.as_bytes()).unwrap();
        assert_eq!(recs[0].2.len(), long.len());
        assert_eq!(recs[1].0, 2);
    }

    #[test]
    fn nul_offsets_across_buffer_refills() {
        // The second line starts before the end of the first buffer, its NUL lies after it.
        let pad = "x".repeat((256 << 10) - 10);
        let input = format!("/a: {pad}\n/b: {}\0y\n", "z".repeat(100));
        let e = err(input.as_bytes());
        assert_eq!((e.line, e.offset), (2, Some((pad.len() + 5 + 104) as u64)));
        // A NUL at the end of a line longer than the buffer.
        let long = "x".repeat((256 << 10) * 2);
        let e = err(format!("/a: 1\n/b: {long}\0\0\n").as_bytes());
        assert_eq!((e.line, e.offset), (2, Some((6 + 4 + long.len()) as u64)));
    }

    #[test]
    fn empty_input_is_an_empty_dump() {
        assert!(read_all(b"").unwrap().is_empty());
        assert!(read_all(b"\n\n").unwrap().is_empty());
    }
}
