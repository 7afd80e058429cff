//! `inspect`, `diff` and `--target-from` through the real binary, with snapshots.

use assert_cmd::Command;
use predicates::str::contains;

fn bin() -> Command {
    Command::cargo_bin("cnosdb-migrate").unwrap()
}

fn run(args: &[&str]) -> (i32, String) {
    let out = bin().args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

fn snapshot_of(args: &[&str]) -> String {
    let (code, stdout) = run(args);
    format!("exit {code}\n{stdout}")
}

#[test]
fn inspect_snapshots() {
    for (name, file) in [
        ("full_2_3", "fixtures/v2.3/full.dump.txt"),
        ("real_2_4_0", "fixtures/real/v2.4.0-debug-fresh.txt"),
        ("real_2_4_3_4", "fixtures/real/v2.4.3.4-dump-fresh.txt"),
        ("expected_2_4_1", "fixtures/expected/full.2.4.1.txt"),
    ] {
        insta::assert_snapshot!(
            format!("audit_inspect_{name}_text"),
            snapshot_of(&["inspect", file])
        );
    }
    insta::assert_snapshot!(
        "audit_inspect_full_2_3_json",
        snapshot_of(&["inspect", "--json", "fixtures/v2.3/full.debug.txt"])
    );
    insta::assert_snapshot!(
        "audit_inspect_real_2_4_3_4_json",
        snapshot_of(&[
            "inspect",
            "--json",
            "fixtures/real/v2.4.3.4-debug-fresh.txt"
        ])
    );
}

#[test]
fn inspect_reads_stdin_and_warns_about_mixed_shapes() {
    let mixed = concat!(
        "/c/tenants/t: {\"id\":1,\"name\":\"t\",\"options\":{\"comment\":null,\"limiter_config\":null}}\n",
        "/c/users/u: {\"id\":2,\"name\":\"u\",\"options\":{\"hash_password\":null},\"is_root_admin\":false}\n",
        "/c/x/y: 1\n",
    );
    bin()
        .args(["inspect", "-"])
        .write_stdin(mixed)
        .assert()
        .success()
        .stdout(contains(
            "written by: CnosDB mixed shapes (tenant: 2.3.0–2.3.5, user: 2.4.1–2.4.3)",
        ))
        .stdout(contains("1 unknown keys"));
}

#[test]
fn inspect_never_prints_a_password() {
    let (_, text) = run(&["inspect", "fixtures/v2.3/full.dump.txt"]);
    let (_, json) = run(&["inspect", "--json", "fixtures/v2.3/full.dump.txt"]);
    for out in [text, json] {
        assert!(!out.contains("secret-pw") && !out.contains("$2b$"), "{out}");
    }
}

#[test]
fn diff_snapshots() {
    insta::assert_snapshot!(
        "audit_diff_small_2_4_3_text",
        snapshot_of(&["diff", "--target", "2.4.3", "fixtures/v2.3/small.dump.txt"])
    );
    insta::assert_snapshot!(
        "audit_diff_small_2_4_0_json",
        snapshot_of(&[
            "diff",
            "--json",
            "--target",
            "2.4.0",
            "fixtures/v2.3/small.dump.txt"
        ])
    );
    insta::assert_snapshot!(
        "audit_diff_small_renamed_text",
        snapshot_of(&[
            "diff",
            "--target",
            "2.4.2",
            "--rename-cluster",
            "prod",
            "--exclude-db",
            "cnosdb.public",
            "fixtures/v2.3/small.dump.txt"
        ])
    );
}

#[test]
fn diff_matches_transform_and_writes_nothing() {
    let (_, transformed) = run(&[
        "transform",
        "-q",
        "--target",
        "2.4.1",
        "fixtures/v2.3/full.dump.txt",
    ]);
    let (code, diff) = run(&[
        "diff",
        "--json",
        "--target",
        "2.4.1",
        "fixtures/v2.3/full.dump.txt",
    ]);
    assert_eq!(code, 0);
    let summary: serde_json::Value = serde_json::from_str(diff.lines().last().unwrap()).unwrap();
    assert_eq!(summary["output_bytes"], transformed.len());
    assert_eq!(summary["output_records"], transformed.lines().count());
    assert!(!diff.contains("secret-pw") && !diff.contains("$2b$"));
    bin()
        .args(["diff", "--target", "2.4.1", "fixtures/bad/no-separator.txt"])
        .assert()
        .code(1)
        .stderr(contains("line 3"));
}

#[test]
fn target_from_gives_the_same_output_as_the_named_release() {
    for (fresh, target) in [
        ("fixtures/real/v2.4.0-dump-fresh.txt", "2.4.0"),
        ("fixtures/real/v2.4.0-debug-fresh.txt", "2.4.0"),
        ("fixtures/real/v2.4.3.4-dump-fresh.txt", "2.4.3"),
        ("fixtures/real/v2.4.3.4-debug-fresh.txt", "2.4.3"),
    ] {
        let (_, named) = run(&[
            "transform",
            "-q",
            "--target",
            target,
            "fixtures/v2.3/small.dump.txt",
        ]);
        let (code, learned) = run(&[
            "transform",
            "-q",
            "--target-from",
            fresh,
            "fixtures/v2.3/small.dump.txt",
        ]);
        assert_eq!(code, 0);
        assert_eq!(learned, named, "{fresh}");
    }
}

#[test]
fn target_from_takes_the_public_config_of_the_target() {
    let fresh = std::fs::read_to_string("fixtures/real/v2.4.3.4-dump-fresh.txt")
        .unwrap()
        .replace(
            "\"database\":\"public\",\"is_hidden\":false,\"options\":{\"ttl\":{\"duration\":{\"secs\":0,\"nanos\":0},\"is_inf\":true},\"shard_num\":1,\"vnode_duration\":{\"duration\":{\"secs\":31557600,\"nanos\":0},\"is_inf\":false},\"replica\":1},\"config\":{\"precision\":\"NS\",\"max_memcache_size\":536870912,\"memcache_partitions\":16",
            "\"database\":\"public\",\"is_hidden\":false,\"options\":{\"ttl\":{\"duration\":{\"secs\":0,\"nanos\":0},\"is_inf\":true},\"shard_num\":1,\"vnode_duration\":{\"duration\":{\"secs\":31557600,\"nanos\":0},\"is_inf\":false},\"replica\":1},\"config\":{\"precision\":\"NS\",\"max_memcache_size\":134217728,\"memcache_partitions\":4",
        );
    assert!(fresh.contains("\"memcache_partitions\":4"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fresh.txt");
    std::fs::write(&path, fresh).unwrap();
    let out = bin()
        .args(["transform", "--target-from"])
        .arg(&path)
        .args([
            "--db-config",
            "wal_sync=true",
            "fixtures/v2.3/full.dump.txt",
        ])
        .assert()
        .success()
        .stderr(contains(
            "target 2.4.3, database config from its `public` database",
        ))
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    let dbs: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("\"is_hidden\""))
        .collect();
    assert_eq!(dbs.len(), 5);
    for db in dbs {
        assert!(
            db.contains("\"max_memcache_size\":134217728,\"memcache_partitions\":4,\"wal_max_file_size\":134217728,\"wal_sync\":true"),
            "{db}"
        );
    }
}

#[test]
fn target_from_refuses_what_it_cannot_use() {
    let dir = tempfile::tempdir().unwrap();
    let ambiguous = dir.path().join("ambiguous.txt");
    std::fs::write(
        &ambiguous,
        "/c/tenants/cnosdb: {\"id\":1,\"name\":\"cnosdb\",\"options\":{\"comment\":null,\"limiter_config\":null,\"drop_after\":null,\"tenant_is_hidden\":false}}\n",
    )
    .unwrap();
    let mixed = dir.path().join("mixed.txt");
    std::fs::write(
        &mixed,
        "/already_init_key: true\n/c/tenants/t: {\"id\":1,\"name\":\"t\",\"options\":{\"comment\":null,\"limiter_config\":null}}\n",
    )
    .unwrap();
    let empty = "fixtures/bad/empty.txt";
    for (fresh, why) in [
        (
            "fixtures/v2.3/full.dump.txt",
            "written by CnosDB 2.3.4–2.3.5, not by a 2.4 release",
        ),
        (
            ambiguous.to_str().unwrap(),
            "fits CnosDB 2.4.0.1–2.4.3, releases that need different conversions",
        ),
        (
            mixed.to_str().unwrap(),
            "records come from different releases",
        ),
        (empty, "no record tells which release wrote it"),
    ] {
        for cmd in ["transform", "check", "diff"] {
            bin()
                .args([cmd, "--target-from", fresh, "fixtures/v2.3/small.dump.txt"])
                .assert()
                .code(2)
                .stderr(contains(why))
                .stderr(contains("pass --target VERSION instead"));
        }
    }
    bin()
        .args(["transform", "fixtures/v2.3/small.dump.txt"])
        .assert()
        .code(2)
        .stderr(contains("--target <VERSION>|--target-from <FRESH_DUMP>"));
    bin()
        .args(["transform", "--target", "2.4.3", "--target-from", empty])
        .assert()
        .code(2)
        .stderr(contains("cannot be used with"));
}

#[test]
fn target_from_warns_about_a_cluster_that_is_not_empty() {
    bin()
        .args([
            "check",
            "--target-from",
            "fixtures/expected/small.2.4.3.txt",
            "fixtures/expected/small.2.4.3.txt",
        ])
        .assert()
        .success()
        .stderr(contains("is not a fresh cluster (it holds e.g. /cluster_xxx/tenants/cnosdb/dbs/public/schemas/air"));
}
