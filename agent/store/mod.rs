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

mod apply;
mod checkpoint;
mod counts;
mod links;
mod queries;
mod rows;
mod schema;
mod sources;
mod usage;

use apply::{
    Effects, apply_assets, apply_clients, apply_removals, apply_usage, clear_absence, merge_devices,
};
use checkpoint::start_checkpointer;
pub use counts::BillableCounts;
use counts::{CountsCache, cutoff_text, has_snapshot, snapshot_counts};
pub use links::CountAssets;
use links::relink;
pub use queries::{AssetFilter, DeviceRow};
pub use rows::{AssetRow, AssetSink, JsonList, LISTED_COLUMN, ListedRow, RecordRow};
use schema::{migrate, register_functions, register_listed_fields};
pub use sources::{SourceRow, SourceSchedule};
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

#[cfg(test)]
pub(crate) mod tests;
