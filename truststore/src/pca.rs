//! AWS Private CA: revoking a certificate at the CA that issued it. An
//! adapter around `aws-sdk-acmpca`.
//!
//! A revocation at the CA reaches the authorizer only with the CA's next
//! CRL, about 30 minutes later; `truststore revoke` puts the certificate on
//! the deny list first, so it is blocked within seconds.

use aws_sdk_acmpca::types::RevocationReason;
use mtls_policy::denylist::Reason;
use mtls_x509::serial::Serial;

use crate::error::{Error, Result};

/// An AWS Private CA client.
#[derive(Clone, Debug)]
pub struct PrivateCa {
    client: aws_sdk_acmpca::Client,
}

/// What a revocation did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Revoked {
    /// The CA recorded the revocation now.
    Now,
    /// The CA had recorded it before (`RequestAlreadyProcessedException`).
    Already,
}

/// The serial as `RevokeCertificate`'s `CertificateSerial` takes it: the
/// hex pairs of the serial's octets, lowercase, joined by `:`, as
/// `openssl x509 -text` prints it (the API reference's own form).
#[must_use]
pub fn certificate_serial(serial: &Serial) -> String {
    serial
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The Private CA revocation reason for an RFC 5280 reason.
///
/// # Errors
/// [`Error::Usage`] for certificateHold: Private CA has no hold, only
/// permanent revocation.
pub fn revocation_reason(reason: Reason) -> Result<RevocationReason> {
    Ok(match reason {
        Reason::Unspecified => RevocationReason::Unspecified,
        Reason::KeyCompromise => RevocationReason::KeyCompromise,
        Reason::CaCompromise => RevocationReason::CertificateAuthorityCompromise,
        Reason::AffiliationChanged => RevocationReason::AffiliationChanged,
        Reason::Superseded => RevocationReason::Superseded,
        Reason::CessationOfOperation => RevocationReason::CessationOfOperation,
        Reason::PrivilegeWithdrawn => RevocationReason::PrivilegeWithdrawn,
        Reason::AaCompromise => RevocationReason::AaCompromise,
        Reason::CertificateHold => {
            return Err(Error::Usage(
                "AWS Private CA cannot put a certificate on hold; use `truststore deny add` alone to block it for now, or another reason to revoke it for good".into(),
            ));
        }
    })
}

impl PrivateCa {
    /// A client from the shared AWS configuration (`AWS_ENDPOINT_URL_ACM_PCA`
    /// points it elsewhere, as for tests).
    #[must_use]
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        Self {
            client: aws_sdk_acmpca::Client::new(config),
        }
    }

    /// Revokes `serial` at the CA `ca_arn`.
    ///
    /// # Errors
    /// [`Error::Aws`] with the service's code and message.
    pub async fn revoke(&self, ca_arn: &str, serial: &Serial, reason: Reason) -> Result<Revoked> {
        let reason = revocation_reason(reason)?;
        let sent = self
            .client
            .revoke_certificate()
            .certificate_authority_arn(ca_arn)
            .certificate_serial(certificate_serial(serial))
            .revocation_reason(reason)
            .send()
            .await;
        match sent {
            Ok(_) => Ok(Revoked::Now),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_request_already_processed_exception()) =>
            {
                Ok(Revoked::Already)
            }
            Err(e) => Err(Error::aws("acm-pca:RevokeCertificate")(e)),
        }
    }
}

#[cfg(test)]
mod tests;
