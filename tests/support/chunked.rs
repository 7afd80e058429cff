//! The source and target of the real chunked-copy tests (`real_copy`, `real_s3`): a 2.3.5.4
//! whose tables span many buckets, a fresh newest 2.4.x with its meta restored by the tool,
//! the copy command, and what must be equal on both sides.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::cnosdb::{self, p, tool_ok, Server, SOURCE};

/// `(database, table, tags)` of the source's tables.
pub const TABLES: [(&str, &str, &[&str]); 3] = [
    ("hist", "cpu", &["host"]),
    ("hist", "mem", &["host", "rack"]),
    ("nano", "net", &["dev"]),
];

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Writes rows every `step_ms` from `from_ms` for `n` steps into each table.
pub fn write_rows(s: &Server, from_ms: i64, step_ms: i64, n: i64) {
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let (mut cpu, mut mem, mut net) = (String::new(), String::new(), String::new());
        for &i in chunk {
            let t = from_ms + i * step_ms;
            for h in 0..3 {
                cpu.push_str(&format!("cpu,host=h{h} usage={}.5,n={i}i {t}\n", i % 97));
            }
            if i % 2 == 0 {
                mem.push_str(&format!(
                    "mem,host=h{},rack=r{} free={}i {t}\n",
                    i % 5,
                    i % 3,
                    i * 7
                ));
            }
            net.push_str(&format!(
                "net,dev=eth{} rx={}i {}\n",
                i % 2,
                i,
                t * 1_000_000 + 17
            ));
        }
        s.write_lines("cnosdb", "hist", "ms", &cpu);
        s.write_lines("cnosdb", "hist", "ms", &mem);
        s.write_lines("cnosdb", "nano", "ns", &net);
    }
}

/// Per table: count, min and max time, and the SHA-256 of every row ordered by time and tags.
pub fn contents(s: &Server) -> BTreeMap<String, String> {
    TABLES
        .iter()
        .map(|(db, table, tags)| {
            let held = s.table_contents("cnosdb", db, table, tags);
            (format!("{db}.{table}"), held)
        })
        .collect()
}

/// The source: three tables over the 12 whole days before today (UTC) in one-day buckets (ms
/// and ns databases), a row every `step_ms` (900 000 in 12 days: 1152 steps, 3456 cpu rows).
/// Whole days, so that every bucket holds as many rows whatever the time of day the test runs
/// (the merging of small chunks depends on it).
pub fn source(step_ms: i64) -> Server {
    let s = Server::start(SOURCE);
    s.must(
        "cnosdb",
        "public",
        "CREATE DATABASE hist WITH PRECISION 'MS' TTL '3650d' VNODE_DURATION '1d'",
    );
    s.must(
        "cnosdb",
        "public",
        "CREATE DATABASE nano WITH TTL '3650d' VNODE_DURATION '1d'",
    );
    let start = (now_ms() / 86_400_000 - 12) * 86_400_000;
    write_rows(&s, start, step_ms, 12 * 86_400_000 / step_ms);
    // 2.3.5.4 may lose the last second of writes; the dump is read after they settle.
    std::thread::sleep(Duration::from_secs(3));
    s
}

/// A fresh newest 2.4.x with the source's meta restored.
pub fn target(dump: &Path, work: &Path) -> Server {
    let release = cnosdb::targets().pop().unwrap();
    let t = Server::start(&release);
    let fresh = work.join(format!("fresh-{}.txt", t.meta_port()));
    let ready = work.join(format!("ready-{}.txt", t.meta_port()));
    tool_ok(&["fetch", "-q", &t.meta_url(), "-o", p(&fresh)]);
    tool_ok(&[
        "transform",
        "-q",
        "--target-from",
        p(&fresh),
        p(dump),
        "-o",
        p(&ready),
    ]);
    let target = cnosdb::tool_target(&release);
    tool_ok(&[
        "restore",
        "-q",
        &t.meta_url(),
        p(&ready),
        "--target",
        target,
    ]);
    t
}

/// `copy` of `dump` from `src` to `dst` through the staging location `dir`, with a ledger,
/// chunks of at most 400 rows.
pub fn copy_cmd(dump: &Path, src: &Server, dst: &Server, dir: &str, ledger: &Path) -> Command {
    copy_cmd_rows(dump, src, dst, dir, ledger, 400)
}

/// [`copy_cmd`] with chunks of at most `rows` rows (`--chunk-rows`).
pub fn copy_cmd_rows(
    dump: &Path,
    src: &Server,
    dst: &Server,
    dir: &str,
    ledger: &Path,
    rows: u32,
) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cnosdb-migrate"));
    c.args([
        "copy",
        "-q",
        p(dump),
        "--from",
        &src.http_url(),
        "--to",
        &dst.http_url(),
    ])
    .args(["--dir", dir, "--state", p(ledger)])
    .args(["--password-env", "PW", "--chunk-rows", &rows.to_string()])
    .env("PW", "");
    c
}

/// Runs a copy, which must succeed; its stdout.
pub fn run_ok(mut c: Command) -> String {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "copy exited {:?}:\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The ledger's lines.
pub fn ledger_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The finished passes' `(since, watermark)`, oldest first.
pub fn passes(path: &Path) -> Vec<(Option<i64>, i64)> {
    ledger_lines(path)
        .iter()
        .filter_map(|l| Some((l["since"].as_i64(), l["watermark"].as_i64()?)))
        .collect()
}

/// Every chunk verified exactly once; no staging location exported twice; returns the
/// chunks.
pub fn check_ledger(path: &Path) -> BTreeSet<String> {
    let lines = ledger_lines(path);
    let mut verified = BTreeMap::<String, usize>::new();
    let mut exported = BTreeMap::<String, usize>::new();
    for l in &lines {
        let chunk = format!("{}.{}:{}", l["database"], l["table"], l["chunk"]);
        // A pass line (`watermark`) has no step.
        let Some(step) = l["step"].as_str() else {
            assert!(l["watermark"].is_i64(), "{l}");
            continue;
        };
        match step {
            "verified" => *verified.entry(chunk).or_default() += 1,
            "exported" => {
                *exported
                    .entry(l["location"].as_str().unwrap().to_string())
                    .or_default() += 1
            }
            _ => {}
        }
    }
    assert!(verified.values().all(|&n| n == 1), "{verified:?}");
    assert!(exported.values().all(|&n| n == 1), "{exported:?}");
    verified.into_keys().collect()
}
