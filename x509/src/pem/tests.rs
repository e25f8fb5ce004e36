use super::*;

#[test]
fn encode_then_decode_round_trips_with_64_column_lines() {
    let der: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
    let text = encode(CERTIFICATE, &der);
    assert!(text.starts_with("-----BEGIN CERTIFICATE-----\n"));
    assert!(text.ends_with("-----END CERTIFICATE-----\n"));
    assert!(text.lines().all(|l| l.len() <= 64));
    assert_eq!(find(text.as_bytes(), CERTIFICATE), Ok(Some(der)));
}

#[test]
fn find_skips_other_labels_and_first_takes_any() {
    let text = format!(
        "{}{}",
        encode(X509_CRL, b"crl"),
        encode(CERTIFICATE, b"cert")
    );
    assert_eq!(
        find(text.as_bytes(), CERTIFICATE),
        Ok(Some(b"cert".to_vec()))
    );
    assert_eq!(find(text.as_bytes(), "CERTIFICATE REQUEST"), Ok(None));
    assert_eq!(
        first(text.as_bytes()).map(|b| b.label),
        Ok(X509_CRL.to_owned())
    );
    assert_eq!(first(b""), Err(PemError::MissingHeader));
}

#[test]
fn an_unreadable_block_ends_the_iteration_with_its_kind_only() {
    let text = b"-----BEGIN CERTIFICATE-----\nnot base64 !!\n-----END CERTIFICATE-----\n";
    let all: Vec<_> = blocks(text).collect();
    assert_eq!(all, vec![Err(PemError::Base64)]);
    let cut = b"-----BEGIN CERTIFICATE-----\nAAAA\n";
    assert_eq!(first(cut), Err(PemError::Incomplete));
    // The error is its kind alone: a Copy value with no room for the content.
    fn carries_nothing<T: Copy + 'static>(_: T) {}
    carries_nothing(PemError::Base64);
}

#[test]
fn private_key_labels_are_recognised() {
    for label in [
        "PRIVATE KEY",
        "EC PRIVATE KEY",
        "RSA PRIVATE KEY",
        "ENCRYPTED PRIVATE KEY",
    ] {
        assert!(is_private_key_label(label), "{label}");
    }
    assert!(!is_private_key_label(CERTIFICATE));
}
