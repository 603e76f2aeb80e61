//! A simulated Auvik Network Management API (v1), written from Auvik's OpenAPI spec and the
//! research notes (`research/auvik.md`), never from the connector's code.
//!
//! It serves an MSP account: one `multiClient` root tenant and N `client` tenants with seeded
//! devices, behind HTTP Basic auth, with Auvik's JSON:API shapes, cursor paging, nulls and error
//! bodies. Between syncs a test can change the data ([`AuvikSim::add_device`] …), rotate the key,
//! deny a tenant or the billing API, or inject faults; the same is reachable over HTTP under
//! `/_sim/` for tools outside the process (see `control`).
//!
//! # Building a known-answer account
//!
//! Seed with `clients: 0, assets_per_client: 0` (the root tenant alone), add clients with
//! [`AuvikSim::add_tenant`] and devices with [`AuvikSim::add_device`], then pin what identifies
//! and categorises each device in an [`AuvikSim::update_device`] closure. Every attribute is
//! rendered from the [`SimDevice`] at request time; nothing is derived behind it:
//!
//! - `device_type`: `deviceType` (one of the spec's values, see `catalog::DEVICE_TYPES`);
//! - `serial`: `serialNumber` (`None` sends `null`);
//! - `mac_addresses`: one `interface` each in the `deviceDetail`'s `interfaces` relationship;
//! - `manage_status`: `manageStatus` of the `deviceDetail`. A device is billable
//!   (`/v1/billing/usage/*`) when it is managed and of a billable type (see `billing`).
//!
//! Over HTTP the same is `PATCH /_sim/devices/{id}` with `deviceType`, `serialNumber`,
//! `macAddresses` and `manageStatus`.
//!
//! # Switches for what real Auvik does (off by default)
//!
//! Each is reachable from Rust and under `/_sim/` (see `control`), and each rests on evidence
//! collected in `research/real-vendor-behaviour.md`:
//!
//! - **Unavailable tenants** ([`AuvikSim::set_tenant_state`], `PUT /_sim/tenants/{id}/state`):
//!   a tenant's `enabled` and `running` (spec `tenantDetailAttributes`). A tenant that is not
//!   both is *unavailable*: `GET /v1/tenants/detail?filter[availableTenants]=true` leaves it out
//!   and `=false` lists only such tenants (spec: "whether or not a tenant is available, i.e. data
//!   can be gotten from them via the API"); its detail shows the flags; device and billing
//!   requests naming it get 403 in `basicError` shape (like a denied tenant's, with its own
//!   text, which is the simulator's choice); unnamed, its devices are not listed. `GET
//!   /v1/tenants` still lists it. A *denied* tenant ([`AuvikSim::deny_tenant`]: the API user
//!   lacks a role on it, auvik-cli README: "returns 403 while others succeed") is the other
//!   case: it answers 403 but stays available.
//! - **Throttling**: [`Fault::Throttle403`] in the fault plan, with the wording and
//!   `Retry-After` a test picks; `FaultRule::times(Fault::Throttle403 {..}, n)` throttles the next
//!   `n` requests (`.on(prefix)` for one path). n8n-nodes-auvik `helpers/errorHandler.ts`:
//!   "Auvik empirically returns HTTP 403 … when throttling (rather than 429)", matched with
//!   `/rate[\s-]?limit|quota|throttl/i`; node-auvik `src/http.ts` backs off up to 300 s.
//! - **A different public host** ([`AuvikSimOptions::public_base_url`],
//!   [`AuvikSim::set_public_base_url`], `PUT /_sim/public-base-url`): every absolute link the
//!   simulator writes (`links.first/next/prev/last`, resource `self` links, relationship links,
//!   billing links) names that host, e.g. `https://auvikapi.us1.my.auvik.com`, while requests
//!   still arrive on the listening address — as when a client reaches Auvik through a proxy or a
//!   `base_url` that is not Auvik's own host. Auvik's links are absolute URLs on its own host
//!   (spec examples, research/auvik.md §7.2).
//! - **Single device lookup**: `GET /v1/inventory/device/info/{id}` (spec `readSingleDeviceInfo`,
//!   optional `include=deviceDetail`) answers 200 with the device, 404 in `basicError` shape for
//!   an unknown or removed device, and 403 for a device of a denied or unavailable tenant.
//! - **Clock skew** ([`AuvikSimOptions::clock_skew`], [`AuvikSim::set_clock_skew`],
//!   `PUT /_sim/clock`): the simulator's "now" runs ahead of (or behind) the host's clock. It
//!   dates every API response (`Date`, RFC 7231 IMF-fixdate) and every `lastModified` the
//!   simulator writes, and so what `filter[modifiedAfter]` selects (it compares those stamps). The
//!   spec says only "modified after"; a client that sends its own clock's time misses or repeats
//!   changes by the skew (real-vendor-behaviour.md A.12).
//! - **Warranty and lifecycle** (`GET /v1/inventory/device/warranty[/{id}]`,
//!   `/lifecycle[/{id}]`, spec `readMultipleDeviceWarranty`, `readMultipleDeviceLifecycle`):
//!   paged like device info, per `tenants`, listing only devices that have a record
//!   ([`SimDevice::warranty`], [`SimDevice::lifecycle`]; seeded for most Cisco gear, the only
//!   gear Auvik has this data for, dated around the day the simulator was made, with the
//!   nulls and `empty` statuses real data has). A single lookup of a device without a record
//!   answers 404. Switches: [`AuvikSim::deny_lifecycle`] (`PUT /_sim/lifecycle/denied`) makes
//!   both answer 403, as for an API user whose role lacks the "Hardware lifecycle" permission
//!   (research/auvik.md §2); [`AuvikSim::set_odd_warranty_dates`] (`PUT
//!   /_sim/lifecycle/odd-dates`) sends some `warrantyExpirationDate`s as text that is not a
//!   date (the spec: "which is not guaranteed to be a date").
//! - **Bare next links** ([`AuvikSim::set_bare_next_links`], `PUT /_sim/paging/bare-next`):
//!   `links.next` carries only `page[after]` and `page[first]`, as the spec's only example of
//!   a next link does; a client must send its own filters, `tenants` and `include` again.

