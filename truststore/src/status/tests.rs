use super::*;

fn state(pinned: Option<&str>, status: &str, warnings: &[&str]) -> DomainState {
    DomainState {
        status: status.to_owned(),
        truststore_uri: Some("s3://b/truststore.pem".to_owned()),
        truststore_version: pinned.map(str::to_owned),
        warnings: warnings.iter().map(|w| (*w).to_owned()).collect(),
    }
}

#[test]
fn newer_versions_count_from_the_newest_down_to_the_pinned_one() {
    let v = Version::list(&["v3", "v2", "v1"]);
    assert_eq!(newer_than(Some("v3"), &v), Some(0));
    assert_eq!(newer_than(Some("v1"), &v), Some(2));
    assert_eq!(newer_than(Some("gone"), &v), None);
    assert_eq!(newer_than(None, &v), None);
}

#[test]
fn an_available_domain_on_the_latest_version_is_ok() {
    let mut r = StatusReport::new("api.example.com", state(Some("v2"), "AVAILABLE", &[]));
    r.set_versions(Version::list(&["v2", "v1"]));
    assert_eq!(r.exit(), Exit::Ok);
}

#[test]
fn undeployed_versions_warnings_and_a_busy_domain_are_warnings() {
    let mut behind = StatusReport::new("d", state(Some("v1"), "AVAILABLE", &[]));
    behind.set_versions(Version::list(&["v2", "v1"]));
    assert_eq!(behind.newer_versions, Some(1));
    assert_eq!(behind.exit(), Exit::Warnings);
    let warned = StatusReport::new("d", state(Some("v1"), "AVAILABLE", &["expired CA"]));
    assert_eq!(warned.exit(), Exit::Warnings);
    let updating = StatusReport::new("d", state(Some("v1"), "UPDATING", &[]));
    assert_eq!(updating.exit(), Exit::Warnings);
}

#[test]
fn anything_unreadable_is_an_error() {
    let mut r = StatusReport::new("d", state(Some("v1"), "AVAILABLE", &["w"]));
    r.problems.push("cannot list versions: AccessDenied".into());
    assert_eq!(r.exit(), Exit::Error);
}
