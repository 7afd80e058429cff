//! Deterministic generator of large, realistic CnosDB **v2.3.5.4** meta-store dumps, shared by
//! `examples/gen_dump.rs` (the command line) and the criterion benches (`#[path]`-included).
//!
//! [`generate`] writes a dump of about `size` bytes for a [`Spec`]: the same spec gives the same
//! bytes on any machine. The size is measured on the `/dump` form; the `/debug` form adds the two
//! banner lines and 2 bytes (`* `) per record, so both forms carry byte-identical records.
//!
//! What comes out (shapes from `docs/meta-format.md` §4.3/§4.4/§5.3, field order as
//! 2.3.5.4's serde emits it, compact JSON, u128 ids as bare integers, keys unique and in
//! ascending byte order like sled's iteration):
//! `/{c}/auto_incr_id`, a few `data_nodes` and `data_nodes_metrics`, tenants (`cnosdb` plus
//! several others, some with limiter configs and `/limiter` records), per tenant its databases
//! (ttl/vnode_duration in Minutes/Hour/Day/Inf/null, shard/replica/precision set or null), the
//! buckets of each database (about 60% of the bytes), TSKV table schemas with 5-200 columns
//! (about 35%), a few external and stream tables, custom roles, members (uids of real users), users
//! (tens to hundreds, as in real clusters: bcrypt hashes, some null passwords, root with a null
//! password, a few non-ASCII names and RSA keys) and `/data_version`.
//!
//! Only std plus a built-in splitmix64; the generator is a dev tool, not part of the CLI.

use std::io::{self, Write};

// ---------------------------------------------------------------------------------------------
// PRNG
// ---------------------------------------------------------------------------------------------

/// splitmix64: tiny, fast, good enough for synthetic data, identical on every platform.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: u64) -> u64 {
        ((self.next() as u128 * n as u128) >> 64) as u64
    }
    fn below_usize(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }
    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below_usize(xs.len())]
    }
    fn weighted<'a, T>(&mut self, xs: &'a [(u32, T)]) -> &'a T {
        let total: u64 = xs.iter().map(|x| x.0 as u64).sum();
        let mut r = self.below(total);
        for (w, v) in xs {
            if r < *w as u64 {
                return v;
            }
            r -= *w as u64;
        }
        &xs[xs.len() - 1].1
    }
    /// A random OID like 2.3's: a full-width u128 (38-39 digits most of the time).
    fn oid(&mut self) -> u128 {
        ((self.next() as u128) << 64) | self.next() as u128
    }
    /// Heavy-tailed weight in `[1, cap]`.
    fn pareto(&mut self, alpha: f64, cap: f64) -> f64 {
        (1.0 - self.unit()).powf(-1.0 / alpha).min(cap)
    }
    fn fork(&mut self) -> Rng {
        Rng(self.next())
    }
    fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            let j = self.below_usize(i + 1);
            xs.swap(i, j);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Byte helpers (compact JSON written by hand: much faster than going through fmt/serde)
// ---------------------------------------------------------------------------------------------

fn push_u64(b: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    b.extend_from_slice(&tmp[i..]);
}

fn push_u128(b: &mut Vec<u8>, mut n: u128) {
    let mut tmp = [0u8; 40];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    b.extend_from_slice(&tmp[i..]);
}

fn u128_string(n: u128) -> String {
    let mut v = Vec::with_capacity(40);
    push_u128(&mut v, n);
    String::from_utf8(v).unwrap()
}

/// A JSON string literal, escaped the way serde_json does (non-ASCII left as UTF-8).
fn push_str(b: &mut Vec<u8>, s: &str) {
    b.push(b'"');
    for &c in s.as_bytes() {
        match c {
            b'"' => b.extend_from_slice(b"\\\""),
            b'\\' => b.extend_from_slice(b"\\\\"),
            b'\n' => b.extend_from_slice(b"\\n"),
            b'\r' => b.extend_from_slice(b"\\r"),
            b'\t' => b.extend_from_slice(b"\\t"),
            0x08 => b.extend_from_slice(b"\\b"),
            0x0c => b.extend_from_slice(b"\\f"),
            c if c < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                b.extend_from_slice(b"\\u00");
                b.push(HEX[(c >> 4) as usize]);
                b.push(HEX[(c & 15) as usize]);
            }
            c => b.push(c),
        }
    }
    b.push(b'"');
}

fn push_opt_u64(b: &mut Vec<u8>, v: Option<u64>) {
    match v {
        Some(n) => push_u64(b, n),
        None => b.extend_from_slice(b"null"),
    }
}

fn push_bool(b: &mut Vec<u8>, v: bool) {
    b.extend_from_slice(if v { b"true" } else { b"false" });
}

/// `DateTime<Utc>` as chrono's serde writes it (RFC 3339, nanoseconds, `Z`).
fn push_rfc3339(b: &mut Vec<u8>, unix_secs: u64, nanos: u32) {
    let days = (unix_secs / 86_400) as i64;
    let sod = unix_secs % 86_400;
    // civil_from_days (H. Hinnant)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    let s = format!(
        "\"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z\"",
        y,
        m,
        d,
        sod / 3600,
        sod / 60 % 60,
        sod % 60,
        nanos
    );
    b.extend_from_slice(s.as_bytes());
}

// ---------------------------------------------------------------------------------------------
// Output: ordering guard, /debug frame, statistics
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy)]
enum Cat {
    Global,
    Node,
    Tenant,
    Limiter,
    Role,
    Member,
    User,
    Db,
    Bucket,
    Tskv,
    External,
    Stream,
}
const CAT_NAMES: [&str; 12] = [
    "global",
    "data_node",
    "tenant",
    "limiter",
    "role",
    "member",
    "user",
    "database",
    "bucket",
    "tskv_table",
    "external_table",
    "stream_table",
];

const DEBUG_HEAD: &[u8] = b"******---------------------------******\n";
const DEBUG_TAIL: &[u8] = b"******----------------------------------------------******\n";

struct Out<W: Write> {
    w: W,
    debug: bool,
    /// Bytes of records in `/dump` form (`KEY: VALUE\n`); the size budget is counted on this.
    bytes: u64,
    records: u64,
    last_key: Vec<u8>,
    stats: [(u64, u64); 12],
}

impl<W: Write> Out<W> {
    fn new(w: W, debug: bool) -> io::Result<Self> {
        let mut o = Out {
            w,
            debug,
            bytes: 0,
            records: 0,
            last_key: Vec::new(),
            stats: [(0, 0); 12],
        };
        if o.debug {
            o.w.write_all(DEBUG_HEAD)?;
        }
        Ok(o)
    }

    fn rec(&mut self, cat: Cat, key: &[u8], val: &[u8]) -> io::Result<()> {
        // A real dump is a sled scan: strictly ascending byte order, hence unique keys.
        if self.records > 0 && key <= &self.last_key[..] {
            panic!(
                "generator bug: key {:?} does not sort after {:?}",
                String::from_utf8_lossy(key),
                String::from_utf8_lossy(&self.last_key)
            );
        }
        self.last_key.clear();
        self.last_key.extend_from_slice(key);
        if self.debug {
            self.w.write_all(b"* ")?;
        }
        self.w.write_all(key)?;
        self.w.write_all(b": ")?;
        self.w.write_all(val)?;
        self.w.write_all(b"\n")?;
        let n = (key.len() + val.len() + 3) as u64;
        self.bytes += n;
        self.records += 1;
        let s = &mut self.stats[cat as usize];
        s.0 += 1;
        s.1 += n;
        Ok(())
    }

    fn finish(mut self) -> io::Result<Stats> {
        if self.debug {
            self.w.write_all(DEBUG_TAIL)?;
        }
        self.w.flush()?;
        Ok(Stats {
            records: self.records,
            bytes: self.bytes,
            kinds: CAT_NAMES
                .iter()
                .zip(self.stats)
                .map(|(name, (n, bytes))| (*name, n, bytes))
                .collect(),
        })
    }
}

fn line_len(key: &[u8], val: &[u8]) -> u64 {
    (key.len() + val.len() + 3) as u64
}

// ---------------------------------------------------------------------------------------------
// Vocabulary
// ---------------------------------------------------------------------------------------------

