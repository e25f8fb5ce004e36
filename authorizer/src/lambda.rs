//! The Lambda adapter: API Gateway authorizer events in, policies out, and the
//! process-wide state (truststore and CRL caches) that lives across invocations.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerResponse,
    ApiGatewayV2CustomAuthorizerIamPolicyResponse, ApiGatewayV2CustomAuthorizerSimpleResponse,
};
use aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};
use lru::LruCache;
use serde_json::{Map, Value};

use crate::cache::{
    CrlSet, Expiring, MAX_SEQUENCES_PER_SOURCE, Offered, RollbackGuard, Schedule, Slot,
};
use crate::config::{CdpSource, Config, IssuerRule, PolicyResource, Revocation};
use crate::context::AuthorizerContext;
use crate::crl::{Coverage, CrlIngest};
use crate::decision::{
    Decision, DenyReason, Engine, Identity, Matched, RuleIssuer, certificate_der,
};
use crate::error::{Error, Result, bounded};
use crate::fetch::{Fetcher, Limits, Pace, Pacer, Streamed};
use crate::metrics::{
    Cause, CrlInUse, CrlRecord, DecisionRecord, Namespace, RefreshOutcome, RequestIds,
    TruststoreRecord, request_id,
};
use crate::source::{Fetched, SourceUri, Validator};
use crate::time::{Clock, UnixTime};
use crate::truststore::TrustStore;

/// The response shape for HTTP API (payload 2.0) events, from `HTTP_API_RESPONSE`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HttpApiResponse {
    /// `{"isAuthorized": …, "context": …}` (enable simple responses on the authorizer).
    #[default]
    Simple,
    /// An IAM policy, as for REST APIs.
    Iam,
}

impl HttpApiResponse {
    /// Parses `simple` or `iam`; unset means `simple`.
    pub fn from_env_value(value: Option<&str>) -> Result<Self> {
        match value.map(str::trim) {
            None | Some("" | "simple") => Ok(Self::Simple),
            Some("iam") => Ok(Self::Iam),
            Some(other) => Err(Error::Config(format!(
                "HTTP_API_RESPONSE = `{other}`: use `simple` or `iam`"
            ))),
        }
    }
}

/// Where the EMF lines (decisions, CRL refreshes, the truststore) go.
pub trait LineSink: Send + Sync + std::fmt::Debug {
    /// Writes one line (the sink adds the newline).
    fn line(&self, line: &str);
}

/// The process's standard output, where Lambda collects the log and
/// CloudWatch extracts the metrics.
#[derive(Debug)]
pub struct Stdout;

impl LineSink for Stdout {
    fn line(&self, line: &str) {
        use std::io::Write;
        // One locked write per line: it never interleaves with the tracing
        // lines, which take the same lock.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
    }
}

/// Nowhere: for library users and tests that do not read the lines.
#[derive(Debug)]
pub struct Discard;

impl LineSink for Discard {
    fn line(&self, _: &str) {}
}

/// The EMF output: a namespace and a sink.
#[derive(Clone, Debug)]
pub struct Telemetry {
    namespace: Arc<Namespace>,
    sink: Arc<dyn LineSink>,
}

impl Telemetry {
    /// Lines in `namespace` to `sink`.
    #[must_use]
    pub fn new(namespace: Namespace, sink: Arc<dyn LineSink>) -> Self {
        Self {
            namespace: Arc::new(namespace),
            sink,
        }
    }

    /// No lines at all.
    #[must_use]
    pub fn discard() -> Self {
        Self::new(Namespace::default(), Arc::new(Discard))
    }

    fn emit(&self, line: &str) {
        if !line.is_empty() {
            self.sink.line(line);
        }
    }

    fn crl(&self, record: &CrlRecord<'_>) {
        self.emit(&record.to_line(&self.namespace));
    }
}

/// What the Lambda runtime says about one invocation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Invocation {
    /// The Lambda request id.
    pub request_id: Option<String>,
    /// The X-Ray trace header (`_X_AMZN_TRACE_ID`).
    pub trace_id: Option<String>,
}

/// Which kind of authorizer event arrived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// REST API REQUEST authorizer (and HTTP API payload 1.0), answered with an IAM policy.
    Rest {
        /// The invoked method's ARN.
        method_arn: Option<String>,
    },
    /// HTTP API payload 2.0.
    HttpV2 {
        /// The invoked route's ARN.
        route_arn: Option<String>,
    },
    /// Something else: answered with a Deny on every resource.
    Unknown,
}

impl EventKind {
    /// Tells the event formats apart by their distinguishing fields.
    #[must_use]
    pub fn detect(event: &Value) -> Self {
        let text = |key: &str| event.get(key).and_then(Value::as_str).map(str::to_owned);
        if text("version").as_deref() == Some("2.0") || event.get("routeArn").is_some() {
            Self::HttpV2 {
                route_arn: text("routeArn"),
            }
        } else if event.get("methodArn").is_some() {
            Self::Rest {
                method_arn: text("methodArn"),
            }
        } else {
            Self::Unknown
        }
    }

    /// API Gateway's request ids: `requestContext.requestId` (both
    /// formats) and `requestContext.extendedRequestId` (REST).
    #[must_use]
    pub fn api_request_ids(event: &Value) -> (Option<String>, Option<String>) {
        let id = |p: &str| request_id(event.pointer(p).and_then(Value::as_str));
        (
            id("/requestContext/requestId"),
            id("/requestContext/extendedRequestId"),
        )
    }

