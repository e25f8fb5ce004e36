use super::*;

fn cache(max_entries: usize) -> ResultCache {
    ResultCache::new(&CacheConfig {
        ttl: Duration::from_secs(300),
        identity_sources: Vec::new(),
        max_entries,
    })
}

#[test]
fn default_identity_sources_are_the_certificate_fields_of_api_gateway_json() {
    // The file as it is now, read and mapped here rather than through the embedded copy:
    // a list written out in the gateway instead would differ from it when the file changes.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/api-gateway.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let expected: Vec<String> = doc["cache_key_fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("context.identity.clientCert.{}", f.as_str().unwrap()))
        .collect();
    assert!(!expected.is_empty(), "{path}: no cache_key_fields");
    assert_eq!(default_identity_sources(), expected);
    // Each is a field the gateway reads from the certificate: one it could not read would
    // answer every request 401 once the cache is on.
    let mut cert = ClientCert::default();
    cert.serial_number = Some("0a".into());
    cert.issuer_dn = Some("CN=Devices CA".into());
    cert.subject_dn = Some("CN=dev-1".into());
    cert.client_cert_pem = Some("-----BEGIN CERTIFICATE-----".into());
    let req = whoami();
    for source in &expected {
        assert!(
            Gateway::identity(std::slice::from_ref(source), &req, &cert, "GET /whoami").is_some(),
            "{source}"
        );
    }
}

#[test]
fn authorizer_cache_holds_at_most_max_entries_and_drops_the_least_recently_used() {
    let c = cache(2);
    let t = Instant::now();
    c.put("a", json!("A"), t);
    c.put("b", json!("B"), t);
    assert_eq!(c.get("a", t), Some(json!("A")), "a is now the most recent");
    c.put("c", json!("C"), t);
    assert_eq!(c.len(), 2);
    assert_eq!(c.get("b", t), None, "b was the least recently used");
    assert_eq!(c.get("a", t), Some(json!("A")));
    assert_eq!(c.get("c", t), Some(json!("C")));
    for i in 0..10_000 {
        c.put(&format!("spray-{i}"), json!(i), t);
    }
    assert_eq!(c.len(), 2, "a client spraying identities cannot grow it");
}

#[test]
fn authorizer_cache_entries_expire_after_the_ttl() {
    let c = cache(10);
    let t = Instant::now();
    c.put("a", json!("A"), t);
    assert_eq!(c.get("a", t + Duration::from_secs(299)), Some(json!("A")));
    assert_eq!(c.get("a", t + Duration::from_secs(300)), None);
    assert_eq!(c.len(), 0, "an expired entry is removed when found");
}

/// `GET /whoami` from loopback.
fn whoami() -> Request {
    Request {
        method: "GET".into(),
        path: "/whoami".into(),
        query: String::new(),
        headers: vec![],
        body: vec![],
        source_ip: "127.0.0.1".into(),
        request_id: "r".into(),
        time: OffsetDateTime::UNIX_EPOCH,
    }
}

#[test]
fn an_http_api_cache_key_with_the_route_key_differs_per_route() {
    let mut cert = ClientCert::default();
    cert.serial_number = Some("0a".into());
    cert.issuer_dn = Some("CN=Devices CA".into());
    let req = whoami();
    let sources = with_route_key(default_identity_sources(), apigw::Flavor::Http);
    let get = Gateway::identity(&sources, &req, &cert, "GET /whoami").unwrap();
    let post = Gateway::identity(&sources, &req, &cert, "POST /temps").unwrap();
    assert_ne!(
        get, post,
        "one route's cached answer must not serve another"
    );
    // REST caches a policy that lists the entry's routes: its key stays the certificate.
    assert_eq!(
        with_route_key(default_identity_sources(), apigw::Flavor::Rest),
        default_identity_sources()
    );
    // Given once, it is not added twice.
    assert_eq!(
        with_route_key(sources.clone(), apigw::Flavor::Http),
        sources
    );
}
