//! The revocation cases of "Revocation that holds against real PKIs", as a
//! user meets them: the built `authorizer` binary, run the way Lambda runs it
//! (a process polling the Runtime API, configured through the environment),
//! with CRLs on S3 (moto_server), on a local HTTP server, or in files.
//!
//! `AUTHORIZER_BIN=/path/to/authorizer` runs these against another build, for
//! example the previous release, to see which of them it fails: every test
//! here whose configuration that build understands (a single `crl` URI)
//! failed there.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use mtls_tests::events;
use mtls_tests::http_server::HttpServer;
use mtls_tests::moto::Moto;
use mtls_tests::pki::{Ca, serial20};
use mtls_tests::runtime_api::{Process, RuntimeApi, output_of};
use serde_json::{Value, json};

const ORG: &str = "Temperature Testers, Inc.";
const INVOKE_TIMEOUT: Duration = Duration::from_secs(30);

fn binary() -> PathBuf {
    std::env::var_os("AUTHORIZER_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_authorizer")),
        PathBuf::from,
    )
}

/// The authorizer binary under a Runtime API host.
struct Function {
    api: RuntimeApi,
    child: Process,
}

impl Function {
    /// Starts the binary with `config` inline in `AUTHORIZER_CONFIG`, and
    /// waits until it polls for its first event (cold start done).
    async fn start(config: &Value, env: &[(&str, &str)]) -> Self {
        let api = RuntimeApi::start().await;
        let config = config.to_string();
        let mut all = vec![("AUTHORIZER_CONFIG", config.as_str())];
        all.extend_from_slice(env);
        let child = api.spawn(&binary(), &all);
        assert!(
            api.ready(Duration::from_secs(60)).await.is_some(),
            "the authorizer did not become ready: {:?}",
            api.init_error()
        );
        Self { api, child }
    }

    /// The deny reason for `pem` (`None` for Allow), and how long the
    /// round trip through the Runtime API took.
    async fn decide(&self, pem: &str) -> (Option<String>, Duration) {
        let t = Instant::now();
        let resp = self
            .api
            .invoke(events::rest(Some(pem)), INVOKE_TIMEOUT)
            .await
            .unwrap();
        let took = t.elapsed();
        let effect = resp["policyDocument"]["Statement"][0]["Effect"].clone();
        let reason = resp["context"]["reason"].as_str().map(str::to_owned);
        assert_eq!(effect == "Allow", reason.is_none(), "{resp}");
        (reason, took)
    }

    async fn reason(&self, pem: &str) -> Option<String> {
        self.decide(pem).await.0
    }

    /// A line of the process's `/proc/<pid>/status`, in bytes.
    fn memory(&self, field: &str) -> u64 {
        let pid = self.child.id().unwrap();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let line = status.lines().find(|l| l.starts_with(field)).unwrap();
        let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        kib * 1024
    }

    /// The peak resident memory since the last [`Self::reset_peak`] (`VmHWM`).
    fn peak_rss(&self) -> u64 {
        self.memory("VmHWM:")
    }

    /// Starts a new peak from the current resident memory (proc(5),
    /// `clear_refs`), and returns that.
    fn reset_peak(&self) -> u64 {
        let pid = self.child.id().unwrap();
        std::fs::write(format!("/proc/{pid}/clear_refs"), "5").unwrap();
        self.memory("VmRSS:")
    }

    async fn logs(self) -> String {
        output_of(self.child).await
    }
}

fn revoked() -> Option<String> {
    Some("revoked".to_owned())
}

fn unavailable() -> Option<String> {
    Some("crl_unavailable".to_owned())
}

fn file_uri(dir: &tempfile::TempDir, name: &str) -> String {
    format!("file://{}", dir.path().join(name).display())
}

