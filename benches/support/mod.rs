//! What the benches share: generated dumps, in memory.

// Shared with `examples/gen_dump.rs`, which uses the parts the benches do not (stats, sizes).
#[allow(dead_code)]
pub mod gen;

pub use gen::Form;

/// A generated dump of about `mib` MiB (seed 42), in memory.
pub fn dump(mib: u64, form: Form) -> Vec<u8> {
    let mut out = Vec::with_capacity(((mib + 1) << 20) as usize);
    gen::generate(&mut out, &gen::Spec::new(mib << 20, form, 42)).expect("writing to a Vec");
    out
}
