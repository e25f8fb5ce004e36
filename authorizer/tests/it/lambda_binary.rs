//! The built `authorizer` binary, run the way Lambda runs it: a process that
//! polls the Runtime API, configured only through environment variables.

use std::path::Path;
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use mtls_tests::events;
use mtls_tests::moto::Moto;
use mtls_tests::pki::{Ca, serial20};
use mtls_tests::runtime_api::{RuntimeApi, output_of};
use serde_json::{Value, json};

const INVOKE_TIMEOUT: Duration = Duration::from_secs(20);

fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_authorizer"))
}

fn effect(resp: &Value) -> &Value {
    &resp["policyDocument"]["Statement"][0]["Effect"]
}

#[tokio::test]
async fn binary_answers_rest_and_http_api_events_through_the_runtime_api() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new(
        "Temperature Testers, Inc.",
        "Temperature Testers Devices CA",
    );
    std::fs::write(dir.path().join("truststore.pem"), ca.pem()).unwrap();
    std::fs::write(
        dir.path().join("devices.crl"),
        ca.crl().revoke(&serial20(0x10)).pem(),
    )
    .unwrap();
    let config = json!({
        "truststore": format!("file://{}/truststore.pem", dir.path().display()),
        "issuers": [{
            "name": "devices",
            "match": {"O": "Temperature Testers, Inc.", "CN": "Temperature Testers Devices CA"},
            "crl": format!("file://{}/devices.crl", dir.path().display()),
            "subject": {"CN": ["device-1"]}
        }],
        "crl_refresh_seconds": 300,
        "crl_grace_seconds": 3600
    });
    let config_path = dir.path().join("config.json");
    std::fs::write(&config_path, config.to_string()).unwrap();
    let config_uri = format!("file://{}", config_path.display());

    let api = RuntimeApi::start().await;
    let child = api.spawn(binary(), &[("AUTHORIZER_CONFIG", config_uri.as_str())]);

    let good = ca.leaf(&serial20(0x11)).pem();
    let revoked = ca.leaf(&serial20(0x10)).pem();

    let started = Instant::now();
    let resp = api
        .invoke(events::rest(Some(&good)), INVOKE_TIMEOUT)
        .await
        .unwrap();
    let first = started.elapsed();
    assert_eq!(effect(&resp), "Allow", "{resp}");
    assert_eq!(resp["context"]["issuer"], "devices");
    assert_eq!(
        resp["context"]["serialNumber"],
        format!("805a{}11", "5a".repeat(17))
    );

    let resp = api
        .invoke(events::rest(Some(&revoked)), INVOKE_TIMEOUT)
        .await
        .unwrap();
    assert_eq!(effect(&resp), "Deny");
    assert_eq!(resp["context"]["reason"], "revoked");

    let resp = api
        .invoke(events::http_v2(Some(&good)), INVOKE_TIMEOUT)
        .await
        .unwrap();
    assert_eq!(resp["isAuthorized"], true, "{resp}");
    let resp = api
        .invoke(events::http_v2(Some(&revoked)), INVOKE_TIMEOUT)
        .await
        .unwrap();
    assert_eq!(resp["isAuthorized"], false);
    assert_eq!(resp["context"]["reason"], "revoked");

    let resp = api
        .invoke(json!({"surprise": true}), INVOKE_TIMEOUT)
        .await
        .unwrap();
    assert_eq!(effect(&resp), "Deny");
    let resp = api
        .invoke(events::rest(None), INVOKE_TIMEOUT)
        .await
        .unwrap();
    assert_eq!(resp["context"]["reason"], "missing_certificate");

    // Warm path, end to end through the Runtime API (informational).
    let warm_started = Instant::now();
    for _ in 0..20 {
        let resp = api
            .invoke(events::rest(Some(&good)), INVOKE_TIMEOUT)
            .await
            .unwrap();
        assert_eq!(effect(&resp), "Allow");
    }
    eprintln!(
        "first invoke {first:?}; warm invoke via runtime API {:?}",
        warm_started.elapsed() / 20
    );

    let logs = output_of(child).await;
    let decisions: Vec<Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["event"] == "decision")
        .collect();
    assert_eq!(decisions.len(), 26, "one log line per decision:\n{logs}");
    let revoked_line = decisions.iter().find(|d| d["reason"] == "revoked").unwrap();
    assert_eq!(revoked_line["issuer"], "devices");
    assert_eq!(revoked_line["serial"], format!("805a{}10", "5a".repeat(17)));
    assert!(revoked_line["crl_age_seconds"].is_number());
    assert!(
        !logs.contains("BEGIN CERTIFICATE"),
        "the PEM must never be logged"
    );
    // Each decision line is the metric record, traceable to API Gateway's
    // access log and to the Lambda invocation.
    for line in &decisions {
        assert_eq!(line["Decisions"], 1, "{line}");
        assert!(line["DecisionLatency"].is_number(), "{line}");
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Namespace"], "MtlsAuthorizer",
            "{line}"
        );
        assert!(line["lambda_request_id"].is_string(), "{line}");
        assert!(
            line["trace_id"].as_str().unwrap().starts_with("Root=1-"),
            "{line}"
        );
    }
    assert_eq!(
        revoked_line["api_request_id"],
        "ach3c2d7-8e7f-4e6d-9b1c-5e7c1f3b5d6a"
    );
    assert_eq!(revoked_line["api_extended_request_id"], "RZ3hNEQ0IAMF1iw=");
    let v2 = decisions
        .iter()
        .find(|d| d["api_request_id"] == "JKJaXmPLvHcESHA=")
        .unwrap();
    assert!(v2.get("api_extended_request_id").is_none(), "{v2}");
    let allowed = decisions.iter().find(|d| d["decision"] == "allow").unwrap();
    assert_eq!(allowed["reason"], "allowed");
    let unknown = decisions
        .iter()
        .find(|d| d["reason"] == "internal_error")
        .unwrap();
    assert_eq!(unknown["issuer"], "none");
}

