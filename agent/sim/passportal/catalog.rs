//! What a Passportal tenant's asset documents describe: the asset template's fields in their
//! numbered order, the values its dropdowns offer, and the hardware MSPs document (manufacturer,
//! model, how the maker writes serial numbers). Written for this simulator alone.

/// The "Generic Asset" template: the label of each field, in the order that gives the numeric
/// keys of a document's `details` ("0" … "34").
///
/// Observed in a real detail: Name at 0, Type at 1, Serial Number at 8, Manufacturer at 10, and
/// the last key 34. The other labels are the asset template's fields as the public migration
/// tool maps them, plus fields observed in a real asset (ID, Integration Type, Last Logged in
/// User); the simulator's own additions (Secondary IP, Firmware Version, Processor, Memory,
/// Storage, Domain, Antivirus, Support Contract) fill the template to the observed 35 fields.
pub const ASSET_FIELDS: [&str; 35] = [
    "Name",
    "Type",
    "Status",
    "Asset Tag",
    "Hostname",
    "Assigned User",
    "Location",
    "Model",
    "Serial Number",
    "Purchased By",
    "Manufacturer",
    "Purchase Date",
    "Platform",
    "Primary IP",
    "Secondary IP",
    "Default Gateway",
    "MAC Address",
    "Operating System",
    "Operating System Notes",
    "Firmware Version",
    "Processor",
    "Memory",
    "Storage",
    "Domain",
    "Portal URL",
    "Remote Launch URL",
    "Integration Type",
    "ID",
    "Last Logged in User",
    "Install Date",
    "Installed By",
    "Expiration Date",
    "Antivirus",
    "Support Contract",
    "Notes",
];

/// Fields whose value refers to another document: `(field index, reference type)`.
pub const REFERENCE_FIELDS: [(usize, &str); 3] =
    [(5, "contacts"), (6, "locations"), (10, "vendors")];

/// Fields an RMM integration creates; their `description` is `null` rather than `""` (the notes
/// allow both; integration-made fields are the likeliest to lack one).
pub const INTEGRATION_FIELDS: [usize; 4] = [24, 25, 26, 27];

/// What an unset dropdown shows.
pub const PLEASE_SELECT: &str = "Please Select";

pub const STATUSES: &[&str] = &[
    "Active",
    "Active",
    "Active",
    "In Use",
    "In Storage",
    "In Repair",
];

/// Other document templates: `(id, name, type, field labels)`.
#[derive(Debug, PartialEq, Eq)]
pub struct Template {
    pub id: i64,
    pub name: &'static str,
    pub doc_type: &'static str,
    pub fields: &'static [&'static str],
}

pub const LOCATION: Template = Template {
    id: 5001,
    name: "Location",
    doc_type: "location",
    fields: &[
        "Name",
        "Address 1",
        "Address 2",
        "City",
        "State / Province",
        "Country",
        "Zip / Postal Code",
        "Phone",
        "Fax",
        "Notes",
    ],
};

pub const CONTACT: Template = Template {
    id: 5000,
    name: "Contact",
    doc_type: "contact",
    fields: &[
        "Name",
        "First Name",
        "Last Name",
        "Title",
        "Email",
        "Phone",
        "Mobile",
        "Notes",
    ],
};

pub const VENDOR: Template = Template {
    id: 70,
    name: "Vendor",
    doc_type: "vendor",
    fields: &[
        "Name",
        "Website",
        "Support Phone",
        "Account Number",
        "Notes",
    ],
};

/// The asset template's identity.
pub const ASSET_TEMPLATE_NAME: &str = "Generic Asset";
pub const ASSET_TYPE: &str = "asset";

/// Every document type the list filter knows (N-able's list, "licencing" sic).
pub const DOC_TYPES: &[&str] = &[
    "asset",
    "active_directory",
    "application",
    "backup",
    "email",
    "file_sharing",
    "contact",
    "location",
    "internet",
    "lan",
    "printing",
    "remote_access",
    "vendor",
    "virtualization",
    "voice",
    "wireless",
    "licencing",
    "custom",
    "ssl",
];

