//! `gateway`: a local mutual TLS API Gateway. `gateway dev` runs the whole
//! stack with embedded defaults; `gateway serve` runs it on your files.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use gateway::apigw::{Api, Flavor};
use gateway::backend::LookAlikeHeaders;
use gateway::server::{self, Backend, CacheConfig, Gateway};
use gateway::{Error, dev, tls};
use mtls_lambda_host::{Function, Lifecycle};

#[derive(Debug, Parser)]
#[command(
    name = "gateway",
    version,
    about = "A local mutual TLS API Gateway: client certificates, the REQUEST authorizer and the Lambda proxy integration, with the real function binaries behind it"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Prepare the development stack under --dir (PKIs, truststore, CRL, config) and serve it.
    Dev(DevArgs),
    /// Serve with your own truststore, binaries and function environment.
    Serve(ServeArgs),
    /// Remove the development stack under --dir (`make reset`); refuses a directory that holds
    /// anything a stack does not.
    Reset(ResetArgs),
    /// Print the REQUEST authorizer event API Gateway would send for a client certificate
    /// (for `cargo lambda invoke --data-file`, or your own tests).
    Event(EventArgs),
}

#[derive(Debug, Args)]
struct EventArgs {
    /// The client certificate (PEM).
    #[arg(long)]
    cert: PathBuf,
    /// The request's method.
    #[arg(long, default_value = "GET")]
    method: String,
    /// The request's path.
    #[arg(long, default_value = "/whoami")]
    path: String,
    /// The stage name in ARNs and paths.
    #[arg(long, default_value = "local")]
    stage: String,
}

