//! The configuration contract (`AUTHORIZER_CONFIG`) and the policy it describes.
//!
//! Parsing is strict: unknown fields, empty matches, missing CRLs and
//! out-of-range durations are errors at cold start, never a silent Allow.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

pub use crate::error::{ConfigError, ConfigProblem, Entry, JsonCategory};
use crate::source::SourceUri;
use mtls_x509::crl::CrlTimePolicy;

/// The configuration's result type.
type Result<T, E = ConfigError> = std::result::Result<T, E>;

mod policy;
mod revocation;
mod routes;

pub use mtls_x509::crl::DeltaPolicy;
pub use policy::{AttributeMatch, DnsPattern, EkuPolicy, PolicyResource, SubjectRule, UriPattern};
pub use revocation::{
    CdpPolicy, CdpPrefix, CdpSource, MAX_CDP_PREFIXES, MAX_CDP_SUFFIX, MAX_CRL_SOURCES, OcspHash,
    OcspPolicy, OcspResponders, Revocation,
};
use revocation::{RawOcsp, cdp_policy, crl_sources, ocsp_policy};
use routes::RawRoute;
pub use routes::{MAX_ROUTES, RequestRoute, Route, RouteMethod, RoutePath, Routes};

/// One value or a list of acceptable values.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(s) => vec![s],
            Self::Many(v) => v,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    truststore: String,
    issuers: Vec<RawIssuer>,
    #[serde(default = "defaults::crl_refresh")]
    crl_refresh_seconds: i64,
    #[serde(default = "defaults::crl_grace")]
    crl_grace_seconds: i64,
    #[serde(default = "defaults::crl_retry")]
    crl_retry_seconds: i64,
    #[serde(default = "defaults::truststore_refresh")]
    truststore_refresh_seconds: i64,
    #[serde(default = "defaults::clock_skew")]
    clock_skew_seconds: i64,
    #[serde(default = "defaults::fetch_timeout")]
    fetch_timeout_seconds: i64,
    #[serde(default = "defaults::max_fetch_bytes")]
    max_fetch_bytes: u64,
    #[serde(default)]
    policy_resource: PolicyResource,
    #[serde(default = "defaults::max_cdp_crls")]
    max_cdp_crls_per_issuer: i64,
    #[serde(default)]
    deny_list: Option<String>,
    #[serde(default = "defaults::deny_list_refresh")]
    deny_list_refresh_seconds: i64,
    #[serde(default = "defaults::deny_list_max_age")]
    deny_list_max_age_seconds: i64,
    #[serde(default)]
    ca_revocation: Vec<RawCaRevocation>,
    #[serde(default)]
    ca_revocation_required: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCaRevocation {
    name: String,
    #[serde(rename = "match")]
    match_: BTreeMap<String, OneOrMany>,
    #[serde(default)]
    crl: Option<OneOrMany>,
    #[serde(default)]
    crl_from_cdp: Option<Vec<RawCdpPrefix>>,
    #[serde(default)]
    delta_crl: Option<OneOrMany>,
    #[serde(default)]
    delta: Option<DeltaMode>,
}

/// Whether every CA below the trust anchor must be checked against a CRL of
/// its parent (`ca_revocation_required`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum CaRevocationCoverage {
    /// CAs whose parent has a `ca_revocation` entry are checked; others are not.
    #[default]
    WhereConfigured,
    /// A CA whose parent has no `ca_revocation` entry is `crl_unavailable`.
    Required,
}

