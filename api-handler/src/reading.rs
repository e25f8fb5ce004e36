//! `POST /temps` bodies: checked against the JSON Schema in
//! `schema/temperature.json` (the same file API Gateway's request validator
//! uses), then against the rules a schema cannot state. Pure: no I/O, and the
//! time is a parameter.

use std::fmt;

use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

use crate::error::{Error, Result};

/// The schema, embedded at build time from the file the infrastructure also
/// installs as the API Gateway model.
pub const SCHEMA: &str = include_str!("../schema/temperature.json");

/// The largest body accepted. A reading is under 100 bytes; API Gateway
/// itself would pass up to 10 MB.
pub const MAX_BODY_BYTES: usize = 1024;

/// How far ahead of the server's clock a reading's time may be: device clock
/// skew, not readings from the future.
pub const MAX_CLOCK_SKEW: Duration = Duration::minutes(5);

/// A validated reading.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Reading {
    /// Degrees Celsius.
    pub temperature: f64,
    /// When it was taken.
    pub time: ReadingTime,
}

impl Reading {
    /// The reading as the API shows it.
    #[must_use]
    pub fn to_json(&self) -> Value {
        json!({"temperature": self.temperature, "time": self.time.to_string()})
    }
}

/// A reading's time, in UTC. Two spellings of one instant
/// (`…:00Z`, `…:00.000Z`) are the same reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReadingTime(OffsetDateTime);

impl ReadingTime {
    /// The storage sort key: RFC 3339 with exactly nine fraction digits, so
    /// that text order is time order and each instant has one spelling.
    #[must_use]
    pub fn sort_key(&self) -> String {
        let t = self.0;
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.nanosecond()
        )
    }

    /// Reads a time written by [`ReadingTime::sort_key`] (or any RFC 3339
    /// UTC time).
    pub fn from_sort_key(text: &str) -> Result<Self> {
        OffsetDateTime::parse(text, &Rfc3339)
            .ok()
            .filter(|t| t.offset() == UtcOffset::UTC)
            .map(Self)
            .ok_or_else(|| Error::Corrupt(format!("reading time {text:?} is not RFC 3339 UTC")))
    }

    /// Any instant, taken in UTC.
    #[must_use]
    pub fn from_instant(t: OffsetDateTime) -> Self {
        Self(t.to_offset(UtcOffset::UTC))
    }

    /// The instant.
    #[must_use]
    pub fn instant(&self) -> OffsetDateTime {
        self.0
    }
}

impl fmt::Display for ReadingTime {
    /// RFC 3339, with as many fraction digits as needed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.format(&Rfc3339) {
            Ok(s) => f.write_str(&s),
            Err(_) => f.write_str(&self.sort_key()),
        }
    }
}

/// Why a body was refused: the HTTP status, a stable code, and the offending
/// field where there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// HTTP status.
    pub status: u16,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// The field at fault (the first, when several are).
    pub field: Option<String>,
    /// A human-readable explanation.
    pub message: String,
    /// Every problem found, field by field.
    pub problems: Vec<Problem>,
}

/// One schema violation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The field, or `None` for the body as a whole.
    pub field: Option<String>,
    /// What is wrong with it.
    pub message: String,
}

impl Rejection {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            field: None,
            message: message.into(),
            problems: Vec::new(),
        }
    }

    fn invalid(problems: Vec<Problem>) -> Self {
        let first = problems.first();
        Self {
            status: 400,
            code: "invalid_body",
            field: first.and_then(|p| p.field.clone()),
            message: first.map_or_else(|| "invalid body".to_owned(), |p| p.message.clone()),
            problems,
        }
    }

    /// The JSON error body.
    #[must_use]
    pub fn to_json(&self) -> Value {
        let mut body = serde_json::Map::new();
        body.insert("error".into(), json!(self.code));
        body.insert("message".into(), json!(self.message));
        if let Some(field) = &self.field {
            body.insert("field".into(), json!(field));
        }
        if !self.problems.is_empty() {
            let problems = self.problems.iter();
            body.insert(
                "problems".into(),
                problems
                    .map(|p| json!({"field": p.field, "message": p.message}))
                    .collect(),
            );
        }
        Value::Object(body)
    }
}

