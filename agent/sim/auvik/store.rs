//! The simulator's data, indexed for paging: per tenant, devices sorted by their id number in a
//! `BTreeMap`, plus a per-type index, so a page request seeks to its cursor in O(log n) and reads
//! only what it returns (and what its filters skip) instead of scanning the account.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;

use chrono::{DateTime, Duration, Utc};

use super::SimDevice;
use super::render::JsonCache;
use super::seed::{self, Seeded, TenantSeed};

/// A tenant with its devices.
pub struct TenantState {
    /// Tenant facts; its `devices` is empty once loaded (they live in `devices` below).
    pub seed: TenantSeed,
    /// The API user has no role on this tenant: requests naming it get 403.
    pub denied: bool,
    /// `enabled` of the tenant's detail: `false` makes the tenant unavailable.
    pub enabled: bool,
    /// `running` of the tenant's detail: `false` makes the tenant unavailable.
    pub running: bool,
    /// Devices by id number; the paging order within the tenant.
    devices: BTreeMap<u64, Entry>,
    by_type: HashMap<String, BTreeSet<u64>>,
    /// Newest `lastModified` ever stored here: an upper bound that lets `modifiedAfter` skip
    /// untouched tenants without looking at their devices.
    max_modified: DateTime<Utc>,
    /// Id number for the next added device (never reused, so ids are never reused).
    next_num: u64,
    /// Position for the next added device's address.
    next_j: usize,
}

/// A device with its JSON, rendered on first use and then served as bytes: a benchmark re-reads
/// the same 100,000 devices page after page. A mutation replaces the entry, and with it the cache.
pub struct Entry {
    pub device: SimDevice,
    pub json: JsonCache,
}

impl TenantState {
    pub fn info(&self) -> &super::SimTenant {
        &self.seed.info
    }

    /// This tenant's devices in paging order.
    pub fn devices(&self) -> impl Iterator<Item = &SimDevice> {
        self.devices.values().map(|e| &e.device)
    }

    /// Whether "data can be gotten from" the tenant "via the API" (the spec's words for
    /// `filter[availableTenants]`): it is enabled and running. A denied tenant stays available;
    /// only the API user's role on it is missing.
    pub fn available(&self) -> bool {
        self.enabled && self.running
    }

    /// Whether the API user can read the tenant's devices and billing: available and not denied.
    pub fn readable(&self) -> bool {
        self.available() && !self.denied
    }
}

/// Where a page starts: just after (or before) this device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub ord: usize,
    pub num: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `page[first]` / `page[after]`.
    Forward,
    /// `page[last]` / `page[before]`.
    Backward,
}

/// A device filter from the query string.
#[derive(Debug, Clone)]
pub enum Filter {
    ModifiedAfter(DateTime<Utc>),
    NotSeenSince(DateTime<Utc>),
    OnlineStatus(String),
    VendorName(String),
    MakeModel(String),
    Network(String),
    ManageStatus(bool),
    DiscoverySnmp(String),
    DiscoveryWmi(String),
    DiscoveryLogin(String),
    DiscoveryVmware(String),
    TrafficInsights(String),
    /// Devices with a warranty record (`/v1/inventory/device/warranty` lists only those).
    HasWarranty,
    /// Devices with a lifecycle record (`/v1/inventory/device/lifecycle`).
    HasLifecycle,
    /// `filter[coveredUnderWarranty]`: the record's warrantyCoverageStatus is "Covered".
    CoveredUnderWarranty(bool),
    /// `filter[coveredUnderService]`: its serviceCoverageStatus is "Covered".
    CoveredUnderService(bool),
    /// `filter[salesAvailability]` and the other lifecycle filters: (field, value).
    LifecycleStatus(LifecycleField, String),
}

/// The lifecycle record's filterable fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LifecycleField {
    Sales,
    Software,
    SecuritySoftware,
    LastSupport,
}

