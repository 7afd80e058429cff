//! `check`: is a restore-ready file safe for one 2.4.x release? Lists every problem.
//!
//! The record shapes are the rules' own: a record is readable by the target when its patcher
//! (under [`Rules::new`], keeping `must_change_password` and passwords as they are) leaves it
//! unchanged. On top come the checks of the text itself, the keys that must not move, and the
//! hazards a readable record can still carry. Reasons never quote a value.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader, Read};

use serde::Serialize;

use crate::dump::{is_frame_line, Key, KeyKind, MAX_LINE_BYTES};
use crate::error::{Error, Result};
use crate::json::{as_str, as_u128, is_null, Object};
use crate::pipeline::{check_limiter, check_member, check_role, custom_role, drop_rule};
use crate::release::evidence;
use crate::report::HashingReader;
use crate::rules::{
    is_bcrypt, patch_database, patch_table, patch_tenant, patch_user, Change, Op, Outcome,
    PlaintextPolicy, Rules,
};
use crate::target::Target;

/// The four kinds of problem the issue names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// The text is not restore-ready (encoding, line shape, keys).
    Text,
    /// A key that must not move to the new cluster.
    MustNotMove,
    /// A record the target cannot read.
    Unreadable,
    /// A record the target reads, but which will hurt.
    Harmful,
}

/// One problem, located at a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// 1-based line number.
    pub line: u64,
    /// The key, when the line has one that is valid text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The kind of problem.
    pub class: Class,
    /// A stable short name (`duplicate-key`, `drop.bucket`, `old-field-name`, …).
    pub code: &'static str,
    /// One line for people; never a value of the record.
    pub reason: String,
}

/// Totals of a check; the last JSON line.
#[derive(Debug, Clone, Serialize)]
pub struct CheckSummary {
    /// Always true: tells the summary from the problems.
    pub summary: bool,
    /// The release checked against.
    pub target: String,
    /// True when no problem was found.
    pub ok: bool,
    /// Number of problems.
    pub problems: usize,
    /// Lines read.
    pub lines: u64,
    /// `KEY: VALUE` records read.
    pub records: u64,
    /// Keys the tool does not know (kept by transform, so not a problem).
    pub unknown_keys: u64,
    /// Size of the input.
    pub bytes: u64,
    /// SHA-256 of the input, hex: compare it with the transform report's `output_sha256`.
    pub sha256: String,
}

/// Everything a check found.
#[derive(Debug, Clone)]
pub struct CheckReport {
    /// The problems, in line order.
    pub problems: Vec<Problem>,
    /// Totals.
    pub summary: CheckSummary,
}

/// A record whose verdict needs the whole file (member → user, role; table → database).
enum Pending {
    Member {
        line: u64,
        key: String,
        tenant: String,
        uid: Option<u128>,
        role: Option<String>,
    },
    Table {
        line: u64,
        key: String,
        tenant: String,
        db: String,
    },
}

struct Checker {
    rules: Rules,
    cluster: Option<String>,
    problems: Vec<Problem>,
    seen: HashMap<u128, u64>,
    user_ids: HashSet<u128>,
    roles: HashSet<(String, String)>,
    dbs: HashSet<(String, String)>,
    pending: Vec<Pending>,
    records: u64,
    unknown_keys: u64,
}

