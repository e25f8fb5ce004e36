use super::*;

#[test]
fn every_accepted_key_reads_alike_both_ways() {
    use rcgen::{KeyPair, PublicKeyData as _, RsaKeySize};
    // One sample key per variant of the allowlist's KeyAlgorithm. The
    // match is exhaustive: a variant added there does not compile here
    // until it has a sample, and then its two readings are compared.
    let sample = |alg: KeyAlgorithm| match alg {
        KeyAlgorithm::EcP256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256),
        KeyAlgorithm::EcP384 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384),
        KeyAlgorithm::Rsa { .. } => {
            KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, RsaKeySize::_2048)
        }
    };
    for alg in [
        KeyAlgorithm::EcP256,
        KeyAlgorithm::EcP384,
        KeyAlgorithm::Rsa { bits: 2048 },
    ] {
        let der = sample(alg).unwrap().subject_public_key_info();
        let accepted = signed::PublicKey::from_spki(&der).unwrap();
        assert_eq!(accepted.algorithm(), alg);
        let (_, spki) = SubjectPublicKeyInfo::from_der(&der).unwrap();
        assert_eq!(refused_key_kind(&spki), KeyKind::from(alg), "{alg}");
    }
}

#[test]
fn bit_length_ignores_leading_zero_octets() {
    assert_eq!(unsigned_bits(&[0x00, 0x80, 0x00]), 16);
    assert_eq!(unsigned_bits(&[0x01, 0x00]), 9);
    assert_eq!(unsigned_bits(&[0x00]), 0);
    assert_eq!(unsigned_bits(&[]), 0);
}

#[test]
fn key_marker_is_found_even_outside_a_readable_block() {
    let text = b"junk\n-----BEGIN EC PRIVATE KEY-----\nnot base64 !!\n";
    let blocks = read_pem("x.pem", text);
    assert!(
        blocks
            .iter()
            .any(|b| matches!(b, Block::PrivateKey { label, .. } if label == "EC PRIVATE KEY")),
        "{blocks:?}"
    );
}
