//! 2.3 `Duration` (`{"time_num","unit"}`) to 2.4.2+ `CnosDuration`.

use serde::Deserialize;

use crate::json::{is_null, Object, Raw};

/// The `CnosDuration` meaning "infinite".
pub const CNOS_INF: &str = r#"{"duration":{"secs":0,"nanos":0},"is_inf":true}"#;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Duration23 {
    time_num: u64,
    unit: Unit,
}

#[derive(Deserialize)]
enum Unit {
    Minutes,
    Hour,
    Day,
    Inf,
}

/// The value of a 2.3 duration (absent or null meaning `null_secs`, and `None` infinite) as
/// a `CnosDuration`. A value already in `CnosDuration` shape is returned as it is.
/// Returns `(text, converted)`.
pub fn cnos_duration(
    raw: Option<Raw<'_>>,
    null_secs: Option<u64>,
) -> Result<(String, bool), String> {
    let finite =
        |secs: u64| format!(r#"{{"duration":{{"secs":{secs},"nanos":0}},"is_inf":false}}"#);
    let Some(raw) = raw.filter(|r| !is_null(*r)) else {
        let text = null_secs.map_or_else(|| CNOS_INF.to_string(), finite);
        return Ok((text, true));
    };
    let obj = Object::parse(raw.get())?;
    if obj.has("duration") && obj.has("is_inf") {
        return Ok((raw.get().to_string(), false));
    }
    let d: Duration23 = serde_json::from_str(raw.get()).map_err(|_| {
        "is not a duration: expected {\"time_num\":N,\"unit\":\"Minutes\"|\"Hour\"|\"Day\"|\"Inf\"}"
            .to_string()
    })?;
    let per_unit = match d.unit {
        Unit::Minutes => 60,
        Unit::Hour => 3600,
        Unit::Day => 86400,
        Unit::Inf => return Ok((CNOS_INF.to_string(), true)),
    };
    let text = d
        .time_num
        .checked_mul(per_unit)
        .map_or_else(|| CNOS_INF.to_string(), finite);
    Ok((text, true))
}

/// True when `raw` is `null` or a 2.3 duration.
pub fn is_duration23_or_null(raw: Raw<'_>) -> bool {
    is_null(raw) || serde_json::from_str::<Duration23>(raw.get()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(text: &str, null: Option<u64>) -> String {
        let raw = Raw::parse(text).unwrap();
        cnos_duration(Some(raw), null).unwrap().0
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
            assert!(cnos_duration(Some(raw), None).is_err(), "{bad}");
        }
    }
}