#[tokio::test]
async fn binary_reports_crl_refresh_failures_and_rejections_with_their_cause() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Temperature Testers, Inc.", "Devices CA");
    let lab = Ca::new("Temperature Testers, Inc.", "Lab CA");
    // Same name as the lab CA, another key: its CRL cannot verify.
    let impostor = Ca::new("Temperature Testers, Inc.", "Lab CA");
    std::fs::write(
        dir.path().join("truststore.pem"),
        format!("{}{}", ca.pem(), lab.pem()),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("lab.crl"),
        impostor.crl().revoke(&serial20(1)).pem(),
    )
    .unwrap();
    let config = json!({
        "truststore": format!("file://{}/truststore.pem", dir.path().display()),
        "issuers": [
            {"name": "devices", "match": {"CN": "Devices CA"},
             "crl": format!("file://{}/missing.crl", dir.path().display())},
            {"name": "lab", "match": {"CN": "Lab CA"},
             "crl": format!("file://{}/lab.crl", dir.path().display())}
        ]
    });
    let api = RuntimeApi::start().await;
    let child = api.spawn(
        binary(),
        &[
            ("AUTHORIZER_CONFIG", config.to_string().as_str()),
            ("METRICS_NAMESPACE", "Acme/mTLS"),
        ],
    );
    let resp = api
        .invoke(events::rest(Some(&ca.leaf(&[0x41]).pem())), INVOKE_TIMEOUT)
        .await
        .unwrap();
    assert_eq!(resp["context"]["reason"], "crl_unavailable");
    let logs = output_of(child).await;
    let lines: Vec<Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .collect();
    let crl = |issuer: &str| {
        lines
            .iter()
            .find(|v| v["event"] == "crl_metrics" && v["issuer"] == issuer)
            .unwrap_or_else(|| panic!("no crl_metrics line for {issuer}:\n{logs}"))
    };
    let failed = crl("devices");
    assert_eq!(
        (
            &failed["outcome"],
            &failed["cause"],
            &failed["CrlRefreshFailures"]
        ),
        (&json!("failed"), &json!("fetch"), &json!(1)),
        "{failed}"
    );
    let rejected = crl("lab");
    assert_eq!(
        (
            &rejected["outcome"],
            &rejected["cause"],
            &rejected["CrlRejected"]
        ),
        (&json!("rejected"), &json!("signature"), &json!(1)),
        "{rejected}"
    );
    assert_eq!(
        rejected["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Acme/mTLS",
        "{rejected}"
    );
    let truststore = lines
        .iter()
        .find(|v| v["event"] == "truststore_metrics")
        .unwrap_or_else(|| panic!("no truststore_metrics line:\n{logs}"));
    assert_eq!(truststore["cas"], 2);
    assert!(
        truststore["TruststoreSecondsToFirstExpiry"]
            .as_i64()
            .unwrap()
            > 0
    );
    let decision = lines.iter().find(|v| v["event"] == "decision").unwrap();
    assert_eq!(
        (&decision["issuer"], &decision["reason"]),
        (&json!("devices"), &json!("crl_unavailable"))
    );
}

