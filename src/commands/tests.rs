//! Tests of the command-line types shared by the commands.
use super::*;

#[test]
fn a_database_is_tenant_dot_db() {
    assert_eq!(parse_tenant_db("a.b.c"), Ok(("a".into(), "b.c".into())));
    assert!(parse_tenant_db("ab").is_err());
    assert!(parse_tenant_db(".b").is_err());
}
