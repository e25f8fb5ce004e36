//! The EMF lines themselves: a decision, a CRL refresh, the truststore.

use serde::Serialize;

use super::{ALLOWED, Aws, Cause, Metric, NO_ISSUER, Namespace, OcspResult};
use crate::decision::DenyReason;
use mtls_x509::error::bounded;

/// The request identifiers a decision line carries, so one denied device
/// can be followed from API Gateway's access log (`requestId`) to the
/// decision, and to the Lambda invocation and its X-Ray trace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RequestIds {
    /// The Lambda invocation's request id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lambda_request_id: Option<String>,
    /// API Gateway's `requestContext.requestId` (the access log's `requestId`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_request_id: Option<String>,
    /// API Gateway's `requestContext.extendedRequestId` (REST APIs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_extended_request_id: Option<String>,
    /// The X-Ray trace id (`_X_AMZN_TRACE_ID`), when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
}

/// The longest request id kept; longer ones (never from API Gateway) are cut.
pub(super) const MAX_ID: usize = 128;

/// An identifier from the event or the runtime, safe to log: at most
/// 128 characters (`MAX_ID`), control characters escaped, empty as `None`.
#[must_use]
pub fn request_id(value: Option<&str>) -> Option<String> {
    let v = value.map(str::trim).filter(|v| !v.is_empty())?;
    Some(bounded(&v.chars().take(MAX_ID).collect::<String>()))
}

/// Everything one decision line says.
#[derive(Debug)]
pub struct DecisionRecord<'a> {
    /// When the decision was made (Unix seconds).
    pub time: mtls_x509::time::UnixTime,
    /// The issuer entry's name, if the certificate matched one.
    pub issuer: Option<&'a str>,
    /// `true` for Allow.
    pub allowed: bool,
    /// The deny reason, for a Deny.
    pub reason: Option<DenyReason>,
    /// The authorizer's own work for this event, in milliseconds.
    pub latency_ms: f64,
    /// The certificate's serial (hex), subject DN and SHA-256: properties,
    /// never dimensions.
    pub serial: &'a str,
    /// See `serial`.
    pub subject: &'a str,
    /// See `serial`.
    pub fingerprint: &'a str,
    /// Seconds since the deciding CRL's `thisUpdate`.
    pub crl_age_seconds: Option<i64>,
    /// How much of `latency_ms` the request spent waiting for refreshes it
    /// found due (deny list, truststore, a CRL past `nextUpdate`, an OCSP
    /// exchange), when it waited at all.
    pub refresh_wait_ms: Option<f64>,
    /// Why a Deny was decided, for people.
    pub detail: Option<&'a str>,
    /// Where the request came from.
    pub ids: &'a RequestIds,
    /// Whether an OCSP answer was used, and from where.
    pub ocsp: Option<OcspUse>,
}

/// How a decision got its OCSP answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OcspUse {
    /// From the cache, with no exchange (`OcspCacheHits`).
    Cached,
    /// From an exchange during the request (its own `ocsp_metrics` line).
    Fetched,
}

#[derive(Serialize)]
pub(super) struct DecisionLine<'a> {
    #[serde(rename = "_aws")]
    pub(super) aws: Aws<'a>,
    pub(super) timestamp: String,
    pub(super) level: &'static str,
    pub(super) event: &'static str,
    pub(super) decision: &'static str,
    pub(super) reason: &'static str,
    pub(super) issuer: &'a str,
    #[serde(rename = "Decisions")]
    pub(super) decisions: u8,
    #[serde(rename = "DecisionLatency")]
    pub(super) latency_ms: f64,
    pub(super) serial: &'a str,
    pub(super) subject: &'a str,
    pub(super) fingerprint: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) crl_age_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) refresh_wait_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) detail: Option<&'a str>,
    #[serde(rename = "OcspCacheHits", skip_serializing_if = "Option::is_none")]
    pub(super) ocsp_cache_hits: Option<u8>,
    #[serde(flatten)]
    pub(super) ids: &'a RequestIds,
}