#[derive(Debug, Args)]
struct Common {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8443")]
    listen: SocketAddr,
    /// Processes per function (concurrent invocations).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
    instances: u16,
    /// What a function's processes do between invocations: keep running, or be frozen
    /// (SIGSTOP) until their next invocation, as Lambda freezes an execution environment
    /// (background refreshes then stall between requests, as they do on AWS).
    #[arg(long, value_enum, default_value_t = Between::Run)]
    between_invocations: Between,
    /// REQUEST authorizer result cache TTL in seconds (0: off, as the module's default).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=3600))]
    authorizer_cache_ttl: u64,
    /// The most authorizer results the cache holds; the least recently used goes first.
    #[arg(long, default_value_t = server::DEFAULT_CACHE_ENTRIES,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    authorizer_cache_max_entries: u64,
    /// Identity source for the cache; repeatable. A header is client-chosen: one client could
    /// replay another's cached Allow.
    // The default is the deployed stacks' (infra/api-gateway.json), and clap's help shows it.
    #[arg(long, default_values_t = server::default_identity_sources())]
    identity_source: Vec<String>,
    /// A route as `METHOD /path`; repeatable [default: GET /temps, POST /temps, GET /whoami;
    /// with --backend, every method and path, as the deployed module and construct route it].
    #[arg(long)]
    route: Vec<String>,
    /// The stage name in ARNs and paths.
    #[arg(long, default_value = "local")]
    stage: String,
    /// Behave as a REST API (payload 1.0 events, a Deny's reason in the 403) or an HTTP API
    /// (payload 2.0 events, simple responses, a bare 403 on Deny, 404 for an unknown route).
    #[arg(long, value_enum, default_value_t = ApiFlavor::Rest)]
    api: ApiFlavor,
    /// Send allowed requests to this HTTP service instead of the api-handler, with the verified
    /// identity as x-client-cert-* headers (http://host:port[/base]).
    #[arg(long)]
    backend: Option<String>,
    /// With --backend: what to do with a client header spelled like an identity header with `_`
    /// (or `.`, or any other non-alphanumeric) for `-` (x_client_cert_subject), which CGI, WSGI
    /// and PHP read as the real one: drop it or reject the request with 400. Either is logged.
    #[arg(long, value_enum, default_value_t = LookAlikeHeaders::Drop)]
    look_alike_headers: LookAlikeHeaders,
    /// Print a summary (decisions by reason, latency p50/p99) every this many requests; 0: never.
    #[arg(long, default_value_t = gateway::summary::DEFAULT_EVERY)]
    summary_every: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Between {
    Run,
    Freeze,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum ApiFlavor {
    Rest,
    Http,
}

fn flavor_of(api: ApiFlavor) -> Flavor {
    match api {
        ApiFlavor::Rest => Flavor::Rest,
        ApiFlavor::Http => Flavor::Http,
    }
}

#[derive(Debug, Args)]
struct ResetArgs {
    /// The stack to remove.
    #[arg(long, default_value = ".local")]
    dir: PathBuf,
}

#[derive(Debug, Args)]
struct DevArgs {
    /// Where the stack lives.
    #[arg(long, default_value = ".local")]
    dir: PathBuf,
    /// Where the built `authorizer` and `api-handler` binaries are.
    #[arg(long, default_value = "target/debug")]
    bin_dir: PathBuf,
    /// Start over: remove the stack under --dir first (new PKIs, no readings, nothing revoked).
    #[arg(long)]
    fresh: bool,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// The CA bundle clients are verified against (re-read when it changes).
    #[arg(long)]
    truststore: PathBuf,
    /// The authorizer binary.
    #[arg(long)]
    authorizer: PathBuf,
    /// The api-handler binary.
    #[arg(long)]
    api_handler: PathBuf,
    /// KEY=VALUE for the authorizer's environment; repeatable.
    #[arg(long, value_parser = key_value)]
    authorizer_env: Vec<(String, String)>,
    /// KEY=VALUE for the api-handler's environment; repeatable.
    #[arg(long, value_parser = key_value)]
    handler_env: Vec<(String, String)>,
    /// Where the server certificate is kept.
    #[arg(long, default_value = ".local/gateway")]
    state_dir: PathBuf,
    #[command(flatten)]
    common: Common,
}

fn key_value(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("{s}: use KEY=VALUE"))
}

fn routes(specs: &[String], backend: bool) -> Result<BTreeMap<String, Vec<String>>, Error> {
    let defaults = ["GET /temps", "POST /temps", "GET /whoami"];
    let greedy = format!("ANY {}", gateway::apigw::GREEDY);
    let specs: Vec<&str> = if specs.is_empty() && backend {
        vec![greedy.as_str()]
    } else if specs.is_empty() {
        defaults.to_vec()
    } else {
        specs.iter().map(String::as_str).collect()
    };
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for s in specs {
        let (m, p) = s
            .split_once(' ')
            .filter(|(m, p)| !m.is_empty() && p.starts_with('/'))
            .ok_or_else(|| Error::Setup(format!("route {s:?}: use \"METHOD /path\"")))?;
        out.entry(p.to_owned())
            .or_default()
            .push(m.to_ascii_uppercase());
    }
    Ok(out)
}

struct Plan {
    truststore: PathBuf,
    authorizer: PathBuf,
    api_handler: PathBuf,
    authorizer_env: Vec<(String, String)>,
    handler_env: Vec<(String, String)>,
    state_dir: PathBuf,
    banner: Option<dev::Stack>,
}

async fn run(plan: Plan, common: Common) -> Result<(), Error> {
    let http_backend = common
        .backend
        .as_deref()
        .map(gateway::backend::HttpBackend::parse)
        .transpose()?
        .map(|b| b.with_look_alikes(common.look_alike_headers));
    // No identity source would key every client's answer alike. Only an embedded
    // infra/api-gateway.json without cache_key_fields gives none (the flag takes a value).
    if common.authorizer_cache_ttl > 0 && common.identity_source.is_empty() {
        return Err(Error::Setup(
            "--authorizer-cache-ttl needs an --identity-source: the built-in infra/api-gateway.json names no cache_key_fields".to_owned(),
        ));
    }
    let mut binaries = vec![("authorizer", &plan.authorizer)];
    if http_backend.is_none() {
        binaries.push(("api-handler", &plan.api_handler));
    }
    for (name, bin) in binaries {
        if !bin.exists() {
            return Err(Error::Function {
                name: name.to_owned(),
                message: format!(
                    "{} not found; build it with `cargo build -p {name}`",
                    bin.display()
                ),
            });
        }
    }
    // The address first: a second `gateway dev` on the same port fails here, before it
    // starts any function, and says what to do.
    let listener = listen(common.listen).await?;
    let addr = listener.local_addr().map_err(|source| Error::Io {
        path: PathBuf::from(common.listen.to_string()),
        source,
    })?;
    let identity = Arc::new(tls::server_identity(&plan.state_dir)?);
    let ca_path = identity.ca_path.clone();
    let config = tls::watch(identity, plan.truststore.clone(), Duration::from_secs(1))?;
    let instances = usize::from(common.instances);
    let spawn_err = |name: &str| {
        let name = name.to_owned();
        move |e: std::io::Error| Error::Function {
            name,
            message: e.to_string(),
        }
    };
    let lifecycle = match common.between_invocations {
        Between::Run => Lifecycle::Warm,
        Between::Freeze => Lifecycle::Freeze,
    };
    let authorizer = Function::start_with(
        "authorizer",
        plan.authorizer,
        plan.authorizer_env,
        instances,
        lifecycle,
    )
    .await
    .map_err(spawn_err("authorizer"))?;
    let handler = match http_backend {
        Some(_) => None,
        None => Some(
            Function::start_with(
                "api-handler",
                plan.api_handler,
                plan.handler_env,
                instances,
                lifecycle,
            )
            .await
            .map_err(spawn_err("api-handler"))?,
        ),
    };
    let mut functions = vec![("authorizer", &authorizer)];
    if let Some(h) = &handler {
        functions.push(("api-handler", h));
    }
    for (name, f) in functions {
        if !f.ready(Duration::from_secs(30)).await {
            return Err(Error::Function {
                name: name.to_owned(),
                message: format!(
                    "did not start within 30 s{}",
                    f.init_error().map(|e| format!(": {e}")).unwrap_or_default()
                ),
            });
        }
    }
    let cache = (common.authorizer_cache_ttl > 0).then(|| CacheConfig {
        ttl: Duration::from_secs(common.authorizer_cache_ttl),
        max_entries: usize::try_from(common.authorizer_cache_max_entries)
            .unwrap_or(server::DEFAULT_CACHE_ENTRIES as usize),
        identity_sources: server::with_route_key(
            common.identity_source.clone(),
            flavor_of(common.api),
        ),
    });
    let api = Api {
        region: "us-east-1".into(),
        account_id: "123456789012".into(),
        api_id: "local".into(),
        stage: common.stage.clone(),
        domain_name: "localhost".into(),
        routes: routes(&common.route, common.backend.is_some())?,
        flavor: flavor_of(common.api),
    };
    tracing::info!(event = "listening", address = %addr, server_ca = %ca_path.display());
    if let Some(stack) = &plan.banner {
        let flavor = match common.api {
            ApiFlavor::Rest => {
                "a REST API (for an HTTP API: target/debug/gateway dev --api http)".to_owned()
            }
            ApiFlavor::Http => "an HTTP API (payload 2.0; a Deny is a bare 403)".to_owned(),
        };
        let backend = common.backend.as_deref().map_or_else(
            || "the api-handler".to_owned(),
            |b| format!("{b}, with the identity in x-client-cert-* headers"),
        );
        eprintln!(
            "\nmtls-authorizer local gateway on https://{addr}, as {flavor}, in front of {backend}\n\
             (Ctrl-C stops it; note: the PKIs in {} are for local development only)\n\n{}",
            stack.dir.display(),
            dev::curl_commands(
                stack,
                &format!("https://{addr}"),
                dev::Front {
                    flavor: flavor_of(common.api),
                    backend: common.backend.as_deref(),
                }
            )
        );
    }
    let backend = match (handler, http_backend) {
        (_, Some(b)) => Backend::Http(b),
        (Some(h), None) => Backend::Lambda(h),
        (None, None) => {
            return Err(Error::Setup("no backend".into()));
        }
    };
    let gateway = Arc::new(
        Gateway::new(api, authorizer, backend, cache).with_summary_every(common.summary_every),
    );
    tokio::select! {
        () = server::serve(listener, config, gateway) => Ok(()),
        signal = stop_signal() => {
            // Returning drops the functions, which stops their processes.
            tracing::info!(event = "stopping", signal);
            Ok(())
        }
    }
}

/// Binds the HTTPS address; a busy one is a setup error that names the way out.
async fn listen(address: SocketAddr) -> Result<tokio::net::TcpListener, Error> {
    tokio::net::TcpListener::bind(address)
        .await
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::AddrInUse => Error::Setup(format!(
                "{address} is in use (another `gateway dev` or `make run`?): stop it, or pass \
                 another address, e.g. --listen 127.0.0.1:{}",
                address.port().wrapping_add(1)
            )),
            _ => Error::Io {
                path: PathBuf::from(address.to_string()),
                source,
            },
        })
}

