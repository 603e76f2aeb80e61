//! The Syncro API over HTTP. Each request meets, in order, what it would meet at Syncro:
//!
//! 1. the per-IP rate limiter (`ratelimit`), which sees every API request;
//! 2. an injected fault, if the plan has one for the path;
//! 3. routing: an unknown path is 404 `{"message":"Not found"}` with or without a token, as a
//!    Rails router answers before any controller runs;
//! 4. the token: `Authorization: Bearer <token>` (any case of "Bearer"), a bare
//!    `Authorization: <token>`, or `?api_key=<token>` when no `Authorization` header is sent.
//!    A missing or unknown token is 401 `{"error":"Not authorized"}` (the body is the
//!    simulator's choice; Syncro's is undocumented). The limited token on an asset path is 401
//!    with the permission message the spec documents;
//! 5. the endpoint. Lists are page-numbered (`page`, 1-based; a missing, zero or non-numeric
//!    page reads as 1; a page past the end is 200 with an empty array), ordered by id, with an
//!    optional `per_page` honoured up to 100, and carry `meta` with `total_pages` (at least 1),
//!    `total_entries`, `per_page` and `page`. Unknown query parameters are ignored, as Rails
//!    does. A missing asset is 404 `{"error":"Asset not found"}` (the body the spec documents for
//!    `/customer_assets/{id}/patches`); a missing customer is 404 `{"message":"Not found"}` (the
//!    body the spec documents for "Customer not found").

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::ratelimit::{Verdict, retry_after_secs};
use super::render::{Account, Meta, list_document, single_document};
use super::store::{AssetFilter, CustomerEntry, Store};
use super::{SyncroSim, control, seed};
use crate::sim::faults::{self, Fault, FaultStyle};

/// Rails' JSON content type.
pub const JSON: &str = "application/json; charset=utf-8";

/// The largest `per_page` honoured (third-party clients' "Syncro max 100 per page").
pub const MAX_PER_PAGE: usize = 100;

/// The documented body of a valid token's 401 for lack of permission.
pub const PERMISSION_MESSAGE: &str =
    "Not authorized. Please ask account admin to update your group permissions.";

/// The simulator's body for a missing or unknown token.
pub const NOT_AUTHORIZED: &str = "Not authorized";

/// What every HTTP task shares: the simulator and this server's address and lifetime.
pub struct App {
    pub sim: SyncroSim,
    pub base_url: Arc<str>,
    pub shutdown: CancellationToken,
}

pub fn router(sim: SyncroSim, base_url: &str, shutdown: CancellationToken) -> Router {
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

/// How Syncro's failures look, for the shared fault module.
struct SyncroStyle;

impl FaultStyle for SyncroStyle {
    fn json_content_type(&self) -> &str {
        JSON
    }

    fn error_body(&self, _status: u16, _title: &str, detail: &str) -> String {
        json!({ "error": detail }).to_string()
    }

    fn region_location(&self, region: &str, path_and_query: &str) -> String {
        // Syncro has no regions; the nearest thing is another account's subdomain.
        format!("https://{region}.syncromsp.com{path_and_query}")
    }

    /// Syncro pages by number, so there is no cursor to loop; an endless list is one whose
    /// `meta.total_pages` never comes (past the last real page, pages are empty).
    fn rewrite_paging(&self, page: &mut Value, _path_and_query: &str, endless: bool) -> bool {
        match page.get_mut("meta").and_then(Value::as_object_mut) {
            Some(meta) if endless => {
                meta.insert("total_pages".to_owned(), json!(2_000_000_000u64));
                true
            }
            _ => false,
        }
    }
}

async fn handle(State(app): State<Arc<App>>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    let path_and_query = req
        .uri()
        .path_and_query()
        .map_or("/", |pq| pq.as_str())
        .to_owned();
    let peer = peer_ip(&req);
    app.sim.count_request(&path);
    if let Some(resp) = app.throttle(peer) {
        return resp;
    }
    let fault = app.sim.faults().take_for(&path, req.uri().query());
    match fault {
        // Syncro-shaped versions of two shared faults.
        Some(Fault::Unauthorized) => {
            return error(StatusCode::UNAUTHORIZED, "error", NOT_AUTHORIZED);
        }
        Some(Fault::WrongContentType) => return login_page(),
        _ => {}
    }
    // The body type is not Sync, so the request itself cannot be borrowed across the await.
    let (parts, _body) = req.into_parts();
    faults::serve_with_fault(fault, &SyncroStyle, &path_and_query, &app.shutdown, || {
        app.respond(&parts.method, &path, parts.uri.query(), &parts.headers)
    })
    .await
}

/// The client's address, when the server was started with connect info. `SimServer` serves the
/// plain router today, so all clients share one window (the same thing on loopback).
fn peer_ip(req: &Request) -> Option<IpAddr> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

/// Who a valid token belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Full,
    /// Lacks "Assets - List/Search" and "Assets - View Details".
    Limited,
}

