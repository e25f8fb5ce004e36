//! An HTTP backend for tests: answers every request with a JSON echo of its
//! method, path, query and headers, so a test can see exactly what a proxy
//! forwarded. Loopback only; stops when dropped.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Uri};
use serde_json::{Value, json};

/// A running echo server.
#[derive(Debug)]
pub struct EchoServer {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

async fn echo(
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ([(axum::http::HeaderName, &'static str); 1], String) {
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in &headers {
        seen.entry(k.as_str().to_owned())
            .or_default()
            .push(String::from_utf8_lossy(v.as_bytes()).into_owned());
    }
    let doc: Value = json!({
        "method": method.as_str(),
        "path": uri.path(),
        "query": uri.query().unwrap_or_default(),
        "headers": seen,
        "body": String::from_utf8_lossy(&body),
    });
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        doc.to_string(),
    )
}

impl EchoServer {
    /// Starts on an ephemeral loopback port.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().fallback(echo);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, task }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
