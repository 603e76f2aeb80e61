//! N-able Passportal (Documents API v2): clients are clients, asset documents are assets.
//!
//! Auth is a token exchange signed with HMAC-SHA256: `x-key` (the Access key ID) and
//! `x-hash` (lowercase hex of HMAC(secret, content)) on `POST /api/v2/auth/client_token`
//! return an access token sent as `x-access-token` on every later call. One exchange runs at
//! a time (the detail workers wait for it, then share its token). A token is renewed before
//! its lifetime ends, the lifetime being `expiry_time` minus the server's own `Date` (so a
//! skewed local clock cannot expire every token); a 401 "Invalid token" (or a 200 whose body
//! says so: `status` 401 or `code` 1006) renews it, and a
//! fresh token rejected twice means the key was refused. Passportal answers some failures
//! with HTTP 200 and `"success": "false"`, so success is judged by the body.
//!
//! The asset list carries no hardware fields: each document's detail is fetched (a few at a
//! time) for serial, model and manufacturer, and kept verbatim as `raw`. A full run reads
//! every detail; an incremental run only those whose list `last_modified` changed since
//! stored. A document the key may not open (`accessible: false`, or a detail answering
//! "not found.", which is also what a document deleted since the list answers, or the
//! documented 400 "invalid id") is skipped, never fatal. A removal is confirmed only by
//! Passportal's own JSON "not found." envelope (on a 403, a 404 or inside a 200); a 403 or
//! 404 that is not its JSON, or a 400, leaves the asset until a second complete run misses
//! it too. Every list page must be read: a refused or broken page fails the run, and
//! only an empty page ends a list. Client filtering is unreliable, so the one unit a run
//! reads is the whole listing.
//! Facts and quirks: N-able's API pages (api_authorization, api_list_documents, api_specific_document, api_information) and what public API clients learned; each quirk handled
//! here names its evidence where it is handled (the team's vendor notes collect them).

pub mod config;
// For tests/properties and fuzz/ only (not an API).
#[doc(hidden)]
pub mod decoders;
use super::http::{Failure, HttpClient, RetryPolicy, Route, ThrottlePolicy, redact};
use super::{
    Batch, Connector, FetchContext, FetchOutcome, Presence, SkippedRecord, VendorError, clean_name,
    endpoint, typed_date,
};
use crate::config::RunLimits;
use crate::model::{
    Category, Coverage, LifecycleReport, ReportedAsset, RunKind, SourceClient, VendorDate,
    WarrantyFacts,
};
use crate::secret::Secret;
use chrono::{DateTime, Utc};
use config::PassportalConfig;
use futures_util::future::BoxFuture;
use futures_util::{StreamExt, stream};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Instant;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Documents per list page: N-able gives 100 as `resultsPerPage`'s supported value
/// (api_list_documents.htm), and Hudu-PassPortal-Migration lost records asking 1000 until it
/// paged at 100 (commit a3a4127). A server capping pages below what is asked but offsetting
/// pages by the size asked would skip everything between; `pages` also adapts to a smaller
/// page 1.
const DOCUMENTS_PER_PAGE: usize = 100;
const CLIENTS_PER_PAGE: usize = 100;
/// Detail calls in flight at once.
const DETAIL_CONCURRENCY: usize = 8;
/// Passportal rejects pageNum above 9999.
const MAX_PAGE: usize = 9999;
/// Renew a token this long before it expires (or a fifth of its lifetime, if shorter).
const RENEW_EARLY: std::time::Duration = std::time::Duration::from_secs(60);
/// Passportal does not document a token lifetime; when a response omits `expiry_time`,
/// assume this (what other clients assume) and rely on the 401 retry if it was shorter.
const ASSUMED_TTL: chrono::Duration = chrono::Duration::minutes(55);

/// Lowercase hex HMAC-SHA256 of `content` keyed with the secret's bytes (not hex-decoded).
pub fn x_hash(secret: &str, content: &str) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes any key length");
    mac.update(content.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Passportal's `success`: a boolean, or the string "true"/"false".
pub fn is_success(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::String(s) => s.trim().eq_ignore_ascii_case("true"),
        _ => false,
    }
}

struct Token {
    value: Secret,
    /// When to exchange a new one: a little before it expires, by our monotonic clock.
    renew_at: Instant,
    /// Which exchange made it (1, 2, …): a request refused with an older token than the
    /// current one just uses the current one.
    generation: u64,
}

pub struct Passportal {
    http: HttpClient,
    base: url::Url,
    config: PassportalConfig,
    /// The current token. Held across an exchange, so one runs at a time and the workers
    /// that wanted one take its result.
    token: tokio::sync::Mutex<Option<Arc<Token>>>,
}

/// How a documents call ended, before the connector turns it into an error.
enum Call {
    Body(String),
    /// A token Passportal no longer accepts: a 401, or a 200 whose envelope says so.
    InvalidToken,
    Failed(Failure),
}

impl Passportal {
    pub fn new(
        base: url::Url,
        config: PassportalConfig,
        limits: &RunLimits,
        route: &Route,
    ) -> Result<Passportal, VendorError> {
        // Passportal documents no rate limit; a 429 is waited out with short doubling
        // waits, up to `max_throttle_wait` (two minutes by default).
        let http = HttpClient::new(
            route,
            RetryPolicy::with_retries(limits.max_retries),
            limits.request_timeout,
            Arc::new(|_, _| false),
        )?
        .with_throttle(ThrottlePolicy {
            budget: limits
                .max_throttle_wait
                .unwrap_or(ThrottlePolicy::default().budget),
            ..ThrottlePolicy::default()
        });
        Ok(Passportal {
            http,
            base,
            config,
            token: tokio::sync::Mutex::new(None),
        })
    }

    /// A valid access token: the current one, unless there is none, it is about to expire,
    /// or it is the one `refused` names (then a new one is exchanged, unless another worker
    /// already did).
    async fn token(
        &self,
        ctx: &FetchContext,
        refused: Option<u64>,
    ) -> Result<Arc<Token>, VendorError> {
        let mut current = tokio::select! {
            _ = ctx.cancel.cancelled() => return Err(VendorError::Cancelled),
            guard = self.token.lock() => guard,
        };
        if let Some(t) = current.as_ref()
            && t.renew_at > Instant::now()
            && refused != Some(t.generation)
        {
            return Ok(t.clone());
        }
        let generation = current.as_ref().map_or(1, |t| t.generation + 1);
        let token = Arc::new(self.exchange(ctx, generation).await?);
        *current = Some(token.clone());
        Ok(token)
    }

    async fn exchange(&self, ctx: &FetchContext, generation: u64) -> Result<Token, VendorError> {
        let url = endpoint(&self.base, "api/v2/auth/client_token", &[])?;
        // The content is any text we choose; it is not secret, only its signature proves
        // we hold the key. A fresh one per exchange costs nothing.
        let content = format!("assetd-{:016x}", fastrand::u64(..));
        let hash = x_hash(self.config.secret_access_key.expose(), &content);
        let body = serde_json::json!({ "scope": "docs_api", "content": content });
        let build = |c: &reqwest::Client| {
            c.post(url.clone())
                .header("x-key", &self.config.access_key_id)
                .header("x-hash", &hash)
                .json(&body)
        };
        let rejected = |detail: &str| {
            VendorError::CredentialsRejected(format!(
                "Passportal refused the access key{detail}: check `access_key_id` (the 64-hex Access key ID) and \
                 `secret_access_key` (they are easy to swap) in Settings > API Keys; assetd will not call \
                 Passportal again until they change in the config"
            ))
        };
        let answer = match self
            .http
            .send_json(&url, &build, &ctx.progress.http, &ctx.cancel)
            .await
        {
            Ok(r) => r,
            Err(Err(e)) => return Err(e),
            Err(Ok(f)) if matches!(f.status.as_u16(), 400 | 401 | 403) => {
                return Err(rejected(&format!(
                    " ({} from {}{})",
                    f.status.as_u16(),
                    redact(&url),
                    message_of(&f.body)
                )));
            }
            Err(Ok(f)) => return Err(self.explain(&url, &f)),
        };
        let text = answer.body;
        let v: Value = serde_json::from_str(&text).map_err(|e| {
            VendorError::Decode(format!(
                "{}: the token response is not JSON ({e})",
                redact(&url)
            ))
        })?;
        let access = v["access_token"].as_str().unwrap_or_default();
        // A 200 can still be a refusal: success "false" in the body.
        if !is_success(&v["success"]) || access.is_empty() {
            return Err(rejected(&format!(
                " (from {}{})",
                redact(&url),
                message_of(&text)
            )));
        }
        let expires = match &v["expiry_time"] {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        }
        .and_then(|secs| DateTime::from_timestamp(secs, 0));
        let lifetime = token_lifetime(expires, answer.date, Utc::now());
        Ok(Token {
            value: Secret::new(access),
            renew_at: answer.received + lifetime - RENEW_EARLY.min(lifetime / 5),
            generation,
        })
    }

