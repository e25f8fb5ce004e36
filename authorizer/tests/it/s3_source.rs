//! `s3://` sources against `moto_server` on 127.0.0.1, with a versioned bucket.

use std::sync::Arc;
use std::time::Duration;

use authorizer::fetch::{FetchError, Fetcher, Limits};
use authorizer::lambda::{Authorizer, HttpApiResponse, RefreshError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::BucketVersioningStatus;
use mtls_policy::config::Config;
use mtls_policy::decision::DenyReason;
use mtls_policy::source::{Fetched, SourceUri};
use mtls_tests::moto::{self, Moto};
use mtls_tests::pki::{self, Ca};
use mtls_x509::time::{ManualClock, UnixTime};

const BUCKET: &str = "pki-bucket";

async fn client(moto: &Moto) -> aws_sdk_s3::Client {
    moto.s3().await
}

async fn versioned_bucket(s3: &aws_sdk_s3::Client) {
    moto::create_bucket(s3, BUCKET, Some(BucketVersioningStatus::Enabled)).await;
}

async fn put(s3: &aws_sdk_s3::Client, key: &str, body: Vec<u8>) -> String {
    let out = s3
        .put_object()
        .bucket(BUCKET)
        .key(key)
        .body(ByteStream::from(body))
        .send()
        .await
        .unwrap();
    out.version_id().unwrap().to_owned()
}

async fn fetcher(moto: &Moto, max_bytes: u64) -> Fetcher {
    Fetcher::new(Limits {
        timeout: Duration::from_secs(10),
        max_bytes,
    })
    .unwrap()
    .with_s3_client(client(moto).await)
}

#[tokio::test]
async fn s3_fetch_is_conditional_on_the_etag() {
    let moto = Moto::start().await;
    let s3 = client(&moto).await;
    versioned_bucket(&s3).await;
    put(&s3, "crl/devices.crl", b"first".to_vec()).await;
    let f = fetcher(&moto, 1 << 20).await;
    let uri = SourceUri::parse(&format!("s3://{BUCKET}/crl/devices.crl")).unwrap();
    let Fetched::Body { bytes, validator } = f.fetch(&uri, None).await.unwrap() else {
        panic!("expected a body")
    };
    assert_eq!(bytes, b"first");
    assert!(validator.etag.is_some() && validator.version_id.is_some());
    assert_eq!(
        f.fetch(&uri, Some(&validator)).await.unwrap(),
        Fetched::NotModified
    );
    put(&s3, "crl/devices.crl", b"second".to_vec()).await;
    let Fetched::Body { bytes, .. } = f.fetch(&uri, Some(&validator)).await.unwrap() else {
        panic!("expected a body")
    };
    assert_eq!(bytes, b"second");
}

#[tokio::test]
async fn s3_pinned_version_is_fetched_once_and_stays_pinned() {
    let moto = Moto::start().await;
    let s3 = client(&moto).await;
    versioned_bucket(&s3).await;
    let v1 = put(&s3, "truststore.pem", b"v1".to_vec()).await;
    put(&s3, "truststore.pem", b"v2".to_vec()).await;
    let f = fetcher(&moto, 1 << 20).await;
    let uri = SourceUri::parse(&format!("s3://{BUCKET}/truststore.pem?versionId={v1}")).unwrap();
    let Fetched::Body { bytes, validator } = f.fetch(&uri, None).await.unwrap() else {
        panic!("expected a body")
    };
    assert_eq!(bytes, b"v1", "the pinned version, not the latest");
    assert_eq!(
        f.fetch(&uri, Some(&validator)).await.unwrap(),
        Fetched::NotModified
    );
}

#[tokio::test]
async fn s3_missing_object_and_oversized_object_are_errors() {
    let moto = Moto::start().await;
    let s3 = client(&moto).await;
    versioned_bucket(&s3).await;
    put(&s3, "big.crl", vec![0x30; 8192]).await;
    let f = fetcher(&moto, 4096).await;
    let missing = SourceUri::parse(&format!("s3://{BUCKET}/nope.crl")).unwrap();
    assert!(matches!(
        f.fetch(&missing, None).await,
        Err(FetchError::Source { .. })
    ));
    let big = SourceUri::parse(&format!("s3://{BUCKET}/big.crl")).unwrap();
    assert!(matches!(
        f.fetch(&big, None).await,
        Err(FetchError::TooLarge { limit: 4096, .. })
    ));
}

#[tokio::test]
async fn s3_crl_and_truststore_drive_decisions_and_refresh() {
    let moto = Moto::start().await;
    let s3 = client(&moto).await;
    versioned_bucket(&s3).await;
    let ca = Ca::new("Temperature Testers, Inc.", "Devices CA");
    put(&s3, "truststore.pem", ca.pem().as_bytes().to_vec()).await;
    put(&s3, "crl/devices.crl", ca.crl().number(1).der()).await;
    let config = Config::from_json(&format!(
        r#"{{"truststore":"s3://{BUCKET}/truststore.pem","issuers":[{{"name":"devices",
            "match":{{"CN":"Devices CA"}},"crl":"s3://{BUCKET}/crl/devices.crl"}}],"crl_refresh_seconds":60}}"#
    ))
    .unwrap();
    let clock = Arc::new(ManualClock::new(UnixTime(pki::unix(pki::now()))));
    let a = Authorizer::builder(config)
        .fetcher(fetcher(&moto, 1 << 20).await)
        .clock(clock.clone())
        .http_api_response(HttpApiResponse::Simple)
        .start()
        .await
        .unwrap();
    let device = ca.leaf(&[0x42]).pem();
    assert_eq!(a.decide(Some(&device)).await.decision.reason(), None);

    clock.advance(60); // unchanged: 304, no re-parse
    assert_eq!(a.decide(Some(&device)).await.decision.reason(), None);
    a.settle().await;
    assert_eq!(a.crl_sources(0).remove(0).installs, 1);

    put(
        &s3,
        "crl/devices.crl",
        ca.crl().number(2).revoke(&[0x42]).der(),
    )
    .await;
    clock.advance(60);
    // Answered with #1 while #2 streams in from S3 behind the request.
    assert_eq!(a.decide(Some(&device)).await.decision.reason(), None);
    a.settle().await;
    assert_eq!(
        a.decide(Some(&device)).await.decision.reason(),
        Some(DenyReason::Revoked)
    );
    assert_eq!(a.crl_sources(0).remove(0).installs, 2);
}

