//! A development PKI in a directory: a root, an issuing CA, client
//! certificates, revocations and CRLs, PKCS#12 export, and the matching
//! `truststore.pem` and authorizer configuration. The one module of the
//! crate that does I/O: the files of its directory, and the system's
//! randomness for serials.
//!
//! **For local development and tests only.** Keys are kept unencrypted on
//! disk (mode 0600). Production CAs (AWS Private CA, your own) issue and
//! publish their own CRLs.
//!
//! Initialising the PKI and its files are here; issuing is
//! `pki/issue.rs`, revoking and the CRL `pki/crl.rs`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyIdMethod,
    KeyPair, KeyUsagePurpose, RevocationReason, SanType, SerialNumber,
};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::bundle;
use crate::cert::summarize;
use crate::error::{Error, Result};

mod crl;
mod issue;

/// Written into `pki.json` and printed by `init`, so nobody mistakes it.
pub const NOTICE: &str = "development PKI made by `truststore pki`: for local development and tests only. Its keys sit unencrypted on disk; production CAs issue and publish their own CRLs.";

/// Key algorithms the PKI can make. All are accepted by API Gateway.
///
/// `pki.json` and the command line spell it as [`KeyType::name`] does, and
/// [`KeyType::ALL`] lists every one: the `truststore` command line offers them
/// without this crate depending on clap. A unit test keeps serde's names and
/// these in step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyType {
    /// ECDSA on P-256 with SHA-256.
    EcdsaP256,
    /// ECDSA on P-384 with SHA-384.
    EcdsaP384,
    /// RSA 2048 with SHA-256.
    Rsa2048,
    /// RSA 3072 with SHA-256.
    Rsa3072,
    /// RSA 4096 with SHA-256.
    Rsa4096,
}

impl KeyType {
    /// Every key type, in the order a command line lists them.
    pub const ALL: [Self; 5] = [
        Self::EcdsaP256,
        Self::EcdsaP384,
        Self::Rsa2048,
        Self::Rsa3072,
        Self::Rsa4096,
    ];

    /// The name `pki.json` and the command line use.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::EcdsaP256 => "ecdsa-p256",
            Self::EcdsaP384 => "ecdsa-p384",
            Self::Rsa2048 => "rsa2048",
            Self::Rsa3072 => "rsa3072",
            Self::Rsa4096 => "rsa4096",
        }
    }

    /// What it makes, in a few words (a command line's help).
    #[must_use]
    pub const fn description(self) -> &'static str {
        match self {
            Self::EcdsaP256 => "ECDSA on P-256 with SHA-256",
            Self::EcdsaP384 => "ECDSA on P-384 with SHA-384",
            Self::Rsa2048 => "RSA 2048 with SHA-256",
            Self::Rsa3072 => "RSA 3072 with SHA-256",
            Self::Rsa4096 => "RSA 4096 with SHA-256",
        }
    }

    /// The key type named `name` ([`KeyType::name`]).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    fn generate(self) -> Result<KeyPair> {
        let made = match self {
            Self::EcdsaP256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256),
            Self::EcdsaP384 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384),
            Self::Rsa2048 => {
                KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
            }
            Self::Rsa3072 => {
                KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_3072)
            }
            Self::Rsa4096 => {
                KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_4096)
            }
        };
        made.map_err(Error::rcgen("generating a key"))
    }
}

/// CRL reason codes (RFC 5280 §5.3.1).
///
/// `pki.json` and the command line spell it as [`Reason::name`] does, and
/// [`Reason::ALL`] lists every one: the `truststore` command line offers them
/// without this crate depending on clap. A unit test keeps serde's names and
/// these in step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// unspecified (0).
    Unspecified,
    /// keyCompromise (1).
    KeyCompromise,
    /// cACompromise (2).
    CaCompromise,
    /// affiliationChanged (3).
    AffiliationChanged,
    /// superseded (4).
    Superseded,
    /// cessationOfOperation (5).
    CessationOfOperation,
    /// certificateHold (6).
    CertificateHold,
    /// privilegeWithdrawn (9).
    PrivilegeWithdrawn,
    /// aACompromise (10).
    AaCompromise,
}

