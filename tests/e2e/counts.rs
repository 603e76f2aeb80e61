//! End-to-end: clients, devices and billable counts over all three vendors, on a simulator
//! dataset built so that every answer is known.
//!
//! The dataset is a list of *physical* devices, each with the reports the vendors make of it
//! (their type, managed state, serial and MACs as the vendor spells them), and a list of
//! clients with each vendor's spelling of their name. Expected clients, device groupings,
//! counts and Auvik's billing figures are derived here from that definition with CONTRACT §5's
//! rules, written out independently of the agent's code.

use crate::common;
use crate::common::{Agent, ThreeSims};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Vendor {
    Auvik,
    Syncro,
    Passportal,
}

impl Vendor {
    /// The `[[source]]` name each vendor has in this test's config.
    fn source(self) -> &'static str {
        match self {
            Vendor::Auvik => "auvik",
            Vendor::Syncro => "syncro",
            Vendor::Passportal => "passportal",
        }
    }
}

/// How one vendor spells a client: `raw` is what its API returns, `plain` what that means.
#[derive(Debug, Clone, Copy)]
struct Spelling {
    vendor: Vendor,
    raw: &'static str,
    plain: &'static str,
}

#[derive(Debug)]
struct ClientDef {
    spellings: Vec<Spelling>,
    /// Auvik's domain prefix, when Auvik knows the client.
    auvik_prefix: &'static str,
    /// A `[[client]]` table grouping every spelling under this name.
    group: Option<&'static str>,
    exclude: bool,
}

impl ClientDef {
    /// The assetd client a vendor's member of this client belongs to: the group's name, or
    /// the vendor's own (plain) name, since only identical names group by themselves.
    fn assetd_name(&self, vendor: Vendor) -> &'static str {
        self.group.unwrap_or_else(|| self.spelling(vendor).plain)
    }

    fn spelling(&self, vendor: Vendor) -> Spelling {
        *self
            .spellings
            .iter()
            .find(|s| s.vendor == vendor)
            .unwrap_or_else(|| panic!("dataset: {vendor:?} does not know {self:?}"))
    }
}

/// One vendor's report of a physical device.
#[derive(Debug, Clone)]
struct Report {
    vendor: Vendor,
    /// Auvik's deviceType, Syncro's asset type, Passportal's "Type".
    kind: &'static str,
    /// The CONTRACT §4 category that `kind` means.
    category: &'static str,
    /// Auvik's manageStatus; for Syncro, whether its RMM agent reports the device; Passportal
    /// has no such notion.
    managed: Option<bool>,
    serial: Option<&'static str>,
    macs: Vec<&'static str>,
}

#[derive(Debug, Clone)]
struct DeviceDef {
    client: usize,
    reports: Vec<Report>,
    /// Disappears from every vendor after the first sync.
    removed_later: bool,
}

const BILLABLE: [&str; 7] = [
    "router",
    "switch",
    "l3_switch",
    "voip_switch",
    "switch_stack",
    "firewall",
    "controller",
];

fn s(vendor: Vendor, raw: &'static str, plain: &'static str) -> Spelling {
    Spelling { vendor, raw, plain }
}

