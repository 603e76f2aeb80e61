//! Auvik Network Management (API v1): tenants are clients, devices are assets.
//!
//! A run: verify the credentials; list tenants and their display names; then, for each
//! client tenant (a few at a time), stream the device *info* pages with each device's
//! *detail* (`manageStatus`, the interfaces' MACs) included in the same page. A full run then
//! reads Auvik's billing usage (billable device-days per tenant) for the current and the
//! previous month, so counts can be reconciled with what Auvik bills; a user without billing
//! rights only loses that. Beside it, a full run reads the devices' warranty and lifecycle
//! records (`/v1/inventory/device/warranty` and `/lifecycle`, Cisco's data, for the tenants
//! read), which change slowly; they are best-effort: one that cannot be read leaves the
//! stored values and a note, never a failed or partial run. Pages are followed through `links.next`
//! as Auvik returns them (its cursor and page size), with any parameter of the first request
//! the link does not carry added back (the spec's example link carries only the cursor), and
//! always on the configured host, since requests carry our credentials.
//! Facts and quirks: Auvik's published OpenAPI spec (`auvik-openapi-v1.json`) and what public API clients learned; each quirk handled
//! here names its evidence where it is handled (the team's vendor notes collect them).

pub mod config;
// For tests/properties and fuzz/ only (not an API).
#[doc(hidden)]
pub mod decoders;
mod lifecycle;
use super::http::{
    Failure, HttpClient, JsonResponse, RetryPolicy, Route, ThrottlePolicy, is_web_page, redact,
};
use super::{
    Batch, Connector, FetchContext, FetchOutcome, Presence, VendorError, clean_name, normalise_mac,
};
use crate::config::RunLimits;
use crate::model::{
    Category, Coverage, LifecycleReport, LifecycleScope, ReportedAsset, RunKind, SourceClient,
    SupportStatus, VendorDate, VendorUsage, WarrantyFacts, WarrantyStatus,
};
use chrono::{DateTime, Datelike, Days, NaiveDate, SecondsFormat, Utc};
use config::{AUVIK_REGIONS, AuvikConfig};
use futures_util::future::BoxFuture;
use futures_util::{StreamExt, stream};
use lifecycle::{LifecyclePage, LifecyclePart, UnreadableDates};
use reqwest::StatusCode;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tracing::Instrument;

/// The largest v1 page public clients ask for (the spec does not say; v2's default is 1000).
const PAGE_SIZE: u32 = 1000;
/// The page size Auvik's spec gives as the default of every v1 listing: asked for when a
/// page of `PAGE_SIZE` is refused.
const SPEC_DEFAULT_PAGE_SIZE: u32 = 100;
/// Tenants read at once: enough to hide latency, few enough to stay far from Auvik's
/// per-IP budget (about 2,500 requests per 5 minutes).
const TENANT_CONCURRENCY: usize = 4;
/// More pages than any real tenant has: past it, paging is broken (a looping cursor).
const MAX_PAGES_PER_LIST: usize = 10_000;
/// Tenant ids per billing-usage request: ~20 characters each keeps the URL near 1 KB.
const BILLING_TENANTS_PER_REQUEST: usize = 50;

/// Maps every `deviceType` of Auvik's `DeviceTypeSchema` to a category. `None` for a type
/// the spec does not have (a newer Auvik); the connector files those under `unknown`.
pub fn category_for(device_type: &str) -> Option<Category> {
    use Category::*;
    Some(match device_type {
        "unknown" => Unknown,
        "switch" => Switch,
        "l3Switch" => L3Switch,
        "voipSwitch" => VoipSwitch,
        "stack" => SwitchStack,
        "router" => Router,
        // CONTRACT §5: Auvik's firewall, utm and securityAppliance are firewalls.
        "firewall" | "utm" | "securityAppliance" => Firewall,
        "controller" => Controller,
        "accessPoint" | "thinAccessPoint" => AccessPoint,
        "workstation" | "thinClient" => Workstation,
        "server" => Server,
        "storage" | "backupDevice" => Storage,
        "printer" | "copier" => Printer,
        "hypervisor" => Hypervisor,
        "virtualMachine" | "virtualAppliance" => VirtualMachine,
        "phone" | "ipPhone" => Phone,
        "ups" => Ups,
        "camera" => Camera,
        "internetOfThings" | "airConditioner" | "timeClock" | "lightingDevice" | "alarm"
        | "buildingManagement" => Iot,
        // Network gear that Auvik does not bill (hubs, bridges, modems, ...) and devices
        // with no closer category.
        "hub" | "bridge" | "modem" | "module" | "loadBalancer" | "telecommunications"
        | "packetProcessor" | "chassis" | "pdu" | "backhaul" | "multimedia" | "tablet"
        | "handheld" | "audioVisual" | "ipmi" => Other,
        _ => return None,
    })
}

/// Every `deviceType` of Auvik's `DeviceTypeSchema` (API v1 and v2 list the same 47), in the
/// spec's order: the project's own copy of the enum, so a clone without the spec still checks
/// that each one maps. `tests/vendor_specs.rs` checks it against the published spec.
pub const DEVICE_TYPES: [&str; 47] = [
    "unknown",
    "switch",
    "l3Switch",
    "router",
    "accessPoint",
    "firewall",
    "workstation",
    "server",
    "storage",
    "printer",
    "copier",
    "hypervisor",
    "multimedia",
    "phone",
    "tablet",
    "handheld",
    "virtualAppliance",
    "bridge",
    "controller",
    "hub",
    "modem",
    "ups",
    "module",
    "loadBalancer",
    "camera",
    "telecommunications",
    "packetProcessor",
    "chassis",
    "airConditioner",
    "virtualMachine",
    "pdu",
    "ipPhone",
    "backhaul",
    "internetOfThings",
    "voipSwitch",
    "stack",
    "backupDevice",
    "timeClock",
    "lightingDevice",
    "audioVisual",
    "securityAppliance",
    "utm",
    "alarm",
    "buildingManagement",
    "ipmi",
    "thinAccessPoint",
    "thinClient",
];

pub struct Auvik {
    http: HttpClient,
    base: url::Url,
    config: AuvikConfig,
    /// How long to wait before asking again after a plain 403 (`SECOND_LOOK`, less under
    /// a small `max_throttle_wait`).
    second_look: Duration,
}

/// How Auvik's throttling is waited out: its window is about five minutes (node-auvik backs
/// off up to 300 s), so waits double from a sixtieth of it (5 s) to fill it; the source's
/// `max_throttle_wait` sets another window, and the waits scale with it.
fn throttle_policy(limits: &RunLimits) -> ThrottlePolicy {
    let budget = limits.max_throttle_wait.unwrap_or(Duration::from_secs(300));
    ThrottlePolicy {
        budget,
        first_wait: budget / 60,
        doubling: true,
    }
}

