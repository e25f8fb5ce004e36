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

use crate::decision::DenyReason;
use crate::error::{Error, Result, bounded};

/// The namespace used when `METRICS_NAMESPACE` is unset.
pub const DEFAULT_NAMESPACE: &str = "MtlsAuthorizer";

/// The `issuer` dimension's value for a decision that matched no issuer entry.
pub const NO_ISSUER: &str = "none";

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
    pub fn from_env_value(value: Option<&str>) -> Result<Self> {
        let value = value.map(str::trim).unwrap_or_default();
        if value.is_empty() {
            return Ok(Self(DEFAULT_NAMESPACE.to_owned()));
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || ".-_/#: ".contains(c);
        if value.len() > 255 || !value.chars().all(allowed) || value.starts_with("AWS/") {
            return Err(Error::Config(format!(
                "METRICS_NAMESPACE = `{}`: use 1-255 letters, digits or `.-_/#: `, not starting with `AWS/`",
                bounded(value)
            )));
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

/// Every metric the authorizer emits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// One per decision, by `decision`, by `reason`, and by `issuer`, `decision` and `reason`.
    Decisions,
    /// The authorizer's own work for one event, from the event to the answer.
    DecisionLatency,
    /// Seconds since the CRL's `thisUpdate`.
    CrlAgeSeconds,
    /// Seconds until the CRL's `nextUpdate`; negative once inside the grace period.
    CrlSecondsToNextUpdate,
    /// Revoked entries in the CRL in use.
    CrlEntries,
    /// Fetching, verifying and indexing a new CRL.
    CrlLoadMs,
    /// A refresh that could not read the source (`cause` fetch or too_large).
    CrlRefreshFailures,
    /// A CRL that was read and refused (`cause` signature, scope, rollback, expired, parse).
    CrlRejected,
    /// Seconds until the earliest `notAfter` among the truststore's CAs.
    TruststoreSecondsToFirstExpiry,
}

/// A dimension key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dimension {
    /// The issuer entry's `name` from the configuration, or [`NO_ISSUER`].
    Issuer,
    /// `allow` or `deny`.
    Decision,
    /// A reason code, or [`ALLOWED`].
    Reason,
    /// A [`Cause`].
    Cause,
}

impl Dimension {
    /// The key as it appears in the line.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Issuer => "issuer",
            Self::Decision => "decision",
            Self::Reason => "reason",
            Self::Cause => "cause",
        }
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

impl Metric {
    /// The catalogue, in the order docs/monitoring.md lists it.
    pub const ALL: [Self; 9] = [
        Self::Decisions,
        Self::DecisionLatency,
        Self::CrlAgeSeconds,
        Self::CrlSecondsToNextUpdate,
        Self::CrlEntries,
        Self::CrlLoadMs,
        Self::CrlRefreshFailures,
        Self::CrlRejected,
        Self::TruststoreSecondsToFirstExpiry,
    ];

    /// The metric's name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Decisions => "Decisions",
            Self::DecisionLatency => "DecisionLatency",
            Self::CrlAgeSeconds => "CrlAgeSeconds",
            Self::CrlSecondsToNextUpdate => "CrlSecondsToNextUpdate",
            Self::CrlEntries => "CrlEntries",
            Self::CrlLoadMs => "CrlLoadMs",
            Self::CrlRefreshFailures => "CrlRefreshFailures",
            Self::CrlRejected => "CrlRejected",
            Self::TruststoreSecondsToFirstExpiry => "TruststoreSecondsToFirstExpiry",
        }
    }

    /// The metric's unit.
    #[must_use]
    pub fn unit(self) -> Unit {
        match self {
            Self::Decisions | Self::CrlEntries | Self::CrlRefreshFailures | Self::CrlRejected => {
                Unit::Count
            }
            Self::DecisionLatency | Self::CrlLoadMs => Unit::Milliseconds,
            Self::CrlAgeSeconds
            | Self::CrlSecondsToNextUpdate
            | Self::TruststoreSecondsToFirstExpiry => Unit::Seconds,
        }
    }

    /// The dimension sets the metric is published under.
    #[must_use]
    pub fn dimension_sets(self) -> &'static [&'static [&'static str]] {
        match self {
            Self::Decisions => DECISION_SETS,
            Self::DecisionLatency | Self::TruststoreSecondsToFirstExpiry => NO_DIMENSION,
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
                    "name": m.name(),
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
            },
        })
    }
}

