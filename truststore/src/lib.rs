//! Checks a truststore bundle against what API Gateway accepts.

use std::collections::BTreeMap;

use x509_parser::prelude::*;

/// API Gateway's observed limit on the truststore file (about 1,000 KB).
pub const MAX_BUNDLE_BYTES: usize = 1_000 * 1024;

/// A problem that would make API Gateway refuse the bundle, or clients fail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// A PEM block could not be read.
    Unreadable { block: usize, error: String },
    /// A certificate is not a CA (basicConstraints cA is not true).
    NotACa { subject: String },
    /// Two certificates share a subject DN, which API Gateway rejects.
    DuplicateSubject { subject: String },
    /// The file is over the size limit.
    TooLarge { bytes: usize },
    /// There is no certificate at all.
    Empty,
}

/// Validates a PEM bundle; returns the number of certificates and the findings.
#[must_use]
pub fn validate(bundle: &[u8]) -> (usize, Vec<Finding>) {
    let mut findings = Vec::new();
    if bundle.len() > MAX_BUNDLE_BYTES {
        findings.push(Finding::TooLarge {
            bytes: bundle.len(),
        });
    }
    let mut subjects: BTreeMap<String, usize> = BTreeMap::new();
    let mut count = 0;
    for (i, block) in Pem::iter_from_buffer(bundle).enumerate() {
        let parsed = block.map_err(|e| e.to_string()).and_then(|b| {
            X509Certificate::from_der(&b.contents)
                .map(|(_, c)| (c.subject().to_string(), c.is_ca()))
                .map_err(|e| e.to_string())
        });
        match parsed {
            Ok((subject, is_ca)) => {
                count += 1;
                if !is_ca {
                    findings.push(Finding::NotACa {
                        subject: subject.clone(),
                    });
                }
                *subjects.entry(subject).or_default() += 1;
            }
            Err(error) => findings.push(Finding::Unreadable {
                block: i + 1,
                error,
            }),
        }
    }
    findings.extend(
        subjects
            .into_iter()
            .filter(|(_, n)| *n > 1)
            .map(|(subject, _)| Finding::DuplicateSubject { subject }),
    );
    if count == 0 {
        findings.push(Finding::Empty);
    }
    (count, findings)
}
