//! The vocabulary of the model: a JSON type, a field, a struct's shape.

/// The JSON type a release's deserializer accepts for a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// `bool`.
    Bool,
    /// `String`.
    Str,
    /// An unsigned integer that fits in 64 bits (`u64`, `u32`, `usize`, `u8`).
    Uint,
    /// A signed 64-bit integer (`i64`).
    Int,
    /// `Oid` = `u128`, written as a bare integer of up to 39 digits.
    Oid,
    /// A unit-only enum: one of these strings.
    Enum(&'static [&'static str]),
    /// A struct.
    Struct(&'static Shape),
    /// `HashMap<String, T>`: an object whose every member is a `T`.
    Map(&'static Ty),
    /// `Vec<T>`: an array whose every element is a `T`.
    Array(&'static Ty),
    /// An externally tagged enum of newtype variants: `{"Variant":value}`.
    Tagged(&'static [(&'static str, Ty)]),
    /// A value this tool does not look into (arrow schemas, limiter configs, …).
    Any,
}

impl Ty {
    /// The type's name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Ty::Bool => "a boolean",
            Ty::Str => "a string",
            Ty::Uint => "an unsigned integer",
            Ty::Int => "an integer",
            Ty::Oid => "a 128-bit unsigned integer",
            Ty::Enum(_) => "one of its names",
            Ty::Struct(_) | Ty::Map(_) => "an object",
            Ty::Array(_) => "an array",
            Ty::Tagged(_) => "a one-member object naming its variant",
            Ty::Any => "a value",
        }
    }
}

/// Whether a struct member may be absent on read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Neither an `Option` nor `#[serde(default)]`: absent is `missing field`.
    Required,
    /// An `Option<T>`: absent or `null` reads as `None`.
    Optional,
    /// Absent reads as a default (`#[serde(default)]` or a hand-written deserializer that
    /// ignores the member); `null` is not accepted.
    Defaulted,
}

/// One member of a struct as a release declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// The member name.
    pub name: &'static str,
    /// Its JSON type (of the `T` of an `Option<T>`).
    pub ty: Ty,
    /// Whether it may be absent.
    pub presence: Presence,
    /// `#[serde(skip_serializing_if = "Option::is_none")]`: left out when `None`.
    pub skip_none: bool,
}

/// A required member.
pub const fn req(name: &'static str, ty: Ty) -> Field {
    Field {
        name,
        ty,
        presence: Presence::Required,
        skip_none: false,
    }
}

/// An `Option` member, written as `null` when `None`.
pub const fn opt(name: &'static str, ty: Ty) -> Field {
    Field {
        name,
        ty,
        presence: Presence::Optional,
        skip_none: false,
    }
}

/// An `Option` member left out when `None`.
pub const fn skip(name: &'static str, ty: Ty) -> Field {
    Field {
        name,
        ty,
        presence: Presence::Optional,
        skip_none: true,
    }
}

/// A member that may be absent but not `null`.
pub const fn dflt(name: &'static str, ty: Ty) -> Field {
    Field {
        name,
        ty,
        presence: Presence::Defaulted,
        skip_none: false,
    }
}

/// What a struct's deserializer does with a member it does not declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unknown {
    /// Skipped (serde's default).
    Ignored,
    /// An error (`deny_unknown_fields`, or a hand-written deserializer that refuses it).
    Refused,
}

/// A struct: its members in the order the release serializes them.
#[derive(Debug, PartialEq, Eq)]
pub struct Shape {
    /// The Rust type name (for people).
    pub name: &'static str,
    /// The members, in serialization order.
    pub fields: &'static [Field],
    /// What happens to other members.
    pub unknown: Unknown,
    /// `(old, new)`: members an older release wrote under another name.
    pub renamed: &'static [(&'static str, &'static str)],
}

impl Shape {
    /// The field named `name`.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The field names, in serialization order.
    pub fn names(&self) -> impl Iterator<Item = &'static str> {
        self.fields.iter().map(|f| f.name)
    }

    /// The nested struct of member `name`, if it is one.
    pub fn nested(&self, name: &str) -> &'static Shape {
        match self.field(name).map(|f| f.ty) {
            Some(Ty::Struct(s)) => s,
            _ => panic!("{}.{name} is not a struct in the model", self.name),
        }
    }
}
