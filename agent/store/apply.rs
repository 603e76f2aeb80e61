//! Applying a run: its staged rows become the live ones, inside `finish_run`'s one
//! transaction (see the module docs of `store`).
//!
//! The run's clients are upserted; its staged assets are diffed against the stored ones
//! (new ones inserted set-wise, changed ones rewritten with a history row per changed
//! field, unchanged ones left unwritten); the removals the sync layer settled are applied,
//! never to an asset the run saw; its billing figures replace the stored ones; and devices
//! are merged again from `asset_keys` when a serial, a MAC or a presence changed.
//! `asset_keys` stays exactly the keys of the present assets' stored serials and MACs.

use super::events::{AssetFacts, asset_changed_event, asset_removed_event, assets_added_events};
use super::rows::record_from_row;
use super::runs::Removals;
use super::schema::write_asset_keys;
use super::{json_list, parse_list, ts};
use crate::devices;
use crate::idset::IdSet;
use crate::model::{ReportedAsset, RunCounts, SyncRun, is_billable};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

/// What a run's apply changed beyond its rows, so the whole-inventory passes run only
/// when they can have a different outcome.
pub(super) struct Effects {
    /// Billable counts may differ: a client, a link, a category, `managed` or presence.
    pub(super) counts: bool,
    /// Devices may merge differently: a serial, a MAC or presence.
    pub(super) identities: bool,
    /// Removed assets the run brought back (they count as present again).
    pub(super) returned: i64,
    /// Assets the run rewrote (counted `updated`), and the first id of those it added.
    pub(super) updated: IdSet,
    pub(super) new_from: Option<i64>,
    /// Lifecycle values changed (the summary is recomputed).
    pub(super) lifecycle: bool,
}

/// Upserts the run's clients; returns how many rows changed.
pub(super) fn apply_clients(tx: &rusqlite::Transaction, run: &SyncRun) -> rusqlite::Result<usize> {
    tx.execute(
        "INSERT INTO source_clients (source, external_id, name, aliases)
         SELECT ?1, external_id, name, aliases FROM staged_clients WHERE run_id = ?2
         ON CONFLICT (source, external_id) DO UPDATE SET name = excluded.name, aliases = excluded.aliases
         WHERE name != excluded.name OR aliases != excluded.aliases",
        params![run.source, run.id],
    )
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
pub(super) fn apply_assets(
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
           s.raw, a.raw, COALESCE(nsc.client, ''), COALESCE(nsc.name, '')
         FROM staged_assets s
         JOIN assets a ON a.source = ?1 AND a.external_id = s.external_id
         LEFT JOIN source_clients sc ON sc.id = a.source_client_id
         LEFT JOIN source_clients nsc ON nsc.source = ?1 AND nsc.external_id = s.source_client_external_id
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
        // The history rows, and the same changes in the asset's event.
        let mut event_changes: Vec<(&str, String, String)> = Vec::with_capacity(changed.len() + 1);
        if let Some(was) = removed_at {
            history.execute(params![id, run.id, now_s, "removed_at", was, ""])?;
            event_changes.push(("removed_at", was, String::new()));
        }
        effects.updated.insert(id);
        for i in changed {
            let field = VENDOR_FIELDS[i];
            let (old, new) = (
                history_value(field, &old_values[i]),
                history_value(field, &new_values[i]),
            );
            history.execute(params![id, run.id, now_s, field, old, new])?;
            event_changes.push((field, old, new));
        }
        let (client, source_client): (String, String) = (r.get(35)?, r.get(36)?);
        asset_changed_event(
            tx,
            run.id,
            &run.source,
            id,
            &client,
            &AssetFacts {
                external_id: &new.external_id,
                name: &new.name,
                category: new.category().as_str(),
                serial: &new.serial,
                source_client: &source_client,
                billable,
            },
            &event_changes,
            returned,
            &now_s,
        )?;
        counts.updated += 1;
    }
    drop(rows);
    let (added, first_id) = insert_new_assets(tx, run, &now_s)?;
    counts.added = added as i64;
    effects.new_from = (added > 0).then_some(first_id);
    if counts.added > 0 {
        effects.counts = true;
        effects.identities = true;
    }
    counts.unchanged = (counts.fetched - counts.added - counts.updated).max(0);
    Ok(())
}

