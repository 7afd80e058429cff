//! Inputs the fuzzers (`fuzz/`) found crashing or misbehaving, kept as tests on stable.

use cnosdb_migrate::rules::{patch_table, Outcome, Rules};
use cnosdb_migrate::target::Target;

/// Patching a patched value again changes nothing (the fuzzers' idempotence property).
fn assert_idempotent(patch: fn(&str, &Rules) -> Result<Outcome, String>, value: &str) {
    for target in Target::ALL {
        let rules = Rules::new(target);
        if let Ok(Outcome::Patched { value: once, .. }) = patch(value, &rules) {
            assert!(
                serde_json::from_str::<serde_json::Value>(&once).is_ok(),
                "{once}"
            );
            assert_eq!(
                patch(&once, &rules),
                Ok(Outcome::Unchanged),
                "{target}: {once}"
            );
        }
    }
}

/// fuzz `patchers`: a member name with an escape (`\n`) was written back unescaped by the
/// 2.4.1–2.4.2.1 table rename, leaving a raw newline in the output (a split line on restore).
#[test]
fn table_member_name_with_an_escape() {
    let value = r#"{"TsKvTableSchema":{"tenant":"cnosdb","db":"usage_schema","name":"vnode_disk_storage","schema_id":0,"next_column_id":6,"columns":[{"efil,":"Default"}],"cogr\nted_adminlumns_index":{"ase":1,"d":2}}}"#;
    assert_idempotent(patch_table, value);
    let Ok(Outcome::Patched { value: out, .. }) = patch_table(value, &Rules::new(Target::V2_4_1))
    else {
        panic!("expected a patch");
    };
    assert!(!out.contains('\n'));
    assert!(
        out.contains(r#""cogr\nted_adminlumns_index":{"ase":1,"d":2}"#),
        "{out}"
    );
}