    async fn call(
        &self,
        url: &url::Url,
        token: &Token,
        ctx: &FetchContext,
    ) -> Result<Call, VendorError> {
        let build = |c: &reqwest::Client| {
            c.get(url.clone())
                .header("x-access-token", token.value.expose())
        };
        match self
            .http
            .send_json(url, &build, &ctx.progress.http, &ctx.cancel)
            .await
        {
            // Passportal reports failures inside 200 bodies too: a refused token is one.
            Ok(r) if says_invalid_token(&r.body) => Ok(Call::InvalidToken),
            Ok(r) => Ok(Call::Body(r.body)),
            Err(Err(e)) => Err(e),
            Err(Ok(f)) if f.status.as_u16() == 401 => Ok(Call::InvalidToken),
            Err(Ok(f)) => Ok(Call::Failed(f)),
        }
    }

    /// GETs `url` with a token. On "Invalid token" it asks for a new token (one exchange,
    /// shared by the workers that met the same refusal) and tries again; a fresh token
    /// refused too gets one more exchange, and only a second fresh token refused means the
    /// key was (a token service that revokes older tokens as it issues new ones, or a
    /// moment's disagreement between its servers, must not stop the source).
    async fn get(
        &self,
        url: &url::Url,
        ctx: &FetchContext,
    ) -> Result<Result<String, Failure>, VendorError> {
        let mut token = self.token(ctx, None).await?;
        let mut renewals = 0;
        loop {
            match self.call(url, &token, ctx).await? {
                Call::Body(b) => return Ok(Ok(b)),
                Call::Failed(f) => return Ok(Err(f)),
                Call::InvalidToken if renewals < 2 => {
                    renewals += 1;
                    token = self.token(ctx, Some(token.generation)).await?;
                }
                Call::InvalidToken => {
                    return Err(VendorError::CredentialsRejected(format!(
                        "Passportal rejected two fresh access tokens in a row (401 from {}): the access key may have \
                         lost its rights; check it in Settings > API Keys. assetd will not call Passportal again \
                         until the key changes in the config",
                        redact(url)
                    )));
                }
            }
        }
    }

    /// Whether a list really ended with what `read` holds, now that the page after it was
    /// refused in a way that could be the server's answer past the end.
    ///
    /// It asks for the page holding the last item read, cut with a page size the server
    /// honours (no larger than a page it sent) that does not divide the number read. That
    /// page also spans the place after the last item: if the list ended there, it holds
    /// exactly the items from its start to the last one read, and ends with that id; if the
    /// list goes on (a server capping pages, a page refused mid-list), it holds more. A list
    /// of one or two items read on one short page is asked again as page 1 one item larger
    /// (`ReadSoFar::end_probe`). Any other answer, or no page to ask for, is not proof and
    /// the list fails as before. Costs one request, only after such a refusal.
    async fn list_ended(
        &self,
        path: &str,
        query: &[(&str, &str)],
        read: &ReadSoFar,
        ctx: &FetchContext,
    ) -> Result<bool, VendorError> {
        let Some(probe) = read.end_probe() else {
            return Ok(false);
        };
        let url = list_url(&self.base, path, query, probe.per_page, probe.page)?;
        let Ok(body) = self.get(&url, ctx).await? else {
            return Ok(false);
        };
        let Ok(items) = page_items(&url, probe.page, &body) else {
            return Ok(false);
        };
        let ends_with_the_last =
            items.last().map(|i| id_text(&i["id"])).as_deref() == Some(read.last_id.as_str());
        let ended = items.len() == probe.items_if_ended && ends_with_the_last;
        if ended {
            tracing::debug!(
                url = %redact(&url),
                items = read.items,
                "Passportal refuses a page past the end of a list; its tail confirms the end"
            );
        }
        Ok(ended)
    }

    /// A list page answered with something other than a page.
    fn list_refused(&self, url: &url::Url, page: usize, f: &Failure) -> VendorError {
        match self.explain(url, f) {
            VendorError::Http(why) => VendorError::Http(format!(
                "page {page} of the list could not be read, so nothing was changed: {why}"
            )),
            other => other,
        }
    }

    fn explain(&self, url: &url::Url, f: &Failure) -> VendorError {
        let what = redact(url);
        match f.status.as_u16() {
            403 => VendorError::Http(format!(
                "Passportal refused access (403 from {what}){}: the key's user needs Superuser or Administrator rights",
                message_of(&f.body)
            )),
            429 => VendorError::Http(format!(
                "Passportal kept rate-limiting requests (429 from {what}) after several retries; the next run will retry"
            )),
            s if s >= 500 => VendorError::Http(format!(
                "Passportal had a server error ({s} from {what}) after several retries; the next run will retry"
            )),
            301 | 302 | 307 | 308 => VendorError::WrongRegion(format!(
                "Passportal answered {} from {what} (a redirect{}): check the source's `datacenter` (and \
                 `base_url`); assetd does not follow redirects, which could carry the key elsewhere, and will \
                 not call Passportal again until the config changes",
                f.status.as_u16(),
                f.location
                    .as_deref()
                    .map(|l| format!(" to {l}"))
                    .unwrap_or_default()
            )),
            s => VendorError::Http(format!(
                "Passportal answered {s} from {what}{}; the next run will retry",
                message_of(&f.body)
            )),
        }
    }

