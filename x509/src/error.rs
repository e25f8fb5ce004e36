//! The crate's one error type: why a certificate, a name, the truststore or
//! a CRL was refused.
//!
//! Like rustls-webpki's, [`Error`] is an enum of causes: each variant says
//! what was refused and why, with the context an operator needs (which
//! element, which entry, which limit, which issuer), and nothing formatted.
//! Payloads are `&'static str`, numbers, times and small typed values
//! ([`Malformed`], [`ObjectId`], [`DerName`], [`CrlNumber`]), so errors are
//! cheap to keep in the refresh state, compare in tests and relabel at each
//! boundary: `mtls_policy` wraps them in its own error, and the authorizer
//! maps both to reason codes and log text.
//!
//! No I/O happens in this crate, so no variant is about fetching: that is
//! the authorizer's `FetchError`.

use crate::crl::CrlNumber;
use crate::der::{Malformed, ObjectId};
use crate::name::DerName;
use crate::pem::PemError;
use crate::signed::UnsupportedAlgorithm;
use crate::time::UnixTime;

/// Why mtls-x509 refused a certificate, a name, the truststore or a CRL.
///
/// Errors never turn into an Allow: the decision layer maps each to a Deny
/// reason (see `mtls_policy::DenyReason`), and the CRL cache keeps its
/// last good CRL when a candidate fails with any `Crl*` variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The request carried no client certificate.
    #[error(
        "the request carries no client certificate; is mutual TLS enabled on the custom domain?"
    )]
    MissingCertificate,

    /// The client certificate could not be decoded, or breaks a rule of
    /// RFC 5280 §4 that the strict parser enforces.
    #[error("malformed client certificate: {0}")]
    MalformedCertificate(CertificateProblem),

    /// A distinguished name could not be decoded (RFC 5280 §4.1.2.4).
    #[error("malformed name: {0}")]
    MalformedName(Malformed),

    /// The truststore bundle is unusable.
    #[error("invalid truststore: {0}")]
    Truststore(TruststoreProblem),

    /// The CRL could not be decoded (RFC 5280 §5.1).
    #[error("malformed CRL: {0}")]
    CrlMalformed(CrlMalformed),

    /// The CRL comes from a truststore CA that the configuration entry it was
    /// loaded for does not match (RFC 5280 §6.3.3 (b)(1)).
    #[error("CRL issuer `{crl_issuer}` is not a CA the entry it was loaded for matches")]
    CrlIssuerMismatch {
        /// The issuer the CRL names.
        crl_issuer: DerName,
    },

    /// The truststore holds no CA certificate that could have signed the CRL.
    #[error(
        "no CA certificate for `{issuer}` in the truststore, so its CRL cannot be verified; add the issuing CA to the truststore"
    )]
    CrlIssuerUnknown {
        /// The CRL's issuer.
        issuer: DerName,
    },

    /// No truststore key for the issuer verifies the CRL's signature (RFC 5280 §6.3.3 (f), (g)).
    #[error(
        "CRL signature does not verify with any truststore key for `{issuer}`; the CRL was tampered with or signed by another key"
    )]
    CrlBadSignature {
        /// The CRL's issuer.
        issuer: DerName,
    },

    /// The CRL uses a signature algorithm we refuse (SHA-1, unknown, or
    /// with parameters off the allowlist; RFC 5280 §5.1.1.2).
    #[error("CRL signature algorithm not accepted: {0}")]
    CrlSignatureAlgorithm(UnsupportedAlgorithm),

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

    /// The offered CRL is older than the newest of its sequence already seen.
    #[error("CRL rollback refused: {0}")]
    CrlRollback(CrlRollback),

    /// A CRL of a new sequence (issuer, key and scope) arrived while the
    /// rollback guard holds as many sequences as it may: refused, so that no
    /// sequence it guards is ever forgotten.
    #[error("CRL refused: {limit} CRL sequences are already guarded against rollback")]
    CrlSequenceLimit {
        /// The most sequences guarded at once.
        limit: usize,
    },

    /// The CRL uses a feature we do not implement, so it cannot be trusted
    /// to be complete.
    #[error("unsupported CRL: {0}")]
    CrlUnsupported(CrlUnsupported),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What is wrong with a client certificate ([`Error::MalformedCertificate`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CertificateProblem {
    /// `clientCertPem` is longer than any certificate we accept.
    #[error("clientCertPem is longer than {max} characters")]
    PemTooLong {
        /// The limit.
        max: usize,
    },
    /// `clientCertPem` is not PEM.
    #[error("PEM: {0}")]
    Pem(PemError),
    /// `clientCertPem` holds no `CERTIFICATE` block.
    #[error("no CERTIFICATE block in clientCertPem")]
    NoPemBlock,
    /// The DER is larger than any certificate we accept.
    #[error("{size} octets; at most {max} are accepted")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// An element is not DER, or not the element expected.
    #[error("{0}")]
    Der(Malformed),
    /// The serial is an empty INTEGER (RFC 5280 §4.1.2.2 wants a positive one).
    #[error("the serial number is empty")]
    EmptySerial,
    /// The serial is negative (RFC 5280 §4.1.2.2 wants a positive one).
    #[error("the serial number is negative")]
    NegativeSerial,
    /// The subject or issuer name has octets after its last RDN.
    #[error("the {name} name has octets after its last RDN")]
    NameTrailingOctets {
        /// `subject` or `issuer`.
        name: &'static str,
    },
    /// The subject or issuer name has more attributes than we read.
    #[error("the {name} name has more than {max} attributes")]
    TooManyNameAttributes {
        /// `subject` or `issuer`.
        name: &'static str,
        /// The limit.
        max: usize,
    },
    /// More extensions than we read.
    #[error("{count} extensions; at most {max} are accepted")]
    TooManyExtensions {
        /// How many it has.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// An extension appears twice (RFC 5280 §4.2).
    #[error("extension {oid} appears twice")]
    DuplicateExtension {
        /// The extension.
        oid: ObjectId,
    },
    /// A critical extension we do not recognise (RFC 5280 §4.2).
    #[error("unrecognised critical extension {oid}")]
    UnrecognisedCriticalExtension {
        /// The extension.
        oid: ObjectId,
    },
    /// A recognised extension that does not parse.
    #[error("{extension}: {problem}")]
    BadExtension {
        /// The extension's name (`subjectAltName`, `basicConstraints`…).
        extension: &'static str,
        /// What the parser refused.
        problem: &'static str,
    },
    /// More CRL distribution point names than we read.
    #[error("more than {max} CRL distribution point URIs")]
    TooManyDistributionPoints {
        /// The limit.
        max: usize,
    },
}

/// What is wrong with the truststore bundle ([`Error::Truststore`]).
/// `block` counts the bundle's PEM blocks from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TruststoreProblem {
    /// A block is not PEM.
    #[error("PEM block {block}: {pem}")]
    Pem {
        /// The block.
        block: usize,
        /// Why.
        pem: PemError,
    },
    /// A `CERTIFICATE` block does not parse as a certificate.
    #[error("certificate {block}: {problem}")]
    Unparsable {
        /// The block.
        block: usize,
        /// What the parser refused.
        problem: &'static str,
    },
    /// A certificate is followed by other octets in its block.
    #[error("certificate {block} has trailing data")]
    TrailingData {
        /// The block.
        block: usize,
    },
    /// A CA's keyUsage extension does not parse (RFC 5280 §4.2.1.3).
    #[error("bad keyUsage in `{subject}` (certificate {block}): {problem}")]
    KeyUsage {
        /// The block.
        block: usize,
        /// The CA's subject.
        subject: DerName,
        /// What the parser refused.
        problem: &'static str,
    },
    /// The bundle holds no `CERTIFICATE` block.
    #[error("no CERTIFICATE blocks found")]
    Empty,
}

/// What is wrong with a CRL's encoding ([`Error::CrlMalformed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CrlMalformed {
    /// An element is not DER, or not the element RFC 5280 §5.1 puts there.
    #[error("{0}")]
    Der(Malformed),
    /// A revoked entry is malformed (RFC 5280 §5.1.2.6, §5.3); entries
    /// count from 0.
    #[error("revoked entry {index}: {problem}")]
    Entry {
        /// The entry.
        index: usize,
        /// What is wrong with it.
        problem: Malformed,
    },
    /// A PEM body that is not PEM.
    #[error("PEM: {0}")]
    Pem(PemError),
    /// A PEM body without an `X509 CRL` block.
    #[error("no `X509 CRL` PEM block")]
    NoPemBlock,
    /// More of something than any real CRL has.
    #[error("more than {max} {what}")]
    TooMany {
        /// What: `crlExtensions`, `Freshest CRL URIs`.
        what: &'static str,
        /// The limit.
        max: usize,
    },
    /// A CRL extension appears twice (RFC 5280 §4.2, applied to CRLs by §5.2).
    #[error("extension {oid} appears twice")]
    DuplicateExtension {
        /// The extension.
        oid: ObjectId,
    },
    /// A CRL extension that does not parse.
    #[error("extension {oid}: {problem}")]
    Extension {
        /// The extension.
        oid: ObjectId,
        /// What the parser refused.
        problem: &'static str,
    },
    /// The fields before `revokedCertificates` are larger than any real
    /// CRL's: refused from the first octets, before the rest is downloaded.
    #[error("{what}: the fields before revokedCertificates take more than {max} octets")]
    HeadTooLarge {
        /// The field being read.
        what: &'static str,
        /// The limit.
        max: usize,
    },
    /// An element larger than any real CRL's.
    #[error("an element of more than {max} octets where none is that large")]
    ElementTooLarge {
        /// The limit.
        max: usize,
    },
    /// `crlExtensions` and the signature are larger than any real CRL's.
    #[error("crlExtensions and the signature take more than {max} octets")]
    TailTooLarge {
        /// The limit.
        max: usize,
    },
    /// An earlier chunk of the body was refused, so the whole body is.
    #[error("an earlier part was refused")]
    EarlierPartRefused,
}

/// A CRL feature we do not implement ([`Error::CrlUnsupported`]): a CRL
/// that uses one cannot be trusted to be complete for what it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CrlUnsupported {
    /// Entries for another issuer (certificateIssuer, RFC 5280 §5.3.3).
    #[error("indirect CRL entries (certificateIssuer)")]
    IndirectEntries,
    /// A critical entry extension we do not recognise (RFC 5280 §5.3);
    /// entries count from 0.
    #[error("unrecognized critical extension in revoked entry {index}")]
    CriticalEntryExtension {
        /// The entry.
        index: usize,
    },
    /// A critical CRL extension we do not recognise (RFC 5280 §5.2).
    #[error("unrecognized critical extension {oid}")]
    CriticalExtension {
        /// The extension.
        oid: ObjectId,
    },
    /// An issuingDistributionPoint whose name is neither a URI nor a
    /// directoryName (RFC 5280 §5.2.5).
    #[error("a distribution point named by neither a URI nor a directoryName")]
    DistributionPointNames,
    /// indirectCRL (RFC 5280 §5.2.5).
    #[error("indirect CRLs")]
    IndirectCrl,
    /// onlyContainsAttributeCerts (RFC 5280 §5.2.5).
    #[error("a CRL scoped to attribute certificates")]
    AttributeCertificates,
    /// onlySomeReasons (RFC 5280 §5.2.5).
    #[error("a CRL partitioned by reason (onlySomeReasons)")]
    ReasonPartition,
    /// onlyContainsCACerts, loaded for client certificates.
    #[error(
        "a CRL scoped to CA certificates (an ARL) for an issuer entry; configure it under ca_revocation"
    )]
    ArlForEndEntities,
    /// onlyContainsUserCerts, loaded for CA certificates.
    #[error("a CRL scoped to end-entity certificates under ca_revocation: it never covers a CA")]
    EndEntityCrlForCas,
}

