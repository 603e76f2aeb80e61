//! ListAssets' response, written by hand: the agent encodes each page's assets straight
//! from their database rows into protobuf, with no `String` per field and no `pb::Asset`;
//! fields 6-17 of each asset are stored already encoded (`crate::listed`).
//!
//! Why: a page of 100 assets is ~2,500 strings. Copying them out of SQLite, into
//! `pb::Asset`s, then encoding and freeing them was most of the agent's CPU per request
//! (measured in BENCHMARKS.md). The generated code names this module's
//! `ListAssetsResponse` in place of its own (`extern_path` in `build.rs`), so clients,
//! the Rust ones included, see the same message, fields and wire format as
//! `proto/assetd/v1/assetd.proto` defines; only how the agent builds it differs.
//!
//! The encoder mirrors `rpc::asset_to_proto` field by field. The tests below hold the two
//! to the same bytes, so a field added to the proto and not here fails them.

use crate::api::proto as pb;
use crate::api::rpc::{date_text, support_status_to_proto, timestamp, warranty_status_to_proto};
use crate::model::{SupportStatus, WarrantyStatus, age_days, warranty_status};
use crate::store::{AssetSink, LISTED_COLUMN, LifecycleRow, ListedRow, parse_day};
use chrono::{DateTime, NaiveDate, Utc};
use prost::Message;
use prost::bytes::{Buf, BufMut, Bytes};
use prost::encoding::{self, DecodeContext, WireType};

/// `Asset`'s field numbers in `assetd.proto` (6-17, the list fields, are `crate::listed`'s).
mod tag {
    pub const ID: u32 = 1;
    pub const SOURCE: u32 = 2;
    pub const EXTERNAL_ID: u32 = 3;
    pub const CLIENT: u32 = 4;
    pub const SOURCE_CLIENT: u32 = 5;
    pub const BILLABLE: u32 = 18;
    pub const FIRST_SEEN: u32 = 19;
    pub const LAST_SEEN: u32 = 20;
    pub const UPDATED_AT: u32 = 21;
    pub const REMOVED_AT: u32 = 22;
    pub const DEVICE_ID: u32 = 23;
    pub const PURCHASE_DATE: u32 = 25;
    pub const WARRANTY_EXPIRES: u32 = 26;
    pub const WARRANTY_STATUS: u32 = 27;
    pub const SUPPORT_STATUS: u32 = 28;
    pub const AGE_DAYS: u32 = 29;
    pub const PURCHASE_DATE_RAW: u32 = 30;
    pub const WARRANTY_EXPIRES_RAW: u32 = 31;
}

/// `ListAssetsResponse.assets`.
const ASSETS: u32 = 1;
/// `ListAssetsResponse.next_page_token`.
const NEXT_PAGE_TOKEN: u32 = 2;

/// `assetd.v1.ListAssetsResponse`. A decoded response (a client's) has its assets in
/// `assets`; the agent's carries them already encoded.
#[derive(Clone, PartialEq, Default)]
pub struct ListAssetsResponse {
    pub assets: Vec<pb::Asset>,
    pub next_page_token: String,
    /// Field 1 entries (key, length, `Asset`), sent before `assets`.
    encoded_assets: Bytes,
}

impl std::fmt::Debug for ListAssetsResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListAssetsResponse")
            .field("assets", &self.assets)
            .field("encoded_assets_bytes", &self.encoded_assets.len())
            .field("next_page_token", &self.next_page_token)
            .finish()
    }
}

// prost's derive writes these same four methods; `encode_raw` and `merge_field` are hidden
// from its docs but are the trait's required methods, and Cargo.lock pins prost.
impl prost::Message for ListAssetsResponse {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        buf.put_slice(&self.encoded_assets);
        for asset in &self.assets {
            encoding::message::encode(ASSETS, asset, buf);
        }
        if !self.next_page_token.is_empty() {
            encoding::string::encode(NEXT_PAGE_TOKEN, &self.next_page_token, buf);
        }
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), prost::DecodeError> {
        match tag {
            ASSETS => encoding::message::merge_repeated(wire_type, &mut self.assets, buf, ctx),
            NEXT_PAGE_TOKEN => {
                encoding::string::merge(wire_type, &mut self.next_page_token, buf, ctx)
            }
            _ => encoding::skip_field(wire_type, tag, buf, ctx),
        }
    }

    fn encoded_len(&self) -> usize {
        let token = if self.next_page_token.is_empty() {
            0
        } else {
            encoding::string::encoded_len(NEXT_PAGE_TOKEN, &self.next_page_token)
        };
        self.encoded_assets.len()
            + encoding::message::encoded_len_repeated(ASSETS, &self.assets)
            + token
    }

    fn clear(&mut self) {
        self.assets.clear();
        self.next_page_token.clear();
        self.encoded_assets = Bytes::new();
    }
}

