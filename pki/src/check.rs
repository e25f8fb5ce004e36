//! API Gateway's truststore rules, applied to a bundle. Pure: the time is a
//! parameter.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use time::OffsetDateTime;

use crate::cert::{Block, BundleCert, KeyKind, read_pem};

/// API Gateway's limit on the truststore object ("under 1 MB").
pub(crate) const MAX_BUNDLE_BYTES: usize = 1_000_000;
/// API Gateway's limit on chain depth: CA certificates from an issuing CA up
/// to its root, both included.
pub(crate) const MAX_CHAIN_DEPTH: usize = 4;
/// The default expiry warning window.
pub const DEFAULT_EXPIRY_WARNING_DAYS: u32 = 30;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// API Gateway would refuse the bundle, or some clients would fail.
    Error,
    /// Works today, needs attention.
    Warning,
}

/// Which rule a finding comes from. The serialized names are stable: scripts
/// match on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Private key material in the bundle.
    PrivateKey,
    /// A block that is not a readable certificate.
    Unreadable,
    /// A PEM block of another kind.
    NotACertificate,
    /// No certificate at all.
    Empty,
    /// Over API Gateway's limit on the truststore object (1 MB).
    TooLarge,
    /// basicConstraints cA is not true.
    NotACa,
    /// Two different certificates share a subject DN.
    DuplicateSubject,
    /// The same certificate twice.
    DuplicateCertificate,
    /// No issuer for a certificate in the bundle, up to a self-signed root.
    IncompleteChain,
    /// The signature does not verify with the issuer's key.
    BadSignature,
    /// Deeper than API Gateway's limit (4 CA certificates from an issuing CA
    /// to its root).
    ChainTooDeep,
    /// A hash weaker than SHA-256, or an unsupported signature algorithm.
    WeakSignature,
    /// RSA under 2048 bits, a curve under P-256, or an unsupported key type.
    WeakKey,
    /// Past notAfter.
    Expired,
    /// Before notBefore.
    NotYetValid,
    /// notAfter within the warning window.
    ExpiresSoon,
}

impl Rule {
    /// The rule's severity.
    #[must_use]
    pub(crate) fn severity(self) -> Severity {
        match self {
            Self::DuplicateCertificate | Self::NotYetValid | Self::ExpiresSoon => Severity::Warning,
            _ => Severity::Error,
        }
    }
}

/// One problem in a bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Error or warning.
    pub severity: Severity,
    /// The rule.
    pub rule: Rule,
    /// The certificate's subject, when one certificate is at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Its SHA-256 fingerprint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) fingerprint: Option<String>,
    /// What is wrong and what to do.
    pub message: String,
}

impl Finding {
    fn new(rule: Rule, message: impl Into<String>) -> Self {
        Self {
            severity: rule.severity(),
            rule,
            subject: None,
            fingerprint: None,
            message: message.into(),
        }
    }

    fn about(rule: Rule, cert: &BundleCert, message: impl Into<String>) -> Self {
        Self {
            subject: Some(cert.subject.clone()),
            fingerprint: Some(cert.fingerprint.clone()),
            ..Self::new(rule, message)
        }
    }
}

/// Options of a check.
#[derive(Clone, Copy, Debug)]
pub struct CheckOptions {
    /// The time the validity rules use.
    pub now: OffsetDateTime,
    /// Warn about CAs that expire within this many days.
    pub expiry_warning_days: u32,
}

/// One certificate as a report lists it.
#[derive(Clone, Debug, Serialize)]
pub struct CertSummary {
    /// Subject DN.
    pub subject: String,
    /// Issuer DN.
    pub(crate) issuer: String,
    /// SHA-256 fingerprint, hex.
    pub fingerprint: String,
    /// Serial, hex.
    pub(crate) serial: String,
    /// notBefore, RFC 3339.
    pub(crate) not_before: String,
    /// notAfter, RFC 3339.
    pub not_after: String,
    /// Self-signed root.
    pub root: bool,
    /// CA certificates from this one to its root, when the chain is complete.
    pub depth: Option<usize>,
    /// The key.
    pub(crate) key: KeyKind,
    /// The signature algorithm's name.
    pub(crate) signature: String,
    /// Where it was read from.
    pub(crate) source: String,
}

/// The outcome of checking a bundle.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Size of the bundle in bytes.
    pub bytes: usize,
    /// The certificates, in bundle order.
    pub certificates: Vec<CertSummary>,
    /// Everything found, errors first.
    pub findings: Vec<Finding>,
}

impl Report {
    /// Number of error findings.
    #[must_use]
    pub fn errors(&self) -> usize {
        self.count(Severity::Error)
    }

    /// Number of warning findings.
    #[must_use]
    pub fn warnings(&self) -> usize {
        self.count(Severity::Warning)
    }

    fn count(&self, s: Severity) -> usize {
        self.findings.iter().filter(|f| f.severity == s).count()
    }
}

