//! `soak`: the real `authorizer` and `api-handler` binaries behind the local
//! gateway for `--seconds`, with client workers of every kind, Lambda's
//! lifecycle (frozen between invocations, recycled at random, several
//! instances), and a seeded fault schedule on every source. An oracle judges
//! every answer; the report is printed and written as JSON. Loopback only; it
//! stops by itself. See docs/soak.md.

#![expect(
    clippy::indexing_slicing,
    reason = "serde_json::Value indexed by a key reads Null when it is absent, never panics; \
              the only writes are into the event template the soak built as an object"
)]

mod clients;
mod faults;
mod oracle;
mod report;
mod schedule;
mod world;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use clap::Parser;
use gateway::apigw::{Api, Flavor};
use gateway::server::{Backend, Gateway};
use mtls_lambda_host::{Function, Lifecycle};
use mtls_tests::moto::Moto;

use crate::clients::{Answer, Client, since};
use crate::faults::{AwsProxy, CrlServer, Faults};
use crate::oracle::{Kind, Request, Timeline};
use crate::schedule::{BUCKET, Controller, DEVICES_CRL, REVOKED_CA_CRL};
use crate::world::{Device, TIMING, World};

#[derive(Debug, Parser)]
#[command(
    name = "soak",
    about = "Traffic under faults against the real binaries (make soak)"
)]
struct Args {
    /// How long to send traffic.
    #[arg(long, env = "SOAK_SECONDS", default_value_t = 600)]
    seconds: u64,
    /// The schedule's seed [default: from the clock, printed]; the same seed
    /// replays the same faults, devices and choices.
    #[arg(long, env = "SOAK_SEED")]
    seed: Option<u64>,
    /// Where the built `authorizer` and `api-handler` are.
    #[arg(long, default_value = "target/debug")]
    bin_dir: PathBuf,
    /// Where the report (report.json) and the functions' log go.
    #[arg(long, default_value = "target/soak")]
    out: PathBuf,
    /// Processes per function.
    #[arg(long, default_value_t = 4)]
    instances: usize,
    /// Fail unless every fault kind was injected at least this often.
    #[arg(long, default_value_t = 0)]
    min_injections: u64,
}

/// What every worker shares.
struct Run {
    start: Instant,
    deadline: Instant,
    stop: Arc<AtomicBool>,
    requests: Mutex<Vec<Request>>,
    addr: std::net::SocketAddr,
    server_ca: Vec<u8>,
    world: Arc<World>,
    gateway: Arc<Gateway>,
    /// Acknowledged readings: the temperature in thousandths, unique per reading.
    acknowledged: Mutex<Vec<i64>>,
    readback_misses: AtomicU64,
}

impl Run {
    fn live(&self) -> bool {
        !self.stop.load(Ordering::SeqCst) && Instant::now() < self.deadline
    }

    fn record(&self, r: Request) {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(r);
    }
}

fn pause(rng: &mut fastrand::Rng) -> Duration {
    Duration::from_millis(rng.u64(10..40))
}

/// Finds `thousandths` among the `temperature` fields of a GET /temps answer.
fn lists(body: &str, thousandths: i64) -> bool {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    v["readings"].as_array().is_some_and(|rs| {
        rs.iter()
            .filter_map(|r| r["temperature"].as_f64())
            .any(|t| (t * 1000.0).round() as i64 == thousandths)
    })
}

