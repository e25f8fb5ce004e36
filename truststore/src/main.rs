//! `truststore`: build, validate, diff, upload and rotate the API Gateway
//! mutual TLS truststore, and run a development PKI. See `truststore --help`.
//! This file only parses and dispatches: each command is a module of `cli/`.

mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use cli::Format;
use truststore::{Error, Exit};

#[derive(Debug, Parser)]
#[command(
    name = "truststore",
    version,
    about = "Build, validate and rotate the API Gateway mutual TLS truststore, and run a development PKI",
    after_help = "Exit codes: 0 success; 1 errors; 2 usage; 3 warnings only (CAs close to expiry, or API Gateway truststoreWarnings); 4 nothing matched (deny remove).\nAWS settings come from the usual environment (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL_*)."
)]
struct Cli {
    /// How to print results: text for people, json for scripts.
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// The same as --format json (kept for existing scripts).
    #[arg(long, global = true, hide = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Assemble a deterministic bundle from CA certificate files, and validate it.
    Build(cli::build::Args),
    /// Check a bundle against API Gateway's rules.
    Validate(cli::validate::Args),
    /// Show the CAs added, removed or changed between two bundles.
    Diff(cli::diff::Args),
    /// Upload a bundle as a new object version (skipped when unchanged).
    Upload(cli::upload::Args),
    /// Validate and upload a bundle (or take --version), pin it on the custom domain, and wait.
    Rotate(cli::rotate::Args),
    /// Pin the previous truststore version (or --version) on the custom domain again.
    Rollback(cli::rollback::Args),
    /// Show the domain's truststore: pinned version, newer versions, warnings, expiry.
    Status(cli::status::Args),
    /// The operator deny list: block certificates now, without waiting for the CA's next CRL.
    #[command(subcommand)]
    Deny(cli::deny::Command),
    /// Block a device now (deny list) and revoke its certificate at AWS Private CA.
    Revoke(cli::revoke::Args),
    /// A development PKI (for local development and tests only).
    #[command(subcommand)]
    Pki(cli::pki::Command),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let format = if cli.json { Format::Json } else { cli.format };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return ExitCode::from(Exit::Error.code());
        }
    };
    match runtime.block_on(run(cli.command, format)) {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(Exit::Error.code())
        }
    }
}

async fn run(command: Command, format: Format) -> Result<Exit, Error> {
    match command {
        Command::Build(a) => a.run(format),
        Command::Validate(a) => a.run(format),
        Command::Diff(a) => a.run(format),
        Command::Upload(a) => a.run(format).await,
        Command::Rotate(a) => a.run(format).await,
        Command::Rollback(a) => a.run(format).await,
        Command::Status(a) => a.run(format).await,
        Command::Deny(d) => d.run(format).await,
        Command::Revoke(a) => a.run(format).await,
        Command::Pki(p) => p.run(format).await,
    }
}
