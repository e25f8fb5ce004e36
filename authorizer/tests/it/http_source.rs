//! `http://` CRL sources against a real local HTTP server that counts requests,
//! answers conditional requests with 304, and misbehaves on demand.

use crate::common;

use std::time::{Duration, Instant};

use authorizer::fetch::{FetchError, Fetcher, Limits, RedirectRefusal};
use authorizer::lambda::{Authorizer, CrlRefreshError, RefreshError};
use common::{Fixture, reason};
use mtls_policy::decision::DenyReason;
use mtls_policy::source::{Fetched, SourceUri};
use mtls_tests::http_server::{HttpServer, Mode};
use mtls_x509::error::Error;

async fn start(s: &Fixture, crl_url: &str, extra: &str) -> Authorizer {
    s.start(s.config(&s.devices_entry(crl_url), extra)).await
}

/// A server that served a good CRL (revoking 0x42) starts misbehaving: after
/// the next refresh the device must still be revoked, and the failure recorded.
async fn assert_last_good_crl_survives(
    mode: Mode,
    extra: &str,
    expected: impl Fn(&CrlRefreshError) -> bool,
) {
    let s = Fixture::new();
    let server = HttpServer::start(s.ca.crl().revoke(&[0x42]).der()).await;
    let a = start(&s, &server.url(), extra).await;
    server.set_mode(mode);
    s.clock.advance(300);
    assert_eq!(
        reason(&a, &s.ca.leaf(&[0x42]).pem()).await,
        Some(DenyReason::Revoked)
    );
    assert_eq!(reason(&a, &s.ca.leaf(&[0x43]).pem()).await, None);
    let err = a.crl_sources(0).remove(0).last_error;
    assert!(
        err.as_ref().is_some_and(expected),
        "unexpected failure: {err:?}"
    );
}

#[tokio::test]
async fn unchanged_crl_refresh_is_one_conditional_request_without_a_download() {
    let s = Fixture::new();
    let server = HttpServer::start(s.ca.crl().revoke(&[0x42]).der()).await;
    let a = start(&s, &server.url(), "").await;
    assert_eq!((server.requests(), server.bodies_sent()), (1, 1));

    s.clock.advance(300);
    assert_eq!(
        reason(&a, &s.ca.leaf(&[0x42]).pem()).await,
        Some(DenyReason::Revoked)
    );
    assert_eq!(server.requests(), 2, "exactly one request per refresh");
    assert_eq!(server.not_modified_sent(), 1, "answered 304");
    assert_eq!(server.bodies_sent(), 1, "no second download");
    assert_eq!(a.crl_sources(0).remove(0).installs, 1, "no re-parse");

    // Requests between refreshes do not touch the server at all.
    for _ in 0..5 {
        let _ = reason(&a, &s.ca.leaf(&[1]).pem()).await;
    }
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn new_crl_version_is_downloaded_verified_and_used() {
    let s = Fixture::new();
    let server = HttpServer::start(s.ca.crl().number(1).der()).await;
    let a = start(&s, &server.url(), "").await;
    assert_eq!(reason(&a, &s.ca.leaf(&[0x42]).pem()).await, None);
    server.publish(s.ca.crl().number(2).revoke(&[0x42]).der());
    s.clock.advance(300);
    // Stale-while-revalidate: the request that finds the refresh due is
    // answered at once with the CRL in force; the new one is used next.
    assert_eq!(reason(&a, &s.ca.leaf(&[0x42]).pem()).await, None);
    assert_eq!(
        reason(&a, &s.ca.leaf(&[0x42]).pem()).await,
        Some(DenyReason::Revoked)
    );
    assert_eq!(
        (server.bodies_sent(), a.crl_sources(0).remove(0).installs),
        (2, 2)
    );
}

#[tokio::test]
async fn decisions_are_answered_with_the_last_good_crl_while_a_slow_refresh_is_in_progress() {
    let s = Fixture::new();
    let server = HttpServer::start(s.ca.crl().number(1).revoke(&[0x41]).der()).await;
    let a = start(&s, &server.url(), "").await;
    let device = s.ca.leaf(&[0x42]).pem();
    assert_eq!(reason(&a, &device).await, None);

    // The next CRL revokes the device, and downloads slowly: 20 pieces,
    // 50 ms apart, so the refresh is in progress for a second.
    server.publish(s.ca.crl().number(2).revoke(&[0x41]).revoke(&[0x42]).der());
    server.set_mode(Mode::Trickle {
        pieces: 20,
        pause: Duration::from_millis(50),
    });
    s.clock.advance(300);
    let mut slowest = Duration::ZERO;
    let mut answered = 0;
    loop {
        let t = Instant::now();
        let d = a.decide(Some(&device)).await.decision;
        slowest = slowest.max(t.elapsed());
        if !a.crl_sources(0)[0].refreshing {
            break;
        }
        // Meanwhile: the CRL in force (#1) decides, at once.
        assert!(d.is_allow(), "{d:?}");
        let other = a.decide(Some(&s.ca.leaf(&[0x41]).pem())).await.decision;
        assert_eq!(other.reason(), Some(DenyReason::Revoked));
        answered += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        answered >= 10,
        "{answered} requests answered during the refresh"
    );
    assert!(slowest < Duration::from_millis(100), "{slowest:?}");
    // Installed atomically once verified: #2 decides from then on.
    assert_eq!(reason(&a, &device).await, Some(DenyReason::Revoked));
    let status = a.crl_sources(0).remove(0);
    assert_eq!((status.number.as_deref(), status.installs), (Some("02"), 2));
}

#[tokio::test]
async fn server_errors_keep_the_last_good_crl() {
    assert_last_good_crl_survives(Mode::Unavailable, "", |e| {
        matches!(
            e,
            RefreshError::Fetch(FetchError::Status { status: 503, .. })
        )
    })
    .await;
}

#[tokio::test]
async fn garbage_body_is_rejected_and_the_last_good_crl_stays() {
    assert_last_good_crl_survives(Mode::Garbage, "", |e| {
        matches!(e, RefreshError::Refused(Error::CrlMalformed(_)))
    })
    .await;
}

#[tokio::test]
async fn stalled_server_times_out_within_the_deadline() {
    let started = Instant::now();
    let stall = Mode::Stall(Duration::from_secs(20));
    assert_last_good_crl_survives(stall, r#","fetch_timeout_seconds":1"#, |e| {
        // The client's own deadline, or the fetch's.
        matches!(
            e,
            RefreshError::Fetch(FetchError::Source { .. } | FetchError::Timeout { .. })
        )
    })
    .await;
    // Cold start (a good load) plus one timed-out refresh: far below the 20 s stall.
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(4), "waited {waited:?}");
}

