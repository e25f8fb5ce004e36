//! Rotation: pin a truststore version on a custom domain, wait until the
//! domain is `AVAILABLE`, read `truststoreWarnings`, and roll back when there
//! are any. Throttling is retried with backoff.

use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

use crate::domain::{CallError, DomainState, Domains};
use crate::error::{Error, Result};

/// Pacing of the calls to API Gateway.
#[derive(Clone, Copy, Debug)]
pub struct Pacing {
    /// Between two status polls.
    pub poll_interval: Duration,
    /// The longest wait for `AVAILABLE`, per change.
    pub timeout: Duration,
    /// The first wait after throttling; it doubles each time, up to
    /// [`Pacing::max_backoff`].
    pub backoff: Duration,
    /// The longest single wait after throttling.
    pub max_backoff: Duration,
    /// Attempts per call before giving up on throttling or transient errors.
    pub attempts: u32,
}

impl Default for Pacing {
    /// `UpdateDomainName` allows about one call per 30 s per account, and a
    /// truststore change takes 60–90 s to propagate.
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(5),
            timeout: Duration::from_secs(600),
            backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(60),
            attempts: 8,
        }
    }
}

/// Where progress goes (a spinner in the CLI, nothing in tests).
pub trait Progress {
    /// A new state of the operation.
    fn update(&self, message: &str);
    /// Something the user must see, such as a retry.
    fn note(&self, message: &str);
}

/// A [`Progress`] that shows nothing.
#[derive(Debug, Clone, Copy)]
pub struct Quiet;

impl Progress for Quiet {
    fn update(&self, _: &str) {}
    fn note(&self, _: &str) {}
}

/// How a rotation ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// The domain already pinned this version; nothing was changed.
    AlreadyCurrent {
        /// The version.
        version: String,
    },
    /// The new version is live, without warnings.
    Applied {
        /// The version before.
        from: Option<String>,
        /// The version now.
        to: String,
    },
    /// API Gateway reported warnings; the previous version is back.
    RolledBack {
        /// The version that is live again.
        from: Option<String>,
        /// The version that was refused.
        to: String,
        /// API Gateway's warnings about `to`.
        warnings: Vec<String>,
    },
    /// API Gateway reported warnings and the new version was kept, as asked
    /// (or because there was nothing to roll back to, or it was pinned
    /// already: then `from` is `to`).
    KeptWithWarnings {
        /// The version before.
        from: Option<String>,
        /// The version now.
        to: String,
        /// API Gateway's warnings.
        warnings: Vec<String>,
    },
}

impl Outcome {
    /// API Gateway warned about the version.
    #[must_use]
    pub fn warned(&self) -> bool {
        matches!(
            self,
            Self::RolledBack { .. } | Self::KeptWithWarnings { .. }
        )
    }
}

/// Calls `op` until it succeeds, retrying throttling and transient errors
/// with exponential backoff (or the service's `Retry-After`, if longer).
async fn with_backoff<T, F, Fut>(
    what: &str,
    pacing: Pacing,
    progress: &dyn Progress,
    mut op: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = std::result::Result<T, CallError>>,
{
    let mut wait = pacing.backoff;
    let mut attempt = 1;
    loop {
        let (delay, reason) = match op().await {
            Ok(v) => return Ok(v),
            Err(CallError::Fatal(e)) => return Err(e),
            Err(CallError::Throttled { retry_after }) => {
                let d = retry_after
                    .map_or(wait, |r| r.max(wait))
                    .min(pacing.max_backoff);
                (d, "throttled by API Gateway".to_owned())
            }
            Err(CallError::Transient(e)) => (wait, e.to_string()),
        };
        if attempt >= pacing.attempts {
            return Err(Error::Aws {
                operation: "apigateway",
                message: format!("{what}: gave up after {attempt} attempts; last: {reason}"),
            });
        }
        progress.note(&format!(
            "{what}: {reason}; retrying in {:.1} s (attempt {}/{})",
            delay.as_secs_f64(),
            attempt + 1,
            pacing.attempts
        ));
        tokio::time::sleep(delay).await;
        wait = (wait * 2).min(pacing.max_backoff);
        attempt += 1;
    }
}

/// Reads the domain's state, retrying throttling.
///
/// # Errors
/// A service error, or throttling beyond [`Pacing::attempts`].
pub async fn state(
    domains: &Domains,
    domain: &str,
    pacing: Pacing,
    progress: &dyn Progress,
) -> Result<DomainState> {
    with_backoff("GetDomainName", pacing, progress, || domains.get(domain)).await
}

/// Waits until the domain is `AVAILABLE` (and, when given, pins `version`).
///
/// # Errors
/// [`Error::Timeout`] after [`Pacing::timeout`], or a service error.
pub async fn wait_available(
    domains: &Domains,
    domain: &str,
    version: Option<&str>,
    pacing: Pacing,
    progress: &dyn Progress,
) -> Result<DomainState> {
    let started = Instant::now();
    loop {
        let s = state(domains, domain, pacing, progress).await?;
        let pinned = version.is_none_or(|v| s.truststore_version.as_deref() == Some(v));
        if s.available() && pinned {
            return Ok(s);
        }
        let waited = started.elapsed();
        if waited >= pacing.timeout {
            return Err(Error::Timeout {
                domain: domain.to_owned(),
                status: s.status,
                waited_seconds: waited.as_secs(),
            });
        }
        progress.update(&format!(
            "domain {domain} is {} ({} s)",
            s.status,
            waited.as_secs()
        ));
        tokio::time::sleep(pacing.poll_interval.min(pacing.timeout - waited)).await;
    }
}

/// Pins `version` and waits for the domain to be `AVAILABLE` with it.
///
/// # Errors
/// A service error, or [`Error::Timeout`].
pub async fn apply(
    domains: &Domains,
    domain: &str,
    uri: &str,
    version: &str,
    pacing: Pacing,
    progress: &dyn Progress,
) -> Result<DomainState> {
    progress.update(&format!("pinning truststore version {version} on {domain}"));
    let set = with_backoff("UpdateDomainName", pacing, progress, || {
        domains.set_version(domain, uri, version)
    })
    .await;
    if let Err(e) = set {
        // An update whose answer was lost (a 5xx, a dropped connection) may
        // have been made all the same; its retry then finds the domain
        // updating and is refused. The domain, not the error, says which.
        match state(domains, domain, pacing, progress).await {
            Ok(s) if s.truststore_version.as_deref() == Some(version) => {
                progress.note(&format!(
                    "{e}; {domain} pins {version} all the same: the update was made"
                ));
            }
            _ => return Err(e),
        }
    }
    wait_available(domains, domain, Some(version), pacing, progress).await
}

/// What to do when API Gateway warns about the new version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnWarnings {
    /// Pin the previous version again (the default).
    RollBack,
    /// Keep the new version.
    Keep,
}

