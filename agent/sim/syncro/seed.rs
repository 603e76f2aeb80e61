//! Deterministic generation of the simulated Syncro account: customers and their assets.
//!
//! Every customer and its assets draw from the customer's own RNG (seeded from the seed and the
//! customer's place in the name list). Ids are then handed out in creation order, as Syncro's
//! account-wide sequences do. A straight loop plus two sorts: 20,000 assets take about 0.1 s in a
//! release build (1.5 s in a debug one).

use std::collections::HashSet;

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{Map, Value, json};

use super::catalog::{self, Computer, Gear, Machine, Nic, SerialStyle};
use super::render::Ts;
use super::{SimAsset, SimCustomer, SyncroSimOptions};
use crate::sim::names;

/// Seeded timestamps lie before this instant, so that any mutation (stamped with the wall
/// clock) is newer than every seeded record.
pub fn epoch() -> DateTime<Utc> {
    utc(2025, 6, 1)
}

fn utc(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::UNIX_EPOCH)
}

/// SplitMix64 step: turns related inputs into unrelated seeds.
pub fn mix(a: u64, b: u64) -> u64 {
    let mut z = a ^ b.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The full-permission token after `rotation` rotations. Opaque to clients; only its value
/// matters.
pub fn api_key(seed: u64, rotation: u64) -> String {
    let a = mix(seed, 0x7379_6e63_0000 + rotation);
    let b = mix(a, rotation);
    let c = mix(b, seed);
    format!("T{a:016x}-{b:016x}{c:016x}")
}

/// The token whose role lacks the asset permissions.
pub fn limited_api_key(seed: u64) -> String {
    let a = mix(seed, 0x006c_696d_6974_6564);
    let b = mix(a, 7);
    let c = mix(b, seed);
    format!("T{a:016x}-{b:016x}{c:016x}")
}

/// What generation produces: customers (by id) with their site facts, assets (by id).
pub struct Seeded {
    /// Syncro's id for the MSP's account (in `rmm_store` and `address`).
    pub account_id: i64,
    pub customers: Vec<(SimCustomer, Site)>,
    pub assets: Vec<SimAsset>,
    /// `(asset_type_id, name)`.
    pub asset_types: Vec<(i64, String)>,
    /// Id for the next added asset.
    pub next_asset_id: i64,
    /// Id for the next added customer, and for its address record: the sequences go on.
    pub next_customer_id: i64,
    pub next_address_id: i64,
}

/// Per-customer facts that asset generation needs, kept so added assets fit in.
#[derive(Debug, Clone)]
pub struct Site {
    /// Host-name prefix, e.g. `CONTOSO`.
    pub host_prefix: String,
    /// Lower-case handle for URLs and mail domains.
    pub slug: String,
    /// AD domain, or `None` for a workgroup.
    pub ad_domain: Option<String>,
    /// First address of the customer's /22 under 10/8.
    pub net_base: u32,
    pub wan_ip: [u8; 4],
    /// The customer's position in generation (keeps MACs unique account-wide).
    pub ord: u32,
    pub individual: bool,
    /// Counters for names, addresses and MACs.
    pub next_host: u32,
    pub next_adapter: u32,
    pub next_seq: u32,
}

/// The three kinds of customer an MSP's Syncro holds.
enum Kind {
    /// A client also known to the other tools under `shared` (position `i` of the name list).
    Business { shared: String, spelling: Spelling },
    /// A walk-in person: no `business_name`.
    Individual,
    /// A former client, disabled; its name is not in the other tools.
    Former { name: String },
}

pub fn generate(opts: &SyncroSimOptions) -> Seeded {
    let n = opts.clients;
    let individuals = n / 8;
    let former = n / 10;
    // The first `n` names are the same ones the other simulators use: the list is prefix-stable.
    let all_names = names::client_names(opts.seed, n + former);
    // Exactly 15% of the clients (rounded) are spelled differently in Syncro, and 3% differ only
    // trivially, whichever they are: per-client dice would leave a 30-client demo with one or five.
    let mut order: Vec<usize> = (0..n).collect();
    fastrand::Rng::with_seed(mix(opts.seed, 0x5e11)).shuffle(&mut order);
    let (respelled, trivial) = ((n * 15 + 50) / 100, (n * 3 + 50) / 100);
    let mut spellings = vec![Spelling::Same; n];
    for (k, &i) in order.iter().enumerate() {
        if k < respelled {
            spellings[i] = Spelling::Respelled;
        } else if k < respelled + trivial {
            spellings[i] = Spelling::Trivial;
        }
    }
    let mut kinds: Vec<(u64, Kind)> = Vec::with_capacity(n + individuals + former);
    for (i, name) in all_names.iter().enumerate() {
        let kind = if i < n {
            Kind::Business {
                shared: name.clone(),
                spelling: spellings[i],
            }
        } else {
            Kind::Former { name: name.clone() }
        };
        kinds.push((i as u64, kind));
    }
    for j in 0..individuals {
        kinds.push(((1 << 40) | j as u64, Kind::Individual));
    }
    // Names in use, so a Syncro spelling never lands on another client's name.
    let mut taken: HashSet<String> = all_names.iter().cloned().collect();
    let mut people = HashSet::new();
    let mut drafts: Vec<Draft> = kinds
        .into_iter()
        .map(|(tag, kind)| {
            let rng = fastrand::Rng::with_seed(mix(opts.seed, tag ^ 0xc057));
            draft_customer(rng, tag, kind, &mut taken, &mut people)
        })
        .collect();
    // Customer ids follow creation time; Syncro's sequences are shared by every account, so
    // one account's ids are increasing but far apart.
    drafts.sort_by_key(|d| (d.customer.created_at, d.tag));
    let mut ids = fastrand::Rng::with_seed(mix(opts.seed, 0x1d5));
    let mut next_customer = 21_400_000 + (mix(opts.seed, 3) % 2_000_000) as i64;
    let mut next_address = 5_100_000 + (mix(opts.seed, 4) % 900_000) as i64;
    for (ord, d) in drafts.iter_mut().enumerate() {
        d.customer.id = next_customer;
        d.customer.address_id = next_address;
        d.site.ord = ord as u32;
        d.site.net_base = net_base(ord);
        next_customer += 1 + ids.i64(0..40_000);
        next_address += 1 + ids.i64(0..9_000);
    }

    let per = opts.assets_per_client;
    let mut assets: Vec<(DateTime<Utc>, u32, SimAsset)> = Vec::new();
    for d in &mut drafts {
        let count = if d.is_business { per } else { per.div_ceil(10) };
        let rng = &mut d.rng;
        let c = &d.customer;
        let lo = c.created_at + Duration::days(1);
        // A former client's devices stopped changing when it left.
        let hi = if c.disabled {
            c.updated_at
        } else {
            epoch() - Duration::hours(1)
        };
        for k in 0..count {
            let created = between(rng, lo, hi.max(lo));
            let updated = between(rng, created, hi.max(created));
            let a = make_asset(rng, &mut d.site, c, opts.seed, created, updated);
            assets.push((created, k as u32, a));
        }
    }
    // Asset ids in creation order: mostly in the 12–14 million range real accounts show, the
    // newest few past 2^31 (other Syncro ids already are), so clients must use 64-bit ids.
    assets.sort_by_key(|a| (a.0, a.2.customer_id, a.1));
    let total = assets.len();
    let high = if total >= 2 { (total / 20).max(1) } else { 0 };
    let gap = (1_600_000 / total.max(1) as i64).clamp(2, 50_000);
    let mut next_id = 12_000_000 + (mix(opts.seed, 5) % 400_000) as i64;
    let mut out = Vec::with_capacity(total);
    for (i, (_, _, mut a)) in assets.into_iter().enumerate() {
        if i == total - high {
            next_id = (1 << 31) + (mix(opts.seed, 6) % 5_000_000) as i64;
        }
        a.id = next_id;
        next_id += 1 + ids.i64(0..gap);
        out.push(a);
    }

    let type_base = 150_000 + (mix(opts.seed, 7) % 800_000) as i64;
    let asset_types = catalog::ASSET_TYPES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            (
                type_base + i as i64 * 7 + (mix(opts.seed, i as u64) % 5) as i64,
                (*name).to_owned(),
            )
        })
        .collect();
    Seeded {
        account_id: 100_000 + (mix(opts.seed, 8) % 90_000) as i64,
        customers: drafts.into_iter().map(|d| (d.customer, d.site)).collect(),
        assets: out,
        asset_types,
        next_asset_id: next_id,
        next_customer_id: next_customer,
        next_address_id: next_address,
    }
}

