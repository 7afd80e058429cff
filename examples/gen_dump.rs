//! Deterministic generator of large, realistic CnosDB **v2.3.5.4** meta-store dumps.
//!
//! ```text
//! cargo run --release --example gen_dump -- --size 200M --form debug --seed 42 -o /tmp/dump.txt
//! ```
//!
//! Options
//! - `--size N[K|M|G]`: approximate output size (binary units: 1M = 1 MiB); default 16M. The size
//!   is measured on the `/dump` form; `--form debug` adds the two banner lines and 2 bytes (`* `)
//!   per record on top, so both forms carry byte-identical records for the same seed and size.
//!   Below ~25K the skeleton (users, tenants, ...) alone is larger than asked for.
//! - `--form debug|dump`: `/debug` frame (2.3 banners, `* KEY: VALUE`) or plain `/dump`
//!   (`KEY: VALUE`); default `debug`.
//! - `--seed N`: PRNG seed (u64); default 42. Same seed + size => same bytes, on any machine.
//! - `--cluster NAME`: cluster name in every key; default `cluster_xxx`.
//! - `-o FILE`: output file; default stdout.
//! - `--stats`: print a per-record-kind byte breakdown and the speed to stderr.
//!
//! The generator itself (what the dump holds) is `benches/support/gen.rs`, shared with the
//! criterion benches.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::process::exit;
use std::time::Instant;

#[path = "../benches/support/gen.rs"]
mod gen;

use gen::{generate, parse_size, Form, Spec};

struct Args {
    spec: Spec,
    out: Option<String>,
    stats: bool,
}

fn usage() -> ! {
    eprintln!(
        "usage: gen_dump [--size N[K|M|G]] [--form debug|dump] [--seed N] [--cluster NAME] [-o FILE] [--stats]"
    );
    exit(2)
}

fn parse_args() -> Args {
    let mut a = Args {
        spec: Spec::new(16 << 20, Form::Debug, 42),
        out: None,
        stats: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut val = |name: &str| -> String {
            inline.clone().or_else(|| it.next()).unwrap_or_else(|| {
                eprintln!("gen_dump: {} needs a value", name);
                usage()
            })
        };
        match flag.as_str() {
            "--size" | "-s" => {
                let v = val("--size");
                a.spec.size = parse_size(&v).unwrap_or_else(|| {
                    eprintln!("gen_dump: bad size {:?} (examples: 500K, 200M, 1G)", v);
                    usage()
                })
            }
            "--form" | "-f" => {
                a.spec.form = match val("--form").as_str() {
                    "debug" => Form::Debug,
                    "dump" => Form::Dump,
                    other => {
                        eprintln!("gen_dump: --form must be debug or dump, not {:?}", other);
                        usage()
                    }
                }
            }
            "--seed" => {
                let v = val("--seed");
                a.spec.seed = v.parse().unwrap_or_else(|_| {
                    eprintln!("gen_dump: bad seed {:?}", v);
                    usage()
                })
            }
            "--cluster" => {
                a.spec.cluster = val("--cluster");
                let c = &a.spec.cluster;
                if c.is_empty() || c.contains('/') || c.contains(": ") {
                    eprintln!("gen_dump: bad cluster name");
                    usage()
                }
            }
            "-o" | "--output" => a.out = Some(val("-o")).filter(|s| s != "-"),
            "--stats" => a.stats = true,
            "-h" | "--help" => {
                eprintln!(
                    "{}",
                    include_str!("gen_dump.rs")
                        .lines()
                        .take(17)
                        .map(|l| l.trim_start_matches("//!").trim_start_matches(' '))
                        .collect::<Vec<_>>()
                        .join("\n")
                );
                exit(0)
            }
            _ => {
                eprintln!("gen_dump: unknown argument {:?}", arg);
                usage()
            }
        }
    }
    if a.spec.size > 64 << 30 {
        eprintln!("gen_dump: sizes above 64G would overflow 2.3's u32 bucket/vnode ids");
        exit(2)
    }
    a
}

fn main() {
    let args = parse_args();
    let started = Instant::now();
    let sink: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(File::create(path).unwrap_or_else(|e| {
            eprintln!("gen_dump: cannot create {}: {}", path, e);
            exit(1)
        })),
        None => Box::new(io::stdout()),
    };
    let w = BufWriter::with_capacity(1 << 20, sink);
    match generate(w, &args.spec) {
        Ok(out) => {
            if args.stats {
                let secs = started.elapsed().as_secs_f64();
                eprintln!(
                    "gen_dump: {} records, {} bytes (dump form) in {:.2} s ({:.0} MiB/s)",
                    out.records,
                    out.bytes,
                    secs,
                    out.bytes as f64 / secs / (1 << 20) as f64
                );
                for (kind, n, bytes) in &out.kinds {
                    eprintln!(
                        "  {:<15} {:>10} records {:>14} bytes {:>6.2}%",
                        kind,
                        n,
                        bytes,
                        *bytes as f64 * 100.0 / out.bytes.max(1) as f64
                    );
                }
            }
        }
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        Err(e) => {
            eprintln!("gen_dump: write failed: {}", e);
            exit(1)
        }
    }
}
