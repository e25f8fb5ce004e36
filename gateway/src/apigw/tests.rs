use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::*;

fn api() -> Api {
    Api {
        region: "us-east-1".into(),
        account_id: "123456789012".into(),
        api_id: "local".into(),
        stage: "test".into(),
        domain_name: "api.localhost".into(),
        routes: [(
            "/temps".to_owned(),
            vec!["GET".to_owned(), "POST".to_owned()],
        )]
        .into_iter()
        .collect(),
        flavor: Flavor::Rest,
    }
}

fn policy(effect: &str, resource: &str) -> Value {
    json!({
        "principalId": "p",
        "policyDocument": {"Version": "2012-10-17", "Statement": [
            {"Action": "execute-api:Invoke", "Effect": effect, "Resource": [resource]}
        ]},
        "context": {"reason": "revoked", "issuer": "devices"}
    })
}

#[test]
fn wildcards_follow_iam_resource_matching() {
    let arn = "arn:aws:execute-api:us-east-1:123456789012:local/test/GET/temps";
    assert!(glob(arn, arn));
    assert!(glob(
        "arn:aws:execute-api:us-east-1:123456789012:local/test/*",
        arn
    ));
    assert!(glob("arn:aws:execute-api:*:*:local/*/GET/*", arn));
    assert!(glob(
        "arn:aws:execute-api:us-east-1:123456789012:local/test/???/temps",
        arn
    ));
    assert!(!glob(
        "arn:aws:execute-api:us-east-1:123456789012:local/test/POST/*",
        arn
    ));
    assert!(!glob(
        "arn:aws:execute-api:us-east-1:123456789012:local/prod/*",
        arn
    ));
    assert!(glob("*", arn));
    assert!(!glob("", arn));
}

#[test]
fn allow_for_another_method_is_a_deny() {
    let a = api();
    let get = a.method_arn("GET", "/temps");
    let post = a.method_arn("POST", "/temps");
    assert!(matches!(
        evaluate(&policy("Allow", &get), &get),
        Verdict::Allow { .. }
    ));
    assert_eq!(
        evaluate(&policy("Allow", &get), &post),
        Verdict::Deny {
            reason: Some("revoked".into())
        }
    );
}

#[test]
fn explicit_deny_wins_over_allow() {
    let a = api();
    let arn = a.method_arn("GET", "/temps");
    let mut p = policy("Allow", "*");
    p["policyDocument"]["Statement"]
        .as_array_mut()
        .unwrap()
        .push(json!({"Action": ["execute-api:*"], "Effect": "Deny", "Resource": arn}));
    assert!(matches!(evaluate(&p, &arn), Verdict::Deny { .. }));
}

#[test]
fn malformed_authorizer_responses_are_invalid() {
    let arn = api().method_arn("GET", "/temps");
    assert!(matches!(evaluate(&json!({}), &arn), Verdict::Invalid(_)));
    let mut p = policy("Allow", "*");
    p["context"] = json!({"nested": {"no": 1}});
    assert!(matches!(evaluate(&p, &arn), Verdict::Invalid(_)));
}

#[test]
fn greedy_route_catches_every_path_and_arns_name_the_request_path() {
    let mut a = api();
    a.routes = BTreeMap::from([(GREEDY.to_owned(), vec!["ANY".to_owned()])]);
    for path in ["/", "/orders", "/orders/42/items/"] {
        assert_eq!(
            a.resource("DELETE", path).as_deref(),
            Some(GREEDY),
            "{path}"
        );
    }
    assert!(
        a.method_arn("DELETE", "/orders/42/items/")
            .ends_with("/test/DELETE/orders/42/items")
    );
    // An exact resource still wins over the greedy one.
    a.routes.insert("/temps".to_owned(), vec!["GET".to_owned()]);
    assert_eq!(a.resource("GET", "/temps").as_deref(), Some("/temps"));
    assert_eq!(a.resource("POST", "/temps").as_deref(), Some(GREEDY));
}

#[test]
fn routes_match_exactly_like_rest_resources() {
    let a = api();
    assert_eq!(a.resource("GET", "/temps").as_deref(), Some("/temps"));
    assert_eq!(a.resource("GET", "/temps/").as_deref(), Some("/temps"));
    assert_eq!(a.resource("DELETE", "/temps"), None);
    assert_eq!(a.resource("GET", "/other"), None);
    assert_eq!(
        a.method_arn("POST", "/temps"),
        "arn:aws:execute-api:us-east-1:123456789012:local/test/POST/temps"
    );
}