#[rustfmt::skip]
const TENANT_WORDS: &[&str] = &[
    "acme", "aurora", "beacon", "cobalt", "deltagrid", "evergreen", "falcon", "granite", "harbor",
    "helios", "ionic", "juniper", "kestrel", "lumen", "meridian", "nimbus", "northwind", "orbit",
    "pioneer", "quartz", "redwood", "sable", "summit", "tundra", "umbra", "vertex", "willow",
    "xenon", "yonder", "zephyr", "atlas", "boreal",
];

#[rustfmt::skip]
const DB_WORDS: &[&str] = &[
    "telemetry", "metrics", "iot", "fleet", "sensors", "scada", "energy", "grid", "weather",
    "monitor", "apm", "logs_agg", "billing", "devices", "factory", "vehicles", "smartmeter",
    "infra", "k8s", "network", "edge", "plant", "hvac", "trading", "ops",
];

#[rustfmt::skip]
const MEASUREMENT_WORDS: &[&str] = &[
    "air", "cpu", "mem", "disk", "diskio", "net", "kernel", "processes", "swap", "system", "nginx",
    "http_requests", "jvm", "gc", "mysql", "redis", "kafka", "meter", "inverter", "battery",
    "turbine", "pump", "valve", "boiler", "chiller", "gps", "obd", "engine", "tire", "sensor",
    "station", "ups", "pdu", "router", "switch", "modem", "camera", "door", "elevator", "weather",
    "soil", "water_quality", "air_quality", "vibration", "motor", "robot", "plc", "conveyor",
    "spindle",
];

#[rustfmt::skip]
const TAG_WORDS: &[&str] = &[
    "host", "region", "az", "datacenter", "rack", "device_id", "sensor_id", "vehicle_id", "line",
    "plant", "site", "building", "floor", "room", "vendor", "model", "firmware", "app", "service",
    "env", "cluster", "namespace", "pod", "container", "node", "instance", "job", "city", "country",
    "station", "owner", "channel", "protocol", "interface", "direction", "status_code", "method",
    "route", "shard", "zone", "gateway", "asset_id", "meter_id", "customer",
];

#[rustfmt::skip]
const FIELD_WORDS: &[&str] = &[
    "temperature", "humidity", "pressure", "voltage", "current", "power", "energy", "frequency",
    "rpm", "speed", "latitude", "longitude", "altitude", "heading", "fuel_level", "battery_level",
    "signal_strength", "rssi", "snr", "cpu_usage", "usage_system", "usage_user", "usage_idle",
    "usage_iowait", "mem_used", "mem_free", "mem_cached", "swap_used", "read_bytes", "write_bytes",
    "disk_used", "inodes_free", "rx_bytes", "tx_bytes", "rx_errors", "tx_dropped", "load1", "load5",
    "load15", "uptime", "requests", "errors", "latency_p50", "latency_p95", "latency_p99",
    "queue_depth", "connections", "threads", "gc_pause", "heap_used", "visibility", "wind_speed",
    "wind_direction", "rainfall", "pm25", "pm10", "co2", "noise_db", "flow_rate", "level", "torque",
    "vibration_rms", "status", "message", "error_code", "is_online", "alarm", "door_open",
    "fw_version", "reading", "counter", "total_count", "duration_ms", "bytes_in", "bytes_out",
    "packets_in", "packets_out", "retries", "power_factor", "active_energy", "reactive_power",
    "soc", "soh", "cell_voltage_max", "cell_voltage_min",
];

#[rustfmt::skip]
const FIRST_NAMES: &[&str] = &[
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
    "nia", "oscar", "peggy", "quinn", "rupert", "sybil", "trent", "uma", "victor", "wendy",
    "xavier", "yara", "zoe", "li", "wei", "fang", "jun", "hao", "mei", "arjun", "priya", "omar",
    "fatima", "lucas", "sofia", "mateo", "elena", "noah", "emma",
];

#[rustfmt::skip]
const LAST_NAMES: &[&str] = &[
    "smith", "jones", "wang", "li", "zhang", "liu", "chen", "garcia", "muller", "rossi", "kim",
    "park", "sato", "novak", "silva", "kowalski", "nguyen", "ivanov", "dubois", "jensen",
];

#[rustfmt::skip]
const SERVICE_WORDS: &[&str] = &[
    "svc_ingest", "svc_grafana", "svc_etl", "svc_alerting", "svc_backup", "svc_telegraf",
    "svc_flink", "svc_datax", "svc_report", "svc_api",
];

/// Names a real cluster had: quoted identifiers with non-ASCII letters.
const ODD_USER_NAMES: &[&str] = &["张伟", "李娜_ops", "josé_garcía", "søren", "müller_ro"];

#[rustfmt::skip]
const ROLE_WORDS: &[&str] = &[
    "analyst", "readonly", "writer", "ops", "dba", "dashboard", "etl", "auditor", "dev", "sre",
    "data_science", "ingest",
];

#[rustfmt::skip]
const TENANT_COMMENTS: &[&str] = &[
    "production IoT fleet", "billing team - \"critical\" workloads", "测试租户",
    "legacy {v1} workloads }}", "edge sites: EU/US", "shared staging",
    "customer onboarding (trial)", "password: rotated monthly",
];

#[rustfmt::skip]
const USER_COMMENTS: &[&str] = &[
    "grafana read account", "on-call SRE", "ETL job, do not delete", "created by ticket OPS-1234",
    "外包团队", "contractor \"temp\" access", "password: rotated monthly", "backup \\ restore operator",
];

#[rustfmt::skip]
const LIMITER_KINDS: &[&str] = &[
    "coord_data_in", "coord_data_out", "coord_queries", "coord_writes", "http_data_in",
    "http_data_out", "http_queries", "http_writes",
];
#[rustfmt::skip]
const LIMITER_KIND_NAMES: &[&str] = &[
    "CoordDataIn", "CoordDataOut", "CoordQueries", "CoordWrites", "HttpDataIn", "HttpDataOut",
    "HttpQueries", "HttpWrites",
];

const USAGE_TABLES: &[(&str, &[&str])] = &[
    ("coord_data_in", &["database", "node_id", "tenant"]),
    ("coord_data_out", &["database", "node_id", "tenant"]),
    ("coord_queries", &["database", "node_id", "tenant"]),
    ("coord_writes", &["database", "node_id", "tenant"]),
    (
        "http_data_in",
        &["api", "database", "host", "node_id", "tenant", "user"],
    ),
    (
        "http_data_out",
        &["api", "database", "host", "node_id", "tenant", "user"],
    ),
    (
        "http_queries",
        &["api", "database", "host", "node_id", "tenant", "user"],
    ),
    (
        "http_writes",
        &["api", "database", "host", "node_id", "tenant", "user"],
    ),
    ("sql_data_in", &["database", "node_id", "tenant"]),
    (
        "vnode_cache_size",
        &["database", "node_id", "tenant", "vnode_id"],
    ),
    (
        "vnode_disk_storage",
        &["database", "node_id", "tenant", "vnode_id"],
    ),
];

const PRIVILEGES: [&[u8]; 3] = [b"\"Read\"", b"\"Write\"", b"\"Full\""];

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BCRYPT64: &[u8; 64] = b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// 2024-06-01T00:00:00Z: "now" of the synthetic cluster.
const NOW_SECS: u64 = 1_717_200_000;
/// Buckets never start before 2000-01-01.
const EPOCH_2000: u64 = 946_684_800;

// ---------------------------------------------------------------------------------------------
// Domain pieces
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum Prec {
    Ms,
    Us,
    Ns,
}

impl Prec {
    fn per_sec(self) -> u64 {
        match self {
            Prec::Ms => 1_000,
            Prec::Us => 1_000_000,
            Prec::Ns => 1_000_000_000,
        }
    }
    fn json(self) -> &'static str {
        match self {
            Prec::Ms => "\"MS\"",
            Prec::Us => "\"US\"",
            Prec::Ns => "\"NS\"",
        }
    }
    fn time_unit(self) -> &'static str {
        match self {
            Prec::Ms => "Millisecond",
            Prec::Us => "Microsecond",
            Prec::Ns => "Nanosecond",
        }
    }
}

/// A 2.3 `Duration` (`{"time_num":N,"unit":U}`) or a null option.
#[derive(Clone, Copy)]
enum Dur {
    Null,
    Min(u64),
    Hour(u64),
    Day(u64),
    Inf(u64),
}

