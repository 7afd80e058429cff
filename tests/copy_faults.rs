//! `copy` against stand-in data nodes that fail the way a real server does only by accident:
//! no answer within the time limit, an error status on one chunk, a 5xx; and a copy
//! interrupted (SIGINT, SIGTERM) while a slow statement is in flight.

use crate::sql_server;

use std::path::Path;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use sql_server::{FakeNode, Fault, FaultKind, Fs, NodeConfig, TableKey};

const DUMP: &str = "fixtures/copy/dump.txt";

fn tables() -> std::collections::BTreeMap<TableKey, u64> {
    [("disk", 10), ("empty", 0)]
        .into_iter()
        .map(|(x, n)| (("t2".to_string(), "metrics".to_string(), x.to_string()), n))
        .collect()
}

fn fault(matching: &str, times: u32, kind: FaultKind) -> Vec<Fault> {
    vec![Fault {
        matching: matching.into(),
        times,
        kind,
    }]
}

/// An old node with t2.metrics' rows and a new one with the empty tables.
fn nodes(old_faults: Vec<Fault>, new_faults: Vec<Fault>) -> (FakeNode, FakeNode) {
    let fs = Fs::default();
    let old = NodeConfig {
        tables: tables(),
        faults: old_faults,
        ..NodeConfig::default()
    };
    let new = NodeConfig {
        tables: tables().into_keys().map(|k| (k, 0)).collect(),
        faults: new_faults,
        ..NodeConfig::default()
    };
    (FakeNode::start(old, fs.clone()), FakeNode::start(new, fs))
}

fn copy(old: &FakeNode, new: &FakeNode, ledger: &Path) -> Command {
    Command::from_std(copy_process(old, new, ledger))
}

/// One copy with a fresh ledger: its exit code and stderr.
fn copy_once(old: &FakeNode, new: &FakeNode) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = copy(old, new, &dir.path().join("ledger.jsonl"))
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The copy as a process to spawn (and interrupt).
fn copy_process(old: &FakeNode, new: &FakeNode, ledger: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cnosdb-migrate"));
    cmd.args(["copy", DUMP, "--from", &old.url, "--to", &new.url])
        .args([
            "--dir",
            "file:///copy",
            "--password-env",
            "PW",
            "--include-tenant",
            "t2",
        ])
        .arg("--state")
        .arg(ledger)
        .env("PW", "secret");
    cmd
}

