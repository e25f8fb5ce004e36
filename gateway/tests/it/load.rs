//! A bounded load check: N concurrent TLS clients with the good device's
//! certificate, keep-alive connections, for a fixed time on loopback. No
//! request may fail. Prints p50/p99 latency.
//! `LOAD_CLIENTS` (default 8) and `LOAD_SECONDS` (default 5) change the shape.

use crate::common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{client, dev_stack};
use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use mtls_tests::measure::{env_or, percentile};
use rustls::pki_types::ServerName;

fn tls_config(
    ca: &std::path::Path,
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    let read = |p: &std::path::Path| std::fs::read(p).unwrap();
    for c in gateway::tls::certificates(&read(ca)).unwrap() {
        roots.add(c).unwrap();
    }
    let chain = gateway::tls::certificates(&read(cert)).unwrap();
    let key = gateway::tls::private_key(&read(key)).unwrap();
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_clients_for_a_fixed_time_see_no_errors() {
    let clients: usize = env_or("LOAD_CLIENTS", 8);
    let seconds: u64 = env_or("LOAD_SECONDS", 5);
    let run = dev_stack(&["--instances", "2"]).await;
    let (cert, key) = client(&run.stack.devices, "good");
    let config = tls_config(&run.server_ca(), &cert, &key);
    let port = run.port;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for i in 0..clients {
        let config = Arc::clone(&config);
        tasks.push(tokio::spawn(async move {
            let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .unwrap();
            let tls = tokio_rustls::TlsConnector::from(config)
                .connect(ServerName::try_from("localhost").unwrap(), tcp)
                .await
                .unwrap();
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls))
                    .await
                    .unwrap();
            tokio::spawn(conn);
            let mut latencies = Vec::new();
            let mut errors = Vec::new();
            let mut n = 0usize;
            while Instant::now() < deadline {
                let path = if (i + n).is_multiple_of(2) {
                    "/whoami"
                } else {
                    "/temps"
                };
                n += 1;
                let req = hyper::Request::get(path)
                    .header("host", "localhost")
                    .body(Empty::<Bytes>::new())
                    .unwrap();
                let started = Instant::now();
                match sender.send_request(req).await {
                    Ok(resp) => {
                        let status = resp.status();
                        let _ = resp.into_body().collect().await;
                        latencies.push(started.elapsed());
                        if status != 200 {
                            errors.push(format!("{path}: {status}"));
                        }
                    }
                    Err(e) => errors.push(e.to_string()),
                }
            }
            (latencies, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = Vec::new();
    for t in tasks {
        let (l, e) = t.await.unwrap();
        all.extend(l);
        errors.extend(e);
    }
    all.sort();
    let pct = |p: f64| percentile(&all, p);
    eprintln!(
        "load: {clients} clients, {seconds} s: {} requests ({:.0}/s), p50 {:?}, p99 {:?}, max {:?}, errors {}",
        all.len(),
        all.len() as f64 / seconds as f64,
        pct(0.5),
        pct(0.99),
        all.last().unwrap(),
        errors.len()
    );
    assert!(errors.is_empty(), "{errors:?}");
    assert!(all.len() > clients, "too few requests: {}", all.len());
}
