//! SyncroMSP (API v1): customers are clients, customer assets are assets.
//!
//! Syncro has no "changed since" filter for assets, so every run is a full scan with
//! change detection in the store. Pages are walked by `meta.total_pages` without assuming
//! a page size (it differs per endpoint and has changed over time). Every request waits
//! for the budget shared by all sources on the same host: Syncro allows 180 requests per
//! minute per IP address, and a 429 without `Retry-After` waits for the next minute's
//! window. Each asset is kept verbatim (`raw`) next to the canonical fields, because
//! `properties` is free-form and can hold keys that differ only by case.
//!
//! The one unit a run reads is the whole asset listing (a listing per customer would cost a
//! request per customer). It counts as read to the end only when the walk ended where
//! Syncro said it would and collected at least as many distinct assets as Syncro's
//! `meta.total_entries` promised: pages have no documented order, so rows can move between
//! pages during a long scan, and a page that repeats the one before it (a server that
//! ignores `page`) or comes back empty before the promised end stops the walk at once. An
//! asset missing from a complete listing is looked up by id before it is removed.
//!
//! Syncro has no warranty fields on assets; MSPs keep warranty expiry and purchase dates in
//! asset custom properties, named per source (`warranty_property`, `purchase_property`), in
//! the formats people type. Where they are configured, every asset read says what those
//! properties hold (nothing, a date, or text that is not a date: kept as given, noted).
//! Facts and quirks: Syncro's published swagger (`syncro-swagger.json`) and what public API clients learned; each quirk handled
//! here names its evidence where it is handled (the team's vendor notes collect them).

pub mod config;
// For tests/properties and fuzz/ only (not an API).
#[doc(hidden)]
pub mod decoders;
use super::http::{Failure, HttpClient, RetryPolicy, Route, ThrottlePolicy, is_web_page, redact};
use super::ratelimit::RateLimiter;
use super::{
    Batch, Connector, FetchContext, FetchOutcome, Presence, VendorError, clean_name,
    keyword_category, normalise_mac, typed_date,
};
use crate::config::RunLimits;
use crate::model::{
    Category, Coverage, LifecycleReport, ReportedAsset, SourceClient, VendorDate, WarrantyFacts,
};
use chrono::{DateTime, Utc};
use config::SyncroConfig;
use futures_util::future::BoxFuture;
use futures_util::{StreamExt, stream};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// More pages than any real account has: past it, paging is broken.
const MAX_PAGES: u64 = 100_000;

pub struct Syncro {
    http: HttpClient,
    base: url::Url,
    config: SyncroConfig,
    /// The customers the last listing named (ids): an asset whose customer is not among
    /// them (disabled, and not synced) is out of scope, so its lookup confirms its removal.
    customers: std::sync::Mutex<Option<HashSet<String>>>,
}

/// Which request budget a Syncro base URL spends. Syncro counts requests per calling IP
/// address, over every account (spec: "180 requests per minute per IP address"), so every
/// source on `*.syncromsp.com` shares one budget whatever its subdomain; any other host (a
/// `base_url` through a gateway, a simulator) has its own.
fn budget_key(base: &url::Url) -> String {
    let host = base.host_str().unwrap_or("").to_ascii_lowercase();
    if host == "syncromsp.com" || host.ends_with(".syncromsp.com") {
        return "syncromsp.com".to_owned();
    }
    format!("{host}:{}", base.port_or_known_default().unwrap_or(0))
}

