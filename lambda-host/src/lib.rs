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
type Queue = Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<(String, Value)>>>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Clone)]
struct Host {
    name: String,
    /// The events for the process, replaced when a new process starts: a dead
    /// process's `/next` request may still be waiting on the old queue (hyper
    /// does not notice that its client went away while the handler runs), and
    /// it would take the next event with it.
    queue: Arc<Mutex<Queue>>,
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
    let queue = Arc::clone(&lock(&host.queue));
    let Some((id, event)) = queue.lock().await.recv().await else {
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
    tx: Mutex<mpsc::UnboundedSender<(String, Value)>>,
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
            queue: Arc::new(Mutex::new(Arc::new(tokio::sync::Mutex::new(rx)))),
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
            tx: Mutex::new(tx),
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
        let sent = lock(&self.tx).send((id.clone(), event));
        if let Err(e) = sent {
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

    /// Forgets the process that polled this host: its pending invocations fail
    /// with `why` now (rather than at their timeout), and the next process's
    /// first poll ends its init phase again.
    fn restart(&self, why: &str) {
        // A new queue first: the old sender dropped, a stale `/next` handler
        // gets `None` and answers 410 to nobody, and an invocation sent from
        // now on waits for the next process instead of being lost.
        let (tx, rx) = mpsc::unbounded_channel();
        *lock(&self.host.queue) = Arc::new(tokio::sync::Mutex::new(rx));
        *lock(&self.tx) = tx;
        for (_, tx) in lock(&self.host.pending).drain() {
            let _ = tx.send(Err(why.to_owned()));
        }
        *lock(&self.host.first_poll.0) = None;
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

/// What a function's processes do between invocations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lifecycle {
    /// They keep running, so background work (a CRL refresh) goes on between
    /// requests.
    #[default]
    Warm,
    /// Each process is stopped (SIGSTOP) once it has answered and continued
    /// (SIGCONT) when its next invocation is routed to it, as Lambda freezes an
    /// execution environment: background work stalls between invocations and
    /// timers fire late, all at once, after a thaw.
    Freeze,
}

/// One execution environment: its own Runtime API host, so an invocation
/// goes to the process it was routed to (a frozen process still holds a
/// pending `/next` request, and a shared queue would hand it the event).
#[derive(Debug)]
struct Instance {
    label: String,
    api: RuntimeApi,
    /// The running process, if any.
    pid: Mutex<Option<u32>>,
    /// Whether the process is stopped by us.
    frozen: std::sync::atomic::AtomicBool,
    /// Counts the process's starts: an invocation hands the instance back to the
    /// idle pool only if the process it ran on is still the current one.
    generation: AtomicU64,
    /// Every process started: when, and when it first asked for work.
    starts: Mutex<Vec<Start>>,
}

/// One process of a function: when it was started and when its init ended
/// (it first asked for an event), if it did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Start {
    /// `name#index`.
    pub label: String,
    /// The operating system's process id.
    pub pid: u32,
    /// When it was started.
    pub spawned: Instant,
    /// When it first asked for an event; `None` while (or if never) ready.
    pub ready: Option<Instant>,
}

impl Instance {
    fn signal(&self, signal: rustix::process::Signal) -> bool {
        let pid = *lock(&self.pid);
        pid.and_then(|p| i32::try_from(p).ok())
            .and_then(rustix::process::Pid::from_raw)
            .is_some_and(|pid| rustix::process::kill_process(pid, signal).is_ok())
    }

    fn thaw(&self) {
        if self.frozen.swap(false, Ordering::SeqCst) {
            self.signal(rustix::process::Signal::CONT);
        }
    }

    fn freeze(&self) {
        if !self.frozen.swap(true, Ordering::SeqCst) {
            self.signal(rustix::process::Signal::STOP);
        }
    }

    /// SIGKILL, as Lambda recycles an environment; the supervisor starts a new
    /// process (a cold start) and puts the instance back in the pool once it
    /// asks for work.
    fn kill(&self) {
        self.signal(rustix::process::Signal::KILL);
        self.frozen.store(false, Ordering::SeqCst);
    }
}

/// An instance handed an invocation: killed if the invocation is abandoned
/// before its answer (the process may still be working on it, and must not
/// be handed another).
struct Busy<'a> {
    instance: &'a Instance,
    done: bool,
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.instance.kill();
        }
    }
}

/// What happened to a function's processes, for reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LifecycleCounts {
    /// Processes started (the first start of each instance included).
    pub cold_starts: u64,
    /// Processes killed by [`Function::recycle_idle`].
    pub recycled: u64,
    /// Processes killed because an invocation outlived its timeout.
    pub timed_out: u64,
    /// Times a process was frozen after answering.
    pub freezes: u64,
}

#[derive(Debug, Default)]
struct Counters {
    cold_starts: AtomicU64,
    recycled: AtomicU64,
    timed_out: AtomicU64,
    freezes: AtomicU64,
}

