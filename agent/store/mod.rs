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

use crate::config::ClientGroup;
use crate::devices;
use crate::idset::IdSet;
use crate::model::{
    Coverage, ReportedAsset, RunCounts, RunKind, RunState, RunTrigger, SourceClient, SyncRun,
    VendorUsage, is_billable,
};
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard};

mod checkpoint;
mod counts;
mod links;
mod queries;
mod rows;
mod schema;
mod usage;

use checkpoint::start_checkpointer;
pub use counts::BillableCounts;
use counts::{CountsCache, cutoff_text, has_snapshot, snapshot_counts};
pub use links::CountAssets;
use links::relink;
pub use queries::{AssetFilter, DeviceRow};
use rows::record_from_row;
pub use rows::{AssetRow, AssetSink, JsonList, LISTED_COLUMN, ListedRow, RecordRow};
use schema::{migrate, register_functions, register_listed_fields, write_asset_keys};
pub use usage::{OwnAverage, UsageRow, UsageSource};

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
    use std::os::unix::ffi::OsStrExt;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let dir = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs only writes the struct we own; the path is NUL-terminated. An
    // all-zero statvfs is a valid value of this plain C struct.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(dir.as_ptr(), &mut st) } != 0 {
        return None;
    }
    // The field types differ across platforms.
    #[allow(clippy::unnecessary_cast)]
    let free = (st.f_bavail as u64).saturating_mul(st.f_frsize as u64);
    Some(free)
}

/// The fields of an asset that a vendor owns, in the order of `field_values`; history
/// rows use these names.
const VENDOR_FIELDS: [&str; 16] = [
    "source_client",
    "name",
    "category",
    "vendor_type",
    "manufacturer",
    "model",
    "serial",
    "mac_addresses",
    "ip_addresses",
    "os",
    "firmware",
    "online_status",
    "managed",
    "last_seen",
    "updated_at",
    "raw",
];

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

fn json_list(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

fn parse_list(s: &str) -> Vec<String> {
    serde_json::from_str(s).unwrap_or_default()
}

/// What a finished run does to the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Apply {
    /// Nothing (failed or cancelled): the previous data stays untouched.
    Nothing,
    /// Add and update what was fetched; mark nothing removed (incremental runs, and full
    /// runs that read no unit to the end).
    Upserts,
    /// A full run: add and update what was fetched, and settle the assets it found absent
    /// (`Store::removal_candidates`) as the sync layer decided.
    Reconcile(Removals),
}

/// What a full run decided about the present assets it found absent from what it read to
/// the end. Ids not in the candidates the store gave, or seen by the run after all, are
/// left alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Removals {
    /// Confirmed gone: marked removed.
    pub remove: Vec<i64>,
    /// Absent but not confirmed (held, or the vendor could not say): kept, and noted as
    /// absent since now if they were not already, so a later complete run that finds them
    /// absent again confirms them.
    pub absent: Vec<i64>,
    /// The vendor confirmed them present after all (the listing missed them): kept, and no
    /// longer noted as absent.
    pub present: Vec<i64>,
}

#[derive(Debug, Clone)]
pub struct RunEnd {
    pub state: RunState,
    pub apply: Apply,
    pub requests: i64,
    pub retries: i64,
    pub error: String,
    /// Records and units the run could not read, and removals it held (the run record's
    /// `skipped`, `skipped_units`, `removals_held`).
    pub skipped: i64,
    pub skipped_units: i64,
    pub removals_held: i64,
    /// Where the next incremental run starts (by the vendor's clock when the connector knew
    /// it); `None`: the run's own start.
    pub watermark: Option<DateTime<Utc>>,
}

/// A present asset that a full run did not see although it read the asset's unit to the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemovalCandidate {
    pub id: i64,
    pub external_id: String,
    /// Whether an earlier complete run already found it absent (`absent_since`): this is its
    /// second absence, which confirms it where the vendor cannot.
    pub absent_before: bool,
}

#[derive(Debug, Clone, Default)]
pub struct SourceRow {
    pub name: String,
    pub kind: String,
    pub incremental_since: Option<DateTime<Utc>>,
    pub last_full_at: Option<DateTime<Utc>>,
    pub asset_count: i64,
    pub last_run: Option<SyncRun>,
    /// Why the vendor's billing figures cannot be read ("" when they can).
    pub billing_note: String,
}

/// What the scheduler needs of a source's history.
#[derive(Debug, Clone, Default)]
pub struct SourceSchedule {
    pub last_full_at: Option<DateTime<Utc>>,
    pub incremental_since: Option<DateTime<Utc>>,
    /// When the source's last run (of any outcome) started.
    pub last_run_started: Option<DateTime<Utc>>,
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
    /// How far back the last `billable_counts` caller's grace cutoff was, so the cache can be
    /// refilled for it after a run (`warm_counts`).
    last_grace: Mutex<Option<chrono::Duration>>,
    /// What running runs' pages said about stored assets, by run id (`RunMarks`).
    marks: Mutex<HashMap<i64, RunMarks>>,
}

/// What a run's pages said about assets already stored, kept in memory until the run ends.
/// Staging a row for each unchanged asset was a fifth of a resync's CPU; a bit is enough,
/// because only removals (and the fetched count) need to know which assets were seen. A
/// crash loses nothing with them: a crashed run's staged rows are dropped too.
#[derive(Debug, Default)]
struct RunMarks {
    source: String,
    /// Stored assets whose latest copy in the run equals the stored one.
    unchanged: IdSet,
    /// Stored (present) assets whose latest copy in the run is a staged row.
    changed: IdSet,
    /// A page's transaction failed after the marks had taken its assets in, so they may
    /// name assets whose rows were rolled back: the run must not remove anything.
    unreliable: bool,
}

