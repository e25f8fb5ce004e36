//! Refreshing the cached truststore and CRLs: single-flight slots, and the
//! CRL refresher that streams a source into a verified CRL.

use super::error::CrlRefreshError;
use super::state::lock;
use super::telemetry::Telemetry;
use crate::fetch::{FetchError, Fetcher, Pace, Pacer};
use mtls_policy::cache::{CrlSet, Expiring, Offered, RollbackGuard, Schedule, Slot};
use mtls_policy::config::{Config, IssuerRule};
use mtls_policy::decision::{CaRuleIssuer, RuleIssuer};
use mtls_policy::metrics::{Cause, CrlInUse, CrlRecord, RefreshOutcome};
use mtls_policy::source::{Fetched, SourceUri, Validator};
use mtls_x509::crl::{CrlIngest, CrlPurpose, IssuerExpectation};
use mtls_x509::time::{Clock, UnixTime};
use mtls_x509::truststore::TrustStore;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

/// A cached resource with its source and a single-flight refresh lock; `E`
/// is what a failed refresh is recorded as.
#[derive(Debug)]
pub(super) struct Cached<T, E = CrlRefreshError> {
    pub(super) source: SourceUri,
    pub(super) slot: RwLock<Slot<T, E>>,
    /// Held by whoever refreshes: a request, or a background task (which
    /// owns its guard, hence the `Arc`).
    pub(super) refreshing: Arc<tokio::sync::Mutex<()>>,
}

impl<T: Expiring, E: From<FetchError>> Cached<T, E> {
    pub(super) fn new(source: SourceUri) -> Self {
        Self {
            source,
            slot: RwLock::new(Slot::default()),
            refreshing: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    pub(super) fn read<R>(&self, f: impl FnOnce(&Slot<T, E>) -> R) -> R {
        f(&self.slot.read().unwrap_or_else(PoisonError::into_inner))
    }

    pub(super) fn write<R>(&self, f: impl FnOnce(&mut Slot<T, E>) -> R) -> R {
        f(&mut self.slot.write().unwrap_or_else(PoisonError::into_inner))
    }

    pub(super) fn current(&self) -> Option<Arc<T>> {
        self.read(|s| s.current().cloned())
    }

    /// The truststore's refresh: if due and no other task is refreshing,
    /// asks the source conditionally. An unchanged source (304, same version,
    /// same bytes) is confirmed here and yields `None`, as does "not due". New
    /// bytes come back with the single-flight guard still held, so the caller
    /// verifies and installs them before anyone else refreshes. A failed
    /// fetch is recorded and returned as `Some(Err)`.
    pub(super) async fn fetch_if_changed(
        &self,
        fetcher: &Fetcher,
        now: UnixTime,
        schedule: Schedule,
    ) -> Option<Result<Changed<'_>, FetchError>> {
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
                let sha256 = mtls_x509::signed::sha256(&bytes);
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
                self.write(|s| s.fail(now, e.clone().into()));
                Some(Err(e))
            }
        }
    }
}

/// New bytes from a source, to be verified and installed by the caller.
#[derive(Debug)]
pub(super) struct Changed<'a> {
    pub(super) _single_flight: tokio::sync::MutexGuard<'a, ()>,
    pub(super) bytes: Vec<u8>,
    pub(super) validator: Validator,
    pub(super) sha256: [u8; 32],
}

/// What a CRL refresh needs, cheap to clone into a background task.
#[derive(Clone)]
pub(super) struct CrlRefresher {
    pub(super) config: Arc<Config>,
    pub(super) fetcher: Arc<Fetcher>,
    pub(super) clock: Arc<dyn Clock>,
    /// The newest CRL seen of each sequence, across all sources.
    pub(super) rollback: Arc<Mutex<RollbackGuard>>,
    pub(super) telemetry: Telemetry,
}

impl std::fmt::Debug for CrlRefresher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrlRefresher").finish_non_exhaustive()
    }
}

