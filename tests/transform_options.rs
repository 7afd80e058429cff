//! Each `transform` option through the real binary, asserting its effect on the output against
//! the default run (which itself must equal `fixtures/expected/full.<T>.txt`).
//!
//! The input is `full.dump.txt` with dave's plaintext password already hashed, so that no run
//! pays for a bcrypt round (except the `--plaintext-passwords fail` case, which never hashes).

use crate::support::*;

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
    report: Option<Report>,
}

fn run_on(input: &str, args: &[&str]) -> Out {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.jsonl");
    let out = cmd()
        .arg("transform")
        .args(args)
        .arg("--report")
        .arg(&report)
        .write_stdin(input.to_string())
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    Out {
        code,
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
        report: std::fs::read_to_string(&report)
            .ok()
            .map(|t| Report::parse(&t)),
    }
}

fn ok(input: &str, args: &[&str]) -> (String, Report) {
    let out = run_on(input, args);
    assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
    assert_no_secrets("stderr", &out.stderr);
    (out.stdout, out.report.expect("a report"))
}

/// `expected/full.<T>.txt` for the input of [`full_without_plaintext`].
fn baseline(t: &str) -> String {
    fixture_text(&format!("expected/full.{t}.txt")).replace(DAVE_PLACEHOLDER, SOME_HASH)
}

/// The default run, checked against the expected file.
fn default_run(t: &str) -> String {
    let (stdout, _) = ok(&full_without_plaintext(), &["--target", t]);
    assert_eq!(stdout, baseline(t), "default run, --target {t}");
    stdout
}

