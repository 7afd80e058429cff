//! The whole transform (both passes, all rules, output written to memory) per target over a
//! generated 20 MiB `/debug` dump, in MB/s of input.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::time::Duration;

use cnosdb_migrate::pipeline::{transform, TransformOptions};
use cnosdb_migrate::report::NoReport;
use cnosdb_migrate::rules::Rules;
use cnosdb_migrate::target::Target;

mod support;
use support::Form;

fn pipeline(c: &mut Criterion) {
    let dump = support::dump(20, Form::Debug);
    let mut g = c.benchmark_group("transform");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Bytes(dump.len() as u64));
    let mut out = Vec::with_capacity(dump.len());
    for target in Target::ALL {
        let opts = TransformOptions::new(Rules::new(target));
        g.bench_function(target.as_str(), |b| {
            b.iter(|| {
                out.clear();
                transform(&dump[..], &mut out, &opts, &mut NoReport).unwrap()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
