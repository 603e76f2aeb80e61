//! Deterministic generation of the simulated MSP account: tenants, their networks and devices.
//!
//! Every tenant draws from its own RNG (seeded from the seed and the tenant's position), so a
//! tenant's devices do not depend on how many other tenants there are, and generation is a
//! straight loop with no global state: 100,000 devices take a fraction of a second.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use chrono::{DateTime, Duration, TimeZone, Utc};

use super::catalog::{self, DEVICE_TYPES};
use super::{AuvikSimOptions, SimDevice, SimDiscovery, SimLifecycle, SimTenant, SimWarranty};
use crate::sim::names;

/// Seeded timestamps lie before this instant, so that any mutation (stamped with the wall
/// clock) is newer than every seeded device.
pub fn epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::UNIX_EPOCH)
}

/// Serials that mean "no serial", as BIOSes and firmwares report them.
pub const PLACEHOLDER_SERIALS: [&str; 4] = ["To be filled by O.E.M.", "0", "", "Default string"];

/// Billing tiers Auvik reports usage by.
pub const TIERS: [&str; 2] = ["essentials", "performance"];

/// One tenant with what the simulator needs beyond [`SimTenant`].
pub struct TenantSeed {
    pub info: SimTenant,
    /// First half of this tenant's device ids (and network ids).
    pub site: u64,
    pub network_id: String,
    pub network_name: String,
    pub network_num: u64,
    /// First address of the tenant's /22.
    pub net_base: u32,
    /// `essentials` or `performance`.
    pub tier: &'static str,
    pub city: &'static str,
    pub devices: Vec<(u64, SimDevice)>,
    /// Name counters, kept so devices added later get fresh names.
    pub names: NameCounter,
}

/// The whole account: root tenant first.
pub struct Seeded {
    pub tenants: Vec<TenantSeed>,
}

