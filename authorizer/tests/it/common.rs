//! Shared fixture for the integration tests: a CA named `Devices CA`, its
//! truststore in a temporary directory, and a manual clock set to now.

use std::path::PathBuf;
use std::sync::Arc;

use authorizer::lambda::{Authorizer, HttpApiResponse};
use mtls_policy::config::Config;
use mtls_policy::decision::{Decision, DenyReason, Engine, certificate_der};
use mtls_tests::pki::{self, Ca};
use mtls_x509::crl::VerifiedCrl;
use mtls_x509::time::{ManualClock, UnixTime};

pub const ORG: &str = "Temperature Testers, Inc.";

pub struct Fixture {
    _dir: tempfile::TempDir,
    pub dir: PathBuf,
    pub ca: Ca,
    pub clock: Arc<ManualClock>,
}

impl Fixture {
    pub fn new() -> Self {
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

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub fn file_uri(&self, name: &str) -> String {
        format!("file://{}", self.path(name).display())
    }

    /// Writes then renames, as a publisher would, so readers never see half a file.
    pub fn write(&self, name: &str, bytes: &[u8]) {
        let tmp = self.path(&format!("{name}.tmp"));
        std::fs::write(&tmp, bytes).unwrap();
        std::fs::rename(tmp, self.path(name)).unwrap();
    }

    /// The `devices` issuer entry, with its CRL at `crl_uri`.
    pub fn devices_entry(&self, crl_uri: &str) -> String {
        format!(r#"{{"name":"devices","match":{{"CN":"Devices CA"}},"crl":"{crl_uri}"}}"#)
    }

    /// A configuration with these issuer entries and extra top-level fields
    /// (`extra` starts with a comma), refresh 300 s and retry 30 s.
    pub fn config(&self, issuers: &str, extra: &str) -> Config {
        Config::from_json(&format!(
            r#"{{"truststore":"{}","issuers":[{issuers}],
                "crl_refresh_seconds":300,"crl_retry_seconds":30,"crl_grace_seconds":3600{extra}}}"#,
            self.file_uri("truststore.pem")
        ))
        .unwrap()
    }

    pub async fn start(&self, config: Config) -> Authorizer {
        self.start_for(config, HttpApiResponse::Simple).await
    }

    pub async fn start_for(&self, config: Config, http: HttpApiResponse) -> Authorizer {
        Authorizer::builder(config)
            .clock(self.clock.clone())
            .http_api_response(http)
            .start()
            .await
            .unwrap()
    }
}

/// The deny reason for a certificate, `None` for Allow. A refresh this
/// request started behind it (stale-while-revalidate) is then let finish,
/// so the next request sees its outcome.
pub async fn reason(a: &Authorizer, pem: &str) -> Option<DenyReason> {
    let r = a.decide(Some(pem)).await.decision.reason();
    a.settle().await;
    r
}

/// The core's two steps, as `Authorizer::decide` runs them around its CRL
/// refresh: the certificate, then its revocation against `crls`. For the
/// rule tests and benches that hand the core CRLs they verified themselves;
/// the decision tests go through `Authorizer::decide` itself.
pub fn core_decide<'c>(
    engine: &Engine<'_>,
    pem: &str,
    now: UnixTime,
    crls: impl IntoIterator<Item = &'c VerifiedCrl>,
) -> Decision {
    let der = match certificate_der(Some(pem)) {
        Ok(der) => der,
        Err(deny) => return deny,
    };
    match engine.check_certificate(&der, now) {
        Err(deny) => deny,
        Ok(m) => {
            let unavailable = || "no CRL has been loaded for this issuer".to_owned();
            engine.check_revocation(m, crls, now, unavailable).decision
        }
    }
}
