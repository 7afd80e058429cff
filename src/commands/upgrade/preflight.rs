//! The pre-flight of `upgrade` that asks the clusters (it changes nothing on them): both
//! data nodes log in and say which release they run, both write a probe into the staging
//! location, and the new cluster takes the converted file in a dry run of `restore`.

use std::fs;
use std::path::Path;
use std::time::Duration;

use super::workdir::Workdir;
use super::{from_sql, to_sql, UpgradeArgs};
use cnosdb_migrate::remote::sql::{Credentials, SqlNode};
use cnosdb_migrate::tables::quote::quote_ident;
use cnosdb_migrate::tables::read_tables;
use cnosdb_migrate::tables::s3::S3Connection;
use cnosdb_migrate::tables::sql::CopyDir;

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
                say!(
                    "{side:<10} CnosDB {version} (as {url}/api/v1/ping reports it: the first \
                     three numbers of the release, not a fourth such as 2.3.5.4's)"
                );
                nodes.push((side, node));
            }
            Ok((version, _)) => problems.push(format!(
                "{side} data node {url} runs CnosDB {version}, not {want}x"
            )),
            Err(e) => problems.push(format!("{side} data node {url}: {e}")),
        }
    }
    let staging = CopyDir::parse(&args.dir)
        .map_err(|e| format!("--dir: {e}"))
        .and_then(|dir| args.s3.connect(dir).map_err(|e| e.to_string()));
    let staging = match staging {
        Ok(dir) => Some(dir),
        Err(e) => {
            problems.push(format!("staging: {e}"));
            None
        }
    };
    if let (2, Some(staging)) = (nodes.len(), &staging) {
        problems.extend(probe_staging(staging, &nodes));
        if let Some(local) = local_dir(&args.dir) {
            problems.extend(room(local, &work.path("old.txt"), &nodes[0].1));
        }
    }
    problems.extend(preflight_restore(args, work));
    problems
}

/// `restore --dry-run` of the restore-ready file, when there is one: what the new cluster's own
/// records say it runs, or why the restore would be refused.
fn preflight_restore(args: &UpgradeArgs, work: &Workdir) -> Option<String> {
    let file = work.path("restore.txt");
    if !file.is_file() {
        return None;
    }
    let mut dry = vec!["restore", "--dry-run", &args.to];
    let f = file.to_string_lossy().into_owned();
    dry.push(&f);
    if args.merge || work.restore_attempted() {
        dry.push("--merge");
    }
    match work.run_logged("preflight-restore", &dry) {
        // What the new cluster's own records say it runs (restore reads its /dump).
        Ok(()) => {
            let log = fs::read_to_string(work.path("preflight-restore.log")).unwrap_or_default();
            if let Some(line) = log.lines().find(|l| l.contains(" runs CnosDB ")) {
                say!(
                    "{:<10} {} (told from the shapes of its meta records: every release \
                     they fit is named)",
                    "new",
                    line.trim_start_matches("cnosdb-migrate: ")
                );
            }
            None
        }
        Err(why) => Some(format!("restore --dry-run: {why}")),
    }
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

/// The directory of a `file://` staging location, when this machine sees it.
fn local_dir(dir: &str) -> Option<&Path> {
    let local = Path::new(dir.trim_end_matches('/').strip_prefix("file://")?);
    local.is_dir().then_some(local)
}

/// Whether the staging directory has room for the rows: every table of the old dump counted
/// on the old node, at the table's staged bytes per row, against the space free there.
fn room(local: &Path, dump: &Path, old: &SqlNode) -> Vec<String> {
    let tables = match fs::File::open(dump)
        .map_err(|e| e.to_string())
        .and_then(|f| read_tables(std::io::BufReader::new(f)).map_err(|e| e.to_string()))
    {
        Ok(t) => t,
        Err(e) => {
            return vec![format!(
                "staging: reading the tables of {}: {e}",
                dump.display()
            )]
        }
    };
    let mut need = 0u64;
    for t in tables.iter().filter(|t| t.engine.holds_rows() && !t.system) {
        let sql = format!("SELECT count(*) FROM {}", quote_ident(&t.table));
        match old.count(&t.tenant, &t.database, &sql) {
            Ok(rows) => need = need.saturating_add(t.staged_bytes(rows)),
            Err(e) => {
                return vec![format!(
                    "staging: counting {} on the old node: {e}",
                    t.qualified()
                )]
            }
        }
    }
    let free = match rustix::fs::statvfs(local) {
        Ok(s) => s.f_bavail.saturating_mul(s.f_frsize),
        Err(e) => {
            return vec![format!(
                "staging {}: its free space is unknown: {e}",
                local.display()
            )]
        }
    };
    say!(
        "{:<10} {}: about {} for the rows (an upper estimate), {} free",
        "staging",
        local.display(),
        size(need),
        size(free)
    );
    room_problem(need, free)
        .map(|p| format!("staging {}: {p}", local.display()))
        .into_iter()
        .collect()
}

/// Too little room: the estimate is larger than the space free.
fn room_problem(need: u64, free: u64) -> Option<String> {
    (need > free).then(|| {
        format!(
            "about {} of rows to stage (an upper estimate: 8 bytes per column and row), but \
             only {} free; free some space or give another --dir",
            size(need),
            size(free)
        )
    })
}

/// Bytes for people: `12.3 GiB`.
fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let (mut value, mut unit) = (bytes as f64 / 1024.0, 0);
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Both data nodes write a one-row probe into the staging location (`COPY INTO` of a
/// query: nothing changes on either cluster). For a `file://` location this machine sees,
/// both probes must land in it, which shows that both nodes reach the same directory; they
/// are removed then.
fn probe_staging(dir: &CopyDir, nodes: &[(&str, SqlNode)]) -> Vec<String> {
    let (base, conn) = (dir.as_str().trim_end_matches('/'), dir.connection());
    let dir = dir.as_str();
    let tag = format!(".cnosdb-migrate-probe-{}", std::process::id());
    let mut problems = Vec::new();
    for (side, node) in nodes {
        let at = format!("{base}/{tag}-{side}/");
        let sql = format!(
            "COPY INTO '{}' FROM (SELECT 1 AS probe){} FILE_FORMAT = (TYPE = 'CSV')",
            at.replace('\'', "''"),
            conn.map(S3Connection::clause).unwrap_or_default()
        );
        match node.copy_rows("cnosdb", "public", &sql) {
            Ok(1) => {}
            Ok(n) => problems.push(format!(
                "staging {at}: the {side} node wrote {n} probe rows, not 1"
            )),
            Err(e) => {
                let e = e.to_string();
                let e = conn.map_or_else(|| e.clone(), |c| c.mask(&e));
                problems.push(format!(
                    "staging {at}: the {side} node cannot write there: {e}"
                ))
            }
        }
    }
    let Some(local) = base.strip_prefix("file://").map(Path::new) else {
        return problems;
    };
    if local_dir(dir).is_none() {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_is_short_only_when_the_estimate_exceeds_the_free_space() {
        assert_eq!(room_problem(10, 10), None);
        let p = room_problem(3 << 30, 1 << 30).unwrap();
        assert!(
            p.contains("about 3.0 GiB of rows to stage") && p.contains("only 1.0 GiB free"),
            "{p}"
        );
        assert_eq!(size(1023), "1023 B");
        assert_eq!(size(1536), "1.5 KiB");
    }
}