/// How a maker writes its serial numbers.
#[derive(Debug, Clone, Copy)]
pub enum Serial {
    /// Dell's 7-character service tag.
    DellTag,
    /// A fixed prefix and `n` upper-case alphanumerics (HP, Lenovo, Cisco, Aruba…).
    Prefixed(&'static str, usize),
    /// Apple's 10 or 12 characters.
    Apple,
    /// The MAC address as 12 upper-case hex digits (Ubiquiti, SonicWall).
    Mac,
    /// Meraki's `Q2XX-XXXX-XXXX`.
    Meraki(&'static str),
    /// A prefix and `n` digits.
    Digits(&'static str, usize),
    /// VMware's `VMware-42 1a …` BIOS serial.
    Vmware,
    /// Hyper-V's `0000-0000-…` BIOS serial.
    HyperV,
}

/// What kind of thing an asset is, which decides the rest of its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Workstation,
    Laptop,
    Server,
    VirtualMachine,
    Firewall,
    Switch,
    Router,
    AccessPoint,
    Printer,
    Ups,
    Nas,
    Phone,
    Other,
}

impl Kind {
    /// The asset template's "Type" dropdown text ("Workstation" is observed; the others are the
    /// simulator's spelling of the usual kinds).
    pub fn type_text(self) -> &'static str {
        match self {
            Kind::Workstation => "Workstation",
            Kind::Laptop => "Laptop",
            Kind::Server => "Server",
            Kind::VirtualMachine => "Virtual Machine",
            Kind::Firewall => "Firewall",
            Kind::Switch => "Switch",
            Kind::Router => "Router",
            Kind::AccessPoint => "Wireless Access Point",
            Kind::Printer => "Printer",
            Kind::Ups => "UPS",
            Kind::Nas => "NAS",
            Kind::Phone => "Phone",
            Kind::Other => "Other",
        }
    }

    /// Computers an RMM agent reports (and so carry integration fields).
    pub fn is_computer(self) -> bool {
        matches!(
            self,
            Kind::Workstation | Kind::Laptop | Kind::Server | Kind::VirtualMachine
        )
    }

    /// A short host-name part.
    pub fn host_part(self) -> &'static str {
        match self {
            Kind::Workstation => "WS",
            Kind::Laptop => "LT",
            Kind::Server => "SRV",
            Kind::VirtualMachine => "VM",
            Kind::Firewall => "FW",
            Kind::Switch => "SW",
            Kind::Router => "RTR",
            Kind::AccessPoint => "AP",
            Kind::Printer => "PRN",
            Kind::Ups => "UPS",
            Kind::Nas => "NAS",
            Kind::Phone => "PHN",
            Kind::Other => "DEV",
        }
    }
}

/// `(kind, weight)`: how often each kind occurs among seeded assets (out of 100).
pub const KIND_WEIGHTS: &[(Kind, u32)] = &[
    (Kind::Workstation, 34),
    (Kind::Laptop, 20),
    (Kind::Server, 7),
    (Kind::VirtualMachine, 6),
    (Kind::Firewall, 4),
    (Kind::Switch, 7),
    (Kind::Router, 2),
    (Kind::AccessPoint, 7),
    (Kind::Printer, 6),
    (Kind::Ups, 2),
    (Kind::Nas, 2),
    (Kind::Phone, 2),
    (Kind::Other, 1),
];

/// A product: `(manufacturer, model, serial style, firmware or OS choices)`.
pub struct Product {
    pub manufacturer: &'static str,
    pub model: &'static str,
    pub serial: Serial,
    /// Firmware versions for network gear and appliances; empty for computers.
    pub firmware: &'static [&'static str],
}

