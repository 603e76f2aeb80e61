//! A simulated N-able Passportal "Documents" API (v2), written from the research notes
//! (`research/passportal.md`: N-able's user guide plus the API output public clients committed),
//! never from the connector's code. Passportal publishes no machine-readable spec, so every
//! shape here follows a verbatim sample from the notes, and every choice the notes leave open is
//! made explicitly below and listed in the report of the module's author.
//!
//! It serves one MSP's Passportal tenant: clients (8-digit ids, names HTML-entity encoded as
//! PHP's `htmlspecialchars` stores them), and documents of several types — asset documents
//! ("Generic Asset", template 79) with their numeric-keyed `details`, plus the location, contact
//! and vendor documents the assets' reference fields point at. Auth is the real two-step one:
//! `POST /api/v2/auth/client_token` with `x-key` and `x-hash` (lowercase hex HMAC-SHA256 of the
//! body's `content` under the secret access key) gives a JWT-shaped access token with an absolute
//! `expiry_time`; every later call carries it in `x-access-token`.
//!
//! # Building a known-answer tenant
//!
//! Seed with `clients: 0, assets_per_client: 0` (the MSP's own client alone, with no assets and
//! no vendors), add clients with [`PassportalSim::add_client`] and asset documents with
//! [`PassportalSim::add_asset`], then pin what identifies and categorises each asset in a
//! [`PassportalSim::update_asset`] closure. Every field of the asset template is rendered from
//! the [`SimAssetDoc`] at request time (`None` sends `null`); nothing is derived behind it:
//!
//! - `asset_type`: the "Type" field (free text, e.g. `"Workstation"`, `"Firewall"`);
//! - `serial`: the "Serial Number" field;
//! - `mac_address`: the "MAC Address" field (one string; several MACs are typed comma-separated);
//! - `manufacturer`, `model`, `hostname`, `primary_ip`, `operating_system`, … likewise.
//!
//! The asset template has no managed/unmanaged field (`status` is the document's own "Status"
//! drop-down, free to set like the rest). Over HTTP the same is `PATCH /_sim/assets/{id}` with
//! those field names.
//!
//! Between syncs a test can change the data ([`PassportalSim::add_asset`] …), rotate the secret,
//! expire every token, change the token lifetime, switch the documented quirks ([`Quirks`]), or
//! inject faults; the same is reachable over HTTP under `/_sim/` (see `control`).
//!
//! # Switches for what real Passportal may do (off by default)
//!
//! Each is reachable from Rust and under `/_sim/` (see `control`), with its evidence:
//!
//! - **Unreadable documents** ([`PassportalSim::set_accessible`],
//!   `PUT /_sim/documents/{id}/accessible`): list items carry `accessible` (a live tenant's items
//!   in Hudu-PassPortal-Migration `logs/PassPortalLog`@f1d67fc). A document with
//!   `accessible: false` is still listed, with `"accessible": false`, and its detail
//!   `GET /api/v2/documents/{id}` answers the 403 N-able documents for "Unauthorized",
//!   `{"success":"false","message":"not found.","code":0,"status":403}` (api_information.htm).
//! - **Vanishing documents** ([`PassportalSim::vanish_after_listing`],
//!   `POST /_sim/documents/{id}/vanish-after-listing`): the document is listed, and deleted the
//!   moment the list page carrying it is served, so its detail answers that 403 "not found."
//!   and later listings no longer carry it: a document deleted between the list and the detail
//!   call.
//! - **A failing list page**: a fault rule restricted to one page by its query
//!   (`FaultRule::times(f, 1).on("/api/v2/documents").with_query("pageNum=2&")`) with
//!   [`Fault::ErrorStatus`] (e.g. 404 and the documented "pageNum needs to be an integer between
//!   1 and 9999."), [`Fault::ServerError`]`(500)` (the documented 500 envelope) or
//!   [`Fault::SuccessFalse`] (HTTP 200 with `"success":"false"` inside; Hudu: "either way, you get
//!   data, just useless data", commit 36a1632). All are served in Passportal's envelope.
//! - **Clock skew** ([`PassportalSim::set_clock_skew`], `PUT /_sim/clock`): the simulator's
//!   "now" runs ahead of (or behind) the host's clock. It decides `expiry_time` (absolute epoch
//!   seconds) and when tokens expire, dates every API response (`Date`, RFC 7231 IMF-fixdate),
//!   and stamps `last_modified`; a client that compares `expiry_time` with its own clock
//!   misjudges the token's lifetime by the skew (real-vendor-behaviour.md A.2).
//! - **A new token revokes the old ones** ([`PassportalSim::set_new_token_revokes_old`],
//!   `PUT /_sim/new-token-revokes-old`): issuing a token makes every earlier one answer 401 code
//!   1006 ("Invalid token: Token revoked."), as many token services do. N-able documents
//!   nothing about lifetime or revocation; Hudu: "not sure why authentication would fail one day
//!   and not another" (commit 4e7fe84). Exchanges are counted ([`PassportalSim::token_exchanges`]).
//! - **Page offsets by the size asked** ([`Quirks::page_offset`], `PUT /_sim/quirks`
//!   `{"page_offset":"requested"}`): with `page_size_cap` below the `resultsPerPage` asked, page
//!   `p` starts at `(p - 1) * asked` but holds at most the cap, so a client asking more than the
//!   cap never sees what lies between (Hudu-PassPortal-Migration lost records asking 1000 and
//!   paged at 100 after, commit a3a4127; N-able documents 100, api_list_documents.htm). The
//!   default cuts pages with the size served.
//! - **Token refusals inside a 200** ([`Quirks::token_refusal`], `{"token_refusal":"http200"}`):
//!   a missing, expired or revoked token gets HTTP 200 with the 1006 envelope
//!   (`"status":401` inside), as Passportal reports other failures inside 200 bodies.
//! - **`last_modified`** changes whenever a document changes ([`PassportalSim::update_asset`]
//!   stamps strictly increasing whole seconds, so two changes within a second still differ) and
//!   stays the same otherwise; it is the only change signal a list gives (research §4).
//!   [`PassportalSim::detail_requests`] counts `GET /api/v2/documents/{id}` calls, so a test can
//!   tell whether a client re-fetches unchanged documents.

