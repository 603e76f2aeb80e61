//! The HTTP client every connector uses: one `reqwest::Client` per source, bounded retries
//! with exponential backoff and jitter that honour `Retry-After`, JSON content checks, and
//! counters for the run record. It never follows redirects: a redirect could carry the
//! credentials to another host, and Auvik's 308 means "wrong region", which the connector
//! reports instead. Proxies: see `Route`.

use super::VendorError;
use super::ratelimit::RateLimiter;
use crate::config::{ProxySetting, ProxyUrl, is_loopback_host};
use crate::metrics::{SourceMetrics, StatusClass};
use reqwest::{StatusCode, header};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How a connector's requests are retried.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// The default backoff with the source's retry budget.
    pub fn with_retries(max_retries: u32) -> Self {
        RetryPolicy {
            max_retries,
            ..RetryPolicy::default()
        }
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(60),
        }
    }
}

/// How a connector waits out its vendor's throttling (429, or what the connector's
/// `ThrottleCheck` recognises). Throttling is not a failure to retry a few times but the
/// vendor asking for time: waits are measured against a time budget, not `max_retries`.
#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    /// The longest one request waits, in all, for the vendor to stop throttling it; past it
    /// the request fails (the run's `run_timeout` still bounds everything).
    pub budget: Duration,
    /// The wait when the vendor names none (`Retry-After`): the first, then doubled each
    /// time when `doubling` (a window of unknown length), or the same each time (a window
    /// of known length, such as Syncro's minute). A tenth of jitter is added to each.
    pub first_wait: Duration,
    pub doubling: bool,
}

impl ThrottlePolicy {
    /// The wait before the next attempt after `waited` in all (`throttles` earlier
    /// throttled answers to this request); `None` when the budget is spent.
    fn next_wait(
        &self,
        throttles: u32,
        waited: Duration,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        let left = self.budget.checked_sub(waited).filter(|d| !d.is_zero())?;
        let wait = match retry_after {
            // The vendor said how long; honour it, but never sleep unbounded on its word.
            Some(d) => d.min(Duration::from_secs(600)),
            None => {
                let base = if self.doubling {
                    self.first_wait
                        .saturating_mul(2u32.saturating_pow(throttles.min(16)))
                } else {
                    self.first_wait
                };
                base + base.mul_f64(fastrand::f64() * 0.1)
            }
        };
        Some(wait.min(left))
    }
}

impl Default for ThrottlePolicy {
    /// For vendors that document no throttling: a few short doubling waits.
    fn default() -> Self {
        ThrottlePolicy {
            budget: Duration::from_secs(120),
            first_wait: Duration::from_secs(2),
            doubling: true,
        }
    }
}

/// The largest response body accepted; no real inventory page comes near it, and it keeps
/// a hostile or broken server from exhausting memory.
const MAX_BODY_BYTES: usize = 64 << 20;

/// Per-run request counters, shared with the run's progress reports.
#[derive(Debug, Default)]
pub struct Counters {
    pub requests: AtomicI64,
    pub retries: AtomicI64,
    /// The source's metrics, told of each attempt's status class and each retry as they
    /// happen (so a long run shows in Prometheus while it runs); none outside a sync run.
    pub metrics: Option<Arc<SourceMetrics>>,
}

impl Counters {
    fn answered(&self, class: StatusClass) {
        if let Some(m) = &self.metrics {
            m.request(class);
        }
    }

    /// A request is asked again (by the client here, or by a connector's own second look).
    pub fn retried(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
        if let Some(m) = &self.metrics {
            m.retry();
        }
    }
}

/// A successful JSON response, as text: connectors decode it into their own wire types
/// (and may keep parts of it verbatim).
pub struct JsonResponse {
    pub body: String,
    /// The vendor's clock when it answered (its `Date` header), when it sent one.
    pub date: Option<chrono::DateTime<chrono::Utc>>,
    /// When the answer arrived, by our monotonic clock (with `date`, this turns the vendor's
    /// absolute times into durations that our clock's skew cannot bend).
    pub received: std::time::Instant,
}

