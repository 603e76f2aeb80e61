//! The Auvik API over HTTP: routing, Basic auth, query parsing and validation, paging links and
//! error responses. Faults from the plan are applied first, then auth, then the endpoint.

use std::borrow::Cow;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use super::catalog::{self, DEVICE_TYPES};
use super::render::{self, DeviceDetail, DeviceInfo, JsonCache, Meta, PageLinks, SingleDoc};
use super::store::{
    Direction, Entry, Filter, LifecycleField, Page, Position, Selection, Store, TenantState,
};
use super::{AuvikSim, SimDevice, billing, control};
use crate::sim::clock;
use crate::sim::faults::{self, FaultStyle};

/// Auvik's media type; half the responses add `; charset=utf-8`, as real Auvik varies.
pub const VND_JSON: &str = "application/vnd.api+json";
const VND_JSON_UTF8: &str = "application/vnd.api+json; charset=utf-8";

/// Page size when none is asked for, and the largest accepted.
pub const DEFAULT_PAGE: usize = 100;
pub const MAX_PAGE: usize = 1000;

/// What every HTTP task shares: the simulator and this server's address and lifetime.
pub struct App {
    pub sim: AuvikSim,
    /// The address the server listens on.
    pub base_url: Arc<str>,
    pub shutdown: CancellationToken,
}

impl App {
    /// The host absolute links name: the public base URL if one is set, else the listening
    /// address. Shared with every cached rendering, which records the base it was made for.
    pub fn link_base(&self) -> Arc<str> {
        super::read(&self.sim.inner.public_base_url)
            .clone()
            .unwrap_or_else(|| self.base_url.clone())
    }
}

pub fn router(sim: AuvikSim, base_url: &str, shutdown: CancellationToken) -> Router {
    let app = Arc::new(App {
        sim,
        base_url: Arc::from(base_url),
        shutdown,
    });
    Router::new()
        .nest("/_sim", control::router())
        .fallback(handle)
        .with_state(app)
}

/// How Auvik's failures look, for the fault module.
struct AuvikStyle;

impl FaultStyle for AuvikStyle {
    fn json_content_type(&self) -> &str {
        VND_JSON
    }

    fn error_body(&self, status: u16, title: &str, detail: &str) -> String {
        render::error_body(status, title, detail)
    }

    fn region_location(&self, region: &str, path_and_query: &str) -> String {
        format!("https://auvikapi.{region}.my.auvik.com{path_and_query}")
    }

    fn rewrite_paging(
        &self,
        page: &mut serde_json::Value,
        path_and_query: &str,
        endless: bool,
    ) -> bool {
        let Some(links) = page
            .get_mut("links")
            .and_then(serde_json::Value::as_object_mut)
        else {
            return false;
        };
        let next = if endless {
            // The same records again under a URL never seen before: `endless=N` is ignored
            // by the list itself but makes every next link new.
            let (path, query) = path_and_query
                .split_once('?')
                .unwrap_or((path_and_query, ""));
            let mut n = 0u64;
            let mut ser = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
                if k == "endless" {
                    n = v.parse().unwrap_or(0);
                } else {
                    ser.append_pair(&k, &v);
                }
            }
            ser.append_pair("endless", &(n + 1).to_string());
            format!("{path}?{}", ser.finish())
        } else {
            path_and_query.to_owned()
        };
        links.insert("next".to_owned(), serde_json::Value::String(next));
        true
    }
}

async fn handle(State(app): State<Arc<App>>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    let path_and_query = req
        .uri()
        .path_and_query()
        .map_or("/", |pq| pq.as_str())
        .to_owned();
    app.sim.count_request(&path);
    let fault = app.sim.faults().take_for(&path, req.uri().query());
    // The body type is not Sync, so the request itself cannot be borrowed across the await.
    let (parts, _body) = req.into_parts();
    let mut resp =
        faults::serve_with_fault(fault, &AuvikStyle, &path_and_query, &app.shutdown, || {
            app.respond(&parts.method, &path, parts.uri.query(), &parts.headers)
        })
        .await;
    clock::set_date(&mut resp, app.sim.now());
    resp
}