/// The good device: writes a reading, reads the latest back, and asks who it is.
async fn good_worker(run: Arc<Run>, seed: u64) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let Ok(mut client) = Client::new(run.addr, &run.server_ca, &run.world.good) else {
        return;
    };
    let mut n: i64 = 0;
    while run.live() {
        n += 1;
        // Unique per reading: -50.000 up, in thousandths.
        let thousandths = -50_000 + n;
        let time = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let body = serde_json::json!({"temperature": thousandths as f64 / 1000.0, "time": time});
        let body = body.to_string();
        let start = since(run.start);
        let (answer, request_id) = client.send("POST", "/temps", Some(body.as_bytes())).await;
        let stored = matches!(
            answer,
            Answer::Allowed {
                status: 200 | 201,
                ..
            }
        );
        if stored {
            run.acknowledged
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(thousandths);
        }
        run.record(Request {
            kind: Kind::Good,
            subject: run.world.good.name.clone(),
            late: None,
            method: "POST",
            path: "/temps",
            start,
            end: since(run.start),
            answer,
            request_id,
        });
        tokio::time::sleep(pause(&mut rng)).await;
        let (path, start) = if stored || rng.bool() {
            ("/temps", since(run.start))
        } else {
            ("/whoami", since(run.start))
        };
        let (answer, request_id) = client.send("GET", path, None).await;
        if stored
            && let Answer::Allowed { status: 200, body } = &answer
            && !lists(body, thousandths)
        {
            run.readback_misses.fetch_add(1, Ordering::SeqCst);
        }
        run.record(Request {
            kind: Kind::Good,
            subject: run.world.good.name.clone(),
            late: None,
            method: "GET",
            path,
            start,
            end: since(run.start),
            answer,
            request_id,
        });
        tokio::time::sleep(pause(&mut rng)).await;
    }
}

/// A device asking who it is, on a kept connection (a new one each time for
/// the untrusted device, whose handshakes fail).
async fn device_worker(run: Arc<Run>, kind: Kind, device: Device, seed: u64) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let fresh_each_time = kind == Kind::Untrusted;
    let mut client = None;
    while run.live() {
        if client.is_none() || fresh_each_time {
            client = Client::new(run.addr, &run.server_ca, &device)
                .ok()
                .map(|c| {
                    if fresh_each_time {
                        c.refused_within(Duration::from_secs(12))
                    } else {
                        c
                    }
                });
        }
        let Some(c) = client.as_mut() else { return };
        let start = since(run.start);
        let (answer, request_id) = c.send("GET", "/whoami", None).await;
        run.record(Request {
            kind,
            subject: device.name.clone(),
            late: None,
            method: "GET",
            path: "/whoami",
            start,
            end: since(run.start),
            answer,
            request_id,
        });
        tokio::time::sleep(pause(&mut rng)).await;
    }
}

/// The late pool: a device already revoked, being revoked, or not yet, each
/// on a new connection (a device that reconnects).
async fn late_worker(run: Arc<Run>, seed: u64) {
    let mut rng = fastrand::Rng::with_seed(seed);
    while run.live() {
        let revoked = run
            .world
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .late_revoked;
        // Mostly the newest revocations, where the windows are.
        let upper = (revoked + 2).min(run.world.late.len());
        let lower = if rng.bool() {
            revoked.saturating_sub(3)
        } else {
            0
        };
        let i = rng.usize(lower..upper.max(lower + 1));
        let Some(device) = run.world.late.get(i) else {
            return;
        };
        let Ok(mut c) = Client::new(run.addr, &run.server_ca, device) else {
            return;
        };
        let start = since(run.start);
        let (answer, request_id) = c.send("GET", "/whoami", None).await;
        run.record(Request {
            kind: Kind::Late,
            subject: device.name.clone(),
            late: Some(i),
            method: "GET",
            path: "/whoami",
            start,
            end: since(run.start),
            answer,
            request_id,
        });
        tokio::time::sleep(pause(&mut rng)).await;
    }
}

