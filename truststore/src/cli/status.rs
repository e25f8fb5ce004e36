//! `truststore status`: the domain's truststore: pinned version, newer versions, warnings, expiry.

use clap::Args as ClapArgs;
use mtls_pki::check;
use truststore::domain::Domains;
use truststore::rotate::{self, Pacing};
use truststore::s3::{Store, parse_s3_uri};
use truststore::status::StatusReport;
use truststore::{Error, Exit};

use super::{Domain, Expiry, Format, print_findings, print_json};

/// The arguments of `status`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(flatten)]
    domain: Domain,
    #[command(flatten)]
    expiry: Expiry,
}

impl Args {
    /// Reads the domain, the object's versions and the pinned bundle, and reports.
    pub async fn run(&self, format: Format) -> Result<Exit, Error> {
        let config = mtls_common::aws_sdk_config().await;
        let domains = Domains::new(&config, self.domain.api);
        let store = Store::new(&config);
        let d = &self.domain.domain;
        let state = rotate::state(&domains, d, Pacing::default(), &rotate::Quiet).await?;
        let mut out = StatusReport::new(d, state.clone());
        if let Some(uri) = &state.truststore_uri {
            match parse_s3_uri(uri) {
                Ok((bucket, key)) => {
                    match store.versions(&bucket, &key).await {
                        Ok(v) => out.set_versions(v),
                        Err(e) => out.problems.push(format!("cannot list versions: {e}")),
                    }
                    match store
                        .get(&bucket, &key, state.truststore_version.as_deref())
                        .await
                    {
                        Ok(bytes) => {
                            out.pinned_bundle =
                                Some(check::check_bundle(uri, &bytes, self.expiry.options()));
                        }
                        Err(e) => out
                            .problems
                            .push(format!("cannot read the pinned bundle: {e}")),
                    }
                }
                Err(e) => out.problems.push(e.to_string()),
            }
        }
        if format == Format::Json {
            print_json(&out);
        } else {
            print_text(&out, self);
        }
        Ok(out.exit())
    }
}

fn print_text(out: &StatusReport, args: &Args) {
    let state = &out.state;
    println!("domain:      {} ({:?} API)", out.domain, args.domain.api);
    println!("status:      {}", state.status);
    println!(
        "truststore:  {}",
        state
            .truststore_uri
            .as_deref()
            .unwrap_or("(mutual TLS off)")
    );
    println!(
        "version:     {}",
        state
            .truststore_version
            .as_deref()
            .unwrap_or("(none pinned)")
    );
    match out.newer_versions {
        Some(0) => println!("             the latest version of the object"),
        Some(n) => println!(
            "             {n} newer version(s) of the object are not deployed: `truststore rotate --version …`"
        ),
        None => {}
    }
    for w in &state.warnings {
        println!("warning[truststore_warning]: {w}");
    }
    if let Some(r) = &out.pinned_bundle {
        println!(
            "bundle:      {} certificate(s), {} error(s), {} warning(s)",
            r.certificates.len(),
            r.errors(),
            r.warnings()
        );
        if let Some(first) = r
            .certificates
            .iter()
            .min_by(|x, y| x.not_after.cmp(&y.not_after))
        {
            println!("first expiry: {} ({})", first.not_after, first.subject);
        }
        print_findings(r, false);
    }
    for p in &out.problems {
        println!("error: {p}");
    }
}
