//! The transform: read records, decide each one's fate by the rules, write the kept ones.
//!
//! Three jobs on their own threads: the first pass ([`first_pass`]: which users, roles and
//! databases exist), the reading thread ([`reading`]: records split and the ones every target
//! drops dropped, in batches), and the converting thread ([`run`]: the rules, the output, the
//! observer).

mod first_pass;
mod reading;
mod run;

use std::io::Write;
use std::thread;

use crate::error::Result;
use crate::filter::Filter;
use crate::report::{Observer, Summary};
use crate::rules::Rules;
use crate::source::Rereadable;
use first_pass::FirstPass;
use run::convert;

/// Everything `transform` can be asked to do besides the target's record rules.
#[derive(Debug, Clone)]
pub struct TransformOptions {
    /// The record rules (target, database config, password policy).
    pub rules: Rules,
    /// Which tenants and databases move.
    pub filter: Filter,
    /// The new cluster name, if it changes.
    pub rename_cluster: Option<String>,
    /// Leave the source's `root` user and its memberships out.
    pub keep_target_root: bool,
    /// Compute the SHA-256 of input and output for the summary.
    pub checksums: bool,
}

impl TransformOptions {
    /// The defaults for `rules`.
    pub fn new(rules: Rules) -> Self {
        TransformOptions {
            rules,
            filter: Filter::default(),
            rename_cluster: None,
            keep_target_root: false,
            checksums: false,
        }
    }
}

/// Converts the dump read from `input` and writes the restore-ready records to `output`, in
/// input order.
///
/// Reads the input twice, at the same time: a first pass finds the users, the custom roles,
/// the databases and the source's `root` user (which sort after the member records that name
/// them), and whether the keys are in byte order, over parts of the input on as many threads as
/// there are cores (up to 4); the second converts, and waits for the first only at the first
/// record that needs its answer. Errors come as if the passes ran one after
/// the other: the first pass's, else the second's. Memory stays bounded by the longest line
/// plus 16 bytes per user and the role and database names (and each written key's fingerprint
/// when the keys are out of byte order, or `--rename-cluster` meets several clusters). Reports
/// every record's fate to `observer`. On error, what was written to `output` is incomplete:
/// callers write to an [`crate::output::Output`] and commit only on success.
pub fn transform<S: Rereadable + ?Sized, W: Write>(
    input: &S,
    output: W,
    opts: &TransformOptions,
    observer: &mut dyn Observer,
) -> Result<Summary> {
    thread::scope(|scope| {
        let mut index = FirstPass::start(scope, input, opts.keep_target_root);
        let converted = convert(scope, input.reader(), output, opts, observer, &mut index);
        index.finish()?;
        converted
    })
}
