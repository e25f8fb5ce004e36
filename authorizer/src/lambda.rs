//! The Lambda adapter: API Gateway authorizer events in, policies out, and the
//! process-wide state (truststore and CRL caches) that lives across invocations.
//!
//! - [`events`](EventKind): the REST and HTTP API event formats and the answers;
//! - [`error`](StartError): why the cold start stops;
//! - `refresh`: single-flight caches and the CRL refresher;
//! - `state`: one `IssuerState` per issuer entry, and what a decision reports;
//! - [`telemetry`](Telemetry): where the EMF lines go.
//!
//! Why one module: `Authorizer` is the process-wide state, and its
//! cold start, its CRL-source selection and the one decision path
//! (`Authorizer::decide`) share its fields; the event formats, refresh,
//! per-issuer state and telemetry are already the submodules above.

use refresh::{Cached, Changed, CrlRefresher};
use state::{CrlSlot, IssuerCrls, IssuerState, lock};

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lru::LruCache;
use serde_json::Value;

use crate::fetch::{Fetcher, Limits, Pace};
use mtls_policy::cache::{
    CrlSet, MAX_CRL_SEQUENCES, MAX_SEQUENCES_PER_SOURCE, RollbackGuard, Schedule,
};
use mtls_policy::config::{
    CdpSource, Config, ConfigProblem, DeltaPolicy, IssuerRule, RequestRoute, Revocation,
};
use mtls_policy::decision::{
    CaCheck, Decision, DenyReason, Engine, Identity, Matched, certificate_der,
};
use mtls_policy::metrics::{DecisionRecord, RequestIds, TruststoreRecord, request_id};
use mtls_policy::source::{Fetched, SourceUri};
use mtls_x509::crl::{Coverage, CrlPurpose};
use mtls_x509::error::bounded;
use mtls_x509::time::{Clock, SystemClock, UnixTime};
use mtls_x509::truststore::TrustStore;

mod deny_list;
mod error;
mod events;
mod ocsp;
mod refresh;
mod state;
mod telemetry;

use deny_list::{DenyListCache, DenyListRefresher};
pub use error::{CrlRefreshError, DenyListRefreshError, RefreshError, StartError};
pub use events::{EventKind, HttpApiResponse, RoutePolicies};
pub use state::{CrlStatus, DenyListStatus, Outcome};
pub use telemetry::{Discard, Invocation, LineSink, Stdout, Telemetry};

/// The authorizer's process-wide state: configuration, fetcher, clock, and
/// the cached truststore and CRLs. Built once at cold start.
#[derive(Debug)]
pub struct Authorizer {
    config: Arc<Config>,
    fetcher: Arc<Fetcher>,
    clock: Arc<dyn Clock>,
    http_api_response: HttpApiResponse,
    truststore: Cached<TrustStore>,
    /// One per issuer entry, in the configuration's order (the engine's
    /// `rule_index`).
    issuers: Vec<IssuerState>,
    /// One per `ca_revocation` entry, in order.
    ca_issuers: Vec<IssuerState>,
    refresher: CrlRefresher,
    /// What OCSP exchanges need.
    ocsp_asker: ocsp::OcspAsker,
    /// Stage-wide route policies, rendered once per entry and stage.
    route_policies: RoutePolicies,
    /// The operator deny list, when one is configured.
    deny_list: Option<DenyListCache>,
    deny_list_refresher: DenyListRefresher,
    /// How fast a refresh that runs behind the requests may work.
    background_pace: Pace,
    /// The refreshes running behind the requests (see [`Authorizer::settle`]).
    background: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    telemetry: Telemetry,
}

