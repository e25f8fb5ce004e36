use std::collections::BTreeMap;

use super::*;

fn api() -> Api {
    Api {
        region: "us-east-1".into(),
        account_id: "123456789012".into(),
        api_id: "abc".into(),
        stage: "$default".into(),
        domain_name: "api.example.com".into(),
        routes: BTreeMap::from([("/temps".to_owned(), vec!["GET".to_owned()])]),
        flavor: Flavor::Http,
    }
}

fn req() -> Request {
    Request {
        method: "GET".into(),
        path: "/temps".into(),
        query: "a=1&a=2".into(),
        headers: vec![
            ("Accept".into(), "a".into()),
            ("accept".into(), "b".into()),
            ("Cookie".into(), "x=1; y=2".into()),
        ],
        body: Vec::new(),
        source_ip: "203.0.113.7".into(),
        request_id: "rid".into(),
        time: time::OffsetDateTime::UNIX_EPOCH,
    }
}

#[test]
fn authorizer_event_is_payload_2_0_with_the_certificate_under_authentication() {
    let mut cert = ClientCert::default();
    cert.client_cert_pem = Some("PEM".into());
    cert.serial_number = Some("1".into());
    let ev = authorizer_event(&api(), &req(), "/temps", &cert, &[]);
    assert_eq!(ev["version"], "2.0");
    assert_eq!(ev["type"], "REQUEST");
    assert_eq!(ev["routeKey"], "GET /temps");
    assert_eq!(
        ev["routeArn"],
        "arn:aws:execute-api:us-east-1:123456789012:abc/$default/GET/temps"
    );
    assert_eq!(
        ev["requestContext"]["authentication"]["clientCert"]["clientCertPem"],
        "PEM"
    );
    assert_eq!(ev["headers"]["accept"], "a,b");
    assert_eq!(ev["cookies"], json!(["x=1", "y=2"]));
    assert_eq!(ev["queryStringParameters"]["a"], "1,2");
    assert_eq!(ev["requestContext"]["http"]["sourceIp"], "203.0.113.7");
    // The authorizer reads it with the same type.
    serde_json::from_value::<ApiGatewayV2CustomAuthorizerV2Request>(ev).unwrap();
}

#[test]
fn simple_responses_and_iam_policies_are_both_read() {
    let arn = "arn:aws:execute-api:us-east-1:123456789012:abc/$default/GET/temps";
    let allow = evaluate_v2(
        &json!({"isAuthorized": true, "context": {"issuer": "devices"}}),
        arn,
    );
    assert!(matches!(allow, Verdict::Allow { ref context, .. } if context["issuer"] == "devices"));
    assert_eq!(
        evaluate_v2(
            &json!({"isAuthorized": false, "context": {"reason": "revoked"}}),
            arn
        ),
        Verdict::Deny {
            reason: Some("revoked".into())
        }
    );
    assert!(matches!(
        evaluate_v2(&json!({"isAuthorized": "yes"}), arn),
        Verdict::Invalid(_)
    ));
    let iam = json!({"principalId": "p", "policyDocument": {"Version": "2012-10-17",
        "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": arn}]}});
    assert!(matches!(evaluate_v2(&iam, arn), Verdict::Allow { .. }));
}

#[test]
fn proxy_event_carries_the_context_under_authorizer_lambda() {
    let ctx: Map<String, Value> = [("serialNumber".to_owned(), json!("0a"))]
        .into_iter()
        .collect();
    let ev = proxy_event(&api(), &req(), "/temps", &ClientCert::default(), &ctx);
    assert_eq!(
        ev["requestContext"]["authorizer"]["lambda"]["serialNumber"],
        "0a"
    );
    assert_eq!(ev["isBase64Encoded"], false);
    assert_eq!(ev["version"], "2.0");
    assert_eq!(ev["queryStringParameters"]["a"], "1,2");
    for key in NOT_IN_PROXY_EVENTS {
        assert!(ev.get(*key).is_none(), "{key} in {ev}");
    }
    // The api-handler reads it with the same type.
    serde_json::from_value::<ApiGatewayV2httpRequest>(ev).unwrap();
}

#[test]
fn a_response_without_status_code_is_a_200_json_body() {
    let a = proxy_answer(&json!({"hello": "world"}));
    assert_eq!(a.status, 200);
    assert_eq!(a.body, br#"{"hello":"world"}"#);
    let a = proxy_answer(&json!({"statusCode": 201, "body": "x", "cookies": ["c=1"]}));
    assert_eq!(a.status, 201);
    assert!(a.headers.contains(&("set-cookie".into(), "c=1".into())));
}

#[test]
fn http_api_answers_differ_from_rest() {
    assert_eq!(denied().body, br#"{"message":"Forbidden"}"#);
    assert_eq!(missing_route().status, 404);
    assert_eq!(unauthorized().status, 401);
    assert_eq!(authorizer_failed().status, 500);
}
