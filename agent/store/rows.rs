//! How the store's rows are read: the column lists of its queries and the types that
//! borrow a row's values.
//!
//! Every query that reads an asset's vendor fields lists them in one order, so one reader
//! serves them all (`RecordRow::read`). `AssetRow` is a row of `ASSET_SELECT` (an owned
//! `Asset` on request); `ListedRow` a row of `LISTED_SELECT`, what ListAssets sends, handed
//! to an `AssetSink` page by page; `run_from_row` reads `sync_runs`. Text is borrowed from
//! SQLite, not copied, until a caller asks for owned values.

use super::{parse_day, parse_ts};
use crate::listed::{self, ListedFields};
use crate::model::{
    Asset, Category, Lifecycle, ReportedAsset, RunCounts, RunKind, RunState, RunTrigger,
    SupportStatus, SyncRun, WarrantyStatus,
};
use chrono::{DateTime, Utc};
use rusqlite::Row;

/// An asset's lifecycle columns, in the order `LifecycleRow::read` reads them.
macro_rules! lifecycle_columns {
    () => {
        "a.purchase_date, a.warranty_expires, a.warranty_status, a.support_status,
    a.purchase_date_raw, a.warranty_expires_raw"
    };
}

// Every query that reads an asset's vendor fields lists them in the order of
// `RecordRow::read`: name, category, vendor_type, manufacturer, model, serial,
// mac_addresses, ip_addresses, os, firmware, online_status, managed, last_seen, updated_at;
// then the lifecycle columns in the order of `LifecycleRow::read` (`lifecycle_columns!`).
pub(super) const ASSET_SELECT: &str = concat!(
    "SELECT a.id, a.source, a.external_id, COALESCE(sc.client, ''), COALESCE(sc.name, ''),
    COALESCE(sc.external_id, ''), a.billable, a.first_seen, a.removed_at, a.device_id,
    a.name, a.category, a.vendor_type, a.manufacturer, a.model, a.serial, a.mac_addresses, a.ip_addresses,
    a.os, a.firmware, a.online_status, a.managed, a.last_seen, a.updated_at, ",
    lifecycle_columns!(),
    "
    FROM assets a LEFT JOIN source_clients sc ON sc.id = a.source_client_id"
);

/// `ASSET_SELECT`'s first lifecycle column.
const ASSET_LIFECYCLE_AT: usize = 24;

/// Column `i` as text borrowed from the row (an error for NULL, like `get::<String>`).
fn text_at<'r>(r: &'r Row<'_>, i: usize) -> rusqlite::Result<&'r str> {
    let v = r.get_ref(i)?;
    v.as_str()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, v.data_type(), Box::new(e)))
}

/// Column `i` as a blob borrowed from the row (an error for anything else).
fn blob_at<'r>(r: &'r Row<'_>, i: usize) -> rusqlite::Result<&'r [u8]> {
    let v = r.get_ref(i)?;
    v.as_blob()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, v.data_type(), Box::new(e)))
}

fn opt_ts_at(r: &Row, i: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let v = r.get_ref(i)?;
    let text = v
        .as_str_or_null()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, v.data_type(), Box::new(e)))?;
    Ok(text.and_then(parse_ts))
}

/// The 14 vendor fields starting at column `at` (see `ASSET_SELECT` for the order).
pub(super) fn record_from_row(
    r: &Row,
    at: usize,
    external_id: String,
    source_client_id: String,
) -> rusqlite::Result<ReportedAsset> {
    Ok(RecordRow::read(r, at)?.to_record(external_id, source_client_id))
}

