//! The SQLite store: schema, migrations, sync-run bookkeeping and queries.
//!
//! How a run stays atomic without holding the write lock for its whole (network-bound)
//! length: while a run fetches, its records are *staged* page by page into
//! `staged_assets`, in short transactions that no reader looks at (a record equal to the
//! stored asset is only marked as seen, in memory: `RunMarks`). When the run ends,
//! `finish_run` diffs the staged rows against `assets` and applies the changes, the
//! history rows, the removals and the run's final row in ONE transaction. Readers (WAL)
//! see either the state before the run or after it, never half; a crash mid-run leaves
//! only staged rows, which `recover` deletes at the next start.
//!
//! The store knows no vendor: connectors hand it `model` records.
//! rusqlite is synchronous; async callers go through `Store::call`.
//!
//! This file holds the `Store` handle: opening the database (migrated, WAL, its files
//! private), the one writer connection and the pool of read-only readers, errors, the room
//! left on disk, and how values are written as text (`ts`, JSON lists). Beside it, one file
//! per concern, each adding its own `impl Store` block:
//!
//! - `schema`: the migrations (`migrations/NNNN_name.sql`) and the SQL functions.
//! - `runs`: a run's life: begun, staged, its removal candidates, finished; recovery.
//! - `apply`: a finished run's staged rows applied: assets, history, removals, devices.
//! - `links`: source clients linked to assetd clients by the `[[client]]` tables.
//! - `sources`: the sources' rows, schedules, present counts, purge.
//! - `queries`: the API's reads of assets, history, runs and devices.
//! - `rows`: the column lists of those reads and the row types that borrow them.
//! - `counts`: billable counts, their cache, the daily snapshots, a month's figures.
//! - `usage`: the vendors' own billing figures and the note on missing ones.
//! - `lifecycle`: warranty and support facts staged and applied, and the per-client
//!   lifecycle summary with its cache.
//! - `checkpoint`: the checkpoint thread, and releasing memory after a burst.
//! - `events`: the durable event log written beside each change, its readers, its pruning,
//!   and the hooks' outboxes.
//! - `tests`: the unit tests, whose helpers other modules' tests share.

mod apply;
mod checkpoint;
mod counts;
mod events;
mod lifecycle;
mod links;
mod queries;
mod rows;
mod runs;
mod schema;
mod sources;
mod usage;

pub use counts::BillableCounts;
pub use events::{Attempt, EventPage, HookRow};
pub use lifecycle::ClientLifecycle;
pub use links::CountAssets;
pub use queries::{AssetFilter, DeviceRow, LifecycleFilter};
pub use rows::{AssetRow, AssetSink, JsonList, LISTED_COLUMN, LifecycleRow, ListedRow, RecordRow};
pub use runs::{Apply, RemovalCandidate, Removals, RunEnd};
pub use sources::{SourceRow, SourceSchedule};
pub use usage::{OwnAverage, UsageRow, UsageSource};

use crate::config::ClientGroup;
use checkpoint::start_checkpointer;
use chrono::{DateTime, SecondsFormat, Utc};
use counts::CountsCache;
use lifecycle::LifecycleCache;
use runs::{FailedEnd, RunMarks};
use rusqlite::Connection;
use schema::{migrate, register_functions, register_listed_fields};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("database {path}: {reason}")]
    Setup { path: PathBuf, reason: String },
    /// SQLite could not write because the file system is full (or its page limit is
    /// reached), or a run stopped staging before it would be (`MIN_FREE_BYTES`). Its own
    /// variant so that every message built from it says what to do.
    #[error(
        "the disk is full ({0}); free space on the database's file system (nothing was lost; the next run retries)"
    )]
    DiskFull(String),
    #[error("database: {0}")]
    Sqlite(rusqlite::Error),
    #[error("database task failed: {0}")]
    Task(String),
    #[error("no sync run with id {0}")]
    NoSuchRun(i64),
    #[error("source `{0}` is syncing; wait for the run to finish, then purge")]
    SourceSyncing(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match &e {
            rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DiskFull => {
                StoreError::DiskFull(e.to_string())
            }
            _ => StoreError::Sqlite(e),
        }
    }
}

