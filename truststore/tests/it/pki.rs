//! The development PKI, checked with the openssl CLI and the authorizer's
//! own configuration parser; CRL publishing to file:// and to S3 (moto).

use crate::common;

use std::path::Path;
use std::process::Command;

use common::{stderr, stdout, truststore};
use mtls_tests::moto::Moto;

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = truststore(dir, args, &[]);
    assert!(
        out.status.success(),
        "{args:?}: {}{}",
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

/// `openssl verify -crl_check` against the PKI's truststore and CRL.
fn openssl_verify(dir: &Path, cert: &str) -> (bool, String) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args([
            "verify",
            "-crl_check",
            "-CAfile",
            "pki/truststore.pem",
            "-CRLfile",
            "pki/crl.pem",
            cert,
        ])
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn openssl(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn revoked_client_is_rejected_by_openssl_and_a_good_one_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let init = truststore(d, &["pki", "init", "--org", "Temperature Testers"], &[]);
    assert!(init.status.success(), "{}", stderr(&init));
    assert!(stderr(&init).contains("for local development and tests only"));
    ok(
        d,
        &["pki", "issue", "good", "--san", "dns:good.example.test"],
    );
    ok(
        d,
        &[
            "pki",
            "issue",
            "bad",
            "--key-type",
            "rsa2048",
            "--ou",
            "Lab",
        ],
    );
    ok(d, &["pki", "revoke", "bad", "--reason", "key-compromise"]);
    let crl = ok(d, &["pki", "crl"]);
    assert!(crl.contains("CRL number 2: 1 revoked"), "{crl}");

    let (good, out) = openssl_verify(d, "pki/clients/good.pem");
    assert!(good, "{out}");
    let (bad, out) = openssl_verify(d, "pki/clients/bad.pem");
    assert!(!bad, "a revoked certificate verified");
    assert!(out.contains("certificate revoked"), "{out}");

    // The CRL says why, and its number went up.
    let text = openssl(d, &["crl", "-in", "pki/crl.pem", "-noout", "-text"]);
    assert!(text.contains("Key Compromise"), "{text}");
    assert!(
        text.contains("X509v3 CRL Number: \n                2"),
        "{text}"
    );
    // The client certificate carries what was asked for.
    let text = openssl(
        d,
        &["x509", "-in", "pki/clients/bad.pem", "-noout", "-text"],
    );
    assert!(text.contains("OU = Lab"), "{text}");
    assert!(text.contains("TLS Web Client Authentication"), "{text}");
    assert!(text.contains("Public-Key: (2048 bit)"), "{text}");
    let text = openssl(
        d,
        &["x509", "-in", "pki/clients/good.pem", "-noout", "-text"],
    );
    assert!(text.contains("DNS:good.example.test"), "{text}");
}

#[test]
fn revocation_by_serial_and_crl_numbers_increase() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["pki", "init"]);
    let serial = "805a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a10";
    ok(d, &["pki", "issue", "twenty", "--serial", serial]);
    ok(
        d,
        &[
            "pki",
            "issue",
            "neighbour",
            "--serial",
            "805a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a11",
        ],
    );
    let text = openssl(
        d,
        &["x509", "-in", "pki/clients/twenty.pem", "-noout", "-serial"],
    );
    assert!(text.to_lowercase().contains(serial), "{text}");
    let out = ok(d, &["pki", "revoke", &serial.to_uppercase()]);
    assert!(
        out.contains("(twenty)"),
        "revoking by serial finds the name: {out}"
    );
    ok(d, &["pki", "crl"]);
    ok(d, &["pki", "crl"]);
    let text = openssl(d, &["crl", "-in", "pki/crl.pem", "-noout", "-crlnumber"]);
    assert!(
        text.contains("crlNumber=0x03") || text.contains("crlNumber=03"),
        "{text}"
    );
    assert!(!openssl_verify(d, "pki/clients/twenty.pem").0);
    assert!(
        openssl_verify(d, "pki/clients/neighbour.pem").0,
        "the neighbour serial must stay valid"
    );

    let again = truststore(d, &["pki", "revoke", "twenty"], &[]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("already revoked"));
    let unknown = truststore(d, &["pki", "revoke", "nobody-here"], &[]);
    assert_eq!(unknown.status.code(), Some(1));
}

#[test]
fn csr_is_signed_with_its_own_subject_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["pki", "init"]);
    openssl(
        d,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-384",
            "-nodes",
            "-keyout",
            "phone.key",
            "-out",
            "phone.csr",
            "-subj",
            "/O=Development/CN=phone-7",
        ],
    );
    let out = ok(d, &["pki", "issue", "phone", "--csr", "phone.csr"]);
    assert!(out.contains("CN=phone-7"), "{out}");
    assert!(
        !d.join("pki/clients/phone.key").exists(),
        "no key is made for a CSR"
    );
    assert!(openssl_verify(d, "pki/clients/phone.pem").0);
    // The certificate holds the CSR's key.
    let cert_key = openssl(
        d,
        &["x509", "-in", "pki/clients/phone.pem", "-noout", "-pubkey"],
    );
    let csr_key = openssl(d, &["pkey", "-in", "phone.key", "-pubout"]);
    assert_eq!(cert_key, csr_key);
    let export = truststore(d, &["pki", "export", "phone", "--password", "x"], &[]);
    assert_eq!(export.status.code(), Some(1));
    assert!(stderr(&export).contains("CSR"));
}