#[test]
fn print_metrics_matches_the_catalogue_the_infrastructure_checks_against() {
    let out = std::process::Command::new(binary())
        .arg("--print-metrics")
        .output()
        .unwrap();
    assert!(out.status.success());
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/metrics.json");
    let committed: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        printed, committed,
        "infra/metrics.json is stale: run `cargo run -p authorizer -- --print-metrics > infra/metrics.json`"
    );
}

#[tokio::test]
async fn binary_reads_config_truststore_and_crl_from_s3_using_the_endpoint_variables() {
    let moto = Moto::start().await;
    let s3 = moto.s3().await;
    s3.create_bucket().bucket("pki").send().await.unwrap();
    let ca = Ca::new("Temperature Testers, Inc.", "Devices CA");
    let config = json!({
        "truststore": "s3://pki/truststore.pem",
        "issuers": [{"name": "devices", "match": {"CN": "Devices CA"}, "crl": "s3://pki/crl/devices.crl"}]
    });
    for (key, body) in [
        ("truststore.pem", ca.pem().as_bytes().to_vec()),
        ("crl/devices.crl", ca.crl().revoke(&[0x42]).der()),
        ("config/authorizer.json", config.to_string().into_bytes()),
    ] {
        s3.put_object()
            .bucket("pki")
            .key(key)
            .body(ByteStream::from(body))
            .send()
            .await
            .unwrap();
    }

    let api = RuntimeApi::start().await;
    let s3_env = moto.function_env();
    let mut env = s3_env.pairs();
    env.push(("AUTHORIZER_CONFIG", "s3://pki/config/authorizer.json"));
    let child = api.spawn(binary(), &env);
    let resp = api
        .invoke(events::rest(Some(&ca.leaf(&[0x41]).pem())), INVOKE_TIMEOUT)
        .await
        .unwrap();
    assert_eq!(effect(&resp), "Allow", "{resp}");
    let resp = api
        .invoke(events::rest(Some(&ca.leaf(&[0x42]).pem())), INVOKE_TIMEOUT)
        .await
        .unwrap();
    assert_eq!(resp["context"]["reason"], "revoked");
    drop(output_of(child).await);
}

#[tokio::test]
async fn binary_refuses_to_start_with_an_invalid_configuration() {
    let api = RuntimeApi::start().await;
    let config = r#"{"truststore":"file:///nonexistent.pem","issuers":[{"name":"devices","match":{"CN":"x"}}]}"#;
    let logs = failed_start(&api, &[("AUTHORIZER_CONFIG", config)]).await;
    assert!(logs.contains("a CRL or OCSP is required"), "{logs}");

    let logs = failed_start(&api, &[]).await;
    assert!(logs.contains("AUTHORIZER_CONFIG is not set"), "{logs}");

    // A namespace CloudWatch would refuse would lose every metric silently.
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Temperature Testers, Inc.", "Devices CA");
    std::fs::write(dir.path().join("truststore.pem"), ca.pem()).unwrap();
    let config = json!({
        "truststore": format!("file://{}/truststore.pem", dir.path().display()),
        "issuers": [{"name": "lab", "match": {"CN": "Devices CA"}, "revocation": "none"}]
    })
    .to_string();
    let env = [
        ("AUTHORIZER_CONFIG", config.as_str()),
        ("METRICS_NAMESPACE", "AWS/Lambda"),
    ];
    let logs = failed_start(&api, &env).await;
    assert!(logs.contains("METRICS_NAMESPACE"), "{logs}");
}

