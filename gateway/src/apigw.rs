//! What API Gateway does around the functions, as pure functions: the REQUEST
//! authorizer event, the evaluation of the policy the authorizer returns, the
//! Lambda proxy event, and the mapping of the proxy response back to HTTP.
//! No I/O, no clock: the request time is a parameter.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};

/// The API this gateway pretends to be.
#[derive(Clone, Debug)]
pub struct Api {
    /// AWS region in ARNs.
    pub region: String,
    /// Account id in ARNs.
    pub account_id: String,
    /// The API id.
    pub api_id: String,
    /// The stage name.
    pub stage: String,
    /// The custom domain name.
    pub domain_name: String,
    /// Resources and their methods, as deployed (`/temps` → `GET`, `POST`).
    pub routes: BTreeMap<String, Vec<String>>,
    /// A REST API or an HTTP API.
    pub flavor: Flavor,
}

/// Which API Gateway product the gateway behaves as.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Flavor {
    /// A REST API (API Gateway v1): payload 1.0 events, IAM policies,
    /// gateway responses (a Deny carries its reason).
    #[default]
    Rest,
    /// An HTTP API (API Gateway v2): payload 2.0 events, simple or IAM
    /// responses, a bare 403 on Deny.
    Http,
}

/// The greedy resource that catches every path, as the Terraform module and
/// the CDK construct deploy in front of an HTTP backend (`ANY /{proxy+}` on a
/// REST API, `$default` on an HTTP API).
pub const GREEDY: &str = "/{proxy+}";

/// A request path without its trailing slash, as API Gateway matches it.
fn arn_path(path: &str) -> &str {
    if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    }
}

impl Api {
    /// The deployed resource a request path maps to, if any: an exact
    /// resource first, else the greedy one when it is deployed. (Here the
    /// greedy resource also catches `/`, which the deployed APIs route to
    /// `ANY /` with the same integration.)
    #[must_use]
    pub fn resource(&self, method: &str, path: &str) -> Option<String> {
        let trimmed = arn_path(path);
        let allows = |r: &str| {
            self.routes
                .get(r)
                .is_some_and(|ms| ms.iter().any(|m| m == method || m == "ANY"))
        };
        if allows(trimmed) {
            Some(trimmed.to_owned())
        } else {
            allows(GREEDY).then(|| GREEDY.to_owned())
        }
    }

    /// `arn:aws:execute-api:{region}:{account}:{api}/{stage}/{METHOD}/{path}`,
    /// with the request's own path (under a greedy resource too).
    #[must_use]
    pub fn method_arn(&self, method: &str, resource_path: &str) -> String {
        let resource_path = arn_path(resource_path);
        format!(
            "arn:aws:execute-api:{}:{}:{}/{}/{}/{}",
            self.region,
            self.account_id,
            self.api_id,
            self.stage,
            method,
            resource_path.trim_start_matches('/')
        )
    }
}

/// One HTTP request as the gateway received it.
#[derive(Clone, Debug)]
pub struct Request {
    /// Method, upper case.
    pub method: String,
    /// Path, without the query.
    pub path: String,
    /// The raw query string (no `?`).
    pub query: String,
    /// Headers in arrival order, names as received.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// The client's address.
    pub source_ip: String,
    /// The request id.
    pub request_id: String,
    /// When it arrived.
    pub time: OffsetDateTime,
}

impl Request {
    /// A header's value, the name matched case-insensitively.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The query string's pairs, percent-decoded, in order.
    #[must_use]
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        self.query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (decode(k), decode(v))
            })
            .collect()
    }
}

/// Percent-decoding for query strings (`+` is a space).
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| {
                    std::str::from_utf8(h)
                        .ok()
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                });
                if let Some(v) = hex {
                    out.push(v);
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The client certificate fields API Gateway puts in events:
/// `requestContext.identity.clientCert`.
///
/// # Errors
/// A description when the DER is not a certificate (the TLS layer already
/// verified it, so this does not happen in practice).
pub fn client_cert(der: &[u8]) -> Result<Value, String> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| e.to_string())?;
    let pem = mtls_x509::pem::encode(mtls_x509::pem::CERTIFICATE, der);
    let validity = cert.validity();
    Ok(json!({
        "clientCertPem": pem,
        "subjectDN": mtls_x509::name::format_dn(cert.subject()),
        "issuerDN": mtls_x509::name::format_dn(cert.issuer()),
        // API Gateway's sample events show the serial in decimal.
        "serialNumber": cert.serial.to_string(),
        "validity": {
            "notBefore": openssl_time(validity.not_before.to_datetime()),
            "notAfter": openssl_time(validity.not_after.to_datetime()),
        }
    }))
}

/// `May 28 12:30:02 2019 GMT`, the day space-padded, as API Gateway writes it.
#[must_use]
pub fn openssl_time(t: OffsetDateTime) -> String {
    let f = time::macros::format_description!(
        "[month repr:short] [day padding:space] [hour]:[minute]:[second] [year] GMT"
    );
    t.format(&f).unwrap_or_default()
}