/// SplitMix64 step: turns related inputs into unrelated seeds.
pub fn mix(a: u64, b: u64) -> u64 {
    let mut z = a ^ b.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The API key after `rotation` rotations: 40 hex digits, like a real key's length.
pub fn api_key(seed: u64, rotation: u64) -> String {
    let a = mix(seed, 0x6b65_7900 + rotation);
    let b = mix(a, rotation);
    let c = mix(b, seed);
    format!("{a:016x}{b:016x}{c:08x}", c = c as u32)
}

/// An Auvik-style opaque id: unpadded base64 of `"<a>,<b>"`.
pub fn entity_id(a: u64, b: u64) -> String {
    STANDARD_NO_PAD.encode(format!("{a},{b}"))
}

const CITIES: [&str; 8] = [
    "Waterloo", "Toronto", "Chicago", "Denver", "Austin", "Seattle", "Boston", "Atlanta",
];

pub fn generate(opts: &AuvikSimOptions) -> Seeded {
    // 18-digit ids, increasing with the tenant's position.
    let root_id = 190_000_000_000_000_000 + mix(opts.seed, 1) % 9_000_000_000_000_000;
    let client_names = names::client_names(opts.seed, opts.clients);
    let mut used_prefixes: std::collections::HashSet<String> =
        std::iter::once(opts.domain_prefix.clone()).collect();
    let mut tenants = Vec::with_capacity(opts.clients + 1);
    tenants.push(tenant_seed(
        0,
        root_id,
        SimTenant {
            id: root_id.to_string(),
            domain_prefix: opts.domain_prefix.clone(),
            display_name: root_display_name(&opts.domain_prefix),
            tenant_type: "multiClient".to_owned(),
            parent_id: None,
        },
        opts.seed,
    ));
    for (c, name) in client_names.into_iter().enumerate() {
        let ord = c + 1;
        let id = client_id(opts.seed, root_id, ord);
        let mut prefix = names::slug(&name);
        let mut n = 2;
        while !used_prefixes.insert(prefix.clone()) {
            prefix = format!("{}-{n}", names::slug(&name));
            n += 1;
        }
        let info = SimTenant {
            id: id.to_string(),
            domain_prefix: prefix,
            display_name: name,
            tenant_type: "client".to_owned(),
            parent_id: Some(root_id.to_string()),
        };
        let mut t = tenant_seed(ord, id, info, opts.seed);
        let mut counter = NameCounter::default();
        t.devices = client_devices(opts, c, &t, &mut counter);
        t.names = counter;
        tenants.push(t);
    }
    share_serials(&mut tenants);
    Seeded { tenants }
}

/// The id of the client tenant at position `ord` (the root is 0): increasing with `ord`, so a
/// tenant added later gets a larger id than every seeded one, as Auvik's do.
fn client_id(seed: u64, root_id: u64, ord: usize) -> u64 {
    root_id + ord as u64 * 1_000 + mix(seed, ord as u64) % 997
}

/// A client tenant added after seeding (by a test), at position `ord` after every existing
/// tenant: its id, network, tier and city come from the same formulas as the seeded ones'. It
/// has no devices yet.
pub fn added_tenant(
    seed: u64,
    root_id: u64,
    ord: usize,
    display_name: &str,
    domain_prefix: &str,
) -> TenantSeed {
    let id = client_id(seed, root_id, ord);
    let info = SimTenant {
        id: id.to_string(),
        domain_prefix: domain_prefix.to_owned(),
        display_name: display_name.to_owned(),
        tenant_type: "client".to_owned(),
        parent_id: Some(root_id.to_string()),
    };
    tenant_seed(ord, id, info, seed)
}

/// Whether `p` can be a domain prefix: Auvik serves each tenant at `https://<prefix>.my.auvik.com`,
/// so it must be one DNS label. Lower case only: the seeded prefixes are, and a prefix that
/// differs only by case would name the same host.
pub fn valid_domain_prefix(p: &str) -> bool {
    (1..=63).contains(&p.len())
        && p.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !p.starts_with('-')
        && !p.ends_with('-')
}

fn root_display_name(prefix: &str) -> String {
    let mut chars = prefix.chars();
    let first: String = chars
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    format!("{first}{} Managed Services", chars.as_str())
}

fn tenant_seed(ord: usize, id: u64, info: SimTenant, seed: u64) -> TenantSeed {
    let site = id + 3_704_161_127_423;
    // A /22 per tenant under 10/8.
    let (a, b) = (((ord >> 6) & 0xff) as u32, ((ord & 63) << 2) as u32);
    let network_num = site + 17;
    TenantSeed {
        info,
        site,
        network_id: entity_id(site, network_num),
        network_name: format!("10.{a}.{b}.0/22"),
        network_num,
        net_base: (10 << 24) | (a << 16) | (b << 8),
        tier: TIERS[(mix(seed, ord as u64 + 77) % 2) as usize],
        city: CITIES[(mix(seed, ord as u64 + 91) % CITIES.len() as u64) as usize],
        devices: Vec::new(),
        names: NameCounter::default(),
    }
}

/// The number of tenant `t`'s `j`-th seeded device; increasing in `j`.
fn device_num(site: u64, j: usize, rng: &mut fastrand::Rng) -> u64 {
    site + 4_237_000 + j as u64 * 256 + rng.u64(0..256)
}

fn client_devices(
    opts: &AuvikSimOptions,
    c: usize,
    t: &TenantSeed,
    names: &mut NameCounter,
) -> Vec<(u64, SimDevice)> {
    let mut rng = fastrand::Rng::with_seed(mix(opts.seed, 0x1000 + c as u64));
    (0..opts.assets_per_client)
        .map(|j| {
            // Column-major over all clients: the first 47 devices of the account (spread over
            // its tenants) take each device type once, so every type appears somewhere.
            let g = j.saturating_mul(opts.clients).saturating_add(c);
            let device_type = match DEVICE_TYPES.get(g) {
                Some(t) => *t,
                None => weighted_type(&mut rng),
            };
            let num = device_num(t.site, j, &mut rng);
            let dev = make_device(&mut rng, t, j, device_type, num, names, epoch());
            (num, dev)
        })
        .collect()
}

/// Picks a device type by [`catalog::weight`].
pub fn weighted_type(rng: &mut fastrand::Rng) -> &'static str {
    // Cumulative weights, computed once: this runs for every seeded device.
    static CUMULATIVE: std::sync::LazyLock<Vec<u32>> = std::sync::LazyLock::new(|| {
        DEVICE_TYPES
            .iter()
            .scan(0, |acc, t| {
                *acc += catalog::weight(t);
                Some(*acc)
            })
            .collect()
    });
    let total = CUMULATIVE.last().copied().unwrap_or(1);
    let x = rng.u32(0..total);
    let i = CUMULATIVE.partition_point(|&c| c <= x);
    DEVICE_TYPES.get(i).copied().unwrap_or("unknown")
}