/// A business customer a test adds after seeding, named `business_name` exactly: enabled, with a
/// contact person, address, e-mail and site drawn like a seeded client's, created (and last
/// updated) `at`. `n` counts added customers (it seeds their RNGs); `ord` is the customer's
/// position in the account (it keeps the site's network and MACs apart from the others'). The id
/// and address id are the caller's to set.
pub fn added_customer(
    seed: u64,
    n: u64,
    business_name: &str,
    ord: u32,
    at: DateTime<Utc>,
) -> (SimCustomer, Site) {
    // Tags of seeded customers stay below 2^41; added ones start at 2^42.
    let tag = (1 << 42) | n;
    let rng = fastrand::Rng::with_seed(mix(seed, tag ^ 0xc057));
    let kind = Kind::Business {
        shared: business_name.to_owned(),
        spelling: Spelling::Same,
    };
    let mut d = draft_customer(rng, tag, kind, &mut HashSet::new(), &mut HashSet::new());
    d.customer.created_at = at;
    d.customer.updated_at = at;
    // Which name the other simulators use for it is the test's business, not the seed's.
    d.customer.shared_name = None;
    d.site.ord = ord;
    d.site.net_base = net_base(ord as usize);
    (d.customer, d.site)
}

struct Draft {
    tag: u64,
    is_business: bool,
    customer: SimCustomer,
    site: Site,
    /// The customer's own RNG, carried on to its assets.
    rng: fastrand::Rng,
}

fn net_base(ord: usize) -> u32 {
    // A /22 per customer under 10/8: 64 per second octet.
    let (a, b) = (((ord >> 6) & 0xff) as u32, ((ord & 63) << 2) as u32);
    (10 << 24) | (a << 16) | (b << 8)
}

