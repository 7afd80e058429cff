//! The fast JSON scanner over arbitrary UTF-8: `Object::parse`, `Raw::parse`, `Raw::leading`
//! and `Raw::elements` give exactly serde_json's answers (`json::by_serde`), and never panic.
#![no_main]

use cnosdb_migrate::json::{by_serde, Object, Raw};
use libfuzzer_sys::fuzz_target;

type Members<'a> = Vec<(String, &'a str)>;

fn members(o: Result<Object<'_>, String>) -> Result<Members<'_>, String> {
    o.map(|o| {
        o.members
            .into_iter()
            .map(|(n, v)| (n.into_owned(), v.get()))
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    assert_eq!(members(Object::parse(text)), members(by_serde::object(text)));
    assert_eq!(Raw::parse(text), by_serde::value(text));
    assert_eq!(Raw::leading(text), by_serde::leading(text));
    if let Ok(raw) = Raw::parse(text) {
        assert_eq!(raw.elements(), by_serde::elements(raw.get()));
    }
});
