//! Connectors: one module per vendor, each turning that vendor's API into `model` records.
//!
//! The boundary: a connector gets a `FetchContext` (what kind of run, since when, where to
//! send records, a cancellation token, counters) and streams `Batch`es into it. It knows
//! nothing of SQLite, scheduling or gRPC; adding a vendor is one new module here plus one
//! arm in `connector_for`.

pub mod auvik;
pub mod http;
pub mod passportal;
pub mod ratelimit;
pub mod syncro;

use crate::config::{SourceConfig, VendorConfig};
use crate::model::{
    Category, Coverage, LifecycleReport, LifecycleScope, ReportedAsset, RunKind, SourceClient,
    VendorDate, VendorUsage,
};
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicI64;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Records a connector streams to the sync layer, page by page.
#[derive(Debug)]
pub enum Batch {
    Clients(Vec<SourceClient>),
    Assets(Vec<ReportedAsset>),
    /// The vendor's own billing figures (Auvik's billing usage), for reconciliation.
    Usage(Vec<VendorUsage>),
    /// The vendor's billing figures cannot be read, and why (with what to do). Not a run
    /// failure: the inventory is what a run is for.
    UsageUnavailable(String),
    /// Records the connector knows did not change since they were stored (by their
    /// `FetchContext::known` version), by external id: seen, and not read again.
    Unchanged(Vec<String>),
    /// What the vendor says of assets' warranty and support, where the run read it (the
    /// parts a report leaves `None` keep their stored values).
    Lifecycle(Vec<LifecycleReport>),
    /// Source clients whose lifecycle listings were read to the end: their assets without a
    /// report for a part have nothing for it (the vendor lists only the assets it has data
    /// for). Sent after their reports.
    LifecycleRead(LifecycleScope),
}

/// Live figures of a run, read by progress reports.
#[derive(Debug, Default)]
pub struct Progress {
    pub http: http::Counters,
    pub clients_done: AtomicI64,
    pub clients_total: AtomicI64,
}

impl Progress {
    /// A run's figures whose requests also count in its source's metrics.
    pub fn for_source(metrics: Arc<crate::metrics::SourceMetrics>) -> Progress {
        Progress {
            http: http::Counters {
                metrics: Some(metrics),
                ..http::Counters::default()
            },
            ..Progress::default()
        }
    }
}

pub struct FetchContext {
    pub kind: RunKind,
    /// For incremental runs: fetch what changed after this instant.
    pub modified_since: Option<DateTime<Utc>>,
    /// For incremental runs of connectors that ask for it (`Connector::wants_known`): the
    /// vendor's last-modified time of each stored present record, by external id.
    pub known: Arc<HashMap<String, DateTime<Utc>>>,
    pub sink: mpsc::Sender<Batch>,
    pub progress: Arc<Progress>,
    pub cancel: CancellationToken,
}

impl FetchContext {
    /// Hands a batch to the sync layer; waits while it is busy writing (backpressure keeps
    /// memory flat however large the inventory).
    pub async fn send(&self, batch: Batch) -> Result<(), VendorError> {
        tokio::select! {
            _ = self.cancel.cancelled() => Err(VendorError::Cancelled),
            r = self.sink.send(batch) => r.map_err(|_| VendorError::SinkClosed),
        }
    }
}

/// How a fetch ended when it did not fail outright.
#[derive(Debug, Default)]
pub struct FetchOutcome {
    /// What the run read to the end: a full run's removals stay inside it. The default,
    /// `Coverage::Nothing`, removes nothing, so a connector that forgets to say cannot remove.
    pub coverage: Coverage,
    /// Units (an Auvik tenant; a whole listing) that could not be read to the end, each
    /// with why and what to do. A run with any is partial; their assets stay as they were.
    pub skipped_units: Vec<String>,
    /// Records the vendor listed but would not let the run read, each with why. A run with
    /// any is partial; known ones stay as they were, unknown ones are not invented.
    pub skipped_records: Vec<SkippedRecord>,
    /// The vendor's clock when the run began (its `Date` header), where it gave one: the
    /// next incremental run's window is measured from it rather than from our clock.
    pub vendor_started: Option<DateTime<Utc>>,
    /// A unit failed for a reason that may pass (throttling, a server error, a timeout), so
    /// its changes since the last run were not read: the next incremental run asks again
    /// from where this one's window began, rather than from this run's start, which would
    /// skip them until the next full run. Units that are refused or unavailable for good do
    /// not set it (they would hold every window back).
    pub keep_window: bool,
    /// What the run could not read or understand that is not inventory (warranty and support
    /// data, which are best-effort), each with why and what to do. They go in the run's
    /// message and the log; they never make the run partial, change a count or hold back a
    /// removal: the assets they concern keep their stored lifecycle values.
    pub notes: Vec<String>,
}

