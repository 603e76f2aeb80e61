//! The gRPC adapters: validate the request (naming the bad field), call `Service`, convert
//! the answer. No domain logic and no HTTP here. `status` is the one place where domain
//! errors become gRPC statuses.

use crate::api::proto::{self as pb};
use crate::api::wire::{AssetPage, DecodedAssets};
use crate::model::{
    self, Category, Lifecycle, RunKind, RunState, RunTrigger, SupportStatus, SyncRun,
    WarrantyStatus,
};
use crate::service::{ApiError, Service, SourceView};
use crate::store::{AssetFilter, LifecycleFilter};
use crate::sync::SourceState;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDate;
use chrono::{DateTime, Utc};
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

const DEFAULT_PAGE: usize = 100;
const MAX_PAGE: usize = 1000;
const MAX_QUERY_CHARS: usize = 200;
const MAX_NAME_CHARS: usize = 256;
/// Assets read at a time by `ExportAssets`; a client that stops reading keeps at most one
/// such page in the agent's memory for as long as it stays connected.
const EXPORT_PAGE: usize = 200;

/// The one mapping from domain errors to gRPC statuses.
/// The one place a domain error becomes a gRPC status; handlers return `ApiError`s with `?`.
impl From<ApiError> for Status {
    fn from(e: ApiError) -> Status {
        match e {
            ApiError::InvalidArgument { .. } => Status::invalid_argument(e.to_string()),
            ApiError::NotFound(m) => Status::not_found(m),
            ApiError::FailedPrecondition(m) => Status::failed_precondition(m),
            ApiError::Unimplemented(m) => Status::unimplemented(m),
            ApiError::Unavailable(m) => Status::unavailable(m),
            ApiError::Unauthenticated(m) => Status::unauthenticated(m),
            ApiError::ResourceExhausted(m) => Status::resource_exhausted(m),
            ApiError::OutOfRange(m) => Status::out_of_range(m),
            ApiError::Internal(m) => {
                tracing::error!(error = %m, "Internal error answering an RPC.");
                Status::internal(m)
            }
        }
    }
}

type RpcResult<T> = Result<Response<T>, Status>;
type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

// ---------------------------------------------------------------------------------------
// Validation helpers

fn page_size(field: &'static str, n: i32) -> Result<usize, ApiError> {
    match n {
        n if n < 0 => Err(ApiError::invalid(field, "must not be negative")),
        0 => Ok(DEFAULT_PAGE),
        n => Ok((n as usize).min(MAX_PAGE)),
    }
}

/// A page read as `limit + 1` rows: the extra row, if it came, says another page follows.
/// Cuts the rows to `limit` and returns the token of the next page (from the last row kept),
/// or an empty one at the end.
fn next_page<T>(rows: &mut Vec<T>, limit: usize, tag: &str, id_of: impl Fn(&T) -> i64) -> String {
    if rows.len() <= limit {
        return String::new();
    }
    rows.truncate(limit);
    rows.last()
        .map(|row| encode_token(tag, id_of(row)))
        .unwrap_or_default()
}

/// Page tokens are opaque to clients: a tag and the last id, base64url.
fn encode_token(tag: &str, id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{tag}:{id}"))
}

fn decode_token(field: &'static str, tag: &str, token: &str) -> Result<i64, ApiError> {
    if token.is_empty() {
        return Ok(0);
    }
    let bad = || {
        ApiError::invalid(
            field,
            "is not a page token this server issued; start again without it",
        )
    };
    if token.len() > 64 {
        return Err(bad());
    }
    let raw = URL_SAFE_NO_PAD.decode(token).map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let (t, id) = text.split_once(':').ok_or_else(bad)?;
    if t != tag {
        return Err(bad());
    }
    id.parse::<i64>().ok().filter(|&i| i >= 0).ok_or_else(bad)
}

fn optional_text(field: &'static str, s: &str, max: usize) -> Result<Option<String>, ApiError> {
    if s.chars().count() > max {
        return Err(ApiError::invalid(
            field,
            format!("is longer than {max} characters"),
        ));
    }
    Ok((!s.is_empty()).then(|| s.to_string()))
}

