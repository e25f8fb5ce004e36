//! Interoperability: an RSA-2048 CA, client certificates and a CRL made by the
//! `openssl` CLI (`openssl ca -revoke` / `-gencrl`), as many private CAs do.

use crate::common;

use std::path::Path;
use std::process::Command;

use mtls_policy::config::Config;
use mtls_policy::decision::{DenyReason, Engine, RuleIssuer};
use mtls_x509::crl::{CrlTimePolicy, VerifiedCrl};
use mtls_x509::time::UnixTime;
use mtls_x509::truststore::TrustStore;

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl CLI on PATH");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `openssl ca -config <cnf> -keyfile ca.key -cert ca.pem <args>` in `dir`:
/// the CA's database operations (revoke, gencrl).
fn openssl_ca(dir: &Path, cnf: &str, args: &[&str]) {
    let mut all = vec![
        "ca", "-config", cnf, "-keyfile", "ca.key", "-cert", "ca.pem",
    ];
    all.extend_from_slice(args);
    openssl(dir, &all);
}

/// A self-signed CA, `ca.pem` and `ca.key` in `dir`, made by `openssl req`:
/// `key` is `-newkey`'s arguments, `digest` its signature's digest.
fn self_signed_ca(dir: &Path, key: &[&str], digest: &str, subject: &str) {
    let mut args = vec!["req", "-x509", "-newkey"];
    args.extend_from_slice(key);
    args.extend_from_slice(&[
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "30",
        digest,
        "-subj",
        subject,
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(dir, &args);
}

const CA_CNF: &str = "\
[ca]
default_ca = devices
[devices]
dir = .
database = index.txt
crlnumber = crlnumber
default_md = sha256
default_crl_days = 1
crl_extensions = crl_ext
[crl_ext]
authorityKeyIdentifier = keyid:always
";

/// How `issue` makes a client certificate.
struct LeafSpec<'a> {
    /// `openssl req -newkey` arguments for its key.
    key: &'a [&'a str],
    /// The digest the CA signs it with.
    digest: &'a str,
    /// Extra lines of its extension file.
    extensions: &'a str,
}

const RSA_SHA256_LEAF: LeafSpec<'static> = LeafSpec {
    key: &["rsa:2048"],
    digest: "-sha256",
    extensions: "",
};

/// A client certificate `name`.pem with `serial`, signed by ca.pem/ca.key.
fn issue(dir: &Path, name: &str, serial: &str, spec: &LeafSpec<'_>) {
    let (key, csr, ext) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.ext"),
    );
    let mut req = vec!["req", "-newkey"];
    req.extend_from_slice(spec.key);
    req.extend_from_slice(&["-nodes", "-keyout", &key, "-out", &csr]);
    let subject = format!("/CN={name}");
    req.extend_from_slice(&["-subj", &subject]);
    openssl(dir, &req);
    std::fs::write(
        dir.join(&ext),
        format!(
            "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n{}",
            spec.extensions
        ),
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-set_serial",
            serial,
            "-days",
            "10",
            spec.digest,
            "-extfile",
            &ext,
            "-out",
            &format!("{name}.pem"),
        ],
    );
}

