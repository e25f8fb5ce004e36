//! API Gateway's two Lambda proxy formats, in and out: REST API proxy events
//! (payload 1.0) and HTTP API payload 2.0 events, read with the
//! `aws_lambda_events` types and reduced to the few facts the routes need.

use std::collections::HashMap;

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayV2httpRequest};
use aws_lambda_events::http::HeaderMap;
use base64::Engine as _;
use serde_json::{Value, json};

use crate::identity::Identity;
use crate::reading::MAX_BODY_BYTES;

/// Which proxy format an event came in, and so which the answer goes out in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// REST API Lambda proxy integration (payload format 1.0).
    Rest,
    /// HTTP API payload format 2.0.
    HttpV2,
}

impl Format {
    /// For logs.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rest => "rest",
            Self::HttpV2 => "http_v2",
        }
    }
}

/// What a route needs to know of a request.
#[derive(Clone, Debug)]
pub struct Request {
    /// The proxy format.
    pub format: Format,
    /// Upper-case HTTP method.
    pub method: String,
    /// The route path, without stage or base path: `/temps`.
    pub path: String,
    /// The `content-type` header.
    pub content_type: Option<String>,
    /// The body, decoded from base64 when API Gateway encoded it.
    pub body: Body,
    /// The verified identity from the authorizer context.
    pub identity: Option<Identity>,
    /// `validity.notAfter` of the client certificate, as API Gateway
    /// formats it, when the event carries the certificate.
    pub cert_not_after: Option<String>,
    /// API Gateway's request id, for logs.
    pub request_id: Option<String>,
}

/// A request body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// The bytes (empty when there was no body).
    Bytes(Vec<u8>),
    /// Base64 too long to hold any valid body; not decoded.
    TooLarge,
    /// `isBase64Encoded` was set but the body is not base64.
    BadBase64,
}

/// Why an event is not an API Gateway proxy event.
#[derive(Debug, thiserror::Error)]
#[error("not an API Gateway proxy event: {0}")]
pub(crate) struct NotAProxyEvent(String);

impl Request {
    /// Reads a proxy event of either format; payload 2.0 says so in its
    /// `version` field.
    pub(crate) fn from_event(event: Value) -> Result<Self, NotAProxyEvent> {
        let v2 = event.get("version").and_then(Value::as_str) == Some("2.0");
        // The REST event type has no field for the client certificate, so
        // its validity is read from the raw event, for either format.
        let cert = if v2 {
            "/requestContext/authentication/clientCert/validity/notAfter"
        } else {
            "/requestContext/identity/clientCert/validity/notAfter"
        };
        let cert_not_after = event
            .pointer(cert)
            .and_then(Value::as_str)
            .map(str::to_owned);
        let mut request = if v2 {
            let e: ApiGatewayV2httpRequest =
                serde_json::from_value(event).map_err(|e| NotAProxyEvent(e.to_string()))?;
            Self::from_v2(e)
        } else {
            let e: ApiGatewayProxyRequest =
                serde_json::from_value(event).map_err(|e| NotAProxyEvent(e.to_string()))?;
            Self::from_rest(e)
        };
        request.cert_not_after = cert_not_after;
        Ok(request)
    }

    fn from_rest(e: ApiGatewayProxyRequest) -> Self {
        let ctx = e.request_context;
        // `resource` is the API's own path template, free of the stage and of
        // any custom-domain base path; a greedy `{proxy+}` resource gives the
        // path through its parameter instead.
        let path = match (e.resource.as_deref(), e.path_parameters.get("proxy")) {
            (Some(r), _) if !r.contains('{') => r.to_owned(),
            (_, Some(proxy)) => format!("/{proxy}"),
            _ => e.path.unwrap_or_default(),
        };
        Self {
            format: Format::Rest,
            method: e.http_method.as_str().to_ascii_uppercase(),
            path: normalize(&path),
            content_type: header(&e.headers, "content-type"),
            body: body(e.body.as_deref(), e.is_base64_encoded),
            identity: Identity::from_context(&ctx.authorizer.fields),
            cert_not_after: None,
            request_id: ctx.request_id,
        }
    }

    fn from_v2(e: ApiGatewayV2httpRequest) -> Self {
        let ctx = e.request_context;
        // `routeKey` is "METHOD /path" for explicit routes; the catch-all
        // routes fall back to the raw path, less a named stage prefix.
        let route = ctx.route_key.as_deref().and_then(|k| k.split_once(' '));
        let path = match route {
            Some((_, p)) if !p.contains('{') => p.to_owned(),
            _ => {
                let raw = e.raw_path.unwrap_or_default();
                match ctx.stage.as_deref() {
                    Some(stage) if stage != "$default" => raw
                        .strip_prefix(&format!("/{stage}"))
                        .filter(|rest| rest.is_empty() || rest.starts_with('/'))
                        .map_or_else(|| raw.clone(), str::to_owned),
                    _ => raw,
                }
            }
        };
        let empty = HashMap::new();
        let fields = ctx.authorizer.as_ref().map_or(&empty, |a| &a.fields);
        Self {
            format: Format::HttpV2,
            method: ctx.http.method.as_str().to_ascii_uppercase(),
            path: normalize(&path),
            content_type: header(&e.headers, "content-type"),
            body: body(e.body.as_deref(), e.is_base64_encoded),
            identity: Identity::from_context(fields),
            cert_not_after: None,
            request_id: ctx.request_id,
        }
    }
}

/// One trailing slash is the same route; an empty path is the root.
fn normalize(path: &str) -> String {
    let trimmed = path.strip_suffix('/').unwrap_or(path);
    if trimmed.is_empty() {
        "/".to_owned()
    } else {
        trimmed.to_owned()
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The body's bytes. A base64 body is only decoded when it could be a valid
/// size, so an oversized one costs nothing.
fn body(body: Option<&str>, base64: bool) -> Body {
    let text = body.unwrap_or_default();
    if !base64 {
        return Body::Bytes(text.as_bytes().to_vec());
    }
    if text.len() > MAX_BODY_BYTES.div_ceil(3) * 4 {
        return Body::TooLarge;
    }
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_or(Body::BadBase64, Body::Bytes)
}

/// A proxy response. Both formats accept this shape; the headers say the
/// answer is JSON and must not be cached, since it is per client.
#[must_use]
pub fn response(status: u16, body: &Value, extra_headers: &[(&str, &str)]) -> Value {
    let mut headers = serde_json::Map::new();
    headers.insert("content-type".into(), json!("application/json"));
    headers.insert("cache-control".into(), json!("no-store"));
    for (k, v) in extra_headers {
        headers.insert((*k).to_owned(), json!(v));
    }
    json!({
        "statusCode": status,
        "headers": headers,
        "body": body.to_string(),
        "isBase64Encoded": false,
    })
}

#[cfg(test)]
mod tests;