/// Ctrl-C (SIGINT) or `kill` (SIGTERM): either is a normal stop, exit 0.
async fn stop_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => tokio::select! {
            _ = tokio::signal::ctrl_c() => "SIGINT",
            _ = term.recv() => "SIGTERM",
        },
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            "SIGINT"
        }
    }
}

/// `gateway event`: the authorizer event for one request, as JSON on stdout.
fn print_event(a: &EventArgs) -> Result<(), Error> {
    let pem = std::fs::read(&a.cert).map_err(|source| Error::Io {
        path: a.cert.clone(),
        source,
    })?;
    let not_pem = |why: String| {
        Error::Setup(format!(
            "{}: not a PEM certificate: {why}",
            a.cert.display()
        ))
    };
    let der = mtls_x509::pem::find(&pem, mtls_x509::pem::CERTIFICATE)
        .map_err(|e| not_pem(e.to_string()))?
        .ok_or_else(|| not_pem("no CERTIFICATE block".into()))?;
    let cert = gateway::apigw::client_cert(&der)
        .map_err(|e| Error::Setup(format!("{}: {e}", a.cert.display())))?;
    let method = a.method.to_ascii_uppercase();
    let api = Api {
        region: "us-east-1".into(),
        account_id: "123456789012".into(),
        api_id: "local".into(),
        stage: a.stage.clone(),
        domain_name: "localhost".into(),
        routes: BTreeMap::from([(a.path.clone(), vec![method.clone()])]),
        flavor: Flavor::Rest,
    };
    let request = gateway::apigw::Request {
        method,
        path: a.path.clone(),
        query: String::new(),
        headers: vec![("Host".to_owned(), "localhost".to_owned())],
        body: Vec::new(),
        source_ip: "127.0.0.1".to_owned(),
        request_id: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef".to_owned(),
        time: time::OffsetDateTime::now_utc(),
    };
    let event = gateway::apigw::authorizer_event(&api, &request, &a.path, &cert);
    println!("{event:#}");
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    mtls_common::init_json_logging();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Dev(a) => match (if a.fresh { dev::reset(&a.dir) } else { Ok(()) })
            .and_then(|()| dev::prepare(&a.dir, time::OffsetDateTime::now_utc()))
        {
            Ok(stack) => {
                let plan = Plan {
                    truststore: stack.truststore.clone(),
                    authorizer: a.bin_dir.join("authorizer"),
                    api_handler: a.bin_dir.join("api-handler"),
                    authorizer_env: vec![
                        (
                            "AUTHORIZER_CONFIG".into(),
                            format!("file://{}", stack.authorizer_config.display()),
                        ),
                        ("RUST_LOG".into(), "info".into()),
                    ],
                    handler_env: vec![
                        ("TEMPS_DATA_DIR".into(), stack.data.display().to_string()),
                        ("RUST_LOG".into(), "info".into()),
                    ],
                    state_dir: stack.gateway.clone(),
                    banner: Some(stack),
                };
                run(plan, a.common).await
            }
            Err(e) => Err(e),
        },
        Command::Event(a) => print_event(&a),
        Command::Reset(a) => dev::reset(&a.dir).map(|()| {
            eprintln!(
                "removed {}: the next `make run` starts from a new development stack",
                a.dir.display()
            );
        }),
        Command::Serve(a) => {
            let plan = Plan {
                truststore: a.truststore,
                authorizer: a.authorizer,
                api_handler: a.api_handler,
                authorizer_env: a.authorizer_env,
                handler_env: a.handler_env,
                state_dir: a.state_dir,
                banner: None,
            };
            run(plan, a.common).await
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(event = "gateway_failed", error = %e);
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests;
