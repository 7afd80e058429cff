//! `restore` against a fake meta service on 127.0.0.1: success means the server confirmed
//! every record; every other answer is exit 4 with the server's words and a resume command.

use crate::meta_server;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use meta_server::{Behaviour, MetaServer, Version};

fn cmd() -> Command {
    let mut c = Command::cargo_bin("cnosdb-migrate").expect("the binary is built");
    for var in ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"] {
        c.env_remove(var);
    }
    c.timeout(Duration::from_secs(60));
    c
}

/// A restore-ready file of `n` records, some values holding `": "` and long u128 ids.
fn records(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "/cluster_xxx/tenants/t{i:05}: {{\"id\":{},\"name\":\"t{i:05}\",\"options\":\
                 {{\"comment\":\"note: {i}\",\"limiter_config\":null,\"drop_after\":null,\"tenant_is_hidden\":false}}}}\n",
                34967873693446849787034438314352008249u128 + i as u128
            )
        })
        .collect()
}

/// What a real, fresh 2.4.3.4 meta service holds (fixtures/real/, captured from one): restore
/// learns the target's release and freshness from it before sending anything.
fn fresh() -> String {
    std::fs::read_to_string("fixtures/real/v2.4.3.4-dump-fresh.txt").expect("the fresh dump")
}

/// What `srv` holds besides the fresh cluster's own records.
fn restored(srv: &MetaServer) -> BTreeMap<String, String> {
    let own = kv_of(&fresh());
    srv.kv()
        .into_iter()
        .filter(|(k, _)| !own.contains_key(k))
        .collect()
}

/// How many `/restore` requests `srv` got.
fn posts(srv: &MetaServer) -> usize {
    srv.log().iter().filter(|l| l.method == "POST").count()
}

