//! The Passportal API over HTTP. Each request meets, in order:
//!
//! 1. an injected fault, if the plan has one for the path;
//! 2. routing: an unknown path is 404 with the error envelope (`"not found."`), a known path with
//!    the wrong method the documented 405 (`"Method not allowed"`, code 3000). The simulator
//!    serves the read side only: the batch create/update (`POST`/`PUT /api/v2/documents`) are
//!    405 here;
//! 3. on `POST /api/v2/auth/client_token`: the exchange (see [`App::exchange`]);
//! 4. elsewhere, the `x-access-token` header (no `Bearer`, no `Authorization`): missing, foreign,
//!    expired or revoked tokens are 401 code 1006 with `"success":"false"` and an
//!    "Invalid token: …" message (the documented body is the malformed-token one);
//! 5. the endpoint. Lists take `resultsPerPage` (default 100, the docs' "Supported Value";
//!    capped at `page_size_cap`) and `pageNum` (default 1; anything but an integer in 1..9999 is
//!    the documented 404 "pageNum needs to be an integer between 1 and 9999."). A list carries no
//!    total: a client pages until a short, empty or refused page ([`PastEnd`] says which).
//!    `/api/v2/documents` (and its undocumented alias `/all`) filters by `type` (an unknown type
//!    lists nothing, as `type=folders` did for a public client), `clientId`, `templateUid`
//!    (`tpl-79` or `79`) and `searchTxt`, ordered by `orderBy` (`label`, the default, or `id`)
//!    and `orderDir` (`asc`, `desc`). A document id that is no positive integer is the
//!    documented 400 "invalid id"; an unknown one the documented 403 "not found.".

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::auth::{self, Claims, Refusal};
use super::render::{self, Success};
use super::store::{DocFilter, Order};
use super::{
    AuthFailure, ExpiryTime, PageOffset, PassportalSim, PastEnd, SuccessForm, TokenRefusal,
    catalog, control, seed,
};
use crate::sim::clock;
use crate::sim::faults::{self, Fault, FaultStyle};

/// The content type of every JSON answer.
pub const JSON: &str = "application/json";

pub const TOKEN_PATH: &str = "/api/v2/auth/client_token";
#[cfg(test)]
pub const DOCUMENTS_PATH: &str = "/api/v2/documents";
#[cfg(test)]
pub const CLIENTS_PATH: &str = "/api/v2/documents/clients";

/// The documented bad-credentials message (code 1000).
pub const KEY_VERIFICATION_FAILED: &str = "Key verification failed";
/// The documented paging error (404).
pub const PAGE_NUM_MESSAGE: &str = "pageNum needs to be an integer between 1 and 9999.";
/// The default `resultsPerPage` (the docs' "Supported Value" column).
pub const DEFAULT_PAGE_SIZE: usize = 100;
/// The largest token-exchange body read.
const MAX_BODY: usize = 64 * 1024;

/// What every HTTP task shares: the simulator and this server's address and lifetime.
pub struct App {
    pub sim: PassportalSim,
    pub base_url: Arc<str>,
    pub shutdown: CancellationToken,
}