/// A process of a function: its label (`name#index`) and pid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Process {
    /// `name#index`.
    pub label: String,
    /// The operating system's process id.
    pub pid: u32,
}

/// A function: execution environments (each a process with its own Runtime
/// API host), one invocation per environment at a time, as on Lambda.
#[derive(Debug)]
pub struct Function {
    name: String,
    instances: Vec<Arc<Instance>>,
    /// Idle instances, as (index, generation): an entry whose process has
    /// been replaced since is stale and dropped.
    idle_tx: mpsc::UnboundedSender<(usize, u64)>,
    idle_rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<(usize, u64)>>,
    lifecycle: Lifecycle,
    counters: Arc<Counters>,
    supervisors: Vec<JoinHandle<()>>,
}

impl Drop for Function {
    fn drop(&mut self) {
        for s in &self.supervisors {
            s.abort();
        }
        // A stopped process does not die of SIGKILL's delivery to a frozen
        // group any later, but a continued one is reaped sooner.
        for i in &self.instances {
            i.kill();
        }
    }
}

impl Function {
    /// Starts `instances` processes of `binary`, each against a host of its
    /// own, with [`Lifecycle::Warm`].
    ///
    /// # Errors
    /// A host cannot start.
    pub async fn start(
        name: &str,
        binary: PathBuf,
        env: Vec<(String, String)>,
        instances: usize,
    ) -> std::io::Result<Self> {
        Self::start_with(name, binary, env, instances, Lifecycle::Warm).await
    }

