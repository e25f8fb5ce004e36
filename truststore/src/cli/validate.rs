//! `truststore validate`: check a bundle against API Gateway's rules.

use std::path::PathBuf;

use clap::Args as ClapArgs;
use mtls_pki::check;
use truststore::{Error, Exit};

use super::{Expiry, Format, print_findings, print_json, read, report_exit};

/// The arguments of `validate`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The bundle.
    file: PathBuf,
    #[command(flatten)]
    expiry: Expiry,
}

impl Args {
    /// Checks the bundle and prints every certificate and finding.
    pub fn run(&self, format: Format) -> Result<Exit, Error> {
        let bytes = read(&self.file)?;
        let report = check::check_bundle(
            &self.file.display().to_string(),
            &bytes,
            self.expiry.options(),
        );
        if format == Format::Json {
            print_json(&report);
            return Ok(report_exit(&report));
        }
        for c in &report.certificates {
            println!(
                "{}  {}  expires {}{}",
                c.fingerprint,
                c.subject,
                c.not_after,
                if c.root { "  (root)" } else { "" }
            );
        }
        print_findings(&report, false);
        println!(
            "{}: {} certificate(s), {} bytes, {} error(s), {} warning(s)",
            self.file.display(),
            report.certificates.len(),
            report.bytes,
            report.errors(),
            report.warnings()
        );
        Ok(report_exit(&report))
    }
}
