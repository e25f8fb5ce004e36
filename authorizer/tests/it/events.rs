//! Both authorizer event formats through `Authorizer::handle`: response shapes,
//! context keys, and hostile or odd events.

use crate::common;

use authorizer::lambda::{Authorizer, HttpApiResponse};
use common::Fixture;
use mtls_tests::events::{self, METHOD_ARN, ROUTE_ARN};
use mtls_tests::pki::serial20;
use serde_json::{Value, json};

/// The `devices` entry, whose CRL revokes the 20-byte serial ending in 0x10.
async fn authorizer(s: &Fixture, extra: &str, http: HttpApiResponse) -> Authorizer {
    s.write("devices.crl", &s.ca.crl().revoke(&serial20(0x10)).der());
    let config = s.config(&s.devices_entry(&s.file_uri("devices.crl")), extra);
    s.start_for(config, http).await
}

fn statement(resp: &Value) -> &Value {
    &resp["policyDocument"]["Statement"][0]
}

#[tokio::test]
async fn rest_event_allow_is_an_iam_policy_on_the_method_arn_with_identity_context() {
    let s = Fixture::new();
    let a = authorizer(&s, "", HttpApiResponse::Simple).await;
    let pem = s.ca.leaf(&serial20(0x11)).pem();
    let resp = a.handle(&events::rest(Some(&pem))).await;
    assert_eq!(resp["policyDocument"]["Version"], "2012-10-17");
    assert!(
        resp.as_object().unwrap().values().all(|v| !v.is_null()),
        "{resp}"
    );
    assert_eq!(statement(&resp)["Effect"], "Allow");
    assert_eq!(statement(&resp)["Action"], json!(["execute-api:Invoke"]));
    assert_eq!(statement(&resp)["Resource"], json!([METHOD_ARN]));
    let ctx = &resp["context"];
    assert_eq!(ctx["serialNumber"], format!("805a{}11", "5a".repeat(17)));
    assert_eq!(ctx["subjectDn"], "CN=device-1");
    assert_eq!(
        ctx["issuerDn"],
        "O=Temperature Testers\\, Inc.,CN=Devices CA"
    );
    assert_eq!(ctx["issuer"], "devices");
    assert!(ctx.get("reason").is_none());
    assert_eq!(resp["principalId"], ctx["fingerprintSha256"]);
    // The DER-exact identity: SHA-256 over (u64 BE length, issuer DER, u64
    // BE length, subject DER), computed here from the certificate itself.
    let der = mtls_x509::pem::find(pem.as_bytes(), mtls_x509::pem::CERTIFICATE)
        .unwrap()
        .unwrap();
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    let (issuer, subject) = (cert.issuer().as_raw(), cert.subject().as_raw());
    let mut ctx_hash = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for part in [issuer, subject] {
        ctx_hash.update(&(part.len() as u64).to_be_bytes());
        ctx_hash.update(part);
    }
    assert_eq!(ctx["nameSha256"], hex::encode(ctx_hash.finish()));
    for (_, v) in ctx.as_object().unwrap() {
        assert!(v.is_string(), "context values must be strings: {v}");
    }
}

#[tokio::test]
async fn rest_event_deny_carries_the_reason_in_the_context() {
    let s = Fixture::new();
    let a = authorizer(&s, "", HttpApiResponse::Simple).await;
    let pem = s.ca.leaf(&serial20(0x10)).pem();
    let resp = a.handle(&events::rest(Some(&pem))).await;
    assert_eq!(statement(&resp)["Effect"], "Deny");
    assert_eq!(resp["context"]["reason"], "revoked");
    assert_eq!(resp["context"]["issuer"], "devices");
    let resp = a.handle(&events::rest(None)).await;
    assert_eq!(statement(&resp)["Effect"], "Deny");
    assert_eq!(resp["context"]["reason"], "missing_certificate");
    assert_eq!(resp["principalId"], "anonymous");
}

