//! `truststore upload`: upload a bundle as a new object version (skipped when unchanged).

use std::path::PathBuf;

use clap::Args as ClapArgs;
use truststore::s3::Store;
use truststore::{Error, Exit};

use super::{Expiry, Format, Object, checked, print_json, read};

/// The arguments of `upload`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(flatten)]
    object: Object,
    /// The bundle to upload.
    file: PathBuf,
    #[command(flatten)]
    expiry: Expiry,
}

impl Args {
    /// Validates, then uploads unless the latest version holds the same bytes.
    pub async fn run(&self, format: Format) -> Result<Exit, Error> {
        let bytes = read(&self.file)?;
        let report = checked(&self.file.display().to_string(), &bytes, &self.expiry)?;
        let store = Store::new(&mtls_common::aws_sdk_config().await);
        let (bucket, key) = (&self.object.bucket, &self.object.key);
        let up = store.upload(bucket, key, &bytes).await?;
        if format == Format::Json {
            print_json(&up);
        } else if up.unchanged {
            println!(
                "unchanged: s3://{bucket}/{key} version {} already holds this bundle (sha256 {})",
                up.version_id, up.sha256
            );
        } else {
            println!(
                "uploaded s3://{bucket}/{key} version {} (sha256 {})",
                up.version_id, up.sha256
            );
        }
        println!("VersionId: {}", up.version_id);
        Ok(if report.warnings() > 0 {
            Exit::Warnings
        } else {
            Exit::Ok
        })
    }
}
