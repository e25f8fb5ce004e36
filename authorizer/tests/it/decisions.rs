//! Decisions through the path Lambda runs: `Authorizer::decide`, with the
//! truststore and the CRL published as files, certificates and CRLs made at
//! test time, and a manual clock. The CRL checks that need no decision call
//! `VerifiedCrl::verify`, the function the refresher calls.
//!
//! Why one module: one named scenario per rule of the decision, each a
//! few lines, plus the raw-entry CRLs at the end; they share the `World`
//! fixture, and grouping them by rule in one file is how they are read.

use std::sync::Arc;

use authorizer::lambda::{Authorizer, HttpApiResponse};
use mtls_policy::cache::{RollbackGuard, Slot};
use mtls_policy::config::Config;
use mtls_policy::decision::{Decision, DenyReason, RuleIssuer};
use mtls_policy::source::Validator;
use mtls_tests::pki::{self, Ca, serial20};
use mtls_x509::crl::{CrlTimePolicy, VerifiedCrl};
use mtls_x509::error::{CrlMalformed, CrlRollback, Error};
use mtls_x509::time::{ManualClock, UnixTime};
use mtls_x509::truststore::TrustStore;
use rcgen::{DnType, ExtendedKeyUsagePurpose};
use time::Duration;

const ORG: &str = "Temperature Testers, Inc.";
const CN: &str = "Temperature Testers Devices CA";

fn now() -> UnixTime {
    UnixTime(pki::unix(pki::now()))
}

/// A CA, its truststore and one configuration, published in a temporary
/// directory for the authorizer to load.
struct World {
    ca: Ca,
    dir: tempfile::TempDir,
    config: Config,
    truststore: TrustStore,
    rt: tokio::runtime::Runtime,
}

/// A started authorizer and the clock it reads.
struct Running<'w> {
    world: &'w World,
    authorizer: Authorizer,
    clock: Arc<ManualClock>,
}

impl Running<'_> {
    /// One request with this certificate (`None`: no certificate). A refresh
    /// it started behind it is let finish, so the next request sees it.
    fn decide(&self, pem: Option<&str>) -> Decision {
        self.world.rt.block_on(async {
            let d = self.authorizer.decide(pem).await.decision;
            self.authorizer.settle().await;
            d
        })
    }
}

impl World {
    /// One issuer entry `devices` for `ca`, with extra entry fields spliced in.
    fn new(ca: Ca, extra: &str) -> Self {
        let entry = format!(
            r#"{{"name":"devices","match":{{"O":"{ORG}","CN":"{CN}"}},"crl":"CRL"{extra}}}"#
        );
        let bundle = ca.pem().to_owned();
        Self::with(ca, &entry, &bundle)
    }

    /// These issuer entries (`"CRL"` stands for the published CRL's URI) and
    /// this truststore bundle.
    fn with(ca: Ca, issuers: &str, bundle: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("truststore.pem"), bundle).unwrap();
        let uri = |name: &str| format!("file://{}", dir.path().join(name).display());
        let issuers = issuers.replace(r#""CRL""#, &format!(r#""{}""#, uri("crl")));
        let json = format!(
            r#"{{"truststore":"{}","issuers":[{issuers}],
                "crl_grace_seconds":3600,"clock_skew_seconds":60}}"#,
            uri("truststore.pem")
        );
        let config = Config::from_json(&json).unwrap();
        let truststore = TrustStore::from_pem(bundle.as_bytes()).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        Self {
            ca,
            dir,
            config,
            truststore,
            rt,
        }
    }

    fn standard() -> Self {
        Self::new(Ca::new(ORG, CN), "")
    }

    /// Publishes `crl` (or removes it), then cold-starts the authorizer at `at`.
    fn start(&self, crl: Option<&[u8]>, at: UnixTime) -> Running<'_> {
        let path = self.dir.path().join("crl");
        match crl {
            Some(bytes) => std::fs::write(&path, bytes).unwrap(),
            None => {
                let _ = std::fs::remove_file(&path);
            }
        }
        let clock = Arc::new(ManualClock::new(at));
        let authorizer = self
            .rt
            .block_on(
                Authorizer::builder(self.config.clone())
                    .clock(clock.clone())
                    .http_api_response(HttpApiResponse::Simple)
                    .start(),
            )
            .unwrap();
        Running {
            world: self,
            authorizer,
            clock,
        }
    }

    fn verify(&self, crl: &[u8], at: UnixTime) -> Result<VerifiedCrl, Error> {
        let policy = CrlTimePolicy {
            clock_skew_seconds: 60,
            grace_seconds: 3600,
        };
        VerifiedCrl::verify(
            crl,
            &RuleIssuer(&self.config.issuers()[0]),
            &self.truststore,
            at,
            policy,
        )
    }

    /// One request, on an authorizer cold-started at `at` with `crl` published.
    fn decide(&self, pem: &str, crl: Option<&[u8]>, at: UnixTime) -> Decision {
        self.start(crl, at).decide(Some(pem))
    }

    /// The deny reason for a leaf of the CA with `serial`, against `crl` now.
    fn serial_reason(&self, serial: &[u8], crl: &[u8]) -> Option<DenyReason> {
        reason(&self.decide(&self.ca.leaf(serial).pem(), Some(crl), now()))
    }

    /// Decides with a fresh, empty CRL of the CA.
    fn decide_clean(&self, pem: &str) -> Decision {
        self.decide(pem, Some(&self.ca.crl().der()), now())
    }
}

fn reason(d: &Decision) -> Option<DenyReason> {
    d.reason()
}

