//! The integration tests of `authorizer`, in one binary: each module is one area,
//! and `common` holds the fixtures they share. One binary links the crate's
//! dependencies once, where one binary per file linked them once per file.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a failed test panics; the lints guard production code"
)]

mod boundary;
mod ca_revocation;
mod common;
mod decisions;
mod deny_list;
mod distribution_points;
mod events;
mod http_source;
mod lambda_binary;
mod ocsp;
mod openssl_interop;
mod python_interop;
mod refresh;
mod revocation;
mod revocation_binary;
mod s3_source;
mod scale;
mod streaming;
