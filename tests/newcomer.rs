//! A newcomer's mistakes do not pass quietly: filters naming nothing, empty inputs, dumps on a
//! terminal, outputs that are not regular files, `-` for stdout, closed or broken stdout and
//! stderr; and the promises of the audit trail (`diff`'s output hash, `--target`), completions,
//! man pages and colour. Every test runs the real binary.

use crate::sql_server;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::process::{Output, Stdio};

use crate::support::*;
use serde_json::Value;
use sql_server::{FakeNode, Fs, NodeConfig, TableKey};

const FULL: &str = "v2.3/full.dump.txt";
const SMALL: &str = "v2.3/small.dump.txt";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs the binary with `args` and no stdin; colour variables removed.
fn run(args: &[&str], dir: &Path) -> Output {
    let mut c = cmd();
    c.current_dir(dir).args(args).write_stdin("");
    for var in ["NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE"] {
        c.env_remove(var);
    }
    c.output().unwrap()
}

/// Every entry of a directory, by name.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The commands that take filters, each with the arguments that make it write files into the
/// current directory (so that the test can see that nothing was written).
fn filtering_commands(dump: &str) -> Vec<Vec<String>> {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    vec![
        s(&[
            "transform",
            "--target",
            "2.4.3",
            dump,
            "-o",
            "out.txt",
            "--report",
            "r.jsonl",
        ]),
        s(&["diff", "--target", "2.4.3", dump]),
        s(&["copy-plan", dump, "--dir", "file:///x", "-o", "plan"]),
        s(&[
            "copy",
            dump,
            "--from",
            "http://127.0.0.1:9",
            "--to",
            "http://127.0.0.1:9",
            "--dir",
            "file:///x",
            "--password-env",
            "NO_SUCH_VAR_16",
            "--state",
            "copy.state",
            "--report",
            "copy.jsonl",
        ]),
    ]
}

#[test]
fn a_filter_naming_what_the_input_does_not_hold_is_an_error_naming_the_nearest() {
    let dump = fixture(FULL);
    let dump = dump.to_str().unwrap();
    let cases: [(&str, &str, &str); 4] = [
        ("--include-tenant", "acmee", "did you mean `acme`?"),
        ("--exclude-tenant", "Acme", "did you mean `acme`?"),
        (
            "--exclude-db",
            "acme.sensor",
            "did you mean `acme.sensors`?",
        ),
        (
            "--include-tenant",
            "zzzzzzzzzzzz",
            "it holds `acme`, `cnosdb`, `iot`",
        ),
    ];
    for argv in filtering_commands(dump) {
        for (flag, value, hint) in cases {
            let dir = tempfile::tempdir().unwrap();
            let mut args: Vec<&str> = argv.iter().map(String::as_str).collect();
            args.extend([flag, value]);
            let out = run(&args, dir.path());
            let err = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
            assert!(
                err.contains(&format!("{flag} {value}: the input holds no ")),
                "{args:?}: {err}"
            );
            assert!(err.contains(hint), "{args:?}: {err}");
            assert!(entries(dir.path()).is_empty(), "{args:?} wrote files");
        }
    }
    // The same names, spelt right, pass (copy-plan and transform; copy would need nodes).
    let dir = tempfile::tempdir().unwrap();
    let ok = run(
        &[
            "transform",
            "--target",
            "2.4.3",
            dump,
            "-o",
            "out.txt",
            "--include-tenant",
            "acme",
            "--exclude-db",
            "acme.sensors",
        ],
        dir.path(),
    );
    assert!(ok.status.success(), "{}", text(&ok.stderr));
}

