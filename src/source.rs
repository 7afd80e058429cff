//! An input read from the start more than once, by several threads at a time.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;

/// An input that hands out independent readers, each from the first byte: a regular file
/// (positioned reads, no shared offset) or bytes in memory.
pub trait Rereadable: Sync {
    /// A reader of the whole input.
    type Reader<'a>: Read + Send
    where
        Self: 'a;

    /// A new reader, positioned at the first byte.
    fn reader(&self) -> Self::Reader<'_>;
}

impl Rereadable for File {
    type Reader<'a> = FileReader<'a>;

    fn reader(&self) -> FileReader<'_> {
        FileReader { file: self, pos: 0 }
    }
}

impl Rereadable for [u8] {
    type Reader<'a> = &'a [u8];

    fn reader(&self) -> &[u8] {
        self
    }
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