mod defaults {
    pub fn crl_refresh() -> i64 {
        300
    }
    pub fn crl_grace() -> i64 {
        3600
    }
    pub fn crl_retry() -> i64 {
        30
    }
    pub fn truststore_refresh() -> i64 {
        300
    }
    pub(crate) fn clock_skew() -> i64 {
        60
    }
    pub fn fetch_timeout() -> i64 {
        5
    }
    pub fn max_fetch_bytes() -> u64 {
        64 * 1024 * 1024
    }
    pub(crate) fn max_cdp_crls() -> i64 {
        64
    }
    pub(crate) fn deny_list_refresh() -> i64 {
        10
    }
    pub(crate) fn deny_list_max_age() -> i64 {
        900
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIssuer {
    name: String,
    #[serde(rename = "match")]
    match_: BTreeMap<String, OneOrMany>,
    #[serde(default)]
    crl: Option<OneOrMany>,
    #[serde(default)]
    crl_from_cdp: Option<Vec<RawCdpPrefix>>,
    #[serde(default)]
    delta_crl: Option<OneOrMany>,
    #[serde(default)]
    delta: Option<DeltaMode>,
    #[serde(default)]
    ocsp: Option<RawOcsp>,
    #[serde(default)]
    revocation: Option<RevocationMode>,
    #[serde(default)]
    subject: Option<RawSubject>,
    #[serde(default)]
    routes: Option<Vec<RawRoute>>,
}

/// `delta`: whether delta CRLs are applied (the default) or ignored.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum DeltaMode {
    Apply,
    Ignore,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCdpPrefix {
    prefix: String,
    #[serde(default)]
    fetch: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RawSubject {
    #[serde(default)]
    san_dns: Option<Vec<String>>,
    #[serde(default)]
    san_uri: Option<Vec<String>>,
    #[serde(default)]
    eku: EkuPolicy,
    /// Every other key is a DN attribute (`OU`, `CN`, dotted OID…).
    #[serde(flatten)]
    attributes: BTreeMap<String, OneOrMany>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum RevocationMode {
    Crl,
    None,
}

/// One accepted issuer and what it may present.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuerRule {
    /// The entry's name, echoed in the `issuer` context key.
    pub(crate) name: String,
    /// Issuer DN attributes that must all match.
    pub(crate) issuer: AttributeMatch,
    /// Subject constraints.
    pub(crate) subject: SubjectRule,
    /// Revocation checking by CRLs.
    pub(crate) revocation: Revocation,
    /// How delta CRLs are read.
    pub(crate) delta: DeltaPolicy,
    /// Revocation checking by OCSP, beside or instead of CRLs.
    pub(crate) ocsp: Option<OcspPolicy>,
    /// The routes its certificates may call; `None`: every route.
    pub(crate) routes: Option<Routes>,
}

/// The validated configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Where the truststore bundle lives.
    pub(crate) truststore: SourceUri,
    /// Issuer entries, in order: the first match wins.
    pub(crate) issuers: Vec<IssuerRule>,
    /// Seconds between conditional CRL refreshes.
    pub(crate) crl_refresh_seconds: i64,
    /// Seconds a CRL stays usable past `nextUpdate` when refreshes fail.
    pub(crate) crl_grace_seconds: i64,
    /// Seconds to wait before retrying a failed fetch.
    pub(crate) crl_retry_seconds: i64,
    /// Seconds between conditional truststore refreshes.
    pub(crate) truststore_refresh_seconds: i64,
    /// Tolerated clock difference for certificate and CRL times.
    pub(crate) clock_skew_seconds: i64,
    /// Whole-request deadline for one fetch.
    pub(crate) fetch_timeout_seconds: u64,
    /// Largest object a fetch will accept.
    pub(crate) max_fetch_bytes: u64,
    /// IAM policy resource scope.
    pub(crate) policy_resource: PolicyResource,
    /// The most CRLs found through `crl_from_cdp` that one issuer entry holds
    /// at once; the least recently used is dropped beyond it.
    pub(crate) max_cdp_crls_per_issuer: usize,
    /// The operator deny list, if any.
    pub(crate) deny_list: Option<DenyListSource>,
    /// CAs that issue CA certificates, and their CRLs (ARLs).
    pub(crate) ca_revocation: Vec<IssuerRule>,
    /// Whether every CA of a path must be covered.
    pub(crate) ca_revocation_coverage: CaRevocationCoverage,
}

/// Where the operator deny list lives, and how fresh it must be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DenyListSource {
    /// The list's URI.
    pub(crate) uri: SourceUri,
    /// The longest a decision may use a list fetched this many seconds ago
    /// while the source answers.
    pub(crate) refresh_seconds: i64,
    /// How long the last good list stays in use while refreshes fail.
    pub(crate) max_age_seconds: i64,
}

impl DenyListSource {
    /// The list's URI.
    #[must_use]
    pub fn uri(&self) -> &SourceUri {
        &self.uri
    }

