//! The sources under fault: an HTTP server for the issuers' CRLs, and a
//! reverse proxy in front of moto's S3 and DynamoDB. Each injects the fault
//! the schedule sets for a target until the schedule clears it.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::StreamExt;
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Bytes, Frame, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

pub type Body = BoxBody<Bytes, std::io::Error>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What a source does to a request while a fault is set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// This status, with an error body of the service's shape.
    Status(u16),
    /// The connection closed without an answer.
    Reset,
    /// No answer for this long, then the real one (longer than the fetch timeout).
    Stall(Duration),
    /// The real body, in `pieces` pieces with `pause` before each.
    Trickle { pieces: usize, pause: Duration },
    /// The real headers, half of the body, then the connection closed.
    Truncate,
    /// 200 with this body instead (a forged, rolled-back or hostile document).
    Replace(Vec<u8>),
    /// The real answer after this delay (DynamoDB latency).
    Delay(Duration),
    /// DynamoDB: the request reaches the table, and the answer is a 500 (the
    /// write happened; the client does not know it).
    LoseAnswer,
    /// DynamoDB: a throttling error the SDK retries.
    Throttle,
}

/// The fault each target is under, shared with the schedule.
#[derive(Clone, Debug, Default)]
pub struct Faults(Arc<Mutex<HashMap<String, Fault>>>);

impl Faults {
    pub fn set(&self, target: &str, fault: Fault) {
        lock(&self.0).insert(target.to_owned(), fault);
    }

    pub fn clear(&self, target: &str) {
        lock(&self.0).remove(target);
    }

    fn get(&self, target: &str) -> Option<Fault> {
        lock(&self.0).get(target).cloned()
    }
}

fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never: Infallible| match never {})
        .boxed()
}

/// A body sent in `pieces` with `pause` before each, or cut after half when
/// `truncate` (the stream ends in an error, and hyper closes the connection
/// before Content-Length is reached).
fn shaped(bytes: Bytes, pieces: usize, pause: Duration, truncate: bool) -> Body {
    let pieces = pieces.max(1);
    let len = bytes.len();
    let size = len.div_ceil(pieces).max(1);
    let mut chunks: Vec<Result<Frame<Bytes>, std::io::Error>> = Vec::new();
    let end = if truncate { len / 2 } else { len };
    let mut at = 0;
    while at < end {
        let to = (at + size).min(end);
        chunks.push(Ok(Frame::data(bytes.slice(at..to))));
        at = to;
    }
    if truncate {
        chunks.push(Err(std::io::Error::other("truncated by the soak")));
    }
    let stream = futures_util::stream::iter(chunks).then(move |c| async move {
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
        c
    });
    BodyExt::boxed(StreamBody::new(stream))
}

/// Serves hyper `handler` on a loopback port until the task is dropped.
async fn serve<F, Fut>(handler: F) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)>
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<Body>, std::io::Error>> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let handler = handler.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(handler);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok((addr, task))
}

#[derive(Debug, Default)]
struct Documents {
    /// Path → (body, ETag).
    by_path: HashMap<String, (Bytes, String)>,
    published: u64,
    served: u64,
    not_modified: u64,
}

