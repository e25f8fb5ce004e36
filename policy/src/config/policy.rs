//! What a certificate must look like to an issuer entry: issuer and subject
//! attribute matches, SAN patterns and the EKU policy, and the IAM policy's
//! resource scope.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::{ConfigError, ConfigProblem, OneOrMany, Setting};
use mtls_x509::name::AttrKey;

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
    pub(super) fn parse(
        setting: Setting,
        raw: BTreeMap<String, OneOrMany>,
    ) -> Result<Self, ConfigError> {
        let mut out = Vec::with_capacity(raw.len());
        for (key, values) in raw {
            let key =
                AttrKey::parse(&key).map_err(|_| setting.error(ConfigProblem::UnknownAttribute))?;
            let values: BTreeSet<String> = values.into_vec().into_iter().collect();
            if values.is_empty() {
                return Err(setting.error(ConfigProblem::NoAcceptableValue));
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
    pub(super) fn parse(p: &str) -> Result<Self, ConfigProblem> {
        let lower = p.to_ascii_lowercase();
        let body = lower.strip_prefix("*.").unwrap_or(&lower);
        if body.is_empty() || body.contains('*') || body.starts_with('.') || body.ends_with('.') {
            return Err(ConfigProblem::BadDnsPattern);
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
    pub(super) fn parse(p: &str) -> Result<Self, ConfigProblem> {
        let body = p.strip_suffix('*').unwrap_or(p);
        if body.is_empty() || body.contains('*') {
            return Err(ConfigProblem::BadUriPattern);
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