impl Syncro {
    pub fn new(
        base: url::Url,
        config: SyncroConfig,
        limits: &RunLimits,
        route: &Route,
    ) -> Result<Syncro, VendorError> {
        let limiter = RateLimiter::shared(&budget_key(&base), config.requests_per_minute);
        // A 429 means the minute's budget is spent (another tool behind the same address,
        // or another agent): wait for the next minute's window, as Syncro sends no
        // `Retry-After` (when it does, that wins), for up to three windows (a third of
        // `max_throttle_wait` each, when it is set).
        let budget = limits.max_throttle_wait.unwrap_or(Duration::from_secs(180));
        let http = HttpClient::new(
            route,
            RetryPolicy::with_retries(limits.max_retries),
            limits.request_timeout,
            Arc::new(|_, _| false),
        )?
        .with_limiter(limiter)
        .with_throttle(ThrottlePolicy {
            budget,
            first_wait: (budget / 3).min(Duration::from_secs(60)),
            doubling: false,
        });
        Ok(Syncro {
            http,
            base,
            config,
            customers: std::sync::Mutex::new(None),
        })
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> Result<url::Url, VendorError> {
        super::endpoint(&self.base, path, query)
    }

    async fn get(&self, url: &url::Url, ctx: &FetchContext) -> Result<String, VendorError> {
        // Bearer in a header: the token never goes into a URL (or a log line with one).
        let auth = |rb: reqwest::RequestBuilder| rb.bearer_auth(self.config.api_key.expose());
        match self
            .http
            .get_json(url, &auth, &ctx.progress.http, &ctx.cancel)
            .await
        {
            Ok(r) => Ok(r.body),
            Err(Err(e)) => Err(e),
            Err(Ok(f)) => Err(self.explain(url, &f)),
        }
    }

    fn explain(&self, url: &url::Url, f: &Failure) -> VendorError {
        let what = redact(url);
        match f.status.as_u16() {
            // Syncro answers 401 both for a bad token and for a good one without the
            // permission; only the body tells them apart. Either way: stop calling.
            401 if f.body.to_ascii_lowercase().contains("permission") => {
                VendorError::CredentialsRejected(format!(
                    "Syncro accepted the API token but it lacks permissions (401 from {what}): give the token \
                 \"Customers - List/Search\", \"Assets - List/Search\" and \"Assets - View Details\" in Syncro \
                 (Admin > API Tokens); assetd will not call Syncro again until the token in the config changes"
                ))
            }
            401 => VendorError::CredentialsRejected(format!(
                "Syncro rejected the API token (401 from {what}): check `api_key` of this source (a token from \
                 Admin > API Tokens, not expired); assetd will not call Syncro again until it changes in the config"
            )),
            403 => VendorError::Http(format!(
                "Syncro refused access (403 from {what}): the token's user may not read this data{}",
                error_detail(&f.body)
            )),
            404 => VendorError::Http(format!(
                "Syncro answered 404 from {what}: check `subdomain` (https://SUBDOMAIN.syncromsp.com){}",
                error_detail(&f.body)
            )),
            429 => VendorError::Http(format!(
                "Syncro kept rate-limiting requests (429 from {what}) for longer than this source waits ({}): \
                 another tool on this IP address may share the 180/min budget; lower `requests_per_minute` for \
                 this source, or raise `max_throttle_wait`",
                humantime::format_duration(self.http.throttle_budget())
            )),
            s if s >= 500 => VendorError::Http(format!(
                "Syncro had a server error ({s} from {what}) after several retries; the next run will retry"
            )),
            301 | 302 | 307 | 308 => VendorError::WrongRegion(format!(
                "Syncro answered {} from {what} (a redirect{}): check the source's `subdomain` (and `base_url`); \
                 assetd does not follow redirects, which could carry the API key elsewhere, and will not call \
                 Syncro again until the config changes",
                f.status.as_u16(),
                f.location
                    .as_deref()
                    .map(|l| format!(" to {l}"))
                    .unwrap_or_default()
            )),
            s => VendorError::Http(format!(
                "Syncro answered {s} from {what}{}; the next run will retry",
                error_detail(&f.body)
            )),
        }
    }

    fn fetch_all<'a>(
        &'a self,
        ctx: &'a FetchContext,
    ) -> BoxFuture<'a, Result<FetchOutcome, VendorError>> {
        Box::pin(async move {
            let (customers, customers_short) = self.customers(ctx).await?;
            let known: HashSet<String> = customers.iter().map(|c| c.external_id.clone()).collect();
            *self.customers.lock().unwrap_or_else(|p| p.into_inner()) = Some(known.clone());
            ctx.progress
                .clients_total
                .store(customers.len() as i64, Ordering::Relaxed);
            ctx.send(Batch::Clients(customers)).await?;
            let mut odd_dates = OddDates::default();
            let scan = self.assets(ctx, &known, &mut odd_dates).await?;
            ctx.progress.clients_done.store(
                ctx.progress.clients_total.load(Ordering::Relaxed),
                Ordering::Relaxed,
            );
            let notes = odd_dates.note().into_iter().collect();
            // A customer the walk missed has its assets left out of this run: they must not
            // be taken for removed, so the run vouches for nothing (its assets stay as they
            // were; everything read still lands).
            let mut outcome = match scan {
                Scan::Complete => FetchOutcome {
                    coverage: Coverage::Everything,
                    notes,
                    ..FetchOutcome::default()
                },
                Scan::Incomplete(why) => FetchOutcome {
                    skipped_units: vec![format!("the asset listing: {why}")],
                    notes,
                    ..FetchOutcome::default()
                },
            };
            if let Some(why) = customers_short {
                outcome.coverage = Coverage::Nothing;
                outcome
                    .skipped_units
                    .insert(0, format!("the customer list: {why}"));
            }
            Ok(outcome)
        })
    }

    /// Walks the customer list to its end. With the customers, why the walk cannot vouch
    /// that it saw every one, if so: Syncro promised more (`meta.total_entries`) than the
    /// distinct customers it listed. The list's order is undocumented, and a customer
    /// disabled (or added) while the walk runs moves every later row by one place, so a
    /// walk can miss a customer without any page failing; its assets would then look
    /// deleted.
    async fn customers(
        &self,
        ctx: &FetchContext,
    ) -> Result<(Vec<SourceClient>, Option<String>), VendorError> {
        let mut out = Vec::new();
        let mut page = 1u64;
        let mut previous: Vec<i64> = Vec::new();
        let mut collected = Collected::default();
        loop {
            let page_s = page.to_string();
            let mut query = vec![("page", page_s.as_str())];
            if self.config.include_disabled_customers {
                query.push(("include_disabled", "true"));
            }
            let url = self.url("api/v1/customers", &query)?;
            let body = self.get(&url, ctx).await?;
            let parsed: CustomersPage = decode(&url, &body)?;
            let ids: Vec<i64> = parsed.customers.iter().map(|c| c.id).collect();
            // A customer list cut short would leave its customers' assets out, and a full
            // run would then take them for removed: a list that repeats fails the run.
            if !ids.is_empty() && ids == previous {
                return Err(VendorError::Decode(format!(
                    "{}: Syncro sent page {} of the customers again (its paging ignores `page`?)",
                    redact(&url),
                    page
                )));
            }
            let empty = parsed.customers.is_empty();
            collected.page(&ids, parsed.meta.as_ref());
            out.extend(
                parsed
                    .customers
                    .into_iter()
                    .filter(|c| {
                        self.config.include_disabled_customers || !c.disabled.unwrap_or(false)
                    })
                    .map(Customer::into_client),
            );
            match next_page(page, parsed.meta.as_ref(), empty) {
                Paging::Next => {}
                Paging::Done => {
                    let short = collected.short().map(|(total, seen)| {
                        format!(
                            "Syncro promised {total} customers but the walk collected {seen} \
                             distinct ones (a customer was disabled or added while it ran?), so the assets of a \
                             customer it missed were left out and nothing was removed; the assets read were kept, \
                             and the next run will retry"
                        )
                    });
                    return Ok((out, short));
                }
                Paging::EndedEarly(why) => {
                    return Err(VendorError::Decode(format!("{}: {why}", redact(&url))));
                }
            }
            page = advance(page, &url)?;
            previous = ids;
        }
    }

    /// Walks the asset listing to its end, handing each page on. `Scan::Incomplete` when the
    /// walk cannot vouch that it saw every asset (see the module docs).
    async fn assets(
        &self,
        ctx: &FetchContext,
        customers: &HashSet<String>,
        odd_dates: &mut OddDates,
    ) -> Result<Scan, VendorError> {
        let mut page = 1u64;
        let mut collected = Collected::default();
        let mut previous: Vec<i64> = Vec::new();
        loop {
            let page_s = page.to_string();
            let url = self.url("api/v1/customer_assets", &[("page", page_s.as_str())])?;
            let body = self.get(&url, ctx).await?;
            let parsed: AssetsPage = decode(&url, &body)?;
            let empty = parsed.assets.is_empty();
            let mut records = Vec::with_capacity(parsed.assets.len());
            let mut lifecycle = Vec::new();
            let mut ids = Vec::with_capacity(parsed.assets.len());
            for raw in &parsed.assets {
                let record = page_record(&url, raw)?;
                if let Ok(id) = record.external_id.parse::<i64>() {
                    ids.push(id);
                }
                // Assets of customers left out (disabled, unless asked for) are left out too.
                if customers.contains(&record.source_client_id) {
                    let names = (
                        self.config.warranty_property.as_deref(),
                        self.config.purchase_property.as_deref(),
                    );
                    if let Some(report) = lifecycle_report(raw, names, odd_dates) {
                        lifecycle.push(report);
                    }
                    records.push(record);
                }
            }
            if !empty && ids == previous {
                return Ok(Scan::Incomplete(format!(
                    "Syncro sent page {page} with exactly the assets of page {} (its paging ignores `page`, or \
                     loops), so the walk stopped there; the assets read were kept, nothing was removed, and the \
                     next run will retry",
                    page - 1
                )));
            }
            collected.page(&ids, parsed.meta.as_ref());
            if !records.is_empty() {
                ctx.send(Batch::Assets(records)).await?;
            }
            if !lifecycle.is_empty() {
                ctx.send(Batch::Lifecycle(lifecycle)).await?;
            }
            match next_page(page, parsed.meta.as_ref(), empty) {
                Paging::Next => {}
                Paging::Done => break,
                Paging::EndedEarly(why) => {
                    return Ok(Scan::Incomplete(format!(
                        "{why}; the assets read were kept, nothing was removed, and the next run will retry"
                    )));
                }
            }
            page = advance(page, &url)?;
            previous = ids;
        }
        Ok(match collected.short() {
            Some((total, seen)) => Scan::Incomplete(format!(
                "Syncro promised {total} assets but the walk collected {seen} distinct ones (rows moved between \
                 pages while it ran, or some pages were short), so nothing was removed; the assets read were kept, \
                 and the next run will retry"
            )),
            None => Scan::Complete,
        })
    }

    /// Asks Syncro for one asset, to confirm a removal.
    fn presence<'a>(
        &'a self,
        id: &'a str,
        ctx: &'a FetchContext,
    ) -> BoxFuture<'a, Result<Presence, VendorError>> {
        Box::pin(async move {
            let url = self.url(&format!("api/v1/customer_assets/{id}"), &[])?;
            let auth = |rb: reqwest::RequestBuilder| rb.bearer_auth(self.config.api_key.expose());
            let answer = self
                .http
                .get_json(&url, &auth, &ctx.progress.http, &ctx.cancel)
                .await;
            Ok(match answer {
                Ok(r) => match looked_up(&r.body) {
                    Ok(customer) => {
                        let in_scope = self
                            .customers
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .as_ref()
                            .is_none_or(|c| c.contains(&customer));
                        // Still in Syncro, but its customer was not among those this run
                        // listed: disabled (out of scope, as the listing's filter says), or
                        // one a walk missed. Not proof of anything on its own: the asset goes
                        // only if a second complete run finds it absent too.
                        if in_scope {
                            Presence::Present
                        } else {
                            Presence::Unknown(format!(
                                "Syncro still has the asset, under customer {customer}, which this run did not \
                                 list (disabled?)"
                            ))
                        }
                    }
                    Err(unknown) => unknown,
                },
                // Syncro's own 404 for an asset it no longer has; a web page answering 404
                // is a gateway's or a proxy's, and says nothing of the asset.
                Err(Ok(f)) if f.status.as_u16() == 404 && !is_web_page(&f.body) => Presence::Gone,
                // 401 here is the token lacking "Assets - View Details" (the listing just
                // worked with it): the asset cannot be looked up, which is no rejection.
                Err(Ok(f)) => Presence::Unknown(format!(
                    "Syncro answered {} for the asset{}",
                    f.status.as_u16(),
                    if f.status.as_u16() == 401 {
                        " (give the token \"Assets - View Details\")"
                    } else {
                        ""
                    }
                )),
                Err(Err(e @ (VendorError::Cancelled | VendorError::SinkClosed))) => return Err(e),
                Err(Err(e)) => Presence::Unknown(e.to_string()),
            })
        })
    }
}

