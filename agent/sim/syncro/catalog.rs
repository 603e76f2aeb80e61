//! The hardware, software and naming tables the seeded Syncro account draws from. Values are the
//! strings real agents and technicians put into Syncro (WMI's manufacturer and model strings,
//! Windows chassis types, vendors' serial formats), picked so that a connector meets the same
//! variety it will meet in production: several spellings of one manufacturer, machine-type codes
//! instead of model names, placeholder serials, MACs in four notations.

/// Asset type names of the account. "Syncro Device" is the type Syncro's agent creates; the
/// others are custom types an MSP defines (Syncro has no fixed list).
pub const ASSET_TYPES: [&str; 12] = [
    "Syncro Device",
    "Network Device",
    "Firewall",
    "Router",
    "Switch",
    "Access Point",
    "Printer",
    "Server",
    "UPS",
    "Camera",
    "NAS",
    "VoIP Phone",
];

/// How a vendor's serial numbers look.
#[derive(Clone, Copy)]
pub enum SerialStyle {
    /// A prefix and then `n` upper-case letters and digits.
    Alnum(&'static str, usize),
    /// A prefix and then `n` digits.
    Digits(&'static str, usize),
    /// The device's MAC address as 12 upper-case hex digits (SonicWall, Ubiquiti, Axis).
    Mac,
    /// Meraki's `Q2XX-XXXX-XXXX`.
    Meraki,
    /// VMware's SMBIOS UUID form, `VMware-42 1a ... 9f-...`.
    Vmware,
    /// Hyper-V's `dddd-dddd-dddd-dddd-dddd-dddd-dd`.
    HyperV,
    /// A board that never got one: "To be filled by O.E.M." and friends.
    Placeholder,
}

/// Serials that mean "no serial", as BIOSes report them.
pub const PLACEHOLDER_SERIALS: [&str; 4] = [
    "To be filled by O.E.M.",
    "System Serial Number",
    "Default string",
    "0",
];

/// Kinds of agent-managed machines.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Machine {
    Laptop,
    Desktop,
    Server,
    Vm,
    Mac,
}

/// A computer model as Windows (or macOS) reports it.
pub struct Computer {
    pub manufacturer: &'static str,
    pub model: &'static str,
    /// Windows chassis type name (`general.form_factor`).
    pub form_factors: &'static [&'static str],
    pub serial: SerialStyle,
    pub cpus: &'static [&'static str],
    /// Sockets (entries in `cpu[]`).
    pub sockets: usize,
    pub cores: &'static [u32],
    /// `ram_gb` as the agent computes it (usable memory, so a little under the nominal size).
    pub ram_gb: &'static [f64],
    pub disk_gb: &'static [f64],
    pub nic: Nic,
}