/// Collects one page for ListAssets: the first `limit` assets it is handed, encoded; one
/// more tells that a next page exists.
pub struct AssetPage {
    limit: usize,
    /// The day lifecycle statuses and ages are for.
    today: NaiveDate,
    count: usize,
    last_id: i64,
    more: bool,
    out: Vec<u8>,
    /// One asset's encoding, reused: its length goes before it.
    scratch: Vec<u8>,
}

impl AssetPage {
    pub fn new(limit: usize, today: NaiveDate) -> AssetPage {
        AssetPage {
            limit,
            today,
            count: 0,
            last_id: 0,
            more: false,
            // A typical asset encodes to 200-300 bytes.
            out: Vec::with_capacity(limit.min(1000) * 320),
            scratch: Vec::with_capacity(512),
        }
    }

    /// The id of the last asset in the page when another page follows it.
    pub fn next_after(&self) -> Option<i64> {
        self.more.then_some(self.last_id)
    }

    pub fn into_response(self, next_page_token: String) -> ListAssetsResponse {
        ListAssetsResponse {
            assets: Vec::new(),
            next_page_token,
            encoded_assets: Bytes::from(self.out),
        }
    }
}

impl AssetSink for AssetPage {
    fn push(&mut self, asset: &ListedRow<'_>) -> rusqlite::Result<()> {
        if self.count == self.limit {
            self.more = true;
            return Ok(());
        }
        self.scratch.clear();
        encode_asset(asset, self.today, &mut self.scratch);
        encoding::encode_key(ASSETS, WireType::LengthDelimited, &mut self.out);
        encoding::encode_varint(self.scratch.len() as u64, &mut self.out);
        self.out.extend_from_slice(&self.scratch);
        self.count += 1;
        self.last_id = asset.id;
        Ok(())
    }
}

/// Collects assets as `pb::Asset`s, for ExportAssets' stream: fields 6-17 are decoded from
/// their stored encoding, which reads a row in far fewer steps than its twelve columns.
pub struct DecodedAssets {
    pub assets: Vec<pb::Asset>,
    /// The day lifecycle statuses and ages are for.
    today: NaiveDate,
}

impl DecodedAssets {
    pub fn new(today: NaiveDate) -> DecodedAssets {
        DecodedAssets {
            assets: Vec::new(),
            today,
        }
    }
}

/// An asset's lifecycle as the API sends it on `today` (`rpc::asset_to_proto`'s fields).
struct LifecycleFields {
    purchase_date: Option<NaiveDate>,
    warranty_expires: Option<NaiveDate>,
    warranty_status: i32,
    support_status: i32,
    age_days: Option<i64>,
}

impl LifecycleFields {
    fn of(l: &LifecycleRow<'_>, today: NaiveDate) -> LifecycleFields {
        let purchase_date = l.purchase_date.and_then(parse_day);
        let warranty_expires = l.warranty_expires.and_then(parse_day);
        let stated = l.warranty_status.and_then(WarrantyStatus::parse);
        let support = l.support_status.and_then(SupportStatus::parse);
        LifecycleFields {
            purchase_date,
            warranty_expires,
            warranty_status: warranty_status_to_proto(warranty_status(
                stated,
                warranty_expires,
                today,
            )) as i32,
            support_status: support_status_to_proto(support) as i32,
            age_days: age_days(purchase_date, today),
        }
    }
}

impl AssetSink for DecodedAssets {
    fn push(&mut self, a: &ListedRow<'_>) -> rusqlite::Result<()> {
        let lc = LifecycleFields::of(&a.lifecycle, self.today);
        let mut asset = pb::Asset {
            id: a.id,
            source: a.source.to_owned(),
            external_id: a.external_id.to_owned(),
            client: a.client.to_owned(),
            source_client: a.source_client.to_owned(),
            billable: a.billable && a.removed_at.is_none(),
            first_seen: Some(timestamp(a.first_seen)),
            last_seen: a.last_seen.map(timestamp),
            updated_at: a.updated_at.map(timestamp),
            removed_at: a.removed_at.map(timestamp),
            device_id: a.device_id,
            purchase_date: date_text(lc.purchase_date),
            warranty_expires: date_text(lc.warranty_expires),
            warranty_status: lc.warranty_status,
            support_status: lc.support_status,
            age_days: lc.age_days,
            purchase_date_raw: a.lifecycle.purchase_date_raw.to_owned(),
            warranty_expires_raw: a.lifecycle.warranty_expires_raw.to_owned(),
            ..pb::Asset::default()
        };
        asset.merge(a.listed).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(
                LISTED_COLUMN,
                rusqlite::types::Type::Blob,
                format!("asset {}: its stored list fields do not decode: {e}", a.id).into(),
            )
        })?;
        self.assets.push(asset);
        Ok(())
    }
}

