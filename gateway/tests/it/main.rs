//! The integration tests of `gateway`, in one binary: each module is one area,
//! and `common` holds the fixtures they share. One binary links the crate's
//! dependencies once, where one binary per file linked them once per file.
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a failed test panics; the lints guard production code"
)]

mod boundary;
mod cargo_lambda;
mod common;
mod e2e;
mod flavors;
mod identity_headers;
mod load;
mod look_alike_names;
mod slow_clients;