/// The deny list as deployed: an object in a versioned bucket, read with
/// conditional GETs. An unchanged list is a 304 (confirmed, not parsed
/// again); a new version is enforced by the first request after the
/// interval; an older version restored as the current one (a rollback to a
/// lower sequence) is refused; a deleted object keeps the last good list
/// until max age, then denies.
#[tokio::test]
async fn s3_deny_list_is_conditional_enforced_promptly_and_never_rolled_back() {
    let moto = Moto::start().await;
    let s3 = client(&moto).await;
    versioned_bucket(&s3).await;
    let ca = Ca::new("Temperature Testers, Inc.", "Devices CA");
    let key = mtls_x509::signed::sha256(&ca.spki_der())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    let list = |sequence: u64, serials: &[&str]| {
        let entries: Vec<String> = serials
            .iter()
            .map(|s| format!(r#"{{"issuer_spki_sha256":"{key}","serial":"{s}"}}"#))
            .collect();
        format!(
            r#"{{"version":1,"sequence":{sequence},"entries":[{}]}}"#,
            entries.join(",")
        )
        .into_bytes()
    };
    put(&s3, "truststore.pem", ca.pem().as_bytes().to_vec()).await;
    put(&s3, "crl/devices.crl", ca.crl().der()).await;
    put(&s3, "deny-list.json", list(1, &[])).await;
    let config = Config::from_json(&format!(
        r#"{{"truststore":"s3://{BUCKET}/truststore.pem","issuers":[{{"name":"devices",
            "match":{{"CN":"Devices CA"}},"crl":"s3://{BUCKET}/crl/devices.crl"}}],
            "deny_list":"s3://{BUCKET}/deny-list.json","deny_list_refresh_seconds":10,
            "deny_list_max_age_seconds":60}}"#
    ))
    .unwrap();
    let clock = Arc::new(ManualClock::new(UnixTime(pki::unix(pki::now()))));
    let a = Box::pin(
        Authorizer::builder(config)
            .fetcher(fetcher(&moto, 1 << 20).await)
            .clock(clock.clone())
            .http_api_response(HttpApiResponse::Simple)
            .start(),
    )
    .await
    .unwrap();
    let device = ca.leaf(&[0x42]).pem();
    // Boxed: the decision's future is large in a debug build, and this test
    // holds several at once on the test thread's stack.
    let decide = || async { Box::pin(a.decide(Some(&device))).await.decision.reason() };
    assert_eq!(decide().await, None);

    clock.advance(10); // unchanged: a 304
    assert_eq!(decide().await, None);
    let status = a.deny_list_status().unwrap();
    assert_eq!((status.installs, status.last_error), (1, None));

    put(&s3, "deny-list.json", list(2, &["42"])).await;
    clock.advance(10);
    assert_eq!(decide().await, Some(DenyReason::DenyListed));

    // Version 1 restored as the current object: refused, the entry stays.
    put(&s3, "deny-list.json", list(1, &[])).await;
    clock.advance(10);
    assert_eq!(decide().await, Some(DenyReason::DenyListed));
    assert!(matches!(
        a.deny_list_status().unwrap().last_error,
        Some(RefreshError::Refused(
            mtls_policy::Error::DenyListRollback {
                cached: 2,
                offered: 1
            }
        ))
    ));

    // Deleted: the last good list stays until 60 s after its last
    // confirmation, then every request is denied.
    s3.delete_object()
        .bucket(BUCKET)
        .key("deny-list.json")
        .send()
        .await
        .unwrap();
    clock.advance(10);
    assert_eq!(decide().await, Some(DenyReason::DenyListed));
    a.settle().await;
    clock.advance(50);
    assert_eq!(decide().await, Some(DenyReason::DenyListUnavailable));
}