    /// `deny_list_refresh_seconds`: a request that finds the list older
    /// than this waits for a conditional fetch.
    #[must_use]
    pub fn refresh_seconds(&self) -> i64 {
        self.refresh_seconds
    }

    /// `deny_list_max_age_seconds`: past this since the last successful
    /// fetch, every request is denied `deny_list_unavailable`.
    #[must_use]
    pub fn max_age_seconds(&self) -> i64 {
        self.max_age_seconds
    }
}

/// Where a setting is in the document: which entry, if any, and its key.
/// Errors about it are made here, so each names its place.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Setting {
    entry: Option<Entry>,
    name: &'static str,
}

impl Setting {
    /// A setting at the top of the document, or from the environment.
    pub(crate) const fn top(name: &'static str) -> Self {
        Self { entry: None, name }
    }

    /// A setting of an `issuers` or `ca_revocation` entry.
    pub(crate) const fn of(entry: Entry, name: &'static str) -> Self {
        Self {
            entry: Some(entry),
            name,
        }
    }

    /// Another setting of the same entry.
    pub(crate) const fn sibling(self, name: &'static str) -> Self {
        Self {
            entry: self.entry,
            name,
        }
    }

    /// The setting breaks `problem`.
    pub(crate) fn error(self, problem: impl Into<ConfigProblem>) -> ConfigError {
        ConfigError {
            entry: self.entry,
            setting: self.name,
            item: None,
            problem: problem.into(),
        }
    }

    /// Item `item` of the (list) setting breaks `problem`.
    pub(crate) fn item_error(self, item: usize, problem: impl Into<ConfigProblem>) -> ConfigError {
        ConfigError {
            item: Some(item),
            ..self.error(problem)
        }
    }
}

fn bounded(setting: Setting, value: i64, min: i64, max: i64) -> Result<i64> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(setting.error(ConfigProblem::OutOfRange { value, min, max }))
    }
}

/// serde_json's own description of why `text` is not a configuration
/// document (the unknown field's name, the type it wanted), for an edge that
/// holds the document and shows a [`ConfigProblem::Json`] to an operator.
/// `None` when it parses as far as JSON goes. Cut to
/// [`mtls_x509::error::MAX_ERROR_TEXT`] characters.
#[must_use]
pub fn json_detail(text: &str) -> Option<String> {
    serde_json::from_str::<RawConfig>(text)
        .err()
        .map(|e| mtls_x509::error::bounded(&e.to_string()))
}

/// The most grace we allow: a week. Grace bounds how long a revoked device
/// stays allowed when the CA stops publishing, so it must not be unbounded.
pub const MAX_GRACE_SECONDS: i64 = 7 * 24 * 3600;

impl Config {
    /// Where the truststore bundle lives.
    #[must_use]
    pub fn truststore(&self) -> &SourceUri {
        &self.truststore
    }

    /// Issuer entries, in order: the first match wins.
    #[must_use]
    pub fn issuers(&self) -> &[IssuerRule] {
        &self.issuers
    }

    /// Seconds between conditional CRL refreshes.
    #[must_use]
    pub fn crl_refresh_seconds(&self) -> i64 {
        self.crl_refresh_seconds
    }

    /// Seconds a CRL stays usable past `nextUpdate` when refreshes fail.
    #[must_use]
    pub fn crl_grace_seconds(&self) -> i64 {
        self.crl_grace_seconds
    }

    /// Seconds to wait before retrying a failed fetch.
    #[must_use]
    pub fn crl_retry_seconds(&self) -> i64 {
        self.crl_retry_seconds
    }

    /// Seconds between conditional truststore refreshes.
    #[must_use]
    pub fn truststore_refresh_seconds(&self) -> i64 {
        self.truststore_refresh_seconds
    }

    /// Tolerated clock difference for certificate and CRL times.
    #[must_use]
    pub fn clock_skew_seconds(&self) -> i64 {
        self.clock_skew_seconds
    }

    /// Whole-request deadline for one fetch.
    #[must_use]
    pub fn fetch_timeout_seconds(&self) -> u64 {
        self.fetch_timeout_seconds
    }

