//! The per-record patchers (tenant, database, user, table) for every target, over all the
//! values of their kind in a generated 20 MiB dump, in MB/s of values.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;

use cnosdb_migrate::dump::{DumpReader, Key, KeyKind};
use cnosdb_migrate::rules::{
    patch_database, patch_table, patch_tenant, patch_user, Outcome, Patched, Rules,
};
use cnosdb_migrate::target::Target;

mod support;
use support::Form;

type Patcher = fn(&str, &Rules) -> Patched;

/// The values of each patched kind, in input order.
fn values(dump: &[u8]) -> [(&'static str, Patcher, Vec<String>); 4] {
    let mut out: [(&'static str, Patcher, Vec<String>); 4] = [
        ("tenant", patch_tenant, Vec::new()),
        ("database", patch_database, Vec::new()),
        ("user", patch_user, Vec::new()),
        ("table", patch_table, Vec::new()),
    ];
    let mut r = DumpReader::new(dump);
    while let Some(rec) = r.next_record().unwrap() {
        let slot = match Key::parse(rec.key).kind {
            KeyKind::Tenant { .. } => 0,
            KeyKind::Database { .. } => 1,
            KeyKind::User { .. } => 2,
            KeyKind::Table { .. } => 3,
            _ => continue,
        };
        out[slot].2.push(rec.value.to_string());
    }
    out
}

fn rules(c: &mut Criterion) {
    let dump = support::dump(20, Form::Dump);
    let mut g = c.benchmark_group("rules");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for (kind, patch, vals) in values(&dump) {
        g.throughput(Throughput::Bytes(vals.iter().map(|v| v.len() as u64).sum()));
        for target in [
            Target::V2_4_0,
            Target::V2_4_1,
            Target::V2_4_2,
            Target::V2_4_3,
        ] {
            let rules = Rules::new(target);
            g.bench_function(format!("{kind}/{target}"), |b| {
                b.iter(|| {
                    vals.iter()
                        .filter(|v| {
                            matches!(patch(black_box(v), &rules), Ok(Outcome::Patched { .. }))
                        })
                        .count()
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, rules);
criterion_main!(benches);