mod api;
mod billing;
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

use chrono::{DateTime, Utc};
use serde::Serialize;

pub use crate::sim::faults::{Fault, FaultPlan, FaultRule};
pub use crate::sim::server::SimServer;

use crate::sim::clock::SkewClock;
use store::Store;

/// What to simulate. Everything seeded derives from `seed`, `clients` and `assets_per_client`.
#[derive(Debug, Clone)]
pub struct AuvikSimOptions {
    pub seed: u64,
    /// Number of `client` tenants under the MSP's root tenant.
    pub clients: usize,
    /// Devices seeded into each client tenant.
    pub assets_per_client: usize,
    /// Auvik region (`us1` …), used in redirect and dashboard links.
    pub region: String,
    /// The MSP's root (multi-client) tenant's domain prefix.
    pub domain_prefix: String,
    /// The API user's e-mail (the Basic-auth username).
    pub username: String,
    /// The API key (the Basic-auth password); empty means "derive one from the seed".
    pub api_key: String,
    /// The host every absolute link names (e.g. `https://auvikapi.us1.my.auvik.com`, no
    /// trailing slash); `None` names the address the server listens on.
    pub public_base_url: Option<String>,
    /// How far the simulator's clock runs ahead of the host's (negative: behind).
    pub clock_skew: chrono::Duration,
}

impl Default for AuvikSimOptions {
    fn default() -> Self {
        Self {
            seed: 1,
            clients: 5,
            assets_per_client: 40,
            region: "us1".to_owned(),
            domain_prefix: "mspdemo".to_owned(),
            username: "svc-assetd@msp.example".to_owned(),
            api_key: String::new(),
            public_base_url: None,
            clock_skew: chrono::Duration::zero(),
        }
    }
}

