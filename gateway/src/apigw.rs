//! What API Gateway does around the functions, as pure functions: the REQUEST
//! authorizer event, the evaluation of the policy the authorizer returns, the
//! Lambda proxy event, and the mapping of the proxy response back to HTTP.
//! No I/O, no clock: the request time is a parameter.
//!
//! - [`model`]: the API (routes, flavour) and the received request;
//! - [`event`]: the events sent to the functions;
//! - [`policy`]: reading the authorizer's answer;
//! - [`proxy`]: the answers sent back to the client.

pub mod event;
pub mod model;
pub mod policy;
pub mod proxy;

pub use event::{
    ClientCert, authorizer_event, body_of, client_cert, openssl_time, proxy_event, serial_hex,
};
pub use model::{Api, Flavor, GREEDY, Request};
pub use policy::{Verdict, evaluate, glob};
pub use proxy::{Answer, denied, missing_route, proxy_answer};

#[cfg(test)]
mod tests;
