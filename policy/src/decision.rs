//! The authorization decision: pure, given a certificate, the policy, the
//! truststore, a CRL and the time.

use std::fmt;

use serde::Serialize;

use crate::labels::labelled_enum;

use crate::config::{
    AttributeMatch, CaRevocationCoverage, Config, EkuPolicy, IssuerRule, Revocation, SubjectRule,
};
use crate::denylist::{DenyList, DenyListView};
use mtls_x509::cert::{CertificateRole, ClientAuthUsage, ClientCert, pem_to_der};
use mtls_x509::crl::{DeltaPolicy, Lookup, NotDecided, VerifiedCrl};
use mtls_x509::error::{Error, bounded};
use mtls_x509::name::Name;
use mtls_x509::signed::KeyId;
use mtls_x509::time::UnixTime;
use mtls_x509::truststore::{CaCert, CaFacts, IssuerSignature, TrustStore};

labelled_enum! {
    /// Why a request was denied. The label ([`DenyReason::as_str`]) is the
    /// `reason` context value, log field and metric dimension; it is part of
    /// the public interface. [`DenyReason::ALL`] is in the order
    /// docs/troubleshooting.md lists them.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum DenyReason {
        /// No `clientCertPem` in the event.
        MissingCertificate => "missing_certificate",
        /// The certificate could not be parsed.
        MalformedCertificate => "malformed_certificate",
        /// No issuer entry matches, or the issuer's CA did not sign the certificate.
        IssuerNotAllowed => "issuer_not_allowed",
        /// The subject, SANs or EKU do not satisfy the issuer entry.
        SubjectNotAllowed => "subject_not_allowed",
        /// Past `notAfter` (beyond the clock skew).
        Expired => "expired",
        /// Before `notBefore` (beyond the clock skew).
        NotYetValid => "not_yet_valid",
        /// The certificate, or a CA above it, is on the operator deny list.
        DenyListed => "deny_listed",
        /// A deny list is configured, and none is in force (never loaded, or
        /// the last good one is older than `deny_list_max_age_seconds`).
        DenyListUnavailable => "deny_list_unavailable",
        /// The serial is on the issuer's CRL.
        Revoked => "revoked",
        /// A CA above the certificate is on its parent CA's CRL (an ARL).
        CaRevoked => "ca_revoked",
        /// No verified, fresh CRL for the issuer (or, with `ca_revocation`, for a
        /// CA of the path) is available.
        CrlUnavailable => "crl_unavailable",
        /// The issuer entry checks OCSP, and no verified, fresh `good` answer
        /// came: the responder failed, timed out, answered `unknown`, or its
        /// answer did not verify.
        OcspUnavailable => "ocsp_unavailable",
        /// The certificate is good, and its issuer entry's `routes` do not
        /// include the method and path it calls.
        RouteNotAllowed => "route_not_allowed",
        /// The authorizer could not evaluate the request.
        InternalError => "internal_error",
    }
}

