//! The per-issuer CRL state and what one decision reports.

use super::error::{CrlRefreshError, DenyListRefreshError};
use super::ocsp;
use super::refresh::Cached;
use lru::LruCache;
use mtls_policy::cache::CrlSet;
use mtls_policy::config::{IssuerRule, Revocation};
use mtls_policy::decision::Decision;
use mtls_policy::source::SourceUri;
use mtls_x509::crl::CrlPurpose;
use mtls_x509::time::UnixTime;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

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
    pub last_error: Option<CrlRefreshError>,
    /// Whether a refresh of this source is running now.
    pub refreshing: bool,
}

/// A snapshot of the deny list's cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DenyListStatus {
    /// The source, as logged.
    pub source: String,
    /// The `sequence` of the list held, if one ever loaded.
    pub sequence: Option<u64>,
    /// Its distinct entries.
    pub entries: Option<usize>,
    /// When the source last confirmed it.
    pub confirmed: Option<UnixTime>,
    /// Whether decisions use it now (within `deny_list_max_age_seconds`).
    pub in_force: bool,
    /// How many lists were installed so far.
    pub installs: u64,
    /// The latest refresh failure or refusal, cleared by the next success.
    pub last_error: Option<DenyListRefreshError>,
}

/// The outcome of one request, with what the decision log line needs.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The decision.
    pub decision: Decision,
    /// Seconds since the deciding CRL's `thisUpdate`, when a CRL decided.
    pub crl_age_seconds: Option<i64>,
    /// Whether an OCSP answer was used, and from where.
    pub ocsp: Option<mtls_policy::metrics::OcspUse>,
    /// The matched issuer entry's index, once one matched.
    pub rule: Option<usize>,
    /// How long the request waited for refreshes it found due (the deny list's
    /// conditional GET, a truststore re-check, a CRL past `nextUpdate`, an OCSP
    /// exchange): the part of its latency that is the sources', not the decision's.
    pub refresh_wait: Duration,
}

impl Outcome {
    pub(super) fn plain(decision: Decision) -> Self {
        Self {
            decision,
            crl_age_seconds: None,
            ocsp: None,
            rule: None,
            refresh_wait: Duration::ZERO,
        }
    }

    pub(super) fn waited(self, refresh_wait: Duration) -> Self {
        Self {
            refresh_wait,
            ..self
        }
    }
}

pub(super) type CrlSlot = Arc<Cached<CrlSet>>;

/// One issuer entry and its CRL state, side by side: the refresher and the
/// decision path take both from here, never from two lists by one index.
#[derive(Debug)]
pub(super) struct IssuerState {
    /// The entry, as configured (shared with background refreshes).
    pub(super) rule: Arc<IssuerRule>,
    /// Its CRL sources and their caches.
    pub(super) crls: IssuerCrls,
    /// Client certificates (an issuer entry) or CA certificates (a
    /// `ca_revocation` entry).
    pub(super) purpose: CrlPurpose,
    /// Its OCSP cache, when the entry configures `ocsp`.
    pub(super) ocsp: Option<Arc<ocsp::OcspState>>,
}

impl IssuerState {
    pub(super) fn new(rule: &IssuerRule, max_cdp: NonZeroUsize, purpose: CrlPurpose) -> Self {
        Self {
            rule: Arc::new(rule.clone()),
            crls: IssuerCrls::for_rule(rule.revocation(), max_cdp),
            purpose,
            ocsp: rule
                .ocsp()
                .map(|p| Arc::new(ocsp::OcspState::new(rule.name(), p))),
        }
    }
}

/// One issuer entry's CRL sources.
#[derive(Debug)]
pub(super) enum IssuerCrls {
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
    pub(super) fn for_rule(revocation: &Revocation, max_cdp: NonZeroUsize) -> Self {
        match revocation {
            Revocation::NotChecked | Revocation::OcspOnly => Self::NotChecked,
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
    pub(super) fn capacity(&self) -> usize {
        match self {
            Self::NotChecked => 0,
            Self::Fixed(v) => v.len(),
            Self::FromCdp(lru) => lock(lru).cap().get(),
        }
    }

    /// Every source currently held.
    pub(super) fn slots(&self) -> Vec<CrlSlot> {
        match self {
            Self::NotChecked => Vec::new(),
            Self::Fixed(v) => v.clone(),
            Self::FromCdp(lru) => lock(lru).iter().map(|(_, s)| Arc::clone(s)).collect(),
        }
    }
}

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means a panic elsewhere; the LRU and the guard
    // stay consistent between their own calls.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
