//! Deterministic generation of the simulated Passportal tenant: clients, and their documents.
//!
//! Each client and its documents draw from the client's own RNG (seeded from the seed and the
//! client's place in the name list). Ids are then handed out in creation order, as Passportal's
//! platform-wide sequences do: clients in the 41-million range with small gaps, documents in the
//! 31-million range (both as observed).

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

use super::catalog::{self, Kind, Serial, Template};
use super::{INTERNAL_CLIENT, PassportalSimOptions, SimAssetDoc, SimClient};
use crate::sim::names;

/// Seeded timestamps lie before this instant, so that any mutation (stamped with the wall
/// clock) is newer than every seeded document.
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

/// The Access key ID: 64 lowercase hex characters (the format integrations validate).
pub fn access_key_id(seed: u64) -> String {
    let mut x = mix(seed, 0x7061_7373_6b65_7900);
    let mut s = String::with_capacity(64);
    for _ in 0..4 {
        x = mix(x, seed);
        s.push_str(&format!("{x:016x}"));
    }
    s
}

/// The Secret access key after `rotation` rotations: 64 mixed-case alphanumerics, with at least
/// one letter past `f` so it can never pass for a key id.
pub fn secret_access_key(seed: u64, rotation: u64) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = fastrand::Rng::with_seed(mix(seed, 0x7365_6372_6574_0000 + rotation));
    let mut s: Vec<u8> = (0..64)
        .map(|_| ALPHABET[rng.usize(..ALPHABET.len())])
        .collect();
    if s.iter().all(u8::is_ascii_hexdigit) {
        s[0] = b'Q';
    }
    String::from_utf8(s).unwrap_or_default()
}

/// PHP's `htmlspecialchars` with `ENT_QUOTES`: how Passportal stores client names
/// (`Matt&#039;s Museum of Marbles` is observed).
pub fn html_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#039;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// A document other than an asset: a location, contact or vendor. `values` follow the
/// template's fields; `values[0]` is the title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherDoc {
    pub id: i64,
    pub client_id: i64,
    pub label: String,
    pub template: &'static Template,
    pub values: Vec<Option<String>>,
    pub last_modified: DateTime<Utc>,
}

/// Per-client facts that asset generation needs, kept so added assets fit in.
#[derive(Debug, Clone)]
pub struct Site {
    /// Host-name prefix, e.g. `CONTOSO`.
    pub host_prefix: String,
    /// The same in title case for people-chosen labels (`Contoso-Laptop-0124`).
    pub label_prefix: String,
    /// AD domain, or `None` for a workgroup.
    pub ad_domain: Option<String>,
    /// First address of the client's /22 under 10/8.
    pub net_base: u32,
    /// The RMM integration that feeds this client's computers (index into `INTEGRATIONS`).
    pub integration: usize,
    pub locations: Vec<String>,
    pub contacts: Vec<String>,
    pub next_host: u32,
    pub next_ip: u32,
    /// The client's position in generation (keeps MACs unique tenant-wide).
    pub ord: u32,
    pub next_mac: u32,
}

pub struct Seeded {
    pub organization_id: i64,
    /// By id, each with its site.
    pub clients: Vec<(SimClient, Site)>,
    pub assets: Vec<SimAssetDoc>,
    pub others: Vec<OtherDoc>,
    pub next_doc_id: i64,
    /// Id for the next added client: the sequence goes on.
    pub next_client_id: i64,
}

/// A document before it has an id.
enum Draft {
    Asset(Box<SimAssetDoc>),
    Other(OtherDoc),
}