/// The record of a run that failed, as `finish_run` writes it when the run's own
/// transaction could not be saved.
struct FailedEnd {
    run_id: i64,
    finished: String,
    requests: i64,
    retries: i64,
    error: String,
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
        if let Err(e) = start_checkpointer(&mut writer, path) {
            // SQLite's own autocheckpoint stays: slower runs, nothing else.
            tracing::warn!(error = %e, "Cannot start the checkpoint thread; checkpoints run in each big commit.");
        }
        restrict_permissions(path);
        Ok(Store {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                writer: Mutex::new(writer),
                readers: Mutex::new(Vec::new()),
                groups: Mutex::new(Arc::new(Vec::new())),
                unsaved_ends: Mutex::new(Vec::new()),
                counts_generation: AtomicU64::new(0),
                counts_cache: Mutex::new(None),
                last_grace: Mutex::new(None),
                marks: Mutex::new(HashMap::new()),
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

    // -----------------------------------------------------------------------------------
    // Runs

    /// Marks runs left `running` by a crash as failed and drops their staged rows.
    /// Returns the sources whose run was interrupted (each once), so they can run again.
    pub fn recover(&self) -> Result<Vec<String>> {
        let mut sources = self.with_writer(|c| {
            let mut st = c.prepare(
                "UPDATE sync_runs SET state = 'failed', finished = ?1,
                 error = 'interrupted: the agent stopped during this run; the next run starts over'
                 WHERE state = 'running' RETURNING source",
            )?;
            let sources = st
                .query_map(params![ts(Utc::now())], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(sources)
        })?;
        sources.sort();
        sources.dedup();
        // Separately, and allowed to fail: on a full disk the runs' states above are what
        // matters; the staging goes with the next run's start (`begin_run`).
        let _ = self.with_writer(|c| {
            let tx = c.transaction()?;
            drop_ended_staging(&tx)?;
            tx.commit()?;
            Ok(())
        });
        Ok(sources)
    }

    pub fn ensure_source(&self, name: &str, kind: &str) -> Result<()> {
        self.with_writer(|c| {
            c.execute(
                "INSERT INTO sources (name, kind) VALUES (?1, ?2)
                 ON CONFLICT (name) DO UPDATE SET kind = excluded.kind",
                params![name, kind],
            )?;
            Ok(())
        })
    }

    /// Records a new run as `running` and returns it.
    pub fn begin_run(&self, source: &str, kind: RunKind, trigger: RunTrigger) -> Result<SyncRun> {
        let started = Utc::now();
        self.save_unsaved_ends();
        // Staging of ended runs (left for after their end, or not dropped then: a full
        // disk) goes now, before this run takes more space. Allowed to fail: recording
        // the run matters more.
        let _ = self.drop_staging();
        // A run of this source that never reached `finish_run` (its task was dropped)
        // leaves its marks behind; one run per source is ever running.
        lock(&self.inner.marks).retain(|_, m| m.source != source);
        let id = self.with_writer(|c| {
            c.execute(
                "INSERT INTO sync_runs (source, kind, trigger, started, state) VALUES (?1, ?2, ?3, ?4, 'running')",
                params![source, kind.as_str(), trigger.as_str(), ts(started)],
            )?;
            Ok(c.last_insert_rowid())
        })?;
        Ok(SyncRun {
            id,
            source: source.to_string(),
            kind,
            trigger,
            started: parse_ts(&ts(started)).unwrap_or(started),
            finished: None,
            state: RunState::Running,
            counts: RunCounts::default(),
            requests: 0,
            retries: 0,
            error: String::new(),
        })
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

    pub fn stage_clients(&self, run_id: i64, clients: &[SourceClient]) -> Result<()> {
        self.ensure_room()?;
        self.with_writer(|c| {
            let tx = c.transaction()?;
            {
                let mut st = tx.prepare_cached(
                    "INSERT OR REPLACE INTO staged_clients (run_id, external_id, name, aliases) VALUES (?1, ?2, ?3, ?4)",
                )?;
                for cl in clients {
                    st.execute(params![run_id, cl.external_id, cl.name, json_list(&cl.aliases)])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// Stages a page of fetched assets for `run`. One that is identical to its present
    /// stored row is only marked (`RunMarks`: it still counts as fetched and as seen by a
    /// full run); the rest are staged in full, for the apply to insert or diff. The
    /// comparison holds until the apply: only this source's run writes this source's
    /// assets. If the page fails, the run can no longer remove anything (`unreliable`).
    pub fn stage_assets(&self, run: &SyncRun, assets: &[ReportedAsset]) -> Result<()> {
        self.ensure_room()?;
        let mut all_marks = lock(&self.inner.marks);
        let marks = all_marks.entry(run.id).or_insert_with(|| RunMarks {
            source: run.source.clone(),
            ..RunMarks::default()
        });
        let staged = self.with_writer(|c| stage_page(c, run, assets, marks));
        if staged.is_err() {
            marks.unreliable = true;
        }
        staged
    }

    /// Marks as seen and unchanged the present assets of `run`'s source with these external
    /// ids: a connector that knows from the listing alone that a record did not change
    /// (Passportal's `last_modified`) says so instead of reading it again. Ids that are not
    /// present are ignored: the run has not seen them.
    pub fn stage_unchanged(&self, run: &SyncRun, external_ids: &[String]) -> Result<()> {
        let mut all_marks = lock(&self.inner.marks);
        let marks = all_marks.entry(run.id).or_insert_with(|| RunMarks {
            source: run.source.clone(),
            ..RunMarks::default()
        });
        self.with_writer(|c| {
            let tx = c.transaction()?;
            {
                let mut find = tx.prepare_cached(
                    "SELECT id FROM assets WHERE source = ?1 AND external_id = ?2 AND removed_at IS NULL",
                )?;
                let mut unstage = tx.prepare_cached(
                    "DELETE FROM staged_assets WHERE run_id = ?1 AND external_id = ?2",
                )?;
                for external_id in external_ids {
                    let Some(id) = find
                        .query_row(params![run.source, external_id], |r| r.get::<_, i64>(0))
                        .optional()?
                    else {
                        continue;
                    };
                    marks.unchanged.insert(id);
                    if marks.changed.remove(id) {
                        unstage.execute(params![run.id, external_id])?;
                    }
                }
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// The vendor's last-modified time (`updated_at`) of each present asset of `source`, by
    /// external id, for connectors that skip re-reading records that did not change.
    pub fn known_versions(&self, source: &str) -> Result<HashMap<String, DateTime<Utc>>> {
        self.with_reader(|c| {
            let mut st = c.prepare_cached(
                "SELECT external_id, updated_at FROM assets
                 WHERE source = ?1 AND removed_at IS NULL AND updated_at IS NOT NULL",
            )?;
            let rows = st.query_map([source], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?;
            let mut out = HashMap::new();
            for row in rows {
                let (id, at) = row?;
                if let Some(at) = parse_stored_ts(&at) {
                    out.insert(id, at);
                }
            }
            Ok(out)
        })
    }

    /// The present assets of `run`'s source that the run has not seen although `coverage`
    /// says it read their unit to the end, leaving out `skipped` (records the run could not
    /// read, by external id). Empty when a page of the run could not be staged (its marks
    /// may be wrong) or the coverage is `Nothing`.
    pub fn removal_candidates(
        &self,
        run: &SyncRun,
        coverage: &Coverage,
        skipped: &HashSet<String>,
    ) -> Result<Vec<RemovalCandidate>> {
        if *coverage == Coverage::Nothing {
            return Ok(Vec::new());
        }
        let all_marks = lock(&self.inner.marks);
        let marks = all_marks.get(&run.id);
        if marks.is_some_and(|m| m.unreliable) {
            tracing::warn!(
                run_id = run.id,
                "A page of this run could not be staged; nothing is marked removed this time."
            );
            return Ok(Vec::new());
        }
        self.with_writer(|c| {
            let mut st = c.prepare_cached(
                "SELECT a.id, a.external_id, COALESCE(sc.external_id, ''), a.absent_since IS NOT NULL
                 FROM assets a LEFT JOIN source_clients sc ON sc.id = a.source_client_id
                 WHERE a.source = ?1 AND a.removed_at IS NULL
                   AND NOT EXISTS (SELECT 1 FROM staged_assets s WHERE s.run_id = ?2 AND s.external_id = a.external_id)",
            )?;
            let rows = st.query_map(params![run.source, run.id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, bool>(3)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (id, external_id, client, absent_before) = row?;
                let seen = marks.is_some_and(|m| m.unchanged.contains(id));
                if seen || skipped.contains(&external_id) || !coverage.covers(&client) {
                    continue;
                }
                out.push(RemovalCandidate {
                    id,
                    external_id,
                    absent_before,
                });
            }
            Ok(out)
        })
    }

    /// The number of present assets of `source` (what a removal limit is measured against).
    pub fn present_assets(&self, source: &str) -> Result<i64> {
        self.with_reader(|c| {
            Ok(
                c.prepare_cached("SELECT present_assets FROM sources WHERE name = ?1")?
                    .query_row([source], |r| r.get(0))
                    .optional()?
                    .unwrap_or(0),
            )
        })
    }

    /// Stages a vendor's billing figures; they replace the stored ones for the same client and
    /// month when the run is applied.
    pub fn stage_usage(&self, run_id: i64, usage: &[VendorUsage]) -> Result<()> {
        self.ensure_room()?;
        self.with_writer(|c| {
            let tx = c.transaction()?;
            {
                let mut st = tx.prepare_cached(
                    "INSERT OR REPLACE INTO staged_vendor_usage (run_id, external_id, period, days, device_days,
                     average_billable) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?;
                for u in usage {
                    st.execute(params![
                        run_id,
                        u.source_client_id,
                        u.period,
                        u.days,
                        u.device_days,
                        u.average_billable
                    ])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// Ends a run: applies its staged records as `end.apply` says and records the outcome,
    /// all in one transaction (see the module docs).
    pub fn finish_run(&self, run: &SyncRun, end: RunEnd) -> Result<SyncRun> {
        self.finish_run_at(run, end, Utc::now())
    }

    /// `finish_run` with the clock given: `finished` stamps the run's changes and the day of
    /// its billable-counts snapshot; the run itself ends when its changes are applied (the
    /// apply of a large first run takes seconds, and a run's duration must include it).
    pub fn finish_run_at(
        &self,
        run: &SyncRun,
        end: RunEnd,
        finished: DateTime<Utc>,
    ) -> Result<SyncRun> {
        let groups = lock(&self.inner.groups).clone();
        let marks = lock(&self.inner.marks).remove(&run.id).unwrap_or_default();
        let mut counts_changed = false;
        let began = std::time::Instant::now();
        let mut phases = Phases::default();
        let result = self.with_writer(|c| {
            let tx = c.transaction()?;
            let staged: i64 = tx.query_row(
                "SELECT COUNT(*) FROM staged_assets WHERE run_id = ?1",
                [run.id],
                |r| r.get(0),
            )?;
            let fetched = staged + marks.unchanged.len() as i64;
            let mut counts = RunCounts {
                fetched,
                ..RunCounts::default()
            };
            if end.apply != Apply::Nothing {
                let mut effects = Effects {
                    counts: apply_clients(&tx, run)? + relink(&tx, Some(&run.source), &groups)? > 0,
                    identities: false,
                    returned: 0,
                };
                apply_assets(&tx, run, finished, &mut counts, &mut effects)?;
                phases.assets = began.elapsed();
                clear_absence(&tx, run, &marks.unchanged)?;
                if let Apply::Reconcile(removals) = &end.apply {
                    if marks.unreliable {
                        tracing::warn!(
                            run_id = run.id,
                            "A page of this run could not be staged; nothing is marked removed this time."
                        );
                    } else {
                        counts.removed =
                            apply_removals(&tx, run, finished, removals, &marks.unchanged)?;
                        if counts.removed > 0 {
                            effects.identities = true;
                            effects.counts = true;
                        }
                    }
                }
                let present = counts.added + effects.returned - counts.removed;
                if present != 0 {
                    tx.execute(
                        "UPDATE sources SET present_assets = present_assets + ?2 WHERE name = ?1",
                        params![run.source, present],
                    )?;
                }
                apply_usage(&tx, run, finished)?;
                // Both are whole-inventory passes: a run that changed no serial, MAC,
                // category, client or presence (most runs) skips them.
                let t = std::time::Instant::now();
                if effects.identities {
                    merge_devices(&tx)?;
                }
                phases.merge = t.elapsed();
                let t = std::time::Instant::now();
                if effects.counts || !has_snapshot(&tx, finished)? {
                    snapshot_counts(&tx, finished)?;
                }
                phases.counts = t.elapsed();
                counts_changed = effects.counts;
                // The next incremental run asks for changes since this run *started* (by the
                // vendor's clock when the connector read it), so nothing modified during the
                // run is missed.
                tx.execute(
                    "UPDATE sources SET incremental_since = ?2,
                     last_full_at = CASE WHEN ?3 THEN ?4 ELSE last_full_at END WHERE name = ?1",
                    params![
                        run.source,
                        ts(end.watermark.unwrap_or(run.started)),
                        run.kind == RunKind::Full,
                        ts(run.started)
                    ],
                )?;
            }
            // The run's staged rows are left for `drop_staging`, after the run has ended:
            // nothing reads another run's staging, and a first sync's takes a tenth of a
            // second to delete.
            let ended = chrono::Duration::from_std(began.elapsed())
                .ok()
                .and_then(|d| finished.checked_add_signed(d))
                .unwrap_or(finished);
            tx.execute(
                "UPDATE sync_runs SET finished = ?2, state = ?3, fetched = ?4, added = ?5, updated = ?6,
                 unchanged = ?7, removed = ?8, requests = ?9, retries = ?10, error = ?11, skipped = ?12,
                 skipped_units = ?13, removals_held = ?14 WHERE id = ?1",
                params![
                    run.id,
                    ts(ended),
                    end.state.as_str(),
                    counts.fetched,
                    counts.added,
                    counts.updated,
                    counts.unchanged,
                    counts.removed,
                    end.requests,
                    end.retries,
                    end.error,
                    end.skipped,
                    end.skipped_units,
                    end.removals_held
                ],
            )?;
            let t = std::time::Instant::now();
            tx.commit()?;
            phases.commit = t.elapsed();
            Ok(())
        });
        tracing::debug!(
            run_id = run.id,
            total_ms = began.elapsed().as_millis() as u64,
            assets_ms = phases.assets.as_millis() as u64,
            merge_ms = phases.merge.as_millis() as u64,
            counts_ms = phases.counts.as_millis() as u64,
            commit_ms = phases.commit.as_millis() as u64,
            "Run applied."
        );
        if counts_changed {
            self.counts_changed();
        }
        if let Err(e) = result {
            // The big transaction rolled back: record the failure on its own so the run
            // does not stay `running`, and keep the previous data as it was. A full disk
            // explains itself (see `StoreError::DiskFull`).
            let failed = FailedEnd {
                run_id: run.id,
                finished: ts(finished),
                requests: end.requests,
                retries: end.retries,
                error: format!("could not save the run: {e}"),
            };
            // The run's row first: one page, the write most likely to fit on a full disk.
            // If even that does not fit, it is written before the next run begins.
            if self.write_failed_end(&failed).is_err() {
                lock(&self.inner.unsaved_ends).push(failed);
            } else {
                // Many pages; if they do not fit now, `begin_run` or `recover` drops them
                // later (no run reads another run's staging).
                let _ = self.with_writer(|c| {
                    let tx = c.transaction()?;
                    tx.execute("DELETE FROM staged_assets WHERE run_id = ?1", [run.id])?;
                    tx.execute("DELETE FROM staged_clients WHERE run_id = ?1", [run.id])?;
                    tx.execute(
                        "DELETE FROM staged_vendor_usage WHERE run_id = ?1",
                        [run.id],
                    )?;
                    tx.commit()?;
                    Ok(())
                });
            }
            return Err(e);
        }
        self.get_run(run.id)?.ok_or(StoreError::NoSuchRun(run.id))
    }

    /// Deletes the staged rows of runs that have ended (`finish_run` leaves them so the
    /// run ends sooner; `begin_run` and `recover` also call this).
    pub fn drop_staging(&self) -> Result<()> {
        self.with_writer(|c| {
            let tx = c.transaction()?;
            drop_ended_staging(&tx)?;
            tx.commit()?;
            Ok(())
        })
    }

    fn write_failed_end(&self, end: &FailedEnd) -> Result<()> {
        self.with_writer(|c| {
            c.execute(
                "UPDATE sync_runs SET finished = ?2, state = 'failed', requests = ?3, retries = ?4, error = ?5
                 WHERE id = ?1 AND state = 'running'",
                params![end.run_id, end.finished, end.requests, end.retries, end.error],
            )?;
            Ok(())
        })
    }

    /// Writes the failed ends `finish_run` could not, keeping those that still do not fit.
    fn save_unsaved_ends(&self) {
        let pending = std::mem::take(&mut *lock(&self.inner.unsaved_ends));
        let still: Vec<FailedEnd> = pending
            .into_iter()
            .filter(|end| self.write_failed_end(end).is_err())
            .collect();
        lock(&self.inner.unsaved_ends).extend(still);
    }
}

impl Store {
    /// Every source the database knows, with its present asset count and last run.
    pub fn list_sources(&self, grace_cutoff: Option<DateTime<Utc>>) -> Result<Vec<SourceRow>> {
        let cutoff = cutoff_text(grace_cutoff);
        let mut rows = self.with_reader(|c| {
            let mut st = c.prepare_cached(
                "SELECT s.name, s.kind, s.incremental_since, s.last_full_at,
                   s.present_assets
                     + (SELECT COUNT(*) FROM assets a WHERE a.source = s.name AND a.removed_at > ?1),
                   s.billing_note
                 FROM sources s ORDER BY s.name",
            )?;
            let rows = st
                .query_map([&cutoff], |r| {
                    Ok(SourceRow {
                        name: r.get(0)?,
                        kind: r.get(1)?,
                        incremental_since: r.get::<_, Option<String>>(2)?.and_then(|s| parse_ts(&s)),
                        last_full_at: r.get::<_, Option<String>>(3)?.and_then(|s| parse_ts(&s)),
                        asset_count: r.get(4)?,
                        last_run: None,
                        billing_note: r.get(5)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })?;
        for row in &mut rows {
            row.last_run = self.list_runs(Some(&row.name), 0, 1)?.into_iter().next();
        }
        Ok(rows)
    }

    pub fn source_schedule(&self, source: &str) -> Result<SourceSchedule> {
        self.with_reader(|c| {
            let opt = |s: Option<String>| s.and_then(|s| parse_ts(&s));
            let (last_full_at, incremental_since) = c
                .prepare_cached(
                    "SELECT last_full_at, incremental_since FROM sources WHERE name = ?1",
                )?
                .query_row([source], |r| Ok((opt(r.get(0)?), opt(r.get(1)?))))
                .optional()?
                .unwrap_or_default();
            let last_run_started = c
                .prepare_cached(
                    "SELECT started FROM sync_runs WHERE source = ?1 ORDER BY id DESC LIMIT 1",
                )?
                .query_row([source], |r| Ok(opt(r.get(0)?)))
                .optional()?
                .flatten();
            Ok(SourceSchedule {
                last_full_at,
                incremental_since,
                last_run_started,
            })
        })
    }

    /// When each source's last successful (`ok`) run finished, for the metrics.
    pub fn last_successes(&self) -> Result<Vec<(String, DateTime<Utc>)>> {
        self.with_reader(|c| {
            let mut st = c.prepare_cached(
                "SELECT source, MAX(finished) FROM sync_runs
                 WHERE state = 'ok' AND finished IS NOT NULL GROUP BY source",
            )?;
            let rows = st
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows
                .into_iter()
                .filter_map(|(source, t)| parse_ts(&t).map(|t| (source, t)))
                .collect())
        })
    }

    pub fn count_assets(&self) -> Result<i64> {
        self.with_reader(|c| {
            Ok(c.query_row(
                "SELECT COALESCE(SUM(present_assets), 0) FROM sources",
                [],
                |r| r.get(0),
            )?)
        })
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

    /// Deletes every row of a source: assets, their history, runs and clients.
    pub fn purge_source(&self, source: &str) -> Result<i64> {
        self.with_writer(|c| {
            let tx = c.transaction()?;
            tx.execute(
                "DELETE FROM asset_changes WHERE asset_id IN (SELECT id FROM assets WHERE source = ?1)",
                [source],
            )?;
            // A scan of asset_keys (no index by asset since migration 7): purges are rare,
            // and this also takes any key that no longer matches its asset's values.
            tx.execute(
                "DELETE FROM asset_keys WHERE asset_id IN (SELECT id FROM assets WHERE source = ?1)",
                [source],
            )?;
            let n = tx.execute("DELETE FROM assets WHERE source = ?1", [source])?;
            // Other sources' assets that were one device with these are their own again.
            merge_devices(&tx)?;
            tx.execute("DELETE FROM sync_runs WHERE source = ?1 AND state != 'running'", [source])?;
            tx.execute("DELETE FROM source_clients WHERE source = ?1", [source])?;
            tx.execute("DELETE FROM vendor_usage WHERE source = ?1", [source])?;
            tx.execute("DELETE FROM sources WHERE name = ?1", [source])?;
            tx.commit()?;
            Ok(n as i64)
        })
        .inspect(|_| self.counts_changed())
    }
}

/// Deletes the staged rows of every run that is not `running`: ended runs drop their own
/// (in `finish_run`), so these are left over from a crash or a failed cleanup. A run in
/// progress is always `running` until the transaction that drops its staging commits.
fn drop_ended_staging(tx: &rusqlite::Transaction) -> rusqlite::Result<()> {
    for table in ["staged_assets", "staged_clients", "staged_vendor_usage"] {
        tx.execute(
            &format!(
                "DELETE FROM {table} WHERE run_id NOT IN (SELECT id FROM sync_runs WHERE state = 'running')"
            ),
            [],
        )?;
    }
    Ok(())
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

/// Deletes an asset's rows of `asset_keys`, given the serial and MACs it was stored with:
/// the rows are exactly `identity_keys` of those (a change to `identity_keys` comes with a
/// migration that rebuilds the table), so each is found by primary key.
fn delete_asset_keys(
    c: &Connection,
    id: i64,
    serial: &str,
    macs: &[String],
) -> rusqlite::Result<()> {
    let mut st = c.prepare_cached("DELETE FROM asset_keys WHERE key = ?1 AND asset_id = ?2")?;
    for key in devices::identity_keys(serial, macs) {
        st.execute(params![key, id])?;
    }
    Ok(())
}

fn restrict_permissions(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    for suffix in ["", "-wal", "-shm"] {
        let p = PathBuf::from(format!("{}{suffix}", path.display()));
        if p.exists() {
            let _ = std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600));
        }
    }
}

/// Stages one page of a run: a stored asset that arrives unchanged becomes a mark, any
/// other asset a staged row. Within a run the last copy of an asset wins.
fn stage_page(
    c: &mut Connection,
    run: &SyncRun,
    assets: &[ReportedAsset],
    marks: &mut RunMarks,
) -> Result<()> {
    let tx = c.transaction()?;
    {
        // An empty source (a first sync) has nothing to compare with.
        let has_assets: bool = tx
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM assets WHERE source = ?1)")?
            .query_row([&run.source], |r| r.get(0))?;
        let mut stored = tx.prepare_cached(
            "SELECT COALESCE(sc.external_id, ''), a.name, a.category, a.vendor_type, a.manufacturer,
               a.model, a.serial, a.mac_addresses, a.ip_addresses, a.os, a.firmware, a.online_status,
               a.managed, a.last_seen, a.updated_at, a.raw, a.id
             FROM assets a LEFT JOIN source_clients sc ON sc.id = a.source_client_id
             WHERE a.source = ?1 AND a.external_id = ?2 AND a.removed_at IS NULL",
        )?;
        let mut unstage =
            tx.prepare_cached("DELETE FROM staged_assets WHERE run_id = ?1 AND external_id = ?2")?;
        let mut st = tx.prepare_cached(
            "INSERT OR REPLACE INTO staged_assets (run_id, external_id, source_client_external_id, name, category,
             vendor_type, manufacturer, model, serial, mac_addresses, ip_addresses, os, firmware, online_status,
             managed, last_seen, updated_at, raw, billable)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
        )?;
        for a in assets {
            let macs = json_list(&a.mac_addresses);
            let ips = json_list(&a.ip_addresses);
            let last_seen = a.last_seen.map(ts);
            let updated_at = a.updated_at.map(ts);
            // The stored asset's id, and whether this copy equals it.
            let stored_copy: Option<(i64, bool)> = if has_assets {
                stored
                    .query_row(params![run.source, a.external_id], |r| {
                        // A stored value of an unexpected type is a difference (the apply
                        // then rewrites it), never an error.
                        let text = |i: usize, v: &str| -> rusqlite::Result<bool> {
                            Ok(matches!(r.get_ref(i)?, ValueRef::Text(t) if t == v.as_bytes()))
                        };
                        let opt = |i: usize, v: &Option<String>| -> rusqlite::Result<bool> {
                            Ok(match (r.get_ref(i)?, v) {
                                (ValueRef::Null, None) => true,
                                (ValueRef::Text(t), Some(v)) => t == v.as_bytes(),
                                _ => false,
                            })
                        };
                        let managed = match r.get_ref(12)? {
                            ValueRef::Null => Some(None),
                            ValueRef::Integer(i) => Some(Some(i != 0)),
                            _ => None,
                        };
                        let same = managed == Some(a.managed)
                            && text(0, &a.source_client_id)?
                            && text(1, &a.name)?
                            && text(2, a.category().as_str())?
                            && text(3, &a.vendor_type)?
                            && text(4, &a.manufacturer)?
                            && text(5, &a.model)?
                            && text(6, &a.serial)?
                            && text(7, &macs)?
                            && text(8, &ips)?
                            && text(9, &a.os)?
                            && text(10, &a.firmware)?
                            && text(11, &a.online_status)?
                            && opt(13, &last_seen)?
                            && opt(14, &updated_at)?
                            && text(15, &a.raw)?;
                        Ok((r.get(16)?, same))
                    })
                    .optional()?
            } else {
                None
            };
            match stored_copy {
                Some((id, true)) => {
                    marks.unchanged.insert(id);
                    if marks.changed.remove(id) {
                        // An earlier page staged a different copy; this later one wins.
                        unstage.execute(params![run.id, a.external_id])?;
                    }
                    continue;
                }
                Some((id, false)) => {
                    marks.changed.insert(id);
                    marks.unchanged.remove(id);
                }
                // New, or removed and now back: staged in full either way.
                None => {}
            }
            st.execute(params![
                run.id,
                a.external_id,
                a.source_client_id,
                a.name,
                a.category().as_str(),
                a.vendor_type,
                a.manufacturer,
                a.model,
                a.serial,
                macs,
                ips,
                a.os,
                a.firmware,
                a.online_status,
                a.managed,
                last_seen,
                updated_at,
                a.raw,
                is_billable(a.category(), a.managed),
            ])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// Where `finish_run` spent its time (logged at debug level).
#[derive(Default)]
struct Phases {
    assets: std::time::Duration,
    merge: std::time::Duration,
    counts: std::time::Duration,
    commit: std::time::Duration,
}

/// What a run's apply changed beyond its rows, so the whole-inventory passes run only
/// when they can have a different outcome.
struct Effects {
    /// Billable counts may differ: a client, a link, a category, `managed` or presence.
    counts: bool,
    /// Devices may merge differently: a serial, a MAC or presence.
    identities: bool,
    /// Removed assets the run brought back (they count as present again).
    returned: i64,
}

/// Upserts the run's clients; returns how many rows changed.
fn apply_clients(tx: &rusqlite::Transaction, run: &SyncRun) -> rusqlite::Result<usize> {
    tx.execute(
        "INSERT INTO source_clients (source, external_id, name, aliases)
         SELECT ?1, external_id, name, aliases FROM staged_clients WHERE run_id = ?2
         ON CONFLICT (source, external_id) DO UPDATE SET name = excluded.name, aliases = excluded.aliases
         WHERE name != excluded.name OR aliases != excluded.aliases",
        params![run.source, run.id],
    )
}

/// The text of a field for history rows and comparison.
fn field_values(a: &ReportedAsset, source_client: &str) -> [String; 16] {
    [
        source_client.to_string(),
        a.name.clone(),
        a.category().as_str().to_string(),
        a.vendor_type.clone(),
        a.manufacturer.clone(),
        a.model.clone(),
        a.serial.clone(),
        json_list(&a.mac_addresses),
        json_list(&a.ip_addresses),
        a.os.clone(),
        a.firmware.clone(),
        a.online_status.clone(),
        a.managed.map(|m| m.to_string()).unwrap_or_default(),
        a.last_seen.map(ts).unwrap_or_default(),
        a.updated_at.map(ts).unwrap_or_default(),
        a.raw.clone(),
    ]
}

/// History keeps what changed, not whole copies of large vendor records.
fn history_value(field: &str, value: &str) -> String {
    const MAX: usize = 2000;
    if field == "raw" && value.len() > MAX {
        let mut end = MAX;
        while !value.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &value[..end])
    } else {
        value.to_string()
    }
}

/// Diffs the run's staged assets against `assets`: inserts new ones, updates changed
/// ones (and brings back removed ones), writes a history row per changed field, and
/// leaves unchanged rows unwritten.
fn apply_assets(
    tx: &rusqlite::Transaction,
    run: &SyncRun,
    now: DateTime<Utc>,
    counts: &mut RunCounts,
    effects: &mut Effects,
) -> rusqlite::Result<()> {
    let now_s = ts(now);
    let mut staged = tx.prepare(
        "SELECT s.external_id, s.source_client_external_id, s.name, s.category, s.vendor_type, s.manufacturer,
           s.model, s.serial, s.mac_addresses, s.ip_addresses, s.os, s.firmware, s.online_status, s.managed,
           s.last_seen, s.updated_at,
           a.id, a.removed_at, COALESCE(sc.external_id, ''),
           a.name, a.category, a.vendor_type, a.manufacturer, a.model, a.serial, a.mac_addresses, a.ip_addresses,
           a.os, a.firmware, a.online_status, a.managed, a.last_seen, a.updated_at,
           s.raw, a.raw
         FROM staged_assets s
         JOIN assets a ON a.source = ?1 AND a.external_id = s.external_id
         LEFT JOIN source_clients sc ON sc.id = a.source_client_id
         WHERE s.run_id = ?2 AND (a.removed_at IS NOT NULL
           OR COALESCE(sc.external_id, '') != s.source_client_external_id OR a.name != s.name
           OR a.category != s.category OR a.vendor_type != s.vendor_type
           OR a.manufacturer != s.manufacturer OR a.model != s.model OR a.serial != s.serial
           OR a.mac_addresses != s.mac_addresses OR a.ip_addresses != s.ip_addresses OR a.os != s.os
           OR a.firmware != s.firmware OR a.online_status != s.online_status
           OR a.managed IS NOT s.managed OR a.last_seen IS NOT s.last_seen
           OR a.updated_at IS NOT s.updated_at OR a.raw != s.raw)",
    )?;
    // A changed asset keeps its `first_seen` and comes back if it was removed. Its client is
    // resolved as for new assets (`insert_new_assets`).
    let mut write = tx.prepare_cached(
        "UPDATE assets SET
           source_client_id = (SELECT sc.id FROM source_clients sc WHERE sc.source = ?2 AND sc.external_id = ?3),
           name = ?4, category = ?5, vendor_type = ?6, manufacturer = ?7, model = ?8, serial = ?9,
           mac_addresses = ?10, ip_addresses = ?11, os = ?12, firmware = ?13, online_status = ?14,
           managed = ?15, billable = ?16, last_seen = ?17, updated_at = ?18, removed_at = NULL, raw = ?19,
           listed = assetd_listed_fields(?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
         WHERE id = ?1",
    )?;
    let mut insert_key =
        tx.prepare_cached("INSERT OR IGNORE INTO asset_keys (key, asset_id) VALUES (?1, ?2)")?;
    let mut history = tx.prepare_cached(
        "INSERT INTO asset_changes (asset_id, run_id, changed_at, field, old_value, new_value)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    let mut rows = staged.query(params![run.source, run.id])?;
    while let Some(r) = rows.next()? {
        let mut new = record_from_row(r, 2, r.get(0)?, r.get(1)?)?;
        new.raw = r.get(33)?;
        let id: i64 = r.get(16)?;
        let billable = is_billable(new.category(), new.managed);
        let new_values = field_values(&new, &new.source_client_id);
        let mut write_row = || -> rusqlite::Result<usize> {
            write.execute(params![
                id,
                run.source,
                new.source_client_id,
                new.name,
                new.category().as_str(),
                new.vendor_type,
                new.manufacturer,
                new.model,
                new.serial,
                new_values[7],
                new_values[8],
                new.os,
                new.firmware,
                new.online_status,
                new.managed,
                billable,
                new.last_seen.map(ts),
                new.updated_at.map(ts),
                new.raw,
            ])
        };
        let mut write_keys = |id: i64, old: &ReportedAsset| -> rusqlite::Result<()> {
            // A removed asset's keys went with its removal: nothing to delete then.
            delete_asset_keys(tx, id, &old.serial, &old.mac_addresses)?;
            for key in devices::identity_keys(&new.serial, &new.mac_addresses) {
                insert_key.execute(params![key, id])?;
            }
            Ok(())
        };
        let removed_at: Option<String> = r.get(17)?;
        let old_client: String = r.get(18)?;
        let mut old = record_from_row(r, 19, new.external_id.clone(), old_client.clone())?;
        old.raw = r.get(34)?;
        let old_values = field_values(&old, &old_client);
        let changed: Vec<usize> = (0..VENDOR_FIELDS.len())
            .filter(|&i| old_values[i] != new_values[i])
            .collect();
        if changed.is_empty() && removed_at.is_none() {
            // SQL saw a difference Rust does not (e.g. a stored value from an older version
            // that reads back the same): nothing to write; counted as unchanged below.
            continue;
        }
        write_row()?;
        // Indexes into VENDOR_FIELDS: source_client, category, managed decide counts;
        // serial and mac_addresses decide merging.
        let returned = removed_at.is_some();
        if returned {
            effects.returned += 1;
        }
        if returned || changed.iter().any(|&i| matches!(i, 6 | 7)) {
            write_keys(id, &old)?;
            effects.identities = true;
            effects.counts = true;
        }
        if changed.iter().any(|&i| matches!(i, 0 | 2 | 12)) {
            effects.counts = true;
        }
        if let Some(was) = removed_at {
            history.execute(params![id, run.id, now_s, "removed_at", was, ""])?;
        }
        for i in changed {
            let field = VENDOR_FIELDS[i];
            history.execute(params![
                id,
                run.id,
                now_s,
                field,
                history_value(field, &old_values[i]),
                history_value(field, &new_values[i])
            ])?;
        }
        counts.updated += 1;
    }
    drop(rows);
    counts.added = insert_new_assets(tx, run, &now_s)? as i64;
    if counts.added > 0 {
        effects.counts = true;
        effects.identities = true;
    }
    counts.unchanged = (counts.fetched - counts.added - counts.updated).max(0);
    Ok(())
}

/// Inserts the run's new assets in two set-based statements (the rows, their "added"
/// history) and a key pass. Going row by row through Rust cost about 20 µs per asset: most
/// of a first sync. Returns how many were added.
fn insert_new_assets(
    tx: &rusqlite::Transaction,
    run: &SyncRun,
    now: &str,
) -> rusqlite::Result<usize> {
    // Ids are given here rather than by SQLite, so each new asset is written once with its
    // own id as its device (the merge then rewrites only assets that really merge). Safe:
    // this is the only writer, inside its transaction.
    let first_id: i64 = tx.query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM assets", [], |r| {
        r.get(0)
    })?;
    let added = tx.execute(
        "INSERT INTO assets (id, device_id, source, external_id, source_client_id, name, category, vendor_type,
           manufacturer, model, serial, mac_addresses, ip_addresses, os, firmware, online_status, managed,
           billable, first_seen, last_seen, updated_at, removed_at, raw, listed)
         SELECT ?3 + row_number() OVER w - 1, ?3 + row_number() OVER w - 1, ?1, s.external_id,
           (SELECT sc.id FROM source_clients sc WHERE sc.source = ?1 AND sc.external_id = s.source_client_external_id),
           s.name, s.category, s.vendor_type, s.manufacturer, s.model, s.serial, s.mac_addresses,
           s.ip_addresses, s.os, s.firmware, s.online_status, s.managed, s.billable, ?4, s.last_seen,
           s.updated_at, NULL, s.raw,
           assetd_listed_fields(s.name, s.category, s.vendor_type, s.manufacturer, s.model, s.serial,
             s.mac_addresses, s.ip_addresses, s.os, s.firmware, s.online_status, s.managed)
         FROM staged_assets s
         WHERE s.run_id = ?2
           AND NOT EXISTS (SELECT 1 FROM assets a WHERE a.source = ?1 AND a.external_id = s.external_id)
         WINDOW w AS (ORDER BY s.source_client_external_id, s.external_id)",
        params![run.source, run.id, first_id, now],
    )?;
    if added == 0 {
        return Ok(0);
    }
    tx.execute(
        "INSERT INTO asset_changes (asset_id, run_id, changed_at, field, old_value, new_value)
         SELECT id, ?2, ?3, 'asset', '', 'added' FROM assets WHERE id >= ?1 ORDER BY id",
        params![first_id, run.id, now],
    )?;
    write_asset_keys(tx, first_id)?;
    Ok(added)
}

/// Settles what a full run found absent: marks removed the confirmed ones, notes the
/// unconfirmed ones as absent, and clears the note of those the vendor still has. Only
/// present assets of the run's source that the run did not see are touched, whatever the
/// lists say: a removal can never reach an asset the run read. Returns how many it removed.
fn apply_removals(
    tx: &rusqlite::Transaction,
    run: &SyncRun,
    now: DateTime<Utc>,
    removals: &Removals,
    unchanged: &IdSet,
) -> rusqlite::Result<i64> {
    let now_s = ts(now);
    // Present, of this source, and not staged by this run (`unchanged` is checked in Rust).
    let mut absent = tx.prepare_cached(
        "SELECT a.serial, a.mac_addresses FROM assets a WHERE a.id = ?1 AND a.source = ?2
           AND a.removed_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM staged_assets s WHERE s.run_id = ?3 AND s.external_id = a.external_id)",
    )?;
    let mut mark =
        tx.prepare_cached("UPDATE assets SET removed_at = ?2, absent_since = NULL WHERE id = ?1")?;
    let mut history = tx.prepare_cached(
        "INSERT INTO asset_changes (asset_id, run_id, changed_at, field, old_value, new_value)
         VALUES (?1, ?2, ?3, 'removed_at', '', ?3)",
    )?;
    let mut removed = 0;
    for &id in &removals.remove {
        if unchanged.contains(id) {
            continue;
        }
        let Some((serial, macs)) = absent
            .query_row(params![id, run.source, run.id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .optional()?
        else {
            continue;
        };
        mark.execute(params![id, now_s])?;
        delete_asset_keys(tx, id, &serial, &parse_list(&macs))?;
        history.execute(params![id, run.id, now_s])?;
        removed += 1;
    }
    let mut note = tx.prepare_cached(
        "UPDATE assets SET absent_since = ?2 WHERE id = ?1 AND source = ?3 AND removed_at IS NULL
           AND absent_since IS NULL",
    )?;
    for &id in &removals.absent {
        if !unchanged.contains(id) {
            note.execute(params![id, now_s, run.source])?;
        }
    }
    let mut clear =
        tx.prepare_cached("UPDATE assets SET absent_since = NULL WHERE id = ?1 AND source = ?2")?;
    for &id in &removals.present {
        clear.execute(params![id, run.source])?;
    }
    Ok(removed)
}

/// Clears the absence note of the source's assets that the run saw (staged or unchanged):
/// an asset seen again was never gone. Few assets carry the note, so they are read first.
fn clear_absence(
    tx: &rusqlite::Transaction,
    run: &SyncRun,
    unchanged: &IdSet,
) -> rusqlite::Result<()> {
    let noted: Vec<(i64, bool)> = tx
        .prepare_cached(
            "SELECT a.id, EXISTS (SELECT 1 FROM staged_assets s WHERE s.run_id = ?2 AND s.external_id = a.external_id)
             FROM assets a WHERE a.source = ?1 AND a.absent_since IS NOT NULL",
        )?
        .query_map(params![run.source, run.id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut clear = tx.prepare_cached("UPDATE assets SET absent_since = NULL WHERE id = ?1")?;
    for (id, staged) in noted {
        if staged || unchanged.contains(id) {
            clear.execute([id])?;
        }
    }
    Ok(())
}

/// Re-derives every present asset's device from `asset_keys` (see `devices`), writing only
/// the rows whose device changed. Keys arrive in index order, so memory is the union-find
/// (8 bytes per asset id) whatever the inventory looks like.
fn merge_devices(tx: &rusqlite::Transaction) -> rusqlite::Result<()> {
    let max_id: i64 = tx.query_row("SELECT COALESCE(MAX(id), 0) FROM assets", [], |r| r.get(0))?;
    let mut merger = devices::Merger::new(max_id);
    {
        let mut st = tx.prepare("SELECT key, asset_id FROM asset_keys ORDER BY key, asset_id")?;
        let mut rows = st.query([])?;
        let mut key = String::new();
        // One more than a device may have is enough to know the key links nothing.
        let mut group: Vec<i64> = Vec::with_capacity(devices::MAX_ASSETS_PER_DEVICE + 1);
        while let Some(r) = rows.next()? {
            let k = r.get_ref(0)?.as_str()?;
            if k != key {
                merger.link(&group);
                group.clear();
                key.clear();
                key.push_str(k);
            }
            if group.len() <= devices::MAX_ASSETS_PER_DEVICE {
                group.push(r.get(1)?);
            }
        }
        merger.link(&group);
    }
    // Collected first: SQLite does not promise a scan sees consistent rows while the same
    // table is updated under it. Few assets change device in one run.
    let mut moved: Vec<(i64, i64)> = Vec::new();
    {
        let mut st = tx.prepare("SELECT id, device_id FROM assets WHERE removed_at IS NULL")?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let (id, current): (i64, i64) = (r.get(0)?, r.get(1)?);
            let device = merger.device_of(id);
            if device != current {
                moved.push((id, device));
            }
        }
    }
    let mut set = tx.prepare_cached("UPDATE assets SET device_id = ?2 WHERE id = ?1")?;
    for (id, device) in moved {
        set.execute(params![id, device])?;
    }
    // A removed asset leaves its device: it is its own again, should it come back.
    tx.execute(
        "UPDATE assets SET device_id = id WHERE removed_at IS NOT NULL AND device_id != id",
        [],
    )?;
    Ok(())
}

/// Moves a run's staged billing figures into `vendor_usage`. Figures that arrived mean the
/// vendor's billing is readable again, so any note saying otherwise is cleared.
fn apply_usage(
    tx: &rusqlite::Transaction,
    run: &SyncRun,
    finished: DateTime<Utc>,
) -> rusqlite::Result<()> {
    let n = tx.execute(
        "INSERT OR REPLACE INTO vendor_usage (source, external_id, period, days, device_days, average_billable, fetched_at)
         SELECT ?2, external_id, period, days, device_days, average_billable, ?3
         FROM staged_vendor_usage WHERE run_id = ?1",
        params![run.id, run.source, ts(finished)],
    )?;
    if n > 0 {
        tx.execute(
            "UPDATE sources SET billing_note = '' WHERE name = ?1",
            [&run.source],
        )?;
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests;