impl Reason {
    /// Every reason a CRL entry may carry, in code order (RFC 5280 §5.3.1:
    /// 7 is not used, and removeFromCRL (8) only in delta CRLs).
    pub const ALL: [Self; 9] = [
        Self::Unspecified,
        Self::KeyCompromise,
        Self::CaCompromise,
        Self::AffiliationChanged,
        Self::Superseded,
        Self::CessationOfOperation,
        Self::CertificateHold,
        Self::PrivilegeWithdrawn,
        Self::AaCompromise,
    ];

    /// The name `pki.json` and the command line use.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Unspecified => "unspecified",
            Self::KeyCompromise => "key-compromise",
            Self::CaCompromise => "ca-compromise",
            Self::AffiliationChanged => "affiliation-changed",
            Self::Superseded => "superseded",
            Self::CessationOfOperation => "cessation-of-operation",
            Self::CertificateHold => "certificate-hold",
            Self::PrivilegeWithdrawn => "privilege-withdrawn",
            Self::AaCompromise => "aa-compromise",
        }
    }

    /// The RFC 5280 name and code (a command line's help).
    #[must_use]
    pub const fn description(self) -> &'static str {
        match self {
            Self::Unspecified => "unspecified (0)",
            Self::KeyCompromise => "keyCompromise (1)",
            Self::CaCompromise => "cACompromise (2)",
            Self::AffiliationChanged => "affiliationChanged (3)",
            Self::Superseded => "superseded (4)",
            Self::CessationOfOperation => "cessationOfOperation (5)",
            Self::CertificateHold => "certificateHold (6)",
            Self::PrivilegeWithdrawn => "privilegeWithdrawn (9)",
            Self::AaCompromise => "aACompromise (10)",
        }
    }

    /// The reason named `name` ([`Reason::name`]).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.name() == name)
    }

    /// The same reason, as the deny list spells it.
    #[must_use]
    pub(crate) fn deny_reason(self) -> mtls_policy::denylist::Reason {
        use mtls_policy::denylist::Reason as R;
        match self {
            Self::Unspecified => R::Unspecified,
            Self::KeyCompromise => R::KeyCompromise,
            Self::CaCompromise => R::CaCompromise,
            Self::AffiliationChanged => R::AffiliationChanged,
            Self::Superseded => R::Superseded,
            Self::CessationOfOperation => R::CessationOfOperation,
            Self::CertificateHold => R::CertificateHold,
            Self::PrivilegeWithdrawn => R::PrivilegeWithdrawn,
            Self::AaCompromise => R::AaCompromise,
        }
    }

    fn rcgen(self) -> RevocationReason {
        match self {
            Self::Unspecified => RevocationReason::Unspecified,
            Self::KeyCompromise => RevocationReason::KeyCompromise,
            Self::CaCompromise => RevocationReason::CaCompromise,
            Self::AffiliationChanged => RevocationReason::AffiliationChanged,
            Self::Superseded => RevocationReason::Superseded,
            Self::CessationOfOperation => RevocationReason::CessationOfOperation,
            Self::CertificateHold => RevocationReason::CertificateHold,
            Self::PrivilegeWithdrawn => RevocationReason::PrivilegeWithdrawn,
            Self::AaCompromise => RevocationReason::AaCompromise,
        }
    }
}

/// How to make the PKI.
#[derive(Clone, Debug)]
pub struct InitOptions {
    /// Organization (O) of both CAs.
    pub org: String,
    /// Country (C), if any.
    pub country: Option<String>,
    /// Root CA common name.
    pub root_cn: String,
    /// Issuing CA common name.
    pub ca_cn: String,
    /// Key type of both CAs.
    pub key_type: KeyType,
    /// Root validity in days.
    pub root_days: i64,
    /// Issuing CA validity in days.
    pub ca_days: i64,
    /// The issuer entry name in the authorizer configuration.
    pub issuer_name: String,
    /// Where the authorizer reads the CRL; default the `file://` CRL here.
    pub crl_uri: Option<String>,
    /// Where the authorizer reads the truststore; default the file here.
    pub truststore_uri: Option<String>,
    /// `crl_refresh_seconds` of the authorizer configuration.
    pub crl_refresh_seconds: u64,
    /// Replace an existing PKI.
    pub force: bool,
}

