//! `truststore rollback`: pin the previous truststore version (or `--version`) on the custom domain again.

use clap::Args as ClapArgs;
use truststore::domain::Domains;
use truststore::rotate;
use truststore::s3::{Store, parse_s3_uri};
use truststore::{Error, Exit};

use super::{Domain, Expiry, Format, Spinner, Waiting, checked};

/// The arguments of `rollback`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(flatten)]
    domain: Domain,
    /// The version to pin; default the one before the pinned version.
    #[arg(long)]
    version: Option<String>,
    #[command(flatten)]
    waiting: Waiting,
}

impl Args {
    /// Rolls the domain back.
    pub async fn run(&self, _format: Format) -> Result<Exit, Error> {
        let config = mtls_common::aws_sdk_config().await;
        let domains = Domains::new(&config, self.domain.api);
        let store = Store::new(&config);
        let pacing = self.waiting.pacing();
        let d = &self.domain.domain;
        let spinner = Spinner::new();
        let now = rotate::wait_available(&domains, d, None, pacing, &spinner).await?;
        let uri = now.truststore_uri.clone().ok_or_else(|| Error::Domain {
            domain: d.clone(),
            message: "mutual TLS is not enabled on it".into(),
        })?;
        let (bucket, key) = parse_s3_uri(&uri)?;
        let target = match &self.version {
            Some(v) => v.clone(),
            None => {
                let versions = match now.truststore_version {
                    Some(_) => store.versions(&bucket, &key).await?,
                    None => Vec::new(),
                };
                rotate::rollback_target(now.truststore_version.as_deref(), &versions, &uri)
                    .map_err(|message| Error::Domain {
                        domain: d.clone(),
                        message,
                    })?
            }
        };
        if now.truststore_version.as_deref() == Some(target.as_str()) {
            drop(spinner);
            println!("{d} already uses truststore version {target}");
            return Ok(Exit::Ok);
        }
        let bytes = store.get(&bucket, &key, Some(&target)).await?;
        checked(
            &format!("{uri}?versionId={target}"),
            &bytes,
            &Expiry {
                expiry_warning_days: 0,
            },
        )?;
        let after = rotate::apply(&domains, d, &uri, &target, pacing, &spinner).await?;
        drop(spinner);
        for w in &after.warnings {
            eprintln!("truststoreWarning: {w}");
        }
        println!(
            "{d} rolled back from {} to truststore version {target}",
            now.truststore_version.as_deref().unwrap_or("none")
        );
        Ok(if after.warnings.is_empty() {
            Exit::Ok
        } else {
            Exit::Warnings
        })
    }
}
