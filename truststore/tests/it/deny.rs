//! `truststore deny …`, `truststore revoke` and `pki revoke --now`, through
//! the built binary: the list on a file and on S3 (moto), concurrent
//! writers, pruning with the development PKI's CRL, and AWS Private CA
//! (moto) revocation.

use crate::common;

use std::io::{Read as _, Write as _};
use std::path::Path;
use std::process::Output;

use aws_sdk_acmpca::primitives::Blob;
use aws_sdk_acmpca::types::{
    Asn1Subject, CertificateAuthorityConfiguration, CertificateAuthorityType, KeyAlgorithm,
    SigningAlgorithm, Validity, ValidityPeriodType,
};
use common::{Made, Spec, stderr, stdout, truststore, truststore_command, write};
use mtls_policy::denylist::{Document, Reason, Target};
use mtls_tests::moto::Moto;
use mtls_x509::serial::Serial;
use mtls_x509::signed::KeyId;

/// How many writers race in the concurrency tests.
const WRITERS: usize = 8;

fn doc_at(path: &Path) -> Document {
    Document::from_json(&std::fs::read(path).unwrap()).unwrap()
}

fn expect(out: &Output, code: i32, needle: &str) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        stdout(out),
        stderr(out)
    );
    let all = format!("{}{}", stdout(out), stderr(out));
    assert!(all.contains(needle), "{needle:?} not in: {all}");
}

/// A CA and a client certificate it issued, as files in `dir`.
struct Fixture {
    ca: Made,
    leaf: Made,
}

impl Fixture {
    fn new(dir: &Path) -> Self {
        let ca = Spec::ca("Deny CA").root();
        let leaf = Spec::leaf("device-1").signed_by(&ca);
        write(dir, "ca.pem", &ca.pem);
        write(dir, "device.pem", &leaf.pem);
        Self { ca, leaf }
    }

    fn key_id(&self) -> KeyId {
        let (_, cert) = x509_parser::parse_x509_certificate(&self.ca.der).unwrap();
        KeyId::of_spki(cert.public_key().raw)
    }

    fn serial(&self) -> Serial {
        let (_, cert) = x509_parser::parse_x509_certificate(&self.leaf.der).unwrap();
        Serial::from_integer_bytes(cert.raw_serial())
    }

    fn fingerprint(&self) -> [u8; 32] {
        mtls_x509::signed::sha256(&self.leaf.der)
    }
}

/// `AB:CD:…`, as `openssl x509 -fingerprint -sha256` prints it.
fn openssl_fingerprint(fp: &[u8; 32]) -> String {
    let pairs: Vec<String> = fp.iter().map(|b| format!("{b:02X}")).collect();
    format!("sha256 Fingerprint={}", pairs.join(":"))
}

#[test]
fn add_list_and_remove_on_a_file_with_each_selector() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let f = Fixture::new(d);
    let list = "file://deny.json";
    let add = |args: &[&str]| {
        let mut all = vec!["deny", "add"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--list", list]);
        truststore(d, &all, &[])
    };

    let out = add(&[
        "--cert",
        "device.pem",
        "--issuer",
        "ca.pem",
        "--note",
        "lost",
    ]);
    expect(&out, 0, "added to file://deny.json (sequence 1)");
    let doc = doc_at(&d.join("deny.json"));
    assert_eq!(doc.sequence, 1);
    let e = &doc.entries[0];
    assert_eq!(
        e.target,
        Target::IssuerSerial {
            issuer_key: f.key_id(),
            serial: f.serial()
        }
    );
    assert_eq!(e.reason, Some(Reason::KeyCompromise));
    assert_eq!(e.note.as_deref(), Some("lost"));
    assert!(e.not_after.is_some() && e.added.is_some());

    let again = add(&["--cert", "device.pem", "--issuer", "ca.pem"]);
    expect(&again, 0, "nothing written");
    assert_eq!(
        doc_at(&d.join("deny.json")).sequence,
        1,
        "a no-op writes nothing"
    );

    let fp = openssl_fingerprint(&f.fingerprint());
    let out = add(&["--fingerprint", &fp, "--reason", "superseded"]);
    expect(&out, 0, "sequence 2");
    let serial_hex = f.serial().to_hex().to_uppercase();
    let by_serial = add(&["--serial", &serial_hex, "--issuer", "ca.pem"]);
    expect(&by_serial, 0, "nothing written");

    let listed = truststore(d, &["deny", "list", "--list", list], &[]);
    expect(&listed, 0, "sequence 2, 2 entry(ies)");
    assert!(
        stdout(&listed).contains("reason superseded"),
        "{}",
        stdout(&listed)
    );
    let json = truststore(
        d,
        &["deny", "list", "--list", list, "--format", "json"],
        &[],
    );
    assert_eq!(
        Document::from_json(&json.stdout).unwrap(),
        doc_at(&d.join("deny.json"))
    );

    // With its issuer, the certificate's serial entry and fingerprint entry both go.
    let rm = truststore(
        d,
        &[
            "deny",
            "remove",
            "--cert",
            "device.pem",
            "--issuer",
            "ca.pem",
            "--list",
            list,
        ],
        &[],
    );
    expect(&rm, 0, "2 entry(ies) removed (sequence 3)");
    assert!(doc_at(&d.join("deny.json")).entries.is_empty());
    let none = truststore(
        d,
        &["deny", "remove", "--fingerprint", &fp, "--list", list],
        &[],
    );
    expect(&none, 4, "no entry of file://deny.json");
    assert_eq!(doc_at(&d.join("deny.json")).sequence, 3);
}

