//! A run's life in the store: begun (`begin_run`), its pages staged as they arrive
//! (`stage_assets` and the rest; an asset that arrives equal to its stored row is only
//! marked, `RunMarks`), the assets a full run found absent (`removal_candidates`), and its
//! end (`finish_run`), which applies everything in one transaction (`apply`) or records
//! why it could not. `recover` ends the runs a crash cut short.

use super::apply::{
    Effects, apply_assets, apply_clients, apply_removals, apply_usage, clear_absence, merge_devices,
};
use super::counts::{has_snapshot, snapshot_counts};
use super::events::{
    insert_event, last_event_id, run_event, set_source_state, warranty_expiring_events,
};
use super::lifecycle::apply_lifecycle;
use super::links::relink;
use super::{Result, Store, StoreError, json_list, lock, parse_stored_ts, parse_ts, ts};
use crate::event::EventType;
use crate::idset::IdSet;
use crate::model::{
    Coverage, ReportedAsset, RunCounts, RunKind, RunState, RunTrigger, SourceClient, SyncRun,
    VendorUsage, is_billable,
};
use chrono::{DateTime, Utc};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::{HashMap, HashSet};

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
    /// Leave the source's incremental window where it was: the run could not read some
    /// changes since then (`FetchOutcome::keep_window`).
    pub keep_window: bool,
    /// The state the run leaves its source in (the sync layer's name for it, e.g. `ok`,
    /// `credentials_rejected`), recorded with the run so that a change is a
    /// `source.state_changed` event of the same transaction; `None` leaves it as it was (a
    /// cancelled run says nothing about the source).
    pub source_state: Option<&'static str>,
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

