//! serde_json's own answers for the [`Raw`] and [`Object`] parsers: the path taken when the
//! fast scanner is not sure, and the reference it is tested against.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{Object, Raw};

/// `text` as one JSON value (whitespace around it allowed).
pub fn value(text: &str) -> Result<Raw<'_>, String> {
    serde_json::from_str::<&RawValue>(text)
        .map(|raw| Raw(raw.get()))
        .map_err(|e| format!("is not valid JSON (column {})", e.column()))
}

/// The JSON value at the start of `text` (after any whitespace); what follows is not read.
pub fn leading(text: &str) -> Option<Raw<'_>> {
    let mut de = serde_json::Deserializer::from_str(text);
    <&RawValue>::deserialize(&mut de)
        .ok()
        .map(|raw| Raw(raw.get()))
}

/// The elements of the JSON array `text`.
pub fn elements(text: &str) -> Result<Vec<Raw<'_>>, String> {
    serde_json::from_str::<Vec<&RawValue>>(text)
        .map(|v| v.into_iter().map(|raw| Raw(raw.get())).collect())
        .map_err(|_| "is not an array".to_string())
}

/// `text` as one JSON object, its members in input order; a repeated name is refused. The
/// error never quotes the text (it may be a secret).
pub fn object(text: &str) -> Result<Object<'_>, String> {
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
                let mut members: Vec<(Cow<'de, str>, Raw<'de>)> = Vec::new();
                while let Some(Name(name)) = map.next_key::<Name<'de>>()? {
                    let value: &'de RawValue = map.next_value()?;
                    if members.iter().any(|(n, _)| *n == name) {
                        return Err(de::Error::custom(format_args!("duplicate member `{name}`")));
                    }
                    members.push((name, Raw(value.get())));
                }
                Ok(Object { members })
            }
        }
        d.deserialize_map(V)
    }
}
