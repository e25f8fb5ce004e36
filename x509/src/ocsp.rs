//! OCSP (RFC 6960) in the lightweight profile of RFC 5019: the request for
//! one certificate's status, and the verification of the responder's answer.
//!
//! Like CRLs ([`crate::crl`]), answers arrive as bytes and the time as a
//! parameter: this module does no I/O and never reads the clock. The
//! authorizer fetches; this module decides what the bytes prove.
//!
//! A response is hostile input (OCSP is usually served over plain HTTP), so
//! [`verify_response`] bounds its work and orders it cheapest first:
//!
//! 1. the size ([`MAX_RESPONSE_BYTES`]), the envelope in DER, the
//!    `responseStatus` and the `responseType` (RFC 6960 §4.2.1);
//! 2. the signature algorithm (the one allowlist, [`crate::signed`]) and the
//!    `responderID`;
//! 3. the signer: the issuing CA itself, or a responder certificate that CA
//!    issued for OCSP (RFC 6960 §4.2.2.2), and the signature over
//!    `tbsResponseData`;
//! 4. only then the list of answers: the one for the requested [`CertId`],
//!    its status and its times (RFC 6960 §3.2, RFC 5019 §4).
//!
//! Whoever controls the network between the authorizer and the responder
//! gets no further than step 3 without a key the CA trusts. A
//! [`VerifiedOcsp`] can only be made by [`verify_response`], so holding one
//! proves all four steps passed.
//!
//! This file holds the API: the request, the verdict and its errors.
//! `response.rs` reads the DER of a response (steps 1 and 4), and
//! `signer.rs` holds the algorithm check and the rules of who may sign one
//! (steps 2 and 3).

use std::fmt;

use aws_lc_rs::digest;
use base64::Engine as _;

use crate::der::{self, Malformed};
use crate::serial::Serial;
use crate::signed::SignedData;
use crate::time::UnixTime;
use crate::truststore::CaCert;

mod response;
mod signer;

use response::{Basic, read_answer};
use signer::CertFields;

/// The largest response accepted, in octets; the fetcher stops downloading
/// past it, and [`verify_response`] refuses larger input too. A response for
/// one certificate is a few hundred octets, and about 2 KB with a delegated
/// responder's certificate. This leaves room for [`MAX_RESPONSE_CERTS`]
/// certificates of RSA-8192 keys with long names, and for the
/// [`MAX_SINGLE_RESPONSES`] answers a responder may bundle, while keeping
/// what a hostile source can make us hold and parse small.
pub const MAX_RESPONSE_BYTES: usize = 32 * 1024;
/// The most certificates a response may carry in `certs`: a delegated
/// responder's certificate, and perhaps its chain (RFC 6960 §4.2.1).
pub const MAX_RESPONSE_CERTS: usize = 4;
/// The largest certificate accepted in `certs`, in octets.
pub(crate) const MAX_RESPONDER_CERT_BYTES: usize = 8 * 1024;
/// The most `SingleResponse`s read from one response. RFC 5019 §2.2.1 asks
/// for one per requested certificate, and we request one; responders that
/// pre-compute answers sometimes bundle a few.
pub const MAX_SINGLE_RESPONSES: usize = 16;
/// The most extensions in one `responseExtensions` or `singleExtensions`.
pub(crate) const MAX_OCSP_EXTENSIONS: usize = 8;
/// RFC 5019 §5: a client uses GET when the whole URL (scheme, host, path
/// and the encoded request, [`request_get_path`]) is at most this many
/// octets, and POST otherwise.
pub const MAX_GET_URL_BYTES: usize = 255;

