//! The CA bundle (`truststore.pem`), and signature checks against its keys.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use x509_parser::prelude::{FromDer, X509Certificate};

use crate::cert::ClientCert;
use crate::error::{Result, TruststoreProblem, nom_problem, parser_problem};
use crate::name::{DerName, Name, format_dn};
use crate::serial::Serial;
use crate::signed::{KeyId, PublicKey, SignedData, UnsupportedKey};
use crate::time::UnixTime;

/// The key of a truststore CA: usable, or outside the allowlist (then the
/// CA verifies nothing, and everything it signed is refused).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaKey {
    /// On the allowlist ([`crate::signed`]).
    Usable(PublicKey),
    /// Refused, with the reason.
    Unsupported(UnsupportedKey),
}

/// What a CA certificate's parent's CRL needs to know of it (read at load,
/// with the strict parser client certificates get).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaFacts {
    /// Its issuer name, as DER.
    pub issuer_der: Vec<u8>,
    /// Its authorityKeyIdentifier's keyIdentifier, if any.
    pub authority_key_id: Option<Vec<u8>>,
    /// Its cRLDistributionPoints URIs.
    pub crl_uris: Vec<String>,
    /// Its cRLDistributionPoints directoryNames, as DER.
    pub crl_directory_names: Vec<Vec<u8>>,
    /// CA or end entity, from basicConstraints.
    pub role: crate::cert::CertificateRole,
}

/// One CA certificate from the truststore, reduced to what checks need.
#[derive(Clone, Debug)]
pub struct CaCert {
    /// The certificate's DER: its own signature is checked against its
    /// parents once, at load, and CA revocation reads its extensions.
    der: Vec<u8>,
    fingerprint: [u8; 32],
    serial: Serial,
    issuer_raw: Vec<u8>,
    /// `None` when the strict certificate parser refuses it: such a CA can
    /// be checked against no CRL, so CA revocation fails closed on it.
    facts: Option<CaFacts>,
    subject_raw: Vec<u8>,
    subject_dn: String,
    key: CaKey,
    /// `None` when the certificate has no keyUsage extension (all uses allowed).
    key_usage: Option<(bool, bool)>,
    /// The end of its validity (RFC 5280 §4.1.2.5): API Gateway refuses
    /// every handshake through this CA after it.
    not_after: UnixTime,
}

impl CaCert {
    /// The CA of PEM block `block` (counted from 1, for errors).
    fn from_x509(der: &[u8], cert: &X509Certificate<'_>, block: usize) -> Result<Self> {
        let key_usage = cert
            .key_usage()
            .map_err(|e| TruststoreProblem::KeyUsage {
                block,
                subject: DerName::new(cert.subject().as_raw()),
                problem: parser_problem(&e),
            })?
            .map(|ku| (ku.value.key_cert_sign(), ku.value.crl_sign()));
        let key = match PublicKey::from_spki(cert.public_key().raw) {
            Ok(k) => CaKey::Usable(k),
            Err(e) => CaKey::Unsupported(e),
        };
        Ok(Self {
            der: der.to_vec(),
            fingerprint: crate::signed::sha256(der),
            serial: Serial::from_integer_bytes(cert.raw_serial()),
            issuer_raw: cert.issuer().as_raw().to_vec(),
            facts: ClientCert::from_der(der).ok().map(|c| CaFacts {
                issuer_der: c.issuer_der().to_vec(),
                authority_key_id: c.authority_key_id().map(<[u8]>::to_vec),
                crl_uris: c.crl_uris().iter().map(|u| (*u).to_owned()).collect(),
                crl_directory_names: c.crl_directory_names().iter().map(|d| d.to_vec()).collect(),
                role: c.role(),
            }),
            subject_raw: cert.subject().as_raw().to_vec(),
            subject_dn: format_dn(cert.subject()),
            key,
            key_usage,
            not_after: UnixTime::from_asn1(cert.validity().not_after),
        })
    }

    /// The end of the CA certificate's validity.
    #[must_use]
    pub fn not_after(&self) -> UnixTime {
        self.not_after
    }

    /// The CA's subject DN in text form.
    #[must_use]
    pub fn subject_dn(&self) -> &str {
        &self.subject_dn
    }

    /// The CA's subject name, as DER.
    #[must_use]
    pub fn subject_der(&self) -> &[u8] {
        &self.subject_raw
    }

    /// The SHA-256 of the CA certificate's DER.
    #[must_use]
    pub fn fingerprint(&self) -> &[u8; 32] {
        &self.fingerprint
    }