#[test]
fn wrong_selectors_and_issuers_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    Fixture::new(d);
    let other = Spec::ca("Deny CA").root();
    write(d, "other.pem", &other.pem);
    let list = "file://deny.json";
    for (args, code, says) in [
        (vec!["--serial", "01"], 2, "--issuer"),
        (
            vec!["--cert", "device.pem", "--fingerprint", "00"],
            2,
            "cannot be used with",
        ),
        (vec!["--fingerprint", "abc"], 1, "64 hex digits"),
        (
            vec!["--cert", "device.pem", "--issuer", "other.pem"],
            1,
            "does not verify",
        ),
        (
            vec!["--serial", "01", "--issuer", "device.pem"],
            1,
            "not a CA certificate",
        ),
        (
            vec!["--cert", "device.pem", "--reason", "stolen"],
            2,
            "keyCompromise",
        ),
        (
            vec!["--cert", "device.pem", "--not-after", "tomorrow"],
            2,
            "RFC 3339",
        ),
    ] {
        let mut all = vec!["deny", "add"];
        all.extend_from_slice(&args);
        all.extend_from_slice(&["--list", list]);
        let out = truststore(d, &all, &[]);
        expect(&out, code, says);
    }
    assert!(!d.join("deny.json").exists());
    let out = truststore(d, &["deny", "list", "--list", "https://x/deny.json"], &[]);
    expect(&out, 1, "file:///path or s3://bucket/key");
}

fn fingerprint_arg(i: usize) -> String {
    format!("{i:02x}").repeat(32)
}

