//! The store's unit tests: run semantics (staging, unchanged marks, removals and their
//! coverage, recovery), migrations from older databases, device merging, billable counts
//! and their cache, the vendors' billing figures, file modes and checkpoints. `run`,
//! `REMOVE_ABSENT`, `UNDO_MIGRATION_9` and the other `pub(crate)` helpers are shared with
//! other modules' tests (`crate::store::tests::…`).

use super::*;
use crate::devices;
use crate::model::{
    Category, Coverage, ReportedAsset, RunCounts, RunKind, RunState, RunTrigger, SourceClient,
    SyncRun, VendorUsage,
};
use std::collections::{HashMap, HashSet};

pub(crate) fn record(id: &str, name: &str) -> ReportedAsset {
    ReportedAsset {
        external_id: id.into(),
        source_client_id: "t1".into(),
        name: name.into(),
        category: Some(Category::Switch),
        vendor_type: "switch".into(),
        managed: Some(true),
        ..ReportedAsset::default()
    }
}

fn client() -> SourceClient {
    SourceClient {
        external_id: "t1".into(),
        name: "Contoso".into(),
        aliases: vec!["contoso".into()],
    }
}

/// One run of source "auvik" (client "Contoso", external id t1) staging `records`.
pub(crate) fn run(
    store: &Store,
    kind: RunKind,
    records: &[ReportedAsset],
    apply: Apply,
) -> SyncRun {
    store.ensure_source("auvik", "auvik").unwrap();
    let r = store.begin_run("auvik", kind, RunTrigger::Manual).unwrap();
    store.stage_clients(r.id, &[client()]).unwrap();
    store.stage_assets(&r, records).unwrap();
    let apply = if apply == REMOVE_ABSENT {
        remove_absent(store, &r)
    } else {
        apply
    };
    store.finish_run(&r, end(apply)).unwrap()
}

/// `run` with lifecycle reports and scopes staged too (a full run of the whole listing,
/// removing what is absent).
pub(crate) fn run_with_lifecycle(
    store: &Store,
    kind: RunKind,
    records: &[ReportedAsset],
    reports: &[crate::model::LifecycleReport],
    scope: &crate::model::LifecycleScope,
) -> SyncRun {
    store.ensure_source("auvik", "auvik").unwrap();
    let r = store.begin_run("auvik", kind, RunTrigger::Manual).unwrap();
    store.stage_clients(r.id, &[client()]).unwrap();
    store.stage_assets(&r, records).unwrap();
    store.stage_lifecycle(r.id, reports).unwrap();
    store.stage_lifecycle_scope(r.id, scope).unwrap();
    let apply = if kind == RunKind::Full {
        remove_absent(store, &r)
    } else {
        Apply::Upserts
    };
    store.finish_run(&r, end(apply)).unwrap()
}

/// Turns a database back into what migration 8 left, for tests of older databases (the
/// event log's migration first, then lifecycle's).
pub(crate) const UNDO_MIGRATION_9: &str = "DROP TABLE events; DROP TABLE event_log; DROP TABLE hooks;
    DROP TABLE warranty_notices; ALTER TABLE sources DROP COLUMN state;
    DROP TABLE staged_lifecycle; DROP TABLE staged_lifecycle_scope;
    DROP INDEX assets_warranty_expires; DROP INDEX assets_purchase_date;
    ALTER TABLE assets DROP COLUMN purchase_date; ALTER TABLE assets DROP COLUMN warranty_expires;
    ALTER TABLE assets DROP COLUMN warranty_status; ALTER TABLE assets DROP COLUMN support_status;
    ALTER TABLE assets DROP COLUMN purchase_date_raw; ALTER TABLE assets DROP COLUMN warranty_expires_raw;
    ALTER TABLE sources RENAME COLUMN billing_note TO usage_note;
    DROP INDEX assets_absent;
    ALTER TABLE assets DROP COLUMN absent_since; ALTER TABLE sync_runs DROP COLUMN skipped;
    ALTER TABLE sync_runs DROP COLUMN skipped_units; ALTER TABLE sync_runs DROP COLUMN removals_held;";

/// For `run`: a full run whose vendor confirmed every absence it found in the whole
/// listing (resolved into `remove_absent` once the run's records are staged).
pub(crate) const REMOVE_ABSENT: Apply = Apply::Reconcile(Removals {
    remove: Vec::new(),
    absent: Vec::new(),
    present: Vec::new(),
});

/// The apply of a full run of the whole listing whose vendor confirmed every absence.
pub(crate) fn remove_absent(store: &Store, r: &SyncRun) -> Apply {
    let gone = store
        .removal_candidates(r, &Coverage::Everything, &HashSet::new())
        .unwrap();
    Apply::Reconcile(Removals {
        remove: gone.iter().map(|c| c.id).collect(),
        ..Removals::default()
    })
}

/// `end` of a full run that removes what it found absent (`remove_absent`).
pub(crate) fn full_end(store: &Store, r: &SyncRun) -> RunEnd {
    end(remove_absent(store, r))
}

/// A run's end as the sync layer writes it for `apply`: failed when nothing applies.
pub(crate) fn end(apply: Apply) -> RunEnd {
    RunEnd {
        state: if apply == Apply::Nothing {
            RunState::Failed
        } else {
            RunState::Ok
        },
        apply,
        requests: 1,
        retries: 0,
        error: String::new(),
        skipped: 0,
        skipped_units: 0,
        removals_held: 0,
        watermark: None,
        keep_window: false,
        source_state: None,
    }
}

