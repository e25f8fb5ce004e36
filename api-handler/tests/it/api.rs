//! Routing, identity and the two proxy formats, through `App::handle` with
//! events built like API Gateway's (local store; the stores themselves are
//! covered in `behaviour.rs`).

use crate::common;

use common::{NOW, device, get, local, post, reading, readings};
use mtls_tests::events::ProxyEvent;
use serde_json::{Value, json};

/// Both formats of one request.
fn both(e: &ProxyEvent) -> [(&'static str, Value); 2] {
    [("rest", e.rest()), ("http_v2", e.http_v2())]
}

#[tokio::test]
async fn a_request_without_an_authorizer_identity_is_401_on_every_route_and_stores_nothing() {
    let h = local();
    let body = reading("20", "2026-11-24T11:00:00Z");
    let events = [
        ProxyEvent::new("POST", "/temps").json(&body),
        ProxyEvent::new("GET", "/temps"),
        ProxyEvent::new("GET", "/whoami"),
        ProxyEvent::new("GET", "/admin"),
        // A context, but not the one our authorizer's Allow writes.
        ProxyEvent::new("POST", "/temps")
            .json(&body)
            .context(json!({"reason": "revoked"})),
        ProxyEvent::new("GET", "/whoami")
            .context(json!({"subjectDn": "CN=x", "issuer": "devices"})),
    ];
    for e in &events {
        for (format, event) in both(e) {
            let r = h.send(event).await;
            assert_eq!(r.status, 401, "{format} {e:?}");
            assert_eq!(r.body["error"], "unauthenticated");
        }
    }
    assert!(readings(&h.send(get(&device("anyone", "01")).rest()).await).is_empty());
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405_with_an_allow_header() {
    let h = local();
    let me = device("sensor-1", "01");
    for path in ["/", "/temp", "/temps/latest", "/admin/../temps"] {
        for (format, event) in both(&ProxyEvent::new("GET", path).context(me.clone())) {
            let r = h.send(event).await;
            assert_eq!(r.status, 404, "{format} {path}");
            assert_eq!(r.body["error"], "not_found");
        }
    }
    for (method, path, allow) in [
        ("DELETE", "/temps", "GET, POST"),
        ("PUT", "/temps", "GET, POST"),
        ("POST", "/whoami", "GET"),
        ("HEAD", "/whoami", "GET"),
    ] {
        for (format, event) in both(&ProxyEvent::new(method, path).context(me.clone())) {
            let r = h.send(event).await;
            assert_eq!(r.status, 405, "{format} {method} {path}");
            assert_eq!(r.body["error"], "method_not_allowed");
            assert_eq!(r.headers["allow"], allow);
        }
    }
}

#[tokio::test]
async fn whoami_shows_the_verified_identity_and_certificate_expiry_in_both_formats() {
    let h = local();
    let me = device("sensor-1", "0a1b");
    for (format, event) in both(&ProxyEvent::new("GET", "/whoami").context(me.clone())) {
        let r = h.send(event).await;
        assert_eq!(r.status, 200, "{format}");
        assert_eq!(r.body["subjectDn"], "CN=sensor-1,OU=Sensors,O=Example");
        assert_eq!(r.body["issuerDn"], "CN=Devices CA,O=Example");
        assert_eq!(r.body["serialNumber"], "0a1b");
        assert_eq!(r.body["issuer"], "devices");
        assert_eq!(r.body["fingerprintSha256"], me["fingerprintSha256"]);
        assert!(
            r.body["identityKey"]
                .as_str()
                .unwrap()
                .starts_with("name-sha256:")
        );
        assert_eq!(r.body["certificateNotAfter"], "Nov 20 00:00:00 2027 GMT");
        assert_eq!(r.headers["cache-control"], "no-store");
    }
}

#[tokio::test]
async fn schema_violations_are_400_naming_the_field_in_both_formats() {
    let h = local();
    let me = device("sensor-1", "01");
    let cases = [
        (r#"{"time": "2026-11-24T11:00:00Z"}"#, "temperature"),
        (r#"{"temperature": 20}"#, "time"),
        (
            r#"{"temperature": "20", "time": "2026-11-24T11:00:00Z"}"#,
            "temperature",
        ),
        (r#"{"temperature": 20, "time": 20}"#, "time"),
        (
            r#"{"temperature": 20, "time": "2026-11-24T11:00:00Z", "source": "ip"}"#,
            "source",
        ),
        (
            r#"{"temperature": 151, "time": "2026-11-24T11:00:00Z"}"#,
            "temperature",
        ),
        (
            r#"{"temperature": -101, "time": "2026-11-24T11:00:00Z"}"#,
            "temperature",
        ),
        (
            r#"{"temperature": 20, "time": "2026-11-24T12:00:00+01:00"}"#,
            "time",
        ),
        (
            r#"{"temperature": 20, "time": "2026-02-30T11:00:00Z"}"#,
            "time",
        ),
        (
            r#"{"temperature": 20, "time": "2026-11-25T11:00:00Z"}"#,
            "time",
        ),
    ];
    for (body, field) in cases {
        for (format, event) in both(&post(&me, body)) {
            let r = h.send(event).await;
            assert_eq!(r.status, 400, "{format} {body}: {:?}", r.body);
            assert_eq!(r.body["error"], "invalid_body");
            assert_eq!(r.body["field"], field, "{format} {body}");
        }
    }
    for (format, event) in both(&post(&me, "{\"temperature\": 20,")) {
        let r = h.send(event).await;
        assert_eq!(
            (r.status, &r.body["error"]),
            (400, &json!("malformed_json")),
            "{format}"
        );
    }
    let big = format!(r#"{{"temperature": 20, "time": "{}"}}"#, "x".repeat(2000));
    for (format, event) in both(&post(&me, &big)) {
        let r = h.send(event).await;
        assert_eq!(
            (r.status, &r.body["error"]),
            (413, &json!("body_too_large")),
            "{format}"
        );
    }
}

#[tokio::test]
async fn a_body_that_is_not_declared_json_is_415_because_api_gateway_would_not_have_validated_it() {
    let h = local();
    let me = device("sensor-1", "01");
    let body = reading("20", "2026-11-24T11:00:00Z");
    let form = ProxyEvent::new("POST", "/temps")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(&body)
        .context(me.clone());
    for (format, event) in both(&form) {
        let r = h.send(event).await;
        assert_eq!(r.status, 415, "{format}");
    }
    // No content type at all is taken as JSON, as API Gateway does.
    let bare = ProxyEvent::new("POST", "/temps")
        .body(&body)
        .context(me.clone());
    assert_eq!(h.send(bare.rest()).await.status, 201);
}

#[tokio::test]
async fn a_base64_encoded_body_is_decoded_and_a_broken_one_refused() {
    let h = local();
    let me = device("sensor-1", "01");
    // {"temperature": 20, "time": "2026-11-24T11:00:00Z"}
    let encoded = "eyJ0ZW1wZXJhdHVyZSI6IDIwLCAidGltZSI6ICIyMDI2LTExLTI0VDExOjAwOjAwWiJ9";
    let e = ProxyEvent::new("POST", "/temps")
        .header("Content-Type", "application/json")
        .base64_body(encoded)
        .context(me.clone());
    for (format, event) in both(&e) {
        let r = h.send(event).await;
        assert_eq!(r.status, 201, "{format}: {:?}", r.body);
    }
    let broken = ProxyEvent::new("POST", "/temps")
        .header("Content-Type", "application/json")
        .base64_body("%%%")
        .context(me.clone());
    assert_eq!(h.send(broken.rest()).await.status, 400);
    let huge = ProxyEvent::new("POST", "/temps")
        .header("Content-Type", "application/json")
        .base64_body(&"QUFB".repeat(1000))
        .context(me);
    assert_eq!(h.send(huge.http_v2()).await.status, 413);
}

#[tokio::test]
async fn routes_are_found_behind_stages_base_paths_and_catch_all_routes() {
    let h = local();
    let me = device("sensor-1", "01");
    // HTTP API on a named stage: the raw path carries the stage.
    let named = ProxyEvent::new("GET", "/whoami")
        .stage("prod")
        .context(me.clone());
    assert_eq!(h.send(named.http_v2()).await.status, 200);
    // HTTP API `$default` route: only the raw path says where it goes.
    let mut catch_all = named.http_v2();
    catch_all["routeKey"] = json!("$default");
    catch_all["requestContext"]["routeKey"] = json!("$default");
    assert_eq!(h.send(catch_all).await.status, 200);
    // REST through a custom domain base path: `path` has the base path,
    // `resource` does not.
    let mut based = ProxyEvent::new("GET", "/whoami").context(me.clone()).rest();
    based["path"] = json!("/v1/whoami");
    assert_eq!(h.send(based).await.status, 200);
    // REST greedy proxy resource.
    let mut proxied = ProxyEvent::new("GET", "/whoami").context(me.clone()).rest();
    proxied["resource"] = json!("/{proxy+}");
    proxied["pathParameters"] = json!({"proxy": "whoami"});
    assert_eq!(h.send(proxied).await.status, 200);
    // One trailing slash is the same route.
    let slash = ProxyEvent::new("GET", "/whoami/").context(me);
    assert_eq!(h.send(slash.http_v2()).await.status, 200);
}

#[tokio::test]
async fn an_event_that_is_not_a_proxy_event_gets_a_json_500_not_a_lambda_error() {
    let h = local();
    for event in [json!({}), json!({"version": "2.0"}), json!("text")] {
        let r = h.send(event).await;
        assert_eq!(
            (r.status, &r.body["error"]),
            (500, &json!("internal_error"))
        );
    }
}

#[tokio::test]
async fn a_reading_at_the_clock_skew_limit_is_accepted() {
    let h = local();
    let me = device("sensor-1", "01");
    let limit = (NOW + time::Duration::minutes(5))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let r = h.send(post(&me, &reading("20", &limit)).rest()).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
}
