//! The whole upgrade on real servers: a realistic 2.3.5.4 installation is fetched,
//! transformed, checked and restored into a fresh singleton of every 2.4.x release in
//! `../shared/cnosdb/`, its rows copied; then the 2.4 server must answer like the 2.3 one,
//! also after two restarts (one with authentication on), except for the documented
//! differences listed here.

use crate::cnosdb;
use crate::installation;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cnosdb::{p, tool_ok, Server};
use installation::differences;

/// Says on stderr how long the test has run, at `what`.
fn step(what: &str) {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    let t = START.get_or_init(std::time::Instant::now).elapsed();
    eprintln!("[{:7.1} s] {what}", t.as_secs_f64());
}

/// The source installation, built once and shared by every release's upgrade.
struct Source {
    server: Server,
    dump: PathBuf,
    metadata: BTreeMap<String, String>,
    privileges: BTreeMap<String, String>,
    contents: BTreeMap<String, String>,
}

fn source(work: &Path) -> Source {
    let mut server = installation::populated(work);
    step("installation built");
    let metadata = installation::metadata(&server);
    let contents = installation::contents(&server);
    step("2.3.5.4 answers recorded");
    server.restart(true);
    step("2.3.5.4 restarted with auth on");
    let privileges = installation::privileges(&server);
    step("privileges recorded");
    assert_eq!(
        installation::contents(&server),
        contents,
        "2.3.5.4 kept every row over a restart"
    );
    let dump = work.join("source.debug.txt");
    tool_ok(&[
        "fetch",
        "-q",
        &format!("{}/debug", server.meta_url()),
        "-o",
        p(&dump),
    ]);
    Source {
        server,
        dump,
        metadata,
        privileges,
        contents,
    }
}

/// The upgrade into a fresh `release`; every difference from the source, as text.
fn upgrade(src: &Source, release: &str, work: &Path) -> Vec<String> {
    let work = work.join(release);
    std::fs::create_dir_all(&work).unwrap();
    let mut target = Server::start(release);
    let fresh = work.join("fresh.dump.txt");
    tool_ok(&["fetch", "-q", &target.meta_url(), "-o", p(&fresh)]);
    let ready = work.join("ready.txt");
    let report = work.join("report.jsonl");
    tool_ok(&[
        "transform",
        "-q",
        "--target-from",
        p(&fresh),
        p(&src.dump),
        "-o",
        p(&ready),
        "--report",
        p(&report),
    ]);
    tool_ok(&["check", "--target-from", p(&fresh), p(&ready)]);
    tool_ok(&[
        "restore",
        "-q",
        &target.meta_url(),
        p(&ready),
        "--target",
        cnosdb::tool_target(release),
    ]);
    target.assert_no_panic("the restore");
    tool_ok(&[
        "verify",
        &target.meta_url(),
        p(&ready),
        "--sql",
        &target.http_url(),
    ]);
    step(&format!("{release}: restored and verified"));
    let mut found = Vec::new();
    let mut compare =
        |what: &str, before: &BTreeMap<String, String>, after: BTreeMap<String, String>| {
            for d in differences(release, before, &after) {
                found.push(format!("{release} {what}: {d}"));
            }
        };
    compare(
        "after the restore",
        &src.metadata,
        installation::metadata(&target),
    );
    step(&format!("{release}: compared"));
    target.restart(false);
    compare(
        "after a restart",
        &src.metadata,
        installation::metadata(&target),
    );
    step(&format!("{release}: restarted and compared"));
    target.restart(true);
    target.root_password = src.server.root_password.clone();
    compare(
        "with auth on",
        &src.privileges,
        installation::privileges(&target),
    );
    compare(
        "with auth on",
        &src.metadata,
        installation::metadata(&target),
    );
    step(&format!("{release}: privileges compared"));
    let stage = work.join("stage");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cnosdb-migrate"))
        .args(["copy", "-q", p(&src.dump), "--from", &src.server.http_url()])
        .args([
            "--to",
            &target.http_url(),
            "--dir",
            &format!("file://{}", p(&stage)),
        ])
        .args(["--password-env", "PW_OLD", "--to-password-env", "PW_NEW"])
        .args(["--report", p(&work.join("copy.jsonl"))])
        .env("PW_OLD", &src.server.root_password)
        .env("PW_NEW", &src.server.root_password)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{release}: copy failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    step(&format!("{release}: rows copied"));
    compare("rows", &src.contents, installation::contents(&target));
    target.assert_no_panic("the copy");
    found
}

#[test]
fn upgrade_on_every_release() {
    if !cnosdb::available("upgrade_on_every_release") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let src = source(work.path());
    let only = std::env::var("CNOSDB_RELEASES").ok();
    let releases: Vec<String> = cnosdb::targets()
        .into_iter()
        .filter(|r| only.as_deref().is_none_or(|o| o.split(',').any(|x| x == r)))
        .collect();
    // The releases run side by side: most of the time goes to the servers' bcrypt rounds
    // and restarts, not to this process.
    let found: Vec<String> = std::thread::scope(|scope| {
        let runs: Vec<_> = releases
            .iter()
            .map(|r| (r, scope.spawn(|| upgrade(&src, r, work.path()))))
            .collect();
        runs.into_iter()
            .flat_map(|(release, run)| match run.join() {
                Ok(found) => found,
                Err(panic) => vec![format!(
                    "{release}: {}",
                    panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default()
                )],
            })
            .collect()
    });
    assert!(found.is_empty(), "{}", found.join("\n"));
}
