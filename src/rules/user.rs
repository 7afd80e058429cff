//! User records: `password` → `hash_password` (2.4.0+), `is_admin` → `is_root_admin`
//! (2.4.1+), the target's rules for leaving out empty options, plaintext passwords hashed.
//!
//! Nothing here ever puts a value of a user record into a message.

use super::{identity, newer_shape, Change, Op, Outcome, Rules};
use crate::json::{as_bool, as_str, is_null, quote, Object, ObjectWriter};

const TOP: [&str; 5] = ["id", "name", "options", "is_admin", "is_root_admin"];
const OPTIONS: [&str; 6] = [
    "password",
    "hash_password",
    "must_change_password",
    "rsa_public_key",
    "comment",
    "granted_admin",
];

/// The bcrypt cost CnosDB uses (`bcrypt::DEFAULT_COST`).
const BCRYPT_COST: u32 = 12;

/// What to do with a password that is not a bcrypt hash (stored by 2.3.0–2.3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlaintextPolicy {
    /// Replace it with its bcrypt hash (cost 12), so the login keeps working.
    Hash,
    /// Refuse the dump.
    Fail,
    /// Leave it as it is (for `check`, which reports it instead).
    #[value(skip)]
    Keep,
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

/// Converts a user value for `rules.target`.
pub fn patch_user(value: &str, rules: &Rules) -> Result<Outcome, String> {
    let target = rules.target;
    let top = Object::parse(value)?;
    let (id, name, options, mut changes) = identity(&top, &TOP, &OPTIONS)?;

    let (admin_from, admin) = match (top.get("is_admin"), top.get("is_root_admin")) {
        (Some(_), Some(_)) => return Err("has both `is_admin` and `is_root_admin`".into()),
        (Some(raw), None) => ("is_admin", raw),
        (None, Some(raw)) => ("is_root_admin", raw),
        (None, None) => return Err("missing `is_admin`".into()),
    };
    as_bool(admin).ok_or_else(|| format!("`{admin_from}` is not a boolean"))?;
    let admin_to = if target.renamed_admin_and_schema_version() {
        "is_root_admin"
    } else if admin_from == "is_root_admin" {
        return Err(newer_shape("the user has `is_root_admin`", target));
    } else {
        "is_admin"
    };
    if admin_from != admin_to {
        changes.push(Change::new(admin_to, Op::RenamedFrom(admin_from.into())));
    }

    let mut opts = ObjectWriter::with_capacity(value.len() + 16);
    let (pw_from, pw) = match (options.get("password"), options.get("hash_password")) {
        (Some(_), Some(_)) => {
            return Err("has both `options.password` and `options.hash_password`".into())
        }
        (Some(raw), None) => ("password", Some(raw)),
        (None, raw) => ("hash_password", raw),
    };
    if pw_from == "password" {
        changes.push(Change::new(
            "options.hash_password",
            Op::RenamedFrom("options.password".into()),
        ));
    }
    match pw.filter(|raw| !is_null(*raw)) {
        None => opts.raw("hash_password", "null"),
        Some(raw) => {
            let secret = as_str(raw).ok_or("`options.password` is not a string or null")?;
            if is_bcrypt(&secret) || rules.plaintext == PlaintextPolicy::Keep {
                opts.raw("hash_password", raw.get())
            } else {
                if rules.plaintext == PlaintextPolicy::Fail {
                    return Err("has a plaintext password (stored by CnosDB 2.3.0–2.3.3); \
                         2.4 only accepts bcrypt hashes: rerun without \
                         `--plaintext-passwords fail` to hash it, or reset the password"
                        .into());
                }
                let hashed = bcrypt::hash(secret.as_ref(), BCRYPT_COST)
                    .map_err(|_| "the plaintext password could not be hashed".to_string())?;
                changes.push(Change::new("options.hash_password", Op::Hashed));
                opts.raw("hash_password", &quote(&hashed))
            }
        }
    };
    let always = !target.skips_empty_user_options();
    for (field, kind) in [
        ("must_change_password", Kind::Bool),
        ("rsa_public_key", Kind::Str),
        ("comment", Kind::Str),
        ("granted_admin", Kind::Bool),
    ] {
        let raw = options.get(field).filter(|raw| !is_null(*raw));
        if let Some(raw) = raw {
            let ok = match kind {
                Kind::Bool => as_bool(raw).is_some(),
                Kind::Str => as_str(raw).is_some(),
            };
            if !ok {
                return Err(format!("`options.{field}` has the wrong type"));
            }
        }
        let clear = field == "must_change_password"
            && target.enforces_must_change_password()
            && !rules.keep_must_change_password
            && raw.is_some_and(|r| r.get() == "true");
        let path = format!("options.{field}");
        match raw {
            Some(_) if clear => changes.push(Change::new(path, Op::Removed)),
            Some(raw) => {
                opts.raw(field, raw.get());
            }
            None if always && matches!(field, "must_change_password" | "granted_admin") => {
                if !options.has(field) {
                    changes.push(Change::new(path, Op::Added));
                }
                opts.raw(field, "null");
            }
            None => {
                if options.has(field) {
                    changes.push(Change::new(path, Op::Removed));
                }
            }
        }
    }

    let mut out = ObjectWriter::with_capacity(value.len() + 32);
    out.raw("id", id.get())
        .raw("name", name.get())
        .raw("options", &opts.finish())
        .raw(admin_to, admin.get());
    Ok(Outcome::from_rebuilt(value, out.finish(), changes))
}