/// The API's routes (a trailing `/` or `.json` is accepted, as Rails does).
enum Route<'a> {
    Assets,
    Asset(&'a str),
    Customers,
    Customer(&'a str),
    Me,
}

impl<'a> Route<'a> {
    fn parse(path: &'a str) -> Option<Self> {
        let rest = path.strip_prefix("/api/v1/")?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let rest = rest.strip_suffix(".json").unwrap_or(rest);
        let mut segments = rest.split('/');
        let route = match (segments.next(), segments.next()) {
            (Some("customer_assets"), None) => Route::Assets,
            (Some("customer_assets"), Some(id)) if !id.is_empty() => Route::Asset(id),
            (Some("customers"), None) => Route::Customers,
            (Some("customers"), Some(id)) if !id.is_empty() => Route::Customer(id),
            (Some("me"), None) => Route::Me,
            _ => return None,
        };
        segments.next().is_none().then_some(route)
    }

    fn needs_asset_permission(&self) -> bool {
        matches!(self, Route::Assets | Route::Asset(_))
    }
}

/// An error answered with a small JSON object.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    key: &'static str,
    text: String,
}

impl ApiError {
    fn not_found(key: &'static str, text: &str) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            key,
            text: text.to_owned(),
        }
    }
}

impl From<serde_json::Error> for ApiError {
    fn from(e: serde_json::Error) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            key: "error",
            text: format!("serializing the response failed: {e}"),
        }
    }
}

type ApiResult = Result<Vec<u8>, ApiError>;

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

    /// A non-empty value of `key` (Rails' `params[key].present?`).
    fn present(&self, key: &str) -> Option<&str> {
        self.get(key).map(str::trim).filter(|v| !v.is_empty())
    }

    /// 1-based page; anything but a positive whole number reads as 1.
    fn page(&self) -> usize {
        self.present("page")
            .and_then(|p| p.parse::<usize>().ok())
            .filter(|&p| p >= 1)
            .unwrap_or(1)
    }

    /// `per_page` if a positive whole number (at most [`MAX_PER_PAGE`]), else `default`.
    fn per_page(&self, default: usize) -> usize {
        match self
            .present("per_page")
            .and_then(|p| p.parse::<usize>().ok())
        {
            Some(n) if n >= 1 => n.min(MAX_PER_PAGE),
            _ => default.max(1),
        }
    }

    /// An integer filter. A value that is no integer is kept as one no record has: Rails casts
    /// it to `nil`, and `WHERE x IS NULL` matches nothing here.
    fn id(&self, key: &str) -> Option<i64> {
        self.present(key).map(|v| v.parse::<i64>().unwrap_or(-1))
    }

    /// A boolean filter as ActiveModel casts it: its false strings are false, anything else
    /// true, an empty value no filter.
    fn rails_bool(&self, key: &str) -> Option<bool> {
        const FALSE: [&str; 8] = ["0", "f", "F", "false", "FALSE", "off", "OFF", "False"];
        self.present(key).map(|v| !FALSE.contains(&v))
    }

    /// Every value of an array parameter: `id[]=1&id[]=2`, `id=1`, or `id=1,2`.
    fn ids(&self, key: &str) -> Option<Vec<i64>> {
        let bracketed = format!("{key}[]");
        let values: Vec<i64> = self
            .pairs
            .iter()
            .filter(|(k, _)| *k == key || *k == bracketed)
            .flat_map(|(_, v)| v.split(','))
            .filter_map(|v| v.trim().parse::<i64>().ok())
            .collect();
        let given = self.pairs.iter().any(|(k, _)| *k == key || *k == bracketed);
        given.then_some(values)
    }
}

