//! The events API Gateway sends the functions: the REQUEST authorizer event
//! (payload 1.0) and the Lambda proxy event, with the client certificate
//! fields. Pure: the request time is in the request.

use base64::Engine as _;
use mtls_x509::name::Name;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::{Api, Request};

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
        "subjectDN": dn(cert.subject().as_raw())?,
        "issuerDN": dn(cert.issuer().as_raw())?,
        // API Gateway's sample events show the serial in decimal.
        "serialNumber": cert.serial.to_string(),
        "validity": {
            "notBefore": openssl_time(validity.not_before.to_datetime()),
            "notAfter": openssl_time(validity.not_after.to_datetime()),
        }
    }))
}

/// A DN in API Gateway's text form, by the core (the authorizer's own spelling).
fn dn(der: &[u8]) -> Result<String, String> {
    Name::from_der(der)
        .map(|n| n.to_string())
        .map_err(|e| e.to_string())
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

pub(super) fn query_json(req: &Request) -> (Value, Value) {
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
