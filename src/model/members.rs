//! Small readers of an object's members for [`super::read`]: which member holds each field,
//! whether the text is compact, what a release could have written.

use super::shape::{Presence, Shape, Ty};
use crate::json::{as_bool, as_str, as_u128, is_null, Object, Raw};

/// Which member holds each field of a shape, found in one pass that tries the next field first
/// (members usually come in the shape's order).
pub(super) struct Slots {
    /// `member index + 1` per field, 0 when absent (no shape has more than 16 fields).
    of_field: [usize; 16],
    /// Members that are fields of the shape.
    pub(super) known: usize,
    /// The known members come in the shape's order.
    pub(super) ordered: bool,
}

impl Slots {
    pub(super) fn of(obj: &Object<'_>, shape: &Shape) -> Slots {
        let mut slots = Slots {
            of_field: [0; 16],
            known: 0,
            ordered: true,
        };
        let mut next = 0;
        for (m, (name, _)) in obj.members.iter().enumerate() {
            let found = match shape.fields.get(next) {
                Some(f) if f.name == name => Some(next),
                _ => shape.fields.iter().position(|f| f.name == name),
            };
            if let Some(i) = found {
                slots.ordered &= i >= next;
                slots.of_field[i] = m + 1;
                slots.known += 1;
                next = i + 1;
            }
        }
        slots
    }

    pub(super) fn get<'a>(&self, obj: &Object<'a>, field: usize) -> Option<Raw<'a>> {
        match self.of_field[field] {
            0 => None,
            m => Some(obj.members[m - 1].1),
        }
    }
}

/// True when `raw` reads as the scalar type `ty`.
pub(super) fn scalar(raw: Raw<'_>, ty: Ty) -> bool {
    let text = raw.get();
    match ty {
        Ty::Bool => as_bool(raw).is_some(),
        Ty::Str => text.starts_with('"'),
        Ty::Uint => text.parse::<u64>().is_ok(),
        Ty::Int => text.parse::<i64>().is_ok(),
        Ty::Oid => as_u128(raw).is_some(),
        Ty::Enum(names) => as_str(raw).is_some_and(|s| names.contains(&s.as_ref())),
        _ => false,
    }
}

/// True when `text`, the text of `obj`, has no whitespace between its members (a name with an
/// escape counts as not compact).
pub(super) fn compact(text: &str, obj: &Object<'_>) -> bool {
    let members: usize = obj
        .members
        .iter()
        .map(|(name, value)| name.len() + 3 + value.get().len())
        .sum();
    1 + obj.members.len().max(1) + members == text.len()
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
