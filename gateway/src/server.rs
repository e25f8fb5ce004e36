//! The HTTPS front end: TLS with a required client certificate, then, for
//! each request, API Gateway's flow, as a REST API or an HTTP API answers it:
//! route match, REQUEST authorizer (optionally cached), policy evaluation,
//! and the integration: the Lambda proxy, or an HTTP backend that receives
//! the verified identity as headers.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use lru::LruCache;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::apigw::{self, Answer, Api, ClientCert, Request, Verdict};
use crate::backend::HttpBackend;
use crate::summary::Summary;
use crate::tls::Reloading;
use mtls_lambda_host::Function;

/// API Gateway's payload limit.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;
/// How long a client may take to send a request's line and headers after the
/// connection is up or the previous request was answered; then the connection
/// is closed. Without it, half-sent requests hold a connection (and a task)
/// for as long as the client likes.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client may take to send a request's body once its headers are
/// in: API Gateway's own integration timeout is 29 s (REST) or 30 s (HTTP).
pub(crate) const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one write to a client may wait for it to read: a client that
/// stops reading an answer is disconnected then, instead of holding the
/// answer (up to [`MAX_BODY_BYTES`]) in memory for as long as it likes.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a function may take to answer.
pub const INVOKE_TIMEOUT: Duration = Duration::from_secs(30);

/// REQUEST authorizer result caching, as a REST API configures it.
#[derive(Clone, Debug)]
pub struct CacheConfig {
    /// The TTL; API Gateway allows up to 3600 s.
    pub ttl: Duration,
    /// Identity sources, e.g. `method.request.header.X-Device` or
    /// `context.identity.clientCert.serialNumber`.
    pub identity_sources: Vec<String>,
    /// The most results held; the least recently used is dropped first.
    pub max_entries: usize,
}

/// The identity sources the cache is keyed by when none are given: the client
/// certificate fields of `cache_key_fields` in `infra/api-gateway.json`, the
/// file the Terraform module and the CDK construct read their default cache
/// key from. The file is embedded, so a bad one is a build-time fact: it
/// yields no sources, which this module's tests and `gateway` itself refuse.
static DEFAULT_IDENTITY_SOURCES: LazyLock<Vec<String>> = LazyLock::new(|| {
    let doc: Value =
        serde_json::from_str(include_str!("../../infra/api-gateway.json")).unwrap_or_default();
    doc.get("cache_key_fields")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|field| format!("context.identity.clientCert.{field}"))
        .collect()
});

/// The default identity sources, in a REST API's syntax (the gateway reads an
/// HTTP API's `$context.…` alike).
#[must_use]
pub fn default_identity_sources() -> Vec<String> {
    DEFAULT_IDENTITY_SOURCES.clone()
}

/// The identity sources an authorizer cache keys on for `flavor`. An HTTP
/// API caches `isAuthorized` for the route that asked, so its key must name
/// the route (`$context.routeKey`), as the deployed stacks' does when an
/// issuer lists `routes`: without it, an Allow for `GET /whoami` would answer
/// `POST /temps` too. A REST API caches a policy that lists every route the
/// entry allows, so its key stays the certificate. Always added for an HTTP
/// API here: the local gateway does not read the authorizer's configuration,
/// and a key with the route only costs cache misses.
#[must_use]
pub fn with_route_key(mut sources: Vec<String>, flavor: apigw::Flavor) -> Vec<String> {
    if flavor == apigw::Flavor::Http
        && !sources
            .iter()
            .any(|s| s.trim_start_matches('$') == "context.routeKey")
    {
        sources.push("$context.routeKey".to_owned());
    }
    sources
}

/// The default of `--authorizer-cache-max-entries`. Each entry is one
/// authorizer response (about 1 KB), so the cache stays around 10 MB.
pub const DEFAULT_CACHE_ENTRIES: u64 = 10_000;

/// Authorizer results by identity, each kept for the TTL. Bounded: a client
/// that varies its identity source (a header, or many certificates) fills it
/// only up to `max_entries`, and the least recently used result goes first.
#[derive(Debug)]
struct ResultCache {
    ttl: Duration,
    entries: Mutex<LruCache<String, (Instant, Value)>>,
}

