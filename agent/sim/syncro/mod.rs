//! A simulated SyncroMSP REST API (v1), written from Syncro's published swagger document and the
//! research notes (`research/syncro.md`), never from the connector's code.
//!
//! It serves one MSP's Syncro account under `/api/v1`: customers (businesses, a few individuals
//! without a `business_name`, and some disabled former clients) and their assets (agent-managed
//! "Syncro Device"s with `kabuto_information`, and manual assets of custom types whose
//! `properties` are keyed by display names), with Syncro's page-number paging and `meta`, its
//! three ways of passing the API token, the documented 401 bodies, and a 180-requests-per-minute
//! per-IP rate limit. Between syncs a test can change the data ([`SyncroSim::add_asset`] …),
//! rotate the key, tune the limiter, or inject faults; the same is reachable over HTTP under
//! `/_sim/` for tools outside the process (see `control`).
//!
//! # Building a known-answer account
//!
//! Seed with `clients: 0, assets_per_client: 0` (no customers at all), add customers with
//! [`SyncroSim::add_customer`] and assets with [`SyncroSim::add_asset`], then pin what identifies
//! and categorises each asset in a [`SyncroSim::update_asset`] closure. The asset JSON is the
//! [`SimAsset`] as stored (plus the customer and the RMM store around it); nothing a client reads
//! for identity is derived behind it:
//!
//! - `asset_type`: the type's name, e.g. `"Syncro Device"` for an agent-managed machine or a
//!   custom type such as `"Firewall"` (a new name gets a type id of its own);
//! - `asset_serial`: `None` sends `null`; `Some("")` and stray spaces are what real data has;
//! - `properties`: free-form JSON, kept as given. An agent device's facts live under
//!   `kabuto_information` (`general.serial_number`, `general.manufacturer`, `general.model`,
//!   `general.form_factor`, `os.name`, `network_adapters[].physical_address` for MACs,
//!   `last_synced_at`); the presence of `kabuto_information` is what shows the agent (RMM)
//!   manages the asset. A manual asset's fields are keyed by display name (`"MAC Address"`,
//!   `"Make"`, `"Model"`, `"LAN IP(s)"`, …). To pin a MAC, replace the whole `properties` (or
//!   edit the adapters in place): seeded agent assets carry several adapters.
//!
//! Over HTTP the same is `PATCH /_sim/assets/{id}` with `asset_type`, `asset_serial` and
//! `properties`.
//!
//! Choices the vendor does not document (all from `research/syncro.md`, and listed in the module
//! docs where they are made): the bad-token 401 body, the 429 body, what counts toward the limit,
//! ordering (id ascending), `per_page` (honoured up to 100), an invalid `page` (read as 1), the
//! 404 bodies, and `total_pages` of an empty list (1, as `will_paginate` computes it).
//!
//! # Switches for what real Syncro may do (off by default)
//!
//! Each is reachable from Rust and under `/_sim/` (see `control`), with its evidence:
//!
//! - **An empty listing** ([`SyncroSim::set_listing_hidden`], `PUT /_sim/listing`; one asset:
//!   [`SyncroSim::hide_asset`], `PUT /_sim/assets/{id}/hidden`): `GET /api/v1/customer_assets`
//!   leaves the assets out — a valid 200 with `"assets": []` (or without the hidden one) and a
//!   `meta` counting only what is listed (`total_entries: 0`, `total_pages: 1` when all are
//!   hidden) — while `GET /api/v1/customer_assets/{id}` still answers 200 for them. What a
//!   token whose permissions or customer visibility changed sees ("Single-Customer Users can
//!   only access own assets", spec; research/syncro.md §2 on per-token permissions): a client
//!   that takes an empty or short listing for "everything was deleted" removes live assets.
//! - **Reordering between pages** ([`SyncroSim::set_reorder_between_pages`],
//!   `PUT /_sim/reorder`): the order of `/customer_assets` is undocumented (the spec has no
//!   `sort` on it; research/syncro.md §3.1 lists ordering as unverified). With this on the list
//!   is ordered by `updated_at`, newest first, and after each page request the `updated_at` of
//!   the [`REORDER_BUMPS`] least recently updated listed assets is bumped to now, as RMM
//!   agents checking in during a long scan would: they move to the front, everything else
//!   moves back, so a page walk sees some assets twice and misses others. `meta.total_entries`
//!   and `total_pages` stay truthful.
//! - **The spec's own example shape** ([`SyncroSim::set_spec_example_paging`],
//!   `PUT /_sim/spec-example-paging`): `/customer_assets` answers without `meta` and ignores
//!   `page` (every page number returns page 1), which is what a mock served from Syncro's
//!   published spec does: its example page carries no `meta` (research/syncro.md §7.1).
//! - **Lookup by id**: `GET /api/v1/customer_assets/{id}` answers `{"asset": {…}}`, the same
//!   object as in the list, and 404 `{"error":"Asset not found"}` for a removed or unknown asset
//!   (research/syncro.md §3.2; the body is the one the spec documents for `/patches`).
//! - **429 without `Retry-After`** is the default ([`SyncroSimOptions::retry_after_on_429`],
//!   [`SyncroSim::set_retry_after`]); stitchflow reports Syncro's 429s without it. The limiter
//!   is a sliding window of 60 s (`ratelimit`): a request is admitted if fewer than
//!   `requests_per_minute` were admitted in the 60 s before it, so a request 60 s after a
//!   throttled burst's first admitted request succeeds, with or without `Retry-After`.

