//! The local store: one SQLite file in a data directory, so readings persist
//! across restarts of the local stack. It mirrors the DynamoDB item layout.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;

use super::{NewReading, PutOutcome, Store, Writer, outcome_against};
use crate::error::{Error, Result};
use crate::identity::IdentityKey;
use crate::reading::{Reading, ReadingTime};

/// The database file's name inside the data directory.
pub const FILE_NAME: &str = "temps.sqlite3";

/// Bumped when the table layout changes; see `migrate`.
const SCHEMA_VERSION: i64 = 1;

/// Readings in a SQLite file.
#[derive(Clone, Debug)]
pub struct LocalStore {
    conn: Arc<Mutex<Connection>>,
    path: Arc<PathBuf>,
}

impl LocalStore {
    /// Opens (creating if needed) the store in `dir`, and deletes readings
    /// whose expiry has passed, as DynamoDB's TTL would.
    pub fn open(dir: &Path, now: OffsetDateTime) -> Result<Self> {
        let path = dir.join(FILE_NAME);
        let fail = |source| Error::Local {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::Config(format!(
                "cannot create data directory {}: {e}",
                dir.display()
            ))
        })?;
        let conn = Connection::open(&path).map_err(fail)?;
        // Some of SQLite's lock conflicts at open (switching a new file to WAL,
        // its recovery) fail at once rather than wait for the busy timeout:
        // several processes opening one new store retry them, for at most 5 s.
        let mut attempts = 0;
        loop {
            match migrate(&conn) {
                Err(e) if is_busy(&e) && attempts < 100 => {
                    attempts += 1;
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                other => break other.map_err(fail)?,
            }
        }
        conn.execute(
            "DELETE FROM readings WHERE expires_at <= ?1",
            params![now.unix_timestamp()],
        )
        .map_err(fail)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            path: Arc::new(path),
        })
    }

    /// The database file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on the connection on a blocking thread, so SQLite's file I/O
    /// never stalls the async runtime.
    async fn with_conn<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T> {
        let conn = Arc::clone(&self.conn);
        let path = Arc::clone(&self.path);
        tokio::task::spawn_blocking(move || {
            let conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            f(&conn).map_err(|source| Error::Local {
                path: path.to_path_buf(),
                source,
            })
        })
        .await
        .map_err(|e| Error::LocalWorker(e.to_string()))?
    }
}

/// SQLite's "database is busy" or "locked": another connection holds the lock.
fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    // The busy timeout first: several handler processes (the local gateway's
    // instances) open a new store at once, and switching it to WAL takes a
    // lock that the others must wait for rather than fail on ("database is
    // locked" at init, found by the soak).
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // WAL lets a second process (a test, `sqlite3` by hand) read while the
    // handler writes; the busy timeout rides out its brief locks.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // One process migrates; the others wait, then find it done.
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let done = migrate_schema(conn).and_then(|()| conn.execute_batch("COMMIT"));
    if done.is_err() {
        // A failed step or COMMIT leaves the transaction open: closed here, so
        // that a retry starts clean.
        let _ = conn.execute_batch("ROLLBACK");
    }
    done
}

fn migrate_schema(conn: &Connection) -> rusqlite::Result<()> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version < 1 {
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS readings (
                identity_key  TEXT NOT NULL,
                reading_time  TEXT NOT NULL,
                temperature   REAL NOT NULL,
                subject_dn    TEXT NOT NULL,
                issuer_dn     TEXT NOT NULL,
                serial_number TEXT NOT NULL,
                received_at   TEXT NOT NULL,
                expires_at    INTEGER NOT NULL,
                PRIMARY KEY (identity_key, reading_time)
            ) WITHOUT ROWID;",
        )?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    }
    Ok(())
}

impl Store for LocalStore {
    async fn put(&self, new: NewReading<'_>) -> Result<PutOutcome> {
        let key = new.key.as_str().to_owned();
        let time = new.reading.time.sort_key();
        let temperature = new.reading.temperature;
        let subject = new.identity.subject_dn.clone();
        let issuer = new.identity.issuer_dn.clone();
        let serial = new.identity.serial_number.clone();
        let received = ReadingTime::from_instant(new.received_at).sort_key();
        let expires = new.expires_at.unix_timestamp();
        self.with_conn(move |conn| {
            let inserted = conn.execute(
                "INSERT INTO readings (identity_key, reading_time, temperature, subject_dn,
                     issuer_dn, serial_number, received_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (identity_key, reading_time) DO NOTHING",
                params![
                    key,
                    time,
                    temperature,
                    subject,
                    issuer,
                    serial,
                    received,
                    expires
                ],
            )?;
            if inserted == 1 {
                return Ok(PutOutcome::Created);
            }
            let stored: Option<f64> = conn
                .query_row(
                    "SELECT temperature FROM readings
                     WHERE identity_key = ?1 AND reading_time = ?2",
                    params![key, time],
                    |r| r.get(0),
                )
                .optional()?;
            // Gone between the two statements (expired and purged): report
            // it as stored, which it was an instant ago.
            Ok(stored.map_or(PutOutcome::AlreadyStored, |s| {
                outcome_against(s, temperature)
            }))
        })
        .await
    }

    async fn latest(
        &self,
        key: &IdentityKey,
        writer: Writer<'_>,
        limit: usize,
    ) -> Result<Vec<Reading>> {
        let key = key.as_str().to_owned();
        let serial = match writer {
            Writer::Any => None,
            Writer::Certificate(serial) => Some(serial.to_owned()),
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows: Vec<(f64, String)> = self
            .with_conn(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT temperature, reading_time FROM readings
                     WHERE identity_key = ?1 AND (?2 IS NULL OR serial_number = ?2)
                     ORDER BY reading_time DESC LIMIT ?3",
                )?;
                let rows =
                    stmt.query_map(params![key, serial, limit], |r| Ok((r.get(0)?, r.get(1)?)))?;
                rows.collect()
            })
            .await?;
        rows.into_iter()
            .map(|(temperature, time)| {
                Ok(Reading {
                    temperature,
                    time: ReadingTime::from_sort_key(&time)?,
                })
            })
            .collect()
    }
}