impl Dur {
    fn push(self, b: &mut Vec<u8>) {
        let (n, unit) = match self {
            Dur::Null => {
                b.extend_from_slice(b"null");
                return;
            }
            Dur::Min(n) => (n, "Minutes"),
            Dur::Hour(n) => (n, "Hour"),
            Dur::Day(n) => (n, "Day"),
            Dur::Inf(n) => (n, "Inf"),
        };
        b.extend_from_slice(b"{\"time_num\":");
        push_u64(b, n);
        b.extend_from_slice(b",\"unit\":\"");
        b.extend_from_slice(unit.as_bytes());
        b.extend_from_slice(b"\"}");
    }
    /// Seconds as a vnode_duration means (null = 2.3's default of 365 days).
    fn vnode_secs(self) -> Option<u64> {
        match self {
            Dur::Null => Some(365 * 86_400),
            Dur::Min(n) => Some(n * 60),
            Dur::Hour(n) => Some(n * 3_600),
            Dur::Day(n) => Some(n * 86_400),
            Dur::Inf(_) => None,
        }
    }
}

const VNODE_CHOICES: &[(u32, Dur)] = &[
    (1, Dur::Min(10)),
    (2, Dur::Min(30)),
    (1, Dur::Min(60)),
    (3, Dur::Hour(1)),
    (1, Dur::Hour(2)),
    (2, Dur::Hour(6)),
    (2, Dur::Hour(12)),
    (8, Dur::Day(1)),
    (1, Dur::Day(3)),
    (4, Dur::Day(7)),
    (2, Dur::Day(30)),
    (1, Dur::Day(365)),
    (2, Dur::Null),
];

const TTL_CHOICES: &[(u32, Dur)] = &[
    (8, Dur::Null),
    (5, Dur::Inf(0)),
    (1, Dur::Day(100_000)), // what 2.3's Duration::new_inf() writes
    (3, Dur::Day(7)),
    (6, Dur::Day(30)),
    (3, Dur::Day(90)),
    (2, Dur::Day(180)),
    (5, Dur::Day(365)),
    (2, Dur::Day(730)),
    (2, Dur::Hour(24)),
    (2, Dur::Hour(72)),
    (1, Dur::Hour(720)),
    (1, Dur::Min(1440)),
    (1, Dur::Min(10_080)),
];

struct DbOpts {
    ttl: Dur,
    shard: Option<u64>,
    vnode: Dur,
    replica: Option<u64>,
    prec: Option<Prec>,
}

impl DbOpts {
    fn all_null() -> Self {
        DbOpts {
            ttl: Dur::Null,
            shard: None,
            vnode: Dur::Null,
            replica: None,
            prec: None,
        }
    }
    fn prec(&self) -> Prec {
        self.prec.unwrap_or(Prec::Ns)
    }
}

fn push_db_json(b: &mut Vec<u8>, tenant: &str, db: &str, o: &DbOpts) {
    b.extend_from_slice(b"{\"tenant\":");
    push_str(b, tenant);
    b.extend_from_slice(b",\"database\":");
    push_str(b, db);
    b.extend_from_slice(b",\"config\":{\"ttl\":");
    o.ttl.push(b);
    b.extend_from_slice(b",\"shard_num\":");
    push_opt_u64(b, o.shard);
    b.extend_from_slice(b",\"vnode_duration\":");
    o.vnode.push(b);
    b.extend_from_slice(b",\"replica\":");
    push_opt_u64(b, o.replica);
    b.extend_from_slice(b",\"precision\":");
    match o.prec {
        Some(p) => b.extend_from_slice(p.json().as_bytes()),
        None => b.extend_from_slice(b"null"),
    }
    b.extend_from_slice(b"}}");
}

/// `BucketInfo`: `{"id","start_time","end_time","shard_group":[{"id","vnodes":[{"id","node_id","status"}]}]}`.
#[allow(clippy::too_many_arguments)]
fn push_bucket_json(
    b: &mut Vec<u8>,
    rng: &mut Rng,
    ids: &mut IdAlloc,
    start: u64,
    end: u64,
    shards: u64,
    replicas: u64,
    nodes: &[u64],
) -> u32 {
    let id = ids.take();
    b.extend_from_slice(b"{\"id\":");
    push_u64(b, id as u64);
    b.extend_from_slice(b",\"start_time\":");
    push_u64(b, start);
    b.extend_from_slice(b",\"end_time\":");
    push_u64(b, end);
    b.extend_from_slice(b",\"shard_group\":[");
    let first = rng.below_usize(nodes.len());
    for (off, s) in (first..).zip(0..shards) {
        if s > 0 {
            b.push(b',');
        }
        b.extend_from_slice(b"{\"id\":");
        push_u64(b, ids.take() as u64);
        b.extend_from_slice(b",\"vnodes\":[");
        for r in 0..replicas {
            if r > 0 {
                b.push(b',');
            }
            b.extend_from_slice(b"{\"id\":");
            push_u64(b, ids.take() as u64);
            b.extend_from_slice(b",\"node_id\":");
            push_u64(b, nodes[(off + r as usize) % nodes.len()]);
            b.extend_from_slice(b",\"status\":\"");
            let st: &[u8] = if rng.chance(0.002) {
                b"Copying"
            } else if rng.chance(0.001) {
                b"Broken"
            } else {
                b"Running"
            };
            b.extend_from_slice(st);
            b.extend_from_slice(b"\"}");
        }
        b.extend_from_slice(b"]}");
    }
    b.extend_from_slice(b"]}");
    id
}

/// The cluster-wide `auto_incr_id` counter. The generator writes `/{c}/auto_incr_id` first, so
/// it commits to a ceiling up front and never hands out an id at or above it.
struct IdAlloc {
    next: u64,
    ceiling: u64,
}

