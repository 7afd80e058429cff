//! The integration tests: one binary (`cargo test --test integration`), one module per file
//! beside this one, the helpers in `support/` declared once here. `cargo test --test
//! integration real_copy::` runs one module; the `real_*` modules start real CnosDB servers
//! (see the README's "Tests").

// Helpers shared by the modules.
#[path = "support/chunked.rs"]
mod chunked;
#[path = "support/cnosdb.rs"]
mod cnosdb;
#[path = "support/installation.rs"]
mod installation;
#[path = "support/meta_server.rs"]
mod meta_server;
#[path = "support/s3.rs"]
mod s3;
#[path = "support/sql_server.rs"]
mod sql_server;
mod support;

mod audit_check;
mod audit_cli;
mod audit_property;
mod copy_cli;
mod copy_faults;
mod copy_plan_cli;
mod fuzz_regressions;
mod json_props;
mod newcomer;
mod readme;
mod real_copy;
mod real_negative;
mod real_remote;
mod real_s3;
mod real_upgrade;
mod real_upgrade_command;
mod real_upgrade_resume;
mod real_verdicts;
mod remote_fetch;
mod remote_restore;
mod tables_cli;
mod transform_errors;
mod transform_fixtures;
mod transform_io;
mod transform_options;
mod transform_props;
