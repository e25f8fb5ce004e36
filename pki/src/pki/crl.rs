//! Revoking client certificates and publishing the issuing CA's CRL.

use rcgen::{CertificateRevocationListParams, KeyIdMethod, RevokedCertParams, SerialNumber};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::{Pki, Reason, Revocation, State, certificate_der, files, parse_serial, write_file};
use crate::cert::summarize;
use crate::check::rfc3339;
use crate::error::{Error, Result};

impl Pki {
    /// Records a revocation of a client (by name) or any serial (hex). The
    /// next [`Pki::crl`] lists it.
    ///
    /// # Errors
    /// An unknown name, a bad serial, or one already revoked.
    pub fn revoke(&self, target: &str, reason: Reason, now: OffsetDateTime) -> Result<Revocation> {
        let mut state = self.state()?;
        let (serial, name) = resolve(&state, target)?;
        if state.revoked.iter().any(|r| r.serial == serial) {
            return Err(Error::AlreadyRevoked { serial });
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

    /// The deny-list entry that blocks `target` (a client's name or a hex
    /// serial) now, before the next CRL (`pki revoke --now`): the issuing
    /// CA's key and the serial, until the certificate's notAfter when this
    /// PKI issued it.
    ///
    /// # Errors
    /// No PKI, an unknown target, or an unreadable `ca.pem`.
    pub fn deny_entry(
        &self,
        target: &str,
        reason: Reason,
        now: OffsetDateTime,
    ) -> Result<mtls_policy::denylist::Entry> {
        use mtls_policy::denylist::{Entry, Target};
        use mtls_x509::time::UnixTime;
        let state = self.state()?;
        let (serial, name) = resolve(&state, target)?;
        let ca_path = self.path(files::CA_CERT);
        let ca_der = certificate_der(&ca_path)?;
        let ca = summarize(files::CA_CERT, &ca_der).map_err(Error::in_file(&ca_path))?;
        let issuer_key = ca
            .public_key
            .map_err(|reason| Error::CaKey {
                path: ca_path,
                reason,
            })?
            .id();
        let Some(serial) = mtls_x509::Serial::from_hex(&serial) else {
            return Err(Error::StateSerial { serial });
        };
        let not_after = name
            .and_then(|n| state.clients.get(&n))
            .and_then(|c| OffsetDateTime::parse(&c.not_after, &Rfc3339).ok())
            .map(|t| UnixTime(t.unix_timestamp()));
        Ok(Entry {
            target: Target::IssuerSerial { issuer_key, serial },
            not_after,
            added: Some(UnixTime(now.unix_timestamp())),
            reason: Some(reason.deny_reason()),
            note: Some(format!("truststore pki revoke {target}")),
        })
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
            let at = OffsetDateTime::parse(&r.revoked_at, &Rfc3339).map_err(|source| {
                Error::RevokedAt {
                    value: r.revoked_at.clone(),
                    source,
                }
            })?;
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
}

/// A client's serial (lowercase hex) and name, from its name or a hex serial.
fn resolve(state: &State, target: &str) -> Result<(String, Option<String>)> {
    if let Some(c) = state.clients.get(target) {
        return Ok((c.serial.clone(), Some(c.name.clone())));
    }
    let bytes = parse_serial(target).map_err(|_| Error::UnknownTarget {
        target: target.to_owned(),
    })?;
    let hex = hex::encode(bytes);
    let name = state
        .clients
        .values()
        .find(|c| c.serial == hex)
        .map(|c| c.name.clone());
    Ok((hex, name))
}
