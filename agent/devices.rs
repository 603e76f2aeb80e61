//! Merging assets into devices (CONTRACT §5 Devices): the same physical device reported by
//! several sources is one device. Assets merge on a normalised serial number, then on a MAC
//! address, never on values that do not identify a device: placeholder serials that BIOS
//! vendors ship, and any serial or MAC shared by implausibly many assets (a template value,
//! a virtual adapter present on every machine).

#[cfg(test)]
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

/// The keys an asset merges on: `S:<serial>` for an identifying serial and `M:<mac>` for each
/// identifying MAC, without repeats. Two present assets sharing a key are one device, unless
/// more than `MAX_ASSETS_PER_DEVICE` assets share it. The store keeps these in `asset_keys`
/// (indexed), so a merge streams them in key order instead of holding every asset's
/// identity in memory. The store finds an asset's stored keys again by calling this on its
/// stored serial and MACs, so a change to what it returns needs a migration that rebuilds
/// `asset_keys`.
pub fn identity_keys(serial: &str, macs: &[String]) -> Vec<String> {
    let mut keys: Vec<String> = normalise_serial(serial)
        .map(|s| format!("S:{s}"))
        .into_iter()
        .chain(
            macs.iter()
                .filter_map(|m| identifying_mac(m))
                .map(|m| format!("M:{m}")),
        )
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// Union-find over asset ids: 8 bytes per id up to the largest, so merging a million assets
/// needs 8 MB whatever their serials and MACs look like.
///
/// A device's id is the smallest asset id in it (stable while that asset exists): a union
/// always makes the smaller root the parent, so an asset's root *is* that id.
pub struct Merger {
    parent: Vec<i64>,
}

impl Merger {
    /// For asset ids in `0..=max_id`.
    pub fn new(max_id: i64) -> Merger {
        let len = usize::try_from(max_id.max(0)).unwrap_or(0) + 1;
        Merger {
            parent: (0..len as i64).collect(),
        }
    }

    fn slot(&self, id: i64) -> Option<usize> {
        usize::try_from(id).ok().filter(|&i| i < self.parent.len())
    }

    fn find(&mut self, id: i64) -> i64 {
        let Some(mut i) = self.slot(id) else {
            return id;
        };
        while self.parent[i] as usize != i {
            let grand = self.parent[self.parent[i] as usize];
            self.parent[i] = grand;
            i = grand as usize;
        }
        i as i64
    }

    /// The assets sharing one key. A key shared by more assets than one device plausibly
    /// has (a template serial, a virtual adapter) links none of them.
    pub fn link(&mut self, assets: &[i64]) {
        if assets.len() < 2 || assets.len() > MAX_ASSETS_PER_DEVICE {
            return;
        }
        for w in assets.windows(2) {
            let (a, b) = (self.find(w[0]), self.find(w[1]));
            if a != b
                && let Some(hi) = self.slot(a.max(b))
            {
                self.parent[hi] = a.min(b);
            }
        }
    }

    /// The device `asset_id` belongs to.
    pub fn device_of(&mut self, asset_id: i64) -> i64 {
        self.find(asset_id)
    }
}

/// One asset's identity, as the merge sees it.
#[cfg(test)]
pub struct Identity {
    pub asset_id: i64,
    pub serial: String,
    pub macs: Vec<String>,
}

/// Groups assets into devices in memory (the store does the same from `asset_keys`):
/// returns asset id → device id.
#[cfg(test)]
pub fn merge(assets: &[Identity]) -> HashMap<i64, i64> {
    let mut by_key: std::collections::BTreeMap<String, Vec<i64>> = Default::default();
    for a in assets {
        for k in identity_keys(&a.serial, &a.macs) {
            by_key.entry(k).or_default().push(a.asset_id);
        }
    }
    let max = assets.iter().map(|a| a.asset_id).max().unwrap_or(0);
    let mut m = Merger::new(max);
    for ids in by_key.values_mut() {
        ids.sort_unstable();
        m.link(ids);
    }
    assets
        .iter()
        .map(|a| (a.asset_id, m.device_of(a.asset_id)))
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