/// The 14 vendor fields of a row as SQLite holds them (text borrowed), in the order every
/// query that reads them lists them.
#[derive(Debug)]
pub struct RecordRow<'r> {
    pub name: &'r str,
    pub category: Option<Category>,
    pub vendor_type: &'r str,
    pub manufacturer: &'r str,
    pub model: &'r str,
    pub serial: &'r str,
    pub mac_addresses: JsonList<'r>,
    pub ip_addresses: JsonList<'r>,
    pub os: &'r str,
    pub firmware: &'r str,
    pub online_status: &'r str,
    pub managed: Option<bool>,
    pub last_seen: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl<'r> RecordRow<'r> {
    /// Appends the row's list fields in their encoded form (`crate::listed`).
    pub fn encode_listed(&self, buf: &mut Vec<u8>) {
        let (macs, ips) = (self.mac_addresses.items(), self.ip_addresses.items());
        listed::encode(
            &ListedFields {
                name: self.name,
                category: self.category,
                vendor_type: self.vendor_type,
                manufacturer: self.manufacturer,
                model: self.model,
                serial: self.serial,
                mac_addresses: &macs,
                ip_addresses: &ips,
                os: self.os,
                firmware: self.firmware,
                online_status: self.online_status,
                managed: self.managed,
            },
            buf,
        );
    }

    /// The fields from column `at` on.
    fn read(r: &'r Row<'_>, at: usize) -> rusqlite::Result<RecordRow<'r>> {
        Ok(RecordRow {
            name: text_at(r, at)?,
            category: text_at(r, at + 1)?.parse().ok(),
            vendor_type: text_at(r, at + 2)?,
            manufacturer: text_at(r, at + 3)?,
            model: text_at(r, at + 4)?,
            serial: text_at(r, at + 5)?,
            mac_addresses: JsonList(text_at(r, at + 6)?),
            ip_addresses: JsonList(text_at(r, at + 7)?),
            os: text_at(r, at + 8)?,
            firmware: text_at(r, at + 9)?,
            online_status: text_at(r, at + 10)?,
            managed: r.get(at + 11)?,
            last_seen: opt_ts_at(r, at + 12)?,
            updated_at: opt_ts_at(r, at + 13)?,
        })
    }

    fn to_record(&self, external_id: String, source_client_id: String) -> ReportedAsset {
        ReportedAsset {
            external_id,
            source_client_id,
            name: self.name.to_owned(),
            category: self.category,
            vendor_type: self.vendor_type.to_owned(),
            manufacturer: self.manufacturer.to_owned(),
            model: self.model.to_owned(),
            serial: self.serial.to_owned(),
            mac_addresses: self.mac_addresses.to_vec(),
            ip_addresses: self.ip_addresses.to_vec(),
            os: self.os.to_owned(),
            firmware: self.firmware.to_owned(),
            online_status: self.online_status.to_owned(),
            managed: self.managed,
            last_seen: self.last_seen,
            updated_at: self.updated_at,
            raw: String::new(),
        }
    }
}

/// One row of `ASSET_SELECT` as SQLite holds it: text is borrowed, not copied, until a
/// caller asks for an owned `Asset`.
#[derive(Debug)]
pub struct AssetRow<'r> {
    pub id: i64,
    pub source: &'r str,
    pub client: &'r str,
    pub source_client: &'r str,
    pub billable: bool,
    pub first_seen: DateTime<Utc>,
    pub removed_at: Option<DateTime<Utc>>,
    pub device_id: i64,
    pub external_id: &'r str,
    pub source_client_id: &'r str,
    pub record: RecordRow<'r>,
    pub lifecycle: LifecycleRow<'r>,
}

/// An asset's lifecycle columns as SQLite holds them (text borrowed): dates as `YYYY-MM-DD`,
/// the stated warranty and support status by their contract names, NULL for nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct LifecycleRow<'r> {
    pub purchase_date: Option<&'r str>,
    pub warranty_expires: Option<&'r str>,
    pub warranty_status: Option<&'r str>,
    pub support_status: Option<&'r str>,
    pub purchase_date_raw: &'r str,
    pub warranty_expires_raw: &'r str,
}

