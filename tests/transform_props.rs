//! Properties of the transform over generated, valid and consistent 2.3 dumps, through the
//! library API (fast), each over all six targets:
//! - the `/dump` and `/debug` forms of the same records give identical output;
//! - transform is idempotent on its own output;
//! - every input record appears exactly once in the report;
//! - untouched values come out byte-identical;
//! - `--rename-cluster` changes keys only, the tenant/database filters only leave records out;
//! - converting in steps (e.g. 2.4.0, then 2.4.3) equals converting at once.

use std::collections::{BTreeMap, HashMap, HashSet};

use cnosdb_migrate::json::Object;
use cnosdb_migrate::pipeline::{transform, TransformOptions};
use cnosdb_migrate::report::{Entry, NoReport, Observer, Summary};
use cnosdb_migrate::rules::Rules;
use cnosdb_migrate::target::Target;
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// The model of a 2.3 meta store and its rendering as a dump.

/// Valid bcrypt hashes (format-wise; none is ever verified here, so no bcrypt round is paid).
const HASHES: [&str; 3] = [
    "$2b$12$UXtD3jygSi76oO2IyV/UHeC2TqqD3SBp0yxoyp3intrNueiHVjri6",
    "$2b$12$AwzeEg0CnsYXqZLIKQ6zAOOcIX72C7ew0xT2yjA0MacHBZ1.IDPVG",
    "$2y$10$Ma1O9MBH/3DiCaT1c4Q8COu/5d9GA6yWDFIvEL3Qoh/UgkWwVKAkS",
];

#[derive(Debug, Clone)]
struct User {
    name: String,
    id: u128,
    password: Option<usize>,
    must_change: Opt<bool>,
    rsa: Opt<String>,
    comment: Opt<String>,
    granted_admin: Opt<bool>,
    is_admin: bool,
}

/// An optional member: absent, `null`, or a value.
#[derive(Debug, Clone)]
enum Opt<T> {
    Absent,
    Null,
    Some(T),
}

#[derive(Debug, Clone)]
struct Duration23 {
    num: u64,
    unit: &'static str,
}

#[derive(Debug, Clone)]
struct Db {
    name: String,
    ttl: Option<Duration23>,
    shard_num: Option<u64>,
    vnode: Option<Duration23>,
    replica: Option<u64>,
    precision: Option<&'static str>,
    buckets: Vec<u64>,
    tables: Vec<Table>,
}

#[derive(Debug, Clone)]
struct Table {
    name: String,
    /// 0 TSKV, 1 external, 2 stream.
    engine: u8,
    schema_id: u32,
    columns: Vec<String>,
    with_index: bool,
    index_order: Vec<usize>,
}

