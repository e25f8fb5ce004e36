//! Every bundle rule has a failing fixture, made at test time; `build`,
//! `validate` and `diff` are also run as the binary.

use crate::common;

use common::{Spec, chain, now, openssl_ca, pems, stderr, stdout, truststore, write};
use mtls_pki::check::{CheckOptions, Report, Rule, Severity, check_bundle};
use time::Duration;

fn opts() -> CheckOptions {
    CheckOptions {
        now: now(),
        expiry_warning_days: 30,
    }
}

fn check(pem: &str) -> Report {
    check_bundle("test.pem", pem.as_bytes(), opts())
}

fn rules(r: &Report) -> Vec<Rule> {
    r.findings.iter().map(|f| f.rule).collect()
}

#[test]
fn root_and_issuing_ca_are_valid_with_depths() {
    let c = chain(2, "Devices");
    let r = check(&pems(&[&c[1], &c[0]]));
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    let depths: Vec<_> = r.certificates.iter().map(|c| (c.root, c.depth)).collect();
    assert_eq!(depths, vec![(false, Some(2)), (true, Some(1))]);
}

#[test]
fn client_certificate_in_the_bundle_is_not_a_ca() {
    let c = chain(1, "Devices");
    let leaf = Spec::leaf("device-1").signed_by(&c[0]);
    let r = check(&pems(&[&c[0], &leaf]));
    assert_eq!(rules(&r), vec![Rule::NotACa]);
    assert!(
        r.findings[0]
            .subject
            .as_deref()
            .unwrap()
            .contains("device-1")
    );
}

#[test]
fn issuing_ca_without_its_root_is_an_incomplete_chain() {
    let c = chain(3, "Devices");
    let r = check(&pems(&[&c[2], &c[1]]));
    assert_eq!(rules(&r), vec![Rule::IncompleteChain]);
    assert!(
        r.findings[0].message.contains("Devices 1 Root"),
        "{}",
        r.findings[0].message
    );
}

#[test]
fn chain_of_four_cas_is_accepted_and_five_is_too_deep() {
    let four = chain(4, "Four");
    let refs: Vec<_> = four.iter().collect();
    assert!(check(&pems(&refs)).findings.is_empty());

    let five = chain(5, "Five");
    let refs: Vec<_> = five.iter().collect();
    let r = check(&pems(&refs));
    assert_eq!(rules(&r), vec![Rule::ChainTooDeep]);
    assert!(r.findings[0].subject.as_deref().unwrap().contains("Five 5"));
}

#[test]
fn two_cas_with_one_subject_are_refused() {
    let a = Spec::ca("Same Name").root();
    let b = Spec::ca("Same Name").root();
    let r = check(&pems(&[&a, &b]));
    assert!(
        rules(&r).contains(&Rule::DuplicateSubject),
        "{:?}",
        r.findings
    );
}

#[test]
fn same_certificate_twice_is_only_a_warning() {
    let a = Spec::ca("Twice").root();
    let r = check(&pems(&[&a, &a]));
    assert_eq!(rules(&r), vec![Rule::DuplicateCertificate]);
    assert_eq!(r.findings[0].severity, Severity::Warning);
}

#[test]
fn intermediate_signed_by_an_impostor_root_has_a_bad_signature() {
    let real = Spec::ca("Real Root").root();
    let impostor = Spec::ca("Real Root").root();
    let issuing = Spec::ca("Issuing").signed_by(&impostor);
    let r = check(&pems(&[&real, &issuing]));
    assert_eq!(rules(&r), vec![Rule::BadSignature]);
}

#[test]
fn rsa_1024_ca_is_a_weak_key() {
    let dir = tempfile::tempdir().unwrap();
    let pem = openssl_ca(
        dir.path(),
        "RSA 1024 CA",
        &["-newkey", "rsa:1024"],
        "-sha256",
    );
    let r = check(&pem);
    assert_eq!(rules(&r), vec![Rule::WeakKey]);
    assert!(r.findings[0].message.contains("RSA 1024"));
}

#[test]
fn rsa_2048_ca_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let pem = openssl_ca(
        dir.path(),
        "RSA 2048 CA",
        &["-newkey", "rsa:2048"],
        "-sha256",
    );
    assert!(check(&pem).findings.is_empty());
}

