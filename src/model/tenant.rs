//! Tenants and what hangs off them: `Tenant {id, name, options}`, the request limiter, custom
//! roles and members. Durations live here too (tenant `drop_after` and database options).

use super::shape::{opt, req, Shape, Ty, Unknown};
use super::Release;

// v2.3.5.4:common/models/src/schema.rs:898-910: `Duration {time_num: u64, unit: DurationUnit}`,
// unit `Minutes|Hour|Day|Inf` (`Inf` since v2.3.2). No `deny_unknown_fields`.
/// 2.3 – 2.4.1 `Duration`.
pub const DURATION_23: Shape = Shape {
    name: "Duration",
    fields: &[
        req("time_num", Ty::Uint),
        req("unit", Ty::Enum(&["Minutes", "Hour", "Day", "Inf"])),
    ],
    unknown: Unknown::Ignored,
    renamed: &[],
};

/// `std::time::Duration` as serde writes it: `{secs: u64, nanos: u32}`.
pub(super) const STD_DURATION: Shape = Shape {
    name: "std::time::Duration",
    fields: &[req("secs", Ty::Uint), req("nanos", Ty::Uint)],
    unknown: Unknown::Ignored,
    renamed: &[],
};

// v2.4.2:common/models/src/schema/utils.rs:15-18; v2.4.3.4:common/utils/src/duration.rs:13-16:
// `CnosDuration {duration: Duration, is_inf: bool}`.
/// 2.4.2+ `CnosDuration`.
pub const CNOS_DURATION: Shape = Shape {
    name: "CnosDuration",
    fields: &[
        req("duration", Ty::Struct(&STD_DURATION)),
        req("is_inf", Ty::Bool),
    ],
    unknown: Unknown::Ignored,
    renamed: &[],
};

// v2.3.5.4:common/models/src/schema.rs:1040-1043: `{comment: Option<String>,
// limiter_config: Option<TenantLimiterConfig>}`, nothing skipped.
const OPTIONS_23: Shape = Shape {
    name: "TenantOptions",
    fields: &[opt("comment", Ty::Str), opt("limiter_config", Ty::Any)],
    unknown: Unknown::Ignored,
    renamed: &[],
};

// v2.4.0:common/models/src/schema.rs:1186-1190: `tenant_is_hidden: bool`, required.
const OPTIONS_240: Shape = Shape {
    name: "TenantOptions",
    fields: &[
        opt("comment", Ty::Str),
        opt("limiter_config", Ty::Any),
        req("tenant_is_hidden", Ty::Bool),
    ],
    unknown: Unknown::Ignored,
    renamed: &[],
};

// v2.4.0.1:common/models/src/schema.rs:1235-1240, v2.4.1:…/schema.rs:1283-1289:
// `drop_after: Option<Duration>` (2.3 shape) before `tenant_is_hidden`.
const OPTIONS_2401: Shape = Shape {
    name: "TenantOptions",
    fields: &[
        opt("comment", Ty::Str),
        opt("limiter_config", Ty::Any),
        opt("drop_after", Ty::Struct(&DURATION_23)),
        req("tenant_is_hidden", Ty::Bool),
    ],
    unknown: Unknown::Ignored,
    renamed: &[],
};

// v2.4.2:common/models/src/schema/tenant.rs:43-48 (also v2.4.2.1, v2.4.3.4 43-48):
// `drop_after: Option<CnosDuration>`.
const OPTIONS_242: Shape = Shape {
    name: "TenantOptions",
    fields: &[
        opt("comment", Ty::Str),
        opt("limiter_config", Ty::Any),
        opt("drop_after", Ty::Struct(&CNOS_DURATION)),
        req("tenant_is_hidden", Ty::Bool),
    ],
    unknown: Unknown::Ignored,
    renamed: &[],
};