fn clients() -> Vec<ClientDef> {
    use Vendor::*;
    vec![
        // 0: identical everywhere: groups by itself.
        ClientDef {
            spellings: vec![
                s(Auvik, "Contoso Ltd", "Contoso Ltd"),
                s(Syncro, "Contoso Ltd", "Contoso Ltd"),
                s(Passportal, "Contoso Ltd", "Contoso Ltd"),
            ],
            auvik_prefix: "contoso",
            group: None,
            exclude: false,
        },
        // 1: identical after HTML-entity decoding and trimming.
        ClientDef {
            spellings: vec![
                s(Auvik, "Smith & Sons", "Smith & Sons"),
                s(Syncro, " Smith &amp; Sons ", "Smith & Sons"),
                s(Passportal, "Smith & Sons", "Smith & Sons"),
            ],
            auvik_prefix: "smithsons",
            group: None,
            exclude: false,
        },
        // 2: near-identical and not mapped: two clients, both unmapped (no fuzzy guessing).
        ClientDef {
            spellings: vec![
                s(Auvik, "Fabrikam", "Fabrikam"),
                s(Syncro, "Fabrikam, Inc.", "Fabrikam, Inc."),
            ],
            auvik_prefix: "fabrikam",
            group: None,
            exclude: false,
        },
        // 3: near-identical, mapped by a [[client]] table (Auvik by domain prefix).
        ClientDef {
            spellings: vec![
                s(Auvik, "Northwind Traders", "Northwind Traders"),
                s(Syncro, "Northwind Traders LLC", "Northwind Traders LLC"),
            ],
            auvik_prefix: "northwind",
            group: Some("Northwind Traders"),
            exclude: false,
        },
        // 4: different names, mapped (Auvik by tenant id).
        ClientDef {
            spellings: vec![
                s(Auvik, "Tailspin HQ", "Tailspin HQ"),
                s(Passportal, "Tailspin Toys", "Tailspin Toys"),
            ],
            auvik_prefix: "tailspin",
            group: Some("Tailspin Toys"),
            exclude: false,
        },
        // 5: the MSP's own lab, excluded from counts.
        ClientDef {
            spellings: vec![s(Auvik, "Internal Lab", "Internal Lab")],
            auvik_prefix: "msplab",
            group: Some("Internal Lab"),
            exclude: true,
        },
    ]
}

fn auvik(kind: &'static str, category: &'static str, managed: bool) -> Report {
    Report {
        vendor: Vendor::Auvik,
        kind,
        category,
        managed: Some(managed),
        serial: None,
        macs: vec![],
    }
}

fn syncro(kind: &'static str, category: &'static str, agent: bool) -> Report {
    Report {
        vendor: Vendor::Syncro,
        kind,
        category,
        managed: agent.then_some(true),
        serial: None,
        macs: vec![],
    }
}

fn passportal(kind: &'static str, category: &'static str) -> Report {
    Report {
        vendor: Vendor::Passportal,
        kind,
        category,
        managed: None,
        serial: None,
        macs: vec![],
    }
}

impl Report {
    fn serial(mut self, s: &'static str) -> Self {
        self.serial = Some(s);
        self
    }

    fn mac(mut self, m: &'static str) -> Self {
        self.macs.push(m);
        self
    }
}

fn device(client: usize, reports: Vec<Report>) -> DeviceDef {
    DeviceDef {
        client,
        reports,
        removed_later: false,
    }
}