    /// Largest object a fetch will accept.
    #[must_use]
    pub fn max_fetch_bytes(&self) -> u64 {
        self.max_fetch_bytes
    }

    /// IAM policy resource scope.
    #[must_use]
    pub fn policy_resource(&self) -> PolicyResource {
        self.policy_resource
    }

    /// The most CRLs found through `crl_from_cdp` that one issuer entry holds at once.
    #[must_use]
    pub fn max_cdp_crls_per_issuer(&self) -> usize {
        self.max_cdp_crls_per_issuer
    }

    /// The operator deny list, if one is configured.
    #[must_use]
    pub fn deny_list(&self) -> Option<&DenyListSource> {
        self.deny_list.as_ref()
    }

    /// The `ca_revocation` entries: each matches a CA that issues CA
    /// certificates, and names its CRLs.
    #[must_use]
    pub fn ca_revocation(&self) -> &[IssuerRule] {
        &self.ca_revocation
    }

    /// Parses and validates a JSON configuration document.
    ///
    /// # Errors
    /// The first setting that breaks a rule. For JSON that does not parse,
    /// [`ConfigProblem::Json`] says where; [`json_detail`] says more.
    pub fn from_json(text: &str) -> Result<Self> {
        let raw: RawConfig = serde_json::from_str(text).map_err(|e| ConfigError {
            entry: None,
            setting: "",
            item: None,
            problem: ConfigProblem::Json {
                line: e.line(),
                column: e.column(),
                category: JsonCategory::of(&e),
            },
        })?;
        Self::from_raw(raw)
    }

    fn from_raw(raw: RawConfig) -> Result<Self> {
        let truststore =
            SourceUri::parse(&raw.truststore).map_err(|e| Setting::top("truststore").error(e))?;
        if raw.issuers.is_empty() {
            return Err(Setting::top("issuers").error(ConfigProblem::NoIssuer));
        }
        let mut names = BTreeSet::new();
        let mut issuers = Vec::with_capacity(raw.issuers.len());
        for (i, entry) in raw.issuers.into_iter().enumerate() {
            let rule = IssuerRule::from_raw(entry, Entry::Issuer(i))?;
            if !names.insert(rule.name.clone()) {
                return Err(
                    Setting::of(Entry::Issuer(i), "name").error(ConfigProblem::DuplicateName)
                );
            }
            issuers.push(rule);
        }
        let max_bytes = raw.max_fetch_bytes;
        if !(1024..=1 << 30).contains(&max_bytes) {
            return Err(
                Setting::top("max_fetch_bytes").error(ConfigProblem::OutOfRange {
                    value: i64::try_from(max_bytes).unwrap_or(i64::MAX),
                    min: 1024,
                    max: 1 << 30,
                }),
            );
        }
        let deny_list = match raw.deny_list {
            None => None,
            Some(uri) => {
                let refresh_seconds = bounded(
                    Setting::top("deny_list_refresh_seconds"),
                    raw.deny_list_refresh_seconds,
                    1,
                    3600,
                )?;
                let max_age_seconds = bounded(
                    Setting::top("deny_list_max_age_seconds"),
                    raw.deny_list_max_age_seconds,
                    refresh_seconds,
                    MAX_GRACE_SECONDS,
                )?;
                Some(DenyListSource {
                    uri: SourceUri::parse(&uri).map_err(|e| Setting::top("deny_list").error(e))?,
                    refresh_seconds,
                    max_age_seconds,
                })
            }
        };
        let mut ca_names = BTreeSet::new();
        let mut ca_revocation = Vec::with_capacity(raw.ca_revocation.len());
        for (i, entry) in raw.ca_revocation.into_iter().enumerate() {
            let at = Entry::CaRevocation(i);
            let rule = IssuerRule::from_raw(
                RawIssuer {
                    name: entry.name,
                    match_: entry.match_,
                    crl: entry.crl,
                    crl_from_cdp: entry.crl_from_cdp,
                    delta_crl: entry.delta_crl,
                    delta: entry.delta,
                    ocsp: None,
                    revocation: None,
                    subject: None,
                    routes: None,
                },
                at,
            )?;
            if !ca_names.insert(rule.name.clone()) {
                return Err(Setting::of(at, "name").error(ConfigProblem::DuplicateName));
            }
            ca_revocation.push(rule);
        }
        if raw.ca_revocation_required && ca_revocation.is_empty() {
            return Err(
                Setting::top("ca_revocation_required").error(ConfigProblem::CaRevocationRequired)
            );
        }
        Ok(Self {
            ca_revocation,
            ca_revocation_coverage: if raw.ca_revocation_required {
                CaRevocationCoverage::Required
            } else {
                CaRevocationCoverage::WhereConfigured
            },
            deny_list,
            truststore,
            issuers,
            crl_refresh_seconds: bounded(
                Setting::top("crl_refresh_seconds"),
                raw.crl_refresh_seconds,
                1,
                86_400,
            )?,
            crl_grace_seconds: bounded(
                Setting::top("crl_grace_seconds"),
                raw.crl_grace_seconds,
                0,
                MAX_GRACE_SECONDS,
            )?,
            crl_retry_seconds: bounded(
                Setting::top("crl_retry_seconds"),
                raw.crl_retry_seconds,
                1,
                3600,
            )?,
            truststore_refresh_seconds: bounded(
                Setting::top("truststore_refresh_seconds"),
                raw.truststore_refresh_seconds,
                1,
                86_400,
            )?,
            clock_skew_seconds: bounded(
                Setting::top("clock_skew_seconds"),
                raw.clock_skew_seconds,
                0,
                3600,
            )?,
            fetch_timeout_seconds: bounded(
                Setting::top("fetch_timeout_seconds"),
                raw.fetch_timeout_seconds,
                1,
                60,
            )?
            .unsigned_abs(),
            max_fetch_bytes: max_bytes,
            policy_resource: raw.policy_resource,
            max_cdp_crls_per_issuer: bounded(
                Setting::top("max_cdp_crls_per_issuer"),
                raw.max_cdp_crls_per_issuer,
                1,
                10_000,
            )?
            .unsigned_abs()
            .try_into()
            .unwrap_or(usize::MAX),
        })
    }

