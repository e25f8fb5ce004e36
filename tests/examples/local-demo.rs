//! Runs the real `authorizer` and `api-handler` binaries locally, with no AWS
//! account: a development PKI, a truststore and a `file://` CRL in `.local/`,
//! and Lambda Runtime API hosts that send the authorizer REST authorizer
//! events for a good, a revoked and a wrong-issuer client certificate, then
//! pass the good device's identity on to the api-handler, as API Gateway does.
//!
//! `make run`, or: `cargo build -p authorizer -p api-handler && cargo run -p mtls-tests --example local-demo -- target/debug`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;
use std::time::Duration;

use mtls_tests::events::{self, ProxyEvent};
use mtls_tests::pki::{Ca, serial20};
use mtls_tests::runtime_api::RuntimeApi;
use serde_json::json;

#[tokio::main]
async fn main() {
    let bin_dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "target/debug".into()),
    );
    let binary = bin_dir.join("authorizer");
    let handler = bin_dir.join("api-handler");
    for b in [&binary, &handler] {
        assert!(
            b.exists(),
            "{} not found: build it with `cargo build -p authorizer -p api-handler`",
            b.display()
        );
    }
    let dir = std::env::current_dir().unwrap().join(".local");
    std::fs::create_dir_all(&dir).unwrap();

    let devices = Ca::new(
        "Temperature Testers, Inc.",
        "Temperature Testers Devices CA",
    );
    let other = Ca::new("Someone Else", "Other CA");
    std::fs::write(
        dir.join("truststore.pem"),
        format!("{}{}", devices.pem(), other.pem()),
    )
    .unwrap();
    std::fs::write(
        dir.join("devices.crl"),
        devices.crl().number(1).revoke(&serial20(0x10)).der(),
    )
    .unwrap();
    let config = json!({
        "truststore": format!("file://{}/truststore.pem", dir.display()),
        "issuers": [{
            "name": "devices",
            "match": {"O": "Temperature Testers, Inc.", "CN": "Temperature Testers Devices CA"},
            "crl": format!("file://{}/devices.crl", dir.display())
        }],
        "crl_refresh_seconds": 5,
        "crl_grace_seconds": 3600
    });
    std::fs::write(
        dir.join("authorizer.json"),
        serde_json::to_string_pretty(&config).unwrap(),
    )
    .unwrap();
    println!(
        "development PKI, truststore, CRL and config written to {}",
        dir.display()
    );

    let api = RuntimeApi::start().await;
    let config_uri = format!("file://{}/authorizer.json", dir.display());
    let child = api.spawn(
        &binary,
        &[
            ("AUTHORIZER_CONFIG", config_uri.as_str()),
            ("RUST_LOG", "warn"),
        ],
    );

    let clients = [
        (
            "good device (20-byte serial …11)",
            devices.leaf(&serial20(0x11)).pem(),
        ),
        (
            "revoked device (20-byte serial …10)",
            devices.leaf(&serial20(0x10)).pem(),
        ),
        (
            "device of a CA the policy does not allow",
            other.leaf(&[1]).pem(),
        ),
    ];
    println!("\n{:<42} {:<7} reason", "client", "effect");
    for (name, pem) in &clients {
        let resp = api
            .invoke(events::rest(Some(pem)), Duration::from_secs(20))
            .await
            .unwrap();
        let effect = resp["policyDocument"]["Statement"][0]["Effect"]
            .as_str()
            .unwrap_or("?")
            .to_owned();
        let reason = resp["context"]["reason"].as_str().unwrap_or("-").to_owned();
        println!("{name:<42} {effect:<7} {reason}");
    }
    let resp = api
        .invoke(events::rest(Some(&clients[0].1)), Duration::from_secs(20))
        .await
        .unwrap();
    println!(
        "\nfull response for the good device:\n{}",
        serde_json::to_string_pretty(&resp).unwrap()
    );
    drop(child);

    // Allowed: API Gateway passes the authorizer context to the backend.
    let backend = RuntimeApi::start().await;
    let data = dir.join("api-handler");
    let handler_child = backend.spawn(
        &handler,
        &[
            ("TEMPS_DATA_DIR", data.to_str().unwrap()),
            ("RUST_LOG", "warn"),
        ],
    );
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let reading = json!({"temperature": 21.5, "time": now}).to_string();
    let requests = [
        ProxyEvent::new("POST", "/temps").json(&reading),
        ProxyEvent::new("GET", "/temps"),
        ProxyEvent::new("POST", "/temps")
            .json(r#"{"temperature": 21.5, "time": "soon", "ip": "10.0.0.1"}"#),
    ];
    println!(
        "\napi-handler, as the good device (readings kept in {}):",
        data.display()
    );
    for request in requests {
        let out = backend
            .invoke(
                request.context(resp["context"].clone()).rest(),
                Duration::from_secs(20),
            )
            .await
            .unwrap();
        println!(
            "{} {}",
            out["statusCode"],
            out["body"].as_str().unwrap_or_default()
        );
    }
    drop(handler_child);
}
