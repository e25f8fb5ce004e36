//! An HTTP backend behind the gateway, as a REST API's `HTTP_PROXY`
//! integration or an HTTP API's HTTP integration reaches it: the request as
//! the client sent it, plus the verified certificate identity as headers
//! mapped from the authorizer's context. Headers of those names that the
//! client sent are overwritten, never passed through.

use std::sync::LazyLock;

use serde_json::{Map, Value};

use crate::apigw::{Answer, Request};
use crate::error::{Error, Result};

/// `header` ← `context` key pairs, from `infra/identity-headers.json`: the
/// same list the Terraform module and the CDK construct map.
static IDENTITY_HEADERS: LazyLock<Vec<(String, String)>> = LazyLock::new(|| {
    let doc: Value =
        serde_json::from_str(include_str!("../../infra/identity-headers.json")).unwrap_or_default();
    doc.get("headers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|h| {
            Some((
                h.get("header")?.as_str()?.to_owned(),
                h.get("context")?.as_str()?.to_owned(),
            ))
        })
        .collect()
});

/// The identity headers and the authorizer context keys they come from.
#[must_use]
pub fn identity_headers() -> &'static [(String, String)] {
    &IDENTITY_HEADERS
}

/// What the gateway does with a client header that an HTTP stack would read
/// as an identity header: a *look-alike*, whose name, lower-cased and with
/// every character other than a letter or digit read as `-`, is one
/// (`x_client_cert_subject`, `X_Client_Cert_Subject`, `x.client.cert.subject`).
/// CGI, WSGI (Django's `request.META`, Werkzeug) and PHP give `_` the
/// variable of `-`, and PHP gives `.` and space the same one, so passed through
/// it would prefix or replace the verified identity. Envoy's
/// `headers_with_underscores_action` is the same choice; nginx drops headers
/// with underscores (and, with `ignore_invalid_headers`, other characters) by
/// default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LookAlikeHeaders {
    /// Drop them and log each, as the deployed stacks neutralise the `_`
    /// spellings (an HTTP API removes them; a REST API overwrites them with
    /// the verified value).
    #[default]
    Drop,
    /// Refuse the request with 400 before the authorizer runs, and log it.
    Reject,
}

/// `name` lower-cased, with every character other than an ASCII letter or
/// digit read as `-`: the names a permissive stack cannot tell apart.
fn folded(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// The identity header that `name` is a look-alike of: not its exact
/// spelling (in any case), but the same once folded.
#[must_use]
pub(crate) fn look_alike_of(name: &str) -> Option<&'static str> {
    let exact = name.to_ascii_lowercase();
    let folded = folded(name);
    identity_headers()
        .iter()
        .find(|(h, _)| *h == folded && *h != exact)
        .map(|(h, _)| h.as_str())
}

/// Whether `name` is an identity header in any spelling a backend could
/// read as one: the exact name in any case, or a look-alike.
fn is_identity_spelling(name: &str) -> bool {
    let folded = folded(name);
    identity_headers().iter().any(|(h, _)| *h == folded)
}

/// API Gateway's integration timeout (REST; an HTTP API allows 30 s).
pub(crate) const INTEGRATION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(29);

/// Hop-by-hop headers (RFC 9110 §7.6.1) and those the proxy sets itself.
const NOT_FORWARDED: [&str; 10] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
];

/// The headers the backend receives: the client's, minus hop-by-hop ones and
/// any identity header it sent in any spelling (look-alikes included), plus
/// the identity from `context` (a context value that is missing or not a
/// string leaves that header empty, as API Gateway's mapping does).
#[must_use]
pub(crate) fn forwarded_headers(
    req: &Request,
    context: &Map<String, Value>,
) -> Vec<(String, String)> {
    let identity = identity_headers();
    let mut out: Vec<(String, String)> = req
        .headers
        .iter()
        .filter(|(k, _)| {
            !NOT_FORWARDED.contains(&k.to_ascii_lowercase().as_str()) && !is_identity_spelling(k)
        })
        .cloned()
        .collect();
    for (header, key) in identity {
        let value = match context.get(key) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::Bool(b)) => b.to_string(),
            _ => String::new(),
        };
        out.push((header.clone(), value));
    }
    out
}