/// Why a CRL refresh did not install a new CRL: a bounded `cause` dimension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    /// The source could not be read: network, status, deadline, unsupported URI.
    Fetch,
    /// The source is larger than `max_fetch_bytes`.
    TooLarge,
    /// The signature does not verify, its algorithm is refused, or no truststore CA can check it.
    Signature,
    /// The CRL is another issuer's, or does not cover what it was fetched for.
    Scope,
    /// Older than a CRL already seen (CRL number or `thisUpdate`).
    Rollback,
    /// Past `nextUpdate` + grace, `thisUpdate` in the future, or no `nextUpdate`.
    Expired,
    /// Not a well-formed CRL, or one using a feature that is not implemented.
    Parse,
}

impl Cause {
    /// Every cause.
    pub const ALL: [Self; 7] = [
        Self::Fetch,
        Self::TooLarge,
        Self::Signature,
        Self::Scope,
        Self::Rollback,
        Self::Expired,
        Self::Parse,
    ];

    /// The dimension value.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fetch => "fetch",
            Self::TooLarge => "too_large",
            Self::Signature => "signature",
            Self::Scope => "scope",
            Self::Rollback => "rollback",
            Self::Expired => "expired",
            Self::Parse => "parse",
        }
    }

    /// The cause of a refresh error.
    #[must_use]
    pub fn of(error: &Error) -> Self {
        match error {
            Error::Fetch { .. } | Error::FetchTimeout { .. } | Error::UnsupportedUri(_) => {
                Self::Fetch
            }
            Error::FetchTooLarge { .. } => Self::TooLarge,
            Error::CrlBadSignature { .. }
            | Error::CrlSignatureAlgorithm(_)
            | Error::CrlIssuerUnknown { .. }
            | Error::Truststore(_) => Self::Signature,
            Error::CrlIssuerMismatch { .. } => Self::Scope,
            Error::CrlRollback { .. } => Self::Rollback,
            Error::CrlExpired { .. }
            | Error::CrlNotYetValid { .. }
            | Error::CrlMissingNextUpdate => Self::Expired,
            Error::CrlMalformed(_)
            | Error::CrlUnsupported(_)
            | Error::Config(_)
            | Error::MissingCertificate
            | Error::MalformedCertificate(_) => Self::Parse,
        }
    }

    /// Whether the cause counts as [`Metric::CrlRefreshFailures`] (the
    /// source could not be read) rather than [`Metric::CrlRejected`].
    #[must_use]
    pub fn is_refresh_failure(self) -> bool {
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
                name: m.name(),
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
const MAX_ID: usize = 128;

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
    pub time: crate::time::UnixTime,
    /// The issuer entry's name, if the certificate matched one.
    pub issuer: Option<&'a str>,
    /// `true` for Allow.
    pub allowed: bool,
    /// The deny reason code, for a Deny.
    pub reason: Option<&'static str>,
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
    /// Why a Deny was decided, for people.
    pub detail: Option<&'a str>,
    /// Where the request came from.
    pub ids: &'a RequestIds,
}

#[derive(Serialize)]
struct DecisionLine<'a> {
    #[serde(rename = "_aws")]
    aws: Aws<'a>,
    timestamp: String,
    level: &'static str,
    event: &'static str,
    decision: &'static str,
    reason: &'static str,
    issuer: &'a str,
    #[serde(rename = "Decisions")]
    decisions: u8,
    #[serde(rename = "DecisionLatency")]
    latency_ms: f64,
    serial: &'a str,
    subject: &'a str,
    fingerprint: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    crl_age_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
    #[serde(flatten)]
    ids: &'a RequestIds,
}