/// The per-source counts the runs keep agree with a count of the rows, and so do the
/// source list (with no grace) and the total; and `asset_keys` is what the present
/// assets' serials and MACs give (`assert_keys_match_assets`).
fn assert_present_counts(store: &Store) {
    assert_keys_match_assets(store);
    let counted: Vec<(String, i64)> = store
        .with_reader(|c| {
            let mut st = c.prepare(
                "SELECT s.name, (SELECT COUNT(*) FROM assets a
                   WHERE a.source = s.name AND a.removed_at IS NULL)
                 FROM sources s ORDER BY s.name",
            )?;
            let rows = st
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(rows)
        })
        .unwrap();
    let listed: Vec<(String, i64)> = store
        .list_sources(None)
        .unwrap()
        .into_iter()
        .map(|s| (s.name, s.asset_count))
        .collect();
    assert_eq!(listed, counted);
    let total: i64 = counted.iter().map(|(_, n)| n).sum();
    assert_eq!(store.count_assets().unwrap(), total);
}

/// `asset_keys` holds exactly `identity_keys` of each present asset's stored serial and
/// MACs: the invariant that lets `delete_asset_keys` find an asset's keys without an
/// index by asset.
fn assert_keys_match_assets(store: &Store) {
    let (stored, derived) = store
        .with_reader(|c| {
            let stored: Vec<(String, i64)> = c
                .prepare("SELECT key, asset_id FROM asset_keys ORDER BY 1, 2")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let mut derived: Vec<(String, i64)> = Vec::new();
            let mut st =
                c.prepare("SELECT id, serial, mac_addresses FROM assets WHERE removed_at IS NULL")?;
            let mut rows = st.query([])?;
            while let Some(r) = rows.next()? {
                let id: i64 = r.get(0)?;
                let serial: String = r.get(1)?;
                let macs: String = r.get(2)?;
                for key in devices::identity_keys(&serial, &parse_list(&macs)) {
                    derived.push((key, id));
                }
            }
            derived.sort();
            Ok((stored, derived))
        })
        .unwrap();
    assert_eq!(stored, derived, "asset_keys against the present assets");
}

pub(crate) fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("a.db")).unwrap();
    (dir, store)
}

#[test]
fn stored_timestamps_read_back_as_the_general_parser_reads_them() {
    use chrono::TimeZone;
    let general = |s: &str| {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    };
    let times = [
        (0, 0),
        (-1, 500_000_000),
        (951_782_400, 1_000), // 2000-02-29
        (1_700_000_000, 999_999_000),
        (253_402_300_799, 0), // 9999-12-31T23:59:59
    ];
    for (secs, nanos) in times {
        let t = Utc.timestamp_opt(secs, nanos).single().unwrap();
        let text = ts(t);
        assert_eq!(parse_stored_ts(&text), Some(t), "{text}");
        assert_eq!(parse_ts(&text), general(&text), "{text}");
    }
    // Other shapes go to the general parser; nonsense is None either way.
    for text in [
        "2024-02-30T00:00:00.000000Z",
        "2024-01-01T24:00:00.000000Z",
        "2024-01-01T00:00:00.00000aZ",
        "2024-01-01T00:00:00+00:00",
        "2024-01-01T00:00:00.5Z",
        "2016-12-31T23:59:60.000000Z",
        "+2024-01-01T00:00:00.000000Z",
        "",
    ] {
        assert_eq!(parse_ts(text), general(text), "{text}");
    }
}

#[test]
fn a_resync_with_no_change_writes_nothing() {
    let (_d, store) = open();
    let recs = [record("a", "sw1"), record("b", "sw2")];
    let first = run(&store, RunKind::Full, &recs, REMOVE_ABSENT);
    assert_eq!((first.counts.added, first.counts.fetched), (2, 2));
    let changes_before = store.list_changes(0, 0, 100).unwrap().len();
    let second = run(&store, RunKind::Full, &recs, REMOVE_ABSENT);
    assert_eq!(
        second.counts,
        RunCounts {
            fetched: 2,
            unchanged: 2,
            ..RunCounts::default()
        }
    );
    assert_eq!(store.list_changes(0, 0, 100).unwrap().len(), changes_before);
}

