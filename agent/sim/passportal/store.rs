//! The simulator's data, indexed for page-number paging in both documented orders: every
//! document id sorted by id and by label, overall and per type, so an unfiltered or
//! type-filtered page is a slice (O(page)) whatever the page number and direction. The
//! `clientId`, `templateUid` and `searchTxt` filters scan the (type's) ordered list.
//!
//! Each document's list item and `details` are rendered on first use and then served as bytes: a
//! benchmark re-reads the same 20,000 documents sync after sync. A mutation replaces the entry,
//! and with it the cache.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use chrono::{DateTime, Utc};

use super::catalog;
use super::render::{AssetDetails, ClientItem, ListItem, OtherDetails, Resolve, Ts};
use super::seed::{self, OtherDoc, Seeded, Site};
use super::{ASSET_TEMPLATE_ID, SimAssetDoc, SimClient};

pub enum Doc {
    // Boxed: an asset carries three dozen fields, a location or contact a handful.
    Asset(Box<SimAssetDoc>),
    Other(OtherDoc),
}

impl Doc {
    pub fn id(&self) -> i64 {
        match self {
            Doc::Asset(a) => a.id,
            Doc::Other(o) => o.id,
        }
    }

    pub fn client_id(&self) -> i64 {
        match self {
            Doc::Asset(a) => a.client_id,
            Doc::Other(o) => o.client_id,
        }
    }

    pub fn label(&self) -> &str {
        match self {
            Doc::Asset(a) => &a.label,
            Doc::Other(o) => &o.label,
        }
    }

    fn description(&self) -> &str {
        match self {
            Doc::Asset(a) => &a.description,
            Doc::Other(_) => "",
        }
    }

    pub fn doc_type(&self) -> &'static str {
        match self {
            Doc::Asset(_) => catalog::ASSET_TYPE,
            Doc::Other(o) => o.template.doc_type,
        }
    }

    pub fn template_id(&self) -> i64 {
        match self {
            Doc::Asset(_) => ASSET_TEMPLATE_ID,
            Doc::Other(o) => o.template.id,
        }
    }

    fn template_name(&self) -> &'static str {
        match self {
            Doc::Asset(_) => catalog::ASSET_TEMPLATE_NAME,
            Doc::Other(o) => o.template.name,
        }
    }
}

pub struct DocEntry {
    pub doc: Doc,
    /// The label as the `orderBy=label` collation compares it (case-insensitively).
    sort_key: Box<str>,
    item_json: OnceLock<Box<str>>,
    details_json: OnceLock<Box<str>>,
}

impl DocEntry {
    fn new(doc: Doc) -> Self {
        Self {
            sort_key: doc.label().to_lowercase().into_boxed_str(),
            doc,
            item_json: OnceLock::new(),
            details_json: OnceLock::new(),
        }
    }
}

pub struct ClientEntry {
    pub client: SimClient,
    pub site: Site,
    json: OnceLock<Box<str>>,
}

/// How a list is ordered (`orderBy`, `orderDir`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Order {
    pub by_id: bool,
    pub desc: bool,
}

/// The `/api/v2/documents` filters of a request.
#[derive(Debug, Default, Clone)]
pub struct DocFilter {
    /// A documented type; an unknown one matches nothing.
    pub doc_type: Option<String>,
    /// `Some(None)`: a `clientId` that is no integer (matches nothing).
    pub client_id: Option<Option<i64>>,
    /// `Some(None)`: a `templateUid` that names no template id.
    pub template_id: Option<Option<i64>>,
    /// Lower-cased; matched as a substring of the label or the description.
    pub search: Option<String>,
}

