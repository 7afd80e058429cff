//! Databases: `/{c}/tenants/{t}/dbs/{db}` → `DatabaseSchema`.

use super::shape::{opt, req, Shape, Ty, Unknown};
use super::tenant::{CNOS_DURATION, DURATION_23};
use super::Release;

const PRECISION: Ty = Ty::Enum(&["MS", "US", "NS"]);

// v2.3.5.4:common/models/src/schema.rs:714-725: `DatabaseOptions`, every member an `Option`,
// none skipped.
const CONFIG_23: Shape = Shape {
    name: "DatabaseOptions",
    fields: &[
        opt("ttl", Ty::Struct(&DURATION_23)),
        opt("shard_num", Ty::Uint),
        opt("vnode_duration", Ty::Struct(&DURATION_23)),
        opt("replica", Ty::Uint),
        opt("precision", PRECISION),
    ],
    unknown: Unknown::Ignored,
    renamed: &[],
};

// v2.4.0:common/models/src/schema.rs:849-862 (v2.4.0.1 898-911, v2.4.1 937-950): the same plus
// `db_is_hidden: bool`, required, last.
const CONFIG_240: Shape = Shape {
    name: "DatabaseOptions",
    fields: &[
        opt("ttl", Ty::Struct(&DURATION_23)),
        opt("shard_num", Ty::Uint),
        opt("vnode_duration", Ty::Struct(&DURATION_23)),
        opt("replica", Ty::Uint),
        opt("precision", PRECISION),
        req("db_is_hidden", Ty::Bool),
    ],
    unknown: Unknown::Ignored,
    renamed: &[],
};

// v2.3.5.4:common/models/src/schema.rs:627-631 (v2.4.0 761-765, v2.4.0.1 810-814, v2.4.1
// 849-853): `DatabaseSchema {tenant, database, config: DatabaseOptions}`.
const DB_23: Shape = Shape {
    name: "DatabaseSchema",
    fields: &[
        req("tenant", Ty::Str),
        req("database", Ty::Str),
        req("config", Ty::Struct(&CONFIG_23)),
    ],
    unknown: Unknown::Ignored,
    renamed: &[],
};

const DB_240: Shape = Shape {
    name: "DatabaseSchema",
    fields: &[
        req("tenant", Ty::Str),
        req("database", Ty::Str),
        req("config", Ty::Struct(&CONFIG_240)),
    ],
    unknown: Unknown::Ignored,
    renamed: &[],
};

// v2.4.2:common/models/src/schema/database_schema.rs:155-160 (v2.4.2.1, v2.4.3.4 164-169):
// `DatabaseOptions {ttl: CnosDuration, shard_num: u64, vnode_duration: CnosDuration,
// replica: u64}`, all required.
const OPTIONS_242: Shape = Shape {
    name: "DatabaseOptions",
    fields: &[
        req("ttl", Ty::Struct(&CNOS_DURATION)),
        req("shard_num", Ty::Uint),
        req("vnode_duration", Ty::Struct(&CNOS_DURATION)),
        req("replica", Ty::Uint),
    ],
    unknown: Unknown::Ignored,
    renamed: &[],
};

// v2.4.2:common/models/src/schema/database_schema.rs:333-341 (v2.4.2.1, v2.4.3.4 349-357):
// `DatabaseConfig`, all required.
const CONFIG_242: Shape = Shape {
    name: "DatabaseConfig",
    fields: &[
        req("precision", PRECISION),
        req("max_memcache_size", Ty::Uint),
        req("memcache_partitions", Ty::Uint),
        req("wal_max_file_size", Ty::Uint),
        req("wal_sync", Ty::Bool),
        req("strict_write", Ty::Bool),
        req("max_cache_readers", Ty::Uint),
    ],
    unknown: Unknown::Ignored,
    renamed: &[],
};

// v2.4.2:common/models/src/schema/database_schema.rs:13-21 (v2.4.2.1, v2.4.3.4 10-18):
// `DatabaseSchema {tenant, database, is_hidden: bool, options, config: Arc<DatabaseConfig>}`.
const DB_242: Shape = Shape {
    name: "DatabaseSchema",
    fields: &[
        req("tenant", Ty::Str),
        req("database", Ty::Str),
        req("is_hidden", Ty::Bool),
        req("options", Ty::Struct(&OPTIONS_242)),
        req("config", Ty::Struct(&CONFIG_242)),
    ],
    unknown: Unknown::Ignored,
    renamed: &[],
};

/// The database shape of a release family.
pub fn shape(r: Release) -> &'static Shape {
    match r {
        Release::V2_3_0 | Release::V2_3_4 => &DB_23,
        Release::V2_4_0 | Release::V2_4_0_1 | Release::V2_4_1 => &DB_240,
        Release::V2_4_2 | Release::V2_4_2_1 | Release::V2_4_3 => &DB_242,
    }
}