#[test]
fn rsa_ca_and_openssl_generated_crl_revoke_exactly_the_listed_device() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    self_signed_ca(
        d,
        &["rsa:2048"],
        "-sha256",
        "/O=Temperature Testers, Inc./CN=RSA Devices CA",
    );
    std::fs::write(d.join("ca.cnf"), CA_CNF).unwrap();
    std::fs::write(d.join("index.txt"), "").unwrap();
    std::fs::write(d.join("crlnumber"), "1000\n").unwrap();
    // 20-byte serials with the high bit set, differing only in the last bit.
    issue(
        d,
        "revoked",
        "0x80112233445566778899aabbccddeeff00112234",
        &RSA_SHA256_LEAF,
    );
    issue(
        d,
        "neighbour",
        "0x80112233445566778899aabbccddeeff00112235",
        &RSA_SHA256_LEAF,
    );
    openssl_ca(
        d,
        "ca.cnf",
        &["-revoke", "revoked.pem", "-crl_reason", "keyCompromise"],
    );
    openssl_ca(d, "ca.cnf", &["-gencrl", "-out", "crl.pem"]);
    openssl(
        d,
        &[
            "crl", "-in", "crl.pem", "-outform", "DER", "-out", "crl.der",
        ],
    );

    let config = Config::from_json(
        r#"{"truststore":"file:///t","issuers":[{"name":"rsa","match":{"CN":"RSA Devices CA"},"crl":"file:///c"}]}"#,
    )
    .unwrap();
    let ts = TrustStore::from_pem(&std::fs::read(d.join("ca.pem")).unwrap()).unwrap();
    let now = UnixTime::now();
    let policy = CrlTimePolicy {
        clock_skew_seconds: 60,
        grace_seconds: 0,
    };
    let engine = Engine::new(&config, &ts);
    let read = |f: &str| std::fs::read_to_string(d.join(f)).unwrap();
    for crl_file in ["crl.pem", "crl.der"] {
        let crl = VerifiedCrl::verify(
            &std::fs::read(d.join(crl_file)).unwrap(),
            &RuleIssuer(&config.issuers()[0]),
            &ts,
            now,
            policy,
        )
        .unwrap();
        assert_eq!(crl.number().map(|n| n.to_hex()), Some("1000".into()));
        let revoked = common::core_decide(&engine, &read("revoked.pem"), now, Some(&crl));
        assert_eq!(
            revoked.reason(),
            Some(DenyReason::Revoked),
            "{crl_file}: {revoked:?}"
        );
        assert_eq!(
            revoked.identity().serial_number,
            "80112233445566778899aabbccddeeff00112234"
        );
        let neighbour = common::core_decide(&engine, &read("neighbour.pem"), now, Some(&crl));
        assert!(neighbour.is_allow(), "{crl_file}: {neighbour:?}");
    }
}