/// Checks the restore-ready text read from `input` against `target` (and, when known, the
/// target's cluster name). Fails only on I/O errors.
pub fn check<R: Read>(input: R, target: Target, cluster: Option<&str>) -> Result<CheckReport> {
    let mut rules = Rules::new(target);
    rules.keep_must_change_password = true;
    rules.plaintext = PlaintextPolicy::Keep;
    let mut c = Checker {
        rules,
        cluster: cluster.map(str::to_string),
        problems: Vec::new(),
        seen: HashMap::new(),
        user_ids: HashSet::new(),
        roles: HashSet::new(),
        dbs: HashSet::new(),
        pending: Vec::new(),
        records: 0,
        unknown_keys: 0,
    };
    let mut reader = BufReader::with_capacity(256 << 10, HashingReader::new(input, true));
    let mut buf = Vec::new();
    let mut line = 0u64;
    loop {
        buf.clear();
        let n = (&mut reader)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(|e| Error::io("reading the input", e))?;
        if n == 0 {
            break;
        }
        line += 1;
        if buf.last() == Some(&b'\n') {
            buf.pop();
        } else if buf.len() > MAX_LINE_BYTES {
            c.text(
                line,
                None,
                "line-too-long",
                format!(
                    "line longer than {} MiB: not a meta dump line",
                    MAX_LINE_BYTES >> 20
                ),
            );
            skip_line(&mut reader)?;
            continue;
        }
        c.line(line, &buf);
    }
    c.resolve();
    c.problems.sort_by_key(|p| (p.line, p.class));
    let (sha256, bytes) = reader.into_inner().finish();
    Ok(CheckReport {
        summary: CheckSummary {
            summary: true,
            target: target.to_string(),
            ok: c.problems.is_empty(),
            problems: c.problems.len(),
            lines: line,
            records: c.records,
            unknown_keys: c.unknown_keys,
            bytes,
            sha256,
        },
        problems: c.problems,
    })
}

/// Consumes the rest of an over-long line.
fn skip_line(reader: &mut impl BufRead) -> Result<()> {
    loop {
        let chunk = reader
            .fill_buf()
            .map_err(|e| Error::io("reading the input", e))?;
        if chunk.is_empty() {
            return Ok(());
        }
        match memchr::memchr(b'\n', chunk) {
            Some(i) => {
                reader.consume(i + 1);
                return Ok(());
            }
            None => {
                let n = chunk.len();
                reader.consume(n);
            }
        }
    }
}

/// A 128-bit fingerprint of a key, for the duplicate check.
pub(crate) fn fingerprint(key: &str) -> u128 {
    let half = |seed: u8| {
        let mut h = DefaultHasher::new();
        seed.hash(&mut h);
        key.hash(&mut h);
        h.finish() as u128
    };
    (half(0) << 64) | half(1)
}

/// Why a dropped key must not move, by transform's rule.
fn drop_reason(rule: &str) -> &'static str {
    match rule {
        "drop.global" => "a global key of the source store (`/data_version`, `/already_init_key`, `/test_alive`): the target keeps its own",
        "drop.auto-incr-id" => "the source's id counter: restoring it makes the target reuse bucket and vnode ids",
        "drop.data-node" => "describes a data node of the source cluster: the target would place vnodes on a node that does not exist",
        "drop.bucket" => "a bucket of the source cluster: its vnodes name the old data nodes' directories; 2.4 creates its own buckets",
        "drop.resource-info" => "background-task state of the source cluster",
        "drop.query" => "a running query of the source cluster (transient state)",
        _ => "transform never moves this key",
    }
}

impl Checker {
    fn push(
        &mut self,
        line: u64,
        key: Option<&str>,
        class: Class,
        code: &'static str,
        mut reason: String,
    ) {
        // One line: a name taken from a key or a value may hold a CR or (decoded) an LF.
        if reason.contains(['\n', '\r']) {
            reason = reason.replace('\n', "\\n").replace('\r', "\\r");
        }
        self.problems.push(Problem {
            line,
            key: key.map(str::to_string),
            class,
            code,
            reason,
        });
    }

    fn text(&mut self, line: u64, key: Option<&str>, code: &'static str, reason: String) {
        self.push(line, key, Class::Text, code, reason);
    }

