//! The one line primitive under every reader of dump text: a buffer that hands out `\n`-ended
//! lines, and the two things every reader does with a line (a CR before the LF, the first
//! `": "`).
//!
//! What a reader does with a line longer than the limit is its own policy: such a line comes
//! as [`Piece::Part`]s and its last bytes as a [`Piece::Line`], so memory stays bounded by
//! the limit whatever the input. The readers on top: [`crate::dump::DumpReader`] (stops at the
//! first error), [`crate::dump::scan_records`] (skips what is not a record), `check` (lists
//! every problem), `remote::records` (counts as the server counts).

use std::io::{self, Read};

/// The longest line accepted, in bytes without its LF; memory stays bounded by it.
pub const MAX_LINE_BYTES: usize = 64 << 20;

const INITIAL_BUFFER: usize = 256 << 10;

/// What [`LineBuffer::next_piece`] hands out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    /// A whole line without its LF (the last line of the input may have had none), or the
    /// last part of a line longer than the limit.
    Line(&'a [u8]),
    /// A part of a line longer than the limit; more of the line follows.
    Part(&'a [u8]),
}

/// A buffer over an unbuffered reader that yields one line at a time; it grows up to the
/// limit and retries reads that were interrupted.
pub struct LineBuffer<R> {
    inner: R,
    buf: Vec<u8>,
    /// `buf[start..end]` holds the bytes read and not yet handed out.
    start: usize,
    end: usize,
    eof: bool,
    limit: usize,
    /// Bytes handed out so far, with their LFs.
    consumed: u64,
    /// Offset and 1-based number of the line of the last piece.
    line_offset: u64,
    line_no: u64,
    /// Whether the last piece was a [`Piece::Part`].
    in_part: bool,
    /// The last piece, as a range of `buf`.
    last: (usize, usize),
    /// The byte looked for in the same scan as the LF, and its first index in the line.
    watch: Option<u8>,
    watched: Option<usize>,
}

impl<R: Read> LineBuffer<R> {
    /// Lines of up to [`MAX_LINE_BYTES`] bytes come whole.
    pub fn new(inner: R) -> Self {
        Self::with_limit(inner, MAX_LINE_BYTES)
    }

    /// Lines of up to `limit` bytes (without the LF) come whole.
    pub fn with_limit(inner: R, limit: usize) -> Self {
        LineBuffer {
            inner,
            buf: vec![0; INITIAL_BUFFER.min(limit + 1)],
            start: 0,
            end: 0,
            eof: false,
            limit,
            consumed: 0,
            line_offset: 0,
            line_no: 0,
            in_part: false,
            last: (0, 0),
            watch: None,
            watched: None,
        }
    }

    /// Also looks for `byte` while looking for the LF; see [`LineBuffer::watched`].
    pub fn watching(mut self, byte: u8) -> Self {
        self.watch = Some(byte);
        self
    }

    /// The index of the watched byte's first occurrence in the last [`Piece::Line`], when it
    /// was a whole line that holds one.
    pub fn watched(&self) -> Option<usize> {
        self.watched
    }

    /// The bytes of the last piece again (empty before the first).
    pub fn last(&self) -> &[u8] {
        &self.buf[self.last.0..self.last.1]
    }

    /// The 1-based number of the line of the last piece (0 before the first).
    pub fn line_number(&self) -> u64 {
        self.line_no
    }

    /// The byte offset in the input of the line of the last piece.
    pub fn line_offset(&self) -> u64 {
        self.line_offset
    }

    /// How many bytes were handed out, LFs included (the whole input once `next_piece` gave `None`).
    pub fn consumed(&self) -> u64 {
        self.consumed
    }

    /// Gives back the underlying reader.
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// The next piece, or `None` at the end of the input.
    pub fn next_piece(&mut self) -> io::Result<Option<Piece<'_>>> {
        // Both relative to `start`, which moves when the buffer is refilled.
        let mut searched = 0;
        let mut watched = None;
        loop {
            let from = self.start + searched;
            let found = match self.watch {
                None => memchr::memchr(b'\n', &self.buf[from..self.end]).map(|i| from + i),
                Some(w) => self.find_watching(w, from, &mut watched),
            };
            if let Some(at) = found {
                return Ok(Some(self.take(at, at + 1, watched)));
            }
            let pending = self.end - self.start;
            searched = pending;
            if pending > self.limit {
                return Ok(Some(self.take_part()));
            }
            if self.eof {
                if pending == 0 && !self.in_part {
                    return Ok(None);
                }
                let end = self.end;
                return Ok(Some(self.take(end, end, watched)));
            }
            self.fill()?;
        }
    }

    /// The index of the first LF in `buf[from..end]`, noting the first watched byte before it
    /// (relative to `start`) in `watched`.
    fn find_watching(&self, w: u8, mut from: usize, watched: &mut Option<usize>) -> Option<usize> {
        while let Some(i) = memchr::memchr2(b'\n', w, &self.buf[from..self.end]) {
            let at = from + i;
            if self.buf[at] == b'\n' {
                return Some(at);
            }
            watched.get_or_insert(at - self.start);
            from = at + 1;
        }
        None
    }

    /// Makes room after `end` (moving the pending bytes to the front, growing up to the
    /// limit) and reads once into it.
    fn fill(&mut self) -> io::Result<()> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            let grown = (self.buf.len() * 2).min(self.limit + 1);
            self.buf.resize(grown, 0);
        }
        loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            return Ok(());
        }
    }

    /// Hands out `buf[start..content_end]` as a line that goes on to `next_start`.
    fn take(&mut self, content_end: usize, next_start: usize, watched: Option<usize>) -> Piece<'_> {
        let start = self.start;
        if !std::mem::take(&mut self.in_part) {
            self.line_offset = self.consumed;
            self.line_no += 1;
            self.watched = watched;
        } else {
            self.watched = None;
        }
        self.consumed += (next_start - start) as u64;
        self.start = next_start;
        self.last = (start, content_end);
        Piece::Line(&self.buf[start..content_end])
    }

    /// Hands out all the pending bytes as a part of an over-long line.
    fn take_part(&mut self) -> Piece<'_> {
        let (start, end) = (self.start, self.end);
        if !std::mem::replace(&mut self.in_part, true) {
            self.line_offset = self.consumed;
            self.line_no += 1;
        }
        self.watched = None;
        self.consumed += (end - start) as u64;
        (self.start, self.end) = (0, 0);
        self.last = (start, end);
        Piece::Part(&self.buf[start..end])
    }
}

