//! Database records: `db_is_hidden` (2.4.0–2.4.1), the `is_hidden`/`options`/`config` shape
//! with `CnosDuration` (2.4.2+).

use super::duration::{check_duration23, cnos_duration};
use super::{member_object, newer, parse, Change, Op, Outcome, Patched, Rules};
use crate::json::{as_bool, as_str, is_null, Object, ObjectWriter, Raw};
use crate::model::{self, Release, Shape, ShapeError};

/// 2.3's meaning of a null `vnode_duration`: 365 days.
const VNODE_DURATION_23_SECS: u64 = 365 * 86400;

/// The flat shape (2.3 – 2.4.1, with `db_is_hidden`) and the 2.4.2+ shape.
fn flat() -> &'static Shape {
    model::database(Release::V2_4_0)
}
fn structured() -> &'static Shape {
    model::database(Release::V2_4_2)
}

/// Converts a database value for `rules.target`.
pub fn patch_database(value: &str, rules: &Rules) -> Patched {
    let release = Release::from(rules.target);
    let top = parse(value)?;
    for field in ["tenant", "database"] {
        let raw = top
            .get(field)
            .ok_or_else(|| ShapeError::missing(field, release))?;
        as_str(raw).ok_or_else(|| ShapeError::wrong(field, "a string", raw, release))?;
    }
    if top.has("options") || top.has("is_hidden") {
        return structured_input(value, &top, rules);
    }
    let config = member_object(&top, "config", "", release)?;
    check_flat_config(&config, rules)?;
    let mut changes = removed(&top, flat(), "");
    changes.extend(removed(&config, flat().nested("config"), "config."));
    let rebuilt = if rules.target.structured_databases() {
        restructure(&top, &config, rules, &mut changes)?
    } else {
        let mut cfg = ObjectWriter::with_capacity(value.len());
        for field in flat().nested("config").names() {
            match config.get(field) {
                Some(raw) => cfg.raw(field, raw.get()),
                None => {
                    changes.push(Change::new(format!("config.{field}"), Op::Added));
                    let default = if field == "db_is_hidden" {
                        "false"
                    } else {
                        "null"
                    };
                    cfg.raw(field, default)
                }
            };
        }
        let mut out = ObjectWriter::with_capacity(value.len() + 32);
        out.raw("tenant", top.text("tenant"))
            .raw("database", top.text("database"))
            .raw("config", &cfg.finish());
        out.finish()
    };
    Ok(Outcome::from_rebuilt(value, rebuilt, changes))
}

/// The members of `obj` that `shape` does not have, as removals.
fn removed(obj: &Object<'_>, shape: &Shape, prefix: &str) -> Vec<Change> {
    obj.members
        .iter()
        .filter(|(n, _)| shape.field(n).is_none())
        .map(|(n, _)| Change::new(format!("{prefix}{n}"), Op::Removed))
        .collect()
}

fn check_flat_config(config: &Object<'_>, rules: &Rules) -> Result<(), ShapeError> {
    let release = Release::from(rules.target);
    for field in ["ttl", "vnode_duration"] {
        if let Some(raw) = config.get(field) {
            check_duration23(raw, &format!("config.{field}"), rules.target)?;
        }
    }
    for field in ["shard_num", "replica"] {
        if let Some(raw) = config.get(field) {
            if !is_null(raw) && raw.get().parse::<u64>().is_err() {
                let path = format!("config.{field}");
                return Err(ShapeError::wrong(
                    path,
                    "an unsigned integer or null",
                    raw,
                    release,
                ));
            }
        }
    }
    if let Some(raw) = config.get("precision") {
        if !is_null(raw) {
            precision(raw, "config.precision", release)?;
        }
    }
    if let Some(raw) = config.get("db_is_hidden") {
        as_bool(raw)
            .ok_or_else(|| ShapeError::wrong("config.db_is_hidden", "a boolean", raw, release))?;
    }
    Ok(())
}

