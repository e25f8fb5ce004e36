//! The verified client identity, as the authorizer passed it on in the
//! request context, and the stable key that readings are stored under.

use std::collections::HashMap;

use mtls_x509::context::{AuthorizerContext, keys};
use serde_json::{Value, json};

use crate::store::Writer;

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
    /// SHA-256 over the issuer's and the subject's DER names, lowercase hex.
    pub name_sha256: String,
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
            name_sha256: c.name_sha256,
        })
    }

    /// The key readings are stored under: the issuer's and the subject's
    /// names as the exact DER the certificate carries, hashed by the
    /// authorizer (`nameSha256`). RFC 5280 §4.1.2.6 makes a subject name
    /// unique per entity *for one CA*, so this pair names a device across
    /// certificate renewals (new serial, new key, new fingerprint), while two
    /// CAs that use the same subject name stay apart. It is the DER, not the
    /// RFC 4514 text, because the text drops string types: a BMPString
    /// `CN=good` and a UTF8String `CN=good` print alike and are two names.
    #[must_use]
    pub fn key(&self) -> IdentityKey {
        IdentityKey(format!("name-sha256:{}", self.name_sha256))
    }

    /// The key this identity's readings were stored under before keys were
    /// DER-exact: SHA-256 of the issuer DN and subject DN *text*, each
    /// length-prefixed (`dn-sha256:`). Every encoding of the same text shared
    /// it, look-alikes included, so it is read only with
    /// [`Identity::legacy_writer`]: the readings this very certificate wrote.
    #[must_use]
    pub fn legacy_key(&self) -> IdentityKey {
        let digest = mtls_x509::signed::sha256_of_parts(&[
            self.issuer_dn.as_bytes(),
            self.subject_dn.as_bytes(),
        ]);
        IdentityKey(format!("dn-sha256:{}", hex::encode(digest)))
    }

    /// Whose readings under [`Identity::legacy_key`] are this identity's:
    /// those written by this certificate, named by its serial. The legacy key
    /// fixes the issuer (its text; and a CA writes its serials once, RFC 5280
    /// §4.1.2.2), so a look-alike, a certificate of its own, has another
    /// serial and reads none of them.
    #[must_use]
    pub fn legacy_writer(&self) -> Writer<'_> {
        Writer::Certificate(&self.serial_number)
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
            keys::NAME_SHA256: self.name_sha256,
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

    const NAMES: &str = "5f1b4d2a5f1b4d2a5f1b4d2a5f1b4d2a5f1b4d2a5f1b4d2a5f1b4d2a5f1b4d2a";

    fn device(serial: &str, fingerprint: &str) -> HashMap<String, Value> {
        ctx(&[
            ("subjectDn", "CN=sensor-1,O=Example"),
            ("issuerDn", "CN=Devices CA,O=Example"),
            ("serialNumber", serial),
            ("fingerprintSha256", fingerprint),
            ("issuer", "devices"),
            ("nameSha256", NAMES),
        ])
    }

    #[test]
    fn a_renewed_certificate_keeps_the_identity_key() {
        let old = Identity::from_context(&device("01", "aa")).unwrap();
        let renewed = Identity::from_context(&device("02", "bb")).unwrap();
        assert_eq!(old.key(), renewed.key());
        assert_eq!(old.key().as_str(), format!("name-sha256:{NAMES}"));
    }

    #[test]
    fn legacy_identity_key_is_stable_across_releases() {
        // Readings stored before keys were DER-exact are keyed by it: a
        // change would orphan them. The expected value is SHA-256 over (u64
        // BE length, issuer DN, u64 BE length, subject DN), computed
        // independently with Python hashlib. The current key is the
        // authorizer's nameSha256 (pinned in mtls-x509's name tests).
        let id = Identity::from_context(&device("01", "aa")).unwrap();
        assert_eq!(
            id.legacy_key().as_str(),
            "dn-sha256:123f8c12dd92cfcfbf0f786773ced5a49c1c347d192827d2e8c4092f6b5bfd92"
        );
        assert_eq!(id.legacy_writer(), Writer::Certificate("01"));
    }

    #[test]
    fn the_same_subject_under_another_ca_is_another_identity() {
        let a = Identity::from_context(&device("01", "aa")).unwrap();
        let mut b = a.clone();
        b.issuer_dn = "CN=Other CA,O=Example".into();
        assert_ne!(a.legacy_key(), b.legacy_key());
        // Moving text between the two DNs must not produce the same key.
        let mut c = a.clone();
        c.issuer_dn = format!("{}{}", a.issuer_dn, "X");
        c.subject_dn = a.subject_dn.trim_start_matches('C').to_owned();
        assert_ne!(a.legacy_key(), c.legacy_key());
    }

    #[test]
    fn a_context_missing_any_identity_key_or_with_an_empty_one_is_no_identity() {
        for missing in [
            "subjectDn",
            "issuerDn",
            "serialNumber",
            "fingerprintSha256",
            "issuer",
            "nameSha256",
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
