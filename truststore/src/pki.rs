//! A development PKI in a directory: a root, an issuing CA, client
//! certificates, revocations and CRLs, PKCS#12 export, and the matching
//! `truststore.pem` and authorizer configuration.
//!
//! **For local development and tests only.** Keys are kept unencrypted on
//! disk (mode 0600). Production CAs (AWS Private CA, your own) issue and
//! publish their own CRLs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams,
    CertificateSigningRequestParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, RevocationReason, RevokedCertParams, SanType,
    SerialNumber,
};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::bundle;
use crate::check::rfc3339;
use crate::error::{Error, Result};

/// Written into `pki.json` and printed by `init`, so nobody mistakes it.
pub const NOTICE: &str = "development PKI made by `truststore pki`: for local development and tests only. Its keys sit unencrypted on disk; production CAs issue and publish their own CRLs.";

/// Key algorithms the PKI can make. All are accepted by API Gateway.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
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
    pub name: String,
    /// Serial, lowercase hex.
    pub serial: String,
    /// Subject DN.
    pub subject: String,
    /// notAfter, RFC 3339.
    pub not_after: String,
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
    pub revoked_at: String,
    /// The reason.
    pub reason: Reason,
}

/// `pki.json`: what the PKI has done.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct State {
    /// [`NOTICE`].
    pub notice: String,
    /// Key type of the CAs.
    pub key_type: KeyType,
    /// Organization.
    pub org: String,
    /// Issuing CA subject.
    pub ca_subject: String,
    /// The number of the last CRL made (0 before the first).
    pub crl_number: u64,
    /// Issued client certificates, by name.
    pub clients: BTreeMap<String, Client>,
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
    pub const ROOT_CERT: &str = "root.pem";
    /// Root CA key.
    pub const ROOT_KEY: &str = "root.key";
    /// Issuing CA certificate.
    pub const CA_CERT: &str = "ca.pem";
    /// Issuing CA key.
    pub const CA_KEY: &str = "ca.key";
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
}

fn random_serial() -> Result<Vec<u8>> {
    let mut s = [0u8; 20];
    getrandom::fill(&mut s).map_err(|e| Error::Pki(format!("no randomness: {e}")))?;
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
    let bad = || {
        Error::Usage(format!(
            "SAN {s:?}: use dns:NAME, uri:URI, email:ADDRESS or ip:ADDRESS"
        ))
    };
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
        Err(Error::Usage(format!(
            "certificate name {name:?}: use letters, digits, '-', '_' and '.' (it names files)"
        )))
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
/// [`Error::Usage`] for anything that is not hex.
pub fn parse_serial(text: &str) -> Result<Vec<u8>> {
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
        _ => Err(Error::Usage(format!(
            "serial {text:?}: give 1 to 20 octets of hex, e.g. 4f:1a:…"
        ))),
    }
}

