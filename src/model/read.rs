//! Reading a value as a release's deserializer does: what fails, what is lost, what is only
//! written differently. Also what a release could have written (for telling the release).

use super::error::ShapeError;
use super::shape::{Presence, Shape, Ty, Unknown};
use super::Release;
use crate::json::{as_bool, as_str, as_u128, is_null, Object, Raw};

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

/// Every finding of `release`'s deserializer on `value` read as `ty`, in member order:
/// empty when it reads the value and finds every member where it writes it.
pub fn read(value: &str, ty: Ty, release: Release) -> Vec<ShapeError> {
    let mut out = Vec::new();
    match Raw::parse(value) {
        Ok(raw) => walk(raw, ty, &Path::ROOT, release, &mut out),
        Err(reason) => out.push(ShapeError::not_json(reason)),
    }
    out
}

fn walk(raw: Raw<'_>, ty: Ty, path: &Path<'_>, release: Release, out: &mut Vec<ShapeError>) {
    let text = raw.get();
    let ok = match ty {
        Ty::Bool => as_bool(raw).is_some(),
        Ty::Str => text.starts_with('"'),
        Ty::Uint => text.parse::<u64>().is_ok(),
        Ty::Int => text.parse::<i64>().is_ok(),
        Ty::Oid => as_u128(raw).is_some(),
        Ty::Enum(names) => as_str(raw).is_some_and(|s| names.contains(&s.as_ref())),
        Ty::Struct(shape) => match Object::parse(text) {
            Ok(obj) => return members(&obj, shape, path, release, out),
            // Valid JSON that is an object but does not parse as one repeats a member name.
            Err(_) if text.starts_with('{') => {
                let at = path.render();
                let object = if at.is_empty() {
                    "the value".to_string()
                } else {
                    format!("`{at}`")
                };
                return out.push(ShapeError::Duplicate { object });
            }
            Err(_) => false,
        },
        Ty::Map(inner) => match Object::parse(text) {
            Ok(obj) => {
                for (name, value) in &obj.members {
                    let sub = Path {
                        parent: Some(path),
                        name,
                    };
                    walk(*value, *inner, &sub, release, out);
                }
                true
            }
            Err(_) => false,
        },
        Ty::Array(inner) => match raw.elements() {
            Ok(items) => {
                for item in items {
                    walk(item, *inner, path, release, out);
                }
                true
            }
            Err(_) => false,
        },
        Ty::Tagged(variants) => match Object::parse(text) {
            Ok(obj) => match obj.members.as_slice() {
                [(tag, inner)] => match variants.iter().find(|(v, _)| v == tag) {
                    // The variant's members are named without the tag, as transform names them.
                    Some((_, ty)) => return walk(*inner, *ty, path, release, out),
                    None => false,
                },
                _ => false,
            },
            Err(_) => false,
        },
        Ty::Any => true,
    };
    if !ok {
        let expected = match ty {
            Ty::Enum(names) => format!("one of {}", names.join(", ")),
            Ty::Tagged(variants) => {
                let tags: Vec<String> = variants
                    .iter()
                    .map(|(t, _)| format!("{{\"{t}\":…}}"))
                    .collect();
                tags.join(" or ")
            }
            other => other.name().to_string(),
        };
        out.push(ShapeError::wrong(path.render(), &expected, raw, release));
    }
}

fn members(
    obj: &Object<'_>,
    shape: &Shape,
    path: &Path<'_>,
    release: Release,
    out: &mut Vec<ShapeError>,
) {
    let old_of = |new: &str| {
        shape
            .renamed
            .iter()
            .find(|(_, n)| *n == new)
            .map(|(o, _)| *o)
    };
    for field in shape.fields {
        let value = obj.get(field.name);
        let old = old_of(field.name).filter(|o| obj.has(o));
        match (value, field.presence, old) {
            (None, Presence::Required, Some(old)) => out.push(ShapeError::OldName {
                field: path.join(field.name),
                old: path.join(old),
                release,
            }),
            (None, Presence::Required, None) => {
                out.push(ShapeError::missing(path.join(field.name), release))
            }
            (None, Presence::Optional, Some(old)) => out.push(ShapeError::LostUnderOldName {
                field: path.join(field.name),
                old: path.join(old),
                release,
            }),
            (None, _, None) if !field.skip_none => out.push(ShapeError::Absent {
                field: path.join(field.name),
                release,
            }),
            (None, _, _) => {}
            (Some(v), Presence::Optional, _) if is_null(v) => {}
            (Some(v), _, _) => {
                let sub = Path {
                    parent: Some(path),
                    name: field.name,
                };
                walk(v, field.ty, &sub, release, out);
            }
        }
    }
    for (name, _) in &obj.members {
        if shape.field(name).is_some() {
            continue;
        }
        // An old name whose new member is absent was reported with that member.
        let replaced = shape.renamed.iter().any(|(o, n)| o == name && !obj.has(n));
        let field = path.join(name);
        match shape.unknown {
            _ if replaced => {}
            Unknown::Refused => out.push(ShapeError::Refused { field, release }),
            Unknown::Ignored => out.push(ShapeError::Ignored { field, release }),
        }
    }
}

/// True when `release` could have written `value` as `shape`: every member it writes is there
/// (`null` only where it writes `None` as `null`), no other member, nested structs alike.
/// Member order and the values' types are not looked at.
pub fn could_write(obj: &Object<'_>, shape: &Shape) -> bool {
    let known = obj.members.iter().all(|(n, _)| shape.field(n).is_some());
    known
        && shape.fields.iter().all(|f| match obj.get(f.name) {
            None => f.skip_none,
            Some(v) if is_null(v) => f.presence == Presence::Optional && !f.skip_none,
            Some(v) => match f.ty {
                Ty::Struct(inner) => Object::parse(v.get()).is_ok_and(|o| could_write(&o, inner)),
                _ => true,
            },
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{database, user};

    fn codes(value: &str, ty: Ty, r: Release) -> Vec<String> {
        read(value, ty, r).iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn absent_options_are_read_as_none_and_old_names_are_told_apart() {
        let u240 = Ty::Struct(&user::shapes(Release::V2_4_0)[0]);
        let bare = r#"{"id":1,"name":"u","options":{"hash_password":null},"is_admin":false}"#;
        let found = read(bare, u240, Release::V2_4_0);
        assert!(
            found.iter().all(|e| matches!(e, ShapeError::Absent { .. })),
            "{found:?}"
        );
        assert_eq!(found.len(), 2);
        let old = r#"{"id":1,"name":"u","options":{"password":"x"},"is_admin":false}"#;
        assert!(matches!(
            read(old, u240, Release::V2_4_0)[0],
            ShapeError::LostUnderOldName { ref old, .. } if old == "options.password"
        ));
        let u241 = Ty::Struct(&user::shapes(Release::V2_4_1)[0]);
        assert!(matches!(
            read(old, u241, Release::V2_4_1).last(),
            Some(ShapeError::OldName { old, .. }) if old == "is_admin"
        ));
        assert!(codes(old, u241, Release::V2_4_1)
            .iter()
            .all(|m| !m.contains('x')));
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
        let bad =
            r#"{"tenant":"t","database":"d","config":{"precision":"XS","db_is_hidden":false}}"#;
        assert_eq!(
            codes(bad, flat, Release::V2_4_0)[4],
            "has `config.precision` as a string, where CnosDB 2.4.0 reads one of MS, US, NS"
        );
    }
}