impl Filter {
    fn matches(&self, t: &TenantState, d: &SimDevice) -> bool {
        match self {
            Filter::ModifiedAfter(at) => d.last_modified > *at,
            Filter::NotSeenSince(at) => d.last_seen.is_none_or(|seen| seen < *at),
            Filter::OnlineStatus(s) => d.online_status == *s,
            Filter::VendorName(v) => d.vendor_name.as_deref() == Some(v.as_str()),
            Filter::MakeModel(m) => d.make_model.as_deref() == Some(m.as_str()),
            Filter::Network(id) => t.seed.network_id == *id,
            Filter::ManageStatus(b) => d.manage_status == *b,
            Filter::DiscoverySnmp(s) => d.discovery.snmp == *s,
            Filter::DiscoveryWmi(s) => d.discovery.wmi == *s,
            Filter::DiscoveryLogin(s) => d.discovery.login == *s,
            Filter::DiscoveryVmware(s) => d.discovery.vmware == *s,
            Filter::TrafficInsights(s) => d.traffic_insights_status == *s,
            Filter::HasWarranty => d.warranty.is_some(),
            Filter::HasLifecycle => d.lifecycle.is_some(),
            Filter::CoveredUnderWarranty(b) => d
                .warranty
                .as_ref()
                .is_some_and(|w| (w.coverage_status.as_deref() == Some("Covered")) == *b),
            Filter::CoveredUnderService(b) => d
                .warranty
                .as_ref()
                .is_some_and(|w| (w.service_coverage_status.as_deref() == Some("Covered")) == *b),
            Filter::LifecycleStatus(field, v) => d.lifecycle.as_ref().is_some_and(|l| {
                let value = match field {
                    LifecycleField::Sales => &l.sales_availability,
                    LifecycleField::Software => &l.software_maintenance_status,
                    LifecycleField::SecuritySoftware => &l.security_software_maintenance_status,
                    LifecycleField::LastSupport => &l.last_support_status,
                };
                value.as_deref() == Some(v.as_str())
            }),
        }
    }
}

/// Which devices a list request asks for.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Tenant positions, ascending, without duplicates.
    pub tenants: Vec<usize>,
    pub device_type: Option<String>,
    pub filters: Vec<Filter>,
}

impl Selection {
    /// Whether the tenant can hold no match at all (checked without reading its devices).
    fn skips(&self, t: &TenantState) -> bool {
        let too_old = self.filters.iter().any(|f| match f {
            Filter::ModifiedAfter(at) => t.max_modified <= *at,
            Filter::Network(id) => t.seed.network_id != *id,
            _ => false,
        });
        too_old
            || self
                .device_type
                .as_ref()
                .is_some_and(|ty| !t.by_type.contains_key(ty))
    }

    fn matches(&self, t: &TenantState, d: &SimDevice) -> bool {
        self.filters.iter().all(|f| f.matches(t, d))
    }
}

/// One device on a page.
pub struct Hit<'a> {
    pub ord: usize,
    pub num: u64,
    pub device: &'a SimDevice,
    pub json: &'a JsonCache,
}

pub struct Page<'a> {
    /// In paging order (forward), whichever direction was asked.
    pub hits: Vec<Hit<'a>>,
    /// More matches lie beyond this page in the direction asked.
    pub more: bool,
}

pub struct Store {
    tenants: Vec<TenantState>,
    tenant_by_id: HashMap<String, usize>,
    device_by_id: HashMap<String, (usize, u64)>,
    /// Last mutation time handed out; mutations get strictly increasing stamps.
    last_stamp: DateTime<Utc>,
    /// Devices added so far (seeds each added device's RNG).
    added: u64,
}

impl Store {
    pub fn new(seeded: Seeded) -> Self {
        let mut tenants = Vec::with_capacity(seeded.tenants.len());
        let mut tenant_by_id = HashMap::with_capacity(seeded.tenants.len());
        let total: usize = seeded.tenants.iter().map(|t| t.devices.len()).sum();
        let mut device_by_id = HashMap::with_capacity(total);
        for (ord, ts) in seeded.tenants.into_iter().enumerate() {
            let (state, ids) = TenantState::load(ts);
            for (id, num) in ids {
                device_by_id.insert(id, (ord, num));
            }
            tenant_by_id.insert(state.seed.info.id.clone(), ord);
            tenants.push(state);
        }
        Self {
            tenants,
            tenant_by_id,
            device_by_id,
            last_stamp: seed::epoch(),
            added: 0,
        }
    }