/// Whether an error body says the request was throttled. Auvik answers throttling with 403
/// as often as with 429, and words it variously ("rate limit", "Rate-limit", "quota
/// exceeded", "throttled"); n8n-nodes-auvik matches `/rate[\s-]?limit|quota|throttl/i`,
/// which this follows, with "rate" at the start of a word.
pub fn says_throttled(body: &str) -> bool {
    let text = body.to_ascii_lowercase();
    if text.contains("quota") || text.contains("throttl") {
        return true;
    }
    // "rate" must start a word ("accurate limits" says nothing of throttling).
    text.match_indices("rate").any(|(i, _)| {
        let starts_word = text[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_ascii_alphanumeric());
        let rest = &text[i + "rate".len()..];
        if !starts_word {
            return false;
        }
        let rest = rest
            .strip_prefix(|c: char| c.is_whitespace() || c == '-')
            .unwrap_or(rest);
        rest.starts_with("limit")
    })
}

/// The wait before asking again after a 403 that does not say it is throttling: a tenant
/// is called forbidden only when its 403 persists across this second look, because Auvik's
/// throttling 403s are not always worded as such.
const SECOND_LOOK: Duration = Duration::from_secs(15);

/// How far before the previous run's start an incremental run asks for changes: clocks
/// differ, and a change stamped just before a run began may not have been listed by it.
const INCREMENTAL_OVERLAP: chrono::Duration = chrono::Duration::minutes(10);

