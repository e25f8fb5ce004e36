//! A Lambda Runtime API host on 127.0.0.1 (the interface Lambda offers a
//! function's process), so tests drive the very binary that gets deployed.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::process::{Child, Command};
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;

type Pending = Arc<Mutex<HashMap<String, oneshot::Sender<Result<Value, String>>>>>;

#[derive(Clone)]
struct Host {
    queue: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<(String, Value)>>>,
    pending: Pending,
    init_error: Arc<Mutex<Option<String>>>,
    /// When the function first asked for an event: the end of its init phase.
    first_poll: Arc<(Mutex<Option<Instant>>, Notify)>,
}

async fn next(State(host): State<Host>) -> Response {
    {
        let mut first = host.first_poll.0.lock().unwrap();
        if first.is_none() {
            *first = Some(Instant::now());
            host.first_poll.1.notify_waiters();
        }
    }
    let Some((id, event)) = host.queue.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        + 30_000;
    Response::builder()
        .header("Lambda-Runtime-Aws-Request-Id", id)
        .header("Lambda-Runtime-Deadline-Ms", deadline.to_string())
        .header(
            "Lambda-Runtime-Invoked-Function-Arn",
            "arn:aws:lambda:us-east-1:123456789012:function:authorizer",
        )
        .header(
            "Lambda-Runtime-Trace-Id",
            "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1",
        )
        .header("Content-Type", "application/json")
        .body(axum::body::Body::from(event.to_string()))
        .unwrap()
}

async fn response(
    State(host): State<Host>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> StatusCode {
    let parsed = serde_json::from_slice(&body).map_err(|e| format!("response is not JSON: {e}"));
    if let Some(tx) = host.pending.lock().unwrap().remove(&id) {
        let _ = tx.send(parsed);
    }
    StatusCode::ACCEPTED
}

async fn error(State(host): State<Host>, UrlPath(id): UrlPath<String>, body: Bytes) -> StatusCode {
    if let Some(tx) = host.pending.lock().unwrap().remove(&id) {
        let _ = tx.send(Err(String::from_utf8_lossy(&body).into_owned()));
    }
    StatusCode::ACCEPTED
}

async fn init_error(State(host): State<Host>, body: Bytes) -> StatusCode {
    *host.init_error.lock().unwrap() = Some(String::from_utf8_lossy(&body).into_owned());
    StatusCode::ACCEPTED
}

/// The running host; stops when dropped.
pub struct RuntimeApi {
    addr: SocketAddr,
    tx: mpsc::UnboundedSender<(String, Value)>,
    host: Host,
    counter: AtomicU64,
    task: JoinHandle<()>,
}

impl RuntimeApi {
    /// Starts the host on an ephemeral loopback port.
    pub async fn start() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let host = Host {
            queue: Arc::new(tokio::sync::Mutex::new(rx)),
            pending: Arc::default(),
            init_error: Arc::default(),
            first_poll: Arc::default(),
        };
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(host.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            addr,
            tx,
            host,
            counter: AtomicU64::new(0),
            task,
        }
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// Starts a function binary against this host, as Lambda would.
    pub fn spawn(&self, binary: &Path, env: &[(&str, &str)]) -> Child {
        let mut cmd = Command::new(binary);
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", self.address())
            .env("AWS_LAMBDA_FUNCTION_NAME", "authorizer")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/authorizer")
            .env(
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "2026/11/23/[$LATEST]0123456789",
            )
            .env("AWS_REGION", "us-east-1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.spawn().unwrap()
    }

    /// Invokes the function with `event`; waits at most `timeout` for its answer.
    pub async fn invoke(&self, event: Value, timeout: Duration) -> Result<Value, String> {
        let id = format!("req-{}", self.counter.fetch_add(1, Ordering::SeqCst));
        let (tx, rx) = oneshot::channel();
        self.host.pending.lock().unwrap().insert(id.clone(), tx);
        self.tx.send((id, event)).map_err(|e| e.to_string())?;
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err("host dropped the invocation".into()),
            Err(_) => Err(format!("no answer within {timeout:?}")),
        }
    }

    /// Waits until the function first asks for an event (it is initialized
    /// and ready), at most `timeout`; returns when that happened.
    pub async fn ready(&self, timeout: Duration) -> Option<Instant> {
        let (first, notify) = &*self.host.first_poll;
        tokio::time::timeout(timeout, async {
            loop {
                let notified = notify.notified();
                if let Some(t) = *first.lock().unwrap() {
                    return t;
                }
                notified.await;
            }
        })
        .await
        .ok()
    }

    /// What the function reported to `/runtime/init/error`, if anything.
    pub fn init_error(&self) -> Option<String> {
        self.host.init_error.lock().unwrap().clone()
    }
}

/// Stops a function process and returns everything it wrote (stdout, then
/// stderr).
pub async fn output_of(mut child: Child) -> String {
    let _ = child.start_kill();
    let out = tokio::time::timeout(Duration::from_secs(10), child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}
