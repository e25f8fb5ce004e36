//! The client certificate, parsed from the event's `clientCertPem`.
//!
//! Parsing is strict and bounded: a certificate the authorizer cannot
//! interpret completely (RFC 5280 §4.2) is refused as malformed, never
//! half-read.

use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};
use x509_parser::prelude::{FromDer, X509Certificate, X509Extension};

use crate::der::{Malformed, ObjectId};
use crate::error::{CertificateProblem, Error, Result, nom_problem, parser_problem};
use crate::name::{Name, format_dn};
use crate::serial::Serial;
use crate::signed::SignedData;
use crate::time::UnixTime;

/// The largest client certificate accepted, in DER octets. Device and app
/// certificates are a few kilobytes; this bounds the parse of a hostile one.
pub(crate) const MAX_CERTIFICATE_BYTES: usize = 32 * 1024;
/// The largest `clientCertPem` accepted, in characters (the DER limit in
/// base64, with line breaks and a chain behind it).
pub(crate) const MAX_PEM_CHARS: usize = 128 * 1024;
/// The most extensions a client certificate may carry.
pub(crate) const MAX_EXTENSIONS: usize = 32;
/// The most attributes (over all RDNs) in its subject or issuer name.
pub(crate) const MAX_NAME_ATTRIBUTES: usize = 64;
/// The most CRL distribution point URIs read from it.
pub(crate) const MAX_CDP_URIS: usize = 16;
/// The most OCSP responder URIs an authorityInfoAccess may name.
pub(crate) const MAX_OCSP_URIS: usize = 8;
/// `id-ad-ocsp` (RFC 5280 §4.2.2.1, RFC 6960), as DER content octets.
const ID_AD_OCSP: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01];

/// Extensions the authorizer recognises and processes (RFC 5280 §4.2), so
/// may accept when critical, by OID content octets (compared as bytes: no
/// OID is formatted on the decision path). Any other critical extension
/// makes the certificate unusable here.
const RECOGNISED: &[(&[u8], &str)] = &[
    (&[0x55, 0x1d, 0x0e], "subjectKeyIdentifier"),
    (&[0x55, 0x1d, 0x0f], "keyUsage"),
    (&[0x55, 0x1d, 0x11], "subjectAltName"),
    (&[0x55, 0x1d, 0x13], "basicConstraints"),
    (&[0x55, 0x1d, 0x1f], "cRLDistributionPoints"),
    // Any policy is acceptable here, as in API Gateway's handshake
    // (user-initial-policy-set = anyPolicy, RFC 5280 §6.1.1 (c)).
    (&[0x55, 0x1d, 0x20], "certificatePolicies"),
    (&[0x55, 0x1d, 0x23], "authorityKeyIdentifier"),
    (&[0x55, 0x1d, 0x25], "extKeyUsage"),
    (
        &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01],
        "authorityInfoAccess",
    ),
];

/// Decodes the first `CERTIFICATE` block of a PEM text into DER.
///
/// API Gateway sends the leaf first; anything after it is ignored.
pub fn pem_to_der(pem: &str) -> Result<Vec<u8>> {
    if pem.trim().is_empty() {
        return Err(Error::MissingCertificate);
    }
    if pem.len() > MAX_PEM_CHARS {
        return Err(CertificateProblem::PemTooLong { max: MAX_PEM_CHARS }.into());
    }
    crate::pem::find(pem.as_bytes(), crate::pem::CERTIFICATE)
        .map_err(CertificateProblem::Pem)?
        .ok_or(Error::MalformedCertificate(CertificateProblem::NoPemBlock))
}

/// What the certificate's extended key usage says about client authentication.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuthUsage {
    /// No EKU extension: usable for any purpose (RFC 5280 §4.2.1.12).
    Unrestricted,
    /// An EKU extension that lists `id-kp-clientAuth`.
    Listed,
    /// An EKU extension without `id-kp-clientAuth`.
    NotListed,
}

