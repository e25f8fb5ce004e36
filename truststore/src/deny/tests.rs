//! Unit tests of the `deny` module, with CAs, certificates and CRLs made
//! here by rcgen.

use mtls_policy::denylist::{Document, Entry, Reason, Target};
use mtls_x509::TrustStore;
use mtls_x509::serial::Serial;
use mtls_x509::time::UnixTime;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DistinguishedName,
    DnType, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, RevocationReason,
    RevokedCertParams, SerialNumber,
};
use time::{Duration, OffsetDateTime};

use super::*;

const LEAF_SERIAL: [u8; 3] = [0x4f, 0x1a, 0x99];

struct Ca {
    params: CertificateParams,
    key: KeyPair,
    pem: String,
}

impl Ca {
    fn new(cn: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "Deny Tests");
        dn.push(DnType::CommonName, cn);
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.key_identifier_method = KeyIdMethod::Sha256;
        params.not_before = OffsetDateTime::now_utc() - Duration::days(1);
        params.not_after = OffsetDateTime::now_utc() + Duration::days(365);
        let key = KeyPair::generate().unwrap();
        let pem = params.self_signed(&key).unwrap().pem();
        Self { params, key, pem }
    }

    fn issuer(&self) -> Issuer<'_, &KeyPair> {
        Issuer::from_params(&self.params, &self.key)
    }

    fn certs(&self) -> Vec<BundleCert> {
        read_certificates("ca.pem", self.pem.as_bytes()).unwrap()
    }

    fn key_id(&self) -> mtls_x509::signed::KeyId {
        self.certs()[0].public_key.as_ref().unwrap().id()
    }

    /// A client certificate with [`LEAF_SERIAL`], valid for `days`.
    fn leaf(&self, days: i64) -> BundleCert {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "device-1");
        params.serial_number = Some(SerialNumber::from_slice(&LEAF_SERIAL));
        params.not_before = OffsetDateTime::now_utc() - Duration::days(1);
        params.not_after = OffsetDateTime::now_utc() + Duration::days(days);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer()).unwrap();
        read_certificates("device.pem", cert.pem().as_bytes())
            .unwrap()
            .remove(0)
    }

    /// A CRL listing `serials` with `reason`, valid for `hours`, as DER.
    fn crl(&self, serials: &[&[u8]], reason: RevocationReason, hours: i64) -> Vec<u8> {
        let now = OffsetDateTime::now_utc();
        CertificateRevocationListParams {
            this_update: now - Duration::minutes(1),
            next_update: now + Duration::hours(hours),
            crl_number: SerialNumber::from_slice(&[1]),
            issuing_distribution_point: None,
            revoked_certs: serials
                .iter()
                .map(|s| RevokedCertParams {
                    serial_number: SerialNumber::from_slice(s),
                    revocation_time: now - Duration::minutes(5),
                    reason_code: Some(reason),
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        }
        .signed_by(&self.issuer())
        .unwrap()
        .der()
        .to_vec()
    }
}

fn serial_entry(ca: &Ca) -> Entry {
    Entry::new(Target::IssuerSerial {
        issuer_key: ca.key_id(),
        serial: Serial::from_integer_bytes(&LEAF_SERIAL),
    })
}

fn now() -> UnixTime {
    UnixTime::now()
}

#[test]
fn fingerprint_is_read_from_openssl_output_with_colons_in_either_case() {
    let hex = "ab".repeat(32);
    let colons: Vec<String> = (0..32).map(|_| "AB".to_owned()).collect();
    let openssl = format!("sha256 Fingerprint={}", colons.join(":"));
    for text in [
        hex.as_str(),
        &colons.join(":"),
        &openssl,
        &format!(" {hex}\n"),
    ] {
        assert_eq!(parse_fingerprint(text).unwrap(), [0xab; 32], "{text}");
    }
}

#[test]
fn fingerprint_of_the_wrong_length_or_not_hex_is_refused() {
    for text in [
        "ab".repeat(31),
        "ab".repeat(33),
        "zz".repeat(32),
        String::new(),
    ] {
        let err = parse_fingerprint(&text).unwrap_err();
        assert!(err.to_string().contains("64 hex digits"), "{err}");
    }
}

#[test]
fn serial_is_normalized_from_any_usual_spelling() {
    let want = Serial::from_integer_bytes(&[0x80, 0x01]);
    for text in ["8001", "80:01", "00:80:01", "0x8001", "0X80:01"] {
        assert_eq!(parse_serial(text).unwrap(), want, "{text}");
    }
    for bad in ["", "xyz", ":", &"1".repeat(65), "80 01"] {
        assert!(matches!(parse_serial(bad), Err(Error::Usage(_))), "{bad}");
    }
}

#[test]
fn reason_names_are_rfc5280_and_a_wrong_one_lists_them() {
    assert_eq!(
        parse_reason("keyCompromise").unwrap(),
        Reason::KeyCompromise
    );
    let err = parse_reason("key-compromise").unwrap_err().to_string();
    assert!(
        err.contains("cACompromise") && err.contains("privilegeWithdrawn"),
        "{err}"
    );
}

#[test]
fn certificate_with_its_issuer_names_the_ca_key_and_serial_and_its_not_after() {
    let ca = Ca::new("Issuing CA");
    let leaf = ca.leaf(30);
    let named = by_certificate(&leaf, Some(("ca.pem", &ca.certs()))).unwrap();
    assert_eq!(named.target, serial_entry(&ca).target);
    assert_eq!(
        named.also,
        vec![Target::Fingerprint(fingerprint_of(&leaf).unwrap())],
        "remove also takes a fingerprint entry of the same certificate"
    );
    assert_eq!(
        named.not_after,
        Some(UnixTime(leaf.not_after.unix_timestamp()))
    );
}

#[test]
fn certificate_without_issuer_names_its_fingerprint() {
    let ca = Ca::new("Issuing CA");
    let leaf = ca.leaf(30);
    let named = by_certificate(&leaf, None).unwrap();
    let fp = mtls_x509::signed::sha256(&leaf.der);
    assert_eq!(named.target, Target::Fingerprint(fp));
    assert!(named.also.is_empty());
    assert!(named.not_after.is_some());
}

#[test]
fn issuer_file_holding_the_whole_truststore_finds_the_issuing_ca() {
    let other = Ca::new("Other CA");
    let ca = Ca::new("Issuing CA");
    let bundle = format!("{}{}", other.pem, ca.pem);
    let cas = read_certificates("truststore.pem", bundle.as_bytes()).unwrap();
    let named = by_certificate(&ca.leaf(30), Some(("truststore.pem", &cas))).unwrap();
    assert_eq!(named.target, serial_entry(&ca).target);
}

#[test]
fn issuer_with_another_name_is_refused() {
    let ca = Ca::new("Issuing CA");
    let other = Ca::new("Other CA");
    let err = by_certificate(&ca.leaf(30), Some(("other.pem", &other.certs()))).unwrap_err();
    assert!(
        matches!(&err, Error::Certificate { file, message } if file == "other.pem" && message.contains("no certificate here is named")),
        "{err}"
    );
}

#[test]
fn issuer_with_the_same_name_and_another_key_is_refused() {
    let ca = Ca::new("Issuing CA");
    let impostor = Ca::new("Issuing CA");
    let err = by_certificate(&ca.leaf(30), Some(("new.pem", &impostor.certs()))).unwrap_err();
    assert!(err.to_string().contains("does not verify"), "{err}");
}

#[test]
fn serial_with_its_issuer_needs_exactly_one_ca_certificate() {
    let ca = Ca::new("Issuing CA");
    let named = by_serial("4f:1a:99", "ca.pem", &ca.certs()).unwrap();
    assert_eq!(named.target, serial_entry(&ca).target);
    assert_eq!(named.not_after, None);

    let two = [ca.certs(), Ca::new("Other CA").certs()].concat();
    let err = by_serial("4f1a99", "both.pem", &two).unwrap_err();
    assert!(err.to_string().contains("holds 2 certificates"), "{err}");
    let leaf = [ca.leaf(30)];
    let err = by_serial("4f1a99", "device.pem", &leaf).unwrap_err();
    assert!(err.to_string().contains("not a CA certificate"), "{err}");
}

#[test]
fn a_file_without_a_certificate_is_refused_by_name() {
    let err = read_certificates(
        "empty.pem",
        b"-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n",
    )
    .unwrap_err();
    assert!(err.to_string().starts_with("empty.pem: "), "{err}");
    assert!(read_certificates("junk.der", b"\x30\x03junk").is_err());
}

#[test]
fn new_entry_takes_the_certificates_not_after_unless_the_operator_gives_one() {
    let ca = Ca::new("Issuing CA");
    let named = by_certificate(&ca.leaf(30), None).unwrap();
    let mut opts = EntryOptions {
        reason: Reason::Superseded,
        note: Some("ticket 42".into()),
        not_after: None,
    };
    let e = new_entry(&named, &opts, UnixTime(1000)).unwrap();
    assert_eq!(
        (e.not_after, e.added, e.reason, e.note.as_deref()),
        (
            named.not_after,
            Some(UnixTime(1000)),
            Some(Reason::Superseded),
            Some("ticket 42")
        )
    );
    opts.not_after = Some(UnixTime(5));
    assert_eq!(
        new_entry(&named, &opts, UnixTime(1000)).unwrap().not_after,
        Some(UnixTime(5))
    );
    opts.note = Some("two\nlines".into());
    assert!(matches!(
        new_entry(&named, &opts, UnixTime(1000)),
        Err(Error::Usage(_))
    ));
}

#[test]
fn adding_a_listed_target_changes_nothing() {
    let mut doc = Document::empty();
    let e = Entry::new(Target::Fingerprint([1; 32]));
    assert!(add(&mut doc, e.clone()));
    let mut again = e.clone();
    again.note = Some("second try".into());
    assert!(!add(&mut doc, again));
    assert_eq!(doc.entries, vec![e]);
}

#[test]
fn remove_takes_every_entry_that_names_the_certificate_and_keeps_the_rest() {
    let ca = Ca::new("Issuing CA");
    let leaf = ca.leaf(30);
    let named = by_certificate(&leaf, Some(("ca.pem", &ca.certs()))).unwrap();
    let other = Entry::new(Target::Fingerprint([7; 32]));
    let mut doc = Document::empty();
    doc.entries = vec![
        Entry::new(Target::Fingerprint(fingerprint_of(&leaf).unwrap())),
        other.clone(),
        serial_entry(&ca),
    ];
    let gone = remove(&mut doc, &named.targets());
    assert_eq!(gone.len(), 2);
    assert_eq!(doc.entries, vec![other.clone()]);
    assert!(remove(&mut doc, &named.targets()).is_empty());
    assert_eq!(doc.entries, vec![other]);
}

fn evidence(truststore: &str, crl: &[u8]) -> CrlEvidence {
    let ts = TrustStore::from_pem(truststore.as_bytes()).unwrap();
    CrlEvidence::verify("file:///crl.der", crl, &ts, now()).unwrap()
}

#[test]
fn prune_drops_a_serial_that_a_current_crl_of_the_same_key_lists() {
    let ca = Ca::new("Issuing CA");
    let crl = ca.crl(&[&LEAF_SERIAL], RevocationReason::KeyCompromise, 24);
    let ev = evidence(&ca.pem, &crl);
    let keep = Entry::new(Target::IssuerSerial {
        issuer_key: ca.key_id(),
        serial: Serial::from_integer_bytes(&[0x01]),
    });
    let mut doc = Document::empty();
    doc.entries = vec![serial_entry(&ca), keep.clone()];
    let pruned = prune(&mut doc, &[ev], now());
    assert_eq!(pruned.len(), 1);
    assert_eq!(pruned[0].entry, serial_entry(&ca));
    assert!(
        matches!(&pruned[0].why, PruneReason::ListedByCrl { uri, scope, .. } if uri == "file:///crl.der" && scope == "complete"),
        "{:?}",
        pruned[0].why
    );
    assert_eq!(doc.entries, vec![keep]);
}

#[test]
fn prune_keeps_a_serial_listed_only_by_another_key_of_the_same_ca_name() {
    let ca = Ca::new("Issuing CA");
    let rolled = Ca::new("Issuing CA");
    let crl = rolled.crl(&[&LEAF_SERIAL], RevocationReason::KeyCompromise, 24);
    let ev = evidence(&format!("{}{}", ca.pem, rolled.pem), &crl);
    let mut doc = Document::empty();
    doc.entries = vec![serial_entry(&ca)];
    assert!(prune(&mut doc, &[ev], now()).is_empty());
    assert_eq!(doc.entries.len(), 1);
}

#[test]
fn prune_keeps_a_serial_the_crl_lists_on_hold() {
    let ca = Ca::new("Issuing CA");
    let crl = ca.crl(&[&LEAF_SERIAL], RevocationReason::CertificateHold, 24);
    let ev = evidence(&ca.pem, &crl);
    let mut doc = Document::empty();
    doc.entries = vec![serial_entry(&ca)];
    assert!(prune(&mut doc, &[ev], now()).is_empty());
}

#[test]
fn prune_keeps_a_serial_once_the_crl_is_past_its_next_update() {
    let ca = Ca::new("Issuing CA");
    let crl = ca.crl(&[&LEAF_SERIAL], RevocationReason::KeyCompromise, 1);
    let ev = evidence(&ca.pem, &crl);
    let mut doc = Document::empty();
    doc.entries = vec![serial_entry(&ca)];
    let later = now().offset(2 * 3600);
    assert!(prune(&mut doc, &[ev], later).is_empty());
}

#[test]
fn a_crl_past_its_next_update_or_from_an_unknown_ca_is_refused() {
    let ca = Ca::new("Issuing CA");
    let crl = ca.crl(&[&LEAF_SERIAL], RevocationReason::KeyCompromise, 1);
    let ts = TrustStore::from_pem(ca.pem.as_bytes()).unwrap();
    let err =
        CrlEvidence::verify("file:///crl.der", &crl, &ts, now().offset(2 * 3600)).unwrap_err();
    assert!(
        matches!(&err, Error::Crl { uri, .. } if uri == "file:///crl.der"),
        "{err}"
    );
    let other = TrustStore::from_pem(Ca::new("Other CA").pem.as_bytes()).unwrap();
    assert!(CrlEvidence::verify("file:///crl.der", &crl, &other, now()).is_err());
}

#[test]
fn fingerprint_entries_go_only_by_expiry_an_hour_after_not_after() {
    let ca = Ca::new("Issuing CA");
    let crl = ca.crl(&[&LEAF_SERIAL], RevocationReason::KeyCompromise, 24);
    let ev = evidence(&ca.pem, &crl);
    let t = now();
    let mut fresh = Entry::new(Target::Fingerprint([1; 32]));
    fresh.not_after = Some(t.offset(-EXPIRY_MARGIN_SECONDS + 60));
    let mut expired = Entry::new(Target::Fingerprint([2; 32]));
    expired.not_after = Some(t.offset(-EXPIRY_MARGIN_SECONDS - 60));
    let forever = Entry::new(Target::Fingerprint([3; 32]));
    let mut doc = Document::empty();
    doc.entries = vec![fresh.clone(), expired.clone(), forever.clone()];
    let pruned = prune(&mut doc, &[ev], t);
    assert_eq!(
        pruned,
        vec![Pruned {
            entry: expired.clone(),
            why: PruneReason::Expired {
                not_after: expired.not_after.unwrap()
            }
        }]
    );
    assert_eq!(doc.entries, vec![fresh, forever]);
}

#[test]
fn describe_quotes_and_escapes_the_note() {
    let mut e = Entry::new(Target::Fingerprint([0xab; 32]));
    e.reason = Some(Reason::KeyCompromise);
    e.note = Some("lost \"phone\"".into());
    let line = describe(&e);
    assert!(
        line.starts_with(&format!("fingerprint {}", "ab".repeat(32))),
        "{line}"
    );
    assert!(line.contains("reason keyCompromise"), "{line}");
    assert!(line.contains(r#"note "lost \"phone\"""#), "{line}");
}