mod api;
mod auth;
mod catalog;
mod control;
mod render;
mod seed;
mod store;
#[cfg(test)]
mod tests;

use super::requests::RequestLog;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use crate::sim::faults::{Fault, FaultPlan, FaultRule};
pub use crate::sim::server::SimServer;

use crate::sim::clock::SkewClock;
use store::Store;

/// The asset template's id (Passportal's "Generic Asset"; `tpl-79` in the docs' create example).
pub const ASSET_TEMPLATE_ID: i64 = 79;

/// What to simulate. Everything seeded derives from `seed`, `clients` and `assets_per_client`.
///
/// The tenant holds `clients` clients named like the other simulators' clients for the same seed
/// ([`crate::sim::names::client_names`]; about 15% spelled a little differently, as real MSP data
/// is), each with `assets_per_client` asset documents, plus the MSP's own client
/// ([`INTERNAL_CLIENT`]) with `ceil(assets_per_client / 10)` assets and the tenant's vendor
/// documents.
#[derive(Debug, Clone)]
pub struct PassportalSimOptions {
    pub seed: u64,
    pub clients: usize,
    pub assets_per_client: usize,
    /// The Access key ID; empty means "derive one from the seed" (64 lowercase hex characters,
    /// the format third-party integrations validate).
    pub access_key_id: String,
    /// The Secret access key; empty means "derive one from the seed". Its format is undocumented;
    /// the derived one is 64 mixed-case alphanumerics ("about the same length" as the key id, so
    /// easy to swap, but never mistakable for 64 hex characters).
    pub secret_access_key: String,
    /// How long an access token works. Passportal does not document it; one hour is what the
    /// public clients' fallback (55 minutes, an hour less a margin) implies.
    pub token_ttl: Duration,
    /// The largest `resultsPerPage` honoured; larger requests get this many. Undocumented; public
    /// clients use 1000 for documents without trouble, so 1000.
    pub page_size_cap: usize,
    /// Representations the notes show in more than one form (see [`Quirks`]).
    pub quirks: Quirks,
}