/// Per-tenant counters so names read `contoso-sw01`, `contoso-sw02`, ...
#[derive(Default)]
pub struct NameCounter(HashMap<&'static str, u32>);

impl NameCounter {
    fn next(&mut self, tag: &'static str) -> u32 {
        let n = self.0.entry(tag).or_insert(0);
        *n += 1;
        *n
    }
}

fn pick<'a>(rng: &mut fastrand::Rng, xs: &[&'a str]) -> &'a str {
    xs.get(rng.usize(..xs.len().max(1))).copied().unwrap_or("")
}

/// `Some(v)` except for `pct` percent of devices: the nulls real Auvik sends.
fn mostly(rng: &mut fastrand::Rng, pct: u8, v: String) -> Option<String> {
    if rng.u8(..100) < pct { None } else { Some(v) }
}

/// One device of `device_type` in tenant `t`, modified at a seeded time before `before`.
pub fn make_device(
    rng: &mut fastrand::Rng,
    t: &TenantSeed,
    j: usize,
    device_type: &'static str,
    num: u64,
    names: &mut NameCounter,
    before: DateTime<Utc>,
) -> SimDevice {
    let fams = catalog::families(device_type);
    let fam = &fams[rng.usize(..fams.len())];
    let model = pick(rng, fam.models);
    let sw = pick(rng, fam.software);
    let serial = match rng.u16(..1000) {
        0..=59 => None,
        60..=79 => Some(PLACEHOLDER_SERIALS[rng.usize(..PLACEHOLDER_SERIALS.len())].to_owned()),
        _ => Some(catalog::expand_serial(fam.serial, rng)),
    };
    let network = catalog::is_network_gear(device_type);
    let manage_status = rng.u8(..100) < if network { 85 } else { 35 };
    let online_status = match rng.u8(..100) {
        0..=81 => "online",
        82..=89 => "offline",
        90..=92 => "unreachable",
        n => catalog::ONLINE_STATUSES[3 + (n as usize - 93) % 5],
    };
    let last_modified = before - Duration::milliseconds(rng.i64(60_000..200 * 86_400_000));
    let last_seen = match online_status {
        "online" => Some(before - Duration::milliseconds(rng.i64(1_000..600_000))),
        "unknown" | "notPresent" if rng.bool() => None,
        _ => Some(before - Duration::milliseconds(rng.i64(3_600_000..60 * 86_400_000))),
    };
    // Warranty and lifecycle records from an RNG of their own, so every other seeded value
    // stays what it was before they existed.
    let mut lrng = fastrand::Rng::with_seed(mix(t.site, num ^ 0x11fe_c7c1e));
    let (warranty, lifecycle) = lifecycle_records(&mut lrng, fam.vendor, model, today());
    SimDevice {
        warranty,
        lifecycle,
        id: entity_id(t.site, num),
        tenant_id: t.info.id.clone(),
        name: device_name(rng, t, device_type, j, names),
        device_type: device_type.to_owned(),
        vendor_name: mostly(rng, 7, fam.vendor.to_owned()),
        make_model: mostly(rng, 7, model.to_owned()),
        serial,
        software: mostly(rng, 7, sw.to_owned()),
        firmware: {
            let fw = pick(rng, fam.firmware).to_owned();
            mostly(rng, 8, fw)
        },
        description: fam
            .description
            .replace("{model}", model)
            .replace("{sw}", sw),
        ip_addresses: ip_addresses(rng, t, j),
        mac_addresses: mac_addresses(rng, fam.oui, device_type),
        online_status: online_status.to_owned(),
        manage_status,
        discovery: discovery(rng, device_type, manage_status),
        traffic_insights_status: traffic_insights(rng, device_type).to_owned(),
        last_modified,
        last_seen,
    }
}