#[tokio::test]
async fn stage_policy_resource_covers_every_route_of_the_stage() {
    let s = Fixture::new();
    let a = authorizer(&s, r#","policy_resource":"stage""#, HttpApiResponse::Simple).await;
    let resp = a.handle(&events::rest(Some(&s.ca.leaf(&[1]).pem()))).await;
    assert_eq!(
        statement(&resp)["Resource"],
        json!(["arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/*"])
    );
}

#[tokio::test]
async fn http_api_event_gets_a_simple_response_by_default() {
    let s = Fixture::new();
    let a = authorizer(&s, "", HttpApiResponse::Simple).await;
    let allow = a
        .handle(&events::http_v2(Some(&s.ca.leaf(&[1]).pem())))
        .await;
    assert_eq!(allow["isAuthorized"], true);
    assert_eq!(allow["context"]["serialNumber"], "01");
    assert!(allow.get("policyDocument").is_none());
    let deny = a
        .handle(&events::http_v2(Some(&s.ca.leaf(&serial20(0x10)).pem())))
        .await;
    assert_eq!(deny["isAuthorized"], false);
    assert_eq!(deny["context"]["reason"], "revoked");
}

#[tokio::test]
async fn http_api_event_gets_an_iam_policy_when_configured() {
    let s = Fixture::new();
    let a = authorizer(&s, "", HttpApiResponse::Iam).await;
    let resp = a
        .handle(&events::http_v2(Some(&s.ca.leaf(&[1]).pem())))
        .await;
    assert_eq!(statement(&resp)["Effect"], "Allow");
    assert_eq!(statement(&resp)["Resource"], json!([ROUTE_ARN]));
    assert!(resp.get("isAuthorized").is_none());
}

#[tokio::test]
async fn event_without_validity_or_hints_is_still_decided_from_the_pem() {
    let s = Fixture::new();
    let a = authorizer(&s, "", HttpApiResponse::Simple).await;
    let mut event = events::rest(Some(&s.ca.leaf(&[1]).pem()));
    let cert = event["requestContext"]["identity"]["clientCert"]
        .as_object_mut()
        .unwrap();
    cert.remove("validity");
    cert.remove("serialNumber");
    cert.remove("subjectDN");
    let resp = a.handle(&event).await;
    assert_eq!(statement(&resp)["Effect"], "Allow");
}

#[tokio::test]
async fn hostile_or_unexpected_events_are_denied_never_errors() {
    let s = Fixture::new();
    let a = authorizer(&s, "", HttpApiResponse::Simple).await;
    let cases = [
        json!(null),
        json!("a string"),
        json!([1, 2, 3]),
        json!({}),
        json!({"type": "TOKEN", "authorizationToken": "x", "methodArn": METHOD_ARN}),
        json!({"methodArn": METHOD_ARN, "requestContext": {"identity": {"clientCert": 42}}}),
        json!({"methodArn": 7, "requestContext": {"identity": {"clientCert": {"clientCertPem": ["x"]}}}}),
        json!({"version": "2.0", "routeArn": ROUTE_ARN, "requestContext": {"authentication": null}}),
        json!({"methodArn": METHOD_ARN, "requestContext": {"identity": {"clientCert": {"clientCertPem": "-----BEGIN CERTIFICATE-----\n////\n-----END CERTIFICATE-----"}}}}),
    ];
    for event in cases {
        let resp = a.handle(&event).await;
        let denied = resp["isAuthorized"] == false || statement(&resp)["Effect"] == "Deny";
        assert!(denied, "{event} gave {resp}");
        assert!(resp["context"]["reason"].is_string(), "{event} gave {resp}");
    }
    let unknown = a.handle(&json!({"hello": "world"})).await;
    assert_eq!(unknown["context"]["reason"], "internal_error");
    assert_eq!(statement(&unknown)["Resource"], "*");
}

#[tokio::test]
async fn http_api_payload_1_0_event_gets_an_iam_policy() {
    let s = Fixture::new();
    let a = authorizer(&s, "", HttpApiResponse::Simple).await;
    let mut event = events::rest(Some(&s.ca.leaf(&serial20(0x10)).pem()));
    event["version"] = json!("1.0");
    let resp = a.handle(&event).await;
    assert_eq!(statement(&resp)["Effect"], "Deny");
    assert_eq!(resp["context"]["reason"], "revoked");
}

// --- Per-route certificate rules (`routes`) ---

const STAGE: &str = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/test";

/// The `devices` entry, allowed `POST /temps` and `GET /whoami` only.
async fn with_routes(s: &Fixture, extra: &str, http: HttpApiResponse) -> Authorizer {
    s.write("devices.crl", &s.ca.crl().revoke(&serial20(0x10)).der());
    let entry = format!(
        r#"{{"name":"devices","match":{{"CN":"Devices CA"}},"crl":"{}","routes":[{{"method":"POST","path":"/temps"}},{{"method":"GET","path":"/whoami"}}]}}"#,
        s.file_uri("devices.crl")
    );
    s.start_for(s.config(&entry, extra), http).await
}

fn rest_to(pem: &str, method: &str, path: &str) -> Value {
    let mut event = events::rest(Some(pem));
    event["methodArn"] = json!(format!("{STAGE}/{method}{path}"));
    event
}

fn resources(resp: &Value) -> Vec<(String, String)> {
    resp["policyDocument"]["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|st| {
            let effect = st["Effect"].as_str().unwrap().to_owned();
            st["Resource"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |r| (effect.clone(), r.as_str().unwrap().to_owned()))
        })
        .collect()
}

