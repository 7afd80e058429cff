//! `transform`: a 2.3 dump in, a restore-ready file for one 2.4.x target out.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;

use super::{hinted, TargetArgs};
use cnosdb_migrate::error::{Error, Result};
use cnosdb_migrate::output::{is_stdout, open_rereadable_input, Output};
use cnosdb_migrate::pipeline::{transform, TransformOptions};
use cnosdb_migrate::release::LearnedTarget;
use cnosdb_migrate::report::{JsonLines, NoReport};
use cnosdb_migrate::rules::{PlaintextPolicy, Rules};

/// What to do with a password that is not a bcrypt hash (stored by 2.3.0–2.3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Plaintext {
    /// Replace it with its bcrypt hash (cost 12), so the login keeps working.
    Hash,
    /// Refuse the dump.
    Fail,
}

/// Arguments of `transform`.
#[derive(Debug, Args)]
pub struct TransformArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// The dump to read (`/dump` or `/debug` form, detected); `-` or absent for stdin.
    pub input: Option<PathBuf>,
    /// Where to write the restore-ready file; `-` or absent for stdout. Written atomically, mode 0600.
    #[arg(short, long, value_name = "OUTPUT")]
    pub output: Option<PathBuf>,
    /// Replace OUTPUT (and the report) if they exist (a regular file only).
    #[arg(long)]
    pub force: bool,
    /// Print the dump even when stdout is a terminal (refused otherwise: it holds password
    /// hashes).
    #[arg(long)]
    pub to_terminal: bool,
    /// Write to stdout as records are converted, instead of only after the whole input was accepted.
    #[arg(long)]
    pub stream: bool,
    /// Write the audit trail here: one JSON line per input record, then a summary with the
    /// SHA-256 of input and output (also printed on stderr). `-`: stdout (with -o FILE).
    #[arg(long, value_name = "PATH")]
    pub report: Option<PathBuf>,
    /// No summary on stderr.
    #[arg(short, long)]
    pub quiet: bool,
    #[command(flatten)]
    pub convert: ConvertArgs,
}

/// The options that change what `transform` writes (shared with `diff`).
#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// Rewrite the cluster segment of every key to NAME (the new cluster's `cluster_name`).
    #[arg(long, value_name = "NAME")]
    pub rename_cluster: Option<String>,
    #[command(flatten)]
    pub filter: super::FilterArgs,
    /// Leave out the source's `root` user and its memberships, so the new cluster keeps its own
    /// root (a 2.3 root without a password is always left out).
    #[arg(long)]
    pub keep_target_root: bool,
    /// What to do with a password that is not a bcrypt hash (2.3.0–2.3.3 leftovers).
    #[arg(long, value_enum, default_value = "hash", value_name = "POLICY")]
    pub plaintext_passwords: Plaintext,
    /// Keep `must_change_password` on users for 2.4.1+ (which then refuses their statements
    /// until they change their password).
    #[arg(long)]
    pub keep_must_change_password: bool,
    /// Override a 2.4.2+ database config default for converted databases: NAME=VALUE
    /// (max_memcache_size, memcache_partitions, wal_max_file_size, wal_sync, strict_write,
    /// max_cache_readers). Repeatable.
    #[arg(long, value_name = "NAME=VALUE")]
    pub db_config: Vec<String>,
}

impl ConvertArgs {
    /// The transform options these arguments ask for, for a resolved target.
    pub fn options(&self, learned: &LearnedTarget) -> Result<TransformOptions> {
        let target = learned.target;
        let mut rules = Rules::new(target);
        if let Some(config) = learned.db_config {
            rules.db_config = config;
        }
        if !self.db_config.is_empty() && !target.structured_databases() {
            return Err(Error::Usage(format!(
                "--db-config applies to targets 2.4.2 and later; {target} databases have no such config"
            )));
        }
        for assignment in &self.db_config {
            rules
                .db_config
                .set(assignment)
                .map_err(|e| Error::Usage(format!("--db-config: {e}")))?;
        }
        rules.plaintext = match self.plaintext_passwords {
            Plaintext::Hash => PlaintextPolicy::Hash,
            Plaintext::Fail => PlaintextPolicy::Fail,
        };
        rules.keep_must_change_password = self.keep_must_change_password;
        if let Some(name) = &self.rename_cluster {
            if name.is_empty() || name.contains('/') || name.contains(": ") {
                return Err(Error::Usage(format!(
                    "--rename-cluster: `{name}` is not a cluster name"
                )));
            }
        }
        Ok(TransformOptions {
            rules,
            filter: self.filter.filter(),
            rename_cluster: self.rename_cluster.clone(),
            keep_target_root: self.keep_target_root,
            checksums: false,
        })
    }
}

/// Runs `transform`.
pub fn run(args: TransformArgs) -> Result<u8> {
    let mut opts = args.convert.options(&args.target.resolve(args.quiet)?)?;
    opts.checksums = args.report.is_some();
    let output_to_stdout = is_stdout(args.output.as_deref());
    if output_to_stdout && args.report.as_deref().is_some_and(|p| is_stdout(Some(p))) {
        return Err(Error::Usage(
            "--report -: stdout carries the converted dump; give -o FILE to have the report \
             on stdout, or a file path for the report"
                .into(),
        ));
    }
    if let (Some(o), Some(r)) = (args.output.as_deref(), args.report.as_deref()) {
        if !is_stdout(Some(o)) && same_file(o, r) {
            return Err(Error::Usage(format!(
                "--report and --output name the same file ({}); the report would replace the \
                 converted dump",
                r.display()
            )));
        }
    }
    super::term::refuse_dump_on_terminal(args.output.as_deref(), args.to_terminal)?;
    super::term::notice_stdin(args.input.as_deref(), "the dump");
    let input = open_rereadable_input(args.input.as_deref())?;
    super::check_filter(&input, args.input.as_deref(), &opts.filter)?;
    let mut out = Output::open(args.output.as_deref(), args.force, args.stream)?;
    let mut report = match &args.report {
        Some(p) => Some(Output::open(Some(p), args.force, false)?),
        None => None,
    };
    let summary = match report.as_mut() {
        Some(r) => transform(&input, &mut out, &opts, &mut JsonLines(r)).map_err(hinted)?,
        None => transform(&input, &mut out, &opts, &mut NoReport).map_err(hinted)?,
    };
    super::check_written(&summary, args.input.as_deref())?;
    out.commit()?;
    if let Some(mut r) = report {
        r.write_all(summary.to_json().as_bytes())
            .and_then(|()| r.write_all(b"\n"))
            .map_err(|e| Error::io("writing the report", e))?;
        r.commit()?;
    }
    if !args.quiet {
        super::term::stderr_text(&summary.human());
    }
    Ok(0)
}

/// True when `a` and `b` name the same directory entry, whether or not it exists yet.
fn same_file(a: &Path, b: &Path) -> bool {
    fn resolved(p: &Path) -> Option<PathBuf> {
        let dir = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        Some(dir.canonicalize().ok()?.join(p.file_name()?))
    }
    a == b || matches!((resolved(a), resolved(b)), (Some(x), Some(y)) if x == y)
}