/// Validates `POST /temps` bodies. Build once at cold start.
#[derive(Debug)]
pub struct BodyValidator {
    schema: jsonschema::Validator,
}

impl BodyValidator {
    /// Compiles the embedded schema as draft 4, the draft API Gateway uses.
    pub fn new() -> Result<Self> {
        let doc: Value =
            serde_json::from_str(SCHEMA).map_err(|e| Error::Schema(format!("not JSON: {e}")))?;
        let schema = jsonschema::draft4::new(&doc).map_err(|e| Error::Schema(e.to_string()))?;
        Ok(Self { schema })
    }

    /// Checks a body and returns the reading it holds.
    ///
    /// `content_type` is the request's header, if any. API Gateway validates
    /// a body only when a model exists for its content type and passes others
    /// through, so a non-JSON type is refused here rather than trusted.
    pub fn reading(
        &self,
        content_type: Option<&str>,
        body: &[u8],
        now: OffsetDateTime,
    ) -> Result<Reading, Rejection> {
        if let Some(ct) = content_type
            && !is_json(ct)
        {
            return Err(Rejection::new(
                415,
                "unsupported_media_type",
                format!("content-type must be application/json, not {ct:?}"),
            ));
        }
        if body.len() > MAX_BODY_BYTES {
            return Err(Rejection::new(
                413,
                "body_too_large",
                format!("the body must be at most {MAX_BODY_BYTES} bytes"),
            ));
        }
        let value: Value = serde_json::from_slice(body).map_err(|e| {
            Rejection::new(400, "malformed_json", format!("the body is not JSON: {e}"))
        })?;
        let problems: Vec<Problem> = self.schema.iter_errors(&value).map(problem).collect();
        if !problems.is_empty() {
            return Err(Rejection::invalid(problems));
        }
        let field_problem = |message: String| {
            Rejection::invalid(vec![Problem {
                field: Some("time".to_owned()),
                message,
            }])
        };
        let (Some(temperature), Some(text)) = (
            value.get("temperature").and_then(Value::as_f64),
            value.get("time").and_then(Value::as_str),
        ) else {
            // The schema requires both, with these types.
            return Err(Rejection::new(400, "invalid_body", "invalid reading"));
        };
        // The schema's pattern fixes the shape; this refuses what the shape
        // allows but the calendar does not (month 13, February 30).
        let time = OffsetDateTime::parse(text, &Rfc3339)
            .map_err(|e| field_problem(format!("{text:?} is not a valid RFC 3339 time: {e}")))?;
        if time > now + MAX_CLOCK_SKEW {
            return Err(field_problem(format!(
                "{text:?} is more than {} minutes in the future",
                MAX_CLOCK_SKEW.whole_minutes()
            )));
        }
        Ok(Reading {
            temperature,
            time: ReadingTime(time),
        })
    }
}

/// `application/json`, with or without parameters such as a charset.
fn is_json(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

/// Names the field a schema error is about: the missing or unexpected
/// property itself, else the deepest path segment.
fn problem(e: jsonschema::ValidationError<'_>) -> Problem {
    use jsonschema::error::ValidationErrorKind as Kind;
    let field = match e.kind() {
        Kind::Required { property } => property.as_str().map(str::to_owned),
        Kind::AdditionalProperties { unexpected } => unexpected.first().cloned(),
        _ => e.instance_path().iter().last().map(|s| s.to_string()),
    };
    let message = match (e.kind(), &field) {
        (Kind::Type { .. }, None) => "the body must be a JSON object".to_owned(),
        (Kind::Required { .. }, Some(f)) => format!("{f} is required"),
        (Kind::AdditionalProperties { unexpected }, _) => {
            format!("unexpected properties: {}", unexpected.join(", "))
        }
        // The schema's only pattern and length limit are on `time`; the
        // regex itself means little to a client.
        (Kind::Pattern { .. } | Kind::MaxLength { .. }, Some(f)) => {
            format!("{f} must be an RFC 3339 time in UTC, such as 2026-11-24T12:00:00Z")
        }
        _ => e.to_string(),
    };
    Problem { field, message }
}

#[cfg(test)]
mod tests {
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
}