fn devices() -> Vec<DeviceDef> {
    let mut d = vec![
        // --- Contoso (0)
        // Auvik and Syncro, same serial spelled differently.
        device(
            0,
            vec![
                auvik("switch", "switch", true)
                    .serial("FOC1234X0AB")
                    .mac("00:1b:54:00:00:01"),
                syncro("Network Switch", "switch", false).serial(" foc1234x0ab "),
            ],
        ),
        // Auvik and Passportal, the same MAC only (Passportal has no serial).
        device(
            0,
            vec![
                auvik("firewall", "firewall", true).mac("00:09:0f:aa:00:01"),
                passportal("Firewall", "firewall").mac("00-09-0F-AA-00-01"),
            ],
        ),
        // Two routers with the same placeholder serial: two devices.
        device(
            0,
            vec![
                auvik("router", "router", true)
                    .serial("To be filled by O.E.M.")
                    .mac("00:1b:54:00:00:02"),
            ],
        ),
        device(
            0,
            vec![
                auvik("router", "router", true)
                    .serial("To be filled by O.E.M.")
                    .mac("00:1b:54:00:00:03"),
            ],
        ),
        // Two workstations in two vendors with the same placeholder serial: two devices.
        device(
            0,
            vec![
                syncro("Syncro Device", "workstation", true)
                    .serial("Default string")
                    .mac("3c:52:82:00:00:01"),
            ],
        ),
        device(
            0,
            vec![
                passportal("Workstation", "workstation")
                    .serial("Default string")
                    .mac("3c:52:82:00:00:02"),
            ],
        ),
        // A managed access point counts as one; an unmanaged one does not.
        device(
            0,
            vec![auvik("accessPoint", "access_point", true).serial("AP-CONTOSO-1")],
        ),
        device(
            0,
            vec![auvik("thinAccessPoint", "access_point", false).serial("AP-CONTOSO-2")],
        ),
        // An unmanaged switch is never billable.
        device(
            0,
            vec![auvik("switch", "switch", false).serial("FOC-UNMANAGED-1")],
        ),
        device(
            0,
            vec![auvik("l3Switch", "l3_switch", true).serial("L3-CONTOSO-1")],
        ),
        // Removed after the first sync: counted before, never after.
        DeviceDef {
            client: 0,
            reports: vec![auvik("utm", "firewall", true).serial("UTM-CONTOSO-GONE")],
            removed_later: true,
        },
        // --- Smith & Sons (1)
        device(
            1,
            vec![auvik("voipSwitch", "voip_switch", true).serial("VOIP-SMITH-1")],
        ),
        device(
            1,
            vec![auvik("stack", "switch_stack", true).serial("STACK-SMITH-1")],
        ),
        device(
            1,
            vec![auvik("controller", "controller", true).serial("WLC-SMITH-1")],
        ),
        device(
            1,
            vec![auvik("securityAppliance", "firewall", true).serial("SA-SMITH-1")],
        ),
        // A server Syncro's agent and Passportal both know: one device, never billable.
        device(
            1,
            vec![
                syncro("Syncro Device", "server", true)
                    .serial("SRV-SMITH-01")
                    .mac("00:50:56:00:00:01"),
                passportal("Server", "server").serial("srv-smith-01"),
            ],
        ),
        // --- Fabrikam (2): its Auvik and Syncro halves are different clients.
        device(2, vec![auvik("router", "router", true).serial("ISR-FAB-1")]),
        device(
            2,
            vec![syncro("Firewall", "firewall", false).serial("FGT-FAB-1")],
        ),
        // --- Northwind (3): grouped, so a device both report counts once in the group.
        device(
            3,
            vec![
                auvik("firewall", "firewall", true).serial("FGT-NW-1"),
                syncro("Firewall", "firewall", false).serial("FGT-NW-1"),
            ],
        ),
        // Serial "0" is a placeholder: these two stay apart.
        device(
            3,
            vec![
                auvik("switch", "switch", true)
                    .serial("0")
                    .mac("00:1b:54:00:03:01"),
            ],
        ),
        device(
            3,
            vec![
                syncro("Switch", "switch", false)
                    .serial("0")
                    .mac("00:1b:54:00:03:02"),
            ],
        ),
        // --- Tailspin (4)
        device(
            4,
            vec![auvik("l3Switch", "l3_switch", true).serial("L3-TAILSPIN-1")],
        ),
        device(4, vec![passportal("Router", "router").serial("N/A")]),
        // --- Internal Lab (5): billable, but the client is excluded.
        device(
            5,
            vec![auvik("firewall", "firewall", true).serial("FGT-LAB-1")],
        ),
    ];
    // Five switches sharing one serial: too many to be one device (a vendor's junk
    // serial), so each stays its own and all five count.
    for mac in [
        "00:1b:54:00:09:01",
        "00:1b:54:00:09:02",
        "00:1b:54:00:09:03",
        "00:1b:54:00:09:04",
        "00:1b:54:00:09:05",
    ] {
        d.push(device(
            1,
            vec![
                auvik("switch", "switch", true)
                    .serial("1234567890")
                    .mac(mac),
            ],
        ));
    }
    d
}

/// The nine services of CONTRACT §5 for one client.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Counts(BTreeMap<&'static str, i64>);