#[tokio::test]
async fn binary_never_applies_a_partition_crl_to_another_partitions_certificate() {
    // Partition 1 of an AWS Private CA-style partitioned CRL, configured as
    // the issuer's CRL. A certificate of partition 2, revoked there, was
    // allowed: partition 1's CRL was applied to it.
    let p1 = "http://crl.example.test/crl/4f1c/p1.crl";
    let p2 = "http://crl.example.test/crl/4f1c/p2.crl";
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new(ORG, "Partitioned CA");
    std::fs::write(dir.path().join("truststore.pem"), ca.pem()).unwrap();
    std::fs::write(
        dir.path().join("p1.crl"),
        ca.crl().partition(&[p1]).revoke(&serial20(0x11)).der(),
    )
    .unwrap();
    let config = json!({
        "truststore": file_uri(&dir, "truststore.pem"),
        "issuers": [{"name": "devices", "match": {"CN": "Partitioned CA"}, "crl": file_uri(&dir, "p1.crl")}]
    });
    let f = Function::start(&config, &[]).await;
    let in_p2_revoked = ca.leaf(&serial20(0x22)).cdp(p2).pem();
    assert_eq!(f.reason(&in_p2_revoked).await, unavailable());
    assert_eq!(
        f.reason(&ca.leaf(&serial20(0x11)).cdp(p1).pem()).await,
        revoked()
    );
    assert_eq!(
        f.reason(&ca.leaf(&serial20(0x12)).cdp(p1).pem()).await,
        None
    );
    drop(f.logs().await);
}

#[tokio::test]
async fn binary_never_applies_one_keys_crl_to_the_other_keys_certificates() {
    // Two CAs with one DN and two keys (a rollover) in the truststore, and
    // key 1's CRL configured. A certificate of key 2, revoked on key 2's
    // CRL, was allowed on key 1's.
    let dir = tempfile::tempdir().unwrap();
    let key1 = Ca::new(ORG, "Rolled CA");
    let key2 = key1.next_key();
    std::fs::write(
        dir.path().join("truststore.pem"),
        format!("{}{}", key1.pem(), key2.pem()),
    )
    .unwrap();
    std::fs::write(dir.path().join("key1.crl"), key1.crl().der()).unwrap();
    let config = json!({
        "truststore": file_uri(&dir, "truststore.pem"),
        "issuers": [{"name": "devices", "match": {"CN": "Rolled CA"}, "crl": file_uri(&dir, "key1.crl")}]
    });
    let f = Function::start(&config, &[]).await;
    assert_eq!(f.reason(&key2.leaf(&[0x42]).pem()).await, unavailable());
    assert_eq!(f.reason(&key1.leaf(&[0x42]).pem()).await, None);
    drop(f.logs().await);

    // With both keys' CRLs listed, each decides its own certificates.
    std::fs::write(
        dir.path().join("key2.crl"),
        key2.crl().revoke(&[0x42]).der(),
    )
    .unwrap();
    let config = json!({
        "truststore": file_uri(&dir, "truststore.pem"),
        "issuers": [{"name": "devices", "match": {"CN": "Rolled CA"},
                     "crl": [file_uri(&dir, "key1.crl"), file_uri(&dir, "key2.crl")]}]
    });
    let f = Function::start(&config, &[]).await;
    assert_eq!(f.reason(&key2.leaf(&[0x42]).pem()).await, revoked());
    assert_eq!(f.reason(&key1.leaf(&[0x42]).pem()).await, None);
    drop(f.logs().await);
}

#[tokio::test]
async fn binary_denies_certificates_of_a_ca_removed_from_the_truststore() {
    // "Remove the CA from the truststore" must revoke it here too, even
    // while its last CRL is still cached and within grace.
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new(ORG, "Retired CA");
    let keep = Ca::new(ORG, "Kept CA");
    std::fs::write(
        dir.path().join("truststore.pem"),
        format!("{}{}", ca.pem(), keep.pem()),
    )
    .unwrap();
    std::fs::write(dir.path().join("retired.crl"), ca.crl().der()).unwrap();
    let config = json!({
        "truststore": file_uri(&dir, "truststore.pem"),
        "issuers": [{"name": "retired", "match": {"CN": "Retired CA"}, "crl": file_uri(&dir, "retired.crl")}],
        "truststore_refresh_seconds": 1
    });
    let f = Function::start(&config, &[]).await;
    let forged = ca.impostor().leaf(&[7]).pem();
    assert_eq!(f.reason(&ca.leaf(&[7]).pem()).await, None);
    std::fs::write(dir.path().join("truststore.pem"), keep.pem()).unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let _ = f.reason(&forged).await; // refreshes the truststore
    assert_eq!(
        f.reason(&forged).await.as_deref(),
        Some("issuer_not_allowed")
    );
    assert_eq!(
        f.reason(&ca.leaf(&[7]).pem()).await.as_deref(),
        Some("issuer_not_allowed")
    );
    drop(f.logs().await);
}