#[derive(Debug, Clone)]
struct Role {
    name: String,
    id: u128,
    owner: bool,
    privileges: Vec<(String, &'static str)>,
}

#[derive(Debug, Clone)]
struct Member {
    /// Index into the users (modulo), or `None` for an orphan uid.
    user: Option<usize>,
    orphan_uid: u128,
    /// 0 owner, 1 member, 2 custom role (index into roles, or a missing role if none).
    value: u8,
    role: usize,
}

#[derive(Debug, Clone)]
struct Tenant {
    name: String,
    id: u128,
    comment: Option<String>,
    limiter_config: bool,
    limiter: Option<u32>,
    dbs: Vec<Db>,
    roles: Vec<Role>,
    members: Vec<Member>,
}

#[derive(Debug, Clone)]
struct Store {
    cluster: String,
    auto_incr_id: Option<u64>,
    data_version: Option<u64>,
    data_nodes: Vec<u64>,
    users: Vec<User>,
    tenants: Vec<Tenant>,
}

fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

fn dedup_by<T>(v: &mut Vec<T>, key: impl Fn(&T) -> String) {
    let mut seen = HashSet::new();
    v.retain(|x| seen.insert(key(x)));
}

impl Opt<bool> {
    fn member(&self, name: &str, out: &mut Vec<String>) {
        match self {
            Opt::Absent => {}
            Opt::Null => out.push(format!("\"{name}\":null")),
            Opt::Some(b) => out.push(format!("\"{name}\":{b}")),
        }
    }
}

impl Opt<String> {
    fn member(&self, name: &str, out: &mut Vec<String>) {
        match self {
            Opt::Absent => {}
            Opt::Null => out.push(format!("\"{name}\":null")),
            Opt::Some(s) => out.push(format!("\"{name}\":{}", q(s))),
        }
    }
}

fn duration(d: &Option<Duration23>) -> String {
    match d {
        None => "null".into(),
        Some(d) => format!("{{\"time_num\":{},\"unit\":\"{}\"}}", d.num, d.unit),
    }
}

fn opt_num(n: Option<u64>) -> String {
    n.map_or("null".into(), |n| n.to_string())
}

impl Store {
    /// The records as `(key, value)`, sorted by key bytes (as the meta store lists them).
    fn records(&self) -> Vec<(String, String)> {
        let c = &self.cluster;
        let mut recs: Vec<(String, String)> = Vec::new();
        if let Some(n) = self.auto_incr_id {
            recs.push((format!("/{c}/auto_incr_id"), n.to_string()));
        }
        if let Some(n) = self.data_version {
            recs.push(("/data_version".into(), n.to_string()));
        }
        for id in &self.data_nodes {
            recs.push((
                format!("/{c}/data_nodes/{id}"),
                format!("{{\"id\":{id},\"grpc_addr\":\"10.0.0.{}:8903\"}}", id % 250),
            ));
            recs.push((
                format!("/{c}/data_nodes_metrics/{id}"),
                format!("{{\"id\":{id},\"disk_free\":1,\"time\":2,\"status\":\"Healthy\"}}"),
            ));
        }
        for u in &self.users {
            let mut opts = vec![match u.password {
                None => "\"password\":null".to_string(),
                Some(i) => format!("\"password\":\"{}\"", HASHES[i % HASHES.len()]),
            }];
            u.must_change.member("must_change_password", &mut opts);
            u.rsa.member("rsa_public_key", &mut opts);
            u.comment.member("comment", &mut opts);
            u.granted_admin.member("granted_admin", &mut opts);
            recs.push((
                format!("/{c}/users/{}", u.name),
                format!(
                    "{{\"id\":{},\"name\":{},\"options\":{{{}}},\"is_admin\":{}}}",
                    u.id,
                    q(&u.name),
                    opts.join(","),
                    u.is_admin
                ),
            ));
        }
        for t in &self.tenants {
            let tk = format!("/{c}/tenants/{}", t.name);
            let limiter_config = if t.limiter_config {
                r#"{"object_config":{"max_users_number":10,"max_databases":null,"max_shard_number":8,"max_replicate_number":2,"max_retention_time":365},"request_config":null}"#
            } else {
                "null"
            };
            let comment = t.comment.as_deref().map_or("null".into(), q);
            recs.push((
                tk.clone(),
                format!(
                    "{{\"id\":{},\"name\":{},\"options\":{{\"comment\":{comment},\"limiter_config\":{limiter_config}}}}}",
                    t.id,
                    q(&t.name)
                ),
            ));
            if let Some(n) = t.limiter {
                recs.push((
                    format!("{tk}/limiter"),
                    format!("{{\"buckets\":{{\"HttpQueries\":{{\"refill\":{n},\"interval\":1000,\"max\":1000,\"critical\":{{\"balance\":0,\"deadline\":\"2024-11-25T08:15:31.481516234Z\"}}}}}}}}"),
                ));
            }
            for r in &t.roles {
                let privs: Vec<String> = r
                    .privileges
                    .iter()
                    .map(|(db, p)| format!("{}:\"{p}\"", q(db)))
                    .collect();
                recs.push((
                    format!("{tk}/roles/{}", r.name),
                    format!(
                        "{{\"id\":{},\"name\":{},\"system_role\":\"{}\",\"additional_privileges\":{{{}}}}}",
                        r.id,
                        q(&r.name),
                        if r.owner { "Owner" } else { "Member" },
                        privs.join(",")
                    ),
                ));
            }
            let mut member_uids = HashSet::new();
            for m in &t.members {
                let uid = match m.user {
                    Some(i) if !self.users.is_empty() => self.users[i % self.users.len()].id,
                    _ => m.orphan_uid,
                };
                if !member_uids.insert(uid) {
                    continue;
                }
                let value = match m.value {
                    0 => "{\"System\":\"Owner\"}".to_string(),
                    1 => "{\"System\":\"Member\"}".to_string(),
                    _ => {
                        let role = if t.roles.is_empty() {
                            "no such role".to_string()
                        } else {
                            t.roles[m.role % t.roles.len()].name.clone()
                        };
                        format!("{{\"Custom\":{}}}", q(&role))
                    }
                };
                recs.push((format!("{tk}/members/{uid}"), value));
            }
            for db in &t.dbs {
                let dk = format!("{tk}/dbs/{}", db.name);
                recs.push((
                    dk.clone(),
                    format!(
                        "{{\"tenant\":{},\"database\":{},\"config\":{{\"ttl\":{},\"shard_num\":{},\"vnode_duration\":{},\"replica\":{},\"precision\":{}}}}}",
                        q(&t.name),
                        q(&db.name),
                        duration(&db.ttl),
                        opt_num(db.shard_num),
                        duration(&db.vnode),
                        opt_num(db.replica),
                        db.precision.map_or("null".into(), |p| format!("\"{p}\""))
                    ),
                ));
                for b in &db.buckets {
                    recs.push((
                        format!("{dk}/buckets/{b}"),
                        format!(
                            "{{\"id\":{b},\"start_time\":0,\"end_time\":1,\"shard_group\":[]}}"
                        ),
                    ));
                }
                for tb in &db.tables {
                    recs.push((format!("{dk}/schemas/{}", tb.name), table(t, db, tb)));
                }
            }
        }
        recs.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        recs
    }
}

fn table(t: &Tenant, db: &Db, tb: &Table) -> String {
    let head = format!(
        "\"tenant\":{},\"db\":{},\"name\":{}",
        q(&t.name),
        q(&db.name),
        q(&tb.name)
    );
    match tb.engine {
        0 => {
            let types = [
                r#"{"Time":"Nanosecond"}"#,
                r#""Tag""#,
                r#"{"Field":"Float"}"#,
                r#"{"Field":"String"}"#,
            ];
            let columns: Vec<String> = tb
                .columns
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    format!(
                        "{{\"id\":{i},\"name\":{},\"column_type\":{},\"encoding\":\"Default\"}}",
                        q(name),
                        types[i % types.len()]
                    )
                })
                .collect();
            let mut s = format!(
                "{{\"TsKvTableSchema\":{{{head},\"schema_id\":{},\"next_column_id\":{},\"columns\":[{}]",
                tb.schema_id,
                tb.columns.len(),
                columns.join(",")
            );
            if tb.with_index {
                // Stored in HashMap order: a permutation of the columns.
                let mut order: Vec<usize> = (0..tb.columns.len()).collect();
                for (i, &j) in tb.index_order.iter().enumerate() {
                    if !order.is_empty() {
                        let n = order.len();
                        order.swap(i % n, j % n);
                    }
                }
                let index: Vec<String> = order
                    .iter()
                    .map(|&i| format!("{}:{i}", q(&tb.columns[i])))
                    .collect();
                s.push_str(&format!(",\"columns_index\":{{{}}}", index.join(",")));
            }
            s.push_str("}}");
            s
        }
        1 => format!(
            "{{\"ExternalTableSchema\":{{{head},\"file_compression_type\":\"\",\"file_type\":\"CSV\",\"location\":\"file:///x.csv\",\"target_partitions\":8,\"table_partition_cols\":[],\"has_header\":true,\"delimiter\":44,\"schema\":{{\"fields\":[],\"metadata\":{{}}}}}}}}"
        ),
        _ => format!(
            "{{\"StreamTableSchema\":{{{head},\"schema\":{{\"fields\":[],\"metadata\":{{}}}},\"stream_type\":\"tskv\",\"watermark\":{{\"column\":\"time\",\"delay\":{{\"secs\":5,\"nanos\":0}}}},\"extra_options\":{{}}}}}}"
        ),
    }
}

