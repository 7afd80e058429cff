//! Tests of `check`: problems found, severities and the verdict.
use super::*;

/// `(line, code)` of every problem and note, in line order.
fn codes(text: &str, t: Target) -> Vec<(u64, &'static str)> {
    let report = check(text.as_bytes(), t, None).unwrap();
    let mut all: Vec<(u64, &'static str)> = report
        .problems
        .iter()
        .chain(&report.notes)
        .map(|p| (p.line, p.code))
        .collect();
    all.sort();
    all
}

#[test]
fn expected_transform_outputs_are_clean() {
    for t in Target::ALL {
        for size in ["small", "full"] {
            let path = format!("fixtures/expected/{size}.{t}.txt");
            let text = std::fs::read_to_string(&path).unwrap();
            // The placeholder stands for a fresh hash; any bcrypt hash will do.
            let text = text.replace(
                "<BCRYPT-OF:secret-pw>",
                "$2b$12$UXtD3jygSi76oO2IyV/UHeC2TqqD3SBp0yxoyp3intrNueiHVjri6",
            );
            let report = check(text.as_bytes(), t, None).unwrap();
            assert!(report.problems.is_empty(), "{path}: {:?}", report.problems);
            // What transform writes is canonical by definition.
            assert!(report.notes.is_empty(), "{path}: {:?}", report.notes);
        }
    }
}

#[test]
fn a_real_servers_own_records_are_canonical_for_its_release() {
    for (file, t) in [
        ("v2.4.0-dump-fresh.txt", Target::V2_4_0),
        ("v2.4.3.4-dump-fresh.txt", Target::V2_4_3),
    ] {
        let text = std::fs::read_to_string(format!("fixtures/real/{file}")).unwrap();
        let report = check(text.as_bytes(), t, None).unwrap();
        // What such a dump holds besides: the keys that must not move, and the hazards of
        // restoring a cluster's own system records.
        assert!(report.notes.is_empty(), "{file}: {:?}", report.notes);
        assert!(
            report.problems.iter().all(|p| p.code.starts_with("drop.")
                || matches!(
                    p.code,
                    "system-db" | "root-without-password" | "must-change-password"
                )),
            "{file}: {:?}",
            report.problems
        );
    }
}

#[test]
fn a_2_3_dump_fails_everywhere() {
    let text = std::fs::read_to_string("fixtures/v2.3/small.dump.txt").unwrap();
    let found = codes(&text, Target::V2_4_3);
    assert!(found.contains(&(1, "drop.auto-incr-id")), "{found:?}");
    assert!(found.contains(&(5, "bucket-without-leader")), "{found:?}");
    assert!(found.contains(&(10, "root-without-password")), "{found:?}");
    assert!(found.contains(&(11, "old-field-name")), "{found:?}");
}

#[test]
fn text_problems_do_not_stop_the_scan() {
    let text = "/a: 1\r\n\n* /b: 2\n/c 3\n: 4\n/d: \u{0}\n/data_version: 1\n/data_version: 2\n";
    assert_eq!(
        codes(text, Target::V2_4_0),
        [
            (1, "crlf"),
            (2, "blank-line"),
            (3, "debug-prefix"),
            (4, "no-separator"),
            (5, "empty-key"),
            (6, "nul"),
            (7, "drop.global"),
            (8, "duplicate-key"),
        ]
    );
    let bad_utf8 = check(&b"/a: \xff\n/b/x: 1\n"[..], Target::V2_4_0, None).unwrap();
    assert_eq!(bad_utf8.problems[0].code, "invalid-utf8");
    assert_eq!(bad_utf8.summary.records, 1);
}

#[test]
fn the_table_threads_find_what_one_thread_finds() {
    // Tables over many batches, with problems, and bad text among them.
    let small = std::fs::read_to_string("fixtures/v2.3/full.debug.txt").unwrap();
    let text = small.repeat(300);
    assert!(text.len() > 3 * crate::dump::batch::BATCH_BYTES);
    let all = |threads| {
        let r = check_on(text.as_bytes(), Target::V2_4_3, None, threads).unwrap();
        (r.problems, r.notes, r.summary.problems, r.summary.records)
    };
    let one = all(1);
    assert!(one.0.len() > 1000, "{}", one.0.len());
    assert_eq!(all(3), one);
}

#[test]
fn keys_of_another_cluster() {
    let text = std::fs::read_to_string("fixtures/expected/small.2.4.3.txt").unwrap();
    assert!(
        check(text.as_bytes(), Target::V2_4_3, Some("cluster_xxx"))
            .unwrap()
            .summary
            .ok
    );
    let report = check(text.as_bytes(), Target::V2_4_3, Some("prod")).unwrap();
    assert_eq!(report.problems.len(), 5);
    assert!(report.problems.iter().all(|p| p.code == "other-cluster"));
}

#[test]
fn reasons_never_quote_user_values() {
    let u = r#"{"id":7,"name":"dave","options":{"password":"secret-pw"},"is_admin":false}"#;
    let report = check(
        format!("/c/users/dave: {u}\n").as_bytes(),
        Target::V2_4_1,
        None,
    )
    .unwrap();
    assert!(report.problems.len() >= 2);
    for p in &report.problems {
        assert!(!p.reason.contains("secret-pw"), "{p:?}");
    }
}