/// `line` without a CR at its end, and whether it had one.
pub fn strip_cr(line: &[u8]) -> (&[u8], bool) {
    match line.strip_suffix(b"\r") {
        Some(rest) => (rest, true),
        None => (line, false),
    }
}

/// The index of the first `": "` in `text` (a key rarely holds a colon: look for those).
pub fn separator(text: &[u8]) -> Option<usize> {
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

    /// Hands out at most `chunk` bytes a read, interrupted now and then.
    struct Trickle<'a>(&'a [u8], usize, bool);
    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            self.2 = !self.2;
            if self.2 {
                return Err(io::ErrorKind::Interrupted.into());
            }
            let n = self.0.len().min(self.1).min(out.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    /// Every piece as `(line number, line offset, is part, text)`.
    fn pieces(input: &[u8], chunk: usize, limit: usize) -> Vec<(u64, u64, bool, String)> {
        let mut lines = LineBuffer::with_limit(Trickle(input, chunk, false), limit).watching(0);
        let mut out = Vec::new();
        while let Some(piece) = lines.next_piece().unwrap() {
            let (part, bytes) = match piece {
                Piece::Line(b) => (false, b),
                Piece::Part(b) => (true, b),
            };
            let text = String::from_utf8_lossy(bytes).into_owned();
            out.push((lines.line_number(), lines.line_offset(), part, text));
        }
        assert_eq!(lines.consumed(), input.len() as u64);
        out
    }

    #[test]
    fn lines_with_and_without_a_final_newline() {
        for chunk in [1, 2, 5, 4096] {
            let got = pieces(b"ab\n\ncd", chunk, 100);
            let want = [(1, 0, false, "ab"), (2, 3, false, ""), (3, 4, false, "cd")];
            assert_eq!(got, want.map(|(n, o, p, t)| (n, o, p, t.to_string())));
            assert!(pieces(b"", chunk, 100).is_empty());
            assert_eq!(pieces(b"x\n", chunk, 100).len(), 1);
        }
    }

    #[test]
    fn over_long_lines_come_in_parts_of_one_line() {
        let got = pieces(b"abcdefgh\nxy\nabcd", 3, 3);
        let want = [
            (1, 0, true, "abcd"),
            (1, 0, true, "efgh"),
            (1, 0, false, ""),
            (2, 9, false, "xy"),
            // A last line of limit + 1 bytes without LF still ends with a (here empty) `Line`.
            (3, 12, true, "abcd"),
            (3, 12, false, ""),
        ];
        assert_eq!(got, want.map(|(n, o, p, t)| (n, o, p, t.to_string())));
        // Exactly the limit comes whole.
        assert_eq!(pieces(b"abc\nabc", 1, 3).len(), 2);
    }

    #[test]
    fn watched_byte_index_in_its_line_across_refills() {
        let input = b"a\0\nbcd\0e\0\nfg\n";
        for chunk in [1, 3, 100] {
            let mut lines = LineBuffer::with_limit(Trickle(input, chunk, false), 100).watching(0);
            let mut got = Vec::new();
            while lines.next_piece().unwrap().is_some() {
                got.push(lines.watched());
            }
            assert_eq!(got, [Some(1), Some(3), None], "chunk {chunk}");
        }
    }

    #[test]
    fn cr_and_separator() {
        assert_eq!(strip_cr(b"a\r"), (&b"a"[..], true));
        assert_eq!(strip_cr(b"a"), (&b"a"[..], false));
        assert_eq!(separator(b"/a:b: c: d"), Some(4));
        assert_eq!(separator(b"/a:b:"), None);
    }
}
