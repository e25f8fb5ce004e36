//! The process-wide state over `file://` sources with an injected clock:
//! cold-start loading, refresh, grace, rollback and isolation. No sleeps.

use crate::common;

use std::path::Path;

use authorizer::fetch::FetchError;
use authorizer::lambda::{Authorizer, HttpApiResponse, RefreshError, StartError};
use common::{Fixture, ORG, reason};
use mtls_policy::config::Config;
use mtls_policy::decision::DenyReason;
use mtls_tests::pki::{self, Ca};
use mtls_x509::error::{Error, TruststoreProblem};
use time::Duration;

fn devices(s: &Fixture) -> Config {
    s.config(&s.devices_entry(&s.file_uri("devices.crl")), "")
}

fn bump_mtime(path: &Path) {
    // Same-length rewrites within one mtime tick must still look changed.
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(5))
        .unwrap();
}

#[tokio::test]
async fn crl_is_loaded_at_cold_start_before_any_request() {
    let s = Fixture::new();
    s.write("devices.crl", &s.ca.crl().revoke(&[9]).der());
    let a = s.start(devices(&s)).await;
    let status = a.crl_sources(0).remove(0);
    assert_eq!(status.installs, 1);
    assert_eq!(status.entries, Some(1));
    assert_eq!(
        reason(&a, &s.ca.leaf(&[9]).pem()).await,
        Some(DenyReason::Revoked)
    );
    assert_eq!(
        a.crl_sources(0).remove(0).installs,
        1,
        "the first request did not reload"
    );
}

#[tokio::test]
async fn new_revocation_takes_effect_after_the_refresh_interval_and_not_before() {
    let s = Fixture::new();
    s.write("devices.crl", &s.ca.crl().number(1).der());
    let a = s.start(devices(&s)).await;
    let device = s.ca.leaf(&[0x42]).pem();
    assert_eq!(reason(&a, &device).await, None);

    s.write("devices.crl", &s.ca.crl().number(2).revoke(&[0x42]).der());
    bump_mtime(&s.path("devices.crl"));
    s.clock.advance(299);
    assert_eq!(
        reason(&a, &device).await,
        None,
        "still inside crl_refresh_seconds"
    );
    s.clock.advance(1);
    // The request that finds the refresh due is answered with the CRL in
    // force while the refresh runs behind it (stale-while-revalidate).
    assert_eq!(reason(&a, &device).await, None);
    assert_eq!(reason(&a, &device).await, Some(DenyReason::Revoked));
    assert_eq!(a.crl_sources(0).remove(0).number.as_deref(), Some("02"));
}

#[tokio::test]
async fn unchanged_crl_file_is_recognised_and_not_installed_again() {
    let s = Fixture::new();
    s.write("devices.crl", &s.ca.crl().der());
    let a = s.start(devices(&s)).await;
    for _ in 0..3 {
        s.clock.advance(301);
        assert_eq!(reason(&a, &s.ca.leaf(&[1]).pem()).await, None);
    }
    // Same bytes under a new mtime: read once more, recognised by the
    // signature verification computed anyway, and not installed again.
    bump_mtime(&s.path("devices.crl"));
    s.clock.advance(301);
    assert_eq!(reason(&a, &s.ca.leaf(&[1]).pem()).await, None);
    assert_eq!(a.crl_sources(0).remove(0).installs, 1);
}

#[tokio::test]
async fn failed_refresh_keeps_the_last_good_crl_until_next_update_plus_grace() {
    let s = Fixture::new();
    let t = pki::now();
    s.write(
        "devices.crl",
        &s.ca
            .crl()
            .times(t - Duration::minutes(5), t + Duration::hours(1))
            .revoke(&[0x42])
            .der(),
    );
    let a = s.start(devices(&s)).await;
    std::fs::remove_file(s.path("devices.crl")).unwrap();

    let good = s.ca.leaf(&[1]).pem();
    let revoked = s.ca.leaf(&[0x42]).pem();
    // Past nextUpdate (1 h) but inside the grace (1 h): still decided with the old CRL.
    s.clock.advance(90 * 60);
    assert_eq!(reason(&a, &good).await, None);
    assert_eq!(reason(&a, &revoked).await, Some(DenyReason::Revoked));
    assert!(matches!(
        a.crl_sources(0).remove(0).last_error,
        Some(RefreshError::Fetch(FetchError::File {
            kind: std::io::ErrorKind::NotFound,
            ..
        }))
    ));
    // Past nextUpdate + grace: fail closed.
    s.clock.advance(31 * 60);
    assert_eq!(reason(&a, &good).await, Some(DenyReason::CrlUnavailable));
    // The CA publishes again (dated at the simulated time): recovered on the
    // next retry, without a restart.
    let republished = t + Duration::minutes(120);
    let crl =
        s.ca.crl()
            .number(2)
            .times(republished, republished + Duration::hours(1))
            .revoke(&[0x42]);
    s.write("devices.crl", &crl.der());
    s.clock.advance(30);
    assert_eq!(reason(&a, &good).await, None);
    assert_eq!(reason(&a, &revoked).await, Some(DenyReason::Revoked));
    let status = a.crl_sources(0).remove(0);
    assert_eq!((status.installs, status.number.as_deref()), (2, Some("02")));
}

