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
pub mod tables;
pub mod timeouts;
pub mod transform;
pub mod upgrade;
pub mod verify;

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use clap::Args;

use cnosdb_migrate::error::{Error, Hint, Result};
use cnosdb_migrate::filter::{closest, edit_distance, Filter, Names};
use cnosdb_migrate::output::is_stdout;
use cnosdb_migrate::release::{learn_target, LearnedTarget};
use cnosdb_migrate::report::Summary;
use cnosdb_migrate::source::Rereadable;
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

/// How messages name an input: its path, or `stdin`.
pub fn input_name(input: Option<&Path>) -> String {
    match input {
        Some(p) if !is_stdout(Some(p)) => p.display().to_string(),
        _ => "stdin".into(),
    }
}

/// The error for an input without a single record.
pub fn no_record(input: Option<&Path>, bytes: u64) -> Error {
    Error::NoRecord(format!(
        "{} holds no record ({bytes} bytes, no `KEY: VALUE` line): an empty file or an empty \
         download is not a dump, and there is nothing to restore",
        input_name(input)
    ))
}

/// Scans a dump for the names it holds; refuses one without a record, or whose every record
/// is one that `transform` drops by its key (nothing to restore).
pub fn scan_names(file: &File, input: Option<&Path>) -> Result<Names> {
    let names = Names::scan(file.reader())
        .map_err(|e| Error::io(format!("reading {}", input_name(input)), e))?;
    refuse_nothing_to_restore(names.records, &names.dropped, file, input)?;
    Ok(names)
}

/// Refuses a dump of `records` records when it has none, or when every one is dropped by its
/// key (`dropped`, per rule): nothing to restore.
pub fn refuse_nothing_to_restore(
    records: u64,
    dropped: &BTreeMap<&'static str, u64>,
    file: &File,
    input: Option<&Path>,
) -> Result<()> {
    if records == 0 {
        return Err(no_record(input, file.byte_len().unwrap_or(0)));
    }
    if records == dropped.values().sum::<u64>() {
        let rules: Vec<String> = dropped
            .iter()
            .map(|(rule, n)| format!("{rule}: {n}"))
            .collect();
        return Err(Error::NoRecord(format!(
            "every one of the {records} records of {} is one that transform drops ({}): the old \
             cluster's own keys, nothing to restore or copy",
            input_name(input),
            rules.join(", ")
        )));
    }
    Ok(())
}

/// [`check_selection`] after a scan of `file`, when the filter names anything (the transform
/// itself finds an input with nothing to restore).
pub fn check_filter(file: &File, input: Option<&Path>, filter: &Filter) -> Result<()> {
    if filter.is_empty() {
        return Ok(());
    }
    check_selection(&scan_names(file, input)?, input, filter, (&[], &[]))
}

/// Refuses a filter that names a tenant, database or table the input does not hold (a typo
/// would otherwise select nothing, quietly).
pub fn check_selection(
    names: &Names,
    input: Option<&Path>,
    filter: &Filter,
    tables: (&[TableName], &[TableName]),
) -> Result<()> {
    let tenants = || names.tenants.iter().map(String::as_str);
    let dbs: Vec<String> = names
        .databases
        .iter()
        .map(|(t, d)| format!("{t}.{d}"))
        .collect();
    let all_tables: Vec<String> = names
        .tables
        .iter()
        .map(|(t, d, x)| format!("{t}.{d}.{x}"))
        .collect();
    let mut missing = Vec::new();
    for (flag, values) in [
        ("--include-tenant", &filter.include_tenants),
        ("--exclude-tenant", &filter.exclude_tenants),
    ] {
        for t in values.iter().filter(|t| !names.tenants.contains(*t)) {
            missing.push(unknown(flag, "tenant", t, tenants()));
        }
    }
    for (t, d) in &filter.exclude_dbs {
        if !names.databases.contains(&(t.clone(), d.clone())) {
            let value = format!("{t}.{d}");
            missing.push(unknown(
                "--exclude-db",
                "database",
                &value,
                dbs.iter().map(String::as_str),
            ));
        }
    }
    for (flag, values) in [("--include-table", tables.0), ("--exclude-table", tables.1)] {
        for (t, d, x) in values {
            if !names.tables.contains(&(t.clone(), d.clone(), x.clone())) {
                let value = format!("{t}.{d}.{x}");
                missing.push(unknown(
                    flag,
                    "table",
                    &value,
                    all_tables.iter().map(String::as_str),
                ));
            }
        }
    }
    if !missing.is_empty() {
        return Err(Error::Usage(format!(
            "{}\n(every name a filter gives must exist in {}: a name that selects nothing is \
             almost always a typo)",
            missing.join("\n"),
            input_name(input)
        )));
    }
    check_contradictions(filter, tables)
}

