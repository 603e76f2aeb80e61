//! The durable event log (issue 23, `docs/events.md`) and the hooks' outboxes.
//!
//! Events are written by the transactions that make the changes they describe (`begin_run`,
//! `finish_run` and its apply, `recover`, `record_source_state`), through the helpers here,
//! so a crash can neither lose an event whose change committed nor keep one whose change
//! rolled back. After each such commit the store publishes the log's last id on a watch
//! channel (`subscribe_events`): `WatchEvents` streams and hook deliveries wake on it and
//! read what is new from the database, each at its own pace, so a slow reader holds only
//! its own page and can never make another lag or lose anything.
//!
//! Each hook's outbox is a row of `hooks`: a cursor (`delivered_through`) advanced only
//! after the receiver took the next event, and the retry state. Pruning
//! (`prune_events`) deletes, in small batches, a prefix of the log older than the
//! retention, but never an event a configured hook has still to deliver.

use super::{Result, Store, StoreError, ts};
use crate::event::{Event, EventFilter, EventType};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

/// A page of the log, and how far it has been pruned (read in the same transaction, so a
/// reader can tell whether events it has not read were pruned meanwhile).
#[derive(Debug, Clone, Default)]
pub struct EventPage {
    pub events: Vec<Event>,
    pub pruned_through: i64,
}

/// A hook's outbox as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HookRow {
    pub name: String,
    /// Every event up to this id has been delivered, or was not for this hook.
    pub delivered_through: i64,
    /// Failed attempts in a row at the next event.
    pub attempts: i64,
    pub failing_since: Option<DateTime<Utc>>,
    pub next_attempt: Option<DateTime<Utc>>,
    /// Retried for the whole retry window without success: waits for `hooks retry`.
    pub failing: bool,
    pub last_error: String,
    pub last_delivery: Option<DateTime<Utc>>,
}

/// How an attempt at a hook's next event ended, as the outbox records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The receiver took event `id` (a 2xx, or a command that exited 0).
    Delivered { id: i64, at: DateTime<Utc> },
    /// It did not: try again at `next_attempt`, or never until `hooks retry` when `failing`.
    Failed {
        error: String,
        at: DateTime<Utc>,
        next_attempt: DateTime<Utc>,
        failing: bool,
    },
}

const EVENT_COLUMNS: &str = "id, time, type, source, run_id, asset_id, client, data";

fn event_from_row(r: &rusqlite::Row) -> rusqlite::Result<Event> {
    Ok(Event {
        id: r.get(0)?,
        time: r.get(1)?,
        kind: r.get(2)?,
        source: r.get(3)?,
        run_id: r.get(4)?,
        asset_id: r.get(5)?,
        client: r.get(6)?,
        data: r.get(7)?,
    })
}

/// The filter's lists as JSON arrays for `json_each`, or NULL for "any": one cached
/// statement serves every filter.
fn filter_params(filter: &EventFilter) -> (Option<String>, Option<String>) {
    let types = (!filter.types.is_empty()).then(|| {
        serde_json::to_string(&filter.types.iter().map(|t| t.as_str()).collect::<Vec<_>>())
            .unwrap_or_else(|_| "[]".into())
    });
    let sources = (!filter.sources.is_empty())
        .then(|| serde_json::to_string(&filter.sources).unwrap_or_else(|_| "[]".into()));
    (types, sources)
}

const FILTERED: &str = "(?3 IS NULL OR type IN (SELECT value FROM json_each(?3)))
     AND (?4 IS NULL OR source IN (SELECT value FROM json_each(?4)))";

/// The highest id ever given to an event (0 before the first). Pruning can delete the
/// newest rows too, so this is AUTOINCREMENT's own counter, not `MAX(id)`.
pub(super) fn last_event_id(c: &Connection) -> rusqlite::Result<i64> {
    Ok(
        c.prepare_cached("SELECT seq FROM sqlite_sequence WHERE name = 'events'")?
            .query_row([], |r| r.get(0))
            .optional()?
            .unwrap_or(0),
    )
}

/// Appends one event inside the caller's transaction; returns its id.
#[allow(clippy::too_many_arguments)]
pub(super) fn insert_event(
    c: &Connection,
    time: &str,
    kind: EventType,
    source: &str,
    run_id: Option<i64>,
    asset_id: Option<i64>,
    client: &str,
    data: &serde_json::Value,
) -> rusqlite::Result<i64> {
    c.prepare_cached(
        "INSERT INTO events (time, type, source, run_id, asset_id, client, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        time,
        kind.as_str(),
        source,
        run_id,
        asset_id,
        client,
        data.to_string()
    ])?;
    Ok(c.last_insert_rowid())
}

/// The run's fields as `run.started` and `run.finished` carry them: the names of the CLI's
/// `run` record (`docs/cli-json.md`), without `id` and `source`, which are the event's.
const RUN_DATA: &str = "json_object('kind', kind, 'trigger', trigger, 'state', state,
       'started', started, 'finished', finished, 'fetched', fetched, 'added', added,
       'updated', updated, 'unchanged', unchanged, 'removed', removed, 'skipped', skipped,
       'skipped_units', skipped_units, 'removals_held', removals_held, 'requests', requests,
       'retries', retries, 'error', error)";