/// A response that is not a success, handed to the connector to explain.
#[derive(Debug)]
pub struct Failure {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
}

/// Where a source's requests go: straight to the vendor, or through a proxy. Only an
/// https:// vendor that is not on this machine is ever proxied, and then only through a
/// CONNECT tunnel: the proxy relays TLS it cannot read, so it never sees a credential. A
/// plain-http vendor (allowed only on loopback) and any loopback vendor always go direct,
/// whatever `HTTP_PROXY` says (issue 21: a proxy once got a Syncro key in clear text).
#[derive(Clone, Debug, Default)]
pub struct Route {
    proxy: Option<Proxy>,
}

#[derive(Clone, Debug)]
struct Proxy {
    url: ProxyUrl,
    /// Where the proxy came from, for messages: "the source's `proxy`" or "$HTTPS_PROXY".
    origin: String,
    /// `NO_PROXY`, for a proxy from the environment.
    no_proxy: Option<String>,
}

impl Route {
    /// Straight to the vendor.
    pub fn direct() -> Route {
        Route::default()
    }

    /// The route for a source at `base`, from its `proxy` setting and the environment.
    pub fn for_source(base: &url::Url, setting: &ProxySetting) -> Result<Route, VendorError> {
        Route::with_env(base, setting, |name| std::env::var(name).ok())
    }