/// A tenant as the simulator holds it (ground truth for tests).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SimTenant {
    /// ~18-digit numeric string.
    pub id: String,
    pub domain_prefix: String,
    pub display_name: String,
    /// `"multiClient"` for the MSP's root, `"client"` for its customers.
    pub tenant_type: String,
    pub parent_id: Option<String>,
}

/// Auvik's discovery protocol states for a device (`deviceDetail.discoveryStatus`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SimDiscovery {
    pub snmp: String,
    pub login: String,
    pub wmi: String,
    pub vmware: String,
}

/// A device as the simulator holds it (ground truth for tests). `None` fields are sent as JSON
/// `null`, as real Auvik does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SimDevice {
    /// Opaque id: unpadded base64 of two ~18-digit numbers, like Auvik's.
    pub id: String,
    pub tenant_id: String,
    /// `deviceName`.
    pub name: String,
    /// `deviceType`, one of the spec's 47 values.
    pub device_type: String,
    pub vendor_name: Option<String>,
    pub make_model: Option<String>,
    pub serial: Option<String>,
    pub software: Option<String>,
    pub firmware: Option<String>,
    pub description: String,
    pub ip_addresses: Vec<String>,
    /// Served on the `interfaces` relationship of the device's `deviceDetail`.
    pub mac_addresses: Vec<String>,
    pub online_status: String,
    pub manage_status: bool,
    pub discovery: SimDiscovery,
    pub traffic_insights_status: String,
    #[serde(serialize_with = "ser_time")]
    pub last_modified: DateTime<Utc>,
    /// `lastSeenTime`; absent for devices never seen online.
    #[serde(serialize_with = "ser_opt_time")]
    pub last_seen: Option<DateTime<Utc>>,
    /// Its record of `/v1/inventory/device/warranty`; `None`: it has none (is not listed).
    pub warranty: Option<SimWarranty>,
    /// Its record of `/v1/inventory/device/lifecycle`; `None`: it has none.
    pub lifecycle: Option<SimLifecycle>,
}

/// A device's warranty record (spec `deviceWarrantyAttributes`), each value sent verbatim
/// (`None` sends `null`). The spec types them all as free text: `warrantyExpirationDate` "is
/// what is returned by Cisco device, which is not guaranteed to be a date".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SimWarranty {
    /// `warrantyCoverageStatus`, e.g. "Covered", "Not Covered".
    pub coverage_status: Option<String>,
    /// `warrantyExpirationDate`, e.g. "2027-07-31T00:00:00.000Z".
    pub expiration_date: Option<String>,
    /// `serviceCoverageStatus`.
    pub service_coverage_status: Option<String>,
    /// `serviceAttachmentStatus`.
    pub service_attachment_status: Option<String>,
    /// `contractRenewalAvailability`.
    pub contract_renewal_availability: Option<String>,
    /// `recommendedSoftwareVersion`.
    pub recommended_software_version: Option<String>,
}

/// A device's lifecycle record (spec `deviceLifecycleAttributes`): each one of the spec's
/// enum `covered, available, expired, securityOnly, unpublished, empty` (`None` sends `null`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SimLifecycle {
    pub sales_availability: Option<String>,
    pub software_maintenance_status: Option<String>,
    pub security_software_maintenance_status: Option<String>,
    pub last_support_status: Option<String>,
}

// chrono is built without its serde feature here; times serialize in Auvik's own format.
fn ser_time<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&render::Ts(*t))
}

fn ser_opt_time<S: serde::Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => ser_time(t, s),
        None => s.serialize_none(),
    }
}

/// A running-or-not simulated Auvik account. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct AuvikSim {
    inner: Arc<Inner>,
}