impl App {
    /// A 429 if the client is over the limit.
    fn throttle(&self, peer: Option<IpAddr>) -> Option<Response> {
        let inner = &self.sim.inner;
        let limit = inner.requests_per_minute.load(Ordering::SeqCst);
        match inner.limiter.check(peer, inner.clock.now(), limit) {
            Verdict::Admit => None,
            Verdict::Reject { retry_in } => {
                inner.rate_limited.fetch_add(1, Ordering::SeqCst);
                let mut resp = error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "error",
                    &format!(
                        "Rate limit exceeded: {limit} requests per minute per IP address. \
                         Slow down and retry later."
                    ),
                );
                if inner.retry_after.load(Ordering::SeqCst) {
                    resp.headers_mut().insert(
                        header::RETRY_AFTER,
                        HeaderValue::from(retry_after_secs(retry_in)),
                    );
                }
                Some(resp)
            }
        }
    }

    fn respond(
        &self,
        method: &Method,
        path: &str,
        query: Option<&str>,
        headers: &HeaderMap,
    ) -> Response {
        let Some(route) = Route::parse(path) else {
            return error(StatusCode::NOT_FOUND, "message", "Not found");
        };
        let q = Query::parse(query);
        let Some(caller) = self.authenticate(headers, &q) else {
            return error(StatusCode::UNAUTHORIZED, "error", NOT_AUTHORIZED);
        };
        if route.needs_asset_permission() && caller == Caller::Limited {
            return error(StatusCode::UNAUTHORIZED, "error", PERMISSION_MESSAGE);
        }
        if method != Method::GET && method != Method::HEAD {
            // Syncro has these write routes; this read-only simulator does not serve them.
            return error(
                StatusCode::METHOD_NOT_ALLOWED,
                "error",
                &format!("The simulator serves GET only, not {method}"),
            );
        }
        let result = match route {
            Route::Assets => self.asset_list(&q),
            Route::Asset(id) => self.asset_detail(id),
            Route::Customers => self.customer_list(&q),
            Route::Customer(id) => self.customer_detail(id),
            Route::Me => Ok(self.me(caller)),
        };
        match result {
            Ok(body) => json_response(StatusCode::OK, body),
            Err(e) => error(e.status, e.key, &e.text),
        }
    }

    fn authenticate(&self, headers: &HeaderMap, q: &Query) -> Option<Caller> {
        let header = headers
            .get(header::AUTHORIZATION)
            .map(|v| v.to_str().map(str::trim));
        let token = match header {
            Some(Ok(value)) if !value.is_empty() => match value.split_once(char::is_whitespace) {
                Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
                _ => value,
            },
            // A header that is not text can hold no token.
            Some(Err(_)) => return None,
            _ => q.get("api_key")?,
        };
        if token.is_empty() {
            return None;
        }
        if token == self.sim.api_key() {
            Some(Caller::Full)
        } else if token == self.sim.inner.limited_api_key {
            Some(Caller::Limited)
        } else {
            None
        }
    }

    fn account<'s>(&'s self, store: &Store) -> Account<'s> {
        Account {
            subdomain: &self.sim.inner.opts.subdomain,
            account_id: store.account_id(),
        }
    }

    /// `/customer_assets`, shaped by the list switches (see the module docs): a hidden listing
    /// is empty with a truthful `meta`; spec-example paging serves page 1 whatever `page` says,
    /// without `meta`; reordering lists by `updated_at` (newest first) and, once the page is
    /// written, bumps the `updated_at` of the [`super::REORDER_BUMPS`] least recently updated assets
    /// listed.
    fn asset_list(&self, q: &Query) -> ApiResult {
        let inner = &self.sim.inner;
        let spec_example = inner.spec_example_paging.load(Ordering::SeqCst);
        let reorder = inner.reorder_between_pages.load(Ordering::SeqCst);
        let page = if spec_example { 1 } else { q.page() };
        let per_page = q.per_page(inner.opts.assets_page_size);
        let filter = AssetFilter {
            customer_id: q.id("customer_id"),
            asset_type_id: q.id("asset_type_id"),
            query: q.present("query").map(str::to_lowercase),
            snmp_enabled: q.rails_bool("snmp_enabled"),
        };
        let store = self.sim.store();
        let acct = self.account(&store);
        let (total, hits) = if inner.listing_hidden.load(Ordering::SeqCst) {
            (0, Vec::new())
        } else if reorder {
            store.asset_page_by_recency(&filter, page, per_page)
        } else {
            store.asset_page(&filter, page, per_page)
        };
        let items = hits
            .into_iter()
            .map(|e| store.asset_json(e, &acct))
            .collect::<Result<Vec<_>, _>>()?;
        let meta = Meta::new(total, per_page, page);
        let body = list_document(
            "assets",
            items.into_iter(),
            (!spec_example).then_some(&meta),
        );
        if reorder && total > 0 {
            let bump = store.least_recently_updated(&filter, super::REORDER_BUMPS);
            drop(store);
            for id in bump {
                // An agent checking in: nothing but `updated_at` changes.
                self.sim.update_asset(id, |_| {});
            }
        }
        Ok(body)
    }

    fn asset_detail(&self, id: &str) -> ApiResult {
        let store = self.sim.store();
        let acct = self.account(&store);
        let entry = id
            .parse::<i64>()
            .ok()
            .and_then(|id| store.asset_entry(id))
            .ok_or_else(|| ApiError::not_found("error", "Asset not found"))?;
        Ok(single_document("asset", store.asset_json(entry, &acct)?))
    }

    fn customer_list(&self, q: &Query) -> ApiResult {
        let page = q.page();
        let per_page = q.per_page(self.sim.inner.opts.customers_page_size);
        let (body, first) = {
            let store = self.sim.store();
            let acct = self.account(&store);
            let mut hits = customer_matches(store.customer_entries(), q);
            if let Some(sort) = q.present("sort") {
                sort_customers(&mut hits, sort);
            }
            let total = hits.len();
            let from = page.saturating_sub(1).saturating_mul(per_page).min(total);
            let to = from.saturating_add(per_page).min(total);
            let items = hits[from..to]
                .iter()
                .map(|e| store.customer_json(e, &acct))
                .collect::<Result<Vec<_>, _>>()?;
            let first = hits[from..to].first().map(|e| e.customer.id);
            let meta = Meta::new(total, per_page, page);
            (
                list_document("customers", items.into_iter(), Some(&meta)),
                first,
            )
        };
        if page == 1
            && let Some(first) = first
            && self
                .sim
                .inner
                .disable_during_customer_walk
                .swap(false, Ordering::SeqCst)
        {
            self.sim.set_customer_disabled(first, true);
        }
        Ok(body)
    }

    fn customer_detail(&self, id: &str) -> ApiResult {
        let store = self.sim.store();
        let acct = self.account(&store);
        let entry = id
            .parse::<i64>()
            .ok()
            .and_then(|id| store.customer_entry(id))
            .ok_or_else(|| ApiError::not_found("message", "Not found"))?;
        Ok(single_document(
            "customer",
            store.customer_json(entry, &acct)?,
        ))
    }

    /// The token's user, shaped like the spec's `/me` example.
    fn me(&self, caller: Caller) -> Vec<u8> {
        let opts = &self.sim.inner.opts;
        let full = caller == Caller::Full;
        let n = seed::mix(opts.seed, if full { 0x6d65 } else { 0x6c6d });
        let rw = |read: bool, write: bool, delete: bool| json!({ "read": read, "write": write, "delete": delete });
        let body = json!({
            "user_token": format!(
                "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
                n >> 32,
                (n >> 16) & 0xffff,
                n & 0xfff,
                0x8000 | ((n >> 20) & 0x3fff),
                seed::mix(n, 1) & 0xffff_ffff_ffff
            ),
            "user_email": if full { format!("api@{}.example", opts.subdomain) } else { format!("tech@{}.example", opts.subdomain) },
            "user_name": if full { "API Integration" } else { "Helpdesk Technician" },
            "user_id": 40_000 + (n % 60_000) as i64,
            "admin": full,
            "can_use_app": true,
            "two_factor_required": false,
            "subdomain": opts.subdomain,
            "default_location": Value::Null,
            "enable_multi_locations": false,
            "locations_allowed": [],
            "permissions": {
                "asset": rw(full, full, false),
                "customer": rw(true, full, false),
                "ticket": rw(true, true, false),
                "invoice": rw(full, false, false),
                "payment": rw(full, false, false),
                "worksheet": { "add": true, "manage": full, "delete": false },
                "script": { "execute": full },
            },
        });
        body.to_string().into_bytes()
    }
}

