//! The protected API behind the authorizer: a temperature log that devices
//! `POST` to and apps read back, keyed by the client identity the authorizer
//! verified.
//!
//! - [`event`] reads REST (payload 1.0) and HTTP API (payload 2.0) proxy
//!   events and writes their responses;
//! - [`identity`] turns the authorizer context into an [`identity::Identity`]
//!   and the stable key readings are stored under;
//! - [`reading`] validates bodies against `schema/temperature.json`, the
//!   request schema of the API's contract (`openapi.yaml`), generated from it;
//! - [`store`] keeps readings in DynamoDB or, locally, in SQLite;
//! - [`app`] routes requests and writes one JSON access-log line for each.
//!
//! The contract is `api-handler/openapi.yaml` (OpenAPI 3.0): every route, body
//! and answer. See docs/api-handler.md for routes, status codes and examples.

pub mod app;
pub mod error;
pub mod event;
pub mod identity;
pub mod reading;
pub mod store;

pub use app::App;
pub use error::{Error, Result};
