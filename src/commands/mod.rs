//! One module per subcommand: its arguments (clap) and its `run`, returning the exit code.

#[macro_use]
pub mod term;

pub mod check;
pub mod copy;
pub mod copy_compare;
pub mod copy_plan;
pub mod copy_report;
pub mod diff;
pub mod fetch;
pub mod inspect;
pub mod interrupt;
pub mod password;
pub mod progress;
pub mod restore;
pub mod s3;
mod selection;
pub mod tables;
pub mod timeouts;
pub mod transform;
pub mod upgrade;
pub mod verify;

use std::path::PathBuf;

use clap::Args;

pub use selection::{
    check_filter, check_selection, check_written, input_name, no_record, refuse_nothing_to_restore,
    scan_names,
};

use cnosdb_migrate::error::{Error, Hint, Result};
use cnosdb_migrate::filter::Filter;
use cnosdb_migrate::release::{learn_target, LearnedTarget};
use cnosdb_migrate::target::Target;

/// The tenant and database filters of every command that reads a dump.
#[derive(Debug, Clone, Default, Args)]
pub struct FilterArgs {
    /// Move only this tenant (repeatable); its roles, members, limiter, databases and tables go
    /// with it. Every name a filter gives must exist in the input.
    #[arg(long = "include-tenant", value_name = "TENANT")]
    pub include_tenants: Vec<String>,
    /// Leave this tenant out (repeatable).
    #[arg(long = "exclude-tenant", value_name = "TENANT")]
    pub exclude_tenants: Vec<String>,
    /// Leave this database out, written TENANT.DB (repeatable); its tables go with it.
    #[arg(long = "exclude-db", value_name = "TENANT.DB", value_parser = parse_tenant_db)]
    pub exclude_dbs: Vec<(String, String)>,
}

impl FilterArgs {
    /// The library's filter.
    pub fn filter(&self) -> Filter {
        Filter {
            include_tenants: self.include_tenants.clone(),
            exclude_tenants: self.exclude_tenants.clone(),
            exclude_dbs: self.exclude_dbs.clone(),
        }
    }
}

fn parse_tenant_db(s: &str) -> std::result::Result<(String, String), String> {
    match s.split_once('.') {
        Some((t, d)) if !t.is_empty() && !d.is_empty() => Ok((t.to_string(), d.to_string())),
        _ => Err(format!("`{s}` is not TENANT.DB")),
    }
}

/// The release to work for: named, or learned from a dump of the new cluster.
#[derive(Debug, Clone, Args)]
#[group(required = true, multiple = false)]
pub struct TargetArgs {
    /// The 2.4.x release the file is for: 2.4.0, 2.4.0.1, 2.4.1, 2.4.2, 2.4.2.1, 2.4.3, or a
    /// 2.4.3 point release 2.4.3.0–2.4.3.4 (converted as 2.4.3: same format).
    #[arg(long, value_name = "VERSION", value_parser = TargetParser)]
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
                    say!(
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
                    say!(
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

/// Parses `--target` as [`Target`]'s `FromStr` does, and tells completion scripts every
/// accepted release.
#[derive(Debug, Clone, Copy)]
pub struct TargetParser;

impl clap::builder::TypedValueParser for TargetParser {
    type Value = Target;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> std::result::Result<Target, clap::Error> {
        let parse: fn(&str) -> std::result::Result<Target, String> = str::parse;
        parse.parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            Target::accepted().map(|(name, _)| clap::builder::PossibleValue::new(name)),
        ))
    }
}

/// A table named on the command line: (tenant, database, table).
pub type TableName = (String, String, String);

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

#[cfg(test)]
mod tests;
