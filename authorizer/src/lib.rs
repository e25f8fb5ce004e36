//! # mtls-authorizer
//!
//! The AWS API Gateway Lambda authorizer: the adapters around the pure core
//! in `mtls-x509` and `mtls-policy`. [`fetch`] reads truststores and CRLs from S3, HTTPS and
//! files; [`lambda`] is the Lambda wiring (events, refresh, shared state).
//!
//! Certificates and CRLs are `mtls_x509`'s, the policy and the decision `mtls_policy`'s: this
//! crate re-exports none of it, so every caller names the core it uses.

pub mod fetch;
pub mod lambda;