/// `asset` as `pb::Asset`'s fields, in field order, defaults left out (proto3), exactly
/// as prost would encode `rpc::asset_to_proto` of it. Fields 6-17 come as stored.
fn encode_asset(a: &ListedRow<'_>, today: NaiveDate, buf: &mut Vec<u8>) {
    int64(tag::ID, a.id, buf);
    string(tag::SOURCE, a.source, buf);
    string(tag::EXTERNAL_ID, a.external_id, buf);
    string(tag::CLIENT, a.client, buf);
    string(tag::SOURCE_CLIENT, a.source_client, buf);
    buf.extend_from_slice(a.listed);
    if a.billable && a.removed_at.is_none() {
        encoding::bool::encode(tag::BILLABLE, &true, buf);
    }
    time(tag::FIRST_SEEN, Some(a.first_seen), buf);
    time(tag::LAST_SEEN, a.last_seen, buf);
    time(tag::UPDATED_AT, a.updated_at, buf);
    time(tag::REMOVED_AT, a.removed_at, buf);
    int64(tag::DEVICE_ID, a.device_id, buf);
    // `raw` (24) stays empty in lists.
    let lc = LifecycleFields::of(&a.lifecycle, today);
    // A stored date is written as stored when it reads as a date: `YYYY-MM-DD` both ways.
    if lc.purchase_date.is_some() {
        string(
            tag::PURCHASE_DATE,
            a.lifecycle.purchase_date.unwrap_or(""),
            buf,
        );
    }
    if lc.warranty_expires.is_some() {
        string(
            tag::WARRANTY_EXPIRES,
            a.lifecycle.warranty_expires.unwrap_or(""),
            buf,
        );
    }
    int64(tag::WARRANTY_STATUS, i64::from(lc.warranty_status), buf);
    int64(tag::SUPPORT_STATUS, i64::from(lc.support_status), buf);
    // `optional int64`: present when known, even when 0.
    if let Some(age) = lc.age_days {
        encoding::int64::encode(tag::AGE_DAYS, &age, buf);
    }
    string(tag::PURCHASE_DATE_RAW, a.lifecycle.purchase_date_raw, buf);
    string(
        tag::WARRANTY_EXPIRES_RAW,
        a.lifecycle.warranty_expires_raw,
        buf,
    );
}

fn int64(tag: u32, v: i64, buf: &mut Vec<u8>) {
    if v != 0 {
        encoding::int64::encode(tag, &v, buf);
    }
}

fn string(tag: u32, s: &str, buf: &mut Vec<u8>) {
    if !s.is_empty() {
        length_delimited(tag, s.as_bytes(), buf);
    }
}

fn length_delimited(tag: u32, bytes: &[u8], buf: &mut Vec<u8>) {
    encoding::encode_key(tag, WireType::LengthDelimited, buf);
    encoding::encode_varint(bytes.len() as u64, buf);
    buf.extend_from_slice(bytes);
}

