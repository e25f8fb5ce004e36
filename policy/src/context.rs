//! The authorizer context: what the authorizer hands API Gateway with every
//! decision, and what comes out the other side. The authorizer writes it;
//! API Gateway passes it to the integration (`requestContext.authorizer`, or
//! `.authorizer.lambda` for HTTP APIs), maps it to an HTTP backend's
//! `x-client-cert-*` headers (`infra/identity-headers.json`) and to the
//! access log; the api-handler reads it; the local gateway reads the reason.
//! One type, so the writer and the readers cannot disagree on a key.
//!
//! Every value is a string: API Gateway refuses a context with nested or
//! array values.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The context keys, for readers that take one value from a context map.
pub mod keys {
    /// Subject DN of the client certificate.
    pub const SUBJECT_DN: &str = "subjectDn";
    /// Issuer DN of the client certificate.
    pub const ISSUER_DN: &str = "issuerDn";
    /// Serial number, lowercase hex.
    pub const SERIAL_NUMBER: &str = "serialNumber";
    /// SHA-256 fingerprint of the certificate, lowercase hex.
    pub const FINGERPRINT_SHA256: &str = "fingerprintSha256";
    /// The name of the issuer entry (policy) that matched.
    pub const ISSUER: &str = "issuer";
    /// SHA-256 over the issuer's and the subject's DER names, lowercase hex.
    pub const NAME_SHA256: &str = "nameSha256";
    /// The deny reason code.
    pub const REASON: &str = "reason";
}

/// The authorizer context of one decision.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizerContext {
    /// Subject DN of the client certificate; empty when it could not be read.
    #[serde(default)]
    pub subject_dn: String,
    /// Issuer DN of the client certificate.
    #[serde(default)]
    pub issuer_dn: String,
    /// Serial number, lowercase hex.
    #[serde(default)]
    pub serial_number: String,
    /// SHA-256 fingerprint of the certificate, lowercase hex.
    #[serde(default)]
    pub fingerprint_sha256: String,
    /// The issuer entry that matched; empty when none did.
    #[serde(default)]
    pub issuer: String,
    /// SHA-256 over the issuer's and the subject's DER names (each
    /// length-prefixed), lowercase hex: the DER-exact identity, which
    /// look-alike names (same text, other string types) never share.
    #[serde(default)]
    pub name_sha256: String,
    /// The deny reason code; absent on an Allow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl AuthorizerContext {
    /// The context as the JSON object API Gateway takes: string values only.
    #[must_use]
    pub fn to_map(&self) -> Map<String, Value> {
        let mut m = Map::new();
        let mut put = |k: &str, v: &str| {
            m.insert(k.to_owned(), Value::String(v.to_owned()));
        };
        put(keys::SUBJECT_DN, &self.subject_dn);
        put(keys::ISSUER_DN, &self.issuer_dn);
        put(keys::SERIAL_NUMBER, &self.serial_number);
        put(keys::FINGERPRINT_SHA256, &self.fingerprint_sha256);
        put(keys::ISSUER, &self.issuer);
        put(keys::NAME_SHA256, &self.name_sha256);
        if let Some(reason) = &self.reason {
            put(keys::REASON, reason);
        }
        m
    }

    /// Reads a context as an integration receives it. Keys other than ours
    /// are ignored; a value of ours that is not a string makes it unreadable.
    #[must_use]
    pub fn from_map<'a>(map: impl IntoIterator<Item = (&'a String, &'a Value)>) -> Option<Self> {
        let ours = [
            keys::SUBJECT_DN,
            keys::ISSUER_DN,
            keys::SERIAL_NUMBER,
            keys::FINGERPRINT_SHA256,
            keys::ISSUER,
            keys::NAME_SHA256,
            keys::REASON,
        ];
        let object: Map<String, Value> = map
            .into_iter()
            .filter(|(k, _)| ours.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        serde_json::from_value(Value::Object(object)).ok()
    }

    /// The identity of an Allow: every identity field set. A context
    /// lacking one did not come from this authorizer's Allow.
    #[must_use]
    pub fn is_complete_identity(&self) -> bool {
        [
            &self.subject_dn,
            &self.issuer_dn,
            &self.serial_number,
            &self.fingerprint_sha256,
            &self.issuer,
            &self.name_sha256,
        ]
        .iter()
        .all(|v| !v.is_empty())
    }
}

#[cfg(test)]
mod tests;
