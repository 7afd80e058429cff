//! Every example of README.md is run: each line of each fenced `sh` block, as written, in a
//! fresh directory per block, with the README's host names pointing at stand-in servers on
//! 127.0.0.1 (tests/support). A `cnosdb-migrate` line must exit 0; a line that is not run is in
//! [`NOT_RUN`], with the reason, and every entry there must still match a README line.

use crate::meta_server;
use crate::sql_server;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

use crate::support::*;
use meta_server::{dump_text, Behaviour, MetaServer, Version};
use serde_json::Value;
use sql_server::{FakeNode, Fs, NodeConfig, TableKey};

/// Lines of the README's `sh` blocks that are not run (matched by prefix), and why.
const NOT_RUN: [(&str, &str); 6] = [
    (
        "cnosdb-migrate upgrade --from",
        "the SQL stand-in does not answer SHOW DATABASES; tests/real_upgrade_command.rs runs \
         upgrade against real servers",
    ),
    (
        "cnosdb-migrate verify http://new-meta:8901",
        "the SQL stand-in does not answer SHOW DATABASES / DESCRIBE TABLE; tests/real_remote.rs \
         runs verify against a real server",
    ),
    (
        "cargo test",
        "the test suite itself: this test is one of its tests",
    ),
    (
        "cargo install --locked --path .",
        "copies the binary under test to ~/.cargo/bin; every other line runs that binary",
    ),
    (
        "read -rsp ",
        "asks the password on the terminal; the test sets CNOSDB_PW to the stand-ins' password",
    ),
    (
        "cnosdb-cli ",
        "runs the plan's SQL on real data nodes: covered by the real-server tests",
    ),
];

/// Tools other than cnosdb-migrate that the examples use, run as they are.
const TOOLS: [&str; 3] = ["mkdir", "sha256sum", "tail"];

/// The data nodes' password on the stand-ins.
const PASSWORD: &str = "secret";

/// One command line of a block (continuation lines joined).
struct Line {
    block: usize,
    number: usize,
    text: String,
}

/// Every logical line of every fenced `sh` block, comments and blank lines left out.
fn sh_lines(readme: &str) -> Vec<Line> {
    let mut lines = Vec::new();
    let (mut block, mut inside, mut pending): (usize, bool, Option<Line>) = (0, false, None);
    for (i, raw) in readme.lines().enumerate() {
        let trimmed = raw.trim();
        if trimmed.starts_with("```") {
            if !inside && trimmed == "```sh" {
                block += 1;
                inside = true;
            } else if inside {
                inside = false;
            }
            continue;
        }
        if !inside {
            continue;
        }
        let (text, continues) = match trimmed.strip_suffix('\\') {
            Some(t) => (t.trim_end(), true),
            None => (trimmed, false),
        };
        let line = match pending.take() {
            Some(mut l) => {
                l.text.push(' ');
                l.text.push_str(text);
                l
            }
            None if text.is_empty() || text.starts_with('#') => continue,
            None => Line {
                block,
                number: i + 1,
                text: text.to_string(),
            },
        };
        if continues {
            pending = Some(line);
        } else {
            lines.push(line);
        }
    }
    lines
}

/// Splits a command line into words as sh does for these examples: spaces, '…' and "…"
/// quotes, a `#` word starts a comment. `>` is its own word (a redirection).
fn words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => words.extend(word.take()),
            '#' if word.is_none() => break,
            '\'' | '"' => {
                let w = word.get_or_insert_with(String::new);
                for q in chars.by_ref() {
                    if q == c {
                        break;
                    }
                    w.push(q);
                }
            }
            _ => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

/// The stand-ins for the README's hosts, and the URL each name maps to.
struct Cluster {
    old_meta: MetaServer,
    _new_meta: MetaServer,
    _old_node: FakeNode,
    _new_node: FakeNode,
    hosts: Vec<(&'static str, String)>,
}

/// The TSKV tables of a dump that `copy` moves (system databases left out).
fn tskv_tables(dump: &Path) -> Vec<TableKey> {
    let out = cmd().args(["tables", "--json"]).arg(dump).output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|t| t["engine"] == "TSKV" && t["system"] == false)
        .map(|t| {
            let s = |k: &str| t[k].as_str().unwrap().to_string();
            (s("tenant"), s("database"), s("table"))
        })
        .collect()
}