/// A CA on `curve` that signs with SHA-512 (AWS Private CA's
/// `SHA512WITHECDSA`), partitioned CRLs with a critical
/// issuingDistributionPoint, and client certificates whose
/// cRLDistributionPoints name their partition, all made by `openssl ca`.
fn sha512_partitioned_pki(d: &Path, curve: &str) {
    let p1 = "http://crl.example.test/crl/p1.crl";
    let p2 = "http://crl.example.test/crl/p2.crl";
    let curve_param = format!("ec_paramgen_curve:{curve}");
    self_signed_ca(
        d,
        &["ec", "-pkeyopt", &curve_param],
        "-sha512",
        "/O=Temperature Testers, Inc./CN=SHA-512 Partitioned CA",
    );
    for (partition, uri) in [("p1", p1), ("p2", p2)] {
        std::fs::write(
            d.join(format!("{partition}.cnf")),
            format!(
                "[ca]\ndefault_ca = devices\n[devices]\ndir = .\ndatabase = {partition}.index\n\
                 crlnumber = {partition}.crlnumber\ndefault_md = sha512\ndefault_crl_days = 1\n\
                 crl_extensions = crl_ext\n[crl_ext]\nauthorityKeyIdentifier = keyid:always\n\
                 issuingDistributionPoint = critical, @idp\n[idp]\nfullname = URI:{uri}\n"
            ),
        )
        .unwrap();
        std::fs::write(d.join(format!("{partition}.index")), "").unwrap();
        std::fs::write(d.join(format!("{partition}.crlnumber")), "0100\n").unwrap();
    }
    let leaf = |name: &str, serial: &str, cdp: &str| {
        let extensions = format!("crlDistributionPoints=URI:{cdp}\n");
        let spec = LeafSpec {
            key: &["ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
            digest: "-sha512",
            extensions: &extensions,
        };
        issue(d, name, serial, &spec);
    };
    leaf("p1-revoked", "0x7f01", p1);
    leaf("p1-good", "0x7f02", p1);
    leaf("p2-revoked", "0x7f03", p2);
    // Revoked in partition 2's database, but issued into partition 1.
    leaf("p1-listed-elsewhere", "0x7f04", p1);
    for (partition, revoked) in [
        ("p1", "p1-revoked"),
        ("p2", "p2-revoked"),
        ("p2", "p1-listed-elsewhere"),
    ] {
        openssl_ca(
            d,
            &format!("{partition}.cnf"),
            &[
                "-revoke",
                &format!("{revoked}.pem"),
                "-crl_reason",
                "keyCompromise",
            ],
        );
    }
    for partition in ["p1", "p2"] {
        openssl_ca(
            d,
            &format!("{partition}.cnf"),
            &["-gencrl", "-out", &format!("{partition}.crl")],
        );
    }
}

#[test]
fn openssl_sha512_ecdsa_cas_and_partitioned_crls_decide_each_partitions_certificates() {
    for curve in ["P-256", "P-384"] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        sha512_partitioned_pki(d, curve);
        let config = Config::from_json(
            r#"{"truststore":"file:///t","issuers":[{"name":"devices","match":{"CN":"SHA-512 Partitioned CA"},"crl":"file:///c"}]}"#,
        )
        .unwrap();
        let ts = TrustStore::from_pem(&std::fs::read(d.join("ca.pem")).unwrap()).unwrap();
        let now = UnixTime::now();
        let policy = CrlTimePolicy {
            clock_skew_seconds: 60,
            grace_seconds: 0,
        };
        let crls: Vec<VerifiedCrl> = ["p1.crl", "p2.crl"]
            .iter()
            .map(|f| {
                VerifiedCrl::verify(
                    &std::fs::read(d.join(f)).unwrap(),
                    &RuleIssuer(&config.issuers()[0]),
                    &ts,
                    now,
                    policy,
                )
                .unwrap_or_else(|e| panic!("{curve} {f}: {e}"))
            })
            .collect();
        let engine = Engine::new(&config, &ts);
        let read = |f: &str| std::fs::read_to_string(d.join(f)).unwrap();
        for (cert, want) in [
            ("p1-revoked.pem", Some(DenyReason::Revoked)),
            ("p1-good.pem", None),
            ("p2-revoked.pem", Some(DenyReason::Revoked)),
            ("p1-listed-elsewhere.pem", None),
        ] {
            let d = common::core_decide(&engine, &read(cert), now, crls.iter());
            assert_eq!(d.reason(), want, "{curve} {cert}: {d:?}");
        }
        // With partition 1's CRL alone, partition 2's certificates are
        // never allowed.
        let d = common::core_decide(&engine, &read("p2-revoked.pem"), now, crls.first());
        assert_eq!(d.reason(), Some(DenyReason::CrlUnavailable), "{curve}");
    }
}

