//! Fetching bytes from `s3://`, `https://`, `http://` and `file://` sources,
//! conditionally, with a deadline and a size cap. This is the only module
//! that talks to the network or the file system, so it owns the errors of
//! doing so ([`FetchError`]); a body the sink refuses as it streams in is
//! carried as the sink's own typed error ([`FetchError::Refused`]).

use std::future::Future;
use std::time::{Duration, UNIX_EPOCH};

use aws_sdk_s3::error::DisplayErrorContext;
use tokio::io::AsyncReadExt;
use tokio::sync::OnceCell;
use tokio::time::Instant;

use mtls_policy::source::{Fetched, SourceUri, Validator};
use mtls_x509::crl::CrlIngest;
use mtls_x509::error::bounded;

/// The fetch's result type.
pub type Result<T, E = FetchError> = std::result::Result<T, E>;

/// Why a fetch gave no body to use. The source's URI is in every variant
/// that has one (without credentials or query, as [`SourceUri`] prints it),
/// and text from outside (a server's or the SDK's message) is cut with
/// [`bounded`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The HTTP client could not be built.
    #[error("the HTTP client cannot be built: {reason}")]
    Client {
        /// What the client library said.
        reason: String,
    },
    /// The source could not be read: the network, TLS, or S3 (a missing
    /// object, a denied `s3:GetObject`) failed, before or during the body.
    #[error("fetching {uri} failed: {reason}")]
    Source {
        /// The source.
        uri: String,
        /// What went wrong, in the client's or the service's words.
        reason: String,
    },
    /// The server answered an HTTP status other than success (or than
    /// "not modified" to a conditional request).
    #[error("fetching {uri} failed: HTTP status {}", StatusText(*status))]
    Status {
        /// The source.
        uri: String,
        /// The status.
        status: u16,
    },
    /// The server redirected somewhere a fetch does not follow.
    #[error("fetching {uri} failed: {refusal}")]
    Redirect {
        /// The source.
        uri: String,
        /// Why the redirect was not followed.
        refusal: RedirectRefusal,
    },
    /// The file could not be opened or read.
    #[error("fetching {uri} failed: {reason}")]
    File {
        /// The source.
        uri: String,
        /// The kind of failure.
        kind: std::io::ErrorKind,
        /// The system's words.
        reason: String,
    },
    /// The fetch did not complete within its deadline.
    #[error("fetching {uri} timed out after {seconds}s")]
    Timeout {
        /// The source.
        uri: String,
        /// The configured timeout.
        seconds: u64,
    },
    /// The body exceeds the size cap (announced or received).
    #[error(
        "{uri} is larger than the {limit}-byte limit (raise max_fetch_bytes if this is expected)"
    )]
    TooLarge {
        /// The source.
        uri: String,
        /// The configured cap in bytes.
        limit: u64,
    },
    /// The sink refused the body as it streamed in (a CRL from the wrong
    /// issuer, malformed, or too large where no real CRL is): the rest was
    /// not downloaded.
    #[error("{0}")]
    Refused(mtls_x509::Error),
}

/// An HTTP status with its reason phrase: `503 Service Unavailable`.
struct StatusText(u16);

impl std::fmt::Display for StatusText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match reqwest::StatusCode::from_u16(self.0) {
            Ok(status) => write!(f, "{status}"),
            Err(_) => write!(f, "{}", self.0),
        }
    }
}

/// Why a redirect is not followed (see [`redirect_refusal`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RedirectRefusal {
    /// More than [`MAX_REDIRECTS`].
    #[error("too many redirects")]
    TooMany,
    /// From or to plain HTTP.
    #[error("redirect refused: only HTTPS to HTTPS is followed")]
    NotHttps,
    /// To a loopback, link-local or metadata address.
    #[error("redirect refused: loopback, link-local or metadata address")]
    Internal,
}

/// Where a fetched body goes, chunk by chunk, as it arrives. An error stops
/// the download: a CRL refused from its first octets is not read further.
pub(crate) trait Sink: Send {
    /// Takes the next chunk of the body.
    fn write(&mut self, chunk: &[u8]) -> Result<(), mtls_x509::Error>;
    /// The announced length of the body (already within the size cap).
    fn announced(&mut self, _len: u64) {}
}

