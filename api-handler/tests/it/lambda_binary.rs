//! The built `api-handler` binary, run the way Lambda runs it: a process
//! polling the Runtime API, configured only by environment variables.

use crate::common;

use std::path::Path;
use std::time::Duration;

use common::{TABLE, create_table, device, dynamodb_client, get, post, reading};
use mtls_tests::events::ProxyEvent;
use mtls_tests::moto::Moto;
use mtls_tests::runtime_api::{RuntimeApi, output_of};
use serde_json::Value;

const TIMEOUT: Duration = Duration::from_secs(20);

fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_api-handler"))
}

/// Invokes and decodes the proxy response: (status, body).
async fn call(api: &RuntimeApi, event: Value) -> (u64, Value) {
    let out = api.invoke(event, TIMEOUT).await.unwrap();
    let body = serde_json::from_str(out["body"].as_str().unwrap()).unwrap();
    (out["statusCode"].as_u64().unwrap(), body)
}

/// A reading time a little before now, which the binary's real clock accepts.
fn recent(minutes_ago: i64) -> String {
    (time::OffsetDateTime::now_utc() - time::Duration::minutes(minutes_ago))
        .replace_nanosecond(0)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

fn json_lines(output: &str) -> Vec<Value> {
    output
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON log line ({e}): {l}"))
        })
        .collect()
}

#[tokio::test]
async fn binary_keeps_readings_in_the_local_store_across_restarts_and_logs_json_without_bodies() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let env = [("TEMPS_DATA_DIR", data.to_str().unwrap())];
    let me = device("sensor-1", "01");
    let time = recent(1);

    let api = RuntimeApi::start().await;
    let child = api.spawn(binary(), &env);
    // A negative reading: the check below must not match inside a log timestamp
    // (`15:43:23.254Z` contains "23.25") or a latency, which are never negative.
    let (status, body) = call(&api, post(&me, &reading("-17.625", &time)).http_v2()).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = call(&api, get(&me).rest()).await;
    assert_eq!(
        (status, body["readings"].as_array().map(Vec::len)),
        (200, Some(1))
    );
    let (status, _) = call(&api, ProxyEvent::new("GET", "/temps").rest()).await;
    assert_eq!(status, 401);
    let logs = output_of(child).await;

    let lines = json_lines(&logs);
    let ready = lines.iter().find(|l| l["event"] == "ready").unwrap();
    assert_eq!(ready["store"], "local");
    let requests: Vec<&Value> = lines.iter().filter(|l| l["event"] == "request").collect();
    assert_eq!(requests.len(), 3, "{logs}");
    let first = requests.first().unwrap();
    assert_eq!(first["method"], "POST");
    assert_eq!(first["route"], "/temps");
    assert_eq!(first["status"], 201);
    assert_eq!(first["format"], "http_v2");
    assert!(
        first["identity"]
            .as_str()
            .unwrap()
            .starts_with("name-sha256:")
    );
    assert_eq!(first["subject"], "CN=sensor-1,OU=Sensors,O=Example");
    assert!(first["latency_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(requests.get(2).unwrap()["status"], 401);
    assert!(
        !logs.contains("-17.625") && !logs.contains(&time) && !logs.contains("temperature"),
        "bodies must not be logged: {logs}"
    );

    // A restart of the local run keeps the readings.
    let api = RuntimeApi::start().await;
    let child = api.spawn(binary(), &env);
    let (status, body) = call(&api, get(&me).http_v2()).await;
    assert_eq!(status, 200);
    assert_eq!(body["readings"][0]["temperature"], -17.625);
    assert_eq!(body["readings"][0]["time"], time.as_str());
    drop(child);
}

#[tokio::test]
async fn binary_uses_dynamodb_when_temps_table_is_set() {
    let moto = Moto::start().await;
    let client = dynamodb_client(&moto).await;
    create_table(&client, TABLE).await;
    let endpoint = moto.endpoint();
    let api = RuntimeApi::start().await;
    let child = api.spawn(
        binary(),
        &[
            ("TEMPS_TABLE", TABLE),
            ("AWS_ENDPOINT_URL", endpoint.as_str()),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("TEMPS_RETENTION_DAYS", "7"),
        ],
    );
    let me = device("sensor-1", "01");
    let (status, body) = call(&api, post(&me, &reading("19", &recent(2))).rest()).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = call(&api, get(&me).http_v2()).await;
    assert_eq!(
        (status, &body["readings"][0]["temperature"]),
        (200, &Value::from(19.0))
    );
    let items = client.scan().table_name(TABLE).send().await.unwrap();
    assert_eq!(items.count(), 1);
    let logs = output_of(child).await;
    assert!(logs.contains(r#""store":"dynamodb""#), "{logs}");
}

/// Starts the binary with `env` and expects it to exit during cold start;
/// returns its output. Lambda reports such an exit as `Runtime.ExitError`
/// with the log lines.
async fn failed_start(env: &[(&str, &str)]) -> String {
    let api = RuntimeApi::start().await;
    let mut child = api.spawn(binary(), env);
    let status = tokio::time::timeout(TIMEOUT, child.wait())
        .await
        .expect("the binary should exit at cold start")
        .unwrap();
    assert!(!status.success());
    let logs = output_of(child).await;
    let init = json_lines(&logs)
        .into_iter()
        .find(|l| l["event"] == "init_failed")
        .unwrap_or_else(|| panic!("no init_failed line: {logs}"));
    init["error"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn binary_on_lambda_without_a_table_refuses_to_start_rather_than_write_to_ephemeral_disk() {
    let error = failed_start(&[("LAMBDA_TASK_ROOT", "/var/task")]).await;
    assert!(error.contains("TEMPS_TABLE"), "{error}");
}

#[tokio::test]
async fn binary_refuses_a_bad_retention_setting_at_cold_start() {
    let dir = tempfile::tempdir().unwrap();
    let error = failed_start(&[
        ("TEMPS_DATA_DIR", dir.path().to_str().unwrap()),
        ("TEMPS_RETENTION_DAYS", "forever"),
    ])
    .await;
    assert!(error.contains("TEMPS_RETENTION_DAYS"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_processes_opening_one_new_local_store_at_once_all_start() {
    // The local gateway starts every instance at once, and each opens the
    // store: one that found it locked while another switched it to WAL failed
    // its init ("database is locked") and was started again (found by the soak).
    for _ in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        let env = vec![(
            "TEMPS_DATA_DIR".to_owned(),
            dir.path().display().to_string(),
        )];
        let f = mtls_lambda_host::Function::start("api-handler", binary().to_owned(), env, 6)
            .await
            .unwrap();
        assert!(
            f.ready(Duration::from_secs(30)).await,
            "{:?}",
            f.init_error()
        );
        assert_eq!(
            f.counts().cold_starts,
            6,
            "an init failed and was started again"
        );
    }
}
