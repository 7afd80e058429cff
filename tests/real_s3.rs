//! `copy` staged through a real S3-compatible server (moto, started on 127.0.0.1): a real
//! 2.3.5.4 exports each chunk into the bucket, the newest real 2.4.x imports it, and both
//! sides then hold the same rows (count, min, max and a content hash per table). The keys come
//! from the environment and appear in no output, ledger or report; a key the store does not
//! know is reported clearly.

use crate::chunked;
use crate::cnosdb;
use crate::s3;

use std::process::Command;

use chunked::{check_ledger, contents, copy_cmd_rows, source, target};
use cnosdb::{p, said, tool_ok};

/// At most this many rows per chunk: the source's cpu table (36 rows a day) one day to a chunk.
const ROWS: u32 = 40;

const KEY_ID: &str = "AKIAMIGRATETEST0001";
const SECRET: &str = "s3cr3t/Value+Of=The'Key";
const TOKEN: &str = "session-token-of-the-test";

/// `cmd` reaching the S3 server with the test's keys (or `secret` instead of the right one).
fn with_s3(mut cmd: Command, s3: &s3::S3Server, secret: &str) -> Command {
    cmd.args(["--s3-endpoint", &s3.url(), "--s3-region", "us-east-1"])
        .env("AWS_ACCESS_KEY_ID", KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_SESSION_TOKEN", TOKEN);
    cmd
}

fn assert_no_secret(what: &str, text: &str) {
    for s in [KEY_ID, SECRET, TOKEN, "s3cr3t"] {
        assert!(!text.contains(s), "{what} shows a secret ({s}):\n{text}");
    }
}

#[test]
fn copy_through_an_s3_compatible_store() {
    if !cnosdb::available("copy_through_an_s3_compatible_store")
        || !s3::available("copy_through_an_s3_compatible_store")
    {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    // Every 2 hours for 12 days: 144 steps.
    let src = source(7_200_000);
    let dump = work.path().join("source.debug.txt");
    let debug = format!("{}/debug", src.meta_url());
    tool_ok(&["fetch", "-q", &debug, "-o", p(&dump)]);
    let want = contents(&src);
    let store = s3::S3Server::start();
    store.create_bucket("migration");
    let mut dst = target(&dump, work.path());
    let ledger = work.path().join("ledger.jsonl");
    let report = work.path().join("report.jsonl");
    let dir = "s3://migration/run-1/";

    // The plan shows the CONNECTION clause with its secrets masked.
    let mut c = with_s3(
        copy_cmd_rows(&dump, &src, &dst, dir, &ledger, ROWS),
        &store,
        SECRET,
    );
    let out = c.arg("--dry-run").output().unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", said(&out));
    assert!(
        shown.contains("CONNECTION = (region = 'us-east-1', access_key_id = '***'"),
        "{shown}"
    );
    assert!(shown.contains("virtual_hosted_style = false"), "{shown}");
    assert_no_secret("--dry-run", &said(&out));

    let mut c = with_s3(
        copy_cmd_rows(&dump, &src, &dst, dir, &ledger, ROWS),
        &store,
        SECRET,
    );
    let out = c.args(["--report", p(&report)]).output().unwrap();
    assert!(out.status.success(), "{}", said(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cluster_schema.sql_history"), "{stderr}");
    assert_eq!(contents(&dst), want);
    let chunks = check_ledger(&ledger);
    assert!(chunks.len() > 12, "{chunks:?}");
    let staged = store.keys("migration", "run-1/");
    assert!(
        staged.iter().all(|k| k.starts_with("run-1/cnosdb/")),
        "{staged:?}"
    );
    assert!(staged.len() >= chunks.len(), "{} objects", staged.len());
    assert_no_secret("the copy", &said(&out));
    assert_no_secret("the ledger", &std::fs::read_to_string(&ledger).unwrap());
    assert_no_secret("the report", &std::fs::read_to_string(&report).unwrap());
    eprintln!(
        "{} chunks through {} objects: {want:?}",
        chunks.len(),
        staged.len()
    );
    dst.assert_no_panic("the copy through S3");

    // The store now checks keys: the export is refused, and the message says why.
    store.check_keys(true);
    let ledger2 = work.path().join("ledger2.jsonl");
    let c = copy_cmd_rows(&dump, &src, &dst, "s3://migration/run-2", &ledger2, ROWS);
    let out = with_s3(c, &store, "a-wrong-s3cr3t").output().unwrap();
    let text = said(&out);
    assert_eq!(out.status.code(), Some(4), "{text}");
    assert!(text.contains("InvalidAccessKeyId"), "{text}");
    assert!(text.contains("export on"), "{text}");
    assert!(text.contains("the object store refused the keys"), "{text}");
    assert_no_secret("the refused copy", &text);
    store.check_keys(false);
    assert!(store.keys("migration", "run-2/").is_empty());

    // The whole `upgrade` staged through the store, into a fresh cluster.
    let mut fresh = cnosdb::Server::start(&cnosdb::targets().pop().unwrap());
    let wd = work.path().join("upgrade");
    let mut c = Command::new(env!("CARGO_BIN_EXE_cnosdb-migrate"));
    c.args(["upgrade", "--from", &debug, "--to", &fresh.meta_url()])
        .args(["--from-sql", &src.http_url(), "--to-sql", &fresh.http_url()])
        .args(["--workdir", p(&wd), "--dir", "s3://migration/upgrade"])
        .args(["--password-env", "PW"])
        .env("PW", "");
    let out = with_s3(c, &store, SECRET).output().unwrap();
    let text = said(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("verify-rows ok"), "{text}");
    assert_eq!(contents(&fresh), want);
    let staged = store.keys("migration", "upgrade/");
    assert!(
        staged
            .iter()
            .any(|k| k.starts_with("upgrade/.cnosdb-migrate-probe-")),
        "both nodes wrote their probe into the store: {staged:?}"
    );
    assert!(
        staged.iter().any(|k| k.starts_with("upgrade/cnosdb/")),
        "{staged:?}"
    );
    assert_no_secret("upgrade", &text);
    for f in std::fs::read_dir(&wd).unwrap() {
        let f = f.unwrap().path();
        assert_no_secret(p(&f), &std::fs::read_to_string(&f).unwrap());
    }
    fresh.assert_no_panic("the upgrade through S3");
}
