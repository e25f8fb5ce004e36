//! A local mutual TLS API Gateway for development and end-to-end tests.
//!
//! - [`apigw`] and `http_api` are pure: API Gateway's REQUEST authorizer
//!   events, policy evaluation, proxy events and proxy responses, for REST
//!   APIs and HTTP APIs, with time as a parameter. [`backend`] forwards to
//!   an HTTP backend with the verified identity as headers.
//! - [`tls`] verifies client certificates against `truststore.pem` the way
//!   API Gateway does (no revocation), and picks up a new truststore file.
//! - [`server`] runs the real function binaries through the Lambda Runtime
//!   API (`mtls-lambda-host`) and ties it together; [`dev`] prepares the
//!   one-command development stack; [`summary`] is the periodic one-line
//!   summary of decisions and latency.

pub mod apigw;
pub mod backend;
pub mod dev;
pub mod error;
pub(crate) mod http_api;
pub mod server;
pub mod summary;
pub mod tls;

pub use error::{Error, Result};
