//! An input read from the start more than once, by several threads at a time.

use std::fs::File;
use std::io::{self, Read};
use std::ops::Range;
use std::os::unix::fs::FileExt;

/// An input that hands out independent readers, each from any byte: a regular file
/// (positioned reads, no shared offset) or bytes in memory.
pub trait Rereadable: Sync {
    /// A reader of the input from byte `pos` to the end.
    type Reader<'a>: Read + Send
    where
        Self: 'a;

    /// A new reader, positioned at byte `pos`.
    fn reader_at(&self, pos: u64) -> Self::Reader<'_>;

    /// The input's length in bytes.
    fn byte_len(&self) -> io::Result<u64>;

    /// A new reader, positioned at the first byte.
    fn reader(&self) -> Self::Reader<'_> {
        self.reader_at(0)
    }
}

impl Rereadable for File {
    type Reader<'a> = FileReader<'a>;

    fn reader_at(&self, pos: u64) -> FileReader<'_> {
        FileReader { file: self, pos }
    }

    fn byte_len(&self) -> io::Result<u64> {
        Ok(self.metadata()?.len())
    }
}

impl Rereadable for [u8] {
    type Reader<'a> = &'a [u8];

    fn reader_at(&self, pos: u64) -> &[u8] {
        let at = usize::try_from(pos).map_or(self.len(), |p| p.min(self.len()));
        &self[at..]
    }

    fn byte_len(&self) -> io::Result<u64> {
        Ok(self.len() as u64)
    }
}

/// Splits `input` into at most `parts` consecutive byte ranges that start at line starts
/// (after a `\n`) and together cover it: ranges that several threads can scan line by line
/// at once. Fewer ranges when lines are long, one when the input is small.
pub fn line_parts<S: Rereadable + ?Sized>(
    input: &S,
    parts: usize,
    min_part: u64,
) -> io::Result<Vec<Range<u64>>> {
    let len = input.byte_len()?;
    let parts = (parts as u64).clamp(1, (len / min_part.max(1)).max(1));
    let mut starts = vec![0u64];
    let mut window = vec![0u8; 64 << 10];
    for k in 1..parts {
        // The part starts after the first newline at or after its share's first byte.
        let mut pos = (len / parts * k).max(*starts.last().unwrap_or(&0));
        let mut reader = input.reader_at(pos);
        let start = loop {
            let n = match reader.read(&mut window) {
                Ok(0) => break len,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if let Some(at) = memchr::memchr(b'\n', &window[..n]) {
                break pos + at as u64 + 1;
            }
            pos += n as u64;
        };
        if start >= len {
            break;
        }
        if start > *starts.last().unwrap_or(&0) {
            starts.push(start);
        }
    }
    let ends = starts.iter().skip(1).copied().chain([len]);
    Ok(starts
        .iter()
        .copied()
        .zip(ends)
        .map(|(a, b)| a..b)
        .collect())
}

/// Reads a file from its own position with `pread`, leaving the file's offset alone.
pub struct FileReader<'a> {
    file: &'a File,
    pos: u64,
}

impl Read for FileReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn line_parts_start_after_newlines_and_cover_the_input() {
        let text = b"aaaa\nbb\ncccccccccccc\nd\n\ne".as_slice();
        for parts in 1..8 {
            let got = line_parts(text, parts, 1).unwrap();
            assert!(got.len() <= parts);
            assert_eq!(got.first().map(|r| r.start), Some(0));
            assert_eq!(got.last().map(|r| r.end), Some(text.len() as u64));
            for pair in got.windows(2) {
                assert_eq!(pair[0].end, pair[1].start);
                assert!(pair[0].start < pair[0].end, "{got:?}");
                assert_eq!(text[pair[1].start as usize - 1], b'\n', "{got:?}");
            }
        }
        assert_eq!(
            line_parts(text, 4, 1 << 20).unwrap(),
            vec![(0..text.len() as u64)]
        );
        // One long line: one part.
        let long = vec![b'x'; 200_000];
        assert_eq!(
            line_parts(long.as_slice(), 4, 1).unwrap(),
            vec![(0..long.len() as u64)]
        );
        assert_eq!(line_parts(b"".as_slice(), 4, 1).unwrap(), vec![(0..0)]);
    }

    #[test]
    fn readers_of_a_file_are_independent() {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(b"abcdef").unwrap();
        let (mut a, mut b) = (file.reader(), file.reader());
        let mut two = [0u8; 2];
        a.read_exact(&mut two).unwrap();
        assert_eq!(&two, b"ab");
        let mut all = String::new();
        b.read_to_string(&mut all).unwrap();
        assert_eq!(all, "abcdef");
        a.read_exact(&mut two).unwrap();
        assert_eq!(&two, b"cd", "a reader keeps its own position");
    }
}
