//! What an HTTP API (API Gateway v2) does around the functions, as pure
//! functions: the payload 2.0 REQUEST authorizer event, the simple and IAM
//! responses, the payload 2.0 proxy event and its response, and HTTP API's
//! own answers, which differ from a REST API's (a bare 403 on Deny, 404 for
//! an unknown route, no gateway responses). No I/O, no clock.

use serde_json::{Map, Value, json};

use crate::apigw::{Answer, Api, Flavor, Request, Verdict, evaluate};

/// `METHOD /path`, the route key of a route; `$default` for the greedy
/// route, which is how the deployed HTTP API fronts an HTTP backend.
#[must_use]
pub fn route_key(method: &str, resource: &str) -> String {
    if resource == crate::apigw::GREEDY {
        "$default".to_owned()
    } else {
        format!("{method} {resource}")
    }
}

/// The client certificate as HTTP APIs carry it (the same fields as REST).
fn authentication(cert: &Value) -> Value {
    json!({"clientCert": cert})
}

fn headers(req: &Request) -> (Map<String, Value>, Vec<String>) {
    // Payload 2.0 joins repeated headers with commas, lower-cases names, and
    // moves cookies to their own list.
    let mut out: Map<String, Value> = Map::new();
    let mut cookies = Vec::new();
    for (k, v) in &req.headers {
        let name = k.to_ascii_lowercase();
        if name == "cookie" {
            cookies.extend(v.split(';').map(|c| c.trim().to_owned()));
            continue;
        }
        let joined = match out.get(&name).and_then(Value::as_str) {
            Some(prev) => format!("{prev},{v}"),
            None => v.clone(),
        };
        out.insert(name, json!(joined));
    }
    (out, cookies)
}

fn query(req: &Request) -> Value {
    let pairs = req.query_pairs();
    if pairs.is_empty() {
        return Value::Null;
    }
    let mut out: Map<String, Value> = Map::new();
    for (k, v) in pairs {
        let joined = match out.get(&k).and_then(Value::as_str) {
            Some(prev) => format!("{prev},{v}"),
            None => v,
        };
        out.insert(k, json!(joined));
    }
    Value::Object(out)
}

fn request_context(api: &Api, req: &Request, route: &str, cert: &Value) -> Value {
    let time = req.time;
    json!({
        "accountId": api.account_id,
        "apiId": api.api_id,
        "authentication": authentication(cert),
        "domainName": api.domain_name,
        "domainPrefix": api.domain_name.split('.').next().unwrap_or_default(),
        "http": {
            "method": req.method,
            "path": req.path,
            "protocol": "HTTP/1.1",
            "sourceIp": req.source_ip,
            "userAgent": req.header("user-agent").unwrap_or_default(),
        },
        "requestId": req.request_id,
        "routeKey": route,
        "stage": api.stage,
        "time": time
            .format(time::macros::format_description!(
                "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000"
            ))
            .unwrap_or_default(),
        "timeEpoch": i64::try_from(time.unix_timestamp_nanos() / 1_000_000).unwrap_or_default(),
    })
}

fn common(api: &Api, req: &Request, resource: &str, cert: &Value) -> Map<String, Value> {
    let route = route_key(&req.method, resource);
    let (headers, cookies) = headers(req);
    let mut m = Map::new();
    m.insert("version".into(), json!("2.0"));
    m.insert("routeKey".into(), json!(route));
    m.insert("rawPath".into(), json!(req.path));
    m.insert("rawQueryString".into(), json!(req.query));
    if !cookies.is_empty() {
        m.insert("cookies".into(), json!(cookies));
    }
    m.insert("headers".into(), Value::Object(headers));
    let q = query(req);
    if !q.is_null() {
        m.insert("queryStringParameters".into(), q);
    }
    m.insert(
        "requestContext".into(),
        request_context(api, req, &route, cert),
    );
    m
}

/// The payload 2.0 REQUEST authorizer event. `identity_source` holds the
/// identity source values when the authorizer has any (caching on).
#[must_use]
pub fn authorizer_event(
    api: &Api,
    req: &Request,
    resource: &str,
    cert: &Value,
    identity_source: &[String],
) -> Value {
    let mut m = common(api, req, resource, cert);
    m.insert("type".into(), json!("REQUEST"));
    m.insert(
        "routeArn".into(),
        json!(api.method_arn(&req.method, &req.path)),
    );
    m.insert("identitySource".into(), json!(identity_source));
    m.insert("pathParameters".into(), json!({}));
    m.insert("stageVariables".into(), json!({}));
    Value::Object(m)
}

/// Reads an authorizer's answer to a payload 2.0 event: a simple response
/// (`{"isAuthorized": bool, "context": {...}}`) or an IAM policy, checked
/// against the route ARN. Anything else is invalid (API Gateway answers 500).
#[must_use]
pub fn evaluate_v2(response: &Value, route_arn: &str) -> Verdict {
    let Some(authorized) = response.get("isAuthorized") else {
        return evaluate(response, route_arn);
    };
    let Some(authorized) = authorized.as_bool() else {
        return Verdict::Invalid("isAuthorized is not a boolean".into());
    };
    let context = match response.get("context") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Verdict::Invalid("context is not an object".into()),
    };
    if authorized {
        Verdict::Allow {
            principal: String::new(),
            context,
        }
    } else {
        Verdict::Deny {
            reason: context
                .get(mtls_x509::context::keys::REASON)
                .and_then(Value::as_str)
                .map(str::to_owned),
        }
    }
}

