//! What a key names: its cluster and its kind (spec section 3).

/// A classified key. Names borrow from the key text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key<'a> {
    /// The cluster segment, absent for the global keys.
    pub cluster: Option<&'a str>,
    /// The kind of record, with the names the key carries.
    pub kind: KeyKind<'a>,
}

/// The kinds of key a CnosDB 2.3 or 2.4 meta store holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind<'a> {
    /// `/data_version`
    DataVersion,
    /// `/already_init_key` (2.4)
    AlreadyInit,
    /// `/test_alive` (2.4)
    TestAlive,
    /// `/{c}/auto_incr_id`
    AutoIncrId,
    /// `/{c}/users/{name}`
    User { name: &'a str },
    /// `/{c}/data_nodes/{id}`
    DataNode,
    /// `/{c}/data_nodes_metrics/{id}`
    DataNodeMetrics,
    /// `/{c}/tenants/{t}`
    Tenant { tenant: &'a str },
    /// `/{c}/tenants/{t}/limiter`
    Limiter { tenant: &'a str },
    /// `/{c}/tenants/{t}/roles/{role}`
    Role { tenant: &'a str, role: &'a str },
    /// `/{c}/tenants/{t}/members/{uid}`
    Member { tenant: &'a str, uid: &'a str },
    /// `/{c}/tenants/{t}/dbs/{db}`
    Database { tenant: &'a str, db: &'a str },
    /// `/{c}/tenants/{t}/dbs/{db}/buckets/{id}`
    Bucket { tenant: &'a str, db: &'a str },
    /// `/{c}/tenants/{t}/dbs/{db}/schemas/{table}`
    Table {
        tenant: &'a str,
        db: &'a str,
        table: &'a str,
    },
    /// `/{c}/resourceinfos/…` and `/{c}/resourceinfosmark` (2.4)
    ResourceInfo,
    /// `/{c}/queries/{id}` and `/{c}/{node}/queries/{id}` (2.4.2+)
    Query,
    /// Anything else.
    Unknown,
}

impl KeyKind<'_> {
    /// A short stable name for reports and counts.
    pub fn name(&self) -> &'static str {
        match self {
            KeyKind::DataVersion => "data_version",
            KeyKind::AlreadyInit => "already_init_key",
            KeyKind::TestAlive => "test_alive",
            KeyKind::AutoIncrId => "auto_incr_id",
            KeyKind::User { .. } => "user",
            KeyKind::DataNode => "data_node",
            KeyKind::DataNodeMetrics => "data_node_metrics",
            KeyKind::Tenant { .. } => "tenant",
            KeyKind::Limiter { .. } => "limiter",
            KeyKind::Role { .. } => "role",
            KeyKind::Member { .. } => "member",
            KeyKind::Database { .. } => "database",
            KeyKind::Bucket { .. } => "bucket",
            KeyKind::Table { .. } => "table",
            KeyKind::ResourceInfo => "resource_info",
            KeyKind::Query => "query",
            KeyKind::Unknown => "unknown",
        }
    }

    /// The tenant a record belongs to, if any.
    pub fn tenant(&self) -> Option<&str> {
        match *self {
            KeyKind::Tenant { tenant }
            | KeyKind::Limiter { tenant }
            | KeyKind::Role { tenant, .. }
            | KeyKind::Member { tenant, .. }
            | KeyKind::Database { tenant, .. }
            | KeyKind::Bucket { tenant, .. }
            | KeyKind::Table { tenant, .. } => Some(tenant),
            _ => None,
        }
    }

    /// The database a record belongs to, if any.
    pub fn database(&self) -> Option<&str> {
        match *self {
            KeyKind::Database { db, .. }
            | KeyKind::Bucket { db, .. }
            | KeyKind::Table { db, .. } => Some(db),
            _ => None,
        }
    }
}

