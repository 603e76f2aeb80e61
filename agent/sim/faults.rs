//! Fault injection shared by the vendor simulators (CONTRACT §8).
//!
//! A test pushes [`FaultRule`]s onto a simulator's [`FaultPlan`]; every incoming request asks the
//! plan for the first rule whose path prefix (and, if the rule names one, query fragment)
//! matches, and [`serve_with_fault`] turns that fault into what a real vendor (or the proxies in
//! front of it) does on a bad day. The vendor-specific
//! bits (error body shape, content type, where a wrong-region redirect points) come from the
//! simulator through [`FaultStyle`], so this module knows no vendor.
//!
//! # Faults written from evidence about real vendors
//!
//! - [`Fault::Throttle403`]: a 403 whose error body says it is throttling, in a wording the test
//!   picks, with or without `Retry-After`. Public Auvik clients report Auvik answering throttled
//!   requests with 403 rather than 429 and recognise them only by the body text, matched with
//!   `/rate[\s-]?limit|quota|throttl/i` (n8n-nodes-auvik `helpers/errorHandler.ts`; node-auvik
//!   `src/http.ts` waits up to 300 s). [`Fault::RateLimit403`] is the same with one fixed
//!   wording. A lasting throttle is a counted rule: `FaultRule::times(Fault::Throttle403 {..},
//!   50)` throttles the next 50 requests (optionally `.on(prefix)`).
//! - [`Fault::SuccessFalse`]: HTTP 200 whose body is the vendor's error envelope. Passportal
//!   carries its own `status` inside the body, and a public client found that "either way, you
//!   get data, just useless data" (Hudu-PassPortal-Migration commit 36a1632), so a refusal or a
//!   glitch can arrive as a 200 with `"success":"false"`.
//! - [`Fault::ErrorStatus`]: any 4xx/5xx with the vendor's error envelope and a chosen message,
//!   e.g. Passportal's documented 404 `"pageNum needs to be an integer between 1 and 9999."`
//!   (N-able api_information.htm) served on page 2 of a list.
//! - [`FaultRule::with_query`]: a rule that matches only requests whose raw query string
//!   contains a fragment, so one page of a list can fail while the others succeed
//!   (`FaultRule::times(f, 1).on("/api/v2/documents").with_query("pageNum=2&")`). The match is a
//!   plain substring of the raw (still percent-encoded) query: `pageNum=2` also matches
//!   `pageNum=20`; add the separator that follows in the client's URLs to be exact.
//!   [`FaultRule::only_on`] restricts a rule to one path, not the paths under it (a list
//!   without its items and sub-lists).

use std::sync::Mutex;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

/// How long a [`Fault::SlowBody`] response stalls after its first half. Long enough that any
/// sane client timeout fires first; short enough that a forgotten connection ends by itself.
pub const SLOW_BODY_STALL: Duration = Duration::from_secs(300);

/// Largest body [`serve_with_fault`] will buffer to cut or stall it (a page of 1000 devices with
/// details is a few MB).
const MAX_WRAPPED_BODY: usize = 256 * 1024 * 1024;