/// An asset fetched unchanged is only marked; a changed one is staged in full. Within a
/// run the last copy of an asset wins either way, and every field takes part in
/// "unchanged".
#[test]
fn unchanged_assets_are_marked_not_staged_and_the_last_copy_wins() {
    let (_d, store) = open();
    let mut with_raw = record("c", "ap1");
    with_raw.raw = r#"{"v":1}"#.into();
    run(
        &store,
        RunKind::Full,
        &[record("a", "sw1"), record("b", "sw2"), with_raw.clone()],
        REMOVE_ABSENT,
    );
    let staged = |r: &SyncRun| -> Vec<(String, String)> {
        store
            .with_reader(|c| {
                let mut st = c.prepare(
                    "SELECT external_id, name FROM staged_assets
                     WHERE run_id = ?1 ORDER BY external_id",
                )?;
                let rows = st
                    .query_map([r.id], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<rusqlite::Result<_>>()?;
                Ok(rows)
            })
            .unwrap()
    };
    let r = store
        .begin_run("auvik", RunKind::Full, RunTrigger::Manual)
        .unwrap();
    with_raw.raw = r#"{"v":2}"#.into();
    // b changes and then comes again unchanged in a later page; a changes in a later page.
    store
        .stage_assets(&r, &[record("a", "sw1"), record("b", "sw2-new"), with_raw])
        .unwrap();
    store
        .stage_assets(&r, &[record("b", "sw2"), record("a", "sw1-new")])
        .unwrap();
    assert_eq!(
        staged(&r),
        [
            ("a".to_string(), "sw1-new".to_string()),
            ("c".to_string(), "ap1".to_string()),
        ]
    );
    let done = store.finish_run(&r, full_end(&store, &r)).unwrap();
    assert_eq!(
        done.counts,
        RunCounts {
            fetched: 3,
            updated: 2,
            unchanged: 1,
            ..RunCounts::default()
        }
    );
    let names: Vec<String> = store
        .list_assets(&AssetFilter::default(), 0, 10)
        .unwrap()
        .into_iter()
        .map(|a| a.record.name)
        .collect();
    assert_eq!(names, ["sw1-new", "sw2", "ap1"], "nothing removed, b kept");
    // The staging outlives the run until `drop_staging` (the sync layer's after-run
    // task, or the next `begin_run`).
    assert!(!staged(&r).is_empty());
    store.drop_staging().unwrap();
    assert!(staged(&r).is_empty());
    assert!(
        lock(&store.inner.marks).is_empty(),
        "the run's marks went with it"
    );
    assert_present_counts(&store);

    // A full run that brings a unchanged and not b or c removes b and c only.
    let done = run(
        &store,
        RunKind::Full,
        &[record("a", "sw1-new")],
        REMOVE_ABSENT,
    );
    assert_eq!(
        done.counts,
        RunCounts {
            fetched: 1,
            unchanged: 1,
            removed: 2,
            ..RunCounts::default()
        }
    );
    assert_present_counts(&store);
}

/// A page whose transaction fails after its assets were marked leaves marks that may
/// name rolled-back rows: the run then removes nothing rather than something it saw.
#[test]
fn a_run_with_a_failed_page_removes_nothing() {
    let (_d, store) = open();
    run(
        &store,
        RunKind::Full,
        &[record("a", "sw1"), record("b", "sw2"), record("c", "sw3")],
        REMOVE_ABSENT,
    );
    store
        .with_writer(|c| {
            c.execute_batch(
                "CREATE TEMP TRIGGER boom BEFORE INSERT ON staged_assets
                 WHEN NEW.external_id = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END;",
            )?;
            Ok(())
        })
        .unwrap();
    let r = store
        .begin_run("auvik", RunKind::Full, RunTrigger::Manual)
        .unwrap();
    // a is marked changed, then the page fails and its staged row is rolled back.
    assert!(
        store
            .stage_assets(&r, &[record("a", "sw1-new"), record("boom", "x")])
            .is_err()
    );
    store.stage_assets(&r, &[record("b", "sw2")]).unwrap();
    let done = store.finish_run(&r, full_end(&store, &r)).unwrap();
    assert_eq!(done.counts.removed, 0);
    let names: Vec<String> = store
        .list_assets(&AssetFilter::default(), 0, 10)
        .unwrap()
        .into_iter()
        .map(|a| a.record.name)
        .collect();
    assert_eq!(names, ["sw1", "sw2", "sw3"]);
    assert_present_counts(&store);
}

fn in_client(id: &str, client: &str) -> ReportedAsset {
    ReportedAsset {
        source_client_id: client.into(),
        ..record(id, id)
    }
}

fn present_ids(store: &Store) -> Vec<String> {
    let mut ids: Vec<String> = store
        .list_assets(&AssetFilter::default(), 0, 100)
        .unwrap()
        .into_iter()
        .map(|a| a.record.external_id)
        .collect();
    ids.sort();
    ids
}

fn candidates(store: &Store, r: &SyncRun, coverage: &Coverage, skipped: &[&str]) -> Vec<String> {
    let skipped = skipped.iter().map(|s| s.to_string()).collect();
    let mut ids: Vec<String> = store
        .removal_candidates(r, coverage, &skipped)
        .unwrap()
        .into_iter()
        .map(|c| c.external_id)
        .collect();
    ids.sort();
    ids
}

/// CONTRACT §5: removal is scoped to what the run read to the end. A run's candidates are
/// the present assets it did not see, only in the clients it read completely (and those
/// the vendor no longer lists at all), never the records it could not read.
#[test]
fn removal_candidates_stay_inside_what_the_run_read() {
    let (_d, store) = open();
    store.ensure_source("auvik", "auvik").unwrap();
    let all = [
        in_client("a1", "ta"),
        in_client("a2", "ta"),
        in_client("b1", "tb"),
        in_client("b2", "tb"),
        in_client("c1", "tc"),
    ];
    sync_source(
        &store,
        "auvik",
        &[("ta", "A"), ("tb", "B"), ("tc", "C")],
        &all,
    );
    // The next run sees a1 and b1 only.
    let r = store
        .begin_run("auvik", RunKind::Full, RunTrigger::Manual)
        .unwrap();
    store
        .stage_assets(&r, &[in_client("a1", "ta"), in_client("b1", "tb")])
        .unwrap();
    let listed = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        candidates(&store, &r, &Coverage::Nothing, &[]),
        Vec::<String>::new()
    );
    assert_eq!(
        candidates(&store, &r, &Coverage::Everything, &[]),
        ["a2", "b2", "c1"]
    );
    assert_eq!(
        candidates(&store, &r, &Coverage::Everything, &["b2"]),
        ["a2", "c1"],
        "a record the run could not read is never a candidate"
    );
    // Tenant tb could not be read; tc is no longer listed at all.
    let tenants = Coverage::Clients {
        read: listed(&["ta"]),
        listed: listed(&["ta", "tb"]),
    };
    assert_eq!(candidates(&store, &r, &tenants, &[]), ["a2", "c1"]);
    store.finish_run(&r, end(Apply::Upserts)).unwrap();
    assert_eq!(present_ids(&store), ["a1", "a2", "b1", "b2", "c1"]);
}

