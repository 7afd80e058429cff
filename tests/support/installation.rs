//! A realistic 2.3 installation built through the SQL and line-protocol APIs of a real server,
//! and what a server answers about it: metadata statements, logins and privileges, and the
//! rows of every table.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::cnosdb::{Server, SOURCE};

/// Every tenant the installation has, the system tenant first.
pub const TENANTS: [&str; 4] = ["cnosdb", "acme", "lim", "bare"];

/// Users and their passwords (`None`: created without one).
pub const USERS: [(&str, Option<&str>); 5] = [
    ("root", Some("root-pw")),
    ("alice", Some("alice-pw")),
    ("bob", Some("bob-pw")),
    ("carol", Some("carol-pw")),
    ("dan", None),
];

/// Every (tenant, database, table) holding rows, with its tag columns.
pub const TABLES: [(&str, &str, &str, &[&str]); 6] = [
    ("acme", "sensors", "air", &["station", "region", "zone"]),
    ("acme", "plain", "lp_made", &["host"]),
    ("acme", "nanos", "events", &["kind"]),
    ("cnosdb", "ops", "metrics", &["host"]),
    ("cnosdb", "public", "plain_pub", &["t"]),
    ("lim", "limdb", "lt", &["k"]),
];

const DAY_NS: i64 = 86_400_000_000_000;

fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64
}

/// Runs `statement`, retrying 2.3.5.4's occasional `update table … conflict` (HTTP 422
/// 030033) a few times.
fn run(s: &Server, tenant: &str, db: &str, statement: &str) {
    for _ in 0..5 {
        match s.sql(tenant, db, statement) {
            Ok(_) => return,
            Err((422, b)) if b.contains("030033") => std::thread::sleep(Duration::from_millis(500)),
            Err((status, body)) => {
                panic!("CnosDB {}: {statement}: HTTP {status} {body}", s.release)
            }
        }
    }
    panic!("CnosDB {}: {statement}: conflict five times", s.release);
}

