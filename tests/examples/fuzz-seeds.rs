//! Writes seed inputs for the fuzz targets (`make fuzz`), so that libFuzzer
//! starts from real shapes instead of discovering DER from nothing: CRLs of
//! every scope and entry form, client certificates with the extensions the
//! authorizer reads, keys and algorithm identifiers, configurations and
//! events, and truststore bundles. Made at run time, never committed.
//!
//! `cargo run -p mtls-tests --example fuzz-seeds -- DIR` writes `DIR/<target>/…`.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a seed generator that cannot write its seeds panics"
)]

use std::path::{Path, PathBuf};

use mtls_tests::events;
use mtls_tests::ocsp::{GOOD_SERIAL, OcspPki, REVOKED_SERIAL, Signer, UNKNOWN_SERIAL};
use mtls_tests::pki::{
    Ca, freshest_crl, pem_block, raw_entry, raw_extension, reason_code, serial20, tlv,
};
use serde_json::json;

fn write(dir: &Path, target: &str, name: &str, bytes: &[u8]) {
    let d = dir.join(target);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join(name), bytes).unwrap();
}

/// The DER inside the first PEM block of `pem`.
fn der_of(pem: &str) -> Vec<u8> {
    use base64::Engine as _;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

/// The SubjectPublicKeyInfo and the signatureAlgorithm of a certificate.
fn spki_and_algorithm(cert: &[u8]) -> (Vec<u8>, Vec<u8>) {
    // Certificate SEQUENCE { tbs SEQUENCE { [0] version, serial, signature,
    // issuer, validity, subject, spki, … }, algorithm, signature }.
    let outer = elements(content_of(cert));
    let tbs = elements(outer[0].1);
    let spki = tlv(tbs[6].0, tbs[6].1);
    let algorithm = tlv(outer[1].0, outer[1].1);
    (spki, algorithm)
}

fn content_of(der: &[u8]) -> &[u8] {
    elements(der)[0].1
}

fn elements(mut rest: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    while !rest.is_empty() {
        let tag = rest[0];
        let (len, header) = if rest[1] < 0x80 {
            (usize::from(rest[1]), 2)
        } else {
            let n = usize::from(rest[1] & 0x7f);
            let len = rest[2..2 + n]
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            (len, 2 + n)
        };
        out.push((tag, &rest[header..header + len]));
        rest = &rest[header + len..];
    }
    out
}

fn main() {
    let dir: PathBuf = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .expect("usage: fuzz-seeds DIR");
    let org = "Temperature Testers, Inc.";
    let ca = Ca::new(org, "Fuzz CA");
    let p384 = Ca::with_algorithm(org, "Fuzz P-384 CA", &rcgen::PKCS_ECDSA_P384_SHA384);
    let rsa = Ca::with_algorithm(org, "Fuzz RSA CA", &rcgen::PKCS_RSA_SHA256);
    let partition = "http://crl.example.com/crl/4f1c/p1.crl";

    // CRLs: both targets take the same shapes.
    let private = raw_extension(&[0x2b, 0x06, 0x01], false, &tlv(0x05, &[]));
    let crls: Vec<(&str, Vec<u8>)> = vec![
        ("empty.der", ca.crl().der()),
        ("pem.pem", ca.crl().revoke(&[0x42]).pem().into_bytes()),
        (
            "entries.der",
            ca.crl()
                .number(7)
                .revoke(&[0x01])
                .revoke(&serial20(0x10))
                .revoke(&[0x00, 0x80])
                .der(),
        ),
        (
            "partition.der",
            ca.crl().partition(&[partition]).revoke(&[0x42]).der(),
        ),
        ("ca-only.der", ca.crl().ca_certs_only().der()),
        ("p384.der", p384.crl().revoke(&[0x42]).der()),
        ("rsa.der", rsa.crl().revoke(&[0x42]).der()),
        (
            "raw-entries.der",
            ca.crl().der_with_raw_entries(&[
                raw_entry(&[0x42], &[reason_code(1)]),
                raw_entry(&[0x7f; 22], &[private.clone(), reason_code(6)]),
                raw_entry(&[0x43], &[]),
            ]),
        ),
        (
            "extra-extensions.der",
            ca.crl().der_with_extra_extensions(&[private]),
        ),
        ("unsigned.der", ca.crl().unsigned_with_extensions(3)),
        (
            "base-naming-delta.der",
            ca.crl()
                .number(10)
                .der_with(None, &[freshest_crl(&["http://crl.example.test/d.crl"])]),
        ),
        (
            "delta.der",
            ca.crl().number(11).delta_der(
                10,
                &[
                    raw_entry(&[0x44], &[reason_code(8)]),
                    raw_entry(&[0x45], &[reason_code(6)]),
                ],
            ),
        ),
    ];
    for (name, bytes) in &crls {
        write(&dir, "crl", name, bytes);
        // crl_parse: one chunk, then chunks of 1, 2 and 3 octets in turn.
        write(&dir, "crl_parse", name, &[&[0u8][..], &bytes[..]].concat());
        write(
            &dir,
            "crl_parse",
            &format!("{name}-chunked"),
            &[&[3u8, 0, 1, 2][..], &bytes[..]].concat(),
        );
    }

    // OCSP responses by `openssl ocsp`: good, revoked and unknown, signed by
    // the CA (no certificates) and by a delegated responder (with its
    // certificate), by name and by key hash.
    let ocsp = OcspPki::new();
    for (serial, status) in [
        (&GOOD_SERIAL[..], "good"),
        (&REVOKED_SERIAL[..], "revoked"),
        (&UNKNOWN_SERIAL[..], "unknown"),
    ] {
        let request = ocsp.openssl_request(serial, "sha256");
        for (signer, who) in [(Signer::Ca, "ca"), (Signer::Responder, "responder")] {
            for (args, how) in [
                (&["-ndays", "1"][..], "name"),
                (&["-resp_key_id"][..], "key"),
            ] {
                write(
                    &dir,
                    "ocsp",
                    &format!("{status}-{who}-{how}.der"),
                    &ocsp.respond(&request, signer, args),
                );
            }
        }
    }
    write(
        &dir,
        "ocsp",
        "try-later.der",
        &[0x30, 0x03, 0x0a, 0x01, 0x03],
    );

    // Client certificates, PEM and DER.
    let leaves = [
        ("plain", ca.leaf(&[0x42]).pem()),
        (
            "full",
            ca.leaf(&serial20(0x11))
                .dns("t1.devices.example.com")
                .uri("spiffe://example.org/device/t1")
                .cdp(partition)
                .with_authority_key_id()
                .pem(),
        ),
        (
            "critical-private",
            ca.leaf(&[0x43])
                .extension(&[1, 3, 6, 1, 4, 1, 99999, 7], true, vec![0x05, 0x00])
                .pem(),
        ),
        ("p384", p384.leaf(&[0x44]).pem()),
        ("rsa", rsa.leaf(&[0x45]).pem()),
        ("ca", ca.leaf(&[0x46]).ca().pem()),
    ];
    for (name, pem) in &leaves {
        write(&dir, "client_cert", &format!("{name}.pem"), pem.as_bytes());
        write(&dir, "client_cert", &format!("{name}.der"), &der_of(pem));
    }

    // Keys, algorithm identifiers and signed objects.
    for (name, cert) in [
        ("p256", ca.pem()),
        ("p384", p384.pem()),
        ("rsa", rsa.pem()),
        ("leaf", leaves[1].1.as_str()),
    ] {
        let der = der_of(cert);
        let (spki, algorithm) = spki_and_algorithm(&der);
        write(&dir, "signed", &format!("{name}-cert.der"), &der);
        write(&dir, "signed", &format!("{name}-spki.der"), &spki);
        write(&dir, "signed", &format!("{name}-alg.der"), &algorithm);
        let mut split = vec![u8::try_from(spki.len().min(255)).unwrap()];
        split.extend(&spki);
        split.extend(&der);
        write(&dir, "signed", &format!("{name}-key-and-cert.bin"), &split);
    }
    write(&dir, "signed", "crl.der", &crls[2].1);

    // Configurations and distribution point suffixes.
    let configs = [
        json!({"truststore": "s3://bucket/truststore.pem", "issuers": [
            {"name": "devices", "match": {"O": org, "CN": "Fuzz CA"},
             "crl": "s3://pki-bucket/crl/devices.crl", "subject": {"OU": ["Tech Operations"], "san_dns": ["*.example.com"], "eku": "client_auth_required"}}],
            "crl_refresh_seconds": 300, "crl_grace_seconds": 3600, "policy_resource": "stage"}),
        json!({"truststore": "file:///t.pem", "issuers": [
            {"name": "rollover", "match": {"CN": "Fuzz CA"}, "crl": ["s3://b/key1.crl", "https://crl.example.com/key2.crl"]},
            {"name": "lab", "match": {"2.5.4.5": ["1", "2"]}, "revocation": "none"}]}),
        json!({"truststore": "file:///t.pem", "max_cdp_crls_per_issuer": 128, "issuers": [
            {"name": "private-ca", "match": {"CN": "Fuzz CA"}, "crl_from_cdp": [
                {"prefix": "http://crl.example.com/crl/", "fetch": "s3://my-crl-bucket/crl/"},
                {"prefix": "https://pki.example.org/"}]}]}),
    ];
    for (i, c) in configs.iter().enumerate() {
        write(
            &dir,
            "config",
            &format!("config-{i}.json"),
            c.to_string().as_bytes(),
        );
    }
    for (i, suffix) in ["4f1c/p1.crl", "a/../b.crl", "x.crl?versionId=1", "a//b"]
        .iter()
        .enumerate()
    {
        write(
            &dir,
            "config",
            &format!("suffix-{i}.txt"),
            suffix.as_bytes(),
        );
    }

    // Deny lists: every field, both targets, odd and padded serials.
    let key = "ab".repeat(32);
    for (i, list) in [
        json!({"version": 1, "sequence": 0, "entries": []}),
        json!({"version": 1, "sequence": 42, "entries": [
            {"issuer_spki_sha256": key, "serial": "805a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a10",
             "not_after": "2027-06-01T00:00:00Z", "added": "2026-12-06T10:00:00Z",
             "reason": "keyCompromise", "note": "lost tablet ☃"},
            {"fingerprint": "CD".repeat(32)},
            {"issuer_spki_sha256": key, "serial": "1"},
            {"issuer_spki_sha256": key, "serial": "000a", "reason": "cACompromise"}]}),
    ]
    .iter()
    .enumerate()
    {
        write(
            &dir,
            "deny_list",
            &format!("list-{i}.json"),
            list.to_string().as_bytes(),
        );
    }

    // Events.
    let pem = leaves[1].1.as_str();
    for (name, e) in [
        ("rest", events::rest(Some(pem))),
        ("rest-none", events::rest(None)),
        ("http", events::http_v2(Some(pem))),
    ] {
        write(
            &dir,
            "event",
            &format!("{name}.json"),
            e.to_string().as_bytes(),
        );
    }

    // Truststore bundles (bundle), and pairs of bundles (diff: split in two).
    let bundle = format!("{}{}{}", ca.pem(), p384.pem(), rsa.pem());
    write(&dir, "bundle", "three.pem", bundle.as_bytes());
    write(&dir, "bundle", "one.pem", ca.pem().as_bytes());
    write(
        &dir,
        "bundle",
        "with-crl.pem",
        format!("{}{}", ca.pem(), pem_block("X509 CRL", &crls[0].1)).as_bytes(),
    );
    let old = ca.pem().to_owned();
    let new = format!("{}{}", ca.pem(), p384.pem());
    let mut pair = old.clone().into_bytes();
    pair.resize(new.len(), b'\n');
    pair.extend(new.as_bytes());
    write(&dir, "diff", "pair.pem", &pair);
    println!("seeds written to {}", dir.display());
}
