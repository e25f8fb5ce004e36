//! The truststore tool under faults: the built `truststore` binary, its AWS
//! calls sent through a fault-injecting reverse proxy on 127.0.0.1 in front
//! of moto_server (S3) and the scripted API Gateway (`common/apigw.rs`).
//!
//! The proxy numbers the requests of a run. A test first measures how many
//! requests a clean run makes, then runs the command once for every request
//! N of it, with one fault at N:
//!
//! - killed: the CLI gets SIGKILL when request N arrives, either before the
//!   request reaches the service or after the service has handled it (its
//!   answer is lost with the process). That is the command killed after each
//!   of its steps;
//! - failed: request N is answered with a 500 (S3's XML `InternalError`, API
//!   Gateway's JSON error), either instead of reaching the service or after
//!   it (the change is made, but the caller sees the failure).
//!
//! After each interrupted run the domain must pin an existing object version
//! that is a valid bundle, and the deny list must be the old list or the new
//! one; then the command run again without faults must complete. No fault
//! hook is in the tool: the proxy is the only thing that knows.

use crate::common;

use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_s3::types::BucketVersioningStatus;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use common::apigw::{FakeApiGateway, Gw};
use common::{chain, pems};
use hyper_util::rt::TokioIo;
use mtls_pki::check::{CheckOptions, check_bundle};
use mtls_policy::denylist::{Document, Entry, Target};
use mtls_tests::moto::{self, Moto};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use truststore::s3::Store;

const DOMAIN: &str = "api.example.test";
const BUCKET: &str = "truststores";
/// The longest any one run may take before the test fails.
const RUN_LIMIT: Duration = Duration::from_secs(30);
/// Fast pacing for API Gateway: polls every 20 ms, short backoff.
const FAST: [&str; 6] = [
    "--poll-interval",
    "0.02",
    "--backoff",
    "0.02",
    "--timeout",
    "10",
];

// ---------------------------------------------------------------------------
// The fault-injecting proxy.

/// Where, relative to the service, a fault strikes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum When {
    /// The request never reaches the service.
    Before,
    /// The service has handled the request; its answer is lost.
    After,
}

const WHENS: [When; 2] = [When::Before, When::After];

/// What happens to the request numbered `at` (from 1) of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    /// SIGKILL the CLI.
    Kill { at: usize, when: When },
    /// Answer 500.
    Fail { at: usize, when: When },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Service {
    S3,
    ApiGateway,
}

/// A request from the proxy to the runner: kill the CLI, then answer.
type KillRequest = oneshot::Sender<()>;

/// One run's script and record, shared by the proxies of a test.
#[derive(Debug, Default)]
struct Plan {
    fault: Option<Fault>,
    /// Requests seen in this run.
    seen: usize,
    /// Each request: "S3 PUT /truststores/…", "API Gateway GET /domainnames/…".
    log: Vec<String>,
    /// Whether the fault struck.
    fired: bool,
    killer: Option<mpsc::UnboundedSender<KillRequest>>,
}

type Faults = Arc<Mutex<Plan>>;

/// What the proxy does with one request.
enum Action {
    Forward,
    Kill(When, Option<mpsc::UnboundedSender<KillRequest>>),
    Fail(When),
}

struct Hop {
    service: Service,
    upstream: SocketAddr,
    faults: Faults,
}

