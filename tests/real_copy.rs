//! `copy` on real servers: a 2.3.5.4 whose tables span many buckets is copied chunk by chunk
//! into the newest 2.4.x (its meta restored first with the tool's transform and restore);
//! both sides must then hold the same rows (count, min, max, an ordered content hash). A copy
//! killed midway and run again ends the same, with no chunk imported from two exports; a
//! `--since` pass after more writes brings the new cluster level again.

use crate::chunked;
use crate::cnosdb;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use chunked::{
    check_ledger, contents, copy_cmd, now_ms, passes, run_ok, source, target, write_rows,
};
use cnosdb::{p, tool_ok, Server};

fn file_dir(stage: &Path) -> String {
    format!("file://{}", p(stage))
}

#[test]
fn chunked_copy_killed_resumed_and_caught_up() {
    if !cnosdb::available("chunked_copy_killed_resumed_and_caught_up") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let src = source(900_000);
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
    let copy_started_ns = now_ms() * 1_000_000;
    let ledger = work.path().join("ledger.jsonl");
    let report = work.path().join("report.jsonl");
    let mut c = copy_cmd(
        &dump,
        &src,
        &dst,
        &file_dir(&work.path().join("stage")),
        &ledger,
    );
    c.args(["--report", p(&report)]);
    run_ok(c);
    assert_eq!(contents(&dst), want);
    let chunks = check_ledger(&ledger);
    assert!(chunks.len() > 15, "{chunks:?}");
    // Small neighbours are merged up to --chunk-rows (400): cpu's 288 rows a day stay one day
    // to a chunk, mem's 48 go eight days to one.
    let days = |table: &str| -> Vec<i64> {
        (chunks.iter())
            .filter_map(|c| c.strip_prefix(&format!("\"hist\".\"{table}\":\"")))
            .filter_map(|range| {
                let (a, b) = range.trim_end_matches('"').split_once('_')?;
                Some((b.parse::<i64>().ok()? - a.parse::<i64>().ok()?) / 86_400_000)
            })
            .collect()
    };
    assert!(days("cpu").iter().all(|&d| d == 1), "{chunks:?}");
    assert_eq!(days("mem"), [8], "{chunks:?}");
    // The pass's watermark: when its last open chunk was exported.
    let [(None, watermark)] = passes(&ledger)[..] else {
        panic!("one pass expected: {:?}", passes(&ledger))
    };
    assert!(watermark >= copy_started_ns && watermark <= now_ms() * 1_000_000);
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
    let mut c = copy_cmd(&dump, &src, &dst2, &file_dir(&stage2), &ledger2);
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
    run_ok(copy_cmd(&dump, &src, &dst2, &file_dir(&stage2), &ledger2));
    assert_eq!(contents(&dst2), want);
    assert_eq!(check_ledger(&ledger2), chunks);

    // Writers go on on the old cluster; a --since pass brings the new one level.
    let since_ms = now_ms() - 60_000;
    write_rows(&src, since_ms, 1000, 50);
    std::thread::sleep(Duration::from_secs(3));
    let later = contents(&src);
    assert_ne!(later, want);
    let mut c = copy_cmd(
        &dump,
        &src,
        &dst,
        &file_dir(&work.path().join("stage")),
        &ledger,
    );
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