/// NIST PKITS distributionPoint tests, in shape, made by `openssl ca`: a CRL
/// whose issuingDistributionPoint names a directoryName (`fullname =
/// dirName:…`) or a name relative to the CA (`relativename`) is a partition,
/// which covers exactly the certificates whose cRLDistributionPoints name the
/// same Name: Valid Tests 1 and 4 are allowed, Invalid Tests 8 and 9 (another
/// name, or none) never are.
#[test]
fn openssl_crls_partitioned_by_directory_names_cover_exactly_their_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    self_signed_ca(
        d,
        &["ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "-sha256",
        "/CN=distributionPoint2 CA",
    );
    std::fs::write(d.join("index.txt"), "").unwrap();
    std::fs::write(d.join("crlnumber"), "01\n").unwrap();
    let idps = [
        (
            "relative",
            "relativename = rel\n[rel]\nCN = CRL1 of distributionPoint2 CA\n",
        ),
        (
            "full",
            "fullname = dirName:dp\n[dp]\nCN = CRL1 of distributionPoint2 CA\n",
        ),
    ];
    for (name, idp) in idps {
        std::fs::write(
            d.join(format!("{name}.cnf")),
            format!("{CA_CNF}issuingDistributionPoint = critical, @idp\n[idp]\n{idp}"),
        )
        .unwrap();
        openssl_ca(
            d,
            &format!("{name}.cnf"),
            &["-gencrl", "-out", &format!("{name}.pem")],
        );
    }
    let ec_leaf = |extensions: &'static str| LeafSpec {
        key: &["ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        digest: "-sha256",
        extensions,
    };
    // The distribution point alone, and resolved onto the CA's name.
    issue(
        d,
        "alone",
        "0x21",
        &ec_leaf("crlDistributionPoints=dirName:cdp\n[cdp]\nCN=CRL1 of distributionPoint2 CA\n"),
    );
    issue(
        d,
        "resolved",
        "0x23",
        &ec_leaf(
            "crlDistributionPoints=dirName:cdp\n[cdp]\n0.CN=distributionPoint2 CA\n1.CN=CRL1 of distributionPoint2 CA\n",
        ),
    );
    issue(d, "no-cdp", "0x22", &ec_leaf(""));
    let config = Config::from_json(
        r#"{"truststore":"file:///t","issuers":[{"name":"devices","match":{"CN":"distributionPoint2 CA"},"crl":"file:///c"}]}"#,
    )
    .unwrap();
    let ts = TrustStore::from_pem(&std::fs::read(d.join("ca.pem")).unwrap()).unwrap();
    let now = UnixTime::now();
    let policy = CrlTimePolicy {
        clock_skew_seconds: 60,
        grace_seconds: 0,
    };
    let engine = Engine::new(&config, &ts);
    let unavailable = Some(DenyReason::CrlUnavailable);
    for (crl, cert, expected) in [
        ("relative.pem", "resolved.pem", None),      // Valid Test4
        ("relative.pem", "alone.pem", unavailable),  // Invalid Test8
        ("relative.pem", "no-cdp.pem", unavailable), // Invalid Test9
        ("full.pem", "alone.pem", None),             // Valid Test1
        ("full.pem", "resolved.pem", unavailable),
        ("full.pem", "no-cdp.pem", unavailable),
    ] {
        let pem = std::fs::read(d.join(crl)).unwrap();
        let verified =
            VerifiedCrl::verify(&pem, &RuleIssuer(&config.issuers()[0]), &ts, now, policy).unwrap();
        assert!(
            verified
                .scope()
                .to_string()
                .starts_with("partition dirName:"),
            "{crl}: {}",
            verified.scope()
        );
        let cert_pem = std::fs::read_to_string(d.join(cert)).unwrap();
        let decision = common::core_decide(&engine, &cert_pem, now, [&verified]);
        assert_eq!(decision.reason(), expected, "{crl} {cert}: {decision:?}");
    }
}

