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
pub fn look_alike_of(name: &str) -> Option<&'static str> {
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
pub const INTEGRATION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(29);

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
pub fn forwarded_headers(req: &Request, context: &Map<String, Value>) -> Vec<(String, String)> {
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
    pub fn screen(&self, req: &Request) -> Option<Answer> {
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
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use serde_json::json;

    use super::*;

    fn req(headers: &[(&str, &str)]) -> Request {
        Request {
            method: "GET".into(),
            path: "/whoami".into(),
            query: String::new(),
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
            body: Vec::new(),
            source_ip: "127.0.0.1".into(),
            request_id: "r".into(),
            time: time::OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn identity_headers_come_from_the_context_and_overwrite_what_the_client_sent() {
        let context: Map<String, Value> = [
            ("subjectDn".to_owned(), json!("CN=dev-1")),
            ("issuerDn".to_owned(), json!("CN=Devices CA")),
            ("serialNumber".to_owned(), json!("0a")),
            ("fingerprintSha256".to_owned(), json!("ab")),
            ("issuer".to_owned(), json!("devices")),
        ]
        .into_iter()
        .collect();
        let spoofed = req(&[
            ("X-Client-Cert-Serial", "00"),
            ("x-client-cert-policy", "admins"),
            ("Host", "api.example.com"),
            ("Connection", "keep-alive"),
            ("Accept", "application/json"),
        ]);
        let out = forwarded_headers(&spoofed, &context);
        let get = |name: &str| -> Vec<&str> {
            out.iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
                .collect()
        };
        assert_eq!(get("x-client-cert-serial"), ["0a"]);
        assert_eq!(get("x-client-cert-policy"), ["devices"]);
        assert_eq!(get("x-client-cert-subject"), ["CN=dev-1"]);
        assert_eq!(get("x-client-cert-issuer"), ["CN=Devices CA"]);
        assert_eq!(get("x-client-cert-sha256"), ["ab"]);
        assert_eq!(get("accept"), ["application/json"]);
        assert!(get("host").is_empty() && get("connection").is_empty());
    }

    #[test]
    fn the_mapping_names_six_headers_and_context_keys_the_authorizer_writes() {
        let names: Vec<&str> = identity_headers().iter().map(|(h, _)| h.as_str()).collect();
        assert_eq!(
            names,
            [
                "x-client-cert-subject",
                "x-client-cert-issuer",
                "x-client-cert-serial",
                "x-client-cert-sha256",
                "x-client-cert-policy",
                "x-client-cert-name-sha256"
            ]
        );
        let written = mtls_x509::context::AuthorizerContext::default().to_map();
        for (header, key) in identity_headers() {
            assert!(written.contains_key(key), "{header} ← {key}");
        }
    }

    #[test]
    fn other_separators_in_identity_header_names_are_look_alikes_in_any_case() {
        for name in [
            "x_client_cert_subject",
            "X_Client_Cert_Subject",
            "x-client_cert-subject",
            "X_CLIENT-CERT-SUBJECT",
            "x_client_cert_name_sha256",
            "x.client.cert.subject",
            "X~Client~Cert~Subject",
            "x client cert subject",
        ] {
            assert!(look_alike_of(name).is_some(), "{name}");
        }
        // The exact name in any case is the header itself (overwritten, not a
        // look-alike), and other underscore headers are the client's business.
        for name in [
            "x-client-cert-subject",
            "X-CLIENT-CERT-SUBJECT",
            "x_client_cert",
            "x_client_cert_subjects",
            "my_header",
        ] {
            assert_eq!(look_alike_of(name), None, "{name}");
        }
    }

    #[test]
    fn look_alike_identity_headers_never_reach_the_backend() {
        let context = mtls_x509::context::AuthorizerContext {
            subject_dn: "CN=good".into(),
            ..Default::default()
        }
        .to_map();
        let spoofed = req(&[
            ("x_client_cert_subject", "CN=admin"),
            ("X_Client_Cert_Subject", "CN=admin"),
            ("x-client_cert-subject", "CN=admin"),
            ("x.client.cert.subject", "CN=admin"),
            ("x_client_cert_name_sha256", "00"),
            ("my_header", "kept"),
        ]);
        let out = forwarded_headers(&spoofed, &context);
        let subjects: Vec<&str> = out
            .iter()
            .filter(|(k, _)| folded(k) == "x-client-cert-subject")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(subjects, ["CN=good"]);
        assert!(out.iter().all(|(_, v)| v != "CN=admin" && v != "00"));
        assert!(out.contains(&("my_header".to_owned(), "kept".to_owned())));

        let drop = HttpBackend::parse("http://127.0.0.1:9").unwrap();
        assert!(drop.screen(&spoofed).is_none(), "dropped, not refused");
        let reject = drop.with_look_alikes(LookAlikeHeaders::Reject);
        assert_eq!(reject.screen(&spoofed).map(|a| a.status), Some(400));
        assert!(reject.screen(&req(&[("my_header", "x")])).is_none());
    }

    #[test]
    fn backend_urls_are_http_host_port_with_an_optional_base_path() {
        let b = HttpBackend::parse("http://127.0.0.1:9000").unwrap();
        assert_eq!(
            (b.authority.as_str(), b.base_path.as_str()),
            ("127.0.0.1:9000", "")
        );
        let b = HttpBackend::parse("http://127.0.0.1:9000/api/").unwrap();
        assert_eq!(b.base_path, "/api");
        assert!(HttpBackend::parse("https://x").is_err());
        assert!(HttpBackend::parse("http:///x").is_err());
    }
}