const SERVICES: [&str; 9] = [
    "total_billable",
    "firewalls",
    "controllers",
    "routers",
    "l3_switches",
    "voip_switches",
    "switch_stacks",
    "total_switches",
    "access_points",
];

impl Counts {
    fn zero() -> Self {
        Counts(SERVICES.iter().map(|s| (*s, 0)).collect())
    }

    fn add(&mut self, service: &'static str) {
        *self.0.entry(service).or_default() += 1;
    }

    fn from_json(v: &Value) -> Self {
        Counts(
            SERVICES
                .iter()
                .map(|s| (*s, v[*s].as_i64().unwrap_or(-1)))
                .collect(),
        )
    }
}

/// CONTRACT §5: a device is billable when one of its reports is managed and of a billable
/// category; it counts once, for its client; managed access points are counted but never
/// billable; removed devices and excluded clients are left out.
fn expected_counts(clients: &[ClientDef], devices: &[DeviceDef]) -> BTreeMap<String, Counts> {
    let mut out: BTreeMap<String, Counts> = BTreeMap::new();
    for c in clients.iter().filter(|c| !c.exclude) {
        for sp in &c.spellings {
            out.entry(c.assetd_name(sp.vendor).to_string())
                .or_insert_with(Counts::zero);
        }
    }
    for d in devices.iter().filter(|d| !d.removed_later) {
        let client = &clients[d.client];
        if client.exclude {
            continue;
        }
        let name = client.assetd_name(d.reports[0].vendor).to_string();
        let counts = out.entry(name).or_insert_with(Counts::zero);
        let billable = d
            .reports
            .iter()
            .find(|r| r.managed == Some(true) && BILLABLE.contains(&r.category));
        if let Some(r) = billable {
            counts.add("total_billable");
            match r.category {
                "firewall" => counts.add("firewalls"),
                "controller" => counts.add("controllers"),
                "router" => counts.add("routers"),
                "l3_switch" => counts.add("l3_switches"),
                "voip_switch" => counts.add("voip_switches"),
                "switch_stack" => counts.add("switch_stacks"),
                _ => {}
            }
            if ["switch", "l3_switch", "voip_switch", "switch_stack"].contains(&r.category) {
                counts.add("total_switches");
            }
        }
        if d.reports
            .iter()
            .any(|r| r.category == "access_point" && r.managed == Some(true))
        {
            counts.add("access_points");
        }
    }
    out
}

/// What Auvik bills per assetd client: its own managed devices of a billable type, per
/// tenant, summed over the client's tenants.
fn expected_auvik_billing(clients: &[ClientDef], devices: &[DeviceDef]) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for (i, c) in clients.iter().enumerate() {
        if c.exclude || !c.spellings.iter().any(|s| s.vendor == Vendor::Auvik) {
            continue;
        }
        let n = devices
            .iter()
            .filter(|d| d.client == i && !d.removed_later)
            .flat_map(|d| &d.reports)
            .filter(|r| {
                r.vendor == Vendor::Auvik
                    && r.managed == Some(true)
                    && BILLABLE.contains(&r.category)
            })
            .count();
        *out.entry(c.assetd_name(Vendor::Auvik).to_string())
            .or_insert(0.0) += n as f64;
    }
    out
}

// ------------------------------------------------------------------------------------------
// Loading the dataset into the simulators

/// The vendor's id of each client (per vendor) and of each report (per device).
struct Loaded {
    client_ids: Vec<HashMap<Vendor, String>>,
    report_ids: Vec<Vec<(Vendor, String)>>,
}

