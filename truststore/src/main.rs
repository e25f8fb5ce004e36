//! `truststore`: build, validate, diff, upload and rotate the API Gateway
//! mutual TLS truststore, and run a development PKI. See `truststore --help`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use time::OffsetDateTime;
use truststore::check::{self, CheckOptions, Report, Severity};
use truststore::domain::{ApiKind, Domains};
use truststore::pki::{self, KeyType, Pki, Reason};
use truststore::rotate::{self, OnWarnings, Outcome, Pacing, Progress};
use truststore::s3::{Store, parse_s3_uri};
use truststore::{Error, bundle, exit};

#[derive(Debug, Parser)]
#[command(
    name = "truststore",
    version,
    about = "Build, validate and rotate the API Gateway mutual TLS truststore, and run a development PKI",
    after_help = "Exit codes: 0 success; 1 errors; 2 usage; 3 warnings only (CAs close to expiry, or API Gateway truststoreWarnings).\nAWS settings come from the usual environment (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL_*)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Assemble a deterministic bundle from CA certificate files, and validate it.
    Build(BuildArgs),
    /// Check a bundle against API Gateway's rules.
    Validate(ValidateArgs),
    /// Show the CAs added, removed or changed between two bundles.
    Diff(DiffArgs),
    /// Upload a bundle as a new object version (skipped when unchanged).
    Upload(UploadArgs),
    /// Validate and upload a bundle (or take --version), pin it on the custom domain, and wait.
    Rotate(RotateArgs),
    /// Pin the previous truststore version (or --version) on the custom domain again.
    Rollback(RollbackArgs),
    /// Show the domain's truststore: pinned version, newer versions, warnings, expiry.
    Status(StatusArgs),
    /// A development PKI (for local development and tests only).
    #[command(subcommand)]
    Pki(PkiCommand),
}

#[derive(Debug, Args)]
struct Expiry {
    /// Warn about CAs that expire within this many days.
    #[arg(long, value_name = "DAYS", default_value_t = check::DEFAULT_EXPIRY_WARNING_DAYS)]
    expiry_warning_days: u32,
}

impl Expiry {
    fn options(&self) -> CheckOptions {
        CheckOptions {
            now: OffsetDateTime::now_utc(),
            expiry_warning_days: self.expiry_warning_days,
        }
    }
}

#[derive(Debug, Args)]
struct BuildArgs {
    /// A PEM file of CA certificates; repeat for several files.
    #[arg(long = "ca", value_name = "FILE", required = true)]
    cas: Vec<PathBuf>,
    /// Where to write the bundle.
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    #[command(flatten)]
    expiry: Expiry,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct ValidateArgs {
    /// The bundle.
    file: PathBuf,
    #[command(flatten)]
    expiry: Expiry,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct DiffArgs {
    /// The old bundle.
    old: PathBuf,
    /// The new bundle.
    new: PathBuf,
    /// Print the diff as JSON.
    #[arg(long)]
    json: bool,
    /// Exit 1 when the bundles differ (like `git diff --exit-code`).
    #[arg(long)]
    exit_code: bool,
}

#[derive(Debug, Args)]
struct Object {
    /// The versioned S3 bucket of the truststore.
    #[arg(long)]
    bucket: String,
    /// The object key of the truststore.
    #[arg(long)]
    key: String,
}

#[derive(Debug, Args)]
struct UploadArgs {
    #[command(flatten)]
    object: Object,
    /// The bundle to upload.
    file: PathBuf,
    #[command(flatten)]
    expiry: Expiry,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct Waiting {
    /// Give up waiting for the domain to be AVAILABLE after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 600.0, value_parser = positive_seconds)]
    timeout: f64,
    /// Seconds between two status checks.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0, value_parser = positive_seconds)]
    poll_interval: f64,
    /// The first wait after API Gateway throttles a call; it doubles up to 60 s.
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0, value_parser = positive_seconds)]
    backoff: f64,
    /// Attempts per call when throttled or on transient errors.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=50))]
    max_attempts: u32,
}

impl Waiting {
    fn pacing(&self) -> Pacing {
        Pacing {
            poll_interval: Duration::from_secs_f64(self.poll_interval),
            timeout: Duration::from_secs_f64(self.timeout),
            backoff: Duration::from_secs_f64(self.backoff),
            max_backoff: Duration::from_secs(60),
            attempts: self.max_attempts,
        }
    }
}

fn positive_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 86_400.0 => Ok(v),
        _ => Err(format!("{s} is not a number of seconds from 0 to 86400")),
    }
}

