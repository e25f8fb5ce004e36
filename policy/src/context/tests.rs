use super::*;

fn allow() -> AuthorizerContext {
    AuthorizerContext {
        subject_dn: "CN=sensor-1,O=Example".into(),
        issuer_dn: "CN=Devices CA".into(),
        serial_number: "0a".into(),
        fingerprint_sha256: "ab".repeat(32),
        issuer: "devices".into(),
        name_sha256: "cd".repeat(32),
        reason: None,
    }
}

#[test]
fn the_map_has_string_values_under_the_documented_keys_and_reads_back() {
    let ctx = allow();
    let map = ctx.to_map();
    assert!(map.values().all(Value::is_string));
    assert_eq!(map["subjectDn"], "CN=sensor-1,O=Example");
    assert_eq!(map["fingerprintSha256"], "ab".repeat(32));
    assert!(!map.contains_key("reason"), "an Allow carries no reason");
    assert_eq!(AuthorizerContext::from_map(&map), Some(ctx));
}

#[test]
fn a_deny_carries_its_reason_and_an_incomplete_identity() {
    let deny = AuthorizerContext {
        reason: Some("revoked".into()),
        issuer: String::new(),
        ..allow()
    };
    let map = deny.to_map();
    assert_eq!(map["reason"], "revoked");
    let back = AuthorizerContext::from_map(&map).unwrap();
    assert_eq!(back.reason.as_deref(), Some("revoked"));
    assert!(!back.is_complete_identity());
    assert!(allow().is_complete_identity());
}

#[test]
fn other_keys_are_ignored_and_a_non_string_value_of_ours_is_refused() {
    let mut map = allow().to_map();
    map.insert("principalId".into(), Value::from(7));
    assert_eq!(AuthorizerContext::from_map(&map), Some(allow()));
    map.insert("serialNumber".into(), Value::from(10));
    assert_eq!(AuthorizerContext::from_map(&map), None);
}

#[test]
fn the_identity_header_list_names_only_context_keys() {
    let doc: Value =
        serde_json::from_str(include_str!("../../../infra/identity-headers.json")).unwrap();
    let map = allow().to_map();
    for h in doc["headers"].as_array().unwrap() {
        let key = h["context"].as_str().unwrap();
        assert!(map.contains_key(key), "{key}");
    }
}
