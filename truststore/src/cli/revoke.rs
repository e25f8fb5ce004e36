//! `truststore revoke`: block a device now (deny list), and revoke its
//! certificate at AWS Private CA for good.

use std::path::PathBuf;

use clap::Args as ClapArgs;
use mtls_policy::denylist::Reason;
use mtls_x509::time::UnixTime;
use truststore::deny::{self, Edit, EntryOptions};
use truststore::pca::{self, PrivateCa, Revoked};
use truststore::{Error, Exit};

use super::Format;
use super::deny::{ListArg, Which, reason_parser};

/// The arguments of `revoke`.
#[derive(Debug, ClapArgs)]
#[command(after_help = "\
Order: the deny list first, then AWS Private CA's RevokeCertificate, so the device is blocked
within seconds even if the CA call fails. Either failing exits 1 and says which half is done;
running the same command again is safe (adding a listed certificate is a no-op, and a CA that
already revoked it says so). The CA's next CRL, about 30 minutes later, lists the serial; then
`truststore deny prune` removes the entry.
AWS settings come from the usual environment; AWS_ENDPOINT_URL_ACM_PCA points at another endpoint.")]
pub struct Args {
    /// The device's certificate (PEM or DER).
    #[arg(long, value_name = "PEM_FILE")]
    cert: PathBuf,
    /// The issuing CA's certificate: the entry then names the CA's key and the serial (else the
    /// certificate's fingerprint). The CA must have issued --cert.
    #[arg(long, value_name = "CA_PEM_FILE")]
    issuer: Option<PathBuf>,
    /// The ARN of the AWS Private CA that issued the certificate.
    #[arg(long, value_name = "ARN")]
    pca_arn: String,
    /// Why, as an RFC 5280 CRLReason name (certificateHold is refused: Private CA has no hold).
    #[arg(long, value_name = "REASON", default_value = "keyCompromise", value_parser = reason_parser)]
    reason: Reason,
    /// Free text for the deny list entry (at most 256 characters).
    #[arg(long, value_name = "TEXT")]
    note: Option<String>,
    #[command(flatten)]
    list: ListArg,
}

impl Args {
    /// Deny-lists, then revokes at the CA; reports each half.
    pub async fn run(&self, _format: Format) -> Result<Exit, Error> {
        // Refused before anything is written: there is no hold to ask for.
        pca::revocation_reason(self.reason)?;
        let which = Which {
            cert: Some(self.cert.clone()),
            fingerprint: None,
            serial: None,
            issuer: self.issuer.clone(),
        };
        let named = which.named()?;
        let serial = named
            .serial
            .clone()
            .ok_or_else(|| Error::Usage("the certificate has no serial".into()))?;
        let opts = EntryOptions {
            reason: self.reason,
            note: self.note.clone(),
            not_after: None,
        };
        let entry = deny::new_entry(&named, &opts, UnixTime::now())?;
        let list = self.list.open().await?;
        let listed = list
            .update(|doc| {
                Ok(if deny::add(doc, entry.clone()) {
                    Edit::Write(())
                } else {
                    Edit::Keep(())
                })
            })
            .await;
        match &listed {
            Ok(done) if done.written => println!(
                "deny-listed on {} (sequence {}): {}",
                list.uri(),
                done.sequence,
                deny::describe(&entry)
            ),
            Ok(done) => println!(
                "already deny-listed on {} (sequence {}): {}",
                list.uri(),
                done.sequence,
                named.target
            ),
            // Revoking at the CA still blocks the device, only later.
            Err(e) => eprintln!("error: {e}"),
        }
        let config = mtls_common::aws_sdk_config().await;
        let revoked = PrivateCa::new(&config)
            .revoke(&self.pca_arn, &serial, self.reason)
            .await;
        match (&listed, &revoked) {
            (Ok(_), Ok(r)) => {
                println!(
                    "{} serial {} at {}",
                    if *r == Revoked::Already {
                        "the CA had already revoked"
                    } else {
                        "revoked"
                    },
                    pca::certificate_serial(&serial),
                    self.pca_arn
                );
                println!(
                    "the CA's CRL lists it in about 30 minutes; then `truststore deny prune --list {} --truststore … --crl …` removes the entry",
                    list.uri()
                );
                Ok(Exit::Ok)
            }
            (Ok(_), Err(e)) => {
                eprintln!("error: {e}");
                eprintln!(
                    "the device is deny-listed but NOT revoked at the CA; fix the cause and run the same command again"
                );
                Ok(Exit::Error)
            }
            (Err(_), Ok(_)) => {
                eprintln!(
                    "revoked at the CA but NOT deny-listed: the device is blocked only once the CA's next CRL (about 30 minutes) reaches the authorizer; run the same command again to deny-list it"
                );
                Ok(Exit::Error)
            }
            (Err(_), Err(e)) => {
                eprintln!("error: {e}");
                eprintln!("the device is neither deny-listed nor revoked at the CA");
                Ok(Exit::Error)
            }
        }
    }
}
