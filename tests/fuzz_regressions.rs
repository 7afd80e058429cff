//! Inputs the fuzzers (`fuzz/`) found crashing or misbehaving, kept as tests on stable.

use cnosdb_migrate::check::check;
use cnosdb_migrate::pipeline::{transform, TransformOptions};
use cnosdb_migrate::report::NoReport;
use cnosdb_migrate::rules::{patch_table, Outcome, Patched, PlaintextPolicy, Rules};
use cnosdb_migrate::target::Target;

/// Patching a patched value again changes nothing (the fuzzers' idempotence property).
fn assert_idempotent(patch: fn(&str, &Rules) -> Patched, value: &str) {
    for target in Target::ALL {
        let rules = Rules::new(target);
        if let Ok(Outcome::Patched { value: once, .. }) = patch(value, &rules) {
            assert!(
                serde_json::from_str::<serde_json::Value>(&once).is_ok(),
                "{once}"
            );
            assert_eq!(
                patch(&once, &rules),
                Ok(Outcome::Unchanged),
                "{target}: {once}"
            );
        }
    }
}

/// fuzz `patchers`: a member name with an escape (`\n`) was written back unescaped by the
/// 2.4.1–2.4.2.1 table rename, leaving a raw newline in the output (a split line on restore).
#[test]
fn table_member_name_with_an_escape() {
    let value = r#"{"TsKvTableSchema":{"tenant":"cnosdb","db":"usage_schema","name":"vnode_disk_storage","schema_id":0,"next_column_id":6,"columns":[{"efil,":"Default"}],"cogr\nted_adminlumns_index":{"ase":1,"d":2},"columns_index":{}}}"#;
    assert_idempotent(patch_table, value);
    let Ok(Outcome::Patched { value: out, .. }) = patch_table(value, &Rules::new(Target::V2_4_1))
    else {
        panic!("expected a patch");
    };
    assert!(!out.contains('\n'));
    assert!(
        out.contains(r#""cogr\nted_adminlumns_index":{"ase":1,"d":2}"#),
        "{out}"
    );
}

/// The `check` fuzzer's property: a file `transform` writes for a target passes `check` for that
/// target (with the target's cluster name, when the transform renamed the keys to it). Returns the
/// transform's output, or its error message.
fn transform_then_check(
    input: &str,
    target: Target,
    cluster: Option<&str>,
) -> Result<String, String> {
    let mut rules = Rules::new(target);
    rules.plaintext = PlaintextPolicy::Fail;
    let mut opts = TransformOptions::new(rules);
    opts.rename_cluster = cluster.map(str::to_string);
    let mut out = Vec::new();
    transform(input.as_bytes(), &mut out, &opts, &mut NoReport).map_err(|e| e.to_string())?;
    let report = check(&out[..], target, cluster).unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(
        report.problems.is_empty(),
        "{target}: {:?}\n{out}",
        report.problems
    );
    Ok(out)
}

const DB: &str = r#"{"tenant":"t","database":"d","config":{"ttl":null,"shard_num":null,"vnode_duration":null,"replica":null,"precision":null}}"#;
const TABLE: &str = r#"{"TsKvTableSchema":{"tenant":"t","db":"DB","name":"x","schema_id":0,"next_column_id":1,"columns":[{"id":0,"name":"time","column_type":{"Time":"Nanosecond"},"encoding":"Default"}]}}"#;

/// fuzz `check`: a table whose database has no record was written by transform, and check
/// calls it `orphan-table`. Transform now drops it (`drop.orphan-table`), as it drops orphan
/// members; a table with its database stays.
#[test]
fn transform_drops_a_table_without_its_database() {
    let input = format!(
        "/c/tenants/t/dbs/d: {DB}\n/c/tenants/t/dbs/d/schemas/x: {}\n/c/tenants/t/dbs/nodb/schemas/x: {}\n",
        TABLE.replace("DB", "d"),
        TABLE.replace("DB", "nodb")
    );
    for target in Target::ALL {
        let out = transform_then_check(&input, target, None).unwrap();
        assert!(out.contains("/c/tenants/t/dbs/d/schemas/x: "), "{out}");
        assert!(!out.contains("/nodb/"), "{out}");
    }
}

/// fuzz `check`: an unknown key naming a table `a/b` was kept by transform, and check calls it
/// `invisible-name` (2.4 never lists it). Transform now drops it (`drop.invisible-name`).
#[test]
fn transform_drops_invisible_names() {
    let input = format!(
        "/c/tenants/t/dbs/d: {DB}\n/c/tenants/t/dbs/d/schemas/a/b: {}\n/c//users: 1\n/c/other/key: 2\n",
        TABLE.replace("DB", "d")
    );
    for target in Target::ALL {
        let out = transform_then_check(&input, target, None).unwrap();
        assert!(!out.contains("/a/b") && !out.contains("//"), "{out}");
        assert!(out.contains("/c/other/key: 2\n"), "{out}");
    }
}

/// fuzz `check`: roles and limiters were copied unchecked, so a truncated role (or one with a
/// privilege other than Read, Write, Full, or a limiter without `buckets`) came out of
/// transform and failed check. Transform now refuses them, as it refuses a bad member.
#[test]
fn transform_refuses_bad_roles_and_limiters() {
    let good_role =
        r#"{"id":7,"name":"r","system_role":"Member","additional_privileges":{"d":"Full"}}"#;
    let good_limiter = r#"{"buckets":{}}"#;
    for target in Target::ALL {
        let ok =
            format!("/c/tenants/t/limiter: {good_limiter}\n/c/tenants/t/roles/r: {good_role}\n");
        transform_then_check(&ok, target, None).unwrap();
        for bad in [
            "/c/tenants/t/roles/r: {\"id\":7,\"name\":\"r\",\"system_role\":\"Memb\n".to_string(),
            format!(
                "/c/tenants/t/roles/r: {}\n",
                good_role.replace("Full", "All")
            ),
            "/c/tenants/t/limiter: {}\n".to_string(),
        ] {
            let err = transform_then_check(&bad, target, None).unwrap_err();
            assert!(
                err.contains("line 1") && err.contains("fix or remove this record"),
                "{err}"
            );
        }
    }
}

/// fuzz `check`: transform refused a repeated key only right after itself; apart, or made
/// equal by `--rename-cluster` (minimised: `/t/1` and `/s/1` renamed to `/c/1`), it wrote both
/// and check found `duplicate-key`.
#[test]
fn transform_refuses_keys_repeated_apart_or_by_rename() {
    for target in Target::ALL {
        let err = transform_then_check("/a: 1\n/b: 2\n/a: 3\n", target, None).unwrap_err();
        assert!(
            err.contains("line 3") && err.contains("also on line 1"),
            "{err}"
        );
        let err = transform_then_check("/t/1: \n/s/1: ", target, Some("c")).unwrap_err();
        assert!(
            err.contains("line 2") && err.contains("duplicate key /c/1"),
            "{err}"
        );
        // Out of order but unique, and one cluster renamed: fine.
        let out = transform_then_check("/b: 1\n/a: 2\n", target, None).unwrap();
        assert_eq!(out, "/b: 1\n/a: 2\n");
        let out = transform_then_check("/t/2: x\n/t/1: y\n/z: 3\n", target, Some("c")).unwrap();
        assert_eq!(out, "/c/2: x\n/c/1: y\n/z: 3\n");
    }
}

/// fuzz `check` (minimised: `/\r/: ` checked for 2.4.1 with cluster `c`): a reason quoted the
/// cluster name `\r` raw, so the one-line reason held a CR; a custom role name decoded from a
/// member value could put an LF there. Reasons now spell CR and LF as `\r` and `\n`.
#[test]
fn check_reasons_stay_on_one_line() {
    let report = check(&b"/\r/: "[..], Target::V2_4_1, Some("c")).unwrap();
    let other = report.problems.iter().find(|p| p.code == "other-cluster");
    assert!(
        other.unwrap().reason.starts_with(r"cluster `\r`"),
        "{:?}",
        report.problems
    );
    assert!(report.problems.iter().all(|p| !p.reason.contains('\r')));
    let member = "/c/tenants/t/members/7: {\"Custom\":\"a\\nb\"}\n/c/users/u: {\"id\":7}\n";
    let report = check(member.as_bytes(), Target::V2_4_3, None).unwrap();
    let missing_role = report.problems.iter().find(|p| p.code == "missing-role");
    for p in &report.problems {
        assert!(!p.reason.contains(['\n', '\r']), "{p:?}");
    }
    assert!(
        missing_role.unwrap().reason.contains(r"`a\nb`"),
        "{:?}",
        report.problems
    );
}

/// fuzz `check`: a line ending in CR CR LF left a CR at the end of the value once its CR LF was
/// read as LF; transform wrote the value as it was (an unknown key's, kept), so the output line
/// ended in CR LF again and check refused it (`crlf`). Transform now refuses such a value, naming
/// its line; a plain CR LF line is still normalized.
#[test]
fn a_value_ending_in_a_cr_is_refused_not_written() {
    for target in Target::ALL {
        for input in [
            "/c/dbs/public: {\"drop_after\":\r\r\n",
            "/c/foo/bar: {\"x\":1}\r\r\n",
        ] {
            let err = transform_then_check(input, target, Some("cluster_xxx")).unwrap_err();
            assert!(
                err.contains("line 1:") && err.contains("carriage return"),
                "{err}"
            );
        }
        let out = transform_then_check("/c/foo/bar: {\"x\":1}\r\n", target, None).unwrap();
        assert_eq!(out, "/c/foo/bar: {\"x\":1}\n");
    }
}

/// Since check reads with the model and no longer with the rules: members the rules copy as they
/// are (a tenant's `comment`, a column's `encoding`) were written unread, so a value the target
/// cannot read came out of transform and failed check. Transform now reads what it writes.
#[test]
fn transform_refuses_to_write_what_the_target_cannot_read() {
    let tenant = "/c/tenants/t: {\"id\":1,\"name\":\"t\",\"options\":{\"comment\":5,\"limiter_config\":null}}\n";
    let column = format!(
        "/c/tenants/t/dbs/DB: {}\n/c/tenants/t/dbs/DB/schemas/x: {}\n",
        DB.replace("\"d\"", "\"DB\""),
        TABLE.replace("\"Default\"", "\"Snazzy\""),
    );
    for target in Target::ALL {
        let err = transform_then_check(tenant, target, None).unwrap_err();
        assert!(
            err.contains(&format!(
                "line 1: tenant record /c/tenants/t: the value has `options.comment` as a \
                 number, where CnosDB {target} reads a string; fix or remove this record"
            )),
            "{err}"
        );
        let err = transform_then_check(&column, target, None).unwrap_err();
        assert!(
            err.contains("line 2: table record") && err.contains("`columns.encoding`"),
            "{err}"
        );
    }
}