/// The two forms of the same records.
fn dump_form(recs: &[(String, String)]) -> String {
    recs.iter().map(|(k, v)| format!("{k}: {v}\n")).collect()
}

fn debug_form(recs: &[(String, String)]) -> String {
    let mut s = String::from("******---------------------------******\n");
    for (k, v) in recs {
        s.push_str(&format!("* {k}: {v}\n"));
    }
    s.push_str("******----------------------------------------------******\n");
    s
}

// ---------------------------------------------------------------------------------------------
// Strategies.

const NAME_CHARS: &[char] = &[
    'a', 'b', 'x', 'Z', '0', '9', '_', '-', '.', ' ', ':', '"', '\\', '\'', '\t', '\u{1}',
    '\u{1f}', '\u{7f}', 'ü', '中', '🦀', '*', '{', '}', '[', ',', '\u{2028}',
];

/// A name: unicode and characters JSON escapes, never `/` or `": "` (nor CR, LF, NUL).
fn name() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(NAME_CHARS), 1..6)
        .prop_map(String::from_iter)
        .prop_filter("no separator in a key", |s| !s.contains(": "))
}

/// Free text (a JSON string value): anything at all.
fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>(), 0..8).prop_map(String::from_iter)
}

fn opt<T: std::fmt::Debug + Clone>(s: impl Strategy<Value = T>) -> impl Strategy<Value = Opt<T>> {
    prop_oneof![Just(Opt::Absent), Just(Opt::Null), s.prop_map(Opt::Some)]
}

