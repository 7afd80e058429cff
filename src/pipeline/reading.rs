//! The reading thread: every record split, the ones every target drops (and the filter
//! leaves out) dropped, the rest in batches to the converting thread.

use std::io::Read;

use super::TransformOptions;
use crate::dump::batch::{BatchSender, Item};
use crate::dump::{DumpReader, Key, KeyKind};
use crate::error::{InputError, Result};
use crate::model::drop_rule;
use crate::report::HashingReader;

/// What the reading thread decided about a record.
pub(super) enum Fate {
    /// For the converting thread's rules (key and value are in the batch).
    Convert { offset: u64 },
    /// Dropped by the reading thread, by a target-independent rule or the filter.
    /// `count` records in a row (more than one only when the observer does not want each
    /// dropped record: then the key is left out).
    Dropped {
        kind: &'static str,
        rule: &'static str,
        count: u64,
    },
}

impl Fate {
    /// One record dropped by `rule`.
    fn dropped(kind: &KeyKind<'_>, rule: &'static str) -> Self {
        Fate::Dropped {
            kind: kind.name(),
            rule,
            count: 1,
        }
    }
}

/// What the reading thread learns about the whole input.
pub(super) struct ReadStats {
    pub(super) form: Option<&'static str>,
    pub(super) records: u64,
    pub(super) crlf_lines: u64,
    pub(super) sha256: String,
    pub(super) bytes: u64,
}

/// The reading thread: every record of `input` in order, in batches, to `tx`; a key repeated
/// on the next line is an error. Without `each_dropped`, a run of records dropped by one rule
/// goes as one item. Stops quietly when the converting thread has stopped.
pub(super) fn read_records<R: Read>(
    input: R,
    opts: &TransformOptions,
    each_dropped: bool,
    mut tx: BatchSender<Fate>,
) -> Result<ReadStats> {
    let mut reader = DumpReader::new(HashingReader::new(input, opts.checksums));
    let mut prev_key = String::new();
    let mut prev_line = 0;
    let outcome = loop {
        let rec = match reader.next_record() {
            Ok(Some(rec)) => rec,
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        };
        if rec.key == prev_key {
            break Err(InputError::at(
                rec.line,
                format!(
                    "duplicate key {} (also on line {prev_line}); a dump holds each key once: \
                     two dumps were concatenated or the file was edited",
                    rec.key
                ),
            )
            .into());
        }
        prev_key.clear();
        prev_key.push_str(rec.key);
        prev_line = rec.line;
        let kind = Key::parse(rec.key).kind;
        let dropped =
            drop_rule(&kind).or_else(|| (!opts.filter.selects(&kind)).then_some("drop.filtered"));
        let batch = tx.batch();
        match (dropped, each_dropped) {
            // Without a report: one more of the run the last item counts, or a new run.
            (Some(rule), false) => match batch.last_mut() {
                Some(Item {
                    meta:
                        Fate::Dropped {
                            kind: k,
                            rule: r,
                            count,
                        },
                    ..
                }) if (*k, *r) == (kind.name(), rule) => *count += 1,
                _ => batch.push(rec.line, "", "", Fate::dropped(&kind, rule)),
            },
            (Some(rule), true) => batch.push(rec.line, rec.key, "", Fate::dropped(&kind, rule)),
            (None, _) => {
                let fate = Fate::Convert { offset: rec.offset };
                batch.push(rec.line, rec.key, rec.value, fate);
            }
        }
        if !tx.send_if_full() {
            break Ok(());
        }
    };
    // What was read before an error is converted first: its errors come first.
    tx.finish();
    outcome?;
    let stats = ReadStats {
        form: reader.form().map(|f| f.name()),
        records: reader.records(),
        crlf_lines: reader.crlf_lines(),
        sha256: String::new(),
        bytes: 0,
    };
    let (sha256, bytes) = reader.into_inner().finish();
    Ok(ReadStats {
        sha256,
        bytes,
        ..stats
    })
}
