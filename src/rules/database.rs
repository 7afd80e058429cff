//! Database records: `db_is_hidden` (2.4.0–2.4.1), the `is_hidden`/`options`/`config` shape
//! with `CnosDuration` (2.4.2+).

use super::duration::{cnos_duration, is_duration23_or_null};
use super::{newer_shape, Change, Op, Outcome, Rules};
use crate::json::{as_bool, as_str, is_null, Object, ObjectWriter, Raw};

const FLAT_TOP: [&str; 3] = ["tenant", "database", "config"];
const FLAT_CONFIG: [&str; 6] = [
    "ttl",
    "shard_num",
    "vnode_duration",
    "replica",
    "precision",
    "db_is_hidden",
];
const STRUCTURED_TOP: [&str; 5] = ["tenant", "database", "is_hidden", "options", "config"];
const STRUCTURED_OPTIONS: [&str; 4] = ["ttl", "shard_num", "vnode_duration", "replica"];
const STRUCTURED_CONFIG: [&str; 7] = [
    "precision",
    "max_memcache_size",
    "memcache_partitions",
    "wal_max_file_size",
    "wal_sync",
    "strict_write",
    "max_cache_readers",
];

/// 2.3's meaning of a null `vnode_duration`: 365 days.
const VNODE_DURATION_23_SECS: u64 = 365 * 86400;

/// Converts a database value for `rules.target`.
pub fn patch_database(value: &str, rules: &Rules) -> Result<Outcome, String> {
    let top = Object::parse(value)?;
    for field in ["tenant", "database"] {
        let raw = top.get(field).ok_or_else(|| format!("missing `{field}`"))?;
        as_str(raw).ok_or_else(|| format!("`{field}` is not a string"))?;
    }
    if top.has("options") || top.has("is_hidden") {
        return structured_input(value, &top, rules);
    }
    let config = top.object("config")?;
    check_flat_config(&config)?;
    let mut changes = removed(&top, &FLAT_TOP, "");
    changes.extend(removed(&config, &FLAT_CONFIG, "config."));
    let rebuilt = if rules.target.structured_databases() {
        restructure(&top, &config, rules, &mut changes)?
    } else {
        let mut cfg = ObjectWriter::with_capacity(value.len());
        for field in &FLAT_CONFIG[..5] {
            match config.get(field) {
                Some(raw) => cfg.raw(field, raw.get()),
                None => {
                    changes.push(Change::new(format!("config.{field}"), Op::Added));
                    cfg.raw(field, "null")
                }
            };
        }
        match config.get("db_is_hidden") {
            Some(raw) => cfg.raw("db_is_hidden", raw.get()),
            None => {
                changes.push(Change::new("config.db_is_hidden", Op::Added));
                cfg.raw("db_is_hidden", "false")
            }
        };
        let mut out = ObjectWriter::with_capacity(value.len() + 32);
        out.raw("tenant", top.text("tenant"))
            .raw("database", top.text("database"))
            .raw("config", &cfg.finish());
        out.finish()
    };
    Ok(Outcome::from_rebuilt(value, rebuilt, changes))
}

fn removed(obj: &Object<'_>, known: &[&str], prefix: &str) -> Vec<Change> {
    obj.unknown_members(known)
        .map(|n| Change::new(format!("{prefix}{n}"), Op::Removed))
        .collect()
}

fn check_flat_config(config: &Object<'_>) -> Result<(), String> {
    for field in ["ttl", "vnode_duration"] {
        if let Some(raw) = config.get(field) {
            if !is_duration23_or_null(raw) {
                return Err(format!(
                    "`config.{field}` is not a 2.3 duration ({{\"time_num\":N,\"unit\":…}} or null)"
                ));
            }
        }
    }
    for field in ["shard_num", "replica"] {
        if let Some(raw) = config.get(field) {
            if !is_null(raw) && raw.get().parse::<u64>().is_err() {
                return Err(format!(
                    "`config.{field}` is not an unsigned integer or null"
                ));
            }
        }
    }
    if let Some(raw) = config.get("precision") {
        if !is_null(raw) {
            precision(raw)?;
        }
    }
    if let Some(raw) = config.get("db_is_hidden") {
        as_bool(raw).ok_or("`config.db_is_hidden` is not a boolean")?;
    }
    Ok(())
}