    /// The `clientCertPem` at the place this event format keeps it.
    #[must_use]
    pub fn client_cert_pem<'e>(&self, event: &'e Value) -> Option<&'e str> {
        let pointer = match self {
            Self::Rest { .. } => "/requestContext/identity/clientCert/clientCertPem",
            Self::HttpV2 { .. } => "/requestContext/authentication/clientCert/clientCertPem",
            Self::Unknown => return None,
        };
        event.pointer(pointer).and_then(Value::as_str)
    }

    /// The response API Gateway expects for this event format.
    #[must_use]
    pub fn response(
        &self,
        decision: &Decision,
        scope: PolicyResource,
        http: HttpApiResponse,
    ) -> Value {
        let context = context_of(decision);
        let principal = principal_of(decision.identity());
        // Optional fields the crate leaves as `null` (usageIdentifierKey) are
        // dropped: API Gateway documents them as absent-or-string.
        let to_value = |r: std::result::Result<Value, serde_json::Error>| match r {
            Ok(Value::Object(mut fields)) => {
                fields.retain(|_, v| !v.is_null());
                Value::Object(fields)
            }
            _ => deny_everything_response(),
        };
        match self {
            Self::Rest { method_arn } => {
                let mut r = ApiGatewayCustomAuthorizerResponse::<Map<String, Value>>::default();
                r.principal_id = Some(principal);
                r.policy_document =
                    policy(decision.is_allow(), resource(method_arn.as_deref(), scope));
                r.context = context;
                to_value(serde_json::to_value(r))
            }
            Self::HttpV2 { route_arn } => match http {
                HttpApiResponse::Simple => {
                    let mut r =
                        ApiGatewayV2CustomAuthorizerSimpleResponse::<Map<String, Value>>::default();
                    r.is_authorized = decision.is_allow();
                    r.context = context;
                    to_value(serde_json::to_value(r))
                }
                HttpApiResponse::Iam => {
                    let mut r = ApiGatewayV2CustomAuthorizerIamPolicyResponse::<Map<String, Value>>::default();
                    r.principal_id = Some(principal);
                    r.policy_document =
                        policy(decision.is_allow(), resource(route_arn.as_deref(), scope));
                    r.context = context;
                    to_value(serde_json::to_value(r))
                }
            },
            Self::Unknown => deny_everything_response(),
        }
    }
}

/// A Deny on `*`, valid for any event format that takes IAM policies.
fn deny_everything_response() -> Value {
    serde_json::json!({
        "principalId": "unknown",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": "*"}]
        },
        "context": {"reason": DenyReason::InternalError.as_str()}
    })
}

fn policy(allow: bool, resource: String) -> ApiGatewayCustomAuthorizerPolicy {
    let mut statement = IamPolicyStatement::default();
    statement.action = vec!["execute-api:Invoke".to_owned()];
    statement.effect = if allow {
        IamPolicyEffect::Allow
    } else {
        IamPolicyEffect::Deny
    };
    statement.resource = vec![resource];
    let mut doc = ApiGatewayCustomAuthorizerPolicy::default();
    doc.version = Some("2012-10-17".to_owned());
    doc.statement = vec![statement];
    doc
}

/// The policy resource: the invoked ARN, or its stage wildcard
/// (`arn:aws:execute-api:region:account:api-id/stage/*`).
fn resource(arn: Option<&str>, scope: PolicyResource) -> String {
    let Some(arn) = arn.filter(|a| !a.is_empty()) else {
        return "*".to_owned();
    };
    match scope {
        PolicyResource::Method => arn.to_owned(),
        PolicyResource::Stage => {
            let mut parts = arn.splitn(3, '/');
            match (parts.next(), parts.next()) {
                (Some(api), Some(stage)) if !stage.is_empty() => format!("{api}/{stage}/*"),
                _ => arn.to_owned(),
            }
        }
    }
}

/// A principal stable per certificate: its SHA-256 fingerprint.
fn principal_of(id: &Identity) -> String {
    if id.fingerprint_sha256.is_empty() {
        "anonymous".to_owned()
    } else {
        id.fingerprint_sha256.clone()
    }
}

/// The authorizer context: string values only, on Allow and Deny alike.
fn context_of(decision: &Decision) -> Map<String, Value> {
    let id = decision.identity();
    AuthorizerContext {
        subject_dn: id.subject_dn.clone(),
        issuer_dn: id.issuer_dn.clone(),
        serial_number: id.serial_number.clone(),
        fingerprint_sha256: id.fingerprint_sha256.clone(),
        issuer: id.issuer.clone().unwrap_or_default(),
        reason: decision.reason().map(|r| r.as_str().to_owned()),
    }
    .to_map()
}

/// A cached resource with its source and a single-flight refresh lock.
#[derive(Debug)]
struct Cached<T> {
    source: SourceUri,
    slot: RwLock<Slot<T>>,
    /// Held by whoever refreshes: a request, or a background task (which
    /// owns its guard, hence the `Arc`).
    refreshing: Arc<tokio::sync::Mutex<()>>,
}

