//! The operators' tool for the API Gateway mutual TLS truststore.
//!
//! - [`cert`], [`check`] and [`bundle`] are pure: they read, check, assemble
//!   and compare CA bundles, with the time as a parameter.
//! - [`s3`] and [`domain`] are the adapters to S3 and API Gateway; [`rotate`]
//!   drives a rotation through them, and [`status`] reports on a domain.
//! - [`exit`]: how the command ends. The command line itself (`src/cli/`,
//!   one module per command) only parses, calls these and prints.
//! - [`deny`] edits the operator deny list (`deny/store.rs` reads and
//!   writes it, on files and S3, without losing a concurrent writer's
//!   change); [`pca`] revokes a certificate at AWS Private CA.
//! - [`pki`] is a development PKI, for local runs and tests only.

pub mod bundle;
pub mod cert;
pub mod check;
pub mod deny;
pub mod domain;
pub mod error;
pub mod exit;
pub mod pca;
pub mod pki;
pub mod rotate;
pub mod s3;
pub mod status;

pub use error::{Error, Result};
pub use exit::Exit;
