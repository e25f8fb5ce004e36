//! The process-wide state over `file://` sources with an injected clock:
//! cold-start loading, refresh, grace, rollback and isolation. No sleeps.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use authorizer::config::Config;
use authorizer::decision::DenyReason;
use authorizer::error::Error;
use authorizer::lambda::{Authorizer, HttpApiResponse};
use authorizer::time::{ManualClock, UnixTime};
use mtls_tests::pki::{self, Ca};
use time::Duration;

const ORG: &str = "Temperature Testers, Inc.";

struct Setup {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    ca: Ca,
    clock: Arc<ManualClock>,
}

impl Setup {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ca = Ca::new(ORG, "Devices CA");
        std::fs::write(dir.path().join("truststore.pem"), ca.pem()).unwrap();
        Self {
            dir: dir.path().to_path_buf(),
            _dir: dir,
            ca,
            clock: Arc::new(ManualClock::new(UnixTime(pki::unix(pki::now())))),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn write_crl(&self, name: &str, der: &[u8]) {
        // Write then rename, as a publisher would, so readers never see half a file.
        let tmp = self.path(&format!("{name}.tmp"));
        std::fs::write(&tmp, der).unwrap();
        std::fs::rename(tmp, self.path(name)).unwrap();
    }

    fn config(&self, issuers: &str) -> Config {
        Config::from_json(&format!(
            r#"{{"truststore":"file://{}","issuers":[{issuers}],
                "crl_refresh_seconds":300,"crl_retry_seconds":30,"crl_grace_seconds":3600}}"#,
            self.path("truststore.pem").display()
        ))
        .unwrap()
    }

    fn devices_entry(&self) -> String {
        format!(
            r#"{{"name":"devices","match":{{"CN":"Devices CA"}},"crl":"file://{}"}}"#,
            self.path("devices.crl").display()
        )
    }

    async fn start(&self, config: Config) -> Authorizer {
        Authorizer::start(config, self.clock.clone(), HttpApiResponse::Simple)
            .await
            .unwrap()
    }
}

async fn reason(a: &Authorizer, pem: &str) -> Option<DenyReason> {
    a.decide(Some(pem)).await.decision.reason()
}

fn bump_mtime(path: &Path) {
    // Same-length rewrites within one mtime tick must still look changed.
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(5))
        .unwrap();
}

#[tokio::test]
async fn crl_is_loaded_at_cold_start_before_any_request() {
    let s = Setup::new();
    s.write_crl("devices.crl", &s.ca.crl().revoke(&[9]).der());
    let a = s.start(s.config(&s.devices_entry())).await;
    let status = a.crl_status(0).unwrap();
    assert_eq!(status.installs, 1);
    assert_eq!(status.entries, Some(1));
    assert_eq!(
        reason(&a, &s.ca.leaf(&[9]).pem()).await,
        Some(DenyReason::Revoked)
    );
    assert_eq!(
        a.crl_status(0).unwrap().installs,
        1,
        "the first request did not reload"
    );
}

#[tokio::test]
async fn new_revocation_takes_effect_after_the_refresh_interval_and_not_before() {
    let s = Setup::new();
    s.write_crl("devices.crl", &s.ca.crl().number(1).der());
    let a = s.start(s.config(&s.devices_entry())).await;
    let device = s.ca.leaf(&[0x42]).pem();
    assert_eq!(reason(&a, &device).await, None);

    s.write_crl("devices.crl", &s.ca.crl().number(2).revoke(&[0x42]).der());
    bump_mtime(&s.path("devices.crl"));
    s.clock.advance(299);
    assert_eq!(
        reason(&a, &device).await,
        None,
        "still inside crl_refresh_seconds"
    );
    s.clock.advance(1);
    assert_eq!(reason(&a, &device).await, Some(DenyReason::Revoked));
    assert_eq!(a.crl_status(0).unwrap().number.as_deref(), Some("02"));
}

#[tokio::test]
async fn unchanged_crl_file_is_not_parsed_again() {
    let s = Setup::new();
    s.write_crl("devices.crl", &s.ca.crl().der());
    let a = s.start(s.config(&s.devices_entry())).await;
    for _ in 0..3 {
        s.clock.advance(301);
        assert_eq!(reason(&a, &s.ca.leaf(&[1]).pem()).await, None);
    }
    // Same bytes under a new mtime: read, recognised by digest, not re-parsed.
    bump_mtime(&s.path("devices.crl"));
    s.clock.advance(301);
    assert_eq!(reason(&a, &s.ca.leaf(&[1]).pem()).await, None);
    assert_eq!(a.crl_status(0).unwrap().installs, 1);
}