pub fn generate(opts: &PassportalSimOptions) -> Seeded {
    let n = opts.clients;
    let shared = names::client_names(opts.seed, n);
    // Exactly 15% of the clients (rounded) are spelled differently in Passportal, whichever they
    // are: per-client dice would leave a 30-client demo with one or five.
    let mut order: Vec<usize> = (0..n).collect();
    fastrand::Rng::with_seed(mix(opts.seed, 0x0705_5e11)).shuffle(&mut order);
    let respelled: HashSet<usize> = order.iter().take((n * 15 + 50) / 100).copied().collect();
    let mut taken: HashSet<String> = shared.iter().cloned().collect();
    taken.insert(INTERNAL_CLIENT.to_owned());

    // The MSP's own client came first; the others joined in a seeded order.
    let mut joined: Vec<Option<usize>> = vec![None];
    let mut rest: Vec<usize> = (0..n).collect();
    fastrand::Rng::with_seed(mix(opts.seed, 0x701d)).shuffle(&mut rest);
    joined.extend(rest.into_iter().map(Some));

    let mut ids = fastrand::Rng::with_seed(mix(opts.seed, 0xc1d));
    let mut next_client = 41_600_000 + (mix(opts.seed, 3) % 400_000) as i64;
    let mut clients = Vec::with_capacity(n + 1);
    let mut drafts: Vec<(DateTime<Utc>, u32, Draft)> = Vec::new();
    let mut manufacturers = BTreeSet::new();
    let start = utc(2018, 1, 1);
    for (ord, slot) in joined.into_iter().enumerate() {
        let tag = slot.map_or(u64::MAX, |i| i as u64);
        let mut rng = fastrand::Rng::with_seed(mix(opts.seed, tag ^ 0xc11e));
        let (decoded, shared_name) = match slot {
            None => (INTERNAL_CLIENT.to_owned(), None),
            Some(i) => {
                let name = if respelled.contains(&i) {
                    respell(&mut rng, &shared[i], &mut taken)
                } else {
                    shared[i].clone()
                };
                (name, Some(shared[i].clone()))
            }
        };
        let client = SimClient {
            id: next_client,
            name: html_encode(&decoded),
            decoded_name: decoded,
            shared_name,
        };
        next_client += client_id_gap(&mut ids);
        // Clients joined over the years, in id order.
        let joined_at = start + Duration::days(ord as i64 * 2000 / (n as i64 + 1));
        let mut site = make_site(&mut rng, &client, ord as u32);
        let count = if slot.is_some() {
            opts.assets_per_client
        } else {
            opts.assets_per_client.div_ceil(10)
        };
        for d in client_docs(&mut rng, &client, &mut site, joined_at) {
            drafts.push((d.last_modified, ord as u32, Draft::Other(d)));
        }
        let hi = epoch() - Duration::hours(1);
        for k in 0..count {
            let created = between(&mut rng, joined_at, hi);
            let modified = between(&mut rng, created, hi);
            let a = make_asset(&mut rng, &mut site, &client, opts.seed, modified);
            if let Some(m) = &a.manufacturer {
                manufacturers.insert(m.clone());
            }
            drafts.push((
                created,
                (ord as u32) << 16 | k as u32,
                Draft::Asset(Box::new(a)),
            ));
        }
        clients.push((client, site));
    }
    // The tenant's vendors, one per manufacturer, filed under the MSP's own client.
    if let Some((internal, _)) = clients.first() {
        let mut rng = fastrand::Rng::with_seed(mix(opts.seed, 0x7e4d));
        for (k, m) in manufacturers.iter().enumerate() {
            let at = between(&mut rng, start, start + Duration::days(60));
            let doc = vendor_doc(&mut rng, internal.id, m, at);
            drafts.push((at, k as u32, Draft::Other(doc)));
        }
    }
    // Document ids in creation order (the creation time of non-assets is their last change).
    drafts.sort_by_key(|d| (d.0, d.1));
    let mut next_doc = 31_000_000 + (mix(opts.seed, 5) % 500_000) as i64;
    let mut assets = Vec::new();
    let mut others = Vec::new();
    for (_, _, d) in drafts {
        match d {
            Draft::Asset(mut a) => {
                a.id = next_doc;
                assets.push(*a);
            }
            Draft::Other(mut o) => {
                o.id = next_doc;
                others.push(o);
            }
        }
        next_doc += 1 + ids.i64(0..12);
    }
    Seeded {
        organization_id: 10_000 + (mix(opts.seed, 8) % 90_000) as i64,
        clients: clients.into_iter().collect(),
        assets,
        others,
        next_doc_id: next_doc,
        next_client_id: next_client,
    }
}

/// The step from one client id to the next: small gaps, now and then a large one (other
/// tenants' clients in between), as observed.
pub fn client_id_gap(rng: &mut fastrand::Rng) -> i64 {
    4 * (1 + rng.i64(0..10)) + if rng.u8(..10) == 0 { 1000 } else { 0 }
}

