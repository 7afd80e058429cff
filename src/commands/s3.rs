//! The object-store options of `copy` (flattened, so that other commands can take them too):
//! the endpoint, the region, and the keys, which come from the environment or a profile file,
//! never from the command line.

use std::path::PathBuf;

use clap::Args;

use cnosdb_migrate::error::{Error, Result};
use cnosdb_migrate::tables::s3::{S3Connection, Secret};
use cnosdb_migrate::tables::sql::CopyDir;

/// How the data nodes reach an `s3://` staging location.
#[derive(Debug, Clone, Default, Args, serde::Serialize)]
pub struct S3Args {
    /// For --dir s3://…: the URL of an S3-compatible store (e.g. http://minio:9000), addressed
    /// by path (the bucket in the path); without it, AWS S3 with virtual-hosted buckets.
    #[arg(long, value_name = "URL")]
    pub s3_endpoint: Option<String>,
    /// For --dir s3://…: the bucket's region (CnosDB needs one); default: AWS_REGION, then
    /// AWS_DEFAULT_REGION.
    #[arg(long, value_name = "REGION")]
    pub s3_region: Option<String>,
    /// For --dir s3://…: read the keys from this profile of AWS_SHARED_CREDENTIALS_FILE
    /// (default ~/.aws/credentials) instead of AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
    /// AWS_SESSION_TOKEN.
    #[arg(long, value_name = "NAME")]
    pub s3_profile: Option<String>,
}

/// Where the keys were found, for messages.
const ENV_KEYS: &str = "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY";

impl S3Args {
    /// The options as `copy` takes them, for a step of `upgrade`.
    pub fn words(&self) -> Vec<String> {
        let options = [
            ("--s3-endpoint", &self.s3_endpoint),
            ("--s3-region", &self.s3_region),
            ("--s3-profile", &self.s3_profile),
        ];
        options
            .into_iter()
            .filter_map(|(flag, value)| Some([flag.to_string(), value.clone()?]))
            .flatten()
            .collect()
    }

    /// `dir` with its connection when it is `s3://`; the options refused for `file://`.
    pub fn connect(&self, dir: CopyDir) -> Result<CopyDir> {
        if !dir.is_object_store() {
            if self.s3_endpoint.is_some() || self.s3_region.is_some() || self.s3_profile.is_some() {
                return Err(Error::Usage(format!(
                    "--s3-endpoint, --s3-region and --s3-profile are for --dir s3://…, not {}",
                    dir.as_str()
                )));
            }
            return Ok(dir);
        }
        let region = self
            .s3_region
            .clone()
            .or_else(|| env("AWS_REGION"))
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .ok_or_else(|| {
                Error::Usage(format!(
                    "--dir {}: CnosDB needs the bucket's region: pass --s3-region REGION (any \
                     name an S3-compatible store accepts, e.g. us-east-1), or set AWS_REGION",
                    dir.as_str()
                ))
            })?;
        let endpoint_url = match &self.s3_endpoint {
            Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                Some(url.trim_end_matches('/').to_string())
            }
            Some(url) => {
                return Err(Error::Usage(format!(
                    "--s3-endpoint `{url}` is not an http:// or https:// URL (e.g. \
                     http://minio:9000, as the data nodes reach it)"
                )))
            }
            None => None,
        };
        let keys = match &self.s3_profile {
            Some(name) => profile_keys(name)?,
            None => env_keys()?,
        };
        Ok(dir.with_connection(S3Connection {
            region,
            access_key_id: keys.0,
            secret_key: keys.1,
            token: keys.2,
            path_style: endpoint_url.is_some(),
            endpoint_url,
        }))
    }
}

/// What is said before a copy through an object store.
pub fn history_warning(conn: &S3Connection) -> String {
    let advice = if conn.token.is_some() {
        "the session token limits how long they are good for"
    } else {
        "prefer short-lived credentials (a session token in AWS_SESSION_TOKEN or the profile's \
         aws_session_token)"
    };
    format!(
        "warning: the object store's keys travel in each COPY statement; CnosDB 2.4 keeps the \
         text of every statement that runs 10 s or more in cluster_schema.sql_history, so they \
         may be stored there in clear: {advice}, and revoke them after the copy"
    )
}

/// What to do when a failure's message shows the store refusing the keys (its S3 error codes).
pub fn refused_keys_hint(message: &str) -> Option<&'static str> {
    const CODES: [&str; 6] = [
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "AccessDenied",
        "InvalidToken",
        "ExpiredToken",
        "TokenRefreshRequired",
    ];
    CODES.iter().any(|c| message.contains(c)).then_some(
        "the object store refused the keys the data nodes sent: check AWS_ACCESS_KEY_ID, \
         AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN (or the --s3-profile), that they are still \
         valid and may write and list the bucket, then run the same command again",
    )
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

type Keys = (Secret, Secret, Option<Secret>);

fn env_keys() -> Result<Keys> {
    match (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
        (Some(id), Some(secret)) => Ok((
            Secret::new(id),
            Secret::new(secret),
            env("AWS_SESSION_TOKEN").map(Secret::new),
        )),
        _ => Err(Error::Usage(format!(
            "--dir s3://…: no keys for the object store: set {ENV_KEYS} (and AWS_SESSION_TOKEN \
             for short-lived ones), or pass --s3-profile NAME to read a profile of \
             AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials); keys are never taken \
             from the command line"
        ))),
    }
}

fn credentials_file() -> Option<PathBuf> {
    env("AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".aws/credentials")))
}

fn profile_keys(name: &str) -> Result<Keys> {
    let path = credentials_file().ok_or_else(|| {
        Error::Usage("--s3-profile: neither AWS_SHARED_CREDENTIALS_FILE nor HOME is set".into())
    })?;
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Error::io(
            format!("--s3-profile {name}: reading {}", path.display()),
            e,
        )
    })?;
    let values = profile(&text, name);
    let get = |key: &str| {
        values
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    match (get("aws_access_key_id"), get("aws_secret_access_key")) {
        (Some(id), Some(secret)) => Ok((
            Secret::new(id),
            Secret::new(secret),
            get("aws_session_token").map(Secret::new),
        )),
        _ => Err(Error::Usage(format!(
            "--s3-profile {name}: {} has no [{name}] section with aws_access_key_id and \
             aws_secret_access_key",
            path.display()
        ))),
    }
}

/// The `key = value` lines of section `[name]` of an AWS credentials file (INI: `#` and `;`
/// comment lines; the last value of a key wins).
fn profile(text: &str, name: &str) -> Vec<(String, String)> {
    let mut inside = false;
    let mut values: Vec<(String, String)> = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            inside = section.trim() == name;
            continue;
        }
        if let (true, Some((k, v))) = (inside, line.split_once('=')) {
            let k = k.trim().to_ascii_lowercase();
            values.retain(|(old, _)| *old != k);
            values.push((k, v.trim().to_string()));
        }
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_section() {
        let text = "[default]\naws_access_key_id = A\n# c\n[mig]\n AWS_ACCESS_KEY_ID=B \n\
                    aws_secret_access_key = s=x\n;x\n[other]\naws_session_token = T\n";
        assert_eq!(
            profile(text, "mig"),
            [
                ("aws_access_key_id".to_string(), "B".to_string()),
                ("aws_secret_access_key".to_string(), "s=x".to_string())
            ]
        );
        assert!(profile(text, "none").is_empty());
    }
}