pub struct Store {
    organization_id: i64,
    clients: Vec<ClientEntry>,
    client_idx: HashMap<i64, usize>,
    docs: HashMap<i64, DocEntry>,
    by_id: Vec<i64>,
    by_label: Vec<i64>,
    type_by_id: HashMap<&'static str, Vec<i64>>,
    type_by_label: HashMap<&'static str, Vec<i64>>,
    /// Vendor document title → id (tenant-wide: vendors are organization-wide).
    vendors: HashMap<String, i64>,
    /// `(client, reference type, title)` → id, for locations and contacts.
    client_refs: HashMap<(i64, &'static str, String), i64>,
    next_doc_id: i64,
    next_client_id: i64,
    /// Assets added so far (seeds each added asset's RNG).
    added: u64,
    /// Clients added so far (seeds each added client's RNG).
    clients_added: u64,
    /// Documents the key cannot read: listed with `"accessible": false`, detail 403.
    inaccessible: HashSet<i64>,
    /// Documents deleted as soon as a list page carrying them is served.
    vanishing: HashSet<i64>,
    /// The last `last_modified` handed out: mutations get strictly increasing stamps.
    last_stamp: DateTime<Utc>,
}

impl Store {
    pub fn new(seeded: Seeded) -> Self {
        let mut clients: Vec<ClientEntry> = seeded
            .clients
            .into_iter()
            .map(|(client, site)| ClientEntry {
                client,
                site,
                json: OnceLock::new(),
            })
            .collect();
        clients.sort_by_key(|e| e.client.id);
        let client_idx = clients
            .iter()
            .enumerate()
            .map(|(i, e)| (e.client.id, i))
            .collect();
        let mut store = Self {
            organization_id: seeded.organization_id,
            clients,
            client_idx,
            docs: HashMap::with_capacity(seeded.assets.len() + seeded.others.len()),
            by_id: Vec::new(),
            by_label: Vec::new(),
            type_by_id: HashMap::new(),
            type_by_label: HashMap::new(),
            vendors: HashMap::new(),
            client_refs: HashMap::new(),
            next_doc_id: seeded.next_doc_id,
            next_client_id: seeded.next_client_id,
            added: 0,
            clients_added: 0,
            inaccessible: HashSet::new(),
            vanishing: HashSet::new(),
            last_stamp: seed::epoch(),
        };
        for o in seeded.others {
            store.register_reference(&o);
            store.docs.insert(o.id, DocEntry::new(Doc::Other(o)));
        }
        for a in seeded.assets {
            store
                .docs
                .insert(a.id, DocEntry::new(Doc::Asset(Box::new(a))));
        }
        // Build every index by sorting once (inserting one by one would be quadratic).
        let mut ids: Vec<i64> = store.docs.keys().copied().collect();
        ids.sort_unstable();
        for &id in &ids {
            if let Some(e) = store.docs.get(&id) {
                store
                    .type_by_id
                    .entry(e.doc.doc_type())
                    .or_default()
                    .push(id);
            }
        }
        let mut labelled = ids.clone();
        labelled.sort_by(|a, b| store.label_cmp(*a, *b));
        for &id in &labelled {
            if let Some(e) = store.docs.get(&id) {
                store
                    .type_by_label
                    .entry(e.doc.doc_type())
                    .or_default()
                    .push(id);
            }
        }
        store.by_id = ids;
        store.by_label = labelled;
        store
    }

    /// Makes a vendor, location or contact document resolvable by title from asset fields.
    fn register_reference(&mut self, o: &OtherDoc) {
        match o.template.doc_type {
            "vendor" => {
                self.vendors.insert(o.label.clone(), o.id);
            }
            "location" => {
                self.client_refs
                    .insert((o.client_id, "locations", o.label.clone()), o.id);
            }
            "contact" => {
                self.client_refs
                    .insert((o.client_id, "contacts", o.label.clone()), o.id);
            }
            _ => {}
        }
    }

    pub fn organization_id(&self) -> i64 {
        self.organization_id
    }

    pub fn clients(&self) -> impl Iterator<Item = &SimClient> {
        self.clients.iter().map(|e| &e.client)
    }

    pub fn client(&self, id: i64) -> Option<&SimClient> {
        self.clients
            .get(*self.client_idx.get(&id)?)
            .map(|e| &e.client)
    }

    pub fn document_count(&self) -> usize {
        self.docs.len()
    }

    pub fn asset_count(&self) -> usize {
        self.type_by_id.get(catalog::ASSET_TYPE).map_or(0, Vec::len)
    }

    /// Every asset document in id order.
    pub fn assets(&self) -> impl Iterator<Item = &SimAssetDoc> {
        self.type_by_id
            .get(catalog::ASSET_TYPE)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .filter_map(|id| match self.docs.get(id).map(|e| &e.doc) {
                Some(Doc::Asset(a)) => Some(&**a),
                _ => None,
            })
    }