/// OIDs, as DER content octets, compared as bytes.
mod oid {
    /// id-pkix-ocsp-basic, 1.3.6.1.5.5.7.48.1.1 (RFC 6960 §4.2.1).
    pub(crate) const BASIC: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01];
    /// id-pkix-ocsp-nonce, 1.3.6.1.5.5.7.48.1.2 (RFC 6960 §4.4.1).
    pub(crate) const NONCE: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x02];
    /// id-pkix-ocsp-crl, 1.3.6.1.5.5.7.48.1.3 (RFC 6960 §4.4.2).
    pub(crate) const CRL_ID: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x03];
    /// id-pkix-ocsp-nocheck, 1.3.6.1.5.5.7.48.1.5 (RFC 6960 §4.2.2.2.1).
    pub(crate) const NOCHECK: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x05];
    /// id-pkix-ocsp-archive-cutoff, 1.3.6.1.5.5.7.48.1.6 (RFC 6960 §4.4.4).
    pub(crate) const ARCHIVE_CUTOFF: &[u8] =
        &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x06];
    /// id-pkix-ocsp-extended-revoke, 1.3.6.1.5.5.7.48.1.9 (RFC 6960 §4.4.8).
    pub(crate) const EXTENDED_REVOKE: &[u8] =
        &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x09];
    /// id-sha1, 1.3.14.3.2.26.
    pub const SHA1: &[u8] = &[0x2b, 0x0e, 0x03, 0x02, 0x1a];
    /// id-sha256, 2.16.840.1.101.3.4.2.1.
    pub const SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
    /// invalidityDate, 2.5.29.24 (RFC 5280 §5.3.2).
    pub(crate) const INVALIDITY_DATE: &[u8] = &[0x55, 0x1d, 0x18];
    pub(crate) const SUBJECT_KEY_ID: &[u8] = &[0x55, 0x1d, 0x0e];
    pub(crate) const KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x0f];
    pub(crate) const SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];
    pub(crate) const BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];
    pub(crate) const CRL_DISTRIBUTION_POINTS: &[u8] = &[0x55, 0x1d, 0x1f];
    pub(crate) const CERTIFICATE_POLICIES: &[u8] = &[0x55, 0x1d, 0x20];
    pub(crate) const AUTHORITY_KEY_ID: &[u8] = &[0x55, 0x1d, 0x23];
    pub(crate) const EXT_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x25];
    pub(crate) const AUTHORITY_INFO_ACCESS: &[u8] =
        &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01];
}

/// Context-specific tags of the OCSP structures (RFC 6960 Appendix B.1,
/// whose module uses EXPLICIT tags unless a field says IMPLICIT).
mod tag {
    /// `[1]` constructed: `responderID byName`, `responseExtensions`,
    /// `singleExtensions`, `certStatus revoked` (IMPLICIT SEQUENCE).
    pub(crate) const CONTEXT_1: u8 = 0xa1;
    /// `[2]` constructed: `responderID byKey`.
    pub(crate) const CONTEXT_2: u8 = 0xa2;
    /// `certStatus good [0] IMPLICIT NULL`.
    pub const GOOD: u8 = 0x80;
    /// `certStatus unknown [2] IMPLICIT NULL`.
    pub const UNKNOWN: u8 = 0x82;
}

/// The hash of a [`CertId`] (RFC 6960 §4.1.1). SHA-256 is the default
/// (the update of RFC 5019, draft-ietf-lamps-rfc5019bis, recommends it); SHA-1 is for
/// responders that only index SHA-1 CertIDs. The hash only names the
/// certificate here, it secures nothing: the response's own signature does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CertIdHash {
    /// SHA-256.
    Sha256,
    /// SHA-1.
    Sha1,
}

impl CertIdHash {
    fn oid(self) -> &'static [u8] {
        match self {
            Self::Sha256 => oid::SHA256,
            Self::Sha1 => oid::SHA1,
        }
    }

    fn digest(self, bytes: &[u8]) -> Vec<u8> {
        let algorithm = match self {
            Self::Sha256 => &digest::SHA256,
            Self::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
        };
        digest::digest(algorithm, bytes).as_ref().to_vec()
    }

    /// The conventional name, for logs.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "SHA-256",
            Self::Sha1 => "SHA-1",
        }
    }
}

/// SHA-1 of `bytes`: a `KeyHash` (RFC 6960 §4.2.1) is always SHA-1.
fn sha1(bytes: &[u8]) -> [u8; 20] {
    let mut out = [0u8; 20];
    out.copy_from_slice(digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, bytes).as_ref());
    out
}

/// One certificate, as OCSP names it (RFC 6960 §4.1.1): the hash of its
/// issuer's name, the hash of its issuer's key, and its serial. A response
/// answers for a certificate only when its CertID is this one exactly.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CertId {
    hash: CertIdHash,
    issuer_name_hash: Vec<u8>,
    issuer_key_hash: Vec<u8>,
    serial: Serial,
    /// The content octets of the serialNumber INTEGER, as sent and as the
    /// answer must repeat them.
    serial_content: Vec<u8>,
}

