//! The events API Gateway sends the functions: the REQUEST authorizer event
//! (payload 1.0) and the Lambda proxy event, with the client certificate
//! fields. They are built from `aws_lambda_events` types, the ones the
//! functions read them with, so the two sides share one definition. Fields
//! API Gateway sends that those types do not name (`extendedRequestId`,
//! `requestTime`, `identity.clientCert` in the proxy event, …) go in their
//! catch-all maps. Pure: the request time is in the request.

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerRequestTypeRequest,
    ApiGatewayCustomAuthorizerRequestTypeRequestContext,
    ApiGatewayCustomAuthorizerRequestTypeRequestIdentity,
    ApiGatewayCustomAuthorizerRequestTypeRequestIdentityClientCert, ApiGatewayProxyRequest,
    ApiGatewayProxyRequestContext, ApiGatewayRequestAuthorizer,
};
use aws_lambda_events::http::{HeaderMap, HeaderName, HeaderValue, Method};
use base64::Engine as _;
use mtls_x509::name::Name;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::{Api, Request};

/// The client certificate fields API Gateway puts in events
/// (`requestContext.identity.clientCert`; payload 2.0 has the same fields
/// under `requestContext.authentication.clientCert`).
pub type ClientCert = ApiGatewayCustomAuthorizerRequestTypeRequestIdentityClientCert;

/// The client certificate fields for a certificate.
///
/// # Errors
/// A description when the DER is not a certificate (the TLS layer already
/// verified it, so this does not happen in practice).
pub fn client_cert(der: &[u8]) -> Result<ClientCert, String> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| e.to_string())?;
    let validity = cert.validity();
    let mut out = ClientCert::default();
    out.client_cert_pem = Some(mtls_x509::pem::encode(mtls_x509::pem::CERTIFICATE, der));
    out.subject_dn = Some(dn(cert.subject().as_raw())?);
    out.issuer_dn = Some(dn(cert.issuer().as_raw())?);
    // API Gateway's sample events show the serial in decimal.
    out.serial_number = Some(cert.serial.to_string());
    out.validity.not_before = Some(openssl_time(validity.not_before.to_datetime()));
    out.validity.not_after = Some(openssl_time(validity.not_after.to_datetime()));
    Ok(out)
}

/// The certificate's serial in the one spelling the logs and `/whoami` use:
/// lowercase hex of the normalized INTEGER (RFC 5280 §4.1.2.2), where the
/// event's `serialNumber` keeps API Gateway's decimal.
///
/// # Errors
/// A description when the DER is not a certificate.
pub fn serial_hex(der: &[u8]) -> Result<String, String> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| e.to_string())?;
    Ok(mtls_x509::Serial::from_integer_bytes(cert.raw_serial()).to_hex())
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

/// `28/May/2019:12:30:02 +0000`, API Gateway's `requestTime`.
pub(crate) fn request_time(t: OffsetDateTime) -> String {
    let f = time::macros::format_description!(
        "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000"
    );
    t.format(&f).unwrap_or_default()
}

pub(crate) fn epoch_ms(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or_default()
}

/// The request's headers, repeated ones kept. A header the `http` crate
/// cannot hold (it cannot reach here through hyper) is left out.
fn header_map(req: &Request) -> HeaderMap {
    let mut map = HeaderMap::with_capacity(req.headers.len());
    for (k, v) in &req.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            map.append(name, value);
        }
    }
    map
}

/// `headers`: one value per name, the last, as API Gateway writes it.
fn last_values(req: &Request) -> HeaderMap {
    let mut map = HeaderMap::with_capacity(req.headers.len());
    for (name, value) in header_map(req).iter() {
        map.insert(name.clone(), value.clone());
    }
    map
}

fn method(req: &Request) -> Method {
    Method::from_bytes(req.method.as_bytes()).unwrap_or_default()
}