fn draft_customer(
    mut own: fastrand::Rng,
    tag: u64,
    kind: Kind,
    taken: &mut HashSet<String>,
    people: &mut HashSet<String>,
) -> Draft {
    let rng = &mut own;
    let (first, last) = loop {
        let f = *pick(rng, catalog::FIRST_NAMES);
        let l = *pick(rng, catalog::LAST_NAMES);
        // Distinct people, while there are enough pairs to go round.
        if people.insert(format!("{f} {l}")) || people.len() > 1500 {
            break (f, l);
        }
    };
    let fullname = format!("{first} {last}");
    let (business_name, shared_name, disabled, created, is_business) = match &kind {
        Kind::Business { shared, spelling } => {
            let name = syncro_spelling(rng, shared, *spelling, taken);
            let created = between(rng, utc(2016, 1, 1), utc(2024, 12, 1));
            (Some(name), Some(shared.clone()), false, created, true)
        }
        Kind::Individual => {
            let created = between(rng, utc(2017, 1, 1), utc(2025, 4, 1));
            (None, None, false, created, false)
        }
        Kind::Former { name } => {
            let created = between(rng, utc(2015, 1, 1), utc(2019, 6, 1));
            (Some(name.clone()), None, true, created, false)
        }
    };
    let base_for_slug = business_name
        .as_deref()
        .or(shared_name.as_deref())
        .unwrap_or(&fullname);
    let slug = names::slug(base_for_slug);
    let updated = if disabled {
        // Disabled when the client left, a year or more after joining.
        between(rng, created + Duration::days(365), utc(2023, 6, 1))
    } else {
        between(rng, created, epoch() - Duration::days(1))
    };
    let (city, state, zip3) = *pick(rng, catalog::CITIES);
    let street = format!("{} {}", rng.u32(100..9900), pick(rng, catalog::STREETS));
    let email = if is_business || disabled {
        format!(
            "{}.{}@{slug}.com",
            first.to_lowercase(),
            last.to_lowercase().replace(['\'', ' '], "")
        )
    } else {
        format!(
            "{}{}{}@{}",
            first.to_lowercase(),
            last.to_lowercase().replace(['\'', ' '], ""),
            rng.u8(1..99),
            pick(rng, catalog::MAIL_DOMAINS)
        )
    };
    let area = rng.u16(201..989);
    let phone = match rng.u8(..3) {
        0 => format!("({area}) 555-{:04}", rng.u16(100..9999)),
        1 => format!("{area}-555-{:04}", rng.u16(100..9999)),
        _ => format!("{area}555{:04}", rng.u16(100..9999)),
    };
    let mobile = (rng.u8(..100) < 40)
        .then(|| format!("{}-555-{:04}", rng.u16(201..989), rng.u16(100..9999)));
    let business_then_name = business_name.clone().unwrap_or_else(|| fullname.clone());
    let business_and_full_name = match &business_name {
        Some(b) => format!("{b} - {fullname}"),
        None => fullname.clone(),
    };
    let properties = if is_business && rng.u8(..100) < 15 {
        json!({ "Contract": pick(rng, &["Managed Services Agreement", "Block hours", "Break/fix"]), "Tier": pick(rng, &["Gold", "Silver", "Bronze"]) })
    } else {
        json!({})
    };
    let notes = match &kind {
        Kind::Former { .. } => Some(format!(
            "Cancelled managed services in {}",
            updated.format("%B %Y")
        )),
        _ if rng.u8(..100) < 20 => Some(pick(rng, catalog::NOTES).to_string()),
        _ => None,
    };
    let host_prefix: String = slug.to_uppercase().chars().take(7).collect();
    let ad_domain = match (is_business || disabled, rng.u8(..100)) {
        (true, 0..60) => Some(format!("{slug}.local")),
        (true, 60..80) => Some(format!("corp.{slug}.com")),
        _ => None,
    };
    let customer = SimCustomer {
        id: 0,
        business_name,
        firstname: first.to_owned(),
        lastname: last.to_owned(),
        fullname,
        business_then_name,
        business_and_full_name,
        email,
        phone,
        mobile,
        address: Some(street),
        address_2: (rng.u8(..100) < 30).then(|| format!("Suite {}", rng.u16(100..600))),
        city: Some(city.to_owned()),
        state: Some(state.to_owned()),
        zip: Some(format!("{zip3}{:02}", rng.u8(1..99))),
        notes,
        disabled,
        no_email: rng.u8(..100) < 10,
        properties,
        created_at: created,
        updated_at: updated,
        shared_name,
        portal_key: alnum_lower(rng, 20),
        address_id: 0,
    };
    let wan_ip = [203, 0, 113, rng.u8(1..254)];
    Draft {
        tag,
        is_business,
        customer,
        site: Site {
            host_prefix,
            slug,
            ad_domain,
            net_base: 0,
            wan_ip,
            ord: 0,
            individual: !is_business && !disabled,
            next_host: 0,
            next_adapter: 0,
            next_seq: 1,
        },
        rng: own,
    }
}

/// How a client's name is spelled in Syncro compared with the other tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spelling {
    Same,
    /// A different legal suffix, punctuation or wording ("Contoso Ltd" / "Contoso, Ltd.").
    Respelled,
    /// Only a trailing space, or `&amp;` for `&`: CONTRACT §5's grouping still treats it as equal.
    Trivial,
}

/// The client's name as Syncro holds it; never one another customer already has.
fn syncro_spelling(
    rng: &mut fastrand::Rng,
    name: &str,
    spelling: Spelling,
    taken: &mut HashSet<String>,
) -> String {
    match spelling {
        Spelling::Same => {}
        Spelling::Respelled => {
            let mut options = respellings(name);
            rng.shuffle(&mut options);
            for o in options {
                if o != name && taken.insert(o.clone()) {
                    return o;
                }
            }
        }
        Spelling::Trivial => {
            let trivial = if name.contains('&') {
                name.replace('&', "&amp;")
            } else {
                format!("{name} ")
            };
            if taken.insert(trivial.clone()) {
                return trivial;
            }
        }
    }
    name.to_owned()
}

/// Plausible other spellings of a company name.
fn respellings(name: &str) -> Vec<String> {
    // Longest suffixes first: ", Inc." also ends with " Inc.".
    const SWAPS: &[(&str, &[&str])] = &[
        (" & Co.", &[" and Co.", " & Co", " & Company"]),
        (" Pty Ltd", &[" Pty. Ltd.", " PTY LTD"]),
        (", Ltd.", &[" Ltd", " Ltd.", " Limited"]),
        (", Inc.", &[" Inc.", " Inc", " Incorporated"]),
        (" Inc.", &[", Inc.", " Inc", " Incorporated"]),
        (" Ltd", &[", Ltd.", " Limited", " Ltd."]),
        (" LLC", &[", LLC", " L.L.C."]),
        (" Co.", &[" Company", " Co"]),
        (" PLLC", &[", PLLC", " P.L.L.C."]),
        (" GmbH", &[" GMBH"]),
        (" S.A.", &[" SA"]),
        (" LLP", &[", LLP"]),
        (" Group", &[""]),
    ];
    let mut out = Vec::new();
    if let Some((suffix, alts)) = SWAPS.iter().find(|(s, _)| name.ends_with(s)) {
        let stem = &name[..name.len() - suffix.len()];
        out.extend(alts.iter().map(|a| format!("{stem}{a}")));
    } else {
        out.extend(
            [" LLC", ", Inc.", " Ltd", " Inc."]
                .iter()
                .map(|s| format!("{name}{s}")),
        );
    }
    if name.contains(" & ") {
        out.push(name.replace(" & ", " and "));
    }
    if name.contains('\'') {
        out.push(name.replace('\'', ""));
    }
    if let Some(rest) = name.strip_prefix("St. ") {
        out.push(format!("Saint {rest}"));
    }
    if let Some(rest) = name.strip_prefix("Dr. ") {
        out.push(format!("Dr {rest}"));
    }
    out
}

fn pick<'a, T>(rng: &mut fastrand::Rng, items: &'a [T]) -> &'a T {
    &items[rng.usize(..items.len())]
}

