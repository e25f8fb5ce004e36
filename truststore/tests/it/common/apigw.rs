//! A scripted API Gateway control plane on 127.0.0.1 for one custom domain,
//! speaking the REST (`apigateway`) and HTTP (`apigatewayv2`) wire formats of
//! GetDomainName and UpdateDomainName as the API reference documents them.
//! moto_server implements neither the mutual TLS fields nor UpdateDomainName,
//! so the real SDK clients are pointed here. The script decides how long an
//! update stays UPDATING, which versions draw truststoreWarnings, how many
//! calls are throttled, and whether the domain ever becomes AVAILABLE.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use tokio::task::JoinHandle;

/// The domain and the script.
#[derive(Debug, Default)]
pub struct Gw {
    pub domain: String,
    pub status: String,
    pub uri: String,
    pub version: Option<String>,
    pub warnings: Vec<String>,
    /// GETs that still read UPDATING after an update.
    pub updating_polls: u32,
    polls_left: u32,
    /// Versions API Gateway warns about, and the warnings.
    pub warn_on: HashMap<String, Vec<String>>,
    /// The next N UpdateDomainName calls get 429.
    pub throttle_updates: u32,
    /// The next N GetDomainName calls get 429.
    pub throttle_gets: u32,
    /// Retry-After seconds sent with a 429.
    pub retry_after: Option<u64>,
    /// After an update, never become AVAILABLE.
    pub stuck: bool,
    /// Every call: "GET", "GET 429", "PATCH v2", "PATCH 429", …
    pub log: Vec<String>,
}

impl Gw {
    pub fn new(domain: &str, uri: &str, version: Option<&str>) -> Self {
        Self {
            domain: domain.to_owned(),
            status: "AVAILABLE".into(),
            uri: uri.to_owned(),
            version: version.map(str::to_owned),
            updating_polls: 2,
            ..Self::default()
        }
    }

    pub fn patches(&self) -> Vec<&str> {
        self.log
            .iter()
            .filter_map(|l| l.strip_prefix("PATCH "))
            .filter(|l| !l.starts_with("429"))
            .collect()
    }
}

pub type Shared = Arc<Mutex<Gw>>;

/// The running server; stops when dropped.
pub struct FakeApiGateway {
    pub state: Shared,
    pub endpoint: String,
    task: JoinHandle<()>,
}

impl Drop for FakeApiGateway {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeApiGateway {
    pub async fn start(gw: Gw) -> Self {
        let state: Shared = Arc::new(Mutex::new(gw));
        let app = Router::new()
            .route("/domainnames/{name}", get(rest_get).patch(rest_patch))
            .route("/v2/domainnames/{name}", get(v2_get).patch(v2_patch))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            state,
            endpoint,
            task,
        }
    }

    pub fn with<T>(&self, f: impl FnOnce(&mut Gw) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    /// AWS configuration pointing every service at this server.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .empty_test_environment()
            .http_client(mtls_common::aws_http_client())
            .endpoint_url(&self.endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .test_credentials()
            .load()
            .await
    }
}

fn error(status: StatusCode, kind: &str, message: &str, retry_after: Option<u64>) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert("x-amzn-errortype", HeaderValue::from_str(kind).unwrap());
    headers.insert(
        "x-amzn-requestid",
        HeaderValue::from_static("3f5c2b1e-test"),
    );
    if let Some(s) = retry_after {
        headers.insert("retry-after", HeaderValue::from(s));
    }
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    (status, headers, json!({"message": message}).to_string()).into_response()
}

fn ok(body: Value) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(
        "x-amzn-requestid",
        HeaderValue::from_static("3f5c2b1e-test"),
    );
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    (StatusCode::OK, headers, body.to_string()).into_response()
}

fn mtls(gw: &Gw) -> Value {
    let mut m = json!({"truststoreUri": gw.uri, "truststoreWarnings": gw.warnings});
    if let Some(v) = &gw.version {
        m["truststoreVersion"] = json!(v);
    }
    m
}

fn rest_body(gw: &Gw) -> Value {
    json!({
        "domainName": gw.domain,
        "certificateUploadDate": 1_764_000_000,
        "regionalDomainName": "d-abc123def4.execute-api.us-east-1.amazonaws.com",
        "regionalHostedZoneId": "Z1UJRXOUMOOFQ8",
        "regionalCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
        "endpointConfiguration": {"types": ["REGIONAL"]},
        "domainNameStatus": gw.status,
        "securityPolicy": "TLS_1_2",
        "mutualTlsAuthentication": mtls(gw),
        "tags": {}
    })
}

