//! A throwaway PKI made with rcgen: CAs, client certificates and CRLs with
//! real signatures, chosen serials and chosen times.
//!
//! Why one module: it is test support, one builder per kind of object
//! (CA, leaf, CRL, raw CRL entries), each with the knobs the scenarios need;
//! splitting them would scatter one small API.

use base64::Engine as _;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CrlDistributionPoint,
    CrlIssuingDistributionPoint, CrlScope, CustomExtension, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, RevocationReason,
    RevokedCertParams, RsaKeySize, SanType, SerialNumber, SignatureAlgorithm,
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

    /// A root CA named `O=<org>, CN=<cn>` whose key and signatures use
    /// `alg` (`rcgen::PKCS_ECDSA_P384_SHA384`, `rcgen::PKCS_RSA_SHA512`, …).
    pub fn with_algorithm(org: &str, cn: &str, alg: &'static SignatureAlgorithm) -> Self {
        let mut ca = Self::new(org, cn);
        ca.key = key_for(alg);
        ca.pem = ca.params.self_signed(&ca.key).unwrap().pem();
        ca
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
        self.next_key()
    }

    /// The same CA name with a new key of the same kind: a key rollover when
    /// the truststore holds both CA certificates (Active Directory Certificate
    /// Services publishes one CRL per key), an impostor when it holds only the
    /// original.
    pub fn next_key(&self) -> Self {
        let params = self.params.clone();
        let key = key_for(self.key.algorithm());
        let pem = params.self_signed(&key).unwrap().pem();
        Self { params, key, pem }
    }

    /// A CA named `O=<org>, CN=<cn>` with serial `serial`, signed by this
    /// one: an issuing CA under a root, or a level deeper.
    pub fn subordinate(&self, org: &str, cn: &str, serial: &[u8]) -> Self {
        self.subordinate_with_cdp(org, cn, serial, &[])
    }

    /// [`Ca::subordinate`], with cRLDistributionPoints URIs (where the
    /// parent publishes the CRL that covers it).
    pub fn subordinate_with_cdp(&self, org: &str, cn: &str, serial: &[u8], cdps: &[&str]) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        let mut name = DistinguishedName::new();
        name.push(DnType::OrganizationName, org);
        name.push(DnType::CommonName, cn);
        params.distinguished_name = name;
        params.serial_number = Some(SerialNumber::from_slice(serial));
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.not_before = now() - Duration::days(30);
        params.not_after = now() + Duration::days(1825);
        params.crl_distribution_points = cdps
            .iter()
            .map(|u| CrlDistributionPoint {
                uris: vec![(*u).to_owned()],
            })
            .collect();
        let key = KeyPair::generate().unwrap();
        let pem = params.signed_by(&key, &self.issuer()).unwrap().pem();
        Self { params, key, pem }
    }

    /// A certificate for this CA (same name, same key) signed by `by`, with
    /// serial `serial`: a cross-certificate, a second path to another root.
    pub fn cross_certified_by(&self, by: &Ca, serial: &[u8]) -> String {
        let mut params = self.params.clone();
        params.serial_number = Some(SerialNumber::from_slice(serial));
        params.signed_by(&self.key, &by.issuer()).unwrap().pem()
    }

    /// The DER of the CA key's SubjectPublicKeyInfo (the deny list names a
    /// CA by its SHA-256).
    pub fn spki_der(&self) -> Vec<u8> {
        rcgen::PublicKeyData::subject_public_key_info(&self.key)
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
            cdps: Vec::new(),
            extensions: Vec::new(),
            authority_key_id: false,
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
            partition: Vec::new(),
            authority_key_id: None,
        }
    }
}