/// What the sync layer decided is applied exactly: confirmed ones removed, unconfirmed
/// ones kept and noted absent (a later complete run's candidates say it was absent
/// before), those the vendor still has kept without a note; an asset seen again loses
/// its note; and nothing the run saw can be removed whatever the lists say.
#[test]
fn removals_apply_as_decided_and_absence_notes_clear_when_seen() {
    let (_d, store) = open();
    let all: Vec<ReportedAsset> = ["a", "b", "c", "d", "e"]
        .iter()
        .map(|id| record(id, id))
        .collect();
    run(&store, RunKind::Full, &all, REMOVE_ABSENT);
    let id_of = |ext: &str| {
        store
            .list_assets(&AssetFilter::default(), 0, 100)
            .unwrap()
            .into_iter()
            .find(|a| a.record.external_id == ext)
            .map(|a| a.id)
            .unwrap()
    };
    let (a, b, c, d) = (id_of("a"), id_of("b"), id_of("c"), id_of("d"));
    store.ensure_source("auvik", "auvik").unwrap();
    let r = store
        .begin_run("auvik", RunKind::Full, RunTrigger::Manual)
        .unwrap();
    store.stage_clients(r.id, &[client()]).unwrap();
    store.stage_assets(&r, &[record("e", "e")]).unwrap();
    let first: Vec<(String, bool)> = store
        .removal_candidates(&r, &Coverage::Everything, &HashSet::new())
        .unwrap()
        .into_iter()
        .map(|c| (c.external_id, c.absent_before))
        .collect();
    assert_eq!(first.len(), 4);
    assert!(first.iter().all(|(_, before)| !before), "{first:?}");
    let done = store
        .finish_run(
            &r,
            end(Apply::Reconcile(Removals {
                remove: vec![a],
                absent: vec![b, c],
                present: vec![d],
            })),
        )
        .unwrap();
    assert_eq!(done.counts.removed, 1);
    assert_present_counts(&store);
    assert_eq!(present_ids(&store), ["b", "c", "d", "e"]);

    // The next complete run: b absent again (noted before), c seen again, d absent again
    // (never noted: the vendor had it). A removal naming e, which the run saw, is ignored.
    let e = id_of("e");
    let r = store
        .begin_run("auvik", RunKind::Full, RunTrigger::Manual)
        .unwrap();
    store.stage_clients(r.id, &[client()]).unwrap();
    store
        .stage_assets(&r, &[record("c", "c"), record("e", "e")])
        .unwrap();
    let mut second: Vec<(String, bool)> = store
        .removal_candidates(&r, &Coverage::Everything, &HashSet::new())
        .unwrap()
        .into_iter()
        .map(|c| (c.external_id, c.absent_before))
        .collect();
    second.sort();
    assert_eq!(second, [("b".to_string(), true), ("d".to_string(), false)]);
    let done = store
        .finish_run(
            &r,
            end(Apply::Reconcile(Removals {
                remove: vec![b, e],
                absent: vec![d],
                present: vec![],
            })),
        )
        .unwrap();
    assert_eq!(done.counts.removed, 1, "e was seen: not removed");
    assert_eq!(present_ids(&store), ["c", "d", "e"]);
    let noted: Vec<String> = store
        .with_reader(|c| {
            Ok(c.prepare(
                "SELECT external_id FROM assets WHERE absent_since IS NOT NULL ORDER BY 1",
            )?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?)
        })
        .unwrap();
    assert_eq!(noted, ["d"], "c was seen again; b is removed");
}

/// A record a connector knows did not change is marked seen (it counts as fetched and
/// is no removal candidate) without being read or staged again.
#[test]
fn unchanged_records_named_by_id_count_as_seen() {
    let (_d, store) = open();
    let mut first = record("a", "sw1");
    first.updated_at = parse_ts("2026-01-02T03:04:05Z");
    run(
        &store,
        RunKind::Full,
        &[first.clone(), record("b", "sw2")],
        REMOVE_ABSENT,
    );
    let known = store.known_versions("auvik").unwrap();
    assert_eq!(known.len(), 1, "only records with a version: {known:?}");
    assert_eq!(known.get("a"), first.updated_at.as_ref());
    let r = store
        .begin_run("auvik", RunKind::Full, RunTrigger::Manual)
        .unwrap();
    store.stage_clients(r.id, &[client()]).unwrap();
    store
        .stage_unchanged(&r, &["a".to_string(), "gone-meanwhile".to_string()])
        .unwrap();
    assert_eq!(candidates(&store, &r, &Coverage::Everything, &[]), ["b"]);
    let done = store.finish_run(&r, full_end(&store, &r)).unwrap();
    assert_eq!(
        (
            done.counts.fetched,
            done.counts.unchanged,
            done.counts.removed
        ),
        (1, 1, 1)
    );
    assert_eq!(present_ids(&store), ["a"]);
}