/// A listed record that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedRecord {
    pub external_id: String,
    /// Why, in a few words that group alike records ("the key may not open it").
    pub why: String,
}

/// What the vendor says of a record a full run found absent (`Connector::confirm_absent`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presence {
    /// The vendor says it no longer exists (its single-record lookup answered "not found").
    Gone,
    /// The vendor still has it: the listing missed it (a row that moved between pages, or
    /// one the listing hides).
    Present,
    /// The vendor could not say (no lookup, or the lookup failed): the asset is kept until
    /// a second complete run finds it absent again.
    Unknown(String),
    /// The vendor would not let us look (an Auvik 403: the API user may no longer see the
    /// asset's tenant): kept, and never counted towards its removal, however often it is
    /// absent, because a refusal says nothing of whether it exists. The run's message says
    /// how many were kept so, with why and what to do.
    Refused(String),
}

#[derive(Debug, thiserror::Error)]
pub enum VendorError {
    /// The vendor refused the credentials: stop calling it until they change.
    #[error("{0}")]
    CredentialsRejected(String),
    /// The vendor redirected: the account lives at another address (for Auvik, another
    /// region). Calls stop until the config changes; redirects are never followed.
    #[error("{0}")]
    WrongRegion(String),
    #[error("{0}")]
    Http(String),
    #[error("{0}")]
    Transport(String),
    /// The vendor's answer could not be understood (cut short, not JSON, the wrong shape,
    /// paging that loops). Said with what to do, once, for every such case.
    #[error(
        "{0}; nothing was changed and the next run will retry. If this persists, check for a proxy \
         between assetd and the vendor, or the vendor's API has changed"
    )]
    Decode(String),
    #[error("cancelled")]
    Cancelled,
    /// The sync layer stopped taking records (it reports its own error).
    #[error("the run's writer stopped")]
    SinkClosed,
}

impl VendorError {
    /// What kind of failure this is, as `assetd_sync_errors_total{reason}` names it; `None`
    /// for a cancellation, which is no failure of the vendor's or ours.
    pub fn reason(&self) -> Option<&'static str> {
        Some(match self {
            VendorError::CredentialsRejected(_) => "credentials_rejected",
            VendorError::WrongRegion(_) => "wrong_region",
            VendorError::Http(_) => "http",
            VendorError::Transport(_) => "transport",
            VendorError::Decode(_) => "decode",
            // The writer stopped first and failed the run with its own (storage) error.
            VendorError::SinkClosed => "storage",
            VendorError::Cancelled => return None,
        })
    }

    /// Whether the source must stop calling the vendor until its config changes.
    pub fn stops_calls(&self) -> bool {
        matches!(
            self,
            VendorError::CredentialsRejected(_) | VendorError::WrongRegion(_)
        )
    }
}

pub trait Connector: Send + Sync {
    /// Whether incremental runs fetch less than full ones.
    fn supports_incremental(&self) -> bool;
    /// Whether incremental runs want `FetchContext::known` (the stored records' versions).
    fn wants_known(&self) -> bool {
        false
    }
    fn fetch<'a>(
        &'a self,
        ctx: &'a FetchContext,
    ) -> BoxFuture<'a, Result<FetchOutcome, VendorError>>;
    /// Asks the vendor, record by record, whether the records a complete full run did not
    /// see (by external id) are really gone; one answer per id, in order. The default is a
    /// vendor without a single-record lookup: it cannot say.
    fn confirm_absent<'a>(
        &'a self,
        _ctx: &'a FetchContext,
        external_ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<Presence>, VendorError>> {
        let answers = external_ids
            .iter()
            .map(|_| Presence::Unknown("the vendor has no single-record lookup".into()))
            .collect();
        Box::pin(async move { Ok(answers) })
    }
}