/// NIST PKITS Invalid Revoked CA Test2, in shape, made by `openssl ca`: a
/// trust anchor revokes the intermediate CA that issued the device (its
/// CRL, configured under `ca_revocation`, lists the CA's serial), and the
/// device is denied `ca_revoked`; with the anchor's CRL from before the
/// revocation (Valid Basic Path Test1's shape) it is allowed.
#[tokio::test]
async fn openssl_root_crl_revoking_the_issuing_ca_denies_its_device_ca_revoked() {
    use std::sync::Arc;

    use authorizer::lambda::{Authorizer, HttpApiResponse};
    use mtls_x509::time::SystemClock;

    let dir = tempfile::tempdir().unwrap();
    let (root, sub) = (dir.path().join("root"), dir.path().join("sub"));
    std::fs::create_dir_all(&root).unwrap();
    std::fs::create_dir_all(&sub).unwrap();
    let p256 = ["ec", "-pkeyopt", "ec_paramgen_curve:P-256"];
    self_signed_ca(&root, &p256, "-sha256", "/CN=Trust Anchor");
    for d in [&root, &sub] {
        std::fs::write(d.join("index.txt"), "").unwrap();
        std::fs::write(d.join("crlnumber"), "01\n").unwrap();
        std::fs::write(d.join("ca.cnf"), CA_CNF).unwrap();
    }
    // The intermediate, `Revoked subCA`, serial 0x0a, issued by the anchor.
    let mut req = vec!["req", "-newkey"];
    req.extend_from_slice(&p256);
    req.extend_from_slice(&[
        "-nodes",
        "-keyout",
        "sub.key",
        "-out",
        "sub.csr",
        "-subj",
        "/CN=Revoked subCA",
    ]);
    openssl(&root, &req);
    std::fs::write(
        root.join("sub.ext"),
        "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n",
    )
    .unwrap();
    openssl(
        &root,
        &[
            "x509",
            "-req",
            "-in",
            "sub.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-set_serial",
            "0x0a",
            "-days",
            "10",
            "-sha256",
            "-extfile",
            "sub.ext",
            "-out",
            "sub.pem",
        ],
    );
    openssl_ca(&root, "ca.cnf", &["-gencrl", "-out", "before.pem"]);
    openssl_ca(
        &root,
        "ca.cnf",
        &["-revoke", "sub.pem", "-crl_reason", "keyCompromise"],
    );
    openssl_ca(&root, "ca.cnf", &["-gencrl", "-out", "after.pem"]);
    // The intermediate's own CA directory: its CRL, and the device.
    std::fs::copy(root.join("sub.pem"), sub.join("ca.pem")).unwrap();
    std::fs::copy(root.join("sub.key"), sub.join("ca.key")).unwrap();
    openssl_ca(&sub, "ca.cnf", &["-gencrl", "-out", "crl.pem"]);
    let spec = LeafSpec {
        key: &p256,
        digest: "-sha256",
        extensions: "",
    };
    issue(&sub, "device", "0x01", &spec);
    let bundle = [
        std::fs::read_to_string(root.join("ca.pem")).unwrap(),
        std::fs::read_to_string(root.join("sub.pem")).unwrap(),
    ]
    .concat();
    std::fs::write(dir.path().join("truststore.pem"), bundle).unwrap();
    let device = std::fs::read_to_string(sub.join("device.pem")).unwrap();
    for (anchor_crl, expected) in [
        ("before.pem", None),
        ("after.pem", Some(DenyReason::CaRevoked)),
    ] {
        let config = Config::from_json(&format!(
            r#"{{"truststore":"file://{}/truststore.pem",
                "issuers":[{{"name":"devices","match":{{"CN":"Revoked subCA"}},"crl":"file://{}/crl.pem"}}],
                "ca_revocation":[{{"name":"anchor","match":{{"CN":"Trust Anchor"}},"crl":"file://{}/{anchor_crl}"}}]}}"#,
            dir.path().display(),
            sub.display(),
            root.display()
        ))
        .unwrap();
        let a = Authorizer::builder(config)
            .clock(Arc::new(SystemClock))
            .http_api_response(HttpApiResponse::Simple)
            .start()
            .await
            .unwrap();
        let decision = a.decide(Some(&device)).await.decision;
        assert_eq!(decision.reason(), expected, "{anchor_crl}: {decision:?}");
    }
}

