//! `verify`: after a restore, prove that the new cluster holds what was sent — its `/dump`
//! compared record by record with the restore-ready file, and its SQL API asked to list and
//! describe every database and table. Exit 0 only when everything matches.

use std::io::Seek;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use serde::Serialize;

use super::password::from_env;
use super::timeouts::{meta_client, parse_seconds, READ_TIMEOUT};
use cnosdb_migrate::error::{Error, Result, EXIT_INVALID_INPUT, EXIT_OK};
use cnosdb_migrate::output::open_rereadable_input;
use cnosdb_migrate::remote::meta::Endpoint;
use cnosdb_migrate::remote::sql::{Credentials, SqlNode};
use cnosdb_migrate::verify::{check_listing, compare, Difference, Listing, MetaComparison};

/// Arguments of `verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The new cluster's meta service, http://HOST:8901 (its /dump is read).
    #[arg(value_name = "URL")]
    pub url: String,
    /// The restore-ready file that was sent; `-` or absent for stdin.
    #[arg(value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// A data node of the new cluster, http://HOST:8902: its SQL API must list and describe
    /// every database and table of the file.
    #[arg(long, value_name = "URL", required_unless_present = "meta_only")]
    pub sql: Option<String>,
    /// Compare the meta store only (no SQL listing).
    #[arg(long, conflicts_with = "sql")]
    pub meta_only: bool,
    /// User for the SQL API.
    #[arg(long, default_value = "root")]
    pub user: String,
    /// Environment variable holding the user's password (none: an empty password).
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    /// Seconds to wait for the connection [default: 10].
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub connect_timeout: Option<Duration>,
    /// One JSON line per difference, then a summary line.
    #[arg(long)]
    pub json: bool,
}

/// The summary line of `--json`.
#[derive(Serialize)]
struct Summary<'a> {
    summary: bool,
    ok: bool,
    sent: u64,
    matched: u64,
    differences: usize,
    own: usize,
    extra: &'a [String],
    sql_checked: bool,
}

/// Runs `verify`.
pub fn run(args: VerifyArgs) -> Result<u8> {
    let endpoint = Endpoint::parse(&args.url)?.service_dump();
    let mut file = open_rereadable_input(args.input.as_deref())?;
    let client = meta_client(args.connect_timeout, None, READ_TIMEOUT);
    let held = client.download_spooled(&endpoint)?;
    let meta = compare(&file, held)?;
    file.rewind()
        .map_err(|e| Error::io("rereading the input", e))?;
    let mut differences = meta.differences.clone();
    if let Some(url) = &args.sql {
        differences.extend(sql_differences(&args, url, &file)?);
        differences.sort_by_key(|d| d.line);
    }
    print(&args, &meta, &differences);
    Ok(if differences.is_empty() {
        EXIT_OK
    } else {
        EXIT_INVALID_INPUT
    })
}

/// What the SQL API at `url` does not show of the file's definitions.
fn sql_differences(args: &VerifyArgs, url: &str, file: &std::fs::File) -> Result<Vec<Difference>> {
    let listing = Listing::of(file)?;
    let mut node = SqlNode::new(url, Some(Duration::from_secs(300)))
        .map_err(|e| Error::Usage(format!("--sql: {e}")))?;
    let password = match &args.password_env {
        Some(var) => from_env("--password-env", var)?,
        None => String::new(),
    };
    node.set_credentials(&Credentials {
        user: args.user.clone(),
        password,
    });
    let mut transport = None;
    let found = check_listing(&listing, |tenant, db, sql| {
        node.query_csv(tenant, db, sql).map_err(|e| {
            if matches!(e, cnosdb_migrate::remote::sql::SqlError::Transport(_)) {
                transport.get_or_insert_with(|| e.to_string());
            }
            e.to_string()
        })
    });
    match transport {
        Some(e) => Err(Error::Remote(format!("the SQL API at {url}: {e}"))),
        None => Ok(found),
    }
}

fn print(args: &VerifyArgs, meta: &MetaComparison, differences: &[Difference]) {
    if args.json {
        for d in differences {
            out!("{}", serde_json::to_string(d).unwrap_or_default());
        }
        let summary = Summary {
            summary: true,
            ok: differences.is_empty(),
            sent: meta.sent,
            matched: meta.matched,
            differences: differences.len(),
            own: meta.own.len(),
            extra: &meta.extra,
            sql_checked: args.sql.is_some(),
        };
        out!("{}", serde_json::to_string(&summary).unwrap_or_default());
        return;
    }
    for d in differences {
        let detail = d
            .detail
            .as_deref()
            .map(|s| format!(" ({s})"))
            .unwrap_or_default();
        out!(
            "line {} [{}] {}: {}{detail}",
            d.line,
            d.verdict.code(),
            d.key,
            d.verdict.describe()
        );
    }
    for key in &meta.extra {
        out!("not sent, held by the cluster: {key}");
    }
    let listed = if args.sql.is_some() {
        ", and its SQL API lists every database and table"
    } else {
        ""
    };
    if differences.is_empty() {
        out!(
            "OK: the cluster holds all {} records sent, each with its value{listed} ({} records \
             of its own, {} other)",
            meta.sent,
            meta.own.len(),
            meta.extra.len()
        );
    } else {
        out!(
            "{} difference{} ({} of {} records sent held as sent): the cluster does NOT hold \
             what was sent",
            differences.len(),
            if differences.len() == 1 { "" } else { "s" },
            meta.matched,
            meta.sent
        );
    }
}