/// What to put in a client certificate.
#[derive(Clone, Debug, Default)]
pub struct IssueOptions {
    /// Common name; default the certificate's name.
    pub cn: Option<String>,
    /// Organizational units.
    pub ou: Vec<String>,
    /// SANs: `dns:`, `uri:`, `email:` or `ip:` prefixed.
    pub sans: Vec<String>,
    /// Key type; default the CA's.
    pub key_type: Option<KeyType>,
    /// Validity in days from now.
    pub days: i64,
    /// Explicit start of validity.
    pub not_before: Option<OffsetDateTime>,
    /// Explicit end of validity.
    pub not_after: Option<OffsetDateTime>,
    /// Explicit serial number (hex); default 20 random octets.
    pub serial_hex: Option<String>,
    /// A CSR (PEM) to sign instead of making a key.
    pub csr_pem: Option<String>,
}

/// A client certificate the PKI issued.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Client {
    /// Its name (file stem under `clients/`).
    pub(crate) name: String,
    /// Serial, lowercase hex.
    pub serial: String,
    /// Subject DN.
    pub subject: String,
    /// notAfter, RFC 3339.
    pub(crate) not_after: String,
    /// Whether the key was made here (false when a CSR was signed).
    pub has_key: bool,
}

/// A revocation.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Revocation {
    /// Serial, lowercase hex.
    pub serial: String,
    /// The client's name, when the PKI issued it.
    pub name: Option<String>,
    /// RFC 3339.
    pub(crate) revoked_at: String,
    /// The reason.
    pub reason: Reason,
}

/// `pki.json`: what the PKI has done.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct State {
    /// [`NOTICE`].
    pub(crate) notice: String,
    /// Key type of the CAs.
    pub(crate) key_type: KeyType,
    /// Organization.
    pub(crate) org: String,
    /// Issuing CA subject.
    pub ca_subject: String,
    /// The number of the last CRL made (0 before the first).
    pub(crate) crl_number: u64,
    /// Issued client certificates, by name.
    pub(crate) clients: BTreeMap<String, Client>,
    /// Revocations, in order.
    pub revoked: Vec<Revocation>,
}

/// A PKI directory.
#[derive(Debug)]
pub struct Pki {
    dir: PathBuf,
}

/// File names inside the PKI directory.
pub mod files {
    /// State.
    pub const STATE: &str = "pki.json";
    /// Root CA certificate.
    pub(crate) const ROOT_CERT: &str = "root.pem";
    /// Root CA key.
    pub(crate) const ROOT_KEY: &str = "root.key";
    /// Issuing CA certificate.
    pub(crate) const CA_CERT: &str = "ca.pem";
    /// Issuing CA key.
    pub(crate) const CA_KEY: &str = "ca.key";
    /// The bundle for API Gateway: issuing CA and root.
    pub const TRUSTSTORE: &str = "truststore.pem";
    /// The latest CRL, DER.
    pub const CRL_DER: &str = "crl.der";
    /// The latest CRL, PEM.
    pub const CRL_PEM: &str = "crl.pem";
    /// The authorizer configuration.
    pub const AUTHORIZER_CONFIG: &str = "authorizer.json";
    /// Client certificates and keys.
    pub const CLIENTS: &str = "clients";
    /// The deny list `pki revoke --now` writes by default (made empty by
    /// `init`), for the authorizer's `deny_list`.
    pub const DENY_LIST: &str = "deny.json";
}

fn random_serial() -> Result<Vec<u8>> {
    let mut s = [0u8; 20];
    getrandom::fill(&mut s).map_err(|source| Error::Randomness { source })?;
    // Positive, and exactly 20 octets (RFC 5280 §4.1.2.2): the longest
    // conforming serial, the case most likely to trip a careless parser.
    if let Some(first) = s.first_mut() {
        *first = (*first & 0x7f) | 0x40;
    }
    Ok(s.to_vec())
}

fn dn(parts: &[(DnType, &str)]) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    for (t, v) in parts {
        name.push(t.clone(), *v);
    }
    name
}

