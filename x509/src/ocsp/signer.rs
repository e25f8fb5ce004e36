//! Who may sign an OCSP response (RFC 6960 §4.2.2.2): the CA that issued
//! the certificate, with its own key, or a responder certificate that CA
//! issued for OCSP and included in the response. Everything else is refused.

use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::response::{Basic, ResponderId};
use super::{OcspError, OcspSigner, OcspTimePolicy, malformed, oid};
use crate::der::{self, Malformed, Reader};
use crate::signed::{PublicKey, SignatureAlgorithm, SignatureError, SignedData};
use crate::time::UnixTime;
use crate::truststore::{CaCert, CaKey};

/// Extensions of a delegated responder's certificate that may be critical
/// (RFC 5280 §4.2, plus id-pkix-ocsp-nocheck, RFC 6960 §4.2.2.2.1).
const RESPONDER_CERT_EXTENSIONS: &[&[u8]] = &[
    oid::SUBJECT_KEY_ID,
    oid::KEY_USAGE,
    oid::SUBJECT_ALT_NAME,
    oid::BASIC_CONSTRAINTS,
    oid::CRL_DISTRIBUTION_POINTS,
    oid::CERTIFICATE_POLICIES,
    oid::AUTHORITY_KEY_ID,
    oid::EXT_KEY_USAGE,
    oid::AUTHORITY_INFO_ACCESS,
    oid::NOCHECK,
];

impl Basic<'_> {
    /// Steps 2 and 3: the signer, and the signature over `tbsResponseData`
    /// (RFC 6960 §3.2 (2) to (4), §4.2.2.2).
    pub(super) fn authorize(
        &self,
        issuer: &CaCert,
        now: UnixTime,
        policy: OcspTimePolicy,
    ) -> Result<OcspSigner, OcspError> {
        SignatureAlgorithm::from_der(self.signed.algorithm)
            .map_err(|_| OcspError::UnsupportedAlgorithm)?;
        let CaKey::Usable(ca_key) = issuer.key() else {
            return Err(OcspError::UnsupportedKey("issuer"));
        };
        let ca_signed = SignedData::certificate(issuer.der()).map_err(OcspError::UnusableIssuer)?;
        let ca = CertFields::read(&ca_signed).map_err(OcspError::UnusableIssuer)?;
        // (a) The CA itself. A name that matches but a key that does not
        // verify is an impostor of the CA, never a reason to look further.
        if self.responder.names(issuer.subject_der(), ca.key_bits) {
            response_signature(ca_key.verify(&self.signed))?;
            return Ok(OcspSigner::Issuer);
        }
        // (b) A delegated responder, which must be among `certs`: we keep no
        // responder certificates of our own. Each certificate the
        // responderID names is tried, at most MAX_RESPONSE_CERTS of them;
        // the first refusal is reported if none is acceptable.
        let mut refusal = None;
        for cert in &self.certs {
            let outcome = match delegated(cert, self.responder, issuer, ca_key, now, policy) {
                Ok(None) => continue,
                Ok(Some(key)) => {
                    response_signature(key.verify(&self.signed)).map(|()| OcspSigner::Delegated {
                        fingerprint: crate::signed::sha256(cert),
                    })
                }
                Err(e) => Err(e),
            };
            match outcome {
                Ok(signer) => return Ok(signer),
                Err(e) => {
                    refusal.get_or_insert(e);
                }
            }
        }
        Err(refusal.unwrap_or(OcspError::UnauthorizedSigner(
            "the responder ID names neither the issuer nor a certificate in the response",
        )))
    }
}

/// A failed response signature check, as an [`OcspError`]: a signature
/// from a key of the wrong type is not that key's signature.
fn response_signature(result: Result<(), SignatureError>) -> Result<(), OcspError> {
    match result {
        Ok(()) => Ok(()),
        Err(SignatureError::UnsupportedAlgorithm(_)) => Err(OcspError::UnsupportedAlgorithm),
        Err(SignatureError::WrongKeyType { .. } | SignatureError::Invalid) => {
            Err(OcspError::BadSignature)
        }
    }
}

/// The names and key of a certificate, read from `tbsCertificate` with the
/// strict DER reader (RFC 5280 §4.1): x509-parser leaves trailing octets
/// of a Name out of its raw bytes, and these bytes are compared exactly.
#[derive(Clone, Copy, Debug)]
pub(super) struct CertFields<'a> {
    pub(super) issuer: &'a [u8],
    pub(super) subject: &'a [u8],
    pub(super) spki: &'a [u8],
    /// The subjectPublicKey BIT STRING's value, after the unused-bits octet.
    pub(super) key_bits: &'a [u8],
}

impl<'a> CertFields<'a> {
    pub(super) fn read(signed: &SignedData<'a>) -> Result<Self, Malformed> {
        let bad = |problem| Malformed {
            what: "tbsCertificate",
            problem,
        };
        let mut r = Reader::new(signed.tbs_content);
        r.optional(der::CONTEXT_0, "version")?;
        r.expect_tag(der::INTEGER, "serialNumber")?;
        r.expect_tag(der::SEQUENCE, "signature")?;
        let issuer = r.expect_tag(der::SEQUENCE, "issuer")?;
        r.expect_tag(der::SEQUENCE, "validity")?;
        let subject = r.expect_tag(der::SEQUENCE, "subject")?;
        let spki = r.expect_tag(der::SEQUENCE, "subjectPublicKeyInfo")?;
        let mut k = Reader::new(spki.content);
        k.expect_tag(der::SEQUENCE, "subjectPublicKeyInfo algorithm")?;
        let bits = k.expect_tag(der::BIT_STRING, "subjectPublicKey")?;
        if !k.is_empty() {
            return Err(bad("data after subjectPublicKey"));
        }
        let Some((&0, key_bits)) = bits.content.split_first() else {
            return Err(bad("subjectPublicKey has unused bits"));
        };
        Ok(Self {
            issuer: issuer.raw,
            subject: subject.raw,
            spki: spki.raw,
            key_bits,
        })
    }
}

