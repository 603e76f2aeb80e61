//! Reads for the API: pages of assets (as `Asset`s, or as `ListedRow`s handed to an
//! `AssetSink`), one asset with its raw record, field history, runs, and merged devices.
//!
//! Each read takes a pooled read-only connection (`Store::with_reader`), so it sees the
//! database as the last committed run left it, never a run half applied. Pages run in id
//! order after a cursor. A filter becomes clauses for the filters given only, so SQLite
//! can pick an index for each shape, and every value a bound parameter, never text
//! spliced into SQL (`list_assets_sql`).

use super::counts::cutoff_text;
use super::lifecycle::DEVICE_LIFECYCLE_RANK;
use super::rows::{
    ASSET_SELECT, AssetSink, LISTED_SELECT, LISTED_SELECT_ONE_CLIENT, ListedRow, RUN_SELECT,
    asset_from_row, run_from_row,
};
use super::{Result, Store, day, parse_day, parse_ts, ts};
use crate::model::{Asset, AssetChange, Category, SupportStatus, SyncRun, WarrantyStatus};
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, ToSql, params};

/// Filters of `list_assets` (all optional; `None` means any).
#[derive(Debug, Clone, Default)]
pub struct AssetFilter {
    pub source: Option<String>,
    pub client: Option<String>,
    pub category: Option<Category>,
    pub query: Option<String>,
    /// Only assets last seen online before this instant.
    pub last_seen_before: Option<DateTime<Utc>>,
    pub include_removed: bool,
    /// Assets removed after this instant still count as present (`removed_grace`).
    pub removed_grace_cutoff: Option<DateTime<Utc>>,
    pub lifecycle: LifecycleFilter,
}

/// The lifecycle filters of `list_assets` and `list_devices` (CONTRACT §7), for one day.
#[derive(Debug, Clone, Default)]
pub struct LifecycleFilter {
    /// The day the filters are for (the agent's UTC date).
    pub today: NaiveDate,
    /// Only warranties still covered that expire within `[today, until]`: the devices the
    /// lifecycle summary counts as expiring.
    pub expires_until: Option<NaiveDate>,
    /// Only warranties whose status on `today` is `expired`.
    pub expired: bool,
    /// Only what was purchased on or before this day (at least so many days old).
    pub purchased_by: Option<NaiveDate>,
}

impl LifecycleFilter {
    fn is_empty(&self) -> bool {
        self.expires_until.is_none() && !self.expired && self.purchased_by.is_none()
    }
}

/// One merged device, for listings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRow {
    pub id: i64,
    pub client: String,
    pub name: String,
    pub category: String,
    pub serial: String,
    pub sources: Vec<String>,
    pub asset_ids: Vec<i64>,
    pub managed: Option<bool>,
    pub billable: bool,
    /// The earliest purchase date and the latest warranty expiry of its members, each with
    /// the source that gave it (ScalePad's rule for dates that disagree).
    pub purchase_date: Option<(NaiveDate, String)>,
    pub warranty_expires: Option<(NaiveDate, String)>,
    /// On the filter's day: the most favourable of its members' (`WarrantyStatus::rank`).
    pub warranty_status: WarrantyStatus,
    pub support_status: Option<SupportStatus>,
}

impl Store {
    /// One page of assets in id order after `after_id`.
    pub fn list_assets(
        &self,
        filter: &AssetFilter,
        after_id: i64,
        limit: usize,
    ) -> Result<Vec<Asset>> {
        self.with_reader(|c| {
            let Some(((sql, args), _)) =
                page_query(c, (ASSET_SELECT, ASSET_SELECT), filter, after_id, limit)?
            else {
                return Ok(Vec::new());
            };
            let mut st = c.prepare_cached(&sql)?;
            let params: Vec<&dyn ToSql> = args.iter().map(|b| b.as_ref()).collect();
            let page = st
                .query_map(params.as_slice(), asset_from_row)?
                .collect::<rusqlite::Result<_>>()?;
            Ok(page)
        })
    }

