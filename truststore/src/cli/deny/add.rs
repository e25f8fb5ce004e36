//! `truststore deny add`: block a certificate now.

use clap::Args as ClapArgs;
use mtls_policy::denylist::Reason;
use mtls_x509::time::UnixTime;
use truststore::deny::{self, Edit, EntryOptions};
use truststore::{Error, Exit};

use super::{ListArg, Which, reason_parser, unix_time};
use crate::cli::Format;

/// The arguments of `deny add`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(flatten)]
    pub which: Which,
    /// Why, as an RFC 5280 CRLReason name: unspecified, keyCompromise, cACompromise,
    /// affiliationChanged, superseded, cessationOfOperation, certificateHold,
    /// privilegeWithdrawn or aACompromise.
    #[arg(long, value_name = "REASON", default_value = "keyCompromise", value_parser = reason_parser)]
    pub reason: Reason,
    /// Free text for operators (at most 256 characters), e.g. a ticket number.
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// When the entry is no longer needed, RFC 3339 [default: the certificate's notAfter,
    /// with --cert; none otherwise]. `deny prune` removes entries an hour after it.
    #[arg(long, value_name = "RFC3339", value_parser = unix_time)]
    pub not_after: Option<UnixTime>,
    #[command(flatten)]
    pub list: ListArg,
}

impl Args {
    /// Adds the entry, unless the certificate is listed already.
    pub async fn run(&self, _format: Format) -> Result<Exit, Error> {
        let named = self.which.named()?;
        let list = self.list.open().await?;
        let opts = EntryOptions {
            reason: self.reason,
            note: self.note.clone(),
            not_after: self.not_after,
        };
        let entry = deny::new_entry(&named, &opts, UnixTime::now())?;
        let line = deny::describe(&entry);
        let done = list
            .update(|doc| {
                Ok(if deny::add(doc, entry.clone()) {
                    Edit::Write(())
                } else {
                    Edit::Keep(())
                })
            })
            .await?;
        let uri = list.uri();
        if done.written {
            println!("added to {uri} (sequence {}): {line}", done.sequence);
        } else {
            println!(
                "already on {uri} (sequence {}): {}; nothing written",
                done.sequence, named.target
            );
        }
        Ok(Exit::Ok)
    }
}
