//! `check` through the real binary: one fixture per problem class, clean transform outputs,
//! text and JSON snapshots.

use std::path::Path;

use assert_cmd::Command;

fn bin() -> Command {
    Command::cargo_bin("cnosdb-migrate").unwrap()
}

/// `(fixture, line, code)`: the first problem `check --target 2.4.3` must report.
const CASES: &[(&str, u64, &str)] = &[
    // not restore-ready text
    ("invalid-utf8.txt", 1, "invalid-utf8"),
    ("crlf.txt", 2, "crlf"),
    ("nul.txt", 2, "nul"),
    ("debug-frame.txt", 1, "debug-frame"),
    ("debug-prefix.txt", 3, "debug-prefix"),
    ("no-separator.txt", 4, "no-separator"),
    ("empty-key.txt", 2, "empty-key"),
    ("key-without-slash.txt", 3, "key-without-slash"),
    ("blank-line.txt", 3, "blank-line"),
    ("invisible-name.txt", 4, "invisible-name"),
    ("duplicate-key.txt", 5, "duplicate-key"),
    // keys that must not move
    ("drop-global.txt", 6, "drop.global"),
    ("drop-auto-incr-id.txt", 1, "drop.auto-incr-id"),
    ("drop-data-node.txt", 1, "drop.data-node"),
    ("drop-bucket.txt", 3, "drop.bucket"),
    ("drop-resource-info.txt", 1, "drop.resource-info"),
    ("drop-query.txt", 1, "drop.query"),
    // records the target cannot read
    ("missing-field.txt", 3, "missing-field"),
    ("wrong-type.txt", 1, "wrong-type"),
    ("not-json.txt", 4, "not-json"),
    ("old-name-password.txt", 4, "old-field-name"),
    ("old-name-is-admin.txt", 4, "old-field-name"),
    ("old-name-schema-id.txt", 3, "old-field-name"),
    ("unknown-field-tskv.txt", 3, "unknown-field"),
    ("tenant-other-release.txt", 1, "other-release-shape"),
    ("database-other-release.txt", 2, "other-release-shape"),
    ("bucket-without-leader.txt", 3, "bucket-without-leader"),
    // records the target reads but that will hurt
    ("plaintext-password.txt", 4, "plaintext-password"),
    ("orphan-member.txt", 6, "orphan-member"),
    ("missing-role.txt", 5, "missing-role"),
    ("orphan-table.txt", 4, "orphan-table"),
    ("system-db.txt", 4, "system-db"),
    ("root-without-password.txt", 6, "root-without-password"),
    ("must-change-password.txt", 4, "must-change-password"),
];

fn fixture(name: &str) -> String {
    format!("fixtures/check/{name}")
}

#[test]
fn every_class_has_a_failing_fixture() {
    let listed: Vec<&str> = CASES.iter().map(|c| c.0).collect();
    for entry in std::fs::read_dir("fixtures/check").unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".txt") {
            assert!(listed.contains(&name.as_str()), "{name} has no case");
        }
    }
    for (file, line, code) in CASES {
        let out = bin()
            .args(["check", "--target", "2.4.3", &fixture(file)])
            .assert()
            .code(1)
            .get_output()
            .stdout
            .clone();
        let text = String::from_utf8(out).unwrap();
        let first = text.lines().next().unwrap();
        assert!(
            first.starts_with(&format!("line {line} [{code}] ")),
            "{file}: {first}"
        );
        assert!(
            text.contains("NOT safe to restore into CnosDB 2.4.3"),
            "{file}"
        );
    }
}

#[test]
fn json_lines_name_line_class_and_code() {
    for (file, line, code) in CASES {
        let out = bin()
            .args(["check", "--json", "--target", "2.4.3", &fixture(file)])
            .assert()
            .code(1)
            .get_output()
            .stdout
            .clone();
        let lines: Vec<serde_json::Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["line"], *line, "{file}");
        assert_eq!(lines[0]["code"], *code, "{file}");
        let summary = lines.last().unwrap();
        assert_eq!(summary["summary"], true);
        assert_eq!(summary["ok"], false);
        assert_eq!(summary["problems"], lines.len() - 1);
    }
}

#[test]
fn must_change_password_hurts_from_2_4_1_on() {
    // The fixture is in the 2.4.2+ shape; a real 2.4.1 already refuses such a user's statements
    // (2.4.0 and 2.4.0.1 do not enforce the flag).
    for t in ["2.4.2", "2.4.2.1", "2.4.3"] {
        bin()
            .args(["check", "--target", t, &fixture("must-change-password.txt")])
            .assert()
            .code(1)
            .stdout(predicates::str::contains("[must-change-password]"));
    }
}