impl StoreError {
    /// Whether the disk is full (or SQLite's page limit reached): the message says what to do.
    pub fn is_disk_full(&self) -> bool {
        matches!(self, StoreError::DiskFull(_))
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A run stops staging when less than this is left on the database's file system. SQLite
/// needs room even to record that it has none: this keeps enough for the run's failure to
/// be written (and for the rest of the machine) instead of failing at the last byte.
pub const MIN_FREE_BYTES: u64 = 16 << 20;

/// Bytes available to the agent on the file system holding `path`; `None` if unknown.
fn free_bytes(path: &Path) -> Option<u64> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let st = rustix::fs::statvfs(dir).ok()?;
    Some(st.f_bavail.saturating_mul(st.f_frsize))
}

pub fn ts(t: DateTime<Utc>) -> String {
    // Fixed width, so text order is time order in SQL comparisons.
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    parse_stored_ts(s).or_else(|| {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    })
}

/// Reads `ts`'s own shape, `YYYY-MM-DDTHH:MM:SS.ffffffZ`, without the general RFC 3339
/// parser, which was a tenth of a ListAssets page's CPU (four timestamps per asset). Any
/// other shape (an older value, a leap second) is left to that parser.
fn parse_stored_ts(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    let shape = b.len() == 27
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'.'
        && b[26] == b'Z';
    if !shape {
        return None;
    }
    let digits = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let year = i32::try_from(digits(0, 4)?).ok()?;
    chrono::NaiveDate::from_ymd_opt(year, digits(5, 7)?, digits(8, 10)?)?
        .and_hms_micro_opt(
            digits(11, 13)?,
            digits(14, 16)?,
            digits(17, 19)?,
            digits(20, 26)?,
        )
        .map(|t| t.and_utc())
}

/// Reads a stored calendar date, `YYYY-MM-DD` (the lifecycle columns); anything else is no
/// date. Without chrono's format parser: a ListAssets page reads two per asset.
pub(crate) fn parse_day(s: &str) -> Option<chrono::NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digits = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    chrono::NaiveDate::from_ymd_opt(
        i32::try_from(digits(0, 4)?).ok()?,
        digits(5, 7)?,
        digits(8, 10)?,
    )
}