    /// Walks a paged list until an empty or `null` page; hands each page's items to `each`.
    ///
    /// Any other answer that is not a page fails the list: a refused page (any non-2xx, or
    /// `success: false` inside a 200, which Passportal uses for errors too) is never taken
    /// for the end on its word, as that would cut the list short and a full run would
    /// remove the rest. A short page is not taken as the end either: a server that caps
    /// `resultsPerPage` below what we ask sends short pages too. Asking once more costs one
    /// request per list.
    ///
    /// When page 1 is shorter than asked but not empty, the rest of the walk asks the size
    /// the server sent: if it capped the page, page 2 then starts right after page 1 whether
    /// it offsets pages by the size it serves or by the size asked (Hudu-PassPortal-Migration
    /// lost records to the latter asking 1000, commit a3a4127); if the list simply ended,
    /// page 2 is past the end either way.
    ///
    /// What Passportal answers past the last page is not documented: an empty list, `null`
    /// or an error are all plausible (its only documented 404 is a `pageNum` error). So a
    /// refusal that could mean "past the end" is checked, not believed: `list_ended` asks
    /// for the list's tail in a way whose answer differs when the list goes on. Without
    /// that check, a server that refuses past the end would fail every full run, and
    /// removals would never happen again: counts would only drift upwards.
    async fn pages<'f>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        per_page: usize,
        ctx: &FetchContext,
        each: &mut (dyn FnMut(Vec<Value>) -> BoxFuture<'f, Result<(), VendorError>> + Send),
    ) -> Result<(), VendorError> {
        let mut per_page = per_page;
        let mut previous_first: Option<String> = None;
        // What the list has shown so far: how many items, the last one's id, and the
        // largest page the server sent (a page size it honours).
        let mut read = ReadSoFar {
            first_asked: per_page,
            ..ReadSoFar::default()
        };
        for page in 1..=MAX_PAGE {
            let url = list_url(&self.base, path, query, per_page, page)?;
            let refused = match self.get(&url, ctx).await? {
                Ok(body) => match page_items(&url, page, &body) {
                    Ok(items) => Ok(items),
                    Err(e) => Err((e, says_success_false(&body))),
                },
                Err(f) => Err((self.list_refused(&url, page, &f), may_mean_past_the_end(&f))),
            };
            let items = match refused {
                Ok(items) => items,
                Err((why, may_mean_past_the_end)) => {
                    if may_mean_past_the_end && self.list_ended(path, query, &read, ctx).await? {
                        return Ok(());
                    }
                    return Err(why);
                }
            };
            let Some(first) = items.first().map(|i| id_text(&i["id"])) else {
                return Ok(());
            };
            if previous_first.as_deref() == Some(first.as_str()) {
                return Err(VendorError::Decode(format!(
                    "{}: Passportal sent the previous page again; its paging is broken, the run stops here",
                    redact(&url)
                )));
            }
            previous_first = Some(first);
            if page == 1 && items.len() < per_page {
                per_page = items.len();
            }
            read.pages += 1;
            read.items += items.len();
            read.largest_page = read.largest_page.max(items.len());
            read.last_id = items.last().map(|i| id_text(&i["id"])).unwrap_or_default();
            each(items).await?;
        }
        Err(VendorError::Decode(format!(
            "{path}: more than {MAX_PAGE} pages; Passportal's paging looks broken, the run stops here"
        )))
    }

    fn fetch_all<'a>(
        &'a self,
        ctx: &'a FetchContext,
    ) -> BoxFuture<'a, Result<FetchOutcome, VendorError>> {
        Box::pin(async move {
            let mut clients: Vec<SourceClient> = Vec::new();
            self.pages(
                "api/v2/documents/clients",
                &[],
                CLIENTS_PER_PAGE,
                ctx,
                &mut |items| {
                    for item in items {
                        if let Some(c) = client_from(&item) {
                            clients.push(c);
                        }
                    }
                    Box::pin(async { Ok(()) })
                },
            )
            .await?;
            let mut seen = HashSet::new();
            clients.retain(|c| seen.insert(c.external_id.clone()));
            let known: HashMap<String, String> = clients
                .iter()
                .map(|c| (c.external_id.clone(), c.name.clone()))
                .collect();
            ctx.progress
                .clients_total
                .store(clients.len() as i64, Ordering::Relaxed);
            ctx.send(Batch::Clients(clients)).await?;

            let mut extra_clients: HashSet<String> = HashSet::new();
            let skipped: Mutex<Vec<SkippedRecord>> = Mutex::new(Vec::new());
            let odd_dates: Mutex<OddDates> = Mutex::new(OddDates::default());
            let query = [("type", "asset"), ("orderBy", "id"), ("orderDir", "asc")];
            self.pages(
                "api/v2/documents",
                &query,
                DOCUMENTS_PER_PAGE,
                ctx,
                &mut |items| {
                    // A list item's client may be missing from the client list (its filters
                    // are unreliable): name it from the item, so nothing is hidden.
                    let mut new_clients = Vec::new();
                    for item in &items {
                        let id = id_text(&item["client_id"]);
                        if !id.is_empty()
                            && !known.contains_key(&id)
                            && extra_clients.insert(id.clone())
                        {
                            let name = item["clientName"]
                                .as_str()
                                .map(clean_name)
                                .unwrap_or_default();
                            new_clients.push(SourceClient {
                                external_id: id.clone(),
                                name: if name.is_empty() {
                                    format!("Passportal client {id}")
                                } else {
                                    name
                                },
                                aliases: Vec::new(),
                            });
                        }
                    }
                    let skipped = &skipped;
                    let odd_dates = &odd_dates;
                    Box::pin(async move {
                        if !new_clients.is_empty() {
                            ctx.send(Batch::Clients(new_clients)).await?;
                        }
                        let page = self.details(items, ctx).await?;
                        lock(skipped).extend(page.skipped);
                        if !page.unchanged.is_empty() {
                            ctx.send(Batch::Unchanged(page.unchanged)).await?;
                        }
                        if !page.records.is_empty() {
                            let lifecycle: Vec<LifecycleReport> = {
                                let mut odd = lock(odd_dates);
                                page.details
                                    .iter()
                                    .map(|(id, fields)| lifecycle_report(id, fields, &mut odd))
                                    .collect()
                            };
                            ctx.send(Batch::Assets(page.records)).await?;
                            ctx.send(Batch::Lifecycle(lifecycle)).await?;
                        }
                        Ok(())
                    })
                },
            )
            .await?;
            ctx.progress.clients_done.store(
                ctx.progress.clients_total.load(Ordering::Relaxed),
                Ordering::Relaxed,
            );
            let notes = odd_dates
                .into_inner()
                .unwrap_or_else(|p| p.into_inner())
                .note()
                .into_iter()
                .collect();
            Ok(FetchOutcome {
                coverage: Coverage::Everything,
                skipped_records: skipped.into_inner().unwrap_or_else(|p| p.into_inner()),
                notes,
                ..FetchOutcome::default()
            })
        })
    }

    /// Reads one list page's documents: each one's detail (a few at a time), except those
    /// the key may not open and, in an incremental run, those unchanged since stored.
    async fn details(&self, items: Vec<Value>, ctx: &FetchContext) -> Result<Page, VendorError> {
        let mut page = Page::default();
        let mut to_read = Vec::new();
        for item in items {
            let id = id_text(&item["id"]);
            if id.is_empty() {
                return Err(VendorError::Decode(
                    "a Passportal document in the list has no id; the next run will retry".into(),
                ));
            }
            if item["accessible"] == Value::Bool(false) {
                page.skipped.push(SkippedRecord {
                    external_id: id,
                    why: UNREADABLE.into(),
                });
                continue;
            }
            let modified = item["last_modified"].as_str().and_then(parse_time);
            let unchanged = ctx.kind == RunKind::Incremental
                && modified.is_some()
                && ctx.known.get(&id) == modified.as_ref();
            if unchanged {
                page.unchanged.push(id);
            } else {
                to_read.push(item);
            }
        }
        // In order (`buffered`, not `buffer_unordered`): the answers are zipped with
        // `to_read` below, and a document that answers "not found." is named from its item.
        // Out of order, a slow detail shifted the names, so a skipped document could be
        // taken for absent (a removal candidate) and another one's id kept instead.
        let fetched: Vec<Result<Result<ReadDocument, &'static str>, VendorError>> =
            stream::iter(0..to_read.len())
                .map(|i| self.detail_task(&to_read[i], ctx))
                .buffered(DETAIL_CONCURRENCY)
                .collect()
                .await;
        for (item, r) in to_read.iter().zip(fetched) {
            match r? {
                Ok((record, fields)) => {
                    page.details.push((record.external_id.clone(), fields));
                    page.records.push(record);
                }
                Err(why) => page.skipped.push(SkippedRecord {
                    external_id: id_text(&item["id"]),
                    why: why.into(),
                }),
            }
        }
        Ok(page)
    }

    /// One document's detail as a boxed future (indices, not references, reach the stream
    /// closure above: see auvik.rs `tenant_task`). `Err(why)` when Passportal will not show
    /// it (the key may not open it, or it was deleted since it was listed): skipped, `why`
    /// grouping it in the run's message.
    fn detail_task<'a>(
        &'a self,
        item: &'a Value,
        ctx: &'a FetchContext,
    ) -> BoxFuture<'a, Result<Result<ReadDocument, &'static str>, VendorError>> {
        Box::pin(async move {
            let id = id_text(&item["id"]);
            match self.document(&id, ctx).await? {
                DocumentAnswer::Readable(body) => document_record(&id, item, &body).map(Ok),
                DocumentAnswer::Gone => Ok(Err(NOT_FOUND)),
                DocumentAnswer::Unreadable(why) => Ok(Err(why)),
            }
        })
    }

    /// `GET /api/v2/documents/{id}`: see `DocumentAnswer`. Any other failure is the run's.
    async fn document(&self, id: &str, ctx: &FetchContext) -> Result<DocumentAnswer, VendorError> {
        let url = endpoint(&self.base, &format!("api/v2/documents/{id}"), &[])?;
        let body = match self.get(&url, ctx).await? {
            Ok(b) => b,
            Err(f) => {
                return match refused_document(&f) {
                    Some(answer) => Ok(answer),
                    None => Err(self.explain(&url, &f)),
                };
            }
        };
        document_answer(&url, body)
    }

    /// Asks Passportal for one document, to confirm a removal: only its own "not found."
    /// envelope says the document is gone; an answer that may not be Passportal's (a
    /// proxy's page) or a 400 "invalid id" leaves it to the second absence
    /// (`Presence::Unknown`).
    fn presence<'a>(
        &'a self,
        id: &'a str,
        ctx: &'a FetchContext,
    ) -> BoxFuture<'a, Result<Presence, VendorError>> {
        Box::pin(async move {
            match self.document(id, ctx).await {
                Ok(DocumentAnswer::Readable(_)) => Ok(Presence::Present),
                Ok(DocumentAnswer::Gone) => Ok(Presence::Gone),
                Ok(DocumentAnswer::Unreadable(why)) => Ok(Presence::Unknown(format!(
                    "Passportal did not say document {id} is gone (one of the {why})"
                ))),
                Err(e @ (VendorError::Cancelled | VendorError::SinkClosed)) => Err(e),
                Err(e) if e.stops_calls() => Err(e),
                Err(e) => Ok(Presence::Unknown(e.to_string())),
            }
        })
    }
}

