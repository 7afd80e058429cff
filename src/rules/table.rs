//! Table records: TSKV `schema_id` → `schema_version` (2.4.1+), exactly the known fields
//! (2.4.3+). External and stream tables are the same in every release.

use super::{newer, parse, Change, Op, Outcome, Patched, Rules};
use crate::json::{as_str, quote, Object, ObjectWriter, Raw};
use crate::model::{self, Release, Shape, ShapeError};

/// The storage engine of a table, from its record's outer tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableEngine {
    /// `TsKvTableSchema`: rows live in CnosDB.
    Tskv,
    /// `ExternalTableSchema`: rows live in files.
    External,
    /// `StreamTableSchema`: a stream over another table.
    Stream,
}

impl TableEngine {
    /// The engine of a table value, and the raw text of its inner schema object.
    pub fn of(value: &str) -> Result<(TableEngine, &str), ShapeError> {
        // Fast path: the compact form every CnosDB writes; the inner object is parsed by the
        // caller, so it is validated once, not twice.
        for (tag, engine) in [
            ("{\"TsKvTableSchema\":", TableEngine::Tskv),
            ("{\"ExternalTableSchema\":", TableEngine::External),
            ("{\"StreamTableSchema\":", TableEngine::Stream),
        ] {
            if let Some(inner) = value.strip_prefix(tag).and_then(|r| r.strip_suffix('}')) {
                if inner.starts_with('{') && inner.ends_with('}') {
                    return Ok((engine, inner));
                }
            }
        }
        let outer = parse(value)?;
        let [(tag, inner)] = outer.members.as_slice() else {
            return Err(ShapeError::NotTable);
        };
        let engine = match tag.as_ref() {
            "TsKvTableSchema" => TableEngine::Tskv,
            "ExternalTableSchema" => TableEngine::External,
            "StreamTableSchema" => TableEngine::Stream,
            _ => return Err(ShapeError::NotTable),
        };
        Ok((engine, inner.get()))
    }

    /// `TSKV`, `EXTERNAL` or `STREAM`, as CnosDB names them.
    pub fn name(self) -> &'static str {
        match self {
            TableEngine::Tskv => "TSKV",
            TableEngine::External => "EXTERNAL",
            TableEngine::Stream => "STREAM",
        }
    }
}

/// Converts a table value for `rules.target`.
pub fn patch_table(value: &str, rules: &Rules) -> Patched {
    let target = rules.target;
    let release = Release::from(target);
    let (engine, inner_text) = TableEngine::of(value)?;
    if engine != TableEngine::Tskv {
        parse(inner_text)?;
        return Ok(Outcome::Unchanged);
    }
    let shape = model::tskv(release);
    let inner = parse(inner_text)?;
    for field in ["tenant", "db", "name", "next_column_id", "columns"] {
        if !inner.has(field) {
            return Err(ShapeError::missing(field, release));
        }
    }
    let version = match (inner.get("schema_id"), inner.get("schema_version")) {
        (Some(_), Some(_)) => {
            return Err(ShapeError::Both {
                old: "schema_id",
                new: "schema_version",
            })
        }
        (None, None) => return Err(ShapeError::missing(shape.fields[3].name, release)),
        (Some(raw), None) => ("schema_id", raw),
        (None, Some(raw)) => ("schema_version", raw),
    };
    if version.1.get().parse::<u64>().is_err() {
        return Err(ShapeError::wrong(
            version.0,
            "an unsigned integer",
            version.1,
            release,
        ));
    }
    // The version member is the fourth: `schema_id`, or `schema_version` from 2.4.1.
    let to = shape.fields[3].name;
    if version.0 != to && !shape.renamed.iter().any(|(old, _)| *old == version.0) {
        return Err(newer("has `schema_version`", target));
    }
    let has_index = inner.has("columns_index");
    if version.0 == to && to == "schema_id" && has_index {
        return Ok(Outcome::Unchanged);
    }
    let mut changes = Vec::new();
    if version.0 != to {
        changes.push(Change::new(to, Op::RenamedFrom(version.0.into())));
    }
    let index = || -> Result<String, ShapeError> {
        let columns = inner.get("columns").expect("checked above");
        columns_index(columns, release)
    };
    let mut schema = ObjectWriter::with_capacity(inner_text.len() + 8);
    if shape.unknown == model::Unknown::Refused {
        strict_schema(&inner, shape, version.1, &mut schema, &mut changes, index)?;
    } else {
        for (name, raw) in &inner.members {
            let name = if name == version.0 { to } else { name.as_ref() };
            schema.member(name, raw.get());
        }
        if !has_index {
            changes.push(Change::new("columns_index", Op::Added));
            schema.raw("columns_index", &index()?);
        }
    }
    let mut out = String::with_capacity(value.len() + 8);
    out.push_str("{\"TsKvTableSchema\":");
    out.push_str(&schema.finish());
    out.push('}');
    Ok(Outcome::from_rebuilt(value, out, changes))
}

