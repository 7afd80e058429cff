//! Real CnosDB servers for tests: the binaries in `../shared/cnosdb/` (built from the public
//! tags, listening on 127.0.0.1 only), unpacked once into `target/cnosdb-servers/`, each
//! server started in a fresh temporary directory on free ports and stopped by its PID when its
//! handle drops (a test that panics too). Nothing else is ever killed.
//!
//! With `CI=true` a missing binary fails the test; elsewhere the tests say how to run them and
//! skip. `CNOSDB_SERVERS=DIR` names another directory laid out like `../shared/cnosdb/`.
//!
//! Unpacking uses the system `xz` (xz-utils; `.ci/run` installs it when missing): it decodes
//! the 25 MB archives in about 5 s, where a pure-Rust decoder is several times slower and a
//! liblzma binding would compile a C library into every test build.
#![allow(dead_code)]

use std::collections::{BTreeSet, HashSet};
use std::fs;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use sha2::{Digest, Sha256};

/// The release of the 2.3 source servers.
pub const SOURCE: &str = "2.3.5.4";

/// The directory holding the servers, if there is one.
fn servers_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("CNOSDB_SERVERS") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/cnosdb"),
    };
    dir.join("SHA256SUMS").is_file().then_some(dir)
}

/// Whether the real servers are there; without them, in CI, this panics, and elsewhere it
/// says (past libtest's capture) how to run the test and returns false.
pub fn available(test: &str) -> bool {
    if servers_dir().is_some() {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true but the real CnosDB servers are missing: put ../shared/cnosdb beside the checkout or set CNOSDB_SERVERS");
    }
    let _ = writeln!(
        std::io::stderr(),
        "skipped {test}: no real CnosDB servers (put ../shared/cnosdb beside the checkout, or set CNOSDB_SERVERS=DIR)"
    );
    false
}

/// Every 2.4.x release in the servers directory, oldest first.
pub fn targets() -> Vec<String> {
    let dir = servers_dir().expect("servers directory");
    let mut found: Vec<String> = fs::read_dir(&dir)
        .expect("listing the servers directory")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("2.4.") && dir.join(n).join("cnosdb.xz").is_file())
        .collect();
    found.sort_by_key(|n| {
        n.split('.')
            .map(|p| p.parse::<u32>().unwrap_or(0))
            .collect::<Vec<_>>()
    });
    assert!(!found.is_empty(), "no 2.4.x release in {}", dir.display());
    found
}

/// The `--target` of the tool for a release directory (`2.4.3.4` → `2.4.3`).
pub fn tool_target(release: &str) -> &str {
    if release.starts_with("2.4.3") {
        "2.4.3"
    } else {
        release
    }
}

/// The unpacked binary `name` of `release`, checked against `SHA256SUMS`.
pub fn binary(release: &str, name: &str) -> PathBuf {
    static UNPACKING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = UNPACKING.lock().unwrap_or_else(|e| e.into_inner());
    let src = servers_dir().expect("servers directory");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/cnosdb-servers")
        .join(release);
    let bin = dir.join(name);
    let marker = dir.join(format!("{name}.verified"));
    if bin.is_file() && marker.is_file() {
        return bin;
    }
    fs::create_dir_all(&dir).unwrap();
    let want = expected_sha256(&src, &format!("{release}/{name}"));
    let part = dir.join(format!("{name}.part{}", std::process::id()));
    let out = fs::File::create(&part).unwrap();
    let status = Command::new("xz")
        .arg("-dc")
        .arg(src.join(release).join(format!("{name}.xz")))
        .stdout(out)
        .status()
        .unwrap_or_else(|e| panic!("running xz (install xz-utils): {e}"));
    assert!(status.success(), "xz -dc {release}/{name}.xz failed");
    assert_eq!(sha256_of(&part), want, "{release}/{name}: SHA-256 mismatch");
    let mut perm = fs::metadata(&part).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
    fs::set_permissions(&part, perm).unwrap();
    fs::rename(&part, &bin).unwrap();
    fs::write(&marker, want).unwrap();
    bin
}