impl CertId {
    /// The CertID of the certificate with `serial` issued by `issuer`, the
    /// truststore CA whose key verified it. `issuerNameHash` is the hash of
    /// the CA's subject name DER, and `issuerKeyHash` the hash of its
    /// subjectPublicKey BIT STRING's value, without the tag, the length and
    /// the unused-bits octet (RFC 6960 §4.1.1).
    pub fn new(hash: CertIdHash, issuer: &CaCert, serial: &Serial) -> Result<Self, OcspError> {
        let signed = SignedData::certificate(issuer.der()).map_err(OcspError::UnusableIssuer)?;
        let fields = CertFields::read(&signed).map_err(OcspError::UnusableIssuer)?;
        Ok(Self {
            hash,
            issuer_name_hash: hash.digest(issuer.subject_der()),
            issuer_key_hash: hash.digest(fields.key_bits),
            serial: serial.clone(),
            serial_content: integer_content(serial),
        })
    }

    /// The serial.
    #[must_use]
    pub fn serial(&self) -> &Serial {
        &self.serial
    }

    /// The hash of the issuer's name and key.
    #[must_use]
    pub fn hash(&self) -> CertIdHash {
        self.hash
    }

    /// `issuerNameHash`.
    #[must_use]
    pub fn issuer_name_hash(&self) -> &[u8] {
        &self.issuer_name_hash
    }

    /// `issuerKeyHash`.
    #[must_use]
    pub fn issuer_key_hash(&self) -> &[u8] {
        &self.issuer_key_hash
    }

    /// The DER of the CertID. `hashAlgorithm` carries NULL parameters:
    /// what OpenSSL, Go and pyca/cryptography write, and what responders
    /// that look answers up by the request's bytes have indexed.
    fn to_der(&self) -> Vec<u8> {
        let mut algorithm = tlv(der::OID, self.hash.oid());
        algorithm.extend(tlv(der::NULL, &[]));
        let mut content = tlv(der::SEQUENCE, &algorithm);
        content.extend(tlv(der::OCTET_STRING, &self.issuer_name_hash));
        content.extend(tlv(der::OCTET_STRING, &self.issuer_key_hash));
        content.extend(tlv(der::INTEGER, &self.serial_content));
        tlv(der::SEQUENCE, &content)
    }
}

/// The content octets of a positive INTEGER with this magnitude: a `00`
/// first when the high bit is set (X.690 §8.3). Client certificates with a
/// negative serial are refused before revocation is checked
/// ([`crate::cert::ClientCert::from_der`]), so every serial here is positive.
fn integer_content(serial: &Serial) -> Vec<u8> {
    let magnitude = serial.as_bytes();
    let mut out = Vec::with_capacity(magnitude.len() + 1);
    if magnitude.first().is_none_or(|b| b & 0x80 != 0) {
        out.push(0);
    }
    out.extend_from_slice(magnitude);
    out
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 4);
    der::write_tlv(&mut out, tag, content);
    out
}

/// The DER `OCSPRequest` for one certificate (RFC 6960 §4.1.1), in the
/// profile of RFC 5019 §2.1.1: one `Request`, no `requestorName`, no
/// signature and no extensions. Without a nonce the request is the same
/// bytes every time, so responders and caches in front of them can answer
/// it with a pre-computed response.
#[must_use]
pub fn request_der(id: &CertId) -> Vec<u8> {
    // OCSPRequest { TBSRequest { requestList { Request { CertID } } } }
    let request = tlv(der::SEQUENCE, &id.to_der());
    let list = tlv(der::SEQUENCE, &request);
    let tbs = tlv(der::SEQUENCE, &list);
    tlv(der::SEQUENCE, &tbs)
}

/// The request for a GET (RFC 6960 Appendix A.1): [`request_der`] in
/// standard base64, then URL-encoded, to append to the responder's URL
/// after a `/`. Only `+`, `/` and `=` of the base64 alphabet need encoding;
/// an unencoded `/` would split the path. Use GET only when the whole URL
/// is at most [`MAX_GET_URL_BYTES`] octets (RFC 5019 §5), POST otherwise.
#[must_use]
pub fn request_get_path(id: &CertId) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(request_der(id));
    let mut out = String::with_capacity(b64.len() + 16);
    for c in b64.chars() {
        match c {
            '+' => out.push_str("%2B"),
            '/' => out.push_str("%2F"),
            '=' => out.push_str("%3D"),
            c => out.push(c),
        }
    }
    out
}

