//! Tests of the copy compare.
use super::*;

#[test]
fn extents_of_disjoint_ranges_add_up() {
    let mut sum = Extent::default();
    let some = |rows, first, last| Extent {
        rows,
        first: Some(first),
        last: Some(last),
    };
    for e in [
        some(3, 20, 29),
        Extent::default(),
        some(2, 5, 9),
        some(1, 40, 40),
    ] {
        sum.add(e);
    }
    assert_eq!(sum, some(6, 5, 40));
}

#[test]
fn csv_answers_are_split_with_quotes() {
    let rows = csv_rows("a,b,c\n1,\"x, \"\"y\"\"\n z\",\r\n").unwrap();
    assert_eq!(
        rows,
        vec![
            vec!["a".to_string(), "b".into(), "c".into()],
            vec!["1".into(), "x, \"y\"\n z".into(), String::new()],
        ]
    );
    assert!(csv_rows("a\n\"open").is_err());
}

#[test]
fn more_rows_count_only_when_they_cover_the_old_range() {
    let e = |rows, first, last| Extent {
        rows,
        first: Some(first),
        last: Some(last),
    };
    assert!(covers(e(5, 1, 9), e(3, 2, 8)));
    assert!(!covers(e(5, 3, 9), e(3, 2, 8)));
    assert!(!covers(e(5, 1, 7), e(3, 2, 8)));
    assert!(covers(e(5, 1, 7), Extent::default()));
}

#[test]
fn numbers_compare_by_value() {
    let s = |v: &str| Some(v.to_string());
    assert!(same_value(s("1.50").as_ref(), s("1.5").as_ref()));
    assert!(!same_value(s("1.5").as_ref(), s("1.25").as_ref()));
    assert!(!same_value(s("x").as_ref(), s("y").as_ref()));
    assert!(!same_value(s("").as_ref(), None));
}
