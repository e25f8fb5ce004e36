//! What `truststore status` reports about a domain, and the exit status it
//! means. Pure: the caller reads the domain, the object's versions and the
//! pinned bundle, and this module puts them together.

use serde::Serialize;

use crate::domain::DomainState;
use crate::exit::Exit;
use crate::s3::Version;
use mtls_pki::check::Report;

/// A domain's truststore, as `status` prints it (and as its JSON).
#[derive(Clone, Debug, Serialize)]
pub struct StatusReport {
    /// The custom domain.
    pub domain: String,
    /// Its state in API Gateway.
    pub state: DomainState,
    /// Every version of the truststore object, newest first, when they could be listed.
    pub versions: Option<Vec<Version>>,
    /// How many versions are newer than the pinned one, when it is among them.
    pub newer_versions: Option<usize>,
    /// The pinned bundle's check, when it could be read.
    pub pinned_bundle: Option<Report>,
    /// What could not be read, one line each.
    pub problems: Vec<String>,
}

impl StatusReport {
    /// A report on `domain` in `state`, before the versions and the bundle are read.
    #[must_use]
    pub fn new(domain: &str, state: DomainState) -> Self {
        Self {
            domain: domain.to_owned(),
            state,
            versions: None,
            newer_versions: None,
            pinned_bundle: None,
            problems: Vec::new(),
        }
    }

    /// Records the object's versions, and how many are newer than the pinned one.
    pub fn set_versions(&mut self, versions: Vec<Version>) {
        self.newer_versions = newer_than(self.state.truststore_version.as_deref(), &versions);
        self.versions = Some(versions);
    }

    /// Errors: the pinned bundle's, and everything that could not be read.
    /// Warnings: the bundle's, API Gateway's `truststoreWarnings`, newer
    /// versions not deployed, and a domain that is not `AVAILABLE`.
    #[must_use]
    pub fn exit(&self) -> Exit {
        let errors = self.pinned_bundle.as_ref().map_or(0, Report::errors) + self.problems.len();
        let warnings = self.pinned_bundle.as_ref().map_or(0, Report::warnings)
            + self.state.warnings.len()
            + usize::from(self.newer_versions.unwrap_or(0) > 0)
            + usize::from(!self.state.available());
        Exit::of_counts(errors, warnings)
    }
}

/// How many of `versions` (newest first) are newer than `pinned`; `None`
/// when nothing is pinned or the pinned version is not among them.
#[must_use]
pub fn newer_than(pinned: Option<&str>, versions: &[Version]) -> Option<usize> {
    let pinned = pinned?;
    versions.iter().position(|v| v.version_id == pinned)
}

#[cfg(test)]
mod tests {
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
}
