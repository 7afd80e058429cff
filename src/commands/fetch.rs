//! `fetch`: download a dump from a meta service, check that it is complete, save it atomically.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use cnosdb_migrate::error::{Result, EXIT_OK};
use cnosdb_migrate::output::{is_stdout, Output};
use cnosdb_migrate::remote::meta::Endpoint;

use super::timeouts::{meta_client, parse_seconds, READ_TIMEOUT};

/// Arguments of `fetch`.
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The meta service: http://HOST:8901 means http://HOST:8901/dump; a URL with a path
    /// (/debug, /dump) is used as given.
    #[arg(value_name = "URL")]
    pub url: String,
    /// Where to save the dump; `-` or absent for stdout (written once the dump is complete).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace FILE if it exists (a regular file only).
    #[arg(long)]
    pub force: bool,
    /// Print the dump even when stdout is a terminal (refused otherwise: it holds password
    /// hashes).
    #[arg(long)]
    pub to_terminal: bool,
    /// Seconds to wait for the connection [default: 10].
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub connect_timeout: Option<Duration>,
    /// Seconds to wait for each read from the server [default: 60].
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub read_timeout: Option<Duration>,
    /// Print neither progress nor the summary.
    #[arg(short, long)]
    pub quiet: bool,
}

/// Runs `fetch`.
pub fn run(args: FetchArgs) -> Result<u8> {
    let endpoint = Endpoint::parse(&args.url)?;
    let to_stdout = is_stdout(args.output.as_deref());
    super::term::refuse_dump_on_terminal(args.output.as_deref(), args.to_terminal)?;
    // Opened first, so that an existing file is refused before anything is downloaded.
    let mut out = Output::open(args.output.as_deref(), args.force, false)?;
    let client = meta_client(args.connect_timeout, args.read_timeout, READ_TIMEOUT);
    let download = client.download(&endpoint)?;
    let url = download.url().to_string();
    let length = download.content_length();
    let template = match length {
        Some(_) => "{bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec} {elapsed}",
        None => "{spinner} {bytes} {binary_bytes_per_sec} {elapsed}",
    };
    let bar = super::progress::bar(args.quiet, length, template);
    let fetched = download.save(&mut out, &mut |bytes| bar.set_position(bytes))?;
    bar.finish_and_clear();
    out.commit()?;
    if !args.quiet {
        let hex: String = fetched.sha256.iter().map(|b| format!("{b:02x}")).collect();
        let name = match &args.output {
            Some(p) if !to_stdout => p.display().to_string(),
            _ => "-".to_string(),
        };
        say!(
            "cnosdb-migrate: fetched {} records ({} bytes, /{} form) from {url}",
            fetched.records,
            fetched.bytes,
            fetched.form.name()
        );
        say!("sha256 {hex}  {name}");
    }
    Ok(EXIT_OK)
}
