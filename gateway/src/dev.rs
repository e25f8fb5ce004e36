//! The development stack behind `gateway dev` (and `make run`): development
//! PKIs made with [`mtls_pki::pki`] (the PKI `truststore pki` runs), a
//! combined truststore, a `file://` CRL refreshed every few seconds, and the
//! authorizer configuration. Made once; later runs reuse it, in whatever
//! state the previous run left it (a revoked device stays revoked): [`reset`]
//! starts over.

use std::path::{Path, PathBuf};

use mtls_pki::pki::{self, InitOptions, IssueOptions, KeyType, Pki, Reason};
use time::OffsetDateTime;

use crate::apigw::Flavor;
use crate::error::{Error, Result};

/// The 20-octet serial of the good device; the revoked one differs only in
/// its last octet, which is what a float-based comparison gets wrong.
pub const GOOD_SERIAL: &str = "805a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a11";
/// The revoked neighbour.
pub const REVOKED_SERIAL: &str = "805a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a10";
/// How often the authorizer re-checks the CRL and the truststore.
pub const REFRESH_SECONDS: u64 = 5;
/// How often the authorizer re-checks the deny list: "revoke now" acts
/// within about this long.
pub(crate) const DENY_LIST_REFRESH_SECONDS: u64 = 1;

/// Where the stack's files are.
#[derive(Debug, Clone)]
pub struct Stack {
    /// The base directory (`.local`).
    pub dir: PathBuf,
    /// The PKI whose CA the policy allows.
    pub devices: PathBuf,
    /// A PKI whose CA is in the truststore but not in the policy.
    pub other: PathBuf,
    /// The operators' PKI: its CA's entry (`operators`) may only read
    /// (`GET /temps`, `GET /whoami`), to show per-route rules.
    pub ops: PathBuf,
    /// The combined truststore.
    pub truststore: PathBuf,
    /// The authorizer configuration.
    pub authorizer_config: PathBuf,
    /// The operator deny list.
    pub deny_list: PathBuf,
    /// The api-handler's data directory.
    pub data: PathBuf,
    /// The gateway's own files (server certificate).
    pub gateway: PathBuf,
}

fn setup(what: &'static str) -> impl FnOnce(mtls_pki::Error) -> Error {
    move |source| Error::Pki { what, source }
}

fn issue(p: &Pki, name: &str, serial: Option<&str>, now: OffsetDateTime) -> Result<()> {
    if p.client_path(name, "pem").exists() {
        return Ok(());
    }
    let opts = IssueOptions {
        days: 365,
        serial_hex: serial.map(str::to_owned),
        ..IssueOptions::default()
    };
    p.issue(name, &opts, now)
        .map(|_| ())
        .map_err(setup("issuing a client certificate"))
}

/// What a stack directory may hold: everything [`prepare`] and the gateway
/// write, and nothing else, so [`reset`] never deletes a directory that is
/// not a stack.
const STACK_ENTRIES: [&str; 6] = [
    "pki",
    "pki-other",
    "pki-ops",
    "truststore.pem",
    "api-handler",
    "gateway",
];

/// Removes the stack under `dir` (`gateway dev --fresh`, `make reset`), so
/// the next [`prepare`] starts from new PKIs, an empty readings store, and
/// the good device not revoked.
///
/// # Errors
/// `dir` holds something a stack does not (it is left alone), or removing
/// failed.
pub fn reset(dir: &Path) -> Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(Error::Io {
                path: dir.to_owned(),
                source,
            });
        }
    };
    for entry in entries {
        let entry = entry.map_err(|source| Error::Io {
            path: dir.to_owned(),
            source,
        })?;
        let name = entry.file_name();
        if !STACK_ENTRIES.iter().any(|known| name == *known) {
            return Err(Error::Setup(format!(
                "{} holds {:?}, which is not part of a development stack: not removing it",
                dir.display(),
                name
            )));
        }
    }
    std::fs::remove_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_owned(),
        source,
    })
}

