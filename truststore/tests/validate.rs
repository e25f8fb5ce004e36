//! Bundle validation against CAs and leaves made at test time.

use mtls_tests::pki::Ca;
use truststore::{Finding, validate};

#[test]
fn bundle_of_two_cas_is_valid_and_duplicates_and_leaves_are_reported() {
    let a = Ca::new("Temperature Testers, Inc.", "Devices CA");
    let b = Ca::new("Temperature Testers, Inc.", "Lab CA");
    let good = format!("{}{}", a.pem(), b.pem());
    assert_eq!(validate(good.as_bytes()), (2, vec![]));

    let dup = format!("{}{}", a.pem(), a.impostor().pem());
    let (_, findings) = validate(dup.as_bytes());
    assert!(
        matches!(findings.as_slice(), [Finding::DuplicateSubject { .. }]),
        "{findings:?}"
    );

    let with_leaf = format!("{}{}", a.pem(), a.leaf(&[1]).pem());
    let (_, findings) = validate(with_leaf.as_bytes());
    assert!(
        matches!(findings.as_slice(), [Finding::NotACa { .. }]),
        "{findings:?}"
    );

    assert_eq!(validate(b"").1, vec![Finding::Empty]);
}
