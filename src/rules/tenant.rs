//! Tenant records: `tenant_is_hidden` (2.4.0+), `drop_after` (2.4.0.1+, `CnosDuration` 2.4.2+).

use super::duration::{cnos_duration, is_duration23_or_null};
use super::{identity, newer_shape, Change, Op, Outcome, Rules};
use crate::json::{as_bool, is_null, Object, ObjectWriter};

const TOP: [&str; 3] = ["id", "name", "options"];
const OPTIONS: [&str; 4] = [
    "comment",
    "limiter_config",
    "drop_after",
    "tenant_is_hidden",
];

/// Converts a tenant value for `rules.target`.
pub fn patch_tenant(value: &str, rules: &Rules) -> Result<Outcome, String> {
    let target = rules.target;
    let top = Object::parse(value)?;
    let (id, name, options, mut changes) = identity(&top, &TOP, &OPTIONS)?;

    let mut opts = ObjectWriter::with_capacity(value.len() + 48);
    for field in ["comment", "limiter_config"] {
        match options.get(field) {
            Some(raw) => opts.raw(field, raw.get()),
            None => {
                changes.push(Change::new(format!("options.{field}"), Op::Added));
                opts.raw(field, "null")
            }
        };
    }
    match options.get("drop_after") {
        Some(raw) if !target.tenant_has_drop_after() => {
            if !is_null(raw) {
                return Err(newer_shape("`options.drop_after` is set", target));
            }
            changes.push(Change::new("options.drop_after", Op::Removed));
        }
        Some(raw) if target.structured_databases() => {
            let (text, converted) = if is_null(raw) {
                ("null".to_string(), false)
            } else {
                cnos_duration(Some(raw), None).map_err(|e| format!("`options.drop_after` {e}"))?
            };
            if converted {
                changes.push(Change::new("options.drop_after", Op::Converted));
            }
            opts.raw("drop_after", &text);
        }
        Some(raw) => {
            if !is_duration23_or_null(raw) {
                return Err(newer_shape(
                    "`options.drop_after` is not a 2.3 duration",
                    target,
                ));
            }
            opts.raw("drop_after", raw.get());
        }
        None if target.tenant_has_drop_after() => {
            changes.push(Change::new("options.drop_after", Op::Added));
            opts.raw("drop_after", "null");
        }
        None => {}
    }
    match options.get("tenant_is_hidden") {
        Some(raw) => {
            as_bool(raw).ok_or("`options.tenant_is_hidden` is not a boolean")?;
            opts.raw("tenant_is_hidden", raw.get());
        }
        None => {
            changes.push(Change::new("options.tenant_is_hidden", Op::Added));
            opts.raw("tenant_is_hidden", "false");
        }
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

    fn patch(value: &str, t: Target) -> Result<Outcome, String> {
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
        assert!(patch(with, Target::V2_4_0).unwrap_err().contains("newer"));
        let cnos = text(patch(with, Target::V2_4_3).unwrap());
        assert!(patch(&cnos, Target::V2_4_1).unwrap_err().contains("newer"));
    }

    #[test]
    fn wrong_shapes() {
        assert!(patch("[]", Target::V2_4_0).is_err());
        assert!(patch(r#"{"id":"x","name":"t","options":{}}"#, Target::V2_4_0).is_err());
        assert!(patch(r#"{"id":1,"name":"t"}"#, Target::V2_4_0).is_err());
    }
}