/// `v`, an `assetd.v1.Category` value, as a category; `None` for `CATEGORY_UNSPECIFIED`.
/// The enum lists `Category::ALL` in order from 1 (`crate::listed::category_number`), so
/// the names are written once, in `model`; a test holds the two lists to the same names.
fn category_from_proto(field: &'static str, v: i32) -> Result<Option<Category>, ApiError> {
    if v == 0 {
        return Ok(None);
    }
    // Not `v - 1`: it overflows for i32::MIN. A value that converts is at least 1 here.
    usize::try_from(v)
        .ok()
        .and_then(|n| Category::ALL.get(n - 1).copied())
        .map(Some)
        .ok_or_else(|| ApiError::invalid(field, format!("unknown category value {v}")))
}

pub(crate) fn category_to_proto(c: Category) -> pb::Category {
    pb::Category::try_from(crate::listed::category_number(c)).unwrap_or(pb::Category::Unknown)
}

/// The lifecycle windows a request may ask for: up to a century, in whole days.
const MAX_WINDOW_DAYS: u64 = 36_525;

/// A lifecycle duration as whole days (a part of a day is dropped: dates have no time).
fn whole_days(field: &'static str, d: &prost_types::Duration) -> Result<u32, ApiError> {
    if d.seconds < 0 || d.nanos < 0 {
        return Err(ApiError::invalid(field, "must not be negative"));
    }
    if d.nanos >= 1_000_000_000 {
        return Err(ApiError::invalid(
            field,
            "has nanos of a second or more; carry them into seconds",
        ));
    }
    let days = d.seconds.unsigned_abs() / 86_400;
    if days > MAX_WINDOW_DAYS {
        return Err(ApiError::invalid(field, "is longer than 100 years"));
    }
    Ok(days as u32)
}

/// The lifecycle filters of a request, for `today`.
fn lifecycle_filter(
    today: NaiveDate,
    expires_within: Option<&prost_types::Duration>,
    expired: bool,
    older_than: Option<&prost_types::Duration>,
) -> Result<LifecycleFilter, ApiError> {
    let shift = |field, d: &prost_types::Duration, forward: bool| -> Result<NaiveDate, ApiError> {
        let days = chrono::Days::new(u64::from(whole_days(field, d)?));
        let moved = if forward {
            today.checked_add_days(days)
        } else {
            today.checked_sub_days(days)
        };
        moved.ok_or_else(|| ApiError::invalid(field, "reaches past the calendar"))
    };
    Ok(LifecycleFilter {
        today,
        expires_until: expires_within
            .map(|d| shift("warranty_expires_within", d, true))
            .transpose()?,
        expired,
        purchased_by: older_than
            .map(|d| shift("older_than", d, false))
            .transpose()?,
    })
}

// ---------------------------------------------------------------------------------------
// Conversions

pub(crate) fn warranty_status_to_proto(w: WarrantyStatus) -> pb::WarrantyStatus {
    match w {
        WarrantyStatus::Covered => pb::WarrantyStatus::Covered,
        WarrantyStatus::NotCovered => pb::WarrantyStatus::NotCovered,
        WarrantyStatus::Expired => pb::WarrantyStatus::Expired,
        WarrantyStatus::Unknown => pb::WarrantyStatus::Unknown,
    }
}

pub(crate) fn support_status_to_proto(s: Option<SupportStatus>) -> pb::SupportStatus {
    match s {
        None => pb::SupportStatus::Unspecified,
        Some(SupportStatus::Covered) => pb::SupportStatus::Covered,
        Some(SupportStatus::Available) => pb::SupportStatus::Available,
        Some(SupportStatus::Expired) => pb::SupportStatus::Expired,
        Some(SupportStatus::SecurityOnly) => pb::SupportStatus::SecurityOnly,
        Some(SupportStatus::Unpublished) => pb::SupportStatus::Unpublished,
    }
}

/// A calendar date as the API writes it, `YYYY-MM-DD`; empty for none.
pub(crate) fn date_text(d: Option<NaiveDate>) -> String {
    d.map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// Day counts fit an i32; saturate rather than wrap if a bug ever says otherwise.
fn clamp_i32(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(if n < 0 { i32::MIN } else { i32::MAX })
}

pub(crate) fn timestamp(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: t.timestamp_subsec_nanos() as i32,
    }
}