mod api;
mod catalog;
mod control;
mod ratelimit;
mod render;
mod seed;
mod store;
#[cfg(test)]
mod tests;

use super::requests::RequestLog;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use chrono::{DateTime, Utc};
use serde::Serialize;

pub use crate::sim::faults::{Fault, FaultPlan, FaultRule};
pub use crate::sim::server::SimServer;

use ratelimit::{Clock, RateLimiter};
use store::Store;

/// How many assets check in (get a new `updated_at`) after each `/customer_assets` page while
/// [`SyncroSim::set_reorder_between_pages`] is on.
pub const REORDER_BUMPS: usize = 3;

/// What to simulate. Everything seeded derives from `seed`, `clients` and `assets_per_client`.
///
/// The account holds `clients` business customers named like the other simulators' clients for
/// the same seed ([`crate::sim::names::client_names`]; about 15% spelled a little differently,
/// as real MSP data is), each with `assets_per_client` assets; plus `clients / 8` individuals
/// (no `business_name`) and `clients / 10` disabled former clients, each with
/// `ceil(assets_per_client / 10)` assets.
#[derive(Debug, Clone)]
pub struct SyncroSimOptions {
    pub seed: u64,
    /// Business customers (the MSP's clients).
    pub clients: usize,
    /// Assets seeded for each business customer.
    pub assets_per_client: usize,
    /// The account's subdomain (`acme` for `https://acme.syncromsp.com`); used in the links the
    /// API returns and in `/me`.
    pub subdomain: String,
    /// The API token with every permission; empty means "derive one from the seed".
    pub api_key: String,
    /// A valid token whose role lacks the asset permissions ("Assets - List/Search" and
    /// "Assets - View Details"); empty means "derive one from the seed".
    pub limited_api_key: String,
    /// Syncro's documented limit per client IP; 0 turns the limiter off (benchmarks).
    pub requests_per_minute: u32,
    /// Whether the limiter's 429s carry a `Retry-After` header (undocumented; off by default so
    /// clients must cope without one).
    pub retry_after_on_429: bool,
    /// `/customer_assets` page size when no `per_page` is given (50 was observed live; the spec
    /// text says 25).
    pub assets_page_size: usize,
    /// `/customers` page size when no `per_page` is given (the spec example's `per_page`).
    pub customers_page_size: usize,
}

impl Default for SyncroSimOptions {
    fn default() -> Self {
        Self {
            seed: 1,
            clients: 5,
            assets_per_client: 40,
            subdomain: "acme".to_owned(),
            api_key: String::new(),
            limited_api_key: String::new(),
            requests_per_minute: 180,
            retry_after_on_429: false,
            assets_page_size: 50,
            customers_page_size: 100,
        }
    }
}

