//! One module per subcommand: its arguments (clap) and its `run`, returning the exit code.

pub mod fetch;
pub mod restore;
pub mod transform;