    /// `for_source` with the environment given (tests cannot safely set variables of a
    /// process running threads).
    pub fn with_env(
        base: &url::Url,
        setting: &ProxySetting,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Route, VendorError> {
        if base.scheme() != "https" || is_loopback_host(base) {
            return Ok(Route::direct());
        }
        let proxy = match setting {
            ProxySetting::Direct => None,
            ProxySetting::Url(url) => Some(Proxy {
                url: url.clone(),
                origin: "the source's `proxy`".into(),
                no_proxy: None,
            }),
            ProxySetting::FromEnvironment => {
                // HTTP_PROXY is for http:// requests, which are never proxied; curl's
                // lower-case names first, as curl reads them.
                let found = ["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]
                    .into_iter()
                    .find_map(|name| env(name).filter(|v| !v.is_empty()).map(|v| (name, v)));
                match found {
                    None => None,
                    Some((name, value)) => {
                        let url = ProxyUrl::parse(&value).map_err(|why| {
                            VendorError::Transport(format!(
                                "the proxy in ${name}: {why}. Fix ${name} in the service's environment (`systemctl edit assetd`) and restart, or set `proxy = \"none\"` (or `proxy = \"http://HOST:PORT\"`) on the source"
                            ))
                        })?;
                        let no_proxy = ["no_proxy", "NO_PROXY"]
                            .into_iter()
                            .find_map(|n| env(n).filter(|v| !v.is_empty()));
                        Some(Proxy {
                            url,
                            origin: format!("${name}"),
                            no_proxy,
                        })
                    }
                }
            }
        };
        Ok(Route { proxy })
    }

    /// The proxy in use, for messages: its URL with any password masked, and its origin.
    pub fn describe(&self) -> Option<String> {
        self.proxy
            .as_ref()
            .map(|p| format!("proxy {} (from {})", p.url, p.origin))
    }

    fn apply(
        &self,
        builder: reqwest::ClientBuilder,
    ) -> Result<reqwest::ClientBuilder, VendorError> {
        // Never reqwest's own reading of the environment: it would proxy http:// too.
        let builder = builder.no_proxy();
        let Some(p) = &self.proxy else {
            return Ok(builder);
        };
        let proxy = reqwest::Proxy::https(p.url.expose())
            .map_err(|e| {
                VendorError::Transport(format!(
                    "cannot use the {}: {e}",
                    self.describe().unwrap_or_default()
                ))
            })?
            .no_proxy(
                p.no_proxy
                    .as_deref()
                    .and_then(reqwest::NoProxy::from_string),
            );
        Ok(builder.proxy(proxy))
    }
}

/// Decides whether a non-success response is the vendor throttling us.
pub type ThrottleCheck = Arc<dyn Fn(StatusCode, &str) -> bool + Send + Sync>;

#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    policy: RetryPolicy,
    /// Decides whether a non-success response is the vendor throttling us (retry after a
    /// pause) rather than a real answer. Auvik signals throttling with a 403 too.
    is_throttle: ThrottleCheck,
    throttle: ThrottlePolicy,
    /// A request budget to wait for before every attempt, retries included.
    limiter: Option<std::sync::Arc<RateLimiter>>,
    /// For messages: how long one request may take.
    request_timeout: Duration,
    /// For messages: the proxy, when one is in the way.
    proxy: Option<String>,
}

impl HttpClient {
    pub fn new(
        route: &Route,
        policy: RetryPolicy,
        request_timeout: Duration,
        is_throttle: ThrottleCheck,
    ) -> Result<HttpClient, VendorError> {
        let builder = reqwest::Client::builder()
            .user_agent(concat!("assetd/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .timeout(request_timeout)
            .https_only(false); // config validation allows http:// only to loopback
        let client = route
            .apply(builder)?
            .build()
            .map_err(|e| VendorError::Transport(format!("cannot build the HTTP client: {e}")))?;
        Ok(HttpClient {
            client,
            policy,
            is_throttle,
            throttle: ThrottlePolicy::default(),
            limiter: None,
            request_timeout,
            proxy: route.describe(),
        })
    }

    pub fn with_throttle(mut self, throttle: ThrottlePolicy) -> HttpClient {
        self.throttle = throttle;
        self
    }

    /// How long one request waits out throttling in all, for messages.
    pub fn throttle_budget(&self) -> Duration {
        self.throttle.budget
    }

    pub fn with_limiter(mut self, limiter: std::sync::Arc<RateLimiter>) -> HttpClient {
        self.limiter = Some(limiter);
        self
    }

    /// GETs `url` with `auth` applied; see `send_json`.
    pub async fn get_json(
        &self,
        url: &url::Url,
        auth: &(dyn Fn(reqwest::RequestBuilder) -> reqwest::RequestBuilder + Sync),
        counters: &Counters,
        cancel: &CancellationToken,
    ) -> Result<JsonResponse, Result<Failure, VendorError>> {
        let build = |client: &reqwest::Client| auth(client.get(url.clone()));
        self.send_json(url, &build, counters, cancel).await
    }

    /// Sends the request `build` makes (once per attempt) and returns its JSON body,
    /// retrying throttling, 5xx, timeouts and connection failures. Any other non-success
    /// status is returned as `Err(Ok(failure))` for the connector to explain; transport
    /// and decoding problems as `Err(Err(..))`. `url` names the request in messages.
    pub async fn send_json(
        &self,
        url: &url::Url,
        build: &(dyn Fn(&reqwest::Client) -> reqwest::RequestBuilder + Sync),
        counters: &Counters,
        cancel: &CancellationToken,
    ) -> Result<JsonResponse, Result<Failure, VendorError>> {
        // Failures (5xx, timeouts, broken connections) are retried `max_retries` times;
        // throttling is waited out within the throttle budget, however many answers it takes.
        let mut attempt = 0u32;
        let (mut throttles, mut throttled_for) = (0u32, Duration::ZERO);
        loop {
            if cancel.is_cancelled() {
                return Err(Err(VendorError::Cancelled));
            }
            if let Some(limiter) = &self.limiter
                && !limiter.acquire(cancel).await
            {
                return Err(Err(VendorError::Cancelled));
            }
            counters.requests.fetch_add(1, Ordering::Relaxed);
            let (outcome, class) = self.once(url, build, cancel).await;
            counters.answered(class);
            let delay = match outcome {
                Attempt::Done(r) => return r,
                Attempt::Fatal(e) => return Err(Err(e)),
                Attempt::Throttled { last, retry_after } => {
                    match self
                        .throttle
                        .next_wait(throttles, throttled_for, retry_after)
                    {
                        Some(wait) => {
                            throttles += 1;
                            throttled_for += wait;
                            tracing::info!(url = %redact(url), wait_ms = wait.as_millis() as u64,
                                "The vendor is throttling requests; waiting before asking again.");
                            wait
                        }
                        None => return Err(Ok(last)),
                    }
                }
                Attempt::Retryable { last, .. } if attempt >= self.policy.max_retries => {
                    return Err(last);
                }
                Attempt::Retryable { retry_after, .. } => {
                    let delay = self.backoff(attempt, retry_after);
                    attempt += 1;
                    delay
                }
            };
            counters.retried();
            tracing::debug!(url = %redact(url), attempt, delay_ms = delay.as_millis() as u64, "Retrying a vendor request.");
            tokio::select! {
                _ = cancel.cancelled() => return Err(Err(VendorError::Cancelled)),
                _ = tokio::time::sleep(delay) => {}
            }
        }
    }

    /// One attempt, and how it ended for the metrics: the status class of the response,
    /// or no response (connection, timeout, a body cut short, cancellation).
    async fn once(
        &self,
        url: &url::Url,
        build: &(dyn Fn(&reqwest::Client) -> reqwest::RequestBuilder + Sync),
        cancel: &CancellationToken,
    ) -> (Attempt, StatusClass) {
        let mut class = StatusClass::NoResponse;
        let attempt = self.attempt(url, build, cancel, &mut class).await;
        (attempt, class)
    }

    async fn attempt(
        &self,
        url: &url::Url,
        build: &(dyn Fn(&reqwest::Client) -> reqwest::RequestBuilder + Sync),
        cancel: &CancellationToken,
        class: &mut StatusClass,
    ) -> Attempt {
        let request = build(&self.client)
            .header(header::ACCEPT, "application/vnd.api+json, application/json");
        let send = async {
            let resp = request.send().await?;
            let status = resp.status();
            let headers = resp.headers().clone();
            let body = read_capped(resp).await?;
            Ok::<_, reqwest::Error>((status, headers, body))
        };
        let result = tokio::select! {
            _ = cancel.cancelled() => return Attempt::Fatal(VendorError::Cancelled),
            r = send => r,
        };
        let (status, headers, body) = match result {
            Ok(r) => {
                *class = StatusClass::of(r.0.as_u16());
                r
            }
            Err(e) => {
                let what = transport_error(&e, url, self.request_timeout, self.proxy.as_deref());
                return Attempt::Retryable {
                    last: Err(what),
                    retry_after: None,
                };
            }
        };
        let body = match body {
            Some(b) => b,
            None => {
                return Attempt::Fatal(VendorError::Decode(format!(
                    "{}: the response is larger than {} MiB",
                    redact(url),
                    MAX_BODY_BYTES >> 20
                )));
            }
        };
        let date = headers
            .get(header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| chrono::DateTime::parse_from_rfc2822(v.trim()).ok())
            .map(|t| t.with_timezone(&chrono::Utc));
        let received = std::time::Instant::now();
        if status.is_success() && body.is_empty() {
            // An empty success ("credentials valid") has nothing to type-check; a caller
            // that needed data fails to decode it with its own message.
            return Attempt::Done(Ok(JsonResponse {
                body: String::new(),
                date,
                received,
            }));
        }
        if status.is_success() {
            let ct = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_ascii_lowercase();
            let media = ct.split(';').next().unwrap_or("").trim().to_string();
            if media != "application/json" && !media.ends_with("+json") {
                return Attempt::Fatal(VendorError::Decode(format!(
                    "{}: expected JSON but got `{}` (a proxy or captive portal in the way?)",
                    redact(url),
                    if ct.is_empty() {
                        "no content type"
                    } else {
                        &ct
                    }
                )));
            }
            return match String::from_utf8(body) {
                Ok(body) => Attempt::Done(Ok(JsonResponse {
                    body,
                    date,
                    received,
                })),
                Err(_) => Attempt::Fatal(VendorError::Decode(format!(
                    "{}: the body is not UTF-8 text",
                    redact(url)
                ))),
            };
        }
        let text = String::from_utf8_lossy(&body)
            .chars()
            .take(2000)
            .collect::<String>();
        let failure = Failure {
            status,
            location: headers
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            body: text,
        };
        let throttled =
            status == StatusCode::TOO_MANY_REQUESTS || (self.is_throttle)(status, &failure.body);
        let retry_after = headers
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        if throttled {
            return Attempt::Throttled {
                last: failure,
                retry_after,
            };
        }
        if matches!(status.as_u16(), 500 | 502 | 503 | 504) {
            return Attempt::Retryable {
                last: Ok(failure),
                retry_after,
            };
        }
        Attempt::Done(Err(Ok(failure)))
    }

    fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(d) = retry_after {
            // The vendor said how long; honour it, but never sleep unbounded on its word.
            return d.min(Duration::from_secs(600));
        }
        let exp = self
            .policy
            .base_delay
            .saturating_mul(2u32.saturating_pow(attempt))
            .min(self.policy.max_delay);
        // Full jitter between half and the whole delay: spreads retries of many agents.
        let half = exp / 2;
        half + Duration::from_millis(fastrand::u64(0..=half.as_millis() as u64))
    }
}

enum Attempt {
    Done(Result<JsonResponse, Result<Failure, VendorError>>),
    Fatal(VendorError),
    /// The vendor is throttling: wait (within the throttle budget) and ask again.
    Throttled {
        last: Failure,
        retry_after: Option<Duration>,
    },
    Retryable {
        last: Result<Failure, VendorError>,
        retry_after: Option<Duration>,
    },
}

async fn read_capped(mut resp: reqwest::Response) -> Result<Option<Vec<u8>>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

/// A transport failure, said with what to do about it (the message ends up in the run
/// record after the retries are spent). With a proxy in the way, a failure to open the
/// tunnel is the proxy's and is reported as such: the vendor was never reached.
fn transport_error(
    e: &reqwest::Error,
    url: &url::Url,
    timeout: Duration,
    proxy: Option<&str>,
) -> VendorError {
    // reqwest's own message can include the URL; ours never carries credentials (they go
    // in headers), but keep the message to the cause chain without the URL anyway.
    let mut chain = Vec::new();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        chain.push(s.to_string());
        src = s.source();
    }
    let cause = chain.last().cloned().unwrap_or_default();
    let cause = if cause.is_empty() {
        String::new()
    } else {
        format!(" ({cause})")
    };
    // hyper-util's CONNECT tunnel says "tunnel error: ..." (its error type is private).
    let tunnel_failed = chain.iter().any(|c| c.starts_with("tunnel error"));
    if let (Some(proxy), true) = (proxy, tunnel_failed) {
        let target = format!(
            "{}:{}",
            url.host_str().unwrap_or(""),
            url.port_or_known_default().unwrap_or(443)
        );
        return VendorError::Transport(format!(
            "{}: the {proxy} failed to open a tunnel to {target}{cause}; the vendor was not reached. Check the proxy's address and credentials and that it allows CONNECT to {target}, or set `proxy = \"none\"` on the source to go direct; the next run will retry",
            redact(url)
        ));
    }
    let (what, advice) = if e.is_timeout() {
        (
            format!(
                "{}{}",
                TIMED_OUT.trim_start_matches(": "),
                humantime::format_duration(timeout)
            ),
            "the vendor is slow or not answering; the next run will retry (raise `request_timeout` if its pages are just slow)",
        )
    } else if e.is_connect() {
        (
            "could not connect".to_string(),
            "check the network, DNS, proxy and firewall between this host and the vendor, and the source's `base_url`; the next run will retry",
        )
    } else if e.is_body() || e.is_decode() {
        (
            "the connection broke while reading the response".to_string(),
            "the next run will retry",
        )
    } else {
        ("request failed".to_string(), "the next run will retry")
    };
    let through = proxy
        .map(|p| format!(" through the {p}"))
        .unwrap_or_default();
    VendorError::Transport(format!("{}{through}: {what}{cause}; {advice}", redact(url)))
}

/// Whether `e` is a request that timed out (after its retries), as `transport_error` words
/// it: a connector may then ask for less at once (a smaller page).
pub fn timed_out(e: &VendorError) -> bool {
    matches!(e, VendorError::Transport(m) if m.contains(TIMED_OUT))
}

/// How `transport_error` says a request timed out; `timed_out` reads it back.
const TIMED_OUT: &str = ": timed out after ";

/// `Retry-After` as seconds or an HTTP date.
fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let secs = (when.timestamp() - chrono::Utc::now().timestamp()).max(0) as u64;
    Some(Duration::from_secs(secs))
}