/// An Active Directory Certificate Services-shaped pair, made by `openssl
/// ca`: a base CRL whose Freshest CRL extension names the delta, and a
/// delta CRL (critical DeltaCRLIndicator) from a separate database holding
/// only what changed since the base: one new revocation, and a hold
/// released with `removeFromCRL` (RFC 5280 §5.2.4, §5.3.1).
#[test]
fn openssl_base_and_delta_crl_pair_is_applied_like_ad_cs_publishes_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    self_signed_ca(
        d,
        &["rsa:2048"],
        "-sha256",
        "/O=Temperature Testers, Inc./CN=AD CS Shaped CA",
    );
    let delta_uri = "http://pki.example.test/CertEnroll/devices+.crl";
    std::fs::write(
        d.join("base.cnf"),
        format!("{CA_CNF}freshestCRL = URI:{delta_uri}\n"),
    )
    .unwrap();
    std::fs::write(
        d.join("delta.cnf"),
        CA_CNF
            .replace("database = index.txt", "database = delta.txt")
            .replace(
                "[crl_ext]",
                "[crl_ext]\ndeltaCRL = critical, DER:02:02:10:00",
            ),
    )
    .unwrap();
    std::fs::write(d.join("index.txt"), "").unwrap();
    std::fs::write(d.join("delta.txt"), "").unwrap();
    std::fs::write(d.join("crlnumber"), "1000\n").unwrap();
    for (name, serial) in [
        ("on-base", "0x7a01"),
        ("on-delta", "0x7a02"),
        ("held", "0x7a03"),
        ("good", "0x7a04"),
    ] {
        issue(d, name, serial, &RSA_SHA256_LEAF);
    }
    // The base: one revocation and one hold, number 1000.
    openssl_ca(
        d,
        "base.cnf",
        &["-revoke", "on-base.pem", "-crl_reason", "keyCompromise"],
    );
    openssl_ca(
        d,
        "base.cnf",
        &["-revoke", "held.pem", "-crl_hold", "holdInstructionReject"],
    );
    openssl_ca(d, "base.cnf", &["-gencrl", "-out", "base.pem"]);
    // The delta, number 1001 on base 1000: what changed since.
    openssl_ca(
        d,
        "delta.cnf",
        &["-revoke", "on-delta.pem", "-crl_reason", "keyCompromise"],
    );
    openssl_ca(
        d,
        "delta.cnf",
        &["-revoke", "held.pem", "-crl_reason", "removeFromCRL"],
    );
    openssl_ca(d, "delta.cnf", &["-gencrl", "-out", "delta.pem"]);

    let config = Config::from_json(
        r#"{"truststore":"file:///t","issuers":[{"name":"adcs","match":{"CN":"AD CS Shaped CA"},"crl":"file:///base.crl","delta_crl":"file:///delta.crl"}]}"#,
    )
    .unwrap();
    let ts = TrustStore::from_pem(&std::fs::read(d.join("ca.pem")).unwrap()).unwrap();
    let now = UnixTime::now();
    let policy = CrlTimePolicy {
        clock_skew_seconds: 60,
        grace_seconds: 0,
    };
    let verify = |f: &str| {
        VerifiedCrl::verify(
            &std::fs::read(d.join(f)).unwrap(),
            &RuleIssuer(&config.issuers()[0]),
            &ts,
            now,
            policy,
        )
        .unwrap()
    };
    let (base, delta) = (verify("base.pem"), verify("delta.pem"));
    assert_eq!(base.freshest(), [delta_uri.to_owned()]);
    assert!(delta.is_delta() && delta.applies_to(&base), "{delta:?}");
    let engine = Engine::new(&config, &ts);
    let read = |f: &str| std::fs::read_to_string(d.join(f)).unwrap();
    let decide = |name: &str, crls: &[&VerifiedCrl]| {
        common::core_decide(
            &engine,
            &read(&format!("{name}.pem")),
            now,
            crls.iter().copied(),
        )
    };
    let pair = [&base, &delta];
    assert_eq!(decide("on-base", &pair).reason(), Some(DenyReason::Revoked));
    assert_eq!(
        decide("on-delta", &pair).reason(),
        Some(DenyReason::Revoked)
    );
    let held = decide("held", &pair);
    assert!(held.is_allow(), "released by removeFromCRL: {held:?}");
    assert!(decide("good", &pair).is_allow());
    // The base alone: never a silent Allow for what only the delta knows.
    assert_eq!(
        decide("on-delta", &[&base]).reason(),
        Some(DenyReason::CrlUnavailable)
    );
    assert_eq!(decide("held", &[&base]).reason(), Some(DenyReason::Revoked));
}