impl Default for PassportalSimOptions {
    fn default() -> Self {
        Self {
            seed: 1,
            clients: 5,
            assets_per_client: 40,
            access_key_id: String::new(),
            secret_access_key: String::new(),
            token_ttl: Duration::from_secs(3600),
            page_size_cap: 1000,
            quirks: Quirks::default(),
        }
    }
}

/// The name of the MSP's own client, which owns the tenant's vendor documents (as in the
/// public migration tool's log, where the vendor document belongs to the MSP's own client).
pub const INTERNAL_CLIENT: &str = "Acme IT Services";

/// Where the notes show Passportal answering the same thing in more than one form, which form
/// the simulator sends. Each default (`mixed`, or `alternate` for `expiry_time`) sends both forms,
/// deterministically, so a client meets them all without configuration; the other values pin one
/// form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quirks {
    #[serde(default)]
    pub auth_failure: AuthFailure,
    #[serde(default)]
    pub expiry_time: ExpiryTime,
    #[serde(default)]
    pub success: SuccessForm,
    #[serde(default)]
    pub past_end: PastEnd,
    #[serde(default)]
    pub page_offset: PageOffset,
    #[serde(default)]
    pub token_refusal: TokenRefusal,
}

/// How a rejected token exchange (code 1000, "Key verification failed") is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthFailure {
    /// An unknown `x-key` gets the documented HTTP 401 with `"success":false`; a known key with
    /// a wrong `x-hash` (a wrong or rotated secret) gets HTTP 200 with `"success":"false"` and the
    /// same message: public clients report that a failed exchange can look like success ("either
    /// way, you get data") and judge by the body's `success`.
    #[default]
    Mixed,
    /// Always the documented HTTP 401 `{"success":false,…,"code":1000,"status":401}`.
    Documented,
    /// Always HTTP 200 with `{"success":"false",…,"code":1000,"status":401}`.
    Http200,
}

/// The JSON type of the token response's `expiry_time` (the docs' format block says "string",
/// their sample sends a number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpiryTime {
    /// A number on the 1st, 3rd, 5th… successful exchange, a string of digits on the others.
    #[default]
    Alternate,
    Number,
    String,
}

/// The JSON type of `success` in successful responses (error bodies always follow the documented
/// examples, which already mix `false` and `"false"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuccessForm {
    /// `true` where the docs show it (token, document list, document), the string `"true"` on the
    /// undocumented client list (the API is known to send `"success":"true"` elsewhere).
    #[default]
    Mixed,
    Boolean,
    String,
}

/// What a list answers for a page past the last one (the notes: unknown; empty, `null` or an
/// error are all plausible). Page 1 of an empty list is always an empty `results`.
///
/// `NotFound` is kept as a switch, not a default: a 404 past the end looks exactly like a
/// page refused in the middle of a list, so a client must not take it on its word (a full
/// run would otherwise remove everything past it). Tests use it to check that a client
/// proves the end some other way, and still fails a list refused in its middle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PastEnd {
    /// Documents: 200 with `"results":[]`; clients: 200 with `"results":null`.
    #[default]
    Mixed,
    Empty,
    Null,
    NotFound,
}

