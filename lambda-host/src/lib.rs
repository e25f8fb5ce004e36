//! A Lambda Runtime API host on 127.0.0.1: the interface Lambda offers a
//! function's process. The local gateway runs the deployed `authorizer` and
//! `api-handler` binaries behind it, configured by environment variables
//! exactly as on Lambda, and the tests drive single binaries through it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;

type Pending = Arc<Mutex<HashMap<String, oneshot::Sender<Result<Value, String>>>>>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Clone)]
struct Host {
    name: String,
    queue: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<(String, Value)>>>,
    pending: Pending,
    init_error: Arc<Mutex<Option<String>>>,
    /// When the function first asked for an event: the end of its init phase.
    first_poll: Arc<(Mutex<Option<Instant>>, Notify)>,
}

async fn next(State(host): State<Host>) -> Response {
    {
        let mut first = lock(&host.first_poll.0);
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
        .map(|d| d.as_millis())
        .unwrap_or_default()
        + 30_000;
    Response::builder()
        .header("Lambda-Runtime-Aws-Request-Id", id)
        .header("Lambda-Runtime-Deadline-Ms", deadline.to_string())
        .header(
            "Lambda-Runtime-Invoked-Function-Arn",
            format!(
                "arn:aws:lambda:us-east-1:123456789012:function:{}",
                host.name
            ),
        )
        .header(
            "Lambda-Runtime-Trace-Id",
            "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1",
        )
        .header("Content-Type", "application/json")
        .body(axum::body::Body::from(event.to_string()))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

async fn response(
    State(host): State<Host>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> StatusCode {
    let parsed = serde_json::from_slice(&body).map_err(|e| format!("response is not JSON: {e}"));
    if let Some(tx) = lock(&host.pending).remove(&id) {
        let _ = tx.send(parsed);
    }
    StatusCode::ACCEPTED
}

async fn error(State(host): State<Host>, UrlPath(id): UrlPath<String>, body: Bytes) -> StatusCode {
    if let Some(tx) = lock(&host.pending).remove(&id) {
        let _ = tx.send(Err(String::from_utf8_lossy(&body).into_owned()));
    }
    StatusCode::ACCEPTED
}

async fn init_error(State(host): State<Host>, body: Bytes) -> StatusCode {
    *lock(&host.init_error) = Some(String::from_utf8_lossy(&body).into_owned());
    StatusCode::ACCEPTED
}

/// The running host; stops when dropped.
#[derive(Debug)]
pub struct RuntimeApi {
    addr: SocketAddr,
    tx: mpsc::UnboundedSender<(String, Value)>,
    host: Host,
    counter: AtomicU64,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host").field("name", &self.name).finish()
    }
}

impl RuntimeApi {
    /// Starts a host for the function `name` on an ephemeral loopback port.
    ///
    /// # Errors
    /// The port cannot be bound.
    pub async fn start(name: &str) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::unbounded_channel();
        let host = Host {
            name: name.to_owned(),
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
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            addr,
            tx,
            host,
            counter: AtomicU64::new(0),
            task,
        })
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    #[must_use]
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// The command that starts a function binary against this host, with
    /// Lambda's environment (and nothing else of ours) plus `env`.
    #[must_use]
    pub fn command(&self, binary: &Path, env: &[(String, String)]) -> Command {
        let name = &self.host.name;
        let mut cmd = Command::new(binary);
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", self.address())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/23/[$LATEST]local")
            .env("AWS_REGION", "us-east-1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // A process group of its own: a terminal's Ctrl-C signals the whole
            // foreground group, and the function must be stopped by its host (which
            // kills it on drop), not die of SIGINT beside it and be reported as a crash.
            .process_group(0)
            .kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Invokes the function with `event`; waits at most `timeout` for its answer.
    ///
    /// # Errors
    /// The function reported an error, answered with something that is not
    /// JSON, or did not answer in time.
    pub async fn invoke(&self, event: Value, timeout: Duration) -> Result<Value, String> {
        let id = format!("req-{}", self.counter.fetch_add(1, Ordering::SeqCst));
        let (tx, rx) = oneshot::channel();
        lock(&self.host.pending).insert(id.clone(), tx);
        if let Err(e) = self.tx.send((id.clone(), event)) {
            lock(&self.host.pending).remove(&id);
            return Err(e.to_string());
        }
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err("host dropped the invocation".into()),
            Err(_) => {
                lock(&self.host.pending).remove(&id);
                Err(format!("no answer within {timeout:?}"))
            }
        }
    }

    /// Waits until the function first asks for an event (it is initialized
    /// and ready), at most `timeout`; returns when that happened.
    pub async fn ready(&self, timeout: Duration) -> Option<Instant> {
        let (first, notify) = &*self.host.first_poll;
        tokio::time::timeout(timeout, async {
            loop {
                let notified = notify.notified();
                if let Some(t) = *lock(first) {
                    return t;
                }
                notified.await;
            }
        })
        .await
        .ok()
    }

    /// What the function reported to `/runtime/init/error`, if anything.
    #[must_use]
    pub fn init_error(&self) -> Option<String> {
        lock(&self.host.init_error).clone()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A function: its Runtime API host and supervised processes.
#[derive(Debug)]
pub struct Function {
    /// The host its processes poll.
    pub api: RuntimeApi,
    supervisors: Vec<JoinHandle<()>>,
}

impl Drop for Function {
    fn drop(&mut self) {
        for s in &self.supervisors {
            s.abort();
        }
    }
}

impl Function {
    /// Starts `instances` processes of `binary` against a new host. A process
    /// that exits is started again after a second, as Lambda would start a
    /// new execution environment. Their output goes to stderr, each line
    /// prefixed with the function's name.
    ///
    /// # Errors
    /// The host cannot start.
    pub async fn start(
        name: &str,
        binary: PathBuf,
        env: Vec<(String, String)>,
        instances: usize,
    ) -> std::io::Result<Self> {
        let api = RuntimeApi::start(name).await?;
        let mut supervisors = Vec::new();
        for i in 0..instances.max(1) {
            let mut cmd = api.command(&binary, &env);
            let label = format!("{name}#{i}");
            supervisors.push(tokio::spawn(async move {
                loop {
                    match cmd.spawn() {
                        Ok(child) => {
                            let status = forward_output(&label, child).await;
                            tracing::warn!(event = "function_exited", function = %label, status = %status);
                        }
                        Err(e) => {
                            tracing::error!(event = "function_spawn_failed", function = %label, error = %e);
                        }
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }));
        }
        Ok(Self { api, supervisors })
    }
}

/// Copies a child's stdout and stderr to our stderr, line by line, and
/// returns how it exited.
async fn forward_output(label: &str, mut child: Child) -> String {
    let pipes = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
    ];
    let mut copies = Vec::new();
    for pipe in pipes.into_iter().flatten() {
        let label = label.to_owned();
        copies.push(tokio::spawn(async move {
            let mut lines = BufReader::new(pipe).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                eprintln!("[{label}] {line}");
            }
        }));
    }
    let status = child
        .wait()
        .await
        .map_or_else(|e| e.to_string(), |s| s.to_string());
    for c in copies {
        let _ = c.await;
    }
    status
}
