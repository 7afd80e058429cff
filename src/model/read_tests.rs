//! Tests of `model::read`: values read as each release's deserializer reads them.
use super::*;
use crate::model::{database, user};

fn codes(value: &str, ty: Ty, r: Release) -> Vec<String> {
    read(value, ty, r)
        .findings
        .iter()
        .map(|e| e.to_string())
        .collect()
}

#[test]
fn absent_options_are_read_as_none_and_old_names_are_told_apart() {
    let u240 = Ty::Struct(&user::shapes(Release::V2_4_0)[0]);
    let bare = r#"{"id":1,"name":"u","options":{"hash_password":null},"is_admin":false}"#;
    let found = read(bare, u240, Release::V2_4_0).findings;
    assert!(
        found.iter().all(|e| matches!(e, ShapeError::Absent { .. })),
        "{found:?}"
    );
    assert_eq!(found.len(), 2);
    let old = r#"{"id":1,"name":"u","options":{"password":"x"},"is_admin":false}"#;
    assert!(matches!(
        read(old, u240, Release::V2_4_0).findings[0],
        ShapeError::LostUnderOldName { ref old, .. } if old == "options.password"
    ));
    let u241 = Ty::Struct(&user::shapes(Release::V2_4_1)[0]);
    assert!(matches!(
        read(old, u241, Release::V2_4_1).findings.last(),
        Some(ShapeError::OldName { old, .. }) if old == "is_admin"
    ));
    assert!(codes(old, u241, Release::V2_4_1)
        .iter()
        .all(|m| !m.contains('x')));
    // A `null` under the old name of an `Option` loses nothing: only skipped.
    let none = r#"{"id":1,"name":"u","options":{"password":null},"is_admin":false}"#;
    let found = read(none, u240, Release::V2_4_0).findings;
    assert!(
        found
            .iter()
            .any(|e| matches!(e, ShapeError::Ignored { .. }))
            && found
                .iter()
                .all(|e| matches!(e, ShapeError::Ignored { .. } | ShapeError::Absent { .. })),
        "{found:?}"
    );
}

#[test]
fn required_members_types_and_enums() {
    let db = Ty::Struct(database::shape(Release::V2_4_3));
    let found = codes(
        r#"{"tenant":"t","database":1,"is_hidden":false}"#,
        db,
        Release::V2_4_3,
    );
    assert_eq!(
        found,
        [
            "has `database` as a number, where CnosDB 2.4.3 reads a string",
            "lacks `options`, which CnosDB 2.4.3 requires",
            "lacks `config`, which CnosDB 2.4.3 requires",
        ]
    );
    let flat = Ty::Struct(database::shape(Release::V2_4_0));
    let bad = r#"{"tenant":"t","database":"d","config":{"precision":"XS","db_is_hidden":false}}"#;
    assert_eq!(
        codes(bad, flat, Release::V2_4_0)[4],
        "has `config.precision` as a name it does not know, where CnosDB 2.4.0 reads one of MS, US, NS"
    );
}

#[test]
fn canonical_means_the_releases_own_bytes() {
    let user = Ty::Struct(&user::shapes(Release::V2_4_1)[0]);
    let r = Release::V2_4_1;
    let canonical = r#"{"id":1,"name":"u","options":{"hash_password":null,"comment":"c"},"is_root_admin":false}"#;
    assert_eq!(
        read(canonical, user, r),
        Reading {
            findings: vec![],
            canonical: true
        }
    );
    for other in [
        // spacing, member order, a `None` written as `null` where 2.4.1 leaves it out
        r#"{"id":1, "name":"u","options":{"hash_password":null,"comment":"c"},"is_root_admin":false}"#,
        r#"{"id":1,"name":"u","options":{"comment":"c","hash_password":null},"is_root_admin":false}"#,
        r#"{"id":1,"name":"u","options":{"hash_password":null,"comment":null},"is_root_admin":false}"#,
        " {\"id\":1,\"name\":\"u\",\"options\":{\"hash_password\":null},\"is_root_admin\":false}",
    ] {
        assert_eq!(
            read(other, user, r),
            Reading {
                findings: vec![],
                canonical: false
            },
            "{other}"
        );
    }
    assert!(read(r#"{"System":"Owner"}"#, crate::model::MEMBER, r).canonical);
    assert!(!read(r#"{"System": "Owner"}"#, crate::model::MEMBER, r).canonical);
}

#[test]
fn struct_arrays_read_the_same_compact_or_spaced() {
    let r = Release::V2_4_3;
    let ty = crate::model::table::ty(r);
    let table = |columns: &str| {
        format!(
            r#"{{"TsKvTableSchema":{{"tenant":"t","db":"d","name":"x","schema_version":0,"next_column_id":2,"columns":{columns},"columns_index":{{"time":0,"v":1}}}}}}"#
        )
    };
    let time = r#"{"id":0,"name":"time","column_type":{"Time":"Nanosecond"},"encoding":"Default"}"#;
    let good = r#"{"id":1,"name":"v","column_type":{"Field":"Float"},"encoding":"Gorilla"}"#;
    let bad = r#"{"id":"1","name":"v","column_type":{"Field":"Float"},"encoding":"Nope"}"#;
    let reordered = r#"{"name":"v","id":1,"column_type":{"Field":"Float"},"encoding":"Nope"}"#;
    for second in [good, bad, reordered] {
        let compact = read(&table(&format!("[{time},{second}]")), ty, r);
        let spaced = read(&table(&format!("[{time}, {second}]")), ty, r);
        assert_eq!(compact.findings, spaced.findings, "{second}");
        assert!(!spaced.canonical);
        assert_eq!(compact.canonical, second == good, "{second}");
    }
    let found = codes(&table(&format!("[{time},{bad}]")), ty, r);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].contains("columns.id"), "{found:?}");
}