#[test]
fn a_change_writes_field_history_and_removal_needs_a_full_run() {
    let (_d, store) = open();
    run(
        &store,
        RunKind::Full,
        &[record("a", "sw1"), record("b", "sw2")],
        REMOVE_ABSENT,
    );
    let r = run(
        &store,
        RunKind::Incremental,
        &[record("a", "core-sw1")],
        Apply::Upserts,
    );
    assert_eq!((r.counts.updated, r.counts.removed), (1, 0));
    assert_present_counts(&store);
    let a = store.list_assets(&AssetFilter::default(), 0, 10).unwrap();
    assert_eq!(a.len(), 2, "an incremental run removes nothing");
    let hist = store.list_changes(a[0].id, 0, 10).unwrap();
    assert!(
        hist.iter()
            .any(|(_, c)| c.field == "name" && c.old_value == "sw1" && c.new_value == "core-sw1")
    );

    let failed = run(&store, RunKind::Full, &[], Apply::Nothing);
    assert_eq!(failed.state, RunState::Failed);
    assert_eq!(
        store
            .list_assets(&AssetFilter::default(), 0, 10)
            .unwrap()
            .len(),
        2
    );

    let full = run(
        &store,
        RunKind::Full,
        &[record("a", "core-sw1")],
        REMOVE_ABSENT,
    );
    assert_eq!(full.counts.removed, 1);
    assert_present_counts(&store);
    let present = store.list_assets(&AssetFilter::default(), 0, 10).unwrap();
    assert_eq!(present.len(), 1);
    let all = store
        .list_assets(
            &AssetFilter {
                include_removed: true,
                ..AssetFilter::default()
            },
            0,
            10,
        )
        .unwrap();
    assert!(
        all.iter()
            .any(|a| a.record.external_id == "b" && a.removed_at.is_some())
    );

    // It comes back when it reappears.
    let back = run(
        &store,
        RunKind::Full,
        &[record("a", "core-sw1"), record("b", "sw2")],
        REMOVE_ABSENT,
    );
    assert_eq!(back.counts.updated, 1);
    assert_present_counts(&store);
    assert_eq!(
        store
            .list_assets(&AssetFilter::default(), 0, 10)
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn interrupted_runs_are_recovered_and_staging_dropped() {
    let (_d, store) = open();
    store.ensure_source("auvik", "auvik").unwrap();
    let r = store
        .begin_run("auvik", RunKind::Full, RunTrigger::Schedule)
        .unwrap();
    store.stage_assets(&r, &[record("a", "x")]).unwrap();
    assert_eq!(store.recover().unwrap(), vec!["auvik".to_string()]);
    let r = store.get_run(r.id).unwrap().unwrap();
    assert_eq!(r.state, RunState::Failed);
    assert!(r.error.contains("interrupted"));
    assert!(
        store
            .list_assets(&AssetFilter::default(), 0, 10)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn filters_and_query_are_bound_not_spliced() {
    let (_d, store) = open();
    let mut fw = record("c", "edge_fw");
    fw.category = Some(Category::Firewall);
    run(
        &store,
        RunKind::Full,
        &[record("a", "sw1"), fw],
        REMOVE_ABSENT,
    );
    let by = |f: AssetFilter| store.list_assets(&f, 0, 10).unwrap().len();
    assert_eq!(
        by(AssetFilter {
            category: Some(Category::Firewall),
            ..Default::default()
        }),
        1
    );
    assert_eq!(
        by(AssetFilter {
            query: Some("EDGE".into()),
            ..Default::default()
        }),
        1
    );
    assert_eq!(
        by(AssetFilter {
            query: Some("_".into()),
            ..Default::default()
        }),
        1,
        "_ is literal"
    );
    assert_eq!(
        by(AssetFilter {
            query: Some("' OR 1=1 --".into()),
            ..Default::default()
        }),
        0
    );
    assert_eq!(
        by(AssetFilter {
            client: Some("Contoso".into()),
            ..Default::default()
        }),
        2
    );
    assert_eq!(
        by(AssetFilter {
            client: Some("Other".into()),
            ..Default::default()
        }),
        0
    );
    assert_eq!(
        by(AssetFilter {
            source: Some("auvik".into()),
            ..Default::default()
        }),
        2
    );
}

/// Commits no longer checkpoint in place (the writer's WAL hook hands that to the
/// checkpoint thread): a commit that leaves a big WAL still gets it copied into the
/// database, without anyone else asking.
#[test]
fn a_big_commit_is_checkpointed_in_the_background() {
    let (_d, store) = open();
    let db_len = || {
        std::fs::metadata(store.path())
            .map(|m| m.len())
            .unwrap_or(0)
    };
    let before = db_len();
    store
        .with_writer(|c| {
            c.execute_batch(
                "CREATE TABLE filler (b BLOB);
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
                 INSERT INTO filler SELECT randomblob(3000) FROM n;",
            )?;
            Ok(())
        })
        .unwrap();
    // 2,000 pages of 3 KB: in the database file once checkpointed.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while db_len() < before + 2000 * 3000 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(
        db_len() >= before + 2000 * 3000,
        "the WAL was not checkpointed: database file {} bytes",
        db_len()
    );
}

#[test]
fn database_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    // Nothing chmods the files after SQLite has them: they are private from creation.
    let (d, store) = open();
    run(&store, RunKind::Full, &[record("a", "x")], REMOVE_ABSENT);
    for suffix in ["", "-wal", "-shm"] {
        let p = d.path().join(format!("a.db{suffix}"));
        assert!(p.exists(), "{suffix}");
        assert_eq!(mode(&p), 0o600, "{suffix}");
    }
    drop(store);
    // Files an older version (or a restore) left readable are tightened before SQLite
    // opens them.
    for suffix in ["", "-wal", "-shm"] {
        let p = d.path().join(format!("a.db{suffix}"));
        if p.exists() {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
    }
    let store = Store::open(&d.path().join("a.db")).unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let p = d.path().join(format!("a.db{suffix}"));
        if p.exists() {
            assert_eq!(mode(&p), 0o600, "{suffix}");
        }
    }
    drop(store);
    // A symlink at the database's path is refused, not followed.
    let target = d.path().join("elsewhere.db");
    let link = d.path().join("link.db");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let e = Store::open(&link)
        .err()
        .expect("a symlinked database is refused");
    assert!(e.to_string().contains("it is a symbolic link"), "{e}");
    assert!(!target.exists());
}

fn asset(
    id: &str,
    client: &str,
    category: Category,
    managed: Option<bool>,
    serial: &str,
    macs: &[&str],
) -> ReportedAsset {
    ReportedAsset {
        external_id: id.into(),
        source_client_id: client.into(),
        name: id.into(),
        category: Some(category),
        managed,
        serial: serial.into(),
        mac_addresses: macs.iter().map(|m| m.to_string()).collect(),
        ..ReportedAsset::default()
    }
}

fn sync_source(store: &Store, source: &str, clients: &[(&str, &str)], records: &[ReportedAsset]) {
    store.ensure_source(source, source).unwrap();
    let r = store
        .begin_run(source, RunKind::Full, RunTrigger::Manual)
        .unwrap();
    let clients: Vec<SourceClient> = clients
        .iter()
        .map(|(id, name)| SourceClient {
            external_id: (*id).into(),
            name: (*name).into(),
            aliases: vec![],
        })
        .collect();
    store.stage_clients(r.id, &clients).unwrap();
    store.stage_assets(&r, records).unwrap();
    store.finish_run(&r, full_end(store, &r)).unwrap();
}

fn device_of(store: &Store, source: &str, external_id: &str) -> (i64, i64) {
    store
        .with_reader(|c| {
            Ok(c.query_row(
                "SELECT id, device_id FROM assets WHERE source = ?1 AND external_id = ?2",
                [source, external_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })
        .unwrap()
}

fn total_billable(store: &Store, cutoff: Option<DateTime<Utc>>) -> i64 {
    store
        .billable_counts(cutoff)
        .unwrap()
        .iter()
        .map(|(_, c)| c.total_billable)
        .sum()
}

/// Merging follows later runs both ways (keys kept in `asset_keys`), and only runs that
/// change identities re-merge; a purge leaves the other source's asset on its own.
#[test]
fn devices_follow_serial_changes_and_purges() {
    let (_d, store) = open();
    use Category::*;
    let a = |serial: &str| asset("fw", "t1", Firewall, Some(true), serial, &[]);
    let b = |serial: &str| asset("s-fw", "c1", Firewall, Some(true), serial, &[]);
    sync_source(&store, "auvik", &[("t1", "Contoso")], &[a("SN-1")]);
    sync_source(&store, "syncro", &[("c1", "Contoso")], &[b("SN-2")]);
    let (fw, _) = device_of(&store, "auvik", "fw");
    let (sfw, sdev) = device_of(&store, "syncro", "s-fw");
    assert_eq!(sdev, sfw, "different serials: two devices");
    assert_eq!(total_billable(&store, None), 2);
    // The Syncro asset's serial is corrected: one device, counted once.
    sync_source(&store, "syncro", &[("c1", "Contoso")], &[b(" sn-1 ")]);
    assert_keys_match_assets(&store);
    assert_eq!(device_of(&store, "syncro", "s-fw").1, fw);
    assert_eq!(total_billable(&store, None), 1);
    // And changed back: apart again.
    sync_source(&store, "syncro", &[("c1", "Contoso")], &[b("SN-2")]);
    assert_keys_match_assets(&store);
    assert_eq!(device_of(&store, "syncro", "s-fw").1, sfw);
    sync_source(&store, "syncro", &[("c1", "Contoso")], &[b("SN-1")]);
    assert_eq!(device_of(&store, "syncro", "s-fw").1, fw);
    // Purging Auvik leaves the Syncro asset its own device.
    assert_present_counts(&store);
    store.purge_source("auvik").unwrap();
    assert_eq!(device_of(&store, "syncro", "s-fw").1, sfw);
    assert_eq!(total_billable(&store, None), 1);
    assert_present_counts(&store);
}

/// A database from before migration 5 gets `asset_keys` filled when opened, so merging
/// keeps working without a resync (and migration 6 counts its present assets).
#[test]
fn asset_keys_are_filled_for_a_database_from_before_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    {
        let store = Store::open(&path).unwrap();
        use Category::*;
        sync_source(
            &store,
            "auvik",
            &[("t1", "Contoso")],
            &[asset(
                "fw",
                "t1",
                Firewall,
                Some(true),
                "SN-1",
                &["00:1A:2B:3C:4D:01"],
            )],
        );
    }
    {
        let c = Connection::open(&path).unwrap();
        c.execute_batch(&format!(
            "{UNDO_MIGRATION_9}
             DROP TABLE asset_keys; DROP INDEX assets_removed;
             ALTER TABLE assets DROP COLUMN listed;
             ALTER TABLE staged_assets DROP COLUMN billable;
             ALTER TABLE sources DROP COLUMN present_assets;
             ALTER TABLE staged_assets DROP COLUMN unchanged; PRAGMA user_version = 4;"
        ))
        .unwrap();
    }
    let store = Store::open(&path).unwrap();
    let keys: Vec<String> = store
        .with_reader(|c| {
            let mut st = c.prepare("SELECT key FROM asset_keys ORDER BY key")?;
            let keys = st
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(keys)
        })
        .unwrap();
    assert_eq!(keys, ["M:00:1A:2B:3C:4D:01", "S:SN-1"]);
    assert_keys_match_assets(&store);
    // Migration 6 counted the present assets it found.
    assert_present_counts(&store);
    assert_eq!(store.count_assets().unwrap(), 1);
    use Category::*;
    sync_source(
        &store,
        "syncro",
        &[("c1", "Contoso")],
        &[asset(
            "s-fw",
            "c1",
            Firewall,
            Some(true),
            "",
            &["00:1a:2b:3c:4d:01"],
        )],
    );
    let (fw, _) = device_of(&store, "auvik", "fw");
    assert_eq!(device_of(&store, "syncro", "s-fw").1, fw);
}

/// Cached counts never outlive the data or the cutoff they were computed for: a removed
/// asset counts while the cutoff is before its removal, whichever order callers ask in.
#[test]
fn cached_counts_follow_the_grace_cutoff_and_new_runs() {
    let (_d, store) = open();
    use Category::*;
    let fw = asset("fw", "t1", Firewall, Some(true), "SN-1", &[]);
    let rt = asset("rt", "t1", Router, Some(true), "SN-2", &[]);
    sync_source(
        &store,
        "auvik",
        &[("t1", "Contoso")],
        &[fw.clone(), rt.clone()],
    );
    let before_removal = Utc::now();
    sync_source(
        &store,
        "auvik",
        &[("t1", "Contoso")],
        std::slice::from_ref(&fw),
    );
    let after_removal = Utc::now() + chrono::Duration::seconds(1);
    for _ in 0..2 {
        assert_eq!(total_billable(&store, Some(before_removal)), 2);
        assert_eq!(total_billable(&store, Some(after_removal)), 1);
        assert_eq!(total_billable(&store, None), 1);
    }
    sync_source(&store, "auvik", &[("t1", "Contoso")], &[fw, rt]);
    assert_eq!(
        total_billable(&store, Some(after_removal)),
        2,
        "a run invalidates"
    );
}

#[test]
fn devices_merge_across_sources_and_count_once() {
    let (_d, store) = open();
    use Category::*;
    sync_source(
        &store,
        "auvik",
        &[("t1", "Contoso"), ("t2", "Fabrikam")],
        &[
            asset("fw", "t1", Firewall, Some(true), "FGT60F123", &[]),
            asset(
                "sw",
                "t1",
                Switch,
                Some(true),
                "SW-1",
                &["00:1A:2B:3C:4D:01"],
            ),
            asset("sw-unmanaged", "t1", Switch, Some(false), "SW-2", &[]),
            asset("sw-unknown", "t1", Switch, None, "SW-3", &[]),
            asset(
                "oem-a",
                "t1",
                L3Switch,
                Some(true),
                "To be filled by O.E.M.",
                &[],
            ),
            asset(
                "oem-b",
                "t1",
                L3Switch,
                Some(true),
                "To be filled by O.E.M.",
                &[],
            ),
            asset("stack", "t1", SwitchStack, Some(true), "ST-1", &[]),
            asset("ap", "t1", AccessPoint, Some(true), "AP-1", &[]),
            asset("rt", "t2", Router, Some(true), "RT-1", &[]),
            asset("wlc", "t2", Controller, Some(true), "WLC-1", &[]),
        ],
    );
    // Syncro reports the firewall (same serial, other case and spaces) and the switch
    // (by MAC, no serial): both are the same devices.
    sync_source(
        &store,
        "syncro",
        &[("c1", "Contoso"), ("c2", "Northwind")],
        &[
            asset("s-fw", "c1", Other, None, " fgt60f123 ", &[]),
            asset("s-sw", "c1", Other, None, "", &["00:1a:2b:3c:4d:01"]),
            asset("s-pc", "c2", Workstation, Some(true), "PC-1", &[]),
        ],
    );
    let counts: HashMap<String, BillableCounts> = store
        .billable_counts(None)
        .unwrap()
        .iter()
        .cloned()
        .collect();
    let contoso = counts["Contoso"];
    assert_eq!(
        contoso,
        BillableCounts {
            total_billable: 5, // fw, sw, two O.E.M. l3 switches (placeholders never merge), stack
            firewalls: 1,
            controllers: 0,
            routers: 0,
            l3_switches: 2,
            voip_switches: 0,
            switch_stacks: 1,
            total_switches: 4,
            access_points: 1,
        }
    );
    assert_eq!(
        (
            counts["Fabrikam"].total_billable,
            counts["Fabrikam"].routers,
            counts["Fabrikam"].controllers
        ),
        (2, 1, 1)
    );
    assert_eq!(counts["Northwind"].total_billable, 0);

    let devices = store
        .list_devices(None, None, &LifecycleFilter::default(), 0, 100)
        .unwrap();
    let fw = devices.iter().find(|d| d.name == "fw").unwrap();
    assert_eq!(
        fw.sources,
        vec!["auvik", "syncro"],
        "one device, two sources"
    );
    assert_eq!(fw.asset_ids.len(), 2);
    assert_eq!(devices.len(), 13 - 2, "13 assets, 2 merged away");

    // Today's snapshot gives this month's average and maximum.
    let month = Utc::now().format("%Y-%m").to_string();
    let period: HashMap<String, (BillableCounts, BillableCounts)> = store
        .period_counts(&month)
        .unwrap()
        .into_iter()
        .map(|(c, a, m)| (c, (a, m)))
        .collect();
    assert_eq!(period["Contoso"], (contoso, contoso));

    // The firewall disappears from Auvik: Syncro still reports it, but unmanaged there,
    // so it is no longer billable; it is still one device.
    sync_source(
        &store,
        "auvik",
        &[("t1", "Contoso"), ("t2", "Fabrikam")],
        &[asset(
            "sw",
            "t1",
            Switch,
            Some(true),
            "SW-1",
            &["00:1A:2B:3C:4D:01"],
        )],
    );
    let counts: HashMap<String, BillableCounts> = store
        .billable_counts(None)
        .unwrap()
        .iter()
        .cloned()
        .collect();
    assert_eq!(
        (
            counts["Contoso"].total_billable,
            counts["Contoso"].firewalls
        ),
        (1, 0)
    );
}

/// A month of daily runs whose billable firewalls follow a known pattern: the period's
/// average and maximum are those of the pattern, derived here, not typed in.
#[test]
fn a_month_of_snapshots_gives_the_daily_average_and_maximum() {
    let (_d, store) = open();
    store.ensure_source("auvik", "auvik").unwrap();
    let firewalls_on = |day: u32| (day * 7 % 5) as usize; // 0..=4, varying by day
    let days = 30u32;
    for day in 1..=days {
        let records: Vec<ReportedAsset> = (0..firewalls_on(day))
            .map(|i| {
                asset(
                    &format!("fw{i}"),
                    "t1",
                    Category::Firewall,
                    Some(true),
                    &format!("FW-{i}"),
                    &[],
                )
            })
            .chain(std::iter::once(asset(
                "ap",
                "t1",
                Category::AccessPoint,
                Some(true),
                "AP",
                &[],
            )))
            .collect();
        let r = store
            .begin_run("auvik", RunKind::Full, RunTrigger::Schedule)
            .unwrap();
        store.stage_clients(r.id, &[client()]).unwrap();
        store.stage_assets(&r, &records).unwrap();
        let when = DateTime::parse_from_rfc3339(&format!("2026-09-{day:02}T12:00:00Z"))
            .unwrap()
            .with_timezone(&Utc);
        store.finish_run_at(&r, full_end(&store, &r), when).unwrap();
    }
    // A run in another month does not count towards September.
    let r = store
        .begin_run("auvik", RunKind::Full, RunTrigger::Schedule)
        .unwrap();
    store.stage_clients(r.id, &[client()]).unwrap();
    let october = DateTime::parse_from_rfc3339("2026-10-01T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    store
        .finish_run_at(&r, full_end(&store, &r), october)
        .unwrap();

    let daily: Vec<i64> = (1..=days).map(|d| firewalls_on(d) as i64).collect();
    let expected_max = *daily.iter().max().unwrap();
    let sum: i64 = daily.iter().sum();
    let expected_avg = (sum as f64 / days as f64).round() as i64;
    let rows = store.period_counts("2026-09").unwrap();
    let (name, avg, max) = &rows[0];
    assert_eq!(name, "Contoso");
    assert_eq!((avg.firewalls, max.firewalls), (expected_avg, expected_max));
    assert_eq!(
        (avg.total_billable, max.total_billable),
        (expected_avg, expected_max)
    );
    assert_eq!(
        (avg.access_points, max.access_points),
        (1, 1),
        "managed APs counted, every day"
    );
    let october_rows = store.period_counts("2026-10").unwrap();
    assert_eq!(
        october_rows[0].1.firewalls, 0,
        "October has its own snapshot"
    );
    assert!(store.period_counts("2026-08").unwrap().is_empty());
    let own = store.own_averages("2026-09").unwrap();
    assert_eq!(own[0].days, i64::from(days));
    assert!((own[0].average_billable - sum as f64 / f64::from(days)).abs() < 1e-9);
}

fn usage(tenant: &str, period: &str, average: f64) -> VendorUsage {
    VendorUsage {
        source_client_id: tenant.into(),
        period: period.into(),
        days: 30,
        device_days: average * 30.0,
        average_billable: average,
    }
}

/// Runs one Auvik sync whose only payload is billing figures.
fn usage_run(store: &Store, rows: &[VendorUsage], apply: Apply) {
    let r = store
        .begin_run("auvik", RunKind::Full, RunTrigger::Manual)
        .unwrap();
    store.stage_clients(r.id, &[client()]).unwrap();
    store.stage_usage(r.id, rows).unwrap();
    store.finish_run(&r, end(apply)).unwrap();
}

#[test]
fn vendor_billing_figures_land_with_the_run_and_sum_per_client() {
    let (_d, store) = open();
    run(&store, RunKind::Full, &[], REMOVE_ABSENT);
    // A note said once: the second identical note is not a change.
    assert!(
        store
            .set_billing_note("auvik", "no billing rights")
            .unwrap()
    );
    assert!(
        !store
            .set_billing_note("auvik", "no billing rights")
            .unwrap()
    );
    assert_eq!(
        store.usage_sources("2026-09").unwrap()[0].note,
        "no billing rights"
    );

    // A failed run's figures are dropped with the rest of it.
    usage_run(&store, &[usage("t1", "2026-09", 4.0)], Apply::Nothing);
    assert!(store.vendor_usage("2026-09").unwrap().is_empty());
    assert!(!store.usage_sources("2026-09").unwrap()[0].has_period);

    // An applied run's figures land, replace earlier ones, and clear the note.
    usage_run(&store, &[usage("t1", "2026-09", 4.0)], Apply::Upserts);
    usage_run(
        &store,
        &[usage("t1", "2026-09", 5.5), usage("t1", "2026-08", 3.0)],
        Apply::Upserts,
    );
    let sept = store.vendor_usage("2026-09").unwrap();
    assert_eq!(sept.len(), 1);
    assert_eq!(
        (sept[0].client.as_str(), sept[0].average_billable),
        ("Contoso", 5.5)
    );
    assert_eq!(
        store.vendor_usage("2026-08").unwrap()[0].average_billable,
        3.0
    );
    let src = &store.usage_sources("2026-09").unwrap()[0];
    assert_eq!((src.note.as_str(), src.has_period), ("", true));

    // Two tenants of one assetd client add up (a [[client]] grouping them).
    store
        .set_client_groups(vec![ClientGroup {
            name: "Contoso Group".into(),
            exclude: false,
            members: ["t1", "t2"]
                .map(|k| crate::config::ClientMemberRef {
                    source: "auvik".into(),
                    key: k.into(),
                })
                .to_vec(),
        }])
        .unwrap();
    let r = store
        .begin_run("auvik", RunKind::Full, RunTrigger::Manual)
        .unwrap();
    let second = SourceClient {
        external_id: "t2".into(),
        name: "Contoso West".into(),
        aliases: vec![],
    };
    store.stage_clients(r.id, &[client(), second]).unwrap();
    store
        .stage_usage(
            r.id,
            &[usage("t1", "2026-09", 5.5), usage("t2", "2026-09", 2.0)],
        )
        .unwrap();
    store.finish_run(&r, end(Apply::Upserts)).unwrap();
    let sept = store.vendor_usage("2026-09").unwrap();
    assert_eq!(sept.len(), 1, "{sept:?}");
    assert_eq!(
        (sept[0].client.as_str(), sept[0].average_billable),
        ("Contoso Group", 7.5)
    );

    // Purge forgets the source's figures.
    store.purge_source("auvik").unwrap();
    assert!(store.vendor_usage("2026-09").unwrap().is_empty());
}

/// Issue 21: purge checked "not syncing" before, outside its transaction, so a run that
/// began in between lost its source's rows under it.
#[test]
fn purge_refuses_a_source_with_a_run_in_progress_in_its_own_transaction() {
    let (_d, store) = open();
    run(&store, RunKind::Full, &[record("a", "x")], REMOVE_ABSENT);
    let r = store
        .begin_run("auvik", RunKind::Full, RunTrigger::Manual)
        .unwrap();
    let e = store.purge_source("auvik").unwrap_err();
    assert!(
        matches!(e, StoreError::SourceSyncing(ref s) if s == "auvik"),
        "{e}"
    );
    assert!(e.to_string().contains("wait for the run to finish"), "{e}");
    // Nothing was deleted.
    assert_eq!(store.list_runs(Some("auvik"), 0, 10).unwrap().len(), 2);
    store.stage_assets(&r, &[record("a", "x")]).unwrap();
    store.finish_run(&r, full_end(&store, &r)).unwrap();
    assert_eq!(store.purge_source("auvik").unwrap(), 1);
    assert!(store.list_runs(Some("auvik"), 0, 10).unwrap().is_empty());
}