/// Whether a certificate is a CA certificate (RFC 5280 §4.2.1.9).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertificateRole {
    /// basicConstraints cA is true.
    Ca,
    /// No basicConstraints, or cA false.
    EndEntity,
}

/// A parsed client certificate, borrowing its DER.
#[derive(Debug)]
pub struct ClientCert<'a> {
    x509: X509Certificate<'a>,
    signed: SignedData<'a>,
    serial: Serial,
    fingerprint: [u8; 32],
    role: CertificateRole,
    authority_key_id: Option<&'a [u8]>,
    crl_uris: Vec<&'a str>,
    crl_directory_names: Vec<&'a [u8]>,
    ocsp_uris: Vec<&'a str>,
}

impl<'a> ClientCert<'a> {
    /// Parses DER, strictly: the envelope in DER, no trailing bytes, a
    /// positive serial, no duplicated extension, no unrecognised critical
    /// extension, and bounded sizes and counts.
    pub fn from_der(der: &'a [u8]) -> Result<Self> {
        let bad = |problem: CertificateProblem| Err(Error::MalformedCertificate(problem));
        if der.len() > MAX_CERTIFICATE_BYTES {
            return bad(CertificateProblem::TooLarge {
                size: der.len(),
                max: MAX_CERTIFICATE_BYTES,
            });
        }
        let signed = SignedData::certificate(der).map_err(CertificateProblem::Der)?;
        let (rest, x509) = X509Certificate::from_der(der).map_err(|e| {
            CertificateProblem::Der(Malformed {
                what: "certificate",
                problem: nom_problem(&e),
            })
        })?;
        if !rest.is_empty() {
            return bad(CertificateProblem::Der(Malformed {
                what: "certificate",
                problem: "trailing data after it",
            }));
        }
        // RFC 5280 §4.1.2.2: a positive INTEGER. An empty or negative one is
        // no serial a CRL could name.
        match x509.raw_serial().first() {
            None => return bad(CertificateProblem::EmptySerial),
            Some(b) if b & 0x80 != 0 => return bad(CertificateProblem::NegativeSerial),
            Some(_) => {}
        }
        for (what, name) in [("subject", x509.subject()), ("issuer", x509.issuer())] {
            // The name's bytes are its identity (`name::holder_sha256`), so
            // they must be the whole Name: x509-parser stops at the last RDN
            // it can read and would leave trailing octets inside the
            // SEQUENCE out of `as_raw()`.
            if !crate::name::is_whole_element(name.as_raw()) {
                return bad(CertificateProblem::NameTrailingOctets { name: what });
            }
            if name.iter_attributes().nth(MAX_NAME_ATTRIBUTES).is_some() {
                return bad(CertificateProblem::TooManyNameAttributes {
                    name: what,
                    max: MAX_NAME_ATTRIBUTES,
                });
            }
        }
        let facts = Extensions::read(x509.extensions())?;
        let serial = Serial::from_integer_bytes(x509.raw_serial());
        Ok(Self {
            x509,
            signed,
            serial,
            fingerprint: crate::signed::sha256(der),
            role: facts.role,
            authority_key_id: facts.authority_key_id,
            crl_uris: facts.crl_uris,
            crl_directory_names: facts.crl_directory_names,
            ocsp_uris: facts.ocsp_uris,
        })
    }

    /// The OCSP responder URIs of its authorityInfoAccess (RFC 5280
    /// §4.2.2.1), for `responders_from_aia`: only ever fetched within the
    /// configured prefixes.
    #[must_use]
    pub fn ocsp_uris(&self) -> &[&'a str] {
        &self.ocsp_uris
    }

