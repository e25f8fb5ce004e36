//! Signed objects: the one home of the envelope check, the signature
//! algorithm allowlist, the public-key allowlist and the signature check.
//! Certificates and CRLs both go through it, and so does the `truststore`
//! tool, so the tool never accepts a CA that the authorizer cannot check, nor
//! refuses one that it can.
//!
//! What is accepted is what API Gateway's truststore accepts (SHA-256 or
//! stronger, RSA 2048 or larger, ECDSA P-256 or P-384) and what AWS Private CA
//! signs with (`SHA256/384/512WITHRSA`, `SHA256/384/512WITHECDSA`):
//!
//! | key | signature algorithms |
//! |---|---|
//! | ECDSA P-256, P-384 | `ecdsa-with-SHA256`, `-SHA384`, `-SHA512` |
//! | RSA 2048 to 8192 bits | `sha256/384/512WithRSAEncryption` (PKCS #1 v1.5), RSASSA-PSS with SHA-256/384/512, MGF1 with the same hash, and a salt as long as the hash |
//!
//! Everything else (SHA-1, MD5, Ed25519, P-521, RSA under 2048 bits, other
//! PSS parameters) is refused by name. Signatures are checked with aws-lc-rs.
//!
//! Why one file: it is the single home of the allowlist,
//! on purpose (see above). Splitting the algorithm table from the key and
//! signature checks would make two places to update for one algorithm.

use std::fmt;

use aws_lc_rs::digest;
use aws_lc_rs::signature::{self as lc, UnparsedPublicKey, VerificationAlgorithm};

use crate::der::{self, Malformed, ObjectId, Reader};

/// The parts of a signed object (RFC 5280 §4.1 `Certificate`, §5.1
/// `CertificateList`): `SEQUENCE { tbs, signatureAlgorithm, signatureValue }`.
#[derive(Clone, Copy, Debug)]
pub struct SignedData<'a> {
    /// The whole encoding of the signed part: the bytes the signature covers.
    pub tbs: &'a [u8],
    /// The content octets of the signed part.
    pub tbs_content: &'a [u8],
    /// The whole encoding of `signatureAlgorithm`.
    pub algorithm: &'a [u8],
    /// The signature (the BIT STRING's content after its unused-bits octet).
    pub signature: &'a [u8],
}

/// What a signed object is, which says where its inner `signature` field sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// `tbsCertificate`: `[0] version`, `serialNumber`, then `signature`.
    Certificate,
    /// `tbsCertList`: an optional `version INTEGER`, then `signature`.
    CertificateList,
}

impl<'a> SignedData<'a> {
    /// The envelope of a certificate, checked strictly: three DER parts and nothing after them.
    pub fn certificate(der: &'a [u8]) -> Result<Self, Malformed> {
        Self::parse(der, Kind::Certificate)
    }

    /// The envelope of a CRL, checked strictly: three DER parts and nothing after them.
    pub fn crl(der: &'a [u8]) -> Result<Self, Malformed> {
        Self::parse(der, Kind::CertificateList)
    }