#[test]
fn filters_that_cancel_each_other_or_select_no_table_are_errors() {
    let dump = fixture("copy/dump.txt");
    let dump = dump.to_str().unwrap();
    let cases: [(&[&str], &str); 4] = [
        (
            &["--include-tenant", "t1", "--exclude-tenant", "t1"],
            "--include-tenant t1 and --exclude-tenant t1 contradict each other",
        ),
        (
            &["--include-tenant", "t1", "--exclude-db", "t2.metrics"],
            "--exclude-db t2.metrics: tenant t2 is left out already",
        ),
        (
            &["--exclude-tenant", "t1", "--include-table", "t1.db1.cpu"],
            "--include-table t1.db1.cpu: tenant t1 is left out",
        ),
        (
            &["--include-table", "cnosdb.public.ext"],
            "the filters select no table with rows to copy",
        ),
    ];
    for (filters, says) in cases {
        for argv in filtering_commands(dump) {
            let table_filter = filters.iter().any(|f| f.ends_with("-table"));
            let copying = argv[0] == "copy" || argv[0] == "copy-plan";
            if !copying && (table_filter || says.starts_with("the filters")) {
                continue;
            }
            let dir = tempfile::tempdir().unwrap();
            let mut args: Vec<&str> = argv.iter().map(String::as_str).collect();
            args.extend(filters);
            let out = run(&args, dir.path());
            let err = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
            assert!(err.contains(says), "{args:?}: {err}");
            assert!(entries(dir.path()).is_empty());
        }
    }
}

#[test]
fn a_table_filter_must_name_a_table_of_the_dump() {
    let dump = fixture("copy/dump.txt");
    let dump = dump.to_str().unwrap();
    for flag in ["--include-table", "--exclude-table"] {
        for argv in filtering_commands(dump).into_iter().skip(2) {
            let dir = tempfile::tempdir().unwrap();
            let mut args: Vec<&str> = argv.iter().map(String::as_str).collect();
            args.extend([flag, "t1.db1.cpus"]);
            let out = run(&args, dir.path());
            let err = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
            assert!(
                err.contains(&format!(
                    "{flag} t1.db1.cpus: the input holds no table `t1.db1.cpus`; did you mean \
                     `t1.db1.cpu`?"
                )),
                "{err}"
            );
            assert!(entries(dir.path()).is_empty());
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let ok = run(
        &[
            "copy-plan",
            dump,
            "--dir",
            "file:///x",
            "--include-table",
            "t1.db1.cpu",
        ],
        dir.path(),
    );
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert!(text(&ok.stdout).contains("-- 1 tables to copy."));
}

/// Every command that reads a dump, reading `input`.
fn reading_commands(input: &str) -> Vec<Vec<&str>> {
    vec![
        vec!["transform", "--target", "2.4.3", input, "-o", "out.txt"],
        vec!["diff", "--target", "2.4.3", input],
        vec!["check", "--target", "2.4.3", input],
        vec!["inspect", input],
        vec!["tables", input],
        vec!["copy-plan", input, "--dir", "file:///x", "-o", "plan"],
        vec![
            "copy",
            input,
            "--from",
            "http://127.0.0.1:9",
            "--to",
            "http://127.0.0.1:9",
            "--dir",
            "file:///x",
            "--dry-run",
        ],
        vec!["restore", "http://127.0.0.1:9", input, "--dry-run"],
    ]
}

#[test]
fn an_input_without_a_record_fails_in_every_command() {
    for content in ["", "\n\n"] {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("in.txt"), content).unwrap();
        for args in reading_commands("in.txt") {
            let out = run(&args, dir.path());
            let err = text(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{args:?} on {content:?}: {err}");
            // `check` lists the blank lines as problems, and its verdict counts 0 records.
            assert!(
                err.contains("holds no record")
                    || err.contains("no record to restore")
                    || text(&out.stdout).contains("(0 records, 2 lines): NOT safe"),
                "{args:?} on {content:?}: {err}"
            );
            assert!(!text(&out.stdout).contains("OK"), "{args:?}");
            assert_eq!(entries(dir.path()), ["in.txt"], "{args:?} wrote a file");
        }
    }
    // Also from stdin: what made `check` say `OK: 0 records, safe to restore`.
    for command in ["check", "diff", "transform"] {
        let out = cmd()
            .args([command, "--target", "2.4.3"])
            .write_stdin("")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(text(&out.stderr).contains("stdin holds no record (0 bytes"));
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn an_input_whose_every_record_is_dropped_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("in.txt"),
        "/data_version: 57\n/cluster_xxx/auto_incr_id: 4\n",
    )
    .unwrap();
    for args in [
        vec!["transform", "--target", "2.4.3", "in.txt", "-o", "out.txt"],
        vec!["diff", "--target", "2.4.1", "in.txt"],
        vec!["diff", "--target", "2.4.1", "in.txt", "--json"],
    ] {
        let out = run(&args, dir.path());
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("every one of the 2 records of in.txt is dropped")
                && err.contains("drop.global: 1"),
            "{err}"
        );
    }
    // The commands that read a dump without converting it say so from the keys.
    for args in reading_commands("in.txt")
        .into_iter()
        .filter(|a| ["inspect", "tables", "copy-plan", "copy"].contains(&a[0]))
    {
        let out = run(&args, dir.path());
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("every one of the 2 records of in.txt is one that transform drops")
                && err.contains("drop.auto-incr-id: 1, drop.global: 1"),
            "{err}"
        );
        assert!(out.stdout.is_empty());
    }
    assert_eq!(entries(dir.path()), ["in.txt"]);
    let check = run(&["check", "--target", "2.4.3", "in.txt"], dir.path());
    assert_eq!(check.status.code(), Some(1));
    assert!(text(&check.stdout).contains("NOT safe"));
}

