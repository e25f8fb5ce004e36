//! CA revocation through the process-wide state: the CAs above a client
//! certificate, checked against their parents' CRLs (ARLs) configured under
//! `ca_revocation`, over `file://` sources with an injected clock.

use crate::common;

use common::{Fixture, ORG, reason};
use mtls_policy::config::{Config, ConfigProblem, Entry, JsonCategory};
use mtls_policy::decision::DenyReason;
use mtls_tests::pki::Ca;

/// root → issuing CA (`Devices CA`, serial 0x51) → devices; the truststore
/// holds both CAs, and the issuing CA's own CRL is in `devices.crl`.
struct Chain {
    s: Fixture,
    root: Ca,
    issuing: Ca,
}

const ARL_URI: &str = "http://crl.example.test/ca.crl";

impl Chain {
    fn new() -> Self {
        let s = Fixture::new();
        let root = Ca::new(ORG, "Root CA");
        let issuing = root.subordinate_with_cdp(ORG, "Devices CA", &[0x51], &[ARL_URI]);
        s.write(
            "truststore.pem",
            format!("{}{}", root.pem(), issuing.pem()).as_bytes(),
        );
        s.write("devices.crl", &issuing.crl().der());
        Self { s, root, issuing }
    }

    /// The devices entry, plus `extra` top-level fields (starting with a comma).
    fn config(&self, extra: &str) -> Config {
        self.s.config(
            &self.s.devices_entry(&self.s.file_uri("devices.crl")),
            extra,
        )
    }

    fn root_entry(&self) -> String {
        format!(
            r#","ca_revocation":[{{"name":"root","match":{{"CN":"Root CA"}},"crl":"{}"}}]"#,
            self.s.file_uri("root.crl")
        )
    }

    fn device(&self) -> String {
        self.issuing.leaf(&[1]).pem()
    }
}

#[tokio::test]
async fn a_root_crl_listing_the_issuing_ca_denies_its_devices_ca_revoked() {
    let c = Chain::new();
    c.s.write("root.crl", &c.root.crl().revoke(&[0x51]).der());
    let a = c.s.start(c.config(&c.root_entry())).await;
    assert_eq!(reason(&a, &c.device()).await, Some(DenyReason::CaRevoked));
}

#[tokio::test]
async fn a_root_crl_not_listing_the_issuing_ca_allows_and_a_later_one_that_lists_it_denies() {
    let c = Chain::new();
    c.s.write("root.crl", &c.root.crl().number(1).revoke(&[0x99]).der());
    let a = c.s.start(c.config(&c.root_entry())).await;
    assert_eq!(reason(&a, &c.device()).await, None);
    c.s.write("root.crl", &c.root.crl().number(2).revoke(&[0x51]).der());
    let f = std::fs::File::options()
        .write(true)
        .open(c.s.path("root.crl"))
        .unwrap();
    f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(5))
        .unwrap();
    c.s.clock.advance(300);
    // Stale-while-revalidate, as for the devices' own CRL.
    assert_eq!(reason(&a, &c.device()).await, None);
    assert_eq!(reason(&a, &c.device()).await, Some(DenyReason::CaRevoked));
}

#[tokio::test]
async fn an_arl_scoped_to_ca_certificates_covers_the_issuing_ca() {
    let c = Chain::new();
    c.s.write(
        "root.crl",
        &c.root.crl().ca_certs_only().revoke(&[0x51]).der(),
    );
    let a = c.s.start(c.config(&c.root_entry())).await;
    assert_eq!(reason(&a, &c.device()).await, Some(DenyReason::CaRevoked));
}

#[tokio::test]
async fn a_root_crl_scoped_to_end_entities_never_covers_a_ca() {
    let c = Chain::new();
    // It lists the CA's serial, and still must not be read as covering it:
    // it is refused at load, and the CA is then unchecked.
    c.s.write(
        "root.crl",
        &c.root.crl().user_certs_only().revoke(&[0x51]).der(),
    );
    let a = c.s.start(c.config(&c.root_entry())).await;
    assert_eq!(
        reason(&a, &c.device()).await,
        Some(DenyReason::CrlUnavailable)
    );
    let status = a.crl_sources(0);
    assert_eq!(status.len(), 1, "the devices' own CRL");
}

#[tokio::test]
async fn a_configured_root_crl_that_is_missing_denies_crl_unavailable() {
    let c = Chain::new();
    let a = c.s.start(c.config(&c.root_entry())).await;
    assert_eq!(
        reason(&a, &c.device()).await,
        Some(DenyReason::CrlUnavailable)
    );
}

