//! The Lambda-shape benchmark (`make bench-lambda`): the release
//! `authorizer` binary, run through a Lambda Runtime API on loopback inside a
//! cgroup that gives it what Lambda gives a function of a memory size: a CPU
//! quota of `memory_mb / 1769` of one core (cgroup v1 `cpu.cfs_quota_us` over
//! `cpu.cfs_period_us` = 100 ms) and a memory limit of `memory_mb` (no swap).
//! The CRLs (generated here, 20-octet serials, reason codes, in random order,
//! really signed) are served over loopback HTTP, and through moto's S3.
//!
//! It reports, per shape: process start to ready (the first poll for an
//! event, after the truststore and the CRL are loaded and verified), the
//! memory cgroup's `max_usage_in_bytes` as the peak, and that decisions are
//! right. Then the latency of requests while a changed CRL is ingested behind
//! them, a 2,000,000-entry CRL in the 128 MB shape, and the full-core CPU time
//! of ingesting the CRL in process.
//!
//! Needs root and cgroup v1 (`/sys/fs/cgroup/{cpu,memory}`); without them it
//! says so and exits cleanly. Every cgroup it makes is removed. Not part of
//! `make test`.
//!
//! Environment: `BENCH_RUNS` (cold starts per shape, default 3),
//! `BENCH_SHAPES` (MB, default `128,256,512,1024`), `BENCH_ENTRIES`
//! (default 1000000), `BENCH_BIG_ENTRIES` (default 2000000, 0 to skip),
//! `AUTHORIZER_BIN` (another build of the binary, to compare).

#![expect(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    reason = "a benchmark that cannot set up panics"
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mtls_policy::config::Config;
use mtls_policy::decision::RuleIssuer;
use mtls_tests::events;
use mtls_tests::http_server::HttpServer;
use mtls_tests::measure::{env_or, percentile};
use mtls_tests::moto::{Moto, create_bucket};
use mtls_tests::pki::{self, Ca, random_serials};
use mtls_tests::runtime_api::RuntimeApi;
use mtls_x509::crl::{CrlIngest, CrlTimePolicy, VerifiedCrl};
use mtls_x509::time::UnixTime;
use mtls_x509::truststore::TrustStore;
use serde_json::{Value, json};

const CPU_ROOT: &str = "/sys/fs/cgroup/cpu";
const MEMORY_ROOT: &str = "/sys/fs/cgroup/memory";
const PERIOD_US: u64 = 100_000;
const MB_PER_VCPU: f64 = 1769.0;

/// Why this machine cannot run the benchmark, if it cannot.
fn missing_prerequisite() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let uid = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(2))
        .unwrap_or("?");
    if uid != "0" {
        return Some(format!("needs root to make cgroups (effective uid {uid})"));
    }
    for file in [
        format!("{CPU_ROOT}/cpu.cfs_quota_us"),
        format!("{MEMORY_ROOT}/memory.limit_in_bytes"),
    ] {
        if !Path::new(&file).exists() {
            return Some(format!("needs cgroup v1: {file} is missing"));
        }
    }
    None
}

/// A cgroup pair (cpu, memory) in Lambda's shape for `mb`; removed on drop.
struct Cgroup {
    cpu: PathBuf,
    memory: PathBuf,
}

impl Cgroup {
    fn lambda(mb: u32) -> Self {
        let name = format!("mtls-bench-{}-{mb}", std::process::id());
        let cpu = Path::new(CPU_ROOT).join(&name);
        let memory = Path::new(MEMORY_ROOT).join(&name);
        std::fs::create_dir(&cpu).unwrap();
        std::fs::create_dir(&memory).unwrap();
        let quota = (PERIOD_US as f64 * f64::from(mb) / MB_PER_VCPU).round() as u64;
        std::fs::write(cpu.join("cpu.cfs_period_us"), PERIOD_US.to_string()).unwrap();
        std::fs::write(cpu.join("cpu.cfs_quota_us"), quota.to_string()).unwrap();
        let bytes = (u64::from(mb) << 20).to_string();
        std::fs::write(memory.join("memory.limit_in_bytes"), &bytes).unwrap();
        // Lambda has no swap: over the limit is an out-of-memory kill.
        let _ = std::fs::write(memory.join("memory.swappiness"), "0");
        let _ = std::fs::write(memory.join("memory.memsw.limit_in_bytes"), &bytes);
        Self { cpu, memory }
    }

