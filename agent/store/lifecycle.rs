//! Lifecycle (CONTRACT §4, issue 22): what the vendors say of each asset's warranty and
//! support, staged as a run reads it and applied at its end; and the per-client summary
//! (`lifecycle_summary`), with its cache.
//!
//! A run stages *reports* (one per asset, each part marked read or not) and *scopes* (source
//! clients whose lifecycle listing it read to the end). At the end, inside the run's
//! transaction, an asset's part takes the report's values when the run read that part of it,
//! nothing when its client is in the scope for that part without a report (the vendor lists
//! only assets it has data for), and otherwise keeps its stored values: an incremental run,
//! or an endpoint that failed, never nulls them. Each changed field gets a history row.
//!
//! What depends on the calendar (the warranty status of the day, the age) is never stored:
//! the summary is computed for a UTC date and cached for it, its data generation and the
//! grace cutoff's span, as billable counts are (`counts`).

use super::counts::{CutoffSpan, cutoff_text};
use super::{Result, Store, day, lock, parse_day};
use crate::idset::IdSet;
use crate::model::{
    LifecycleReport, LifecycleScope, RunCounts, SupportStatus, SyncRun, WarrantyStatus,
};
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, params};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// The lifecycle fields a run writes, in the order of `Values`; history rows use these names.
const FIELDS: [&str; 6] = [
    "purchase_date",
    "warranty_expires",
    "warranty_status",
    "support_status",
    "purchase_date_raw",
    "warranty_expires_raw",
];

/// An asset's stored lifecycle values as text, in `FIELDS` order (`None`: NULL).
type Values = [Option<String>; 6];