    /// One physical line, without its LF.
    fn line(&mut self, line: u64, mut bytes: &[u8]) {
        if let Some(rest) = bytes.strip_suffix(b"\r") {
            self.text(
                line,
                None,
                "crlf",
                "line ends in CR LF: restore keeps the CR inside the value (a plain value then reads wrong)".into(),
            );
            bytes = rest;
        }
        if bytes.is_empty() {
            self.text(
                line,
                None,
                "blank-line",
                "blank line: a restore-ready file has none".into(),
            );
            return;
        }
        if memchr::memchr(0, bytes).is_some() {
            self.text(
                line,
                None,
                "nul",
                "NUL byte: the file is binary or corrupt".into(),
            );
            return;
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            self.text(
                line,
                None,
                "invalid-utf8",
                "invalid UTF-8: 2.4 stores U+FFFD in its place (the file was damaged or re-encoded)".into(),
            );
            return;
        };
        if is_frame_line(bytes) {
            self.text(
                line,
                None,
                "debug-frame",
                "a /debug frame line left in: run the file through transform".into(),
            );
            return;
        }
        if text.starts_with("* ") {
            self.text(
                line,
                None,
                "debug-prefix",
                "a /debug record line (`* ` prefix left in): restore would store the key with the `* `".into(),
            );
            return;
        }
        let Some((key, value)) = text.split_once(": ") else {
            self.text(
                line,
                None,
                "no-separator",
                "no \": \" separator: restore skips this line".into(),
            );
            return;
        };
        if key.is_empty() {
            self.text(
                line,
                None,
                "empty-key",
                "empty key (the line starts with \": \")".into(),
            );
            return;
        }
        if !key.starts_with('/') {
            self.text(
                line,
                Some(key),
                "key-without-slash",
                "key does not start with `/`".into(),
            );
            return;
        }
        self.records += 1;
        if let Some(first) = self.seen.insert(fingerprint(key), line) {
            self.text(
                line,
                Some(key),
                "duplicate-key",
                format!("duplicate key (also on line {first}): the later line silently wins"),
            );
            return;
        }
        self.record(line, key, value);
    }

    fn record(&mut self, line: u64, key: &str, value: &str) {
        let Key { cluster, kind } = Key::parse(key);
        if let (Some(found), Some(expected)) = (cluster, self.cluster.as_deref()) {
            if found != expected {
                let reason = format!(
                    "cluster `{found}` is not the target's `{expected}`: 2.4 only reads keys of its \
                     own cluster (transform --rename-cluster {expected})"
                );
                self.push(line, Some(key), Class::Harmful, "other-cluster", reason);
            }
        }
        if kind == KeyKind::Unknown {
            self.unknown(line, key);
            return;
        }
        if let Some(rule) = drop_rule(&kind) {
            if let KeyKind::Bucket { .. } = kind {
                if let Some(set) = leaderless_set(value) {
                    self.push(
                        line,
                        Some(key),
                        Class::Unreadable,
                        "bucket-without-leader",
                        format!(
                            "bucket replication set {set} has no `leader_node_id`/`leader_vnode_id`: \
                             2.4 cannot read it and the tenant fails to load (buckets must not move anyway)"
                        ),
                    );
                    return;
                }
            }
            if rule == "drop.system-db" {
                self.push(
                    line,
                    Some(key),
                    Class::Harmful,
                    "system-db",
                    "a record of the `cnosdb` system database `usage_schema`/`cluster_schema`: \
                     2.4 writes its own and this one would replace it"
                        .into(),
                );
            } else {
                self.push(
                    line,
                    Some(key),
                    Class::MustNotMove,
                    rule,
                    drop_reason(rule).into(),
                );
            }
            return;
        }
        let rules = &self.rules;
        let outcome = match kind {
            KeyKind::User { name } => {
                self.user(line, key, name, value);
                patch_user(value, &self.rules)
            }
            KeyKind::Tenant { .. } => patch_tenant(value, rules),
            KeyKind::Database { tenant, db } => {
                self.dbs.insert((tenant.to_string(), db.to_string()));
                patch_database(value, rules)
            }
            KeyKind::Table { tenant, db, .. } => {
                self.pending.push(Pending::Table {
                    line,
                    key: key.to_string(),
                    tenant: tenant.to_string(),
                    db: db.to_string(),
                });
                patch_table(value, rules)
            }
            KeyKind::Member { tenant, uid } => {
                self.pending.push(Pending::Member {
                    line,
                    key: key.to_string(),
                    tenant: tenant.to_string(),
                    uid: uid.parse().ok(),
                    role: custom_role(value),
                });
                check_member(value).map(|()| Outcome::Unchanged)
            }
            KeyKind::Role { tenant, role } => {
                self.roles.insert((tenant.to_string(), role.to_string()));
                check_role(value, rules.target).map(|()| Outcome::Unchanged)
            }
            KeyKind::Limiter { .. } => check_limiter(value).map(|()| Outcome::Unchanged),
            _ => Ok(Outcome::Unchanged),
        };
        match outcome {
            Ok(Outcome::Unchanged) => {}
            // Only spacing or member order differ: the target reads it.
            Ok(Outcome::Patched { changes, .. }) if changes.is_empty() => {}
            Ok(Outcome::Patched { changes, .. }) => {
                self.reshaped(line, key, &kind, value, &changes)
            }
            Err(msg) => self.malformed(line, key, &kind, &msg),
        }
    }