/// What a 200 answer to `GET /customer_assets/{id}` says: the asset's customer id (empty
/// when it names none), or, when the answer cannot say, `Presence::Unknown` with why.
fn looked_up(body: &str) -> Result<String, Presence> {
    match serde_json::from_str::<AssetEnvelope>(body) {
        Ok(AssetEnvelope { asset: Some(a) }) => {
            Ok(a.customer_id.map(|c| c.to_string()).unwrap_or_default())
        }
        Ok(AssetEnvelope { asset: None }) => Err(Presence::Unknown(
            "Syncro's answer for the asset has no `asset`".into(),
        )),
        Err(e) => Err(Presence::Unknown(format!(
            "Syncro's answer for the asset is not its documented shape ({e})"
        ))),
    }
}

/// How a walk of the asset listing ended.
enum Scan {
    Complete,
    /// Stopped early or collected less than promised: nothing may be removed.
    Incomplete(String),
}

impl Connector for Syncro {
    fn supports_incremental(&self) -> bool {
        false
    }

    fn fetch<'a>(
        &'a self,
        ctx: &'a FetchContext,
    ) -> BoxFuture<'a, Result<FetchOutcome, VendorError>> {
        self.fetch_all(ctx)
    }

    /// `GET /customer_assets/{id}` answers 404 for an asset that is gone, and the asset for
    /// one the listing missed; lookups wait for the same budget as the listing.
    fn confirm_absent<'a>(
        &'a self,
        ctx: &'a FetchContext,
        external_ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<Presence>, VendorError>> {
        Box::pin(async move {
            stream::iter(0..external_ids.len())
                .map(|i| self.presence(&external_ids[i], ctx))
                .buffered(4)
                .collect::<Vec<_>>()
                .await
                .into_iter()
                .collect()
        })
    }
}

/// What the page just read says about the next one.
#[derive(Debug, PartialEq, Eq)]
enum Paging {
    Next,
    Done,
    /// The listing ended before where Syncro said it would: why.
    EndedEarly(String),
}

/// Where a listing goes after `page`. `meta.total_pages` decides; without it (the spec's own
/// examples omit `meta`) an empty page ends the list. An empty page before the promised last
/// one ends the walk too, but as a listing cut short: records were deleted while it ran, or
/// the paging is broken (a `total_pages` in the billions), and either way nothing past it
/// can be vouched for.
fn next_page(page: u64, meta: Option<&Meta>, empty: bool) -> Paging {
    match meta.and_then(|m| m.total_pages) {
        Some(total) if page >= total => Paging::Done,
        Some(total) if empty => Paging::EndedEarly(format!(
            "page {page} came back empty although Syncro said there were {total} pages"
        )),
        Some(_) => Paging::Next,
        None if empty => Paging::Done,
        None => Paging::Next,
    }
}

