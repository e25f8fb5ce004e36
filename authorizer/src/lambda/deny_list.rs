//! The operator deny list's cache: fetched at cold start, then re-checked
//! so that no decision uses a list older than `deny_list_refresh_seconds`
//! while the source answers.
//!
//! Lambda freezes an idle instance, so a background timer cannot keep the
//! list fresh: the request that finds it due waits for the conditional GET
//! (a 304 of a few hundred bytes, usually). Only while the source is failing
//! do refreshes run behind the requests, which then use the last good list
//! until `deny_list_max_age_seconds` after the source last confirmed it.

use super::error::DenyListRefreshError;
use super::refresh::Cached;
use super::telemetry::Telemetry;
use crate::fetch::Fetcher;
use mtls_policy::metrics::{Cause, RefreshOutcome};
use mtls_policy::source::Fetched;
use mtls_x509::time::{Clock, UnixTime};
use std::sync::Arc;

use mtls_policy::cache::Schedule;
use mtls_policy::config::DenyListSource;
use mtls_policy::denylist::DenyList;
use mtls_policy::metrics::{DenyListInUse, DenyListRecord};

/// The deny list's source and cache.
#[derive(Debug)]
pub(super) struct DenyListCache {
    pub(super) config: DenyListSource,
    pub(super) cached: Arc<Cached<DenyList, DenyListRefreshError>>,
}

impl DenyListCache {
    pub(super) fn new(config: &DenyListSource) -> Self {
        Self {
            config: config.clone(),
            cached: Arc::new(Cached::new(config.uri().clone())),
        }
    }

    fn schedule(&self) -> Schedule {
        // A failed fetch is retried on the same beat: the list's whole
        // point is to be no older than this.
        Schedule {
            refresh_seconds: self.config.refresh_seconds(),
            retry_seconds: self.config.refresh_seconds(),
        }
    }

    /// The list to decide with at `now`: the last good one, while the
    /// source confirmed it at most `deny_list_max_age_seconds` ago. `None`
    /// denies every request (`deny_list_unavailable`).
    pub(super) fn in_force(&self, now: UnixTime) -> Option<Arc<DenyList>> {
        let max_age = self.config.max_age_seconds();
        self.cached.read(|s| {
            let confirmed = s.confirmed()?;
            let age = now.seconds_since(confirmed);
            // A clock that stepped back leaves the age negative: still fresh.
            (age <= max_age).then(|| s.current().cloned()).flatten()
        })
    }

    /// Brings the list up to date for a request at `now`. When due, the
    /// request waits for the refresh (joining one already running), unless
    /// the source's last answer was a failure and a list is still in
    /// force: then the refresh runs behind the requests, so an outage costs
    /// one fetch per interval in the background, never a timeout per
    /// request.
    /// Returns the refresh it started behind the request, if any.
    pub(super) async fn refresh_for_request(
        &self,
        refresher: &DenyListRefresher,
        now: UnixTime,
    ) -> Option<tokio::task::JoinHandle<()>> {
        let schedule = self.schedule();
        if !self.cached.read(|s| s.is_due(now, schedule)) {
            return None;
        }
        let failing = self.cached.read(|s| s.last_error().is_some());
        if failing && self.in_force(now).is_some() {
            let single_flight = Arc::clone(&self.cached.refreshing).try_lock_owned().ok()?;
            let refresher = refresher.clone();
            let cached = Arc::clone(&self.cached);
            return Some(tokio::spawn(async move {
                let _single_flight = single_flight;
                refresher.run(&cached, schedule).await;
            }));
        }
        let wait = refresher.fetcher.limits().timeout;
        let _single_flight = tokio::time::timeout(wait, self.cached.refreshing.lock())
            .await
            .ok()?;
        refresher.run(&self.cached, schedule).await;
        None
    }

    /// The cold start's load, at full speed.
    pub(super) async fn load(&self, refresher: &DenyListRefresher) {
        let _single_flight = self.cached.refreshing.lock().await;
        refresher.run(&self.cached, self.schedule()).await;
    }
}