/// A `responseStatus` other than `successful` (RFC 6960 §2.3, §4.2.1).
/// Such responses are not signed, so they prove nothing either way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResponseStatus {
    /// `malformedRequest` (1): the responder could not read our request.
    MalformedRequest,
    /// `internalError` (2).
    InternalError,
    /// `tryLater` (3): the responder is busy.
    TryLater,
    /// `sigRequired` (5): the responder wants signed requests, which we never send.
    SigRequired,
    /// `unauthorized` (6): the responder does not answer for this CA.
    Unauthorized,
}

impl ResponseStatus {
    fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            1 => Self::MalformedRequest,
            2 => Self::InternalError,
            3 => Self::TryLater,
            5 => Self::SigRequired,
            6 => Self::Unauthorized,
            _ => return None,
        })
    }

    /// The value of the ENUMERATED.
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            Self::MalformedRequest => 1,
            Self::InternalError => 2,
            Self::TryLater => 3,
            Self::SigRequired => 5,
            Self::Unauthorized => 6,
        }
    }

    /// The name RFC 6960 gives it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::MalformedRequest => "malformedRequest",
            Self::InternalError => "internalError",
            Self::TryLater => "tryLater",
            Self::SigRequired => "sigRequired",
            Self::Unauthorized => "unauthorized",
        }
    }
}

impl fmt::Display for ResponseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the responder says of the certificate (RFC 6960 §2.2, §4.2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertStatus {
    /// Not revoked, as far as the responder knows.
    Good,
    /// Revoked (or on hold: `certificateHold` is revoked while it lasts, as
    /// in a CRL), since `revoked_at`.
    Revoked {
        /// `revocationTime`.
        revoked_at: UnixTime,
    },
    /// The responder does not know the certificate. RFC 6960 §2.2 leaves
    /// what to do to the client; it is no evidence of being good.
    Unknown,
}

/// Time rules applied to OCSP answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OcspTimePolicy {
    /// Tolerated clock difference, in seconds: for `thisUpdate` in the
    /// future, `nextUpdate` in the past, and the delegated responder
    /// certificate's validity.
    pub clock_skew_seconds: i64,
    /// Used only when an answer has no `nextUpdate` (RFC 6960 §4.2.2.1:
    /// newer information is then always available): the answer is usable
    /// until `thisUpdate` plus this many seconds.
    pub max_age_without_next_update: i64,
}

/// Who signed a verified response (RFC 6960 §4.2.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OcspSigner {
    /// The CA that issued the certificate, with the key that issued it.
    Issuer,
    /// A responder certificate the CA issued with `id-kp-OCSPSigning`.
    Delegated {
        /// The SHA-256 of the responder certificate's DER.
        fingerprint: [u8; 32],
    },
}

/// An OCSP answer whose signer, signature, CertID and times were verified:
/// only [`verify_response`] makes one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedOcsp {
    status: CertStatus,
    revocation_reason: Option<u8>,
    this_update: UnixTime,
    next_update: Option<UnixTime>,
    usable_until: UnixTime,
    produced_at: UnixTime,
    signer: OcspSigner,
}

impl VerifiedOcsp {
    /// The certificate's status.
    #[must_use]
    pub fn status(&self) -> CertStatus {
        self.status
    }

    /// For a revoked certificate, the `revocationReason` if given: a
    /// CRLReason code (RFC 5280 §5.3.1; 1 is keyCompromise, 6
    /// certificateHold).
    #[must_use]
    pub fn revocation_reason(&self) -> Option<u8> {
        self.revocation_reason
    }

    /// `thisUpdate`: when the status was known to be correct.
    #[must_use]
    pub fn this_update(&self) -> UnixTime {
        self.this_update
    }

    /// `nextUpdate`, if the responder gave one.
    #[must_use]
    pub fn next_update(&self) -> Option<UnixTime> {
        self.next_update
    }

    /// Until when the answer may be relied on: `nextUpdate`, or without
    /// one, `thisUpdate` plus [`OcspTimePolicy::max_age_without_next_update`].
    #[cfg(test)]
    #[must_use]
    pub(crate) fn usable_until(&self) -> UnixTime {
        self.usable_until
    }

