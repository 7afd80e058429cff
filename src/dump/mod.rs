//! Reading dumps: form detection, line splitting and key classification.

mod frame;
mod key;
mod reader;
mod scan;

pub use frame::is_frame_line;
pub use key::{fingerprint, Key, KeyKind};
pub use reader::{DumpReader, Form, Record, MAX_LINE_BYTES};
pub use scan::scan_records;