/// A client a test adds after seeding, with `decoded_name` as the MSP typed it (stored
/// HTML-entity encoded, as Passportal does), and its locations and contacts drawn like a seeded
/// client's, all changed last `at`. `n` counts added clients (it seeds their RNGs); `ord` is the
/// client's position in the tenant (it keeps the site's network and MACs apart from the
/// others'). The documents' ids are the caller's to set.
pub fn added_client(
    seed: u64,
    n: u64,
    id: i64,
    decoded_name: &str,
    ord: u32,
    at: DateTime<Utc>,
) -> (SimClient, Site, Vec<OtherDoc>) {
    // Tags of seeded clients are positions in the name list (or u64::MAX); added ones start at
    // 2^42.
    let mut rng = fastrand::Rng::with_seed(mix(seed, ((1 << 42) | n) ^ 0xc11e));
    let client = SimClient {
        id,
        name: html_encode(decoded_name),
        decoded_name: decoded_name.to_owned(),
        // Which name the other simulators use for it is the test's business, not the seed's.
        shared_name: None,
    };
    let mut site = make_site(&mut rng, &client, ord);
    let mut docs = client_docs(&mut rng, &client, &mut site, at);
    // Seeded documents were written over the weeks after their client joined; an added client's
    // are written now (never in the future).
    for d in &mut docs {
        d.last_modified = whole_seconds(at);
    }
    (client, site, docs)
}

fn make_site(rng: &mut fastrand::Rng, client: &SimClient, ord: u32) -> Site {
    let slug = names::slug(&client.decoded_name);
    let host_prefix: String = slug.to_uppercase().chars().take(7).collect();
    let label_prefix = {
        let mut c = slug.chars().take(10);
        c.next()
            .map(|f| f.to_ascii_uppercase().to_string() + &c.collect::<String>())
            .unwrap_or_default()
    };
    let ad_domain = match rng.u8(..100) {
        0..60 => Some(format!("{slug}.local")),
        60..80 => Some(format!("corp.{slug}.com")),
        _ => None,
    };
    Site {
        host_prefix,
        label_prefix,
        ad_domain,
        net_base: net_base(ord as usize),
        integration: rng.usize(..catalog::INTEGRATIONS.len()),
        locations: Vec::new(),
        contacts: Vec::new(),
        next_host: 0,
        next_ip: 10,
        ord,
        next_mac: 0,
    }
}

fn net_base(ord: usize) -> u32 {
    // A /22 per client under 10/8: 64 per second octet.
    let (a, b) = (((ord >> 6) & 0xff) as u32, ((ord & 63) << 2) as u32);
    (10 << 24) | (a << 16) | (b << 8)
}

/// A client's locations and contacts (which its assets' reference fields point at).
fn client_docs(
    rng: &mut fastrand::Rng,
    client: &SimClient,
    site: &mut Site,
    joined: DateTime<Utc>,
) -> Vec<OtherDoc> {
    let mut docs = Vec::new();
    let sites = if rng.u8(..100) < 30 { 2 } else { 1 };
    let mut names: Vec<&str> = catalog::SITE_NAMES.to_vec();
    rng.shuffle(&mut names);
    for name in names.into_iter().take(sites) {
        let (city, state, country, zip) = *pick(rng, catalog::CITIES);
        let at = between(rng, joined, joined + Duration::days(30));
        let values = vec![
            Some(name.to_owned()),
            Some(format!(
                "{} {}",
                rng.u32(1..999),
                pick(rng, catalog::STREETS)
            )),
            (rng.u8(..100) < 30).then(|| format!("Suite {}", rng.u16(100..600))),
            Some(city.to_owned()),
            Some(state.to_owned()),
            Some(country.to_owned()),
            Some(format!("{zip}{:02}", rng.u8(1..99))),
            Some(format!(
                "({}) 555-{:04}",
                rng.u16(201..989),
                rng.u16(100..9999)
            )),
            None,
            None,
        ];
        site.locations.push(name.to_owned());
        docs.push(OtherDoc {
            id: 0,
            client_id: client.id,
            label: name.to_owned(),
            template: &catalog::LOCATION,
            values,
            last_modified: at,
        });
    }
    let mut seen = HashSet::new();
    for _ in 0..rng.usize(1..=3) {
        let first = *pick(rng, catalog::FIRST_NAMES);
        let last = *pick(rng, catalog::LAST_NAMES);
        let full = format!("{first} {last}");
        if !seen.insert(full.clone()) {
            continue;
        }
        let at = between(rng, joined, epoch() - Duration::days(2));
        let mail_domain = site
            .ad_domain
            .as_deref()
            .map_or("example.com", |d| d.trim_start_matches("corp."))
            .replace(".local", ".com");
        let values = vec![
            Some(full.clone()),
            Some(first.to_owned()),
            Some(last.to_owned()),
            Some((*pick(rng, catalog::TITLES)).to_owned()),
            Some(format!(
                "{}.{}@{mail_domain}",
                first.to_lowercase(),
                last.to_lowercase().replace('\'', "")
            )),
            Some(format!(
                "({}) 555-{:04}",
                rng.u16(201..989),
                rng.u16(100..9999)
            )),
            (rng.u8(..100) < 50)
                .then(|| format!("{}-555-{:04}", rng.u16(201..989), rng.u16(100..9999))),
            None,
        ];
        site.contacts.push(full.clone());
        docs.push(OtherDoc {
            id: 0,
            client_id: client.id,
            label: full,
            template: &catalog::CONTACT,
            values,
            last_modified: at,
        });
    }
    docs
}

