//! Where results go: an atomic, private (0600) file, or stdout (spooled or streamed).

use std::fs::File;
use std::io::{self, BufWriter, Seek, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::{Error, Result};

const BUFFER: usize = 256 << 10;

/// How output reaches its destination.
enum Sink {
    /// A temporary file beside the destination, renamed over it on commit.
    File {
        temp: BufWriter<NamedTempFile>,
        path: PathBuf,
        force: bool,
    },
    /// An anonymous temporary file, copied to stdout on commit.
    Spool(BufWriter<File>),
    /// Straight to stdout.
    Stream(BufWriter<io::Stdout>),
}

/// An output that only becomes visible on [`Output::commit`]; dropping it discards everything
/// (except in streaming mode, where bytes reach stdout as they are written).
pub struct Output {
    sink: Sink,
}

/// True when `path` means stdout (absent or `-`).
pub fn is_stdout(path: Option<&Path>) -> bool {
    path.is_none_or(|p| p.as_os_str() == "-")
}

impl Output {
    /// Opens an output. `path` absent or `-` is stdout: spooled to a temporary file unless
    /// `stream`. An existing file is refused unless `force`.
    pub fn open(path: Option<&Path>, force: bool, stream: bool) -> Result<Output> {
        let sink = match path {
            Some(p) if !is_stdout(Some(p)) => {
                if !force && p.exists() {
                    return Err(Error::Usage(format!(
                        "{} already exists; pass --force to replace it",
                        p.display()
                    )));
                }
                let dir = match p.parent() {
                    Some(d) if !d.as_os_str().is_empty() => d,
                    _ => Path::new("."),
                };
                let temp = tempfile::Builder::new()
                    .prefix(".cnosdb-migrate.")
                    .tempfile_in(dir)
                    .map_err(|e| {
                        Error::io(format!("creating a temporary file in {}", dir.display()), e)
                    })?;
                Sink::File {
                    temp: BufWriter::with_capacity(BUFFER, temp),
                    path: p.to_path_buf(),
                    force,
                }
            }
            _ if stream => Sink::Stream(BufWriter::with_capacity(BUFFER, io::stdout())),
            _ => {
                let spool = tempfile::tempfile()
                    .map_err(|e| Error::io("creating a temporary spool file", e))?;
                Sink::Spool(BufWriter::with_capacity(BUFFER, spool))
            }
        };
        Ok(Output { sink })
    }

    /// Makes the output visible: fsync and rename for a file, copy the spool to stdout.
    pub fn commit(self) -> Result<()> {
        match self.sink {
            Sink::File { temp, path, force } => {
                let temp = temp
                    .into_inner()
                    .map_err(|e| Error::io("writing the output", e.into_error()))?;
                temp.as_file()
                    .sync_all()
                    .map_err(|e| Error::io("syncing the output", e))?;
                let persisted = if force {
                    temp.persist(&path)
                } else {
                    temp.persist_noclobber(&path)
                };
                persisted.map_err(|e| {
                    Error::io(format!("moving the output into {}", path.display()), e.error)
                })?;
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    // Make the rename durable; not every filesystem supports this, so ignore errors.
                    let _ = File::open(dir).and_then(|d| d.sync_all());
                }
                Ok(())
            }
            Sink::Spool(spool) => {
                let mut spool = spool
                    .into_inner()
                    .map_err(|e| Error::io("writing the spool file", e.into_error()))?;
                spool
                    .rewind()
                    .map_err(|e| Error::io("reading back the spool file", e))?;
                let mut stdout = io::stdout().lock();
                io::copy(&mut spool, &mut stdout)
                    .and_then(|_| stdout.flush())
                    .map_err(|e| Error::io("writing to stdout", e))?;
                Ok(())
            }
            Sink::Stream(mut out) => out.flush().map_err(|e| Error::io("writing to stdout", e)),
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.sink {
            Sink::File { temp, .. } => temp.write(buf),
            Sink::Spool(w) => w.write(buf),
            Sink::Stream(w) => w.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match &mut self.sink {
            Sink::File { temp, .. } => temp.write_all(buf),
            Sink::Spool(w) => w.write_all(buf),
            Sink::Stream(w) => w.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.sink {
            Sink::File { temp, .. } => temp.flush(),
            Sink::Spool(w) => w.flush(),
            Sink::Stream(w) => w.flush(),
        }
    }
}

/// Opens an input: a path, or stdin for `None` / `-`.
pub fn open_input(path: Option<&Path>) -> Result<Box<dyn io::Read>> {
    match path {
        Some(p) if !is_stdout(Some(p)) => {
            let f = File::open(p).map_err(|e| Error::io(format!("opening {}", p.display()), e))?;
            Ok(Box::new(f))
        }
        _ => Ok(Box::new(io::stdin())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn file_output_is_private_atomic_and_refuses_to_clobber() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        let mut out = Output::open(Some(&path), false, false).unwrap();
        out.write_all(b"hello\n").unwrap();
        assert!(!path.exists(), "nothing visible before commit");
        out.commit().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"hello\n");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(matches!(
            Output::open(Some(&path), false, false),
            Err(Error::Usage(_))
        ));
        let mut again = Output::open(Some(&path), true, false).unwrap();
        again.write_all(b"new\n").unwrap();
        drop(again);
        assert_eq!(std::fs::read(&path).unwrap(), b"hello\n", "dropped output changes nothing");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temp left");
    }
}
