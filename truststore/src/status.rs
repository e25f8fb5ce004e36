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
pub(crate) fn newer_than(pinned: Option<&str>, versions: &[Version]) -> Option<usize> {
    let pinned = pinned?;
    versions.iter().position(|v| v.version_id == pinned)
}

#[cfg(test)]
mod tests;
