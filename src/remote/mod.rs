//! Talking to CnosDB servers over HTTP. Nothing in the offline engine needs it.
//!
//! [`meta`] speaks to a meta service's `/dump`, `/debug` and `/restore`; [`records`] counts
//! records the way `/restore` does and cuts a body into requests; [`sql`] speaks to a data
//! node's SQL API.

pub mod meta;
pub mod records;
pub mod sql;
