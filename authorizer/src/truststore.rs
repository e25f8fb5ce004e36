//! The CA bundle (`truststore.pem`), and signature checks against its keys.

use x509_parser::der_parser::asn1_rs::BitString;
use x509_parser::prelude::*;
use x509_parser::verify::verify_signature;
use x509_parser::x509::AlgorithmIdentifier;

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

use crate::cert::ClientCert;
use crate::error::{Error, Result};
use crate::name::format_dn;

/// Signature algorithms we accept, by OID. API Gateway requires SHA-256 or
/// stronger in the truststore; we hold CRLs and leaf signatures to the same bar,
/// so SHA-1 and MD5 are refused even though the parser could verify them.
const ACCEPTED_SIGNATURE_ALGORITHMS: &[(&str, &str)] = &[
    ("1.2.840.113549.1.1.11", "sha256WithRSAEncryption"),
    ("1.2.840.113549.1.1.12", "sha384WithRSAEncryption"),
    ("1.2.840.113549.1.1.13", "sha512WithRSAEncryption"),
    ("1.2.840.113549.1.1.10", "RSASSA-PSS"),
    ("1.2.840.10045.4.3.2", "ecdsa-with-SHA256"),
    ("1.2.840.10045.4.3.3", "ecdsa-with-SHA384"),
    ("1.2.840.10045.4.3.4", "ecdsa-with-SHA512"),
    ("1.3.101.112", "Ed25519"),
];

/// Checks that a signed object's inner and outer algorithm identifiers agree
/// (RFC 5280 §4.1.1.2, §5.1.1.2) and that the algorithm is on our allowlist.
pub(crate) fn check_signature_algorithm(
    outer: &AlgorithmIdentifier<'_>,
    inner: &AlgorithmIdentifier<'_>,
) -> std::result::Result<(), String> {
    let params = |a: &AlgorithmIdentifier<'_>| a.parameters.as_ref().map(|p| p.data.to_vec());
    if outer.algorithm != inner.algorithm || params(outer) != params(inner) {
        return Err("the signed and unsigned algorithm identifiers differ".into());
    }
    let oid = outer.algorithm.to_id_string();
    if ACCEPTED_SIGNATURE_ALGORITHMS.iter().any(|(o, _)| *o == oid) {
        Ok(())
    } else {
        Err(format!(
            "{oid} is not accepted; use SHA-256 or stronger with RSA, ECDSA or Ed25519"
        ))
    }
}

/// One CA certificate from the truststore, reduced to what checks need.
#[derive(Clone, Debug)]
pub struct CaCert {
    subject_raw: Vec<u8>,
    subject_dn: String,
    spki_der: Vec<u8>,
    /// `None` when the certificate has no keyUsage extension (all uses allowed).
    key_usage: Option<(bool, bool)>,
}

impl CaCert {
    fn from_x509(cert: &X509Certificate<'_>) -> Result<Self> {
        let key_usage = cert
            .key_usage()
            .map_err(|e| {
                Error::Truststore(format!(
                    "bad keyUsage in `{}`: {e}",
                    format_dn(cert.subject())
                ))
            })?
            .map(|ku| (ku.value.key_cert_sign(), ku.value.crl_sign()));
        Ok(Self {
            subject_raw: cert.subject().as_raw().to_vec(),
            subject_dn: format_dn(cert.subject()),
            spki_der: cert.public_key().raw.to_vec(),
            key_usage,
        })
    }

    /// The CA's subject DN in text form.
    #[must_use]
    pub fn subject_dn(&self) -> &str {
        &self.subject_dn
    }

    /// Whether this CA may sign certificates (RFC 5280 §4.2.1.3 keyCertSign).
    #[must_use]
    pub fn may_sign_certificates(&self) -> bool {
        self.key_usage.is_none_or(|(cert_sign, _)| cert_sign)
    }

    /// Whether this CA may sign CRLs (RFC 5280 §4.2.1.3 cRLSign).
    #[must_use]
    pub fn may_sign_crls(&self) -> bool {
        self.key_usage.is_none_or(|(_, crl_sign)| crl_sign)
    }

    /// Verifies `signature` over `signed_data` with this CA's key.
    pub(crate) fn verifies(
        &self,
        algorithm: &AlgorithmIdentifier<'_>,
        signature: &BitString<'_>,
        signed_data: &[u8],
    ) -> bool {
        let Ok((_, spki)) = SubjectPublicKeyInfo::from_der(&self.spki_der) else {
            return false;
        };
        verify_signature(&spki, algorithm, signature, signed_data).is_ok()
    }
}