/// Which position of a CRL's sequence went back ([`Error::CrlRollback`]).
/// RFC 5280 §5.2.3 makes CRL numbers monotonic; without them, `thisUpdate`
/// decides.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CrlRollback {
    /// A lower CRL number than the newest seen.
    #[error("offered CRL number {offered} is older than the cached {cached}")]
    Number {
        /// The newest seen.
        cached: CrlNumber,
        /// The one offered.
        offered: CrlNumber,
    },
    /// An earlier `thisUpdate` than the newest seen.
    #[error("offered thisUpdate {offered} is older than the cached {cached}")]
    ThisUpdate {
        /// The newest seen.
        cached: UnixTime,
        /// The one offered.
        offered: UnixTime,
    },
}

impl From<CertificateProblem> for Error {
    fn from(p: CertificateProblem) -> Self {
        Self::MalformedCertificate(p)
    }
}

impl From<TruststoreProblem> for Error {
    fn from(p: TruststoreProblem) -> Self {
        Self::Truststore(p)
    }
}

impl From<CrlMalformed> for Error {
    fn from(p: CrlMalformed) -> Self {
        Self::CrlMalformed(p)
    }
}

impl From<CrlUnsupported> for Error {
    fn from(p: CrlUnsupported) -> Self {
        Self::CrlUnsupported(p)
    }
}