    fn unknown(&mut self, line: u64, key: &str) {
        if is_invisible_name(key) {
            self.text(
                line,
                Some(key),
                "invisible-name",
                "a name containing `/` (or an empty name): 2.4 lists these records by prefix and \
                 skips any child with another `/`, so this one is invisible"
                    .into(),
            );
        } else {
            self.unknown_keys += 1;
        }
    }

    /// The user checks the shape rules do not make: password kind, source root, forced change.
    fn user(&mut self, line: u64, key: &str, name: &str, value: &str) {
        let Ok(user) = Object::parse(value) else {
            return;
        };
        if let Some(id) = user.get("id").and_then(as_u128) {
            self.user_ids.insert(id);
        }
        let Ok(options) = user.object("options") else {
            return;
        };
        let password = options
            .get("hash_password")
            .or_else(|| options.get("password"))
            .filter(|raw| !is_null(*raw));
        match password.map(as_str) {
            Some(Some(pw)) if !is_bcrypt(&pw) => self.push(
                line,
                Some(key),
                Class::Harmful,
                "plaintext-password",
                "the password is not a bcrypt hash: 2.4 cannot verify it, so the user cannot log in \
                 (transform hashes it)"
                    .into(),
            ),
            None if name == "root" => self.push(
                line,
                Some(key),
                Class::Harmful,
                "root-without-password",
                "`root` without a password (2.3's initial root): it replaces the new cluster's root, \
                 and with authentication on nobody can log in as root"
                    .into(),
            ),
            _ => {}
        }
        let must_change = options
            .get("must_change_password")
            .is_some_and(|raw| raw.get() == "true");
        if must_change && self.rules.target.enforces_must_change_password() {
            self.push(
                line,
                Some(key),
                Class::Harmful,
                "must-change-password",
                format!(
                    "`must_change_password` is set: {} refuses every statement of this user until \
                     the password is changed",
                    self.rules.target
                ),
            );
        }
    }