impl DecisionRecord<'_> {
    /// The decision line: one JSON line, no newline, that is both the
    /// decision log and the `Decisions` and `DecisionLatency` metrics.
    #[must_use]
    pub fn to_line(&self, namespace: &Namespace) -> String {
        let cached = self.ocsp == Some(OcspUse::Cached);
        let metrics: &[Metric] = if cached {
            &[
                Metric::Decisions,
                Metric::DecisionLatency,
                Metric::OcspCacheHits,
            ]
        } else {
            &[Metric::Decisions, Metric::DecisionLatency]
        };
        let line = DecisionLine {
            aws: Aws::new(namespace, self.time.0.saturating_mul(1000), metrics),
            timestamp: self.time.to_string(),
            level: "INFO",
            event: "decision",
            decision: if self.allowed { "allow" } else { "deny" },
            // An Allow has no reason code, but a dimension must have a value.
            reason: if self.allowed {
                ALLOWED
            } else {
                self.reason.unwrap_or(DenyReason::InternalError).as_str()
            },
            issuer: self.issuer.unwrap_or(NO_ISSUER),
            decisions: 1,
            latency_ms: round3(self.latency_ms),
            serial: self.serial,
            subject: self.subject,
            fingerprint: self.fingerprint,
            crl_age_seconds: self.crl_age_seconds,
            refresh_wait_ms: self.refresh_wait_ms.map(round3),
            detail: self.detail,
            ocsp_cache_hits: cached.then_some(1),
            ids: self.ids,
        };
        to_json(&line)
    }
}

/// What a CRL refresh ended with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// A new CRL was verified and installed.
    Installed,
    /// The source served the CRL already in use (304, same version, same CRL).
    Unchanged,
    /// Nothing new was installed, for this cause.
    Failed(Cause),
}

impl RefreshOutcome {
    /// For a refresh that installed nothing new: its cause, and a count of
    /// one under `failures` (the source could not be read) or `rejected`
    /// (it served something refused), whose metric is added to `metrics`.
    fn counted(
        self,
        metrics: &mut Vec<Metric>,
        failures: Metric,
        rejected: Metric,
    ) -> (Option<Cause>, Option<u8>, Option<u8>) {
        match self {
            Self::Failed(c) if c.is_refresh_failure() => {
                metrics.push(failures);
                (Some(c), Some(1), None)
            }
            Self::Failed(c) => {
                metrics.push(rejected);
                (Some(c), None, Some(1))
            }
            Self::Installed | Self::Unchanged => (None, None, None),
        }
    }

    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Installed => "installed",
            Self::Unchanged => "unchanged",
            Self::Failed(c) if c.is_refresh_failure() => "failed",
            Self::Failed(_) => "rejected",
        }
    }
}

/// The CRL in use by a source after a refresh.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CrlInUse {
    /// Its `thisUpdate`.
    pub this_update: mtls_x509::time::UnixTime,
    /// Its `nextUpdate`.
    pub next_update: mtls_x509::time::UnixTime,
    /// Its revoked entries.
    pub entries: usize,
}

/// One CRL source's refresh (or cold-start load), as its own EMF line.
#[derive(Debug)]
pub struct CrlRecord<'a> {
    /// When the refresh ended.
    pub time: mtls_x509::time::UnixTime,
    /// The issuer entry's name.
    pub issuer: &'a str,
    /// The source, as logged (a property: sources found through
    /// `crl_from_cdp` are not a bounded set).
    pub source: &'a str,
    /// What happened.
    pub outcome: RefreshOutcome,
    /// The CRL in use afterwards, if any.
    pub in_use: Option<CrlInUse>,
    /// Fetch, verify and index time of a new CRL.
    pub load_ms: Option<f64>,
}

#[derive(Serialize)]
pub(super) struct CrlLine<'a> {
    #[serde(rename = "_aws")]
    pub(super) aws: Aws<'a>,
    pub(super) timestamp: String,
    pub(super) level: &'static str,
    pub(super) event: &'static str,
    pub(super) issuer: &'a str,
    pub(super) source: &'a str,
    pub(super) outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) cause: Option<&'static str>,
    #[serde(rename = "CrlAgeSeconds", skip_serializing_if = "Option::is_none")]
    pub(super) age: Option<i64>,
    #[serde(
        rename = "CrlSecondsToNextUpdate",
        skip_serializing_if = "Option::is_none"
    )]
    pub(super) to_next_update: Option<i64>,
    #[serde(rename = "CrlEntries", skip_serializing_if = "Option::is_none")]
    pub(super) entries: Option<usize>,
    #[serde(rename = "CrlLoadMs", skip_serializing_if = "Option::is_none")]
    pub(super) load_ms: Option<f64>,
    #[serde(rename = "CrlRefreshFailures", skip_serializing_if = "Option::is_none")]
    pub(super) refresh_failures: Option<u8>,
    #[serde(rename = "CrlRejected", skip_serializing_if = "Option::is_none")]
    pub(super) rejected: Option<u8>,
}

