//! What kinds of hardware the seeded Auvik tenants contain: Auvik's device types (from the
//! `DeviceTypeSchema` enum of the vendor's spec), how common each is at a typical MSP customer,
//! and plausible vendors, models, serial formats and software for each.

/// Every value of the spec's `DeviceTypeSchema` enum, in the spec's order.
pub const DEVICE_TYPES: [&str; 47] = [
    "unknown",
    "switch",
    "l3Switch",
    "router",
    "accessPoint",
    "firewall",
    "workstation",
    "server",
    "storage",
    "printer",
    "copier",
    "hypervisor",
    "multimedia",
    "phone",
    "tablet",
    "handheld",
    "virtualAppliance",
    "bridge",
    "controller",
    "hub",
    "modem",
    "ups",
    "module",
    "loadBalancer",
    "camera",
    "telecommunications",
    "packetProcessor",
    "chassis",
    "airConditioner",
    "virtualMachine",
    "pdu",
    "ipPhone",
    "backhaul",
    "internetOfThings",
    "voipSwitch",
    "stack",
    "backupDevice",
    "timeClock",
    "lightingDevice",
    "audioVisual",
    "securityAppliance",
    "utm",
    "alarm",
    "buildingManagement",
    "ipmi",
    "thinAccessPoint",
    "thinClient",
];

/// `onlineStatus` values the spec allows.
pub const ONLINE_STATUSES: [&str; 8] = [
    "online",
    "offline",
    "unreachable",
    "testing",
    "unknown",
    "dormant",
    "notPresent",
    "lowerLayerDown",
];

/// `discoveryStatus` values the spec allows.
/// The spec's enum of the lifecycle statuses (`deviceLifecycleAttributes`, and the
/// `filter[…]` parameters of `/v1/inventory/device/lifecycle`).
pub const LIFECYCLE_STATUSES: [&str; 6] = [
    "covered",
    "available",
    "expired",
    "securityOnly",
    "unpublished",
    "empty",
];

pub const DISCOVERY_STATUSES: [&str; 7] = [
    "disabled",
    "determining",
    "notSupported",
    "notAuthorized",
    "authorizing",
    "authorized",
    "privileged",
];

/// `trafficInsightsStatus` values the spec allows.
pub const TRAFFIC_INSIGHTS_STATUSES: [&str; 7] = [
    "notDetected",
    "detected",
    "notApproved",
    "approved",
    "linking",
    "linkingFailed",
    "forwarding",
];

/// Relative frequency of a device type in a seeded tenant: network gear (what Auvik is bought
/// for) dominates, then the endpoints it discovers on the way.
pub fn weight(device_type: &str) -> u32 {
    match device_type {
        "switch" => 24,
        "accessPoint" => 18,
        "workstation" => 16,
        "firewall" => 8,
        "router" => 7,
        "server" => 7,
        "l3Switch" => 6,
        "printer" => 6,
        "ipPhone" => 6,
        "virtualMachine" => 6,
        "controller" => 3,
        "ups" => 3,
        "camera" => 3,
        "unknown" => 3,
        "stack" => 2,
        "voipSwitch" => 2,
        "utm" => 2,
        "securityAppliance" => 2,
        "hypervisor" => 2,
        "storage" => 2,
        "copier" => 2,
        "thinAccessPoint" => 2,
        "internetOfThings" => 2,
        _ => 1,
    }
}

/// Whether Auvik treats the type as network infrastructure (used to make such devices mostly
/// managed and SNMP-discovered).
pub fn is_network_gear(device_type: &str) -> bool {
    matches!(
        device_type,
        "switch"
            | "l3Switch"
            | "router"
            | "firewall"
            | "controller"
            | "voipSwitch"
            | "stack"
            | "utm"
            | "securityAppliance"
            | "accessPoint"
            | "thinAccessPoint"
            | "loadBalancer"
            | "bridge"
            | "backhaul"
            | "chassis"
            | "module"
            | "packetProcessor"
    )
}

/// Whether the type runs Windows-like OSes that Auvik reaches over WMI.
pub fn is_windows_host(device_type: &str) -> bool {
    matches!(device_type, "workstation" | "server" | "virtualMachine")
}

/// Short tag used in generated device names.
pub fn name_tag(device_type: &str) -> &'static str {
    match device_type {
        "switch" => "sw",
        "l3Switch" => "core",
        "router" => "rtr",
        "accessPoint" | "thinAccessPoint" => "ap",
        "firewall" | "utm" | "securityAppliance" => "fw",
        "workstation" => "ws",
        "server" => "srv",
        "storage" => "nas",
        "printer" => "prn",
        "copier" => "mfp",
        "hypervisor" => "esx",
        "controller" => "wlc",
        "ups" => "ups",
        "pdu" => "pdu",
        "camera" => "cam",
        "phone" | "ipPhone" => "phone",
        "virtualMachine" => "vm",
        "voipSwitch" => "vsw",
        "stack" => "stack",
        "loadBalancer" => "lb",
        "modem" => "modem",
        "backupDevice" => "bkp",
        "ipmi" => "bmc",
        "thinClient" => "tc",
        _ => "dev",
    }
}