#[tokio::test]
async fn stalled_server_at_cold_start_gives_crl_unavailable_quickly() {
    let s = Fixture::new();
    let server = HttpServer::start(s.ca.crl().der()).await;
    server.set_mode(Mode::Stall(Duration::from_secs(20)));
    let started = Instant::now();
    let a = start(&s, &server.url(), r#","fetch_timeout_seconds":1"#).await;
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(
        reason(&a, &s.ca.leaf(&[1]).pem()).await,
        Some(DenyReason::CrlUnavailable)
    );
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_and_without_content_length() {
    let s = Fixture::new();
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
            matches!(got, Err(FetchError::TooLarge { limit: 4096, .. })),
            "{mode:?}: {got:?}"
        );
    }
}

#[tokio::test]
async fn oversized_crl_keeps_the_last_good_one() {
    let mode = Mode::OversizedChunked(1024 * 1024);
    assert_last_good_crl_survives(mode, r#","max_fetch_bytes":4096"#, |e| {
        matches!(e, RefreshError::Fetch(FetchError::TooLarge { .. }))
    })
    .await;
}

#[tokio::test]
async fn pem_crl_over_http_is_accepted() {
    let s = Fixture::new();
    let server = HttpServer::start(s.ca.crl().revoke(&[0x42]).pem().into_bytes()).await;
    let a = start(&s, &server.url(), "").await;
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
        Err(FetchError::Source { .. })
    ));
}

#[tokio::test]
async fn redirect_of_a_plain_http_crl_source_is_not_followed() {
    // Whoever answers for a CRL URL must not be able to send the function
    // elsewhere (its Runtime API, the metadata service): a plain-HTTP source
    // follows no redirect, and the last good CRL stays.
    let s = Fixture::new();
    let elsewhere = HttpServer::start(s.ca.crl().der()).await;
    assert_last_good_crl_survives(Mode::Redirect(elsewhere.url()), "", |e| {
        matches!(
            e,
            RefreshError::Fetch(FetchError::Redirect {
                refusal: RedirectRefusal::NotHttps,
                ..
            })
        )
    })
    .await;
    assert_eq!(
        elsewhere.requests(),
        0,
        "the redirect target was never asked"
    );
}
