//! `copy` against fake data nodes on 127.0.0.1 (tests/support/sql_server.rs).

use crate::sql_server;

use std::collections::BTreeMap;
use std::path::Path;

use assert_cmd::Command;
use sql_server::{FakeNode, Fs, NodeConfig, TableKey};

const DUMP: &str = "fixtures/copy/dump.txt";

/// The fixture's TSKV tables and the rows the old node holds.
fn source_tables() -> BTreeMap<TableKey, u64> {
    [
        ("cnosdb", "public", "air", 100),
        ("cnosdb", "usage_schema", "vnode_disk_storage", 7),
        ("t1", "db1", "Weird \"Name\"", 3),
        ("t1", "db1", "cpu", 50),
        ("t1", "db1", "o'clock", 2),
        ("t1", "my db", "mem", 20),
        ("t2", "metrics", "disk", 10),
        ("t2", "metrics", "empty", 0),
    ]
    .into_iter()
    .map(|(t, d, x, n)| ((t.to_string(), d.to_string(), x.to_string()), n))
    .collect()
}

/// An old node with rows and a new node with the same (empty) tables, sharing a directory.
fn nodes(old: NodeConfig, new: NodeConfig) -> (FakeNode, FakeNode) {
    let fs = Fs::default();
    let old = FakeNode::start(
        NodeConfig {
            tables: source_tables(),
            ..old
        },
        fs.clone(),
    );
    let new = FakeNode::start(
        NodeConfig {
            tables: source_tables().into_keys().map(|k| (k, 0)).collect(),
            ..new
        },
        fs,
    );
    (old, new)
}

fn copy(old: &FakeNode, new: &FakeNode) -> Command {
    let mut cmd = Command::cargo_bin("cnosdb-migrate").unwrap();
    cmd.args(["copy", DUMP, "--from", &old.url, "--to", &new.url])
        .args(["--dir", "file:///copy/", "--password-env", "CNOSDB_TEST_PW"])
        .env("CNOSDB_TEST_PW", "secret");
    cmd
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The final table printed on stdout.
fn summary(out: &std::process::Output) -> String {
    stdout(out)
}

/// The statements a node received that start with `prefix`.
fn sql(node: &FakeNode, prefix: &str) -> Vec<String> {
    node.requests()
        .into_iter()
        .map(|r| r.sql)
        .filter(|s| s.starts_with(prefix))
        .collect()
}

/// The ledger's lines.
fn ledger(path: &Path) -> Vec<serde_json::Value> {
    report(path)
}

/// The lines of one step.
fn steps<'a>(lines: &'a [serde_json::Value], step: &str) -> Vec<&'a serde_json::Value> {
    lines.iter().filter(|l| l["step"] == step).collect()
}