/// Shared state behind every clone and every HTTP task.
struct Inner {
    opts: AuvikSimOptions,
    api_key: RwLock<String>,
    rotations: AtomicU64,
    store: RwLock<Store>,
    faults: FaultPlan,
    requests: RequestLog,
    /// Responses sent so far; its parity picks the Content-Type variant.
    responses: AtomicU64,
    /// The API user's role lacks the billing-view permission: the billing endpoints answer 403.
    billing_denied: AtomicBool,
    /// The API user's role lacks the "Hardware lifecycle" permission: the warranty and
    /// lifecycle endpoints answer 403.
    lifecycle_denied: AtomicBool,
    /// Some warranty expiration dates are sent as text that is not a date.
    odd_warranty_dates: AtomicBool,
    bare_next_links: AtomicBool,
    /// The host links name, if not the listening address.
    public_base_url: RwLock<Option<Arc<str>>>,
    clock: SkewClock,
}

impl AuvikSim {
    /// Seeds a simulator. Deterministic for `(seed, clients, assets_per_client)` and the
    /// naming options.
    pub fn new(opts: AuvikSimOptions) -> Self {
        let api_key = if opts.api_key.is_empty() {
            seed::api_key(opts.seed, 0)
        } else {
            opts.api_key.clone()
        };
        let store = Store::new(seed::generate(&opts));
        let public_base_url = opts.public_base_url.as_deref().map(normalize_base);
        let clock = SkewClock::new(opts.clock_skew);
        Self {
            inner: Arc::new(Inner {
                opts,
                api_key: RwLock::new(api_key),
                rotations: AtomicU64::new(0),
                store: RwLock::new(store),
                faults: FaultPlan::new(),
                requests: RequestLog::default(),
                responses: AtomicU64::new(0),
                billing_denied: AtomicBool::new(false),
                lifecycle_denied: AtomicBool::new(false),
                odd_warranty_dates: AtomicBool::new(false),
                bare_next_links: AtomicBool::new(false),
                public_base_url: RwLock::new(public_base_url),
                clock,
            }),
        }
    }

    /// Serves the API (and `/_sim/`) on `listener` in a spawned task until the returned server
    /// is dropped.
    pub async fn start(&self, listener: tokio::net::TcpListener) -> std::io::Result<SimServer> {
        let sim = self.clone();
        SimServer::spawn(listener, move |base_url, shutdown| {
            api::router(sim, base_url, shutdown)
        })
    }

    pub fn username(&self) -> String {
        self.inner.opts.username.clone()
    }

    pub fn api_key(&self) -> String {
        read(&self.inner.api_key).clone()
    }

    pub fn domain_prefix(&self) -> String {
        self.inner.opts.domain_prefix.clone()
    }

    pub fn region(&self) -> String {
        self.inner.opts.region.clone()
    }

    /// The root tenant first, then the clients in id order.
    pub fn tenants(&self) -> Vec<SimTenant> {
        self.store().tenants().map(|t| t.info().clone()).collect()
    }

    /// Every device, in the order the API pages them (by tenant, then by id number).
    pub fn devices(&self) -> Vec<SimDevice> {
        self.store().all_devices().cloned().collect()
    }

    /// One device by id.
    pub fn device(&self, id: &str) -> Option<SimDevice> {
        self.store().device(id).map(|(_, d)| d.clone())
    }

    /// Adds a `client` tenant named `display_name` under the MSP's root tenant and returns its
    /// id: ~18 digits from the same formula as the seeded clients' ids, larger than every other
    /// tenant's. It is listed after them by `/v1/tenants` and `/v1/tenants/detail`, covered by
    /// the root's billing usage, and takes devices through [`AuvikSim::add_device`].
    ///
    /// `None` if another tenant has `domain_prefix` (compared ignoring case), if it is no
    /// lower-case DNS label (`a-z`, `0-9`, inner `-`, at most 63 characters: Auvik serves the
    /// tenant at `https://<prefix>.my.auvik.com`), or if `display_name` is blank.
    pub fn add_tenant(&self, display_name: &str, domain_prefix: &str) -> Option<String> {
        self.try_add_tenant(display_name, domain_prefix).ok()
    }

