//! CloudWatch metrics as Embedded Metric Format (EMF) log lines.
//!
//! EMF is a JSON log line whose `_aws.CloudWatchMetrics` member tells
//! CloudWatch Logs which top-level members are metrics, in which namespace,
//! with which dimensions. Lambda's log pipeline extracts them: there is no
//! agent, no API call and no extra latency. The decision line the authorizer
//! already writes *is* the metric record, so a request costs one line.
//!
//! This module is pure: it builds lines from values and never writes or reads
//! the clock. [`Metric::ALL`] is the catalogue the infrastructure's alarms and
//! dashboard are checked against (`infra/metrics.json`, kept in step by a
//! test), so an alarm cannot watch a metric the authorizer does not emit.
//!
//! Dimensions stay bounded by construction: an issuer entry's name (from the
//! configuration), the decision, the reason code and the refresh failure
//! cause are each a closed set. A certificate's serial or subject never
//! becomes a dimension; they are plain properties of the line.

use serde::Serialize;

use crate::labels::labelled_enum;

use crate::config::Setting;
use crate::decision::DenyReason;
use crate::error::{ConfigError, ConfigProblem, Error};

/// The namespace used when `METRICS_NAMESPACE` is unset.
pub const DEFAULT_NAMESPACE: &str = "MtlsAuthorizer";

/// The `issuer` dimension's value for a decision that matched no issuer entry.
pub(crate) const NO_ISSUER: &str = "none";

/// The `reason` dimension's value for an Allow.
pub const ALLOWED: &str = "allowed";

/// A CloudWatch namespace, checked once at cold start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Namespace(String);

impl Namespace {
    /// Parses `METRICS_NAMESPACE`; unset or empty means [`DEFAULT_NAMESPACE`].
    /// CloudWatch accepts 1–255 characters of letters, digits and `.-_/#: `,
    /// and reserves the `AWS/` prefix; anything else would make every metric
    /// of the line silently disappear, so it stops the cold start instead.
    pub fn from_env_value(value: Option<&str>) -> Result<Self, ConfigError> {
        let value = value.map(str::trim).unwrap_or_default();
        if value.is_empty() {
            return Ok(Self(DEFAULT_NAMESPACE.to_owned()));
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || ".-_/#: ".contains(c);
        if value.len() > 255 || !value.chars().all(allowed) || value.starts_with("AWS/") {
            return Err(Setting::top("METRICS_NAMESPACE").error(ConfigProblem::BadNamespace));
        }
        Ok(Self(value.to_owned()))
    }

    /// The namespace text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Namespace {
    fn default() -> Self {
        Self(DEFAULT_NAMESPACE.to_owned())
    }
}

/// A metric's unit, as CloudWatch spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Unit {
    /// A count of events.
    Count,
    /// A duration in milliseconds.
    Milliseconds,
    /// A duration or an age in seconds (negative for "overdue").
    Seconds,
}

labelled_enum! {
    /// Every metric the authorizer emits.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Metric {
        /// One per decision, by `decision`, by `reason`, and by `issuer`, `decision` and `reason`.
        Decisions => "Decisions",
        /// The authorizer's own work for one event, from the event to the answer.
        DecisionLatency => "DecisionLatency",
        /// Seconds since the CRL's `thisUpdate`.
        CrlAgeSeconds => "CrlAgeSeconds",
        /// Seconds until the CRL's `nextUpdate`; negative once inside the grace period.
        CrlSecondsToNextUpdate => "CrlSecondsToNextUpdate",
        /// Revoked entries in the CRL in use.
        CrlEntries => "CrlEntries",
        /// Fetching, verifying and indexing a new CRL.
        CrlLoadMs => "CrlLoadMs",
        /// A refresh that could not read the source (`cause` fetch or too_large).
        CrlRefreshFailures => "CrlRefreshFailures",
        /// A CRL that was read and refused (`cause` signature, scope, rollback, expired, parse).
        CrlRejected => "CrlRejected",
        /// Seconds until the earliest `notAfter` among the truststore's CAs.
        TruststoreSecondsToFirstExpiry => "TruststoreSecondsToFirstExpiry",
        /// Entries of the deny list in use.
        DenyListEntries => "DenyListEntries",
        /// Seconds since the deny list in use was last confirmed current (a
        /// fetch or a 304); it grows while refreshes fail or are refused.
        DenyListAgeSeconds => "DenyListAgeSeconds",
        /// A deny-list refresh that could not read the source (`cause` fetch or too_large).
        DenyListRefreshFailures => "DenyListRefreshFailures",
        /// A deny list that was read and refused (`cause` parse or rollback).
        DenyListRejected => "DenyListRejected",
        /// One exchange with an OCSP responder, by `result`: `good`, `revoked`,
        /// `unknown`, or `error` (no verified answer: network, status, size,
        /// signature, signer, CertID or time).
        OcspRequests => "OcspRequests",
        /// One exchange with an OCSP responder, from the request to the
        /// verified answer or the failure.
        OcspLatency => "OcspLatency",
        /// A decision that used a cached OCSP answer, with no exchange.
        OcspCacheHits => "OcspCacheHits",
    }
}