    /// The CA certificate's serial.
    #[must_use]
    pub fn serial(&self) -> &Serial {
        &self.serial
    }

    /// What its parent's CRL checks, if the certificate passed the strict parser.
    #[must_use]
    pub fn facts(&self) -> Option<&CaFacts> {
        self.facts.as_ref()
    }

    /// The CA certificate's DER.
    #[must_use]
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The id of the CA's key (the SHA-256 of its SubjectPublicKeyInfo), if
    /// the key is on the allowlist.
    #[must_use]
    pub fn key_id(&self) -> Option<KeyId> {
        match &self.key {
            CaKey::Usable(k) => Some(k.id()),
            CaKey::Unsupported(_) => None,
        }
    }

    /// The CA's key.
    #[must_use]
    pub fn key(&self) -> &CaKey {
        &self.key
    }

    /// Whether this CA may sign certificates (RFC 5280 §4.2.1.3 keyCertSign).
    #[must_use]
    pub(crate) fn may_sign_certificates(&self) -> bool {
        self.key_usage.is_none_or(|(cert_sign, _)| cert_sign)
    }

    /// Whether this CA may sign CRLs (RFC 5280 §4.2.1.3 cRLSign).
    #[must_use]
    pub(crate) fn may_sign_crls(&self) -> bool {
        self.key_usage.is_none_or(|(_, crl_sign)| crl_sign)
    }

    /// The key that verifies `signed`, if this CA's key is usable and does.
    pub(crate) fn verifies(&self, signed: &SignedData<'_>) -> Option<KeyId> {
        match &self.key {
            CaKey::Usable(key) => key.verify(signed).is_ok().then(|| key.id()),
            CaKey::Unsupported(_) => None,
        }
    }
}

/// The most CAs a path may hold above a client certificate: deep enough for
/// every PKI we know of (root, policy CA, issuing CA), and a bound on the
/// work a truststore of cross-signed CAs can cause.
pub const MAX_PATH_DEPTH: usize = 8;

/// One CA above a client certificate, and the truststore CAs that signed
/// it: a view into the truststore's precomputed paths (no allocation).
#[derive(Clone, Copy, Debug)]
pub struct ChainLink<'s> {
    /// The CA.
    pub ca: &'s CaCert,
    index: usize,
    store: &'s TrustStore,
}

impl<'s> ChainLink<'s> {
    /// The CAs whose key verifies its signature; the CA itself when it is a
    /// self-signed trust anchor; none when nothing in the truststore signed
    /// it (an intermediate whose parent API Gateway alone holds).
    pub fn parents(&self) -> impl Iterator<Item = &'s CaCert> + use<'s> {
        let store = self.store;
        store
            .parents
            .get(self.index)
            .into_iter()
            .flatten()
            .filter_map(move |&p| store.cas.get(p))
    }

    /// Whether the CA is a self-signed trust anchor: no CRL can revoke it
    /// (RFC 5280 §6.1: a trust anchor is trusted by configuration).
    #[must_use]
    pub fn is_anchor(&self) -> bool {
        self.store
            .parents
            .get(self.index)
            .is_some_and(|p| p.contains(&self.index))
    }
}

/// How many verified client certificates a truststore remembers. Each costs
/// about 100 bytes; a full memo is cleared rather than grown.
const VERIFIED_MEMO_CAPACITY: usize = 8192;

/// The outcome of checking a certificate's signature against the truststore.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IssuerSignature {
    /// A truststore CA with the certificate's issuer name signed it, with
    /// this key. Revocation then uses only CRLs signed by the same key.
    Verified(KeyId),
    /// No truststore CA has the certificate's issuer name. API Gateway's
    /// truststore holds the whole chain of every accepted issuer, so this
    /// means the CA was removed (or was never trusted): the certificate is
    /// refused.
    NoCaOfThatName,
    /// CAs of that name exist, and none of them signed it.
    Invalid,
}

/// The parsed truststore: every CA certificate of the bundle.
#[derive(Debug)]
pub struct TrustStore {
    cas: Vec<CaCert>,
    /// For each CA (by index), the CAs that signed it: a truststore CA
    /// named as its issuer, allowed to sign certificates, whose key verifies
    /// its signature (RFC 5280 §6.1.3 (a)(1)), checked once here. A
    /// self-signed anchor is its own parent.
    parents: Vec<Vec<usize>>,
    /// For each CA, itself and every CA above it on any path, at most
    /// [`MAX_PATH_DEPTH`] CAs up.
    above: Vec<Vec<usize>>,
    /// For each CA, whether some path above it is longer than
    /// [`MAX_PATH_DEPTH`]: the CAs beyond were not looked at, so nothing
    /// under it can be cleared of deny-list entries or CA revocation.
    too_deep: Vec<bool>,
    /// The key that verified each certificate, by the certificate's SHA-256
    /// fingerprint. A signature check is a pure function of the certificate's
    /// bytes (which the fingerprint pins) and the CA keys (fixed for this
    /// value), so a repeat client skips the public-key operation, the bulk of
    /// a warm decision. Only successes are stored: a forged certificate is
    /// checked every time and cannot fill the memo.
    verified: Mutex<HashMap<[u8; 32], Verified>>,
}