impl Store {
    /// Stages lifecycle reports of `run`. Reports of one asset merge: a part read by any of
    /// them is read (Auvik's warranty and support arrive from two endpoints).
    pub fn stage_lifecycle(&self, run_id: i64, reports: &[LifecycleReport]) -> Result<()> {
        self.ensure_room()?;
        self.with_writer(|c| {
            let tx = c.transaction()?;
            {
                let mut st = tx.prepare_cached(
                    "INSERT INTO staged_lifecycle (run_id, external_id, warranty_read, purchase_date,
                       warranty_expires, warranty_status, purchase_date_raw, warranty_expires_raw,
                       support_read, support_status)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                     ON CONFLICT (run_id, external_id) DO UPDATE SET
                       purchase_date = CASE WHEN excluded.warranty_read THEN excluded.purchase_date ELSE purchase_date END,
                       warranty_expires = CASE WHEN excluded.warranty_read THEN excluded.warranty_expires ELSE warranty_expires END,
                       warranty_status = CASE WHEN excluded.warranty_read THEN excluded.warranty_status ELSE warranty_status END,
                       purchase_date_raw = CASE WHEN excluded.warranty_read THEN excluded.purchase_date_raw ELSE purchase_date_raw END,
                       warranty_expires_raw = CASE WHEN excluded.warranty_read THEN excluded.warranty_expires_raw ELSE warranty_expires_raw END,
                       warranty_read = warranty_read OR excluded.warranty_read,
                       support_status = CASE WHEN excluded.support_read THEN excluded.support_status ELSE support_status END,
                       support_read = support_read OR excluded.support_read",
                )?;
                for r in reports {
                    let w = r.warranty.as_ref();
                    let date = |d: Option<&crate::model::VendorDate>| d.and_then(|d| d.date()).map(day);
                    let raw = |d: Option<&crate::model::VendorDate>| d.map_or("", |d| d.raw()).to_owned();
                    let purchase = w.and_then(|w| w.purchase_date.as_ref());
                    let expires = w.and_then(|w| w.warranty_expires.as_ref());
                    st.execute(params![
                        run_id,
                        r.external_id,
                        w.is_some(),
                        date(purchase),
                        date(expires),
                        w.and_then(|w| w.stated).map(WarrantyStatus::as_str),
                        raw(purchase),
                        raw(expires),
                        r.support.is_some(),
                        r.support.flatten().map(SupportStatus::as_str),
                    ])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// Stages that `run` read these source clients' lifecycle listings to the end.
    pub fn stage_lifecycle_scope(&self, run_id: i64, scope: &LifecycleScope) -> Result<()> {
        self.with_writer(|c| {
            let tx = c.transaction()?;
            {
                let mut st = tx.prepare_cached(
                    "INSERT INTO staged_lifecycle_scope (run_id, source_client, warranty_read, support_read)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (run_id, source_client) DO UPDATE SET
                       warranty_read = warranty_read OR excluded.warranty_read,
                       support_read = support_read OR excluded.support_read",
                )?;
                for client in &scope.clients {
                    st.execute(params![run_id, client, scope.warranty, scope.support])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// Called after a commit that changed lifecycle values (and by `counts_changed`, since
    /// what changes counts, presence, merging and clients, changes the summary too).
    pub(super) fn lifecycle_changed(&self) {
        self.inner
            .lifecycle_generation
            .fetch_add(1, Ordering::SeqCst);
        *lock(&self.inner.lifecycle_cache) = None;
    }

    /// Per assetd client (every known one, with zeros when it has no device): its devices'
    /// lifecycle on `today`, for present assets merged into devices as for billable counts
    /// (assets removed after `grace_cutoff` still count). Served from `LifecycleCache` while
    /// it holds.
    pub fn lifecycle_summary(
        &self,
        grace_cutoff: Option<DateTime<Utc>>,
        today: NaiveDate,
    ) -> Result<Arc<Vec<ClientLifecycle>>> {
        *lock(&self.inner.last_grace) = grace_cutoff.map(|c| Utc::now() - c);
        let cutoff = cutoff_text(grace_cutoff);
        // Read before computing: a commit after this makes the entry stale, never wrong.
        let generation = self.inner.lifecycle_generation.load(Ordering::SeqCst);
        if let Some(hit) = lock(&self.inner.lifecycle_cache)
            .as_ref()
            .filter(|c| c.holds(generation, &cutoff, today))
        {
            return Ok(hit.summary.clone());
        }
        let entry = self.with_reader(|c| {
            c.execute_batch("BEGIN")?;
            let entry = (|| {
                let summary = summary_now(c, &cutoff, today)?;
                let span = CutoffSpan::around(c, &cutoff)?;
                Ok::<_, rusqlite::Error>(LifecycleCache {
                    generation,
                    today,
                    span,
                    summary: Arc::new(summary),
                })
            })();
            let _ = c.execute_batch("COMMIT");
            Ok(entry?)
        })?;
        let summary = entry.summary.clone();
        *lock(&self.inner.lifecycle_cache) = Some(entry);
        Ok(summary)
    }

    /// Computes the summary for `today` now, so the next `lifecycle_summary` is answered at
    /// once (after a run, at start, and when the UTC date changes): for `grace_cutoff`, or
    /// else for the grace the last caller asked with; without either, nothing is done.
    pub fn warm_lifecycle(
        &self,
        grace_cutoff: Option<DateTime<Utc>>,
        today: NaiveDate,
    ) -> Result<()> {
        let cutoff = grace_cutoff.or_else(|| {
            let grace = *lock(&self.inner.last_grace);
            grace.map(|g| Utc::now() - g)
        });
        match cutoff {
            Some(cutoff) => self.lifecycle_summary(Some(cutoff), today).map(drop),
            None => Ok(()),
        }
    }
}

/// One client's devices on one day. `expiring` holds, for each device covered that day with
/// a known expiry, the days from that day to its expiry, ascending: any "expiring within N
/// days" window is a binary search (`expiring_within`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientLifecycle {
    pub client: String,
    pub devices: i64,
    pub covered: i64,
    pub not_covered: i64,
    pub expired: i64,
    pub unknown: i64,
    /// Devices whose support status is `expired`.
    pub out_of_support: i64,
    pub expiring: Vec<u32>,
}

impl ClientLifecycle {
    /// Devices whose warranty expires within `days` of the day (that day included): covered
    /// devices with `today <= expiry <= today + days`. Windows are cumulative.
    pub fn expiring_within(&self, days: u32) -> i64 {
        self.expiring.partition_point(|&d| d <= days) as i64
    }
}

/// The summary as last computed: it holds for its data generation, its UTC date and every
/// grace cutoff in its `CutoffSpan` (as `counts::CountsCache`).
pub(super) struct LifecycleCache {
    generation: u64,
    today: NaiveDate,
    span: CutoffSpan,
    summary: Arc<Vec<ClientLifecycle>>,
}

impl LifecycleCache {
    fn holds(&self, generation: u64, cutoff: &str, today: NaiveDate) -> bool {
        self.generation == generation && self.today == today && self.span.contains(cutoff)
    }
}

/// A device's warranty rank on the day bound as `?5` (`WarrantyStatus::rank`): each
/// member's status by `model::warranty_status`, written out in SQL, and the device takes its
/// members' highest.
macro_rules! device_lifecycle_rank {
    ($day:literal) => {
        concat!(
            "MAX(CASE
                 WHEN a.warranty_status = 'not_covered' THEN 2
                 WHEN a.warranty_status = 'expired' THEN 3
                 WHEN a.warranty_expires IS NOT NULL AND a.warranty_expires < ",
            $day,
            " THEN 3
                 WHEN a.warranty_expires IS NOT NULL OR a.warranty_status = 'covered' THEN 4
                 ELSE 1
               END)"
        )
    };
}

/// `device_lifecycle_rank!` for queries that bind the day as `?5` (`list_devices`).
pub(super) const DEVICE_LIFECYCLE_RANK: &str = device_lifecycle_rank!("?5");

/// Each device's warranty rank on `?2` (`device_lifecycle_rank!`), latest expiry, and support
/// rank (`SupportStatus::rank`, 0 for none), with its client as billable counts name it.
pub(super) const DEVICE_LIFECYCLE_SQL: &str = concat!(
    "
    SELECT MIN(sc.client), ",
    device_lifecycle_rank!("?2"),
    ",
           MAX(a.warranty_expires),
           MAX(CASE a.support_status
                 WHEN 'covered' THEN 5 WHEN 'available' THEN 4 WHEN 'security_only' THEN 3
                 WHEN 'unpublished' THEN 2 WHEN 'expired' THEN 1 ELSE 0
               END)
    FROM assets a JOIN source_clients sc ON sc.id = a.source_client_id
    WHERE a.removed_at IS NULL OR a.removed_at > ?1
    GROUP BY a.device_id"
);

fn summary_now(
    c: &Connection,
    cutoff: &str,
    today: NaiveDate,
) -> rusqlite::Result<Vec<ClientLifecycle>> {
    let mut per: BTreeMap<String, ClientLifecycle> = BTreeMap::new();
    // Every known client, with zeros when it has no device (as billable counts list them).
    {
        let mut st =
            c.prepare_cached("SELECT DISTINCT client FROM source_clients WHERE client != ''")?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let client: String = r.get(0)?;
            per.entry(client.clone())
                .or_insert_with(|| ClientLifecycle {
                    client,
                    ..ClientLifecycle::default()
                });
        }
    }
    let mut st = c.prepare_cached(DEVICE_LIFECYCLE_SQL)?;
    let mut rows = st.query(params![cutoff, day(today)])?;
    while let Some(r) = rows.next()? {
        let Some(client) = r.get_ref(0)?.as_str_or_null()? else {
            continue;
        };
        if client.is_empty() {
            continue;
        }
        let Some(entry) = per.get_mut(client) else {
            continue;
        };
        entry.devices += 1;
        let status = WarrantyStatus::from_rank(r.get(1)?);
        match status {
            WarrantyStatus::Covered => entry.covered += 1,
            WarrantyStatus::NotCovered => entry.not_covered += 1,
            WarrantyStatus::Expired => entry.expired += 1,
            WarrantyStatus::Unknown => entry.unknown += 1,
        }
        if status == WarrantyStatus::Covered {
            let expires = r.get_ref(2)?.as_str_or_null()?.and_then(parse_day);
            if let Some(days) = expires
                .map(|e| (e - today).num_days())
                .and_then(|d| u32::try_from(d).ok())
            {
                entry.expiring.push(days);
            }
        }
        if SupportStatus::from_rank(r.get(3)?) == Some(SupportStatus::Expired) {
            entry.out_of_support += 1;
        }
    }
    Ok(per
        .into_values()
        .map(|mut c| {
            c.expiring.sort_unstable();
            c
        })
        .collect())
}

/// Applies `run`'s staged lifecycle to its source's present assets (see the module docs),
/// inside the run's transaction. Assets with ids from `new_from` were added by this run
/// (their lifecycle is part of their first appearance: no history rows); `updated` are
/// those `apply_assets` already counted as updated. Returns whether anything changed.
pub(super) fn apply_lifecycle(
    tx: &rusqlite::Transaction,
    run: &SyncRun,
    now: &str,
    new_from: Option<i64>,
    updated: &IdSet,
    counts: &mut RunCounts,
) -> rusqlite::Result<bool> {
    let staged: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM staged_lifecycle WHERE run_id = ?1)
             OR EXISTS (SELECT 1 FROM staged_lifecycle_scope WHERE run_id = ?1)",
        [run.id],
        |r| r.get(0),
    )?;
    if !staged {
        return Ok(false);
    }
    // (id, stored values, new values) of every asset whose values may change: those with a
    // report (its parts read by the report or by its client's scope), then those of a scoped
    // client without one that have something to lose.
    let mut changes: Vec<(i64, Values, Values)> = Vec::new();
    let old_columns = "a.purchase_date, a.warranty_expires, a.warranty_status, a.support_status,
        a.purchase_date_raw, a.warranty_expires_raw";
    {
        let mut st = tx.prepare(&format!(
            "SELECT a.id, {old_columns},
               l.warranty_read, l.purchase_date, l.warranty_expires, l.warranty_status, l.support_status,
               l.purchase_date_raw, l.warranty_expires_raw, l.support_read,
               COALESCE(p.warranty_read, 0), COALESCE(p.support_read, 0)
             FROM staged_lifecycle l
             JOIN assets a ON a.source = ?1 AND a.external_id = l.external_id
             LEFT JOIN source_clients sc ON sc.id = a.source_client_id
             LEFT JOIN staged_lifecycle_scope p ON p.run_id = ?2 AND p.source_client = sc.external_id
             WHERE l.run_id = ?2 AND a.removed_at IS NULL"
        ))?;
        let mut rows = st.query(params![run.source, run.id])?;
        while let Some(r) = rows.next()? {
            let old = values(r, 1)?;
            let (report_warranty, report_support): (bool, bool) = (r.get(7)?, r.get(14)?);
            let (scope_warranty, scope_support): (bool, bool) = (r.get(15)?, r.get(16)?);
            let reported = values(r, 8)?;
            let mut new = old.clone();
            if report_warranty {
                for i in [0, 1, 2, 4, 5] {
                    new[i] = reported[i].clone();
                }
            } else if scope_warranty {
                nothing_for_warranty(&mut new);
            }
            if report_support {
                new[3] = reported[3].clone();
            } else if scope_support {
                new[3] = None;
            }
            changes.push((r.get(0)?, old, new));
        }
    }
    {
        let mut st = tx.prepare(&format!(
            "SELECT a.id, {old_columns}, p.warranty_read, p.support_read
             FROM staged_lifecycle_scope p
             JOIN source_clients sc ON sc.source = ?1 AND sc.external_id = p.source_client
             JOIN assets a ON a.source_client_id = sc.id
             WHERE p.run_id = ?2 AND a.removed_at IS NULL
               AND (a.purchase_date IS NOT NULL OR a.warranty_expires IS NOT NULL
                    OR a.warranty_status IS NOT NULL OR a.support_status IS NOT NULL
                    OR a.purchase_date_raw != '' OR a.warranty_expires_raw != '')
               AND NOT EXISTS (SELECT 1 FROM staged_lifecycle l WHERE l.run_id = ?2 AND l.external_id = a.external_id)"
        ))?;
        let mut rows = st.query(params![run.source, run.id])?;
        while let Some(r) = rows.next()? {
            let old = values(r, 1)?;
            let mut new = old.clone();
            if r.get::<_, bool>(7)? {
                nothing_for_warranty(&mut new);
            }
            if r.get::<_, bool>(8)? {
                new[3] = None;
            }
            changes.push((r.get(0)?, old, new));
        }
    }
    let mut write = tx.prepare_cached(
        "UPDATE assets SET purchase_date = ?2, warranty_expires = ?3, warranty_status = ?4,
           support_status = ?5, purchase_date_raw = COALESCE(?6, ''), warranty_expires_raw = COALESCE(?7, '')
         WHERE id = ?1",
    )?;
    let mut history = tx.prepare_cached(
        "INSERT INTO asset_changes (asset_id, run_id, changed_at, field, old_value, new_value)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    let mut any = false;
    for (id, old, new) in changes {
        if old == new {
            continue;
        }
        any = true;
        write.execute(params![id, new[0], new[1], new[2], new[3], new[4], new[5]])?;
        let added_now = new_from.is_some_and(|first| id >= first);
        if added_now {
            continue;
        }
        for (i, field) in FIELDS.iter().enumerate() {
            if old[i] != new[i] {
                history.execute(params![
                    id,
                    run.id,
                    now,
                    field,
                    old[i].as_deref().unwrap_or(""),
                    new[i].as_deref().unwrap_or("")
                ])?;
            }
        }
        if !updated.contains(id) {
            counts.updated += 1;
        }
    }
    counts.unchanged = (counts.fetched - counts.added - counts.updated).max(0);
    Ok(any)
}

/// The warranty part of `v` emptied: the vendor has nothing for it.
fn nothing_for_warranty(v: &mut Values) {
    for i in [0, 1, 2, 4, 5] {
        v[i] = None;
    }
}

/// Six lifecycle values from column `at` on, in `FIELDS` order; an empty raw text is none.
fn values(r: &rusqlite::Row, at: usize) -> rusqlite::Result<Values> {
    let mut out: Values = Default::default();
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = r
            .get::<_, Option<String>>(at + i)?
            .filter(|v| !v.is_empty());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{run, run_with_lifecycle};
    use super::*;
    use crate::model::{
        Category, Coverage, LifecycleReport, LifecycleScope, ReportedAsset, RunKind, VendorDate,
        WarrantyFacts,
    };
    use crate::store::{AssetFilter, LifecycleFilter};

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn switch(id: &str, serial: &str) -> ReportedAsset {
        ReportedAsset {
            external_id: id.into(),
            source_client_id: "t1".into(),
            name: id.into(),
            category: Some(Category::Switch),
            vendor_type: "switch".into(),
            serial: serial.into(),
            managed: Some(true),
            ..ReportedAsset::default()
        }
    }

    fn warranty(id: &str, purchase: Option<&str>, expires: Option<&str>) -> LifecycleReport {
        let date = |s: Option<&str>| s.map(|s| VendorDate::Date(d(s)));
        LifecycleReport {
            external_id: id.into(),
            warranty: Some(WarrantyFacts {
                purchase_date: date(purchase),
                warranty_expires: date(expires),
                stated: None,
            }),
            support: None,
        }
    }

    fn support(id: &str, s: Option<SupportStatus>) -> LifecycleReport {
        LifecycleReport {
            external_id: id.into(),
            warranty: None,
            support: Some(s),
        }
    }

    fn scope(warranty: bool, support: bool) -> LifecycleScope {
        LifecycleScope {
            clients: vec!["t1".into()],
            warranty,
            support,
        }
    }

    fn open() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("a.db")).unwrap();
        (dir, store)
    }

    fn lifecycle_of(store: &Store, external_id: &str) -> crate::model::Lifecycle {
        store
            .list_assets(&AssetFilter::default(), 0, 1000)
            .unwrap()
            .into_iter()
            .find(|a| a.record.external_id == external_id)
            .unwrap_or_else(|| panic!("no asset {external_id}"))
            .lifecycle
    }

    fn history(store: &Store) -> Vec<(String, String, String)> {
        store
            .list_changes(0, 0, 10_000)
            .unwrap()
            .into_iter()
            .map(|(_, c)| (c.field, c.old_value, c.new_value))
            .filter(|(f, _, _)| FIELDS.contains(&f.as_str()))
            .collect()
    }

    #[test]
    fn what_a_run_did_not_read_keeps_its_values_and_what_it_read_replaces_them() {
        let (_dir, store) = open();
        let assets = [
            switch("a", "SN-A"),
            switch("b", "SN-B"),
            switch("c", "SN-C"),
        ];
        // First sync: warranty for a and b, support for a; their values need no history
        // (their first appearance).
        let first = run_with_lifecycle(
            &store,
            RunKind::Full,
            &assets,
            &[
                warranty("a", Some("2021-01-10"), Some("2027-01-10")),
                warranty("b", None, Some("2025-01-01")),
                support("a", Some(SupportStatus::Covered)),
            ],
            &LifecycleScope::default(),
        );
        assert_eq!(first.counts.added, 3);
        assert_eq!(first.counts.updated, 0);
        assert!(history(&store).is_empty(), "{:?}", history(&store));
        let a = lifecycle_of(&store, "a");
        assert_eq!(a.purchase_date, Some(d("2021-01-10")));
        assert_eq!(a.warranty_expires, Some(d("2027-01-10")));
        assert_eq!(a.support_status, Some(SupportStatus::Covered));
        assert_eq!(
            lifecycle_of(&store, "b").warranty_expires,
            Some(d("2025-01-01"))
        );

        // An incremental run that read no lifecycle: nothing changes (not read is not null).
        let inc = run(
            &store,
            RunKind::Incremental,
            &assets,
            crate::store::Apply::Upserts,
        );
        assert_eq!(inc.counts.updated, 0);
        assert_eq!(
            lifecycle_of(&store, "a").warranty_expires,
            Some(d("2027-01-10"))
        );
        assert_eq!(
            lifecycle_of(&store, "a").support_status,
            Some(SupportStatus::Covered)
        );

        // A full run whose warranty listing was read to the end but whose lifecycle endpoint
        // failed (no support scope): a's warranty is renewed, b has none any more (not
        // listed), a keeps its support status.
        let renewed = run_with_lifecycle(
            &store,
            RunKind::Full,
            &assets,
            &[warranty("a", Some("2021-01-10"), Some("2030-01-10"))],
            &scope(true, false),
        );
        assert_eq!(
            renewed.counts.updated, 2,
            "a and b changed, by lifecycle alone"
        );
        assert_eq!(renewed.counts.unchanged, 1);
        assert_eq!(
            lifecycle_of(&store, "a").warranty_expires,
            Some(d("2030-01-10"))
        );
        assert_eq!(
            lifecycle_of(&store, "a").support_status,
            Some(SupportStatus::Covered)
        );
        assert_eq!(lifecycle_of(&store, "b").warranty_expires, None);
        let mut h = history(&store);
        h.sort();
        assert_eq!(
            h,
            [
                (
                    "warranty_expires".to_string(),
                    "2025-01-01".to_string(),
                    String::new()
                ),
                (
                    "warranty_expires".to_string(),
                    "2027-01-10".to_string(),
                    "2030-01-10".to_string()
                ),
            ]
        );

        // The support listing read to the end without a: a has no support status now.
        run_with_lifecycle(&store, RunKind::Full, &assets, &[], &scope(false, true));
        assert_eq!(lifecycle_of(&store, "a").support_status, None);
        assert_eq!(
            lifecycle_of(&store, "a").warranty_expires,
            Some(d("2030-01-10"))
        );
        // The same again changes nothing and writes nothing.
        let again = run_with_lifecycle(
            &store,
            RunKind::Full,
            &assets,
            &[warranty("a", Some("2021-01-10"), Some("2030-01-10"))],
            &scope(true, true),
        );
        assert_eq!(again.counts.updated, 0);
        assert_eq!(again.counts.unchanged, 3);
    }

    #[test]
    fn reports_for_one_asset_merge_and_unreadable_dates_are_kept_as_given() {
        let (_dir, store) = open();
        let assets = [switch("a", "SN-A")];
        run_with_lifecycle(
            &store,
            RunKind::Full,
            &assets,
            &[
                LifecycleReport {
                    external_id: "a".into(),
                    warranty: Some(WarrantyFacts {
                        purchase_date: Some(VendorDate::Unreadable("last spring".into())),
                        warranty_expires: Some(VendorDate::Unreadable("2027-02-30".into())),
                        stated: Some(WarrantyStatus::Covered),
                    }),
                    support: None,
                },
                support("a", Some(SupportStatus::SecurityOnly)),
            ],
            &LifecycleScope::default(),
        );
        let a = lifecycle_of(&store, "a");
        assert_eq!(a.purchase_date, None, "never invented");
        assert_eq!(a.warranty_expires, None);
        assert_eq!(a.purchase_date_raw, "last spring");
        assert_eq!(a.warranty_expires_raw, "2027-02-30");
        assert_eq!(a.stated, Some(WarrantyStatus::Covered));
        assert_eq!(a.support_status, Some(SupportStatus::SecurityOnly));
        assert_eq!(a.warranty_status(d("2026-01-01")), WarrantyStatus::Covered);
        assert_eq!(a.age_days(d("2026-01-01")), None);
    }

    #[test]
    fn removal_coverage_and_counts_do_not_depend_on_lifecycle() {
        let (_dir, store) = open();
        let assets = [switch("a", "SN-A"), switch("b", "SN-B")];
        run_with_lifecycle(&store, RunKind::Full, &assets, &[], &scope(true, true));
        let r = store
            .begin_run("auvik", RunKind::Full, crate::model::RunTrigger::Manual)
            .unwrap();
        store.stage_assets(&r, &assets[..1]).unwrap();
        // Lifecycle for the asset the run did not list is ignored for removal purposes.
        store
            .stage_lifecycle(r.id, &[warranty("b", None, Some("2030-01-01"))])
            .unwrap();
        let candidates = store
            .removal_candidates(&r, &Coverage::Everything, &Default::default())
            .unwrap();
        assert_eq!(candidates.len(), 1, "b is still a removal candidate");
        let _ = store.finish_run(&r, super::super::tests::end(crate::store::Apply::Upserts));
    }

    #[test]
    fn the_summary_merges_devices_counts_windows_and_follows_the_day() {
        let (_dir, store) = open();
        // Two sources' reports of one switch (same serial) disagree: the latest expiry wins.
        let today = d("2026-06-15");
        let assets = [
            switch("exp-today", "S1"),
            switch("exp-yesterday", "S2"),
            switch("exp-90", "S3"),
            switch("exp-91", "S4"),
            switch("exp-200", "S5"),
            switch("unknown", "S6"),
            switch("merged-old", "S7"),
            switch("not-covered", "S8"),
            switch("eos", "S9"),
        ];
        run_with_lifecycle(
            &store,
            RunKind::Full,
            &assets,
            &[
                warranty("exp-today", None, Some("2026-06-15")),
                warranty("exp-yesterday", None, Some("2026-06-14")),
                warranty("exp-90", None, Some("2026-09-13")),
                warranty("exp-91", None, Some("2026-09-14")),
                warranty("exp-200", Some("2020-01-01"), Some("2027-01-01")),
                warranty("merged-old", Some("2019-03-01"), Some("2024-03-01")),
                LifecycleReport {
                    external_id: "not-covered".into(),
                    warranty: Some(WarrantyFacts {
                        stated: Some(WarrantyStatus::NotCovered),
                        ..WarrantyFacts::default()
                    }),
                    support: None,
                },
                support("eos", Some(SupportStatus::Expired)),
            ],
            &LifecycleScope::default(),
        );
        let summary = store.lifecycle_summary(None, today).unwrap();
        let c = summary.iter().find(|c| c.client == "Contoso").unwrap();
        assert_eq!(c.devices, 9);
        assert_eq!(c.expired, 2, "yesterday's and 2024's");
        assert_eq!(c.not_covered, 1);
        assert_eq!(c.unknown, 2, "no data at all, and support data only");
        assert_eq!(c.covered, 4);
        assert_eq!(c.expiring_within(0), 1, "expiring today counts");
        assert_eq!(c.expiring_within(90), 2);
        assert_eq!(c.expiring_within(180), 3);
        assert_eq!(c.expiring_within(365), 4);
        assert_eq!(c.out_of_support, 1);
        // The day after, today's expiry has expired; the answer is recomputed for the day.
        let next = store.lifecycle_summary(None, d("2026-06-16")).unwrap();
        let c = next.iter().find(|c| c.client == "Contoso").unwrap();
        assert_eq!((c.expired, c.covered), (3, 3));

        // The filters agree with the summary, asset by asset.
        let ids = |filter: LifecycleFilter| -> Vec<String> {
            let mut v: Vec<String> = store
                .list_assets(
                    &AssetFilter {
                        lifecycle: filter,
                        ..AssetFilter::default()
                    },
                    0,
                    100,
                )
                .unwrap()
                .into_iter()
                .map(|a| a.record.external_id)
                .collect();
            v.sort();
            v
        };
        let base = LifecycleFilter {
            today,
            ..LifecycleFilter::default()
        };
        assert_eq!(
            ids(LifecycleFilter {
                expires_until: Some(d("2026-09-13")),
                ..base.clone()
            }),
            ["exp-90", "exp-today"]
        );
        assert_eq!(
            ids(LifecycleFilter {
                expired: true,
                ..base.clone()
            }),
            ["exp-yesterday", "merged-old"]
        );
        assert_eq!(
            ids(LifecycleFilter {
                purchased_by: Some(d("2020-01-01")),
                ..base.clone()
            }),
            ["exp-200", "merged-old"]
        );

        // Another source reports merged-old (same serial) with a later expiry and an earlier
        // purchase date: the device takes both, and says where each came from.
        store.ensure_source("syncro", "syncro").unwrap();
        let r = store
            .begin_run("syncro", RunKind::Full, crate::model::RunTrigger::Manual)
            .unwrap();
        store
            .stage_clients(
                r.id,
                &[crate::model::SourceClient {
                    external_id: "c1".into(),
                    name: "Contoso".into(),
                    aliases: vec![],
                }],
            )
            .unwrap();
        let mut other = switch("s-1", "S7");
        other.source_client_id = "c1".into();
        store.stage_assets(&r, &[other]).unwrap();
        store
            .stage_lifecycle(
                r.id,
                &[warranty("s-1", Some("2018-05-05"), Some("2027-03-01"))],
            )
            .unwrap();
        store
            .finish_run(&r, super::super::tests::end(crate::store::Apply::Upserts))
            .unwrap();
        let devices = store.list_devices(None, None, &base, 0, 100).unwrap();
        let merged = devices
            .iter()
            .find(|dv| dv.asset_ids.len() == 2)
            .expect("merged device");
        assert_eq!(
            merged.purchase_date,
            Some((d("2018-05-05"), "syncro".into()))
        );
        assert_eq!(
            merged.warranty_expires,
            Some((d("2027-03-01"), "syncro".into()))
        );
        assert_eq!(merged.warranty_status, WarrantyStatus::Covered);
        let summary = store.lifecycle_summary(None, today).unwrap();
        let c = summary.iter().find(|c| c.client == "Contoso").unwrap();
        assert_eq!(c.devices, 9, "one device, reported twice");
        assert_eq!((c.expired, c.covered), (1, 5));
        assert_eq!(c.expiring_within(365), 5);
        let expired_devices = store
            .list_devices(
                None,
                None,
                &LifecycleFilter {
                    expired: true,
                    ..base.clone()
                },
                0,
                100,
            )
            .unwrap();
        assert_eq!(expired_devices.len(), 1);
        let old = store
            .list_devices(
                None,
                None,
                &LifecycleFilter {
                    purchased_by: Some(d("2019-01-01")),
                    ..base
                },
                0,
                100,
            )
            .unwrap();
        assert_eq!(old.len(), 1);
        assert_eq!(old[0].asset_ids.len(), 2);
    }
}
