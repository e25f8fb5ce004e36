//! The client certificate, parsed from the event's `clientCertPem`.

use sha2::{Digest, Sha256};
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::*;

use crate::error::{Error, Result};
use crate::name::format_dn;
use crate::serial::Serial;
use crate::time::UnixTime;
use crate::truststore::{CaCert, check_signature_algorithm};

/// Decodes the first `CERTIFICATE` block of a PEM text into DER.
///
/// API Gateway sends the leaf first; anything after it is ignored.
pub fn pem_to_der(pem: &str) -> Result<Vec<u8>> {
    if pem.trim().is_empty() {
        return Err(Error::MissingCertificate);
    }
    for block in Pem::iter_from_buffer(pem.as_bytes()) {
        let block = block.map_err(|e| Error::MalformedCertificate(format!("PEM: {e}")))?;
        if block.label == "CERTIFICATE" {
            return Ok(block.contents);
        }
    }
    Err(Error::MalformedCertificate(
        "no CERTIFICATE block in clientCertPem".into(),
    ))
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

/// A parsed client certificate, borrowing its DER.
#[derive(Debug)]
pub struct ClientCert<'a> {
    x509: X509Certificate<'a>,
    serial: Serial,
    fingerprint: [u8; 32],
}

impl<'a> ClientCert<'a> {
    /// Parses DER. Trailing bytes after the certificate are refused.
    pub fn from_der(der: &'a [u8]) -> Result<Self> {
        crate::der::check_signed_envelope(der).map_err(Error::MalformedCertificate)?;
        let (rest, x509) = X509Certificate::from_der(der)
            .map_err(|e| Error::MalformedCertificate(e.to_string()))?;
        if !rest.is_empty() {
            return Err(Error::MalformedCertificate(
                "trailing data after the certificate".into(),
            ));
        }
        let serial = Serial::from_integer_bytes(x509.raw_serial());
        Ok(Self {
            x509,
            serial,
            fingerprint: Sha256::digest(der).into(),
        })
    }

    /// The underlying parsed certificate.
    #[must_use]
    pub fn x509(&self) -> &X509Certificate<'a> {
        &self.x509
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
        hex::encode(self.fingerprint)
    }

    /// `notBefore`.
    #[must_use]
    pub fn not_before(&self) -> UnixTime {
        self.x509.validity().not_before.into()
    }

    /// `notAfter`.
    #[must_use]
    pub fn not_after(&self) -> UnixTime {
        self.x509.validity().not_after.into()
    }

    /// The DNS names and URIs of the subjectAltName extension.
    pub fn san_dns_and_uris(&self) -> Result<(Vec<&'a str>, Vec<&'a str>)> {
        let mut dns = Vec::new();
        let mut uris = Vec::new();
        let san = self
            .x509
            .subject_alternative_name()
            .map_err(|e| Error::MalformedCertificate(format!("subjectAltName: {e}")))?;
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
            .map_err(|e| Error::MalformedCertificate(format!("extendedKeyUsage: {e}")))?;
        Ok(match eku {
            None => ClientAuthUsage::Unrestricted,
            Some(e) if e.value.client_auth => ClientAuthUsage::Listed,
            Some(_) => ClientAuthUsage::NotListed,
        })
    }

    /// Whether `ca` signed this certificate with an accepted algorithm, and may sign certificates.
    #[must_use]
    pub fn is_signed_by(&self, ca: &CaCert) -> bool {
        ca.may_sign_certificates()
            && check_signature_algorithm(
                &self.x509.signature_algorithm,
                &self.x509.tbs_certificate.signature,
            )
            .is_ok()
            && ca.verifies(
                &self.x509.signature_algorithm,
                &self.x509.signature_value,
                self.x509.tbs_certificate.as_ref(),
            )
    }
}