/// Runs `command` (a shell line) under `script`, on a pseudo-terminal; stdin is empty, so the
/// terminal sees end-of-file at once.
fn on_terminal(command: &str, dir: &Path, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut c = std::process::Command::new("script");
    c.args(["-qec", command, "/dev/null"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .env("TERM", "xterm");
    for var in ["NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE"] {
        c.env_remove(var);
    }
    c.envs(env.iter().copied());
    let out = c.output().expect("util-linux `script` runs");
    (out.status.code(), text(&out.stdout).replace("\r\n", "\n"))
}

#[test]
fn a_dump_is_not_printed_on_a_terminal_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let bin = bin().display().to_string();
    let small = fixture(SMALL).display().to_string();
    let (code, screen) = on_terminal(
        &format!("{bin} transform --target 2.4.3 {small}"),
        dir.path(),
        &[],
    );
    assert_eq!(code, Some(2), "{screen}");
    assert!(screen.contains("refusing to print a dump"), "{screen}");
    assert!(screen.contains("--to-terminal"), "{screen}");
    assert!(bcrypt_hashes(&screen).is_empty());

    let (code, screen) = on_terminal(
        &format!("{bin} transform --target 2.4.3 {small} --to-terminal -q"),
        dir.path(),
        &[],
    );
    assert_eq!(code, Some(0), "{screen}");
    assert_eq!(bcrypt_hashes(&screen).len(), 1, "writer's hash: {screen}");

    // fetch agrees: refused before any connection, and --to-terminal is accepted.
    let (code, screen) = on_terminal(&format!("{bin} fetch http://127.0.0.1:9"), dir.path(), &[]);
    assert_eq!(code, Some(2), "{screen}");
    assert!(screen.contains("refusing to print a dump"), "{screen}");
    let (code, screen) = on_terminal(
        &format!("{bin} fetch http://127.0.0.1:9 --to-terminal --connect-timeout 2"),
        dir.path(),
        &[],
    );
    assert_eq!(
        code,
        Some(4),
        "a connection failure, not a refusal: {screen}"
    );
    assert!(entries(dir.path()).is_empty());
}

#[test]
fn reading_stdin_from_a_terminal_says_what_it_waits_for() {
    let dir = tempfile::tempdir().unwrap();
    let bin = bin().display().to_string();
    for (args, what) in [
        ("inspect", "the dump"),
        ("tables", "the dump"),
        ("diff --target 2.4.3", "the dump"),
        ("transform --target 2.4.3 -o out.txt", "the dump"),
        ("check --target 2.4.3", "the restore-ready file"),
        ("copy-plan --dir file:///x", "the dump"),
    ] {
        let (code, screen) = on_terminal(&format!("{bin} {args}"), dir.path(), &[]);
        assert!(
            screen.contains(&format!(
                "cnosdb-migrate: reading {what} from stdin (the terminal): paste it and end \
                 with Ctrl-D"
            )),
            "{args}: {screen}"
        );
        // Nothing was pasted: an empty input.
        assert_eq!(code, Some(1), "{args}: {screen}");
    }
    // Not said when stdin is a pipe.
    let out = cmd()
        .args(["inspect"])
        .write_stdin(fixture_bytes(SMALL))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!text(&out.stderr).contains("from stdin"));
}

