//! Billable counts (CONTRACT §5): per client, from present assets merged into devices;
//! the cache that answers them between runs; the daily snapshot a run writes; and a
//! month's daily averages and maxima from those snapshots.
//!
//! Counting a million assets takes a second, and the answer changes only when a commit
//! changes what it depends on (each such commit calls `counts_changed`) or when the grace
//! cutoff passes an asset's removal time; so `billable_counts` keeps its last answer with
//! the span of cutoffs it holds for (`CountsCache`).

use super::{Result, Store, lock, ts};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, Row, params};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Per-client billable counts of CONTRACT §5, from present assets merged into devices.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BillableCounts {
    pub total_billable: i64,
    pub firewalls: i64,
    pub controllers: i64,
    pub routers: i64,
    pub l3_switches: i64,
    pub voip_switches: i64,
    pub switch_stacks: i64,
    pub total_switches: i64,
    pub access_points: i64,
}

impl BillableCounts {
    fn from_row(r: &Row, at: usize) -> rusqlite::Result<BillableCounts> {
        Ok(BillableCounts {
            total_billable: r.get(at)?,
            firewalls: r.get(at + 1)?,
            controllers: r.get(at + 2)?,
            routers: r.get(at + 3)?,
            l3_switches: r.get(at + 4)?,
            voip_switches: r.get(at + 5)?,
            switch_stacks: r.get(at + 6)?,
            total_switches: r.get(at + 7)?,
            access_points: r.get(at + 8)?,
        })
    }
}

impl Store {
    /// Billable counts per client now; assets removed after `grace_cutoff` still count.
    /// Served from `CountsCache` while it holds.
    pub fn billable_counts(
        &self,
        grace_cutoff: Option<DateTime<Utc>>,
    ) -> Result<Arc<Vec<(String, BillableCounts)>>> {
        *lock(&self.inner.last_grace) = grace_cutoff.map(|c| Utc::now() - c);
        let cutoff = cutoff_text(grace_cutoff);
        // Read before counting: a commit after this makes the entry stale, never wrong.
        let generation = self.inner.counts_generation.load(Ordering::SeqCst);
        if let Some(hit) = lock(&self.inner.counts_cache)
            .as_ref()
            .filter(|c| c.holds(generation, &cutoff))
        {
            return Ok(hit.counts.clone());
        }
        let entry = self.with_reader(|c| {
            // One read transaction: the counts and their validity from the same snapshot.
            c.execute_batch("BEGIN")?;
            let entry = (|| {
                let counts = counts_now(c, &cutoff)?;
                let span = CutoffSpan::around(c, &cutoff)?;
                Ok::<_, rusqlite::Error>(CountsCache {
                    generation,
                    span,
                    counts: Arc::new(counts),
                })
            })();
            let _ = c.execute_batch("COMMIT");
            Ok(entry?)
        })?;
        let counts = entry.counts.clone();
        *lock(&self.inner.counts_cache) = Some(entry);
        Ok(counts)
    }

    /// Recomputes the cached counts, so the next `billable_counts` is answered at once:
    /// for `grace_cutoff`, or else for the grace the last caller asked with (after a run
    /// changed them). Then gives back the memory the burst used (`release_memory`): this
    /// ends a start or a run, and the hours until the next one are idle.
    pub fn warm_counts(&self, grace_cutoff: Option<DateTime<Utc>>) -> Result<()> {
        let cutoff = grace_cutoff.or_else(|| {
            let grace = *lock(&self.inner.last_grace);
            grace.map(|g| Utc::now() - g)
        });
        let counted = match cutoff {
            Some(cutoff) => self.billable_counts(Some(cutoff)).map(drop),
            None => Ok(()),
        };
        self.release_memory();
        counted
    }

    /// Called after a commit that may change billable counts.
    pub(super) fn counts_changed(&self) {
        self.inner.counts_generation.fetch_add(1, Ordering::SeqCst);
        *lock(&self.inner.counts_cache) = None;
        self.lifecycle_changed();
    }