impl DecisionRecord<'_> {
    /// The decision line: one JSON line, no newline, that is both the
    /// decision log and the `Decisions` and `DecisionLatency` metrics.
    #[must_use]
    pub fn to_line(&self, namespace: &Namespace) -> String {
        let line = DecisionLine {
            aws: Aws::new(
                namespace,
                self.time.0.saturating_mul(1000),
                &[Metric::Decisions, Metric::DecisionLatency],
            ),
            timestamp: self.time.to_string(),
            level: "INFO",
            event: "decision",
            decision: if self.allowed { "allow" } else { "deny" },
            // An Allow has no reason code, but a dimension must have a value.
            reason: if self.allowed {
                ALLOWED
            } else {
                self.reason.unwrap_or("internal_error")
            },
            issuer: self.issuer.unwrap_or(NO_ISSUER),
            decisions: 1,
            latency_ms: round3(self.latency_ms),
            serial: self.serial,
            subject: self.subject,
            fingerprint: self.fingerprint,
            crl_age_seconds: self.crl_age_seconds,
            detail: self.detail,
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
    fn as_str(self) -> &'static str {
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
    pub this_update: crate::time::UnixTime,
    /// Its `nextUpdate`.
    pub next_update: crate::time::UnixTime,
    /// Its revoked entries.
    pub entries: usize,
}

/// One CRL source's refresh (or cold-start load), as its own EMF line.
#[derive(Debug)]
pub struct CrlRecord<'a> {
    /// When the refresh ended.
    pub time: crate::time::UnixTime,
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
struct CrlLine<'a> {
    #[serde(rename = "_aws")]
    aws: Aws<'a>,
    timestamp: String,
    level: &'static str,
    event: &'static str,
    issuer: &'a str,
    source: &'a str,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    cause: Option<&'static str>,
    #[serde(rename = "CrlAgeSeconds", skip_serializing_if = "Option::is_none")]
    age: Option<i64>,
    #[serde(
        rename = "CrlSecondsToNextUpdate",
        skip_serializing_if = "Option::is_none"
    )]
    to_next_update: Option<i64>,
    #[serde(rename = "CrlEntries", skip_serializing_if = "Option::is_none")]
    entries: Option<usize>,
    #[serde(rename = "CrlLoadMs", skip_serializing_if = "Option::is_none")]
    load_ms: Option<f64>,
    #[serde(rename = "CrlRefreshFailures", skip_serializing_if = "Option::is_none")]
    refresh_failures: Option<u8>,
    #[serde(rename = "CrlRejected", skip_serializing_if = "Option::is_none")]
    rejected: Option<u8>,
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
        let cause = match self.outcome {
            RefreshOutcome::Failed(c) => Some(c),
            _ => None,
        };
        let (refresh_failures, rejected) = match cause {
            Some(c) if c.is_refresh_failure() => {
                metrics.push(Metric::CrlRefreshFailures);
                (Some(1), None)
            }
            Some(_) => {
                metrics.push(Metric::CrlRejected);
                (None, Some(1))
            }
            None => (None, None),
        };
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
    pub time: crate::time::UnixTime,
    /// The truststore's source.
    pub source: &'a str,
    /// How many CA certificates it holds.
    pub cas: usize,
    /// The earliest `notAfter` among them, and that CA's subject.
    pub first_expiry: (crate::time::UnixTime, &'a str),
}

#[derive(Serialize)]
struct TruststoreLine<'a> {
    #[serde(rename = "_aws")]
    aws: Aws<'a>,
    timestamp: String,
    level: &'static str,
    event: &'static str,
    source: &'a str,
    cas: usize,
    first_expiry: String,
    first_expiry_subject: &'a str,
    #[serde(rename = "TruststoreSecondsToFirstExpiry")]
    seconds_to_first_expiry: i64,
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