/// The key/values of a `/dump`-form text.
fn kv_of(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn write(dir: &Path, name: &str, text: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("writing a fixture");
    p
}

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out: Output = cmd().args(args).output().expect("running the binary");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The resume command printed after a failure, as arguments.
fn resume_args(stderr: &str) -> Vec<String> {
    let line = stderr
        .lines()
        .skip_while(|l| !l.contains("resume with:"))
        .nth(1)
        .unwrap_or_else(|| panic!("no resume command in: {stderr}"));
    let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
    assert_eq!(words[..2], ["cnosdb-migrate", "restore"], "{line}");
    words[1..].to_vec()
}

#[test]
fn restores_every_record_and_sends_raw_bytes() {
    let srv = MetaServer::start(Version::V24, Behaviour::default(), &fresh());
    let dir = tempfile::tempdir().unwrap();
    let text = records(20);
    let file = write(dir.path(), "ready.txt", text.as_bytes());
    let (code, stdout, stderr) = run(&["restore", &srv.url, file.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("restored records 1..20 (20 in 1 request)"),
        "{stderr}"
    );
    assert_eq!(restored(&srv), kv_of(&text));
    let log = srv.log();
    assert_eq!(log.len(), 2);
    assert_eq!(
        (log[0].method.as_str(), log[0].url.as_str()),
        ("GET", "/dump"),
        "the target's release and freshness are read first"
    );
    assert_eq!(
        (log[1].method.as_str(), log[1].url.as_str()),
        ("POST", "/restore")
    );
    assert_eq!(
        log[1].body,
        text.as_bytes(),
        "the body is the file, byte for byte"
    );
    assert_eq!(
        log[1].header("content-length"),
        Some(&*text.len().to_string())
    );
}

#[test]
fn stdin_and_quiet() {
    let srv = MetaServer::start(Version::V24, Behaviour::default(), &fresh());
    let text = records(3);
    cmd()
        .args(["restore", "-q", &srv.url, "-"])
        .write_stdin(text.clone())
        .assert()
        .success()
        .stdout("")
        .stderr("");
    assert_eq!(restored(&srv), kv_of(&text));
}

#[test]
fn oversized_body_for_2_3_fails_then_chunks_pass() {
    let srv = MetaServer::start(
        Version::V23,
        Behaviour {
            body_limit: Some(256 << 10),
            ..Default::default()
        },
        "",
    );
    let dir = tempfile::tempdir().unwrap();
    let text = records(2000);
    assert!(text.len() > 256 << 10);
    let file = write(dir.path(), "big.txt", text.as_bytes());
    let path = file.to_str().unwrap();
    // restore reads a 2.4 target's release from its /dump; a 2.3 target takes only
    // unchecked files.
    let (code, _, stderr) = run(&["restore", &srv.url, path, "--no-check"]);
    assert_eq!(code, Some(4), "{stderr}");
    assert!(
        stderr.contains("HTTP 413") && stderr.contains("--chunk-records"),
        "{stderr}"
    );
    assert!(
        stderr.contains("records 1..2000 were not applied"),
        "{stderr}"
    );
    assert!(srv.kv().is_empty());

    let (code, _, stderr) = run(&[
        "restore",
        &srv.url,
        path,
        "--chunk-records",
        "500",
        "--no-check",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("(2000 in 4 requests)"), "{stderr}");
    assert_eq!(srv.kv(), kv_of(&text));
    let sizes: Vec<usize> = srv.log()[1..].iter().map(|l| l.body.len()).collect();
    assert_eq!(sizes.len(), 4);
    assert!(sizes.iter().all(|&n| n < 256 << 10), "{sizes:?}");
}

#[test]
fn follower_answer_is_a_failure_pointing_at_the_leader() {
    let srv = MetaServer::start(
        Version::V24,
        Behaviour {
            follower: true,
            ..Default::default()
        },
        &fresh(),
    );
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "ready.txt", records(5).as_bytes());
    let (code, _, stderr) = run(&["restore", &srv.url, file.to_str().unwrap()]);
    assert_eq!(code, Some(4), "{stderr}");
    assert!(
        stderr.contains("«has to forward request to: Some(1)"),
        "{stderr}"
    );
    assert!(stderr.contains("restore to the leader"), "{stderr}");
    assert!(stderr.contains(&format!("names {}", srv.url)), "{stderr}");
    assert!(
        stderr.contains("records 1..5 may be partly applied"),
        "{stderr}"
    );
    assert!(restored(&srv).is_empty());
}

#[test]
fn mid_file_failure_then_resume_applies_everything_exactly() {
    let srv = MetaServer::start(
        Version::V24,
        Behaviour {
            fail_at_record: Some(5),
            ..Default::default()
        },
        &fresh(),
    );
    let dir = tempfile::tempdir().unwrap();
    let text = records(10);
    let file = write(dir.path(), "ready.txt", text.as_bytes());
    let path = file.to_str().unwrap();
    let (code, _, stderr) = run(&["restore", &srv.url, path, "--chunk-records", "3"]);
    assert_eq!(code, Some(4), "{stderr}");
    assert!(stderr.contains("«raft fatal error"), "{stderr}");
    assert!(
        stderr.contains("records 1..3 are applied (the server confirmed them); records 4..6 may be partly applied; records 7..10 were not sent"),
        "{stderr}"
    );
    let resume = resume_args(&stderr);
    assert_eq!(
        resume.join(" "),
        format!(
            "restore {} {path} --resume-from 4 --chunk-records 3",
            srv.url
        )
    );
    assert_eq!(
        srv.sets(),
        4,
        "records 1..4 were written before the failure"
    );

    let out = cmd().args(&resume).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("restored records 4..10 (7 in 3 requests)"),
        "{stderr}"
    );
    assert_eq!(
        restored(&srv),
        kv_of(&text),
        "every record, with the file's value"
    );
    assert_eq!(srv.sets(), 4 + 7, "only record 4 was written twice");
}

#[test]
fn failure_without_chunks_resumes_from_the_start() {
    let srv = MetaServer::start(
        Version::V24,
        Behaviour {
            fail_at_record: Some(2),
            ..Default::default()
        },
        &fresh(),
    );
    let dir = tempfile::tempdir().unwrap();
    let text = records(4);
    let file = write(dir.path(), "ready.txt", text.as_bytes());
    let (code, _, stderr) = run(&[
        "restore",
        &srv.url,
        file.to_str().unwrap(),
        "--read-timeout",
        "30",
    ]);
    assert_eq!(code, Some(4), "{stderr}");
    assert!(
        stderr.contains("records 1..4 may be partly applied.\n"),
        "{stderr}"
    );
    let resume = resume_args(&stderr);
    assert!(
        resume
            .join(" ")
            .ends_with("--resume-from 1 --read-timeout 30"),
        "{resume:?}"
    );
    cmd().args(&resume).assert().success();
    assert_eq!(restored(&srv), kv_of(&text));
}

#[test]
fn a_wrong_total_is_a_failure() {
    let srv = MetaServer::start(
        Version::V24,
        Behaviour {
            wrong_total: Some(2),
            ..Default::default()
        },
        &fresh(),
    );
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "ready.txt", records(3).as_bytes());
    let (code, _, stderr) = run(&["restore", &srv.url, file.to_str().unwrap()]);
    assert_eq!(code, Some(4), "{stderr}");
    assert!(
        stderr.contains("reports 2 records restored, but 3 were sent"),
        "{stderr}"
    );
}