impl ResultCache {
    fn new(cfg: &CacheConfig) -> Self {
        let cap =
            std::num::NonZeroUsize::new(cfg.max_entries).unwrap_or(std::num::NonZeroUsize::MIN);
        Self {
            ttl: cfg.ttl,
            entries: Mutex::new(LruCache::sparse(cap)),
        }
    }

    /// The result stored for `key`, if it is younger than the TTL at `now`.
    fn get(&self, key: &str, now: Instant) -> Option<Value> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        match entries.get(key) {
            Some((at, v)) if now.saturating_duration_since(*at) < self.ttl => Some(v.clone()),
            Some(_) => {
                entries.pop(key);
                None
            }
            None => None,
        }
    }

    fn put(&self, key: &str, value: Value, now: Instant) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .put(key.to_owned(), (now, value));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// Where an allowed request goes.
#[derive(Debug)]
pub enum Backend {
    /// A Lambda proxy integration (the api-handler).
    Lambda(Function),
    /// An HTTP backend (`--backend http://…`).
    Http(HttpBackend),
}

/// The gateway: the API, its two functions, and the authorizer cache.
#[derive(Debug)]
pub struct Gateway {
    /// The API's shape.
    pub api: Api,
    /// The REQUEST authorizer.
    pub authorizer: Function,
    /// The integration.
    pub backend: Backend,
    /// Result caching, if configured.
    pub cache: Option<CacheConfig>,
    cached: Option<ResultCache>,
    counter: std::sync::atomic::AtomicU64,
    summary: Mutex<Summary>,
}

/// What the access log records of one request.
#[derive(Debug, Default)]
struct Log {
    decision: Option<&'static str>,
    reason: Option<String>,
    cached: bool,
    authorizer_ms: Option<f64>,
    /// Why the answer is what it is, when the fields alone would puzzle.
    note: Option<&'static str>,
}

fn request_id(n: u64) -> String {
    let now = OffsetDateTime::now_utc().unix_timestamp_nanos();
    format!(
        "{:08x}-{:04x}-4000-8000-{:012x}",
        (now >> 32) as u32,
        n & 0xffff,
        now as u64 & 0xffff_ffff_ffff
    )
}

impl Gateway {
    /// A gateway for `api` with its functions.
    #[must_use]
    pub fn new(
        api: Api,
        authorizer: Function,
        backend: Backend,
        cache: Option<CacheConfig>,
    ) -> Self {
        let cached = cache.as_ref().map(ResultCache::new);
        Self {
            api,
            authorizer,
            backend,
            cache,
            cached,
            counter: std::sync::atomic::AtomicU64::new(0),
            summary: Mutex::new(Summary::new(crate::summary::DEFAULT_EVERY)),
        }
    }

    /// Prints a summary line every `every` requests (0: never).
    #[must_use]
    pub fn with_summary_every(self, every: u64) -> Self {
        Self {
            summary: Mutex::new(Summary::new(every)),
            ..self
        }
    }

    /// The identity source values of a request, or `None` when one is
    /// missing (API Gateway then answers 401 without calling the authorizer).
    /// `route_key` is the HTTP API's `$context.routeKey` of the route called.
    fn identity(
        sources: &[String],
        req: &Request,
        cert: &ClientCert,
        route_key: &str,
    ) -> Option<String> {
        let mut parts = Vec::with_capacity(sources.len());
        for s in sources {
            // HTTP APIs write `$request.header.NAME` and `$context.…`.
            let s = s.strip_prefix('$').unwrap_or(s);
            let s = s
                .strip_prefix("request.header.")
                .map(|h| format!("method.request.header.{h}"))
                .or_else(|| {
                    s.strip_prefix("request.querystring.")
                        .map(|q| format!("method.request.querystring.{q}"))
                })
                .unwrap_or_else(|| s.to_owned());
            let s = s.as_str();
            let v = if let Some(h) = s.strip_prefix("method.request.header.") {
                req.header(h).map(str::to_owned)
            } else if let Some(q) = s.strip_prefix("method.request.querystring.") {
                req.query_pairs()
                    .into_iter()
                    .find_map(|(k, v)| (k == q).then_some(v))
            } else if let Some(field) = s.strip_prefix("context.identity.clientCert.") {
                // serialNumber, issuerDN, subjectDN: as API Gateway exposes them.
                match field {
                    "serialNumber" => cert.serial_number.clone(),
                    "issuerDN" => cert.issuer_dn.clone(),
                    "subjectDN" => cert.subject_dn.clone(),
                    "clientCertPem" => cert.client_cert_pem.clone(),
                    _ => None,
                }
            } else if s == "context.identity.sourceIp" {
                Some(req.source_ip.clone())
            } else if s == "context.routeKey" {
                Some(route_key.to_owned())
            } else {
                None
            };
            parts.push(v.filter(|v| !v.is_empty())?);
        }
        Some(parts.join("\u{1f}"))
    }

