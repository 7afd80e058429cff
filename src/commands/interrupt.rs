//! Ctrl-C (SIGINT) and SIGTERM during a copy: the first asks the library to stop cleanly (no
//! new chunk, the chunks in flight end after their current statement), a second one exits at
//! once with [`EXIT_INTERRUPTED`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use cnosdb_migrate::error::EXIT_INTERRUPTED;

/// A stop flag set by the first SIGINT or SIGTERM. Where no handler can be installed (one is
/// already there), the flag is never set and the signals keep their default action.
pub fn stop_flag() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let _ = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            say!("cnosdb-migrate: interrupted again: exiting now; the ledger keeps every step that finished");
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        }
        say!(
            "cnosdb-migrate: stopping: no new chunk is started, the chunks in flight end after \
             their current statement (interrupt again to exit at once)"
        );
    });
    stop
}