// v2.3.5.4:common/models/src/schema.rs:1008-1012, v2.4.0:…/schema.rs:1154-1158,
// v2.4.0.1:…:1203, v2.4.1:…:1251, v2.4.2:common/models/src/schema/tenant.rs:11-15 (v2.4.3.4
// 11-15): `Tenant {id: Oid, name: String, options: TenantOptions}`.
macro_rules! tenant {
    ($options:expr) => {
        Shape {
            name: "Tenant",
            fields: &[
                req("id", Ty::Oid),
                req("name", Ty::Str),
                req("options", Ty::Struct($options)),
            ],
            unknown: Unknown::Ignored,
            renamed: &[],
        }
    };
}

const TENANT_23: Shape = tenant!(&OPTIONS_23);
const TENANT_240: Shape = tenant!(&OPTIONS_240);
const TENANT_2401: Shape = tenant!(&OPTIONS_2401);
const TENANT_242: Shape = tenant!(&OPTIONS_242);

/// The tenant shape of a release family.
pub fn shape(r: Release) -> &'static Shape {
    match r {
        Release::V2_3_0 | Release::V2_3_4 => &TENANT_23,
        Release::V2_4_0 => &TENANT_240,
        Release::V2_4_0_1 | Release::V2_4_1 => &TENANT_2401,
        Release::V2_4_2 | Release::V2_4_2_1 | Release::V2_4_3 => &TENANT_242,
    }
}

// v2.3.5.4:meta/src/limiter/remote_request_limiter.rs:10-11 (unchanged in v2.4.3.4, 10-11):
// `RemoteRequestLimiter {buckets: HashMap<RequestLimiterKind, RateBucket>}` with a
// hand-written `RateBucket` serializer; this tool only requires the `buckets` object.
/// The tenant limiter of every release.
pub const LIMITER: Shape = Shape {
    name: "RemoteRequestLimiter",
    fields: &[req("buckets", Ty::Map(&Ty::Any))],
    unknown: Unknown::Ignored,
    renamed: &[],
};

// v2.3.5.4:common/models/src/auth/role.rs:157-164 (v2.4.0 147-154, v2.4.1 157-164):
// `CustomTenantRole {id, name, system_role: SystemTenantRole, additional_privileges:
// HashMap<String, DatabasePrivilege>}`; role.rs:92-96 and privilege.rs:162-167 name the variants.
const ROLE_23: Shape = Shape {
    name: "CustomTenantRole",
    fields: &[
        req("id", Ty::Oid),
        req("name", Ty::Str),
        req("system_role", Ty::Enum(SYSTEM_ROLES)),
        req("additional_privileges", Ty::Map(&PRIVILEGE)),
    ],
    unknown: Unknown::Ignored,
    renamed: &[],
};

// v2.4.2:common/models/src/auth/role.rs:160 (v2.4.3.4 160): `system_role` becomes an `Option`.
const ROLE_242: Shape = Shape {
    name: "CustomTenantRole",
    fields: &[
        req("id", Ty::Oid),
        req("name", Ty::Str),
        opt("system_role", Ty::Enum(SYSTEM_ROLES)),
        req("additional_privileges", Ty::Map(&PRIVILEGE)),
    ],
    unknown: Unknown::Ignored,
    renamed: &[],
};

const SYSTEM_ROLES: &[&str] = &["Owner", "Member"];
const PRIVILEGE: Ty = Ty::Enum(&["Read", "Write", "Full"]);

/// The custom role shape of a release family.
pub fn role(r: Release) -> &'static Shape {
    if r >= Release::V2_4_2 {
        &ROLE_242
    } else {
        &ROLE_23
    }
}

// v2.3.5.4:common/models/src/auth/role.rs:48-51 (v2.4.3.4 48-51): `TenantRoleIdentifier
// {System(SystemTenantRole), Custom(String)}`, externally tagged.
/// A member record of every release.
pub const MEMBER: Ty = Ty::Tagged(&[("System", Ty::Enum(SYSTEM_ROLES)), ("Custom", Ty::Str)]);

/// The role name of a `{"Custom":"<role>"}` member value.
pub fn custom_role(value: &str) -> Option<String> {
    let o = crate::json::Object::parse(value).ok()?;
    o.get("Custom")
        .and_then(crate::json::as_str)
        .map(|s| s.into_owned())
}