/// `run.started` or `run.finished` for run `run_id`, from its row as the caller's
/// transaction has written it.
pub(super) fn run_event(
    c: &Connection,
    kind: EventType,
    run_id: i64,
    time: &str,
) -> rusqlite::Result<()> {
    c.prepare_cached(&format!(
        "INSERT INTO events (time, type, source, run_id, data)
         SELECT ?2, ?3, source, id, {RUN_DATA} FROM sync_runs WHERE id = ?1"
    ))?
    .execute(params![run_id, time, kind.as_str()])?;
    Ok(())
}

/// Records the state a source is now in; when it differs from the one stored, also
/// `source.state_changed` (old, new, and the detail that says what to do).
pub(super) fn set_source_state(
    c: &Connection,
    source: &str,
    state: &str,
    detail: &str,
    run_id: Option<i64>,
    time: &str,
) -> rusqlite::Result<()> {
    let old: Option<String> = c
        .prepare_cached("SELECT state FROM sources WHERE name = ?1")?
        .query_row([source], |r| r.get(0))
        .optional()?;
    let Some(old) = old else {
        // A source the database does not know (purged meanwhile): nothing to compare with.
        return Ok(());
    };
    if old == state {
        return Ok(());
    }
    c.prepare_cached("UPDATE sources SET state = ?2 WHERE name = ?1")?
        .execute(params![source, state])?;
    insert_event(
        c,
        time,
        EventType::SourceStateChanged,
        source,
        run_id,
        None,
        "",
        &serde_json::json!({ "old": old, "new": state, "detail": detail }),
    )?;
    Ok(())
}

/// `asset.added` for every asset a run inserted (ids from `first_id`), in one statement as
/// the rows themselves were inserted; their client is the source client's link.
pub(super) fn assets_added_events(
    c: &Connection,
    run_id: i64,
    source: &str,
    first_id: i64,
    time: &str,
) -> rusqlite::Result<usize> {
    c.prepare_cached(
        "INSERT INTO events (time, type, source, run_id, asset_id, client, data)
         SELECT ?3, 'asset.added', ?4, ?2, a.id, COALESCE(sc.client, ''),
           json_object('external_id', a.external_id, 'name', a.name, 'category', a.category,
             'serial', a.serial, 'source_client', COALESCE(sc.name, ''),
             'billable', json(CASE WHEN a.billable THEN 'true' ELSE 'false' END),
             'returned', json('false'))
         FROM assets a LEFT JOIN source_clients sc ON sc.id = a.source_client_id
         WHERE a.id >= ?1 ORDER BY a.id",
    )?
    .execute(params![first_id, run_id, time, source])
}

/// What `asset.*` events say about the asset besides its id: enough for a receiver to act
/// without asking back.
pub(super) struct AssetFacts<'a> {
    pub external_id: &'a str,
    pub name: &'a str,
    pub category: &'a str,
    pub serial: &'a str,
    pub source_client: &'a str,
    pub billable: bool,
}

impl AssetFacts<'_> {
    fn json(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut m = serde_json::Map::new();
        m.insert("external_id".into(), self.external_id.into());
        m.insert("name".into(), self.name.into());
        m.insert("category".into(), self.category.into());
        m.insert("serial".into(), self.serial.into());
        m.insert("source_client".into(), self.source_client.into());
        m.insert("billable".into(), self.billable.into());
        m
    }
}

/// `asset.changed` (or `asset.added` with `returned: true` for a removed asset that came
/// back): the changed fields exactly as the history rows written beside it.
#[allow(clippy::too_many_arguments)]
pub(super) fn asset_changed_event(
    c: &Connection,
    run_id: i64,
    source: &str,
    asset_id: i64,
    client: &str,
    facts: &AssetFacts,
    changes: &[(&str, String, String)],
    returned: bool,
    time: &str,
) -> rusqlite::Result<()> {
    let mut data = facts.json();
    if returned {
        data.insert("returned".into(), true.into());
    }
    data.insert(
        "changes".into(),
        changes
            .iter()
            .map(|(field, old, new)| {
                serde_json::json!({ "field": field, "old_value": old, "new_value": new })
            })
            .collect::<Vec<_>>()
            .into(),
    );
    let kind = if returned {
        EventType::AssetAdded
    } else {
        EventType::AssetChanged
    };
    insert_event(
        c,
        time,
        kind,
        source,
        Some(run_id),
        Some(asset_id),
        client,
        &data.into(),
    )?;
    Ok(())
}

/// `asset.removed`, with the asset as it was when it left.
pub(super) fn asset_removed_event(
    c: &Connection,
    run_id: i64,
    source: &str,
    asset_id: i64,
    client: &str,
    facts: &AssetFacts,
    time: &str,
) -> rusqlite::Result<()> {
    insert_event(
        c,
        time,
        EventType::AssetRemoved,
        source,
        Some(run_id),
        Some(asset_id),
        client,
        &facts.json().into(),
    )?;
    Ok(())
}

/// How many days before its warranty expires a device is announced (`warranty.expiring`):
/// the window of `assetctl lifecycle`'s `expiring_90d`, expiry day included.
pub const WARRANTY_WINDOW_DAYS: u64 = 90;