fn duration(d: std::time::Duration) -> prost_types::Duration {
    prost_types::Duration {
        seconds: d.as_secs() as i64,
        nanos: d.subsec_nanos() as i32,
    }
}

/// `a` as the API sends it, its lifecycle status and age as of `today`.
pub(crate) fn asset_to_proto(a: model::Asset, today: NaiveDate) -> pb::Asset {
    let r = a.record;
    let lc: Lifecycle = a.lifecycle;
    pb::Asset {
        id: a.id,
        source: a.source,
        external_id: r.external_id,
        client: a.client,
        source_client: a.source_client,
        name: r.name,
        category: category_to_proto(r.category.unwrap_or(Category::Unknown)) as i32,
        vendor_type: r.vendor_type,
        manufacturer: r.manufacturer,
        model: r.model,
        serial: r.serial,
        mac_addresses: r.mac_addresses,
        ip_addresses: r.ip_addresses,
        os: r.os,
        firmware: r.firmware,
        online_status: r.online_status,
        managed: r.managed,
        billable: a.billable && a.removed_at.is_none(),
        first_seen: Some(timestamp(a.first_seen)),
        last_seen: r.last_seen.map(timestamp),
        updated_at: r.updated_at.map(timestamp),
        removed_at: a.removed_at.map(timestamp),
        device_id: a.device_id,
        raw: r.raw,
        purchase_date: date_text(lc.purchase_date),
        warranty_expires: date_text(lc.warranty_expires),
        warranty_status: warranty_status_to_proto(lc.warranty_status(today)) as i32,
        support_status: support_status_to_proto(lc.support_status) as i32,
        age_days: lc.age_days(today),
        purchase_date_raw: lc.purchase_date_raw,
        warranty_expires_raw: lc.warranty_expires_raw,
    }
}

pub fn run_to_proto(r: SyncRun) -> pb::SyncRun {
    pb::SyncRun {
        id: r.id,
        source: r.source,
        kind: match r.kind {
            RunKind::Full => pb::RunKind::Full,
            RunKind::Incremental => pb::RunKind::Incremental,
        } as i32,
        trigger: match r.trigger {
            RunTrigger::Schedule => pb::RunTrigger::Schedule,
            RunTrigger::Manual => pb::RunTrigger::Manual,
            RunTrigger::Config => pb::RunTrigger::Config,
        } as i32,
        started: Some(timestamp(r.started)),
        finished: r.finished.map(timestamp),
        state: match r.state {
            RunState::Running => pb::RunState::Running,
            RunState::Ok => pb::RunState::Ok,
            RunState::Partial => pb::RunState::Partial,
            RunState::Failed => pb::RunState::Failed,
            RunState::Cancelled => pb::RunState::Cancelled,
        } as i32,
        counts: Some(pb::RunCounts {
            fetched: r.counts.fetched,
            added: r.counts.added,
            updated: r.counts.updated,
            unchanged: r.counts.unchanged,
            removed: r.counts.removed,
            skipped: r.counts.skipped,
            skipped_units: r.counts.skipped_units,
            removals_held: r.counts.removals_held,
        }),
        requests: r.requests,
        retries: r.retries,
        error: r.error,
    }
}

fn source_to_proto(s: SourceView) -> pb::Source {
    pb::Source {
        name: s.name,
        kind: s.kind,
        state: match s.state {
            SourceState::Pending => pb::SourceState::Pending,
            SourceState::Ok => pb::SourceState::Ok,
            SourceState::Syncing => pb::SourceState::Syncing,
            SourceState::Partial => pb::SourceState::Partial,
            SourceState::Failed => pb::SourceState::Failed,
            SourceState::CredentialsRejected => pb::SourceState::CredentialsRejected,
            SourceState::RemovalsHeld => pb::SourceState::RemovalsHeld,
        } as i32,
        state_detail: s.state_detail,
        base_url: s.base_url,
        interval: s.interval.map(duration),
        full_interval: s.full_interval.map(duration),
        last_run: s.last_run.map(run_to_proto),
        next_run_at: s.next_run_at.map(timestamp),
        asset_count: s.asset_count,
        removed_from_config: s.removed_from_config,
        billing_note: s.billing_note,
    }
}

