//! Where `transform` reads and writes: stdin/stdout and `-`, the private atomic `-o` file,
//! `--force`, spooled versus streamed stdout, a closed pipe, and the `--report` file.

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::support::*;

fn small_expected(t: &str) -> String {
    fixture_text(&format!("expected/small.{t}.txt"))
}

/// A record whose value is not JSON: found while converting, not while reading lines.
const BAD_RECORD: &[u8] = b"/cluster_xxx/tenants/zzz: {\"id\":1,\"name\":\"zzz\"\n";

/// The small dump with a bad last line (no separator): the failure comes after good records.
fn small_then_garbage() -> Vec<u8> {
    let mut input = fixture_bytes("v2.3/small.dump.txt");
    input.extend_from_slice(b"/cluster_xxx/zzz no separator here\n");
    input
}

/// The small dump with a last record that cannot be converted (its value is not JSON).
fn small_then_bad_record() -> Vec<u8> {
    let mut input = fixture_bytes("v2.3/small.dump.txt");
    input.extend_from_slice(BAD_RECORD);
    input
}

fn dir_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn stdin_to_stdout_and_dash() {
    let input = fixture_bytes("v2.3/small.dump.txt");
    let want = small_expected("2.4.2");
    for args in [
        vec![],
        vec!["-"],
        vec!["-", "-o", "-"],
        vec!["--output", "-"],
    ] {
        let out = cmd()
            .args(["transform", "-q", "--target", "2.4.2"])
            .args(&args)
            .write_stdin(input.clone())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert_eq!(String::from_utf8(out.stdout).unwrap(), want, "{args:?}");
    }
    // A file named `-` is not read: `-` is stdin.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("-"), b"garbage without separator\n").unwrap();
    let out = cmd()
        .current_dir(dir.path())
        .args(["transform", "-q", "--target", "2.4.2", "-"])
        .write_stdin(input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), want);
}

#[test]
fn output_file_is_created_with_mode_0600_and_nothing_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.txt");
    let out = cmd()
        .args(["transform", "--target", "2.4.3"])
        .arg(fixture("v2.3/small.dump.txt"))
        .arg("-o")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("records read"));
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        small_expected("2.4.3")
    );
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "mode {mode:o}");
    assert_eq!(dir_names(dir.path()), ["out.txt"], "no temporary file left");
}

#[test]
fn existing_output_is_refused_without_force_and_replaced_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.txt");
    std::fs::write(&path, b"precious\n").unwrap();
    let out = cmd()
        .args(["transform", "--target", "2.4.3"])
        .arg(fixture("v2.3/small.dump.txt"))
        .arg("-o")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("already exists") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), b"precious\n");
    assert_eq!(dir_names(dir.path()), ["out.txt"]);

    cmd()
        .args(["transform", "-q", "--force", "--target", "2.4.3"])
        .arg(fixture("v2.3/small.dump.txt"))
        .arg("-o")
        .arg(&path)
        .assert()
        .success()
        .stdout("");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        small_expected("2.4.3")
    );
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(dir_names(dir.path()), ["out.txt"]);
}

#[test]
fn existing_report_is_refused_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.jsonl");
    std::fs::write(&report, b"old report\n").unwrap();
    let out_path = dir.path().join("out.txt");
    let out = cmd()
        .args(["transform", "--target", "2.4.3"])
        .arg(fixture("v2.3/small.dump.txt"))
        .arg("-o")
        .arg(&out_path)
        .arg("--report")
        .arg(&report)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read(&report).unwrap(), b"old report\n");
    assert!(!out_path.exists(), "no output when the report is refused");
    assert_eq!(dir_names(dir.path()), ["r.jsonl"]);
}

#[test]
fn a_failing_run_with_force_leaves_old_files_byte_identical() {
    // Framing error (first pass) and conversion error (second pass, after records were
    // written to the temporary file), with and without --stream (which concerns stdout only).
    for (input, stream) in [
        (small_then_garbage(), false),
        (small_then_bad_record(), false),
        (small_then_bad_record(), true),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        let report = dir.path().join("r.jsonl");
        let old: &[u8] = b"old output\xff\n";
        std::fs::write(&path, old).unwrap();
        std::fs::write(&report, b"old report\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let mut c = cmd();
        c.args(["transform", "--force", "--target", "2.4.3", "-o"])
            .arg(&path)
            .arg("--report")
            .arg(&report);
        if stream {
            c.arg("--stream");
        }
        let out = c.write_stdin(input).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(out.stdout.is_empty());
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.contains("line 13:"), "{stderr}");
        assert_eq!(std::fs::read(&path).unwrap(), old);
        assert_eq!(std::fs::read(&report).unwrap(), b"old report\n");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640, "not even the mode changed");
        assert_eq!(
            dir_names(dir.path()),
            ["out.txt", "r.jsonl"],
            "no temp files"
        );
    }
}