    /// Hands `sink` the same page as `list_assets`, each asset as a `ListedRow` borrowed
    /// from its row.
    pub fn visit_assets<S: AssetSink + ?Sized>(
        &self,
        filter: &AssetFilter,
        after_id: i64,
        limit: usize,
        sink: &mut S,
    ) -> Result<()> {
        self.with_reader(|c| {
            let selects = (LISTED_SELECT, LISTED_SELECT_ONE_CLIENT);
            let Some(((sql, args), one)) = page_query(c, selects, filter, after_id, limit)? else {
                return Ok(());
            };
            let mut st = c.prepare_cached(&sql)?;
            let params: Vec<&dyn ToSql> = args.iter().map(|b| b.as_ref()).collect();
            let mut rows = st.query(params.as_slice())?;
            while let Some(r) = rows.next()? {
                let mut row = ListedRow::read(r)?;
                if let Some(sc) = &one {
                    row.client = &sc.client;
                    row.source_client = &sc.name;
                }
                sink.push(&row)?;
            }
            Ok(())
        })
    }

    /// One asset with its raw vendor record (lists leave `raw` out: it can be large).
    pub fn get_asset(&self, id: i64) -> Result<Option<Asset>> {
        self.with_reader(|c| {
            let asset = c
                .prepare_cached(&format!("{ASSET_SELECT} WHERE a.id = ?1"))?
                .query_row([id], asset_from_row)
                .optional()?;
            let Some(mut asset) = asset else {
                return Ok(None);
            };
            asset.record.raw =
                c.query_row("SELECT raw FROM assets WHERE id = ?1", [id], |r| r.get(0))?;
            Ok(Some(asset))
        })
    }