/// Where page `pageNum` starts when `resultsPerPage` asks more than `page_size_cap`. N-able
/// documents 100 as the supported `resultsPerPage` (api_list_documents.htm) and nothing about
/// larger requests; Hudu-PassPortal-Migration asked 1000 and lost records until it paged at 100
/// (commit a3a4127, "it was a pagination issue!"), which is what a server capping the page but
/// offsetting by the size asked does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PageOffset {
    /// Pages are cut with the size served: page `p` starts at `(p - 1) * min(asked, cap)`.
    #[default]
    Served,
    /// Pages start where the size asked says, `(p - 1) * asked`, but hold at most the cap: a
    /// client asking more than the cap skips what lies between.
    Requested,
}

/// How a refused access token (code 1006, "Invalid token: …") is answered on an ordinary call.
/// Passportal reports failures inside HTTP 200 bodies too (`"success":"false"`, Hudu commit
/// 36a1632); N-able documents the 1006 envelope only as "4XX" (api_information.htm).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenRefusal {
    /// HTTP 401 with the envelope.
    #[default]
    Documented,
    /// HTTP 200 with the same envelope (`"status":401`, `"code":1006` inside).
    Http200,
}

/// A client as the simulator holds it (ground truth for tests).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SimClient {
    /// 8-digit ids, as observed.
    pub id: i64,
    /// The name as the API sends it: HTML-entity encoded (`Smith &amp; Sons`, `Margie&#039;s`).
    pub name: String,
    /// `name` with the entities decoded: what the MSP typed.
    pub decoded_name: String,
    /// The name the other simulators give this client for the same seed (`None` for the MSP's
    /// own client). Equal to `decoded_name` unless this client is one of the ~15% spelled
    /// differently in Passportal.
    pub shared_name: Option<String>,
}

/// An asset document as the simulator holds it (ground truth for tests). `label` is the title
/// (list `label`, detail `details.name` and field "Name"); every other field is one of the asset
/// template's fields, `None` when empty (sent as `null`). Reference fields (`manufacturer`,
/// `location`, `assigned_user`) hold the referenced document's title; the detail sends its id
/// too when such a document exists.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct SimAssetDoc {
    /// Document ids are 8-digit, shared with every other document type.
    pub id: i64,
    pub client_id: i64,
    pub label: String,
    pub description: String,
    pub custom_id: String,
    pub asset_type: Option<String>,
    pub status: Option<String>,
    pub asset_tag: Option<String>,
    pub hostname: Option<String>,
    pub assigned_user: Option<String>,
    pub location: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub purchased_by: Option<String>,
    pub manufacturer: Option<String>,
    pub purchase_date: Option<String>,
    pub platform: Option<String>,
    pub primary_ip: Option<String>,
    pub secondary_ip: Option<String>,
    pub default_gateway: Option<String>,
    pub mac_address: Option<String>,
    pub operating_system: Option<String>,
    pub os_notes: Option<String>,
    pub firmware_version: Option<String>,
    pub processor: Option<String>,
    pub memory: Option<String>,
    pub storage: Option<String>,
    pub domain: Option<String>,
    pub portal_url: Option<String>,
    pub remote_launch_url: Option<String>,
    pub integration_type: Option<String>,
    pub rmm_id: Option<String>,
    pub last_logged_in_user: Option<String>,
    pub install_date: Option<String>,
    pub installed_by: Option<String>,
    pub expiration_date: Option<String>,
    pub antivirus: Option<String>,
    pub support_contract: Option<String>,
    pub notes: Option<String>,
    #[serde(serialize_with = "ser_time")]
    pub last_modified: DateTime<Utc>,
}

// chrono is built without its serde feature here; times serialize as Passportal writes them.
fn ser_time<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&render::Ts(*t))
}

/// A running-or-not simulated Passportal tenant. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct PassportalSim {
    inner: Arc<Inner>,
}

