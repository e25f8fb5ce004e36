//! Look-alike subject names are different identities. A CA that copies CSR
//! subjects issues `CN=good` as UTF8String to the real device and as
//! BMPString or PrintableString to others: all three print as the same DN
//! text, so only the exact DER can tell them apart. End to end, through the
//! real authorizer and api-handler behind the local gateway.

use crate::common;

use common::{Running, client, curl, dev_stack, now_rfc3339, whoami_as};
use mtls_pki::pki::{IssueOptions, Pki};
use rcgen::string::{BmpString, PrintableString};
use rcgen::{CertificateParams, DistinguishedName, DnType, DnValue, KeyPair};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

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
    pki.issue(name, &opts, OffsetDateTime::now_utc()).unwrap();
    let (cert, key_path) = client(&run.stack.devices, name);
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    (cert, key_path)
}

/// A reading as an earlier release stored it for the identity `me` (a
/// `/whoami` answer): under the DN-text key of that release (`dn-sha256:`,
/// SHA-256 over the issuer and subject DN texts, each length-prefixed; the
/// api-handler's `Identity::legacy_key`), written straight into the local
/// store's SQLite file (the api-handler's `store/local.rs`, schema version 1),
/// so that no code of the current release stores it.
fn seed_legacy_reading(data: &std::path::Path, me: &Value, temperature: f64, at: OffsetDateTime) {
    let text = |key: &str| me[key].as_str().unwrap().to_owned();
    let (subject, issuer, serial) = (text("subjectDn"), text("issuerDn"), text("serialNumber"));
    let digest = mtls_x509::signed::sha256_of_parts(&[issuer.as_bytes(), subject.as_bytes()]);
    let legacy = format!("dn-sha256:{}", hex::encode(digest));
    // The store's sort key: RFC 3339 UTC with nine fraction digits, so that
    // text order is time order.
    let sort_key = |t: OffsetDateTime| {
        let t = t.to_offset(time::UtcOffset::UTC);
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.nanosecond()
        )
    };
    let now = OffsetDateTime::now_utc();
    std::fs::create_dir_all(data).unwrap();
    let db = rusqlite::Connection::open(data.join("temps.sqlite3")).unwrap();
    // The handler may hold the file open (WAL): wait out its brief locks.
    db.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
    db.execute_batch(
        "CREATE TABLE IF NOT EXISTS readings (
            identity_key  TEXT NOT NULL,
            reading_time  TEXT NOT NULL,
            temperature   REAL NOT NULL,
            subject_dn    TEXT NOT NULL,
            issuer_dn     TEXT NOT NULL,
            serial_number TEXT NOT NULL,
            received_at   TEXT NOT NULL,
            expires_at    INTEGER NOT NULL,
            PRIMARY KEY (identity_key, reading_time)
        ) WITHOUT ROWID;",
    )
    .unwrap();
    let inserted = db
        .execute(
            "INSERT INTO readings (identity_key, reading_time, temperature, subject_dn,
                 issuer_dn, serial_number, received_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            rusqlite::params![
                legacy,
                sort_key(at),
                temperature,
                subject,
                issuer,
                serial,
                sort_key(now),
                (now + Duration::days(30)).unix_timestamp()
            ],
        )
        .unwrap();
    assert_eq!(inserted, 1);
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
    seed_legacy_reading(
        &run.stack.data,
        &me,
        18.5,
        OffsetDateTime::now_utc() - Duration::days(2),
    );

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
