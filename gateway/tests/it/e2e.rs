//! End to end, with real clients: curl and openssl s_client against the
//! gateway, the real authorizer and api-handler binaries behind it, PKIs
//! made by `truststore pki`. Loopback only; every wait is bounded.

use crate::common;

use std::time::{Duration, Instant};

use common::{
    client, curl, dev_stack, now_rfc3339, s_client, serve_stack, truststore_cli, whoami, whoami_as,
};
use gateway::dev::{self, GOOD_SERIAL, REFRESH_SECONDS, REVOKED_SERIAL};
use mtls_pki::pki::{IssueOptions, Pki};
use mtls_tests::http_server::{HttpServer, Mode};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn good_device_posts_a_reading_and_reads_it_back() {
    let run = dev_stack(&[]).await;
    let good = client(&run.stack.devices, "good");
    let time = now_rfc3339();
    let body = format!(r#"{{"temperature": 21.5, "time": "{time}"}}"#);
    let posted = curl(&run, Some(&good), "POST", "/temps", Some(&body)).await;
    assert_eq!(posted.status, 201, "{posted:?}");
    let got = curl(&run, Some(&good), "GET", "/temps", None).await;
    assert_eq!(got.status, 200, "{got:?}");
    assert_eq!(got.json()["readings"][0]["time"], time.as_str());
    let me = whoami_as(&run, &good).await;
    assert_eq!(me.json()["serialNumber"], GOOD_SERIAL);
    assert_eq!(me.json()["issuer"], "devices");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_device_is_denied_and_its_20_byte_neighbour_allowed() {
    let run = dev_stack(&[]).await;
    let revoked = whoami(&run, &run.stack.devices, "revoked").await;
    assert_eq!(revoked.status, 403, "{revoked:?}");
    assert_eq!(revoked.json()["reason"], "revoked");
    // The allowed serial differs from the revoked one in its last octet only.
    assert_eq!(GOOD_SERIAL[..38], REVOKED_SERIAL[..38]);
    let good = whoami(&run, &run.stack.devices, "good").await;
    assert_eq!(good.status, 200, "{good:?}");
    assert_eq!(good.json()["serialNumber"], GOOD_SERIAL);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_while_running_denies_within_the_refresh_interval() {
    let run = dev_stack(&[]).await;
    let good = client(&run.stack.devices, "good");
    assert_eq!(whoami_as(&run, &good).await.status, 200);
    let dir = run.stack.devices.display().to_string();
    let started = Instant::now();
    truststore_cli(&["pki", "revoke", "good", "--dir", &dir]).await;
    truststore_cli(&["pki", "crl", "--dir", &dir]).await;
    let limit = Duration::from_secs(REFRESH_SECONDS * 2 + 5);
    loop {
        let r = whoami_as(&run, &good).await;
        if r.status == 403 {
            assert_eq!(r.json()["reason"], "revoked");
            break;
        }
        assert_eq!(r.status, 200, "{r:?}");
        assert!(
            started.elapsed() < limit,
            "still allowed after {:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    eprintln!("revocation took effect after {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_of_a_ca_outside_the_policy_is_denied_issuer_not_allowed() {
    let run = dev_stack(&[]).await;
    let r = whoami(&run, &run.stack.other, "wrong-issuer").await;
    assert_eq!(r.status, 403, "{r:?}");
    assert_eq!(r.json()["reason"], "issuer_not_allowed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_ca_expired_certificate_and_no_certificate_are_refused_at_the_handshake() {
    let run = dev_stack(&[]).await;
    // A CA that is not in the truststore.
    let outsider_dir = run.stack.dir.join("pki-outsider");
    let outsider = Pki::at(&outsider_dir);
    outsider
        .init(
            &mtls_pki::pki::InitOptions {
                org: "Outsider".into(),
                country: None,
                root_cn: "Outsider Root".into(),
                ca_cn: "Outsider CA".into(),
                key_type: mtls_pki::pki::KeyType::EcdsaP256,
                root_days: 365,
                ca_days: 365,
                issuer_name: "outsider".into(),
                crl_uri: None,
                truststore_uri: None,
                crl_refresh_seconds: 30,
                force: false,
            },
            time::OffsetDateTime::now_utc(),
        )
        .unwrap();
    outsider
        .issue(
            "stranger",
            &IssueOptions {
                days: 30,
                ..IssueOptions::default()
            },
            time::OffsetDateTime::now_utc(),
        )
        .unwrap();
    // An expired certificate from the trusted, allowed CA.
    let now = time::OffsetDateTime::now_utc();
    Pki::at(&run.stack.devices)
        .issue(
            "expired",
            &IssueOptions {
                not_before: Some(now - time::Duration::days(30)),
                not_after: Some(now - time::Duration::days(1)),
                ..IssueOptions::default()
            },
            now,
        )
        .unwrap();

    for (what, cert) in [
        ("unknown CA", Some(client(&outsider_dir, "stranger"))),
        ("expired", Some(client(&run.stack.devices, "expired"))),
        ("no certificate", None),
    ] {
        let r = curl(&run, cert.as_ref(), "GET", "/whoami", None).await;
        assert_eq!(r.status, 0, "{what}: an HTTP answer came back: {r:?}");
        assert_ne!(r.exit, 0, "{what}");
    }

    // openssl s_client sees the handshake fail without a certificate…
    let text = s_client(&run, &["-tls1_2".as_ref()]).await;
    assert!(
        text.contains("alert") || text.contains("handshake failure"),
        "s_client completed a handshake without a certificate: {text}"
    );
    // …and succeed with the good one.
    let (c, k) = client(&run.stack.devices, "good");
    let text = s_client(
        &run,
        &[
            "-cert".as_ref(),
            c.as_os_str(),
            "-key".as_ref(),
            k.as_os_str(),
        ],
    )
    .await;
    assert!(text.contains("Verify return code: 0 (ok)"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_with_an_extra_property_is_400_and_unknown_routes_403() {
    let run = dev_stack(&[]).await;
    let good = client(&run.stack.devices, "good");
    let body = format!(
        r#"{{"temperature": 20, "time": "{}", "ip": "10.0.0.1"}}"#,
        now_rfc3339()
    );
    let r = curl(&run, Some(&good), "POST", "/temps", Some(&body)).await;
    assert_eq!(r.status, 400, "{r:?}");
    assert_eq!(r.json()["field"], "ip");
    let r = curl(&run, Some(&good), "DELETE", "/temps", None).await;
    assert_eq!(
        (r.status, r.json()["message"].as_str()),
        (403, Some("Missing Authentication Token"))
    );
    // The access log says why, where a newcomer looks.
    let log = std::fs::read_to_string(run.stack.dir.parent().unwrap().join("gateway.log")).unwrap();
    let line = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["event"] == "access" && v["method"] == "DELETE")
        .unwrap();
    assert_eq!(line["reason"], "no_such_route", "{line}");
    assert!(
        line["note"].as_str().unwrap().starts_with("no such route"),
        "{line}"
    );
}

/// `make run` stopped with Ctrl-C or `kill`: the gateway stops its functions
/// and exits 0. Ctrl-C in a terminal signals the whole foreground process
/// group; the functions sit in groups of their own, so they are stopped by
/// the gateway, not killed by the signal and reported as a crash.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_and_sigterm_stop_the_gateway_and_its_functions_with_status_0() {
    for signal in ["-INT", "-TERM"] {
        let mut run = dev_stack(&[]).await;
        let pid = run.child.id().unwrap();
        let children: Vec<u32> = std::fs::read_dir(format!("/proc/{pid}/task"))
            .unwrap()
            .flat_map(|t| {
                let path = t.unwrap().path().join("children");
                std::fs::read_to_string(path)
                    .unwrap_or_default()
                    .split_whitespace()
                    .map(|p| p.parse().unwrap())
                    .collect::<Vec<u32>>()
            })
            .collect();
        assert!(children.len() >= 2, "the functions run: {children:?}");
        // Out of the gateway's process group, so a terminal's SIGINT does not
        // reach them (whether they would then be reported before the gateway
        // stops them is a race, so the group is checked itself).
        for child in &children {
            let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap();
            let pgrp: u32 = stat
                .rsplit(") ")
                .next()
                .and_then(|rest| rest.split_whitespace().nth(2))
                .and_then(|p| p.parse().ok())
                .unwrap();
            assert_ne!(
                pgrp, pid,
                "function {child} is in the gateway's process group"
            );
        }
        // SIGINT to the group, as a terminal sends it; SIGTERM to the gateway, as `kill` does.
        let target = if signal == "-INT" {
            format!("-{pid}")
        } else {
            pid.to_string()
        };
        let killed = std::process::Command::new("kill")
            .args([signal, "--", &target])
            .status()
            .unwrap();
        assert!(killed.success());
        let status = tokio::time::timeout(Duration::from_secs(20), run.child.wait())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(status.code(), Some(0), "{signal}: {status}");
        let root = run.stack.dir.parent().unwrap().to_owned();
        for log in ["gateway.log", "functions.log"] {
            let text = std::fs::read_to_string(root.join(log)).unwrap_or_default();
            assert!(
                !text.contains("function_exited"),
                "{signal}: a function died of the signal: {text}"
            );
        }
        for child in children {
            // Gone, or a zombie waiting for a reaper: not running. The kill is
            // sent before the gateway exits; the kernel may take a moment to
            // finish the process.
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                let stat =
                    std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
                let state = stat.rsplit(") ").next().and_then(|s| s.chars().next());
                if matches!(state, None | Some('Z' | 'X')) {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "{signal}: function {child} still runs 5 s after the gateway exited: {stat}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// After the README's revoke step, the next run says so; `--fresh` starts
/// over with the good device allowed again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_starts_over_after_the_good_device_was_revoked() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(".local");
    let now = time::OffsetDateTime::now_utc();
    let stack = dev::prepare(&dir, now).unwrap();
    Pki::at(&stack.devices)
        .revoke("good", mtls_pki::pki::Reason::KeyCompromise, now)
        .unwrap();
    assert!(dev::good_is_revoked(&stack));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(["dev", "--fresh", "--dir"])
        .arg(&dir)
        .args(["--bin-dir", "/nonexistent", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    // It fails later, at the missing binaries, but only after starting over.
    assert!(!out.status.success());
    let stack = dev::prepare(&dir, now).unwrap();
    assert!(!dev::good_is_revoked(&stack));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_truststore_file_is_picked_up_without_a_restart() {
    let run = dev_stack(&[]).await;
    let wrong = client(&run.stack.other, "wrong-issuer");
    assert_eq!(whoami_as(&run, &wrong).await.status, 403);
    // A "new version" without the second CA: its clients now fail the handshake.
    std::fs::copy(
        run.stack.devices.join("truststore.pem"),
        &run.stack.truststore,
    )
    .unwrap();
    let started = Instant::now();
    loop {
        let r = whoami_as(&run, &wrong).await;
        if r.status == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "old truststore still in use"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let good = client(&run.stack.devices, "good");
    assert_eq!(whoami_as(&run, &good).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_allow_outlives_a_revocation_until_the_ttl() {
    let run = dev_stack(&["--authorizer-cache-ttl", "3600"]).await;
    let good = client(&run.stack.devices, "good");
    assert_eq!(whoami_as(&run, &good).await.status, 200);
    let dir = run.stack.devices.display().to_string();
    truststore_cli(&["pki", "revoke", "good", "--dir", &dir]).await;
    truststore_cli(&["pki", "crl", "--dir", &dir]).await;
    tokio::time::sleep(Duration::from_secs(REFRESH_SECONDS + 3)).await;
    // The authorizer knows, but API Gateway's cached Allow answers first.
    let r = whoami_as(&run, &good).await;
    assert_eq!(r.status, 200, "{r:?}");
    // A device that was never cached is asked about, and denied.
    let revoked = whoami(&run, &run.stack.devices, "revoked").await;
    assert_eq!(revoked.json()["reason"], "revoked");
}

/// The stack with its CRL served over HTTP by a server the test controls.
async fn http_crl_stack(mode: Mode) -> (common::Running, HttpServer) {
    let tmp = tempfile::tempdir().unwrap();
    let stack = dev::prepare(&tmp.path().join(".local"), time::OffsetDateTime::now_utc()).unwrap();
    let server = HttpServer::start(std::fs::read(stack.devices.join("crl.der")).unwrap()).await;
    server.set_mode(mode);
    let mut config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&stack.authorizer_config).unwrap()).unwrap();
    config["issuers"][0]["crl"] = serde_json::json!(server.url());
    config["crl_refresh_seconds"] = serde_json::json!(1);
    config["crl_retry_seconds"] = serde_json::json!(1);
    config["fetch_timeout_seconds"] = serde_json::json!(1);
    let path = tmp.path().join("authorizer-http.json");
    std::fs::write(&path, config.to_string()).unwrap();
    (serve_stack(tmp, stack, &path).await, server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crl_endpoint_down_with_a_cached_crl_within_grace_keeps_deciding() {
    let (run, server) = http_crl_stack(Mode::Serve).await;
    let good = client(&run.stack.devices, "good");
    let revoked = client(&run.stack.devices, "revoked");
    assert_eq!(whoami_as(&run, &good).await.status, 200);
    server.set_mode(Mode::Unavailable);
    let before = server.requests();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let g = whoami_as(&run, &good).await;
    assert_eq!(g.status, 200, "the cached CRL is still valid: {g:?}");
    let r = whoami_as(&run, &revoked).await;
    assert_eq!(
        r.json()["reason"],
        "revoked",
        "revoked devices stay revoked"
    );
    assert!(server.requests() > before, "refreshes were attempted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crl_endpoint_down_without_a_cached_crl_denies_crl_unavailable() {
    let (run, _server) = http_crl_stack(Mode::Unavailable).await;
    let r = whoami(&run, &run.stack.devices, "good").await;
    assert_eq!(r.status, 403, "{r:?}");
    assert_eq!(r.json()["reason"], "crl_unavailable");
}

/// `make run` shows the metrics without AWS: the authorizer's EMF lines in
/// the functions' log, and the gateway's summary every N requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_run_shows_emf_metrics_and_a_summary_every_n_requests() {
    let run = dev_stack(&["--summary-every", "3"]).await;
    assert_eq!(whoami(&run, &run.stack.devices, "good").await.status, 200);
    assert_eq!(whoami(&run, &run.stack.devices, "good").await.status, 200);
    assert_eq!(
        whoami(&run, &run.stack.devices, "revoked").await.status,
        403
    );
    let root = run.stack.dir.parent().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(10);
    let summary = loop {
        let log = std::fs::read_to_string(root.join("gateway.log")).unwrap_or_default();
        if let Some(line) = log
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|v| v["event"] == "summary")
        {
            break line;
        }
        assert!(Instant::now() < deadline, "no summary line:\n{log}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(summary["requests"], 3, "{summary}");
    let message = summary["message"].as_str().unwrap();
    assert!(
        message.starts_with("last 3 requests: allowed 2, revoked 1; latency p50 "),
        "{message}"
    );
    assert!(message.contains("authorizer p50"), "{message}");
    // The numbers are fields of their own, not a string to parse.
    assert_eq!(summary["allowed"], 2, "{summary}");
    assert!(summary["latency_p99_ms"].is_f64(), "{summary}");
    assert!(summary["authorizer_p50_ms"].is_f64(), "{summary}");
    let log = std::fs::read_to_string(root.join("gateway.log")).unwrap();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .collect();
    let by_reason: Vec<(&str, u64)> = lines
        .iter()
        .filter(|v| v["event"] == "summary_reason")
        .map(|v| {
            (
                v["reason"].as_str().unwrap(),
                v["requests"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(by_reason, [("allowed", 2), ("revoked", 1)], "{log}");
    // One spelling of a serial: the access line's is the decision line's hex.
    let access_serials: Vec<&str> = lines
        .iter()
        .filter(|v| v["event"] == "access")
        .map(|v| v["serial"].as_str().unwrap())
        .collect();
    assert_eq!(
        access_serials,
        [GOOD_SERIAL, GOOD_SERIAL, REVOKED_SERIAL],
        "{log}"
    );

    let functions = std::fs::read_to_string(root.join("functions.log")).unwrap();
    let decisions: Vec<serde_json::Value> = functions
        .lines()
        .filter_map(|l| l.split_once("] ").map(|(_, json)| json))
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["event"] == "decision")
        .collect();
    assert_eq!(decisions.len(), 3, "{functions}");
    let decision_serials: Vec<&str> = decisions
        .iter()
        .map(|d| d["serial"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(decision_serials, access_serials, "{functions}");
    for d in &decisions {
        assert_eq!(d["Decisions"], 1, "{d}");
        assert!(d["_aws"]["CloudWatchMetrics"].is_array(), "{d}");
        assert!(d["api_request_id"].is_string(), "{d}");
    }
    assert!(
        functions.contains("\"event\":\"crl_metrics\"")
            && functions.contains("\"event\":\"truststore_metrics\""),
        "{functions}"
    );
}

/// The dev stack with per-route rules: the devices CA may `POST /temps` and
/// `GET /whoami`; an `ops` entry for the second CA may also `GET /temps`. A
/// stage-wide policy, cached by the gateway for an hour.
async fn routed_stack() -> common::Running {
    let tmp = tempfile::tempdir().unwrap();
    let stack = dev::prepare(&tmp.path().join(".local"), time::OffsetDateTime::now_utc()).unwrap();
    let mut config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&stack.authorizer_config).unwrap()).unwrap();
    config["issuers"][0]["routes"] = serde_json::json!([
        {"method": "POST", "path": "/temps"},
        {"method": "GET", "path": "/whoami"}
    ]);
    let ops_crl = format!("file://{}", stack.other.join("crl.der").display());
    config["issuers"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "name": "ops",
            "match": {"CN": "Someone Else Issuing CA"},
            "crl": ops_crl,
            "routes": [{"method": "*", "path": "/temps"}, {"method": "GET", "path": "/whoami"}]
        }));
    config["policy_resource"] = serde_json::json!("stage");
    let path = tmp.path().join("authorizer-routes.json");
    std::fs::write(&path, config.to_string()).unwrap();
    let authorizer = common::bin_dir().join("authorizer");
    common::serve_stack_with(
        tmp,
        stack,
        &path,
        &authorizer,
        &["--authorizer-cache-ttl", "3600"],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_is_refused_the_route_only_ops_may_use_and_one_cached_policy_is_right_for_each() {
    let run = routed_stack().await;
    let device = client(&run.stack.devices, "good");
    let ops = client(&run.stack.other, "wrong-issuer");
    let reading = format!(r#"{{"temperature": 20.5, "time": "{}"}}"#, now_rfc3339());
    // The first request caches the device's stage-wide policy: its routes.
    let posted = curl(&run, Some(&device), "POST", "/temps", Some(&reading)).await;
    assert_eq!(posted.status, 201, "{posted:?}");
    // The same cached policy then allows its other route...
    assert_eq!(whoami_as(&run, &device).await.status, 200);
    // ...and refuses the route only ops may use.
    let read = curl(&run, Some(&device), "GET", "/temps", None).await;
    assert_eq!(read.status, 403, "{read:?}");
    // The ops certificate reads.
    let ops_read = curl(&run, Some(&ops), "GET", "/temps", None).await;
    assert_eq!(ops_read.status, 200, "{ops_read:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_route_asked_first_still_caches_a_policy_right_for_the_others() {
    let run = routed_stack().await;
    let device = client(&run.stack.devices, "good");
    let read = curl(&run, Some(&device), "GET", "/temps", None).await;
    assert_eq!(read.status, 403, "{read:?}");
    assert_eq!(read.json()["reason"], "route_not_allowed", "{read:?}");
    // Cached from that refusal: the device's allowed routes still pass.
    assert_eq!(whoami_as(&run, &device).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_stacks_operator_may_read_and_is_refused_a_write_route_not_allowed() {
    let run = dev_stack(&[]).await;
    let operator = client(&run.stack.ops, "operator");
    assert_eq!(whoami_as(&run, &operator).await.status, 200);
    assert_eq!(
        curl(&run, Some(&operator), "GET", "/temps", None)
            .await
            .status,
        200
    );
    let reading = format!(r#"{{"temperature": 20.5, "time": "{}"}}"#, now_rfc3339());
    let write = curl(&run, Some(&operator), "POST", "/temps", Some(&reading)).await;
    assert_eq!(write.status, 403, "{write:?}");
    assert_eq!(write.json()["reason"], "route_not_allowed", "{write:?}");
}

/// The state letter of a process (`R`, `S`, `T` for stopped), from /proc.
fn process_state(pid: u32) -> Option<char> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("State:"))
        .and_then(|v| v.trim().chars().next())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frozen_environment_is_stopped_between_invocations_and_a_recycled_one_cold_starts() {
    use mtls_lambda_host::{Function, Lifecycle};
    let data = tempfile::tempdir().unwrap();
    let env = vec![(
        "TEMPS_DATA_DIR".to_owned(),
        data.path().display().to_string(),
    )];
    let f = Function::start_with(
        "api-handler",
        common::bin_dir().join("api-handler"),
        env,
        2,
        Lifecycle::Freeze,
    )
    .await
    .unwrap();
    assert!(
        f.ready(Duration::from_secs(30)).await,
        "{:?}",
        f.init_error()
    );
    let before = f.processes();
    assert_eq!(before.len(), 2);
    // Two invocations: each environment answers one and is frozen after it
    // (an idle environment is handed out before a busy one could be).
    for _ in 0..2 {
        let answer = f
            .invoke(
                serde_json::json!({"not": "an event"}),
                Duration::from_secs(10),
            )
            .await
            .unwrap();
        assert!(answer.is_object(), "{answer}");
    }
    // SIGSTOP takes effect a moment after it is sent.
    for p in &before {
        let deadline = Instant::now() + Duration::from_secs(5);
        while process_state(p.pid) != Some('T') {
            assert!(Instant::now() < deadline, "{} is not stopped", p.label);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    // Thawed for the next one, which it answers, then frozen again.
    let answer = f
        .invoke(serde_json::json!({}), Duration::from_secs(10))
        .await
        .unwrap();
    assert!(answer.is_object(), "{answer}");
    assert_eq!(f.counts().freezes, 3);
    // Instance 0 is never recycled; instance 1 is, and comes back as a new process.
    let killed = f.recycle_idle(|_| 0).await;
    assert_eq!(killed.as_deref(), Some("api-handler#1"));
    let deadline = Instant::now() + Duration::from_secs(20);
    let new_pid = loop {
        let now = f.processes();
        if let Some(p) = now.iter().find(|p| p.label == "api-handler#1")
            && Some(p.pid) != before.iter().find(|b| b.label == p.label).map(|b| b.pid)
            && f.starts().iter().filter(|s| s.ready.is_some()).count() == 3
        {
            break p.pid;
        }
        assert!(Instant::now() < deadline, "no cold start after the recycle");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_ne!(process_state(new_pid), Some('T'));
    let counts = f.counts();
    assert_eq!((counts.recycled, counts.cold_starts), (1, 3));
    // Both environments still answer.
    for _ in 0..2 {
        f.invoke(serde_json::json!({}), Duration::from_secs(10))
            .await
            .unwrap();
    }
}