impl<T: Expiring> Cached<T> {
    fn new(source: SourceUri) -> Self {
        Self {
            source,
            slot: RwLock::new(Slot::default()),
            refreshing: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    fn read<R>(&self, f: impl FnOnce(&Slot<T>) -> R) -> R {
        f(&self.slot.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn write<R>(&self, f: impl FnOnce(&mut Slot<T>) -> R) -> R {
        f(&mut self.slot.write().unwrap_or_else(PoisonError::into_inner))
    }

    fn current(&self) -> Option<Arc<T>> {
        self.read(|s| s.current().cloned())
    }

    /// The truststore's refresh: if due and no other task is refreshing,
    /// asks the source conditionally. An unchanged source (304, same version,
    /// same bytes) is confirmed here and yields `None`, as does "not due". New
    /// bytes come back with the single-flight guard still held, so the caller
    /// verifies and installs them before anyone else refreshes. A failed
    /// fetch is recorded and returned as `Some(Err)`.
    async fn fetch_if_changed(
        &self,
        fetcher: &Fetcher,
        now: UnixTime,
        schedule: Schedule,
    ) -> Option<Result<Changed<'_>>> {
        if !self.read(|s| s.is_due(now, schedule)) {
            return None;
        }
        let guard = self.refreshing.try_lock().ok()?;
        let previous = self.read(|s| s.validator().cloned());
        match fetcher.fetch(&self.source, previous.as_ref()).await {
            Ok(Fetched::NotModified) => {
                tracing::debug!(event = "not_modified", source = %self.source);
                self.write(|s| s.confirm(now, None));
                None
            }
            Ok(Fetched::Body { bytes, validator }) => {
                let sha256 = crate::signed::sha256(&bytes);
                if self.read(|s| s.holds(&sha256)) {
                    self.write(|s| s.confirm(now, Some(validator)));
                    return None;
                }
                Some(Ok(Changed {
                    _single_flight: guard,
                    bytes,
                    validator,
                    sha256,
                }))
            }
            Err(e) => {
                self.write(|s| s.fail(now, e.clone()));
                Some(Err(e))
            }
        }
    }
}

/// New bytes from a source, to be verified and installed by the caller.
#[derive(Debug)]
struct Changed<'a> {
    _single_flight: tokio::sync::MutexGuard<'a, ()>,
    bytes: Vec<u8>,
    validator: Validator,
    sha256: [u8; 32],
}

/// A snapshot of one CRL source's cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrlStatus {
    /// The source, as logged.
    pub source: String,
    /// Revoked entries of the CRL in use, if one is loaded.
    pub entries: Option<usize>,
    /// Its CRL number (hex), if it has one.
    pub number: Option<String>,
    /// Its `nextUpdate`.
    pub next_update: Option<UnixTime>,
    /// What it covers (`complete`, or `partition <URIs>`).
    pub scope: Option<String>,
    /// The truststore key that signed it (the first 8 octets of its id).
    pub signer: Option<String>,
    /// How many CRL sequences the source's slot holds (see [`CrlSet`]).
    pub sequences: usize,
    /// How many CRLs were verified and installed so far.
    pub installs: u64,
    /// The latest refresh failure, cleared by the next success.
    pub last_error: Option<Error>,
    /// Whether a refresh of this source is running now.
    pub refreshing: bool,
}

/// The outcome of one request, with what the decision log line needs.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The decision.
    pub decision: Decision,
    /// Seconds since the deciding CRL's `thisUpdate`, when a CRL decided.
    pub crl_age_seconds: Option<i64>,
}

impl Outcome {
    fn plain(decision: Decision) -> Self {
        Self {
            decision,
            crl_age_seconds: None,
        }
    }
}

type CrlSlot = Arc<Cached<CrlSet>>;

/// One issuer entry's CRL sources.
#[derive(Debug)]
enum IssuerCrls {
    /// `"revocation": "none"`.
    NotChecked,
    /// `crl`: fixed sources, loaded at cold start.
    Fixed(Vec<CrlSlot>),
    /// `crl_from_cdp`: sources found from certificates, each loaded when the
    /// first certificate that names it arrives; the least recently used is
    /// dropped beyond `max_cdp_crls_per_issuer`.
    FromCdp(Mutex<LruCache<SourceUri, CrlSlot>>),
}

impl IssuerCrls {
    fn for_rule(revocation: &Revocation, max_cdp: NonZeroUsize) -> Self {
        match revocation {
            Revocation::NotChecked => Self::NotChecked,
            Revocation::Crls(uris) => Self::Fixed(
                uris.iter()
                    .map(|u| Arc::new(Cached::new(u.clone())))
                    .collect(),
            ),
            Revocation::FromCdp(_) => Self::FromCdp(Mutex::new(LruCache::sparse(max_cdp))),
        }
    }

    /// How many CRL sources this entry holds at most (each keeps up to
    /// `MAX_SEQUENCES_PER_SOURCE` sequences).
    fn capacity(&self) -> usize {
        match self {
            Self::NotChecked => 0,
            Self::Fixed(v) => v.len(),
            Self::FromCdp(lru) => lock(lru).cap().get(),
        }
    }

