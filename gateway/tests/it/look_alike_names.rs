//! Look-alike subject names are different identities. A CA that copies CSR
//! subjects issues `CN=good` as UTF8String to the real device and as
//! BMPString or PrintableString to others: all three print as the same DN
//! text, so only the exact DER can tell them apart. End to end, through the
//! real authorizer and api-handler behind the local gateway.

use crate::common;

use std::collections::HashMap;

use common::{Running, client, curl, dev_stack, now_rfc3339, whoami_as};
use rcgen::string::{BmpString, PrintableString};
use rcgen::{CertificateParams, DistinguishedName, DnType, DnValue, KeyPair};
use serde_json::Value;
use truststore::pki::{IssueOptions, Pki};

/// Has the stack's devices CA sign a CSR whose CN is `cn`, as a CA that
/// copies CSR subjects does; returns the client's `(cert, key)` files.
fn issue_from_csr(
    run: &Running,
    name: &str,
    cn: DnValue,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "Temperature Testers");
    dn.push(DnType::CommonName, cn);
    params.distinguished_name = dn;
    let csr = params.serialize_request(&key).unwrap().pem().unwrap();
    let pki = Pki::at(&run.stack.devices);
    let opts = IssueOptions {
        days: 30,
        csr_pem: Some(csr),
        ..IssueOptions::default()
    };
    pki.issue(name, &opts, time::OffsetDateTime::now_utc())
        .unwrap();
    let (cert, key_path) = client(&run.stack.devices, name);
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    (cert, key_path)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn look_alike_subject_names_get_other_identities_and_read_nothing_of_the_real_device() {
    let run = dev_stack(&[]).await;
    let good = client(&run.stack.devices, "good");
    let me = whoami_as(&run, &good).await;
    assert_eq!(me.status, 200, "{me:?}");
    let me = me.json();
    assert_eq!(me["subjectDn"], "O=Temperature Testers,CN=good");
    assert!(
        me["identityKey"]
            .as_str()
            .unwrap()
            .starts_with("name-sha256:")
    );

    // A reading the real device stored with an earlier release, under the
    // DN-text key, written the way that release's store wrote it.
    let context: HashMap<String, Value> = serde_json::from_value(me.clone()).unwrap();
    let owner = api_handler::identity::Identity::from_context(&context).unwrap();
    let legacy = owner.legacy_key();
    let store =
        api_handler::store::LocalStore::open(&run.stack.data, time::OffsetDateTime::now_utc())
            .unwrap();
    let old = api_handler::reading::Reading {
        temperature: 18.5,
        time: api_handler::reading::ReadingTime::from_instant(
            time::OffsetDateTime::now_utc() - time::Duration::days(2),
        ),
    };
    let now = time::OffsetDateTime::now_utc();
    api_handler::store::Store::put(
        &store,
        api_handler::store::NewReading {
            identity: &owner,
            key: &legacy,
            reading: &old,
            received_at: now,
            expires_at: now + time::Duration::days(30),
        },
    )
    .await
    .unwrap();
    drop(store);

    let body = format!(r#"{{"temperature": 21.5, "time": "{}"}}"#, now_rfc3339());
    let r = curl(&run, Some(&good), "POST", "/temps", Some(&body)).await;
    assert_eq!(r.status, 201, "{r:?}");
    let mine = curl(&run, Some(&good), "GET", "/temps", None).await.json();
    let temps: Vec<f64> = mine["readings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["temperature"].as_f64().unwrap())
        .collect();
    assert_eq!(
        temps,
        [21.5, 18.5],
        "the real device reads its old readings too: {mine}"
    );

    for (name, cn) in [
        (
            "lookalike-bmp",
            DnValue::BmpString(BmpString::try_from("good").unwrap()),
        ),
        (
            "lookalike-printable",
            DnValue::PrintableString(PrintableString::try_from("good").unwrap()),
        ),
    ] {
        let twin = issue_from_csr(&run, name, cn);
        let seen = whoami_as(&run, &twin).await;
        assert_eq!(seen.status, 200, "{name}: {seen:?}");
        let seen = seen.json();
        // The same text, as the DN form is lossy by design ...
        assert_eq!(seen["subjectDn"], me["subjectDn"], "{name}");
        // ... but another identity, which reads nothing of the real device's:
        // neither under the new key nor under the old, text-based one.
        assert_ne!(seen["identityKey"], me["identityKey"], "{name}");
        assert_ne!(seen["nameSha256"], me["nameSha256"], "{name}");
        let theirs = curl(&run, Some(&twin), "GET", "/temps", None).await;
        assert_eq!(theirs.status, 200, "{name}: {theirs:?}");
        assert_eq!(theirs.json()["readings"], serde_json::json!([]), "{name}");
    }
}
