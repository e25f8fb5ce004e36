//! Where a deny list lives, and the one way it changes: read it, edit it,
//! and write it back only if no other writer wrote in between; if one did,
//! read again and redo the edit. Two operators adding at once both land.
//!
//! - `file://`: an exclusive lock on `<file>.lock` for the whole
//!   read-edit-write, and the new list written aside, synced, then renamed
//!   over the old one, so a reader (the authorizer) never sees half a list.
//! - `s3://`: S3 conditional writes, `If-Match` the ETag that was read
//!   (`If-None-Match: *` when there was no object), retried a bounded
//!   number of times with jittered backoff.
//!
//! Every write raises `sequence` by one: the authorizer refuses a list with
//! a lower sequence than the one in force. A list that does not parse is
//! never written over.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mtls_policy::denylist::Document;
use mtls_policy::source::SourceUri;
use mtls_x509::error::bounded;

use crate::error::{Error, Result};
use crate::s3::{ConditionalPut, Precondition, Store};

/// The largest list (or CRL) read, in bytes. A list of the document's
/// most entries is about 25 MB.
pub const MAX_LIST_BYTES: usize = 64 * 1024 * 1024;

/// Read-edit-write rounds on S3 before giving up. Each conflict means that
/// another writer's round succeeded, so this many writers at once all land.
pub const MAX_ATTEMPTS: u32 = 10;

/// The content type of a list written to S3.
pub const CONTENT_TYPE: &str = "application/json";

/// Where a deny list is: `file://PATH` or `s3://BUCKET/KEY`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListUri {
    /// A local file.
    File(PathBuf),
    /// An S3 object (its latest version).
    S3 {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
    },
}

impl ListUri {
    /// Parses a list URI, as the authorizer's configuration spells it.
    ///
    /// # Errors
    /// [`Error::Usage`] for another scheme, or a pinned S3 version (which
    /// cannot be written).
    pub fn parse(text: &str) -> Result<Self> {
        let usage = |why: &str| {
            Error::Usage(format!(
                "deny list {:?}: {why}; give file:///path or s3://bucket/key",
                bounded(text)
            ))
        };
        match SourceUri::parse(text) {
            Ok(SourceUri::File(path)) => Ok(Self::File(path)),
            Ok(SourceUri::S3 {
                version_id: Some(_),
                ..
            }) => Err(usage("a pinned ?versionId= cannot be written")),
            Ok(SourceUri::S3 { bucket, key, .. }) => Ok(Self::S3 { bucket, key }),
            Ok(SourceUri::Http(_)) => Err(usage("http(s) cannot be written")),
            Err(_) => Err(usage("not a supported URI")),
        }
    }
}

impl fmt::Display for ListUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(p) => write!(f, "file://{}", p.display()),
            Self::S3 { bucket, key } => write!(f, "s3://{bucket}/{key}"),
        }
    }
}

/// What an edit decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Edit<T> {
    /// Write the edited document, with what to report.
    Write(T),
    /// Nothing changed: write nothing.
    Keep(T),
}

/// What an update did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Updated<T> {
    /// What the edit reported, from the round that counted.
    pub value: T,
    /// The sequence of the list now in place.
    pub sequence: u64,
    /// Whether a new list was written.
    pub written: bool,
}

/// A deny list, ready to be read and changed.
#[derive(Clone, Debug)]
pub enum List {
    /// A local file.
    File(PathBuf),
    /// An S3 object.
    S3 {
        /// The client.
        store: Store,
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
    },
}

impl List {
    /// The list at `uri`; `store` is asked for only for `s3://`.
    pub async fn open(uri: ListUri, store: impl AsyncFnOnce() -> Store) -> Self {
        match uri {
            ListUri::File(path) => Self::File(path),
            ListUri::S3 { bucket, key } => Self::S3 {
                store: store().await,
                bucket,
                key,
            },
        }
    }

    /// Its URI.
    #[must_use]
    pub fn uri(&self) -> ListUri {
        match self {
            Self::File(p) => ListUri::File(p.clone()),
            Self::S3 { bucket, key, .. } => ListUri::S3 {
                bucket: bucket.clone(),
                key: key.clone(),
            },
        }
    }

