//! The one error type of the `truststore` crate.

use std::path::PathBuf;

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use mtls_x509::error::bounded;

/// Everything that can stop a `truststore` command. Messages say what to do
/// next; none of them ever contains key material.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A local file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// An input holds private key material. Only the location is reported.
    #[error(
        "{file}: block {block} is a private key ({label}); a truststore holds CA certificates only. Remove the key from the file (and treat it as exposed if it was shared)"
    )]
    PrivateKey {
        /// The file.
        file: String,
        /// 1-based PEM block number.
        block: usize,
        /// The PEM label, e.g. `EC PRIVATE KEY`.
        label: String,
    },
    /// The bundle breaks API Gateway's rules; the findings are in the report.
    #[error("the bundle has {errors} error(s); see the findings above")]
    Invalid {
        /// Number of error findings.
        errors: usize,
    },
    /// A command-line value is unusable.
    #[error("{0}")]
    Usage(String),
    /// An AWS call failed.
    #[error("{operation}: {message}")]
    Aws {
        /// The API operation, e.g. `s3:PutObject`.
        operation: &'static str,
        /// The service's code and message.
        message: String,
    },
    /// The S3 bucket cannot hold a truststore safely.
    #[error(
        "bucket {bucket} does not have versioning enabled (status: {status}); API Gateway pins a truststore by object version, so enable it: aws s3api put-bucket-versioning --bucket {bucket} --versioning-configuration Status=Enabled"
    )]
    Unversioned {
        /// The bucket.
        bucket: String,
        /// What S3 reported.
        status: String,
    },
    /// The domain is not in a state the command can work with.
    #[error("domain {domain}: {message}")]
    Domain {
        /// The custom domain name.
        domain: String,
        /// What is wrong.
        message: String,
    },
    /// The domain did not become `AVAILABLE` in time.
    #[error(
        "domain {domain} is still {status} after {waited_seconds} s; check it with `truststore status --domain {domain}`"
    )]
    Timeout {
        /// The custom domain name.
        domain: String,
        /// Its last status.
        status: String,
        /// How long we waited.
        waited_seconds: u64,
    },
    /// Reading a certificate, or the development PKI, failed
    /// ([`mtls_pki::Error`] words it).
    #[error(transparent)]
    Pki(#[from] mtls_pki::Error),
    /// A certificate or CA file given on the command line is unusable.
    #[error("{file}: {message}")]
    Certificate {
        /// The file.
        file: String,
        /// What is wrong, and what to give instead.
        message: String,
    },
    /// The deny list at `list` is not a deny list this build reads. Nothing
    /// is written over it.
    #[error("deny list {list}: {source}; fix or restore it (nothing was written)")]
    DenyList {
        /// The list's URI.
        list: String,
        /// What the parser refused.
        source: mtls_policy::Error,
    },
    /// Other writers kept changing the deny list while this one tried.
    #[error(
        "deny list {list}: changed by another writer on each of {attempts} attempts; nothing was written, run the command again"
    )]
    DenyListBusy {
        /// The list's URI.
        list: String,
        /// How many read-modify-write rounds were tried.
        attempts: u32,
    },
    /// A CRL could not be read or verified; it prunes nothing.
    #[error("CRL {uri}: {message}")]
    Crl {
        /// Where it came from.
        uri: String,
        /// Why it is not used.
        message: String,
    },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }

    /// An AWS call's failure, as [`aws_message`] words it.
    pub(crate) fn aws<E>(operation: &'static str) -> impl FnOnce(SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        move |e| Self::Aws {
            operation,
            message: aws_message(&e),
        }
    }
}

/// An AWS SDK error in one line: when the service answered, its error code,
/// HTTP status and message (bounded and escaped, since the text is the
/// service's); otherwise (no connection, a timeout) the SDK's chain of causes.
pub(crate) fn aws_message<E>(e: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let Some(service) = e.as_service_error() else {
        return bounded(&DisplayErrorContext(e).to_string());
    };
    let status = e
        .raw_response()
        .map(|r| format!(" (HTTP {})", r.status().as_u16()))
        .unwrap_or_default();
    let message = service
        .message()
        .filter(|m| !m.is_empty())
        .map(|m| format!(": {}", bounded(m)))
        .unwrap_or_default();
    format!(
        "{}{status}{message}",
        bounded(service.code().unwrap_or("error"))
    )
}
