use super::*;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-11-24 12:00:00 UTC);

fn check(body: &str) -> Result<Reading, Rejection> {
    BodyValidator::new()
        .unwrap()
        .reading(Some("application/json"), body.as_bytes(), NOW)
}

fn refused(body: &str) -> Rejection {
    check(body).expect_err(body)
}

#[test]
fn the_schema_file_is_a_valid_draft_4_schema_as_api_gateway_models_require() {
    let doc: Value = serde_json::from_str(SCHEMA).unwrap();
    assert_eq!(doc["$schema"], "http://json-schema.org/draft-04/schema#");
    jsonschema::draft4::meta::validate(&doc).unwrap();
    assert_eq!(doc["additionalProperties"], false);
}

#[test]
fn a_valid_reading_is_accepted_with_its_time_in_utc() {
    let r = check(r#"{"temperature": 21.5, "time": "2026-11-24T11:59:00Z"}"#).unwrap();
    assert_eq!(r.temperature, 21.5);
    assert_eq!(r.time.instant(), datetime!(2026-11-24 11:59:00 UTC));
    assert_eq!(r.time.to_string(), "2026-11-24T11:59:00Z");
    assert_eq!(r.time.sort_key(), "2026-11-24T11:59:00.000000000Z");
}

#[test]
fn two_spellings_of_one_instant_are_one_reading_time() {
    let a = check(r#"{"temperature": 1, "time": "2026-11-24T11:59:00Z"}"#).unwrap();
    let b = check(r#"{"temperature": 1, "time": "2026-11-24T11:59:00.000Z"}"#).unwrap();
    assert_eq!(a.time.sort_key(), b.time.sort_key());
    let back = ReadingTime::from_sort_key(&a.time.sort_key()).unwrap();
    assert_eq!(back, a.time);
}

#[test]
fn sort_keys_order_as_time_does() {
    let times = [
        "2026-11-24T11:59:00Z",
        "2026-11-24T11:59:00.5Z",
        "2026-11-24T11:59:00.123456789Z",
        "2025-01-01T00:00:00Z",
    ];
    let mut readings: Vec<ReadingTime> = times
        .iter()
        .map(|t| {
            check(&format!(r#"{{"temperature": 1, "time": "{t}"}}"#))
                .unwrap()
                .time
        })
        .collect();
    readings.sort();
    let keys: Vec<String> = readings.iter().map(ReadingTime::sort_key).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

#[test]
fn each_missing_required_field_is_named() {
    for (body, field) in [
        (r#"{"time": "2026-11-24T11:59:00Z"}"#, "temperature"),
        (r#"{"temperature": 20}"#, "time"),
    ] {
        let r = refused(body);
        assert_eq!((r.status, r.code), (400, "invalid_body"));
        assert_eq!(r.field.as_deref(), Some(field), "{body}");
    }
    let r = refused("{}");
    assert_eq!(r.problems.len(), 2);
}

#[test]
fn each_wrong_type_is_named() {
    for (body, field) in [
        (
            r#"{"temperature": "20", "time": "2026-11-24T11:59:00Z"}"#,
            "temperature",
        ),
        (
            r#"{"temperature": null, "time": "2026-11-24T11:59:00Z"}"#,
            "temperature",
        ),
        (
            r#"{"temperature": true, "time": "2026-11-24T11:59:00Z"}"#,
            "temperature",
        ),
        (
            r#"{"temperature": [20], "time": "2026-11-24T11:59:00Z"}"#,
            "temperature",
        ),
        (r#"{"temperature": 20, "time": 1764000000}"#, "time"),
        (r#"{"temperature": 20, "time": {"t": 1}}"#, "time"),
    ] {
        let r = refused(body);
        assert_eq!((r.status, r.field.as_deref()), (400, Some(field)), "{body}");
    }
    for body in ["[]", "20", r#""text""#, "null"] {
        let r = refused(body);
        assert_eq!(
            (r.status, r.code, r.field),
            (400, "invalid_body", None),
            "{body}"
        );
        assert_eq!(r.message, "the body must be a JSON object");
    }
}

#[test]
fn an_extra_property_is_refused_and_named() {
    let r = refused(r#"{"temperature": 20, "time": "2026-11-24T11:59:00Z", "humidity": 40}"#);
    assert_eq!((r.status, r.field.as_deref()), (400, Some("humidity")));
    assert!(r.message.contains("humidity"));
}

#[test]
fn out_of_range_temperatures_are_refused_and_the_bounds_are_accepted() {
    for t in ["-100.01", "150.5", "1e6", "-273.15"] {
        let r = refused(&format!(
            r#"{{"temperature": {t}, "time": "2026-11-24T11:59:00Z"}}"#
        ));
        assert_eq!(r.field.as_deref(), Some("temperature"), "{t}");
    }
    for t in ["-100", "150", "0", "-0.5", "36.6"] {
        check(&format!(
            r#"{{"temperature": {t}, "time": "2026-11-24T11:59:00Z"}}"#
        ))
        .unwrap();
    }
}

#[test]
fn malformed_json_is_refused_as_such() {
    for body in [
        r#"{"temperature": 20,"#,
        "",
        "{'temperature': 20}",
        r#"{"temperature": NaN}"#,
    ] {
        let r = refused(body);
        assert_eq!((r.status, r.code), (400, "malformed_json"), "{body}");
    }
}

#[test]
fn an_oversized_body_is_refused_before_parsing() {
    let padding = " ".repeat(MAX_BODY_BYTES);
    let r = refused(&format!(
        r#"{{"temperature": 20,{padding}"time": "2026-11-24T11:59:00Z"}}"#
    ));
    assert_eq!((r.status, r.code), (413, "body_too_large"));
}

#[test]
fn non_utc_and_garbage_times_are_refused() {
    for time in [
        "2026-11-24T11:59:00+01:00",
        "2026-11-24T11:59:00-00:00",
        "2026-11-24 11:59:00Z",
        "2026-11-24T11:59:00",
        "2026-11-24",
        "yesterday",
        "",
        "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2026-11-24T25:00:00Z",
        "2026-11-24T11:59:00.1234567891Z",
        "2026-11-24t11:59:00z",
        // The shape of a time, but no calendar's (Schemathesis generated the first
        // from the looser pattern the schema had, and the handler refused it).
        "0000-00-00T00:00:00Z",
        "2026-11-24T11:59:60Z",
        "2016-12-31T23:59:60Z",
    ] {
        let r = refused(&format!(r#"{{"temperature": 20, "time": "{time}"}}"#));
        assert_eq!(
            (r.status, r.field.as_deref()),
            (400, Some("time")),
            "{time:?}"
        );
    }
}

#[test]
fn a_time_beyond_the_clock_skew_allowance_is_refused() {
    let ok = check(r#"{"temperature": 20, "time": "2026-11-24T12:05:00Z"}"#);
    assert!(ok.is_ok(), "5 minutes of skew is allowed");
    let r = refused(r#"{"temperature": 20, "time": "2026-11-24T12:05:00.001Z"}"#);
    assert_eq!(r.field.as_deref(), Some("time"));
    assert!(r.message.contains("future"));
}

#[test]
fn only_json_content_types_are_accepted() {
    let v = BodyValidator::new().unwrap();
    let body = br#"{"temperature": 20, "time": "2026-11-24T11:59:00Z"}"#;
    for ct in [
        None,
        Some("application/json"),
        Some("Application/JSON; charset=utf-8"),
    ] {
        assert!(v.reading(ct, body, NOW).is_ok(), "{ct:?}");
    }
    for ct in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/jsonx",
        "",
    ] {
        let r = v.reading(Some(ct), body, NOW).unwrap_err();
        assert_eq!(
            (r.status, r.code),
            (415, "unsupported_media_type"),
            "{ct:?}"
        );
    }
}

#[test]
fn the_rejection_body_names_the_field_and_lists_every_problem() {
    let r = refused(r#"{"temperature": "hot", "colour": "red"}"#);
    let body = r.to_json();
    assert_eq!(body["error"], "invalid_body");
    assert!(body["field"].is_string());
    let fields: Vec<&str> = body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["field"].as_str())
        .collect();
    for f in ["temperature", "colour", "time"] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }
}