/// An error answered with Auvik's `basicError` body.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub detail: String,
}

impl ApiError {
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            detail: detail.into(),
        }
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            detail: detail.into(),
        }
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            detail: detail.into(),
        }
    }

    fn internal(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            detail: detail.into(),
        }
    }
}

impl From<serde_json::Error> for ApiError {
    fn from(e: serde_json::Error) -> Self {
        ApiError::internal(format!("serializing the response failed: {e}"))
    }
}

pub type ApiResult = Result<Vec<u8>, ApiError>;

/// The query string as decoded pairs, in their original order.
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    pub fn parse(raw: Option<&str>) -> Self {
        let pairs = raw
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        Self { pairs }
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `key`'s value, required to be one of `allowed`.
    fn one_of(&self, key: &str, allowed: &[&str]) -> Result<Option<String>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) if allowed.contains(&v) => Ok(Some(v.to_owned())),
            Some(v) => Err(ApiError::bad_request(format!(
                "Invalid value {v:?} for {key}; expected one of: {}",
                allowed.join(", ")
            ))),
        }
    }

    pub fn bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(v) => Err(ApiError::bad_request(format!(
                "Invalid value {v:?} for {key}; expected true or false"
            ))),
        }
    }

    fn date_time(&self, key: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => DateTime::parse_from_rfc3339(v)
                .map(|t| Some(t.to_utc()))
                .map_err(|_| {
                    ApiError::bad_request(format!(
                        "Invalid date {v:?} for {key}; use the format YYYY-MM-DDTHH:MM:SS.sssZ"
                    ))
                }),
        }
    }

    /// The pairs to carry into paging links: everything but the paging parameters.
    fn without_paging(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs
            .iter()
            .filter(|(k, _)| !k.starts_with("page["))
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// Strips the double quotes the spec's examples put around `makeModel` / `vendorName` values.
fn unquote(v: &str) -> &str {
    v.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(v)
}

impl App {
    fn respond(
        &self,
        method: &Method,
        path: &str,
        query: Option<&str>,
        headers: &HeaderMap,
    ) -> Response {
        if !self.authenticated(headers) {
            // Auvik answers bad or missing credentials with an empty 401, on every path.
            return empty(StatusCode::UNAUTHORIZED);
        }
        let q = Query::parse(query);
        let segments: Vec<&str> = path.split('/').skip(1).collect();
        let result = if method != Method::GET {
            Err(ApiError::not_found(format!(
                "No resource found for {method} {path}"
            )))
        } else {
            match segments.as_slice() {
                ["v1", "authentication", "verify"] => return empty(StatusCode::OK),
                ["v1", "tenants"] => self.tenants(),
                ["v1", "tenants", "detail"] => self.tenants_detail(&q, None),
                ["v1", "tenants", "detail", id] => self.tenants_detail(&q, Some(id)),
                ["v1", "inventory", "device", "info"] => self.device_list(path, &q, false),
                ["v1", "inventory", "device", "detail"] => self.device_list(path, &q, true),
                ["v1", "inventory", "device", "info", id] => self.device_single(&q, id, false),
                ["v1", "inventory", "device", "detail", id] => self.device_single(&q, id, true),
                [
                    "v1",
                    "inventory",
                    "device",
                    kind @ ("warranty" | "lifecycle"),
                ] => self.lifecycle_list(path, &q, *kind == "warranty"),
                [
                    "v1",
                    "inventory",
                    "device",
                    kind @ ("warranty" | "lifecycle"),
                    id,
                ] => self.lifecycle_single(id, *kind == "warranty"),
                ["v1", "billing", "usage", "client"] => billing::client_usage(self, &q),
                ["v1", "billing", "usage", "device", id] => billing::device_usage(self, &q, id),
                _ => Err(ApiError::not_found(format!(
                    "No resource found for GET {path}"
                ))),
            }
        };
        match result {
            Ok(body) => self.json(StatusCode::OK, body),
            Err(e) => {
                let title = e.status.canonical_reason().unwrap_or("Error");
                let body = render::error_body(e.status.as_u16(), title, &e.detail);
                self.json(e.status, body.into_bytes())
            }
        }
    }

    fn authenticated(&self, headers: &HeaderMap) -> bool {
        let Some(value) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return false;
        };
        let Some((scheme, encoded)) = value.trim().split_once(' ') else {
            return false;
        };
        if !scheme.eq_ignore_ascii_case("basic") {
            return false;
        }
        let Ok(decoded) = STANDARD.decode(encoded.trim()) else {
            return false;
        };
        let Ok(text) = String::from_utf8(decoded) else {
            return false;
        };
        let Some((user, key)) = text.split_once(':') else {
            return false;
        };
        // E-mail logins compare case-insensitively; keys exactly.
        user.eq_ignore_ascii_case(&self.sim.inner.opts.username) && key == self.sim.api_key()
    }

    pub fn json(&self, status: StatusCode, body: Vec<u8>) -> Response {
        let n = self
            .sim
            .inner
            .responses
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let ct = if n.is_multiple_of(2) {
            VND_JSON
        } else {
            VND_JSON_UTF8
        };
        let mut resp = Response::new(Body::from(body));
        *resp.status_mut() = status;
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
        resp
    }

    fn tenants(&self) -> ApiResult {
        let store = self.sim.store();
        let data: Vec<_> = store.tenants().map(render::TenantRes::new).collect();
        Ok(render::to_vec(&render::DataDoc { data })?)
    }

    /// Checks `tenantDomainPrefix`, which must name the API user's main (root) account.
    pub fn check_root_prefix(&self, store: &Store, q: &Query) -> Result<(), ApiError> {
        let root = &store.root().info().domain_prefix;
        match q.get("tenantDomainPrefix") {
            None | Some("") => Err(ApiError::bad_request(
                "Missing required query parameter tenantDomainPrefix",
            )),
            Some(p) if p == root => Ok(()),
            Some(p) if store.tenants().any(|t| t.info().domain_prefix == p) => {
                Err(ApiError::bad_request(format!(
                    "tenantDomainPrefix must be the domain prefix of your main Auvik account, \
                     not of the client {p:?}"
                )))
            }
            Some(p) => Err(ApiError::forbidden(format!(
                "You do not have access to tenant {p:?}"
            ))),
        }
    }

    fn tenants_detail(&self, q: &Query, id: Option<&str>) -> ApiResult {
        let store = self.sim.store();
        self.check_root_prefix(&store, q)?;
        let root_prefix = store.root().info().domain_prefix.as_str();
        let user_num = 55_000 + self.sim.inner.opts.seed % 1000;
        if let Some(id) = id {
            let ord = store
                .tenant_ord(id)
                .ok_or_else(|| ApiError::not_found(format!("Tenant {id} not found")))?;
            let t = store
                .tenant(ord)
                .ok_or_else(|| ApiError::not_found("Tenant not found"))?;
            let data = render::TenantDetailRes::new(t, ord, root_prefix, user_num);
            return Ok(render::to_vec(&SingleDoc { data })?);
        }
        let available = q.bool("filter[availableTenants]")?;
        let data: Vec<_> = store
            .tenants()
            .enumerate()
            .filter(|(_, t)| available.is_none_or(|a| a == t.available()))
            .map(|(ord, t)| render::TenantDetailRes::new(t, ord, root_prefix, user_num))
            .collect();
        Ok(render::to_vec(&render::DataDoc { data })?)
    }

    /// The tenants a request covers: those named in `tenants` (each must be readable: available
    /// and not denied), or every readable tenant.
    pub fn tenant_selection(&self, store: &Store, q: &Query) -> Result<Vec<usize>, ApiError> {
        let Some(list) = q.get("tenants") else {
            return Ok(store
                .tenants()
                .enumerate()
                .filter(|(_, t)| t.readable())
                .map(|(ord, _)| ord)
                .collect());
        };
        let mut ords = Vec::new();
        for id in list.split(',').map(str::trim) {
            if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ApiError::bad_request(format!(
                    "Invalid tenants value {list:?}; expected a comma-separated list of tenant IDs"
                )));
            }
            let ord = store.tenant_ord(id).ok_or_else(|| denied(id))?;
            if let Some(refused) = store.tenant(ord).and_then(refusal) {
                return Err(refused);
            }
            ords.push(ord);
        }
        ords.sort_unstable();
        ords.dedup();
        Ok(ords)
    }

    fn device_list(&self, path: &str, q: &Query, detail: bool) -> ApiResult {
        let store = self.sim.store();
        let mut sel = Selection {
            tenants: self.tenant_selection(&store, q)?,
            ..Default::default()
        };
        let mut include = false;
        if detail {
            sel.filters.extend(detail_filters(q)?);
        } else {
            sel.device_type = q.one_of("filter[deviceType]", &DEVICE_TYPES)?;
            sel.filters.extend(info_filters(q)?);
            include = include_detail(q)?;
        }
        let (page, links, meta) = self.select_page(&store, path, q, &sel)?;
        let base = self.link_base();
        let resources = |detail: bool| {
            page.hits
                .iter()
                .map(|h| {
                    let t = store
                        .tenant(h.ord)
                        .ok_or_else(|| ApiError::internal("lost tenant"))?;
                    device_json(&base, t, h.num, h.device, h.json, detail)
                })
                .collect::<Result<Vec<_>, ApiError>>()
        };
        let data = resources(detail)?;
        let included = if include {
            let full = resources(true)?;
            Some(match detail_fieldset(q) {
                Some(fields) => full
                    .iter()
                    .map(|r| render::sparse(r, &fields).map(Cow::Owned))
                    .collect::<Result<Vec<_>, _>>()?,
                None => full,
            })
        } else {
            None
        };
        Ok(render::list_document(
            &data,
            included.as_deref(),
            &links,
            &meta,
        )?)
    }

    fn device_single(&self, q: &Query, id: &str, detail: bool) -> ApiResult {
        let store = self.sim.store();
        let include = if detail { false } else { include_detail(q)? };
        let (t, num, entry) = reachable_device(&store, id)?;
        let base = self.link_base();
        let data = device_json(&base, t, num, &entry.device, &entry.json, detail)?;
        let included = if include {
            let full = device_json(&base, t, num, &entry.device, &entry.json, true)?;
            Some(match detail_fieldset(q) {
                Some(fields) => Cow::Owned(render::sparse(&full, &fields)?),
                None => full,
            })
        } else {
            None
        };
        Ok(render::single_document(&data, included.as_deref()))
    }

    /// 403 while the API user may not read hardware lifecycle data (`deny_lifecycle`).
    fn lifecycle_allowed(&self) -> Result<(), ApiError> {
        if self.sim.lifecycle_denied() {
            return Err(ApiError::forbidden(
                "You do not have permission to view hardware lifecycle information. Ask an \
                 administrator for a role with the Hardware lifecycle permission.",
            ));
        }
        Ok(())
    }

    /// `/v1/inventory/device/warranty` or `/lifecycle`: the devices of the selected tenants
    /// that have such a record, paged by the same cursors as device info.
    fn lifecycle_list(&self, path: &str, q: &Query, warranty: bool) -> ApiResult {
        self.lifecycle_allowed()?;
        let store = self.sim.store();
        let mut sel = Selection {
            tenants: self.tenant_selection(&store, q)?,
            ..Default::default()
        };
        if warranty {
            sel.filters.push(Filter::HasWarranty);
            if let Some(b) = q.bool("filter[coveredUnderWarranty]")? {
                sel.filters.push(Filter::CoveredUnderWarranty(b));
            }
            if let Some(b) = q.bool("filter[coveredUnderService]")? {
                sel.filters.push(Filter::CoveredUnderService(b));
            }
        } else {
            sel.filters.push(Filter::HasLifecycle);
            for (key, field) in [
                ("filter[salesAvailability]", LifecycleField::Sales),
                (
                    "filter[softwareMaintenanceStatus]",
                    LifecycleField::Software,
                ),
                (
                    "filter[securitySoftwareMaintenanceStatus]",
                    LifecycleField::SecuritySoftware,
                ),
                ("filter[lastSupportStatus]", LifecycleField::LastSupport),
            ] {
                if let Some(v) = q.one_of(key, &catalog::LIFECYCLE_STATUSES)? {
                    sel.filters.push(Filter::LifecycleStatus(field, v));
                }
            }
        }
        let (page, links, meta) = self.select_page(&store, path, q, &sel)?;
        let base = self.link_base();
        let odd = self.sim.odd_warranty_dates();
        let data = page
            .hits
            .iter()
            .map(|h| {
                let t = store
                    .tenant(h.ord)
                    .ok_or_else(|| ApiError::internal("lost tenant"))?;
                let json = if warranty {
                    serde_json::to_string(&render::WarrantyRes::new(&base, t, h.num, h.device, odd))
                } else {
                    serde_json::to_string(&render::LifecycleRes::new(&base, t, h.num, h.device))
                }?;
                Ok(Cow::Owned(json))
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        Ok(render::list_document(&data, None, &links, &meta)?)
    }

    /// One device's warranty or lifecycle record; 404 when it has none (public clients
    /// document that the single lookups answer 404 for a device without a record).
    fn lifecycle_single(&self, id: &str, warranty: bool) -> ApiResult {
        self.lifecycle_allowed()?;
        let store = self.sim.store();
        let (t, num, entry) = reachable_device(&store, id)?;
        let base = self.link_base();
        let d = &entry.device;
        let missing = || ApiError::not_found(format!("No record for device {id}"));
        let json = if warranty {
            let res = render::WarrantyRes::new(&base, t, num, d, self.sim.odd_warranty_dates())
                .ok_or_else(missing)?;
            serde_json::to_string(&res)?
        } else {
            let res = render::LifecycleRes::new(&base, t, num, d).ok_or_else(missing)?;
            serde_json::to_string(&res)?
        };
        Ok(render::single_document(&json, None))
    }

    /// `first`/`last` always; `next` only when more lies ahead, `prev` only when something
    /// lies behind. Absolute URLs on this server carrying the request's other parameters.
    /// The page of `sel` that `q` asks for, with its links and `meta`.
    fn select_page<'s>(
        &self,
        store: &'s Store,
        path: &str,
        q: &Query,
        sel: &Selection,
    ) -> Result<(Page<'s>, PageLinks, Meta), ApiError> {
        let paging = Paging::parse(store, q)?;
        let page = store.page(sel, paging.dir, paging.from, paging.size);
        let total = store.count(sel) as u64;
        let links = self.page_links(store, path, q, &paging, &page);
        let meta = Meta {
            total_pages: total.div_ceil(paging.size as u64),
        };
        Ok((page, links, meta))
    }

    fn page_links(
        &self,
        store: &Store,
        path: &str,
        q: &Query,
        p: &Paging,
        page: &Page,
    ) -> PageLinks {
        let size = p.size.to_string();
        let base = self.link_base();
        let url = |extra: &[(&str, &str)]| {
            let mut ser = url::form_urlencoded::Serializer::new(String::new());
            ser.extend_pairs(q.without_paging());
            ser.extend_pairs(extra);
            format!("{base}{path}?{}", ser.finish())
        };
        let cursor = |h: &super::store::Hit| {
            store
                .tenant(h.ord)
                .map(|t| encode_cursor(&t.info().id, h.num))
                .unwrap_or_default()
        };
        let (ahead, behind) = match p.dir {
            Direction::Forward => (page.more, p.from.is_some()),
            Direction::Backward => (p.from.is_some(), page.more),
        };
        let bare = self.sim.bare_next_links();
        let next = match page.hits.last() {
            Some(h) if ahead && bare => {
                let mut ser = url::form_urlencoded::Serializer::new(String::new());
                ser.extend_pairs([("page[after]", cursor(h).as_str()), ("page[first]", &size)]);
                Some(format!("{base}{path}?{}", ser.finish()))
            }
            Some(h) if ahead => Some(url(&[("page[after]", &cursor(h)), ("page[first]", &size)])),
            _ => None,
        };
        let prev = match page.hits.first() {
            Some(h) if behind => Some(url(&[("page[before]", &cursor(h)), ("page[last]", &size)])),
            _ => None,
        };
        PageLinks {
            first: url(&[("page[first]", &size)]),
            prev,
            next,
            last: url(&[("page[last]", &size)]),
        }
    }
}