// ---------------------------------------------------------------------------------------
// Services

#[derive(Clone)]
pub struct Api {
    agent: Arc<Service>,
}

impl Api {
    pub fn new(agent: Arc<Service>) -> Api {
        Api { agent }
    }

    /// The agent the API serves (the metrics endpoint reads it too).
    pub fn agent(&self) -> &Arc<Service> {
        &self.agent
    }
}

#[tonic::async_trait]
impl pb::asset_service_server::AssetService for Api {
    async fn list_assets(
        &self,
        req: Request<pb::ListAssetsRequest>,
    ) -> RpcResult<pb::ListAssetsResponse> {
        let r = req.into_inner();
        let limit = page_size("page_size", r.page_size)?;
        let after = decode_token("page_token", "assets", &r.page_token)?;
        let not_seen = match r.not_seen_since {
            None => None,
            Some(d) if d.seconds < 0 || d.nanos < 0 => {
                return Err(Status::from(ApiError::invalid(
                    "not_seen_since",
                    "must not be negative",
                )));
            }
            Some(d) if d.nanos >= 1_000_000_000 => {
                return Err(Status::from(ApiError::invalid(
                    "not_seen_since",
                    "has nanos of a second or more; carry them into seconds",
                )));
            }
            // Checked all the way: a duration reaching before year 0 must be an error, not a
            // panic in the handler.
            Some(d) => Some(
                chrono::Duration::try_seconds(d.seconds)
                    .and_then(|span| Utc::now().checked_sub_signed(span))
                    .ok_or_else(|| ApiError::invalid("not_seen_since", "is too large"))?,
            ),
        };
        let today = model::today();
        let filter = AssetFilter {
            source: optional_text("source", &r.source, MAX_NAME_CHARS)?,
            client: optional_text("client", &r.client, MAX_NAME_CHARS)?,
            category: category_from_proto("category", r.category)?,
            query: optional_text("query", &r.query, MAX_QUERY_CHARS)?,
            last_seen_before: not_seen,
            include_removed: r.include_removed,
            removed_grace_cutoff: None,
            lifecycle: lifecycle_filter(
                today,
                r.warranty_expires_within.as_ref(),
                r.warranty_expired,
                r.older_than.as_ref(),
            )?,
        };
        // One more than asked tells whether a next page exists.
        let page = self
            .agent
            .visit_assets(filter, after, limit + 1, AssetPage::new(limit, today))
            .await?;
        let next_page_token = page
            .next_after()
            .map(|id| encode_token("assets", id))
            .unwrap_or_default();
        Ok(Response::new(page.into_response(next_page_token)))
    }

    async fn get_asset(&self, req: Request<pb::GetAssetRequest>) -> RpcResult<pb::Asset> {
        let id = req.into_inner().id;
        if id <= 0 {
            return Err(Status::from(ApiError::invalid(
                "id",
                "must be a positive asset id",
            )));
        }
        Ok(Response::new(asset_to_proto(
            self.agent.get_asset(id).await?,
            model::today(),
        )))
    }

    async fn list_asset_changes(
        &self,
        req: Request<pb::ListAssetChangesRequest>,
    ) -> RpcResult<pb::ListAssetChangesResponse> {
        let r = req.into_inner();
        if r.asset_id < 0 {
            return Err(Status::from(ApiError::invalid(
                "asset_id",
                "must not be negative",
            )));
        }
        let limit = page_size("page_size", r.page_size)?;
        let after = decode_token("page_token", "changes", &r.page_token)?;
        let mut rows = self
            .agent
            .list_changes(r.asset_id, after, limit + 1)
            .await?;
        let next_page_token = next_page(&mut rows, limit, "changes", |(id, _)| *id);
        Ok(Response::new(pb::ListAssetChangesResponse {
            changes: rows
                .into_iter()
                .map(|(_, c)| pb::AssetChange {
                    asset_id: c.asset_id,
                    run_id: c.run_id,
                    changed_at: Some(timestamp(c.changed_at)),
                    field: c.field,
                    old_value: c.old_value,
                    new_value: c.new_value,
                })
                .collect(),
            next_page_token,
        }))
    }

