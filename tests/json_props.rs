//! The fast JSON scanner behind `json::Object::parse`, `json::Raw::parse`, `Raw::leading` and
//! `Raw::elements` gives exactly serde_json's answers (`json::by_serde`, the judge of what is
//! valid): over generated JSON, then the same texts with bytes inserted, deleted or replaced.

use cnosdb_migrate::json::{by_serde, Object, Raw};
use proptest::prelude::*;

/// A JSON value's text, compact or with whitespace, with the escapes, numbers and nesting
/// CnosDB's records hold and the edge cases of the grammar.
fn json_text() -> impl Strategy<Value = String> {
    let ws = prop::sample::select(vec!["", "", "", " ", "\n", "\t", "\r\n "]);
    let string = prop::collection::vec(
        prop::sample::select(vec![
            "a", "Default", "é", "时间", "\\\"", "\\\\", "\\/", "\\b", "\\n", "\\u00e9", "\\ud800",
            "\\uDFFF", " ", "{", "]", ":", ",",
        ]),
        0..6,
    )
    .prop_map(|parts| format!("\"{}\"", parts.concat()));
    let number = prop::sample::select(vec![
        "0",
        "-0",
        "7",
        "-12",
        "340282366920938463463374607431768211455",
        "1.5",
        "0.25e-3",
        "6E+2",
        "-9e9",
    ])
    .prop_map(str::to_string);
    let literal = prop::sample::select(vec!["true", "false", "null"]).prop_map(str::to_string);
    let leaf = prop_oneof![string.clone(), number, literal];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        let ws = ws.clone();
        let string = string.clone();
        prop_oneof![
            (prop::collection::vec((ws.clone(), inner.clone(), ws.clone()), 0..6)).prop_map(
                |items| {
                    let body: Vec<String> =
                        items.iter().map(|(a, v, b)| format!("{a}{v}{b}")).collect();
                    format!("[{}]", body.join(","))
                }
            ),
            (prop::collection::vec((string, ws.clone(), inner, ws), 0..6)).prop_map(|members| {
                let body: Vec<String> = members
                    .iter()
                    .map(|(n, a, v, b)| format!("{a}{n}{b}:{a}{v}{b}"))
                    .collect();
                format!("{{{}}}", body.join(","))
            }),
        ]
    })
}

/// One edit of a text: insert, delete or replace a character at a position.
#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, char),
    Delete(usize),
    Replace(usize, char),
}

fn edit() -> impl Strategy<Value = Edit> {
    let c = prop::sample::select(vec![
        '{', '}', '[', ']', '"', ':', ',', '\\', ' ', '-', '+', '.', 'e', '0', '1', 'u', 'n', 't',
        'a', '\u{1}', '\u{1f}', '\t', 'é',
    ]);
    prop_oneof![
        (any::<usize>(), c.clone()).prop_map(|(i, c)| Edit::Insert(i, c)),
        any::<usize>().prop_map(Edit::Delete),
        (any::<usize>(), c).prop_map(|(i, c)| Edit::Replace(i, c)),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for e in edits {
        let n = chars.len();
        match *e {
            Edit::Insert(i, c) => chars.insert(i % (n + 1), c),
            Edit::Delete(i) if n > 0 => {
                chars.remove(i % n);
            }
            Edit::Replace(i, c) if n > 0 => chars[i % n] = c,
            _ => {}
        }
    }
    chars.into_iter().collect()
}

type Members<'a> = Vec<(String, &'a str)>;

fn members(o: Result<Object<'_>, String>) -> Result<Members<'_>, String> {
    o.map(|o| {
        o.members
            .into_iter()
            .map(|(n, v)| (n.into_owned(), v.get()))
            .collect()
    })
}

/// Every fast answer about `text` equals serde_json's.
fn agrees(text: &str) {
    assert_eq!(
        members(Object::parse(text)),
        members(by_serde::object(text)),
        "object {text:?}"
    );
    assert_eq!(Raw::parse(text), by_serde::value(text), "value {text:?}");
    assert_eq!(
        Raw::leading(text),
        by_serde::leading(text),
        "leading {text:?}"
    );
    if let Ok(raw) = Raw::parse(text) {
        assert_eq!(
            raw.elements(),
            by_serde::elements(raw.get()),
            "elements {text:?}"
        );
        assert_eq!(raw.items(), raw.elements(), "items {text:?}");
        if let Ok(obj) = raw.object() {
            let names: Vec<&str> = obj.members.iter().map(|(n, _)| n.as_ref()).collect();
            let values: Vec<Raw<'_>> = obj.members.iter().map(|(_, v)| *v).collect();
            if let Some(found) = raw.compact_values() {
                assert_eq!(found, values, "compact_values {text:?}");
            }
            // Found only when exact, and then the same values.
            if let Some(found) = raw.exact_members(names.iter().copied()) {
                assert_eq!(found, values, "exact_members {text:?}");
            }
            // serde_json writes compact text (its maps sort their keys: sorted objects only).
            let compact = serde_json::from_str::<serde_json::Value>(raw.get())
                .ok()
                .and_then(|v| serde_json::to_string(&v).ok());
            let escaped = raw.get().contains('\\');
            if compact.as_deref() == Some(raw.get()) && !values.is_empty() && !escaped {
                assert_eq!(raw.compact_values().as_ref(), Some(&values));
                assert_eq!(raw.exact_members(names.iter().copied()), Some(values));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn valid_json_gets_serde_jsons_answers(text in json_text(), pad in "[ \t\r\n]{0,2}") {
        agrees(&text);
        agrees(&format!("{pad}{text}{pad}"));
        agrees(&format!("{{\"a\":{text},\"b\":[{text}]}}"));
    }

    #[test]
    fn edited_json_gets_serde_jsons_answers(
        text in json_text(),
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        agrees(&apply(&text, &edits));
        agrees(&apply(&format!("{{\"a\":{text}}}"), &edits));
    }
}

#[test]
fn the_grammars_corners_get_serde_jsons_answers() {
    for text in [
        "",
        " ",
        "{}",
        " { } ",
        "[]",
        "[ ]",
        "{\"a\":1}",
        "{\"a\":1,}",
        "{,}",
        "{\"a\" : 1 , \"b\" : [ ] }",
        "{\"a\":1,\"a\":2}",
        "{\"a\":1,\"\\u0061\":2}",
        "{\"\\ud800\":1}",
        "{\"a\":\"\\ud800\"}",
        "{\"a\":01}",
        "01",
        "-01",
        "-",
        "1.",
        "1.e1",
        "1e",
        "1e+",
        "+1",
        ".5",
        "1.5e+10",
        "-0.0E-0",
        "nul",
        "nullx",
        "true false",
        "[1,]",
        "[,1]",
        "[1 2]",
        "{\"a\" 1}",
        "{\"a\":}",
        "{1:2}",
        "\"\\x\"",
        "\"\\u12\"",
        "\"\\u12G4\"",
        "\"a\u{1}b\"",
        "\"a\u{7f}b\"",
        "\"tab\there\"",
        "\"\\\"",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
        "[{\"a\":[{\"b\":{}}]}]",
        "{\"a\":1}}",
        "{\"a\":1} x",
        "\u{feff}{}",
    ] {
        agrees(text);
    }
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    agrees(&deep);
    agrees(&format!("{{\"a\":{deep}}}"));
}
