//! Tests of `remote::sql`: URLs and the answers of the SQL API.
use super::*;

#[test]
fn rows_from_csv_and_json() {
    assert_eq!(parse_rows("rows\n42\n", Some("text/csv")), Ok(42));
    assert_eq!(parse_rows("rows\r\n7\r\n", None), Ok(7));
    assert_eq!(parse_rows("rows\n\n", None), Ok(0));
    assert_eq!(
        parse_rows("[{\"rows\":5}]", Some("application/json")),
        Ok(5)
    );
    assert_eq!(parse_rows("[{\"rows\":null}]", None), Ok(0));
    assert!(parse_rows("[]", None).unwrap_err().contains("one row"));
    assert!(parse_rows("count\n3\n", None).is_err());
    assert!(parse_rows("rows\n3\n4\n", None).is_err());
    assert!(parse_rows("[{\"rows\":-1}]", None).is_err());
    assert_eq!(parse_count("[{\"COUNT(UInt8(1))\":3}]"), Ok(3));
    assert_eq!(parse_count("[{}]"), Ok(0));
    assert!(parse_count("[{\"a\":1,\"b\":2}]").is_err());
    assert!(parse_count("[{\"a\":\"x\"}]").is_err());
    assert_eq!(parse_count("COUNT(UInt8(1))\n7\n"), Ok(7));
    assert!(parse_count("a,b\n1,2\n").is_err());
}

#[test]
fn cnosdb_error_bodies() {
    let e = status_error(
        422,
        r#"{"error_code":"010001","error_message":"Table not found"}"#,
    );
    assert_eq!(e.to_string(), "HTTP 422, error 010001: Table not found");
    assert_eq!(status_error(502, "").to_string(), "HTTP 502: (empty body)");
}

#[test]
fn urls() {
    let c = Credentials {
        user: "root".into(),
        password: "secret".into(),
    };
    let mut n = SqlNode::new("http://h:8902/", None).unwrap();
    n.set_credentials(&c);
    assert_eq!(n.authorization.as_deref(), Some("Basic cm9vdDpzZWNyZXQ="));
    assert_eq!(
        n.endpoint("a b", "d&x"),
        "http://h:8902/api/v1/sql?tenant=a%20b&db=d%26x"
    );
    assert!(!format!("{c:?}").contains("secret"));
    assert!(SqlNode::new("https://h", None).is_err());
    assert!(SqlNode::new("h:8902", None).is_err());
    assert!(SqlNode::new("http://", None).is_err());
}