/// Shared state behind every clone and every HTTP task.
struct Inner {
    opts: PassportalSimOptions,
    access_key_id: String,
    /// The current secret, and how many rotations produced it (the token signing key follows
    /// it, so a rotation also invalidates every token issued before).
    secret: RwLock<(String, u64)>,
    token_ttl: RwLock<Duration>,
    quirks: RwLock<Quirks>,
    /// Tokens carry a serial number; those below this one are expired ([`PassportalSim::expire_tokens`]).
    tokens_valid_from: AtomicU64,
    next_token: AtomicU64,
    store: RwLock<Store>,
    faults: FaultPlan,
    requests: RequestLog,
    token_exchanges: AtomicU64,
    rejected_exchanges: AtomicU64,
    /// Added to the wall clock (tests move time forward without sleeping).
    clock_offset_ms: AtomicU64,
    /// The host's clock plus the skew ([`PassportalSim::set_clock_skew`]).
    clock: SkewClock,
    /// Issuing a token revokes every earlier one.
    new_token_revokes_old: AtomicBool,
    /// Tokens with a serial number below this one are revoked.
    tokens_revoked_before: AtomicU64,
    /// `GET /api/v2/documents/{id}` requests received.
    detail_requests: AtomicU64,
}

impl PassportalSim {
    /// Seeds a simulator. Deterministic for `(seed, clients, assets_per_client)`.
    pub fn new(opts: PassportalSimOptions) -> Self {
        let access_key_id = if opts.access_key_id.is_empty() {
            seed::access_key_id(opts.seed)
        } else {
            opts.access_key_id.clone()
        };
        let secret = if opts.secret_access_key.is_empty() {
            seed::secret_access_key(opts.seed, 0)
        } else {
            opts.secret_access_key.clone()
        };
        let store = Store::new(seed::generate(&opts));
        Self {
            inner: Arc::new(Inner {
                access_key_id,
                secret: RwLock::new((secret, 0)),
                token_ttl: RwLock::new(opts.token_ttl),
                quirks: RwLock::new(opts.quirks),
                tokens_valid_from: AtomicU64::new(1),
                next_token: AtomicU64::new(1),
                store: RwLock::new(store),
                faults: FaultPlan::new(),
                requests: RequestLog::default(),
                token_exchanges: AtomicU64::new(0),
                rejected_exchanges: AtomicU64::new(0),
                clock_offset_ms: AtomicU64::new(0),
                clock: SkewClock::default(),
                new_token_revokes_old: AtomicBool::new(false),
                tokens_revoked_before: AtomicU64::new(0),
                detail_requests: AtomicU64::new(0),
                opts,
            }),
        }
    }

    /// Serves the API (under `/api/v2`) and `/_sim/` on `listener` in a spawned task until the
    /// returned server is dropped. `server.base_url` stands for `https://<dc>-clover.passportalmsp.com`.
    pub async fn start(&self, listener: tokio::net::TcpListener) -> std::io::Result<SimServer> {
        let sim = self.clone();
        SimServer::spawn(listener, move |base_url, shutdown| {
            api::router(sim, base_url, shutdown)
        })
    }

    pub fn access_key_id(&self) -> String {
        self.inner.access_key_id.clone()
    }

    /// The current Secret access key.
    pub fn secret_access_key(&self) -> String {
        read(&self.inner.secret).0.clone()
    }

    /// The MSP's tenant id (`organization_id` on every document).
    pub fn organization_id(&self) -> i64 {
        self.store().organization_id()
    }

    /// Every client, by id (the MSP's own client included).
    pub fn clients(&self) -> Vec<SimClient> {
        self.store().clients().cloned().collect()
    }

    /// Every asset document, by id.
    pub fn assets(&self) -> Vec<SimAssetDoc> {
        self.store().assets().cloned().collect()
    }

    /// One asset document by id.
    pub fn asset(&self, id: i64) -> Option<SimAssetDoc> {
        self.store().asset(id).cloned()
    }

    /// How many documents of every type the tenant holds.
    pub fn document_count(&self) -> usize {
        self.store().document_count()
    }