/// What a delegated responder's certificate says of itself, read with
/// x509-parser once its names matched.
#[derive(Clone, Copy, Debug)]
pub(super) struct ResponderFacts {
    is_ca: bool,
    ocsp_signing: bool,
    /// keyUsage allows signing responses (digitalSignature or
    /// nonRepudiation, RFC 5280 §4.2.1.3), or is absent.
    may_sign: bool,
    not_before: UnixTime,
    not_after: UnixTime,
}

impl ResponderFacts {
    /// RFC 5280 §4.2: each extension at most once, and no critical one we
    /// do not understand.
    pub(super) fn read(der: &[u8]) -> Result<Self, OcspError> {
        let (rest, x509) = X509Certificate::from_der(der)
            .map_err(|_| malformed("the responder certificate", "does not parse"))?;
        if !rest.is_empty() {
            return Err(malformed("the responder certificate", "trailing data"));
        }
        let extensions = x509.extensions();
        if extensions.len() > crate::cert::MAX_EXTENSIONS {
            return Err(malformed(
                "the responder certificate",
                "too many extensions",
            ));
        }
        let validity = x509.validity();
        let mut facts = Self {
            is_ca: false,
            ocsp_signing: false,
            may_sign: true,
            not_before: UnixTime::from_asn1(validity.not_before),
            not_after: UnixTime::from_asn1(validity.not_after),
        };
        for (i, ext) in extensions.iter().enumerate() {
            if extensions.iter().take(i).any(|e| e.oid == ext.oid) {
                return Err(malformed(
                    "the responder certificate",
                    "an extension appears twice",
                ));
            }
            if !RESPONDER_CERT_EXTENSIONS.contains(&ext.oid.as_bytes()) {
                if ext.critical {
                    return Err(OcspError::UnsupportedCriticalExtension(
                        "the responder certificate",
                    ));
                }
                continue;
            }
            match ext.parsed_extension() {
                ParsedExtension::ParseError { .. } => {
                    return Err(malformed(
                        "the responder certificate",
                        "an extension does not parse",
                    ));
                }
                ParsedExtension::BasicConstraints(bc) => facts.is_ca = bc.ca,
                ParsedExtension::ExtendedKeyUsage(eku) => facts.ocsp_signing = eku.ocsp_signing,
                ParsedExtension::KeyUsage(ku) => {
                    facts.may_sign = ku.digital_signature() || ku.non_repudiation();
                }
                _ => {}
            }
        }
        Ok(facts)
    }
}

/// RFC 6960 §4.2.2.2 (b): the key of `cert` if it is a responder the
/// issuing CA delegated to, `None` if the `responderID` does not name it.
/// Cheap checks first; the CA's signature on it last.
fn delegated(
    cert: &[u8],
    responder: ResponderId<'_>,
    issuer: &CaCert,
    ca_key: &PublicKey,
    now: UnixTime,
    policy: OcspTimePolicy,
) -> Result<Option<PublicKey>, OcspError> {
    let signed = SignedData::certificate(cert)?;
    let fields = CertFields::read(&signed)?;
    if !responder.names(fields.subject, fields.key_bits) {
        return Ok(None);
    }
    // "issued directly by the CA that issued the certificate in question".
    if fields.issuer != issuer.subject_der() {
        return Err(OcspError::UnauthorizedSigner(
            "the responder certificate was issued by another CA",
        ));
    }
    let facts = ResponderFacts::read(cert)?;
    // RFC 5280 §4.2.1.9: a CA certificate is for signing certificates; a
    // CA's own OCSP answers come under (a), with its own key.
    if facts.is_ca {
        return Err(OcspError::UnauthorizedSigner(
            "the responder certificate is a CA certificate",
        ));
    }
    if !facts.ocsp_signing {
        return Err(OcspError::UnauthorizedSigner(
            "the responder certificate lacks id-kp-OCSPSigning",
        ));
    }
    if !facts.may_sign {
        return Err(OcspError::UnauthorizedSigner(
            "the responder certificate's keyUsage allows no digitalSignature",
        ));
    }
    let skew = policy.clock_skew_seconds;
    if now < facts.not_before.offset(skew.saturating_neg()) || now > facts.not_after.offset(skew) {
        return Err(OcspError::UnauthorizedSigner(
            "the responder certificate is not valid now",
        ));
    }
    if !issuer.may_sign_certificates() {
        return Err(OcspError::UnauthorizedSigner(
            "the issuer's keyUsage does not allow it to sign certificates",
        ));
    }
    // The expensive check, last: the CA's key, not just its name, signed
    // the responder's certificate.
    ca_key.verify(&signed).map_err(|_| {
        OcspError::UnauthorizedSigner("the responder certificate is not signed by the issuer's key")
    })?;
    // id-pkix-ocsp-nocheck (§4.2.2.2.1) needs nothing: we check no
    // revocation of the responder certificate either way.
    PublicKey::from_spki(fields.spki)
        .map(Some)
        .map_err(|_| OcspError::UnsupportedKey("responder"))
}
