//! `copy-plan`: the export.sql / import.sql pair, as snapshots.

use assert_cmd::Command;

const DUMP: &str = "fixtures/copy/dump.txt";

fn plan(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("cnosdb-migrate")
        .unwrap()
        .arg("copy-plan")
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
fn parquet_plan_for_every_user_table() {
    insta::assert_snapshot!(stdout(&plan(&[DUMP, "--dir", "file:///data/copy/"])));
}

#[test]
fn csv_plan_keeps_its_options_and_json_has_none() {
    let csv = stdout(&plan(&[
        DUMP,
        "--dir",
        "file:///d",
        "--format",
        "csv",
        "--include-tenant",
        "t2",
    ]));
    insta::assert_snapshot!(csv);
    let json = stdout(&plan(&[DUMP, "--dir", "file:///d", "--format", "json"]));
    assert!(json.contains("FILE_FORMAT = (TYPE = 'JSON');"));
    assert!(!json.contains("DELIMITER") && !json.contains("WITH_HEADER"));
}

#[test]
fn filters_and_system_tables() {
    let out = stdout(&plan(&[
        DUMP,
        "--dir",
        "file:///d",
        "--include-system",
        "--exclude-tenant",
        "t1",
        "--exclude-table",
        "t2.metrics.empty",
    ]));
    insta::assert_snapshot!(out);
}

#[test]
fn the_debug_form_plans_the_same() {
    let dump = stdout(&plan(&[DUMP, "--dir", "file:///d"]));
    let debug = stdout(&plan(&["fixtures/copy/debug.txt", "--dir", "file:///d"]));
    assert_eq!(dump, debug);
    let stdin = Command::cargo_bin("cnosdb-migrate")
        .unwrap()
        .args(["copy-plan", "-", "--dir", "file:///d"])
        .write_stdin(std::fs::read("fixtures/copy/debug.txt").unwrap())
        .output()
        .unwrap();
    assert_eq!(stdout(&stdin), dump);
}

#[test]
fn output_dir_gets_two_private_files_and_refuses_to_overwrite() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("plan");
    let o = out_dir.to_str().unwrap();
    let out = plan(&[DUMP, "--dir", "file:///d", "-o", o]);
    assert!(stdout(&out).is_empty());
    let export = std::fs::read_to_string(out_dir.join("export.sql")).unwrap();
    let import = std::fs::read_to_string(out_dir.join("import.sql")).unwrap();
    let both = stdout(&plan(&[DUMP, "--dir", "file:///d"]));
    assert_eq!(format!("{export}\n{import}"), both);
    let mode = std::fs::metadata(out_dir.join("export.sql"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let again = plan(&[DUMP, "--dir", "file:///d", "-o", o]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    stdout(&plan(&[DUMP, "--dir", "file:///e", "-o", o, "--force"]));
    assert!(std::fs::read_to_string(out_dir.join("import.sql"))
        .unwrap()
        .contains("file:///e/"));
}

#[test]
fn names_cnosdb_cli_cannot_take_and_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump.txt");
    std::fs::write(
        &dump,
        "/c/tenants/t/dbs/ padded/schemas/x: {\"TsKvTableSchema\":{\"columns\":[]}}\n",
    )
    .unwrap();
    let out = plan(&[dump.to_str().unwrap(), "--dir", "file:///d"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 1") && err.contains("cnosdb-migrate copy"),
        "{err}"
    );

    std::fs::write(&dump, "/c/tenants/t/dbs/d/schemas/x: [1]\n").unwrap();
    let out = plan(&[dump.to_str().unwrap(), "--dir", "file:///d"]);
    assert_eq!(out.status.code(), Some(1));

    let out = plan(&[DUMP, "--dir", "file:///d", "--format", "avro"]);
    assert_eq!(out.status.code(), Some(2));
    let out = plan(&[DUMP, "--dir", "s3://bucket/x"]);
    assert_eq!(out.status.code(), Some(2));
    let out = plan(&["/nonexistent/dump", "--dir", "file:///d"]);
    assert_eq!(out.status.code(), Some(3));
}
