//! Unit tests of the `fetch` module (kept beside it so the module itself stays short).

use super::*;

fn url(s: &str) -> url::Url {
    url::Url::parse(s).unwrap()
}

#[test]
fn background_pace_follows_lambdas_cpu_share() {
    let share = |mb: &str| match Pace::lambda_background(Some(mb)) {
        Pace::Share(f) => Some((f * 1000.0).round() / 1000.0),
        Pace::Full => None,
    };
    assert_eq!(share("128"), Some(0.036));
    assert_eq!(share("256"), Some(0.072));
    assert_eq!(share("1769"), Some(0.5));
    assert_eq!(share("10240"), Some(0.5));
    assert_eq!(share("0"), None);
    assert_eq!(share("lots"), None);
    assert_eq!(Pace::lambda_background(None), Pace::Full);
}

#[test]
fn https_to_https_redirects_are_followed_a_few_times() {
    let start = [url("https://crl.example.com/ca.crl")];
    assert_eq!(
        redirect_refusal(&url("https://cdn.example.net/ca.crl"), &start),
        None
    );
    let many: Vec<url::Url> = (0..=MAX_REDIRECTS)
        .map(|i| url(&format!("https://h{i}.example.com/")))
        .collect();
    assert_eq!(
        redirect_refusal(&url("https://cdn.example.net/ca.crl"), &many),
        Some(RedirectRefusal::TooMany)
    );
}

#[test]
fn redirects_from_or_to_plain_http_are_refused() {
    let refused = |from: &str, to: &str| {
        redirect_refusal(&url(to), &[url(from)]) == Some(RedirectRefusal::NotHttps)
    };
    assert!(refused(
        "http://crl.example.com/a",
        "https://crl.example.com/a"
    ));
    assert!(refused(
        "https://crl.example.com/a",
        "http://crl.example.com/a"
    ));
    assert!(refused(
        "http://crl.example.com/a",
        "http://crl.example.com/b"
    ));
}

#[test]
fn redirects_to_loopback_link_local_or_metadata_addresses_are_refused() {
    let start = [url("https://crl.example.com/ca.crl")];
    for to in [
        "https://127.0.0.1/",
        "https://127.1.2.3:9001/2018-06-01/runtime/invocation/next",
        "https://169.254.169.254/latest/meta-data/",
        "https://169.254.170.2/v2/credentials",
        "https://[::1]/",
        "https://[fe80::1]/",
        "https://[fd00:ec2::254]/latest/",
        "https://[::ffff:169.254.169.254]/",
        "https://0.0.0.0/",
        "https://localhost/",
        "https://metadata.google.internal/",
    ] {
        assert_eq!(
            redirect_refusal(&url(to), &start),
            Some(RedirectRefusal::Internal),
            "{to} must be refused"
        );
    }
}

#[test]
fn fetch_failures_are_fetch_or_too_large_and_refusals_are_the_cores() {
    use crate::lambda::{CrlRefreshError, DenyListRefreshError};
    use mtls_policy::metrics::Cause;
    let uri = || "s3://b/k".to_owned();
    for (error, cause) in [
        (FetchError::Client { reason: "r".into() }, Cause::Fetch),
        (
            FetchError::Source {
                uri: uri(),
                reason: "r".into(),
            },
            Cause::Fetch,
        ),
        (
            FetchError::Status {
                uri: uri(),
                status: 503,
            },
            Cause::Fetch,
        ),
        (
            FetchError::Redirect {
                uri: uri(),
                refusal: RedirectRefusal::NotHttps,
            },
            Cause::Fetch,
        ),
        (
            FetchError::File {
                uri: uri(),
                kind: std::io::ErrorKind::NotFound,
                reason: "r".into(),
            },
            Cause::Fetch,
        ),
        (
            FetchError::Timeout {
                uri: uri(),
                seconds: 1,
            },
            Cause::Fetch,
        ),
        (
            FetchError::TooLarge {
                uri: uri(),
                limit: 1,
            },
            Cause::TooLarge,
        ),
        (
            FetchError::Refused(mtls_x509::Error::CrlMissingNextUpdate),
            Cause::Expired,
        ),
    ] {
        assert_eq!(Cause::of(&error), cause, "{error}");
        assert_eq!(Cause::of(&CrlRefreshError::Fetch(error.clone())), cause);
        assert_eq!(Cause::of(&DenyListRefreshError::Fetch(error)), cause);
    }
    assert_eq!(
        Cause::of(&CrlRefreshError::Refused(
            mtls_x509::Error::CrlSequenceLimit { limit: 1 }
        )),
        Cause::Rollback
    );
    assert_eq!(
        Cause::of(&DenyListRefreshError::Refused(
            mtls_policy::Error::DenyListSequenceReused { sequence: 1 }
        )),
        Cause::Rollback
    );
    // What the truststore's absence always was: nothing to check a signature with.
    assert_eq!(Cause::of(&CrlRefreshError::NoTruststore), Cause::Signature);
}

#[test]
fn fetch_errors_say_which_source_and_why() {
    let e = FetchError::Status {
        uri: "https://crl.example.com/ca.crl".into(),
        status: 503,
    };
    assert_eq!(
        e.to_string(),
        "fetching https://crl.example.com/ca.crl failed: HTTP status 503 Service Unavailable"
    );
}
