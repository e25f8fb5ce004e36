//! Measures the built `api-handler` binary through a Lambda Runtime API on
//! loopback, with the local SQLite store in a temporary directory: cold start
//! (process start to its first request for an event), RSS when ready, and the
//! round trip of `POST /temps` and `GET /temps` invocations.
//!
//! `make bench`, or: `cargo build --release -p api-handler && cargo run --release -p mtls-tests --example api-handler-bench -- target/release`
//! `BENCH_COLD_RUNS` (default 20) and `BENCH_ITERS` (default 2000) set the sample counts.
#![expect(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "a benchmark that cannot set up panics"
)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use mtls_tests::events::{ProxyEvent, allow_context};
use mtls_tests::measure::{env_or, percentile};
use mtls_tests::runtime_api::RuntimeApi;
use serde_json::json;

fn report(what: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{what:<44} median {:>9.3?}  p99 {:>9.3?}  (n = {})",
        percentile(&samples, 0.5),
        percentile(&samples, 0.99),
        samples.len()
    );
}

fn rss_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[tokio::main]
async fn main() {
    let bin_dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "target/release".into()),
    );
    let binary = bin_dir.join("api-handler");
    assert!(
        binary.exists(),
        "{} not found: build it with `cargo build --release -p api-handler`",
        binary.display()
    );
    let cold_runs: usize = env_or("BENCH_COLD_RUNS", 20);
    let iters: usize = env_or("BENCH_ITERS", 2000);
    println!(
        "api-handler: {} ({:.2} MB)",
        binary.display(),
        std::fs::metadata(&binary).unwrap().len() as f64 / 1e6
    );

    let mut cold = Vec::new();
    let mut rss = Vec::new();
    for _ in 0..cold_runs {
        let data = tempfile::tempdir().unwrap();
        let host = RuntimeApi::start().await;
        let start = Instant::now();
        let child = host.spawn(
            &binary,
            &[
                ("TEMPS_DATA_DIR", data.path().to_str().unwrap()),
                ("RUST_LOG", "warn"),
            ],
        );
        let ready = host.ready(Duration::from_secs(10)).await.unwrap();
        cold.push(ready - start);
        if let Some(kib) = child.id().and_then(|pid| rss_kib(pid, "VmRSS:")) {
            rss.push(kib);
        }
        drop(child);
    }
    report("cold start (spawn to first /next)", cold);
    rss.sort_unstable();
    if let Some(median) = rss.get(rss.len() / 2) {
        println!(
            "{:<44} median {:.1} MiB",
            "RSS when ready",
            *median as f64 / 1024.0
        );
    }

    let data = tempfile::tempdir().unwrap();
    let host = RuntimeApi::start().await;
    let child = host.spawn(
        &binary,
        &[
            ("TEMPS_DATA_DIR", data.path().to_str().unwrap()),
            ("RUST_LOG", "warn"),
        ],
    );
    host.ready(Duration::from_secs(10)).await.unwrap();
    let base = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    let mut posts = Vec::with_capacity(iters);
    let mut gets = Vec::with_capacity(iters);
    for i in 0..iters {
        let t = (base + time::Duration::seconds(i as i64))
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        let body = json!({"temperature": 20.5, "time": t}).to_string();
        let event = ProxyEvent::new("POST", "/temps")
            .json(&body)
            .context(allow_context("CN=bench", "CN=Bench CA", "0102"))
            .rest();
        let start = Instant::now();
        let out = host.invoke(event, Duration::from_secs(10)).await.unwrap();
        posts.push(start.elapsed());
        assert_eq!(out["statusCode"], 201, "{out}");

        let event = ProxyEvent::new("GET", "/temps")
            .context(allow_context("CN=bench", "CN=Bench CA", "0102"))
            .rest();
        let start = Instant::now();
        let out = host.invoke(event, Duration::from_secs(10)).await.unwrap();
        gets.push(start.elapsed());
        assert_eq!(out["statusCode"], 200, "{out}");
    }
    report("POST /temps round trip (SQLite, REST event)", posts);
    report("GET /temps round trip (SQLite, latest 5)", gets);
    drop(child);
}