/// Builds the installation in the (fresh, authentication off) server `s`.
pub fn build(s: &Server, csv_path: &std::path::Path) {
    let ddl: &[(&str, &str, &str)] = &[
        ("cnosdb", "public", "CREATE TENANT acme WITH COMMENT='the acme tenant'"),
        ("cnosdb", "public", "CREATE TENANT lim WITH _limiter='{\"object_config\":{\"max_users_number\":5,\"max_databases\":3,\"max_shard_number\":10,\"max_replicate_number\":2,\"max_retention_time\":3650},\"request_config\":{\"coord_data_in\":{\"remote_bucket\":{\"max\":100000,\"initial\":0,\"refill\":100000,\"interval\":100},\"local_bucket\":{\"max\":100000,\"initial\":0}}}}'"),
        ("cnosdb", "public", "CREATE TENANT bare"),
        ("cnosdb", "public", "CREATE USER alice WITH PASSWORD='alice-pw', COMMENT='a user'"),
        ("cnosdb", "public", "CREATE USER bob WITH PASSWORD='bob-pw', MUST_CHANGE_PASSWORD=true"),
        ("cnosdb", "public", "CREATE USER carol WITH PASSWORD='carol-pw'"),
        ("cnosdb", "public", "ALTER USER carol SET GRANTED_ADMIN = true"),
        ("cnosdb", "public", "CREATE USER dan"),
        ("acme", "public", "CREATE ROLE reader INHERIT member"),
        ("acme", "public", "CREATE ROLE keeper INHERIT owner"),
        ("cnosdb", "public", "CREATE ROLE watcher INHERIT member"),
        ("cnosdb", "public", "CREATE DATABASE ops WITH TTL '3650d' SHARD 2 VNODE_DURATION '1d' REPLICA 1 PRECISION 'us'"),
        ("acme", "public", "CREATE DATABASE sensors WITH TTL '3650d' SHARD 1 VNODE_DURATION '7d' PRECISION 'ms'"),
        ("acme", "public", "CREATE DATABASE plain"),
        ("acme", "public", "CREATE DATABASE nanos WITH PRECISION 'ns' VNODE_DURATION '2d'"),
        ("lim", "public", "CREATE DATABASE limdb WITH TTL '365d'"),
        ("acme", "public", "GRANT READ ON DATABASE sensors TO ROLE reader"),
        ("acme", "public", "GRANT WRITE ON DATABASE plain TO ROLE reader"),
        ("acme", "public", "GRANT ALL ON DATABASE nanos TO ROLE keeper"),
        ("cnosdb", "public", "GRANT READ ON DATABASE ops TO ROLE watcher"),
        ("cnosdb", "public", "ALTER TENANT acme ADD USER alice AS reader"),
        ("cnosdb", "public", "ALTER TENANT acme ADD USER bob AS keeper"),
        ("cnosdb", "public", "ALTER TENANT acme ADD USER carol AS owner"),
        ("cnosdb", "public", "ALTER TENANT acme ADD USER dan AS member"),
        ("cnosdb", "public", "ALTER TENANT cnosdb ADD USER alice AS watcher"),
        ("cnosdb", "public", "ALTER TENANT lim ADD USER bob AS member"),
        ("acme", "sensors", "CREATE TABLE air (visibility DOUBLE CODEC(GORILLA), temperature BIGINT CODEC(DELTA), pressure BIGINT UNSIGNED CODEC(QUANTILE), note STRING CODEC(ZSTD), ok BOOLEAN CODEC(BITPACK), q DOUBLE CODEC(QUANTILE), s_gzip STRING CODEC(GZIP), s_bzip STRING CODEC(BZIP), s_snappy STRING CODEC(SNAPPY), s_zlib STRING CODEC(ZLIB), i_null BIGINT CODEC(NULL), d_default DOUBLE CODEC(DEFAULT), TAGS(station, region))"),
        ("acme", "sensors", "ALTER TABLE air ADD FIELD humidity DOUBLE CODEC(GORILLA)"),
        ("acme", "sensors", "ALTER TABLE air ADD TAG zone"),
        ("acme", "nanos", "CREATE TABLE events (n BIGINT, flag BOOLEAN, TAGS(kind))"),
        ("cnosdb", "ops", "CREATE TABLE metrics (cpu DOUBLE, mem BIGINT UNSIGNED, TAGS(host))"),
        ("lim", "limdb", "CREATE TABLE lt (v BIGINT, TAGS(k))"),
        // Written to by the privilege probes, so not among TABLES.
        ("acme", "plain", "CREATE TABLE probe (v BIGINT, TAGS(who))"),
    ];
    for (tenant, db, statement) in ddl {
        run(s, tenant, db, statement);
    }
    std::fs::write(csv_path, "a,b\n1,one\n2,two\n3,three\n").unwrap();
    run(
        s,
        "acme",
        "plain",
        &format!(
            "CREATE EXTERNAL TABLE ext (a BIGINT, b STRING) STORED AS CSV WITH HEADER ROW LOCATION '{}'",
            csv_path.display()
        ),
    );
    write_rows(s, now_ns());
}

/// A fresh 2.3.5.4 holding the installation (the external table's CSV file in `work`), whose
/// root has a password, as on a cluster with authentication on (2.3.5.4 refuses every login
/// of a user without one, root's too); authentication stays off.
pub fn populated(work: &std::path::Path) -> Server {
    let mut s = Server::start(SOURCE);
    build(&s, &work.join("ext.csv"));
    run(
        &s,
        "cnosdb",
        "public",
        "ALTER USER root SET PASSWORD = 'root-pw'",
    );
    s.root_password = "root-pw".into();
    // 2.3.5.4 may lose the last second of writes (rows, and meta changes) when SIGTERM
    // follows them at once.
    std::thread::sleep(Duration::from_secs(3));
    s
}

