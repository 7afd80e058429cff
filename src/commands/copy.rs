//! `copy`: runs the copy plan over the HTTP SQL API, table by table, and compares the counts.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::{Deserialize, Serialize};

use super::copy_plan::{plan, PlannedTable, Selection};
use super::tables::text_table;
use cnosdb_migrate::error::{Error, InputError, Result, EXIT_OK, EXIT_REMOTE};
use cnosdb_migrate::output::{is_stdout, Output};
use cnosdb_migrate::remote::sql::{Credentials, SqlError, SqlNode};
use cnosdb_migrate::tables::printable;
use cnosdb_migrate::tables::sql::{CopyDir, FileFormat};

/// Arguments of `copy`.
#[derive(Debug, Args)]
pub struct CopyArgs {
    /// The dump that lists the tables (`/dump` or `/debug` form); `-` or absent for stdin.
    pub input: Option<PathBuf>,
    /// The old (2.3) data node's HTTP address, e.g. http://old:8902.
    #[arg(long, value_name = "URL")]
    pub from: String,
    /// The new (2.4) data node's HTTP address, e.g. http://new:8902.
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// Directory URL both data nodes can reach (file:///path); each table gets
    /// <dir>/<tenant>/<db>/<table>.
    #[arg(long, value_name = "URL")]
    pub dir: String,
    /// File format of the copied rows.
    #[arg(long, value_enum, default_value_t)]
    pub format: FileFormat,
    /// User for Basic auth on both nodes.
    #[arg(long, default_value = "root")]
    pub user: String,
    /// Read the password from this environment variable (else it is asked on the terminal).
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    /// User on the new node, when it differs from --user.
    #[arg(long, value_name = "USER")]
    pub to_user: Option<String>,
    /// Environment variable with the new node's password, when it differs.
    #[arg(long, value_name = "VAR")]
    pub to_password_env: Option<String>,
    /// Record each exported and each finished table in FILE (JSON Lines); a rerun skips what
    /// is done.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Copy N tables at a time.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallel: u16,
    /// Print the statements and where they would go; send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Also write the final table as JSON Lines to PATH (replaced if it exists); `-`: on stdout,
    /// instead of the text table.
    #[arg(long, value_name = "PATH")]
    pub report: Option<PathBuf>,
    /// Give up on a statement after SECS seconds (default: wait as long as the server works).
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: Option<u64>,
    /// No progress bar.
    #[arg(short, long)]
    pub quiet: bool,
    #[command(flatten)]
    pub selection: Selection,
}

/// What happened to one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Status {
    /// Exported and imported, same count.
    Copied,
    /// Exported nothing; nothing to import.
    Empty,
    /// Listed as done in the state file: not copied again.
    Done,
    /// State file only: exported, import still to do (a rerun imports without exporting
    /// again, since a second export would add files next to the first).
    Exported,
    /// The counts differ.
    Mismatch,
    /// A statement failed.
    Failed,
}

impl Status {
    fn name(self) -> &'static str {
        match self {
            Status::Copied => "copied",
            Status::Empty => "empty",
            Status::Done => "done",
            Status::Exported => "exported",
            Status::Mismatch => "mismatch",
            Status::Failed => "failed",
        }
    }

    fn ok(self) -> bool {
        matches!(self, Status::Copied | Status::Empty | Status::Done)
    }
}

/// One line of the report (and of the state file).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Outcome {
    tenant: String,
    database: String,
    table: String,
    exported: Option<u64>,
    imported: Option<u64>,
    status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    statement: Option<String>,
}

/// A state file line: a table exported or finished, and the node it is copied to.
#[derive(Debug, Serialize, Deserialize)]
struct StateRecord {
    #[serde(flatten)]
    outcome: Outcome,
    to: String,
}

type TableKey = (String, String, String);

