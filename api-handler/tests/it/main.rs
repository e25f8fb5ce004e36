//! The integration tests of `api-handler`, in one binary: each module is one area,
//! and `common` holds the fixtures they share. One binary links the crate's
//! dependencies once, where one binary per file linked them once per file.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a failed test panics; the lints guard production code"
)]

mod api;
mod behaviour;
mod common;
mod lambda_binary;
mod stores;