/// What the memo keeps of a verified certificate.
#[derive(Clone, Copy, Debug)]
struct Verified {
    key: KeyId,
    /// The fingerprint of its ECDSA twin ([`crate::signed::ecdsa_twin`]),
    /// for deny-list lookups: computed with the signature check, once.
    twin: Option<[u8; 32]>,
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
    /// rather than silently trusting a subset. A CA whose key is outside the
    /// allowlist is kept but verifies nothing ([`Self::unsupported`] lists them).
    pub fn from_pem(bytes: &[u8]) -> Result<Self> {
        let mut cas = Vec::new();
        for (i, block) in crate::pem::blocks(bytes).enumerate() {
            let number = i + 1;
            let block = block.map_err(|pem| TruststoreProblem::Pem { block: number, pem })?;
            if block.label != crate::pem::CERTIFICATE {
                continue;
            }
            let (rest, cert) = X509Certificate::from_der(&block.der).map_err(|e| {
                TruststoreProblem::Unparsable {
                    block: number,
                    problem: nom_problem(&e),
                }
            })?;
            if !rest.is_empty() {
                return Err(TruststoreProblem::TrailingData { block: number }.into());
            }
            cas.push(CaCert::from_x509(&block.der, &cert, number)?);
        }
        if cas.is_empty() {
            return Err(TruststoreProblem::Empty.into());
        }
        Ok(Self::new(cas))
    }

    fn new(cas: Vec<CaCert>) -> Self {
        let parents: Vec<Vec<usize>> = cas
            .iter()
            .map(|child| {
                let Ok(signed) = SignedData::certificate(&child.der) else {
                    return Vec::new();
                };
                cas.iter()
                    .enumerate()
                    .filter(|(_, p)| p.subject_raw == child.issuer_raw && p.may_sign_certificates())
                    .filter(|(_, p)| p.verifies(&signed).is_some())
                    .map(|(i, _)| i)
                    .collect()
            })
            .collect();
        let mut too_deep = vec![false; cas.len()];
        let above = (0..cas.len())
            .map(|start| {
                // Breadth first, so a cycle of cross-signatures or a long
                // chain stops at the depth bound.
                let mut seen = vec![start];
                let mut frontier = vec![start];
                for depth in 1..=MAX_PATH_DEPTH {
                    let next: Vec<usize> = frontier
                        .iter()
                        .flat_map(|&i| parents.get(i).into_iter().flatten().copied())
                        .filter(|p| !seen.contains(p))
                        .collect();
                    if next.is_empty() {
                        break;
                    }
                    if depth == MAX_PATH_DEPTH {
                        if let Some(flag) = too_deep.get_mut(start) {
                            *flag = true;
                        }
                        break;
                    }
                    for &p in &next {
                        if !seen.contains(&p) {
                            seen.push(p);
                        }
                    }
                    frontier = next;
                }
                seen
            })
            .collect();
        Self {
            cas,
            parents,
            above,
            too_deep,
            verified: Mutex::new(HashMap::new()),
        }
    }

    /// Whether a path above a certificate issued under `issuer_der` and
    /// verified with `signer` holds more than [`MAX_PATH_DEPTH`] CAs: the
    /// certificate is then refused, since the CAs beyond could not be
    /// checked.
    #[must_use]
    pub fn path_too_deep(&self, issuer_der: &[u8], signer: KeyId) -> bool {
        self.cas
            .iter()
            .zip(&self.too_deep)
            .any(|(ca, &deep)| deep && ca.subject_raw == issuer_der && ca.key_id() == Some(signer))
    }

    /// The algorithm of the truststore key with id `id`, if one has it.
    #[must_use]
    pub fn key_algorithm(&self, id: KeyId) -> Option<crate::signed::KeyAlgorithm> {
        self.cas.iter().find_map(|ca| match &ca.key {
            CaKey::Usable(k) if k.id() == id => Some(k.algorithm()),
            _ => None,
        })
    }

