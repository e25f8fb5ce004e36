//! `truststore deny prune`: drop the entries the CA's CRL or expiry now covers.

use std::path::PathBuf;

use clap::Args as ClapArgs;
use mtls_x509::TrustStore;
use mtls_x509::time::UnixTime;
use truststore::deny::{self, CrlEvidence, Edit, PruneReason};
use truststore::s3::Store;
use truststore::{Error, Exit};

use super::ListArg;
use crate::cli::{Format, read};

/// The arguments of `deny prune`.
#[derive(Debug, ClapArgs)]
#[command(after_help = "\
An entry is removed when:
  - its not_after passed more than an hour ago (the authorizer refuses the certificate anyway), or
  - it names a serial, and a CRL given with --crl lists that serial, verifies with exactly the
    CA key the entry names (a CA of --truststore), and is before its nextUpdate. A serial the CRL
    lists as certificateHold stays: a hold can be lifted.
Fingerprint entries go only by expiry. Pass the CRLs the authorizer reads for that CA.
A CRL that cannot be read or verified prunes nothing, and the command then exits 1.")]
pub struct Args {
    #[command(flatten)]
    pub list: ListArg,
    /// The truststore (PEM) whose CA keys verify the CRLs.
    #[arg(long, value_name = "PEM_FILE")]
    pub truststore: Option<PathBuf>,
    /// A CRL (DER or PEM), at file:///path or s3://bucket/key; repeat for several. http(s) is
    /// not read: download such a CRL first.
    #[arg(long = "crl", value_name = "URI", requires = "truststore")]
    pub crls: Vec<String>,
}

impl Args {
    /// Verifies the CRLs, then prunes the list in one write.
    pub async fn run(&self, _format: Format) -> Result<Exit, Error> {
        let now = UnixTime::now();
        let mut evidence = Vec::new();
        let mut failed = 0usize;
        if let Some(path) = &self.truststore {
            let ts = TrustStore::from_pem(&read(path)?).map_err(|e| Error::Certificate {
                file: path.display().to_string(),
                message: e.to_string(),
            })?;
            let mut store: Option<Store> = None;
            for uri in &self.crls {
                let fetched = deny::read_source(uri, async || match &store {
                    Some(s) => s.clone(),
                    None => {
                        let s = Store::new(&mtls_common::aws_sdk_config().await);
                        store = Some(s.clone());
                        s
                    }
                })
                .await;
                match fetched.and_then(|bytes| CrlEvidence::verify(uri, &bytes, &ts, now)) {
                    Ok(e) => evidence.push(e),
                    Err(e) => {
                        failed += 1;
                        eprintln!("error: {e}; it prunes nothing");
                    }
                }
            }
        }
        let list = self.list.open().await?;
        let done = list
            .update(|doc| {
                let pruned = deny::prune(doc, &evidence, now);
                Ok(if pruned.is_empty() {
                    Edit::Keep(pruned)
                } else {
                    Edit::Write(pruned)
                })
            })
            .await?;
        for p in &done.value {
            let why = match &p.why {
                PruneReason::Expired { not_after } => format!("expired {not_after}"),
                PruneReason::ListedByCrl {
                    uri,
                    issuer,
                    scope,
                    next_update,
                } => format!(
                    "listed by the {scope} CRL {uri} of {issuer} (next update {next_update})"
                ),
            };
            println!("removed {} ({why})", p.entry.target);
        }
        println!(
            "{}: {} entry(ies) removed, sequence {}{}",
            list.uri(),
            done.value.len(),
            done.sequence,
            if done.written {
                ""
            } else {
                "; nothing written"
            }
        );
        Ok(if failed > 0 { Exit::Error } else { Exit::Ok })
    }
}