#[derive(Debug, Args)]
struct Domain {
    /// The custom domain name, e.g. api.example.com.
    #[arg(long)]
    domain: String,
    /// The API type the domain belongs to.
    #[arg(long, value_enum, default_value_t = ApiKind::Rest)]
    api: ApiKind,
}

#[derive(Debug, Args)]
struct RotateArgs {
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
    /// Print the outcome as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct RollbackArgs {
    #[command(flatten)]
    domain: Domain,
    /// The version to pin; default the one before the pinned version.
    #[arg(long)]
    version: Option<String>,
    #[command(flatten)]
    waiting: Waiting,
}

#[derive(Debug, Args)]
struct StatusArgs {
    #[command(flatten)]
    domain: Domain,
    #[command(flatten)]
    expiry: Expiry,
    /// Print the status as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct PkiDir {
    /// The PKI directory.
    #[arg(long, env = "TRUSTSTORE_PKI_DIR", default_value = "pki")]
    dir: PathBuf,
}

#[derive(Debug, Subcommand)]
enum PkiCommand {
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
        #[arg(long, value_enum, default_value_t = KeyType::EcdsaP256)]
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
        #[arg(long, value_enum)]
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
    Revoke {
        /// A certificate name, or a serial number in hex.
        target: String,
        #[command(flatten)]
        dir: PkiDir,
        /// The CRL reason code.
        #[arg(long, value_enum, default_value_t = Reason::Unspecified)]
        reason: Reason,
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

fn rfc3339(s: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("{s}: {e} (use RFC 3339, e.g. 2026-01-01T00:00:00Z)"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return ExitCode::from(exit::ERROR);
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(exit::ERROR)
        }
    }
}

async fn run(command: Command) -> Result<u8, Error> {
    match command {
        Command::Build(a) => build(&a),
        Command::Validate(a) => validate(&a),
        Command::Diff(a) => diff(&a),
        Command::Upload(a) => upload(&a).await,
        Command::Rotate(a) => rotate_cmd(&a).await,
        Command::Rollback(a) => rollback(&a).await,
        Command::Status(a) => status(&a).await,
        Command::Pki(p) => pki_cmd(p).await,
    }
}

fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })
}

fn print_json(value: &impl serde::Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("error: JSON: {e}"),
    }
}