fn request_time(t: OffsetDateTime) -> String {
    let f = time::macros::format_description!(
        "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000"
    );
    t.format(&f).unwrap_or_default()
}

fn epoch_ms(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or_default()
}

fn headers_json(req: &Request) -> (Value, Value) {
    let mut single = Map::new();
    let mut multi: Map<String, Value> = Map::new();
    for (k, v) in &req.headers {
        single.insert(k.clone(), json!(v));
        match multi.get_mut(k).and_then(Value::as_array_mut) {
            Some(list) => list.push(json!(v)),
            None => {
                multi.insert(k.clone(), json!([v]));
            }
        }
    }
    (Value::Object(single), Value::Object(multi))
}

fn query_json(req: &Request) -> (Value, Value) {
    let pairs = req.query_pairs();
    if pairs.is_empty() {
        return (Value::Null, Value::Null);
    }
    let mut single = Map::new();
    let mut multi: Map<String, Value> = Map::new();
    for (k, v) in pairs {
        single.insert(k.clone(), json!(v));
        match multi.get_mut(&k).and_then(Value::as_array_mut) {
            Some(list) => list.push(json!(v)),
            None => {
                multi.insert(k, json!([v]));
            }
        }
    }
    (Value::Object(single), Value::Object(multi))
}

fn request_context(api: &Api, req: &Request, resource: &str, cert: &Value) -> Value {
    json!({
        "resourceId": "gw0001",
        "resourcePath": resource,
        "httpMethod": req.method,
        "extendedRequestId": req.request_id,
        "requestTime": request_time(req.time),
        "path": format!("/{}{}", api.stage, req.path),
        "accountId": api.account_id,
        "protocol": "HTTP/1.1",
        "stage": api.stage,
        "domainPrefix": api.domain_name.split('.').next().unwrap_or_default(),
        "requestTimeEpoch": epoch_ms(req.time),
        "requestId": req.request_id,
        "identity": {
            "sourceIp": req.source_ip,
            "userAgent": req.header("user-agent"),
            "clientCert": cert,
        },
        "domainName": api.domain_name,
        "apiId": api.api_id,
    })
}

/// The fields the authorizer event and the proxy event share.
fn request_fields(api: &Api, req: &Request, resource: &str, cert: &Value) -> Map<String, Value> {
    let (headers, multi_headers) = headers_json(req);
    let (query, multi_query) = query_json(req);
    let mut m = Map::new();
    m.insert("resource".into(), json!(resource));
    m.insert("path".into(), json!(req.path));
    m.insert("httpMethod".into(), json!(req.method));
    m.insert("headers".into(), headers);
    m.insert("multiValueHeaders".into(), multi_headers);
    m.insert("queryStringParameters".into(), query);
    m.insert("multiValueQueryStringParameters".into(), multi_query);
    m.insert(
        "requestContext".into(),
        request_context(api, req, resource, cert),
    );
    m
}

/// The REST API REQUEST authorizer event.
#[must_use]
pub fn authorizer_event(api: &Api, req: &Request, resource: &str, cert: &Value) -> Value {
    let mut m = request_fields(api, req, resource, cert);
    m.insert("type".into(), json!("REQUEST"));
    m.insert(
        "methodArn".into(),
        json!(api.method_arn(&req.method, &req.path)),
    );
    m.insert("pathParameters".into(), json!({}));
    m.insert("stageVariables".into(), json!({}));
    Value::Object(m)
}

/// What the authorizer decided, as API Gateway reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The policy allows the method ARN.
    Allow {
        /// `principalId`.
        principal: String,
        /// The context, as strings.
        context: Map<String, Value>,
    },
    /// The policy denies it (explicitly or by not allowing it).
    Deny {
        /// `context.reason`, when the authorizer gave one.
        reason: Option<String>,
    },
    /// The response is not a valid authorizer response: API Gateway answers
    /// 500 (`AuthorizerConfigurationException`).
    Invalid(String),
}

/// `*` matches any run of characters, `?` one character (IAM resource
/// matching, which API Gateway applies to the method ARN).
#[must_use]
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(c) if *c == '?' || Some(c) == t.get(ti) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|c| *c == '*'))
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// Evaluates an authorizer response against `method_arn`: an explicit Deny
/// wins, then an Allow, and anything else is a Deny.
#[must_use]
pub fn evaluate(response: &Value, method_arn: &str) -> Verdict {
    let Some(principal) = response.get("principalId").and_then(Value::as_str) else {
        return Verdict::Invalid("no principalId".into());
    };
    let Some(statements) = response
        .pointer("/policyDocument/Statement")
        .and_then(Value::as_array)
    else {
        return Verdict::Invalid("no policyDocument.Statement".into());
    };
    let context = match response.get("context") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => {
            // API Gateway accepts only strings, numbers and booleans here.
            if m.values().any(|v| v.is_object() || v.is_array()) {
                return Verdict::Invalid(
                    "context values must be strings, numbers or booleans".into(),
                );
            }
            m.clone()
        }
        Some(_) => return Verdict::Invalid("context is not an object".into()),
    };
    let reason = context
        .get("reason")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let mut allowed = false;
    for st in statements {
        let actions = strings(st.get("Action"));
        let invokes = actions
            .iter()
            .any(|a| glob(&a.to_ascii_lowercase(), "execute-api:invoke"));
        let matches = strings(st.get("Resource"))
            .iter()
            .any(|r| glob(r, method_arn));
        if !(invokes && matches) {
            continue;
        }
        match st.get("Effect").and_then(Value::as_str) {
            Some("Deny") => return Verdict::Deny { reason },
            Some("Allow") => allowed = true,
            _ => {}
        }
    }
    if allowed {
        Verdict::Allow {
            principal: principal.to_owned(),
            context,
        }
    } else {
        Verdict::Deny { reason }
    }
}