    /// [`AuvikSim::add_tenant`], saying why it refused.
    fn try_add_tenant(
        &self,
        display_name: &str,
        domain_prefix: &str,
    ) -> Result<String, store::TenantRefusal> {
        let seed = self.inner.opts.seed;
        self.store_mut()
            .add_tenant(seed, display_name, domain_prefix)
    }

    /// Adds a seeded-looking device to `tenant_id` and returns its id.
    ///
    /// # Panics
    /// If `tenant_id` is not a tenant of this simulator (use [`AuvikSim::try_add_device`] for
    /// untrusted input).
    pub fn add_device(&self, tenant_id: &str) -> String {
        self.try_add_device(tenant_id)
            .unwrap_or_else(|| panic!("add_device: no tenant {tenant_id:?} in this simulator"))
    }

    /// Adds a device to `tenant_id`; `None` if there is no such tenant.
    pub fn try_add_device(&self, tenant_id: &str) -> Option<String> {
        let seed = self.inner.opts.seed;
        let now = self.now();
        self.store_mut().add_device(seed, tenant_id, now)
    }

    /// Changes a device in place; its `lastModified` becomes now (the simulator's clock). Its id
    /// cannot change; a `tenant_id` that names no tenant is ignored. `false` if there is no such
    /// device.
    pub fn update_device(&self, id: &str, f: impl FnOnce(&mut SimDevice)) -> bool {
        let now = self.now();
        self.store_mut().update_device(id, now, f)
    }

    /// Removes a device; `false` if there is no such device.
    pub fn remove_device(&self, id: &str) -> bool {
        self.store_mut().remove_device(id)
    }

    /// Issues a new API key and returns it; the old one gets 401 from now on.
    pub fn rotate_key(&self) -> String {
        let n = self.inner.rotations.fetch_add(1, Ordering::SeqCst) + 1;
        let key = seed::api_key(self.inner.opts.seed, n);
        *write(&self.inner.api_key) = key.clone();
        key
    }

    /// Takes away (or gives back) the API user's role on a tenant: requests naming it get 403,
    /// and unnamed its devices are not listed. The tenant stays *available*
    /// (`filter[availableTenants]=true` still lists it): what is missing is the user's role, not
    /// the tenant ([`AuvikSim::set_tenant_state`] is the other case). Returns `false` if there
    /// is no such tenant.
    pub fn deny_tenant(&self, tenant_id: &str, denied: bool) -> bool {
        self.store_mut().set_denied(tenant_id, denied)
    }

    /// Sets a tenant's `enabled` and `running` (both `true` when seeded or added). A tenant that
    /// is not both is unavailable: `filter[availableTenants]=true` leaves it out of
    /// `/v1/tenants/detail` (`=false` lists only such tenants), its detail shows the flags, and
    /// device and billing requests naming it get 403 (unnamed, its devices are not listed).
    /// `/v1/tenants` still lists it. Returns `false` if there is no such tenant.
    pub fn set_tenant_state(&self, tenant_id: &str, enabled: bool, running: bool) -> bool {
        self.store_mut().set_state(tenant_id, enabled, running)
    }

    /// A tenant's `(enabled, running)`; `None` if there is no such tenant.
    pub fn tenant_state(&self, tenant_id: &str) -> Option<(bool, bool)> {
        let store = self.store();
        let t = store.tenant(store.tenant_ord(tenant_id)?)?;
        Some((t.enabled, t.running))
    }

    /// Makes every absolute link the simulator writes name `url` (e.g.
    /// `https://auvikapi.us1.my.auvik.com`; a trailing `/` is dropped) instead of the address the
    /// server listens on; `None` goes back to the listening address. Requests still arrive on
    /// the listening address.
    pub fn set_public_base_url(&self, url: Option<&str>) {
        *write(&self.inner.public_base_url) = url.map(normalize_base);
    }

    /// The host links name, if set ([`AuvikSim::set_public_base_url`]).
    pub fn public_base_url(&self) -> Option<String> {
        read(&self.inner.public_base_url)
            .as_deref()
            .map(str::to_owned)
    }

