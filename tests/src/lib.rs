//! Test support shared by the workspace's tests: real certificates and CRLs
//! made at test time, realistic API Gateway authorizer events, a Lambda Runtime
//! API host that drives built binaries, a scriptable HTTP server, a local S3
//! and DynamoDB (`moto_server`), PKIs made by pyca/cryptography, and OCSP
//! responses made by `openssl ocsp` and pyca/cryptography; and a crate's
//! dependency tree, for the tests that keep its boundary.
//! Everything listens on 127.0.0.1 only and stops on drop.
//!
//! Test support may panic: a failed set-up is a failed test.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test support: a failed set-up is a failed test"
)]
#![expect(
    missing_debug_implementations,
    reason = "fixtures and servers for tests, never printed"
)]

pub mod deps;
pub mod echo_server;
pub mod events;
pub mod http_server;
pub mod measure;
pub mod moto;
pub mod ocsp;
pub mod ocsp_server;
pub mod pki;
pub mod pyca;
pub mod runtime_api;

/// A tiny deterministic generator (xorshift64), for the mutation tests'
/// positions, bytes, serials and chunk sizes: the same seed gives the same
/// run, so a failure reproduces.
pub fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}