#[test]
fn pkcs12_export_opens_with_openssl_in_both_modes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["pki", "init"]);
    ok(d, &["pki", "issue", "tablet"]);
    let out = truststore(
        d,
        &["pki", "export", "tablet", "--password-env", "P12_PASSWORD"],
        &[("P12_PASSWORD", "correct horse")],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let info = openssl(
        d,
        &[
            "pkcs12",
            "-in",
            "pki/clients/tablet.p12",
            "-passin",
            "pass:correct horse",
            "-info",
            "-nokeys",
        ],
    );
    assert!(info.contains("AES-256-CBC"), "{info}");
    assert_eq!(
        info.matches("BEGIN CERTIFICATE").count(),
        3,
        "leaf, issuing CA, root"
    );
    let key = openssl(
        d,
        &[
            "pkcs12",
            "-in",
            "pki/clients/tablet.p12",
            "-passin",
            "pass:correct horse",
            "-nocerts",
            "-nodes",
        ],
    );
    assert!(key.contains("PRIVATE KEY"));

    ok(
        d,
        &[
            "pki",
            "export",
            "tablet",
            "--password",
            "pw",
            "--legacy",
            "-o",
            "legacy.p12",
        ],
    );
    let info = openssl(
        d,
        &[
            "pkcs12",
            "-legacy",
            "-in",
            "legacy.p12",
            "-passin",
            "pass:pw",
            "-info",
            "-nokeys",
        ],
    );
    assert!(info.contains("pbeWithSHA1And3-KeyTripleDES-CBC"), "{info}");
    assert!(info.contains("MAC: sha1"), "{info}");

    let wrong = Command::new("openssl")
        .current_dir(d)
        .args([
            "pkcs12",
            "-in",
            "pki/clients/tablet.p12",
            "-passin",
            "pass:wrong",
            "-noout",
        ])
        .output()
        .unwrap();
    assert!(!wrong.status.success(), "a wrong password must not open it");
}

#[test]
fn generated_truststore_validates_and_authorizer_accepts_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(
        d,
        &[
            "pki",
            "init",
            "--org",
            "Temperature Testers, Inc.",
            "--country",
            "US",
            "--ca-cn",
            "Devices CA",
            "--key-type",
            "ecdsa-p384",
            "--crl-uri",
            "s3://pki-bucket/devices.crl",
        ],
    );
    let out = truststore(d, &["validate", "pki/truststore.pem"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let text = std::fs::read_to_string(d.join("pki/authorizer.json")).unwrap();
    mtls_policy::config::Config::from_json(&text).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["issuers"][0]["crl"], "s3://pki-bucket/devices.crl");
    assert_eq!(
        json["issuers"][0]["match"]["O"],
        "Temperature Testers, Inc."
    );
    assert_eq!(json["issuers"][0]["match"]["C"], "US");
    assert!(json["truststore"].as_str().unwrap().starts_with("file:///"));

    // Keys are private to the user.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(d.join("pki/ca.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "ca.key is readable by others: {mode:o}");
    }
    let again = truststore(d, &["pki", "init"], &[]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("--force"));
}

#[test]
fn bad_names_and_sans_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["pki", "init"]);
    for (args, says) in [
        (vec!["pki", "issue", "../escape"], "certificate name"),
        (vec!["pki", "issue", "x", "--san", "ftp:nope"], "SAN"),
        (vec!["pki", "issue", "y", "--serial", "zz"], "serial"),
    ] {
        let out = truststore(d, &args, &[]);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
    let none = tempfile::tempdir().unwrap();
    let out = truststore(none.path(), &["pki", "issue", "x"], &[]);
    assert!(stderr(&out).contains("pki init"), "{}", stderr(&out));
}

#[tokio::test]
async fn crl_is_published_to_a_file_and_to_s3() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["pki", "init"]);
    let target = d.join("www/crl/devices.crl");
    ok(
        d,
        &["pki", "publish", &format!("file://{}", target.display())],
    );
    assert_eq!(
        std::fs::read(&target).unwrap(),
        std::fs::read(d.join("pki/crl.der")).unwrap()
    );

    let moto = Moto::start().await;
    let s3 = moto.s3().await;
    s3.create_bucket().bucket("pki").send().await.unwrap();
    let endpoint = moto.endpoint();
    let env = [
        ("AWS_ENDPOINT_URL_S3", endpoint.as_str()),
        ("S3_FORCE_PATH_STYLE", "true"),
    ];
    // moto is another process, so blocking on the CLI here is fine.
    let out = truststore(
        d,
        &["pki", "publish", "s3://pki/devices.crl.pem", "--pem"],
        &env,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let got = s3
        .get_object()
        .bucket("pki")
        .key("devices.crl.pem")
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_type(), Some("application/x-pem-file"));
    let body = got.body.collect().await.unwrap().into_bytes();
    assert_eq!(
        body.as_ref(),
        std::fs::read(d.join("pki/crl.pem")).unwrap().as_slice()
    );

    let bad = truststore(d, &["pki", "publish", "ftp://x/y"], &[]);
    assert_eq!(bad.status.code(), Some(1));
}