    async fn list_devices(
        &self,
        req: Request<pb::ListDevicesRequest>,
    ) -> RpcResult<pb::ListDevicesResponse> {
        let r = req.into_inner();
        let limit = page_size("page_size", r.page_size)?;
        let after = decode_token("page_token", "devices", &r.page_token)?;
        let client = optional_text("client", &r.client, MAX_NAME_CHARS)?;
        let today = model::today();
        let lifecycle = lifecycle_filter(
            today,
            r.warranty_expires_within.as_ref(),
            r.warranty_expired,
            r.older_than.as_ref(),
        )?;
        let mut rows = self
            .agent
            .list_devices(client, lifecycle, after, limit + 1)
            .await?;
        let next_page_token = next_page(&mut rows, limit, "devices", |d| d.id);
        Ok(Response::new(pb::ListDevicesResponse {
            devices: rows
                .into_iter()
                .map(|d| pb::Device {
                    id: d.id,
                    client: d.client,
                    name: d.name,
                    category: category_to_proto(d.category.parse().unwrap_or(Category::Unknown))
                        as i32,
                    serial: d.serial,
                    sources: d.sources,
                    asset_ids: d.asset_ids,
                    managed: d.managed,
                    billable: d.billable,
                    age_days: model::age_days(d.purchase_date.as_ref().map(|p| p.0), today),
                    purchase_date: date_text(d.purchase_date.as_ref().map(|p| p.0)),
                    purchase_date_source: d.purchase_date.map(|p| p.1).unwrap_or_default(),
                    warranty_expires: date_text(d.warranty_expires.as_ref().map(|w| w.0)),
                    warranty_expires_source: d.warranty_expires.map(|w| w.1).unwrap_or_default(),
                    warranty_status: warranty_status_to_proto(d.warranty_status) as i32,
                    support_status: support_status_to_proto(d.support_status) as i32,
                })
                .collect(),
            next_page_token,
        }))
    }

    async fn list_clients(
        &self,
        req: Request<pb::ListClientsRequest>,
    ) -> RpcResult<pb::ListClientsResponse> {
        let only_unmapped = req.into_inner().unmapped_only;
        let clients = self.agent.list_clients().await?;
        Ok(Response::new(pb::ListClientsResponse {
            clients: clients
                .into_iter()
                .filter(|c| !only_unmapped || c.unmapped)
                .map(|c| pb::Client {
                    name: c.name,
                    members: c
                        .members
                        .into_iter()
                        .map(|m| pb::ClientMember {
                            source: m.source,
                            external_id: m.external_id,
                            name: m.name,
                            asset_count: m.asset_count,
                        })
                        .collect(),
                    asset_count: c.asset_count,
                    excluded: c.excluded,
                    unmapped: c.unmapped,
                    suggestion: c.suggestion,
                })
                .collect(),
        }))
    }

    async fn get_billable_counts(
        &self,
        req: Request<pb::GetBillableCountsRequest>,
    ) -> RpcResult<pb::GetBillableCountsResponse> {
        let r = req.into_inner();
        let client = optional_text("client", &r.client, MAX_NAME_CHARS)?;
        let period = optional_text("period", &r.period, 7)?;
        if let Some(p) = &period {
            let valid = chrono::NaiveDate::parse_from_str(&format!("{p}-01"), "%Y-%m-%d").is_ok()
                && p.len() == 7;
            if !valid {
                return Err(Status::from(ApiError::invalid(
                    "period",
                    format!("`{p}` is not a month; write YYYY-MM, e.g. 2026-11"),
                )));
            }
        }
        let report = self.agent.billable_counts(client, period).await?;
        let rows = &report.rows;
        let proto = |client: &str, c: &crate::store::BillableCounts| pb::BillableCounts {
            client: client.to_string(),
            total_billable: c.total_billable,
            firewalls: c.firewalls,
            controllers: c.controllers,
            routers: c.routers,
            l3_switches: c.l3_switches,
            voip_switches: c.voip_switches,
            switch_stacks: c.switch_stacks,
            total_switches: c.total_switches,
            access_points: c.access_points,
        };
        Ok(Response::new(pb::GetBillableCountsResponse {
            counts: rows.iter().map(|(c, n, _)| proto(c, n)).collect(),
            maximum: rows
                .iter()
                .filter_map(|(c, _, max)| max.as_ref().map(|m| proto(c, m)))
                .collect(),
            reconciliation: report
                .reconciliation
                .iter()
                .map(|r| pb::BillableReconciliation {
                    client: r.client.clone(),
                    average_billable: r.average_billable,
                    days: clamp_i32(r.days),
                    auvik_average_billable: r.auvik_average_billable,
                    auvik_days: clamp_i32(r.auvik_days),
                    difference: r.difference,
                    auvik_fetched_at: r.auvik_fetched_at.map(timestamp),
                })
                .collect(),
            notes: report.notes,
        }))
    }

