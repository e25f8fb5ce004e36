//! The backend behind the authorizer. It trusts only what API Gateway put in
//! the request context after the authorizer allowed the request.

use serde_json::{Value, json};

/// The client identity the authorizer established.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientIdentity {
    /// Subject DN of the client certificate.
    pub subject_dn: String,
    /// Normalized serial number, lowercase hex.
    pub serial_number: String,
    /// SHA-256 fingerprint of the certificate.
    pub fingerprint_sha256: String,
    /// The authorizer policy entry that matched.
    pub issuer: String,
}

/// Reads the authorizer context from a Lambda proxy event: REST APIs put it at
/// `requestContext.authorizer`, HTTP APIs at `requestContext.authorizer.lambda`.
#[must_use]
pub fn identity_from_event(event: &Value) -> Option<ClientIdentity> {
    let authorizer = event.pointer("/requestContext/authorizer")?;
    let ctx = authorizer.get("lambda").unwrap_or(authorizer);
    let text = |k: &str| {
        ctx.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    Some(ClientIdentity {
        subject_dn: text("subjectDn")?,
        serial_number: text("serialNumber")?,
        fingerprint_sha256: text("fingerprintSha256")?,
        issuer: text("issuer")?,
    })
}

/// A proxy response: the caller's identity, or 401 if the context lacks one
/// (which means the API was reached without the authorizer).
#[must_use]
pub fn whoami(event: &Value) -> Value {
    match identity_from_event(event) {
        Some(id) => proxy(
            200,
            &json!({
                "subjectDn": id.subject_dn,
                "serialNumber": id.serial_number,
                "fingerprintSha256": id.fingerprint_sha256,
                "issuer": id.issuer,
            }),
        ),
        None => proxy(
            401,
            &json!({"message": "no client identity in the request context"}),
        ),
    }
}

fn proxy(status: u16, body: &Value) -> Value {
    json!({
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": body.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_is_read_from_rest_and_http_api_contexts_and_missing_context_is_401() {
        let ctx = json!({"subjectDn": "CN=t1", "serialNumber": "01", "fingerprintSha256": "ab", "issuer": "devices"});
        let rest = json!({"requestContext": {"authorizer": ctx}});
        let http = json!({"requestContext": {"authorizer": {"lambda": ctx}}});
        for event in [&rest, &http] {
            assert_eq!(
                identity_from_event(event).map(|i| i.serial_number),
                Some("01".into())
            );
            assert_eq!(whoami(event)["statusCode"], 200);
        }
        assert_eq!(whoami(&json!({"requestContext": {}}))["statusCode"], 401);
        let partial = json!({"requestContext": {"authorizer": {"subjectDn": "CN=t1"}}});
        assert_eq!(whoami(&partial)["statusCode"], 401);
    }
}
