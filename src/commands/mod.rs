//! One module per subcommand: its arguments (clap) and its `run`, returning the exit code.

pub mod copy;
pub mod copy_plan;
pub mod fetch;
pub mod restore;
pub mod tables;
pub mod transform;