pub fn router(sim: PassportalSim, base_url: &str, shutdown: CancellationToken) -> Router {
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

/// How Passportal's failures look, for the shared fault module.
struct PassportalStyle;

impl FaultStyle for PassportalStyle {
    fn json_content_type(&self) -> &str {
        JSON
    }

    fn error_body(&self, status: u16, _title: &str, detail: &str) -> String {
        let body = render::error_document(Success::Text(false), 0, status, detail);
        String::from_utf8_lossy(&body).into_owned()
    }

    fn region_location(&self, region: &str, path_and_query: &str) -> String {
        format!("https://{region}-clover.passportalmsp.com{path_and_query}")
    }
}

async fn handle(State(app): State<Arc<App>>, req: Request) -> Response {
    let mut resp = serve(&app, req).await;
    clock::set_date(&mut resp, app.sim.now());
    resp
}

async fn serve(app: &App, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    let path_and_query = req
        .uri()
        .path_and_query()
        .map_or("/", |pq| pq.as_str())
        .to_owned();
    app.sim.count_request(&path);
    if matches!(Route::parse(&path), Some(Route::Document(_))) {
        app.sim.inner.detail_requests.fetch_add(1, Ordering::SeqCst);
    }
    let fault = app.sim.faults().take_for(&path, req.uri().query());
    let (parts, body) = req.into_parts();
    // Passportal-shaped versions of three shared faults.
    match fault {
        Some(Fault::Unauthorized) if path.starts_with(TOKEN_PATH) => {
            return error(
                StatusCode::UNAUTHORIZED,
                Success::Bool(false),
                1000,
                KEY_VERIFICATION_FAILED,
            );
        }
        Some(Fault::Unauthorized) => {
            return error(
                StatusCode::UNAUTHORIZED,
                Success::Text(false),
                1006,
                Refusal::Expired.message(),
            );
        }
        // The documented 500 envelope (its message is cut off in the docs' copy).
        Some(Fault::ServerError(500)) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                Success::Text(false),
                0,
                "Unexpected error.",
            );
        }
        Some(Fault::WrongContentType) => return login_page(),
        _ => {}
    }
    // Only the token exchange has a body worth reading; read it before the (synchronous)
    // handler runs.
    let bytes = if parts.method == Method::POST {
        match axum::body::to_bytes(body, MAX_BODY).await {
            Ok(b) => b,
            Err(_) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    Success::Bool(false),
                    0,
                    "invalid input",
                );
            }
        }
    } else {
        Bytes::new()
    };
    faults::serve_with_fault(
        fault,
        &PassportalStyle,
        &path_and_query,
        &app.shutdown,
        || {
            app.respond(
                &parts.method,
                &path,
                parts.uri.query(),
                &parts.headers,
                &bytes,
            )
        },
    )
    .await
}

/// The API's routes (a trailing `/` is accepted).
#[derive(Debug, PartialEq, Eq)]
enum Route<'a> {
    Token,
    Documents,
    Clients,
    Document(&'a str),
}

impl<'a> Route<'a> {
    fn parse(path: &'a str) -> Option<Self> {
        let rest = path.strip_prefix("/api/v2/")?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let mut segments = rest.split('/');
        let route = match (segments.next(), segments.next()) {
            (Some("auth"), Some("client_token")) => Route::Token,
            (Some("documents"), None) => Route::Documents,
            (Some("documents"), Some("all")) => Route::Documents,
            (Some("documents"), Some("clients")) => Route::Clients,
            (Some("documents"), Some(id)) if !id.is_empty() => Route::Document(id),
            _ => return None,
        };
        segments.next().is_none().then_some(route)
    }

    fn method_allowed(&self, m: &Method) -> bool {
        match self {
            Route::Token => m == Method::POST,
            _ => m == Method::GET || m == Method::HEAD,
        }
    }
}

/// An error answered with Passportal's envelope.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    /// The body's `status`; the HTTP status unless a quirk answers a failure with 200.
    body_status: u16,
    success: Success,
    code: i64,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, success: Success, code: i64, message: &str) -> Self {
        Self {
            status,
            body_status: status.as_u16(),
            success,
            code,
            message: message.to_owned(),
        }
    }

    /// The documented 400 (`"success":false`, code before message).
    fn bad_request(message: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Success::Bool(false), 0, message)
    }

    /// The documented 404 for a bad `pageNum`.
    fn page_num() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            Success::Text(false),
            0,
            PAGE_NUM_MESSAGE,
        )
    }

    /// 404 with the documented "not found." text: past the end, or an unknown path.
    fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, Success::Text(false), 0, "not found.")
    }
}

impl From<serde_json::Error> for ApiError {
    fn from(e: serde_json::Error) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            Success::Text(false),
            0,
            &format!("Unexpected error: {e}"),
        )
    }
}

type ApiResult = Result<Response, ApiError>;

