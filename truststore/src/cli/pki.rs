//! `truststore pki …`: a development PKI, for local development and tests only.

use std::path::PathBuf;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, Subcommand};
use mtls_pki::pki::{self, KeyType, Pki, Reason};
use time::OffsetDateTime;
use truststore::deny::{self, Edit};
use truststore::s3::{Store, parse_s3_uri};
use truststore::{Error, Exit};

use super::{Format, read, rfc3339};

#[derive(Debug, Args)]
pub struct PkiDir {
    /// The PKI directory.
    #[arg(long, env = "TRUSTSTORE_PKI_DIR", default_value = "pki")]
    pub dir: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Make a root and an issuing CA, truststore.pem, an empty CRL and authorizer.json.
    Init {
        #[command(flatten)]
        dir: PkiDir,
        /// Organization (O) of the CAs and clients.
        #[arg(long, default_value = "Development")]
        org: String,
        /// Country (C) of the CAs.
        #[arg(long)]
        country: Option<String>,
        /// Root CA common name [default: "<org> Root CA"].
        #[arg(long)]
        root_cn: Option<String>,
        /// Issuing CA common name [default: "<org> Issuing CA"].
        #[arg(long)]
        ca_cn: Option<String>,
        /// Key type of the CAs (and the default for clients).
        #[arg(long, value_parser = key_type(), default_value = KeyType::EcdsaP256.name())]
        key_type: KeyType,
        /// Root CA validity, days.
        #[arg(long, default_value_t = 3650)]
        root_days: i64,
        /// Issuing CA validity, days.
        #[arg(long, default_value_t = 1825)]
        ca_days: i64,
        /// The issuer entry's name in authorizer.json.
        #[arg(long, default_value = "devices")]
        issuer_name: String,
        /// The CRL URI in authorizer.json [default: file://<dir>/crl.der].
        #[arg(long)]
        crl_uri: Option<String>,
        /// The truststore URI in authorizer.json [default: file://<dir>/truststore.pem].
        #[arg(long)]
        truststore_uri: Option<String>,
        /// crl_refresh_seconds in authorizer.json: short, so revocations show quickly.
        #[arg(long, default_value_t = 30)]
        crl_refresh_seconds: u64,
        /// Replace an existing PKI in the directory.
        #[arg(long)]
        force: bool,
    },
    /// Issue a client certificate and key (or sign a CSR).
    Issue {
        /// The certificate's name: files clients/NAME.pem and NAME.key.
        name: String,
        #[command(flatten)]
        dir: PkiDir,
        /// Common name [default: NAME].
        #[arg(long)]
        cn: Option<String>,
        /// Organizational unit; repeat for several.
        #[arg(long)]
        ou: Vec<String>,
        /// Subject alternative name: dns:NAME, uri:URI, email:ADDR or ip:ADDR; repeatable.
        #[arg(long)]
        san: Vec<String>,
        /// Key type [default: the CA's].
        #[arg(long, value_parser = key_type())]
        key_type: Option<KeyType>,
        /// Validity in days.
        #[arg(long, default_value_t = 365)]
        days: i64,
        /// Start of validity, RFC 3339 [default: an hour ago].
        #[arg(long, value_parser = rfc3339)]
        not_before: Option<OffsetDateTime>,
        /// End of validity, RFC 3339 (overrides --days).
        #[arg(long, value_parser = rfc3339)]
        not_after: Option<OffsetDateTime>,
        /// Serial number in hex [default: 20 random octets].
        #[arg(long)]
        serial: Option<String>,
        /// Sign this PEM CSR instead of making a key (its subject and SANs are used).
        #[arg(long, value_name = "FILE", conflicts_with_all = ["cn", "ou", "key_type"])]
        csr: Option<PathBuf>,
    },
    /// Revoke a certificate by name or serial; `pki crl` then publishes it.
    /// With --now, also put it on the deny list, which blocks it before the next CRL.
    Revoke {
        /// A certificate name, or a serial number in hex.
        target: String,
        #[command(flatten)]
        dir: PkiDir,
        /// The CRL reason code.
        #[arg(long, value_parser = reason(), default_value = Reason::Unspecified.name())]
        reason: Reason,
        /// Also add the certificate (the issuing CA's key and its serial) to the deny list
        /// first, so the authorizer denies it within seconds, before any CRL.
        #[arg(long)]
        now: bool,
        /// The deny list for --now: file:///path or s3://bucket/key [default: file://<dir>/deny.json].
        #[arg(long, value_name = "URI", requires = "now")]
        list: Option<String>,
    },
    /// Sign a fresh CRL with the next CRL number (crl.der and crl.pem).
    Crl {
        #[command(flatten)]
        dir: PkiDir,
        /// Hours until nextUpdate.
        #[arg(long, default_value_t = 168, value_parser = clap::value_parser!(u32).range(1..=8760))]
        hours: u32,
    },
    /// Export a client certificate, key and chain as PKCS#12 (iOS, browsers).
    Export {
        /// The certificate's name.
        name: String,
        #[command(flatten)]
        dir: PkiDir,
        /// Read the password from this environment variable.
        #[arg(long, value_name = "VAR", required_unless_present = "password")]
        password_env: Option<String>,
        /// The password (visible to other local users in the process list; prefer --password-env).
        #[arg(long, conflicts_with = "password_env")]
        password: Option<String>,
        /// Output file [default: clients/NAME.p12].
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// 3DES and SHA-1 MAC, for older iOS, macOS and Windows.
        #[arg(long)]
        legacy: bool,
    },
    /// Copy the CRL to file:///path or s3://bucket/key.
    Publish {
        /// file:///path or s3://bucket/key.
        destination: String,
        #[command(flatten)]
        dir: PkiDir,
        /// Publish the PEM CRL instead of DER.
        #[arg(long)]
        pem: bool,
    },
}