impl IdAlloc {
    fn take(&mut self) -> u32 {
        let id = self.next;
        assert!(
            id < self.ceiling,
            "generator bug: id {} reached auto_incr_id {}",
            id,
            self.ceiling
        );
        self.next += 1;
        id as u32
    }
    /// Ids consumed by buckets that were created and later expired/dropped.
    fn skip(&mut self, n: u64, reserve: u64) {
        if self.next + n + reserve < self.ceiling {
            self.next += n;
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum ColKind {
    Time,
    Tag,
    Float,
    Integer,
    Unsigned,
    Boolean,
    Str,
}

struct Col {
    id: u64,
    name: String,
    kind: ColKind,
    enc: &'static str,
}

#[allow(clippy::explicit_auto_deref)] // the deref pins the element type to &str
fn encoding_for(rng: &mut Rng, k: ColKind) -> &'static str {
    match k {
        ColKind::Time => *rng.weighted(&[(9, "Default"), (1, "Delta")]),
        ColKind::Tag => "Default",
        ColKind::Float => *rng.weighted(&[(14, "Default"), (5, "Gorilla"), (1, "Quantile")]),
        ColKind::Integer | ColKind::Unsigned => {
            *rng.weighted(&[(12, "Default"), (6, "Delta"), (2, "Quantile")])
        }
        ColKind::Boolean => *rng.weighted(&[(3, "Default"), (1, "BitPack")]),
        ColKind::Str => *rng.weighted(&[
            (10, "Default"),
            (2, "Gzip"),
            (1, "Bzip"),
            (2, "Snappy"),
            (3, "Zstd"),
            (1, "Zlib"),
        ]),
    }
}

fn field_kind(rng: &mut Rng) -> ColKind {
    *rng.weighted(&[
        (55, ColKind::Float),
        (15, ColKind::Integer),
        (8, ColKind::Unsigned),
        (7, ColKind::Boolean),
        (15, ColKind::Str),
    ])
}

/// Unique column name: the bare word the first time, `word_<id>` after that.
fn col_name(rng: &mut Rng, words: &[&str], used: &mut u128, id: u64) -> String {
    let i = rng.below_usize(words.len());
    if *used & (1u128 << i) == 0 {
        *used |= 1u128 << i;
        words[i].to_string()
    } else {
        format!("{}_{}", words[i], id)
    }
}

/// Column list of a TSKV table as CREATE TABLE / line-protocol auto-creation and later ALTERs
/// leave it: time first, then tags, then fields, then (if altered) a mixed tail; dropped columns
/// leave gaps in the ids.
fn gen_columns(rng: &mut Rng, cols: &mut Vec<Col>, prec: Prec) -> (u64, u64) {
    cols.clear();
    let ncols = 5 + (196.0 * rng.unit().powf(2.6)) as usize; // 5..=200, median ~22
    let altered = rng.chance(0.15);
    let schema_id = if altered { rng.range(1, 6) } else { 0 };
    let max_tags = (ncols - 2).min(16);
    let ntags = 1 + ((max_tags as f64) * rng.unit().powf(1.6)) as usize;
    let ntags = ntags.min(max_tags);
    let tail = if altered {
        rng.range(1, ((ncols - 1 - ntags) as u64).clamp(1, 8)) as usize
    } else {
        0
    };
    let nfields = ncols - 1 - ntags - tail;
    let (mut tag_used, mut field_used) = (0u128, 0u128);
    let mut id = 0u64;
    let bump = |rng: &mut Rng, id: &mut u64| {
        *id += 1;
        if altered && rng.chance(0.04) {
            *id += 1; // a dropped column
        }
    };
    cols.push(Col {
        id,
        name: "time".into(),
        kind: ColKind::Time,
        enc: encoding_for(rng, ColKind::Time),
    });
    bump(rng, &mut id);
    for _ in 0..ntags {
        let name = col_name(rng, TAG_WORDS, &mut tag_used, id);
        cols.push(Col {
            id,
            name,
            kind: ColKind::Tag,
            enc: "Default",
        });
        bump(rng, &mut id);
    }
    for _ in 0..nfields {
        let k = field_kind(rng);
        let name = col_name(rng, FIELD_WORDS, &mut field_used, id);
        cols.push(Col {
            id,
            name,
            kind: k,
            enc: encoding_for(rng, k),
        });
        bump(rng, &mut id);
    }
    for _ in 0..tail {
        let (k, name) = if rng.chance(0.2) {
            (ColKind::Tag, col_name(rng, TAG_WORDS, &mut tag_used, id))
        } else {
            (
                field_kind(rng),
                col_name(rng, FIELD_WORDS, &mut field_used, id),
            )
        };
        // tag and field word lists overlap in nothing, but tags and fields share a namespace:
        // make sure a name is never reused (names are unique per table).
        let name = if cols.iter().any(|c| c.name == name) {
            format!("{}_{}", name, id)
        } else {
            name
        };
        cols.push(Col {
            id,
            name,
            kind: k,
            enc: encoding_for(rng, k),
        });
        bump(rng, &mut id);
    }
    let _ = prec;
    let next_column_id = id
        + if altered && rng.chance(0.3) {
            rng.range(1, 3)
        } else {
            0
        };
    (schema_id, next_column_id)
}

fn push_column_type(b: &mut Vec<u8>, k: ColKind, prec: Prec) {
    match k {
        ColKind::Time => {
            b.extend_from_slice(b"{\"Time\":\"");
            b.extend_from_slice(prec.time_unit().as_bytes());
            b.extend_from_slice(b"\"}");
        }
        ColKind::Tag => b.extend_from_slice(b"\"Tag\""),
        ColKind::Float => b.extend_from_slice(b"{\"Field\":\"Float\"}"),
        ColKind::Integer => b.extend_from_slice(b"{\"Field\":\"Integer\"}"),
        ColKind::Unsigned => b.extend_from_slice(b"{\"Field\":\"Unsigned\"}"),
        ColKind::Boolean => b.extend_from_slice(b"{\"Field\":\"Boolean\"}"),
        ColKind::Str => b.extend_from_slice(b"{\"Field\":\"String\"}"),
    }
}

/// `{"TsKvTableSchema":{"tenant","db","name","schema_id","next_column_id","columns":[…],"columns_index":{…}}}`
/// `columns_index` is a HashMap in 2.3: its order in a real dump is arbitrary, so it is shuffled.
#[allow(clippy::too_many_arguments)]
fn push_tskv_json(
    b: &mut Vec<u8>,
    rng: &mut Rng,
    perm: &mut Vec<usize>,
    tenant: &str,
    db: &str,
    name: &str,
    schema_id: u64,
    next_column_id: u64,
    cols: &[Col],
    prec: Prec,
) {
    b.extend_from_slice(b"{\"TsKvTableSchema\":{\"tenant\":");
    push_str(b, tenant);
    b.extend_from_slice(b",\"db\":");
    push_str(b, db);
    b.extend_from_slice(b",\"name\":");
    push_str(b, name);
    b.extend_from_slice(b",\"schema_id\":");
    push_u64(b, schema_id);
    b.extend_from_slice(b",\"next_column_id\":");
    push_u64(b, next_column_id);
    b.extend_from_slice(b",\"columns\":[");
    for (i, c) in cols.iter().enumerate() {
        if i > 0 {
            b.push(b',');
        }
        b.extend_from_slice(b"{\"id\":");
        push_u64(b, c.id);
        b.extend_from_slice(b",\"name\":");
        push_str(b, &c.name);
        b.extend_from_slice(b",\"column_type\":");
        push_column_type(b, c.kind, prec);
        b.extend_from_slice(b",\"encoding\":\"");
        b.extend_from_slice(c.enc.as_bytes());
        b.extend_from_slice(b"\"}");
    }
    b.extend_from_slice(b"],\"columns_index\":{");
    perm.clear();
    perm.extend(0..cols.len());
    rng.shuffle(perm);
    for (i, &ix) in perm.iter().enumerate() {
        if i > 0 {
            b.push(b',');
        }
        push_str(b, &cols[ix].name);
        b.push(b':');
        push_u64(b, ix as u64);
    }
    b.extend_from_slice(b"}}}");
}

/// An arrow `Field` as arrow-schema 42 serializes it.
fn push_arrow_field(
    b: &mut Vec<u8>,
    name: &str,
    data_type: &str,
    nullable: bool,
    metadata: &[(&str, String)],
) {
    b.extend_from_slice(b"{\"name\":");
    push_str(b, name);
    b.extend_from_slice(b",\"data_type\":");
    b.extend_from_slice(data_type.as_bytes());
    b.extend_from_slice(b",\"nullable\":");
    push_bool(b, nullable);
    b.extend_from_slice(b",\"dict_id\":0,\"dict_is_ordered\":false,\"metadata\":{");
    for (i, (k, v)) in metadata.iter().enumerate() {
        if i > 0 {
            b.push(b',');
        }
        push_str(b, k);
        b.push(b':');
        push_str(b, v);
    }
    b.extend_from_slice(b"}}");
}

fn push_external_json(b: &mut Vec<u8>, rng: &mut Rng, tenant: &str, db: &str, name: &str) {
    let (file_type, ext) = *rng.weighted(&[
        (5, ("CSV", "csv")),
        (3, ("PARQUET", "parquet")),
        (1, ("JSON", "json")),
    ]);
    let compression = if file_type != "PARQUET" && rng.chance(0.2) {
        "GZIP"
    } else {
        ""
    };
    b.extend_from_slice(b"{\"ExternalTableSchema\":{\"tenant\":");
    push_str(b, tenant);
    b.extend_from_slice(b",\"db\":");
    push_str(b, db);
    b.extend_from_slice(b",\"name\":");
    push_str(b, name);
    b.extend_from_slice(b",\"file_compression_type\":");
    push_str(b, compression);
    b.extend_from_slice(b",\"file_type\":");
    push_str(b, file_type);
    b.extend_from_slice(b",\"location\":");
    let loc = if rng.chance(0.5) {
        format!("file:///data/external/{}/{}/{}.{}", tenant, db, name, ext)
    } else {
        format!("s3://lake-{}/exports/{}/{}/", tenant, db, name)
    };
    push_str(b, &loc);
    b.extend_from_slice(b",\"target_partitions\":");
    push_u64(b, *rng.pick(&[1, 4, 8, 16]));
    b.extend_from_slice(b",\"table_partition_cols\":[");
    if rng.chance(0.3) {
        b.extend_from_slice(b"[\"dt\",\"Utf8\"]");
    }
    b.extend_from_slice(b"],\"has_header\":");
    push_bool(b, file_type == "CSV" && rng.chance(0.9));
    b.extend_from_slice(b",\"delimiter\":");
    push_u64(
        b,
        if rng.chance(0.85) {
            44
        } else {
            *rng.pick(&[9, 59, 124])
        },
    );
    b.extend_from_slice(b",\"schema\":{\"fields\":[");
    let n = rng.range(2, 24);
    let mut used = 0u128;
    for i in 0..n {
        if i > 0 {
            b.push(b',');
        }
        let (fname, dt) = if i == 0 {
            ("time".to_string(), "{\"Timestamp\":[\"Nanosecond\",null]}")
        } else {
            let dt = *rng.pick(&[
                "\"Int64\"",
                "\"Float64\"",
                "\"Utf8\"",
                "\"Boolean\"",
                "\"UInt64\"",
                "\"Date32\"",
            ]);
            (col_name(rng, FIELD_WORDS, &mut used, i), dt)
        };
        push_arrow_field(b, &fname, dt, i != 0, &[]);
    }
    b.extend_from_slice(b"],\"metadata\":{}}}}");
}

/// A stream table over an existing TSKV table of the same database; field metadata carries 2.3's
/// `_field_id`/`_tag` keys (HashMap: order varies).
#[allow(clippy::too_many_arguments)]
fn push_stream_json(
    b: &mut Vec<u8>,
    rng: &mut Rng,
    tenant: &str,
    db: &str,
    name: &str,
    source: &str,
    cols: &[Col],
    prec: Prec,
) {
    b.extend_from_slice(b"{\"StreamTableSchema\":{\"tenant\":");
    push_str(b, tenant);
    b.extend_from_slice(b",\"db\":");
    push_str(b, db);
    b.extend_from_slice(b",\"name\":");
    push_str(b, name);
    b.extend_from_slice(b",\"schema\":{\"fields\":[");
    for (i, c) in cols.iter().enumerate() {
        if i > 0 {
            b.push(b',');
        }
        let dt = match c.kind {
            ColKind::Time => format!("{{\"Timestamp\":[\"{}\",null]}}", prec.time_unit()),
            ColKind::Tag | ColKind::Str => "\"Utf8\"".into(),
            ColKind::Float => "\"Float64\"".into(),
            ColKind::Integer => "\"Int64\"".into(),
            ColKind::Unsigned => "\"UInt64\"".into(),
            ColKind::Boolean => "\"Boolean\"".into(),
        };
        let mut md = [
            ("_field_id", c.id.to_string()),
            ("_tag", (c.kind == ColKind::Tag).to_string()),
        ];
        if rng.chance(0.5) {
            md.swap(0, 1);
        }
        push_arrow_field(b, &c.name, &dt, c.kind != ColKind::Time, &md);
    }
    b.extend_from_slice(b"],\"metadata\":{}},\"stream_type\":\"tskv\",\"watermark\":{\"column\":\"time\",\"delay\":{\"secs\":");
    push_u64(b, *rng.pick(&[0, 1, 5, 10, 60]));
    b.extend_from_slice(b",\"nanos\":0}},\"extra_options\":{");
    let (a, z) = (("db", db), ("table", source));
    let (first, second) = if rng.chance(0.5) { (a, z) } else { (z, a) };
    push_str(b, first.0);
    b.push(b':');
    push_str(b, first.1);
    b.push(b',');
    push_str(b, second.0);
    b.push(b':');
    push_str(b, second.1);
    b.extend_from_slice(b"}}}");
}

fn bcrypt_hash(rng: &mut Rng) -> String {
    let mut s = String::with_capacity(60);
    s.push_str(if rng.chance(0.05) { "$2a$" } else { "$2b$" });
    s.push_str(if rng.chance(0.9) { "12$" } else { "10$" });
    for _ in 0..53 {
        s.push(BCRYPT64[rng.below_usize(64)] as char);
    }
    s
}

fn rsa_public_key(rng: &mut Rng) -> String {
    let mut s =
        String::from("-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA");
    for line in 0..6 {
        if line > 0 {
            s.push('\n');
        }
        for _ in 0..if line == 0 { 20 } else { 64 } {
            s.push(B64[rng.below_usize(64)] as char);
        }
    }
    s.push_str("\nIDAQAB\n-----END PUBLIC KEY-----\n");
    s
}

/// `RateBucketConfig`/`CountBucketConfing` pair of a request limiter.
fn push_limiter_bucket(b: &mut Vec<u8>, rng: &mut Rng) {
    let max = rng.range(1, 100) * 1000;
    b.extend_from_slice(b"{\"remote_bucket\":{\"max\":");
    push_u64(b, max);
    b.extend_from_slice(b",\"initial\":");
    push_u64(b, max / 2);
    b.extend_from_slice(b",\"refill\":");
    push_u64(b, max / 10);
    b.extend_from_slice(b",\"interval\":");
    push_u64(b, *rng.pick(&[100, 1000, 10_000]));
    b.extend_from_slice(b"},\"local_bucket\":{\"max\":");
    push_u64(b, max / 10);
    b.extend_from_slice(b",\"initial\":");
    push_u64(b, max / 20);
    b.extend_from_slice(b"}}");
}

// ---------------------------------------------------------------------------------------------
// Plan
// ---------------------------------------------------------------------------------------------

struct User {
    name: String,
    id: u128,
    json: Vec<u8>,
}

#[derive(PartialEq, Clone, Copy)]
enum DbKind {
    Public,
    Usage,
    Normal,
}

struct DbPlan {
    name: String,
    kind: DbKind,
    weight: f64,
}

struct TenantPlan {
    name: String,
    json: Vec<u8>,
    limiter: Option<Vec<u8>>,
    dbs: Vec<DbPlan>,
    roles: Vec<(String, Vec<u8>)>,
    members: Vec<(String, Vec<u8>)>,
}

/// The two dump forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `GET /debug`: 2.3 banner lines around `* KEY: VALUE` lines.
    Debug,
    /// `GET /dump`: bare `KEY: VALUE` lines.
    Dump,
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Approximate size in bytes, counted on the `/dump` form.
    pub size: u64,
    /// The form to write.
    pub form: Form,
    /// PRNG seed: same spec, same bytes.
    pub seed: u64,
    /// The cluster segment of every key.
    pub cluster: String,
}

impl Spec {
    /// A spec for cluster `cluster_xxx`.
    pub fn new(size: u64, form: Form, seed: u64) -> Self {
        Spec {
            size,
            form,
            seed,
            cluster: "cluster_xxx".into(),
        }
    }
}

/// What was written.
pub struct Stats {
    /// Records written.
    pub records: u64,
    /// Bytes of the records in `/dump` form (the size budget).
    pub bytes: u64,
    /// `(record kind, records, bytes)` per kind.
    pub kinds: Vec<(&'static str, u64, u64)>,
}

/// `N`, `N[K|M|G]` (binary units, optional `B`/`iB`) as bytes.
pub fn parse_size(s: &str) -> Option<u64> {
    let t = s.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix("ib"))
        .or_else(|| t.strip_suffix('B'))
        .or_else(|| t.strip_suffix('b'))
        .unwrap_or(t);
    let (num, mul) = match t.chars().last()? {
        'k' | 'K' => (&t[..t.len() - 1], 1u64 << 10),
        'm' | 'M' => (&t[..t.len() - 1], 1 << 20),
        'g' | 'G' => (&t[..t.len() - 1], 1 << 30),
        _ => (t, 1),
    };
    let v: f64 = num.trim().parse().ok()?;
    if v.is_nan() || v < 0.0 {
        return None;
    }
    Some((v * mul as f64) as u64)
}

// ---------------------------------------------------------------------------------------------
// Generation
// ---------------------------------------------------------------------------------------------

/// Writes a dump for `spec` to `w`.
pub fn generate<W: Write>(w: W, spec: &Spec) -> io::Result<Stats> {
    let mut root_rng = Rng::new(spec.seed);
    let size = spec.size;
    let c = spec.cluster.as_str();

    // --- data nodes -----------------------------------------------------------------------------
    let mut rng = root_rng.fork();
    let n_nodes = rng.range(3, 5) as usize;
    let nodes: Vec<u64> = (0..n_nodes as u64).map(|i| 1001 + i).collect();
    let mut node_lines: Vec<(Vec<u8>, Vec<u8>, Cat)> = Vec::new();
    for &n in &nodes {
        let mut v = Vec::new();
        v.extend_from_slice(b"{\"id\":");
        push_u64(&mut v, n);
        v.extend_from_slice(
            format!(
                ",\"grpc_addr\":\"10.20.{}.{}:8903\"}}",
                rng.range(0, 3),
                10 + n - 1000
            )
            .as_bytes(),
        );
        node_lines.push((
            format!("/{}/data_nodes/{}", c, n).into_bytes(),
            v,
            Cat::Node,
        ));
    }
    for &n in &nodes {
        let mut v = Vec::new();
        v.extend_from_slice(b"{\"id\":");
        push_u64(&mut v, n);
        v.extend_from_slice(b",\"disk_free\":");
        push_u64(
            &mut v,
            rng.range(50, 4000) * 1_000_000_000 + rng.below(1_000_000_000),
        );
        v.extend_from_slice(b",\"time\":");
        push_u64(&mut v, NOW_SECS + rng.below(60));
        v.extend_from_slice(b",\"status\":\"");
        v.extend_from_slice(if rng.chance(0.1) {
            b"Unreachable"
        } else {
            b"Healthy"
        });
        v.extend_from_slice(b"\"}");
        node_lines.push((
            format!("/{}/data_nodes_metrics/{}", c, n).into_bytes(),
            v,
            Cat::Node,
        ));
    }

    // --- users ----------------------------------------------------------------------------------
    let mut rng = root_rng.fork();
    // Real clusters have tens to hundreds of users, however many tables they hold: ~28 at
    // 1 MiB, ~190 at 200 MiB, ~400 at 1 GiB.
    let n_users = (16.0 + 12.0 * ((size >> 10) as f64 / 1024.0).sqrt()) as usize;
    let mut names = std::collections::BTreeSet::new();
    names.insert("root".to_string());
    for n in ODD_USER_NAMES
        .iter()
        .take((n_users / 30).clamp(1, ODD_USER_NAMES.len()))
    {
        names.insert(n.to_string());
    }
    for s in SERVICE_WORDS
        .iter()
        .take((n_users / 20).clamp(1, SERVICE_WORDS.len()))
    {
        names.insert(format!("{}_{:02}", s, rng.range(1, 20)));
    }
    let mut attempts = 0u64;
    while names.len() < n_users {
        attempts += 1;
        let f = rng.pick(FIRST_NAMES);
        let name = match rng.below(4) {
            0 => f.to_string(),
            1 | 2 => format!("{}_{}", f, rng.pick(LAST_NAMES)),
            _ => format!("{}{}", f, rng.range(1, 9999)),
        };
        let name = if attempts > 20 * n_users as u64 {
            format!("{}_{}", name, attempts)
        } else {
            name
        };
        names.insert(name);
    }
    let mut users: Vec<User> = Vec::with_capacity(names.len());
    for name in names {
        let id = rng.oid();
        let mut v = Vec::with_capacity(200);
        v.extend_from_slice(b"{\"id\":");
        push_u128(&mut v, id);
        v.extend_from_slice(b",\"name\":");
        push_str(&mut v, &name);
        v.extend_from_slice(b",\"options\":{\"password\":");
        if name == "root" {
            v.extend_from_slice(b"null,\"must_change_password\":true,\"comment\":\"system admin\"},\"is_admin\":true}");
        } else {
            if rng.chance(0.1) {
                v.extend_from_slice(b"null");
            } else {
                push_str(&mut v, &bcrypt_hash(&mut rng));
            }
            if rng.chance(0.2) {
                v.extend_from_slice(b",\"must_change_password\":");
                push_bool(&mut v, rng.chance(0.5));
            }
            if rng.chance(0.02) {
                v.extend_from_slice(b",\"rsa_public_key\":");
                push_str(&mut v, &rsa_public_key(&mut rng));
            }
            if rng.chance(0.35) {
                v.extend_from_slice(b",\"comment\":");
                let comment: &&str = rng.pick(USER_COMMENTS);
                push_str(&mut v, comment);
            }
            if rng.chance(0.6) {
                v.extend_from_slice(b",\"granted_admin\":");
                push_bool(&mut v, rng.chance(0.08));
            }
            v.extend_from_slice(b"},\"is_admin\":false}");
        }
        users.push(User { name, id, json: v });
    }
    let root_ix = users.iter().position(|u| u.name == "root").unwrap();

    // --- tenants, their databases (names only), roles, members ------------------------------------
    let mut rng = root_rng.fork();
    let n_other = ((size >> 20) / 48 + 4).min(63) as usize;
    let mut tnames: Vec<String> = (0..n_other)
        .map(|i| {
            let w = TENANT_WORDS[i % TENANT_WORDS.len()];
            if i < TENANT_WORDS.len() {
                w.to_string()
            } else {
                format!("{}_{}", w, i / TENANT_WORDS.len())
            }
        })
        .collect();
    tnames.push("cnosdb".into());
    tnames.sort();
    let tweights: Vec<f64> = tnames.iter().map(|_| rng.pareto(1.2, 12.0)).collect();
    let tw_sum: f64 = tweights.iter().sum();
    let total_dbs = ((size >> 20) as usize).max(tnames.len() + 2);

    let mut tenants: Vec<TenantPlan> = Vec::new();
    for (ti, tname) in tnames.iter().enumerate() {
        let is_sys = tname == "cnosdb";
        let n_db = ((total_dbs as f64 * tweights[ti] / tw_sum).round() as usize).max(1);
        let prefix = *rng.pick(DB_WORDS);
        let mut dbs: Vec<DbPlan> = (0..n_db)
            .map(|i| {
                let word = if rng.chance(0.6) {
                    prefix
                } else {
                    rng.pick(DB_WORDS)
                };
                DbPlan {
                    name: format!("{}_{:05}", word, i),
                    kind: DbKind::Normal,
                    weight: rng.pareto(1.5, 25.0),
                }
            })
            .collect();
        if is_sys {
            dbs.push(DbPlan {
                name: "public".into(),
                kind: DbKind::Public,
                weight: 1.0,
            });
            dbs.push(DbPlan {
                name: "usage_schema".into(),
                kind: DbKind::Usage,
                weight: 0.3,
            });
        }
        dbs.sort_by(|a, b| a.name.cmp(&b.name));

        // tenant value
        let mut v = Vec::new();
        v.extend_from_slice(b"{\"id\":");
        push_u128(&mut v, rng.oid());
        v.extend_from_slice(b",\"name\":");
        push_str(&mut v, tname);
        v.extend_from_slice(b",\"options\":{\"comment\":");
        if is_sys {
            push_str(&mut v, "system tenant");
        } else if rng.chance(0.75) {
            let comment: &&str = rng.pick(TENANT_COMMENTS);
            push_str(&mut v, comment);
        } else {
            v.extend_from_slice(b"null");
        }
        v.extend_from_slice(b",\"limiter_config\":");
        let mut limiter = None;
        let lim_roll = rng.unit();
        if is_sys || lim_roll < 0.4 {
            v.extend_from_slice(b"null");
        } else {
            v.extend_from_slice(b"{\"object_config\":");
            if rng.chance(0.7) {
                v.extend_from_slice(b"{\"max_users_number\":");
                push_opt_u64(&mut v, rng.chance(0.7).then(|| rng.range(1, 100) * 10));
                v.extend_from_slice(b",\"max_databases\":");
                push_opt_u64(&mut v, rng.chance(0.7).then(|| rng.range(1, 50) * 10));
                v.extend_from_slice(b",\"max_shard_number\":");
                push_opt_u64(&mut v, rng.chance(0.5).then(|| rng.range(4, 32)));
                v.extend_from_slice(b",\"max_replicate_number\":");
                push_opt_u64(&mut v, rng.chance(0.5).then(|| rng.range(1, 3)));
                v.extend_from_slice(b",\"max_retention_time\":");
                push_opt_u64(&mut v, rng.chance(0.5).then(|| rng.range(30, 3650)));
                v.push(b'}');
            } else {
                v.extend_from_slice(b"null");
            }
            v.extend_from_slice(b",\"request_config\":");
            if lim_roll < 0.75 {
                // request limits: this tenant also has a `/limiter` record
                v.push(b'{');
                let mut lb = Vec::new();
                let mut kinds = Vec::new();
                for (k, kind) in LIMITER_KINDS.iter().enumerate() {
                    if k > 0 {
                        v.push(b',');
                    }
                    push_str(&mut v, kind);
                    v.push(b':');
                    if rng.chance(0.6) {
                        push_limiter_bucket(&mut v, &mut rng);
                        kinds.push(k);
                    } else {
                        v.extend_from_slice(b"null");
                    }
                }
                v.push(b'}');
                rng.shuffle(&mut kinds); // RemoteRequestLimiter.buckets is a HashMap
                lb.extend_from_slice(b"{\"buckets\":{");
                for (i, &k) in kinds.iter().enumerate() {
                    if i > 0 {
                        lb.push(b',');
                    }
                    push_str(&mut lb, LIMITER_KIND_NAMES[k]);
                    let max = rng.range(1, 100) * 1000;
                    lb.extend_from_slice(b":{\"refill\":");
                    push_u64(&mut lb, max / 10);
                    lb.extend_from_slice(b",\"interval\":");
                    push_u64(&mut lb, *rng.pick(&[100, 1000, 10_000]));
                    lb.extend_from_slice(b",\"max\":");
                    push_u64(&mut lb, max);
                    lb.extend_from_slice(b",\"critical\":{\"balance\":");
                    push_u64(&mut lb, rng.below(max));
                    lb.extend_from_slice(b",\"deadline\":");
                    push_rfc3339(
                        &mut lb,
                        NOW_SECS - rng.below(86_400 * 30),
                        rng.below(1_000_000_000) as u32,
                    );
                    lb.extend_from_slice(b"}}");
                }
                lb.extend_from_slice(b"}}");
                limiter = Some(lb);
            } else {
                v.extend_from_slice(b"null");
            }
            v.push(b'}');
        }
        v.extend_from_slice(b"}}");

        // roles
        let mut roles = Vec::new();
        let mut rnames: Vec<&str> = ROLE_WORDS.to_vec();
        rng.shuffle(&mut rnames);
        let n_roles = if is_sys {
            rng.below(3)
        } else {
            rng.range(1, 7)
        } as usize;
        for rname in rnames.into_iter().take(n_roles) {
            let mut r = Vec::new();
            r.extend_from_slice(b"{\"id\":");
            push_u128(&mut r, rng.oid());
            r.extend_from_slice(b",\"name\":");
            push_str(&mut r, rname);
            r.extend_from_slice(b",\"system_role\":");
            r.extend_from_slice(if rng.chance(0.85) {
                b"\"Member\""
            } else {
                b"\"Owner\""
            });
            r.extend_from_slice(b",\"additional_privileges\":{");
            let mut picks: Vec<usize> = (0..dbs.len()).collect();
            rng.shuffle(&mut picks);
            for (i, &d) in picks.iter().take(rng.below(5) as usize).enumerate() {
                if i > 0 {
                    r.push(b',');
                }
                push_str(&mut r, &dbs[d].name);
                r.push(b':');
                let privilege: &&[u8] = rng.pick(&PRIVILEGES);
                r.extend_from_slice(privilege);
            }
            r.extend_from_slice(b"}}");
            roles.push((rname.to_string(), r));
        }
        roles.sort_by(|a, b| a.0.cmp(&b.0));

        tenants.push(TenantPlan {
            name: tname.clone(),
            json: v,
            limiter,
            dbs,
            roles,
            members: Vec::new(),
        });
    }

    // members: every user but root belongs to 1-3 tenants; root owns `cnosdb`.
    let sys_ix = tenants.iter().position(|t| t.name == "cnosdb").unwrap();
    for (ui, u) in users.iter().enumerate() {
        let mut picks: Vec<usize> = Vec::new();
        if ui == root_ix {
            picks.push(sys_ix);
        } else {
            for _ in 0..rng.range(1, 3) {
                let t = if rng.chance(0.15) {
                    sys_ix
                } else {
                    rng.below_usize(tenants.len())
                };
                if !picks.contains(&t) {
                    picks.push(t);
                }
            }
        }
        for t in picks {
            let mut m = Vec::new();
            if ui == root_ix {
                m.extend_from_slice(b"{\"System\":\"Owner\"}");
            } else {
                let roll = rng.unit();
                if roll < 0.05 {
                    m.extend_from_slice(b"{\"System\":\"Owner\"}");
                } else if roll < 0.55 || tenants[t].roles.is_empty() {
                    m.extend_from_slice(b"{\"System\":\"Member\"}");
                } else {
                    let r = rng.below_usize(tenants[t].roles.len());
                    m.extend_from_slice(b"{\"Custom\":");
                    push_str(&mut m, &tenants[t].roles[r].0);
                    m.push(b'}');
                }
            }
            tenants[t].members.push((u128_string(u.id), m));
        }
    }
    for t in tenants.iter_mut() {
        t.members.sort_by(|a, b| a.0.cmp(&b.0));
    }

    // --- budget ---------------------------------------------------------------------------------
    // Everything but databases and what lives under them is rendered already: measure it, and
    // give the rest to the databases (buckets ~60% of the file, tables ~35%).
    let mut fixed: u64 = 60 + 25; // auto_incr_id and /data_version lines
    for (k, v, _) in &node_lines {
        fixed += line_len(k, v);
    }
    let tp = format!("/{}/tenants/", c).len() as u64;
    for t in &tenants {
        fixed += tp + t.name.len() as u64 + t.json.len() as u64 + 3;
        if let Some(l) = &t.limiter {
            fixed += tp + t.name.len() as u64 + 8 + l.len() as u64 + 3;
        }
        for (n, r) in &t.roles {
            fixed += tp + t.name.len() as u64 + 7 + n.len() as u64 + r.len() as u64 + 3;
        }
        for (n, m) in &t.members {
            fixed += tp + t.name.len() as u64 + 9 + n.len() as u64 + m.len() as u64 + 3;
        }
    }
    let up = format!("/{}/users/", c).len() as u64;
    for u in &users {
        fixed += up + u.name.len() as u64 + u.json.len() as u64 + 3;
    }
    let bulk_total = size.saturating_sub(fixed);
    let bucket_share = 0.60 / 0.95;

    // auto_incr_id: a bucket line is >= ~120 bytes and takes at most 1 + shards*(1+replicas)
    // ids (<= 1 id per 16 bytes); expired-bucket gaps are only taken while they fit.
    let id_base = 100u64;
    let ceiling = id_base + bulk_total / 16 + 1000;
    let mut ids = IdAlloc {
        next: id_base,
        ceiling,
    };

    // --- emit -----------------------------------------------------------------------------------
    let mut out = Out::new(w, spec.form == Form::Debug)?;
    let mut v = Vec::new();
    push_u64(&mut v, ceiling);
    out.rec(Cat::Global, format!("/{}/auto_incr_id", c).as_bytes(), &v)?;
    for (k, v, cat) in &node_lines {
        out.rec(*cat, k, v)?;
    }

    let mut remaining_weight: f64 = tenants
        .iter()
        .flat_map(|t| t.dbs.iter())
        .map(|d| d.weight)
        .sum();
    let mut bulk_written = 0u64;
    let mut scratch = Scratch::default();
    let mut key = Vec::with_capacity(256);
    for t in &tenants {
        let tkey = format!("/{}/tenants/{}", c, t.name);
        out.rec(Cat::Tenant, tkey.as_bytes(), &t.json)?;
        for d in &t.dbs {
            let budget = ((bulk_total.saturating_sub(bulk_written)) as f64 * d.weight
                / remaining_weight) as u64;
            remaining_weight -= d.weight;
            let mut drng = rng.fork();
            let before = out.bytes;
            emit_db(
                &mut out,
                &mut drng,
                &mut ids,
                &mut scratch,
                &mut key,
                &tkey,
                &t.name,
                d,
                budget,
                bucket_share,
                &nodes,
            )?;
            bulk_written += out.bytes - before;
        }
        if let Some(l) = &t.limiter {
            out.rec(Cat::Limiter, format!("{}/limiter", tkey).as_bytes(), l)?;
        }
        for (uid, m) in &t.members {
            out.rec(
                Cat::Member,
                format!("{}/members/{}", tkey, uid).as_bytes(),
                m,
            )?;
        }
        for (rname, r) in &t.roles {
            out.rec(Cat::Role, format!("{}/roles/{}", tkey, rname).as_bytes(), r)?;
        }
    }
    for u in &users {
        out.rec(
            Cat::User,
            format!("/{}/users/{}", c, u.name).as_bytes(),
            &u.json,
        )?;
    }
    let mut v = Vec::new();
    push_u64(&mut v, out.records * 3 + rng.below(1000));
    out.rec(Cat::Global, b"/data_version", &v)?;
    out.finish()
}

#[derive(Default)]
struct Scratch {
    cols: Vec<Col>,
    perm: Vec<usize>,
    buckets: Vec<(Vec<u8>, Vec<u8>)>,
    tables: Vec<(String, Vec<u8>, Cat)>,
}

#[allow(clippy::too_many_arguments)]
fn emit_db<W: Write>(
    out: &mut Out<W>,
    rng: &mut Rng,
    ids: &mut IdAlloc,
    s: &mut Scratch,
    key: &mut Vec<u8>,
    tkey: &str,
    tenant: &str,
    d: &DbPlan,
    budget: u64,
    bucket_share: f64,
    nodes: &[u64],
) -> io::Result<()> {
    let start_bytes = out.bytes;
    let dkey = format!("{}/dbs/{}", tkey, d.name);

    // options
    let mut o = if d.kind == DbKind::Normal {
        DbOpts {
            ttl: *rng.weighted(TTL_CHOICES),
            shard: if rng.chance(0.25) {
                None
            } else {
                Some(*rng.weighted(&[(6, 1), (3, 2), (2, 3), (3, 4), (1, 6), (1, 8)]))
            },
            vnode: Dur::Null, // chosen below, once the bucket count is known
            replica: if rng.chance(0.3) {
                None
            } else {
                Some(rng.range(1, nodes.len().min(3) as u64))
            },
            prec: *rng.weighted(&[
                (2, None),
                (3, Some(Prec::Ms)),
                (1, Some(Prec::Us)),
                (4, Some(Prec::Ns)),
            ]),
        }
    } else {
        DbOpts::all_null() // written by 2.3's init (and reset by every singleton restart)
    };
    let shards = o.shard.unwrap_or(1);
    let replicas = o.replica.unwrap_or(1);
    let prec = o.prec();

    // How many buckets would fill this database's bucket share? Measure one sample line.
    let bucket_budget = (budget as f64 * bucket_share) as u64;
    let sample_len = {
        let mut sample_ids = IdAlloc {
            next: ids.next,
            ceiling: u64::MAX,
        };
        let mut b = Vec::new();
        let t = NOW_SECS * prec.per_sec();
        push_bucket_json(
            &mut b,
            &mut rng.fork(),
            &mut sample_ids,
            t,
            t,
            shards,
            replicas,
            nodes,
        );
        (dkey.len() + 9 + 8 + 3 + b.len()) as u64
    };
    let want = bucket_budget / sample_len.max(1);
    let span_secs = NOW_SECS - EPOCH_2000;
    if d.kind == DbKind::Normal {
        let feasible: Vec<(u32, Dur)> = VNODE_CHOICES
            .iter()
            .copied()
            .filter(|(_, v)| {
                v.vnode_secs()
                    .is_some_and(|s| want.saturating_mul(s) <= span_secs * 9 / 10)
            })
            .collect();
        o.vnode = if want == 0 && rng.chance(0.05) {
            Dur::Inf(0) // an (odd but real) database that never got a bucket
        } else if feasible.is_empty() {
            Dur::Min(1)
        } else {
            *rng.weighted(&feasible)
        };
    }

    let mut v = Vec::with_capacity(256);
    push_db_json(&mut v, tenant, &d.name, &o);
    out.rec(Cat::Db, dkey.as_bytes(), &v)?;

    // buckets: consecutive vnode_duration windows ending now, a few missing (no data written
    // then), ids increasing with time; emitted in key (= decimal string) order.
    s.buckets.clear();
    if let Some(dur_secs) = o.vnode.vnode_secs() {
        let dur = dur_secs * prec.per_sec();
        let newest = NOW_SECS * prec.per_sec() / dur * dur;
        let oldest_allowed = EPOCH_2000 * prec.per_sec();
        let mut starts = Vec::with_capacity(want as usize);
        let mut k = 0u64;
        while (starts.len() as u64) < want {
            let Some(st) = newest.checked_sub(k * dur) else {
                break;
            };
            if st < oldest_allowed {
                break;
            }
            if k == 0 || !rng.chance(0.05) {
                starts.push(st);
            }
            k += 1;
        }
        starts.reverse();
        let per_bucket_ids = 1 + shards * (1 + replicas);
        for st in starts {
            if rng.chance(0.2) {
                ids.skip(rng.range(1, 6) * per_bucket_ids / 2, per_bucket_ids * 4);
            }
            let mut b = Vec::with_capacity(sample_len as usize);
            let id = push_bucket_json(&mut b, rng, ids, st, st + dur, shards, replicas, nodes);
            key.clear();
            key.extend_from_slice(dkey.as_bytes());
            key.extend_from_slice(b"/buckets/");
            push_u64(key, id as u64);
            s.buckets.push((key.clone(), b));
        }
        s.buckets.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for (k, b) in &s.buckets {
            out.rec(Cat::Bucket, k, b)?;
        }
    }

    // tables: TSKV up to the rest of the budget, plus now and then an external or stream table.
    s.tables.clear();
    let used = out.bytes - start_bytes;
    let table_budget = budget.saturating_sub(used);
    let skey_len = (dkey.len() + 9) as u64;
    let mut tbytes = 0u64;
    let mut stream_src: Option<(String, Vec<Col>)> = None;
    if d.kind == DbKind::Usage {
        for (tname, tags) in USAGE_TABLES {
            let mut cols = vec![Col {
                id: 0,
                name: "time".into(),
                kind: ColKind::Time,
                enc: "Default",
            }];
            for (i, tag) in tags.iter().enumerate() {
                cols.push(Col {
                    id: i as u64 + 1,
                    name: tag.to_string(),
                    kind: ColKind::Tag,
                    enc: "Default",
                });
            }
            cols.push(Col {
                id: tags.len() as u64 + 1,
                name: "value".into(),
                kind: ColKind::Unsigned,
                enc: "Default",
            });
            let mut b = Vec::new();
            push_tskv_json(
                &mut b,
                rng,
                &mut s.perm,
                tenant,
                &d.name,
                tname,
                0,
                cols.len() as u64,
                &cols,
                Prec::Ns,
            );
            s.tables.push((tname.to_string(), b, Cat::Tskv));
        }
    } else {
        let mut i = 0u64;
        while tbytes < table_budget {
            let tname = format!("{}_{}", rng.pick(MEASUREMENT_WORDS), i);
            i += 1;
            let (schema_id, next_col) = gen_columns(rng, &mut s.cols, prec);
            let mut b = Vec::with_capacity(s.cols.len() * 120 + 200);
            push_tskv_json(
                &mut b,
                rng,
                &mut s.perm,
                tenant,
                &d.name,
                &tname,
                schema_id,
                next_col,
                &s.cols,
                prec,
            );
            tbytes += skey_len + tname.len() as u64 + b.len() as u64 + 3;
            if stream_src.is_none() && s.cols.len() <= 40 {
                stream_src = Some((tname.clone(), std::mem::take(&mut s.cols)));
            }
            s.tables.push((tname, b, Cat::Tskv));
        }
        if rng.chance(0.06) {
            for j in 0..rng.range(1, 2) {
                let tname = format!("ext_{}_{}", rng.pick(MEASUREMENT_WORDS), j);
                let mut b = Vec::new();
                push_external_json(&mut b, rng, tenant, &d.name, &tname);
                s.tables.push((tname, b, Cat::External));
            }
        }
        if let Some((src, cols)) = stream_src.as_ref().filter(|_| rng.chance(0.05)) {
            let tname = format!("stream_{}", src);
            let mut b = Vec::new();
            push_stream_json(&mut b, rng, tenant, &d.name, &tname, src, cols, prec);
            s.tables.push((tname, b, Cat::Stream));
        }
    }
    s.tables.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for (tname, b, cat) in &s.tables {
        key.clear();
        key.extend_from_slice(dkey.as_bytes());
        key.extend_from_slice(b"/schemas/");
        key.extend_from_slice(tname.as_bytes());
        out.rec(*cat, key, b)?;
    }
    Ok(())
}
