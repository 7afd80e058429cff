//! The timeouts of the commands that talk to a meta service (`fetch`, `restore`, `verify`):
//! their option values, defaults, and the names messages give them.

use std::time::Duration;

use cnosdb_migrate::remote::meta::{MetaClient, TimeoutNames, Timeouts};

/// Default `--connect-timeout`, seconds.
pub const CONNECT_TIMEOUT: f64 = 10.0;

/// What a message about a timeout calls it: the option that sets it.
pub const TIMEOUT_NAMES: TimeoutNames = TimeoutNames {
    connect: "--connect-timeout",
    read: "--read-timeout",
};
/// Seconds to wait for each read of a dump, by default.
pub const READ_TIMEOUT: f64 = 60.0;

/// Parses a positive number of seconds (fractions allowed).
pub fn parse_seconds(s: &str) -> std::result::Result<Duration, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 86_400.0 => Ok(Duration::from_secs_f64(v)),
        _ => Err(format!(
            "`{s}` is not a number of seconds between 0 and 86400"
        )),
    }
}

/// A meta client with the given timeouts, else [`CONNECT_TIMEOUT`] and `read_default`
/// seconds; its messages name the options.
pub fn meta_client(
    connect: Option<Duration>,
    read: Option<Duration>,
    read_default: f64,
) -> MetaClient {
    MetaClient::new(Timeouts {
        connect: connect.unwrap_or(Duration::from_secs_f64(CONNECT_TIMEOUT)),
        read: read.unwrap_or(Duration::from_secs_f64(read_default)),
        names: TIMEOUT_NAMES,
    })
}