/// One way a request can go wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawFault", into = "RawFault")]
pub enum Fault {
    /// 429 Too Many Requests, with a `Retry-After: <seconds>` header when given.
    Status429 { retry_after: Option<u64> },
    /// 403 whose error body says "rate limit" (how Auvik signals throttling in some reports).
    RateLimit403,
    /// 403 whose error body (the vendor's error envelope) carries `message`, e.g. "API request
    /// quota exceeded. Try again later.", "Request throttled" or "Rate-limit reached", with a
    /// `Retry-After: <seconds>` header when given. How Auvik throttles according to its public
    /// clients (see the module docs).
    Throttle403 {
        message: String,
        retry_after: Option<u64>,
    },
    /// HTTP 200 with the vendor's JSON content type and its error envelope carrying `message`
    /// (Passportal: `{"success":"false","message":…,"code":0,"status":200}`). Meaningful for
    /// Passportal, whose bodies carry their own success flag; the other vendors serve their own
    /// error body with a 200.
    SuccessFalse { message: String },
    /// `status` (400..=599) with the vendor's error envelope carrying `message`.
    ErrorStatus { status: u16, message: String },
    /// A 5xx: 500 with an empty body (as the Auvik spec documents it), 502/503/504 with the HTML
    /// page a load balancer sends.
    ServerError(u16),
    /// Accept the request and never answer it (until the simulator shuts down).
    Hang,
    /// Send the headers and half of the normal body, then stall for [`SLOW_BODY_STALL`].
    SlowBody,
    /// A complete HTTP response whose JSON body is cut in half.
    TruncatedJson,
    /// 200 with a body that is not JSON at all although the content type says it is.
    InvalidJson,
    /// 200 with a `text/html` body (a captive portal or maintenance page).
    WrongContentType,
    /// 200 with valid JSON of the vendor's content type but none of the vendor's fields (an
    /// API change, or a proxy answering for it): a client that defaults missing lists to
    /// empty would take it for "no records" and, in a full sync, remove everything.
    WrongShape,
    /// 401 with an empty body, as for a bad key.
    Unauthorized,
    /// 308 Permanent Redirect to the same path on another region's host.
    WrongRegion { region: String },
    /// The list's paging points back at the page just served (a cursor that loops), where
    /// the vendor pages by cursor; other vendors serve the page unchanged.
    LoopingPages,
    /// The list never ends: every page says there is another (Auvik: a fresh `next` link to
    /// the same records; Syncro: `total_pages` in the billions).
    EndlessPages,
    /// A `text/plain` body instead of JSON, with any status (Syncro has answered an API call
    /// with 200 and the bare text "Disabled").
    PlainText { status: u16, body: String },
}

/// A fault and where and how often it applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultRule {
    pub fault: Fault,
    /// Only requests whose path starts with this; `None` matches every request.
    #[serde(default)]
    pub path_prefix: Option<String>,
    /// How many matching requests get the fault; `None` means until the plan is cleared.
    #[serde(default)]
    pub times: Option<u32>,
    /// Only requests whose raw query string (without the `?`, still percent-encoded) contains
    /// this; `None` matches any query, or none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_contains: Option<String>,
    /// Only the path `path_prefix` names, not the paths under it (a list, not its items or
    /// sub-lists: `/api/v2/documents` without `/api/v2/documents/clients`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exact_path: bool,
}

impl FaultRule {
    /// A rule that applies to every request until cleared.
    pub fn always(fault: Fault) -> Self {
        Self {
            fault,
            path_prefix: None,
            times: None,
            query_contains: None,
            exact_path: false,
        }
    }

    /// A rule that applies to the next `times` requests.
    pub fn times(fault: Fault, times: u32) -> Self {
        Self {
            fault,
            path_prefix: None,
            times: Some(times),
            query_contains: None,
            exact_path: false,
        }
    }

    /// Restricts the rule to paths starting with `prefix`.
    pub fn on(mut self, prefix: &str) -> Self {
        self.path_prefix = Some(prefix.to_owned());
        self
    }

    /// Restricts the rule to the path `path` itself.
    pub fn only_on(mut self, path: &str) -> Self {
        self.path_prefix = Some(path.to_owned());
        self.exact_path = true;
        self
    }

    /// Restricts the rule to requests whose raw query string contains `fragment` (e.g.
    /// `"pageNum=2&"`), so that one page of a list fails while the others succeed.
    pub fn with_query(mut self, fragment: &str) -> Self {
        self.query_contains = Some(fragment.to_owned());
        self
    }

    fn matches(&self, path: &str, query: Option<&str>) -> bool {
        self.path_prefix.as_deref().is_none_or(|p| {
            if self.exact_path {
                path == p
            } else {
                path.starts_with(p)
            }
        }) && self
            .query_contains
            .as_deref()
            .is_none_or(|f| query.is_some_and(|q| q.contains(f)))
    }
}

