//! The simulator's data, indexed for page-number paging: every asset id in one sorted `Vec`
//! (the API's id-ascending order) plus one per customer and one per asset type, so an unfiltered
//! or singly-filtered page is a slice (O(page)), whatever the page number. Only the free-text
//! `query` and `snmp_enabled` filters, or two filters at once, scan (the smaller index).
//!
//! Each record's JSON is rendered on first use and then served as bytes: a benchmark re-reads the
//! same 20,000 assets sync after sync. A mutation replaces the entry, and with it the cache.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use chrono::{DateTime, Duration, Utc};

use super::render::{Account, AssetDoc, CustomerDoc};
use super::seed::{self, Seeded, Site};
use super::{SimAsset, SimCustomer};

pub struct CustomerEntry {
    pub customer: SimCustomer,
    pub site: Site,
    /// The `/customers` rendering.
    json: OnceLock<Box<str>>,
}

pub struct AssetEntry {
    pub asset: SimAsset,
    json: OnceLock<Box<str>>,
}

impl AssetEntry {
    fn new(asset: SimAsset) -> Self {
        Self {
            asset,
            json: OnceLock::new(),
        }
    }
}

/// The `/customer_assets` filters of a request.
#[derive(Debug, Default, Clone)]
pub struct AssetFilter {
    pub customer_id: Option<i64>,
    pub asset_type_id: Option<i64>,
    /// Lower-cased; matched as a substring of the name or the serial.
    pub query: Option<String>,
    /// `snmp_enabled = b`, SQL-style: assets with `null` match neither value.
    pub snmp_enabled: Option<bool>,
}

pub struct Store {
    account_id: i64,
    customers: Vec<CustomerEntry>,
    customer_by_id: HashMap<i64, usize>,
    assets: HashMap<i64, AssetEntry>,
    /// Every asset id, ascending.
    order: Vec<i64>,
    by_customer: HashMap<i64, Vec<i64>>,
    by_type: HashMap<String, Vec<i64>>,
    /// `(asset_type_id, name)` by id.
    types: Vec<(i64, String)>,
    next_asset_id: i64,
    next_customer_id: i64,
    next_address_id: i64,
    /// Last mutation time handed out; mutations get strictly increasing stamps.
    last_stamp: DateTime<Utc>,
    /// Assets added so far (seeds each added asset's RNG).
    added: u64,
    /// Customers added so far (seeds each added customer's RNG).
    customers_added: u64,
    /// Assets left out of `/customer_assets` but still served by id.
    hidden: HashSet<i64>,
}

impl Store {
    pub fn new(seeded: Seeded) -> Self {
        let mut customers: Vec<CustomerEntry> = seeded
            .customers
            .into_iter()
            .map(|(customer, site)| CustomerEntry {
                customer,
                site,
                json: OnceLock::new(),
            })
            .collect();
        customers.sort_by_key(|e| e.customer.id);
        let customer_by_id = customers
            .iter()
            .enumerate()
            .map(|(i, e)| (e.customer.id, i))
            .collect();
        let mut store = Self {
            account_id: seeded.account_id,
            customers,
            customer_by_id,
            assets: HashMap::with_capacity(seeded.assets.len()),
            order: Vec::with_capacity(seeded.assets.len()),
            by_customer: HashMap::new(),
            by_type: HashMap::new(),
            types: seeded.asset_types,
            next_asset_id: seeded.next_asset_id,
            next_customer_id: seeded.next_customer_id,
            next_address_id: seeded.next_address_id,
            last_stamp: seed::epoch(),
            added: 0,
            customers_added: 0,
            hidden: HashSet::new(),
        };
        let mut assets = seeded.assets;
        assets.sort_by_key(|a| a.id);
        for a in assets {
            // Ascending ids: every index stays sorted by pushing.
            store.order.push(a.id);
            store
                .by_customer
                .entry(a.customer_id)
                .or_default()
                .push(a.id);
            match store.by_type.get_mut(&a.asset_type) {
                Some(ids) => ids.push(a.id),
                None => {
                    store.by_type.insert(a.asset_type.clone(), vec![a.id]);
                }
            }
            store.assets.insert(a.id, AssetEntry::new(a));
        }
        store
    }