/// The next page number; `MAX_PAGES` (and the run's timeout) end a list that never does.
fn advance(page: u64, url: &url::Url) -> Result<u64, VendorError> {
    let next = page + 1;
    if next > MAX_PAGES {
        return Err(VendorError::Decode(format!(
            "{}: more than {MAX_PAGES} pages; Syncro's paging looks broken, the run stops here",
            redact(url)
        )));
    }
    Ok(next)
}

fn decode<'a, T: Deserialize<'a>>(url: &url::Url, body: &'a str) -> Result<T, VendorError> {
    serde_json::from_str(body).map_err(|e| {
        VendorError::Decode(format!(
            "{}: Syncro's response does not have the documented shape ({e})",
            redact(url)
        ))
    })
}

/// The `error` or `message` of a Syncro error body (its shape varies), for messages.
fn error_detail(body: &str) -> String {
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        return String::new();
    };
    let text = match (&v["error"], &v["message"]) {
        (Value::String(s), _) | (_, Value::String(s)) => s.clone(),
        (_, Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join("; "),
        _ => return String::new(),
    };
    format!(": {}", text.chars().take(200).collect::<String>())
}

// ---------------------------------------------------------------------------------------
// Mapping

/// Syncro asset types are names each account defines ("Syncro Device" for assets with the
/// RMM agent; anything else for custom types), so they map by keyword. The first match
/// wins, so the table runs from the specific to the generic: "Wireless Controller" is a
/// controller and "Wireless Router" a router, not access points; "MacBook" a laptop before
/// "Mac" a workstation; the bare word "network" (MSPs' "Network Device") is `other` only
/// when nothing more specific is said.
pub(crate) const ASSET_TYPE_KEYWORDS: &[(&str, Category)] = &[
    ("access point", Category::AccessPoint),
    ("wlc", Category::Controller),
    ("controller", Category::Controller),
    ("firewall", Category::Firewall),
    ("utm", Category::Firewall),
    ("router", Category::Router),
    ("layer 3", Category::L3Switch),
    ("l3 switch", Category::L3Switch),
    ("switch", Category::Switch),
    ("wireless", Category::AccessPoint),
    ("wifi", Category::AccessPoint),
    ("virtual machine", Category::VirtualMachine),
    ("hypervisor", Category::Hypervisor),
    ("esx", Category::Hypervisor),
    ("server", Category::Server),
    ("nas", Category::Storage),
    ("san", Category::Storage),
    ("storage", Category::Storage),
    ("printer", Category::Printer),
    ("copier", Category::Printer),
    ("mfp", Category::Printer),
    ("ups", Category::Ups),
    ("battery", Category::Ups),
    ("camera", Category::Camera),
    ("nvr", Category::Camera),
    ("dvr", Category::Camera),
    ("voip", Category::Phone),
    ("smartphone", Category::Phone),
    ("iphone", Category::Phone),
    ("mobile", Category::Phone),
    ("phone", Category::Phone),
    ("tablet", Category::Laptop),
    ("ipad", Category::Laptop),
    ("laptop", Category::Laptop),
    ("notebook", Category::Laptop),
    ("macbook", Category::Laptop),
    ("desktop", Category::Workstation),
    ("workstation", Category::Workstation),
    ("computer", Category::Workstation),
    ("imac", Category::Workstation),
    ("mac", Category::Workstation),
    ("iot", Category::Iot),
    ("sensor", Category::Iot),
    ("network", Category::Other),
];

/// The RMM agent's `form_factor` (Windows chassis types and the like).
const FORM_FACTORS: &[(&str, Category)] = &[
    ("virtual", Category::VirtualMachine),
    ("server", Category::Server),
    ("rack", Category::Server),
    ("blade", Category::Server),
    ("laptop", Category::Laptop),
    ("notebook", Category::Laptop),
    ("portable", Category::Laptop),
    ("convertible", Category::Laptop),
    ("detachable", Category::Laptop),
    ("tablet", Category::Laptop),
    ("hand held", Category::Laptop),
    ("sub notebook", Category::Laptop),
    ("desktop", Category::Workstation),
    ("tower", Category::Workstation),
    ("mini pc", Category::Workstation),
    ("all in one", Category::Workstation),
    ("all-in-one", Category::Workstation),
    ("workstation", Category::Workstation),
    ("pizza box", Category::Workstation),
    ("space-saving", Category::Workstation),
    ("lunch box", Category::Workstation),
];

/// The category of an asset from its type name, then the agent's form factor and OS.
pub fn category_for(asset_type: &str, form_factor: &str, os: &str) -> Category {
    let agent_device = asset_type.trim().eq_ignore_ascii_case("syncro device");
    if !agent_device && let Some(c) = keyword_category(ASSET_TYPE_KEYWORDS, asset_type) {
        return c;
    }
    if let Some(c) = keyword_category(FORM_FACTORS, form_factor) {
        return c;
    }
    if os.to_ascii_lowercase().contains("server") {
        return Category::Server;
    }
    match (agent_device, asset_type.trim().is_empty()) {
        // The agent runs on computers; one that reports no known chassis is still one.
        (true, _) => Category::Workstation,
        (false, true) => Category::Unknown,
        // A custom type this table does not know.
        (false, false) => Category::Other,
    }
}

/// A case-sensitive path into `properties` (keys may differ only by case; never fold).
fn at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(v, |v, key| v.get(*key))
}

