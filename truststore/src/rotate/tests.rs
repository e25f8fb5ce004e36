use super::rollback_target;
use crate::s3::Version;

#[test]
fn rollback_pins_the_version_just_older_than_the_pinned_one() {
    let v = Version::list(&["v3", "v2", "v1"]);
    assert_eq!(
        rollback_target(Some("v3"), &v, "s3://b/k"),
        Ok("v2".to_owned())
    );
    assert_eq!(
        rollback_target(Some("v2"), &v, "s3://b/k"),
        Ok("v1".to_owned())
    );
}

#[test]
fn rollback_without_an_older_or_a_known_pinned_version_says_why() {
    let v = Version::list(&["v3", "v2", "v1"]);
    assert!(
        rollback_target(Some("v1"), &v, "s3://b/k")
            .unwrap_err()
            .contains("oldest")
    );
    assert!(
        rollback_target(Some("v9"), &v, "s3://b/k")
            .unwrap_err()
            .contains("not among")
    );
    assert!(
        rollback_target(None, &v, "s3://b/k")
            .unwrap_err()
            .contains("--version")
    );
}