#[tokio::test]
async fn failed_refresh_keeps_the_last_good_crl_until_next_update_plus_grace() {
    let s = Setup::new();
    let t = pki::now();
    s.write_crl(
        "devices.crl",
        &s.ca
            .crl()
            .times(t - Duration::minutes(5), t + Duration::hours(1))
            .revoke(&[0x42])
            .der(),
    );
    let a = s.start(s.config(&s.devices_entry())).await;
    std::fs::remove_file(s.path("devices.crl")).unwrap();

    let good = s.ca.leaf(&[1]).pem();
    let revoked = s.ca.leaf(&[0x42]).pem();
    // Past nextUpdate (1 h) but inside the grace (1 h): still decided with the old CRL.
    s.clock.advance(90 * 60);
    assert_eq!(reason(&a, &good).await, None);
    assert_eq!(reason(&a, &revoked).await, Some(DenyReason::Revoked));
    assert!(matches!(
        a.crl_status(0).unwrap().last_error,
        Some(Error::Fetch { .. })
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
    s.write_crl("devices.crl", &crl.der());
    s.clock.advance(30);
    assert_eq!(reason(&a, &good).await, None);
    assert_eq!(reason(&a, &revoked).await, Some(DenyReason::Revoked));
    let status = a.crl_status(0).unwrap();
    assert_eq!((status.installs, status.number.as_deref()), (2, Some("02")));
}

#[tokio::test]
async fn failed_fetches_are_retried_after_the_retry_interval_not_on_every_request() {
    let s = Setup::new();
    s.write_crl("devices.crl", &s.ca.crl().number(1).der());
    let a = s.start(s.config(&s.devices_entry())).await;
    std::fs::remove_file(s.path("devices.crl")).unwrap();
    s.clock.advance(300);
    let _ = reason(&a, &s.ca.leaf(&[1]).pem()).await; // fails, records the error
    s.write_crl("devices.crl", &s.ca.crl().number(2).revoke(&[1]).der());
    s.clock.advance(29);
    assert_eq!(
        reason(&a, &s.ca.leaf(&[1]).pem()).await,
        None,
        "no retry before crl_retry_seconds"
    );
    s.clock.advance(1);
    assert_eq!(
        reason(&a, &s.ca.leaf(&[1]).pem()).await,
        Some(DenyReason::Revoked)
    );
}

#[tokio::test]
async fn rolled_back_crl_is_refused_and_the_last_good_stays() {
    let s = Setup::new();
    s.write_crl("devices.crl", &s.ca.crl().number(5).revoke(&[0x42]).der());
    let a = s.start(s.config(&s.devices_entry())).await;
    // An attacker (or a stale replica) serves an older, valid, signed CRL without the revocation.
    s.write_crl("devices.crl", &s.ca.crl().number(4).der());
    bump_mtime(&s.path("devices.crl"));
    s.clock.advance(300);
    assert_eq!(
        reason(&a, &s.ca.leaf(&[0x42]).pem()).await,
        Some(DenyReason::Revoked)
    );
    let status = a.crl_status(0).unwrap();
    assert_eq!(status.number.as_deref(), Some("05"));
    assert!(
        matches!(status.last_error, Some(Error::CrlRollback { .. })),
        "{status:?}"
    );
}

#[tokio::test]
async fn crl_tampered_on_disk_is_refused_and_the_last_good_stays() {
    let s = Setup::new();
    s.write_crl("devices.crl", &s.ca.crl().number(1).revoke(&[0x42]).der());
    let a = s.start(s.config(&s.devices_entry())).await;
    s.write_crl(
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
        a.crl_status(0).unwrap().last_error,
        Some(Error::CrlBadSignature { .. })
    ));
}

#[tokio::test]
async fn crl_missing_at_cold_start_denies_that_issuer_only_and_recovers_later() {
    let s = Setup::new();
    let lab = Ca::new(ORG, "Lab CA");
    let bundle = format!("{}{}", s.ca.pem(), lab.pem());
    std::fs::write(s.path("truststore.pem"), bundle).unwrap();
    s.write_crl("lab.crl", &lab.crl().der());
    let lab_entry = format!(
        r#"{{"name":"lab","match":{{"CN":"Lab CA"}},"crl":"file://{}"}}"#,
        s.path("lab.crl").display()
    );
    // devices.crl does not exist yet.
    let a = s
        .start(s.config(&format!("{},{lab_entry}", s.devices_entry())))
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
    s.write_crl("devices.crl", &s.ca.crl().der());
    s.clock.advance(30);
    assert_eq!(reason(&a, &s.ca.leaf(&[1]).pem()).await, None);
}

#[tokio::test]
async fn cold_start_without_a_readable_truststore_fails() {
    let s = Setup::new();
    std::fs::write(s.path("truststore.pem"), "not a bundle").unwrap();
    s.write_crl("devices.crl", &s.ca.crl().der());
    let err = Authorizer::start(
        s.config(&s.devices_entry()),
        s.clock.clone(),
        HttpApiResponse::Simple,
    )
    .await;
    assert!(matches!(err, Err(Error::Truststore(_))), "{err:?}");
}

#[tokio::test]
async fn truststore_rotation_is_picked_up_on_refresh() {
    let s = Setup::new();
    let lab = Ca::new(ORG, "Lab CA");
    s.write_crl("devices.crl", &s.ca.crl().der());
    let config = Config::from_json(&format!(
        r#"{{"truststore":"file://{}","truststore_refresh_seconds":60,"issuers":[
            {{"name":"devices","match":{{"CN":"Devices CA"}},"crl":"file://{}"}},
            {{"name":"lab","match":{{"CN":"Lab CA"}},"revocation":"none"}}]}}"#,
        s.path("truststore.pem").display(),
        s.path("devices.crl").display()
    ))
    .unwrap();
    let a = s.start(config).await;
    // A lab certificate forged by an impostor passes DN matching while the
    // truststore lacks the lab CA; once the CA is in the bundle, its signature is checked.
    let forged = lab.impostor().leaf(&[1]).pem();
    assert_eq!(reason(&a, &forged).await, None);
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
    assert_eq!(reason(&a, &lab.leaf(&[2]).pem()).await, None);
}
