//! What an HTTP API (API Gateway v2) does around the functions, as pure
//! functions: the payload 2.0 REQUEST authorizer event, the simple and IAM
//! responses, the payload 2.0 proxy event and its response, and HTTP API's
//! own answers, which differ from a REST API's (a bare 403 on Deny, 404 for
//! an unknown route, no gateway responses). No I/O, no clock.

use std::collections::HashMap;

use aws_lambda_events::apigw::{
    ApiGatewayRequestAuthorizer, ApiGatewayV2CustomAuthorizerV2Request, ApiGatewayV2httpRequest,
    ApiGatewayV2httpRequestContext, ApiGatewayV2httpRequestContextAuthentication,
    ApiGatewayV2httpRequestContextAuthenticationClientCert,
    ApiGatewayV2httpRequestContextHttpDescription,
};
use aws_lambda_events::http::{HeaderMap, HeaderName, HeaderValue, Method};
use aws_lambda_events::query_map::QueryMap;
use serde_json::{Map, Value, json};

use crate::apigw::event::{domain_prefix, epoch_ms, request_time};
use crate::apigw::{Answer, Api, ClientCert, Flavor, Request, Verdict, evaluate};

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

/// The client certificate as HTTP APIs carry it: the same fields as REST,
/// under `requestContext.authentication`.
fn authentication(cert: &ClientCert) -> ApiGatewayV2httpRequestContextAuthentication {
    let mut c = ApiGatewayV2httpRequestContextAuthenticationClientCert::default();
    c.client_cert_pem.clone_from(&cert.client_cert_pem);
    c.issuer_dn.clone_from(&cert.issuer_dn);
    c.serial_number.clone_from(&cert.serial_number);
    c.subject_dn.clone_from(&cert.subject_dn);
    c.validity.not_before.clone_from(&cert.validity.not_before);
    c.validity.not_after.clone_from(&cert.validity.not_after);
    let mut a = ApiGatewayV2httpRequestContextAuthentication::default();
    a.client_cert = Some(c);
    a
}

/// Payload 2.0 joins repeated headers with commas, lower-cases names, and
/// moves cookies to their own list.
fn headers(req: &Request) -> (HeaderMap, Vec<String>) {
    let mut joined: Vec<(String, String)> = Vec::new();
    let mut cookies = Vec::new();
    for (k, v) in &req.headers {
        let name = k.to_ascii_lowercase();
        if name == "cookie" {
            cookies.extend(v.split(';').map(|c| c.trim().to_owned()));
            continue;
        }
        match joined.iter_mut().find(|(n, _)| *n == name) {
            Some((_, prev)) => {
                prev.push(',');
                prev.push_str(v);
            }
            None => joined.push((name, v.clone())),
        }
    }
    let mut map = HeaderMap::with_capacity(joined.len());
    for (k, v) in joined {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) {
            map.insert(name, value);
        }
    }
    (map, cookies)
}

/// The query's parameters, repeated names comma-joined as payload 2.0 does.
fn query(req: &Request) -> HashMap<String, String> {
    let mut out: HashMap<String, String> = HashMap::new();
    for (k, v) in req.query_pairs() {
        out.entry(k)
            .and_modify(|prev| {
                prev.push(',');
                prev.push_str(&v);
            })
            .or_insert(v);
    }
    out
}

fn request_context(
    api: &Api,
    req: &Request,
    route: &str,
    cert: &ClientCert,
) -> ApiGatewayV2httpRequestContext {
    let mut http = ApiGatewayV2httpRequestContextHttpDescription::default();
    http.method = Method::from_bytes(req.method.as_bytes()).unwrap_or_default();
    http.path = Some(req.path.clone());
    http.protocol = Some("HTTP/1.1".into());
    http.source_ip = Some(req.source_ip.clone());
    http.user_agent = Some(req.header("user-agent").unwrap_or_default().to_owned());
    let mut c = ApiGatewayV2httpRequestContext::default();
    c.route_key = Some(route.to_owned());
    c.account_id = Some(api.account_id.clone());
    c.stage = Some(api.stage.clone());
    c.request_id = Some(req.request_id.clone());
    c.apiid = Some(api.api_id.clone());
    c.domain_name = Some(api.domain_name.clone());
    c.domain_prefix = Some(domain_prefix(api));
    c.time = Some(request_time(req.time));
    c.time_epoch = epoch_ms(req.time);
    c.http = http;
    c.authentication = Some(authentication(cert));
    c
}