impl Pki {
    /// The PKI in `dir` (which may not exist yet).
    #[must_use]
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// Its directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A file in it.
    #[must_use]
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
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
            return Err(Error::Pki(format!(
                "no PKI in {}; make one with `truststore pki init --dir {}`",
                self.dir.display(),
                self.dir.display()
            )));
        }
        serde_json::from_str(&read_text(&path)?)
            .map_err(|e| Error::Pki(format!("{}: {e}", path.display())))
    }

    fn save(&self, state: &State) -> Result<()> {
        let text =
            serde_json::to_string_pretty(state).map_err(|e| Error::Pki(format!("state: {e}")))?;
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
            return Err(Error::Pki(format!(
                "{} already holds a PKI; use --force to replace it (every issued certificate stops working)",
                self.dir.display()
            )));
        }
        std::fs::create_dir_all(self.dir.join(files::CLIENTS)).map_err(Error::io(&self.dir))?;
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
            crate::cert::summarize("ca.pem", ca.der()).map_err(Error::Pki)?,
            crate::cert::summarize("root.pem", root.der()).map_err(Error::Pki)?,
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
        let text = serde_json::to_string_pretty(&config)
            .map_err(|e| Error::Pki(format!("authorizer config: {e}")))?;
        // The file is only useful if the authorizer accepts it.
        mtls_x509::config::Config::from_json(&text)
            .map_err(|e| Error::Pki(format!("the authorizer refuses the generated config: {e}")))?;
        write_file(&self.path(files::AUTHORIZER_CONFIG), text.as_bytes(), false)
    }

    /// Issues a client certificate named `name` (a new key, or a CSR's).
    ///
    /// # Errors
    /// A bad name or option, a name already used, or a generation failure.
    pub fn issue(&self, name: &str, opts: &IssueOptions, now: OffsetDateTime) -> Result<Client> {
        valid_name(name)?;
        let mut state = self.state()?;
        if state.clients.contains_key(name) {
            return Err(Error::Pki(format!(
                "a certificate named {name} exists; revoke it and issue under a new name, or pick another name"
            )));
        }
        let issuer = self.issuer()?;
        let serial = match &opts.serial_hex {
            Some(h) => parse_serial(h)?,
            None => random_serial()?,
        };
        let serial_text = hex::encode(&serial);
        if state.clients.values().any(|c| c.serial == serial_text) {
            return Err(Error::Pki(format!("serial {serial_text} is already used")));
        }
        let not_before = opts.not_before.unwrap_or(now - Duration::hours(1));
        let not_after = opts.not_after.unwrap_or(now + Duration::days(opts.days));
        if not_after <= not_before {
            return Err(Error::Usage(
                "not-after must be later than not-before".into(),
            ));
        }

        let (mut params, public, key) = match &opts.csr_pem {
            Some(pem) => {
                // rcgen checks the CSR's signature and reads its subject and
                // SANs; the key is taken from the CSR's SPKI, since rcgen
                // would infer the curve from the signature algorithm.
                let csr = CertificateSigningRequestParams::from_pem(pem)
                    .map_err(Error::rcgen("reading the CSR"))?;
                (csr.params, csr_key(pem)?, None)
            }
            None => {
                let key = opts.key_type.unwrap_or(state.key_type).generate()?;
                let mut d = DistinguishedName::new();
                d.push(DnType::OrganizationName, state.org.clone());
                for ou in &opts.ou {
                    d.push(DnType::OrganizationalUnitName, ou.clone());
                }
                d.push(
                    DnType::CommonName,
                    opts.cn.clone().unwrap_or_else(|| name.to_owned()),
                );
                let mut p =
                    CertificateParams::new(Vec::<String>::new()).map_err(Error::rcgen("client"))?;
                p.distinguished_name = d;
                let public = SpkiKey {
                    raw: rcgen::PublicKeyData::der_bytes(&key).to_vec(),
                    alg: key.algorithm(),
                };
                (p, public, Some(key))
            }
        };
        let p = &mut params;
        for san in &opts.sans {
            p.subject_alt_names.push(parse_san(san)?);
        }
        p.is_ca = IsCa::ExplicitNoCa;
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        p.not_before = not_before;
        p.not_after = not_after;
        p.serial_number = Some(SerialNumber::from_slice(&serial));
        p.use_authority_key_identifier_extension = true;
        let cert = params
            .signed_by(&public, &issuer)
            .map_err(Error::rcgen("client certificate"))?;

        std::fs::create_dir_all(self.dir.join(files::CLIENTS)).map_err(Error::io(&self.dir))?;
        if let Some(k) = &key {
            write_file(
                &self.client_path(name, "key"),
                k.serialize_pem().as_bytes(),
                true,
            )?;
        }
        write_file(&self.client_path(name, "pem"), cert.pem().as_bytes(), false)?;
        let summary = crate::cert::summarize(name, cert.der()).map_err(Error::Pki)?;
        let client = Client {
            name: name.to_owned(),
            serial: serial_text,
            subject: summary.subject,
            not_after: rfc3339(not_after),
            has_key: key.is_some(),
        };
        state.clients.insert(name.to_owned(), client.clone());
        self.save(&state)?;
        Ok(client)
    }

    /// Records a revocation of a client (by name) or any serial (hex). The
    /// next [`Pki::crl`] lists it.
    ///
    /// # Errors
    /// An unknown name, a bad serial, or one already revoked.
    pub fn revoke(&self, target: &str, reason: Reason, now: OffsetDateTime) -> Result<Revocation> {
        let mut state = self.state()?;
        let (serial, name) = match state.clients.get(target) {
            Some(c) => (c.serial.clone(), Some(c.name.clone())),
            None => {
                let bytes = parse_serial(target).map_err(|_| {
                    Error::Pki(format!(
                        "{target} is neither a certificate name of this PKI nor a hex serial"
                    ))
                })?;
                let hex = hex::encode(bytes);
                let name = state
                    .clients
                    .values()
                    .find(|c| c.serial == hex)
                    .map(|c| c.name.clone());
                (hex, name)
            }
        };
        if state.revoked.iter().any(|r| r.serial == serial) {
            return Err(Error::Pki(format!("serial {serial} is already revoked")));
        }
        let r = Revocation {
            serial,
            name,
            revoked_at: rfc3339(now),
            reason,
        };
        state.revoked.push(r.clone());
        self.save(&state)?;
        Ok(r)
    }

    /// Signs a fresh CRL with the next CRL number, valid for `validity`, and
    /// writes it as DER and PEM. Returns the number.
    ///
    /// # Errors
    /// An I/O or signing failure.
    pub fn crl(&self, now: OffsetDateTime, validity: Duration) -> Result<u64> {
        let mut state = self.state()?;
        let issuer = self.issuer()?;
        let number = state.crl_number + 1;
        let mut revoked = Vec::with_capacity(state.revoked.len());
        for r in &state.revoked {
            let at = OffsetDateTime::parse(
                &r.revoked_at,
                &time::format_description::well_known::Rfc3339,
            )
            .map_err(|e| Error::Pki(format!("pki.json: revoked_at {}: {e}", r.revoked_at)))?;
            revoked.push(RevokedCertParams {
                serial_number: SerialNumber::from_slice(&parse_serial(&r.serial)?),
                revocation_time: at,
                reason_code: Some(r.reason.rcgen()),
                invalidity_date: None,
            });
        }
        let crl = CertificateRevocationListParams {
            // A minute back, so a verifier with a slightly slow clock does
            // not see a CRL from the future.
            this_update: now - Duration::minutes(1),
            next_update: now + validity,
            crl_number: SerialNumber::from_slice(&number.to_be_bytes()),
            issuing_distribution_point: None,
            revoked_certs: revoked,
            key_identifier_method: KeyIdMethod::Sha256,
        }
        .signed_by(&issuer)
        .map_err(Error::rcgen("CRL"))?;
        let pem = crl.pem().map_err(Error::rcgen("CRL PEM"))?;
        write_file(&self.path(files::CRL_DER), crl.der(), false)?;
        write_file(&self.path(files::CRL_PEM), pem.as_bytes(), false)?;
        state.crl_number = number;
        self.save(&state)?;
        Ok(number)
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
            .ok_or_else(|| Error::Pki(format!("no certificate named {name}")))?;
        if !client.has_key {
            return Err(Error::Pki(format!(
                "{name} was issued from a CSR: its key is with whoever made the CSR"
            )));
        }
        let der_of = |path: PathBuf| -> Result<Vec<u8>> {
            let text = read_text(&path)?;
            mtls_x509::pem::find(text.as_bytes(), mtls_x509::pem::CERTIFICATE)
                .map_err(|e| Error::Pki(format!("{}: {e}", path.display())))?
                .ok_or_else(|| Error::Pki(format!("{}: no CERTIFICATE block", path.display())))
        };
        let p12 = |e: p12_keystore::error::Error| Error::Pki(format!("PKCS#12: {e}"));
        let chain = [
            der_of(self.client_path(name, "pem"))?,
            der_of(self.path(files::CA_CERT))?,
            der_of(self.path(files::ROOT_CERT))?,
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

/// A subject public key: its raw bits and the algorithm that fixes its
/// SPKI encoding.
#[derive(Debug)]
struct SpkiKey {
    raw: Vec<u8>,
    alg: &'static rcgen::SignatureAlgorithm,
}

impl rcgen::PublicKeyData for SpkiKey {
    fn der_bytes(&self) -> &[u8] {
        &self.raw
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        self.alg
    }
}

/// The public key of a PEM CSR, restricted to what API Gateway accepts
/// (RSA, ECDSA P-256 and P-384).
fn csr_key(pem: &str) -> Result<SpkiKey> {
    use x509_parser::prelude::{FromDer, X509CertificationRequest};
    let block = mtls_x509::pem::first(pem.as_bytes())
        .map_err(|e| Error::Pki(format!("reading the CSR: {e}")))?;
    let (_, csr) = X509CertificationRequest::from_der(&block.der)
        .map_err(|e| Error::Pki(format!("reading the CSR: {e}")))?;
    let spki = &csr.certification_request_info.subject_pki;
    let key_oid = spki.algorithm.algorithm.to_id_string();
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|o| o.to_id_string());
    let alg = match (key_oid.as_str(), curve.as_deref()) {
        ("1.2.840.113549.1.1.1", _) => &rcgen::PKCS_RSA_SHA256,
        ("1.2.840.10045.2.1", Some("1.2.840.10045.3.1.7")) => &rcgen::PKCS_ECDSA_P256_SHA256,
        ("1.2.840.10045.2.1", Some("1.3.132.0.34")) => &rcgen::PKCS_ECDSA_P384_SHA384,
        _ => {
            return Err(Error::Pki(format!(
                "the CSR's key ({key_oid}{}) is not one API Gateway accepts: use RSA 2048+ or ECDSA P-256/P-384",
                curve.map(|c| format!(", curve {c}")).unwrap_or_default()
            )));
        }
    };
    Ok(SpkiKey {
        raw: spki.subject_public_key.data.to_vec(),
        alg,
    })
}

/// Writes `bytes` to `path` as a CRL publisher must: the directories made,
/// and the file replaced atomically (written aside, then renamed), so a
/// reader never sees half a CRL.
///
/// # Errors
/// The directory, the write or the rename failed.
pub fn publish_to_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::Io { path, source }
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}

#[cfg(test)]
mod tests;