    /// Every source currently held.
    fn slots(&self) -> Vec<CrlSlot> {
        match self {
            Self::NotChecked => Vec::new(),
            Self::Fixed(v) => v.clone(),
            Self::FromCdp(lru) => lock(lru).iter().map(|(_, s)| Arc::clone(s)).collect(),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means a panic elsewhere; the LRU and the guard
    // stay consistent between their own calls.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The authorizer's process-wide state: configuration, fetcher, clock, and
/// the cached truststore and CRLs. Built once at cold start.
#[derive(Debug)]
pub struct Authorizer {
    config: Arc<Config>,
    fetcher: Arc<Fetcher>,
    clock: Arc<dyn Clock>,
    http_api_response: HttpApiResponse,
    truststore: Cached<TrustStore>,
    /// One per issuer entry, in order.
    crls: Vec<IssuerCrls>,
    refresher: CrlRefresher,
    /// How fast a refresh that runs behind the requests may work.
    background_pace: Pace,
    /// The refreshes running behind the requests (see [`Authorizer::settle`]).
    background: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    telemetry: Telemetry,
}

/// What a CRL refresh needs, cheap to clone into a background task.
#[derive(Clone)]
struct CrlRefresher {
    config: Arc<Config>,
    fetcher: Arc<Fetcher>,
    clock: Arc<dyn Clock>,
    /// The newest CRL seen of each sequence, across all sources.
    rollback: Arc<Mutex<RollbackGuard>>,
    telemetry: Telemetry,
}

impl std::fmt::Debug for CrlRefresher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrlRefresher").finish_non_exhaustive()
    }
}

impl CrlRefresher {
    /// Fetches one CRL source of issuer entry `rule_index`, streaming the
    /// body through [`CrlIngest`] at `pace`, and offers the result to the
    /// slot. The caller holds the slot's single-flight guard. Never removes a
    /// good CRL: failures and rejected candidates are logged and recorded.
    /// Every refresh ends with the source's `crl_metrics` line.
    async fn run(
        &self,
        rule_index: usize,
        cached: &Cached<CrlSet>,
        truststore: Option<Arc<TrustStore>>,
        pace: Pace,
    ) {
        let Some(rule) = self.config.issuers.get(rule_index) else {
            return;
        };
        let (outcome, load_ms) = self.refresh(rule, cached, truststore, pace).await;
        let in_use = cached.read(|s| {
            s.current().and_then(|set| set.newest()).map(|c| CrlInUse {
                this_update: c.this_update(),
                next_update: c.next_update(),
                entries: c.revoked().len(),
            })
        });
        let source = cached.source.to_string();
        self.telemetry.crl(&CrlRecord {
            time: self.clock.now(),
            issuer: &rule.name,
            source: &source,
            outcome,
            in_use,
            load_ms,
        });
    }