#[test]
fn statuses_and_connection_failures() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "ready.txt", records(3).as_bytes());
    let path = file.to_str().unwrap();

    let srv = MetaServer::start(
        Version::V24,
        Behaviour {
            status: Some(500),
            ..Default::default()
        },
        &fresh(),
    );
    // The stand-in answers 500 to its /dump too: --no-check reaches the POST.
    let (code, _, stderr) = run(&["restore", &srv.url, path, "--no-check"]);
    assert_eq!(code, Some(4), "{stderr}");
    assert!(
        stderr.contains("HTTP 500") && stderr.contains("may be partly applied"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&["restore", &srv.url, path]);
    assert_eq!(code, Some(4), "{stderr}");
    assert!(
        stderr.contains("GET ")
            && stderr.contains("HTTP 500")
            && stderr.contains("nothing was sent"),
        "{stderr}"
    );

    let singleton = MetaServer::start(Version::V23Singleton, Behaviour::default(), "");
    let (code, _, stderr) = run(&["restore", &singleton.url, path, "--no-check"]);
    assert_eq!(code, Some(4), "{stderr}");
    assert!(
        stderr.contains("HTTP 404") && stderr.contains("records 1..3 were not applied"),
        "{stderr}"
    );
    let sent = posts(&singleton);
    let (code, _, stderr) = run(&["restore", &singleton.url, path]);
    assert_eq!(code, Some(4), "{stderr}");
    assert!(
        stderr.contains("HTTP 404") && stderr.contains("nothing was sent"),
        "{stderr}"
    );
    assert_eq!(posts(&singleton), sent);

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (code, _, stderr) = run(&["restore", &format!("127.0.0.1:{port}"), path, "--no-check"]);
    assert_eq!(code, Some(4), "{stderr}");
    assert!(
        stderr.contains("refused") && stderr.contains("records 1..3 were not applied"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&["restore", &format!("127.0.0.1:{port}"), path]);
    assert_eq!(code, Some(4), "{stderr}");
    assert!(
        stderr.contains("refused") && stderr.contains("nothing was sent"),
        "{stderr}"
    );
}

#[test]
fn slow_server_hits_the_read_timeout() {
    let srv = MetaServer::start(
        Version::V24,
        Behaviour {
            stall: Some(Duration::from_secs(10)),
            ..Default::default()
        },
        &fresh(),
    );
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "ready.txt", records(3).as_bytes());
    let started = Instant::now();
    // The stand-in stalls its /dump too: --no-check goes straight to the POST.
    let (code, _, stderr) = run(&[
        "restore",
        &srv.url,
        file.to_str().unwrap(),
        "--read-timeout",
        "1",
        "--no-check",
    ]);
    assert_eq!(code, Some(4), "{stderr}");
    assert!(
        stderr.contains("nothing for 1 s (--read-timeout)"),
        "{stderr}"
    );
    assert!(stderr.contains("may be partly applied"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(8));
}

#[test]
fn files_that_are_not_restore_ready_are_refused_before_sending() {
    let srv = MetaServer::start(Version::V24, Behaviour::default(), &fresh());
    let dir = tempfile::tempdir().unwrap();
    let debug = meta_server::debug_text(Version::V23, &kv_of(&records(2)));
    let cases: [(&str, &[u8], &str); 4] = [
        ("debug.txt", debug.as_bytes(), "/debug dump"),
        ("crlf.txt", b"/a: 1\r\n/b: 2\r\n", "2 lines end in CR LF"),
        ("junk.txt", b"/a: 1\njunk\n", "line 2"),
        ("empty.txt", b"\n", "no record"),
    ];
    for (name, text, why) in cases {
        let file = write(dir.path(), name, text);
        let (code, _, stderr) = run(&["restore", &srv.url, file.to_str().unwrap()]);
        assert_eq!(code, Some(1), "{name}: {stderr}");
        assert!(stderr.contains(why), "{name}: {stderr}");
    }
    let file = write(dir.path(), "ok.txt", records(2).as_bytes());
    let (code, _, stderr) = run(&[
        "restore",
        &srv.url,
        file.to_str().unwrap(),
        "--target",
        "2.9",
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(posts(&srv), 0, "nothing was sent");
}

#[test]
fn target_runs_the_full_check_before_sending() {
    let srv = MetaServer::start(Version::V24, Behaviour::default(), &fresh());
    let (code, _, stderr) = run(&[
        "restore",
        &srv.url,
        "fixtures/v2.3/small.dump.txt",
        "--target",
        "2.4.3",
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("[drop.auto-incr-id]"), "{stderr}");
    assert!(stderr.contains("found"), "{stderr}");
    assert_eq!(posts(&srv), 0, "nothing was sent");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ready.txt");
    let converted = cmd()
        .args([
            "transform",
            "-q",
            "--target",
            "2.4.3",
            "fixtures/v2.3/small.dump.txt",
            "-o",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(converted.status.success());
    let (code, _, stderr) = run(&[
        "restore",
        &srv.url,
        out.to_str().unwrap(),
        "--target",
        "2.4.3",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(posts(&srv), 1, "the checked file was sent");
}

#[test]
fn no_check_sends_anyway_and_counts_like_the_server() {
    let srv = MetaServer::start(Version::V24, Behaviour::default(), &fresh());
    let dir = tempfile::tempdir().unwrap();
    // Blank and separator-less lines are skipped by the server; a CR stays in the value.
    let file = write(dir.path(), "odd.txt", b"/a: 1\r\njunk\n\n/b: x: y");
    let (code, _, stderr) = run(&[
        "restore",
        "-q",
        &srv.url,
        file.to_str().unwrap(),
        "--no-check",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("warning: --no-check"),
        "loud even with -q: {stderr}"
    );
    let kv = restored(&srv);
    assert_eq!(kv.len(), 2);
    assert_eq!(kv["/a"], "1\r");
    assert_eq!(kv["/b"], "x: y");
}

#[test]
fn strict_utf8_of_2_3_is_reported() {
    let srv = MetaServer::start(Version::V23, Behaviour::default(), "");
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "bad.txt", b"/a: \xff\n");
    let (code, _, stderr) = run(&["restore", &srv.url, file.to_str().unwrap(), "--no-check"]);
    assert_eq!(code, Some(4), "{stderr}");
    assert!(
        stderr.contains("HTTP 400") && stderr.contains("UTF-8"),
        "{stderr}"
    );
}

#[test]
fn dry_run_sends_nothing() {
    let srv = MetaServer::start(Version::V24, Behaviour::default(), &fresh());
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "ready.txt", records(5).as_bytes());
    let (code, stdout, stderr) = run(&[
        "restore",
        &srv.url,
        file.to_str().unwrap(),
        "--dry-run",
        "--chunk-records",
        "2",
        "--resume-from",
        "2",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("would POST 2 requests to"), "{stdout}");
    assert!(stdout.contains("records 2..5 of 5"), "{stdout}");
    assert!(
        stdout.contains("request 2: records 4..5 (2 records"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("tenant_is_hidden"),
        "values are never printed"
    );
    assert_eq!(posts(&srv), 0);
}

#[test]
fn usage_errors() {
    let srv = MetaServer::start(Version::V24, Behaviour::default(), &fresh());
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "ready.txt", records(3).as_bytes());
    let path = file.to_str().unwrap();
    for args in [
        vec!["restore", &srv.url, path, "--resume-from", "4"],
        vec!["restore", &srv.url, path, "--resume-from", "0"],
        vec!["restore", &srv.url, path, "--chunk-records", "0"],
        vec!["restore", "http://127.0.0.1:1/dump", path],
        vec!["restore", &srv.url, path, "--no-check", "--target", "2.4.3"],
    ] {
        let (code, _, stderr) = run(&args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
    }
    assert_eq!(posts(&srv), 0);
}
