//! `tables`: every table of a dump, text and JSON.

use assert_cmd::Command;

fn tables(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("cnosdb-migrate")
        .unwrap()
        .arg("tables")
        .args(args)
        .output()
        .unwrap()
}

fn stdout(out: &std::process::Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn text_listing_of_both_forms() {
    let text = stdout(&tables(&["fixtures/copy/dump.txt"]));
    insta::assert_snapshot!(text);
    assert_eq!(stdout(&tables(&["fixtures/copy/debug.txt"])), text);
}

#[test]
fn json_lines() {
    insta::assert_snapshot!(stdout(&tables(&["--json", "fixtures/copy/dump.txt"])));
}

#[test]
fn real_2_4_dumps_have_no_tables_yet() {
    for f in [
        "v2.4.0-dump-fresh.txt",
        "v2.4.0-debug-fresh.txt",
        "v2.4.3.4-dump-fresh.txt",
        "v2.4.3.4-debug-fresh.txt",
    ] {
        let path = format!("fixtures/real/{f}");
        let text = stdout(&tables(&[&path]));
        assert!(text.ends_with("0 tables: 0 TSKV (hold rows, 0 in system databases), 0 EXTERNAL, 0 STREAM (definitions only)\n"), "{f}: {text}");
    }
}

#[test]
fn an_invalid_dump_exits_1() {
    let out = Command::cargo_bin("cnosdb-migrate")
        .unwrap()
        .args(["tables", "-"])
        .write_stdin("/c/tenants/t/dbs/d/schemas/x: {\"TsKvTableSchema\":{}}\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 1") && err.contains("t.d.x") && err.contains("columns"),
        "{err}"
    );
}
