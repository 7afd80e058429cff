//! Errors of the engine and the exit code each one maps to.

use std::fmt;
use std::io;

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: the input is invalid (or `check` found problems).
pub const EXIT_INVALID_INPUT: u8 = 1;
/// Exit code: the command line is wrong.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: reading or writing a file failed.
pub const EXIT_IO: u8 = 3;
/// Exit code: a remote server failed, refused or answered something unexpected.
pub const EXIT_REMOTE: u8 = 4;
/// Exit code: stopped by SIGINT (Ctrl-C) or SIGTERM; a rerun goes on (128 + SIGINT, the
/// shell's convention).
pub const EXIT_INTERRUPTED: u8 = 130;

/// A problem with the input text, located at a line (and a byte offset where that helps).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// 1-based line number in the input.
    pub line: u64,
    /// Byte offset from the start of the input, when the problem is at a precise byte.
    pub offset: Option<u64>,
    /// What is wrong and what to do about it.
    pub message: String,
    /// What the command line can do about it (the commands word it: the library names no
    /// flags).
    pub hint: Option<Hint>,
}

/// A remedy on the command line for an [`InputError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    /// A record in a newer release's shape than the target.
    NewerShape,
    /// A plaintext password where plaintext is refused.
    PlaintextRefused,
    /// Two keys made equal by renaming the cluster.
    RenamedClusterCollision,
}

impl InputError {
    /// An error at `line` with no precise byte offset.
    pub fn at(line: u64, message: impl Into<String>) -> Self {
        InputError {
            line,
            offset: None,
            message: message.into(),
            hint: None,
        }
    }

    /// The same error with a remedy on the command line.
    pub fn with_hint(mut self, hint: Option<Hint>) -> Self {
        self.hint = hint;
        self
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset {
            Some(off) => write!(f, "line {} (byte {}): {}", self.line, off, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

impl std::error::Error for InputError {}

/// Every failure the library reports; [`Error::exit_code`] gives the documented exit code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input is not a valid dump, or a record cannot be converted.
    #[error("invalid input: {0}")]
    Input(#[from] InputError),
    /// The arguments are wrong or contradict each other.
    #[error("{0}")]
    Usage(String),
    /// A file or stream could not be read or written.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A remote server failed or answered something that is not success.
    #[error("{0}")]
    Remote(String),
    /// The input holds no record to move: empty, or every record is dropped.
    #[error("invalid input: {0}")]
    NoRecord(String),
    /// The output file exists and was not to be replaced (a usage error: the command line
    /// says how to replace it).
    #[error("{} already exists", .0.display())]
    OutputExists(std::path::PathBuf),
}

impl Error {
    /// Wraps an I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Input(_) | Error::NoRecord(_) => EXIT_INVALID_INPUT,
            Error::Usage(_) | Error::OutputExists(_) => EXIT_USAGE,
            Error::Io { .. } => EXIT_IO,
            Error::Remote(_) => EXIT_REMOTE,
        }
    }

    /// True when this is a write to a closed pipe (the reader went away): not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Io { source, .. } if source.kind() == io::ErrorKind::BrokenPipe)
    }
}

/// Result with the library's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
