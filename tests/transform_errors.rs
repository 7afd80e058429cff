//! Every case of `fixtures/bad/CASES.md` through the real binary, for every target: exit code,
//! the line the message names (stderr kept as a snapshot), nothing on stdout on failure. Also
//! the generated 100 MB line and the usage errors.

use std::time::{Duration, Instant};

use crate::support::*;

/// `(file, exit code for each target in TARGETS order, line the error names)`.
const CASES: [(&str, [i32; 6], Option<u64>); 18] = [
    ("truncated-debug.txt", [1; 6], Some(5)),
    ("footer-only.txt", [1; 6], Some(1)),
    ("empty.txt", [1; 6], None),
    ("binary-garbage.txt", [1; 6], Some(1)),
    ("invalid-utf8-mid-file.txt", [1; 6], Some(3)),
    ("nul-byte.txt", [1; 6], Some(2)),
    ("crlf.txt", [0; 6], None),
    ("cr-cr-lf.txt", [1; 6], Some(8)),
    ("no-separator.txt", [1; 6], Some(3)),
    ("duplicate-keys.txt", [1; 6], Some(4)),
    ("patch-not-json.txt", [1; 6], Some(3)),
    ("patch-wrong-shape.txt", [1; 6], Some(2)),
    ("newer-shape.txt", [1, 1, 1, 0, 0, 0], Some(2)),
    ("unknown-key-kind.txt", [0; 6], None),
    ("dump-with-star-lines.txt", [1; 6], Some(3)),
    ("key-containing-separator.txt", [1; 6], Some(3)),
    ("empty-key.txt", [1; 6], Some(2)),
    ("key-without-slash.txt", [1; 6], Some(3)),
];

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn transform(args: &[&str], stdin: Option<Vec<u8>>) -> Out {
    let mut c = cmd();
    c.arg("transform").args(args);
    if let Some(input) = stdin {
        c.write_stdin(input);
    }
    let out = c.output().unwrap();
    Out {
        code: out.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn names_line(stderr: &str, line: u64) -> bool {
    stderr.contains(&format!("line {line}:")) || stderr.contains(&format!("line {line} ("))
}

#[test]
fn cases_md_lists_exactly_the_bad_files() {
    let mut files: Vec<String> = std::fs::read_dir(fixture("bad"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".txt"))
        .collect();
    files.sort();
    let mut covered: Vec<String> = CASES.iter().map(|c| c.0.to_string()).collect();
    covered.sort();
    assert_eq!(files, covered, "a test case for every file in fixtures/bad");
    let cases_md = fixture_text("bad/CASES.md");
    for (file, _, _) in CASES {
        assert!(
            cases_md.contains(&format!("| `{file}` |")),
            "{file} in CASES.md"
        );
    }
}

#[test]
fn every_bad_case_for_every_target() {
    for (file, codes, line) in CASES {
        let path = fixture(&format!("bad/{file}"));
        let path = path.to_str().unwrap();
        let mut first_error: Option<String> = None;
        for (t, want) in TARGETS.iter().zip(codes) {
            let out = transform(&["-q", "--target", t, path], None);
            assert_eq!(out.code, want, "{file} --target {t}: {}", out.stderr);
            if want == 0 {
                assert!(
                    out.stderr.is_empty(),
                    "{file} {t}: -q and success: {}",
                    out.stderr
                );
                continue;
            }
            assert!(
                out.stdout.is_empty(),
                "{file} {t}: nothing on stdout on failure"
            );
            assert!(
                out.stderr
                    .starts_with("cnosdb-migrate: error: invalid input: "),
                "{file} {t}: {}",
                out.stderr
            );
            match line {
                Some(line) => assert!(
                    names_line(&out.stderr, line),
                    "{file} {t}: names line {line}: {}",
                    out.stderr
                ),
                // No line to name: the input holds none.
                None => assert!(out.stderr.contains("holds no record"), "{}", out.stderr),
            }
            assert_eq!(out.stderr.lines().count(), 1, "one message line");
            assert_no_secrets(file, &out.stderr);
            match &first_error {
                None => {
                    let name = format!("bad_{}_{}", file.trim_end_matches(".txt"), t_(t));
                    // A message that names the file names it as FILE: snapshots hold no
                    // checkout's path.
                    insta::assert_snapshot!(
                        name.replace('-', "_"),
                        out.stderr.replace(path, "FILE")
                    );
                    first_error = Some(out.stderr);
                }
                // The message is the same for every target, except where it names the target.
                Some(first) => assert_eq!(
                    out.stderr,
                    first.replace("CnosDB 2.4.0", &format!("CnosDB {t}")),
                    "{file} {t}"
                ),
            }
        }
    }
}

#[test]
fn empty_input_is_refused_and_writes_nothing() {
    for t in TARGETS {
        let out = transform(
            &["--target", t, fixture("bad/empty.txt").to_str().unwrap()],
            None,
        );
        assert_eq!(out.code, 1);
        assert_eq!(out.stdout, "", "0 bytes out");
        assert!(
            out.stderr.contains("holds no record (0 bytes"),
            "{}",
            out.stderr
        );
    }
}

#[test]
fn crlf_is_normalized_to_the_expected_output() {
    let dir = tempfile::tempdir().unwrap();
    let lines = fixture_text("v2.3/small.dump.txt").lines().count() as u64;
    for t in TARGETS {
        let report = dir.path().join(format!("{t}.jsonl"));
        let out = transform(
            &[
                "--target",
                t,
                fixture("bad/crlf.txt").to_str().unwrap(),
                "--report",
                report.to_str().unwrap(),
            ],
            None,
        );
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(out.stdout, fixture_text(&format!("expected/small.{t}.txt")));
        assert!(!out.stdout.contains('\r'));
        assert!(
            out.stderr
                .contains(&format!("{lines} CRLF line endings normalized to LF")),
            "{}",
            out.stderr
        );
        let report = Report::parse(&std::fs::read_to_string(&report).unwrap());
        report.assert_covers(1..=lines);
        assert_eq!(report.summary["crlf_lines"], lines);
    }
}

#[test]
fn unknown_key_kind_is_kept_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.jsonl");
    let out = transform(
        &[
            "--target",
            "2.4.3",
            fixture("bad/unknown-key-kind.txt").to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let expected = fixture_text("expected/small.2.4.3.txt");
    let mut want = String::from("/cluster_xxx/foo/bar: {\"x\":1}\n");
    for l in expected.lines().take(2) {
        want.push_str(l);
        want.push('\n');
    }
    assert_eq!(out.stdout, want);
    let report = Report::parse(&std::fs::read_to_string(&report).unwrap());
    report.assert_covers(1..=4);
    let e = report.at(2);
    assert_eq!(e["key"], "/cluster_xxx/foo/bar");
    assert_eq!(e["action"], "kept");
    assert_eq!(e["rule"], "unknown");
    assert_eq!(report.at(1)["rule"], "drop.auto-incr-id");
    assert_eq!(report.summary["unknown_keys"], 1);
    assert!(out.stderr.contains("1 unknown keys kept"), "{}", out.stderr);
}

#[test]
fn newer_shape_is_kept_byte_identical_for_2_4_2_and_later() {
    let input = fixture_text("bad/newer-shape.txt");
    let (key, value) = input.lines().nth(1).unwrap().split_once(": ").unwrap();
    let dir = tempfile::tempdir().unwrap();
    for t in ["2.4.2", "2.4.2.1", "2.4.3"] {
        let report = dir.path().join(format!("{t}.jsonl"));
        let out = transform(
            &[
                "--target",
                t,
                fixture("bad/newer-shape.txt").to_str().unwrap(),
                "--report",
                report.to_str().unwrap(),
            ],
            None,
        );
        assert_eq!(out.code, 0, "{}", out.stderr);
        // A complete 2.4.2-shaped record passes unchanged, even its 2.4.2 `wal_max_file_size`
        // on 2.4.3 (only converted databases get the target's defaults).
        assert_eq!(value_of(&out.stdout, key), Some(value), "{t}");
        let report = Report::parse(&std::fs::read_to_string(&report).unwrap());
        assert_eq!(report.at(2)["action"], "kept");
        assert_eq!(report.at(1)["action"], "patched");
        assert_eq!(report.at(3)["action"], "patched");
        assert_eq!(out.stdout.lines().count(), 3);
    }
}

#[test]
fn a_100_mb_line_is_refused_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.txt");
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        f.write_all(b"/cluster_xxx/tenants/t: {\"id\":1,\"name\":\"")
            .unwrap();
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..100 {
            f.write_all(&chunk).unwrap();
        }
        f.write_all(b"\"}\n").unwrap();
    }
    assert!(std::fs::metadata(&path).unwrap().len() > 100 << 20);
    // The reader refuses the line whatever the target; one run is enough.
    let start = Instant::now();
    let out = transform(&["--target", "2.4.3", path.to_str().unwrap()], None);
    let took = start.elapsed();
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr.contains("line 1 (") && out.stderr.contains("line longer than 64 MiB"),
        "{}",
        out.stderr
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
    insta::assert_snapshot!("line_longer_than_64_mib", out.stderr);
}

#[test]
fn a_long_line_after_good_lines_names_its_line() {
    // Lines a bit over the limit on stdin, after two good records.
    let mut input = fixture_bytes("v2.3/small.dump.txt")
        .split(|&b| b == b'\n')
        .take(2)
        .flat_map(|l| l.iter().copied().chain([b'\n']))
        .collect::<Vec<u8>>();
    input.extend_from_slice(b"/cluster_xxx/foo/x: \"");
    input.resize(input.len() + (64 << 20) + 10, b'y');
    input.extend_from_slice(b"\"\n");
    let out = transform(&["--target", "2.4.1", "-"], Some(input));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stdout.is_empty());
    assert!(names_line(&out.stderr, 3), "{}", out.stderr);
    assert!(out.stderr.contains("64 MiB"), "{}", out.stderr);
}

