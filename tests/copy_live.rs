//! A real copy of a small table between live data nodes, when the environment names them:
//! `CNOSDB_TEST_SQL_23` and `CNOSDB_TEST_SQL_24` (e.g. `http://127.0.0.1:8902`), optionally
//! `CNOSDB_TEST_USER` (root), `CNOSDB_TEST_PASSWORD_23` (empty), `CNOSDB_TEST_PASSWORD_24`
//! (`root`) and `CNOSDB_TEST_COPY_DIR` (`file:///tmp/cnosdb-migrate-live`, a directory both
//! nodes can reach). Without them the test does nothing.

use std::time::{SystemTime, UNIX_EPOCH};

use assert_cmd::Command;
use base64::Engine as _;

struct Node {
    url: String,
    user: String,
    password: String,
}

impl Node {
    fn sql(&self, db: &str, sql: &str) -> String {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let token = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", self.user, self.password));
        let mut resp = agent
            .post(format!("{}/api/v1/sql?tenant=cnosdb&db={db}", self.url))
            .header("Authorization", format!("Basic {token}"))
            .header("Accept", "application/csv")
            .send(sql)
            .unwrap_or_else(|e| panic!("{}: {e}", self.url));
        let status = resp.status().as_u16();
        let body = resp.body_mut().read_to_string().unwrap();
        assert!(status < 300, "{} {sql}: HTTP {status} {body}", self.url);
        body
    }
}

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

#[test]
fn live_copy_of_a_small_table() {
    let (Ok(old), Ok(new)) = (
        std::env::var("CNOSDB_TEST_SQL_23"),
        std::env::var("CNOSDB_TEST_SQL_24"),
    ) else {
        eprintln!("CNOSDB_TEST_SQL_23 / CNOSDB_TEST_SQL_24 not set: live copy skipped");
        return;
    };
    let user = env("CNOSDB_TEST_USER", "root");
    let old = Node {
        url: old,
        user: user.clone(),
        password: env("CNOSDB_TEST_PASSWORD_23", ""),
    };
    let new = Node {
        url: new,
        user: user.clone(),
        password: env("CNOSDB_TEST_PASSWORD_24", "root"),
    };
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let table = format!("live_{stamp}");
    let db = "migrate_live";
    for node in [&old, &new] {
        node.sql("public", &format!("CREATE DATABASE IF NOT EXISTS {db}"));
        node.sql(db, &format!("CREATE TABLE {table} (v BIGINT, TAGS(host))"));
    }
    old.sql(
        db,
        &format!(
            "INSERT INTO {table} (TIME, host, v) VALUES (1, 'a', 1), (2, 'b', 2), (3, 'c', 3)"
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump.txt");
    std::fs::write(
        &dump,
        format!(
            "/cluster_xxx/tenants/cnosdb/dbs/{db}/schemas/{table}: {{\"TsKvTableSchema\":{{\"columns\":[\
             {{\"column_type\":{{\"Time\":\"Nanosecond\"}}}},{{\"column_type\":\"Tag\"}},\
             {{\"column_type\":{{\"Field\":\"Integer\"}}}}]}}}}\n"
        ),
    )
    .unwrap();
    let copy_dir = format!(
        "{}/{stamp}",
        env("CNOSDB_TEST_COPY_DIR", "file:///tmp/cnosdb-migrate-live")
    );
    let out = Command::cargo_bin("cnosdb-migrate")
        .unwrap()
        .arg("copy")
        .arg(&dump)
        .args([
            "--from", &old.url, "--to", &new.url, "--dir", &copy_dir, "--user", &user,
        ])
        .args([
            "--password-env",
            "CNOSDB_LIVE_PW_OLD",
            "--to-password-env",
            "CNOSDB_LIVE_PW_NEW",
        ])
        .env("CNOSDB_LIVE_PW_OLD", &old.password)
        .env("CNOSDB_LIVE_PW_NEW", &new.password)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("1 copied"), "{stdout}");
    let count = new.sql(db, &format!("SELECT count(*) AS n FROM {table}"));
    assert_eq!(count.lines().nth(1).map(str::trim), Some("3"), "{count}");
    for node in [&old, &new] {
        node.sql(db, &format!("DROP TABLE IF EXISTS {table}"));
    }
}
