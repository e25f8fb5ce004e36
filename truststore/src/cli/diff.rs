//! `truststore diff`: the CAs added, removed or changed between two bundles.

use std::path::{Path, PathBuf};

use clap::Args as ClapArgs;
use mtls_pki::cert::BundleCert;
use mtls_pki::{bundle, check};
use truststore::{Error, Exit};

use super::{Format, print_json, read};

/// The arguments of `diff`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The old bundle.
    old: PathBuf,
    /// The new bundle.
    new: PathBuf,
    /// Exit 1 when the bundles differ (like `git diff --exit-code`).
    #[arg(long)]
    exit_code: bool,
}

fn certs_of(path: &Path) -> Result<Vec<BundleCert>, Error> {
    let (certs, findings) = check::read_certificates(&path.display().to_string(), &read(path)?);
    if let Some(f) = findings.first() {
        return Err(Error::Usage(format!(
            "{}; run `truststore validate` on it",
            f.message
        )));
    }
    Ok(certs)
}

impl Args {
    /// Compares the two bundles.
    pub fn run(&self, format: Format) -> Result<Exit, Error> {
        let d = bundle::diff(&certs_of(&self.old)?, &certs_of(&self.new)?);
        if format == Format::Json {
            print_json(&d);
        } else {
            for e in &d.added {
                println!(
                    "+ {}  {}  expires {}",
                    e.fingerprint, e.subject, e.not_after
                );
            }
            for e in &d.removed {
                println!(
                    "- {}  {}  expires {}",
                    e.fingerprint, e.subject, e.not_after
                );
            }
            for c in &d.changed {
                println!(
                    "~ {}\n    old {}  expires {}\n    new {}  expires {}",
                    c.subject,
                    c.old.fingerprint,
                    c.old.not_after,
                    c.new.fingerprint,
                    c.new.not_after
                );
            }
            println!(
                "{} added, {} removed, {} changed, {} unchanged",
                d.added.len(),
                d.removed.len(),
                d.changed.len(),
                d.unchanged
            );
        }
        Ok(if self.exit_code && !d.is_empty() {
            Exit::Error
        } else {
            Exit::Ok
        })
    }
}
