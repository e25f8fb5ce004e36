//! # mtls-authorizer
//!
//! The revocation half of mutual TLS for AWS API Gateway. API Gateway checks a
//! client certificate's chain at the handshake but never its revocation; this
//! crate decides, for the certificate in a REQUEST authorizer event, whether
//! its issuer and subject are allowed and whether its serial is on the issuer's
//! verified, fresh CRL.
//!
//! The core ([`cert`], [`config`], [`crl`], [`decision`], [`cache`],
//! [`signed`], [`metrics`]) does no I/O and never reads the clock. [`fetch`] and [`lambda`]
//! are the adapters.

pub mod cache;
pub mod cert;
pub mod config;
pub mod crl;
pub mod decision;
mod der;
pub mod error;
pub mod fetch;
pub mod lambda;
pub mod metrics;
pub mod name;
pub mod serial;
pub mod signed;
pub mod source;
pub mod time;
pub mod truststore;

pub use config::Config;
pub use crl::VerifiedCrl;
pub use decision::{Decision, DenyReason, Engine, Identity};
pub use error::{Error, Result};
pub use serial::Serial;
pub use time::UnixTime;
pub use truststore::TrustStore;