/// Runs `copy`.
pub fn run(args: CopyArgs) -> Result<u8> {
    let dir = CopyDir::parse(&args.dir).map_err(|e| Error::Usage(format!("--dir: {e}")))?;
    if args.state.as_deref().is_some_and(|p| is_stdout(Some(p))) {
        return Err(Error::Usage("--state needs a file path".into()));
    }
    let timeout = args.timeout.map(Duration::from_secs);
    let mut from =
        SqlNode::new(&args.from, timeout).map_err(|e| Error::Usage(format!("--from: {e}")))?;
    let mut to = SqlNode::new(&args.to, timeout).map_err(|e| Error::Usage(format!("--to: {e}")))?;

    super::term::notice_stdin(args.input.as_deref(), "the dump");
    let plan = plan(args.input.as_deref(), &args.selection, &dir, args.format)?;
    let Resume { done, exported } = match &args.state {
        Some(path) => load_state(path, to.url())?,
        None => Resume::default(),
    };
    let key = |p: &PlannedTable| -> TableKey {
        (
            p.info.tenant.clone(),
            p.info.database.clone(),
            p.info.table.clone(),
        )
    };
    let todo: Vec<&PlannedTable> = plan
        .copy
        .iter()
        .filter(|p| !done.contains_key(&key(p)))
        .collect();

    if args.dry_run {
        print_dry_run(&plan.copy, &done, &exported, &from, &to)?;
        return Ok(EXIT_OK);
    }
    let (from_creds, to_creds) = credentials(&args)?;
    from.set_credentials(&from_creds);
    to.set_credentials(&to_creds);

    let mut state = match &args.state {
        Some(path) => Some(StateFile::open(path, to.url())?),
        None => None,
    };
    let progress = Progress::new(todo.len(), args.quiet);
    let jobs: Vec<Job> = todo
        .iter()
        .map(|p| Job {
            table: p,
            exported: exported.get(&key(p)).copied(),
        })
        .collect();
    let results = copy_all(&jobs, &from, &to, args.parallel, &progress, state.as_mut())?;
    progress.finish();

    let mut results: HashMap<TableKey, Outcome> = results
        .into_iter()
        .map(|o| ((o.tenant.clone(), o.database.clone(), o.table.clone()), o))
        .collect();
    let outcomes: Vec<Outcome> = plan
        .copy
        .iter()
        .filter_map(|p| {
            let k = key(p);
            results.remove(&k).or_else(|| {
                done.get(&k).map(|prev| Outcome {
                    status: Status::Done,
                    error: None,
                    statement: None,
                    ..prev.clone()
                })
            })
        })
        .collect();

    // `--report -`: the report replaces the table on stdout.
    if !args.report.as_deref().is_some_and(|p| is_stdout(Some(p))) {
        print_summary(&outcomes, plan.definitions_only.len())?;
    }
    if let Some(path) = &args.report {
        let mut out = Output::open(Some(path), true, false)?;
        outcomes
            .iter()
            .try_for_each(|o| {
                serde_json::to_writer(&mut out, o)?;
                out.write_all(b"\n")
            })
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
        out.commit()?;
    }
    let failed = outcomes.iter().filter(|o| !o.status.ok()).count();
    if failed > 0 {
        say!(
            "cnosdb-migrate: {failed} of {} tables not copied; fix the cause and run the same \
             command again{}",
            outcomes.len(),
            if args.state.is_some() {
                " (the state file skips the tables already done)"
            } else {
                " (with --state FILE a rerun skips the tables already done)"
            }
        );
        return Ok(EXIT_REMOTE);
    }
    Ok(EXIT_OK)
}

/// The two nodes' credentials: the password from the environment, else from the terminal.
fn credentials(args: &CopyArgs) -> Result<(Credentials, Credentials)> {
    let from = Credentials {
        user: args.user.clone(),
        password: password(
            "--password-env",
            args.password_env.as_deref(),
            &args.user,
            &args.from,
        )?,
    };
    let to = match (&args.to_user, &args.to_password_env) {
        (None, None) => from.clone(),
        (user, var) => {
            let user = user.clone().unwrap_or_else(|| args.user.clone());
            let password = password("--to-password-env", var.as_deref(), &user, &args.to)?;
            Credentials { user, password }
        }
    };
    Ok((from, to))
}

