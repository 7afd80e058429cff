//! `copy` on real servers: a 2.3.5.4 whose tables span many buckets is copied chunk by chunk
//! into the newest 2.4.x (its meta restored first with the tool's transform and restore);
//! both sides must then hold the same rows (count, min, max, an ordered content hash). A copy
//! killed midway and run again ends the same, with no chunk imported from two exports; a
//! `--since` pass after more writes brings the new cluster level again.

#[path = "support/cnosdb.rs"]
mod cnosdb;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cnosdb::{p, tool_ok, Server, SOURCE};
use sha2::{Digest, Sha256};

/// `(database, table, tags)` of the source's tables.
const TABLES: [(&str, &str, &[&str]); 3] = [
    ("hist", "cpu", &["host"]),
    ("hist", "mem", &["host", "rack"]),
    ("nano", "net", &["dev"]),
];

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Writes rows every `step_ms` from `from_ms` for `n` steps into each table.
fn write_rows(s: &Server, from_ms: i64, step_ms: i64, n: i64) {
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
fn contents(s: &Server) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (db, table, tags) in TABLES {
        let stats = s.must(
            "cnosdb",
            db,
            &format!("SELECT count(*), min(time), max(time) FROM {table}"),
        );
        let order = std::iter::once("time")
            .chain(tags.iter().copied())
            .collect::<Vec<_>>()
            .join(", ");
        let rows = s.must(
            "cnosdb",
            db,
            &format!("SELECT * FROM {table} ORDER BY {order}"),
        );
        let hash: String = Sha256::digest(rows.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let stats = stats.lines().nth(1).unwrap_or("").to_string();
        let n = rows.lines().count().saturating_sub(1);
        out.insert(
            format!("{db}.{table}"),
            format!("{stats} rows={n} sha256={hash}"),
        );
    }
    out
}

/// The source: three tables over 12 days of one-day buckets (ms and ns databases).
fn source() -> Server {
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
    let start = now_ms() - 12 * 86_400_000;
    // Every 15 minutes for 12 days: 1152 steps, 3456 cpu rows.
    write_rows(&s, start, 900_000, 1152);
    // 2.3.5.4 may lose the last second of writes; the dump is read after they settle.
    std::thread::sleep(Duration::from_secs(3));
    s
}

/// A fresh newest 2.4.x with the source's meta restored.
fn target(dump: &Path, work: &Path) -> Server {
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

fn copy_cmd(dump: &Path, src: &Server, dst: &Server, stage: &Path, ledger: &Path) -> Command {
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
    .args([
        "--dir",
        &format!("file://{}", p(stage)),
        "--state",
        p(ledger),
    ])
    .args(["--password-env", "PW", "--chunk-rows", "400"])
    .env("PW", "");
    c
}

fn run_ok(mut c: Command) -> String {
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

fn ledger_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Every chunk verified exactly once; no staging location exported twice; returns the
/// chunks.
fn check_ledger(path: &Path) -> BTreeSet<String> {
    let lines = ledger_lines(path);
    let mut verified = BTreeMap::<String, usize>::new();
    let mut exported = BTreeMap::<String, usize>::new();
    for l in &lines {
        let chunk = format!("{}.{}:{}", l["database"], l["table"], l["chunk"]);
        match l["step"].as_str().unwrap() {
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

#[test]
fn chunked_copy_killed_resumed_and_caught_up() {
    if !cnosdb::available("chunked_copy_killed_resumed_and_caught_up") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let src = source();
    let dump = work.path().join("source.debug.txt");
    tool_ok(&[
        "fetch",
        "-q",
        &format!("{}/debug", src.meta_url()),
        "-o",
        p(&dump),
    ]);
    let want = contents(&src);
    assert!(want["hist.cpu"].contains("rows=3456"), "{want:?}");

    // A whole copy: 12 buckets per database, split by the row limit.
    let mut dst = target(&dump, work.path());
    let ledger = work.path().join("ledger.jsonl");
    let report = work.path().join("report.jsonl");
    let mut c = copy_cmd(&dump, &src, &dst, &work.path().join("stage"), &ledger);
    c.args(["--report", p(&report)]);
    run_ok(c);
    assert_eq!(contents(&dst), want);
    let chunks = check_ledger(&ledger);
    assert!(chunks.len() > 30, "{chunks:?}");
    eprintln!("copied {} chunks: {want:?}", chunks.len());
    let report = std::fs::read_to_string(&report).unwrap();
    assert!(report.contains("\"status\":\"copied\""), "{report}");
    // After the chunks, each table was compared on both nodes.
    assert_eq!(
        report.matches("\"verdict\":\"equal\"").count(),
        3,
        "{report}"
    );
    dst.assert_no_panic("the copy");

    // The same copy into another fresh cluster, killed after a few chunks, then run again.
    let dst2 = target(&dump, work.path());
    let ledger2 = work.path().join("ledger2.jsonl");
    let stage2 = work.path().join("stage2");
    let mut c = copy_cmd(&dump, &src, &dst2, &stage2, &ledger2);
    c.args(["--parallel", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = c.spawn().unwrap();
    loop {
        let text = std::fs::read_to_string(&ledger2).unwrap_or_default();
        if text.matches("\"step\":\"verified\"").count() >= 3 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the copy ended before it was killed"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let cut = check_ledger(&ledger2);
    assert!(
        cut.len() < chunks.len(),
        "killed midway: {} chunks",
        cut.len()
    );
    eprintln!("killed after {} of {} chunks", cut.len(), chunks.len());
    run_ok(copy_cmd(&dump, &src, &dst2, &stage2, &ledger2));
    assert_eq!(contents(&dst2), want);
    assert_eq!(check_ledger(&ledger2), chunks);

    // Writers go on on the old cluster; a --since pass brings the new one level.
    let since_ms = now_ms() - 60_000;
    write_rows(&src, since_ms, 1000, 50);
    std::thread::sleep(Duration::from_secs(3));
    let later = contents(&src);
    assert_ne!(later, want);
    let mut c = copy_cmd(&dump, &src, &dst, &work.path().join("stage"), &ledger);
    c.args(["--since", &(since_ms * 1_000_000).to_string()]);
    run_ok(c);
    assert_eq!(contents(&dst), later);
    let passes = check_ledger(&ledger);
    assert!(
        passes.len() > chunks.len(),
        "the pass has chunks of its own"
    );
    eprintln!("--since pass: {} chunks", passes.len() - chunks.len());
    dst.assert_no_panic("the --since pass");

    // The rows verified on their own (`--verify-only`): every column of every chunk agrees.
    let (code, text) = verify_only(&dump, &src, &dst, "content");
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("3 tables compared on both nodes"), "{text}");
    // The second cluster did not get the --since pass: its tables hold fewer rows.
    let (code, text) = verify_only(&dump, &src, &dst2, "rows");
    assert_eq!(code, Some(4), "{text}");
    assert!(
        text.contains("table cnosdb.hist.cpu: 3606 rows on the old node, 3456 on the new"),
        "{text}"
    );
    // A value changed on the new node: the same rows and times, another maximum.
    dst.write_lines(
        "cnosdb",
        "hist",
        "ms",
        &format!("cpu,host=h0 usage=999.5,n=0i {since_ms}\n"),
    );
    std::thread::sleep(Duration::from_secs(1));
    let (code, text) = verify_only(&dump, &src, &dst, "rows");
    assert_eq!(code, Some(0), "{text}");
    let (code, text) = verify_only(&dump, &src, &dst, "content");
    assert_eq!(code, Some(4), "{text}");
    assert!(
        text.contains(": max(usage) is \"")
            && text.contains("\" on the old node, \"999.5\" on the new"),
        "{text}"
    );
    dst.assert_no_panic("the comparisons");
}

/// `copy --verify-only --verify LEVEL`: the exit code, and stdout and stderr.
fn verify_only(dump: &Path, src: &Server, dst: &Server, level: &str) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cnosdb-migrate"))
        .args(["copy", "-q", p(dump), "--verify-only", "--verify", level])
        .args(["--from", &src.http_url(), "--to", &dst.http_url()])
        .args(["--password-env", "PW", "--chunk-rows", "400"])
        .env("PW", "")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}
