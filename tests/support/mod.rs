//! Small helpers shared by the `transform_*` integration tests.
//!
//! Each test crate uses a different subset, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

use assert_cmd::Command;
use serde_json::Value;

/// Every `--target`, oldest first (the same list as `Target::ALL`).
pub const TARGETS: [&str; 6] = ["2.4.0", "2.4.0.1", "2.4.1", "2.4.2", "2.4.2.1", "2.4.3"];

/// User `dave`'s plaintext password in `fixtures/v2.3/full.*`.
pub const DAVE_PLAINTEXT: &str = "secret-pw";
/// What `fixtures/expected/full.*.txt` hold in place of dave's fresh hash.
pub const DAVE_PLACEHOLDER: &str = "<BCRYPT-OF:secret-pw>";
/// The real hashes of the fixtures (alice, bob, small's writer): they must never reach a
/// report or stderr.
pub const FIXTURE_HASHES: [&str; 3] = [
    "$2b$12$AwzeEg0CnsYXqZLIKQ6zAOOcIX72C7ew0xT2yjA0MacHBZ1.IDPVG",
    "$2b$12$Ma1O9MBH/3DiCaT1c4Q8COu/5d9GA6yWDFIvEL3Qoh/UgkWwVKAkS",
    "$2b$12$7xLk2qlyXo6gWAq0k51gyeQStuG3vt5z561rJSu/sGWf9EzIMt7Zi",
];
/// A valid bcrypt hash (of `password`), for inputs that must not cost a bcrypt round.
pub const SOME_HASH: &str = "$2b$12$UXtD3jygSi76oO2IyV/UHeC2TqqD3SBp0yxoyp3intrNueiHVjri6";

/// The binary under test.
pub fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_cnosdb-migrate"))
}

/// `cnosdb-migrate` as an assert_cmd command.
pub fn cmd() -> Command {
    Command::new(bin())
}

/// `cnosdb-migrate` as a plain std command (for spawning with pipes).
pub fn std_cmd() -> StdCommand {
    StdCommand::new(bin())
}

/// A path under `fixtures/`.
pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
}

/// The bytes of a fixture.
pub fn fixture_bytes(rel: &str) -> Vec<u8> {
    std::fs::read(fixture(rel)).unwrap_or_else(|e| panic!("reading fixtures/{rel}: {e}"))
}

/// The text of a fixture.
pub fn fixture_text(rel: &str) -> String {
    String::from_utf8(fixture_bytes(rel)).unwrap()
}

/// `full.dump.txt` with dave's plaintext password replaced by a ready bcrypt hash, so that a
/// run costs no bcrypt round.
pub fn full_without_plaintext() -> String {
    let text = fixture_text("v2.3/full.dump.txt");
    let needle = format!("\"password\":\"{DAVE_PLAINTEXT}\"");
    assert_eq!(text.matches(&needle).count(), 1);
    text.replace(&needle, &format!("\"password\":\"{SOME_HASH}\""))
}

/// Every bcrypt-looking substring of `text` (`$2?$NN$` and 53 more characters).
pub fn bcrypt_hashes(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i + 60 <= b.len() {
        let c = &b[i..i + 60];
        let is_hash = c[0] == b'$'
            && c[1] == b'2'
            && matches!(c[2], b'a' | b'b' | b'x' | b'y')
            && c[3] == b'$'
            && c[4].is_ascii_digit()
            && c[5].is_ascii_digit()
            && c[6] == b'$'
            && c[7..]
                .iter()
                .all(|&x| x.is_ascii_alphanumeric() || x == b'.' || x == b'/');
        if is_hash {
            found.push(String::from_utf8(c.to_vec()).unwrap());
            i += 60;
        } else {
            i += 1;
        }
    }
    found
}

