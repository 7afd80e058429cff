//! Where results go: an atomic, private (0600) file, or stdout (spooled or streamed).

use std::fs::File;
use std::io::{self, BufWriter, Seek, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::{Error, Result};
use crate::worker::Worker;

const BUFFER: usize = 256 << 10;

/// How much a file output grows between two background syncs.
const SYNC_EVERY: u64 = 8 << 20;

/// How output reaches its destination.
enum Sink {
    /// A temporary file beside the destination, renamed over it on commit.
    File {
        temp: BufWriter<EarlySync>,
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
                let dir = check_destination(p, force)?;
                let temp = tempfile::Builder::new()
                    .prefix(".cnosdb-migrate.")
                    .tempfile_in(dir)
                    .map_err(|e| {
                        Error::io(format!("creating a temporary file in {}", dir.display()), e)
                    })?;
                Sink::File {
                    temp: BufWriter::with_capacity(BUFFER, EarlySync::new(temp)),
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
                    .map_err(|e| Error::io("writing the output", e.into_error()))?
                    .finish()
                    .map_err(|e| Error::io("syncing the output", e))?;
                temp.as_file()
                    .sync_all()
                    .map_err(|e| Error::io("syncing the output", e))?;
                let persisted = if force {
                    temp.persist(&path)
                } else {
                    temp.persist_noclobber(&path)
                };
                persisted.map_err(|e| {
                    Error::io(
                        format!("moving the output into {}", path.display()),
                        e.error,
                    )
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

/// Checks that `path` can receive a file: absent, or a regular file when `force`; and that its
/// directory exists. Returns that directory.
fn check_destination(path: &Path, force: bool) -> Result<&Path> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() => {
            if !force {
                return Err(Error::OutputExists(path.to_path_buf()));
            }
        }
        Ok(meta) => {
            return Err(Error::Usage(format!(
                "{} is {}; only a regular file is ever replaced: name a file",
                path.display(),
                describe(path, &meta.file_type())
            )))
        }
        // Absent, or its directory is missing or not a directory: said below.
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) => {}
        Err(e) => return Err(Error::io(format!("looking at {}", path.display()), e)),
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => Ok(dir),
        Ok(meta) => Err(Error::io(
            format!(
                "the output directory {} is {}",
                dir.display(),
                describe(dir, &meta.file_type())
            ),
            io::ErrorKind::NotADirectory.into(),
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(Error::io(
            format!("the output directory {} does not exist", dir.display()),
            e,
        )),
        Err(e) => Err(Error::io(format!("looking at {}", dir.display()), e)),
    }
}

/// What kind of directory entry `path` is, in words (`a directory`, `a symbolic link to …`).
fn describe(path: &Path, ft: &std::fs::FileType) -> String {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_symlink() {
        return match std::fs::read_link(path) {
            Ok(to) => format!("a symbolic link (to {})", to.display()),
            Err(_) => "a symbolic link".into(),
        };
    }
    let what = if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a named pipe (FIFO)"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    };
    what.into()
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

/// A temporary output file whose data a background thread syncs to disk every
/// [`SYNC_EVERY`] bytes while the output is written, so that the fsync before the rename has
/// little left to wait for. The thread starts with the first sync.
struct EarlySync {
    file: NamedTempFile,
    unsynced: u64,
    /// Syncs the file on request; its result is the first sync error.
    syncer: Option<Worker<(), io::Result<()>>>,
}

impl EarlySync {
    fn new(file: NamedTempFile) -> Self {
        EarlySync {
            file,
            unsynced: 0,
            syncer: None,
        }
    }

    /// Asks for a sync of what is written so far; a request still pending covers this one.
    fn request_sync(&mut self) -> io::Result<()> {
        if self.syncer.is_none() {
            let file = self.file.as_file().try_clone()?;
            // One pending request at most: the sync that runs after it covers every write
            // before it.
            self.syncer = Some(Worker::start(1, move |requests| {
                for () in requests {
                    file.sync_data()?;
                }
                Ok(())
            }));
        }
        if let Some(syncer) = &self.syncer {
            // Full: a sync is already pending. Ended: it stopped on an error, which `finish`
            // reports.
            syncer.try_send(());
        }
        Ok(())
    }

    /// Waits for the background syncs and gives the file back; the first sync error, if any.
    fn finish(mut self) -> io::Result<NamedTempFile> {
        if let Some(syncer) = self.syncer.take() {
            syncer.finish()?;
        }
        Ok(self.file)
    }
}

impl Write for EarlySync {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.unsynced += n as u64;
        if self.unsynced >= SYNC_EVERY {
            self.unsynced = 0;
            self.request_sync()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
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

/// Opens an input that can be read twice: a regular file as it is; stdin, a pipe or a FIFO
/// copied first to a private anonymous temporary file.
pub fn open_rereadable_input(path: Option<&Path>) -> Result<File> {
    if let Some(p) = path.filter(|p| !is_stdout(Some(p))) {
        let f = File::open(p).map_err(|e| Error::io(format!("opening {}", p.display()), e))?;
        let regular = f
            .metadata()
            .map_err(|e| Error::io(format!("reading {}", p.display()), e))?
            .is_file();
        if regular {
            return Ok(f);
        }
        return spool(f);
    }
    spool(io::stdin().lock())
}

fn spool(mut r: impl io::Read) -> Result<File> {
    let mut f =
        tempfile::tempfile().map_err(|e| Error::io("creating a temporary spool file", e))?;
    io::copy(&mut r, &mut f).map_err(|e| Error::io("reading the input", e))?;
    f.rewind()
        .map_err(|e| Error::io("rewinding the spool file", e))?;
    Ok(f)
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
            Err(Error::OutputExists(p)) if p == path
        ));
        let mut again = Output::open(Some(&path), true, false).unwrap();
        again.write_all(b"new\n").unwrap();
        drop(again);
        assert_eq!(
            std::fs::read(&path).unwrap(),
            b"hello\n",
            "dropped output changes nothing"
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp left"
        );
    }

    #[test]
    fn a_large_file_output_is_synced_in_the_background_and_complete() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.txt");
        let mut out = Output::open(Some(&path), false, false).unwrap();
        let chunk: Vec<u8> = (0..=255u8).cycle().take(1 << 20).collect();
        let chunks = (SYNC_EVERY >> 20) * 3 + 1;
        for _ in 0..chunks {
            out.write_all(&chunk).unwrap();
        }
        match &out.sink {
            Sink::File { temp, .. } => assert!(temp.get_ref().syncer.is_some()),
            _ => panic!("a file sink"),
        }
        out.commit().unwrap();
        let written = std::fs::read(&path).unwrap();
        assert_eq!(written.len() as u64, chunks << 20);
        assert!(written.chunks(1 << 20).all(|c| c == chunk.as_slice()));

        // Dropped after its syncs started (a failed run): nothing changes, nothing is left.
        let mut failed = Output::open(Some(&path), true, false).unwrap();
        for _ in 0..chunks {
            failed.write_all(b"x".repeat(1 << 20).as_slice()).unwrap();
        }
        drop(failed);
        assert_eq!(std::fs::read(&path).unwrap(), written);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
