//! The one error type of this crate. Request problems (a bad body, a missing
//! identity) are not errors: they are HTTP answers. These are the failures
//! of the service itself, which become a 500 and an `error` log line.

use std::path::PathBuf;

/// Why the service could not do its job.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The embedded temperature schema does not compile. A build defect,
    /// caught by the tests.
    #[error("the embedded temperature schema is invalid: {0}")]
    Schema(String),
    /// Configuration from the environment is unusable.
    #[error("configuration: {0}; see docs/api-handler.md")]
    Config(String),
    /// The local (SQLite) store failed.
    #[error("local store {path}: {source}")]
    Local {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// The local store's worker thread went away.
    #[error("local store worker failed: {0}")]
    LocalWorker(String),
    /// A DynamoDB call failed.
    #[error("DynamoDB {operation} on table {table}: {message}")]
    Dynamo {
        /// The API operation.
        operation: &'static str,
        /// The table.
        table: String,
        /// The SDK's error with its context.
        message: String,
    },
    /// A stored item could not be read back: written by something else, or
    /// the table's key schema is not the one documented.
    #[error("stored reading is malformed: {0}")]
    Corrupt(String),
}

/// This crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