    /// A launcher that moves itself into the cgroup, then becomes `binary`:
    /// everything the function does is charged to the cgroup from its first
    /// instruction.
    fn launcher(&self, binary: &Path, dir: &Path) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let script = dir.join(format!(
            "enter-{}",
            self.cpu.file_name().unwrap().to_string_lossy()
        ));
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\necho $$ > {}/cgroup.procs\necho $$ > {}/cgroup.procs\nexec {}\n",
                self.cpu.display(),
                self.memory.display(),
                binary.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        script
    }

    fn read(&self, file: &str) -> String {
        let dir = if file.starts_with("cpu") {
            &self.cpu
        } else {
            &self.memory
        };
        std::fs::read_to_string(dir.join(file)).unwrap_or_default()
    }

    fn peak_mib(&self) -> f64 {
        self.read("memory.max_usage_in_bytes")
            .trim()
            .parse::<f64>()
            .unwrap_or(0.0)
            / f64::from(1 << 20)
    }

    fn oom_kills(&self) -> u64 {
        self.read("memory.oom_control")
            .lines()
            .find_map(|l| l.strip_prefix("oom_kill "))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        for dir in [&self.cpu, &self.memory] {
            for _ in 0..50 {
                if std::fs::remove_dir(dir).is_ok() || !dir.exists() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// One start of the function in a shape.
struct Function {
    api: RuntimeApi,
    child: mtls_tests::runtime_api::Process,
    cgroup: Cgroup,
    ready: Option<Duration>,
}

impl Function {
    async fn start(
        binary: &Path,
        dir: &Path,
        mb: u32,
        config: &Value,
        env: &[(&str, &str)],
    ) -> Self {
        let cgroup = Cgroup::lambda(mb);
        let launcher = cgroup.launcher(binary, dir);
        let api = RuntimeApi::start().await;
        let config = config.to_string();
        let memory = mb.to_string();
        let mut all: Vec<(&str, &str)> = vec![
            ("AUTHORIZER_CONFIG", &config),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", &memory),
            ("RUST_LOG", "warn"),
        ];
        all.extend_from_slice(env);
        let started = Instant::now();
        let child = api.spawn(&launcher, &all);
        let ready = api
            .ready(Duration::from_secs(120))
            .await
            .map(|t| t - started);
        Self {
            api,
            child,
            cgroup,
            ready,
        }
    }

    /// The deny reason (`None` on Allow) and the round trip.
    async fn decide(&self, pem: &str) -> (Option<String>, Duration) {
        let t = Instant::now();
        let resp = self
            .api
            .invoke(events::rest(Some(pem)), Duration::from_secs(60))
            .await
            .unwrap();
        let took = t.elapsed();
        let effect = resp["policyDocument"]["Statement"][0]["Effect"].as_str();
        let reason = resp["context"]["reason"].as_str().map(str::to_owned);
        match effect {
            Some("Allow") => (None, took),
            _ => (Some(reason.unwrap_or_default()), took),
        }
    }

    async fn stop(mut self) -> (f64, u64) {
        let _ = self.child.kill().await;
        let _ = self.child.wait().await;
        (self.cgroup.peak_mib(), self.cgroup.oom_kills())
    }
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1e3)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// What a shape's cold starts measured.
struct ShapeRun {
    readies: Vec<Duration>,
    peak_mib: f64,
    failures: Vec<String>,
}

#[derive(Clone, Copy)]
struct Scene<'a> {
    binary: &'a Path,
    dir: &'a Path,
    revoked: &'a str,
    allowed: &'a str,
}

impl Scene<'_> {
    /// `runs` cold starts in the shape of `mb`, each checked with a revoked
    /// and an allowed device.
    async fn cold_starts(
        &self,
        mb: u32,
        runs: usize,
        config: &Value,
        env: &[(&str, &str)],
    ) -> ShapeRun {
        let mut out = ShapeRun {
            readies: Vec::new(),
            peak_mib: 0.0,
            failures: Vec::new(),
        };
        for _ in 0..runs {
            let f = Function::start(self.binary, self.dir, mb, config, env).await;
            match f.ready {
                Some(ready) => {
                    let (r, _) = f.decide(self.revoked).await;
                    let (a, _) = f.decide(self.allowed).await;
                    if r.as_deref() != Some("revoked") || a.is_some() {
                        out.failures.push(format!("wrong decisions: {r:?}, {a:?}"));
                    }
                    out.readies.push(ready);
                }
                None => out.failures.push("never became ready".into()),
            }
            let (peak, ooms) = f.stop().await;
            out.peak_mib = out.peak_mib.max(peak);
            if ooms > 0 {
                out.failures.push(format!("{ooms} out-of-memory kill(s)"));
            }
        }
        out
    }
}

fn report_row(what: &str, mb: u32, run: &ShapeRun) {
    let ready = if run.readies.is_empty() {
        "-".to_owned()
    } else {
        let mut sorted = run.readies.clone();
        sorted.sort();
        format!(
            "{} (min {}, max {})",
            ms(median(run.readies.clone())),
            ms(sorted[0]),
            ms(sorted[sorted.len() - 1])
        )
    };
    let ok = if run.failures.is_empty() {
        "right".to_owned()
    } else {
        run.failures.join("; ")
    };
    println!(
        "| {what} | {mb} MB ({:.1}% CPU) | {ready} | {:.1} MiB | {ok} |",
        100.0 * f64::from(mb) / MB_PER_VCPU,
        run.peak_mib
    );
}

fn main() {
    if let Some(why) = missing_prerequisite() {
        println!("bench-lambda skipped: {why}.");
        return;
    }
    let runs: usize = env_or("BENCH_RUNS", 3);
    let entries: usize = env_or("BENCH_ENTRIES", 1_000_000);
    let big_entries: usize = env_or("BENCH_BIG_ENTRIES", 2_000_000);
    let shapes: Vec<u32> = std::env::var("BENCH_SHAPES")
        .unwrap_or_else(|_| "128,256,512,1024".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let binary = std::env::var_os("AUTHORIZER_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_authorizer")),
        PathBuf::from,
    );
    // Page the binary in outside the cgroups, so its file pages are not
    // charged to the first cgroup that runs it.
    let _ = std::process::Command::new(&binary).arg("--help").output();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run(&binary, runs, entries, big_entries, &shapes));
}