fn ca_params(
    subject: DistinguishedName,
    not_before: OffsetDateTime,
    days: i64,
    path_len: Option<u8>,
) -> Result<CertificateParams> {
    let mut p = CertificateParams::new(Vec::<String>::new()).map_err(Error::rcgen("CA"))?;
    p.distinguished_name = subject;
    p.is_ca = IsCa::Ca(path_len.map_or(
        BasicConstraints::Unconstrained,
        BasicConstraints::Constrained,
    ));
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.not_before = not_before;
    p.not_after = not_before + Duration::days(days);
    p.serial_number = Some(SerialNumber::from_slice(&random_serial()?));
    p.key_identifier_method = KeyIdMethod::Sha256;
    p.use_authority_key_identifier_extension = true;
    Ok(p)
}

fn parse_san(s: &str) -> Result<SanType> {
    let bad = || Error::San { san: s.to_owned() };
    let (kind, value) = s.split_once(':').ok_or_else(bad)?;
    let text = |v: &str| v.to_owned().try_into().map_err(|_| bad());
    Ok(match kind {
        "dns" => SanType::DnsName(text(value)?),
        "uri" => SanType::URI(text(value)?),
        "email" => SanType::Rfc822Name(text(value)?),
        "ip" => SanType::IpAddress(value.parse().map_err(|_| bad())?),
        _ => return Err(bad()),
    })
}

fn valid_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !name.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(Error::CertificateName {
            name: name.to_owned(),
        })
    }
}

fn write_file(path: &Path, bytes: &[u8], secret: bool) -> Result<()> {
    let tmp = path.with_extension("tmp");
    {
        use std::io::Write as _;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        if secret {
            use std::os::unix::fs::OpenOptionsExt as _;
            opts.mode(0o600);
        }
        #[cfg(not(unix))]
        let _ = secret;
        let mut f = opts.open(&tmp).map_err(Error::io(&tmp))?;
        f.write_all(bytes).map_err(Error::io(&tmp))?;
        f.sync_all().map_err(Error::io(&tmp))?;
    }
    std::fs::rename(&tmp, path).map_err(Error::io(path))
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(Error::io(path))
}

fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).map_err(Error::io(path))
}

fn file_uri(path: &Path) -> Result<String> {
    Ok(format!("file://{}", absolute(path)?.display()))
}

/// Hex serial (colons and spaces allowed) to bytes; leading zero octets of a
/// positive number are kept as written.
///
/// # Errors
/// [`Error::Serial`] for anything that is not 1 to 20 octets of hex.
pub(crate) fn parse_serial(text: &str) -> Result<Vec<u8>> {
    let clean: String = text
        .chars()
        .filter(|c| !matches!(c, ':' | ' '))
        .collect::<String>()
        .to_ascii_lowercase();
    let clean = clean.strip_prefix("0x").unwrap_or(&clean).to_owned();
    let padded = if clean.len() % 2 == 1 {
        format!("0{clean}")
    } else {
        clean
    };
    match hex::decode(&padded) {
        Ok(b) if !b.is_empty() && b.len() <= 20 => Ok(b),
        _ => Err(Error::Serial {
            text: text.to_owned(),
        }),
    }
}

impl Pki {
    /// The PKI in `dir` (which may not exist yet).
    #[must_use]
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// A file in it.
    #[must_use]
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The default deny list of `pki revoke --now`: `file://` and the
    /// absolute path of [`files::DENY_LIST`] here.
    ///
    /// # Errors
    /// The directory's absolute path cannot be found.
    pub fn deny_list_uri(&self) -> Result<String> {
        file_uri(&self.path(files::DENY_LIST))
    }

    /// A client's certificate, key or PKCS#12 file.
    #[must_use]
    pub fn client_path(&self, name: &str, ext: &str) -> PathBuf {
        self.dir.join(files::CLIENTS).join(format!("{name}.{ext}"))
    }

    /// Reads `pki.json`.
    ///
    /// # Errors
    /// No PKI here, or an unreadable state file.
    pub fn state(&self) -> Result<State> {
        let path = self.path(files::STATE);
        if !path.exists() {
            return Err(Error::NoPki {
                dir: self.dir.clone(),
            });
        }
        serde_json::from_str(&read_text(&path)?).map_err(|source| Error::State { path, source })
    }

    fn save(&self, state: &State) -> Result<()> {
        let text = serde_json::to_string_pretty(state).map_err(|source| Error::Encode {
            what: "state",
            source,
        })?;
        write_file(&self.path(files::STATE), text.as_bytes(), false)
    }