// Dimension sets, as EMF writes them. An empty set publishes the metric
// without dimensions: the total over all issuers, which the alarms watch
// without knowing the issuer names.
// The keys are the decision line's existing field names, so log queries
// written before metrics keep working.
const DECISION_SETS: &[&[&str]] = &[
    &["decision"],
    &["reason"],
    &["issuer", "decision", "reason"],
];
const NO_DIMENSION: &[&[&str]] = &[&[]];
const CRL_GAUGE_SETS: &[&[&str]] = &[&[], &["issuer"]];
const CRL_CAUSE_SETS: &[&[&str]] = &[&[], &["issuer", "cause"]];
const DENY_LIST_CAUSE_SETS: &[&[&str]] = &[&[], &["cause"]];
const OCSP_RESULT_SETS: &[&[&str]] = &[&["result"], &["issuer", "result"]];

impl Metric {
    /// The metric's unit.
    #[must_use]
    pub fn unit(self) -> Unit {
        match self {
            Self::Decisions
            | Self::CrlEntries
            | Self::CrlRefreshFailures
            | Self::CrlRejected
            | Self::DenyListEntries
            | Self::DenyListRefreshFailures
            | Self::DenyListRejected
            | Self::OcspRequests
            | Self::OcspCacheHits => Unit::Count,
            Self::DecisionLatency | Self::CrlLoadMs | Self::OcspLatency => Unit::Milliseconds,
            Self::CrlAgeSeconds
            | Self::CrlSecondsToNextUpdate
            | Self::TruststoreSecondsToFirstExpiry
            | Self::DenyListAgeSeconds => Unit::Seconds,
        }
    }

    /// The dimension sets the metric is published under.
    #[must_use]
    pub(crate) fn dimension_sets(self) -> &'static [&'static [&'static str]] {
        match self {
            Self::Decisions => DECISION_SETS,
            Self::DecisionLatency
            | Self::TruststoreSecondsToFirstExpiry
            | Self::DenyListEntries
            | Self::DenyListAgeSeconds => NO_DIMENSION,
            Self::DenyListRefreshFailures | Self::DenyListRejected => DENY_LIST_CAUSE_SETS,
            Self::OcspRequests => OCSP_RESULT_SETS,
            Self::OcspLatency | Self::OcspCacheHits => CRL_GAUGE_SETS,
            Self::CrlAgeSeconds
            | Self::CrlSecondsToNextUpdate
            | Self::CrlEntries
            | Self::CrlLoadMs => CRL_GAUGE_SETS,
            Self::CrlRefreshFailures | Self::CrlRejected => CRL_CAUSE_SETS,
        }
    }

    /// The catalogue as JSON, for `authorizer --print-metrics` and
    /// `infra/metrics.json`: every metric's name, unit and dimension sets,
    /// and every dimension's closed set of values where the code fixes it.
    #[must_use]
    pub fn catalogue_json() -> serde_json::Value {
        let metrics: Vec<serde_json::Value> = Self::ALL
            .iter()
            .map(|m| {
                serde_json::json!({
                    "name": m.as_str(),
                    "unit": m.unit(),
                    "dimensions": m.dimension_sets(),
                })
            })
            .collect();
        let mut reason_values = vec![ALLOWED];
        reason_values.extend(DenyReason::ALL.iter().map(|r| r.as_str()));
        serde_json::json!({
            "default_namespace": DEFAULT_NAMESPACE,
            "metrics": metrics,
            "dimension_values": {
                "decision": ["allow", "deny"],
                "reason": reason_values,
                "cause": Cause::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
                "result": OcspResult::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            },
        })
    }
}

labelled_enum! {
    /// What one exchange with an OCSP responder gave: a bounded `result` dimension.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum OcspResult {
        /// A verified `good`.
        Good => "good",
        /// A verified `revoked`.
        Revoked => "revoked",
        /// A verified `unknown`.
        Unknown => "unknown",
        /// No verified answer.
        Error => "error",
    }
}

