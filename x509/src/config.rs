//! The configuration contract (`AUTHORIZER_CONFIG`) and the policy it describes.
//!
//! Parsing is strict: unknown fields, empty matches, missing CRLs and
//! out-of-range durations are errors at cold start, never a silent Allow.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::crl::CrlTimePolicy;
use crate::error::{Error, Result};
use crate::name::AttrKey;
use crate::source::SourceUri;

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
    pub fn clock_skew() -> i64 {
        60
    }
    pub fn fetch_timeout() -> i64 {
        5
    }
    pub fn max_fetch_bytes() -> u64 {
        64 * 1024 * 1024
    }
    pub fn max_cdp_crls() -> i64 {
        64
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
    revocation: Option<RevocationMode>,
    #[serde(default)]
    subject: Option<RawSubject>,
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

/// How an issuer entry treats the extended key usage extension (RFC 5280 §4.2.1.12).
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum EkuPolicy {
    /// Require `clientAuth` when the certificate has an EKU extension (the default).
    #[default]
    ClientAuthIfPresent,
    /// Require an EKU extension that lists `clientAuth`.
    ClientAuthRequired,
    /// Do not look at EKU.
    Ignore,
}

/// Which resource the IAM policy of a REST (or HTTP API `iam`) response names.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PolicyResource {
    /// Exactly the invoked method ARN (the default: an Allow cached by API
    /// Gateway covers only that method).
    #[default]
    Method,
    /// Every method and path of the invoked stage, `arn:…:api-id/stage/*`, so
    /// one cached Allow serves all routes for the authorizer cache TTL.
    Stage,
}

/// Attribute constraints: every named attribute must have a value in its set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AttributeMatch(Vec<(AttrKey, BTreeSet<String>)>);

impl AttributeMatch {
    fn parse(what: &str, raw: BTreeMap<String, OneOrMany>) -> Result<Self> {
        let mut out = Vec::with_capacity(raw.len());
        for (key, values) in raw {
            let key = AttrKey::parse(&key).map_err(|e| Error::Config(format!("{what}: {e}")))?;
            let values: BTreeSet<String> = values.into_vec().into_iter().collect();
            if values.is_empty() {
                return Err(Error::Config(format!(
                    "{what}: attribute {} lists no acceptable value",
                    key.oid()
                )));
            }
            out.push((key, values));
        }
        Ok(Self(out))
    }

    /// The constraints, as (attribute, acceptable values).
    #[must_use]
    pub fn entries(&self) -> &[(AttrKey, BTreeSet<String>)] {
        &self.0
    }

    /// Whether there are no constraints.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A DNS SAN pattern: exact, or `*.` followed by a suffix (one label wildcard).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsPattern(String);

impl DnsPattern {
    fn parse(p: &str) -> Result<Self> {
        let lower = p.to_ascii_lowercase();
        let body = lower.strip_prefix("*.").unwrap_or(&lower);
        if body.is_empty() || body.contains('*') || body.starts_with('.') || body.ends_with('.') {
            return Err(Error::Config(format!(
                "san_dns pattern `{p}`: use an exact name or `*.suffix` (one leading wildcard label)"
            )));
        }
        Ok(Self(lower))
    }

    /// Case-insensitive match; `*` stands for exactly one non-empty label.
    #[must_use]
    pub fn matches(&self, name: &str) -> bool {
        let name = name.to_ascii_lowercase();
        match self.0.strip_prefix("*.") {
            Some(suffix) => name
                .strip_suffix(suffix)
                .and_then(|head| head.strip_suffix('.'))
                .is_some_and(|label| !label.is_empty() && !label.contains('.')),
            None => name == self.0,
        }
    }
}

/// A URI SAN pattern: exact, or a prefix ending in `*`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UriPattern(String);

impl UriPattern {
    fn parse(p: &str) -> Result<Self> {
        let body = p.strip_suffix('*').unwrap_or(p);
        if body.is_empty() || body.contains('*') {
            return Err(Error::Config(format!(
                "san_uri pattern `{p}`: use an exact URI or a prefix ending in `*`"
            )));
        }
        Ok(Self(p.to_owned()))
    }