/// A proxy in front of one service; stops when dropped.
struct Proxy {
    endpoint: String,
    task: JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Proxy {
    async fn start(service: Service, upstream: &str, faults: &Faults) -> Self {
        let upstream: SocketAddr = upstream.strip_prefix("http://").unwrap().parse().unwrap();
        let hop = Arc::new(Hop {
            service,
            upstream,
            faults: faults.clone(),
        });
        let app = Router::new().fallback(relay).with_state(hop);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { endpoint, task }
    }
}

async fn relay(State(hop): State<Arc<Hop>>, req: Request) -> Response {
    // In a task of its own: the connection (and this future) goes away when
    // the CLI is killed, and the request must still be seen through.
    tokio::spawn(handle(hop, req))
        .await
        .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
}

async fn handle(hop: Arc<Hop>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    // The whole request first: "before" means the service saw none of it.
    let body = axum::body::to_bytes(body, 64 << 20).await.unwrap();
    let action = {
        let mut plan = hop.faults.lock().unwrap();
        plan.seen += 1;
        let n = plan.seen;
        let name = match hop.service {
            Service::S3 => "S3",
            Service::ApiGateway => "API Gateway",
        };
        plan.log
            .push(format!("{name} {} {}", parts.method, parts.uri));
        match plan.fault {
            Some(Fault::Kill { at, when }) if at == n => {
                plan.fired = true;
                Action::Kill(when, plan.killer.clone())
            }
            Some(Fault::Fail { at, when }) if at == n => {
                plan.fired = true;
                Action::Fail(when)
            }
            _ => Action::Forward,
        }
    };
    match action {
        Action::Forward => forward(hop.upstream, parts, body).await,
        Action::Kill(When::Before, killer) => {
            kill_cli(killer).await;
            StatusCode::BAD_GATEWAY.into_response()
        }
        Action::Kill(When::After, killer) => {
            let answer = forward(hop.upstream, parts, body).await;
            kill_cli(killer).await;
            answer
        }
        Action::Fail(When::Before) => failure(hop.service),
        Action::Fail(When::After) => {
            let _lost = forward(hop.upstream, parts, body).await;
            failure(hop.service)
        }
    }
}

/// Asks the runner to SIGKILL the CLI and waits until it is dead.
async fn kill_cli(killer: Option<mpsc::UnboundedSender<KillRequest>>) {
    let (tx, rx) = oneshot::channel();
    killer.unwrap().send(tx).unwrap();
    rx.await.unwrap();
}

/// Sends the request on a new connection and reads the whole answer.
async fn forward(
    upstream: SocketAddr,
    mut parts: axum::http::request::Parts,
    body: Bytes,
) -> Response {
    let stream = tokio::net::TcpStream::connect(upstream).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    if parts.headers.remove(header::TRANSFER_ENCODING).is_some() {
        parts
            .headers
            .insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    }
    let answer = sender
        .send_request(Request::from_parts(parts, Body::from(body)))
        .await
        .unwrap();
    let (mut parts, body) = answer.into_parts();
    let bytes = axum::body::to_bytes(Body::new(body), usize::MAX)
        .await
        .unwrap();
    for hop_by_hop in [header::CONNECTION, header::TRANSFER_ENCODING] {
        parts.headers.remove(hop_by_hop);
    }
    parts.headers.remove("keep-alive");
    Response::from_parts(parts, Body::from(bytes))
}

/// A 500 as the service sends it.
fn failure(service: Service) -> Response {
    match service {
        Service::S3 => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [
                (header::CONTENT_TYPE.as_str(), "application/xml"),
                ("x-amz-request-id", "fault-injected"),
            ],
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message><RequestId>fault-injected</RequestId></Error>",
        )
            .into_response(),
        Service::ApiGateway => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [
                (header::CONTENT_TYPE.as_str(), "application/json"),
                ("x-amzn-errortype", "InternalFailure"),
                ("x-amzn-requestid", "fault-injected"),
            ],
            "{\"message\":\"Internal server error\"}",
        )
            .into_response(),
    }
}

// ---------------------------------------------------------------------------
// Running the CLI.

/// How a run ended.
#[derive(Debug)]
enum Ran {
    Exited {
        code: Option<i32>,
        stdout: String,
        stderr: String,
    },
    Killed,
}

impl Ran {
    /// The exit code, and stdout and stderr for messages.
    fn exited(&self) -> (Option<i32>, String) {
        match self {
            Self::Exited {
                code,
                stdout,
                stderr,
            } => (*code, format!("stdout: {stdout}\nstderr: {stderr}")),
            Self::Killed => panic!("the run was killed"),
        }
    }
}