/// Splits PEM input into certificates, plus findings for everything else in
/// it (keys, other blocks, unreadable blocks).
#[must_use]
pub fn read_certificates(file: &str, bytes: &[u8]) -> (Vec<BundleCert>, Vec<Finding>) {
    let mut certs = Vec::new();
    let mut findings = Vec::new();
    for block in read_pem(file, bytes) {
        match block {
            Block::Cert(c) => certs.push(*c),
            Block::PrivateKey { block, label } => findings.push(Finding::new(
                Rule::PrivateKey,
                format!(
                    "{file}: block {block} is a private key ({label}). Remove it, and treat the key as exposed if the file was shared"
                ),
            )),
            Block::Other { block, label } => findings.push(Finding::new(
                Rule::NotACertificate,
                format!("{file}: block {block} is a {label}, not a CERTIFICATE"),
            )),
            Block::Unreadable { block, reason } => findings.push(Finding::new(
                Rule::Unreadable,
                format!("{file}: block {block}: {reason}"),
            )),
        }
    }
    (certs, findings)
}

/// Checks bundle bytes: everything [`read_certificates`] finds, the size,
/// and every rule on the certificates read (CA flags, duplicates, chains
/// and their depth, keys, signature algorithms, validity).
#[must_use]
pub fn check_bundle(file: &str, bytes: &[u8], opts: CheckOptions) -> Report {
    let (certs, mut findings) = read_certificates(file, bytes);
    if bytes.len() > MAX_BUNDLE_BYTES {
        findings.push(Finding::new(
            Rule::TooLarge,
            format!(
                "the bundle is {} bytes; API Gateway accepts under {MAX_BUNDLE_BYTES}. Remove CAs no client uses",
                bytes.len()
            ),
        ));
    }
    let mut report = check_certs(&certs, opts);
    report.bytes = bytes.len();
    findings.append(&mut report.findings);
    findings.sort_by_key(|f| f.severity);
    report.findings = findings;
    report
}

/// Checks a set of certificates against the rules.
#[must_use]
pub(crate) fn check_certs(certs: &[BundleCert], opts: CheckOptions) -> Report {
    let mut findings = Vec::new();
    if certs.is_empty() {
        findings.push(Finding::new(Rule::Empty, "the bundle holds no certificate"));
    }

    // The same certificate twice is harmless but untidy; the same subject with
    // different certificates is refused by API Gateway.
    // Position of each certificate in `unique`, by fingerprint.
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut reported: HashSet<&str> = HashSet::new();
    let mut unique: Vec<&BundleCert> = Vec::new();
    for c in certs {
        if let Entry::Vacant(e) = index.entry(&c.fingerprint) {
            e.insert(unique.len());
            unique.push(c);
        } else if reported.insert(&c.fingerprint) {
            findings.push(Finding::about(
                Rule::DuplicateCertificate,
                c,
                format!(
                    "{} appears more than once; `truststore build` keeps one copy",
                    c.subject
                ),
            ));
        }
    }
    let mut by_subject: BTreeMap<&[u8], Vec<&BundleCert>> = BTreeMap::new();
    for c in &unique {
        by_subject.entry(&c.subject_der).or_default().push(c);
    }
    for group in by_subject.values().filter(|g| g.len() > 1) {
        if let Some(first) = group.first() {
            findings.push(Finding::about(
                Rule::DuplicateSubject,
                first,
                format!(
                    "{} certificates share the subject {}; API Gateway refuses duplicate subjects. Keep one (for a renewed CA, the newer)",
                    group.len(),
                    first.subject
                ),
            ));
        }
    }

    for c in &unique {
        findings.extend(own_rules(c, opts));
    }

    // Chains: each certificate's issuer, found by exact name and a verifying
    // signature (RFC 5280 §6.1), up to a self-signed root.
    let issuer_of = issuers(&unique, &index, &by_subject, &mut findings);
    let mut depth_memo: HashMap<usize, Option<usize>> = HashMap::new();
    let mut summaries = Vec::with_capacity(certs.len());
    for c in certs {
        let idx = index
            .get(c.fingerprint.as_str())
            .copied()
            .unwrap_or_default();
        let depth = depth(idx, &issuer_of, &mut depth_memo, 0);
        summaries.push(summary(c, depth));
    }
    for (i, c) in unique.iter().enumerate() {
        match depth_memo.get(&i).copied().flatten() {
            Some(d) if d > MAX_CHAIN_DEPTH => findings.push(Finding::about(
                Rule::ChainTooDeep,
                c,
                format!(
                    "{} is {d} CA certificates from its root; API Gateway accepts at most {MAX_CHAIN_DEPTH}",
                    c.subject
                ),
            )),
            _ => {}
        }
    }
    findings.sort_by_key(|f| f.severity);
    Report {
        bytes: 0,
        certificates: summaries,
        findings,
    }
}