/// The payload 2.0 proxy event for the backend, with the authorizer's
/// context under `requestContext.authorizer.lambda`.
#[must_use]
pub fn proxy_event(
    api: &Api,
    req: &Request,
    resource: &str,
    cert: &Value,
    context: &Map<String, Value>,
) -> Value {
    let mut m = common(api, req, resource, cert);
    if let Some(rc) = m.get_mut("requestContext").and_then(Value::as_object_mut) {
        rc.insert(
            "authorizer".into(),
            json!({"lambda": Value::Object(context.clone())}),
        );
    }
    let (body, b64) = crate::apigw::body_of(&req.body);
    if !body.is_null() {
        m.insert("body".into(), body);
    }
    m.insert("isBase64Encoded".into(), json!(b64));
    m.insert("pathParameters".into(), json!({}));
    m.insert("stageVariables".into(), json!({}));
    Value::Object(m)
}

/// Maps a payload 2.0 proxy response to HTTP. A response without
/// `statusCode` is taken as the body of a 200 JSON answer, as HTTP APIs do.
#[must_use]
pub fn proxy_answer(response: &Value) -> Answer {
    if response.get("statusCode").is_none() {
        return Answer::json(200, response);
    }
    let mut answer = crate::apigw::proxy_answer(response);
    if let Some(cookies) = response.get("cookies").and_then(Value::as_array) {
        for c in cookies.iter().filter_map(Value::as_str) {
            answer.headers.push(("set-cookie".into(), c.to_owned()));
        }
    }
    answer
}

/// An HTTP API's Deny: a bare 403 (HTTP APIs have no gateway responses to
/// carry the reason; it is in the access log and the decision log).
#[must_use]
pub fn denied() -> Answer {
    Answer::json(403, &json!({"message": "Forbidden"}))
}

/// An identity source is missing: 401, the authorizer is not called.
#[must_use]
pub fn unauthorized() -> Answer {
    Answer::json(401, &json!({"message": "Unauthorized"}))
}

/// The authorizer failed or answered something invalid.
#[must_use]
pub fn authorizer_failed() -> Answer {
    Answer::json(500, &json!({"message": "Internal Server Error"}))
}

/// No route matches: HTTP APIs answer 404 (REST APIs 403).
#[must_use]
pub fn missing_route() -> Answer {
    Answer::json(404, &json!({"message": "Not Found"}))
}

/// API Gateway's behaviour per flavour, so the server has one flow.
impl Flavor {
    /// The REQUEST authorizer event (`identity_source`: the identity source
    /// values, which only payload 2.0 carries).
    #[must_use]
    pub fn authorizer_event(
        self,
        api: &Api,
        req: &Request,
        resource: &str,
        cert: &Value,
        identity_source: &[String],
    ) -> Value {
        match self {
            Self::Rest => crate::apigw::authorizer_event(api, req, resource, cert),
            Self::Http => authorizer_event(api, req, resource, cert, identity_source),
        }
    }

    /// Reads the authorizer's answer against the method or route ARN.
    #[must_use]
    pub fn evaluate(self, response: &Value, arn: &str) -> Verdict {
        match self {
            Self::Rest => evaluate(response, arn),
            Self::Http => evaluate_v2(response, arn),
        }
    }

    /// The Lambda proxy event for an allowed request.
    #[must_use]
    pub fn proxy_event(
        self,
        api: &Api,
        req: &Request,
        resource: &str,
        cert: &Value,
        principal: &str,
        context: &Map<String, Value>,
    ) -> Value {
        match self {
            Self::Rest => crate::apigw::proxy_event(api, req, resource, cert, principal, context),
            Self::Http => proxy_event(api, req, resource, cert, context),
        }
    }

    /// The Lambda proxy response, as HTTP.
    #[must_use]
    pub fn proxy_answer(self, response: &Value) -> Answer {
        match self {
            Self::Rest => crate::apigw::proxy_answer(response),
            Self::Http => proxy_answer(response),
        }
    }

    /// The answer to a Deny.
    #[must_use]
    pub fn denied(self, reason: Option<&str>) -> Answer {
        match self {
            Self::Rest => crate::apigw::denied(reason),
            Self::Http => denied(),
        }
    }

    /// The answer when the authorizer failed or answered something invalid.
    #[must_use]
    pub fn authorizer_failed(self) -> Answer {
        match self {
            Self::Rest => Answer::json(500, &json!({"message": null})),
            Self::Http => authorizer_failed(),
        }
    }

    /// The answer to a path or method the API does not have, and why, for
    /// the access log.
    #[must_use]
    pub fn missing_route(self) -> (Answer, &'static str) {
        match self {
            Self::Rest => (
                crate::apigw::missing_route(),
                "no such route: API Gateway answers 403 Missing Authentication Token to a path or method the API does not have, before any authorizer runs",
            ),
            Self::Http => (
                missing_route(),
                "no such route: an HTTP API answers 404 Not Found to a path or method it does not have, before any authorizer runs",
            ),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
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
        let cert = json!({"clientCertPem": "PEM", "serialNumber": "1"});
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
    }

    #[test]
    fn simple_responses_and_iam_policies_are_both_read() {
        let arn = "arn:aws:execute-api:us-east-1:123456789012:abc/$default/GET/temps";
        let allow = evaluate_v2(
            &json!({"isAuthorized": true, "context": {"issuer": "devices"}}),
            arn,
        );
        assert!(
            matches!(allow, Verdict::Allow { ref context, .. } if context["issuer"] == "devices")
        );
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
        let ev = proxy_event(&api(), &req(), "/temps", &json!({}), &ctx);
        assert_eq!(
            ev["requestContext"]["authorizer"]["lambda"]["serialNumber"],
            "0a"
        );
        assert_eq!(ev["isBase64Encoded"], false);
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
}