/// The faults waiting to be served, in the order they were pushed. Thread-safe: the HTTP tasks
/// take from it while a test pushes.
#[derive(Debug, Default)]
pub struct FaultPlan {
    rules: Mutex<Vec<FaultRule>>,
}

impl FaultPlan {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a rule. A rule for zero requests is a no-op.
    pub fn push(&self, rule: FaultRule) {
        if rule.times == Some(0) {
            return;
        }
        self.lock().push(rule);
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// The rules still pending, for display.
    pub fn rules(&self) -> Vec<FaultRule> {
        self.lock().clone()
    }

    /// The fault for a request to `path` with the raw query string `query` (without the `?`),
    /// if any: the first matching rule wins, and a counted rule is used up by it.
    pub fn take_for(&self, path: &str, query: Option<&str>) -> Option<Fault> {
        let mut rules = self.lock();
        let idx = rules.iter().position(|r| r.matches(path, query))?;
        let rule = &mut rules[idx];
        let fault = rule.fault.clone();
        if let Some(n) = rule.times.as_mut() {
            *n -= 1;
            if *n == 0 {
                rules.remove(idx);
            }
        }
        Some(fault)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<FaultRule>> {
        // A panic while holding this lock cannot leave the Vec half-updated in a way that
        // matters, so a poisoned lock is still usable.
        self.rules.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What a simulator tells the fault module about its vendor.
pub trait FaultStyle: Send + Sync {
    /// Content type of the vendor's JSON bodies.
    fn json_content_type(&self) -> &str;
    /// The vendor's JSON error body for `status`.
    fn error_body(&self, status: u16, title: &str, detail: &str) -> String;
    /// Absolute URL of the same request on another region's host.
    fn region_location(&self, region: &str, path_and_query: &str) -> String;
    /// Rewrites a list page's paging so that it loops back to itself, or (`endless`) never
    /// ends. `false` where the vendor's paging has no such form; the page is then served as
    /// it was.
    fn rewrite_paging(
        &self,
        _page: &mut serde_json::Value,
        _path_and_query: &str,
        _endless: bool,
    ) -> bool {
        false
    }
}

/// Serves one request under `fault`: either a canned failure, or the normal response from
/// `normal` damaged on the way out. `shutdown` ends hangs and stalls when the server stops.
pub async fn serve_with_fault(
    fault: Option<Fault>,
    style: &dyn FaultStyle,
    path_and_query: &str,
    shutdown: &CancellationToken,
    normal: impl FnOnce() -> Response,
) -> Response {
    let Some(fault) = fault else {
        return normal();
    };
    match fault {
        Fault::Status429 { retry_after } => {
            let body = style.error_body(
                429,
                "Too Many Requests",
                "API rate limit exceeded. Slow down and retry later.",
            );
            let mut resp = text(
                StatusCode::TOO_MANY_REQUESTS,
                style.json_content_type(),
                body,
            );
            if let Some(secs) = retry_after {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            resp
        }
        Fault::RateLimit403 => {
            let body = style.error_body(
                403,
                "Forbidden",
                "API rate limit exceeded for this address. Wait 5 minutes before retrying.",
            );
            text(StatusCode::FORBIDDEN, style.json_content_type(), body)
        }
        Fault::Throttle403 {
            message,
            retry_after,
        } => {
            let body = style.error_body(403, "Forbidden", &message);
            let mut resp = text(StatusCode::FORBIDDEN, style.json_content_type(), body);
            if let Some(secs) = retry_after {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            resp
        }
        Fault::SuccessFalse { message } => {
            let body = style.error_body(200, "OK", &message);
            text(StatusCode::OK, style.json_content_type(), body)
        }
        Fault::ErrorStatus { status, message } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let title = status.canonical_reason().unwrap_or("Error");
            let body = style.error_body(status.as_u16(), title, &message);
            text(status, style.json_content_type(), body)
        }
        Fault::ServerError(code) => server_error(code),
        Fault::Hang => {
            shutdown.cancelled().await;
            // The connection is being torn down; nobody reads this.
            empty(StatusCode::SERVICE_UNAVAILABLE)
        }
        Fault::SlowBody => {
            let (parts, body) = normal().into_parts();
            let Ok(bytes) = axum::body::to_bytes(body, MAX_WRAPPED_BODY).await else {
                return server_error(500);
            };
            let half = bytes.len() / 2;
            let first = bytes.slice(..half);
            let rest = bytes.slice(half..);
            let stop = shutdown.clone();
            let tail = futures_util::stream::once(async move {
                tokio::select! {
                    _ = tokio::time::sleep(SLOW_BODY_STALL) => Ok(rest),
                    // An error makes the server abort the connection mid-body.
                    _ = stop.cancelled() => Err(std::io::Error::other("simulator shutting down")),
                }
            });
            let stream =
                futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(first) })
                    .chain(tail);
            let mut resp = Response::from_parts(parts, Body::from_stream(stream));
            // Announce the full length so the client knows it is waiting for more.
            resp.headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
            resp
        }
        Fault::TruncatedJson => {
            let (mut parts, body) = normal().into_parts();
            let Ok(bytes) = axum::body::to_bytes(body, MAX_WRAPPED_BODY).await else {
                return server_error(500);
            };
            let cut = bytes.slice(..bytes.len() / 2);
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(cut))
        }
        Fault::InvalidJson => text(
            StatusCode::OK,
            style.json_content_type(),
            "{\"data\": [{\"type\": \"device\", \"id\": }, <!-- upstream reset -->".to_owned(),
        ),
        Fault::WrongContentType => text(
            StatusCode::OK,
            "text/html; charset=utf-8",
            "<!DOCTYPE html>\n<html><head><title>Scheduled maintenance</title></head>\
             <body><h1>We'll be right back</h1><p>The service is undergoing scheduled \
             maintenance.</p></body></html>\n"
                .to_owned(),
        ),
        Fault::WrongShape => text(
            StatusCode::OK,
            style.json_content_type(),
            "{\"status\": \"ok\", \"items\": [], \"next\": null}".to_owned(),
        ),
        Fault::LoopingPages | Fault::EndlessPages => {
            let endless = fault == Fault::EndlessPages;
            let (mut parts, body) = normal().into_parts();
            let Ok(bytes) = axum::body::to_bytes(body, MAX_WRAPPED_BODY).await else {
                return server_error(500);
            };
            let page = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .filter(|_| parts.status.is_success());
            let Some(mut page) = page else {
                return Response::from_parts(parts, Body::from(bytes));
            };
            if !style.rewrite_paging(&mut page, path_and_query, endless) {
                return Response::from_parts(parts, Body::from(bytes));
            }
            parts.headers.remove(header::CONTENT_LENGTH);
            let out = serde_json::to_vec(&page).unwrap_or_else(|_| bytes.to_vec());
            Response::from_parts(parts, Body::from(out))
        }
        Fault::Unauthorized => empty(StatusCode::UNAUTHORIZED),
        Fault::PlainText { status, body } => text(
            StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
            "text/plain; charset=utf-8",
            body,
        ),
        Fault::WrongRegion { region } => {
            let location = style.region_location(&region, path_and_query);
            let mut resp = empty(StatusCode::PERMANENT_REDIRECT);
            if let Ok(v) = HeaderValue::from_str(&location) {
                resp.headers_mut().insert(header::LOCATION, v);
            }
            resp
        }
    }
}

fn server_error(code: u16) -> Response {
    let status = StatusCode::from_u16(code)
        .ok()
        .filter(StatusCode::is_server_error)
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        // The Auvik spec documents its 500 as "Something went wrong" without a body.
        return empty(status);
    }
    // 502/503/504 come from the load balancer in front of the API, as an HTML page.
    let reason = status.canonical_reason().unwrap_or("Error");
    let page = format!(
        "<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n<center><h1>{code} \
         {reason}</h1></center>\r\n</body>\r\n</html>\r\n",
        code = status.as_u16()
    );
    text(status, "text/html", page)
}

fn empty(status: StatusCode) -> Response {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = status;
    resp
}

fn text(status: StatusCode, content_type: &str, body: String) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(content_type) {
        resp.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    resp
}

/// The JSON form of a [`Fault`] on the simulators' control surface, e.g.
/// `{"kind":"status429","retry_after":30}`, `{"kind":"server_error","status":503}`,
/// `{"kind":"wrong_region","region":"eu1"}`,
/// `{"kind":"throttle403","message":"Request throttled","retry_after":300}`,
/// `{"kind":"success_false","message":"not found."}`,
/// `{"kind":"error_status","status":404,"message":"pageNum needs …"}`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFault {
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_after: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

/// The `kind` names accepted on the control surface.
pub const FAULT_KINDS: &[&str] = &[
    "status429",
    "rate_limit403",
    "throttle403",
    "success_false",
    "error_status",
    "server_error",
    "hang",
    "slow_body",
    "truncated_json",
    "invalid_json",
    "wrong_content_type",
    "wrong_shape",
    "looping_pages",
    "endless_pages",
    "unauthorized",
    "wrong_region",
    "plain_text",
];

impl TryFrom<RawFault> for Fault {
    type Error = String;

