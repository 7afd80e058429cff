//! Records handed from one thread to another in batches: the reader-thread-and-batches
//! pipeline of `transform` (reading → converting), `check` and `inspect` (reading → the
//! table records' thread).
//!
//! A batch copies its records' keys and values into one text and holds ranges of it, so a
//! batch is two allocations whatever its size; a short queue keeps memory bounded.

use std::ops::Range;
use std::sync::mpsc::{self, Receiver, SyncSender};

/// Batches waiting between the two threads.
pub const QUEUE: usize = 4;
/// A batch is sent when its text reaches this size, or its items [`BATCH_ITEMS`].
pub const BATCH_BYTES: usize = 1 << 20;
/// See [`BATCH_BYTES`].
pub const BATCH_ITEMS: usize = 1 << 14;

/// Records, as ranges of one text, each with what the sender says about it (`M`).
pub struct Batch<M> {
    text: String,
    items: Vec<Item<M>>,
}

/// One record of a [`Batch`].
pub struct Item<M> {
    /// 1-based line number in the input.
    pub line: u64,
    key: Range<usize>,
    value: Range<usize>,
    /// What the sender says about the record.
    pub meta: M,
}

impl<M> Batch<M> {
    fn new() -> Self {
        Batch {
            text: String::with_capacity(BATCH_BYTES + (64 << 10)),
            items: Vec::new(),
        }
    }

    /// Adds a record; `key` and `value` may be empty when the receiver does not need them.
    pub fn push(&mut self, line: u64, key: &str, value: &str, meta: M) {
        let start = self.text.len();
        self.text.push_str(key);
        self.text.push_str(value);
        let split = start + key.len();
        self.items.push(Item {
            line,
            key: start..split,
            value: split..self.text.len(),
            meta,
        });
    }

    /// The last record added, to fold the next one into it.
    pub fn last_mut(&mut self) -> Option<&mut Item<M>> {
        self.items.last_mut()
    }

    /// Every record with its key and value, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&Item<M>, &str, &str)> {
        self.items
            .iter()
            .map(|i| (i, &self.text[i.key.clone()], &self.text[i.value.clone()]))
    }

    fn is_full(&self) -> bool {
        self.text.len() >= BATCH_BYTES || self.items.len() >= BATCH_ITEMS
    }
}

/// The sending end: fills a batch and sends it once full.
pub struct BatchSender<M> {
    batch: Batch<M>,
    tx: Option<SyncSender<Batch<M>>>,
}

/// A queue of [`QUEUE`] batches: its sending end and its receiving end.
pub fn batch_channel<M>() -> (BatchSender<M>, Receiver<Batch<M>>) {
    let (tx, rx) = mpsc::sync_channel(QUEUE);
    let sender = BatchSender {
        batch: Batch::new(),
        tx: Some(tx),
    };
    (sender, rx)
}

impl<M> BatchSender<M> {
    /// The batch being filled.
    pub fn batch(&mut self) -> &mut Batch<M> {
        &mut self.batch
    }

    /// Adds a record to the batch and sends the batch if it is full; false once the receiving
    /// end is gone.
    pub fn push(&mut self, line: u64, key: &str, value: &str, meta: M) -> bool {
        self.batch.push(line, key, value, meta);
        self.send_if_full()
    }

    /// Sends the batch if it is full (waiting while the queue is); false once the receiving
    /// end is gone.
    pub fn send_if_full(&mut self) -> bool {
        !self.batch.is_full() || self.send()
    }

    fn send(&mut self) -> bool {
        let batch = std::mem::replace(&mut self.batch, Batch::new());
        self.tx.as_ref().is_some_and(|tx| tx.send(batch).is_ok())
    }

    /// Sends what is left and closes the queue. A send fails only when the receiving end is
    /// gone (it stopped early or panicked: whoever joins it reports that).
    pub fn finish(&mut self) {
        if !self.batch.items.is_empty() {
            self.send();
        }
        self.tx = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_arrive_in_order_in_full_batches() {
        let (mut tx, rx) = batch_channel::<u64>();
        let receiver = std::thread::spawn(move || {
            let mut got = Vec::new();
            let mut batches = 0;
            for batch in rx {
                batches += 1;
                got.extend(
                    batch
                        .iter()
                        .map(|(i, k, v)| (i.line, i.meta, k.len() + v.len())),
                );
            }
            (got, batches)
        });
        let value = "v".repeat(1000);
        for line in 1..=3000 {
            tx.batch().push(line, "/k", &value, line * 2);
            assert!(tx.send_if_full());
        }
        tx.finish();
        let (got, batches) = receiver.join().unwrap();
        assert_eq!(batches, 3);
        assert_eq!(got.len(), 3000);
        assert!(got
            .iter()
            .enumerate()
            .all(|(i, g)| *g == (i as u64 + 1, g.0 * 2, 1002)));
    }
}