/// The primary network adapter family of a model.
#[derive(Clone, Copy)]
pub enum Nic {
    /// Intel Wi-Fi, sometimes with a USB Ethernet dongle.
    LaptopWifi,
    /// One onboard Ethernet port.
    Onboard(&'static str, &'static [&'static str]),
    /// Two server ports.
    ServerPair(&'static [&'static str]),
    Vmware,
    HyperV,
    AppleWifi,
}

const INTEL_CPUS_LAPTOP: &[&str] = &[
    "13th Gen Intel(R) Core(TM) i5-1345U",
    "13th Gen Intel(R) Core(TM) i7-1365U",
    "11th Gen Intel(R) Core(TM) i5-1145G7 @ 2.60GHz",
    "12th Gen Intel(R) Core(TM) i7-1265U",
];
const INTEL_CPUS_DESKTOP: &[&str] = &[
    "Intel(R) Core(TM) i7-10700 CPU @ 2.90GHz",
    "12th Gen Intel(R) Core(TM) i5-12500",
    "Intel(R) Core(TM) i5-10500 CPU @ 3.10GHz",
    "13th Gen Intel(R) Core(TM) i7-13700",
];
const XEON_CPUS: &[&str] = &[
    "Intel(R) Xeon(R) Silver 4314 CPU @ 2.40GHz",
    "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz",
    "Intel(R) Xeon(R) Silver 4210R CPU @ 2.40GHz",
];
const LAPTOP_RAM: &[f64] = &[7.7, 15.7, 15.7, 31.7];
const DESKTOP_RAM: &[f64] = &[7.9, 15.9, 15.9, 31.9];
const SERVER_RAM: &[f64] = &[63.7, 127.6, 255.6, 383.6];
const VM_RAM: &[f64] = &[8.0, 12.0, 16.0, 32.0];
const LAPTOP_DISK: &[f64] = &[237.3, 475.8, 475.8, 952.6];
const DESKTOP_DISK: &[f64] = &[237.3, 475.8, 951.7];
const SERVER_DISK: &[f64] = &[278.9, 446.5, 893.1];
const VM_DISK: &[f64] = &[99.5, 126.4, 199.5];
const INTEL_NIC_DESKTOP: &[&str] = &[
    "Intel(R) Ethernet Connection (17) I219-LM",
    "Intel(R) Ethernet Connection (11) I219-LM",
    "Intel(R) Ethernet Controller I225-LM",
];
const REALTEK_NIC: &[&str] = &["Realtek PCIe GbE Family Controller"];
const BROADCOM_NIC: &[&str] = &[
    "Broadcom NetXtreme Gigabit Ethernet",
    "Broadcom NetXtreme E-Series Advanced Dual-port 10GBASE-T Ethernet OCP 3.0 Adapter",
];
const HPE_NIC: &[&str] = &["HPE Ethernet 1Gb 4-port 331i Adapter"];

pub const LAPTOPS: &[Computer] = &[
    Computer {
        manufacturer: "Dell Inc.",
        model: "Latitude 5440",
        form_factors: &["Laptop", "Notebook"],
        serial: SerialStyle::Alnum("", 7),
        cpus: INTEL_CPUS_LAPTOP,
        sockets: 1,
        cores: &[10, 12],
        ram_gb: LAPTOP_RAM,
        disk_gb: LAPTOP_DISK,
        nic: Nic::LaptopWifi,
    },
    Computer {
        manufacturer: "Dell Inc.",
        model: "Latitude 7440",
        form_factors: &["Laptop", "Notebook"],
        serial: SerialStyle::Alnum("", 7),
        cpus: INTEL_CPUS_LAPTOP,
        sockets: 1,
        cores: &[10, 12],
        ram_gb: LAPTOP_RAM,
        disk_gb: LAPTOP_DISK,
        nic: Nic::LaptopWifi,
    },
    Computer {
        manufacturer: "HP",
        model: "HP EliteBook 840 G10 Notebook PC",
        form_factors: &["Notebook"],
        serial: SerialStyle::Alnum("5CG", 7),
        cpus: INTEL_CPUS_LAPTOP,
        sockets: 1,
        cores: &[10, 12],
        ram_gb: LAPTOP_RAM,
        disk_gb: LAPTOP_DISK,
        nic: Nic::LaptopWifi,
    },
    Computer {
        manufacturer: "HP",
        model: "HP ProBook 450 G9 Notebook PC",
        form_factors: &["Notebook"],
        serial: SerialStyle::Alnum("5CD", 7),
        cpus: INTEL_CPUS_LAPTOP,
        sockets: 1,
        cores: &[10, 12],
        ram_gb: LAPTOP_RAM,
        disk_gb: LAPTOP_DISK,
        nic: Nic::LaptopWifi,
    },
    Computer {
        // ThinkPads report their machine-type code, not "ThinkPad T14".
        manufacturer: "LENOVO",
        model: "21HD003MUS",
        form_factors: &["Notebook"],
        serial: SerialStyle::Alnum("PF", 6),
        cpus: INTEL_CPUS_LAPTOP,
        sockets: 1,
        cores: &[10, 12],
        ram_gb: LAPTOP_RAM,
        disk_gb: LAPTOP_DISK,
        nic: Nic::LaptopWifi,
    },
    Computer {
        manufacturer: "LENOVO",
        model: "20XW00K1US",
        form_factors: &["Notebook", "Convertible"],
        serial: SerialStyle::Alnum("PF", 6),
        cpus: &["AMD Ryzen 7 PRO 5850U with Radeon Graphics"],
        sockets: 1,
        cores: &[8],
        ram_gb: LAPTOP_RAM,
        disk_gb: LAPTOP_DISK,
        nic: Nic::LaptopWifi,
    },
    Computer {
        manufacturer: "Microsoft Corporation",
        model: "Surface Laptop 5",
        form_factors: &["Laptop"],
        serial: SerialStyle::Digits("0", 11),
        cpus: INTEL_CPUS_LAPTOP,
        sockets: 1,
        cores: &[10],
        ram_gb: LAPTOP_RAM,
        disk_gb: &[237.3, 475.8],
        nic: Nic::LaptopWifi,
    },
];

pub const DESKTOPS: &[Computer] = &[
    Computer {
        manufacturer: "Dell Inc.",
        model: "OptiPlex 7010",
        form_factors: &["Desktop", "Low Profile Desktop", "Mini Tower"],
        serial: SerialStyle::Alnum("", 7),
        cpus: INTEL_CPUS_DESKTOP,
        sockets: 1,
        cores: &[6, 8, 16],
        ram_gb: DESKTOP_RAM,
        disk_gb: DESKTOP_DISK,
        nic: Nic::Onboard("Intel", INTEL_NIC_DESKTOP),
    },
    Computer {
        manufacturer: "Dell Inc.",
        model: "OptiPlex 7090",
        form_factors: &["Desktop", "Mini PC"],
        serial: SerialStyle::Alnum("", 7),
        cpus: INTEL_CPUS_DESKTOP,
        sockets: 1,
        cores: &[6, 8],
        ram_gb: DESKTOP_RAM,
        disk_gb: DESKTOP_DISK,
        nic: Nic::Onboard("Intel", INTEL_NIC_DESKTOP),
    },
    Computer {
        manufacturer: "HP",
        model: "HP EliteDesk 800 G6 Small Form Factor PC",
        form_factors: &["Low Profile Desktop", "Desktop"],
        serial: SerialStyle::Alnum("MXL", 7),
        cpus: INTEL_CPUS_DESKTOP,
        sockets: 1,
        cores: &[6, 8],
        ram_gb: DESKTOP_RAM,
        disk_gb: DESKTOP_DISK,
        nic: Nic::Onboard("Intel", INTEL_NIC_DESKTOP),
    },
    Computer {
        manufacturer: "HP",
        model: "HP ProDesk 400 G7 Microtower PC",
        form_factors: &["Mini Tower"],
        serial: SerialStyle::Alnum("MXL", 7),
        cpus: INTEL_CPUS_DESKTOP,
        sockets: 1,
        cores: &[6],
        ram_gb: DESKTOP_RAM,
        disk_gb: DESKTOP_DISK,
        nic: Nic::Onboard("Realtek", REALTEK_NIC),
    },
    Computer {
        manufacturer: "LENOVO",
        model: "11DT0038US",
        form_factors: &["Mini PC", "Desktop"],
        serial: SerialStyle::Alnum("MJ0", 5),
        cpus: INTEL_CPUS_DESKTOP,
        sockets: 1,
        cores: &[6],
        ram_gb: DESKTOP_RAM,
        disk_gb: DESKTOP_DISK,
        nic: Nic::Onboard("Intel", INTEL_NIC_DESKTOP),
    },
    Computer {
        // A shop-built PC: the board vendor never filled in the SMBIOS strings.
        manufacturer: "System manufacturer",
        model: "System Product Name",
        form_factors: &["Desktop", "Tower"],
        serial: SerialStyle::Placeholder,
        cpus: INTEL_CPUS_DESKTOP,
        sockets: 1,
        cores: &[8, 16],
        ram_gb: DESKTOP_RAM,
        disk_gb: DESKTOP_DISK,
        nic: Nic::Onboard("Realtek", REALTEK_NIC),
    },
    Computer {
        manufacturer: "To be filled by O.E.M.",
        model: "To be filled by O.E.M.",
        form_factors: &["Desktop"],
        serial: SerialStyle::Placeholder,
        cpus: INTEL_CPUS_DESKTOP,
        sockets: 1,
        cores: &[4, 6],
        ram_gb: DESKTOP_RAM,
        disk_gb: DESKTOP_DISK,
        nic: Nic::Onboard("Realtek", REALTEK_NIC),
    },
];

pub const SERVERS: &[Computer] = &[
    Computer {
        manufacturer: "Dell Inc.",
        model: "PowerEdge R650",
        form_factors: &["Rack Mount Chassis"],
        serial: SerialStyle::Alnum("", 7),
        cpus: XEON_CPUS,
        sockets: 2,
        cores: &[16, 28],
        ram_gb: SERVER_RAM,
        disk_gb: SERVER_DISK,
        nic: Nic::ServerPair(BROADCOM_NIC),
    },
    Computer {
        manufacturer: "Dell Inc.",
        model: "PowerEdge T440",
        form_factors: &["Tower"],
        serial: SerialStyle::Alnum("", 7),
        cpus: XEON_CPUS,
        sockets: 1,
        cores: &[12, 16],
        ram_gb: SERVER_RAM,
        disk_gb: SERVER_DISK,
        nic: Nic::ServerPair(BROADCOM_NIC),
    },
    Computer {
        manufacturer: "HPE",
        model: "ProLiant DL380 Gen10",
        form_factors: &["Rack Mount Chassis", "Main System Chassis"],
        serial: SerialStyle::Alnum("CZJ", 7),
        cpus: XEON_CPUS,
        sockets: 2,
        cores: &[16, 28],
        ram_gb: SERVER_RAM,
        disk_gb: SERVER_DISK,
        nic: Nic::ServerPair(HPE_NIC),
    },
    Computer {
        manufacturer: "Lenovo",
        model: "ThinkSystem SR650 V2",
        form_factors: &["Rack Mount Chassis"],
        serial: SerialStyle::Alnum("J30", 5),
        cpus: XEON_CPUS,
        sockets: 2,
        cores: &[16, 28],
        ram_gb: SERVER_RAM,
        disk_gb: SERVER_DISK,
        nic: Nic::ServerPair(BROADCOM_NIC),
    },
];

pub const VMS: &[Computer] = &[
    Computer {
        manufacturer: "VMware, Inc.",
        model: "VMware7,1",
        form_factors: &["Other"],
        serial: SerialStyle::Vmware,
        cpus: XEON_CPUS,
        sockets: 1,
        cores: &[2, 4, 8],
        ram_gb: VM_RAM,
        disk_gb: VM_DISK,
        nic: Nic::Vmware,
    },
    Computer {
        // Hyper-V guests report chassis type 3, "Desktop".
        manufacturer: "Microsoft Corporation",
        model: "Virtual Machine",
        form_factors: &["Desktop"],
        serial: SerialStyle::HyperV,
        cpus: XEON_CPUS,
        sockets: 1,
        cores: &[2, 4, 8],
        ram_gb: VM_RAM,
        disk_gb: VM_DISK,
        nic: Nic::HyperV,
    },
];

pub const MACS: &[Computer] = &[
    Computer {
        manufacturer: "Apple Inc.",
        model: "MacBookPro18,3",
        form_factors: &["Laptop"],
        serial: SerialStyle::Alnum("", 10),
        cpus: &["Apple M1 Pro"],
        sockets: 1,
        cores: &[8, 10],
        ram_gb: &[16.0, 32.0],
        disk_gb: &[494.4, 994.7],
        nic: Nic::AppleWifi,
    },
    Computer {
        manufacturer: "Apple Inc.",
        model: "Mac14,2",
        form_factors: &["Laptop"],
        serial: SerialStyle::Alnum("", 10),
        cpus: &["Apple M2"],
        sockets: 1,
        cores: &[8],
        ram_gb: &[8.0, 16.0, 24.0],
        disk_gb: &[245.1, 494.4],
        nic: Nic::AppleWifi,
    },
    Computer {
        manufacturer: "Apple Inc.",
        model: "iMac21,1",
        form_factors: &["All in One"],
        serial: SerialStyle::Alnum("C02", 9),
        cpus: &["Apple M1"],
        sockets: 1,
        cores: &[8],
        ram_gb: &[8.0, 16.0],
        disk_gb: &[245.1, 494.4],
        nic: Nic::AppleWifi,
    },
];

/// `(os.name, os.build, os.windows_release_version)`.
pub type Os = (&'static str, &'static str, Option<&'static str>);

pub const WORKSTATION_OS: &[Os] = &[
    ("Microsoft Windows 11 Pro", "22631", Some("23H2")),
    ("Microsoft Windows 11 Pro", "22631", Some("23H2")),
    ("Microsoft Windows 11 Pro", "26100", Some("24H2")),
    ("Microsoft Windows 10 Pro", "19045", Some("22H2")),
    ("Microsoft Windows 10 Pro", "19045", Some("22H2")),
    ("Microsoft Windows 11 Enterprise", "22631", Some("23H2")),
];
pub const HOME_OS: &[Os] = &[
    ("Microsoft Windows 11 Home", "22631", Some("23H2")),
    ("Microsoft Windows 10 Home", "19045", Some("22H2")),
    ("Microsoft Windows 11 Pro", "26100", Some("24H2")),
];
pub const SERVER_OS: &[Os] = &[
    (
        "Microsoft Windows Server 2022 Standard",
        "20348",
        Some("21H2"),
    ),
    (
        "Microsoft Windows Server 2019 Standard",
        "17763",
        Some("1809"),
    ),
    (
        "Microsoft Windows Server 2016 Standard",
        "14393",
        Some("1607"),
    ),
    (
        "Microsoft Windows Server 2022 Datacenter",
        "20348",
        Some("21H2"),
    ),
];
pub const MAC_OS: &[Os] = &[
    ("macOS Sonoma", "14.5", None),
    ("macOS Ventura", "13.6.7", None),
    ("macOS Sequoia", "15.1", None),
];

pub const INTEL_OUIS: &[[u8; 3]] = &[
    [0x3c, 0xa9, 0xf4],
    [0xa4, 0x4c, 0xc8],
    [0xf4, 0x8e, 0x38],
    [0x8c, 0x8d, 0x28],
    [0xd0, 0xab, 0xd5],
    [0x70, 0xcd, 0x0d],
];
pub const REALTEK_OUIS: &[[u8; 3]] = &[[0x00, 0xe0, 0x4c], [0x00, 0xe1, 0x8c]];
pub const SERVER_OUIS: &[[u8; 3]] = &[[0xb0, 0x26, 0x28], [0xf4, 0x02, 0x70], [0xd4, 0xf5, 0xef]];
pub const APPLE_OUIS: &[[u8; 3]] = &[[0xf0, 0x18, 0x98], [0xa4, 0x83, 0xe7], [0x3c, 0x22, 0xfb]];
pub const VMWARE_OUI: [u8; 3] = [0x00, 0x50, 0x56];
pub const HYPERV_OUI: [u8; 3] = [0x00, 0x15, 0x5d];
/// The Npcap loopback adapter has this MAC on every machine it is installed on, which is why a
/// device matcher must not trust every MAC it sees.
pub const NPCAP_LOOPBACK_MAC: [u8; 6] = [0x02, 0x00, 0x4c, 0x4f, 0x4f, 0x50];

/// A model of a manually tracked (non-agent) asset.
pub struct Gear {
    pub make: &'static str,
    pub model: &'static str,
    pub oui: [u8; 3],
    pub serial: SerialStyle,
    pub firmware: &'static [&'static str],
}

const fn gear(
    make: &'static str,
    model: &'static str,
    oui: [u8; 3],
    serial: SerialStyle,
    firmware: &'static [&'static str],
) -> Gear {
    Gear {
        make,
        model,
        oui,
        serial,
        firmware,
    }
}