/// The CLI's working directory and AWS endpoints (the proxies).
struct Cli {
    dir: PathBuf,
    env: Vec<(String, String)>,
    faults: Faults,
}

impl Cli {
    fn new(dir: &Path, faults: &Faults, s3: &Proxy, apigw: Option<&Proxy>) -> Self {
        let mut env = vec![
            ("AWS_ENDPOINT_URL_S3".to_owned(), s3.endpoint.clone()),
            ("S3_FORCE_PATH_STYLE".to_owned(), "true".to_owned()),
        ];
        if let Some(gw) = apigw {
            env.push((
                "AWS_ENDPOINT_URL_API_GATEWAY".to_owned(),
                gw.endpoint.clone(),
            ));
            env.push((
                "AWS_ENDPOINT_URL_APIGATEWAYV2".to_owned(),
                gw.endpoint.clone(),
            ));
        }
        Self {
            dir: dir.to_owned(),
            env,
            faults: faults.clone(),
        }
    }

    /// With the AWS SDK's own retries off, so that a failed request fails its
    /// step (as a longer outage would, once the retries are spent).
    fn without_sdk_retries(&mut self) {
        self.env
            .push(("AWS_MAX_ATTEMPTS".to_owned(), "1".to_owned()));
    }

    /// Runs `args` with `fault` armed, and returns how the run ended and the
    /// requests it made.
    async fn run(&self, fault: Option<Fault>, args: &[&str]) -> (Ran, Vec<String>) {
        let (killer, mut kills) = mpsc::unbounded_channel();
        *self.faults.lock().unwrap() = Plan {
            fault,
            killer: Some(killer),
            ..Plan::default()
        };
        let out = self.dir.join("run.out");
        let err = self.dir.join("run.err");
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let mut child = common::truststore_command(&self.dir, args, &env)
            .stdin(Stdio::null())
            .stdout(File::create(&out).unwrap())
            .stderr(File::create(&err).unwrap())
            .spawn()
            .unwrap();
        let started = Instant::now();
        let ran = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Ran::Exited {
                    code: status.code(),
                    stdout: std::fs::read_to_string(&out).unwrap(),
                    stderr: std::fs::read_to_string(&err).unwrap(),
                };
            }
            if started.elapsed() > RUN_LIMIT {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "truststore {args:?} ({fault:?}) ran past {RUN_LIMIT:?}; stderr: {}",
                    std::fs::read_to_string(&err).unwrap_or_default()
                );
            }
            tokio::select! {
                Some(done) = kills.recv() => {
                    // std's Child::kill is SIGKILL on unix.
                    child.kill().unwrap();
                    child.wait().unwrap();
                    let _ = done.send(());
                    break Ran::Killed;
                }
                () = tokio::time::sleep(Duration::from_millis(5)) => {}
            }
        };
        let mut plan = self.faults.lock().unwrap();
        plan.killer = None;
        if let Some(f) = fault {
            assert!(plan.fired, "{f:?} never struck: {:#?}", plan.log);
        }
        (ran, std::mem::take(&mut plan.log))
    }

    /// Runs `args` without faults; it must exit with `code`.
    async fn expect(&self, code: i32, args: &[&str]) -> (String, Vec<String>) {
        let (ran, log) = self.run(None, args).await;
        let (got, text) = ran.exited();
        assert_eq!(got, Some(code), "truststore {args:?}\n{text}");
        (text, log)
    }
}

// ---------------------------------------------------------------------------
// The world: one moto_server per test, one object key and API Gateway per case.

fn bundle(name: &str) -> String {
    let c = chain(2, name);
    pems(&[&c[1], &c[0]])
}

struct World {
    _moto: Moto,
    store: Store,
    s3: aws_sdk_s3::Client,
    faults: Faults,
    s3_proxy: Proxy,
    dir: tempfile::TempDir,
    old: String,
    new: String,
}

/// One case: its own truststore object and custom domain.
struct Case {
    key: String,
    uri: String,
    old: String,
    gw: FakeApiGateway,
    cli: Cli,
    _gw_proxy: Proxy,
}