/// A customer as the simulator holds it (ground truth for tests). `None` fields are sent as
/// JSON `null`, as Syncro does.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimCustomer {
    /// Syncro customer ids are account-wide sequence numbers in the tens of millions.
    pub id: i64,
    /// `None` for individuals.
    pub business_name: Option<String>,
    pub firstname: String,
    pub lastname: String,
    pub fullname: String,
    /// `business_name` if any, else `fullname`: what Syncro shows as the customer's name.
    pub business_then_name: String,
    /// `"<business> - <fullname>"`, or `fullname` for individuals.
    pub business_and_full_name: String,
    pub email: String,
    pub phone: String,
    pub mobile: Option<String>,
    pub address: Option<String>,
    pub address_2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub zip: Option<String>,
    pub notes: Option<String>,
    /// Disabled customers are left out of `/customers` unless `include_disabled=true`.
    pub disabled: bool,
    pub no_email: bool,
    /// Customer custom fields (usually empty).
    pub properties: serde_json::Value,
    #[serde(serialize_with = "ser_time")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "ser_time")]
    pub updated_at: DateTime<Utc>,
    /// The name the other simulators give this client for the same seed, when it is one of
    /// theirs (`None` for individuals and former clients). Equal to `business_name` unless this
    /// customer is one of the ~15% spelled differently in Syncro, or one of the few whose name
    /// differs only by surrounding spaces or an HTML entity (`&amp;`), which CONTRACT §5 groups.
    pub shared_name: Option<String>,
    /// Secret of the customer's portal link (`online_profile_url`).
    #[serde(skip)]
    pub portal_key: String,
    /// Id of the customer's address record (the `address` object inside assets).
    #[serde(skip)]
    pub address_id: i64,
}

/// An asset as the simulator holds it (ground truth for tests).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimAsset {
    /// In the 12–14 million range, the newest above 2^31.
    pub id: i64,
    pub customer_id: i64,
    pub contact_id: Option<i64>,
    pub name: String,
    /// The asset type's *name* ("Syncro Device", "Firewall", …); Syncro never sends its id.
    pub asset_type: String,
    /// Sometimes `null`, sometimes `""`, now and then with stray spaces or lower case.
    pub asset_serial: Option<String>,
    /// Free-form: `kabuto_information` for agent devices, display-name keys for the others.
    pub properties: serde_json::Value,
    pub external_rmm_link: Option<String>,
    pub has_live_chat: bool,
    pub snmp_enabled: Option<bool>,
    #[serde(serialize_with = "ser_time")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "ser_time")]
    pub updated_at: DateTime<Utc>,
}

// chrono is built without its serde feature here; times serialize in Syncro's own format.
fn ser_time<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&render::Ts(*t))
}

/// A running-or-not simulated Syncro account. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct SyncroSim {
    inner: Arc<Inner>,
}

/// Shared state behind every clone and every HTTP task.
struct Inner {
    opts: SyncroSimOptions,
    api_key: RwLock<String>,
    limited_api_key: String,
    rotations: AtomicU64,
    store: RwLock<Store>,
    faults: FaultPlan,
    requests: RequestLog,
    rate_limited: AtomicU64,
    requests_per_minute: AtomicU32,
    retry_after: AtomicBool,
    limiter: RateLimiter,
    clock: Clock,
    /// `/customer_assets` lists nothing ([`SyncroSim::set_listing_hidden`]).
    listing_hidden: AtomicBool,
    /// `/customer_assets` is ordered by `updated_at` and changes under a page walk.
    reorder_between_pages: AtomicBool,
    /// `/customer_assets` answers the spec example's shape: no `meta`, `page` ignored.
    spec_example_paging: AtomicBool,
    /// The next `/customers` page 1 disables the first customer it lists once it is served.
    disable_during_customer_walk: AtomicBool,
}

impl SyncroSim {
    /// Seeds a simulator. Deterministic for `(seed, clients, assets_per_client)` and the
    /// naming options.
    pub fn new(opts: SyncroSimOptions) -> Self {
        Self::with_clock(opts, Clock::real())
    }

    fn with_clock(opts: SyncroSimOptions, clock: Clock) -> Self {
        let api_key = if opts.api_key.is_empty() {
            seed::api_key(opts.seed, 0)
        } else {
            opts.api_key.clone()
        };
        let limited_api_key = if opts.limited_api_key.is_empty() {
            seed::limited_api_key(opts.seed)
        } else {
            opts.limited_api_key.clone()
        };
        let store = Store::new(seed::generate(&opts));
        Self {
            inner: Arc::new(Inner {
                api_key: RwLock::new(api_key),
                limited_api_key,
                rotations: AtomicU64::new(0),
                store: RwLock::new(store),
                faults: FaultPlan::new(),
                requests: RequestLog::default(),
                rate_limited: AtomicU64::new(0),
                requests_per_minute: AtomicU32::new(opts.requests_per_minute),
                retry_after: AtomicBool::new(opts.retry_after_on_429),
                limiter: RateLimiter::default(),
                clock,
                listing_hidden: AtomicBool::new(false),
                reorder_between_pages: AtomicBool::new(false),
                spec_example_paging: AtomicBool::new(false),
                disable_during_customer_walk: AtomicBool::new(false),
                opts,
            }),
        }
    }