    /// The refresh itself: its outcome, and for an installed CRL the time
    /// from the fetch's start to the install.
    async fn refresh(
        &self,
        rule: &IssuerRule,
        cached: &Cached<CrlSet>,
        truststore: Option<Arc<TrustStore>>,
        pace: Pace,
    ) -> (RefreshOutcome, Option<f64>) {
        let Some(truststore) = truststore else {
            let now = self.clock.now();
            let e = Error::Truststore("not loaded".into());
            let cause = Cause::of(&e);
            cached.write(|s| s.fail(now, e));
            return (RefreshOutcome::Failed(cause), None);
        };
        let previous = cached.read(|s| s.validator().cloned());
        let expected = RuleIssuer(rule);
        let mut ingest = CrlIngest::new(&expected, &truststore);
        let started = std::time::Instant::now();
        let fetched = self
            .fetcher
            .fetch_to(&cached.source, previous.as_ref(), &mut ingest, pace)
            .await;
        let mut now = self.clock.now();
        let (result, validator) = match fetched {
            Ok(Streamed::NotModified) => {
                tracing::debug!(event = "not_modified", source = %cached.source);
                cached.write(|s| s.confirm(now, None));
                return (RefreshOutcome::Unchanged, None);
            }
            Ok(Streamed::Body(validator)) => {
                // Sorting the index (tens of milliseconds of CPU for a
                // million entries) is done a bucket at a time, at the same
                // pace, so requests run in between.
                let mut pacer = Pacer::new(pace);
                loop {
                    let step = std::time::Instant::now();
                    if !ingest.prepare_step() {
                        break;
                    }
                    pacer.rest(step.elapsed()).await;
                }
                // The same time verifies the CRL and installs it.
                now = self.clock.now();
                (ingest.finish(now, self.config.crl_time_policy()), validator)
            }
            Err(e) if e.is_fetch_failure() => {
                let kept = cached.read(|s| {
                    s.current()
                        .and_then(|set| set.newest())
                        .map(|c| c.next_update())
                });
                tracing::warn!(
                    event = "crl_refresh_failed",
                    issuer = %rule.name,
                    source = %cached.source,
                    error = %e,
                    kept_until = kept.map(|t| t.offset(self.config.crl_grace_seconds).to_string()),
                    "CRL refresh failed; the last good CRL stays in use until nextUpdate + grace"
                );
                let cause = Cause::of(&e);
                cached.write(|s| s.fail(now, e));
                return (RefreshOutcome::Failed(cause), None);
            }
            // Refused while it streamed in (wrong issuer, malformed, too large
            // where no real CRL is): the rest was never downloaded.
            Err(e) => (Err(e), Validator::default()),
        };
        let load_ms = started.elapsed().as_secs_f64() * 1e3;
        let offered = {
            let mut guard = lock(&self.rollback);
            cached.write(|s| {
                s.offer_crl(
                    now,
                    result,
                    validator,
                    &mut guard,
                    self.config.crl_grace_seconds,
                )
            })
        };
        match offered {
            Ok(Offered::Installed) => {
                if let Some(crl) = cached.current().and_then(|set| set.newest().cloned()) {
                    tracing::info!(
                        event = "crl_loaded",
                        issuer = %rule.name,
                        source = %cached.source,
                        entries = crl.revoked().len(),
                        crl_number = crl.number().map(|n| n.to_hex()),
                        scope = %crl.scope(),
                        signer = %crl.signer(),
                        this_update = %crl.this_update(),
                        next_update = %crl.next_update(),
                        load_ms,
                        "CRL verified and loaded"
                    );
                }
                (RefreshOutcome::Installed, Some(load_ms))
            }
            Ok(Offered::Unchanged) => {
                tracing::debug!(
                    event = "crl_unchanged",
                    issuer = %rule.name,
                    source = %cached.source,
                    "the source served the CRL already in use"
                );
                (RefreshOutcome::Unchanged, None)
            }
            Err(e) => {
                tracing::warn!(
                    event = "crl_rejected",
                    issuer = %rule.name,
                    source = %cached.source,
                    error = %e,
                    "CRL rejected; the last good CRL stays in use"
                );
                (RefreshOutcome::Failed(Cause::of(&e)), None)
            }
        }
    }
}

/// Limits for fetching the configuration document itself.
pub const CONFIG_FETCH_LIMITS: Limits = Limits {
    timeout: Duration::from_secs(10),
    max_bytes: 1024 * 1024,
};

/// Reads `AUTHORIZER_CONFIG`: inline JSON (starting with `{`), or a
/// `file://`, `s3://` or `https://` URI of a JSON document, fetched with
/// `fetcher` (whose clients the authorizer then reuses).
pub async fn load_config(value: Option<&str>, fetcher: &Fetcher) -> Result<Config> {
    let value = value.map(str::trim).filter(|v| !v.is_empty()).ok_or_else(|| {
        Error::Config("AUTHORIZER_CONFIG is not set: give inline JSON or a file://, s3:// or https:// URI".into())
    })?;
    if value.starts_with('{') {
        return Config::from_json(value);
    }
    let uri =
        SourceUri::parse(value).map_err(|e| Error::Config(format!("AUTHORIZER_CONFIG: {e}")))?;
    match fetcher.fetch(&uri, None).await? {
        Fetched::Body { bytes, .. } => {
            let text = String::from_utf8(bytes)
                .map_err(|_| Error::Config(format!("{uri} is not UTF-8 JSON")))?;
            Config::from_json(&text)
        }
        Fetched::NotModified => Err(Error::Config(format!("{uri}: unexpected 304"))),
    }
}

impl Authorizer {
    /// Builds the state and loads the truststore and every fixed CRL.
    ///
    /// Fails if the truststore cannot be loaded: without it no CRL can be
    /// verified and no issuer signature checked. A CRL that cannot be loaded
    /// is only logged: the certificates it would cover get `crl_unavailable`
    /// until a later refresh succeeds, while other CRLs keep working.
    pub async fn start(
        config: Config,
        clock: Arc<dyn Clock>,
        http_api_response: HttpApiResponse,
    ) -> Result<Self> {
        let fetcher = Fetcher::new(Self::fetch_limits(&config))?;
        Self::start_with(config, fetcher, clock, http_api_response).await
    }

    /// The fetch limits a configuration asks for.
    #[must_use]
    pub fn fetch_limits(config: &Config) -> Limits {
        Limits {
            timeout: Duration::from_secs(config.fetch_timeout_seconds),
            max_bytes: config.max_fetch_bytes,
        }
    }

    /// [`Authorizer::start`] with a given fetcher.
    pub async fn start_with(
        config: Config,
        fetcher: Fetcher,
        clock: Arc<dyn Clock>,
        http_api_response: HttpApiResponse,
    ) -> Result<Self> {
        Self::start_with_telemetry(
            config,
            fetcher,
            clock,
            http_api_response,
            Telemetry::discard(),
        )
        .await
    }

