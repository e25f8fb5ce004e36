//! The answers API Gateway gives: the proxy response mapped back to HTTP, and
//! its own answers for a Deny and a missing route.

use base64::Engine as _;
use serde_json::{Value, json};

use super::policy::strings;

/// An HTTP answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Answer {
    /// A JSON answer.
    #[must_use]
    pub fn json(status: u16, body: &Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }
}

/// Maps a Lambda proxy response to HTTP; a malformed one is a 502, as API
/// Gateway answers it.
#[must_use]
pub fn proxy_answer(response: &Value) -> Answer {
    let bad = || Answer::json(502, &json!({"message": "Internal server error"}));
    let Some(status) = response
        .get("statusCode")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .filter(|s| (100..=599).contains(s))
    else {
        return bad();
    };
    let mut headers = Vec::new();
    if let Some(h) = response.get("headers").and_then(Value::as_object) {
        for (k, v) in h {
            if let Some(v) = v.as_str() {
                headers.push((k.clone(), v.to_owned()));
            }
        }
    }
    if let Some(h) = response.get("multiValueHeaders").and_then(Value::as_object) {
        for (k, vs) in h {
            headers.retain(|(name, _)| !name.eq_ignore_ascii_case(k));
            for v in strings(Some(vs)) {
                headers.push((k.clone(), v));
            }
        }
    }
    let body = match response.get("body") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => {
            if response.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) {
                match base64::engine::general_purpose::STANDARD.decode(s) {
                    Ok(b) => b,
                    Err(_) => return bad(),
                }
            } else {
                s.clone().into_bytes()
            }
        }
        Some(_) => return bad(),
    };
    Answer {
        status,
        headers,
        body,
    }
}

/// The 403 for a Deny: what the deployed API's `ACCESS_DENIED` gateway
/// response returns, the authorizer's reason included.
#[must_use]
pub fn denied(reason: Option<&str>) -> Answer {
    Answer::json(
        403,
        &json!({"message": "Forbidden", "reason": reason.unwrap_or("unknown")}),
    )
}

/// API Gateway's answer for a path or method the API does not have.
#[must_use]
pub fn missing_route() -> Answer {
    Answer::json(403, &json!({"message": "Missing Authentication Token"}))
}
