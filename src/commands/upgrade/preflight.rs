//! The pre-flight of `upgrade` that asks the clusters (it changes nothing on them): both
//! data nodes log in and say which release they run, both write a probe into the staging
//! location, and the new cluster takes the converted file in a dry run of `restore`.

use std::fs;
use std::path::Path;
use std::time::Duration;

use super::workdir::Workdir;
use super::{from_sql, to_sql, UpgradeArgs};
use cnosdb_migrate::remote::sql::{Credentials, SqlNode};

/// What the pre-flight asks the clusters, besides the steps it runs: the credentials on both
/// sides, and the new cluster as `restore --dry-run` sees it (release, freshness, the check).
pub fn preflight_remote(args: &UpgradeArgs, work: &Workdir) -> Vec<String> {
    let mut problems = Vec::new();
    let mut nodes = Vec::new();
    for (side, flag, want, url, var) in [
        (
            "old",
            "--from-sql",
            "2.3.",
            from_sql(args),
            args.password_env.as_str(),
        ),
        (
            "new",
            "--to-sql",
            "2.4.",
            to_sql(args),
            args.to_password_env
                .as_deref()
                .unwrap_or(&args.password_env),
        ),
    ] {
        let Ok(url) = url else {
            problems.push(format!(
                "{side} data node: give {flag} (the meta URL names no port 8901)"
            ));
            continue;
        };
        match login(&url, &args.user, var) {
            Ok((version, node)) if version.starts_with(want) => {
                say!("{side:<10} CnosDB {version} (from {url}/api/v1/ping)");
                nodes.push((side, node));
            }
            Ok((version, _)) => problems.push(format!(
                "{side} data node {url} runs CnosDB {version}, not {want}x"
            )),
            Err(e) => problems.push(format!("{side} data node {url}: {e}")),
        }
    }
    if nodes.len() == 2 {
        problems.extend(probe_staging(&args.dir, &nodes));
    }
    let file = work.path("restore.txt");
    if file.is_file() {
        let mut dry = vec!["restore", "--dry-run", &args.to];
        let f = file.to_string_lossy().into_owned();
        dry.push(&f);
        if args.merge || work.restore_attempted() {
            dry.push("--merge");
        }
        match work.run_logged("preflight-restore", &dry) {
            // What the new cluster's own records say it runs (restore reads its /dump).
            Ok(()) => {
                let log =
                    fs::read_to_string(work.path("preflight-restore.log")).unwrap_or_default();
                if let Some(line) = log.lines().find(|l| l.contains(" runs CnosDB ")) {
                    say!(
                        "{:<10} {}",
                        "new",
                        line.trim_start_matches("cnosdb-migrate: ")
                    );
                }
            }
            Err(why) => problems.push(format!("restore --dry-run: {why}")),
        }
    }
    problems
}

/// The release the data node at `url` says it runs, once `user` could run a statement there,
/// and the node.
fn login(url: &str, user: &str, var: &str) -> std::result::Result<(String, SqlNode), String> {
    let password =
        std::env::var(var).map_err(|_| format!("the environment variable {var} is not set"))?;
    let mut node = SqlNode::new(url, Some(Duration::from_secs(60)))?;
    node.set_credentials(&Credentials {
        user: user.to_string(),
        password,
    });
    let version = node.version().map_err(|e| e.to_string())?;
    node.query_csv("cnosdb", "public", "SHOW DATABASES")
        .map_err(|e| e.to_string())?;
    Ok((version, node))
}

/// Both data nodes write a one-row probe into the staging location (`COPY INTO` of a
/// query: nothing changes on either cluster). For a `file://` location this machine sees,
/// both probes must land in it, which shows that both nodes reach the same directory; they
/// are removed then.
fn probe_staging(dir: &str, nodes: &[(&str, SqlNode)]) -> Vec<String> {
    let base = dir.trim_end_matches('/');
    let tag = format!(".cnosdb-migrate-probe-{}", std::process::id());
    let mut problems = Vec::new();
    for (side, node) in nodes {
        let at = format!("{base}/{tag}-{side}/");
        let sql = format!(
            "COPY INTO '{}' FROM (SELECT 1 AS probe) FILE_FORMAT = (TYPE = 'CSV')",
            at.replace('\'', "''")
        );
        match node.copy_rows("cnosdb", "public", &sql) {
            Ok(1) => {}
            Ok(n) => problems.push(format!(
                "staging {at}: the {side} node wrote {n} probe rows, not 1"
            )),
            Err(e) => problems.push(format!(
                "staging {at}: the {side} node cannot write there: {e}"
            )),
        }
    }
    let Some(local) = base.strip_prefix("file://").map(Path::new) else {
        return problems;
    };
    if !local.is_dir() {
        say!(
            "{:<10} {dir}: not visible from this machine, so whether both nodes see the same \
             directory is not checked here",
            "staging"
        );
        return problems;
    }
    for (side, _) in nodes {
        let probe = local.join(format!("{tag}-{side}"));
        if !probe.is_dir() {
            problems.push(format!(
                "staging {dir}: the {side} node wrote its probe, but not into the directory this \
                 machine sees: the nodes do not share it"
            ));
        }
        let _ = fs::remove_dir_all(&probe);
    }
    problems
}