/// A calendar date as stored and compared in SQL: `YYYY-MM-DD`, so text order is date order.
pub(crate) fn day(d: chrono::NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn json_list(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

fn parse_list(s: &str) -> Vec<String> {
    serde_json::from_str(s).unwrap_or_default()
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    /// Idle read connections; a reader is taken for one query and put back.
    readers: Mutex<Vec<Connection>>,
    /// The config's `[[client]]` tables, for linking source clients as runs add them.
    groups: Mutex<Arc<Vec<ClientGroup>>>,
    /// Failed runs whose end could not be written (a full disk), written before the next
    /// run begins so none stays `running`.
    unsaved_ends: Mutex<Vec<FailedEnd>>,
    /// Bumped after every commit that can change billable counts; see `CountsCache`.
    counts_generation: AtomicU64,
    counts_cache: Mutex<Option<CountsCache>>,
    /// Bumped after every commit that can change the lifecycle summary; see `LifecycleCache`.
    lifecycle_generation: AtomicU64,
    lifecycle_cache: Mutex<Option<LifecycleCache>>,
    /// How far back the last `billable_counts` caller's grace cutoff was, so the cache can be
    /// refilled for it after a run (`warm_counts`).
    last_grace: Mutex<Option<chrono::Duration>>,
    /// What running runs' pages said about stored assets, by run id (`RunMarks`).
    marks: Mutex<HashMap<i64, RunMarks>>,
    /// The last event id committed, for `subscribe_events` (see `events`).
    events: tokio::sync::watch::Sender<i64>,
}

/// A handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave a Connection half-changed (SQLite rolls
    // back an open transaction when its guard drops), so a poisoned lock is still usable.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Store {
    /// Opens (creating if needed) the database at `path`, runs migrations, sets WAL, and
    /// makes the database files private to the agent's user.
    pub fn open(path: &Path) -> Result<Store> {
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
            && !dir.exists()
        {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Setup {
                path: path.to_path_buf(),
                reason: format!("cannot create directory {}: {e}", dir.display()),
            })?;
        }
        make_private(path).map_err(|e| StoreError::Setup {
            path: path.to_path_buf(),
            reason: if e.raw_os_error() == Some(libc::ELOOP) {
                "cannot create or secure the database file: it is a symbolic link, which assetd does not follow (one planted there could make it write elsewhere); set `database` to the real file's path".to_string()
            } else {
                format!("cannot create or secure the database file: {e}")
            },
        })?;
        let mut writer = Connection::open(path).map_err(open_err)?;
        configure(&writer).map_err(open_err)?;
        register_functions(&writer).map_err(open_err)?;
        let mode: String = writer
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .map_err(open_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Setup {
                path: path.to_path_buf(),
                reason: format!("could not switch to WAL journaling (got `{mode}`)"),
            });
        }
        migrate(&writer).map_err(|e| StoreError::Setup {
            path: path.to_path_buf(),
            reason: format!("migration failed: {e}"),
        })?;
        let last_event = events::last_event_id(&writer).map_err(open_err)?;
        if let Err(e) = start_checkpointer(&mut writer, path) {
            // SQLite's own autocheckpoint stays: slower runs, nothing else.
            tracing::warn!(error = %e, "Cannot start the checkpoint thread; checkpoints run in each big commit.");
        }
        Ok(Store {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                writer: Mutex::new(writer),
                readers: Mutex::new(Vec::new()),
                groups: Mutex::new(Arc::new(Vec::new())),
                unsaved_ends: Mutex::new(Vec::new()),
                counts_generation: AtomicU64::new(0),
                counts_cache: Mutex::new(None),
                lifecycle_generation: AtomicU64::new(0),
                lifecycle_cache: Mutex::new(None),
                last_grace: Mutex::new(None),
                marks: Mutex::new(HashMap::new()),
                events: tokio::sync::watch::Sender::new(last_event),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs blocking store work off the async threads.
    pub async fn call<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T> + Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }

    fn with_reader<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = lock(&self.inner.readers).pop();
        let conn = match conn {
            Some(c) => c,
            None => {
                let c = Connection::open_with_flags(
                    &self.inner.path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                        | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                configure(&c)?;
                register_listed_fields(&c)?;
                c
            }
        };
        let result = f(&conn);
        let mut idle = lock(&self.inner.readers);
        // Keep a few warm connections; more are opened under load and dropped after.
        if idle.len() < 16 {
            idle.push(conn);
        }
        result
    }

    fn with_writer<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let mut conn = lock(&self.inner.writer);
        f(&mut conn)
    }

    /// Refuses to stage more when the file system is nearly full (`MIN_FREE_BYTES`).
    fn ensure_room(&self) -> Result<()> {
        match free_bytes(&self.inner.path) {
            Some(free) if free < MIN_FREE_BYTES => Err(StoreError::DiskFull(format!(
                "{} MiB left on the file system of {}; runs stop below {} MiB so their outcome can still be saved",
                free >> 20,
                self.inner.path.display(),
                MIN_FREE_BYTES >> 20
            ))),
            _ => Ok(()),
        }
    }

    /// The database file plus its WAL, in bytes.
    pub fn size_bytes(&self) -> i64 {
        let wal = PathBuf::from(format!("{}-wal", self.inner.path.display()));
        [self.inner.path.as_path(), wal.as_path()]
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len() as i64)
            .sum()
    }
}

fn configure(c: &Connection) -> rusqlite::Result<()> {
    c.busy_timeout(std::time::Duration::from_secs(10))?;
    c.pragma_update(None, "synchronous", "NORMAL")?;
    c.pragma_update(None, "foreign_keys", "ON")?;
    // Plans never depend on bound values: without this SQLite marks some parameters (an
    // integer compared for equality, a LIKE pattern) as plan-changing, and every cached
    // statement that binds a new value to one is compiled again on its next step. That was
    // a fifth of a ListAssets page's CPU. Our queries are shaped for their indexes (and we
    // keep no STAT4 samples), so bound values have nothing to offer the planner.
    c.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    // A first sync of a large inventory grows the WAL to hundreds of megabytes, and SQLite
    // keeps the file at its largest size; the next start (or a reader after a crash) then
    // reads through all of it to rebuild the WAL index. Once checkpointed, cut it back.
    c.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)?;
    Ok(())
}

/// Makes the database 0600 before SQLite opens it: a new file is created 0600 (whatever the
/// umask, which can only take bits away), and an existing one, with any `-wal`/`-shm` left
/// by a crash, is tightened through its descriptor. SQLite creates the WAL and SHM files
/// with the database file's mode, so they too are private from their first byte (issue 21:
/// a chmod after the migrations left every file world-readable until then).
/// `O_NOFOLLOW`: a symlink planted at the path is refused, not followed.
fn make_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let private = std::fs::Permissions::from_mode(0o600);
    let db = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    db.set_permissions(private.clone())?;
    for suffix in ["-wal", "-shm"] {
        let p = PathBuf::from(format!("{}{suffix}", path.display()));
        match std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&p)
        {
            Ok(f) => f.set_permissions(private.clone())?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests;