    pub fn asset(&self, id: i64) -> Option<&SimAssetDoc> {
        match self.docs.get(&id).map(|e| &e.doc) {
            Some(Doc::Asset(a)) => Some(a),
            _ => None,
        }
    }

    pub fn doc(&self, id: i64) -> Option<&DocEntry> {
        self.docs.get(&id)
    }

    /// `(label, id)` order, case-insensitive like the database's collation.
    fn label_cmp(&self, a: i64, b: i64) -> Ordering {
        let key = |id: i64| self.docs.get(&id).map_or("", |e| &e.sort_key);
        key(a).cmp(key(b)).then(a.cmp(&b))
    }

    /// The (at most) `per_page` documents matching `f` from the `offset`-th on, in `order`.
    pub fn doc_page(
        &self,
        f: &DocFilter,
        order: Order,
        offset: usize,
        per_page: usize,
    ) -> Vec<&DocEntry> {
        let empty: &[i64] = &[];
        let base = match &f.doc_type {
            Some(t) => {
                let index = if order.by_id {
                    &self.type_by_id
                } else {
                    &self.type_by_label
                };
                index.get(t.as_str()).map_or(empty, Vec::as_slice)
            }
            None if order.by_id => &self.by_id,
            None => &self.by_label,
        };
        let scan = f.client_id.is_some() || f.template_id.is_some() || f.search.is_some();
        if !scan {
            let from = offset.min(base.len());
            let to = offset.saturating_add(per_page).min(base.len());
            let slice = if order.desc {
                &base[base.len() - to..base.len() - from]
            } else {
                &base[from..to]
            };
            let hits = slice.iter().filter_map(|id| self.docs.get(id));
            return if order.desc {
                hits.rev().collect()
            } else {
                hits.collect()
            };
        }
        let matches = |e: &&DocEntry| {
            let d = &e.doc;
            // Vendor documents ignore the client filter: in a live tenant's log, `type=vendor`
            // returned the same vendor for every `clientId`.
            f.client_id
                .is_none_or(|c| d.doc_type() == "vendor" || c == Some(d.client_id()))
                && f.template_id.is_none_or(|t| t == Some(d.template_id()))
                && f.search.as_deref().is_none_or(|q| {
                    e.sort_key.contains(q) || d.description().to_lowercase().contains(q)
                })
        };
        let all = base.iter().filter_map(|id| self.docs.get(id));
        if order.desc {
            all.rev()
                .filter(matches)
                .skip(offset)
                .take(per_page)
                .collect()
        } else {
            all.filter(matches).skip(offset).take(per_page).collect()
        }
    }

    /// The (at most) `per_page` clients from the `offset`-th on, by id.
    pub fn client_page(&self, offset: usize, per_page: usize) -> &[ClientEntry] {
        let from = offset.min(self.clients.len());
        let to = offset.saturating_add(per_page).min(self.clients.len());
        &self.clients[from..to]
    }

    /// A document's list item JSON (rendered once).
    pub fn item_json<'s>(&'s self, e: &'s DocEntry) -> Result<&'s str, serde_json::Error> {
        cached(&e.item_json, || {
            let d = &e.doc;
            let client_name = self.client(d.client_id()).map_or("", |c| c.name.as_str());
            let (custom_id, modified) = match d {
                Doc::Asset(a) => (a.custom_id.as_str(), a.last_modified),
                Doc::Other(o) => ("", o.last_modified),
            };
            serde_json::to_string(&ListItem {
                id: d.id(),
                organization_id: self.organization_id,
                label: d.label(),
                description: d.description(),
                client_id: d.client_id(),
                client_name,
                custom_id,
                template_id: d.template_id(),
                template_name: d.template_name(),
                doc_type: d.doc_type(),
                accessible: !self.inaccessible.contains(&d.id()),
                last_modified: Ts(modified),
            })
        })
    }

    /// A document's `details` JSON (rendered once).
    pub fn details_json<'s>(&'s self, e: &'s DocEntry) -> Result<&'s str, serde_json::Error> {
        cached(&e.details_json, || match &e.doc {
            Doc::Asset(a) => serde_json::to_string(&AssetDetails { doc: a, refs: self }),
            Doc::Other(o) => serde_json::to_string(&OtherDetails(o)),
        })
    }