fn text_at(v: &Value, path: &[&str]) -> Option<String> {
    match at(v, path)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn first_text(v: &Value, paths: &[&[&str]]) -> String {
    paths.iter().find_map(|p| text_at(v, p)).unwrap_or_default()
}

fn parse_time(s: Option<&str>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// One asset of a listing page of `url` into its record; a wrong-shaped one fails the page.
fn page_record(url: &url::Url, raw: &RawValue) -> Result<ReportedAsset, VendorError> {
    to_record(raw).map_err(|e| {
        VendorError::Decode(format!(
            "{}: an asset does not have the documented shape ({e})",
            redact(url)
        ))
    })
}

/// One asset object (kept verbatim as `raw`) into the canonical record.
pub fn to_record(raw: &RawValue) -> Result<ReportedAsset, serde_json::Error> {
    let a: AssetWire = serde_json::from_str(raw.get())?;
    let props = a.properties.unwrap_or(Value::Null);
    let kabuto = props
        .get("kabuto_information")
        .cloned()
        .unwrap_or(Value::Null);
    let asset_type = a.asset_type.unwrap_or_default();
    let form_factor = first_text(&kabuto, &[&["general", "form_factor"]]);
    let form_factor = if form_factor.is_empty() {
        first_text(&props, &[&["form_factor"]])
    } else {
        form_factor
    };
    let os = first_text(&kabuto, &[&["os", "name"]]);
    let os = if os.is_empty() {
        first_text(&props, &[&["os"], &["OS"]])
    } else {
        os
    };

    let mut macs: Vec<String> = Vec::new();
    let mut ips: Vec<String> = Vec::new();
    if let Some(Value::Array(adapters)) = kabuto.get("network_adapters") {
        for adapter in adapters {
            if let Some(mac) =
                text_at(adapter, &["physical_address"]).and_then(|m| normalise_mac(&m))
            {
                macs.push(mac);
            }
            if let Some(ip) = text_at(adapter, &["ipv4"]) {
                ips.push(ip);
            }
        }
    }
    for key in ["MAC Address", "mac_address", "MAC"] {
        if let Some(text) = text_at(&props, &[key]) {
            macs.extend(text.split([',', ';', ' ']).filter_map(normalise_mac));
        }
    }
    for key in ["LAN IP(s)", "IP Address", "ip_address", "LAN IP"] {
        if let Some(text) = text_at(&props, &[key]) {
            ips.extend(
                text.split([',', ';', ' '])
                    .map(str::trim)
                    .filter(|s| s.parse::<std::net::IpAddr>().is_ok())
                    .map(str::to_string),
            );
        }
    }
    dedup(&mut macs);
    dedup(&mut ips);

    let serial = a
        .asset_serial
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| first_text(&kabuto, &[&["general", "serial_number"]]));
    Ok(ReportedAsset {
        external_id: a.id.to_string(),
        source_client_id: a.customer_id.map(|c| c.to_string()).unwrap_or_default(),
        name: clean_name(&a.name.unwrap_or_default()),
        category: Some(category_for(&asset_type, &form_factor, &os)),
        manufacturer: first_text(&kabuto, &[&["general", "manufacturer"]]).or_else_empty(|| {
            first_text(&props, &[&["manufacturer"], &["Make"], &["Manufacturer"]])
        }),
        model: first_text(&kabuto, &[&["general", "model"]])
            .or_else_empty(|| first_text(&props, &[&["model"], &["Model"]])),
        serial,
        mac_addresses: macs,
        ip_addresses: ips,
        os,
        firmware: first_text(&props, &[&["Firmware"], &["firmware"]]),
        online_status: String::new(),
        // The RMM agent reporting means Syncro manages the device; otherwise unknown.
        managed: (!kabuto.is_null()).then_some(true),
        last_seen: parse_time(text_at(&kabuto, &["last_synced_at"]).as_deref()),
        updated_at: parse_time(a.updated_at.as_deref()),
        vendor_type: asset_type,
        raw: raw.get().to_string(),
    })
}

/// The custom properties named by `warranty_property` and `purchase_property`, as set.
type DateProperties<'a> = (Option<&'a str>, Option<&'a str>);

/// What the configured lifecycle properties (`names`: warranty, purchase) of one asset hold
/// (`None` when neither is configured: the run does not read lifecycle from Syncro then, and
/// stored values stay).
fn lifecycle_report(
    raw: &RawValue,
    names: DateProperties<'_>,
    odd_dates: &mut OddDates,
) -> Option<LifecycleReport> {
    let (warranty_property, purchase_property) = names;
    if warranty_property.is_none() && purchase_property.is_none() {
        return None;
    }
    #[derive(Deserialize)]
    struct Props {
        id: Value,
        properties: Option<Value>,
    }
    let a: Props = serde_json::from_str(raw.get()).ok()?;
    let props = a.properties.unwrap_or(Value::Null);
    let mut date = |name: Option<&str>, which: &'static str| {
        let d = name.and_then(|n| property_date(&props, n));
        if let Some(VendorDate::Unreadable(t)) = &d {
            odd_dates.saw(which, t);
        }
        d
    };
    let warranty_expires = date(warranty_property, "warranty_property");
    let purchase_date = date(purchase_property, "purchase_property");
    Some(LifecycleReport {
        external_id: match a.id {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s,
            _ => return None,
        },
        warranty: Some(WarrantyFacts {
            purchase_date,
            warranty_expires,
            stated: None,
        }),
        support: None,
    })
}

/// The date in custom property `name`: the key exactly as configured, else the one key that
/// matches it ignoring case and surrounding spaces (MSPs retype names; Syncro can return
/// keys that differ only by case, and then the exact one wins or, with none, nothing is
/// guessed). Text is read as `typed_date` reads it; a number (a spreadsheet's day count?),
/// `true`, a list or an object is kept as given: never guessed at.
fn property_date(props: &Value, name: &str) -> Option<VendorDate> {
    let map = props.as_object()?;
    let value = map.get(name).or_else(|| {
        let want = name.trim().to_lowercase();
        let mut found = map.iter().filter(|(k, _)| k.trim().to_lowercase() == want);
        match (found.next(), found.next()) {
            (Some((_, v)), None) => Some(v),
            _ => None,
        }
    })?;
    match value {
        Value::Null => None,
        Value::String(t) => typed_date(t),
        other => Some(VendorDate::Unreadable(
            other.to_string().chars().take(200).collect(),
        )),
    }
}

/// Property values that are not dates, for the run's note: how many, one example, which
/// setting named them.
#[derive(Default)]
struct OddDates {
    count: usize,
    example: Option<(&'static str, String)>,
}

impl OddDates {
    fn saw(&mut self, setting: &'static str, text: &str) {
        self.count += 1;
        self.example
            .get_or_insert_with(|| (setting, text.chars().take(60).collect()));
    }