/// What a paged list has shown so far (`Passportal::pages`).
#[derive(Debug, Default)]
struct ReadSoFar {
    items: usize,
    largest_page: usize,
    last_id: String,
    /// Pages read (empty ones aside).
    pages: usize,
    /// The page size page 1 asked for.
    first_asked: usize,
}

/// A request for a list's tail that tells its end from its going on (`Passportal::list_ended`).
#[derive(Debug, PartialEq, Eq)]
struct EndProbe {
    per_page: usize,
    page: usize,
    /// How many items that page holds if the list ends with the last one read.
    items_if_ended: usize,
}

impl ReadSoFar {
    /// The largest page size the server honours that does not divide the items read, and
    /// the page of that size holding the last item read.
    ///
    /// Every honoured size divides one item, or two with pages of at most two. If those
    /// were read on one page shorter than asked, page 1 one item larger holds just them if
    /// the list ended, and one more if it goes on: only a server capping pages at one or
    /// two items could answer the same while the list went on, and none is credible.
    /// Otherwise (`None`) there is no proof to ask for.
    fn end_probe(&self) -> Option<EndProbe> {
        let Some(per_page) = (1..=self.largest_page)
            .rev()
            .find(|size| !self.items.is_multiple_of(*size))
        else {
            let one_short_page = self.pages == 1 && self.items > 0 && self.items < self.first_asked;
            return one_short_page.then_some(EndProbe {
                per_page: self.items + 1,
                page: 1,
                items_if_ended: self.items,
            });
        };
        let page = (self.items - 1) / per_page + 1;
        Some(EndProbe {
            per_page,
            page,
            items_if_ended: self.items - (page - 1) * per_page,
        })
    }
}

/// Page `page` of `path` with `per_page` items a page.
fn list_url(
    base: &url::Url,
    path: &str,
    query: &[(&str, &str)],
    per_page: usize,
    page: usize,
) -> Result<url::Url, VendorError> {
    let (per_page, page) = (per_page.to_string(), page.to_string());
    let mut q: Vec<(&str, &str)> = query.to_vec();
    q.push(("resultsPerPage", &per_page));
    q.push(("pageNum", &page));
    endpoint(base, path, &q)
}

/// Whether a refused list page could be the server's answer past the last page: a client
/// error that is not about credentials or throttling (those are handled, or retried,
/// before this). Server errors are not: they say nothing about where the list ends.
fn may_mean_past_the_end(f: &Failure) -> bool {
    let s = f.status.as_u16();
    (400..500).contains(&s) && !matches!(s, 401 | 407 | 429)
}

/// Whether a 200 answer says `success: false` (Passportal's in-body refusal).
fn says_success_false(body: &str) -> bool {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("success").map(|s| !is_success(s)))
        .unwrap_or(false)
}

/// The items of page `page` of a list (`url`), from its body: an error for anything but a
/// successful page (see `pages`); `results` absent or `null` is an empty page.
fn page_items(url: &url::Url, page: usize, body: &str) -> Result<Vec<Value>, VendorError> {
    let v: Value = serde_json::from_str(body).map_err(|e| {
        VendorError::Decode(format!(
            "{}: Passportal's response is not JSON ({e})",
            redact(url)
        ))
    })?;
    if v.get("success").is_none() {
        // Not "the end of the list" (that is success=false or a 404): not a
        // Passportal answer at all. Taking it for the end would cut the list short,
        // and a full sync would then mark the rest removed.
        return Err(VendorError::Decode(format!(
            "{}: the response has no `success` field, so it is not Passportal's documented answer",
            redact(url)
        )));
    }
    if !is_success(&v["success"]) {
        return Err(VendorError::Http(format!(
            "Passportal answered success=false for page {page} of {}{}: the list could not be read to the \
             end, so nothing was changed; the next run will retry, and if this persists check the access \
             key's permissions in Settings > API Keys",
            redact(url),
            message_of(body)
        )));
    }
    match &v["results"] {
        Value::Array(a) => Ok(a.clone()),
        Value::Null => Ok(Vec::new()),
        _ => Err(VendorError::Decode(format!(
            "{}: `results` is not a list",
            redact(url)
        ))),
    }
}