fn password(flag: &str, env: Option<&str>, user: &str, url: &str) -> Result<String> {
    if let Some(var) = env {
        return std::env::var(var).map_err(|_| {
            Error::Usage(format!(
                "{flag} {var}: the environment variable is not set (or not UTF-8)"
            ))
        });
    }
    if !io::stdin().is_terminal() {
        return Err(Error::Usage(format!(
            "no password for {user} at {url}: pass --password-env VAR (the name of an \
             environment variable holding it), or run on a terminal to be asked"
        )));
    }
    rpassword::prompt_password(format!("Password for {user} at {url}: "))
        .map_err(|e| Error::io("reading the password from the terminal", e))
}

/// What a state file says: tables done, tables exported but not yet imported.
#[derive(Default)]
struct Resume {
    done: HashMap<TableKey, Outcome>,
    exported: HashMap<TableKey, u64>,
}

/// Reads a state file; records for another node than `to` are ignored.
fn load_state(path: &Path, to: &str) -> Result<Resume> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Resume::default()),
        Err(e) => return Err(Error::io(format!("opening {}", path.display()), e)),
    };
    let mut resume = Resume::default();
    let mut lines = BufReader::new(file).lines().peekable();
    let mut n = 0u64;
    while let Some(line) = lines.next() {
        n += 1;
        let line = line.map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<StateRecord>(&line) {
            Ok(StateRecord { outcome: o, to: t }) if t == to => {
                let key = (o.tenant.clone(), o.database.clone(), o.table.clone());
                match (o.status, o.exported) {
                    (Status::Exported, Some(rows)) => {
                        resume.exported.insert(key, rows);
                    }
                    (status, _) if status.ok() => {
                        resume.exported.remove(&key);
                        resume.done.insert(key, o);
                    }
                    _ => {}
                }
            }
            Ok(_) => {}
            // A crash can cut the last line short: it records nothing.
            Err(_) if lines.peek().is_none() => {}
            Err(e) => {
                return Err(InputError::at(
                    n,
                    format!(
                        "{}: not a state record ({e}); it is written by `copy --state`, \
                         remove the line or the file to copy those tables again",
                        path.display()
                    ),
                )
                .into())
            }
        }
    }
    Ok(resume)
}

/// The state file, appended one JSON line per finished table and synced.
struct StateFile {
    file: File,
    path: PathBuf,
    to: String,
}

impl StateFile {
    fn open(path: &Path, to: &str) -> Result<StateFile> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
        // A last line cut short by a crash is no record (see `load_state`): drop it, so the
        // next record starts on a line of its own.
        let text =
            std::fs::read(path).map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        let keep = memchr::memrchr(b'\n', &text).map_or(0, |i| i + 1);
        if keep < text.len() {
            file.set_len(keep as u64)
                .map_err(|e| Error::io(format!("repairing {}", path.display()), e))?;
        }
        Ok(StateFile {
            file,
            path: path.to_path_buf(),
            to: to.to_string(),
        })
    }

    fn record(&mut self, o: &Outcome) -> Result<()> {
        let record = StateRecord {
            outcome: o.clone(),
            to: self.to.clone(),
        };
        let mut line = serde_json::to_vec(&record)
            .map_err(|e| Error::io(format!("writing {}", self.path.display()), e.into()))?;
        line.push(b'\n');
        self.file
            .write_all(&line)
            .and_then(|()| self.file.sync_data())
            .map_err(|e| Error::io(format!("writing {}", self.path.display()), e))
    }
}