async fn run(binary: &Path, runs: usize, entries: usize, big_entries: usize, shapes: &[u32]) {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Temperature Testers, Inc.", "Devices CA");
    std::fs::write(dir.path().join("truststore.pem"), ca.pem()).unwrap();
    let truststore_uri = format!("file://{}/truststore.pem", dir.path().display());

    let t = Instant::now();
    let serials = random_serials(entries, 0x5eed);
    let listed = serials[entries / 2].clone();
    let allowed_serial = random_serials(1, 1)[0].clone();
    let crl_a = ca.crl().number(1).revoke_all(serials.clone()).der();
    // The next CRL: the same entries and one more, the device `fresh`.
    let fresh_serial = random_serials(1, 2)[0].clone();
    let mut next = serials;
    next.push(fresh_serial.clone());
    let crl_b = ca.crl().number(2).revoke_all(next).der();
    println!(
        "CRLs: {entries} entries, {:.1} MB (made in {:.1} s); binary {}\n",
        crl_a.len() as f64 / 1e6,
        t.elapsed().as_secs_f64(),
        binary.display()
    );
    let revoked = ca.leaf(&listed).pem();
    let allowed = ca.leaf(&allowed_serial).pem();
    let fresh = ca.leaf(&fresh_serial).pem();
    let scene = Scene {
        binary,
        dir: dir.path(),
        revoked: &revoked,
        allowed: &allowed,
    };

    let server = HttpServer::start(crl_a.clone()).await;
    let over_http = json!({
        "truststore": truststore_uri,
        "issuers": [{"name": "devices", "match": {"CN": "Devices CA"}, "crl": server.url()}],
        "fetch_timeout_seconds": 60,
        "max_fetch_bytes": 256 * 1024 * 1024
    });

    println!(
        "| CRL source | shape | process start to ready, median of {runs} | peak memory (cgroup) | decisions |"
    );
    println!("|---|---|---:|---:|---|");
    for &mb in shapes {
        let run = scene.cold_starts(mb, runs, &over_http, &[]).await;
        report_row("HTTP", mb, &run);
    }

    // The same CRL from S3 (moto_server on loopback).
    let moto = Moto::start().await;
    let s3 = moto.s3().await;
    create_bucket(&s3, "pki", None).await;
    s3.put_object()
        .bucket("pki")
        .key("crl/devices.crl")
        .body(crl_a.clone().into())
        .send()
        .await
        .unwrap();
    let s3_env = moto.function_env();
    let over_s3 = json!({
        "truststore": truststore_uri,
        "issuers": [{"name": "devices", "match": {"CN": "Devices CA"}, "crl": "s3://pki/crl/devices.crl"}],
        "fetch_timeout_seconds": 60,
        "max_fetch_bytes": 256 * 1024 * 1024
    });
    for mb in [128, 256] {
        let run = scene.cold_starts(mb, runs, &over_s3, &s3_env.pairs()).await;
        report_row("S3 (moto)", mb, &run);
    }
    drop(moto);

    // A changed CRL ingested behind the requests.
    println!();
    for mb in [256, 128] {
        refresh_under_load(&scene, &server, mb, &over_http, (&crl_a, &crl_b), &fresh).await;
    }

    if big_entries > 0 {
        let t = Instant::now();
        let serials = random_serials(big_entries, 0xb16);
        let listed = serials[big_entries / 3].clone();
        let big = ca.crl().number(3).revoke_all(serials).der();
        println!(
            "\n{big_entries}-entry CRL: {:.1} MB (made in {:.1} s)",
            big.len() as f64 / 1e6,
            t.elapsed().as_secs_f64()
        );
        server.publish(big.clone());
        let revoked_big = ca.leaf(&listed).pem();
        let big_scene = Scene {
            revoked: &revoked_big,
            ..scene
        };
        println!(
            "| CRL source | shape | process start to ready | peak memory (cgroup) | decisions |"
        );
        println!("|---|---|---:|---:|---|");
        let run = big_scene.cold_starts(128, 1, &over_http, &[]).await;
        report_row(&format!("HTTP, {big_entries} entries"), 128, &run);
        server.publish(crl_a.clone());
        in_process(&ca, &big, &truststore_uri, big_entries);
    }
    in_process(&ca, &crl_a, &truststore_uri, entries);
}