/// Starts `WRITERS` `deny add` processes at once, then waits for all.
fn race(dir: &Path, list: &str, env: &[(&str, &str)]) {
    let children: Vec<_> = (0..WRITERS)
        .map(|i| {
            let fp = fingerprint_arg(i);
            truststore_command(
                dir,
                &[
                    "deny",
                    "add",
                    "--fingerprint",
                    &fp,
                    "--note",
                    &format!("writer {i}"),
                    "--list",
                    list,
                ],
                env,
            )
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    }
}

fn assert_every_writer_landed(doc: &Document) {
    assert_eq!(doc.sequence, WRITERS as u64, "{doc:?}");
    let mut got: Vec<Target> = doc.entries.iter().map(|e| e.target.clone()).collect();
    got.sort();
    let mut want: Vec<Target> = (0..WRITERS)
        .map(|i| Target::Fingerprint([u8::try_from(i).unwrap(); 32]))
        .collect();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn concurrent_adds_from_several_processes_all_land_in_a_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("lists")).unwrap();
    race(dir.path(), "file://lists/deny.json", &[]);
    assert_every_writer_landed(&doc_at(&dir.path().join("lists/deny.json")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_adds_from_several_processes_all_land_in_s3() {
    let moto = Moto::start().await;
    let s3 = moto.s3().await;
    s3.create_bucket().bucket("lists").send().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let endpoint = moto.endpoint();
    let d = dir.path().to_owned();
    let env_endpoint = endpoint.clone();
    // The object does not exist yet: the first writers race to create it.
    tokio::task::spawn_blocking(move || {
        race(
            &d,
            "s3://lists/authorizer/deny.json",
            &[
                ("AWS_ENDPOINT_URL_S3", env_endpoint.as_str()),
                ("S3_FORCE_PATH_STYLE", "true"),
            ],
        );
    })
    .await
    .unwrap();
    let got = s3
        .get_object()
        .bucket("lists")
        .key("authorizer/deny.json")
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_type(), Some("application/json"));
    let body = got.body.collect().await.unwrap().into_bytes();
    assert_every_writer_landed(&Document::from_json(&body).unwrap());

    let d = dir.path().to_owned();
    let listed = tokio::task::spawn_blocking(move || {
        let env = [
            ("AWS_ENDPOINT_URL_S3", endpoint.as_str()),
            ("S3_FORCE_PATH_STYLE", "true"),
        ];
        truststore(
            &d,
            &["deny", "list", "--list", "s3://lists/authorizer/deny.json"],
            &env,
        )
    })
    .await
    .unwrap();
    expect(
        &listed,
        0,
        &format!("sequence {WRITERS}, {WRITERS} entry(ies)"),
    );
}

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

#[test]
fn pki_revoke_now_blocks_at_once_and_prune_removes_the_entry_once_the_crl_lists_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["pki", "init"]);
    assert_eq!(
        doc_at(&d.join("pki/deny.json")),
        Document::empty(),
        "init makes an empty list"
    );
    ok(d, &["pki", "issue", "device-1"]);
    ok(d, &["pki", "issue", "device-2"]);

    let out = ok(
        d,
        &[
            "pki",
            "revoke",
            "device-1",
            "--now",
            "--reason",
            "key-compromise",
        ],
    );
    assert!(out.contains("deny-listed on file:///"), "{out}");
    let doc = doc_at(&d.join("pki/deny.json"));
    assert_eq!((doc.sequence, doc.entries.len()), (1, 1));
    assert_eq!(doc.entries[0].reason, Some(Reason::KeyCompromise));
    // The same entry as `deny add` makes from the certificate and the truststore.
    let same = truststore(
        d,
        &[
            "deny",
            "add",
            "--cert",
            "pki/clients/device-1.pem",
            "--issuer",
            "pki/truststore.pem",
            "--list",
            "file://pki/deny.json",
        ],
        &[],
    );
    expect(&same, 0, "already on");
    // Revoked in the PKI, but not yet in a CRL: nothing to prune.
    let prune = [
        "deny",
        "prune",
        "--list",
        "file://pki/deny.json",
        "--truststore",
        "pki/truststore.pem",
        "--crl",
        "file://pki/crl.der",
    ];
    expect(
        &truststore(d, &prune, &[]),
        0,
        "0 entry(ies) removed, sequence 1; nothing written",
    );

    ok(d, &["pki", "crl"]);
    let out = truststore(d, &prune, &[]);
    expect(&out, 0, "listed by the complete CRL file://pki/crl.der");
    expect(&out, 0, "1 entry(ies) removed, sequence 2");
    assert!(doc_at(&d.join("pki/deny.json")).entries.is_empty());

    // --list elsewhere, and a device the PKI did not revoke before.
    let out = ok(
        d,
        &[
            "pki",
            "revoke",
            "device-2",
            "--now",
            "--list",
            "file://other.json",
        ],
    );
    assert!(
        out.contains("deny-listed on file://other.json (sequence 1)"),
        "{out}"
    );
}

#[test]
fn prune_with_a_crl_that_does_not_verify_exits_1_and_still_drops_expired_entries() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["pki", "init"]);
    ok(d, &["pki", "init", "--dir", "pki-other"]);
    let expired = "2020-01-01T00:00:00Z";
    let fp = fingerprint_arg(1);
    ok(
        d,
        &[
            "deny",
            "add",
            "--fingerprint",
            &fp,
            "--not-after",
            expired,
            "--list",
            "file://deny.json",
        ],
    );
    let out = truststore(
        d,
        &[
            "deny",
            "prune",
            "--list",
            "file://deny.json",
            "--truststore",
            "pki/truststore.pem",
            "--crl",
            "file://pki-other/crl.der",
            "--crl",
            "file://missing.der",
        ],
        &[],
    );
    expect(&out, 1, "it prunes nothing");
    expect(
        &out,
        1,
        &format!("removed fingerprint {fp} (expired {expired})"),
    );
    assert!(doc_at(&d.join("deny.json")).entries.is_empty());
}

#[test]
fn revoke_refuses_certificate_hold_before_writing_anything() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    Fixture::new(d);
    let out = truststore(
        d,
        &[
            "revoke",
            "--cert",
            "device.pem",
            "--pca-arn",
            "arn:aws:acm-pca:us-east-1:1:certificate-authority/x",
            "--reason",
            "certificateHold",
            "--list",
            "file://deny.json",
        ],
        &[],
    );
    expect(&out, 1, "cannot put a certificate on hold");
    assert!(!d.join("deny.json").exists());
}

