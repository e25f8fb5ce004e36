use super::*;

fn ctx(pairs: &[(&str, &str)]) -> HashMap<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
        .collect()
}

const NAMES: &str = "5f1b4d2a5f1b4d2a5f1b4d2a5f1b4d2a5f1b4d2a5f1b4d2a5f1b4d2a5f1b4d2a";

fn device(serial: &str, fingerprint: &str) -> HashMap<String, Value> {
    ctx(&[
        ("subjectDn", "CN=sensor-1,O=Example"),
        ("issuerDn", "CN=Devices CA,O=Example"),
        ("serialNumber", serial),
        ("fingerprintSha256", fingerprint),
        ("issuer", "devices"),
        ("nameSha256", NAMES),
    ])
}

#[test]
fn a_renewed_certificate_keeps_the_identity_key() {
    let old = Identity::from_context(&device("01", "aa")).unwrap();
    let renewed = Identity::from_context(&device("02", "bb")).unwrap();
    assert_eq!(old.key(), renewed.key());
    assert_eq!(old.key().as_str(), format!("name-sha256:{NAMES}"));
}

#[test]
fn legacy_identity_key_is_stable_across_releases() {
    // Readings stored before keys were DER-exact are keyed by it: a
    // change would orphan them. The expected value is SHA-256 over (u64
    // BE length, issuer DN, u64 BE length, subject DN), computed
    // independently with Python hashlib. The current key is the
    // authorizer's nameSha256 (pinned in mtls-x509's name tests).
    let id = Identity::from_context(&device("01", "aa")).unwrap();
    assert_eq!(
        id.legacy_key().as_str(),
        "dn-sha256:123f8c12dd92cfcfbf0f786773ced5a49c1c347d192827d2e8c4092f6b5bfd92"
    );
    assert_eq!(id.legacy_writer(), Writer::Certificate("01"));
}

#[test]
fn the_same_subject_under_another_ca_is_another_identity() {
    let a = Identity::from_context(&device("01", "aa")).unwrap();
    let mut b = a.clone();
    b.issuer_dn = "CN=Other CA,O=Example".into();
    assert_ne!(a.legacy_key(), b.legacy_key());
    // Moving text between the two DNs must not produce the same key.
    let mut c = a.clone();
    c.issuer_dn = format!("{}{}", a.issuer_dn, "X");
    c.subject_dn = a.subject_dn.trim_start_matches('C').to_owned();
    assert_ne!(a.legacy_key(), c.legacy_key());
}

#[test]
fn a_context_missing_any_identity_key_or_with_an_empty_one_is_no_identity() {
    for missing in [
        "subjectDn",
        "issuerDn",
        "serialNumber",
        "fingerprintSha256",
        "issuer",
        "nameSha256",
    ] {
        let mut c = device("01", "aa");
        c.remove(missing);
        assert_eq!(Identity::from_context(&c), None, "{missing} removed");
        let mut c = device("01", "aa");
        c.insert(missing.into(), Value::String(String::new()));
        assert_eq!(Identity::from_context(&c), None, "{missing} empty");
        let mut c = device("01", "aa");
        c.insert(missing.into(), json!(1));
        assert_eq!(Identity::from_context(&c), None, "{missing} not text");
    }
}
