//! The streaming reader over arbitrary bytes: every input ends in records, `None` or an
//! error, never a panic, and the byte count matches the input at a clean end. On input the
//! reader accepts whole, the transform's quick first pass (`scan_records`) sees exactly the
//! same records.
#![no_main]

use cnosdb_migrate::dump::{scan_records, DumpReader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut reader = DumpReader::new(data);
    let mut records: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    loop {
        match reader.next_record() {
            Ok(Some(rec)) => {
                assert!(rec.key.starts_with('/'));
                assert!(!rec.key.contains(": "));
                assert!(!rec.value.contains('\n'));
                records.push((rec.key.as_bytes().to_vec(), rec.value.as_bytes().to_vec()));
            }
            Ok(None) => {
                assert_eq!(reader.bytes_read(), data.len() as u64);
                let mut scanned = Vec::new();
                scan_records(data, |k, v| scanned.push((k.to_vec(), v.to_vec()))).unwrap();
                assert_eq!(scanned, records);
                break;
            }
            Err(_) => break,
        }
    }
});