    /// A client's list JSON (rendered once).
    pub fn client_json<'s>(&'s self, e: &'s ClientEntry) -> Result<&'s str, serde_json::Error> {
        cached(&e.json, || {
            serde_json::to_string(&ClientItem {
                id: e.client.id,
                name: &e.client.name,
            })
        })
    }

    /// Whether the key can read the document (its detail answers 200).
    pub fn accessible(&self, id: i64) -> bool {
        !self.inaccessible.contains(&id)
    }

    /// Makes a document readable or not; `false` if there is no such document.
    pub fn set_accessible(&mut self, id: i64, accessible: bool) -> bool {
        let Some(e) = self.docs.get_mut(&id) else {
            return false;
        };
        // The list item carries the flag: render it again.
        e.item_json = OnceLock::new();
        if accessible {
            self.inaccessible.remove(&id);
        } else {
            self.inaccessible.insert(id);
        }
        true
    }

    /// Ids of the documents the key cannot read, ascending.
    pub fn inaccessible(&self) -> Vec<i64> {
        sorted(&self.inaccessible)
    }

    /// Marks a document to be deleted once a list page carrying it is served; `false` if there
    /// is no such document.
    pub fn vanish_after_listing(&mut self, id: i64) -> bool {
        if !self.docs.contains_key(&id) {
            return false;
        }
        self.vanishing.insert(id);
        true
    }

    /// Ids of the documents waiting to vanish, ascending.
    pub fn vanishing(&self) -> Vec<i64> {
        sorted(&self.vanishing)
    }

    /// Which of `ids` (a list page just served) must vanish now.
    pub fn due_to_vanish(&self, ids: impl Iterator<Item = i64>) -> Vec<i64> {
        if self.vanishing.is_empty() {
            return Vec::new();
        }
        ids.filter(|id| self.vanishing.contains(id)).collect()
    }

    /// Deletes any document (and its flags); `false` if there is no such document.
    pub fn delete_document(&mut self, id: i64) -> bool {
        if !self.docs.contains_key(&id) {
            return false;
        }
        self.unindex(id);
        true
    }

    /// A strictly increasing mutation time from the clock reading `now`: whole seconds
    /// (Passportal's precision), never before the seeded data, and always after the previous
    /// one, so that every change moves `last_modified` (the only change signal a list gives).
    fn next_stamp(&mut self, now: DateTime<Utc>) -> DateTime<Utc> {
        let t = stamp(now).max(self.last_stamp + chrono::Duration::seconds(1));
        self.last_stamp = t;
        t
    }

    /// Lets stamps follow the simulator's clock again after it was set back (a skew change).
    pub fn reset_stamps(&mut self) {
        self.last_stamp = seed::epoch();
    }

    /// Adds a client named `decoded_name` (with its locations and contacts) and returns its id,
    /// the next of the client sequence (so larger than every other client's: it lists last).
    pub fn add_client(&mut self, seed_value: u64, decoded_name: &str, now: DateTime<Utc>) -> i64 {
        self.clients_added += 1;
        let n = self.clients_added;
        let mut gaps = fastrand::Rng::with_seed(seed::mix(seed_value, 0xc1_0000 + n));
        let id = self.next_client_id;
        self.next_client_id += seed::client_id_gap(&mut gaps);
        let ord = u32::try_from(self.clients.len()).unwrap_or(u32::MAX);
        let at = self.next_stamp(now);
        let (client, site, docs) = seed::added_client(seed_value, n, id, decoded_name, ord, at);
        // Ids only grow, so pushing keeps `clients` in id order.
        self.client_idx.insert(id, self.clients.len());
        self.clients.push(ClientEntry {
            client,
            site,
            json: OnceLock::new(),
        });
        for mut doc in docs {
            doc.id = self.next_doc_id;
            self.next_doc_id += 1 + gaps.i64(0..12);
            self.register_reference(&doc);
            self.insert(Doc::Other(doc));
        }
        id
    }

    pub fn add_asset(
        &mut self,
        seed_value: u64,
        client_id: i64,
        now: DateTime<Utc>,
    ) -> Option<i64> {
        let idx = *self.client_idx.get(&client_id)?;
        let at = self.next_stamp(now);
        self.added += 1;
        let mut rng = fastrand::Rng::with_seed(seed::mix(seed_value, 0xadd_0000 + self.added));
        let entry = self.clients.get_mut(idx)?;
        let mut a = seed::make_asset(&mut rng, &mut entry.site, &entry.client, seed_value, at);
        let id = self.next_doc_id;
        self.next_doc_id += 1 + rng.i64(0..12);
        a.id = id;
        self.insert(Doc::Asset(Box::new(a)));
        Some(id)
    }

