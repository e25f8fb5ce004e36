//! The crate's one error type.

use crate::time::UnixTime;

/// Everything that can go wrong in the authorizer, with enough context to act on.
///
/// Errors never turn into an Allow: the decision layer maps each to a Deny
/// reason (see `mtls_policy::DenyReason`), and the CRL cache keeps its
/// last good CRL when a candidate fails with any `Crl*` variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The configuration document is invalid. Raised at cold start only.
    #[error("invalid configuration: {0}")]
    Config(String),

    /// The request carried no client certificate.
    #[error(
        "the request carries no client certificate; is mutual TLS enabled on the custom domain?"
    )]
    MissingCertificate,

    /// The client certificate could not be decoded.
    #[error("malformed client certificate: {0}")]
    MalformedCertificate(String),

    /// A distinguished name could not be decoded.
    #[error("malformed name: {0}")]
    MalformedName(String),

    /// The truststore bundle is unusable.
    #[error("invalid truststore: {0}")]
    Truststore(String),

    /// The CRL could not be decoded.
    #[error("malformed CRL: {0}")]
    CrlMalformed(String),

    /// The CRL was issued by a different CA than the one it is configured for.
    #[error("CRL issuer `{crl_issuer}` differs from the certificate issuer `{expected}`")]
    CrlIssuerMismatch {
        /// The issuer DN the CRL was expected to carry.
        expected: String,
        /// The issuer DN the CRL carries.
        crl_issuer: String,
    },

    /// The truststore holds no CA certificate that could have signed the CRL.
    #[error(
        "no CA certificate for `{issuer}` in the truststore, so its CRL cannot be verified; add the issuing CA to the truststore"
    )]
    CrlIssuerUnknown {
        /// The CRL's issuer DN.
        issuer: String,
    },

    /// No truststore key for the issuer verifies the CRL's signature (RFC 5280 §6.3.3 (f), (g)).
    #[error(
        "CRL signature does not verify with any truststore key for `{issuer}`; the CRL was tampered with or signed by another key"
    )]
    CrlBadSignature {
        /// The CRL's issuer DN.
        issuer: String,
    },

    /// The CRL uses a signature algorithm we refuse (SHA-1, unknown, or mismatched).
    #[error("CRL signature algorithm not accepted: {0}")]
    CrlSignatureAlgorithm(String),

    /// `thisUpdate` lies in the future beyond the allowed clock skew.
    #[error("CRL thisUpdate {this_update} is in the future (now {now})")]
    CrlNotYetValid {
        /// The CRL's `thisUpdate`.
        this_update: UnixTime,
        /// The time of the check.
        now: UnixTime,
    },

    /// The CRL is past `nextUpdate` plus the grace period.
    #[error(
        "CRL expired: nextUpdate {next_update} plus {grace_seconds}s grace is before now ({now}); is the CA still publishing CRLs?"
    )]
    CrlExpired {
        /// The CRL's `nextUpdate`.
        next_update: UnixTime,
        /// The configured grace period.
        grace_seconds: i64,
        /// The time of the check.
        now: UnixTime,
    },

    /// The CRL has no `nextUpdate`, which RFC 5280 §5.1.2.5 requires.
    #[error(
        "CRL has no nextUpdate (required by RFC 5280 §5.1.2.5), so its freshness cannot be bounded"
    )]
    CrlMissingNextUpdate,

    /// The offered CRL is older than the one already cached.
    #[error("CRL rollback refused: offered {what} {offered} is older than the cached {cached}")]
    CrlRollback {
        /// What was compared: `CRL number` or `thisUpdate`.
        what: &'static str,
        /// The cached value.
        cached: String,
        /// The offered value.
        offered: String,
    },

    /// A CRL of a new sequence (issuer, key and scope) arrived while the
    /// rollback guard holds as many sequences as it may: refused, so that no
    /// sequence it guards is ever forgotten.
    #[error("CRL refused: {limit} CRL sequences are already guarded against rollback")]
    CrlSequenceLimit {
        /// The most sequences guarded at once.
        limit: usize,
    },

    /// The CRL uses a feature we do not implement, so it cannot be trusted to be complete.
    #[error("unsupported CRL: {0}")]
    CrlUnsupported(String),

    /// The deny list document could not be read: not JSON, an unknown
    /// field, a bad value, or more entries than allowed.
    #[error("malformed deny list: {0}")]
    DenyListMalformed(String),

    /// The offered deny list has a lower `sequence` than the one in force.
    #[error(
        "deny list rollback refused: offered sequence {offered} is lower than {cached}, the list in force"
    )]
    DenyListRollback {
        /// The sequence of the list in force.
        cached: u64,
        /// The sequence offered.
        offered: u64,
    },

    /// The offered deny list has the sequence of the one in force and other
    /// entries: every change must raise `sequence`.
    #[error(
        "deny list refused: its entries differ from the list in force, and its sequence ({sequence}) does not; raise sequence with every change"
    )]
    DenyListSequenceReused {
        /// The sequence both carry.
        sequence: u64,
    },

    /// A fetch failed (network, S3, HTTP status, a refused redirect, file system).
    #[error("fetching {uri} failed: {reason}")]
    Fetch {
        /// The source URI (never with credentials).
        uri: String,
        /// What went wrong.
        reason: String,
    },

    /// A fetch did not complete within its deadline.
    #[error("fetching {uri} timed out after {seconds}s")]
    FetchTimeout {
        /// The source URI.
        uri: String,
        /// The configured timeout.
        seconds: u64,
    },

    /// A fetched object exceeds the size cap.
    #[error(
        "{uri} is larger than the {limit}-byte limit (raise max_fetch_bytes if this is expected)"
    )]
    FetchTooLarge {
        /// The source URI.
        uri: String,
        /// The configured cap in bytes.
        limit: u64,
    },

    /// A source URI has a scheme or shape we do not support.
    #[error(
        "unsupported source URI `{0}`: use s3://bucket/key[?versionId=...], https://, http:// or file://"
    )]
    UnsupportedUri(String),
}

impl Error {
    /// Whether the source could not be read (network, status, deadline,
    /// size cap), as opposed to a body that was read and refused.
    #[must_use]
    pub fn is_fetch_failure(&self) -> bool {
        matches!(
            self,
            Self::Fetch { .. } | Self::FetchTimeout { .. } | Self::FetchTooLarge { .. }
        )
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The longest text any one field of an [`Error`] carries. Errors are kept in
/// the cache's state, formatted into decision details and logged, so text
/// that comes from outside (a CRL's issuer name, a server's message) is cut
/// here: a hostile source cannot make every log line megabytes long.
pub const MAX_ERROR_TEXT: usize = 256;

/// `text`, cut to [`MAX_ERROR_TEXT`] characters (with `…` when cut) and
/// with control characters escaped.
#[must_use]
pub fn bounded(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_ERROR_TEXT + 8));
    for (i, c) in text.chars().enumerate() {
        if i == MAX_ERROR_TEXT {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}