/// A new key for `alg`: RSA 2048 for the RSA algorithms, else the curve's.
fn key_for(alg: &'static SignatureAlgorithm) -> KeyPair {
    if [
        &rcgen::PKCS_RSA_SHA256,
        &rcgen::PKCS_RSA_SHA384,
        &rcgen::PKCS_RSA_SHA512,
    ]
    .contains(&alg)
    {
        KeyPair::generate_rsa_for(alg, RsaKeySize::_2048).unwrap()
    } else {
        KeyPair::generate_for(alg).unwrap()
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
    cdps: Vec<String>,
    extensions: Vec<CustomExtension>,
    authority_key_id: bool,
}

impl Leaf<'_> {
    /// Writes an authorityKeyIdentifier derived from the CA's key, as the
    /// CA's CRLs carry.
    pub fn with_authority_key_id(mut self) -> Self {
        self.authority_key_id = true;
        self
    }
    /// Adds a cRLDistributionPoints URI (one distribution point each).
    pub fn cdp(mut self, uri: &str) -> Self {
        self.cdps.push(uri.to_owned());
        self
    }
    /// Adds an extension: `oid` as arcs, `value` the DER inside extnValue.
    pub fn extension(mut self, oid: &[u64], critical: bool, value: Vec<u8>) -> Self {
        let mut ext = CustomExtension::from_oid_content(oid, value);
        ext.set_criticality(critical);
        self.extensions.push(ext);
        self
    }
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
    /// Signs it; returns the certificate and its private key (PKCS #8), as PEM:
    /// what a TLS client presents.
    pub fn pem_with_key(self) -> (String, String) {
        let ca = self.ca;
        let params = self.params();
        let key = KeyPair::generate().unwrap();
        let pem = params.signed_by(&key, &ca.issuer()).unwrap().pem();
        (pem, key.serialize_pem())
    }

    /// Signs it; returns the PEM.
    pub fn pem(self) -> String {
        let ca = self.ca;
        let params = self.params();
        let key = KeyPair::generate().unwrap();
        params.signed_by(&key, &ca.issuer()).unwrap().pem()
    }

    /// Signs it with its serialNumber INTEGER's content octets set to
    /// `content` exactly (empty, or negative: encodings rcgen never writes);
    /// returns the PEM.
    pub fn pem_with_serial_content(self, content: &[u8]) -> String {
        let ca = self.ca;
        let key = KeyPair::generate().unwrap();
        let der = self
            .params()
            .signed_by(&key, &ca.issuer())
            .unwrap()
            .der()
            .to_vec();
        let [(0x30, tbs), (0x30, algorithm), _] = der_elements(&der)[..] else {
            panic!("unexpected certificate envelope from rcgen");
        };
        let mut fields = elements(tbs);
        assert_eq!(fields[1].0, 0x02, "serialNumber follows the version");
        fields[1] = (0x02, content);
        let tbs: Vec<u8> = fields.iter().flat_map(|(t, c)| tlv(*t, c)).collect();
        let tbs = tlv(0x30, &tbs);
        let signature = rcgen::SigningKey::sign(&ca.key, &tbs).unwrap();
        let mut bits = vec![0u8];
        bits.extend(signature);
        let der = tlv(
            0x30,
            &[tbs, tlv(0x30, algorithm), tlv(0x03, &bits)].concat(),
        );
        pem_block("CERTIFICATE", &der)
    }

    fn params(self) -> CertificateParams {
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
        params.crl_distribution_points = self
            .cdps
            .iter()
            .map(|u| CrlDistributionPoint {
                uris: vec![u.clone()],
            })
            .collect();
        params.custom_extensions = self.extensions;
        params.use_authority_key_identifier_extension = self.authority_key_id;
        params
    }
}

/// A PEM block of `der` under `label`.
pub fn pem_block(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// A CRL being built.
pub struct Crl<'a> {
    ca: &'a Ca,
    number: Vec<u8>,
    this_update: OffsetDateTime,
    next_update: OffsetDateTime,
    revoked: Vec<Vec<u8>>,
    scope: Option<CrlScope>,
    partition: Vec<String>,
    authority_key_id: Option<Vec<u8>>,
}