    /// The parsed certificate, for the signature tests' own comparisons.
    #[cfg(test)]
    pub(crate) fn x509(&self) -> &X509Certificate<'a> {
        &self.x509
    }

    /// The subject name.
    #[must_use]
    pub fn subject(&self) -> Name<'_> {
        Name::from_x509(self.x509.subject())
    }

    /// The issuer name.
    #[must_use]
    pub fn issuer(&self) -> Name<'_> {
        Name::from_x509(self.x509.issuer())
    }

    /// The signed parts, for the issuer's signature check.
    #[must_use]
    pub fn signed(&self) -> &SignedData<'a> {
        &self.signed
    }

    /// The issuer name as DER, for exact matching against CAs and CRLs.
    #[must_use]
    pub fn issuer_der(&self) -> &[u8] {
        self.x509.issuer().as_raw()
    }

    /// The subject DN in API Gateway's text form.
    #[must_use]
    pub fn subject_dn(&self) -> String {
        format_dn(self.x509.subject())
    }

    /// The issuer DN in API Gateway's text form.
    #[must_use]
    pub fn issuer_dn(&self) -> String {
        format_dn(self.x509.issuer())
    }

    /// The normalized serial number.
    #[must_use]
    pub fn serial(&self) -> &Serial {
        &self.serial
    }

    /// SHA-256 of the DER.
    #[must_use]
    pub fn fingerprint(&self) -> &[u8; 32] {
        &self.fingerprint
    }

    /// Lowercase hex SHA-256 of the DER.
    #[must_use]
    pub fn fingerprint_hex(&self) -> String {
        crate::serial::hex_lower(&self.fingerprint)
    }

    /// `notBefore`.
    #[must_use]
    pub fn not_before(&self) -> UnixTime {
        UnixTime::from_asn1(self.x509.validity().not_before)
    }

    /// `notAfter`.
    #[must_use]
    pub fn not_after(&self) -> UnixTime {
        UnixTime::from_asn1(self.x509.validity().not_after)
    }

    /// Whether it is a CA certificate.
    #[must_use]
    pub fn role(&self) -> CertificateRole {
        self.role
    }

    /// The `keyIdentifier` of its authorityKeyIdentifier (RFC 5280 §4.2.1.1).
    #[must_use]
    pub fn authority_key_id(&self) -> Option<&'a [u8]> {
        self.authority_key_id
    }

    /// The `fullName` URIs of its cRLDistributionPoints (RFC 5280 §4.2.1.13),
    /// in order: where the CA publishes the CRL that covers it.
    #[must_use]
    pub fn crl_uris(&self) -> &[&'a str] {
        &self.crl_uris
    }

    /// The directoryNames of its cRLDistributionPoints' fullNames, as DER:
    /// what a partition CRL named by a directoryName (or by a name relative
    /// to its issuer) is matched against.
    #[must_use]
    pub(crate) fn crl_directory_names(&self) -> &[&'a [u8]] {
        &self.crl_directory_names
    }

    /// The DNS names and URIs of the subjectAltName extension.
    pub fn san_dns_and_uris(&self) -> Result<(Vec<&'a str>, Vec<&'a str>)> {
        let mut dns = Vec::new();
        let mut uris = Vec::new();
        let san =
            self.x509
                .subject_alternative_name()
                .map_err(|e| CertificateProblem::BadExtension {
                    extension: "subjectAltName",
                    problem: parser_problem(&e),
                })?;
        for name in san.iter().flat_map(|s| s.value.general_names.iter()) {
            match name {
                GeneralName::DNSName(d) => dns.push(*d),
                GeneralName::URI(u) => uris.push(*u),
                _ => {}
            }
        }
        Ok((dns, uris))
    }

    /// What the EKU extension says about `id-kp-clientAuth`.
    pub fn client_auth_usage(&self) -> Result<ClientAuthUsage> {
        let eku = self
            .x509
            .extended_key_usage()
            .map_err(|e| CertificateProblem::BadExtension {
                extension: "extendedKeyUsage",
                problem: parser_problem(&e),
            })?;
        Ok(match eku {
            None => ClientAuthUsage::Unrestricted,
            Some(e) if e.value.client_auth => ClientAuthUsage::Listed,
            Some(_) => ClientAuthUsage::NotListed,
        })
    }
}