/// Whether the good device was revoked, by the README's revoke step in an
/// earlier run.
#[must_use]
pub fn good_is_revoked(stack: &Stack) -> bool {
    Pki::at(&stack.devices).state().is_ok_and(|state| {
        state
            .revoked
            .iter()
            .any(|r| r.name.as_deref() == Some("good"))
    })
}

/// Makes whatever is missing of the stack under `dir`.
///
/// # Errors
/// A PKI or file operation failed.
pub fn prepare(dir: &Path, now: OffsetDateTime) -> Result<Stack> {
    let dir = std::path::absolute(dir).map_err(|source| Error::Io {
        path: dir.to_owned(),
        source,
    })?;
    let stack = Stack {
        devices: dir.join("pki"),
        other: dir.join("pki-other"),
        ops: dir.join("pki-ops"),
        truststore: dir.join("truststore.pem"),
        authorizer_config: dir.join("pki").join(pki::files::AUTHORIZER_CONFIG),
        // Where `truststore pki revoke --now` writes by default.
        deny_list: dir.join("pki").join(pki::files::DENY_LIST),
        data: dir.join("api-handler"),
        gateway: dir.join("gateway"),
        dir,
    };
    let init = |org: &str, ca_cn: &str| InitOptions {
        org: org.to_owned(),
        country: None,
        root_cn: format!("{org} Root CA"),
        ca_cn: ca_cn.to_owned(),
        key_type: KeyType::EcdsaP256,
        root_days: 3650,
        ca_days: 1825,
        issuer_name: "devices".to_owned(),
        crl_uri: None,
        truststore_uri: Some(format!("file://{}", stack.truststore.display())),
        crl_refresh_seconds: REFRESH_SECONDS,
        force: false,
    };
    let devices = Pki::at(&stack.devices);
    if !devices.path(pki::files::STATE).exists() {
        devices
            .init(
                &init("Temperature Testers", "Temperature Testers Devices CA"),
                now,
            )
            .map_err(setup("devices PKI"))?;
    }
    issue(&devices, "good", Some(GOOD_SERIAL), now)?;
    if !devices.client_path("revoked", "pem").exists() {
        issue(&devices, "revoked", Some(REVOKED_SERIAL), now)?;
        devices
            .revoke("revoked", Reason::KeyCompromise, now)
            .map_err(setup("revoking"))?;
        devices
            .crl(now, time::Duration::days(7))
            .map_err(setup("CRL"))?;
    }
    with_deny_list(&stack)?;
    let other = Pki::at(&stack.other);
    if !other.path(pki::files::STATE).exists() {
        other
            .init(&init("Someone Else", "Someone Else Issuing CA"), now)
            .map_err(setup("second PKI"))?;
    }
    issue(&other, "wrong-issuer", None, now)?;
    let ops = Pki::at(&stack.ops);
    // A stack made before the operators' PKI gains it, and its CA joins the
    // truststore.
    let new_ops = !ops.path(pki::files::STATE).exists();
    if new_ops {
        ops.init(&init("Temperature Testers", OPS_CA_CN), now)
            .map_err(setup("operators' PKI"))?;
    }
    issue(&ops, "operator", None, now)?;
    with_operators(&stack)?;
    if new_ops || !stack.truststore.exists() {
        let mut certs = Vec::new();
        for p in [&devices, &other, &ops] {
            let path = p.path(pki::files::TRUSTSTORE);
            let bytes = std::fs::read(&path).map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
            let (mut c, _) =
                mtls_pki::check::read_certificates(&path.display().to_string(), &bytes);
            certs.append(&mut c);
        }
        std::fs::write(&stack.truststore, mtls_pki::bundle::assemble(&certs)).map_err(
            |source| Error::Io {
                path: stack.truststore.clone(),
                source,
            },
        )?;
    }
    Ok(stack)
}

/// The operators' CA's common name.
pub(crate) const OPS_CA_CN: &str = "Temperature Testers Operators CA";