impl Auvik {
    pub fn new(
        base: url::Url,
        config: AuvikConfig,
        limits: &RunLimits,
        route: &Route,
    ) -> Result<Auvik, VendorError> {
        // Auvik signals throttling with 429, and also with a 403 whose text says so in one of
        // several wordings (public clients match them all: see `says_throttled`).
        let is_throttle = Arc::new(|status: StatusCode, body: &str| {
            status == StatusCode::FORBIDDEN && says_throttled(body)
        });
        let throttle = throttle_policy(limits);
        let http = HttpClient::new(
            route,
            RetryPolicy::with_retries(limits.max_retries),
            limits.request_timeout,
            is_throttle,
        )?
        .with_throttle(throttle);
        Ok(Auvik {
            http,
            base,
            config,
            second_look: (throttle.budget / 4).min(SECOND_LOOK),
        })
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> Result<url::Url, VendorError> {
        super::endpoint(&self.base, path, query)
    }

    /// GETs `url` once (throttling and 5xx are still retried by the HTTP client).
    async fn get_once(
        &self,
        url: &url::Url,
        ctx: &FetchContext,
    ) -> Result<JsonResponse, Result<Failure, VendorError>> {
        let auth = |rb: reqwest::RequestBuilder| {
            rb.basic_auth(&self.config.username, Some(self.config.api_key.expose()))
        };
        self.http
            .get_json(url, &auth, &ctx.progress.http, &ctx.cancel)
            .await
    }

    /// GETs `url`; a 403 that does not say it is throttling is asked once more after
    /// `second_look` before it is taken for a refusal.
    async fn get_response(
        &self,
        url: &url::Url,
        ctx: &FetchContext,
    ) -> Result<JsonResponse, Result<Failure, VendorError>> {
        match self.get_once(url, ctx).await {
            Err(Ok(f)) if f.status == StatusCode::FORBIDDEN => {
                tracing::info!(url = %redact(url), wait_ms = self.second_look.as_millis() as u64,
                    "Auvik answered 403; asking once more before taking it for a refusal.");
                tokio::select! {
                    _ = ctx.cancel.cancelled() => return Err(Err(VendorError::Cancelled)),
                    _ = tokio::time::sleep(self.second_look) => {}
                }
                ctx.progress.http.retried();
                self.get_once(url, ctx).await
            }
            other => other,
        }
    }

    async fn get(
        &self,
        url: &url::Url,
        ctx: &FetchContext,
    ) -> Result<String, Result<Failure, VendorError>> {
        self.get_response(url, ctx).await.map(|r| r.body)
    }

    /// A GET whose every failure is fatal to the run, explained.
    async fn get_or_fail(&self, url: &url::Url, ctx: &FetchContext) -> Result<String, VendorError> {
        match self.get(url, ctx).await {
            Ok(v) => Ok(v),
            Err(Err(e)) => Err(e),
            Err(Ok(f)) => Err(self.explain(url, &f)),
        }
    }

    /// Turns a non-success response into a message that says what to do.
    fn explain(&self, url: &url::Url, f: &Failure) -> VendorError {
        let what = redact(url);
        match f.status.as_u16() {
            401 => VendorError::CredentialsRejected(format!(
                "Auvik rejected the credentials (401 from {what}): check `username` (the Auvik user's e-mail address) \
                 and `api_key` of this source, and its `region` (a public client reports 401, not a redirect, from \
                 another region's cluster); assetd will not call Auvik again until they change in the config"
            )),
            308 | 301 | 302 | 307 => {
                let right = f
                    .location
                    .as_deref()
                    .and_then(region_of)
                    .map(|r| format!("set `region = \"{r}\"`"))
                    .unwrap_or_else(|| {
                        format!(
                            "set `region` to your account's region ({})",
                            AUVIK_REGIONS.join(", ")
                        )
                    });
                VendorError::WrongRegion(format!(
                    "Auvik answered {} from {what}: this account is not in region `{}`; {right} in the source's config",
                    f.status.as_u16(),
                    self.config.region
                ))
            }
            403 if says_throttled(&f.body) => VendorError::Http(format!(
                "Auvik kept throttling requests (403 from {what}{}) for longer than this source waits \
                 ({}); the next run will retry. If other tools share this Auvik account's API budget, \
                 spread their schedules, or raise `max_throttle_wait`",
                error_detail(&f.body),
                humantime::format_duration(self.http.throttle_budget())
            )),
            403 => VendorError::Http(format!(
                "Auvik refused access (403 from {what}, twice){}: give the API user a role with API read access",
                error_detail(&f.body)
            )),
            429 => VendorError::Http(format!(
                "Auvik kept rate-limiting requests (429 from {what}) for longer than this source waits ({}); \
                 the next run will retry. If other tools share this Auvik account's API budget, spread their \
                 schedules, or raise `max_throttle_wait`",
                humantime::format_duration(self.http.throttle_budget())
            )),
            s if s >= 500 => VendorError::Http(format!(
                "Auvik had a server error ({s} from {what}) after several retries; the next run will retry{}",
                error_detail(&f.body)
            )),
            s => VendorError::Http(format!(
                "Auvik answered {s} from {what}{}",
                error_detail(&f.body)
            )),
        }
    }

    fn fetch_all<'a>(
        &'a self,
        ctx: &'a FetchContext,
    ) -> BoxFuture<'a, Result<FetchOutcome, VendorError>> {
        Box::pin(async move {
            let verify = self.url("v1/authentication/verify", &[])?;
            let vendor_started = match self.get_response(&verify, ctx).await {
                Ok(r) => r.date,
                Err(Err(e)) => return Err(e),
                Err(Ok(f)) => return Err(self.explain(&verify, &f)),
            };
            let Tenants {
                clients,
                listed,
                notes: tenant_notes,
            } = self.tenants(ctx).await?;
            ctx.progress
                .clients_total
                .store(clients.len() as i64, Ordering::Relaxed);
            ctx.send(Batch::Clients(
                clients.iter().map(|t| t.client.clone()).collect(),
            ))
            .await?;
            let tally = Tally::default();
            let results: Vec<(usize, TenantRead)> = stream::iter(0..clients.len())
                .map(|i| self.tenant_task(i, &clients[i], ctx, &tally))
                .buffer_unordered(TENANT_CONCURRENCY)
                .collect()
                .await;
            let mut outcome = FetchOutcome {
                vendor_started,
                notes: tenant_notes,
                ..FetchOutcome::default()
            };
            let mut read = std::collections::HashSet::new();
            let mut first_failure = None;
            let mut results = results;
            results.sort_by_key(|(i, _)| *i);
            for (i, r) in results {
                let tenant = &clients[i];
                match r {
                    TenantRead::Complete => {
                        read.insert(tenant.client.external_id.clone());
                    }
                    TenantRead::Skipped(why) => outcome.skipped_units.push(why),
                    TenantRead::Failed(e) if e.stops_calls() || is_run_fatal(&e) => return Err(e),
                    TenantRead::Failed(e) => {
                        outcome.keep_window = true;
                        outcome.skipped_units.push(format!(
                            "tenant `{}` ({}): {e}",
                            tenant.client.name, tenant.client.external_id
                        ));
                        first_failure.get_or_insert(e);
                    }
                }
            }
            // Every tenant tried failed alike: that is Auvik failing, not one tenant, and the
            // run fails with the cause rather than reading as a run of refused tenants.
            if read.is_empty()
                && let Some(e) = first_failure
            {
                return Err(e);
            }
            if ctx.kind == RunKind::Full {
                // Tenants that refused inventory would refuse billing too, and one refused
                // tenant fails a whole multi-tenant billing request; the same goes for the
                // warranty and lifecycle listings. Both are read at once: neither depends on
                // the other, and each is a few requests.
                let ids: Vec<&str> = clients
                    .iter()
                    .map(|t| t.client.external_id.as_str())
                    .filter(|id| read.contains(*id))
                    .collect();
                let (billing, notes) = tokio::join!(
                    self.billing_usage(&ids, Utc::now().date_naive(), ctx),
                    self.lifecycle(&ids, ctx)
                );
                billing?;
                outcome.notes.extend(notes?);
            }
            outcome.coverage = Coverage::Clients { read, listed };
            Ok(outcome)
        })
    }

    /// `fetch_tenant` as a boxed future. The stream above maps indices rather than
    /// `&Tenant`s: a closure taking a reference is higher-ranked, and the compiler then
    /// cannot prove the boxed run future `Send`.
    fn tenant_task<'a>(
        &'a self,
        index: usize,
        tenant: &'a Tenant,
        ctx: &'a FetchContext,
        tally: &'a Tally,
    ) -> BoxFuture<'a, (usize, TenantRead)> {
        // What happens for one client (retries, a refusal) is logged with its name.
        let span = tracing::info_span!("client", client = %tenant.client.name);
        Box::pin(
            async move {
                let r = if let Some(why) = &tenant.unavailable {
                    TenantRead::Skipped(why.clone())
                } else if tally.vendor_failing() {
                    TenantRead::Skipped(format!(
                        "tenant `{}` ({}): not read, as Auvik failed on every tenant tried before it",
                        tenant.client.name, tenant.client.external_id
                    ))
                } else {
                    let r = self.fetch_tenant(tenant, ctx).await;
                    tally.record(&r);
                    r
                };
                match &r {
                    TenantRead::Skipped(why) => tracing::warn!("Skipped a tenant: {why}."),
                    TenantRead::Failed(e) if !matches!(e, VendorError::Cancelled) => {
                        tracing::warn!(error = %e, "Could not read a tenant to the end.")
                    }
                    _ => {}
                }
                ctx.progress.clients_done.fetch_add(1, Ordering::Relaxed);
                (index, r)
            }
            .instrument(span),
        )
    }

    /// Reads Auvik's billing usage of `tenant_ids` for the month of `today` (so far) and the
    /// month before, and hands it on. Billing is optional: any failure other than a
    /// cancellation becomes a note (said once by the sync layer), never a failed run.
    async fn billing_usage(
        &self,
        tenant_ids: &[&str],
        today: NaiveDate,
        ctx: &FetchContext,
    ) -> Result<(), VendorError> {
        if tenant_ids.is_empty() {
            return Ok(());
        }
        // Every request of both months, read TENANT_CONCURRENCY at a time (one after
        // another they were the tail of every full run) and taken in order, so the first
        // failure decides the note as it did read one by one.
        let mut requests = Vec::new();
        for (from, thru) in billing_periods(today) {
            for chunk in tenant_ids.chunks(BILLING_TENANTS_PER_REQUEST) {
                let url = self.url(
                    "v1/billing/usage/client",
                    &[
                        ("tenants", &chunk.join(",")),
                        ("filter[fromDate]", &from.to_string()),
                        ("filter[thruDate]", &thru.to_string()),
                    ],
                )?;
                requests.push((from, url));
            }
        }
        let mut answers = stream::iter(requests)
            .map(|(from, url)| async move {
                // No second look on a 403 here: billing is optional, and a refusal only
                // leaves a note (a second look would add its pause to every full run of a
                // user without billing rights).
                let answer = self.get_once(&url, ctx).await.map(|r| r.body);
                (from, url, answer)
            })
            .buffered(TENANT_CONCURRENCY);
        let mut usage = Vec::new();
        while let Some((from, url, answer)) = answers.next().await {
            let unreadable = |cause: &dyn std::fmt::Display| {
                format!(
                    "Auvik's billing usage could not be read ({cause}); counts are shown without Auvik's figures"
                )
            };
            let note = match answer {
                Ok(body) => match decode::<Document<Vec<UsageResource>>>(&url, body) {
                    Ok(doc) => {
                        usage.extend(doc.data.into_iter().filter_map(|u| u.usage(from)));
                        continue;
                    }
                    Err(e) => unreadable(&e),
                },
                Err(Err(VendorError::Cancelled)) => return Err(VendorError::Cancelled),
                Err(Err(e)) => unreadable(&e),
                Err(Ok(f)) if f.status == StatusCode::FORBIDDEN => format!(
                    "Auvik's billing usage is not readable by this API user (403 from {}{}): to compare \
                     billable counts with Auvik's, give the user permission to view billing; \
                     counts are shown without Auvik's figures",
                    redact(&url),
                    error_detail(&f.body)
                ),
                Err(Ok(f)) => unreadable(&self.explain(&url, &f)),
            };
            return ctx.send(Batch::UsageUnavailable(note)).await;
        }
        ctx.send(Batch::Usage(usage)).await
    }

    /// The client tenants, named by their display names, with those Auvik says cannot be
    /// read marked unavailable; and every tenant id the (complete) tenant list names.
    async fn tenants(&self, ctx: &FetchContext) -> Result<Tenants, VendorError> {
        let url = self.url("v1/tenants", &[])?;
        let body = self.get_or_fail(&url, ctx).await?;
        let list: Document<Vec<TenantResource>> = decode(&url, body)?;
        // Display names and whether each tenant runs come from the detail list, which needs
        // the root domain prefix. If it cannot be read, tenants keep their domain prefix as
        // the name and are all tried, rather than failing the run.
        let prefix = self.config.domain_prefix.as_str();
        let detail_url = self.url("v1/tenants/detail", &[("tenantDomainPrefix", prefix)])?;
        let details: HashMap<String, TenantDetailAttributes> = match self
            .get(&detail_url, ctx)
            .await
        {
            Ok(body) => decode::<Document<Vec<TenantDetailResource>>>(&detail_url, body)?
                .data
                .into_iter()
                .filter_map(|t| Some((t.id, t.attributes?)))
                .collect(),
            Err(Err(e)) => return Err(e),
            Err(Ok(f)) if f.status == StatusCode::UNAUTHORIZED => {
                return Err(self.explain(&detail_url, &f));
            }
            Err(Ok(f)) => {
                tracing::warn!(status = f.status.as_u16(), domain_prefix = %self.config.domain_prefix,
                        "Auvik tenant details are unreadable; tenants are named by their domain prefix. Check `domain_prefix`.");
                HashMap::new()
            }
        };
        // Which tenants Auvik says data can be read from (`filter[availableTenants]`); a
        // tenant left out is not read (it would only answer 403), and its devices stay as
        // they were. Without the answer, every tenant is tried.
        let available_url = self.url(
            "v1/tenants/detail",
            &[
                ("tenantDomainPrefix", prefix),
                ("filter[availableTenants]", "true"),
            ],
        )?;
        let available: Option<std::collections::HashSet<String>> =
            match self.get(&available_url, ctx).await {
                Ok(body) => Some(
                    decode::<Document<Vec<TenantDetailResource>>>(&available_url, body)?
                        .data
                        .into_iter()
                        .map(|t| t.id)
                        .collect(),
                ),
                Err(Err(e)) => return Err(e),
                Err(Ok(_)) => None,
            };
        Ok(tenants_from(list.data, &details, available.as_ref()))
    }

    /// Streams one tenant's devices, to the end of its listing or not at all.
    async fn fetch_tenant(&self, tenant: &Tenant, ctx: &FetchContext) -> TenantRead {
        let id = tenant.client.external_id.as_str();
        let skip = |f: &Failure| {
            format!(
                "tenant `{}` ({id}): Auvik answered 403 twice{}; give the API user a role in this tenant",
                tenant.client.name,
                error_detail(&f.body)
            )
        };
        // From a margin before the previous run began (`INCREMENTAL_OVERLAP`): what was
        // modified around that moment is listed again rather than missed.
        let since = ctx
            .modified_since
            .filter(|_| ctx.kind == RunKind::Incremental)
            .map(|t| (t - INCREMENTAL_OVERLAP).to_rfc3339_opts(SecondsFormat::Millis, true));
        // manageStatus and the interfaces' MACs live on the device *detail* resource; v1
        // device info has neither. `include=deviceDetail` brings each page's details in the
        // same response (research §4.2-4.3), limited to those two fields: one request per
        // page instead of two lists to join, and an incremental run reads the details of
        // the changed devices only.
        let info = |page_size: u32| {
            let page_size = page_size.to_string();
            let mut query = vec![
                ("tenants", id),
                ("page[first]", page_size.as_str()),
                ("include", "deviceDetail"),
                ("fields[deviceDetail]", "manageStatus,interfaces"),
            ];
            if let Some(s) = &since {
                query.push(("filter[modifiedAfter]", s));
            }
            self.url("v1/inventory/device/info", &query)
        };
        let pages = std::sync::atomic::AtomicUsize::new(0);
        let read = |url: url::Url| {
            self.paginate(url, ctx, |page: InfoPage| {
                pages.fetch_add(1, Ordering::Relaxed);
                let records = page.into_records(id);
                async move {
                    if !records.is_empty() {
                        ctx.send(Batch::Assets(records)).await?;
                    }
                    Ok(())
                }
            })
        };
        let first = match info(PAGE_SIZE) {
            Ok(u) => u,
            Err(e) => return TenantRead::Failed(e),
        };
        let mut r = read(first).await;
        // v1's largest page is not documented (public clients allow 1000, the spec states
        // only the default, 100). A first page refused as a bad request, or that Auvik could
        // not produce in time (a 5xx or a timeout after the HTTP client's retries: a page of
        // 1000 devices with their details is Auvik's heaviest answer), is asked again at the
        // documented default, or the tenant would fail on every run. Only while nothing has
        // been read: a failure once pages have been read is not about the page size and
        // stays a failure.
        if let Some(why) = page_size_suspect(&r)
            && pages.load(Ordering::Relaxed) == 0
        {
            tracing::info!(
                tenant = id,
                why,
                "Auvik failed a page of {PAGE_SIZE} devices; asking for pages of {SPEC_DEFAULT_PAGE_SIZE}."
            );
            r = match info(SPEC_DEFAULT_PAGE_SIZE) {
                Ok(u) => read(u).await,
                Err(e) => return TenantRead::Failed(e),
            };
        }
        match r {
            Err(Ok(f)) if f.status == StatusCode::FORBIDDEN && !says_throttled(&f.body) => {
                TenantRead::Skipped(skip(&f))
            }
            Err(Ok(f)) => TenantRead::Failed(self.explain(&self.base, &f)),
            Err(Err(e)) => TenantRead::Failed(e),
            Ok(()) => TenantRead::Complete,
        }
    }

    /// Follows `links.next` from `first`, handing each decoded page to `each`.
    async fn paginate<T, F, Fut>(
        &self,
        first: url::Url,
        ctx: &FetchContext,
        each: F,
    ) -> Result<(), Result<Failure, VendorError>>
    where
        T: serde::de::DeserializeOwned + HasNext,
        F: FnMut(T) -> Fut,
        Fut: std::future::Future<Output = Result<(), VendorError>>,
    {
        self.paginate_with(first, ctx, true, each).await
    }

    /// `paginate` without the second look at a plain 403 (`get_response`): for optional
    /// listings, where a refusal only costs a note and a second look would add its pause
    /// to every full run of a user without the permission. Throttling is still waited out.
    async fn paginate_once<T, F, Fut>(
        &self,
        first: url::Url,
        ctx: &FetchContext,
        each: F,
    ) -> Result<(), Result<Failure, VendorError>>
    where
        T: serde::de::DeserializeOwned + HasNext,
        F: FnMut(T) -> Fut,
        Fut: std::future::Future<Output = Result<(), VendorError>>,
    {
        self.paginate_with(first, ctx, false, each).await
    }

    async fn paginate_with<T, F, Fut>(
        &self,
        first: url::Url,
        ctx: &FetchContext,
        second_look: bool,
        mut each: F,
    ) -> Result<(), Result<Failure, VendorError>>
    where
        T: serde::de::DeserializeOwned + HasNext,
        F: FnMut(T) -> Fut,
        Fut: std::future::Future<Output = Result<(), VendorError>>,
    {
        let mut url = first.clone();
        let mut seen = HashSet::new();
        let mut previous: Vec<String> = Vec::new();
        for _ in 0..MAX_PAGES_PER_LIST {
            let body = if second_look {
                self.get(&url, ctx).await?
            } else {
                self.get_once(&url, ctx).await?.body
            };
            let page: T = decode_page(&url, body).map_err(Err)?;
            let next = page.next_link();
            // A cursor that hands out fresh links to the same records never ends by itself:
            // a page holding exactly the records of the page before it stops the listing.
            let ids: Vec<String> = page.record_ids().into_iter().map(str::to_string).collect();
            if !ids.is_empty() && ids == previous {
                return Err(Err(VendorError::Decode(format!(
                    "{}: Auvik's paging loops: it sent the same devices as the page before; this listing \
                     stops here",
                    redact(&url)
                ))));
            }
            previous = ids;
            each(page).await.map_err(Err)?;
            let Some(next) = next else { return Ok(()) };
            let next = with_first_parameters(self.follow(&url, &next).map_err(Err)?, &first);
            if !seen.insert(next.to_string()) {
                return Err(Err(VendorError::Decode(format!(
                    "{}: Auvik's paging loops (links.next points back at a page already read); the run stops here",
                    redact(&url)
                ))));
            }
            url = next;
        }
        Err(Err(VendorError::Decode(format!(
            "{}: more than {MAX_PAGES_PER_LIST} pages; Auvik's paging looks broken, the run stops here",
            redact(&url)
        ))))
    }

    /// Resolves a `links.next` value against the configured `base_url`. Auvik writes its
    /// links with its own host name, which is not the configured one when `base_url` is a
    /// proxy in front of Auvik: only the link's path and query are followed, always on the
    /// configured origin, so paging works behind a proxy and the credentials go nowhere
    /// else whatever a link names.
    fn follow(&self, current: &url::Url, next: &str) -> Result<url::Url, VendorError> {
        let next = current.join(next).map_err(|e| {
            VendorError::Decode(format!(
                "{}: links.next is not a URL ({e})",
                redact(current)
            ))
        })?;
        if next.origin() == self.base.origin() {
            return Ok(next);
        }
        // The link's path under the configured base (a proxy may serve Auvik under a
        // prefix, e.g. `https://proxy.example/auvik/`).
        let path = next.path().trim_start_matches('/');
        let mut url = self.base.join(path).map_err(|e| {
            VendorError::Decode(format!(
                "{}: links.next has a path that cannot be followed ({e})",
                redact(current)
            ))
        })?;
        url.set_query(next.query());
        tracing::debug!(
            link_host = next.host_str().unwrap_or(""),
            "Following Auvik's next link on the configured base_url."
        );
        Ok(url)
    }

    /// `presence` as a boxed future (indices reach the stream closure, as in `tenant_task`).
    fn presence_task<'a>(
        &'a self,
        id: &'a str,
        ctx: &'a FetchContext,
    ) -> BoxFuture<'a, Result<Presence, VendorError>> {
        Box::pin(self.presence(id, ctx))
    }

    /// Asks Auvik for one device, to confirm a removal.
    async fn presence(&self, id: &str, ctx: &FetchContext) -> Result<Presence, VendorError> {
        let url = self.url(&format!("v1/inventory/device/info/{id}"), &[])?;
        match self.get_once(&url, ctx).await {
            Ok(r) => Ok(presence_of(&r.body, id)),
            // Auvik's own 404; a web page answering 404 is a gateway's or a proxy's, and
            // says nothing of the device.
            Err(Ok(f)) if f.status == StatusCode::NOT_FOUND && !is_web_page(&f.body) => {
                Ok(Presence::Gone)
            }
            // A 403 that is not throttling says the API user may not see the device (its
            // tenant's role was taken away, or the tenant is unavailable; public clients read
            // 403 as "no permission for this tenant"), not that it is gone. `Unknown` would
            // remove it after a second absence; `Refused` keeps it and never counts towards
            // its removal, and the run's message says what to do.
            Err(Ok(f)) if f.status == StatusCode::FORBIDDEN && !says_throttled(&f.body) => {
                tracing::debug!(device = id, detail = %error_detail(&f.body),
                    "Auvik refused the lookup of a device missing from the listing (403).");
                Ok(Presence::Refused(format!(
                    "Auvik refused their lookup (403{}): if their client has left, remove the \
                     tenant's devices in Auvik; otherwise give the API user a role in their tenant",
                    error_detail(&f.body)
                )))
            }
            Err(Ok(f)) => Ok(Presence::Unknown(format!(
                "Auvik answered {} for the device",
                f.status.as_u16()
            ))),
            Err(Err(e @ (VendorError::Cancelled | VendorError::SinkClosed))) => Err(e),
            Err(Err(e)) => Ok(Presence::Unknown(e.to_string())),
        }
    }
}