    /// Reads the three parts, in DER, with nothing after them, and checks that
    /// the outer `signatureAlgorithm` is byte-for-byte the inner `signature`
    /// field (RFC 5280 §4.1.1.2, §5.1.1.2). This reads a handful of headers,
    /// whatever the size of the object: it is the cheap first check.
    fn parse(der: &'a [u8], kind: Kind) -> Result<Self, Malformed> {
        let mut top = Reader::new(der);
        let outer = top.expect_tag(der::SEQUENCE, "the outer SEQUENCE")?;
        if !top.is_empty() {
            return Err(malformed("the object", "trailing data"));
        }
        let mut fields = Reader::new(outer.content);
        let tbs = fields.expect_tag(der::SEQUENCE, "the signed part")?;
        let algorithm = fields.expect_tag(der::SEQUENCE, "signatureAlgorithm")?;
        let signature = fields.expect_tag(der::BIT_STRING, "signatureValue")?;
        if !fields.is_empty() {
            return Err(malformed("the object", "fields after signatureValue"));
        }
        let Some((&0, bits)) = signature.content.split_first() else {
            return Err(malformed("signatureValue", "unused bits"));
        };
        let mut inner = Reader::new(tbs.content);
        match kind {
            Kind::Certificate => {
                inner.optional(der::CONTEXT_0, "version")?;
                inner.expect_tag(der::INTEGER, "serialNumber")?;
            }
            Kind::CertificateList => {
                inner.optional(der::INTEGER, "version")?;
            }
        }
        let inner_algorithm = inner.expect_tag(der::SEQUENCE, "the signature field")?;
        if inner_algorithm.raw != algorithm.raw {
            return Err(malformed(
                "signatureAlgorithm",
                "differs from the signature field of the signed part",
            ));
        }
        Ok(Self {
            tbs: tbs.raw,
            tbs_content: tbs.content,
            algorithm: algorithm.raw,
            signature: bits,
        })
    }
}

fn malformed(what: &'static str, problem: &'static str) -> Malformed {
    Malformed { what, problem }
}

/// A signature algorithm on the allowlist.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignatureAlgorithm {
    /// `ecdsa-with-SHA256` (RFC 5758 §3.2).
    EcdsaSha256,
    /// `ecdsa-with-SHA384`.
    EcdsaSha384,
    /// `ecdsa-with-SHA512`.
    EcdsaSha512,
    /// `sha256WithRSAEncryption` (RFC 4055 §5, PKCS #1 v1.5).
    RsaPkcs1Sha256,
    /// `sha384WithRSAEncryption`.
    RsaPkcs1Sha384,
    /// `sha512WithRSAEncryption`.
    RsaPkcs1Sha512,
    /// RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-octet salt (RFC 4055 §3.1).
    RsaPssSha256,
    /// RSASSA-PSS with SHA-384, MGF1-SHA-384 and a 48-octet salt.
    RsaPssSha384,
    /// RSASSA-PSS with SHA-512, MGF1-SHA-512 and a 64-octet salt.
    RsaPssSha512,
}

/// OIDs as DER content octets, compared as bytes.
mod oid {
    pub(crate) const ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
    pub(crate) const ECDSA_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03];
    pub(crate) const ECDSA_SHA512: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04];
    pub(crate) const RSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
    pub(crate) const RSA_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c];
    pub(crate) const RSA_SHA512: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d];
    pub(crate) const RSA_PSS: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a];
    pub(crate) const MGF1: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08];
    pub const SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
    pub const SHA384: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02];
    pub const SHA512: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03];
    pub(crate) const RSA_ENCRYPTION: &[u8] =
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    pub(crate) const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    pub(crate) const P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    pub(crate) const P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
    pub(crate) const P521: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];
    pub(crate) const ED25519: &[u8] = &[0x2b, 0x65, 0x70];
}

/// The hash of a signature algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn from_oid(oid: &[u8]) -> Option<Self> {
        match oid {
            oid::SHA256 => Some(Self::Sha256),
            oid::SHA384 => Some(Self::Sha384),
            oid::SHA512 => Some(Self::Sha512),
            _ => None,
        }
    }

    fn octets(self) -> u8 {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }
}

/// Why a signature algorithm is not accepted: which algorithm, or which
/// parameters, without quoting the object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnsupportedAlgorithm {
    /// The AlgorithmIdentifier is not one in DER.
    Malformed,
    /// ECDSA with parameters (RFC 5758 §3.2 says absent).
    EcdsaWithParameters,
    /// PKCS #1 v1.5 with parameters other than NULL (RFC 4055 §5).
    RsaParametersNotNull,
    /// RSASSA-PSS with parameters outside the allowlist (RFC 4055 §3.1).
    PssParameters,
    /// A known algorithm that is refused: SHA-1, MD5, SHA-224, Ed25519.
    Named(&'static str),
    /// Any other algorithm, by its OID.
    Other(ObjectId),
}