/// A time in `[lo, hi]` with millisecond precision.
fn between(rng: &mut fastrand::Rng, lo: DateTime<Utc>, hi: DateTime<Utc>) -> DateTime<Utc> {
    let (a, b) = (lo.timestamp_millis(), hi.timestamp_millis());
    let t = if b > a { rng.i64(a..=b) } else { a };
    DateTime::from_timestamp_millis(t).unwrap_or(lo)
}

fn alnum_upper(rng: &mut fastrand::Rng, n: usize) -> String {
    const CHARS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    (0..n)
        .map(|_| CHARS[rng.usize(..CHARS.len())] as char)
        .collect()
}

fn alnum_lower(rng: &mut fastrand::Rng, n: usize) -> String {
    const CHARS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    (0..n)
        .map(|_| CHARS[rng.usize(..CHARS.len())] as char)
        .collect()
}

fn digits(rng: &mut fastrand::Rng, n: usize) -> String {
    (0..n).map(|_| char::from(b'0' + rng.u8(..10))).collect()
}

fn ipv4(addr: u32) -> String {
    let [a, b, c, d] = addr.to_be_bytes();
    format!("{a}.{b}.{c}.{d}")
}

/// The notations MACs are typed in.
#[derive(Clone, Copy)]
enum MacStyle {
    UpperColon,
    LowerColon,
    Dash,
    CiscoDot,
    Bare,
}

fn format_mac(m: [u8; 6], style: MacStyle) -> String {
    let [a, b, c, d, e, f] = m;
    match style {
        MacStyle::UpperColon => format!("{a:02X}:{b:02X}:{c:02X}:{d:02X}:{e:02X}:{f:02X}"),
        MacStyle::LowerColon => format!("{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{f:02x}"),
        MacStyle::Dash => format!("{a:02X}-{b:02X}-{c:02X}-{d:02X}-{e:02X}-{f:02X}"),
        MacStyle::CiscoDot => format!("{a:02x}{b:02x}.{c:02x}{d:02x}.{e:02x}{f:02x}"),
        MacStyle::Bare => format!("{a:02X}{b:02X}{c:02X}{d:02X}{e:02X}{f:02X}"),
    }
}

impl Site {
    /// A MAC under `oui` that no other seeded adapter of the account has.
    fn mac(&mut self, oui: [u8; 3]) -> [u8; 6] {
        let n = self.next_adapter;
        self.next_adapter += 1;
        let low = (((self.ord & 0xfff) << 12) | (n & 0xfff)) ^ 0x5a_3c96;
        let [_, x, y, z] = low.to_be_bytes();
        [oui[0], oui[1], oui[2], x, y, z]
    }

    /// The next LAN address of the customer's /22 (skipping the gateway and servers' range).
    fn lan_ip(&mut self) -> u32 {
        let host = 20 + self.next_host % 1000;
        self.next_host += 1;
        self.net_base + host
    }

    fn seq(&mut self) -> u32 {
        let s = self.next_seq;
        self.next_seq += 1;
        s
    }
}

