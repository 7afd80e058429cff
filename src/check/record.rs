//! The checks of one `KEY: VALUE` record, and of the records that need the whole file.

use super::codes::{self, drop_reason, Severity};
use super::{problem, Checker, Pending, Problem};
use crate::dump::{Key, KeyKind};
use crate::model::{
    self, drop_rule, is_invisible_name, unreadable_set, user_facts, Password, Record, Release,
    ShapeError,
};
use crate::target::Target;

/// How many findings a reason names.
const DETAILS: usize = 3;

impl Checker {
    /// One record whose key is valid text and not a duplicate.
    pub(super) fn record(&mut self, line: u64, key: &str, value: &str) {
        let Key { cluster, kind } = Key::parse(key);
        if let (Some(found), Some(expected)) = (cluster, self.cluster.as_deref()) {
            if found != expected {
                let reason = format!(
                    "cluster `{found}` is not the target's `{expected}`: 2.4 only reads keys of its \
                     own cluster (rename the cluster when transforming)"
                );
                self.push(line, Some(key), "other-cluster", reason);
            }
        }
        if kind == KeyKind::Unknown {
            self.unknown(line, key);
            return;
        }
        if let Some(rule) = drop_rule(&kind) {
            self.dropped(line, key, &kind, rule, value);
            return;
        }
        let Some(record) = Record::of(&kind) else {
            return;
        };
        self.remember(line, key, &kind, value);
        if record == Record::Table {
            // A send fails only when the judging thread panicked: its join reports that.
            self.tables.push(line, key, value, ());
        } else {
            let found = judge(self.target, line, key, kind.name(), record, value);
            self.problems.extend(found);
        }
        if let KeyKind::User { name } = kind {
            self.user(line, key, name, value);
        }
    }

    fn unknown(&mut self, line: u64, key: &str) {
        if is_invisible_name(key) {
            let reason = "a name containing `/` (or an empty name): 2.4 lists these records by \
                          prefix and skips any child with another `/`, so this one is invisible";
            self.push(line, Some(key), "invisible-name", reason.into());
        } else {
            self.unknown_keys += 1;
        }
    }

    /// A key every target drops.
    fn dropped(
        &mut self,
        line: u64,
        key: &str,
        kind: &KeyKind<'_>,
        rule: &'static str,
        value: &str,
    ) {
        if let KeyKind::Bucket { .. } = kind {
            let release = Release::from(self.target);
            if let Some((set, member)) = unreadable_set(value, release) {
                let reason = format!(
                    "bucket replication set {set} lacks `{member}`, which CnosDB {release} \
                     requires: the tenant fails to load (buckets must not move anyway)"
                );
                self.push(line, Some(key), "bucket-without-leader", reason);
                return;
            }
        }
        if rule == "drop.system-db" {
            let reason =
                "a record of the `cnosdb` system database `usage_schema`/`cluster_schema`: \
                          2.4 writes its own and this one would replace it";
            self.push(line, Some(key), "system-db", reason.into());
        } else {
            self.push(line, Some(key), rule, drop_reason(rule).into());
        }
    }

    /// What later records are judged against: users, roles, databases; members and tables
    /// wait for the end of the file.
    fn remember(&mut self, line: u64, key: &str, kind: &KeyKind<'_>, value: &str) {
        match *kind {
            KeyKind::User { .. } => {
                if let Some(id) = user_facts(value).and_then(|f| f.id) {
                    self.user_ids.insert(id);
                }
            }
            KeyKind::Role { tenant, role } => {
                self.roles.insert((tenant.to_string(), role.to_string()));
            }
            KeyKind::Database { tenant, db } => {
                self.dbs.insert((tenant.to_string(), db.to_string()));
            }
            KeyKind::Table { tenant, db, .. } => self.pending.push(Pending::Table {
                line,
                key: key.to_string(),
                tenant: tenant.to_string(),
                db: db.to_string(),
            }),
            KeyKind::Member { tenant, uid } => self.pending.push(Pending::Member {
                line,
                key: key.to_string(),
                tenant: tenant.to_string(),
                uid: uid.parse().ok(),
                role: model::custom_role(value),
            }),
            _ => {}
        }
    }

