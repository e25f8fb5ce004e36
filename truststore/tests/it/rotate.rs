//! Upload and rotation through the real SDK clients: S3 on moto_server, the
//! custom domain on a scripted API Gateway (see `common/apigw.rs`), both on
//! 127.0.0.1. Covers success, warnings and rollback, throttling and retry,
//! and a timeout, for REST and HTTP API domains, in the library and the CLI.

use crate::common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use aws_sdk_s3::types::BucketVersioningStatus;
use common::apigw::{FakeApiGateway, Gw};
use common::{Spec, chain, pems, stderr, stdout};
use mtls_tests::moto::{self, Moto};
use truststore::Error;
use truststore::domain::{ApiKind, Domains};
use truststore::rotate::{OnWarnings, Outcome, Pacing, Quiet, rotate};
use truststore::s3::Store;

const DOMAIN: &str = "api.example.test";
const BUCKET: &str = "truststores";
const KEY: &str = "prod/truststore.pem";
const URI: &str = "s3://truststores/prod/truststore.pem";

fn fast() -> Pacing {
    Pacing {
        poll_interval: Duration::from_millis(20),
        timeout: Duration::from_secs(5),
        backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(400),
        attempts: 5,
    }
}

fn bundle(name: &str) -> String {
    let c = chain(2, name);
    pems(&[&c[1], &c[0]])
}

async fn bucket(moto: &Moto, versioned: bool) -> Store {
    let versioning = versioned.then_some(BucketVersioningStatus::Enabled);
    moto::create_bucket(&moto.s3().await, BUCKET, versioning).await;
    Store::with_path_style(&moto.sdk_config().await, true)
}

/// Two uploaded versions: (old, new).
async fn two_versions(store: &Store) -> (String, String) {
    let old = store
        .upload(BUCKET, KEY, bundle("Old").as_bytes())
        .await
        .unwrap();
    let new = store
        .upload(BUCKET, KEY, bundle("New").as_bytes())
        .await
        .unwrap();
    (old.version_id, new.version_id)
}

#[tokio::test]
async fn upload_refuses_a_bucket_without_versioning() {
    let moto = Moto::start().await;
    let store = bucket(&moto, false).await;
    let err = store.upload(BUCKET, KEY, b"x").await.unwrap_err();
    assert!(matches!(err, Error::Unversioned { .. }), "{err}");
    assert!(err.to_string().contains("put-bucket-versioning"), "{err}");

    // Suspended versioning is refused too.
    let s3 = moto.s3().await;
    moto::set_versioning(&s3, BUCKET, BucketVersioningStatus::Suspended).await;
    let err = store.upload(BUCKET, KEY, b"x").await.unwrap_err();
    assert!(err.to_string().contains("Suspended"), "{err}");
    let listed = s3.list_objects_v2().bucket(BUCKET).send().await.unwrap();
    assert_eq!(listed.key_count(), Some(0), "nothing may be uploaded");
}

#[tokio::test]
async fn unchanged_bundle_is_not_uploaded_again_and_the_hash_is_recorded() {
    let moto = Moto::start().await;
    let store = bucket(&moto, true).await;
    let pem = bundle("Same");
    let first = store.upload(BUCKET, KEY, pem.as_bytes()).await.unwrap();
    assert!(!first.unchanged);
    let again = store.upload(BUCKET, KEY, pem.as_bytes()).await.unwrap();
    assert!(again.unchanged);
    assert_eq!(again.version_id, first.version_id);
    assert_eq!(store.versions(BUCKET, KEY).await.unwrap().len(), 1);

    let s3 = moto.s3().await;
    let head = s3
        .head_object()
        .bucket(BUCKET)
        .key(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(head.metadata().unwrap()["sha256"], first.sha256);

    let other = store
        .upload(BUCKET, KEY, bundle("Other").as_bytes())
        .await
        .unwrap();
    assert!(!other.unchanged);
    assert_ne!(other.version_id, first.version_id);
    let versions = store.versions(BUCKET, KEY).await.unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0].version_id, other.version_id, "newest first");
    assert!(versions[0].is_latest);
}

#[tokio::test]
async fn object_written_by_another_tool_is_compared_by_content() {
    let moto = Moto::start().await;
    let store = bucket(&moto, true).await;
    let pem = bundle("Console");
    let s3 = moto.s3().await;
    s3.put_object()
        .bucket(BUCKET)
        .key(KEY)
        .body(pem.clone().into_bytes().into())
        .send()
        .await
        .unwrap();
    let up = store.upload(BUCKET, KEY, pem.as_bytes()).await.unwrap();
    assert!(
        up.unchanged,
        "same bytes without our metadata are still the same bundle"
    );
}

