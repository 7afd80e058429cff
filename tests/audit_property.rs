//! Property: whatever 2.3 dump goes in, `transform --target V` writes a file that
//! `check --target V` passes.

use cnosdb_migrate::check::check;
use cnosdb_migrate::pipeline::{transform, TransformOptions};
use cnosdb_migrate::report::NoReport;
use cnosdb_migrate::rules::Rules;
use cnosdb_migrate::target::Target;
use proptest::prelude::*;

const HASH: &str = "$2b$12$7xLk2qlyXo6gWAq0k51gyeQStuG3vt5z561rJSu/sGWf9EzIMt7Zi";

/// Draws choices from a tape of random numbers (zeros when it runs out, which shrinks well).
struct Tape<'a>(std::slice::Iter<'a, u32>);

impl Tape<'_> {
    fn pick(&mut self, n: u32) -> u32 {
        self.0.next().copied().unwrap_or(0) % n
    }

    fn one<'s>(&mut self, options: &[&'s str]) -> &'s str {
        options[self.pick(options.len() as u32) as usize]
    }

    fn duration(&mut self) -> String {
        match self.pick(4) {
            0 => "null".into(),
            1 => r#"{"time_num":0,"unit":"Inf"}"#.into(),
            2 => format!(
                r#"{{"time_num":{},"unit":"{}"}}"#,
                self.pick(100_000),
                self.one(&["Minutes", "Hour", "Day"])
            ),
            _ => r#"{"time_num":300000000000000,"unit":"Day"}"#.into(),
        }
    }

    fn maybe_num(&mut self) -> String {
        match self.pick(2) {
            0 => "null".into(),
            _ => (1 + self.pick(8)).to_string(),
        }
    }
}

