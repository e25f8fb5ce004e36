//! Decision latency and CRL load time, on CRLs generated here with real
//! signatures. Run: `cargo bench -p authorizer --bench decision`
//! (set `BENCH_ITERS` to change the sample count).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use authorizer::config::Config;
use authorizer::crl::{CrlTimePolicy, VerifiedCrl};
use authorizer::decision::{Engine, RuleIssuer};
use authorizer::lambda::{Authorizer, HttpApiResponse};
use authorizer::time::{ManualClock, UnixTime};
use authorizer::truststore::TrustStore;
use mtls_tests::events;
use mtls_tests::pki::{self, Ca, serial20};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

fn sample(iters: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    for _ in 0..iters / 10 {
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

fn main() {
    let iters: usize = std::env::var("BENCH_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let ca = Ca::new("Temperature Testers, Inc.", "Devices CA");
    let ts = TrustStore::from_pem(ca.pem().as_bytes()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("truststore.pem"), ca.pem()).unwrap();
    let config_json = format!(
        r#"{{"truststore":"file://{0}/truststore.pem","issuers":[{{"name":"devices","match":{{"CN":"Devices CA"}},"crl":"file://{0}/devices.crl"}}]}}"#,
        dir.path().display()
    );
    let config = Config::from_json(&config_json).unwrap();
    let now = UnixTime(pki::unix(pki::now()));
    let policy = CrlTimePolicy {
        clock_skew_seconds: 60,
        grace_seconds: 3600,
    };
    let pem = ca.leaf(&serial20(0xfe)).pem();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    println!(
        "| CRL entries | CRL DER | CRL load (parse+verify+index) | decide() median | decide() p99 | handle(REST event) median |"
    );
    println!("|---:|---:|---:|---:|---:|---:|");
    for n in [0usize, 1_000, 100_000] {
        let mut builder = ca.crl();
        for i in 0..n {
            let mut s = serial20(0);
            s[15..19].copy_from_slice(&(i as u32).to_be_bytes());
            builder = builder.revoke(&s);
        }
        let der = builder.der();
        std::fs::write(dir.path().join("devices.crl"), &der).unwrap();

        let load_iters = if n >= 100_000 { 5 } else { 50 };
        let (load, _) = sample(load_iters, || {
            black_box(
                VerifiedCrl::verify(&der, &RuleIssuer(&config.issuers[0]), &ts, now, policy)
                    .unwrap(),
            );
        });
        let crl =
            VerifiedCrl::verify(&der, &RuleIssuer(&config.issuers[0]), &ts, now, policy).unwrap();
        let engine = Engine::new(&config, &ts);
        let (median, p99) = sample(iters, || {
            let d = engine.decide(Some(black_box(&pem)), now, |_| Some(&crl));
            assert!(d.is_allow());
        });

        let clock = Arc::new(ManualClock::new(now));
        let authorizer = rt
            .block_on(Authorizer::start(
                config.clone(),
                clock,
                HttpApiResponse::Simple,
            ))
            .unwrap();
        let event = events::rest(Some(&pem));
        let (handle_median, _) = sample(iters, || {
            let resp = rt.block_on(authorizer.handle(black_box(&event)));
            black_box(resp);
        });
        println!(
            "| {n} | {} KiB | {:.2} ms | {:.1} µs | {:.1} µs | {:.1} µs |",
            der.len() / 1024,
            load.as_secs_f64() * 1e3,
            median.as_secs_f64() * 1e6,
            p99.as_secs_f64() * 1e6,
            handle_median.as_secs_f64() * 1e6,
        );
    }
}