/// Rotates the test domain to `version` with the fast pacing.
async fn to(domains: &Domains, version: &str, on: OnWarnings) -> truststore::Result<Outcome> {
    rotate(domains, DOMAIN, URI, version, on, fast(), &Quiet).await
}

async fn setup(kind: ApiKind, pinned: Option<&str>) -> (FakeApiGateway, Domains) {
    let gw = FakeApiGateway::start(Gw::new(DOMAIN, URI, pinned)).await;
    let domains = Domains::new(&gw.sdk_config().await, kind);
    (gw, domains)
}

#[tokio::test]
async fn rest_domain_is_rotated_and_waits_until_available() {
    let moto = Moto::start().await;
    let store = bucket(&moto, true).await;
    let (old, new) = two_versions(&store).await;
    let (gw, domains) = setup(ApiKind::Rest, Some(&old)).await;
    let out = to(&domains, &new, OnWarnings::RollBack).await.unwrap();
    assert_eq!(
        out,
        Outcome::Applied {
            from: Some(old),
            to: new.clone()
        }
    );
    gw.with(|g| {
        assert_eq!(g.version.as_deref(), Some(new.as_str()));
        assert_eq!(g.status, "AVAILABLE");
        assert_eq!(g.patches(), vec![new.as_str()]);
        // Polled through UPDATING until AVAILABLE.
        assert!(
            g.log.iter().filter(|l| *l == "GET").count() >= 4,
            "{:?}",
            g.log
        );
    });
}

#[tokio::test]
async fn http_api_domain_is_rotated_through_apigatewayv2() {
    let (gw, domains) = setup(ApiKind::Http, Some("v-old")).await;
    let out = to(&domains, "v-new", OnWarnings::RollBack).await.unwrap();
    assert!(matches!(out, Outcome::Applied { .. }), "{out:?}");
    gw.with(|g| assert_eq!(g.version.as_deref(), Some("v-new")));
}

#[tokio::test]
async fn warnings_roll_back_to_the_previous_version() {
    for kind in [ApiKind::Rest, ApiKind::Http] {
        let (gw, domains) = setup(kind, Some("v1")).await;
        let warning = "Certificate with subject O=Example,CN=Expired CA is expired. Clients with certificates issued by it cannot connect.";
        gw.with(|g| {
            g.warn_on.insert("v2".into(), vec![warning.into()]);
        });
        let out = to(&domains, "v2", OnWarnings::RollBack).await.unwrap();
        assert_eq!(
            out,
            Outcome::RolledBack {
                from: Some("v1".into()),
                to: "v2".into(),
                warnings: vec![warning.into()]
            },
            "{kind:?}"
        );
        assert!(out.warned());
        gw.with(|g| {
            assert_eq!(g.patches(), vec!["v2", "v1"], "{kind:?}");
            assert_eq!(g.version.as_deref(), Some("v1"));
            assert_eq!(g.status, "AVAILABLE");
            assert!(g.warnings.is_empty());
        });
    }
}

#[tokio::test]
async fn keep_on_warnings_keeps_the_new_version() {
    let (gw, domains) = setup(ApiKind::Rest, Some("v1")).await;
    gw.with(|g| {
        g.warn_on.insert("v2".into(), vec!["w".into()]);
    });
    let out = to(&domains, "v2", OnWarnings::Keep).await.unwrap();
    assert!(matches!(out, Outcome::KeptWithWarnings { .. }), "{out:?}");
    gw.with(|g| assert_eq!(g.patches(), vec!["v2"]));
}

