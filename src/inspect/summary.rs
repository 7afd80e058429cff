//! The summary of what was read: the [`Inspection`], its warnings, and its text for people.

use std::fmt::Write as _;

use super::reading::Reading;
use super::{DatabaseInfo, Db, Inspection, TableInfo, Tenant, TenantInfo, EXAMPLES};

impl Reading {
    /// The summary.
    pub(super) fn finish(mut self) -> Inspection {
        self.users.sort_by(|a, b| a.name.cmp(&b.name));
        let warnings = self.warnings();
        let detection = self.detector.detection();
        Inspection {
            form: self.form,
            clusters: self.clusters.into_iter().collect(),
            records: self.records,
            kinds: self.kinds,
            release: detection.describe(),
            release_by_kind: detection
                .by_kind
                .iter()
                .map(|(k, r)| (*k, r.to_string()))
                .collect(),
            tenants: self.tenants.into_iter().map(tenant_info).collect(),
            users: self.users,
            warnings,
            dropped_by_key: self.dropped,
        }
    }

    /// Things to look at before moving this dump.
    fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        let plaintext: Vec<&str> = (self.users.iter())
            .filter(|u| u.password == "plaintext")
            .map(|u| u.name.as_str())
            .collect();
        if !plaintext.is_empty() {
            warnings.push(format!(
                "plaintext passwords (2.3.0–2.3.3 leftovers; 2.4 cannot verify them): {}",
                plaintext.join(", ")
            ));
        }
        if self.unknown_count > 0 {
            warnings.push(format!(
                "{} unknown keys (kept as they are by transform), e.g. {}",
                self.unknown_count,
                self.unknown.join(", ")
            ));
        }
        let detection = self.detector.detection();
        if detection.is_mixed() {
            warnings.push(format!(
                "mixed shapes: records of different releases ({})",
                detection.kinds()
            ));
        }
        if self.clusters.len() > 1 {
            warnings.push(format!(
                "{} cluster names in one dump: {}",
                self.clusters.len(),
                self.clusters.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        if !self.malformed.is_empty() {
            let lines: Vec<String> = (self.malformed.iter().take(EXAMPLES))
                .map(u64::to_string)
                .collect();
            warnings.push(format!(
                "{} user or table records that do not parse, e.g. on line {}",
                self.malformed.len(),
                lines.join(", ")
            ));
        }
        if self.crlf_lines > 0 {
            warnings.push(format!("{} lines end in CR LF", self.crlf_lines));
        }
        warnings
    }
}

/// A tenant as the summary shows it.
fn tenant_info((name, t): (String, Tenant)) -> TenantInfo {
    TenantInfo {
        name,
        record: t.record,
        members: t.members,
        roles: t.roles,
        databases: t.dbs.into_iter().map(database_info).collect(),
    }
}

/// A database as the summary shows it.
fn database_info((name, d): (String, Db)) -> DatabaseInfo {
    DatabaseInfo {
        name,
        record: d.record,
        buckets: d.buckets,
        tables: (d.tables.into_iter())
            .map(|(name, (engine, columns))| TableInfo {
                name,
                engine,
                columns,
            })
            .collect(),
    }
}

impl Inspection {
    /// The summary for people.
    pub fn human(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "form: {}", self.form.unwrap_or("empty"));
        let clusters = match self.clusters.is_empty() {
            true => "none".to_string(),
            false => self.clusters.join(", "),
        };
        let _ = writeln!(s, "cluster: {clusters}");
        let _ = writeln!(s, "written by: CnosDB {}", self.release);
        let _ = writeln!(s, "records: {}", self.records);
        let width = self.kinds.keys().map(|k| k.len()).max().unwrap_or(0);
        for (kind, n) in &self.kinds {
            let _ = writeln!(s, "  {kind:<width$}  {n}");
        }
        let _ = writeln!(s, "tenants: {}", self.tenants.len());
        for t in &self.tenants {
            let absent = if t.record { "" } else { " (no tenant record)" };
            let _ = writeln!(
                s,
                "  {}{absent}: {} databases, {} members, {} roles",
                t.name,
                t.databases.len(),
                t.members,
                t.roles
            );
            for d in &t.databases {
                let absent = if d.record {
                    ""
                } else {
                    " (no database record)"
                };
                let _ = writeln!(
                    s,
                    "    {}{absent}: {} tables, {} buckets",
                    d.name,
                    d.tables.len(),
                    d.buckets
                );
                for tb in &d.tables {
                    let cols = tb.columns.map_or("?".into(), |c| c.to_string());
                    let _ = writeln!(s, "      {} {} {cols} columns", tb.name, tb.engine);
                }
            }
        }
        let _ = writeln!(s, "users: {}", self.users.len());
        for u in &self.users {
            let mut flags = vec![format!("password {}", u.password)];
            for (set, name) in [
                (u.admin, "admin"),
                (u.granted_admin, "granted_admin"),
                (u.must_change_password, "must_change_password"),
            ] {
                if set {
                    flags.push(name.into());
                }
            }
            let _ = writeln!(s, "  {}: {}", u.name, flags.join(", "));
        }
        if self.warnings.is_empty() {
            let _ = writeln!(s, "warnings: none");
        } else {
            let _ = writeln!(s, "warnings:");
            for w in &self.warnings {
                let _ = writeln!(s, "  - {w}");
            }
        }
        s
    }
}
