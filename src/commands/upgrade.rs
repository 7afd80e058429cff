//! `upgrade`: the whole upgrade in one command, with a journal. A pre-flight that changes
//! nothing (both clusters, their releases, the credentials, the conversion and its check,
//! the new cluster's freshness), then restore, verify and copy, each a run of this same
//! binary's own command, its output kept in the work directory. A rerun continues after the
//! last step that finished.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use clap::Args;
use serde::Serialize;

use cnosdb_migrate::error::{Result, EXIT_INTERRUPTED, EXIT_INVALID_INPUT, EXIT_OK};

mod preflight;
mod summary;
mod workdir;
use preflight::preflight_remote;
use summary::summary;
use workdir::{Entry, Workdir};

/// Arguments of `upgrade`.
#[derive(Debug, Args, Serialize)]
pub struct UpgradeArgs {
    /// The old (2.3) cluster's meta service, http://HOST:8901 (a 2.3 singleton: its /debug is
    /// read when it has no /dump).
    #[arg(long, value_name = "URL")]
    pub from: String,
    /// The new (2.4) cluster's meta leader, http://HOST:8901.
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// The old cluster's data node [default: the --from host, port 8902].
    #[arg(long, value_name = "URL")]
    pub from_sql: Option<String>,
    /// The new cluster's data node [default: the --to host, port 8902].
    #[arg(long, value_name = "URL")]
    pub to_sql: Option<String>,
    /// Where every artifact and the journal go (created 0700; files 0600).
    #[arg(long, value_name = "DIR")]
    pub workdir: PathBuf,
    /// Staging location both data nodes reach, for the rows: a shared directory
    /// (file:///path) or an object store (s3://bucket/prefix, see --s3-*).
    #[arg(long, value_name = "URL")]
    pub dir: String,
    #[command(flatten)]
    #[serde(flatten)]
    pub s3: super::s3::S3Args,
    /// User on both clusters.
    #[arg(long, default_value = "root")]
    pub user: String,
    /// Environment variable with the old cluster's password.
    #[arg(long, value_name = "VAR")]
    pub password_env: String,
    /// Environment variable with the new cluster's password [default: --password-env].
    #[arg(long, value_name = "VAR")]
    pub to_password_env: Option<String>,
    /// The new cluster's cluster_name, when it differs from the old one's.
    #[arg(long, value_name = "NAME")]
    pub rename_cluster: Option<String>,
    /// Restore into a cluster that already holds tenants, users or tables of its own.
    #[arg(long)]
    pub merge: bool,
    /// Verify the rows column by column: every column's count, min and max per chunk on both
    /// clusters (else each table's rows and first and last time).
    #[arg(long)]
    pub verify_content: bool,
    /// Run the pre-flight only, change nothing.
    #[arg(long)]
    #[serde(skip)]
    pub check: bool,
}

/// The steps, in order: name, what it does.
const STEPS: [(&str, &str); 8] = [
    ("fetch-old", "export the old meta store"),
    ("fetch-new", "export the new cluster's meta store"),
    (
        "transform",
        "convert for the new release (with the audit report)",
    ),
    ("check", "check the converted file for the new release"),
    ("restore", "restore into the new cluster"),
    ("verify", "verify what the new cluster holds"),
    ("copy", "copy every table's rows, verified"),
    ("verify-rows", "compare every table's rows on both clusters"),
];