impl CrlRefresher {
    /// Fetches one CRL source of issuer entry `rule`, streaming the
    /// body through [`CrlIngest`] at `pace`, and offers the result to the
    /// slot. The caller holds the slot's single-flight guard. Never removes a
    /// good CRL: failures and rejected candidates are logged and recorded.
    /// Every refresh ends with the source's `crl_metrics` line.
    pub(super) async fn run(
        &self,
        rule: &IssuerRule,
        purpose: CrlPurpose,
        cached: &Cached<CrlSet>,
        truststore: Option<Arc<TrustStore>>,
        pace: Pace,
    ) {
        let (outcome, load_ms) = self.refresh(rule, purpose, cached, truststore, pace).await;
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
            issuer: rule.name(),
            source: &source,
            outcome,
            in_use,
            load_ms,
        });
    }

    /// The refresh itself: its outcome, and for an installed CRL the time
    /// from the fetch's start to the install.
    pub(super) async fn refresh(
        &self,
        rule: &IssuerRule,
        purpose: CrlPurpose,
        cached: &Cached<CrlSet>,
        truststore: Option<Arc<TrustStore>>,
        pace: Pace,
    ) -> (RefreshOutcome, Option<f64>) {
        let Some(truststore) = truststore else {
            let now = self.clock.now();
            let e = CrlRefreshError::NoTruststore;
            let cause = Cause::of(&e);
            cached.write(|s| s.fail(now, e));
            return (RefreshOutcome::Failed(cause), None);
        };
        let previous = cached.read(|s| s.validator().cloned());
        let (for_devices, for_cas) = (RuleIssuer(rule), CaRuleIssuer(rule));
        let expected: &(dyn IssuerExpectation + Sync) = match purpose {
            CrlPurpose::EndEntities => &for_devices,
            CrlPurpose::CaCertificates => &for_cas,
        };
        let mut ingest = CrlIngest::new(expected, &truststore);
        let started = std::time::Instant::now();
        let fetched = self
            .fetcher
            .fetch_to(&cached.source, previous.as_ref(), &mut ingest, pace)
            .await;
        let mut now = self.clock.now();
        let (result, validator) = match fetched {
            Ok(Fetched::NotModified) => {
                tracing::debug!(event = "not_modified", source = %cached.source);
                cached.write(|s| s.confirm(now, None));
                return (RefreshOutcome::Unchanged, None);
            }
            Ok(Fetched::Body { validator, .. }) => {
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
            // Refused while it streamed in (wrong issuer, malformed, too large
            // where no real CRL is): the rest was never downloaded.
            Err(FetchError::Refused(e)) => (Err(e), Validator::default()),
            Err(e) => {
                let kept = cached.read(|s| {
                    s.current()
                        .and_then(|set| set.newest())
                        .map(|c| c.next_update())
                });
                tracing::warn!(
                    event = "crl_refresh_failed",
                    issuer = %rule.name(),
                    source = %cached.source,
                    error = %e,
                    kept_until = kept.map(|t| t.offset(self.config.crl_grace_seconds()).to_string()),
                    "CRL refresh failed; the last good CRL stays in use until nextUpdate + grace"
                );
                let cause = Cause::of(&e);
                cached.write(|s| s.fail(now, e.into()));
                return (RefreshOutcome::Failed(cause), None);
            }
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
                    self.config.crl_grace_seconds(),
                )
            })
        };
        match offered {
            Ok(Offered::Installed) => {
                if let Some(crl) = cached.current().and_then(|set| set.newest().cloned()) {
                    tracing::info!(
                        event = "crl_loaded",
                        issuer = %rule.name(),
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
                    issuer = %rule.name(),
                    source = %cached.source,
                    "the source served the CRL already in use"
                );
                (RefreshOutcome::Unchanged, None)
            }
            Err(e) => {
                tracing::warn!(
                    event = "crl_rejected",
                    issuer = %rule.name(),
                    source = %cached.source,
                    error = %e,
                    "CRL rejected; the last good CRL stays in use"
                );
                (RefreshOutcome::Failed(Cause::of(&e)), None)
            }
        }
    }
}