fn load(sims: &ThreeSims, clients: &[ClientDef], devices: &[DeviceDef]) -> Loaded {
    let client_ids: Vec<HashMap<Vendor, String>> = clients
        .iter()
        .map(|c| {
            c.spellings
                .iter()
                .map(|sp| {
                    let id = match sp.vendor {
                        Vendor::Auvik => sims
                            .auvik
                            .add_tenant(sp.raw, c.auvik_prefix)
                            .expect("a new tenant"),
                        Vendor::Syncro => sims.syncro.add_customer(sp.raw).to_string(),
                        Vendor::Passportal => sims.passportal.add_client(sp.raw).to_string(),
                    };
                    (sp.vendor, id)
                })
                .collect()
        })
        .collect();
    let report_ids = devices
        .iter()
        .enumerate()
        .map(|(n, d)| {
            d.reports
                .iter()
                .map(|r| {
                    let owner = &client_ids[d.client][&r.vendor];
                    (r.vendor, add_report(sims, owner, r, n))
                })
                .collect()
        })
        .collect();
    Loaded {
        client_ids,
        report_ids,
    }
}

/// Adds one report to its vendor's simulator, every identifying field set from the
/// definition (and only from it: seeded serials and MACs are replaced).
fn add_report(sims: &ThreeSims, owner: &str, r: &Report, n: usize) -> String {
    let name = format!("dev-{n:02}-{}", r.kind.replace(' ', "-"));
    match r.vendor {
        Vendor::Auvik => {
            let id = sims.auvik.add_device(owner);
            assert!(sims.auvik.update_device(&id, |d| {
                d.name = name;
                d.device_type = r.kind.to_string();
                d.serial = r.serial.map(str::to_string);
                d.mac_addresses = r.macs.iter().map(|m| m.to_string()).collect();
                d.manage_status = r.managed == Some(true);
            }));
            id
        }
        Vendor::Syncro => {
            let customer: i64 = owner.parse().expect("customer id");
            let id = sims.syncro.add_asset(customer).expect("a new asset");
            assert!(sims.syncro.update_asset(id, |a| {
                a.name = name;
                a.asset_type = r.kind.to_string();
                a.asset_serial = r.serial.map(str::to_string);
                a.properties = if r.managed == Some(true) {
                    // The RMM agent's facts: what makes a Syncro asset managed.
                    let form_factor = if r.category == "server" {
                        "Rack Mount Chassis"
                    } else {
                        "Desktop"
                    };
                    let os = if r.category == "server" {
                        "Microsoft Windows Server 2022 Standard"
                    } else {
                        "Microsoft Windows 11 Pro"
                    };
                    json!({"kabuto_information": {
                        "general": {"serial_number": r.serial, "form_factor": form_factor},
                        "os": {"name": os},
                        "network_adapters": r.macs.iter()
                            .map(|m| json!({"physical_address": m}))
                            .collect::<Vec<_>>(),
                    }})
                } else if r.macs.is_empty() {
                    json!({})
                } else {
                    json!({"MAC Address": r.macs.join(", ")})
                };
            }));
            id.to_string()
        }
        Vendor::Passportal => {
            let client: i64 = owner.parse().expect("client id");
            let id = sims.passportal.add_asset(client).expect("a new asset");
            assert!(sims.passportal.update_asset(id, |a| {
                a.label = name;
                a.asset_type = Some(r.kind.to_string());
                a.serial = r.serial.map(str::to_string);
                a.mac_address = (!r.macs.is_empty()).then(|| r.macs.join(", "));
            }));
            id.to_string()
        }
    }
}

fn remove_report(sims: &ThreeSims, vendor: Vendor, id: &str) {
    let removed = match vendor {
        Vendor::Auvik => sims.auvik.remove_device(id),
        Vendor::Syncro => sims.syncro.remove_asset(id.parse().expect("id")),
        Vendor::Passportal => sims.passportal.remove_asset(id.parse().expect("id")),
    };
    assert!(removed, "{vendor:?} {id} removed");
}