impl Sink for Vec<u8> {
    fn write(&mut self, chunk: &[u8]) -> Result<(), mtls_x509::Error> {
        self.extend_from_slice(chunk);
        Ok(())
    }

    /// A buffer sized for the announced body, so it is received without the
    /// copies and slack of a growing vector.
    fn announced(&mut self, len: u64) {
        self.reserve(usize::try_from(len).unwrap_or(0));
    }
}

impl Sink for CrlIngest<'_> {
    fn write(&mut self, chunk: &[u8]) -> Result<(), mtls_x509::Error> {
        self.push(chunk)
    }
}

/// How much CPU a fetch's sink may take.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Pace {
    /// As fast as the bytes come: cold starts, and any request that has no
    /// usable CRL to answer with meanwhile.
    #[default]
    Full,
    /// At most this fraction of one core (0 < f ≤ 1), on average: a
    /// background refresh, which must leave the function's CPU share to the
    /// requests it serves meanwhile. The sink's work is timed, and the fetch
    /// sleeps in proportion. Sleeps do not count against the fetch deadline.
    Share(f64),
}

/// The part of the function's CPU share a background refresh may take; the
/// rest stays free for the requests served meanwhile.
pub const BACKGROUND_SHARE: f64 = 0.5;

/// Lambda gives a function one vCPU per 1,769 MB of memory, in proportion.
pub(crate) const LAMBDA_MB_PER_VCPU: f64 = 1769.0;

impl Pace {
    /// The pace of a background refresh in a Lambda function of `memory_mb`
    /// (Lambda's `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`): [`BACKGROUND_SHARE`] of
    /// its CPU share, which is `memory_mb / 1769` of one vCPU (the refresh
    /// runs on one thread, so at most one). Unknown memory (not on Lambda):
    /// full speed.
    #[must_use]
    pub fn lambda_background(memory_mb: Option<&str>) -> Self {
        match memory_mb.and_then(|m| m.trim().parse::<u32>().ok()) {
            Some(mb) if mb > 0 => {
                Self::Share((f64::from(mb) / LAMBDA_MB_PER_VCPU).min(1.0) * BACKGROUND_SHARE)
            }
            _ => Self::Full,
        }
    }
}

/// After this much sink work, a paced fetch sleeps: well above the timer's
/// millisecond resolution, well below a CPU quota period (100 ms).
const PACE_SLICE: Duration = Duration::from_millis(2);

/// Keeps a stream of work to a [`Pace`]: after each piece, it sleeps in
/// proportion to the work done since the last sleep.
#[derive(Debug)]
pub(crate) struct Pacer {
    pace: Pace,
    /// Work not yet paid for by a sleep.
    owed: Duration,
}

impl Pacer {
    /// A pacer for `pace`.
    #[must_use]
    pub fn new(pace: Pace) -> Self {
        Self {
            pace,
            owed: Duration::ZERO,
        }
    }

    /// Accounts for `work` just done, and sleeps if the pace asks for it.
    /// At full speed it only yields, so other tasks of the runtime (the
    /// requests) run between pieces. Returns how long it slept.
    pub async fn rest(&mut self, work: Duration) -> Duration {
        let Pace::Share(share) = self.pace else {
            tokio::task::yield_now().await;
            return Duration::ZERO;
        };
        self.owed += work;
        if self.owed < PACE_SLICE {
            tokio::task::yield_now().await;
            return Duration::ZERO;
        }
        let share = share.clamp(0.01, 1.0);
        let rest = self.owed.mul_f64((1.0 - share) / share);
        self.owed = Duration::ZERO;
        tokio::time::sleep(rest).await;
        rest
    }
}

/// The deadline of one fetch, which pacing sleeps push back.
#[derive(Debug)]
struct Deadline {
    at: Instant,
    seconds: u64,
    pacer: Pacer,
}

impl Deadline {
    fn new(limits: Limits, pace: Pace) -> Self {
        Self {
            at: Instant::now() + limits.timeout,
            seconds: limits.timeout.as_secs(),
            pacer: Pacer::new(pace),
        }
    }

    /// Runs one step of the fetch within the deadline.
    async fn within<T>(&self, uri: &SourceUri, step: impl Future<Output = T>) -> Result<T> {
        tokio::time::timeout_at(self.at, step)
            .await
            .map_err(|_| FetchError::Timeout {
                uri: uri.to_string(),
                seconds: self.seconds,
            })
    }

