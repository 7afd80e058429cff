//! Staging through an object store: the `CONNECTION = (…)` clause CnosDB's `COPY INTO` takes
//! for an `s3://bucket/path` location (`query_server/spi/src/query/logical_planner.rs`,
//! `parse_s3_options`, the same in v2.3.5.4 and v2.4.3.4), and the masking of its secrets.

use std::fmt;

use super::quote::quote_literal;

/// What every secret is shown as.
pub const MASK: &str = "***";

/// A secret value (a key, a token): never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value itself, for the statement sent to the server.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How the data nodes reach an S3 bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Connection {
    /// `region`: CnosDB refuses an S3 location without one.
    pub region: String,
    /// `access_key_id`.
    pub access_key_id: Secret,
    /// `secret_key`.
    pub secret_key: Secret,
    /// `token`: a session token of short-lived credentials.
    pub token: Option<Secret>,
    /// `endpoint_url`: an S3-compatible store; `None` for AWS S3.
    pub endpoint_url: Option<String>,
    /// `virtual_hosted_style = false`: the bucket in the path, not in the host name (what
    /// S3-compatible stores served on one address need).
    pub path_style: bool,
}

impl S3Connection {
    /// ` CONNECTION = (region = '…', …)`, with a leading space. `virtual_hosted_style` is a
    /// boolean literal: CnosDB refuses `'false'` ("expected boolean value").
    pub fn clause(&self) -> String {
        let mut options = vec![
            ("region", quote_literal(&self.region)),
            ("access_key_id", quote_literal(self.access_key_id.expose())),
            ("secret_key", quote_literal(self.secret_key.expose())),
        ];
        if let Some(token) = &self.token {
            options.push(("token", quote_literal(token.expose())));
        }
        if let Some(url) = &self.endpoint_url {
            options.push(("endpoint_url", quote_literal(url)));
        }
        if self.path_style {
            options.push(("virtual_hosted_style", "false".to_string()));
        }
        let options: Vec<String> = options
            .into_iter()
            .map(|(name, value)| format!("{name} = {value}"))
            .collect();
        format!(" CONNECTION = ({})", options.join(", "))
    }

    /// The same connection with every secret replaced by [`MASK`]: statements built with it
    /// can be shown.
    pub fn masked(&self) -> S3Connection {
        S3Connection {
            access_key_id: Secret::new(MASK),
            secret_key: Secret::new(MASK),
            token: self.token.as_ref().map(|_| Secret::new(MASK)),
            ..self.clone()
        }
    }

    /// `text` with each secret (as is, and as quoted in a statement) replaced by [`MASK`]:
    /// for a server's message, which may quote the statement.
    pub fn mask(&self, text: &str) -> String {
        let mut out = text.to_string();
        let secrets = [Some(&self.access_key_id), Some(&self.secret_key)];
        for secret in secrets.into_iter().chain([self.token.as_ref()]).flatten() {
            let value = secret.expose();
            if value.is_empty() {
                continue;
            }
            out = out.replace(&value.replace('\'', "''"), MASK);
            out = out.replace(value, MASK);
        }
        out
    }
}

/// Checks `s3://bucket[/prefix]`: a bucket name as S3 allows (3 to 63 of `a-z 0-9 . -`), a
/// prefix without control characters, `?` or `#`; the trailing `/` dropped.
pub fn parse_s3_url(url: &str) -> Result<String, String> {
    let rest = url
        .strip_prefix("s3://")
        .ok_or_else(|| format!("`{url}` is not an s3:// URL"))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let bucket_ok = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    if !bucket_ok {
        return Err(format!(
            "`{url}`: `{bucket}` is not a bucket name (3 to 63 lowercase letters, digits, `.` \
             and `-`); give the location as s3://bucket/prefix"
        ));
    }
    if let Some(c) = prefix
        .chars()
        .find(|c| c.is_control() || matches!(c, '?' | '#'))
    {
        return Err(format!(
            "`{url}`: the prefix contains {c:?}, which a URL cannot carry"
        ));
    }
    let prefix = prefix.trim_matches('/');
    Ok(if prefix.is_empty() {
        format!("s3://{bucket}")
    } else {
        format!("s3://{bucket}/{prefix}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> S3Connection {
        S3Connection {
            region: "us-east-1".into(),
            access_key_id: Secret::new("AKID"),
            secret_key: Secret::new("s'qz"),
            token: Some(Secret::new("TOKEN")),
            endpoint_url: Some("http://127.0.0.1:9000".into()),
            path_style: true,
        }
    }

    #[test]
    fn the_clause_and_its_mask() {
        let c = conn();
        assert_eq!(
            c.clause(),
            " CONNECTION = (region = 'us-east-1', access_key_id = 'AKID', secret_key = \
             's''qz', token = 'TOKEN', endpoint_url = 'http://127.0.0.1:9000', \
             virtual_hosted_style = false)"
        );
        let shown = c.masked().clause();
        assert!(
            !shown.contains("AKID") && !shown.contains("qz") && !shown.contains("TOKEN"),
            "{shown}"
        );
        assert!(shown.contains("token = '***'"), "{shown}");
        assert_eq!(c.mask(&c.clause()), shown);
        assert_eq!(format!("{:?}", c.secret_key), "Secret(***)");
        let aws = S3Connection {
            token: None,
            endpoint_url: None,
            path_style: false,
            ..conn()
        };
        assert!(aws.clause().ends_with("secret_key = 's''qz')"));
    }

    #[test]
    fn urls() {
        assert_eq!(
            parse_s3_url("s3://my-bucket/a/b/").unwrap(),
            "s3://my-bucket/a/b"
        );
        assert_eq!(parse_s3_url("s3://my.bucket").unwrap(), "s3://my.bucket");
        assert!(parse_s3_url("s3://My_Bucket/x").is_err());
        assert!(parse_s3_url("s3://ab/x").is_err());
        assert!(parse_s3_url("s3://bucket/a?b").is_err());
    }
}