/// A device's `device` (or `deviceDetail`) resource with links on `base`, rendered once per
/// device and base.
fn device_json<'s>(
    base: &Arc<str>,
    t: &'s TenantState,
    num: u64,
    d: &'s SimDevice,
    cache: &'s JsonCache,
    detail: bool,
) -> Result<Cow<'s, str>, ApiError> {
    let json = if detail {
        cache.detail(base, || {
            serde_json::to_string(&DeviceDetail::new(base, t, num, d))
        })?
    } else {
        cache.info(base, || {
            serde_json::to_string(&DeviceInfo::new(base, t, num, d))
        })?
    };
    Ok(json)
}

/// Why a request naming `t` is refused, if it is: 403 for a denied tenant, 403 with another
/// text for an unavailable one (Auvik's wording is undocumented; this one is the simulator's).
/// Device `id` with its tenant and number: 404 when there is no such device, the tenant's
/// refusal when the API user may not read its tenant.
fn reachable_device<'s>(
    store: &'s Store,
    id: &str,
) -> Result<(&'s TenantState, u64, &'s Entry), ApiError> {
    let (ord, num, entry) = store
        .entry(id)
        .ok_or_else(|| ApiError::not_found(format!("Device {id} not found")))?;
    let t = store
        .tenant(ord)
        .ok_or_else(|| ApiError::internal("lost tenant"))?;
    match refusal(t) {
        Some(refused) => Err(refused),
        None => Ok((t, num, entry)),
    }
}