fn expected_sha256(dir: &Path, file: &str) -> String {
    let sums = fs::read_to_string(dir.join("SHA256SUMS")).expect("reading SHA256SUMS");
    sums.lines()
        .filter_map(|l| l.split_once("  "))
        .find(|(_, f)| *f == file)
        .map(|(h, _)| h.to_string())
        .unwrap_or_else(|| panic!("{file} is not in SHA256SUMS"))
}

fn sha256_of(path: &Path) -> String {
    let mut f = fs::File::open(path).unwrap();
    let mut h = Sha256::new();
    let mut buf = vec![0; 1 << 20];
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Six free loopback ports, never handed out twice in this process.
fn free_ports() -> [u16; 6] {
    static GIVEN: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    let mut given = GIVEN
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let mut held = Vec::new();
    let mut ports = [0; 6];
    let mut n = 0;
    while n < 6 {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let p = l.local_addr().unwrap().port();
        held.push(l);
        if given.insert(p) {
            ports[n] = p;
            n += 1;
        }
    }
    ports
}

/// How a server runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `cnosdb run -M singleton`: meta service and data node in one process.
    Singleton,
    /// 2.3.5.4's `cnosdb-meta`, the cluster-mode meta service.
    Meta,
    /// `cnosdb run -M query_tskv`: a data node of the meta service on `meta_port`.
    DataNode { meta_port: u16 },
}

/// A running CnosDB server; stopped (by PID) when dropped.
pub struct Server {
    /// The release directory name (`2.4.3.4`).
    pub release: String,
    mode: Mode,
    dir: tempfile::TempDir,
    ports: [u16; 6],
    child: Option<Child>,
    auth: bool,
    /// The password of `root` that [`Server::sql`] sends.
    pub root_password: String,
    /// `panicked at` lines already reported by [`Server::assert_no_panic`].
    seen_panics: usize,
}

impl Server {
    /// Starts a fresh singleton of `release` with authentication off.
    pub fn start(release: &str) -> Server {
        Server::start_as(release, Mode::Singleton)
    }

    /// Starts a fresh server of `release` in `mode`.
    pub fn start_as(release: &str, mode: Mode) -> Server {
        let dir = tempfile::Builder::new()
            .prefix(&format!("cnosdb-{release}-"))
            .tempdir()
            .unwrap();
        let mut s = Server {
            release: release.to_string(),
            mode,
            dir,
            ports: free_ports(),
            child: None,
            auth: false,
            root_password: String::new(),
            seen_panics: 0,
        };
        if let Err(e) = s.launch() {
            panic!("{e}:\n{}", s.log_tail(60));
        }
        if mode == Mode::Meta {
            s.init_meta();
        }
        s
    }

    /// Makes a fresh `cnosdb-meta` the leader of a one-node raft group (`POST /init`) and
    /// waits until it has written its initial records; data nodes cannot join before.
    fn init_meta(&self) {
        let url = self.meta_url();
        http_post(&format!("{url}/init"), None, "*/*", b"")
            .unwrap_or_else(|e| panic!("POST {url}/init: {e:?}"));
        let start = Instant::now();
        while !self.meta_get("/dump").1.contains("/users/root: ") {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "cnosdb-meta wrote no root user within 60 s of /init:\n{}",
                self.log_tail(40)
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The meta service, `http://127.0.0.1:PORT`.
    pub fn meta_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports[0])
    }

    /// The meta service's port.
    pub fn meta_port(&self) -> u16 {
        self.ports[0]
    }