impl fmt::Display for UnsupportedAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed => f.write_str("a malformed AlgorithmIdentifier"),
            Self::EcdsaWithParameters => f.write_str("ECDSA with parameters"),
            Self::RsaParametersNotNull => {
                f.write_str("RSA PKCS #1 v1.5 with parameters other than NULL")
            }
            Self::PssParameters => f.write_str("RSASSA-PSS with these parameters"),
            Self::Named(name) => f.write_str(name),
            Self::Other(oid) => write!(f, "algorithm {oid}"),
        }?;
        f.write_str(
            " is not accepted; sign with SHA-256, SHA-384 or SHA-512 and RSA (PKCS #1 v1.5 or PSS) or ECDSA",
        )
    }
}

impl std::error::Error for UnsupportedAlgorithm {}

impl SignatureAlgorithm {
    /// Identifies the whole DER of an `AlgorithmIdentifier`, or says why it is
    /// refused. Parameters must be exactly what the RFCs specify: absent for
    /// ECDSA (RFC 5758 §3.2); NULL or absent for PKCS #1 v1.5 (RFC 4055 §5);
    /// for PSS, a hash from the list, MGF1 with the same hash, a salt as long
    /// as the hash and the default trailer (RFC 4055 §3.1).
    pub fn from_der(algorithm_identifier: &[u8]) -> Result<Self, UnsupportedAlgorithm> {
        let (oid, params) =
            algorithm_parts(algorithm_identifier).ok_or(UnsupportedAlgorithm::Malformed)?;
        let null_or_absent = matches!(params, None | Some([0x05, 0x00]));
        match oid {
            oid::ECDSA_SHA256 | oid::ECDSA_SHA384 | oid::ECDSA_SHA512 if params.is_some() => {
                Err(UnsupportedAlgorithm::EcdsaWithParameters)
            }
            oid::ECDSA_SHA256 => Ok(Self::EcdsaSha256),
            oid::ECDSA_SHA384 => Ok(Self::EcdsaSha384),
            oid::ECDSA_SHA512 => Ok(Self::EcdsaSha512),
            oid::RSA_SHA256 | oid::RSA_SHA384 | oid::RSA_SHA512 if !null_or_absent => {
                Err(UnsupportedAlgorithm::RsaParametersNotNull)
            }
            oid::RSA_SHA256 => Ok(Self::RsaPkcs1Sha256),
            oid::RSA_SHA384 => Ok(Self::RsaPkcs1Sha384),
            oid::RSA_SHA512 => Ok(Self::RsaPkcs1Sha512),
            oid::RSA_PSS => match params.and_then(pss_hash) {
                Some(Hash::Sha256) => Ok(Self::RsaPssSha256),
                Some(Hash::Sha384) => Ok(Self::RsaPssSha384),
                Some(Hash::Sha512) => Ok(Self::RsaPssSha512),
                None => Err(UnsupportedAlgorithm::PssParameters),
            },
            other => Err(refused_algorithm(other)),
        }
    }

