//! `copy-plan`: the `export.sql` and `import.sql` an operator runs with `cnosdb-cli`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use cnosdb_migrate::error::{Error, InputError, Result, EXIT_OK};
use cnosdb_migrate::output::{is_stdout, open_rereadable_input, Output};
use cnosdb_migrate::source::Rereadable as _;
use cnosdb_migrate::tables::chunks::{read_layouts, DbKey, DbLayout};
use cnosdb_migrate::tables::s3::S3Connection;
use cnosdb_migrate::tables::sql::{export_statement, import_statement, CopyDir, FileFormat};
use cnosdb_migrate::tables::{read_tables, TableInfo};

/// `--format`: the file format rows travel in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Format {
    /// Typed, compressed; the default.
    #[default]
    Parquet,
    /// Comma separated, with a header line.
    Csv,
    /// JSON records.
    Json,
}

impl From<Format> for FileFormat {
    fn from(f: Format) -> FileFormat {
        match f {
            Format::Parquet => FileFormat::Parquet,
            Format::Csv => FileFormat::Csv,
            Format::Json => FileFormat::Json,
        }
    }
}

/// Which tables a copy takes: tenant/database filters, table filters, system databases.
#[derive(Debug, Clone, Default, Args)]
pub struct Selection {
    #[command(flatten)]
    pub filter: super::FilterArgs,
    /// Copy only this table (repeatable), written TENANT.DB.TABLE.
    #[arg(long = "include-table", value_name = "TENANT.DB.TABLE", value_parser = parse_table)]
    pub include_tables: Vec<(String, String, String)>,
    /// Leave this table out (repeatable), written TENANT.DB.TABLE.
    #[arg(long = "exclude-table", value_name = "TENANT.DB.TABLE", value_parser = parse_table)]
    pub exclude_tables: Vec<(String, String, String)>,
    /// Also copy tenant cnosdb's system databases (usage_schema, cluster_schema).
    #[arg(long)]
    pub include_system: bool,
}

fn parse_table(s: &str) -> Result<(String, String, String), String> {
    let mut parts = s.splitn(3, '.');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(t), Some(d), Some(x)) if !t.is_empty() && !d.is_empty() && !x.is_empty() => {
            Ok((t.into(), d.into(), x.into()))
        }
        _ => Err(format!("`{s}` is not TENANT.DB.TABLE")),
    }
}

impl Selection {
    /// True when a table is selected (its engine aside).
    pub fn selects(&self, t: &TableInfo) -> bool {
        let is = |(tn, d, x): &(String, String, String)| {
            *tn == t.tenant && *d == t.database && *x == t.table
        };
        self.filter.filter().db_selected(&t.tenant, &t.database)
            && (self.include_system || !t.system)
            && (self.include_tables.is_empty() || self.include_tables.iter().any(is))
            && !self.exclude_tables.iter().any(is)
    }
}

/// One selected table with rows, and its two statements.
#[derive(Debug, Clone)]
pub struct PlannedTable {
    /// The table.
    pub info: TableInfo,
    /// Where its rows go: `<dir>/<tenant>/<db>/<table>`.
    pub url: String,
    /// Run on the old node: writes the rows to `url`.
    pub export_sql: String,
    /// Run on the new node: reads them back from `url/`.
    pub import_sql: String,
}

/// The selected tables of a dump: those with rows (to copy) and the others (definitions only).
#[derive(Debug, Default)]
pub struct Plan {
    /// TSKV tables, sorted by tenant, database, table.
    pub copy: Vec<PlannedTable>,
    /// External and stream tables: nothing to copy.
    pub definitions_only: Vec<TableInfo>,
    /// Every database's precision, TTL and buckets.
    pub layouts: BTreeMap<DbKey, DbLayout>,
}