/// An HTTP backend: `http://host:port[/base]`.
#[derive(Clone, Debug)]
pub struct HttpBackend {
    authority: String,
    base_path: String,
    look_alikes: LookAlikeHeaders,
}

impl HttpBackend {
    /// Parses `--backend`. Only `http://` (a local service, or one behind a
    /// VPC link in AWS, where API Gateway speaks to it).
    ///
    /// # Errors
    /// Not an `http://host:port` URL.
    pub fn parse(url: &str) -> Result<Self> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| Error::Setup(format!("--backend {url}: use http://host:port[/path]")))?;
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        if authority.is_empty() {
            return Err(Error::Setup(format!("--backend {url}: no host")));
        }
        Ok(Self {
            authority: authority.to_owned(),
            base_path: format!("/{}", path.trim_end_matches('/'))
                .trim_end_matches('/')
                .to_owned(),
            look_alikes: LookAlikeHeaders::default(),
        })
    }

    /// What to do with look-alike identity headers (default: drop them).
    #[must_use]
    pub fn with_look_alikes(self, look_alikes: LookAlikeHeaders) -> Self {
        Self {
            look_alikes,
            ..self
        }
    }

    /// Screens the request's header names before anything else runs: each
    /// look-alike of an identity header is logged, and with
    /// [`LookAlikeHeaders::Reject`] the request is answered 400 here. With
    /// [`LookAlikeHeaders::Drop`], [`forwarded_headers`] leaves them out.
    #[must_use]
    pub(crate) fn screen(&self, req: &Request) -> Option<Answer> {
        let mut found = false;
        for (name, _) in &req.headers {
            if let Some(of) = look_alike_of(name) {
                found = true;
                let action = match self.look_alikes {
                    LookAlikeHeaders::Drop => "dropped",
                    LookAlikeHeaders::Reject => "rejected",
                };
                tracing::warn!(
                    event = "look_alike_identity_header",
                    request_id = %req.request_id,
                    header = %name,
                    identity_header = of,
                    action,
                );
            }
        }
        (found && self.look_alikes == LookAlikeHeaders::Reject)
            .then(|| Answer::json(400, &serde_json::json!({"message": "Bad Request"})))
    }

    /// Sends the request to the backend and maps its answer (502 when it
    /// cannot be reached, as API Gateway answers).
    pub async fn forward(&self, req: &Request, context: &Map<String, Value>) -> Answer {
        // All of it, connection, head and body, within API Gateway's 29 s
        // integration timeout; the body at most its 10 MB payload.
        let sent = tokio::time::timeout(INTEGRATION_TIMEOUT, self.send(req, context))
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {INTEGRATION_TIMEOUT:?}")));
        match sent {
            Ok(answer) => answer,
            Err(e) => {
                tracing::error!(event = "integration_failed", backend = %self.authority, error = %e);
                Answer::json(
                    502,
                    &serde_json::json!({"message": "Internal server error"}),
                )
            }
        }
    }

    async fn send(
        &self,
        req: &Request,
        context: &Map<String, Value>,
    ) -> std::result::Result<Answer, String> {
        use http_body_util::{BodyExt, Full, Limited};
        let stream = tokio::net::TcpStream::connect(&self.authority)
            .await
            .map_err(|e| e.to_string())?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        let mut uri = format!("{}{}", self.base_path, req.path);
        if !req.query.is_empty() {
            uri.push('?');
            uri.push_str(&req.query);
        }
        let mut builder = hyper::Request::builder()
            .method(req.method.as_str())
            .uri(uri)
            .header("host", &self.authority);
        for (k, v) in forwarded_headers(req, context) {
            builder = builder.header(k, v);
        }
        let request = builder
            .body(Full::new(hyper::body::Bytes::from(req.body.clone())))
            .map_err(|e| e.to_string())?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter(|(k, _)| !NOT_FORWARDED.contains(&k.as_str()))
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let body = Limited::new(response.into_body(), crate::server::MAX_BODY_BYTES)
            .collect()
            .await
            .map_err(|e| format!("the answer's body: {e}"))?
            .to_bytes()
            .to_vec();
        Ok(Answer {
            status,
            headers,
            body,
        })
    }
}

#[cfg(test)]
mod tests;