/// What the extensions say, once each was checked.
#[derive(Debug)]
struct Extensions<'a> {
    role: CertificateRole,
    authority_key_id: Option<&'a [u8]>,
    crl_uris: Vec<&'a str>,
    crl_directory_names: Vec<&'a [u8]>,
    ocsp_uris: Vec<&'a str>,
}

impl<'a> Extensions<'a> {
    /// RFC 5280 §4.2: at most one instance of each extension; every critical
    /// extension recognised; every recognised one well-formed.
    fn read(extensions: &[X509Extension<'a>]) -> std::result::Result<Self, CertificateProblem> {
        if extensions.len() > MAX_EXTENSIONS {
            return Err(CertificateProblem::TooManyExtensions {
                count: extensions.len(),
                max: MAX_EXTENSIONS,
            });
        }
        let mut facts = Self {
            role: CertificateRole::EndEntity,
            authority_key_id: None,
            crl_uris: Vec::new(),
            crl_directory_names: Vec::new(),
            ocsp_uris: Vec::new(),
        };
        for (i, ext) in extensions.iter().enumerate() {
            let oid = ext.oid.as_bytes();
            if extensions.iter().take(i).any(|e| e.oid == ext.oid) {
                return Err(CertificateProblem::DuplicateExtension {
                    oid: ObjectId::new(oid),
                });
            }
            let name = RECOGNISED.iter().find(|(o, _)| *o == oid).map(|(_, n)| *n);
            let Some(name) = name else {
                if ext.critical {
                    return Err(CertificateProblem::UnrecognisedCriticalExtension {
                        oid: ObjectId::new(oid),
                    });
                }
                continue;
            };
            match ext.parsed_extension() {
                ParsedExtension::ParseError { .. } => {
                    return Err(CertificateProblem::BadExtension {
                        extension: name,
                        problem: "cannot be parsed",
                    });
                }
                ParsedExtension::BasicConstraints(bc) if bc.ca => {
                    facts.role = CertificateRole::Ca;
                }
                ParsedExtension::AuthorityKeyIdentifier(aki) => {
                    facts.authority_key_id = aki.key_identifier.as_ref().map(|k| k.0);
                }
                ParsedExtension::AuthorityInfoAccess(aia) => {
                    for access in aia.iter() {
                        if access.access_method.as_bytes() != ID_AD_OCSP {
                            continue;
                        }
                        // Only the first few are kept: they are only ever
                        // candidates for `responders_from_aia`, so the rest
                        // are never asked, and a certificate with many is no
                        // reason to refuse it for entries without OCSP.
                        if let GeneralName::URI(uri) = access.access_location
                            && facts.ocsp_uris.len() < MAX_OCSP_URIS
                        {
                            facts.ocsp_uris.push(uri);
                        }
                    }
                }
                ParsedExtension::CRLDistributionPoints(points) => {
                    for point in points.iter() {
                        // RFC 5280 §6.3.3 (d): a point limited to some
                        // reasons, or served by another CRL issuer, names a
                        // CRL that cannot decide the certificate alone; its
                        // names are left out, so no partition covers it by
                        // them and crl_from_cdp fetches nothing from them.
                        if point.reasons.is_some() || point.crl_issuer.is_some() {
                            continue;
                        }
                        if let Some(DistributionPointName::FullName(names)) =
                            &point.distribution_point
                        {
                            for n in names {
                                match n {
                                    GeneralName::URI(uri) => facts.crl_uris.push(*uri),
                                    GeneralName::DirectoryName(dn) => {
                                        facts.crl_directory_names.push(dn.as_raw());
                                    }
                                    _ => {}
                                }
                            }
                        }
                    }
                    if facts.crl_uris.len() + facts.crl_directory_names.len() > MAX_CDP_URIS {
                        return Err(CertificateProblem::TooManyDistributionPoints {
                            max: MAX_CDP_URIS,
                        });
                    }
                }
                _ => {}
            }
        }
        Ok(facts)
    }
}
