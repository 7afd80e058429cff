//! `fetch` and `restore` against real servers: what each release's meta service answers, and
//! restore's refusals before it sends anything (a file the target cannot read, a target that
//! is not fresh, a file for another release).

use crate::cnosdb;

use std::path::Path;

use cnosdb::{p, said as text, tool, Mode, Server, SOURCE};

/// The keys of a `/dump`-form file.
fn keys(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once(": ").map(|(k, _)| k.to_string()))
        .collect()
}

#[test]
fn a_2_3_singleton_serves_debug_not_dump() {
    if !cnosdb::available("a_2_3_singleton_serves_debug_not_dump") {
        return;
    }
    let s = Server::start(SOURCE);
    let dir = tempfile::tempdir().unwrap();
    let out = tool(&["fetch", &s.meta_url(), "-o", p(&dir.path().join("d.txt"))]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(4), "{said}");
    assert!(
        said.contains("HTTP 404") && said.contains("/debug"),
        "{said}"
    );
    assert!(!dir.path().join("d.txt").exists(), "nothing saved");
    let debug = dir.path().join("debug.txt");
    let url = format!("{}/debug", s.meta_url());
    let out = tool(&["fetch", &url, "-o", p(&debug)]);
    assert!(out.status.success(), "{}", text(&out));
    let body = std::fs::read_to_string(&debug).unwrap();
    assert!(body.starts_with("******---"), "a 2.3 /debug frame: {body}");
    assert!(body.contains("* /cluster_xxx/users/root: "), "{body}");
    assert_eq!(
        s.meta_get("/restore").0,
        404,
        "2.3 singletons have no /restore"
    );
}