impl CrlRecord<'_> {
    /// The line: the CRL in use's age, time to `nextUpdate` and size on
    /// every refresh (so the staleness alarm keeps getting data points while
    /// refreshes fail), the load time of a new CRL, and a count with its
    /// cause when nothing new was installed.
    #[must_use]
    pub fn to_line(&self, namespace: &Namespace) -> String {
        let mut metrics = Vec::with_capacity(5);
        if self.in_use.is_some() {
            metrics.extend([
                Metric::CrlAgeSeconds,
                Metric::CrlSecondsToNextUpdate,
                Metric::CrlEntries,
            ]);
        }
        let load_ms = match self.outcome {
            RefreshOutcome::Installed => self.load_ms.map(round3),
            _ => None,
        };
        if load_ms.is_some() {
            metrics.push(Metric::CrlLoadMs);
        }
        let (cause, refresh_failures, rejected) = self.outcome.counted(
            &mut metrics,
            Metric::CrlRefreshFailures,
            Metric::CrlRejected,
        );
        let line = CrlLine {
            aws: Aws::new(namespace, self.time.0.saturating_mul(1000), &metrics),
            timestamp: self.time.to_string(),
            level: "INFO",
            event: "crl_metrics",
            issuer: self.issuer,
            source: self.source,
            outcome: self.outcome.as_str(),
            cause: cause.map(Cause::as_str),
            age: self.in_use.map(|c| self.time.seconds_since(c.this_update)),
            to_next_update: self.in_use.map(|c| c.next_update.seconds_since(self.time)),
            entries: self.in_use.map(|c| c.entries),
            load_ms,
            refresh_failures,
            rejected,
        };
        to_json(&line)
    }
}

/// The truststore's earliest CA expiry, as its own EMF line.
#[derive(Debug)]
pub struct TruststoreRecord<'a> {
    /// When the truststore was loaded or confirmed.
    pub time: mtls_x509::time::UnixTime,
    /// The truststore's source.
    pub source: &'a str,
    /// How many CA certificates it holds.
    pub cas: usize,
    /// The earliest `notAfter` among them, and that CA's subject.
    pub first_expiry: (mtls_x509::time::UnixTime, &'a str),
}

#[derive(Serialize)]
pub(super) struct TruststoreLine<'a> {
    #[serde(rename = "_aws")]
    pub(super) aws: Aws<'a>,
    pub(super) timestamp: String,
    pub(super) level: &'static str,
    pub(super) event: &'static str,
    pub(super) source: &'a str,
    pub(super) cas: usize,
    pub(super) first_expiry: String,
    pub(super) first_expiry_subject: &'a str,
    #[serde(rename = "TruststoreSecondsToFirstExpiry")]
    pub(super) seconds_to_first_expiry: i64,
}

impl TruststoreRecord<'_> {
    /// The line.
    #[must_use]
    pub fn to_line(&self, namespace: &Namespace) -> String {
        let (expiry, subject) = self.first_expiry;
        let line = TruststoreLine {
            aws: Aws::new(
                namespace,
                self.time.0.saturating_mul(1000),
                &[Metric::TruststoreSecondsToFirstExpiry],
            ),
            timestamp: self.time.to_string(),
            level: "INFO",
            event: "truststore_metrics",
            source: self.source,
            cas: self.cas,
            first_expiry: expiry.to_string(),
            first_expiry_subject: subject,
            seconds_to_first_expiry: expiry.seconds_since(self.time),
        };
        to_json(&line)
    }
}

/// The deny list in use after a refresh.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DenyListInUse {
    /// Its `sequence`.
    pub sequence: u64,
    /// Its distinct entries.
    pub entries: usize,
    /// When the source last confirmed it (a fetch or a 304).
    pub confirmed: mtls_x509::time::UnixTime,
}

/// One deny-list refresh (or cold-start load), as its own EMF line.
#[derive(Debug)]
pub struct DenyListRecord<'a> {
    /// When the refresh ended.
    pub time: mtls_x509::time::UnixTime,
    /// The source, as logged.
    pub source: &'a str,
    /// What happened.
    pub outcome: RefreshOutcome,
    /// The list in use afterwards, if any.
    pub in_use: Option<DenyListInUse>,
}