fn precision(raw: Raw<'_>) -> Result<&str, String> {
    match raw.get() {
        p @ ("\"MS\"" | "\"US\"" | "\"NS\"") => Ok(p),
        _ => Err("`precision` is not \"MS\", \"US\" or \"NS\"".into()),
    }
}

/// A 2.3 / 2.4.0–2.4.1 record rebuilt in the 2.4.2+ shape.
fn restructure(
    top: &Object<'_>,
    config: &Object<'_>,
    rules: &Rules,
    changes: &mut Vec<Change>,
) -> Result<String, String> {
    let get = |f: &str| config.get(f).filter(|raw| !is_null(*raw));
    let mut options = ObjectWriter::with_capacity(160);
    options.raw("ttl", &cnos_duration(config.get("ttl"), None)?.0);
    options.raw("shard_num", get("shard_num").map_or("1", |r| r.get()));
    let vnode = cnos_duration(config.get("vnode_duration"), Some(VNODE_DURATION_23_SECS))?;
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
    for f in STRUCTURED_OPTIONS {
        changes.push(Change::new(
            format!("options.{f}"),
            Op::RenamedFrom(format!("config.{f}")),
        ));
    }
    changes.push(Change::new("config.precision", Op::Converted));
    for f in &STRUCTURED_CONFIG[1..] {
        changes.push(Change::new(format!("config.{f}"), Op::Added));
    }
    Ok(out.finish())
}

/// A record already in the 2.4.2+ shape: kept for 2.4.2+ targets (re-ordered and checked),
/// refused for older ones.
fn structured_input(value: &str, top: &Object<'_>, rules: &Rules) -> Result<Outcome, String> {
    if !rules.target.structured_databases() {
        return Err(newer_shape(
            "the database record has `is_hidden`/`options` (2.4.2+ shape)",
            rules.target,
        ));
    }
    let options = top.object("options")?;
    let config = top.object("config")?;
    let mut changes = removed(top, &STRUCTURED_TOP, "");
    changes.extend(removed(&options, &STRUCTURED_OPTIONS, "options."));
    changes.extend(removed(&config, &STRUCTURED_CONFIG, "config."));
    let field = |obj: &Object<'_>, prefix: &str, name: &str| -> Result<String, String> {
        obj.get(name)
            .map(|r| r.get().to_string())
            .ok_or_else(|| format!("missing `{prefix}{name}` (every 2.4.2+ field is required)"))
    };
    let mut opts = ObjectWriter::with_capacity(160);
    for name in STRUCTURED_OPTIONS {
        opts.raw(name, &field(&options, "options.", name)?);
    }
    let mut cfg = ObjectWriter::with_capacity(224);
    for name in STRUCTURED_CONFIG {
        cfg.raw(name, &field(&config, "config.", name)?);
    }
    let hidden = top.get("is_hidden").ok_or("missing `is_hidden`")?;
    as_bool(hidden).ok_or("`is_hidden` is not a boolean")?;
    let mut out = ObjectWriter::with_capacity(value.len());
    out.raw("tenant", top.text("tenant"))
        .raw("database", top.text("database"))
        .raw("is_hidden", hidden.get())
        .raw("options", &opts.finish())
        .raw("config", &cfg.finish());
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
        assert!(patch_database(real_2434, &Rules::new(Target::V2_4_1))
            .unwrap_err()
            .contains("newer"));
    }

    #[test]
    fn wrong_shapes() {
        let t = Rules::new(Target::V2_4_0);
        assert!(patch_database(
            r#"{"tenant":"t","database":"d","config":{"ttl":"30d"}}"#,
            &t
        )
        .unwrap_err()
        .contains("config.ttl"));
        assert!(patch_database(r#"{"tenant":"t","database":"d"}"#, &t).is_err());
        assert!(patch_database(
            r#"{"tenant":"t","database":"d","config":{"precision":"XS"}}"#,
            &t
        )
        .is_err());
    }
}
