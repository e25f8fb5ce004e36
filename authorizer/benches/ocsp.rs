//! OCSP's cost beside a CRL's, through `Authorizer::decide` (the full core:
//! certificate, signature memo, revocation) for devices of one CA that
//! `openssl` made:
//!
//! - warm decisions: a CRL alone, a cached OCSP answer alone, both;
//! - uncached decisions (each device seen for the first time, so its
//!   signature is checked too): a CRL alone, and OCSP alone against a
//!   loopback responder that answers `openssl ocsp`'s responses from memory
//!   (its own time is a lookup), so the difference is the authorizer's own
//!   cost of an exchange: the request, HTTP on loopback, and verifying the
//!   answer.
//!
//! Run: `make bench-ocsp` (`cargo bench -p authorizer --bench ocsp`).
//! Environment: `BENCH_ITERS` (warm samples, default 20000),
//! `BENCH_DEVICES` (uncached samples, default 200).

#![expect(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::print_stdout,
    reason = "a benchmark that cannot set up panics"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use authorizer::fetch::Fetcher;
use authorizer::lambda::{Authorizer, HttpApiResponse};
use mtls_policy::config::Config;
use mtls_policy::metrics::OcspUse;
use mtls_tests::measure::{env_or, percentile};
use mtls_tests::ocsp::{OcspPki, Signer};
use mtls_tests::ocsp_server::{OcspServer, leaf_pem, openssl_crl};
use mtls_x509::time::{ManualClock, UnixTime};

fn config(pki: &OcspPki, revocation: &str) -> Config {
    Config::from_json(&format!(
        r#"{{"truststore":"file://{}/truststore.pem","issuers":[{{"name":"devices","match":{{"CN":"Issuing CA"}}{revocation}}}]}}"#,
        pki.path().display()
    ))
    .unwrap()
}

async fn start(config: Config, clock: &Arc<ManualClock>) -> Authorizer {
    let fetcher = Fetcher::new(Authorizer::fetch_limits(&config)).unwrap();
    Authorizer::builder(config)
        .fetcher(fetcher)
        .clock(clock.clone())
        .http_api_response(HttpApiResponse::Simple)
        .start()
        .await
        .unwrap()
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn main() {
    let iters: usize = env_or("BENCH_ITERS", 20_000);
    let devices: usize = env_or("BENCH_DEVICES", 200);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let pki = Arc::new(OcspPki::new());
    std::fs::write(pki.path().join("truststore.pem"), pki.pem(Signer::Ca)).unwrap();
    let server = rt.block_on(OcspServer::start(Arc::clone(&pki)));
    let crl = openssl_crl(&pki, "bench-crl", &[]);
    let clock = Arc::new(ManualClock::new(UnixTime::now()));
    let with_crl = format!(r#","crl":"{crl}""#);
    let with_ocsp = format!(r#","ocsp":{{"responder":"{}"}}"#, server.url());
    let both = format!("{with_crl}{with_ocsp}");

    // Devices: the responder's index lists none of them, so it answers
    // `unknown`; add them as good.
    let serials: Vec<[u8; 8]> = (0..=devices as u64)
        .map(|i| (0x4000_0000_0000_0000 | i).to_be_bytes())
        .collect();
    let lines: String = serials
        .iter()
        .map(|s| {
            let hex: String = s.iter().map(|b| format!("{b:02X}")).collect();
            format!("V\t361231000000Z\t\t{hex}\tunknown\t/CN=bench-{hex}\n")
        })
        .collect();
    let index = pki.path().join("index.txt");
    let mut all = std::fs::read_to_string(&index).unwrap();
    all.push_str(&lines);
    std::fs::write(&index, all).unwrap();
    let pems: Vec<String> = serials
        .iter()
        .enumerate()
        .map(|(i, s)| leaf_pem(&pki, &format!("bench-{i}"), s, None))
        .collect();
    let (device, fresh) = pems.split_first().unwrap();

    println!("| warm decision | p50 | p99 |");
    println!("|---|---|---|");
    let mut p50s = Vec::new();
    for (name, revocation) in [
        ("CRL", &with_crl),
        ("OCSP, cached answer", &with_ocsp),
        ("CRL and OCSP", &both),
    ] {
        let a = rt.block_on(start(config(&pki, revocation), &clock));
        let first = rt.block_on(a.decide(Some(device)));
        assert!(first.decision.is_allow(), "{name}: {first:?}");
        for _ in 0..iters / 10 {
            rt.block_on(a.decide(Some(device)));
        }
        let mut times = Vec::with_capacity(iters);
        for _ in 0..iters {
            let t = Instant::now();
            let d = rt.block_on(a.decide(Some(device)));
            times.push(t.elapsed());
            std::hint::black_box(d);
        }
        times.sort();
        let p50 = percentile(&times, 0.5);
        p50s.push(p50);
        println!(
            "| {name} | {:.2} µs | {:.2} µs |",
            us(p50),
            us(percentile(&times, 0.99))
        );
    }
    println!(
        "cached OCSP vs CRL: {:+.1}%",
        (us(p50s[1]) / us(p50s[0]) - 1.0) * 100.0
    );

    // Uncached: fill the responder's memory first, so its own time is a
    // lookup; then every device once, through fresh authorizers.
    let warm = rt.block_on(start(config(&pki, &with_ocsp), &clock));
    for pem in fresh {
        assert!(rt.block_on(warm.decide(Some(pem))).decision.is_allow());
    }
    let mut results = Vec::new();
    for (name, revocation) in [("CRL", &with_crl), ("OCSP, uncached", &with_ocsp)] {
        let a = rt.block_on(start(config(&pki, revocation), &clock));
        // One device first, so connection set-up is not in the samples.
        rt.block_on(a.decide(Some(device)));
        let mut times = Vec::with_capacity(fresh.len());
        for pem in fresh {
            let t = Instant::now();
            let d = rt.block_on(a.decide(Some(pem)));
            times.push(t.elapsed());
            assert!(d.decision.is_allow(), "{name}: {d:?}");
            if revocation == &with_ocsp {
                assert_eq!(d.ocsp, Some(OcspUse::Fetched));
            }
        }
        times.sort();
        results.push((name, percentile(&times, 0.5), percentile(&times, 0.99)));
    }
    println!("| first decision of a device | p50 | p99 |");
    println!("|---|---|---|");
    for (name, p50, p99) in &results {
        println!("| {name} | {:.1} µs | {:.1} µs |", us(*p50), us(*p99));
    }
    println!(
        "an OCSP exchange adds {:.2} ms (p50) and {:.2} ms (p99) to a first decision, the responder answering from memory; requests served: {}",
        (us(results[1].1) - us(results[0].1)) / 1e3,
        (us(results[1].2) - us(results[0].2)) / 1e3,
        server.requests()
    );
}