    /// The conventional name, for reports and logs.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::EcdsaSha256 => "ecdsa-with-SHA256",
            Self::EcdsaSha384 => "ecdsa-with-SHA384",
            Self::EcdsaSha512 => "ecdsa-with-SHA512",
            Self::RsaPkcs1Sha256 => "sha256WithRSAEncryption",
            Self::RsaPkcs1Sha384 => "sha384WithRSAEncryption",
            Self::RsaPkcs1Sha512 => "sha512WithRSAEncryption",
            Self::RsaPssSha256 => "RSASSA-PSS (SHA-256)",
            Self::RsaPssSha384 => "RSASSA-PSS (SHA-384)",
            Self::RsaPssSha512 => "RSASSA-PSS (SHA-512)",
        }
    }

    /// The digest this algorithm signs, to hash a signed part as it streams in.
    #[must_use]
    pub fn digest(self) -> &'static digest::Algorithm {
        match self {
            Self::EcdsaSha256 | Self::RsaPkcs1Sha256 | Self::RsaPssSha256 => &digest::SHA256,
            Self::EcdsaSha384 | Self::RsaPkcs1Sha384 | Self::RsaPssSha384 => &digest::SHA384,
            Self::EcdsaSha512 | Self::RsaPkcs1Sha512 | Self::RsaPssSha512 => &digest::SHA512,
        }
    }

    /// The aws-lc-rs algorithm for this signature with a key of `key`, or
    /// `None` when the two do not belong together (an RSA signature from an
    /// ECDSA key).
    fn verifier(self, key: KeyAlgorithm) -> Option<&'static dyn VerificationAlgorithm> {
        Some(match (key, self) {
            (KeyAlgorithm::EcP256, Self::EcdsaSha256) => &lc::ECDSA_P256_SHA256_ASN1,
            (KeyAlgorithm::EcP256, Self::EcdsaSha384) => &lc::ECDSA_P256_SHA384_ASN1,
            (KeyAlgorithm::EcP256, Self::EcdsaSha512) => &lc::ECDSA_P256_SHA512_ASN1,
            (KeyAlgorithm::EcP384, Self::EcdsaSha256) => &lc::ECDSA_P384_SHA256_ASN1,
            (KeyAlgorithm::EcP384, Self::EcdsaSha384) => &lc::ECDSA_P384_SHA384_ASN1,
            (KeyAlgorithm::EcP384, Self::EcdsaSha512) => &lc::ECDSA_P384_SHA512_ASN1,
            (KeyAlgorithm::Rsa { .. }, Self::RsaPkcs1Sha256) => &lc::RSA_PKCS1_2048_8192_SHA256,
            (KeyAlgorithm::Rsa { .. }, Self::RsaPkcs1Sha384) => &lc::RSA_PKCS1_2048_8192_SHA384,
            (KeyAlgorithm::Rsa { .. }, Self::RsaPkcs1Sha512) => &lc::RSA_PKCS1_2048_8192_SHA512,
            (KeyAlgorithm::Rsa { .. }, Self::RsaPssSha256) => &lc::RSA_PSS_2048_8192_SHA256,
            (KeyAlgorithm::Rsa { .. }, Self::RsaPssSha384) => &lc::RSA_PSS_2048_8192_SHA384,
            (KeyAlgorithm::Rsa { .. }, Self::RsaPssSha512) => &lc::RSA_PSS_2048_8192_SHA512,
            _ => return None,
        })
    }
}

/// The OID and the parameters (whole encoding, if any) of an AlgorithmIdentifier.
fn algorithm_parts(der: &[u8]) -> Option<(&[u8], Option<&[u8]>)> {
    let mut top = Reader::new(der);
    let seq = top.expect_tag(der::SEQUENCE, "AlgorithmIdentifier").ok()?;
    if !top.is_empty() {
        return None;
    }
    let mut fields = Reader::new(seq.content);
    let oid = fields.expect_tag(der::OID, "algorithm").ok()?;
    let params = if fields.is_empty() {
        None
    } else {
        Some(fields.any().ok()?.raw)
    };
    fields.is_empty().then_some((oid.content, params))
}