/// `next` with every query parameter of the listing's `first` request that it lacks added
/// back. The spec's only `links.next` example carries just `page[after]` and `page[first]`
/// (the cursor encodes a position, nothing else): a next link without `tenants`,
/// `include=deviceDetail`, `fields[deviceDetail]` or `filter[modifiedAfter]` would read the
/// following pages without device details (managed unknown, billable devices no longer
/// counted) or across the whole account. A parameter the link carries is never duplicated
/// or overridden: its cursor and page size are Auvik's.
fn with_first_parameters(mut next: url::Url, first: &url::Url) -> url::Url {
    let carried: HashSet<String> = next.query_pairs().map(|(k, _)| k.into_owned()).collect();
    let missing: Vec<(String, String)> = first
        .query_pairs()
        .filter(|(k, _)| !carried.contains(k.as_ref()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if !missing.is_empty() {
        next.query_pairs_mut().extend_pairs(missing);
    }
    next
}

/// The tenants a run reads, from the tenant list and what the two detail lists said (display
/// names and running state by tenant id; which tenants are available, when Auvik answered).
fn tenants_from(
    list: Vec<TenantResource>,
    details: &HashMap<String, TenantDetailAttributes>,
    available: Option<&HashSet<String>>,
) -> Tenants {
    let listed = list.iter().map(|t| t.id.clone()).collect();
    // An MSP's clients are its `client` tenants; multi-clients only group them. A
    // single-company account has no client tenants: its one tenant is the client.
    let is_client = |t: &TenantResource| {
        t.attributes.as_ref().and_then(|a| a.tenant_type.as_deref()) == Some("client")
    };
    let list: Vec<TenantResource> = if list.iter().any(is_client) {
        list.into_iter().filter(is_client).collect()
    } else {
        list
    };
    // A filtered list that leaves out every tenant the run would read (or is empty while
    // there are tenants) says more of the filter than of the tenants: followed, it would
    // read nothing and report every client unavailable. It is ignored, and every tenant is
    // tried (one the API user may not read answers 403 and is skipped as such).
    let mut notes = Vec::new();
    let available = available.filter(|a| {
        let sane = list.is_empty() || list.iter().any(|t| a.contains(&t.id));
        if !sane {
            let note = format!(
                "Auvik's filter[availableTenants] left out all {} tenants, so it was ignored and \
                 every tenant was tried; if tenants are really disabled, Auvik's tenant details \
                 say so",
                list.len()
            );
            tracing::warn!("{note}.");
            notes.push(note);
        }
        sane
    });
    let clients = list
        .into_iter()
        .map(|t| {
            let attrs = t.attributes.unwrap_or_default();
            let prefix = attrs.domain_prefix.unwrap_or_default();
            let detail = details.get(&t.id);
            let name = detail
                .and_then(|d| d.display_name.as_deref())
                .map(clean_name)
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| prefix.clone());
            let off = detail.and_then(|d| {
                match (d.enabled, d.running) {
                    (Some(false), _) => Some("disabled"),
                    (_, Some(false)) => Some("not running"),
                    _ => None,
                }
            });
            let left_out = available.is_some_and(|a| !a.contains(&t.id));
            let unavailable = (off.is_some() || left_out).then(|| {
                format!(
                    "tenant `{name}` ({}): Auvik reports it unavailable to the API ({}), so it was not \
                     read and its devices are kept as they were; if the client has left, remove the \
                     tenant in Auvik, or give the API user access to it",
                    t.id,
                    off.unwrap_or("left out of filter[availableTenants]")
                )
            });
            Tenant {
                unavailable,
                client: SourceClient {
                    aliases: [prefix, t.id.clone()]
                        .into_iter()
                        .filter(|a| !a.is_empty() && *a != name)
                        .collect(),
                    external_id: t.id,
                    name,
                },
            }
        })
        .collect();
    Tenants {
        clients,
        listed,
        notes,
    }
}

/// Why a listing's first page may have failed for its size (a refusal as a bad request, a
/// server error or a timeout after retries), or `None` when the failure is not about it.
fn page_size_suspect(r: &Result<(), Result<Failure, VendorError>>) -> Option<&'static str> {
    match r {
        Err(Ok(f)) if f.status == StatusCode::BAD_REQUEST => Some("400"),
        Err(Ok(f)) if f.status.is_server_error() => Some("server error"),
        Err(Err(e)) if super::http::timed_out(e) => Some("timeout"),
        _ => None,
    }
}

