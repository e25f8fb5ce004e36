//! `http://` CRL sources against a real local HTTP server that counts requests,
//! answers conditional requests with 304, and misbehaves on demand.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use authorizer::config::Config;
use authorizer::decision::DenyReason;
use authorizer::error::Error;
use authorizer::fetch::{Fetcher, Limits};
use authorizer::lambda::{Authorizer, HttpApiResponse};
use authorizer::source::{Fetched, SourceUri};
use authorizer::time::{ManualClock, UnixTime};
use mtls_tests::http_server::{HttpServer, Mode};
use mtls_tests::pki::{self, Ca};

struct Setup {
    _dir: tempfile::TempDir,
    truststore: std::path::PathBuf,
    ca: Ca,
    clock: Arc<ManualClock>,
}

impl Setup {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ca = Ca::new("Temperature Testers, Inc.", "Devices CA");
        let truststore = dir.path().join("truststore.pem");
        std::fs::write(&truststore, ca.pem()).unwrap();
        Self {
            _dir: dir,
            truststore,
            ca,
            clock: Arc::new(ManualClock::new(UnixTime(pki::unix(pki::now())))),
        }
    }

    async fn start(&self, crl_url: &str, extra: &str) -> Authorizer {
        let config = Config::from_json(&format!(
            r#"{{"truststore":"file://{}","issuers":[{{"name":"devices","match":{{"CN":"Devices CA"}},"crl":"{crl_url}"}}],
                "crl_refresh_seconds":300,"crl_retry_seconds":30{extra}}}"#,
            self.truststore.display()
        ))
        .unwrap();
        Authorizer::start(config, self.clock.clone(), HttpApiResponse::Simple)
            .await
            .unwrap()
    }
}

async fn reason(a: &Authorizer, pem: &str) -> Option<DenyReason> {
    a.decide(Some(pem)).await.decision.reason()
}