#[derive(Serialize)]
pub(super) struct DenyListLine<'a> {
    #[serde(rename = "_aws")]
    pub(super) aws: Aws<'a>,
    pub(super) timestamp: String,
    pub(super) level: &'static str,
    pub(super) event: &'static str,
    pub(super) source: &'a str,
    pub(super) outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) cause: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) sequence: Option<u64>,
    #[serde(rename = "DenyListEntries", skip_serializing_if = "Option::is_none")]
    pub(super) entries: Option<usize>,
    #[serde(rename = "DenyListAgeSeconds", skip_serializing_if = "Option::is_none")]
    pub(super) age: Option<i64>,
    #[serde(
        rename = "DenyListRefreshFailures",
        skip_serializing_if = "Option::is_none"
    )]
    pub(super) refresh_failures: Option<u8>,
    #[serde(rename = "DenyListRejected", skip_serializing_if = "Option::is_none")]
    pub(super) rejected: Option<u8>,
}

impl DenyListRecord<'_> {
    /// The line: the list in use's size and age on every refresh (so the
    /// staleness alarm keeps getting data points while refreshes fail), and
    /// a count with its cause when nothing new was confirmed.
    #[must_use]
    pub fn to_line(&self, namespace: &Namespace) -> String {
        let mut metrics = Vec::with_capacity(3);
        if self.in_use.is_some() {
            metrics.extend([Metric::DenyListEntries, Metric::DenyListAgeSeconds]);
        }
        let (cause, refresh_failures, rejected) = self.outcome.counted(
            &mut metrics,
            Metric::DenyListRefreshFailures,
            Metric::DenyListRejected,
        );
        let line = DenyListLine {
            aws: Aws::new(namespace, self.time.0.saturating_mul(1000), &metrics),
            timestamp: self.time.to_string(),
            level: "INFO",
            event: "deny_list_metrics",
            source: self.source,
            outcome: self.outcome.as_str(),
            cause: cause.map(Cause::as_str),
            sequence: self.in_use.map(|l| l.sequence),
            entries: self.in_use.map(|l| l.entries),
            age: self
                .in_use
                .map(|l| self.time.seconds_since(l.confirmed).max(0)),
            refresh_failures,
            rejected,
        };
        to_json(&line)
    }
}

/// One exchange with an OCSP responder, as its own EMF line.
#[derive(Debug)]
pub struct OcspRecord<'a> {
    /// When the exchange ended.
    pub time: mtls_x509::time::UnixTime,
    /// The issuer entry's name.
    pub issuer: &'a str,
    /// The responder, as logged.
    pub responder: &'a str,
    /// The certificate's serial (hex): a property, never a dimension.
    pub serial: &'a str,
    /// What it gave.
    pub result: OcspResult,
    /// Why it failed, for `error`: a short label (`fetch`, `timeout`,
    /// `status`, `signature`, `signer`, `certid`, `stale`...).
    pub error: Option<&'static str>,
    /// The exchange's duration.
    pub latency_ms: f64,
}

#[derive(Serialize)]
pub(super) struct OcspLine<'a> {
    #[serde(rename = "_aws")]
    pub(super) aws: Aws<'a>,
    pub(super) timestamp: String,
    pub(super) level: &'static str,
    pub(super) event: &'static str,
    pub(super) issuer: &'a str,
    pub(super) responder: &'a str,
    pub(super) serial: &'a str,
    pub(super) result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) error: Option<&'static str>,
    #[serde(rename = "OcspRequests")]
    pub(super) requests: u8,
    #[serde(rename = "OcspLatency")]
    pub(super) latency_ms: f64,
}

impl OcspRecord<'_> {
    /// The line: `OcspRequests` by result, and `OcspLatency`.
    #[must_use]
    pub fn to_line(&self, namespace: &Namespace) -> String {
        let line = OcspLine {
            aws: Aws::new(
                namespace,
                self.time.0.saturating_mul(1000),
                &[Metric::OcspRequests, Metric::OcspLatency],
            ),
            timestamp: self.time.to_string(),
            level: if self.result == OcspResult::Error {
                "WARN"
            } else {
                "INFO"
            },
            event: "ocsp_metrics",
            issuer: self.issuer,
            responder: self.responder,
            serial: self.serial,
            result: self.result.as_str(),
            error: self.error,
            requests: 1,
            latency_ms: round3(self.latency_ms),
        };
        to_json(&line)
    }
}

/// Milliseconds to the microsecond: enough for a dashboard, short in the log.
pub(super) fn round3(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

pub(super) fn to_json(line: &impl Serialize) -> String {
    // Serializing these structs cannot fail (string keys, finite numbers);
    // a line that did would be dropped rather than become a panic.
    serde_json::to_string(line).unwrap_or_default()
}