/// What a 200 answer to the single-device lookup of `id` says: the device is there only
/// when `data` is that device (an object with its id). A 200 with `data` null, `[]`, `{}`
/// or another device's says nothing certain either way (Auvik answers a device it does not
/// have with 404), so the device is kept until a second complete run finds it absent.
fn presence_of(body: &str, id: &str) -> Presence {
    #[derive(Deserialize)]
    struct Lookup {
        data: Option<serde_json::Value>,
    }
    match serde_json::from_str::<Lookup>(body) {
        Ok(Lookup { data: Some(d) }) if d.get("id").and_then(|v| v.as_str()) == Some(id) => {
            Presence::Present
        }
        Ok(Lookup { data }) => Presence::Unknown(format!(
            "Auvik answered the lookup of device {id} with 200 but {}",
            match data {
                None | Some(serde_json::Value::Null) => "no device".to_string(),
                Some(serde_json::Value::Object(o)) if o.is_empty() => "an empty object".into(),
                Some(serde_json::Value::Object(_)) => "another device".into(),
                Some(_) => "something that is not a device".into(),
            }
        )),
        Err(e) => Presence::Unknown(format!(
            "Auvik's answer for the device is not its documented shape ({e})"
        )),
    }
}

/// How one tenant's read ended.
enum TenantRead {
    /// Every page of its devices was read.
    Complete,
    /// Not read, and why with what to do (refused, or Auvik says it is unavailable).
    Skipped(String),
    /// Its listing broke off; the error says how.
    Failed(VendorError),
}

