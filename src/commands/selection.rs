//! What an input holds, against what the command line asks: an input with nothing to restore,
//! a filter that selects nothing, or names what the input does not hold, is refused.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

use super::TableName;
use cnosdb_migrate::error::{Error, Result};
use cnosdb_migrate::filter::{closest, edit_distance, Filter, Names};
use cnosdb_migrate::output::is_stdout;
use cnosdb_migrate::report::Summary;
use cnosdb_migrate::source::Rereadable;

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