/// Serialized as its label, the one spelling of a reason code.
impl Serialize for DenyReason {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl fmt::Display for DenyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The OCSP step (RFC 6960 §2.2), after the CRLs allowed: a verified answer
/// still usable at `now` decides (`good` allows, `revoked` is `revoked`,
/// `unknown` is `ocsp_unavailable`); anything else (`failure`, a short
/// reason) is `ocsp_unavailable`. Never an Allow without a fresh `good`.
#[must_use]
pub fn ocsp_decision(
    identity: Identity,
    answer: Result<&mtls_x509::ocsp::VerifiedOcsp, &str>,
    now: UnixTime,
    clock_skew_seconds: i64,
) -> Decision {
    use mtls_x509::ocsp::CertStatus;
    let answer = match answer {
        Ok(a) => a,
        Err(why) => return Decision::deny(DenyReason::OcspUnavailable, &identity, bounded(why)),
    };
    if let Err(e) = answer.check_usable(now, clock_skew_seconds) {
        return Decision::deny(DenyReason::OcspUnavailable, &identity, e.to_string());
    }
    match answer.status() {
        CertStatus::Good => Decision::Allow(identity),
        CertStatus::Revoked { .. } => Decision::deny(
            DenyReason::Revoked,
            &identity,
            "the issuer's OCSP responder says the certificate is revoked",
        ),
        CertStatus::Unknown => Decision::deny(
            DenyReason::OcspUnavailable,
            &identity,
            "the issuer's OCSP responder does not know the certificate (unknown)",
        ),
    }
}

/// The route step, last, for an entry with `routes`: the Allow stands only
/// if a rule covers the invoked method and path. An unknown route (no ARN)
/// is refused.
#[must_use]
pub fn route_decision(
    identity: Identity,
    routes: &crate::config::Routes,
    route: Option<crate::config::RequestRoute<'_>>,
) -> Decision {
    match route {
        Some(r) if routes.allows(&r) => Decision::Allow(identity),
        Some(r) => Decision::deny(
            DenyReason::RouteNotAllowed,
            &identity,
            format!(
                "the issuer entry's routes do not include {} {}",
                bounded(r.method),
                bounded(r.path)
            ),
        ),
        None => Decision::deny(
            DenyReason::RouteNotAllowed,
            &identity,
            "the issuer entry lists routes, and the event names no method ARN",
        ),
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
    /// Lowercase hex SHA-256 over the issuer's and the subject's DER names,
    /// each length-prefixed: the DER-exact identity of the holder. Two
    /// certificates share it exactly when both names are the same bytes, so
    /// look-alike names (same text, other string types) never share it.
    pub name_sha256: String,
    /// The matched issuer entry's name, once matched.
    pub issuer: Option<String>,
}

impl Identity {
    fn of(cert: &ClientCert<'_>) -> Self {
        let (issuer, subject) = (cert.issuer(), cert.subject());
        Self {
            subject_dn: cert.subject_dn(),
            issuer_dn: cert.issuer_dn(),
            serial_number: cert.serial().to_hex(),
            fingerprint_sha256: cert.fingerprint_hex(),
            name_sha256: mtls_x509::serial::hex_lower(&mtls_x509::name::holder_sha256(
                &issuer, &subject,
            )),
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

/// A certificate that passed every check except revocation, and the entry it matched.
#[derive(Debug)]
pub struct Matched<'c, 'p> {
    cert: ClientCert<'c>,
    signer: KeyId,
    rule_index: usize,
    rule: &'p IssuerRule,
    identity: Identity,
}

impl<'c, 'p> Matched<'c, 'p> {
    /// The index of the matched entry in [`Config::issuers`].
    #[must_use]
    pub fn rule_index(&self) -> usize {
        self.rule_index
    }

    /// How the matched entry checks revocation.
    #[must_use]
    pub fn revocation(&self) -> &'p Revocation {
        &self.rule.revocation
    }

    /// The certificate.
    #[must_use]
    pub fn cert(&self) -> &ClientCert<'c> {
        &self.cert
    }

    /// The truststore key that verified the certificate's signature.
    #[must_use]
    pub fn signer(&self) -> KeyId {
        self.signer
    }

    /// Who the client is.
    #[must_use]
    pub fn identity(&self) -> &Identity {
        &self.identity
    }
}

/// One check of CA revocation: a CA above the certificate, one of the CAs
/// that signed it, and that parent's `ca_revocation` entry.
#[derive(Clone, Copy, Debug)]
pub struct CaCheck<'s> {
    /// The CA checked.
    pub ca: &'s CaCert,
    /// What its parent's CRL checks of it.
    pub facts: &'s CaFacts,
    /// The parent whose CRL speaks for it.
    pub parent: &'s CaCert,
    /// The parent's key, which must have signed that CRL.
    pub parent_key: KeyId,
    /// The parent's `ca_revocation` entry (its index).
    pub entry: usize,
}

/// What CA revocation checks for one certificate ([`Engine::ca_plan`]).
#[derive(Debug, Default)]
pub struct CaPlan<'s> {
    /// Each CA against each parent with a `ca_revocation` entry.
    pub checks: Vec<CaCheck<'s>>,
    /// Why some CA of the path cannot be covered, when that denies
    /// (`crl_unavailable`).
    uncovered: Option<String>,
}

impl CaPlan<'_> {
    /// Whether there is nothing to check.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.checks.is_empty() && self.uncovered.is_none()
    }
}

