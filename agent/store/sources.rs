//! Sources: each configured source's row (registered when the engine starts its task),
//! what the scheduler needs of its history, its count of present assets (kept by the runs
//! that change it, so status and the source list do not count a million rows), when each
//! last succeeded, and purging a source with everything it brought.

use super::apply::merge_devices;
use super::counts::cutoff_text;
use super::{Result, Store, StoreError, parse_ts};
use crate::model::SyncRun;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

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

impl Store {
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

    /// Deletes every row of a source: assets, their history, runs and clients.
    /// Refused with `SourceSyncing` while a run of the source is in progress: checked in the
    /// purge's own transaction, on the one writer connection that also begins runs, so no
    /// run can start between the check and the deletes (issue 21: a check made beforehand
    /// let one in).
    pub fn purge_source(&self, source: &str) -> Result<i64> {
        self.with_writer(|c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let running: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM sync_runs WHERE source = ?1 AND state = 'running')",
                [source],
                |r| r.get(0),
            )?;
            if running {
                return Err(StoreError::SourceSyncing(source.to_string()));
            }
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