/// Starts the binary with `env`, asserts that its cold start fails (a
/// failed exit within 20 s), and returns what it wrote.
async fn failed_start(api: &RuntimeApi, env: &[(&str, &str)]) -> String {
    let mut child = api.spawn(binary(), env);
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(!status.success(), "must not run with {env:?}");
    output_of(child).await
}

/// `authorizer --check-config FILE`, run on the built binary.
fn check_config(config: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("authorizer.json");
    std::fs::write(&path, config).unwrap();
    std::process::Command::new(binary())
        .arg("--check-config")
        .arg(&path)
        .env_remove("AUTHORIZER_CONFIG")
        .env_remove("HTTP_API_RESPONSE")
        .output()
        .unwrap()
}

#[test]
fn check_config_accepts_the_shape_the_infrastructure_renders() {
    // What infra/terraform and infra/cdk render into AUTHORIZER_CONFIG, with a
    // cache (policy_resource "stage") and every optional issuer field.
    let config = json!({
        "truststore": "s3://temps-truststore-0123/truststore.pem",
        "issuers": [
            {"name": "devices", "match": {"O": "Temperature Testers", "CN": "Temperature Testers Issuing CA"},
             "crl": "s3://my-crls/devices.crl", "subject": {"OU": "Sensors", "eku": "client_auth_required"}},
            {"name": "lab", "match": {"O": "Lab"}, "revocation": "none"},
            {"name": "rolled", "match": {"CN": "Rolled CA"}, "crl": ["s3://my-crls/key1.crl", "s3://my-crls/key2.crl"]},
            {"name": "private-ca", "match": {"CN": "Private CA"},
             "crl_from_cdp": [{"prefix": "http://crl.example.com/crl/", "fetch": "s3://my-pca-crls/crl/"}]}
        ],
        "max_cdp_crls_per_issuer": 128,
        "crl_refresh_seconds": 300,
        "crl_grace_seconds": 3600,
        "policy_resource": "stage"
    });
    let out = check_config(&config.to_string());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.starts_with("valid: truststore s3://temps-truststore-0123/truststore.pem, 4 issuer(s), CRL refresh 300 s, grace 3600 s, policy resource stage"), "{stdout}");
    assert!(
        stdout.contains("rolled: CRL s3://my-crls/key1.crl, s3://my-crls/key2.crl"),
        "{stdout}"
    );
    assert!(
        stdout.contains("private-ca: CRLs from the certificates' distribution points under http://crl.example.com/crl/ (fetched from s3://my-pca-crls/crl/) (at most 128 held)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("devices: CRL s3://my-crls/devices.crl"),
        "{stdout}"
    );
    assert!(stdout.contains("lab: no revocation check"), "{stdout}");
}

#[test]
fn check_config_refuses_an_unknown_field_and_names_it() {
    let out = check_config(r#"{"truststore": "file:///t.pem", "issuers": [], "crl_refresh": 5}"#);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown field `crl_refresh`"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn check_config_refuses_an_issuer_without_a_crl() {
    let out = check_config(
        r#"{"truststore": "file:///t.pem", "issuers": [{"name": "x", "match": {"CN": "X"}}]}"#,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(!String::from_utf8_lossy(&out.stderr).is_empty());
}

#[test]
fn unknown_arguments_are_a_usage_error() {
    let out = std::process::Command::new(binary())
        .arg("--serve")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--check-config"));
}