labelled_enum! {
    /// Why a CRL refresh did not install a new CRL: a bounded `cause` dimension.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Cause {
        /// The source could not be read: network, status, deadline, unsupported URI.
        Fetch => "fetch",
        /// The source is larger than `max_fetch_bytes`.
        TooLarge => "too_large",
        /// The signature does not verify, its algorithm is refused, or no truststore CA can check it.
        Signature => "signature",
        /// The CRL is another issuer's, or does not cover what it was fetched for.
        Scope => "scope",
        /// Older than a CRL already seen (CRL number or `thisUpdate`), or a new
        /// sequence while the rollback guard is full.
        Rollback => "rollback",
        /// Past `nextUpdate` + grace, `thisUpdate` in the future, or no `nextUpdate`.
        Expired => "expired",
        /// Not a well-formed CRL, or one using a feature that is not implemented.
        Parse => "parse",
    }
}

/// An error a refresh can end with, classified for the `cause` dimension.
/// The cores' refusals are classified here; an edge that fetches classifies
/// its own failures (`fetch`, `too_large`) and defers to these for the rest.
pub trait RefreshCause {
    /// The cause.
    fn cause(&self) -> Cause;
}

impl RefreshCause for mtls_x509::Error {
    fn cause(&self) -> Cause {
        use mtls_x509::Error as E;
        match self {
            E::CrlBadSignature { .. }
            | E::CrlSignatureAlgorithm(_)
            | E::CrlIssuerUnknown { .. }
            | E::Truststore(_) => Cause::Signature,
            E::CrlIssuerMismatch { .. } => Cause::Scope,
            E::CrlRollback(_) | E::CrlSequenceLimit { .. } => Cause::Rollback,
            E::CrlExpired { .. } | E::CrlNotYetValid { .. } | E::CrlMissingNextUpdate => {
                Cause::Expired
            }
            E::CrlMalformed(_)
            | E::CrlUnsupported(_)
            | E::MissingCertificate
            | E::MalformedCertificate(_)
            | E::MalformedName(_) => Cause::Parse,
        }
    }
}

impl RefreshCause for Error {
    fn cause(&self) -> Cause {
        match self {
            Self::X509(e) => e.cause(),
            Self::DenyListRollback { .. } | Self::DenyListSequenceReused { .. } => Cause::Rollback,
            Self::DenyListMalformed { .. } | Self::Config(_) => Cause::Parse,
        }
    }
}

impl Cause {
    /// The cause of a refresh error.
    #[must_use]
    pub fn of<E: RefreshCause + ?Sized>(error: &E) -> Self {
        error.cause()
    }

    /// Whether the cause counts as [`Metric::CrlRefreshFailures`] (the
    /// source could not be read) rather than [`Metric::CrlRejected`].
    #[must_use]
    pub(crate) fn is_refresh_failure(self) -> bool {
        matches!(self, Self::Fetch | Self::TooLarge)
    }
}

/// The `_aws` member of an EMF line.
#[derive(Debug, Serialize)]
struct Aws<'a> {
    #[serde(rename = "Timestamp")]
    timestamp_ms: i64,
    #[serde(rename = "CloudWatchMetrics")]
    directives: Vec<Directive<'a>>,
}

/// One `CloudWatchMetrics` entry: metrics that share dimension sets.
#[derive(Debug, Serialize)]
struct Directive<'a> {
    #[serde(rename = "Namespace")]
    namespace: &'a str,
    #[serde(rename = "Dimensions")]
    dimensions: &'static [&'static [&'static str]],
    #[serde(rename = "Metrics")]
    metrics: Vec<Definition>,
}

#[derive(Debug, Serialize)]
struct Definition {
    #[serde(rename = "Name")]
    name: &'static str,
    #[serde(rename = "Unit")]
    unit: Unit,
}

impl<'a> Aws<'a> {
    /// One directive per distinct dimension-set list among `metrics`.
    fn new(namespace: &'a Namespace, timestamp_ms: i64, metrics: &[Metric]) -> Self {
        let mut directives: Vec<Directive<'a>> = Vec::new();
        for &m in metrics {
            let sets = m.dimension_sets();
            let definition = Definition {
                name: m.as_str(),
                unit: m.unit(),
            };
            match directives.iter_mut().find(|d| d.dimensions == sets) {
                Some(d) => d.metrics.push(definition),
                None => directives.push(Directive {
                    namespace: namespace.as_str(),
                    dimensions: sets,
                    metrics: vec![definition],
                }),
            }
        }
        Self {
            timestamp_ms,
            directives,
        }
    }
}

mod records;
#[cfg(test)]
mod tests;

pub use records::{
    CrlInUse, CrlRecord, DecisionRecord, DenyListInUse, DenyListRecord, OcspRecord, OcspUse,
    RefreshOutcome, RequestIds, TruststoreRecord, request_id,
};