    /// Exact match, or prefix match for patterns ending in `*`.
    #[must_use]
    pub fn matches(&self, uri: &str) -> bool {
        match self.0.strip_suffix('*') {
            Some(prefix) => uri.starts_with(prefix),
            None => uri == self.0,
        }
    }
}

/// Constraints on the client certificate itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SubjectRule {
    /// Subject DN attributes.
    pub(crate) attributes: AttributeMatch,
    /// If set, some DNS SAN must match one of these.
    pub(crate) san_dns: Option<Vec<DnsPattern>>,
    /// If set, some URI SAN must match one of these.
    pub(crate) san_uri: Option<Vec<UriPattern>>,
    /// Extended key usage handling.
    pub(crate) eku: EkuPolicy,
}

impl SubjectRule {
    /// Subject DN attributes that must all match.
    #[must_use]
    pub fn attributes(&self) -> &AttributeMatch {
        &self.attributes
    }

    /// If set, some DNS SAN must match one of these.
    #[must_use]
    pub fn san_dns(&self) -> Option<&[DnsPattern]> {
        self.san_dns.as_deref()
    }

    /// If set, some URI SAN must match one of these.
    #[must_use]
    pub fn san_uri(&self) -> Option<&[UriPattern]> {
        self.san_uri.as_deref()
    }

    /// Extended key usage handling.
    #[must_use]
    pub fn eku(&self) -> EkuPolicy {
        self.eku
    }
}

/// How revocation is checked for an issuer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Revocation {
    /// Check the CRLs at these sources (`crl`): one CRL, the partitions of
    /// one CA, or one CRL per key across a key rollover. A certificate is
    /// checked against those of them that cover it.
    Crls(Vec<SourceUri>),
    /// Find each certificate's CRL from its cRLDistributionPoints
    /// (`crl_from_cdp`), within these prefixes only.
    FromCdp(CdpPolicy),
    /// Explicitly opted out (`"revocation": "none"`).
    NotChecked,
}

/// The most sources one `crl` list may name.
pub const MAX_CRL_SOURCES: usize = 64;
/// The most prefixes one `crl_from_cdp` list may name.
pub const MAX_CDP_PREFIXES: usize = 16;
/// The longest part of a distribution point URI after its prefix.
pub const MAX_CDP_SUFFIX: usize = 512;

/// One allowed family of CRL distribution points: certificates whose CDP URI
/// starts with `prefix` have their CRL fetched from `fetch` plus the rest of
/// the URI, or from the URI itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CdpPrefix {
    prefix: String,
    fetch: Option<String>,
}

impl CdpPrefix {
    /// The prefix certificates' CDP URIs must start with.
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Where those CRLs are fetched from instead, if anywhere.
    #[must_use]
    pub fn fetch(&self) -> Option<&str> {
        self.fetch.as_deref()
    }
}

/// `crl_from_cdp`: which CRL distribution points may be fetched, and from
/// where. A URI outside every prefix is never fetched, so a certificate
/// cannot make the authorizer connect anywhere the operator did not allow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CdpPolicy {
    prefixes: Vec<CdpPrefix>,
}

/// What [`CdpPolicy::source_for`] makes of one distribution point URI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CdpSource {
    /// Fetch the CRL from here.
    Fetch(SourceUri),
    /// The URI starts with no allowed prefix: never fetched.
    NotAllowed,
    /// The URI starts with a prefix, but its remainder is not a plain path
    /// (`..`, `//`, a query, or characters outside `A-Z a-z 0-9 - . _ ~ /`).
    Unsafe,
}

impl CdpPolicy {
    /// The allowed prefixes, in order.
    #[must_use]
    pub fn prefixes(&self) -> &[CdpPrefix] {
        &self.prefixes
    }

    /// Where to fetch the CRL a certificate's distribution point `uri` names.
    /// The first prefix that `uri` starts with decides.
    #[must_use]
    pub fn source_for(&self, uri: &str) -> CdpSource {
        let Some((p, rest)) = self
            .prefixes
            .iter()
            .find_map(|p| uri.strip_prefix(p.prefix.as_str()).map(|rest| (p, rest)))
        else {
            return CdpSource::NotAllowed;
        };
        if !is_plain_path(rest) {
            return CdpSource::Unsafe;
        }
        let target = match &p.fetch {
            Some(base) => format!("{base}{rest}"),
            None => uri.to_owned(),
        };
        SourceUri::parse(&target).map_or(CdpSource::Unsafe, CdpSource::Fetch)
    }
}