impl<'a> Key<'a> {
    /// Classifies a key (which starts with `/`). Never fails: what is not known is `Unknown`.
    pub fn parse(key: &'a str) -> Key<'a> {
        let mut segs = [""; 8];
        let mut n = 0;
        let rest = key.strip_prefix('/').unwrap_or(key);
        // The slashes, eight bytes at a time (a key is short: a call of memchr per slash costs
        // more); the end closes the last segment.
        let mut start = 0;
        let ends = Slashes::new(rest.as_bytes()).chain(std::iter::once(rest.len()));
        for i in ends {
            if n == segs.len() || i == start {
                return Key::unknown(key);
            }
            segs[n] = &rest[start..i];
            n += 1;
            start = i + 1;
        }
        let s = &segs[..n];
        let kind = match s {
            ["data_version"] => KeyKind::DataVersion,
            ["already_init_key"] => KeyKind::AlreadyInit,
            ["test_alive"] => KeyKind::TestAlive,
            [_] => return Key::unknown(key),
            [_, "auto_incr_id"] => KeyKind::AutoIncrId,
            [_, "resourceinfosmark"] => KeyKind::ResourceInfo,
            [_, "resourceinfos", ..] => KeyKind::ResourceInfo,
            [_, "users", name] => KeyKind::User { name },
            [_, "data_nodes", _] => KeyKind::DataNode,
            [_, "data_nodes_metrics", _] => KeyKind::DataNodeMetrics,
            [_, "queries", _] | [_, _, "queries", _] => KeyKind::Query,
            [_, "tenants", tenant] => KeyKind::Tenant { tenant },
            [_, "tenants", tenant, "limiter"] => KeyKind::Limiter { tenant },
            [_, "tenants", tenant, "roles", role] => KeyKind::Role { tenant, role },
            [_, "tenants", tenant, "members", uid] => KeyKind::Member { tenant, uid },
            [_, "tenants", tenant, "dbs", db] => KeyKind::Database { tenant, db },
            [_, "tenants", tenant, "dbs", db, "buckets", _] => KeyKind::Bucket { tenant, db },
            [_, "tenants", tenant, "dbs", db, "schemas", table] => {
                KeyKind::Table { tenant, db, table }
            }
            _ => KeyKind::Unknown,
        };
        let cluster = (n > 1).then_some(segs[0]);
        Key { cluster, kind }
    }

    fn unknown(key: &'a str) -> Key<'a> {
        let rest = key.strip_prefix('/').unwrap_or(key);
        let cluster = rest
            .split_once('/')
            .map(|(c, _)| c)
            .filter(|c| !c.is_empty());
        Key {
            cluster,
            kind: KeyKind::Unknown,
        }
    }
}

/// The positions of the `/` bytes of a text, in order, found a word of eight bytes at a time.
struct Slashes<'a> {
    words: std::slice::ChunksExact<'a, u8>,
    /// The position of the current word's first byte.
    base: usize,
    /// The current word's slashes not yet returned: the high bit of each such byte.
    found: u64,
}

/// `0x01` in every byte of a word.
const ONES: u64 = u64::MAX / 255;
/// The high bit of every byte of a word.
const HIGH: u64 = ONES << 7;

impl<'a> Slashes<'a> {
    fn new(text: &'a [u8]) -> Self {
        Slashes {
            words: text.chunks_exact(8),
            base: 0,
            found: 0,
        }
    }
}

impl Iterator for Slashes<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        while self.found == 0 {
            let Some(word) = self.words.next() else {
                // The last bytes, one at a time; they are returned once.
                let tail = self.words.remainder();
                let base = self.base;
                let at = tail.iter().position(|&b| b == b'/')?;
                self.words = tail.get(at + 1..).unwrap_or_default().chunks_exact(8);
                self.base = base + at + 1;
                return Some(base + at);
            };
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(word);
            let x = u64::from_le_bytes(bytes) ^ (ONES * u64::from(b'/'));
            // The high bit of each zero byte of `x` (exact: no carry crosses a byte).
            self.found = !(((x & !HIGH) + !HIGH) | x) & HIGH;
            if self.found == 0 {
                self.base += 8;
            }
        }
        let at = self.base + (self.found.trailing_zeros() / 8) as usize;
        self.found &= self.found - 1;
        if self.found == 0 {
            self.base += 8;
        }
        Some(at)
    }
}