#[test]
fn force_replaces_only_a_regular_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::create_dir(d.join("a-dir")).unwrap();
    fs::write(d.join("target.txt"), "keep me\n").unwrap();
    std::os::unix::fs::symlink("target.txt", d.join("link")).unwrap();
    std::os::unix::fs::symlink("nowhere.txt", d.join("dangling")).unwrap();
    assert!(std::process::Command::new("mkfifo")
        .arg(d.join("fifo"))
        .status()
        .unwrap()
        .success());
    let _socket = UnixListener::bind(d.join("sock")).unwrap();
    let small = fixture(SMALL).display().to_string();
    let cases = [
        ("a-dir", "a-dir is a directory"),
        ("link", "link is a symbolic link (to target.txt)"),
        ("dangling", "dangling is a symbolic link (to nowhere.txt)"),
        ("fifo", "fifo is a named pipe (FIFO)"),
        ("sock", "sock is a socket"),
        ("/dev/null", "/dev/null is a character device"),
    ];
    for (path, says) in cases {
        for force in [true, false] {
            let mut args = vec!["transform", "--target", "2.4.3", &small, "-o", path];
            if force {
                args.push("--force");
            }
            let out = run(&args, d);
            let err = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{path}: {err}");
            assert!(
                err.contains(&format!("{says}; only a regular file is ever replaced")),
                "{err}"
            );
            // The same for the report, fetch's output and copy-plan's files.
            let report = run(
                &[
                    "transform",
                    "--target",
                    "2.4.3",
                    &small,
                    "-o",
                    "x.txt",
                    "--report",
                    path,
                    "--force",
                ],
                d,
            );
            assert_eq!(report.status.code(), Some(2), "{}", text(&report.stderr));
            assert!(text(&report.stderr).contains(says));
            let fetch = run(&["fetch", "http://127.0.0.1:9", "-o", path, "--force"], d);
            assert_eq!(fetch.status.code(), Some(2), "{}", text(&fetch.stderr));
            assert!(text(&fetch.stderr).contains(says));
        }
    }
    assert_eq!(
        fs::read_to_string(d.join("target.txt")).unwrap(),
        "keep me\n"
    );
    assert!(fs::symlink_metadata(d.join("link"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(!d.join("x.txt").exists() && !d.join("nowhere.txt").exists());

    let plan = run(
        &[
            "copy-plan",
            &small,
            "--dir",
            "file:///x",
            "-o",
            "target.txt",
        ],
        d,
    );
    assert_eq!(plan.status.code(), Some(2));
    assert!(text(&plan.stderr).contains("-o target.txt: not a directory"));
    fs::create_dir_all(d.join("plan/export.sql")).unwrap();
    let plan = run(
        &[
            "copy-plan",
            &small,
            "--dir",
            "file:///x",
            "-o",
            "plan",
            "--force",
        ],
        d,
    );
    assert_eq!(plan.status.code(), Some(2));
    assert!(text(&plan.stderr).contains("plan/export.sql is a directory"));
    assert!(!d.join("plan/import.sql").exists());

    // A regular file is replaced with --force, and refused without.
    let out = run(
        &["transform", "--target", "2.4.3", &small, "-o", "target.txt"],
        d,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("target.txt already exists; pass --force"));
    let out = run(
        &[
            "transform",
            "--target",
            "2.4.3",
            &small,
            "-o",
            "target.txt",
            "--force",
        ],
        d,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_ne!(
        fs::read_to_string(d.join("target.txt")).unwrap(),
        "keep me\n"
    );
}

#[test]
fn a_missing_output_directory_is_named_as_missing() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("file"), "").unwrap();
    let small = fixture(SMALL).display().to_string();
    for (path, says) in [
        (
            "no/such/dir/out.txt",
            "the output directory no/such/dir does not exist",
        ),
        (
            "file/out.txt",
            "the output directory file is a regular file",
        ),
    ] {
        let out = run(
            &["transform", "--target", "2.4.3", &small, "-o", path],
            dir.path(),
        );
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{err}");
        assert!(err.contains(says), "{err}");
        assert!(
            !err.contains(".cnosdb-migrate."),
            "no temporary file name: {err}"
        );
    }
}

#[test]
fn dash_means_stdout_for_every_path_option_that_writes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let small = fixture(SMALL).display().to_string();
    let plan = run(&["copy-plan", &small, "--dir", "file:///x", "-o", "-"], d);
    assert!(plan.status.success(), "{}", text(&plan.stderr));
    assert!(text(&plan.stdout).starts_with("-- export.sql"));
    assert!(text(&plan.stdout).contains("-- import.sql"));

    let out = run(
        &["transform", "--target", "2.4.3", &small, "-o", "-", "-q"],
        d,
    );
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), fixture_text("expected/small.2.4.3.txt"));

    let report = run(
        &[
            "transform",
            "--target",
            "2.4.3",
            &small,
            "-o",
            "out.txt",
            "--report",
            "-",
            "-q",
        ],
        d,
    );
    assert!(report.status.success(), "{}", text(&report.stderr));
    let parsed = Report::parse(&text(&report.stdout));
    assert_eq!(parsed.summary["output_records"], 5);
    // Where stdout already carries something, `-` is refused rather than made a file.
    let both = run(
        &["transform", "--target", "2.4.3", &small, "--report", "-"],
        d,
    );
    assert_eq!(both.status.code(), Some(2));
    assert!(text(&both.stderr).contains("stdout carries the converted dump"));
    // copy: `--report -` puts the report on stdout in place of the table; `--state -` makes
    // no sense (the state is read back) and is refused.
    let state = run(
        &[
            "copy",
            &small,
            "--from",
            "http://127.0.0.1:9",
            "--to",
            "http://127.0.0.1:9",
            "--dir",
            "file:///x",
            "--state",
            "-",
        ],
        d,
    );
    assert_eq!(state.status.code(), Some(2));
    assert!(text(&state.stderr).contains("--state needs a file path"));
    let air: TableKey = ("cnosdb".into(), "public".into(), "air".into());
    let fs = Fs::default();
    let node = |rows| NodeConfig {
        tables: [(air.clone(), rows)].into(),
        // In the bucket small.dump.txt records for cnosdb.public (2023-12-19 to 2024-12-18).
        row_time: 1_710_000_000_000_000_000,
        ..NodeConfig::default()
    };
    let (old, new) = (
        FakeNode::start(node(3), fs.clone()),
        FakeNode::start(node(0), fs),
    );
    let mut copy = cmd();
    copy.current_dir(d)
        .args(["copy", &small, "--from", &old.url, "--to", &new.url])
        .args([
            "--dir",
            "file:///x",
            "--password-env",
            "PW16",
            "--report",
            "-",
        ])
        .env("PW16", "secret");
    let copy = copy.output().unwrap();
    assert!(copy.status.success(), "{}", text(&copy.stderr));
    let line: Value = serde_json::from_str(text(&copy.stdout).trim_end()).unwrap();
    assert_eq!(line["status"], "copied");
    assert_eq!(line["imported"], 3);
    assert_eq!(new.rows("cnosdb", "public", "air"), Some(3));
    assert_eq!(entries(d), ["out.txt"], "no file or directory named `-`");
}