    /// Sets how far the simulator's clock runs ahead of the host's (negative: behind). It dates
    /// every API response (`Date`) and every `lastModified` written from now on, and so decides
    /// what `filter[modifiedAfter]` selects. Stamps written after this follow the new clock even
    /// when it was set back (until then they only ever increase).
    pub fn set_clock_skew(&self, skew: chrono::Duration) {
        self.inner.clock.set_skew(skew);
        self.store_mut().reset_stamps();
    }

    pub fn clock_skew(&self) -> chrono::Duration {
        self.inner.clock.skew()
    }

    /// The simulator's "now": the host's clock plus the skew.
    pub fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    /// Takes away (or gives back) the API user's billing-view permission (research §2: the
    /// billing API needs "a user with permissions to view billing information"): while denied,
    /// `/v1/billing/usage/client` and `/v1/billing/usage/device/{id}` answer 403 with Auvik's
    /// error body; every other endpoint is unaffected.
    pub fn deny_billing(&self, denied: bool) {
        self.inner.billing_denied.store(denied, Ordering::SeqCst);
    }

    /// Whether the billing endpoints are denied ([`AuvikSim::deny_billing`]).
    pub fn billing_denied(&self) -> bool {
        self.inner.billing_denied.load(Ordering::SeqCst)
    }

    /// Takes away (or gives back) the API user's "Hardware lifecycle" permission: while
    /// denied, `/v1/inventory/device/warranty[/{id}]` and `/lifecycle[/{id}]` answer 403 with
    /// Auvik's error body; every other endpoint is unaffected.
    pub fn deny_lifecycle(&self, denied: bool) {
        self.inner.lifecycle_denied.store(denied, Ordering::SeqCst);
    }

    pub fn lifecycle_denied(&self) -> bool {
        self.inner.lifecycle_denied.load(Ordering::SeqCst)
    }

    /// Sends the `warrantyExpirationDate` of about one warranty record in three as text that
    /// is not a date ([`render::odd_expiration`]: which ones is fixed by the device), as
    /// Cisco's data sometimes has it; the stored records are unchanged.
    pub fn set_odd_warranty_dates(&self, on: bool) {
        self.inner.odd_warranty_dates.store(on, Ordering::SeqCst);
    }

    pub fn odd_warranty_dates(&self) -> bool {
        self.inner.odd_warranty_dates.load(Ordering::SeqCst)
    }

    /// Writes each listing's `links.next` with only `page[after]` and `page[first]`, as the
    /// spec's one example of it does (`"next": ".../v1/inventory/device/info?page[after]=…
    /// &page[first]=100"`): the cursor is a position, and the request's other parameters
    /// (`tenants`, `include`, `fields[…]`, `filter[…]`) are not carried into the link. Off,
    /// links carry them (as the simulator's choice).
    pub fn set_bare_next_links(&self, on: bool) {
        self.inner.bare_next_links.store(on, Ordering::SeqCst);
    }

    pub fn bare_next_links(&self) -> bool {
        self.inner.bare_next_links.load(Ordering::SeqCst)
    }

    pub fn faults(&self) -> &FaultPlan {
        &self.inner.faults
    }

    /// API requests received (everything except the `/_sim/` control surface), including
    /// rejected and faulted ones.
    pub fn request_count(&self) -> u64 {
        self.inner.requests.total()
    }

    /// API requests received whose path starts with `path_prefix`.
    pub fn requests_for(&self, path_prefix: &str) -> u64 {
        self.inner.requests.for_prefix(path_prefix)
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

/// A base URL without its trailing slashes, shared by every rendering that uses it.
fn normalize_base(url: &str) -> Arc<str> {
    Arc::from(url.trim().trim_end_matches('/'))
}

// The simulator's locks guard plain data that every writer leaves consistent before it can
// panic, so a poisoned lock is still safe to use; a test that panicked must not wedge the server.
fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|e| e.into_inner())
}
