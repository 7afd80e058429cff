//! `upgrade` on real servers: its pre-flight lists every problem and changes nothing; then
//! one command moves a populated 2.3.5.4 into a fresh 2.4.x, which answers like the old one;
//! a rerun with other arguments is refused.

use crate::cnosdb;
use crate::installation;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;

use cnosdb::{p, said, Server};

fn upgrade(args: &[&str], pw: Option<&str>) -> Output {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_cnosdb-migrate"));
    c.arg("upgrade").args(args).env_remove("UPGRADE_PW");
    if let Some(pw) = pw {
        c.env("UPGRADE_PW", pw);
    }
    c.output().expect("running cnosdb-migrate")
}

/// The keys a server holds that it does not write by itself.
fn state(s: &Server) -> BTreeSet<String> {
    s.meta_get("/dump")
        .1
        .lines()
        .filter_map(|l| l.split_once(": ").map(|(k, _)| k.to_string()))
        .filter(|k| {
            !k.contains("/usage_schema/")
                && !k.contains("data_nodes_metrics")
                && !k.ends_with("/data_version")
        })
        .collect()
}

#[test]
fn one_command_upgrades_and_its_pre_flight_changes_nothing() {
    if !cnosdb::available("one_command_upgrades_and_its_pre_flight_changes_nothing") {
        return;
    }
    let newest = cnosdb::targets().pop().unwrap();
    let work = tempfile::tempdir().unwrap();
    let source = installation::populated(work.path());
    let metadata = installation::metadata(&source);
    let contents = installation::contents(&source);

    // A target that is not fresh, and no password variable: both problems at once.
    let used = Server::start(&newest);
    used.must("cnosdb", "public", "CREATE TENANT squatter");
    let (before_old, before_new) = (state(&source), state(&used));
    let stage = format!("file://{}", p(&work.path().join("stage")));
    let (from, to) = (format!("{}/debug", source.meta_url()), used.meta_url());
    let (from_sql, to_sql) = (source.http_url(), used.http_url());
    let wd = work.path().join("checked");
    let common = |from: &str, to: &str, to_sql: &str, wd: &Path| -> Vec<String> {
        [
            "--from",
            from,
            "--to",
            to,
            "--from-sql",
            &from_sql,
            "--to-sql",
            to_sql,
            "--workdir",
            p(wd),
            "--dir",
            &stage,
            "--password-env",
            "UPGRADE_PW",
        ]
        .map(str::to_string)
        .to_vec()
    };
    let mut args = common(&from, &to, &to_sql, &wd);
    args.push("--check".into());
    // A staging location neither node can write to.
    let at = args.iter().position(|a| a == "--dir").unwrap();
    args[at + 1] = "file:///proc/cnosdb-migrate-staging".into();
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = upgrade(&words, Some(""));
    let text = said(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("cannot write there"), "{text}");
    // Without the password variable (so the staging probe cannot run either).
    let out = upgrade(&words, None);
    let text = said(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("UPGRADE_PW is not set"), "{text}");
    assert!(text.contains("not fresh"), "{text}");
    assert!(text.contains("nothing was changed"), "{text}");
    assert_eq!(state(&source), before_old, "the old cluster is unchanged");
    assert_eq!(state(&used), before_new, "the new cluster is unchanged");
    drop(used);

    // The whole upgrade into a fresh target.
    let mut target = Server::start(&newest);
    let wd = work.path().join("upgrade");
    let args = common(&from, &target.meta_url(), &target.http_url(), &wd);
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = upgrade(&words, Some(""));
    let text = said(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    for step in [
        "fetch-old",
        "transform",
        "check",
        "restore",
        "verify",
        "copy",
    ] {
        assert!(text.contains(&format!("{step:<10} ok")), "{step}: {text}");
    }
    assert!(text.contains("Still to do"), "{text}");
    assert!(
        text.contains("4 tenant") && text.contains("5 user"),
        "what moved: {text}"
    );
    let rows: u64 = contents
        .values()
        .map(|v| {
            v.split("rows=")
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .parse::<u64>()
                .unwrap()
        })
        .sum();
    assert!(text.contains(&format!("; {rows} rows copied")), "{text}");
    assert!(
        !text.contains("not visible from this machine"),
        "the local staging directory was probed: {text}"
    );
    assert!(
        text.contains("for the rows (an upper estimate)") && text.contains(" free"),
        "the room in the staging directory: {text}"
    );
    assert!(
        text.contains("verify-rows ok")
            && text.contains("Rows compared on both clusters, per table: "),
        "{text}"
    );
    assert!(!text.contains("differs"), "{text}");
    let log = std::fs::read_to_string(wd.join("copy.log")).unwrap();
    assert!(
        log.contains("progress: 1/"),
        "the copy's progress lines: {log}"
    );
    assert!(
        text.contains("old        CnosDB 2.3.5"),
        "the release each side runs: {text}"
    );
    assert!(
        text.contains(&format!("runs CnosDB {}", cnosdb::tool_target(&newest))),
        "{text}"
    );
    for f in [
        "restore.txt",
        "transform.report.jsonl",
        "journal.jsonl",
        "summary.json",
        "copy.state",
        "verify-rows.jsonl",
        "copy.log",
    ] {
        let meta = std::fs::metadata(wd.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777,
            0o600,
            "{f}"
        );
    }
    let found = installation::differences(&newest, &metadata, &installation::metadata(&target));
    assert!(found.is_empty(), "{}", found.join("\n"));
    assert_eq!(installation::contents(&target), contents);
    target.restart(false);
    assert_eq!(installation::contents(&target), contents, "after a restart");

    // Writers go on on the old cluster: the summary's catch-up command brings the new one
    // level (the --since of the watermark the copy's ledger recorded).
    let catch_up = text
        .split("meanwhile: cnosdb-migrate ")
        .nth(1)
        .and_then(|t| t.split("; have users").next())
        .unwrap_or_else(|| panic!("no catch-up command: {text}"));
    assert!(catch_up.contains(" --since "), "{catch_up}");
    let late = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    source.write_lines(
        "acme",
        "plain",
        "ns",
        &format!("lp_made,host=h9 v=999i,s=\"late\",f=9.5 {late}\n"),
    );
    std::thread::sleep(std::time::Duration::from_secs(3));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cnosdb-migrate"))
        .args(catch_up.split(' '))
        .env("UPGRADE_PW", "")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let later = installation::contents(&source);
    assert_ne!(later, contents);
    assert_eq!(installation::contents(&target), later, "after the catch-up");

    // A rerun finds every step done; other arguments are refused.
    let out = upgrade(&words, Some(""));
    let text = said(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("copy       done before"), "{text}");
    let mut other = args.clone();
    let at = other.iter().position(|a| a == "--dir").unwrap();
    other[at + 1] = "file:///elsewhere".into();
    let words: Vec<&str> = other.iter().map(String::as_str).collect();
    let out = upgrade(&words, Some(""));
    let text = said(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("dir: journal"), "{text}");
}
