//! Users: `/{c}/users/{u}` → `UserDesc { id, name, options: UserOptions, is_admin }`.
//!
//! The only place that reads a user's password and flags ([`UserFacts`]); nothing here puts a
//! value of a user record into a message.

use super::shape::{opt, req, skip, Shape, Ty, Unknown};
use super::Release;
use crate::json::{as_bool, as_str, as_u128, is_null, Object};

// v2.3.0:common/models/src/auth/user.rs:109-114: every option `Option`, none skipped, no
// `granted_admin`.
const OPTIONS_230: Shape = Shape {
    name: "UserOptions",
    fields: &[
        opt("password", Ty::Str),
        opt("must_change_password", Ty::Bool),
        opt("rsa_public_key", Ty::Str),
        opt("comment", Ty::Str),
    ],
    unknown: Unknown::Ignored,
    renamed: &[],
};

// v2.3.3:common/models/src/auth/user.rs:124-134 (2.3.1–2.3.3): `granted_admin` added;
// `rsa_public_key` and `comment` skipped when None.
const OPTIONS_231: Shape = Shape {
    name: "UserOptions",
    fields: &[
        opt("password", Ty::Str),
        opt("must_change_password", Ty::Bool),
        skip("rsa_public_key", Ty::Str),
        skip("comment", Ty::Str),
        opt("granted_admin", Ty::Bool),
    ],
    unknown: Unknown::Ignored,
    renamed: &[],
};

// v2.3.5.4:common/models/src/auth/user.rs:124-134 (2.3.4–2.3.5): every option but `password`
// skipped when None.
const OPTIONS_234: Shape = Shape {
    name: "UserOptions",
    fields: &[
        opt("password", Ty::Str),
        skip("must_change_password", Ty::Bool),
        skip("rsa_public_key", Ty::Str),
        skip("comment", Ty::Str),
        skip("granted_admin", Ty::Bool),
    ],
    unknown: Unknown::Ignored,
    renamed: &[],
};

// v2.4.0:common/models/src/auth/user.rs:125-135: `password` renamed `hash_password`;
// `must_change_password` and `granted_admin` written even when None.
const OPTIONS_240: Shape = Shape {
    name: "UserOptions",
    fields: &[
        opt("hash_password", Ty::Str),
        opt("must_change_password", Ty::Bool),
        skip("rsa_public_key", Ty::Str),
        skip("comment", Ty::Str),
        opt("granted_admin", Ty::Bool),
    ],
    unknown: Unknown::Ignored,
    renamed: &[("password", "hash_password")],
};

// v2.4.0.1:common/models/src/auth/user.rs:142-152, the same in v2.4.1 and v2.4.2(.1) (142-152)
// and v2.4.3.4 (143-153): all four skipped when None.
const OPTIONS_2401: Shape = Shape {
    name: "UserOptions",
    fields: &[
        opt("hash_password", Ty::Str),
        skip("must_change_password", Ty::Bool),
        skip("rsa_public_key", Ty::Str),
        skip("comment", Ty::Str),
        skip("granted_admin", Ty::Bool),
    ],
    unknown: Unknown::Ignored,
    renamed: &[("password", "hash_password")],
};

// v2.3.0:common/models/src/auth/user.rs:57-63, v2.3.5.4:…/user.rs:62-68, v2.4.0:…/user.rs:63-69,
// v2.4.0.1:…/user.rs:76-82: `{id: Oid, name, options, is_admin: bool}`, every member required.
// v2.4.1:common/models/src/auth/user.rs:76-82 (also v2.4.2, v2.4.2.1; v2.4.3.4:…/user.rs:77-83):
// `is_admin` renamed `is_root_admin`, still a required bool.
macro_rules! user_desc {
    ($options:expr, $admin:literal, $renamed:expr) => {
        Shape {
            name: "UserDesc",
            fields: &[
                req("id", Ty::Oid),
                req("name", Ty::Str),
                req("options", Ty::Struct($options)),
                req($admin, Ty::Bool),
            ],
            unknown: Unknown::Ignored,
            renamed: $renamed,
        }
    };
}

const USER_230: Shape = user_desc!(&OPTIONS_230, "is_admin", &[]);
const USER_231: Shape = user_desc!(&OPTIONS_231, "is_admin", &[]);
const USER_234: Shape = user_desc!(&OPTIONS_234, "is_admin", &[]);
const USER_240: Shape = user_desc!(&OPTIONS_240, "is_admin", &[]);
const USER_2401: Shape = user_desc!(&OPTIONS_2401, "is_admin", &[]);
const USER_241: Shape = user_desc!(
    &OPTIONS_2401,
    "is_root_admin",
    &[("is_admin", "is_root_admin")]
);

/// The user shapes a release family writes (2.3.0–2.3.3 had two).
pub fn shapes(r: Release) -> &'static [Shape] {
    match r {
        Release::V2_3_0 => &[USER_230, USER_231],
        Release::V2_3_4 => &[USER_234],
        Release::V2_4_0 => &[USER_240],
        Release::V2_4_0_1 => &[USER_2401],
        Release::V2_4_1 | Release::V2_4_2 | Release::V2_4_2_1 | Release::V2_4_3 => &[USER_241],
    }
}

/// How a user's password is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Password {
    /// Absent or `null`.
    None,
    /// A bcrypt hash, which 2.4 verifies.
    Bcrypt,
    /// Anything else (2.3.0–2.3.3 stored plaintext).
    Plaintext,
}

/// What a user record says, read once for transform, check and inspect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFacts {
    /// `id`, when it is an unsigned integer.
    pub id: Option<u128>,
    /// The password, under either name.
    pub password: Password,
    /// `is_admin` or `is_root_admin`.
    pub admin: bool,
    /// `options.granted_admin`.
    pub granted_admin: bool,
    /// `options.must_change_password`.
    pub must_change_password: bool,
}

/// The facts of a user value; `None` when it is not an object (a missing or malformed
/// `options` reads as no password and no flags).
pub fn facts(value: &str) -> Option<UserFacts> {
    let user = Object::parse(value).ok()?;
    let options = user.object("options").unwrap_or(Object {
        members: Vec::new(),
    });
    let flag = |o: &Object<'_>, f: &str| o.get(f).and_then(as_bool).unwrap_or(false);
    let raw = options
        .get("hash_password")
        .or_else(|| options.get("password"));
    let password = match raw.filter(|r| !is_null(*r)).map(as_str) {
        None => Password::None,
        Some(Some(pw)) if is_bcrypt(&pw) => Password::Bcrypt,
        Some(_) => Password::Plaintext,
    };
    Some(UserFacts {
        id: user.get("id").and_then(as_u128),
        password,
        admin: flag(&user, "is_admin") || flag(&user, "is_root_admin"),
        granted_admin: flag(&options, "granted_admin"),
        must_change_password: flag(&options, "must_change_password"),
    })
}

/// True for a bcrypt hash as CnosDB stores it (`$2a$`/`$2b$`/`$2x$`/`$2y$`, 60 characters).
pub fn is_bcrypt(s: &str) -> bool {
    s.len() == 60
        && matches!(&s.as_bytes()[..4], b"$2a$" | b"$2b$" | b"$2x$" | b"$2y$")
        && s.as_bytes()[6] == b'$'
        && s[4..6].bytes().all(|b| b.is_ascii_digit())
        && s[7..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'/')
}