impl<'r> LifecycleRow<'r> {
    /// The six columns from `at` on (`lifecycle_columns!`). A value of another type reads
    /// as nothing rather than failing the page: these are facts a vendor may not give.
    pub(super) fn read(r: &'r Row<'_>, at: usize) -> rusqlite::Result<LifecycleRow<'r>> {
        let text = |i: usize| -> rusqlite::Result<Option<&'r str>> {
            Ok(match r.get_ref(at + i)? {
                rusqlite::types::ValueRef::Text(t) => std::str::from_utf8(t).ok(),
                _ => None,
            })
        };
        Ok(LifecycleRow {
            purchase_date: text(0)?,
            warranty_expires: text(1)?,
            warranty_status: text(2)?,
            support_status: text(3)?,
            purchase_date_raw: text(4)?.unwrap_or(""),
            warranty_expires_raw: text(5)?.unwrap_or(""),
        })
    }

    pub fn to_lifecycle(&self) -> Lifecycle {
        Lifecycle {
            purchase_date: self.purchase_date.and_then(parse_day),
            warranty_expires: self.warranty_expires.and_then(parse_day),
            stated: self.warranty_status.and_then(WarrantyStatus::parse),
            support_status: self.support_status.and_then(SupportStatus::parse),
            purchase_date_raw: self.purchase_date_raw.to_owned(),
            warranty_expires_raw: self.warranty_expires_raw.to_owned(),
        }
    }
}

/// A list column as stored: a JSON array of strings.
#[derive(Debug, Clone, Copy)]
pub struct JsonList<'r>(pub(super) &'r str);

impl<'r> JsonList<'r> {
    /// The items, borrowed from the row unless JSON escapes had to be undone. A value that
    /// is not such an array reads as empty, as `parse_list` does.
    pub fn items(&self) -> Vec<std::borrow::Cow<'r, str>> {
        #[derive(serde::Deserialize)]
        struct Items<'a>(#[serde(borrow)] Vec<std::borrow::Cow<'a, str>>);
        serde_json::from_str::<Items<'r>>(self.0)
            .map(|i| i.0)
            .unwrap_or_default()
    }

    fn to_vec(self) -> Vec<String> {
        self.items()
            .into_iter()
            .map(std::borrow::Cow::into_owned)
            .collect()
    }
}

impl<'r> AssetRow<'r> {
    fn read(r: &'r Row<'_>) -> rusqlite::Result<AssetRow<'r>> {
        Ok(AssetRow {
            id: r.get(0)?,
            source: text_at(r, 1)?,
            external_id: text_at(r, 2)?,
            client: text_at(r, 3)?,
            source_client: text_at(r, 4)?,
            source_client_id: text_at(r, 5)?,
            billable: r.get(6)?,
            first_seen: opt_ts_at(r, 7)?.unwrap_or_default(),
            removed_at: opt_ts_at(r, 8)?,
            device_id: r.get(9)?,
            record: RecordRow::read(r, 10)?,
            lifecycle: LifecycleRow::read(r, ASSET_LIFECYCLE_AT)?,
        })
    }

    pub fn to_asset(&self) -> Asset {
        Asset {
            id: self.id,
            source: self.source.to_owned(),
            client: self.client.to_owned(),
            source_client: self.source_client.to_owned(),
            billable: self.billable,
            first_seen: self.first_seen,
            removed_at: self.removed_at,
            device_id: self.device_id,
            record: self.record.to_record(
                self.external_id.to_owned(),
                self.source_client_id.to_owned(),
            ),
            lifecycle: self.lifecycle.to_lifecycle(),
        }
    }
}

/// The columns of `LISTED_SELECT` after the client's two, the same in both its forms.
macro_rules! listed_columns_after_client {
    () => {
        "a.billable, a.first_seen, a.removed_at, a.device_id, a.last_seen, a.updated_at,
    COALESCE(a.listed, assetd_listed_fields(a.name, a.category, a.vendor_type,
      a.manufacturer, a.model, a.serial, a.mac_addresses, a.ip_addresses, a.os, a.firmware,
      a.online_status, a.managed)), "
    };
}

/// What ListAssets sends of an asset (`raw` aside), read by `visit_assets`.
pub(super) const LISTED_SELECT: &str = concat!(
    "SELECT a.id, a.source, a.external_id, COALESCE(sc.client, ''), COALESCE(sc.name, ''),
    ",
    listed_columns_after_client!(),
    lifecycle_columns!(),
    "
    FROM assets a LEFT JOIN source_clients sc ON sc.id = a.source_client_id"
);

