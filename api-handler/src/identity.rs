//! The verified client identity, as the authorizer passed it on in the
//! request context, and the stable key that readings are stored under.

use std::collections::HashMap;

use mtls_x509::context::{AuthorizerContext, keys};
use serde_json::{Value, json};

/// The client identity the authorizer established. Every field is required:
/// a context lacking one did not come from our authorizer's Allow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// Subject DN of the client certificate.
    pub subject_dn: String,
    /// Issuer DN of the client certificate.
    pub issuer_dn: String,
    /// Serial number, normalized lowercase hex.
    pub serial_number: String,
    /// SHA-256 fingerprint of the certificate, lowercase hex.
    pub fingerprint_sha256: String,
    /// The authorizer policy entry (issuer) that matched.
    pub issuer: String,
}

impl Identity {
    /// Reads the authorizer context. REST APIs deliver it at
    /// `requestContext.authorizer.<key>`, HTTP APIs at
    /// `requestContext.authorizer.lambda.<key>`; both arrive here as one map.
    #[must_use]
    pub fn from_context(ctx: &HashMap<String, Value>) -> Option<Self> {
        let c = AuthorizerContext::from_map(ctx).filter(AuthorizerContext::is_complete_identity)?;
        Some(Self {
            subject_dn: c.subject_dn,
            issuer_dn: c.issuer_dn,
            serial_number: c.serial_number,
            fingerprint_sha256: c.fingerprint_sha256,
            issuer: c.issuer,
        })
    }

    /// The key readings are stored under: the issuer DN and subject DN
    /// together, hashed. RFC 5280 §4.1.2.6 makes a subject name unique per
    /// entity *for one CA*, so this pair names a device across certificate
    /// renewals (new serial, new key, new fingerprint), while two CAs that
    /// happen to use the same subject name stay apart. Hashing gives a fixed
    /// size key, well inside DynamoDB's 2 KB partition-key limit, whatever
    /// the DNs hold.
    #[must_use]
    pub fn key(&self) -> IdentityKey {
        // Length-prefixed, so no choice of DN text can make two pairs collide.
        let digest = mtls_x509::signed::sha256_of_parts(&[
            self.issuer_dn.as_bytes(),
            self.subject_dn.as_bytes(),
        ]);
        IdentityKey(format!("dn-sha256:{}", hex::encode(digest)))
    }

    /// The identity as `GET /whoami` shows it.
    #[must_use]
    pub fn to_json(&self) -> Value {
        json!({
            keys::SUBJECT_DN: self.subject_dn,
            keys::ISSUER_DN: self.issuer_dn,
            keys::SERIAL_NUMBER: self.serial_number,
            keys::FINGERPRINT_SHA256: self.fingerprint_sha256,
            keys::ISSUER: self.issuer,
            "identityKey": self.key().as_str(),
        })
    }
}

/// The storage key of an identity (see [`Identity::key`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IdentityKey(String);

impl IdentityKey {
    /// The key as stored.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(pairs: &[(&str, &str)]) -> HashMap<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
            .collect()
    }

    fn device(serial: &str, fingerprint: &str) -> HashMap<String, Value> {
        ctx(&[
            ("subjectDn", "CN=sensor-1,O=Example"),
            ("issuerDn", "CN=Devices CA,O=Example"),
            ("serialNumber", serial),
            ("fingerprintSha256", fingerprint),
            ("issuer", "devices"),
        ])
    }

    #[test]
    fn a_renewed_certificate_keeps_the_identity_key() {
        let old = Identity::from_context(&device("01", "aa")).unwrap();
        let renewed = Identity::from_context(&device("02", "bb")).unwrap();
        assert_eq!(old.key(), renewed.key());
        assert!(old.key().as_str().starts_with("dn-sha256:"));
    }

    #[test]
    fn identity_key_is_stable_across_releases() {
        // Stored readings are keyed by it: a change would orphan them. The
        // expected value is SHA-256 over (u64 BE length, issuer DN, u64 BE
        // length, subject DN), computed independently with Python hashlib.
        let id = Identity::from_context(&device("01", "aa")).unwrap();
        assert_eq!(
            id.key().as_str(),
            "dn-sha256:123f8c12dd92cfcfbf0f786773ced5a49c1c347d192827d2e8c4092f6b5bfd92"
        );
    }

    #[test]
    fn the_same_subject_under_another_ca_is_another_identity() {
        let a = Identity::from_context(&device("01", "aa")).unwrap();
        let mut b = a.clone();
        b.issuer_dn = "CN=Other CA,O=Example".into();
        assert_ne!(a.key(), b.key());
        // Moving text between the two DNs must not produce the same key.
        let mut c = a.clone();
        c.issuer_dn = format!("{}{}", a.issuer_dn, "X");
        c.subject_dn = a.subject_dn.trim_start_matches('C').to_owned();
        assert_ne!(a.key(), c.key());
    }

    #[test]
    fn a_context_missing_any_identity_key_or_with_an_empty_one_is_no_identity() {
        for missing in [
            "subjectDn",
            "issuerDn",
            "serialNumber",
            "fingerprintSha256",
            "issuer",
        ] {
            let mut c = device("01", "aa");
            c.remove(missing);
            assert_eq!(Identity::from_context(&c), None, "{missing} removed");
            let mut c = device("01", "aa");
            c.insert(missing.into(), Value::String(String::new()));
            assert_eq!(Identity::from_context(&c), None, "{missing} empty");
            let mut c = device("01", "aa");
            c.insert(missing.into(), json!(1));
            assert_eq!(Identity::from_context(&c), None, "{missing} not text");
        }
    }
}
