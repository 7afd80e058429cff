//! cnosdb-migrate: moves a CnosDB 2.3 meta store to CnosDB 2.4.x.
//!
//! The engine is offline: [`dump`] reads either dump form, [`rules`] converts each record for a
//! [`target::Target`], and [`pipeline`] joins them into a restore-ready file with an audit
//! [`report`]. The HTTP side lives in [`remote`] and is never needed by the transform.

pub mod check;
pub mod copy;
pub mod dump;
pub mod error;
pub mod filter;
pub mod inspect;
pub mod json;
pub mod model;
pub mod output;
pub mod pipeline;
pub mod release;
pub mod remote;
pub mod report;
pub mod rules;
pub mod source;
pub mod tables;
pub mod target;
pub mod verify;
pub mod worker;

pub use error::{Error, InputError, Result};