/// A proxy event's `body` and `isBase64Encoded`: the body as text when it is
/// UTF-8, else base64 (as API Gateway sends binary bodies); `null` when empty.
#[must_use]
pub fn body_of(body: &[u8]) -> (Value, bool) {
    if body.is_empty() {
        return (Value::Null, false);
    }
    match std::str::from_utf8(body) {
        Ok(text) => (json!(text), false),
        Err(_) => (
            json!(base64::engine::general_purpose::STANDARD.encode(body)),
            true,
        ),
    }
}

/// The Lambda proxy event for the backend, with the authorizer's context.
#[must_use]
pub fn proxy_event(
    api: &Api,
    req: &Request,
    resource: &str,
    cert: &Value,
    principal: &str,
    context: &Map<String, Value>,
) -> Value {
    let mut m = request_fields(api, req, resource, cert);
    let mut authorizer = context.clone();
    authorizer.insert("principalId".into(), json!(principal));
    authorizer.insert("integrationLatency".into(), json!(0));
    if let Some(rc) = m.get_mut("requestContext").and_then(Value::as_object_mut) {
        rc.insert("authorizer".into(), Value::Object(authorizer));
    }
    let (body, b64) = body_of(&req.body);
    m.insert("pathParameters".into(), Value::Null);
    m.insert("stageVariables".into(), Value::Null);
    m.insert("body".into(), body);
    m.insert("isBase64Encoded".into(), json!(b64));
    Value::Object(m)
}

/// An HTTP answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Answer {
    /// A JSON answer.
    #[must_use]
    pub fn json(status: u16, body: &Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }
}

/// Maps a Lambda proxy response to HTTP; a malformed one is a 502, as API
/// Gateway answers it.
#[must_use]
pub fn proxy_answer(response: &Value) -> Answer {
    let bad = || Answer::json(502, &json!({"message": "Internal server error"}));
    let Some(status) = response
        .get("statusCode")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .filter(|s| (100..=599).contains(s))
    else {
        return bad();
    };
    let mut headers = Vec::new();
    if let Some(h) = response.get("headers").and_then(Value::as_object) {
        for (k, v) in h {
            if let Some(v) = v.as_str() {
                headers.push((k.clone(), v.to_owned()));
            }
        }
    }
    if let Some(h) = response.get("multiValueHeaders").and_then(Value::as_object) {
        for (k, vs) in h {
            headers.retain(|(name, _)| !name.eq_ignore_ascii_case(k));
            for v in strings(Some(vs)) {
                headers.push((k.clone(), v));
            }
        }
    }
    let body = match response.get("body") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => {
            if response.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) {
                match base64::engine::general_purpose::STANDARD.decode(s) {
                    Ok(b) => b,
                    Err(_) => return bad(),
                }
            } else {
                s.clone().into_bytes()
            }
        }
        Some(_) => return bad(),
    };
    Answer {
        status,
        headers,
        body,
    }
}

/// The 403 for a Deny: what the deployed API's `ACCESS_DENIED` gateway
/// response returns, the authorizer's reason included.
#[must_use]
pub fn denied(reason: Option<&str>) -> Answer {
    Answer::json(
        403,
        &json!({"message": "Forbidden", "reason": reason.unwrap_or("unknown")}),
    )
}

/// API Gateway's answer for a path or method the API does not have.
#[must_use]
pub fn missing_route() -> Answer {
    Answer::json(403, &json!({"message": "Missing Authentication Token"}))
}

#[cfg(test)]
mod tests {
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
        let (single, multi) = query_json(&req);
        assert_eq!(single["a"], "2");
        assert_eq!(multi["a"], json!(["1", "2"]));
        assert_eq!(single["b"], "x y z");
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
        let v = client_cert(cert.der()).unwrap();
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
        let ev = authorizer_event(&a, &req, "/temps", &v);
        assert_eq!(ev["type"], "REQUEST");
        assert_eq!(ev["methodArn"], a.method_arn("POST", "/temps"));
        assert_eq!(ev["requestContext"]["identity"]["clientCert"], v);
        assert_eq!(ev["requestContext"]["path"], "/test/temps");
        let mut ctx = Map::new();
        ctx.insert("subjectDn".into(), json!("CN=device-1"));
        let px = proxy_event(&a, &req, "/temps", &v, "fp", &ctx);
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
}