const fn p(manufacturer: &'static str, model: &'static str, serial: Serial) -> Product {
    Product {
        manufacturer,
        model,
        serial,
        firmware: &[],
    }
}

const fn fw(
    manufacturer: &'static str,
    model: &'static str,
    serial: Serial,
    firmware: &'static [&'static str],
) -> Product {
    Product {
        manufacturer,
        model,
        serial,
        firmware,
    }
}

pub fn products(kind: Kind) -> &'static [Product] {
    match kind {
        Kind::Workstation => WORKSTATIONS,
        Kind::Laptop => LAPTOPS,
        Kind::Server => SERVERS,
        Kind::VirtualMachine => VMS,
        Kind::Firewall => FIREWALLS,
        Kind::Switch => SWITCHES,
        Kind::Router => ROUTERS,
        Kind::AccessPoint => ACCESS_POINTS,
        Kind::Printer => PRINTERS,
        Kind::Ups => UPSES,
        Kind::Nas => NASES,
        Kind::Phone => PHONES,
        Kind::Other => OTHERS,
    }
}

const WORKSTATIONS: &[Product] = &[
    p("Dell", "OptiPlex 7090", Serial::DellTag),
    p("Dell", "OptiPlex 5000", Serial::DellTag),
    p("Dell", "Precision 3660", Serial::DellTag),
    p("HP", "EliteDesk 800 G6 SFF", Serial::Prefixed("CZC", 7)),
    p("HP", "ProDesk 400 G7 MT", Serial::Prefixed("MXL", 7)),
    p(
        "Lenovo",
        "ThinkCentre M70q Gen 2",
        Serial::Prefixed("MJ", 6),
    ),
    p("Lenovo", "ThinkCentre M720s", Serial::Prefixed("PC", 6)),
    p("Apple", "iMac (24-inch, M1, 2021)", Serial::Apple),
];

const LAPTOPS: &[Product] = &[
    p("Dell", "Latitude 5420", Serial::DellTag),
    p("Dell", "Latitude 7430", Serial::DellTag),
    p("HP", "EliteBook 840 G8", Serial::Prefixed("5CG", 7)),
    p("HP", "ProBook 450 G9", Serial::Prefixed("5CD", 7)),
    p("Lenovo", "ThinkPad T14 Gen 2", Serial::Prefixed("PF", 6)),
    p(
        "Lenovo",
        "ThinkPad X1 Carbon Gen 9",
        Serial::Prefixed("PF", 6),
    ),
    p("Apple", "MacBook Pro (14-inch, 2021)", Serial::Apple),
    p("Microsoft", "Surface Laptop 4", Serial::Digits("0", 11)),
];

const SERVERS: &[Product] = &[
    p("Dell", "PowerEdge R740", Serial::DellTag),
    p("Dell", "PowerEdge R650", Serial::DellTag),
    p("Dell", "PowerEdge T440", Serial::DellTag),
    p("HPE", "ProLiant DL380 Gen10", Serial::Prefixed("CZJ", 7)),
    p("HPE", "ProLiant ML350 Gen10", Serial::Prefixed("MXQ", 7)),
    p("Lenovo", "ThinkSystem SR650", Serial::Prefixed("J30", 5)),
];

const VMS: &[Product] = &[
    p("VMware, Inc.", "VMware Virtual Platform", Serial::Vmware),
    p("VMware, Inc.", "VMware7,1", Serial::Vmware),
    p("Microsoft Corporation", "Virtual Machine", Serial::HyperV),
];

const FIREWALLS: &[Product] = &[
    fw(
        "Fortinet",
        "FortiGate 60F",
        Serial::Digits("FGT60FTK2", 7),
        &["v7.2.8", "v7.4.3", "v7.0.15"],
    ),
    fw(
        "Fortinet",
        "FortiGate 100F",
        Serial::Digits("FG100FTK2", 7),
        &["v7.2.8", "v7.4.3"],
    ),
    fw(
        "SonicWall",
        "TZ370",
        Serial::Mac,
        &["7.0.1-5145", "7.1.1-7058"],
    ),
    fw(
        "WatchGuard",
        "Firebox T40",
        Serial::Prefixed("80D", 9),
        &["12.10.3", "12.9.4"],
    ),
    fw(
        "Cisco Meraki",
        "MX68",
        Serial::Meraki("Q2KY"),
        &["MX 18.107.10", "MX 18.211.2"],
    ),
];