impl From<CrlRollback> for Error {
    fn from(p: CrlRollback) -> Self {
        Self::CrlRollback(p)
    }
}

/// What x509-parser refused, as a fixed phrase: its errors are typed, and
/// this keeps them that way (no text from the input).
pub(crate) fn parser_problem(e: &x509_parser::error::X509Error) -> &'static str {
    use x509_parser::error::X509Error as E;
    match e {
        E::Generic => "cannot be parsed",
        E::InvalidVersion => "invalid version",
        E::InvalidSerial => "invalid serial",
        E::InvalidAlgorithmIdentifier => "invalid algorithm identifier",
        E::InvalidX509Name => "invalid X.509 name",
        E::InvalidDate => "invalid date",
        E::InvalidSPKI => "invalid SubjectPublicKeyInfo",
        E::InvalidSubjectUID => "invalid subjectUniqueID",
        E::InvalidIssuerUID => "invalid issuerUniqueID",
        E::InvalidExtensions => "invalid extensions",
        E::InvalidAttributes => "invalid attributes",
        E::DuplicateExtensions => "duplicate extensions",
        E::DuplicateAttributes => "duplicate attributes",
        E::InvalidSignatureValue => "invalid signature value",
        E::InvalidTbsCertificate => "invalid TBSCertificate",
        E::InvalidUserCertificate => "invalid userCertificate",
        E::InvalidCertificate => "invalid certificate",
        E::SignatureVerificationError => "signature verification error",
        E::SignatureUnsupportedAlgorithm => "unsupported signature algorithm",
        E::InvalidNumber => "invalid number",
        E::Der(_) => "not valid DER",
        E::NomError(_) => "unexpected structure",
    }
}

/// [`parser_problem`] for x509-parser's `nom` results.
pub(crate) fn nom_problem(
    e: &x509_parser::nom::Err<x509_parser::error::X509Error>,
) -> &'static str {
    match e {
        x509_parser::nom::Err::Incomplete(_) => "truncated",
        x509_parser::nom::Err::Error(e) | x509_parser::nom::Err::Failure(e) => parser_problem(e),
    }
}

/// The longest text any one field of an error carries, where an edge (a
/// fetch, a CLI) keeps text from outside: a server's message, a file name.
/// Errors are kept in the cache's state, formatted into decision details and
/// logged, so such text is cut here: a hostile source cannot make every log
/// line megabytes long.
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