    /// A record the rules would rebuild: it is not in the target's shape.
    fn reshaped(
        &mut self,
        line: u64,
        key: &str,
        kind: &KeyKind<'_>,
        value: &str,
        changes: &[Change],
    ) {
        let target = self.rules.target;
        let shape = evidence(key, kind, value).0;
        let other_release = matches!(kind, KeyKind::Tenant { .. } | KeyKind::Database { .. })
            && !shape.is_any()
            && !shape.iter().any(|r| r.target() == Some(target));
        let has = |f: fn(&Op) -> bool| changes.iter().any(|c| f(&c.op));
        let code = if other_release {
            "other-release-shape"
        } else if has(|op| matches!(op, Op::RenamedFrom(_))) {
            "old-field-name"
        } else if has(|op| *op == Op::Removed) {
            "unknown-field"
        } else if has(|op| *op == Op::Added) {
            "missing-field"
        } else {
            "other-release-shape"
        };
        let mut details: Vec<String> = changes
            .iter()
            .take(3)
            .map(|c| match &c.op {
                Op::Added => format!("`{}` missing", c.field),
                Op::Removed => format!("unknown field `{}`", c.field),
                Op::RenamedFrom(old) => format!("`{old}` is named `{}` in {target}", c.field),
                Op::Converted | Op::Hashed => format!("`{}` in another release's format", c.field),
            })
            .collect();
        if changes.len() > 3 {
            details.push(format!("{} more", changes.len() - 3));
        }
        let shape = if other_release {
            format!(" (written by {shape})")
        } else {
            String::new()
        };
        let reason = format!(
            "{} record not in the {target} shape{shape}: {}",
            kind.name(),
            details.join(", ")
        );
        self.push(line, Some(key), Class::Unreadable, code, reason);
    }

    /// A record the rules refuse.
    fn malformed(&mut self, line: u64, key: &str, kind: &KeyKind<'_>, msg: &str) {
        let target = self.rules.target;
        let (code, what) =
            if let Some((what, _)) = msg.split_once(", a shape written by a release newer") {
                (
                    "other-release-shape",
                    format!("{what}: a shape newer than {target}"),
                )
            } else if msg.starts_with("missing") {
                ("missing-field", msg.to_string())
            } else if msg.starts_with("is not valid JSON") || msg.starts_with("is JSON but not") {
                ("not-json", msg.to_string())
            } else if msg.contains("is not a") || msg.contains("wrong type") {
                ("wrong-type", msg.to_string())
            } else {
                ("malformed", msg.to_string())
            };
        let reason = format!("{} record {what}", kind.name());
        self.push(line, Some(key), Class::Unreadable, code, reason);
    }

    /// Members and tables, now that every user, role and database is known.
    fn resolve(&mut self) {
        for p in std::mem::take(&mut self.pending) {
            match p {
                Pending::Member {
                    line,
                    key,
                    tenant,
                    uid,
                    role,
                } => {
                    if !uid.is_some_and(|u| self.user_ids.contains(&u)) {
                        self.push(
                            line,
                            Some(&key),
                            Class::Harmful,
                            "orphan-member",
                            "member whose user id matches no user record: 2.4 leaves it out of \
                             every listing"
                                .into(),
                        );
                    } else if let Some(role) = role {
                        if !self.roles.contains(&(tenant.clone(), role.clone())) {
                            self.push(
                                line,
                                Some(&key),
                                Class::Harmful,
                                "missing-role",
                                format!("member of custom role `{role}`, which tenant `{tenant}` does not have"),
                            );
                        }
                    }
                }
                Pending::Table {
                    line,
                    key,
                    tenant,
                    db,
                } => {
                    if !self.dbs.contains(&(tenant.clone(), db.clone())) {
                        self.push(
                            line,
                            Some(&key),
                            Class::Harmful,
                            "orphan-table",
                            format!("table of database `{tenant}.{db}`, which has no record in this file"),
                        );
                    }
                }
            }
        }
    }
}

/// True for a key of unknown kind that is really a user, tenant or tenant object whose name holds
/// a `/` (or is empty): 2.4 cannot list it.
pub fn is_invisible_name(key: &str) -> bool {
    if Key::parse(key).kind != KeyKind::Unknown {
        return false;
    }
    let segments: Vec<&str> = key.strip_prefix('/').unwrap_or(key).split('/').collect();
    segments.iter().any(|s| s.is_empty()) || matches!(segments.get(1), Some(&("users" | "tenants")))
}

