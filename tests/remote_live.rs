//! The round trip against live CnosDB servers named by the environment:
//! `CNOSDB_TEST_META_23` (a 2.3 meta service, source) and `CNOSDB_TEST_META_24` (a 2.4 meta
//! leader, target, which gets written to). Optional: `CNOSDB_TEST_TARGET` (the 2.4 release,
//! default 2.4.3) and `CNOSDB_TEST_RENAME_CLUSTER` (the 2.4 cluster name, when it differs).
//! Without them the tests pass and say they were skipped.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;

fn cmd() -> Command {
    let mut c = Command::cargo_bin("cnosdb-migrate").expect("the binary is built");
    c.timeout(Duration::from_secs(900));
    c
}

/// The URL in `var`, or `None` after saying (past the test harness's capture) how to run.
fn live(vars: &[&str]) -> Option<Vec<String>> {
    let found: Vec<Option<String>> = vars
        .iter()
        .map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .collect();
    if found.iter().all(Option::is_some) {
        return Some(found.into_iter().flatten().collect());
    }
    let how: Vec<String> = vars
        .iter()
        .map(|v| format!("{v}=http://host:8901"))
        .collect();
    // Straight to stderr, which libtest does not capture, so the skip is visible.
    let _ = writeln!(
        std::io::stderr(),
        "skipped: set {} to run",
        how.join(" and ")
    );
    None
}

fn fetch(url: &str, to: &Path) {
    cmd()
        .args(["fetch", "-q", url, "-o"])
        .arg(to)
        .assert()
        .success();
}

fn kv(path: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .expect("reading a fetched dump")
        .lines()
        .map(|l| l.strip_prefix("* ").unwrap_or(l))
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn live_2_3_to_2_4_round_trip() {
    let Some(urls) = live(&["CNOSDB_TEST_META_23", "CNOSDB_TEST_META_24"]) else {
        return;
    };
    let target = std::env::var("CNOSDB_TEST_TARGET").unwrap_or_else(|_| "2.4.3".into());
    let dir = tempfile::tempdir().unwrap();
    let (source, ready, back) = (
        dir.path().join("source.dump"),
        dir.path().join("ready.dump"),
        dir.path().join("back.dump"),
    );
    fetch(&urls[0], &source);

    let mut transform = cmd();
    transform
        .args(["transform", "-q", "--target", &target])
        .arg(&source)
        .arg("-o")
        .arg(&ready);
    if let Ok(name) = std::env::var("CNOSDB_TEST_RENAME_CLUSTER") {
        transform.args(["--rename-cluster", &name]);
    }
    transform.assert().success();

    cmd()
        .args(["restore", "-q", &urls[1], "--target", &target])
        .arg(&ready)
        .assert()
        .success();

    let base = urls[1].trim_end_matches('/');
    let base = base.strip_suffix("/restore").unwrap_or(base);
    fetch(&format!("{base}/dump"), &back);
    let restored = kv(&back);
    for (key, value) in kv(&ready) {
        assert_eq!(
            restored.get(&key),
            Some(&value),
            "{key} is not in the 2.4 store as it was sent"
        );
    }
}

#[test]
fn live_2_4_dump_and_debug_agree() {
    let Some(urls) = live(&["CNOSDB_TEST_META_24"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (debug, dump) = (dir.path().join("a.debug"), dir.path().join("b.dump"));
    let base = urls[0].trim_end_matches('/');
    fetch(&format!("{base}/debug"), &debug);
    fetch(&format!("{base}/dump"), &dump);
    // The round trip may add keys in between (and /data_version changes with every write),
    // but nothing removes one, and a value sent by the round trip never changes again.
    let (first, second) = (kv(&debug), kv(&dump));
    for key in first.keys() {
        assert!(
            second.contains_key(key),
            "{key} is in /debug but not in /dump"
        );
    }
}