/// How many verified client certificates a truststore remembers. Each costs
/// about 50 bytes; a full memo is cleared rather than grown.
const VERIFIED_MEMO_CAPACITY: usize = 8192;

/// The outcome of checking a certificate's signature against the truststore.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IssuerSignature {
    /// A truststore CA with the certificate's issuer name signed it.
    Verified,
    /// No truststore CA has the certificate's issuer name (it chains through
    /// an intermediate that only API Gateway's chain check sees).
    NoCaOfThatName,
    /// CAs of that name exist, and none of them signed it.
    Invalid,
}

/// The parsed truststore: every CA certificate of the bundle.
#[derive(Debug)]
pub struct TrustStore {
    cas: Vec<CaCert>,
    /// SHA-256 fingerprints of certificates whose signature a CA of this
    /// truststore verified. A signature check is a pure function of the
    /// certificate's bytes (which the fingerprint pins) and the CA keys (fixed
    /// for this value), so a repeat client skips the public-key operation, the
    /// bulk of a warm decision. Only successes are stored: a forged
    /// certificate is checked every time and cannot fill the memo.
    verified: Mutex<HashSet<[u8; 32]>>,
}

impl Clone for TrustStore {
    /// A clone starts with an empty memo.
    fn clone(&self) -> Self {
        Self::new(self.cas.clone())
    }
}

impl TrustStore {
    /// Parses a PEM bundle. Every `CERTIFICATE` block must parse; a bundle
    /// with none, or with any block we cannot read, is refused as a whole
    /// rather than silently trusting a subset.
    pub fn from_pem(bytes: &[u8]) -> Result<Self> {
        let mut cas = Vec::new();
        for (i, block) in Pem::iter_from_buffer(bytes).enumerate() {
            let block =
                block.map_err(|e| Error::Truststore(format!("PEM block {}: {e}", i + 1)))?;
            if block.label != "CERTIFICATE" {
                continue;
            }
            let (rest, cert) = X509Certificate::from_der(&block.contents)
                .map_err(|e| Error::Truststore(format!("certificate {}: {e}", i + 1)))?;
            if !rest.is_empty() {
                return Err(Error::Truststore(format!(
                    "certificate {} has trailing data",
                    i + 1
                )));
            }
            cas.push(CaCert::from_x509(&cert)?);
        }
        if cas.is_empty() {
            return Err(Error::Truststore("no CERTIFICATE blocks found".into()));
        }
        Ok(Self::new(cas))
    }

    fn new(cas: Vec<CaCert>) -> Self {
        Self {
            cas,
            verified: Mutex::new(HashSet::new()),
        }
    }

    /// Checks that a truststore CA named as the certificate's issuer signed it
    /// (RFC 5280 §6.1.3 (a)(1)), with an accepted algorithm and a key that may
    /// sign certificates. Successes are remembered by fingerprint.
    #[must_use]
    pub fn issuer_signature(&self, cert: &ClientCert<'_>) -> IssuerSignature {
        let mut cas = self.cas_named(cert.issuer_der()).peekable();
        if cas.peek().is_none() {
            return IssuerSignature::NoCaOfThatName;
        }
        // A poisoned lock only means a panic elsewhere; a set of hashes has
        // no invariant a half-done insert could break.
        let memo = || self.verified.lock().unwrap_or_else(PoisonError::into_inner);
        if memo().contains(cert.fingerprint()) {
            return IssuerSignature::Verified;
        }
        if !cas.any(|ca| cert.is_signed_by(ca)) {
            return IssuerSignature::Invalid;
        }
        let mut memo = memo();
        if memo.len() >= VERIFIED_MEMO_CAPACITY {
            memo.clear();
        }
        memo.insert(*cert.fingerprint());
        IssuerSignature::Verified
    }

    /// The CA certificates whose subject is exactly `name_der` (byte-equal DER,
    /// the strict form of RFC 5280 §7.1 name matching). Several may share a
    /// name across a key rollover.
    pub fn cas_named<'s>(&'s self, name_der: &'s [u8]) -> impl Iterator<Item = &'s CaCert> + 's {
        self.cas.iter().filter(move |ca| ca.subject_raw == name_der)
    }

    /// Whether some CA's subject satisfies `accepts`.
    #[must_use]
    pub fn has_ca_matching(&self, accepts: impl Fn(&X509Name<'_>) -> bool) -> bool {
        self.cas
            .iter()
            .any(|ca| X509Name::from_der(&ca.subject_raw).is_ok_and(|(_, n)| accepts(&n)))
    }

    /// How many CA certificates the bundle holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.cas.len()
    }

    /// Whether the bundle is empty (never true for a parsed bundle).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.cas.is_empty()
    }
}
