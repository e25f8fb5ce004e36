//! Reading CA certificates out of PEM input, into owned summaries the rules
//! work on. Pure: bytes in, values out.

use mtls_x509::pem;
use mtls_x509::signed::{self, KeyAlgorithm, SignedData, UnsupportedAlgorithm, UnsupportedKey};
use serde::Serialize;
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey;
use x509_parser::signature_algorithm::SignatureAlgorithm;
use x509_parser::x509::{AlgorithmIdentifier, SubjectPublicKeyInfo};

use crate::error::{Error, Result};

/// A certificate read from a bundle, with what the rules need to know.
///
/// Not [`mtls_x509::truststore::CaCert`], on purpose, and named apart from
/// it. That one is a CA the authorizer trusts, built only by
/// [`mtls_x509::TrustStore`] as it loads a bundle, with private fields
/// reduced to what its checks need. This one is any certificate of a bundle
/// under review, good or bad (not a CA, expired, a refused key or signature
/// algorithm), with every field the rules and the reports read. The facts
/// both need have one source: the key and the signature algorithm are read
/// with the authorizer's own parsers and allowlist ([`mtls_x509::signed`]),
/// and the names print in its DN form ([`mtls_x509::name::Name`]).
#[derive(Clone, Debug)]
pub struct BundleCert {
    /// The DER encoding.
    pub der: Vec<u8>,
    /// Where it came from: `file#block`.
    pub source: String,
    /// Subject DN, as text: the form API Gateway shows and the authorizer
    /// logs and matches (`mtls_x509::name::Name`), so operators see one
    /// spelling everywhere.
    pub subject: String,
    /// Issuer DN, as text, in the same form.
    pub issuer: String,
    /// Subject DN, as DER: chains are built on exact names (RFC 5280 §7.1).
    pub subject_der: Vec<u8>,
    /// Issuer DN, as DER.
    pub issuer_der: Vec<u8>,
    /// SHA-256 of the DER, lowercase hex.
    pub fingerprint: String,
    /// Serial number, lowercase hex.
    pub serial: String,
    /// Start of validity.
    pub(crate) not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// basicConstraints cA is true (RFC 5280 §4.2.1.9).
    pub is_ca: bool,
    /// The public key.
    pub(crate) key: KeyKind,
    /// The signature algorithm.
    pub(crate) signature: SignatureKind,
    /// The key as the authorizer checks it: on the shared allowlist
    /// ([`mtls_x509::signed`]), or why not.
    pub public_key: Result<signed::PublicKey, UnsupportedKey>,
    /// The signature algorithm as the authorizer checks it.
    pub(crate) algorithm: Result<signed::SignatureAlgorithm, UnsupportedAlgorithm>,
}

impl BundleCert {
    /// Issued by itself: issuer and subject names are equal (RFC 5280 §3.2).
    #[must_use]
    pub(crate) fn self_issued(&self) -> bool {
        self.subject_der == self.issuer_der
    }

    /// Checks this certificate's signature with `issuer`'s public key, as
    /// the authorizer does (the same envelope check, allowlist and crypto).
    #[must_use]
    pub fn signed_by(&self, issuer: &Self) -> bool {
        let (Ok(key), Ok(signed)) = (&issuer.public_key, SignedData::certificate(&self.der)) else {
            return false;
        };
        key.verify(&signed).is_ok()
    }
}

/// A public key, as the reports show it: `"key": {"type": "ec", "curve":
/// "P-256", "bits": 256}` in `truststore validate --format json`, which
/// scripts read.
///
/// Not [`KeyAlgorithm`], which it extends rather than repeats: a
/// `KeyAlgorithm` is a key on the authorizer's allowlist, while a bundle
/// under review may hold any key (RSA 1024, P-521, Ed25519) that a report
/// must still describe. An accepted key's kind is derived from its
/// `KeyAlgorithm` (`From`, an exhaustive match); only a refused key is
/// described from its SubjectPublicKeyInfo here. The test
/// `every_accepted_key_reads_alike_both_ways` fails when the two readings
/// of an accepted key differ.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum KeyKind {
    /// RSA with this modulus size.
    Rsa {
        /// Modulus bits.
        bits: usize,
    },
    /// ECDSA on a named curve.
    Ec {
        /// The curve name (`P-256`, …) or its OID when unknown.
        curve: String,
        /// Field size in bits (0 when unknown).
        bits: usize,
    },
    /// Anything else (Ed25519, DSA, …), by OID.
    Other {
        /// The algorithm OID.
        oid: String,
    },
}