/// The calendar day seeded warranty dates are spread around: the day the simulator is made
/// (UTC), so that whatever day it runs, some warranties have expired, some expire soon and
/// some run for years, as in a real inventory.
pub fn today() -> chrono::NaiveDate {
    Utc::now().date_naive()
}

/// Auvik's warranty and lifecycle records of a device of `vendor`: Auvik has them for Cisco
/// gear (from Cisco's support APIs), so most Cisco devices have both and others none. Dates
/// fall from about 2.5 years before `today` to 4 years after; a few are null, as are some
/// statuses, and some lifecycle statuses are `empty` (values real data has; the spec's
/// `required` notwithstanding).
pub fn lifecycle_records(
    rng: &mut fastrand::Rng,
    vendor: &str,
    model: &str,
    today: chrono::NaiveDate,
) -> (Option<SimWarranty>, Option<SimLifecycle>) {
    if !vendor.starts_with("Cisco") || rng.u8(..100) >= 90 {
        return (None, None);
    }
    let expires = today + Duration::days(rng.i64(-900..1460));
    let covered = expires >= today;
    let expiration_date = (rng.u8(..100) >= 6).then(|| format!("{expires}T00:00:00.000Z"));
    let coverage_status = match rng.u8(..100) {
        0..6 => None,
        _ if expiration_date.is_none() => Some("Not Covered".to_owned()),
        _ if covered => Some("Covered".to_owned()),
        _ => Some("Not Covered".to_owned()),
    };
    let coverage = |rng: &mut fastrand::Rng| {
        Some(
            match rng.u8(..3) {
                0 => "Covered",
                1 => "Not Covered",
                _ => return None,
            }
            .to_owned(),
        )
    };
    let availability = |rng: &mut fastrand::Rng| {
        (rng.u8(..100) >= 20).then(|| {
            if rng.bool() {
                "Available".to_owned()
            } else {
                "Not Available".to_owned()
            }
        })
    };
    let warranty = SimWarranty {
        coverage_status,
        expiration_date,
        service_coverage_status: coverage(rng),
        service_attachment_status: availability(rng),
        contract_renewal_availability: availability(rng),
        recommended_software_version: (rng.u8(..100) < 60)
            .then(|| format!("17.{}.{} - {model}", rng.u8(3..13), rng.u8(1..6))),
    };
    if rng.u8(..100) >= 85 {
        return (Some(warranty), None);
    }
    // Older gear is further along Cisco's end-of-life milestones.
    const STATUSES: [&str; 6] = [
        "covered",
        "available",
        "expired",
        "securityOnly",
        "unpublished",
        "empty",
    ];
    let status = |rng: &mut fastrand::Rng| match rng.u8(..100) {
        0..5 => None,
        n => Some(STATUSES[usize::from(n) % STATUSES.len()].to_owned()),
    };
    // Support follows age: gear whose warranty has run out is mostly past its last date of
    // support or on security fixes only.
    let last_support = match rng.u8(..100) {
        0..5 => None,
        n if !covered => {
            Some(["expired", "expired", "securityOnly", "available"][usize::from(n) % 4])
        }
        n => Some(["covered", "available", "unpublished", "empty", "covered"][usize::from(n) % 5]),
    };
    let lifecycle = SimLifecycle {
        sales_availability: status(rng),
        software_maintenance_status: status(rng),
        security_software_maintenance_status: status(rng),
        last_support_status: last_support.map(str::to_owned),
    };
    (Some(warranty), Some(lifecycle))
}

fn device_name(
    rng: &mut fastrand::Rng,
    t: &TenantSeed,
    device_type: &str,
    j: usize,
    names: &mut NameCounter,
) -> String {
    const ALNUM: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
    let prefix = &t.info.domain_prefix;
    if device_type == "workstation" && rng.bool() {
        // Windows' default machine names.
        let tail: String = (0..7)
            .map(|_| char::from(ALNUM[rng.usize(..ALNUM.len())]))
            .collect();
        return format!("DESKTOP-{tail}");
    }
    let tag = catalog::name_tag(device_type);
    if tag == "dev" {
        return format!("{prefix}-{device_type}-{j:03}").to_lowercase();
    }
    format!("{prefix}-{tag}{:02}", names.next(tag))
}

