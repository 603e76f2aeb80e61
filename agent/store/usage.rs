//! The vendors' own billing figures (Auvik's billing usage), kept beside assetd's own
//! counts so the two can be compared per client and month, and the note on a source whose
//! figures cannot be read (the API user may not be allowed to read billing).
//!
//! A run stages the figures it fetched (`Store::stage_usage`); they land with the run
//! (`apply_usage`), replacing the stored ones for the same client and month.

use super::{Result, Store, parse_ts};
use chrono::{DateTime, Utc};
use rusqlite::params;

/// A vendor's billing figure for one assetd client and month, beside assetd's own.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageRow {
    pub client: String,
    /// Sum over the client's members in that source of the vendor's average billable devices.
    pub average_billable: f64,
    /// The most days any member's figure covers.
    pub days: i64,
    pub fetched_at: Option<DateTime<Utc>>,
}

/// assetd's own daily average of `total_billable` over a month, unrounded.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnAverage {
    pub client: String,
    pub average_billable: f64,
    /// Days of the month with a snapshot.
    pub days: i64,
}

/// A source whose billing figures are missing, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageSource {
    pub source: String,
    pub kind: String,
    /// Why its figures are missing ("" when nothing is known to be wrong).
    pub note: String,
    /// Whether it has figures for the month asked about.
    pub has_period: bool,
}

impl Store {
    /// The vendors' billing figures for `month`, summed per assetd client.
    pub fn vendor_usage(&self, month: &str) -> Result<Vec<UsageRow>> {
        self.with_reader(|c| {
            let mut st = c.prepare_cached(
                "SELECT sc.client, SUM(v.average_billable), MAX(v.days), MAX(v.fetched_at)
                 FROM vendor_usage v JOIN source_clients sc ON sc.source = v.source AND sc.external_id = v.external_id
                 WHERE v.period = ?1 AND sc.client != '' GROUP BY sc.client ORDER BY sc.client",
            )?;
            let rows = st
                .query_map([month], |r| {
                    Ok(UsageRow {
                        client: r.get(0)?,
                        average_billable: r.get(1)?,
                        days: r.get(2)?,
                        fetched_at: r.get::<_, Option<String>>(3)?.as_deref().and_then(parse_ts),
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }

    /// assetd's daily average of `total_billable` per client over `month`, unrounded.
    pub fn own_averages(&self, month: &str) -> Result<Vec<OwnAverage>> {
        self.with_reader(|c| {
            let mut st = c.prepare_cached(
                "SELECT client, AVG(total_billable), COUNT(*) FROM billable_snapshots
                 WHERE day LIKE ?1 || '-%' GROUP BY client ORDER BY client",
            )?;
            let rows = st
                .query_map([month], |r| {
                    Ok(OwnAverage {
                        client: r.get(0)?,
                        average_billable: r.get(1)?,
                        days: r.get(2)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }

    /// Every source with its billing-usage note and whether it has figures for `month`.
    pub fn usage_sources(&self, month: &str) -> Result<Vec<UsageSource>> {
        self.with_reader(|c| {
            let mut st = c.prepare_cached(
                "SELECT s.name, s.kind, s.billing_note,
                   EXISTS (SELECT 1 FROM vendor_usage v WHERE v.source = s.name AND v.period = ?1)
                 FROM sources s ORDER BY s.name",
            )?;
            let rows = st
                .query_map([month], |r| {
                    Ok(UsageSource {
                        source: r.get(0)?,
                        kind: r.get(1)?,
                        note: r.get(2)?,
                        has_period: r.get(3)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }

    /// Records why a source's billing figures cannot be read ("" when they can). Returns
    /// whether the note changed, so the caller says so once rather than on every run.
    pub fn set_billing_note(&self, source: &str, note: &str) -> Result<bool> {
        self.with_writer(|c| {
            let n = c.execute(
                "UPDATE sources SET billing_note = ?2 WHERE name = ?1 AND billing_note != ?2",
                params![source, note],
            )?;
            Ok(n > 0)
        })
    }
}