    pub fn tenants(&self) -> impl Iterator<Item = &TenantState> {
        self.tenants.iter()
    }

    pub fn tenant(&self, ord: usize) -> Option<&TenantState> {
        self.tenants.get(ord)
    }

    pub fn root(&self) -> &TenantState {
        // `Store::new` always receives the root tenant first.
        &self.tenants[0]
    }

    pub fn tenant_ord(&self, id: &str) -> Option<usize> {
        self.tenant_by_id.get(id).copied()
    }

    pub fn all_devices(&self) -> impl Iterator<Item = &SimDevice> {
        self.tenants.iter().flat_map(TenantState::devices)
    }

    pub fn device_count(&self) -> usize {
        self.device_by_id.len()
    }

    /// A device and its tenant's position.
    pub fn device(&self, id: &str) -> Option<(usize, &SimDevice)> {
        self.entry(id).map(|(ord, _, e)| (ord, &e.device))
    }

    /// A device's entry with its tenant's position and its id number.
    pub fn entry(&self, id: &str) -> Option<(usize, u64, &Entry)> {
        let (ord, num) = *self.device_by_id.get(id)?;
        Some((ord, num, self.tenants.get(ord)?.devices.get(&num)?))
    }

    /// A strictly increasing "now" (the simulator's clock, `now`) with Auvik's millisecond
    /// precision, never before the seeded data.
    fn stamp(&mut self, now: DateTime<Utc>) -> DateTime<Utc> {
        let now = DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now);
        let next = now.max(self.last_stamp + Duration::milliseconds(1));
        self.last_stamp = next;
        next
    }

    /// Lets stamps follow the simulator's clock again after it was set back (a skew change):
    /// until the next reset, stamps are strictly increasing from the clock's new reading.
    pub fn reset_stamps(&mut self) {
        self.last_stamp = seed::epoch();
    }

    pub fn add_device(
        &mut self,
        seed_value: u64,
        tenant_id: &str,
        now: DateTime<Utc>,
    ) -> Option<String> {
        let ord = self.tenant_ord(tenant_id)?;
        let stamp = self.stamp(now);
        self.added += 1;
        let mut rng = fastrand::Rng::with_seed(seed::mix(seed_value, 0xadd_0000 + self.added));
        let t = self.tenants.get_mut(ord)?;
        let num = t.next_num;
        t.next_num += 256;
        let j = t.next_j;
        t.next_j += 1;
        let device_type = seed::weighted_type(&mut rng);
        let mut names = std::mem::take(&mut t.seed.names);
        let mut d = seed::make_device(&mut rng, &t.seed, j, device_type, num, &mut names, stamp);
        t.seed.names = names;
        d.last_modified = stamp;
        if d.online_status == "online" {
            d.last_seen = Some(stamp);
        }
        let id = d.id.clone();
        t.index(num, d);
        self.device_by_id.insert(id.clone(), (ord, num));
        Some(id)
    }

    pub fn update_device(
        &mut self,
        id: &str,
        now: DateTime<Utc>,
        f: impl FnOnce(&mut SimDevice),
    ) -> bool {
        let Some(&(ord, num)) = self.device_by_id.get(id) else {
            return false;
        };
        let stamp = self.stamp(now);
        let Some(mut d) = self.tenants.get_mut(ord).and_then(|t| t.unindex(num)) else {
            return false;
        };
        let before = d.clone();
        f(&mut d);
        d.id = before.id;
        d.last_modified = stamp;
        let new_ord = match self.tenant_ord(&d.tenant_id) {
            Some(o) => o,
            None => {
                d.tenant_id = before.tenant_id;
                ord
            }
        };
        // Moving between tenants keeps the id (Auvik ids are opaque) and its number, which is
        // unique account-wide because it starts with the old tenant's site number.
        self.device_by_id.insert(d.id.clone(), (new_ord, num));
        if let Some(t) = self.tenants.get_mut(new_ord) {
            t.index(num, d);
        }
        true
    }

    pub fn remove_device(&mut self, id: &str) -> bool {
        let Some((ord, num)) = self.device_by_id.remove(id) else {
            return false;
        };
        self.tenants
            .get_mut(ord)
            .and_then(|t| t.unindex(num))
            .is_some()
    }

    /// Adds a `client` tenant under the root, after every other tenant (so it pages last), and
    /// returns its id.
    pub fn add_tenant(
        &mut self,
        seed_value: u64,
        display_name: &str,
        domain_prefix: &str,
    ) -> Result<String, TenantRefusal> {
        if display_name.trim().is_empty() {
            return Err(TenantRefusal::Invalid(
                "display_name must not be blank".to_owned(),
            ));
        }
        if !seed::valid_domain_prefix(domain_prefix) {
            return Err(TenantRefusal::Invalid(format!(
                "domain_prefix {domain_prefix:?} is not a lower-case DNS label (a-z, 0-9 and \
                 inner hyphens, at most 63 characters)"
            )));
        }
        if self
            .tenants
            .iter()
            .any(|t| t.info().domain_prefix.eq_ignore_ascii_case(domain_prefix))
        {
            return Err(TenantRefusal::Taken);
        }
        // The root's id is the simulator's own 18-digit number, so this cannot fail; a refusal
        // beats a panic if it ever did.
        let root_id = self.root().info().id.parse::<u64>().map_err(|_| {
            TenantRefusal::Invalid("the root tenant's id is not numeric".to_owned())
        })?;
        let ord = self.tenants.len();
        let ts = seed::added_tenant(seed_value, root_id, ord, display_name, domain_prefix);
        let id = ts.info.id.clone();
        if self.tenant_by_id.contains_key(&id) {
            return Err(TenantRefusal::Invalid(format!("tenant id {id} is taken")));
        }
        let (state, _) = TenantState::load(ts);
        self.tenants.push(state);
        self.tenant_by_id.insert(id.clone(), ord);
        Ok(id)
    }

    /// Sets a tenant's `enabled` and `running`; `false` if there is no such tenant.
    pub fn set_state(&mut self, tenant_id: &str, enabled: bool, running: bool) -> bool {
        match self
            .tenant_ord(tenant_id)
            .and_then(|o| self.tenants.get_mut(o))
        {
            Some(t) => {
                t.enabled = enabled;
                t.running = running;
                true
            }
            None => false,
        }
    }

    pub fn set_denied(&mut self, tenant_id: &str, denied: bool) -> bool {
        match self
            .tenant_ord(tenant_id)
            .and_then(|o| self.tenants.get_mut(o))
        {
            Some(t) => {
                t.denied = denied;
                true
            }
            None => false,
        }
    }

    /// Up to `limit` matches after (forward) or before (backward) `from`, and whether more lie
    /// beyond them.
    pub fn page(
        &self,
        sel: &Selection,
        dir: Direction,
        from: Option<Position>,
        limit: usize,
    ) -> Page<'_> {
        let mut hits = Vec::with_capacity(limit.min(1024));
        let mut more = false;
        let ords: Box<dyn Iterator<Item = &usize>> = match dir {
            Direction::Forward => Box::new(sel.tenants.iter()),
            Direction::Backward => Box::new(sel.tenants.iter().rev()),
        };
        'tenants: for &ord in ords {
            let range = match (from, dir) {
                (Some(p), Direction::Forward) if ord < p.ord => continue,
                (Some(p), Direction::Backward) if ord > p.ord => continue,
                (Some(p), Direction::Forward) if ord == p.ord => {
                    (Bound::Excluded(p.num), Bound::Unbounded)
                }
                (Some(p), Direction::Backward) if ord == p.ord => {
                    (Bound::Unbounded, Bound::Excluded(p.num))
                }
                _ => (Bound::Unbounded, Bound::Unbounded),
            };
            let Some(t) = self.tenants.get(ord) else {
                continue;
            };
            if sel.skips(t) {
                continue;
            }
            for (num, e) in t.candidates(sel.device_type.as_deref(), range, dir) {
                if sel.matches(t, &e.device) {
                    if hits.len() == limit {
                        more = true;
                        break 'tenants;
                    }
                    hits.push(Hit {
                        ord,
                        num,
                        device: &e.device,
                        json: &e.json,
                    });
                }
            }
        }
        if dir == Direction::Backward {
            hits.reverse();
        }
        Page { hits, more }
    }

    /// How many devices match (for `meta.totalPages`): O(tenants) without filters, else a
    /// scan of the tenants the filters cannot rule out.
    pub fn count(&self, sel: &Selection) -> usize {
        sel.tenants
            .iter()
            .filter_map(|&ord| self.tenants.get(ord))
            .filter(|t| !sel.skips(t))
            .map(|t| {
                if sel.filters.is_empty() {
                    match &sel.device_type {
                        Some(ty) => t.by_type.get(ty).map_or(0, BTreeSet::len),
                        None => t.devices.len(),
                    }
                } else {
                    let all = (Bound::Unbounded, Bound::Unbounded);
                    t.candidates(sel.device_type.as_deref(), all, Direction::Forward)
                        .filter(|(_, e)| sel.matches(t, &e.device))
                        .count()
                }
            })
            .sum()
    }
}

