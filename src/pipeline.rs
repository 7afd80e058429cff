//! The transform: read records, decide each one's fate by the rules, write the kept ones.

use std::collections::HashSet;
use std::io::{Read, Write};

use crate::dump::{DumpReader, Key, KeyKind, Record};
use crate::error::{Error, InputError, Result};
use crate::filter::{rename_cluster, Filter};
use crate::json::{as_str, is_null, Object};
use crate::report::{Action, Entry, HashingReader, HashingWriter, Observer, Summary};
use crate::rules::{patch_database, patch_table, patch_tenant, patch_user, Op, Outcome, Rules};

/// Everything `transform` can be asked to do besides the target's record rules.
#[derive(Debug, Clone)]
pub struct TransformOptions {
    /// The record rules (target, database config, password policy).
    pub rules: Rules,
    /// Which tenants and databases move.
    pub filter: Filter,
    /// The new cluster name, if it changes.
    pub rename_cluster: Option<String>,
    /// Leave the source's `root` user and its memberships out.
    pub keep_target_root: bool,
}

impl TransformOptions {
    /// The defaults for `rules`.
    pub fn new(rules: Rules) -> Self {
        TransformOptions {
            rules,
            filter: Filter::default(),
            rename_cluster: None,
            keep_target_root: false,
        }
    }
}

/// The rule that drops a record whatever the target, if any.
pub fn drop_rule(kind: &KeyKind<'_>) -> Option<&'static str> {
    Some(match kind {
        KeyKind::DataVersion | KeyKind::AlreadyInit | KeyKind::TestAlive => "drop.global",
        KeyKind::AutoIncrId => "drop.auto-incr-id",
        KeyKind::DataNode | KeyKind::DataNodeMetrics => "drop.data-node",
        KeyKind::Bucket { .. } => "drop.bucket",
        KeyKind::ResourceInfo => "drop.resource-info",
        KeyKind::Query => "drop.query",
        _ if is_system_db(kind) => "drop.system-db",
        _ => return None,
    })
}

/// True for records of the `cnosdb` tenant's `usage_schema` and `cluster_schema` databases,
/// which every 2.4 cluster writes for itself.
pub fn is_system_db(kind: &KeyKind<'_>) -> bool {
    kind.tenant() == Some("cnosdb")
        && matches!(kind.database(), Some("usage_schema" | "cluster_schema"))
}

/// A member record held back until every user and role has been seen.
struct Member {
    line: u64,
    key: String,
    tenant_end: usize,
    value: String,
}

struct Run<'o, W: Write> {
    opts: &'o TransformOptions,
    out: HashingWriter<W>,
    observer: &'o mut dyn Observer,
    summary: Summary,
    user_ids: HashSet<String>,
    roles: HashSet<(String, String)>,
    root_id: Option<String>,
    members: Vec<Member>,
}

/// Converts the dump read from `input` and writes the restore-ready records to `output`.
///
/// Reports every record's fate to `observer`. On error, what was written to `output` is
/// incomplete: callers write to an [`crate::output::Output`] and commit only on success.
pub fn transform<R: Read, W: Write>(
    input: R,
    output: W,
    opts: &TransformOptions,
    observer: &mut dyn Observer,
) -> Result<Summary> {
    let mut reader = DumpReader::new(HashingReader::new(input));
    let mut run = Run {
        opts,
        out: HashingWriter::new(output),
        observer,
        summary: Summary::new(opts.rules.target),
        user_ids: HashSet::new(),
        roles: HashSet::new(),
        root_id: None,
        members: Vec::new(),
    };
    let mut prev_key = String::new();
    let mut prev_line = 0;
    while let Some(rec) = reader.next_record()? {
        if rec.key == prev_key {
            return Err(InputError::at(
                rec.line,
                format!(
                    "duplicate key {} (also on line {prev_line}); a dump holds each key once: \
                     two dumps were concatenated or the file was edited",
                    rec.key
                ),
            )
            .into());
        }
        prev_key.clear();
        prev_key.push_str(rec.key);
        prev_line = rec.line;
        run.record(rec)?;
    }
    run.summary.form = reader.form().map(|f| f.name());
    run.summary.input_records = reader.records();
    run.summary.crlf_lines = reader.crlf_lines();
    let (input_sha, input_bytes) = reader.into_inner().finish();
    run.summary.input_sha256 = input_sha;
    run.summary.input_bytes = input_bytes;
    run.flush_members()?;
    let Run {
        out, mut summary, ..
    } = run;
    let (output_sha, output_bytes, mut inner) = out.finish();
    inner
        .flush()
        .map_err(|e| Error::io("writing the output", e))?;
    summary.output_sha256 = output_sha;
    summary.output_bytes = output_bytes;
    Ok(summary)
}