/// `warranty.expiring` for each device of `run`'s source that is in the warranty window on
/// `today`: covered (its lifecycle warranty status, as `assetctl lifecycle` ranks it) with its
/// latest expiry between today and today + 90 days, and not yet announced for that expiry
/// date (`warranty_notices`: at most one event per device and expiry date, whatever the
/// runs). The event is the run source's, about the asset of that source that carries the
/// date; a device whose date comes only from another source is that source's runs' to
/// announce. A device already in the window when first seen is announced then. Notices for
/// dates gone by are dropped: such a date can never be in the window again. Runs in the
/// run's transaction, after devices are merged. Returns how many events it wrote.
pub(super) fn warranty_expiring_events(
    c: &Connection,
    run_id: i64,
    source: &str,
    today: chrono::NaiveDate,
    time: &str,
) -> rusqlite::Result<usize> {
    let from = super::day(today);
    let until = super::day(today + chrono::Days::new(WARRANTY_WINDOW_DAYS));
    c.prepare_cached("DELETE FROM warranty_notices WHERE warranty_expires < ?1")?
        .execute([&from])?;
    // Devices with a present asset of this source dated in the window (by the index on
    // `warranty_expires`), then each such device whole: its rank and its latest date decide.
    // `?5` is the day `DEVICE_LIFECYCLE_RANK` is computed for (`?4` is not used).
    let due: Vec<(i64, String)> = {
        let mut st = c.prepare_cached(&format!(
            "SELECT a.device_id, MAX(a.warranty_expires) FROM assets a
             WHERE a.removed_at IS NULL AND a.device_id IN (
                 SELECT device_id FROM assets WHERE source = ?3 AND removed_at IS NULL
                   AND warranty_expires BETWEEN ?1 AND ?2)
             GROUP BY a.device_id
             HAVING {rank} = 4 AND MAX(a.warranty_expires) BETWEEN ?1 AND ?2
             ORDER BY a.device_id",
            rank = super::lifecycle::DEVICE_LIFECYCLE_RANK
        ))?;
        st.query_map(
            params![from, until, source, Option::<i64>::None, from],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?
        .collect::<rusqlite::Result<_>>()?
    };
    let mut carrier = c.prepare_cached(
        "SELECT a.id, a.external_id, a.name, a.category, a.serial, COALESCE(sc.name, ''),
                a.billable, COALESCE(sc.client, '')
         FROM assets a LEFT JOIN source_clients sc ON sc.id = a.source_client_id
         WHERE a.device_id = ?1 AND a.source = ?2 AND a.warranty_expires = ?3
           AND a.removed_at IS NULL
         ORDER BY a.id LIMIT 1",
    )?;
    let mut noticed = c.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM warranty_notices WHERE device_id = ?1 AND warranty_expires = ?2)",
    )?;
    let mut notice = c.prepare_cached(
        "INSERT INTO warranty_notices (device_id, warranty_expires, event_id) VALUES (?1, ?2, ?3)",
    )?;
    let mut written = 0;
    for (device_id, expires) in due {
        if noticed.query_row(params![device_id, expires], |r| r.get::<_, bool>(0))? {
            continue;
        }
        let Some((asset_id, facts, client)) = carrier
            .query_row(params![device_id, source, expires], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    (
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, bool>(6)?,
                    ),
                    r.get::<_, String>(7)?,
                ))
            })
            .optional()?
        else {
            // The latest date is another source's: its runs announce it.
            continue;
        };
        let days_left = super::parse_day(&expires).map_or(0, |d| (d - today).num_days());
        let (external_id, name, category, serial, source_client, billable) = facts;
        let mut data = AssetFacts {
            external_id: &external_id,
            name: &name,
            category: &category,
            serial: &serial,
            source_client: &source_client,
            billable,
        }
        .json();
        data.insert("device_id".into(), device_id.into());
        data.insert("warranty_expires".into(), expires.clone().into());
        data.insert("days_left".into(), days_left.into());
        let id = insert_event(
            c,
            time,
            EventType::WarrantyExpiring,
            source,
            Some(run_id),
            Some(asset_id),
            &client,
            &data.into(),
        )?;
        notice.execute(params![device_id, expires, id])?;
        written += 1;
    }
    Ok(written)
}

fn opt_ts(v: Option<String>) -> Option<DateTime<Utc>> {
    v.and_then(|s| super::parse_ts(&s))
}

fn hook_from_row(r: &rusqlite::Row) -> rusqlite::Result<HookRow> {
    Ok(HookRow {
        name: r.get(0)?,
        delivered_through: r.get(1)?,
        attempts: r.get(2)?,
        failing_since: opt_ts(r.get(3)?),
        next_attempt: opt_ts(r.get(4)?),
        failing: r.get(5)?,
        last_error: r.get(6)?,
        last_delivery: opt_ts(r.get(7)?),
    })
}

const HOOK_COLUMNS: &str = "name, delivered_through, attempts, failing_since, next_attempt, failing, last_error, last_delivery";

impl Store {
    /// A receiver of the log's last committed id, changed after every commit that adds
    /// events: wake on it, then read from the database.
    pub fn subscribe_events(&self) -> tokio::sync::watch::Receiver<i64> {
        self.inner.events.subscribe()
    }

    /// Tells watchers that events up to `last` are committed (called after the commit).
    pub(super) fn publish_events(&self, last: i64) {
        self.inner.events.send_if_modified(|v| {
            let newer = last > *v;
            if newer {
                *v = last;
            }
            newer
        });
    }