/// The query string as decoded pairs, in their original order. Names are case-sensitive
/// (`clientID` is not `clientId`).
struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    fn parse(raw: Option<&str>) -> Self {
        let pairs = raw
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        Self { pairs }
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `pageNum`: absent is 1; otherwise an integer in 1..=9999.
    fn page(&self) -> Result<usize, ApiError> {
        match self.get("pageNum") {
            None => Ok(1),
            Some(v) => v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|p| (1..=9999).contains(p))
                .ok_or_else(ApiError::page_num),
        }
    }

    /// `resultsPerPage`: absent is [`DEFAULT_PAGE_SIZE`]; a positive integer, at most `cap`.
    fn per_page(&self, cap: usize) -> Result<usize, ApiError> {
        match self.get("resultsPerPage") {
            None => Ok(DEFAULT_PAGE_SIZE.min(cap)),
            Some(v) => v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n >= 1)
                .map(|n| n.min(cap))
                .ok_or_else(|| {
                    ApiError::bad_request("resultsPerPage needs to be a positive integer.")
                }),
        }
    }

    fn order(&self) -> Result<Order, ApiError> {
        let by_id = match self.get("orderBy") {
            None => false,
            Some(v) if v.eq_ignore_ascii_case("label") => false,
            Some(v) if v.eq_ignore_ascii_case("id") => true,
            Some(_) => return Err(ApiError::bad_request("orderBy must be label or id.")),
        };
        let desc = match self.get("orderDir") {
            None => false,
            Some(v) if v.eq_ignore_ascii_case("asc") => false,
            Some(v) if v.eq_ignore_ascii_case("desc") => true,
            Some(_) => return Err(ApiError::bad_request("orderDir must be asc or desc.")),
        };
        Ok(Order { by_id, desc })
    }

    fn filter(&self) -> DocFilter {
        let present = |k: &str| self.get(k).map(str::trim).filter(|v| !v.is_empty());
        DocFilter {
            doc_type: present("type").map(str::to_owned),
            client_id: present("clientId").map(|v| v.parse::<i64>().ok()),
            template_id: present("templateUid").map(|v| {
                let n = v
                    .get(..4)
                    .filter(|p| p.eq_ignore_ascii_case("tpl-"))
                    .map_or(v, |_| &v[4..]);
                n.parse::<i64>().ok()
            }),
            search: present("searchTxt").map(str::to_lowercase),
        }
    }
}

/// How the token exchange's body arrived: both JSON and form posts work against Passportal.
fn parse_exchange_body(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Option<String>, Option<String>), ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let looks_json = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if ct.contains("json") || (!ct.contains("form") && looks_json) {
        let value: Value =
            serde_json::from_slice(body).map_err(|_| ApiError::bad_request("invalid input"))?;
        let Value::Object(map) = value else {
            return Err(ApiError::bad_request("invalid input"));
        };
        let text = |k: &str| map.get(k).and_then(Value::as_str).map(str::to_owned);
        return Ok((text("scope"), text("content")));
    }
    let mut scope = None;
    let mut content = None;
    for (k, v) in url::form_urlencoded::parse(body) {
        match k.as_ref() {
            "scope" if scope.is_none() => scope = Some(v.into_owned()),
            "content" if content.is_none() => content = Some(v.into_owned()),
            _ => {}
        }
    }
    Ok((scope, content))
}

impl App {
    fn respond(
        &self,
        method: &Method,
        path: &str,
        query: Option<&str>,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Response {
        let result = self.route(method, path, query, headers, body);
        result.unwrap_or_else(|e| {
            let body = render::error_document(e.success, e.code, e.body_status, &e.message);
            json_response(e.status, body)
        })
    }

    fn route(
        &self,
        method: &Method,
        path: &str,
        query: Option<&str>,
        headers: &HeaderMap,
        body: &[u8],
    ) -> ApiResult {
        let route = Route::parse(path).ok_or_else(ApiError::not_found)?;
        if !route.method_allowed(method) {
            return Err(ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                Success::Bool(false),
                3000,
                "Method not allowed",
            ));
        }
        if route == Route::Token {
            return self.exchange(headers, body);
        }
        self.authenticate(headers)?;
        let q = Query::parse(query);
        match route {
            Route::Documents => self.documents(&q),
            Route::Clients => self.client_list(&q),
            Route::Document(id) => self.document(id),
            Route::Token => Err(ApiError::not_found()),
        }
    }