    /// [`Authorizer::start_with`], writing the EMF lines (decisions, CRL
    /// refreshes, the truststore's expiry) to `telemetry`, from the cold
    /// start's loads on.
    pub async fn start_with_telemetry(
        config: Config,
        fetcher: Fetcher,
        clock: Arc<dyn Clock>,
        http_api_response: HttpApiResponse,
        telemetry: Telemetry,
    ) -> Result<Self> {
        let fetcher = fetcher.with_limits(Self::fetch_limits(&config));
        let max_cdp =
            NonZeroUsize::new(config.max_cdp_crls_per_issuer).unwrap_or(NonZeroUsize::MIN);
        let crls: Vec<IssuerCrls> = config
            .issuers
            .iter()
            .map(|rule| IssuerCrls::for_rule(&rule.revocation, max_cdp))
            .collect();
        // Room for every sequence the sources can hold; the guard allocates
        // only as they come.
        let sources = crls.iter().map(IssuerCrls::capacity).sum::<usize>();
        let rollback = RollbackGuard::new(
            NonZeroUsize::new(sources.saturating_mul(MAX_SEQUENCES_PER_SOURCE).max(16))
                .unwrap_or(NonZeroUsize::MIN),
        );
        let config = Arc::new(config);
        let fetcher = Arc::new(fetcher);
        let this = Self {
            truststore: Cached::new(config.truststore.clone()),
            refresher: CrlRefresher {
                config: Arc::clone(&config),
                fetcher: Arc::clone(&fetcher),
                clock: Arc::clone(&clock),
                rollback: Arc::new(Mutex::new(rollback)),
                telemetry: telemetry.clone(),
            },
            telemetry,
            config,
            fetcher,
            clock,
            http_api_response,
            crls,
            background_pace: Pace::Full,
            background: Mutex::new(Vec::new()),
        };
        let now = this.clock.now();
        this.refresh_truststore(now).await;
        if let Some(e) = this
            .truststore
            .read(|s| s.current().is_none().then(|| s.last_error().cloned()))
        {
            let e = e.unwrap_or_else(|| Error::Truststore("not loaded".into()));
            return Err(Error::Truststore(format!(
                "cannot start without the truststore: {e}"
            )));
        }
        this.warn_about_issuers_without_ca();
        // Cold start: every fixed CRL at full speed, before the first event.
        let truststore = this.truststore.current();
        let refresher = &this.refresher;
        let loads = this
            .crls
            .iter()
            .enumerate()
            .flat_map(|(index, crls)| crls.slots().into_iter().map(move |slot| (index, slot)))
            .map(|(index, slot)| {
                let truststore = truststore.clone();
                async move {
                    let _single_flight = slot.refreshing.lock().await;
                    refresher.run(index, &slot, truststore, Pace::Full).await;
                }
            });
        futures_util::future::join_all(loads).await;
        Ok(this)
    }

    /// Sets how fast refreshes that run behind the requests may work (see
    /// [`Pace`]); cold-start loads and requests that must wait always run at
    /// full speed.
    #[must_use]
    pub fn with_background_pace(self, pace: Pace) -> Self {
        Self {
            background_pace: pace,
            ..self
        }
    }

    /// Waits until the refreshes running behind the requests so far have
    /// finished: for tests and benchmarks, which then see their outcome.
    pub async fn settle(&self) {
        let running = std::mem::take(&mut *lock(&self.background));
        for task in running {
            // A refresh that panicked left the last good CRL in place.
            let _ = task.await;
        }
    }

    fn warn_about_issuers_without_ca(&self) {
        // Not fatal: the bundle may gain the CA on a later refresh.
        let Some(ts) = self.truststore.current() else {
            return;
        };
        for rule in &self.config.issuers {
            if !ts.has_ca_matching(|name| crate::decision::issuer_name_matches(rule, name)) {
                tracing::warn!(
                    event = "issuer_without_ca",
                    issuer = %rule.name,
                    "no truststore CA matches this issuer entry: its certificates are denied (issuer_not_allowed) until the truststore holds the CA"
                );
            }
        }
    }

    /// The state of every CRL source of issuer entry `index`, for health
    /// checks and tests: the `crl` list in order, or the CRLs found through
    /// `crl_from_cdp`, most recently used first.
    #[must_use]
    pub fn crl_sources(&self, index: usize) -> Vec<CrlStatus> {
        let Some(crls) = self.crls.get(index) else {
            return Vec::new();
        };
        crls.slots()
            .iter()
            .map(|cached| {
                cached.read(|s| {
                    let newest = s.current().and_then(|set| set.newest());
                    CrlStatus {
                        source: cached.source.to_string(),
                        entries: newest.map(|c| c.revoked().len()),
                        number: newest.and_then(|c| c.number().map(|n| n.to_hex())),
                        next_update: newest.map(|c| c.next_update()),
                        scope: newest.map(|c| c.scope().to_string()),
                        signer: newest.map(|c| c.signer().to_string()),
                        sequences: s.current().map_or(0, |set| set.iter().count()),
                        installs: s.installs(),
                        last_error: s.last_error().cloned(),
                        refreshing: cached.refreshing.try_lock().is_err(),
                    }
                })
            })
            .collect()
    }

    /// The configuration in force.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    fn schedule_for_crls(&self) -> Schedule {
        Schedule {
            refresh_seconds: self.config.crl_refresh_seconds,
            retry_seconds: self.config.crl_retry_seconds,
        }
    }