/// What a deny-list refresh needs, cheap to clone into a background task.
#[derive(Clone)]
pub(super) struct DenyListRefresher {
    pub(super) fetcher: Arc<Fetcher>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) telemetry: Telemetry,
}

impl std::fmt::Debug for DenyListRefresher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DenyListRefresher").finish_non_exhaustive()
    }
}

impl DenyListRefresher {
    /// One refresh, if still due (a refresh that held the lock before us
    /// may just have confirmed the list). The caller holds the single-flight
    /// guard. Ends with the `deny_list_metrics` line.
    async fn run(&self, cached: &Cached<DenyList, DenyListRefreshError>, schedule: Schedule) {
        if !cached.read(|s| s.is_due(self.clock.now(), schedule)) {
            return;
        }
        let outcome = self.refresh(cached).await;
        let now = self.clock.now();
        let in_use = cached.read(|s| {
            let list = s.current()?;
            Some(DenyListInUse {
                sequence: list.sequence(),
                entries: list.len(),
                confirmed: s.confirmed()?,
            })
        });
        let source = cached.source.to_string();
        let line = DenyListRecord {
            time: now,
            source: &source,
            outcome,
            in_use,
        }
        .to_line(&self.telemetry.namespace);
        self.telemetry.emit(&line);
    }

    async fn refresh(&self, cached: &Cached<DenyList, DenyListRefreshError>) -> RefreshOutcome {
        let previous = cached.read(|s| s.validator().cloned());
        let fetched = self.fetcher.fetch(&cached.source, previous.as_ref()).await;
        let now = self.clock.now();
        let (bytes, validator) = match fetched {
            Ok(Fetched::NotModified) => {
                cached.write(|s| s.confirm(now, None));
                return RefreshOutcome::Unchanged;
            }
            Ok(Fetched::Body { bytes, validator }) => (bytes, validator),
            Err(e) => {
                tracing::warn!(
                    event = "deny_list_refresh_failed",
                    source = %cached.source,
                    error = %e,
                    "deny list refresh failed; the last good list stays in use until deny_list_max_age_seconds"
                );
                let cause = Cause::of(&e);
                cached.write(|s| s.fail(now, e.into()));
                return RefreshOutcome::Failed(cause);
            }
        };
        let parsed = DenyList::from_json(&bytes);
        drop(bytes);
        // The same list again (a source without conditional requests, or
        // the same document rewritten): confirmed, not installed. Comparing
        // the index is cheaper than hashing a large body every time.
        if let (Ok(list), Some(in_force)) = (&parsed, cached.current())
            && *list == *in_force
        {
            cached.write(|s| s.confirm(now, Some(validator)));
            return RefreshOutcome::Unchanged;
        }
        let parsed = parsed.and_then(|list| {
            match cached.current() {
                Some(in_force) => in_force.check_successor(&list),
                None => Ok(()),
            }
            .map(|()| list)
        });
        match parsed {
            Ok(list) => {
                tracing::info!(
                    event = "deny_list_loaded",
                    source = %cached.source,
                    sequence = list.sequence(),
                    entries = list.len(),
                    "deny list loaded"
                );
                // The slot's content fingerprint is unused for the deny list
                // (see above): the sequence names it well enough for logs.
                let mut name = [0u8; 32];
                if let Some(head) = name.get_mut(..8) {
                    head.copy_from_slice(&list.sequence().to_be_bytes());
                }
                cached.write(|s| s.install(now, list, validator, name));
                RefreshOutcome::Installed
            }
            Err(e) => {
                tracing::warn!(
                    event = "deny_list_rejected",
                    source = %cached.source,
                    error = %e,
                    "deny list refused; the last good list stays in use until deny_list_max_age_seconds"
                );
                let cause = Cause::of(&e);
                cached.write(|s| s.fail(now, e.into()));
                RefreshOutcome::Failed(cause)
            }
        }
    }
}