fn dur() -> impl Strategy<Value = Option<Duration23>> {
    let num = prop_oneof![0u64..1000, any::<u64>()];
    let unit = prop::sample::select(vec!["Minutes", "Hour", "Day", "Inf"]);
    prop::option::of((num, unit).prop_map(|(num, unit)| Duration23 { num, unit }))
}

fn user() -> impl Strategy<Value = User> {
    (
        prop_oneof![4 => name(), 1 => Just("root".to_string())],
        any::<u128>(),
        prop::option::of(0usize..3),
        opt(any::<bool>()),
        opt(text()),
        opt(text()),
        opt(any::<bool>()),
        any::<bool>(),
    )
        .prop_map(
            |(name, id, password, must_change, rsa, comment, granted_admin, is_admin)| User {
                name,
                id,
                password,
                must_change,
                rsa,
                comment,
                granted_admin,
                is_admin,
            },
        )
}

fn tbl() -> impl Strategy<Value = Table> {
    (
        name(),
        0u8..3,
        0u32..5,
        prop::collection::vec(name(), 0..5),
        any::<bool>(),
        prop::collection::vec(0usize..5, 0..5),
    )
        .prop_map(
            |(name, engine, schema_id, mut columns, with_index, index_order)| {
                dedup_by(&mut columns, |c| c.clone());
                Table {
                    name,
                    engine,
                    schema_id,
                    columns,
                    with_index,
                    index_order,
                }
            },
        )
}

fn db() -> impl Strategy<Value = Db> {
    (
        prop_oneof![
            5 => name(),
            1 => Just("usage_schema".to_string()),
            1 => Just("cluster_schema".to_string()),
            1 => Just("public".to_string())
        ],
        dur(),
        prop::option::of(0u64..10),
        dur(),
        prop::option::of(0u64..4),
        prop::option::of(prop::sample::select(vec!["MS", "US", "NS"])),
        prop::collection::vec(any::<u64>(), 0..2),
        prop::collection::vec(tbl(), 0..3),
    )
        .prop_map(
            |(name, ttl, shard_num, vnode, replica, precision, mut buckets, mut tables)| {
                buckets.sort_unstable();
                buckets.dedup();
                dedup_by(&mut tables, |t| t.name.clone());
                Db {
                    name,
                    ttl,
                    shard_num,
                    vnode,
                    replica,
                    precision,
                    buckets,
                    tables,
                }
            },
        )
}

fn role() -> impl Strategy<Value = Role> {
    (
        name(),
        any::<u128>(),
        any::<bool>(),
        prop::collection::vec(
            (name(), prop::sample::select(vec!["Read", "Write", "Full"])),
            0..3,
        ),
    )
        .prop_map(|(name, id, owner, mut privileges)| {
            dedup_by(&mut privileges, |p| p.0.clone());
            Role {
                name,
                id,
                owner,
                privileges,
            }
        })
}