    pub fn update_asset(
        &mut self,
        id: i64,
        now: DateTime<Utc>,
        f: impl FnOnce(&mut SimAssetDoc),
    ) -> bool {
        let Some(mut a) = self.asset(id).cloned() else {
            return false;
        };
        let client = a.client_id;
        f(&mut a);
        a.id = id;
        a.last_modified = self.next_stamp(now);
        if !self.client_idx.contains_key(&a.client_id) {
            a.client_id = client;
        }
        // Keep the document's flags across the re-insert.
        let flags = (
            self.inaccessible.contains(&id),
            self.vanishing.contains(&id),
        );
        self.unindex(id);
        self.insert(Doc::Asset(Box::new(a)));
        if flags.0 {
            self.inaccessible.insert(id);
        }
        if flags.1 {
            self.vanishing.insert(id);
        }
        true
    }

    pub fn remove_asset(&mut self, id: i64) -> bool {
        if self.asset(id).is_none() {
            return false;
        }
        self.unindex(id);
        true
    }

    /// Removes a document and its index entries.
    fn unindex(&mut self, id: i64) {
        // Positions first, while the entry (and its sort key) is still there.
        let label_pos = self.by_label.binary_search_by(|p| self.label_cmp(*p, id));
        let Some(doc_type) = self.docs.get(&id).map(|e| e.doc.doc_type()) else {
            return;
        };
        let type_label_pos = self
            .type_by_label
            .get(doc_type)
            .map(|v| v.binary_search_by(|p| self.label_cmp(*p, id)));
        if let Ok(pos) = label_pos {
            self.by_label.remove(pos);
        }
        if let (Some(Ok(pos)), Some(v)) = (type_label_pos, self.type_by_label.get_mut(doc_type)) {
            v.remove(pos);
        }
        remove_sorted(&mut self.by_id, id);
        if let Some(v) = self.type_by_id.get_mut(doc_type) {
            remove_sorted(v, id);
        }
        self.docs.remove(&id);
        self.inaccessible.remove(&id);
        self.vanishing.remove(&id);
    }

    fn insert(&mut self, doc: Doc) {
        let id = doc.id();
        let doc_type = doc.doc_type();
        self.docs.insert(id, DocEntry::new(doc));
        if let Err(pos) = self.by_id.binary_search(&id) {
            self.by_id.insert(pos, id);
        }
        let typed = self.type_by_id.entry(doc_type).or_default();
        if let Err(pos) = typed.binary_search(&id) {
            typed.insert(pos, id);
        }
        if let Err(pos) = self.by_label.binary_search_by(|p| self.label_cmp(*p, id)) {
            self.by_label.insert(pos, id);
        }
        let mut typed = self.type_by_label.remove(doc_type).unwrap_or_default();
        if let Err(pos) = typed.binary_search_by(|p| self.label_cmp(*p, id)) {
            typed.insert(pos, id);
        }
        self.type_by_label.insert(doc_type, typed);
    }
}

impl Resolve for Store {
    fn reference(&self, client_id: i64, kind: &str, title: &str) -> Option<i64> {
        match kind {
            "vendors" => self.vendors.get(title).copied(),
            "locations" | "contacts" => {
                let kind = if kind == "locations" {
                    "locations"
                } else {
                    "contacts"
                };
                self.client_refs
                    .get(&(client_id, kind, title.to_owned()))
                    .copied()
            }
            _ => None,
        }
    }
}

/// Mutation time: whole seconds (Passportal's precision), never before the seeded data.
fn stamp(now: DateTime<Utc>) -> DateTime<Utc> {
    seed::whole_seconds(now.max(seed::epoch()))
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

fn sorted(ids: &HashSet<i64>) -> Vec<i64> {
    let mut v: Vec<i64> = ids.iter().copied().collect();
    v.sort_unstable();
    v
}

fn remove_sorted(ids: &mut Vec<i64>, id: i64) {
    if let Ok(pos) = ids.binary_search(&id) {
        ids.remove(pos);
    }
}