/// Reads the dump and plans the copy of every selected TSKV table.
pub fn plan(
    input: Option<&Path>,
    selection: &Selection,
    dir: &CopyDir,
    format: FileFormat,
) -> Result<Plan> {
    let file = open_rereadable_input(input)?;
    super::check_selection(
        &super::scan_names(&file, input)?,
        input,
        &selection.filter.filter(),
        (&selection.include_tables, &selection.exclude_tables),
    )?;
    let tables = read_tables(file.reader())?;
    let layouts = read_layouts(file.reader())?;
    let with_rows = tables.iter().filter(|t| t.engine.holds_rows()).count();
    let mut plan = Plan {
        layouts,
        ..Plan::default()
    };
    for info in tables {
        if !selection.selects(&info) {
            continue;
        }
        if !info.engine.holds_rows() {
            plan.definitions_only.push(info);
            continue;
        }
        let url = dir
            .table_url(&info)
            .map_err(|m| InputError::at(info.line, m))?;
        // Statements to show: an object store's secrets masked.
        let shown = dir.connection().map(S3Connection::masked);
        plan.copy.push(PlannedTable {
            export_sql: export_statement(&url, &info, format, shown.as_ref()),
            import_sql: import_statement(&url, &info, format, shown.as_ref()),
            url,
            info,
        });
    }
    let filtered = !selection.filter.filter().is_empty()
        || !selection.include_tables.is_empty()
        || !selection.exclude_tables.is_empty();
    if filtered && plan.copy.is_empty() {
        return Err(Error::Usage(format!(
            "the filters select no table with rows to copy ({} TSKV tables in {}): check \
             --include-tenant, --exclude-tenant, --exclude-db, --include-table, --exclude-table",
            with_rows,
            super::input_name(input)
        )));
    }
    Ok(plan)
}

/// Arguments of `copy-plan`.
#[derive(Debug, Args)]
pub struct CopyPlanArgs {
    /// The dump to read (`/dump` or `/debug` form); `-` or absent for stdin.
    pub input: Option<PathBuf>,
    /// Directory URL on the data nodes (file:///path); each table gets <dir>/<tenant>/<db>/<table>.
    #[arg(long, value_name = "URL")]
    pub dir: String,
    /// File format of the copied rows.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Write export.sql and import.sql into this directory (created if missing); `-` or
    /// absent: both are printed to stdout, export first.
    #[arg(short = 'o', long = "output-dir", value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Replace existing export.sql / import.sql.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub selection: Selection,
}

/// Which side a script is for.
#[derive(Clone, Copy)]
enum Side {
    Export,
    Import,
}

/// Runs `copy-plan`.
pub fn run(args: CopyPlanArgs) -> Result<u8> {
    let dir = CopyDir::parse(&args.dir).map_err(|e| Error::Usage(format!("--dir: {e}")))?;
    if dir.is_object_store() {
        return Err(Error::Usage(format!(
            "--dir {}: copy-plan writes scripts, which would hold the object store's keys; \
             stage through an object store with `cnosdb-migrate copy`",
            dir.as_str()
        )));
    }
    super::term::notice_stdin(args.input.as_deref(), "the dump");
    let plan = plan(
        args.input.as_deref(),
        &args.selection,
        &dir,
        args.format.into(),
    )?;
    let export = script(&plan, dir.as_str(), Side::Export)?;
    let import = script(&plan, dir.as_str(), Side::Import)?;
    match args.output_dir.as_deref().filter(|d| !is_stdout(Some(d))) {
        Some(out_dir) => {
            if std::fs::metadata(out_dir).is_ok_and(|m| !m.is_dir()) {
                return Err(Error::Usage(format!(
                    "-o {}: not a directory; copy-plan writes export.sql and import.sql into a \
                     directory (`-` for stdout)",
                    out_dir.display()
                )));
            }
            std::fs::create_dir_all(out_dir)
                .map_err(|e| Error::io(format!("creating {}", out_dir.display()), e))?;
            let files = [("export.sql", &export), ("import.sql", &import)];
            let mut outputs = Vec::new();
            for (name, text) in files {
                let path = out_dir.join(name);
                let mut out = Output::open(Some(&path), args.force, false)?;
                out.write_all(text.as_bytes())
                    .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
                outputs.push(out);
            }
            for out in outputs {
                out.commit()?;
            }
            say!(
                "cnosdb-migrate: wrote {} and {}: {} tables to copy",
                out_dir.join("export.sql").display(),
                out_dir.join("import.sql").display(),
                plan.copy.len()
            );
        }
        None => {
            let mut out = Output::open(None, false, false)?;
            out.write_all(export.as_bytes())
                .and_then(|()| out.write_all(b"\n"))
                .and_then(|()| out.write_all(import.as_bytes()))
                .map_err(|e| Error::io("writing to stdout", e))?;
            out.commit()?;
        }
    }
    Ok(EXIT_OK)
}

