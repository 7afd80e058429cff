//! The streaming reader over arbitrary bytes: every input ends in records, `None` or an
//! error, never a panic, and the byte count matches the input at a clean end.
#![no_main]

use cnosdb_migrate::dump::DumpReader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut reader = DumpReader::new(data);
    loop {
        match reader.next_record() {
            Ok(Some(rec)) => {
                assert!(rec.key.starts_with('/'));
                assert!(!rec.key.contains(": "));
                assert!(!rec.value.contains('\n'));
            }
            Ok(None) => {
                assert_eq!(reader.bytes_read(), data.len() as u64);
                break;
            }
            Err(_) => break,
        }
    }
});