    /// The CRL time rules.
    #[must_use]
    pub fn crl_time_policy(&self) -> CrlTimePolicy {
        CrlTimePolicy {
            clock_skew_seconds: self.clock_skew_seconds,
            grace_seconds: self.crl_grace_seconds,
        }
    }
}

/// The longest issuer entry name: it is the `issuer` dimension of the
/// metrics (see [`crate::metrics`]).
pub(crate) const MAX_ISSUER_NAME: usize = 128;

impl IssuerRule {
    /// The entry's name, echoed in the `issuer` context key and the
    /// metrics' `issuer` dimension.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Issuer DN attributes that must all match.
    #[must_use]
    pub fn issuer(&self) -> &AttributeMatch {
        &self.issuer
    }

    /// Constraints on the client certificate.
    #[must_use]
    pub fn subject(&self) -> &SubjectRule {
        &self.subject
    }

    /// How revocation is checked.
    #[must_use]
    pub fn revocation(&self) -> &Revocation {
        &self.revocation
    }

    /// How delta CRLs are read (`delta`, `delta_crl`).
    #[must_use]
    pub fn delta(&self) -> DeltaPolicy {
        self.delta
    }

    /// OCSP, when configured (`ocsp`).
    #[must_use]
    pub fn ocsp(&self) -> Option<&OcspPolicy> {
        self.ocsp.as_ref()
    }

    /// The routes its certificates may call (`routes`); `None`: every route.
    #[must_use]
    pub fn routes(&self) -> Option<&Routes> {
        self.routes.as_ref()
    }

