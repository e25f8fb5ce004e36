//! Assembling a deterministic bundle, and comparing two bundles. Pure.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::cert::BundleCert;

/// Encodes one certificate as PEM: 64-column base64, LF line ends.
#[must_use]
pub(crate) fn pem(der: &[u8]) -> String {
    mtls_x509::pem::encode(mtls_x509::pem::CERTIFICATE, der)
}

/// The bundle of `certs`: each certificate once, roots first, then each
/// level below them, ordered by subject and fingerprint within a level. The
/// same set of CAs always gives the same bytes, whatever order and files
/// they came from, so an unchanged bundle is never uploaded again.
#[must_use]
pub fn assemble(certs: &[BundleCert]) -> String {
    let mut unique: BTreeMap<&str, &BundleCert> = BTreeMap::new();
    for c in certs {
        unique.entry(&c.fingerprint).or_insert(c);
    }
    let mut ordered: Vec<&BundleCert> = unique.into_values().collect();
    let by_subject: BTreeMap<&[u8], &BundleCert> = ordered
        .iter()
        .map(|c| (c.subject_der.as_slice(), *c))
        .collect();
    let level = |c: &BundleCert| {
        // Distance to a root by issuer name; bounded, since names can loop.
        let mut n = 0usize;
        let mut cur = c;
        while !cur.self_issued() && n < 16 {
            match by_subject.get(cur.issuer_der.as_slice()) {
                Some(p) => cur = p,
                None => break,
            }
            n += 1;
        }
        n
    };
    ordered.sort_by_cached_key(|c| (level(c), c.subject.clone(), c.fingerprint.clone()));
    ordered.iter().map(|c| pem(&c.der)).collect()
}

/// One CA in a diff.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DiffEntry {
    /// Subject DN.
    pub subject: String,
    /// SHA-256 fingerprint.
    pub fingerprint: String,
    /// notAfter, RFC 3339.
    pub not_after: String,
}

/// A CA whose subject is in both bundles, with a different certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Changed {
    /// Subject DN.
    pub subject: String,
    /// The old certificate.
    pub old: DiffEntry,
    /// The new certificate.
    pub new: DiffEntry,
}

/// What changed between two bundles.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Diff {
    /// In the new bundle only.
    pub added: Vec<DiffEntry>,
    /// In the old bundle only.
    pub removed: Vec<DiffEntry>,
    /// Same subject, different certificate (a renewed or replaced CA).
    pub changed: Vec<Changed>,
    /// In both, identical.
    pub unchanged: usize,
}

impl Diff {
    /// No CA was added, removed or changed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

fn entry(c: &BundleCert) -> DiffEntry {
    DiffEntry {
        subject: c.subject.clone(),
        fingerprint: c.fingerprint.clone(),
        not_after: crate::check::rfc3339(c.not_after),
    }
}

/// Compares two sets of CAs by fingerprint. A subject that lost one
/// certificate and gained another is reported as changed.
#[must_use]
pub fn diff(old: &[BundleCert], new: &[BundleCert]) -> Diff {
    let old_fp: BTreeMap<&str, &BundleCert> =
        old.iter().map(|c| (c.fingerprint.as_str(), c)).collect();
    let new_fp: BTreeMap<&str, &BundleCert> =
        new.iter().map(|c| (c.fingerprint.as_str(), c)).collect();
    let mut gone: BTreeMap<&[u8], Vec<&BundleCert>> = BTreeMap::new();
    for (fp, c) in &old_fp {
        if !new_fp.contains_key(fp) {
            gone.entry(&c.subject_der).or_default().push(c);
        }
    }
    let mut out = Diff {
        unchanged: old_fp.keys().filter(|fp| new_fp.contains_key(*fp)).count(),
        ..Diff::default()
    };
    for (fp, c) in &new_fp {
        if old_fp.contains_key(fp) {
            continue;
        }
        match gone.get_mut(c.subject_der.as_slice()).and_then(Vec::pop) {
            Some(was) => out.changed.push(Changed {
                subject: c.subject.clone(),
                old: entry(was),
                new: entry(c),
            }),
            None => out.added.push(entry(c)),
        }
    }
    out.removed = gone.values().flatten().map(|c| entry(c)).collect();
    for list in [&mut out.added, &mut out.removed] {
        list.sort_by(|a, b| (&a.subject, &a.fingerprint).cmp(&(&b.subject, &b.fingerprint)));
    }
    out.changed.sort_by(|a, b| a.subject.cmp(&b.subject));
    out
}