/// Rows spread over several vnode durations (so several buckets exist), all inside each TTL.
fn write_rows(s: &Server, now: i64) {
    let mut air = String::new();
    for i in 0..60i64 {
        let ts = (now - i * DAY_NS / 3) / 1_000_000; // ms precision, 20 days
        air.push_str(&format!(
            "air,station=s{},region=r{}{} visibility={}.5,temperature={}i,pressure={}u,note=\"n{i}\",ok={},q={i}.25,s_gzip=\"g{i}\",s_bzip=\"b{i}\",s_snappy=\"y{i}\",s_zlib=\"z{i}\",i_null={}i,d_default=-{i}.125,humidity=0.{i} {ts}\n",
            i % 3,
            i % 2,
            if i % 4 == 0 { ",zone=north".to_string() } else { String::new() },
            i,
            i - 30,
            i * 1000,
            i % 2 == 0,
            i * 7,
        ));
    }
    s.write_lines("acme", "sensors", "ms", &air);
    let mut lp = String::new();
    for i in 0..25i64 {
        lp.push_str(&format!(
            "lp_made,host=h{} v={i}i,s=\"x{i}\",f={i}.5 {}\n",
            i % 5,
            now - i * DAY_NS / 2
        ));
    }
    s.write_lines("acme", "plain", "ns", &lp);
    let mut ev = String::new();
    for i in 0..40i64 {
        ev.push_str(&format!(
            "events,kind=k{} n={i}i,flag={} {}\n",
            i % 4,
            i % 3 == 0,
            now - i * DAY_NS / 4 - 123_456_789
        ));
    }
    s.write_lines("acme", "nanos", "ns", &ev);
    let mut m = String::new();
    for i in 0..30i64 {
        m.push_str(&format!(
            "metrics,host=n{} cpu={}.75,mem={}u {}\n",
            i % 2,
            i,
            i * 4096,
            (now - i * DAY_NS / 6) / 1000
        ));
    }
    s.write_lines("cnosdb", "ops", "us", &m);
    let mut p = String::new();
    for i in 0..10i64 {
        p.push_str(&format!(
            "plain_pub,t=t{} v={i}i {}\n",
            i % 2,
            now - i * DAY_NS
        ));
    }
    s.write_lines("cnosdb", "public", "ns", &p);
    let mut l = String::new();
    for i in 0..12i64 {
        l.push_str(&format!("lt,k=k{} v={i}i {}\n", i % 3, now - i * DAY_NS));
    }
    s.write_lines("lim", "limdb", "ns", &l);
}

/// What `s` answers about the installation's metadata, per tenant and statement: sorted CSV
/// rows, or the error's HTTP status and code.
pub fn metadata(s: &Server) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut ask = |tenant: &str, db: &str, statement: &str| {
        let answer = match s.sql(tenant, db, statement) {
            Ok(body) => sorted_csv(&body),
            Err((status, body)) => format!("HTTP {status} {}", error_code(&body)),
        };
        out.insert(format!("{tenant}/{db}: {statement}"), answer);
    };
    ask("cnosdb", "public", "SELECT * FROM cluster_schema.tenants");
    ask("cnosdb", "public", "SELECT * FROM cluster_schema.users");
    for tenant in TENANTS {
        ask(tenant, "public", "SHOW DATABASES");
        ask(tenant, "public", "SELECT * FROM information_schema.roles");
        ask(tenant, "public", "SELECT * FROM information_schema.members");
        ask(
            tenant,
            "public",
            "SELECT * FROM information_schema.database_privileges",
        );
        ask(
            tenant,
            "public",
            "SELECT * FROM information_schema.databases",
        );
        ask(tenant, "public", "SELECT * FROM information_schema.tables");
        ask(tenant, "public", "SELECT * FROM information_schema.columns");
    }
    for (tenant, db) in [
        ("cnosdb", "public"),
        ("cnosdb", "ops"),
        ("acme", "sensors"),
        ("acme", "plain"),
        ("acme", "nanos"),
        ("lim", "limdb"),
    ] {
        ask(tenant, db, "SHOW TABLES");
        ask(tenant, "public", &format!("DESCRIBE DATABASE {db}"));
    }
    for (tenant, db, table, _) in TABLES {
        ask(tenant, db, &format!("DESCRIBE TABLE {table}"));
    }
    ask("acme", "plain", "DESCRIBE TABLE ext");
    ask("acme", "plain", "SELECT * FROM ext ORDER BY a");
    out
}

