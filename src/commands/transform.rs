//! `transform`: a 2.3 dump in, a restore-ready file for one 2.4.x target out.

use std::path::PathBuf;

use clap::Args;

use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::target::Target;

/// Arguments of `transform`.
#[derive(Debug, Args)]
pub struct TransformArgs {
    /// The 2.4.x release the file is for: 2.4.0, 2.4.0.1, 2.4.1, 2.4.2, 2.4.2.1, 2.4.3.
    #[arg(long, value_name = "VERSION")]
    pub target: Target,
    /// The dump to read (`/dump` or `/debug` form); `-` or absent for stdin.
    pub input: Option<PathBuf>,
    /// Where to write; `-` or absent for stdout.
    #[arg(short, long, value_name = "OUTPUT")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub filter: Filter,
}

/// Runs `transform`.
pub fn run(_args: TransformArgs) -> Result<u8> {
    Err(Error::Usage("transform: not yet implemented".into()))
}
