//! The authorization decision: pure, given a certificate, the policy, the
//! truststore, a CRL and the time.

use std::fmt;

use serde::Serialize;

use crate::cert::{ClientAuthUsage, ClientCert, pem_to_der};
use crate::config::{AttributeMatch, Config, EkuPolicy, IssuerRule, Revocation, SubjectRule};
use crate::crl::VerifiedCrl;
use crate::error::Error;
use crate::name::attribute_values;
use crate::time::UnixTime;
use crate::truststore::{IssuerSignature, TrustStore};

/// Why a request was denied. The `snake_case` form is the `reason` context value
/// and log field; it is part of the public interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DenyReason {
    /// No `clientCertPem` in the event.
    MissingCertificate,
    /// The certificate could not be parsed.
    MalformedCertificate,
    /// No issuer entry matches, or the issuer's CA did not sign the certificate.
    IssuerNotAllowed,
    /// The subject, SANs or EKU do not satisfy the issuer entry.
    SubjectNotAllowed,
    /// Past `notAfter` (beyond the clock skew).
    Expired,
    /// Before `notBefore` (beyond the clock skew).
    NotYetValid,
    /// The serial is on the issuer's CRL.
    Revoked,
    /// No verified, fresh CRL for the issuer is available.
    CrlUnavailable,
    /// The authorizer could not evaluate the request.
    InternalError,
}

impl DenyReason {
    /// The reason code string.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MissingCertificate => "missing_certificate",
            Self::MalformedCertificate => "malformed_certificate",
            Self::IssuerNotAllowed => "issuer_not_allowed",
            Self::SubjectNotAllowed => "subject_not_allowed",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::Revoked => "revoked",
            Self::CrlUnavailable => "crl_unavailable",
            Self::InternalError => "internal_error",
        }
    }
}

impl fmt::Display for DenyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who the client is, as far as we could tell.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    /// Subject DN text.
    pub subject_dn: String,
    /// Issuer DN text.
    pub issuer_dn: String,
    /// Lowercase even-length hex of the normalized serial.
    pub serial_number: String,
    /// Lowercase hex SHA-256 of the certificate DER.
    pub fingerprint_sha256: String,
    /// The matched issuer entry's name, once matched.
    pub issuer: Option<String>,
}

impl Identity {
    fn of(cert: &ClientCert<'_>) -> Self {
        Self {
            subject_dn: cert.subject_dn(),
            issuer_dn: cert.issuer_dn(),
            serial_number: cert.serial().to_hex(),
            fingerprint_sha256: cert.fingerprint_hex(),
            issuer: None,
        }
    }
}

/// The outcome for one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Let the request through.
    Allow(Identity),
    /// Refuse it.
    Deny {
        /// The reason code.
        reason: DenyReason,
        /// What we know about the client (empty if the certificate was unreadable).
        identity: Identity,
        /// A human-readable explanation for the logs (never sent to the client).
        detail: String,
    },
}

impl Decision {
    /// A Deny.
    pub fn deny(reason: DenyReason, identity: &Identity, detail: impl Into<String>) -> Self {
        Self::Deny {
            reason,
            identity: identity.clone(),
            detail: detail.into(),
        }
    }

    /// The identity, on Allow and Deny alike.
    #[must_use]
    pub fn identity(&self) -> &Identity {
        match self {
            Self::Allow(id) | Self::Deny { identity: id, .. } => id,
        }
    }

    /// The deny reason, or `None` on Allow.
    #[must_use]
    pub fn reason(&self) -> Option<DenyReason> {
        match self {
            Self::Allow(_) => None,
            Self::Deny { reason, .. } => Some(*reason),
        }
    }

    /// Whether this is an Allow.
    #[must_use]
    pub fn is_allow(&self) -> bool {
        matches!(self, Self::Allow(_))
    }
}

