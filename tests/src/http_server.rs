//! A scriptable HTTP server on 127.0.0.1 that serves one document (a CRL, a
//! truststore) and can be told to misbehave. It counts what it does.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use tokio::task::JoinHandle;

/// How the server answers.
#[derive(Clone, Debug)]
pub enum Mode {
    /// 200 with the document, or 304 when `If-None-Match` names its ETag.
    Serve,
    /// 503 Service Unavailable.
    Unavailable,
    /// Sleep this long, then serve.
    Stall(Duration),
    /// 200 with bytes that are not a CRL.
    Garbage,
    /// 200 with this many bytes and a Content-Length header.
    Oversized(usize),
    /// 200 with this many bytes, chunked, with no Content-Length.
    OversizedChunked(usize),
    /// 302 Found, to this location.
    Redirect(String),
    /// 200 with the document, sent in this many pieces with a pause before
    /// each: a slow download that is in progress for `pieces × pause`.
    Trickle {
        /// How many pieces.
        pieces: usize,
        /// The pause before each.
        pause: Duration,
    },
}

struct Inner {
    body: Mutex<(Vec<u8>, u64)>,
    mode: Mutex<Mode>,
    requests: AtomicUsize,
    bodies: AtomicUsize,
    not_modified: AtomicUsize,
}

/// The running server; stops when dropped.
pub struct HttpServer {
    addr: SocketAddr,
    inner: Arc<Inner>,
    task: JoinHandle<()>,
}

async fn answer(State(inner): State<Arc<Inner>>, headers: HeaderMap) -> Response {
    inner.requests.fetch_add(1, Ordering::SeqCst);
    let mode = inner.mode.lock().unwrap().clone();
    let (body, version) = inner.body.lock().unwrap().clone();
    let etag = format!("\"v{version}\"");
    let plain =
        |status: StatusCode, body: Body| Response::builder().status(status).body(body).unwrap();
    match mode {
        Mode::Unavailable => return plain(StatusCode::SERVICE_UNAVAILABLE, Body::from("down")),
        Mode::Garbage => {
            inner.bodies.fetch_add(1, Ordering::SeqCst);
            return plain(StatusCode::OK, Body::from("<html>this is not a CRL</html>"));
        }
        Mode::Oversized(n) => return plain(StatusCode::OK, Body::from(vec![0x30u8; n])),
        Mode::OversizedChunked(n) => {
            let chunks = (0..n.div_ceil(64 * 1024))
                .map(|_| Ok::<_, std::io::Error>(axum::body::Bytes::from(vec![0x30u8; 64 * 1024])));
            return plain(
                StatusCode::OK,
                Body::from_stream(futures_util::stream::iter(chunks)),
            );
        }
        Mode::Redirect(to) => {
            return Response::builder()
                .status(StatusCode::FOUND)
                .header(header::LOCATION, to)
                .body(Body::empty())
                .unwrap();
        }
        Mode::Stall(d) => tokio::time::sleep(d).await,
        Mode::Serve | Mode::Trickle { .. } => {}
    }
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        inner.not_modified.fetch_add(1, Ordering::SeqCst);
        return Response::builder()
            .status(StatusCode::NOT_MODIFIED)
            .header(header::ETAG, etag)
            .body(Body::empty())
            .unwrap();
    }
    inner.bodies.fetch_add(1, Ordering::SeqCst);
    let body = match mode {
        Mode::Trickle { pieces, pause } => {
            let size = body.len().div_ceil(pieces.max(1)).max(1);
            let pieces: Vec<Vec<u8>> = body.chunks(size).map(<[u8]>::to_vec).collect();
            Body::from_stream(futures_util::stream::unfold(
                pieces.into_iter(),
                move |mut rest| async move {
                    let piece = rest.next()?;
                    tokio::time::sleep(pause).await;
                    Some((
                        Ok::<_, std::io::Error>(axum::body::Bytes::from(piece)),
                        rest,
                    ))
                },
            ))
        }
        _ => Body::from(body),
    };
    Response::builder()
        .status(StatusCode::OK)
        .header(header::ETAG, etag)
        .header(header::LAST_MODIFIED, "Mon, 23 Nov 2026 10:00:00 GMT")
        .header(header::CONTENT_TYPE, "application/pkix-crl")
        .body(body)
        .unwrap()
}

impl HttpServer {
    /// Starts serving `body` on an ephemeral loopback port.
    pub async fn start(body: Vec<u8>) -> Self {
        let inner = Arc::new(Inner {
            body: Mutex::new((body, 1)),
            mode: Mutex::new(Mode::Serve),
            requests: AtomicUsize::new(0),
            bodies: AtomicUsize::new(0),
            not_modified: AtomicUsize::new(0),
        });
        let app = Router::new()
            .fallback(answer)
            .with_state(Arc::clone(&inner));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, inner, task }
    }

    /// The URL of the document.
    pub fn url(&self) -> String {
        format!("http://{}/crl/devices.crl", self.addr)
    }

    /// Publishes a new version of the document (a new ETag).
    pub fn publish(&self, body: Vec<u8>) {
        let mut guard = self.inner.body.lock().unwrap();
        let version = guard.1 + 1;
        *guard = (body, version);
    }

    /// Changes how the server answers.
    pub fn set_mode(&self, mode: Mode) {
        *self.inner.mode.lock().unwrap() = mode;
    }

    /// Requests received.
    pub fn requests(&self) -> usize {
        self.inner.requests.load(Ordering::SeqCst)
    }

    /// Full documents sent (200 with the document or garbage).
    pub fn bodies_sent(&self) -> usize {
        self.inner.bodies.load(Ordering::SeqCst)
    }

    /// 304 answers sent.
    pub fn not_modified_sent(&self) -> usize {
        self.inner.not_modified.load(Ordering::SeqCst)
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