/// Rotates the domain to `version` of the truststore at `uri`; see the
/// module documentation. The domain must already use `uri`.
///
/// # Errors
/// A domain without mutual TLS or with another truststore, a service error,
/// or a timeout. A timeout leaves the domain as it is: it cannot be changed
/// again until it is `AVAILABLE`.
pub async fn rotate(
    domains: &Domains,
    domain: &str,
    uri: &str,
    version: &str,
    on_warnings: OnWarnings,
    pacing: Pacing,
    progress: &dyn Progress,
) -> Result<Outcome> {
    let before = wait_available(domains, domain, None, pacing, progress).await?;
    match before.truststore_uri.as_deref() {
        Some(u) if u == uri => {}
        Some(u) => {
            return Err(Error::Domain {
                domain: domain.to_owned(),
                message: format!(
                    "its truststore is {u}, not {uri}; rotate that object, or change the domain's truststore URI first"
                ),
            });
        }
        None => {
            return Err(Error::Domain {
                domain: domain.to_owned(),
                message: "mutual TLS is not enabled on it".into(),
            });
        }
    }
    let from = before.truststore_version.clone();
    if from.as_deref() == Some(version) {
        // Pinned already, perhaps by a rotation killed before it read API
        // Gateway's verdict: that verdict is still due, and the version
        // before is no longer known, so the warnings are reported, not
        // taken for "nothing to do".
        if !before.warnings.is_empty() {
            return Ok(Outcome::KeptWithWarnings {
                from,
                to: version.to_owned(),
                warnings: before.warnings,
            });
        }
        return Ok(Outcome::AlreadyCurrent {
            version: version.to_owned(),
        });
    }
    let after = apply(domains, domain, uri, version, pacing, progress).await?;
    if after.warnings.is_empty() {
        return Ok(Outcome::Applied {
            from,
            to: version.to_owned(),
        });
    }
    let warnings = after.warnings;
    match (on_warnings, &from) {
        (OnWarnings::RollBack, Some(previous)) => {
            progress.note(&format!(
                "API Gateway reported {} warning(s); rolling back to {previous}",
                warnings.len()
            ));
            apply(domains, domain, uri, previous, pacing, progress).await?;
            Ok(Outcome::RolledBack {
                from,
                to: version.to_owned(),
                warnings,
            })
        }
        _ => Ok(Outcome::KeptWithWarnings {
            from,
            to: version.to_owned(),
            warnings,
        }),
    }
}

/// The version `truststore rollback` pins when none is given: the one just
/// older than `pinned` among `versions` (newest first, as
/// [`crate::s3::Store::versions`] lists them). The error says why there is none.
///
/// # Errors
/// Nothing pinned, a pinned version that is not among the versions, or a
/// pinned version that is the oldest.
pub fn rollback_target(
    pinned: Option<&str>,
    versions: &[crate::s3::Version],
    uri: &str,
) -> std::result::Result<String, String> {
    let pinned = pinned.ok_or("no truststore version is pinned; give --version")?;
    let at = versions
        .iter()
        .position(|v| v.version_id == pinned)
        .ok_or_else(|| format!("pinned version {pinned} is not among the versions of {uri}"))?;
    versions
        .get(at + 1)
        .map(|v| v.version_id.clone())
        .ok_or_else(|| format!("{pinned} is the oldest version of {uri}; nothing to roll back to"))
}

#[cfg(test)]
mod tests;