/// Refuses filters that cancel each other: a tenant both included and excluded, or a
/// database or table filter on a tenant that `--include-tenant` leaves out.
fn check_contradictions(filter: &Filter, tables: (&[TableName], &[TableName])) -> Result<()> {
    let mut wrong = Vec::new();
    for t in &filter.include_tenants {
        if filter.exclude_tenants.contains(t) {
            wrong.push(format!(
                "--include-tenant {t} and --exclude-tenant {t} contradict each other"
            ));
        }
    }
    let outside = |t: &String| {
        !filter.include_tenants.is_empty() && !filter.include_tenants.contains(t)
            || filter.exclude_tenants.contains(t)
    };
    for (t, d) in filter.exclude_dbs.iter().filter(|(t, _)| outside(t)) {
        wrong.push(format!(
            "--exclude-db {t}.{d}: tenant {t} is left out already, so this selects nothing"
        ));
    }
    for (flag, values) in [("--include-table", tables.0), ("--exclude-table", tables.1)] {
        for (t, d, x) in values.iter().filter(|(t, _, _)| outside(t)) {
            wrong.push(format!(
                "{flag} {t}.{d}.{x}: tenant {t} is left out by the tenant filters, so this \
                 selects nothing"
            ));
        }
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(Error::Usage(wrong.join("\n")))
    }
}

/// `--flag value: the input holds no KIND `value``, then the nearest names (by edit distance)
/// or, when none is near, some of those it holds.
fn unknown<'a>(
    flag: &str,
    kind: &str,
    value: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> String {
    let candidates: Vec<&str> = candidates.into_iter().collect();
    if candidates.is_empty() {
        return format!("{flag} {value}: the input holds no {kind} at all");
    }
    let quote = |names: &[&str]| -> String {
        let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        quoted.join(", ")
    };
    let near_enough = (value.chars().count() / 3).max(2);
    let near: Vec<&str> = closest(value, candidates.iter().copied(), 3)
        .into_iter()
        .filter(|c| edit_distance(value, c) <= near_enough)
        .collect();
    let hint = if near.is_empty() {
        let some = &candidates[..candidates.len().min(8)];
        format!(
            "it holds {}{}",
            quote(some),
            if some.len() < candidates.len() {
                format!(" and {} more", candidates.len() - some.len())
            } else {
                String::new()
            }
        )
    } else {
        format!("did you mean {}?", quote(&near))
    };
    format!("{flag} {value}: the input holds no {kind} `{value}`; {hint}")
}

/// Refuses a transform that read no record, or whose every record is dropped: nothing to
/// restore.
pub fn check_written(summary: &Summary, input: Option<&Path>) -> Result<()> {
    if summary.input_records == 0 {
        return Err(no_record(input, summary.input_bytes));
    }
    if summary.output_records == 0 {
        let rules: Vec<String> = summary
            .rules
            .iter()
            .map(|(rule, n)| format!("{rule}: {n}"))
            .collect();
        return Err(Error::NoRecord(format!(
            "every one of the {} records of {} is dropped ({}): the output would hold no \
             record, so there is nothing to restore; check the input and the filters",
            summary.input_records,
            input_name(input),
            rules.join(", ")
        )));
    }
    Ok(())
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

#[cfg(test)]
mod tests;