/// Starts with `crls.0`, publishes `crls.1` (which also revokes `fresh`),
/// and times requests every 10 ms from the one that finds the refresh due
/// until the new CRL decides.
async fn refresh_under_load(
    scene: &Scene<'_>,
    server: &HttpServer,
    mb: u32,
    config: &Value,
    crls: (&[u8], &[u8]),
    fresh: &str,
) {
    server.publish(crls.0.to_vec());
    let mut config = config.clone();
    config["crl_refresh_seconds"] = json!(2);
    let f = Function::start(scene.binary, scene.dir, mb, &config, &[]).await;
    if f.ready.is_none() {
        println!("{mb} MB: the function never became ready");
        return;
    }
    server.publish(crls.1.to_vec());
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let started = Instant::now();
    let mut during = Vec::new();
    let mut switched = None;
    while started.elapsed() < Duration::from_secs(120) {
        let (reason, took) = f.decide(fresh).await;
        // Every request from the one that finds the refresh due to the
        // first one the new CRL decides, both included.
        during.push(took);
        if reason.as_deref() == Some("revoked") {
            switched = Some(started.elapsed());
            break;
        }
        assert_eq!(reason, None, "the old CRL answers meanwhile");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let throttled = f.cgroup.read("cpu.stat");
    let (peak, ooms) = f.stop().await;
    during.sort();
    let Some(switched) = switched else {
        println!("{mb} MB: the new CRL was not in force within 120 s");
        return;
    };
    let throttled = throttled
        .lines()
        .find_map(|l| l.strip_prefix("nr_throttled "))
        .unwrap_or("?")
        .trim()
        .to_owned();
    println!(
        "{mb} MB shape, a changed {:.1} MB CRL: {} requests (one every 10 ms) from the one that finds the refresh due to the first the new CRL decides: median {:.2} ms, p99 {:.2} ms, max {:.2} ms; new CRL in force after {}; peak {peak:.1} MiB; {throttled} throttled periods{}",
        crls.1.len() as f64 / 1e6,
        during.len(),
        percentile(&during, 0.5).as_secs_f64() * 1e3,
        percentile(&during, 0.99).as_secs_f64() * 1e3,
        during.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        ms(switched),
        if ooms > 0 { "; OUT OF MEMORY" } else { "" },
    );
}

/// Full-core CPU time to ingest `der` in process (the fetch done): the whole
/// body at once, and streamed in 64 KiB chunks as a download feeds it.
fn in_process(ca: &Ca, der: &[u8], truststore_uri: &str, entries: usize) {
    let ts = Arc::new(TrustStore::from_pem(ca.pem().as_bytes()).unwrap());
    let config = Config::from_json(
        &json!({
            "truststore": truststore_uri,
            "issuers": [{"name": "devices", "match": {"CN": "Devices CA"}, "crl": "file:///unused"}],
        })
        .to_string(),
    )
    .unwrap();
    let rule = RuleIssuer(&config.issuers()[0]);
    let now = UnixTime(pki::unix(pki::now()));
    let policy = CrlTimePolicy {
        clock_skew_seconds: 60,
        grace_seconds: 3600,
    };
    let time = |f: &dyn Fn() -> usize| {
        let mut v = Vec::new();
        for _ in 0..7 {
            let t = Instant::now();
            assert_eq!(f(), entries);
            v.push(t.elapsed());
        }
        median(v)
    };
    let whole = time(&|| {
        VerifiedCrl::verify(der, &rule, &ts, now, policy)
            .unwrap()
            .revoked()
            .len()
    });
    let streamed = time(&|| {
        let mut ingest = CrlIngest::new(&rule, &ts);
        for chunk in der.chunks(64 * 1024) {
            ingest.push(chunk).unwrap();
        }
        ingest.finish(now, policy).unwrap().revoked().len()
    });
    println!(
        "\nfull core, in process, {entries} entries ({:.1} MB): ingest (verify + index) median {} whole, {} streamed in 64 KiB chunks",
        der.len() as f64 / 1e6,
        ms(whole),
        ms(streamed)
    );
}
