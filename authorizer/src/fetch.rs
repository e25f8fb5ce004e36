//! Fetching bytes from `s3://`, `https://`, `http://` and `file://` sources,
//! conditionally, with a deadline and a size cap. This is the only module
//! that talks to the network or the file system.

use std::time::{Duration, UNIX_EPOCH};

use aws_sdk_s3::error::DisplayErrorContext;
use tokio::sync::OnceCell;

use crate::error::{Error, Result, bounded};
use crate::source::{Fetched, SourceUri, Validator};

/// Fetch limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Deadline for one whole fetch (connect, headers and body).
    pub timeout: Duration,
    /// Largest body accepted, in bytes.
    pub max_bytes: u64,
}

/// Fetches sources. Build one at cold start and share it: it owns the HTTP
/// connection pool and, once an `s3://` source is used, the S3 client.
#[derive(Debug)]
pub struct Fetcher {
    http: reqwest::Client,
    s3: OnceCell<aws_sdk_s3::Client>,
    limits: Limits,
}

/// Makes aws-lc-rs the process's rustls provider, which reqwest (built without a
/// provider of its own) picks up. Installing twice is harmless: the first
/// provider stays.
fn install_crypto_provider() {
    let _already_installed = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

impl Fetcher {
    /// A fetcher with these limits.
    pub fn new(limits: Limits) -> Result<Self> {
        install_crypto_provider();
        let http = reqwest::Client::builder()
            .connect_timeout(limits.timeout)
            .timeout(limits.timeout)
            .redirect(reqwest::redirect::Policy::custom(
                |attempt| match redirect_refusal(attempt.url(), attempt.previous()) {
                    None => attempt.follow(),
                    Some(why) => attempt.error(why),
                },
            ))
            .user_agent(concat!("mtls-authorizer/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Fetch {
                uri: "(http client)".into(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            http,
            s3: OnceCell::new(),
            limits,
        })
    }

    /// Uses this S3 client instead of one built from the environment
    /// (tests, or callers with their own SDK configuration).
    #[must_use]
    pub fn with_s3_client(self, client: aws_sdk_s3::Client) -> Self {
        Self {
            s3: OnceCell::new_with(Some(client)),
            ..self
        }
    }

    /// The same clients under other limits: the configuration is fetched
    /// before its limits are known, and its clients are then reused.
    #[must_use]
    pub fn with_limits(self, limits: Limits) -> Self {
        Self { limits, ..self }
    }

    /// The limits in force.
    #[must_use]
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Fetches `uri`. With `previous`, the request is conditional and an
    /// unchanged source answers [`Fetched::NotModified`] without a body.
    pub async fn fetch(&self, uri: &SourceUri, previous: Option<&Validator>) -> Result<Fetched> {
        let work = async {
            match uri {
                SourceUri::Http(url) => self.fetch_http(uri, url, previous).await,
                SourceUri::S3 {
                    bucket,
                    key,
                    version_id,
                } => {
                    self.fetch_s3(uri, bucket, key, version_id.as_deref(), previous)
                        .await
                }
                SourceUri::File(path) => self.fetch_file(uri, path, previous).await,
            }
        };
        tokio::time::timeout(self.limits.timeout, work)
            .await
            .map_err(|_| Error::FetchTimeout {
                uri: uri.to_string(),
                seconds: self.limits.timeout.as_secs(),
            })?
    }

    fn too_large(&self, uri: &SourceUri) -> Error {
        Error::FetchTooLarge {
            uri: uri.to_string(),
            limit: self.limits.max_bytes,
        }
    }

    /// A buffer sized for the announced body, so a 50 MB CRL is received
    /// without the copies and slack of a growing vector.
    fn body_buffer(&self, announced: Option<u64>) -> Vec<u8> {
        let len = announced.unwrap_or(0).min(self.limits.max_bytes);
        Vec::with_capacity(usize::try_from(len).unwrap_or(0))
    }

    fn check_len(&self, uri: &SourceUri, len: u64) -> Result<()> {
        if len > self.limits.max_bytes {
            Err(self.too_large(uri))
        } else {
            Ok(())
        }
    }

    async fn fetch_http(
        &self,
        uri: &SourceUri,
        url: &url::Url,
        previous: Option<&Validator>,
    ) -> Result<Fetched> {
        let fail = |reason: String| Error::Fetch {
            uri: uri.to_string(),
            reason: bounded(&reason),
        };
        let mut req = self.http.get(url.clone());
        if let Some(v) = previous {
            if let Some(etag) = &v.etag {
                req = req.header(reqwest::header::IF_NONE_MATCH, etag);
            }
            if let Some(lm) = &v.last_modified {
                req = req.header(reqwest::header::IF_MODIFIED_SINCE, lm);
            }
        }
        let mut resp = req.send().await.map_err(|e| fail(describe_reqwest(&e)))?;
        let status = resp.status();
        if status == reqwest::StatusCode::NOT_MODIFIED && previous.is_some() {
            return Ok(Fetched::NotModified);
        }
        if !status.is_success() {
            return Err(fail(format!("HTTP status {status}")));
        }
        let expected = resp.content_length();
        if let Some(len) = expected {
            self.check_len(uri, len)?;
        }
        let header = |name: reqwest::header::HeaderName| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let validator = Validator {
            etag: header(reqwest::header::ETAG),
            last_modified: header(reqwest::header::LAST_MODIFIED),
            ..Validator::default()
        };
        let mut bytes = self.body_buffer(expected);
        while let Some(chunk) = resp.chunk().await.map_err(|e| fail(describe_reqwest(&e)))? {
            bytes.extend_from_slice(&chunk);
            self.check_len(uri, bytes.len() as u64)?;
        }
        Ok(Fetched::Body { bytes, validator })
    }

    async fn s3_client(&self) -> &aws_sdk_s3::Client {
        self.s3
            .get_or_init(|| async {
                // The SDK reads AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL itself.
                let shared = mtls_common::aws_sdk_config().await;
                let path_style = std::env::var("S3_FORCE_PATH_STYLE")
                    .is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1");
                let conf = aws_sdk_s3::config::Builder::from(&shared)
                    .force_path_style(path_style)
                    .build();
                aws_sdk_s3::Client::from_conf(conf)
            })
            .await
    }

    async fn fetch_s3(
        &self,
        uri: &SourceUri,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        previous: Option<&Validator>,
    ) -> Result<Fetched> {
        // A pinned object version is immutable: once held, never ask again.
        if version_id.is_some() && previous.is_some() {
            return Ok(Fetched::NotModified);
        }
        let fail = |reason: String| Error::Fetch {
            uri: uri.to_string(),
            reason: bounded(&reason),
        };
        let client = self.s3_client().await;
        let mut req = client.get_object().bucket(bucket).key(key);
        if let Some(v) = version_id {
            req = req.version_id(v);
        } else if let Some(etag) = previous.and_then(|p| p.etag.as_deref()) {
            req = req.if_none_match(etag);
        }
        let out = match req.send().await {
            Ok(out) => out,
            Err(e) => {
                let status = e.raw_response().map(|r| r.status().as_u16());
                if status == Some(304) && previous.is_some() {
                    return Ok(Fetched::NotModified);
                }
                return Err(fail(DisplayErrorContext(&e).to_string()));
            }
        };
        let expected = out.content_length().and_then(|l| u64::try_from(l).ok());
        if let Some(len) = expected {
            self.check_len(uri, len)?;
        }
        let validator = Validator {
            etag: out.e_tag().map(str::to_owned),
            version_id: out.version_id().map(str::to_owned),
            ..Validator::default()
        };
        let mut body = out.body;
        let mut bytes = self.body_buffer(expected);
        while let Some(chunk) = body
            .try_next()
            .await
            .map_err(|e| fail(DisplayErrorContext(&e).to_string()))?
        {
            bytes.extend_from_slice(&chunk);
            self.check_len(uri, bytes.len() as u64)?;
        }
        Ok(Fetched::Body { bytes, validator })
    }

    async fn fetch_file(
        &self,
        uri: &SourceUri,
        path: &std::path::Path,
        previous: Option<&Validator>,
    ) -> Result<Fetched> {
        let fail = |e: std::io::Error| Error::Fetch {
            uri: uri.to_string(),
            reason: bounded(&e.to_string()),
        };
        let meta = tokio::fs::metadata(path).await.map_err(fail)?;
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        let stamp = (mtime, meta.len());
        if previous.and_then(|p| p.file_stamp) == Some(stamp) {
            return Ok(Fetched::NotModified);
        }
        self.check_len(uri, meta.len())?;
        let bytes = tokio::fs::read(path).await.map_err(fail)?;
        self.check_len(uri, bytes.len() as u64)?;
        Ok(Fetched::Body {
            bytes,
            validator: Validator {
                file_stamp: Some(stamp),
                ..Validator::default()
            },
        })
    }
}

/// The most redirects a CRL or truststore fetch follows.
pub const MAX_REDIRECTS: usize = 3;

/// Why a redirect to `to` must not be followed, or `None` to follow it.
/// `previous` holds the URLs before it, the first being the configured one.
///
/// Whoever controls a CRL URL may answer with a redirect. Following one to
/// plain HTTP, or to a loopback, link-local or metadata address, would let a
/// hostile server aim the function at its own environment (the Lambda Runtime
/// API, the instance metadata service). So only HTTPS to HTTPS is followed,
/// at most [`MAX_REDIRECTS`] times, and never to such an address. A source
/// served over plain HTTP therefore follows no redirect at all.
#[must_use]
pub fn redirect_refusal(to: &url::Url, previous: &[url::Url]) -> Option<&'static str> {
    if previous.len() > MAX_REDIRECTS {
        return Some("too many redirects");
    }
    if to.scheme() != "https" || previous.iter().any(|u| u.scheme() != "https") {
        return Some("redirect refused: only HTTPS to HTTPS is followed");
    }
    let internal = match to.host() {
        None => true,
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost") || d.ends_with(".internal")
        }
        Some(url::Host::Ipv4(ip)) => internal_v4(ip),
        Some(url::Host::Ipv6(ip)) => {
            ip.is_loopback()
                || ip.is_unspecified()
                // fe80::/10 link-local, and the IPv6 instance metadata address.
                || (ip.segments().first().is_some_and(|s| s & 0xffc0 == 0xfe80))
                || ip == std::net::Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)
                || ip.to_ipv4_mapped().is_some_and(internal_v4)
        }
    };
    internal.then_some("redirect refused: loopback, link-local or metadata address")
}

