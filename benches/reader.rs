//! The streaming reader alone (line splitting, frame, UTF-8), then with key classification,
//! over a generated 20 MiB dump in memory, in MB/s.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;

use cnosdb_migrate::dump::{DumpReader, Key};

mod support;
use support::Form;

const MIB: u64 = 20;

fn reader(c: &mut Criterion) {
    let mut g = c.benchmark_group("reader");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for (name, form) in [("debug", Form::Debug), ("dump", Form::Dump)] {
        let dump = support::dump(MIB, form);
        g.throughput(Throughput::Bytes(dump.len() as u64));
        g.bench_function(format!("records/{name}"), |b| {
            b.iter(|| {
                let mut r = DumpReader::new(black_box(&dump[..]));
                let mut bytes = 0;
                while let Some(rec) = r.next_record().unwrap() {
                    bytes += rec.value.len();
                }
                bytes
            })
        });
        g.bench_function(format!("records+keys/{name}"), |b| {
            b.iter(|| {
                let mut r = DumpReader::new(black_box(&dump[..]));
                let mut kinds = 0;
                while let Some(rec) = r.next_record().unwrap() {
                    kinds += Key::parse(rec.key).kind.name().len();
                }
                kinds
            })
        });
    }
    g.finish();
}

criterion_group!(benches, reader);
criterion_main!(benches);