/// A TSKV schema for a release that refuses unknown members: exactly its members, in its order.
fn strict_schema(
    inner: &Object<'_>,
    shape: &Shape,
    version: Raw<'_>,
    schema: &mut ObjectWriter,
    changes: &mut Vec<Change>,
    index: impl Fn() -> Result<String, ShapeError>,
) -> Result<(), ShapeError> {
    for field in shape.names() {
        match (field, inner.get(field)) {
            ("schema_version", _) => schema.raw(field, version.get()),
            ("columns_index", None) => {
                changes.push(Change::new(field, Op::Added));
                schema.raw(field, &index()?)
            }
            (_, raw) => schema.raw(field, raw.map_or("null", |r| r.get())),
        };
    }
    changes.extend(
        inner
            .members
            .iter()
            .filter(|(n, _)| shape.field(n).is_none() && n != "schema_id")
            .map(|(n, _)| Change::new(n.as_ref(), Op::Removed)),
    );
    Ok(())
}

/// `{"<column>":index,…}` in `columns` order, as 2.4.3 rebuilds it.
fn columns_index(columns: Raw<'_>, release: Release) -> Result<String, ShapeError> {
    let list = columns
        .elements()
        .map_err(|_| ShapeError::wrong("columns", "an array", columns, release))?;
    let mut out = String::from("{");
    for (i, column) in list.iter().enumerate() {
        let col = column
            .object()
            .map_err(|_| ShapeError::wrong("columns", "an array of objects", *column, release))?;
        let name = col
            .get("name")
            .and_then(as_str)
            .ok_or_else(|| ShapeError::missing("columns.name", release))?;
        if i > 0 {
            out.push(',');
        }
        out.push_str(&quote(&name));
        out.push(':');
        out.push_str(&i.to_string());
    }
    out.push('}');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::Target;

    const AIR: &str = r#"{"TsKvTableSchema":{"tenant":"cnosdb","db":"public","name":"air","schema_id":0,"next_column_id":2,"columns":[{"id":0,"name":"time","column_type":{"Time":"Nanosecond"},"encoding":"Default"},{"id":1,"name":"station","column_type":"Tag","encoding":"Default"}],"columns_index":{"time":0,"station":1}}}"#;

    fn text(value: &str, t: Target) -> String {
        match patch_table(value, &Rules::new(t)).unwrap() {
            Outcome::Patched { value, .. } => value,
            Outcome::Unchanged => value.to_string(),
        }
    }

    #[test]
    fn per_target() {
        assert_eq!(text(AIR, Target::V2_4_0_1), AIR);
        let renamed = AIR.replace("schema_id", "schema_version");
        assert_eq!(text(AIR, Target::V2_4_1), renamed);
        assert_eq!(text(AIR, Target::V2_4_3), renamed);
        assert_eq!(text(&renamed, Target::V2_4_2_1), renamed);
        assert!(matches!(
            patch_table(&renamed, &Rules::new(Target::V2_4_0)).unwrap_err(),
            ShapeError::Newer { .. }
        ));
    }

    #[test]
    fn strict_target_keeps_exactly_the_known_fields() {
        let extra = AIR
            .replace(r#","columns_index":{"time":0,"station":1}"#, "")
            .replace(r#""schema_id":0,"#, r#""schema_id":0,"extra":[1],"#);
        let out = text(&extra, Target::V2_4_3);
        assert_eq!(out, AIR.replace("schema_id", "schema_version"));
        let kept = text(&extra, Target::V2_4_2);
        assert!(kept.contains(r#""extra":[1]"#));
    }

    #[test]
    fn other_engines_pass_and_garbage_fails() {
        let ext = r#"{"ExternalTableSchema":{"tenant":"t","db":"d","name":"e"}}"#;
        assert_eq!(
            patch_table(ext, &Rules::new(Target::V2_4_3)).unwrap(),
            Outcome::Unchanged
        );
        assert!(patch_table(r#"{"Nope":{}}"#, &Rules::new(Target::V2_4_3)).is_err());
        assert!(patch_table(
            r#"{"TsKvTableSchema":{"tenant":"t"}}"#,
            &Rules::new(Target::V2_4_3)
        )
        .is_err());
    }
}