/// What each user may do with authentication on: the outcome of a login and of statements
/// that need privileges, as `ok` or the HTTP status and error code.
pub fn privileges(s: &Server) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let probes: &[(&str, &str, &str)] = &[
        ("acme", "sensors", "SELECT count(*) FROM air"),
        (
            "acme",
            "plain",
            "INSERT INTO probe (time, who, v) VALUES (now(), 'probe', 1)",
        ),
        ("acme", "plain", "SELECT count(*) FROM lp_made"),
        ("acme", "nanos", "SELECT count(*) FROM events"),
        ("acme", "public", "CREATE DATABASE probe_db"),
        ("acme", "public", "DROP DATABASE IF EXISTS probe_db"),
        ("cnosdb", "ops", "SELECT count(*) FROM metrics"),
        ("cnosdb", "public", "SHOW DATABASES"),
        ("lim", "limdb", "SELECT count(*) FROM lt"),
        ("cnosdb", "public", "CREATE TENANT probe_tenant"),
        ("cnosdb", "public", "DROP TENANT IF EXISTS probe_tenant"),
    ];
    for (user, password) in USERS {
        let wrong = if password.is_some() { "wrong-pw" } else { "" };
        let login = s.sql_as(user, wrong, "cnosdb", "public", "SELECT 1");
        out.insert(
            format!("{user}:{wrong} login"),
            match login {
                Ok(_) => "ok".to_string(),
                Err((status, body)) => format!("HTTP {status} {}", error_code(&body)),
            },
        );
        if let Some(pw) = password {
            for (tenant, db, statement) in probes {
                // Names of each user's own: 2.3.5.4 may still hold a database dropped a moment
                // before (`030015` on the next user's CREATE), 2.4 not.
                let statement = statement
                    .replace("probe_db", &format!("probe_db_{user}"))
                    .replace("probe_tenant", &format!("probe_tenant_{user}"));
                let ask = || match s.sql_as(user, pw, tenant, db, &statement) {
                    Ok(_) => "ok".to_string(),
                    Err((status, body)) => format!("HTTP {status} {}", error_code(&body)),
                };
                let mut answer = ask();
                // 2.3.5.4 now and then answers a first CREATE of a new name with `030015` (seen
                // in CI; not `030018`, "already exists": nothing was created). Asked once more
                // a second later, it answers as it means; a real refusal answers the same twice.
                if answer == "HTTP 422 030015" && statement.starts_with("CREATE") {
                    std::thread::sleep(std::time::Duration::from_secs(1));
                    answer = ask();
                }
                out.insert(format!("{user}:{pw} {tenant}/{db}: {statement}"), answer);
            }
        }
    }
    out
}

/// Per table: row count, min and max time, and the SHA-256 of every row ordered by time and
/// tags.
pub fn contents(s: &Server) -> BTreeMap<String, String> {
    TABLES
        .iter()
        .map(|(tenant, db, table, tags)| {
            let held = s.table_contents(tenant, db, table, tags);
            (format!("{tenant}.{db}.{table}"), held)
        })
        .collect()
}

/// The header and the sorted rows of a CSV answer.
fn sorted_csv(body: &str) -> String {
    let mut lines: Vec<&str> = body.lines().collect();
    if lines.len() > 1 {
        lines[1..].sort_unstable();
    }
    lines.join("\n")
}