    fn issuer(&self) -> Result<Issuer<'static, KeyPair>> {
        let key = KeyPair::from_pem(&read_text(&self.path(files::CA_KEY))?)
            .map_err(Error::rcgen("reading ca.key"))?;
        Issuer::from_ca_cert_pem(&read_text(&self.path(files::CA_CERT))?, key)
            .map_err(Error::rcgen("reading ca.pem"))
    }

    /// Makes the root and issuing CA, `truststore.pem`, an empty CRL and the
    /// authorizer configuration.
    ///
    /// # Errors
    /// An existing PKI without `force`, or an I/O or generation failure.
    pub fn init(&self, opts: &InitOptions, now: OffsetDateTime) -> Result<State> {
        if self.path(files::STATE).exists() && !opts.force {
            return Err(Error::Exists {
                dir: self.dir.clone(),
            });
        }
        let clients = self.dir.join(files::CLIENTS);
        std::fs::create_dir_all(&clients).map_err(Error::io(clients))?;
        let start = now - Duration::hours(1);
        let mut base: Vec<(DnType, &str)> = Vec::new();
        if let Some(c) = &opts.country {
            base.push((DnType::CountryName, c));
        }
        base.push((DnType::OrganizationName, &opts.org));
        let named = |cn: &str| {
            let mut parts = base.clone();
            parts.push((DnType::CommonName, cn));
            dn(&parts)
        };

        let root_key = opts.key_type.generate()?;
        let root_params = ca_params(named(&opts.root_cn), start, opts.root_days, Some(1))?;
        let root = root_params
            .self_signed(&root_key)
            .map_err(Error::rcgen("root CA"))?;
        let root_issuer = Issuer::new(root_params, &root_key);

        let ca_key = opts.key_type.generate()?;
        let ca_days = opts.ca_days.min(opts.root_days);
        let ca = ca_params(named(&opts.ca_cn), start, ca_days, Some(0))?
            .signed_by(&ca_key, &root_issuer)
            .map_err(Error::rcgen("issuing CA"))?;

        write_file(
            &self.path(files::ROOT_KEY),
            root_key.serialize_pem().as_bytes(),
            true,
        )?;
        write_file(&self.path(files::ROOT_CERT), root.pem().as_bytes(), false)?;
        write_file(
            &self.path(files::CA_KEY),
            ca_key.serialize_pem().as_bytes(),
            true,
        )?;
        write_file(&self.path(files::CA_CERT), ca.pem().as_bytes(), false)?;

        let summaries = [
            summarize(files::CA_CERT, ca.der())
                .map_err(Error::in_file(self.path(files::CA_CERT)))?,
            summarize(files::ROOT_CERT, root.der())
                .map_err(Error::in_file(self.path(files::ROOT_CERT)))?,
        ];
        write_file(
            &self.path(files::TRUSTSTORE),
            bundle::assemble(&summaries).as_bytes(),
            false,
        )?;

        let state = State {
            notice: NOTICE.to_owned(),
            key_type: opts.key_type,
            org: opts.org.clone(),
            ca_subject: summaries[0].subject.clone(),
            crl_number: 0,
            clients: BTreeMap::new(),
            revoked: Vec::new(),
        };
        self.save(&state)?;
        // An existing list is kept, even with --force: its entries name the
        // old CA's key and block nothing new, and a running authorizer
        // refuses a list whose sequence went back to 0.
        let deny = self.path(files::DENY_LIST);
        if !deny.exists() {
            write_file(
                &deny,
                mtls_policy::denylist::Document::empty()
                    .to_json()
                    .as_bytes(),
                false,
            )?;
        }
        self.write_authorizer_config(opts)?;
        self.crl(now, Duration::days(7))?;
        self.state()
    }

    fn write_authorizer_config(&self, opts: &InitOptions) -> Result<()> {
        let crl = match &opts.crl_uri {
            Some(u) => u.clone(),
            None => file_uri(&self.path(files::CRL_DER))?,
        };
        let truststore = match &opts.truststore_uri {
            Some(u) => u.clone(),
            None => file_uri(&self.path(files::TRUSTSTORE))?,
        };
        let mut matcher = serde_json::Map::new();
        if let Some(c) = &opts.country {
            matcher.insert("C".into(), c.clone().into());
        }
        matcher.insert("O".into(), opts.org.clone().into());
        matcher.insert("CN".into(), opts.ca_cn.clone().into());
        let config = serde_json::json!({
            "truststore": truststore,
            "issuers": [{ "name": opts.issuer_name, "match": matcher, "crl": crl }],
            "crl_refresh_seconds": opts.crl_refresh_seconds,
            "crl_retry_seconds": opts.crl_refresh_seconds.clamp(1, 30),
            "truststore_refresh_seconds": opts.crl_refresh_seconds,
        });
        let text = serde_json::to_string_pretty(&config).map_err(|source| Error::Encode {
            what: "authorizer config",
            source,
        })?;
        // The file is only useful if the authorizer accepts it.
        mtls_policy::config::Config::from_json(&text)
            .map_err(|source| Error::ConfigRefused { source })?;
        write_file(&self.path(files::AUTHORIZER_CONFIG), text.as_bytes(), false)
    }

    /// A client's certificate, key and CA chain as PKCS#12, protected by
    /// `password`. `legacy` uses 3DES and SHA-1 MAC for older iOS, macOS and
    /// Windows; the default is AES-256 with an HMAC-SHA-256 MAC.
    ///
    /// # Errors
    /// An unknown client, one without a key here, or an encoding failure.
    pub fn export(&self, name: &str, password: &str, legacy: bool) -> Result<Vec<u8>> {
        use p12_keystore::{
            Certificate, EncryptionAlgorithm, KeyStore, KeyStoreEntry, MacAlgorithm, PrivateKey,
            PrivateKeyChain,
        };
        let state = self.state()?;
        let client = state
            .clients
            .get(name)
            .ok_or_else(|| Error::UnknownClient {
                name: name.to_owned(),
            })?;
        if !client.has_key {
            return Err(Error::NoKey {
                name: name.to_owned(),
            });
        }
        let p12 = |source| Error::Pkcs12 { source };
        let chain = [
            certificate_der(&self.client_path(name, "pem"))?,
            certificate_der(&self.path(files::CA_CERT))?,
            certificate_der(&self.path(files::ROOT_CERT))?,
        ]
        .iter()
        .map(|d| Certificate::from_der(d).map_err(p12))
        .collect::<Result<Vec<_>>>()?;
        let key_pem = read_text(&self.client_path(name, "key"))?;
        let key = KeyPair::from_pem(&key_pem).map_err(Error::rcgen("reading the client key"))?;
        let key = PrivateKey::from_der(&key.serialize_der()).map_err(p12)?;
        let local_id = hex::decode(&client.serial).unwrap_or_default();
        let mut store = KeyStore::new();
        store.add_entry(
            name,
            KeyStoreEntry::PrivateKeyChain(PrivateKeyChain::new(local_id, key, chain)),
        );
        let writer = store.writer(password);
        let writer = if legacy {
            writer
                .encryption_algorithm(EncryptionAlgorithm::PbeWithShaAnd3KeyTripleDesCbc)
                .mac_algorithm(MacAlgorithm::HmacSha1)
        } else {
            writer
                .encryption_algorithm(EncryptionAlgorithm::PbeWithHmacSha256AndAes256)
                .mac_algorithm(MacAlgorithm::HmacSha256)
        };
        writer.write().map_err(p12)
    }
}

/// The DER of the first certificate in the PEM file at `path`.
fn certificate_der(path: &Path) -> Result<Vec<u8>> {
    let text = read_text(path)?;
    mtls_x509::pem::find(text.as_bytes(), mtls_x509::pem::CERTIFICATE)
        .map_err(|e| Error::in_file(path)(Error::Pem(e)))?
        .ok_or_else(|| Error::NoCertificate {
            path: path.to_owned(),
        })
}

/// Writes `bytes` to `path` as a CRL publisher must: the directories made,
/// and the file replaced atomically (written aside, then renamed), so a
/// reader never sees half a CRL.
///
/// # Errors
/// The directory, the write or the rename failed.
pub fn publish_to_file(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(Error::io(parent))?;
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(Error::io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(Error::io(path))
}

#[cfg(test)]
mod tests;