#[tokio::test]
async fn binary_checks_private_ca_partitions_found_through_crl_from_cdp_on_s3() {
    // AWS Private CA with PARTITIONED CRLs writes one CRL per partition to
    // its bucket, and each certificate's CDP names its partition's URL (here
    // under a custom CNAME). The authorizer maps those URLs to the bucket
    // and loads each partition when the first certificate needing it comes.
    let moto = Moto::start().await;
    let s3 = moto.s3().await;
    s3.create_bucket().bucket("pki-crls").send().await.unwrap();
    let ca = Ca::new(ORG, "Private CA");
    let ca_id = "5c0f3d2a-6d1e-4b5a-9c1e-0f2a3b4c5d6e";
    let cdp = |p: &str| format!("http://crl.example.test/crl/{ca_id}/{p}.crl");
    for (partition, serial) in [("0a1b", 0x11u8), ("2c3d", 0x22)] {
        s3.put_object()
            .bucket("pki-crls")
            .key(format!("crl/{ca_id}/{partition}.crl"))
            .body(ByteStream::from(
                ca.crl()
                    .partition(&[&cdp(partition)])
                    .revoke(&serial20(serial))
                    .der(),
            ))
            .send()
            .await
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("truststore.pem"), ca.pem()).unwrap();
    let config = json!({
        "truststore": file_uri(&dir, "truststore.pem"),
        "issuers": [{"name": "devices", "match": {"CN": "Private CA"},
                     "crl_from_cdp": [{"prefix": "http://crl.example.test/crl/", "fetch": "s3://pki-crls/crl/"}]}]
    });
    let f = Function::start(&config, &moto.function_env().pairs()).await;
    let leaf = |serial: u8, p: &str| ca.leaf(&serial20(serial)).cdp(&cdp(p)).pem();
    assert_eq!(f.reason(&leaf(0x11, "0a1b")).await, revoked());
    assert_eq!(f.reason(&leaf(0x12, "0a1b")).await, None);
    assert_eq!(f.reason(&leaf(0x22, "2c3d")).await, revoked());
    assert_eq!(f.reason(&leaf(0x11, "2c3d")).await, None);
    // A partition the CA has not published: denied, never allowed.
    assert_eq!(f.reason(&leaf(0x33, "4e5f")).await, unavailable());
    let logs = f.logs().await;
    let loaded: Vec<Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["event"] == "crl_loaded")
        .collect();
    assert_eq!(loaded.len(), 2, "each partition once:\n{logs}");
    assert!(
        loaded
            .iter()
            .all(|v| v["scope"].as_str().unwrap().starts_with("partition ")),
        "{loaded:?}"
    );
    let ready_at = logs.find("\"ready\"").unwrap();
    let first_load = logs.find("\"crl_loaded\"").unwrap();
    assert!(first_load > ready_at, "partitions load lazily, after start");
}

#[tokio::test]
async fn binary_never_fetches_a_distribution_point_outside_the_prefixes() {
    let allowed = HttpServer::start(Vec::new()).await;
    let elsewhere = HttpServer::start(Vec::new()).await;
    let ca = Ca::new(ORG, "Devices CA");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("truststore.pem"), ca.pem()).unwrap();
    let prefix = allowed.url().replace("devices.crl", "");
    let config = json!({
        "truststore": file_uri(&dir, "truststore.pem"),
        "issuers": [{"name": "devices", "match": {"CN": "Devices CA"},
                     "crl_from_cdp": [{"prefix": prefix}]}]
    });
    let f = Function::start(&config, &[]).await;
    let outside = ca.leaf(&[1]).cdp(&elsewhere.url()).pem();
    assert_eq!(f.reason(&outside).await, unavailable());
    assert_eq!(elsewhere.requests(), 0, "no request leaves the prefixes");
    allowed.publish(ca.crl().revoke(&[2]).der());
    let inside = ca.leaf(&[2]).cdp(&allowed.url()).pem();
    assert_eq!(f.reason(&inside).await, revoked());
    assert_eq!(allowed.requests(), 1);
    drop(f.logs().await);
}

