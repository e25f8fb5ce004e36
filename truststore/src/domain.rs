//! The custom domain's mutual TLS settings, for REST (`apigateway`) and HTTP
//! (`apigatewayv2`) APIs. An adapter around the two SDK clients.

use std::time::Duration;

use aws_sdk_apigateway::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::http::Response;
use serde::Serialize;

use crate::error::Error;

/// Which API Gateway API owns the domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ApiKind {
    /// REST APIs: the `apigateway` service.
    Rest,
    /// HTTP APIs: the `apigatewayv2` service.
    Http,
}

/// What the domain reports about its truststore.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DomainState {
    /// `AVAILABLE`, `UPDATING`, `PENDING_…`, or `UNKNOWN`.
    pub status: String,
    /// `s3://bucket/key`, when mutual TLS is on.
    pub truststore_uri: Option<String>,
    /// The pinned object version.
    pub truststore_version: Option<String>,
    /// What API Gateway found wrong in the truststore.
    pub warnings: Vec<String>,
}

impl DomainState {
    fn new(
        status: &str,
        uri: Option<&str>,
        version: Option<&str>,
        warnings: Option<&[String]>,
    ) -> Self {
        Self {
            status: status.to_owned(),
            truststore_uri: uri.map(str::to_owned),
            truststore_version: version.map(str::to_owned),
            warnings: warnings.map(<[String]>::to_vec).unwrap_or_default(),
        }
    }

    /// Ready for (another) change.
    #[must_use]
    pub fn available(&self) -> bool {
        self.status == "AVAILABLE"
    }
}

/// A failed call, sorted by what to do about it.
#[derive(Debug)]
pub enum CallError {
    /// Throttled (HTTP 429 `TooManyRequestsException`): wait and retry.
    Throttled {
        /// The service's `Retry-After`, if it sent one.
        retry_after: Option<Duration>,
    },
    /// A transient failure (5xx, timeout, connection): worth a retry.
    Transient(Error),
    /// Anything else: stop.
    Fatal(Error),
}

/// A client for one kind of custom domain.
#[derive(Clone, Debug)]
pub enum Domains {
    /// REST API domains.
    Rest(aws_sdk_apigateway::Client),
    /// HTTP API domains.
    Http(aws_sdk_apigatewayv2::Client),
}

fn classify<E>(operation: &'static str, e: SdkError<E, Response>) -> CallError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let status = e.raw_response().map(|r| r.status().as_u16());
    let code = e.code().map(str::to_owned);
    if status == Some(429) || code.as_deref() == Some("TooManyRequestsException") {
        let retry_after = e
            .raw_response()
            .and_then(|r| r.headers().get("retry-after"))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        return CallError::Throttled { retry_after };
    }
    let transient = matches!(
        e,
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_)
    ) || status.is_some_and(|s| s >= 500);
    let err = Error::Aws {
        operation,
        message: crate::error::aws_message(&e),
    };
    if transient {
        CallError::Transient(err)
    } else {
        CallError::Fatal(err)
    }
}

impl Domains {
    /// A client from the shared AWS configuration. The SDK's own retries are
    /// off: [`crate::rotate`] retries throttling with its own, longer backoff,
    /// because `UpdateDomainName` allows about one call per 30 s.
    #[must_use]
    pub fn new(config: &aws_config::SdkConfig, kind: ApiKind) -> Self {
        let retry = aws_config::retry::RetryConfig::disabled();
        match kind {
            ApiKind::Rest => Self::Rest(aws_sdk_apigateway::Client::from_conf(
                aws_sdk_apigateway::config::Builder::from(config)
                    .retry_config(retry)
                    .build(),
            )),
            ApiKind::Http => Self::Http(aws_sdk_apigatewayv2::Client::from_conf(
                aws_sdk_apigatewayv2::config::Builder::from(config)
                    .retry_config(retry)
                    .build(),
            )),
        }
    }

    /// The domain's status and truststore settings.
    ///
    /// # Errors
    /// The classified service error.
    pub async fn get(&self, domain: &str) -> Result<DomainState, CallError> {
        match self {
            Self::Rest(c) => {
                let out = c
                    .get_domain_name()
                    .domain_name(domain)
                    .send()
                    .await
                    .map_err(|e| classify("apigateway:GetDomainName", e))?;
                let m = out.mutual_tls_authentication();
                Ok(DomainState::new(
                    out.domain_name_status().map_or("UNKNOWN", |s| s.as_str()),
                    m.and_then(|m| m.truststore_uri()),
                    m.and_then(|m| m.truststore_version()),
                    m.map(|m| m.truststore_warnings()),
                ))
            }
            Self::Http(c) => {
                let out = c
                    .get_domain_name()
                    .domain_name(domain)
                    .send()
                    .await
                    .map_err(|e| classify("apigatewayv2:GetDomainName", e))?;
                let mtls = out.mutual_tls_authentication();
                // An HTTP API domain has one configuration per endpoint; it is
                // available when every one of them is.
                let statuses: Vec<&str> = out
                    .domain_name_configurations()
                    .iter()
                    .map(|c| c.domain_name_status().map_or("UNKNOWN", |s| s.as_str()))
                    .collect();
                let status = statuses
                    .iter()
                    .find(|s| **s != "AVAILABLE")
                    .or_else(|| statuses.first())
                    .copied()
                    .unwrap_or("UNKNOWN");
                Ok(DomainState::new(
                    status,
                    mtls.and_then(|m| m.truststore_uri()),
                    mtls.and_then(|m| m.truststore_version()),
                    mtls.map(|m| m.truststore_warnings()),
                ))
            }
        }
    }

    /// Pins `version` of the truststore at `uri`.
    ///
    /// # Errors
    /// The classified service error.
    pub(crate) async fn set_version(
        &self,
        domain: &str,
        uri: &str,
        version: &str,
    ) -> Result<(), CallError> {
        match self {
            Self::Rest(c) => {
                use aws_sdk_apigateway::types::{Op, PatchOperation};
                c.update_domain_name()
                    .domain_name(domain)
                    .patch_operations(
                        PatchOperation::builder()
                            .op(Op::Replace)
                            .path("/mutualTlsAuthentication/truststoreVersion")
                            .value(version)
                            .build(),
                    )
                    .send()
                    .await
                    .map_err(|e| classify("apigateway:UpdateDomainName", e))?;
            }
            Self::Http(c) => {
                use aws_sdk_apigatewayv2::types::MutualTlsAuthenticationInput;
                c.update_domain_name()
                    .domain_name(domain)
                    .mutual_tls_authentication(
                        MutualTlsAuthenticationInput::builder()
                            .truststore_uri(uri)
                            .truststore_version(version)
                            .build(),
                    )
                    .send()
                    .await
                    .map_err(|e| classify("apigatewayv2:UpdateDomainName", e))?;
            }
        }
        Ok(())
    }
}
