//! Unit tests of the `signed` module (kept beside it so the module itself stays short).

use super::*;

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    assert!(content.len() < 0x80);
    let mut out = vec![tag, content.len() as u8];
    out.extend_from_slice(content);
    out
}

fn alg(oid: &[u8], params: Option<&[u8]>) -> Vec<u8> {
    let mut content = tlv(der::OID, oid);
    if let Some(p) = params {
        content.extend_from_slice(p);
    }
    tlv(der::SEQUENCE, &content)
}

fn pss(hash: &[u8], mgf_hash: &[u8], salt: u8, hash_null: bool) -> Vec<u8> {
    let null = [0x05, 0x00];
    let h = alg(hash, hash_null.then_some(&null[..]));
    let mh = alg(mgf_hash, Some(&null));
    let params = [
        tlv(0xa0, &h),
        tlv(0xa1, &alg(oid::MGF1, Some(&mh))),
        tlv(0xa2, &[der::INTEGER, 1, salt]),
    ]
    .concat();
    alg(oid::RSA_PSS, Some(&tlv(der::SEQUENCE, &params)))
}

#[test]
fn ecdsa_and_rsa_algorithms_of_the_allowlist_are_identified() {
    let null = [0x05, 0x00];
    for (der, want) in [
        (
            alg(oid::ECDSA_SHA256, None),
            SignatureAlgorithm::EcdsaSha256,
        ),
        (
            alg(oid::ECDSA_SHA512, None),
            SignatureAlgorithm::EcdsaSha512,
        ),
        (
            alg(oid::RSA_SHA384, Some(&null)),
            SignatureAlgorithm::RsaPkcs1Sha384,
        ),
        (
            alg(oid::RSA_SHA256, None),
            SignatureAlgorithm::RsaPkcs1Sha256,
        ),
        (
            pss(oid::SHA256, oid::SHA256, 32, true),
            SignatureAlgorithm::RsaPssSha256,
        ),
        (
            pss(oid::SHA512, oid::SHA512, 64, false),
            SignatureAlgorithm::RsaPssSha512,
        ),
    ] {
        assert_eq!(SignatureAlgorithm::from_der(&der), Ok(want));
    }
}

#[test]
fn weak_and_unusual_algorithms_are_refused_by_name() {
    let sha1 = alg(
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05],
        Some(&[0x05, 0x00]),
    );
    assert_eq!(
        SignatureAlgorithm::from_der(&sha1),
        Err(UnsupportedAlgorithm::Named("sha1WithRSAEncryption"))
    );
    assert_eq!(
        SignatureAlgorithm::from_der(&alg(oid::ED25519, None)),
        Err(UnsupportedAlgorithm::Named("Ed25519"))
    );
    for bad in [
        alg(oid::ECDSA_SHA256, Some(&[0x05, 0x00])),
        alg(oid::RSA_SHA256, Some(&[0x02, 0x01, 0x00])),
        pss(oid::SHA256, oid::SHA256, 20, true),
        pss(oid::SHA256, oid::SHA384, 32, true),
        alg(oid::RSA_PSS, None),
        alg(&[0x2a, 0x03], None),
    ] {
        assert!(SignatureAlgorithm::from_der(&bad).is_err(), "{bad:02x?}");
    }
}

#[test]
fn dotted_oids_read_like_the_rfcs() {
    assert_eq!(ObjectId::new(oid::P521).to_string(), "1.3.132.0.35");
    assert_eq!(
        ObjectId::new(oid::RSA_PSS).to_string(),
        "1.2.840.113549.1.1.10"
    );
}

#[test]
fn an_ecdsa_twin_is_the_other_valid_signature_of_the_same_signed_part() {
    use mtls_tests::pki::{Ca, ecdsa_p256_twin};
    let ca = Ca::new("Twins", "Twin CA");
    let ca_der = crate::cert::pem_to_der(ca.pem()).unwrap_or_default();
    let ca_cert = crate::cert::ClientCert::from_der(&ca_der).ok();
    let ca_key = ca_cert
        .as_ref()
        .and_then(|c| PublicKey::from_spki(c.x509().public_key().raw).ok());
    let Some(ca_key) = ca_key else {
        panic!("the CA's key")
    };
    for serial in 1..=20u8 {
        let der = crate::cert::pem_to_der(&ca.leaf(&[serial]).pem()).unwrap_or_default();
        let signed = SignedData::certificate(&der).unwrap_or_else(|_| panic!("{serial}"));
        let twin = ecdsa_twin(&signed, KeyAlgorithm::EcP256).unwrap_or_default();
        // The same as an independent construction, valid under the CA's key,
        // and its own twin is the original.
        assert_eq!(twin, ecdsa_p256_twin(&der), "{serial}");
        let twin_signed = SignedData::certificate(&twin).unwrap_or_else(|_| panic!("{serial}"));
        assert!(ca_key.verify(&twin_signed).is_ok(), "{serial}");
        assert_eq!(twin_signed.tbs, signed.tbs);
        assert_eq!(
            ecdsa_twin(&twin_signed, KeyAlgorithm::EcP256),
            Some(der.clone())
        );
        assert_eq!(ecdsa_twin(&signed, KeyAlgorithm::Rsa { bits: 2048 }), None);
    }
}

#[test]
fn a_p384_ecdsa_twin_verifies_and_is_its_own_inverse() {
    use mtls_tests::pki::Ca;
    let ca = Ca::with_algorithm("Twins", "P-384 CA", &rcgen::PKCS_ECDSA_P384_SHA384);
    let ca_der = crate::cert::pem_to_der(ca.pem()).unwrap_or_default();
    let Some(ca_key) = crate::cert::ClientCert::from_der(&ca_der)
        .ok()
        .and_then(|c| PublicKey::from_spki(c.x509().public_key().raw).ok())
    else {
        panic!("the CA's key")
    };
    for serial in 1..=10u8 {
        let der = crate::cert::pem_to_der(&ca.leaf(&[serial]).pem()).unwrap_or_default();
        let signed = SignedData::certificate(&der).unwrap_or_else(|_| panic!("{serial}"));
        let twin = ecdsa_twin(&signed, KeyAlgorithm::EcP384).unwrap_or_default();
        assert_ne!(twin, der);
        let twin_signed = SignedData::certificate(&twin).unwrap_or_else(|_| panic!("{serial}"));
        assert!(ca_key.verify(&twin_signed).is_ok(), "{serial}");
        assert_eq!(
            ecdsa_twin(&twin_signed, KeyAlgorithm::EcP384),
            Some(der.clone())
        );
    }
}
