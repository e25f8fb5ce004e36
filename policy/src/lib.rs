//! # mtls-policy
//!
//! What the authorizer decides, and the contracts around the decision, on
//! top of `mtls-x509`'s verified certificates and CRLs: the configuration
//! document and its per-issuer policy, the decision engine and its reason
//! codes, the operator deny list, the authorizer context that API Gateway
//! passes to backends, the refresh state of fetched resources, and the
//! CloudWatch EMF records the decisions and refreshes write.
//!
//! Like `mtls-x509`, nothing here does I/O or reads the clock: fetching,
//! the Lambda wiring and the CLIs are the `authorizer`, `truststore` and
//! `gateway` crates', and time is a parameter.
//!
//! - [`config`], [`decision`]: the policy document and the decision engine.
//! - [`denylist`]: the operator deny list's document and its index.
//! - [`context`]: the authorizer context, the contract between the
//!   authorizer, API Gateway, the api-handler and HTTP backends.
//! - [`cache`], [`source`]: refresh state for fetched resources, without the fetching.
//! - [`metrics`]: the CloudWatch EMF lines the decisions and refreshes write.
//! - [`error`]: the crate's one error type, [`Error`]: configuration
//!   settings that break a rule ([`ConfigError`]), refused deny lists, and
//!   mtls-x509's refusals.

pub mod cache;
pub mod config;
pub mod context;
pub mod decision;
pub mod denylist;
pub mod error;
mod labels;
pub mod metrics;
pub mod source;

pub use config::Config;
pub use decision::{Decision, DenyReason, Engine, Identity};
pub use error::{ConfigError, Error, Result};
