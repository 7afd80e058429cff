//! The table records, most of a restore-ready file's bytes, judged on a second thread.

use std::ops::Range;
use std::sync::mpsc;

use super::{record, Problem};
use crate::model::Record;
use crate::target::Target;

/// Table batches waiting for the thread that judges them.
pub(super) const QUEUE: usize = 4;
/// A batch is sent when its text reaches this size.
const BATCH_BYTES: usize = 1 << 20;

/// Table records, as ranges of one text: `(line, key, value)`.
#[derive(Default)]
pub(super) struct TableBatch {
    text: String,
    items: Vec<(u64, Range<usize>, Range<usize>)>,
}

/// Where the table records go: most of a restore-ready file's bytes, judged on a second thread
/// while this one reads on.
pub(super) struct TableSink {
    pub(super) batch: TableBatch,
    pub(super) tx: Option<mpsc::SyncSender<TableBatch>>,
}

impl TableSink {
    pub(super) fn push(&mut self, line: u64, key: &str, value: &str) {
        let text = &mut self.batch.text;
        let start = text.len();
        text.push_str(key);
        text.push_str(value);
        let split = start + key.len();
        self.batch
            .items
            .push((line, start..split, split..text.len()));
        if text.len() >= BATCH_BYTES {
            self.send();
        }
    }

    fn send(&mut self) {
        let batch = std::mem::take(&mut self.batch);
        // A send fails only when the judging thread panicked: its join reports that.
        if let Some(tx) = &self.tx {
            let _ = tx.send(batch);
        }
    }

    /// Sends what is left and closes the channel.
    pub(super) fn finish(&mut self) {
        if !self.batch.items.is_empty() {
            self.send();
        }
        self.tx = None;
    }
}

/// The judging thread: every table record's problems.
pub(super) fn judge_tables(target: Target, rx: mpsc::Receiver<TableBatch>) -> Vec<Problem> {
    let mut found = Vec::new();
    for batch in rx {
        for (line, key, value) in batch.items {
            let (key, value) = (&batch.text[key], &batch.text[value]);
            found.extend(record::judge(
                target,
                line,
                key,
                "table",
                Record::Table,
                value,
            ));
        }
    }
    found
}