pub const FIREWALLS: &[Gear] = &[
    gear(
        "Fortinet",
        "FortiGate 60F",
        [0x04, 0xd5, 0x90],
        SerialStyle::Alnum("FGT60FTK", 8),
        &["v7.2.8", "v7.4.3", "v7.0.15"],
    ),
    gear(
        "SonicWall",
        "TZ370",
        [0x00, 0x17, 0xc5],
        SerialStyle::Mac,
        &["7.0.1-5145", "7.1.1-7058"],
    ),
    gear(
        "WatchGuard",
        "Firebox T45",
        [0x00, 0x90, 0x7f],
        SerialStyle::Alnum("2B0", 10),
        &["12.10.3", "12.9.4"],
    ),
    gear(
        "Sophos",
        "XGS 2100",
        [0x7c, 0x5a, 0x1c],
        SerialStyle::Alnum("X21", 11),
        &["SFOS 20.0.1 MR-1"],
    ),
    gear(
        "Netgate",
        "6100",
        [0x00, 0x08, 0xa2],
        SerialStyle::Digits("", 10),
        &["pfSense Plus 24.03"],
    ),
];

pub const ROUTERS: &[Gear] = &[
    gear(
        "Cisco",
        "ISR1111-4P",
        [0xf8, 0x72, 0xea],
        SerialStyle::Alnum("FGL", 8),
        &["17.9.4a", "17.6.5"],
    ),
    gear(
        "MikroTik",
        "RB5009UG+S+IN",
        [0x48, 0x8f, 0x5a],
        SerialStyle::Alnum("HF", 10),
        &["7.14.3", "7.12.1"],
    ),
    gear(
        "Ubiquiti",
        "EdgeRouter 4",
        [0x74, 0x83, 0xc2],
        SerialStyle::Mac,
        &["v2.0.9-hotfix.7"],
    ),
];