#[tokio::test]
async fn unchanged_crl_refresh_is_one_conditional_request_without_a_download() {
    let s = Setup::new();
    let server = HttpServer::start(s.ca.crl().revoke(&[0x42]).der()).await;
    let a = s.start(&server.url(), "").await;
    assert_eq!((server.requests(), server.bodies_sent()), (1, 1));

    s.clock.advance(300);
    assert_eq!(
        reason(&a, &s.ca.leaf(&[0x42]).pem()).await,
        Some(DenyReason::Revoked)
    );
    assert_eq!(server.requests(), 2, "exactly one request per refresh");
    assert_eq!(server.not_modified_sent(), 1, "answered 304");
    assert_eq!(server.bodies_sent(), 1, "no second download");
    assert_eq!(a.crl_status(0).unwrap().installs, 1, "no re-parse");

    // Requests between refreshes do not touch the server at all.
    for _ in 0..5 {
        let _ = reason(&a, &s.ca.leaf(&[1]).pem()).await;
    }
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn new_crl_version_is_downloaded_verified_and_used() {
    let s = Setup::new();
    let server = HttpServer::start(s.ca.crl().number(1).der()).await;
    let a = s.start(&server.url(), "").await;
    assert_eq!(reason(&a, &s.ca.leaf(&[0x42]).pem()).await, None);
    server.publish(s.ca.crl().number(2).revoke(&[0x42]).der());
    s.clock.advance(300);
    assert_eq!(
        reason(&a, &s.ca.leaf(&[0x42]).pem()).await,
        Some(DenyReason::Revoked)
    );
    assert_eq!(
        (server.bodies_sent(), a.crl_status(0).unwrap().installs),
        (2, 2)
    );
}

#[tokio::test]
async fn server_errors_keep_the_last_good_crl() {
    let s = Setup::new();
    let server = HttpServer::start(s.ca.crl().revoke(&[0x42]).der()).await;
    let a = s.start(&server.url(), "").await;
    server.set_mode(Mode::Unavailable);
    s.clock.advance(300);
    assert_eq!(
        reason(&a, &s.ca.leaf(&[0x42]).pem()).await,
        Some(DenyReason::Revoked)
    );
    assert_eq!(reason(&a, &s.ca.leaf(&[0x43]).pem()).await, None);
    let err = a.crl_status(0).unwrap().last_error;
    assert!(
        matches!(&err, Some(Error::Fetch { reason, .. }) if reason.contains("503")),
        "{err:?}"
    );
}

#[tokio::test]
async fn garbage_body_is_rejected_and_the_last_good_crl_stays() {
    let s = Setup::new();
    let server = HttpServer::start(s.ca.crl().revoke(&[0x42]).der()).await;
    let a = s.start(&server.url(), "").await;
    server.set_mode(Mode::Garbage);
    s.clock.advance(300);
    assert_eq!(
        reason(&a, &s.ca.leaf(&[0x42]).pem()).await,
        Some(DenyReason::Revoked)
    );
    assert!(matches!(
        a.crl_status(0).unwrap().last_error,
        Some(Error::CrlMalformed(_))
    ));
}

#[tokio::test]
async fn stalled_server_times_out_within_the_deadline() {
    let s = Setup::new();
    let server = HttpServer::start(s.ca.crl().revoke(&[0x42]).der()).await;
    let a = s
        .start(&server.url(), r#","fetch_timeout_seconds":1"#)
        .await;
    server.set_mode(Mode::Stall(Duration::from_secs(20)));
    s.clock.advance(300);
    let started = Instant::now();
    assert_eq!(
        reason(&a, &s.ca.leaf(&[0x42]).pem()).await,
        Some(DenyReason::Revoked)
    );
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(3), "request waited {waited:?}");
    assert!(matches!(
        a.crl_status(0).unwrap().last_error,
        Some(Error::Fetch { .. } | Error::FetchTimeout { .. })
    ));
}

#[tokio::test]
async fn stalled_server_at_cold_start_gives_crl_unavailable_quickly() {
    let s = Setup::new();
    let server = HttpServer::start(s.ca.crl().der()).await;
    server.set_mode(Mode::Stall(Duration::from_secs(20)));
    let started = Instant::now();
    let a = s
        .start(&server.url(), r#","fetch_timeout_seconds":1"#)
        .await;
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(
        reason(&a, &s.ca.leaf(&[1]).pem()).await,
        Some(DenyReason::CrlUnavailable)
    );
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_and_without_content_length() {
    let s = Setup::new();
    let limits = Limits {
        timeout: Duration::from_secs(5),
        max_bytes: 4096,
    };
    let fetcher = Fetcher::new(limits).unwrap();
    let server = HttpServer::start(s.ca.crl().der()).await;
    let uri = SourceUri::parse(&server.url()).unwrap();
    assert!(matches!(
        fetcher.fetch(&uri, None).await,
        Ok(Fetched::Body { .. })
    ));
    for mode in [
        Mode::Oversized(64 * 1024),
        Mode::OversizedChunked(1024 * 1024),
    ] {
        server.set_mode(mode.clone());
        let got = fetcher.fetch(&uri, None).await;
        assert!(
            matches!(got, Err(Error::FetchTooLarge { limit: 4096, .. })),
            "{mode:?}: {got:?}"
        );
    }
}

#[tokio::test]
async fn oversized_crl_keeps_the_last_good_one() {
    let s = Setup::new();
    let server = HttpServer::start(s.ca.crl().revoke(&[0x42]).der()).await;
    let a = s.start(&server.url(), r#","max_fetch_bytes":4096"#).await;
    server.set_mode(Mode::OversizedChunked(1024 * 1024));
    s.clock.advance(300);
    assert_eq!(
        reason(&a, &s.ca.leaf(&[0x42]).pem()).await,
        Some(DenyReason::Revoked)
    );
    assert!(matches!(
        a.crl_status(0).unwrap().last_error,
        Some(Error::FetchTooLarge { .. })
    ));
}

#[tokio::test]
async fn pem_crl_over_http_is_accepted() {
    let s = Setup::new();
    let server = HttpServer::start(s.ca.crl().revoke(&[0x42]).pem().into_bytes()).await;
    let a = s.start(&server.url(), "").await;
    assert_eq!(
        reason(&a, &s.ca.leaf(&[0x42]).pem()).await,
        Some(DenyReason::Revoked)
    );
}

#[tokio::test]
async fn unreachable_server_is_a_fetch_error_not_a_hang() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    }; // now closed: connections are refused
    let fetcher = Fetcher::new(Limits {
        timeout: Duration::from_secs(2),
        max_bytes: 1 << 20,
    })
    .unwrap();
    let uri = SourceUri::parse(&format!("http://127.0.0.1:{port}/ca.crl")).unwrap();
    assert!(matches!(
        fetcher.fetch(&uri, None).await,
        Err(Error::Fetch { .. })
    ));
}