    /// The data node's HTTP API, `http://127.0.0.1:PORT`.
    pub fn http_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports[1])
    }

    /// The server's working directory (data, logs, config).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn config(&self) -> String {
        let src = servers_dir().unwrap();
        let template = match self.mode {
            Mode::Meta => "config-meta.toml",
            _ => "config.toml",
        };
        let text = fs::read_to_string(src.join(&self.release).join(template)).unwrap();
        let [meta, http, grpc, flight, tcp, vector] = self.ports;
        let meta = match self.mode {
            Mode::DataNode { meta_port } => meta_port,
            _ => meta,
        };
        let mut text = text
            .replace("@RUNDIR@", &self.dir.path().display().to_string())
            .replace("127.0.0.1:8901", &format!("127.0.0.1:{meta}"))
            .replace("port = 8901", &format!("port = {meta}"))
            .replace(
                "auth_enabled = false",
                &format!("auth_enabled = {}", self.auth),
            );
        for (from, to) in [
            (8902, http),
            (8903, grpc),
            (8904, flight),
            (8905, tcp),
            (8906, vector),
        ] {
            text = text.replace(
                &format!("_listen_port = {from}"),
                &format!("_listen_port = {to}"),
            );
        }
        text
    }

    fn log_file(&self) -> PathBuf {
        self.dir.path().join("server.out")
    }

    fn launch(&mut self) -> Result<(), String> {
        let config = self.dir.path().join("config.toml");
        fs::write(&config, self.config()).unwrap();
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_file())
            .unwrap();
        let (bin, args): (PathBuf, Vec<&str>) = match self.mode {
            Mode::Singleton => (
                binary(&self.release, "cnosdb"),
                vec!["run", "-M", "singleton"],
            ),
            Mode::DataNode { .. } => (
                binary(&self.release, "cnosdb"),
                vec!["run", "-M", "query_tskv"],
            ),
            Mode::Meta => (binary(&self.release, "cnosdb-meta"), vec![]),
        };
        let child = Command::new(bin)
            .args(args)
            .arg("--config")
            .arg(&config)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("starting cnosdb");
        self.child = Some(child);
        let ready = self.wait_ready();
        if ready.is_ok() {
            self.assert_loopback_only();
        }
        ready
    }

    /// Waits until the server answers; fails when it exits, logs a panic, or takes 120 s.
    fn wait_ready(&mut self) -> Result<(), String> {
        let url = match self.mode {
            Mode::Meta => format!("{}/debug", self.meta_url()),
            _ => format!("{}/api/v1/ping", self.http_url()),
        };
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                return Err(format!(
                    "CnosDB {} exited at start ({status})",
                    self.release
                ));
            }
            if self.panics().len() > self.seen_panics {
                return Err(format!("CnosDB {} panicked at start", self.release));
            }
            if matches!(http_get(&url), Ok((200, _))) {
                return Ok(());
            }
            if start.elapsed() > Duration::from_secs(120) {
                return Err(format!(
                    "CnosDB {} did not answer {url} within 120 s",
                    self.release
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The PID of the running process.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Panics (after stopping the server) if any socket the server listens on is not on
    /// 127.0.0.1.
    fn assert_loopback_only(&mut self) {
        let bad = non_loopback_listeners(self.pid());
        if !bad.is_empty() {
            self.terminate();
            panic!(
                "CnosDB {} listens beyond loopback: {bad:?}; stopped it",
                self.release
            );
        }
    }

    /// Stops the server and starts it again on the same directory and ports, with
    /// authentication `auth` (root then needs [`Server::root_password`]).
    pub fn restart(&mut self, auth: bool) {
        self.terminate();
        self.assert_no_panic("stopping");
        self.auth = auth;
        if let Err(e) = self.launch() {
            panic!("{e} (a restart):\n{}", self.log_tail(60));
        }
    }

    /// Restarts as [`Server::restart`] does, but hands back a failed start (and the panics
    /// it logged, which then no longer fail the test) instead of panicking.
    pub fn try_restart(&mut self, auth: bool) -> Result<(), Vec<String>> {
        self.terminate();
        self.auth = auth;
        let started = self.launch();
        let panics = self.take_panics();
        match started {
            Ok(()) if panics.is_empty() => Ok(()),
            Ok(()) => Err(panics),
            Err(e) => Err(std::iter::once(e).chain(panics).collect()),
        }
    }

    /// The `panicked at` lines logged since the last look; they no longer fail the test.
    pub fn take_panics(&mut self) -> Vec<String> {
        let all = self.panics();
        let new = all[self.seen_panics.min(all.len())..].to_vec();
        self.seen_panics = all.len();
        new
    }

    /// Stops the process: SIGTERM, then SIGKILL after 30 s.
    fn terminate(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if child.try_wait().ok().flatten().is_some() {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            if child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Every `panicked at` line in the server's output and logs.
    pub fn panics(&self) -> Vec<String> {
        let mut files = vec![self.log_file()];
        if let Ok(rd) = fs::read_dir(self.dir.path().join("log")) {
            files.extend(rd.filter_map(|e| Some(e.ok()?.path())));
        }
        let mut found = Vec::new();
        for f in files {
            if let Ok(bytes) = fs::read(&f) {
                let text = String::from_utf8_lossy(&bytes);
                found.extend(
                    text.lines()
                        .filter(|l| l.contains("panicked at"))
                        .map(str::to_string),
                );
            }
        }
        found
    }

    /// Panics if the server logged a panic since the last call, naming `after`.
    pub fn assert_no_panic(&mut self, after: &str) {
        let panics = self.panics();
        if panics.len() > self.seen_panics {
            let new = panics[self.seen_panics..].to_vec();
            self.seen_panics = panics.len();
            panic!(
                "CnosDB {} panicked after {after}: {new:?}\n{}",
                self.release,
                self.log_tail(40)
            );
        }
    }

    /// The last `n` lines of the server's output.
    pub fn log_tail(&self, n: usize) -> String {
        let text = fs::read_to_string(self.log_file()).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// `statement` in `tenant`/`db` as `root`, answered as CSV; `Err((status, body))` on
    /// an HTTP error.
    pub fn sql(&self, tenant: &str, db: &str, statement: &str) -> Result<String, (u16, String)> {
        self.sql_as("root", &self.root_password, tenant, db, statement)
    }

    /// `statement` as `user` with `password`.
    pub fn sql_as(
        &self,
        user: &str,
        password: &str,
        tenant: &str,
        db: &str,
        statement: &str,
    ) -> Result<String, (u16, String)> {
        let url = format!("{}/api/v1/sql?tenant={tenant}&db={db}", self.http_url());
        http_post(
            &url,
            Some((user, password)),
            "application/csv",
            statement.as_bytes(),
        )
    }

    /// `statement` as root, which must succeed.
    pub fn must(&self, tenant: &str, db: &str, statement: &str) -> String {
        self.sql(tenant, db, statement)
            .unwrap_or_else(|(s, b)| panic!("CnosDB {}: {statement}: HTTP {s} {b}", self.release))
    }

    /// What a table holds, in one line: its count, min and max time, its row count and the
    /// SHA-256 of every row ordered by time and `tags` (`… rows=N sha256=HEX`).
    pub fn table_contents(&self, tenant: &str, db: &str, table: &str, tags: &[&str]) -> String {
        use sha2::{Digest, Sha256};
        let stats = self.must(
            tenant,
            db,
            &format!("SELECT count(*), min(time), max(time) FROM {table}"),
        );
        let order = std::iter::once("time")
            .chain(tags.iter().copied())
            .collect::<Vec<_>>()
            .join(", ");
        let rows = self.must(
            tenant,
            db,
            &format!("SELECT * FROM {table} ORDER BY {order}"),
        );
        let hash: String = Sha256::digest(rows.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let stats = stats.lines().nth(1).unwrap_or("");
        let n = rows.lines().count().saturating_sub(1);
        format!("{stats} rows={n} sha256={hash}")
    }

    /// Writes line protocol into `tenant`/`db`, which must succeed.
    pub fn write_lines(&self, tenant: &str, db: &str, precision: &str, body: &str) {
        let url = format!(
            "{}/api/v1/write?tenant={tenant}&db={db}&precision={precision}",
            self.http_url()
        );
        if let Err((s, b)) = http_post(
            &url,
            Some(("root", &self.root_password)),
            "text/plain",
            body.as_bytes(),
        ) {
            panic!(
                "CnosDB {}: write into {tenant}.{db}: HTTP {s} {b}",
                self.release
            );
        }
    }

    /// `GET` of the meta service's `path` (`/debug`, `/dump`).
    pub fn meta_get(&self, path: &str) -> (u16, String) {
        http_get(&format!("{}{path}", self.meta_url())).expect("the meta service answers")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.terminate();
        if std::thread::panicking() {
            let _ = writeln!(
                std::io::stderr(),
                "--- last lines of CnosDB {} ({}) ---\n{}",
                self.release,
                self.dir.path().display(),
                self.log_tail(40)
            );
        } else {
            let panics = self.panics();
            if panics.len() > self.seen_panics {
                panic!(
                    "CnosDB {} panicked: {:?}\n{}",
                    self.release,
                    &panics[self.seen_panics..],
                    self.log_tail(40)
                );
            }
        }
    }
}

/// The listening TCP sockets and bound UDP sockets of `pid` that are not on 127.0.0.1.
pub fn non_loopback_listeners(pid: u32) -> Vec<String> {
    let inodes: BTreeSet<String> = fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|rd| {
            rd.filter_map(|e| {
                let link = fs::read_link(e.ok()?.path()).ok()?;
                let s = link.to_string_lossy();
                Some(s.strip_prefix("socket:[")?.strip_suffix(']')?.to_string())
            })
            .collect()
        })
        .unwrap_or_default();
    let mut bad = Vec::new();
    for (table, listen_state) in [("tcp", "0A"), ("tcp6", "0A"), ("udp", "07"), ("udp6", "07")] {
        let text = fs::read_to_string(format!("/proc/net/{table}")).unwrap_or_default();
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 10 || f[3] != listen_state || !inodes.contains(f[9]) {
                continue;
            }
            let addr = f[1].split(':').next().unwrap_or("");
            let loopback = addr == "0100007F"
                || addr == "00000000000000000000000001000000"
                || addr == "0000000000000000FFFF00000100007F";
            if !loopback {
                bad.push(format!("{table} {}", f[1]));
            }
        }
    }
    bad
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(300)))
        .build()
        .into()
}

/// `GET url`: the status and body.
pub fn http_get(url: &str) -> Result<(u16, String), String> {
    let mut resp = agent().get(url).call().map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .with_config()
        .limit(1 << 30)
        .read_to_string()
        .map_err(|e| e.to_string())?;
    Ok((status, body))
}

/// `POST url` with Basic auth: the body on a 2xx, else the status and body.
pub fn http_post(
    url: &str,
    auth: Option<(&str, &str)>,
    accept: &str,
    body: &[u8],
) -> Result<String, (u16, String)> {
    let mut req = agent().post(url).header("Accept", accept);
    if let Some((user, pw)) = auth {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}"));
        req = req.header("Authorization", format!("Basic {token}"));
    }
    let mut resp = req.send(body).map_err(|e| (0, e.to_string()))?;
    let status = resp.status().as_u16();
    let text = resp
        .body_mut()
        .with_config()
        .limit(1 << 30)
        .read_to_string()
        .map_err(|e| (status, e.to_string()))?;
    if (200..300).contains(&status) {
        Ok(text)
    } else {
        Err((status, text))
    }
}

/// Runs the `cnosdb-migrate` binary under test with `args`.
pub fn tool(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cnosdb-migrate"))
        .args(args)
        .output()
        .expect("running cnosdb-migrate")
}

/// Runs the tool, which must succeed; its stdout.
pub fn tool_ok(args: &[&str]) -> String {
    let out = tool(args);
    assert!(
        out.status.success(),
        "cnosdb-migrate {args:?}: {}",
        said(&out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The exit code, stdout and stderr of a run, for assertion messages.
pub fn said(out: &std::process::Output) -> String {
    format!(
        "exit {:?}\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A path as an argument.
pub fn p(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}
