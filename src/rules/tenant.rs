//! Tenant records: `tenant_is_hidden` (2.4.0+), `drop_after` (2.4.0.1+, `CnosDuration` 2.4.2+).

use super::duration::{check_duration23, cnos_duration};
use super::{identity, newer, parse, Change, Op, Outcome, Patched, Rules};
use crate::json::{as_bool, is_null, ObjectWriter};
use crate::model::{self, Release, ShapeError};

/// Converts a tenant value for `rules.target`.
pub fn patch_tenant(value: &str, rules: &Rules) -> Patched {
    let target = rules.target;
    let release = Release::from(target);
    let shape = model::tenant(release);
    let top = parse(value)?;
    let (id, name, options, mut changes) = identity(&top, shape, &["drop_after"], release)?;
    let has_drop_after = shape.nested("options").field("drop_after").is_some();
    if let (Some(raw), false) = (options.get("drop_after"), has_drop_after) {
        if !is_null(raw) {
            return Err(newer("has `options.drop_after` set", target));
        }
        changes.push(Change::new("options.drop_after", Op::Removed));
    }
    let mut opts = ObjectWriter::with_capacity(value.len() + 48);
    for field in shape.nested("options").names() {
        let path = format!("options.{field}");
        let raw = options.get(field);
        match (field, raw) {
            ("drop_after", Some(raw)) if is_null(raw) => opts.raw(field, "null"),
            ("drop_after", Some(raw)) if target.structured_databases() => {
                let (text, converted) = cnos_duration(Some(raw), None, &path, release)?;
                if converted {
                    changes.push(Change::new(path, Op::Converted));
                }
                opts.raw(field, &text)
            }
            ("drop_after", Some(raw)) => {
                check_duration23(raw, &path, target)?;
                opts.raw(field, raw.get())
            }
            ("tenant_is_hidden", Some(raw)) => {
                as_bool(raw).ok_or_else(|| ShapeError::wrong(&path, "a boolean", raw, release))?;
                opts.raw(field, raw.get())
            }
            (_, Some(raw)) => opts.raw(field, raw.get()),
            (_, None) => {
                changes.push(Change::new(path, Op::Added));
                let default = if field == "tenant_is_hidden" {
                    "false"
                } else {
                    "null"
                };
                opts.raw(field, default)
            }
        };
    }
    let mut out = ObjectWriter::with_capacity(value.len() + 64);
    out.raw("id", id.get())
        .raw("name", name.get())
        .raw("options", &opts.finish());
    Ok(Outcome::from_rebuilt(value, out.finish(), changes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::Target;

    const T23: &str = r#"{"id":270725548512366186385451374123853137920,"name":"t1","options":{"comment":"c","limiter_config":null}}"#;

    fn patch(value: &str, t: Target) -> Patched {
        patch_tenant(value, &Rules::new(t))
    }

    fn text(o: Outcome) -> String {
        match o {
            Outcome::Patched { value, .. } => value,
            Outcome::Unchanged => "<unchanged>".into(),
        }
    }

    #[test]
    fn per_target() {
        assert_eq!(
            text(patch(T23, Target::V2_4_0).unwrap()),
            r#"{"id":270725548512366186385451374123853137920,"name":"t1","options":{"comment":"c","limiter_config":null,"tenant_is_hidden":false}}"#
        );
        let v2401 = r#"{"id":270725548512366186385451374123853137920,"name":"t1","options":{"comment":"c","limiter_config":null,"drop_after":null,"tenant_is_hidden":false}}"#;
        for t in [
            Target::V2_4_0_1,
            Target::V2_4_1,
            Target::V2_4_2,
            Target::V2_4_3,
        ] {
            assert_eq!(text(patch(T23, t).unwrap()), v2401);
            assert_eq!(patch(v2401, t).unwrap(), Outcome::Unchanged, "idempotent");
        }
    }

    #[test]
    fn drop_after_conversion_and_newer_shapes() {
        let with = r#"{"id":1,"name":"t","options":{"comment":null,"limiter_config":null,"drop_after":{"time_num":1,"unit":"Hour"},"tenant_is_hidden":true}}"#;
        assert_eq!(patch(with, Target::V2_4_1).unwrap(), Outcome::Unchanged);
        assert!(text(patch(with, Target::V2_4_2).unwrap())
            .contains(r#""drop_after":{"duration":{"secs":3600,"nanos":0},"is_inf":false},"tenant_is_hidden":true"#));
        let newer = |e: ShapeError| matches!(e, ShapeError::Newer { .. });
        assert!(newer(patch(with, Target::V2_4_0).unwrap_err()));
        let cnos = text(patch(with, Target::V2_4_3).unwrap());
        assert!(newer(patch(&cnos, Target::V2_4_1).unwrap_err()));
    }

    #[test]
    fn wrong_shapes() {
        assert!(patch("[]", Target::V2_4_0).is_err());
        assert!(patch(r#"{"id":"x","name":"t","options":{}}"#, Target::V2_4_0).is_err());
        assert!(patch(r#"{"id":1,"name":"t"}"#, Target::V2_4_0).is_err());
    }
}