/// What the caller has for the matched issuer's CRL.
#[derive(Clone, Copy, Debug)]
pub enum CrlView<'a> {
    /// A verified CRL (it may since have gone stale: freshness is rechecked).
    Loaded(&'a VerifiedCrl),
    /// None could be obtained; the detail says why.
    Missing(&'a str),
}

/// A certificate that passed every check except revocation, and the entry it matched.
#[derive(Debug)]
pub struct Matched<'c, 'p> {
    cert: ClientCert<'c>,
    rule_index: usize,
    rule: &'p IssuerRule,
    identity: Identity,
}

impl Matched<'_, '_> {
    /// The index of the matched entry in [`Config::issuers`].
    #[must_use]
    pub fn rule_index(&self) -> usize {
        self.rule_index
    }

    /// Whether the matched entry needs a CRL.
    #[must_use]
    pub fn needs_crl(&self) -> bool {
        matches!(self.rule.revocation, Revocation::Crl(_))
    }
}

fn attributes_match(m: &AttributeMatch, name: &x509_parser::x509::X509Name<'_>) -> bool {
    m.entries().iter().all(|(key, allowed)| {
        attribute_values(name, key)
            .iter()
            .any(|v| allowed.contains(v))
    })
}

/// Whether an issuer entry's `match` accepts a CA name (used to vet CRL issuers too).
#[must_use]
pub fn issuer_name_matches(rule: &IssuerRule, name: &x509_parser::x509::X509Name<'_>) -> bool {
    attributes_match(&rule.issuer, name)
}

/// A CRL for an issuer entry must come from a CA that the entry's `match` accepts.
#[derive(Clone, Copy, Debug)]
pub struct RuleIssuer<'a>(pub &'a IssuerRule);

impl crate::crl::IssuerExpectation for RuleIssuer<'_> {
    fn accepts(&self, issuer: &x509_parser::x509::X509Name<'_>) -> bool {
        issuer_name_matches(self.0, issuer)
    }
    fn describe(&self) -> String {
        format!("a CA matching issuer entry `{}`", self.0.name)
    }
}

fn check_subject(rule: &SubjectRule, cert: &ClientCert<'_>) -> Result<(), String> {
    // RFC 5280 §4.2.1.9: a CA certificate is not an end-entity certificate.
    if cert.x509().is_ca() {
        return Err("a CA certificate cannot be used as a client certificate".into());
    }
    if !attributes_match(&rule.attributes, cert.x509().subject()) {
        return Err("subject attributes do not match the issuer entry".into());
    }
    if rule.san_dns.is_some() || rule.san_uri.is_some() {
        let (dns, uris) = cert.san_dns_and_uris().map_err(|e| e.to_string())?;
        if let Some(patterns) = &rule.san_dns
            && !dns.iter().any(|d| patterns.iter().any(|p| p.matches(d)))
        {
            return Err("no DNS subjectAltName matches san_dns".into());
        }
        if let Some(patterns) = &rule.san_uri
            && !uris.iter().any(|u| patterns.iter().any(|p| p.matches(u)))
        {
            return Err("no URI subjectAltName matches san_uri".into());
        }
    }
    let usage = cert.client_auth_usage().map_err(|e| e.to_string())?;
    let eku_ok = match rule.eku {
        EkuPolicy::Ignore => true,
        EkuPolicy::ClientAuthIfPresent => usage != ClientAuthUsage::NotListed,
        EkuPolicy::ClientAuthRequired => usage == ClientAuthUsage::Listed,
    };
    if !eku_ok {
        return Err("extendedKeyUsage does not allow clientAuth".into());
    }
    Ok(())
}

/// Decodes the event's `clientCertPem`, or says why we cannot.
#[expect(
    clippy::result_large_err,
    reason = "the Err is a Deny decision, the common outcome; boxing it would only add an allocation"
)]
pub fn certificate_der(client_cert_pem: Option<&str>) -> Result<Vec<u8>, Decision> {
    let none = Identity::default();
    let Some(pem) = client_cert_pem else {
        return Err(Decision::deny(
            DenyReason::MissingCertificate,
            &none,
            "no clientCertPem",
        ));
    };
    pem_to_der(pem).map_err(|e| match e {
        Error::MissingCertificate => {
            Decision::deny(DenyReason::MissingCertificate, &none, "empty clientCertPem")
        }
        e => Decision::deny(DenyReason::MalformedCertificate, &none, e.to_string()),
    })
}

/// Decides, from configuration and truststore, everything but revocation.
#[derive(Debug)]
pub struct Engine<'p> {
    config: &'p Config,
    truststore: &'p TrustStore,
}

impl<'p> Engine<'p> {
    /// An engine over a configuration and a truststore.
    #[must_use]
    pub fn new(config: &'p Config, truststore: &'p TrustStore) -> Self {
        Self { config, truststore }
    }