#[test]
fn p192_ca_is_a_weak_key() {
    let dir = tempfile::tempdir().unwrap();
    let pem = openssl_ca(
        dir.path(),
        "P-192 CA",
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime192v1"],
        "-sha256",
    );
    let r = check(&pem);
    assert_eq!(rules(&r), vec![Rule::WeakKey]);
    assert!(r.findings[0].message.contains("P-192"));
}

#[test]
fn ed25519_ca_is_refused_as_unsupported() {
    let a = Spec::ca("Edwards").alg(&rcgen::PKCS_ED25519).root();
    let r = check(&a.pem);
    assert!(rules(&r).contains(&Rule::WeakKey), "{:?}", r.findings);
    assert!(rules(&r).contains(&Rule::WeakSignature), "{:?}", r.findings);
}

#[test]
fn p521_ca_is_refused_as_the_authorizer_refuses_it() {
    // One allowlist (mtls_x509::signed) for the tool and the authorizer:
    // the authorizer cannot check a P-521 CA, so the tool does not pass one.
    let a = Spec::ca("P-521").alg(&rcgen::PKCS_ECDSA_P521_SHA512).root();
    let r = check(&a.pem);
    assert_eq!(rules(&r), vec![Rule::WeakKey], "{:?}", r.findings);
    assert!(r.findings[0].message.contains("P-521"));
}

#[test]
fn sha512_ecdsa_and_rsa_pss_cas_made_by_pyca_are_accepted() {
    // The CAs of the authorizer's interop test: what the authorizer checks,
    // the tool passes.
    let dir = tempfile::tempdir().unwrap();
    mtls_tests::pyca::make_pki(dir.path());
    for case in [
        "p256-sha512",
        "p384-sha512",
        "rsa-pss-sha256",
        "rsa-pss-sha512",
        "rsa-sha384",
    ] {
        let pem = std::fs::read_to_string(dir.path().join(case).join("ca.pem")).unwrap();
        let r = check(&pem);
        assert!(r.findings.is_empty(), "{case}: {:?}", r.findings);
    }
}

#[test]
fn sha1_signed_ca_is_a_weak_signature() {
    let dir = tempfile::tempdir().unwrap();
    let pem = openssl_ca(
        dir.path(),
        "SHA-1 CA",
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "-sha1",
    );
    let r = check(&pem);
    assert_eq!(rules(&r), vec![Rule::WeakSignature]);
    assert!(r.findings[0].message.contains("SHA1"));
}

#[test]
fn p384_sha384_ca_is_accepted() {
    let a = Spec::ca("P-384").alg(&rcgen::PKCS_ECDSA_P384_SHA384).root();
    assert!(check(&a.pem).findings.is_empty());
}

#[test]
fn expired_ca_is_an_error_and_one_expiring_in_ten_days_a_warning() {
    let expired = Spec::ca("Expired")
        .validity(now() - Duration::days(400), now() - Duration::days(1))
        .root();
    let soon = Spec::ca("Soon")
        .validity(now() - Duration::days(400), now() + Duration::days(10))
        .root();
    let r = check(&pems(&[&expired, &soon]));
    assert_eq!(rules(&r), vec![Rule::Expired, Rule::ExpiresSoon]);
    assert!(
        r.findings[1].message.contains("in 9 day(s)")
            || r.findings[1].message.contains("in 10 day(s)")
    );

    // The window is the caller's: with 5 days, ten days away is fine.
    let r = check_bundle(
        "t.pem",
        soon.pem.as_bytes(),
        CheckOptions {
            now: now(),
            expiry_warning_days: 5,
        },
    );
    assert!(r.findings.is_empty());
}

#[test]
fn time_is_a_parameter_a_valid_ca_is_expired_in_the_future() {
    let a = Spec::ca("Long Lived").root();
    let later = CheckOptions {
        now: now() + Duration::days(4000),
        expiry_warning_days: 30,
    };
    let r = check_bundle("t.pem", a.pem.as_bytes(), later);
    assert_eq!(rules(&r), vec![Rule::Expired]);
}

#[test]
fn ca_not_valid_yet_is_a_warning() {
    let a = Spec::ca("Future")
        .validity(now() + Duration::days(2), now() + Duration::days(400))
        .root();
    assert_eq!(rules(&check(&a.pem)), vec![Rule::NotYetValid]);
}

#[test]
fn bundle_over_one_megabyte_is_too_large() {
    let c = chain(1, "Big");
    let r = check(&c[0].pem.repeat(1_000_000 / c[0].pem.len() + 1));
    assert!(rules(&r).contains(&Rule::TooLarge), "{:?}", rules(&r));
}

