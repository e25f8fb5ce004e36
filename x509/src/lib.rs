//! # mtls-x509
//!
//! X.509 for mtls-authorizer: client certificates, distinguished names,
//! serials, the CA bundle, CRLs and OCSP responses, each read strictly and
//! verified against the truststore. API Gateway checks a client certificate's
//! chain at the handshake but never its revocation; this crate answers, for
//! one certificate, what it says and whether a verified, fresh CRL or OCSP
//! response lists it. What to *do* with that (the policy, the decision, the
//! deny list, metrics) is `mtls-policy`'s.
//!
//! Nothing here does I/O or reads the clock, and the crate depends on no
//! async runtime, HTTP client, AWS SDK or Lambda crate, so Cargo enforces
//! that. Time is a parameter ([`UnixTime`]).
//!
//! - [`pem`]: PEM reading and writing (RFC 7468), for every crate.
//! - [`der`], [`signed`]: DER reading and signed-data envelopes, with the
//!   algorithm allowlist and signature check (RFC 5280 §4.1.1.2, §5.1.1.2).
//! - [`cert`], [`name`], [`serial`], [`truststore`]: certificates, DNs, serials
//!   and the CA bundle.
//! - [`crl`]: CRL parsing and verification (RFC 5280 §5, §6.3).
//! - [`ocsp`]: OCSP requests and the verification of responses (RFC 6960,
//!   in the profile of RFC 5019).
//! - [`time`]: the time as a parameter, and a manual clock for tests.

pub mod cert;
pub mod crl;
pub mod der;
pub mod error;
pub mod name;
pub mod ocsp;
pub mod pem;
pub mod serial;
pub mod signed;
pub mod time;
pub mod truststore;

pub use crl::VerifiedCrl;
pub use error::{Error, Result};
pub use serial::Serial;
pub use time::UnixTime;
pub use truststore::TrustStore;

#[cfg(test)]
mod tests;