/// A socket whose other end is closed: every write to it fails with a broken pipe.
fn broken_pipe() -> Stdio {
    let (ours, theirs) = UnixStream::pair().unwrap();
    drop(ours);
    Stdio::from(std::os::fd::OwnedFd::from(theirs))
}

#[test]
fn a_closed_or_broken_stderr_or_stdout_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let small = fixture(SMALL).display().to_string();
    // A broken stderr: the run goes on, its file is written, exit 0.
    let status = std_cmd()
        .current_dir(dir.path())
        .args(["transform", "--target", "2.4.3", &small, "-o", "out.txt"])
        .stdin(Stdio::null())
        .stderr(broken_pipe())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(
        fs::read_to_string(dir.path().join("out.txt")).unwrap(),
        fixture_text("expected/small.2.4.3.txt")
    );
    // Failures keep their exit code when the message cannot be shown.
    let status = std_cmd()
        .args(["inspect", "/no/such/file"])
        .stdin(Stdio::null())
        .stderr(broken_pipe())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(3));
    let status = std_cmd()
        .args(["transform", "--target", "main"])
        .stdin(Stdio::null())
        .stderr(broken_pipe())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(2));
    // Both broken: stdout's broken pipe ends the run quietly.
    let ready = format!(
        "{}/fixtures/expected/small.2.4.3.txt",
        env!("CARGO_MANIFEST_DIR")
    );
    for args in [
        vec!["transform", "--target", "2.4.3", &small],
        vec!["inspect", &small],
        vec!["check", "--target", "2.4.3", &small],
        vec![
            "restore",
            "http://127.0.0.1:9",
            &ready,
            "--target",
            "2.4.3",
            "--dry-run",
        ],
        vec!["completions", "bash"],
    ] {
        let status = std_cmd()
            .args(&args)
            .stdin(Stdio::null())
            .stdout(broken_pipe())
            .stderr(broken_pipe())
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(0), "{args:?}");
    }
    // Closed (not just broken) stdout and stderr.
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "exec {} transform --target 2.4.3 {small} -o {} >&- 2>&-",
            bin().display(),
            dir.path().join("closed.txt").display()
        ))
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(dir.path().join("closed.txt").exists());
}