fn vendor_doc(
    rng: &mut fastrand::Rng,
    client_id: i64,
    manufacturer: &str,
    at: DateTime<Utc>,
) -> OtherDoc {
    OtherDoc {
        id: 0,
        client_id,
        label: manufacturer.to_owned(),
        template: &catalog::VENDOR,
        values: vec![
            Some(manufacturer.to_owned()),
            Some(catalog::vendor_site(manufacturer)),
            Some(format!("1-800-555-{:04}", rng.u16(100..9999))),
            (rng.u8(..100) < 40).then(|| digits(rng, 8)),
            None,
        ],
        last_modified: at,
    }
}

fn pick_kind(rng: &mut fastrand::Rng) -> Kind {
    let mut roll = rng.u32(..100);
    for (k, w) in catalog::KIND_WEIGHTS {
        if roll < *w {
            return *k;
        }
        roll -= w;
    }
    Kind::Other
}

/// One asset document for `client` (id 0: ids are handed out later).
pub fn make_asset(
    rng: &mut fastrand::Rng,
    site: &mut Site,
    client: &SimClient,
    seed: u64,
    modified: DateTime<Utc>,
) -> SimAssetDoc {
    let kind = pick_kind(rng);
    let product = pick(rng, catalog::products(kind));
    let apple = product.manufacturer == "Apple";
    site.next_host += 1;
    let seq = site.next_host;
    let hostname = format!("{}-{}-{seq:03}", site.host_prefix, kind.host_part());
    let mac = site.mac(seed, kind);
    let person = format!(
        "{} {}",
        pick(rng, catalog::FIRST_NAMES),
        pick(rng, catalog::LAST_NAMES)
    );
    let label = match (kind, rng.u8(..100)) {
        // What people name documents: host names, their own patterns, now and then a person's.
        (Kind::Laptop, 0..10) => format!("{}'s Laptop", person.split(' ').next().unwrap_or("")),
        (k, 0..25) if k.is_computer() => format!(
            "{}-{}-{seq:04}",
            site.label_prefix,
            k.type_text().replace(' ', "")
        ),
        (k, 0..40) if !k.is_computer() && k != Kind::Other => {
            let place = site
                .locations
                .first()
                .map_or("Main Office", String::as_str)
                .to_owned();
            format!("{} {} - {place}", product.manufacturer, product.model)
        }
        _ => hostname.clone(),
    };
    let serial = match rng.u8(..100) {
        0..3 if kind.is_computer() && kind != Kind::VirtualMachine => {
            Some((*pick(rng, catalog::PLACEHOLDER_SERIALS)).to_owned())
        }
        0..6 if !kind.is_computer() => None,
        6..8 => Some(format!(" {} ", serial(rng, product.serial, mac))),
        8..10 => Some(serial(rng, product.serial, mac).to_lowercase()),
        _ => Some(serial(rng, product.serial, mac)),
    };
    let has_mac = kind != Kind::Other || rng.bool();
    let ip = site.lan_ip();
    let integrated = kind.is_computer() && rng.u8(..100) < 85;
    let (integration, portal) = catalog::INTEGRATIONS[site.integration];
    let rmm_id = integrated.then(|| format!("{}", 100_000 + rng.u32(..900_000)));
    let (platform, os) = if kind.is_computer() {
        let (p, o) = *pick(rng, catalog::operating_systems(kind, apple));
        (Some(p.to_owned()), Some(o.to_owned()))
    } else if rng.u8(..100) < 20 {
        (Some(catalog::PLEASE_SELECT.to_owned()), None)
    } else {
        (None, None)
    };
    let purchase = (rng.u8(..100) < 60)
        .then(|| between(rng, modified - Duration::days(1500), modified).date_naive());
    let expiration = purchase
        .filter(|_| rng.bool())
        .map(|d| d + Duration::days(3 * 365));
    let user_part = person
        .split(' ')
        .map(|s| s.to_lowercase())
        .collect::<Vec<_>>();
    let login = format!(
        "{}{}",
        user_part
            .first()
            .and_then(|f| f.chars().next())
            .unwrap_or('x'),
        user_part
            .get(1)
            .map_or("user", String::as_str)
            .replace('\'', "")
    );
    SimAssetDoc {
        id: 0,
        client_id: client.id,
        label,
        description: match rng.u8(..100) {
            0..8 => "Reception desk".to_owned(),
            8..12 => format!(
                "Replaced {}",
                date(between(rng, utc(2022, 1, 1), modified).date_naive())
            ),
            _ => String::new(),
        },
        custom_id: if rng.u8(..100) < 10 {
            format!("A-{}", rng.u32(1000..9999))
        } else {
            String::new()
        },
        asset_type: Some(if rng.u8(..100) < 2 {
            catalog::PLEASE_SELECT.to_owned()
        } else {
            kind.type_text().to_owned()
        }),
        status: match rng.u8(..100) {
            0..10 => Some(catalog::PLEASE_SELECT.to_owned()),
            10..15 => None,
            _ => Some((*pick(rng, catalog::STATUSES)).to_owned()),
        },
        asset_tag: (rng.u8(..100) < 40).then(|| format!("AT-{:05}", rng.u32(1..99_999))),
        hostname: (kind != Kind::Other).then(|| hostname.clone()),
        assigned_user: (matches!(kind, Kind::Workstation | Kind::Laptop) && rng.u8(..100) < 50)
            .then(|| pick_opt(rng, &site.contacts).cloned())
            .flatten(),
        location: (rng.u8(..100) < 80)
            .then(|| pick_opt(rng, &site.locations).cloned())
            .flatten(),
        model: (rng.u8(..100) < 95).then(|| product.model.to_owned()),
        serial,
        purchased_by: (rng.u8(..100) < 10).then(|| INTERNAL_CLIENT.to_owned()),
        manufacturer: (rng.u8(..100) < 97).then(|| product.manufacturer.to_owned()),
        purchase_date: purchase.map(date),
        platform,
        primary_ip: (kind != Kind::Other).then(|| ipv4(ip)),
        secondary_ip: (kind == Kind::Server && rng.u8(..100) < 30).then(|| ipv4(ip + 256)),
        default_gateway: (kind != Kind::Other).then(|| ipv4(site.net_base + 1)),
        mac_address: has_mac.then(|| format_mac(rng, mac)),
        operating_system: os,
        os_notes: (kind.is_computer() && rng.u8(..100) < 10)
            .then(|| "Activated via KMS".to_owned()),
        firmware_version: (!product.firmware.is_empty() && rng.u8(..100) < 85)
            .then(|| (*pick(rng, product.firmware)).to_owned()),
        processor: kind
            .is_computer()
            .then(|| (*pick(rng, catalog::PROCESSORS)).to_owned()),
        memory: kind
            .is_computer()
            .then(|| (*pick(rng, catalog::MEMORY)).to_owned()),
        storage: kind
            .is_computer()
            .then(|| (*pick(rng, catalog::STORAGE)).to_owned()),
        domain: if kind.is_computer() {
            site.ad_domain.clone()
        } else {
            None
        },
        portal_url: rmm_id.as_ref().map(|id| format!("{portal}{id}")),
        remote_launch_url: rmm_id
            .as_ref()
            .filter(|_| integration == "N-central")
            .map(|id| format!("https://ncentral.acmeit.example/remote/launch?deviceID={id}")),
        integration_type: integrated.then(|| integration.to_owned()),
        rmm_id,
        last_logged_in_user: (integrated && kind != Kind::Server).then(|| match &site.ad_domain {
            Some(d) => format!(
                "{}\\{login}",
                d.split('.').next().unwrap_or("CORP").to_uppercase()
            ),
            None => login.clone(),
        }),
        install_date: (rng.u8(..100) < 50)
            .then(|| date(between(rng, modified - Duration::days(900), modified).date_naive())),
        installed_by: (rng.u8(..100) < 30).then(|| {
            format!(
                "{} {}",
                pick(rng, catalog::FIRST_NAMES),
                pick(rng, catalog::LAST_NAMES)
            )
        }),
        expiration_date: expiration.map(date),
        antivirus: (kind.is_computer() && rng.u8(..100) < 70)
            .then(|| (*pick(rng, catalog::ANTIVIRUS)).to_owned()),
        support_contract: (rng.u8(..100) < 25)
            .then(|| (*pick(rng, catalog::SUPPORT_CONTRACTS)).to_owned()),
        notes: (rng.u8(..100) < 8).then(|| "Warranty renewal quoted".to_owned()),
        last_modified: whole_seconds(modified),
    }
}

