//! A thread fed through a short queue, always joined: on [`Worker::finish`], or when dropped
//! on an error path (never left running detached).

use std::panic;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::{self, JoinHandle};

/// A thread that takes `T`s from a queue of `depth` and ends with an `R` once the queue is
/// closed.
pub struct Worker<T, R> {
    tx: Option<SyncSender<T>>,
    thread: Option<JoinHandle<R>>,
}

impl<T: Send + 'static, R: Send + 'static> Worker<T, R> {
    /// Starts `work` on a new thread; it reads its queue until the queue is closed.
    pub fn start(depth: usize, work: impl FnOnce(Receiver<T>) -> R + Send + 'static) -> Self {
        let (tx, rx) = mpsc::sync_channel(depth);
        Worker {
            tx: Some(tx),
            thread: Some(thread::spawn(move || work(rx))),
        }
    }

    /// Queues `item`, waiting while the queue is full. Dropped if the thread has ended.
    pub fn send(&self, item: T) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(item);
        }
    }

    /// Queues `item` unless the queue is full (or the thread has ended).
    pub fn try_send(&self, item: T) {
        if let Some(tx) = &self.tx {
            let _ = tx.try_send(item);
        }
    }

    /// Closes the queue and waits for the thread's result (a panic in it goes on here).
    pub fn finish(mut self) -> R {
        self.join().expect("joined only once")
    }

    fn join(&mut self) -> Option<R> {
        self.tx = None;
        let thread = self.thread.take()?;
        Some(thread.join().unwrap_or_else(|p| panic::resume_unwind(p)))
    }
}

impl<T, R> Drop for Worker<T, R> {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(thread) = self.thread.take() {
            // On an error path: the result is not wanted, and a panic is not re-raised in a drop.
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_closes_the_queue_and_returns_the_result() {
        let w = Worker::start(1, |rx: Receiver<u32>| rx.iter().sum::<u32>());
        for i in 1..=10 {
            w.send(i);
        }
        assert_eq!(w.finish(), 55);
    }

    #[test]
    fn dropping_joins_the_thread() {
        let (done_tx, done_rx) = mpsc::channel();
        let w = Worker::start(1, move |rx: Receiver<()>| {
            for () in rx {}
            // Slow enough that a drop that did not wait would return before this.
            thread::sleep(std::time::Duration::from_millis(100));
            done_tx.send(()).unwrap();
        });
        w.send(());
        drop(w);
        // The thread has ended by the time `drop` returns.
        assert!(done_rx.try_recv().is_ok());
    }
}
