//! Negative controls on real servers: files that users restored by following incomplete
//! recipes must be seen to break a real 2.4 server the way users saw it, and `check` must
//! call them unsafe. They show that the end-to-end tests can fail.

use crate::cnosdb;

use std::path::Path;

use cnosdb::{p, said, tool, Server, SOURCE};

/// A small real 2.3.5.4 installation (a tenant, a user with a password, a database with a
/// table and rows), fetched as `/debug` into `dir`.
fn source_debug(dir: &Path) -> std::path::PathBuf {
    let s = Server::start(SOURCE);
    for (tenant, db, sql) in [
        ("cnosdb", "public", "CREATE TENANT acme WITH COMMENT='acme'"),
        (
            "cnosdb",
            "public",
            "CREATE USER alice WITH PASSWORD='alice-pw'",
        ),
        (
            "cnosdb",
            "public",
            "ALTER TENANT acme ADD USER alice AS owner",
        ),
        ("acme", "public", "CREATE DATABASE sensors WITH TTL '3650d'"),
        (
            "acme",
            "sensors",
            "CREATE TABLE air (v DOUBLE, TAGS(station))",
        ),
        (
            "acme",
            "sensors",
            "INSERT INTO air (time, station, v) VALUES (now(), 'a', 1.5)",
        ),
    ] {
        s.must(tenant, db, sql);
    }
    let debug = dir.join("source.debug.txt");
    let url = format!("{}/debug", s.meta_url());
    let out = tool(&["fetch", "-q", &url, "-o", p(&debug)]);
    assert!(out.status.success(), "{}", said(&out));
    debug
}

/// Restores `file` unchecked into `s`.
fn restore_unchecked(s: &Server, file: &Path) {
    let out = tool(&["restore", "-q", &s.meta_url(), p(file), "--no-check"]);
    assert!(out.status.success(), "{}", said(&out));
}

/// The official recipe's file: the `/debug` lines as `KEY: VALUE`, with only
/// `"db_is_hidden":false` added to every database `config`.
fn official_recipe(debug: &Path, to: &Path) {
    let text = std::fs::read_to_string(debug).unwrap();
    let mut out = String::new();
    for line in text.lines().filter_map(|l| l.strip_prefix("* ")) {
        let (key, value) = line.split_once(": ").unwrap();
        let is_db =
            key.contains("/dbs/") && !key.contains("/schemas/") && !key.contains("/buckets/");
        let value = if is_db {
            let v = value.strip_suffix("}}").expect("a 2.3 database record");
            format!("{v},\"db_is_hidden\":false}}}}")
        } else {
            value.to_string()
        };
        out.push_str(&format!("{key}: {value}\n"));
    }
    std::fs::write(to, out).unwrap();
}

#[test]
fn the_official_recipe_breaks_a_real_2_4_0() {
    if !cnosdb::available("the_official_recipe_breaks_a_real_2_4_0") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let debug = source_debug(dir.path());
    let recipe = dir.path().join("recipe.txt");
    official_recipe(&debug, &recipe);
    let out = tool(&["check", "--target", "2.4.0", p(&recipe)]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "check calls it unsafe: {}",
        said(&out)
    );

    let mut s = Server::start("2.4.0");
    restore_unchecked(&s, &recipe);
    // The tenant records lack `tenant_is_hidden`: 2.4.0 cannot list the tenants, and every
    // statement in the restored tenant fails.
    let listed = s.sql("cnosdb", "public", "SELECT * FROM cluster_schema.tenants");
    assert!(
        matches!(&listed, Err((_, body)) if body.contains("missing field `tenant_is_hidden`")),
        "{listed:?}"
    );
    let in_tenant = s.sql("acme", "sensors", "SELECT count(*) FROM air");
    assert!(in_tenant.is_err(), "{in_tenant:?}");
    // And the server does not start again (it exits with a panic's status, 101).
    let restarted = s.try_restart(false);
    assert!(
        matches!(&restarted, Err(why) if why.iter().any(|w| w.contains("101") || w.contains("panicked"))),
        "{restarted:?}"
    );
}

#[test]
fn a_2_4_0_conversion_breaks_a_real_2_4_3() {
    if !cnosdb::available("a_2_4_0_conversion_breaks_a_real_2_4_3") {
        return;
    }
    let newest = cnosdb::targets().pop().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let debug = source_debug(dir.path());
    let for_240 = dir.path().join("for-2.4.0.txt");
    let out = tool(&[
        "transform",
        "-q",
        "--target",
        "2.4.0",
        p(&debug),
        "-o",
        p(&for_240),
    ]);
    assert!(out.status.success(), "{}", said(&out));
    let target = cnosdb::tool_target(&newest);
    let out = tool(&["check", "--target", target, p(&for_240)]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "check calls it unsafe: {}",
        said(&out)
    );

    let mut s = Server::start(&newest);
    restore_unchecked(&s, &for_240);
    // Users carry `is_admin`, not `is_root_admin`: the data node panics at every start
    // (`sync_global_info().unwrap()` in meta/src/model/meta_admin.rs).
    let restarted = s.try_restart(false);
    assert!(
        matches!(&restarted, Err(why) if why.iter().any(|w| w.contains("panicked at meta/src/model/meta_admin.rs"))),
        "{restarted:?}"
    );
}