    /// The CAs above a certificate issued under `issuer_der` and verified
    /// with `signer`: the issuing CA certificate(s) of that name and key, and
    /// every CA above them on any path the truststore offers, each with the
    /// CAs that signed it. Where several paths exist (cross-signing, a
    /// renewed CA certificate), all are returned: a CA revoked on any of
    /// them is revoked.
    #[must_use]
    pub fn chain_above(&self, issuer_der: &[u8], signer: KeyId) -> Vec<ChainLink<'_>> {
        let mut out: Vec<ChainLink<'_>> = Vec::new();
        for (start, ca) in self.cas.iter().enumerate() {
            if ca.subject_raw != issuer_der || ca.key_id() != Some(signer) {
                continue;
            }
            for &index in self.above.get(start).into_iter().flatten() {
                if out.iter().any(|l| l.index == index) {
                    continue;
                }
                if let Some(ca) = self.cas.get(index) {
                    out.push(ChainLink {
                        ca,
                        index,
                        store: self,
                    });
                }
            }
        }
        out
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
        // A poisoned lock only means a panic elsewhere; a map of hashes has
        // no invariant a half-done insert could break.
        let memo = || self.verified.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(v) = memo().get(cert.fingerprint()) {
            return IssuerSignature::Verified(v.key);
        }
        let Some(key) = cas
            .filter(|ca| ca.may_sign_certificates())
            .find_map(|ca| ca.verifies(cert.signed()))
        else {
            return IssuerSignature::Invalid;
        };
        let twin = self.compute_twin(cert, key);
        let mut memo = memo();
        if memo.len() >= VERIFIED_MEMO_CAPACITY {
            memo.clear();
        }
        memo.insert(*cert.fingerprint(), Verified { key, twin });
        IssuerSignature::Verified(key)
    }

    /// The fingerprint of the ECDSA twin of `cert`, which `signer` verified
    /// (see [`crate::signed::ecdsa_twin`]): from the memo, or computed.
    #[must_use]
    pub fn twin_fingerprint(&self, cert: &ClientCert<'_>, signer: KeyId) -> Option<[u8; 32]> {
        let memo = self.verified.lock().unwrap_or_else(PoisonError::into_inner);
        match memo.get(cert.fingerprint()) {
            Some(v) if v.key == signer => v.twin,
            _ => {
                drop(memo);
                self.compute_twin(cert, signer)
            }
        }
    }

    fn compute_twin(&self, cert: &ClientCert<'_>, signer: KeyId) -> Option<[u8; 32]> {
        let key = self.key_algorithm(signer)?;
        crate::signed::ecdsa_twin(cert.signed(), key).map(|t| crate::signed::sha256(&t))
    }

    /// The CA certificates whose subject is exactly `name_der` (byte-equal DER,
    /// the strict form of RFC 5280 §7.1 name matching). Several may share a
    /// name across a key rollover.
    pub(crate) fn cas_named<'s>(
        &'s self,
        name_der: &'s [u8],
    ) -> impl Iterator<Item = &'s CaCert> + 's {
        self.cas.iter().filter(move |ca| ca.subject_raw == name_der)
    }

    /// The CA certificates whose key has id `id` (one CA across renewals,
    /// or, unusually, CAs of several names sharing a key).
    pub fn cas_with_key(&self, id: KeyId) -> impl Iterator<Item = &CaCert> + '_ {
        self.cas.iter().filter(move |ca| ca.key_id() == Some(id))
    }

    /// Whether some CA's subject satisfies `accepts`.
    #[must_use]
    pub fn has_ca_matching(&self, accepts: impl Fn(&Name<'_>) -> bool) -> bool {
        self.cas
            .iter()
            .any(|ca| Name::from_der(&ca.subject_raw).is_ok_and(|n| accepts(&n)))
    }

    /// The CAs whose key is outside the allowlist, with the reason.
    pub fn unsupported(&self) -> impl Iterator<Item = (&str, &UnsupportedKey)> {
        self.cas.iter().filter_map(|ca| match &ca.key {
            CaKey::Unsupported(why) => Some((ca.subject_dn(), why)),
            CaKey::Usable(_) => None,
        })
    }

    /// The CA that expires first, with its `notAfter`: after it, API
    /// Gateway refuses every client that chains to it.
    #[must_use]
    pub fn first_expiry(&self) -> Option<(UnixTime, &str)> {
        self.cas
            .iter()
            .min_by_key(|ca| ca.not_after)
            .map(|ca| (ca.not_after, ca.subject_dn()))
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
