//! The database's schema: its migrations, and the SQL functions its statements call.
//!
//! Each migration is a numbered file in `migrations/` (`NNNN_name.sql`), included below in
//! order; `PRAGMA user_version` records how many have run, so migration N is the one that
//! takes a database to version N. `migrate` runs each in a transaction of its own, with the
//! one step SQL cannot do inside the same transaction as its schema change: migration 5's
//! `asset_keys`, which need Rust's normalisation of serials and MACs (`write_asset_keys`).
//! A database past a migration never runs it again, so a migration that has shipped is
//! never edited: a change is a new file at the end.
//!
//! The SQL functions are Rust called from statements: `assetd_listed_fields` (every
//! connection) and `assetd_identity_keys` (the writer).

use super::{JsonList, RecordRow, parse_list};
use crate::devices;
use rusqlite::Connection;
use rusqlite::types::ValueRef;

/// Ordered migrations; `PRAGMA user_version` records how many have run. Entry N is
/// `migrations/NNNN_*.sql` numbered N, exactly as it runs.
const MIGRATIONS: &[&str] = &[
    // 1: sources, their clients, assets, their history, runs, and the staging tables.
    include_str!("migrations/0001_initial.sql"),
    // 2: vendor records kept verbatim beside the canonical fields.
    include_str!("migrations/0002_raw_records.sql"),
    // 3: devices merged across sources, and a daily snapshot of billable counts per client.
    include_str!("migrations/0003_devices_and_snapshots.sql"),
    // 4: the vendors' own billing figures (Auvik's billing usage) for reconciliation, and
    // why a source's figures are missing (e.g. the API user may not read billing).
    include_str!("migrations/0004_vendor_usage.sql"),
    // 5: the keys present assets merge on (see `devices::identity_keys`), so merging streams
    // them in key order rather than holding every asset in memory, and runs that change no
    // serial or MAC skip it; removed assets indexed for the few queries about them.
    // `Store::open` fills `asset_keys` for assets stored before this migration.
    include_str!("migrations/0005_asset_keys.sql"),
    // 6: each source's count of present assets, kept by the runs that change it, so status
    // and the source list answer without counting a million rows; and lean staging.
    // (`unchanged` is no longer written: unchanged assets are now marked in memory,
    // `RunMarks`; the column stays, always 0.)
    include_str!("migrations/0006_present_assets.sql"),
    // 7: an asset's keys are found by primary key, from its stored serial and MACs
    // (`delete_asset_keys`), so the index by asset is gone. Keeping it in step cost more
    // than half of writing a first sync's keys: its inserts land in the opposite order.
    include_str!("migrations/0007_drop_asset_keys_index.sql"),
    // 8: `Asset` fields 6-17 (name to managed) of each asset, kept encoded as ListAssets
    // sends them (`crate::listed`), so a page reads one value per asset for
    // them instead of twelve columns, two JSON lists among them. Every statement that
    // writes those columns writes this one from them with `assetd_listed_fields`; the
    // existing rows are encoded here, once.
    include_str!("migrations/0008_listed_fields.sql"),
    // 9: removal scoped to what a run read, and confirmed (CONTRACT §5). A run records the
    // records and units it could not read and the removals it held; `absent_since` is when
    // a complete full run first found a present asset absent without its vendor confirming
    // the removal (the vendor could not say, or the removals were held): a later complete
    // run that finds it absent again confirms it. Seeing the asset again clears it.
    include_str!("migrations/0009_confirmed_removals.sql"),
    // 10: one name per idea: the note on a source's billing figures is `billing_note` in
    // the API, the CLI's JSON and here.
    include_str!("migrations/0010_billing_note.sql"),
    // 11: lifecycle (issue 22): each asset's purchase date, warranty expiry, stated warranty
    // and support status, and date text that is not a date; a run's lifecycle reports and
    // the clients whose listings it read, staged like its assets.
    include_str!("migrations/0011_lifecycle.sql"),
    // 12: the durable event log (issue 23): events written in the transactions that make
    // the changes they describe, how far the log is pruned, each hook's outbox, the state
    // each source was left in (for `source.state_changed`), and the warranty notices sent.
    include_str!("migrations/0012_events.sql"),
];

/// The migration that created `asset_keys`: opening a database from before it fills them.
const ASSET_KEYS_MIGRATION: i64 = 5;

pub(super) fn migrate(c: &Connection) -> rusqlite::Result<()> {
    let version: i64 = c.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let to = i as i64 + 1;
        c.execute_batch(&format!("BEGIN; {sql};"))?;
        // Data migrations that need Rust (key normalisation) run in the same transaction
        // as their schema change, so a crash cannot leave one without the other.
        let step = (|| {
            if to == ASSET_KEYS_MIGRATION {
                write_asset_keys(c, 0)?;
            }
            c.execute_batch(&format!("PRAGMA user_version = {to}; COMMIT;"))
        })();
        if let Err(e) = step {
            let _ = c.execute_batch("ROLLBACK;");
            return Err(e);
        }
    }
    Ok(())
}