/// The revocation step's answer, and the `thisUpdate` of the CRL it rests on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevocationAnswer {
    /// The decision.
    pub decision: Decision,
    /// `thisUpdate` of the CRL that decided, when one did.
    pub crl_this_update: Option<UnixTime>,
}

fn attributes_match(m: &AttributeMatch, name: &Name<'_>) -> bool {
    m.entries().iter().all(|(key, allowed)| {
        name.attribute_values(key)
            .iter()
            .any(|v| allowed.contains(v))
    })
}

/// Whether an issuer entry's `match` accepts a CA name (used to vet CRL issuers too).
#[must_use]
pub fn issuer_name_matches(rule: &IssuerRule, name: &Name<'_>) -> bool {
    attributes_match(&rule.issuer, name)
}

/// A CRL for an issuer entry must come from a CA that the entry's `match` accepts.
#[derive(Clone, Copy, Debug)]
pub struct RuleIssuer<'a>(pub &'a IssuerRule);

impl mtls_x509::crl::IssuerExpectation for RuleIssuer<'_> {
    fn accepts(&self, issuer: &Name<'_>) -> bool {
        issuer_name_matches(self.0, issuer)
    }
}

/// A CRL for a `ca_revocation` entry (an ARL): from a CA its `match`
/// accepts, and checked against CA certificates.
#[derive(Clone, Copy, Debug)]
pub struct CaRuleIssuer<'a>(pub &'a IssuerRule);

impl mtls_x509::crl::IssuerExpectation for CaRuleIssuer<'_> {
    fn accepts(&self, issuer: &Name<'_>) -> bool {
        issuer_name_matches(self.0, issuer)
    }
    fn purpose(&self) -> mtls_x509::crl::CrlPurpose {
        mtls_x509::crl::CrlPurpose::CaCertificates
    }
}

