use super::*;

#[test]
fn reset_removes_a_stack_and_refuses_anything_else() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(".local");
    let stack = prepare(&dir, OffsetDateTime::now_utc()).unwrap();
    assert!(stack.truststore.exists());
    reset(&dir).unwrap();
    assert!(!dir.exists());
    // Nothing there: nothing to do.
    reset(&dir).unwrap();

    let mine = tmp.path().join("mine");
    std::fs::create_dir_all(mine.join("pki")).unwrap();
    std::fs::write(mine.join("thesis.tex"), "keep me").unwrap();
    let err = reset(&mine).unwrap_err().to_string();
    assert!(err.contains("not part of a development stack"), "{err}");
    assert!(mine.join("thesis.tex").exists());
}

#[test]
fn printed_commands_follow_the_good_devices_state() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(".local");
    let now = OffsetDateTime::now_utc();
    let stack = prepare(&dir, now).unwrap();
    let rest = Front {
        flavor: Flavor::Rest,
        backend: None,
    };
    let http_api = Front {
        flavor: Flavor::Http,
        backend: None,
    };
    let backend = Front {
        flavor: Flavor::Rest,
        backend: Some("http://127.0.0.1:9000"),
    };
    let fresh = curl_commands(&stack, "https://127.0.0.1:8443", rest);
    assert!(fresh.contains("# a good device: 201"), "{fresh}");
    assert!(fresh.contains("pki revoke good"), "{fresh}");
    assert!(fresh.contains("--now"), "{fresh}");
    assert!(
        fresh.contains(r#"403 {"message":"Forbidden","reason":"deny_listed"}"#),
        "{fresh}"
    );
    assert!(stack.deny_list.exists(), "an empty deny list is made");
    let config = std::fs::read_to_string(&stack.authorizer_config).unwrap();
    assert!(
        config.contains("\"deny_list_refresh_seconds\": 1"),
        "{config}"
    );
    assert!(fresh.contains("-w ' %{http_code}\\n'"), "{fresh}");
    assert!(fresh.contains("/nope"), "{fresh}");
    assert!(
        fresh.contains(r#"403 {"message":"Forbidden","reason":"route_not_allowed"}"#),
        "{fresh}"
    );
    assert!(fresh.contains("pki-ops/clients/operator.pem"), "{fresh}");
    let config = mtls_policy::config::Config::from_json(&config).unwrap();
    let operators = config
        .issuers()
        .iter()
        .find(|i| i.name() == "operators")
        .unwrap();
    assert_eq!(operators.routes().map(|r| r.iter().count()), Some(2));
    assert!(
        fresh.contains(r#"403 {"message":"Forbidden","reason":"revoked"}"#),
        "{fresh}"
    );
    let proxied = curl_commands(&stack, "https://127.0.0.1:8443", backend);
    assert!(
        proxied.contains("whatever http://127.0.0.1:9000 answers"),
        "{proxied}"
    );
    assert!(
        !proxied.contains("/nope"),
        "every path is routed: {proxied}"
    );

    let devices = Pki::at(&stack.devices);
    devices.revoke("good", Reason::KeyCompromise, now).unwrap();
    let after = curl_commands(&stack, "https://127.0.0.1:8443", rest);
    let http = curl_commands(&stack, "https://127.0.0.1:8443", http_api);
    assert!(http.contains("404 {\"message\":\"Not Found\"}"), "{http}");
    assert!(
        !http.contains("\"reason\""),
        "an HTTP API's 403 has no reason: {http}"
    );
    assert!(
        !after.contains("below"),
        "no step below to point to: {after}"
    );
    assert!(
        after.contains("the good device was revoked in an earlier run"),
        "{after}"
    );
    assert!(after.contains("make reset"), "{after}");
    assert!(!after.contains("pki revoke good"), "{after}");
}
