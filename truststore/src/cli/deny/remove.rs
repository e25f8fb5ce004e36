//! `truststore deny remove`: stop blocking a certificate.

use clap::Args as ClapArgs;
use truststore::deny::{self, Edit};
use truststore::{Error, Exit};

use super::{ListArg, Which};
use crate::cli::Format;

/// The arguments of `deny remove`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The certificate. With --cert and --issuer, entries by serial and by fingerprint both go.
    #[command(flatten)]
    pub which: Which,
    #[command(flatten)]
    pub list: ListArg,
}

impl Args {
    /// Removes the matching entries; exit 4 when there were none.
    pub async fn run(&self, _format: Format) -> Result<Exit, Error> {
        let named = self.which.named()?;
        let targets = named.targets();
        let list = self.list.open().await?;
        let done = list
            .update(|doc| {
                let gone = deny::remove(doc, &targets);
                Ok(if gone.is_empty() {
                    Edit::Keep(gone)
                } else {
                    Edit::Write(gone)
                })
            })
            .await?;
        let uri = list.uri();
        if !done.written {
            eprintln!(
                "no entry of {uri} (sequence {}) matches {}; nothing written",
                done.sequence, named.target
            );
            return Ok(Exit::NothingMatched);
        }
        for e in &done.value {
            println!("removed: {}", deny::describe(e));
        }
        println!(
            "{uri}: {} entry(ies) removed (sequence {})",
            done.value.len(),
            done.sequence
        );
        Ok(Exit::Ok)
    }
}