fn member() -> impl Strategy<Value = Member> {
    (
        prop::option::weighted(0.8, 0usize..8),
        any::<u128>(),
        0u8..3,
        0usize..4,
    )
        .prop_map(|(user, orphan_uid, value, role)| Member {
            user,
            orphan_uid,
            value,
            role,
        })
}

fn tenant() -> impl Strategy<Value = Tenant> {
    (
        prop_oneof![3 => name(), 1 => Just("cnosdb".to_string())],
        any::<u128>(),
        prop::option::of(text()),
        any::<bool>(),
        prop::option::of(any::<u32>()),
        prop::collection::vec(db(), 0..3),
        prop::collection::vec(role(), 0..3),
        prop::collection::vec(member(), 0..4),
    )
        .prop_map(
            |(name, id, comment, limiter_config, limiter, mut dbs, mut roles, members)| {
                dedup_by(&mut dbs, |d| d.name.clone());
                dedup_by(&mut roles, |r| r.name.clone());
                Tenant {
                    name,
                    id,
                    comment,
                    limiter_config,
                    limiter,
                    dbs,
                    roles,
                    members,
                }
            },
        )
}

fn store() -> impl Strategy<Value = Store> {
    (
        prop_oneof![3 => Just("cluster_xxx".to_string()), 1 => name()],
        prop::option::of(any::<u64>()),
        prop::option::of(any::<u64>()),
        prop::collection::vec(1000u64..3000, 0..3),
        prop::collection::vec(user(), 0..6),
        prop::collection::vec(tenant(), 0..4),
    )
        .prop_map(
            |(cluster, auto_incr_id, data_version, mut data_nodes, mut users, mut tenants)| {
                data_nodes.sort_unstable();
                data_nodes.dedup();
                dedup_by(&mut users, |u| u.name.clone());
                dedup_by(&mut users, |u| u.id.to_string());
                dedup_by(&mut tenants, |t| t.name.clone());
                Store {
                    cluster,
                    auto_incr_id,
                    data_version,
                    data_nodes,
                    users,
                    tenants,
                }
            },
        )
}

// ---------------------------------------------------------------------------------------------
// Running the transform.

/// An owned report entry.
#[derive(Debug, Clone, PartialEq, Eq)]
struct E {
    line: u64,
    key: String,
    new_key: Option<String>,
    kind: &'static str,
    action: &'static str,
    rule: &'static str,
    changes: Vec<(String, &'static str)>,
}

#[derive(Default)]
struct Collect(Vec<E>);

impl Observer for Collect {
    fn entry(&mut self, e: &Entry<'_>) -> cnosdb_migrate::Result<()> {
        self.0.push(E {
            line: e.line,
            key: e.key.to_string(),
            new_key: e.new_key.map(str::to_string),
            kind: e.kind,
            action: e.action.name(),
            rule: e.rule,
            changes: e
                .changes
                .iter()
                .map(|c| (c.field.clone(), c.op.name()))
                .collect(),
        });
        Ok(())
    }
}

fn run(input: &str, t: Target) -> (String, Vec<E>, Summary) {
    run_with(input, &TransformOptions::new(Rules::new(t)))
}

fn run_with(input: &str, opts: &TransformOptions) -> (String, Vec<E>, Summary) {
    let t = opts.rules.target;
    let mut out = Vec::new();
    let mut seen = Collect::default();
    let summary = transform(input.as_bytes(), &mut out, opts, &mut seen)
        .unwrap_or_else(|e| panic!("--target {t}: {e}\n{input}"));
    // Without a report, runs of dropped records are counted, not seen one by one: the same
    // output and totals.
    let mut quiet = Vec::new();
    let quiet_summary = transform(input.as_bytes(), &mut quiet, opts, &mut NoReport)
        .unwrap_or_else(|e| panic!("--target {t}, no report: {e}\n{input}"));
    assert_eq!(quiet, out, "--target {t}, no report");
    assert_eq!(
        serde_json::to_string(&quiet_summary).unwrap(),
        serde_json::to_string(&summary).unwrap(),
        "--target {t}, no report"
    );
    (String::from_utf8(out).unwrap(), seen.0, summary)
}

fn lines_of(text: &str) -> Vec<(&str, &str)> {
    text.lines()
        .map(|l| l.split_once(": ").expect("KEY: VALUE"))
        .collect()
}

fn raw<'a>(o: &Object<'a>, name: &str) -> Option<&'a str> {
    o.get(name).map(cnosdb_migrate::json::Raw::get)
}