/// Whether an error ends the whole run rather than one tenant's read.
fn is_run_fatal(e: &VendorError) -> bool {
    matches!(e, VendorError::Cancelled | VendorError::SinkClosed)
}

/// The tenants a run reads, and every tenant id the tenant list named.
struct Tenants {
    clients: Vec<Tenant>,
    listed: std::collections::HashSet<String>,
    /// What the run's message says of how the tenants were chosen (an ignored filter).
    notes: Vec<String>,
}

/// How the run's tenant reads are going, so that a run against a failing Auvik stops after
/// the first few tenants instead of retrying every one of them.
#[derive(Default)]
struct Tally {
    complete: std::sync::atomic::AtomicUsize,
    failed: std::sync::atomic::AtomicUsize,
}

impl Tally {
    fn record(&self, r: &TenantRead) {
        let counter = match r {
            TenantRead::Complete => &self.complete,
            TenantRead::Failed(_) => &self.failed,
            TenantRead::Skipped(_) => return,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Every one of the first few tenants failed and none was read.
    fn vendor_failing(&self) -> bool {
        self.complete.load(Ordering::Relaxed) == 0
            && self.failed.load(Ordering::Relaxed) >= TENANT_CONCURRENCY
    }
}

impl Connector for Auvik {
    fn supports_incremental(&self) -> bool {
        true
    }

    fn fetch<'a>(
        &'a self,
        ctx: &'a FetchContext,
    ) -> BoxFuture<'a, Result<FetchOutcome, VendorError>> {
        self.fetch_all(ctx)
    }