    /// Parses and checks a certificate: issuer, issuer signature, validity,
    /// subject. Returns the match for the revocation step, or a Deny.
    #[expect(
        clippy::result_large_err,
        reason = "the Err is a Deny decision, the common outcome; boxing it would only add an allocation"
    )]
    pub fn check_certificate<'c>(
        &self,
        der: &'c [u8],
        now: UnixTime,
    ) -> Result<Matched<'c, 'p>, Decision> {
        let none = Identity::default();
        let cert = ClientCert::from_der(der)
            .map_err(|e| Decision::deny(DenyReason::MalformedCertificate, &none, e.to_string()))?;
        let mut identity = Identity::of(&cert);

        let Some((rule_index, rule)) = self
            .config
            .issuers
            .iter()
            .enumerate()
            .find(|(_, r)| issuer_name_matches(r, cert.x509().issuer()))
        else {
            return Err(Decision::deny(
                DenyReason::IssuerNotAllowed,
                &identity,
                "no issuer entry matches the certificate's issuer",
            ));
        };
        identity.issuer = Some(rule.name.clone());

        // The issuer DN is only a claim. If the truststore has the CA, the
        // certificate must really be signed by it (RFC 5280 §6.1.3 (a)(1)).
        if self.truststore.issuer_signature(&cert) == IssuerSignature::Invalid {
            return Err(Decision::deny(
                DenyReason::IssuerNotAllowed,
                &identity,
                "the certificate is not signed by the truststore CA of that name",
            ));
        }

        let skew = self.config.clock_skew_seconds;
        if now > cert.not_after().offset(skew) {
            return Err(Decision::deny(
                DenyReason::Expired,
                &identity,
                format!("notAfter {} is past", cert.not_after()),
            ));
        }
        if now < cert.not_before().offset(-skew) {
            return Err(Decision::deny(
                DenyReason::NotYetValid,
                &identity,
                format!("notBefore {} is in the future", cert.not_before()),
            ));
        }

        check_subject(&rule.subject, &cert)
            .map_err(|d| Decision::deny(DenyReason::SubjectNotAllowed, &identity, d))?;

        Ok(Matched {
            cert,
            rule_index,
            rule,
            identity,
        })
    }

    /// The revocation step (RFC 5280 §6.3.3): the CRL must come from the
    /// certificate's exact issuer and still be fresh at `now`.
    #[must_use]
    pub fn check_revocation(
        &self,
        matched: Matched<'_, '_>,
        crl: CrlView<'_>,
        now: UnixTime,
    ) -> Decision {
        let Matched {
            cert,
            rule,
            identity,
            ..
        } = matched;
        if rule.revocation == Revocation::NotChecked {
            return Decision::Allow(identity);
        }
        let crl = match crl {
            CrlView::Missing(why) => {
                return Decision::deny(DenyReason::CrlUnavailable, &identity, why);
            }
            CrlView::Loaded(crl) => crl,
        };
        if !crl.covers_issuer(cert.issuer_der()) {
            let e = Error::CrlIssuerMismatch {
                expected: identity.issuer_dn.clone(),
                crl_issuer: crl.issuer_dn().to_owned(),
            };
            return Decision::deny(DenyReason::CrlUnavailable, &identity, e.to_string());
        }
        if let Err(e) = crl.check_usable(now, self.config.crl_grace_seconds) {
            return Decision::deny(DenyReason::CrlUnavailable, &identity, e.to_string());
        }
        if crl.is_revoked(cert.serial()) {
            return Decision::deny(
                DenyReason::Revoked,
                &identity,
                "serial is listed on the issuer's CRL",
            );
        }
        Decision::Allow(identity)
    }

    /// The whole decision for a PEM certificate, with a CRL lookup by entry
    /// index. Handy for tests and benchmarks; the Lambda handler runs the two
    /// steps itself so it can refresh the matched CRL in between.
    pub fn decide<'c>(
        &self,
        client_cert_pem: Option<&str>,
        now: UnixTime,
        crl_for: impl FnOnce(usize) -> Option<&'c VerifiedCrl>,
    ) -> Decision {
        let der = match certificate_der(client_cert_pem) {
            Ok(der) => der,
            Err(deny) => return deny,
        };
        match self.check_certificate(&der, now) {
            Err(deny) => deny,
            Ok(m) => {
                let crl = crl_for(m.rule_index());
                let view = crl.map_or(
                    CrlView::Missing("no CRL has been loaded for this issuer"),
                    CrlView::Loaded,
                );
                self.check_revocation(m, view, now)
            }
        }
    }
}