fn ip_addresses(rng: &mut fastrand::Rng, t: &TenantSeed, j: usize) -> Vec<String> {
    let primary = t.net_base + 10 + (j % 1000) as u32;
    match rng.u8(..100) {
        0..=3 => Vec::new(),
        4..=9 => vec![
            dotted(primary),
            format!("172.16.{}.{}", rng.u8(0..255), rng.u8(1..255)),
        ],
        _ => vec![dotted(primary)],
    }
}

fn dotted(ip: u32) -> String {
    std::net::Ipv4Addr::from(ip).to_string()
}

fn mac_addresses(rng: &mut fastrand::Rng, oui: [u8; 3], device_type: &str) -> Vec<String> {
    let n = if matches!(
        device_type,
        "switch" | "l3Switch" | "router" | "firewall" | "stack"
    ) {
        2
    } else {
        1
    };
    let tail = rng.u32(..0x00ff_fff0);
    (0..n)
        .map(|i| {
            let t = tail + i;
            format!(
                "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
                oui[0],
                oui[1],
                oui[2],
                (t >> 16) & 0xff,
                (t >> 8) & 0xff,
                t & 0xff
            )
        })
        .collect()
}

fn discovery(rng: &mut fastrand::Rng, device_type: &str, managed: bool) -> SimDiscovery {
    let s = |x: &str| x.to_owned();
    let network = catalog::is_network_gear(device_type);
    let windows = catalog::is_windows_host(device_type);
    let snmp = match (network, managed) {
        (true, true) => pick(rng, &["privileged", "authorized", "authorized"]),
        (true, false) => pick(rng, &["notAuthorized", "determining", "disabled"]),
        (false, _) if windows => pick(rng, &["notSupported", "disabled"]),
        (false, true) => pick(rng, &["authorized", "notSupported"]),
        (false, false) => pick(rng, &["disabled", "notSupported", "notAuthorized"]),
    };
    let login = if network && managed && rng.bool() {
        "authorized"
    } else {
        "disabled"
    };
    let wmi = match (windows, managed) {
        (true, true) => "authorized",
        (true, false) => pick(rng, &["notAuthorized", "authorizing", "disabled"]),
        _ => "notSupported",
    };
    let vmware = match device_type {
        "hypervisor" if managed => "authorized",
        "hypervisor" => "notAuthorized",
        _ => "disabled",
    };
    SimDiscovery {
        snmp: s(snmp),
        login: s(login),
        wmi: s(wmi),
        vmware: s(vmware),
    }
}

fn traffic_insights(rng: &mut fastrand::Rng, device_type: &str) -> &'static str {
    if matches!(device_type, "router" | "firewall" | "utm" | "l3Switch") {
        pick(rng, &["notDetected", "detected", "approved", "forwarding"])
    } else {
        "notDetected"
    }
}

/// Makes a few devices in pairs of client tenants report the same real serial (and make and
/// model), as when a device moved between customers or sits on two of their networks.
fn share_serials(tenants: &mut [TenantSeed]) {
    let clients = tenants.len().saturating_sub(1);
    let pairs = if clients >= 2 {
        (clients / 20).max(1)
    } else {
        0
    };
    for k in 0..pairs {
        let (a, b) = (1 + 2 * k, 2 + 2 * k);
        if b >= tenants.len() {
            break;
        }
        let is_real = |d: &SimDevice| {
            d.serial
                .as_deref()
                .is_some_and(|s| !PLACEHOLDER_SERIALS.contains(&s))
                && catalog::is_network_gear(&d.device_type)
        };
        let Some(src) = tenants[a]
            .devices
            .iter()
            .map(|(_, d)| d)
            .find(|d| is_real(d))
            .cloned()
        else {
            continue;
        };
        if let Some((_, dst)) = tenants[b]
            .devices
            .iter_mut()
            .find(|(_, d)| d.device_type == src.device_type)
        {
            dst.serial = src.serial.clone();
            dst.vendor_name = src.vendor_name.clone();
            dst.make_model = src.make_model.clone();
        }
    }
}
