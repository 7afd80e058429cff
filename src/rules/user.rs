//! User records: `password` → `hash_password` (2.4.0+), `is_admin` → `is_root_admin`
//! (2.4.1+), the target's rules for leaving out empty options (from [`crate::model`]),
//! plaintext passwords hashed.
//!
//! Nothing here ever puts a value of a user record into a message.

use super::{identity, newer, parse, Change, Op, Outcome, Patched, Rules};
use crate::json::{as_bool, as_str, is_null, quote, Object, ObjectWriter, Raw};
use crate::model::{self, is_bcrypt, Release, ShapeError, Ty};

/// The bcrypt cost CnosDB uses (`bcrypt::DEFAULT_COST`).
const BCRYPT_COST: u32 = 12;

/// What to do with a password that is not a bcrypt hash (stored by 2.3.0–2.3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaintextPolicy {
    /// Replace it with its bcrypt hash (cost 12), so the login keeps working.
    Hash,
    /// Refuse the dump.
    Fail,
}

/// Converts a user value for `rules.target`.
pub fn patch_user(value: &str, rules: &Rules) -> Patched {
    let target = rules.target;
    let release = Release::from(target);
    let shape = model::user(release);
    let top = parse(value)?;
    let (id, name, options, mut changes) = identity(&top, shape, &[], release)?;

    // The admin flag is the last member: `is_admin`, or `is_root_admin` from 2.4.1.
    let admin_to = shape.fields[3].name;
    let (admin_from, admin) = match (top.get("is_admin"), top.get("is_root_admin")) {
        (Some(_), Some(_)) => {
            return Err(ShapeError::Both {
                old: "is_admin",
                new: "is_root_admin",
            })
        }
        (Some(raw), None) => ("is_admin", raw),
        (None, Some(raw)) => ("is_root_admin", raw),
        (None, None) => return Err(ShapeError::missing(admin_to, release)),
    };
    as_bool(admin).ok_or_else(|| ShapeError::wrong(admin_from, "a boolean", admin, release))?;
    if admin_from != admin_to {
        if !shape.renamed.iter().any(|(old, _)| *old == admin_from) {
            return Err(newer("has `is_root_admin`", target));
        }
        changes.push(Change::new(admin_to, Op::RenamedFrom(admin_from.into())));
    }

    let mut opts = ObjectWriter::with_capacity(value.len() + 16);
    password(&options, rules, release, &mut opts, &mut changes)?;
    for field in &shape.nested("options").fields[1..] {
        let raw = options.get(field.name).filter(|raw| !is_null(*raw));
        let path = format!("options.{}", field.name);
        if let Some(raw) = raw {
            let ok = match field.ty {
                Ty::Bool => as_bool(raw).is_some(),
                _ => as_str(raw).is_some(),
            };
            if !ok {
                return Err(ShapeError::wrong(path, field.ty.name(), raw, release));
            }
        }
        let clear = field.name == "must_change_password"
            && target.enforces_must_change_password()
            && !rules.keep_must_change_password
            && raw.is_some_and(|r| r.get() == "true");
        match raw {
            Some(_) if clear => changes.push(Change::new(path, Op::Removed)),
            Some(raw) => {
                opts.raw(field.name, raw.get());
            }
            None if !field.skip_none => {
                if !options.has(field.name) {
                    changes.push(Change::new(path, Op::Added));
                }
                opts.raw(field.name, "null");
            }
            None => {
                if options.has(field.name) {
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

/// Writes `hash_password` (always, first) from either name, hashing a plaintext password.
fn password(
    options: &Object<'_>,
    rules: &Rules,
    release: Release,
    opts: &mut ObjectWriter,
    changes: &mut Vec<Change>,
) -> Result<(), ShapeError> {
    let (pw_from, pw): (&str, Option<Raw<'_>>) =
        match (options.get("password"), options.get("hash_password")) {
            (Some(_), Some(_)) => {
                return Err(ShapeError::Both {
                    old: "options.password",
                    new: "options.hash_password",
                })
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
    let Some(raw) = pw.filter(|raw| !is_null(*raw)) else {
        opts.raw("hash_password", "null");
        return Ok(());
    };
    let secret = as_str(raw).ok_or_else(|| {
        ShapeError::wrong(
            format!("options.{pw_from}"),
            "a string or null",
            raw,
            release,
        )
    })?;
    if is_bcrypt(&secret) {
        opts.raw("hash_password", raw.get());
        return Ok(());
    }
    if rules.plaintext == PlaintextPolicy::Fail {
        return Err(ShapeError::Plaintext);
    }
    let hashed = bcrypt::hash(secret.as_ref(), BCRYPT_COST).map_err(|_| ShapeError::HashFailed)?;
    changes.push(Change::new("options.hash_password", Op::Hashed));
    opts.raw("hash_password", &quote(&hashed));
    Ok(())
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
        assert!(matches!(
            patch_user(&r2434, &Rules::new(Target::V2_4_0)).unwrap_err(),
            ShapeError::Newer { .. }
        ));
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
        assert_eq!(err, ShapeError::Plaintext);
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
        assert!(!err.to_string().contains("42"), "{err}");
        assert!(patch_user(r#"{"id":1,"name":"u","options":{}}"#, &t).is_err());
        assert!(patch_user("not json secret", &t).is_err());
    }
}
