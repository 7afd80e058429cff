//! Tables: `/{c}/tenants/{t}/dbs/{db}/schemas/{tbl}` → `TableSchema`, externally tagged
//! `{"TsKvTableSchema":…}`, `{"ExternalTableSchema":…}` or `{"StreamTableSchema":…}`
//! (v2.3.5.4:common/models/src/schema.rs:56-61, v2.4.3.4:common/models/src/schema/table_schema.rs:10-15).

use super::shape::{dflt, req, Shape, Ty, Unknown};
use super::tenant::STD_DURATION;
use super::Release;

// v2.3.5.4:common/models/src/codec.rs:36-50 (unchanged in v2.4.0 36-50).
const ENCODINGS_23: &[&str] = &[
    "Default", "Null", "Delta", "Quantile", "Gzip", "Bzip", "Gorilla", "Snappy", "Zstd", "Zlib",
    "BitPack", "Unknown",
];
// v2.4.0.1:common/models/src/codec.rs:39-53 (v2.4.3.4 39-53): `DeltaTs = 11` added.
const ENCODINGS_2401: &[&str] = &[
    "Default", "Null", "Delta", "Quantile", "Gzip", "Bzip", "Gorilla", "Snappy", "Zstd", "Zlib",
    "BitPack", "DeltaTs", "Unknown",
];

// v2.3.5.4:common/models/src/schema.rs:369-374 (v2.4.0 508-513, v2.4.1 572-577,
// v2.4.2.1:common/models/src/schema/tskv_table_schema.rs:325-330, v2.4.3.4 532-537):
// `TableColumn {id: u32, name, column_type: ColumnType, encoding: Encoding}`.
macro_rules! column {
    ($encodings:expr) => {
        Shape {
            name: "TableColumn",
            fields: &[
                req("id", Ty::Uint),
                req("name", Ty::Str),
                req("column_type", Ty::Any),
                req("encoding", Ty::Enum($encodings)),
            ],
            unknown: Unknown::Ignored,
            renamed: &[],
        }
    };
}
const COLUMN_23: Shape = column!(ENCODINGS_23);
const COLUMN_2401: Shape = column!(ENCODINGS_2401);

// v2.3.5.4:common/models/src/schema.rs:146-156 (v2.4.0 284-294, v2.4.0.1 296-306): every member
// required, `columns_index: HashMap<String, usize>` included.
macro_rules! tskv {
    ($version:literal, $column:expr, $unknown:expr, $index:ident, $renamed:expr) => {
        Shape {
            name: "TskvTableSchema",
            fields: &[
                req("tenant", Ty::Str),
                req("db", Ty::Str),
                req("name", Ty::Str),
                req($version, Ty::Uint),
                req("next_column_id", Ty::Uint),
                req("columns", Ty::Array(&Ty::Struct($column))),
                $index("columns_index", Ty::Map(&Ty::Uint)),
            ],
            unknown: $unknown,
            renamed: $renamed,
        }
    };
}
const TSKV_23: Shape = tskv!("schema_id", &COLUMN_23, Unknown::Ignored, req, &[]);
const TSKV_2401: Shape = tskv!("schema_id", &COLUMN_2401, Unknown::Ignored, req, &[]);
// v2.4.1:common/models/src/schema.rs:319-329 (v2.4.2:common/models/src/schema/tskv_table_schema.rs:31-41,
// v2.4.2.1 34-44): `schema_id` renamed `schema_version`, required.
const TSKV_241: Shape = tskv!(
    "schema_version",
    &COLUMN_2401,
    Unknown::Ignored,
    req,
    &[("schema_id", "schema_version")]
);
// v2.4.3.4:common/models/src/schema/tskv_table_schema.rs:35-228: a hand-written deserializer;
// any other member is `unknown field` (172-185), `columns_index` is read but rebuilt from
// `columns` (196-200); the serializer writes the seven members in this order. The same code in
// v2.4.3 (line 173).
const TSKV_243: Shape = tskv!(
    "schema_version",
    &COLUMN_2401,
    Unknown::Refused,
    dflt,
    &[("schema_id", "schema_version")]
);

// v2.3.5.4:common/models/src/schema.rs:97-110, unchanged through
// v2.4.3.4:common/models/src/schema/external_table_schema.rs:16-28.
const EXTERNAL: Shape = Shape {
    name: "ExternalTableSchema",
    fields: &[
        req("tenant", Ty::Str),
        req("db", Ty::Str),
        req("name", Ty::Str),
        req("file_compression_type", Ty::Str),
        req("file_type", Ty::Str),
        req("location", Ty::Str),
        req("target_partitions", Ty::Uint),
        req("table_partition_cols", Ty::Array(&Ty::Any)),
        req("has_header", Ty::Bool),
        req("delimiter", Ty::Uint),
        req("schema", Ty::Any),
    ],
    unknown: Unknown::Ignored,
    renamed: &[],
};

// v2.4.3.4:common/models/src/schema/stream_table_schema.rs:8-11: `Watermark {column, delay}`.
const WATERMARK: Shape = Shape {
    name: "Watermark",
    fields: &[
        req("column", Ty::Str),
        req("delay", Ty::Struct(&STD_DURATION)),
    ],
    unknown: Unknown::Ignored,
    renamed: &[],
};

// v2.3.5.4:common/models/src/schema.rs:1099-1114, unchanged through
// v2.4.3.4:common/models/src/schema/stream_table_schema.rs:13-22.
const STREAM: Shape = Shape {
    name: "StreamTable",
    fields: &[
        req("tenant", Ty::Str),
        req("db", Ty::Str),
        req("name", Ty::Str),
        req("schema", Ty::Any),
        req("stream_type", Ty::Str),
        req("watermark", Ty::Struct(&WATERMARK)),
        req("extra_options", Ty::Map(&Ty::Str)),
    ],
    unknown: Unknown::Ignored,
    renamed: &[],
};

/// The three table variants' tags, with the TSKV shape of `tskv`.
macro_rules! table {
    ($tskv:expr) => {
        Ty::Tagged(&[
            ("TsKvTableSchema", Ty::Struct($tskv)),
            ("ExternalTableSchema", Ty::Struct(&EXTERNAL)),
            ("StreamTableSchema", Ty::Struct(&STREAM)),
        ])
    };
}

/// The TSKV table shape of a release family.
pub fn tskv(r: Release) -> &'static Shape {
    match r {
        Release::V2_3_0 | Release::V2_3_4 | Release::V2_4_0 => &TSKV_23,
        Release::V2_4_0_1 => &TSKV_2401,
        Release::V2_4_1 | Release::V2_4_2 | Release::V2_4_2_1 => &TSKV_241,
        Release::V2_4_3 => &TSKV_243,
    }
}

/// The table record type of a release family.
pub fn ty(r: Release) -> Ty {
    match r {
        Release::V2_3_0 | Release::V2_3_4 | Release::V2_4_0 => table!(&TSKV_23),
        Release::V2_4_0_1 => table!(&TSKV_2401),
        Release::V2_4_1 | Release::V2_4_2 | Release::V2_4_2_1 => table!(&TSKV_241),
        Release::V2_4_3 => table!(&TSKV_243),
    }
}