/// What `GET /api/v2/documents/{id}` said of a document.
#[derive(Debug, PartialEq, Eq)]
enum DocumentAnswer {
    /// Its body.
    Readable(String),
    /// Passportal says it has no such document: its own JSON error envelope saying "not
    /// found." (on a 403, the answer its docs give and a deleted document gets, or a 404, or
    /// `success: false` inside a 200). Only this confirms a removal. A document the key may
    /// not open is still listed (`accessible: false`), so for one absent from a complete
    /// listing "not found." means gone, not hidden.
    Gone,
    /// Not shown, but not proof that it is gone (the reason, as skipped records group
    /// it): a 403 or 404 that is not Passportal's envelope (a proxy's or a maintenance
    /// page), or the documented 400 "invalid id" (for a listed id, most likely a document
    /// deleted since the list).
    Unreadable(&'static str),
}

/// A refused `GET /api/v2/documents/{id}` that says something of the document (see
/// `DocumentAnswer`); `None` for any other failure, which is the run's.
fn refused_document(f: &Failure) -> Option<DocumentAnswer> {
    let envelope = serde_json::from_str::<Value>(&f.body)
        .ok()
        .filter(|v| v.get("success").is_some_and(|s| !is_success(s)));
    match f.status.as_u16() {
        403 | 404 if envelope.as_ref().is_some_and(says_not_found) => Some(DocumentAnswer::Gone),
        403 | 404 => Some(DocumentAnswer::Unreadable(NOT_FOUND)),
        400 if envelope.as_ref().is_some_and(says_invalid_id) => {
            Some(DocumentAnswer::Unreadable(INVALID_ID))
        }
        _ => None,
    }
}

/// A 200 answer to `GET /api/v2/documents/{id}` (`url`): the body of a readable document,
/// `Gone` when Passportal says "not found." inside it, an error otherwise.
fn document_answer(url: &url::Url, body: String) -> Result<DocumentAnswer, VendorError> {
    let v: Value = serde_json::from_str(&body).map_err(|e| {
        VendorError::Decode(format!("{}: the document is not JSON ({e})", redact(url)))
    })?;
    if !is_success(&v["success"]) {
        if says_not_found(&v) {
            return Ok(DocumentAnswer::Gone);
        }
        return Err(VendorError::Http(format!(
            "Passportal answered success=false from {}{}; the next run will retry",
            redact(url),
            message_of(&body)
        )));
    }
    Ok(DocumentAnswer::Readable(body))
}

/// The record of list item `item` (document `id`) from its document's `body`, and the
/// document's detail fields (label → text), which say its lifecycle.
fn document_record(id: &str, item: &Value, body: &str) -> Result<ReadDocument, VendorError> {
    let detail: Value = serde_json::from_str(body).map_err(|e| {
        VendorError::Decode(format!("document {id}: the document is not JSON ({e})"))
    })?;
    // Keep the document's `details` verbatim, not the envelope around it: the
    // envelope changes on every response (`apiRequestUid`, the form of `success`),
    // and would make every unchanged document look changed.
    let raw = serde_json::from_str::<DetailEnvelope>(body)
        .ok()
        .and_then(|e| e.details)
        .map(|d| d.get().to_string())
        .unwrap_or_default();
    let fields = detail_fields(&detail["details"]);
    Ok((to_record(item, &detail, raw), fields))
}

/// Why documents were skipped, as the run's message groups them.
const UNREADABLE: &str = "documents the access key may not open (listed with `accessible: false`)";
const NOT_FOUND: &str = "documents Passportal answered \"not found.\" for (deleted since they were listed, or not shared with the access key)";
const INVALID_ID: &str = "documents Passportal answered 400 \"invalid id\" for (most likely deleted since they were listed)";

/// A document read: its record, and its detail's fields (label → text) for its lifecycle.
type ReadDocument = (ReportedAsset, HashMap<String, String>);

/// What one list page gave.
#[derive(Default)]
struct Page {
    records: Vec<ReportedAsset>,
    /// Each read record's detail fields (label → text), by external id, for its lifecycle.
    details: Vec<(String, HashMap<String, String>)>,
    /// Unchanged since stored (incremental runs), by id: not read again.
    unchanged: Vec<String>,
    skipped: Vec<SkippedRecord>,
}

/// Whether an error envelope's message is `words` (any case, a final full stop or not).
fn envelope_says(v: &Value, words: &str) -> bool {
    v["message"]
        .as_str()
        .is_some_and(|m| m.trim().trim_end_matches('.').eq_ignore_ascii_case(words))
}

/// Whether an error envelope says "not found." (Passportal's word for a document it will
/// not show, whatever the HTTP status).
fn says_not_found(v: &Value) -> bool {
    envelope_says(v, "not found")
}

/// Whether an error envelope says "invalid id" (N-able's only documented 400).
fn says_invalid_id(v: &Value) -> bool {
    envelope_says(v, "invalid id")
}

/// Whether a 200 answer is Passportal's refusal of the access token (`status: 401` or
/// `code: 1006` in a `success: false` envelope): renewed as a 401 is, not taken for a
/// failed page. Documents are only parsed when they could be one.
fn says_invalid_token(body: &str) -> bool {
    if !body.contains("401") && !body.contains("1006") {
        return false;
    }
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        return false;
    };
    let number = |f: &str| match &v[f] {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    v.get("success").is_some_and(|s| !is_success(s))
        && (number("status") == Some(401) || number("code") == Some(1006))
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// How long a token lives: `expiry_time` minus the server's own clock when it answered (its
/// `Date`), so our clock's skew does not count; without `Date`, minus our clock. A lifetime
/// that is missing, not positive or absurd (more than a day) is taken as `ASSUMED_TTL`, and
/// a 401 renews the token if that was too long.
fn token_lifetime(
    expires: Option<DateTime<Utc>>,
    server_now: Option<DateTime<Utc>>,
    our_now: DateTime<Utc>,
) -> std::time::Duration {
    expires
        .map(|e| e - server_now.unwrap_or(our_now))
        .filter(|d| *d > chrono::Duration::zero() && *d <= chrono::Duration::days(1))
        .unwrap_or(ASSUMED_TTL)
        .to_std()
        .unwrap_or(std::time::Duration::from_secs(55 * 60))
}

impl Connector for Passportal {
    /// Incremental runs list every document but read the details of changed ones only
    /// (list items carry `last_modified`); full runs, on the full-sync schedule (daily by
    /// default), read every detail and settle removals.
    fn supports_incremental(&self) -> bool {
        true
    }

    fn wants_known(&self) -> bool {
        true
    }

    fn fetch<'a>(
        &'a self,
        ctx: &'a FetchContext,
    ) -> BoxFuture<'a, Result<FetchOutcome, VendorError>> {
        self.fetch_all(ctx)
    }

    /// Passportal reads one document by id: its "not found." envelope confirms a removal (a
    /// document the key may not open is still listed, with `accessible: false`, so one
    /// missing from a complete list and not found is gone). A 403 or 404 that is not its
    /// JSON may be a proxy's: that is `Unknown`, so the asset goes only when a second
    /// complete run misses it too.
    fn confirm_absent<'a>(
        &'a self,
        ctx: &'a FetchContext,
        external_ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<Presence>, VendorError>> {
        Box::pin(async move {
            stream::iter(0..external_ids.len())
                .map(|i| self.presence(&external_ids[i], ctx))
                .buffered(DETAIL_CONCURRENCY)
                .collect::<Vec<_>>()
                .await
                .into_iter()
                .collect()
        })
    }
}

#[derive(serde::Deserialize)]
struct DetailEnvelope<'a> {
    #[serde(borrow)]
    details: Option<&'a serde_json::value::RawValue>,
}

/// Ids come as numbers (or, defensively, strings).
fn id_text(v: &Value) -> String {
    match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_string(),
        _ => String::new(),
    }
}

/// `: <message>` of a Passportal error envelope, for messages.
fn message_of(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| {
            v["message"]
                .as_str()
                .map(|m| format!(": {}", m.chars().take(200).collect::<String>()))
        })
        .unwrap_or_default()
}

fn client_from(item: &Value) -> Option<SourceClient> {
    let id = id_text(&item["id"]);
    if id.is_empty() {
        return None;
    }
    // Names arrive HTML-encoded ("Matt&#039;s Museum").
    let name = item["name"]
        .as_str()
        .map(clean_name)
        .filter(|n| !n.is_empty());
    Some(SourceClient {
        name: name.unwrap_or_else(|| format!("Passportal client {id}")),
        external_id: id,
        aliases: Vec::new(),
    })
}

/// The detail's fields as label (lowercase) → text, from either layout Passportal uses:
/// numeric keys holding `{name, value: {text}}` (what the API returns), or named keys
/// holding such objects or plain strings (what its documentation shows).
pub fn detail_fields(details: &Value) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let Some(map) = details.as_object() else {
        return out;
    };
    for (key, v) in map {
        let (label, text) = match v {
            Value::Object(o) => {
                let label = o.get("name").and_then(Value::as_str).unwrap_or(key);
                let text = match o.get("value") {
                    Some(Value::Object(val)) => {
                        val.get("text").map(scalar_text).unwrap_or_default()
                    }
                    Some(other) => scalar_text(other),
                    None => String::new(),
                };
                (label.to_string(), text)
            }
            Value::String(s) => (key.replace('_', " "), s.clone()),
            _ => continue,
        };
        let text = clean_name(&text);
        // Unset dropdowns read "Please Select"; that is no value.
        if !text.is_empty() && !text.eq_ignore_ascii_case("please select") {
            out.entry(label.trim().to_ascii_lowercase()).or_insert(text);
        }
    }
    out
}