    /// Feeds `chunk` to `sink`, then rests as the pace asks.
    async fn feed(&mut self, sink: &mut dyn Sink, chunk: &[u8]) -> Result<()> {
        let started = Instant::now();
        sink.write(chunk).map_err(FetchError::Refused)?;
        if self.pacer.pace != Pace::Full {
            let slept = self.pacer.rest(started.elapsed()).await;
            self.at += slept;
        }
        Ok(())
    }
}

/// The outcome of a streamed fetch: the body went to the sink, whole.
pub type Streamed = Fetched<()>;

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
    /// The OCSP client, built on first use: it follows no redirect, so a
    /// responder within `responders_from_aia` cannot send the authorizer
    /// anywhere else.
    ocsp_http: OnceCell<reqwest::Client>,
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
            .map_err(|e| FetchError::Client {
                reason: bounded(&describe_reqwest(&e)),
            })?;
        Ok(Self {
            http,
            ocsp_http: OnceCell::new(),
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
    pub(crate) fn with_limits(self, limits: Limits) -> Self {
        Self { limits, ..self }
    }

    /// The limits in force.
    #[must_use]
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Fetches `uri` whole. With `previous`, the request is conditional and
    /// an unchanged source answers [`Fetched::NotModified`] without a body.
    pub async fn fetch(&self, uri: &SourceUri, previous: Option<&Validator>) -> Result<Fetched> {
        let mut bytes = Vec::new();
        Ok(
            match self.fetch_to(uri, previous, &mut bytes, Pace::Full).await? {
                Fetched::NotModified => Fetched::NotModified,
                Fetched::Body { validator, .. } => Fetched::Body { bytes, validator },
            },
        )
    }

    /// Fetches `uri` into `sink` as the body arrives, within the size cap and
    /// the deadline, feeding it at `pace`. An error from the sink ends the
    /// download and is returned as it is.
    pub(crate) async fn fetch_to(
        &self,
        uri: &SourceUri,
        previous: Option<&Validator>,
        sink: &mut dyn Sink,
        pace: Pace,
    ) -> Result<Streamed> {
        let mut deadline = Deadline::new(self.limits, pace);
        match uri {
            SourceUri::Http(url) => {
                self.fetch_http(uri, url, previous, sink, &mut deadline)
                    .await
            }
            SourceUri::S3 {
                bucket,
                key,
                version_id,
            } => {
                self.fetch_s3(
                    uri,
                    (bucket, key, version_id.as_deref()),
                    previous,
                    sink,
                    &mut deadline,
                )
                .await
            }
            SourceUri::File(path) => {
                self.fetch_file(uri, path, previous, sink, &mut deadline)
                    .await
            }
        }
    }

    fn too_large(&self, uri: &SourceUri) -> FetchError {
        FetchError::TooLarge {
            uri: uri.to_string(),
            limit: self.limits.max_bytes,
        }
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
        sink: &mut dyn Sink,
        deadline: &mut Deadline,
    ) -> Result<Streamed> {
        let fail = |e: reqwest::Error| match redirect_refused(&e) {
            Some(refusal) => FetchError::Redirect {
                uri: uri.to_string(),
                refusal,
            },
            None => FetchError::Source {
                uri: uri.to_string(),
                reason: bounded(&describe_reqwest(&e)),
            },
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
        let mut resp = deadline.within(uri, req.send()).await?.map_err(fail)?;
        let status = resp.status();
        if status == reqwest::StatusCode::NOT_MODIFIED && previous.is_some() {
            return Ok(Fetched::NotModified);
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                uri: uri.to_string(),
                status: status.as_u16(),
            });
        }
        if let Some(len) = resp.content_length() {
            self.check_len(uri, len)?;
            sink.announced(len);
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
        let mut received = 0u64;
        while let Some(chunk) = deadline.within(uri, resp.chunk()).await?.map_err(fail)? {
            received += chunk.len() as u64;
            self.check_len(uri, received)?;
            deadline.feed(sink, &chunk).await?;
        }
        Ok(Fetched::Body {
            bytes: (),
            validator,
        })
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
        (bucket, key, version_id): (&str, &str, Option<&str>),
        previous: Option<&Validator>,
        sink: &mut dyn Sink,
        deadline: &mut Deadline,
    ) -> Result<Streamed> {
        // A pinned object version is immutable: once held, never ask again.
        if version_id.is_some() && previous.is_some() {
            return Ok(Fetched::NotModified);
        }
        let fail = |reason: String| FetchError::Source {
            uri: uri.to_string(),
            reason: bounded(&reason),
        };
        let client = deadline.within(uri, self.s3_client()).await?;
        let mut req = client.get_object().bucket(bucket).key(key);
        if let Some(v) = version_id {
            req = req.version_id(v);
        } else if let Some(etag) = previous.and_then(|p| p.etag.as_deref()) {
            req = req.if_none_match(etag);
        }
        let out = match deadline.within(uri, req.send()).await? {
            Ok(out) => out,
            Err(e) => {
                let status = e.raw_response().map(|r| r.status().as_u16());
                if status == Some(304) && previous.is_some() {
                    return Ok(Fetched::NotModified);
                }
                return Err(fail(DisplayErrorContext(&e).to_string()));
            }
        };
        if let Some(len) = out.content_length().and_then(|l| u64::try_from(l).ok()) {
            self.check_len(uri, len)?;
            sink.announced(len);
        }
        let validator = Validator {
            etag: out.e_tag().map(str::to_owned),
            version_id: out.version_id().map(str::to_owned),
            ..Validator::default()
        };
        let mut body = out.body;
        let mut received = 0u64;
        while let Some(chunk) = deadline
            .within(uri, body.try_next())
            .await?
            .map_err(|e| fail(DisplayErrorContext(&e).to_string()))?
        {
            received += chunk.len() as u64;
            self.check_len(uri, received)?;
            deadline.feed(sink, &chunk).await?;
        }
        Ok(Fetched::Body {
            bytes: (),
            validator,
        })
    }

    async fn fetch_file(
        &self,
        uri: &SourceUri,
        path: &std::path::Path,
        previous: Option<&Validator>,
        sink: &mut dyn Sink,
        deadline: &mut Deadline,
    ) -> Result<Streamed> {
        let fail = |e: std::io::Error| FetchError::File {
            uri: uri.to_string(),
            kind: e.kind(),
            reason: bounded(&e.to_string()),
        };
        let mut file = deadline
            .within(uri, tokio::fs::File::open(path))
            .await?
            .map_err(fail)?;
        let meta = deadline.within(uri, file.metadata()).await?.map_err(fail)?;
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
        sink.announced(meta.len());
        let mut chunk = vec![0u8; FILE_CHUNK];
        let mut received = 0u64;
        loop {
            let n = deadline
                .within(uri, file.read(&mut chunk))
                .await?
                .map_err(fail)?;
            let Some(read) = chunk.get(..n).filter(|r| !r.is_empty()) else {
                break;
            };
            received += n as u64;
            self.check_len(uri, received)?;
            deadline.feed(sink, read).await?;
        }
        Ok(Fetched::Body {
            bytes: (),
            validator: Validator {
                file_stamp: Some(stamp),
                ..Validator::default()
            },
        })
    }
}

/// Files are read in chunks of this size, like a network body.
const FILE_CHUNK: usize = 256 * 1024;

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
pub fn redirect_refusal(to: &url::Url, previous: &[url::Url]) -> Option<RedirectRefusal> {
    if previous.len() > MAX_REDIRECTS {
        return Some(RedirectRefusal::TooMany);
    }
    if to.scheme() != "https" || previous.iter().any(|u| u.scheme() != "https") {
        return Some(RedirectRefusal::NotHttps);
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
    internal.then_some(RedirectRefusal::Internal)
}

/// The [`RedirectRefusal`] behind a reqwest error, if a refused redirect is
/// what ended the request: the redirect policy hands it to reqwest, which
/// keeps it as a cause.
fn redirect_refused(e: &reqwest::Error) -> Option<RedirectRefusal> {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(refusal) = s.downcast_ref::<RedirectRefusal>() {
            return Some(*refusal);
        }
        source = s.source();
    }
    None
}

/// Loopback, link-local (169.254/16, where the instance and container
/// metadata services live), unspecified or broadcast.
fn internal_v4(ip: std::net::Ipv4Addr) -> bool {
    ip.is_loopback() || ip.is_link_local() || ip.is_unspecified() || ip.is_broadcast()
}

/// Why an exchange with an OCSP responder gave no response to verify.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OcspFetchError {
    /// The whole exchange took longer than `timeout_ms`.
    #[error("the OCSP responder did not answer within {ms} ms")]
    Timeout {
        /// The deadline.
        ms: u64,
    },
    /// The connection or the HTTP exchange failed.
    #[error("the OCSP responder could not be reached: {0}")]
    Http(String),
    /// An HTTP status other than 200.
    #[error("the OCSP responder answered HTTP {0}")]
    Status(u16),
    /// A body larger than the cap (announced or received).
    #[error("the OCSP responder's answer is larger than {limit} octets")]
    TooLarge {
        /// The cap.
        limit: usize,
    },
}

