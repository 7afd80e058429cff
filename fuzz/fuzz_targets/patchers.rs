//! Every record patcher, for every target, over arbitrary text: no panic, and a patched value
//! patched again is unchanged (the transform is idempotent).
#![no_main]

use cnosdb_migrate::rules::{
    patch_database, patch_table, patch_tenant, patch_user, Outcome, Patched, PlaintextPolicy,
    Rules,
};
use cnosdb_migrate::target::Target;
use libfuzzer_sys::fuzz_target;

type Patcher = fn(&str, &Rules) -> Patched;

const PATCHERS: [(&str, Patcher); 4] = [
    ("tenant", patch_tenant),
    ("database", patch_database),
    ("user", patch_user),
    ("table", patch_table),
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for target in Target::ALL {
        let mut rules = Rules::new(target);
        // Hashing a plaintext password costs ~0.2 s (bcrypt cost 12): refuse them instead.
        rules.plaintext = PlaintextPolicy::Fail;
        for keep in [false, true] {
            rules.keep_must_change_password = keep;
            for (kind, patch) in PATCHERS {
                if let Ok(Outcome::Patched { value, .. }) = patch(text, &rules) {
                    let again = patch(&value, &rules);
                    assert_eq!(
                        again,
                        Ok(Outcome::Unchanged),
                        "{kind} for {target}: patching {value} again"
                    );
                }
            }
        }
    }
});