/// Builds an [`Authorizer`]: [`Authorizer::builder`], the setters a caller
/// needs, then [`AuthorizerBuilder::start`]. Unset, the fetcher is built from
/// the configuration's limits, the clock is the system's, HTTP API answers
/// are simple responses, metrics are discarded and background refreshes run
/// at full speed.
#[must_use = "an AuthorizerBuilder does nothing until `start` is awaited"]
#[derive(Debug)]
pub struct AuthorizerBuilder {
    config: Config,
    fetcher: Option<Fetcher>,
    clock: Arc<dyn Clock>,
    http_api_response: HttpApiResponse,
    telemetry: Telemetry,
    background_pace: Pace,
}

impl AuthorizerBuilder {
    /// Fetches with this fetcher's clients (its limits are replaced by the
    /// configuration's): the one that read the configuration, or a test's.
    pub fn fetcher(self, fetcher: Fetcher) -> Self {
        Self {
            fetcher: Some(fetcher),
            ..self
        }
    }

    /// Reads the time from `clock` (a test's manual clock).
    pub fn clock(self, clock: Arc<dyn Clock>) -> Self {
        Self { clock, ..self }
    }

    /// Answers HTTP API (payload 2.0) events in this shape.
    pub fn http_api_response(self, http_api_response: HttpApiResponse) -> Self {
        Self {
            http_api_response,
            ..self
        }
    }

    /// Writes the EMF lines (decisions, CRL refreshes, the truststore's
    /// expiry) to `telemetry`, from the cold start's loads on.
    pub fn telemetry(self, telemetry: Telemetry) -> Self {
        Self { telemetry, ..self }
    }

    /// How fast refreshes that run behind the requests may work (see
    /// [`Pace`]); cold-start loads and requests that must wait always run at
    /// full speed.
    pub fn background_pace(self, background_pace: Pace) -> Self {
        Self {
            background_pace,
            ..self
        }
    }