    /// History rows in id order after `after_id`; `asset_id == 0` lists every asset's.
    pub fn list_changes(
        &self,
        asset_id: i64,
        after_id: i64,
        limit: usize,
    ) -> Result<Vec<(i64, AssetChange)>> {
        self.with_reader(|c| {
            let mut st = c.prepare_cached(
                "SELECT id, asset_id, run_id, changed_at, field, old_value, new_value FROM asset_changes
                 WHERE id > ?1 AND (?2 = 0 OR asset_id = ?2) ORDER BY id LIMIT ?3",
            )?;
            let rows = st
                .query_map(params![after_id, asset_id, limit as i64], |r| {
                    Ok((
                        r.get(0)?,
                        AssetChange {
                            asset_id: r.get(1)?,
                            run_id: r.get(2)?,
                            changed_at: parse_ts(&r.get::<_, String>(3)?).unwrap_or_default(),
                            field: r.get(4)?,
                            old_value: r.get(5)?,
                            new_value: r.get(6)?,
                        },
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }

    pub fn get_run(&self, id: i64) -> Result<Option<SyncRun>> {
        self.with_reader(|c| {
            Ok(c.prepare_cached(&format!("{RUN_SELECT} WHERE id = ?1"))?
                .query_row([id], run_from_row)
                .optional()?)
        })
    }

    /// Runs newest first, with ids below `before_id` (0: from the newest).
    pub fn list_runs(
        &self,
        source: Option<&str>,
        before_id: i64,
        limit: usize,
    ) -> Result<Vec<SyncRun>> {
        self.with_reader(|c| {
            let mut st = c.prepare_cached(&format!(
                "{RUN_SELECT} WHERE (?1 = 0 OR id < ?1) AND (?2 IS NULL OR source = ?2) ORDER BY id DESC LIMIT ?3"
            ))?;
            let rows = st
                .query_map(params![before_id, source, limit as i64], run_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }

    /// Devices in id order after `after_id`, optionally of one client, under `lifecycle`'s
    /// filters (for its day).
    pub fn list_devices(
        &self,
        client: Option<&str>,
        grace_cutoff: Option<DateTime<Utc>>,
        lifecycle: &LifecycleFilter,
        after_id: i64,
        limit: usize,
    ) -> Result<Vec<DeviceRow>> {
        let cutoff = cutoff_text(grace_cutoff);
        // A device's dates come with their source: `MIN(date || ' ' || source)` is the
        // earliest date (text order is date order; source names have no space), ties broken
        // by source name, and NULL dates are left out.
        let mut having = Vec::new();
        if let Some(until) = lifecycle.expires_until {
            having.push(format!(
                "{DEVICE_LIFECYCLE_RANK} = 4 AND MAX(a.warranty_expires) BETWEEN ?5 AND '{}'",
                day(until)
            ));
        }
        if lifecycle.expired {
            having.push(format!("{DEVICE_LIFECYCLE_RANK} = 3"));
        }
        if let Some(by) = lifecycle.purchased_by {
            having.push(format!("MIN(a.purchase_date) <= '{}'", day(by)));
        }
        let having = if having.is_empty() {
            String::new()
        } else {
            format!("HAVING {}", having.join(" AND "))
        };
        let sql = format!(
            "SELECT a.device_id, MIN(sc.client), MIN(a.name), MAX(CASE WHEN a.billable THEN a.category END),
               MIN(a.category), MAX(a.serial), GROUP_CONCAT(a.source, ','), GROUP_CONCAT(a.id, ','),
               MAX(a.managed), MAX(a.billable),
               MIN(a.purchase_date || ' ' || a.source), MAX(a.warranty_expires || ' ' || a.source),
               {DEVICE_LIFECYCLE_RANK},
               MAX(CASE a.support_status
                     WHEN 'covered' THEN 5 WHEN 'available' THEN 4 WHEN 'security_only' THEN 3
                     WHEN 'unpublished' THEN 2 WHEN 'expired' THEN 1 ELSE 0 END)
             FROM assets a LEFT JOIN source_clients sc ON sc.id = a.source_client_id
             WHERE (a.removed_at IS NULL OR a.removed_at > ?1) AND a.device_id > ?2
               AND (?3 IS NULL OR a.device_id IN (SELECT a2.device_id FROM assets a2
                    JOIN source_clients s2 ON s2.id = a2.source_client_id WHERE s2.client = ?3))
             GROUP BY a.device_id {having} ORDER BY a.device_id LIMIT ?4"
        );
        // `?5`, the day, is bound only where a clause names it; the dates spliced in above
        // are formatted here from `NaiveDate`s, never caller text.
        let today = day(lifecycle.today);
        self.with_reader(|c| {
            let mut st = c.prepare_cached(&sql)?;
            let dated = |v: Option<String>| {
                v.and_then(|v| {
                    let (d, source) = v.split_once(' ')?;
                    Some((parse_day(d)?, source.to_owned()))
                })
            };
            let row = |r: &rusqlite::Row| {
                let billable_category: Option<String> = r.get(3)?;
                let mut sources: Vec<String> = r
                    .get::<_, String>(6)?
                    .split(',')
                    .map(str::to_string)
                    .collect();
                sources.sort();
                sources.dedup();
                Ok(DeviceRow {
                    id: r.get(0)?,
                    client: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                    name: r.get(2)?,
                    category: billable_category.map_or_else(|| r.get(4), Ok)?,
                    serial: r.get(5)?,
                    sources,
                    asset_ids: r
                        .get::<_, String>(7)?
                        .split(',')
                        .filter_map(|i| i.parse().ok())
                        .collect(),
                    managed: r.get(8)?,
                    billable: r.get(9)?,
                    purchase_date: dated(r.get(10)?),
                    warranty_expires: dated(r.get(11)?),
                    warranty_status: WarrantyStatus::from_rank(r.get(12)?),
                    support_status: SupportStatus::from_rank(r.get(13)?),
                })
            };
            let rows = st
                .query_map(params![cutoff, after_id, client, limit as i64, today], row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }
}

/// The query for one page under `filter`, or `None` when the filter names a client no
/// source client is linked to. `select` joins each asset's source client; when the filter
/// comes down to one source client, `select_one` (which may leave the join out) is used
/// and that source client's client and name are returned with the query.
fn page_query(
    c: &Connection,
    (select, select_one): (&str, &str),
    filter: &AssetFilter,
    after_id: i64,
    limit: usize,
) -> rusqlite::Result<Option<(PageQuery, Option<OneSourceClient>)>> {
    // A client is most often one source's client: naming its row lets SQLite walk the
    // (source_client_id, id) index in id order and stop after one page, where
    // `IN (subquery)` reads and sorts every asset the client has.
    let linked: Option<Vec<OneSourceClient>> = match &filter.client {
        None => None,
        Some(cl) => Some(
            c.prepare_cached(
                "SELECT id, client, name FROM source_clients
                 WHERE client = ?1 AND (?2 IS NULL OR source = ?2)",
            )?
            .query_map(params![cl, filter.source], |r| {
                Ok(OneSourceClient {
                    id: r.get(0)?,
                    client: r.get(1)?,
                    name: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?,
        ),
    };
    let ids: Option<Vec<i64>> = linked.as_ref().map(|l| l.iter().map(|sc| sc.id).collect());
    if ids.as_ref().is_some_and(|ids| ids.is_empty()) {
        return Ok(None);
    }
    let one = linked.filter(|l| l.len() == 1).and_then(|mut l| l.pop());
    let select = if one.is_some() { select_one } else { select };
    let query = list_assets_sql(select, filter, after_id, limit, ids.as_deref());
    Ok(Some((query, one)))
}

/// The one source client a page's assets all belong to.
struct OneSourceClient {
    id: i64,
    client: String,
    name: String,
}

/// A page's SQL and its bound arguments.
type PageQuery = (String, Vec<Box<dyn ToSql>>);

/// The query for one page of `select` (`ASSET_SELECT` or `LISTED_SELECT`), with its
/// arguments. `linked` is the client filter resolved to its source clients (never empty).
fn list_assets_sql(
    select: &str,
    filter: &AssetFilter,
    after_id: i64,
    limit: usize,
    linked: Option<&[i64]>,
) -> PageQuery {
    // Clauses are added only for the filters given, so SQLite can pick an index for
    // each shape; every value is a bound parameter.
    let mut args: Vec<Box<dyn ToSql>> = Vec::new();
    let mut bind = |v: Box<dyn ToSql>| {
        args.push(v);
        format!("?{}", args.len())
    };
    let mut sql = format!("{select} WHERE a.id > {}", bind(Box::new(after_id)));
    if let Some(s) = &filter.source {
        sql += &format!(" AND a.source = {}", bind(Box::new(s.clone())));
    }
    match (linked, &filter.client) {
        (Some([one]), _) => {
            sql += &format!(" AND a.source_client_id = {}", bind(Box::new(*one)));
        }
        (_, Some(cl)) => {
            sql += &format!(
                " AND a.source_client_id IN (SELECT id FROM source_clients WHERE client = {})",
                bind(Box::new(cl.clone()))
            );
        }
        (_, None) => {}
    }
    if let Some(cat) = filter.category {
        sql += &format!(" AND a.category = {}", bind(Box::new(cat.as_str())));
    }
    if let Some(before) = filter.last_seen_before {
        sql += &format!(" AND a.last_seen < {}", bind(Box::new(ts(before))));
    }
    if !filter.include_removed {
        let cutoff = cutoff_text(filter.removed_grace_cutoff);
        sql += &format!(
            " AND (a.removed_at IS NULL OR a.removed_at > {})",
            bind(Box::new(cutoff))
        );
    }
    let lc = &filter.lifecycle;
    if !lc.is_empty() {
        let today = day(lc.today);
        if let Some(until) = lc.expires_until {
            // Covered and expiring in the window: stated neither `not_covered` nor `expired`.
            sql += &format!(
                " AND a.warranty_expires >= {} AND a.warranty_expires <= {} AND COALESCE(a.warranty_status, 'covered') = 'covered'",
                bind(Box::new(today.clone())),
                bind(Box::new(day(until)))
            );
        }
        if lc.expired {
            // `model::warranty_status` is `expired` on `today`.
            let p = bind(Box::new(today));
            sql += &format!(
                " AND (a.warranty_status = 'expired' OR (COALESCE(a.warranty_status, 'covered') = 'covered' AND a.warranty_expires < {p}))"
            );
        }
        if let Some(by) = lc.purchased_by {
            sql += &format!(" AND a.purchase_date <= {}", bind(Box::new(day(by))));
        }
    }
    if let Some(q) = &filter.query {
        let escaped = q
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let p = bind(Box::new(format!("%{escaped}%")));
        let like: Vec<String> = [
            "a.name",
            "a.serial",
            "a.model",
            "a.manufacturer",
            "a.ip_addresses",
            "a.mac_addresses",
            "a.external_id",
        ]
        .iter()
        .map(|col| format!("{col} LIKE {p} ESCAPE '\\'"))
        .collect();
        sql += &format!(" AND ({})", like.join(" OR "));
    }
    sql += &format!(" ORDER BY a.id LIMIT {}", limit.min(100_000));
    (sql, args)
}
