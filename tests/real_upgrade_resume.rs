//! `upgrade` killed in the middle of its copy (the test kills the tool's process group, never a
//! server) and started again: it finishes, with every chunk verified once, no staging
//! location exported twice, and the new cluster's rows equal to the old one's.

use crate::cnosdb;
use crate::installation;

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cnosdb::{p, said, Server};

fn upgrade(args: &[String]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cnosdb-migrate"));
    c.arg("upgrade").args(args).env("UPGRADE_PW", "");
    c
}

/// Chunks verified and staging locations exported, with how often each appears.
fn ledger(path: &Path) -> (BTreeMap<String, usize>, BTreeMap<String, usize>) {
    let (mut verified, mut exported) = (BTreeMap::new(), BTreeMap::new());
    for line in std::fs::read_to_string(path).unwrap_or_default().lines() {
        let Ok(l) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        match l["step"].as_str() {
            Some("verified") => {
                let chunk = format!(
                    "{}.{}.{}:{}",
                    l["tenant"], l["database"], l["table"], l["chunk"]
                );
                *verified.entry(chunk).or_default() += 1;
            }
            Some("exported") => {
                *exported
                    .entry(l["location"].as_str().unwrap_or("").to_string())
                    .or_default() += 1;
            }
            _ => {}
        }
    }
    (verified, exported)
}

#[test]
fn an_upgrade_killed_during_its_copy_finishes_when_run_again() {
    if !cnosdb::available("an_upgrade_killed_during_its_copy_finishes_when_run_again") {
        return;
    }
    let newest = cnosdb::targets().pop().unwrap();
    let work = tempfile::tempdir().unwrap();
    let source = installation::populated(work.path());
    let contents = installation::contents(&source);
    let target = Server::start(&newest);
    let wd = work.path().join("upgrade");
    let stage = format!("file://{}", p(&work.path().join("stage")));
    let args: Vec<String> = [
        "--from",
        &format!("{}/debug", source.meta_url()),
        "--to",
        &target.meta_url(),
        "--from-sql",
        &source.http_url(),
        "--to-sql",
        &target.http_url(),
        "--workdir",
        p(&wd),
        "--dir",
        &stage,
        "--password-env",
        "UPGRADE_PW",
    ]
    .map(str::to_string)
    .to_vec();

    let mut first = upgrade(&args);
    first
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = first.spawn().unwrap();
    let state = wd.join("copy.state");
    let start = Instant::now();
    while ledger(&state).0.is_empty() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the upgrade ended before its copy could be killed"
        );
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "no chunk copied in 5 min"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // The tool and the copy it runs, not a server: they are in a process group of their own.
    let group = format!("-{}", child.id());
    assert!(Command::new("kill")
        .args(["-KILL", "--", &group])
        .status()
        .unwrap()
        .success());
    child.wait().unwrap();
    let (cut, _) = ledger(&state);

    let out = upgrade(&args).output().unwrap();
    let text = said(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("restore    done before"), "{text}");
    assert!(text.contains("copy       ok"), "{text}");
    let (verified, exported) = ledger(&state);
    assert!(
        cut.len() < verified.len(),
        "killed midway: {} of {} chunks",
        cut.len(),
        verified.len()
    );
    assert!(verified.values().all(|&n| n == 1), "{verified:?}");
    assert!(exported.values().all(|&n| n == 1), "{exported:?}");
    assert_eq!(installation::contents(&target), contents);

    // Ctrl-C on a terminal (SIGINT to the foreground process group) during the copy of
    // another upgrade: the copy stops after its statements in flight, the upgrade says so and
    // exits 130; the same command then finishes.
    let target = Server::start(&newest);
    let wd = work.path().join("upgrade-2");
    let mut args = args.clone();
    args[3] = target.meta_url();
    args[7] = target.http_url();
    args[9] = p(&wd).to_string();
    args[11] = format!("file://{}", p(&work.path().join("stage-2")));
    let said_path = work.path().join("interrupted.txt");
    let mut first = upgrade(&args);
    first
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&said_path).unwrap());
    let mut child = first.spawn().unwrap();
    let state = wd.join("copy.state");
    while ledger(&state).0.is_empty() {
        assert!(child.try_wait().unwrap().is_none(), "ended before Ctrl-C");
        std::thread::sleep(Duration::from_millis(10));
    }
    let group = format!("-{}", child.id());
    assert!(Command::new("kill")
        .args(["-INT", "--", &group])
        .status()
        .unwrap()
        .success());
    let status = child.wait().unwrap();
    let text = std::fs::read_to_string(&said_path).unwrap();
    assert_eq!(status.code(), Some(130), "{text}");
    assert!(text.contains("stopped before copy finished"), "{text}");
    let log = std::fs::read_to_string(wd.join("copy.log")).unwrap();
    assert!(log.contains("stopped: "), "{log}");
    let (cut, _) = ledger(&state);
    let out = upgrade(&args).output().unwrap();
    let text = said(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let (verified, exported) = ledger(&state);
    assert!(cut.len() < verified.len(), "stopped midway");
    assert!(verified.values().all(|&n| n == 1), "{verified:?}");
    assert!(exported.values().all(|&n| n == 1), "{exported:?}");
    assert_eq!(installation::contents(&target), contents);
}
