//! The operators' tool for the API Gateway mutual TLS truststore.
//!
//! - [`cert`], [`check`] and [`bundle`] are pure: they read, check, assemble
//!   and compare CA bundles, with the time as a parameter.
//! - [`s3`] and [`domain`] are the adapters to S3 and API Gateway; [`rotate`]
//!   drives a rotation through them.
//! - [`pki`] is a development PKI, for local runs and tests only.

pub mod bundle;
pub mod cert;
pub mod check;
pub mod domain;
pub mod error;
pub mod pki;
pub mod rotate;
pub mod s3;

pub use error::{Error, Result};

/// Exit codes of the `truststore` command.
pub mod exit {
    /// Success, nothing to report.
    pub const OK: u8 = 0;
    /// Errors: an invalid bundle, a failed call, a timeout.
    pub const ERROR: u8 = 1;
    /// The command line is wrong (clap's own code).
    pub const USAGE: u8 = 2;
    /// Warnings only: CAs close to expiry, or API Gateway's
    /// `truststoreWarnings` during a rotation (rolled back unless
    /// `--keep-on-warnings`).
    pub const WARNINGS: u8 = 3;
}