fn precision(raw: Raw<'_>, field: &str, release: Release) -> Result<(), ShapeError> {
    match raw.get() {
        "\"MS\"" | "\"US\"" | "\"NS\"" => Ok(()),
        _ => Err(ShapeError::wrong(field, "one of MS, US, NS", raw, release)),
    }
}

/// A 2.3 / 2.4.0–2.4.1 record rebuilt in the 2.4.2+ shape.
fn restructure(
    top: &Object<'_>,
    config: &Object<'_>,
    rules: &Rules,
    changes: &mut Vec<Change>,
) -> Result<String, ShapeError> {
    let release = Release::from(rules.target);
    let get = |f: &str| config.get(f).filter(|raw| !is_null(*raw));
    let mut options = ObjectWriter::with_capacity(160);
    let ttl = cnos_duration(config.get("ttl"), None, "config.ttl", release)?;
    options.raw("ttl", &ttl.0);
    options.raw("shard_num", get("shard_num").map_or("1", |r| r.get()));
    let vnode = cnos_duration(
        config.get("vnode_duration"),
        Some(VNODE_DURATION_23_SECS),
        "config.vnode_duration",
        release,
    )?;
    options.raw("vnode_duration", &vnode.0);
    options.raw("replica", get("replica").map_or("1", |r| r.get()));

    let mut cfg = ObjectWriter::with_capacity(224);
    cfg.raw("precision", get("precision").map_or("\"NS\"", |r| r.get()));
    let defaults = rules.db_config.json_members();
    let mut cfg = cfg.finish();
    cfg.pop();
    cfg.push(',');
    cfg.push_str(&defaults);
    cfg.push('}');

    let hidden = config.get("db_is_hidden").map_or("false", |r| r.get());
    let mut out = ObjectWriter::with_capacity(512);
    out.raw("tenant", top.text("tenant"))
        .raw("database", top.text("database"))
        .raw("is_hidden", hidden)
        .raw("options", &options.finish())
        .raw("config", &cfg);
    let renamed = if config.has("db_is_hidden") {
        Op::RenamedFrom("config.db_is_hidden".into())
    } else {
        Op::Added
    };
    changes.push(Change::new("is_hidden", renamed));
    for f in structured().nested("options").names() {
        changes.push(Change::new(
            format!("options.{f}"),
            Op::RenamedFrom(format!("config.{f}")),
        ));
    }
    changes.push(Change::new("config.precision", Op::Converted));
    for f in structured().nested("config").names().skip(1) {
        changes.push(Change::new(format!("config.{f}"), Op::Added));
    }
    Ok(out.finish())
}