fn print_findings(report: &Report, to_stderr: bool) {
    for f in &report.findings {
        let level = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let line = format!(
            "{level}[{}]: {}",
            serde_json::to_value(f.rule)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            f.message
        );
        if to_stderr {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    }
}

fn report_code(report: &Report) -> u8 {
    if report.errors() > 0 {
        exit::ERROR
    } else if report.warnings() > 0 {
        exit::WARNINGS
    } else {
        exit::OK
    }
}

fn build(a: &BuildArgs) -> Result<u8, Error> {
    let opts = a.expiry.options();
    let mut certs = Vec::new();
    let mut input_problems = Vec::new();
    for path in &a.cas {
        let name = path.display().to_string();
        let (mut c, mut f) = check::read_certificates(&name, &read(path)?);
        certs.append(&mut c);
        input_problems.append(&mut f);
    }
    if !input_problems.is_empty() {
        let report = Report {
            bytes: 0,
            certificates: Vec::new(),
            findings: input_problems,
        };
        if a.json {
            print_json(&report);
        }
        print_findings(&report, true);
        eprintln!("nothing written: the inputs must be PEM CA certificates only");
        return Ok(exit::ERROR);
    }
    let pem = bundle::assemble(&certs);
    let report = check::check_bundle(&a.output.display().to_string(), pem.as_bytes(), opts);
    if a.json {
        print_json(&report);
    }
    print_findings(&report, true);
    if report.errors() > 0 {
        eprintln!(
            "nothing written: {} error(s); fix the inputs and build again",
            report.errors()
        );
        return Ok(exit::ERROR);
    }
    std::fs::write(&a.output, &pem).map_err(|source| Error::Io {
        path: a.output.clone(),
        source,
    })?;
    if !a.json {
        println!(
            "{}: {} CA certificate(s), {} bytes, sha256 {}",
            a.output.display(),
            report.certificates.len(),
            pem.len(),
            truststore::s3::sha256_hex(pem.as_bytes())
        );
    }
    Ok(exit::OK)
}

fn validate(a: &ValidateArgs) -> Result<u8, Error> {
    let bytes = read(&a.file)?;
    let report = check::check_bundle(&a.file.display().to_string(), &bytes, a.expiry.options());
    if a.json {
        print_json(&report);
        return Ok(report_code(&report));
    }
    for c in &report.certificates {
        println!(
            "{}  {}  expires {}{}",
            c.fingerprint,
            c.subject,
            c.not_after,
            if c.root { "  (root)" } else { "" }
        );
    }
    print_findings(&report, false);
    println!(
        "{}: {} certificate(s), {} bytes, {} error(s), {} warning(s)",
        a.file.display(),
        report.certificates.len(),
        report.bytes,
        report.errors(),
        report.warnings()
    );
    Ok(report_code(&report))
}

fn certs_of(path: &Path) -> Result<Vec<truststore::cert::CaCert>, Error> {
    let (certs, findings) = check::read_certificates(&path.display().to_string(), &read(path)?);
    if let Some(f) = findings.first() {
        return Err(Error::Usage(format!(
            "{}; run `truststore validate` on it",
            f.message
        )));
    }
    Ok(certs)
}

fn diff(a: &DiffArgs) -> Result<u8, Error> {
    let d = bundle::diff(&certs_of(&a.old)?, &certs_of(&a.new)?);
    if a.json {
        print_json(&d);
    } else {
        for e in &d.added {
            println!(
                "+ {}  {}  expires {}",
                e.fingerprint, e.subject, e.not_after
            );
        }
        for e in &d.removed {
            println!(
                "- {}  {}  expires {}",
                e.fingerprint, e.subject, e.not_after
            );
        }
        for c in &d.changed {
            println!(
                "~ {}\n    old {}  expires {}\n    new {}  expires {}",
                c.subject, c.old.fingerprint, c.old.not_after, c.new.fingerprint, c.new.not_after
            );
        }
        println!(
            "{} added, {} removed, {} changed, {} unchanged",
            d.added.len(),
            d.removed.len(),
            d.changed.len(),
            d.unchanged
        );
    }
    Ok(if a.exit_code && !d.is_empty() {
        exit::ERROR
    } else {
        exit::OK
    })
}

/// Validates a bundle before it goes anywhere; errors stop the command.
fn checked(name: &str, bytes: &[u8], expiry: &Expiry) -> Result<Report, Error> {
    let report = check::check_bundle(name, bytes, expiry.options());
    print_findings(&report, true);
    if report.errors() > 0 {
        return Err(Error::Invalid {
            errors: report.errors(),
        });
    }
    Ok(report)
}

async fn upload(a: &UploadArgs) -> Result<u8, Error> {
    let bytes = read(&a.file)?;
    let report = checked(&a.file.display().to_string(), &bytes, &a.expiry)?;
    let store = Store::new(&mtls_common::aws_sdk_config().await);
    let up = store
        .upload(&a.object.bucket, &a.object.key, &bytes)
        .await?;
    if a.json {
        print_json(&up);
    } else if up.unchanged {
        println!(
            "unchanged: s3://{}/{} version {} already holds this bundle (sha256 {})",
            a.object.bucket, a.object.key, up.version_id, up.sha256
        );
    } else {
        println!(
            "uploaded s3://{}/{} version {} (sha256 {})",
            a.object.bucket, a.object.key, up.version_id, up.sha256
        );
    }
    println!("VersionId: {}", up.version_id);
    Ok(if report.warnings() > 0 {
        exit::WARNINGS
    } else {
        exit::OK
    })
}

/// A spinner on a terminal; plain lines otherwise (CI logs).
struct Spinner {
    bar: indicatif::ProgressBar,
    last: std::cell::RefCell<String>,
}

impl Spinner {
    fn new() -> Self {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        bar.enable_steady_tick(Duration::from_millis(120));
        Self {
            bar,
            last: std::cell::RefCell::default(),
        }
    }
}

impl Progress for Spinner {
    fn update(&self, message: &str) {
        if self.bar.is_hidden() {
            // Without a terminal, print each new state once, not every poll.
            let state = message.split(" (").next().unwrap_or(message).to_owned();
            if *self.last.borrow() != state {
                eprintln!("{message}");
                *self.last.borrow_mut() = state;
            }
        } else {
            self.bar.set_message(message.to_owned());
        }
    }

    fn note(&self, message: &str) {
        if self.bar.is_hidden() {
            eprintln!("{message}");
        } else {
            self.bar.println(message);
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

async fn rotate_cmd(a: &RotateArgs) -> Result<u8, Error> {
    let config = mtls_common::aws_sdk_config().await;
    let store = Store::new(&config);
    let domains = Domains::new(&config, a.domain.api);
    let (bucket, key) = (&a.object.bucket, &a.object.key);
    let uri = format!("s3://{bucket}/{key}");
    let version = match (&a.file, &a.version) {
        (Some(file), _) => {
            let bytes = read(file)?;
            checked(&file.display().to_string(), &bytes, &a.expiry)?;
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
            checked(&format!("{uri}?versionId={v}"), &bytes, &a.expiry)?;
            v.clone()
        }
        (None, None) => return Err(Error::Usage("give a bundle FILE or --version".into())),
    };
    let on_warnings = if a.keep_on_warnings {
        OnWarnings::Keep
    } else {
        OnWarnings::RollBack
    };
    let outcome = {
        let spinner = Spinner::new();
        rotate::rotate(
            &domains,
            &a.domain.domain,
            &uri,
            &version,
            on_warnings,
            a.waiting.pacing(),
            &spinner,
        )
        .await?
    };
    if a.json {
        print_json(&outcome);
    }
    let d = &a.domain.domain;
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
        Outcome::KeptWithWarnings { to, warnings, .. } => {
            for w in warnings {
                eprintln!("truststoreWarning: {w}");
            }
            println!(
                "{d} uses truststore version {to}, with {} warning(s): some clients may fail",
                warnings.len()
            );
        }
    }
    Ok(if outcome.warned() {
        exit::WARNINGS
    } else {
        exit::OK
    })
}

async fn rollback(a: &RollbackArgs) -> Result<u8, Error> {
    let config = mtls_common::aws_sdk_config().await;
    let domains = Domains::new(&config, a.domain.api);
    let store = Store::new(&config);
    let pacing = a.waiting.pacing();
    let d = &a.domain.domain;
    let spinner = Spinner::new();
    let now = rotate::wait_available(&domains, d, None, pacing, &spinner).await?;
    let uri = now.truststore_uri.clone().ok_or_else(|| Error::Domain {
        domain: d.clone(),
        message: "mutual TLS is not enabled on it".into(),
    })?;
    let (bucket, key) = parse_s3_uri(&uri)?;
    let target = match &a.version {
        Some(v) => v.clone(),
        None => {
            let pinned = now
                .truststore_version
                .clone()
                .ok_or_else(|| Error::Domain {
                    domain: d.clone(),
                    message: "no truststore version is pinned; give --version".into(),
                })?;
            let versions = store.versions(&bucket, &key).await?;
            let at = versions
                .iter()
                .position(|v| v.version_id == pinned)
                .ok_or_else(|| Error::Domain {
                    domain: d.clone(),
                    message: format!("pinned version {pinned} is not among the versions of {uri}"),
                })?;
            versions
                .get(at + 1)
                .map(|v| v.version_id.clone())
                .ok_or_else(|| Error::Domain {
                    domain: d.clone(),
                    message: format!(
                        "{pinned} is the oldest version of {uri}; nothing to roll back to"
                    ),
                })?
        }
    };
    if now.truststore_version.as_deref() == Some(target.as_str()) {
        drop(spinner);
        println!("{d} already uses truststore version {target}");
        return Ok(exit::OK);
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
        exit::OK
    } else {
        exit::WARNINGS
    })
}

#[derive(Debug, serde::Serialize)]
struct StatusReport {
    domain: String,
    state: truststore::domain::DomainState,
    versions: Option<Vec<truststore::s3::Version>>,
    newer_versions: Option<usize>,
    pinned_bundle: Option<Report>,
    problems: Vec<String>,
}

async fn status(a: &StatusArgs) -> Result<u8, Error> {
    let config = mtls_common::aws_sdk_config().await;
    let domains = Domains::new(&config, a.domain.api);
    let store = Store::new(&config);
    let d = &a.domain.domain;
    let state = rotate::state(&domains, d, Pacing::default(), &rotate::Quiet).await?;
    let mut out = StatusReport {
        domain: d.clone(),
        state: state.clone(),
        versions: None,
        newer_versions: None,
        pinned_bundle: None,
        problems: Vec::new(),
    };
    if let Some(uri) = &state.truststore_uri {
        match parse_s3_uri(uri) {
            Ok((bucket, key)) => {
                match store.versions(&bucket, &key).await {
                    Ok(v) => {
                        out.newer_versions = state
                            .truststore_version
                            .as_ref()
                            .and_then(|p| v.iter().position(|x| &x.version_id == p));
                        out.versions = Some(v);
                    }
                    Err(e) => out.problems.push(format!("cannot list versions: {e}")),
                }
                match store
                    .get(&bucket, &key, state.truststore_version.as_deref())
                    .await
                {
                    Ok(bytes) => {
                        out.pinned_bundle =
                            Some(check::check_bundle(uri, &bytes, a.expiry.options()));
                    }
                    Err(e) => out
                        .problems
                        .push(format!("cannot read the pinned bundle: {e}")),
                }
            }
            Err(e) => out.problems.push(e.to_string()),
        }
    }
    let errors = out.pinned_bundle.as_ref().map_or(0, Report::errors) + out.problems.len();
    let warnings = out.pinned_bundle.as_ref().map_or(0, Report::warnings)
        + state.warnings.len()
        + usize::from(out.newer_versions.unwrap_or(0) > 0)
        + usize::from(!state.available());
    if a.json {
        print_json(&out);
    } else {
        println!("domain:      {d} ({:?} API)", a.domain.api);
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
    Ok(if errors > 0 {
        exit::ERROR
    } else if warnings > 0 {
        exit::WARNINGS
    } else {
        exit::OK
    })
}

async fn pki_cmd(command: PkiCommand) -> Result<u8, Error> {
    let now = OffsetDateTime::now_utc();
    match command {
        PkiCommand::Init {
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
            Ok(exit::OK)
        }
        PkiCommand::Issue {
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
            Ok(exit::OK)
        }
        PkiCommand::Revoke {
            target,
            dir,
            reason,
        } => {
            let p = Pki::at(&dir.dir);
            let r = p.revoke(&target, reason, now)?;
            println!(
                "revoked serial {}{} ({:?}); run `truststore pki crl --dir {}` to publish it",
                r.serial,
                r.name.map(|n| format!(" ({n})")).unwrap_or_default(),
                r.reason,
                dir.dir.display()
            );
            Ok(exit::OK)
        }
        PkiCommand::Crl { dir, hours } => {
            let p = Pki::at(&dir.dir);
            let n = p.crl(now, time::Duration::hours(i64::from(hours)))?;
            let state = p.state()?;
            println!(
                "CRL number {n}: {} revoked, next update in {hours} h",
                state.revoked.len()
            );
            println!("wrote {}", p.path(pki::files::CRL_DER).display());
            println!("wrote {}", p.path(pki::files::CRL_PEM).display());
            Ok(exit::OK)
        }
        PkiCommand::Export {
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
            Ok(exit::OK)
        }
        PkiCommand::Publish {
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
                let path = PathBuf::from(path);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(|source| Error::Io {
                        path: parent.to_owned(),
                        source,
                    })?;
                }
                // Replace atomically: a reader never sees half a CRL.
                let tmp = path.with_extension("tmp");
                std::fs::write(&tmp, &bytes).map_err(|source| Error::Io {
                    path: tmp.clone(),
                    source,
                })?;
                std::fs::rename(&tmp, &path).map_err(|source| Error::Io {
                    path: path.clone(),
                    source,
                })?;
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
            Ok(exit::OK)
        }
    }
}