    /// How far the log has been pruned, and the last id given out.
    pub fn event_horizon(&self) -> Result<(i64, i64)> {
        self.with_reader(|c| {
            c.execute_batch("BEGIN")?;
            let read = (|| {
                let pruned: i64 =
                    c.query_row("SELECT pruned_through FROM event_log", [], |r| r.get(0))?;
                Ok::<_, rusqlite::Error>((pruned, last_event_id(c)?))
            })();
            let _ = c.execute_batch("COMMIT");
            Ok(read?)
        })
    }

    /// Up to `limit` events with ids in `(after, upto]` that `filter` wants, in id order,
    /// with how far the log is pruned, from one snapshot.
    pub fn events_after(
        &self,
        after: i64,
        upto: i64,
        filter: &EventFilter,
        limit: usize,
    ) -> Result<EventPage> {
        let (types, sources) = filter_params(filter);
        self.with_reader(|c| {
            c.execute_batch("BEGIN")?;
            let read = (|| {
                let pruned_through: i64 =
                    c.query_row("SELECT pruned_through FROM event_log", [], |r| r.get(0))?;
                let mut st = c.prepare_cached(&format!(
                    "SELECT {EVENT_COLUMNS} FROM events WHERE id > ?1 AND id <= ?2 AND {FILTERED}
                     ORDER BY id LIMIT ?5"
                ))?;
                let events = st
                    .query_map(
                        params![after, upto, types, sources, limit as i64],
                        event_from_row,
                    )?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok::<_, rusqlite::Error>(EventPage {
                    events,
                    pruned_through,
                })
            })();
            let _ = c.execute_batch("COMMIT");
            Ok(read?)
        })
    }

    /// How many events after `after` that `filter` wants (a hook's backlog).
    pub fn count_events_after(&self, after: i64, filter: &EventFilter) -> Result<i64> {
        let (types, sources) = filter_params(filter);
        self.with_reader(|c| {
            Ok(c.prepare_cached(&format!(
                "SELECT COUNT(*) FROM events WHERE id > ?1 AND {FILTERED}"
            ))?
            .query_row(params![after, 0, types, sources], |r| r.get(0))?)
        })
    }

    /// Deletes one batch (at most `batch` events) of the log's oldest events written before
    /// `older_than`, never one after the oldest cursor of a configured hook (a hook's
    /// backlog is kept until it is delivered, however long that takes). Only a prefix of
    /// the log goes, so `pruned_through` marks exactly what a cursor may have missed.
    /// Returns how many went; 0 when nothing more may go. Each batch is a short transaction
    /// of its own, so a sync waits at most for one batch.
    pub fn prune_events(&self, older_than: DateTime<Utc>, batch: usize) -> Result<usize> {
        let cutoff = ts(older_than);
        self.with_writer(|c| {
            let tx = c.transaction()?;
            let pruned: i64 =
                tx.query_row("SELECT pruned_through FROM event_log", [], |r| r.get(0))?;
            let held: Option<i64> =
                tx.query_row("SELECT MIN(delivered_through) FROM hooks", [], |r| r.get(0))?;
            let limit = held.unwrap_or(i64::MAX);
            let mut through = pruned;
            {
                let mut st = tx.prepare_cached(
                    "SELECT id, time FROM events WHERE id > ?1 AND id <= ?2 ORDER BY id LIMIT ?3",
                )?;
                let mut rows = st.query(params![pruned, limit, batch as i64])?;
                while let Some(r) = rows.next()? {
                    let time: String = r.get(1)?;
                    if time >= cutoff {
                        break;
                    }
                    through = r.get(0)?;
                }
            }
            if through == pruned {
                return Ok(0);
            }
            let n = tx.execute(
                "DELETE FROM events WHERE id > ?1 AND id <= ?2",
                params![pruned, through],
            )?;
            tx.execute("UPDATE event_log SET pruned_through = ?1", params![through])?;
            tx.commit()?;
            Ok(n)
        })
    }