const SWITCHES: &[Product] = &[
    fw(
        "Cisco",
        "Catalyst 9200L-24P-4G",
        Serial::Prefixed("JAE", 8),
        &["17.9.4", "17.6.5"],
    ),
    fw(
        "Cisco",
        "CBS350-24P-4G",
        Serial::Prefixed("FOC", 8),
        &["3.3.0.16"],
    ),
    fw(
        "HPE Aruba",
        "2930F-24G-PoE+",
        Serial::Prefixed("SG", 8),
        &["WC.16.11.0016", "WC.16.10.0023"],
    ),
    fw(
        "Ubiquiti",
        "UniFi Switch 24 PoE",
        Serial::Mac,
        &["6.6.61", "7.0.50"],
    ),
    fw(
        "Cisco Meraki",
        "MS120-24P",
        Serial::Meraki("Q2CX"),
        &["MS 15.21.1"],
    ),
    fw(
        "Netgear",
        "GS724TPv2",
        Serial::Prefixed("4TT", 10),
        &["6.0.9.3"],
    ),
];

const ROUTERS: &[Product] = &[
    fw(
        "Cisco",
        "ISR1111-4P",
        Serial::Prefixed("FGL", 8),
        &["17.9.4a", "17.6.6"],
    ),
    fw(
        "Ubiquiti",
        "EdgeRouter 4",
        Serial::Mac,
        &["v2.0.9-hotfix.7"],
    ),
    fw(
        "MikroTik",
        "RB5009UG+S+IN",
        Serial::Prefixed("HE", 10),
        &["7.14.3", "7.15.2"],
    ),
];

const ACCESS_POINTS: &[Product] = &[
    fw("Ubiquiti", "U6-Pro", Serial::Mac, &["6.6.77", "6.5.62"]),
    fw("Ubiquiti", "U6-Lite", Serial::Mac, &["6.6.77"]),
    fw(
        "Cisco Meraki",
        "MR36",
        Serial::Meraki("Q2XD"),
        &["MR 30.7", "MR 29.7.1"],
    ),
    fw(
        "HPE Aruba",
        "AP-515",
        Serial::Prefixed("CNK", 7),
        &["8.10.0.12"],
    ),
    fw("Ruckus", "R650", Serial::Digits("", 12), &["6.1.2.0.1000"]),
];

const PRINTERS: &[Product] = &[
    fw(
        "HP",
        "LaserJet Pro M404dn",
        Serial::Prefixed("PHB", 7),
        &["002_2310A"],
    ),
    fw(
        "HP",
        "Color LaserJet Pro MFP M479fdw",
        Serial::Prefixed("VNB", 7),
        &["002_2310A"],
    ),
    fw(
        "Brother",
        "MFC-L8900CDW",
        Serial::Prefixed("U6", 13),
        &["ZC"],
    ),
    fw(
        "Canon",
        "imageRUNNER ADVANCE DX C5840i",
        Serial::Prefixed("2Z", 6),
        &["Ver 33.05"],
    ),
    fw(
        "Xerox",
        "VersaLink C405",
        Serial::Digits("", 10),
        &["73.20.21"],
    ),
];

const UPSES: &[Product] = &[
    fw(
        "APC",
        "Smart-UPS 1500 (SMT1500RM2UC)",
        Serial::Digits("AS", 10),
        &["UPS 09.8"],
    ),
    fw(
        "Eaton",
        "5PX 1500",
        Serial::Prefixed("G", 9),
        &["02.14.0022"],
    ),
    fw(
        "CyberPower",
        "OR1500LCDRM1U",
        Serial::Prefixed("CTHJ", 8),
        &[],
    ),
];

