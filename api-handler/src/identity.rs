//! The verified client identity, as the authorizer passed it on in the
//! request context, and the stable key that readings are stored under.

use std::collections::HashMap;

use mtls_policy::context::{AuthorizerContext, keys};
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
mod tests;
