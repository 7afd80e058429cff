//! Tests of `remote::meta`: endpoint URLs.
use super::*;

#[test]
fn endpoints() {
    let e = Endpoint::parse("http://h:8901").unwrap();
    assert_eq!(e.dump_url(), "http://h:8901/dump");
    assert_eq!(e.restore_url().unwrap(), "http://h:8901/restore");
    let e = Endpoint::parse("h:8901/").unwrap();
    assert_eq!(e.dump_url(), "http://h:8901/dump");
    let e = Endpoint::parse("http://h:8901/debug").unwrap();
    assert_eq!(e.dump_url(), "http://h:8901/debug");
    assert!(matches!(e.restore_url(), Err(Error::Usage(_))));
    let e = Endpoint::parse("http://gw/meta/restore").unwrap();
    assert_eq!(e.restore_url().unwrap(), "http://gw/meta/restore");
    assert!(matches!(
        Endpoint::parse("https://h:8901"),
        Err(Error::Usage(m)) if m.contains("plain HTTP")
    ));
    assert!(Endpoint::parse("ftp://h").is_err());
    assert!(Endpoint::parse("http://").is_err());
}
