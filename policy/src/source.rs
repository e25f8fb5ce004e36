//! Where configuration, truststores and CRLs come from: URIs (pure parsing)
//! and the fetch metadata used for conditional refreshes.

use std::fmt;
use std::path::PathBuf;

pub use crate::error::UnsupportedUri;

/// A parsed source URI.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SourceUri {
    /// `s3://bucket/key`, optionally pinned with `?versionId=`.
    S3 {
        /// Bucket name.
        bucket: String,
        /// Object key.
        key: String,
        /// A pinned object version: such an object never changes.
        version_id: Option<String>,
    },
    /// `https://…` or `http://…`.
    Http(url::Url),
    /// `file:///absolute/path` (or `file://relative/path` for development).
    File(PathBuf),
}

impl SourceUri {
    /// Parses `s3://`, `https://`, `http://` and `file://` URIs.
    pub fn parse(text: &str) -> Result<Self, UnsupportedUri> {
        if let Some(rest) = text.strip_prefix("s3://") {
            let (path, query) = match rest.split_once('?') {
                Some((p, q)) => (p, Some(q)),
                None => (rest, None),
            };
            let (bucket, key) = path.split_once('/').ok_or(UnsupportedUri)?;
            if bucket.is_empty() || key.is_empty() {
                return Err(UnsupportedUri);
            }
            let version_id = match query {
                None => None,
                Some(q) => match q.strip_prefix("versionId=") {
                    Some(v) if !v.is_empty() && !v.contains('&') => Some(v.to_owned()),
                    _ => return Err(UnsupportedUri),
                },
            };
            return Ok(Self::S3 {
                bucket: bucket.to_owned(),
                key: key.to_owned(),
                version_id,
            });
        }
        if let Some(path) = text.strip_prefix("file://") {
            if path.is_empty() {
                return Err(UnsupportedUri);
            }
            return Ok(Self::File(PathBuf::from(path)));
        }
        if text.starts_with("https://") || text.starts_with("http://") {
            let url = url::Url::parse(text).map_err(|_| UnsupportedUri)?;
            if url.host_str().is_none_or(str::is_empty) {
                return Err(UnsupportedUri);
            }
            return Ok(Self::Http(url));
        }
        Err(UnsupportedUri)
    }
}

impl fmt::Display for SourceUri {
    /// Safe for logs: HTTP credentials and query strings (presigned URLs) are hidden.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::S3 {
                bucket,
                key,
                version_id: Some(v),
            } => write!(f, "s3://{bucket}/{key}?versionId={v}"),
            Self::S3 { bucket, key, .. } => write!(f, "s3://{bucket}/{key}"),
            Self::Http(url) => {
                let host = url.host_str().unwrap_or_default();
                let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
                let query = if url.query().is_some() { "?…" } else { "" };
                write!(f, "{}://{host}{port}{}{query}", url.scheme(), url.path())
            }
            Self::File(p) => write!(f, "file://{}", p.display()),
        }
    }
}

/// What a source said about a version, to ask "has it changed?" next time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Validator {
    /// HTTP or S3 entity tag.
    pub etag: Option<String>,
    /// HTTP `Last-Modified`, echoed back verbatim.
    pub last_modified: Option<String>,
    /// S3 object version.
    pub version_id: Option<String>,
    /// File modification time (nanoseconds since the epoch) and length.
    pub file_stamp: Option<(u128, u64)>,
}

/// The result of a conditional fetch, whole (`B` the bytes) or streamed to a
/// sink as it arrived (`B` is `()`: the sink holds what it read).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fetched<B = Vec<u8>> {
    /// The source confirmed that the version we hold is current.
    NotModified,
    /// A new (or first) version.
    Body {
        /// The body, or `()` when it went to a sink.
        bytes: B,
        /// How to ask about this version next time.
        validator: Validator,
    },
}

#[cfg(test)]
mod tests;
