//! Per table, what the copy still waits for, told to the comparing thread.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Mutex;

use super::compare::{Event, Extent};
use super::{lock, TablePlan};

/// Per table, the chunks still to be exported and still to be finished; when none is left,
/// the comparing thread is told ([`super::compare::Event`]).
pub(super) struct TableTally {
    exports_left: Vec<AtomicUsize>,
    chunks_left: Vec<AtomicUsize>,
    failed: Vec<AtomicBool>,
    /// What the new node counted in the table's chunks in this run; `None` once a chunk was
    /// not counted in this run.
    counted: Mutex<Vec<Option<Extent>>>,
    events: Mutex<Option<Sender<Event>>>,
}

impl TableTally {
    /// The tally of `plan`, telling `events` (none: nobody listens).
    pub(super) fn new(plan: &[TablePlan], events: Option<Sender<Event>>) -> TableTally {
        let left = || {
            plan.iter()
                .map(|t| AtomicUsize::new(t.chunks.len()))
                .collect()
        };
        let tally = TableTally {
            exports_left: left(),
            chunks_left: left(),
            failed: plan.iter().map(|_| AtomicBool::new(false)).collect(),
            counted: Mutex::new(plan.iter().map(|_| Some(Extent::default())).collect()),
            events: Mutex::new(events),
        };
        // A table without chunks has nothing to wait for.
        for (t, _) in plan.iter().enumerate().filter(|(_, p)| p.chunks.is_empty()) {
            tally.tell(Event::Exported(t));
            tally.tell(Event::Finished(t, None));
        }
        tally
    }

    /// A chunk of table `t` is exported, or needs no export.
    pub(super) fn exported(&self, t: usize) {
        if self.exports_left[t].fetch_sub(1, Ordering::SeqCst) == 1 {
            self.tell(Event::Exported(t));
        }
    }

    /// A chunk of table `t` is finished (`ok`: verified, or needs nothing), with what the new
    /// node counted in it in this run (`None`: not counted in this run).
    pub(super) fn finished(&self, t: usize, ok: bool, counted: Option<Extent>) {
        if !ok {
            self.failed[t].store(true, Ordering::SeqCst);
        }
        let sum = {
            let mut all = lock(&self.counted);
            match (&mut all[t], counted) {
                (Some(sum), Some(c)) => sum.add(c),
                (slot, _) => *slot = None,
            }
            all[t]
        };
        let last = self.chunks_left[t].fetch_sub(1, Ordering::SeqCst) == 1;
        if last && !self.failed[t].load(Ordering::SeqCst) {
            self.tell(Event::Finished(t, sum));
        }
    }

    fn tell(&self, event: Event) {
        if let Some(events) = lock(&self.events).as_ref() {
            // The comparer ends only after `close`: a send cannot fail before.
            let _ = events.send(event);
        }
    }

    /// No more events.
    pub(super) fn close(&self) {
        lock(&self.events).take();
    }
}