#[test]
fn unknown_target_is_a_usage_error_listing_the_valid_ones() {
    let out = transform(
        &[
            "--target",
            "9.9",
            fixture("v2.3/small.dump.txt").to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.code, 2);
    assert!(out.stdout.is_empty());
    for t in TARGETS {
        assert!(out.stderr.contains(t), "lists {t}: {}", out.stderr);
    }
    assert!(out.stderr.contains("9.9"), "{}", out.stderr);
    insta::assert_snapshot!("target_9_9", out.stderr);
}

#[test]
fn missing_target_and_unknown_flags_are_usage_errors() {
    let small = fixture("v2.3/small.dump.txt");
    let small = small.to_str().unwrap();
    for args in [
        vec![small],
        vec!["--target", "2.4.3", "--no-such-flag", small],
        vec!["--target", "2.4.3", "--plaintext-passwords", "maybe", small],
        vec!["--target", "2.4.3", "--exclude-db", "nodot", small],
        vec!["--target", "2.4.3", "--exclude-db", ".db", small],
        vec!["--target", "2.4.3", "--rename-cluster", "a/b", small],
        vec!["--target", "2.4.3", "--rename-cluster", "", small],
        vec!["--target", "2.4.3", "--rename-cluster", "a: b", small],
        vec!["--target", "2.4.3", "--report", "-", small],
    ] {
        let out = transform(&args, None);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
}

#[test]
fn missing_input_file_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.txt");
    let out = transform(&["--target", "2.4.3", missing.to_str().unwrap()], None);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(out.stderr.contains("nope.txt"), "{}", out.stderr);
    assert!(out.stdout.is_empty());
}

#[test]
fn db_config_usage_errors() {
    let small = fixture("v2.3/small.dump.txt");
    let small = small.to_str().unwrap();
    let cases: [(&str, &str, &str); 6] = [
        ("2.4.1", "wal_sync=true", "2.4.2 and later"),
        ("2.4.0", "max_cache_readers=8", "2.4.2 and later"),
        ("2.4.3", "wal_sync", "is not NAME=VALUE"),
        ("2.4.3", "nope=1", "unknown database config `nope`"),
        ("2.4.3", "wal_sync=1", "takes true or false"),
        ("2.4.2", "max_memcache_size=-5", "takes an unsigned integer"),
    ];
    for (t, assignment, message) in cases {
        let out = transform(&["--target", t, "--db-config", assignment, small], None);
        assert_eq!(out.code, 2, "{assignment}: {}", out.stderr);
        assert!(out.stdout.is_empty());
        assert!(out.stderr.contains(message), "{assignment}: {}", out.stderr);
    }
}

#[test]
fn two_concatenated_debug_dumps_are_refused_at_the_second_header() {
    let one = fixture_bytes("v2.3/full.debug.txt");
    let lines = one.iter().filter(|&&b| b == b'\n').count() as u64;
    let out = transform(&["--target", "2.4.3", "-"], Some(one.repeat(2)));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stdout.is_empty());
    assert!(names_line(&out.stderr, lines + 1), "{}", out.stderr);
    assert!(
        out.stderr.contains("after the /debug footer"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_empty_debug_frame_holds_no_record_and_is_refused() {
    for frame in [
        "******---------------------------******\n******----------------------------------------------******\n",
        "****** ------------------------------------- ******\n****** ------------------------------------- ******\n",
    ] {
        let out = transform(&["-q", "--target", "2.4.3"], Some(frame.into()));
        assert_eq!((out.code, out.stdout.as_str()), (1, ""), "{}", out.stderr);
        assert!(out.stderr.contains("stdin holds no record"), "{}", out.stderr);
    }
}

/// With two bad lines, the error names the first, whether the reading thread or the converting
/// thread finds each; and a bad line far into a large input (past many batches) is found too.
#[test]
fn of_two_problems_the_earlier_line_is_reported() {
    let good = fixture_bytes("v2.3/small.dump.txt");
    let text = String::from_utf8(good).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let tenant = 1 + lines
        .iter()
        .position(|l| l.starts_with("/cluster_xxx/tenants/cnosdb: "))
        .expect("the fixture has the cnosdb tenant");
    // A value that is not JSON on the tenant line (found by the converting thread) ...
    let (key, _) = lines[tenant - 1].split_once(": ").unwrap();
    let not_json = format!("{key}: {{not json");
    // ... and a line without `": "` (found by the reading thread).
    let no_separator = "/cluster_xxx/no-separator-here".to_string();
    let filler: Vec<String> = (0..40_000)
        .map(|i| format!("/cluster_xxx/tenants/cnosdb/dbs/public/buckets/{:08}: {{\"id\":{i},\"pad\":\"{}\"}}", i, "x".repeat(40)))
        .collect();
    for (first, second) in [(&not_json, &no_separator), (&no_separator, &not_json)] {
        let mut input = lines.clone();
        input[tenant - 1] = first.clone();
        // Far after the first problem, past many batches of filler.
        input.splice(tenant..tenant, filler.iter().cloned());
        input.push(second.clone());
        let out = transform(
            &["--target", "2.4.3", "-"],
            Some(input.join("\n").into_bytes()),
        );
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert!(out.stdout.is_empty());
        assert!(names_line(&out.stderr, tenant as u64), "{}", out.stderr);
    }
    lines.push(no_separator);
    let last = lines.len() as u64;
    lines.splice(1..1, filler.iter().cloned());
    let out = transform(
        &["--target", "2.4.3", "-"],
        Some(lines.join("\n").into_bytes()),
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        names_line(&out.stderr, last + filler.len() as u64),
        "{}",
        out.stderr
    );
}
