//! Passwords of the commands that log in to a data node: from the environment variable an
//! option names, else asked on the terminal. Never from a command-line value.

use std::io::{self, IsTerminal};

use cnosdb_migrate::error::{Error, Result};

/// The password in the environment variable `var`, which option `flag` named.
pub fn from_env(flag: &str, var: &str) -> Result<String> {
    std::env::var(var).map_err(|_| {
        Error::Usage(format!(
            "{flag} {var}: the environment variable is not set (or not UTF-8)"
        ))
    })
}

/// The password of `user` at `url`: from the variable `env` names (see [`from_env`]), else
/// asked on the terminal; an error when there is neither.
pub fn from_env_or_terminal(
    flag: &str,
    env: Option<&str>,
    user: &str,
    url: &str,
) -> Result<String> {
    if let Some(var) = env {
        return from_env(flag, var);
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