/// `LISTED_SELECT` for a page of one source client's assets: its client and name are read
/// once for the page (`page_query`), not joined to each row.
pub(super) const LISTED_SELECT_ONE_CLIENT: &str = concat!(
    "SELECT a.id, a.source, a.external_id, '', '',
    ",
    listed_columns_after_client!(),
    lifecycle_columns!(),
    "
    FROM assets a"
);

/// `LISTED_SELECT`'s column of the encoded fields.
pub const LISTED_COLUMN: usize = 11;

/// One row of `LISTED_SELECT`, text borrowed from SQLite: an asset as ListAssets encodes
/// it. `listed` holds fields 6-17 already encoded (migration 8); reading twelve columns
/// (two of them JSON lists) and encoding them was most of a page's CPU.
#[derive(Debug)]
pub struct ListedRow<'r> {
    pub id: i64,
    pub source: &'r str,
    pub external_id: &'r str,
    pub client: &'r str,
    pub source_client: &'r str,
    pub billable: bool,
    pub first_seen: DateTime<Utc>,
    pub removed_at: Option<DateTime<Utc>>,
    pub device_id: i64,
    pub last_seen: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub listed: &'r [u8],
    pub lifecycle: LifecycleRow<'r>,
}

impl<'r> ListedRow<'r> {
    pub(super) fn read(r: &'r Row<'_>) -> rusqlite::Result<ListedRow<'r>> {
        Ok(ListedRow {
            id: r.get(0)?,
            source: text_at(r, 1)?,
            external_id: text_at(r, 2)?,
            client: text_at(r, 3)?,
            source_client: text_at(r, 4)?,
            billable: r.get(5)?,
            first_seen: opt_ts_at(r, 6)?.unwrap_or_default(),
            removed_at: opt_ts_at(r, 7)?,
            device_id: r.get(8)?,
            last_seen: opt_ts_at(r, 9)?,
            updated_at: opt_ts_at(r, 10)?,
            listed: blob_at(r, LISTED_COLUMN)?,
            lifecycle: LifecycleRow::read(r, LISTED_COLUMN + 1)?,
        })
    }
}

/// Where `Store::visit_assets` puts each row of a page. An error (a stored value the sink
/// cannot read) ends the page with it.
pub trait AssetSink {
    fn push(&mut self, asset: &ListedRow<'_>) -> rusqlite::Result<()>;
}

pub(super) fn asset_from_row(r: &Row) -> rusqlite::Result<Asset> {
    AssetRow::read(r).map(|a| a.to_asset())
}

pub(super) const RUN_SELECT: &str =
    "SELECT id, source, kind, trigger, started, finished, state, fetched, added, updated,
    unchanged, removed, requests, retries, error, skipped, skipped_units, removals_held FROM sync_runs";

pub(super) fn run_from_row(r: &Row) -> rusqlite::Result<SyncRun> {
    Ok(SyncRun {
        id: r.get(0)?,
        source: r.get(1)?,
        kind: RunKind::parse(&r.get::<_, String>(2)?).unwrap_or(RunKind::Full),
        trigger: RunTrigger::parse(&r.get::<_, String>(3)?).unwrap_or(RunTrigger::Manual),
        started: parse_ts(&r.get::<_, String>(4)?).unwrap_or_default(),
        finished: r.get::<_, Option<String>>(5)?.and_then(|s| parse_ts(&s)),
        state: RunState::parse(&r.get::<_, String>(6)?).unwrap_or(RunState::Failed),
        counts: RunCounts {
            fetched: r.get(7)?,
            added: r.get(8)?,
            updated: r.get(9)?,
            unchanged: r.get(10)?,
            removed: r.get(11)?,
            skipped: r.get(15)?,
            skipped_units: r.get(16)?,
            removals_held: r.get(17)?,
        },
        requests: r.get(12)?,
        retries: r.get(13)?,
        error: r.get(14)?,
    })
}
