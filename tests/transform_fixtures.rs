//! The hand-built 2.3 dumps against their hand-derived expected outputs, for every target, through
//! the real binary; stdout and the `--report` JSON Lines are also kept as reviewed insta snapshots.

use crate::support::*;
use sha2::{Digest, Sha256};

/// One run of `transform --target T INPUT --report R`: stdout, stderr, report text.
struct Run {
    stdout: String,
    stderr: String,
    report: String,
}

fn run(target: &str, input: &str) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.jsonl");
    let out = cmd()
        .args(["transform", "--target", target])
        .arg(fixture(input))
        .arg("--report")
        .arg(&report)
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{input} {target}: {stderr}");
    Run {
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr,
        report: std::fs::read_to_string(&report).unwrap(),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Checks the summary's hashes and sizes against the real bytes; returns the report with the
/// output hash redacted when `varies` (a fresh bcrypt salt changes it on every run).
fn check_summary(run: &Run, input: &str, varies: bool) -> String {
    let report = Report::parse(&run.report);
    let s = &report.summary;
    let input_bytes = fixture_bytes(input);
    assert_eq!(s["input_sha256"], sha256_hex(&input_bytes).as_str());
    assert_eq!(s["input_bytes"], input_bytes.len() as u64);
    let out_sha = sha256_hex(run.stdout.as_bytes());
    assert_eq!(s["output_sha256"], out_sha.as_str());
    assert_eq!(s["output_bytes"], run.stdout.len() as u64);
    assert_eq!(s["output_records"], run.stdout.lines().count() as u64);
    assert!(
        run.stderr.contains(&format!("output sha256 {out_sha}")),
        "{}",
        run.stderr
    );
    assert_no_secrets("report", &run.report);
    assert_no_secrets("stderr", &run.stderr);
    if varies {
        assert_eq!(run.report.matches(&out_sha).count(), 1);
        run.report
            .replace(&out_sha, "[output sha256: varies with the bcrypt salt]")
    } else {
        run.report.clone()
    }
}

/// `full.dump.txt` and `full.debug.txt` for one target: both give `expected/full.<T>.txt`
/// exactly, and the same fates in the report (one line later for the /debug form).
fn full(t: &str) {
    let dump = run(t, "v2.3/full.dump.txt");
    let stdout = redact_dave(&dump.stdout);
    let expected = fixture_text(&format!("expected/full.{t}.txt"));
    assert_eq!(stdout, expected, "full.dump.txt --target {t}");
    assert!(
        dump.stderr
            .contains("plaintext passwords replaced by bcrypt hashes for users: dave\n"),
        "{}",
        dump.stderr
    );
    let redacted_report = check_summary(&dump, "v2.3/full.dump.txt", true);
    let report = Report::parse(&dump.report);
    report.assert_covers(1..=42);
    assert_eq!(report.summary["form"], "dump");
    assert_eq!(report.summary["target"], t);
    assert_eq!(
        report.summary["hashed_password_users"],
        serde_json::json!(["dave"])
    );
    insta::assert_snapshot!(format!("full_{}_stdout", t_(t)), stdout);
    insta::assert_snapshot!(format!("full_{}_report", t_(t)), redacted_report);

    let debug = run(t, "v2.3/full.debug.txt");
    assert_eq!(
        redact_dave(&debug.stdout),
        expected,
        "full.debug.txt --target {t}"
    );
    check_summary(&debug, "v2.3/full.debug.txt", true);
    let debug_report = Report::parse(&debug.report);
    // The header is line 1, so the records are lines 2..=43.
    debug_report.assert_covers(2..=43);
    assert_eq!(debug_report.summary["form"], "debug");
    assert_eq!(debug_report.entries.len(), report.entries.len());
    for (d, e) in report.entries.iter().zip(&debug_report.entries) {
        let mut shifted = d.clone();
        shifted["line"] = (d["line"].as_u64().unwrap() + 1).into();
        assert_eq!(&shifted, e);
    }
    for field in [
        "actions",
        "kinds",
        "rules",
        "output_records",
        "output_bytes",
    ] {
        assert_eq!(
            debug_report.summary[field], report.summary[field],
            "{field}"
        );
    }
}

// One test per target, so that the bcrypt rounds (dave's plaintext) run in parallel.
#[test]
fn full_2_4_0() {
    full("2.4.0");
}
#[test]
fn full_2_4_0_1() {
    full("2.4.0.1");
}
#[test]
fn full_2_4_1() {
    full("2.4.1");
}
#[test]
fn full_2_4_2() {
    full("2.4.2");
}
#[test]
fn full_2_4_2_1() {
    full("2.4.2.1");
}
#[test]
fn full_2_4_3() {
    full("2.4.3");
}

#[test]
fn one_full_test_per_target() {
    // Keeps the list of `full_*` tests above in step with the targets.
    let src = include_str!("transform_fixtures.rs");
    for t in TARGETS {
        assert!(
            src.contains(&format!("fn full_{}() {{\n    full(\"{t}\");", t_(t))),
            "{t}"
        );
    }
}

#[test]
fn small_dump_gives_the_expected_output_and_report_for_every_target() {
    let lines = fixture_text("v2.3/small.dump.txt").lines().count() as u64;
    for t in TARGETS {
        let run = run(t, "v2.3/small.dump.txt");
        let expected = fixture_text(&format!("expected/small.{t}.txt"));
        assert_eq!(run.stdout, expected, "small.dump.txt --target {t}");
        assert!(bcrypt_hashes(&run.stdout).contains(&FIXTURE_HASHES[2].to_string()));
        let report = check_summary(&run, "v2.3/small.dump.txt", false);
        let parsed = Report::parse(&run.report);
        parsed.assert_covers(1..=lines);
        assert_eq!(
            parsed.summary["hashed_password_users"],
            serde_json::json!([])
        );
        insta::assert_snapshot!(format!("small_{}_stdout", t_(t)), run.stdout);
        insta::assert_snapshot!(format!("small_{}_report", t_(t)), report);
    }
}

#[test]
fn small_output_is_the_same_from_stdin() {
    for t in TARGETS {
        let out = cmd()
            .args(["transform", "-q", "--target", t])
            .write_stdin(fixture_bytes("v2.3/small.dump.txt"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            fixture_text(&format!("expected/small.{t}.txt"))
        );
        assert!(out.stderr.is_empty(), "-q prints nothing");
    }
}

/// The real dumps of fresh 2.4 servers, fed back for their own release: every record that is
/// not dropped is already in the target's shape and comes out byte-identical (`kept`).
#[test]
fn real_2_4_dumps_pass_unchanged_for_their_own_release() {
    for (file, target, extra) in [
        ("real/v2.4.0-dump-fresh.txt", "2.4.0", None),
        ("real/v2.4.0-debug-fresh.txt", "2.4.0", None),
        // 2.4.3.4 writes its root with `must_change_password: true`, which the default
        // 2.4.3 rule clears.
        (
            "real/v2.4.3.4-dump-fresh.txt",
            "2.4.3",
            Some("--keep-must-change-password"),
        ),
        (
            "real/v2.4.3.4-debug-fresh.txt",
            "2.4.3",
            Some("--keep-must-change-password"),
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let report = dir.path().join("r.jsonl");
        let mut c = cmd();
        c.args(["transform", "-q", "--target", target])
            .arg(fixture(file))
            .arg("--report")
            .arg(&report);
        c.args(extra);
        let out = c.output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{file}");
        let stdout = String::from_utf8(out.stdout).unwrap();
        let report = Report::parse(&std::fs::read_to_string(&report).unwrap());
        let input = fixture_text(file);
        let input_lines: Vec<&str> = input.lines().collect();
        let mut want = String::new();
        for e in &report.entries {
            let line = input_lines[e["line"].as_u64().unwrap() as usize - 1];
            match e["action"].as_str().unwrap() {
                "dropped" => {}
                "kept" => {
                    want.push_str(line.strip_prefix("* ").unwrap_or(line));
                    want.push('\n');
                }
                other => panic!("{file}: {other} {}", e["key"]),
            }
        }
        assert_eq!(stdout, want, "{file}");
        assert!(stdout.contains("/cluster_xxx/tenants/cnosdb/dbs/public: "));
        assert!(!stdout.contains("usage_schema"));
    }
    // Without the flag, 2.4.3.4's root is patched: only `must_change_password` goes.
    let out = cmd()
        .args(["transform", "-q", "--target", "2.4.3"])
        .arg(fixture("real/v2.4.3.4-dump-fresh.txt"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let input = fixture_text("real/v2.4.3.4-dump-fresh.txt");
    let root_in = value_of(&input, "/cluster_xxx/users/root").unwrap();
    let root_out = value_of(&stdout, "/cluster_xxx/users/root").unwrap();
    assert_eq!(
        root_out,
        root_in.replace(",\"must_change_password\":true", "")
    );
    assert_ne!(root_out, root_in);
}

#[test]
fn real_2_4_3_dump_is_refused_for_older_targets() {
    for t in ["2.4.0", "2.4.0.1", "2.4.1"] {
        let out = cmd()
            .args(["transform", "-q", "--target", t])
            .arg(fixture("real/v2.4.3.4-dump-fresh.txt"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{t}");
        assert!(out.stdout.is_empty());
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(
            stderr.contains("line 7:") && stderr.contains("newer"),
            "{stderr}"
        );
    }
}

#[test]
fn summary_on_stderr() {
    let out = cmd()
        .args(["transform", "--target", "2.4.3"])
        .arg(fixture("v2.3/small.dump.txt"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("12 records read (dump form, 1941 bytes), 5 written for CnosDB 2.4.3"),
        "{stderr}"
    );
    assert_no_secrets("stderr", &stderr);
    insta::assert_snapshot!("small_2_4_3_stderr", stderr);
}