impl From<KeyAlgorithm> for KeyKind {
    fn from(key: KeyAlgorithm) -> Self {
        let ec = |curve: &str, bits| Self::Ec {
            curve: curve.to_owned(),
            bits,
        };
        match key {
            KeyAlgorithm::EcP256 => ec("P-256", 256),
            KeyAlgorithm::EcP384 => ec("P-384", 384),
            KeyAlgorithm::Rsa { bits } => Self::Rsa {
                bits: usize::try_from(bits).unwrap_or(usize::MAX),
            },
        }
    }
}

/// A signature algorithm, with the strength of its hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct SignatureKind {
    /// A readable name, e.g. `sha256WithRSAEncryption`.
    pub(crate) name: String,
    /// Output bits of its hash; 0 when it has none we accept (MD5, Ed25519, …).
    pub(crate) hash_bits: usize,
}

/// What one PEM block turned out to be.
#[derive(Debug)]
pub enum Block {
    /// A certificate.
    Cert(Box<BundleCert>),
    /// Private key material. Only the label is kept.
    PrivateKey {
        /// 1-based block number.
        block: usize,
        /// The PEM label.
        label: String,
    },
    /// A PEM block of another kind (CRL, CSR, …).
    Other {
        /// 1-based block number.
        block: usize,
        /// The PEM label.
        label: String,
    },
    /// A block that could not be decoded or parsed.
    Unreadable {
        /// 1-based block number.
        block: usize,
        /// Why. Never includes the block's content.
        reason: Error,
    },
}

/// Splits PEM text into blocks and reads each. `file` names the input in
/// sources and messages.
#[must_use]
pub fn read_pem(file: &str, bytes: &[u8]) -> Vec<Block> {
    let mut blocks = Vec::new();
    for (i, block) in pem::blocks(bytes).enumerate() {
        let n = i + 1;
        match block {
            Ok(b) => blocks.push(classify(file, n, &b)),
            // The error is its kind only: never what it could not decode.
            Err(e) => blocks.push(Block::Unreadable {
                block: n,
                reason: Error::Pem(e),
            }),
        }
    }
    // A key whose armour is damaged is still a key: never let it through
    // because the PEM reader gave up on it.
    let has_key_block = blocks.iter().any(|b| matches!(b, Block::PrivateKey { .. }));
    if !has_key_block && let Some(label) = private_key_marker(bytes) {
        blocks.push(Block::PrivateKey {
            block: blocks.len() + 1,
            label,
        });
    }
    blocks
}

/// Finds a `-----BEGIN … PRIVATE KEY-----` line anywhere in the input.
fn private_key_marker(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes);
    text.lines().find_map(|line| {
        let label = line
            .trim()
            .strip_prefix("-----BEGIN ")?
            .strip_suffix("-----")?;
        pem::is_private_key_label(label).then(|| label.to_owned())
    })
}

fn classify(file: &str, block: usize, pem: &pem::Block) -> Block {
    if pem.is_private_key() {
        return Block::PrivateKey {
            block,
            label: pem.label.clone(),
        };
    }
    if pem.label != pem::CERTIFICATE {
        return Block::Other {
            block,
            label: pem.label.clone(),
        };
    }
    match summarize(&format!("{file}#{block}"), &pem.der) {
        Ok(c) => Block::Cert(Box::new(c)),
        Err(reason) => Block::Unreadable { block, reason },
    }
}

/// Reads one DER certificate into a [`BundleCert`].
///
/// # Errors
/// Why it is not a well-formed certificate: [`Error::Certificate`],
/// [`Error::TrailingBytes`], [`Error::Envelope`] or [`Error::Name`].
pub fn summarize(source: &str, der: &[u8]) -> Result<BundleCert> {
    let (rest, cert) =
        X509Certificate::from_der(der).map_err(|source| Error::Certificate { source })?;
    if !rest.is_empty() {
        return Err(Error::TrailingBytes);
    }
    // The strict envelope (RFC 5280 §4.1, §4.1.1.2): x509-parser is lenient
    // about it, and a certificate it tolerates may still be one API Gateway
    // refuses. The authorizer applies the same check.
    let envelope = SignedData::certificate(der).map_err(|problem| Error::Envelope { problem })?;
    let validity = cert.validity();
    let dn = |der: &[u8]| {
        mtls_x509::name::Name::from_der(der)
            .map(|n| n.to_string())
            .map_err(|source| Error::Name { source })
    };
    let public_key = signed::PublicKey::from_spki(cert.public_key().raw);
    Ok(BundleCert {
        der: der.to_vec(),
        source: source.to_owned(),
        subject: dn(cert.subject().as_raw())?,
        issuer: dn(cert.issuer().as_raw())?,
        subject_der: cert.subject().as_raw().to_vec(),
        issuer_der: cert.issuer().as_raw().to_vec(),
        fingerprint: hex::encode(signed::sha256(der)),
        serial: hex::encode(cert.raw_serial()),
        not_before: validity.not_before.to_datetime(),
        not_after: validity.not_after.to_datetime(),
        is_ca: cert.is_ca(),
        key: match &public_key {
            Ok(accepted) => KeyKind::from(accepted.algorithm()),
            Err(_) => refused_key_kind(cert.public_key()),
        },
        signature: signature_kind(&cert.signature_algorithm),
        public_key,
        algorithm: signed::SignatureAlgorithm::from_der(envelope.algorithm),
    })
}