    /// Makes the hooks' rows those of `names`: a hook new to the database starts from now
    /// (after the last event given out), a known one keeps its cursor and state, and the
    /// rows of hooks no longer configured go (their backlog no longer holds back pruning).
    pub fn set_hooks(&self, names: &[String]) -> Result<()> {
        let names_json =
            serde_json::to_string(names).map_err(|e| StoreError::Task(e.to_string()))?;
        self.with_writer(|c| {
            let tx = c.transaction()?;
            let last = last_event_id(&tx)?;
            tx.execute(
                "DELETE FROM hooks WHERE name NOT IN (SELECT value FROM json_each(?1))",
                [&names_json],
            )?;
            {
                let mut add = tx.prepare_cached(
                    "INSERT INTO hooks (name, delivered_through) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
                )?;
                for name in names {
                    add.execute(params![name, last])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
    }

    pub fn hook(&self, name: &str) -> Result<Option<HookRow>> {
        self.with_reader(|c| {
            Ok(
                c.prepare_cached(&format!("SELECT {HOOK_COLUMNS} FROM hooks WHERE name = ?1"))?
                    .query_row([name], hook_from_row)
                    .optional()?,
            )
        })
    }

    pub fn hooks(&self) -> Result<Vec<HookRow>> {
        self.with_reader(|c| {
            Ok(
                c.prepare_cached(&format!("SELECT {HOOK_COLUMNS} FROM hooks ORDER BY name"))?
                    .query_map([], hook_from_row)?
                    .collect::<rusqlite::Result<Vec<_>>>()?,
            )
        })
    }

    /// Records an attempt at hook `name`'s next event. A delivery moves the cursor to the
    /// event (never back) and clears the retry state; a failure keeps the cursor.
    pub fn record_attempt(&self, name: &str, attempt: &Attempt) -> Result<()> {
        self.with_writer(|c| {
            match attempt {
                Attempt::Delivered { id, at } => c
                    .prepare_cached(
                        "UPDATE hooks SET delivered_through = MAX(delivered_through, ?2), attempts = 0,
                         failing_since = NULL, next_attempt = NULL, failing = 0, last_error = '',
                         last_delivery = ?3 WHERE name = ?1",
                    )?
                    .execute(params![name, id, ts(*at)])?,
                Attempt::Failed {
                    error,
                    at,
                    next_attempt,
                    failing,
                } => c
                    .prepare_cached(
                        "UPDATE hooks SET attempts = attempts + 1,
                         failing_since = COALESCE(failing_since, ?2), next_attempt = ?3,
                         failing = ?4, last_error = ?5 WHERE name = ?1",
                    )?
                    .execute(params![name, ts(*at), ts(*next_attempt), failing, error])?,
            };
            Ok(())
        })
    }

    /// Moves hook `name`'s cursor past events that were not for it (never back), so they
    /// are not read again; its retry state is left alone.
    pub fn skip_hook_through(&self, name: &str, id: i64) -> Result<()> {
        self.with_writer(|c| {
            c.prepare_cached(
                "UPDATE hooks SET delivered_through = MAX(delivered_through, ?2) WHERE name = ?1",
            )?
            .execute(params![name, id])?;
            Ok(())
        })
    }

    /// `assetctl hooks retry`: clears the failing mark and the wait, so the next event is
    /// tried at once. False when no such hook is configured.
    pub fn retry_hook(&self, name: &str) -> Result<bool> {
        self.with_writer(|c| {
            Ok(c.prepare_cached(
                "UPDATE hooks SET failing = 0, attempts = 0, failing_since = NULL, next_attempt = NULL
                 WHERE name = ?1",
            )?
            .execute([name])?
                > 0)
        })
    }

    /// Records the state a source is in when it was decided without a run (its connector
    /// could not be built, its task failed between runs), with `source.state_changed` in
    /// the same transaction when it changed.
    pub fn record_source_state(&self, source: &str, state: &str, detail: &str) -> Result<()> {
        let last = self.with_writer(|c| {
            let tx = c.transaction()?;
            set_source_state(&tx, source, state, detail, None, &ts(Utc::now()))?;
            let last = last_event_id(&tx)?;
            tx.commit()?;
            Ok(last)
        })?;
        self.publish_events(last);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{RunKind, RunState, RunTrigger, SourceClient};
    use crate::store::tests::{REMOVE_ABSENT, end, open, record, run};
    use crate::store::{Apply, RunEnd};

    fn all(store: &Store) -> Vec<Event> {
        let (_, last) = store.event_horizon().unwrap();
        store
            .events_after(0, last, &EventFilter::default(), 10_000)
            .unwrap()
            .events
    }

    fn kinds(events: &[Event]) -> Vec<&str> {
        events.iter().map(|e| e.kind.as_str()).collect()
    }

    fn data(e: &Event) -> serde_json::Value {
        serde_json::from_str(&e.data).unwrap()
    }

    #[test]
    fn each_change_writes_its_event_in_order_and_a_quiet_run_only_its_own() {
        let (_d, store) = open();
        let rx = store.subscribe_events();
        let first = run(
            &store,
            RunKind::Full,
            &[record("a", "sw-a"), record("b", "sw-b")],
            REMOVE_ABSENT,
        );
        let events = all(&store);
        assert_eq!(
            kinds(&events),
            [
                "run.started",
                "asset.added",
                "asset.added",
                "counts.changed",
                "run.finished"
            ]
        );
        assert!(events.windows(2).all(|w| w[0].id < w[1].id));
        // Watchers were told, after the commit, up to the last one.
        assert_eq!(*rx.borrow(), events[4].id);
        let added = &events[1];
        assert_eq!(
            (added.source.as_str(), added.run_id, added.client.as_str()),
            ("auvik", Some(first.id), "Contoso")
        );
        assert_eq!(
            data(added),
            serde_json::json!({"external_id": "a", "name": "sw-a", "category": "switch",
                "serial": "", "source_client": "Contoso", "billable": true, "returned": false})
        );
        let counts = data(&events[3]);
        assert_eq!(events[3].client, "Contoso");
        assert_eq!(counts["old"]["total_billable"], 0);
        assert_eq!(counts["new"]["total_billable"], 2);
        assert_eq!(counts["new"]["total_switches"], 2);
        let finished = data(&events[4]);
        assert_eq!(finished["state"], "ok");
        assert_eq!(finished["added"], 2);
        assert_eq!(finished["kind"], "full");

        // One renamed, the other gone: a change with its fields, a removal, the counts.
        let second = run(
            &store,
            RunKind::Full,
            &[record("a", "sw-a2")],
            REMOVE_ABSENT,
        );
        let events: Vec<Event> = all(&store).into_iter().skip(5).collect();
        assert_eq!(
            kinds(&events),
            [
                "run.started",
                "asset.changed",
                "asset.removed",
                "counts.changed",
                "run.finished"
            ]
        );
        assert!(events.iter().all(|e| e.run_id == Some(second.id)));
        let changed = data(&events[1]);
        assert_eq!(
            changed["changes"],
            serde_json::json!([{"field": "name", "old_value": "sw-a", "new_value": "sw-a2"}])
        );
        assert_eq!(changed["name"], "sw-a2");
        let removed = &events[2];
        assert_eq!(data(removed)["external_id"], "b");
        assert_eq!(removed.client, "Contoso");
        assert_eq!(data(&events[3])["old"]["total_billable"], 2);
        assert_eq!(data(&events[3])["new"]["total_billable"], 1);

        // Back again: presence is `asset.added`, with `returned` and what changed.
        run(
            &store,
            RunKind::Full,
            &[record("a", "sw-a2"), record("b", "sw-b")],
            REMOVE_ABSENT,
        );
        let back = all(&store)
            .into_iter()
            .skip(10)
            .find(|e| e.kind == "asset.added")
            .expect("asset.added");
        assert_eq!(data(&back)["returned"], true);
        assert_eq!(data(&back)["changes"][0]["field"], "removed_at");

        // Nothing changed: the run's own two events only.
        let before = all(&store).len();
        run(
            &store,
            RunKind::Full,
            &[record("a", "sw-a2"), record("b", "sw-b")],
            REMOVE_ABSENT,
        );
        assert_eq!(
            kinds(&all(&store)[before..]),
            ["run.started", "run.finished"]
        );
    }

    #[test]
    fn a_failed_run_says_so_and_a_rolled_back_apply_leaves_no_event_of_its_changes() {
        let (_d, store) = open();
        run(&store, RunKind::Full, &[record("a", "x")], Apply::Nothing);
        let events = all(&store);
        assert_eq!(kinds(&events), ["run.started", "run.finished"]);
        assert_eq!(data(&events[1])["state"], "failed");

        // The apply fails half-way (a history row cannot be written): its events roll
        // back with it; the run's failure is recorded with its own `run.finished`.
        store
            .with_writer(|c| {
                c.execute_batch(
                    "CREATE TRIGGER no_history BEFORE INSERT ON asset_changes
                     BEGIN SELECT RAISE(ABORT, 'no room for history'); END;",
                )?;
                Ok(())
            })
            .unwrap();
        store.ensure_source("auvik", "auvik").unwrap();
        let r = store
            .begin_run("auvik", RunKind::Full, RunTrigger::Manual)
            .unwrap();
        store
            .stage_clients(
                r.id,
                &[SourceClient {
                    external_id: "t1".into(),
                    name: "Contoso".into(),
                    aliases: vec![],
                }],
            )
            .unwrap();
        store.stage_assets(&r, &[record("a", "x")]).unwrap();
        let mut e = end(Apply::Upserts);
        e.source_state = Some("ok");
        assert!(store.finish_run(&r, e).is_err());
        let events: Vec<Event> = all(&store).into_iter().skip(2).collect();
        assert_eq!(
            kinds(&events),
            ["run.started", "source.state_changed", "run.finished"]
        );
        assert_eq!(data(&events[1])["new"], "failed");
        assert_eq!(data(&events[2])["state"], "failed");
        assert!(
            data(&events[2])["error"]
                .as_str()
                .unwrap()
                .contains("could not save the run")
        );
    }

    #[test]
    fn source_states_are_announced_only_when_they_change() {
        let (_d, store) = open();
        let finish = |state: &'static str| {
            store.ensure_source("auvik", "auvik").unwrap();
            let r = store
                .begin_run("auvik", RunKind::Full, RunTrigger::Manual)
                .unwrap();
            let e = RunEnd {
                source_state: Some(state),
                state: if state == "ok" {
                    RunState::Ok
                } else {
                    RunState::Failed
                },
                error: if state == "ok" {
                    String::new()
                } else {
                    "the vendor refused the key: fix api_key".into()
                },
                ..end(Apply::Nothing)
            };
            store.finish_run(&r, e).unwrap();
        };
        let changes = |store: &Store| -> Vec<(String, String)> {
            all(store)
                .iter()
                .filter(|e| e.kind == "source.state_changed")
                .map(|e| {
                    let d = data(e);
                    (
                        d["old"].as_str().unwrap().into(),
                        d["new"].as_str().unwrap().into(),
                    )
                })
                .collect()
        };
        finish("ok");
        finish("ok");
        finish("credentials_rejected");
        finish("credentials_rejected");
        assert_eq!(
            changes(&store),
            [
                ("pending".to_string(), "ok".to_string()),
                ("ok".into(), "credentials_rejected".into())
            ]
        );
        let rejected = all(&store)
            .into_iter()
            .find(|e| data(e)["new"] == "credentials_rejected")
            .unwrap();
        assert_eq!(
            data(&rejected)["detail"],
            "the vendor refused the key: fix api_key"
        );
        // Decided without a run.
        store
            .record_source_state("auvik", "failed", "the connector could not start")
            .unwrap();
        store
            .record_source_state("auvik", "failed", "the connector could not start")
            .unwrap();
        assert_eq!(changes(&store).len(), 3);
        // A crash mid-run: the run finishes as failed at the next start, with its event.
        store
            .begin_run("auvik", RunKind::Full, RunTrigger::Schedule)
            .unwrap();
        store.recover().unwrap();
        let last = all(&store).pop().unwrap();
        assert_eq!(last.kind, "run.finished");
        assert!(
            data(&last)["error"]
                .as_str()
                .unwrap()
                .contains("interrupted")
        );
    }

    #[test]
    fn pruning_takes_an_old_prefix_keeps_a_hooks_backlog_and_never_reuses_ids() {
        let (_d, store) = open();
        for _ in 0..3 {
            run(&store, RunKind::Full, &[record("a", "x")], REMOVE_ABSENT);
        }
        let events = all(&store);
        let later = Utc::now() + chrono::Duration::seconds(1);
        // A hook that has delivered up to the 4th event holds back the rest.
        let kept = events[3].id;
        store.set_hooks(&["psa".into()]).unwrap();
        store.skip_hook_through("psa", 0).unwrap();
        store
            .with_writer(|c| {
                c.execute("UPDATE hooks SET delivered_through = ?1", [kept])?;
                Ok(())
            })
            .unwrap();
        while store.prune_events(later, 2).unwrap() > 0 {}
        let (pruned, last) = store.event_horizon().unwrap();
        assert_eq!(pruned, kept);
        assert_eq!(all(&store).first().map(|e| e.id), Some(kept + 1));
        // Nothing newer than the retention goes.
        let earlier = Utc::now() - chrono::Duration::days(1);
        assert_eq!(store.prune_events(earlier, 100).unwrap(), 0);
        // Once the hook is gone, everything may go, and the next event still gets a new id.
        store.set_hooks(&[]).unwrap();
        while store.prune_events(later, 100).unwrap() > 0 {}
        assert!(all(&store).is_empty());
        assert_eq!(store.event_horizon().unwrap(), (last, last));
        run(&store, RunKind::Full, &[record("a", "x")], REMOVE_ABSENT);
        assert_eq!(all(&store)[0].id, last + 1);
    }

    #[test]
    fn hooks_start_from_now_keep_their_cursor_and_go_with_the_config() {
        let (_d, store) = open();
        run(&store, RunKind::Full, &[record("a", "x")], REMOVE_ABSENT);
        let (_, last) = store.event_horizon().unwrap();
        store.set_hooks(&["psa".into()]).unwrap();
        let psa = store.hook("psa").unwrap().unwrap();
        assert_eq!(psa.delivered_through, last);
        let at = Utc::now();
        store
            .record_attempt(
                "psa",
                &Attempt::Failed {
                    error: "503".into(),
                    at,
                    next_attempt: at + chrono::Duration::seconds(2),
                    failing: false,
                },
            )
            .unwrap();
        store
            .record_attempt(
                "psa",
                &Attempt::Failed {
                    error: "refused".into(),
                    at: at + chrono::Duration::seconds(3),
                    next_attempt: at,
                    failing: true,
                },
            )
            .unwrap();
        let psa = store.hook("psa").unwrap().unwrap();
        assert_eq!((psa.attempts, psa.failing), (2, true));
        assert_eq!(psa.last_error, "refused");
        assert_eq!(
            psa.failing_since.map(|t| t.timestamp_micros()),
            Some(at.timestamp_micros())
        );
        // Kept across a config that still has it; a new hook starts from now.
        run(&store, RunKind::Full, &[record("a", "y")], REMOVE_ABSENT);
        store.set_hooks(&["psa".into(), "teams".into()]).unwrap();
        assert_eq!(store.hook("psa").unwrap().unwrap().delivered_through, last);
        let (_, newer) = store.event_horizon().unwrap();
        assert_eq!(
            store.hook("teams").unwrap().unwrap().delivered_through,
            newer
        );
        let backlog = EventFilter {
            types: vec![EventType::AssetChanged],
            sources: vec![],
        };
        assert_eq!(store.count_events_after(last, &backlog).unwrap(), 1);
        assert!(store.retry_hook("psa").unwrap());
        assert!(!store.retry_hook("nope").unwrap());
        let psa = store.hook("psa").unwrap().unwrap();
        assert_eq!(
            (psa.attempts, psa.failing, psa.next_attempt),
            (0, false, None)
        );
        store
            .record_attempt(
                "psa",
                &Attempt::Delivered {
                    id: last + 1,
                    at: Utc::now(),
                },
            )
            .unwrap();
        store.skip_hook_through("psa", last).unwrap();
        let psa = store.hook("psa").unwrap().unwrap();
        assert_eq!(psa.delivered_through, last + 1, "never moved back");
        assert!(psa.last_delivery.is_some() && psa.last_error.is_empty());
        store.set_hooks(&["teams".into()]).unwrap();
        assert!(store.hook("psa").unwrap().is_none());
    }

    #[test]
    fn a_device_entering_the_warranty_window_is_announced_once_per_expiry_date() {
        use crate::model::{
            LifecycleReport, LifecycleScope, VendorDate, WarrantyFacts, WarrantyStatus,
        };
        use crate::store::tests::run_with_lifecycle;
        let (_d, store) = open();
        let today = Utc::now().date_naive();
        let on = |n: u64| today + chrono::Days::new(n);
        let report = |id: &str, expires: chrono::NaiveDate, stated: Option<WarrantyStatus>| {
            LifecycleReport {
                external_id: id.into(),
                warranty: Some(WarrantyFacts {
                    purchase_date: None,
                    warranty_expires: Some(VendorDate::Date(expires)),
                    stated,
                }),
                support: None,
            }
        };
        let scope = LifecycleScope {
            clients: vec!["t1".into()],
            warranty: true,
            support: false,
        };
        let assets = [
            record("in", "in-window"),
            record("edge", "last-day"),
            record("later", "outside"),
            record("gone", "expired"),
            record("refused", "not-covered"),
        ];
        let sync = |reports: &[LifecycleReport]| {
            let before = store.event_horizon().unwrap().1;
            run_with_lifecycle(&store, RunKind::Full, &assets, reports, &scope);
            all(&store)
                .into_iter()
                .filter(|e| e.id > before && e.kind == "warranty.expiring")
                .collect::<Vec<_>>()
        };
        let yesterday = today - chrono::Days::new(1);
        let first = sync(&[
            report("in", on(30), None),
            report("edge", on(90), Some(WarrantyStatus::Covered)),
            report("later", on(91), None),
            report("gone", yesterday, None),
            report("refused", on(10), Some(WarrantyStatus::NotCovered)),
        ]);
        // In device order; compared by date here.
        let mut named: Vec<(String, String, i64)> = first
            .iter()
            .map(|e| {
                let d = data(e);
                (
                    d["name"].as_str().unwrap().to_string(),
                    d["warranty_expires"].as_str().unwrap().to_string(),
                    d["days_left"].as_i64().unwrap(),
                )
            })
            .collect();
        named.sort_by(|a, b| a.1.cmp(&b.1));
        assert_eq!(
            named,
            [
                ("in-window".to_string(), super::super::day(on(30)), 30),
                ("last-day".to_string(), super::super::day(on(90)), 90),
            ],
            "covered, expiring between today and 90 days on; not expired, not outside, not refused"
        );
        let e = first
            .iter()
            .find(|e| data(e)["external_id"] == "in")
            .unwrap();
        assert_eq!((e.source.as_str(), e.client.as_str()), ("auvik", "Contoso"));
        assert!(e.run_id.is_some() && e.asset_id.is_some());
        assert_eq!(
            data(e)["device_id"].as_i64(),
            e.asset_id,
            "a device of one asset"
        );
        assert_eq!(data(e)["external_id"], "in");

        // The same dates again: nothing more. A new date in the window: announced again; one
        // moved into the window: announced; one moved out and back with the same date: not.
        assert!(
            sync(&[
                report("in", on(30), None),
                report("edge", on(90), None),
                report("later", on(91), None),
            ])
            .is_empty()
        );
        let moved = sync(&[
            report("in", on(45), None),
            report("edge", on(200), None),
            report("later", on(60), None),
        ]);
        let mut dates: Vec<(&str, String)> = moved
            .iter()
            .map(|e| {
                (
                    if data(e)["external_id"] == "in" {
                        "in"
                    } else {
                        "later"
                    },
                    data(e)["warranty_expires"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        dates.sort();
        assert_eq!(
            dates,
            [
                ("in", super::super::day(on(45))),
                ("later", super::super::day(on(60)))
            ]
        );
        // An expiry date gone by can never be in the window again: its notice goes.
        store
            .with_writer(|c| {
                c.execute(
                    "INSERT INTO warranty_notices VALUES (999, ?1, 1)",
                    [super::super::day(yesterday)],
                )?;
                Ok(())
            })
            .unwrap();
        assert!(
            sync(&[
                report("in", on(45), None),
                report("edge", on(90), None),
                report("later", on(60), None),
            ])
            .is_empty()
        );
        let notices: i64 = store
            .with_reader(|c| {
                Ok(c.query_row("SELECT COUNT(*) FROM warranty_notices", [], |r| r.get(0))?)
            })
            .unwrap();
        assert_eq!(notices, 4);
    }

    #[test]
    fn filters_and_pages_read_only_what_is_asked() {
        let (_d, store) = open();
        run(
            &store,
            RunKind::Full,
            &[record("a", "x"), record("b", "y"), record("c", "z")],
            REMOVE_ABSENT,
        );
        let (_, last) = store.event_horizon().unwrap();
        let added = EventFilter {
            types: vec![EventType::AssetAdded],
            sources: vec![],
        };
        let page = store.events_after(0, last, &added, 2).unwrap();
        assert_eq!(page.events.len(), 2);
        let rest = store
            .events_after(page.events[1].id, last, &added, 2)
            .unwrap();
        assert_eq!(rest.events.len(), 1);
        let other = EventFilter {
            types: vec![],
            sources: vec!["syncro".into()],
        };
        assert!(
            store
                .events_after(0, last, &other, 10)
                .unwrap()
                .events
                .is_empty()
        );
        // Bounded above by `upto`: a reader never reads past what it was told is committed.
        assert_eq!(
            store
                .events_after(0, 1, &EventFilter::default(), 10)
                .unwrap()
                .events
                .len(),
            1
        );
    }
}