    /// The list as it is now; an absent list is the empty one.
    ///
    /// # Errors
    /// A read failure, or a document that does not parse.
    pub async fn read(&self) -> Result<Document> {
        match self {
            Self::File(path) => read_file(path, &self.uri()),
            Self::S3 { store, bucket, key } => {
                match store.get_tagged(bucket, key, MAX_LIST_BYTES).await? {
                    Some(t) => parse(&t.bytes, &self.uri()),
                    None => Ok(Document::empty()),
                }
            }
        }
    }

    /// Applies `edit` to the current list and writes the result, raising
    /// `sequence` by one, unless the edit keeps the list as it is. `edit`
    /// may run more than once (once per round, each time on the list as it
    /// is then), so it must only look at the document it is given.
    ///
    /// # Errors
    /// A read or write failure, an unreadable current list, an edited list
    /// the document would refuse, or [`Error::DenyListBusy`].
    pub async fn update<T>(
        &self,
        edit: impl FnMut(&mut Document) -> Result<Edit<T>>,
    ) -> Result<Updated<T>> {
        match self {
            Self::File(path) => update_file(path, &self.uri(), edit),
            Self::S3 { store, bucket, key } => {
                update_s3(store, bucket, key, &self.uri(), edit).await
            }
        }
    }
}

fn parse(bytes: &[u8], uri: &ListUri) -> Result<Document> {
    Document::from_json(bytes).map_err(|source| Error::DenyList {
        list: uri.to_string(),
        source,
    })
}

/// The edited document with its new sequence, as JSON, checked by the
/// same parser the authorizer uses: a list it would refuse is never written.
/// An edit applied to the list as read: nothing to write, or the text of
/// the next version and what to report once it is written.
enum Applied<T> {
    Keep(Updated<T>),
    Write { text: String, done: Updated<T> },
}

/// Applies `edit` to a copy of `old`, for both stores.
fn apply<T>(
    old: &Document,
    edit: &mut impl FnMut(&mut Document) -> Result<Edit<T>>,
    uri: &ListUri,
) -> Result<Applied<T>> {
    let mut edited = old.clone();
    match edit(&mut edited)? {
        Edit::Keep(value) => Ok(Applied::Keep(Updated {
            value,
            sequence: old.sequence,
            written: false,
        })),
        Edit::Write(value) => {
            let text = next_version(old, edited, uri)?;
            Ok(Applied::Write {
                text,
                done: Updated {
                    value,
                    sequence: old.sequence.saturating_add(1),
                    written: true,
                },
            })
        }
    }
}

fn next_version(old: &Document, mut edited: Document, uri: &ListUri) -> Result<String> {
    edited.sequence = old
        .sequence
        .checked_add(1)
        .ok_or_else(|| Error::Usage(format!("deny list {uri}: the sequence cannot go higher")))?;
    let text = edited.to_json();
    Document::from_json(text.as_bytes()).map_err(|e| {
        Error::Usage(format!(
            "deny list {uri}: the edited list would be refused ({e}); nothing was written"
        ))
    })?;
    Ok(text)
}

fn read_file(path: &Path, uri: &ListUri) -> Result<Document> {
    match std::fs::metadata(path) {
        Ok(m) if m.len() > MAX_LIST_BYTES as u64 => {
            return Err(Error::Usage(format!(
                "deny list {uri} is larger than {MAX_LIST_BYTES} bytes"
            )));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Document::empty()),
        _ => {}
    }
    match std::fs::read(path) {
        Ok(bytes) => parse(&bytes, uri),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Document::empty()),
        Err(e) => Err(Error::io(path)(e)),
    }
}

/// `path` with `suffix` added to its file name.
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

fn update_file<T>(
    path: &Path,
    uri: &ListUri,
    mut edit: impl FnMut(&mut Document) -> Result<Edit<T>>,
) -> Result<Updated<T>> {
    // The lock is a separate file: the list itself is replaced by a rename,
    // and a lock on the old file would not stop a writer that opened the
    // new one.
    let lock_path = beside(path, ".lock");
    let lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .map_err(Error::io(&lock_path))?;
    lock.lock().map_err(Error::io(&lock_path))?;
    let old = read_file(path, uri)?;
    let (text, done) = match apply(&old, &mut edit, uri)? {
        Applied::Keep(kept) => return Ok(kept),
        Applied::Write { text, done } => (text, done),
    };
    replace_file(path, text.as_bytes())?;
    // Closing the file releases the lock; say so where it happens.
    drop(lock);
    Ok(done)
}

