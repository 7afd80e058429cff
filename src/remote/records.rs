//! Counting records exactly as CnosDB's `/restore` does, and cutting a body into chunks.
//!
//! `/restore` splits its body on `\n` and submits every piece that contains `": "` as one
//! `Set` (spec 5.5); the `Total: N` it answers is that number. Blank lines, frame lines and
//! any other piece without `": "` are skipped by the server, so they are not records here either.

use std::io::{self, Read};

use crate::dump::{separator, LineBuffer, Piece};

/// A byte range of the body sent in one request, holding whole lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    /// Offset of the first byte sent.
    pub start: u64,
    /// Offset one past the last byte sent.
    pub end: u64,
    /// 1-based number of the first record in the chunk.
    pub first: u64,
    /// Number of the last record in the chunk (`first..=last`).
    pub last: u64,
}

impl Chunk {
    /// How many records the server must report for this chunk.
    pub fn records(&self) -> u64 {
        self.last - self.first + 1
    }

    /// How many bytes the chunk holds.
    pub fn bytes(&self) -> u64 {
        self.end - self.start
    }
}

/// What a body will be sent as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Records in the whole input, counted as the server counts them.
    pub total_records: u64,
    /// Bytes in the whole input.
    pub total_bytes: u64,
    /// The requests to make, in order; empty when no record is left to send.
    pub chunks: Vec<Chunk>,
}

/// Scans `input` once and plans the requests: records `resume_from..` (1-based), in chunks of
/// `chunk_records` records each, or in one request when `None`.
///
/// Lines before the first record sent are left out, lines between records go with the record
/// after them, and the last chunk runs to the end of the input.
pub fn plan(input: impl Read, chunk_records: Option<u64>, resume_from: u64) -> io::Result<Plan> {
    let per_chunk = chunk_records.unwrap_or(u64::MAX).max(1);
    let mut chunks = Vec::new();
    let mut chunk_start = 0;
    let mut open: Option<(u64, u64)> = None; // (first, last) of the chunk being filled
    let mut total_records = 0;
    let total_bytes = scan_lines(input, |line_end, is_record, number| {
        if !is_record {
            return;
        }
        total_records = number;
        if number < resume_from {
            chunk_start = line_end;
            return;
        }
        let (first, last) = open.get_or_insert((number, number));
        *last = number;
        if *last - *first + 1 == per_chunk {
            chunks.push(Chunk {
                start: chunk_start,
                end: line_end,
                first: *first,
                last: *last,
            });
            chunk_start = line_end;
            open = None;
        }
    })?;
    if let Some((first, last)) = open {
        chunks.push(Chunk {
            start: chunk_start,
            end: total_bytes,
            first,
            last,
        });
    }
    Ok(Plan {
        total_records,
        total_bytes,
        chunks,
    })
}

/// Calls `on_line(line_end, is_record, record_number)` for every `\n`-separated piece of
/// `input` (the last one may lack its `\n`); `line_end` is the offset just past the piece and
/// its `\n`. Returns the number of bytes read.
fn scan_lines(input: impl Read, on_line: impl FnMut(u64, bool, u64)) -> io::Result<u64> {
    count_lines(LineBuffer::new(input), on_line)
}

/// [`scan_lines`] over a given line buffer.
fn count_lines<R: Read>(
    mut lines: LineBuffer<R>,
    mut on_line: impl FnMut(u64, bool, u64),
) -> io::Result<u64> {
    // A line longer than the buffer's limit comes in parts: its `": "` may straddle two.
    let (mut has_sep, mut prev_colon) = (false, false);
    let mut records = 0u64;
    while let Some(piece) = lines.next_piece()? {
        let (bytes, whole) = match piece {
            Piece::Line(bytes) => (bytes, true),
            Piece::Part(bytes) => (bytes, false),
        };
        if !has_sep && !bytes.is_empty() {
            has_sep = (prev_colon && bytes[0] == b' ') || separator(bytes).is_some();
        }
        prev_colon = bytes.last() == Some(&b':');
        if whole {
            records += u64::from(has_sep);
            on_line(lines.consumed(), has_sep, records);
            (has_sep, prev_colon) = (false, false);
        }
    }
    Ok(lines.consumed())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts the records of a body as the server does.
    fn count(input: impl Read) -> io::Result<u64> {
        let mut n = 0;
        scan_lines(input, |_, is_record, number| {
            if is_record {
                n = number;
            }
        })?;
        Ok(n)
    }

    /// The server's own algorithm (spec 5.5), as a reference.
    fn server_count(body: &[u8]) -> u64 {
        String::from_utf8_lossy(body)
            .split('\n')
            .filter(|l| l.split_once(": ").is_some())
            .count() as u64
    }

    #[test]
    fn counts_like_the_server() {
        for body in [
            &b""[..],
            b"\n\n",
            b"/a: 1\n/b: 2\n",
            b"/a: 1\n/b: 2",
            b"/a:1\n/b :2\n: \n",
            b"******---******\n* /a: 1\n******---******\n",
            b"/a: 1\r\n\r\n/b: x: y\n",
            b"/a:\n /b\n",
            b"/a: \xff\xfe\n/b:\xff 1\n",
        ] {
            assert_eq!(count(body).unwrap(), server_count(body), "{body:?}");
        }
    }

    /// A reader that hands out one byte at a time, so separators straddle reads.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match self.0.split_first() {
                Some((b, rest)) if !buf.is_empty() => {
                    buf[0] = *b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    #[test]
    fn separator_split_across_reads() {
        let body = b"/a: 1\n/b:2\n/c:: 3\n:\n \n";
        assert_eq!(count(Trickle(body)).unwrap(), server_count(body));
    }

    #[test]
    fn separator_split_across_parts_of_an_over_long_line() {
        let body = b"/a: 1\n/bb:2\n/cc:: 3\n:\n \n/ddd: 4\n/ee:e 5";
        for limit in [1, 2, 3, 4] {
            let mut n = 0;
            let bytes = count_lines(LineBuffer::with_limit(Trickle(body), limit), |_, r, num| {
                if r {
                    n = num;
                }
            })
            .unwrap();
            assert_eq!(
                (n, bytes),
                (server_count(body), body.len() as u64),
                "{limit}"
            );
        }
    }

    #[test]
    fn chunks_hold_whole_lines_and_the_right_records() {
        let body = b"/a: 1\n\n/b: 2\n/c: 3\n/d: 4\n/e: 5\n\n";
        let p = plan(&body[..], Some(2), 1).unwrap();
        assert_eq!(p.total_bytes, body.len() as u64);
        assert_eq!(p.total_records, 5);
        let parts: Vec<_> = p
            .chunks
            .iter()
            .map(|c| {
                let text = &body[c.start as usize..c.end as usize];
                assert_eq!(count(text).unwrap(), c.records());
                (c.first, c.last, String::from_utf8_lossy(text).into_owned())
            })
            .collect();
        assert_eq!(
            parts,
            vec![
                (1, 2, "/a: 1\n\n/b: 2\n".into()),
                (3, 4, "/c: 3\n/d: 4\n".into()),
                (5, 5, "/e: 5\n\n".into()),
            ]
        );
    }

    #[test]
    fn resume_skips_the_records_before() {
        let body = b"/a: 1\n/b: 2\n/c: 3";
        let p = plan(&body[..], None, 2).unwrap();
        assert_eq!(
            p.chunks,
            vec![Chunk {
                start: 6,
                end: 17,
                first: 2,
                last: 3
            }]
        );
        assert!(plan(&body[..], None, 4).unwrap().chunks.is_empty());
    }
}