#[test]
fn valid_certificate_with_fresh_crl_is_allowed_with_identity() {
    let w = World::standard();
    let pem = w.ca.leaf(&[0x01, 0x02]).pem();
    let d = w.decide_clean(&pem);
    assert!(d.is_allow(), "{d:?}");
    let id = d.identity();
    assert_eq!(id.serial_number, "0102");
    assert_eq!(id.subject_dn, "CN=device-1");
    assert_eq!(
        id.issuer_dn,
        format!("O=Temperature Testers\\, Inc.,CN={CN}")
    );
    assert_eq!(id.issuer.as_deref(), Some("devices"));
    assert_eq!(id.fingerprint_sha256.len(), 64);
}

#[test]
fn missing_certificate_is_denied() {
    let w = World::standard();
    let a = w.start(Some(&w.ca.crl().der()), now());
    assert_eq!(
        a.decide(None).reason(),
        Some(DenyReason::MissingCertificate)
    );
    assert_eq!(
        a.decide(Some("  \n")).reason(),
        Some(DenyReason::MissingCertificate)
    );
}

#[test]
fn malformed_certificate_is_denied() {
    let w = World::standard();
    let pem = w.ca.leaf(&[7]).pem();
    // Corrupt one base64 character in the middle of the body.
    let mut bytes = pem.clone().into_bytes();
    let mid = bytes.len() / 2;
    bytes[mid] = if bytes[mid] == b'A' { b'B' } else { b'A' };
    let corrupted = String::from_utf8(bytes).unwrap();
    for bad in [
        "not a certificate",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        &corrupted,
    ] {
        let d = w.decide(bad, None, now());
        assert!(
            matches!(
                reason(&d),
                Some(DenyReason::MalformedCertificate | DenyReason::IssuerNotAllowed)
            ),
            "{bad:?} gave {d:?}"
        );
        assert!(!d.is_allow());
    }
    assert_eq!(
        reason(&w.decide("garbage", None, now())),
        Some(DenyReason::MalformedCertificate)
    );
}

#[test]
fn certificate_from_an_issuer_no_entry_matches_is_denied() {
    let w = World::standard();
    let other = Ca::new(ORG, "Some Other CA");
    let d = w.decide_clean(&other.leaf(&[1]).pem());
    assert_eq!(reason(&d), Some(DenyReason::IssuerNotAllowed));
}

#[test]
fn certificate_from_an_impostor_ca_with_the_same_dn_is_denied() {
    let w = World::standard();
    let impostor = w.ca.impostor();
    let d = w.decide_clean(&impostor.leaf(&[1]).pem());
    assert_eq!(reason(&d), Some(DenyReason::IssuerNotAllowed), "{d:?}");
}

#[test]
fn remembered_signature_check_never_admits_an_impostor_signed_twin() {
    // The second decision for a certificate skips the signature check (it is
    // remembered by fingerprint); a twin with the same serial and names but
    // signed by another key has other bytes, so it is checked and denied.
    let w = World::standard();
    let a = w.start(Some(&w.ca.crl().der()), now());
    let genuine = w.ca.leaf(&[7]).pem();
    assert!(a.decide(Some(&genuine)).is_allow());
    assert!(a.decide(Some(&genuine)).is_allow());
    let twin = w.ca.impostor().leaf(&[7]).pem();
    for _ in 0..2 {
        let d = a.decide(Some(&twin));
        assert_eq!(reason(&d), Some(DenyReason::IssuerNotAllowed), "{d:?}");
    }
    assert!(a.decide(Some(&genuine)).is_allow());
}

#[test]
fn issuer_match_requires_every_named_attribute() {
    let ca = Ca::with_dn(&[
        (DnType::OrganizationName, ORG),
        (DnType::CommonName, "Lookalike CA"),
    ]);
    let w = World::new(Ca::new(ORG, CN), "");
    let d = w.decide_clean(&ca.leaf(&[1]).pem());
    assert_eq!(reason(&d), Some(DenyReason::IssuerNotAllowed));
}