pub const SWITCHES: &[Gear] = &[
    gear(
        "Cisco",
        "CBS350-24P-4G",
        [0x00, 0x1b, 0x54],
        SerialStyle::Alnum("PSZ", 8),
        &["3.3.0.16", "3.2.1.1"],
    ),
    gear(
        "Aruba",
        "2930F-48G-PoE+",
        [0x20, 0x4c, 0x03],
        SerialStyle::Alnum("SG", 8),
        &["WC.16.11.0016"],
    ),
    gear(
        "Ubiquiti",
        "USW-Pro-24-PoE",
        [0xe0, 0x63, 0xda],
        SerialStyle::Mac,
        &["6.6.61", "7.0.50"],
    ),
    gear(
        "Meraki",
        "MS120-24P",
        [0x0c, 0x8d, 0xdb],
        SerialStyle::Meraki,
        &[],
    ),
    gear(
        "Netgear",
        "GS728TP",
        [0xa0, 0x40, 0xa0],
        SerialStyle::Alnum("6LK", 10),
        &["6.0.8.2"],
    ),
];

pub const ACCESS_POINTS: &[Gear] = &[
    gear(
        "Ubiquiti",
        "U6-Pro",
        [0x24, 0x5a, 0x4c],
        SerialStyle::Mac,
        &["6.6.77", "6.5.28"],
    ),
    gear(
        "Meraki",
        "MR36",
        [0xe0, 0x55, 0x3d],
        SerialStyle::Meraki,
        &[],
    ),
    gear(
        "Aruba",
        "AP-515",
        [0x20, 0x4c, 0x03],
        SerialStyle::Alnum("CNJ", 7),
        &["8.10.0.6"],
    ),
    gear(
        "Ruckus",
        "R550",
        [0x8c, 0x7a, 0x15],
        SerialStyle::Digits("", 12),
        &["6.1.2.0.1080"],
    ),
];