/// Inserts the run's new assets in two set-based statements (the rows, their "added"
/// history) and a key pass. Going row by row through Rust cost about 20 µs per asset: most
/// of a first sync. Returns how many were added, and the first id they got.
fn insert_new_assets(
    tx: &rusqlite::Transaction,
    run: &SyncRun,
    now: &str,
) -> rusqlite::Result<(usize, i64)> {
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
        return Ok((0, first_id));
    }
    tx.execute(
        "INSERT INTO asset_changes (asset_id, run_id, changed_at, field, old_value, new_value)
         SELECT id, ?2, ?3, 'asset', '', 'added' FROM assets WHERE id >= ?1 ORDER BY id",
        params![first_id, run.id, now],
    )?;
    assets_added_events(tx, run.id, &run.source, first_id, now)?;
    write_asset_keys(tx, first_id)?;
    Ok((added, first_id))
}

/// Settles what a full run found absent: marks removed the confirmed ones, notes the
/// unconfirmed ones as absent, and clears the note of those the vendor still has. Only
/// present assets of the run's source that the run did not see are touched, whatever the
/// lists say: a removal can never reach an asset the run read. Returns how many it removed.
pub(super) fn apply_removals(
    tx: &rusqlite::Transaction,
    run: &SyncRun,
    now: DateTime<Utc>,
    removals: &Removals,
    unchanged: &IdSet,
) -> rusqlite::Result<i64> {
    let now_s = ts(now);
    // Present, of this source, and not staged by this run (`unchanged` is checked in Rust).
    let mut absent = tx.prepare_cached(
        "SELECT a.serial, a.mac_addresses, a.external_id, a.name, a.category, a.billable,
           COALESCE(sc.client, ''), COALESCE(sc.name, '')
         FROM assets a LEFT JOIN source_clients sc ON sc.id = a.source_client_id
         WHERE a.id = ?1 AND a.source = ?2 AND a.removed_at IS NULL
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
        let Some(gone) = absent
            .query_row(params![id, run.source, run.id], |r| {
                Ok(Gone {
                    serial: r.get(0)?,
                    macs: r.get(1)?,
                    external_id: r.get(2)?,
                    name: r.get(3)?,
                    category: r.get(4)?,
                    billable: r.get(5)?,
                    client: r.get(6)?,
                    source_client: r.get(7)?,
                })
            })
            .optional()?
        else {
            continue;
        };
        mark.execute(params![id, now_s])?;
        delete_asset_keys(tx, id, &gone.serial, &parse_list(&gone.macs))?;
        history.execute(params![id, run.id, now_s])?;
        asset_removed_event(
            tx,
            run.id,
            &run.source,
            id,
            &gone.client,
            &AssetFacts {
                external_id: &gone.external_id,
                name: &gone.name,
                category: &gone.category,
                serial: &gone.serial,
                source_client: &gone.source_client,
                billable: gone.billable,
            },
            &now_s,
        )?;
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

/// A present asset a run removes, as it was.
struct Gone {
    serial: String,
    macs: String,
    external_id: String,
    name: String,
    category: String,
    billable: bool,
    client: String,
    source_client: String,
}

/// Clears the absence note of the source's assets that the run saw (staged or unchanged):
/// an asset seen again was never gone. Few assets carry the note, so they are read first.
pub(super) fn clear_absence(
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

/// Re-derives every present asset's device from `asset_keys` (see `devices`), writing only
/// the rows whose device changed. Keys arrive in index order, so memory is the union-find
/// (8 bytes per asset id) whatever the inventory looks like.
pub(super) fn merge_devices(tx: &rusqlite::Transaction) -> rusqlite::Result<()> {
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
pub(super) fn apply_usage(
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
