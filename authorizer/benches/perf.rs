//! The performance table of docs/performance.md, measured on CRLs generated here with
//! real signatures and reason-code entry extensions (never committed).
//!
//! Run: `make bench` (or `cargo bench -p authorizer --bench perf`).
//! Environment: `BENCH_SIZES` (default `0,1000,100000,1000000`),
//! `BENCH_ITERS` (decision samples, default 20000), `BENCH_COLD_RUNS`
//! (cold starts, default 20).
//!
//! In-process figures use the library as the binary does. Memory and cold
//! start are read off the built `authorizer` binary itself, run through a
//! Lambda Runtime API on loopback: peak RSS (`VmHWM`) and RSS (`VmRSS`) of
//! that process once it is ready for its first event.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::print_stdout,
    reason = "a benchmark that cannot set up panics"
)]

#[expect(dead_code, reason = "a benchmark uses part of the tests' fixtures")]
#[path = "../tests/it/common.rs"]
mod common;

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use authorizer::lambda::{Authorizer, HttpApiResponse};
use mtls_policy::config::Config;
use mtls_policy::decision::{Engine, RuleIssuer};
use mtls_policy::metrics::{DecisionRecord, Namespace, RequestIds};
use mtls_tests::events;
use mtls_tests::measure::{env_or, percentile};
use mtls_tests::pki::{self, Ca, random_serials};
use mtls_tests::runtime_api::RuntimeApi;
use mtls_x509::crl::{CrlTimePolicy, VerifiedCrl};
use mtls_x509::time::{ManualClock, UnixTime};
use mtls_x509::truststore::TrustStore;
use serde_json::{Value, json};

const READY_TIMEOUT: Duration = Duration::from_secs(120);

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Median and p99 of `iters` timed calls, after a warm-up.
fn sample(iters: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    for _ in 0..iters / 10 + 1 {
        f();
    }
    let mut times: Vec<Duration> = (0..iters)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.99))
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// `VmHWM` and `VmRSS` of a process, in MiB.
fn rss_mib(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| -> f64 {
        let line = status.lines().find(|l| l.starts_with(name)).unwrap();
        let kib: f64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        kib / 1024.0
    };
    (field("VmHWM:"), field("VmRSS:"))
}

struct BinaryRun {
    ready: Duration,
    peak_mib: f64,
    rss_mib: f64,
}

/// Starts the built binary with `config`, waits until it polls for its first
/// event, reads its memory, and checks that it answers `event` with `effect`.
async fn run_binary(config: &Value, event: Option<(Value, &str)>) -> BinaryRun {
    let api = RuntimeApi::start().await;
    let config = config.to_string();
    let started = Instant::now();
    let child = api.spawn(
        Path::new(env!("CARGO_BIN_EXE_authorizer")),
        &[("AUTHORIZER_CONFIG", &config), ("RUST_LOG", "warn")],
    );
    let ready = api
        .ready(READY_TIMEOUT)
        .await
        .expect("the binary never became ready")
        - started;
    let pid = child.id().unwrap();
    if let Some((event, effect)) = event {
        let resp = api.invoke(event, Duration::from_secs(30)).await.unwrap();
        assert_eq!(resp["policyDocument"]["Statement"][0]["Effect"], effect);
    }
    let (peak_mib, rss_mib) = rss_mib(pid);
    drop(child);
    BinaryRun {
        ready,
        peak_mib,
        rss_mib,
    }
}