#[tokio::test]
async fn failed_fetches_are_retried_after_the_retry_interval_not_on_every_request() {
    let s = Fixture::new();
    s.write("devices.crl", &s.ca.crl().number(1).der());
    let a = s.start(devices(&s)).await;
    std::fs::remove_file(s.path("devices.crl")).unwrap();
    s.clock.advance(300);
    let _ = reason(&a, &s.ca.leaf(&[1]).pem()).await; // fails, records the error
    s.write("devices.crl", &s.ca.crl().number(2).revoke(&[1]).der());
    s.clock.advance(29);
    assert_eq!(
        reason(&a, &s.ca.leaf(&[1]).pem()).await,
        None,
        "no retry before crl_retry_seconds"
    );
    s.clock.advance(1);
    let _ = reason(&a, &s.ca.leaf(&[1]).pem()).await; // retries, behind the request
    assert_eq!(
        reason(&a, &s.ca.leaf(&[1]).pem()).await,
        Some(DenyReason::Revoked)
    );
}

#[tokio::test]
async fn rolled_back_crl_is_refused_and_the_last_good_stays() {
    let s = Fixture::new();
    s.write("devices.crl", &s.ca.crl().number(5).revoke(&[0x42]).der());
    let a = s.start(devices(&s)).await;
    // An attacker (or a stale replica) serves an older, valid, signed CRL without the revocation.
    s.write("devices.crl", &s.ca.crl().number(4).der());
    bump_mtime(&s.path("devices.crl"));
    s.clock.advance(300);
    assert_eq!(
        reason(&a, &s.ca.leaf(&[0x42]).pem()).await,
        Some(DenyReason::Revoked)
    );
    let status = a.crl_sources(0).remove(0);
    assert_eq!(status.number.as_deref(), Some("05"));
    assert!(
        matches!(
            status.last_error,
            Some(RefreshError::Refused(Error::CrlRollback(_)))
        ),
        "{status:?}"
    );
}

#[tokio::test]
async fn crl_tampered_on_disk_is_refused_and_the_last_good_stays() {
    let s = Fixture::new();
    s.write("devices.crl", &s.ca.crl().number(1).revoke(&[0x42]).der());
    let a = s.start(devices(&s)).await;
    s.write(
        "devices.crl",
        &s.ca.crl().number(2).der_signed_by(&s.ca.impostor()),
    );
    bump_mtime(&s.path("devices.crl"));
    s.clock.advance(300);
    assert_eq!(
        reason(&a, &s.ca.leaf(&[0x42]).pem()).await,
        Some(DenyReason::Revoked)
    );
    assert!(matches!(
        a.crl_sources(0).remove(0).last_error,
        Some(RefreshError::Refused(Error::CrlBadSignature { .. }))
    ));
}

#[tokio::test]
async fn crl_missing_at_cold_start_denies_that_issuer_only_and_recovers_later() {
    let s = Fixture::new();
    let lab = Ca::new(ORG, "Lab CA");
    let bundle = format!("{}{}", s.ca.pem(), lab.pem());
    std::fs::write(s.path("truststore.pem"), bundle).unwrap();
    s.write("lab.crl", &lab.crl().der());
    let lab_entry = format!(
        r#"{{"name":"lab","match":{{"CN":"Lab CA"}},"crl":"{}"}}"#,
        s.file_uri("lab.crl")
    );
    // devices.crl does not exist yet.
    let devices_entry = s.devices_entry(&s.file_uri("devices.crl"));
    let a = s
        .start(s.config(&format!("{devices_entry},{lab_entry}"), ""))
        .await;
    assert_eq!(
        reason(&a, &s.ca.leaf(&[1]).pem()).await,
        Some(DenyReason::CrlUnavailable)
    );
    assert_eq!(
        reason(&a, &lab.leaf(&[1]).pem()).await,
        None,
        "the other issuer is unaffected"
    );
    s.write("devices.crl", &s.ca.crl().der());
    s.clock.advance(30);
    assert_eq!(reason(&a, &s.ca.leaf(&[1]).pem()).await, None);
}

#[tokio::test]
async fn cold_start_without_a_readable_truststore_fails() {
    let s = Fixture::new();
    std::fs::write(s.path("truststore.pem"), "not a bundle").unwrap();
    s.write("devices.crl", &s.ca.crl().der());
    let err = Authorizer::builder(devices(&s))
        .clock(s.clock.clone())
        .http_api_response(HttpApiResponse::Simple)
        .start()
        .await;
    assert!(
        matches!(
            err,
            Err(StartError::Truststore(RefreshError::Refused(
                Error::Truststore(TruststoreProblem::Empty)
            )))
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn truststore_rotation_is_picked_up_on_refresh() {
    let s = Fixture::new();
    let lab = Ca::new(ORG, "Lab CA");
    s.write("devices.crl", &s.ca.crl().der());
    let issuers = format!(
        r#"{},{{"name":"lab","match":{{"CN":"Lab CA"}},"revocation":"none"}}"#,
        s.devices_entry(&s.file_uri("devices.crl"))
    );
    let a = s
        .start(s.config(&issuers, r#","truststore_refresh_seconds":60"#))
        .await;
    // While the truststore lacks the lab CA, no lab certificate is trusted:
    // neither a forgery nor a genuine one.
    let forged = lab.impostor().leaf(&[1]).pem();
    let genuine = lab.leaf(&[2]).pem();
    assert_eq!(
        reason(&a, &forged).await,
        Some(DenyReason::IssuerNotAllowed)
    );
    assert_eq!(
        reason(&a, &genuine).await,
        Some(DenyReason::IssuerNotAllowed)
    );
    std::fs::write(
        s.path("truststore.pem"),
        format!("{}{}", s.ca.pem(), lab.pem()),
    )
    .unwrap();
    bump_mtime(&s.path("truststore.pem"));
    s.clock.advance(60);
    assert_eq!(
        reason(&a, &forged).await,
        Some(DenyReason::IssuerNotAllowed)
    );
    assert_eq!(reason(&a, &genuine).await, None);
}