const NASES: &[Product] = &[
    fw(
        "Synology",
        "DS920+",
        Serial::Prefixed("20A0PCN", 6),
        &["DSM 7.2.1-69057"],
    ),
    fw(
        "QNAP",
        "TS-453D",
        Serial::Prefixed("Q21", 8),
        &["QTS 5.1.7"],
    ),
];

const PHONES: &[Product] = &[
    fw(
        "Yealink",
        "SIP-T54W",
        Serial::Digits("", 16),
        &["96.86.0.75"],
    ),
    fw(
        "Poly",
        "VVX 450",
        Serial::Digits("0004F2", 6),
        &["6.4.6.2433"],
    ),
];

const OTHERS: &[Product] = &[
    p("Axis", "M3106-LVE Mk II", Serial::Mac),
    p("Logitech", "Rally Bar", Serial::Prefixed("2134", 8)),
];

/// Serials that BIOSes and people enter when they have none (CONTRACT §5's placeholders).
pub const PLACEHOLDER_SERIALS: &[&str] = &[
    "To be filled by O.E.M.",
    "Default string",
    "0",
    "System Serial Number",
];

/// `(label, platform, OS text)` choices per computer kind.
pub fn operating_systems(kind: Kind, apple: bool) -> &'static [(&'static str, &'static str)] {
    if apple {
        return &[("Mac", "macOS 14.5"), ("Mac", "macOS 13.6.7")];
    }
    match kind {
        Kind::Server => &[
            ("Windows", "Microsoft Windows Server 2022 Standard"),
            ("Windows", "Microsoft Windows Server 2019 Standard"),
            ("Windows", "Microsoft Windows Server 2016 Standard"),
            ("Linux", "Ubuntu 22.04.4 LTS"),
        ],
        Kind::VirtualMachine => &[
            ("Windows", "Microsoft Windows Server 2022 Standard"),
            ("Windows", "Microsoft Windows Server 2019 Datacenter"),
            ("Linux", "Ubuntu 22.04.4 LTS"),
            ("Linux", "Red Hat Enterprise Linux 9.3"),
        ],
        _ => &[
            ("Windows", "Microsoft Windows 11 Pro"),
            ("Windows", "Microsoft Windows 11 Pro"),
            ("Windows", "Microsoft Windows 10 Pro"),
            ("Windows", "Microsoft Windows 11 Enterprise"),
        ],
    }
}

/// The RMM integrations that create asset documents, and how their portal links look.
pub const INTEGRATIONS: &[(&str, &str)] = &[
    (
        "N-central",
        "https://ncentral.acmeit.example/deviceDetails.jsp?deviceID=",
    ),
    (
        "N-sight",
        "https://dashboard.systemmonitor.eu.com/dashboard/device/",
    ),
    (
        "Automate",
        "https://automate.acmeit.example/automate/computer/",
    ),
];

pub const PROCESSORS: &[&str] = &[
    "Intel(R) Core(TM) i5-10500 CPU @ 3.10GHz",
    "Intel(R) Core(TM) i7-1185G7 @ 3.00GHz",
    "Intel(R) Core(TM) i5-1245U",
    "Intel(R) Xeon(R) Silver 4210R CPU @ 2.40GHz",
    "AMD Ryzen 5 PRO 5650U",
    "Apple M1 Pro",
];

pub const MEMORY: &[&str] = &["8 GB", "16 GB", "16 GB", "32 GB", "64 GB", "128 GB"];
pub const STORAGE: &[&str] = &[
    "256 GB SSD",
    "512 GB SSD",
    "1 TB SSD",
    "2 TB HDD",
    "4 TB RAID 5",
];
pub const ANTIVIRUS: &[&str] = &[
    "SentinelOne",
    "Bitdefender GravityZone",
    "Microsoft Defender",
    "Webroot SecureAnywhere",
];
pub const SUPPORT_CONTRACTS: &[&str] = &[
    "ProSupport Plus",
    "HP Care Pack 3y NBD",
    "Premier Support 5y",
    "SmartNet 8x5xNBD",
    "FortiCare 24x7",
];