/// Garbage and malformed events, straight to the authorizer's instances: what
/// a misconfigured or compromised front could send.
async fn garbage_worker(run: Arc<Run>, template: serde_json::Value, seed: u64) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let world = &run.world;
    let impostor = world.impostor.leaf(&world.good.serial).pem();
    let method_arn = template["methodArn"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let good_pem = template["requestContext"]["identity"]["clientCert"]["clientCertPem"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    while run.live() {
        let mut event = template.clone();
        let variant = rng.usize(0..9);
        let (name, pem): (&str, Option<serde_json::Value>) = match variant {
            0 => (
                "random_bytes_pem",
                Some(
                    String::from_utf8_lossy(&(0..600).map(|_| rng.u8(..)).collect::<Vec<_>>())
                        .into_owned()
                        .into(),
                ),
            ),
            1 => (
                "truncated_pem",
                Some(
                    good_pem
                        .get(..good_pem.len() / 2)
                        .unwrap_or_default()
                        .into(),
                ),
            ),
            2 => ("impostor_signed_same_name", Some(impostor.clone().into())),
            3 => ("empty_pem", Some("".into())),
            4 => ("huge_pem", Some("A".repeat(300_000).into())),
            5 => (
                "pem_not_a_string",
                Some(serde_json::json!({"a": [1, 2, 3]})),
            ),
            6 => ("no_client_cert", None),
            7 => {
                event = serde_json::json!([1, "two", {"three": null}]);
                ("not_an_event", None)
            }
            _ => {
                // A real certificate with one byte flipped in its signature.
                let mut der = mtls_x509::pem::find(good_pem.as_bytes(), "CERTIFICATE")
                    .ok()
                    .flatten()
                    .unwrap_or_default();
                if let Some(last) = der.last_mut() {
                    *last ^= 0x01;
                }
                (
                    "flipped_signature",
                    Some(mtls_x509::pem::encode("CERTIFICATE", &der).into()),
                )
            }
        };
        if variant != 7 {
            let identity = &mut event["requestContext"]["identity"];
            match pem {
                Some(p) => identity["clientCert"]["clientCertPem"] = p,
                None => identity["clientCert"] = serde_json::Value::Null,
            }
        }
        let start = since(run.start);
        let answer = match run
            .gateway
            .authorizer
            .invoke(event, Duration::from_secs(10))
            .await
        {
            // Read as API Gateway reads it (the policy against the method ARN).
            Ok(v) => match Flavor::Rest.evaluate(&v, &method_arn) {
                gateway::apigw::Verdict::Allow { .. } => Answer::Allowed {
                    status: 200,
                    body: v.to_string(),
                },
                gateway::apigw::Verdict::Deny { reason } => Answer::Denied {
                    reason: reason.unwrap_or_else(|| "none".to_owned()),
                },
                gateway::apigw::Verdict::Invalid(why) => Answer::Gateway {
                    status: 500,
                    body: why,
                },
            },
            Err(e) => Answer::Gateway {
                status: 500,
                body: e.chars().take(200).collect(),
            },
        };
        run.record(Request {
            kind: Kind::Garbage,
            subject: name.to_owned(),
            late: None,
            method: "INVOKE",
            path: "-",
            start,
            end: since(run.start),
            answer,
            request_id: None,
        });
        tokio::time::sleep(pause(&mut rng)).await;
    }
}

async fn create_table(moto: &Moto) -> Result<(), String> {
    use api_handler::store::dynamo;
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    let client = aws_sdk_dynamodb::Client::new(&moto.sdk_config().await);
    let attr = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(|e| e.to_string())
    };
    let key = |name: &str, kind| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .map_err(|e| e.to_string())
    };
    client
        .create_table()
        .table_name("readings")
        .attribute_definitions(attr(dynamo::PARTITION_KEY)?)
        .attribute_definitions(attr(dynamo::SORT_KEY)?)
        .key_schema(key(dynamo::PARTITION_KEY, KeyType::Hash)?)
        .key_schema(key(dynamo::SORT_KEY, KeyType::Range)?)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .map_err(|e| format!("create table: {e:?}"))?;
    Ok(())
}

/// Every stored reading's temperature, in thousandths, read from the table
/// itself (not through the proxy or the API).
async fn stored_readings(moto: &Moto) -> Result<Vec<i64>, String> {
    let client = aws_sdk_dynamodb::Client::new(&moto.sdk_config().await);
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name("readings")
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| format!("scan: {e:?}"))?;
        for item in page.items() {
            if let Some(aws_sdk_dynamodb::types::AttributeValue::N(n)) = item.get("temperature")
                && let Ok(t) = n.parse::<f64>()
            {
                out.push((t * 1000.0).round() as i64);
            }
        }
        match page.last_evaluated_key() {
            Some(k) if !k.is_empty() => start = Some(k.clone()),
            _ => return Ok(out),
        }
    }
}