fn without_lines(text: &str, drop: impl Fn(&str) -> bool) -> String {
    text.lines()
        .filter(|l| !drop(l.split_once(": ").unwrap().0))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn rename_cluster_rewrites_every_key_and_no_value() {
    let input = full_without_plaintext();
    for t in ["2.4.0", "2.4.3"] {
        let base = default_run(t);
        let (_, base_report) = ok(&input, &["--target", t]);
        let (out, report) = ok(&input, &["--target", t, "--rename-cluster", "prod"]);
        let want: String = base
            .lines()
            .map(|l| {
                let rest = l
                    .strip_prefix("/cluster_xxx/")
                    .expect("every key has the cluster");
                format!("/prod/{rest}\n")
            })
            .collect();
        assert_eq!(out, want);
        assert!(!out.contains("cluster_xxx"));
        assert_eq!(report.entries.len(), base_report.entries.len());
        for (e, b) in report.entries.iter().zip(&base_report.entries) {
            let key = e["key"].as_str().unwrap();
            assert_eq!(e["key"], b["key"], "same order");
            assert_eq!(e["rule"], b["rule"], "{key}");
            match (b["action"].as_str().unwrap(), e["action"].as_str().unwrap()) {
                ("dropped", "dropped") => assert!(e.get("new_key").is_none()),
                // What was kept as it was is now reported as moved; patched stays patched.
                ("kept", "moved") | ("patched", "patched") => {
                    let new_key = key.replacen("/cluster_xxx/", "/prod/", 1);
                    assert_eq!(e["new_key"], new_key.as_str(), "{key}");
                }
                other => panic!("{key}: {other:?}"),
            }
        }
        assert!(report.entries.iter().all(|e| e["action"] != "kept"));
        assert_eq!(
            report.summary["actions"]["moved"],
            base_report.summary["actions"]["kept"]
        );

        // Renaming to the same name changes nothing.
        let (same, report) = ok(&input, &["--target", t, "--rename-cluster", "cluster_xxx"]);
        assert_eq!(same, base);
        assert!(report.entries.iter().all(|e| e.get("new_key").is_none()));
    }
}

#[test]
fn include_tenant_keeps_only_that_tenant_and_the_users() {
    let input = full_without_plaintext();
    let base = default_run("2.4.2");
    let (out, report) = ok(&input, &["--target", "2.4.2", "--include-tenant", "acme"]);
    let want = without_lines(&base, |k| {
        k.starts_with("/cluster_xxx/tenants/") && !k.starts_with("/cluster_xxx/tenants/acme")
    });
    assert_eq!(out, want);
    assert!(out.contains("/cluster_xxx/tenants/acme/dbs/factory: "));
    assert!(out.contains("/cluster_xxx/users/bob: "));
    for e in &report.entries {
        let key = e["key"].as_str().unwrap();
        if key.starts_with("/cluster_xxx/tenants/iot")
            || key == "/cluster_xxx/tenants/cnosdb/dbs/public"
        {
            assert_eq!(e["rule"], "drop.filtered", "{key}");
        }
    }
    // The system database keeps its own rule: it is dropped whatever the filter.
    assert_eq!(
        report.of("/cluster_xxx/tenants/cnosdb/dbs/usage_schema")["rule"],
        "drop.system-db"
    );

    let (two, _) = ok(
        &input,
        &[
            "--target",
            "2.4.2",
            "--include-tenant",
            "acme",
            "--include-tenant",
            "iot",
        ],
    );
    assert_eq!(
        two,
        without_lines(&base, |k| k.starts_with("/cluster_xxx/tenants/cnosdb"))
    );
}

#[test]
fn exclude_tenant_leaves_that_tenant_out() {
    let input = full_without_plaintext();
    let base = default_run("2.4.1");
    let (out, report) = ok(&input, &["--target", "2.4.1", "--exclude-tenant", "iot"]);
    let want = without_lines(&base, |k| {
        k == "/cluster_xxx/tenants/iot" || k.starts_with("/cluster_xxx/tenants/iot/")
    });
    assert_eq!(out, want);
    assert_ne!(out, base);
    let filtered = report
        .entries
        .iter()
        .filter(|e| e["rule"] == "drop.filtered")
        .count();
    // iot: tenant, fleet, trucks, two members, two roles.
    assert_eq!(filtered, 7);
    // Including and excluding the same tenant selects no tenant at all: a mistake, refused.
    let none = run_on(
        &input,
        &[
            "--target",
            "2.4.1",
            "--include-tenant",
            "iot",
            "--exclude-tenant",
            "iot",
        ],
    );
    assert_eq!(none.code, 2, "{}", none.stderr);
    assert!(
        none.stderr.contains("contradict each other"),
        "{}",
        none.stderr
    );
    assert_eq!(none.stdout, "");
}

#[test]
fn exclude_db_leaves_that_database_and_its_tables_out() {
    let input = full_without_plaintext();
    let base = default_run("2.4.3");
    let (out, report) = ok(
        &input,
        &["--target", "2.4.3", "--exclude-db", "acme.factory"],
    );
    let want = without_lines(&base, |k| {
        k == "/cluster_xxx/tenants/acme/dbs/factory"
            || k.starts_with("/cluster_xxx/tenants/acme/dbs/factory/")
    });
    assert_eq!(out, want);
    assert_eq!(
        base.lines().count() - out.lines().count(),
        3,
        "db, TSKV and stream table"
    );
    assert_eq!(
        report.of("/cluster_xxx/tenants/acme/dbs/factory/schemas/machines")["rule"],
        "drop.filtered"
    );
    // The bucket keeps its own rule.
    assert_eq!(
        report.of("/cluster_xxx/tenants/acme/dbs/factory/buckets/9")["rule"],
        "drop.bucket"
    );
    // Only an exact TENANT.DB matches; a name that matches nothing is refused (exit 2), not
    // quietly ignored.
    for other in ["acme.fact", "iot.factory", "acme.factory.x"] {
        let out = run_on(&input, &["--target", "2.4.3", "--exclude-db", other]);
        assert_eq!(out.code, 2, "{other}: {}", out.stderr);
        assert!(
            out.stderr.contains(&format!(
                "--exclude-db {other}: the input holds no database"
            )),
            "{}",
            out.stderr
        );
        assert_eq!(out.stdout, "");
    }
}

#[test]
fn keep_target_root_drops_a_root_with_a_password_and_its_memberships() {
    let input = full_without_plaintext();
    let root_null = "\"name\":\"root\",\"options\":{\"password\":null,";
    assert_eq!(input.matches(root_null).count(), 1);
    let with_pw = input.replace(
        root_null,
        &format!("\"name\":\"root\",\"options\":{{\"password\":\"{SOME_HASH}\","),
    );
    let root_uid = "333994701403110180491962494474322486178";
    for t in ["2.4.0", "2.4.3"] {
        // A root with a password moves, with its memberships...
        let (kept, report) = ok(&with_pw, &["--target", t]);
        assert!(kept.contains("/cluster_xxx/users/root: "));
        assert_eq!(kept.matches(&format!("/members/{root_uid}: ")).count(), 2);
        assert_eq!(report.of("/cluster_xxx/users/root")["action"], "patched");
        // ...unless the target keeps its own root.
        let (out, report) = ok(&with_pw, &["--target", t, "--keep-target-root"]);
        let want = without_lines(&kept, |k| {
            k == "/cluster_xxx/users/root" || k.ends_with(&format!("/members/{root_uid}"))
        });
        assert_eq!(out, want);
        assert_eq!(out, baseline(t), "same as a passwordless root");
        let dropped: Vec<&str> = report
            .entries
            .iter()
            .filter(|e| e["rule"] == "drop.source-root")
            .map(|e| e["key"].as_str().unwrap())
            .collect();
        assert_eq!(dropped.len(), 3, "{dropped:?}");
        // The flag changes nothing when root has no password (it is dropped anyway).
        let (same, _) = ok(&input, &["--target", t, "--keep-target-root"]);
        assert_eq!(same, baseline(t));
    }
}

#[test]
fn plaintext_passwords_fail_refuses_and_names_the_user_not_the_secret() {
    for t in TARGETS {
        let out = run_on(
            &fixture_text("v2.3/full.dump.txt"),
            &["--target", t, "--plaintext-passwords", "fail"],
        );
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert!(out.stdout.is_empty());
        assert!(out.report.is_none(), "no report on failure");
        assert!(out.stderr.contains("line 40:"), "{}", out.stderr);
        assert!(
            out.stderr.contains("/cluster_xxx/users/dave"),
            "{}",
            out.stderr
        );
        assert!(out.stderr.contains("plaintext password"), "{}", out.stderr);
        assert_no_secrets("stderr", &out.stderr);
        if t == "2.4.3" {
            insta::assert_snapshot!("plaintext_passwords_fail", out.stderr);
        }
    }
    // Without plaintext passwords the policy changes nothing.
    let (out, _) = ok(
        &full_without_plaintext(),
        &["--target", "2.4.3", "--plaintext-passwords", "fail"],
    );
    assert_eq!(out, baseline("2.4.3"));
    // The default policy is `hash`, and naming it explicitly is the same.
    let (out, report) = ok(
        &fixture_text("v2.3/small.dump.txt"),
        &["--target", "2.4.3", "--plaintext-passwords", "hash"],
    );
    assert_eq!(out, fixture_text("expected/small.2.4.3.txt"));
    assert_eq!(
        report.summary["hashed_password_users"],
        serde_json::json!([])
    );
}

#[test]
fn keep_must_change_password_keeps_it_from_2_4_1_on() {
    let input = full_without_plaintext();
    let carol = "/cluster_xxx/users/carol";
    let base = default_run("2.4.3");
    assert_eq!(
        value_of(&base, carol),
        Some(
            r#"{"id":168611471998695076284315175768154719987,"name":"carol","options":{"hash_password":null},"is_root_admin":false}"#
        )
    );
    let (out, report) = ok(
        &input,
        &["--target", "2.4.3", "--keep-must-change-password"],
    );
    assert_eq!(
        value_of(&out, carol),
        Some(
            r#"{"id":168611471998695076284315175768154719987,"name":"carol","options":{"hash_password":null,"must_change_password":true},"is_root_admin":false}"#
        )
    );
    assert_eq!(
        without_lines(&out, |k| k == carol),
        without_lines(&base, |k| k == carol)
    );
    let changes = report.of(carol)["changes"].to_string();
    assert!(!changes.contains("must_change_password"), "{changes}");
    // 2.4.1+ enforce the flag, so it is cleared unless kept.
    for t in ["2.4.1", "2.4.2", "2.4.2.1"] {
        let cleared = default_run(t);
        assert!(!value_of(&cleared, carol)
            .unwrap()
            .contains("must_change_password"));
        let (out, _) = ok(&input, &["--target", t, "--keep-must-change-password"]);
        assert!(value_of(&out, carol)
            .unwrap()
            .contains("\"must_change_password\":true"));
    }
    // 2.4.0 and 2.4.0.1 never enforce it, so the flag changes nothing there.
    for t in ["2.4.0", "2.4.0.1"] {
        let (out, _) = ok(&input, &["--target", t, "--keep-must-change-password"]);
        assert_eq!(out, baseline(t), "{t}");
        assert!(value_of(&out, carol)
            .unwrap()
            .contains("\"must_change_password\":true"));
    }
}

#[test]
fn db_config_overrides_every_converted_database() {
    let input = full_without_plaintext();
    for t in ["2.4.2", "2.4.2.1", "2.4.3"] {
        let base = default_run(t);
        let default_wal = if t == "2.4.3" {
            "134217728"
        } else {
            "1073741824"
        };
        let (out, _) = ok(
            &input,
            &[
                "--target",
                t,
                "--db-config",
                "wal_sync=true",
                "--db-config",
                "max_cache_readers=8",
                "--db-config",
                "wal_max_file_size=1",
                "--db-config",
                "wal_max_file_size=2048",
                "--db-config",
                "strict_write=true",
                "--db-config",
                "max_memcache_size=1024",
                "--db-config",
                "memcache_partitions=3",
            ],
        );
        let want: String = base
            .lines()
            .map(|l| {
                let key = l.split_once(": ").unwrap().0;
                let is_db = key.matches('/').count() == 5 && key.contains("/dbs/");
                let l = if is_db {
                    l.replace(
                        &format!(
                            "\"max_memcache_size\":536870912,\"memcache_partitions\":16,\
                             \"wal_max_file_size\":{default_wal},\"wal_sync\":false,\
                             \"strict_write\":false,\"max_cache_readers\":32}}"
                        ),
                        "\"max_memcache_size\":1024,\"memcache_partitions\":3,\
                         \"wal_max_file_size\":2048,\"wal_sync\":true,\
                         \"strict_write\":true,\"max_cache_readers\":8}",
                    )
                } else {
                    l.to_string()
                };
                format!("{l}\n")
            })
            .collect();
        assert_ne!(want, base, "the replacement applies");
        assert_eq!(out, want, "{t}");
        assert_eq!(
            out.matches("\"wal_max_file_size\":2048,").count(),
            5,
            "five databases"
        );
    }
}