    async fn get_lifecycle_summary(
        &self,
        req: Request<pb::GetLifecycleSummaryRequest>,
    ) -> RpcResult<pb::GetLifecycleSummaryResponse> {
        let r = req.into_inner();
        let client = optional_text("client", &r.client, MAX_NAME_CHARS)?;
        if r.within.len() > 16 {
            return Err(Status::from(ApiError::invalid(
                "within",
                "asks for more than 16 windows",
            )));
        }
        let mut windows: Vec<u32> = vec![90, 180, 365];
        for d in &r.within {
            windows.push(whole_days("within", d)?);
        }
        windows.sort_unstable();
        windows.dedup();
        let today = model::today();
        let rows = self.agent.lifecycle_summary(client, today).await?;
        Ok(Response::new(pb::GetLifecycleSummaryResponse {
            summaries: rows
                .iter()
                .map(|c| pb::LifecycleSummary {
                    client: c.client.clone(),
                    devices: c.devices,
                    warranty_expired: c.expired,
                    expiring_90d: c.expiring_within(90),
                    expiring_180d: c.expiring_within(180),
                    expiring_365d: c.expiring_within(365),
                    warranty_unknown: c.unknown,
                    out_of_support: c.out_of_support,
                    expiring: windows
                        .iter()
                        .map(|&days| pb::ExpiringWithin {
                            days: i64::from(days),
                            devices: c.expiring_within(days),
                        })
                        .collect(),
                    warranty_covered: c.covered,
                    warranty_not_covered: c.not_covered,
                })
                .collect(),
            today: date_text(Some(today)),
        }))
    }

    type ExportAssetsStream = BoxStream<pb::Asset>;

    async fn export_assets(
        &self,
        req: Request<pb::ExportAssetsRequest>,
    ) -> RpcResult<Self::ExportAssetsStream> {
        let include_removed = req.into_inner().include_removed;
        // Pulled, not pushed: the next page is read only when the client has taken the
        // last one. A slow or stuck client therefore holds one small page plus what
        // HTTP/2's flow-control window lets through, never a copy of what it has not read,
        // and no task is left behind: when the client goes, hyper drops the stream and
        // everything in it.
        let start = ExportState {
            agent: self.agent.clone(),
            after: 0,
            page: Vec::new().into_iter(),
            last_page: false,
        };
        let stream = futures_util::stream::try_unfold(start, move |mut st| async move {
            loop {
                if let Some(a) = st.page.next() {
                    return Ok(Some((a, st)));
                }
                if st.last_page {
                    return Ok(None);
                }
                let filter = AssetFilter {
                    include_removed,
                    ..AssetFilter::default()
                };
                let page = st
                    .agent
                    .visit_assets(
                        filter,
                        st.after,
                        EXPORT_PAGE,
                        DecodedAssets::new(model::today()),
                    )
                    .await?
                    .assets;
                st.last_page = page.len() < EXPORT_PAGE;
                match page.last() {
                    Some(a) => st.after = a.id,
                    None => return Ok(None),
                }
                st.page = page.into_iter();
            }
        });
        Ok(Response::new(Box::pin(stream)))
    }
}

/// Where an `ExportAssets` stream is: the page being sent and the last id read.
struct ExportState {
    agent: Arc<Service>,
    after: i64,
    page: std::vec::IntoIter<pb::Asset>,
    last_page: bool,
}

#[tonic::async_trait]
impl pb::sync_service_server::SyncService for Api {
    async fn list_sources(
        &self,
        _req: Request<pb::ListSourcesRequest>,
    ) -> RpcResult<pb::ListSourcesResponse> {
        let sources = self.agent.sources().await?;
        Ok(Response::new(pb::ListSourcesResponse {
            sources: sources.into_iter().map(source_to_proto).collect(),
        }))
    }