    /// The authorizer's response: from the cache when one is configured and
    /// holds `key`, else from an invocation with the event `make_event`
    /// builds (only then).
    async fn authorize(
        &self,
        make_event: impl FnOnce() -> Value,
        key: Option<&str>,
        log: &mut Log,
    ) -> Result<Value, String> {
        if let (Some(cached), Some(key)) = (&self.cached, key)
            && let Some(v) = cached.get(key, Instant::now())
        {
            log.cached = true;
            return Ok(v);
        }
        let started = Instant::now();
        let out = self.authorizer.invoke(make_event(), INVOKE_TIMEOUT).await;
        log.authorizer_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
        if let (Ok(v), Some(cached), Some(key)) = (&out, &self.cached, key) {
            cached.put(key, v.clone(), Instant::now());
        }
        out
    }

    /// Handles one request from a client whose certificate API Gateway
    /// would describe as `cert`.
    async fn handle(&self, req: &Request, cert: &ClientCert, log: &mut Log) -> Answer {
        let flavor = self.api.flavor;
        if let Backend::Http(backend) = &self.backend
            && let Some(refused) = backend.screen(req)
        {
            log.reason = Some("look_alike_identity_header".to_owned());
            log.note = Some("a header spelled like an identity header (`_` or `.` for `-`)");
            return refused;
        }
        let Some(resource) = self.api.resource(&req.method, &req.path) else {
            let (answer, note) = flavor.missing_route();
            log.reason = Some("no_such_route".to_owned());
            log.note = Some(note);
            return answer;
        };
        let (key, identity_values) = match &self.cache {
            Some(cfg) => match Self::identity(
                &cfg.identity_sources,
                req,
                cert,
                &crate::http_api::route_key(&req.method, &resource),
            ) {
                Some(k) => {
                    let values = k.split('\u{1f}').map(str::to_owned).collect();
                    (Some(k), values)
                }
                None => {
                    log.reason = Some("identity_source_missing".to_owned());
                    return crate::http_api::unauthorized();
                }
            },
            None => (None, Vec::new()),
        };
        let make_event =
            || flavor.authorizer_event(&self.api, req, &resource, cert, &identity_values);
        let response = match self.authorize(make_event, key.as_deref(), log).await {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(event = "authorizer_failed", error = %e);
                log.decision = Some("error");
                return flavor.authorizer_failed();
            }
        };
        let arn = self.api.method_arn(&req.method, &req.path);
        match flavor.evaluate(&response, &arn) {
            Verdict::Deny { reason } => {
                log.decision = Some("deny");
                let answer = flavor.denied(reason.as_deref());
                log.reason = reason;
                answer
            }
            Verdict::Invalid(why) => {
                tracing::error!(event = "authorizer_response_invalid", error = %why);
                log.decision = Some("error");
                flavor.authorizer_failed()
            }
            Verdict::Allow { principal, context } => {
                log.decision = Some("allow");
                match &self.backend {
                    Backend::Http(backend) => backend.forward(req, &context).await,
                    Backend::Lambda(function) => {
                        let event = flavor
                            .proxy_event(&self.api, req, &resource, cert, &principal, &context);
                        match function.invoke(event, INVOKE_TIMEOUT).await {
                            Ok(r) => flavor.proxy_answer(&r),
                            Err(e) => {
                                tracing::error!(event = "integration_failed", error = %e);
                                Answer::json(502, &json!({"message": "Internal server error"}))
                            }
                        }
                    }
                }
            }
        }
    }

    async fn http(
        &self,
        req: hyper::Request<Incoming>,
        client: &Client,
        peer: SocketAddr,
    ) -> hyper::Response<Full<Bytes>> {
        let cert = &client.fields;
        let started = Instant::now();
        let n = self
            .counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (parts, body) = req.into_parts();
        let headers: Vec<(String, String)> = parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut request = Request {
            method: parts.method.as_str().to_owned(),
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().unwrap_or_default().to_owned(),
            headers,
            body: Vec::new(),
            source_ip: peer.ip().to_string(),
            request_id: request_id(n),
            time: OffsetDateTime::now_utc(),
        };
        let mut log = Log::default();
        let body = tokio::time::timeout(
            BODY_READ_TIMEOUT,
            Limited::new(body, MAX_BODY_BYTES).collect(),
        )
        .await;
        let answer = match body {
            Ok(Ok(b)) => {
                request.body = b.to_bytes().to_vec();
                self.handle(&request, cert, &mut log).await
            }
            Ok(Err(_)) => Answer::json(413, &json!({"message": "Request Too Long"})),
            Err(_) => {
                log.note = Some("the body did not arrive in time");
                Answer::json(408, &json!({"message": "Request Timeout"}))
            }
        };
        let subject = cert.subject_dn.as_deref().unwrap_or_default();
        tracing::info!(
            event = "access",
            request_id = %request.request_id,
            method = %request.method,
            path = %request.path,
            status = answer.status,
            subject = %subject,
            serial = %client.serial_hex,
            decision = log.decision.unwrap_or("none"),
            reason = log.reason.as_deref().unwrap_or(""),
            authorizer_cached = log.cached,
            authorizer_ms = log.authorizer_ms.unwrap_or(0.0),
            latency_ms = started.elapsed().as_secs_f64() * 1000.0,
            note = log.note,
        );
        let reason = match (log.decision, log.reason.as_deref()) {
            (Some("allow"), _) => crate::summary::ALLOWED,
            (_, Some(reason)) if !reason.is_empty() => reason,
            (Some(decision), _) => decision,
            (None, _) => "none",
        };
        let report = self
            .summary
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .record(
                reason,
                started.elapsed().as_secs_f64() * 1000.0,
                log.authorizer_ms.filter(|_| !log.cached),
            );
        if let Some(report) = report {
            report.log();
        }
        let mut builder = hyper::Response::builder()
            .status(answer.status)
            .header("x-amzn-requestid", &request.request_id);
        for (k, v) in &answer.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        builder
            .body(Full::new(Bytes::from(answer.body)))
            .unwrap_or_else(|_| {
                let mut r =
                    hyper::Response::new(Full::new(Bytes::from_static(b"{\"message\":null}")));
                *r.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
                r
            })
    }
}

