//! The whole transform over arbitrary bytes, with options taken from the first byte: no panic.
#![no_main]


use cnosdb_migrate::pipeline::{transform, TransformOptions};
use cnosdb_migrate::report::JsonLines;
use cnosdb_migrate::rules::{PlaintextPolicy, Rules};
use cnosdb_migrate::target::Target;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, input)) = data.split_first() else {
        return;
    };
    let target = Target::ALL[usize::from(flags & 7) % Target::ALL.len()];
    let mut rules = Rules::new(target);
    // Hashing a plaintext password costs ~0.2 s (bcrypt cost 12): refuse them instead.
    rules.plaintext = PlaintextPolicy::Fail;
    rules.keep_must_change_password = flags & 8 != 0;
    let mut opts = TransformOptions::new(rules);
    opts.keep_target_root = flags & 16 != 0;
    opts.checksums = flags & 32 != 0;
    if flags & 64 != 0 {
        opts.rename_cluster = Some("cluster_new".into());
    }
    if flags & 128 != 0 {
        opts.filter.exclude_tenants.push("cnosdb".into());
        opts.filter.exclude_dbs.push(("t".into(), "d".into()));
    }
    let mut output = Vec::new();
    let mut report = JsonLines(Vec::new());
    if transform(input, &mut output, &opts, &mut report).is_ok() {
        assert!(std::str::from_utf8(&output).is_ok());
    }
});