pub fn refusal(t: &TenantState) -> Option<ApiError> {
    if t.denied {
        return Some(denied(&t.info().id));
    }
    if !t.available() {
        return Some(ApiError::forbidden(format!(
            "Tenant {} is not available: it is disabled or not running, so its data cannot be \
             read through the API.",
            t.info().id
        )));
    }
    None
}

/// 403 for a tenant the user may not read.
pub fn denied(tenant_id: &str) -> ApiError {
    ApiError::forbidden(format!(
        "You do not have permission to access tenant {tenant_id}. Ask an administrator for a role \
         on it."
    ))
}

fn empty(status: StatusCode) -> Response {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = status;
    resp
}

/// The `fields[deviceDetail]` sparse fieldset (validated by `include_detail`).
fn detail_fieldset(q: &Query) -> Option<Vec<&str>> {
    q.get("fields[deviceDetail]")
        .map(|f| f.split(',').map(str::trim).collect())
}

fn include_detail(q: &Query) -> Result<bool, ApiError> {
    let include = q.one_of("include", &["deviceDetail"])?.is_some();
    if let Some(fields) = q.get("fields[deviceDetail]") {
        const FIELDS: [&str; 6] = [
            "discoveryStatus",
            "components",
            "connectedDevices",
            "configurations",
            "manageStatus",
            "interfaces",
        ];
        if !include {
            return Err(ApiError::bad_request(
                "fields[deviceDetail] requires include=deviceDetail",
            ));
        }
        if let Some(bad) = fields.split(',').find(|f| !FIELDS.contains(&f.trim())) {
            return Err(ApiError::bad_request(format!(
                "Invalid value {bad:?} for fields[deviceDetail]; expected any of: {}",
                FIELDS.join(", ")
            )));
        }
    }
    Ok(include)
}

