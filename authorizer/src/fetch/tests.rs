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
        Some("too many redirects")
    );
}

#[test]
fn redirects_from_or_to_plain_http_are_refused() {
    let refused = |from: &str, to: &str| redirect_refusal(&url(to), &[url(from)]).is_some();
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
        assert!(
            redirect_refusal(&url(to), &start).is_some(),
            "{to} must be refused"
        );
    }
}