/// Loopback, link-local (169.254/16, where the instance and container
/// metadata services live), unspecified or broadcast.
fn internal_v4(ip: std::net::Ipv4Addr) -> bool {
    ip.is_loopback() || ip.is_link_local() || ip.is_unspecified() || ip.is_broadcast()
}

/// reqwest's Display hides the cause ("error sending request"); include it.
fn describe_reqwest(e: &reqwest::Error) -> String {
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn url(s: &str) -> url::Url {
        url::Url::parse(s).unwrap()
    }

    #[test]
    fn https_to_https_redirects_are_followed_a_few_times() {
        let start = [url("https://crl.example.com/ca.crl")];
        assert_eq!(
            redirect_refusal(&url("https://cdn.example.net/ca.crl"), &start),
            None
        );
        let many: Vec<url::Url> = (0..=MAX_REDIRECTS)
            .map(|i| url(&format!("https://h{i}.example.com/")))
            .collect();
        assert_eq!(
            redirect_refusal(&url("https://cdn.example.net/ca.crl"), &many),
            Some("too many redirects")
        );
    }

    #[test]
    fn redirects_from_or_to_plain_http_are_refused() {
        let refused = |from: &str, to: &str| redirect_refusal(&url(to), &[url(from)]).is_some();
        assert!(refused(
            "http://crl.example.com/a",
            "https://crl.example.com/a"
        ));
        assert!(refused(
            "https://crl.example.com/a",
            "http://crl.example.com/a"
        ));
        assert!(refused(
            "http://crl.example.com/a",
            "http://crl.example.com/b"
        ));
    }

    #[test]
    fn redirects_to_loopback_link_local_or_metadata_addresses_are_refused() {
        let start = [url("https://crl.example.com/ca.crl")];
        for to in [
            "https://127.0.0.1/",
            "https://127.1.2.3:9001/2018-06-01/runtime/invocation/next",
            "https://169.254.169.254/latest/meta-data/",
            "https://169.254.170.2/v2/credentials",
            "https://[::1]/",
            "https://[fe80::1]/",
            "https://[fd00:ec2::254]/latest/",
            "https://[::ffff:169.254.169.254]/",
            "https://0.0.0.0/",
            "https://localhost/",
            "https://metadata.google.internal/",
        ] {
            assert!(
                redirect_refusal(&url(to), &start).is_some(),
                "{to} must be refused"
            );
        }
    }
}
