//! Talking to CnosDB servers over HTTP.

pub mod sql;