fn report(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn full_copy_moves_every_row_and_reports_it() {
    let (old, new) = nodes(NodeConfig::default(), NodeConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let report_path = dir.path().join("report.jsonl");
    let out = copy(&old, &new)
        .arg("--report")
        .arg(&report_path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for ((t, d, x), rows) in source_tables() {
        let expected = if d == "usage_schema" { 0 } else { rows };
        assert_eq!(new.rows(&t, &d, &x), Some(expected), "{t}.{d}.{x}");
    }
    insta::assert_snapshot!("full_copy_summary", summary(&out));
    let report = report(&report_path);
    assert_eq!(report.len(), 7);
    let weird = &report[1];
    assert_eq!(
        (
            &weird["table"],
            &weird["exported"],
            &weird["imported"],
            &weird["status"]
        ),
        (
            &serde_json::json!("Weird \"Name\""),
            &serde_json::json!(3),
            &serde_json::json!(3),
            &serde_json::json!("copied")
        )
    );
    // A database without buckets in the dump is one chunk of every time; cnosdb.public has
    // one bucket: that chunk, and an open one after it for rows written since the dump.
    assert_eq!(weird["chunks"][0]["chunk"], "min_max");
    assert_eq!(weird["chunks"][0]["counted"], 3);
    let air: Vec<&serde_json::Value> = report[0]["chunks"].as_array().unwrap().iter().collect();
    assert_eq!(air.len(), 2);
    assert_eq!(
        (&air[0]["status"], &air[1]["status"], &air[1]["end"]),
        (
            &serde_json::json!("copied"),
            &serde_json::json!("empty"),
            &serde_json::Value::Null
        )
    );
    assert_eq!(report[6]["status"], "empty");
    // Every statement went to the table's tenant and database; the empty table was not
    // imported; each import was followed by a count of the chunk.
    let imports: Vec<_> = new
        .requests()
        .into_iter()
        .filter(|r| r.sql.starts_with("COPY"))
        .collect();
    assert_eq!(imports.len(), 6);
    // Before any copy, each table was described on both nodes.
    assert_eq!(sql(&new, "DESCRIBE TABLE ").len(), 7);
    // Each import was followed by a count of its chunk (rows, first and last time); after the
    // chunks, each table was compared: on the old node by a statement, on the new one by
    // those counts (every chunk was counted in this run), with no second scan.
    assert_eq!(sql(&new, "SELECT count(*) AS n").len(), 6);
    assert_eq!(sql(&old, "SELECT count(*) AS n").len(), 7);
    assert_eq!(new.requests().len(), 7 + 12);
    assert_eq!(weird["compared"]["verdict"], "equal");
    assert_eq!(weird["compared"]["new"]["rows"], 3);
    assert_eq!(report[6]["compared"]["old"]["rows"], 0);
    assert!(
        stderr(&out)
            .contains("7 tables compared on both nodes (rows, first and last time): 7 equal"),
        "{}",
        stderr(&out)
    );
    assert!(imports
        .iter()
        .any(|r| r.tenant == "t1" && r.db == "my db" && r.sql.starts_with("COPY INTO \"mem\"")));
}

#[test]
fn csv_answers_and_parallel_workers_give_the_same_result() {
    let csv = NodeConfig {
        csv_always: true,
        ..NodeConfig::default()
    };
    let (old, new) = nodes(csv.clone(), csv);
    let out = copy(&old, &new)
        .args(["--parallel", "4", "-q"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    insta::assert_snapshot!("full_copy_summary", summary(&out));
    assert_eq!(new.rows("t1", "db1", "cpu"), Some(50));
}

#[test]
fn a_count_mismatch_exits_4_and_names_the_table() {
    let lossy = NodeConfig {
        drop_rows: 1,
        ..NodeConfig::default()
    };
    let (old, new) = nodes(NodeConfig::default(), lossy);
    let dir = tempfile::tempdir().unwrap();
    let report_path = dir.path().join("report.jsonl");
    let out = copy(&old, &new)
        .args(["--include-tenant", "t2", "--report"])
        .arg(&report_path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    insta::assert_snapshot!("mismatch_summary", summary(&out));
    let err = stderr(&out);
    // Re-copied once into a new location, then reported.
    assert!(
        err.contains("table t2.metrics.disk, chunk min_max: exported 10 rows from")
            && err.contains("imported 9 into")
            && err.contains(
                "which counts 9 in the chunk's time range (at least 10 expected); trying again"
            )
            && err.contains("which counts 18 in the chunk's time range (at least 10 expected)\n"),
        "{err}"
    );
    let report = report(&report_path);
    assert_eq!(report[0]["status"], "mismatch");
    assert_eq!(report[0]["chunks"][0]["attempt"], 2);
    assert_eq!(report[1]["status"], "empty");
}

#[test]
fn a_failure_midway_then_the_resume_copies_only_what_is_left() {
    let (old, new) = nodes(
        NodeConfig {
            fail_table: Some("cpu".into()),
            ..NodeConfig::default()
        },
        NodeConfig::default(),
    );
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.jsonl");
    let first = copy(&old, &new)
        .arg("--state")
        .arg(&state)
        .output()
        .unwrap();
    assert_eq!(first.status.code(), Some(4));
    insta::assert_snapshot!("failure_summary", summary(&first));
    let err = sql_server::runless(&stderr(&first));
    assert!(
        err.contains("table t1.db1.cpu, chunk min_max: export on http://127.0.0.1:")
            && err.contains("/api/v1/sql?tenant=t1&db=db1 failed: HTTP 422, error 010001: \
                             Datafusion: Execution error: failed to scan cpu; statement: \
                             COPY INTO 'file:///copy/t1/db1/cpu/min_max-1-RUN' FROM \"cpu\" FILE_FORMAT = (TYPE = 'PARQUET');"),
        "{err}"
    );
    assert!(err.contains("run the same command again"), "{err}");
    let recorded = ledger(&state);
    // Every chunk but cpu's verified (air has two); cpu's attempt 1 only planned.
    assert_eq!(steps(&recorded, "verified").len(), 7, "{recorded:?}");
    let cpu: Vec<_> = recorded.iter().filter(|l| l["table"] == "cpu").collect();
    assert_eq!(cpu.len(), 1);
    assert_eq!(
        (&cpu[0]["step"], &cpu[0]["attempt"]),
        (&"planned".into(), &1.into())
    );

    old.set_fail_table(None);
    let before = sql(&old, "COPY").len();
    let second = copy(&old, &new)
        .arg("--state")
        .arg(&state)
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    insta::assert_snapshot!("resume_summary", summary(&second));
    let again: Vec<_> = sql(&old, "COPY").split_off(before);
    assert_eq!(again.len(), 1);
    // A new attempt, in a new location: whatever the failed one left is not read.
    assert!(sql_server::runless(&again[0])
        .contains("'file:///copy/t1/db1/cpu/min_max-2-RUN' FROM \"cpu\""));
    assert_eq!(new.rows("t1", "db1", "cpu"), Some(50));
    assert_eq!(
        new.rows("cnosdb", "public", "air"),
        Some(100),
        "not imported twice"
    );
    assert_eq!(steps(&ledger(&state), "verified").len(), 8);

    // Everything done: a third run sends nothing.
    let before = sql(&old, "COPY").len() + sql(&new, "COPY").len();
    let third = copy(&old, &new)
        .arg("--state")
        .arg(&state)
        .output()
        .unwrap();
    assert_eq!(third.status.code(), Some(0));
    assert_eq!(sql(&old, "COPY").len() + sql(&new, "COPY").len(), before);
}

#[test]
fn after_a_failed_import_the_resume_imports_without_exporting_again() {
    let (old, new) = nodes(
        NodeConfig::default(),
        NodeConfig {
            fail_table: Some("disk".into()),
            ..NodeConfig::default()
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.jsonl");
    let first = copy(&old, &new)
        .args(["--include-tenant", "t2", "--state"])
        .arg(&state)
        .output()
        .unwrap();
    assert_eq!(first.status.code(), Some(4));
    assert!(
        stderr(&first)
            .contains("table t2.metrics.disk, chunk min_max: import on http://127.0.0.1:"),
        "{}",
        stderr(&first)
    );

    new.set_fail_table(None);
    let exports = sql(&old, "COPY").len();
    let dry = copy(&old, &new)
        .args(["--include-tenant", "t2", "--dry-run", "--state"])
        .arg(&state)
        .output()
        .unwrap();
    assert!(
        stdout(&dry).contains("-- exported before (10 rows) according to the ledger: import only"),
        "{}",
        stdout(&dry)
    );
    let second = copy(&old, &new)
        .args(["--include-tenant", "t2", "--state"])
        .arg(&state)
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    assert_eq!(sql(&old, "COPY").len(), exports, "no second export");
    assert_eq!(new.rows("t2", "metrics", "disk"), Some(10));
    insta::assert_snapshot!("resume_after_import_failure", summary(&second));
}

#[test]
fn without_a_state_file_a_rerun_exports_into_new_directories() {
    let (old, new) = nodes(
        NodeConfig::default(),
        NodeConfig {
            fail_table: Some("disk".into()),
            ..NodeConfig::default()
        },
    );
    let args = ["--include-table", "t2.metrics.disk"];
    assert_eq!(
        copy(&old, &new).args(args).output().unwrap().status.code(),
        Some(4)
    );
    new.set_fail_table(None);
    let again = copy(&old, &new).args(args).output().unwrap();
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert_eq!(new.rows("t2", "metrics", "disk"), Some(10));
    let exports: Vec<String> = sql(&old, "COPY");
    assert_eq!(exports.len(), 2);
    assert_ne!(exports[0], exports[1], "each run has its own location");
}

#[test]
fn ledger_records_of_other_nodes_and_cut_lines_do_not_count() {
    let (old, new) = nodes(NodeConfig::default(), NodeConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.jsonl");
    let record = |to: &str| {
        format!(
            "{{\"to\":\"{to}\",\"tenant\":\"t2\",\"database\":\"metrics\",\"table\":\"disk\",\
             \"chunk\":\"min_max\",\"attempt\":1,\"step\":\"verified\",\
             \"location\":\"file:///copy/t2/metrics/disk/min_max-1\",\"rows\":10}}\n"
        )
    };
    // A record for another node does not count; a line cut short is not a record.
    let text = record("http://elsewhere:8902") + &record(&new.url) + "{\"to\":\"t2\",\"data";
    std::fs::write(&state, text).unwrap();
    let out = copy(&old, &new)
        .args(["--include-tenant", "t2", "--state"])
        .arg(&state)
        .output()
        .unwrap();
    assert_eq!(
        new.rows("t2", "metrics", "disk"),
        Some(0),
        "skipped: verified before"
    );
    // The ledger said so, but the tables compared on both nodes afterwards disagree.
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("table t2.metrics.disk: 10 rows on the old node, 0 on the new"),
        "{}",
        stderr(&out)
    );
    let text = std::fs::read_to_string(&state).unwrap();
    // The cut line is gone; the empty table's chunk: planned, exported (0), verified.
    assert_eq!(text.lines().count(), 5, "{text}");
    assert!(
        sql_server::runless(&text).ends_with("\"step\":\"verified\",\"location\":\"file:///copy/t2/metrics/empty/min_max-1-RUN\",\"rows\":0}\n"),
        "{text}"
    );
    let again = copy(&old, &new)
        .args(["--include-tenant", "t2", "--verify", "none", "--state"])
        .arg(&state)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));

    // Only a record for another node: the table is copied.
    std::fs::write(&state, record("http://elsewhere:8902")).unwrap();
    let out = copy(&old, &new)
        .args(["--include-table", "t2.metrics.disk", "--state"])
        .arg(&state)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(new.rows("t2", "metrics", "disk"), Some(10));

    std::fs::write(&state, "not json\n{}\n").unwrap();
    let bad = copy(&old, &new)
        .arg("--state")
        .arg(&state)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("line 1"), "{}", stderr(&bad));

    // The table-level state file of an earlier release is refused, not misread.
    std::fs::write(
        &state,
        "{\"tenant\":\"t2\",\"database\":\"metrics\",\"table\":\"disk\",\"exported\":10,\
         \"imported\":10,\"status\":\"copied\",\"to\":\"http://x\"}\n",
    )
    .unwrap();
    let old_format = copy(&old, &new)
        .arg("--state")
        .arg(&state)
        .output()
        .unwrap();
    assert_eq!(old_format.status.code(), Some(1));
    assert!(
        stderr(&old_format).contains("a table-level state file of an earlier cnosdb-migrate"),
        "{}",
        stderr(&old_format)
    );
}

#[test]
fn filters_choose_the_tables() {
    let (old, new) = nodes(NodeConfig::default(), NodeConfig::default());
    let out = copy(&old, &new)
        .args(["--include-tenant", "t1", "--exclude-db", "t1.my db"])
        .args(["--exclude-table", "t1.db1.o'clock"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let tables: Vec<String> = sql(&old, "COPY");
    assert_eq!(tables.len(), 2, "{tables:?}");
    // Two workers: the exports may come in either order.
    let exported = |from: &str| tables.iter().any(|t| t.contains(from));
    assert!(exported("FROM \"Weird \"\"Name\"\"\""), "{tables:?}");
    assert!(exported("FROM \"cpu\""), "{tables:?}");

    let (old, new) = nodes(NodeConfig::default(), NodeConfig::default());
    let out = copy(&old, &new)
        .args([
            "--include-system",
            "--include-table",
            "cnosdb.usage_schema.vnode_disk_storage",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        new.rows("cnosdb", "usage_schema", "vnode_disk_storage"),
        Some(7)
    );
    assert_eq!(sql(&old, "COPY").len(), 1);
}

#[test]
fn auth_is_sent_and_a_refusal_is_reported() {
    let (old, new) = nodes(NodeConfig::default(), NodeConfig::default());
    let out = copy(&old, &new)
        .env("CNOSDB_TEST_PW", "wrong")
        .args(["--include-tenant", "t2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stderr(&out).contains("HTTP 422, error 010016: Auth error: Access denied for user 'root'"),
        "{}",
        stderr(&out)
    );

    // A different account on the new node.
    let (old, new) = nodes(
        NodeConfig::default(),
        NodeConfig {
            user: "admin".into(),
            password: "other".into(),
            ..NodeConfig::default()
        },
    );
    let out = copy(&old, &new)
        .args(["--include-tenant", "t2", "--to-user", "admin"])
        .args(["--to-password-env", "CNOSDB_TEST_PW2"])
        .env("CNOSDB_TEST_PW2", "other")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn no_password_without_a_terminal_is_a_usage_error() {
    let (old, new) = nodes(NodeConfig::default(), NodeConfig::default());
    let out = Command::cargo_bin("cnosdb-migrate")
        .unwrap()
        .args([
            "copy",
            DUMP,
            "--from",
            &old.url,
            "--to",
            &new.url,
            "--dir",
            "file:///c",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--password-env VAR"),
        "{}",
        stderr(&out)
    );
    let out = copy(&old, &new)
        .env_remove("CNOSDB_TEST_PW")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(old.requests().is_empty());
}

#[test]
fn dry_run_prints_the_statements_and_sends_nothing() {
    let (old, new) = nodes(NodeConfig::default(), NodeConfig::default());
    let out = Command::cargo_bin("cnosdb-migrate")
        .unwrap()
        .args(["copy", DUMP, "--dry-run", "--include-tenant", "t1"])
        .args(["--from", "http://old:8902", "--to", "http://new:8902/"])
        .args(["--dir", "file:///copy", "--format", "csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    insta::assert_snapshot!("dry_run", sql_server::runless(&stdout(&out)));
    assert!(old.requests().is_empty() && new.requests().is_empty());
}

/// `copy --dry-run` to an `s3://` location: `args` added, `env` the only environment.
fn s3_dry_run(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::cargo_bin("cnosdb-migrate").unwrap();
    cmd.args(["copy", DUMP, "--dry-run", "--include-tenant", "t1"])
        .args(["--from", "http://old:8902", "--to", "http://new:8902"])
        .args(args)
        .env_clear()
        .envs(env.iter().copied());
    cmd.output().unwrap()
}

#[test]
fn an_s3_location_needs_a_region_and_keys_and_never_shows_them() {
    let keys = [
        ("AWS_ACCESS_KEY_ID", "AKIDSHOWN"),
        ("AWS_SECRET_ACCESS_KEY", "SECRETSHOWN"),
    ];
    let dir = [
        "--dir",
        "s3://bkt/pre",
        "--s3-endpoint",
        "http://minio:9000",
    ];
    let out = s3_dry_run(&[&dir[..], &["--s3-region", "eu-1"]].concat(), &keys);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        text.contains(
            "CONNECTION = (region = 'eu-1', access_key_id = '***', secret_key = '***', \
             endpoint_url = 'http://minio:9000', virtual_hosted_style = false)"
        ),
        "{text}"
    );
    assert!(text.contains("COPY INTO 's3://bkt/pre/t1/"), "{text}");
    assert!(
        !text.contains("SHOWN") && !stderr(&out).contains("SHOWN"),
        "{text}"
    );

    // The region from the environment; the keys from a profile file.
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("credentials");
    std::fs::write(
        &file,
        "[mig]\naws_access_key_id = PROFILEKEY\naws_secret_access_key = x\naws_session_token = t\n",
    )
    .unwrap();
    let env = [
        ("AWS_REGION", "r1"),
        ("AWS_SHARED_CREDENTIALS_FILE", file.to_str().unwrap()),
    ];
    let out = s3_dry_run(&[&dir[..], &["--s3-profile", "mig"]].concat(), &env);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out)
        .contains("region = 'r1', access_key_id = '***', secret_key = '***', token = '***'"));
    assert!(!stdout(&out).contains("PROFILEKEY"));

    // No region, no keys, an unknown profile, s3 options for a file:// directory: usage errors.
    for (args, env, says) in [
        (&dir[..], &keys[..], "--s3-region"),
        (
            &[&dir[..], &["--s3-region", "r"]].concat()[..],
            &[][..],
            "AWS_ACCESS_KEY_ID",
        ),
        (
            &[&dir[..], &["--s3-region", "r", "--s3-profile", "none"]].concat()[..],
            &env[..],
            "no [none] section",
        ),
        (
            &["--dir", "file:///c", "--s3-region", "r"][..],
            &keys[..],
            "are for --dir s3://",
        ),
    ] {
        let out = s3_dry_run(args, env);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
    let out = Command::cargo_bin("cnosdb-migrate")
        .unwrap()
        .args(["copy-plan", DUMP, "--dir", "s3://bkt/x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("would hold the object store's keys"));
}

#[test]
fn unreachable_node_and_bad_arguments() {
    let (old, _new) = nodes(NodeConfig::default(), NodeConfig::default());
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", free.local_addr().unwrap());
    drop(free);
    let mut cmd = Command::cargo_bin("cnosdb-migrate").unwrap();
    let out = cmd
        .args([
            "copy",
            DUMP,
            "--from",
            &old.url,
            "--to",
            &dead,
            "--dir",
            "file:///c",
        ])
        .args(["--include-tenant", "t2", "--password-env", "CNOSDB_TEST_PW"])
        .env("CNOSDB_TEST_PW", "secret")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stderr(&out).contains("DESCRIBE TABLE on http://127.0.0.1:"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("no answer"), "{}", stderr(&out));

    for (flag, value) in [
        ("--dir", "/tmp/x"),
        ("--from", "https://old"),
        ("--parallel", "0"),
    ] {
        let mut args = vec![
            "copy",
            DUMP,
            "--from",
            "http://a",
            "--to",
            "http://b",
            "--dir",
            "file:///c",
            "--dry-run",
        ];
        args.extend([flag, value]);
        let out = Command::cargo_bin("cnosdb-migrate")
            .unwrap()
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{flag} {value}: {}",
            stderr(&out)
        );
    }
}

/// The fake node answers like CnosDB's SQL API (spec section 8), so the tests above mean
/// something.
#[test]
fn the_fake_node_behaves_like_the_spec() {
    let (old, new) = nodes(NodeConfig::default(), NodeConfig::default());
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let post = |node: &FakeNode, auth: Option<&str>, accept: &str, sql: &str| {
        let mut req = agent
            .post(format!("{}/api/v1/sql?tenant=t2&db=metrics", node.url))
            .header("Accept", accept);
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        let mut resp = req.send(sql).unwrap();
        let status = resp.status().as_u16();
        (status, resp.body_mut().read_to_string().unwrap())
    };
    let root = Some("Basic cm9vdDpzZWNyZXQ="); // root:secret
    let export = "COPY INTO 'file:///x/disk' FROM \"disk\" FILE_FORMAT = (TYPE = 'PARQUET');";
    let (status, body) = post(&old, None, "application/json", export);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("\"error_code\"") && body.contains("\"error_message\""));
    assert_eq!(post(&old, Some("Basic cm9vdDp4"), "", export).0, 422);
    assert_eq!(
        post(&old, root, "", export),
        (200, "rows\n10\n".to_string())
    );
    assert_eq!(
        post(&old, root, "application/json", export),
        (200, "[{\"rows\":10}]".to_string())
    );
    let no_slash = "COPY INTO \"disk\" FROM 'file:///x/disk' FILE_FORMAT = (TYPE = 'PARQUET');";
    assert_eq!(post(&new, root, "", no_slash).0, 422);
    let delimiter =
        "COPY INTO \"disk\" FROM 'file:///x/disk/' FILE_FORMAT = (TYPE = 'PARQUET', DELIMITER = ',');";
    let (status, body) = post(&new, root, "", delimiter);
    assert_eq!(status, 422);
    assert!(body.contains("specific to CSV"), "{body}");
    let import = "COPY INTO \"disk\" FROM 'file:///x/disk/' FILE_FORMAT = (TYPE = 'PARQUET');";
    assert_eq!(
        post(&new, root, "", import),
        (200, "rows\n20\n".to_string())
    );
}

#[test]
fn a_run_with_a_new_ledger_never_exports_into_an_earlier_runs_location() {
    let (old, new) = nodes(NodeConfig::default(), NodeConfig::default());
    let dir = tempfile::tempdir().unwrap();
    // Two runs into the same staging directory, each with a ledger of its own: the second
    // would read the first one's files beside its own if it exported into the same places.
    for name in ["first.jsonl", "second.jsonl"] {
        let out = copy(&old, &new)
            .arg("--state")
            .arg(dir.path().join(name))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
    }
    let exports = sql(&old, "COPY");
    let places: std::collections::BTreeSet<&String> = exports.iter().collect();
    assert_eq!(places.len(), exports.len(), "{exports:?}");
    assert_eq!(exports.len(), 2 * 8, "{exports:?}");
}
