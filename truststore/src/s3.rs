//! The truststore object in S3: versioning check, idempotent upload, and
//! object versions. An adapter around `aws-sdk-s3`.

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::BucketVersioningStatus;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use crate::error::{Error, Result};

/// The user metadata key that records the bundle's SHA-256.
pub(crate) const HASH_METADATA: &str = "sha256";

/// An S3 client for truststore objects.
#[derive(Clone, Debug)]
pub struct Store {
    client: aws_sdk_s3::Client,
}

/// What an upload did.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Upload {
    /// The object version now holding the content.
    pub version_id: String,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// True when the latest version already held this content and nothing
    /// was uploaded.
    pub unchanged: bool,
}

/// One version of the object.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Version {
    /// Its version id.
    pub version_id: String,
    /// When it was written, RFC 3339.
    pub last_modified: Option<String>,
    /// The current version.
    pub is_latest: bool,
    /// Size in bytes.
    pub size: Option<i64>,
}

#[cfg(test)]
impl Version {
    /// Versions with just their ids, newest first, for tests.
    pub(crate) fn list(ids: &[&str]) -> Vec<Self> {
        ids.iter()
            .map(|id| Self {
                version_id: (*id).to_owned(),
                last_modified: None,
                is_latest: false,
                size: None,
            })
            .collect()
    }
}

fn aws<E>(operation: &'static str) -> impl FnOnce(SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    Error::aws(operation)
}

/// SHA-256 of bytes, hex.
#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(mtls_x509::signed::sha256(bytes))
}