    /// The user checks the model does not make: password kind, source root, forced change.
    fn user(&mut self, line: u64, key: &str, name: &str, value: &str) {
        let Some(facts) = user_facts(value) else {
            return;
        };
        match facts.password {
            Password::Plaintext => {
                let reason = "the password is not a bcrypt hash: 2.4 cannot verify it, so the \
                              user cannot log in (transform hashes it)";
                self.push(line, Some(key), "plaintext-password", reason.into());
            }
            Password::None if name == "root" => {
                let reason = "`root` without a password (as 2.3 and 2.4.0 create it): it replaces \
                              the new cluster's root, and with authentication on nobody can log in \
                              as root";
                self.push(line, Some(key), "root-without-password", reason.into());
            }
            _ => {}
        }
        if facts.must_change_password && self.target.enforces_must_change_password() {
            let reason = format!(
                "`must_change_password` is set: {} refuses every statement of this user until \
                 the password is changed (2.3 never enforced it)",
                self.target
            );
            self.push(line, Some(key), "must-change-password", reason);
        }
    }

    /// Members and tables, now that every user, role and database is known.
    pub(super) fn resolve(&mut self) {
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
                        let reason = "member whose user id matches no user record: 2.4 leaves it \
                                      out of every listing";
                        self.push(line, Some(&key), "orphan-member", reason.into());
                    } else if let Some(role) = role {
                        if !self.roles.contains(&(tenant.clone(), role.clone())) {
                            let reason = format!(
                                "member of custom role `{role}`, which tenant `{tenant}` does not have"
                            );
                            self.push(line, Some(&key), "missing-role", reason);
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
                        let reason = format!(
                            "table of database `{tenant}.{db}`, which has no record in this file"
                        );
                        self.push(line, Some(&key), "orphan-table", reason);
                    }
                }
            }
        }
    }
}

/// Up to [`DETAILS`] findings, `; `-separated, and how many more.
fn details(findings: &[&ShapeError]) -> String {
    let mut parts: Vec<String> = findings
        .iter()
        .take(DETAILS)
        .map(|e| e.to_string())
        .collect();
    if findings.len() > DETAILS {
        parts.push(format!("and {} more", findings.len() - DETAILS));
    }
    parts.join("; ")
}

/// The model's findings on a value of `target`: one problem per code, or one `noncanonical` note when
/// the target reads the value but transform would write it otherwise.
pub(super) fn judge(
    target: Target,
    line: u64,
    key: &str,
    kind: &'static str,
    record: Record,
    value: &str,
) -> Vec<Problem> {
    let release = Release::from(target);
    let reading = model::read(value, record.ty(release), release);
    let mut out = Vec::new();
    let findings = reading.findings;
    let severity = |e: &ShapeError| codes::lookup(codes::of_finding(e)).severity;
    let problems: Vec<&ShapeError> = findings
        .iter()
        .filter(|e| severity(e) != Severity::Noncanonical)
        .collect();
    if !problems.is_empty() {
        // A tenant or database of another release: say which, once.
        let written = record.written_by(value);
        let other = matches!(record, Record::Tenant | Record::Database)
            && !written.is_any()
            && !written.iter().any(|r| r.target() == Some(target))
            && problems.iter().any(|e| severity(e) == Severity::Unreadable);
        let code_of = |e: &ShapeError| match severity(e) {
            Severity::Unreadable if other => "other-release-shape",
            _ => codes::of_finding(e),
        };
        let mut seen: Vec<&'static str> = Vec::new();
        for code in problems.iter().map(|e| code_of(e)) {
            if seen.contains(&code) {
                continue;
            }
            seen.push(code);
            let of_code: Vec<&ShapeError> = problems
                .iter()
                .copied()
                .filter(|e| code_of(e) == code)
                .collect();
            let shape = match code {
                "other-release-shape" => format!(" in the shape of CnosDB {written}:"),
                _ => String::new(),
            };
            let reason = format!("{} record{shape} {}", kind, details(&of_code));
            out.push(problem(line, Some(key), code, reason));
        }
        return out;
    }
    if reading.canonical {
        return out;
    }
    let reason = if findings.is_empty() {
        format!(
            "{} record written otherwise than CnosDB {target} writes it (member order or \
             spacing); the same meaning",
            kind
        )
    } else {
        let all: Vec<&ShapeError> = findings.iter().collect();
        format!("{} record {}", kind, details(&all))
    };
    out.push(problem(line, Some(key), "noncanonical", reason));
    out
}