/// Milliseconds to the microsecond: enough for a dashboard, short in the log.
fn round3(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

fn to_json(line: &impl Serialize) -> String {
    // Serializing these structs cannot fail (string keys, finite numbers);
    // a line that did would be dropped rather than become a panic.
    serde_json::to_string(line).unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::time::UnixTime;
    use serde_json::Value;

    const SCHEMA: &str = include_str!("../tests/data/emf.schema.json");
    const NOW: UnixTime = UnixTime(1_790_000_000);

    /// Checks `line` is one EMF document: the specification's structure
    /// (the JSON schema), and what a schema cannot say: every dimension key
    /// names a string member, every metric a number member, and each
    /// dimension's value is within its closed set. Returns the document.
    fn emf(line: &str) -> Value {
        assert!(!line.contains('\n'), "one line: {line}");
        let doc: Value = serde_json::from_str(line).unwrap();
        let schema: Value = serde_json::from_str(SCHEMA).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?} in {line}");
        let catalogue = Metric::catalogue_json();
        for directive in doc["_aws"]["CloudWatchMetrics"].as_array().unwrap() {
            for set in directive["Dimensions"].as_array().unwrap() {
                for key in set.as_array().unwrap() {
                    let key = key.as_str().unwrap();
                    let value = doc[key]
                        .as_str()
                        .unwrap_or_else(|| panic!("{key} in {line}"));
                    match key {
                        "issuer" => assert!(["devices", NO_ISSUER].contains(&value), "{value}"),
                        _ => {
                            let allowed = catalogue["dimension_values"][key].as_array().unwrap();
                            assert!(allowed.contains(&Value::from(value)), "{key}={value}");
                        }
                    }
                }
            }
            for metric in directive["Metrics"].as_array().unwrap() {
                let name = metric["Name"].as_str().unwrap();
                assert!(doc[name].is_number(), "{name} in {line}");
                let known = Metric::ALL.iter().find(|m| m.name() == name).unwrap();
                assert_eq!(metric["Unit"], serde_json::to_value(known.unit()).unwrap());
                assert_eq!(
                    directive["Dimensions"],
                    serde_json::to_value(known.dimension_sets()).unwrap()
                );
            }
        }
        doc
    }

    fn ids() -> RequestIds {
        RequestIds {
            lambda_request_id: Some("8f5e0e6c-0b9e-4a43-9d4e-2f0a3b1c9d77".into()),
            api_request_id: Some("c6af9ac6-7b61-11e6-9a41-93e8deadbeef".into()),
            api_extended_request_id: Some("RZ3hNEQ0IAMF1iw=".into()),
            trace_id: Some("Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700".into()),
        }
    }

    fn decision<'a>(ids: &'a RequestIds, allowed: bool, subject: &'a str) -> DecisionRecord<'a> {
        DecisionRecord {
            time: NOW,
            issuer: Some("devices"),
            allowed,
            reason: (!allowed).then_some("revoked"),
            latency_ms: 0.012_345_6,
            serial: "0a1b",
            subject,
            fingerprint: "ab12",
            crl_age_seconds: Some(60),
            detail: (!allowed).then_some("serial 0a1b is on the CRL"),
            ids,
        }
    }

    #[test]
    fn decision_line_is_one_emf_document_carrying_both_request_ids() {
        let ids = ids();
        let doc = emf(&decision(&ids, false, "CN=dev-1").to_line(&Namespace::default()));
        assert_eq!(doc["_aws"]["Timestamp"], 1_790_000_000_000_i64);
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "MtlsAuthorizer"
        );
        assert_eq!(doc["event"], "decision");
        assert_eq!(doc["Decisions"], 1);
        assert_eq!(doc["DecisionLatency"], 0.012);
        assert_eq!(doc["reason"], "revoked");
        assert_eq!(doc["decision"], "deny");
        assert_eq!(
            doc["api_request_id"],
            "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
        );
        assert_eq!(doc["api_extended_request_id"], "RZ3hNEQ0IAMF1iw=");
        assert_eq!(
            doc["lambda_request_id"],
            "8f5e0e6c-0b9e-4a43-9d4e-2f0a3b1c9d77"
        );
        assert_eq!(doc["trace_id"], "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700");
        assert_eq!(doc["timestamp"], NOW.to_string());
    }

    #[test]
    fn allow_has_the_allowed_reason_and_unmatched_certificates_the_none_issuer() {
        let ids = RequestIds::default();
        let mut record = decision(&ids, true, "CN=dev-1");
        let doc = emf(&record.to_line(&Namespace::default()));
        assert_eq!(
            (doc["decision"].as_str(), doc["reason"].as_str()),
            (Some("allow"), Some(ALLOWED))
        );
        assert!(doc.get("detail").is_none() && doc.get("api_request_id").is_none());
        record.issuer = None;
        record.allowed = false;
        record.reason = Some("issuer_not_allowed");
        let doc = emf(&record.to_line(&Namespace::default()));
        assert_eq!(doc["issuer"], NO_ISSUER);
    }

    #[test]
    fn hostile_certificate_text_never_reaches_a_dimension_or_breaks_the_line() {
        let ids = ids();
        let subject = "CN=evil\n{\"_aws\":1}\",issuer=\"x\u{2028}";
        let line = decision(&ids, false, subject).to_line(&Namespace::default());
        let doc = emf(&line);
        assert_eq!(doc["subject"], subject);
        assert_eq!(doc["issuer"], "devices");
        // Every dimension set names only the closed keys.
        for directive in doc["_aws"]["CloudWatchMetrics"].as_array().unwrap() {
            for set in directive["Dimensions"].as_array().unwrap() {
                for key in set.as_array().unwrap() {
                    assert!(["issuer", "decision", "reason"].contains(&key.as_str().unwrap()));
                }
            }
        }
    }

    #[test]
    fn request_ids_are_bounded_and_escaped() {
        let long = "a".repeat(10_000);
        assert_eq!(request_id(Some(&long)).unwrap().chars().count(), MAX_ID);
        assert_eq!(request_id(Some("  ")), None);
        assert_eq!(request_id(Some("id\nforged")).unwrap(), "id\\nforged");
    }

    fn crl(outcome: RefreshOutcome, in_use: Option<CrlInUse>) -> Value {
        let record = CrlRecord {
            time: NOW,
            issuer: "devices",
            source: "s3://pki/devices.crl",
            outcome,
            in_use,
            load_ms: Some(12.5),
        };
        emf(&record.to_line(&Namespace::default()))
    }

    const IN_USE: CrlInUse = CrlInUse {
        this_update: UnixTime(1_790_000_000 - 3600),
        next_update: UnixTime(1_790_000_000 + 7200),
        entries: 42,
    };

    #[test]
    fn installed_crl_line_reports_age_time_to_next_update_entries_and_load_time() {
        let doc = crl(RefreshOutcome::Installed, Some(IN_USE));
        assert_eq!(doc["event"], "crl_metrics");
        assert_eq!(doc["outcome"], "installed");
        assert_eq!(doc["CrlAgeSeconds"], 3600);
        assert_eq!(doc["CrlSecondsToNextUpdate"], 7200);
        assert_eq!(doc["CrlEntries"], 42);
        assert_eq!(doc["CrlLoadMs"], 12.5);
        assert!(doc.get("CrlRefreshFailures").is_none() && doc.get("cause").is_none());
    }

    #[test]
    fn unchanged_crl_line_keeps_the_gauges_without_a_load_time() {
        let doc = crl(RefreshOutcome::Unchanged, Some(IN_USE));
        assert_eq!(doc["CrlSecondsToNextUpdate"], 7200);
        assert!(doc.get("CrlLoadMs").is_none());
    }

    #[test]
    fn failed_refresh_counts_a_failure_with_its_cause_and_keeps_reporting_the_crl_in_use() {
        let overdue = CrlInUse {
            next_update: UnixTime(1_790_000_000 - 600),
            ..IN_USE
        };
        let doc = crl(RefreshOutcome::Failed(Cause::Fetch), Some(overdue));
        assert_eq!(
            (doc["outcome"].as_str(), doc["cause"].as_str()),
            (Some("failed"), Some("fetch"))
        );
        assert_eq!(doc["CrlRefreshFailures"], 1);
        // Inside the grace period: negative.
        assert_eq!(doc["CrlSecondsToNextUpdate"], -600);
        assert!(doc.get("CrlRejected").is_none() && doc.get("CrlLoadMs").is_none());
    }

    #[test]
    fn rejected_crl_counts_as_rejected_and_a_source_never_loaded_has_no_gauges() {
        let doc = crl(RefreshOutcome::Failed(Cause::Signature), None);
        assert_eq!(
            (doc["outcome"].as_str(), doc["cause"].as_str()),
            (Some("rejected"), Some("signature"))
        );
        assert_eq!(doc["CrlRejected"], 1);
        assert!(doc.get("CrlAgeSeconds").is_none() && doc.get("CrlRefreshFailures").is_none());
    }

    #[test]
    fn every_refresh_error_maps_to_its_documented_cause() {
        let t = UnixTime(0);
        let cases = [
            (
                Error::Fetch {
                    uri: "u".into(),
                    reason: "r".into(),
                },
                Cause::Fetch,
            ),
            (
                Error::FetchTimeout {
                    uri: "u".into(),
                    seconds: 1,
                },
                Cause::Fetch,
            ),
            (
                Error::FetchTooLarge {
                    uri: "u".into(),
                    limit: 1,
                },
                Cause::TooLarge,
            ),
            (
                Error::CrlBadSignature { issuer: "i".into() },
                Cause::Signature,
            ),
            (
                Error::CrlSignatureAlgorithm("sha1".into()),
                Cause::Signature,
            ),
            (
                Error::CrlIssuerUnknown { issuer: "i".into() },
                Cause::Signature,
            ),
            (
                Error::CrlIssuerMismatch {
                    expected: "a".into(),
                    crl_issuer: "b".into(),
                },
                Cause::Scope,
            ),
            (
                Error::CrlRollback {
                    what: "CRL number",
                    cached: "2".into(),
                    offered: "1".into(),
                },
                Cause::Rollback,
            ),
            (
                Error::CrlExpired {
                    next_update: t,
                    grace_seconds: 0,
                    now: t,
                },
                Cause::Expired,
            ),
            (
                Error::CrlNotYetValid {
                    this_update: t,
                    now: t,
                },
                Cause::Expired,
            ),
            (Error::CrlMissingNextUpdate, Cause::Expired),
            (Error::CrlMalformed("x".into()), Cause::Parse),
            (Error::CrlUnsupported("delta".into()), Cause::Parse),
        ];
        for (error, cause) in cases {
            assert_eq!(Cause::of(&error), cause, "{error}");
        }
        assert!(
            Cause::ALL
                .iter()
                .filter(|c| c.is_refresh_failure())
                .eq(&[Cause::Fetch, Cause::TooLarge])
        );
    }

    #[test]
    fn truststore_line_reports_seconds_to_the_first_ca_expiry() {
        let line = TruststoreRecord {
            time: NOW,
            source: "s3://b/truststore.pem",
            cas: 3,
            first_expiry: (NOW.offset(86_400 * 20), "CN=Old Root"),
        }
        .to_line(&Namespace::default());
        let doc = emf(&line);
        assert_eq!(doc["TruststoreSecondsToFirstExpiry"], 86_400 * 20);
        assert_eq!(doc["first_expiry_subject"], "CN=Old Root");
    }

    #[test]
    fn namespace_defaults_and_refuses_what_cloudwatch_would_drop() {
        assert_eq!(
            Namespace::from_env_value(None).unwrap().as_str(),
            DEFAULT_NAMESPACE
        );
        assert_eq!(
            Namespace::from_env_value(Some(" ")).unwrap().as_str(),
            DEFAULT_NAMESPACE
        );
        assert_eq!(
            Namespace::from_env_value(Some("Acme/mTLS prod"))
                .unwrap()
                .as_str(),
            "Acme/mTLS prod"
        );
        for bad in ["AWS/Lambda", "café", "a\u{0}b", &"x".repeat(256)] {
            assert!(Namespace::from_env_value(Some(bad)).is_err(), "{bad}");
        }
        let ids = ids();
        let doc = emf(&decision(&ids, true, "CN=a")
            .to_line(&Namespace::from_env_value(Some("Acme/mTLS")).unwrap()));
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "Acme/mTLS"
        );
    }

    #[test]
    fn the_catalogue_lists_every_metric_once_with_every_reason_code() {
        let catalogue = Metric::catalogue_json();
        let names: Vec<&str> = catalogue["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["name"].as_str().unwrap())
            .collect();
        assert_eq!(names.len(), Metric::ALL.len());
        let unique: std::collections::BTreeSet<&str> = names.iter().copied().collect();
        assert_eq!(unique.len(), names.len());
        assert_eq!(
            catalogue["dimension_values"]["reason"]
                .as_array()
                .unwrap()
                .len(),
            DenyReason::ALL.len() + 1
        );
    }
}