impl Site {
    /// A MAC unique tenant-wide, from an OUI that suits the kind.
    fn mac(&mut self, seed: u64, kind: Kind) -> [u8; 6] {
        let oui = match kind {
            Kind::Switch | Kind::Router => [0x70, 0x0f, 0x6a],
            Kind::AccessPoint => [0x74, 0xac, 0xb9],
            Kind::Firewall => [0x00, 0x09, 0x0f],
            Kind::Printer => [0x3c, 0x2a, 0xf4],
            Kind::VirtualMachine => [0x00, 0x50, 0x56],
            _ => [
                0x00,
                0x1b,
                0x21 + (mix(seed, u64::from(self.ord)) % 8) as u8,
            ],
        };
        self.next_mac += 1;
        let n = (self.ord << 12) | (self.next_mac & 0xfff);
        [
            oui[0],
            oui[1],
            oui[2],
            (n >> 16) as u8,
            (n >> 8) as u8,
            n as u8,
        ]
    }

    fn lan_ip(&mut self) -> u32 {
        self.next_ip += 1;
        // Stay inside the /22 (1021 hosts); wrap for absurdly large clients.
        self.net_base + 10 + (self.next_ip - 10) % 1000
    }
}

fn serial(rng: &mut fastrand::Rng, style: Serial, mac: [u8; 6]) -> String {
    match style {
        Serial::DellTag => alnum_upper(rng, 7),
        Serial::Prefixed(p, n) => format!("{p}{}", alnum_upper(rng, n)),
        Serial::Apple => {
            if rng.bool() {
                format!("C02{}", alnum_upper(rng, 9))
            } else {
                alnum_upper(rng, 10)
            }
        }
        Serial::Mac => mac.iter().map(|b| format!("{b:02X}")).collect(),
        Serial::Meraki(p) => format!("{p}-{}-{}", alnum_upper(rng, 4), alnum_upper(rng, 4)),
        Serial::Digits(p, n) => format!("{p}{}", digits(rng, n)),
        Serial::Vmware => {
            let bytes: Vec<String> = (0..16).map(|_| format!("{:02x}", rng.u8(..))).collect();
            format!("VMware-{}-{}", bytes[..8].join(" "), bytes[8..].join(" "))
        }
        Serial::HyperV => format!(
            "{}-{}-{}-{}-{}-{}",
            digits(rng, 4),
            digits(rng, 4),
            digits(rng, 4),
            digits(rng, 4),
            digits(rng, 4),
            digits(rng, 2)
        ),
    }
}

