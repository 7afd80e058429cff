//! Ctrl-C (SIGINT) and SIGTERM during a copy or an upgrade: the first asks to stop cleanly (a
//! copy starts no new chunk and its chunks in flight end after their current statement; an
//! upgrade starts no new step), a second one exits at once with [`EXIT_INTERRUPTED`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use cnosdb_migrate::error::EXIT_INTERRUPTED;

/// What `copy` says at the first signal.
pub const COPY_STOPPING: &str = "stopping: no new chunk is started, the chunks in flight end \
                                 after their current statement (interrupt again to exit at once)";

/// A stop flag set by the first SIGINT or SIGTERM, which says `stopping`. Where no handler can
/// be installed (one is already there), the flag is never set and the signals keep their
/// default action.
pub fn stop_flag(stopping: &'static str) -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let _ = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            say!("cnosdb-migrate: interrupted again: exiting now; the ledger keeps every step that finished");
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        }
        say!("cnosdb-migrate: {stopping}");
    });
    stop
}
