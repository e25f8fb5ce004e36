//! A throwaway PKI made with rcgen: CAs, client certificates and CRLs with
//! real signatures, chosen serials and chosen times.

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CrlDistributionPoint,
    CrlIssuingDistributionPoint, CrlScope, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
    IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, RevocationReason, RevokedCertParams,
    SanType, SerialNumber,
};
use time::{Duration, OffsetDateTime};

/// Now, truncated to whole seconds (certificates and CRLs carry seconds).
pub fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(0).unwrap()
}

/// Seconds since the epoch of an `OffsetDateTime`.
pub fn unix(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

/// A certificate authority: its parameters, key and self-signed certificate.
pub struct Ca {
    params: CertificateParams,
    key: KeyPair,
    pem: String,
}

impl Ca {
    /// A root CA named `O=<org>, CN=<cn>`, allowed to sign certificates and CRLs.
    pub fn new(org: &str, cn: &str) -> Self {
        Self::with_dn(&[(DnType::OrganizationName, org), (DnType::CommonName, cn)])
    }

    /// A root CA with the given DN attributes, in order.
    pub fn with_dn(dn: &[(DnType, &str)]) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        let mut name = DistinguishedName::new();
        for (t, v) in dn {
            name.push(t.clone(), *v);
        }
        params.distinguished_name = name;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.not_before = now() - Duration::days(30);
        params.not_after = now() + Duration::days(3650);
        let key = KeyPair::generate().unwrap();
        let pem = params.self_signed(&key).unwrap().pem();
        Self { params, key, pem }
    }

    /// A CA with the same name but its own key: what an attacker would make.
    pub fn impostor(&self) -> Self {
        let params = self.params.clone();
        let key = KeyPair::generate().unwrap();
        let pem = params.self_signed(&key).unwrap().pem();
        Self { params, key, pem }
    }

    /// The CA certificate as PEM.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    fn issuer(&self) -> Issuer<'_, &KeyPair> {
        Issuer::from_params(&self.params, &self.key)
    }

    /// Starts a client certificate signed by this CA.
    pub fn leaf(&self, serial: &[u8]) -> Leaf<'_> {
        Leaf {
            ca: self,
            serial: serial.to_vec(),
            dn: vec![(DnType::CommonName, "device-1".to_owned())],
            dns: Vec::new(),
            uris: Vec::new(),
            eku: Some(vec![ExtendedKeyUsagePurpose::ClientAuth]),
            not_before: now() - Duration::days(1),
            not_after: now() + Duration::days(365),
            is_ca: false,
        }
    }

    /// Starts a CRL signed by this CA.
    pub fn crl(&self) -> Crl<'_> {
        Crl {
            ca: self,
            number: vec![1],
            this_update: now() - Duration::minutes(5),
            next_update: now() + Duration::days(1),
            revoked: Vec::new(),
            scope: None,
        }
    }
}

/// A client certificate being built.
pub struct Leaf<'a> {
    ca: &'a Ca,
    serial: Vec<u8>,
    dn: Vec<(DnType, String)>,
    dns: Vec<String>,
    uris: Vec<String>,
    eku: Option<Vec<ExtendedKeyUsagePurpose>>,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    is_ca: bool,
}