#[test]
fn transform_output_passes_check_for_every_fixture_and_target() {
    let targets = ["2.4.0", "2.4.0.1", "2.4.1", "2.4.2", "2.4.2.1", "2.4.3"];
    let inputs = [
        "fixtures/v2.3/small.dump.txt",
        "fixtures/v2.3/full.dump.txt",
        "fixtures/v2.3/full.debug.txt",
        "fixtures/bad/crlf.txt",
    ];
    for t in targets {
        for input in inputs {
            let out = bin()
                .args(["transform", "-q", "--target", t, input])
                .assert()
                .success()
                .get_output()
                .stdout
                .clone();
            let checked = bin()
                .args(["check", "--target", t, "-"])
                .write_stdin(out)
                .assert()
                .get_output()
                .clone();
            assert_eq!(
                checked.status.code(),
                Some(0),
                "{input} for {t}:\n{}",
                String::from_utf8_lossy(&checked.stdout)
            );
        }
    }
}

#[test]
fn the_check_sha256_is_the_report_output_sha256() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("restore.txt");
    let report = dir.path().join("report.jsonl");
    bin()
        .args(["transform", "-q", "--target", "2.4.3", "-o"])
        .arg(&out)
        .arg("--report")
        .arg(&report)
        .arg("fixtures/v2.3/full.dump.txt")
        .assert()
        .success();
    let report = std::fs::read_to_string(report).unwrap();
    let summary: serde_json::Value = serde_json::from_str(report.lines().last().unwrap()).unwrap();
    let checked = bin()
        .args(["check", "--json", "--target", "2.4.3"])
        .arg(&out)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let checked: serde_json::Value = serde_json::from_slice(&checked).unwrap();
    assert_eq!(checked["sha256"], summary["output_sha256"]);
    assert_eq!(checked["ok"], true);
}

#[test]
fn target_from_a_fresh_dump() {
    let fresh = "fixtures/real/v2.4.3.4-debug-fresh.txt";
    let out = bin()
        .args([
            "transform",
            "-q",
            "--target",
            "2.4.3",
            "fixtures/v2.3/small.dump.txt",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    bin()
        .args(["check", "--target-from", fresh, "-"])
        .write_stdin(out)
        .assert()
        .success()
        .stderr(predicates::str::contains(
            "written by CnosDB 2.4.3: target 2.4.3",
        ));
    bin()
        .args(["check", "--target-from", "fixtures/v2.3/small.dump.txt"])
        .arg(fixture("crlf.txt"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("not by a 2.4 release"));
}

fn snapshot_of(args: &[&str]) -> String {
    let out = bin().args(args).output().unwrap();
    format!(
        "exit {}\n{}",
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap()
    )
}

#[test]
fn snapshots() {
    assert!(Path::new("fixtures/v2.3/small.dump.txt").exists());
    insta::assert_snapshot!(
        "audit_check_small_2_3_text",
        snapshot_of(&["check", "--target", "2.4.3", "fixtures/v2.3/small.dump.txt"])
    );
    insta::assert_snapshot!(
        "audit_check_small_2_3_json",
        snapshot_of(&[
            "check",
            "--json",
            "--target",
            "2.4.1",
            "fixtures/v2.3/small.dump.txt"
        ])
    );
    insta::assert_snapshot!(
        "audit_check_clean_text",
        snapshot_of(&[
            "check",
            "--target",
            "2.4.3",
            "fixtures/expected/small.2.4.3.txt"
        ])
    );
    insta::assert_snapshot!(
        "audit_check_clean_json",
        snapshot_of(&[
            "check",
            "--json",
            "--target",
            "2.4.0",
            "fixtures/expected/small.2.4.0.txt"
        ])
    );
}

#[test]
fn target_from_checks_the_cluster_name() {
    let fresh = "fixtures/real/v2.4.3.4-dump-fresh.txt";
    let renamed = bin()
        .args([
            "transform",
            "-q",
            "--target-from",
            fresh,
            "--rename-cluster",
            "prod",
        ])
        .arg("fixtures/v2.3/small.dump.txt")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    bin()
        .args(["check", "--target-from", fresh, "-"])
        .write_stdin(renamed)
        .assert()
        .code(1)
        .stdout(predicates::str::contains(
            "line 1 [other-cluster] /prod/tenants/cnosdb: cluster `prod` is not the target's `cluster_xxx`",
        ));
}
