//! What the commands print for a person: never a panic when stdout or stderr is closed or a
//! broken pipe, and colour on a terminal (none when piped, or with `NO_COLOR`).

use std::fmt::Display;
use std::io::{self, IsTerminal, Write};
use std::path::Path;

use anstyle::{AnsiColor, Style};

use cnosdb_migrate::error::{Error, Result};
use cnosdb_migrate::output::is_stdout;

/// The style of `error:`.
pub const ERROR: Style = AnsiColor::Red.on_default().bold();
/// The style of `warning:`.
pub const WARNING: Style = AnsiColor::Yellow.on_default().bold();
/// The style of a good verdict (`check`'s `OK`).
pub const GOOD: Style = AnsiColor::Green.on_default().bold();

/// `eprintln!` that never panics: a line on stderr, lost if stderr is closed or a broken
/// pipe. A leading `cnosdb-migrate: error:` or `cnosdb-migrate: warning:` is coloured on a
/// terminal.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::commands::term::stderr_line(&format!($($arg)*))
    };
}

/// `println!` that never panics: a line on stdout, lost if stdout is closed or a broken pipe.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::commands::term::stdout_line(&format!($($arg)*))
    };
}

/// Writes `text` and a newline to stderr (see [`say!`]).
pub fn stderr_line(text: &str) {
    stderr_text(&format!("{text}\n"));
}

/// Writes `text` to stderr as it is, colouring the labels of its lines (see [`say!`]).
pub fn stderr_text(text: &str) {
    let mut styled = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        styled.push_str(&style_label(line));
    }
    let _ = anstream::stderr().write_all(styled.as_bytes());
}

/// Writes `text` and a newline to stdout (see [`out!`]).
pub fn stdout_line(text: &str) {
    let _ = writeln!(anstream::stdout(), "{text}");
}

/// `line` with its `error:` / `warning:` label styled, when it starts with one.
fn style_label(line: &str) -> String {
    const PREFIX: &str = "cnosdb-migrate: ";
    for (label, style) in [("error:", ERROR), ("warning:", WARNING)] {
        if let Some(rest) = line
            .strip_prefix(PREFIX)
            .and_then(|l| l.strip_prefix(label))
        {
            return format!("{PREFIX}{style}{label}{style:#}{rest}");
        }
    }
    line.to_string()
}

/// Prints an error on stderr as `cnosdb-migrate: error: …`.
pub fn error(e: impl Display) {
    say!("cnosdb-migrate: error: {e}");
}

/// Refuses to write a dump to stdout when stdout is a terminal, unless `allowed` (the
/// command's `--to-terminal`): a dump holds password hashes.
pub fn refuse_dump_on_terminal(output: Option<&Path>, allowed: bool) -> Result<()> {
    if is_stdout(output) && !allowed && io::stdout().is_terminal() {
        return Err(Error::Usage(
            "refusing to print a dump (it holds password hashes) to the terminal; pass -o FILE, \
             redirect stdout, or pass --to-terminal"
                .into(),
        ));
    }
    Ok(())
}

/// Says on stderr what the command waits for when it reads stdin from a terminal.
pub fn notice_stdin(input: Option<&Path>, what: &str) {
    if is_stdout(input) && io::stdin().is_terminal() {
        say!(
            "cnosdb-migrate: reading {what} from stdin (the terminal): paste it and end with \
             Ctrl-D, or press Ctrl-C and name a FILE"
        );
    }
}

/// `s` as one POSIX shell word (quoted when it holds anything but `A-Za-z0-9_./:=@%+,-`).
pub fn shell_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_./:=@%+,-".contains(&b));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_styled_and_the_rest_is_kept() {
        let styled = style_label("cnosdb-migrate: error: bad\n");
        assert_eq!(
            anstream::adapter::strip_str(&styled).to_string(),
            "cnosdb-migrate: error: bad\n"
        );
        assert_ne!(styled, "cnosdb-migrate: error: bad\n");
        assert_eq!(style_label("line 3 [crlf] x"), "line 3 [crlf] x");
    }
}
