//! `fetch` against a fake meta service on 127.0.0.1: success, and every way it must fail
//! without leaving a file.

use crate::meta_server;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use meta_server::{Behaviour, ErrorPage, MetaServer, Version};
use sha2::{Digest, Sha256};

const SEED: &str = r#"/cluster_xxx/auto_incr_id: 1008
/cluster_xxx/tenants/cnosdb: {"id":34967873693446849787034438314352008249,"name":"cnosdb","options":{"comment":"system tenant","limiter_config":null}}
/cluster_xxx/tenants/cnosdb/dbs/public: {"tenant":"cnosdb","database":"public","config":{"ttl":null,"shard_num":null,"vnode_duration":null,"replica":null,"precision":null}}
/cluster_xxx/users/root: {"id":94375436913342069733431066432209431397,"name":"root","options":{"password":"$2b$12$AAAAAAAAAAAAAAAAAAAAAOabcdefghijklmnopqrstuvwxyz01234","must_change_password":false,"comment":"system admin: yes"},"is_admin":true}
/data_version: 17
"#;

fn cmd() -> Command {
    let mut c = Command::cargo_bin("cnosdb-migrate").expect("the binary is built");
    for var in ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"] {
        c.env_remove(var);
    }
    c.timeout(Duration::from_secs(60));
    c
}

fn server(version: Version, behaviour: Behaviour) -> MetaServer {
    MetaServer::start(version, behaviour, SEED)
}

fn files_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("listing the temp dir")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

/// Runs `fetch URL -o DIR/out` expecting exit 4, and checks that nothing was saved.
fn fetch_fails(url: &str) -> String {
    let dir = tempfile::tempdir().expect("a temp dir");
    let out = cmd()
        .args(["fetch", url, "-o"])
        .arg(dir.path().join("out"))
        .output()
        .expect("running fetch");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(4), "stderr: {stderr}");
    assert!(
        files_in(dir.path()).is_empty(),
        "a failed fetch left {:?}",
        files_in(dir.path())
    );
    stderr
}

#[test]
fn fetches_the_dump_byte_exact_private_with_count_and_sha256() {
    let srv = server(Version::V23, Behaviour::default());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("meta.dump");
    let out = cmd()
        .args(["fetch", &srv.url, "-o"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let saved = std::fs::read(&path).unwrap();
    assert_eq!(saved, srv.dump_body().as_bytes());
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(stderr.contains("fetched 5 records"), "{stderr}");
    let hex: String = Sha256::digest(&saved)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(
        stderr.contains(&format!("sha256 {hex}  {}", path.display())),
        "{stderr}"
    );
    assert_eq!(files_in(dir.path()), vec!["meta.dump"]);
    let log = srv.log();
    assert_eq!(
        (log[0].method.as_str(), log[0].url.as_str()),
        ("GET", "/dump")
    );
    assert_eq!(log[0].header("accept-encoding"), Some("identity"));
}

#[test]
fn debug_url_is_used_as_given_for_both_banners() {
    for version in [Version::V23Singleton, Version::V24] {
        let srv = server(version, Behaviour::default());
        let out = cmd()
            .args(["fetch", &format!("{}/debug", srv.url)])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert_eq!(
            out.stdout,
            srv.debug_body().as_bytes(),
            "stdout carries the dump"
        );
        assert!(
            stderr.contains("5 records") && stderr.contains("/debug form"),
            "{stderr}"
        );
        assert!(
            stderr.contains("sha256 ") && stderr.ends_with("  -\n"),
            "{stderr}"
        );
    }
}

#[test]
fn refuses_to_overwrite_without_force() {
    let srv = server(Version::V24, Behaviour::default());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("meta.dump");
    std::fs::write(&path, "old\n").unwrap();
    let out = cmd()
        .args(["fetch", &srv.url, "-o"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    assert_eq!(std::fs::read(&path).unwrap(), b"old\n");
    assert!(srv.log().is_empty(), "refused before any request");
    cmd()
        .args(["fetch", "-q", "--force", &srv.url, "-o"])
        .arg(&path)
        .assert()
        .success()
        .stderr("");
    assert_eq!(std::fs::read(&path).unwrap(), srv.dump_body().as_bytes());
}

#[test]
fn singleton_404_on_dump_suggests_debug() {
    let srv = server(Version::V23Singleton, Behaviour::default());
    let stderr = fetch_fails(&srv.url);
    assert!(stderr.contains("HTTP 404"), "{stderr}");
    assert!(
        stderr.contains(&format!("try {}/debug", srv.url)),
        "{stderr}"
    );
}

#[test]
fn truncated_debug_is_refused() {
    let srv = server(
        Version::V23,
        Behaviour {
            truncate_debug: true,
            ..Default::default()
        },
    );
    let stderr = fetch_fails(&format!("{}/debug", srv.url));
    assert!(
        stderr.contains("no footer") && stderr.contains("truncated"),
        "{stderr}"
    );
}

#[test]
fn dropped_connection_is_refused() {
    let url = meta_server::serve_broken(SEED);
    let stderr = fetch_fails(&url);
    assert!(stderr.contains("broke off"), "{stderr}");
}

#[test]
fn error_pages_and_statuses_are_refused() {
    let srv = server(
        Version::V24,
        Behaviour {
            error_page: Some(ErrorPage::Html),
            ..Default::default()
        },
    );
    let stderr = fetch_fails(&srv.url);
    assert!(
        stderr.contains("text/html") && stderr.contains("502 Bad Gateway"),
        "{stderr}"
    );

    srv.set_behaviour(Behaviour {
        error_page: Some(ErrorPage::Json),
        ..Default::default()
    });
    let stderr = fetch_fails(&srv.url);
    assert!(
        stderr.contains("application/json") && stderr.contains("error_code"),
        "{stderr}"
    );

    srv.set_behaviour(Behaviour {
        status: Some(503),
        ..Default::default()
    });
    let stderr = fetch_fails(&srv.url);
    assert!(
        stderr.contains("HTTP 503") && stderr.contains("Service Unavailable"),
        "{stderr}"
    );

    srv.set_behaviour(Behaviour {
        status: Some(200),
        ..Default::default()
    });
    let stderr = fetch_fails(&srv.url);
    assert!(
        stderr.contains("not a complete dump: line 1: no \": \" separator"),
        "{stderr}"
    );
}

#[test]
fn compressed_body_is_refused() {
    let srv = server(
        Version::V23,
        Behaviour {
            gzip: true,
            ..Default::default()
        },
    );
    let stderr = fetch_fails(&srv.url);
    assert!(stderr.contains("gzip-encoded"), "{stderr}");
}

#[test]
fn slow_server_hits_the_read_timeout() {
    let srv = server(
        Version::V24,
        Behaviour {
            stall: Some(Duration::from_secs(10)),
            ..Default::default()
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = cmd()
        .args(["fetch", &srv.url, "--read-timeout", "1", "-o"])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("nothing for 1 s (--read-timeout)"),
        "{stderr}"
    );
    assert!(took < Duration::from_secs(8), "took {took:?}");
    assert!(files_in(dir.path()).is_empty());
}

#[test]
fn connection_refused_is_a_remote_failure() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let stderr = fetch_fails(&format!("http://127.0.0.1:{port}"));
    assert!(stderr.contains("refused"), "{stderr}");
}

#[test]
fn bad_urls_are_usage_errors() {
    for url in ["https://127.0.0.1:8901", "ftp://h/x", "http://"] {
        cmd()
            .args(["fetch", url, "-o", "/nonexistent/x"])
            .assert()
            .code(2);
    }
}