impl OcspFetchError {
    /// A short label for the `ocsp_metrics` line.
    #[must_use]
    pub fn label(&self) -> &'static str {
        match self {
            Self::Timeout { .. } => "timeout",
            Self::Http(_) => "fetch",
            Self::Status(_) => "http_status",
            Self::TooLarge { .. } => "too_large",
        }
    }
}

/// One OCSP exchange's request (RFC 6960 Appendix A.1).
#[derive(Clone, Debug)]
pub struct OcspRequest<'a> {
    /// The responder.
    pub responder: &'a url::Url,
    /// The DER `OCSPRequest`.
    pub der: &'a [u8],
    /// Its GET form (base64, URL-escaped), sent as a GET when the whole URL
    /// is at most 255 octets (RFC 5019 §5), which lets responders and CDNs
    /// cache the answer; otherwise the request is POSTed.
    pub get_path: &'a str,
    /// The whole exchange's deadline.
    pub timeout: Duration,
    /// The largest response accepted.
    pub max_bytes: usize,
}

impl Fetcher {
    /// Asks an OCSP responder, within the request's deadline and size cap.
    /// A redirect is an error (RFC 5019 has none): the responder's answer
    /// must come from the responder the configuration allows.
    pub async fn ocsp(
        &self,
        request: &OcspRequest<'_>,
    ) -> std::result::Result<Vec<u8>, OcspFetchError> {
        let timeout = request.timeout;
        let ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        tokio::time::timeout(timeout, self.ocsp_exchange(request))
            .await
            .unwrap_or(Err(OcspFetchError::Timeout { ms }))
    }