fn obj<'a>(o: &Object<'a>, name: &str) -> Object<'a> {
    o.object(name).unwrap()
}

/// Checks that the members of a patched record the rules do not touch kept their bytes.
fn check_untouched(kind: &str, input: &str, output: &str, t: Target) {
    let i = Object::parse(input).unwrap();
    let o = Object::parse(output).unwrap_or_else(|e| panic!("output {e}: {output}"));
    match kind {
        "tenant" => {
            for f in ["id", "name"] {
                assert_eq!(raw(&i, f), raw(&o, f), "tenant {f}");
            }
            let (io, oo) = (obj(&i, "options"), obj(&o, "options"));
            for f in ["comment", "limiter_config"] {
                assert_eq!(raw(&io, f), raw(&oo, f), "tenant options.{f}");
            }
        }
        "user" => {
            for f in ["id", "name"] {
                assert_eq!(raw(&i, f), raw(&o, f), "user {f}");
            }
            let admin = if t >= Target::V2_4_1 {
                "is_root_admin"
            } else {
                "is_admin"
            };
            assert_eq!(raw(&i, "is_admin"), raw(&o, admin));
            let (io, oo) = (obj(&i, "options"), obj(&o, "options"));
            assert_eq!(raw(&io, "password"), raw(&oo, "hash_password"), "hash kept");
            for f in ["rsa_public_key", "comment", "granted_admin"] {
                if let Some(v) = raw(&io, f).filter(|v| *v != "null") {
                    assert_eq!(raw(&oo, f), Some(v), "user options.{f}");
                }
            }
        }
        "database" => {
            for f in ["tenant", "database"] {
                assert_eq!(raw(&i, f), raw(&o, f), "database {f}");
            }
            let ic = obj(&i, "config");
            if t >= Target::V2_4_2 {
                let (oo, oc) = (obj(&o, "options"), obj(&o, "config"));
                for f in ["shard_num", "replica"] {
                    if let Some(v) = raw(&ic, f).filter(|v| *v != "null") {
                        assert_eq!(raw(&oo, f), Some(v), "options.{f}");
                    }
                }
                if let Some(v) = raw(&ic, "precision").filter(|v| *v != "null") {
                    assert_eq!(raw(&oc, "precision"), Some(v));
                }
            } else {
                let oc = obj(&o, "config");
                for (n, v) in &ic.members {
                    assert_eq!(raw(&oc, n), Some(v.get()), "config.{n}");
                }
            }
        }
        "table" => {
            let (ii, oi) = (obj(&i, "TsKvTableSchema"), obj(&o, "TsKvTableSchema"));
            for f in ["tenant", "db", "name", "next_column_id", "columns"] {
                assert_eq!(raw(&ii, f), raw(&oi, f), "table {f}");
            }
            if ii.has("columns_index") {
                assert_eq!(raw(&ii, "columns_index"), raw(&oi, "columns_index"));
            }
            // Renamed from 2.4.1; before, patched only to add a missing `columns_index`.
            let version = raw(&oi, "schema_version").or_else(|| raw(&oi, "schema_id"));
            assert_eq!(
                raw(&ii, "schema_id").or_else(|| raw(&ii, "schema_version")),
                version
            );
        }
        other => panic!("a {other} record is never patched"),
    }
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 64,
        // Failing seeds go to `proptest-regressions/` at the crate root, rerun first.
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct(
                "proptest-regressions/transform_props.txt",
            ),
        )),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn dump_and_debug_forms_give_identical_output(store in store()) {
        let recs = store.records();
        let (dump, debug) = (dump_form(&recs), debug_form(&recs));
        for t in Target::ALL {
            let (out_dump, entries_dump, sum_dump) = run(&dump, t);
            let (out_debug, entries_debug, sum_debug) = run(&debug, t);
            prop_assert_eq!(&out_dump, &out_debug, "--target {}", t);
            prop_assert_eq!(sum_dump.form, if recs.is_empty() { None } else { Some("dump") });
            prop_assert_eq!(sum_debug.form, Some("debug"));
            prop_assert_eq!(entries_dump.len(), entries_debug.len());
            for (d, g) in entries_dump.iter().zip(&entries_debug) {
                let mut shifted = d.clone();
                shifted.line += 1;
                prop_assert_eq!(&shifted, g);
            }
            prop_assert_eq!(&sum_dump.output_sha256, &sum_debug.output_sha256);
            // CRLF line endings (a dump saved on Windows) are normalized away.
            let (out_crlf, entries_crlf, sum_crlf) = run(&debug.replace('\n', "\r\n"), t);
            prop_assert_eq!(&out_crlf, &out_dump);
            prop_assert_eq!(&entries_crlf, &entries_debug);
            prop_assert_eq!(sum_crlf.crlf_lines, recs.len() as u64 + 2);
        }
    }

    #[test]
    fn transform_is_idempotent_on_its_own_output(store in store()) {
        let dump = dump_form(&store.records());
        for t in Target::ALL {
            let (once, _, _) = run(&dump, t);
            let (twice, entries, summary) = run(&once, t);
            prop_assert_eq!(&twice, &once, "--target {}", t);
            for e in &entries {
                prop_assert_eq!(e.action, "kept", "second pass, --target {}: {:?}", t, e);
            }
            prop_assert_eq!(summary.output_records, summary.input_records);
        }
    }

    #[test]
    fn every_input_record_appears_exactly_once_in_the_report(store in store()) {
        let recs = store.records();
        let dump = dump_form(&recs);
        for t in Target::ALL {
            let (out, entries, summary) = run(&dump, t);
            let mut lines: Vec<u64> = entries.iter().map(|e| e.line).collect();
            lines.sort_unstable();
            let want: Vec<u64> = (1..=recs.len() as u64).collect();
            prop_assert_eq!(lines, want, "--target {}", t);
            for e in &entries {
                prop_assert_eq!(&e.key, &recs[e.line as usize - 1].0);
            }
            prop_assert_eq!(summary.input_records, recs.len() as u64);
            // What the report says was written is what was written, in that order.
            let written: Vec<&str> = entries
                .iter()
                .filter(|e| e.action != "dropped")
                .map(|e| e.key.as_str())
                .collect();
            let out_keys: Vec<&str> = lines_of(&out).iter().map(|(k, _)| *k).collect();
            prop_assert_eq!(written, out_keys);
            prop_assert_eq!(summary.output_records, lines_of(&out).len() as u64);
        }
    }

    #[test]
    fn untouched_values_come_out_byte_identical(store in store()) {
        let recs = store.records();
        let input: HashMap<&str, &str> =
            recs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let dump = dump_form(&recs);
        for t in Target::ALL {
            let (out, entries, _) = run(&dump, t);
            let output: BTreeMap<&str, &str> = lines_of(&out).into_iter().collect();
            for e in &entries {
                let before = input[e.key.as_str()];
                match e.action {
                    "kept" => prop_assert_eq!(output[e.key.as_str()], before, "{:?}", e),
                    "patched" => {
                        prop_assert!(!e.changes.is_empty(), "{:?}", e);
                        check_untouched(e.kind, before, output[e.key.as_str()], t);
                    }
                    "dropped" => prop_assert!(!output.contains_key(e.key.as_str())),
                    other => prop_assert!(false, "unexpected action {}", other),
                }
            }
        }
    }

    #[test]
    fn rename_cluster_changes_keys_only(store in store(), new in name()) {
        let dump = dump_form(&store.records());
        let old = format!("/{}/", store.cluster);
        for t in Target::ALL {
            let (plain, plain_entries, _) = run(&dump, t);
            let mut opts = TransformOptions::new(Rules::new(t));
            opts.rename_cluster = Some(new.clone());
            let (renamed, entries, _) = run_with(&dump, &opts);
            let want: String = plain
                .lines()
                .map(|l| match l.strip_prefix(old.as_str()) {
                    Some(rest) => format!("/{new}/{rest}\n"),
                    None => format!("{l}\n"),
                })
                .collect();
            prop_assert_eq!(&renamed, &want, "--target {}", t);
            prop_assert_eq!(entries.len(), plain_entries.len());
            for (e, p) in entries.iter().zip(&plain_entries) {
                prop_assert_eq!((&e.key, e.rule), (&p.key, p.rule));
                if new != store.cluster && p.action != "dropped" {
                    let action = if p.action == "kept" { "moved" } else { p.action };
                    prop_assert_eq!(e.action, action);
                    let new_prefix = format!("/{}/", new);
                    prop_assert!(
                        e.new_key.as_deref().is_some_and(|k| k.starts_with(&new_prefix)),
                        "{:?}",
                        e
                    );
                } else {
                    prop_assert_eq!(e, p);
                }
            }
        }
    }

    #[test]
    fn tenant_and_db_filters_only_leave_records_out(
        store in store(),
        pick in any::<prop::sample::Index>(),
        pick_db in any::<prop::sample::Index>(),
    ) {
        prop_assume!(!store.tenants.is_empty());
        let dump = dump_form(&store.records());
        let tenant = pick.get(&store.tenants).clone();
        let prefix = format!("/{}/tenants/{}", store.cluster, tenant.name);
        let in_tenant = |k: &str| k == prefix || k.starts_with(&format!("{prefix}/"));
        let db = (!tenant.dbs.is_empty()).then(|| pick_db.get(&tenant.dbs).name.clone());
        for t in Target::ALL {
            let (plain, _, _) = run(&dump, t);
            let keep = |drop: &dyn Fn(&str) -> bool| -> String {
                plain
                    .lines()
                    .filter(|l| !drop(l.split_once(": ").unwrap().0))
                    .map(|l| format!("{l}\n"))
                    .collect()
            };
            let mut opts = TransformOptions::new(Rules::new(t));
            opts.filter.exclude_tenants = vec![tenant.name.clone()];
            let (out, entries, _) = run_with(&dump, &opts);
            prop_assert_eq!(out, keep(&|k| in_tenant(k)), "exclude {:?}", tenant.name);
            for e in entries.iter().filter(|e| e.rule == "drop.filtered") {
                prop_assert!(in_tenant(&e.key), "{:?}", e);
            }

            let mut opts = TransformOptions::new(Rules::new(t));
            opts.filter.include_tenants = vec![tenant.name.clone()];
            let (out, _, _) = run_with(&dump, &opts);
            let tenants = format!("/{}/tenants/", store.cluster);
            prop_assert_eq!(out, keep(&|k| k.starts_with(&tenants) && !in_tenant(k)));

            if let Some(db) = &db {
                let db_key = format!("{prefix}/dbs/{db}");
                let mut opts = TransformOptions::new(Rules::new(t));
                opts.filter.exclude_dbs = vec![(tenant.name.clone(), db.clone())];
                let (out, _, _) = run_with(&dump, &opts);
                prop_assert_eq!(
                    out,
                    keep(&|k| k == db_key || k.starts_with(&format!("{db_key}/")))
                );
            }
        }
    }

    #[test]
    fn converting_in_steps_equals_converting_at_once(store in store()) {
        let dump = dump_form(&store.records());
        for (i, a) in Target::ALL.iter().enumerate() {
            let (first, _, _) = run(&dump, *a);
            for b in &Target::ALL[i..] {
                let (direct, _, _) = run(&dump, *b);
                let (mut stepped, _, _) = run(&first, *b);
                if *a >= Target::V2_4_2 && *b >= Target::V2_4_3 && a != b {
                    // A database already in 2.4.2's shape passes unchanged, with 2.4.2's
                    // `DatabaseConfig::default()` (as after a real 2.4.2 -> 2.4.3 upgrade).
                    stepped = stepped.replace(
                        "\"wal_max_file_size\":1073741824,",
                        "\"wal_max_file_size\":134217728,",
                    );
                }
                prop_assert_eq!(&stepped, &direct, "{} then {}", a, b);
            }
        }
    }
}