#[derive(Clone, Copy)]
enum Kind {
    Bool,
    Str,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::Target;

    const HASH: &str = "$2b$12$UXtD3jygSi76oO2IyV/UHeC2TqqD3SBp0yxoyp3intrNueiHVjri6";

    fn text(value: &str, t: Target) -> String {
        match patch_user(value, &Rules::new(t)).unwrap() {
            Outcome::Patched { value, .. } => value,
            Outcome::Unchanged => value.to_string(),
        }
    }

    #[test]
    fn root_per_target_matches_real_shapes() {
        let root23 = r#"{"id":15171639751348486842584338881416034150,"name":"root","options":{"password":null,"must_change_password":true,"comment":"system admin"},"is_admin":true}"#;
        assert_eq!(
            text(root23, Target::V2_4_0),
            r#"{"id":15171639751348486842584338881416034150,"name":"root","options":{"hash_password":null,"must_change_password":true,"comment":"system admin","granted_admin":null},"is_admin":true}"#
        );
        assert_eq!(
            text(root23, Target::V2_4_0_1),
            r#"{"id":15171639751348486842584338881416034150,"name":"root","options":{"hash_password":null,"must_change_password":true,"comment":"system admin"},"is_admin":true}"#
        );
        assert_eq!(
            text(root23, Target::V2_4_1),
            r#"{"id":15171639751348486842584338881416034150,"name":"root","options":{"hash_password":null,"comment":"system admin"},"is_root_admin":true}"#
        );
        assert_eq!(
            text(root23, Target::V2_4_3),
            r#"{"id":15171639751348486842584338881416034150,"name":"root","options":{"hash_password":null,"comment":"system admin"},"is_root_admin":true}"#
        );
    }

    #[test]
    fn real_2_4_records_are_left_alone() {
        let r240 = r#"{"id":78322384368497284380257291774744000002,"name":"root","options":{"hash_password":null,"must_change_password":true,"comment":"system admin","granted_admin":false},"is_admin":true}"#;
        assert_eq!(
            patch_user(r240, &Rules::new(Target::V2_4_0)).unwrap(),
            Outcome::Unchanged
        );
        let r2434 = format!(
            r#"{{"id":78322384368497284380257291774744000002,"name":"root","options":{{"hash_password":"{HASH}","must_change_password":true,"comment":"system admin"}},"is_root_admin":true}}"#
        );
        let mut keep = Rules::new(Target::V2_4_3);
        keep.keep_must_change_password = true;
        assert_eq!(patch_user(&r2434, &keep).unwrap(), Outcome::Unchanged);
        assert!(patch_user(&r2434, &Rules::new(Target::V2_4_0))
            .unwrap_err()
            .contains("newer"));
    }

    #[test]
    fn plaintext_is_hashed_or_refused_and_never_quoted() {
        let u = r#"{"id":7,"name":"dave","options":{"password":"secret-pw"},"is_admin":false}"#;
        let out = text(u, Target::V2_4_1);
        assert!(!out.contains("secret-pw"));
        let options = Object::parse(&out).unwrap().object("options").unwrap();
        let hash = as_str(options.get("hash_password").unwrap()).unwrap();
        assert!(is_bcrypt(&hash) && bcrypt::verify("secret-pw", &hash).unwrap());
        let mut fail = Rules::new(Target::V2_4_1);
        fail.plaintext = PlaintextPolicy::Fail;
        let err = patch_user(u, &fail).unwrap_err();
        assert!(
            err.contains("plaintext") && !err.contains("secret-pw"),
            "{err}"
        );
    }

    #[test]
    fn bcrypt_detection() {
        assert!(is_bcrypt(HASH));
        assert!(!is_bcrypt("secret"));
        assert!(!is_bcrypt(&HASH.replace("$12$", "$1x$")));
        assert!(!is_bcrypt(&format!("{HASH}x")));
    }

    #[test]
    fn wrong_shapes_do_not_leak_values() {
        let t = Rules::new(Target::V2_4_0);
        let err = patch_user(
            r#"{"id":1,"name":"u","options":{"password":42},"is_admin":false}"#,
            &t,
        )
        .unwrap_err();
        assert!(!err.contains("42"));
        assert!(patch_user(r#"{"id":1,"name":"u","options":{}}"#, &t).is_err());
        assert!(patch_user("not json secret", &t).is_err());
    }
}
