//! Where readings live: DynamoDB in AWS, SQLite on a developer's machine.
//! Both sit behind [`Store`], and one behaviour suite runs against both.

use std::future::Future;

use time::OffsetDateTime;

use crate::error::Result;
use crate::identity::{Identity, IdentityKey};
use crate::reading::Reading;

pub mod dynamo;
pub mod local;

pub use dynamo::DynamoStore;
pub use local::LocalStore;

/// A reading about to be stored, with who sent it and when it expires.
#[derive(Clone, Copy, Debug)]
pub struct NewReading<'a> {
    /// Who sent it.
    pub identity: &'a Identity,
    /// Their storage key.
    pub key: &'a IdentityKey,
    /// The reading.
    pub reading: &'a Reading,
    /// When the API received it.
    pub received_at: OffsetDateTime,
    /// When the store may delete it (DynamoDB TTL).
    pub expires_at: OffsetDateTime,
}

/// What storing a reading did. A reading is keyed by identity and time, so a
/// device that retries a POST stores it once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PutOutcome {
    /// It was new, and is now stored.
    Created,
    /// The same reading (same time, same temperature) was already stored.
    AlreadyStored,
    /// A different temperature is already stored for that time. The first
    /// write wins; readings are never silently overwritten.
    Conflict {
        /// The temperature already stored.
        stored: f64,
    },
}

/// Storage for readings.
pub trait Store: Send + Sync {
    /// Stores a reading once (see [`PutOutcome`]).
    fn put(&self, new: NewReading<'_>) -> impl Future<Output = Result<PutOutcome>> + Send;

    /// The latest `limit` readings of one identity written by `writer`,
    /// newest first.
    fn latest(
        &self,
        key: &IdentityKey,
        writer: Writer<'_>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Reading>>> + Send;
}

/// Whose readings under a key to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Writer<'a> {
    /// Every reading under the key: the key names one identity.
    Any,
    /// Only those the certificate with this serial (lowercase hex) wrote:
    /// for a key that several identities may have shared (the legacy DN-text
    /// key). Under one issuer a serial names one certificate (RFC 5280
    /// §4.1.2.2), so this is the holder's own writing and no one else's.
    Certificate(&'a str),
}

/// The most pages one filtered read walks (a DynamoDB `Query` applies its
/// limit before its filter): bounded work whatever a legacy key holds.
pub(crate) const MAX_FILTERED_PAGES: usize = 10;

/// Compares a stored reading with a new one for [`PutOutcome`].
fn outcome_against(stored: f64, new: f64) -> PutOutcome {
    // Both sides are the same f64 round-tripped through the store's exact
    // representation, so equality is exact equality.
    if stored == new {
        PutOutcome::AlreadyStored
    } else {
        PutOutcome::Conflict { stored }
    }
}

/// The store the binary uses, chosen from the environment at cold start.
#[derive(Debug)]
pub enum AnyStore {
    /// `TEMPS_TABLE` is set.
    Dynamo(DynamoStore),
    /// The local default.
    Local(LocalStore),
}

impl Store for AnyStore {
    async fn put(&self, new: NewReading<'_>) -> Result<PutOutcome> {
        match self {
            Self::Dynamo(s) => s.put(new).await,
            Self::Local(s) => s.put(new).await,
        }
    }

    async fn latest(
        &self,
        key: &IdentityKey,
        writer: Writer<'_>,
        limit: usize,
    ) -> Result<Vec<Reading>> {
        match self {
            Self::Dynamo(s) => s.latest(key, writer, limit).await,
            Self::Local(s) => s.latest(key, writer, limit).await,
        }
    }
}
