//! `check` through the real binary: one fixture per problem class, clean transform outputs,
//! text and JSON snapshots.

use std::path::Path;

use assert_cmd::Command;

fn bin() -> Command {
    Command::cargo_bin("cnosdb-migrate").unwrap()
}

/// `(fixture, line, code, severity)`: the one problem `check --target 2.4.3 --verbose` reports
/// on the fixture (`other-cluster.txt` is checked against a fresh 2.4.3.4 dump).
const CASES: &[(&str, u64, &str, &str)] = &[
    // the text of the file
    ("invalid-utf8.txt", 1, "invalid-utf8", "lossy"),
    ("crlf.txt", 2, "crlf", "noncanonical"),
    ("nul.txt", 5, "nul", "unreadable"),
    ("debug-frame.txt", 1, "debug-frame", "noncanonical"),
    ("debug-prefix.txt", 3, "debug-prefix", "lossy"),
    ("no-separator.txt", 5, "no-separator", "lossy"),
    ("empty-key.txt", 5, "empty-key", "lossy"),
    ("key-without-slash.txt", 3, "key-without-slash", "lossy"),
    ("blank-line.txt", 3, "blank-line", "noncanonical"),
    ("invisible-name.txt", 4, "invisible-name", "lossy"),
    ("duplicate-key.txt", 5, "duplicate-key", "lossy"),
    // keys that must not move
    ("drop-global.txt", 6, "drop.global", "changed"),
    ("drop-auto-incr-id.txt", 1, "drop.auto-incr-id", "lossy"),
    ("drop-data-node.txt", 1, "drop.data-node", "lossy"),
    ("drop-bucket.txt", 3, "drop.bucket", "lossy"),
    ("drop-resource-info.txt", 1, "drop.resource-info", "changed"),
    ("drop-query.txt", 1, "drop.query", "unreadable"),
    (
        "bucket-without-leader.txt",
        3,
        "bucket-without-leader",
        "unreadable",
    ),
    // record values
    ("not-json.txt", 5, "not-json", "unreadable"),
    ("missing-field.txt", 3, "missing-field", "unreadable"),
    ("wrong-type.txt", 1, "wrong-type", "unreadable"),
    ("duplicate-field.txt", 1, "duplicate-field", "unreadable"),
    ("unknown-field-tskv.txt", 3, "unknown-field", "unreadable"),
    ("old-name-is-admin.txt", 4, "old-field-name", "unreadable"),
    ("old-name-schema-id.txt", 3, "old-field-name", "unreadable"),
    (
        "tenant-other-release.txt",
        1,
        "other-release-shape",
        "unreadable",
    ),
    (
        "database-other-release.txt",
        2,
        "other-release-shape",
        "unreadable",
    ),
    ("old-name-password.txt", 4, "lost-under-old-name", "lossy"),
    ("plaintext-password.txt", 4, "plaintext-password", "lossy"),
    ("other-cluster.txt", 1, "other-cluster", "lossy"),
    // read, but the cluster behaves differently
    (
        "must-change-password.txt",
        4,
        "must-change-password",
        "changed",
    ),
    (
        "root-without-password.txt",
        6,
        "root-without-password",
        "changed",
    ),
    ("system-db.txt", 4, "system-db", "changed"),
    ("orphan-member.txt", 6, "orphan-member", "changed"),
    ("missing-role.txt", 5, "missing-role", "changed"),
    ("orphan-table.txt", 4, "orphan-table", "changed"),
    // the same meaning, written otherwise
    ("noncanonical-order.txt", 1, "noncanonical", "noncanonical"),
];

/// Fixtures checked against another target than 2.4.3: `(fixture, target, line, code, severity)`.
const OTHER_TARGETS: &[(&str, &str, u64, &str, &str)] = &[
    (
        "noncanonical-2.4.0-user.txt",
        "2.4.0",
        5,
        "noncanonical",
        "noncanonical",
    ),
    (
        "lost-password-2.4.0.txt",
        "2.4.0",
        5,
        "lost-under-old-name",
        "lossy",
    ),
];

/// Codes no small fixture can show: `line-too-long` needs a line over 64 MiB (see
/// `transform_errors::line_longer_than_64_mib` for the reader's side).
const WITHOUT_FIXTURE: &[&str] = &["line-too-long"];

fn fixture(name: &str) -> String {
    format!("fixtures/check/{name}")
}

/// The `check --json --verbose` lines of a fixture, and the exit code.
fn checked(file: &str, target: &[&str]) -> (Vec<serde_json::Value>, i32) {
    let out = bin()
        .arg("check")
        .args(target)
        .args(["--json", "--verbose"])
        .arg(fixture(file))
        .output()
        .unwrap();
    let lines = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (lines, out.status.code().unwrap())
}

fn target_of(file: &str) -> Vec<&'static str> {
    match file {
        "other-cluster.txt" => vec!["--target-from", "fixtures/real/v2.4.3.4-dump-fresh.txt"],
        _ => vec!["--target", "2.4.3"],
    }
}

