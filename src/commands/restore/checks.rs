//! What `restore` checks before anything is sent: the text, the target's release and
//! freshness (from its own `/dump`), the full `check` for that release.

use std::fs::File;

use super::{input_name, reader_at, RestoreArgs};
use crate::commands::timeouts::{meta_client, READ_TIMEOUT};
use cnosdb_migrate::dump::{DumpReader, Form};
use cnosdb_migrate::error::{Error, InputError, Result};
use cnosdb_migrate::remote::meta::Endpoint;
use cnosdb_migrate::target::Target;

/// The release and cluster to check the file for: from `--target` or `--target-from`, and
/// from the server's own `/dump`, which must agree and (unless `--merge` or `--resume-from`)
/// show a fresh cluster. A dry run with a named target does not ask the server.
pub(super) fn learn_target(
    args: &RestoreArgs,
    endpoint: &Endpoint,
) -> Result<(Target, Option<String>)> {
    let named = match (&args.target, &args.target_from) {
        (Some(t), _) => Some((*t, None)),
        (None, Some(path)) => {
            let f = File::open(path)
                .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
            let learned = cnosdb_migrate::release::learn_target(f, path)?;
            Some((learned.target, learned.cluster))
        }
        (None, None) => None,
    };
    if args.dry_run {
        if let Some(named) = named {
            return Ok(named);
        }
    }
    let server = read_server(args, endpoint)?;
    let url = endpoint.service_dump().dump_url();
    if let Some((target, _)) = named {
        if target != server.target {
            return Err(Error::Usage(format!(
                "the file is for CnosDB {target}, but the server at {url} runs {} (it converts \
                 as {}); transform the 2.3 dump for that release",
                server.detected, server.target
            )));
        }
    }
    if !server.not_fresh.is_empty() && !args.merge && args.resume_from.is_none() {
        return Err(Error::Usage(format!(
            "the cluster at {url} is not fresh: it holds e.g. {}; the restore would merge \
             into what it has. Restore into a fresh cluster, or pass --merge to merge",
            server.not_fresh.join(", ")
        )));
    }
    if !args.quiet {
        say!(
            "cnosdb-migrate: {url} runs CnosDB {} (target {}){}",
            server.detected,
            server.target,
            if server.not_fresh.is_empty() {
                ", a fresh cluster"
            } else {
                ""
            }
        );
    }
    Ok((server.target, server.cluster))
}

/// Reads the server's `/dump` (into a private temporary file) and learns its release.
fn read_server(
    args: &RestoreArgs,
    endpoint: &Endpoint,
) -> Result<cnosdb_migrate::release::LearnedTarget> {
    let dump = endpoint.service_dump();
    // The dump is read with fetch's read timeout, not the restore's longer one.
    let client = meta_client(args.connect_timeout, None, READ_TIMEOUT);
    let before_sending = |e: Error| match e {
        Error::Remote(m) => Error::Remote(format!(
            "{m}\n(reading the target's release and contents before sending; nothing was sent)"
        )),
        other => other,
    };
    let spool = client.download_spooled(&dump).map_err(before_sending)?;
    let url = dump.dump_url();
    cnosdb_migrate::release::learn_target(spool, std::path::Path::new(&url)).map_err(|e| {
        Error::Usage(format!(
            "cannot tell which release the server at {url} runs, so nothing was sent: {e}"
        ))
    })
}

/// The restore-ready text checks: a complete `/dump`-form file with LF line endings.
pub(super) fn check_text(file: &File, args: &RestoreArgs) -> Result<()> {
    let name = input_name(args);
    let mut reader = DumpReader::new(reader_at(file, 0)?);
    let mut first_crlf = None;
    while let Some(line) = reader.next_record()?.map(|r| r.line) {
        if first_crlf.is_none() && reader.crlf_lines() > 0 {
            first_crlf = Some(line);
        }
    }
    let fail = |line, msg: String| -> Result<()> {
        Err(InputError::at(line, format!("{name} is not restore-ready: {msg}")).into())
    };
    if reader.form() == Some(Form::Debug) {
        return fail(
            1,
            "it is a /debug dump (frame lines, `* ` prefixes), which /restore would store \
             under junk keys; run `cnosdb-migrate transform --target VERSION` on it first"
                .into(),
        );
    }
    if reader.crlf_lines() > 0 {
        return fail(
            first_crlf.unwrap_or(1),
            format!(
                "{} lines end in CR LF; /restore keeps the CR in every value (plain numbers \
                 then read wrong); convert the line endings to LF",
                reader.crlf_lines()
            ),
        );
    }
    if reader.records() == 0 {
        return fail(1, "it holds no record".into());
    }
    Ok(())
}

/// The full `check` of the file for `target` (and the target's cluster name, when known).
pub(super) fn check_for(
    file: &File,
    args: &RestoreArgs,
    (target, cluster): (Target, Option<String>),
) -> Result<()> {
    let name = input_name(args);
    let fail = |line, msg: String| -> Result<()> {
        Err(InputError::at(line, format!("{name} is not restore-ready: {msg}")).into())
    };
    let report = cnosdb_migrate::check::check(reader_at(file, 0)?, target, cluster.as_deref())?;
    // As `check` decides: `unreadable` and `lossy` refuse the file; `changed` (a behaviour the
    // transform's options chose, such as a kept `must_change_password`) is said and sent.
    for p in &report.problems {
        let label = if p.severity.fails(false) {
            ""
        } else {
            "warning: "
        };
        say!(
            "{label}line {} {} [{}] {}: {}",
            p.line,
            p.severity.name(),
            p.code,
            p.key.as_deref().unwrap_or("-"),
            p.reason
        );
    }
    let failing: Vec<_> = report
        .problems
        .iter()
        .filter(|p| p.severity.fails(false))
        .collect();
    let Some(first) = failing.first() else {
        return Ok(());
    };
    fail(
        first.line,
        format!(
            "`check --target {target}` found {} problem(s) the target cannot read or would lose, \
             listed above; nothing was sent",
            failing.len()
        ),
    )
}