#[test]
fn private_key_in_a_bundle_is_an_error() {
    let c = chain(1, "Keyed");
    let r = check(&format!("{}{}", c[0].pem, c[0].key.serialize_pem()));
    assert_eq!(rules(&r), vec![Rule::PrivateKey]);
}

#[test]
fn other_pem_blocks_garbage_and_empty_input_are_errors() {
    let c = chain(1, "Other");
    let csr = rcgen::CertificateParams::new(vec!["x.example".to_owned()])
        .unwrap()
        .serialize_request(&c[0].key)
        .unwrap()
        .pem()
        .unwrap();
    assert_eq!(
        rules(&check(&format!("{}{csr}", c[0].pem))),
        vec![Rule::NotACertificate]
    );
    let broken = "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n";
    assert!(rules(&check(broken)).contains(&Rule::Unreadable));
    assert_eq!(rules(&check("")), vec![Rule::Empty]);
}

#[test]
fn build_is_deterministic_whatever_the_input_order() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let a = chain(3, "Alpha");
    let b = chain(2, "Beta");
    write(d, "alpha.pem", &pems(&[&a[2], &a[0], &a[1]]));
    write(d, "beta.pem", &pems(&[&b[1], &b[0]]));
    write(d, "dup.pem", &a[1].pem);

    let one = truststore(
        d,
        &[
            "build",
            "--ca",
            "alpha.pem",
            "--ca",
            "beta.pem",
            "-o",
            "one.pem",
        ],
        &[],
    );
    assert!(one.status.success(), "{}", stderr(&one));
    let two = truststore(
        d,
        &[
            "build",
            "--ca",
            "beta.pem",
            "--ca",
            "dup.pem",
            "--ca",
            "alpha.pem",
            "-o",
            "two.pem",
        ],
        &[],
    );
    assert!(two.status.success(), "{}", stderr(&two));
    let one = std::fs::read_to_string(d.join("one.pem")).unwrap();
    assert_eq!(one, std::fs::read_to_string(d.join("two.pem")).unwrap());

    // Roots first, then each level; each certificate once.
    let r = check(&one);
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    let depths: Vec<_> = r.certificates.iter().map(|c| c.depth.unwrap()).collect();
    assert_eq!(depths, vec![1, 1, 2, 2, 3]);
}

#[test]
fn build_refuses_a_private_key_and_never_prints_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let c = chain(1, "Keyed");
    let key_pem = c[0].key.serialize_pem();
    write(d, "ca.pem", &format!("{}{key_pem}", c[0].pem));
    let out = truststore(d, &["build", "--ca", "ca.pem", "-o", "out.pem"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!d.join("out.pem").exists(), "nothing may be written");
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(all.contains("private key"), "{all}");
    let key_body: Vec<&str> = key_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    for line in key_body {
        assert!(!all.contains(line), "key material was printed");
    }
}

#[test]
fn build_refuses_a_bundle_that_breaks_a_rule() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let c = chain(2, "Partial");
    write(d, "issuing.pem", &c[1].pem);
    let out = truststore(d, &["build", "--ca", "issuing.pem", "-o", "out.pem"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("error[incomplete_chain]"),
        "{}",
        stderr(&out)
    );
    assert!(!d.join("out.pem").exists());
}

#[test]
fn validate_exit_codes_tell_errors_from_warnings_and_json_names_rules() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = chain(2, "Good");
    write(d, "good.pem", &pems(&[&good[1], &good[0]]));
    let soon = Spec::ca("Soon")
        .validity(now() - Duration::days(10), now() + Duration::days(3))
        .root();
    write(d, "soon.pem", &soon.pem);
    write(d, "bad.pem", &good[1].pem);

    let ok = truststore(d, &["validate", "good.pem"], &[]);
    assert_eq!(ok.status.code(), Some(0), "{}", stdout(&ok));
    assert!(stdout(&ok).contains("2 certificate(s)"));

    let warn = truststore(d, &["validate", "soon.pem", "--json"], &[]);
    assert_eq!(warn.status.code(), Some(3));
    let json: serde_json::Value = serde_json::from_slice(&warn.stdout).unwrap();
    assert_eq!(json["findings"][0]["rule"], "expires_soon");
    assert_eq!(json["findings"][0]["severity"], "warning");
    assert_eq!(json["certificates"][0]["key"]["curve"], "P-256");
    // One global --format, before or after the command; --json is its alias.
    for args in [
        &["--format", "json", "validate", "soon.pem"][..],
        &["validate", "soon.pem", "--format", "json"][..],
    ] {
        let same = truststore(d, args, &[]);
        assert_eq!(same.status.code(), Some(3));
        assert_eq!(same.stdout, warn.stdout, "{args:?}");
    }

    let quiet = truststore(
        d,
        &["validate", "soon.pem", "--expiry-warning-days", "1"],
        &[],
    );
    assert_eq!(quiet.status.code(), Some(0));

    let bad = truststore(d, &["validate", "bad.pem", "--json"], &[]);
    assert_eq!(bad.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&bad.stdout).unwrap();
    assert_eq!(json["findings"][0]["rule"], "incomplete_chain");
}