/// Why a tenant could not be added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantRefusal {
    /// A blank display name or a domain prefix that cannot be one.
    Invalid(String),
    /// Another tenant has the domain prefix.
    Taken,
}

impl TenantState {
    /// A tenant's state with its seeded devices indexed, and the devices' `(id, number)` for
    /// the account-wide index.
    fn load(mut ts: TenantSeed) -> (Self, Vec<(String, u64)>) {
        let list = std::mem::take(&mut ts.devices);
        let next_j = list.len();
        let next_num = list
            .last()
            .map_or(ts.site + 4_237_000, |(num, _)| num + 256);
        let mut state = TenantState {
            next_num,
            seed: ts,
            denied: false,
            enabled: true,
            running: true,
            devices: BTreeMap::new(),
            by_type: HashMap::new(),
            max_modified: DateTime::UNIX_EPOCH,
            next_j,
        };
        let mut ids = Vec::with_capacity(list.len());
        for (num, d) in list {
            ids.push((d.id.clone(), num));
            state.index(num, d);
        }
        (state, ids)
    }

    fn index(&mut self, num: u64, d: SimDevice) {
        self.max_modified = self.max_modified.max(d.last_modified);
        // Look up before inserting: `entry` would allocate a key per device.
        match self.by_type.get_mut(&d.device_type) {
            Some(set) => {
                set.insert(num);
            }
            None => {
                self.by_type
                    .insert(d.device_type.clone(), BTreeSet::from([num]));
            }
        }
        self.devices.insert(
            num,
            Entry {
                device: d,
                json: JsonCache::default(),
            },
        );
    }

    fn unindex(&mut self, num: u64) -> Option<SimDevice> {
        let d = self.devices.remove(&num)?.device;
        if let Some(set) = self.by_type.get_mut(&d.device_type) {
            set.remove(&num);
            if set.is_empty() {
                self.by_type.remove(&d.device_type);
            }
        }
        Some(d)
    }

    /// Devices in `range`, of `device_type` if given, in `dir` order.
    fn candidates<'a>(
        &'a self,
        device_type: Option<&str>,
        range: (Bound<u64>, Bound<u64>),
        dir: Direction,
    ) -> Box<dyn Iterator<Item = (u64, &'a Entry)> + 'a> {
        match device_type {
            None => {
                let it = self.devices.range(range).map(|(n, d)| (*n, d));
                match dir {
                    Direction::Forward => Box::new(it),
                    Direction::Backward => Box::new(it.rev()),
                }
            }
            Some(ty) => {
                let Some(set) = self.by_type.get(ty) else {
                    return Box::new(std::iter::empty());
                };
                let it = set
                    .range(range)
                    .filter_map(|n| Some((*n, self.devices.get(n)?)));
                match dir {
                    Direction::Forward => Box::new(it),
                    Direction::Backward => Box::new(it.rev()),
                }
            }
        }
    }
}