/// The id of the first replication set without leader fields, if any.
fn leaderless_set(value: &str) -> Option<String> {
    let top = Object::parse(value).ok()?;
    let groups = top.get("shard_group")?;
    let sets = groups.elements().ok()?;
    sets.iter().find_map(|s| {
        let set = s.object().ok()?;
        (!set.has("leader_node_id") || !set.has("leader_vnode_id"))
            .then(|| set.get("id").map_or("?".into(), |id| id.get().to_string()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(text: &str, t: Target) -> Vec<(u64, &'static str)> {
        check(text.as_bytes(), t, None)
            .unwrap()
            .problems
            .iter()
            .map(|p| (p.line, p.code))
            .collect()
    }

    #[test]
    fn expected_transform_outputs_are_clean() {
        for t in Target::ALL {
            for size in ["small", "full"] {
                let path = format!("fixtures/expected/{size}.{t}.txt");
                let text = std::fs::read_to_string(&path).unwrap();
                // The placeholder stands for a fresh hash; any bcrypt hash will do.
                let text = text.replace(
                    "<BCRYPT-OF:secret-pw>",
                    "$2b$12$UXtD3jygSi76oO2IyV/UHeC2TqqD3SBp0yxoyp3intrNueiHVjri6",
                );
                let report = check(text.as_bytes(), t, None).unwrap();
                assert!(report.problems.is_empty(), "{path}: {:?}", report.problems);
            }
        }
    }

    #[test]
    fn a_2_3_dump_fails_everywhere() {
        let text = std::fs::read_to_string("fixtures/v2.3/small.dump.txt").unwrap();
        let found = codes(&text, Target::V2_4_3);
        assert!(found.contains(&(1, "drop.auto-incr-id")), "{found:?}");
        assert!(found.contains(&(5, "bucket-without-leader")), "{found:?}");
        assert!(found.contains(&(10, "root-without-password")), "{found:?}");
        assert!(found.contains(&(11, "old-field-name")), "{found:?}");
    }

    #[test]
    fn text_problems_do_not_stop_the_scan() {
        let text = "/a: 1\r\n\n* /b: 2\n/c 3\n: 4\n/d: \u{0}\n/data_version: 1\n/data_version: 2\n";
        assert_eq!(
            codes(text, Target::V2_4_0),
            [
                (1, "crlf"),
                (2, "blank-line"),
                (3, "debug-prefix"),
                (4, "no-separator"),
                (5, "empty-key"),
                (6, "nul"),
                (7, "drop.global"),
                (8, "duplicate-key"),
            ]
        );
        let bad_utf8 = check(&b"/a: \xff\n/b/x: 1\n"[..], Target::V2_4_0, None).unwrap();
        assert_eq!(bad_utf8.problems[0].code, "invalid-utf8");
        assert_eq!(bad_utf8.summary.records, 1);
    }

    #[test]
    fn keys_of_another_cluster() {
        let text = std::fs::read_to_string("fixtures/expected/small.2.4.3.txt").unwrap();
        assert!(
            check(text.as_bytes(), Target::V2_4_3, Some("cluster_xxx"))
                .unwrap()
                .summary
                .ok
        );
        let report = check(text.as_bytes(), Target::V2_4_3, Some("prod")).unwrap();
        assert_eq!(report.problems.len(), 5);
        assert!(report.problems.iter().all(|p| p.code == "other-cluster"));
    }

    #[test]
    fn invisible_names() {
        assert!(is_invisible_name("/c/users/a/b"));
        assert!(is_invisible_name("/c/tenants/t/dbs/d/schemas/a/b"));
        assert!(is_invisible_name("/c//users"));
        assert!(!is_invisible_name("/c/users/a"));
        assert!(!is_invisible_name("/c/foo/bar"));
    }

    #[test]
    fn reasons_never_quote_user_values() {
        let u = r#"{"id":7,"name":"dave","options":{"password":"secret-pw"},"is_admin":false}"#;
        let report = check(
            format!("/c/users/dave: {u}\n").as_bytes(),
            Target::V2_4_1,
            None,
        )
        .unwrap();
        assert!(report.problems.len() >= 2);
        for p in &report.problems {
            assert!(!p.reason.contains("secret-pw"), "{p:?}");
        }
    }
}