fn format_mac(rng: &mut fastrand::Rng, m: [u8; 6]) -> String {
    // People paste MACs from wherever they found them.
    let parts: Vec<String> = m.iter().map(|b| format!("{b:02X}")).collect();
    match rng.u8(..10) {
        0..6 => parts.join(":"),
        6..8 => parts.join("-"),
        _ => parts.join(":").to_lowercase(),
    }
}

fn ipv4(a: u32) -> String {
    let [w, x, y, z] = a.to_be_bytes();
    format!("{w}.{x}.{y}.{z}")
}

fn date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

pub fn whole_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}

/// A different spelling of the company name (never one already taken).
fn respell(rng: &mut fastrand::Rng, name: &str, taken: &mut HashSet<String>) -> String {
    let mut options = respellings(name);
    rng.shuffle(&mut options);
    for o in options {
        if o != name && taken.insert(o.clone()) {
            return o;
        }
    }
    name.to_owned()
}

/// Plausible other spellings of a company name, as people type them into another tool.
fn respellings(name: &str) -> Vec<String> {
    // Longest suffixes first: ", Inc." also ends with " Inc.".
    const SWAPS: &[(&str, &[&str])] = &[
        (" & Co.", &[" & Company", " and Co."]),
        (" Pty Ltd", &[" Pty. Ltd.", " Pty Limited"]),
        (", Ltd.", &[" Ltd.", " Limited"]),
        (", Inc.", &[" Inc", " Incorporated"]),
        (" Inc.", &[", Inc", " Incorporated"]),
        (" Ltd", &[" Limited", ", Ltd"]),
        (" LLC", &[", L.L.C.", " L.L.C."]),
        (" Co.", &[" Company"]),
        (" PLLC", &[", P.L.L.C."]),
        (" GmbH", &[" G.m.b.H."]),
        (" S.A.", &[" SA"]),
        (" LLP", &[" L.L.P."]),
        (" Group", &[" Grp"]),
    ];
    let mut out = Vec::new();
    if let Some((suffix, alts)) = SWAPS.iter().find(|(s, _)| name.ends_with(s)) {
        let stem = &name[..name.len() - suffix.len()];
        out.extend(alts.iter().map(|a| format!("{stem}{a}")));
    } else {
        out.extend(
            [" Inc", " LLC", " Ltd."]
                .iter()
                .map(|s| format!("{name}{s}")),
        );
    }
    if name.contains(" & ") {
        out.push(name.replace(" & ", " and "));
    }
    if name.contains('\'') {
        out.push(name.replace('\'', "\u{2019}"));
    }
    if let Some(rest) = name.strip_prefix("St. ") {
        out.push(format!("Saint {rest}"));
    }
    if let Some(rest) = name.strip_prefix("Dr. ") {
        out.push(format!("Doctor {rest}"));
    }
    out
}