#[tokio::test]
async fn routes_allow_only_the_listed_methods_and_paths() {
    let s = Fixture::new();
    let a = with_routes(&s, "", HttpApiResponse::Simple).await;
    let pem = s.ca.leaf(&[1]).pem();
    for (method, path, allowed) in [
        ("POST", "/temps", true),
        ("GET", "/whoami", true),
        ("GET", "/temps", false),
        ("POST", "/temps/1", false),
        ("DELETE", "/whoami", false),
    ] {
        let resp = a.handle(&rest_to(&pem, method, path)).await;
        let arn = format!("{STAGE}/{method}{path}");
        if allowed {
            assert_eq!(
                resources(&resp),
                [("Allow".to_owned(), arn)],
                "{method} {path}"
            );
        } else {
            assert_eq!(
                resources(&resp),
                [("Deny".to_owned(), arn)],
                "{method} {path}"
            );
            assert_eq!(resp["context"]["reason"], "route_not_allowed");
        }
    }
    // Without an event, no route is known: refused.
    let d = a.decide(Some(&pem)).await.decision;
    assert_eq!(d.reason(), Some(mtls_policy::DenyReason::RouteNotAllowed));
}

#[tokio::test]
async fn http_api_simple_responses_use_the_requests_route() {
    let s = Fixture::new();
    let a = with_routes(&s, "", HttpApiResponse::Simple).await;
    let pem = s.ca.leaf(&[1]).pem();
    let mut event = events::http_v2(Some(&pem));
    event["routeArn"] =
        json!("arn:aws:execute-api:us-east-1:123456789012:abcdef123/$default/POST/temps");
    assert_eq!(a.handle(&event).await["isAuthorized"], true);
    event["routeArn"] =
        json!("arn:aws:execute-api:us-east-1:123456789012:abcdef123/$default/GET/temps");
    let deny = a.handle(&event).await;
    assert_eq!(deny["isAuthorized"], false);
    assert_eq!(deny["context"]["reason"], "route_not_allowed");
}