async fn soak(args: Args, seed: u64) -> Result<report::Report, String> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let late =
        usize::try_from(args.seconds).unwrap_or(usize::MAX) / (TIMING.revoke_every as usize) + 8;
    let world = Arc::new(World::new(late));
    let moto = Moto::start().await;
    let s3 = moto.s3().await;
    mtls_tests::moto::create_bucket(
        &s3,
        BUCKET,
        Some(aws_sdk_s3::types::BucketVersioningStatus::Enabled),
    )
    .await;
    create_table(&moto).await?;
    let faults = Faults::default();
    let crl = Arc::new(
        CrlServer::start(faults.clone())
            .await
            .map_err(|e| e.to_string())?,
    );
    let upstream: std::net::SocketAddr = moto
        .endpoint()
        .trim_start_matches("http://")
        .parse()
        .map_err(|e| format!("moto address: {e}"))?;
    let proxy = AwsProxy::start(upstream, faults.clone())
        .await
        .map_err(|e| e.to_string())?;

    let config = world.config(&crl.url(DEVICES_CRL), &crl.url(REVOKED_CA_CRL));
    let aws_env = |endpoint_var: &str| -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = moto
            .function_env()
            .pairs()
            .into_iter()
            .filter(|(k, _)| *k != "AWS_ENDPOINT_URL_S3")
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        env.push((endpoint_var.to_owned(), proxy.endpoint()));
        env.push(("RUST_LOG".to_owned(), "info".to_owned()));
        env
    };
    let mut authorizer_env = aws_env("AWS_ENDPOINT_URL_S3");
    authorizer_env.push(("AUTHORIZER_CONFIG".to_owned(), config.to_string()));
    let mut handler_env = aws_env("AWS_ENDPOINT_URL_DYNAMODB");
    handler_env.push(("TEMPS_TABLE".to_owned(), "readings".to_owned()));

    let start = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let timeline = Arc::new(Timeline::default());
    std::fs::create_dir_all(&args.out).map_err(|e| e.to_string())?;
    let truststore_path = args.out.join("truststore.pem");
    std::fs::write(&truststore_path, world.truststore()).map_err(|e| e.to_string())?;

    // The sources first: the functions load them at cold start.
    let controller = Arc::new(Controller {
        world: world.clone(),
        timeline: timeline.clone(),
        faults: faults.clone(),
        crl: crl.clone(),
        s3: s3.clone(),
        gateway: std::sync::OnceLock::new(),
        start,
        start_unix: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or_default()
            - start.elapsed().as_secs_f64(),
        stop: stop.clone(),
        deny_writes: tokio::sync::Mutex::new(()),
        short_episodes: args.seconds <= 120,
        resume_publishing: Mutex::new(Instant::now()),
    });
    controller.initial().await?;

    let authorizer = Function::start_with(
        "authorizer",
        args.bin_dir.join("authorizer"),
        authorizer_env,
        args.instances,
        Lifecycle::Freeze,
    )
    .await
    .map_err(|e| e.to_string())?;
    let handler = Function::start_with(
        "api-handler",
        args.bin_dir.join("api-handler"),
        handler_env,
        args.instances.div_ceil(2).max(2),
        Lifecycle::Freeze,
    )
    .await
    .map_err(|e| e.to_string())?;
    for (name, f) in [("authorizer", &authorizer), ("api-handler", &handler)] {
        if !f.ready(Duration::from_secs(60)).await {
            return Err(format!(
                "{name} did not start within 60 s: {}",
                f.init_error().unwrap_or_default()
            ));
        }
    }
    let gateway = Arc::new(
        Gateway::new(api(), authorizer, Backend::Lambda(handler), None).with_summary_every(0),
    );
    let identity = Arc::new(
        gateway::tls::server_identity(&args.out.join("gateway")).map_err(|e| e.to_string())?,
    );
    let server_ca = std::fs::read(&identity.ca_path).map_err(|e| e.to_string())?;
    let tls = gateway::tls::watch(identity, truststore_path, Duration::from_secs(1))
        .map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let server = tokio::spawn(gateway::server::serve(listener, tls, gateway.clone()));

    let _ = controller.gateway.set(gateway.clone());
    let traffic_start = Instant::now();
    let run = Arc::new(Run {
        start,
        deadline: traffic_start + Duration::from_secs(args.seconds),
        stop: stop.clone(),
        requests: Mutex::new(Vec::new()),
        addr,
        server_ca,
        world: world.clone(),
        gateway: gateway.clone(),
        acknowledged: Mutex::new(Vec::new()),
        readback_misses: AtomicU64::new(0),
    });
    let template = {
        let der = mtls_x509::pem::find(world.good.chain_pem.as_bytes(), "CERTIFICATE")
            .ok()
            .flatten()
            .unwrap_or_default();
        let cert = gateway::apigw::client_cert(&der)?;
        let request = gateway::apigw::Request {
            method: "GET".into(),
            path: "/whoami".into(),
            query: String::new(),
            headers: vec![("Host".to_owned(), "localhost".to_owned())],
            body: Vec::new(),
            source_ip: "127.0.0.1".to_owned(),
            request_id: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef".to_owned(),
            time: time::OffsetDateTime::now_utc(),
        };
        gateway::apigw::authorizer_event(&api(), &request, "/whoami", &cert)
    };

    let mut tasks = vec![
        tokio::spawn(controller.clone().publisher()),
        tokio::spawn(controller.clone().revoker()),
        tokio::spawn(controller.clone().crl_lane(seed ^ 0x01)),
        tokio::spawn(controller.clone().s3_lane(seed ^ 0x02)),
        tokio::spawn(controller.clone().dynamodb_lane(seed ^ 0x03)),
        tokio::spawn(controller.clone().lifecycle_lane(seed ^ 0x04)),
    ];
    let sampler = tokio::spawn(report::sample(gateway.clone(), start, stop.clone()));
    let mut workers = vec![
        (
            "readings",
            tokio::spawn(good_worker(run.clone(), seed ^ 0x10)),
        ),
        (
            "late#1",
            tokio::spawn(late_worker(run.clone(), seed ^ 0x11)),
        ),
        (
            "late#2",
            tokio::spawn(late_worker(run.clone(), seed ^ 0x12)),
        ),
        (
            "garbage",
            tokio::spawn(garbage_worker(run.clone(), template, seed ^ 0x13)),
        ),
    ];
    for (i, (kind, device)) in [
        (Kind::Good, &world.good),
        (Kind::CrlRevoked, &world.crl_revoked),
        (Kind::DenyListed, &world.deny_listed),
        (Kind::CaRevoked, &world.ca_revoked),
        (Kind::WrongIssuer, &world.wrong_issuer),
        (Kind::Untrusted, &world.untrusted),
    ]
    .into_iter()
    .enumerate()
    {
        workers.push((
            kind.as_str(),
            tokio::spawn(device_worker(
                run.clone(),
                kind,
                device.clone(),
                seed ^ (0x20 + i as u64),
            )),
        ));
    }
    let progress = {
        let run = run.clone();
        tokio::spawn(async move {
            let every = Duration::from_secs(if args.seconds > 300 { 60 } else { 15 });
            while run.live() {
                tokio::time::sleep(every).await;
                let n = run
                    .requests
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .len();
                println!(
                    "soak: {:>5.0} s, {n} requests",
                    run.start.elapsed().as_secs_f64()
                );
            }
        })
    };
    // Every request is bounded (35 s), so the workers end soon after the deadline.
    tokio::time::sleep_until(run.deadline.into()).await;
    for (name, w) in workers {
        let abort = w.abort_handle();
        if tokio::time::timeout(Duration::from_secs(60), w)
            .await
            .is_err()
        {
            println!("soak: the {name} client did not stop 60 s after the deadline");
            abort.abort();
        }
    }
    stop.store(true, Ordering::SeqCst);
    progress.abort();
    // A lane ends at its next check; none holds a fault longer than 15 s.
    let lanes = futures_util::future::join_all(tasks.drain(..));
    if tokio::time::timeout(Duration::from_secs(30), lanes)
        .await
        .is_err()
    {
        println!("soak: a fault lane did not stop within 30 s");
    }
    // The readings are read from moto directly; nothing else is asked any more.
    faults.clear("dynamodb");
    let samples = sampler.await.unwrap_or_default();
    let stored = stored_readings(&moto).await?;
    server.abort();
    let lifecycle = [
        ("authorizer", gateway.authorizer.counts()),
        (
            "api-handler",
            match &gateway.backend {
                Backend::Lambda(h) => h.counts(),
                Backend::Http(_) => mtls_lambda_host::LifecycleCounts::default(),
            },
        ),
    ];
    let (crl_bodies, crl_304) = crl.counts();
    let mut events = timeline.snapshot();
    let at = |i: Instant| i.saturating_duration_since(start).as_secs_f64();
    events.starts = gateway
        .authorizer
        .starts()
        .into_iter()
        .filter_map(|s| Some((s.label, at(s.spawned), at(s.ready?))))
        .collect();
    let requests =
        std::mem::take(&mut *run.requests.lock().unwrap_or_else(PoisonError::into_inner));
    let acknowledged = std::mem::take(
        &mut *run
            .acknowledged
            .lock()
            .unwrap_or_else(PoisonError::into_inner),
    );
    Ok(report::Report::build(report::Inputs {
        seed,
        seconds: args.seconds,
        elapsed: traffic_start.elapsed().as_secs_f64(),
        requests,
        events,
        acknowledged,
        stored,
        readback_misses: run.readback_misses.load(Ordering::SeqCst),
        samples,
        lifecycle,
        crl_bodies,
        crl_304,
        log: args.out.join("functions.log"),
        world: world.clone(),
        start_unix: controller.start_unix,
    }))
}