/// A name cnosdb-cli can take on a `\change_tenant` / `\c` line: it trims the line and reads
/// line by line, so no surrounding whitespace and no control characters.
fn cli_name<'a>(name: &'a str, what: &str, t: &TableInfo) -> Result<&'a str> {
    if name.trim() != name || name.chars().any(char::is_control) {
        return Err(InputError::at(
            t.line,
            format!(
                "table {}: the {what} name {name:?} cannot be written on a cnosdb-cli command \
                 line (surrounding spaces or control characters); use `cnosdb-migrate copy`, \
                 which sends names over HTTP, or --exclude-table this table",
                t.qualified()
            ),
        )
        .into());
    }
    Ok(name)
}

/// The text of `export.sql` or `import.sql`.
fn script(plan: &Plan, dir: &str, side: Side) -> Result<String> {
    let (file, node, verb) = match side {
        Side::Export => (
            "export.sql",
            "OLD (2.3) data node",
            "writes each table's rows to",
        ),
        Side::Import => (
            "import.sql",
            "NEW (2.4) data node",
            "reads each table's rows from",
        ),
    };
    let mut s = format!(
        "-- {file}: generated by cnosdb-migrate; run it on the {node}:\n\
         --   cnosdb-cli --host HOST --port 8902 --user USER --process-cli-command --error-stop --file {file}\n\
         -- It {verb} {dir}/<tenant>/<database>/<table>, a path on the data node itself.\n\
         -- Each COPY answers one row, `rows`: compare it with the same table in the other file.\n\
         -- {n} tables to copy.\n",
        n = plan.copy.len(),
    );
    if matches!(side, Side::Import) {
        s.push_str("-- Restore the converted meta dump first: every table must already exist.\n");
    }
    let mut current: Option<(&str, &str)> = None;
    for p in &plan.copy {
        let t = &p.info;
        if current.map(|(tn, _)| tn) != Some(t.tenant.as_str()) {
            s.push_str(&format!(
                "\n\\change_tenant {}\n",
                cli_name(&t.tenant, "tenant", t)?
            ));
            current = None;
        }
        if current != Some((&t.tenant, &t.database)) {
            s.push_str(&format!("\\c {}\n", cli_name(&t.database, "database", t)?));
            current = Some((&t.tenant, &t.database));
        }
        s.push_str(match side {
            Side::Export => &p.export_sql,
            Side::Import => &p.import_sql,
        });
        s.push('\n');
    }
    if !plan.definitions_only.is_empty() {
        s.push_str("\n-- Not copied (definitions only, no rows stored by CnosDB):\n");
        for t in &plan.definitions_only {
            s.push_str(&format!("--   {} table {}\n", t.engine, t.qualified()));
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_filter_syntax() {
        assert_eq!(
            parse_table("t.db.a.b"),
            Ok(("t".into(), "db".into(), "a.b".into()))
        );
        assert!(parse_table("t.db").is_err());
        assert!(parse_table("t..x").is_err());
    }
}
