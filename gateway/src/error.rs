//! The one error type of the gateway.

use std::path::PathBuf;

/// What stops the gateway from starting or serving.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The TLS configuration could not be built.
    #[error("TLS: {0}")]
    Tls(String),
    /// A function could not be started.
    #[error("function {name}: {message}")]
    Function {
        /// The function.
        name: String,
        /// What went wrong.
        message: String,
    },
    /// A development PKI of the stack could not be made or used.
    #[error("{what}: {source}")]
    Pki {
        /// What the stack was doing.
        what: &'static str,
        /// The cause.
        source: mtls_pki::Error,
    },
    /// The development stack could not be prepared.
    #[error("{0}")]
    Setup(String),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
