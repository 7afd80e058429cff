//! A quick look at every record of a dump, for a pass that only needs a few of them.
//!
//! No checks: a line that is not a record is skipped, not reported, and bytes are not checked
//! to be UTF-8. The [`crate::dump::DumpReader`] pass over the same input reports every
//! problem, with its line.

use std::io::{self, Read};

use super::lines::{separator, strip_cr, LineBuffer, Piece};

/// Calls `f(key, value)` for each line of `input` that holds a `": "`, with the `/debug`
/// form's `* ` and a CR before the line feed taken off. Lines longer than
/// [`super::MAX_LINE_BYTES`] are skipped.
pub fn scan_records(input: impl Read, mut f: impl FnMut(&[u8], &[u8])) -> io::Result<()> {
    let mut lines = LineBuffer::new(input);
    // Set on a part of an over-long line: the line is skipped, up to its end.
    let mut skipping = false;
    while let Some(piece) = lines.next_piece()? {
        let line = match piece {
            Piece::Part(_) => {
                skipping = true;
                continue;
            }
            Piece::Line(_) if std::mem::take(&mut skipping) => continue,
            Piece::Line(line) => line,
        };
        let line = strip_cr(line).0;
        let line = line.strip_prefix(b"* ").unwrap_or(line);
        if let Some(at) = separator(line) {
            f(&line[..at], &line[at + 2..]);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(input: &[u8], chunk: usize) -> Vec<(String, String)> {
        /// Hands out at most `chunk` bytes a read, to cross buffer edges.
        struct Trickle<'a>(&'a [u8], usize);
        impl Read for Trickle<'_> {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(self.1).min(out.len());
                out[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut got = Vec::new();
        scan_records(Trickle(input, chunk), |k, v| {
            got.push((
                String::from_utf8_lossy(k).into_owned(),
                String::from_utf8_lossy(v).into_owned(),
            ))
        })
        .unwrap();
        got
    }

    #[test]
    fn both_forms_crlf_and_a_last_line_without_newline() {
        let text = b"****** header ******\n* /a: 1\r\n* /b: {\"x\": 2}\nno record here\n/c: 3";
        for chunk in [1, 3, 7, 4096] {
            assert_eq!(
                records(text, chunk),
                [("/a", "1"), ("/b", "{\"x\": 2}"), ("/c", "3")]
                    .map(|(k, v)| (k.to_string(), v.to_string())),
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn lines_longer_than_the_buffer_are_read_whole() {
        let long = "v".repeat(3 * (256 << 10) + 5);
        let text = format!("/a: {long}\n/b: 2\n");
        let got = records(text.as_bytes(), 1 << 20);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].1, long);
        assert_eq!(got[1], ("/b".to_string(), "2".to_string()));
    }

    proptest::proptest! {
        /// On every input the reader accepts whole, the scan sees exactly the reader's records.
        #[test]
        fn agrees_with_the_reader_on_accepted_input(
            lines in proptest::collection::vec(
                (
                    proptest::collection::vec(
                        proptest::sample::select(vec!["c", "users", "u", ":", "é", " ", "*"]),
                        1..4,
                    ),
                    proptest::collection::vec(
                        proptest::sample::select(vec!["{\"a\":1}", ": ", ":", " ", "x", "\r", "*"]),
                        0..4,
                    ),
                    proptest::bool::weighted(0.2),
                    proptest::bool::weighted(0.05),
                ),
                0..8,
            ),
            frame in proptest::bool::ANY,
        ) {
            let mut text = String::new();
            if frame {
                text.push_str("****** --- ******\n");
            }
            for (key, value, crlf, odd_prefix) in &lines {
                // The /debug form's `* `, the wrong way round now and then.
                if frame != *odd_prefix {
                    text.push_str("* ");
                }
                text.push_str(&format!("/{}: {}", key.join("/"), value.concat()));
                text.push_str(if *crlf { "\r\n" } else { "\n" });
            }
            if frame {
                text.push_str("****** --- ******\n");
            }
            let mut reader = crate::dump::DumpReader::new(text.as_bytes());
            let mut expected = Vec::new();
            let accepted = loop {
                match reader.next_record() {
                    Ok(Some(r)) => expected.push((r.key.to_string(), r.value.to_string())),
                    Ok(None) => break true,
                    Err(_) => break false,
                }
            };
            if accepted {
                proptest::prop_assert_eq!(records(text.as_bytes(), 5), expected);
            }
        }
    }
}