/// Checks that dave's line holds a fresh cost-12 `$2b$` hash of `secret-pw`, and returns
/// `stdout` with that hash replaced by [`DAVE_PLACEHOLDER`].
pub fn redact_dave(stdout: &str) -> String {
    let dave: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("/users/dave: "))
        .collect();
    assert_eq!(dave.len(), 1, "exactly one dave line in:\n{stdout}");
    assert!(!stdout.contains(DAVE_PLAINTEXT), "plaintext in the output");
    let hashes = bcrypt_hashes(dave[0]);
    assert_eq!(hashes.len(), 1, "one hash on dave's line: {}", dave[0]);
    let hash = &hashes[0];
    assert!(hash.starts_with("$2b$12$"), "cost-12 $2b$ hash: {hash}");
    assert_eq!(hash.len(), 60);
    assert!(
        !FIXTURE_HASHES.contains(&hash.as_str()),
        "dave's hash is fresh"
    );
    assert!(
        bcrypt::verify(DAVE_PLAINTEXT, hash).unwrap(),
        "dave's hash verifies against his password"
    );
    assert_eq!(stdout.matches(hash.as_str()).count(), 1);
    stdout.replace(hash.as_str(), DAVE_PLACEHOLDER)
}

/// A parsed `--report` file: the per-record entries and the summary (last line).
#[derive(Debug)]
pub struct Report {
    pub entries: Vec<Value>,
    pub summary: Value,
}

impl Report {
    /// Parses JSON Lines; asserts the shape (one summary, last).
    pub fn parse(text: &str) -> Report {
        assert!(text.ends_with('\n'), "report ends with a newline");
        let mut values: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        let summary = values.pop().expect("a summary line");
        assert_eq!(
            summary["summary"],
            Value::Bool(true),
            "last line is the summary"
        );
        assert!(
            values.iter().all(|v| v.get("summary").is_none()),
            "only the last line is a summary"
        );
        Report {
            entries: values,
            summary,
        }
    }

    /// The entry for input line `line`.
    pub fn at(&self, line: u64) -> &Value {
        let found: Vec<&Value> = self.entries.iter().filter(|e| e["line"] == line).collect();
        assert_eq!(found.len(), 1, "one entry for line {line}");
        found[0]
    }

    /// The entry for input key `key`.
    pub fn of(&self, key: &str) -> &Value {
        let found: Vec<&Value> = self.entries.iter().filter(|e| e["key"] == key).collect();
        assert_eq!(found.len(), 1, "one entry for key {key}");
        found[0]
    }

    /// Asserts that the entries name each of `lines` exactly once and nothing else.
    pub fn assert_covers(&self, lines: impl IntoIterator<Item = u64>) {
        let mut got: Vec<u64> = self
            .entries
            .iter()
            .map(|e| e["line"].as_u64().expect("line is a number"))
            .collect();
        got.sort_unstable();
        let want: Vec<u64> = lines.into_iter().collect();
        assert_eq!(got, want, "every input record once in the report");
        assert_eq!(
            self.summary["input_records"].as_u64(),
            Some(want.len() as u64)
        );
    }
}

/// Asserts that `text` holds no bcrypt hash and none of the fixtures' plaintext passwords.
pub fn assert_no_secrets(what: &str, text: &str) {
    assert!(
        bcrypt_hashes(text).is_empty(),
        "{what} holds a password hash:\n{text}"
    );
    for secret in [
        DAVE_PLAINTEXT,
        "Str0ng-pass",
        "b0b-Acme!2024",
        "wr1ter-pass",
    ] {
        assert!(!text.contains(secret), "{what} holds a plaintext password");
    }
    assert!(!text.contains("$2b$"), "{what} holds a hash prefix");
}

/// The `KEY` of every `KEY: VALUE` line.
pub fn keys(text: &str) -> Vec<&str> {
    text.lines()
        .map(|l| l.split_once(": ").expect("KEY: VALUE").0)
        .collect()
}

/// The value of the line with key `key`.
pub fn value_of<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .filter_map(|l| l.split_once(": "))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

/// Snapshot-name-friendly form of a target (`2.4.0.1` → `2_4_0_1`).
pub fn t_(target: &str) -> String {
    target.replace('.', "_")
}