/// The issuers' CRLs over HTTP: the current document per path, 304 for a
/// matching `If-None-Match`, and the fault set for `crl:<path>`.
#[derive(Debug)]
pub struct CrlServer {
    addr: SocketAddr,
    docs: Arc<Mutex<Documents>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for CrlServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl CrlServer {
    pub async fn start(faults: Faults) -> std::io::Result<Self> {
        let docs: Arc<Mutex<Documents>> = Arc::default();
        let state = docs.clone();
        let (addr, task) = serve(move |req: Request<Incoming>| {
            let (docs, faults) = (state.clone(), faults.clone());
            async move { crl_answer(&docs, &faults, &req).await }
        })
        .await?;
        Ok(Self { addr, docs, task })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn publish(&self, path: &str, der: Vec<u8>) {
        let mut docs = lock(&self.docs);
        docs.published += 1;
        let etag = format!("\"v{}\"", docs.published);
        docs.by_path
            .insert(path.to_owned(), (Bytes::from(der), etag));
    }

    /// Bodies served (200) and 304s.
    pub fn counts(&self) -> (u64, u64) {
        let d = lock(&self.docs);
        (d.served, d.not_modified)
    }
}

async fn crl_answer(
    docs: &Mutex<Documents>,
    faults: &Faults,
    req: &Request<Incoming>,
) -> Result<Response<Body>, std::io::Error> {
    let path = req.uri().path().to_owned();
    let fault = faults.get(&format!("crl:{path}"));
    let Some((body, etag)) = lock(docs).by_path.get(&path).cloned() else {
        return Ok(status(404, full("not found")));
    };
    let body = match fault {
        Some(Fault::Reset) => return Err(std::io::Error::other("reset by the soak")),
        Some(Fault::Status(code)) => return Ok(status(code, full("unavailable"))),
        Some(Fault::Stall(d)) => {
            tokio::time::sleep(d).await;
            body
        }
        Some(Fault::Replace(other)) => {
            lock(docs).served += 1;
            return Ok(ok(full(other), "\"replaced\""));
        }
        Some(Fault::Trickle { pieces, pause }) => {
            lock(docs).served += 1;
            return Ok(ok(shaped(body, pieces, pause, false), &etag));
        }
        Some(Fault::Truncate) => {
            let len = body.len();
            let mut r = ok(shaped(body, 2, Duration::ZERO, true), &etag);
            r.headers_mut()
                .insert(hyper::header::CONTENT_LENGTH, len.into());
            return Ok(r);
        }
        _ => body,
    };
    let matches = req
        .headers()
        .get(hyper::header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str());
    let mut docs = lock(docs);
    if matches {
        docs.not_modified += 1;
        let mut r = status(304, full(Bytes::new()));
        if let Ok(v) = etag.parse() {
            r.headers_mut().insert(hyper::header::ETAG, v);
        }
        return Ok(r);
    }
    docs.served += 1;
    Ok(ok(full(body), &etag))
}

fn status(code: u16, body: Body) -> Response<Body> {
    let mut r = Response::new(body);
    *r.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r
}

fn ok(body: Body, etag: &str) -> Response<Body> {
    let mut r = Response::new(body);
    if let Ok(v) = etag.parse() {
        r.headers_mut().insert(hyper::header::ETAG, v);
    }
    r
}

/// A reverse proxy in front of moto: S3 requests are targeted as
/// `s3:<bucket>/<key>`, DynamoDB ones as `dynamodb`.
#[derive(Debug)]
pub struct AwsProxy {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for AwsProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl AwsProxy {
    pub async fn start(upstream: SocketAddr, faults: Faults) -> std::io::Result<Self> {
        let (addr, task) = serve(move |req: Request<Incoming>| {
            let faults = faults.clone();
            async move { proxy(upstream, &faults, req).await }
        })
        .await?;
        Ok(Self { addr, task })
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }
}

async fn proxy(
    upstream: SocketAddr,
    faults: &Faults,
    req: Request<Incoming>,
) -> Result<Response<Body>, std::io::Error> {
    let dynamodb = req
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("DynamoDB"));
    let target = if dynamodb {
        "dynamodb".to_owned()
    } else {
        format!("s3:{}", req.uri().path().trim_start_matches('/'))
    };
    let fault = faults.get(&target);
    let error = |code: u16| -> Response<Body> {
        if dynamodb {
            let body = serde_json::json!({
                "__type": "com.amazonaws.dynamodb.v20120810#InternalServerError",
                "message": "injected by the soak"
            });
            let mut r = status(code, full(body.to_string()));
            r.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("application/x-amz-json-1.0"),
            );
            r
        } else {
            let kind = if code == 503 {
                "SlowDown"
            } else {
                "InternalError"
            };
            status(
                code,
                full(format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{kind}</Code><Message>injected</Message></Error>"
                )),
            )
        }
    };
    match &fault {
        Some(Fault::Reset) => return Err(std::io::Error::other("reset by the soak")),
        Some(Fault::Status(code)) => return Ok(error(*code)),
        Some(Fault::Throttle) => {
            let body = serde_json::json!({
                "__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException",
                "message": "Rate of requests exceeds the allowed throughput."
            });
            let mut r = status(400, full(body.to_string()));
            r.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("application/x-amz-json-1.0"),
            );
            return Ok(r);
        }
        Some(Fault::Stall(d) | Fault::Delay(d)) => tokio::time::sleep(*d).await,
        _ => {}
    }
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    let mut forward = Request::builder()
        .method(parts.method.clone())
        .uri(parts.uri.clone());
    // A truncated or trickled body needs a body: a conditional GET of an
    // unchanged object would be a 304, and the fault would do nothing.
    let reshaped = matches!(fault, Some(Fault::Truncate | Fault::Trickle { .. }));
    for (k, v) in &parts.headers {
        if reshaped && (k == hyper::header::IF_NONE_MATCH || k == hyper::header::IF_MODIFIED_SINCE)
        {
            continue;
        }
        forward = forward.header(k, v);
    }
    let forward = forward
        .body(Full::new(body))
        .map_err(std::io::Error::other)?;
    let stream = tokio::net::TcpStream::connect(upstream).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(std::io::Error::other)?;
    tokio::spawn(conn);
    let answer = sender
        .send_request(forward)
        .await
        .map_err(std::io::Error::other)?;
    let (parts, body) = answer.into_parts();
    let body = body
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    if fault == Some(Fault::LoseAnswer) {
        return Ok(error(500));
    }
    let body = match fault.clone() {
        Some(Fault::Trickle { pieces, pause }) => shaped(body, pieces, pause, false),
        Some(Fault::Truncate) => shaped(body, 2, Duration::ZERO, true),
        Some(Fault::Replace(other)) if parts.status.is_success() => full(other),
        _ => full(body),
    };
    let mut r = Response::new(body);
    *r.status_mut() = parts.status;
    for (k, v) in &parts.headers {
        let keep_length = matches!(fault, Some(Fault::Truncate));
        if k != hyper::header::TRANSFER_ENCODING
            && k != hyper::header::CONNECTION
            && (k != hyper::header::CONTENT_LENGTH || keep_length)
        {
            r.headers_mut().append(k, v.clone());
        }
    }
    Ok(r)
}