/// The hash of RSASSA-PSS parameters that we accept (RFC 4055 §3.1), which
/// are also the only ones aws-lc-rs verifies: `hashAlgorithm` SHA-256/384/512,
/// `maskGenAlgorithm` MGF1 with the same hash, `saltLength` the hash's length
/// and `trailerField` left at its default. The defaults of the other fields
/// (SHA-1, a 20-octet salt) are refused, so all three must be present.
fn pss_hash(params: &[u8]) -> Option<Hash> {
    let mut top = Reader::new(params);
    let seq = top.expect_tag(der::SEQUENCE, "RSASSA-PSS-params").ok()?;
    let mut r = Reader::new(seq.content);
    let mut field = |tag: u8, what: &'static str| r.expect_tag(tag, what).ok().map(|t| t.content);
    let hash = hash_identifier(field(0xa0, "hashAlgorithm")?)?;
    let (mgf_oid, mgf_params) = algorithm_parts(field(0xa1, "maskGenAlgorithm")?)?;
    if mgf_oid != oid::MGF1 || hash_identifier(mgf_params?)? != hash {
        return None;
    }
    if field(0xa2, "saltLength")? != [der::INTEGER, 0x01, hash.octets()] {
        return None;
    }
    (r.is_empty() && top.is_empty()).then_some(hash)
}

/// A hash AlgorithmIdentifier with NULL or absent parameters (RFC 4055 §2.1).
fn hash_identifier(der: &[u8]) -> Option<Hash> {
    let (oid, params) = algorithm_parts(der)?;
    matches!(params, None | Some([0x05, 0x00]))
        .then(|| Hash::from_oid(oid))
        .flatten()
}

/// A refused algorithm OID, by name where it has a well-known one.
fn refused_algorithm(oid: &[u8]) -> UnsupportedAlgorithm {
    const KNOWN: &[(&[u8], &str)] = &[
        (
            &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05],
            "sha1WithRSAEncryption",
        ),
        (
            &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x04],
            "md5WithRSAEncryption",
        ),
        (
            &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0e],
            "sha224WithRSAEncryption",
        ),
        (
            &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01],
            "ecdsa-with-SHA1",
        ),
        (
            &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x01],
            "ecdsa-with-SHA224",
        ),
        (oid::ED25519, "Ed25519"),
    ];
    KNOWN.iter().find(|(o, _)| *o == oid).map_or_else(
        || UnsupportedAlgorithm::Other(ObjectId::new(oid)),
        |(_, n)| UnsupportedAlgorithm::Named(n),
    )
}

/// The kind and size of an accepted public key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    /// ECDSA on NIST P-256 (`prime256v1`).
    EcP256,
    /// ECDSA on NIST P-384 (`secp384r1`).
    EcP384,
    /// RSA, with the modulus size in bits (2048 to 8192).
    Rsa {
        /// The modulus size.
        bits: u32,
    },
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EcP256 => f.write_str("ECDSA P-256"),
            Self::EcP384 => f.write_str("ECDSA P-384"),
            Self::Rsa { bits } => write!(f, "RSA {bits}"),
        }
    }
}

/// Why a public key is not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnsupportedKey {
    /// ECDSA on P-521.
    P521,
    /// ECDSA on another named curve, by its OID.
    Curve(ObjectId),
    /// ECDSA with explicit curve parameters (RFC 5480 §2.1.1 allows namedCurve only).
    ExplicitCurve,
    /// RSA with a modulus outside 2048 to 8192 bits.
    RsaSize {
        /// The modulus size.
        bits: u32,
    },
    /// Ed25519.
    Ed25519,
    /// Another key type, by its algorithm OID.
    KeyType(ObjectId),
    /// The SubjectPublicKeyInfo does not parse.
    Malformed,
}

impl fmt::Display for UnsupportedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::P521 => f.write_str("ECDSA P-521"),
            Self::Curve(oid) => write!(f, "the curve {oid}"),
            Self::ExplicitCurve => f.write_str("ECDSA with explicit curve parameters"),
            Self::RsaSize { bits } => write!(f, "RSA {bits}"),
            Self::Ed25519 => f.write_str("Ed25519"),
            Self::KeyType(oid) => write!(f, "a key of type {oid}"),
            Self::Malformed => return f.write_str("the SubjectPublicKeyInfo is malformed"),
        }?;
        f.write_str(" is not accepted; use RSA 2048 to 8192 bits, or ECDSA P-256 or P-384")
    }
}

impl std::error::Error for UnsupportedKey {}