    /// Auvik has a single-device lookup (`readSingleDeviceInfo`), cheap beside its budget:
    /// 404 confirms a removal, and a device it still has is kept.
    fn confirm_absent<'a>(
        &'a self,
        ctx: &'a FetchContext,
        external_ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<Presence>, VendorError>> {
        Box::pin(async move {
            stream::iter(0..external_ids.len())
                .map(|i| self.presence_task(&external_ids[i], ctx))
                .buffered(TENANT_CONCURRENCY)
                .collect::<Vec<_>>()
                .await
                .into_iter()
                .collect()
        })
    }
}

/// The billing periods a full run reads: the month of `today` up to `today` (Auvik's
/// `thruDate` is inclusive), then the whole previous month, which may still be open to
/// corrections in its first days.
fn billing_periods(today: NaiveDate) -> [(NaiveDate, NaiveDate); 2] {
    let first = today.with_day(1).unwrap_or(today);
    let last_of_previous = first.checked_sub_days(Days::new(1)).unwrap_or(first);
    let first_of_previous = last_of_previous.with_day(1).unwrap_or(last_of_previous);
    [(first, today), (first_of_previous, last_of_previous)]
}

/// The region in a `Location` such as `https://auvikapi.eu1.my.auvik.com/v1/...`.
fn region_of(location: &str) -> Option<String> {
    let url = url::Url::parse(location).ok()?;
    let host = url.host_str()?;
    let region = host
        .strip_prefix("auvikapi.")?
        .strip_suffix(".my.auvik.com")?;
    Some(region.to_string())
}

/// The `detail` or `title` of a JSON:API error body, for messages.
fn error_detail(body: &str) -> String {
    let v: serde_json::Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(_) => return String::new(),
    };
    let first = &v["errors"][0];
    first["detail"]
        .as_str()
        .or_else(|| first["title"].as_str())
        .map(|d| format!(": {}", d.chars().take(200).collect::<String>()))
        .unwrap_or_default()
}

/// A listing page. Auvik's Integration Guide has a section on "non-standard responses, such
/// as a response for a query with no results": a page whose `data` is missing or null is an
/// empty page, but only when the body is otherwise a JSON:API document (its members all
/// top-level JSON:API ones, which the spec's `additionalProperties: false` allows alone).
/// Anything else without `data` (another API's shape, a proxy's answer) stays an answer
/// that cannot be understood: taken for "no devices", it would remove a tenant's devices.
fn decode_page<T: serde::de::DeserializeOwned + HasNext>(
    url: &url::Url,
    body: String,
) -> Result<T, VendorError> {
    const JSON_API_MEMBERS: [&str; 5] = ["data", "included", "links", "meta", "jsonapi"];
    let page: T = serde_json::from_str(&body).map_err(|e| shape_error(url, &e))?;
    if page.data_absent() {
        let members: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&body).map_err(|e| shape_error(url, &e))?;
        if let Some(odd) = members
            .keys()
            .find(|k| !JSON_API_MEMBERS.contains(&k.as_str()))
        {
            return Err(VendorError::Decode(format!(
                "{}: Auvik's response has no `data` and a member `{}` that is not JSON:API's, so \
                 it is not taken for an empty page",
                redact(url),
                odd.chars().take(40).collect::<String>()
            )));
        }
    }
    Ok(page)
}

fn shape_error(url: &url::Url, e: &serde_json::Error) -> VendorError {
    VendorError::Decode(format!(
        "{}: Auvik's response does not have the documented shape ({e})",
        redact(url)
    ))
}

fn decode<T: serde::de::DeserializeOwned>(url: &url::Url, body: String) -> Result<T, VendorError> {
    serde_json::from_str(&body).map_err(|e| shape_error(url, &e))
}

fn to_record(
    d: DeviceResource,
    tenant_id: &str,
    details: &mut HashMap<String, Detail>,
) -> ReportedAsset {
    // The device names its detail; the spec's own example gives it another id than the
    // device's (research §4.3), so the relationship decides, the device id is the fallback.
    let detail_id = d
        .relationships
        .as_ref()
        .and_then(|r| r.device_detail.as_ref())
        .and_then(|r| r.data.as_ref())
        .map(|r| r.id.clone());
    let detail = detail_id
        .and_then(|i| details.remove(&i))
        .or_else(|| details.remove(&d.id))
        .unwrap_or_default();
    let mut macs = detail.macs;
    macs.sort();
    macs.dedup();
    let a = d.attributes.unwrap_or_default();
    let device_type = a.device_type.unwrap_or_default();
    let text = |s: Option<String>| s.map(|s| s.trim().to_string()).unwrap_or_default();
    let time = |s: Option<String>| {
        s.and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
            .map(|t| t.with_timezone(&Utc))
    };
    let tenant = d
        .relationships
        .and_then(|r| r.tenant)
        .and_then(|t| t.data)
        .map(|t| t.id)
        .unwrap_or_else(|| tenant_id.to_string());
    ReportedAsset {
        managed: detail.managed,
        external_id: d.id,
        source_client_id: tenant,
        name: text(a.device_name),
        category: Some(category_for(&device_type).unwrap_or(Category::Unknown)),
        vendor_type: device_type,
        manufacturer: text(a.vendor_name),
        model: text(a.make_model),
        serial: text(a.serial_number),
        mac_addresses: macs,
        ip_addresses: a
            .ip_addresses
            .unwrap_or_default()
            .into_iter()
            .flatten()
            .collect(),
        os: text(a.software_version),
        firmware: text(a.firmware_version),
        online_status: text(a.online_status),
        last_seen: time(a.last_seen_time),
        updated_at: time(a.last_modified),
        raw: String::new(),
    }
}