#[test]
fn a_2_3_cluster_meta_serves_dump() {
    if !cnosdb::available("a_2_3_cluster_meta_serves_dump") {
        return;
    }
    let meta = Server::start_as(SOURCE, Mode::Meta);
    let node = Server::start_as(
        SOURCE,
        Mode::DataNode {
            meta_port: meta.meta_port(),
        },
    );
    node.must(
        "cnosdb",
        "public",
        "CREATE DATABASE clustered WITH TTL '30d'",
    );
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump.txt");
    let out = tool(&["fetch", &meta.meta_url(), "-o", p(&dump)]);
    assert!(out.status.success(), "{}", text(&out));
    let keys = keys(&dump);
    for k in [
        "/cluster_xxx/tenants/cnosdb/dbs/clustered",
        "/cluster_xxx/users/root",
        "/cluster_xxx/data_nodes/1001",
    ] {
        assert!(keys.iter().any(|x| x == k), "{k} in {keys:?}");
    }
    let ready = dir.path().join("ready.txt");
    let out = tool(&[
        "transform",
        "-q",
        "--target",
        "2.4.3",
        p(&dump),
        "-o",
        p(&ready),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let out = tool(&["check", "--target", "2.4.3", p(&ready)]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn every_2_4_serves_dump_and_debug_and_counts_restores() {
    if !cnosdb::available("every_2_4_serves_dump_and_debug_and_counts_restores") {
        return;
    }
    for release in cnosdb::targets() {
        let s = Server::start(&release);
        let (status, dump) = s.meta_get("/dump");
        assert_eq!(status, 200, "{release}");
        let (status, debug) = s.meta_get("/debug");
        assert_eq!(status, 200, "{release}");
        assert!(
            debug.starts_with('*') && !dump.starts_with('*'),
            "{release}"
        );
        let dump_keys: Vec<&str> = dump
            .lines()
            .filter_map(|l| l.split_once(": ").map(|(k, _)| k))
            .collect();
        for line in debug.lines().filter_map(|l| l.strip_prefix("* ")) {
            let key = line.split_once(": ").unwrap().0;
            assert!(
                dump_keys.contains(&key)
                    || key.contains("/usage_schema/")
                    || key == "/data_version",
                "{release}: {key} is in /debug, not in /dump"
            );
        }
        // The exact answer of /restore: two records and a line without ": " (skipped).
        let body = "/probe/a: 1\njunk\n/probe/b: x: y\n";
        let answer = cnosdb::http_post(
            &format!("{}/restore", s.meta_url()),
            None,
            "*/*",
            body.as_bytes(),
        )
        .unwrap_or_else(|e| panic!("{release}: {e:?}"));
        // Byte for byte, as the stand-in in tests/support/meta_server.rs answers.
        assert_eq!(answer, "Restore Data Success, Total: 2 ", "{release}");
        let (_, after) = s.meta_get("/dump");
        assert!(after.contains("/probe/b: x: y\n"), "{release}");
    }
}

#[test]
fn restore_refuses_what_the_target_cannot_take() {
    if !cnosdb::available("restore_refuses_what_the_target_cannot_take") {
        return;
    }
    let release = cnosdb::targets().pop().unwrap();
    let s = Server::start(&release);
    let dir = tempfile::tempdir().unwrap();
    // A raw 2.3 dump, without --target: the release is read from the server, and the check
    // for it refuses the file.
    let out = tool(&[
        "restore",
        &s.meta_url(),
        "fixtures/v2.3/small.dump.txt",
        "--dry-run",
    ]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains(&format!("runs CnosDB {}", cnosdb::tool_target(&release))),
        "{said}"
    );
    // A file converted for 2.4.0 is not for this release.
    let for_240 = dir.path().join("240.txt");
    let out = tool(&[
        "transform",
        "-q",
        "--target",
        "2.4.0",
        "fixtures/v2.3/small.dump.txt",
        "-o",
        p(&for_240),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let out = tool(&["restore", &s.meta_url(), p(&for_240), "--target", "2.4.0"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.contains("the file is for CnosDB 2.4.0"), "{said}");
    let out = tool(&["restore", &s.meta_url(), p(&for_240)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    // The right file goes in; a second restore finds the cluster not fresh.
    let fresh = dir.path().join("fresh.txt");
    let out = tool(&["fetch", "-q", &s.meta_url(), "-o", p(&fresh)]);
    assert!(out.status.success(), "{}", text(&out));
    let ready = dir.path().join("ready.txt");
    let out = tool(&[
        "transform",
        "--target-from",
        p(&fresh),
        "fixtures/v2.3/small.dump.txt",
        "-o",
        p(&ready),
    ]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        !said.contains("not a fresh cluster"),
        "a fresh server's own usage_schema tables do not make it used: {said}"
    );
    let out = tool(&["restore", &s.meta_url(), p(&ready)]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("a fresh cluster"), "{said}");
    let out = tool(&[
        "restore",
        &s.meta_url(),
        p(&ready),
        "--target-from",
        p(&fresh),
    ]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains("is not fresh") && said.contains("--merge"),
        "{said}"
    );
    let out = tool(&["restore", "-q", &s.meta_url(), p(&ready), "--merge"]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn verify_proves_a_restore_and_sees_a_later_change() {
    if !cnosdb::available("verify_proves_a_restore_and_sees_a_later_change") {
        return;
    }
    let release = cnosdb::targets().pop().unwrap();
    let s = Server::start(&release);
    let dir = tempfile::tempdir().unwrap();
    let ready = dir.path().join("ready.txt");
    let target = cnosdb::tool_target(&release);
    let out = tool(&[
        "transform",
        "-q",
        "--target",
        target,
        "fixtures/v2.3/small.dump.txt",
        "-o",
        p(&ready),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let out = tool(&["restore", "-q", &s.meta_url(), p(&ready)]);
    assert!(out.status.success(), "{}", text(&out));
    let meta = s.meta_url();
    let verify = |extra: &[&str]| {
        let mut args = vec!["verify", meta.as_str(), p(&ready)];
        args.extend_from_slice(extra);
        tool(&args)
    };
    let http = s.http_url();
    let out = verify(&["--sql", &http]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains("OK: the cluster holds all"), "{said}");

    // A table dropped after the restore: its record is gone, and SHOW TABLES misses it.
    let tables = std::fs::read_to_string(&ready).unwrap();
    let table_key = tables
        .lines()
        .filter_map(|l| l.split_once(": ").map(|(k, _)| k))
        .find(|k| k.contains("/schemas/"))
        .expect("a table in the small fixture")
        .to_string();
    let parts: Vec<&str> = table_key.split('/').collect();
    let (tenant, db, table) = (parts[3], parts[5], parts[7]);
    s.must(tenant, db, &format!("DROP TABLE {table}"));
    let out = verify(&["--sql", &http, "--json"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let about_table: Vec<&str> = lines
        .iter()
        .filter(|l| l["key"] == table_key.as_str())
        .map(|l| l["verdict"].as_str().unwrap())
        .collect();
    assert!(about_table.contains(&"missing"), "{said}");
    assert!(lines.last().unwrap()["ok"] == false, "{said}");
    assert!(!said.contains("$2b$"), "no value is shown: {said}");
}

#[test]
fn the_listener_check_sees_a_socket_beyond_loopback() {
    // The harness stops any server listening beyond 127.0.0.1; this shows the check can fail.
    let me = std::process::id();
    let wild = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let port = wild.local_addr().unwrap().port();
    let found = cnosdb::non_loopback_listeners(me);
    assert!(
        found.iter().any(|s| s.ends_with(&format!(":{port:04X}"))),
        "{found:?}"
    );
    drop(wild);
    let local = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = local.local_addr().unwrap().port();
    let found = cnosdb::non_loopback_listeners(me);
    assert!(
        !found.iter().any(|s| s.ends_with(&format!(":{port:04X}"))),
        "{found:?}"
    );
}