#[test]
fn force_replaces_an_existing_report_on_success() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.jsonl");
    std::fs::write(&report, b"old report\n").unwrap();
    cmd()
        .args([
            "transform",
            "-q",
            "--force",
            "--target",
            "2.4.0",
            "--report",
        ])
        .arg(&report)
        .arg(fixture("v2.3/small.dump.txt"))
        .assert()
        .success()
        .stdout(small_expected("2.4.0"));
    let r = Report::parse(&std::fs::read_to_string(&report).unwrap());
    r.assert_covers(1..=12);
    assert_eq!(dir_names(dir.path()), ["r.jsonl"]);
}

#[test]
fn output_into_a_missing_directory_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no/such/dir/out.txt");
    let out = cmd()
        .args(["transform", "--target", "2.4.3", "-o"])
        .arg(&path)
        .arg(fixture("v2.3/small.dump.txt"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("no/such/dir"), "{stderr}");
}

#[test]
fn a_failing_run_creates_no_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.txt");
    cmd()
        .args(["transform", "--target", "2.4.0", "-o"])
        .arg(&path)
        .write_stdin(small_then_garbage())
        .assert()
        .code(1);
    assert!(
        dir_names(dir.path()).is_empty(),
        "{:?}",
        dir_names(dir.path())
    );
}

#[test]
fn default_stdout_is_spooled_nothing_on_failure() {
    let out = cmd()
        .args(["transform", "--target", "2.4.3"])
        .write_stdin(small_then_garbage())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "spooled: nothing on stdout");
    for input in [small_then_garbage(), small_then_bad_record()] {
        let out = cmd()
            .args(["transform", "--target", "2.4.3"])
            .write_stdin(input)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(out.stdout.is_empty(), "spooled: nothing on stdout");
        assert!(String::from_utf8(out.stderr).unwrap().contains("line 13:"));
    }
    // With --stream the records before the bad record are already out.
    let out = cmd()
        .args(["transform", "--stream", "--target", "2.4.3"])
        .write_stdin(small_then_bad_record())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout,
        small_expected("2.4.3"),
        "--stream writes as it goes"
    );
}

/// Many unknown records (kept as they are), `n` of them: about 40 bytes each.
fn many_records(n: usize, from: usize) -> Vec<u8> {
    let mut s = String::new();
    for i in from..from + n {
        s.push_str(&format!("/cluster_xxx/zz/{i:09}: {{\"x\":{i}}}\n"));
    }
    s.into_bytes()
}

/// A file of `n` good records (several MiB of output) followed by a bad line.
fn big_input_failing_at_the_end(dir: &Path, n: usize) -> std::path::PathBuf {
    let path = dir.join("big.txt");
    let mut input = many_records(n, 0);
    input.extend_from_slice(BAD_RECORD);
    std::fs::write(&path, input).unwrap();
    path
}

/// Waits for `child` at most `secs` seconds; kills it and fails if it does not end.
fn wait_at_most(child: &mut std::process::Child, secs: u64) -> i32 {
    for _ in 0..secs * 20 {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code().unwrap();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    panic!("still running after {secs} s");
}

#[test]
fn stream_writes_as_it_goes_and_spool_only_on_success() {
    let dir = tempfile::tempdir().unwrap();
    let n = 100_000; // about 4 MiB out: far more than a pipe and the write buffer hold
    let path = big_input_failing_at_the_end(dir.path(), n);
    let spawn = |stream: bool| {
        let mut c = std_cmd();
        c.args(["transform", "-q", "--target", "2.4.3"]).arg(&path);
        if stream {
            c.arg("--stream");
        }
        c.stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };

    // --stream: output arrives while the input is still being converted. Nobody reads the
    // rest yet, so the process must still be running (blocked on the full pipe), before it
    // ever reaches the bad last line.
    let mut child = spawn(true);
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 10];
    stdout.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"/cluster_x");
    assert!(child.try_wait().unwrap().is_none(), "still converting");
    let mut rest = Vec::new();
    stdout.read_to_end(&mut rest).unwrap();
    assert_eq!(
        wait_at_most(&mut child, 60),
        1,
        "the bad line still fails the run"
    );
    let mut all = first.to_vec();
    all.extend(rest);
    assert_eq!(all, many_records(n, 0), "every record before the bad line");

    // Default (spooled): the run fails without writing a byte, so it ends even though nobody
    // reads its stdout.
    let mut child = spawn(false);
    assert_eq!(wait_at_most(&mut child, 60), 1);
    let mut out = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    assert!(out.is_empty(), "spooled: nothing on stdout");
}