/// Filters of `/v1/inventory/device/info` (besides `filter[deviceType]`).
fn info_filters(q: &Query) -> Result<Vec<Filter>, ApiError> {
    let mut f = Vec::new();
    if let Some(v) = q.get("filter[networks]") {
        f.push(Filter::Network(v.to_owned()));
    }
    if let Some(v) = q.get("filter[makeModel]") {
        f.push(Filter::MakeModel(unquote(v).to_owned()));
    }
    if let Some(v) = q.get("filter[vendorName]") {
        f.push(Filter::VendorName(unquote(v).to_owned()));
    }
    if let Some(v) = q.one_of("filter[onlineStatus]", &catalog::ONLINE_STATUSES)? {
        f.push(Filter::OnlineStatus(v));
    }
    if let Some(t) = q.date_time("filter[modifiedAfter]")? {
        f.push(Filter::ModifiedAfter(t));
    }
    if let Some(t) = q.date_time("filter[notSeenSince]")? {
        f.push(Filter::NotSeenSince(t));
    }
    // Every simulated device's state is known, so `filter[stateKnown]` only gets validated.
    q.bool("filter[stateKnown]")?;
    Ok(f)
}

/// Filters of `/v1/inventory/device/detail`.
fn detail_filters(q: &Query) -> Result<Vec<Filter>, ApiError> {
    let mut f = Vec::new();
    if let Some(b) = q.bool("filter[manageStatus]")? {
        f.push(Filter::ManageStatus(b));
    }
    let ds = &catalog::DISCOVERY_STATUSES;
    if let Some(v) = q.one_of("filter[discoverySNMP]", ds)? {
        f.push(Filter::DiscoverySnmp(v));
    }
    if let Some(v) = q.one_of("filter[discoveryWMI]", ds)? {
        f.push(Filter::DiscoveryWmi(v));
    }
    if let Some(v) = q.one_of("filter[discoveryLogin]", ds)? {
        f.push(Filter::DiscoveryLogin(v));
    }
    if let Some(v) = q.one_of("filter[discoveryVMware]", ds)? {
        f.push(Filter::DiscoveryVmware(v));
    }
    if let Some(v) = q.one_of(
        "filter[trafficInsightsStatus]",
        &catalog::TRAFFIC_INSIGHTS_STATUSES,
    )? {
        f.push(Filter::TrafficInsights(v));
    }
    Ok(f)
}

