//! Issuing client certificates, from a generated key or a CSR.

use rcgen::{
    CertificateParams, CertificateSigningRequestParams, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyUsagePurpose, SerialNumber,
};
use time::{Duration, OffsetDateTime};

use super::{
    Client, IssueOptions, Pki, files, parse_san, parse_serial, random_serial, valid_name,
    write_file,
};
use crate::cert::summarize;
use crate::check::rfc3339;
use crate::error::{Error, Result};

impl Pki {
    /// Issues a client certificate named `name` (a new key, or a CSR's).
    ///
    /// # Errors
    /// A bad name or option, a name already used, or a generation failure.
    pub fn issue(&self, name: &str, opts: &IssueOptions, now: OffsetDateTime) -> Result<Client> {
        valid_name(name)?;
        let mut state = self.state()?;
        if state.clients.contains_key(name) {
            return Err(Error::NameTaken {
                name: name.to_owned(),
            });
        }
        let issuer = self.issuer()?;
        let serial = match &opts.serial_hex {
            Some(h) => parse_serial(h)?,
            None => random_serial()?,
        };
        let serial_text = hex::encode(&serial);
        if state.clients.values().any(|c| c.serial == serial_text) {
            return Err(Error::SerialTaken {
                serial: serial_text,
            });
        }
        let not_before = opts.not_before.unwrap_or(now - Duration::hours(1));
        let not_after = opts.not_after.unwrap_or(now + Duration::days(opts.days));
        if not_after <= not_before {
            return Err(Error::Validity {
                not_before,
                not_after,
            });
        }

        let (mut params, public, key) = match &opts.csr_pem {
            Some(pem) => {
                // rcgen checks the CSR's signature and reads its subject and
                // SANs; the key is taken from the CSR's SPKI, since rcgen
                // would infer the curve from the signature algorithm.
                let csr = CertificateSigningRequestParams::from_pem(pem)
                    .map_err(Error::rcgen("reading the CSR"))?;
                (csr.params, csr_key(pem)?, None)
            }
            None => {
                let key = opts.key_type.unwrap_or(state.key_type).generate()?;
                let mut d = DistinguishedName::new();
                d.push(DnType::OrganizationName, state.org.clone());
                for ou in &opts.ou {
                    d.push(DnType::OrganizationalUnitName, ou.clone());
                }
                d.push(
                    DnType::CommonName,
                    opts.cn.clone().unwrap_or_else(|| name.to_owned()),
                );
                let mut p =
                    CertificateParams::new(Vec::<String>::new()).map_err(Error::rcgen("client"))?;
                p.distinguished_name = d;
                let public = SpkiKey {
                    raw: rcgen::PublicKeyData::der_bytes(&key).to_vec(),
                    alg: key.algorithm(),
                };
                (p, public, Some(key))
            }
        };
        let p = &mut params;
        for san in &opts.sans {
            p.subject_alt_names.push(parse_san(san)?);
        }
        p.is_ca = IsCa::ExplicitNoCa;
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        p.not_before = not_before;
        p.not_after = not_after;
        p.serial_number = Some(SerialNumber::from_slice(&serial));
        p.use_authority_key_identifier_extension = true;
        let cert = params
            .signed_by(&public, &issuer)
            .map_err(Error::rcgen("client certificate"))?;

        let clients = self.dir.join(files::CLIENTS);
        std::fs::create_dir_all(&clients).map_err(Error::io(clients))?;
        if let Some(k) = &key {
            write_file(
                &self.client_path(name, "key"),
                k.serialize_pem().as_bytes(),
                true,
            )?;
        }
        write_file(&self.client_path(name, "pem"), cert.pem().as_bytes(), false)?;
        let summary =
            summarize(name, cert.der()).map_err(Error::in_file(self.client_path(name, "pem")))?;
        let client = Client {
            name: name.to_owned(),
            serial: serial_text,
            subject: summary.subject,
            not_after: rfc3339(not_after),
            has_key: key.is_some(),
        };
        state.clients.insert(name.to_owned(), client.clone());
        self.save(&state)?;
        Ok(client)
    }
}

/// A subject public key: its raw bits and the algorithm that fixes its
/// SPKI encoding.
#[derive(Debug)]
struct SpkiKey {
    raw: Vec<u8>,
    alg: &'static rcgen::SignatureAlgorithm,
}

impl rcgen::PublicKeyData for SpkiKey {
    fn der_bytes(&self) -> &[u8] {
        &self.raw
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        self.alg
    }
}

/// The public key of a PEM CSR, restricted to what API Gateway accepts
/// (RSA, ECDSA P-256 and P-384).
fn csr_key(pem: &str) -> Result<SpkiKey> {
    use x509_parser::prelude::{FromDer, X509CertificationRequest};
    let block = mtls_x509::pem::first(pem.as_bytes()).map_err(|source| Error::CsrPem { source })?;
    let (_, csr) = X509CertificationRequest::from_der(&block.der)
        .map_err(|source| Error::CsrDer { source })?;
    let spki = &csr.certification_request_info.subject_pki;
    let key_oid = spki.algorithm.algorithm.to_id_string();
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|o| o.to_id_string());
    let alg = match (key_oid.as_str(), curve.as_deref()) {
        ("1.2.840.113549.1.1.1", _) => &rcgen::PKCS_RSA_SHA256,
        ("1.2.840.10045.2.1", Some("1.2.840.10045.3.1.7")) => &rcgen::PKCS_ECDSA_P256_SHA256,
        ("1.2.840.10045.2.1", Some("1.3.132.0.34")) => &rcgen::PKCS_ECDSA_P384_SHA384,
        _ => return Err(Error::CsrKey { key_oid, curve }),
    };
    Ok(SpkiKey {
        raw: spki.subject_public_key.data.to_vec(),
        alg,
    })
}