impl Leaf<'_> {
    /// Makes it a CA certificate instead (basicConstraints cA = true).
    pub fn ca(mut self) -> Self {
        self.is_ca = true;
        self
    }
    /// Replaces the subject DN.
    pub fn subject(mut self, dn: &[(DnType, &str)]) -> Self {
        self.dn = dn
            .iter()
            .map(|(t, v)| (t.clone(), (*v).to_owned()))
            .collect();
        self
    }
    /// Adds a DNS subjectAltName.
    pub fn dns(mut self, name: &str) -> Self {
        self.dns.push(name.to_owned());
        self
    }
    /// Adds a URI subjectAltName.
    pub fn uri(mut self, uri: &str) -> Self {
        self.uris.push(uri.to_owned());
        self
    }
    /// Sets the EKU extension (`None`: no extension at all).
    pub fn eku(mut self, eku: Option<Vec<ExtendedKeyUsagePurpose>>) -> Self {
        self.eku = eku;
        self
    }
    /// Sets the validity period.
    pub fn validity(mut self, not_before: OffsetDateTime, not_after: OffsetDateTime) -> Self {
        self.not_before = not_before;
        self.not_after = not_after;
        self
    }
    /// Signs it; returns the PEM.
    pub fn pem(self) -> String {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        let mut name = DistinguishedName::new();
        for (t, v) in &self.dn {
            name.push(t.clone(), v.as_str());
        }
        params.distinguished_name = name;
        params.serial_number = Some(SerialNumber::from_slice(&self.serial));
        params.not_before = self.not_before;
        params.not_after = self.not_after;
        if self.is_ca {
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params.key_usages = vec![
                KeyUsagePurpose::KeyCertSign,
                KeyUsagePurpose::DigitalSignature,
            ];
        } else {
            params.is_ca = IsCa::ExplicitNoCa;
            params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        }
        params.extended_key_usages = self.eku.unwrap_or_default();
        params.subject_alt_names = self
            .dns
            .iter()
            .map(|d| SanType::DnsName(d.as_str().try_into().unwrap()))
            .chain(
                self.uris
                    .iter()
                    .map(|u| SanType::URI(u.as_str().try_into().unwrap())),
            )
            .collect();
        let key = KeyPair::generate().unwrap();
        params.signed_by(&key, &self.ca.issuer()).unwrap().pem()
    }
}

/// A CRL being built.
pub struct Crl<'a> {
    ca: &'a Ca,
    number: Vec<u8>,
    this_update: OffsetDateTime,
    next_update: OffsetDateTime,
    revoked: Vec<Vec<u8>>,
    scope: Option<CrlScope>,
}

impl Crl<'_> {
    /// Sets the CRL number.
    pub fn number(mut self, n: u64) -> Self {
        self.number = n.to_be_bytes().to_vec();
        self
    }
    /// Sets thisUpdate and nextUpdate.
    pub fn times(mut self, this_update: OffsetDateTime, next_update: OffsetDateTime) -> Self {
        self.this_update = this_update;
        self.next_update = next_update;
        self
    }
    /// Lists a serial as revoked (key compromise).
    pub fn revoke(mut self, serial: &[u8]) -> Self {
        self.revoked.push(serial.to_vec());
        self
    }
    /// Marks the CRL as covering only CA certificates (issuingDistributionPoint).
    pub fn ca_certs_only(mut self) -> Self {
        self.scope = Some(CrlScope::CaCertsOnly);
        self
    }
    fn params(&self) -> CertificateRevocationListParams {
        CertificateRevocationListParams {
            this_update: self.this_update,
            next_update: self.next_update,
            crl_number: SerialNumber::from_slice(&self.number),
            issuing_distribution_point: self.scope.map(|scope| CrlIssuingDistributionPoint {
                distribution_point: CrlDistributionPoint {
                    uris: vec!["http://crl.example.test/ca.crl".to_owned()],
                },
                scope: Some(scope),
            }),
            revoked_certs: self
                .revoked
                .iter()
                .map(|s| RevokedCertParams {
                    serial_number: SerialNumber::from_slice(s),
                    revocation_time: self.this_update - Duration::minutes(1),
                    reason_code: Some(RevocationReason::KeyCompromise),
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        }
    }
    /// Signs it with its CA; returns DER.
    pub fn der(&self) -> Vec<u8> {
        self.params()
            .signed_by(&self.ca.issuer())
            .unwrap()
            .der()
            .to_vec()
    }
    /// Signs it with its CA; returns PEM.
    pub fn pem(&self) -> String {
        self.params()
            .signed_by(&self.ca.issuer())
            .unwrap()
            .pem()
            .unwrap()
    }
    /// Signs it with another CA's key (same issuer name only if `other` is an impostor).
    pub fn der_signed_by(&self, other: &Ca) -> Vec<u8> {
        self.params()
            .signed_by(&other.issuer())
            .unwrap()
            .der()
            .to_vec()
    }
}

/// A 20-octet serial with the high bit set, ending in `last`.
pub fn serial20(last: u8) -> Vec<u8> {
    let mut s = vec![0x80u8];
    s.extend_from_slice(&[0x5a; 18]);
    s.push(last);
    s
}