/// The client of one connection: its certificate as API Gateway describes it
/// in events, and its serial as the logs spell it.
struct Client {
    fields: ClientCert,
    serial_hex: String,
}

/// Accepts connections until the task is dropped.
pub async fn serve(listener: TcpListener, tls: Reloading, gateway: Arc<Gateway>) {
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(event = "accept_failed", error = %e);
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let acceptor = TlsAcceptor::from(tls.get());
        let gateway = Arc::clone(&gateway);
        let mut tcp = tokio_io_timeout::TimeoutStream::new(tcp);
        tcp.set_write_timeout(Some(WRITE_TIMEOUT));
        tokio::spawn(async move {
            let tcp = Box::pin(tcp);
            let stream = match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp))
                .await
            {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    // What API Gateway does too: no valid client certificate,
                    // no HTTP at all.
                    tracing::info!(event = "handshake_refused", peer = %peer, error = %e);
                    return;
                }
                Err(_) => {
                    tracing::info!(event = "handshake_refused", peer = %peer, error = "timeout");
                    return;
                }
            };
            let Some(cert) = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|c| c.first())
                .map(|c| c.to_vec())
            else {
                return;
            };
            // One description per connection: the certificate cannot change.
            let cert = match apigw::client_cert(&cert).and_then(|fields| {
                Ok(Client {
                    fields,
                    serial_hex: apigw::serial_hex(&cert)?,
                })
            }) {
                Ok(c) => Arc::new(c),
                Err(e) => {
                    tracing::error!(event = "client_cert_unreadable", peer = %peer, error = %e);
                    return;
                }
            };
            let service = service_fn(move |req| {
                let gateway = Arc::clone(&gateway);
                let cert = Arc::clone(&cert);
                async move { Ok::<_, Infallible>(gateway.http(req, &cert, peer).await) }
            });
            if let Err(e) = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(event = "connection_error", peer = %peer, error = %e);
            }
        });
    }
}

#[cfg(test)]
mod tests;
