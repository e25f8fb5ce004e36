//! The operators' tool for the API Gateway mutual TLS truststore.
//!
//! Reading, checking, assembling and comparing CA bundles, and the
//! development PKI, are [`mtls_pki`]'s: they need no AWS, and the local
//! gateway uses them without the AWS SDK. This crate adds the AWS side and
//! the command line.
//!
//! - [`s3`] and [`domain`] are the adapters to S3 and API Gateway; [`rotate`]
//!   drives a rotation through them, and [`status`] reports on a domain.
//! - [`exit`]: how the command ends. The command line itself (`src/cli/`,
//!   one module per command) only parses, calls these and prints.
//! - [`deny`] edits the operator deny list (`deny/store.rs` reads and
//!   writes it, on files and S3, without losing a concurrent writer's
//!   change); [`pca`] revokes a certificate at AWS Private CA.

pub mod deny;
pub mod domain;
pub mod error;
pub mod exit;
pub mod pca;
pub mod rotate;
pub mod s3;
pub mod status;

pub use error::{Error, Result};
pub use exit::Exit;
