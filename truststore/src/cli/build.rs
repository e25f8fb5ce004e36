//! `truststore build`: assemble a deterministic bundle from CA certificate files, and validate it.

use std::path::PathBuf;

use clap::Args as ClapArgs;
use mtls_pki::bundle;
use mtls_pki::check::{self, Report};
use truststore::{Error, Exit};

use super::{Expiry, Format, print_findings, print_json, read};

/// The arguments of `build`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// A PEM file of CA certificates; repeat for several files.
    #[arg(long = "ca", value_name = "FILE", required = true)]
    cas: Vec<PathBuf>,
    /// Where to write the bundle.
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    #[command(flatten)]
    expiry: Expiry,
}

impl Args {
    /// Builds, checks and writes the bundle; nothing is written on an error.
    pub fn run(&self, format: Format) -> Result<Exit, Error> {
        let json = format == Format::Json;
        let opts = self.expiry.options();
        let mut certs = Vec::new();
        let mut input_problems = Vec::new();
        for path in &self.cas {
            let name = path.display().to_string();
            let (mut c, mut f) = check::read_certificates(&name, &read(path)?);
            certs.append(&mut c);
            input_problems.append(&mut f);
        }
        if !input_problems.is_empty() {
            let report = Report {
                bytes: 0,
                certificates: Vec::new(),
                findings: input_problems,
            };
            if json {
                print_json(&report);
            }
            print_findings(&report, true);
            eprintln!("nothing written: the inputs must be PEM CA certificates only");
            return Ok(Exit::Error);
        }
        let pem = bundle::assemble(&certs);
        let report = check::check_bundle(&self.output.display().to_string(), pem.as_bytes(), opts);
        if json {
            print_json(&report);
        }
        print_findings(&report, true);
        if report.errors() > 0 {
            eprintln!(
                "nothing written: {} error(s); fix the inputs and build again",
                report.errors()
            );
            return Ok(Exit::Error);
        }
        std::fs::write(&self.output, &pem).map_err(|source| Error::Io {
            path: self.output.clone(),
            source,
        })?;
        if !json {
            println!(
                "{}: {} CA certificate(s), {} bytes, sha256 {}",
                self.output.display(),
                report.certificates.len(),
                pem.len(),
                truststore::s3::sha256_hex(pem.as_bytes())
            );
        }
        Ok(Exit::Ok)
    }
}