#[tokio::test]
async fn binary_refuses_client_certificates_it_cannot_fully_interpret() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new(ORG, "Devices CA");
    std::fs::write(dir.path().join("truststore.pem"), ca.pem()).unwrap();
    std::fs::write(dir.path().join("devices.crl"), ca.crl().der()).unwrap();
    let config = json!({
        "truststore": file_uri(&dir, "truststore.pem"),
        "issuers": [{"name": "devices", "match": {"CN": "Devices CA"}, "crl": file_uri(&dir, "devices.crl")}]
    });
    let f = Function::start(&config, &[]).await;
    let cases = [
        (
            "an unknown critical extension",
            ca.leaf(&[1])
                .extension(&[1, 3, 6, 1, 4, 1, 99999, 7], true, vec![0x05, 0x00])
                .pem(),
        ),
        (
            "a second basicConstraints saying cA",
            ca.leaf(&[2])
                .extension(&[2, 5, 29, 19], true, vec![0x30, 0x03, 0x01, 0x01, 0xff])
                .pem(),
        ),
        (
            "a negative serial",
            ca.leaf(&[3]).pem_with_serial_content(&[0xfe]),
        ),
        (
            "an empty serial",
            ca.leaf(&[4]).pem_with_serial_content(&[]),
        ),
    ];
    for (what, pem) in cases {
        assert_eq!(
            f.reason(&pem).await.as_deref(),
            Some("malformed_certificate"),
            "{what}"
        );
    }
    assert_eq!(f.reason(&ca.leaf(&[5]).pem()).await, None);
    drop(f.logs().await);
}