/// One product line: a vendor, its models, and how its serials and software look.
pub struct Family {
    pub vendor: &'static str,
    pub models: &'static [&'static str],
    /// Serial template: `#` digit, `@` letter, `*` letter or digit, `%` upper hex, `^` lower
    /// hex; anything else is literal.
    pub serial: &'static str,
    pub software: &'static [&'static str],
    pub firmware: &'static [&'static str],
    /// `sysDescr`-like description; `{model}` and `{sw}` are substituted.
    pub description: &'static str,
    /// First three MAC octets.
    pub oui: [u8; 3],
}

mod families;
use families::*;

/// The product lines a device of `device_type` is drawn from.
pub fn families(device_type: &str) -> &'static [Family] {
    match device_type {
        "switch" => SWITCHES,
        "l3Switch" => L3_SWITCHES,
        "router" => ROUTERS,
        "accessPoint" => ACCESS_POINTS,
        "firewall" => FIREWALLS,
        "workstation" => WORKSTATIONS,
        "server" => SERVERS,
        "storage" => STORAGE,
        "printer" => PRINTERS,
        "copier" => COPIERS,
        "hypervisor" => HYPERVISORS,
        "multimedia" => MULTIMEDIA,
        "phone" | "tablet" => MOBILE,
        "handheld" => HANDHELDS,
        "virtualAppliance" => VIRTUAL_APPLIANCES,
        "bridge" | "backhaul" => NETWORK_MISC,
        "controller" => CONTROLLERS,
        "hub" => HUBS,
        "modem" => MODEMS,
        "ups" => UPS,
        "module" => MODULES,
        "loadBalancer" => LOAD_BALANCERS,
        "camera" => CAMERAS,
        "telecommunications" => TELECOM,
        "packetProcessor" => PACKET_PROCESSORS,
        "chassis" => CHASSIS,
        "airConditioner" => AIR_CONDITIONERS,
        "virtualMachine" => VIRTUAL_MACHINES,
        "pdu" => PDUS,
        "ipPhone" => PHONES,
        "internetOfThings" => IOT,
        "voipSwitch" => VOIP_SWITCHES,
        "stack" => STACKS,
        "backupDevice" => BACKUP_DEVICES,
        "timeClock" => TIME_CLOCKS,
        "lightingDevice" => LIGHTING,
        "audioVisual" => AUDIO_VISUAL,
        "securityAppliance" => SECURITY_APPLIANCES,
        "utm" => UTMS,
        "alarm" => ALARMS,
        "buildingManagement" => BUILDING_MANAGEMENT,
        "ipmi" => IPMI,
        "thinAccessPoint" => THIN_APS,
        "thinClient" => THIN_CLIENTS,
        _ => UNKNOWN,
    }
}

/// Expands a serial template (see [`Family::serial`]).
pub fn expand_serial(template: &str, rng: &mut fastrand::Rng) -> String {
    // Letters that are not easily confused with digits, as most vendors do.
    const LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const ALNUM: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
    const HEX_UP: &[u8] = b"0123456789ABCDEF";
    const HEX_LO: &[u8] = b"0123456789abcdef";
    template
        .chars()
        .map(|c| match c {
            '#' => char::from(b'0' + rng.u8(0..10)),
            '@' => char::from(LETTERS[rng.usize(..LETTERS.len())]),
            '*' => char::from(ALNUM[rng.usize(..ALNUM.len())]),
            '%' => char::from(HEX_UP[rng.usize(..16)]),
            '^' => char::from(HEX_LO[rng.usize(..16)]),
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_has_products_and_a_weight() {
        let unique: std::collections::HashSet<_> = DEVICE_TYPES.iter().collect();
        assert_eq!(unique.len(), 47);
        for t in DEVICE_TYPES {
            assert!(weight(t) > 0);
            for f in families(t) {
                assert!(!f.models.is_empty() && !f.software.is_empty() && !f.firmware.is_empty());
            }
        }
    }

    #[test]
    fn serial_templates_expand() {
        let mut rng = fastrand::Rng::with_seed(1);
        let s = expand_serial("FOC####*###-%^", &mut rng);
        assert_eq!(s.len(), 14);
        assert!(s.starts_with("FOC"));
        assert!(s[3..7].bytes().all(|b| b.is_ascii_digit()));
    }
}