impl Store {
    /// A client from the shared AWS configuration. `S3_FORCE_PATH_STYLE=true`
    /// selects path-style addressing, for local S3-compatible servers.
    #[must_use]
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        let path_style = std::env::var("S3_FORCE_PATH_STYLE").is_ok_and(|v| v == "true");
        Self::with_path_style(config, path_style)
    }

    /// A client from the shared AWS configuration, with path-style
    /// addressing on or off.
    #[must_use]
    pub fn with_path_style(config: &aws_config::SdkConfig, path_style: bool) -> Self {
        let conf = aws_sdk_s3::config::Builder::from(config)
            .force_path_style(path_style)
            .build();
        Self {
            client: aws_sdk_s3::Client::from_conf(conf),
        }
    }

    /// Fails unless the bucket has versioning enabled: API Gateway pins the
    /// truststore by version, and without versions there is nothing to pin
    /// or to roll back to.
    ///
    /// # Errors
    /// [`Error::Unversioned`], or the S3 error.
    pub async fn require_versioning(&self, bucket: &str) -> Result<()> {
        let out = self
            .client
            .get_bucket_versioning()
            .bucket(bucket)
            .send()
            .await
            .map_err(aws("s3:GetBucketVersioning"))?;
        match out.status() {
            Some(BucketVersioningStatus::Enabled) => Ok(()),
            other => Err(Error::Unversioned {
                bucket: bucket.to_owned(),
                status: other.map_or_else(|| "never enabled".to_owned(), |s| s.as_str().to_owned()),
            }),
        }
    }

    /// Uploads `bytes` as a new version of `bucket/key`, unless the latest
    /// version already holds the same content (compared by SHA-256). The
    /// hash is recorded in the object's metadata.
    ///
    /// # Errors
    /// An unversioned bucket, or an S3 error.
    pub async fn upload(&self, bucket: &str, key: &str, bytes: &[u8]) -> Result<Upload> {
        self.require_versioning(bucket).await?;
        let sha256 = sha256_hex(bytes);
        if let Some((version_id, current)) = self.latest_hash(bucket, key).await?
            && current == sha256
        {
            return Ok(Upload {
                version_id,
                sha256,
                unchanged: true,
            });
        }
        let out = self
            .client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type("application/x-pem-file")
            .metadata(HASH_METADATA, &sha256)
            .body(ByteStream::from(bytes.to_vec()))
            .send()
            .await
            .map_err(aws("s3:PutObject"))?;
        let version_id = out
            .version_id()
            .map(str::to_owned)
            .ok_or_else(|| Error::Unversioned {
                bucket: bucket.to_owned(),
                status: "no version id returned".into(),
            })?;
        Ok(Upload {
            version_id,
            sha256,
            unchanged: false,
        })
    }

    /// The latest version's id and content hash, if the object exists. The
    /// hash comes from our metadata, or from the content when another tool
    /// wrote the object.
    async fn latest_hash(&self, bucket: &str, key: &str) -> Result<Option<(String, String)>> {
        let head = self
            .client
            .head_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await;
        let head = match head {
            Ok(h) => h,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => return Ok(None),
            Err(e) => return Err(aws("s3:HeadObject")(e)),
        };
        let Some(version_id) = head.version_id().filter(|v| *v != "null") else {
            return Ok(None);
        };
        if let Some(h) = head.metadata().and_then(|m| m.get(HASH_METADATA)) {
            return Ok(Some((version_id.to_owned(), h.clone())));
        }
        let bytes = self.get(bucket, key, Some(version_id)).await?;
        Ok(Some((version_id.to_owned(), sha256_hex(&bytes))))
    }

    /// Writes an object as it is (no versioning requirement): for CRLs.
    ///
    /// # Errors
    /// The S3 error.
    pub async fn put(
        &self,
        bucket: &str,
        key: &str,
        bytes: &[u8],
        content_type: &str,
    ) -> Result<Option<String>> {
        let out = self
            .client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes.to_vec()))
            .send()
            .await
            .map_err(aws("s3:PutObject"))?;
        Ok(out.version_id().map(str::to_owned))
    }

    /// The object's content, at `version` or the latest.
    ///
    /// # Errors
    /// The S3 error (a missing object or version included).
    pub async fn get(&self, bucket: &str, key: &str, version: Option<&str>) -> Result<Vec<u8>> {
        let out = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .set_version_id(version.map(str::to_owned))
            .send()
            .await
            .map_err(aws("s3:GetObject"))?;
        let body = out.body.collect().await.map_err(|e| Error::Aws {
            operation: "s3:GetObject",
            message: e.to_string(),
        })?;
        Ok(body.into_bytes().to_vec())
    }

    /// Every version of exactly `key`, newest first; delete markers left out.
    ///
    /// # Errors
    /// The S3 error.
    pub async fn versions(&self, bucket: &str, key: &str) -> Result<Vec<Version>> {
        let mut out = Vec::new();
        let mut key_marker: Option<String> = None;
        let mut version_marker: Option<String> = None;
        loop {
            let page = self
                .client
                .list_object_versions()
                .bucket(bucket)
                .prefix(key)
                .set_key_marker(key_marker.take())
                .set_version_id_marker(version_marker.take())
                .send()
                .await
                .map_err(aws("s3:ListObjectVersions"))?;
            for v in page.versions() {
                if v.key() != Some(key) {
                    continue;
                }
                let Some(id) = v.version_id() else { continue };
                out.push(Version {
                    version_id: id.to_owned(),
                    last_modified: v
                        .last_modified()
                        .and_then(|t| t.fmt(aws_sdk_s3::primitives::DateTimeFormat::DateTime).ok()),
                    is_latest: v.is_latest().unwrap_or(false),
                    size: v.size(),
                });
            }
            if page.is_truncated() != Some(true) {
                break;
            }
            key_marker = page.next_key_marker().map(str::to_owned);
            version_marker = page.next_version_id_marker().map(str::to_owned);
            if key_marker.is_none() && version_marker.is_none() {
                break;
            }
        }
        // S3 lists versions newest first; keep that order explicit.
        out.sort_by(|a, b| b.last_modified.cmp(&a.last_modified));
        Ok(out)
    }
}

/// An object's content, and the ETag that names this version of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Tagged {
    /// The content.
    pub bytes: Vec<u8>,
    /// The ETag, as S3 returned it (quotes included).
    pub etag: String,
}

