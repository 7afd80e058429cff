//! Raw-preserving JSON: read an object's members as untouched text, write compact JSON.
//!
//! Values are never parsed into `serde_json::Value`: u128 ids and every member the rules do
//! not touch keep their exact bytes. serde_json (CnosDB's own parser) is the judge of what is
//! valid: a [`Raw`] is only ever made from text it accepts. A faster scanner answers first for
//! the texts it is sure of, exactly as serde_json would ([`by_serde`] is the slow path and the
//! reference the tests and the `json` fuzz target compare it with).

pub mod by_serde;
mod compact;
mod scan;

use std::borrow::Cow;
use std::fmt;

/// The exact text of one JSON value, known to be valid JSON (no surrounding whitespace).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Raw<'a>(&'a str);

impl<'a> Raw<'a> {
    /// Checks that `text` is one JSON value (whitespace around it allowed) and returns it.
    pub fn parse(text: &'a str) -> Result<Raw<'a>, String> {
        scan::value(text).map_or_else(|| by_serde::value(text), Ok)
    }

    /// The JSON value at the start of `text` (after any whitespace); what follows it is not
    /// read.
    pub fn leading(text: &'a str) -> Option<Raw<'a>> {
        scan::leading(text).or_else(|| by_serde::leading(text))
    }

    /// The value's text.
    pub fn get(self) -> &'a str {
        self.0
    }

    /// The value as an object.
    pub fn object(self) -> Result<Object<'a>, String> {
        Object::parse(self.0)
    }

    /// The number of elements of the value, which must be an array. Faster than
    /// [`Raw::elements`]: the text is known to be valid, so counting the commas between the
    /// array's own elements (outside strings and nested values) is exact.
    pub fn count_elements(self) -> Result<usize, String> {
        let b = self.0.as_bytes();
        let Some(inner) = b.strip_prefix(b"[") else {
            return Err("is not an array".to_string());
        };
        if inner.trim_ascii_start().starts_with(b"]") {
            return Ok(0);
        }
        let (mut depth, mut commas, mut i) = (0usize, 0usize, 0usize);
        while let Some(&c) = inner.get(i) {
            i += 1;
            match c {
                b'"' => loop {
                    // Jump to the closing quote, over escaped characters.
                    let Some(at) = memchr::memchr2(b'"', b'\\', inner.get(i..).unwrap_or_default())
                    else {
                        return Err("is not an array".to_string());
                    };
                    i += at + 1;
                    if inner[i - 1] == b'"' {
                        break;
                    }
                    i += 1;
                },
                b'[' | b'{' => depth += 1,
                b']' | b'}' => depth = depth.saturating_sub(1),
                b',' if depth == 0 => commas += 1,
                _ => {}
            }
        }
        Ok(commas + 1)
    }

    /// The elements of the value, which must be an array.
    pub fn elements(self) -> Result<Vec<Raw<'a>>, String> {
        scan::array_elements(self.0).map_or_else(|| by_serde::elements(self.0), Ok)
    }
}

impl fmt::Display for Raw<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// A JSON object as its members in input order, each value as raw text.
#[derive(Debug)]
pub struct Object<'a> {
    /// `(name, raw value)` in input order.
    pub members: Vec<(Cow<'a, str>, Raw<'a>)>,
}

impl<'a> Object<'a> {
    /// Parses `text` as one JSON object. The error never quotes the text (it may be a secret).
    pub fn parse(text: &'a str) -> Result<Object<'a>, String> {
        scan::object_members(text)
            .map_or_else(|| by_serde::object(text), |members| Ok(Object { members }))
    }

    /// The raw value of member `name`.
    pub fn get(&self, name: &str) -> Option<Raw<'a>> {
        self.members
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
    }

    /// The raw text of member `name`, `null` when absent.
    pub fn text(&self, name: &str) -> &'a str {
        self.get(name).map_or("null", |v| v.get())
    }

    /// True when member `name` exists.
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Member `name`, which must be an object.
    pub fn object(&self, name: &str) -> Result<Object<'a>, String> {
        let raw = self.get(name).ok_or_else(|| format!("missing `{name}`"))?;
        raw.object()
            .map_err(|_| format!("`{name}` is not an object"))
    }

    /// Names of members not in `known`.
    pub fn unknown_members<'s>(
        &'s self,
        known: &'s [&'s str],
    ) -> impl Iterator<Item = &'s str> + 's {
        self.members
            .iter()
            .map(|(n, _)| n.as_ref())
            .filter(move |n| !known.contains(n))
    }
}

/// Builds a compact JSON object member by member.
pub struct ObjectWriter {
    out: String,
    empty: bool,
}