/// A URL for messages: scheme, host and path only (queries can be long and carry filters).
/// Whether a body is a web page rather than an API's answer (a proxy's, a gateway's or a
/// maintenance page): a 404 that is a page says nothing of the record that was asked for.
pub fn is_web_page(body: &str) -> bool {
    let start = body.trim_start();
    start.starts_with('<')
        && [
            "<!doctype html",
            "<html",
            "<head",
            "<body",
            "<?xml",
            "<h1",
            "<title",
        ]
        .iter()
        .any(|tag| {
            start
                .get(..tag.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(tag))
        })
}

pub fn redact(url: &url::Url) -> String {
    format!(
        "{}://{}{}",
        url.scheme(),
        url.host_str().unwrap_or(""),
        url.port().map(|p| format!(":{p}")).unwrap_or_default()
    ) + url.path()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A proxy's or a gateway's page is not the vendor's "not found": only API answers
    /// (JSON, or nothing) are read as one.
    #[test]
    fn web_pages_are_told_from_api_answers() {
        for page in [
            "<html><body><h1>404 Not Found</h1>nginx</body></html>",
            "  <!DOCTYPE html><html></html>",
            "<HTML>",
            "<?xml version=\"1.0\"?><Error/>",
            "<h1>Not Found</h1>",
        ] {
            assert!(is_web_page(page), "{page}");
        }
        for answer in [
            "",
            "{}",
            r#"{"errors":[{"status":"404"}]}"#,
            "Not found",
            "<3",
            "<xé",
        ] {
            assert!(!is_web_page(answer), "{answer}");
        }
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    /// Throttling is waited out within a time budget, not a retry count: waits follow the
    /// vendor's `Retry-After`, else double from the first (or stay, for a fixed window), each
    /// with at most a tenth of jitter, and stop when the budget is spent.
    #[test]
    fn throttle_waits_fill_the_budget_and_stop() {
        let auvik = ThrottlePolicy {
            budget: Duration::from_secs(300),
            first_wait: Duration::from_secs(5),
            doubling: true,
        };
        let (mut waited, mut n) = (Duration::ZERO, 0);
        let mut waits = Vec::new();
        while let Some(w) = auvik.next_wait(n, waited, None) {
            waits.push(w);
            waited += w;
            n += 1;
        }
        assert_eq!(waited, Duration::from_secs(300), "{waits:?}");
        for (i, w) in waits.iter().enumerate().take(waits.len() - 1) {
            let base = Duration::from_secs(5) * 2u32.pow(i as u32);
            assert!(*w >= base && *w <= base.mul_f64(1.1), "{i}: {w:?}");
        }
        assert!(waits.len() >= 5, "minutes, in several asks: {waits:?}");
        // The vendor's own word wins, within what is left.
        assert_eq!(
            auvik.next_wait(0, Duration::ZERO, Some(Duration::from_secs(7))),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            auvik.next_wait(3, Duration::from_secs(298), Some(Duration::from_secs(60))),
            Some(Duration::from_secs(2))
        );
        assert_eq!(auvik.next_wait(3, Duration::from_secs(300), None), None);
        // A fixed window (Syncro's minute): the same wait each time.
        let syncro = ThrottlePolicy {
            budget: Duration::from_secs(180),
            first_wait: Duration::from_secs(60),
            doubling: false,
        };
        for n in 0..2 {
            let w = syncro
                .next_wait(n, Duration::from_secs(60) * n, None)
                .unwrap();
            assert!(
                w >= Duration::from_secs(60) && w <= Duration::from_secs(66),
                "{w:?}"
            );
        }
    }

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    const PROXIES: &[(&str, &str)] = &[
        ("HTTP_PROXY", "http://clear.example:3128"),
        (
            "HTTPS_PROXY",
            "http://ops:hunter2-canary@proxy.msp.example:3128",
        ),
        ("ALL_PROXY", "http://all.example:3128"),
    ];

    #[test]
    fn loopback_and_plain_http_vendors_are_never_proxied() {
        // Issue 21 §3: with HTTP_PROXY set, a loopback http:// Syncro's key went to the proxy.
        let explicit = ProxySetting::Url(ProxyUrl::parse("http://proxy.msp.example:3128").unwrap());
        for base in [
            "http://127.0.0.1:8080/",
            "http://localhost:8080/api/",
            "https://127.0.0.1:8443/",
            "https://[::1]:8443/",
            "https://localhost/",
        ] {
            let base = url::Url::parse(base).unwrap();
            for setting in [&ProxySetting::FromEnvironment, &explicit] {
                let route = Route::with_env(&base, setting, env(PROXIES)).unwrap();
                assert!(route.proxy.is_none(), "{base} was proxied");
            }
        }
    }

    #[test]
    fn https_vendors_take_the_sources_proxy_or_the_environments() {
        let base = url::Url::parse("https://acme.syncromsp.com/").unwrap();
        // From the environment: HTTPS_PROXY (never HTTP_PROXY), its password masked.
        let route = Route::with_env(&base, &ProxySetting::FromEnvironment, env(PROXIES)).unwrap();
        let said = route.describe().unwrap();
        assert_eq!(
            said,
            "proxy http://ops:********@proxy.msp.example:3128 (from $HTTPS_PROXY)"
        );
        assert!(!format!("{route:?}").contains("hunter2"));
        // ALL_PROXY when HTTPS_PROXY is unset; HTTP_PROXY alone is not used.
        let route = Route::with_env(
            &base,
            &ProxySetting::FromEnvironment,
            env(&[("ALL_PROXY", "http://all.example:3128")]),
        )
        .unwrap();
        assert_eq!(
            route.describe().unwrap(),
            "proxy http://all.example:3128 (from $ALL_PROXY)"
        );
        let route = Route::with_env(
            &base,
            &ProxySetting::FromEnvironment,
            env(&[("HTTP_PROXY", "http://clear.example:3128")]),
        )
        .unwrap();
        assert!(route.describe().is_none());
        // The source's own setting wins over the environment, either way.
        let route = Route::with_env(&base, &ProxySetting::Direct, env(PROXIES)).unwrap();
        assert!(route.describe().is_none());
        let mine = ProxySetting::Url(ProxyUrl::parse("http://mine.example:8080").unwrap());
        let route = Route::with_env(&base, &mine, env(PROXIES)).unwrap();
        assert_eq!(
            route.describe().unwrap(),
            "proxy http://mine.example:8080 (from the source's `proxy`)"
        );
        // A proxy assetd cannot speak is refused with what to do, not used half-way.
        let e = Route::with_env(
            &base,
            &ProxySetting::FromEnvironment,
            env(&[(
                "ALL_PROXY",
                "socks5://ops:hunter2-canary@socks.example:1080",
            )]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("the proxy in $ALL_PROXY: scheme `socks5`"),
            "{e}"
        );
        assert!(e.contains("proxy = \"none\""), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
    }

    /// A proxy that reads one request head, keeps it, and answers `reply`.
    async fn fake_proxy(reply: &'static str) -> (u16, tokio::sync::oneshot::Receiver<String>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = conn.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                head.extend_from_slice(&buf[..n]);
            }
            let _ = tx.send(String::from_utf8_lossy(&head).into_owned());
            conn.write_all(reply.as_bytes()).await.unwrap();
            conn.shutdown().await.unwrap();
        });
        (port, rx)
    }

    #[tokio::test]
    async fn a_proxy_carries_only_a_tunnel_and_its_failure_is_named_as_the_proxys() {
        let (port, head) = fake_proxy("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n").await;
        let base = url::Url::parse("https://acme.syncromsp.com/api/v1/").unwrap();
        let proxy = ProxyUrl::parse(&format!("http://ops:pw-canary@127.0.0.1:{port}")).unwrap();
        let route = Route::with_env(&base, &ProxySetting::Url(proxy), env(&[])).unwrap();
        let client = HttpClient::new(
            &route,
            RetryPolicy::with_retries(0),
            Duration::from_secs(5),
            Arc::new(|_, _| false),
        )
        .unwrap();
        let url = base.join("customers?page=1").unwrap();
        let auth = |r: reqwest::RequestBuilder| r.bearer_auth("syncro-key-canary");
        let got = client
            .get_json(&url, &auth, &Counters::default(), &CancellationToken::new())
            .await;
        // The proxy saw a CONNECT to the vendor's host and its own credentials, nothing of
        // the request inside the tunnel.
        let head = head.await.unwrap();
        assert!(
            head.starts_with("CONNECT acme.syncromsp.com:443 HTTP/1.1\r\n"),
            "{head}"
        );
        assert!(
            head.to_ascii_lowercase()
                .contains("proxy-authorization: basic "),
            "{head}"
        );
        assert!(
            !head.contains("syncro-key-canary") && !head.contains("/api/v1"),
            "{head}"
        );
        let e = match got {
            Err(Err(VendorError::Transport(e))) => e,
            Err(other) => panic!("expected a transport error, got {other:?}"),
            Ok(r) => panic!("expected a transport error, got {}", r.body),
        };
        assert!(
            e.contains(&format!(
                "the proxy http://ops:********@127.0.0.1:{port} (from the source's `proxy`) failed to open a tunnel to acme.syncromsp.com:443"
            )),
            "{e}"
        );
        assert!(e.contains("the vendor was not reached"), "{e}");
        assert!(!e.contains("pw-canary"), "{e}");
    }

    #[test]
    fn backoff_grows_is_capped_and_honours_retry_after() {
        let c = HttpClient::new(
            &Route::direct(),
            RetryPolicy::default(),
            Duration::from_secs(1),
            Arc::new(|_, _| false),
        )
        .unwrap();
        for attempt in 0..10 {
            let d = c.backoff(attempt, None);
            let full = Duration::from_millis(500)
                .saturating_mul(2u32.pow(attempt))
                .min(Duration::from_secs(60));
            assert!(d >= full / 2 && d <= full, "{attempt}: {d:?}");
        }
        assert_eq!(
            c.backoff(3, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert_eq!(
            c.backoff(0, Some(Duration::from_secs(99_999))),
            Duration::from_secs(600)
        );
    }
}