/// Writes `bytes` beside `path`, syncs, and renames it over `path`, then
/// syncs the directory so the rename itself survives a crash.
fn replace_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = beside(path, &format!(".tmp-{}", std::process::id()));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(&tmp)(e));
    }
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(path)(e));
    }
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(Error::io(dir))?;
    }
    Ok(())
}

async fn update_s3<T>(
    store: &Store,
    bucket: &str,
    key: &str,
    uri: &ListUri,
    mut edit: impl FnMut(&mut Document) -> Result<Edit<T>>,
) -> Result<Updated<T>> {
    for attempt in 1..=MAX_ATTEMPTS {
        let current = store.get_tagged(bucket, key, MAX_LIST_BYTES).await?;
        let (old, precondition) = match &current {
            Some(t) => (parse(&t.bytes, uri)?, Precondition::Matches(&t.etag)),
            None => (Document::empty(), Precondition::Absent),
        };
        let (text, done) = match apply(&old, &mut edit, uri)? {
            Applied::Keep(kept) => return Ok(kept),
            Applied::Write { text, done } => (text, done),
        };
        match store
            .put_if(bucket, key, text.as_bytes(), CONTENT_TYPE, precondition)
            .await?
        {
            ConditionalPut::Written => return Ok(done),
            ConditionalPut::Conflict if attempt < MAX_ATTEMPTS => {
                tokio::time::sleep(backoff(attempt, random_u64())).await;
            }
            ConditionalPut::Conflict => {}
        }
    }
    Err(Error::DenyListBusy {
        list: uri.to_string(),
        attempts: MAX_ATTEMPTS,
    })
}

/// The wait after the `attempt`-th conflict: up to 25 ms doubled per
/// attempt, at most 1.6 s, of which the upper half is random (`jitter`),
/// so writers that collided do not collide again in step.
fn backoff(attempt: u32, jitter: u64) -> Duration {
    let cap_ms: u64 = 25u64 << attempt.saturating_sub(1).min(6);
    let half = cap_ms / 2;
    Duration::from_millis(half + jitter % (half + 1))
}

fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    // Without randomness the wait is still bounded, only less spread.
    let _ = getrandom::fill(&mut b);
    u64::from_le_bytes(b)
}

/// The bytes at a `file://` or `s3://` URI (CRLs for prune), at most
/// [`MAX_LIST_BYTES`]. `store` is asked for only for `s3://`.
///
/// # Errors
/// Another scheme, a missing source, or a read failure.
pub async fn read_source(text: &str, store: impl AsyncFnOnce() -> Store) -> Result<Vec<u8>> {
    let usage = |why: &str| {
        Error::Usage(format!(
            "{:?}: {why}; give file:///path or s3://bucket/key",
            bounded(text)
        ))
    };
    match SourceUri::parse(text) {
        Ok(SourceUri::File(path)) => {
            if std::fs::metadata(&path).map_err(Error::io(&path))?.len() > MAX_LIST_BYTES as u64 {
                return Err(usage("larger than 64 MiB"));
            }
            std::fs::read(&path).map_err(Error::io(&path))
        }
        Ok(SourceUri::S3 {
            bucket,
            key,
            version_id,
        }) => {
            let store = store().await;
            match version_id {
                Some(v) => store.get(&bucket, &key, Some(&v)).await,
                None => store
                    .get_tagged(&bucket, &key, MAX_LIST_BYTES)
                    .await?
                    .map(|t| t.bytes)
                    .ok_or_else(|| Error::Aws {
                        operation: "s3:GetObject",
                        message: format!("s3://{bucket}/{key} does not exist"),
                    }),
            }
        }
        Ok(SourceUri::Http(_)) => Err(usage(
            "this tool reads no http(s); download the CRL and pass file://",
        )),
        Err(_) => Err(usage("not a supported URI")),
    }
}

#[cfg(test)]
mod tests;