fn api() -> Api {
    Api {
        region: "us-east-1".into(),
        account_id: "123456789012".into(),
        api_id: "soak".into(),
        stage: "soak".into(),
        domain_name: "localhost".into(),
        routes: [
            (
                "/temps".to_owned(),
                vec!["GET".to_owned(), "POST".to_owned()],
            ),
            ("/whoami".to_owned(), vec!["GET".to_owned()]),
        ]
        .into_iter()
        .collect(),
        flavor: Flavor::Rest,
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    });
    println!(
        "soak: seed {seed}, {} s, binaries in {} (replay: SOAK_SEED={seed} SOAK_SECONDS={} make soak)",
        args.seconds,
        args.bin_dir.display(),
        args.seconds
    );
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        eprintln!("soak: {}: {e}", args.out.display());
        return ExitCode::FAILURE;
    }
    // The functions' output (every decision line) goes to a file, not the terminal.
    let log = args.out.join("functions.log");
    match std::fs::File::create(&log) {
        Ok(f) => {
            if let Err(e) = rustix::stdio::dup2_stderr(&f) {
                eprintln!("soak: cannot redirect the functions' output: {e}");
            }
        }
        Err(e) => eprintln!("soak: {}: {e}", log.display()),
    }
    let min_injections = args.min_injections;
    let out = args.out.clone();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            println!("soak: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(soak(args, seed)) {
        Ok(report) => {
            let passed = report.print(min_injections);
            let path = out.join("report.json");
            match std::fs::write(&path, report.json(min_injections).to_string()) {
                Ok(()) => println!("soak: report written to {}", path.display()),
                Err(e) => println!("soak: {}: {e}", path.display()),
            }
            if passed {
                ExitCode::SUCCESS
            } else {
                println!("soak: FAILED (seed {seed})");
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            println!("soak: could not run: {e}");
            ExitCode::FAILURE
        }
    }
}