pub const PRINTERS: &[Gear] = &[
    gear(
        "HP",
        "LaserJet Pro M404dn",
        [0x3c, 0x2a, 0xf4],
        SerialStyle::Alnum("PHB", 7),
        &["20240215"],
    ),
    gear(
        "Brother",
        "MFC-L8900CDW",
        [0x00, 0x80, 0x77],
        SerialStyle::Alnum("U6", 9),
        &["ZC"],
    ),
    gear(
        "Canon",
        "imageRUNNER ADVANCE DX C5840i",
        [0x00, 0x1e, 0x8f],
        SerialStyle::Alnum("3BX", 5),
        &[],
    ),
    gear(
        "Xerox",
        "VersaLink C405",
        [0x9c, 0x93, 0x4e],
        SerialStyle::Digits("", 10),
        &["60.16.31"],
    ),
    gear(
        "Kyocera",
        "ECOSYS M3655idn",
        [0x00, 0x17, 0xc8],
        SerialStyle::Alnum("VCF", 7),
        &[],
    ),
];

pub const HOSTS: &[Gear] = &[
    gear(
        "Dell",
        "PowerEdge R740",
        [0xb0, 0x26, 0x28],
        SerialStyle::Alnum("", 7),
        &["2.19.1"],
    ),
    gear(
        "HPE",
        "ProLiant DL360 Gen10",
        [0x94, 0x40, 0xc9],
        SerialStyle::Alnum("CZJ", 7),
        &["U32 v2.90"],
    ),
    gear(
        "Supermicro",
        "SYS-1029P-WTR",
        [0xac, 0x1f, 0x6b],
        SerialStyle::Alnum("S", 9),
        &[],
    ),
];