/// Runs `upgrade`.
pub fn run(args: UpgradeArgs) -> Result<u8> {
    let work = Workdir::open(&args)?;
    let done = work.done()?;
    let mut problems = Vec::new();
    for (step, what) in &STEPS[..4] {
        if done.contains_key(*step) {
            say!("{step:<10} done before: {what}");
        } else if !problems.is_empty() && *step != "fetch-new" {
            problems.push(format!("{step}: not run (it needs the steps above)"));
        } else {
            match run_step(&work, &args, step)? {
                Ok(t) => say!("{step:<10} ok ({:.1} s): {what}", t.as_secs_f64()),
                Err(why) => problems.push(format!("{step}: {why}")),
            }
        }
    }
    if !done.contains_key("restore") {
        problems.extend(preflight_remote(&args, &work));
    }
    if !problems.is_empty() {
        say!("cnosdb-migrate: error: the pre-flight found {} problem(s); nothing was changed on either cluster:", problems.len());
        for p in &problems {
            say!("  - {p}");
        }
        return Ok(EXIT_INVALID_INPUT);
    }
    if args.check {
        say!("pre-flight OK: nothing was changed; run the same command without --check to upgrade");
        return Ok(EXIT_OK);
    }
    let stop = super::interrupt::stop_flag(UPGRADE_STOPPING);
    for (step, what) in &STEPS[4..] {
        if done.contains_key(*step) {
            say!("{step:<10} done before: {what}");
            continue;
        }
        if stop.load(Ordering::SeqCst) {
            return Ok(stopped(&work, step));
        }
        match run_step(&work, &args, step)? {
            Ok(t) => say!("{step:<10} ok ({:.1} s): {what}", t.as_secs_f64()),
            Err(_) if stop.load(Ordering::SeqCst) => return Ok(stopped(&work, step)),
            Err(why) => {
                say!("cnosdb-migrate: error: {step} failed: {why}");
                say!(
                    "fix the cause and run the same command again: the steps done are kept in {}",
                    work.journal().display()
                );
                return Ok(cnosdb_migrate::error::EXIT_REMOTE);
            }
        }
    }
    summary(&work, &args)?;
    Ok(EXIT_OK)
}

/// What `upgrade` says at the first signal.
const UPGRADE_STOPPING: &str = "stopping: no new step is started; the step running ends first \
                                (a copy that got the signal too ends after its statements in \
                                flight; interrupt again to exit at once)";

/// What is said when the upgrade was stopped before `step` finished; its exit code.
fn stopped(work: &Workdir, step: &str) -> u8 {
    say!(
        "cnosdb-migrate: stopped before {step} finished; run the same command again to go on: \
         the steps done are kept in {}",
        work.journal().display()
    );
    EXIT_INTERRUPTED
}

/// The data node next to a meta service on CnosDB's default ports (8901 → 8902), whatever
/// path the meta URL names.
fn beside(meta: &str) -> std::result::Result<String, ()> {
    let (scheme, rest) = meta.split_once("://").unwrap_or(("http", meta));
    let authority = rest.split('/').next().unwrap_or(rest);
    authority
        .strip_suffix(":8901")
        .map(|host| format!("{scheme}://{host}:8902"))
        .ok_or(())
}

pub(crate) fn from_sql(args: &UpgradeArgs) -> std::result::Result<String, ()> {
    args.from_sql
        .clone()
        .ok_or(())
        .or_else(|()| beside(&args.from))
}

pub(crate) fn to_sql(args: &UpgradeArgs) -> std::result::Result<String, ()> {
    args.to_sql.clone().ok_or(()).or_else(|()| beside(&args.to))
}

/// Runs `step`; journals it when it succeeded. `Err` of the inner result: why it failed.
fn run_step(
    work: &Workdir,
    args: &UpgradeArgs,
    step: &str,
) -> Result<std::result::Result<Duration, String>> {
    let start = Instant::now();
    if step == "copy" {
        // The copy appends to its state file: made here, so that it is 0600 too.
        work.create_private("copy.state")?;
    }
    let owned = command(work, args, step);
    let words: Vec<&str> = owned.iter().map(String::as_str).collect();
    if let Err(why) = work.run_logged(step, &words) {
        return Ok(Err(why));
    }
    let took = start.elapsed();
    work.append(&Entry::Done {
        step: step.to_string(),
        seconds: took.as_secs_f64(),
    })?;
    Ok(Ok(took))
}