#[test]
fn proxy_responses_map_to_http_and_malformed_ones_to_502() {
    let a = proxy_answer(
        &json!({"statusCode": 201, "headers": {"content-type": "application/json"}, "body": "{}"}),
    );
    assert_eq!((a.status, a.body.as_slice()), (201, b"{}".as_slice()));
    let b = proxy_answer(&json!({"statusCode": 200, "body": "aGk=", "isBase64Encoded": true}));
    assert_eq!(b.body, b"hi");
    assert_eq!(proxy_answer(&json!({"body": "x"})).status, 502);
    assert_eq!(
        proxy_answer(&json!({"statusCode": 200, "body": 5})).status,
        502
    );
}

#[test]
fn query_strings_are_decoded_into_single_and_multi_values() {
    let req = Request {
        method: "GET".into(),
        path: "/temps".into(),
        query: "a=1&a=2&b=x%20y+z".into(),
        headers: vec![],
        body: vec![],
        source_ip: "127.0.0.1".into(),
        request_id: "r".into(),
        time: OffsetDateTime::UNIX_EPOCH,
    };
    let cert = ClientCert::default();
    let ev = authorizer_event(&api(), &req, "/temps", &cert);
    let (single, multi) = (
        &ev["queryStringParameters"],
        &ev["multiValueQueryStringParameters"],
    );
    assert_eq!(single["a"], "2");
    assert_eq!(multi["a"], json!(["1", "2"]));
    assert_eq!(single["b"], "x y z");
    let no_query = Request {
        query: String::new(),
        ..req
    };
    let ev = authorizer_event(&api(), &no_query, "/temps", &cert);
    assert!(ev["queryStringParameters"].is_null(), "{ev}");
    assert!(ev["multiValueQueryStringParameters"].is_null(), "{ev}");
}

#[test]
fn client_cert_fields_use_api_gateway_formats() {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CountryName, "US");
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "Example, Inc.");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "device-1");
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&[0x01, 0x00]));
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    let typed = client_cert(cert.der()).unwrap();
    let v = serde_json::to_value(&typed).unwrap();
    // In certificate order, comma-separated, RFC 4514 escaping.
    let dn = v["subjectDN"].as_str().unwrap();
    let mut parts: Vec<&str> = dn.split(',').collect();
    parts.sort_unstable();
    assert_eq!(
        parts,
        [" Inc.", "C=US", "CN=device-1", "O=Example\\"],
        "{dn}"
    );
    assert_eq!(
        v["serialNumber"], "256",
        "decimal, as in API Gateway's samples"
    );
    assert!(
        v["clientCertPem"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----\n")
    );
    assert!(
        v["validity"]["notAfter"]
            .as_str()
            .unwrap()
            .ends_with(" GMT")
    );

    let a = api();
    let req = Request {
        method: "POST".into(),
        path: "/temps".into(),
        query: String::new(),
        headers: vec![("User-Agent".into(), "curl/8".into())],
        body: b"{}".to_vec(),
        source_ip: "127.0.0.1".into(),
        request_id: "r-1".into(),
        time: OffsetDateTime::UNIX_EPOCH,
    };
    let ev = authorizer_event(&a, &req, "/temps", &typed);
    assert_eq!(ev["type"], "REQUEST");
    assert_eq!(ev["methodArn"], a.method_arn("POST", "/temps"));
    assert_eq!(ev["requestContext"]["identity"]["clientCert"], v);
    assert_eq!(ev["requestContext"]["path"], "/test/temps");
    let mut ctx = Map::new();
    ctx.insert("subjectDn".into(), json!("CN=device-1"));
    let px = proxy_event(&a, &req, "/temps", &typed, "fp", &ctx);
    assert_eq!(px["requestContext"]["identity"]["clientCert"], v);
    assert_eq!(px["requestContext"]["identity"]["userAgent"], "curl/8");
    assert_eq!(px["requestContext"]["extendedRequestId"], "r-1");
    assert!(px["queryStringParameters"].is_null());
    // The functions read it with the same types.
    serde_json::from_value::<aws_lambda_events::apigw::ApiGatewayProxyRequest>(px.clone()).unwrap();
    serde_json::from_value::<
        aws_lambda_events::apigw::ApiGatewayCustomAuthorizerRequestTypeRequest,
    >(ev.clone())
    .unwrap();
    assert_eq!(
        px["requestContext"]["authorizer"]["subjectDn"],
        "CN=device-1"
    );
    assert_eq!(px["requestContext"]["authorizer"]["principalId"], "fp");
    assert_eq!(
        (px["body"].as_str(), px["isBase64Encoded"].as_bool()),
        (Some("{}"), Some(false))
    );
    assert!(px.get("methodArn").is_none());
}

#[test]
fn validity_is_written_like_openssl() {
    let t = OffsetDateTime::from_unix_timestamp(1_628_156_164).unwrap();
    assert_eq!(openssl_time(t), "Aug  5 09:36:04 2021 GMT");
}