// ---------------------------------------------------------------------------------------
// Wire types: only what assetd reads. Every field is optional because Auvik sends nulls
// where its spec says "required" (research §4.3).

#[derive(Clone)]
struct Tenant {
    client: SourceClient,
    /// Why it is not read, when Auvik says it is unavailable to the API.
    unavailable: Option<String>,
}

trait HasNext {
    fn next_link(&self) -> Option<String>;
    /// The ids of the page's records, to notice a page that repeats the one before it.
    fn record_ids(&self) -> Vec<&str> {
        Vec::new()
    }
    /// Whether the page came without `data` (missing or null): see `decode_page`.
    fn data_absent(&self) -> bool {
        false
    }
}

#[derive(Deserialize)]
struct Document<T> {
    data: T,
    #[serde(default)]
    links: Option<Links>,
}

impl<T> HasNext for Document<T> {
    fn next_link(&self) -> Option<String> {
        next_of(self.links.as_ref())
    }
}

/// The end of data is `next` absent, null or empty (clients disagree; accept all).
fn next_of(links: Option<&Links>) -> Option<String> {
    links
        .and_then(|l| l.next.clone())
        .filter(|n| !n.trim().is_empty())
}

#[derive(Deserialize, Default)]
struct Links {
    next: Option<String>,
}

#[derive(Deserialize)]
struct TenantResource {
    id: String,
    attributes: Option<TenantAttributes>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct TenantAttributes {
    domain_prefix: Option<String>,
    tenant_type: Option<String>,
}

#[derive(Deserialize)]
struct TenantDetailResource {
    id: String,
    attributes: Option<TenantDetailAttributes>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TenantDetailAttributes {
    display_name: Option<String>,
    enabled: Option<bool>,
    running: Option<bool>,
}

/// What the detail list adds to a device.
#[derive(Default)]
struct Detail {
    managed: Option<bool>,
    macs: Vec<String>,
}

/// A `/v1/inventory/device/info` page with `include=deviceDetail`.
#[derive(Deserialize)]
struct InfoPage {
    /// `None` when missing or null: an empty page (`decode_page`).
    data: Option<Vec<DeviceResource>>,
    #[serde(default)]
    included: Option<Vec<DetailResource>>,
    #[serde(default)]
    links: Option<Links>,
}

impl InfoPage {
    /// The page's devices as records of tenant `tenant_id`, each with its detail (from
    /// `included`) joined in.
    fn into_records(self, tenant_id: &str) -> Vec<ReportedAsset> {
        let mut details: HashMap<String, Detail> = self
            .included
            .unwrap_or_default()
            .into_iter()
            .filter(|d| d.kind.as_deref().is_none_or(|k| k == "deviceDetail"))
            .map(DetailResource::into_detail)
            .collect();
        self.data
            .unwrap_or_default()
            .into_iter()
            .map(|d| to_record(d, tenant_id, &mut details))
            .collect()
    }
}

impl HasNext for InfoPage {
    fn next_link(&self) -> Option<String> {
        next_of(self.links.as_ref())
    }

    fn record_ids(&self) -> Vec<&str> {
        self.data.iter().flatten().map(|d| d.id.as_str()).collect()
    }

    fn data_absent(&self) -> bool {
        self.data.is_none()
    }
}

#[derive(Deserialize)]
struct DetailResource {
    #[serde(rename = "type")]
    kind: Option<String>,
    id: String,
    attributes: Option<DetailAttributes>,
    relationships: Option<DetailRelationships>,
}

impl DetailResource {
    /// The device id with its managed state and its interfaces' MACs (normalised; zeros and
    /// junk dropped).
    fn into_detail(self) -> (String, Detail) {
        let managed = self.attributes.and_then(|a| a.manage_status);
        let macs = self
            .relationships
            .and_then(|r| r.interfaces)
            .and_then(|i| i.data)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|i| i.attributes?.mac_address)
            .filter_map(|m| normalise_mac(&m))
            .collect();
        (self.id, Detail { managed, macs })
    }
}

#[derive(Deserialize)]
struct DetailRelationships {
    interfaces: Option<InterfaceList>,
}

#[derive(Deserialize)]
struct InterfaceList {
    data: Option<Vec<InterfaceRef>>,
}

#[derive(Deserialize)]
struct InterfaceRef {
    attributes: Option<InterfaceAttributes>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InterfaceAttributes {
    mac_address: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DetailAttributes {
    manage_status: Option<bool>,
}

#[derive(Deserialize)]
struct DeviceResource {
    id: String,
    attributes: Option<DeviceAttributes>,
    relationships: Option<DeviceRelationships>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct DeviceAttributes {
    device_name: Option<String>,
    device_type: Option<String>,
    make_model: Option<String>,
    vendor_name: Option<String>,
    software_version: Option<String>,
    serial_number: Option<String>,
    firmware_version: Option<String>,
    last_modified: Option<String>,
    last_seen_time: Option<String>,
    online_status: Option<String>,
    ip_addresses: Option<Vec<Option<String>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeviceRelationships {
    tenant: Option<Related>,
    device_detail: Option<Related>,
}

#[derive(Deserialize)]
struct Related {
    data: Option<RelatedId>,
}

#[derive(Deserialize)]
struct RelatedId {
    id: String,
}

/// One tenant's row of `/v1/billing/usage/client`.
#[derive(Deserialize)]
struct UsageResource {
    id: String,
    attributes: Option<UsageAttributes>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsageAttributes {
    usage_period: Option<UsagePeriod>,
    device_usage: Option<DeviceUsage>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsagePeriod {
    length_in_days: Option<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeviceUsage {
    total_days: Option<f64>,
    average_days: Option<f64>,
}

impl UsageResource {
    /// The figure for the month starting `from`; `None` when Auvik left out the numbers.
    fn usage(self, from: NaiveDate) -> Option<VendorUsage> {
        let a = self.attributes?;
        let d = a.device_usage?;
        let total = d.total_days?;
        let days = a.usage_period.and_then(|p| p.length_in_days);
        // `averageDays` is total / days; derive it when only the total came.
        let average = d
            .average_days
            .or_else(|| days.filter(|n| *n > 0.0).map(|n| total / n))?;
        Some(VendorUsage {
            source_client_id: self.id,
            period: from.format("%Y-%m").to_string(),
            days: days.map(|n| n.round() as i64).unwrap_or(0),
            device_days: total,
            average_billable: average,
        })
    }
}

#[cfg(test)]
mod tests;