fn main() {
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| "0,1000,100000,1000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let iters: usize = env_or("BENCH_ITERS", 20_000);
    let cold_runs: usize = env_or("BENCH_COLD_RUNS", 20);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    let ca = Ca::new("Temperature Testers, Inc.", "Devices CA");
    let ts = TrustStore::from_pem(ca.pem().as_bytes()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let truststore_uri = format!("file://{}/truststore.pem", dir.path().display());
    let crl_uri = format!("file://{}/devices.crl", dir.path().display());
    std::fs::write(dir.path().join("truststore.pem"), ca.pem()).unwrap();
    let with_crl = json!({
        "truststore": truststore_uri,
        "issuers": [{"name": "devices", "match": {"CN": "Devices CA"}, "crl": crl_uri}],
    });
    let without_crl = json!({
        "truststore": truststore_uri,
        "issuers": [{"name": "devices", "match": {"CN": "Devices CA"}, "revocation": "none"}],
    });
    let config = Config::from_json(&with_crl.to_string()).unwrap();
    let now = UnixTime(pki::unix(pki::now()));
    let policy = CrlTimePolicy {
        clock_skew_seconds: 60,
        grace_seconds: 3600,
    };
    let rule = RuleIssuer(&config.issuers()[0]);

    // Cold start without any CRL: process start to the first poll for an event.
    let mut cold = Vec::new();
    let mut cold_rss = 0.0;
    for _ in 0..cold_runs {
        let run = rt.block_on(run_binary(&without_crl, None));
        cold.push(run.ready);
        cold_rss = run.rss_mib;
    }
    let cold_median = median(cold.clone());
    cold.sort();
    println!(
        "cold start (no CRL fetch, {cold_runs} runs): median {}, min {}, max {}; RSS {cold_rss:.1} MiB\n",
        ms(cold_median),
        ms(cold[0]),
        ms(cold[cold.len() - 1]),
    );

    // The decision line, which is also the metric record: what every
    // request adds to the log, built as the handler builds it.
    let ids = RequestIds {
        lambda_request_id: Some("8f5e0e6c-0b9e-4a43-9d4e-2f0a3b1c9d77".into()),
        api_request_id: Some("c6af9ac6-7b61-11e6-9a41-93e8deadbeef".into()),
        api_extended_request_id: Some("RZ3hNEQ0IAMF1iw=".into()),
        trace_id: Some(
            "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1".into(),
        ),
    };
    let namespace = Namespace::default();
    let (line_median, _) = sample(iters, || {
        let record = DecisionRecord {
            time: now,
            issuer: Some("devices"),
            allowed: true,
            reason: None,
            latency_ms: 0.0123,
            serial: "805a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a11",
            subject: "O=Temperature Testers,CN=device-1",
            fingerprint: "24809030cc364d2a4c29b0d7d8ef0bb37a29d46b20050eaee355f24ce22d27b7",
            crl_age_seconds: Some(70),
            refresh_wait_ms: None,
            detail: None,
            ids: black_box(&ids),
            ocsp: None,
        };
        black_box(record.to_line(&namespace));
    });
    println!(
        "decision line (EMF, built and serialized): median {}\n",
        us(line_median)
    );

    println!(
        "| CRL entries | CRL DER | load: parse + verify + index (median) | index memory | decide() median | decide() p99 | decide(), first request of a client, median | handle(REST event) median | binary ready (cold start + CRL load) | binary peak RSS | binary RSS when ready |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for n in sizes {
        let serials = random_serials(n, 0x5eed ^ n as u64);
        // A client whose serial is not listed: the full path, every check run.
        let allowed = random_serials(1, 1)[0].clone();
        assert!(!serials.contains(&allowed));
        let der = ca.crl().revoke_all(serials).der();
        std::fs::write(dir.path().join("devices.crl"), &der).unwrap();

        let load_runs = if n >= 1_000_000 { 7 } else { 21 };
        let mut loads = Vec::new();
        for _ in 0..load_runs {
            let t = Instant::now();
            black_box(VerifiedCrl::verify(&der, &rule, &ts, now, policy).unwrap());
            loads.push(t.elapsed());
        }
        let crl = VerifiedCrl::verify(&der, &rule, &ts, now, policy).unwrap();
        assert_eq!(crl.revoked().len(), n);

        let pem = ca.leaf(&allowed).pem();
        let engine = Engine::new(&config, &ts);
        let (decide_median, decide_p99) = sample(iters, || {
            let d = common::core_decide(&engine, black_box(&pem), now, Some(&crl));
            assert!(d.is_allow());
        });

        // A client seen for the first time: the truststore's memo of verified
        // certificates is empty, so the CA signature is checked.
        let mut first_times = Vec::with_capacity(iters / 10);
        for _ in 0..iters / 10 {
            let fresh = ts.clone();
            let engine = Engine::new(&config, &fresh);
            let t = Instant::now();
            let d = common::core_decide(&engine, black_box(&pem), now, Some(&crl));
            first_times.push(t.elapsed());
            assert!(d.is_allow());
        }
        let first_median = median(first_times);

        let authorizer = rt
            .block_on(
                Authorizer::builder(config.clone())
                    .clock(Arc::new(ManualClock::new(now)))
                    .http_api_response(HttpApiResponse::Simple)
                    .start(),
            )
            .unwrap();
        let event = events::rest(Some(&pem));
        let (handle_median, _) = sample(iters, || {
            black_box(rt.block_on(authorizer.handle(black_box(&event))));
        });
        drop(authorizer);

        let run = rt.block_on(run_binary(&with_crl, Some((event.clone(), "Allow"))));
        println!(
            "| {n} | {:.1} MB | {} | {:.1} MB | {} | {} | {} | {} | {} | {:.1} MiB | {:.1} MiB |",
            der.len() as f64 / 1e6,
            ms(median(loads)),
            crl.revoked().heap_bytes() as f64 / 1e6,
            us(decide_median),
            us(decide_p99),
            us(first_median),
            us(handle_median),
            ms(run.ready),
            run.peak_mib,
            run.rss_mib,
        );
    }
}