pub const UPSES: &[Gear] = &[
    gear(
        "APC",
        "Smart-UPS 1500 (SMT1500RM2U)",
        [0x00, 0xc0, 0xb7],
        SerialStyle::Alnum("AS", 10),
        &["UPS 09.8 / ID18"],
    ),
    gear(
        "CyberPower",
        "PR1500RT2U",
        [0x00, 0x0c, 0x15],
        SerialStyle::Alnum("GAE", 9),
        &[],
    ),
    gear(
        "Eaton",
        "5PX 1500",
        [0x00, 0x20, 0x85],
        SerialStyle::Alnum("G", 9),
        &[],
    ),
];

pub const CAMERAS: &[Gear] = &[
    gear(
        "Axis",
        "P3265-LVE",
        [0xac, 0xcc, 0x8e],
        SerialStyle::Mac,
        &["10.12.182"],
    ),
    gear(
        "Hikvision",
        "DS-2CD2143G2-I",
        [0xbc, 0xad, 0x28],
        SerialStyle::Alnum("DS-2CD2143G2-I20230915AAWR", 9),
        &["V5.7.3"],
    ),
    gear(
        "Ubiquiti",
        "UVC-G4-Bullet",
        [0x74, 0xac, 0xb9],
        SerialStyle::Mac,
        &["4.69.55"],
    ),
];