/// A 2.3.5 dump, keys in byte order, built from the tape.
fn dump_23(tape: &[u32]) -> String {
    let mut t = Tape(tape.iter());
    let c = "/cluster_xxx";
    let mut lines: Vec<String> = vec![
        "/data_version: 9".into(),
        format!("{c}/auto_incr_id: 4"),
        format!(r#"{c}/data_nodes/1001: {{"id":1001,"grpc_addr":"127.0.0.1:8903"}}"#),
    ];
    let mut users: Vec<(u128, String)> = Vec::new();
    for i in 0..t.pick(5) {
        let name = if i == 0 && t.pick(2) == 0 {
            "root".to_string()
        } else {
            format!("u{i}")
        };
        let id = 1_000_000 + u128::from(t.pick(1_000_000)) * 7 + u128::from(i);
        let password = match t.pick(3) {
            0 => "null".to_string(),
            _ => format!("\"{HASH}\""),
        };
        let mut options = format!(r#""password":{password}"#);
        for (field, values) in [
            ("must_change_password", &["true", "false"][..]),
            (
                "rsa_public_key",
                &["\"-----BEGIN PUBLIC KEY-----\\nX\""][..],
            ),
            ("comment", &["\"c\"", "\"Zürich \\\"x\\\"\""][..]),
            ("granted_admin", &["true", "false"][..]),
        ] {
            if t.pick(2) == 1 {
                options += &format!(r#","{field}":{}"#, t.one(values));
            }
        }
        let admin = t.one(&["true", "false"]);
        lines.push(format!(
            r#"{c}/users/{name}: {{"id":{id},"name":"{name}","options":{{{options}}},"is_admin":{admin}}}"#
        ));
        users.push((id, name));
    }
    let mut tenants = vec!["cnosdb".to_string()];
    for i in 0..t.pick(3) {
        tenants.push(format!("t{i}"));
    }
    for tenant in &tenants {
        let comment = t.one(&["null", "\"system tenant\""]);
        lines.push(format!(
            r#"{c}/tenants/{tenant}: {{"id":{},"name":"{tenant}","options":{{"comment":{comment},"limiter_config":null}}}}"#,
            100 + t.pick(1000)
        ));
        let mut roles = Vec::new();
        for r in 0..t.pick(3) {
            let role = format!("r{r}");
            let privilege = t.one(&["Read", "Write", "Full"]);
            lines.push(format!(
                r#"{c}/tenants/{tenant}/roles/{role}: {{"id":{},"name":"{role}","system_role":"{}","additional_privileges":{{"db0":"{privilege}"}}}}"#,
                7 + r,
                t.one(&["Owner", "Member"])
            ));
            roles.push(role);
        }
        for _ in 0..t.pick(4) {
            let uid = match (users.is_empty(), t.pick(4)) {
                (false, 0..=2) => users[t.pick(users.len() as u32) as usize].0,
                _ => 42,
            };
            let role = match t.pick(4) {
                0 => r#"{"System":"Owner"}"#.to_string(),
                1 => r#"{"System":"Member"}"#.to_string(),
                2 if !roles.is_empty() => {
                    format!(
                        r#"{{"Custom":"{}"}}"#,
                        roles[t.pick(roles.len() as u32) as usize]
                    )
                }
                _ => r#"{"Custom":"missing"}"#.to_string(),
            };
            lines.push(format!("{c}/tenants/{tenant}/members/{uid}: {role}"));
        }
        let mut dbs: Vec<String> = (0..t.pick(3)).map(|d| format!("db{d}")).collect();
        if tenant == "cnosdb" {
            dbs.push("public".into());
            if t.pick(2) == 1 {
                dbs.push("usage_schema".into());
            }
        }
        for db in dbs {
            lines.push(format!(
                r#"{c}/tenants/{tenant}/dbs/{db}: {{"tenant":"{tenant}","database":"{db}","config":{{"ttl":{},"shard_num":{},"vnode_duration":{},"replica":{},"precision":{}}}}}"#,
                t.duration(),
                t.maybe_num(),
                t.duration(),
                t.maybe_num(),
                t.one(&["null", "\"MS\"", "\"US\"", "\"NS\""])
            ));
            if t.pick(2) == 1 {
                lines.push(format!(
                    r#"{c}/tenants/{tenant}/dbs/{db}/buckets/1: {{"id":1,"start_time":0,"end_time":1,"shard_group":[{{"id":2,"vnodes":[{{"id":3,"node_id":1001,"status":"Running"}}]}}]}}"#
                ));
            }
            for tb in 0..t.pick(3) {
                let value = match t.pick(3) {
                    0 => format!(
                        r#"{{"ExternalTableSchema":{{"tenant":"{tenant}","db":"{db}","name":"x{tb}","file_compression_type":"","file_type":"CSV","location":"file:///a.csv","target_partitions":8,"table_partition_cols":[],"has_header":true,"delimiter":44,"schema":{{"fields":[],"metadata":{{}}}}}}}}"#
                    ),
                    _ => format!(
                        r#"{{"TsKvTableSchema":{{"tenant":"{tenant}","db":"{db}","name":"x{tb}","schema_id":{},"next_column_id":2,"columns":[{{"id":0,"name":"time","column_type":{{"Time":"Nanosecond"}},"encoding":"Default"}},{{"id":1,"name":"v","column_type":{{"Field":"Float"}},"encoding":"Gorilla"}}]{}}}}}"#,
                        t.pick(3),
                        t.one(&["", r#","columns_index":{"v":1,"time":0}"#])
                    ),
                };
                lines.push(format!(
                    "{c}/tenants/{tenant}/dbs/{db}/schemas/x{tb}: {value}"
                ));
            }
        }
    }
    lines.sort();
    lines.dedup_by(|a, b| a.split_once(": ").map(|x| x.0) == b.split_once(": ").map(|x| x.0));
    lines.join("\n") + "\n"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn transform_output_passes_check(tape in prop::collection::vec(any::<u32>(), 0..160)) {
        let input = dump_23(&tape);
        for target in Target::ALL {
            let mut out = Vec::new();
            transform(input.as_bytes(), &mut out, &TransformOptions::new(Rules::new(target)), &mut NoReport)
                .unwrap();
            let report = check(&out[..], target, None).unwrap();
            prop_assert!(
                report.problems.is_empty(),
                "{target}:\n{input}\n->\n{}\n{:?}",
                String::from_utf8_lossy(&out),
                report.problems
            );
        }
    }

    #[test]
    fn a_2_3_dump_never_passes_check(tape in prop::collection::vec(any::<u32>(), 0..160)) {
        let input = dump_23(&tape);
        for target in Target::ALL {
            prop_assert!(!check(input.as_bytes(), target, None).unwrap().summary.ok);
        }
    }
}
