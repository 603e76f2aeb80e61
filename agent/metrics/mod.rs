//! Metrics: what every source's syncs and vendor requests did since the agent started, and
//! their rendering in Prometheus' text format (`text`); `server::metrics` serves them on
//! `agent.metrics_listen`.
//!
//! The registry lives as long as the process (the sync engine owns it), so a config reload
//! resets nothing: counters only grow until a restart, as Prometheus expects. Labels are
//! the source's `[[source]]` name and its vendor kind, and the small fixed sets below
//! (outcome, change, status class, reason): never client names, URLs or anything secret.

pub mod text;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use text::{Kind, Writer};

/// How a vendor request ended, for `assetd_vendor_requests_total{status_class}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusClass {
    Informational,
    Success,
    Redirect,
    ClientError,
    ServerError,
    /// No HTTP response: the connection failed, timed out or broke, or the run was cancelled.
    NoResponse,
}

impl StatusClass {
    const ALL: [StatusClass; 6] = [
        StatusClass::Informational,
        StatusClass::Success,
        StatusClass::Redirect,
        StatusClass::ClientError,
        StatusClass::ServerError,
        StatusClass::NoResponse,
    ];

    pub fn of(status: u16) -> StatusClass {
        match status {
            100..=199 => StatusClass::Informational,
            200..=299 => StatusClass::Success,
            300..=399 => StatusClass::Redirect,
            400..=499 => StatusClass::ClientError,
            _ => StatusClass::ServerError,
        }
    }