    /// `producedAt`: when the responder signed it. A cache can refuse an
    /// answer produced before the one it holds.
    #[must_use]
    pub fn produced_at(&self) -> UnixTime {
        self.produced_at
    }

    /// Who signed it.
    #[must_use]
    pub fn signer(&self) -> OcspSigner {
        self.signer
    }

    /// Whether a cached answer may still be relied on at `now`: the same
    /// rule [`verify_response`] applied, with no grace (RFC 5019 §4).
    pub fn check_usable(&self, now: UnixTime, clock_skew_seconds: i64) -> Result<(), OcspError> {
        if now <= self.usable_until.offset(clock_skew_seconds) {
            return Ok(());
        }
        Err(match self.next_update {
            Some(next_update) => OcspError::Expired { next_update, now },
            None => OcspError::StaleWithoutNextUpdate {
                this_update: self.this_update,
                now,
            },
        })
    }
}

/// Why an OCSP response was not accepted. Variants carry context, never
/// text from the response: the messages are safe to log as they are.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OcspError {
    /// Larger than [`MAX_RESPONSE_BYTES`].
    #[error("the OCSP response is {size} octets; at most {max} are accepted")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// Not the DER of an OCSP response, or outside the bounds (counts and
    /// sizes) of this module.
    #[error("malformed OCSP response: {0}")]
    Malformed(Malformed),
    /// The issuing CA's certificate could not be read for its key (the
    /// truststore parsed it, so this should not happen).
    #[error("the issuing CA's certificate cannot be read for OCSP: {0}")]
    UnusableIssuer(Malformed),
    /// A `responseStatus` other than `successful` (RFC 6960 §2.3).
    #[error("the OCSP responder answered {0} instead of a signed status")]
    Status(ResponseStatus),
    /// A `responseType` other than `id-pkix-ocsp-basic` (RFC 6960 §4.2.1).
    #[error("the OCSP response is not a basic OCSP response (id-pkix-ocsp-basic)")]
    UnsupportedResponseType,
    /// The response's signature algorithm is not on the allowlist.
    #[error(
        "the OCSP response is signed with an algorithm outside the allowlist; the responder must sign with SHA-256 or stronger and RSA or ECDSA"
    )]
    UnsupportedAlgorithm,
    /// The signer's key (`"issuer"` or `"responder"`) is not on the allowlist.
    #[error(
        "the OCSP {0} key is outside the allowlist (RSA 2048 to 8192 bits, ECDSA P-256 or P-384)"
    )]
    UnsupportedKey(&'static str),
    /// The signature does not verify with the key of the signer the
    /// `responderID` names.
    #[error("the OCSP response's signature does not verify with its signer's key")]
    BadSignature,
    /// No acceptable signer: the `responderID` names neither the issuing CA
    /// nor an included, properly delegated responder (RFC 6960 §4.2.2.2).
    #[error("the OCSP response's signer is not authorized: {0}")]
    UnauthorizedSigner(&'static str),
    /// No `SingleResponse` has the requested CertID (hash algorithm, both
    /// hashes and the serial, exactly).
    #[error("the OCSP response has no answer for the requested certificate")]
    CertIdMismatch,
    /// More than one `SingleResponse` has the requested CertID.
    #[error("the OCSP response answers more than once for the requested certificate")]
    AmbiguousResponse,
    /// `thisUpdate` is later than now, beyond the clock skew (RFC 6960 §3.2 (5)).
    #[error(
        "the OCSP answer's thisUpdate {this_update} is after now ({now}), beyond the clock skew"
    )]
    NotYetValid {
        /// `thisUpdate`.
        this_update: UnixTime,
        /// Now.
        now: UnixTime,
    },
    /// Now is past `nextUpdate`, beyond the clock skew (RFC 6960 §3.2 (6));
    /// there is no grace period for OCSP: fetch a fresh answer.
    #[error(
        "the OCSP answer expired at its nextUpdate {next_update} (now {now}); fetch a fresh one"
    )]
    Expired {
        /// `nextUpdate`.
        next_update: UnixTime,
        /// Now.
        now: UnixTime,
    },
    /// An answer without `nextUpdate`, older than
    /// [`OcspTimePolicy::max_age_without_next_update`].
    #[error(
        "the OCSP answer of {this_update} has no nextUpdate and is older than the configured maximum age (now {now}); fetch a fresh one"
    )]
    StaleWithoutNextUpdate {
        /// `thisUpdate`.
        this_update: UnixTime,
        /// Now.
        now: UnixTime,
    },
    /// A critical extension we do not understand, in the named place
    /// (RFC 5280 §4.2, which RFC 6960 §4.4 applies to OCSP).
    #[error("the OCSP response has an unrecognized critical extension in {0}")]
    UnsupportedCriticalExtension(&'static str),
}

