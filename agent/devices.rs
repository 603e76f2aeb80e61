//! Merging assets into devices (DESIGN §5 Devices): the same physical device reported by
//! several sources is one device. Assets merge on a normalised serial number, then on a MAC
//! address, never on values that do not identify a device: placeholder serials that BIOS
//! vendors ship, and any serial or MAC shared by implausibly many assets (a template value,
//! a virtual adapter present on every machine).

use std::collections::HashMap;

/// More assets than this sharing one serial or MAC cannot be one device.
pub const MAX_ASSETS_PER_DEVICE: usize = 4;

/// Serials that name no device (compared after normalising).
const PLACEHOLDER_SERIALS: &[&str] = &[
    "",
    "0",
    "TO BE FILLED BY O.E.M.",
    "TO BE FILLED BY OEM",
    "DEFAULT STRING",
    "NONE",
    "N/A",
    "NA",
    "NULL",
    "UNKNOWN",
    "SYSTEM SERIAL NUMBER",
    "SERIAL",
    "NOT SPECIFIED",
    "NOT APPLICABLE",
    "123456789",
    "INVALID",
    "CHASSIS SERIAL NUMBER",
];

/// MACs that many unrelated machines report (loopback and tunnel adapters).
const SHARED_MACS: &[&str] = &[
    "02:00:4C:4F:4F:50", // Npcap loopback adapter
    "00:00:00:00:00:00",
    "FF:FF:FF:FF:FF:FF",
    "00:50:56:C0:00:01", // VMware host-only/NAT adapters on workstations
    "00:50:56:C0:00:08",
    "0A:00:27:00:00:00", // VirtualBox host-only adapter
];

/// The serial as compared: trimmed, upper-cased; `None` for placeholders.
pub fn normalise_serial(serial: &str) -> Option<String> {
    let s = serial.trim().to_uppercase();
    let all_zeros = !s.is_empty() && s.chars().all(|c| c == '0' || c == '-' || c == ' ');
    (!PLACEHOLDER_SERIALS.contains(&s.as_str()) && !all_zeros).then_some(s)
}

/// A MAC that can identify a device (already in `AA:BB:...` form from the connectors).
pub fn identifying_mac(mac: &str) -> Option<String> {
    let m = mac.trim().to_uppercase();
    (m.len() == 17 && !SHARED_MACS.contains(&m.as_str())).then_some(m)
}

/// One asset's identity, as the merge sees it.
pub struct Identity {
    pub asset_id: i64,
    pub serial: String,
    pub macs: Vec<String>,
}

/// Groups assets into devices: returns asset id → device id, where a device's id is the
/// smallest asset id in it (stable while that asset exists).
pub fn merge(assets: &[Identity]) -> HashMap<i64, i64> {
    let index: HashMap<i64, usize> = assets
        .iter()
        .enumerate()
        .map(|(i, a)| (a.asset_id, i))
        .collect();
    let mut parent: Vec<usize> = (0..assets.len()).collect();
    fn find(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let union_all = |members: &[usize], parent: &mut Vec<usize>| {
        for w in members.windows(2) {
            let (a, b) = (find(parent, w[0]), find(parent, w[1]));
            if a != b {
                parent[a.max(b)] = a.min(b);
            }
        }
    };
    let mut by_serial: HashMap<String, Vec<usize>> = HashMap::new();
    let mut by_mac: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, a) in assets.iter().enumerate() {
        if let Some(s) = normalise_serial(&a.serial) {
            by_serial.entry(s).or_default().push(i);
        }
        for m in a.macs.iter().filter_map(|m| identifying_mac(m)) {
            let list = by_mac.entry(m).or_default();
            if list.last() != Some(&i) {
                list.push(i);
            }
        }
    }
    for members in by_serial.values().chain(by_mac.values()) {
        if members.len() > 1 && members.len() <= MAX_ASSETS_PER_DEVICE {
            union_all(members, &mut parent);
        }
    }
    let mut smallest: HashMap<usize, i64> = HashMap::new();
    for (i, a) in assets.iter().enumerate() {
        let root = find(&mut parent, i);
        let e = smallest.entry(root).or_insert(a.asset_id);
        *e = (*e).min(a.asset_id);
    }
    assets
        .iter()
        .map(|a| {
            let root = find(&mut parent, index[&a.asset_id]);
            (a.asset_id, smallest[&root])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(asset_id: i64, serial: &str, macs: &[&str]) -> Identity {
        Identity {
            asset_id,
            serial: serial.into(),
            macs: macs.iter().map(|m| m.to_string()).collect(),
        }
    }

    #[test]
    fn placeholders_never_identify() {
        for p in [
            "",
            " 0 ",
            "To be filled by O.E.M.",
            "Default string",
            "None",
            "n/a",
            "0000000",
            "00-00",
        ] {
            assert_eq!(normalise_serial(p), None, "{p:?}");
        }
        assert_eq!(
            normalise_serial(" fgt60f123 ").as_deref(),
            Some("FGT60F123")
        );
        assert_eq!(
            identifying_mac("02:00:4c:4f:4f:50"),
            None,
            "the Npcap loopback is on many machines"
        );
        assert_eq!(
            identifying_mac("00:1a:2b:3c:4d:5e").as_deref(),
            Some("00:1A:2B:3C:4D:5E")
        );
    }

    #[test]
    fn serial_then_mac_merge_and_placeholders_do_not() {
        let assets = [
            id(1, "FGT60F123", &[]),
            id(7, " fgt60f123", &[]),          // same serial, other source
            id(3, "", &["00:1A:2B:3C:4D:5E"]), // no serial, MAC of 9
            id(9, "SN-9", &["00:1a:2b:3c:4d:5e"]),
            id(4, "To be filled by O.E.M.", &[]),
            id(5, "To be filled by O.E.M.", &[]),
            id(6, "X", &["02:00:4C:4F:4F:50"]),
            id(8, "Y", &["02:00:4C:4F:4F:50"]),
        ];
        let d = merge(&assets);
        assert_eq!((d[&1], d[&7]), (1, 1));
        assert_eq!((d[&3], d[&9]), (3, 3));
        assert_eq!((d[&4], d[&5]), (4, 5), "placeholder serials stay apart");
        assert_eq!((d[&6], d[&8]), (6, 8), "shared virtual MACs stay apart");
    }

    #[test]
    fn a_value_shared_by_implausibly_many_assets_is_ignored() {
        let assets: Vec<Identity> = (1..=6).map(|i| id(i, "TEMPLATE-123", &[])).collect();
        let d = merge(&assets);
        assert!(assets.iter().all(|a| d[&a.asset_id] == a.asset_id));
    }
}