impl World {
    async fn start() -> Self {
        let moto = Moto::start().await;
        let s3 = moto.s3().await;
        moto::create_bucket(&s3, BUCKET, Some(BucketVersioningStatus::Enabled)).await;
        let store = Store::with_path_style(&moto.sdk_config().await, true);
        let faults = Faults::default();
        let s3_proxy = Proxy::start(Service::S3, &moto.endpoint(), &faults).await;
        let dir = tempfile::tempdir().unwrap();
        let (old, new) = (bundle("Old"), bundle("New"));
        std::fs::write(dir.path().join("new.pem"), &new).unwrap();
        Self {
            _moto: moto,
            store,
            s3,
            faults,
            s3_proxy,
            dir,
            old,
            new,
        }
    }

    /// A case whose domain pins the old bundle's version of a fresh key.
    async fn case(&self, name: &str) -> Case {
        let key = format!("{name}/truststore.pem");
        let uri = format!("s3://{BUCKET}/{key}");
        let old = self
            .store
            .upload(BUCKET, &key, self.old.as_bytes())
            .await
            .unwrap()
            .version_id;
        let gw = FakeApiGateway::start(Gw::new(DOMAIN, &uri, Some(&old))).await;
        let gw_proxy = Proxy::start(Service::ApiGateway, &gw.endpoint, &self.faults).await;
        let cli = Cli::new(
            self.dir.path(),
            &self.faults,
            &self.s3_proxy,
            Some(&gw_proxy),
        );
        Case {
            key,
            uri,
            old,
            gw,
            cli,
            _gw_proxy: gw_proxy,
        }
    }

    /// The version the domain pins: it exists, and it is a valid bundle.
    /// Returns it with its content.
    async fn assert_valid_pin(&self, case: &Case, context: &str) -> (String, String) {
        let (uri, version) = case.gw.with(|g| (g.uri.clone(), g.version.clone()));
        assert_eq!(uri, case.uri, "{context}");
        let version = version.unwrap_or_else(|| panic!("no version pinned: {context}"));
        let bytes = self
            .store
            .get(BUCKET, &case.key, Some(&version))
            .await
            .unwrap_or_else(|e| panic!("pinned version {version} cannot be read ({e}): {context}"));
        let report = check_bundle(
            &format!("{uri}?versionId={version}"),
            &bytes,
            CheckOptions {
                now: common::now(),
                expiry_warning_days: 0,
            },
        );
        assert_eq!(report.errors(), 0, "{report:?}: {context}");
        (version, String::from_utf8(bytes).unwrap())
    }

    async fn version_count(&self, key: &str) -> usize {
        self.store.versions(BUCKET, key).await.unwrap().len()
    }
}

