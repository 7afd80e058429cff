//! Reading a value as a release's deserializer does: what fails, what is lost, what is only
//! written differently. Also what a release could have written (for telling the release).

use super::error::{json_type, ShapeError};
use super::members::{compact, scalar, Slots};
use super::shape::{Presence, Shape, Ty, Unknown};
use super::Release;
use crate::json::{is_null, Object, Raw};

/// A dotted member path, built only when a finding needs it.
#[derive(Clone, Copy)]
struct Path<'p> {
    parent: Option<&'p Path<'p>>,
    name: &'p str,
}

impl Path<'_> {
    const ROOT: Path<'static> = Path {
        parent: None,
        name: "",
    };

    fn render(&self) -> String {
        let mut parts = Vec::new();
        let mut at = Some(self);
        while let Some(p) = at {
            if !p.name.is_empty() {
                parts.push(p.name);
            }
            at = p.parent;
        }
        parts.reverse();
        parts.join(".")
    }

    fn join(&self, field: &str) -> String {
        let base = self.render();
        if base.is_empty() {
            field.to_string()
        } else {
            format!("{base}.{field}")
        }
    }
}

/// What a release's deserializer makes of a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    /// Every finding, in member order: empty when the release reads the value and finds every
    /// member where it writes it.
    pub findings: Vec<ShapeError>,
    /// The value is byte for byte what the release writes: its members (at every level the
    /// model describes) in the release's order, compact, none it would leave out.
    pub canonical: bool,
}

/// Reads `value` as `release` reads a `ty`.
pub fn read(value: &str, ty: Ty, release: Release) -> Reading {
    let mut r = Reader {
        release,
        findings: Vec::new(),
        canonical: true,
    };
    // The compact forms CnosDB writes are parsed once, as the object they are; anything else
    // (and every error) takes the general path.
    let shape = match ty {
        Ty::Struct(shape) => Some((value, shape)),
        Ty::Tagged(variants) => tagged_struct(value, variants),
        _ => None,
    };
    match shape.map(|(text, shape)| (text, shape, Object::parse(text))) {
        Some((text, shape, Ok(obj))) => r.members(text, &obj, shape, &Path::ROOT),
        _ => match Raw::parse(value) {
            Ok(raw) => {
                // No whitespace around the value.
                r.canonical = raw.get().len() == value.len();
                r.walk(raw, ty, &Path::ROOT)
            }
            Err(reason) => r.findings.push(ShapeError::not_json(reason)),
        },
    }
    Reading {
        canonical: r.canonical && r.findings.is_empty(),
        findings: r.findings,
    }
}

/// True when the old name `old` stands in for the absent member `new`: it holds a value (a
/// `null` under the old name of an `Option` loses nothing), or `new` is required.
fn stands_in(obj: &Object<'_>, shape: &Shape, old: &str, new: &str) -> bool {
    let required = shape
        .field(new)
        .is_some_and(|f| f.presence == Presence::Required);
    obj.get(old).is_some_and(|v| required || !is_null(v))
}

/// What a type reads, for messages.
fn expected(ty: Ty) -> String {
    match ty {
        Ty::Enum(names) => format!("one of {}", names.join(", ")),
        Ty::Tagged(variants) => {
            let tags: Vec<String> = variants
                .iter()
                .map(|(t, _)| format!("{{\"{t}\":…}}"))
                .collect();
            tags.join(" or ")
        }
        other => other.name().to_string(),
    }
}