/// A list request's paging: direction, cursor and page size.
struct Paging {
    dir: Direction,
    from: Option<Position>,
    size: usize,
}

impl Paging {
    fn parse(store: &Store, q: &Query) -> Result<Self, ApiError> {
        let (first, after) = (q.get("page[first]"), q.get("page[after]"));
        let (last, before) = (q.get("page[last]"), q.get("page[before]"));
        let forward = first.is_some() || after.is_some();
        let backward = last.is_some() || before.is_some();
        if forward && backward {
            return Err(ApiError::bad_request(
                "Use page[first] with page[after], or page[last] with page[before], not both",
            ));
        }
        let (dir, size, cursor, size_key) = if backward {
            (Direction::Backward, last, before, "page[last]")
        } else {
            (Direction::Forward, first, after, "page[first]")
        };
        let size = match size {
            None => DEFAULT_PAGE,
            Some(s) => match s.parse::<usize>() {
                Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "Invalid value {s:?} for {size_key}; expected a whole number from 1 to \
                         {MAX_PAGE}"
                    )));
                }
            },
        };
        let from = cursor.map(|c| decode_cursor(store, c)).transpose()?;
        Ok(Self { dir, from, size })
    }
}

/// Opaque cursor, shaped like Auvik's: base64 of `cursor:<tenant id>,<device number>`.
pub fn encode_cursor(tenant_id: &str, num: u64) -> String {
    STANDARD_NO_PAD.encode(format!("cursor:{tenant_id},{num}"))
}

fn decode_cursor(store: &Store, raw: &str) -> Result<Position, ApiError> {
    let bad = || ApiError::bad_request(format!("Invalid page cursor {raw:?}"));
    // A '+' that arrived unencoded in a query string reads as a space.
    let cleaned = raw.trim_end_matches('=').replace(' ', "+");
    let bytes = STANDARD_NO_PAD
        .decode(cleaned.as_bytes())
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (tenant, num) = text
        .strip_prefix("cursor:")
        .and_then(|rest| rest.split_once(','))
        .ok_or_else(bad)?;
    let ord = store.tenant_ord(tenant).ok_or_else(bad)?;
    let num = num.parse::<u64>().map_err(|_| bad())?;
    Ok(Position { ord, num })
}