fn config(agent: &Agent, sims: &ThreeSims, clients: &[ClientDef], loaded: &Loaded) -> String {
    let mut text = agent.agent_section();
    text += &sims.sources(agent.dir.path(), "");
    for (i, c) in clients.iter().enumerate() {
        let Some(group) = c.group else { continue };
        // Each way a member may be named: Auvik by domain prefix or tenant id (alternating,
        // so both are exercised), the others by name.
        let members: Vec<String> = c
            .spellings
            .iter()
            .map(|sp| {
                let key = match sp.vendor {
                    Vendor::Auvik if i % 2 == 0 => loaded.client_ids[i][&Vendor::Auvik].clone(),
                    Vendor::Auvik => c.auvik_prefix.to_string(),
                    _ => sp.plain.to_string(),
                };
                format!("\"{}:{key}\"", sp.vendor.source())
            })
            .collect();
        text += &format!(
            "[[client]]\nname = \"{group}\"\nexclude = {}\nmembers = [{}]\n\n",
            c.exclude,
            members.join(", ")
        );
    }
    text
}

fn sync_all(agent: &Agent) {
    for v in [Vendor::Auvik, Vendor::Syncro, Vendor::Passportal] {
        let run = agent.sync_source(v.source(), true);
        assert_eq!(run["state"], "ok", "{run}\n{}", agent.log_text());
    }
}

fn counts_by_client(agent: &Agent, args: &[&str]) -> BTreeMap<String, Value> {
    let mut full = vec!["counts"];
    full.extend_from_slice(args);
    agent.rows_by_client(&full)
}

/// Every listed client's counts equal the derived ones; a client the dataset does not
/// define (the MSP's own Passportal client) has nothing to count.
fn assert_counts(agent: &Agent, expected: &BTreeMap<String, Counts>, when: &str) {
    let got = counts_by_client(agent, &[]);
    for (client, want) in expected {
        let row = got
            .get(client)
            .unwrap_or_else(|| panic!("{when}: no counts for {client:?}; got {got:#?}"));
        assert_eq!(
            &Counts::from_json(row),
            want,
            "{when}: counts of {client:?}"
        );
    }
    for (client, row) in &got {
        if !expected.contains_key(client) {
            assert_eq!(
                Counts::from_json(row),
                Counts::zero(),
                "{when}: {client:?} is not in the dataset"
            );
        }
    }
    assert!(
        !got.contains_key("Internal Lab"),
        "{when}: an excluded client is left out of counts"
    );
}

