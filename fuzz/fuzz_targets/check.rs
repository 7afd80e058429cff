//! `check` over arbitrary bytes, with the target and cluster name taken from the first byte: no
//! panic, a self-consistent report, and a file `transform` writes for a target passes `check` for
//! that target ("every output of `transform --target V` passes `check --target V`").
#![no_main]


use cnosdb_migrate::check::{check, CheckReport, Severity, CODES};
use cnosdb_migrate::pipeline::{transform, TransformOptions};
use cnosdb_migrate::report::NoReport;
use cnosdb_migrate::rules::{PlaintextPolicy, Rules};
use cnosdb_migrate::target::Target;
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};

/// The severity of a code, from `check`'s own table (the README mirrors it).
fn severity_of(code: &str) -> Option<Severity> {
    CODES.iter().find(|c| c.name == code).map(|c| c.severity)
}

/// What `check` promises about its report for `input`.
fn assert_consistent(input: &[u8], target: Target, report: &CheckReport) {
    let s = &report.summary;
    // Physical lines: every LF ends one, and a last line without LF counts too.
    let lines: Vec<&[u8]> = match input.strip_suffix(b"\n") {
        Some(body) => body.split(|&b| b == b'\n').collect(),
        None if input.is_empty() => Vec::new(),
        None => input.split(|&b| b == b'\n').collect(),
    };
    assert!(s.summary);
    assert_eq!(s.target, target.to_string());
    assert_eq!(s.problems, report.problems.len());
    assert_eq!(s.ok, !report.problems.iter().any(|p| p.severity.fails(false)));
    assert_eq!(s.noncanonical, report.notes.len());
    assert!(report.notes.iter().all(|p| p.severity == Severity::Noncanonical));
    assert_eq!(s.lines, lines.len() as u64);
    assert!(
        s.records <= s.lines,
        "{} records in {} lines",
        s.records,
        s.lines
    );
    assert!(s.unknown_keys <= s.records);
    assert_eq!(s.bytes, input.len() as u64);
    let sha: String = Sha256::digest(input)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(s.sha256, sha);
    let mut prev = (0, Severity::Unreadable);
    for p in &report.problems {
        assert!(
            p.line >= 1 && p.line <= s.lines,
            "{p:?} of {} lines",
            s.lines
        );
        assert!(
            prev <= (p.line, p.severity),
            "problems out of line order: {p:?}"
        );
        prev = (p.line, p.severity);
        assert_eq!(severity_of(p.code), Some(p.severity), "{p:?}");
        assert!(!p.reason.is_empty(), "{p:?}");
        // "One line for people": the text output prints it after `line N [code] KEY: `.
        assert!(!p.reason.contains(['\n', '\r']), "{p:?}");
        if let Some(key) = &p.key {
            // The key is the line's own, before its first ": ".
            let line = lines[p.line as usize - 1];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let rest = line.strip_prefix(key.as_bytes());
            assert!(
                !key.is_empty() && rest.is_some_and(|r| r.starts_with(b": ")),
                "{p:?} is not the key of line {}",
                p.line
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, input)) = data.split_first() else {
        return;
    };
    let target = Target::ALL[usize::from(flags & 7) % Target::ALL.len()];
    let cluster = match flags >> 3 & 3 {
        0 | 1 => None,
        2 => Some("cluster_xxx"),
        _ => Some("c"),
    };

    let report = check(input, target, cluster).expect("check fails only on I/O errors");
    assert_consistent(input, target, &report);

    // A successful transform for the target (renamed to the target's cluster, when it is known)
    // passes check for the target.
    let mut rules = Rules::new(target);
    // Hashing a plaintext password costs ~0.2 s (bcrypt cost 12): refuse them instead.
    rules.plaintext = PlaintextPolicy::Fail;
    let mut opts = TransformOptions::new(rules);
    opts.rename_cluster = cluster.map(str::to_string);
    opts.keep_target_root = flags & 32 != 0;
    if flags & 64 != 0 {
        opts.filter.exclude_tenants.push("cnosdb".into());
        opts.filter.exclude_dbs.push(("t".into(), "d".into()));
    }
    let mut output = Vec::new();
    if transform(input, &mut output, &opts, &mut NoReport).is_ok() {
        let again = check(&output[..], target, cluster).expect("check of a Vec");
        assert_consistent(&output, target, &again);
        assert!(
            again.problems.is_empty(),
            "transform --target {target} wrote a file check refuses: {:?}\n{}",
            again.problems,
            String::from_utf8_lossy(&output)
        );
    }
});