#[test]
fn diff_shows_added_removed_and_renewed_cas() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let keep = Spec::ca("Kept").root();
    let gone = Spec::ca("Gone").root();
    let renewed_old = Spec::ca("Renewed").root();
    let renewed_new = Spec::ca("Renewed").root();
    let added = Spec::ca("Added").root();
    write(d, "old.pem", &pems(&[&keep, &gone, &renewed_old]));
    write(d, "new.pem", &pems(&[&keep, &renewed_new, &added]));

    let out = truststore(d, &["diff", "old.pem", "new.pem", "--json"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["added"].as_array().unwrap().len(), 1);
    assert!(
        json["added"][0]["subject"]
            .as_str()
            .unwrap()
            .contains("Added")
    );
    assert!(
        json["removed"][0]["subject"]
            .as_str()
            .unwrap()
            .contains("Gone")
    );
    assert!(
        json["changed"][0]["subject"]
            .as_str()
            .unwrap()
            .contains("Renewed")
    );
    assert_ne!(
        json["changed"][0]["old"]["fingerprint"],
        json["changed"][0]["new"]["fingerprint"]
    );
    assert_eq!(json["unchanged"], 1);

    let text = truststore(d, &["diff", "old.pem", "new.pem", "--exit-code"], &[]);
    assert_eq!(text.status.code(), Some(1));
    assert!(stdout(&text).contains("1 added, 1 removed, 1 changed, 1 unchanged"));
    let same = truststore(d, &["diff", "old.pem", "old.pem", "--exit-code"], &[]);
    assert_eq!(same.status.code(), Some(0));
}

#[test]
fn every_subcommand_has_help() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["--help"],
        vec!["build", "--help"],
        vec!["validate", "--help"],
        vec!["diff", "--help"],
        vec!["upload", "--help"],
        vec!["rotate", "--help"],
        vec!["rollback", "--help"],
        vec!["status", "--help"],
        vec!["pki", "--help"],
        vec!["pki", "init", "--help"],
        vec!["pki", "issue", "--help"],
        vec!["pki", "revoke", "--help"],
        vec!["pki", "crl", "--help"],
        vec!["pki", "export", "--help"],
        vec!["pki", "publish", "--help"],
    ] {
        let out = truststore(dir.path(), &args, &[]);
        assert!(out.status.success(), "{args:?}");
        assert!(stdout(&out).contains("Usage:"), "{args:?}");
    }
}

/// Every single-bit change to an issuing CA's DER is either refused or
/// leaves a certificate that still verifies; none panics. Together with
/// the fuzz targets in `truststore/fuzz`, this covers the bundle parser.
#[test]
fn bit_flips_in_a_ca_certificate_never_pass_unnoticed() {
    use base64::Engine as _;
    let c = chain(2, "Flip");
    let root = &c[0];
    let der = c[1].der.clone();
    let mut unnoticed = Vec::new();
    for i in 0..der.len() {
        for bit in [0x01u8, 0x80] {
            let mut m = der.clone();
            m[i] ^= bit;
            let pem = format!(
                "{}-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
                root.pem,
                base64::engine::general_purpose::STANDARD.encode(&m)
            );
            let r = check(&pem);
            if r.errors() == 0 {
                unnoticed.push(i);
            }
        }
    }
    // A changed byte inside the signed part breaks the signature; one in the
    // signature breaks it too; one in the structure makes it unreadable. Only
    // bytes that a DER reader tolerates changing could pass, and there must be
    // none in a certificate the bundle trusts.
    assert!(
        unnoticed.is_empty(),
        "unnoticed changes at offsets {unnoticed:?}"
    );
}