#[test]
fn three_vendors_give_known_clients_devices_and_counts() {
    let sims = common::start_three_sims(500, None);
    let clients = clients();
    let devices = devices();
    let loaded = load(&sims, &clients, &devices);
    let agent = Agent::start_with(|a| config(a, &sims, &clients, &loaded));
    sync_all(&agent);

    // Before the removals: removed_later devices still count.
    let mut everything = devices.clone();
    for d in &mut everything {
        d.removed_later = false;
    }
    assert_counts(
        &agent,
        &expected_counts(&clients, &everything),
        "first sync",
    );

    // --- Devices: each defined device is one merged device with exactly its sources.
    let assets = agent.assets(false);
    let device_of: HashMap<(String, String), i64> = assets
        .iter()
        .map(|a| {
            (
                (
                    a["source"].as_str().unwrap_or_default().to_string(),
                    a["external_id"].as_str().unwrap_or_default().to_string(),
                ),
                a["device_id"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    let listed: HashMap<i64, Value> = agent
        .json(&["devices"])
        .as_array()
        .expect("array")
        .iter()
        .map(|d| (d["id"].as_i64().unwrap_or(0), d.clone()))
        .collect();
    let mut seen = BTreeSet::new();
    for (n, (d, ids)) in devices.iter().zip(&loaded.report_ids).enumerate() {
        let merged: BTreeSet<i64> = ids
            .iter()
            .map(|(v, id)| {
                *device_of
                    .get(&(v.source().to_string(), id.clone()))
                    .unwrap_or_else(|| panic!("device {n}: {v:?} asset {id} not listed"))
            })
            .collect();
        assert_eq!(
            merged.len(),
            1,
            "device {n} ({d:?}) is one device: {merged:?}"
        );
        let id = *merged.iter().next().expect("one");
        assert!(
            seen.insert(id),
            "device {n} is merged with another defined device"
        );
        let sources: BTreeSet<String> = listed[&id]["sources"]
            .as_array()
            .expect("sources")
            .iter()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect();
        let want: BTreeSet<String> = d
            .reports
            .iter()
            .map(|r| r.vendor.source().to_string())
            .collect();
        assert_eq!(sources, want, "device {n}: the sources that report it");
        let want_client = clients[d.client].assetd_name(d.reports[0].vendor);
        assert_eq!(listed[&id]["client"], want_client, "device {n}: its client");
    }

    // --- Clients: grouping, unmapped and excluded flags, members per source.
    let listed_clients: BTreeMap<String, Value> = agent
        .json(&["clients"])
        .as_array()
        .expect("array")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap_or_default().to_string(),
                c.clone(),
            )
        })
        .collect();
    let mut members: BTreeMap<&str, BTreeSet<(String, String)>> = BTreeMap::new();
    for (i, c) in clients.iter().enumerate() {
        for sp in &c.spellings {
            members
                .entry(c.assetd_name(sp.vendor))
                .or_default()
                .insert((
                    sp.vendor.source().to_string(),
                    loaded.client_ids[i][&sp.vendor].clone(),
                ));
        }
    }
    for (name, want) in &members {
        let c = listed_clients
            .get(*name)
            .unwrap_or_else(|| panic!("client {name:?} listed: {listed_clients:#?}"));
        let got: BTreeSet<(String, String)> = c["members"]
            .as_array()
            .expect("members")
            .iter()
            .map(|m| {
                (
                    m["source"].as_str().unwrap_or_default().to_string(),
                    m["external_id"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        assert_eq!(&got, want, "members of {name:?}");
        let def = clients
            .iter()
            .find(|d| {
                d.spellings
                    .iter()
                    .any(|sp| d.assetd_name(sp.vendor) == *name)
            })
            .expect("defined");
        assert_eq!(c["excluded"], def.exclude, "{name:?} excluded");
        // Unmapped: known to one source only while several are configured, unless excluded.
        let unmapped = !def.exclude && want.len() == 1;
        assert_eq!(c["unmapped"], unmapped, "{name:?} unmapped");
    }
    let unmapped: BTreeSet<String> = agent
        .json(&["clients", "--unmapped"])
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|c| c["name"].as_str().map(str::to_string))
        .collect();
    for name in ["Fabrikam", "Fabrikam, Inc."] {
        assert!(
            unmapped.contains(name),
            "{name:?} is unmapped: {unmapped:?}"
        );
    }

    // --- Removals: gone from every vendor, then a full sync of each.
    for (d, ids) in devices.iter().zip(&loaded.report_ids) {
        if d.removed_later {
            for (v, id) in ids {
                remove_report(&sims, *v, id);
            }
        }
    }
    sync_all(&agent);
    let expected = expected_counts(&clients, &devices);
    assert_counts(&agent, &expected, "after removals");

    // --- Auvik's billing beside ours, for this month (snapshots and figures are of today).
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    let period = counts_by_client(&agent, &["--period", &month]);
    let auvik_billing = expected_auvik_billing(&clients, &devices);
    for (client, want) in &expected {
        let row = &period[client];
        let ours = want.0["total_billable"] as f64;
        assert_eq!(
            row["average_billable"].as_f64(),
            Some(ours),
            "{client:?}: {row}"
        );
        match auvik_billing.get(client) {
            Some(theirs) => {
                assert_eq!(
                    row["auvik_average_billable"].as_f64(),
                    Some(*theirs),
                    "{client:?}: {row}"
                );
                assert_eq!(
                    row["difference"].as_f64(),
                    Some(ours - theirs),
                    "{client:?}: {row}"
                );
            }
            None => {
                assert!(row["auvik_average_billable"].is_null(), "{client:?}: {row}");
                assert!(row["difference"].is_null(), "{client:?}: {row}");
            }
        }
    }
}