/// Customers passing the list filters, in id order. Disabled ones only with
/// `include_disabled=true` (the spec: "default false").
fn customer_matches<'s>(all: &'s [CustomerEntry], q: &Query) -> Vec<&'s CustomerEntry> {
    let include_disabled = matches!(q.present("include_disabled"), Some("true" | "1"));
    let like = |key: &str| q.present(key).map(str::to_lowercase);
    let (query, first, last, business, email) = (
        like("query"),
        like("firstname"),
        like("lastname"),
        like("business_name"),
        like("email"),
    );
    let ids = q.ids("id");
    let not_ids = q.ids("not_id").unwrap_or_default();
    let has = |field: Option<&str>, needle: &Option<String>| match needle {
        None => true,
        Some(n) => field.is_some_and(|f| f.to_lowercase().contains(n.as_str())),
    };
    all.iter()
        .filter(|e| {
            let c = &e.customer;
            (include_disabled || !c.disabled)
                && ids.as_ref().is_none_or(|ids| ids.contains(&c.id))
                && !not_ids.contains(&c.id)
                && has(Some(&c.firstname), &first)
                && has(Some(&c.lastname), &last)
                && has(c.business_name.as_deref(), &business)
                && has(Some(&c.email), &email)
                && (query.is_none()
                    || has(Some(&c.business_and_full_name), &query)
                    || has(Some(&c.email), &query)
                    || has(Some(&c.phone), &query))
        })
        .collect()
}