/// Gives the authorizer configuration an `operators` entry for the
/// operators' CA, with per-route rules: its certificates may read
/// (`GET /temps`, `GET /whoami`) and not write.
fn with_operators(stack: &Stack) -> Result<()> {
    let path = &stack.authorizer_config;
    let io = |source| Error::Io {
        path: path.clone(),
        source,
    };
    let text = std::fs::read_to_string(path).map_err(io)?;
    let mut config: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::Setup(format!("{}: {e}", path.display())))?;
    let Some(issuers) = config
        .get_mut("issuers")
        .and_then(serde_json::Value::as_array_mut)
    else {
        return Err(Error::Setup(format!("{}: no issuers", path.display())));
    };
    if issuers.iter().any(|i| i["name"] == "operators") {
        return Ok(());
    }
    let crl = format!(
        "file://{}",
        Pki::at(&stack.ops).path(pki::files::CRL_DER).display()
    );
    issuers.push(serde_json::json!({
        "name": "operators",
        "match": {"O": "Temperature Testers", "CN": OPS_CA_CN},
        "crl": crl,
        "routes": [
            {"method": "GET", "path": "/temps"},
            {"method": "GET", "path": "/whoami"}
        ]
    }));
    let text = serde_json::to_string_pretty(&config)
        .map_err(|e| Error::Setup(format!("{}: {e}", path.display())))?;
    mtls_policy::config::Config::from_json(&text)
        .map_err(|e| Error::Setup(format!("{}: {e}", path.display())))?;
    std::fs::write(path, text + "\n").map_err(io)
}

/// Gives the stack an operator deny list: an empty one if there is none
/// yet, and the authorizer configuration's `deny_list` pointing at it,
/// re-checked every [`DENY_LIST_REFRESH_SECONDS`]. A stack made before the
/// deny list existed gains it on its next run.
fn with_deny_list(stack: &Stack) -> Result<()> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::Io { path, source }
    };
    if !stack.deny_list.exists() {
        let empty = mtls_policy::denylist::Document::empty().to_json();
        std::fs::write(&stack.deny_list, empty).map_err(io(&stack.deny_list))?;
    }
    let path = &stack.authorizer_config;
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    let mut config: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text)
        .map_err(|e| Error::Setup(format!("{}: {e}", path.display())))?;
    let uri = serde_json::Value::from(format!("file://{}", stack.deny_list.display()));
    if config.get("deny_list") == Some(&uri) {
        return Ok(());
    }
    config.insert("deny_list".into(), uri);
    config.insert(
        "deny_list_refresh_seconds".into(),
        DENY_LIST_REFRESH_SECONDS.into(),
    );
    let text = serde_json::to_string_pretty(&config)
        .map_err(|e| Error::Setup(format!("{}: {e}", path.display())))?;
    std::fs::write(path, text + "\n").map_err(io(path))
}

/// What the banner's commands go through: the API type and the integration,
/// which decide what a Deny and an Allow look like.
#[derive(Clone, Copy, Debug)]
pub struct Front<'a> {
    /// A REST API's Deny carries the reason; an HTTP API's is a bare 403.
    pub flavor: Flavor,
    /// `--backend`: the user's HTTP service answers allowed requests, not the api-handler.
    pub backend: Option<&'a str>,
}

impl Front<'_> {
    /// The body of a 403 for `reason`, as this API type answers it.
    fn deny(&self, reason: &str) -> String {
        match self.flavor {
            Flavor::Rest => format!("403 {{\"message\":\"Forbidden\",\"reason\":\"{reason}\"}}"),
            Flavor::Http => "403 {\"message\":\"Forbidden\"} (an HTTP API does not say why: \
                             the access log and the decision log do)"
                .to_owned(),
        }
    }
}

