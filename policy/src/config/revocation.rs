//! How an issuer entry checks revocation: a list of CRL sources, CRLs found
//! through the certificates' distribution points within allowed prefixes
//! (RFC 5280 §4.2.1.13), or explicitly none.

use serde::Deserialize;

use super::{ConfigError, ConfigProblem, OneOrMany, RawCdpPrefix, Setting, bounded};
use crate::source::SourceUri;

type Result<T, E = ConfigError> = std::result::Result<T, E>;

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
    /// No CRL: the entry checks revocation by OCSP alone (`ocsp` without
    /// `crl` or `crl_from_cdp`).
    OcspOnly,
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
        self.map(uri, false)
    }

    /// Where to send an OCSP request for a certificate whose AIA names
    /// `uri` (`responders_from_aia`): as [`CdpPolicy::source_for`], except
    /// that the URI may be the prefix itself, as responder URIs usually are.
    #[must_use]
    pub fn responder_for(&self, uri: &str) -> CdpSource {
        self.map(uri, true)
    }

    fn map(&self, uri: &str, may_be_prefix: bool) -> CdpSource {
        // A responder URI is often the bare host (`http://ocsp.example.com`),
        // which is the prefix `http://ocsp.example.com/` without its slash.
        if may_be_prefix
            && let Some(p) = self
                .prefixes
                .iter()
                .find(|p| p.prefix.strip_suffix('/') == Some(uri))
        {
            let target = p.fetch.clone().unwrap_or_else(|| p.prefix.clone());
            return SourceUri::parse(&target).map_or(CdpSource::Unsafe, CdpSource::Fetch);
        }
        let Some((p, rest)) = self
            .prefixes
            .iter()
            .find_map(|p| uri.strip_prefix(p.prefix.as_str()).map(|rest| (p, rest)))
        else {
            return CdpSource::NotAllowed;
        };
        if !(is_plain_path(rest) || (may_be_prefix && rest.is_empty())) {
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

/// `crl`: one URI or a list of distinct URIs.
pub(super) fn crl_sources(setting: Setting, uris: OneOrMany) -> Result<Vec<SourceUri>> {
    let uris = uris.into_vec();
    if uris.is_empty() {
        return Err(setting.error(ConfigProblem::EmptyList));
    }
    if uris.len() > MAX_CRL_SOURCES {
        return Err(setting.error(ConfigProblem::TooMany {
            count: uris.len(),
            max: MAX_CRL_SOURCES,
        }));
    }
    let mut out: Vec<SourceUri> = Vec::with_capacity(uris.len());
    for (i, uri) in uris.iter().enumerate() {
        let source = SourceUri::parse(uri).map_err(|e| setting.item_error(i, e))?;
        if out.contains(&source) {
            return Err(setting.item_error(i, ConfigProblem::ListedTwice));
        }
        out.push(source);
    }
    Ok(out)
}

/// `crl_from_cdp`: prefixes that certificates' CDP URIs are matched against.
pub(super) fn cdp_policy(setting: Setting, raw: Vec<RawCdpPrefix>) -> Result<CdpPolicy> {
    if raw.is_empty() || raw.len() > MAX_CDP_PREFIXES {
        return Err(setting.error(ConfigProblem::PrefixCount {
            max: MAX_CDP_PREFIXES,
        }));
    }
    let mut prefixes = Vec::with_capacity(raw.len());
    for (i, RawCdpPrefix { prefix, fetch }) in raw.into_iter().enumerate() {
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
            return Err(setting.item_error(i, ConfigProblem::BadPrefix));
        }
        if let Some(base) = &fetch {
            let probe = format!("{base}probe.crl");
            if !base.ends_with('/') || SourceUri::parse(&probe).is_err() {
                return Err(setting.item_error(i, ConfigProblem::BadFetchBase));
            }
        }
        prefixes.push(CdpPrefix { prefix, fetch });
    }
    Ok(CdpPolicy { prefixes })
}

/// `ocsp`: where an issuer entry's OCSP answers come from, and how long they
/// are kept (RFC 6960, with RFC 5019's profile).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OcspPolicy {
    pub(crate) responders: OcspResponders,
    pub(crate) cache_seconds: i64,
    pub(crate) timeout_ms: u64,
    pub(crate) max_entries: usize,
    pub(crate) retry_seconds: i64,
    pub(crate) hash: OcspHash,
}