fn cluster() -> Cluster {
    let source = fixture_text("v2.3/full.dump.txt");
    let fresh = fixture_text("real/v2.4.3.4-dump-fresh.txt");
    let old_meta = MetaServer::start(Version::V23, Behaviour::default(), &source);
    let new_meta = MetaServer::start(Version::V24, Behaviour::default(), &fresh);
    assert_eq!(
        dump_text(&new_meta.kv()),
        fresh,
        "the stand-in serves the fresh dump"
    );
    let tables = tskv_tables(&fixture("v2.3/full.dump.txt"));
    assert!(!tables.is_empty());
    let fs = Fs::default();
    let rows: BTreeMap<TableKey, u64> = tables.iter().map(|t| (t.clone(), 7)).collect();
    let node = |tables| NodeConfig {
        password: PASSWORD.into(),
        tables,
        ..NodeConfig::default()
    };
    let old_node = FakeNode::start(node(rows.clone()), fs.clone());
    let new_node = FakeNode::start(node(rows.keys().map(|k| (k.clone(), 0)).collect()), fs);
    let hosts = vec![
        ("http://old-meta:8901", old_meta.url.clone()),
        ("http://new-meta-leader:8901", new_meta.url.clone()),
        ("http://new-meta:8901", new_meta.url.clone()),
        ("http://old-node:8902", old_node.url.clone()),
        ("http://old:8902", old_node.url.clone()),
        ("http://new-node:8902", new_node.url.clone()),
        ("http://new:8902", new_node.url.clone()),
    ];
    Cluster {
        old_meta,
        _new_meta: new_meta,
        _old_node: old_node,
        _new_node: new_node,
        hosts,
    }
}

/// A fresh directory for one block: the repository's fixtures, an empty `target/`, a home
/// directory, and `dump.txt`, the dump the copy examples assume was saved before.
fn block_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(fixture(""), dir.path().join("fixtures")).unwrap();
    fs::create_dir(dir.path().join("target")).unwrap();
    fs::create_dir(dir.path().join("home")).unwrap();
    fs::copy(fixture("v2.3/full.dump.txt"), dir.path().join("dump.txt")).unwrap();
    dir
}

/// What a line printed and how it ended.
struct Ran {
    stdout: String,
    stderr: String,
}

/// Runs one line in `dir`; panics unless it exits 0.
fn run_line(line: &Line, dir: &Path, cluster: &Cluster) -> Ran {
    run_line_with(line, dir, cluster, None)
}

/// [`run_line`] with `stdin` fed to the command.
fn run_line_with(line: &Line, dir: &Path, cluster: &Cluster, stdin: Option<&str>) -> Ran {
    let home = dir.join("home");
    let mut words = words(&line.text);
    let mut env = Vec::new();
    while let Some((name, value)) = words.first().and_then(|w| w.split_once('=')) {
        if !name.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
            break;
        }
        env.push((name.to_string(), value.to_string()));
        words.remove(0);
    }
    let words: Vec<String> = words
        .into_iter()
        .map(|w| match w.strip_prefix("~/") {
            Some(rest) => home.join(rest).display().to_string(),
            None => cluster
                .hosts
                .iter()
                .fold(w, |w, (name, url)| w.replace(name, url)),
        })
        .collect();
    for w in &words {
        assert!(
            !w.starts_with("http://") || w.starts_with("http://127.0.0.1:"),
            "line {}: no stand-in for {w}",
            line.number
        );
    }
    let (mut words, redirect) = match words.iter().position(|w| w == ">") {
        Some(at) => {
            let target = words.get(at + 1).cloned();
            (words[..at].to_vec(), target)
        }
        None => (words, None),
    };
    let program = words.remove(0);
    let mut command = match program.as_str() {
        "cnosdb-migrate" => std_cmd(),
        "cargo" if words.starts_with(&["run".into(), "--release".into(), "--".into()]) => {
            words.drain(..3);
            std_cmd()
        }
        tool if TOOLS.contains(&tool) => Command::new(tool),
        other => panic!(
            "README line {}: `{other}` is neither cnosdb-migrate nor listed in NOT_RUN: {}",
            line.number, line.text
        ),
    };
    command
        .args(&words)
        .current_dir(dir)
        .env("HOME", &home)
        .env("CNOSDB_PW", PASSWORD)
        .env("NO_COLOR", "1")
        .envs(env)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for var in ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"] {
        command.env_remove(var);
    }
    let mut child = command.spawn().unwrap();
    {
        use std::io::Write;
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(
        out.status.success(),
        "README line {} (block {}) failed ({}): {}\nstdout: {stdout}\nstderr: {stderr}",
        line.number,
        line.block,
        out.status,
        line.text
    );
    if let Some(path) = redirect {
        fs::write(dir.join(path), &out.stdout).unwrap();
    }
    Ran { stdout, stderr }
}