impl ObjectWriter {
    /// Starts an object, reserving room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        let mut out = String::with_capacity(capacity);
        out.push('{');
        ObjectWriter { out, empty: true }
    }

    /// Appends member `name` (a plain identifier, written unescaped) with raw JSON `value`.
    pub fn raw(&mut self, name: &str, value: &str) -> &mut Self {
        self.name(name, false);
        self.out.push_str(value);
        self
    }

    /// Appends member `name` (any text, escaped as JSON) with raw JSON `value`.
    pub fn member(&mut self, name: &str, value: &str) -> &mut Self {
        if name.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
            self.name(&quote(name), true);
        } else {
            self.name(name, false);
        }
        self.out.push_str(value);
        self
    }

    /// The separator, `name` (in quotes unless `quoted` already) and the colon.
    fn name(&mut self, name: &str, quoted: bool) {
        if !self.empty {
            self.out.push(',');
        }
        self.empty = false;
        if quoted {
            self.out.push_str(name);
        } else {
            self.out.push('"');
            self.out.push_str(name);
            self.out.push('"');
        }
        self.out.push(':');
    }

    /// Appends member `name` with a string value, escaped as JSON.
    pub fn string(&mut self, name: &str, value: &str) -> &mut Self {
        let quoted = quote(value);
        self.raw(name, &quoted)
    }

    /// Closes the object.
    pub fn finish(mut self) -> String {
        self.out.push('}');
        self.out
    }
}

/// True when two JSON values mean the same: objects with the same members in any order,
/// arrays element by element, strings by their decoded text, numbers and literals by their
/// exact text (so a 128-bit id is never rounded).
pub fn same_meaning(a: Raw<'_>, b: Raw<'_>) -> bool {
    let (ta, tb) = (a.get(), b.get());
    match (ta.as_bytes().first(), tb.as_bytes().first()) {
        (Some(b'{'), Some(b'{')) => {
            let (Ok(oa), Ok(ob)) = (a.object(), b.object()) else {
                return false;
            };
            oa.members.len() == ob.members.len()
                && oa
                    .members
                    .iter()
                    .all(|(name, va)| ob.get(name).is_some_and(|vb| same_meaning(*va, vb)))
        }
        (Some(b'['), Some(b'[')) => match (a.elements(), b.elements()) {
            (Ok(ea), Ok(eb)) => {
                ea.len() == eb.len() && ea.iter().zip(&eb).all(|(x, y)| same_meaning(*x, *y))
            }
            _ => false,
        },
        (Some(b'"'), Some(b'"')) => as_str(a) == as_str(b),
        _ => ta == tb,
    }
}

/// `s` as a JSON string literal.
pub fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// True for the literal `null`.
pub fn is_null(raw: Raw<'_>) -> bool {
    raw.get() == "null"
}