/// A record already in the 2.4.2+ shape: kept for 2.4.2+ targets (re-ordered and checked),
/// refused for older ones.
fn structured_input(value: &str, top: &Object<'_>, rules: &Rules) -> Patched {
    if !rules.target.structured_databases() {
        return Err(newer(
            "has `is_hidden`/`options` (the 2.4.2+ shape)",
            rules.target,
        ));
    }
    let release = Release::from(rules.target);
    let shape = model::database(release);
    let options = member_object(top, "options", "", release)?;
    let config = member_object(top, "config", "", release)?;
    let mut changes = removed(top, shape, "");
    changes.extend(removed(&options, shape.nested("options"), "options."));
    changes.extend(removed(&config, shape.nested("config"), "config."));
    let copy = |obj: &Object<'_>, sub: &str| -> Result<String, ShapeError> {
        let mut w = ObjectWriter::with_capacity(224);
        for name in shape.nested(sub).names() {
            let raw = obj
                .get(name)
                .ok_or_else(|| ShapeError::missing(format!("{sub}.{name}"), release))?;
            w.raw(name, raw.get());
        }
        Ok(w.finish())
    };
    let (opts, cfg) = (copy(&options, "options")?, copy(&config, "config")?);
    let hidden = top
        .get("is_hidden")
        .ok_or_else(|| ShapeError::missing("is_hidden", release))?;
    as_bool(hidden).ok_or_else(|| ShapeError::wrong("is_hidden", "a boolean", hidden, release))?;
    let mut out = ObjectWriter::with_capacity(value.len());
    out.raw("tenant", top.text("tenant"))
        .raw("database", top.text("database"))
        .raw("is_hidden", hidden.get())
        .raw("options", &opts)
        .raw("config", &cfg);
    Ok(Outcome::from_rebuilt(value, out.finish(), changes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::Target;

    const PUBLIC23: &str = r#"{"tenant":"cnosdb","database":"public","config":{"ttl":null,"shard_num":null,"vnode_duration":null,"replica":null,"precision":null}}"#;
    const DB1: &str = r#"{"tenant":"cnosdb","database":"db1","config":{"ttl":{"time_num":30,"unit":"Day"},"shard_num":2,"vnode_duration":{"time_num":1,"unit":"Day"},"replica":1,"precision":"MS"}}"#;

    fn text(value: &str, t: Target) -> String {
        match patch_database(value, &Rules::new(t)).unwrap() {
            Outcome::Patched { value, .. } => value,
            Outcome::Unchanged => value.to_string(),
        }
    }

    #[test]
    fn flat_targets_add_db_is_hidden() {
        let real_240 = r#"{"tenant":"cnosdb","database":"public","config":{"ttl":null,"shard_num":null,"vnode_duration":null,"replica":null,"precision":null,"db_is_hidden":false}}"#;
        assert_eq!(text(PUBLIC23, Target::V2_4_0), real_240);
        assert_eq!(text(real_240, Target::V2_4_1), real_240);
    }

    #[test]
    fn structured_targets() {
        assert_eq!(
            text(DB1, Target::V2_4_3),
            r#"{"tenant":"cnosdb","database":"db1","is_hidden":false,"options":{"ttl":{"duration":{"secs":2592000,"nanos":0},"is_inf":false},"shard_num":2,"vnode_duration":{"duration":{"secs":86400,"nanos":0},"is_inf":false},"replica":1},"config":{"precision":"MS","max_memcache_size":536870912,"memcache_partitions":16,"wal_max_file_size":134217728,"wal_sync":false,"strict_write":false,"max_cache_readers":32}}"#
        );
        let public = text(PUBLIC23, Target::V2_4_2);
        assert!(public.contains(r#""ttl":{"duration":{"secs":0,"nanos":0},"is_inf":true},"shard_num":1,"vnode_duration":{"duration":{"secs":31536000,"nanos":0},"is_inf":false},"replica":1}"#), "{public}");
        assert!(public.contains(r#""wal_max_file_size":1073741824"#));
        assert_eq!(
            patch_database(&public, &Rules::new(Target::V2_4_2)).unwrap(),
            Outcome::Unchanged
        );
        let real_2434 = include_str!("../../fixtures/real/v2.4.3.4-dump-fresh.txt")
            .lines()
            .find(|l| l.contains("/dbs/public: "))
            .unwrap()
            .split_once(": ")
            .unwrap()
            .1;
        assert_eq!(
            patch_database(real_2434, &Rules::new(Target::V2_4_3)).unwrap(),
            Outcome::Unchanged
        );
        assert!(matches!(
            patch_database(real_2434, &Rules::new(Target::V2_4_1)).unwrap_err(),
            ShapeError::Newer { .. }
        ));
    }

    #[test]
    fn wrong_shapes() {
        let t = Rules::new(Target::V2_4_0);
        assert!(patch_database(
            r#"{"tenant":"t","database":"d","config":{"ttl":"30d"}}"#,
            &t
        )
        .unwrap_err()
        .to_string()
        .contains("config.ttl"));
        assert!(patch_database(r#"{"tenant":"t","database":"d"}"#, &t).is_err());
        assert!(patch_database(
            r#"{"tenant":"t","database":"d","config":{"precision":"XS"}}"#,
            &t
        )
        .is_err());
    }
}