/// Writes `asset_keys` for the present assets with ids from `from_id`: every asset when
/// migration 5 meets a database that has some, a run's new assets otherwise. Keys need
/// Rust's normalisation (placeholder serials, shared MACs), which SQL reaches through the
/// writer's `assetd_identity_keys` function (`register_functions`).
pub(super) fn write_asset_keys(c: &Connection, from_id: i64) -> rusqlite::Result<()> {
    // In key order, so each leaf of `asset_keys` is written once however large the table;
    // inserted one by one in asset order, 100k assets' keys took 0.8 s, mostly B-tree work
    // on pages evicted and read back. SQLite's sorter spills to disk past its cache, so
    // memory stays flat.
    c.execute(
        "INSERT OR IGNORE INTO asset_keys (key, asset_id)
         SELECT k.value, a.id FROM assets a, json_each(assetd_identity_keys(a.serial, a.mac_addresses)) k
         WHERE a.id >= ?1 AND a.removed_at IS NULL ORDER BY 1, 2",
        [from_id],
    )?;
    Ok(())
}

/// `assetd_listed_fields(name, category, vendor_type, manufacturer, model, serial,
/// mac_addresses, ip_addresses, os, firmware, online_status, managed)`: the columns as
/// `crate::listed` encodes them, for `assets.listed` (migration 8). Every
/// connection has it: the writer fills the column, readers fill in a row that lacks it.
pub(super) fn register_listed_fields(c: &Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    c.create_scalar_function(
        "assetd_listed_fields",
        12,
        FunctionFlags::SQLITE_UTF8
            | FunctionFlags::SQLITE_DETERMINISTIC
            | FunctionFlags::SQLITE_DIRECTONLY,
        |ctx| {
            // The columns are written from Rust strings, so they are UTF-8; anything else
            // (NULL, a blob) reads as empty, as `parse_list` reads a list it cannot parse.
            let text = |i: usize| match ctx.get_raw(i) {
                ValueRef::Text(t) => std::str::from_utf8(t).unwrap_or(""),
                _ => "",
            };
            let record = RecordRow {
                name: text(0),
                category: text(1).parse().ok(),
                vendor_type: text(2),
                manufacturer: text(3),
                model: text(4),
                serial: text(5),
                mac_addresses: JsonList(text(6)),
                ip_addresses: JsonList(text(7)),
                os: text(8),
                firmware: text(9),
                online_status: text(10),
                managed: match ctx.get_raw(11) {
                    ValueRef::Integer(v) => Some(v != 0),
                    _ => None,
                },
                last_seen: None,
                updated_at: None,
            };
            let mut fields = Vec::with_capacity(256);
            record.encode_listed(&mut fields);
            Ok(fields)
        },
    )
}

/// SQL functions of the writer connection.
pub(super) fn register_functions(c: &Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    register_listed_fields(c)?;
    // `assetd_identity_keys(serial, mac_addresses)`: the asset's keys as a JSON array, for
    // `json_each`. Anything but text reads as empty, as in `parse_list`.
    c.create_scalar_function(
        "assetd_identity_keys",
        2,
        FunctionFlags::SQLITE_UTF8
            | FunctionFlags::SQLITE_DETERMINISTIC
            | FunctionFlags::SQLITE_DIRECTONLY,
        |ctx| {
            let text = |i: usize| match ctx.get_raw(i) {
                ValueRef::Text(t) => std::str::from_utf8(t).unwrap_or(""),
                _ => "",
            };
            let keys = devices::identity_keys(text(0), &parse_list(text(1)));
            Ok(serde_json::to_string(&keys).unwrap_or_else(|_| "[]".into()))
        },
    )
}

#[cfg(test)]
mod tests {
    use super::MIGRATIONS;

    /// Two branches that each add a migration are rebased onto each other by renumbering
    /// files; this holds the list to the directory: entry N is the file numbered N, none
    /// missing, none twice.
    #[test]
    fn the_migrations_are_the_numbered_files_in_order() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("agent/store/migrations");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        assert_eq!(files.len(), MIGRATIONS.len(), "{files:?}");
        for (i, (name, sql)) in files.iter().zip(MIGRATIONS).enumerate() {
            assert!(
                name.starts_with(&format!("{:04}_", i + 1)),
                "{name} at {}",
                i + 1
            );
            assert!(name.ends_with(".sql"), "{name}");
            assert_eq!(
                std::fs::read_to_string(dir.join(name)).unwrap(),
                *sql,
                "entry {} is not {name}",
                i + 1
            );
        }
    }
}
