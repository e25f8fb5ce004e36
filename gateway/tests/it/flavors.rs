//! The local gateway as an HTTP API (`--api http`) and in front of an HTTP
//! backend (`--backend http://…`), end to end with the real binaries, curl
//! and a local echo server.

use crate::common;

use common::{Running, client, curl, curl_with, dev_stack, now_rfc3339, serve_stack_with, whoami};
use gateway::dev::{self, GOOD_SERIAL};
use mtls_tests::echo_server::EchoServer;

async fn http_api_main_flows(run: &Running) {
    let good = client(&run.stack.devices, "good");
    let body = format!(r#"{{"temperature": 19.5, "time": "{}"}}"#, now_rfc3339());
    let posted = curl(run, Some(&good), "POST", "/temps", Some(&body)).await;
    assert_eq!(posted.status, 201, "{posted:?}");
    let me = whoami(run, &run.stack.devices, "good").await;
    assert_eq!(me.status, 200, "{me:?}");
    assert_eq!(me.json()["serialNumber"], GOOD_SERIAL);
    // A Deny is a bare 403: HTTP APIs have no gateway responses to carry the reason.
    let revoked = whoami(run, &run.stack.devices, "revoked").await;
    assert_eq!(
        (revoked.status, revoked.body.as_str()),
        (403, r#"{"message":"Forbidden"}"#)
    );
    let other = whoami(run, &run.stack.other, "wrong-issuer").await;
    assert_eq!(other.status, 403, "{other:?}");
    let nope = curl(run, Some(&good), "GET", "/nope", None).await;
    assert_eq!(
        (nope.status, nope.body.as_str()),
        (404, r#"{"message":"Not Found"}"#)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_api_mode_answers_as_an_http_api_with_simple_responses() {
    let run = dev_stack(&["--api", "http"]).await;
    http_api_main_flows(&run).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_api_mode_reads_iam_responses_too() {
    let tmp = tempfile::tempdir().unwrap();
    let stack = dev::prepare(&tmp.path().join(".local"), time::OffsetDateTime::now_utc()).unwrap();
    let config = stack.authorizer_config.clone();
    let authorizer = common::bin_dir().join("authorizer");
    let run = serve_stack_with(
        tmp,
        stack,
        &config,
        &authorizer,
        &["--api", "http", "--authorizer-env", "HTTP_API_RESPONSE=iam"],
    )
    .await;
    http_api_main_flows(&run).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_api_mode_answers_401_without_the_identity_source_and_500_when_the_authorizer_fails() {
    let run = dev_stack(&[
        "--api",
        "http",
        "--authorizer-cache-ttl",
        "60",
        "--identity-source",
        "$request.header.x-device",
    ])
    .await;
    let good = client(&run.stack.devices, "good");
    let missing = curl(&run, Some(&good), "GET", "/whoami", None).await;
    assert_eq!(
        (missing.status, missing.body.as_str()),
        (401, r#"{"message":"Unauthorized"}"#)
    );
    let with = curl_with(&run, Some(&good), "GET", "/whoami", None, &["x-device: d1"]).await;
    assert_eq!(with.status, 200, "{with:?}");

    // The api-handler as the "authorizer": it answers a proxy response, which
    // no authorizer response format accepts.
    let tmp = tempfile::tempdir().unwrap();
    let stack = dev::prepare(&tmp.path().join(".local"), time::OffsetDateTime::now_utc()).unwrap();
    let config = stack.authorizer_config.clone();
    let not_an_authorizer = common::bin_dir().join("api-handler");
    let run = serve_stack_with(tmp, stack, &config, &not_an_authorizer, &["--api", "http"]).await;
    let failed = whoami(&run, &run.stack.devices, "good").await;
    assert_eq!(
        (failed.status, failed.body.as_str()),
        (500, r#"{"message":"Internal Server Error"}"#)
    );
}

/// The verified identity reaches an HTTP backend as headers; a client's
/// headers of the same names never do, in either API flavour.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_backend_gets_the_verified_identity_and_never_a_spoofed_one() {
    let echo = EchoServer::start().await;
    for flavor in ["rest", "http"] {
        let run = dev_stack(&["--api", flavor, "--backend", &echo.url()]).await;
        let good = client(&run.stack.devices, "good");
        let spoofed = [
            "x-client-cert-serial: 00",
            "X-Client-Cert-Policy: admins",
            "x-client-cert-subject: CN=admin",
        ];
        let r = curl_with(&run, Some(&good), "GET", "/whoami?x=1", None, &spoofed).await;
        assert_eq!(r.status, 200, "{flavor}: {r:?}");
        let seen = r.json();
        assert_eq!(seen["path"], "/whoami", "{flavor}: {seen}");
        assert_eq!(seen["query"], "x=1", "{flavor}: {seen}");
        let header = |name: &str| seen["headers"][name].clone();
        assert_eq!(
            header("x-client-cert-serial"),
            serde_json::json!([GOOD_SERIAL]),
            "{flavor}: {seen}"
        );
        assert_eq!(
            header("x-client-cert-policy"),
            serde_json::json!(["devices"]),
            "{flavor}: {seen}"
        );
        assert_eq!(
            header("x-client-cert-subject"),
            serde_json::json!(["O=Temperature Testers,CN=good"]),
            "{flavor}: {seen}"
        );
        assert!(
            header("x-client-cert-issuer")[0]
                .as_str()
                .unwrap()
                .contains("Devices CA"),
            "{seen}"
        );
        assert_eq!(
            header("x-client-cert-sha256")[0].as_str().unwrap().len(),
            64,
            "{seen}"
        );
        // Every method and path reaches it, as the deployed greedy route
        // (`ANY /{proxy+}`, `$default`) sends them, not only the api-handler's.
        let r = curl_with(&run, Some(&good), "DELETE", "/orders/42/items", None, &[]).await;
        assert_eq!(r.status, 200, "{flavor}: {r:?}");
        assert_eq!(r.json()["path"], "/orders/42/items", "{flavor}: {r:?}");
        assert_eq!(r.json()["method"], "DELETE", "{flavor}: {r:?}");
        // A denied device never reaches the backend.
        let revoked = whoami(&run, &run.stack.devices, "revoked").await;
        assert_eq!(revoked.status, 403, "{flavor}: {revoked:?}");
        assert!(!revoked.body.contains("headers"), "{flavor}: {revoked:?}");
    }
}