/// Copy-paste curl commands for the stack's clients, each with the answer
/// it gets through `front`.
#[must_use]
pub fn curl_commands(stack: &Stack, base: &str, front: Front<'_>) -> String {
    let rel = |p: &Path| {
        std::env::current_dir()
            .ok()
            .and_then(|cwd| p.strip_prefix(cwd).ok().map(Path::to_path_buf))
            .unwrap_or_else(|| p.to_path_buf())
            .display()
            .to_string()
    };
    let ca = rel(&stack.gateway.join("server-ca.pem"));
    let client = |pki: &Path, name: &str| {
        let c = rel(&pki.join(pki::files::CLIENTS).join(name));
        format!("--cert {c}.pem --key {c}.key")
    };
    let good = client(&stack.devices, "good");
    // `-w` prints the status after the body, as the notes say.
    let status = "-w ' %{http_code}\\n'";
    let post = format!(
        "curl --cacert {ca} {good} {status} -H 'content-type: application/json' \\\n     -d \"{{\\\"temperature\\\": 21.5, \\\"time\\\": \\\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\\\"}}\" {base}/temps"
    );
    let (good_note, revoke_step) = if good_is_revoked(stack) {
        // The deny list is checked before the CRL, so a device on both
        // is refused as deny-listed.
        let listed = std::fs::read(&stack.deny_list)
            .ok()
            .and_then(|b| mtls_policy::denylist::Document::from_json(&b).ok())
            .is_some_and(|d| !d.entries.is_empty());
        (
            format!(
                "# the good device was revoked in an earlier run (with `truststore pki revoke`), so these\n\
                 # answer {}: `make reset` (or `gateway dev --fresh`) starts over\n",
                front.deny(if listed { "deny_listed" } else { "revoked" })
            ),
            String::new(),
        )
    } else {
        (
            match front.backend {
                None => "# a good device: 201 on the POST, then 200 with its readings and its identity\n"
                    .to_owned(),
                Some(b) => format!(
                    "# a good device: whatever {b} answers; it receives the verified identity as x-client-cert-* headers\n"
                ),
            },
            format!(
                "\n# revoke the good device now: it goes on the deny list (re-read every {DENY_LIST_REFRESH_SECONDS} s) and on the CA's next CRL;\n\
                 # the next request, about a second later, answers {}\n\
                 target/debug/truststore pki revoke good --dir {} --now && target/debug/truststore pki crl --dir {}\n\
                 # or block it without the CA (what `make reset` undoes too):\n\
                 # target/debug/truststore deny add --cert {}.pem --list file://{}\n",
                front.deny("deny_listed"),
                rel(&stack.devices),
                rel(&stack.devices),
                rel(&stack.devices.join(pki::files::CLIENTS).join("good")),
                stack.deny_list.display(),
            ),
        )
    };
    let no_route = match (front.flavor, front.backend) {
        // With a backend every method and path is routed (`ANY /{proxy+}`, `$default`).
        (_, Some(_)) => String::new(),
        (Flavor::Rest, None) => format!(
            "# a path or method the API does not have: 403 {{\"message\":\"Missing Authentication Token\"}}, as API Gateway answers\n\
             curl --cacert {ca} {good} {status} {base}/nope\n\n"
        ),
        (Flavor::Http, None) => format!(
            "# a path or method the API does not have: 404 {{\"message\":\"Not Found\"}}, as an HTTP API answers\n\
             curl --cacert {ca} {good} {status} {base}/nope\n\n"
        ),
    };
    format!(
        "{good_note}{post}\ncurl --cacert {ca} {good} {status} {base}/temps\ncurl --cacert {ca} {good} {status} {base}/whoami\n\n\
         # a revoked device: {}\ncurl --cacert {ca} {} {status} {base}/whoami\n\n\
         # a device of a CA the truststore has but the policy does not allow: {}\ncurl --cacert {ca} {} {status} {base}/whoami\n\n\
         # an operator may read (GET /temps, GET /whoami) but not write: its POST answers {}\n\
         curl --cacert {ca} {} {status} -X POST -H 'content-type: application/json' -d '{{}}' {base}/temps\n\n\
         {no_route}\
         # no client certificate: refused in the TLS handshake\ncurl --cacert {ca} {base}/whoami\n{revoke_step}",
        front.deny("revoked"),
        client(&stack.devices, "revoked"),
        front.deny("issuer_not_allowed"),
        client(&stack.other, "wrong-issuer"),
        front.deny("route_not_allowed"),
        client(&stack.ops, "operator"),
    )
}

#[cfg(test)]
mod tests;
