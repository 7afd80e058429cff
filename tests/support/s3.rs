//! A real S3-compatible server for tests: moto's server (PyPI `moto[server]`, the version
//! `.ci/run` pins and installs when missing), started with `python3 -m moto.server` on
//! 127.0.0.1 on a free port, stopped by its PID when the handle drops.
//!
//! moto checks no key until [`S3Server::check_keys`] turns the checks on: its SigV4 check refuses every signed
//! bucket listing with a prefix containing `/` (getmoto/moto#5948), and CnosDB's import lists
//! one; after `check_keys` every request must carry a key moto knows.
#![allow(dead_code)]

use std::io::Write;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::cnosdb::{http_get, http_post, non_loopback_listeners};

/// Whether `python3 -m moto.server` can run; in CI (`CI=true`) a missing moto fails the test,
/// elsewhere the test says how to get it and is skipped.
pub fn available(test: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import moto.server, flask, flask_cors"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true but moto's S3 server is missing: .ci/run installs it (pip install 'moto[server]')");
    }
    let _ = writeln!(
        std::io::stderr(),
        "skipped {test}: no S3 server (pip install 'moto[server]', or run .ci/run)"
    );
    false
}

/// A running moto server.
pub struct S3Server {
    child: Child,
    port: u16,
    log: tempfile::NamedTempFile,
}

impl S3Server {
    /// Starts moto on a free loopback port and waits until it answers.
    pub fn start() -> S3Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let log = tempfile::NamedTempFile::new().unwrap();
        let child = Command::new("python3")
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(log.reopen().unwrap())
            .stderr(log.reopen().unwrap())
            .spawn()
            .expect("starting python3 -m moto.server");
        let mut s = S3Server { child, port, log };
        let start = Instant::now();
        while !matches!(http_get(&s.url()), Ok((200, _))) {
            if let Some(status) = s.child.try_wait().unwrap() {
                panic!("moto exited at start ({status}):\n{}", s.log_text());
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "moto did not answer within 60 s:\n{}",
                s.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let bad = non_loopback_listeners(s.child.id());
        assert!(bad.is_empty(), "moto listens beyond loopback: {bad:?}");
        s
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What moto printed (one line per request).
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// Creates a bucket.
    pub fn create_bucket(&self, bucket: &str) {
        put(&format!("{}/{bucket}", self.url()));
    }

    /// The keys under `prefix` in `bucket` (the first 1000).
    pub fn keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let url = format!("{}/{bucket}?list-type=2&prefix={prefix}", self.url());
        let (status, body) = http_get(&url).unwrap();
        assert_eq!(status, 200, "{url}: {body}");
        body.split("<Key>")
            .skip(1)
            .filter_map(|s| s.split_once("</Key>").map(|(k, _)| k.to_string()))
            .collect()
    }

    /// From now on (`on`) every request must be signed with a key moto knows (it knows
    /// none), or (not `on`) no key is checked.
    pub fn check_keys(&self, on: bool) {
        let count: &[u8] = if on { b"0" } else { b"inf" };
        http_post(
            &format!("{}/moto-api/reset-auth", self.url()),
            None,
            "*/*",
            count,
        )
        .expect("POST /moto-api/reset-auth");
    }
}

fn put(url: &str) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let resp = agent.put(url).send_empty().unwrap();
    assert_eq!(resp.status().as_u16(), 200, "PUT {url}");
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
