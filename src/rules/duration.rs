//! 2.3 `Duration` (`{"time_num","unit"}`) to 2.4.2+ `CnosDuration`.

use super::newer;
use crate::json::{as_str, is_null, Object, Raw};
use crate::model::{Release, ShapeError, CNOS_DURATION, DURATION_23};
use crate::target::Target;

/// The `CnosDuration` meaning "infinite".
pub const CNOS_INF: &str = r#"{"duration":{"secs":0,"nanos":0},"is_inf":true}"#;

/// What a 2.3 duration expects, for messages.
const EXPECTED_23: &str =
    "a 2.3 duration ({\"time_num\":N,\"unit\":\"Minutes\"|\"Hour\"|\"Day\"|\"Inf\"}) or null";

/// Seconds per 2.3 unit; `None` for `Inf`.
fn unit_secs(unit: &str) -> Option<Option<u64>> {
    Some(match unit {
        "Minutes" => Some(60),
        "Hour" => Some(3600),
        "Day" => Some(86400),
        "Inf" => None,
        _ => return None,
    })
}

/// `(time_num, seconds per unit)` of a 2.3 duration object, as [`DURATION_23`] reads it.
fn duration23(obj: &Object<'_>) -> Option<(u64, Option<u64>)> {
    let [num, unit] = [0, 1].map(|i| DURATION_23.fields[i].name);
    let time_num = obj.get(num)?.get().parse::<u64>().ok()?;
    let per_unit = unit_secs(&as_str(obj.get(unit)?)?)?;
    Some((time_num, per_unit))
}

/// True when `obj` has the members of a [`CNOS_DURATION`].
fn is_cnos(obj: &Object<'_>) -> bool {
    CNOS_DURATION.names().all(|f| obj.has(f))
}

/// The value of a 2.3 duration at `field` (absent or null meaning `null_secs`, and `None`
/// infinite) as a `CnosDuration`. A value already in `CnosDuration` shape is returned as it is.
/// Returns `(text, converted)`.
pub fn cnos_duration(
    raw: Option<Raw<'_>>,
    null_secs: Option<u64>,
    field: &str,
    release: Release,
) -> Result<(String, bool), ShapeError> {
    let finite =
        |secs: u64| format!(r#"{{"duration":{{"secs":{secs},"nanos":0}},"is_inf":false}}"#);
    let Some(raw) = raw.filter(|r| !is_null(*r)) else {
        let text = null_secs.map_or_else(|| CNOS_INF.to_string(), finite);
        return Ok((text, true));
    };
    let wrong = || ShapeError::wrong(field, EXPECTED_23, raw, release);
    let obj = Object::parse(raw.get()).map_err(|_| wrong())?;
    if is_cnos(&obj) {
        return Ok((raw.get().to_string(), false));
    }
    let (time_num, per_unit) = duration23(&obj).ok_or_else(wrong)?;
    let text = per_unit
        .and_then(|u| time_num.checked_mul(u))
        .map_or_else(|| CNOS_INF.to_string(), finite);
    Ok((text, true))
}

/// Checks that `raw` at `field` is `null` or a 2.3 duration, for a target before 2.4.2; a
/// `CnosDuration` is a newer shape.
pub fn check_duration23(raw: Raw<'_>, field: &str, target: Target) -> Result<(), ShapeError> {
    if is_null(raw) {
        return Ok(());
    }
    match Object::parse(raw.get()) {
        Ok(obj) if duration23(&obj).is_some() => Ok(()),
        Ok(obj) if is_cnos(&obj) => {
            Err(newer(format!("has `{field}` in the 2.4.2+ format"), target))
        }
        _ => Err(ShapeError::wrong(field, EXPECTED_23, raw, target.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(text: &str, null: Option<u64>) -> String {
        let raw = Raw::parse(text).unwrap();
        cnos_duration(Some(raw), null, "ttl", Release::V2_4_2)
            .unwrap()
            .0
    }

    #[test]
    fn every_unit() {
        let f = |s: u64| format!(r#"{{"duration":{{"secs":{s},"nanos":0}},"is_inf":false}}"#);
        assert_eq!(conv(r#"{"time_num":10,"unit":"Minutes"}"#, None), f(600));
        assert_eq!(conv(r#"{"time_num":2,"unit":"Hour"}"#, None), f(7200));
        assert_eq!(conv(r#"{"time_num":30,"unit":"Day"}"#, None), f(2_592_000));
        assert_eq!(conv(r#"{"time_num":5,"unit":"Inf"}"#, None), CNOS_INF);
        assert_eq!(conv("null", None), CNOS_INF);
        assert_eq!(conv("null", Some(31_536_000)), f(31_536_000));
        assert_eq!(
            conv(r#"{"time_num":18446744073709551615,"unit":"Day"}"#, None),
            CNOS_INF
        );
        assert_eq!(conv(CNOS_INF, Some(1)), CNOS_INF);
    }

    #[test]
    fn wrong_shapes() {
        for bad in [
            r#""30d""#,
            r#"{"time_num":1,"unit":"Week"}"#,
            r#"{"time_num":-1,"unit":"Day"}"#,
        ] {
            let raw = Raw::parse(bad).unwrap();
            assert!(
                cnos_duration(Some(raw), None, "ttl", Release::V2_4_2).is_err(),
                "{bad}"
            );
        }
    }
}