fn ledger(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn sql(node: &FakeNode, prefix: &str) -> Vec<String> {
    node.requests()
        .into_iter()
        .map(|r| r.sql)
        .filter(|s| s.starts_with(prefix))
        .collect()
}

#[test]
fn an_export_without_answer_is_exported_again_into_a_new_location() {
    // The first export answers after the statement's time limit: no answer, as when the
    // connection drops midway; the export may have written files, so the retry goes to a
    // new location.
    let slow = FaultKind::Slow(Duration::from_secs(2));
    let (old, new) = nodes(fault("FROM \"disk\"", 1, slow), vec![]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.jsonl");
    let out = copy(&old, &new, &path)
        .args(["--timeout", "1"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("export on http://") && err.contains("no answer"),
        "{err}"
    );
    assert!(err.contains("; trying again"), "{err}");
    let exports = sql(&old, "COPY INTO 'file:///copy/t2/metrics/disk/");
    assert!(exports.len() >= 2, "{exports:?}");
    assert!(exports[0].contains("/min_max-1-") && exports[1].contains("/min_max-2-"));
    assert_eq!(new.rows("t2", "metrics", "disk"), Some(10));
    let disk: Vec<(String, u64)> = ledger(&path)
        .iter()
        .filter(|l| l["table"] == "disk" && l["step"] != "planned")
        .map(|l| {
            (
                l["step"].as_str().unwrap().into(),
                l["attempt"].as_u64().unwrap(),
            )
        })
        .collect();
    let last = exports.len() as u64;
    let want = [("exported", last), ("imported", last), ("verified", last)];
    assert_eq!(disk, want.map(|(s, a)| (s.to_string(), a)));
}

#[test]
fn a_422_on_one_chunk_is_not_retried_and_fails_that_table_only() {
    let (old, new) = nodes(
        vec![],
        fault("COPY INTO \"disk\"", 1, FaultKind::Status(422)),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.jsonl");
    let out = copy(&old, &new, &path).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.contains("import on http://") && err.contains("HTTP 422, error 050001"),
        "{err}"
    );
    assert!(!err.contains("trying again"), "{err}");
    assert_eq!(sql(&new, "COPY INTO \"disk\"").len(), 1, "no retry");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("1 empty, 0 done before, 0 expired, 0 mismatched, 1 failed"),
        "{stdout}"
    );

    // The next run (the fault was once) imports what attempt 1 exported, without exporting
    // again.
    let exports = sql(&old, "COPY");
    let again = copy(&old, &new, &path).output().unwrap();
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(sql(&old, "COPY"), exports);
    let imports = sql(&new, "COPY INTO \"disk\"");
    assert_eq!(imports.len(), 2);
    assert!(
        sql_server::runless(&imports[1]).contains("/disk/min_max-1-RUN/'"),
        "{imports:?}"
    );
    assert_eq!(new.rows("t2", "metrics", "disk"), Some(10));
}

#[test]
fn a_5xx_count_and_a_slow_import_are_retried() {
    let (old, new) = nodes(
        vec![],
        [
            fault("AS last FROM \"disk\"", 2, FaultKind::Status(503)),
            fault(
                "COPY INTO \"disk\"",
                1,
                FaultKind::Slow(Duration::from_secs(3)),
            ),
        ]
        .concat(),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.jsonl");
    let out = copy(&old, &new, &path)
        .args(["--timeout", "1"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("HTTP 503, error 050001"), "{err}");
    // The timed-out import was sent again from the same location; nothing exported twice.
    let imports = sql(&new, "COPY INTO \"disk\"");
    assert!(imports.len() >= 2, "{imports:?}");
    assert!(imports.iter().all(|i| *i == imports[0]), "{imports:?}");
    assert_eq!(
        sql(&old, "COPY INTO 'file:///copy/t2/metrics/disk/").len(),
        1
    );
    // The chunk's count, twice refused, then answered; it is also the table's new side.
    let counts = sql(&new, "SELECT count(*) AS n");
    assert_eq!(counts.len(), 3, "{counts:?}");
    assert!(
        counts.iter().all(|c| c.contains("FROM \"disk\"")),
        "{counts:?}"
    );
    assert_eq!(new.rows("t2", "metrics", "disk"), Some(10));
}

#[test]
fn tables_that_differ_stop_the_copy_before_it_starts() {
    let fs = Fs::default();
    let old = FakeNode::start(
        NodeConfig {
            tables: tables(),
            ..NodeConfig::default()
        },
        fs.clone(),
    );
    let mut new_tables: std::collections::BTreeMap<TableKey, u64> =
        tables().into_keys().map(|k| (k, 0)).collect();
    new_tables.remove(&("t2".into(), "metrics".into(), "empty".into()));
    let new = FakeNode::start(
        NodeConfig {
            tables: new_tables,
            field_types: [("disk".to_string(), "BIGINT".to_string())].into(),
            ..NodeConfig::default()
        },
        fs,
    );
    let (code, err) = copy_once(&old, &new);
    assert_eq!(code, Some(4), "{err}");
    assert!(
        err.contains("table t2.metrics.disk: column v is DOUBLE FIELD on http://")
            && err.contains("but BIGINT FIELD on http://"),
        "{err}"
    );
    assert!(
        err.contains("table t2.metrics.empty: missing on http://"),
        "{err}"
    );
    assert!(err.contains("2 differences between the tables"), "{err}");
    assert!(
        sql(&old, "COPY").is_empty() && sql(&new, "COPY").is_empty(),
        "nothing copied"
    );
}

#[test]
fn rows_the_new_node_holds_of_its_own_are_not_a_mismatch() {
    // Seen on real 2.4 servers: rows written into the new cluster before the copy (probes,
    // writers already moved) are counted in the chunk's range too.
    let fs = Fs::default();
    let old = FakeNode::start(
        NodeConfig {
            tables: tables(),
            ..NodeConfig::default()
        },
        fs.clone(),
    );
    let mut own: std::collections::BTreeMap<TableKey, u64> =
        tables().into_keys().map(|k| (k, 0)).collect();
    own.insert(("t2".into(), "metrics".into(), "disk".into()), 4);
    let new = FakeNode::start(
        NodeConfig {
            tables: own,
            ..NodeConfig::default()
        },
        fs,
    );
    let (code, err) = copy_once(&old, &new);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("warning: table t2.metrics.disk, chunk min_max: the new node counts 14 rows in the range, 4 more than copied"),
        "{err}"
    );
    assert_eq!(new.rows("t2", "metrics", "disk"), Some(14));
}

/// Spawns the copy, waits until the ledger records `step` for table `disk` and 500 ms more
/// (the next statement is then in flight), then sends each signal (200 ms apart); the exit code, stderr and how long the exit took after the last
/// signal.
fn interrupt(
    old: &FakeNode,
    new: &FakeNode,
    ledger_path: &Path,
    step: &str,
    signals: &[&str],
) -> (Option<i32>, String, Duration) {
    let child = copy_process(old, new, ledger_path)
        .args(["--parallel", "1"])
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let want =
        format!("\"table\":\"disk\",\"chunk\":\"min_max\",\"attempt\":1,\"step\":\"{step}\"");
    let start = Instant::now();
    while !std::fs::read_to_string(ledger_path)
        .unwrap_or_default()
        .contains(&want)
    {
        assert!(start.elapsed() < Duration::from_secs(30), "no {step} line");
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(500));
    for (i, signal) in signals.iter().enumerate() {
        if i > 0 {
            std::thread::sleep(Duration::from_millis(200));
        }
        let pid = child.id().to_string();
        let sent = std::process::Command::new("kill")
            .args([*signal, pid.as_str()])
            .status();
        assert!(sent.unwrap().success());
    }
    let signalled = Instant::now();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code(), err, signalled.elapsed())
}

#[test]
fn ctrl_c_lets_the_statement_in_flight_finish_and_a_rerun_goes_on() {
    // The import of `disk` takes 3 s; SIGINT arrives while it runs.
    let slow = FaultKind::Slow(Duration::from_secs(3));
    let (old, new) = nodes(vec![], fault("COPY INTO \"disk\"", 1, slow));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.jsonl");
    let (code, err, _) = interrupt(&old, &new, &path, "exported", &["-INT"]);
    assert_eq!(code, Some(130), "{err}");
    assert!(err.contains("stopping: no new chunk is started"), "{err}");
    assert!(
        err.contains("stopped: 2 of 2 chunks left to copy; run the same command again"),
        "{err}"
    );
    // The import finished and is in the ledger; nothing else was started.
    let steps: Vec<String> = ledger(&path)
        .iter()
        .map(|l| {
            format!(
                "{}:{}",
                l["table"].as_str().unwrap(),
                l["step"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(steps, ["disk:planned", "disk:exported", "disk:imported"]);
    assert!(sql(&old, "COPY INTO 'file:///copy/t2/metrics/empty").is_empty());

    // The rerun counts `disk` (no new export or import) and copies `empty`.
    let out = copy(&old, &new, &path).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(sql(&new, "COPY INTO \"disk\"").len(), 1);
    assert_eq!(
        sql(&old, "COPY INTO 'file:///copy/t2/metrics/disk").len(),
        1
    );
    assert_eq!(new.rows("t2", "metrics", "disk"), Some(10));
}

#[test]
fn a_second_signal_exits_at_once() {
    // SIGTERM stops as Ctrl-C does; a second signal does not wait for the 6 s import.
    let slow = FaultKind::Slow(Duration::from_secs(6));
    let (old, new) = nodes(vec![], fault("COPY INTO \"disk\"", 1, slow));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.jsonl");
    let (code, err, took) = interrupt(&old, &new, &path, "exported", &["-TERM", "-INT"]);
    assert_eq!(code, Some(130), "{err}");
    assert!(err.contains("interrupted again: exiting now"), "{err}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    // The rerun imports from the recorded location, without exporting again.
    let out = copy(&old, &new, &path).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        sql(&old, "COPY INTO 'file:///copy/t2/metrics/disk").len(),
        1
    );
    assert_eq!(new.rows("t2", "metrics", "disk"), Some(10));
}

#[test]
fn the_old_side_is_compared_while_the_new_node_imports() {
    let slow = Duration::from_secs(2);
    let (old, new) = nodes(
        vec![],
        fault("COPY INTO \"disk\"", 1, FaultKind::Slow(slow)),
    );
    let (code, err) = copy_once(&old, &new);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("2 tables compared on both nodes"), "{err}");
    let extent = |node: &FakeNode| {
        let found = node.requests().into_iter().find(|r| {
            r.sql.starts_with("SELECT count(*) AS n, CAST(min(time)") && r.sql.contains("\"disk\"")
        });
        found.map(|r| r.at).expect("disk compared")
    };
    let import = (new.requests().into_iter())
        .find(|r| r.sql.starts_with("COPY INTO \"disk\""))
        .map(|r| r.at)
        .expect("disk imported");
    // The old node's side once disk is exported: while its import still runs; the new
    // node's once it is verified.
    assert!(
        extent(&old) < import + slow / 2,
        "the old side waited for the import"
    );
    assert!(extent(&new) >= import + slow);
}

#[test]
fn imports_wait_for_each_other_when_asked_to() {
    // Two tables with rows, so two imports; each answers after `slow`. With `--imports 1` the
    // second import waits for the first (the other worker's export ran meanwhile); by
    // default (as many as `--parallel`) both run at once.
    let slow = Duration::from_millis(800);
    for (imports, one_at_a_time) in [(Some("1"), true), (None, false)] {
        let fs = Fs::default();
        let rows = |n: u64| -> std::collections::BTreeMap<TableKey, u64> {
            tables().into_keys().map(|k| (k, n)).collect()
        };
        let old = FakeNode::start(
            NodeConfig {
                tables: rows(5),
                ..NodeConfig::default()
            },
            fs.clone(),
        );
        let new = FakeNode::start(
            NodeConfig {
                tables: rows(0),
                faults: fault("COPY INTO \"", 2, FaultKind::Slow(slow)),
                ..NodeConfig::default()
            },
            fs,
        );
        let dir = tempfile::tempdir().unwrap();
        let out = copy(&old, &new, &dir.path().join("ledger.jsonl"))
            .args(["--parallel", "2"])
            .args(imports.map(|n| ["--imports", n]).into_iter().flatten())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "--imports {imports:?}: {err}");
        let mut imports: Vec<Instant> = (new.requests().into_iter())
            .filter(|r| r.sql.starts_with("COPY INTO \""))
            .map(|r| r.at)
            .collect();
        imports.sort();
        let [first, second] = imports[..] else {
            panic!("two imports expected: {imports:?}")
        };
        if one_at_a_time {
            assert!(
                second >= first + slow,
                "--imports 1: the imports overlapped"
            );
        } else {
            assert!(
                second < first + slow / 2,
                "by default: one import after the other"
            );
        }
    }
}