/// The order n of P-256's base point (FIPS 186-4 §D.1.2.3).
const P256_ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

/// The order n of P-384's base point (FIPS 186-4 §D.1.2.4).
const P384_ORDER: [u8; 48] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf,
    0x58, 0x1a, 0x0d, 0xb2, 0x48, 0xb0, 0xa7, 0x7a, 0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73,
];

/// The other valid encoding of an ECDSA-signed object: the same signed part,
/// with the signature (r, s) replaced by (r, n − s), which verifies just as
/// well (ECDSA signatures are malleable; X.509 does not require low s). So
/// whoever holds a signed certificate holds two, with two SHA-256
/// fingerprints, and a check keyed on one fingerprint must also try the
/// other. `None` for RSA keys (PKCS #1 v1.5 is deterministic, and a PSS
/// signature cannot be changed without the signing key), or when the
/// signature is not a well-formed `ECDSA-Sig-Value` with 0 < s < n.
#[must_use]
pub fn ecdsa_twin(signed: &SignedData<'_>, key: KeyAlgorithm) -> Option<Vec<u8>> {
    let order: &[u8] = match key {
        KeyAlgorithm::EcP256 => &P256_ORDER,
        KeyAlgorithm::EcP384 => &P384_ORDER,
        KeyAlgorithm::Rsa { .. } => return None,
    };
    let mut top = Reader::new(signed.signature);
    let sig = top.expect_tag(der::SEQUENCE, "ECDSA-Sig-Value").ok()?;
    let mut fields = Reader::new(sig.content);
    let r = fields.expect_tag(der::INTEGER, "r").ok()?;
    let s = fields.expect_tag(der::INTEGER, "s").ok()?;
    if !top.is_empty() || !fields.is_empty() {
        return None;
    }
    let s = crate::serial::normalize(s.content);
    if s.len() > order.len() || s == [0] {
        return None;
    }
    // n − s, big-endian, over the order's width.
    let mut padded = vec![0u8; order.len()];
    padded.get_mut(order.len() - s.len()..)?.copy_from_slice(s);
    let mut twin_s = vec![0u8; order.len()];
    let mut borrow = 0u8;
    for ((out, &n), &x) in twin_s.iter_mut().zip(order).zip(&padded).rev() {
        let (d, under1) = n.overflowing_sub(x);
        let (d, under2) = d.overflowing_sub(borrow);
        *out = d;
        borrow = u8::from(under1 || under2);
    }
    if borrow != 0 {
        return None; // s > n: not a valid signature anyway
    }
    let magnitude = crate::serial::normalize(&twin_s);
    if magnitude == [0] {
        return None;
    }
    let mut s_content = Vec::with_capacity(magnitude.len() + 1);
    if magnitude.first().is_some_and(|b| b & 0x80 != 0) {
        s_content.push(0);
    }
    s_content.extend_from_slice(magnitude);
    let mut sig_content = r.raw.to_vec();
    der::write_tlv(&mut sig_content, der::INTEGER, &s_content);
    let mut bits = vec![0u8];
    der::write_tlv(&mut bits, der::SEQUENCE, &sig_content);
    let mut body = Vec::with_capacity(signed.tbs.len() + signed.algorithm.len() + bits.len() + 4);
    body.extend_from_slice(signed.tbs);
    body.extend_from_slice(signed.algorithm);
    der::write_tlv(&mut body, der::BIT_STRING, &bits);
    let mut out = Vec::with_capacity(body.len() + 6);
    der::write_tlv(&mut out, der::SEQUENCE, &body);
    Some(out)
}

/// The largest RSA modulus accepted, as aws-lc-rs verifies it.
const RSA_MAX_BITS: u32 = 8192;
/// The smallest RSA modulus accepted (API Gateway's truststore rule).
const RSA_MIN_BITS: u32 = 2048;

/// SHA-256 of `bytes`, with aws-lc-rs: the same code (and speed) in every
/// build profile, which matters for a 50 MB CRL in a debug build's tests.
#[must_use]
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, bytes).as_ref());
    out
}

