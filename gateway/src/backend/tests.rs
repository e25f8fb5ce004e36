use serde_json::json;

use super::*;

fn req(headers: &[(&str, &str)]) -> Request {
    Request {
        method: "GET".into(),
        path: "/whoami".into(),
        query: String::new(),
        headers: headers
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect(),
        body: Vec::new(),
        source_ip: "127.0.0.1".into(),
        request_id: "r".into(),
        time: time::OffsetDateTime::UNIX_EPOCH,
    }
}

#[test]
fn identity_headers_come_from_the_context_and_overwrite_what_the_client_sent() {
    let context: Map<String, Value> = [
        ("subjectDn".to_owned(), json!("CN=dev-1")),
        ("issuerDn".to_owned(), json!("CN=Devices CA")),
        ("serialNumber".to_owned(), json!("0a")),
        ("fingerprintSha256".to_owned(), json!("ab")),
        ("issuer".to_owned(), json!("devices")),
    ]
    .into_iter()
    .collect();
    let spoofed = req(&[
        ("X-Client-Cert-Serial", "00"),
        ("x-client-cert-policy", "admins"),
        ("Host", "api.example.com"),
        ("Connection", "keep-alive"),
        ("Accept", "application/json"),
    ]);
    let out = forwarded_headers(&spoofed, &context);
    let get = |name: &str| -> Vec<&str> {
        out.iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    };
    assert_eq!(get("x-client-cert-serial"), ["0a"]);
    assert_eq!(get("x-client-cert-policy"), ["devices"]);
    assert_eq!(get("x-client-cert-subject"), ["CN=dev-1"]);
    assert_eq!(get("x-client-cert-issuer"), ["CN=Devices CA"]);
    assert_eq!(get("x-client-cert-sha256"), ["ab"]);
    assert_eq!(get("accept"), ["application/json"]);
    assert!(get("host").is_empty() && get("connection").is_empty());
}

#[test]
fn the_mapping_names_six_headers_and_context_keys_the_authorizer_writes() {
    let names: Vec<&str> = identity_headers().iter().map(|(h, _)| h.as_str()).collect();
    assert_eq!(
        names,
        [
            "x-client-cert-subject",
            "x-client-cert-issuer",
            "x-client-cert-serial",
            "x-client-cert-sha256",
            "x-client-cert-policy",
            "x-client-cert-name-sha256"
        ]
    );
    let written = mtls_policy::context::AuthorizerContext::default().to_map();
    for (header, key) in identity_headers() {
        assert!(written.contains_key(key), "{header} ← {key}");
    }
}

#[test]
fn other_separators_in_identity_header_names_are_look_alikes_in_any_case() {
    for name in [
        "x_client_cert_subject",
        "X_Client_Cert_Subject",
        "x-client_cert-subject",
        "X_CLIENT-CERT-SUBJECT",
        "x_client_cert_name_sha256",
        "x.client.cert.subject",
        "X~Client~Cert~Subject",
        "x client cert subject",
    ] {
        assert!(look_alike_of(name).is_some(), "{name}");
    }
    // The exact name in any case is the header itself (overwritten, not a
    // look-alike), and other underscore headers are the client's business.
    for name in [
        "x-client-cert-subject",
        "X-CLIENT-CERT-SUBJECT",
        "x_client_cert",
        "x_client_cert_subjects",
        "my_header",
    ] {
        assert_eq!(look_alike_of(name), None, "{name}");
    }
}

#[test]
fn look_alike_identity_headers_never_reach_the_backend() {
    let context = mtls_policy::context::AuthorizerContext {
        subject_dn: "CN=good".into(),
        ..Default::default()
    }
    .to_map();
    let spoofed = req(&[
        ("x_client_cert_subject", "CN=admin"),
        ("X_Client_Cert_Subject", "CN=admin"),
        ("x-client_cert-subject", "CN=admin"),
        ("x.client.cert.subject", "CN=admin"),
        ("x_client_cert_name_sha256", "00"),
        ("my_header", "kept"),
    ]);
    let out = forwarded_headers(&spoofed, &context);
    let subjects: Vec<&str> = out
        .iter()
        .filter(|(k, _)| folded(k) == "x-client-cert-subject")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(subjects, ["CN=good"]);
    assert!(out.iter().all(|(_, v)| v != "CN=admin" && v != "00"));
    assert!(out.contains(&("my_header".to_owned(), "kept".to_owned())));

    let drop = HttpBackend::parse("http://127.0.0.1:9").unwrap();
    assert!(drop.screen(&spoofed).is_none(), "dropped, not refused");
    let reject = drop.with_look_alikes(LookAlikeHeaders::Reject);
    assert_eq!(reject.screen(&spoofed).map(|a| a.status), Some(400));
    assert!(reject.screen(&req(&[("my_header", "x")])).is_none());
}

#[test]
fn backend_urls_are_http_host_port_with_an_optional_base_path() {
    let b = HttpBackend::parse("http://127.0.0.1:9000").unwrap();
    assert_eq!(
        (b.authority.as_str(), b.base_path.as_str()),
        ("127.0.0.1:9000", "")
    );
    let b = HttpBackend::parse("http://127.0.0.1:9000/api/").unwrap();
    assert_eq!(b.base_path, "/api");
    assert!(HttpBackend::parse("https://x").is_err());
    assert!(HttpBackend::parse("http:///x").is_err());
}