    /// `POST /api/v2/auth/client_token`. Checked in this order: the body parses (400 "invalid
    /// input"); `scope` is `docs_api` (400 "invalid scope"; the docs' table says "docs-api", but
    /// every example and working client sends `docs_api`); `content` is text (400 "invalid
    /// content"); then `x-key` names the key and `x-hash` is the lowercase hex HMAC of `content`
    /// under its secret, else code 1000 "Key verification failed" as [`AuthFailure`] says.
    fn exchange(&self, headers: &HeaderMap, body: &[u8]) -> ApiResult {
        let (scope, content) = parse_exchange_body(headers, body)?;
        if scope.as_deref() != Some("docs_api") {
            return Err(ApiError::bad_request("invalid scope"));
        }
        let content = content.ok_or_else(|| ApiError::bad_request("invalid content"))?;
        let inner = &self.sim.inner;
        let header_text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
        };
        let key_known = header_text("x-key") == Some(inner.access_key_id.as_str());
        let (secret, rotation) = super::read(&inner.secret).clone();
        let hash_ok = key_known
            && header_text("x-hash").is_some_and(|h| auth::verify_hash(&secret, &content, h));
        if !hash_ok {
            inner.rejected_exchanges.fetch_add(1, Ordering::SeqCst);
            let http200 = match self.sim.quirks().auth_failure {
                AuthFailure::Documented => false,
                AuthFailure::Http200 => true,
                AuthFailure::Mixed => key_known,
            };
            return Err(if http200 {
                ApiError {
                    // The body still says what happened.
                    body_status: 401,
                    ..ApiError::new(
                        StatusCode::OK,
                        Success::Text(false),
                        1000,
                        KEY_VERIFICATION_FAILED,
                    )
                }
            } else {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    Success::Bool(false),
                    1000,
                    KEY_VERIFICATION_FAILED,
                )
            });
        }
        let now = self.sim.now();
        let ttl_ms = i64::try_from(self.sim.token_ttl().as_millis()).unwrap_or(i64::MAX / 4);
        let now_ms = now.timestamp_millis();
        // `expiry_time` is whole seconds and is the moment the token stops working: round the
        // end of its life up to a whole second (a zero lifetime is expired at once).
        let exp = if ttl_ms == 0 {
            now.timestamp()
        } else {
            now_ms
                .saturating_add(ttl_ms)
                .saturating_add(999)
                .div_euclid(1000)
        };
        let jti = inner.next_token.fetch_add(1, Ordering::SeqCst);
        if inner.new_token_revokes_old.load(Ordering::SeqCst) {
            inner.tokens_revoked_before.fetch_max(jti, Ordering::SeqCst);
        }
        let claims = Claims {
            org: self.sim.organization_id(),
            iat: now.timestamp(),
            exp,
            jti,
        };
        let token = auth::issue(&auth::signing_key(&secret, rotation), &claims);
        // A 33-hex-digit refresh token like the sample's; no endpoint takes it back.
        let refresh = format!(
            "{:016x}{:016x}{:x}",
            seed::mix(jti, 1),
            seed::mix(jti, 2),
            seed::mix(jti, 3) % 16
        );
        let n = inner.token_exchanges.fetch_add(1, Ordering::SeqCst) + 1;
        let quirks = self.sim.quirks();
        let as_string = match quirks.expiry_time {
            ExpiryTime::Number => false,
            ExpiryTime::String => true,
            ExpiryTime::Alternate => n.is_multiple_of(2),
        };
        let body = render::token_document(self.success(false), &token, &refresh, exp, as_string);
        Ok(json_response(StatusCode::OK, body))
    }

    /// Checks `x-access-token`.
    fn authenticate(&self, headers: &HeaderMap) -> Result<Claims, ApiError> {
        let http200 = self.sim.quirks().token_refusal == TokenRefusal::Http200;
        let refuse = |r: Refusal| ApiError {
            // The body says 401 either way.
            body_status: 401,
            ..ApiError::new(
                if http200 {
                    StatusCode::OK
                } else {
                    StatusCode::UNAUTHORIZED
                },
                Success::Text(false),
                1006,
                r.message(),
            )
        };
        let token = headers
            .get("x-access-token")
            .map(|v| v.to_str().map(str::trim))
            .unwrap_or(Ok(""))
            .map_err(|_| refuse(Refusal::Malformed))?;
        let inner = &self.sim.inner;
        let (secret, rotation) = super::read(&inner.secret).clone();
        let claims = auth::decode(&auth::signing_key(&secret, rotation), token).map_err(refuse)?;
        if claims.org != self.sim.organization_id() {
            return Err(refuse(Refusal::BadSignature));
        }
        let now_ms = self.sim.now().timestamp_millis();
        let expired = now_ms >= claims.exp.saturating_mul(1000)
            || claims.jti < inner.tokens_valid_from.load(Ordering::SeqCst);
        if expired {
            return Err(refuse(Refusal::Expired));
        }
        if claims.jti < inner.tokens_revoked_before.load(Ordering::SeqCst) {
            return Err(refuse(Refusal::Revoked));
        }
        Ok(claims)
    }

    /// `success` of a successful response (`clients` says whether it is the client list).
    fn success(&self, clients: bool) -> Success {
        match self.sim.quirks().success {
            SuccessForm::Boolean => Success::Bool(true),
            SuccessForm::String => Success::Text(true),
            SuccessForm::Mixed if clients => Success::Text(true),
            SuccessForm::Mixed => Success::Bool(true),
        }
    }

    fn request_uid(&self) -> String {
        format!(
            "{}-{}",
            self.sim.organization_id(),
            self.sim.request_count()
        )
    }

    /// The answer for a page past the end (`page > 1`, nothing on it).
    fn past_end(&self, clients: bool) -> ApiResult {
        let uid = self.request_uid();
        let success = self.success(clients);
        let none = std::iter::empty::<&str>();
        match self.sim.quirks().past_end {
            PastEnd::Empty => Ok(json_response(
                StatusCode::OK,
                render::list_document(success, &uid, Some(none)),
            )),
            PastEnd::Mixed if !clients => Ok(json_response(
                StatusCode::OK,
                render::list_document(success, &uid, Some(none)),
            )),
            PastEnd::Mixed | PastEnd::Null => Ok(json_response(
                StatusCode::OK,
                render::list_document(success, &uid, None::<std::iter::Empty<&str>>),
            )),
            PastEnd::NotFound => Err(ApiError::not_found()),
        }
    }

    /// Where page `page` starts and how many it holds, for `q`'s `resultsPerPage` ([`PageOffset`]).
    fn window(&self, q: &Query, page: usize) -> Result<(usize, usize), ApiError> {
        let asked = q.per_page(usize::MAX)?;
        let per_page = asked.min(self.sim.page_size_cap());
        let stride = match self.sim.quirks().page_offset {
            PageOffset::Served => per_page,
            PageOffset::Requested => asked,
        };
        Ok((page.saturating_sub(1).saturating_mul(stride), per_page))
    }

    fn documents(&self, q: &Query) -> ApiResult {
        let page = q.page()?;
        let (offset, per_page) = self.window(q, page)?;
        let order = q.order()?;
        let mut filter = q.filter();
        if filter
            .doc_type
            .as_deref()
            .is_some_and(|t| !catalog::DOC_TYPES.contains(&t))
        {
            // An unknown type lists nothing (and keeps the index lookup from finding one).
            filter.doc_type = Some(String::new());
        }
        let store = self.sim.store();
        let hits = store.doc_page(&filter, order, offset, per_page);
        if hits.is_empty() && page > 1 {
            drop(store);
            return self.past_end(false);
        }
        let vanish = store.due_to_vanish(hits.iter().map(|e| e.doc.id()));
        let items = hits
            .into_iter()
            .map(|e| store.item_json(e))
            .collect::<Result<Vec<_>, _>>()?;
        let body = render::list_document(
            self.success(false),
            &self.request_uid(),
            Some(items.into_iter()),
        );
        drop(store);
        if !vanish.is_empty() {
            // Deleted the moment the page carrying them is written.
            let mut store = self.sim.store_mut();
            for id in vanish {
                store.delete_document(id);
            }
        }
        Ok(json_response(StatusCode::OK, body))
    }

    fn client_list(&self, q: &Query) -> ApiResult {
        let page = q.page()?;
        let (offset, per_page) = self.window(q, page)?;
        let store = self.sim.store();
        let hits = store.client_page(offset, per_page);
        if hits.is_empty() && page > 1 {
            drop(store);
            return self.past_end(true);
        }
        let items = hits
            .iter()
            .map(|e| store.client_json(e))
            .collect::<Result<Vec<_>, _>>()?;
        let body = render::list_document(
            self.success(true),
            &self.request_uid(),
            Some(items.into_iter()),
        );
        Ok(json_response(StatusCode::OK, body))
    }

    fn document(&self, raw_id: &str) -> ApiResult {
        let id = raw_id
            .parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .ok_or_else(|| ApiError::bad_request("invalid id"))?;
        let store = self.sim.store();
        // Unknown, deleted and unreadable documents all get the documented 403.
        let entry = store
            .doc(id)
            .filter(|_| store.accessible(id))
            .ok_or_else(|| {
                ApiError::new(StatusCode::FORBIDDEN, Success::Text(false), 0, "not found.")
            })?;
        let details = store.details_json(entry)?;
        let body = render::detail_document(
            self.success(false),
            entry.doc.template_id(),
            id,
            details,
            &self.request_uid(),
        );
        Ok(json_response(StatusCode::OK, body))
    }
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
    resp
}

