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