#[test]
fn diff_says_when_the_output_hash_cannot_be_predicted_and_check_matches_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let full = fixture(FULL).display().to_string();
    let diff = run(&["diff", "--target", "2.4.3", &full, "--json"], d);
    assert!(diff.status.success(), "{}", text(&diff.stderr));
    let stdout = text(&diff.stdout);
    let summary: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(summary["output_sha256"], Value::Null);
    let why = summary["output_sha256_unpredictable"].as_str().unwrap();
    assert!(why.contains("1 plaintext password (dave)") && why.contains("random salt"));
    let diff_text = run(&["diff", "--target", "2.4.3", &full], d);
    assert!(text(&diff_text.stdout).contains("its sha256 cannot be predicted: 1 plaintext"));

    // Why: two runs of the same transform write different bytes.
    let mut hashes = Vec::new();
    for n in ["1", "2"] {
        let (out, report) = (format!("out{n}.txt"), format!("r{n}.jsonl"));
        let t = run(
            &[
                "transform",
                "--target",
                "2.4.3",
                &full,
                "-o",
                &out,
                "--report",
                &report,
                "-q",
            ],
            d,
        );
        assert!(t.status.success(), "{}", text(&t.stderr));
        let r = Report::parse(&fs::read_to_string(d.join(&report)).unwrap());
        let sha = r.summary["output_sha256"].as_str().unwrap().to_string();
        // The README's workflow: check's sha256 is the report's output_sha256.
        let check = run(&["check", "--target", "2.4.3", &out], d);
        assert!(check.status.success(), "{}", text(&check.stdout));
        let last = text(&check.stdout).lines().last().unwrap().to_string();
        assert!(
            last.starts_with(&format!("sha256 {sha}  (")),
            "{last} vs {sha}"
        );
        hashes.push(sha);
    }
    assert_ne!(hashes[0], hashes[1], "bcrypt salts are random");

    // Without a plaintext password the dry run's hash is the one transform writes.
    fs::write(d.join("hashed.txt"), full_without_plaintext()).unwrap();
    let diff = run(&["diff", "--target", "2.4.3", "hashed.txt", "--json"], d);
    let stdout = text(&diff.stdout);
    let summary: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert!(summary.get("output_sha256_unpredictable").is_none());
    let t = run(
        &[
            "transform",
            "--target",
            "2.4.3",
            "hashed.txt",
            "-o",
            "h.txt",
            "--report",
            "h.jsonl",
        ],
        d,
    );
    assert!(t.status.success());
    let r = Report::parse(&fs::read_to_string(d.join("h.jsonl")).unwrap());
    assert_eq!(summary["output_sha256"], r.summary["output_sha256"]);
    assert!(summary["output_sha256"].as_str().unwrap().len() == 64);
}