#[test]
fn every_sh_example_of_the_readme_runs() {
    let readme = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let lines = sh_lines(&readme);
    assert!(
        lines
            .first()
            .is_some_and(|l| l.text.starts_with("cargo run --release -- transform")),
        "the README starts with the main job on a bundled example"
    );
    assert!(
        lines.get(1).is_some_and(|l| l.text == "cargo test"),
        "then `cargo test`"
    );
    for (prefix, _) in NOT_RUN {
        assert!(
            lines.iter().any(|l| l.text.starts_with(prefix)),
            "NOT_RUN entry `{prefix}` matches no README line: remove it"
        );
    }
    let mut ran: BTreeMap<String, Ran> = BTreeMap::new();
    let mut count = 0;
    let blocks = lines.last().map_or(0, |l| l.block);
    for block in 1..=blocks {
        let cluster = cluster();
        let dir = block_dir();
        for line in lines.iter().filter(|l| l.block == block) {
            if NOT_RUN.iter().any(|(p, _)| line.text.starts_with(p)) {
                continue;
            }
            let out = run_line(line, dir.path(), &cluster);
            count += 1;
            // What the README says the lines show, checked where it is a claim.
            if line.text.starts_with("cargo run --release -- transform") {
                assert_eq!(
                    fs::read_to_string(dir.path().join("target/small.2.4.3.txt")).unwrap(),
                    fixture_text("expected/small.2.4.3.txt")
                );
                assert!(out.stderr.contains("records read"), "{}", out.stderr);
            }
            if line.text.starts_with("cnosdb-migrate check ") {
                assert!(out.stdout.contains("OK: "), "{}", out.stdout);
            }
            ran.insert(line.text.clone(), out);
        }
        // The air-gapped audit: check's sha256 of restore.txt is the report's output_sha256,
        // and sha256sum agrees.
        let report = dir.path().join("report.jsonl");
        if report.exists() {
            let report = Report::parse(&fs::read_to_string(report).unwrap());
            let sha = report.summary["output_sha256"].as_str().unwrap();
            let check = &ran["cnosdb-migrate check --strict --target-from fresh.txt restore.txt"];
            assert!(
                check.stdout.contains(&format!("sha256 {sha}  (")),
                "{}",
                check.stdout
            );
            assert!(ran["sha256sum restore.txt"].stdout.starts_with(sha));
            let source = &ran["sha256sum source.txt fresh.txt"].stdout;
            let input = report.summary["input_sha256"].as_str().unwrap();
            assert!(source.starts_with(input), "{source} vs {input}");
        }
        if dir.path().join("home/.local/share/man/man1").exists() {
            assert!(dir
                .path()
                .join("home/.local/share/man/man1/cnosdb-migrate-transform.1")
                .exists());
            let completion = fs::read_to_string(
                dir.path()
                    .join("home/.local/share/bash-completion/completions/cnosdb-migrate"),
            )
            .unwrap();
            assert!(completion.contains("complete -F"));
        }
    }
    assert!(count >= 25, "only {count} README lines ran");
}

/// The README's inline examples: code spans that run `cnosdb-migrate` with arguments
/// (synopses, with `[…]`, `URL` or `…` placeholders, and bare command names are not examples).
fn inline_examples(readme: &str) -> Vec<Line> {
    let mut found = Vec::new();
    let mut inside = false;
    for (i, raw) in readme.lines().enumerate() {
        if raw.trim().starts_with("```") {
            inside = !inside;
            continue;
        }
        if inside {
            continue;
        }
        for (k, span) in raw.split('`').enumerate() {
            let example = k % 2 == 1
                && (span.starts_with("cnosdb-migrate ") || span.contains("| cnosdb-migrate "))
                && span.split_whitespace().count() > 2
                && !span.contains('[')
                && !span.contains("URL")
                && !span.contains('…');
            if example {
                found.push(Line {
                    block: 0,
                    number: i + 1,
                    text: span.to_string(),
                });
            }
        }
    }
    found
}

#[test]
fn every_inline_example_of_the_readme_runs() {
    let readme = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let examples = inline_examples(&readme);
    assert!(examples.len() >= 2, "{} inline examples", examples.len());
    let cluster = cluster();
    for example in examples {
        let dir = block_dir();
        match example.text.split_once(" | ") {
            // `curl -s URL | …`: the command reads what the stand-in serves at URL.
            Some((curl, rest)) => {
                let url = curl.strip_prefix("curl -s ").expect("curl -s URL | …");
                assert_eq!(url, "http://old-meta:8901/dump", "line {}", example.number);
                let body = cluster.old_meta.dump_body();
                let line = Line {
                    text: rest.to_string(),
                    ..example
                };
                run_line_with(&line, dir.path(), &cluster, Some(&body));
                let out = fs::read_to_string(dir.path().join("out.txt")).unwrap();
                assert!(out.contains("/cluster_xxx/users/alice: "), "{out}");
            }
            None => {
                run_line(&example, dir.path(), &cluster);
            }
        }
    }
}

#[test]
fn the_line_splitter_reads_the_readme_as_sh_would() {
    assert_eq!(
        words("CNOSDB_PW=x cnosdb-migrate copy 'a b' \"c\"   # note"),
        ["CNOSDB_PW=x", "cnosdb-migrate", "copy", "a b", "c"]
    );
    let lines = sh_lines("text\n```sh\n# c\na \\\n  b\n\nc\n```\n```text\nd\n```\n");
    let got: Vec<(usize, &str)> = lines.iter().map(|l| (l.number, l.text.as_str())).collect();
    assert_eq!(got, [(4, "a b"), (7, "c")]);
}
