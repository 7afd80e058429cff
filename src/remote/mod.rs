//! The network side: talking to a CnosDB meta service. Nothing in the offline engine needs it.
//!
//! [`meta`] speaks HTTP to `/dump`, `/debug` and `/restore`; [`records`] counts records the
//! way `/restore` does and cuts a body into requests.

pub mod meta;
pub mod records;
