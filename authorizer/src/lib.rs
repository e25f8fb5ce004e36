//! # mtls-authorizer
//!
//! The AWS API Gateway Lambda authorizer: the adapters around the pure core
//! in `mtls-x509`. [`fetch`] reads truststores and CRLs from S3, HTTPS and
//! files; [`lambda`] is the Lambda wiring (events, refresh, shared state).
//!
//! The core's modules are re-exported here under their old paths, so
//! `authorizer::crl::…` and the like keep working for the other crates,
//! tests, benches and fuzz targets.

pub mod fetch;
pub mod lambda;

pub use mtls_x509::{
    cache, cert, config, context, crl, decision, der, error, metrics, name, pem, serial, signed,
    source, time, truststore,
};

pub use mtls_x509::{
    Config, Decision, DenyReason, Engine, Error, Identity, Result, Serial, TrustStore, UnixTime,
    VerifiedCrl,
};