/// The value as a boolean, if it is one.
pub fn as_bool(raw: Raw<'_>) -> Option<bool> {
    match raw.get() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// The value as an unsigned integer, if it is one that fits in `u128`.
pub fn as_u128(raw: Raw<'_>) -> Option<u128> {
    let s = raw.get();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The value as a string, if it is one.
pub fn as_str(raw: Raw<'_>) -> Option<Cow<'_, str>> {
    let s = raw.get();
    if !s.starts_with('"') {
        return None;
    }
    if !s.contains('\\') {
        return Some(Cow::Borrowed(&s[1..s.len() - 1]));
    }
    serde_json::from_str::<String>(s).ok().map(Cow::Owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_meaning_ignores_order_and_spacing_but_not_one_digit() {
        let same = |a: &str, b: &str| same_meaning(Raw::parse(a).unwrap(), Raw::parse(b).unwrap());
        assert!(same(
            r#"{"id":340282366920938463463374607431768211455,"o":{"a":[1,"x"],"b":null}}"#,
            r#"{ "o" : { "b" : null, "a" : [ 1, "\u0078" ] }, "id" : 340282366920938463463374607431768211455 }"#
        ));
        assert!(!same(
            r#"{"id":340282366920938463463374607431768211455}"#,
            r#"{"id":340282366920938463463374607431768211454}"#
        ));
        assert!(!same(r#"{"a":1}"#, r#"{"a":1,"b":2}"#));
        assert!(!same(r#"[1,2]"#, r#"[2,1]"#));
        assert!(!same(r#""a""#, r#""b""#));
        assert!(!same("true", "false"));
        assert!(!same(r#"{"a":{}}"#, r#"{"a":[]}"#));
    }

    #[test]
    fn members_keep_their_bytes_and_order() {
        let text = r#"{"id":340282366920938463463374607431768211455,"b":{"x": 1},"a":"\u0041"}"#;
        let o = Object::parse(text).unwrap();
        let names: Vec<_> = o.members.iter().map(|(n, _)| n.as_ref()).collect();
        assert_eq!(names, ["id", "b", "a"]);
        assert_eq!(
            o.get("id").unwrap().get(),
            "340282366920938463463374607431768211455"
        );
        assert_eq!(o.get("b").unwrap().get(), r#"{"x": 1}"#);
        assert_eq!(as_str(o.get("a").unwrap()).unwrap(), "A");
        assert_eq!(
            as_u128(o.get("id").unwrap()),
            Some(340282366920938463463374607431768211455)
        );
    }

    #[test]
    fn rejects_non_objects_duplicates_and_garbage_without_quoting() {
        assert_eq!(
            Object::parse("[1]").unwrap_err(),
            "is JSON but not an object"
        );
        assert!(Object::parse(r#"{"a":1,"a":2}"#)
            .unwrap_err()
            .contains("duplicate member `a`"));
        let e = Object::parse(r#"{"password":"s3cret"#).unwrap_err();
        assert!(!e.contains("s3cret"), "{e}");
    }

    #[test]
    fn writer_is_compact() {
        let mut w = ObjectWriter::with_capacity(16);
        w.raw("a", "1").string("b", "x\"y").member("c\nd", "2");
        assert_eq!(w.finish(), r#"{"a":1,"b":"x\"y","c\nd":2}"#);
    }

    #[test]
    fn raw_values_elements_and_leading_values() {
        let raw = Raw::parse(" [1, {\"a\":[]} ,\"x\"] ").unwrap();
        assert_eq!(raw.get(), "[1, {\"a\":[]} ,\"x\"]");
        let items: Vec<&str> = raw.elements().unwrap().iter().map(|r| r.get()).collect();
        assert_eq!(items, ["1", "{\"a\":[]}", "\"x\""]);
        for text in [
            " [1, {\"a\":[\"],\\\"\"]} ,\"x\"] ",
            "[]",
            "[ ]",
            "[[],{}]",
            "[\"a,b\"]",
        ] {
            let raw = Raw::parse(text).unwrap();
            assert_eq!(raw.items(), raw.elements(), "{text}");
        }
        assert!(Raw::parse("{}").unwrap().items().is_err());
        assert!(Raw::parse("{}").unwrap().elements().is_err());
        assert!(Raw::parse("[1,]").is_err());
        assert_eq!(
            Raw::leading("{\"a\":1},{\"b\":2}]}").unwrap().get(),
            "{\"a\":1}"
        );
        assert!(Raw::leading("{\"a\":1,").is_none());
        for text in [
            "[]",
            "[ ]",
            "[1]",
            "[[1,2],{\"a,\":\"]\\\",\"}]",
            " [\"\\\\\",1] ",
        ] {
            let raw = Raw::parse(text).unwrap();
            assert_eq!(
                raw.count_elements(),
                Ok(raw.elements().unwrap().len()),
                "{text}"
            );
        }
        assert!(Raw::parse("{}").unwrap().count_elements().is_err());
    }

    #[test]
    fn compact_elements_split_as_items_and_exact_members_do() {
        let names = || ["a", "b"].into_iter();
        for text in [
            "[]",
            r#"[{"a":1,"b":"]"}]"#,
            r#"[{"a":1,"b":{"c":[1,2]}},{"b":1,"a":2},3,{"a":"\"","b":[]}]"#,
            r#"[{"a":1},{"a":1,"b":2,"c":3}]"#,
        ] {
            let raw = Raw::parse(text).unwrap();
            let mut got: Vec<Result<Vec<Raw<'_>>, Raw<'_>>> = Vec::new();
            raw.compact_elements(names, |e| got.push(e.map(<[Raw<'_>]>::to_vec)))
                .unwrap_or_else(|| panic!("{text}"));
            let expected: Vec<Result<Vec<Raw<'_>>, Raw<'_>>> = (raw.items().unwrap().into_iter())
                .map(|item| item.exact_members(names()).ok_or(item))
                .collect();
            assert_eq!(got, expected, "{text}");
        }
        // Whitespace between the elements, or not an array: for the general path.
        for text in [
            r#"[{"a":1,"b":2}, {"a":1,"b":2}]"#,
            "[ 1]",
            r#"{"a":1}"#,
            "1",
        ] {
            let raw = Raw::parse(text).unwrap();
            assert!(raw.compact_elements(names, |_| ()).is_none(), "{text}");
        }
    }
}