    async fn refresh_truststore(&self, now: UnixTime) {
        let schedule = Schedule {
            refresh_seconds: self.config.truststore_refresh_seconds,
            retry_seconds: self.config.crl_retry_seconds,
        };
        let cached = &self.truststore;
        let warn = |e: &Error| {
            tracing::warn!(event = "truststore_refresh_failed", source = %cached.source, error = %e,
                "truststore refresh failed; keeping the last good truststore");
        };
        let due = cached.read(|s| s.is_due(now, schedule));
        let changed = match cached.fetch_if_changed(&self.fetcher, now, schedule).await {
            None => {
                // Checked and unchanged: the line still goes out, so the
                // CA-expiry alarm keeps getting data points between loads.
                if due {
                    self.truststore_metrics(now);
                }
                return;
            }
            Some(Ok(changed)) => changed,
            Some(Err(e)) => return warn(&e), // already recorded
        };
        let Changed {
            bytes,
            validator,
            sha256,
            ..
        } = changed;
        match TrustStore::from_pem(&bytes) {
            Ok(ts) => {
                tracing::info!(
                    event = "truststore_loaded",
                    source = %cached.source,
                    cas = ts.len(),
                    sha256 = %hex::encode(sha256),
                    "truststore loaded"
                );
                for (subject, why) in ts.unsupported() {
                    tracing::warn!(
                        event = "truststore_ca_unsupported",
                        subject = %bounded(subject),
                        error = %why,
                        "this CA's key cannot be checked: certificates and CRLs it signed are refused"
                    );
                }
                cached.write(|s| s.install(now, ts, validator, sha256));
                self.truststore_metrics(now);
            }
            Err(e) => {
                warn(&e);
                cached.write(|s| s.fail(now, e));
            }
        }
    }

    /// The `truststore_metrics` line of the truststore in use.
    fn truststore_metrics(&self, now: UnixTime) {
        let Some(ts) = self.truststore.current() else {
            return;
        };
        let Some(first_expiry) = ts.first_expiry() else {
            return;
        };
        let source = self.truststore.source.to_string();
        let line = TruststoreRecord {
            time: now,
            source: &source,
            cas: ts.len(),
            first_expiry,
        }
        .to_line(&self.telemetry.namespace);
        self.telemetry.emit(&line);
    }

