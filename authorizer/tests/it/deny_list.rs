//! The operator deny list through the process-wide state, over `file://`
//! sources with an injected clock: what it denies, what it must not deny,
//! and how it stays fresh or fails closed. No sleeps.

use crate::common;

use authorizer::fetch::FetchError;
use authorizer::lambda::{Authorizer, RefreshError};
use common::{Fixture, ORG, reason};
use mtls_policy::Error;
use mtls_policy::config::{Config, ConfigProblem, JsonCategory, MAX_GRACE_SECONDS};
use mtls_policy::decision::{DenyReason, certificate_der};
use mtls_policy::source::UnsupportedUri;
use mtls_tests::pki::{Ca, ecdsa_p256_twin, pem_block};
use mtls_x509::signed::sha256;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A deny-list entry naming `serial` under `ca`'s key.
fn by_serial(ca: &Ca, serial: &str) -> String {
    format!(
        r#"{{"issuer_spki_sha256":"{}","serial":"{serial}","reason":"keyCompromise"}}"#,
        hex(&sha256(&ca.spki_der()))
    )
}

/// A deny-list entry naming a certificate by fingerprint.
fn by_fingerprint(pem: &str) -> String {
    let der = certificate_der(Some(pem)).unwrap();
    format!(r#"{{"fingerprint":"{}"}}"#, hex(&sha256(&der)))
}

fn list(sequence: u64, entries: &[String]) -> Vec<u8> {
    format!(
        r#"{{"version":1,"sequence":{sequence},"entries":[{}]}}"#,
        entries.join(",")
    )
    .into_bytes()
}

/// `devices` (CRL checked) with a deny list at `deny.json`, refreshed every
/// 10 s and usable for 900 s while refreshes fail.
fn with_deny_list(s: &Fixture, issuers: &str) -> Config {
    s.config(
        issuers,
        &format!(
            r#","deny_list":"{}","deny_list_refresh_seconds":10,"deny_list_max_age_seconds":900"#,
            s.file_uri("deny.json")
        ),
    )
}

async fn started(s: &Fixture, entries: &[String]) -> Authorizer {
    s.write("devices.crl", &s.ca.crl().der());
    s.write("deny.json", &list(1, entries));
    let config = with_deny_list(s, &s.devices_entry(&s.file_uri("devices.crl")));
    s.start(config).await
}

/// Writes a new list under a new mtime, so the next conditional read sees it.
fn publish(s: &Fixture, sequence: u64, entries: &[String]) {
    s.write("deny.json", &list(sequence, entries));
    let f = std::fs::File::options()
        .write(true)
        .open(s.path("deny.json"))
        .unwrap();
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(sequence + 5);
    f.set_modified(later).unwrap();
}

#[tokio::test]
async fn a_serial_listed_under_the_issuing_ca_key_is_denied_deny_listed() {
    let s = Fixture::new();
    let a = started(&s, &[by_serial(&s.ca, "0a")]).await;
    assert_eq!(
        reason(&a, &s.ca.leaf(&[0x0a]).pem()).await,
        Some(DenyReason::DenyListed)
    );
    assert_eq!(reason(&a, &s.ca.leaf(&[0x0b]).pem()).await, None);
    let status = a.deny_list_status().unwrap();
    assert_eq!((status.sequence, status.entries), (Some(1), Some(1)));
}

#[tokio::test]
async fn a_listed_fingerprint_denies_that_certificate_and_no_other_of_its_serial() {
    let s = Fixture::new();
    let stolen = s.ca.leaf(&[7]).pem();
    let a = started(&s, &[by_fingerprint(&stolen)]).await;
    assert_eq!(reason(&a, &stolen).await, Some(DenyReason::DenyListed));
    // A reissued certificate (same serial here, new key) is not that certificate.
    assert_eq!(reason(&a, &s.ca.leaf(&[7]).pem()).await, None);
}

#[tokio::test]
async fn the_same_serial_under_another_ca_key_is_allowed() {
    let s = Fixture::new();
    // A key rollover: both CA certificates, one name, two keys, two CRLs.
    let next = s.ca.next_key();
    s.write(
        "truststore.pem",
        format!("{}{}", s.ca.pem(), next.pem()).as_bytes(),
    );
    s.write("next.crl", &next.crl().der());
    s.write("devices.crl", &s.ca.crl().der());
    s.write("deny.json", &list(1, &[by_serial(&s.ca, "0a")]));
    let entry = format!(
        r#"{{"name":"devices","match":{{"CN":"Devices CA"}},"crl":["{}","{}"]}}"#,
        s.file_uri("devices.crl"),
        s.file_uri("next.crl")
    );
    let a = s.start(with_deny_list(&s, &entry)).await;
    assert_eq!(
        reason(&a, &s.ca.leaf(&[0x0a]).pem()).await,
        Some(DenyReason::DenyListed)
    );
    assert_eq!(reason(&a, &next.leaf(&[0x0a]).pem()).await, None);
}

#[tokio::test]
async fn a_deny_listed_ca_denies_every_certificate_below_it() {
    let s = Fixture::new();
    let root = Ca::new(ORG, "Root CA");
    let issuing = root.subordinate(ORG, "Devices CA", &[0x51]);
    let other = root.subordinate(ORG, "Other CA", &[0x52]);
    s.write(
        "truststore.pem",
        format!("{}{}{}", root.pem(), issuing.pem(), other.pem()).as_bytes(),
    );
    s.write("devices.crl", &issuing.crl().der());
    s.write("other.crl", &other.crl().der());
    s.write("deny.json", &list(1, &[]));
    let entries = format!(
        r#"{},{{"name":"other","match":{{"CN":"Other CA"}},"crl":"{}"}}"#,
        s.devices_entry(&s.file_uri("devices.crl")),
        s.file_uri("other.crl")
    );
    let a = s.start(with_deny_list(&s, &entries)).await;
    let device = issuing.leaf(&[1]).pem();
    let bystander = other.leaf(&[1]).pem();
    assert_eq!(reason(&a, &device).await, None);

    // The issuing CA by its serial under the root's key.
    publish(&s, 2, &[by_serial(&root, "51")]);
    s.clock.advance(10);
    assert_eq!(reason(&a, &device).await, Some(DenyReason::DenyListed));
    assert_eq!(reason(&a, &bystander).await, None);

    // The issuing CA by its certificate's fingerprint.
    publish(&s, 3, &[by_fingerprint(issuing.pem())]);
    s.clock.advance(10);
    assert_eq!(reason(&a, &device).await, Some(DenyReason::DenyListed));
    assert_eq!(reason(&a, &bystander).await, None);

    // The root: everything under it.
    publish(&s, 4, &[by_fingerprint(root.pem())]);
    s.clock.advance(10);
    assert_eq!(reason(&a, &device).await, Some(DenyReason::DenyListed));
    assert_eq!(reason(&a, &bystander).await, Some(DenyReason::DenyListed));
}

#[tokio::test]
async fn an_issuer_without_revocation_checks_is_still_deny_listed() {
    let s = Fixture::new();
    s.write("deny.json", &list(1, &[by_serial(&s.ca, "0a")]));
    let entry = r#"{"name":"devices","match":{"CN":"Devices CA"},"revocation":"none"}"#;
    let a = s.start(with_deny_list(&s, entry)).await;
    assert_eq!(
        reason(&a, &s.ca.leaf(&[0x0a]).pem()).await,
        Some(DenyReason::DenyListed)
    );
    assert_eq!(reason(&a, &s.ca.leaf(&[0x0b]).pem()).await, None);
}

#[tokio::test]
async fn an_entry_added_is_enforced_by_the_first_request_after_the_refresh_interval() {
    let s = Fixture::new();
    let a = started(&s, &[]).await;
    let device = s.ca.leaf(&[0x42]).pem();
    assert_eq!(reason(&a, &device).await, None);
    publish(&s, 2, &[by_serial(&s.ca, "42")]);
    s.clock.advance(9);
    assert_eq!(reason(&a, &device).await, None, "inside the interval");
    s.clock.advance(1);
    // No stale-while-revalidate: the request that finds the list due waits
    // for the fetch and decides with the new list.
    assert_eq!(
        a.decide(Some(&device)).await.decision.reason(),
        Some(DenyReason::DenyListed)
    );
    // Removing the entry lets the device in again, as promptly.
    publish(&s, 3, &[]);
    s.clock.advance(10);
    assert_eq!(a.decide(Some(&device)).await.decision.reason(), None);
}

#[tokio::test]
async fn a_list_with_a_lower_sequence_is_refused_and_the_last_good_one_stays() {
    let s = Fixture::new();
    s.write("devices.crl", &s.ca.crl().der());
    s.write("deny.json", &list(5, &[by_serial(&s.ca, "0a")]));
    let a = s
        .start(with_deny_list(
            &s,
            &s.devices_entry(&s.file_uri("devices.crl")),
        ))
        .await;
    let device = s.ca.leaf(&[0x0a]).pem();
    // An old object version, restored by mistake, without the entry.
    publish(&s, 4, &[]);
    s.clock.advance(10);
    assert_eq!(reason(&a, &device).await, Some(DenyReason::DenyListed));
    let status = a.deny_list_status().unwrap();
    assert_eq!(status.sequence, Some(5));
    assert_eq!(
        status.last_error,
        Some(RefreshError::Refused(Error::DenyListRollback {
            cached: 5,
            offered: 4
        }))
    );
}

#[tokio::test]
async fn a_malformed_list_never_replaces_the_last_good_one() {
    let s = Fixture::new();
    let a = started(&s, &[by_serial(&s.ca, "0a")]).await;
    let device = s.ca.leaf(&[0x0a]).pem();
    for (i, bad) in [
        b"{\"version\":1,\"sequence\":9,\"entries\":[{\"serial\":\"0a\"}]}".as_slice(),
        b"{\"version\":1,\"sequence\":9,\"entries\":[],\"allow\":[]}",
        b"{\"version\":1,\"sequence\":9,\"entries\":[",
        b"",
        b"\xff\xfe",
    ]
    .into_iter()
    .enumerate()
    {
        s.write("deny.json", bad);
        let f = std::fs::File::options()
            .write(true)
            .open(s.path("deny.json"))
            .unwrap();
        f.set_modified(
            std::time::SystemTime::now() + std::time::Duration::from_secs(10 + i as u64),
        )
        .unwrap();
        s.clock.advance(10);
        assert_eq!(
            reason(&a, &device).await,
            Some(DenyReason::DenyListed),
            "{i}"
        );
        let status = a.deny_list_status().unwrap();
        assert!(
            matches!(
                status.last_error,
                Some(RefreshError::Refused(Error::DenyListMalformed { .. }))
            ),
            "{i}: {status:?}"
        );
        assert_eq!(status.sequence, Some(1));
    }
}

#[tokio::test]
async fn a_list_that_cannot_be_loaded_at_cold_start_denies_every_request_until_it_loads() {
    let s = Fixture::new();
    s.write("devices.crl", &s.ca.crl().der());
    // No deny.json yet.
    let a = s
        .start(with_deny_list(
            &s,
            &s.devices_entry(&s.file_uri("devices.crl")),
        ))
        .await;
    let device = s.ca.leaf(&[1]).pem();
    assert_eq!(
        reason(&a, &device).await,
        Some(DenyReason::DenyListUnavailable)
    );
    // Certificates no truststore CA signed are still told apart.
    assert_eq!(
        reason(&a, &Ca::new(ORG, "Devices CA").leaf(&[1]).pem()).await,
        Some(DenyReason::IssuerNotAllowed)
    );
    s.write("deny.json", &list(1, &[]));
    s.clock.advance(10);
    assert_eq!(a.decide(Some(&device)).await.decision.reason(), None);
}

#[tokio::test]
async fn the_last_good_list_is_used_until_max_age_then_every_request_is_denied() {
    let s = Fixture::new();
    let a = started(&s, &[by_serial(&s.ca, "0a")]).await;
    let device = s.ca.leaf(&[1]).pem();
    std::fs::remove_file(s.path("deny.json")).unwrap();
    // Refreshes fail; the list confirmed at cold start stays in force.
    for _ in 0..89 {
        s.clock.advance(10);
        assert_eq!(reason(&a, &device).await, None);
    }
    assert_eq!(
        reason(&a, &s.ca.leaf(&[0x0a]).pem()).await,
        Some(DenyReason::DenyListed)
    );
    s.clock.advance(11);
    assert_eq!(
        reason(&a, &device).await,
        Some(DenyReason::DenyListUnavailable)
    );
    let status = a.deny_list_status().unwrap();
    assert!(!status.in_force);
    assert!(
        matches!(
            status.last_error,
            Some(RefreshError::Fetch(FetchError::File {
                kind: std::io::ErrorKind::NotFound,
                ..
            }))
        ),
        "{status:?}"
    );
    // The source comes back: the next request to find it due loads it.
    s.write("deny.json", &list(2, &[]));
    s.clock.advance(10);
    assert_eq!(reason(&a, &device).await, None);
}

#[tokio::test]
async fn a_confirmed_list_stays_in_force_past_max_age() {
    // max_age counts from the source's last confirmation (a 304, or the
    // same bytes), not from the install.
    let s = Fixture::new();
    let a = started(&s, &[]).await;
    let device = s.ca.leaf(&[1]).pem();
    for _ in 0..200 {
        s.clock.advance(10);
        assert_eq!(a.decide(Some(&device)).await.decision.reason(), None);
    }
    assert_eq!(a.deny_list_status().unwrap().installs, 1);
}

#[test]
fn deny_list_settings_are_validated() {
    let s = Fixture::new();
    let base = |extra: &str| {
        Config::from_json(&format!(
            r#"{{"truststore":"{}","issuers":[{{"name":"d","match":{{"CN":"x"}},"revocation":"none"}}]{extra}}}"#,
            s.file_uri("truststore.pem")
        ))
    };
    let ok = base(r#","deny_list":"s3://b/deny.json""#).unwrap();
    let dl = ok.deny_list().unwrap();
    assert_eq!((dl.refresh_seconds(), dl.max_age_seconds()), (10, 900));
    assert!(base("").unwrap().deny_list().is_none());
    let range = |value, min, max| ConfigProblem::OutOfRange { value, min, max };
    for (bad, setting, problem) in [
        (
            r#","deny_list":"ftp://x/y""#,
            "deny_list",
            ConfigProblem::UnsupportedUri(UnsupportedUri),
        ),
        (
            r#","deny_list":"s3://b/deny.json","deny_list_refresh_seconds":0"#,
            "deny_list_refresh_seconds",
            range(0, 1, 3600),
        ),
        (
            r#","deny_list":"s3://b/deny.json","deny_list_refresh_seconds":3601"#,
            "deny_list_refresh_seconds",
            range(3601, 1, 3600),
        ),
        (
            r#","deny_list":"s3://b/deny.json","deny_list_refresh_seconds":60,"deny_list_max_age_seconds":30"#,
            "deny_list_max_age_seconds",
            range(30, 60, MAX_GRACE_SECONDS),
        ),
        (
            r#","deny_list":"s3://b/deny.json","deny_list_max_age_seconds":604801"#,
            "deny_list_max_age_seconds",
            range(604_801, 10, MAX_GRACE_SECONDS),
        ),
    ] {
        let e = base(bad).unwrap_err();
        assert_eq!(
            (e.entry, e.setting, e.item, e.problem),
            (None, setting, None, problem),
            "{bad}"
        );
    }
    let typo = base(r#","deny_list":"s3://b/deny.json","deny_list_typo":1"#).unwrap_err();
    assert!(
        matches!(
            typo.problem,
            ConfigProblem::Json {
                category: JsonCategory::Data,
                ..
            }
        ),
        "{typo:?}"
    );
}

#[tokio::test]
async fn a_fingerprint_entry_also_denies_the_ecdsa_twin_of_the_certificate() {
    // Whoever holds a stolen certificate can swap its signature (r, s) for
    // (r, n - s): the same signed part, still valid, another fingerprint.
    let s = Fixture::new();
    let stolen = s.ca.leaf(&[7]).pem();
    let der = certificate_der(Some(&stolen)).unwrap();
    let a = started(&s, &[by_fingerprint(&stolen)]).await;
    assert_eq!(reason(&a, &stolen).await, Some(DenyReason::DenyListed));
    let twin = ecdsa_p256_twin(&der);
    assert_ne!(twin, der);
    assert_eq!(
        reason(&a, &pem_block("CERTIFICATE", &twin)).await,
        Some(DenyReason::DenyListed)
    );
    // The twin of a device that is not listed verifies and is allowed, and
    // listing the twin's fingerprint denies the original.
    let other = s.ca.leaf(&[8]).pem();
    let other_twin = ecdsa_p256_twin(&certificate_der(Some(&other)).unwrap());
    assert_eq!(
        reason(&a, &pem_block("CERTIFICATE", &other_twin)).await,
        None
    );
    publish(
        &s,
        2,
        &[by_fingerprint(&pem_block("CERTIFICATE", &other_twin))],
    );
    s.clock.advance(10);
    assert_eq!(reason(&a, &other).await, Some(DenyReason::DenyListed));
}

#[tokio::test]
async fn a_different_list_with_the_same_sequence_is_refused() {
    let s = Fixture::new();
    let device = s.ca.leaf(&[0x0a]).pem();
    s.write("devices.crl", &s.ca.crl().der());
    s.write("deny.json", &list(5, &[by_fingerprint(&device)]));
    let a = s
        .start(with_deny_list(
            &s,
            &s.devices_entry(&s.file_uri("devices.crl")),
        ))
        .await;
    // Another version of sequence 5, without the entry: replayed, or a hand
    // edit that did not raise the sequence. Nothing says which is newer.
    publish(&s, 5, &[]);
    s.clock.advance(10);
    assert_eq!(reason(&a, &device).await, Some(DenyReason::DenyListed));
    assert_eq!(
        a.deny_list_status().unwrap().last_error,
        Some(RefreshError::Refused(Error::DenyListSequenceReused {
            sequence: 5
        }))
    );
    // The same entries under the same sequence, written again, are fine.
    s.write(
        "deny.json",
        format!(
            " {}",
            String::from_utf8(list(5, &[by_fingerprint(&device)])).unwrap()
        )
        .as_bytes(),
    );
    let f = std::fs::File::options()
        .write(true)
        .open(s.path("deny.json"))
        .unwrap();
    f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(60))
        .unwrap();
    s.clock.advance(10);
    assert_eq!(reason(&a, &device).await, Some(DenyReason::DenyListed));
    assert_eq!(a.deny_list_status().unwrap().last_error, None);
}

#[tokio::test]
async fn a_path_deeper_than_the_bound_is_refused_not_half_checked() {
    // Eleven CAs above the device: the ones past the bound could not be
    // checked against the deny list or CA CRLs, so the device is refused.
    let s = Fixture::new();
    let mut chain = vec![Ca::new(ORG, "Root CA")];
    for i in 0..9u8 {
        let next = chain
            .last()
            .unwrap()
            .subordinate(ORG, &format!("Level {i} CA"), &[0x60 + i]);
        chain.push(next);
    }
    let issuing = chain
        .last()
        .unwrap()
        .subordinate(ORG, "Devices CA", &[0x51]);
    let mut bundle: String = chain.iter().map(|c| c.pem().to_owned()).collect();
    bundle.push_str(issuing.pem());
    s.write("truststore.pem", bundle.as_bytes());
    s.write("devices.crl", &issuing.crl().der());
    s.write("deny.json", &list(1, &[]));
    let a = s
        .start(with_deny_list(
            &s,
            &s.devices_entry(&s.file_uri("devices.crl")),
        ))
        .await;
    assert_eq!(
        reason(&a, &issuing.leaf(&[1]).pem()).await,
        Some(DenyReason::IssuerNotAllowed)
    );
    // Within the bound (the device's issuing CA at the eighth level), allowed.
    let shallow = chain[6].subordinate(ORG, "Devices CA", &[0x52]);
    let mut bundle: String = chain[..7].iter().map(|c| c.pem().to_owned()).collect();
    bundle.push_str(shallow.pem());
    s.write("truststore.pem", bundle.as_bytes());
    s.write("devices.crl", &shallow.crl().der());
    let a = s
        .start(with_deny_list(
            &s,
            &s.devices_entry(&s.file_uri("devices.crl")),
        ))
        .await;
    assert_eq!(reason(&a, &shallow.leaf(&[1]).pem()).await, None);
}
