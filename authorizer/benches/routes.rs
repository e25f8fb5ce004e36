//! Per-route rules' cost: a warm decision through `Authorizer::handle` (the
//! full core, the route check and the response) for a REST event, with no
//! `routes` and with 20, side by side, under each policy scope.
//!
//! Run: `make bench-routes` (`cargo bench -p authorizer --bench routes`).
//! Environment: `BENCH_ITERS` (samples, default 20000).

#![expect(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::print_stdout,
    reason = "a benchmark that cannot set up panics"
)]

#[expect(dead_code, reason = "a benchmark uses part of the tests' fixtures")]
#[path = "../tests/it/common.rs"]
mod common;

use std::time::{Duration, Instant};

use common::Fixture;
use mtls_tests::events;
use mtls_tests::measure::{env_or, percentile};
use mtls_tests::pki::random_serials;
use serde_json::json;

fn main() {
    let iters: usize = env_or("BENCH_ITERS", 20_000);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let s = Fixture::new();
    s.write(
        "devices.crl",
        &s.ca.crl().revoke_all(random_serials(1000, 3)).der(),
    );
    let crl = s.file_uri("devices.crl");
    // 19 routes besides the one called, the called one last.
    let mut routes: Vec<String> = (0..19)
        .map(|i| format!(r#"{{"method":"GET","path":"/r{i}/*"}}"#))
        .collect();
    routes.push(r#"{"method":"POST","path":"/temps"}"#.to_owned());
    let plain = format!(r#"{{"name":"devices","match":{{"CN":"Devices CA"}},"crl":"{crl}"}}"#);
    let routed = format!(
        r#"{{"name":"devices","match":{{"CN":"Devices CA"}},"crl":"{crl}","routes":[{}]}}"#,
        routes.join(",")
    );
    let pem = s.ca.leaf(&[0x42; 16]).pem();
    let mut event = events::rest(Some(&pem));
    event["methodArn"] =
        json!("arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/POST/temps");
    println!("| policy scope | routes | warm decision p50 | p99 |");
    println!("|---|---|---|---|");
    for scope in ["method", "stage"] {
        let mut p50s = Vec::new();
        for (name, entry) in [("none", &plain), ("20", &routed)] {
            let config = s.config(entry, &format!(r#","policy_resource":"{scope}""#));
            let a = rt.block_on(s.start(config));
            let first = rt.block_on(a.handle(&event));
            assert_eq!(
                first["policyDocument"]["Statement"][0]["Effect"], "Allow",
                "{scope}/{name}: {first}"
            );
            for _ in 0..iters / 10 {
                rt.block_on(a.handle(&event));
            }
            let mut times: Vec<Duration> = Vec::with_capacity(iters);
            for _ in 0..iters {
                let t = Instant::now();
                let r = rt.block_on(a.handle(&event));
                times.push(t.elapsed());
                std::hint::black_box(r);
            }
            times.sort();
            let p50 = percentile(&times, 0.5);
            p50s.push(p50);
            println!(
                "| {scope} | {name} | {:.2} µs | {:.2} µs |",
                p50.as_secs_f64() * 1e6,
                percentile(&times, 0.99).as_secs_f64() * 1e6
            );
        }
        println!(
            "{scope}: 20 routes vs none {:+.1}%",
            (p50s[1].as_secs_f64() / p50s[0].as_secs_f64() - 1.0) * 100.0
        );
    }
}