fn check_subject(rule: &SubjectRule, cert: &ClientCert<'_>) -> Result<(), String> {
    // RFC 5280 §4.2.1.9: a CA certificate is not an end-entity certificate.
    if cert.role() == CertificateRole::Ca {
        return Err("a CA certificate cannot be used as a client certificate".into());
    }
    if !attributes_match(&rule.attributes, &cert.subject()) {
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
    deny_list: DenyListView<'p>,
}

impl<'p> Engine<'p> {
    /// An engine over a configuration and a truststore. When the
    /// configuration names a `deny_list`, every certificate is denied
    /// `deny_list_unavailable` until [`Engine::with_deny_list`] gives the
    /// list in force: forgetting to pass it fails closed.
    #[must_use]
    pub fn new(config: &'p Config, truststore: &'p TrustStore) -> Self {
        let deny_list = if config.deny_list().is_some() {
            DenyListView::Unavailable
        } else {
            DenyListView::NotConfigured
        };
        Self {
            config,
            truststore,
            deny_list,
        }
    }

    /// The deny list in force, or `None` when the configured one is not
    /// usable (never loaded, or past `deny_list_max_age_seconds`).
    #[must_use]
    pub fn with_deny_list(self, list: Option<&'p DenyList>) -> Self {
        let deny_list = match (list, self.deny_list) {
            (Some(list), _) => DenyListView::InForce(list),
            (None, DenyListView::NotConfigured) => DenyListView::NotConfigured,
            (None, _) => DenyListView::Unavailable,
        };
        Self { deny_list, ..self }
    }

    /// The deny list step: the certificate itself (by fingerprint, or by
    /// its serial under the key that verified it), then every CA above it
    /// on any path the truststore offers (by the CA certificate's
    /// fingerprint, or its serial under each parent's key). `Err` says what
    /// denied it.
    fn check_deny_list(
        &self,
        cert: &ClientCert<'_>,
        signer: KeyId,
    ) -> Result<(), (DenyReason, String)> {
        let list = match self.deny_list {
            DenyListView::NotConfigured => return Ok(()),
            DenyListView::Unavailable => {
                return Err((
                    DenyReason::DenyListUnavailable,
                    "the configured deny list is not loaded, or older than deny_list_max_age_seconds"
                        .into(),
                ));
            }
            DenyListView::InForce(list) => list,
        };
        // An ECDSA certificate has a twin with the same signed part and
        // the signature (r, n − s): whoever holds one can present the other,
        // so a fingerprint entry names both.
        let twin = || self.truststore.twin_fingerprint(cert, signer);
        if list.lists_fingerprint(cert.fingerprint())
            || (list.has_fingerprints() && twin().is_some_and(|fp| list.lists_fingerprint(&fp)))
        {
            return Err((
                DenyReason::DenyListed,
                "the certificate's fingerprint is on the deny list".into(),
            ));
        }
        if list.lists_serial(signer, cert.serial()) {
            return Err((
                DenyReason::DenyListed,
                "the certificate's serial, under its CA's key, is on the deny list".into(),
            ));
        }
        for link in self.truststore.chain_above(cert.issuer_der(), signer) {
            let by_serial = || {
                link.parents()
                    .filter_map(CaCert::key_id)
                    .any(|k| list.lists_serial(k, link.ca.serial()))
            };
            if list.lists_fingerprint(link.ca.fingerprint()) || by_serial() {
                return Err((
                    DenyReason::DenyListed,
                    format!(
                        "the CA `{}` above the certificate is on the deny list",
                        bounded(link.ca.subject_dn())
                    ),
                ));
            }
        }
        Ok(())
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

        let issuer = cert.issuer();
        let Some((rule_index, rule)) = self
            .config
            .issuers
            .iter()
            .enumerate()
            .find(|(_, r)| attributes_match(&r.issuer, &issuer))
        else {
            return Err(Decision::deny(
                DenyReason::IssuerNotAllowed,
                &identity,
                "no issuer entry matches the certificate's issuer",
            ));
        };
        identity.issuer = Some(rule.name.clone());

        // The issuer DN is only a claim: a truststore CA of that name must
        // have signed the certificate (RFC 5280 §6.1.3 (a)(1)). A CA removed
        // from the truststore is no longer trusted here either, whatever CRL
        // of it is still cached.
        let signer = match self.truststore.issuer_signature(&cert) {
            IssuerSignature::Verified(key) => key,
            IssuerSignature::NoCaOfThatName => {
                return Err(Decision::deny(
                    DenyReason::IssuerNotAllowed,
                    &identity,
                    "no CA of the certificate's issuer name is in the truststore",
                ));
            }
            IssuerSignature::Invalid => {
                return Err(Decision::deny(
                    DenyReason::IssuerNotAllowed,
                    &identity,
                    "the certificate is not signed by the truststore CA of that name",
                ));
            }
        };

        // RFC 5280 §6.1: the path is bounded here; CAs beyond the bound
        // would escape the deny list and CA revocation.
        if self.truststore.path_too_deep(cert.issuer_der(), signer) {
            return Err(Decision::deny(
                DenyReason::IssuerNotAllowed,
                &identity,
                format!(
                    "a path above the certificate in the truststore holds more than {} CAs",
                    mtls_x509::truststore::MAX_PATH_DEPTH
                ),
            ));
        }

        // After the signature: only a certificate a truststore CA signed can
        // be named by the list, and unsigned garbage costs no lookups.
        self.check_deny_list(&cert, signer)
            .map_err(|(reason, d)| Decision::deny(reason, &identity, d))?;

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
            signer,
            rule_index,
            rule,
            identity,
        })
    }

    /// The `ca_revocation` entry (its index) whose CRLs speak for the CA
    /// certificates `parent` issued: the first whose `match` accepts its name.
    fn ca_rule_for(&self, parent: &CaCert) -> Option<usize> {
        let name = Name::from_der(parent.subject_der()).ok()?;
        self.config
            .ca_revocation
            .iter()
            .position(|rule| issuer_name_matches(rule, &name))
    }

    /// What CA revocation must check for a matched certificate (RFC 5280
    /// §6.1.3 (a)(3), for each CA of the path), worked out once per request:
    /// every CA above it on any path the truststore offers that is not a
    /// trust anchor, against each parent that has a `ca_revocation` entry.
    /// The caller refreshes the CRLs of these checks, then runs them with
    /// [`Engine::check_ca_revocation`]. Empty when no entry is configured.
    #[must_use]
    pub fn ca_plan(&self, matched: &Matched<'_, '_>) -> CaPlan<'p> {
        let mut plan = CaPlan::default();
        if self.config.ca_revocation.is_empty() {
            return plan;
        }
        let required = self.config.ca_revocation_coverage == CaRevocationCoverage::Required;
        let links = self
            .truststore
            .chain_above(matched.cert.issuer_der(), matched.signer);
        for link in links.iter().filter(|l| !l.is_anchor()) {
            let ca = link.ca;
            if link.parents().next().is_none() && required {
                plan.uncovered.get_or_insert_with(|| {
                    format!(
                        "no truststore CA signed the CA `{}`, so no CRL can cover it (ca_revocation_required)",
                        bounded(ca.subject_dn())
                    )
                });
            }
            for parent in link.parents() {
                let Some(entry) = self.ca_rule_for(parent) else {
                    if required {
                        plan.uncovered.get_or_insert_with(|| {
                            format!(
                                "no ca_revocation entry matches `{}`, which issued the CA `{}` (ca_revocation_required)",
                                bounded(parent.subject_dn()),
                                bounded(ca.subject_dn())
                            )
                        });
                    }
                    continue;
                };
                match (ca.facts(), parent.key_id()) {
                    (Some(facts), Some(parent_key)) => plan.checks.push(CaCheck {
                        ca,
                        facts,
                        parent,
                        parent_key,
                        entry,
                    }),
                    _ => {
                        plan.uncovered.get_or_insert_with(|| {
                            format!(
                                "the CA `{}` cannot be checked against its parent's CRL",
                                bounded(ca.subject_dn())
                            )
                        });
                    }
                }
            }
        }
        plan
    }

    /// Runs a [`CaPlan`]: `crls_of(check)` gives the CRLs loaded for the
    /// check's entry and CA. A CA listed on any covering CRL is `ca_revoked`
    /// (a CA revoked on any path is revoked); otherwise a CA the plan could
    /// not cover, or a check with no usable covering CRL, is
    /// `crl_unavailable`.
    #[expect(
        clippy::result_large_err,
        reason = "the Err is a Deny decision, the outcome callers pass on; boxing it would only add an allocation"
    )]
    pub fn check_ca_revocation(
        &self,
        identity: &Identity,
        plan: &CaPlan<'_>,
        crls_of: impl Fn(&CaCheck<'_>) -> Vec<std::sync::Arc<crate::cache::CrlSet>>,
        now: UnixTime,
    ) -> Result<(), Decision> {
        let grace = self.config.crl_grace_seconds;
        let mut unusable: Option<&CaCheck<'_>> = None;
        for check in &plan.checks {
            let sets = crls_of(check);
            let delta = self
                .config
                .ca_revocation
                .get(check.entry)
                .map_or(DeltaPolicy::Apply, |r| r.delta);
            let found = mtls_x509::crl::lookup(
                sets.iter().flat_map(|set| set.iter().map(AsRef::as_ref)),
                |crl| crl.covers_ca(check.facts, check.parent_key),
                check.ca.serial(),
                now,
                grace,
                delta,
            );
            match found {
                Lookup::Revoked(_) => {
                    return Err(Decision::deny(
                        DenyReason::CaRevoked,
                        identity,
                        format!(
                            "the CA `{}` above the certificate is listed on its parent's CRL",
                            bounded(check.ca.subject_dn())
                        ),
                    ));
                }
                Lookup::NotRevoked(_) => {}
                Lookup::Unavailable(_) => {
                    unusable.get_or_insert(check);
                }
            }
        }
        let detail = match (&plan.uncovered, unusable) {
            (Some(why), _) => why.clone(),
            (None, Some(check)) => format!(
                "no usable CRL of `{}` covers the CA `{}` (ca_revocation entry `{}`)",
                bounded(check.parent.subject_dn()),
                bounded(check.ca.subject_dn()),
                self.config
                    .ca_revocation
                    .get(check.entry)
                    .map_or("", |r| r.name.as_str())
            ),
            (None, None) => return Ok(()),
        };
        Err(Decision::deny(DenyReason::CrlUnavailable, identity, detail))
    }

    /// The revocation step (RFC 5280 §6.3.3), over the CRLs loaded for the
    /// matched entry. Only the CRLs that cover the certificate count
    /// ([`VerifiedCrl::covers`]: same issuer, same key, in scope):
    /// - one of them lists the serial: `revoked` (listed is listed, even on a
    ///   CRL past its grace period);
    /// - one of them is still usable (within `nextUpdate` plus grace): Allow;
    /// - otherwise, or when none covers the certificate: `crl_unavailable`.
    ///
    /// `unavailable` explains, only when the answer is `crl_unavailable`,
    /// why no CRL was loaded (so the common path formats nothing).
    pub fn check_revocation<'a>(
        &self,
        matched: Matched<'_, '_>,
        crls: impl IntoIterator<Item = &'a VerifiedCrl>,
        now: UnixTime,
        unavailable: impl FnOnce() -> String,
    ) -> RevocationAnswer {
        let Matched {
            cert,
            signer,
            rule,
            identity,
            ..
        } = matched;
        let answer = |decision, crl: Option<&VerifiedCrl>| RevocationAnswer {
            decision,
            crl_this_update: crl.map(VerifiedCrl::this_update),
        };
        if matches!(
            rule.revocation,
            Revocation::NotChecked | Revocation::OcspOnly
        ) {
            return answer(Decision::Allow(identity), None);
        }
        let found = mtls_x509::crl::lookup(
            crls,
            |crl| crl.covers(&cert, signer),
            cert.serial(),
            now,
            self.config.crl_grace_seconds,
            rule.delta,
        );
        let detail = match found {
            Lookup::Revoked(crl) => {
                let deny = Decision::deny(
                    DenyReason::Revoked,
                    &identity,
                    if crl.is_delta() {
                        "serial is listed on the issuer's delta CRL"
                    } else {
                        "serial is listed on the issuer's CRL"
                    },
                );
                return answer(deny, Some(crl));
            }
            Lookup::NotRevoked(crl) => return answer(Decision::Allow(identity), Some(crl)),
            Lookup::Unavailable(NotDecided::Stale(e)) => e.to_string(),
            Lookup::Unavailable(why) => format!("{why}; {}", bounded(&unavailable())),
        };
        answer(
            Decision::deny(DenyReason::CrlUnavailable, &identity, detail),
            None,
        )
    }
}
