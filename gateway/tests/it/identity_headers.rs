//! What an HTTP backend may trust: the identity headers the gateway sets, and
//! nothing a client spelled to look like them. CGI, WSGI (Django, Flask) and
//! PHP read `x_client_cert_subject` as `x-client-cert-subject`, so the
//! gateway drops (or, on request, refuses) every such spelling. Checked with
//! an echo server and with Python's stock WSGI server, in both API modes.

use crate::common;

use std::process::Stdio;
use std::time::Duration;

use common::{Running, client, curl_with, dev_stack};
use mtls_tests::echo_server::EchoServer;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Underscore and mixed spellings a client may send, each with a forged value.
const SPOOFED: [&str; 6] = [
    "x_client_cert_subject: CN=admin",
    "X_Client_Cert_Subject: CN=admin",
    "x-client_cert-subject: CN=admin",
    "x.client.cert.subject: CN=admin",
    "X_CLIENT_CERT_POLICY: admins",
    "x_client_cert_name_sha256: 00",
];

const GOOD_SUBJECT: &str = "O=Temperature Testers,CN=good";

/// Python's wsgiref server answering with the environ it built.
struct Wsgi {
    child: Child,
    port: u16,
}

impl Wsgi {
    async fn start() -> Self {
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests")
            .join("backends")
            .join("wsgi_echo.py");
        let mut child = Command::new("python3")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        tokio::time::timeout(
            Duration::from_secs(20),
            BufReader::new(stdout).read_line(&mut line),
        )
        .await
        .unwrap()
        .unwrap();
        Self {
            port: line.trim().parse().unwrap(),
            child,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Wsgi {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

async fn as_good_device(run: &Running, headers: &[&str]) -> common::Curl {
    let good = client(&run.stack.devices, "good");
    curl_with(run, Some(&good), "GET", "/anything", None, headers).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn underscore_spellings_of_identity_headers_never_reach_an_echo_backend() {
    let echo = EchoServer::start().await;
    for flavor in ["rest", "http"] {
        let run = dev_stack(&["--api", flavor, "--backend", &echo.url()]).await;
        let r = as_good_device(&run, &SPOOFED).await;
        assert_eq!(r.status, 200, "{flavor}: {r:?}");
        let seen = r.json();
        let headers = seen["headers"].as_object().unwrap();
        for (name, values) in headers {
            let folded: String = name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_lowercase()
                    } else {
                        '-'
                    }
                })
                .collect();
            if folded.starts_with("x-client-cert-") {
                assert_eq!(name, &folded, "{flavor}: a look-alike got through: {seen}");
                for v in values.as_array().unwrap() {
                    assert!(
                        v != "CN=admin" && v != "admins" && v != "00",
                        "{flavor}: {seen}"
                    );
                }
            }
        }
        assert_eq!(
            seen["headers"]["x-client-cert-subject"],
            serde_json::json!([GOOD_SUBJECT]),
            "{flavor}: {seen}"
        );
        assert_eq!(
            seen["headers"]["x-client-cert-name-sha256"][0]
                .as_str()
                .unwrap()
                .len(),
            64,
            "{flavor}: {seen}"
        );
        // Each dropped header is logged, by name.
        let log =
            std::fs::read_to_string(run.stack.dir.parent().unwrap().join("gateway.log")).unwrap();
        let dropped: Vec<Value> = log
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["event"] == "look_alike_identity_header")
            .collect();
        assert_eq!(dropped.len(), SPOOFED.len(), "{flavor}: {log}");
        assert!(dropped.iter().all(|v| v["action"] == "dropped"), "{log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wsgi_backend_reads_only_the_verified_subject() {
    let wsgi = Wsgi::start().await;
    for flavor in ["rest", "http"] {
        let run = dev_stack(&["--api", flavor, "--backend", &wsgi.url()]).await;
        let r = as_good_device(&run, &SPOOFED).await;
        assert_eq!(r.status, 200, "{flavor}: {r:?}");
        let environ = &r.json()["environ"];
        // What request.META["HTTP_X_CLIENT_CERT_SUBJECT"] would be: the verified
        // subject alone, not "CN=admin,<verified>".
        assert_eq!(
            environ["HTTP_X_CLIENT_CERT_SUBJECT"], GOOD_SUBJECT,
            "{flavor}: {environ}"
        );
        assert_eq!(
            environ["HTTP_X_CLIENT_CERT_POLICY"], "devices",
            "{flavor}: {environ}"
        );
        assert_eq!(
            environ["HTTP_X_CLIENT_CERT_NAME_SHA256"]
                .as_str()
                .unwrap()
                .len(),
            64,
            "{flavor}: {environ}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn look_alike_headers_can_be_refused_with_400_before_the_backend() {
    let echo = EchoServer::start().await;
    for flavor in ["rest", "http"] {
        let run = dev_stack(&[
            "--api",
            flavor,
            "--backend",
            &echo.url(),
            "--look-alike-headers",
            "reject",
        ])
        .await;
        for spoof in SPOOFED {
            let r = as_good_device(&run, &[spoof]).await;
            assert_eq!(r.status, 400, "{flavor} {spoof}: {r:?}");
            assert!(!r.body.contains("headers"), "the backend answered: {r:?}");
        }
        // Other underscore headers are the client's own business.
        let r = as_good_device(&run, &["my_header: kept"]).await;
        assert_eq!(r.status, 200, "{flavor}: {r:?}");
        assert_eq!(
            r.json()["headers"]["my_header"],
            serde_json::json!(["kept"])
        );
    }
}