/// The kind of a key the allowlist refused, read from its SPKI: the size of
/// a short RSA modulus, the name of another curve, or the algorithm's OID.
fn refused_key_kind(spki: &SubjectPublicKeyInfo<'_>) -> KeyKind {
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => KeyKind::Rsa {
            bits: unsigned_bits(rsa.modulus),
        },
        Ok(PublicKey::EC(_)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| o.to_id_string())
                .unwrap_or_default();
            let (name, bits) = match curve.as_str() {
                "1.2.840.10045.3.1.7" => ("P-256".to_owned(), 256),
                "1.3.132.0.34" => ("P-384".to_owned(), 384),
                "1.3.132.0.35" => ("P-521".to_owned(), 521),
                "1.2.840.10045.3.1.1" => ("P-192".to_owned(), 192),
                "1.3.132.0.33" => ("P-224".to_owned(), 224),
                _ => (curve, 0),
            };
            KeyKind::Ec { curve: name, bits }
        }
        _ => KeyKind::Other {
            oid: spki.algorithm.algorithm.to_id_string(),
        },
    }
}

/// Bit length of a big-endian unsigned integer.
fn unsigned_bits(bytes: &[u8]) -> usize {
    let trimmed: &[u8] = match bytes.iter().position(|b| *b != 0) {
        Some(i) => bytes.get(i..).unwrap_or_default(),
        None => &[],
    };
    match trimmed.first() {
        Some(first) => (trimmed.len() - 1) * 8 + (8 - first.leading_zeros() as usize),
        None => 0,
    }
}

fn hash_bits(oid: &str) -> usize {
    match oid {
        "2.16.840.1.101.3.4.2.1" => 256,
        "2.16.840.1.101.3.4.2.2" => 384,
        "2.16.840.1.101.3.4.2.3" => 512,
        "2.16.840.1.101.3.4.2.4" => 224,
        "1.3.14.3.2.26" => 160,
        _ => 0,
    }
}

fn signature_kind(alg: &AlgorithmIdentifier<'_>) -> SignatureKind {
    let oid = alg.algorithm.to_id_string();
    let (name, bits) = match oid.as_str() {
        "1.2.840.113549.1.1.11" => ("sha256WithRSAEncryption", 256),
        "1.2.840.113549.1.1.12" => ("sha384WithRSAEncryption", 384),
        "1.2.840.113549.1.1.13" => ("sha512WithRSAEncryption", 512),
        "1.2.840.113549.1.1.14" => ("sha224WithRSAEncryption", 224),
        "1.2.840.113549.1.1.5" => ("sha1WithRSAEncryption", 160),
        "1.2.840.113549.1.1.4" => ("md5WithRSAEncryption", 0),
        "1.2.840.10045.4.3.2" => ("ecdsa-with-SHA256", 256),
        "1.2.840.10045.4.3.3" => ("ecdsa-with-SHA384", 384),
        "1.2.840.10045.4.3.4" => ("ecdsa-with-SHA512", 512),
        "1.2.840.10045.4.3.1" => ("ecdsa-with-SHA224", 224),
        "1.2.840.10045.4.1" => ("ecdsa-with-SHA1", 160),
        "1.3.101.112" => ("Ed25519", 0),
        "1.2.840.113549.1.1.10" => {
            let bits = match SignatureAlgorithm::try_from(alg) {
                Ok(SignatureAlgorithm::RSASSA_PSS(p)) => {
                    hash_bits(&p.hash_algorithm_oid().to_id_string())
                }
                _ => 0,
            };
            return SignatureKind {
                name: "RSASSA-PSS".into(),
                hash_bits: bits,
            };
        }
        _ => {
            return SignatureKind {
                name: oid,
                hash_bits: 0,
            };
        }
    };
    SignatureKind {
        name: name.into(),
        hash_bits: bits,
    }
}

#[cfg(test)]
mod tests;
