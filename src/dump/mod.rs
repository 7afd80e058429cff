//! Reading dumps: form detection, line splitting and key classification.

pub mod batch;
mod frame;
mod key;
mod lines;
mod reader;
mod scan;

pub use frame::is_frame_line;
pub use key::{fingerprint, Key, KeyKind};
pub use lines::{separator, strip_cr, LineBuffer, Piece, MAX_LINE_BYTES};
pub use reader::{DumpReader, Form, Record};
pub use scan::scan_records;