    /// Builds the state and loads the truststore and every fixed CRL.
    ///
    /// Fails if the truststore cannot be loaded: without it no CRL can be
    /// verified and no issuer signature checked. A CRL that cannot be loaded
    /// is only logged: the certificates it would cover get `crl_unavailable`
    /// until a later refresh succeeds, while other CRLs keep working.
    pub async fn start(self) -> Result<Authorizer, StartError> {
        Authorizer::start(self).await
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
pub async fn load_config(value: Option<&str>, fetcher: &Fetcher) -> Result<Config, StartError> {
    let value = value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or(StartError::ConfigNotSet)?;
    if value.starts_with('{') {
        return parse_config(value);
    }
    let uri = SourceUri::parse(value).map_err(StartError::ConfigUri)?;
    match fetcher
        .fetch(&uri, None)
        .await
        .map_err(StartError::ConfigFetch)?
    {
        Fetched::Body { bytes, .. } => {
            let text = String::from_utf8(bytes).map_err(|_| StartError::ConfigNotUtf8 {
                uri: uri.to_string(),
            })?;
            parse_config(&text)
        }
        Fetched::NotModified => Err(StartError::ConfigNotModified {
            uri: uri.to_string(),
        }),
    }
}

/// [`Config::from_json`], with serde's own words for a document that is not
/// JSON of the configuration's shape: this edge holds the document, so an
/// operator learns which field is unknown, not only where.
fn parse_config(text: &str) -> Result<Config, StartError> {
    Config::from_json(text).map_err(|error| StartError::Config {
        error,
        detail: matches!(error.problem, ConfigProblem::Json { .. })
            .then(|| mtls_policy::config::json_detail(text))
            .flatten(),
    })
}

impl Authorizer {
    /// The one way to build an [`Authorizer`]: the configuration, and what
    /// a caller may set beside it (see [`AuthorizerBuilder`]).
    pub fn builder(config: Config) -> AuthorizerBuilder {
        AuthorizerBuilder {
            config,
            fetcher: None,
            clock: Arc::new(SystemClock),
            http_api_response: HttpApiResponse::default(),
            telemetry: Telemetry::discard(),
            background_pace: Pace::Full,
        }
    }

    /// The fetch limits a configuration asks for.
    #[must_use]
    pub fn fetch_limits(config: &Config) -> Limits {
        Limits {
            timeout: Duration::from_secs(config.fetch_timeout_seconds()),
            max_bytes: config.max_fetch_bytes(),
        }
    }

    /// Builds the state and loads the truststore and every fixed CRL (see
    /// [`AuthorizerBuilder::start`]).
    async fn start(b: AuthorizerBuilder) -> Result<Self, StartError> {
        let AuthorizerBuilder {
            config,
            fetcher,
            clock,
            http_api_response,
            telemetry,
            background_pace,
        } = b;
        let fetcher = match fetcher {
            Some(f) => f.with_limits(Self::fetch_limits(&config)),
            None => Fetcher::new(Self::fetch_limits(&config)).map_err(StartError::Fetcher)?,
        };
        let fetcher = fetcher.with_limits(Self::fetch_limits(&config));
        let max_cdp =
            NonZeroUsize::new(config.max_cdp_crls_per_issuer()).unwrap_or(NonZeroUsize::MIN);
        let issuers: Vec<IssuerState> = config
            .issuers()
            .iter()
            .map(|rule| IssuerState::new(rule, max_cdp, CrlPurpose::EndEntities))
            .collect();
        let ca_issuers: Vec<IssuerState> = config
            .ca_revocation()
            .iter()
            .map(|rule| IssuerState::new(rule, max_cdp, CrlPurpose::CaCertificates))
            .collect();
        // Room for every sequence the sources can hold; the guard allocates
        // only as they come.
        let sources = issuers
            .iter()
            .chain(&ca_issuers)
            .map(|i| i.crls.capacity())
            .sum::<usize>();
        // Never fewer than MAX_CRL_SEQUENCES: the guard forgets no live
        // sequence, so a full one refuses new sequences (fail closed).
        let rollback = RollbackGuard::new(
            NonZeroUsize::new(
                sources
                    .saturating_mul(MAX_SEQUENCES_PER_SOURCE)
                    .max(MAX_CRL_SEQUENCES),
            )
            .unwrap_or(NonZeroUsize::MIN),
        );
        let config = Arc::new(config);
        let fetcher = Arc::new(fetcher);
        let this = Self {
            deny_list: config.deny_list().map(DenyListCache::new),
            deny_list_refresher: DenyListRefresher {
                fetcher: Arc::clone(&fetcher),
                clock: Arc::clone(&clock),
                telemetry: telemetry.clone(),
            },
            truststore: Cached::new(config.truststore().clone()),
            refresher: CrlRefresher {
                config: Arc::clone(&config),
                fetcher: Arc::clone(&fetcher),
                clock: Arc::clone(&clock),
                rollback: Arc::new(Mutex::new(rollback)),
                telemetry: telemetry.clone(),
            },
            route_policies: RoutePolicies::default(),
            ocsp_asker: ocsp::OcspAsker {
                fetcher: Arc::clone(&fetcher),
                clock: Arc::clone(&clock),
                telemetry: telemetry.clone(),
                clock_skew_seconds: config.clock_skew_seconds(),
            },
            telemetry,
            config,
            fetcher,
            clock,
            http_api_response,
            issuers,
            ca_issuers,
            background_pace,
            background: Mutex::new(Vec::new()),
        };
        let now = this.clock.now();
        this.refresh_truststore(now).await;
        if let Some(e) = this
            .truststore
            .read(|s| s.current().is_none().then(|| s.last_error().cloned()))
        {
            return Err(StartError::Truststore(
                e.unwrap_or(CrlRefreshError::NoTruststore),
            ));
        }
        this.warn_about_issuers_without_ca();
        // Cold start: every fixed CRL at full speed, before the first event.
        let truststore = this.truststore.current();
        let refresher = &this.refresher;
        let loads = this
            .issuers
            .iter()
            .chain(&this.ca_issuers)
            .flat_map(|issuer| {
                issuer
                    .crls
                    .slots()
                    .into_iter()
                    .map(move |slot| (issuer, slot))
            })
            .map(|(issuer, slot)| {
                let truststore = truststore.clone();
                async move {
                    let _single_flight = slot.refreshing.lock().await;
                    refresher
                        .run(&issuer.rule, issuer.purpose, &slot, truststore, Pace::Full)
                        .await;
                }
            });
        // The deny list loads beside the CRLs. One that cannot be loaded
        // does not stop the cold start: every request is denied
        // deny_list_unavailable until a later request's refresh loads it.
        let deny_list = async {
            if let Some(list) = &this.deny_list {
                list.load(&this.deny_list_refresher).await;
            }
        };
        futures_util::future::join(futures_util::future::join_all(loads), deny_list).await;
        Ok(this)
    }

    /// Waits until the refreshes running behind the requests so far have
    /// finished: for tests and benchmarks, which then see their outcome.
    #[cfg(feature = "test-support")]
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
        for rule in self.issuers.iter().map(|i| &i.rule) {
            if !ts.has_ca_matching(|name| mtls_policy::decision::issuer_name_matches(rule, name)) {
                tracing::warn!(
                    event = "issuer_without_ca",
                    issuer = %rule.name(),
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
        let Some(issuer) = self.issuers.get(index) else {
            return Vec::new();
        };
        issuer
            .crls
            .slots()
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

    /// The deny list's state, for health checks and tests: `None` when no
    /// deny list is configured.
    #[must_use]
    pub fn deny_list_status(&self) -> Option<DenyListStatus> {
        let list = self.deny_list.as_ref()?;
        let now = self.clock.now();
        Some(list.cached.read(|s| DenyListStatus {
            source: list.cached.source.to_string(),
            sequence: s.current().map(|l| l.sequence()),
            entries: s.current().map(|l| l.len()),
            confirmed: s.confirmed(),
            in_force: list.in_force(now).is_some(),
            installs: s.installs(),
            last_error: s.last_error().cloned(),
        }))
    }

    /// The configuration in force.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    fn schedule_for_crls(&self) -> Schedule {
        Schedule {
            refresh_seconds: self.config.crl_refresh_seconds(),
            retry_seconds: self.config.crl_retry_seconds(),
        }
    }

    async fn refresh_truststore(&self, now: UnixTime) {
        let schedule = Schedule {
            refresh_seconds: self.config.truststore_refresh_seconds(),
            retry_seconds: self.config.crl_retry_seconds(),
        };
        let cached = &self.truststore;
        let warn = |e: &dyn std::fmt::Display| {
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
                cached.write(|s| s.fail(now, e.into()));
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

    /// Starts the refresh of `slot`, a source of issuer state `issuer`, if
    /// it is due. When the slot holds a CRL that covers the certificate at
    /// hand and is still usable at `now` (`in_force`), the refresh runs
    /// behind the requests (stale-while-revalidate): the request is answered
    /// at once with the CRL in force, and the new CRL replaces it atomically
    /// once verified. Otherwise there is nothing to answer with, and the
    /// returned future, which the request awaits, refreshes at full speed
    /// (joining a refresh already running, if any).
    /// Keeps a refresh running behind the requests, for [`Authorizer::settle`].
    fn track(&self, task: tokio::task::JoinHandle<()>) {
        let mut running = lock(&self.background);
        running.retain(|t| !t.is_finished());
        running.push(task);
    }

    fn crl_due(&self, slot: &CrlSlot, now: UnixTime) -> bool {
        slot.read(|s| s.is_due(now, self.schedule_for_crls()))
    }

    fn refresh_due_crl(
        &self,
        issuer: &IssuerState,
        slot: &CrlSlot,
        in_force: bool,
    ) -> Option<impl Future<Output = ()> + use<'_>> {
        let schedule = self.schedule_for_crls();
        let rule = Arc::clone(&issuer.rule);
        let purpose = issuer.purpose;
        let truststore = self.truststore.current();
        if in_force {
            // Already refreshing: nothing more to start.
            let single_flight = Arc::clone(&slot.refreshing).try_lock_owned().ok()?;
            let refresher = self.refresher.clone();
            let slot = Arc::clone(slot);
            let pace = self.background_pace;
            let task = tokio::spawn(async move {
                let _single_flight = single_flight;
                refresher.run(&rule, purpose, &slot, truststore, pace).await;
            });
            self.track(task);
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
                    .run(&rule, purpose, &slot, truststore, Pace::Full)
                    .await;
            }
        })
    }

    /// The CRL sources a matched certificate is checked against: the entry's
    /// `crl` list, or the sources its distribution points name within
    /// `crl_from_cdp` (created on first use). `Err` explains why there are
    /// none for a certificate that needs one.
    fn sources_for(&self, matched: &Matched<'_, '_>) -> Result<Vec<CrlSlot>, String> {
        let Some(issuer) = self.issuers.get(matched.rule_index()) else {
            return Ok(Vec::new());
        };
        Self::slots_for(issuer, matched.cert().crl_uris())
    }

    /// The CRL sources of issuer state `issuer` for a certificate whose
    /// cRLDistributionPoints name `crl_uris`: the fixed `crl` list, or the
    /// sources those URIs name within `crl_from_cdp`.
    fn slots_for<S: AsRef<str>>(
        issuer: &IssuerState,
        crl_uris: &[S],
    ) -> Result<Vec<CrlSlot>, String> {
        let (IssuerCrls::FromCdp(lru), Revocation::FromCdp(policy)) =
            (&issuer.crls, issuer.rule.revocation())
        else {
            return Ok(issuer.crls.slots());
        };
        let mut slots: Vec<CrlSlot> = Vec::new();
        let mut refused = None;
        for uri in crl_uris.iter().map(AsRef::as_ref) {
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
            let slot = Self::cdp_slot(issuer, lru, source);
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

    /// The slot of `source` in a `crl_from_cdp` entry's LRU, created on
    /// first use (dropping the least recently used beyond the cap).
    fn cdp_slot(
        issuer: &IssuerState,
        lru: &Mutex<LruCache<SourceUri, CrlSlot>>,
        source: SourceUri,
    ) -> CrlSlot {
        let mut lru = lock(lru);
        if let Some(slot) = lru.get(&source) {
            return Arc::clone(slot);
        }
        let slot = Arc::new(Cached::new(source.clone()));
        if let Some((evicted, _)) = lru.push(source, Arc::clone(&slot)) {
            tracing::info!(
                event = "crl_evicted",
                issuer = %issuer.rule.name(),
                source = %evicted,
                "max_cdp_crls_per_issuer reached: the least recently used CRL was dropped"
            );
        }
        slot
    }

    /// The delta CRL sources that the base CRLs loaded in `slots` name in
    /// their Freshest CRL extension (RFC 5280 §5.2.6), for a `crl_from_cdp`
    /// entry: within its prefixes only, like every distribution point. A
    /// URI outside them is never fetched, and its base then has no delta
    /// (`crl_unavailable`). A `crl` entry's deltas are its `delta_crl`
    /// sources, already among its slots; `delta: ignore` fetches none.
    fn delta_slots(issuer: &IssuerState, slots: &[CrlSlot]) -> Vec<CrlSlot> {
        let (IssuerCrls::FromCdp(lru), Revocation::FromCdp(policy)) =
            (&issuer.crls, issuer.rule.revocation())
        else {
            return Vec::new();
        };
        if issuer.rule.delta() == DeltaPolicy::Ignore {
            return Vec::new();
        }
        let mut uris: Vec<String> = Vec::new();
        for set in slots.iter().filter_map(|s| s.current()) {
            for crl in set.iter().filter(|c| !c.is_delta()) {
                for uri in crl.freshest() {
                    if !uris.contains(uri) {
                        uris.push(uri.clone());
                    }
                }
            }
        }
        let mut out: Vec<CrlSlot> = Vec::new();
        for uri in uris {
            let CdpSource::Fetch(source) = policy.source_for(&uri) else {
                continue;
            };
            let slot = Self::cdp_slot(issuer, lru, source);
            if !slots.iter().chain(&out).any(|s| Arc::ptr_eq(s, &slot)) {
                out.push(slot);
            }
        }
        out
    }

    /// Queues the refreshes of the due slots among `slots` of `issuer`: in
    /// the background when a usable CRL among them covers the certificate
    /// (`covers`), else as a wait for the request.
    fn queue_refreshes<'s>(
        &'s self,
        issuer: &IssuerState,
        slots: &[CrlSlot],
        covers: impl Fn(&mtls_x509::VerifiedCrl) -> bool,
        now: UnixTime,
        waits: &mut Vec<std::pin::Pin<Box<dyn Future<Output = ()> + Send + 's>>>,
    ) {
        let grace = self.config.crl_grace_seconds();
        for slot in slots.iter().filter(|s| self.crl_due(s, now)) {
            let in_force = slot.read(|s| {
                s.current().is_some_and(|set| {
                    set.iter()
                        .any(|c| c.check_usable(now, grace).is_ok() && covers(c))
                })
            });
            if let Some(wait) = self.refresh_due_crl(issuer, slot, in_force) {
                waits.push(Box::pin(wait));
            }
        }
    }

    /// Decides one request's certificate, for no route in particular: an
    /// entry with `routes` then denies it (`route_not_allowed`).
    pub async fn decide(&self, client_cert_pem: Option<&str>) -> Outcome {
        self.decide_for(client_cert_pem, None).await
    }

    /// Decides one request's certificate for the route it invokes.
    pub(crate) async fn decide_for(
        &self,
        client_cert_pem: Option<&str>,
        route: Option<RequestRoute<'_>>,
    ) -> Outcome {
        let now = self.clock.now();
        let der = match certificate_der(client_cert_pem) {
            Ok(der) => der,
            Err(deny) => return Outcome::plain(deny),
        };
        let deny_list = async {
            let list = self.deny_list.as_ref()?;
            list.refresh_for_request(&self.deny_list_refresher, now)
                .await
        };
        let waiting = std::time::Instant::now();
        let ((), behind) =
            futures_util::future::join(self.refresh_truststore(now), deny_list).await;
        let mut refresh_wait = waiting.elapsed();
        if let Some(task) = behind {
            self.track(task);
        }
        let Some(truststore) = self.truststore.current() else {
            let deny = Decision::deny(
                DenyReason::InternalError,
                &Identity::default(),
                "truststore not loaded",
            );
            return Outcome::plain(deny).waited(refresh_wait);
        };
        let deny_list = self
            .deny_list
            .as_ref()
            .and_then(|d| d.in_force(self.clock.now()));
        let engine = Engine::new(&self.config, &truststore).with_deny_list(deny_list.as_deref());
        let matched = match engine.check_certificate(&der, now) {
            Ok(m) => m,
            Err(deny) => return Outcome::plain(deny).waited(refresh_wait),
        };
        let matched_rule = matched.rule_index();
        let sources = match self.sources_for(&matched) {
            Ok(sources) => sources,
            Err(why) => {
                let deny = Decision::deny(DenyReason::CrlUnavailable, matched.identity(), why);
                return Outcome::plain(deny).waited(refresh_wait);
            }
        };
        let mut waits: Vec<std::pin::Pin<Box<dyn Future<Output = ()> + Send + '_>>> = Vec::new();
        let issuer = self.issuers.get(matched.rule_index());
        let covers_leaf = |c: &mtls_x509::VerifiedCrl| {
            c.covers(matched.cert(), matched.signer()) == Coverage::Covers
        };
        // The leaf's delta CRL sources, found once (again only if a base
        // loaded during this request).
        let mut deltas = Vec::new();
        if let Some(issuer) = issuer {
            self.queue_refreshes(issuer, &sources, covers_leaf, now, &mut waits);
            deltas = Self::delta_slots(issuer, &sources);
            self.queue_refreshes(issuer, &deltas, covers_leaf, now, &mut waits);
        }
        // CA revocation: the CAs above the certificate, each against the
        // CRLs of its parents' ca_revocation entries, refreshed beside the
        // certificate's own.
        let plan = engine.ca_plan(&matched);
        for check in &plan.checks {
            let Some(ca_issuer) = self.ca_issuers.get(check.entry) else {
                continue;
            };
            let slots = Self::slots_for(ca_issuer, &check.facts.crl_uris).unwrap_or_default();
            let covers_ca = |c: &mtls_x509::VerifiedCrl| {
                c.covers_ca(check.facts, check.parent_key) == Coverage::Covers
            };
            self.queue_refreshes(ca_issuer, &slots, covers_ca, now, &mut waits);
            let known = Self::delta_slots(ca_issuer, &slots);
            self.queue_refreshes(ca_issuer, &known, covers_ca, now, &mut waits);
        }
        if !waits.is_empty() {
            let waiting = std::time::Instant::now();
            futures_util::future::join_all(waits).await;
            // Bases loaded just now may name deltas not yet known: those
            // load before the answer, once (on a CRL's first load).
            let mut later: Vec<std::pin::Pin<Box<dyn Future<Output = ()> + Send + '_>>> =
                Vec::new();
            if let Some(issuer) = issuer {
                deltas = Self::delta_slots(issuer, &sources);
                self.queue_refreshes(issuer, &deltas, covers_leaf, now, &mut later);
            }
            for check in &plan.checks {
                if let Some(ca_issuer) = self.ca_issuers.get(check.entry) {
                    let slots =
                        Self::slots_for(ca_issuer, &check.facts.crl_uris).unwrap_or_default();
                    let deltas = Self::delta_slots(ca_issuer, &slots);
                    let covers_ca = |c: &mtls_x509::VerifiedCrl| {
                        c.covers_ca(check.facts, check.parent_key) == Coverage::Covers
                    };
                    self.queue_refreshes(ca_issuer, &deltas, covers_ca, now, &mut later);
                }
            }
            if !later.is_empty() {
                futures_util::future::join_all(later).await;
            }
            refresh_wait += waiting.elapsed();
        }
        let mut sources = sources;
        sources.extend(deltas);
        // The CA step needs the identity after the leaf step consumed the
        // match; cloned only when there is a CA step.
        let identity = (!plan.is_empty()).then(|| matched.identity().clone());
        // The OCSP step needs the certificate and its issuing key after the
        // CRL step consumed the match.
        let ocsp_step = issuer.and_then(|i| {
            i.ocsp.as_ref().map(|state| {
                let cert = matched.cert();
                let asked = ocsp::Asked {
                    issuer: Arc::clone(&state.issuer),
                    ca: matched.signer(),
                    issuer_name: cert.issuer_der().to_vec(),
                    serial: cert.serial().clone(),
                    aia: if state.reads_aia() {
                        cert.ocsp_uris().iter().map(|u| (*u).to_owned()).collect()
                    } else {
                        Vec::new()
                    },
                };
                (Arc::clone(state), asked)
            })
        });
        let sets: Vec<Arc<CrlSet>> = sources.iter().filter_map(|s| s.current()).collect();
        let crls = sets.iter().flat_map(|set| set.iter().map(Arc::as_ref));
        let answer = engine.check_revocation(matched, crls, now, || unavailable_detail(&sources));
        let rule_index = matched_rule;
        let mut ocsp_used = None;
        let decision = match answer.decision {
            Decision::Allow(id) => match ocsp_step {
                None => Decision::Allow(id),
                Some((state, asked)) => {
                    let waiting = std::time::Instant::now();
                    let outcome = state
                        .answer(&self.ocsp_asker, &truststore, &asked, |task| {
                            self.track(task);
                        })
                        .await;
                    // An exchange, whether it succeeded or not (a cached answer, or
                    // a failure remembered from an earlier one, waited for nothing).
                    if outcome.used != Some(mtls_policy::metrics::OcspUse::Cached) {
                        refresh_wait += waiting.elapsed();
                    }
                    ocsp_used = outcome.used;
                    mtls_policy::decision::ocsp_decision(
                        id,
                        outcome.answer.as_deref().map_err(String::as_str),
                        self.clock.now(),
                        self.config.clock_skew_seconds(),
                    )
                }
            },
            other => other,
        };
        let decision = match (decision, identity) {
            (Decision::Allow(id), Some(identity)) => {
                let crls_of = |check: &CaCheck<'_>| self.ca_crls(check);
                match engine.check_ca_revocation(&identity, &plan, crls_of, now) {
                    Ok(()) => Decision::Allow(id),
                    Err(deny) => deny,
                }
            }
            (other, _) => other,
        };
        // Last, once the certificate is good for every route it may call:
        // the route it calls now (the policy answered for a refusal still
        // allows the others).
        let routes = self
            .config
            .issuers()
            .get(rule_index)
            .and_then(IssuerRule::routes);
        let decision = match (decision, routes) {
            (Decision::Allow(id), Some(routes)) => {
                mtls_policy::decision::route_decision(id, routes, route)
            }
            (other, _) => other,
        };
        Outcome {
            decision,
            crl_age_seconds: answer.crl_this_update.map(|t| now.seconds_since(t)),
            ocsp: ocsp_used,
            rule: Some(rule_index),
            refresh_wait,
        }
    }

    /// The CRLs loaded for a CA revocation check's entry that may cover its CA.
    fn ca_crls(&self, check: &CaCheck<'_>) -> Vec<Arc<CrlSet>> {
        let Some(issuer) = self.ca_issuers.get(check.entry) else {
            return Vec::new();
        };
        let mut slots = Self::slots_for(issuer, &check.facts.crl_uris).unwrap_or_default();
        slots.extend(Self::delta_slots(issuer, &slots));
        slots.iter().filter_map(|slot| slot.current()).collect()
    }

    /// [`Authorizer::handle_invocation`] without the runtime's ids: for tests
    /// and benchmarks.
    #[cfg(feature = "test-support")]
    pub async fn handle(&self, event: &Value) -> Value {
        self.handle_invocation(event, &Invocation::default()).await
    }

    /// Handles one Lambda event, with the runtime's request and trace ids
    /// for the decision line: never fails, never panics on input. Anything
    /// unexpected is a Deny.
    pub async fn handle_invocation(&self, event: &Value, invocation: &Invocation) -> Value {
        let started = std::time::Instant::now();
        let kind = EventKind::detect(event);
        let outcome = match kind {
            EventKind::Unknown => Outcome::plain(Decision::deny(
                DenyReason::InternalError,
                &Identity::default(),
                "unrecognized event: expected a REST or HTTP API REQUEST authorizer event",
            )),
            _ => {
                self.decide_for(kind.client_cert_pem(event), kind.request_route())
                    .await
            }
        };
        let routes = outcome.rule.and_then(|i| {
            self.config
                .issuers()
                .get(i)
                .and_then(IssuerRule::routes)
                .map(|r| (i, r))
        });
        let response = kind.response(
            &outcome.decision,
            self.config.policy_resource(),
            self.http_api_response,
            routes,
            &self.route_policies,
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
            Decision::Deny { reason, detail, .. } => (Some(*reason), Some(detail.as_str())),
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
            // Under 0.1 ms nothing was fetched: only the check that none was due.
            refresh_wait_ms: (outcome.refresh_wait >= Duration::from_micros(100))
                .then_some(outcome.refresh_wait.as_secs_f64() * 1e3),
            detail,
            ids,
            ocsp: outcome.ocsp,
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