/// A relative path of plain segments: no empty, `.` or `..` segment, no
/// query or fragment, no percent-escapes, bounded length.
fn is_plain_path(rest: &str) -> bool {
    !rest.is_empty()
        && rest.len() <= MAX_CDP_SUFFIX
        && rest.split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
        })
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
    /// Revocation checking.
    pub(crate) revocation: Revocation,
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
}

fn bounded(field: &str, value: i64, min: i64, max: i64) -> Result<i64> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(Error::Config(format!(
            "{field} = {value} is outside {min}..={max}"
        )))
    }
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

    /// Parses and validates a JSON configuration document.
    pub fn from_json(text: &str) -> Result<Self> {
        let raw: RawConfig =
            serde_json::from_str(text).map_err(|e| Error::Config(format!("JSON: {e}")))?;
        Self::from_raw(raw)
    }

    fn from_raw(raw: RawConfig) -> Result<Self> {
        let truststore = SourceUri::parse(&raw.truststore)
            .map_err(|e| Error::Config(format!("truststore: {e}")))?;
        if raw.issuers.is_empty() {
            return Err(Error::Config(
                "issuers: at least one issuer entry is required".into(),
            ));
        }
        let mut names = BTreeSet::new();
        let mut issuers = Vec::with_capacity(raw.issuers.len());
        for entry in raw.issuers {
            let rule = IssuerRule::from_raw(entry)?;
            if !names.insert(rule.name.clone()) {
                return Err(Error::Config(format!(
                    "issuers: duplicate name `{}`",
                    rule.name
                )));
            }
            issuers.push(rule);
        }
        let max_bytes = raw.max_fetch_bytes;
        if !(1024..=1 << 30).contains(&max_bytes) {
            return Err(Error::Config(format!(
                "max_fetch_bytes = {max_bytes} is outside 1024..=1073741824"
            )));
        }
        Ok(Self {
            truststore,
            issuers,
            crl_refresh_seconds: bounded(
                "crl_refresh_seconds",
                raw.crl_refresh_seconds,
                1,
                86_400,
            )?,
            crl_grace_seconds: bounded(
                "crl_grace_seconds",
                raw.crl_grace_seconds,
                0,
                MAX_GRACE_SECONDS,
            )?,
            crl_retry_seconds: bounded("crl_retry_seconds", raw.crl_retry_seconds, 1, 3600)?,
            truststore_refresh_seconds: bounded(
                "truststore_refresh_seconds",
                raw.truststore_refresh_seconds,
                1,
                86_400,
            )?,
            clock_skew_seconds: bounded("clock_skew_seconds", raw.clock_skew_seconds, 0, 3600)?,
            fetch_timeout_seconds: bounded(
                "fetch_timeout_seconds",
                raw.fetch_timeout_seconds,
                1,
                60,
            )?
            .unsigned_abs(),
            max_fetch_bytes: max_bytes,
            policy_resource: raw.policy_resource,
            max_cdp_crls_per_issuer: bounded(
                "max_cdp_crls_per_issuer",
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
pub const MAX_ISSUER_NAME: usize = 128;

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

    fn from_raw(raw: RawIssuer) -> Result<Self> {
        let name = raw.name.trim().to_owned();
        if name.is_empty() {
            return Err(Error::Config(
                "issuers: every entry needs a non-empty name".into(),
            ));
        }
        // The name is the `issuer` dimension of every metric: CloudWatch
        // drops a line whose dimension value is over 1,024 characters or
        // holds control characters, so such a name is refused here.
        if name.chars().count() > MAX_ISSUER_NAME || name.chars().any(char::is_control) {
            return Err(Error::Config(format!(
                "issuers: the name `{}` must be at most {MAX_ISSUER_NAME} characters, without control characters (it is a metric dimension)",
                crate::error::bounded(&name)
            )));
        }
        let ctx = |part: &str| format!("issuer `{name}` {part}");
        let issuer = AttributeMatch::parse(&ctx("match"), raw.match_)?;
        if issuer.is_empty() {
            return Err(Error::Config(format!(
                "{}: name at least one issuer attribute, or every CA would match",
                ctx("match")
            )));
        }
        let revocation = match (raw.revocation, raw.crl, raw.crl_from_cdp) {
            (Some(RevocationMode::None), None, None) => Revocation::NotChecked,
            (Some(RevocationMode::None), _, _) => {
                return Err(Error::Config(format!(
                    "{}: `revocation: none` contradicts the `crl` or `crl_from_cdp` it also sets",
                    ctx("crl")
                )));
            }
            (_, Some(_), Some(_)) => {
                return Err(Error::Config(format!(
                    "{}: set `crl` or `crl_from_cdp`, not both",
                    ctx("crl")
                )));
            }
            (_, Some(uris), None) => Revocation::Crls(crl_sources(&ctx("crl"), uris)?),
            (_, None, Some(prefixes)) => {
                Revocation::FromCdp(cdp_policy(&ctx("crl_from_cdp"), prefixes)?)
            }
            (_, None, None) => {
                return Err(Error::Config(format!(
                    "{}: a CRL is required; set `crl` (a URI or a list), `crl_from_cdp`, or `\"revocation\": \"none\"` to knowingly skip revocation checks",
                    ctx("crl")
                )));
            }
        };
        let subject = match raw.subject {
            None => SubjectRule::default(),
            Some(s) => SubjectRule {
                attributes: AttributeMatch::parse(&ctx("subject"), s.attributes)?,
                san_dns: s
                    .san_dns
                    .map(|v| {
                        nonempty(&ctx("subject.san_dns"), v)?
                            .iter()
                            .map(|p| DnsPattern::parse(p))
                            .collect()
                    })
                    .transpose()?,
                san_uri: s
                    .san_uri
                    .map(|v| {
                        nonempty(&ctx("subject.san_uri"), v)?
                            .iter()
                            .map(|p| UriPattern::parse(p))
                            .collect()
                    })
                    .transpose()?,
                eku: s.eku,
            },
        };
        Ok(Self {
            name,
            issuer,
            subject,
            revocation,
        })
    }
}

/// `crl`: one URI or a list of distinct URIs.
fn crl_sources(what: &str, uris: OneOrMany) -> Result<Vec<SourceUri>> {
    let uris = uris.into_vec();
    if uris.is_empty() {
        return Err(Error::Config(format!(
            "{what}: an empty list; give one CRL URI, or a list of them"
        )));
    }
    if uris.len() > MAX_CRL_SOURCES {
        return Err(Error::Config(format!(
            "{what}: {} URIs; at most {MAX_CRL_SOURCES}",
            uris.len()
        )));
    }
    let mut out: Vec<SourceUri> = Vec::with_capacity(uris.len());
    for uri in &uris {
        let source = SourceUri::parse(uri).map_err(|e| Error::Config(format!("{what}: {e}")))?;
        if out.contains(&source) {
            return Err(Error::Config(format!("{what}: `{uri}` is listed twice")));
        }
        out.push(source);
    }
    Ok(out)
}

/// `crl_from_cdp`: prefixes that certificates' CDP URIs are matched against.
fn cdp_policy(what: &str, raw: Vec<RawCdpPrefix>) -> Result<CdpPolicy> {
    if raw.is_empty() || raw.len() > MAX_CDP_PREFIXES {
        return Err(Error::Config(format!(
            "{what}: list 1 to {MAX_CDP_PREFIXES} prefixes"
        )));
    }
    let mut prefixes = Vec::with_capacity(raw.len());
    for RawCdpPrefix { prefix, fetch } in raw {
        // A prefix ends at a path boundary, or `http://crl.example.com`
        // would also admit `http://crl.example.com.attacker.net/`.
        let after_scheme = prefix
            .strip_prefix("http://")
            .or_else(|| prefix.strip_prefix("https://"));
        let scheme_ok = after_scheme.is_some();
        let host_ok = after_scheme
            .and_then(|rest| rest.split_once('/'))
            .is_some_and(|(host, _)| !host.is_empty() && url::Url::parse(&prefix).is_ok());
        if !scheme_ok || !host_ok || !prefix.ends_with('/') {
            return Err(Error::Config(format!(
                "{what}: prefix `{prefix}` must be an http:// or https:// URI with a host, ending in `/`"
            )));
        }
        if let Some(base) = &fetch {
            let probe = format!("{base}probe.crl");
            if !base.ends_with('/') || SourceUri::parse(&probe).is_err() {
                return Err(Error::Config(format!(
                    "{what}: fetch `{base}` must be an s3://, https://, http:// or file:// URI ending in `/`"
                )));
            }
        }
        prefixes.push(CdpPrefix { prefix, fetch });
    }
    Ok(CdpPolicy { prefixes })
}

fn nonempty(what: &str, v: Vec<String>) -> Result<Vec<String>> {
    if v.is_empty() {
        Err(Error::Config(format!(
            "{what}: an empty list would refuse everyone; remove it instead"
        )))
    } else {
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

    use super::*;

    const EXAMPLE: &str = r#"{
      "truststore": "s3://bucket/truststore.pem",
      "issuers": [
        { "name": "devices",
          "match": { "O": "Temperature Testers, Inc.", "CN": "Temperature Testers Devices CA" },
          "crl": "s3://pki-bucket/crl/devices.crl",
          "subject": { "OU": ["Tech Operations"] } }
      ],
      "crl_refresh_seconds": 300,
      "crl_grace_seconds": 3600
    }"#;

    #[test]
    fn readme_example_parses_with_defaults() {
        let c = Config::from_json(EXAMPLE);
        assert!(c.is_ok(), "{c:?}");
        let Ok(c) = c else { return };
        assert_eq!(c.issuers.len(), 1);
        assert_eq!(c.clock_skew_seconds, 60);
        assert_eq!(c.max_fetch_bytes, 64 * 1024 * 1024);
        assert_eq!(c.policy_resource, PolicyResource::Method);
        assert_eq!(c.issuers[0].subject.eku, EkuPolicy::ClientAuthIfPresent);
    }

    fn err_of(json: &str) -> String {
        match Config::from_json(json) {
            Ok(_) => String::from("<accepted>"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn issuer_without_crl_is_a_configuration_error() {
        let e =
            err_of(r#"{"truststore":"file:///t.pem","issuers":[{"name":"a","match":{"CN":"x"}}]}"#);
        assert!(e.contains("a CRL is required"), "{e}");
    }

    #[test]
    fn explicit_revocation_none_is_accepted() {
        let c = Config::from_json(
            r#"{"truststore":"file:///t.pem","issuers":[{"name":"a","match":{"CN":"x"},"revocation":"none"}]}"#,
        );
        assert!(matches!(
            c.map(|c| c.issuers[0].revocation.clone()),
            Ok(Revocation::NotChecked)
        ));
    }

    #[test]
    fn typos_and_unbounded_values_fail_closed() {
        for (json, want) in [
            (
                r#"{"truststore":"file:///t","issuers":[{"name":"a","match":{"CN":"x"},"crl":"file:///c","revokation":"none"}]}"#,
                "unknown field",
            ),
            (
                r#"{"truststore":"file:///t","issuers":[{"name":"a","match":{},"crl":"file:///c"}]}"#,
                "every CA would match",
            ),
            (
                r#"{"truststore":"file:///t","issuers":[{"name":"a","match":{"Org":"x"},"crl":"file:///c"}]}"#,
                "unknown attribute",
            ),
            (
                r#"{"truststore":"file:///t","issuers":[{"name":"a","match":{"CN":"x"},"crl":"ftp://c"}]}"#,
                "unsupported source URI",
            ),
            (
                r#"{"truststore":"file:///t","issuers":[{"name":"a","match":{"CN":"x"},"crl":"file:///c"}],"crl_grace_seconds":99999999}"#,
                "crl_grace_seconds",
            ),
            (
                r#"{"truststore":"file:///t","issuers":[]}"#,
                "at least one issuer",
            ),
            (
                r#"{"truststore":"file:///t","issuers":[{"name":"a","match":{"CN":"x"},"crl":"file:///c"},{"name":"a","match":{"CN":"y"},"crl":"file:///c"}]}"#,
                "duplicate name",
            ),
            (
                r#"{"truststore":"file:///t","issuers":[{"name":"a","match":{"CN":"x"},"crl":"file:///c","subject":{"san_dns":["a.*.com"]}}]}"#,
                "san_dns pattern",
            ),
            (
                r#"{"truststore":"file:///t","issuers":[{"name":"a","match":{"CN":"x"},"crl":"file:///c","subject":{"san_dsn":["a.com"]}}]}"#,
                "unknown attribute",
            ),
            (
                r#"{"truststore":"file:///t","issuers":[{"name":"a","match":{"CN":"x"},"crl":"file:///c","subject":{"eku":"sometimes"}}]}"#,
                "unknown variant",
            ),
        ] {
            let e = err_of(json);
            assert!(e.contains(want), "expected `{want}` in `{e}`");
        }
    }

    #[test]
    fn dns_wildcard_covers_exactly_one_label() {
        let p = DnsPattern::parse("*.devices.example.com").ok();
        let m = |n: &str| p.as_ref().is_some_and(|p| p.matches(n));
        assert!(m("t1.devices.example.com"));
        assert!(m("T1.Devices.Example.COM"));
        assert!(!m("devices.example.com"));
        assert!(!m("a.b.devices.example.com"));
        assert!(!m("evildevices.example.com"));
    }

    #[test]
    fn uri_patterns_are_exact_or_prefix() {
        let p = UriPattern::parse("spiffe://example.org/device/*").ok();
        assert!(
            p.as_ref()
                .is_some_and(|p| p.matches("spiffe://example.org/device/42"))
        );
        assert!(
            !p.as_ref()
                .is_some_and(|p| p.matches("spiffe://example.org/admin/1"))
        );
        assert!(UriPattern::parse("spiffe://*/x").is_err());
    }

    fn issuer_with(fields: &str) -> String {
        format!(
            r#"{{"truststore":"file:///t","issuers":[{{"name":"a","match":{{"CN":"x"}}{fields}}}]}}"#
        )
    }

    fn revocation_of(fields: &str) -> Revocation {
        match Config::from_json(&issuer_with(fields)) {
            Ok(c) => c.issuers[0].revocation.clone(),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn crl_takes_one_uri_or_a_list_of_distinct_uris() {
        assert_eq!(
            revocation_of(r#","crl":"s3://pki/crl/a.crl""#),
            Revocation::Crls(vec![SourceUri::parse("s3://pki/crl/a.crl").unwrap()])
        );
        let Revocation::Crls(list) =
            revocation_of(r#","crl":["s3://pki/crl/p1.crl","https://crl.example.com/p2.crl"]"#)
        else {
            panic!("a list of CRLs");
        };
        assert_eq!(list.len(), 2);
        for (fields, want) in [
            (r#","crl":[]"#, "an empty list"),
            (r#","crl":["s3://b/k","s3://b/k"]"#, "listed twice"),
            (
                r#","crl":["s3://b/k","ftp://x/y"]"#,
                "unsupported source URI",
            ),
        ] {
            let e = err_of(&issuer_with(fields));
            assert!(e.contains(want), "expected `{want}` in `{e}`");
        }
    }

    #[test]
    fn crl_from_cdp_needs_http_prefixes_ending_at_a_path_boundary() {
        let Revocation::FromCdp(policy) = revocation_of(
            r#","crl_from_cdp":[{"prefix":"http://crl.example.com/crl/","fetch":"s3://my-crl-bucket/crl/"},{"prefix":"https://pki.example.org/"}]"#,
        ) else {
            panic!("crl_from_cdp");
        };
        assert_eq!(policy.prefixes().len(), 2);
        for (fields, want) in [
            (r#","crl_from_cdp":[]"#, "list 1 to 16 prefixes"),
            (
                r#","crl_from_cdp":[{"prefix":"http://crl.example.com"}]"#,
                "ending in `/`",
            ),
            (
                r#","crl_from_cdp":[{"prefix":"s3://bucket/crl/"}]"#,
                "http:// or https://",
            ),
            (
                r#","crl_from_cdp":[{"prefix":"http:///crl/"}]"#,
                "with a host",
            ),
            (
                r#","crl_from_cdp":[{"prefix":"http://a/","fetch":"s3://bucket/crl"}]"#,
                "ending in `/`",
            ),
            (
                r#","crl_from_cdp":[{"prefix":"http://a/","fetch":"ftp://x/"}]"#,
                "fetch",
            ),
            (
                r#","crl_from_cdp":[{"prefix":"http://a/","fetsh":"s3://b/"}]"#,
                "unknown field",
            ),
            (
                r#","crl":"s3://b/k","crl_from_cdp":[{"prefix":"http://a/"}]"#,
                "not both",
            ),
            (
                r#","revocation":"none","crl_from_cdp":[{"prefix":"http://a/"}]"#,
                "contradicts",
            ),
        ] {
            let e = err_of(&issuer_with(fields));
            assert!(e.contains(want), "expected `{want}` in `{e}`");
        }
    }

    fn policy() -> CdpPolicy {
        let Revocation::FromCdp(policy) = revocation_of(
            r#","crl_from_cdp":[{"prefix":"http://crl.example.com/crl/","fetch":"s3://my-crl-bucket/crl/"},{"prefix":"https://pki.example.org/"}]"#,
        ) else {
            panic!("crl_from_cdp");
        };
        policy
    }

    #[test]
    fn distribution_point_under_a_prefix_is_fetched_from_its_fetch_base_or_itself() {
        let p = policy();
        assert_eq!(
            p.source_for("http://crl.example.com/crl/0123-ca/5a7b.crl"),
            CdpSource::Fetch(SourceUri::parse("s3://my-crl-bucket/crl/0123-ca/5a7b.crl").unwrap())
        );
        assert_eq!(
            p.source_for("https://pki.example.org/partitions/7.crl"),
            CdpSource::Fetch(SourceUri::parse("https://pki.example.org/partitions/7.crl").unwrap())
        );
    }

    #[test]
    fn distribution_point_outside_every_prefix_is_never_fetched() {
        let p = policy();
        for uri in [
            "http://169.254.169.254/latest/meta-data/",
            "http://crl.example.com.attacker.net/crl/x.crl",
            "http://crl.example.com/other/x.crl",
            "https://crl.example.com/crl/x.crl",
            "ldap://crl.example.com/cn=x",
        ] {
            assert_eq!(p.source_for(uri), CdpSource::NotAllowed, "{uri}");
        }
    }

    #[test]
    fn distribution_point_whose_rest_is_not_a_plain_path_is_refused() {
        let p = policy();
        for uri in [
            "http://crl.example.com/crl/../secrets/x.crl",
            "http://crl.example.com/crl/a//b.crl",
            "http://crl.example.com/crl/./x.crl",
            "http://crl.example.com/crl/x.crl?versionId=1",
            "http://crl.example.com/crl/%2e%2e/x.crl",
            "http://crl.example.com/crl/",
            "http://crl.example.com/crl/a b.crl",
        ] {
            assert_eq!(p.source_for(uri), CdpSource::Unsafe, "{uri}");
        }
        let long = format!("http://crl.example.com/crl/{}.crl", "a".repeat(600));
        assert_eq!(p.source_for(&long), CdpSource::Unsafe);
    }

    #[test]
    fn max_cdp_crls_per_issuer_is_bounded() {
        let base = issuer_with(r#","crl":"s3://b/k""#);
        let with = |n: &str| base.replacen('{', &format!(r#"{{"max_cdp_crls_per_issuer":{n},"#), 1);
        assert_eq!(
            Config::from_json(&base).map(|c| c.max_cdp_crls_per_issuer),
            Ok(64)
        );
        assert_eq!(
            Config::from_json(&with("500")).map(|c| c.max_cdp_crls_per_issuer),
            Ok(500)
        );
        for bad in ["0", "10001", "-1"] {
            assert!(
                err_of(&with(bad)).contains("max_cdp_crls_per_issuer"),
                "{bad}"
            );
        }
    }

    #[test]
    fn issuer_names_fit_a_metric_dimension() {
        let named = |name: &str| {
            format!(
                r#"{{"truststore":"file:///t.pem","issuers":[{{"name":{},"match":{{"CN":"x"}},"revocation":"none"}}]}}"#,
                serde_json::to_string(name).unwrap()
            )
        };
        assert!(Config::from_json(&named(&"d".repeat(MAX_ISSUER_NAME))).is_ok());
        assert!(err_of(&named(&"d".repeat(MAX_ISSUER_NAME + 1))).contains("metric dimension"));
        assert!(err_of(&named("devices\nprod")).contains("metric dimension"));
    }
}
