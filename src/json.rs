//! Raw-preserving JSON: read an object's members as untouched text, write compact JSON.
//!
//! Values are never parsed into `serde_json::Value`: u128 ids and every member the rules do
//! not touch keep their exact bytes.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

/// A JSON object as its members in input order, each value as raw text.
#[derive(Debug)]
pub struct Object<'a> {
    /// `(name, raw value)` in input order.
    pub members: Vec<(Cow<'a, str>, &'a RawValue)>,
}

struct Name<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Name<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Name<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> Deserialize<'de> for Object<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Object<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Object<'de>, A::Error> {
                let mut members: Vec<(Cow<'de, str>, &'de RawValue)> = Vec::new();
                while let Some(Name(name)) = map.next_key::<Name<'de>>()? {
                    let value: &'de RawValue = map.next_value()?;
                    if members.iter().any(|(n, _)| *n == name) {
                        return Err(de::Error::custom(format_args!("duplicate member `{name}`")));
                    }
                    members.push((name, value));
                }
                Ok(Object { members })
            }
        }
        d.deserialize_map(V)
    }
}

impl<'a> Object<'a> {
    /// Parses `text` as one JSON object. The error never quotes the text (it may be a secret).
    pub fn parse(text: &'a str) -> Result<Object<'a>, String> {
        serde_json::from_str(text).map_err(|e| match e.classify() {
            serde_json::error::Category::Data => {
                let msg = e.to_string();
                if msg.starts_with("duplicate member") {
                    msg.split(" at line").next().unwrap_or("").to_string()
                } else {
                    "is JSON but not an object".to_string()
                }
            }
            _ => format!("is not valid JSON (column {})", e.column()),
        })
    }

    /// The raw value of member `name`.
    pub fn get(&self, name: &str) -> Option<&'a RawValue> {
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
        Object::parse(raw.get()).map_err(|_| format!("`{name}` is not an object"))
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

/// `s` as a JSON string literal.
pub fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// True for the literal `null`.
pub fn is_null(raw: &RawValue) -> bool {
    raw.get() == "null"
}

/// The value as a boolean, if it is one.
pub fn as_bool(raw: &RawValue) -> Option<bool> {
    match raw.get() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// The value as an unsigned integer, if it is one that fits in `u128`.
pub fn as_u128(raw: &RawValue) -> Option<u128> {
    let s = raw.get();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The value as a string, if it is one.
pub fn as_str(raw: &RawValue) -> Option<Cow<'_, str>> {
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
}