#[tokio::test]
async fn throttled_update_is_retried_with_backoff() {
    let (gw, domains) = setup(ApiKind::Rest, Some("v1")).await;
    gw.with(|g| {
        g.throttle_updates = 2;
        g.throttle_gets = 1;
    });
    let started = Instant::now();
    let out = to(&domains, "v2", OnWarnings::RollBack).await.unwrap();
    assert!(matches!(out, Outcome::Applied { .. }), "{out:?}");
    gw.with(|g| {
        assert_eq!(
            g.log.iter().filter(|l| *l == "PATCH 429").count(),
            2,
            "{:?}",
            g.log
        );
        assert_eq!(g.log.iter().filter(|l| *l == "GET 429").count(), 1);
        assert_eq!(g.patches(), vec!["v2"]);
    });
    // 50 ms for the throttled GET, then 50 ms and 100 ms for the PATCHes.
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn retry_after_from_the_service_is_honoured() {
    let (gw, domains) = setup(ApiKind::Http, Some("v1")).await;
    gw.with(|g| {
        g.throttle_updates = 1;
        g.retry_after = Some(1);
    });
    let pacing = Pacing {
        max_backoff: Duration::from_secs(5),
        ..fast()
    };
    let started = Instant::now();
    rotate(
        &domains,
        DOMAIN,
        URI,
        "v2",
        OnWarnings::RollBack,
        pacing,
        &Quiet,
    )
    .await
    .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn throttling_beyond_the_attempts_fails_without_a_change() {
    let (gw, domains) = setup(ApiKind::Rest, Some("v1")).await;
    gw.with(|g| g.throttle_updates = 100);
    let err = to(&domains, "v2", OnWarnings::RollBack).await.unwrap_err();
    assert!(
        err.to_string().contains("gave up after 5 attempts"),
        "{err}"
    );
    gw.with(|g| assert_eq!(g.version.as_deref(), Some("v1")));
}

#[tokio::test]
async fn domain_that_stays_updating_times_out() {
    let (gw, domains) = setup(ApiKind::Rest, Some("v1")).await;
    gw.with(|g| g.stuck = true);
    let pacing = Pacing {
        timeout: Duration::from_millis(300),
        ..fast()
    };
    let started = Instant::now();
    let err = rotate(
        &domains,
        DOMAIN,
        URI,
        "v2",
        OnWarnings::RollBack,
        pacing,
        &Quiet,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, Error::Timeout { status, .. } if status == "UPDATING"),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    gw.with(|g| assert_eq!(g.patches(), vec!["v2"], "no rollback while UPDATING"));
}

#[tokio::test]
async fn domain_with_another_truststore_or_none_is_refused() {
    let (gw, domains) = setup(ApiKind::Rest, Some("v1")).await;
    let err = rotate(
        &domains,
        DOMAIN,
        "s3://elsewhere/truststore.pem",
        "v2",
        OnWarnings::RollBack,
        fast(),
        &Quiet,
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("its truststore is s3://truststores"),
        "{err}"
    );
    let err = rotate(
        &domains,
        "other.example.test",
        URI,
        "v2",
        OnWarnings::RollBack,
        fast(),
        &Quiet,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("NotFoundException"), "{err}");
    gw.with(|g| assert!(g.patches().is_empty()));
}

#[tokio::test]
async fn pinned_version_is_left_alone() {
    let (gw, domains) = setup(ApiKind::Rest, Some("v1")).await;
    let out = to(&domains, "v1", OnWarnings::RollBack).await.unwrap();
    assert_eq!(
        out,
        Outcome::AlreadyCurrent {
            version: "v1".into()
        }
    );
    gw.with(|g| assert!(g.patches().is_empty()));
}

#[tokio::test]
async fn pinned_version_with_warnings_is_reported_not_called_current() {
    // As a rotation killed between its update and its rollback leaves it.
    let (gw, domains) = setup(ApiKind::Rest, Some("v2")).await;
    gw.with(|g| g.warnings = vec!["Certificate chain is incomplete".into()]);
    let out = to(&domains, "v2", OnWarnings::RollBack).await.unwrap();
    assert_eq!(
        out,
        Outcome::KeptWithWarnings {
            from: Some("v2".into()),
            to: "v2".into(),
            warnings: vec!["Certificate chain is incomplete".into()]
        }
    );
    assert!(out.warned());
    gw.with(|g| assert!(g.patches().is_empty()));
}

/// Runs the CLI against moto (S3) and the scripted API Gateway.
async fn cli(
    dir: PathBuf,
    moto: &Moto,
    gw: &FakeApiGateway,
    args: &[&str],
) -> std::process::Output {
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    let env = [
        ("AWS_ENDPOINT_URL_S3".to_owned(), moto.endpoint()),
        (
            "AWS_ENDPOINT_URL_API_GATEWAY".to_owned(),
            gw.endpoint.clone(),
        ),
        (
            "AWS_ENDPOINT_URL_APIGATEWAYV2".to_owned(),
            gw.endpoint.clone(),
        ),
        ("S3_FORCE_PATH_STYLE".to_owned(), "true".to_owned()),
    ];
    tokio::task::spawn_blocking(move || {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let e: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        common::truststore(&dir, &a, &e)
    })
    .await
    .unwrap()
}

const FAST: [&str; 6] = [
    "--poll-interval",
    "0.02",
    "--backoff",
    "0.05",
    "--timeout",
    "10",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_rotate_status_and_rollback_runbook() {
    let moto = Moto::start().await;
    let store = bucket(&moto, true).await;
    let first = store
        .upload(BUCKET, KEY, bundle("First").as_bytes())
        .await
        .unwrap();
    let gw = FakeApiGateway::start(Gw::new(DOMAIN, URI, Some(&first.version_id))).await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_owned();
    std::fs::write(d.join("next.pem"), bundle("Next")).unwrap();

    // rotate: validate, upload, pin, wait.
    let mut args = vec![
        "rotate", "--domain", DOMAIN, "--bucket", BUCKET, "--key", KEY, "next.pem",
    ];
    args.extend(FAST);
    let out = cli(d.clone(), &moto, &gw, &args).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let pinned = gw.with(|g| g.version.clone().unwrap());
    assert_ne!(pinned, first.version_id);
    assert!(
        stdout(&out).contains(&format!("now uses truststore version {pinned}")),
        "{}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains("UPDATING"),
        "progress is shown: {}",
        stderr(&out)
    );

    // Again with the same file: unchanged, nothing to do.
    let out = cli(d.clone(), &moto, &gw, &args).await;
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("nothing to do"), "{}", stdout(&out));

    // status: pinned is the latest, bundle is fine.
    let out = cli(
        d.clone(),
        &moto,
        &gw,
        &["status", "--domain", DOMAIN, "--json"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["state"]["truststore_version"], pinned.as_str());
    assert_eq!(json["newer_versions"], 0);
    assert_eq!(
        json["pinned_bundle"]["certificates"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // rollback: back to the version before.
    let mut rb = vec!["rollback", "--domain", DOMAIN];
    rb.extend(FAST);
    let out = cli(d.clone(), &moto, &gw, &rb).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    gw.with(|g| assert_eq!(g.version.as_deref(), Some(first.version_id.as_str())));

    // status now says a newer version is not deployed (exit 3).
    let out = cli(d.clone(), &moto, &gw, &["status", "--domain", DOMAIN]).await;
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("1 newer version(s)"),
        "{}",
        stdout(&out)
    );

    // rotate --version with warnings: rolled back, exit 3.
    gw.with(|g| {
        g.warn_on.insert(
            pinned.clone(),
            vec!["Certificate chain is incomplete".into()],
        );
    });
    let mut args = vec![
        "rotate",
        "--domain",
        DOMAIN,
        "--bucket",
        BUCKET,
        "--key",
        KEY,
        "--version",
        &pinned,
    ];
    args.extend(FAST);
    let out = cli(d.clone(), &moto, &gw, &args).await;
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stderr(&out).contains("truststoreWarning: Certificate chain is incomplete"));
    assert!(stdout(&out).contains("rolled back"), "{}", stdout(&out));
    gw.with(|g| assert_eq!(g.version.as_deref(), Some(first.version_id.as_str())));
}

/// The command failed with `code` and said `needle` on stderr.
fn expect(out: &std::process::Output, code: i32, needle: &str) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}{}",
        stdout(out),
        stderr(out)
    );
    assert!(stderr(out).contains(needle), "{}", stderr(out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_refuses_invalid_bundles_and_unversioned_buckets_before_any_change() {
    let moto = Moto::start().await;
    let _store = bucket(&moto, false).await;
    let gw = FakeApiGateway::start(Gw::new(DOMAIN, URI, Some("v1"))).await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_owned();
    let c = chain(2, "Broken");
    std::fs::write(d.join("broken.pem"), &c[1].pem).unwrap();
    std::fs::write(d.join("good.pem"), bundle("Good")).unwrap();
    std::fs::write(d.join("leaf.pem"), Spec::leaf("x").signed_by(&c[0]).pem).unwrap();

    let object = ["--bucket", BUCKET, "--key", KEY];
    let mut rotate = vec!["rotate", "--domain", DOMAIN];
    rotate.extend(object);
    rotate.push("broken.pem");
    rotate.extend(FAST);
    let out = cli(d.clone(), &moto, &gw, &rotate).await;
    expect(&out, 1, "error[incomplete_chain]");

    for (file, needle) in [
        ("good.pem", "does not have versioning enabled"),
        ("leaf.pem", "error[not_a_ca]"),
    ] {
        let mut upload = vec!["upload"];
        upload.extend(object);
        upload.push(file);
        let out = cli(d.clone(), &moto, &gw, &upload).await;
        expect(&out, 1, needle);
    }
    gw.with(|g| assert!(g.patches().is_empty()));
}