fn time(tag: u32, t: Option<DateTime<Utc>>, buf: &mut Vec<u8>) {
    if let Some(t) = t {
        encoding::message::encode(tag, &timestamp(t), buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::rpc::asset_to_proto;
    use crate::model::{Category, ReportedAsset, RunKind};
    use crate::model::{
        LifecycleReport, LifecycleScope, SupportStatus, VendorDate, WarrantyFacts, WarrantyStatus,
    };
    use crate::store::tests::{REMOVE_ABSENT, UNDO_MIGRATION_9, run, run_with_lifecycle};
    use crate::store::{AssetFilter, Store};
    use chrono::TimeZone;
    use prost::Message;

    fn at(secs: i64, micros: u32) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, micros * 1000).single().unwrap()
    }

    /// Assets that exercise every field's edge: empty text, non-ASCII, list items that
    /// need JSON escapes or are empty, an unknown `managed`, `managed = false`, a time
    /// before 1970, and (after the second run) removed assets.
    fn records() -> Vec<ReportedAsset> {
        let full = ReportedAsset {
            external_id: "dev-1".into(),
            source_client_id: "t1".into(),
            name: "Zürich core ☃".into(),
            category: Some(Category::Firewall),
            vendor_type: "firewall".into(),
            manufacturer: "Fortinet".into(),
            model: "FG-60F".into(),
            serial: "FGT60F0000000001".into(),
            mac_addresses: vec!["00:11:22:33:44:55".into(), "aa:bb:cc:dd:ee:ff".into()],
            ip_addresses: vec!["10.0.0.1".into(), "fe80::1".into()],
            os: "FortiOS".into(),
            firmware: "7.2.5".into(),
            online_status: "online".into(),
            managed: Some(true),
            last_seen: Some(at(1_700_000_000, 123_456)),
            updated_at: Some(at(-1, 500_000)),
            raw: r#"{"kept":"out of lists"}"#.into(),
        };
        let odd = ReportedAsset {
            external_id: "dev-2".into(),
            source_client_id: "t1".into(),
            name: String::new(),
            category: None,
            mac_addresses: vec!["quote\"and\\backslash".into(), String::new()],
            ip_addresses: vec!["tab\there".into()],
            managed: Some(false),
            ..ReportedAsset::default()
        };
        let unknown_managed = ReportedAsset {
            external_id: "dev-3".into(),
            source_client_id: "t-unknown".into(),
            category: Some(Category::Switch),
            managed: None,
            last_seen: Some(at(0, 0)),
            ..ReportedAsset::default()
        };
        let mut all = vec![full, odd, unknown_managed];
        for i in 4..40 {
            all.push(ReportedAsset {
                external_id: format!("dev-{i}"),
                source_client_id: "t1".into(),
                name: format!("switch {i}"),
                category: Some(Category::Switch),
                serial: format!("SN{i:04}"),
                mac_addresses: vec![format!("00:00:00:00:00:{i:02x}")],
                managed: Some(true),
                ..ReportedAsset::default()
            });
        }
        all
    }

    /// A full run of `records` (client "Contoso").
    fn sync(store: &Store, records: &[ReportedAsset]) {
        run(store, RunKind::Full, records, REMOVE_ABSENT);
    }

    /// The day lifecycle statuses and ages are for in these tests.
    const TODAY: NaiveDate = NaiveDate::from_ymd_opt(2026, 6, 15).unwrap();

    /// Lifecycle facts that exercise every field: dates (one expiring today, one past), a
    /// statement, a support status, text that is not a date, and none at all.
    fn lifecycle_reports() -> Vec<LifecycleReport> {
        let d = |y, m, day| {
            Some(VendorDate::Date(
                NaiveDate::from_ymd_opt(y, m, day).unwrap(),
            ))
        };
        vec![
            LifecycleReport {
                external_id: "dev-1".into(),
                warranty: Some(WarrantyFacts {
                    purchase_date: d(2021, 6, 15),
                    warranty_expires: d(2026, 6, 15),
                    stated: Some(WarrantyStatus::Covered),
                }),
                support: Some(Some(SupportStatus::SecurityOnly)),
            },
            LifecycleReport {
                external_id: "dev-2".into(),
                warranty: Some(WarrantyFacts {
                    purchase_date: Some(VendorDate::Unreadable("last spring".into())),
                    warranty_expires: Some(VendorDate::Unreadable("31/13/2027 ☃".into())),
                    stated: None,
                }),
                support: None,
            },
            LifecycleReport {
                external_id: "dev-3".into(),
                warranty: Some(WarrantyFacts {
                    purchase_date: d(2026, 6, 15),
                    warranty_expires: d(2020, 1, 1),
                    stated: None,
                }),
                support: Some(Some(SupportStatus::Expired)),
            },
            LifecycleReport {
                external_id: "dev-4".into(),
                warranty: Some(WarrantyFacts {
                    stated: Some(WarrantyStatus::NotCovered),
                    ..WarrantyFacts::default()
                }),
                support: Some(None),
            },
        ]
    }

    /// A store holding `records()`, with `lifecycle_reports()` applied by the same run.
    fn synced_store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("a.db")).unwrap();
        run_with_lifecycle(
            &store,
            RunKind::Full,
            &records(),
            &lifecycle_reports(),
            &LifecycleScope::default(),
        );
        (dir, store)
    }

    /// One page both ways: as the agent sends it, and as prost encodes the same assets
    /// read the general way (`Store::list_assets`, `asset_to_proto`).
    struct Both {
        page: Vec<u8>,
        reference: Vec<u8>,
        next_after: Option<i64>,
    }

    fn both(store: &Store, filter: &AssetFilter, limit: usize) -> Both {
        let mut page = AssetPage::new(limit, TODAY);
        store.visit_assets(filter, 0, limit + 1, &mut page).unwrap();
        let mut assets = store.list_assets(filter, 0, limit + 1).unwrap();
        assets.truncate(limit);
        let reference = ListAssetsResponse {
            assets: assets
                .into_iter()
                .map(|a| asset_to_proto(a, TODAY))
                .collect(),
            next_page_token: "token".into(),
            ..ListAssetsResponse::default()
        };
        Both {
            next_after: page.next_after(),
            page: page.into_response("token".into()).encode_to_vec(),
            reference: reference.encode_to_vec(),
        }
    }

    /// ExportAssets' assets (`DecodedAssets`) are `asset_to_proto` of the general read.
    fn assert_decoded_as_read(store: &Store, filter: &AssetFilter) {
        let mut decoded = DecodedAssets::new(TODAY);
        store.visit_assets(filter, 0, 1000, &mut decoded).unwrap();
        let read: Vec<pb::Asset> = store
            .list_assets(filter, 0, 1000)
            .unwrap()
            .into_iter()
            .map(|a| asset_to_proto(a, TODAY))
            .collect();
        assert!(!read.is_empty());
        assert_eq!(decoded.assets, read);
    }

    #[test]
    fn pages_encode_to_the_bytes_prost_writes_for_the_same_assets() {
        let (_dir, store) = synced_store();
        let Both {
            page, reference, ..
        } = both(&store, &AssetFilter::default(), 100);
        assert_eq!(page, reference);
        let decoded = ListAssetsResponse::decode(page.as_slice()).unwrap();
        assert_eq!(decoded.assets.len(), 39);
        let by_id = |id: &str| decoded.assets.iter().find(|a| a.external_id == id).unwrap();
        let full = by_id("dev-1");
        assert_eq!(full.name, "Zürich core ☃");
        assert_eq!(full.client, "Contoso");
        assert_eq!(full.mac_addresses.len(), 2);
        assert_eq!(full.updated_at.unwrap().seconds, -1);
        assert!(full.raw.is_empty(), "lists leave the raw record out");
        assert_eq!(
            by_id("dev-2").mac_addresses,
            vec!["quote\"and\\backslash".to_string(), String::new()]
        );
        assert_eq!(by_id("dev-2").managed, Some(false));
        assert_eq!(by_id("dev-3").managed, None);
        assert_decoded_as_read(&store, &AssetFilter::default());
        // By client: one source client's page reads its client and name once.
        let contoso = AssetFilter {
            client: Some("Contoso".into()),
            ..AssetFilter::default()
        };
        let by_client = both(&store, &contoso, 100);
        assert_eq!(by_client.page, by_client.reference);
        let decoded = ListAssetsResponse::decode(by_client.page.as_slice()).unwrap();
        assert!(!decoded.assets.is_empty());
        assert!(decoded.assets.iter().all(|a| a.client == "Contoso"));
        assert_decoded_as_read(&store, &contoso);

        // Removed assets: `removed_at` is set and they are not billable.
        sync(&store, &records()[..2]);
        let removed = AssetFilter {
            include_removed: true,
            ..AssetFilter::default()
        };
        let Both {
            page, reference, ..
        } = both(&store, &removed, 100);
        assert_eq!(page, reference);
        assert_decoded_as_read(&store, &removed);
        let decoded = ListAssetsResponse::decode(page.as_slice()).unwrap();
        let (kept, removed): (Vec<_>, Vec<_>) = decoded
            .assets
            .iter()
            .partition(|a| a.external_id == "dev-1" || a.external_id == "dev-2");
        assert_eq!(removed.len(), 37);
        assert!(kept.iter().all(|a| a.removed_at.is_none()));
        assert!(kept.iter().any(|a| a.billable));
        assert!(
            removed
                .iter()
                .all(|a| a.removed_at.is_some() && !a.billable)
        );
    }

    /// Assets a later run rewrites (the store's UPDATE, not its INSERT) are listed as they
    /// now are.
    #[test]
    fn changed_assets_are_listed_as_they_now_are() {
        let (_dir, store) = synced_store();
        let mut changed = records();
        changed[0].name = "renamed".into();
        changed[0].mac_addresses = vec![];
        changed[0].managed = Some(false);
        changed[1].category = Some(Category::Server);
        changed[1].ip_addresses = vec!["192.0.2.7".into()];
        changed[2].managed = Some(true);
        sync(&store, &changed);
        let Both {
            page, reference, ..
        } = both(&store, &AssetFilter::default(), 100);
        assert_eq!(page, reference);
        let decoded = ListAssetsResponse::decode(page.as_slice()).unwrap();
        let by_id = |id: &str| decoded.assets.iter().find(|a| a.external_id == id).unwrap();
        assert_eq!(by_id("dev-1").name, "renamed");
        assert!(by_id("dev-1").mac_addresses.is_empty());
        assert_eq!(by_id("dev-1").managed, Some(false));
        assert_eq!(by_id("dev-2").ip_addresses, ["192.0.2.7"]);
        assert_eq!(by_id("dev-3").managed, Some(true));
        assert_decoded_as_read(&store, &AssetFilter::default());
    }

    /// A database from before migration 8 has every asset's listed fields written when it
    /// is opened; a row without them (written by some other tool) is encoded from its
    /// columns when it is listed.
    #[test]
    fn listed_fields_are_filled_for_older_databases_and_rows_lacking_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        sync(&Store::open(&path).unwrap(), &records());
        let sql = |batch: &str| {
            rusqlite::Connection::open(&path)
                .unwrap()
                .execute_batch(batch)
                .unwrap()
        };
        // As migration 7 left it.
        sql(&format!(
            "{UNDO_MIGRATION_9} ALTER TABLE assets DROP COLUMN listed; PRAGMA user_version = 7;"
        ));
        let store = Store::open(&path).unwrap();
        let Both {
            page, reference, ..
        } = both(&store, &AssetFilter::default(), 100);
        assert_eq!(page, reference);
        let unfilled: i64 = rusqlite::Connection::open(&path)
            .unwrap()
            .query_row(
                "SELECT COUNT(*) FROM assets WHERE listed IS NULL",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(unfilled, 0);

        sql("UPDATE assets SET listed = NULL WHERE external_id IN ('dev-1', 'dev-2')");
        let Both {
            page, reference, ..
        } = both(&store, &AssetFilter::default(), 100);
        assert_eq!(page, reference);
        assert_eq!(
            ListAssetsResponse::decode(page.as_slice())
                .unwrap()
                .assets
                .len(),
            39
        );
        assert_decoded_as_read(&store, &AssetFilter::default());

        // Stored bytes that do not decode are an error, not an asset with fields missing.
        sql("UPDATE assets SET listed = x'ff' WHERE external_id = 'dev-3'");
        let mut decoded = DecodedAssets::new(TODAY);
        let err = store
            .visit_assets(&AssetFilter::default(), 0, 1000, &mut decoded)
            .unwrap_err();
        assert!(err.to_string().contains("do not decode"), "{err}");
    }

    #[test]
    fn a_page_tells_whether_another_follows() {
        let (_dir, store) = synced_store();
        let all = AssetFilter::default();
        let ten = both(&store, &all, 10);
        assert_eq!(ten.page, ten.reference);
        let tenth = store.list_assets(&all, 0, 10).unwrap()[9].id;
        assert_eq!(ten.next_after, Some(tenth));
        let whole = both(&store, &all, 39);
        assert_eq!(whole.next_after, None, "exactly one page: no next");
        let none = AssetFilter {
            client: Some("nobody".into()),
            ..AssetFilter::default()
        };
        let empty = both(&store, &none, 10);
        assert_eq!(empty.next_after, None);
        let decoded = ListAssetsResponse::decode(empty.page.as_slice()).unwrap();
        assert!(decoded.assets.is_empty());
        assert_eq!(decoded.next_page_token, "token");
    }

    #[test]
    fn a_decoded_response_encodes_back_to_its_bytes() {
        let (_dir, store) = synced_store();
        let bytes = both(&store, &AssetFilter::default(), 5).page;
        let decoded = ListAssetsResponse::decode(bytes.as_slice()).unwrap();
        assert_eq!(decoded.encoded_len(), bytes.len());
        assert_eq!(decoded.encode_to_vec(), bytes);
        // Unknown fields are skipped, as generated code does.
        let mut with_unknown = bytes.clone();
        encoding::string::encode(99, &"later field".to_string(), &mut with_unknown);
        let decoded = ListAssetsResponse::decode(with_unknown.as_slice()).unwrap();
        assert_eq!(decoded.assets.len(), 5);
    }
}
