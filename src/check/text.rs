//! The checks of the text itself: encoding, line shape, keys.

use super::Checker;
use crate::dump::{fingerprint, is_frame_line, separator, strip_cr};

impl Checker {
    /// One physical line, without its LF.
    pub(super) fn line(&mut self, line: u64, bytes: &[u8]) {
        let (bytes, crlf) = strip_cr(bytes);
        if crlf {
            self.push(
                line,
                None,
                "crlf",
                "line ends in CR LF: restore keeps the CR inside the value (a plain value then reads wrong)".into(),
            );
        }
        if bytes.is_empty() {
            self.push(
                line,
                None,
                "blank-line",
                "blank line: a restore-ready file has none".into(),
            );
            return;
        }
        if memchr::memchr(0, bytes).is_some() {
            self.push(
                line,
                None,
                "nul",
                "NUL byte: the file is binary or corrupt".into(),
            );
            return;
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            self.push(
                line,
                None,
                "invalid-utf8",
                "invalid UTF-8: 2.4 stores U+FFFD in its place (the file was damaged or re-encoded)".into(),
            );
            return;
        };
        if is_frame_line(bytes) {
            self.push(
                line,
                None,
                "debug-frame",
                "a /debug frame line left in: run the file through transform".into(),
            );
            return;
        }
        if text.starts_with("* ") {
            self.push(
                line,
                None,
                "debug-prefix",
                "a /debug record line (`* ` prefix left in): restore would store the key with the `* `".into(),
            );
            return;
        }
        self.key_line(line, text);
    }

    /// A line of valid text that is not a `/debug` line: `KEY: VALUE`?
    fn key_line(&mut self, line: u64, text: &str) {
        // `": "` is ASCII: both sides of it are whole characters.
        let Some((key, value)) =
            separator(text.as_bytes()).map(|at| (&text[..at], &text[at + 2..]))
        else {
            let reason = "no \": \" separator: restore skips this line";
            return self.push(line, None, "no-separator", reason.into());
        };
        if key.is_empty() {
            let reason = "empty key (the line starts with \": \")";
            return self.push(line, None, "empty-key", reason.into());
        }
        if !key.starts_with('/') {
            let reason = "key does not start with `/`";
            return self.push(line, Some(key), "key-without-slash", reason.into());
        }
        self.records += 1;
        if let Some(first) = self.seen.insert(fingerprint(key), line) {
            let reason =
                format!("duplicate key (also on line {first}): the later line silently wins");
            return self.push(line, Some(key), "duplicate-key", reason);
        }
        self.record(line, key, value);
    }
}