#[test]
fn multi_valued_issuer_attribute_matches_if_any_value_matches() {
    let ca = Ca::with_dn(&[
        (DnType::OrganizationName, ORG),
        (DnType::OrganizationalUnitName, "Fleet A"),
        (DnType::OrganizationalUnitName, "Fleet B"),
        (DnType::CommonName, CN),
    ]);
    let bundle = ca.pem().to_owned();
    let entry =
        format!(r#"{{"name":"devices","match":{{"OU":"Fleet B","2.5.4.3":"{CN}"}},"crl":"CRL"}}"#);
    let w = World::with(ca, &entry, &bundle);
    assert!(w.decide_clean(&w.ca.leaf(&[1]).pem()).is_allow());
}

#[test]
fn subject_attributes_must_match_the_entry() {
    let w = World::new(
        Ca::new(ORG, CN),
        r#","subject":{"OU":["Tech Operations","Field"]}"#,
    );
    let good =
        w.ca.leaf(&[1])
            .subject(&[
                (DnType::OrganizationalUnitName, "Field"),
                (DnType::CommonName, "t1"),
            ])
            .pem();
    let bad =
        w.ca.leaf(&[2])
            .subject(&[
                (DnType::OrganizationalUnitName, "Sales"),
                (DnType::CommonName, "t2"),
            ])
            .pem();
    let none = w.ca.leaf(&[3]).pem();
    assert!(w.decide_clean(&good).is_allow());
    assert_eq!(
        reason(&w.decide_clean(&bad)),
        Some(DenyReason::SubjectNotAllowed)
    );
    assert_eq!(
        reason(&w.decide_clean(&none)),
        Some(DenyReason::SubjectNotAllowed)
    );
}

#[test]
fn san_dns_and_uri_patterns_constrain_the_subject() {
    let w = World::new(
        Ca::new(ORG, CN),
        r#","subject":{"san_dns":["*.devices.example.com"],"san_uri":["spiffe://example.org/device/*"]}"#,
    );
    let good =
        w.ca.leaf(&[1])
            .dns("t1.devices.example.com")
            .uri("spiffe://example.org/device/t1")
            .pem();
    let wrong_dns =
        w.ca.leaf(&[2])
            .dns("t1.example.com")
            .uri("spiffe://example.org/device/t1")
            .pem();
    let wrong_uri =
        w.ca.leaf(&[3])
            .dns("t1.devices.example.com")
            .uri("spiffe://example.org/admin")
            .pem();
    assert!(w.decide_clean(&good).is_allow());
    assert_eq!(
        reason(&w.decide_clean(&wrong_dns)),
        Some(DenyReason::SubjectNotAllowed)
    );
    assert_eq!(
        reason(&w.decide_clean(&wrong_uri)),
        Some(DenyReason::SubjectNotAllowed)
    );
}

#[test]
fn eku_without_client_auth_is_denied_by_default() {
    let w = World::standard();
    let server_only =
        w.ca.leaf(&[1])
            .eku(Some(vec![ExtendedKeyUsagePurpose::ServerAuth]))
            .pem();
    let no_eku = w.ca.leaf(&[2]).eku(None).pem();
    assert_eq!(
        reason(&w.decide_clean(&server_only)),
        Some(DenyReason::SubjectNotAllowed)
    );
    assert!(
        w.decide_clean(&no_eku).is_allow(),
        "no EKU extension means any purpose"
    );
}

#[test]
fn eku_client_auth_required_refuses_a_certificate_without_eku() {
    let w = World::new(
        Ca::new(ORG, CN),
        r#","subject":{"eku":"client_auth_required"}"#,
    );
    assert_eq!(
        reason(&w.decide_clean(&w.ca.leaf(&[2]).eku(None).pem())),
        Some(DenyReason::SubjectNotAllowed)
    );
    assert!(w.decide_clean(&w.ca.leaf(&[3]).pem()).is_allow());
    let ignore = World::new(Ca::new(ORG, CN), r#","subject":{"eku":"ignore"}"#);
    let server_only = ignore
        .ca
        .leaf(&[1])
        .eku(Some(vec![ExtendedKeyUsagePurpose::ServerAuth]))
        .pem();
    assert!(ignore.decide_clean(&server_only).is_allow());
}

#[test]
fn expired_certificate_is_denied_beyond_the_clock_skew() {
    let w = World::standard();
    let t = pki::now();
    let just_expired =
        w.ca.leaf(&[1])
            .validity(t - Duration::days(2), t - Duration::seconds(30))
            .pem();
    let long_expired =
        w.ca.leaf(&[2])
            .validity(t - Duration::days(2), t - Duration::seconds(120))
            .pem();
    assert!(
        w.decide_clean(&just_expired).is_allow(),
        "within the 60 s skew"
    );
    assert_eq!(
        reason(&w.decide_clean(&long_expired)),
        Some(DenyReason::Expired)
    );
}

#[test]
fn not_yet_valid_certificate_is_denied() {
    let w = World::standard();
    let t = pki::now();
    let future =
        w.ca.leaf(&[1])
            .validity(t + Duration::hours(1), t + Duration::days(2))
            .pem();
    assert_eq!(
        reason(&w.decide_clean(&future)),
        Some(DenyReason::NotYetValid)
    );
}

#[test]
fn revoked_serial_is_denied() {
    let w = World::standard();
    let crl = w.ca.crl().revoke(&[0x42]).der();
    let d = w.decide(&w.ca.leaf(&[0x42]).pem(), Some(&crl), now());
    assert_eq!(reason(&d), Some(DenyReason::Revoked));
    assert_eq!(d.identity().serial_number, "42");
    assert!(w.serial_reason(&[0x43], &crl).is_none());
}

#[test]
fn revoked_20_byte_serial_is_denied_and_its_low_bit_neighbour_is_allowed() {
    let w = World::standard();
    let revoked = serial20(0x10);
    let neighbour = serial20(0x11);
    let crl = w.ca.crl().revoke(&revoked).der();
    let d = w.decide(&w.ca.leaf(&revoked).pem(), Some(&crl), now());
    assert_eq!(reason(&d), Some(DenyReason::Revoked));
    assert_eq!(d.identity().serial_number, hex_of(&revoked));
    assert!(d.identity().serial_number.starts_with("805a"));
    let d = w.decide(&w.ca.leaf(&neighbour).pem(), Some(&crl), now());
    assert!(d.is_allow(), "{d:?}");
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn serials_01_and_ff_are_matched_exactly() {
    let w = World::standard();
    let crl = w.ca.crl().revoke(&[0xff]).der();
    let ff = w.decide(&w.ca.leaf(&[0xff]).pem(), Some(&crl), now());
    let one = w.decide(&w.ca.leaf(&[0x01]).pem(), Some(&crl), now());
    assert_eq!(reason(&ff), Some(DenyReason::Revoked));
    assert_eq!(ff.identity().serial_number, "ff");
    assert!(one.is_allow());
    assert_eq!(one.identity().serial_number, "01");
    let crl1 = w.ca.crl().revoke(&[0x01]).der();
    assert_eq!(w.serial_reason(&[0x01], &crl1), Some(DenyReason::Revoked));
    assert!(w.serial_reason(&[0xff], &crl1).is_none());
}

#[test]
fn crl_signed_by_the_wrong_key_is_rejected() {
    let w = World::standard();
    let forged = w.ca.crl().der_signed_by(&w.ca.impostor());
    assert!(matches!(
        w.verify(&forged, now()),
        Err(Error::CrlBadSignature { .. })
    ));
}

#[test]
fn tampered_crl_bytes_are_rejected() {
    let w = World::standard();
    let mut der = w.ca.crl().revoke(&[0x42]).der();
    // Un-revoke 0x42 by rewriting the serial in place: the signature no longer covers it.
    let at = der
        .windows(3)
        .position(|win| win == [0x02, 0x01, 0x42])
        .unwrap();
    der[at + 2] = 0x43;
    assert!(matches!(
        w.verify(&der, now()),
        Err(Error::CrlBadSignature { .. })
    ));
}

#[test]
fn crl_of_a_ca_outside_the_truststore_is_rejected_as_unknown() {
    let w = World::standard();
    let other = Ca::new(ORG, "Some Other CA");
    let err = w.verify(&other.crl().der(), now());
    assert!(
        matches!(err, Err(Error::CrlIssuerUnknown { .. })),
        "{err:?}"
    );
}

#[test]
fn crl_of_a_truststore_ca_the_entry_does_not_match_is_rejected() {
    let w = World::standard();
    let other = Ca::new(ORG, "Some Other CA");
    let bundle = format!("{}{}", w.ca.pem(), other.pem());
    let w = World {
        truststore: TrustStore::from_pem(bundle.as_bytes()).unwrap(),
        ..w
    };
    // The authorizer refuses it too, and the entry's certificates get no
    // CRL from it.
    let d = w.decide(&w.ca.leaf(&[1]).pem(), Some(&other.crl().der()), now());
    assert_eq!(reason(&d), Some(DenyReason::CrlUnavailable), "{d:?}");
    let err = w.verify(&other.crl().der(), now());
    assert!(
        matches!(err, Err(Error::CrlIssuerMismatch { .. })),
        "{err:?}"
    );
}

#[test]
fn crl_issuer_must_equal_the_certificate_issuer() {
    // One entry matching two CAs by O only: the CRL of CA 1 cannot clear CA 2's certificates.
    let ca1 = Ca::new(ORG, "Fleet 1 CA");
    let ca2 = Ca::new(ORG, "Fleet 2 CA");
    let bundle = format!("{}{}", ca1.pem(), ca2.pem());
    let leaf1 = ca1.leaf(&[1]).pem();
    let leaf2 = ca2.leaf(&[1]).pem();
    let crl1 = ca1.crl().der();
    let entry = format!(r#"{{"name":"fleet","match":{{"O":"{ORG}"}},"crl":"CRL"}}"#);
    let w = World::with(ca1, &entry, &bundle);
    let a = w.start(Some(&crl1), now());
    assert!(a.decide(Some(&leaf1)).is_allow());
    let d = a.decide(Some(&leaf2));
    assert_eq!(d.reason(), Some(DenyReason::CrlUnavailable), "{d:?}");
}

#[test]
fn crl_with_a_lower_number_is_rejected_and_the_last_good_stays() {
    let w = World::standard();
    let t = now();
    let newer = w
        .verify(&w.ca.crl().number(7).revoke(&[0x42]).der(), t)
        .unwrap();
    let older = w.verify(&w.ca.crl().number(6).der(), t).unwrap();
    let mut slot: Slot<_, Error> = Slot::default();
    let mut guard = RollbackGuard::new(std::num::NonZeroUsize::MIN);
    slot.offer_crl(t, Ok(newer), Validator::default(), &mut guard, 3600)
        .unwrap();
    let err = slot.offer_crl(t, Ok(older), Validator::default(), &mut guard, 3600);
    assert!(
        matches!(err, Err(Error::CrlRollback(CrlRollback::Number { .. }))),
        "{err:?}"
    );
    let kept = slot.current().unwrap().newest().unwrap().clone();
    assert_eq!(kept.number().map(|n| n.to_hex()), Some("07".into()));
    assert_eq!(slot.installs(), 1);

    // The same through the authorizer: number 7 loads, number 6 is published
    // over it, and after the next refresh 0x42 is still revoked.
    let a = w.start(Some(&w.ca.crl().number(7).revoke(&[0x42]).der()), t);
    let revoked = w.ca.leaf(&[0x42]).pem();
    assert_eq!(reason(&a.decide(Some(&revoked))), Some(DenyReason::Revoked));
    std::fs::write(w.dir.path().join("crl"), w.ca.crl().number(6).der()).unwrap();
    a.clock.advance(w.config.crl_refresh_seconds() + 1);
    for _ in 0..2 {
        assert_eq!(reason(&a.decide(Some(&revoked))), Some(DenyReason::Revoked));
    }
}

/// A source that serves many other validly signed sequences (a partitioned
/// CA publishes them by the dozen) must not make a warm authorizer forget the
/// sequence whose newest CRL revoked a device, and then accept that
/// sequence's CRL from before the revocation.
fn replayed_crl_after_other_sequences_is_never_installed(others: usize) {
    let w = World::standard();
    let t = now();
    let (from, until) = (
        pki::now() - Duration::hours(1),
        pki::now() + Duration::days(30),
    );
    let crl = |n: u64| w.ca.crl().times(from, until).number(n);
    let revoked = w.ca.leaf(&[0x42]).pem();
    let a = w.start(Some(&crl(10).revoke(&[0x42]).der()), t);
    assert_eq!(reason(&a.decide(Some(&revoked))), Some(DenyReason::Revoked));
    let publish = |bytes: Vec<u8>| {
        std::fs::write(w.dir.path().join("crl"), bytes).unwrap();
        a.clock.advance(w.config.crl_refresh_seconds() + 1);
        a.decide(Some(&revoked))
    };
    let before = crl(1).der();
    let d = publish(before.clone());
    assert_eq!(reason(&d), Some(DenyReason::Revoked), "a rollback: {d:?}");
    for i in 0..others {
        let uri = format!("http://crl.example/partition-{i}.crl");
        let d = publish(crl(1).partition(&[&uri]).der());
        assert!(!d.is_allow(), "sequence {i}: {d:?}");
    }
    let d = publish(before);
    assert!(
        !d.is_allow(),
        "the CRL from before the revocation came back after {others} other sequences: {d:?}"
    );
}

#[test]
fn replayed_crl_after_16_other_sequences_is_never_installed() {
    replayed_crl_after_other_sequences_is_never_installed(16);
}

#[test]
fn replayed_crl_after_1000_other_sequences_is_never_installed() {
    replayed_crl_after_other_sequences_is_never_installed(1000);
}

/// Partitions named by a directoryName, or by a name relative to the CRL
/// issuer, in the shapes of NIST PKITS §4.14: the CRL covers exactly the
/// certificates whose cRLDistributionPoints name the same Name (RFC 5280
/// §6.3.3 (b)(2)(i); a relative name is the CRL issuer's name with the RDN
/// appended, §5.2.5).
/// - Valid distributionPoint Test1: the certificate's directoryName and the
///   CRL's are the same: covered (allowed, or revoked when listed).
/// - Valid distributionPoint Test4: the CRL names it relative to its issuer,
///   the certificate in full: covered.
/// - Invalid distributionPoint Tests 8 and 9: the names differ, or the
///   certificate has no distribution point: never covered (a relative name
///   once read as absent, so the partition passed for a complete CRL).
#[test]
fn crls_partitioned_by_directory_names_cover_exactly_the_certificates_that_name_them() {
    use mtls_tests::pki::{raw_extension, tlv};
    const IDP: &[u8] = &[0x55, 0x1d, 0x1c];
    const CDP: [u64; 4] = [2, 5, 29, 31];
    let w = World::standard();
    let t = now();
    let rdn = tlv(
        0x30,
        &[
            tlv(0x06, &[0x55, 0x04, 0x03]),
            tlv(0x0c, b"CRL1 of distributionPoint2 CA"),
        ]
        .concat(),
    );
    // The CA's name with the RDN appended, as a relative name resolves.
    let ca_der = mtls_policy::decision::certificate_der(Some(w.ca.pem())).unwrap();
    let ca = mtls_x509::cert::ClientCert::from_der(&ca_der).unwrap();
    let issuer = ca.subject().as_der().to_vec();
    let issuer_content = &issuer[2..]; // a short name: one length octet
    assert!(issuer[1] < 0x80);
    let resolved = tlv(0x30, &[issuer_content, &tlv(0x31, &rdn)].concat());
    let alone = tlv(0x30, &tlv(0x31, &rdn));
    let relative_idp = tlv(0x30, &tlv(0xa0, &tlv(0xa1, &rdn)));
    let dir_idp = |name: &[u8]| tlv(0x30, &tlv(0xa0, &tlv(0xa0, &tlv(0xa4, name))));
    let cdp = |name: &[u8]| tlv(0x30, &tlv(0x30, &tlv(0xa0, &tlv(0xa0, &tlv(0xa4, name)))));
    let device = |serial: u8, name: Option<&[u8]>| {
        let leaf = w.ca.leaf(&[serial]);
        match name {
            Some(n) => leaf.extension(&CDP, false, cdp(n)).pem(),
            None => leaf.pem(),
        }
    };
    let crl_with = |idp: &[u8]| {
        w.ca.crl()
            .revoke(&[0x66])
            .der_with_extra_extensions(&[raw_extension(IDP, true, idp)])
    };
    // What each case is, the CRL's IDP, the device's CDP Name, the answer.
    type Case<'a> = (&'a str, Vec<u8>, Option<&'a [u8]>, Option<DenyReason>);
    let cases: [Case<'_>; 6] = [
        (
            "Test1: the same directoryName",
            dir_idp(&alone),
            Some(&alone),
            None,
        ),
        (
            "Test4: relative to the issuer",
            relative_idp.clone(),
            Some(&resolved),
            None,
        ),
        (
            "Test8: a relative name, another full name",
            relative_idp.clone(),
            Some(&alone),
            Some(DenyReason::CrlUnavailable),
        ),
        (
            "Test9: a relative name, no CDP",
            relative_idp.clone(),
            None,
            Some(DenyReason::CrlUnavailable),
        ),
        (
            "a directoryName, another directoryName",
            dir_idp(&resolved),
            Some(&alone),
            Some(DenyReason::CrlUnavailable),
        ),
        (
            "a directoryName, no CDP",
            dir_idp(&alone),
            None,
            Some(DenyReason::CrlUnavailable),
        ),
    ];
    for (what, idp, name, expected) in cases {
        let crl = crl_with(&idp);
        let verified = w.verify(&crl, t).unwrap();
        assert!(
            matches!(
                verified.scope(),
                mtls_x509::crl::CrlScope::DistributionPoint(_)
            ),
            "{what}: a partition, never complete: {}",
            verified.scope()
        );
        let a = w.start(Some(&crl), t);
        assert_eq!(
            reason(&a.decide(Some(&device(0x01, name)))),
            expected,
            "{what}"
        );
        // The CRL's own entry: revoked where it covers, unavailable where not.
        let listed = expected.or(Some(DenyReason::Revoked));
        assert_eq!(
            reason(&a.decide(Some(&device(0x66, name)))),
            listed,
            "{what}, listed"
        );
    }
}

/// issuingDistributionPoints a strict DER reading refuses (or scopes), each
/// on a CRL the CA really signed: fields out of order, repeated or unknown, a
/// BOOLEAN TRUE written `01`, a primitive `[0]`, a malformed onlySomeReasons.
/// x509-parser drops a field it cannot read and every field after it, so each
/// of these once passed for a complete CRL and allowed a device that the CRL
/// does not cover. A device whose CRL this is not must never be allowed.
#[test]
fn hostile_issuing_distribution_points_never_pass_for_a_complete_crl() {
    use mtls_tests::pki::{raw_extension, tlv};
    const IDP: &[u8] = &[0x55, 0x1d, 0x1c];
    let w = World::standard();
    let t = now();
    let uri_a = tlv(0x86, b"http://crl.example/A.crl");
    let point_a = tlv(0xa0, &tlv(0xa0, &uri_a));
    let cases: [(&str, Vec<u8>); 9] = [
        (
            "fields out of order",
            [tlv(0x81, &[0xff]), point_a.clone()].concat(),
        ),
        (
            "an unknown field first",
            [tlv(0x86, &[]), point_a.clone()].concat(),
        ),
        ("a primitive [0]", tlv(0x80, &tlv(0xa0, &uri_a))),
        ("onlyContainsCACerts as 01", tlv(0x82, &[0x01])),
        (
            "a repeated field before onlyContainsCACerts",
            [tlv(0x81, &[0xff]), tlv(0x81, &[0xff]), tlv(0x82, &[0xff])].concat(),
        ),
        (
            "a constructed onlySomeReasons",
            tlv(0xa3, &tlv(0x03, &[0x07, 0x80])),
        ),
        ("an empty onlySomeReasons", tlv(0x83, &[])),
        (
            "onlyContainsAttributeCerts behind a repeated field",
            [tlv(0x84, &[]), tlv(0x84, &[]), tlv(0x85, &[0xff])].concat(),
        ),
        ("indirectCRL as 01", tlv(0x84, &[0x01])),
    ];
    let device = w.ca.leaf(&[0x42]).cdp("http://crl.example/B.crl").pem();
    for (what, fields) in cases {
        let crl =
            w.ca.crl()
                .der_with_extra_extensions(&[raw_extension(IDP, true, &tlv(0x30, &fields))]);
        assert!(w.verify(&crl, t).is_err(), "{what}: must be refused");
        let a = w.start(Some(&crl), t);
        assert_eq!(
            reason(&a.decide(Some(&device))),
            Some(DenyReason::CrlUnavailable),
            "{what}"
        );
    }
    // In DER, onlyContainsUserCerts alone is a complete CRL for client
    // certificates, and partition A covers only A's certificates.
    let users = w.ca.crl().der_with_extra_extensions(&[raw_extension(
        IDP,
        true,
        &tlv(0x30, &tlv(0x81, &[0xff])),
    )]);
    assert!(w.start(Some(&users), t).decide(Some(&device)).is_allow());
    let partition =
        w.ca.crl()
            .der_with_extra_extensions(&[raw_extension(IDP, true, &tlv(0x30, &point_a))]);
    let a = w.start(Some(&partition), t);
    assert_eq!(
        reason(&a.decide(Some(&device))),
        Some(DenyReason::CrlUnavailable)
    );
    let in_a = w.ca.leaf(&[0x43]).cdp("http://crl.example/A.crl").pem();
    assert!(a.decide(Some(&in_a)).is_allow());
}

#[test]
fn crl_past_next_update_is_used_within_grace_and_unavailable_after() {
    let w = World::standard();
    let issued = pki::now() - Duration::hours(2);
    let next = pki::now() - Duration::minutes(30); // expired 30 min ago; grace is 60 min
    let crl = w.ca.crl().times(issued, next).revoke(&[0x42]).der();
    let good = w.ca.leaf(&[0x01]).pem();
    let a = w.start(Some(&crl), now());
    assert!(a.decide(Some(&good)).is_allow(), "inside grace");
    // The source still serves only this CRL: past grace nothing can clear
    // the device.
    a.clock.set(now().offset(31 * 60));
    assert_eq!(
        reason(&a.decide(Some(&good))),
        Some(DenyReason::CrlUnavailable),
        "past grace"
    );
    // A CRL already past nextUpdate + grace is refused at load.
    let stale =
        w.ca.crl()
            .times(issued - Duration::hours(5), next - Duration::hours(2))
            .der();
    assert!(matches!(
        w.verify(&stale, now()),
        Err(Error::CrlExpired { .. })
    ));
}

#[test]
fn crl_with_this_update_in_the_future_is_rejected() {
    let w = World::standard();
    let t = pki::now();
    let future =
        w.ca.crl()
            .times(t + Duration::minutes(10), t + Duration::days(1))
            .der();
    assert!(matches!(
        w.verify(&future, now()),
        Err(Error::CrlNotYetValid { .. })
    ));
    let within_skew =
        w.ca.crl()
            .times(t + Duration::seconds(30), t + Duration::days(1))
            .der();
    assert!(w.verify(&within_skew, now()).is_ok());
}

#[test]
fn pem_and_der_crls_give_the_same_answers() {
    let w = World::standard();
    let builder = w.ca.crl().revoke(&[0x42]).revoke(&serial20(1));
    let der = builder.der();
    let pem_crl = builder.pem();
    assert_eq!(w.verify(&der, now()).unwrap().revoked().len(), 2);
    assert_eq!(
        w.verify(pem_crl.as_bytes(), now()).unwrap().revoked().len(),
        2
    );
    let from_der = w.start(Some(&der), now());
    let from_pem = w.start(Some(pem_crl.as_bytes()), now());
    for serial in [&[0x42u8][..], &serial20(1), &[0x43]] {
        let pem = w.ca.leaf(serial).pem();
        assert_eq!(from_der.decide(Some(&pem)), from_pem.decide(Some(&pem)));
    }
    assert_eq!(
        reason(&from_pem.decide(Some(&w.ca.leaf(&[0x42]).pem()))),
        Some(DenyReason::Revoked)
    );
}

#[test]
fn crl_scoped_to_ca_certificates_is_refused() {
    let w = World::standard();
    let scoped = w.ca.crl().ca_certs_only().der();
    assert!(matches!(
        w.verify(&scoped, now()),
        Err(Error::CrlUnsupported(_))
    ));
}

#[test]
fn garbage_crl_is_malformed() {
    let w = World::standard();
    assert!(matches!(
        w.verify(b"\x30\x03\x02\x01", now()),
        Err(Error::CrlMalformed(_))
    ));
    assert!(matches!(
        w.verify(
            b"-----BEGIN X509 CRL-----\n!!\n-----END X509 CRL-----\n",
            now()
        ),
        Err(Error::CrlMalformed(_))
    ));
    let mut trailing = w.ca.crl().der();
    trailing.push(0);
    assert!(matches!(
        w.verify(&trailing, now()),
        Err(Error::CrlMalformed(_))
    ));
}

#[test]
fn no_crl_loaded_is_crl_unavailable() {
    let w = World::standard();
    let d = w.decide(&w.ca.leaf(&[1]).pem(), None, now());
    assert_eq!(reason(&d), Some(DenyReason::CrlUnavailable));
    assert_eq!(d.identity().issuer.as_deref(), Some("devices"));
}

#[test]
fn revocation_none_allows_without_a_crl() {
    let ca = Ca::new(ORG, CN);
    let bundle = ca.pem().to_owned();
    let leaf = ca.leaf(&[1]).pem();
    let entry = format!(r#"{{"name":"lab","match":{{"CN":"{CN}"}},"revocation":"none"}}"#);
    let w = World::with(ca, &entry, &bundle);
    let d = w.decide(&leaf, None, now());
    assert!(d.is_allow(), "{d:?}");
}

#[test]
fn crl_serial_written_with_a_leading_zero_octet_still_matches() {
    // Serials are compared as normalized magnitude bytes: 00 42 and 42 are one serial.
    let w = World::standard();
    let crl = w.ca.crl().revoke(&[0x00, 0x42]).der();
    assert!(w.verify(&crl, now()).is_ok());
    assert_eq!(w.serial_reason(&[0x42], &crl), Some(DenyReason::Revoked));
}

/// A deterministic, exhaustive cousin of the `crl` fuzz target: no single-byte
/// change to a signed CRL may verify (nor panic).
#[test]
fn every_single_byte_change_to_a_signed_crl_is_rejected() {
    let w = World::standard();
    let der =
        w.ca.crl()
            .number(3)
            .revoke(&[0x42])
            .revoke(&serial20(7))
            .der();
    assert!(w.verify(&der, now()).is_ok());
    for i in 0..der.len() {
        for flip in [0x01u8, 0x02, 0x80] {
            let mut bad = der.clone();
            bad[i] ^= flip;
            assert!(
                w.verify(&bad, now()).is_err(),
                "byte {i} ^ {flip:#x} still verified"
            );
        }
    }
}

/// No single-byte change to a client certificate may be allowed (nor panic).
#[test]
fn every_single_byte_change_to_a_client_certificate_is_denied() {
    let w = World::standard();
    let a = w.start(Some(&w.ca.crl().der()), now());
    let pem = w.ca.leaf(&[0x33]).pem();
    let der = mtls_x509::cert::pem_to_der(&pem).unwrap();
    assert!(a.decide(Some(&pem)).is_allow());
    for (i, flip) in (0..der.len()).flat_map(|i| [(i, 0x01u8), (i, 0x80)]) {
        let mut bad = der.clone();
        bad[i] ^= flip;
        let bad = mtls_x509::pem::encode(mtls_x509::pem::CERTIFICATE, &bad);
        let d = a.decide(Some(&bad));
        assert!(!d.is_allow(), "byte {i} flipped was allowed");
    }
}

#[test]
fn ca_certificate_presented_as_a_client_certificate_is_denied() {
    // An intermediate CA issued by the allowed CA: chains fine, but is no client.
    let w = World::standard();
    let intermediate = w.ca.leaf(&[0x55]).ca().pem();
    let d = w.decide_clean(&intermediate);
    assert_eq!(reason(&d), Some(DenyReason::SubjectNotAllowed), "{d:?}");
}

/// Entries rcgen cannot write, built as DER and signed by the real CA key.
mod raw_entries {
    use super::*;
    use mtls_tests::pki::{raw_entry, raw_extension, reason_code, tlv};

    const CERTIFICATE_ISSUER: &[u8] = &[0x55, 0x1d, 0x1d];
    const HOLD_INSTRUCTION: &[u8] = &[0x55, 0x1d, 0x17];
    /// 1.3.6.1.4.1.99999.1, a private OID no one understands.
    const PRIVATE: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x86, 0x8d, 0x1f, 0x01];

    fn verify_entries(w: &World, entries: &[Vec<u8>]) -> Result<VerifiedCrl, Error> {
        w.verify(&w.ca.crl().der_with_raw_entries(entries), now())
    }

    /// The CRL with these entries, after checking it verifies.
    fn crl_of(w: &World, entries: &[Vec<u8>]) -> Vec<u8> {
        let der = w.ca.crl().der_with_raw_entries(entries);
        w.verify(&der, now()).unwrap();
        der
    }

    #[test]
    fn hand_built_crl_with_plain_entries_verifies_and_revokes() {
        let w = World::standard();
        assert_eq!(
            verify_entries(&w, &[raw_entry(&[0x42], &[])])
                .unwrap()
                .revoked()
                .len(),
            1
        );
        let crl = crl_of(&w, &[raw_entry(&[0x42], &[])]);
        assert_eq!(w.serial_reason(&[0x42], &crl), Some(DenyReason::Revoked));
        assert!(w.serial_reason(&[0x43], &crl).is_none());
    }

    #[test]
    fn entry_naming_another_certificate_issuer_is_refused_as_indirect() {
        let w = World::standard();
        let other = tlv(0x30, &[]);
        let ext = raw_extension(CERTIFICATE_ISSUER, true, &other);
        let err = verify_entries(&w, &[raw_entry(&[0x42], &[ext])]).unwrap_err();
        assert!(matches!(err, Error::CrlUnsupported(_)), "{err}");
    }

    #[test]
    fn entry_with_an_unknown_critical_extension_is_refused() {
        let w = World::standard();
        let ext = raw_extension(PRIVATE, true, &tlv(0x05, &[]));
        let err = verify_entries(&w, &[raw_entry(&[0x42], &[ext])]).unwrap_err();
        assert!(matches!(err, Error::CrlUnsupported(_)), "{err}");
    }

    #[test]
    fn entry_with_an_unknown_non_critical_extension_still_revokes() {
        let w = World::standard();
        let ext = raw_extension(PRIVATE, false, &tlv(0x05, &[]));
        let crl = crl_of(&w, &[raw_entry(&[0x42], &[ext])]);
        assert_eq!(w.serial_reason(&[0x42], &crl), Some(DenyReason::Revoked));
    }

    #[test]
    fn certificate_hold_entry_is_revoked_while_listed() {
        let w = World::standard();
        let hold = raw_extension(HOLD_INSTRUCTION, false, &tlv(0x06, &[0x2a, 0x86, 0x48]));
        let entry = raw_entry(&[0x42], &[reason_code(6), hold]);
        let crl = crl_of(&w, &[entry]);
        assert_eq!(w.serial_reason(&[0x42], &crl), Some(DenyReason::Revoked));
    }

    #[test]
    fn invalid_reason_codes_and_duplicate_extensions_are_malformed() {
        let w = World::standard();
        let cases = [
            ("reason 7 (unused)", vec![reason_code(7)]),
            ("reason 11 (undefined)", vec![reason_code(11)]),
            ("two reasonCodes", vec![reason_code(1), reason_code(1)]),
            (
                "reasonCode that is not ENUMERATED",
                vec![raw_extension(&[0x55, 0x1d, 0x15], false, &tlv(0x02, &[1]))],
            ),
            (
                "critical flag encoded as FALSE",
                vec![tlv(
                    0x30,
                    &[tlv(0x06, PRIVATE), tlv(0x01, &[0]), tlv(0x04, &[])].concat(),
                )],
            ),
        ];
        for (what, exts) in cases {
            let err = verify_entries(&w, &[raw_entry(&[0x42], &exts)]).unwrap_err();
            assert!(matches!(err, Error::CrlMalformed(_)), "{what}: {err}");
        }
        let empty_extensions = tlv(
            0x30,
            &[
                tlv(0x02, &[0x42]),
                tlv(0x17, b"260101000000Z"),
                tlv(0x30, &[]),
            ]
            .concat(),
        );
        let err = verify_entries(&w, &[empty_extensions]).unwrap_err();
        assert!(matches!(err, Error::CrlMalformed(_)), "{err}");
    }

    #[test]
    fn malformed_entries_are_refused_with_their_position() {
        let w = World::standard();
        let good = raw_entry(&[0x01], &[]);
        let bad = [
            tlv(
                0x30,
                &[tlv(0x02, &[]), tlv(0x17, b"260101000000Z")].concat(),
            ),
            tlv(
                0x30,
                &[tlv(0x02, &[0x42]), tlv(0x04, b"260101000000Z")].concat(),
            ),
            tlv(0x30, &tlv(0x02, &[0x42])),
            tlv(
                0x31,
                &[tlv(0x02, &[0x42]), tlv(0x17, b"260101000000Z")].concat(),
            ),
        ];
        for entry in bad {
            let err = verify_entries(&w, &[good.clone(), entry]).unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::CrlMalformed(CrlMalformed::Entry { index: 1, .. })
                ),
                "{err}"
            );
        }
    }

    #[test]
    fn serial_longer_than_20_octets_is_matched_exactly_not_truncated() {
        // RFC 5280 §4.1.2.2 asks users to handle non-conforming long serials
        // gracefully: one is kept whole, and its 20-octet tail is not revoked.
        let w = World::standard();
        let mut long = vec![0x7f];
        long.extend([0xa5; 21]);
        let crl = crl_of(&w, &[raw_entry(&long, &[])]);
        assert_eq!(w.serial_reason(&long, &crl), Some(DenyReason::Revoked));
        let tail = long[long.len() - 20..].to_vec();
        assert!(w.serial_reason(&tail, &crl).is_none());
    }

    #[test]
    fn serial_zero_and_short_serials_stay_distinct_in_the_index() {
        let w = World::standard();
        let entries = [
            raw_entry(&[0x00], &[]),
            raw_entry(&[0x01, 0x00], &[]),
            raw_entry(&[0xff], &[]),
        ];
        let crl = verify_entries(&w, &entries).unwrap();
        let listed = [vec![0x01, 0x00], vec![0xff]];
        let unlisted = [
            vec![0x01],
            vec![0x01, 0x00, 0x00],
            vec![0xff, 0x00],
            vec![0x00, 0x01],
        ];
        for s in listed {
            let serial = mtls_x509::serial::Serial::from_integer_bytes(&s);
            assert!(crl.is_revoked(&serial), "{s:02x?}");
        }
        for s in unlisted {
            let serial = mtls_x509::serial::Serial::from_integer_bytes(&s);
            assert!(!crl.is_revoked(&serial), "{s:02x?}");
        }
        assert!(crl.is_revoked(&mtls_x509::serial::Serial::from_integer_bytes(&[0])));
    }
}
