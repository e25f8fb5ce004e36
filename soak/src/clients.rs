//! The clients: real TLS connections with client certificates to the
//! gateway, keep-alive like a device's, and garbage events sent straight to
//! the authorizer's instances.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;

use crate::world::Device;

/// What came back.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    /// The request reached the backend (the authorizer allowed it): its status.
    Allowed { status: u16, body: String },
    /// 403 from the gateway, with the authorizer's reason.
    Denied { reason: String },
    /// The gateway's 500 for an authorizer that failed.
    AuthorizerFailed,
    /// The handler's "could not store" (500, `internal_error`).
    StoreFailed,
    /// Any other answer from the gateway itself (502, 504, …).
    Gateway { status: u16, body: String },
    /// The connection failed before an answer (for an untrusted certificate:
    /// the handshake was refused).
    Unanswered(String),
}

impl Answer {
    pub fn is_allow(&self) -> bool {
        matches!(self, Self::Allowed { .. } | Self::StoreFailed)
    }

    pub fn label(&self) -> String {
        match self {
            Self::Allowed { status, .. } => format!("allowed {status}"),
            Self::Denied { reason } => format!("denied {reason}"),
            Self::AuthorizerFailed => "authorizer_failed 500".into(),
            Self::StoreFailed => "store_failed 500".into(),
            Self::Gateway { status, .. } => format!("gateway {status}"),
            Self::Unanswered(why) if why.contains("within") => "no_answer_in_time".into(),
            Self::Unanswered(_) => "no_answer".into(),
        }
    }
}

/// Reads an HTTP answer the way the oracle needs it.
fn classify(status: u16, body: &[u8]) -> Answer {
    let text = String::from_utf8_lossy(body).into_owned();
    let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    // The gateway's own answers carry `message`; the handler's carry `error` or data.
    let gateway_shaped = json.get("message").is_some() && json.get("error").is_none();
    match status {
        403 if gateway_shaped => Answer::Denied {
            reason: json["reason"].as_str().unwrap_or("unknown").to_owned(),
        },
        500 if gateway_shaped => Answer::AuthorizerFailed,
        500 if json["error"] == "internal_error" => Answer::StoreFailed,
        s if gateway_shaped && s >= 500 => Answer::Gateway { status, body: text },
        _ => Answer::Allowed { status, body: text },
    }
}

/// A device's TLS client: one connection, reused, opened again after a failure.
pub struct Client {
    addr: SocketAddr,
    /// How long one exchange may take before it counts as unanswered.
    timeout: std::time::Duration,
    tls: tokio_rustls::TlsConnector,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("addr", &self.addr).finish()
    }
}

impl Client {
    pub fn new(addr: SocketAddr, server_ca_pem: &[u8], device: &Device) -> Result<Self, String> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        for c in gateway::tls::certificates(server_ca_pem).map_err(|e| e.to_string())? {
            roots.add(c).map_err(|e| e.to_string())?;
        }
        let chain =
            gateway::tls::certificates(device.chain_pem.as_bytes()).map_err(|e| e.to_string())?;
        let key = gateway::tls::private_key(device.key_pem.as_bytes())?;
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .map_err(|e| e.to_string())?;
        Ok(Self {
            addr,
            // API Gateway gives up after 29 s: an exchange still open at 35 s hangs.
            timeout: std::time::Duration::from_secs(35),
            tls: tokio_rustls::TlsConnector::from(Arc::new(config)),
            sender: None,
        })
    }

    /// A refused client: the gateway ends a handshake within 10 s, so 12 s
    /// bounds the exchange. (The soak's client, hyper over rustls, at times does
    /// not notice the refusal after its TLS 1.3 handshake ended on its side;
    /// curl, in 1,500 tries, always does.)
    pub fn refused_within(mut self, timeout: std::time::Duration) -> Self {
        self.timeout = timeout;
        self
    }

    async fn connect(&self, phase: &mut &'static str) -> Result<SendRequest<Full<Bytes>>, String> {
        *phase = "tcp connect";
        let tcp = tokio::net::TcpStream::connect(self.addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        *phase = "tls handshake";
        let name = ServerName::try_from("localhost").map_err(|e| e.to_string())?;
        let tls = self
            .tls
            .connect(name, tcp)
            .await
            .map_err(|e| format!("handshake: {e}"))?;
        *phase = "http handshake";
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| format!("http: {e}"))?;
        tokio::spawn(conn);
        Ok(sender)
    }

    /// One request and the gateway's request id (`x-amzn-requestid`, which the
    /// decision line carries as `api_request_id`); a connection the server
    /// closed while idle is opened again once, as an HTTP client does.
    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
    ) -> (Answer, Option<String>) {
        let mut id = None;
        let mut phase = "start";
        let answer = match tokio::time::timeout(
            self.timeout,
            self.exchange(method, path, body, &mut id, &mut phase),
        )
        .await
        {
            Ok(a) => a,
            Err(_) => {
                self.sender = None;
                Answer::Unanswered(format!(
                    "no answer within {} s (at {phase})",
                    self.timeout.as_secs()
                ))
            }
        };
        (answer, id)
    }

    async fn exchange(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
        id: &mut Option<String>,
        phase: &mut &'static str,
    ) -> Answer {
        for attempt in 0..2 {
            let reused = self.sender.is_some();
            let mut sender = match self.sender.take() {
                Some(s) if !s.is_closed() => s,
                _ => match self.connect(phase).await {
                    Ok(s) => s,
                    Err(e) => return Answer::Unanswered(e),
                },
            };
            let mut req = hyper::Request::builder()
                .method(method)
                .uri(path)
                .header(hyper::header::HOST, "localhost");
            if body.is_some() {
                req = req.header(hyper::header::CONTENT_TYPE, "application/json");
            }
            let Ok(req) = req.body(Full::new(Bytes::copy_from_slice(body.unwrap_or_default())))
            else {
                return Answer::Unanswered("request".into());
            };
            *phase = "ready";
            if sender.ready().await.is_err() {
                if reused && attempt == 0 {
                    continue;
                }
                return Answer::Unanswered("connection closed".into());
            }
            *phase = "request";
            match sender.send_request(req).await {
                Ok(resp) => {
                    *phase = "body";
                    let status = resp.status().as_u16();
                    *id = resp
                        .headers()
                        .get("x-amzn-requestid")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    let Ok(bytes) = resp.into_body().collect().await.map(|b| b.to_bytes()) else {
                        return Answer::Unanswered("body".into());
                    };
                    self.sender = Some(sender);
                    return classify(status, &bytes);
                }
                Err(e) if reused && attempt == 0 && e.is_canceled() => {}
                Err(e) => return Answer::Unanswered(format!("request: {e}")),
            }
        }
        Answer::Unanswered("retried".into())
    }
}

/// A request's times, relative to the start of the run, in seconds.
pub fn since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64()
}
