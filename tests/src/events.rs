//! API Gateway REQUEST authorizer events, shaped like the documented samples.

use serde_json::{Value, json};

/// The method ARN used in REST events.
pub const METHOD_ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/GET/temps";
/// The route ARN used in HTTP API events.
pub const ROUTE_ARN: &str =
    "arn:aws:execute-api:us-east-1:123456789012:abcdef123/$default/GET/temps";

fn client_cert(pem: &str) -> Value {
    json!({
        "clientCertPem": pem,
        // Hints only: deliberately not what the PEM says.
        "subjectDN": "CN=not-the-real-subject",
        "issuerDN": "CN=not-the-real-issuer",
        "serialNumber": "1",
        "validity": {"notBefore": "May 28 12:30:02 2019 GMT", "notAfter": "Aug  5 09:36:04 2031 GMT"}
    })
}

/// A REST API REQUEST authorizer event (`requestContext.identity.clientCert`).
pub fn rest(pem: Option<&str>) -> Value {
    let mut identity = json!({"sourceIp": "203.0.113.7", "userAgent": "curl/8.5.0"});
    if let Some(pem) = pem {
        identity["clientCert"] = client_cert(pem);
    }
    json!({
        "type": "REQUEST",
        "methodArn": METHOD_ARN,
        "resource": "/temps",
        "path": "/temps",
        "httpMethod": "GET",
        "headers": {"Host": "api.example.com"},
        "queryStringParameters": {},
        "pathParameters": {},
        "stageVariables": {},
        "requestContext": {
            "path": "/test/temps",
            "accountId": "123456789012",
            "resourceId": "05c7jb",
            "stage": "test",
            "requestId": "ach3c2d7-8e7f-4e6d-9b1c-5e7c1f3b5d6a",
            "identity": identity,
            "resourcePath": "/temps",
            "httpMethod": "GET",
            "apiId": "abcdef123"
        }
    })
}

/// An HTTP API payload 2.0 authorizer event (`requestContext.authentication.clientCert`).
pub fn http_v2(pem: Option<&str>) -> Value {
    let mut ctx = json!({
        "accountId": "123456789012",
        "apiId": "abcdef123",
        "domainName": "api.example.com",
        "http": {"method": "GET", "path": "/temps", "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7", "userAgent": "curl/8.5.0"},
        "requestId": "id",
        "routeKey": "GET /temps",
        "stage": "$default",
        "time": "12/Mar/2020:19:03:58 +0000",
        "timeEpoch": 1_583_348_638_390_i64
    });
    if let Some(pem) = pem {
        ctx["authentication"] = json!({"clientCert": client_cert(pem)});
    }
    json!({
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": ROUTE_ARN,
        "identitySource": [],
        "routeKey": "GET /temps",
        "rawPath": "/temps",
        "rawQueryString": "",
        "headers": {"host": "api.example.com"},
        "requestContext": ctx
    })
}