#[tokio::test]
async fn binary_keeps_each_cas_crl_sequence_apart_when_one_source_serves_both() {
    // One entry matching two CAs, one CRL file. It holds CA A's CRL #5, then
    // CA B's #1000, then A's #6. Before, B's #1000 made A's #6 a rollback,
    // and A's new revocation was ignored until a cold start.
    let dir = tempfile::tempdir().unwrap();
    let a = Ca::new(ORG, "Fleet A CA");
    let b = Ca::new(ORG, "Fleet B CA");
    std::fs::write(
        dir.path().join("truststore.pem"),
        format!("{}{}", a.pem(), b.pem()),
    )
    .unwrap();
    let crl = dir.path().join("fleet.crl");
    let publish = |bytes: Vec<u8>| {
        let tmp = dir.path().join("fleet.crl.tmp");
        std::fs::write(&tmp, bytes).unwrap();
        std::fs::rename(&tmp, &crl).unwrap();
    };
    publish(a.crl().number(5).der());
    let config = json!({
        "truststore": file_uri(&dir, "truststore.pem"),
        "issuers": [{"name": "fleet", "match": {"O": ORG}, "crl": file_uri(&dir, "fleet.crl")}],
        "crl_refresh_seconds": 1
    });
    let f = Function::start(&config, &[]).await;
    let a_device = a.leaf(&[0x42]).pem();
    assert_eq!(f.reason(&a_device).await, None);
    publish(b.crl().number(1000).der());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // No CRL in force covers B's device: this request waits for B's CRL.
    assert_eq!(f.reason(&b.leaf(&[0x42]).pem()).await, None);
    publish(a.crl().number(6).revoke(&[0x42]).der());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // A's #5 answers while #6 loads behind the request.
    assert_eq!(f.reason(&a_device).await, None);
    let deadline = Instant::now() + Duration::from_secs(10);
    while f.reason(&a_device).await != revoked() {
        assert!(Instant::now() < deadline, "A's #6 never loaded");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(f.reason(&b.leaf(&[0x42]).pem()).await, None);
    assert_eq!(f.reason(&b.leaf(&[0x43]).pem()).await, None);
    drop(f.logs().await);
}

/// A hostile CRL source: a good CRL is loaded, then the source serves each
/// hostile shape in turn. The last good CRL stays in use, decisions stay
/// fast, the process's memory stays within a small multiple of what was
/// served, and the log stays short.
#[tokio::test]
async fn hostile_crl_source_keeps_the_last_good_crl_with_bounded_memory_and_fast_decisions() {
    let ca = Ca::new(ORG, "Devices CA");
    let good_crl = ca.crl().revoke(&[0x42]).der();
    let server = HttpServer::start(good_crl).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("truststore.pem"), ca.pem()).unwrap();
    let config = json!({
        "truststore": file_uri(&dir, "truststore.pem"),
        "issuers": [{"name": "devices", "match": {"CN": "Devices CA"}, "crl": server.url()}],
        "crl_refresh_seconds": 1,
        "crl_retry_seconds": 2,
        "fetch_timeout_seconds": 30,
        "max_fetch_bytes": 128 * 1024 * 1024
    });
    let f = Function::start(&config, &[]).await;
    let good = ca.leaf(&[0x41]).pem();
    let revoked_pem = ca.leaf(&[0x42]).pem();
    assert_eq!(f.reason(&good).await, None);
    assert_eq!(f.reason(&revoked_pem).await, revoked());

    let shapes: [(&str, Vec<u8>); 3] = [
        (
            "63 MB of crlExtensions, unsigned",
            ca.crl().unsigned_with_extensions(7_000_000),
        ),
        (
            "a 20 MB issuer name of control bytes",
            ca.crl().unsigned_with_issuer_of(20 * 1024 * 1024),
        ),
        (
            "a valid CRL signed by another key",
            ca.crl().number(9).der_signed_by(&ca.impostor()),
        ),
    ];
    let mut report = Vec::new();
    for (what, bytes) in shapes {
        let size = bytes.len() as u64;
        let baseline = f.reset_peak();
        server.publish(bytes);
        // Past both the refresh and the retry interval: the next request
        // finds a refresh due (and the 20 after it do not).
        tokio::time::sleep(Duration::from_millis(2100)).await;
        // This request finds the refresh due: it fetches, refuses and keeps
        // the last good CRL.
        let (r, refresh) = f.decide(&good).await;
        assert_eq!(r, None, "{what}: the good device is still allowed");
        let mut slowest = Duration::ZERO;
        for _ in 0..20 {
            let (r, took) = f.decide(&revoked_pem).await;
            assert_eq!(r, revoked(), "{what}: the revoked device is still denied");
            slowest = slowest.max(took);
        }
        let peak = f.peak_rss();
        let grew = peak.saturating_sub(baseline);
        report.push(format!(
            "{what}: {size} bytes; refresh request {refresh:?}; slowest of 20 later decisions {slowest:?}; peak RSS {} MiB, {} MiB over the {} MiB before",
            peak >> 20,
            grew >> 20,
            baseline >> 20
        ));
        assert!(
            refresh < Duration::from_secs(5),
            "{what}: {refresh:?} (it was 7 s and an out-of-memory kill)"
        );
        assert!(slowest < Duration::from_millis(250), "{what}: {slowest:?}");
        assert!(
            grew < 3 * size + (8 << 20),
            "{what}: memory grew by {grew} bytes for {size} served"
        );
    }
    eprintln!("{}", report.join("\n"));
    let logs = f.logs().await;
    assert!(
        logs.len() < 256 * 1024,
        "{} bytes of log for about 70 requests",
        logs.len()
    );
    let rejected = logs
        .lines()
        .filter(|l| l.contains("\"crl_rejected\""))
        .count();
    assert!(
        rejected >= 3,
        "each hostile CRL is logged as rejected:\n{logs}"
    );
    assert!(
        logs.lines().all(|l| l.len() < 2048),
        "no log line carries the hostile bytes"
    );
}