impl Store {
    /// Marks runs left `running` by a crash as failed and drops their staged rows.
    /// Returns the sources whose run was interrupted (each once), so they can run again.
    pub fn recover(&self) -> Result<Vec<String>> {
        let (mut sources, last) = self.with_writer(|c| {
            let tx = c.transaction()?;
            let now = ts(Utc::now());
            let ended = {
                let mut st = tx.prepare(
                    "UPDATE sync_runs SET state = 'failed', finished = ?1,
                     error = 'interrupted: the agent stopped during this run; the next run starts over'
                     WHERE state = 'running' RETURNING id, source, error",
                )?;
                st.query_map(params![now], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?
            };
            // Their events in the same transaction: a run a crash cut short finished too.
            for (id, source, error) in &ended {
                set_source_state(&tx, source, "failed", error, Some(*id), &now)?;
                run_event(&tx, EventType::RunFinished, *id, &now)?;
            }
            let last = last_event_id(&tx)?;
            tx.commit()?;
            Ok((
                ended.into_iter().map(|(_, s, _)| s).collect::<Vec<_>>(),
                last,
            ))
        })?;
        self.publish_events(last);
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
        let (id, last) = self.with_writer(|c| {
            let tx = c.transaction()?;
            tx.execute(
                "INSERT INTO sync_runs (source, kind, trigger, started, state) VALUES (?1, ?2, ?3, ?4, 'running')",
                params![source, kind.as_str(), trigger.as_str(), ts(started)],
            )?;
            let id = tx.last_insert_rowid();
            run_event(&tx, EventType::RunStarted, id, &ts(started))?;
            let last = last_event_id(&tx)?;
            tx.commit()?;
            Ok((id, last))
        })?;
        self.publish_events(last);
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
        let mut lifecycle_changed = false;
        let began = std::time::Instant::now();
        let mut phases = Phases::default();
        let now_s = ts(finished);
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
                    updated: IdSet::default(),
                    new_from: None,
                    lifecycle: false,
                };
                apply_assets(&tx, run, finished, &mut counts, &mut effects)?;
                // After the assets (a first sync's reports name assets inserted just now),
                // before removals (a removed asset keeps what it had).
                effects.lifecycle = apply_lifecycle(
                    &tx,
                    run,
                    &ts(finished),
                    effects.new_from,
                    &effects.updated,
                    &mut counts,
                )?;
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
                // On merged devices; every run, since the window moves with the calendar.
                warranty_expiring_events(&tx, run.id, &run.source, finished.date_naive(), &now_s)?;
                let t = std::time::Instant::now();
                if effects.counts || !has_snapshot(&tx, finished)? {
                    for (client, old, new) in snapshot_counts(&tx, finished)? {
                        // Excluded clients are never counted (CONTRACT §5), so never announced.
                        if groups.iter().any(|g| g.exclude && g.name == client) {
                            continue;
                        }
                        insert_event(
                            &tx,
                            &now_s,
                            EventType::CountsChanged,
                            &run.source,
                            Some(run.id),
                            None,
                            &client,
                            &serde_json::json!({ "old": old.to_json(), "new": new.to_json() }),
                        )?;
                    }
                }
                phases.counts = t.elapsed();
                counts_changed = effects.counts;
                lifecycle_changed = effects.lifecycle;
                // The next incremental run asks for changes since this run *started* (by the
                // vendor's clock when the connector read it), so nothing modified during the
                // run is missed; or, when some changes could not be read, since where this
                // run's window began.
                tx.execute(
                    "UPDATE sources SET incremental_since = CASE WHEN ?5 THEN incremental_since ELSE ?2 END,
                     last_full_at = CASE WHEN ?3 THEN ?4 ELSE last_full_at END WHERE name = ?1",
                    params![
                        run.source,
                        ts(end.watermark.unwrap_or(run.started)),
                        run.kind == RunKind::Full,
                        ts(run.started),
                        end.keep_window
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
            if end.removals_held > 0 {
                insert_event(
                    &tx,
                    &now_s,
                    EventType::RemovalsHeld,
                    &run.source,
                    Some(run.id),
                    None,
                    "",
                    &serde_json::json!({ "held": end.removals_held, "detail": end.error }),
                )?;
            }
            // The run's last events: the state it leaves its source in, then the run itself,
            // so a receiver that sees `run.finished` has seen everything the run changed.
            let ended_s = ts(ended);
            if let Some(state) = end.source_state {
                set_source_state(&tx, &run.source, state, &end.error, Some(run.id), &ended_s)?;
            }
            run_event(&tx, EventType::RunFinished, run.id, &ended_s)?;
            let last = last_event_id(&tx)?;
            let t = std::time::Instant::now();
            tx.commit()?;
            phases.commit = t.elapsed();
            Ok(last)
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
        } else if lifecycle_changed {
            self.lifecycle_changed();
        }
        if let Ok(last) = result {
            self.publish_events(last);
        }
        if let Err(e) = result {
            // The big transaction rolled back: record the failure on its own so the run
            // does not stay `running`, and keep the previous data as it was. A full disk
            // explains itself (see `StoreError::DiskFull`).
            let failed = FailedEnd {
                run_id: run.id,
                source: run.source.clone(),
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
                    tx.execute("DELETE FROM staged_lifecycle WHERE run_id = ?1", [run.id])?;
                    tx.execute(
                        "DELETE FROM staged_lifecycle_scope WHERE run_id = ?1",
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
        let last = self.with_writer(|c| {
            let tx = c.transaction()?;
            let n = tx.execute(
                "UPDATE sync_runs SET finished = ?2, state = 'failed', requests = ?3, retries = ?4, error = ?5
                 WHERE id = ?1 AND state = 'running'",
                params![end.run_id, end.finished, end.requests, end.retries, end.error],
            )?;
            if n > 0 {
                set_source_state(
                    &tx,
                    &end.source,
                    "failed",
                    &end.error,
                    Some(end.run_id),
                    &end.finished,
                )?;
                run_event(&tx, EventType::RunFinished, end.run_id, &end.finished)?;
            }
            let last = last_event_id(&tx)?;
            tx.commit()?;
            Ok(last)
        })?;
        self.publish_events(last);
        Ok(())
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

/// What a run's pages said about assets already stored, kept in memory until the run ends.
/// Staging a row for each unchanged asset was a fifth of a resync's CPU; a bit is enough,
/// because only removals (and the fetched count) need to know which assets were seen. A
/// crash loses nothing with them: a crashed run's staged rows are dropped too.
#[derive(Debug, Default)]
pub(super) struct RunMarks {
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
pub(super) struct FailedEnd {
    run_id: i64,
    source: String,
    finished: String,
    requests: i64,
    retries: i64,
    error: String,
}

/// Where `finish_run` spent its time (logged at debug level).
#[derive(Default)]
struct Phases {
    assets: std::time::Duration,
    merge: std::time::Duration,
    counts: std::time::Duration,
    commit: std::time::Duration,
}

/// Deletes the staged rows of every run that is not `running`: ended runs drop their own
/// (in `finish_run`), so these are left over from a crash or a failed cleanup. A run in
/// progress is always `running` until the transaction that drops its staging commits.
fn drop_ended_staging(tx: &rusqlite::Transaction) -> rusqlite::Result<()> {
    for table in [
        "staged_assets",
        "staged_clients",
        "staged_vendor_usage",
        "staged_lifecycle",
        "staged_lifecycle_scope",
    ] {
        tx.execute(
            &format!(
                "DELETE FROM {table} WHERE run_id NOT IN (SELECT id FROM sync_runs WHERE state = 'running')"
            ),
            [],
        )?;
    }
    Ok(())
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