/// A detail field by any of `names` (lowercase labels), ignoring a format hint after the
/// label ("Purchase Date (YYYY-MM-DD)", as the asset template's fields are listed).
fn field_by_label<'f>(fields: &'f HashMap<String, String>, names: &[&str]) -> Option<&'f str> {
    names.iter().find_map(|want| {
        fields.iter().find_map(|(label, text)| {
            let bare = match label.split_once(" (") {
                Some((bare, hint)) if hint.ends_with(')') => bare.trim_end(),
                _ => label.as_str(),
            };
            (bare == *want).then_some(text.as_str())
        })
    })
}

/// What an asset document's template fields say of its lifecycle (the asset template's
/// "Purchase Date", "Expiration Date" (the warranty) and "Install Date", research
/// passportal.md §3.5): the purchase date, or the install date when it has none (a device
/// is bought before it is installed, so its age is at least that); the warranty's expiry.
/// Dates are typed by people into text fields: read as `typed_date` reads them, the rest
/// kept as given and counted in `odd`. Passportal says nothing of support.
pub fn lifecycle_report(
    external_id: &str,
    fields: &HashMap<String, String>,
    odd: &mut OddDates,
) -> LifecycleReport {
    let mut date = |names: &[&str]| {
        let d = field_by_label(fields, names).and_then(typed_date);
        if let Some(VendorDate::Unreadable(t)) = &d {
            odd.saw(t);
        }
        d
    };
    let purchase = date(&["purchase date", "date purchased"]);
    let purchase = match purchase {
        Some(d) => Some(d),
        None => date(&["install date", "installation date"]),
    };
    let expires = date(&[
        "expiration date",
        "warranty expiration",
        "warranty expiration date",
        "warranty expires",
        "warranty expiry",
    ]);
    LifecycleReport {
        external_id: external_id.to_string(),
        warranty: Some(WarrantyFacts {
            purchase_date: purchase,
            warranty_expires: expires,
            stated: None,
        }),
        support: None,
    }
}

/// Date fields that are not dates, for the run's note.
#[derive(Default)]
pub struct OddDates {
    count: usize,
    example: Option<String>,
}

impl OddDates {
    fn saw(&mut self, text: &str) {
        self.count += 1;
        self.example
            .get_or_insert_with(|| text.chars().take(60).collect());
    }