/// A 128-bit fingerprint of a key, for finding keys written twice.
pub fn fingerprint(key: &str) -> u128 {
    use std::collections::hash_map::DefaultHasher;
    use std::hash::{Hash, Hasher};
    let half = |seed: u8| {
        let mut h = DefaultHasher::new();
        seed.hash(&mut h);
        key.hash(&mut h);
        h.finish() as u128
    };
    (half(0) << 64) | half(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn slashes_are_every_slash_in_order(
            text in proptest::collection::vec(
                proptest::sample::select(vec![b'/', b'a', b'.', b'0', 0xff, 0x2e, 0x00, 0x7f]),
                0..40,
            ),
        ) {
            let naive: Vec<usize> = (0..text.len()).filter(|&i| text[i] == b'/').collect();
            proptest::prop_assert_eq!(Slashes::new(&text).collect::<Vec<_>>(), naive);
        }
    }

    fn kind(key: &str) -> KeyKind<'_> {
        Key::parse(key).kind
    }

    #[test]
    fn every_key_kind_of_the_spec() {
        assert_eq!(kind("/data_version"), KeyKind::DataVersion);
        assert_eq!(kind("/already_init_key"), KeyKind::AlreadyInit);
        assert_eq!(kind("/test_alive"), KeyKind::TestAlive);
        assert_eq!(kind("/c/auto_incr_id"), KeyKind::AutoIncrId);
        assert_eq!(kind("/c/users/u1"), KeyKind::User { name: "u1" });
        assert_eq!(kind("/c/data_nodes/1001"), KeyKind::DataNode);
        assert_eq!(kind("/c/data_nodes_metrics/1001"), KeyKind::DataNodeMetrics);
        assert_eq!(kind("/c/tenants/t"), KeyKind::Tenant { tenant: "t" });
        assert_eq!(
            kind("/c/tenants/t/limiter"),
            KeyKind::Limiter { tenant: "t" }
        );
        assert_eq!(
            kind("/c/tenants/t/roles/r"),
            KeyKind::Role {
                tenant: "t",
                role: "r"
            }
        );
        assert_eq!(
            kind("/c/tenants/t/members/42"),
            KeyKind::Member {
                tenant: "t",
                uid: "42"
            }
        );
        assert_eq!(
            kind("/c/tenants/t/dbs/d"),
            KeyKind::Database {
                tenant: "t",
                db: "d"
            }
        );
        assert_eq!(
            kind("/c/tenants/t/dbs/d/buckets/3"),
            KeyKind::Bucket {
                tenant: "t",
                db: "d"
            }
        );
        assert_eq!(
            kind("/c/tenants/t/dbs/d/schemas/x"),
            KeyKind::Table {
                tenant: "t",
                db: "d",
                table: "x"
            }
        );
        assert_eq!(kind("/c/resourceinfos/t-d-x"), KeyKind::ResourceInfo);
        assert_eq!(kind("/c/resourceinfosmark"), KeyKind::ResourceInfo);
        assert_eq!(kind("/c/queries/7"), KeyKind::Query);
        assert_eq!(kind("/c/1001/queries/7"), KeyKind::Query);
        assert_eq!(
            Key::parse("/cluster_xxx/users/root").cluster,
            Some("cluster_xxx")
        );
        assert_eq!(Key::parse("/data_version").cluster, None);
    }

    #[test]
    fn unknown_shapes() {
        assert_eq!(kind("/c/foo/bar"), KeyKind::Unknown);
        assert_eq!(kind("/c/tenants/t/dbs/d/schemas/a/b"), KeyKind::Unknown);
        assert_eq!(kind("/c//users"), KeyKind::Unknown);
        assert_eq!(kind("/whatever"), KeyKind::Unknown);
        assert_eq!(Key::parse("/c/foo/bar").cluster, Some("c"));
    }
}