    /// Starts the refresh of `slot` (a source of the certificate `matched`)
    /// if it is due. When the slot holds a CRL that covers the certificate
    /// and is still usable at `now`, the refresh runs behind the requests
    /// (stale-while-revalidate): the request is answered at once with the
    /// CRL in force, and the new CRL replaces it atomically once verified.
    /// Otherwise there is nothing to answer with, and the returned future,
    /// which the request awaits, refreshes at full speed (joining a refresh
    /// already running, if any).
    fn refresh_crl(
        &self,
        matched: &Matched<'_, '_>,
        slot: &CrlSlot,
        now: UnixTime,
    ) -> Option<impl Future<Output = ()> + use<'_>> {
        let schedule = self.schedule_for_crls();
        if !slot.read(|s| s.is_due(now, schedule)) {
            return None;
        }
        let rule_index = matched.rule_index();
        let grace = self.config.crl_grace_seconds;
        let in_force = slot.read(|s| {
            s.current().is_some_and(|set| {
                set.iter().any(|c| {
                    c.check_usable(now, grace).is_ok()
                        && c.covers(matched.cert(), matched.signer()) == Coverage::Covers
                })
            })
        });
        let truststore = self.truststore.current();
        if in_force {
            // Already refreshing: nothing more to start.
            let single_flight = Arc::clone(&slot.refreshing).try_lock_owned().ok()?;
            let refresher = self.refresher.clone();
            let slot = Arc::clone(slot);
            let pace = self.background_pace;
            let task = tokio::spawn(async move {
                let _single_flight = single_flight;
                refresher.run(rule_index, &slot, truststore, pace).await;
            });
            let mut running = lock(&self.background);
            running.retain(|t| !t.is_finished());
            running.push(task);
            return None;
        }
        let slot = Arc::clone(slot);
        Some(async move {
            let wait = self.fetcher.limits().timeout;
            let Ok(_single_flight) = tokio::time::timeout(wait, slot.refreshing.lock()).await
            else {
                return;
            };
            // A refresh that was running may just have installed a CRL.
            if slot.read(|s| s.is_due(self.clock.now(), schedule)) {
                self.refresher
                    .run(rule_index, &slot, truststore, Pace::Full)
                    .await;
            }
        })
    }

    /// The CRL sources a matched certificate is checked against: the entry's
    /// `crl` list, or the sources its distribution points name within
    /// `crl_from_cdp` (created on first use). `Err` explains why there are
    /// none for a certificate that needs one.
    fn sources_for(&self, matched: &Matched<'_, '_>) -> std::result::Result<Vec<CrlSlot>, String> {
        let (Some(IssuerCrls::FromCdp(lru)), Revocation::FromCdp(policy)) =
            (self.crls.get(matched.rule_index()), matched.revocation())
        else {
            return Ok(self
                .crls
                .get(matched.rule_index())
                .map(IssuerCrls::slots)
                .unwrap_or_default());
        };
        let mut slots: Vec<CrlSlot> = Vec::new();
        let mut refused = None;
        for uri in matched.cert().crl_uris() {
            let source = match policy.source_for(uri) {
                CdpSource::Fetch(source) => source,
                CdpSource::NotAllowed => {
                    refused = Some(format!(
                        "the CRL distribution point {} is outside every crl_from_cdp prefix, so it is not fetched",
                        bounded(uri)
                    ));
                    continue;
                }
                CdpSource::Unsafe => {
                    refused = Some(format!(
                        "the CRL distribution point {} is not a plain path below its prefix, so it is not fetched",
                        bounded(uri)
                    ));
                    continue;
                }
            };
            let mut lru = lock(lru);
            let slot = match lru.get(&source) {
                Some(slot) => Arc::clone(slot),
                None => {
                    let slot = Arc::new(Cached::new(source.clone()));
                    if let Some((evicted, _)) = lru.push(source, Arc::clone(&slot)) {
                        tracing::info!(
                            event = "crl_evicted",
                            issuer = %matched.identity().issuer.as_deref().unwrap_or_default(),
                            source = %evicted,
                            "max_cdp_crls_per_issuer reached: the least recently used CRL was dropped"
                        );
                    }
                    slot
                }
            };
            if !slots.iter().any(|s| Arc::ptr_eq(s, &slot)) {
                slots.push(slot);
            }
        }
        if slots.is_empty() {
            return Err(refused.unwrap_or_else(|| {
                "the certificate names no CRL distribution point, and the issuer entry uses crl_from_cdp".to_owned()
            }));
        }
        Ok(slots)
    }

    /// Decides one request's certificate.
    pub async fn decide(&self, client_cert_pem: Option<&str>) -> Outcome {
        let now = self.clock.now();
        let der = match certificate_der(client_cert_pem) {
            Ok(der) => der,
            Err(deny) => return Outcome::plain(deny),
        };
        self.refresh_truststore(now).await;
        let Some(truststore) = self.truststore.current() else {
            let deny = Decision::deny(
                DenyReason::InternalError,
                &Identity::default(),
                "truststore not loaded",
            );
            return Outcome::plain(deny);
        };
        let engine = Engine::new(&self.config, &truststore);
        let matched = match engine.check_certificate(&der, now) {
            Ok(m) => m,
            Err(deny) => return Outcome::plain(deny),
        };
        let sources = match self.sources_for(&matched) {
            Ok(sources) => sources,
            Err(why) => {
                let deny = Decision::deny(DenyReason::CrlUnavailable, matched.identity(), why);
                return Outcome::plain(deny);
            }
        };
        let waits: Vec<_> = sources
            .iter()
            .filter_map(|slot| self.refresh_crl(&matched, slot, now))
            .collect();
        if !waits.is_empty() {
            futures_util::future::join_all(waits).await;
        }
        let sets: Vec<Arc<CrlSet>> = sources.iter().filter_map(|s| s.current()).collect();
        let crls = sets.iter().flat_map(|set| set.iter().map(Arc::as_ref));
        let answer = engine.check_revocation(matched, crls, now, || unavailable_detail(&sources));
        Outcome {
            decision: answer.decision,
            crl_age_seconds: answer.crl_this_update.map(|t| now.seconds_since(t)),
        }
    }

    /// Handles one Lambda event: never fails, never panics on input. Anything
    /// unexpected is a Deny.
    pub async fn handle(&self, event: &Value) -> Value {
        self.handle_invocation(event, &Invocation::default()).await
    }

    /// [`Authorizer::handle`], with the runtime's request and trace ids for
    /// the decision line.
    pub async fn handle_invocation(&self, event: &Value, invocation: &Invocation) -> Value {
        let started = std::time::Instant::now();
        let kind = EventKind::detect(event);
        let outcome = match kind {
            EventKind::Unknown => Outcome::plain(Decision::deny(
                DenyReason::InternalError,
                &Identity::default(),
                "unrecognized event: expected a REST or HTTP API REQUEST authorizer event",
            )),
            _ => self.decide(kind.client_cert_pem(event)).await,
        };
        let response = kind.response(
            &outcome.decision,
            self.config.policy_resource,
            self.http_api_response,
        );
        let (api_request_id, api_extended_request_id) = EventKind::api_request_ids(event);
        let ids = RequestIds {
            lambda_request_id: request_id(invocation.request_id.as_deref()),
            api_request_id,
            api_extended_request_id,
            trace_id: request_id(invocation.trace_id.as_deref()),
        };
        self.log_decision(&outcome, &ids, started.elapsed());
        response
    }

    /// The decision line, which is also the `Decisions` and
    /// `DecisionLatency` metrics. Never the PEM.
    fn log_decision(&self, outcome: &Outcome, ids: &RequestIds, took: Duration) {
        let id = outcome.decision.identity();
        let (reason, detail) = match &outcome.decision {
            Decision::Allow(_) => (None, None),
            Decision::Deny { reason, detail, .. } => (Some(reason.as_str()), Some(detail.as_str())),
        };
        let line = DecisionRecord {
            time: self.clock.now(),
            issuer: id.issuer.as_deref(),
            allowed: outcome.decision.is_allow(),
            reason,
            latency_ms: took.as_secs_f64() * 1e3,
            serial: &id.serial_number,
            subject: &id.subject_dn,
            fingerprint: &id.fingerprint_sha256,
            crl_age_seconds: outcome.crl_age_seconds,
            detail,
            ids,
        }
        .to_line(&self.telemetry.namespace);
        self.telemetry.emit(&line);
    }
}

/// Why no CRL is available from `sources`: the latest error of each (the
/// first few), or that none has loaded yet.
fn unavailable_detail(sources: &[CrlSlot]) -> String {
    const SHOWN: usize = 3;
    let errors: Vec<String> = sources
        .iter()
        .filter_map(|c| c.read(|s| s.last_error().map(|e| format!("{}: {e}", c.source))))
        .take(SHOWN)
        .collect();
    if errors.is_empty() {
        let loaded = sources.iter().filter(|c| c.current().is_some()).count();
        return format!(
            "{loaded} of {} CRL source(s) of this issuer loaded",
            sources.len()
        );
    }
    errors.join("; ")
}
