//! Tests of the copy ledger.
use super::*;

fn entry(attempt: u32, step: Step, rows: Option<u64>) -> Entry {
    Entry {
        to: "http://n".into(),
        tenant: "t".into(),
        database: "d".into(),
        table: "x".into(),
        chunk: "0_10".into(),
        attempt,
        step,
        location: format!("file:///s/0_10-{attempt}"),
        rows,
        at: (step == Step::Planned).then_some(100 + i64::from(attempt)),
    }
}

#[test]
fn a_later_attempt_replaces_an_earlier_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    let mut l = Ledger::open(&path, "http://n").unwrap();
    l.append(&entry(1, Step::Planned, None)).unwrap();
    l.append(&entry(1, Step::Exported, Some(5))).unwrap();
    l.append(&entry(2, Step::Planned, None)).unwrap();
    drop(l);
    // A cut last line and a record for another node are ignored.
    let mut f = OpenOptions::new().append(true).open(&path).unwrap();
    let mut other = entry(9, Step::Verified, Some(1));
    other.to = "http://other".into();
    writeln!(f, "{}", serde_json::to_string(&other).unwrap()).unwrap();
    write!(f, "{{\"to\":\"http://n\",\"ten").unwrap();
    drop(f);
    let l = Ledger::open(&path, "http://n").unwrap();
    let p = l.progress(&entry(1, Step::Planned, None).key()).unwrap();
    assert_eq!((p.attempt, p.step, p.exported), (2, Step::Planned, None));
    assert_eq!(p.planned_at, Some(102));
    assert_eq!(p.location, "file:///s/0_10-2");
    assert!(std::fs::read_to_string(&path).unwrap().ends_with("}\n"));
}

#[test]
fn passes_are_kept_beside_the_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    let info = crate::tables::TableInfo {
        tenant: "t".into(),
        database: "d".into(),
        table: "x".into(),
        engine: crate::tables::Engine::Tskv,
        tags: Some(1),
        fields: 1,
        system: false,
        line: 1,
    };
    let plan = [super::super::TablePlan {
        info,
        url: "file:///s".into(),
        chunks: vec![super::super::PlannedChunk {
            name: "0_10".into(),
            chunk: crate::tables::chunks::Chunk {
                start: Some(0),
                end: None,
            },
            estimate: None,
            expired: false,
        }],
    }];
    let mut l = Ledger::open(&path, "http://n").unwrap();
    // No open-ended chunk recorded with its time yet: no pass.
    assert_eq!(l.finish_pass(&plan, None).unwrap(), None);
    l.append(&entry(1, Step::Planned, None)).unwrap();
    l.append(&entry(1, Step::Verified, Some(5))).unwrap();
    assert_eq!(l.finish_pass(&plan, Some(3)).unwrap(), Some(101));
    // A pass recorded for another node is not this node's.
    let mut f = OpenOptions::new().append(true).open(&path).unwrap();
    writeln!(
        f,
        r#"{{"to":"http://other","since":null,"watermark":9,"chunks":1}}"#
    )
    .unwrap();
    drop((f, l));
    let l = Ledger::open(&path, "http://n").unwrap();
    let pass = PassEntry {
        to: "http://n".into(),
        since: Some(3),
        watermark: 101,
        chunks: 1,
    };
    assert_eq!(l.passes(), [pass]);
    assert!(l.progress(&entry(1, Step::Planned, None).key()).is_some());
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(r#"{"to":"http://n","since":3,"watermark":101,"chunks":1}"#));
}

#[test]
fn a_table_level_state_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state");
    std::fs::write(
        &path,
        "{\"tenant\":\"t\",\"database\":\"d\",\"table\":\"x\",\"exported\":1,\"imported\":1,\"status\":\"copied\",\"to\":\"http://n\"}\n",
    )
    .unwrap();
    let e = Ledger::open(&path, "http://n").err().unwrap().to_string();
    assert!(e.contains("table-level state file"), "{e}");
}