    fn note(&self) -> Option<String> {
        let example = self.example.as_ref()?;
        Some(format!(
            "{} date {} in Passportal asset documents (Purchase, Install or Expiration Date) \
             {} not a date assetd reads (e.g. {example:?}; it reads YYYY-MM-DD, MM/DD/YYYY and \
             DD.MM.YYYY): kept as given in `purchase_date_raw`/`warranty_expires_raw`, never \
             guessed; correct them in Passportal",
            self.count,
            if self.count == 1 { "field" } else { "fields" },
            if self.count == 1 {
                "holds text that is"
            } else {
                "hold text that is"
            },
        ))
    }
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

/// A Passportal asset's "Type" (free text per tenant) → category, first match wins, so the
/// specific words come before the generic ones ("Wireless Router" is a router).
pub(crate) const TYPE_KEYWORDS: &[(&str, Category)] = &[
    ("access point", Category::AccessPoint),
    ("controller", Category::Controller),
    ("firewall", Category::Firewall),
    ("router", Category::Router),
    ("switch", Category::Switch),
    ("wireless", Category::AccessPoint),
    ("virtual", Category::VirtualMachine),
    ("hypervisor", Category::Hypervisor),
    ("host", Category::Hypervisor),
    ("server", Category::Server),
    ("tablet", Category::Laptop),
    ("laptop", Category::Laptop),
    ("notebook", Category::Laptop),
    ("macbook", Category::Laptop),
    ("workstation", Category::Workstation),
    ("desktop", Category::Workstation),
    ("pc", Category::Workstation),
    ("mac", Category::Workstation),
    ("nas", Category::Storage),
    ("storage", Category::Storage),
    ("printer", Category::Printer),
    ("copier", Category::Printer),
    ("mobile", Category::Phone),
    ("phone", Category::Phone),
    ("ups", Category::Ups),
    ("camera", Category::Camera),
    ("iot", Category::Iot),
    ("network", Category::Other),
];

pub fn category_for(asset_type: &str) -> Category {
    if asset_type.trim().is_empty() {
        return Category::Unknown;
    }
    super::keyword_category(TYPE_KEYWORDS, asset_type).unwrap_or(Category::Other)
}

fn to_record(item: &Value, detail: &Value, raw: String) -> ReportedAsset {
    let fields = detail_fields(&detail["details"]);
    let field = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| fields.get(*n).cloned())
            .unwrap_or_default()
    };
    let label = item["label"].as_str().map(clean_name).unwrap_or_default();
    let name = if label.is_empty() {
        field(&["name"])
    } else {
        label
    };
    let asset_type = field(&["type"]);
    let mac = field(&["mac address"]);
    let ip = field(&["primary ip", "ip address"]);
    ReportedAsset {
        external_id: id_text(&item["id"]),
        source_client_id: id_text(&item["client_id"]),
        name,
        category: Some(category_for(&asset_type)),
        vendor_type: if asset_type.is_empty() {
            item["templateName"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        } else {
            asset_type
        },
        manufacturer: field(&["manufacturer", "make", "vendor"]),
        model: field(&["model"]),
        serial: field(&["serial number", "serial"]),
        mac_addresses: mac
            .split([',', ';', ' '])
            .filter_map(super::normalise_mac)
            .collect(),
        ip_addresses: ip
            .split([',', ';', ' '])
            .map(str::trim)
            .filter(|s| s.parse::<std::net::IpAddr>().is_ok())
            .map(str::to_string)
            .collect(),
        os: field(&["operating system", "platform"]),
        firmware: field(&["firmware version", "firmware"]),
        online_status: String::new(),
        managed: None,
        last_seen: None,
        updated_at: item["last_modified"]
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&Utc)),
        raw,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tail check asks for a page that holds the last item read and, if the list went
    /// on, more: with a page size the server honoured that does not divide what was read.
    #[test]
    fn the_end_probe_spans_the_last_item_and_the_place_after_it() {
        // Full pages of `largest_page` as asked (the last one possibly short).
        let probe = |items: usize, largest_page: usize| {
            ReadSoFar {
                items,
                largest_page,
                last_id: "9".into(),
                pages: items.div_ceil(largest_page.max(1)),
                first_asked: largest_page,
            }
            .end_probe()
            .map(|p| (p.per_page, p.page, p.items_if_ended))
        };
        // One short page of 37: pages of 36, page 2 holds item 37 alone if the list ended.
        assert_eq!(probe(37, 37), Some((36, 2, 1)));
        // Six full pages of 20 (a capped server): pages of 19, page 7 holds items 115..=120.
        assert_eq!(probe(120, 20), Some((19, 7, 6)));
        // Three full pages of 1000: pages of 999, page 4 holds items 2998..=3000.
        assert_eq!(probe(3000, 1000), Some((999, 4, 3)));
        // A short last page after full ones: the server's own page size already spans it.
        assert_eq!(probe(130, 100), Some((100, 2, 30)));
        for (items, largest) in [(37, 37), (120, 20), (3000, 1000), (130, 100), (5, 3)] {
            let (per_page, page, if_ended) = probe(items, largest).expect("a probe");
            assert!(per_page <= largest, "a size the server honours");
            assert!((page - 1) * per_page < items && items < page * per_page);
            assert_eq!(if_ended, items - (page - 1) * per_page);
        }
        // Nothing read, or every honoured size divides what was: no proof to ask for.
        assert_eq!(probe(0, 0), None);
        assert_eq!(probe(1, 1), None);
        assert_eq!(probe(2, 2), None);
        assert_eq!(probe(2, 1), None);
    }

    /// One or two items on one page shorter than asked: page 1 asked one item larger holds
    /// just them if the list ended (a server capping pages at one or two is not credible).
    #[test]
    fn a_short_list_on_one_short_page_is_probed_on_page_one() {
        let probe = |items: usize, pages: usize, first_asked: usize| {
            ReadSoFar {
                items,
                largest_page: items.div_ceil(pages.max(1)),
                last_id: "9".into(),
                pages,
                first_asked,
            }
            .end_probe()
            .map(|p| (p.per_page, p.page, p.items_if_ended))
        };
        assert_eq!(probe(1, 1, 100), Some((2, 1, 1)));
        assert_eq!(probe(2, 1, 100), Some((3, 1, 2)));
        // Longer lists keep the usual probe, which spans the place after the last item.
        assert_eq!(probe(3, 1, 100), Some((2, 2, 1)));
        // Two pages of one, a full page as asked, or nothing read: no proof.
        assert_eq!(probe(2, 2, 1), None);
        assert_eq!(probe(2, 1, 2), None);
        assert_eq!(probe(1, 1, 1), None);
        assert_eq!(probe(0, 0, 100), None);
    }

    /// Only Passportal's "not found." envelope (on a 403 or a 404) says a document is gone; a
    /// 403 or 404 that is not its JSON (a proxy's page) and the documented 400 "invalid id"
    /// are unreadable, and any other refusal is the run's.
    #[test]
    fn only_passportals_own_not_found_says_a_document_is_gone() {
        let failure = |status: u16, body: &str| Failure {
            status: reqwest::StatusCode::from_u16(status).expect("a status"),
            location: None,
            body: body.into(),
        };
        for (status, body) in [
            (
                404,
                r#"{"success":"false","message":"not found.","code":0,"status":404}"#,
            ),
            (
                403,
                r#"{"success":"false","message":"not found.","code":0,"status":403}"#,
            ),
            (403, r#"{"success":false,"message":"Not found"}"#),
        ] {
            assert_eq!(
                refused_document(&failure(status, body)),
                Some(DocumentAnswer::Gone),
                "{status} {body}"
            );
        }
        for (status, body) in [
            (403, "<html><body>403 Forbidden</body></html>"),
            (404, "<html><body>404 Not Found</body></html>"),
            (404, ""),
            (404, r#"{"message":"not found."}"#),
            (404, r#"{"success":true,"message":"not found."}"#),
        ] {
            assert_eq!(
                refused_document(&failure(status, body)),
                Some(DocumentAnswer::Unreadable(NOT_FOUND)),
                "{status} {body}"
            );
        }
        assert_eq!(
            refused_document(&failure(
                400,
                r#"{"success":false,"code":0,"status":400,"message":"invalid id"}"#
            )),
            Some(DocumentAnswer::Unreadable(INVALID_ID))
        );
        for (status, body) in [
            (400, r#"{"success":false,"message":"invalid input"}"#),
            (400, "invalid id"),
            (500, r#"{"success":"false","message":"not found."}"#),
            (410, ""),
        ] {
            assert_eq!(
                refused_document(&failure(status, body)),
                None,
                "{status} {body}"
            );
        }
        // "not found." inside a 200 is the same envelope, Passportal's in-body form.
        let url = url::Url::parse("https://example.invalid/api/v2/documents/1").expect("a url");
        assert_eq!(
            document_answer(&url, r#"{"success":"false","message":"not found."}"#.into())
                .expect("an answer"),
            DocumentAnswer::Gone
        );
    }

    /// A 200 whose envelope refuses the token is a token refusal, not a page.
    #[test]
    fn token_refusals_inside_a_200_are_recognised() {
        for yes in [
            r#"{"success":"false","message":"Invalid token: Expired token.","code":1006,"status":401}"#,
            r#"{"success":false,"message":"Invalid token","status":"401"}"#,
            r#"{"success":false,"code":1006}"#,
        ] {
            assert!(says_invalid_token(yes), "{yes}");
        }
        for no in [
            r#"{"success":true,"results":[{"id":1006,"status":401}]}"#,
            r#"{"success":"false","message":"not found.","code":0,"status":403}"#,
            r#"{"success":"false","message":"Key verification failed","code":1000,"status":400}"#,
            "401 1006 not json",
            r#"{"code":1006,"status":401}"#,
        ] {
            assert!(!says_invalid_token(no), "{no}");
        }
    }

    /// Only a client error that is not about credentials or throttling may be a server's
    /// answer past the end; a server error never is.
    #[test]
    fn only_plain_client_errors_may_mean_past_the_end() {
        let failure = |status: u16| Failure {
            status: reqwest::StatusCode::from_u16(status).expect("a status"),
            location: None,
            body: String::new(),
        };
        for s in [400, 403, 404, 410] {
            assert!(may_mean_past_the_end(&failure(s)), "{s}");
        }
        for s in [401, 407, 429, 500, 502, 503] {
            assert!(!may_mean_past_the_end(&failure(s)), "{s}");
        }
        assert!(says_success_false(
            r#"{"success":"false","message":"not found."}"#
        ));
        assert!(says_success_false(r#"{"success":false}"#));
        assert!(!says_success_false(r#"{"success":true,"results":[]}"#));
        assert!(!says_success_false("not json"));
        assert!(!says_success_false(r#"{"results":[]}"#));
    }

    /// The asset template's date fields, in the numbered layout the API returns: the
    /// purchase date (else the install date), the warranty's expiry, a format hint after a
    /// label, and text that is not a date kept as given.
    #[test]
    fn asset_dates_come_from_the_template_fields_and_are_never_guessed() {
        let date = |y, m, d| {
            Some(VendorDate::Date(
                chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap(),
            ))
        };
        let details = serde_json::json!({
            "name": "KAL-FW01",
            "11": {"name": "Purchase Date (YYYY-MM-DD)", "value": {"type": "string", "text": "2022-03-31"}},
            "29": {"name": "Install Date", "value": {"type": "string", "text": "04/15/2022"}},
            "31": {"name": "Expiration Date", "value": {"type": "string", "text": "31.03.2025"}},
        });
        let mut odd = OddDates::default();
        let r = lifecycle_report("31182486", &detail_fields(&details), &mut odd);
        assert_eq!(r.external_id, "31182486");
        assert_eq!(r.support, None);
        let w = r.warranty.unwrap();
        assert_eq!(w.purchase_date, date(2022, 3, 31));
        assert_eq!(w.warranty_expires, date(2025, 3, 31));
        assert_eq!(w.stated, None);
        assert!(odd.note().is_none());

        // No purchase date: the install date stands in. An expiry typed as words is kept.
        let details = serde_json::json!({
            "11": null,
            "29": {"name": "Install Date", "value": {"type": "string", "text": "04/15/2022"}},
            "31": {"name": "Expiration Date", "value": {"type": "string", "text": "3 years from install"}},
        });
        let r = lifecycle_report("1", &detail_fields(&details), &mut odd);
        let w = r.warranty.unwrap();
        assert_eq!(w.purchase_date, date(2022, 4, 15));
        assert_eq!(
            w.warranty_expires,
            Some(VendorDate::Unreadable("3 years from install".into()))
        );
        assert!(odd.note().unwrap().contains("3 years from install"));

        // A document with none of them says the asset has none.
        let r = lifecycle_report(
            "2",
            &detail_fields(&serde_json::json!({"name": "x"})),
            &mut odd,
        );
        assert_eq!(r.warranty, Some(WarrantyFacts::default()));
    }

    /// The research notes' vector: HMAC_SHA256("test-secret-access-key", "api-content-hash").
    #[test]
    fn hmac_matches_the_known_vector() {
        assert_eq!(
            x_hash("test-secret-access-key", "api-content-hash"),
            "18f1b37c1779ab6b4c5af70eeafb505cc55cb27a9fd7fe202e11ad72c92906d9"
        );
    }

    #[test]
    fn success_is_a_boolean_or_a_string() {
        for yes in [
            serde_json::json!(true),
            serde_json::json!("true"),
            serde_json::json!("TRUE "),
        ] {
            assert!(is_success(&yes), "{yes}");
        }
        for no in [
            serde_json::json!(false),
            serde_json::json!("false"),
            Value::Null,
            serde_json::json!(1),
        ] {
            assert!(!is_success(&no), "{no}");
        }
    }

    /// A token's lifetime is measured on the server's clock: a local clock hours off changes
    /// nothing when the answer carries `Date`.
    #[test]
    fn token_lifetimes_do_not_depend_on_our_clock() {
        let at = |s: i64| DateTime::from_timestamp(s, 0);
        let minute = std::time::Duration::from_secs(60);
        let server = at(1_700_000_000);
        let ours_skewed = at(1_700_000_000 + 3 * 3600).unwrap();
        assert_eq!(
            token_lifetime(at(1_700_003_600), server, ours_skewed),
            60 * minute
        );
        // Without Date, our clock is all there is; a lifetime it makes negative or absurd
        // is the assumed one (a 401 renews the token if that was too long).
        assert_eq!(
            token_lifetime(at(1_700_003_600), None, at(1_700_000_000).unwrap()),
            60 * minute
        );
        assert_eq!(
            token_lifetime(at(1_700_003_600), None, ours_skewed),
            55 * minute
        );
        assert_eq!(token_lifetime(None, server, ours_skewed), 55 * minute);
        assert_eq!(
            token_lifetime(at(1_800_000_000), server, ours_skewed),
            55 * minute
        );
    }

    #[test]
    fn not_found_is_read_from_the_envelope() {
        for yes in [
            serde_json::json!({"success": "false", "message": "not found.", "code": 0, "status": 403}),
            serde_json::json!({"success": false, "message": "Not Found"}),
        ] {
            assert!(says_not_found(&yes), "{yes}");
        }
        for no in [
            serde_json::json!({"success": "false", "message": "Invalid token: Malformed UTF-8 characters."}),
            serde_json::json!({"success": false}),
        ] {
            assert!(!says_not_found(&no), "{no}");
        }
    }

    #[test]
    fn every_type_row_maps_and_specific_words_win() {
        use Category::*;
        let rows: &[(&str, Category)] = &[
            ("Wireless Access Point", AccessPoint),
            ("Wireless Controller", Controller),
            ("Firewall", Firewall),
            ("Wireless Router", Router),
            ("Switch", Switch),
            ("Wireless Bridge", AccessPoint),
            ("Virtual Server", VirtualMachine),
            ("Hypervisor", Hypervisor),
            ("Host", Hypervisor),
            ("Server", Server),
            ("Tablet", Laptop),
            ("Laptop", Laptop),
            ("Notebook", Laptop),
            ("MacBook", Laptop),
            ("Workstation", Workstation),
            ("Desktop", Workstation),
            ("PC", Workstation),
            ("Mac", Workstation),
            ("NAS", Storage),
            ("Storage", Storage),
            ("Printer", Printer),
            ("Copier", Printer),
            ("Mobile Device", Phone),
            ("Phone", Phone),
            ("UPS", Ups),
            ("Camera", Camera),
            ("IoT", Iot),
            ("Network Device", Other),
            ("Something Else", Other),
            ("", Unknown),
        ];
        for (asset_type, want) in rows {
            assert_eq!(category_for(asset_type), *want, "{asset_type:?}");
        }
        for (keyword, _) in TYPE_KEYWORDS {
            assert!(
                rows.iter()
                    .any(|(t, _)| format!(" {} ", t.to_ascii_lowercase())
                        .contains(&format!(" {keyword} "))),
                "row `{keyword}` has no test"
            );
        }
    }

    #[test]
    fn client_names_are_entity_decoded() {
        let c = client_from(
            &serde_json::json!({"id": 41610798, "name": "Matt&#039;s Museum of Marbles"}),
        )
        .unwrap();
        assert_eq!(
            (c.external_id.as_str(), c.name.as_str()),
            ("41610798", "Matt's Museum of Marbles")
        );
        assert!(client_from(&serde_json::json!({"name": "no id"})).is_none());
    }

    #[test]
    fn both_detail_layouts_are_read() {
        // The layout the API returns: numeric keys, references for vendors.
        let observed = serde_json::json!({
            "name": "KAL-007565", "tags": [],
            "0": {"name": "Name", "description": "", "value": {"type": "string", "text": "KAL-007565"}},
            "1": {"name": "Type", "description": "", "value": {"type": "string", "text": "Workstation"}},
            "8": {"name": "Serial Number", "description": "", "value": {"type": "string", "text": "4Z2QJH2"}},
            "9": null,
            "10": {"name": "Manufacturer", "description": "", "value": {"text": "Dell", "id": 1843839, "type": "vendors"},
                   "attribute": [{"text": "Dell", "id": 1843839, "type": "vendors"}]},
            "11": {"name": "Model", "description": null, "value": {"type": "string", "text": "Please Select"}}
        });
        let f = detail_fields(&observed);
        assert_eq!(f["serial number"], "4Z2QJH2");
        assert_eq!(f["manufacturer"], "Dell");
        assert_eq!(f["type"], "Workstation");
        assert!(!f.contains_key("model"), "placeholders are no value");
        // The layout the documentation shows: named keys, objects and plain strings.
        let documented = serde_json::json!({
            "name": {"name": "Name", "description": "", "value": {"type": "string", "text": "Dundee Office"}},
            "city": null, "country": "Scotland", "phone": "01382 309040"
        });
        let f = detail_fields(&documented);
        assert_eq!(
            (f["name"].as_str(), f["country"].as_str()),
            ("Dundee Office", "Scotland")
        );
    }

    #[test]
    fn a_listed_document_and_its_detail_map_to_a_record() {
        let item = serde_json::json!({"id": 31182486, "label": "Leapfrog-Laptop-0124", "client_id": 41609738,
            "clientName": "Hudu Technologies", "templateName": "Generic Asset", "type": "asset",
            "last_modified": "2025-08-01T18:42:18Z"});
        let detail = serde_json::json!({"success": "true", "id": 31182486, "details": {
            "1": {"name": "Type", "value": {"type": "string", "text": "Laptop"}},
            "8": {"name": "Serial Number", "value": {"type": "string", "text": "5CG1234"}},
            "12": {"name": "MAC Address", "value": {"type": "string", "text": "aa-bb-cc-dd-ee-01"}},
            "13": {"name": "Primary IP", "value": {"type": "string", "text": "10.2.3.4"}}}});
        let r = to_record(&item, &detail, detail.to_string());
        assert_eq!(r.external_id, "31182486");
        assert_eq!(r.source_client_id, "41609738");
        assert_eq!(r.category, Some(Category::Laptop));
        assert_eq!(r.serial, "5CG1234");
        assert_eq!(r.mac_addresses, vec!["AA:BB:CC:DD:EE:01"]);
        assert_eq!(r.ip_addresses, vec!["10.2.3.4"]);
        assert!(r.updated_at.is_some());
        assert!(r.raw.contains("5CG1234"), "the detail is kept verbatim");
    }
}