impl Crl<'_> {
    /// Writes this authorityKeyIdentifier instead of the one derived from
    /// the CA's key.
    pub fn authority_key_id(mut self, id: &[u8]) -> Self {
        self.authority_key_id = Some(id.to_vec());
        self
    }
    /// Makes it a partition (a critical issuingDistributionPoint naming
    /// `uris`), as AWS Private CA's partitioned CRLs are: it covers only the
    /// certificates whose cRLDistributionPoints name one of them.
    pub fn partition(mut self, uris: &[&str]) -> Self {
        self.partition = uris.iter().map(|u| (*u).to_owned()).collect();
        self
    }
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
    /// Lists many serials as revoked (key compromise).
    pub fn revoke_all(mut self, serials: impl IntoIterator<Item = Vec<u8>>) -> Self {
        self.revoked.extend(serials);
        self
    }
    /// Marks the CRL as covering only CA certificates (issuingDistributionPoint).
    pub fn ca_certs_only(mut self) -> Self {
        self.scope = Some(CrlScope::CaCertsOnly);
        self
    }
    /// Scopes it to end-entity certificates (IDP onlyContainsUserCerts).
    pub fn user_certs_only(mut self) -> Self {
        self.scope = Some(CrlScope::UserCertsOnly);
        self
    }
    fn params(&self) -> CertificateRevocationListParams {
        CertificateRevocationListParams {
            this_update: self.this_update,
            next_update: self.next_update,
            crl_number: SerialNumber::from_slice(&self.number),
            issuing_distribution_point: match (self.scope, self.partition.is_empty()) {
                (Some(scope), _) => Some(CrlIssuingDistributionPoint {
                    distribution_point: CrlDistributionPoint {
                        uris: vec!["http://crl.example.test/ca.crl".to_owned()],
                    },
                    scope: Some(scope),
                }),
                (None, false) => Some(CrlIssuingDistributionPoint {
                    distribution_point: CrlDistributionPoint {
                        uris: self.partition.clone(),
                    },
                    scope: None,
                }),
                (None, true) => None,
            },
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
            key_identifier_method: self
                .authority_key_id
                .clone()
                .map_or(KeyIdMethod::Sha256, KeyIdMethod::PreSpecified),
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
    /// Signs, with this CA's key, a CRL whose `revokedCertificates` are exactly
    /// `entries` (each a whole DER entry, see [`raw_entry`]), for encodings
    /// rcgen does not produce: other entry extensions, over-long serials. The
    /// other fields come from rcgen's CRL for the same parameters.
    pub fn der_with_raw_entries(&self, entries: &[Vec<u8>]) -> Vec<u8> {
        self.der_with(Some(entries), &[])
    }
    /// Signs, with this CA's key, this CRL with `extra` (whole `Extension`s,
    /// see [`raw_extension`]) appended to its crlExtensions.
    pub fn der_with_extra_extensions(&self, extra: &[Vec<u8>]) -> Vec<u8> {
        self.der_with(None, extra)
    }
    /// A delta CRL (RFC 5280 §5.2.4) on base CRL number `base`, with this
    /// CRL's number, times and issuer, whose entries are exactly `entries`
    /// (see [`raw_entry`], [`reason_code`]; reason 8 is `removeFromCRL`).
    pub fn delta_der(&self, base: u64, entries: &[Vec<u8>]) -> Vec<u8> {
        self.der_with(Some(entries), &[delta_crl_indicator(base)])
    }
    /// Signs, with this CA's key, this CRL with its `revokedCertificates`
    /// replaced by `entries` (when given) and `extra` appended to its
    /// crlExtensions.
    pub fn der_with(&self, entries: Option<&[Vec<u8>]>, extra: &[Vec<u8>]) -> Vec<u8> {
        let mut params = self.params();
        if entries.is_some() {
            params.revoked_certs.clear();
        }
        let base = params.signed_by(&self.ca.issuer()).unwrap().der().to_vec();
        let [(0x30, tbs), (0x30, algorithm), _] = der_elements(&base)[..] else {
            panic!("unexpected CRL envelope from rcgen");
        };
        // version, signature, issuer, thisUpdate, nextUpdate, then the
        // revoked list (absent when empty) and/or [0] extensions.
        let fields = elements(tbs);
        let mut content = Vec::new();
        for (tag, field) in &fields[..5] {
            content.extend(tlv(*tag, field));
        }
        let mut rest = &fields[5..];
        match (entries, rest.first()) {
            (Some(list), Some((0x30, _))) => {
                content.extend(tlv(0x30, &list.concat()));
                rest = &rest[1..];
            }
            (Some(list), _) => content.extend(tlv(0x30, &list.concat())),
            (None, Some((0x30, list))) => {
                content.extend(tlv(0x30, list));
                rest = &rest[1..];
            }
            (None, _) => {}
        }
        for (tag, field) in rest {
            if *tag == 0xa0 {
                let [(0x30, exts)] = elements(field)[..] else {
                    panic!("crlExtensions is one SEQUENCE");
                };
                let all = [exts.to_vec(), extra.concat()].concat();
                content.extend(tlv(0xa0, &tlv(0x30, &all)));
            } else {
                content.extend(tlv(*tag, field));
            }
        }
        let tbs = tlv(0x30, &content);
        let signature = rcgen::SigningKey::sign(&self.ca.key, &tbs).unwrap();
        let mut bits = vec![0u8];
        bits.extend(signature);
        tlv(
            0x30,
            &[tbs, tlv(0x30, algorithm), tlv(0x03, &bits)].concat(),
        )
    }

    /// What a hostile CRL source can serve without the CA's key: this CRL's
    /// issuer, times and algorithm, then `count` tiny crlExtensions (9 octets
    /// each, so 7,000,000 make 63 MB), and a signature of zeros.
    pub fn unsigned_with_extensions(&self, count: usize) -> Vec<u8> {
        let one = tlv(
            0x30,
            &[tlv(0x06, &[0x2a, 0x03, 0x04]), tlv(0x04, &[])].concat(),
        );
        let mut exts = Vec::with_capacity(one.len() * count);
        for _ in 0..count {
            exts.extend_from_slice(&one);
        }
        self.unsigned(None, Some(tlv(0xa0, &tlv(0x30, &exts))))
    }

    /// What a hostile CRL source can serve without the CA's key: a CRL whose
    /// issuer name is one commonName of `size` control characters.
    pub fn unsigned_with_issuer_of(&self, size: usize) -> Vec<u8> {
        let value: Vec<u8> = (0..size).map(|i| 1 + (i % 31) as u8).collect();
        let atv = tlv(
            0x30,
            &[tlv(0x06, &[0x55, 0x04, 0x03]), tlv(0x0c, &value)].concat(),
        );
        let name = tlv(0x30, &tlv(0x31, &atv));
        self.unsigned(Some(name), None)
    }

    /// This CRL's fields with the issuer and the extensions replaced, in an
    /// envelope with a signature of zeros.
    fn unsigned(&self, issuer: Option<Vec<u8>>, extensions: Option<Vec<u8>>) -> Vec<u8> {
        let base = self.der();
        let [(0x30, tbs), (0x30, algorithm), _] = der_elements(&base)[..] else {
            panic!("unexpected CRL envelope from rcgen");
        };
        let fields = elements(tbs);
        let mut content = Vec::new();
        for (i, (tag, field)) in fields.iter().enumerate().take(5) {
            match (i, &issuer) {
                (2, Some(name)) => content.extend_from_slice(name),
                _ => content.extend(tlv(*tag, field)),
            }
        }
        if let Some(exts) = extensions {
            content.extend(exts);
        }
        let tbs = tlv(0x30, &content);
        tlv(
            0x30,
            &[tbs, tlv(0x30, algorithm), tlv(0x03, &[0u8; 72])].concat(),
        )
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

/// `n` distinct pseudo-random 20-octet serials, in random order, the way CAs
/// following the CA/Browser Forum's entropy rule issue them. Deterministic in
/// `seed`, so a test can name members and non-members.
pub fn random_serials(n: usize, seed: u64) -> Vec<Vec<u8>> {
    // SplitMix64: tiny, fast and well distributed; not for cryptography.
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut seen = std::collections::HashSet::with_capacity(n);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let mut s = Vec::with_capacity(20);
        s.extend_from_slice(&next().to_be_bytes());
        s.extend_from_slice(&next().to_be_bytes());
        s.extend_from_slice(&next().to_be_bytes()[..4]);
        // No leading zero octet, so every serial keeps all 20 octets.
        s[0] |= 0x01;
        if seen.insert(s.clone()) {
            out.push(s);
        }
    }
    out
}

/// A DER tag-length-value.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// The elements of a DER SEQUENCE, as (tag, content).
fn der_elements(der: &[u8]) -> Vec<(u8, &[u8])> {
    let (tag, content, rest) = split_tlv(der);
    assert!(tag == 0x30 && rest.is_empty());
    elements(content)
}

/// The elements of some DER content, as (tag, content).
fn elements(content: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    let mut rest = content;
    while !rest.is_empty() {
        let (tag, content, after) = split_tlv(rest);
        out.push((tag, content));
        rest = after;
    }
    out
}

/// The same certificate with its ECDSA P-256 signature (r, s) replaced by
/// (r, n − s): the same signed part, as valid, with another fingerprint. What
/// whoever holds a signed certificate can make without any key. Written
/// apart from the authorizer's own `ecdsa_twin`, which tests check it against.
pub fn ecdsa_p256_twin(der: &[u8]) -> Vec<u8> {
    const N: [u8; 32] = [
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63,
        0x25, 0x51,
    ];
    let raw = |whole: &'_ [u8], rest: &[u8]| whole[..whole.len() - rest.len()].to_vec();
    let (_, outer, _) = split_tlv(der);
    let (_, _, after_tbs) = split_tlv(outer);
    let tbs = raw(outer, after_tbs);
    let (_, _, after_alg) = split_tlv(after_tbs);
    let alg = raw(after_tbs, after_alg);
    let (tag, bits, _) = split_tlv(after_alg);
    assert_eq!(
        (tag, bits[0]),
        (0x03, 0),
        "a BIT STRING with no unused bits"
    );
    let (_, sig, _) = split_tlv(&bits[1..]);
    let (_, _, after_r) = split_tlv(sig);
    let r = raw(sig, after_r);
    let (_, s, _) = split_tlv(after_r);
    let s: Vec<u8> = s.iter().copied().skip_while(|b| *b == 0).collect();
    let mut padded = [0u8; 32];
    padded[32 - s.len()..].copy_from_slice(&s);
    // n - s, big-endian.
    let mut twin = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut d = i16::from(N[i]) - i16::from(padded[i]) - borrow;
        borrow = i16::from(d < 0);
        if d < 0 {
            d += 256;
        }
        twin[i] = u8::try_from(d).unwrap();
    }
    let start = twin.iter().position(|b| *b != 0).unwrap_or(31);
    let mut s_content = Vec::new();
    if twin[start] & 0x80 != 0 {
        s_content.push(0);
    }
    s_content.extend_from_slice(&twin[start..]);
    let mut new_bits = vec![0u8];
    new_bits.extend(tlv(0x30, &[r, tlv(0x02, &s_content)].concat()));
    tlv(0x30, &[tbs, alg, tlv(0x03, &new_bits)].concat())
}

fn split_tlv(der: &[u8]) -> (u8, &[u8], &[u8]) {
    let tag = der[0];
    let (len, header) = if der[1] < 0x80 {
        (usize::from(der[1]), 2)
    } else {
        let n = usize::from(der[1] & 0x7f);
        let len = der[2..2 + n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, 2 + n)
    };
    (tag, &der[header..header + len], &der[header + len..])
}

/// One `revokedCertificates` entry: `serial` (magnitude bytes; a `00` is
/// prefixed when the high bit is set, as DER requires), a fixed
/// revocationDate, and `extensions` (each from [`raw_extension`]), if any.
pub fn raw_entry(serial: &[u8], extensions: &[Vec<u8>]) -> Vec<u8> {
    let mut integer = Vec::new();
    if serial.first().is_some_and(|b| b & 0x80 != 0) {
        integer.push(0);
    }
    integer.extend_from_slice(serial);
    let mut content = tlv(0x02, &integer);
    content.extend(tlv(0x17, b"260101000000Z"));
    if !extensions.is_empty() {
        content.extend(tlv(0x30, &extensions.concat()));
    }
    tlv(0x30, &content)
}

/// One `Extension`: `oid` as DER content octets (`55 1d 15` is 2.5.29.21),
/// the critical flag, and the DER of the value that extnValue wraps.
pub fn raw_extension(oid: &[u8], critical: bool, value: &[u8]) -> Vec<u8> {
    let mut content = tlv(0x06, oid);
    if critical {
        content.extend(tlv(0x01, &[0xff]));
    }
    content.extend(tlv(0x04, value));
    tlv(0x30, &content)
}

/// The reasonCode entry extension (RFC 5280 §5.3.1) with `reason`.
pub fn reason_code(reason: u8) -> Vec<u8> {
    raw_extension(&[0x55, 0x1d, 0x15], false, &tlv(0x0a, &[reason]))
}

/// The DeltaCRLIndicator CRL extension (RFC 5280 §5.2.4), critical, on base
/// CRL number `base`.
pub fn delta_crl_indicator(base: u64) -> Vec<u8> {
    raw_extension(&[0x55, 0x1d, 0x1b], true, &tlv(0x02, &integer_bytes(base)))
}

/// The Freshest CRL extension (RFC 5280 §5.2.6) naming delta CRL `uris`,
/// one distribution point each.
pub fn freshest_crl(uris: &[&str]) -> Vec<u8> {
    let points: Vec<u8> = uris
        .iter()
        .flat_map(|u| {
            let names = tlv(0xa0, &tlv(0x86, u.as_bytes()));
            tlv(0x30, &tlv(0xa0, &names))
        })
        .collect();
    raw_extension(&[0x55, 0x1d, 0x2e], false, &tlv(0x30, &points))
}

/// The minimal DER INTEGER content of `n`.
fn integer_bytes(n: u64) -> Vec<u8> {
    let bytes = n.to_be_bytes();
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(7);
    let mut out = bytes[first..].to_vec();
    if out[0] & 0x80 != 0 {
        out.insert(0, 0);
    }
    out
}