pub const NASES: &[Gear] = &[
    gear(
        "Synology",
        "DS920+",
        [0x00, 0x11, 0x32],
        SerialStyle::Alnum("20A0PDN", 6),
        &["DSM 7.2.1-69057"],
    ),
    gear(
        "QNAP",
        "TS-453D",
        [0x24, 0x5e, 0xbe],
        SerialStyle::Alnum("Q21", 8),
        &["QTS 5.1.7"],
    ),
];

pub const PHONES: &[Gear] = &[
    gear(
        "Yealink",
        "SIP-T54W",
        [0x80, 0x5e, 0xc0],
        SerialStyle::Digits("", 16),
        &["96.86.0.70"],
    ),
    gear(
        "Poly",
        "VVX 450",
        [0x64, 0x16, 0x7f],
        SerialStyle::Mac,
        &["6.4.6.2334"],
    ),
];

pub const LOCATIONS: &[&str] = &[
    "Lobby",
    "Reception",
    "Server Room",
    "Conference Room A",
    "Warehouse",
    "Break Room",
    "2nd Floor",
    "Front Desk",
    "Back Office",
    "Shop Floor",
    "Exam Room 3",
    "Kitchen",
    "IDF 1",
    "MDF",
];

pub const NOTES: &[&str] = &[
    "Replaced after the 2023 lightning strike",
    "Admin credentials are in Passportal",
    "Managed by the ISP - do not touch",
    "Leased, return in 2026",
    "Do not reboot during business hours",
    "Licensed until 2027",
    "Firmware updated remotely",
    "See ticket #48213",
    "Client owns this, we only monitor it",
    "Spare, kept in the closet",
];

pub const SERVER_ROLES: &[&str] = &["DC", "FS", "SQL", "APP", "RDS", "HV", "PRINT", "BACKUP"];

pub const FIRST_NAMES: &[&str] = &[
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Carlos",
    "Karen",
    "Priya",
    "Nancy",
    "Daniel",
    "Lisa",
    "Matthew",
    "Betty",
    "Anthony",
    "Margaret",
    "Mark",
    "Sandra",
    "Wei",
    "Ashley",
    "Steven",
    "Kimberly",
    "Andrew",
    "Emily",
    "Kenji",
    "Donna",
    "Joshua",
    "Michelle",
    "Siobhan",
    "Aisha",
    "Mateo",
    "Olga",
    "Noah",
    "Fatima",
];

pub const LAST_NAMES: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "O'Connor",
    "Nguyen",
    "Patel",
    "Kowalski",
    "Schmidt",
    "Van der Berg",
];

pub const STREETS: &[&str] = &[
    "Main St",
    "Oak Ave",
    "Maple Dr",
    "Commerce Blvd",
    "Industrial Pkwy",
    "Park Pl",
    "Elm St",
    "Washington Ave",
    "Lakeview Rd",
    "Technology Dr",
];

/// `(city, state, zip prefix)`.
pub const CITIES: &[(&str, &str, &str)] = &[
    ("Austin", "TX", "787"),
    ("Denver", "CO", "802"),
    ("Columbus", "OH", "432"),
    ("Raleigh", "NC", "276"),
    ("Portland", "OR", "972"),
    ("Tampa", "FL", "336"),
    ("Madison", "WI", "537"),
    ("Boise", "ID", "837"),
    ("Albany", "NY", "122"),
    ("Sacramento", "CA", "958"),
];

pub const MAIL_DOMAINS: &[&str] = &["gmail.com", "outlook.com", "yahoo.com", "icloud.com"];