/// The `error_code` of a CnosDB error body, or the body.
fn error_code(body: &str) -> String {
    body.split("\"error_code\":\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .map(str::to_string)
        .unwrap_or_else(|| body.trim().to_string())
}

/// Columns a 2.4.2+ answer about databases has that 2.3's has not: the database `config`
/// that 2.4.2 introduced (docs/transform-rules.md, "Database").
const ADDED_COLUMNS: [&str; 6] = [
    "max_memcache_size",
    "memcache_partitions",
    "wal_max_file_size",
    "wal_sync",
    "strict_write",
    "max_cache_readers",
];

/// The differences between what 2.3 answered (`before`) and what `release` answers
/// (`after`), past the documented ones:
/// - 2.4 prints durations in another form (`365 Days` / `11months 30days 3h 50m 24s`): both
///   are compared as seconds;
/// - 2.4.2+ answers about databases have the config columns of [`ADDED_COLUMNS`];
/// - the `cnosdb` tenant's `usage_schema` and `cluster_schema` are the target's own
///   (`drop.system-db`), so their rows are not compared;
/// - tenant options gain `tenant_is_hidden: false` and (2.4.0.1+) `drop_after: null`;
/// - user options: `password` is `hash_password`; `must_change_password: true` is
///   gone on 2.4.1+ (cleared by default, docs/transform-rules.md "User");
/// - 2.4.0 lists unset user options as `null`;
/// - an empty answer is empty whether or not it has a header line.
pub fn differences(
    release: &str,
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (k, v) in before {
        match after.get(k) {
            Some(w) if normalized(release, v, false) == normalized(release, w, true) => {}
            Some(w) => out.push(format!("{k}\n  2.3: {v}\n  now: {w}")),
            None => out.push(format!("{k}: missing")),
        }
    }
    out
}

/// An answer as sorted rows of `column=value`, with the documented differences undone.
fn normalized(release: &str, answer: &str, is_after: bool) -> Vec<String> {
    if answer.starts_with("HTTP ") || answer == "ok" {
        return vec![answer.to_string()];
    }
    let mut lines = answer.lines().map(csv_fields);
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let mut rows: Vec<String> = lines
        .filter(|row| {
            !row.iter()
                .any(|v| v == "usage_schema" || v == "cluster_schema")
        })
        .map(|row| {
            header
                .iter()
                .zip(row)
                .filter(|(col, _)| !(is_after && ADDED_COLUMNS.contains(&col.as_str())))
                .map(|(col, v)| format!("{col}={}", value(release, col, &v, is_after)))
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    rows.sort();
    rows
}

fn value(release: &str, column: &str, v: &str, is_after: bool) -> String {
    match column {
        "ttl" | "vnode_duration" => seconds(v).map_or_else(|| v.to_string(), |s| s.to_string()),
        "tenant_options" if !is_after => {
            let mut o: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(v).unwrap();
            if release != "2.4.0" {
                o.entry("drop_after").or_insert(serde_json::Value::Null);
            }
            o.entry("tenant_is_hidden").or_insert(false.into());
            serde_json::Value::Object(o).to_string()
        }
        "user_options" if !is_after => {
            let mut o: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(v).unwrap();
            if let Some(p) = o.remove("password") {
                o.insert("hash_password".into(), p);
            }
            if release != "2.4.0"
                && release != "2.4.0.1"
                && o.get("must_change_password") == Some(&true.into())
            {
                o.remove("must_change_password");
            }
            serde_json::Value::Object(o).to_string()
        }
        "tenant_options" => {
            let o: serde_json::Value = serde_json::from_str(v).unwrap();
            o.to_string()
        }
        "user_options" => {
            // 2.4.0 writes `must_change_password` and `granted_admin` as null when unset.
            let mut o: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(v).unwrap();
            o.retain(|_, v| !v.is_null());
            serde_json::Value::Object(o).to_string()
        }
        _ => v.to_string(),
    }
}

/// A duration as 2.3 (`3650 Days`) or 2.4 (`9years 11months 27days 21h 50m 24s`, humantime)
/// prints it, in seconds; `INF` is `u64::MAX`.
fn seconds(v: &str) -> Option<u64> {
    if v == "INF" {
        return Some(u64::MAX);
    }
    let unit = |u: &str| -> Option<f64> {
        Some(match u {
            "Days" | "Day" | "days" | "day" | "d" => 86_400.0,
            "Hours" | "Hour" | "h" => 3_600.0,
            "Minutes" | "Minute" | "m" | "min" => 60.0,
            "s" | "sec" => 1.0,
            "years" | "year" | "y" => 31_557_600.0,
            "months" | "month" | "M" => 2_630_016.0,
            "weeks" | "week" | "w" => 604_800.0,
            _ => return None,
        })
    };
    let mut total = 0.0;
    let mut rest = v.trim();
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        let n: f64 = rest[..digits].parse().ok()?;
        rest = rest[digits..].trim_start();
        let end = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        total += n * unit(rest[..end].trim())?;
        rest = rest[end..].trim_start();
    }
    Some(total.round() as u64)
}

/// The fields of one CSV line (RFC 4180 quoting).
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(String::new()),
            (c, _) => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}
