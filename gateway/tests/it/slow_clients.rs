//! Slow and greedy peers: a client that sends half a request, a client that
//! stops reading, and a backend that answers too much. Each is cut off, so
//! none holds a connection or memory for as long as it likes.

use crate::common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{client, curl, dev_stack};
use mtls_tests::http_server::HttpServer;
use tokio::process::Command;

/// A client that sends half a request header is disconnected after the
/// header-read timeout, instead of holding a connection forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_request_header_is_closed_after_the_timeout() {
    let run = dev_stack(&[]).await;
    let (cert, key) = client(&run.stack.devices, "good");
    let mut s_client = Command::new("openssl")
        .args([
            "s_client",
            "-quiet",
            "-connect",
            &format!("127.0.0.1:{}", run.port),
        ])
        .arg("-CAfile")
        .arg(run.server_ca())
        .arg("-cert")
        .arg(cert)
        .arg("-key")
        .arg(key)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = s_client.stdin.take().unwrap();
    let started = Instant::now();
    tokio::io::AsyncWriteExt::write_all(&mut stdin, b"GET /whoami HTTP/1.1\r\nHost: local")
        .await
        .unwrap();
    // stdin stays open: only the server can end this connection.
    let status = tokio::time::timeout(
        gateway::server::HEADER_READ_TIMEOUT + Duration::from_secs(15),
        s_client.wait(),
    )
    .await
    .expect("the gateway held a half-sent request past its header timeout");
    let held = started.elapsed();
    assert!(status.is_ok());
    assert!(
        held >= gateway::server::HEADER_READ_TIMEOUT - Duration::from_secs(1),
        "closed after {held:?}, before the timeout"
    );
    drop(stdin);
}

/// A backend's answer over API Gateway's 10 MB payload limit is a 502, not
/// buffered whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_answer_over_10_mb_is_a_502() {
    let backend = HttpServer::start(vec![b'x'; gateway::server::MAX_BODY_BYTES + 1]).await;
    let origin = backend.url().replace("/crl/devices.crl", "");
    let run = dev_stack(&["--backend", &origin]).await;
    let good = client(&run.stack.devices, "good");
    let r = curl(&run, Some(&good), "GET", "/big", None).await;
    assert_eq!(r.status, 502, "{}", r.stderr);
}

/// A client that asks for a large answer and never reads it is disconnected
/// once a write has waited for the write timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_disconnected_after_the_write_timeout() {
    let size = 9 * 1024 * 1024;
    let backend = HttpServer::start(vec![b'x'; size]).await;
    let origin = backend.url().replace("/crl/devices.crl", "");
    let run = dev_stack(&["--backend", &origin]).await;
    let (cert, key) = client(&run.stack.devices, "good");
    // Python's ssl module: send the request, read nothing until well past the
    // write timeout, then count what is still there.
    let script = r#"
import socket, ssl, sys, time
port, ca, cert, key, wait = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
ctx = ssl.create_default_context(cafile=ca)
ctx.load_cert_chain(cert, key)
ctx.check_hostname = False
raw = socket.create_connection(("127.0.0.1", int(port)), timeout=60)
s = ctx.wrap_socket(raw)
s.sendall(b"GET /big HTTP/1.1\r\nHost: localhost\r\n\r\n")
time.sleep(wait)
got = 0
try:
    while True:
        chunk = s.recv(1 << 16)
        if not chunk:
            break
        got += len(chunk)
except (ssl.SSLError, OSError):
    pass
print(got)
"#;
    let wait = gateway::server::WRITE_TIMEOUT + Duration::from_secs(5);
    let started = Instant::now();
    let out = tokio::time::timeout(
        wait + Duration::from_secs(40),
        Command::new("python3")
            .arg("-c")
            .arg(script)
            .arg(run.port.to_string())
            .arg(run.server_ca())
            .arg(cert)
            .arg(key)
            .arg(wait.as_secs_f64().to_string())
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the client script did not finish")
    .unwrap();
    let got: usize = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    assert!(
        got < size,
        "the whole {size}-octet answer waited {:?} for a client that did not read ({got} read)",
        started.elapsed()
    );
}