#[test]
fn every_fixture_has_exactly_its_problem() {
    let mut listed: Vec<&str> = CASES.iter().map(|c| c.0).collect();
    listed.extend(OTHER_TARGETS.iter().map(|c| c.0));
    listed.extend(["noncanonical-spaces.txt"]);
    for entry in std::fs::read_dir("fixtures/check").unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".txt") {
            assert!(listed.contains(&name.as_str()), "{name} has no case");
        }
    }
    let cases = CASES
        .iter()
        .map(|&(f, l, c, s)| (f, target_of(f), l, c, s))
        .chain(
            OTHER_TARGETS
                .iter()
                .map(|&(f, t, l, c, s)| (f, vec!["--target", t], l, c, s)),
        );
    for (file, target, line, code, severity) in cases {
        let (lines, exit) = checked(file, &target);
        let (summary, problems) = lines.split_last().unwrap();
        assert_eq!(problems.len(), 1, "{file}: {problems:?}");
        assert_eq!(problems[0]["line"], line, "{file}");
        assert_eq!(problems[0]["code"], code, "{file}");
        assert_eq!(problems[0]["severity"], severity, "{file}");
        let fails = matches!(severity, "unreadable" | "lossy");
        assert_eq!(exit, if fails { 1 } else { 0 }, "{file}");
        assert_eq!(summary["ok"], !fails, "{file}");
        assert_eq!(summary[severity], 1, "{file}");
    }
}

#[test]
fn every_code_has_a_fixture_and_a_readme_row() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    for code in cnosdb_migrate::check::CODES {
        let row = format!("| `{}` | {} |", code.name, code.severity.name());
        assert!(readme.contains(&row), "README lacks the row {row}");
        let fixtures = CASES.iter().any(|c| c.2 == code.name)
            || OTHER_TARGETS.iter().any(|c| c.3 == code.name)
            || WITHOUT_FIXTURE.contains(&code.name);
        assert!(fixtures, "no fixture for `{}`", code.name);
    }
}

#[test]
fn strict_also_fails_on_changed() {
    bin()
        .args(["check", "--target", "2.4.3", &fixture("system-db.txt")])
        .assert()
        .success();
    bin()
        .args(["check", "--strict", "--target", "2.4.3"])
        .arg(fixture("system-db.txt"))
        .assert()
        .code(1)
        .stdout(predicates::str::contains(
            "FAILED: 0 unreadable, 0 lossy, 1 changed, 0 noncanonical",
        ));
}

/// The first case of the issue: a 2.4.0 user without `must_change_password` and
/// `granted_admin` is read by 2.4.0 (both are `Option<bool>`), so the file passes.
#[test]
fn a_2_4_0_user_without_optional_options_passes() {
    let file = fixture("noncanonical-2.4.0-user.txt");
    let out = bin()
        .args(["check", "--target", "2.4.0", &file])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.starts_with("OK: 0 unreadable, 0 lossy, 0 changed, 1 noncanonical"),
        "{text}"
    );
    bin()
        .args(["check", "--verbose", "--target", "2.4.0", &file])
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "line 5 noncanonical [noncanonical] /cluster_xxx/users/writer: user record lacks \
             `options.must_change_password`, which CnosDB 2.4.0 writes",
        ));
}

/// The second case: members in another order, spaces after the colons: read the same.
#[test]
fn reordered_and_spaced_records_pass() {
    for file in ["noncanonical-order.txt", "noncanonical-spaces.txt"] {
        let out = bin()
            .args(["check", "--verbose", "--target", "2.4.3", &fixture(file)])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("] /cluster_xxx/tenants/cnosdb: tenant record written otherwise"),
            "{text}"
        );
        assert!(
            text.contains(": safe to restore into CnosDB 2.4.3"),
            "{text}"
        );
    }
}

/// The third case: a 2.4.0 user with `password` instead of `hash_password` deserializes, but
/// the password is lost: `lossy`, exit 1, and the value is never shown.
#[test]
fn a_password_under_its_old_name_is_lossy() {
    let out = bin()
        .args([
            "check",
            "--target",
            "2.4.0",
            &fixture("lost-password-2.4.0.txt"),
        ])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.starts_with(
            "line 5 lossy [lost-under-old-name] /cluster_xxx/users/writer: user record has \
             `options.password` where CnosDB 2.4.0 reads `options.hash_password` (renamed from \
             `options.password`)"
        ),
        "{text}"
    );
    assert!(!text.contains("$2b$"), "{text}");
}

#[test]
fn must_change_password_hurts_from_2_4_1_on() {
    // The fixture is in the 2.4.2+ shape; a real 2.4.1 already refuses such a user's statements
    // (2.4.0 and 2.4.0.1 do not enforce the flag).
    for t in ["2.4.2", "2.4.2.1", "2.4.3"] {
        bin()
            .args(["check", "--strict", "--target", t])
            .arg(fixture("must-change-password.txt"))
            .assert()
            .code(1)
            .stdout(predicates::str::contains("[must-change-password]"));
    }
    bin()
        .args(["check", "--strict", "--target", "2.4.3"])
        .arg(fixture("must-change-password.txt"))
        .assert()
        .code(1);
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
            "line 1 lossy [other-cluster] /prod/tenants/cnosdb: cluster `prod` is not the target's `cluster_xxx`",
        ));
}
