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
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIssuer {
    name: String,
    #[serde(rename = "match")]
    match_: BTreeMap<String, OneOrMany>,
    #[serde(default)]
    crl: Option<String>,
    #[serde(default)]
    revocation: Option<RevocationMode>,
    #[serde(default)]
    subject: Option<RawSubject>,
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
    pub attributes: AttributeMatch,
    /// If set, some DNS SAN must match one of these.
    pub san_dns: Option<Vec<DnsPattern>>,
    /// If set, some URI SAN must match one of these.
    pub san_uri: Option<Vec<UriPattern>>,
    /// Extended key usage handling.
    pub eku: EkuPolicy,
}

/// How revocation is checked for an issuer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Revocation {
    /// Check the CRL at this source.
    Crl(SourceUri),
    /// Explicitly opted out (`"revocation": "none"`).
    NotChecked,
}

/// One accepted issuer and what it may present.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuerRule {
    /// The entry's name, echoed in the `issuer` context key.
    pub name: String,
    /// Issuer DN attributes that must all match.
    pub issuer: AttributeMatch,
    /// Subject constraints.
    pub subject: SubjectRule,
    /// Revocation checking.
    pub revocation: Revocation,
}

/// The validated configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Where the truststore bundle lives.
    pub truststore: SourceUri,
    /// Issuer entries, in order: the first match wins.
    pub issuers: Vec<IssuerRule>,
    /// Seconds between conditional CRL refreshes.
    pub crl_refresh_seconds: i64,
    /// Seconds a CRL stays usable past `nextUpdate` when refreshes fail.
    pub crl_grace_seconds: i64,
    /// Seconds to wait before retrying a failed fetch.
    pub crl_retry_seconds: i64,
    /// Seconds between conditional truststore refreshes.
    pub truststore_refresh_seconds: i64,
    /// Tolerated clock difference for certificate and CRL times.
    pub clock_skew_seconds: i64,
    /// Whole-request deadline for one fetch.
    pub fetch_timeout_seconds: u64,
    /// Largest object a fetch will accept.
    pub max_fetch_bytes: u64,
    /// IAM policy resource scope.
    pub policy_resource: PolicyResource,
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

impl IssuerRule {
    fn from_raw(raw: RawIssuer) -> Result<Self> {
        let name = raw.name.trim().to_owned();
        if name.is_empty() {
            return Err(Error::Config(
                "issuers: every entry needs a non-empty name".into(),
            ));
        }
        let ctx = |part: &str| format!("issuer `{name}` {part}");
        let issuer = AttributeMatch::parse(&ctx("match"), raw.match_)?;
        if issuer.is_empty() {
            return Err(Error::Config(format!(
                "{}: name at least one issuer attribute, or every CA would match",
                ctx("match")
            )));
        }
        let revocation = match (raw.revocation, raw.crl) {
            (Some(RevocationMode::None), None) => Revocation::NotChecked,
            (Some(RevocationMode::None), Some(_)) => {
                return Err(Error::Config(format!(
                    "{}: `revocation: none` contradicts the `crl` it also sets",
                    ctx("crl")
                )));
            }
            (_, Some(uri)) => Revocation::Crl(
                SourceUri::parse(&uri)
                    .map_err(|e| Error::Config(format!("{}: {e}", ctx("crl"))))?,
            ),
            (_, None) => {
                return Err(Error::Config(format!(
                    "{}: a CRL is required; set `crl`, or `\"revocation\": \"none\"` to knowingly skip revocation checks",
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
}