    pub fn account_id(&self) -> i64 {
        self.account_id
    }

    pub fn customers(&self) -> impl Iterator<Item = &SimCustomer> {
        self.customers.iter().map(|e| &e.customer)
    }

    pub fn customer_entries(&self) -> &[CustomerEntry] {
        &self.customers
    }

    pub fn customer(&self, id: i64) -> Option<&SimCustomer> {
        self.customer_entry(id).map(|e| &e.customer)
    }

    pub fn customer_entry(&self, id: i64) -> Option<&CustomerEntry> {
        self.customers.get(*self.customer_by_id.get(&id)?)
    }

    pub fn asset_count(&self) -> usize {
        self.order.len()
    }

    /// Every asset in id order.
    pub fn assets(&self) -> impl Iterator<Item = &SimAsset> {
        self.order
            .iter()
            .filter_map(|id| self.assets.get(id).map(|e| &e.asset))
    }

    pub fn asset(&self, id: i64) -> Option<&SimAsset> {
        self.assets.get(&id).map(|e| &e.asset)
    }

    pub fn asset_entry(&self, id: i64) -> Option<&AssetEntry> {
        self.assets.get(&id)
    }

    pub fn asset_types(&self) -> Vec<(i64, String)> {
        self.types.clone()
    }

    fn type_name(&self, id: i64) -> Option<&str> {
        self.types
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, n)| n.as_str())
    }

    /// An asset's JSON (rendered once).
    pub fn asset_json<'s>(
        &'s self,
        e: &'s AssetEntry,
        acct: &Account<'_>,
    ) -> Result<&'s str, serde_json::Error> {
        cached(&e.json, || {
            let c = self
                .customer(e.asset.customer_id)
                .ok_or_else(|| serde::ser::Error::custom("asset of an unknown customer"))?;
            serde_json::to_string(&AssetDoc::new(&e.asset, c, acct))
        })
    }

    /// A customer's `/customers` JSON (rendered once).
    pub fn customer_json<'s>(
        &'s self,
        e: &'s CustomerEntry,
        acct: &Account<'_>,
    ) -> Result<&'s str, serde_json::Error> {
        cached(&e.json, || {
            serde_json::to_string(&CustomerDoc::new(&e.customer, acct, false))
        })
    }

    /// The assets matching `f`: how many there are, and those on 1-based `page` of `per_page`.
    pub fn asset_page(
        &self,
        f: &AssetFilter,
        page: usize,
        per_page: usize,
    ) -> (usize, Vec<&AssetEntry>) {
        let type_name = match f.asset_type_id {
            Some(id) => match self.type_name(id) {
                Some(n) => Some(n),
                None => return (0, Vec::new()),
            },
            None => None,
        };
        let empty: &[i64] = &[];
        let (base, rest_by_type) = match (f.customer_id, type_name) {
            (Some(c), t) => (self.by_customer.get(&c).map_or(empty, Vec::as_slice), t),
            (None, Some(t)) => (self.by_type.get(t).map_or(empty, Vec::as_slice), None),
            (None, None) => (self.order.as_slice(), None),
        };
        let offset = page.saturating_sub(1).saturating_mul(per_page);
        let scan = rest_by_type.is_some()
            || f.query.is_some()
            || f.snmp_enabled.is_some()
            || !self.hidden.is_empty();
        if !scan {
            let from = offset.min(base.len());
            let to = offset.saturating_add(per_page).min(base.len());
            let hits = base[from..to]
                .iter()
                .filter_map(|id| self.assets.get(id))
                .collect();
            return (base.len(), hits);
        }
        let mut total = 0;
        let mut hits = Vec::with_capacity(per_page.min(128));
        for e in base.iter().filter_map(|id| self.assets.get(id)) {
            let a = &e.asset;
            let ok = !self.hidden.contains(&a.id)
                && rest_by_type.is_none_or(|t| a.asset_type == t)
                && f.snmp_enabled.is_none_or(|b| a.snmp_enabled == Some(b))
                && f.query.as_deref().is_none_or(|q| {
                    a.name.to_lowercase().contains(q)
                        || a.asset_serial
                            .as_deref()
                            .is_some_and(|s| s.to_lowercase().contains(q))
                });
            if ok {
                if total >= offset && hits.len() < per_page {
                    hits.push(e);
                }
                total += 1;
            }
        }
        (total, hits)
    }

    /// The assets matching `f` ordered by `updated_at`, newest first (ties: larger id first):
    /// how many there are, and those on 1-based `page` of `per_page`.
    pub fn asset_page_by_recency(
        &self,
        f: &AssetFilter,
        page: usize,
        per_page: usize,
    ) -> (usize, Vec<&AssetEntry>) {
        let (total, mut all) = self.asset_page(f, 1, usize::MAX);
        all.sort_by_key(|e| std::cmp::Reverse((e.asset.updated_at, e.asset.id)));
        let offset = page.saturating_sub(1).saturating_mul(per_page).min(total);
        let to = offset.saturating_add(per_page).min(total);
        all.truncate(to);
        (total, all.split_off(offset))
    }

    /// The ids of the `n` least recently updated assets matching `f` (the end of the
    /// [`Store::asset_page_by_recency`] order), oldest first.
    pub fn least_recently_updated(&self, f: &AssetFilter, n: usize) -> Vec<i64> {
        let (_, all) = self.asset_page_by_recency(f, 1, usize::MAX);
        all.iter().rev().take(n).map(|e| e.asset.id).collect()
    }

    /// Leaves an asset out of `/customer_assets` (or lists it again); `false` if there is no
    /// such asset.
    pub fn set_hidden(&mut self, id: i64, hidden: bool) -> bool {
        if !self.assets.contains_key(&id) {
            return false;
        }
        if hidden {
            self.hidden.insert(id);
        } else {
            self.hidden.remove(&id);
        }
        true
    }

    /// Ids of the assets left out of `/customer_assets`, ascending.
    pub fn hidden(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self.hidden.iter().copied().collect();
        ids.sort_unstable();
        ids
    }

    /// A strictly increasing "now" with Syncro's millisecond precision, never before the
    /// seeded data.
    fn stamp(&mut self) -> DateTime<Utc> {
        let now = Utc::now();
        let now = DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now);
        let next = now.max(self.last_stamp + Duration::milliseconds(1));
        self.last_stamp = next;
        next
    }

    /// Disables (or enables) a customer, as an admin does in the web UI; `false` if there is
    /// no such customer.
    pub fn set_customer_disabled(&mut self, id: i64, disabled: bool) -> bool {
        let stamp = self.stamp();
        let Some(&i) = self.customer_by_id.get(&id) else {
            return false;
        };
        let entry = &mut self.customers[i];
        entry.customer.disabled = disabled;
        entry.customer.updated_at = stamp;
        // The rendering is cached: it must show the change.
        entry.json = OnceLock::new();
        true
    }

    /// Adds an enabled business customer named `business_name` and returns its id, the next of
    /// the account's customer sequence (so larger than every other customer's: it lists last).
    pub fn add_customer(&mut self, seed_value: u64, business_name: &str) -> i64 {
        let stamp = self.stamp();
        self.customers_added += 1;
        let n = self.customers_added;
        let ord = u32::try_from(self.customers.len()).unwrap_or(u32::MAX);
        let (mut customer, site) = seed::added_customer(seed_value, n, business_name, ord, stamp);
        // Syncro's sequences are shared by every account: this account's next ids are larger
        // but not consecutive.
        let mut gaps = fastrand::Rng::with_seed(seed::mix(seed_value, 0xc0_0000 + n));
        let id = self.next_customer_id;
        customer.id = id;
        customer.address_id = self.next_address_id;
        self.next_customer_id += 1 + gaps.i64(0..40_000);
        self.next_address_id += 1 + gaps.i64(0..9_000);
        // Ids only grow, so pushing keeps `customers` in id order.
        self.customer_by_id.insert(id, self.customers.len());
        self.customers.push(CustomerEntry {
            customer,
            site,
            json: OnceLock::new(),
        });
        id
    }

    pub fn add_asset(&mut self, seed_value: u64, customer_id: i64) -> Option<i64> {
        let idx = *self.customer_by_id.get(&customer_id)?;
        let stamp = self.stamp();
        self.added += 1;
        let mut rng = fastrand::Rng::with_seed(seed::mix(seed_value, 0xadd_0000 + self.added));
        let entry = self.customers.get_mut(idx)?;
        let mut a = seed::make_asset(
            &mut rng,
            &mut entry.site,
            &entry.customer,
            seed_value,
            stamp,
            stamp,
        );
        let id = self.next_asset_id;
        self.next_asset_id += 1 + rng.i64(0..50);
        a.id = id;
        self.insert(a);
        Some(id)
    }

    pub fn update_asset(&mut self, id: i64, f: impl FnOnce(&mut SimAsset)) -> bool {
        let stamp = self.stamp();
        let Some(entry) = self.assets.remove(&id) else {
            return false;
        };
        let mut a = entry.asset;
        let (customer, created) = (a.customer_id, a.created_at);
        let asset_type = a.asset_type.clone();
        f(&mut a);
        a.id = id;
        a.created_at = created;
        a.updated_at = stamp;
        if !self.customer_by_id.contains_key(&a.customer_id) {
            a.customer_id = customer;
        }
        if a.customer_id != customer {
            unindex(&mut self.by_customer, &customer, id);
            index(self.by_customer.entry(a.customer_id).or_default(), id);
        }
        if a.asset_type != asset_type {
            if let Some(ids) = self.by_type.get_mut(&asset_type) {
                remove_sorted(ids, id);
                if ids.is_empty() {
                    self.by_type.remove(&asset_type);
                }
            }
            self.ensure_type(&a.asset_type);
            index(self.by_type.entry(a.asset_type.clone()).or_default(), id);
        }
        self.assets.insert(id, AssetEntry::new(a));
        true
    }

    pub fn remove_asset(&mut self, id: i64) -> bool {
        let Some(e) = self.assets.remove(&id) else {
            return false;
        };
        self.hidden.remove(&id);
        remove_sorted(&mut self.order, id);
        unindex(&mut self.by_customer, &e.asset.customer_id, id);
        if let Some(ids) = self.by_type.get_mut(&e.asset.asset_type) {
            remove_sorted(ids, id);
            if ids.is_empty() {
                self.by_type.remove(&e.asset.asset_type);
            }
        }
        true
    }

    fn insert(&mut self, a: SimAsset) {
        let id = a.id;
        index(&mut self.order, id);
        index(self.by_customer.entry(a.customer_id).or_default(), id);
        self.ensure_type(&a.asset_type);
        index(self.by_type.entry(a.asset_type.clone()).or_default(), id);
        self.assets.insert(id, AssetEntry::new(a));
    }

    /// Gives a type name an id if it has none yet (a type a test invented).
    fn ensure_type(&mut self, name: &str) {
        if self.types.iter().any(|(_, n)| n == name) {
            return;
        }
        let id = self.types.iter().map(|(i, _)| *i).max().unwrap_or(150_000) + 7;
        self.types.push((id, name.to_owned()));
    }
}

fn cached(
    slot: &OnceLock<Box<str>>,
    render: impl FnOnce() -> Result<String, serde_json::Error>,
) -> Result<&str, serde_json::Error> {
    if let Some(json) = slot.get() {
        return Ok(json);
    }
    let json = render()?.into_boxed_str();
    // If another request filled it meanwhile, both renderings are equal; keep the first.
    let _ = slot.set(json);
    Ok(slot.get().map_or("", |j| j))
}

fn index(ids: &mut Vec<i64>, id: i64) {
    if let Err(pos) = ids.binary_search(&id) {
        ids.insert(pos, id);
    }
}

fn remove_sorted(ids: &mut Vec<i64>, id: i64) {
    if let Ok(pos) = ids.binary_search(&id) {
        ids.remove(pos);
    }
}

fn unindex(map: &mut HashMap<i64, Vec<i64>>, key: &i64, id: i64) {
    if let Some(ids) = map.get_mut(key) {
        remove_sorted(ids, id);
        if ids.is_empty() {
            map.remove(key);
        }
    }
}