    fn note(&self) -> Option<String> {
        let (setting, text) = self.example.as_ref()?;
        Some(format!(
            "{} of the asset properties named by `warranty_property`/`purchase_property` {} not \
             a date assetd reads (e.g. {text:?} in `{setting}`; it reads YYYY-MM-DD, MM/DD/YYYY \
             and DD.MM.YYYY): kept as given in `warranty_expires_raw`/`purchase_date_raw`, never \
             guessed; correct them in Syncro",
            self.count,
            if self.count == 1 {
                "holds text that is"
            } else {
                "hold text that is"
            },
        ))
    }
}

trait OrElseEmpty {
    fn or_else_empty(self, f: impl FnOnce() -> String) -> String;
}

impl OrElseEmpty for String {
    fn or_else_empty(self, f: impl FnOnce() -> String) -> String {
        if self.is_empty() { f() } else { self }
    }
}

fn dedup(v: &mut Vec<String>) {
    let mut seen = HashSet::new();
    v.retain(|x| seen.insert(x.clone()));
}

// ---------------------------------------------------------------------------------------
// Wire types: only what assetd reads; everything optional, since Syncro's shapes vary.

#[derive(Deserialize)]
struct Meta {
    total_pages: Option<u64>,
    total_entries: Option<u64>,
}

/// What a page walk collected against what Syncro promised: the distinct records seen, and
/// the largest `meta.total_entries` any page gave (a total that changes during the walk is
/// taken at its largest, so a shrinking list cannot hide a missed row).
#[derive(Default)]
struct Collected {
    distinct: HashSet<i64>,
    promised: Option<u64>,
}

impl Collected {
    fn page(&mut self, ids: &[i64], meta: Option<&Meta>) {
        self.distinct.extend(ids.iter().copied());
        if let Some(total) = meta.and_then(|m| m.total_entries) {
            self.promised = Some(self.promised.map_or(total, |p| p.max(total)));
        }
    }

    /// `(promised, collected)` when the walk collected fewer distinct records than promised.
    fn short(&self) -> Option<(u64, u64)> {
        let seen = self.distinct.len() as u64;
        self.promised
            .filter(|&total| seen < total)
            .map(|total| (total, seen))
    }
}

/// `GET /customer_assets/{id}`: the asset under `asset`.
#[derive(Deserialize)]
struct AssetEnvelope {
    asset: Option<AssetLookup>,
}

#[derive(Deserialize)]
struct AssetLookup {
    customer_id: Option<i64>,
}

#[derive(Deserialize)]
struct CustomersPage {
    // Required: a body without the list is not "no customers" but not Syncro's answer at
    // all (a proxy, an API change), and taking it for empty would let a full sync remove
    // everything.
    customers: Vec<Customer>,
    meta: Option<Meta>,
}

#[derive(Deserialize)]
struct Customer {
    id: i64,
    business_name: Option<String>,
    firstname: Option<String>,
    lastname: Option<String>,
    fullname: Option<String>,
    business_then_name: Option<String>,
    disabled: Option<bool>,
}

impl Customer {
    /// What the client is called: the business name when there is one; for a person, the
    /// full name (Syncro's own `business_then_name` follows the same rule).
    fn into_client(self) -> SourceClient {
        let nonempty = |s: Option<String>| s.map(|s| clean_name(&s)).filter(|s| !s.is_empty());
        let person = nonempty(self.fullname.clone()).or_else(|| {
            let joined = format!(
                "{} {}",
                self.firstname.as_deref().unwrap_or(""),
                self.lastname.as_deref().unwrap_or("")
            );
            nonempty(Some(joined))
        });
        let business = nonempty(self.business_name);
        let then = nonempty(self.business_then_name);
        let name = business
            .clone()
            .or_else(|| person.clone())
            .or_else(|| then.clone())
            .unwrap_or_else(|| format!("Syncro customer {}", self.id));
        let mut aliases: Vec<String> = [then, person]
            .into_iter()
            .flatten()
            .filter(|a| *a != name)
            .collect();
        aliases.dedup();
        SourceClient {
            external_id: self.id.to_string(),
            name,
            aliases,
        }
    }
}

#[derive(Deserialize)]
struct AssetsPage<'a> {
    // Required, as `customers` above.
    #[serde(borrow)]
    assets: Vec<&'a RawValue>,
    meta: Option<Meta>,
}

#[derive(Deserialize)]
struct AssetWire {
    id: i64,
    name: Option<String>,
    customer_id: Option<i64>,
    asset_type: Option<String>,
    asset_serial: Option<String>,
    updated_at: Option<String>,
    properties: Option<Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Syncro's budget is per calling IP over every account: two subdomains share it; a
    /// gateway or simulator on another host has its own.
    #[test]
    fn every_syncro_account_shares_one_request_budget() {
        let key = |u: &str| budget_key(&url::Url::parse(u).expect("a url"));
        assert_eq!(key("https://acme.syncromsp.com/"), "syncromsp.com");
        assert_eq!(key("https://Other.SyncroMSP.com/api/v1/"), "syncromsp.com");
        assert_eq!(key("http://127.0.0.1:8080/"), "127.0.0.1:8080");
        assert_eq!(
            key("https://gateway.example/syncro/"),
            "gateway.example:443"
        );
        assert_eq!(key("https://notsyncromsp.com/"), "notsyncromsp.com:443");
    }

    /// The configured properties are read as MSPs type them: exact key first, else the one
    /// key equal ignoring case; text that is not a date, numbers and objects kept as given;
    /// nothing configured, nothing read.
    #[test]
    fn lifecycle_properties_are_read_as_typed_and_never_guessed() {
        let date = |y, m, d| {
            Some(VendorDate::Date(
                chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap(),
            ))
        };
        let props = serde_json::json!({
            "Warranty Expires": "03/31/2027", "warranty expires": "2020-01-01",
            "Purchase Date": "31.03.2022", "Bought": 45000, "Odd": {"a": 1}, "Empty": null,
            "purchased": "2021-05-06", "PURCHASED ": "2021-05-07", "Lease End": "N/A",
        });
        assert_eq!(
            property_date(&props, "Warranty Expires"),
            date(2027, 3, 31),
            "exact wins"
        );
        assert_eq!(property_date(&props, "purchase date"), date(2022, 3, 31));
        assert_eq!(
            property_date(&props, "PURCHASED"),
            None,
            "two keys match: none guessed"
        );
        assert_eq!(
            property_date(&props, "Bought"),
            Some(VendorDate::Unreadable("45000".into()))
        );
        assert_eq!(
            property_date(&props, "Odd"),
            Some(VendorDate::Unreadable("{\"a\":1}".into()))
        );
        assert_eq!(property_date(&props, "Empty"), None);
        assert_eq!(property_date(&props, "Lease End"), None);
        assert_eq!(property_date(&props, "Missing"), None);

        let raw = RawValue::from_string(
            serde_json::json!({"id": 12313068, "customer_id": 7, "properties": {
                "Warranty Expires": "31/03/2027", "Purchase Date": "2022-03-31"}})
            .to_string(),
        )
        .unwrap();
        let mut odd = OddDates::default();
        assert_eq!(lifecycle_report(&raw, (None, None), &mut odd), None);
        let r = lifecycle_report(
            &raw,
            (Some("Warranty Expires"), Some("Purchase Date")),
            &mut odd,
        )
        .unwrap();
        assert_eq!(r.external_id, "12313068");
        assert_eq!(r.support, None, "Syncro says nothing of support");
        let w = r.warranty.unwrap();
        assert_eq!(
            w.warranty_expires,
            Some(VendorDate::Unreadable("31/03/2027".into())),
            "day-first with slashes is not guessed"
        );
        assert_eq!(w.purchase_date, date(2022, 3, 31));
        let note = odd.note().unwrap();
        assert!(note.starts_with("1 of the asset properties"), "{note}");
        assert!(
            note.contains("31/03/2027") && note.contains("warranty_property"),
            "{note}"
        );
    }