fn v2_body(gw: &Gw) -> Value {
    json!({
        "domainName": gw.domain,
        "apiMappingSelectionExpression": "$request.basepath",
        "domainNameConfigurations": [{
            "apiGatewayDomainName": "d-abc123def4.execute-api.us-east-1.amazonaws.com",
            "certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
            "domainNameStatus": gw.status,
            "endpointType": "REGIONAL",
            "hostedZoneId": "Z1UJRXOUMOOFQ8",
            "securityPolicy": "TLS_1_2"
        }],
        "mutualTlsAuthentication": mtls(gw),
        "tags": {}
    })
}

fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "NotFoundException",
        "Invalid domain name identifier specified",
        None,
    )
}

/// A 429 as API Gateway sends it, logged as "<call> 429".
fn throttled(gw: &mut Gw, call: &str) -> Response {
    gw.log.push(format!("{call} 429"));
    error(
        StatusCode::TOO_MANY_REQUESTS,
        "TooManyRequestsException",
        "Too Many Requests",
        gw.retry_after,
    )
}

/// GET: advances an update in progress, then answers.
fn read(state: &Shared, name: &str, body: fn(&Gw) -> Value) -> Response {
    let mut gw = state.lock().unwrap();
    if name != gw.domain {
        gw.log.push("GET 404".into());
        return not_found();
    }
    if gw.throttle_gets > 0 {
        gw.throttle_gets -= 1;
        return throttled(&mut gw, "GET");
    }
    gw.log.push("GET".into());
    if gw.status == "UPDATING" && !gw.stuck {
        if gw.polls_left == 0 {
            gw.status = "AVAILABLE".into();
            let v = gw.version.clone().unwrap_or_default();
            gw.warnings = gw.warn_on.get(&v).cloned().unwrap_or_default();
        } else {
            gw.polls_left -= 1;
        }
    }
    ok(body(&gw))
}

/// PATCH: starts an update to `version`.
fn update(state: &Shared, name: &str, version: &str, body: fn(&Gw) -> Value) -> Response {
    let mut gw = state.lock().unwrap();
    if name != gw.domain {
        return not_found();
    }
    if gw.throttle_updates > 0 {
        gw.throttle_updates -= 1;
        return throttled(&mut gw, "PATCH");
    }
    if gw.status != "AVAILABLE" {
        gw.log.push("PATCH 409".into());
        return error(
            StatusCode::CONFLICT,
            "ConflictException",
            "Domain name is currently being updated. Please try again later.",
            None,
        );
    }
    gw.log.push(format!("PATCH {version}"));
    gw.version = Some(version.to_owned());
    gw.status = "UPDATING".into();
    gw.warnings.clear();
    gw.polls_left = gw.updating_polls;
    ok(body(&gw))
}

async fn rest_get(State(s): State<Shared>, Path(name): Path<String>) -> Response {
    read(&s, &name, rest_body)
}

async fn v2_get(State(s): State<Shared>, Path(name): Path<String>) -> Response {
    read(&s, &name, v2_body)
}

async fn rest_patch(State(s): State<Shared>, Path(name): Path<String>, body: Bytes) -> Response {
    let v: Value = serde_json::from_slice(&body).unwrap_or_default();
    let ops = v["patchOperations"].as_array().cloned().unwrap_or_default();
    let [op] = ops.as_slice() else {
        return error(
            StatusCode::BAD_REQUEST,
            "BadRequestException",
            "expected one patch operation",
            None,
        );
    };
    if op["op"] != "replace" || op["path"] != "/mutualTlsAuthentication/truststoreVersion" {
        return error(
            StatusCode::BAD_REQUEST,
            "BadRequestException",
            "Invalid patch operation specified",
            None,
        );
    }
    let version = op["value"].as_str().unwrap_or_default().to_owned();
    update(&s, &name, &version, rest_body)
}

async fn v2_patch(State(s): State<Shared>, Path(name): Path<String>, body: Bytes) -> Response {
    let v: Value = serde_json::from_slice(&body).unwrap_or_default();
    let m = &v["mutualTlsAuthentication"];
    let uri = s.lock().unwrap().uri.clone();
    if m["truststoreUri"] != json!(uri) {
        return error(
            StatusCode::BAD_REQUEST,
            "BadRequestException",
            "The truststore URI must not change here",
            None,
        );
    }
    let version = m["truststoreVersion"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    update(&s, &name, &version, v2_body)
}