/// The inner text of `{"Variant":{…}}` when `Variant` is a struct variant of `variants`; the
/// caller parses it, which also proves the outer text valid.
fn tagged_struct<'v>(
    value: &'v str,
    variants: &[(&'static str, Ty)],
) -> Option<(&'v str, &'static Shape)> {
    let rest = value.strip_prefix("{\"")?.strip_suffix('}')?;
    variants.iter().find_map(|(tag, ty)| match ty {
        Ty::Struct(shape) => {
            let inner = rest.strip_prefix(tag)?.strip_prefix("\":")?;
            inner.starts_with('{').then_some((inner, *shape))
        }
        _ => None,
    })
}

struct Reader {
    release: Release,
    findings: Vec<ShapeError>,
    canonical: bool,
}

impl Reader {
    fn walk(&mut self, raw: Raw<'_>, ty: Ty, path: &Path<'_>) {
        let text = raw.get();
        let ok = match ty {
            Ty::Bool | Ty::Str | Ty::Uint | Ty::Int | Ty::Oid | Ty::Enum(_) => scalar(raw, ty),
            Ty::Struct(shape) => self.structure(raw, shape, path),
            // Nothing to read in the elements, or in the members.
            Ty::Array(Ty::Any) => text.starts_with('['),
            Ty::Map(Ty::Any) => text.starts_with('{'),
            // A compact map of scalars whose values all read: nothing to name in a finding.
            Ty::Map(inner @ (Ty::Uint | Ty::Str | Ty::Bool | Ty::Enum(_)))
                if raw
                    .compact_values()
                    .is_some_and(|values| values.iter().all(|v| scalar(*v, *inner))) =>
            {
                true
            }
            Ty::Map(inner) => match Object::parse(text) {
                Ok(obj) => {
                    self.canonical &= compact(text, &obj);
                    for (name, value) in &obj.members {
                        let sub = Path {
                            parent: Some(path),
                            name,
                        };
                        self.walk(*value, *inner, &sub);
                    }
                    true
                }
                Err(_) => false,
            },
            Ty::Array(Ty::Struct(shape)) if self.struct_elements(raw, shape, path) => true,
            Ty::Array(inner) => match raw.items() {
                Ok(items) => {
                    // No whitespace between the elements.
                    let spans: usize = items.iter().map(|i| i.get().len() + 1).sum();
                    self.canonical &= spans.max(1) + 1 == text.len();
                    for item in items {
                        self.walk(item, *inner, path);
                    }
                    true
                }
                Err(_) => false,
            },
            Ty::Tagged(variants) => match Object::parse(text) {
                Ok(obj) => match obj.members.as_slice() {
                    [(tag, inner)] => match variants.iter().find(|(v, _)| v == tag) {
                        // The variant's members are named without the tag, as transform names
                        // them.
                        Some((_, ty)) => {
                            self.canonical &= text.len() == tag.len() + 5 + inner.get().len();
                            return self.walk(*inner, *ty, path);
                        }
                        None => false,
                    },
                    _ => false,
                },
                Err(_) => false,
            },
            Ty::Any => true,
        };
        if !ok {
            let found = match ty {
                Ty::Enum(_) if text.starts_with('"') => "a name it does not know",
                _ => json_type(raw),
            };
            self.findings.push(ShapeError::WrongType {
                field: path.render(),
                expected: expected(ty),
                found,
                release: self.release,
            });
        }
    }

    /// A struct value; false when it is not an object.
    fn structure(&mut self, raw: Raw<'_>, shape: &Shape, path: &Path<'_>) -> bool {
        let text = raw.get();
        if let Some(values) = raw.exact_members(shape.names()) {
            // The compact form with every member: nothing but the values to read.
            self.values(&values, shape, path);
            return true;
        }
        match Object::parse(text) {
            Ok(obj) => self.members(text, &obj, shape, path),
            // Valid JSON that is an object but does not parse as one repeats a member name.
            Err(_) if text.starts_with('{') => {
                let at = path.render();
                let object = if at.is_empty() {
                    "the value".to_string()
                } else {
                    format!("`{at}`")
                };
                self.findings.push(ShapeError::Duplicate { object });
            }
            Err(_) => return false,
        }
        true
    }

    /// The elements of a compact array of `shape` structs, read in one pass; false (with
    /// nothing found) when the array is not compact, for the general path to read.
    fn struct_elements(&mut self, raw: Raw<'_>, shape: &'static Shape, path: &Path<'_>) -> bool {
        let (found, canonical) = (self.findings.len(), self.canonical);
        let done = raw.compact_elements(
            || shape.names(),
            |element| match element {
                Ok(values) => self.values(values, shape, path),
                Err(other) => self.walk(other, Ty::Struct(shape), path),
            },
        );
        if done.is_none() {
            self.findings.truncate(found);
            self.canonical = canonical;
        }
        done.is_some()
    }

    /// The values of an object that has exactly `shape`'s members, in its order.
    fn values(&mut self, values: &[Raw<'_>], shape: &Shape, path: &Path<'_>) {
        for (field, v) in shape.fields.iter().zip(values) {
            if field.presence == Presence::Optional && is_null(*v) {
                self.canonical &= !field.skip_none;
                continue;
            }
            let sub = Path {
                parent: Some(path),
                name: field.name,
            };
            self.walk(*v, field.ty, &sub);
        }
    }

    /// The members of an object read as `shape` (`text` is the object's own text).
    fn members(&mut self, text: &str, obj: &Object<'_>, shape: &Shape, path: &Path<'_>) {
        let release = self.release;
        let slots = Slots::of(obj, shape);
        self.canonical &= slots.ordered && compact(text, obj);
        for (i, field) in shape.fields.iter().enumerate() {
            let value = slots.get(obj, i);
            let old = shape
                .renamed
                .iter()
                .find(|(o, n)| *n == field.name && stands_in(obj, shape, o, n))
                .map(|(o, _)| *o);
            let finding = match (value, field.presence, old) {
                (None, Presence::Required, Some(old)) => ShapeError::OldName {
                    field: path.join(field.name),
                    old: path.join(old),
                    release,
                },
                (None, Presence::Required, None) => {
                    ShapeError::missing(path.join(field.name), release)
                }
                (None, Presence::Optional, Some(old)) => ShapeError::LostUnderOldName {
                    field: path.join(field.name),
                    old: path.join(old),
                    release,
                },
                (None, _, None) if !field.skip_none => ShapeError::Absent {
                    field: path.join(field.name),
                    release,
                },
                (None, _, _) => continue,
                (Some(v), Presence::Optional, _) if is_null(v) => {
                    // The release leaves a `None` out instead of writing `null`.
                    self.canonical &= !field.skip_none;
                    continue;
                }
                (Some(v), _, _) => {
                    let sub = Path {
                        parent: Some(path),
                        name: field.name,
                    };
                    self.walk(v, field.ty, &sub);
                    continue;
                }
            };
            self.findings.push(finding);
        }
        if slots.known == obj.members.len() {
            return;
        }
        for (name, _) in &obj.members {
            if shape.field(name).is_some() {
                continue;
            }
            // An old name whose new member is absent was reported with that member.
            let replaced = shape
                .renamed
                .iter()
                .any(|(o, n)| o == name && !obj.has(n) && stands_in(obj, shape, o, n));
            let field = path.join(name);
            match shape.unknown {
                _ if replaced => {}
                Unknown::Refused => self.findings.push(ShapeError::Refused { field, release }),
                Unknown::Ignored => self.findings.push(ShapeError::Ignored { field, release }),
            }
        }
    }
}

#[cfg(test)]
#[path = "read_tests.rs"]
mod tests;