/// Rules about one certificate on its own.
fn own_rules(c: &BundleCert, opts: CheckOptions) -> Vec<Finding> {
    let mut out = Vec::new();
    if !c.is_ca {
        out.push(Finding::about(
            Rule::NotACa,
            c,
            format!(
                "{} is not a CA certificate (basicConstraints cA is not true); a truststore holds the CAs that issue client certificates, never the client certificates",
                c.subject
            ),
        ));
    }
    // One allowlist with the authorizer (mtls_x509::signed): a CA the
    // authorizer cannot check is refused here too, and the reverse.
    if let Err(why) = &c.algorithm {
        out.push(Finding::about(
            Rule::WeakSignature,
            c,
            format!(
                "{} is signed with {}: {why}. API Gateway requires SHA-256 or stronger",
                c.subject, c.signature.name
            ),
        ));
    }
    if c.public_key.is_err() {
        let what = match &c.key {
            KeyKind::Rsa { bits } => format!("RSA {bits}"),
            KeyKind::Ec { curve, .. } => format!("ECDSA {curve}"),
            KeyKind::Other { oid } => format!("a key of type {oid}"),
        };
        out.push(Finding::about(
            Rule::WeakKey,
            c,
            format!(
                "{} has {what}; the authorizer and API Gateway accept RSA 2048 to 8192 bits, or ECDSA P-256 or P-384",
                c.subject
            ),
        ));
    }
    let day = time::Duration::days(1);
    if c.not_after < opts.now {
        out.push(Finding::about(
            Rule::Expired,
            c,
            format!("{} expired on {}", c.subject, rfc3339(c.not_after)),
        ));
    } else if c.not_after < opts.now + day * opts.expiry_warning_days {
        out.push(Finding::about(
            Rule::ExpiresSoon,
            c,
            format!(
                "{} expires on {}, in {} day(s); put its successor in the bundle before then",
                c.subject,
                rfc3339(c.not_after),
                (c.not_after - opts.now).whole_days()
            ),
        ));
    }
    if c.not_before > opts.now {
        out.push(Finding::about(
            Rule::NotYetValid,
            c,
            format!(
                "{} is not valid before {}",
                c.subject,
                rfc3339(c.not_before)
            ),
        ));
    }
    out
}

/// For each unique certificate, the index of the certificate that signed it
/// (itself for a root); `None` when the chain stops there.
fn issuers(
    unique: &[&BundleCert],
    index: &HashMap<&str, usize>,
    by_subject: &BTreeMap<&[u8], Vec<&BundleCert>>,
    findings: &mut Vec<Finding>,
) -> Vec<Option<usize>> {
    let mut out = Vec::with_capacity(unique.len());
    for c in unique {
        // Refused algorithms are reported as such; their signatures are not
        // checked, so one problem does not show up twice.
        let checkable = c.algorithm.is_ok();
        let candidates = by_subject
            .get(c.issuer_der.as_slice())
            .map(Vec::as_slice)
            .unwrap_or_default();
        if candidates.is_empty() {
            findings.push(Finding::about(
                Rule::IncompleteChain,
                c,
                format!(
                    "the issuer of {} ({}) is not in the bundle; add it, and every CA above it up to the root",
                    c.subject, c.issuer
                ),
            ));
            out.push(None);
            continue;
        }
        let signer = candidates
            .iter()
            .find(|s| !checkable || s.public_key.is_err() || c.signed_by(s));
        match signer {
            Some(s) => out.push(index.get(s.fingerprint.as_str()).copied()),
            None => {
                findings.push(Finding::about(
                    Rule::BadSignature,
                    c,
                    format!(
                        "the signature of {} does not verify with the key of {}; the bundle holds a different CA under that name",
                        c.subject, c.issuer
                    ),
                ));
                out.push(None);
            }
        }
    }
    out
}

/// CA certificates from `i` up to its root, inclusive; `None` when the chain
/// is broken or loops.
fn depth(
    i: usize,
    issuer_of: &[Option<usize>],
    memo: &mut HashMap<usize, Option<usize>>,
    guard: usize,
) -> Option<usize> {
    if let Some(d) = memo.get(&i) {
        return *d;
    }
    // A loop of cross-signed CAs never reaches a root.
    if guard > issuer_of.len() {
        return None;
    }
    let d = match issuer_of.get(i).copied().flatten() {
        Some(parent) if parent == i => Some(1),
        Some(parent) => depth(parent, issuer_of, memo, guard + 1).map(|d| d + 1),
        None => None,
    };
    memo.insert(i, d);
    d
}

fn summary(c: &BundleCert, depth: Option<usize>) -> CertSummary {
    CertSummary {
        subject: c.subject.clone(),
        issuer: c.issuer.clone(),
        fingerprint: c.fingerprint.clone(),
        serial: c.serial.clone(),
        not_before: rfc3339(c.not_before),
        not_after: rfc3339(c.not_after),
        root: c.self_issued(),
        depth,
        key: c.key.clone(),
        signature: c.signature.name.clone(),
        source: c.source.clone(),
    }
}

/// RFC 3339 text of a time (UTC).
#[must_use]
pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}