pub const FIRST_NAMES: &[&str] = &[
    "James", "Maria", "Robert", "Linda", "Michael", "Sarah", "David", "Emily", "Daniel", "Aisha",
    "Kevin", "Priya", "Thomas", "Olivia", "Carlos", "Hannah", "Wei", "Fatima", "Liam", "Chloe",
    "Noah", "Grace", "Ethan", "Sofia", "Lucas", "Margaret", "Owen", "Nadia",
];

pub const LAST_NAMES: &[&str] = &[
    "Smith", "Johnson", "Garcia", "Brown", "Miller", "Davis", "Wilson", "Anderson", "Taylor",
    "Thomas", "Moore", "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "Lewis", "Walker",
    "Young", "Patel", "Nguyen", "O'Connor", "Kowalski", "Schmidt", "Rossi", "Murphy", "Kim",
];

pub const TITLES: &[&str] = &[
    "Office Manager",
    "Owner",
    "IT Contact",
    "Bookkeeper",
    "Operations Director",
    "Receptionist",
    "Practice Manager",
];

/// `(city, state, country, postal prefix)`.
pub const CITIES: &[(&str, &str, &str, &str)] = &[
    ("Springfield", "IL", "United States", "627"),
    ("Portland", "OR", "United States", "972"),
    ("Austin", "TX", "United States", "787"),
    ("Columbus", "OH", "United States", "432"),
    ("Raleigh", "NC", "United States", "276"),
    ("Toronto", "ON", "Canada", "M5V"),
    ("Leeds", "West Yorkshire", "United Kingdom", "LS1"),
    ("Dundee", "Angus", "Scotland", "DD1"),
];

pub const STREETS: &[&str] = &[
    "Main Street",
    "Oak Avenue",
    "Commerce Drive",
    "Market Street",
    "Industrial Parkway",
    "Greenmarket",
    "Harbor Road",
];

pub const SITE_NAMES: &[&str] = &[
    "Main Office",
    "Warehouse",
    "Branch Office",
    "Head Office",
    "Clinic",
    "Data Center",
];

/// Vendor documents' websites, by manufacturer.
pub fn vendor_site(manufacturer: &str) -> String {
    let host: String = manufacturer
        .split([',', ' '])
        .next()
        .unwrap_or(manufacturer)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    format!("https://www.{host}.com")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_matches_the_observed_positions() {
        assert_eq!(ASSET_FIELDS[0], "Name");
        assert_eq!(ASSET_FIELDS[1], "Type");
        assert_eq!(ASSET_FIELDS[8], "Serial Number");
        assert_eq!(ASSET_FIELDS[10], "Manufacturer");
        assert_eq!(ASSET_FIELDS.len(), 35);
        let unique: std::collections::HashSet<_> = ASSET_FIELDS.iter().collect();
        assert_eq!(unique.len(), ASSET_FIELDS.len());
        for (i, t) in REFERENCE_FIELDS {
            assert!(i < ASSET_FIELDS.len() && !t.is_empty());
        }
    }

    #[test]
    fn weights_cover_every_kind_and_every_kind_has_products() {
        assert_eq!(KIND_WEIGHTS.iter().map(|(_, w)| w).sum::<u32>(), 100);
        for (k, _) in KIND_WEIGHTS {
            assert!(!products(*k).is_empty(), "{k:?}");
        }
        assert_eq!(vendor_site("VMware, Inc."), "https://www.vmware.com");
        assert_eq!(vendor_site("Cisco Meraki"), "https://www.cisco.com");
    }
}