/// What kind of asset to make.
enum Pick {
    Agent(Machine),
    Custom(&'static str),
}

fn pick_kind(rng: &mut fastrand::Rng, individual: bool) -> Pick {
    let roll = rng.u8(..100);
    if individual {
        return match roll {
            0..50 => Pick::Agent(Machine::Laptop),
            50..80 => Pick::Agent(Machine::Desktop),
            80..90 => Pick::Agent(Machine::Mac),
            _ => Pick::Custom("Printer"),
        };
    }
    match roll {
        0..30 => Pick::Agent(Machine::Laptop),
        30..57 => Pick::Agent(Machine::Desktop),
        57..62 => Pick::Agent(Machine::Server),
        62..66 => Pick::Agent(Machine::Vm),
        66..68 => Pick::Agent(Machine::Mac),
        68..71 => Pick::Custom("Firewall"),
        71..72 => Pick::Custom("Router"),
        72..77 => Pick::Custom("Switch"),
        77..83 => Pick::Custom("Access Point"),
        83..86 => Pick::Custom("Network Device"),
        86..92 => Pick::Custom("Printer"),
        92..94 => Pick::Custom("Server"),
        94..96 => Pick::Custom("UPS"),
        96..98 => Pick::Custom("Camera"),
        98 => Pick::Custom("NAS"),
        _ => Pick::Custom("VoIP Phone"),
    }
}

/// A new asset of `customer` (its id is set by the caller).
pub fn make_asset(
    rng: &mut fastrand::Rng,
    site: &mut Site,
    customer: &SimCustomer,
    seed: u64,
    created: DateTime<Utc>,
    updated: DateTime<Utc>,
) -> SimAsset {
    let mut a = match pick_kind(rng, site.individual) {
        Pick::Agent(m) => agent_asset(rng, site, customer, m, created),
        Pick::Custom(t) => custom_asset(rng, site, customer, seed, t),
    };
    a.customer_id = customer.id;
    a.created_at = created;
    a.updated_at = updated;
    a
}

fn serial(rng: &mut fastrand::Rng, style: SerialStyle, mac: [u8; 6]) -> String {
    match style {
        SerialStyle::Alnum(prefix, n) => format!("{prefix}{}", alnum_upper(rng, n)),
        SerialStyle::Digits(prefix, n) => format!("{prefix}{}", digits(rng, n)),
        SerialStyle::Mac => format_mac(mac, MacStyle::Bare),
        SerialStyle::Meraki => format!(
            "Q2{}-{}-{}",
            alnum_upper(rng, 2),
            alnum_upper(rng, 4),
            alnum_upper(rng, 4)
        ),
        SerialStyle::Vmware => {
            let hex: Vec<String> = (0..16).map(|_| format!("{:02x}", rng.u8(..))).collect();
            format!("VMware-42 {}-{}", hex[1..8].join(" "), hex[8..].join(" "))
        }
        SerialStyle::HyperV => {
            let groups: Vec<String> = (0..6).map(|_| digits(rng, 4)).collect();
            format!("{}-{}", groups.join("-"), digits(rng, 2))
        }
        SerialStyle::Placeholder => pick(rng, &catalog::PLACEHOLDER_SERIALS[..3]).to_string(),
    }
}

/// An agent-managed "Syncro Device" with its `kabuto_information`.
fn agent_asset(
    rng: &mut fastrand::Rng,
    site: &mut Site,
    customer: &SimCustomer,
    machine: Machine,
    created: DateTime<Utc>,
) -> SimAsset {
    let models = match machine {
        Machine::Laptop => catalog::LAPTOPS,
        Machine::Desktop => catalog::DESKTOPS,
        Machine::Server => catalog::SERVERS,
        Machine::Vm => catalog::VMS,
        Machine::Mac => catalog::MACS,
    };
    let hw: &Computer = pick(rng, models);
    let first = customer_user(rng);
    let name = host_name(rng, site, machine, &first);
    let adapters = adapters(rng, site, hw.nic);
    let serial_number = serial(rng, hw.serial, [0; 6]);
    let os = match machine {
        Machine::Server | Machine::Vm => pick(rng, catalog::SERVER_OS),
        Machine::Mac => pick(rng, catalog::MAC_OS),
        _ if site.individual => pick(rng, catalog::HOME_OS),
        _ => pick(rng, catalog::WORKSTATION_OS),
    };
    let now = epoch();
    let online = rng.u8(..100) < 85;
    let synced = if online {
        between(rng, now - Duration::hours(3), now - Duration::seconds(1))
    } else {
        between(rng, now - Duration::days(200), now - Duration::days(2))
    }
    .max(created);
    let windows = os.2.is_some();
    let domain = if windows {
        site.ad_domain.clone()
    } else {
        None
    };
    let netbios = domain.as_deref().map(|d| {
        d.split('.')
            .find(|p| *p != "corp")
            .unwrap_or(d)
            .to_uppercase()
    });
    let user = first.0.to_lowercase();
    let last_user = match (rng.u8(..100), machine, &netbios) {
        (0..5, _, _) => Value::Null,
        (_, Machine::Server | Machine::Vm, Some(nb)) => json!(format!("{nb}\\administrator")),
        (5..15, _, _) if windows => json!(format!("AzureAD\\{}{}", first.0, first.1)),
        (_, _, Some(nb)) => json!(format!("{nb}\\{user}")),
        _ => json!(user),
    };
    let cores = *pick(rng, hw.cores);
    let cpu_name = *pick(rng, hw.cpus);
    let cpus: Vec<Value> = (0..hw.sockets)
        .map(|_| json!({ "name": cpu_name, "cores": cores, "logical_processors": cores * 2 }))
        .collect();
    let size = *pick(rng, hw.disk_gb);
    let free_pct = rng.u8(3..80);
    let free = (size * f64::from(free_pct) / 100.0 * 10.0).round() / 10.0;
    let boot = between(rng, synced - Duration::days(30), synced);
    let os_install = between(rng, created - Duration::days(30), created);
    let bios = between(rng, os_install - Duration::days(700), os_install);
    let mut os_obj = Map::new();
    os_obj.insert("name".into(), json!(os.0));
    os_obj.insert("build".into(), json!(os.1));
    if let Some(release) = os.2 {
        os_obj.insert("windows_release_version".into(), json!(release));
    }
    os_obj.insert("os_architecture".into(), json!("64-bit"));
    os_obj.insert("last_boot_time".into(), json!(Ts(boot).to_string()));
    os_obj.insert("pending_reboot".into(), json!(rng.u8(..100) < 15));
    let kabuto = json!({
        "last_synced_at": Ts(synced).to_string(),
        "last_user": last_user,
        "general": {
            "name": name,
            "domain": domain.clone().map_or_else(|| json!("WORKGROUP"), Value::String),
            "ip": ipv4(u32::from_be_bytes(site.wan_ip)),
            "manufacturer": hw.manufacturer,
            "model": hw.model,
            "serial_number": serial_number,
            "form_factor": pick(rng, hw.form_factors),
        },
        "os": os_obj,
        "install_dates": {
            "os_install": Ts(os_install).to_string(),
            "bios_release": bios.format("%Y-%m-%d").to_string(),
            "system_volume": Ts(os_install).to_string(),
        },
        "system_partition": {
            "size_gb": size,
            "free_gb": free,
            "free_percent": free_pct,
        },
        "network_adapters": adapters,
        "cpu": cpus,
        "ram_gb": pick(rng, hw.ram_gb),
    });
    let mut props = Map::new();
    lifecycle_properties(
        &mut props,
        mix(
            customer.id.unsigned_abs(),
            created.timestamp_millis().unsigned_abs(),
        ),
        35,
        None,
    );
    let roll = rng.u8(..100);
    // An agent installed but never reported: no agent data at all yet.
    let reported = roll >= 2;
    if reported {
        props.insert("kabuto_information".into(), kabuto);
    }
    if (2..7).contains(&roll) {
        // Flattened copies some older agents or scripts left at the top level.
        props.insert("form_factor".into(), json!(pick(rng, hw.form_factors)));
        props.insert("model".into(), json!(hw.model));
    }
    if rng.u8(..100) < 4 {
        props.insert("Notes".into(), json!(pick(rng, catalog::NOTES)));
        if rng.u8(..100) < 40 {
            // The key-case twin real exports show ("Notes" and "notes" on one asset).
            props.insert("notes".into(), json!(pick(rng, catalog::NOTES)));
        }
    }
    let asset_serial = match (reported, rng.u8(..100)) {
        (false, _) | (true, 0..7) => None,
        (true, 7..10) => Some(String::new()),
        _ => Some(serial_number),
    };
    SimAsset {
        id: 0,
        customer_id: customer.id,
        contact_id: (!site.individual && rng.u8(..100) < 35)
            .then(|| 9_000_000 + rng.i64(0..900_000)),
        name,
        asset_type: "Syncro Device".to_owned(),
        asset_serial,
        properties: Value::Object(props),
        external_rmm_link: None,
        has_live_chat: windows && rng.u8(..100) < 25,
        snmp_enabled: if rng.u8(..100) < 85 {
            Some(false)
        } else {
            None
        },
        created_at: created,
        updated_at: created,
    }
}

/// The custom properties MSPs add to assets for lifecycle, since Syncro has no warranty
/// fields (research/syncro.md §3.4: custom fields are keyed by display name): "Warranty
/// Expires" (`warranty`, or drawn here `warranty_percent` times in a hundred) and "Purchase
/// Date" (about half as often as a warranty, before it), each typed in the formats people
/// use: mostly ISO, some US `MM/DD/YYYY`, some European `DD.MM.YYYY`. Drawn from an RNG of
/// their own (`seed_value`), so the asset's other seeded values stay what they were.
fn lifecycle_properties(
    p: &mut Map<String, Value>,
    seed_value: u64,
    warranty_percent: u8,
    warranty: Option<chrono::NaiveDate>,
) {
    let mut rng = fastrand::Rng::with_seed(seed_value);
    let typed = |rng: &mut fastrand::Rng, d: chrono::NaiveDate| {
        let format = match rng.u8(..100) {
            0..70 => "%Y-%m-%d",
            70..85 => "%m/%d/%Y",
            _ => "%d.%m.%Y",
        };
        json!(d.format(format).to_string())
    };
    let warranty = warranty.or_else(|| {
        (rng.u8(..100) < warranty_percent)
            .then(|| between(&mut rng, utc(2024, 1, 1), utc(2030, 6, 30)).date_naive())
    });
    if let Some(w) = warranty {
        let value = typed(&mut rng, w);
        p.insert("Warranty Expires".into(), value);
        if rng.u8(..100) < 60 {
            let bought = w - chrono::Duration::days(365 * i64::from(rng.u8(1..6)));
            let value = typed(&mut rng, bought);
            p.insert("Purchase Date".into(), value);
        }
    } else if rng.u8(..100) < 20 {
        let bought = between(&mut rng, utc(2017, 1, 1), utc(2025, 6, 1)).date_naive();
        let value = typed(&mut rng, bought);
        p.insert("Purchase Date".into(), value);
    }
}

fn customer_user(rng: &mut fastrand::Rng) -> (String, String) {
    (
        pick(rng, catalog::FIRST_NAMES).to_string(),
        pick(rng, catalog::LAST_NAMES).replace(['\'', ' '], ""),
    )
}

fn host_name(
    rng: &mut fastrand::Rng,
    site: &mut Site,
    machine: Machine,
    user: &(String, String),
) -> String {
    let prefix = site.host_prefix.clone();
    let roll = rng.u8(..100);
    let name = match machine {
        Machine::Laptop if site.individual => format!("LAPTOP-{}", alnum_upper(rng, 7)),
        Machine::Desktop if site.individual => match roll {
            0..60 => format!("DESKTOP-{}", alnum_upper(rng, 7)),
            _ => format!("{}-PC", user.0.to_uppercase()),
        },
        Machine::Laptop => match roll {
            0..50 => format!("{prefix}-LT{:03}", site.seq()),
            50..75 => format!("LAPTOP-{}", alnum_upper(rng, 7)),
            _ => format!(
                "{}{}-LT",
                &user.0[..1],
                user.1.chars().take(8).collect::<String>()
            )
            .to_uppercase(),
        },
        Machine::Desktop => match roll {
            0..50 => format!("{prefix}-WS{:03}", site.seq()),
            50..80 => format!("DESKTOP-{}", alnum_upper(rng, 7)),
            _ => format!(
                "{}-PC",
                pick(
                    rng,
                    &["RECEPTION", "FRONTDESK", "SHOP", "BACKOFFICE", "WAREHOUSE"]
                )
            ),
        },
        Machine::Server | Machine::Vm => {
            format!(
                "{prefix}-{}{:02}",
                pick(rng, catalog::SERVER_ROLES),
                site.seq() % 100
            )
        }
        Machine::Mac => match roll {
            0..50 => format!("{}'s MacBook Pro", user.0),
            _ => format!("{}s-MacBook-Air", user.0),
        },
    };
    // NetBIOS names stop at 15 characters.
    if matches!(machine, Machine::Mac) {
        name
    } else {
        name.chars().take(15).collect()
    }
}

/// A machine's `network_adapters[]`.
fn adapters(rng: &mut fastrand::Rng, site: &mut Site, nic: Nic) -> Vec<Value> {
    let gateway = site.net_base + 1;
    let dns = site.net_base + 5;
    let mut out = Vec::new();
    let ip = site.lan_ip();
    let connected = |name: &str, desc: &str, kind: &str, mac: [u8; 6], ip: u32, dhcp: bool| {
        json!({
            "name": name,
            "description": desc,
            "type": kind,
            "physical_address": format_mac(mac, MacStyle::UpperColon),
            "ipv4": ipv4(ip),
            "ipv6": format!("fe80::{:x}:{:x}:{:x}:{:x}", mac[0] ^ 2, mac[2], mac[4], mac[5]),
            "subnet": "255.255.252.0",
            "gateway": ipv4(gateway),
            "dns1": ipv4(dns),
            "dns2": "1.1.1.1",
            "dhcp_server": if dhcp { json!(ipv4(gateway)) } else { Value::Null },
            "dhcp_enabled": dhcp,
        })
    };
    let disconnected = |name: &str, desc: &str, mac: [u8; 6]| {
        json!({
            "name": name,
            "description": desc,
            "type": "Ethernet 802.3",
            "physical_address": format_mac(mac, MacStyle::UpperColon),
            "ipv4": Value::Null,
            "ipv6": Value::Null,
            "subnet": Value::Null,
            "gateway": Value::Null,
            "dns1": Value::Null,
            "dns2": Value::Null,
            "dhcp_server": Value::Null,
            "dhcp_enabled": true,
        })
    };
    match nic {
        Nic::LaptopWifi => {
            let mac = site.mac(*pick(rng, catalog::INTEL_OUIS));
            out.push(connected(
                "Wi-Fi",
                "Intel(R) Wi-Fi 6E AX211 160MHz",
                "Wireless",
                mac,
                ip,
                true,
            ));
            if rng.u8(..100) < 40 {
                let mac = site.mac(*pick(rng, catalog::REALTEK_OUIS));
                out.push(disconnected(
                    "Ethernet",
                    "Realtek USB GbE Family Controller",
                    mac,
                ));
            }
        }
        Nic::Onboard(vendor, descs) => {
            let ouis = if vendor == "Intel" {
                catalog::INTEL_OUIS
            } else {
                catalog::REALTEK_OUIS
            };
            let mac = site.mac(*pick(rng, ouis));
            let desc = *pick(rng, descs);
            out.push(connected("Ethernet", desc, "Ethernet 802.3", mac, ip, true));
        }
        Nic::ServerPair(descs) => {
            let desc = *pick(rng, descs);
            let static_ip = site.net_base + 10 + rng.u32(0..9);
            let mac = site.mac(*pick(rng, catalog::SERVER_OUIS));
            out.push(connected(
                "Ethernet",
                desc,
                "Ethernet 802.3",
                mac,
                static_ip,
                false,
            ));
            let mac2 = [
                mac[0],
                mac[1],
                mac[2],
                mac[3],
                mac[4],
                mac[5].wrapping_add(1),
            ];
            out.push(disconnected("Ethernet 2", &format!("{desc} #2"), mac2));
        }
        Nic::Vmware => {
            let mac = site.mac(catalog::VMWARE_OUI);
            out.push(connected(
                "Ethernet0",
                "vmxnet3 Ethernet Adapter",
                "Ethernet 802.3",
                mac,
                ip,
                false,
            ));
        }
        Nic::HyperV => {
            let mac = site.mac(catalog::HYPERV_OUI);
            out.push(connected(
                "Ethernet",
                "Microsoft Hyper-V Network Adapter",
                "Ethernet 802.3",
                mac,
                ip,
                false,
            ));
        }
        Nic::AppleWifi => {
            let mac = site.mac(*pick(rng, catalog::APPLE_OUIS));
            out.push(connected("en0", "Wi-Fi", "Wireless", mac, ip, true));
        }
    }
    let roll = rng.u8(..100);
    if roll < 3 {
        // Same MAC on every machine with Npcap installed.
        out.push(json!({
            "name": "Npcap Loopback Adapter",
            "description": "Npcap Loopback Adapter",
            "type": "Ethernet 802.3",
            "physical_address": format_mac(catalog::NPCAP_LOOPBACK_MAC, MacStyle::UpperColon),
            "ipv4": format!("169.254.{}.{}", rng.u8(1..254), rng.u8(1..254)),
            "ipv6": Value::Null,
            "subnet": "255.255.0.0",
            "gateway": Value::Null,
            "dns1": Value::Null,
            "dns2": Value::Null,
            "dhcp_server": Value::Null,
            "dhcp_enabled": false,
        }));
    } else if roll < 7 {
        let mac = site.mac([0x00, 0xff, rng.u8(..)]);
        out.push(disconnected(
            "Local Area Connection",
            "TAP-Windows Adapter V9",
            mac,
        ));
    }
    out
}

/// A manually tracked asset of a custom type, its fields keyed by their display names.
fn custom_asset(
    rng: &mut fastrand::Rng,
    site: &mut Site,
    customer: &SimCustomer,
    seed: u64,
    asset_type: &'static str,
) -> SimAsset {
    let table: &[Gear] = match asset_type {
        "Firewall" => catalog::FIREWALLS,
        "Router" => catalog::ROUTERS,
        "Switch" => catalog::SWITCHES,
        "Access Point" => catalog::ACCESS_POINTS,
        // Technicians file whatever they are unsure of as "Network Device".
        "Network Device" => match rng.u8(..3) {
            0 => catalog::SWITCHES,
            1 => catalog::ACCESS_POINTS,
            _ => catalog::ROUTERS,
        },
        "Printer" => catalog::PRINTERS,
        "Server" => catalog::HOSTS,
        "UPS" => catalog::UPSES,
        "Camera" => catalog::CAMERAS,
        "NAS" => catalog::NASES,
        _ => catalog::PHONES,
    };
    let g = pick(rng, table);
    let mac = site.mac(g.oui);
    let ip = match asset_type {
        "Firewall" | "Router" => site.net_base + 1,
        _ => site.lan_ip(),
    };
    let location = *pick(rng, catalog::LOCATIONS);
    let prefix = site.host_prefix.clone();
    let seq = site.seq();
    let name = match (asset_type, rng.u8(..3)) {
        ("Firewall", 0) => format!("{prefix}-FW01"),
        ("Firewall", 1) => format!("Firewall ({})", g.make),
        ("Firewall", _) => "Edge Firewall".to_owned(),
        ("Router", 0) => format!("{prefix}-RTR01"),
        ("Router", _) => "Edge Router".to_owned(),
        ("Switch", 0) => format!("{prefix}-SW{:02}", seq % 100),
        ("Switch", 1) => "Core Switch".to_owned(),
        ("Switch", _) => format!("Switch - {location}"),
        ("Access Point", 0) => format!("AP - {location}"),
        ("Access Point", _) => format!("{prefix}-AP{:02}", seq % 100),
        ("Printer", 0) => format!("{location} Printer"),
        ("Printer", _) => format!("{} {}", g.make, g.model),
        ("Server", 0) => format!("ESXi{:02}", seq % 100),
        ("Server", _) => format!("{prefix}-HOST{:02}", seq % 100),
        ("UPS", _) => format!("UPS - {location}"),
        ("Camera", _) => format!("CAM - {location}"),
        ("NAS", 0) => "Backup NAS".to_owned(),
        ("NAS", _) => format!("{prefix}-NAS{:02}", seq % 100),
        ("VoIP Phone", _) => format!("Ext {}", 100 + seq % 900),
        _ => format!("{} {}", g.make, g.model),
    };
    let serial_value = serial(rng, g.serial, mac);
    let mut p = Map::new();
    let api_style = asset_type == "Server" && rng.u8(..100) < 40;
    if api_style {
        // Filled in through the API (PUT), which uses lower-case keys.
        p.insert("manufacturer".into(), json!(g.make));
        p.insert("model".into(), json!(g.model));
        p.insert(
            "cpu_name".into(),
            json!(pick(
                rng,
                &["Intel(R) Xeon(R) Silver 4214R", "AMD EPYC 7313P"]
            )),
        );
        p.insert(
            "ram".into(),
            json!(pick(rng, &["128 GB", "256 GB", "64GB"])),
        );
        p.insert(
            "os".into(),
            json!(pick(
                rng,
                &["VMware ESXi 8.0.2", "VMware ESXi 7.0 U3", "Proxmox VE 8.1"]
            )),
        );
        p.insert(
            "hdd".into(),
            json!(pick(
                rng,
                &["4 x 1.92 TB SSD RAID 10", "2 x 480 GB SSD RAID 1"]
            )),
        );
    } else {
        let nullable = |rng: &mut fastrand::Rng, v: &str| {
            if rng.u8(..100) < 5 {
                Value::Null
            } else {
                json!(v)
            }
        };
        p.insert("Make".into(), nullable(rng, g.make));
        p.insert("Model".into(), nullable(rng, g.model));
        let lan = match rng.u8(..100) {
            0..5 if matches!(asset_type, "Printer" | "VoIP Phone") => "DHCP".to_owned(),
            5..12 => format!("{}, {}", ipv4(ip), ipv4(site.lan_ip())),
            _ => ipv4(ip),
        };
        p.insert("LAN IP(s)".into(), json!(lan));
        if rng.u8(..100) < 85 {
            let style = match rng.u8(..5) {
                0 => MacStyle::UpperColon,
                1 => MacStyle::LowerColon,
                2 => MacStyle::Dash,
                3 => MacStyle::CiscoDot,
                _ => MacStyle::Bare,
            };
            p.insert("MAC Address".into(), json!(format_mac(mac, style)));
        }
        if !g.firmware.is_empty() {
            let fw = if rng.u8(..100) < 30 {
                Value::Null
            } else {
                json!(pick(rng, g.firmware))
            };
            p.insert("Firmware".into(), fw);
        }
        if rng.u8(..100) < 50 {
            p.insert("Location".into(), json!(location));
        }
        match asset_type {
            "Firewall" | "Router" => {
                let w = site.wan_ip;
                p.insert(
                    "WAN Info".into(),
                    json!(format!(
                        "{} - {}.{}.{}.{}/29",
                        pick(
                            rng,
                            &["Comcast Business", "Spectrum", "AT&T Fiber", "Lumen"]
                        ),
                        w[0],
                        w[1],
                        w[2],
                        w[3]
                    )),
                );
            }
            "Switch" => {
                p.insert("Ports".into(), json!(pick(rng, &[8, 24, 24, 48])));
            }
            "Server" => {
                p.insert(
                    "DRAC IP".into(),
                    json!(ipv4(site.net_base + 250 + rng.u32(0..5))),
                );
            }
            "UPS" => {
                let d = between(rng, utc(2020, 1, 1), utc(2025, 1, 1));
                p.insert(
                    "Battery Install Date".into(),
                    json!(d.format("%Y-%m-%d").to_string()),
                );
            }
            "NAS" => {
                p.insert(
                    "Capacity".into(),
                    json!(pick(rng, &["4 x 8 TB (RAID 5)", "2 x 4 TB (RAID 1)"])),
                );
            }
            "VoIP Phone" => {
                p.insert("Extension".into(), json!((100 + seq % 900).to_string()));
            }
            _ => {}
        }
        let warranty = (rng.u8(..100) < 20)
            .then(|| between(rng, utc(2025, 6, 1), utc(2029, 12, 31)).date_naive());
        lifecycle_properties(
            &mut p,
            mix(seed, (u64::from(site.ord) << 20) | u64::from(seq)),
            0,
            warranty,
        );
    }
    let notes = rng.u8(..100);
    if notes < 25 {
        let v = if notes < 3 {
            Value::Null
        } else {
            json!(pick(rng, catalog::NOTES))
        };
        p.insert("Notes".into(), v);
        if notes < 8 {
            // A case twin with a different value.
            p.insert("notes".into(), json!(pick(rng, catalog::NOTES)));
        }
    }
    let asset_serial = match rng.u8(..100) {
        0..25 => None,
        25..40 => Some(String::new()),
        40..43 => Some(format!("{serial_value} ")),
        43..46 => Some(serial_value.to_lowercase()),
        _ => Some(serial_value),
    };
    let network = matches!(
        asset_type,
        "Firewall" | "Router" | "Switch" | "Access Point" | "Network Device" | "Printer" | "UPS"
    );
    let snmp_enabled = match (network, rng.u8(..100)) {
        (true, 0..45) => Some(true),
        (true, 45..90) => Some(false),
        (false, 0..70) => Some(false),
        _ => None,
    };
    let external_rmm_link = (network && rng.u8(..100) < 8).then(|| {
        format!(
            "https://{}.my.auvik.com/#entity/device/{}/dashboard",
            site.slug,
            mix(seed, (u64::from(site.ord) << 20) | u64::from(seq)) % 900_000_000_000
                + 100_000_000_000
        )
    });
    SimAsset {
        id: 0,
        customer_id: customer.id,
        contact_id: None,
        name,
        asset_type: asset_type.to_owned(),
        asset_serial,
        properties: Value::Object(p),
        external_rmm_link,
        has_live_chat: false,
        snmp_enabled,
        created_at: DateTime::UNIX_EPOCH,
        updated_at: DateTime::UNIX_EPOCH,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn respellings_differ_and_keep_the_stem() {
        for name in [
            "Contoso Ltd",
            "Smith & Sons",
            "Fabrikam, Inc.",
            "St. Anne's Parish",
            "Acme & Co.",
        ] {
            let alts = respellings(name);
            assert!(!alts.is_empty(), "{name}");
            assert!(alts.iter().all(|a| a != name), "{name}: {alts:?}");
        }
        assert!(respellings("Contoso Ltd").contains(&"Contoso, Ltd.".to_owned()));
        assert!(respellings("Fabrikam, Inc.").contains(&"Fabrikam Inc.".to_owned()));
    }

    #[test]
    fn macs_are_unique_within_and_across_sites() {
        let mut seen = HashSet::new();
        for ord in 0..50 {
            let mut site = Site {
                host_prefix: "X".into(),
                slug: "x".into(),
                ad_domain: None,
                net_base: net_base(ord as usize),
                wan_ip: [203, 0, 113, 1],
                ord,
                individual: false,
                next_host: 0,
                next_adapter: 0,
                next_seq: 1,
            };
            for _ in 0..200 {
                assert!(seen.insert(site.mac([0, 0x50, 0x56])));
            }
        }
    }
}
