//! # mtls-pki
//!
//! The half of the truststore tool that needs no AWS: reading CA bundles,
//! API Gateway's truststore rules, deterministic bundles, and a development
//! PKI. The `truststore` command line adds the S3, API Gateway and AWS
//! Private CA adapters around it; the local gateway (`gateway dev`) builds
//! its development stack with it, without the AWS SDK.
//!
//! - [`cert`], [`check`] and [`bundle`] are pure: they read, check, assemble
//!   and compare CA bundles, with the time as a parameter. Certificates are
//!   read with the authorizer's own parsers and allowlist
//!   ([`mtls_x509::signed`]), so the tool never accepts a CA the authorizer
//!   refuses, nor the reverse.
//! - [`pki`] is a development PKI in a directory, for local runs and tests
//!   only: the one module that does I/O (files in that directory, and the
//!   system's randomness for serials).
//!
//! Cargo keeps the AWS SDK out: this crate depends on no `aws-*` crate, no
//! async runtime and no command-line parser (`tests/it/boundary.rs`).

pub mod bundle;
pub mod cert;
pub mod check;
pub mod error;
pub mod pki;

pub use error::{Error, Result};
