//! The deny list's and CA revocation's cost, side by side with the same
//! stack without them: a warm decision through `Authorizer::decide` (the full
//! core: certificate, signature memo, deny list, CRL, CA CRL) for a device
//! under root → issuing CA, and the cold start (`Authorizer::start`) with a
//! 100,000-entry list.
//!
//! Run: `make bench-deny-list` (`cargo bench -p authorizer --bench deny_list`).
//! Environment: `BENCH_ITERS` (decision samples, default 20000),
//! `BENCH_COLD_RUNS` (cold starts, default 20), `BENCH_DENY_ENTRIES`
//! (default 100000).

#![expect(
    clippy::unwrap_used,
    clippy::print_stdout,
    reason = "a benchmark that cannot set up panics"
)]

#[expect(dead_code, reason = "a benchmark uses part of the tests' fixtures")]
#[path = "../tests/it/common.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{Fixture, ORG};
use mtls_policy::config::Config;
use mtls_tests::measure::{env_or, percentile};
use mtls_tests::pki::{Ca, random_serials};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A list of `n` entries: half serials under the issuing CA's key, half
/// fingerprints, none naming the device measured.
fn deny_list(issuing: &Ca, n: usize) -> Vec<u8> {
    let key = hex(&mtls_x509::signed::sha256(&issuing.spki_der()));
    let serials = random_serials(n, 7);
    let entries: Vec<String> = serials
        .iter()
        .enumerate()
        .map(|(i, s)| {
            if i % 2 == 0 {
                format!(r#"{{"issuer_spki_sha256":"{key}","serial":"{}"}}"#, hex(s))
            } else {
                format!(
                    r#"{{"fingerprint":"{}"}}"#,
                    hex(&mtls_x509::signed::sha256(s))
                )
            }
        })
        .collect();
    format!(
        r#"{{"version":1,"sequence":1,"entries":[{}]}}"#,
        entries.join(",\n")
    )
    .into_bytes()
}

fn main() {
    let iters: usize = env_or("BENCH_ITERS", 20_000);
    let cold_runs: usize = env_or("BENCH_COLD_RUNS", 20);
    let entries: usize = env_or("BENCH_DENY_ENTRIES", 100_000);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    let s = Fixture::new();
    let root = Ca::new(ORG, "Root CA");
    let issuing = root.subordinate(ORG, "Devices CA", &[0x51]);
    s.write(
        "truststore.pem",
        format!("{}{}", root.pem(), issuing.pem()).as_bytes(),
    );
    s.write(
        "devices.crl",
        &issuing.crl().revoke_all(random_serials(1000, 3)).der(),
    );
    s.write("root.crl", &root.crl().revoke(&[0x99]).der());
    let list = deny_list(&issuing, entries);
    s.write("deny.json", &list);
    let device = issuing.leaf(&[0x42; 16]).pem();

    let devices = s.devices_entry(&s.file_uri("devices.crl"));
    let deny = format!(r#","deny_list":"{}""#, s.file_uri("deny.json"));
    let ca = format!(
        r#","ca_revocation":[{{"name":"root","match":{{"CN":"Root CA"}},"crl":"{}"}}]"#,
        s.file_uri("root.crl")
    );
    let setups: [(&str, Config); 4] = [
        (
            "without a deny list (before this change)",
            s.config(&devices, ""),
        ),
        ("with a 100,000-entry deny list", s.config(&devices, &deny)),
        (
            "with CA revocation (the root's CRL)",
            s.config(&devices, &ca),
        ),
        ("with both", s.config(&devices, &format!("{deny}{ca}"))),
    ];
    println!(
        "deny list: {entries} entries, {:.1} MB of JSON; device under root -> issuing CA; {iters} decisions each",
        list.len() as f64 / 1e6
    );
    let parse = (0..cold_runs)
        .map(|_| {
            let t = Instant::now();
            let parsed = mtls_policy::denylist::DenyList::from_json(&list).unwrap();
            let took = t.elapsed();
            assert_eq!(parsed.len(), entries);
            took
        })
        .min()
        .unwrap_or_default();
    let hash = (0..cold_runs)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(mtls_x509::signed::sha256(&list));
            t.elapsed()
        })
        .min()
        .unwrap_or_default();
    println!(
        "parse and index alone: {:.1} ms; SHA-256 of the body: {:.1} ms (best of {cold_runs})",
        parse.as_secs_f64() * 1e3,
        hash.as_secs_f64() * 1e3
    );
    println!("| setup | warm decision p50 | p99 | cold start p50 |");
    println!("|---|---|---|---|");
    for (name, config) in setups {
        let mut cold = Vec::with_capacity(cold_runs);
        for _ in 0..cold_runs {
            let t = Instant::now();
            let a = rt.block_on(s.start(config.clone()));
            cold.push(t.elapsed());
            drop(a);
        }
        let a = rt.block_on(s.start(config));
        assert_eq!(
            rt.block_on(a.decide(Some(&device))).decision.reason(),
            None,
            "{name}: the device must be allowed"
        );
        let mut times: Vec<Duration> = Vec::with_capacity(iters);
        for _ in 0..iters / 10 {
            rt.block_on(a.decide(Some(&device)));
        }
        for _ in 0..iters {
            let t = Instant::now();
            let d = rt.block_on(a.decide(Some(&device)));
            times.push(t.elapsed());
            std::hint::black_box(d);
        }
        times.sort();
        cold.sort();
        println!(
            "| {name} | {:.2} µs | {:.2} µs | {:.1} ms |",
            percentile(&times, 0.5).as_secs_f64() * 1e6,
            percentile(&times, 0.99).as_secs_f64() * 1e6,
            percentile(&cold, 0.5).as_secs_f64() * 1e3,
        );
    }
}