    /// Adds a client named `name` and returns its id: the next of the client sequence (8 digits,
    /// larger than every other client's, so it lists last). `name` is the plain name as the MSP
    /// typed it (it becomes [`SimClient::decoded_name`]); the API sends it HTML-entity encoded as
    /// Passportal stores it (`Smith & Sons` → `Smith &amp; Sons`, [`SimClient::name`]). Like a
    /// seeded client it gets one or two location and a few contact documents, which added assets'
    /// `location` and `assigned_user` may name. Its `shared_name` is `None` (the test knows
    /// which names it gave the other simulators). [`PassportalSim::add_asset`] takes it.
    pub fn add_client(&self, name: &str) -> i64 {
        let seed = self.inner.opts.seed;
        let now = self.now();
        self.store_mut().add_client(seed, name, now)
    }

    /// Adds a seeded-looking asset document to the client and returns its id (higher than every
    /// existing document's); `None` if there is no such client.
    pub fn add_asset(&self, client_id: i64) -> Option<i64> {
        let seed = self.inner.opts.seed;
        let now = self.now();
        self.store_mut().add_asset(seed, client_id, now)
    }

    /// Changes an asset document in place; its `last_modified` becomes now. Its id cannot change;
    /// a `client_id` that names no client is ignored. `false` if there is no such asset.
    pub fn update_asset(&self, id: i64, f: impl FnOnce(&mut SimAssetDoc)) -> bool {
        let now = self.now();
        self.store_mut().update_asset(id, now, f)
    }

    /// Deletes an asset document; `false` if there is no such asset.
    pub fn remove_asset(&self, id: i64) -> bool {
        self.store_mut().remove_asset(id)
    }

    /// Replaces the Secret access key (the Access key ID stays) and returns the new one. From now
    /// on an exchange signed with the old secret is rejected ("Key verification failed"), and
    /// every token issued before is refused ("Invalid token: Signature verification failed."),
    /// as when an MSP deletes a key in the dashboard.
    pub fn rotate_secret(&self) -> String {
        let mut guard = write(&self.inner.secret);
        let n = guard.1 + 1;
        let secret = seed::secret_access_key(self.inner.opts.seed, n);
        *guard = (secret.clone(), n);
        secret
    }

    /// Every token issued so far is expired from now on ("Invalid token: Expired token.").
    pub fn expire_tokens(&self) {
        let next = self.inner.next_token.load(Ordering::SeqCst);
        self.inner
            .tokens_valid_from
            .fetch_max(next, Ordering::SeqCst);
    }

    /// The lifetime of tokens issued from now on (zero: they are expired when issued).
    pub fn set_token_ttl(&self, ttl: Duration) {
        *write(&self.inner.token_ttl) = ttl;
    }

    pub fn token_ttl(&self) -> Duration {
        *read(&self.inner.token_ttl)
    }

    pub fn quirks(&self) -> Quirks {
        *read(&self.inner.quirks)
    }

    pub fn set_quirks(&self, quirks: Quirks) {
        *write(&self.inner.quirks) = quirks;
    }

    /// The largest `resultsPerPage` honoured.
    pub fn page_size_cap(&self) -> usize {
        self.inner.opts.page_size_cap.max(1)
    }

    pub fn faults(&self) -> &FaultPlan {
        &self.inner.faults
    }

    /// API requests received (everything except `/_sim/`), including rejected and faulted ones.
    pub fn request_count(&self) -> u64 {
        self.inner.requests.total()
    }

    /// API requests received whose path starts with `path_prefix`.
    pub fn requests_for(&self, path_prefix: &str) -> u64 {
        self.inner.requests.for_prefix(path_prefix)
    }

    /// Successful `POST /api/v2/auth/client_token` calls (tokens issued).
    pub fn token_exchanges(&self) -> u64 {
        self.inner.token_exchanges.load(Ordering::SeqCst)
    }

    /// Token exchanges refused with "Key verification failed".
    pub fn rejected_token_exchanges(&self) -> u64 {
        self.inner.rejected_exchanges.load(Ordering::SeqCst)
    }