/// Which responder answers for a certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OcspResponders {
    /// Always this one (`responder`).
    Fixed(SourceUri),
    /// The certificate's authorityInfoAccess OCSP URI, only within these
    /// prefixes (`responders_from_aia`): the `crl_from_cdp` rule, so a
    /// certificate cannot make the authorizer connect anywhere else.
    FromAia(CdpPolicy),
}

/// The hash of the CertID (RFC 6960 §4.1.1): SHA-256, or SHA-1 for
/// responders that only know it (RFC 5019 §2.1.1 names SHA-1).
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum OcspHash {
    /// SHA-256.
    #[default]
    Sha256,
    /// SHA-1.
    Sha1,
}

impl OcspPolicy {
    /// Where answers come from.
    #[must_use]
    pub fn responders(&self) -> &OcspResponders {
        &self.responders
    }

    /// `cache_seconds`: an answer is used until the earlier of its
    /// `nextUpdate` and this long after it was fetched.
    #[must_use]
    pub fn cache_seconds(&self) -> i64 {
        self.cache_seconds
    }

    /// `timeout_ms`: the whole exchange with the responder.
    #[must_use]
    pub fn timeout_ms(&self) -> u64 {
        self.timeout_ms
    }

    /// `max_entries`: the answers kept, least recently used dropped first.
    #[must_use]
    pub fn max_entries(&self) -> usize {
        self.max_entries
    }

    /// `retry_seconds`: a failure is remembered this long, so a dead
    /// responder gets at most one request per serial per period.
    #[must_use]
    pub fn retry_seconds(&self) -> i64 {
        self.retry_seconds
    }

    /// `hash`: the CertID hash.
    #[must_use]
    pub fn hash(&self) -> OcspHash {
        self.hash
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOcsp {
    #[serde(default)]
    responder: Option<String>,
    #[serde(default)]
    responders_from_aia: Option<Vec<RawCdpPrefix>>,
    #[serde(default = "ocsp_defaults::cache_seconds")]
    cache_seconds: i64,
    #[serde(default = "ocsp_defaults::timeout_ms")]
    timeout_ms: i64,
    #[serde(default = "ocsp_defaults::max_entries")]
    max_entries: i64,
    #[serde(default = "ocsp_defaults::retry_seconds")]
    retry_seconds: i64,
    #[serde(default)]
    hash: OcspHash,
}

mod ocsp_defaults {
    pub fn cache_seconds() -> i64 {
        300
    }
    pub fn timeout_ms() -> i64 {
        2000
    }
    pub fn max_entries() -> i64 {
        10_000
    }
    pub fn retry_seconds() -> i64 {
        30
    }
}

/// `ocsp`: one responder, or responders from the certificates' AIA within
/// allowed prefixes; bounded cache and timing.
pub(super) fn ocsp_policy(setting: Setting, raw: RawOcsp) -> Result<OcspPolicy> {
    let responders = match (raw.responder, raw.responders_from_aia) {
        (Some(uri), None) => {
            let at = setting.sibling("ocsp.responder");
            let source = SourceUri::parse(&uri).map_err(|e| at.error(e))?;
            if !(uri.starts_with("http://") || uri.starts_with("https://")) {
                return Err(at.error(ConfigProblem::NotHttp));
            }
            OcspResponders::Fixed(source)
        }
        (None, Some(prefixes)) => {
            let at = setting.sibling("ocsp.responders_from_aia");
            let policy = cdp_policy(at, prefixes)?;
            if let Some(i) = policy.prefixes().iter().position(|p| {
                p.fetch()
                    .is_some_and(|f| !(f.starts_with("http://") || f.starts_with("https://")))
            }) {
                return Err(at.item_error(i, ConfigProblem::NotHttp));
            }
            OcspResponders::FromAia(policy)
        }
        _ => {
            return Err(setting.error(ConfigProblem::ResponderChoice));
        }
    };
    Ok(OcspPolicy {
        responders,
        cache_seconds: bounded(
            setting.sibling("ocsp.cache_seconds"),
            raw.cache_seconds,
            1,
            86_400,
        )?,
        timeout_ms: bounded(
            setting.sibling("ocsp.timeout_ms"),
            raw.timeout_ms,
            50,
            30_000,
        )?
        .unsigned_abs(),
        max_entries: bounded(
            setting.sibling("ocsp.max_entries"),
            raw.max_entries,
            1,
            1_000_000,
        )?
        .unsigned_abs()
        .try_into()
        .unwrap_or(usize::MAX),
        retry_seconds: bounded(
            setting.sibling("ocsp.retry_seconds"),
            raw.retry_seconds,
            1,
            3600,
        )?,
        hash: raw.hash,
    })
}