    async fn ocsp_exchange(
        &self,
        request: &OcspRequest<'_>,
    ) -> std::result::Result<Vec<u8>, OcspFetchError> {
        let http = |e: reqwest::Error| OcspFetchError::Http(bounded(&describe_reqwest(&e)));
        let client = self
            .ocsp_http
            .get_or_try_init(|| async {
                reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .user_agent(concat!("mtls-authorizer/", env!("CARGO_PKG_VERSION")))
                    .build()
            })
            .await
            .map_err(http)?;
        let base = request.responder.as_str();
        let get_url = if base.ends_with('/') {
            format!("{base}{}", request.get_path)
        } else {
            format!("{base}/{}", request.get_path)
        };
        let builder = if get_url.len() <= mtls_x509::ocsp::MAX_GET_URL_BYTES {
            client.get(get_url)
        } else {
            client
                .post(request.responder.clone())
                .header(reqwest::header::CONTENT_TYPE, "application/ocsp-request")
                .body(request.der.to_vec())
        };
        let mut resp = builder
            .header(reqwest::header::ACCEPT, "application/ocsp-response")
            .timeout(request.timeout)
            .send()
            .await
            .map_err(http)?;
        let status = resp.status();
        if status != reqwest::StatusCode::OK {
            return Err(OcspFetchError::Status(status.as_u16()));
        }
        let too_large = OcspFetchError::TooLarge {
            limit: request.max_bytes,
        };
        let mut body = Vec::new();
        if let Some(len) = resp.content_length() {
            if usize::try_from(len).map_or(true, |l| l > request.max_bytes) {
                return Err(too_large);
            }
            body.reserve(usize::try_from(len).unwrap_or(0));
        }
        while let Some(chunk) = resp.chunk().await.map_err(http)? {
            if body.len() + chunk.len() > request.max_bytes {
                return Err(too_large);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
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
mod tests;