fn error(status: StatusCode, success: Success, code: i64, message: &str) -> Response {
    json_response(
        status,
        render::error_document(success, code, status.as_u16(), message),
    )
}

/// What a browser-facing front end answers instead of the API: the Passportal login page.
fn login_page() -> Response {
    let page = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
                <title>Passportal | Login</title>\n</head>\n<body>\n\
                <form method=\"post\" action=\"//login\">\n\
                <input type=\"email\" name=\"email\" placeholder=\"Email\">\n\
                <input type=\"password\" name=\"password\" placeholder=\"Password\">\n\
                <button type=\"submit\">Log in</button>\n</form>\n</body>\n</html>\n";
    let mut resp = Response::new(Body::from(page));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=UTF-8"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(
            Route::parse("/api/v2/auth/client_token"),
            Some(Route::Token)
        );
        assert_eq!(Route::parse("/api/v2/documents"), Some(Route::Documents));
        assert_eq!(Route::parse("/api/v2/documents/"), Some(Route::Documents));
        assert_eq!(
            Route::parse("/api/v2/documents/all"),
            Some(Route::Documents)
        );
        assert_eq!(
            Route::parse("/api/v2/documents/clients"),
            Some(Route::Clients)
        );
        assert_eq!(
            Route::parse("/api/v2/documents/31182486"),
            Some(Route::Document("31182486"))
        );
        assert_eq!(
            Route::parse("/api/v2/documents/abc"),
            Some(Route::Document("abc"))
        );
        for bad in [
            "/",
            "/api/v2",
            "/api/v2/",
            "/api/v2/clients",
            "/api/v1/documents",
            "/api/v2/documents/1/2",
            "/api/v2/auth",
            "/api/v2/auth/client_token/x",
        ] {
            assert!(Route::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn query_parameters() {
        let q = Query::parse(Some(
            "pageNum=3&resultsPerPage=5000&orderBy=id&orderDir=DESC",
        ));
        assert_eq!(q.page().ok(), Some(3));
        assert_eq!(q.per_page(1000).ok(), Some(1000));
        assert_eq!(
            q.order().ok(),
            Some(Order {
                by_id: true,
                desc: true
            })
        );
        let q = Query::parse(None);
        assert_eq!(q.page().ok(), Some(1));
        assert_eq!(q.per_page(1000).ok(), Some(100));
        assert_eq!(q.order().ok(), Some(Order::default()));
        for bad in [
            "pageNum=0",
            "pageNum=10000",
            "pageNum=x",
            "pageNum=",
            "pageNum=-1",
        ] {
            let e = Query::parse(Some(bad)).page().expect_err(bad);
            assert_eq!(
                (e.status.as_u16(), e.message.as_str()),
                (404, PAGE_NUM_MESSAGE)
            );
        }
        assert!(Query::parse(Some("resultsPerPage=0")).per_page(10).is_err());
        assert!(Query::parse(Some("orderBy=name")).order().is_err());
        let f = Query::parse(Some(
            "type=asset&clientId=x&templateUid=TPL-79&searchTxt=LaP",
        ))
        .filter();
        assert_eq!(f.doc_type.as_deref(), Some("asset"));
        assert_eq!(f.client_id, Some(None));
        assert_eq!(f.template_id, Some(Some(79)));
        assert_eq!(f.search.as_deref(), Some("lap"));
        let f = Query::parse(Some("clientID=5&templateUid=101")).filter();
        assert_eq!((f.client_id, f.template_id), (None, Some(Some(101))));
    }
}