/// The payload 2.0 REQUEST authorizer event. `identity_source` holds the
/// identity source values when the authorizer has any (caching on).
#[must_use]
pub fn authorizer_event(
    api: &Api,
    req: &Request,
    resource: &str,
    cert: &ClientCert,
    identity_source: &[String],
) -> Value {
    let route = route_key(&req.method, resource);
    let (headers, cookies) = headers(req);
    let mut e = ApiGatewayV2CustomAuthorizerV2Request::default();
    e.version = Some("2.0".into());
    e.type_ = Some("REQUEST".into());
    e.route_arn = Some(api.method_arn(&req.method, &req.path));
    e.identity_source = Some(identity_source.to_vec());
    e.route_key = Some(route.clone());
    e.raw_path = Some(req.path.clone());
    e.raw_query_string = Some(req.query.clone());
    e.cookies = cookies;
    e.headers = headers;
    e.query_string_parameters = query(req);
    e.request_context = request_context(api, req, &route, cert);
    let mut value = serde_json::to_value(&e).unwrap_or_default();
    if let Some(m) = value.as_object_mut() {
        // API Gateway leaves out what is empty.
        if e.cookies.is_empty() {
            m.remove("cookies");
        }
        if e.query_string_parameters.is_empty() {
            m.remove("queryStringParameters");
        }
    }
    value
}

/// The fields `ApiGatewayV2httpRequest` shares with the v1 authorizer
/// payload, which a payload 2.0 proxy event never carries.
const NOT_IN_PROXY_EVENTS: &[&str] = &[
    "type",
    "methodArn",
    "httpMethod",
    "identitySource",
    "authorizationToken",
    "resource",
];

/// Reads an authorizer's answer to a payload 2.0 event: a simple response
/// (`{"isAuthorized": bool, "context": {...}}`) or an IAM policy, checked
/// against the route ARN. Anything else is invalid (API Gateway answers 500).
#[must_use]
pub(crate) fn evaluate_v2(response: &Value, route_arn: &str) -> Verdict {
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
                .get(mtls_policy::context::keys::REASON)
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
    cert: &ClientCert,
    context: &Map<String, Value>,
) -> Value {
    let route = route_key(&req.method, resource);
    let (headers, cookies) = headers(req);
    let mut authorizer = ApiGatewayRequestAuthorizer::default();
    authorizer.fields = context.clone().into_iter().collect();
    let mut e = ApiGatewayV2httpRequest::default();
    e.version = Some("2.0".into());
    e.route_key = Some(route.clone());
    e.raw_path = Some(req.path.clone());
    e.raw_query_string = Some(req.query.clone());
    e.cookies = (!cookies.is_empty()).then_some(cookies);
    e.headers = headers;
    e.query_string_parameters = QueryMap::from(
        query(req)
            .into_iter()
            .map(|(k, v)| (k, vec![v]))
            .collect::<HashMap<_, _>>(),
    );
    e.request_context = request_context(api, req, &route, cert);
    e.request_context.authorizer = Some(authorizer);
    let (body, b64) = crate::apigw::body_of(&req.body);
    e.body = body;
    e.is_base64_encoded = b64;
    let mut value = serde_json::to_value(&e).unwrap_or_default();
    if let Some(m) = value.as_object_mut() {
        for key in NOT_IN_PROXY_EVENTS {
            m.remove(*key);
        }
        m.insert("pathParameters".into(), json!({}));
    }
    value
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
        cert: &ClientCert,
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
        cert: &ClientCert,
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
mod tests;