    /// Serves the API (under `/api/v1`) and `/_sim/` on `listener` in a spawned task until the
    /// returned server is dropped. Clients use `server.base_url` as the account's root, where
    /// the real one is `https://<subdomain>.syncromsp.com`.
    pub async fn start(&self, listener: tokio::net::TcpListener) -> std::io::Result<SimServer> {
        let sim = self.clone();
        SimServer::spawn(listener, move |base_url, shutdown| {
            api::router(sim, base_url, shutdown)
        })
    }

    /// The full-permission token.
    pub fn api_key(&self) -> String {
        read(&self.inner.api_key).clone()
    }

    /// A valid token without the asset permissions: `/customer_assets*` answers it with the
    /// documented permission 401; `/customers*` and `/me` work.
    pub fn limited_api_key(&self) -> String {
        self.inner.limited_api_key.clone()
    }

    pub fn subdomain(&self) -> String {
        self.inner.opts.subdomain.clone()
    }

    /// Every customer, disabled ones included, in id order.
    pub fn customers(&self) -> Vec<SimCustomer> {
        self.store().customers().cloned().collect()
    }

    /// Every asset, in the order the API pages them (id ascending).
    pub fn assets(&self) -> Vec<SimAsset> {
        self.store().assets().cloned().collect()
    }

    /// One asset by id.
    pub fn asset(&self, id: i64) -> Option<SimAsset> {
        self.store().asset(id).cloned()
    }

    /// The account's asset types as `(asset_type_id, name)`, by id. Syncro's asset JSON carries
    /// only the name; the id is what the `asset_type_id` filter takes.
    pub fn asset_types(&self) -> Vec<(i64, String)> {
        self.store().asset_types()
    }

    /// Adds an enabled business customer whose `business_name` is exactly `business_name`, with
    /// a contact person, address and e-mail drawn like a seeded client's, created now, and returns
    /// its id: the next of the account's customer sequence, so it is listed after every other
    /// customer by `/customers` (id order). Its `shared_name` is `None` (the test knows which
    /// names it gave the other simulators). [`SyncroSim::add_asset`] takes it.
    pub fn add_customer(&self, business_name: &str) -> i64 {
        let seed = self.inner.opts.seed;
        self.store_mut().add_customer(seed, business_name)
    }

    /// Adds a seeded-looking asset to the customer and returns its id (higher than every
    /// existing one, as Syncro's sequence gives); `None` if there is no such customer.
    pub fn add_asset(&self, customer_id: i64) -> Option<i64> {
        let seed = self.inner.opts.seed;
        self.store_mut().add_asset(seed, customer_id)
    }

    /// Changes an asset in place; its `updated_at` becomes now. Its id and `created_at` cannot
    /// change; a `customer_id` that names no customer is ignored; a new `asset_type` name gets a
    /// new type id. `false` if there is no such asset.
    pub fn update_asset(&self, id: i64, f: impl FnOnce(&mut SimAsset)) -> bool {
        self.store_mut().update_asset(id, f)
    }

    /// Disables (or enables) a customer, as an admin does in the web UI: `/customers` leaves
    /// it out unless asked `include_disabled=true`. `false` if there is no such customer.
    pub fn set_customer_disabled(&self, id: i64, disabled: bool) -> bool {
        self.store_mut().set_customer_disabled(id, disabled)
    }

    /// Once on, the next `/customers` page 1 disables the first customer it lists right after
    /// it is served (then the switch is off), as an admin offboarding a customer while a
    /// client walks the list: every later row moves up one place, so a page walk misses the
    /// customer that moved onto page 1. `meta.total_entries` stays truthful on each page.
    /// The order of `/customers` is undocumented (the spec has `sort`, no default).
    pub fn disable_a_customer_during_the_next_walk(&self) {
        self.inner
            .disable_during_customer_walk
            .store(true, Ordering::SeqCst);
    }

    /// Removes an asset (as deleting it in Syncro's web UI does; the API has no DELETE);
    /// `false` if there is no such asset.
    pub fn remove_asset(&self, id: i64) -> bool {
        self.store_mut().remove_asset(id)
    }