impl<W: Write> Run<'_, W> {
    fn record(&mut self, rec: Record<'_>) -> Result<()> {
        let key = Key::parse(rec.key);
        let kind = key.kind;
        if let Some(rule) = drop_rule(&kind) {
            return self.dropped(&rec, &kind, rule);
        }
        if !self.opts.filter.selects(&kind) {
            return self.dropped(&rec, &kind, "drop.filtered");
        }
        let rules = &self.opts.rules;
        let bad = |msg: String| -> Error {
            InputError::at(
                rec.line,
                format!(
                    "{} record {}: the value {msg}; fix or remove this record",
                    kind.name(),
                    rec.key
                ),
            )
            .into()
        };
        let (rule, outcome) = match kind {
            KeyKind::Member { uid, .. } => {
                check_member(rec.value).map_err(bad)?;
                let tenant_end = rec.key.len() - uid.len();
                self.members.push(Member {
                    line: rec.line,
                    key: rec.key.to_string(),
                    tenant_end,
                    value: rec.value.to_string(),
                });
                return Ok(());
            }
            KeyKind::User { name } => {
                let (id, no_password) = user_identity(rec.value).map_err(bad)?;
                if name == "root" && (self.opts.keep_target_root || no_password) {
                    self.root_id = Some(id);
                    return self.dropped(&rec, &kind, "drop.source-root");
                }
                self.user_ids.insert(id);
                ("user", patch_user(rec.value, rules).map_err(bad)?)
            }
            KeyKind::Role { tenant, role } => {
                self.roles.insert((tenant.to_string(), role.to_string()));
                ("role", Outcome::Unchanged)
            }
            KeyKind::Tenant { .. } => ("tenant", patch_tenant(rec.value, rules).map_err(bad)?),
            KeyKind::Database { .. } => {
                ("database", patch_database(rec.value, rules).map_err(bad)?)
            }
            KeyKind::Table { .. } => ("table", patch_table(rec.value, rules).map_err(bad)?),
            KeyKind::Limiter { .. } => ("limiter", Outcome::Unchanged),
            _ => {
                self.summary.unknown_keys += 1;
                ("unknown", Outcome::Unchanged)
            }
        };
        if let (Outcome::Patched { changes, .. }, KeyKind::User { name }) = (&outcome, kind) {
            if changes.iter().any(|c| c.op == Op::Hashed) {
                self.summary.hashed_password_users.push(name.to_string());
            }
        }
        self.write(&rec, key, rule, outcome)
    }

    fn write(
        &mut self,
        rec: &Record<'_>,
        key: Key<'_>,
        rule: &'static str,
        outcome: Outcome,
    ) -> Result<()> {
        let new_key = match (&self.opts.rename_cluster, key.cluster) {
            (Some(new), Some(old)) if new != old => Some(rename_cluster(rec.key, old, new)),
            _ => None,
        };
        let (value, changes, action) = match &outcome {
            Outcome::Patched { value, changes } => (value.as_str(), changes.as_slice(), Action::Patched),
            Outcome::Unchanged if new_key.is_some() => (rec.value, &[][..], Action::Renamed),
            Outcome::Unchanged => (rec.value, &[][..], Action::Kept),
        };
        let written_key = new_key.as_deref().unwrap_or(rec.key);
        let out = &mut self.out;
        out.write_all(written_key.as_bytes())
            .and_then(|()| out.write_all(b": "))
            .and_then(|()| out.write_all(value.as_bytes()))
            .and_then(|()| out.write_all(b"\n"))
            .map_err(|e| Error::io("writing the output", e))?;
        self.observe(Entry {
            line: rec.line,
            key: rec.key,
            new_key: new_key.as_deref(),
            kind: key.kind.name(),
            action,
            rule,
            changes,
        })
    }

    fn dropped(&mut self, rec: &Record<'_>, kind: &KeyKind<'_>, rule: &'static str) -> Result<()> {
        self.observe(Entry {
            line: rec.line,
            key: rec.key,
            new_key: None,
            kind: kind.name(),
            action: Action::Dropped,
            rule,
            changes: &[],
        })
    }

    fn observe(&mut self, entry: Entry<'_>) -> Result<()> {
        self.summary.count(&entry);
        self.observer.entry(&entry)
    }

    /// Writes (or drops) the held-back member records, now that every user and role is known.
    fn flush_members(&mut self) -> Result<()> {
        for m in std::mem::take(&mut self.members) {
            let rec = Record {
                line: m.line,
                offset: 0,
                key: &m.key,
                value: &m.value,
            };
            let key = Key::parse(&m.key);
            let uid = &m.key[m.tenant_end..];
            let tenant = key.kind.tenant().unwrap_or_default();
            let missing_role = custom_role(&m.value)
                .is_some_and(|role| !self.roles.contains(&(tenant.to_string(), role)));
            if self.root_id.as_deref() == Some(uid) {
                self.dropped(&rec, &key.kind, "drop.source-root")?;
            } else if !self.user_ids.contains(uid) || missing_role {
                self.dropped(&rec, &key.kind, "drop.orphan-member")?;
            } else {
                self.write(&rec, key, "member", Outcome::Unchanged)?;
            }
        }
        Ok(())
    }
}

/// A user's id (raw text) and whether it has no password.
fn user_identity(value: &str) -> Result<(String, bool), String> {
    let user = Object::parse(value)?;
    let id = user.get("id").ok_or("has no `id`")?;
    let options = user.object("options")?;
    let password = options
        .get("password")
        .or_else(|| options.get("hash_password"));
    Ok((id.get().to_string(), password.is_none_or(is_null)))
}

/// Checks a member value: `{"System":"Owner"|"Member"}` or `{"Custom":"<role>"}`.
pub fn check_member(value: &str) -> Result<(), String> {
    let o = Object::parse(value)?;
    match o.members.as_slice() {
        [(tag, v)] if tag == "System" && matches!(v.get(), "\"Owner\"" | "\"Member\"") => Ok(()),
        [(tag, v)] if tag == "Custom" && as_str(v).is_some() => Ok(()),
        _ => Err("is not a tenant role (`{\"System\":\"Owner\"|\"Member\"}` or `{\"Custom\":\"role\"}`)".into()),
    }
}

/// The role name of a `{"Custom":"<role>"}` member value.
pub fn custom_role(value: &str) -> Option<String> {
    let o = Object::parse(value).ok()?;
    o.get("Custom").and_then(as_str).map(|s| s.into_owned())
}
