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
/// any identity header it sent, plus the identity from `context` (a context
/// value that is missing or not a string leaves that header empty, as
/// API Gateway's mapping does).
#[must_use]
pub fn forwarded_headers(req: &Request, context: &Map<String, Value>) -> Vec<(String, String)> {
    let identity = identity_headers();
    let mut out: Vec<(String, String)> = req
        .headers
        .iter()
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            !NOT_FORWARDED.contains(&k.as_str()) && !identity.iter().any(|(h, _)| *h == k)
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
        })
    }

    /// Sends the request to the backend and maps its answer (502 when it
    /// cannot be reached, as API Gateway answers).
    pub async fn forward(&self, req: &Request, context: &Map<String, Value>) -> Answer {
        match self.send(req, context).await {
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
        use http_body_util::{BodyExt, Full};
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
        let response = tokio::time::timeout(
            std::time::Duration::from_secs(29),
            sender.send_request(request),
        )
        .await
        .map_err(|_| "no answer within 29 s".to_owned())?
        .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter(|(k, _)| !NOT_FORWARDED.contains(&k.as_str()))
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
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
    fn the_mapping_names_five_headers_and_context_keys_the_authorizer_writes() {
        let names: Vec<&str> = identity_headers().iter().map(|(h, _)| h.as_str()).collect();
        assert_eq!(
            names,
            [
                "x-client-cert-subject",
                "x-client-cert-issuer",
                "x-client-cert-serial",
                "x-client-cert-sha256",
                "x-client-cert-policy"
            ]
        );
        for (_, key) in identity_headers() {
            assert!(
                [
                    "subjectDn",
                    "issuerDn",
                    "serialNumber",
                    "fingerprintSha256",
                    "issuer"
                ]
                .contains(&key.as_str())
            );
        }
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
