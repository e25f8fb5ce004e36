#![no_main]
//! Arbitrary JSON events: detection, extraction and response shaping.
use authorizer::lambda::{EventKind, HttpApiResponse, RoutePolicies};
use libfuzzer_sys::fuzz_target;
use mtls_policy::config::PolicyResource;
use mtls_policy::decision::{Decision, DenyReason, Identity};

fuzz_target!(|data: &[u8]| {
    let Ok(event) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let kind = EventKind::detect(&event);
    let _ = kind.client_cert_pem(&event);
    let _ = kind.request_route();
    let policies = RoutePolicies::default();
    let deny = Decision::deny(DenyReason::InternalError, &Identity::default(), "fuzz");
    for scope in [PolicyResource::Method, PolicyResource::Stage] {
        for http in [HttpApiResponse::Simple, HttpApiResponse::Iam] {
            let _ = kind.response(&deny, scope, http, None, &policies);
        }
    }
});