/// SHA-256 over several parts, each prefixed with its length, so that no
/// choice of parts makes two different lists hash alike.
#[must_use]
pub fn sha256_of_parts(parts: &[&[u8]]) -> [u8; 32] {
    let mut ctx = digest::Context::new(&digest::SHA256);
    for part in parts {
        ctx.update(&(part.len() as u64).to_be_bytes());
        ctx.update(part);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// The identity of a public key: the SHA-256 of its SubjectPublicKeyInfo. A
/// CRL applies to a certificate only when both verified with the same key
/// (RFC 5280 §6.3.3 (f)); comparing these compares the keys.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId([u8; 32]);

impl KeyId {
    /// The key id of a SubjectPublicKeyInfo's DER.
    #[must_use]
    pub fn of_spki(spki_der: &[u8]) -> Self {
        Self(sha256(spki_der))
    }

    /// A key id from its 32 octets (the SHA-256 of the SubjectPublicKeyInfo
    /// DER), as an operator's document names it.
    #[must_use]
    pub fn from_bytes(sha256: [u8; 32]) -> Self {
        Self(sha256)
    }

    /// The 32 octets.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

impl fmt::Display for KeyId {
    /// The first 8 octets in hex: enough to tell keys apart in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_short_hex(f, &self.0)
    }
}

/// The first 8 octets of a digest in hex, for logs.
pub(crate) fn write_short_hex(f: &mut fmt::Formatter<'_>, digest: &[u8; 32]) -> fmt::Result {
    digest.iter().take(8).try_for_each(|b| write!(f, "{b:02x}"))
}

/// A public key on the allowlist, parsed once from a SubjectPublicKeyInfo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    algorithm: KeyAlgorithm,
    /// The subjectPublicKey bits: an EC point, or an `RSAPublicKey`.
    key: Box<[u8]>,
    id: KeyId,
}

impl PublicKey {
    /// Parses a SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) and checks it
    /// against the allowlist.
    pub fn from_spki(spki_der: &[u8]) -> Result<Self, UnsupportedKey> {
        let mut top = Reader::new(spki_der);
        let spki = top
            .expect_tag(der::SEQUENCE, "SubjectPublicKeyInfo")
            .map_err(|_| UnsupportedKey::Malformed)?;
        let mut fields = Reader::new(spki.content);
        let algorithm = fields
            .expect_tag(der::SEQUENCE, "algorithm")
            .map_err(|_| UnsupportedKey::Malformed)?;
        let bits = fields
            .expect_tag(der::BIT_STRING, "subjectPublicKey")
            .map_err(|_| UnsupportedKey::Malformed)?;
        let Some((&0, key)) = bits.content.split_first() else {
            return Err(UnsupportedKey::Malformed);
        };
        if !fields.is_empty() || !top.is_empty() {
            return Err(UnsupportedKey::Malformed);
        }
        let (oid, params) = algorithm_parts(algorithm.raw).ok_or(UnsupportedKey::Malformed)?;
        let algorithm = match (oid, params) {
            // RFC 5480 §2.1.1: namedCurve only.
            (oid::EC_PUBLIC_KEY, Some(curve)) => match curve_oid(curve) {
                Some(oid::P256) => KeyAlgorithm::EcP256,
                Some(oid::P384) => KeyAlgorithm::EcP384,
                Some(oid::P521) => return Err(UnsupportedKey::P521),
                Some(other) => return Err(UnsupportedKey::Curve(ObjectId::new(other))),
                None => return Err(UnsupportedKey::ExplicitCurve),
            },
            (oid::RSA_ENCRYPTION, Some([0x05, 0x00])) => {
                let bits = rsa_modulus_bits(key).ok_or(UnsupportedKey::Malformed)?;
                if !(RSA_MIN_BITS..=RSA_MAX_BITS).contains(&bits) {
                    return Err(UnsupportedKey::RsaSize { bits });
                }
                KeyAlgorithm::Rsa { bits }
            }
            (oid::ED25519, _) => return Err(UnsupportedKey::Ed25519),
            (other, _) => return Err(UnsupportedKey::KeyType(ObjectId::new(other))),
        };
        Ok(Self {
            algorithm,
            key: key.into(),
            id: KeyId::of_spki(spki.raw),
        })
    }

    /// The key's type and size.
    #[must_use]
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    /// The key's identity.
    #[must_use]
    pub fn id(&self) -> KeyId {
        self.id
    }

    /// Checks the signature of `signed` with this key. The algorithm must be
    /// on the allowlist and fit the key.
    pub fn verify(&self, signed: &SignedData<'_>) -> Result<(), SignatureError> {
        let algorithm = SignatureAlgorithm::from_der(signed.algorithm)
            .map_err(SignatureError::UnsupportedAlgorithm)?;
        self.verifier(algorithm)?
            .verify(signed.tbs, signed.signature)
            .map_err(|_| SignatureError::Invalid)
    }

    /// This key, for signatures of `algorithm`, which must fit it.
    fn verifier(
        &self,
        algorithm: SignatureAlgorithm,
    ) -> Result<UnparsedPublicKey<&[u8]>, SignatureError> {
        let verifier = algorithm
            .verifier(self.algorithm)
            .ok_or(SignatureError::WrongKeyType {
                algorithm,
                key: self.algorithm,
            })?;
        Ok(UnparsedPublicKey::new(verifier, &self.key))
    }
    /// Checks `signature` over a signed part whose digest under `algorithm`
    /// is `digest`, computed while the part streamed in (a 50 MB CRL is then
    /// never held whole). The same allowlist and key fit as [`Self::verify`].
    pub(crate) fn verify_digest(
        &self,
        algorithm: SignatureAlgorithm,
        digest: &digest::Digest,
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        let key = self.verifier(algorithm)?;
        if digest.algorithm() != algorithm.digest() {
            return Err(SignatureError::Invalid);
        }
        key.verify_digest(digest, signature)
            .map_err(|_| SignatureError::Invalid)
    }
}

/// The curve OID of `ECParameters` (`namedCurve` only).
fn curve_oid(params: &[u8]) -> Option<&[u8]> {
    let mut r = Reader::new(params);
    let oid = r.expect_tag(der::OID, "namedCurve").ok()?;
    r.is_empty().then_some(oid.content)
}

/// The size of an `RSAPublicKey`'s modulus (RFC 8017 §A.1.1), in bits.
fn rsa_modulus_bits(key: &[u8]) -> Option<u32> {
    let mut top = Reader::new(key);
    let seq = top.expect_tag(der::SEQUENCE, "RSAPublicKey").ok()?;
    let modulus = Reader::new(seq.content)
        .expect_tag(der::INTEGER, "modulus")
        .ok()?;
    let magnitude = crate::serial::normalize(modulus.content);
    let first = *magnitude.first()?;
    let bits = (magnitude.len() - 1) * 8 + (8 - first.leading_zeros() as usize);
    u32::try_from(bits).ok()
}

/// Why a signature did not verify.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignatureError {
    /// The algorithm is not on the allowlist.
    UnsupportedAlgorithm(UnsupportedAlgorithm),
    /// The algorithm does not fit the key (an RSA signature and an EC key).
    WrongKeyType {
        /// The signature algorithm.
        algorithm: SignatureAlgorithm,
        /// The key.
        key: KeyAlgorithm,
    },
    /// The signature is not the key holder's signature of these bytes.
    Invalid,
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnsupportedAlgorithm(a) => a.fmt(f),
            Self::WrongKeyType { algorithm, key } => {
                write!(f, "{} does not fit a {key} key", algorithm.name())
            }
            Self::Invalid => f.write_str("the signature does not verify"),
        }
    }
}

#[cfg(test)]
mod tests;
