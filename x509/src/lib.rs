//! # mtls-x509
//!
//! The pure core of mtls-authorizer: X.509 client certificates, CRLs and the
//! policy that decides on them. API Gateway checks a client certificate's
//! chain at the handshake but never its revocation; this crate decides, for
//! one certificate, whether its issuer and subject are allowed and whether its
//! serial is on the issuer's verified, fresh CRL.
//!
//! Nothing here does I/O or reads the clock, and the crate depends on no
//! async runtime, HTTP client, AWS SDK or Lambda crate, so Cargo enforces
//! that. Time is a parameter ([`UnixTime`]). Fetching CRLs and truststores,
//! the Lambda wiring and the CLIs live in the `authorizer`, `truststore` and
//! `gateway` crates.
//!
//! - [`pem`]: PEM reading and writing (RFC 7468), for every crate.
//! - [`der`], [`signed`]: DER reading and signed-data envelopes, with the
//!   algorithm allowlist and signature check (RFC 5280 §4.1.1.2, §5.1.1.2).
//! - [`cert`], [`name`], [`serial`], [`truststore`]: certificates, DNs, serials
//!   and the CA bundle.
//! - [`crl`]: CRL parsing and verification (RFC 5280 §5, §6.3).
//! - [`ocsp`]: OCSP requests and the verification of responses (RFC 6960,
//!   in the profile of RFC 5019).
//! - [`config`], [`decision`]: the policy document and the decision engine.
//! - [`denylist`]: the operator deny list's document and its index.
//! - [`context`]: the authorizer context, the contract between the
//!   authorizer, API Gateway, the api-handler and HTTP backends.
//! - [`cache`], [`source`]: refresh state for fetched resources, without the fetching.
//! - [`metrics`]: the CloudWatch EMF lines the decisions and refreshes write.

pub mod cache;
pub mod cert;
pub mod config;
pub mod context;
pub mod crl;
pub mod decision;
pub mod denylist;
pub mod der;
pub mod error;
pub mod metrics;
pub mod name;
pub mod ocsp;
pub mod pem;
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