/// Runs transform with stdout a pipe whose reader is gone; returns (exit code, stderr).
fn closed_pipe(extra: &[&str], input: Vec<u8>) -> (i32, String) {
    let mut child = std_cmd()
        .args(["transform", "--target", "2.4.3"])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the only reader: writes now fail with EPIPE
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    (
        out.status.code().expect("exited, not killed by SIGPIPE"),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn a_closed_stdout_pipe_exits_0_quietly() {
    for extra in [&[][..], &["--stream"][..]] {
        let (code, stderr) = closed_pipe(extra, fixture_bytes("v2.3/small.dump.txt"));
        assert_eq!((code, stderr.as_str()), (0, ""), "{extra:?}");
        let (code, stderr) = closed_pipe(extra, many_records(50_000, 0));
        assert_eq!((code, stderr.as_str()), (0, ""), "{extra:?} large");
    }
}

#[test]
fn head_c_10_reads_ten_bytes_and_the_tool_exits_0() {
    for extra in [&[][..], &["--stream"][..]] {
        let mut child = std_cmd()
            .args(["transform", "--target", "2.4.3"])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&many_records(50_000, 0));
        });
        let mut stdout = child.stdout.take().unwrap();
        let mut ten = [0u8; 10];
        stdout.read_exact(&mut ten).unwrap();
        drop(stdout);
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        assert_eq!(&ten, b"/cluster_x");
        assert_eq!(out.status.code(), Some(0), "{extra:?}");
        assert!(
            out.stderr.is_empty(),
            "{extra:?}: {:?}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn report_has_one_entry_per_record_and_a_summary_last() {
    let dir = tempfile::tempdir().unwrap();
    let input = full_without_plaintext();
    let n = input.lines().count() as u64;
    for t in TARGETS {
        let report = dir.path().join(format!("{t}.jsonl"));
        let out = cmd()
            .args(["transform", "--target", t, "--report"])
            .arg(&report)
            .write_stdin(input.clone())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        let text = std::fs::read_to_string(&report).unwrap();
        let mode = std::fs::metadata(&report).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the report is private too");
        let r = Report::parse(&text);
        r.assert_covers(1..=n);
        let lines: Vec<&str> = input.lines().collect();
        for e in &r.entries {
            let line = e["line"].as_u64().unwrap() as usize;
            let key = lines[line - 1].split_once(": ").unwrap().0;
            assert_eq!(e["key"], key, "entry names its line's key");
        }
        let written = r
            .entries
            .iter()
            .filter(|e| e["action"] != "dropped")
            .count();
        assert_eq!(r.summary["output_records"], written as u64);
        assert_eq!(
            String::from_utf8(out.stdout).unwrap().lines().count(),
            written
        );
        assert_no_secrets("report", &text);
        assert_no_secrets("stderr", &String::from_utf8(out.stderr).unwrap());
        assert!(!text.contains(SOME_HASH));
    }
}

#[test]
fn report_on_a_failing_run_is_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.jsonl");
    let out = cmd()
        .args(["transform", "--target", "2.4.3", "--report"])
        .arg(&report)
        .write_stdin(small_then_garbage())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!report.exists());
    assert!(dir_names(dir.path()).is_empty());
}

#[test]
fn report_and_output_on_the_same_file_is_a_usage_error() {
    // Without the check, --force made the report silently replace the converted dump (exit 0),
    // and without --force the run failed (exit 3) after committing the output.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("same.txt");
    let dotted = dir.path().join(".").join("same.txt");
    for (force, existing) in [(false, false), (true, false), (true, true)] {
        if existing {
            std::fs::write(&path, b"precious\n").unwrap();
        }
        let mut c = cmd();
        c.args(["transform", "-q", "--target", "2.4.3", "-o"])
            .arg(&path)
            .arg("--report")
            .arg(&dotted)
            .arg(fixture("v2.3/small.dump.txt"));
        if force {
            c.arg("--force");
        }
        let out = c.output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "force {force}, existing {existing}"
        );
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.contains("same file"), "{stderr}");
        if existing {
            assert_eq!(std::fs::read(&path).unwrap(), b"precious\n");
            assert_eq!(dir_names(dir.path()), ["same.txt"]);
        } else {
            assert!(dir_names(dir.path()).is_empty(), "nothing created");
        }
    }
}

#[test]
fn a_fifo_as_input_path_is_read_once_and_converted() {
    // The transform reads its input twice; a FIFO (like `<(zcat dump.gz)`) can only be read
    // once, so it must be copied first.
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("in.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
            f.write_all(&fixture_bytes("v2.3/small.dump.txt")).unwrap();
        })
    };
    let out = cmd()
        .args(["transform", "-q", "--target", "2.4.1"])
        .arg(&fifo)
        .output()
        .unwrap();
    writer.join().unwrap();
    assert_eq!(out.status.code(), Some(0));
    // The root member (line 9) is dropped: the root user (line 10) was found in a first pass.
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        small_expected("2.4.1")
    );
}