    async fn trigger_sync(
        &self,
        req: Request<pb::TriggerSyncRequest>,
    ) -> RpcResult<pb::TriggerSyncResponse> {
        let r = req.into_inner();
        if r.sources.len() > 100 {
            return Err(Status::from(ApiError::invalid(
                "sources",
                "names at most 100 sources",
            )));
        }
        for s in &r.sources {
            // Characters, as every other name is measured (`optional_text`): bytes refused
            // a 200-character name of accented letters here that ListAssets took.
            if s.is_empty() || s.chars().count() > MAX_NAME_CHARS {
                return Err(Status::from(ApiError::invalid(
                    "sources",
                    "a source name is empty or too long",
                )));
            }
        }
        if r.accept_removals && !r.full {
            return Err(Status::from(ApiError::invalid(
                "accept_removals",
                "needs full: removals are accepted for a full run",
            )));
        }
        if r.accept_removals && r.sources.is_empty() {
            return Err(Status::from(ApiError::invalid(
                "accept_removals",
                "needs the sources named: removals are accepted source by source",
            )));
        }
        let runs = self
            .agent
            .trigger(&r.sources, r.full, r.accept_removals)
            .await?;
        Ok(Response::new(pb::TriggerSyncResponse {
            runs: runs
                .into_iter()
                .map(|(source, t)| pb::TriggeredRun {
                    source,
                    run_id: t.run_id,
                    joined: t.joined,
                })
                .collect(),
        }))
    }

    type WatchSyncStream = BoxStream<pb::SyncEvent>;