#[test]
fn target_accepts_exactly_the_documented_releases() {
    let dir = tempfile::tempdir().unwrap();
    let small = fixture(SMALL).display().to_string();
    let accepted = [
        "2.4.0", "2.4.0.1", "2.4.1", "2.4.2", "2.4.2.1", "2.4.3", "2.4.3.0", "2.4.3.1", "2.4.3.2",
        "2.4.3.3", "2.4.3.4", "v2.4.3.4", "v2.4.0",
    ];
    for t in accepted {
        let out = run(&["diff", "--target", t, &small, "--json"], dir.path());
        assert!(out.status.success(), "{t}: {}", text(&out.stderr));
    }
    let point = run(&["diff", "--target", "2.4.3.2", &small], dir.path());
    assert!(text(&point.stdout).starts_with("dry run for CnosDB 2.4.3:"));
    for t in [
        "main", "2.4.3.5", "2.4.3.9", "2.4.3.", "2.4.4", "2.4", "2.4.1.1", "2.3.5",
    ] {
        for command in ["diff", "check", "transform", "restore"] {
            let args: Vec<&str> = if command == "restore" {
                vec!["restore", "http://127.0.0.1:9", &small, "--target", t]
            } else {
                vec![command, "--target", t, &small]
            };
            let out = run(&args, dir.path());
            let err = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{t} {command}: {err}");
            assert!(
                err.contains(&format!("unknown target release `{t}`"))
                    && err.contains("2.4.3.0–2.4.3.4"),
                "{err}"
            );
        }
    }
    let help = run(&["transform", "--help"], dir.path());
    let help = text(&help.stdout);
    assert!(help.contains("2.4.3.0–2.4.3.4"), "{help}");
    assert!(!help.contains("main"), "{help}");
}