fn rotate_args(key: &str, api: &'static str) -> Vec<String> {
    let mut args: Vec<String> = [
        "rotate", "--domain", DOMAIN, "--api", api, "--bucket", BUCKET, "--key", key, "new.pem",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    args.extend(FAST.iter().map(|s| (*s).to_owned()));
    args
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// Each fault of `kind` at every request of a clean run of `count` requests.
fn every_point(count: usize, kind: fn(usize, When) -> Fault) -> Vec<Fault> {
    WHENS
        .iter()
        .flat_map(|&when| (1..=count).map(move |at| kind(at, when)))
        .collect()
}

/// With its retries off, a run whose request failed stops with an error
/// that says so; or, when the service made the change before the failure
/// (an update answered 500), it may find the change made and complete.
fn completed_or_failed_cleanly(when: When, code: Option<i32>, stderr: &str) -> bool {
    let failed = code == Some(1) && stderr.contains("error:");
    let completed = when == When::After && code == Some(0);
    (failed || completed) && !stderr.contains("panicked")
}

fn kill(at: usize, when: When) -> Fault {
    Fault::Kill { at, when }
}

fn fail(at: usize, when: When) -> Fault {
    Fault::Fail { at, when }
}

// ---------------------------------------------------------------------------
// rotate and rollback.

/// Measures a clean rotation of a fresh case and returns its request count.
async fn clean_rotation(w: &World, api: &'static str) -> usize {
    let case = w.case("clean").await;
    let args = rotate_args(&case.key, api);
    let (_, log) = case.cli.expect(0, &strs(&args)).await;
    let (_, content) = w.assert_valid_pin(&case, "clean run").await;
    assert_eq!(content, w.new);
    assert!(
        log.iter().any(|l| l.starts_with("S3 PUT")) && log.iter().any(|l| l.contains("PATCH")),
        "{log:#?}"
    );
    log.len()
}

/// Interrupts a rotation with `fault`, checks the domain, then rotates again
/// without faults: the domain ends on the new bundle, uploaded once.
async fn rotate_through(w: &World, i: usize, fault: Fault, api: &'static str, sdk_retries: bool) {
    let mut case = w.case(&format!("rotate-{i}")).await;
    let mut args = rotate_args(&case.key, api);
    if !sdk_retries {
        args.extend(["--max-attempts".to_owned(), "1".to_owned()]);
        case.cli.without_sdk_retries();
    }
    let cli = &case.cli;
    let (ran, log) = cli.run(Some(fault), &strs(&args)).await;
    let context = format!("{fault:?}: {ran:?}\nrequests: {log:#?}");
    match (fault, &ran) {
        (Fault::Kill { .. }, Ran::Killed) => {}
        (Fault::Fail { when, .. }, Ran::Exited { code, stderr, .. }) => {
            assert!(
                completed_or_failed_cleanly(when, *code, stderr),
                "{context}"
            );
        }
        _ => panic!("unexpected end: {context}"),
    }
    let (pinned, _) = w.assert_valid_pin(&case, &context).await;
    assert!(
        pinned == case.old || w.version_count(&case.key).await == 2,
        "{context}"
    );

    let again = rotate_args(&case.key, api);
    let (text, _) = cli.expect(0, &strs(&again)).await;
    let (pinned, content) = w.assert_valid_pin(&case, &context).await;
    assert_eq!(
        content, w.new,
        "the rerun pins the new bundle: {text}\n{context}"
    );
    assert_ne!(pinned, case.old);
    case.gw
        .with(|g| assert_eq!(g.status, "AVAILABLE", "{context}"));
    assert_eq!(
        w.version_count(&case.key).await,
        2,
        "the new bundle is uploaded once: {context}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_killed_before_or_after_any_request_leaves_a_valid_version_and_a_rerun_completes() {
    let w = World::start().await;
    let count = clean_rotation(&w, "rest").await;
    for (i, fault) in every_point(count, kill).into_iter().enumerate() {
        rotate_through(&w, i, fault, "rest", true).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_with_any_request_failing_leaves_a_valid_version_and_a_rerun_completes() {
    let w = World::start().await;
    let count = clean_rotation(&w, "http").await;
    for (i, fault) in every_point(count, fail).into_iter().enumerate() {
        rotate_through(&w, i, fault, "http", false).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_completes_through_its_retries_when_any_one_request_fails() {
    let w = World::start().await;
    let count = clean_rotation(&w, "rest").await;
    for (i, fault) in every_point(count, fail).into_iter().enumerate() {
        let case = w.case(&format!("retried-{i}")).await;
        let mut args = rotate_args(&case.key, "rest");
        args.extend(["--max-attempts".to_owned(), "3".to_owned()]);
        let (ran, log) = case.cli.run(Some(fault), &strs(&args)).await;
        let (code, text) = ran.exited();
        let context = format!("{fault:?}: {text}\nrequests: {log:#?}");
        // Among them: UpdateDomainName made, but answered 500. Its retry is
        // refused (the domain is updating), and the domain shows it was made.
        assert_eq!(code, Some(0), "{context}");
        let (_, content) = w.assert_valid_pin(&case, &context).await;
        assert_eq!(content, w.new, "{context}");
        case.gw
            .with(|g| assert_eq!(g.status, "AVAILABLE", "{context}"));
    }
}

/// A case whose domain pins a second, newer version: (case, that version).
async fn rolled_forward(w: &World, name: &str) -> (Case, String) {
    let case = w.case(name).await;
    let new = w
        .store
        .upload(BUCKET, &case.key, w.new.as_bytes())
        .await
        .unwrap()
        .version_id;
    case.gw.with(|g| g.version = Some(new.clone()));
    (case, new)
}

fn rollback_args(version: Option<&str>) -> Vec<String> {
    let mut args: Vec<String> = ["rollback", "--domain", DOMAIN]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    if let Some(v) = version {
        args.extend(["--version".to_owned(), v.to_owned()]);
    }
    args.extend(FAST.iter().map(|s| (*s).to_owned()));
    args
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_killed_or_failing_at_any_request_leaves_a_valid_version_and_a_rerun_completes() {
    let w = World::start().await;
    let (clean, _) = rolled_forward(&w, "rollback-clean").await;
    let (_, log) = clean.cli.expect(0, &strs(&rollback_args(None))).await;
    let (pinned, _) = w.assert_valid_pin(&clean, "clean run").await;
    assert_eq!(pinned, clean.old);
    let mut faults = every_point(log.len(), kill);
    faults.extend(every_point(log.len(), fail));
    for (i, fault) in faults.into_iter().enumerate() {
        let (mut case, new) = rolled_forward(&w, &format!("rollback-{i}")).await;
        if matches!(fault, Fault::Fail { .. }) {
            case.cli.without_sdk_retries();
        }
        let cli = &case.cli;
        let mut args = rollback_args(None);
        args.extend(["--max-attempts".to_owned(), "1".to_owned()]);
        let (ran, log) = cli.run(Some(fault), &strs(&args)).await;
        let context = format!("{fault:?}: {ran:?}\nrequests: {log:#?}");
        match (fault, &ran) {
            (Fault::Kill { .. }, Ran::Killed) => {}
            (Fault::Fail { when, .. }, Ran::Exited { code, stderr, .. })
                if completed_or_failed_cleanly(when, *code, stderr) => {}
            _ => panic!("unexpected end: {context}"),
        }
        let (pinned, _) = w.assert_valid_pin(&case, &context).await;
        assert!(pinned == case.old || pinned == new, "{context}");

        // Run again, naming the version: a plain `rollback` would step back
        // from wherever the interrupted one got to.
        let (text, _) = cli.expect(0, &strs(&rollback_args(Some(&case.old)))).await;
        let (pinned, _) = w.assert_valid_pin(&case, &context).await;
        assert_eq!(pinned, case.old, "{text}\n{context}");
        case.gw
            .with(|g| assert_eq!(g.status, "AVAILABLE", "{context}"));
    }
}

/// A case whose domain pins the old version while API Gateway warns about
/// the new one, already uploaded: (case, the new version).
async fn warned(w: &World, name: &str, warning: &str) -> (Case, String) {
    let (case, new) = rolled_forward(w, name).await;
    case.gw.with(|g| {
        g.version = Some(case.old.clone());
        g.warn_on.insert(new.clone(), vec![warning.to_owned()]);
    });
    (case, new)
}

fn rotate_version_args(case: &Case, version: &str) -> Vec<String> {
    let mut args: Vec<String> = [
        "rotate",
        "--domain",
        DOMAIN,
        "--bucket",
        BUCKET,
        "--key",
        &case.key,
        "--version",
        version,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    args.extend(FAST.iter().map(|s| (*s).to_owned()));
    args
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_killed_at_any_request_while_api_gateway_warns_never_reports_the_warned_version_as_done()
 {
    let w = World::start().await;
    let warning = "Certificate with subject O=Truststore Tests,CN=New 2 is not trusted";
    let (clean, new) = warned(&w, "warned-clean", warning).await;
    let (text, log) = clean
        .cli
        .expect(3, &strs(&rotate_version_args(&clean, &new)))
        .await;
    assert!(text.contains("rolled back"), "{text}");
    let (pinned, _) = w.assert_valid_pin(&clean, "clean run").await;
    assert_eq!(pinned, clean.old);

    for (i, fault) in every_point(log.len(), kill).into_iter().enumerate() {
        let (case, new) = warned(&w, &format!("warned-{i}"), warning).await;
        let args = rotate_version_args(&case, &new);
        let (ran, log) = case.cli.run(Some(fault), &strs(&args)).await;
        let context = format!("{fault:?}: {ran:?}\nrequests: {log:#?}");
        assert!(matches!(ran, Ran::Killed), "{context}");
        let (pinned, _) = w.assert_valid_pin(&case, &context).await;
        assert!(pinned == case.old || pinned == new, "{context}");

        // The rerun reports the warnings (exit 3) whatever the killed run
        // got to: it never calls the warned version done.
        let (text, _) = case.cli.expect(3, &strs(&args)).await;
        let (pinned, _) = w.assert_valid_pin(&case, &context).await;
        if pinned == new {
            assert!(
                text.contains(&format!("truststoreWarning: {warning}")),
                "{text}\n{context}"
            );
        }
    }
}

// ---------------------------------------------------------------------------
// deny add.

/// The entry the tests add, by fingerprint.
const ADDED: [u8; 32] = [0x5e; 32];

fn deny_args(key: &str) -> Vec<String> {
    [
        "deny",
        "add",
        "--fingerprint",
        &"5e".repeat(32),
        "--note",
        "lost badge",
        "--list",
        &format!("s3://{BUCKET}/{key}"),
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

/// The list before the add: one entry at sequence 7, or no object at all.
fn old_list(seeded: bool) -> Option<Document> {
    seeded.then(|| {
        let mut doc = Document::empty();
        doc.sequence = 7;
        doc.entries
            .push(Entry::new(Target::Fingerprint([0xaa; 32])));
        doc
    })
}

async fn object(w: &World, key: &str) -> Option<Vec<u8>> {
    match w.s3.get_object().bucket(BUCKET).key(key).send().await {
        Ok(o) => Some(o.body.collect().await.unwrap().into_bytes().to_vec()),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => None,
        Err(e) => panic!("{e:?}"),
    }
}

async fn seed(w: &World, key: &str, old: Option<&Document>) -> Option<Vec<u8>> {
    let bytes = old.map(|d| d.to_json().into_bytes());
    if let Some(b) = &bytes {
        w.s3.put_object()
            .bucket(BUCKET)
            .key(key)
            .content_type("application/json")
            .body(b.clone().into())
            .send()
            .await
            .unwrap();
    }
    bytes
}

/// The list is byte for byte the old one (or still absent), or exactly the
/// new one the tool writes: the old entries, the added one, sequence + 1.
/// Returns whether it is the new one.
fn assert_old_or_new(
    got: Option<&[u8]>,
    old: Option<&Document>,
    old_bytes: Option<&[u8]>,
    context: &str,
) -> bool {
    let Some(got) = got else {
        assert!(old.is_none(), "the list disappeared: {context}");
        return false;
    };
    if Some(got) == old_bytes {
        return false;
    }
    let doc = Document::from_json(got).unwrap_or_else(|e| {
        panic!(
            "neither list ({e}): {}\n{context}",
            String::from_utf8_lossy(got)
        )
    });
    assert_eq!(
        doc.to_json().as_bytes(),
        got,
        "not the tool's rendering: {context}"
    );
    let (sequence, entries) = old.map_or((0, &[][..]), |d| (d.sequence, d.entries.as_slice()));
    assert_eq!(doc.sequence, sequence + 1, "{context}");
    let (last, kept) = doc.entries.split_last().unwrap();
    assert_eq!(kept, entries, "{context}");
    assert_eq!(last.target, Target::Fingerprint(ADDED), "{context}");
    assert_eq!(last.note.as_deref(), Some("lost badge"), "{context}");
    true
}

/// After an interrupted add, the same add again: it succeeds, and the list
/// holds the entry once, written once.
async fn rerun_adds_once(w: &World, cli: &Cli, key: &str, old: Option<&Document>, context: &str) {
    let (text, _) = cli.expect(0, &strs(&deny_args(key))).await;
    let got = object(w, key).await;
    assert!(
        assert_old_or_new(got.as_deref(), old, None, context),
        "{text}\n{context}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deny_add_killed_before_or_after_any_request_leaves_the_old_or_the_new_list() {
    let w = World::start().await;
    let cli = Cli::new(w.dir.path(), &w.faults, &w.s3_proxy, None);
    for seeded in [true, false] {
        let old = old_list(seeded);
        let key = format!("deny-clean-{seeded}/deny.json");
        let old_bytes = seed(&w, &key, old.as_ref()).await;
        let (_, log) = cli.expect(0, &strs(&deny_args(&key))).await;
        let got = object(&w, &key).await;
        assert!(assert_old_or_new(
            got.as_deref(),
            old.as_ref(),
            old_bytes.as_deref(),
            "clean"
        ));
        for (i, fault) in every_point(log.len(), kill).into_iter().enumerate() {
            let key = format!("deny-kill-{seeded}-{i}/deny.json");
            let old_bytes = seed(&w, &key, old.as_ref()).await;
            let (ran, log) = cli.run(Some(fault), &strs(&deny_args(&key))).await;
            let context = format!("{fault:?}, list seeded: {seeded}: {ran:?}\nrequests: {log:#?}");
            assert!(matches!(ran, Ran::Killed), "{context}");
            let got = object(&w, &key).await;
            let is_new =
                assert_old_or_new(got.as_deref(), old.as_ref(), old_bytes.as_deref(), &context);
            // Killed before the write reached S3: the old list; after: the new.
            let at_put = log.last().is_some_and(|l| l.starts_with("S3 PUT"));
            let wrote = at_put
                && matches!(
                    fault,
                    Fault::Kill {
                        when: When::After,
                        ..
                    }
                );
            assert_eq!(is_new, wrote, "{context}");
            rerun_adds_once(&w, &cli, &key, old.as_ref(), &context).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deny_add_with_any_request_failing_writes_the_new_list_at_most_once() {
    let w = World::start().await;
    let count = {
        let cli = Cli::new(w.dir.path(), &w.faults, &w.s3_proxy, None);
        let key = "deny-fail-clean/deny.json";
        let (_, log) = cli.expect(0, &strs(&deny_args(key))).await;
        log.len()
    };
    for sdk_retries in [false, true] {
        for seeded in [true, false] {
            let old = old_list(seeded);
            for (i, fault) in every_point(count, fail).into_iter().enumerate() {
                let mut cli = Cli::new(w.dir.path(), &w.faults, &w.s3_proxy, None);
                if !sdk_retries {
                    cli.without_sdk_retries();
                }
                let key = format!("deny-fail-{sdk_retries}-{seeded}-{i}/deny.json");
                let old_bytes = seed(&w, &key, old.as_ref()).await;
                let (ran, log) = cli.run(Some(fault), &strs(&deny_args(&key))).await;
                let context = format!(
                    "{fault:?}, SDK retries: {sdk_retries}, list seeded: {seeded}: {ran:?}\nrequests: {log:#?}"
                );
                let (code, text) = ran.exited();
                let got = object(&w, &key).await;
                let is_new =
                    assert_old_or_new(got.as_deref(), old.as_ref(), old_bytes.as_deref(), &context);
                if sdk_retries {
                    // The SDK retries the failed request; a write whose answer
                    // was lost is found on the next read, not made twice.
                    assert_eq!(code, Some(0), "{text}\n{context}");
                    assert!(is_new, "{context}");
                } else {
                    assert_eq!(code, Some(1), "{text}\n{context}");
                }
                rerun_adds_once(&w, &cli, &key, old.as_ref(), &context).await;
            }
        }
    }
}
