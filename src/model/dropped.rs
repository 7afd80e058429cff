//! The kinds every target drops, and the shapes of the two of them whose shape still matters:
//! a bucket a 2.4 release cannot read breaks its tenant, a data node tells the release.

use super::shape::{req, Shape, Ty, Unknown};
use super::Release;
use crate::dump::{Key, KeyKind};
use crate::json::Object;

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

/// True for a key of unknown kind that is really a user, tenant or tenant object whose name holds
/// a `/` (or is empty): 2.4 cannot list it.
pub fn is_invisible_name(key: &str) -> bool {
    if Key::parse(key).kind != KeyKind::Unknown {
        return false;
    }
    let segments: Vec<&str> = key.strip_prefix('/').unwrap_or(key).split('/').collect();
    segments.iter().any(|s| s.is_empty()) || matches!(segments.get(1), Some(&("users" | "tenants")))
}

// v2.3.5.4:common/models/src/meta_data.rs:74-78: `ReplicationSet {id, vnodes}`.
const SET_23: Shape = Shape {
    name: "ReplicationSet",
    fields: &[req("id", Ty::Uint), req("vnodes", Ty::Array(&Ty::Any))],
    unknown: Unknown::Ignored,
    renamed: &[],
};

// v2.4.0:common/models/src/meta_data.rs:109-114 (v2.4.3.4 89-94): `leader_node_id` and
// `leader_vnode_id` added, required.
const SET_240: Shape = Shape {
    name: "ReplicationSet",
    fields: &[
        req("id", Ty::Uint),
        req("leader_node_id", Ty::Uint),
        req("leader_vnode_id", Ty::Uint),
        req("vnodes", Ty::Array(&Ty::Any)),
    ],
    unknown: Unknown::Ignored,
    renamed: &[],
};

/// The replication set shape of a release family (inside a bucket's `shard_group`).
pub fn replication_set(r: Release) -> &'static Shape {
    if r >= Release::V2_4_0 {
        &SET_240
    } else {
        &SET_23
    }
}

/// The id of the first replication set of a bucket value that lacks a member `release`
/// requires, with that member.
pub fn unreadable_set(value: &str, release: Release) -> Option<(String, &'static str)> {
    let shape = replication_set(release);
    let top = Object::parse(value).ok()?;
    let sets = top.get("shard_group")?.elements().ok()?;
    sets.iter().find_map(|s| {
        let set = s.object().ok()?;
        let missing = shape.names().find(|f| !set.has(f))?;
        Some((
            set.get("id").map_or("?".into(), |id| id.get().to_string()),
            missing,
        ))
    })
}

// v2.3.0:common/models/src/meta_data.rs:63-68 and v2.4.0:…/meta_data.rs:65-70: `NodeInfo {id,
// grpc_addr, http_addr, attribute}`; v2.3.4:…/meta_data.rs:65-69: `{id, grpc_addr,
// attribute}`; v2.3.5.4:…/meta_data.rs:38-41 and v2.4.3.4:…/meta_data.rs:53-56: `{id,
// grpc_addr}`.
const NODE_4: Shape = Shape {
    name: "NodeInfo",
    fields: &[
        req("id", Ty::Uint),
        req("grpc_addr", Ty::Str),
        req("http_addr", Ty::Str),
        req("attribute", Ty::Any),
    ],
    unknown: Unknown::Ignored,
    renamed: &[],
};
const NODE_3: Shape = Shape {
    name: "NodeInfo",
    fields: &[
        req("id", Ty::Uint),
        req("grpc_addr", Ty::Str),
        req("attribute", Ty::Any),
    ],
    unknown: Unknown::Ignored,
    renamed: &[],
};
const NODE_2: Shape = Shape {
    name: "NodeInfo",
    fields: &[req("id", Ty::Uint), req("grpc_addr", Ty::Str)],
    unknown: Unknown::Ignored,
    renamed: &[],
};

/// The data node shapes a release family writes (2.3.4–2.3.5 had two).
pub fn data_node(r: Release) -> &'static [Shape] {
    match r {
        Release::V2_3_0 | Release::V2_4_0 => &[NODE_4],
        Release::V2_3_4 => &[NODE_3, NODE_2],
        _ => &[NODE_2],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_names() {
        assert!(is_invisible_name("/c/users/a/b"));
        assert!(is_invisible_name("/c/tenants/t/dbs/d/schemas/a/b"));
        assert!(is_invisible_name("/c//users"));
        assert!(!is_invisible_name("/c/users/a"));
        assert!(!is_invisible_name("/c/foo/bar"));
    }
}
