//! Sending the file in its planned requests, with a progress bar; on a failure, what was
//! applied and the command that resumes.

use std::fs::File;
use std::io;

use super::{reader_at, RestoreArgs, READ_TIMEOUT};
use crate::commands::progress;
use crate::commands::term::shell_word;
use crate::commands::timeouts::meta_client;
use cnosdb_migrate::error::{Error, Result};
use cnosdb_migrate::output::is_stdout;
use cnosdb_migrate::remote::meta::{Applied, Remedy};
use cnosdb_migrate::remote::records::Plan;

/// Sends the requests of `plan` from record `start`, each checked for its count.
pub(super) fn send(
    args: &RestoreArgs,
    url: &str,
    file: &File,
    plan: &Plan,
    start: u64,
) -> Result<()> {
    let client = meta_client(args.connect_timeout, args.read_timeout, READ_TIMEOUT);
    let bar = progress::bar(
        args.quiet,
        Some(plan.total_records - start + 1),
        "{spinner} {bar:30} {pos}/{len} records {msg} {elapsed}",
    );
    let n = plan.chunks.len();
    for (i, chunk) in plan.chunks.iter().enumerate() {
        bar.set_message(format!("request {}/{n}", i + 1));
        let body = reader_at(file, chunk.start)?;
        let sent = client.restore(
            url,
            io::Read::take(body, chunk.bytes()),
            chunk.bytes(),
            chunk.records(),
        );
        if let Err(failure) = sent {
            bar.abandon();
            let mut state = Vec::new();
            if chunk.first > start {
                state.push(format!(
                    "records {start}..{} are applied (the server confirmed them)",
                    chunk.first - 1
                ));
            }
            state.push(match failure.applied {
                Applied::None => {
                    format!("records {} were not applied", span(chunk.first, chunk.last))
                }
                Applied::Unknown => format!(
                    "records {} may be partly applied",
                    span(chunk.first, chunk.last)
                ),
            });
            if chunk.last < plan.total_records {
                state.push(format!(
                    "records {} were not sent",
                    span(chunk.last + 1, plan.total_records)
                ));
            }
            return Err(Error::Remote(format!(
                "{failure}{}\n{}.\nEvery record is an idempotent set, so resume with:\n  {}",
                failure.remedy.map_or("", advice),
                state.join("; "),
                resume_command(args, chunk.first)
            )));
        }
        bar.inc(chunk.records());
    }
    bar.finish_and_clear();
    Ok(())
}

/// The command line's words for a failed request's remedy, to follow its message.
fn advice(remedy: Remedy) -> &'static str {
    match remedy {
        Remedy::BodyDropped => ": try --chunk-records",
        Remedy::BodyTooLarge => " with --chunk-records",
        Remedy::NotUtf8 => " (drop --no-check)",
    }
}

/// `a..b`, or `a` alone when `a == b`.
pub(super) fn span(a: u64, b: u64) -> String {
    if a == b {
        a.to_string()
    } else {
        format!("{a}..{b}")
    }
}

/// The command that sends the rest again from `record`, with the options of this run.
fn resume_command(args: &RestoreArgs, record: u64) -> String {
    let mut words = vec![
        "cnosdb-migrate".to_string(),
        "restore".to_string(),
        shell_word(&args.url),
    ];
    let from_stdin = is_stdout(args.input.as_deref());
    words.push(match &args.input {
        Some(p) if !from_stdin => shell_word(&p.display().to_string()),
        _ => "FILE".to_string(),
    });
    words.push(format!("--resume-from {record}"));
    if let Some(n) = args.chunk_records {
        words.push(format!("--chunk-records {n}"));
    }
    if let Some(t) = args.target {
        words.push(format!("--target {t}"));
    }
    if let Some(p) = &args.target_from {
        words.push(format!(
            "--target-from {}",
            shell_word(&p.display().to_string())
        ));
    }
    if args.no_check {
        words.push("--no-check".to_string());
    }
    if let Some(d) = args.connect_timeout {
        words.push(format!("--connect-timeout {}", d.as_secs_f64()));
    }
    if let Some(d) = args.read_timeout {
        words.push(format!("--read-timeout {}", d.as_secs_f64()));
    }
    if args.quiet {
        words.push("-q".to_string());
    }
    let mut cmd = words.join(" ");
    if from_stdin {
        cmd.push_str("\n(the input came from stdin: save the same bytes to FILE)");
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words() {
        assert_eq!(shell_word("http://h:8901"), "http://h:8901");
        assert_eq!(shell_word("my dump.txt"), "'my dump.txt'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word(""), "''");
    }
}