/// `--key-type`: the PKI's own names and descriptions ([`KeyType::ALL`]), so
/// the command line offers exactly the key types the PKI makes, spelled as
/// `pki.json` spells them.
fn key_type() -> impl TypedValueParser<Value = KeyType> {
    PossibleValuesParser::new(
        KeyType::ALL.map(|k| PossibleValue::new(k.name()).help(k.description())),
    )
    .try_map(|name| KeyType::from_name(&name).ok_or_else(|| format!("no key type {name}")))
}

/// `--reason`: the PKI's own names ([`Reason::ALL`]), as for [`key_type`].
fn reason() -> impl TypedValueParser<Value = Reason> {
    PossibleValuesParser::new(
        Reason::ALL.map(|r| PossibleValue::new(r.name()).help(r.description())),
    )
    .try_map(|name| Reason::from_name(&name).ok_or_else(|| format!("no reason {name}")))
}

impl Command {
    /// Runs the PKI command. Its output is text whatever `--format` says:
    /// it names the files it wrote.
    pub async fn run(self, _format: Format) -> Result<Exit, Error> {
        run(self).await
    }
}

async fn run(command: Command) -> Result<Exit, Error> {
    let now = OffsetDateTime::now_utc();
    match command {
        Command::Init {
            dir,
            org,
            country,
            root_cn,
            ca_cn,
            key_type,
            root_days,
            ca_days,
            issuer_name,
            crl_uri,
            truststore_uri,
            crl_refresh_seconds,
            force,
        } => {
            let p = Pki::at(&dir.dir);
            let opts = pki::InitOptions {
                root_cn: root_cn.unwrap_or_else(|| format!("{org} Root CA")),
                ca_cn: ca_cn.unwrap_or_else(|| format!("{org} Issuing CA")),
                org,
                country,
                key_type,
                root_days,
                ca_days,
                issuer_name,
                crl_uri,
                truststore_uri,
                crl_refresh_seconds,
                force,
            };
            let state = p.init(&opts, now)?;
            eprintln!("note: {}", pki::NOTICE);
            println!("issuing CA:   {}", state.ca_subject);
            for f in [
                pki::files::TRUSTSTORE,
                pki::files::CRL_DER,
                pki::files::AUTHORIZER_CONFIG,
            ] {
                println!("wrote         {}", p.path(f).display());
            }
            println!(
                "next:         truststore pki issue device-1 --dir {}",
                dir.dir.display()
            );
            Ok(Exit::Ok)
        }
        Command::Issue {
            name,
            dir,
            cn,
            ou,
            san,
            key_type,
            days,
            not_before,
            not_after,
            serial,
            csr,
        } => {
            let p = Pki::at(&dir.dir);
            let csr_pem = match &csr {
                Some(path) => Some(String::from_utf8_lossy(&read(path)?).into_owned()),
                None => None,
            };
            let c = p.issue(
                &name,
                &pki::IssueOptions {
                    cn,
                    ou,
                    sans: san,
                    key_type,
                    days,
                    not_before,
                    not_after,
                    serial_hex: serial,
                    csr_pem,
                },
                now,
            )?;
            println!("issued       {} (serial {})", c.subject, c.serial);
            println!("certificate  {}", p.client_path(&name, "pem").display());
            if c.has_key {
                println!("key          {}", p.client_path(&name, "key").display());
            }
            Ok(Exit::Ok)
        }
        Command::Revoke {
            target,
            dir,
            reason,
            now: deny_now,
            list,
        } => {
            let p = Pki::at(&dir.dir);
            if deny_now {
                // The deny list first: blocking now is what --now is for.
                let entry = p.deny_entry(&target, reason, now)?;
                let uri = match list {
                    Some(u) => u,
                    None => p.deny_list_uri()?,
                };
                let list = super::deny::open(&uri).await?;
                let done = list
                    .update(|doc| {
                        Ok(if deny::add(doc, entry.clone()) {
                            Edit::Write(())
                        } else {
                            Edit::Keep(())
                        })
                    })
                    .await?;
                println!(
                    "{} {} (sequence {}): {}",
                    if done.written {
                        "deny-listed on"
                    } else {
                        "already deny-listed on"
                    },
                    list.uri(),
                    done.sequence,
                    entry.target
                );
            }
            let r = p.revoke(&target, reason, now)?;
            println!(
                "revoked serial {}{} ({:?}); run `truststore pki crl --dir {}` to publish it",
                r.serial,
                r.name.map(|n| format!(" ({n})")).unwrap_or_default(),
                r.reason,
                dir.dir.display()
            );
            Ok(Exit::Ok)
        }
        Command::Crl { dir, hours } => {
            let p = Pki::at(&dir.dir);
            let n = p.crl(now, time::Duration::hours(i64::from(hours)))?;
            let state = p.state()?;
            println!(
                "CRL number {n}: {} revoked, next update in {hours} h",
                state.revoked.len()
            );
            println!("wrote {}", p.path(pki::files::CRL_DER).display());
            println!("wrote {}", p.path(pki::files::CRL_PEM).display());
            Ok(Exit::Ok)
        }
        Command::Export {
            name,
            dir,
            password_env,
            password,
            output,
            legacy,
        } => {
            let p = Pki::at(&dir.dir);
            let password = match (password, password_env) {
                (Some(pw), _) => pw,
                (None, Some(var)) => std::env::var(&var)
                    .map_err(|_| Error::Usage(format!("environment variable {var} is not set")))?,
                (None, None) => {
                    return Err(Error::Usage("give --password-env or --password".into()));
                }
            };
            let bytes = p.export(&name, &password, legacy)?;
            let out = output.unwrap_or_else(|| p.client_path(&name, "p12"));
            std::fs::write(&out, bytes).map_err(|source| Error::Io {
                path: out.clone(),
                source,
            })?;
            println!("wrote {}", out.display());
            Ok(Exit::Ok)
        }
        Command::Publish {
            destination,
            dir,
            pem,
        } => {
            let p = Pki::at(&dir.dir);
            let src = p.path(if pem {
                pki::files::CRL_PEM
            } else {
                pki::files::CRL_DER
            });
            let bytes = read(&src)?;
            if let Some(path) = destination.strip_prefix("file://") {
                pki::publish_to_file(&PathBuf::from(path), &bytes)?;
                println!("published {} to {destination}", src.display());
            } else if destination.starts_with("s3://") {
                let (bucket, key) = parse_s3_uri(&destination)?;
                let store = Store::new(&mtls_common::aws_sdk_config().await);
                let ct = if pem {
                    "application/x-pem-file"
                } else {
                    "application/pkix-crl"
                };
                let version = store.put(&bucket, &key, &bytes, ct).await?;
                println!(
                    "published {} to {destination}{}",
                    src.display(),
                    version
                        .map(|v| format!(" (version {v})"))
                        .unwrap_or_default()
                );
            } else {
                return Err(Error::Usage(format!(
                    "{destination}: publish to file:///path or s3://bucket/key"
                )));
            }
            Ok(Exit::Ok)
        }
    }
}