/// Progress on stderr: a bar over tables, rows in the message; hidden when not a terminal.
struct Progress {
    bar: ProgressBar,
    exported: AtomicU64,
    imported: AtomicU64,
}

impl Progress {
    fn new(tables: usize, quiet: bool) -> Progress {
        let bar = if quiet || !io::stderr().is_terminal() {
            ProgressBar::hidden()
        } else {
            let bar = ProgressBar::with_draw_target(
                Some(tables as u64),
                ProgressDrawTarget::stderr_with_hz(4),
            );
            if let Ok(style) = ProgressStyle::with_template(
                "{elapsed_precise} [{bar:20}] {pos}/{len} tables, {msg}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message("rows 0 out, 0 in");
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        };
        Progress {
            bar,
            exported: AtomicU64::new(0),
            imported: AtomicU64::new(0),
        }
    }

    fn rows(&self, exported: u64, imported: u64) {
        let e = self.exported.fetch_add(exported, Ordering::Relaxed) + exported;
        let i = self.imported.fetch_add(imported, Ordering::Relaxed) + imported;
        self.bar.set_message(format!("rows {e} out, {i} in"));
    }

    fn table_done(&self) {
        self.bar.inc(1);
    }

    fn println(&self, text: &str) {
        self.bar.suspend(|| say!("{text}"));
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// One table to copy, and its row count if an earlier run already exported it.
struct Job<'a> {
    table: &'a PlannedTable,
    exported: Option<u64>,
}

/// Copies the tables with `parallel` worker threads; results come back in input order.
fn copy_all(
    jobs: &[Job<'_>],
    from: &SqlNode,
    to: &SqlNode,
    parallel: u16,
    progress: &Progress,
    state: Option<&mut StateFile>,
) -> Result<Vec<Outcome>> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Outcome>>> = Mutex::new(vec![None; jobs.len()]);
    let state = Mutex::new(state);
    let state_error: Mutex<Option<Error>> = Mutex::new(None);
    let record = |o: &Outcome| {
        if let Some(s) = lock(&state).as_mut() {
            if let Err(e) = s.record(o) {
                lock(&state_error).get_or_insert(e);
            }
        }
    };
    let workers = usize::from(parallel).min(jobs.len()).max(1);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = jobs.get(i) else { break };
                if lock(&state_error).is_some() {
                    break;
                }
                let outcome = copy_table(job, from, to, progress, &record);
                if outcome.status.ok() {
                    record(&outcome);
                } else if let Some(e) = &outcome.error {
                    progress.println(&format!("cnosdb-migrate: {e}"));
                }
                progress.table_done();
                lock(&results)[i] = Some(outcome);
            });
        }
    });
    if let Some(e) = state_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    Ok(results
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .flatten()
        .collect())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Exports one table from the old node (unless an earlier run did: `record` keeps that
/// step), imports it into the new one, compares the counts.
fn copy_table(
    job: &Job<'_>,
    from: &SqlNode,
    to: &SqlNode,
    progress: &Progress,
    record: &dyn Fn(&Outcome),
) -> Outcome {
    let p = job.table;
    let t = &p.info;
    let mut outcome = Outcome {
        tenant: t.tenant.clone(),
        database: t.database.clone(),
        table: t.table.clone(),
        exported: None,
        imported: None,
        status: Status::Failed,
        error: None,
        statement: None,
    };
    let fail = |mut o: Outcome, step: &str, node: &SqlNode, sql: &str, e: SqlError| {
        o.error = Some(format!(
            "table {}: {step} on {} failed: {e}; statement: {sql}",
            t.qualified(),
            node.endpoint(&t.tenant, &t.database),
        ));
        o.statement = Some(sql.to_string());
        o
    };
    let exported = match job.exported {
        Some(n) => n,
        None => match from.copy_rows(&t.tenant, &t.database, &p.export_sql) {
            Ok(n) => {
                if n > 0 {
                    record(&Outcome {
                        exported: Some(n),
                        status: Status::Exported,
                        ..outcome.clone()
                    });
                }
                n
            }
            Err(e) => return fail(outcome, "export", from, &p.export_sql, e),
        },
    };
    outcome.exported = Some(exported);
    progress.rows(exported, 0);
    if exported == 0 {
        outcome.imported = Some(0);
        outcome.status = Status::Empty;
        return outcome;
    }
    let imported = match to.copy_rows(&t.tenant, &t.database, &p.import_sql) {
        Ok(n) => n,
        Err(e) => return fail(outcome, "import", to, &p.import_sql, e),
    };
    outcome.imported = Some(imported);
    progress.rows(0, imported);
    if imported == exported {
        outcome.status = Status::Copied;
    } else {
        outcome.status = Status::Mismatch;
        outcome.error = Some(format!(
            "table {}: exported {exported} rows from {} but imported {imported} into {}",
            t.qualified(),
            from.url(),
            to.url()
        ));
    }
    outcome
}

fn print_dry_run(
    tables: &[PlannedTable],
    done: &HashMap<TableKey, Outcome>,
    exported: &HashMap<TableKey, u64>,
    from: &SqlNode,
    to: &SqlNode,
) -> Result<()> {
    let mut out = Output::open(None, false, true)?;
    let mut text = String::new();
    for p in tables {
        let t = &p.info;
        let k = (t.tenant.clone(), t.database.clone(), t.table.clone());
        text.push_str(&format!("-- table {}\n", t.qualified()));
        if done.contains_key(&k) {
            text.push_str("-- done according to the state file: skipped\n");
            continue;
        }
        match exported.get(&k) {
            Some(n) => text.push_str(&format!(
                "-- exported before ({n} rows) according to the state file: import only\n"
            )),
            None => text.push_str(&format!(
                "-- POST {}\n{}\n",
                from.endpoint(&t.tenant, &t.database),
                p.export_sql
            )),
        }
        text.push_str(&format!(
            "-- POST {}\n{}\n",
            to.endpoint(&t.tenant, &t.database),
            p.import_sql
        ));
    }
    out.write_all(text.as_bytes())
        .map_err(|e| Error::io("writing to stdout", e))?;
    out.commit()
}

fn print_summary(outcomes: &[Outcome], definitions_only: usize) -> Result<()> {
    let count = |n: Option<u64>| n.map_or_else(|| "-".to_string(), |n| n.to_string());
    let rows: Vec<Vec<String>> = outcomes
        .iter()
        .map(|o| {
            vec![
                printable(&o.tenant).into_owned(),
                printable(&o.database).into_owned(),
                printable(&o.table).into_owned(),
                count(o.exported),
                count(o.imported),
                o.status.name().to_string(),
            ]
        })
        .collect();
    let mut text = text_table(
        &[
            "TENANT", "DATABASE", "TABLE", "EXPORTED", "IMPORTED", "STATUS",
        ],
        &[false, false, false, true, true, false],
        &rows,
    );
    let n = |s: Status| outcomes.iter().filter(|o| o.status == s).count();
    let sum = |f: fn(&Outcome) -> Option<u64>| outcomes.iter().filter_map(f).sum::<u64>();
    text.push_str(&format!(
        "{} tables: {} copied, {} empty, {} done before, {} mismatched, {} failed; \
         rows exported {}, imported {}\n",
        outcomes.len(),
        n(Status::Copied),
        n(Status::Empty),
        n(Status::Done),
        n(Status::Mismatch),
        n(Status::Failed),
        sum(|o| o.exported),
        sum(|o| o.imported),
    ));
    if definitions_only > 0 {
        text.push_str(&format!(
            "{definitions_only} external/stream tables have no rows to copy (definitions only)\n"
        ));
    }
    let mut out = Output::open(None, false, true)?;
    out.write_all(text.as_bytes())
        .map_err(|e| Error::io("writing to stdout", e))?;
    out.commit()
}