    fn label(self) -> &'static str {
        match self {
            StatusClass::Informational => "1xx",
            StatusClass::Success => "2xx",
            StatusClass::Redirect => "3xx",
            StatusClass::ClientError => "4xx",
            StatusClass::ServerError => "5xx",
            StatusClass::NoResponse => "error",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// How a run ended, for `assetd_sync_runs_total{outcome}`.
pub const OUTCOMES: [&str; 4] = ["ok", "partial", "failed", "cancelled"];

/// Why a run failed, for `assetd_sync_errors_total{reason}`.
pub const REASONS: [&str; 7] = [
    "credentials_rejected",
    "wrong_region",
    "http",
    "transport",
    "decode",
    "timeout",
    "storage",
];

/// Upper bounds of the sync duration histogram's buckets, in seconds: from a small tenant's
/// seconds to a large Syncro scan's hour and the 6 h `run_timeout`.
const DURATION_BUCKETS: [f64; 12] = [
    1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0, 21600.0,
];

/// One finished run, as the sync layer reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunReport {
    /// One of [`OUTCOMES`].
    pub outcome: &'static str,
    /// For a failed run, one of [`REASONS`].
    pub reason: Option<&'static str>,
    pub duration: Duration,
    pub fetched: u64,
    pub added: u64,
    pub updated: u64,
    pub removed: u64,
}

#[derive(Debug, Default)]
struct RunTotals {
    outcomes: [u64; OUTCOMES.len()],
    reasons: [u64; REASONS.len()],
    /// Cumulative counts per bucket of [`DURATION_BUCKETS`] (then +Inf = `count`).
    buckets: [u64; DURATION_BUCKETS.len()],
    count: u64,
    sum_seconds: f64,
    last_seconds: Option<f64>,
    fetched: u64,
    added: u64,
    updated: u64,
    removed: u64,
}

/// The metrics of one source. Request counters are atomics, bumped by the HTTP client as
/// each response arrives, so a long run shows while it runs; run totals change once a run.
#[derive(Debug)]
pub struct SourceMetrics {
    source: String,
    vendor: &'static str,
    responses: [AtomicU64; StatusClass::ALL.len()],
    retries: AtomicU64,
    /// Times the source's task panicked and was restarted (`sync::SourceTask::supervise`).
    task_restarts: AtomicU64,
    runs: Mutex<RunTotals>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl SourceMetrics {
    fn new(source: &str, vendor: &'static str) -> SourceMetrics {
        SourceMetrics {
            source: source.to_owned(),
            vendor,
            responses: Default::default(),
            retries: AtomicU64::new(0),
            task_restarts: AtomicU64::new(0),
            runs: Mutex::new(RunTotals::default()),
        }
    }

    /// A vendor request ended (one attempt; a retried request counts once per attempt).
    pub fn request(&self, class: StatusClass) {
        self.responses[class.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// A failed attempt is about to be retried.
    pub fn retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    /// The source's task panicked and is restarted.
    pub fn task_restarted(&self) {
        self.task_restarts.fetch_add(1, Ordering::Relaxed);
    }

    pub fn run_finished(&self, r: &RunReport) {
        let mut t = lock(&self.runs);
        if let Some(i) = OUTCOMES.iter().position(|o| *o == r.outcome) {
            t.outcomes[i] += 1;
        }
        if let Some(i) = r.reason.and_then(|x| REASONS.iter().position(|y| *y == x)) {
            t.reasons[i] += 1;
        }
        let secs = r.duration.as_secs_f64();
        for (i, bound) in DURATION_BUCKETS.iter().enumerate() {
            if secs <= *bound {
                t.buckets[i] += 1;
            }
        }
        t.count += 1;
        t.sum_seconds += secs;
        t.last_seconds = Some(secs);
        t.fetched += r.fetched;
        t.added += r.added;
        t.updated += r.updated;
        t.removed += r.removed;
    }
}

/// Every source's metrics since the start. Sources are keyed by name and vendor: a source
/// renamed or moved to another vendor by a reload starts its own series, and the old ones
/// stay (counters never go back).
#[derive(Debug, Default)]
pub struct Metrics {
    sources: Mutex<BTreeMap<(String, &'static str), Arc<SourceMetrics>>>,
}

/// What the agent knows now, sampled at each scrape, beside the counters.
#[derive(Debug, Clone, Default)]
pub struct Gauges {
    /// Whether the last config reload was accepted (true before any reload).
    pub config_ok: bool,
    pub sources: Vec<SourceGauge>,
}

#[derive(Debug, Clone)]
pub struct SourceGauge {
    pub source: String,
    pub vendor: String,
    /// One of [`SOURCE_STATES`].
    pub state: &'static str,
    /// Present assets.
    pub assets: i64,
    /// When its last successful (`ok`) run finished, Unix seconds; 0 when none has.
    pub last_success: f64,
    /// Its last finished run's counts: what it could not read and what it held.
    pub last_run: crate::model::RunCounts,
}

/// The states of `assetd_source_state{state}`, as `assetctl sources` names them.
pub const SOURCE_STATES: [&str; 7] = [
    "pending",
    "ok",
    "syncing",
    "partial",
    "failed",
    "credentials_rejected",
    "removals_held",
];

impl Metrics {
    /// The metrics of `source`, made at its first use.
    pub fn source(&self, source: &str, vendor: &'static str) -> Arc<SourceMetrics> {
        lock(&self.sources)
            .entry((source.to_owned(), vendor))
            .or_insert_with(|| Arc::new(SourceMetrics::new(source, vendor)))
            .clone()
    }

    /// The whole exposition: the counters kept here and `gauges`.
    pub fn render(&self, gauges: &Gauges) -> String {
        let sources: Vec<Arc<SourceMetrics>> = lock(&self.sources).values().cloned().collect();
        let mut w = Writer::default();

        w.family(
            "assetd_build_info",
            Kind::Gauge,
            "Always 1; the version label says which assetd this is.",
        );
        w.sample(
            "assetd_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))],
            1.0,
        );
        w.family(
            "assetd_config_last_reload_successful",
            Kind::Gauge,
            "1 if the config file on disk is the one running; 0 if the last change was refused (assetctl status says why).",
        );
        w.sample(
            "assetd_config_last_reload_successful",
            &[],
            if gauges.config_ok { 1.0 } else { 0.0 },
        );

        w.family(
            "assetd_source_state",
            Kind::Gauge,
            "1 for the state each configured source is in, 0 for the others.",
        );
        for g in &gauges.sources {
            for state in SOURCE_STATES {
                let on = if g.state == state { 1.0 } else { 0.0 };
                w.sample(
                    "assetd_source_state",
                    &[
                        ("source", &g.source),
                        ("vendor", &g.vendor),
                        ("state", state),
                    ],
                    on,
                );
            }
        }
        w.family(
            "assetd_assets",
            Kind::Gauge,
            "Present (not removed) assets of each source.",
        );
        for g in &gauges.sources {
            w.sample(
                "assetd_assets",
                &[("source", &g.source), ("vendor", &g.vendor)],
                g.assets as f64,
            );
        }
        for (name, help, value) in [
            (
                "assetd_source_skipped_units",
                "Units (an Auvik tenant; a whole listing) the source's last run could not read to the end; their assets were kept as they were (assetctl runs says which and why).",
                (|c: &crate::model::RunCounts| c.skipped_units)
                    as fn(&crate::model::RunCounts) -> i64,
            ),
            (
                "assetd_source_skipped_records",
                "Records the source's last run could not read (e.g. documents the key may not open); they were kept as they were.",
                |c| c.skipped,
            ),
            (
                "assetd_source_removals_held",
                "Removals the source's last run held, being more than max_removals allow; `assetctl sync SOURCE --full --accept-removals` applies them.",
                |c| c.removals_held,
            ),
        ] {
            w.family(name, Kind::Gauge, help);
            for g in &gauges.sources {
                w.sample(
                    name,
                    &[("source", &g.source), ("vendor", &g.vendor)],
                    value(&g.last_run) as f64,
                );
            }
        }
        w.family(
            "assetd_sync_last_success_timestamp_seconds",
            Kind::Gauge,
            "When the source's last successful (ok) run finished, in Unix seconds; 0 if none has.",
        );
        for g in &gauges.sources {
            w.sample(
                "assetd_sync_last_success_timestamp_seconds",
                &[("source", &g.source), ("vendor", &g.vendor)],
                g.last_success,
            );
        }

        let runs: Vec<(&SourceMetrics, RunTotalsView)> = sources
            .iter()
            .map(|s| (s.as_ref(), RunTotalsView::of(s)))
            .collect();
        let labels =
            |s: &SourceMetrics| [("source", s.source.clone()), ("vendor", s.vendor.into())];

        w.family(
            "assetd_sync_runs_total",
            Kind::Counter,
            "Sync runs finished, by outcome (ok, partial, failed, cancelled).",
        );
        for (s, t) in &runs {
            let [src, ven] = labels(s);
            for (i, outcome) in OUTCOMES.iter().enumerate() {
                w.sample(
                    "assetd_sync_runs_total",
                    &[(src.0, &src.1), (ven.0, &ven.1), ("outcome", outcome)],
                    t.outcomes[i] as f64,
                );
            }
        }
        w.family(
            "assetd_sync_errors_total",
            Kind::Counter,
            "Failed sync runs, by reason (credentials_rejected, wrong_region, http, transport, decode, timeout, storage).",
        );
        for (s, t) in &runs {
            let [src, ven] = labels(s);
            for (i, reason) in REASONS.iter().enumerate() {
                w.sample(
                    "assetd_sync_errors_total",
                    &[(src.0, &src.1), (ven.0, &ven.1), ("reason", reason)],
                    t.reasons[i] as f64,
                );
            }
        }
        w.family(
            "assetd_sync_duration_seconds",
            Kind::Histogram,
            "How long sync runs took, start to end, whatever their outcome.",
        );
        for (s, t) in &runs {
            let [src, ven] = labels(s);
            for (i, bound) in DURATION_BUCKETS.iter().enumerate() {
                let le = text::format_value(*bound);
                w.sample(
                    "assetd_sync_duration_seconds_bucket",
                    &[(src.0, &src.1), (ven.0, &ven.1), ("le", &le)],
                    t.buckets[i] as f64,
                );
            }
            w.sample(
                "assetd_sync_duration_seconds_bucket",
                &[(src.0, &src.1), (ven.0, &ven.1), ("le", "+Inf")],
                t.count as f64,
            );
            w.sample(
                "assetd_sync_duration_seconds_sum",
                &[(src.0, &src.1), (ven.0, &ven.1)],
                t.sum_seconds,
            );
            w.sample(
                "assetd_sync_duration_seconds_count",
                &[(src.0, &src.1), (ven.0, &ven.1)],
                t.count as f64,
            );
        }
        w.family(
            "assetd_sync_last_duration_seconds",
            Kind::Gauge,
            "How long the source's last finished run took.",
        );
        for (s, t) in &runs {
            if let Some(last) = t.last_seconds {
                let [src, ven] = labels(s);
                w.sample(
                    "assetd_sync_last_duration_seconds",
                    &[(src.0, &src.1), (ven.0, &ven.1)],
                    last,
                );
            }
        }
        w.family(
            "assetd_sync_assets_fetched_total",
            Kind::Counter,
            "Asset records the vendor returned, over all runs.",
        );
        for (s, t) in &runs {
            let [src, ven] = labels(s);
            w.sample(
                "assetd_sync_assets_fetched_total",
                &[(src.0, &src.1), (ven.0, &ven.1)],
                t.fetched as f64,
            );
        }
        w.family(
            "assetd_sync_assets_total",
            Kind::Counter,
            "Assets written by runs, by change: new (first seen), changed (a field changed), removed (gone from a complete full sync).",
        );
        for (s, t) in &runs {
            let [src, ven] = labels(s);
            for (change, n) in [
                ("new", t.added),
                ("changed", t.updated),
                ("removed", t.removed),
            ] {
                w.sample(
                    "assetd_sync_assets_total",
                    &[(src.0, &src.1), (ven.0, &ven.1), ("change", change)],
                    n as f64,
                );
            }
        }

        w.family(
            "assetd_vendor_requests_total",
            Kind::Counter,
            "HTTP requests to the vendor (each attempt), by status class (1xx-5xx, or error: no response).",
        );
        for s in &sources {
            let [src, ven] = labels(s);
            for class in StatusClass::ALL {
                w.sample(
                    "assetd_vendor_requests_total",
                    &[
                        (src.0, &src.1),
                        (ven.0, &ven.1),
                        ("status_class", class.label()),
                    ],
                    s.responses[class.index()].load(Ordering::Relaxed) as f64,
                );
            }
        }
        w.family(
            "assetd_vendor_retries_total",
            Kind::Counter,
            "Vendor requests retried (throttled, 5xx, timed out or connection failed).",
        );
        for s in &sources {
            let [src, ven] = labels(s);
            w.sample(
                "assetd_vendor_retries_total",
                &[(src.0, &src.1), (ven.0, &ven.1)],
                s.retries.load(Ordering::Relaxed) as f64,
            );
        }
        w.family(
            "assetd_source_task_restarts_total",
            Kind::Counter,
            "Times a source's task failed on an internal error (a bug) and was restarted; alert on any.",
        );
        for s in &sources {
            let [src, ven] = labels(s);
            w.sample(
                "assetd_source_task_restarts_total",
                &[(src.0, &src.1), (ven.0, &ven.1)],
                s.task_restarts.load(Ordering::Relaxed) as f64,
            );
        }
        w.finish()
    }
}

/// A copy of a source's run totals, taken under its lock once per scrape.
struct RunTotalsView {
    outcomes: [u64; OUTCOMES.len()],
    reasons: [u64; REASONS.len()],
    buckets: [u64; DURATION_BUCKETS.len()],
    count: u64,
    sum_seconds: f64,
    last_seconds: Option<f64>,
    fetched: u64,
    added: u64,
    updated: u64,
    removed: u64,
}

impl RunTotalsView {
    fn of(s: &SourceMetrics) -> RunTotalsView {
        let t = lock(&s.runs);
        RunTotalsView {
            outcomes: t.outcomes,
            reasons: t.reasons,
            buckets: t.buckets,
            count: t.count,
            sum_seconds: t.sum_seconds,
            last_seconds: t.last_seconds,
            fetched: t.fetched,
            added: t.added,
            updated: t.updated,
            removed: t.removed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(text: &str) -> BTreeMap<String, f64> {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.rsplit_once(' '))
            .map(|(k, v)| (k.to_owned(), v.parse().expect("a value")))
            .collect()
    }

    #[test]
    fn runs_and_requests_add_up_per_source_and_never_reset() {
        let m = Metrics::default();
        let a = m.source("auvik", "auvik");
        a.request(StatusClass::of(200));
        a.request(StatusClass::of(429));
        a.request(StatusClass::NoResponse);
        a.retry();
        a.run_finished(&RunReport {
            outcome: "ok",
            reason: None,
            duration: Duration::from_millis(2500),
            fetched: 10,
            added: 10,
            updated: 0,
            removed: 0,
        });
        // The same source asked for again (a reload) is the same counters.
        let again = m.source("auvik", "auvik");
        again.run_finished(&RunReport {
            outcome: "failed",
            reason: Some("transport"),
            duration: Duration::from_secs(40),
            fetched: 0,
            added: 0,
            updated: 0,
            removed: 0,
        });
        let gauges = Gauges {
            config_ok: false,
            sources: vec![SourceGauge {
                source: "auvik".into(),
                vendor: "auvik".into(),
                state: "failed",
                assets: 10,
                last_success: 1_700_000_000.0,
                last_run: crate::model::RunCounts {
                    skipped: 5,
                    skipped_units: 2,
                    removals_held: 30,
                    ..Default::default()
                },
            }],
        };
        let text = m.render(&gauges);
        let s = samples(&text);
        let l = |rest: &str| format!("{{source=\"auvik\",vendor=\"auvik\"{rest}}}");
        assert_eq!(s[&format!("assetd_source_skipped_records{}", l(""))], 5.0);
        assert_eq!(s[&format!("assetd_source_skipped_units{}", l(""))], 2.0);
        assert_eq!(s[&format!("assetd_source_removals_held{}", l(""))], 30.0);
        assert_eq!(
            s[&format!("assetd_sync_runs_total{}", l(",outcome=\"ok\""))],
            1.0
        );
        assert_eq!(
            s[&format!("assetd_sync_runs_total{}", l(",outcome=\"failed\""))],
            1.0
        );
        assert_eq!(
            s[&format!("assetd_sync_runs_total{}", l(",outcome=\"cancelled\""))],
            0.0
        );
        assert_eq!(
            s[&format!("assetd_sync_errors_total{}", l(",reason=\"transport\""))],
            1.0
        );
        assert_eq!(
            s[&format!("assetd_sync_assets_total{}", l(",change=\"new\""))],
            10.0
        );
        assert_eq!(
            s[&format!("assetd_sync_assets_fetched_total{}", l(""))],
            10.0
        );
        assert_eq!(
            s[&format!("assetd_vendor_requests_total{}", l(",status_class=\"2xx\""))],
            1.0
        );
        assert_eq!(
            s[&format!("assetd_vendor_requests_total{}", l(",status_class=\"4xx\""))],
            1.0
        );
        assert_eq!(
            s[&format!(
                "assetd_vendor_requests_total{}",
                l(",status_class=\"error\"")
            )],
            1.0
        );
        assert_eq!(s[&format!("assetd_vendor_retries_total{}", l(""))], 1.0);
        assert_eq!(
            s[&format!("assetd_source_task_restarts_total{}", l(""))],
            0.0
        );
        // Histogram buckets are cumulative: 2.5 s in le=5 and up, 40 s in le=60 and up.
        assert_eq!(
            s[&format!("assetd_sync_duration_seconds_bucket{}", l(",le=\"1\""))],
            0.0
        );
        assert_eq!(
            s[&format!("assetd_sync_duration_seconds_bucket{}", l(",le=\"5\""))],
            1.0
        );
        assert_eq!(
            s[&format!("assetd_sync_duration_seconds_bucket{}", l(",le=\"60\""))],
            2.0
        );
        assert_eq!(
            s[&format!("assetd_sync_duration_seconds_bucket{}", l(",le=\"+Inf\""))],
            2.0
        );
        assert_eq!(
            s[&format!("assetd_sync_duration_seconds_count{}", l(""))],
            2.0
        );
        assert_eq!(
            s[&format!("assetd_sync_duration_seconds_sum{}", l(""))],
            42.5
        );
        assert_eq!(
            s[&format!("assetd_sync_last_duration_seconds{}", l(""))],
            40.0
        );
        assert_eq!(
            s[&format!("assetd_source_state{}", l(",state=\"failed\""))],
            1.0
        );
        assert_eq!(
            s[&format!("assetd_source_state{}", l(",state=\"ok\""))],
            0.0
        );
        assert_eq!(s[&format!("assetd_assets{}", l(""))], 10.0);
        assert_eq!(s["assetd_config_last_reload_successful"], 0.0);
        assert_eq!(
            s[&format!(
                "assetd_build_info{{version=\"{}\"}}",
                env!("CARGO_PKG_VERSION")
            )],
            1.0
        );
        // One TYPE line per family, before its samples.
        let mut typed = std::collections::BTreeSet::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let name = rest.split(' ').next().unwrap_or_default();
                assert!(typed.insert(name.to_owned()), "{name} typed twice");
            } else if !line.starts_with('#') {
                let name = line.split(['{', ' ']).next().unwrap_or_default();
                let family = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|s| name.strip_suffix(s).filter(|f| typed.contains(*f)))
                    .unwrap_or(name);
                assert!(typed.contains(family), "{name} before its TYPE");
            }
        }
    }
}
