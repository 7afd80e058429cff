//! The table records, most of a restore-ready file's bytes, judged on a second thread.

use std::sync::mpsc::Receiver;

use super::{record, Problem};
use crate::dump::batch::{Batch, BatchSender};
use crate::model::Record;
use crate::target::Target;

/// Where the table records go: most of a restore-ready file's bytes, judged on a second thread
/// while this one reads on.
pub(super) type TableSink = BatchSender<()>;

/// The judging thread: every table record's problems.
pub(super) fn judge_tables(target: Target, rx: Receiver<Batch<()>>) -> Vec<Problem> {
    let mut found = Vec::new();
    for batch in rx {
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