#[test]
fn completions_and_man_pages_come_from_the_command_definitions() {
    let dir = tempfile::tempdir().unwrap();
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef cnosdb-migrate"),
        ("fish", "complete -c cnosdb-migrate"),
        ("elvish", "cnosdb-migrate"),
        ("powershell", "cnosdb-migrate"),
    ] {
        let out = run(&["completions", shell], dir.path());
        assert!(out.status.success(), "{shell}");
        let script = text(&out.stdout);
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(
            script.contains("include-tenant") && script.contains("copy-plan"),
            "{shell}"
        );
        if shell != "powershell" {
            assert!(script.contains("2.4.3.4"), "{shell}: the --target values");
        }
    }
    let bad = run(&["completions", "tcsh"], dir.path());
    assert_eq!(bad.status.code(), Some(2));

    let page = run(&["man"], dir.path());
    assert!(page.status.success());
    let page = text(&page.stdout);
    assert!(page.contains(".TH cnosdb-migrate 1"), "{page}");
    assert!(page.contains("transform"));

    let out = run(&["man", "--dir", "pages"], dir.path());
    assert_eq!(out.status.code(), Some(3), "a missing directory");
    fs::create_dir(dir.path().join("pages")).unwrap();
    for _ in 0..2 {
        let out = run(&["man", "--dir", "pages"], dir.path());
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let pages = entries(&dir.path().join("pages"));
    for name in [
        "cnosdb-migrate.1",
        "cnosdb-migrate-transform.1",
        "cnosdb-migrate-copy-plan.1",
        "cnosdb-migrate-completions.1",
    ] {
        assert!(pages.contains(&name.to_string()), "{pages:?}");
    }
    assert!(!pages.iter().any(|p| p.contains("help")), "{pages:?}");
    let transform = dir.path().join("pages/cnosdb-migrate-transform.1");
    let mode = fs::metadata(&transform).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644);
    let text = fs::read_to_string(transform).unwrap();
    assert!(text.contains("include\\-tenant"), "{text}");
}

#[test]
fn colour_on_a_terminal_none_when_piped_or_with_no_color() {
    let dir = tempfile::tempdir().unwrap();
    let bin = bin().display().to_string();
    let ok_file = fixture("expected/small.2.4.3.txt").display().to_string();
    let bad_file = fixture("check/nul.txt").display().to_string();
    let esc = "\x1b[";

    let (_, screen) = on_terminal(&format!("{bin} inspect /no/such/file"), dir.path(), &[]);
    assert!(
        screen.contains(&format!("cnosdb-migrate: {esc}")),
        "{screen:?}"
    );
    assert!(screen.contains("error:"));
    let (code, screen) = on_terminal(
        &format!("{bin} check --target 2.4.3 {ok_file}"),
        dir.path(),
        &[],
    );
    assert_eq!(code, Some(0));
    assert!(screen.starts_with(esc), "{screen:?}");
    let (code, screen) = on_terminal(
        &format!("{bin} check --target 2.4.3 {bad_file}"),
        dir.path(),
        &[],
    );
    assert_eq!(code, Some(1));
    assert!(
        screen.contains(&format!("{esc}1m{esc}31mNOT safe")),
        "{screen:?}"
    );
    let (_, screen) = on_terminal(
        &format!("{bin} diff --target 2.4.3 {ok_file} --include-tenant x"),
        dir.path(),
        &[],
    );
    assert!(screen.contains(esc), "{screen:?}");

    let full = fixture(FULL).display().to_string();
    let (code, screen) = on_terminal(&format!("{bin} inspect {full}"), dir.path(), &[]);
    assert_eq!(code, Some(0));
    assert!(
        screen.contains(&format!("{esc}1m{esc}33mwarnings:")),
        "{screen:?}"
    );
    let piped = run(&["inspect", &full], dir.path());
    assert!(text(&piped.stdout).contains("\nwarnings:\n  - plaintext passwords"));

    // NO_COLOR on a terminal: none.
    for command in [
        format!("{bin} inspect /no/such/file"),
        format!("{bin} check --target 2.4.3 {bad_file}"),
    ] {
        let (_, screen) = on_terminal(&command, dir.path(), &[("NO_COLOR", "1")]);
        assert!(!screen.contains(esc), "{screen:?}");
        assert!(screen.contains("cnosdb-migrate: error:") || screen.contains("NOT safe"));
    }
    // Piped: none.
    let out = run(&["check", "--target", "2.4.3", &bad_file], dir.path());
    assert!(!text(&out.stdout).contains(esc) && text(&out.stdout).contains("NOT safe"));
    let out = run(&["inspect", "/no/such/file"], dir.path());
    assert!(!text(&out.stderr).contains(esc));
    assert!(text(&out.stderr).starts_with("cnosdb-migrate: error: opening /no/such/file"));
}