    /// Makes a document unreadable by the key (or readable again): it is still listed, with
    /// `"accessible": false`, and `GET /api/v2/documents/{id}` answers 403
    /// `{"success":"false","message":"not found.","code":0,"status":403}`. Any document type.
    /// `false` if there is no such document. Its `last_modified` does not change.
    pub fn set_accessible(&self, doc_id: i64, accessible: bool) -> bool {
        self.store_mut().set_accessible(doc_id, accessible)
    }

    /// Whether the key can read the document; `None` if there is no such document.
    pub fn accessible(&self, doc_id: i64) -> Option<bool> {
        let store = self.store();
        store.doc(doc_id).map(|_| store.accessible(doc_id))
    }

    /// The documents made unreadable ([`PassportalSim::set_accessible`]), by id.
    pub fn inaccessible_documents(&self) -> Vec<i64> {
        self.store().inaccessible()
    }

    /// The document is listed as usual, but deleted the moment a list page carrying it is
    /// served (`/api/v2/documents` or `/all`, whatever the filters): its detail then answers 403
    /// "not found." and later listings no longer carry it. Any document type. `false` if there
    /// is no such document.
    pub fn vanish_after_listing(&self, doc_id: i64) -> bool {
        self.store_mut().vanish_after_listing(doc_id)
    }

    /// The documents waiting to vanish ([`PassportalSim::vanish_after_listing`]), by id.
    pub fn vanishing_documents(&self) -> Vec<i64> {
        self.store().vanishing()
    }

    /// Sets how far the simulator's clock runs ahead of the host's (negative: behind). It
    /// decides `expiry_time` and when tokens expire, the `Date` of every API response, and the
    /// `last_modified` of changes from now on (which then follow the new clock, even when it was
    /// set back).
    pub fn set_clock_skew(&self, skew: chrono::Duration) {
        self.inner.clock.set_skew(skew);
        self.store_mut().reset_stamps();
    }

    pub fn clock_skew(&self) -> chrono::Duration {
        self.inner.clock.skew()
    }

    /// Whether issuing a token revokes every token issued before it: from then on they answer
    /// 401 code 1006 "Invalid token: Token revoked.". Off: tokens live until they expire.
    pub fn set_new_token_revokes_old(&self, on: bool) {
        self.inner.new_token_revokes_old.store(on, Ordering::SeqCst);
    }

    pub fn new_token_revokes_old(&self) -> bool {
        self.inner.new_token_revokes_old.load(Ordering::SeqCst)
    }

    /// `GET /api/v2/documents/{id}` requests received (any outcome, faulted ones included);
    /// the list paths (`/api/v2/documents`, `/all`, `/clients`) are not counted.
    pub fn detail_requests(&self) -> u64 {
        self.inner.detail_requests.load(Ordering::SeqCst)
    }

    /// The simulator's "now": the host's clock plus the skew, plus whatever tests advanced it by.
    pub fn now(&self) -> DateTime<Utc> {
        let offset = self.inner.clock_offset_ms.load(Ordering::SeqCst);
        self.inner.clock.now()
            + chrono::Duration::milliseconds(i64::try_from(offset).unwrap_or(i64::MAX / 2))
    }

    /// Moves the simulator's clock forward (tests of token expiry, without sleeping).
    #[cfg(test)]
    fn advance_clock(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX / 4);
        self.inner.clock_offset_ms.fetch_add(ms, Ordering::SeqCst);
    }

    fn count_request(&self, path: &str) {
        self.inner.requests.record(path);
    }

    fn store(&self) -> RwLockReadGuard<'_, Store> {
        read(&self.inner.store)
    }

    fn store_mut(&self) -> RwLockWriteGuard<'_, Store> {
        write(&self.inner.store)
    }
}

// The simulator's locks guard plain data that every writer leaves consistent before it can
// panic, so a poisoned lock is still safe to use; a test that panicked must not wedge the server.
fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|e| e.into_inner())
}