    /// Starts `instances` processes of `binary`. A process that exits is
    /// started again after a second, as Lambda would start a new execution
    /// environment. Their output goes to stderr, each line prefixed with
    /// `name#index`.
    ///
    /// # Errors
    /// A host cannot start.
    pub async fn start_with(
        name: &str,
        binary: PathBuf,
        env: Vec<(String, String)>,
        instances: usize,
        lifecycle: Lifecycle,
    ) -> std::io::Result<Self> {
        let (idle_tx, idle_rx) = mpsc::unbounded_channel();
        let counters = Arc::new(Counters::default());
        let mut all = Vec::new();
        let mut supervisors = Vec::new();
        for index in 0..instances.max(1) {
            let instance = Arc::new(Instance {
                label: format!("{name}#{index}"),
                api: RuntimeApi::start(name).await?,
                pid: Mutex::new(None),
                frozen: std::sync::atomic::AtomicBool::new(false),
                generation: AtomicU64::new(0),
                starts: Mutex::new(Vec::new()),
            });
            let mut cmd = instance.api.command(&binary, &env);
            let (me, idle, counters) = (Arc::clone(&instance), idle_tx.clone(), counters.clone());
            supervisors.push(tokio::spawn(async move {
                loop {
                    match cmd.spawn() {
                        Ok(child) => {
                            counters.cold_starts.fetch_add(1, Ordering::SeqCst);
                            *lock(&me.pid) = child.id();
                            me.generation.fetch_add(1, Ordering::SeqCst);
                            me.frozen.store(false, Ordering::SeqCst);
                            lock(&me.starts).push(Start {
                                label: me.label.clone(),
                                pid: child.id().unwrap_or_default(),
                                spawned: Instant::now(),
                                ready: None,
                            });
                            let pool = idle.clone();
                            let this = Arc::clone(&me);
                            let generation = me.generation.load(Ordering::SeqCst);
                            // Into the pool once it asks for work (its init is done).
                            let waiter = tokio::spawn(async move {
                                let (first, notify) = &*this.api.host.first_poll;
                                loop {
                                    let notified = notify.notified();
                                    if let Some(at) = *lock(first) {
                                        // In the pool before it counts as ready, so
                                        // that `ready()` means "can be invoked".
                                        let _ = pool.send((index, generation));
                                        if let Some(s) = lock(&this.starts).last_mut() {
                                            s.ready = Some(at);
                                        }
                                        return;
                                    }
                                    notified.await;
                                }
                            });
                            let status = forward_output(&me.label, child).await;
                            waiter.abort();
                            *lock(&me.pid) = None;
                            me.api.restart("the function's process exited");
                            tracing::warn!(event = "function_exited", function = %me.label, status = %status);
                        }
                        Err(e) => {
                            tracing::error!(event = "function_spawn_failed", function = %me.label, error = %e);
                        }
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }));
            all.push(instance);
        }
        Ok(Self {
            name: name.to_owned(),
            instances: all,
            idle_tx,
            idle_rx: tokio::sync::Mutex::new(idle_rx),
            lifecycle,
            counters,
            supervisors,
        })
    }

    /// Waits until every process has asked for its first event, at most
    /// `timeout`; `false` if one did not.
    pub async fn ready(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let all = self
                .instances
                .iter()
                .all(|i| lock(&i.starts).last().is_some_and(|s| s.ready.is_some()));
            if all {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// What a process reported to `/runtime/init/error`, if any did.
    #[must_use]
    pub fn init_error(&self) -> Option<String> {
        self.instances.iter().find_map(|i| i.api.init_error())
    }

    /// Takes an idle instance, one that is ready and runs no invocation, by
    /// `deadline`: its index and the generation of its process.
    async fn take(&self, deadline: tokio::time::Instant) -> Option<(usize, u64)> {
        let mut rx = tokio::time::timeout_at(deadline, self.idle_rx.lock())
            .await
            .ok()?;
        loop {
            let (index, generation) = tokio::time::timeout_at(deadline, rx.recv()).await.ok()??;
            // An entry of a process that has died or been replaced since is stale:
            // its supervisor puts the instance back once a new one is ready.
            if self.instances.get(index).is_some_and(|i| {
                lock(&i.pid).is_some() && i.generation.load(Ordering::SeqCst) == generation
            }) {
                return Some((index, generation));
            }
        }
    }

    /// Invokes the function with `event` on an idle instance (waiting for
    /// one); waits at most `timeout` in all for its answer. An instance that
    /// does not answer in time is killed and started again, as Lambda ends an
    /// invocation that outlives the function's timeout; so is one whose
    /// invocation is abandoned (this future dropped), which may still be
    /// working on it.
    ///
    /// # Errors
    /// No instance was free in time, the function reported an error, answered
    /// with something that is not JSON, or did not answer in time.
    pub async fn invoke(&self, event: Value, timeout: Duration) -> Result<Value, String> {
        let deadline = tokio::time::Instant::now() + timeout;
        let (index, generation) = self
            .take(deadline)
            .await
            .ok_or_else(|| format!("{}: no instance was free within {timeout:?}", self.name))?;
        let Some(instance) = self.instances.get(index) else {
            return Err("no such instance".into());
        };
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            let _ = self.idle_tx.send((index, generation));
            return Err(format!(
                "{}: no instance was free within {timeout:?}",
                self.name
            ));
        }
        // Kills the process if this future is dropped before the answer.
        let mut guard = Busy {
            instance,
            done: false,
        };
        instance.thaw();
        let out = instance.api.invoke(event, left).await;
        guard.done = true;
        let same = instance.generation.load(Ordering::SeqCst) == generation
            && lock(&instance.pid).is_some();
        match &out {
            Err(e) if e.starts_with("no answer within") && same => {
                self.counters.timed_out.fetch_add(1, Ordering::SeqCst);
                instance.kill();
            }
            _ if same => {
                if self.lifecycle == Lifecycle::Freeze {
                    self.counters.freezes.fetch_add(1, Ordering::SeqCst);
                    instance.freeze();
                }
                let _ = self.idle_tx.send((index, generation));
            }
            // The process died during the invocation: its supervisor puts the
            // instance back once a new one is ready.
            _ => {}
        }
        out
    }

    /// Kills one idle process at random (`pick` chooses among the idle ones,
    /// by position), as Lambda recycles an environment without warning; its
    /// instance returns after a cold start. Instance 0 is never chosen, so one
    /// process lives for the whole run (and its growth can be measured).
    /// Returns the label of the process killed, if one was idle.
    pub async fn recycle_idle(&self, pick: impl FnOnce(usize) -> usize) -> Option<String> {
        let mut rx = self.idle_rx.lock().await;
        let mut idle = Vec::new();
        while let Ok(entry) = rx.try_recv() {
            idle.push(entry);
        }
        let candidates: Vec<usize> = idle.iter().map(|(i, _)| *i).filter(|&i| i != 0).collect();
        let chosen = (!candidates.is_empty())
            .then(|| {
                candidates
                    .get(pick(candidates.len()) % candidates.len())
                    .copied()
            })
            .flatten();
        let mut killed = None;
        for (i, generation) in idle {
            if Some(i) == chosen
                && killed.is_none()
                && let Some(instance) = self.instances.get(i)
            {
                self.counters.recycled.fetch_add(1, Ordering::SeqCst);
                instance.kill();
                killed = Some(instance.label.clone());
            } else {
                let _ = self.idle_tx.send((i, generation));
            }
        }
        killed
    }

    /// The running processes.
    #[must_use]
    pub fn processes(&self) -> Vec<Process> {
        self.instances
            .iter()
            .filter_map(|i| {
                lock(&i.pid).map(|pid| Process {
                    label: i.label.clone(),
                    pid,
                })
            })
            .collect()
    }

    /// Every process started so far, oldest first within each instance.
    #[must_use]
    pub fn starts(&self) -> Vec<Start> {
        self.instances
            .iter()
            .flat_map(|i| lock(&i.starts).clone())
            .collect()
    }

    /// Cold starts, recycles, timeouts and freezes so far.
    #[must_use]
    pub fn counts(&self) -> LifecycleCounts {
        let c = &self.counters;
        LifecycleCounts {
            cold_starts: c.cold_starts.load(Ordering::SeqCst),
            recycled: c.recycled.load(Ordering::SeqCst),
            timed_out: c.timed_out.load(Ordering::SeqCst),
            freezes: c.freezes.load(Ordering::SeqCst),
        }
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
