//! Progress bars on stderr, drawn only on a terminal; and the progress lines a step run by
//! `upgrade` writes into its log, which `upgrade` turns back into a bar.

use std::io::{self, IsTerminal};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar of `length` units (a spinner without one) in `template`'s style, ticking on its
/// own; hidden when `quiet` or stderr is not a terminal.
pub fn bar(quiet: bool, length: Option<u64>, template: &str) -> ProgressBar {
    if quiet || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(length, ProgressDrawTarget::stderr_with_hz(4));
    restyle(&bar, template);
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}

/// Draws `bar` in `template`'s style from now on.
pub fn restyle(bar: &ProgressBar, template: &str) {
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
}

/// The start of a progress line: `progress: DONE/TOTAL WHAT`.
pub const LINE: &str = "progress: ";

/// A progress line: `progress: 3/40 chunks, rows 1200 out, 1200 in`.
pub fn line(done: u64, total: u64, what: &str) -> String {
    format!("{LINE}{done}/{total} {what}")
}

/// The last progress line of a log: done, total, and the words after them.
pub fn last_line(log: &str) -> Option<(u64, u64, &str)> {
    let rest = log.lines().rev().find_map(|l| l.strip_prefix(LINE))?;
    let (count, words) = rest.split_once(' ').unwrap_or((rest, ""));
    let (done, total) = count.split_once('/')?;
    Some((done.parse().ok()?, total.parse().ok()?, words))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_progress_line_of_a_log_is_read_back() {
        let log = format!(
            "cnosdb-migrate: warning\n{}\nother\n{}\n",
            line(1, 4, "chunks"),
            line(2, 4, "chunks, rows 9 out, 9 in")
        );
        assert_eq!(last_line(&log), Some((2, 4, "chunks, rows 9 out, 9 in")));
        assert_eq!(last_line("progress: x/4 chunks\n"), None);
        assert_eq!(last_line("nothing\n"), None);
    }
}