impl From<Malformed> for OcspError {
    fn from(m: Malformed) -> Self {
        Self::Malformed(m)
    }
}

impl OcspError {
    /// A short label for metrics and log fields.
    #[must_use]
    pub fn label(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "too_large",
            Self::Malformed(_) => "malformed",
            Self::UnusableIssuer(_) => "issuer",
            Self::Status(_) => "status",
            Self::UnsupportedResponseType => "response_type",
            Self::UnsupportedAlgorithm | Self::UnsupportedKey(_) => "algorithm",
            Self::BadSignature => "signature",
            Self::UnauthorizedSigner(_) => "signer",
            Self::CertIdMismatch | Self::AmbiguousResponse => "certid",
            Self::NotYetValid { .. } => "not_yet_valid",
            Self::Expired { .. } | Self::StaleWithoutNextUpdate { .. } => "stale",
            Self::UnsupportedCriticalExtension(_) => "extension",
        }
    }
}

fn malformed(what: &'static str, problem: &'static str) -> OcspError {
    OcspError::Malformed(Malformed { what, problem })
}

/// Verifies `der`, an `OCSPResponse`, as the answer to `request` about a
/// certificate `issuer` issued, at `now` (RFC 6960 §3.2):
///
/// 1. at most [`MAX_RESPONSE_BYTES`], one DER encoding with nothing after
///    it, `responseStatus` successful, `responseType` id-pkix-ocsp-basic;
/// 2. a signature algorithm on the allowlist;
/// 3. signed by `issuer`'s key, or by a responder certificate included in
///    the response that `issuer`'s key signed, with `issuer`'s name as its
///    issuer, `id-kp-OCSPSigning`, valid at `now` and not a CA
///    (RFC 6960 §4.2.2.2);
/// 4. exactly one `SingleResponse` for `request`, with `thisUpdate` not in
///    the future and `nextUpdate` (or the policy's maximum age) not past,
///    both within the clock skew, and no critical extension we do not
///    understand.
pub fn verify_response(
    der: &[u8],
    request: &CertId,
    issuer: &CaCert,
    now: UnixTime,
    policy: OcspTimePolicy,
) -> Result<VerifiedOcsp, OcspError> {
    let basic = Basic::read(der)?;
    let signer = basic.authorize(issuer, now, policy)?;
    let answer = read_answer(basic.rest, |id| id.is(request))?;
    answer.verified(signer, now, policy)
}

/// Entry points for fuzzing only (the `fuzzing` feature). Nothing here is
/// verified, so nothing here may decide a request.
#[cfg(feature = "fuzzing")]
pub mod fuzzing {
    use super::{CertStatus, OcspError};

    /// Runs every parsing step of [`super::verify_response`] but the signer
    /// and signature checks and the times: the envelope, the responder
    /// certificates' parsers, the extensions and the answers, matched
    /// against the first CertID in the response. Returns whether it parsed,
    /// never the status: an unverified answer must not be able to decide.
    pub fn parse_unverified(der: &[u8]) -> Result<(), OcspError> {
        super::parse_unverified(der).map(|_: CertStatus| ())
    }
}

/// What `fuzzing::parse_unverified` runs; the unit tests run it too.
#[cfg(any(test, feature = "fuzzing"))]
fn parse_unverified(der: &[u8]) -> Result<CertStatus, OcspError> {
    let basic = Basic::read(der)?;
    for cert in &basic.certs {
        if let Ok(signed) = SignedData::certificate(cert) {
            let _ = CertFields::read(&signed);
        }
        let _ = signer::ResponderFacts::read(cert);
    }
    let mut first = None;
    read_answer(basic.rest, |id| *first.get_or_insert(*id) == *id).map(|a| a.status)
}

#[cfg(test)]
mod tests;