pub fn connector_for(source: &SourceConfig) -> Result<Arc<dyn Connector>, VendorError> {
    let limits = &source.limits;
    let route = &http::Route::for_source(&source.base_url, &source.proxy)?;
    match &source.vendor {
        VendorConfig::Auvik(cfg) => Ok(Arc::new(auvik::Auvik::new(
            source.base_url.clone(),
            cfg.clone(),
            limits,
            route,
        )?)),
        VendorConfig::Syncro(cfg) => Ok(Arc::new(syncro::Syncro::new(
            source.base_url.clone(),
            cfg.clone(),
            limits,
            route,
        )?)),
        VendorConfig::Passportal(cfg) => Ok(Arc::new(passportal::Passportal::new(
            source.base_url.clone(),
            cfg.clone(),
            limits,
            route,
        )?)),
    }
}

/// `base` joined with a relative API `path`, plus query pairs (encoded).
pub fn endpoint(
    base: &url::Url,
    path: &str,
    query: &[(&str, &str)],
) -> Result<url::Url, VendorError> {
    let mut url = base
        .join(path)
        .map_err(|e| VendorError::Http(format!("bad URL for {path} under {base}: {e}")))?;
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    Ok(url)
}

/// Decodes the HTML entities vendors leave in names (`&amp;`, `&#39;`, `&#x27;`, ...)
/// and trims, so that names compare character for character (CONTRACT §5 Clients).
pub fn clean_name(s: &str) -> String {
    if !s.contains('&') {
        return s.trim().to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let decoded = rest.find(';').filter(|&end| end <= 10).and_then(|end| {
            let entity = &rest[1..end];
            let ch = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => entity
                    .strip_prefix("#x")
                    .or_else(|| entity.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            }?;
            Some((ch, end))
        });
        match decoded {
            Some((ch, end)) => {
                out.push(ch);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out.trim().to_string()
}

/// The category of the first keyword of `table` found in `text` as whole words ("nas" is not
/// found in "dynasty", nor "ups" in "groups"): how the vendors whose asset types are free text
/// (Syncro, Passportal) are mapped, each with its own table, specific words first.
pub fn keyword_category(table: &[(&str, Category)], text: &str) -> Option<Category> {
    let text = text.to_ascii_lowercase();
    // Whole-word matches, so "nas" does not match "dynasty" nor "ups" "groups".
    let words: Vec<&str> = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let padded = format!(" {} ", words.join(" "));
    table
        .iter()
        .find(|(keyword, _)| {
            let k = keyword.replace('-', " ");
            padded.contains(&format!(" {k} "))
        })
        .map(|(_, c)| *c)
}

/// A date as MSPs and vendors type it into a date field, read without guessing
/// (CONTRACT §4 lifecycle): ISO `YYYY-MM-DD` (with or without a time after it, as Auvik's
/// `2015-07-31T00:00:00.000Z`: the calendar date as written), US `MM/DD/YYYY` and European
/// `DD.MM.YYYY` (one- or two-digit day and month). Anything else, including a date that does
/// not exist (`02/30/2024`) or a two-digit year, is kept as given (`VendorDate::Unreadable`).
/// Empty text, and what vendors write for "none" (`N/A`, `none`, `-`, …), is no date at all
/// (`None`).
pub fn typed_date(text: &str) -> Option<VendorDate> {
    let t = text.trim();
    const NONE: [&str; 8] = ["", "-", "--", "n/a", "na", "none", "null", "please select"];
    if NONE.contains(&t.to_ascii_lowercase().as_str()) {
        return None;
    }
    let number = |s: &str, max_len: usize| -> Option<u32> {
        (!s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let ymd = |y: &str, m: &str, d: &str| -> Option<chrono::NaiveDate> {
        if y.len() != 4 {
            return None;
        }
        chrono::NaiveDate::from_ymd_opt(
            i32::try_from(number(y, 4)?).ok()?,
            number(m, 2)?,
            number(d, 2)?,
        )
    };
    let date = if let Some(iso) = t.get(..10).filter(|d| {
        let b = d.as_bytes();
        b[4] == b'-' && b[7] == b'-'
    }) {
        // A time may follow the date ("T00:00:00.000Z", " 00:00"); a date inside other
        // text may not.
        let rest = &t[10..];
        let time_follows = rest.is_empty()
            || (rest.starts_with(['T', ' '])
                && rest[1..].starts_with(|c: char| c.is_ascii_digit()));
        if time_follows {
            ymd(&iso[..4], &iso[5..7], &iso[8..10])
        } else {
            None
        }
    } else if let [m, d, y] = t.split('/').collect::<Vec<_>>()[..] {
        ymd(y, m, d)
    } else if let [d, m, y] = t.split('.').collect::<Vec<_>>()[..] {
        ymd(y, m, d)
    } else {
        None
    };
    Some(match date {
        Some(d) => VendorDate::Date(d),
        None => VendorDate::Unreadable(t.chars().take(200).collect()),
    })
}

/// `00-1a-2b-3c-4d-5e`, `001A2B3C4D5E` → `00:1A:2B:3C:4D:5E`; None for non-MACs and zeros.
pub fn normalise_mac(s: &str) -> Option<String> {
    let hex: String = s
        .chars()
        .filter(|c| c.is_ascii_hexdigit())
        .collect::<String>()
        .to_ascii_uppercase();
    let separators_ok = s
        .chars()
        .all(|c| c.is_ascii_hexdigit() || matches!(c, ':' | '-' | '.' | ' '));
    if hex.len() != 12 || !separators_ok || hex.chars().all(|c| c == '0') {
        return None;
    }
    Some(
        hex.as_bytes()
            .chunks(2)
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect::<Vec<_>>()
            .join(":"),
    )
}

#[cfg(test)]
mod tests {
    use super::{clean_name, typed_date};
    use crate::model::VendorDate;

    #[test]
    fn typed_dates_read_the_formats_msps_type_and_keep_the_rest() {
        let d = |y, m, day| {
            Some(VendorDate::Date(
                chrono::NaiveDate::from_ymd_opt(y, m, day).unwrap(),
            ))
        };
        let raw = |t: &str| Some(VendorDate::Unreadable(t.to_string()));
        assert_eq!(typed_date("2027-03-31"), d(2027, 3, 31));
        assert_eq!(typed_date(" 2027-03-31 "), d(2027, 3, 31));
        assert_eq!(typed_date("2015-07-31T00:00:00.000Z"), d(2015, 7, 31));
        assert_eq!(typed_date("2015-07-31 00:00"), d(2015, 7, 31));
        assert_eq!(typed_date("03/31/2027"), d(2027, 3, 31));
        assert_eq!(typed_date("3/4/2027"), d(2027, 3, 4));
        assert_eq!(typed_date("31.03.2027"), d(2027, 3, 31));
        assert_eq!(typed_date("4.3.2027"), d(2027, 3, 4));
        for none in ["", "  ", "N/A", "none", "-", "Please Select", "null"] {
            assert_eq!(typed_date(none), None, "{none:?}");
        }
        // Never guessed: day-first with slashes, impossible dates, two-digit years, words.
        for odd in [
            "31/03/2027",
            "02/30/2024",
            "2027-02-30",
            "03/31/27",
            "31.3.27",
            "2027/03/31",
            "March 2027",
            "3 years",
            "2027-03-31x",
            "Covered until 2027-03-31",
            "20270331",
        ] {
            assert_eq!(typed_date(odd), raw(odd), "{odd:?}");
        }
    }

    #[test]
    fn html_entities_are_decoded() {
        assert_eq!(clean_name(" Smith &amp; Sons "), "Smith & Sons");
        assert_eq!(
            clean_name("O&#39;Brien &#x27;s &quot;IT&quot;"),
            "O'Brien 's \"IT\""
        );
        assert_eq!(clean_name("R&D & Co"), "R&D & Co");
        assert_eq!(clean_name("&bogus;"), "&bogus;");
    }
}