    /// Hides every asset from `GET /api/v1/customer_assets` (or lists them again): it answers
    /// 200 with `"assets": []` and a `meta` with `total_entries: 0`, as after the token's
    /// permissions or customer visibility changed, while `GET /api/v1/customer_assets/{id}`
    /// still answers 200 for each of them.
    pub fn set_listing_hidden(&self, hidden: bool) {
        self.inner.listing_hidden.store(hidden, Ordering::SeqCst);
    }

    pub fn listing_hidden(&self) -> bool {
        self.inner.listing_hidden.load(Ordering::SeqCst)
    }

    /// Leaves one asset out of `GET /api/v1/customer_assets` (or lists it again); `meta`
    /// counts only what is listed, and `GET /api/v1/customer_assets/{id}` still answers 200 for
    /// it. `false` if there is no such asset. Removing the asset forgets the flag.
    pub fn hide_asset(&self, id: i64, hidden: bool) -> bool {
        self.store_mut().set_hidden(id, hidden)
    }

    /// The assets hidden one by one ([`SyncroSim::hide_asset`]), by id.
    pub fn hidden_assets(&self) -> Vec<i64> {
        self.store().hidden()
    }

    /// Orders `/customer_assets` by `updated_at` (newest first) and, after each page request,
    /// bumps the `updated_at` of the [`REORDER_BUMPS`] least recently updated listed
    /// assets to now (RMM agents checking in during a long scan), so that a page walk sees some
    /// assets twice and misses others; `meta` stays truthful. Off: id order, nothing bumped.
    pub fn set_reorder_between_pages(&self, on: bool) {
        self.inner.reorder_between_pages.store(on, Ordering::SeqCst);
    }

    pub fn reorder_between_pages(&self) -> bool {
        self.inner.reorder_between_pages.load(Ordering::SeqCst)
    }

    /// Makes `/customer_assets` answer as a mock served from Syncro's published spec would:
    /// without `meta`, and page 1 whatever `page` asks for (its example page has no `meta`;
    /// research/syncro.md §7.1).
    pub fn set_spec_example_paging(&self, on: bool) {
        self.inner.spec_example_paging.store(on, Ordering::SeqCst);
    }

    pub fn spec_example_paging(&self) -> bool {
        self.inner.spec_example_paging.load(Ordering::SeqCst)
    }

    /// Issues a new full-permission token and returns it; the old one gets 401 from now on.
    /// The limited token is a different token and stays valid.
    pub fn rotate_key(&self) -> String {
        let n = self.inner.rotations.fetch_add(1, Ordering::SeqCst) + 1;
        let key = seed::api_key(self.inner.opts.seed, n);
        *write(&self.inner.api_key) = key.clone();
        key
    }

    /// Changes the limit from the next request on (0 turns the limiter off). Requests already
    /// admitted in the current window still count against the new limit. The window slides:
    /// a request is admitted if fewer than the limit were admitted in the 60 s before it, so
    /// once a throttled client waits 60 s from the first request of its burst, it is admitted
    /// again (see `ratelimit`).
    pub fn set_requests_per_minute(&self, n: u32) {
        self.inner.requests_per_minute.store(n, Ordering::SeqCst);
    }

    /// Whether the limiter's 429s carry `Retry-After` from now on.
    pub fn set_retry_after(&self, on: bool) {
        self.inner.retry_after.store(on, Ordering::SeqCst);
    }

    pub fn requests_per_minute(&self) -> u32 {
        self.inner.requests_per_minute.load(Ordering::SeqCst)
    }

    pub fn retry_after(&self) -> bool {
        self.inner.retry_after.load(Ordering::SeqCst)
    }

    pub fn faults(&self) -> &FaultPlan {
        &self.inner.faults
    }

    /// API requests received (everything except the `/_sim/` control surface), including
    /// rate-limited, rejected and faulted ones.
    pub fn request_count(&self) -> u64 {
        self.inner.requests.total()
    }

    /// API requests received whose path starts with `path_prefix` (e.g.
    /// `"/api/v1/customer_assets"`).
    pub fn requests_for(&self, path_prefix: &str) -> u64 {
        self.inner.requests.for_prefix(path_prefix)
    }

    /// 429s sent by the rate limiter (injected `status429` faults are not counted).
    pub fn rate_limited_count(&self) -> u64 {
        self.inner.rate_limited.load(Ordering::SeqCst)
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