/// One of the catalog's (non-empty, constant) choices.
fn pick<'a, T>(rng: &mut fastrand::Rng, items: &'a [T]) -> &'a T {
    &items[rng.usize(..items.len())]
}

/// One of a site's own entries, if it has any.
fn pick_opt<'a, T>(rng: &mut fastrand::Rng, items: &'a [T]) -> Option<&'a T> {
    items.get(rng.usize(..items.len().max(1)))
}

/// A time in `[lo, hi]` with second precision.
fn between(rng: &mut fastrand::Rng, lo: DateTime<Utc>, hi: DateTime<Utc>) -> DateTime<Utc> {
    let (a, b) = (lo.timestamp(), hi.timestamp());
    let t = if b > a { rng.i64(a..=b) } else { a };
    DateTime::from_timestamp(t, 0).unwrap_or(lo)
}

fn alnum_upper(rng: &mut fastrand::Rng, n: usize) -> String {
    const A: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
    (0..n)
        .map(|_| char::from(A[rng.usize(..A.len())]))
        .collect()
}

fn digits(rng: &mut fastrand::Rng, n: usize) -> String {
    (0..n).map(|_| char::from(b'0' + rng.u8(..10))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_the_documented_shapes() {
        let id = access_key_id(7);
        assert_eq!(id.len(), 64);
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        assert_eq!(id, access_key_id(7));
        assert_ne!(id, access_key_id(8));
        let s = secret_access_key(7, 0);
        assert_eq!(s.len(), 64);
        assert!(s.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert!(!s.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(s, secret_access_key(7, 1));
        assert_eq!(s, secret_access_key(7, 0));
    }

    #[test]
    fn names_are_encoded_like_htmlspecialchars() {
        assert_eq!(html_encode("Smith & Sons"), "Smith &amp; Sons");
        assert_eq!(
            html_encode("Matt's Museum of Marbles"),
            "Matt&#039;s Museum of Marbles"
        );
        assert_eq!(html_encode("<\"x\">"), "&lt;&quot;x&quot;&gt;");
        assert_eq!(html_encode("Contoso"), "Contoso");
    }

    #[test]
    fn respellings_differ_and_keep_the_stem() {
        for name in [
            "Contoso",
            "Smith & Sons, Ltd.",
            "Margie's Travel Inc.",
            "St. Anne's Parish",
        ] {
            let alts = respellings(name);
            assert!(!alts.is_empty(), "{name}");
            for a in alts {
                assert_ne!(a, name);
                assert!(a.starts_with(&name[..3]) || a.starts_with("Saint"), "{a}");
            }
        }
    }
}
