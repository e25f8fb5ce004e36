//! `truststore deny prune` never removes an entry the authorizer still needs:
//! a CRL that would not deny the device there (a partition that does not
//! cover it, another CA name sharing the key, a released hold) prunes nothing.

use mtls_policy::denylist::{Document, Entry, Target};
use mtls_tests::pki::{Ca, raw_entry, reason_code};
use mtls_x509::TrustStore;
use mtls_x509::serial::Serial;
use mtls_x509::signed::KeyId;
use mtls_x509::time::UnixTime;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DistinguishedName,
    DnType, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, RevocationReason,
    RevokedCertParams, SerialNumber,
};
use time::{Duration, OffsetDateTime};
use truststore::deny::{CrlEvidence, prune};

const SERIAL: [u8; 3] = [0x4f, 0x1a, 0x99];

fn doc_for(key: KeyId) -> Document {
    Document {
        sequence: 1,
        entries: vec![Entry::new(Target::IssuerSerial {
            issuer_key: key,
            serial: Serial::from_integer_bytes(&SERIAL),
        })],
    }
}

fn now() -> UnixTime {
    UnixTime(OffsetDateTime::now_utc().unix_timestamp())
}

/// removeFromCRL (8) says the serial is NOT revoked any more (a hold was
/// released). The verifier accepts it in a base CRL (conservatively, as
/// revoked), but prune takes it as a revocation for good and drops the entry;
/// the next CRL will not list the serial at all, and the device is let in.
#[test]
fn prune_keeps_a_serial_the_crl_lists_as_remove_from_crl() {
    let ca = Ca::new("Attack", "Remove CA");
    let ts = TrustStore::from_pem(ca.pem().as_bytes()).unwrap();
    let crl = ca
        .crl()
        .der_with_raw_entries(&[raw_entry(&SERIAL, &[reason_code(8)])]);
    let ev = CrlEvidence::verify("file:///crl.der", &crl, &ts, now()).unwrap();
    let mut doc = doc_for(KeyId::of_spki(&ca.spki_der()));
    let pruned = prune(&mut doc, &[ev], now());
    assert!(
        pruned.is_empty(),
        "an entry was pruned by a removeFromCRL listing: {pruned:?}"
    );
}

/// A partition CRL covers only the certificates whose CDPs name it
/// (VerifiedCrl::covers); the authorizer never applies it to a device whose
/// CDP names another partition. prune ignores the scope.
#[test]
fn prune_keeps_a_serial_listed_only_by_a_partition_crl() {
    let ca = Ca::new("Attack", "Partition CA");
    let ts = TrustStore::from_pem(ca.pem().as_bytes()).unwrap();
    let crl = ca
        .crl()
        .partition(&["http://crl.example.test/p1.crl"])
        .revoke(&SERIAL)
        .der();
    let ev = CrlEvidence::verify("file:///p1.der", &crl, &ts, now()).unwrap();
    let mut doc = doc_for(KeyId::of_spki(&ca.spki_der()));
    let pruned = prune(&mut doc, &[ev], now());
    assert!(
        pruned.is_empty(),
        "a partition CRL (that may not cover the device) pruned the entry: {pruned:?}"
    );
}

fn ca_named(cn: &str, key: &KeyPair) -> (CertificateParams, String) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = OffsetDateTime::now_utc() - Duration::days(1);
    params.not_after = OffsetDateTime::now_utc() + Duration::days(365);
    let pem = params.self_signed(key).unwrap().pem();
    (params, pem)
}

/// Two CA names sharing one key (a renamed CA). Serials are unique per
/// issuer NAME; the entry (key, serial) blocks device S of CA A. A CRL of CA
/// B (same key) listing its own, different, certificate S prunes A's entry,
/// though the authorizer only applies B's CRL to certificates issued by B.
#[test]
fn prune_keeps_a_serial_listed_by_another_ca_name_sharing_the_key() {
    let key = KeyPair::generate().unwrap();
    let (_a_params, a_pem) = ca_named("CA A", &key);
    let (b_params, b_pem) = ca_named("CA B", &key);
    let ts = TrustStore::from_pem(format!("{a_pem}{b_pem}").as_bytes()).unwrap();
    let t = OffsetDateTime::now_utc();
    let crl_b = CertificateRevocationListParams {
        this_update: t - Duration::minutes(1),
        next_update: t + Duration::hours(2),
        crl_number: SerialNumber::from_slice(&[1]),
        issuing_distribution_point: None,
        revoked_certs: vec![RevokedCertParams {
            serial_number: SerialNumber::from_slice(&SERIAL),
            revocation_time: t - Duration::minutes(5),
            reason_code: Some(RevocationReason::KeyCompromise),
            invalidity_date: None,
        }],
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(&Issuer::from_params(&b_params, &key))
    .unwrap()
    .der()
    .to_vec();
    let ev = CrlEvidence::verify("file:///b.der", &crl_b, &ts, now()).unwrap();
    let spki = rcgen::PublicKeyData::subject_public_key_info(&key);
    let mut doc = doc_for(KeyId::of_spki(&spki));
    let pruned = prune(&mut doc, &[ev], now());
    assert!(
        pruned.is_empty(),
        "CA B's CRL pruned an entry for CA A's device: {pruned:?}"
    );
}
