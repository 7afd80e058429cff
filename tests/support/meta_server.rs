//! A fake CnosDB meta service on 127.0.0.1 for the remote tests, behaving as spec section 5
//! describes: routes and methods per version, the exact `/dump` and `/debug` bodies, and
//! `/restore`'s split-on-`\n`, skip-without-`": "`, stop-at-first-raft-error algorithm.
//!
//! Restored key/values land in a shared map, and every request is logged, so a test can
//! assert what the server was sent and what it applied.

// Each test binary uses its own part of this module.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

use tiny_http::{Header, Method, Request, Response, Server};

/// Which CnosDB the server imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// 2.3 cluster meta (actix): GET-only `/dump` and `/debug`, POST-only `/restore`,
    /// strict UTF-8, 404 for a wrong method.
    V23,
    /// 2.3 single instance: only `GET /debug`.
    V23Singleton,
    /// 2.4 meta (warp): any method on every route, lossy UTF-8, no body limit.
    V24,
}

/// A body served with 200 instead of a dump, as a proxy or a data node would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorPage {
    /// `text/html`.
    Html,
    /// A data node's JSON error.
    Json,
}

/// How the server misbehaves; the default is a healthy leader.
#[derive(Debug, Clone, Default)]
pub struct Behaviour {
    /// Every write fails on its first record with openraft's forward-to-leader text.
    pub follower: bool,
    /// The K-th write since start (1-based) fails with a raft error text, once.
    pub fail_at_record: Option<u64>,
    /// `/restore` answers this total instead of the true one.
    pub wrong_total: Option<u64>,
    /// Dumps stop after their first line for this long; `/restore` waits this long first.
    pub stall: Option<Duration>,
    /// 2.3: `/restore` bodies over this many bytes get 413 (256 KiB on 2.3.0–2.3.5.3).
    pub body_limit: Option<usize>,
    /// `/debug` ends without its footer line.
    pub truncate_debug: bool,
    /// Dumps are replaced by this error page (status 200).
    pub error_page: Option<ErrorPage>,
    /// Dumps are sent gzip-compressed whatever the client asked for.
    pub gzip: bool,
    /// Every request gets this status and a short text body.
    pub status: Option<u16>,
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Logged {
    /// `GET`, `POST`, …
    pub method: String,
    /// Path and query.
    pub url: String,
    /// Request headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
}

impl Logged {
    /// The value of header `name` (lower case), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

struct State {
    kv: BTreeMap<String, String>,
    sets: u64,
    log: Vec<Logged>,
    behaviour: Behaviour,
}

/// A running fake meta service; stops when dropped.
pub struct MetaServer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    version: Version,
    state: Arc<Mutex<State>>,
    server: Arc<Server>,
    thread: Option<thread::JoinHandle<()>>,
}

impl MetaServer {
    /// Starts a server holding the records of `dump` (`KEY: VALUE` lines).
    pub fn start(version: Version, behaviour: Behaviour, dump: &str) -> MetaServer {
        let kv = dump
            .lines()
            .filter_map(|l| l.split_once(": "))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let server = Arc::new(Server::http("127.0.0.1:0").expect("binding 127.0.0.1"));
        let port = server.server_addr().to_ip().expect("an IP address").port();
        let state = Arc::new(Mutex::new(State {
            kv,
            sets: 0,
            log: Vec::new(),
            behaviour,
        }));
        let thread = {
            let (server, state) = (Arc::clone(&server), Arc::clone(&state));
            thread::spawn(move || {
                for request in server.incoming_requests() {
                    let state = Arc::clone(&state);
                    // One thread per request, so that a stalled answer blocks nothing else.
                    thread::spawn(move || handle(version, port, &state, request));
                }
            })
        };
        MetaServer {
            url: format!("http://127.0.0.1:{port}"),
            version,
            state,
            server,
            thread: Some(thread),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The store's content.
    pub fn kv(&self) -> BTreeMap<String, String> {
        self.lock().kv.clone()
    }

    /// How many `Set`s `/restore` applied since start.
    pub fn sets(&self) -> u64 {
        self.lock().sets
    }

    /// Every request so far.
    pub fn log(&self) -> Vec<Logged> {
        self.lock().log.clone()
    }

    /// Changes the behaviour from now on.
    pub fn set_behaviour(&self, behaviour: Behaviour) {
        self.lock().behaviour = behaviour;
    }

    /// The `/dump` body of the current store.
    pub fn dump_body(&self) -> String {
        dump_text(&self.lock().kv)
    }

    /// The `/debug` body of the current store.
    pub fn debug_body(&self) -> String {
        debug_text(self.version, &self.lock().kv)
    }
}

impl Drop for MetaServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `/dump`: `KEY: VALUE\n` per key in byte order of keys.
pub fn dump_text(kv: &BTreeMap<String, String>) -> String {
    kv.iter().map(|(k, v)| format!("{k}: {v}\n")).collect()
}

/// `/debug`: frame lines of the version around `* KEY: VALUE\n` lines.
pub fn debug_text(version: Version, kv: &BTreeMap<String, String>) -> String {
    let (head, foot) = match version {
        Version::V24 => (
            "****** ------------------------------------- ******\n",
            "****** ------------------------------------- ******\n",
        ),
        _ => (
            "******---------------------------******\n",
            "******----------------------------------------------******\n",
        ),
    };
    let body: String = kv.iter().map(|(k, v)| format!("* {k}: {v}\n")).collect();
    format!("{head}{body}{foot}")
}

fn handle(version: Version, port: u16, state: &Mutex<State>, mut request: Request) {
    let mut body = Vec::new();
    let _ = request.as_reader().read_to_end(&mut body);
    let method = request.method().clone();
    let url = request.url().to_string();
    let behaviour = {
        let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
        s.log.push(Logged {
            method: method.to_string(),
            url: url.clone(),
            headers: request
                .headers()
                .iter()
                .map(|h| {
                    (
                        h.field.as_str().as_str().to_ascii_lowercase(),
                        h.value.as_str().to_string(),
                    )
                })
                .collect(),
            body: body.clone(),
        });
        s.behaviour.clone()
    };
    if let Some(code) = behaviour.status {
        let _ =
            request.respond(Response::from_string("Service Unavailable").with_status_code(code));
        return;
    }
    let path = url.split('?').next().unwrap_or("");
    let get = method == Method::Get;
    let route = match (version, path) {
        (Version::V23, "/dump") if get => Route::Dump,
        (Version::V23 | Version::V23Singleton, "/debug") if get => Route::Debug,
        (Version::V23, "/restore") if method == Method::Post => Route::Restore,
        (Version::V24, "/dump") => Route::Dump,
        (Version::V24, "/debug") => Route::Debug,
        (Version::V24, "/restore") => Route::Restore,
        _ => Route::NotFound,
    };
    let response = match route {
        Route::NotFound => Response::from_data(Vec::new()).with_status_code(404),
        Route::Dump | Route::Debug => {
            let text = {
                let s = state.lock().unwrap_or_else(|e| e.into_inner());
                if route == Route::Dump {
                    dump_text(&s.kv)
                } else {
                    let mut t = debug_text(version, &s.kv);
                    if behaviour.truncate_debug {
                        let without_footer =
                            t.trim_end_matches('\n').rfind('\n').map_or(0, |i| i + 1);
                        t.truncate(without_footer);
                    }
                    t
                }
            };
            return serve_dump(request, &behaviour, text.into_bytes());
        }
        Route::Restore => {
            if let Some(pause) = behaviour.stall {
                thread::sleep(pause);
            }
            restore(version, port, state, &behaviour, &body)
        }
    };
    let _ = request.respond(response);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Dump,
    Debug,
    Restore,
    NotFound,
}

fn text_plain() -> Header {
    Header::from_bytes("Content-Type", "text/plain; charset=utf-8").expect("a valid header")
}

fn serve_dump(request: Request, behaviour: &Behaviour, body: Vec<u8>) {
    if let Some(page) = behaviour.error_page {
        let (ct, text) = match page {
            ErrorPage::Html => (
                "text/html",
                "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
            ),
            ErrorPage::Json => (
                "application/json",
                r#"{"error_code":"010001","error_message":"Auth error: missing Authorization"}"#,
            ),
        };
        let header = Header::from_bytes("Content-Type", ct).expect("a valid header");
        let _ = request.respond(Response::from_string(text).with_header(header));
        return;
    }
    let mut body = body;
    let mut response_headers = vec![text_plain()];
    if behaviour.gzip {
        use flate2::write::GzEncoder;
        let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&body).expect("compressing in memory");
        body = enc.finish().expect("compressing in memory");
        response_headers
            .push(Header::from_bytes("Content-Encoding", "gzip").expect("a valid header"));
    }
    let len = body.len();
    let reader = Paced {
        data: body,
        pos: 0,
        stall: behaviour.stall,
    };
    let response = Response::new(200.into(), response_headers, reader, Some(len), None);
    let _ = request.respond(response);
}

/// A body that can stall after its first line.
struct Paced {
    data: Vec<u8>,
    pos: usize,
    stall: Option<Duration>,
}

impl Read for Paced {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos > 0 {
            if let Some(pause) = self.stall.take() {
                thread::sleep(pause);
            }
        }
        let mut end = self.data.len();
        if self.pos == 0 && self.stall.is_some() {
            end = self
                .data
                .iter()
                .position(|&b| b == b'\n')
                .map_or(end, |i| i + 1);
        }
        let n = (end - self.pos).min(buf.len());
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// `/restore` as spec 5.5 describes it.
fn restore(
    version: Version,
    port: u16,
    state: &Mutex<State>,
    behaviour: &Behaviour,
    body: &[u8],
) -> Response<io::Cursor<Vec<u8>>> {
    let text = if version == Version::V24 {
        String::from_utf8_lossy(body).into_owned()
    } else {
        if behaviour.body_limit.is_some_and(|limit| body.len() > limit) {
            return Response::from_string("A payload reached size limit.").with_status_code(413);
        }
        match String::from_utf8(body.to_vec()) {
            Ok(t) => t,
            Err(_) => return Response::from_string("Can not decode body").with_status_code(400),
        }
    };
    let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
    let mut total = 0u64;
    for line in text.split('\n') {
        let Some((key, value)) = line.split_once(": ") else {
            continue;
        };
        if behaviour.follower {
            return Response::from_string(format!(
                "has to forward request to: Some(1), Some(BasicNode {{ addr: \"127.0.0.1:{port}\" }})"
            ));
        }
        if behaviour.fail_at_record == Some(s.sets + 1) {
            s.behaviour.fail_at_record = None;
            return Response::from_string(
                "raft fatal error: storage error: injected failure; the log was not applied",
            );
        }
        s.kv.insert(key.to_string(), value.to_string());
        s.sets += 1;
        total += 1;
    }
    let total = behaviour.wrong_total.unwrap_or(total);
    Response::from_string(format!("Restore Data Success, Total: {total} "))
        .with_header(text_plain())
}

/// Serves one connection with the first half of `body`, announcing all of it, then closes the connection:
/// a download that breaks off. Returns the URL.
pub fn serve_broken(body: &str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1");
    let port = listener.local_addr().expect("a local address").port();
    let body = body.as_bytes().to_vec();
    thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        let mut reader = BufReader::new(&stream);
        let mut line = String::new();
        while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
            line.clear();
        }
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let mut w = &stream;
        let _ = w.write_all(head.as_bytes());
        let _ = w.write_all(&body[..body.len() / 2]);
        let _ = w.flush();
    });
    format!("http://127.0.0.1:{port}")
}
