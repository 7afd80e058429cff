//! One module per subcommand: its arguments (clap) and its `run`, returning the exit code.

pub mod check;
pub mod copy;
pub mod copy_plan;
pub mod diff;
pub mod fetch;
pub mod inspect;
pub mod restore;
pub mod tables;
pub mod transform;

use std::path::PathBuf;

use clap::Args;

use crate::error::{Error, Hint, Result};
use crate::release::{learn_target, LearnedTarget};
use crate::target::Target;

/// The release to work for: named, or learned from a dump of the new cluster.
#[derive(Debug, Clone, Args)]
#[group(required = true, multiple = false)]
pub struct TargetArgs {
    /// The 2.4.x release the file is for: 2.4.0, 2.4.0.1, 2.4.1, 2.4.2, 2.4.2.1, 2.4.3
    /// (2.4.3 covers 2.4.3.x and main).
    #[arg(long, value_name = "VERSION")]
    pub target: Option<Target>,
    /// Learn the release from a `/dump` or `/debug` of the new, still empty 2.4 cluster, and
    /// (2.4.2+) the database config from its own `public` database.
    #[arg(long, value_name = "FRESH_DUMP")]
    pub target_from: Option<PathBuf>,
}

impl TargetArgs {
    /// The target, read from the fresh dump when one was given; says on stderr what was
    /// learned unless `quiet` (warnings are always shown).
    pub fn resolve(&self, quiet: bool) -> Result<LearnedTarget> {
        match (&self.target, &self.target_from) {
            (Some(t), _) => Ok(LearnedTarget {
                target: *t,
                detected: t.to_string(),
                db_config: None,
                not_fresh: Vec::new(),
                cluster: None,
            }),
            (None, Some(path)) => {
                let file = std::fs::File::open(path)
                    .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
                let learned = learn_target(file, path).map_err(|e| match e {
                    Error::Usage(why) => Error::Usage(format!(
                        "--target-from {why}; pass --target VERSION instead"
                    )),
                    other => other,
                })?;
                if !quiet {
                    eprintln!(
                        "cnosdb-migrate: {} was written by CnosDB {}: target {}{}",
                        path.display(),
                        learned.detected,
                        learned.target,
                        if learned.db_config.is_some() {
                            ", database config from its `public` database"
                        } else {
                            ""
                        }
                    );
                }
                if !learned.not_fresh.is_empty() {
                    eprintln!(
                        "cnosdb-migrate: warning: {} is not a fresh cluster (it holds e.g. {}); \
                         the restore will merge into what it has",
                        path.display(),
                        learned.not_fresh.join(", ")
                    );
                }
                Ok(learned)
            }
            (None, None) => Err(Error::Usage(
                "give --target VERSION or --target-from FRESH_DUMP".into(),
            )),
        }
    }
}

/// The error with its command-line remedy appended (the library names no flags).
pub fn hinted(e: Error) -> Error {
    let Error::Input(mut input) = e else {
        return e;
    };
    let remedy = match input.hint {
        None => return Error::Input(input),
        Some(Hint::NewerShape) => "pick a newer --target, or convert the 2.3 dump instead",
        Some(Hint::PlaintextRefused) => {
            "rerun without `--plaintext-passwords fail` to hash it, or reset the password on the \
             source first"
        }
        Some(Hint::RenamedClusterCollision) => {
            "--rename-cluster gave two source clusters one name: convert them separately"
        }
    };
    input.message = format!("{}; {remedy}", input.message);
    Error::Input(input)
}