    /// Each client's daily average (rounded half up) and maximum over the days of `month`
    /// ("YYYY-MM") that have a snapshot.
    pub fn period_counts(
        &self,
        month: &str,
    ) -> Result<Vec<(String, BillableCounts, BillableCounts)>> {
        let cols = [
            "total_billable",
            "firewalls",
            "controllers",
            "routers",
            "l3_switches",
            "voip_switches",
            "switch_stacks",
            "total_switches",
            "access_points",
        ];
        let avg: Vec<String> = cols
            .iter()
            .map(|c| format!("CAST(ROUND(AVG({c}) + 0.0000001) AS INTEGER)"))
            .collect();
        let max: Vec<String> = cols.iter().map(|c| format!("MAX({c})")).collect();
        let sql = format!(
            "SELECT client, {}, {} FROM billable_snapshots WHERE day LIKE ?1 || '-%' GROUP BY client ORDER BY client",
            avg.join(", "),
            max.join(", ")
        );
        self.with_reader(|c| {
            let mut st = c.prepare_cached(&sql)?;
            let rows = st
                .query_map([month], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        BillableCounts::from_row(r, 1)?,
                        BillableCounts::from_row(r, 10)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }
}

/// The grace cutoffs for which an answer computed at one cutoff stays true: `[from, until)`,
/// between the removal times around it (an open end is `None`). Moving the cutoff inside
/// the span counts exactly the same removed assets, so the answer is the same.
pub(super) struct CutoffSpan {
    from: Option<String>,
    until: Option<String>,
}

impl CutoffSpan {
    /// The span around `cutoff`, read on `c` inside the transaction that computes the
    /// answer, so both come from one snapshot.
    pub(super) fn around(c: &Connection, cutoff: &str) -> rusqlite::Result<CutoffSpan> {
        let removal = |sql: &str| c.query_row(sql, [cutoff], |r| r.get::<_, Option<String>>(0));
        Ok(CutoffSpan {
            from: removal(
                "SELECT MAX(removed_at) FROM assets WHERE removed_at IS NOT NULL AND removed_at <= ?1",
            )?,
            until: removal(
                "SELECT MIN(removed_at) FROM assets WHERE removed_at IS NOT NULL AND removed_at > ?1",
            )?,
        })
    }

    pub(super) fn contains(&self, cutoff: &str) -> bool {
        self.from.as_deref().is_none_or(|f| f <= cutoff)
            && self.until.as_deref().is_none_or(|u| cutoff < u)
    }
}

/// Billable counts as last computed. Counting a million assets takes a second; the answer
/// only changes when a run (or a client mapping, or a purge) changes the data, or when the
/// grace cutoff moves past an asset's removal time. So an entry holds for its data
/// generation and for every cutoff in its `CutoffSpan`.
pub(super) struct CountsCache {
    generation: u64,
    span: CutoffSpan,
    counts: Arc<Vec<(String, BillableCounts)>>,
}

impl CountsCache {
    fn holds(&self, generation: u64, cutoff: &str) -> bool {
        self.generation == generation && self.span.contains(cutoff)
    }
}

/// Counts per client: a device counts once however many sources report it. It is
/// billable when any present member is (a billable category, managed); its category for
/// the services is that member's. Managed access points are counted, never billable.
const COUNTS_SQL: &str = "
    WITH devices AS (
        SELECT MIN(sc.client) AS client,
               MAX(a.billable) AS billable,
               MAX(CASE WHEN a.billable THEN a.category END) AS category,
               MAX(a.category = 'access_point' AND a.managed = 1) AS managed_ap
        FROM assets a JOIN source_clients sc ON sc.id = a.source_client_id
        WHERE a.removed_at IS NULL OR a.removed_at > ?1
        GROUP BY a.device_id
    ),
    per_client AS (
        SELECT client,
               SUM(billable) AS total_billable,
               SUM(billable AND category = 'firewall') AS firewalls,
               SUM(billable AND category = 'controller') AS controllers,
               SUM(billable AND category = 'router') AS routers,
               SUM(billable AND category = 'l3_switch') AS l3_switches,
               SUM(billable AND category = 'voip_switch') AS voip_switches,
               SUM(billable AND category = 'switch_stack') AS switch_stacks,
               SUM(billable AND category IN ('switch', 'l3_switch', 'voip_switch', 'switch_stack')) AS total_switches,
               SUM(managed_ap) AS access_points
        FROM devices GROUP BY client
    )
    -- Every known client, with zeros when it has no device today: a month's average
    -- must count its zero days.
    SELECT c.client,
           COALESCE(p.total_billable, 0), COALESCE(p.firewalls, 0), COALESCE(p.controllers, 0),
           COALESCE(p.routers, 0), COALESCE(p.l3_switches, 0), COALESCE(p.voip_switches, 0),
           COALESCE(p.switch_stacks, 0), COALESCE(p.total_switches, 0), COALESCE(p.access_points, 0)
    FROM (SELECT DISTINCT client FROM source_clients WHERE client != '') c
    LEFT JOIN per_client p ON p.client = c.client
    ORDER BY c.client";

/// The grace cutoff as compared in SQL: no grace is a cutoff after every removal.
pub(super) fn cutoff_text(grace_cutoff: Option<DateTime<Utc>>) -> String {
    grace_cutoff.map(ts).unwrap_or_else(|| "9999".into())
}

fn counts_now(c: &Connection, cutoff: &str) -> rusqlite::Result<Vec<(String, BillableCounts)>> {
    let mut st = c.prepare_cached(COUNTS_SQL)?;
    st.query_map([cutoff], |r| {
        Ok((r.get::<_, String>(0)?, BillableCounts::from_row(r, 1)?))
    })?
    .collect()
}

/// Today's counts per client, replacing today's earlier snapshot (the last run of the day
/// stands for the day). Returns the clients whose counts differ from the latest snapshot
/// before this one (the counts after the last run that changed them), each with its old
/// and new counts, a client missing from either side counting zero: what `counts.changed`
/// says. Comparing with the snapshot costs one read of a row per client, and no second pass
/// over the assets.
pub(super) fn snapshot_counts(
    tx: &rusqlite::Transaction,
    now: DateTime<Utc>,
) -> rusqlite::Result<Vec<(String, BillableCounts, BillableCounts)>> {
    let day = now.format("%Y-%m-%d").to_string();
    let counts = counts_now(tx, &cutoff_text(None))?;
    let mut before: std::collections::HashMap<String, BillableCounts> = tx
        .prepare_cached(
            "SELECT client, total_billable, firewalls, controllers, routers, l3_switches, voip_switches,
               switch_stacks, total_switches, access_points FROM billable_snapshots
             WHERE day = (SELECT MAX(day) FROM billable_snapshots WHERE day <= ?1)",
        )?
        .query_map([&day], |r| {
            Ok((r.get::<_, String>(0)?, BillableCounts::from_row(r, 1)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    tx.execute("DELETE FROM billable_snapshots WHERE day = ?1", [&day])?;
    let mut st = tx.prepare_cached(
        "INSERT INTO billable_snapshots (day, client, total_billable, firewalls, controllers, routers, l3_switches,
           voip_switches, switch_stacks, total_switches, access_points) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    let mut changed = Vec::new();
    for (client, c) in counts {
        st.execute(params![
            day,
            client,
            c.total_billable,
            c.firewalls,
            c.controllers,
            c.routers,
            c.l3_switches,
            c.voip_switches,
            c.switch_stacks,
            c.total_switches,
            c.access_points
        ])?;
        let old = before.remove(&client).unwrap_or_default();
        if old != c {
            changed.push((client, old, c));
        }
    }
    // Clients the last snapshot had and this one has not (their source clients went).
    let mut gone: Vec<_> = before
        .into_iter()
        .filter(|(_, old)| *old != BillableCounts::default())
        .map(|(client, old)| (client, old, BillableCounts::default()))
        .collect();
    gone.sort_by(|a, b| a.0.cmp(&b.0));
    changed.extend(gone);
    Ok(changed)
}

impl BillableCounts {
    /// The nine services by their names, as `counts.changed` carries them.
    pub(super) fn to_json(self) -> serde_json::Value {
        serde_json::json!({
            "total_billable": self.total_billable,
            "firewalls": self.firewalls,
            "controllers": self.controllers,
            "routers": self.routers,
            "l3_switches": self.l3_switches,
            "voip_switches": self.voip_switches,
            "switch_stacks": self.switch_stacks,
            "total_switches": self.total_switches,
            "access_points": self.access_points,
        })
    }
}

/// Whether the day of `now` already has a billable-counts snapshot.
pub(super) fn has_snapshot(
    tx: &rusqlite::Transaction,
    now: DateTime<Utc>,
) -> rusqlite::Result<bool> {
    let day = now.format("%Y-%m-%d").to_string();
    tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM billable_snapshots WHERE day = ?1)",
        [day],
        |r| r.get(0),
    )
}
