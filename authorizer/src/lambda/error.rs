//! The Lambda adapter's errors: why a refresh left a cached source as it
//! was ([`RefreshError`], what the caches record), and why the cold start
//! stops ([`StartError`]).
//!
//! This is the edge where the cores' typed causes meet text from outside (a
//! URI, an environment variable's value, serde's description of a JSON
//! failure): such text is cut with [`mtls_x509::error::bounded`].

use crate::fetch::FetchError;
use mtls_policy::config::ConfigError;
use mtls_policy::metrics::{Cause, RefreshCause};
use mtls_policy::source::UnsupportedUri;

/// Why a refresh of a cached source (the truststore, a CRL, the deny list)
/// did not install a new value: the source could not be read, or what it
/// served was refused by the core that reads it (`R`: mtls-x509's error for
/// the truststore and CRLs, mtls-policy's for the deny list). The last good
/// value stays in use either way.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefreshError<R> {
    /// The source could not be read: network, status, redirect, file
    /// system, deadline, size cap.
    #[error(transparent)]
    Fetch(FetchError),
    /// The source served something the core refused.
    #[error(transparent)]
    Refused(R),
    /// No truststore is loaded to verify a CRL against.
    #[error("the truststore is not loaded")]
    NoTruststore,
}

/// What the truststore's and the CRLs' caches record.
pub type CrlRefreshError = RefreshError<mtls_x509::Error>;

/// What the deny list's cache records.
pub type DenyListRefreshError = RefreshError<mtls_policy::Error>;

impl<R> From<FetchError> for RefreshError<R> {
    fn from(e: FetchError) -> Self {
        Self::Fetch(e)
    }
}

impl From<mtls_x509::Error> for CrlRefreshError {
    fn from(e: mtls_x509::Error) -> Self {
        Self::Refused(e)
    }
}

impl From<mtls_policy::Error> for DenyListRefreshError {
    fn from(e: mtls_policy::Error) -> Self {
        Self::Refused(e)
    }
}

impl RefreshCause for FetchError {
    /// `too_large` for the size cap; `fetch` for every other failure to
    /// read the source; a body the sink refused, as the core classifies it.
    fn cause(&self) -> Cause {
        match self {
            Self::TooLarge { .. } => Cause::TooLarge,
            Self::Refused(e) => e.cause(),
            Self::Client { .. }
            | Self::Source { .. }
            | Self::Status { .. }
            | Self::Redirect { .. }
            | Self::File { .. }
            | Self::Timeout { .. } => Cause::Fetch,
        }
    }
}

impl<R: RefreshCause> RefreshCause for RefreshError<R> {
    fn cause(&self) -> Cause {
        match self {
            Self::Fetch(e) => e.cause(),
            Self::Refused(e) => e.cause(),
            // Nothing to check a signature against.
            Self::NoTruststore => Cause::Signature,
        }
    }
}

/// Why the authorizer cannot start. The cold start stops with it (an
/// `init_failed` line), and API Gateway answers 500 meanwhile: never a
/// fallback to allowing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StartError {
    /// `AUTHORIZER_CONFIG` is unset or empty.
    #[error("AUTHORIZER_CONFIG is not set: give inline JSON or a file://, s3:// or https:// URI")]
    ConfigNotSet,
    /// `AUTHORIZER_CONFIG` is neither inline JSON nor a URI we fetch.
    #[error("AUTHORIZER_CONFIG: {0}")]
    ConfigUri(UnsupportedUri),
    /// The configuration document could not be fetched.
    #[error("the configuration document: {0}")]
    ConfigFetch(FetchError),
    /// The configuration document is not UTF-8.
    #[error("{uri} is not UTF-8 JSON")]
    ConfigNotUtf8 {
        /// Where it came from.
        uri: String,
    },
    /// The configuration's source answered "not modified" to a request
    /// that named no version.
    #[error("{uri}: unexpected 304")]
    ConfigNotModified {
        /// Where it came from.
        uri: String,
    },
    /// The configuration is invalid.
    #[error("{}", ConfigText(error, detail.as_deref()))]
    Config {
        /// The setting and the rule it breaks.
        error: ConfigError,
        /// For a document that is not JSON of the configuration's shape,
        /// serde's own description (the unknown field's name, the type it
        /// wanted), bounded.
        detail: Option<String>,
    },
    /// An environment variable holds a value the authorizer does not take.
    #[error("{variable} = `{value}`: {expected}")]
    Setting {
        /// The variable.
        variable: &'static str,
        /// Its value, bounded.
        value: String,
        /// What it takes.
        expected: &'static str,
    },
    /// The HTTP client could not be built.
    #[error("{0}")]
    Fetcher(FetchError),
    /// The truststore could not be loaded: without it no CRL can be
    /// verified and no issuer signature checked.
    #[error("cannot start without the truststore: {0}")]
    Truststore(CrlRefreshError),
}

impl From<ConfigError> for StartError {
    fn from(error: ConfigError) -> Self {
        Self::Config {
            error,
            detail: None,
        }
    }
}

/// A configuration error, with serde's words for a JSON failure when the
/// edge has them: `invalid configuration: JSON: unknown field …`.
struct ConfigText<'a>(&'a ConfigError, Option<&'a str>);

impl std::fmt::Display for ConfigText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.1 {
            Some(detail) => write!(f, "invalid configuration: JSON: {detail}"),
            None => write!(f, "{}", self.0),
        }
    }
}