    async fn watch_sync(
        &self,
        req: Request<pb::WatchSyncRequest>,
    ) -> RpcResult<Self::WatchSyncStream> {
        let ids = req.into_inner().run_ids;
        if ids.is_empty() || ids.len() > 100 {
            return Err(Status::from(ApiError::invalid(
                "run_ids",
                "give between 1 and 100 run ids",
            )));
        }
        // Resolve every id first, so an unknown one fails the call rather than the stream.
        let mut watches = Vec::new();
        for id in ids {
            watches.push(self.agent.watch_run(id).await?);
        }
        let (tx, rx) = mpsc::channel(16);
        for w in watches {
            let tx = tx.clone();
            tokio::spawn(async move {
                let event = |s: &crate::sync::RunSnapshot| pb::SyncEvent {
                    run: Some(run_to_proto(s.run.clone())),
                    clients_done: s.clients_done,
                    clients_total: s.clients_total,
                };
                match w {
                    Err(finished) => {
                        let _ = tx
                            .send(Ok(pb::SyncEvent {
                                run: Some(run_to_proto(finished)),
                                clients_done: 0,
                                clients_total: 0,
                            }))
                            .await;
                    }
                    Ok(mut rx) => loop {
                        let snapshot = rx.borrow_and_update().clone();
                        if tx.send(Ok(event(&snapshot))).await.is_err()
                            || snapshot.run.state != RunState::Running
                        {
                            return;
                        }
                        // Also end when the client goes away between two events, rather
                        // than holding on until the run's next progress (a run can be long).
                        tokio::select! {
                            changed = rx.changed() => if changed.is_err() {
                                // The run's task ended without a final snapshot.
                                return;
                            },
                            () = tx.closed() => return,
                        }
                    },
                }
            });
        }
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn list_sync_runs(
        &self,
        req: Request<pb::ListSyncRunsRequest>,
    ) -> RpcResult<pb::ListSyncRunsResponse> {
        let r = req.into_inner();
        let limit = page_size("page_size", r.page_size)?;
        let before = decode_token("page_token", "runs", &r.page_token)?;
        let source = optional_text("source", &r.source, MAX_NAME_CHARS)?;
        let mut runs = self.agent.list_runs(source, before, limit + 1).await?;
        let next_page_token = next_page(&mut runs, limit, "runs", |r| r.id);
        Ok(Response::new(pb::ListSyncRunsResponse {
            runs: runs.into_iter().map(run_to_proto).collect(),
            next_page_token,
        }))
    }

    async fn purge_source(
        &self,
        req: Request<pb::PurgeSourceRequest>,
    ) -> RpcResult<pb::PurgeSourceResponse> {
        let r = req.into_inner();
        if !r.confirm {
            return Err(Status::from(ApiError::invalid(
                "confirm",
                "must be true: purging deletes every asset, change and run of the source",
            )));
        }
        let source = optional_text("source", &r.source, MAX_NAME_CHARS)?
            .ok_or_else(|| ApiError::invalid("source", "is required"))?;
        let n = self.agent.purge_source(source).await?;
        Ok(Response::new(pb::PurgeSourceResponse { assets_deleted: n }))
    }
}

#[tonic::async_trait]
impl pb::agent_service_server::AgentService for Api {
    async fn get_status(
        &self,
        _req: Request<pb::GetStatusRequest>,
    ) -> RpcResult<pb::GetStatusResponse> {
        let cfg = self.agent.config_status();
        let sources = self.agent.sources().await?;
        let unmapped_clients = self.agent.unmapped_client_count().await?;
        let database = self.agent.database_status().await?;
        let uptime = (Utc::now() - self.agent.started_at)
            .to_std()
            .unwrap_or_default();
        Ok(Response::new(pb::GetStatusResponse {
            version: env!("CARGO_PKG_VERSION").to_string(),
            started_at: Some(timestamp(self.agent.started_at)),
            uptime: Some(duration(uptime)),
            config: Some(pb::ConfigStatus {
                path: cfg.path.display().to_string(),
                state: if cfg.rejected {
                    pb::ConfigState::Rejected
                } else {
                    pb::ConfigState::Ok
                } as i32,
                last_error: cfg.last_error,
                loaded_at: Some(timestamp(cfg.loaded_at)),
                generation: cfg.generation,
            }),
            database: Some(pb::DatabaseStatus {
                path: database.path.display().to_string(),
                size_bytes: database.size_bytes,
                asset_count: database.asset_count,
            }),
            sources: sources.into_iter().map(source_to_proto).collect(),
            unmapped_clients,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The proto's category enum and `model::Category` name the same categories in the
    /// same order, which is what lets the conversions above be arithmetic.
    #[test]
    fn the_proto_categories_are_the_models_in_order() {
        for c in Category::ALL {
            let p = category_to_proto(c);
            assert_eq!(
                p.as_str_name(),
                format!("CATEGORY_{}", c.as_str().to_ascii_uppercase()),
                "{c}"
            );
            assert_eq!(category_from_proto("category", p as i32).unwrap(), Some(c));
        }
        let past = Category::ALL.len() as i32 + 1;
        assert!(pb::Category::try_from(past).is_err(), "the proto has more");
        assert!(category_from_proto("category", past).is_err());
        assert!(category_from_proto("category", -1).is_err());
        assert!(category_from_proto("category", i32::MIN).is_err());
        assert!(category_from_proto("category", i32::MAX).is_err());
        assert_eq!(category_from_proto("category", 0).unwrap(), None);
    }

    #[test]
    fn page_tokens_round_trip_and_reject_forgeries() {
        let t = encode_token("assets", 42);
        assert_eq!(decode_token("page_token", "assets", &t).unwrap(), 42);
        assert!(
            decode_token("page_token", "runs", &t).is_err(),
            "a token is bound to its list"
        );
        for bad in [
            "%%%",
            "Zm9v",
            &"A".repeat(100),
            &URL_SAFE_NO_PAD.encode("assets:-1"),
        ] {
            let e = decode_token("page_token", "assets", bad)
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("page_token:"), "{e}");
        }
        assert_eq!(decode_token("page_token", "assets", "").unwrap(), 0);
    }

    #[test]
    fn page_sizes_default_cap_and_refuse_negatives() {
        assert_eq!(page_size("page_size", 0).unwrap(), DEFAULT_PAGE);
        assert_eq!(page_size("page_size", 5000).unwrap(), MAX_PAGE);
        assert!(page_size("page_size", -1).is_err());
    }

    #[test]
    fn every_category_converts_both_ways() {
        for c in Category::ALL {
            assert_eq!(
                category_from_proto("category", category_to_proto(c) as i32).unwrap(),
                Some(c)
            );
        }
        assert!(category_from_proto("category", 999).is_err());
    }
}