#[tokio::test]
async fn stage_policy_allows_exactly_the_entrys_routes_whichever_route_asked() {
    let s = Fixture::new();
    let a = with_routes(&s, r#","policy_resource":"stage""#, HttpApiResponse::Simple).await;
    let pem = s.ca.leaf(&[1]).pem();
    let expected = vec![
        ("Allow".to_owned(), format!("{STAGE}/POST/temps")),
        ("Allow".to_owned(), format!("{STAGE}/GET/whoami")),
    ];
    // One policy, cached by API Gateway for this certificate, must be right
    // for every route: the same statements whether the first request was an
    // allowed route or a refused one.
    let allowed = a.handle(&rest_to(&pem, "POST", "/temps")).await;
    assert_eq!(resources(&allowed), expected);
    assert_eq!(
        allowed["policyDocument"]["Statement"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "one statement naming every route"
    );
    let refused = a.handle(&rest_to(&pem, "GET", "/temps")).await;
    assert_eq!(resources(&refused), expected);
    assert_eq!(refused["context"]["reason"], "route_not_allowed");
    // A certificate that is not good gets no route at all.
    let revoked = a
        .handle(&rest_to(
            &s.ca.leaf(&serial20(0x10)).pem(),
            "POST",
            "/temps",
        ))
        .await;
    assert_eq!(
        resources(&revoked),
        [("Deny".to_owned(), format!("{STAGE}/*"))]
    );
}

/// IAM resource matching, as API Gateway applies a policy to the invoked
/// ARN: `*` any run of characters (`/` included), `?` one.
fn iam_glob(pattern: &[u8], text: &[u8]) -> bool {
    match (pattern.first(), text.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            iam_glob(&pattern[1..], text) || (!text.is_empty() && iam_glob(pattern, &text[1..]))
        }
        (Some(p), Some(t)) if *p == b'?' || p == t => iam_glob(&pattern[1..], &text[1..]),
        _ => false,
    }
}

/// Whether API Gateway lets `arn` through on this authorizer response's
/// policy: an explicit Deny wins, then an Allow.
fn policy_allows(resp: &Value, arn: &str) -> bool {
    let mut allowed = false;
    for (effect, resource) in resources(resp) {
        if iam_glob(resource.as_bytes(), arn.as_bytes()) {
            if effect == "Deny" {
                return false;
            }
            allowed = true;
        }
    }
    allowed
}

#[tokio::test]
async fn a_stage_policy_never_allows_a_route_the_authorizer_refuses_asked_first_or_cached() {
    let s = Fixture::new();
    s.write("devices.crl", &s.ca.crl().der());
    let entry = format!(
        r#"{{"name":"devices","match":{{"CN":"Devices CA"}},"crl":"{}","routes":[{{"method":"*","path":"/whoami"}},{{"method":"GET","path":"/admin/*"}}]}}"#,
        s.file_uri("devices.crl")
    );
    let a = s
        .start_for(
            s.config(&entry, r#","policy_resource":"stage""#),
            HttpApiResponse::Simple,
        )
        .await;
    let pem = s.ca.leaf(&[1]).pem();
    let requests = [
        ("GET", "/whoami"),
        ("DELETE", "/whoami"),
        ("GET", "/admin/users"),
        // `*/whoami` in IAM matches any path ending in `/whoami`.
        ("DELETE", "/temps/whoami"),
        ("POST", "/admin/users/7/whoami"),
        // Paths the authorizer refuses as not plain, below an allowed prefix.
        ("GET", "/admin//users"),
        ("GET", "/admin/../temps"),
        ("GET", "/admin/%2e%2e/temps"),
        ("GET", "/admin/x/.."),
    ];
    let mut cached = None;
    for (method, path) in requests {
        let resp = a.handle(&rest_to(&pem, method, path)).await;
        let arn = format!("{STAGE}/{method}{path}");
        let allowed = resp["context"]["reason"].is_null();
        // The answer to this request: API Gateway allows it only if the
        // authorizer did.
        assert_eq!(policy_allows(&resp, &arn), allowed, "{method} {path} asked");
        // Any earlier answer, cached for the certificate, says the same.
        let first = cached.get_or_insert_with(|| resp.clone());
        assert_eq!(
            policy_allows(first, &arn),
            allowed,
            "{method} {path} cached"
        );
    }
}