/// `sort=<field> [ASC|DESC]` over the fields a client is likely to ask for; anything else keeps
/// id order.
fn sort_customers(hits: &mut [&CustomerEntry], sort: &str) {
    let mut words = sort.split_whitespace();
    let field = words.next().unwrap_or("");
    let desc = words.next().is_some_and(|d| d.eq_ignore_ascii_case("desc"));
    let key = |e: &CustomerEntry| -> String {
        let c = &e.customer;
        match field {
            "firstname" => c.firstname.to_lowercase(),
            "lastname" => c.lastname.to_lowercase(),
            "business_name" => c.business_name.clone().unwrap_or_default().to_lowercase(),
            "business_then_name" => c.business_then_name.to_lowercase(),
            "city" => c.city.clone().unwrap_or_default().to_lowercase(),
            "email" => c.email.to_lowercase(),
            "created_at" => super::render::Ts(c.created_at).to_string(),
            "updated_at" => super::render::Ts(c.updated_at).to_string(),
            _ => String::new(),
        }
    };
    // Stable, so equal keys stay in id order.
    hits.sort_by_cached_key(|e| key(e));
    if desc {
        hits.reverse();
    }
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
    resp
}

/// `{"<key>": "<text>"}` with `status`.
pub fn error(status: StatusCode, key: &str, text: &str) -> Response {
    let mut body = serde_json::Map::new();
    body.insert(key.to_owned(), Value::String(text.to_owned()));
    json_response(status, Value::Object(body).to_string().into_bytes())
}

/// What a client gets when something between it and the API (an expired session, a captive
/// portal, a base URL without `/api/v1`) serves Syncro's web login instead: 200 and HTML.
fn login_page() -> Response {
    let page = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
                <title>Log In | Syncro</title>\n</head>\n<body class=\"devise-sessions\">\n\
                <form class=\"new_user\" id=\"new_user\" action=\"/users/sign_in\" \
                method=\"post\">\n<input type=\"email\" name=\"user[email]\" id=\"user_email\">\n\
                <input type=\"password\" name=\"user[password]\" id=\"user_password\">\n\
                <input type=\"submit\" value=\"Log In\">\n</form>\n</body>\n</html>\n";
    let mut resp = Response::new(Body::from(page));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert!(matches!(
            Route::parse("/api/v1/customer_assets"),
            Some(Route::Assets)
        ));
        assert!(matches!(
            Route::parse("/api/v1/customer_assets/"),
            Some(Route::Assets)
        ));
        assert!(matches!(
            Route::parse("/api/v1/customer_assets.json"),
            Some(Route::Assets)
        ));
        assert!(matches!(
            Route::parse("/api/v1/customer_assets/12"),
            Some(Route::Asset("12"))
        ));
        assert!(matches!(
            Route::parse("/api/v1/customers/9.json"),
            Some(Route::Customer("9"))
        ));
        assert!(matches!(Route::parse("/api/v1/me"), Some(Route::Me)));
        for bad in [
            "/",
            "/api/v1",
            "/api/v1/",
            "/api/v2/customers",
            "/customers",
            "/api/v1/customers/1/phones",
            "/api/v1/assets",
        ] {
            assert!(Route::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn query_parsing_is_lenient_like_rails() {
        let q = Query::parse(Some(
            "page=abc&per_page=500&customer_id=x&snmp_enabled=no&id[]=3&id[]=4,5",
        ));
        assert_eq!(q.page(), 1);
        assert_eq!(q.per_page(50), 100);
        assert_eq!(q.id("customer_id"), Some(-1));
        assert_eq!(q.id("asset_type_id"), None);
        assert_eq!(q.rails_bool("snmp_enabled"), Some(true));
        assert_eq!(q.ids("id"), Some(vec![3, 4, 5]));
        assert_eq!(q.ids("not_id"), None);
        let q = Query::parse(Some("page=0&per_page=0&snmp_enabled=false&customer_id="));
        assert_eq!((q.page(), q.per_page(25)), (1, 25));
        assert_eq!(q.rails_bool("snmp_enabled"), Some(false));
        assert_eq!(q.id("customer_id"), None);
        assert_eq!(Query::parse(Some("page=3&per_page=7")).page(), 3);
    }
}
