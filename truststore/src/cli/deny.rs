//! `truststore deny …`: the operator deny list, which blocks certificates
//! within seconds, without waiting for the CA's next CRL. One module per
//! subcommand; what they share (which certificate, which list) is here.

pub mod add;
pub mod list;
pub mod prune;
pub mod remove;

use std::path::PathBuf;

use clap::{Args, Subcommand};
use mtls_x509::time::UnixTime;
use time::OffsetDateTime;
use truststore::deny::{self, List, ListUri, Named};
use truststore::s3::Store;
use truststore::{Error, Exit};

use super::{Format, read};

/// Where URIs may point, for help texts.
pub const LIST_HELP: &str = "The deny list: file:///path or s3://bucket/key, as the authorizer's deny_list names it. A missing list starts empty.";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add a certificate to the deny list (a no-op when it is listed already).
    Add(add::Args),
    /// Remove a certificate's entries from the deny list (exit 4 when none matched).
    Remove(remove::Args),
    /// Print the deny list's sequence and entries.
    List(list::Args),
    /// Remove entries a verified CRL of their CA now lists, and entries of expired certificates.
    Prune(prune::Args),
}

impl Command {
    /// Runs the subcommand.
    pub async fn run(self, format: Format) -> Result<Exit, Error> {
        match self {
            Self::Add(a) => a.run(format).await,
            Self::Remove(a) => a.run(format).await,
            Self::List(a) => a.run(format).await,
            Self::Prune(a) => a.run(format).await,
        }
    }
}

/// Which certificate: `--cert`, `--fingerprint`, or `--serial` with `--issuer`.
#[derive(Debug, Args)]
pub struct Which {
    /// The certificate (PEM or DER; the first certificate of the file). The entry names its
    /// issuing CA's key and its serial with --issuer, else its SHA-256 fingerprint; its
    /// notAfter becomes the entry's not_after.
    #[arg(
        long,
        value_name = "PEM_FILE",
        required_unless_present_any = ["fingerprint", "serial"],
        conflicts_with_all = ["fingerprint", "serial"]
    )]
    pub cert: Option<PathBuf>,
    /// The certificate's SHA-256 fingerprint: 64 hex digits, any case, ':' allowed (as
    /// `openssl x509 -noout -fingerprint -sha256` prints it).
    #[arg(long, value_name = "HEX", conflicts_with_all = ["serial", "issuer"])]
    pub fingerprint: Option<String>,
    /// The certificate's serial number in hex, ':' allowed; needs --issuer.
    #[arg(long, value_name = "HEX", requires = "issuer")]
    pub serial: Option<String>,
    /// The issuing CA's certificate. With --cert the file may hold several CAs (e.g. the
    /// truststore): the CA named as the certificate's issuer whose key verifies its signature
    /// is used, and the command stops if there is none. With --serial it holds that CA alone.
    #[arg(long, value_name = "CA_PEM_FILE")]
    pub issuer: Option<PathBuf>,
}

impl Which {
    /// Reads the files and names the certificate.
    pub fn named(&self) -> Result<Named, Error> {
        let issuer = match &self.issuer {
            Some(path) => {
                let name = path.display().to_string();
                let cas = deny::read_certificates(&name, &read(path)?)?;
                Some((name, cas))
            }
            None => None,
        };
        let issuer_ref = issuer.as_ref().map(|(n, c)| (n.as_str(), c.as_slice()));
        match (&self.cert, &self.fingerprint, &self.serial) {
            (Some(path), _, _) => {
                let name = path.display().to_string();
                let certs = deny::read_certificates(&name, &read(path)?)?;
                let first = certs
                    .first()
                    .ok_or_else(|| Error::Usage(format!("{name}: no certificate")))?;
                deny::by_certificate(first, issuer_ref)
            }
            (None, Some(fp), _) => deny::by_fingerprint(fp),
            (None, None, Some(serial)) => match issuer_ref {
                Some((name, cas)) => deny::by_serial(serial, name, cas),
                None => Err(Error::Usage("--serial needs --issuer".into())),
            },
            (None, None, None) => Err(Error::Usage(
                "give --cert, --fingerprint or --serial with --issuer".into(),
            )),
        }
    }
}

/// The `--list` argument.
#[derive(Debug, Args)]
pub struct ListArg {
    #[arg(long = "list", value_name = "URI", env = "TRUSTSTORE_DENY_LIST", help = LIST_HELP)]
    pub uri: String,
}

impl ListArg {
    /// The list, with an S3 client when it is on S3.
    pub async fn open(&self) -> Result<List, Error> {
        open(&self.uri).await
    }
}

/// The list at `uri`, with an S3 client when it is on S3.
pub async fn open(uri: &str) -> Result<List, Error> {
    let uri = ListUri::parse(uri)?;
    Ok(List::open(uri, async || {
        Store::new(&mtls_common::aws_sdk_config().await)
    })
    .await)
}

/// The deny list reason names, for help texts and errors.
pub fn reason_parser(s: &str) -> Result<mtls_policy::denylist::Reason, String> {
    deny::parse_reason(s).map_err(|e| e.to_string())
}

/// An RFC 3339 time as a deny-list time.
pub fn unix_time(s: &str) -> Result<UnixTime, String> {
    super::rfc3339(s).map(|t: OffsetDateTime| UnixTime(t.unix_timestamp()))
}