    fn from_raw(raw: RawIssuer, entry: Entry) -> Result<Self> {
        let at = |setting: &'static str| Setting::of(entry, setting);
        let name = raw.name.trim().to_owned();
        if name.is_empty() {
            return Err(at("name").error(ConfigProblem::EmptyName));
        }
        // The name is the `issuer` dimension of every metric: CloudWatch
        // drops a line whose dimension value is over 1,024 characters or
        // holds control characters, so such a name is refused here.
        if name.chars().count() > MAX_ISSUER_NAME || name.chars().any(char::is_control) {
            return Err(at("name").error(ConfigProblem::NameNotADimension {
                max: MAX_ISSUER_NAME,
            }));
        }
        let issuer = AttributeMatch::parse(at("match"), raw.match_)?;
        if issuer.is_empty() {
            return Err(at("match").error(ConfigProblem::MatchesEveryCa));
        }
        let ocsp = raw.ocsp.map(|o| ocsp_policy(at("ocsp"), o)).transpose()?;
        let revocation = match (raw.revocation, raw.crl, raw.crl_from_cdp) {
            (Some(RevocationMode::None), None, None)
                if ocsp.is_none() && raw.delta_crl.is_none() =>
            {
                Revocation::NotChecked
            }
            (Some(RevocationMode::None), _, _) => {
                return Err(at("revocation").error(ConfigProblem::RevocationNoneContradicts));
            }
            (None, None, None) if ocsp.is_some() => Revocation::OcspOnly,
            (_, Some(_), Some(_)) => {
                return Err(at("crl_from_cdp").error(ConfigProblem::CrlAndCrlFromCdp));
            }
            (_, Some(uris), None) => Revocation::Crls(crl_sources(at("crl"), uris)?),
            (_, None, Some(prefixes)) => {
                Revocation::FromCdp(cdp_policy(at("crl_from_cdp"), prefixes)?)
            }
            (_, None, None) => {
                return Err(at("crl").error(ConfigProblem::NoRevocation));
            }
        };
        let delta = match (raw.delta, raw.delta_crl, &revocation) {
            (Some(DeltaMode::Ignore), Some(_), _) => {
                return Err(at("delta").error(ConfigProblem::DeltaIgnoreContradicts));
            }
            (
                _,
                Some(_),
                Revocation::FromCdp(_) | Revocation::OcspOnly | Revocation::NotChecked,
            ) => {
                return Err(at("delta_crl").error(ConfigProblem::DeltaCrlWithoutCrl));
            }
            (_, Some(uris), Revocation::Crls(bases)) => {
                let deltas = crl_sources(at("delta_crl"), uris)?;
                if let Some(both) = deltas.iter().position(|d| bases.contains(d)) {
                    return Err(at("delta_crl").item_error(both, ConfigProblem::AlsoACrlSource));
                }
                let mut all = bases.clone();
                all.extend(deltas);
                if all.len() > MAX_CRL_SOURCES {
                    return Err(at("delta_crl").error(ConfigProblem::TooMany {
                        count: all.len(),
                        max: MAX_CRL_SOURCES,
                    }));
                }
                (DeltaPolicy::Configured, Some(Revocation::Crls(all)))
            }
            (Some(DeltaMode::Ignore), None, _) => (DeltaPolicy::Ignore, None),
            (_, None, _) => (DeltaPolicy::Apply, None),
        };
        let (delta, revocation) = match delta {
            (policy, Some(with_deltas)) => (policy, with_deltas),
            (policy, None) => (policy, revocation),
        };
        let subject = match raw.subject {
            None => SubjectRule::default(),
            Some(s) => SubjectRule {
                attributes: AttributeMatch::parse(at("subject"), s.attributes)?,
                san_dns: s
                    .san_dns
                    .map(|v| patterns(at("subject.san_dns"), v, DnsPattern::parse))
                    .transpose()?,
                san_uri: s
                    .san_uri
                    .map(|v| patterns(at("subject.san_uri"), v, UriPattern::parse))
                    .transpose()?,
                eku: s.eku,
            },
        };
        let routes = raw
            .routes
            .map(|r| routes::routes(at("routes"), r))
            .transpose()?;
        Ok(Self {
            name,
            issuer,
            subject,
            revocation,
            delta,
            ocsp,
            routes,
        })
    }
}

/// `san_dns`, `san_uri`: a non-empty list of patterns, each as `parse` reads it.
fn patterns<P>(
    setting: Setting,
    list: Vec<String>,
    parse: impl Fn(&str) -> Result<P, ConfigProblem>,
) -> Result<Vec<P>> {
    if list.is_empty() {
        return Err(setting.error(ConfigProblem::RefusesEveryone));
    }
    list.iter()
        .enumerate()
        .map(|(i, p)| parse(p).map_err(|problem| setting.item_error(i, problem)))
        .collect()
}

#[cfg(test)]
mod tests;