/// The first label of the custom domain: API Gateway's `domainPrefix`.
pub(crate) fn domain_prefix(api: &Api) -> String {
    api.domain_name
        .split('.')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// What `aws_lambda_events` writes differently from API Gateway, put back:
/// a REST event's `queryStringParameters` holds one value per name (the
/// last) and both query maps are `null` when there is no query.
fn rest_query(event: &mut Map<String, Value>, req: &Request) {
    let pairs = req.query_pairs();
    if pairs.is_empty() {
        event.insert("queryStringParameters".into(), Value::Null);
        event.insert("multiValueQueryStringParameters".into(), Value::Null);
        return;
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
    event.insert("queryStringParameters".into(), Value::Object(single));
    event.insert(
        "multiValueQueryStringParameters".into(),
        Value::Object(multi),
    );
}

/// The REST API REQUEST authorizer event.
#[must_use]
pub fn authorizer_event(api: &Api, req: &Request, resource: &str, cert: &ClientCert) -> Value {
    let mut identity = ApiGatewayCustomAuthorizerRequestTypeRequestIdentity::default();
    identity.source_ip = Some(req.source_ip.clone());
    identity.client_cert = Some(cert.clone());
    if let Some(agent) = req.header("user-agent") {
        identity.other.insert("userAgent".into(), json!(agent));
    }
    let mut context = ApiGatewayCustomAuthorizerRequestTypeRequestContext::default();
    context.path = Some(format!("/{}{}", api.stage, req.path));
    context.account_id = Some(api.account_id.clone());
    context.resource_id = Some("gw0001".into());
    context.stage = Some(api.stage.clone());
    context.request_id = Some(req.request_id.clone());
    context.identity = Some(identity);
    context.resource_path = Some(resource.to_owned());
    context.http_method = Some(method(req));
    context.apiid = Some(api.api_id.clone());
    context.other = shared_context(api, req);

    let mut event = ApiGatewayCustomAuthorizerRequestTypeRequest::default();
    event.type_ = Some("REQUEST".into());
    event.method_arn = Some(api.method_arn(&req.method, &req.path));
    event.resource = Some(resource.to_owned());
    event.path = Some(req.path.clone());
    event.http_method = Some(method(req));
    event.headers = last_values(req);
    event.multi_value_headers = header_map(req);
    event.request_context = context;
    finish(&event, req)
}

/// The request context fields both REST events carry and the types leave to
/// their catch-all maps.
fn shared_context(api: &Api, req: &Request) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("extendedRequestId".into(), json!(req.request_id));
    m.insert("requestTime".into(), json!(request_time(req.time)));
    m.insert("requestTimeEpoch".into(), json!(epoch_ms(req.time)));
    m.insert("protocol".into(), json!("HTTP/1.1"));
    m.insert("domainName".into(), json!(api.domain_name));
    m.insert("domainPrefix".into(), json!(domain_prefix(api)));
    m
}

/// Serializes an event, with the REST query maps as API Gateway writes them.
fn finish(event: &impl serde::Serialize, req: &Request) -> Value {
    let mut value = serde_json::to_value(event).unwrap_or_default();
    if let Some(m) = value.as_object_mut() {
        rest_query(m, req);
    }
    value
}

/// A proxy event's `body` and `isBase64Encoded`: the body as text when it is
/// UTF-8, else base64 (as API Gateway sends binary bodies); `None` when empty.
#[must_use]
pub fn body_of(body: &[u8]) -> (Option<String>, bool) {
    if body.is_empty() {
        return (None, false);
    }
    match std::str::from_utf8(body) {
        Ok(text) => (Some(text.to_owned()), false),
        Err(_) => (
            Some(base64::engine::general_purpose::STANDARD.encode(body)),
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
    cert: &ClientCert,
    principal: &str,
    context: &Map<String, Value>,
) -> Value {
    let mut request_context = ApiGatewayProxyRequestContext::default();
    request_context.account_id = Some(api.account_id.clone());
    request_context.resource_id = Some("gw0001".into());
    request_context.stage = Some(api.stage.clone());
    request_context.domain_name = Some(api.domain_name.clone());
    request_context.domain_prefix = Some(domain_prefix(api));
    request_context.request_id = Some(req.request_id.clone());
    request_context.protocol = Some("HTTP/1.1".into());
    request_context.identity.source_ip = Some(req.source_ip.clone());
    request_context.identity.user_agent = req.header("user-agent").map(str::to_owned);
    request_context.identity.other.insert(
        "clientCert".into(),
        serde_json::to_value(cert).unwrap_or_default(),
    );
    request_context.resource_path = Some(resource.to_owned());
    request_context.path = Some(format!("/{}{}", api.stage, req.path));
    request_context.http_method = method(req);
    request_context.request_time = Some(request_time(req.time));
    request_context.request_time_epoch = epoch_ms(req.time);
    request_context.apiid = Some(api.api_id.clone());
    let mut authorizer = ApiGatewayRequestAuthorizer::default();
    authorizer.fields = context.clone().into_iter().collect();
    authorizer
        .fields
        .insert("principalId".into(), json!(principal));
    authorizer
        .fields
        .insert("integrationLatency".into(), json!(0));
    request_context.authorizer = authorizer;
    request_context
        .other
        .insert("extendedRequestId".into(), json!(req.request_id));

    let mut event = ApiGatewayProxyRequest::default();
    event.resource = Some(resource.to_owned());
    event.path = Some(req.path.clone());
    event.http_method = method(req);
    event.headers = last_values(req);
    event.multi_value_headers = header_map(req);
    event.request_context = request_context;
    let (body, b64) = body_of(&req.body);
    event.body = body;
    event.is_base64_encoded = b64;
    let mut value = finish(&event, req);
    if let Some(m) = value.as_object_mut() {
        // API Gateway sends `null` for these when the route has none.
        m.insert("pathParameters".into(), Value::Null);
        m.insert("stageVariables".into(), Value::Null);
    }
    value
}
