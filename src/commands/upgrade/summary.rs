//! What `upgrade` says at the end, in words and in JSON: the steps and their durations,
//! what moved, what was left out and why, the choices that change behaviour, what is left to
//! do.

use std::fs;

use super::workdir::Workdir;
use super::UpgradeArgs;
use crate::commands::term::shell_word;
use cnosdb_migrate::error::Result;

/// Writes summary.json and summary.txt, and says in words what is left to do.
pub fn summary(work: &Workdir, args: &UpgradeArgs) -> Result<()> {
    let done = work.done()?;
    let report = fs::read_to_string(work.path("transform.report.jsonl")).unwrap_or_default();
    let moved = Moved::from_reports(
        &report,
        &fs::read_to_string(work.path("copy.report.jsonl")).unwrap_or_default(),
    );
    let transform = report.lines().last().unwrap_or("null");
    let verdicts =
        verdicts(&fs::read_to_string(work.path("verify-rows.jsonl")).unwrap_or_default());
    let json = format!(
        "{{\"from\":{},\"to\":{},\"steps\":{},\"moved\":{},\"left_out\":{},\"rows\":{},\"rows_verified\":{},\"transform\":{transform}}}\n",
        cnosdb_migrate::json::quote(&args.from),
        cnosdb_migrate::json::quote(&args.to),
        serde_json::to_string(&done).unwrap_or_default(),
        serde_json::to_string(&moved.kinds).unwrap_or_default(),
        serde_json::to_string(&moved.left_out).unwrap_or_default(),
        moved.rows,
        serde_json::to_string(&verdicts).unwrap_or_default()
    );
    let list = |m: &std::collections::BTreeMap<String, u64>| {
        m.iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let text = format!(
        "Upgrade from {} to {}: every step done ({}).\n\
         Moved: {}; {} rows copied.\n\
         Rows compared on both clusters, per table: {}.\n\
         Left out (by rule, see transform.report.jsonl): {}.\n\
         Choices that change behaviour: {}.\n\
         Artifacts in {}: old.txt, fresh.txt, restore.txt, transform.report.jsonl, check.log, \
         verify.log, copy.state, copy.report.jsonl, verify-rows.jsonl, journal.jsonl, and each \
         step's log.\n\
         Still to do: switch the writers to the new cluster, then copy the rows written \
         meanwhile{}; have users whose password was hashed or must change change it; then \
         retire the old cluster.\n",
        args.from,
        args.to,
        super::STEPS
            .iter()
            .filter_map(|(s, _)| done.get(*s).map(|t| format!("{s} {t:.2} s")))
            .collect::<Vec<_>>()
            .join(", "),
        kinds(&moved.kinds),
        moved.rows,
        list(&verdicts),
        if moved.left_out.is_empty() {
            "nothing".into()
        } else {
            list(&moved.left_out)
        },
        if moved.choices.is_empty() {
            "none".into()
        } else {
            list(&moved.choices)
        },
        work.dir().display(),
        catch_up(work, args)
    );
    work.write_private("summary.json", &json)?;
    work.write_private("summary.txt", &text)?;
    out!("{}", text.trim_end());
    Ok(())
}

/// The command that copies the rows written since the copy's pass, with the watermark the
/// ledger recorded for it: `: cnosdb-migrate copy … --since T`.
fn catch_up(work: &Workdir, args: &UpgradeArgs) -> String {
    let ledger = fs::read_to_string(work.path("copy.state")).unwrap_or_default();
    let watermark = ledger
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|l| l["watermark"].as_i64())
        .next_back();
    let Some(watermark) = watermark else {
        return String::new();
    };
    let words: Vec<String> = super::command(work, args, "copy")
        .into_iter()
        .filter(|w| w != "-q" && w != "--progress-lines")
        .chain(["--since".to_string(), watermark.to_string()])
        .map(|w| shell_word(&w))
        .collect();
    format!(": cnosdb-migrate {}", words.join(" "))
}

/// `2 databases, 1 table`: each kind of record with its count.
fn kinds(m: &std::collections::BTreeMap<String, u64>) -> String {
    let plural = |k: &str, n: u64| {
        if n == 1 {
            k.to_string()
        } else {
            format!("{k}s")
        }
    };
    m.iter()
        .map(|(k, &n)| format!("{n} {}", plural(k, n)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How many tables `verify-rows` found equal, with more rows on the new cluster, etc.
fn verdicts(lines: &str) -> std::collections::BTreeMap<String, u64> {
    let mut out = std::collections::BTreeMap::new();
    for line in lines
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
    {
        let verdict = line["verdict"].as_str().unwrap_or("?").to_string();
        *out.entry(verdict).or_default() += 1;
    }
    out
}

/// What an upgrade moved, read from the transform's and the copy's reports (keys, kinds and
/// counts only: no record value is in them).
#[derive(Default)]
struct Moved {
    /// Records written, per kind.
    kinds: std::collections::BTreeMap<String, u64>,
    /// Records left out, per rule.
    left_out: std::collections::BTreeMap<String, u64>,
    /// Field changes that change how the cluster behaves (`options.must_change_password
    /// removed`, `options.hash_password hashed`), with their counts.
    choices: std::collections::BTreeMap<String, u64>,
    /// Rows imported.
    rows: u64,
}

impl Moved {
    fn from_reports(transform: &str, copy: &str) -> Moved {
        let mut m = Moved::default();
        for entry in transform
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|e| e.get("summary").is_none())
        {
            let text = |k: &str| entry[k].as_str().unwrap_or("").to_string();
            if text("action") == "dropped" {
                *m.left_out.entry(text("rule")).or_default() += 1;
            } else {
                *m.kinds.entry(text("kind")).or_default() += 1;
            }
            for change in entry["changes"].as_array().into_iter().flatten() {
                let (field, op) = (
                    change["field"].as_str().unwrap_or(""),
                    change["op"].as_str().unwrap_or(""),
                );
                if matches!(op, "hashed")
                    || (field.ends_with("must_change_password") && op == "removed")
                {
                    *m.choices.entry(format!("{field} {op}")).or_default() += 1;
                }
            }
        }
        m.rows = copy
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|t| t["imported"].as_u64())
            .sum();
        m
    }
}
