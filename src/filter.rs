//! Which tenants and databases move, and the cluster name they move to.

use clap::Args;

use crate::dump::KeyKind;

/// Selection of tenants and databases, shared by every command that reads a dump.
#[derive(Debug, Clone, Default, Args)]
pub struct Filter {
    /// Move only this tenant (repeatable); its roles, members, limiter, databases and tables go with it.
    #[arg(long = "include-tenant", value_name = "TENANT")]
    pub include_tenants: Vec<String>,
    /// Leave this tenant out (repeatable).
    #[arg(long = "exclude-tenant", value_name = "TENANT")]
    pub exclude_tenants: Vec<String>,
    /// Leave this database out, written TENANT.DB (repeatable); its tables go with it.
    #[arg(long = "exclude-db", value_name = "TENANT.DB", value_parser = parse_tenant_db)]
    pub exclude_dbs: Vec<(String, String)>,
}

fn parse_tenant_db(s: &str) -> Result<(String, String), String> {
    match s.split_once('.') {
        Some((t, d)) if !t.is_empty() && !d.is_empty() => Ok((t.to_string(), d.to_string())),
        _ => Err(format!("`{s}` is not TENANT.DB")),
    }
}

impl Filter {
    /// True when the filter lets a tenant through.
    pub fn tenant_selected(&self, tenant: &str) -> bool {
        (self.include_tenants.is_empty() || self.include_tenants.iter().any(|t| t == tenant))
            && !self.exclude_tenants.iter().any(|t| t == tenant)
    }

    /// True when the filter lets a database through.
    pub fn db_selected(&self, tenant: &str, db: &str) -> bool {
        self.tenant_selected(tenant) && !self.exclude_dbs.iter().any(|(t, d)| t == tenant && d == db)
    }

    /// True when a record of this kind is selected; records outside any tenant (users,
    /// global keys) always are.
    pub fn selects(&self, kind: &KeyKind<'_>) -> bool {
        match (kind.tenant(), kind.database()) {
            (Some(t), Some(d)) => self.db_selected(t, d),
            (Some(t), None) => self.tenant_selected(t),
            _ => true,
        }
    }
}

/// Rewrites the cluster segment of a key: `/{old}/rest` becomes `/{new}/rest`.
pub fn rename_cluster(key: &str, cluster: &str, new_name: &str) -> String {
    let rest = &key[1 + cluster.len()..];
    let mut out = String::with_capacity(key.len() + new_name.len());
    out.push('/');
    out.push_str(new_name);
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dump::Key;

    #[test]
    fn tenant_and_db_selection() {
        let f = Filter {
            include_tenants: vec![],
            exclude_tenants: vec!["t2".into()],
            exclude_dbs: vec![("t1".into(), "old".into())],
        };
        let sel = |k: &str| f.selects(&Key::parse(k).kind);
        assert!(sel("/c/tenants/t1/dbs/db"));
        assert!(!sel("/c/tenants/t1/dbs/old/schemas/x"));
        assert!(sel("/c/tenants/t1/dbs/older"));
        assert!(!sel("/c/tenants/t2/members/1"));
        assert!(sel("/c/users/u"));
        let only = Filter {
            include_tenants: vec!["t1".into()],
            ..Filter::default()
        };
        assert!(only.selects(&Key::parse("/c/tenants/t1").kind));
        assert!(!only.selects(&Key::parse("/c/tenants/t3/limiter").kind));
    }

    #[test]
    fn cluster_rename_keeps_the_rest() {
        assert_eq!(
            rename_cluster("/cluster_xxx/users/u", "cluster_xxx", "prod"),
            "/prod/users/u"
        );
        assert_eq!(parse_tenant_db("a.b.c"), Ok(("a".into(), "b.c".into())));
        assert!(parse_tenant_db("ab").is_err());
    }
}