/// An active root CA in moto's Private CA, and its certificate (PEM).
async fn moto_ca(moto: &Moto) -> (aws_sdk_acmpca::Client, String, String) {
    let pca = aws_sdk_acmpca::Client::new(&moto.sdk_config().await);
    let arn = pca
        .create_certificate_authority()
        .certificate_authority_type(CertificateAuthorityType::Root)
        .certificate_authority_configuration(
            CertificateAuthorityConfiguration::builder()
                .key_algorithm(KeyAlgorithm::Rsa2048)
                .signing_algorithm(SigningAlgorithm::Sha256Withrsa)
                .subject(
                    Asn1Subject::builder()
                        .organization("Deny Tests")
                        .common_name("Moto Private CA")
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .certificate_authority_arn
        .unwrap();
    let csr = pca
        .get_certificate_authority_csr()
        .certificate_authority_arn(&arn)
        .send()
        .await
        .unwrap()
        .csr
        .unwrap();
    let ca_cert = issue(
        &pca,
        &arn,
        csr.as_bytes(),
        Some("arn:aws:acm-pca:::template/RootCACertificate/V1"),
    )
    .await;
    pca.import_certificate_authority_certificate()
        .certificate_authority_arn(&arn)
        .certificate(Blob::new(ca_cert.as_bytes()))
        .send()
        .await
        .unwrap();
    (pca, arn, ca_cert)
}

async fn issue(
    pca: &aws_sdk_acmpca::Client,
    arn: &str,
    csr: &[u8],
    template: Option<&str>,
) -> String {
    let cert_arn = pca
        .issue_certificate()
        .certificate_authority_arn(arn)
        .csr(Blob::new(csr))
        .signing_algorithm(SigningAlgorithm::Sha256Withrsa)
        .set_template_arn(template.map(str::to_owned))
        .validity(
            Validity::builder()
                .value(30)
                .r#type(ValidityPeriodType::Days)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .certificate_arn
        .unwrap();
    pca.get_certificate()
        .certificate_authority_arn(arn)
        .certificate_arn(cert_arn)
        .send()
        .await
        .unwrap()
        .certificate
        .unwrap()
}

/// moto's own record of what it holds (`/moto-api/data.json`): the only
/// place its Private CA shows the revocations it accepted.
fn moto_revocations(endpoint: &str) -> serde_json::Value {
    let addr = endpoint.strip_prefix("http://").unwrap();
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET /moto-api/data.json HTTP/1.0\r\nHost: {addr}\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    let body = response.split_once("\r\n\r\n").unwrap().1;
    let all: serde_json::Value = serde_json::from_str(body).unwrap();
    all["acmpca"]["CertificateAuthority"][0]["revoked_certificates"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_deny_lists_then_revokes_at_private_ca() {
    let moto = Moto::start().await;
    let (pca, arn, ca_pem) = moto_ca(&moto).await;
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "device-7");
    let csr = params.serialize_request(&key).unwrap().pem().unwrap();
    let device = issue(&pca, &arn, csr.as_bytes(), None).await;

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_owned();
    write(&d, "ca.pem", &ca_pem);
    write(&d, "device.pem", &device);
    let endpoint = moto.endpoint();
    let run = {
        let (d, endpoint) = (d.clone(), endpoint.clone());
        move |pca_arn: String| {
            let (d, endpoint) = (d.clone(), endpoint.clone());
            tokio::task::spawn_blocking(move || {
                truststore(
                    &d,
                    &[
                        "revoke",
                        "--cert",
                        "device.pem",
                        "--issuer",
                        "ca.pem",
                        "--pca-arn",
                        &pca_arn,
                        "--reason",
                        "keyCompromise",
                        "--list",
                        "file://deny.json",
                    ],
                    &[("AWS_ENDPOINT_URL_ACM_PCA", endpoint.as_str())],
                )
            })
        }
    };

    let out = run(arn.clone()).await.unwrap();
    expect(&out, 0, "deny-listed on file://deny.json (sequence 1)");
    expect(&out, 0, "about 30 minutes");
    expect(&out, 0, "truststore deny prune");
    let (_, cert) = x509_parser::pem::parse_x509_pem(device.as_bytes()).unwrap();
    let serial = Serial::from_integer_bytes(cert.parse_x509().unwrap().raw_serial());
    let doc = doc_at(&d.join("deny.json"));
    assert!(
        matches!(&doc.entries[..], [e] if matches!(&e.target, Target::IssuerSerial { serial: s, .. } if *s == serial)),
        "{doc:?}"
    );
    let colons: Vec<String> = serial
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let revoked = moto_revocations(&endpoint);
    assert_eq!(
        revoked[colons.join(":")]["revocation_reason"],
        "KEY_COMPROMISE",
        "{revoked}"
    );

    // Again: the deny list is unchanged, and moto (unlike Private CA, which
    // answers RequestAlreadyProcessedException) accepts a second revocation.
    let again = run(arn.clone()).await.unwrap();
    expect(&again, 0, "already deny-listed");
    assert_eq!(doc_at(&d.join("deny.json")).sequence, 1);

    // A CA that does not exist: the device stays deny-listed, and exit 1 says so.
    std::fs::remove_file(d.join("deny.json")).unwrap();
    let wrong = format!("{arn}0");
    let failed = run(wrong).await.unwrap();
    expect(&failed, 1, "deny-listed but NOT revoked at the CA");
    assert_eq!(doc_at(&d.join("deny.json")).entries.len(), 1);
}