/// The command line of a step (this binary's own subcommand).
fn command(work: &Workdir, args: &UpgradeArgs, step: &str) -> Vec<String> {
    let p = |name: &str| work.path(name).to_string_lossy().into_owned();
    let to_pw = args.to_password_env.as_ref().unwrap_or(&args.password_env);
    let (fresh, ready) = (p("fresh.txt"), p("restore.txt"));
    let mut v = match step {
        "fetch-old" => words(&["fetch", "-q", "--force", &args.from, "-o", &p("old.txt")]),
        "fetch-new" => words(&["fetch", "-q", "--force", &args.to, "-o", &fresh]),
        "transform" => words(&["transform", "-q", "--force", "--target-from", &fresh])
            .into_iter()
            .chain(words(&[&p("old.txt"), "-o", &ready]))
            .chain(words(&["--report", &p("transform.report.jsonl")]))
            .collect(),
        "check" => words(&["check", "--target-from", &fresh, &ready]),
        "restore" => words(&["restore", &args.to, &ready]),
        "verify" => words(&["verify", &args.to, &ready, "--sql"])
            .into_iter()
            .chain([to_sql(args).unwrap_or_default()])
            .chain(words(&[
                "--user",
                &args.user,
                "--password-env",
                to_pw,
                "--json",
            ]))
            .collect(),
        "copy" => copy_words(work, args)
            .into_iter()
            .chain(words(&["--progress-lines", "--dir", &args.dir]))
            .chain(args.s3.words())
            .chain(words(&["--state", &p("copy.state")]))
            .chain(words(&["--report", &p("copy.report.jsonl")]))
            .collect(),
        _ => {
            let level = if args.verify_content {
                "content"
            } else {
                "rows"
            };
            copy_words(work, args)
                .into_iter()
                .chain(words(&["--verify-only", "--verify", level]))
                .chain(words(&["--report", &p("verify-rows.jsonl")]))
                .collect()
        }
    };
    match step {
        "transform" => {
            if let Some(name) = &args.rename_cluster {
                v.extend(words(&["--rename-cluster", name]));
            }
        }
        // A rerun after a restore that was cut short: every record is an idempotent set.
        "restore" if args.merge || work.restore_attempted() => v.push("--merge".into()),
        _ => {}
    }
    v
}

fn words(w: &[&str]) -> Vec<String> {
    w.iter().map(|s| s.to_string()).collect()
}

/// The words `copy` and `copy --verify-only` share: the dump, both nodes, the credentials.
fn copy_words(work: &Workdir, args: &UpgradeArgs) -> Vec<String> {
    let to_pw = args
        .to_password_env
        .clone()
        .unwrap_or_else(|| args.password_env.clone());
    [
        "copy",
        "-q",
        &work.path("old.txt").to_string_lossy(),
        "--from",
        &from_sql(args).unwrap_or_default(),
        "--to",
        &to_sql(args).unwrap_or_default(),
        "--user",
        &args.user,
        "--password-env",
        &args.password_env,
        "--to-password-env",
        &to_pw,
    ]
    .map(str::to_string)
    .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_node_is_found_beside_a_default_meta_port() {
        assert_eq!(beside("http://old:8901"), Ok("http://old:8902".into()));
        assert_eq!(beside("http://old:8901/"), Ok("http://old:8902".into()));
        assert_eq!(
            beside("http://old:8901/debug"),
            Ok("http://old:8902".into())
        );
        assert_eq!(beside("http://old:9000"), Err(()));
    }

    #[test]
    fn a_journal_refuses_other_arguments() {
        let dir = tempfile::tempdir().unwrap();
        let mut args = UpgradeArgs {
            from: "http://a:8901".into(),
            to: "http://b:8901".into(),
            from_sql: None,
            to_sql: None,
            workdir: dir.path().join("w"),
            dir: "file:///s".into(),
            s3: Default::default(),
            user: "root".into(),
            password_env: "PW".into(),
            to_password_env: None,
            rename_cluster: None,
            merge: false,
            verify_content: false,
            check: false,
        };
        Workdir::open(&args).unwrap();
        args.check = true;
        Workdir::open(&args).expect("--check is not part of the journal");
        args.to = "http://c:8901".into();
        let e = Workdir::open(&args).unwrap_err().to_string();
        assert!(
            e.contains("to: journal \"http://b:8901\", now \"http://c:8901\""),
            "{e}"
        );
    }
}