/// What a conditional write may replace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Precondition<'a> {
    /// Only the version with this ETag (`If-Match`).
    Matches(&'a str),
    /// Nothing: the object must not exist yet (`If-None-Match: *`).
    Absent,
}

/// What a conditional write did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ConditionalPut {
    /// The object now holds the new content.
    Written,
    /// Another writer changed (or created, or deleted) the object since it
    /// was read; nothing was written.
    Conflict,
}

impl Store {
    /// The latest content of `bucket/key` with its ETag, or `None` when the
    /// object does not exist. Refuses an object over `max_bytes`.
    ///
    /// # Errors
    /// The S3 error, or an object that is too large.
    pub(crate) async fn get_tagged(
        &self,
        bucket: &str,
        key: &str,
        max_bytes: usize,
    ) -> Result<Option<Tagged>> {
        let out = match self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(aws("s3:GetObject")(e)),
        };
        let too_large = || Error::Aws {
            operation: "s3:GetObject",
            message: format!("s3://{bucket}/{key} is larger than {max_bytes} bytes"),
        };
        if out
            .content_length()
            .is_some_and(|n| usize::try_from(n).map_or(true, |n| n > max_bytes))
        {
            return Err(too_large());
        }
        // Without an ETag there is nothing to make the write conditional on.
        let etag = out.e_tag().map(str::to_owned).ok_or_else(|| Error::Aws {
            operation: "s3:GetObject",
            message: format!("s3://{bucket}/{key} came without an ETag"),
        })?;
        let body = out.body.collect().await.map_err(|e| Error::Aws {
            operation: "s3:GetObject",
            message: e.to_string(),
        })?;
        let bytes = body.into_bytes().to_vec();
        if bytes.len() > max_bytes {
            return Err(too_large());
        }
        Ok(Some(Tagged { bytes, etag }))
    }

    /// Writes `bytes` to `bucket/key` only if the object is still as the
    /// caller read it (S3 conditional writes): two writers that read the
    /// same version cannot both replace it, so neither loses the other's
    /// change.
    ///
    /// # Errors
    /// An S3 error other than a failed precondition.
    pub(crate) async fn put_if(
        &self,
        bucket: &str,
        key: &str,
        bytes: &[u8],
        content_type: &str,
        precondition: Precondition<'_>,
    ) -> Result<ConditionalPut> {
        let put = self
            .client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes.to_vec()));
        let put = match precondition {
            Precondition::Matches(etag) => put.if_match(etag),
            Precondition::Absent => put.if_none_match("*"),
        };
        match put.send().await {
            Ok(_) => Ok(ConditionalPut::Written),
            Err(e) => {
                let status = e.raw_response().map(|r| r.status().as_u16());
                // 412 PreconditionFailed: the ETag no longer matches, or the
                // object appeared. 409 ConditionalRequestConflict: a
                // concurrent conditional write is in flight. 404: the object
                // was deleted since it was read.
                if matches!(status, Some(412 | 409))
                    || (status == Some(404) && matches!(precondition, Precondition::Matches(_)))
                {
                    Ok(ConditionalPut::Conflict)
                } else {
                    Err(aws("s3:PutObject")(e))
                }
            }
        }
    }
}

/// Splits `s3://bucket/key`.
///
/// # Errors
/// [`Error::Usage`] when it is not an S3 URI with a bucket and a key.
pub fn parse_s3_uri(uri: &str) -> Result<(String, String)> {
    let rest = uri
        .strip_prefix("s3://")
        .ok_or_else(|| Error::Usage(format!("{uri} is not an s3:// URI")))?;
    match rest.split_once('/') {
        Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() => {
            Ok((bucket.to_owned(), key.to_owned()))
        }
        _ => Err(Error::Usage(format!(
            "{uri} needs a bucket and a key: s3://bucket/key"
        ))),
    }
}