    fn try_from(raw: RawFault) -> Result<Self, String> {
        Ok(match raw.kind.as_str() {
            "status429" => Fault::Status429 {
                retry_after: raw.retry_after,
            },
            "rate_limit403" => Fault::RateLimit403,
            "throttle403" => Fault::Throttle403 {
                message: raw.message.ok_or("throttle403 needs \"message\"")?,
                retry_after: raw.retry_after,
            },
            "success_false" => Fault::SuccessFalse {
                message: raw.message.ok_or("success_false needs \"message\"")?,
            },
            "error_status" => {
                let status = raw.status.ok_or("error_status needs \"status\"")?;
                if !(400..=599).contains(&status) {
                    return Err(format!(
                        "error_status status must be 400..599, got {status}"
                    ));
                }
                Fault::ErrorStatus {
                    status,
                    message: raw.message.ok_or("error_status needs \"message\"")?,
                }
            }
            "server_error" => {
                let status = raw.status.unwrap_or(500);
                if !(500..=599).contains(&status) {
                    return Err(format!(
                        "server_error status must be 500..599, got {status}"
                    ));
                }
                Fault::ServerError(status)
            }
            "hang" => Fault::Hang,
            "slow_body" => Fault::SlowBody,
            "truncated_json" => Fault::TruncatedJson,
            "invalid_json" => Fault::InvalidJson,
            "wrong_content_type" => Fault::WrongContentType,
            "wrong_shape" => Fault::WrongShape,
            "looping_pages" => Fault::LoopingPages,
            "endless_pages" => Fault::EndlessPages,
            "unauthorized" => Fault::Unauthorized,
            "wrong_region" => {
                let region = raw.region.ok_or("wrong_region needs \"region\"")?;
                let valid = !region.is_empty()
                    && region
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
                if !valid {
                    return Err(format!("region must be like \"eu1\", got {region:?}"));
                }
                Fault::WrongRegion { region }
            }
            "plain_text" => {
                let status = raw.status.unwrap_or(200);
                if !(200..=599).contains(&status) {
                    return Err(format!("plain_text status must be 200..599, got {status}"));
                }
                Fault::PlainText {
                    status,
                    body: raw.body.unwrap_or_else(|| "Disabled".to_owned()),
                }
            }
            other => {
                return Err(format!(
                    "unknown fault kind {other:?}; expected one of {}",
                    FAULT_KINDS.join(", ")
                ));
            }
        })
    }
}

impl From<Fault> for RawFault {
    fn from(f: Fault) -> Self {
        let mut raw = RawFault {
            kind: String::new(),
            retry_after: None,
            status: None,
            region: None,
            body: None,
            message: None,
        };
        raw.kind = match f {
            Fault::Status429 { retry_after } => {
                raw.retry_after = retry_after;
                "status429"
            }
            Fault::RateLimit403 => "rate_limit403",
            Fault::Throttle403 {
                message,
                retry_after,
            } => {
                raw.message = Some(message);
                raw.retry_after = retry_after;
                "throttle403"
            }
            Fault::SuccessFalse { message } => {
                raw.message = Some(message);
                "success_false"
            }
            Fault::ErrorStatus { status, message } => {
                raw.status = Some(status);
                raw.message = Some(message);
                "error_status"
            }
            Fault::ServerError(code) => {
                raw.status = Some(code);
                "server_error"
            }
            Fault::Hang => "hang",
            Fault::SlowBody => "slow_body",
            Fault::TruncatedJson => "truncated_json",
            Fault::InvalidJson => "invalid_json",
            Fault::WrongContentType => "wrong_content_type",
            Fault::WrongShape => "wrong_shape",
            Fault::LoopingPages => "looping_pages",
            Fault::EndlessPages => "endless_pages",
            Fault::Unauthorized => "unauthorized",
            Fault::WrongRegion { region } => {
                raw.region = Some(region);
                "wrong_region"
            }
            Fault::PlainText { status, body } => {
                raw.status = Some(status);
                raw.body = Some(body);
                "plain_text"
            }
        }
        .to_owned();
        raw
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_rules_are_used_up_in_order() {
        let plan = FaultPlan::new();
        plan.push(FaultRule::times(Fault::ServerError(502), 2).on("/v1/inventory"));
        plan.push(FaultRule::times(Fault::Unauthorized, 1));
        assert_eq!(
            plan.take_for("/v1/tenants", None),
            Some(Fault::Unauthorized)
        );
        assert_eq!(plan.take_for("/v1/tenants", None), None);
        assert_eq!(
            plan.take_for("/v1/inventory/device/info", None),
            Some(Fault::ServerError(502))
        );
        assert_eq!(
            plan.take_for("/v1/inventory/device/info", None),
            Some(Fault::ServerError(502))
        );
        assert_eq!(plan.take_for("/v1/inventory/device/info", None), None);
    }

    #[test]
    fn uncounted_rules_last_until_cleared() {
        let plan = FaultPlan::new();
        plan.push(FaultRule::always(Fault::Hang));
        plan.push(FaultRule::times(Fault::Hang, 0));
        for _ in 0..5 {
            assert_eq!(plan.take_for("/x", None), Some(Fault::Hang));
        }
        assert_eq!(plan.rules().len(), 1);
        plan.clear();
        assert_eq!(plan.take_for("/x", None), None);
    }

    #[test]
    fn query_restricted_rules_match_only_that_query() {
        let plan = FaultPlan::new();
        plan.push(
            FaultRule::times(Fault::ServerError(500), 1)
                .on("/api/v2/documents")
                .with_query("pageNum=2&"),
        );
        assert_eq!(plan.take_for("/api/v2/documents", None), None);
        assert_eq!(
            plan.take_for("/api/v2/documents", Some("pageNum=1&resultsPerPage=10")),
            None
        );
        assert_eq!(
            plan.take_for("/api/v2/other", Some("pageNum=2&resultsPerPage=10")),
            None
        );
        assert_eq!(
            plan.take_for(
                "/api/v2/documents",
                Some("type=asset&pageNum=2&resultsPerPage=10")
            ),
            Some(Fault::ServerError(500))
        );
        assert_eq!(
            plan.take_for("/api/v2/documents", Some("pageNum=2&resultsPerPage=10")),
            None,
            "used up"
        );
        let rule: FaultRule = serde_json::from_str(
            r#"{"fault":{"kind":"hang"},"path_prefix":"/x","query_contains":"page=3"}"#,
        )
        .expect("valid rule");
        assert_eq!(
            rule,
            FaultRule::always(Fault::Hang).on("/x").with_query("page=3")
        );
        // Rules without a query fragment serialize as before.
        let plain = serde_json::to_value(FaultRule::always(Fault::Hang)).expect("serialize");
        assert!(plain.get("query_contains").is_none(), "{plain}");
        assert!(plain.get("exact_path").is_none(), "{plain}");
    }

    #[test]
    fn exact_path_rules_leave_the_paths_under_it_alone() {
        let plan = FaultPlan::new();
        plan.push(
            FaultRule::always(Fault::ServerError(500))
                .only_on("/api/v2/documents")
                .with_query("pageNum=2"),
        );
        let q = Some("resultsPerPage=5&pageNum=2");
        assert_eq!(plan.take_for("/api/v2/documents/clients", q), None);
        assert_eq!(plan.take_for("/api/v2/documents/123", q), None);
        assert_eq!(
            plan.take_for("/api/v2/documents", q),
            Some(Fault::ServerError(500))
        );
        let rule: FaultRule = serde_json::from_str(
            r#"{"fault":{"kind":"hang"},"path_prefix":"/x","exact_path":true}"#,
        )
        .expect("valid rule");
        assert_eq!(rule, FaultRule::always(Fault::Hang).only_on("/x"));
    }

    #[test]
    fn new_fault_kinds_round_trip_as_json() {
        for (json, fault) in [
            (
                r#"{"kind":"throttle403","message":"Request throttled","retry_after":300}"#,
                Fault::Throttle403 {
                    message: "Request throttled".to_owned(),
                    retry_after: Some(300),
                },
            ),
            (
                r#"{"kind":"throttle403","message":"Rate-limit reached"}"#,
                Fault::Throttle403 {
                    message: "Rate-limit reached".to_owned(),
                    retry_after: None,
                },
            ),
            (
                r#"{"kind":"success_false","message":"not found."}"#,
                Fault::SuccessFalse {
                    message: "not found.".to_owned(),
                },
            ),
            (
                r#"{"kind":"error_status","status":404,"message":"pageNum"}"#,
                Fault::ErrorStatus {
                    status: 404,
                    message: "pageNum".to_owned(),
                },
            ),
        ] {
            let parsed: Fault = serde_json::from_str(json).expect(json);
            assert_eq!(parsed, fault);
            let back: Fault =
                serde_json::from_value(serde_json::to_value(&fault).expect("serialize"))
                    .expect("parse");
            assert_eq!(back, fault);
        }
        for bad in [
            r#"{"kind":"throttle403"}"#,
            r#"{"kind":"success_false"}"#,
            r#"{"kind":"error_status","message":"x"}"#,
            r#"{"kind":"error_status","status":200,"message":"x"}"#,
            r#"{"kind":"error_status","status":404}"#,
        ] {
            assert!(serde_json::from_str::<Fault>(bad).is_err(), "{bad}");
        }
        assert_eq!(
            serde_json::from_str::<Fault>(r#"{"kind":"rate_limit403"}"#).expect("old kind"),
            Fault::RateLimit403
        );
    }

    #[test]
    fn rules_round_trip_as_json() {
        let rule: FaultRule = serde_json::from_str(
            r#"{"fault":{"kind":"status429","retry_after":7},"path_prefix":"/v1","times":3}"#,
        )
        .expect("valid rule");
        assert_eq!(
            rule.fault,
            Fault::Status429 {
                retry_after: Some(7)
            }
        );
        let back: FaultRule =
            serde_json::from_value(serde_json::to_value(&rule).expect("serialize")).expect("parse");
        assert_eq!(back, rule);
        let text: FaultRule =
            serde_json::from_str(r#"{"fault":{"kind":"plain_text"}}"#).expect("defaults");
        assert_eq!(
            text.fault,
            Fault::PlainText {
                status: 200,
                body: "Disabled".to_owned()
            }
        );
        for bad in [
            r#"{"fault":{"kind":"nope"}}"#,
            r#"{"fault":{"kind":"server_error","status":404}}"#,
            r#"{"fault":{"kind":"wrong_region"}}"#,
            r#"{"fault":{"kind":"wrong_region","region":"evil.example/x"}}"#,
            r#"{"fault":{"kind":"plain_text","status":99}}"#,
        ] {
            assert!(serde_json::from_str::<FaultRule>(bad).is_err(), "{bad}");
        }
    }
}