#[tokio::test]
async fn ca_revocation_required_denies_a_ca_whose_parent_has_no_entry() {
    let c = Chain::new();
    let other_root = format!(
        r#","ca_revocation_required":true,"ca_revocation":[{{"name":"elsewhere","match":{{"CN":"Another Root"}},"crl":"{}"}}]"#,
        c.s.file_uri("other.crl")
    );
    let a = c.s.start(c.config(&other_root)).await;
    assert_eq!(
        reason(&a, &c.device()).await,
        Some(DenyReason::CrlUnavailable)
    );
    // Without `required`, the CA whose parent has no entry is not checked.
    let optional = other_root.replace(r#""ca_revocation_required":true,"#, "");
    let a = c.s.start(c.config(&optional)).await;
    assert_eq!(reason(&a, &c.device()).await, None);
}

#[tokio::test]
async fn ca_revocation_required_with_a_missing_root_crl_gives_crl_unavailable() {
    let c = Chain::new();
    let required = c
        .root_entry()
        .replacen(',', r#","ca_revocation_required":true,"#, 1);
    let a = c.s.start(c.config(&required)).await;
    assert_eq!(
        reason(&a, &c.device()).await,
        Some(DenyReason::CrlUnavailable)
    );
    c.s.write("root.crl", &c.root.crl().der());
    c.s.clock.advance(30);
    assert_eq!(reason(&a, &c.device()).await, None);
}

#[tokio::test]
async fn a_device_issued_by_the_trust_anchor_itself_needs_no_ca_crl() {
    let c = Chain::new();
    let required = c
        .root_entry()
        .replacen(',', r#","ca_revocation_required":true,"#, 1);
    c.s.write("root.crl", &c.root.crl().der());
    let entries = format!(
        r#"{{"name":"root-devices","match":{{"CN":"Root CA"}},"crl":"{}"}}"#,
        c.s.file_uri("root.crl")
    );
    let a = c.s.start(c.s.config(&entries, &required)).await;
    assert_eq!(reason(&a, &c.root.leaf(&[1]).pem()).await, None);
}

#[tokio::test]
async fn a_ca_revoked_on_one_of_two_paths_is_revoked() {
    // The issuing CA is cross-certified: the same name and key, signed by
    // the root and by a second root. Only the second root's CRL lists it.
    let c = Chain::new();
    let second = Ca::new(ORG, "Second Root");
    let cross = c.issuing.cross_certified_by(&second, &[0x77]);
    c.s.write(
        "truststore.pem",
        format!("{}{}{}{cross}", c.root.pem(), second.pem(), c.issuing.pem()).as_bytes(),
    );
    c.s.write("root.crl", &c.root.crl().der());
    c.s.write("second.crl", &second.crl().revoke(&[0x77]).der());
    let entries = format!(
        r#","ca_revocation":[{{"name":"root","match":{{"CN":"Root CA"}},"crl":"{}"}},{{"name":"second","match":{{"CN":"Second Root"}},"crl":"{}"}}]"#,
        c.s.file_uri("root.crl"),
        c.s.file_uri("second.crl"),
    );
    let a = c.s.start(c.config(&entries)).await;
    assert_eq!(reason(&a, &c.device()).await, Some(DenyReason::CaRevoked));
    // Clean on both paths: allowed.
    c.s.write("second.crl", &second.crl().number(2).der());
    let a = c.s.start(c.config(&entries)).await;
    assert_eq!(reason(&a, &c.device()).await, None);
}

#[test]
fn ca_revocation_settings_are_validated() {
    let s = Fixture::new();
    let base = |extra: &str| {
        Config::from_json(&format!(
            r#"{{"truststore":"{}","issuers":[{{"name":"d","match":{{"CN":"x"}},"revocation":"none"}}]{extra}}}"#,
            s.file_uri("truststore.pem")
        ))
    };
    assert!(
        base(r#","ca_revocation":[{"name":"r","match":{"CN":"R"},"crl":"s3://b/r.crl"}]"#).is_ok()
    );
    let first = Some(Entry::CaRevocation(0));
    for (bad, want) in [
        (
            r#","ca_revocation":[{"name":"r","match":{"CN":"R"}}]"#,
            Some((first, "crl", ConfigProblem::NoRevocation)),
        ),
        (
            r#","ca_revocation":[{"name":"r","match":{"CN":"R"},"revocation":"none"}]"#,
            None,
        ),
        (
            r#","ca_revocation":[{"name":"r","match":{},"crl":"s3://b/r.crl"}]"#,
            Some((first, "match", ConfigProblem::MatchesEveryCa)),
        ),
        (
            r#","ca_revocation":[{"name":"r","match":{"CN":"R"},"crl":"s3://b/r.crl","subject":{}}]"#,
            None,
        ),
        (
            r#","ca_revocation":[{"name":"r","match":{"CN":"R"},"crl":"s3://b/r.crl"},{"name":"r","match":{"CN":"Q"},"crl":"s3://b/q.crl"}]"#,
            Some((
                Some(Entry::CaRevocation(1)),
                "name",
                ConfigProblem::DuplicateName,
            )),
        ),
        (
            r#","ca_revocation_required":true"#,
            Some((
                None,
                "ca_revocation_required",
                ConfigProblem::CaRevocationRequired,
            )),
        ),
    ] {
        let e = base(bad).unwrap_err();
        match want {
            Some(want) => assert_eq!((e.entry, e.setting, e.problem), want, "{bad}"),
            // Not a field of a ca_revocation entry.
            None => assert!(
                matches!(
                    e.problem,
                    ConfigProblem::Json {
                        category: JsonCategory::Data,
                        ..
                    }
                ),
                "{bad}: {e:?}"
            ),
        }
    }
}
