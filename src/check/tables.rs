//! The table records, most of a restore-ready file's bytes, judged on threads of their own.

use std::sync::mpsc::Receiver;
use std::sync::Mutex;

use super::{record, Problem};
use crate::dump::batch::{Batch, BatchSender};
use crate::model::Record;
use crate::target::Target;

/// Where the table records go: most of a restore-ready file's bytes, judged on a second thread
/// while this one reads on.
pub(super) type TableSink = BatchSender<()>;

/// A judging thread: the problems of every table record it takes from `rx`.
pub(super) fn judge_tables(target: Target, rx: &Mutex<Receiver<Batch<()>>>) -> Vec<Problem> {
    let mut found = Vec::new();
    loop {
        // The lock is held only while waiting for a batch (this statement), not while judging.
        let next = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
        let Ok(batch) = next else {
            break;
        };
        for (item, key, value) in batch.iter() {
            found.extend(record::judge(
                target,
                item.line,
                key,
                "table",
                Record::Table,
                value,
            ));
        }
    }
    found
}
