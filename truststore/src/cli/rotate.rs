//! `truststore rotate`: validate and upload a bundle (or take `--version`),
//! pin it on the custom domain, and wait; roll back on `truststoreWarnings`.

use std::path::PathBuf;

use clap::Args as ClapArgs;
use truststore::domain::Domains;
use truststore::rotate::{self, OnWarnings, Outcome};
use truststore::s3::Store;
use truststore::{Error, Exit};

use super::{Domain, Expiry, Format, Object, Spinner, Waiting, checked, print_json, read};

/// The arguments of `rotate`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(flatten)]
    domain: Domain,
    #[command(flatten)]
    object: Object,
    /// The new bundle: validated, then uploaded as a new version.
    #[arg(required_unless_present = "version", conflicts_with = "version")]
    file: Option<PathBuf>,
    /// Pin this existing object version instead of uploading (it is validated too).
    #[arg(long)]
    version: Option<String>,
    /// Keep the new version even when API Gateway reports truststoreWarnings.
    #[arg(long)]
    keep_on_warnings: bool,
    #[command(flatten)]
    expiry: Expiry,
    #[command(flatten)]
    waiting: Waiting,
}

impl Args {
    /// Rotates the domain's truststore.
    pub async fn run(&self, format: Format) -> Result<Exit, Error> {
        let config = mtls_common::aws_sdk_config().await;
        let store = Store::new(&config);
        let domains = Domains::new(&config, self.domain.api);
        let (bucket, key) = (&self.object.bucket, &self.object.key);
        let uri = format!("s3://{bucket}/{key}");
        let version = match (&self.file, &self.version) {
            (Some(file), _) => {
                let bytes = read(file)?;
                checked(&file.display().to_string(), &bytes, &self.expiry)?;
                let up = store.upload(bucket, key, &bytes).await?;
                eprintln!(
                    "{} {uri} version {}",
                    if up.unchanged {
                        "unchanged:"
                    } else {
                        "uploaded"
                    },
                    up.version_id
                );
                up.version_id
            }
            (None, Some(v)) => {
                store.require_versioning(bucket).await?;
                let bytes = store.get(bucket, key, Some(v)).await?;
                checked(&format!("{uri}?versionId={v}"), &bytes, &self.expiry)?;
                v.clone()
            }
            (None, None) => return Err(Error::Usage("give a bundle FILE or --version".into())),
        };
        let on_warnings = if self.keep_on_warnings {
            OnWarnings::Keep
        } else {
            OnWarnings::RollBack
        };
        let outcome = {
            let spinner = Spinner::new();
            rotate::rotate(
                &domains,
                &self.domain.domain,
                &uri,
                &version,
                on_warnings,
                self.waiting.pacing(),
                &spinner,
            )
            .await?
        };
        if format == Format::Json {
            print_json(&outcome);
        }
        let d = &self.domain.domain;
        match &outcome {
            Outcome::AlreadyCurrent { version } => {
                println!("{d} already uses truststore version {version}; nothing to do");
            }
            Outcome::Applied { from, to } => println!(
                "{d} now uses truststore version {to} (was {}); API Gateway reported no warnings",
                from.as_deref().unwrap_or("none")
            ),
            Outcome::RolledBack { from, to, warnings } => {
                for w in warnings {
                    eprintln!("truststoreWarning: {w}");
                }
                println!(
                    "{d}: API Gateway reported {} warning(s) for version {to}; rolled back to {}. Fix the bundle, or pass --keep-on-warnings",
                    warnings.len(),
                    from.as_deref().unwrap_or("none")
                );
            }
            Outcome::KeptWithWarnings { from, to, warnings } => {
                for w in warnings {
                    eprintln!("truststoreWarning: {w}");
                }
                println!(
                    "{d} uses truststore version {to}, with {} warning(s): some clients may fail",
                    warnings.len()
                );
                if from.as_deref() == Some(to.as_str()) {
                    println!(
                        "It was pinned already (by an interrupted rotate?); fix the bundle, or `truststore rollback` pins the version before it"
                    );
                }
            }
        }
        Ok(if outcome.warned() {
            Exit::Warnings
        } else {
            Exit::Ok
        })
    }
}