    fn record(json: &str) -> ReportedAsset {
        let raw: Box<RawValue> = serde_json::from_str(json).unwrap();
        to_record(&raw).unwrap()
    }

    /// An asset written here with every field of the asset example in Syncro's swagger
    /// (`GET /customer_assets`), with values of our own: each lands in the canonical record or,
    /// verbatim, in `raw`. `tests/vendor_specs.rs` runs the same check on the spec's example.
    #[test]
    fn every_field_of_a_full_asset_lands_somewhere() {
        let text = r#"{"id": 4412, "name": "BRANCH-PRN-02", "customer_id": 318, "contact_id": null,
            "created_at": "2023-02-14T09:12:44.501Z", "updated_at": "2024-06-03T16:20:05.118Z",
            "properties": {"Location": "2nd floor", "Toner": 3},
            "asset_type": "Laser Printer", "asset_serial": "VNB3K51234", "external_rmm_link": null,
            "customer": {"id": 318, "firstname": "Grace", "lastname": "Okafor",
              "fullname": "Grace Okafor", "business_name": "Okafor Freight", "email": "it@okafor.example",
              "phone": "555-0142", "mobile": null, "created_at": "2022-11-01T08:00:00.000Z",
              "updated_at": "2024-01-09T10:30:00.000Z", "pdf_url": null, "address": null,
              "address_2": null, "city": null, "state": null, "zip": null, "latitude": null,
              "longitude": null, "notes": null, "get_sms": false, "opt_out": false,
              "disabled": false, "no_email": true, "location_id": null, "properties": {},
              "online_profile_url": "https://okafor.example/portal", "tax_rate_id": null,
              "notification_email": null, "invoice_cc_emails": null, "invoice_term_id": null,
              "referred_by": null, "ref_customer_id": null,
              "business_and_full_name": "Okafor Freight - Grace Okafor",
              "business_then_name": "Okafor Freight"},
            "rmm_links": [],
            "rmm_store": {"id": 91, "asset_id": 4412, "account_id": 7,
              "triggers": {"bsod_triggered": "false", "time_triggered": "false",
                "no_av_triggered": "true", "defrag_triggered": "false",
                "firewall_triggered": "false", "app_crash_triggered": "false",
                "low_hd_space_triggered": "false", "smart_failure_triggered": "false",
                "device_manager_triggered": "false", "agent_offline_triggered": "true"},
              "windows_updates": {}, "emsisoft": {}, "general": {},
              "created_at": "2023-02-14T09:12:44.600Z", "updated_at": "2024-06-03T16:20:05.200Z",
              "override_alert_agent_offline_mins": null,
              "override_alert_agent_rearm_after_mins": null, "override_low_hd_threshold": null,
              "override_autoresolve_offline_alert": null},
            "address": {"id": 12, "name": "Branch", "customer_id": 318, "address_type_id": 2,
              "address1": "14 Harbour Rd", "address2": "Unit 3", "city": "Portsmouth",
              "state": "NH", "zip": "03801", "latitude": null, "longitude": null,
              "created_at": "2022-11-01T08:00:00.000Z", "updated_at": "2022-11-01T08:00:00.000Z",
              "account_id": 7}}"#;
        let asset: Value = serde_json::from_str(text).unwrap();
        let r = record(text);
        assert_eq!(r.external_id, asset["id"].to_string());
        assert_eq!(r.name, asset["name"].as_str().unwrap());
        assert_eq!(r.source_client_id, asset["customer_id"].to_string());
        assert_eq!(r.vendor_type, asset["asset_type"].as_str().unwrap());
        assert_eq!(r.serial, asset["asset_serial"].as_str().unwrap());
        assert!(r.updated_at.is_some());
        let raw: Value = serde_json::from_str(&r.raw).unwrap();
        for (key, value) in asset.as_object().unwrap() {
            assert_eq!(&raw[key], value, "field `{key}` is kept");
        }
    }

    #[test]
    fn agent_data_maps_to_hardware_fields() {
        let r = record(
            r#"{"id": 5560138523, "name": "ACME-LT-01", "customer_id": 12, "asset_type": "Syncro Device",
                "asset_serial": null, "updated_at": "2024-05-01T10:00:00.000Z",
                "properties": {"kabuto_information": {"last_synced_at": "2024-05-02T08:00:00Z",
                  "general": {"manufacturer": "Dell Inc.", "model": "Latitude 7440", "serial_number": "5CG1234XYZ",
                              "form_factor": "Laptop"},
                  "os": {"name": "Microsoft Windows 11 Pro"},
                  "network_adapters": [{"physical_address": "00-1a-2b-3c-4d-5e", "ipv4": "10.1.2.3"},
                                       {"physical_address": "00:00:00:00:00:00", "ipv4": null}]},
                  "Notes": "upper", "notes": "lower"}}"#,
        );
        assert_eq!(r.external_id, "5560138523", "ids are 64-bit");
        assert_eq!(
            (r.manufacturer.as_str(), r.model.as_str()),
            ("Dell Inc.", "Latitude 7440")
        );
        assert_eq!(r.serial, "5CG1234XYZ", "serial falls back to the agent's");
        assert_eq!(r.category, Some(Category::Laptop));
        assert_eq!(r.mac_addresses, vec!["00:1A:2B:3C:4D:5E"]);
        assert_eq!(r.ip_addresses, vec!["10.1.2.3"]);
        assert_eq!(r.managed, Some(true));
        assert!(r.last_seen.is_some());
        assert!(
            r.raw.contains(r#""Notes": "upper""#) && r.raw.contains(r#""notes": "lower""#),
            "case twins kept verbatim"
        );
    }

    #[test]
    fn custom_types_map_by_keyword_and_display_keys() {
        let r = record(
            r#"{"id": 9, "name": "fw", "customer_id": 1, "asset_type": "Network Firewall",
                "asset_serial": "FGT60F", "properties": {"Make": "Fortinet", "Model": "FortiGate 60F",
                "LAN IP(s)": "192.168.1.1, 10.0.0.1", "MAC Address": "001A2B3C4D5F"}}"#,
        );
        assert_eq!(r.category, Some(Category::Firewall));
        assert_eq!(
            (r.manufacturer.as_str(), r.model.as_str()),
            ("Fortinet", "FortiGate 60F")
        );
        assert_eq!(r.ip_addresses, vec!["192.168.1.1", "10.0.0.1"]);
        assert_eq!(r.mac_addresses, vec!["00:1A:2B:3C:4D:5F"]);
        assert_eq!(r.managed, None);
    }

    #[test]
    fn categories_from_types_form_factors_and_os() {
        assert_eq!(
            category_for("Syncro Device", "Desktop", "Windows 11"),
            Category::Workstation
        );
        assert_eq!(
            category_for("Syncro Device", "Rack Mount Chassis", ""),
            Category::Server
        );
        assert_eq!(
            category_for("Syncro Device", "", "Windows Server 2022"),
            Category::Server
        );
        assert_eq!(category_for("Syncro Device", "", ""), Category::Workstation);
        assert_eq!(
            category_for("Wireless Access Point", "", ""),
            Category::AccessPoint
        );
        assert_eq!(category_for("Core Switch", "", ""), Category::Switch);
        assert_eq!(category_for("UPS", "", ""), Category::Ups);
        assert_eq!(
            category_for("Office Groups", "", ""),
            Category::Other,
            "whole words only"
        );
        assert_eq!(category_for("Dodrio", "", ""), Category::Other);
        assert_eq!(category_for("", "", ""), Category::Unknown);
    }

    /// Every row of the keyword table, as MSPs name their asset types, and the order that
    /// makes the specific win over the generic.
    #[test]
    fn every_keyword_row_maps_as_msps_name_their_types() {
        use Category::*;
        let rows: &[(&str, Category)] = &[
            ("Wireless Access Point", AccessPoint),
            ("WLC", Controller),
            ("Wireless Controller", Controller),
            ("Firewall", Firewall),
            ("UTM Appliance", Firewall),
            ("Wireless Router", Router),
            ("Router", Router),
            ("Layer 3 Switch", L3Switch),
            ("L3 Switch", L3Switch),
            ("Network Switch", Switch),
            ("Wireless Bridge", AccessPoint),
            ("WiFi Extender", AccessPoint),
            ("Virtual Machine", VirtualMachine),
            ("Hypervisor", Hypervisor),
            ("ESX Host", Hypervisor),
            ("Server", Server),
            ("NAS", Storage),
            ("SAN", Storage),
            ("Storage Array", Storage),
            ("Network Printer", Printer),
            ("Copier", Printer),
            ("MFP", Printer),
            ("UPS", Ups),
            ("Battery Backup", Ups),
            ("IP Camera", Camera),
            ("NVR", Camera),
            ("DVR", Camera),
            ("VoIP Handset", Phone),
            ("Smartphone", Phone),
            ("iPhone", Phone),
            ("Mobile Device", Phone),
            ("Desk Phone", Phone),
            ("Tablet", Laptop),
            ("iPad", Laptop),
            ("Laptop", Laptop),
            ("Notebook", Laptop),
            ("MacBook Pro", Laptop),
            ("Desktop", Workstation),
            ("Workstation", Workstation),
            ("Computer", Workstation),
            ("iMac", Workstation),
            ("Mac", Workstation),
            ("IoT Device", Iot),
            ("Temperature Sensor", Iot),
            ("Network Device", Other),
        ];
        for (asset_type, want) in rows {
            assert_eq!(category_for(asset_type, "", ""), *want, "{asset_type}");
        }
        // Each table row is exercised by a line above.
        for (keyword, category) in ASSET_TYPE_KEYWORDS {
            assert!(
                rows.iter().any(|(t, c)| c == category
                    && keyword_category(ASSET_TYPE_KEYWORDS, t) == Some(*category)
                    && t.to_ascii_lowercase().contains(&keyword.replace('-', " "))),
                "row `{keyword}` has no test"
            );
        }
    }

    /// Paging that repeats or never ends stops at once; only `total_pages` or an empty page
    /// without `meta` ends a list as read to the end.
    #[test]
    fn paging_ends_where_syncro_says_and_an_early_empty_page_is_no_end() {
        let meta = |pages| Meta {
            total_pages: Some(pages),
            total_entries: None,
        };
        assert_eq!(next_page(1, Some(&meta(3)), false), Paging::Next);
        assert_eq!(next_page(3, Some(&meta(3)), false), Paging::Done);
        assert_eq!(next_page(1, Some(&meta(1)), true), Paging::Done);
        assert!(matches!(
            next_page(2, Some(&meta(2_000_000_000)), true),
            Paging::EndedEarly(_)
        ));
        assert_eq!(next_page(4, None, false), Paging::Next);
        assert_eq!(next_page(4, None, true), Paging::Done);
    }

    #[test]
    fn customer_names_follow_business_then_person() {
        let c = |json: &str| {
            serde_json::from_str::<Customer>(json)
                .unwrap()
                .into_client()
        };
        assert_eq!(
            c(r#"{"id":1,"business_name":"Smith &amp; Sons","fullname":"Ann Smith"}"#).name,
            "Smith & Sons"
        );
        let person = c(
            r#"{"id":2,"business_name":"  ","firstname":"Ann","lastname":"Smith","fullname":null}"#,
        );
        assert_eq!(person.name, "Ann Smith");
        assert_eq!(c(r#"{"id":3}"#).name, "Syncro customer 3");
    }

    #[test]
    fn macs_are_normalised() {
        assert_eq!(
            normalise_mac("aa:bb:cc:dd:ee:ff").as_deref(),
            Some("AA:BB:CC:DD:EE:FF")
        );
        assert_eq!(
            normalise_mac("aabb.ccdd.eeff").as_deref(),
            Some("AA:BB:CC:DD:EE:FF")
        );
        assert_eq!(normalise_mac("00-00-00-00-00-00"), None);
        assert_eq!(normalise_mac("not a mac"), None);
        assert_eq!(normalise_mac("10.0.0.1"), None);
    }

    #[test]
    fn error_bodies_of_any_shape_are_read_and_never_crash() {
        assert_eq!(
            error_detail(r#"{"error":"Not authorized"}"#),
            ": Not authorized"
        );
        assert_eq!(error_detail(r#"{"message":["a","b"]}"#), ": a; b");
        assert_eq!(error_detail("Disabled"), "");
        assert_eq!(error_detail("<html>login</html>"), "");
    }
}
