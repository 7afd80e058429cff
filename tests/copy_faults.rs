//! `copy` against stand-in data nodes that fail the way a real server does only by accident:
//! no answer within the time limit, an error status on one chunk, a 5xx.

#[path = "support/sql_server.rs"]
mod sql_server;

use std::path::Path;
use std::time::Duration;

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
    let mut cmd = Command::cargo_bin("cnosdb-migrate").unwrap();
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
    assert!(exports[0].contains("/min_max-1'") && exports[1].contains("/min_max-2'"));
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
    assert!(imports[1].contains("/disk/min_max-1/'"), "{imports:?}");
    assert_eq!(new.rows("t2", "metrics", "disk"), Some(10));
}

#[test]
fn a_5xx_count_and_a_slow_import_are_retried() {
    let (old, new) = nodes(
        vec![],
        [
            fault("SELECT count(*) FROM \"disk\"", 2, FaultKind::Status(503)),
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
    assert_eq!(sql(&new, "SELECT count(*) FROM \"disk\"").len(), 3);
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
    let dir = tempfile::tempdir().unwrap();
    let out = copy(&old, &new, &dir.path().join("ledger.jsonl"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
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
    let dir = tempfile::tempdir().unwrap();
    let out = copy(&old, &new, &dir.path().join("ledger.jsonl"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("warning: table t2.metrics.disk, chunk min_max: the new node counts 14 rows in the range, 4 more than copied"),
        "{err}"
    );
    assert_eq!(new.rows("t2", "metrics", "disk"), Some(14));
}
