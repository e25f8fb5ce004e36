//! Unit tests of the `pki` module (kept beside it so the module itself stays short).
use super::publish_to_file;

#[test]
fn publishing_makes_the_directories_and_replaces_the_file_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crl/devices.crl");
    publish_to_file(&path, b"first").unwrap();
    publish_to_file(&path, b"second").unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"second");
    assert!(
        !path.with_extension("tmp").exists(),
        "no file is left aside"
    );
}

#[test]
fn key_type_and_reason_names_are_the_names_pki_json_holds() {
    use super::{KeyType, Reason};
    // pki.json is written with serde's names, the command line offers
    // `name()`: a state file written by one must read back with the other.
    for k in KeyType::ALL {
        assert_eq!(serde_json::to_value(k).unwrap(), k.name(), "{k:?}");
        assert_eq!(KeyType::from_name(k.name()), Some(k));
    }
    for r in Reason::ALL {
        assert_eq!(serde_json::to_value(r).unwrap(), r.name(), "{r:?}");
        assert_eq!(Reason::from_name(r.name()), Some(r));
    }
    assert_eq!(KeyType::from_name("ecdsa-p521"), None);
}
