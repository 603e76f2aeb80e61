//! The product lines the simulator's devices are drawn from, by device type: vendors,
//! models, serial templates, software and firmware versions, descriptions and MAC prefixes,
//! as real MSP inventories show them. Data only; `super::families` picks by device type.

use super::Family;

macro_rules! fam {
    ($vendor:expr, [$($m:expr),+ $(,)?], $serial:expr, [$($s:expr),+ $(,)?], [$($f:expr),+ $(,)?], $descr:expr, $oui:expr) => {
        Family {
            vendor: $vendor,
            models: &[$($m),+],
            serial: $serial,
            software: &[$($s),+],
            firmware: &[$($f),+],
            description: $descr,
            oui: $oui,
        }
    };
}

pub(super) const CISCO_OUI: [u8; 3] = [0x00, 0x1b, 0x54];
pub(super) const ARUBA_OUI: [u8; 3] = [0x94, 0x60, 0xd5];
pub(super) const UBNT_OUI: [u8; 3] = [0x74, 0xac, 0xb9];
pub(super) const MERAKI_OUI: [u8; 3] = [0x0c, 0x8d, 0xdb];
pub(super) const DELL_OUI: [u8; 3] = [0xd0, 0x94, 0x66];
pub(super) const HP_OUI: [u8; 3] = [0x10, 0xe7, 0xc6];
pub(super) const LENOVO_OUI: [u8; 3] = [0x54, 0xe1, 0xad];
pub(super) const FORTI_OUI: [u8; 3] = [0x90, 0x6c, 0xac];
pub(super) const INTEL_OUI: [u8; 3] = [0x3c, 0x7c, 0x3f];
pub(super) const VMWARE_OUI: [u8; 3] = [0x00, 0x50, 0x56];
pub(super) const MSFT_OUI: [u8; 3] = [0x00, 0x15, 0x5d];

pub(super) const SWITCHES: &[Family] = &[
    fam!(
        "Cisco",
        [
            "C9200L-24P-4G",
            "C9200L-48P-4X",
            "C1000-24P-4G-L",
            "WS-C2960X-48FPD-L",
            "CBS350-24P-4G"
        ],
        "FOC####*###",
        ["15.2(7)E8", "17.9.4a", "17.6.5", "16.12.10"],
        ["17.9.4a", "15.2(7r)E", "1.0.0.2"],
        "Cisco IOS Software, {model} Software, Version {sw}, RELEASE SOFTWARE (fc2)",
        CISCO_OUI
    ),
    fam!(
        "Aruba",
        [
            "Aruba 2930F 48G PoE+ 4SFP+ Switch(JL256A)",
            "Aruba 6100 24G CL4 4SFP+ Swch (JL678A)",
            "Aruba Instant On 1930 24G"
        ],
        "SG##@@####",
        ["WC.16.11.0015", "PL.10.13.1010", "1.0.5.0"],
        ["WC.16.01.0007", "PL.10.13.1010"],
        "{model}, revision {sw}, ROM WC.16.01.0008 (/ws/swbuildm/rel_ukiah_qaoff/code/build/bom(swbuildm_rel_ukiah_qaoff_rel_ukiah))",
        ARUBA_OUI
    ),
    fam!(
        "Ubiquiti",
        [
            "USW-Pro-24-PoE",
            "USW-Lite-16-PoE",
            "USW-24-PoE",
            "US-48-500W"
        ],
        "%%%%%%%%%%%%",
        ["6.6.61.15220", "7.0.50.15613", "4.3.13.11253"],
        ["6.6.61", "7.0.50"],
        "UniFi Switch {model}, {sw}, Linux 3.6.5",
        UBNT_OUI
    ),
    fam!(
        "Meraki",
        ["MS120-48LP", "MS225-24P", "MS130-24P", "MS250-48FP"],
        "Q2##-****-****",
        ["MS 15.21.1", "MS 16.8", "MS 17.1.3"],
        ["15.21.1", "16.8"],
        "Meraki {model} Cloud Managed Switch",
        MERAKI_OUI
    ),
    fam!(
        "Netgear",
        ["GS728TPv2", "M4250-26G4F-PoE+", "GS752TPv2"],
        "#@@####@#####",
        ["6.0.8.2", "13.0.4.26", "6.0.10.4"],
        ["B1.0.0.4", "B1.0.0.5"],
        "{model} ProSAFE 24-port Gigabit Smart Managed Pro Switch, {sw}, B1.0.0.4",
        [0x94, 0x18, 0x65]
    ),
    fam!(
        "Dell",
        ["N1548P", "N2248X-ON", "S4128F-ON"],
        "*******",
        ["6.7.1.20", "10.5.4.2"],
        ["6.7.1.20", "3.33.0.1-7"],
        "Dell EMC Networking {model}, {sw}, Linux 4.14.138",
        DELL_OUI
    ),
];

pub(super) const L3_SWITCHES: &[Family] = &[
    fam!(
        "Cisco",
        ["C9300-24T", "C9300-48P", "WS-C3850-48P", "C9500-16X"],
        "FCW####@###",
        ["17.9.4a", "16.12.10a", "17.12.2"],
        ["17.9.4a", "16.12.2r"],
        "Cisco IOS Software [Cupertino], Catalyst L3 Switch Software (CAT9K_IOSXE), Version {sw}, RELEASE SOFTWARE (fc3)",
        CISCO_OUI
    ),
    fam!(
        "Juniper Networks",
        ["EX3400-48P", "EX4300-48T", "EX2300-24P"],
        "@@##########",
        ["21.4R3-S5.4", "22.2R3.15", "20.4R3-S9"],
        ["21.4R3-S5.4", "U-Boot 2016.01"],
        "Juniper Networks, Inc. ex3400-48p Ethernet Switch, kernel JUNOS {sw}, Build date: 2023-08-14",
        [0x88, 0xe0, 0xf3]
    ),
    fam!(
        "Aruba",
        [
            "Aruba JL322A 2930M-48G-PoE+ Switch",
            "Aruba 5406R zl2 Switch (J9850A)",
            "Aruba 8320 (JL479A)"
        ],
        "SG##@@####",
        ["WC.16.11.0015", "KB.16.11.0016", "GL.10.12.1000"],
        ["WC.16.01.0008", "KB.16.01.0009"],
        "{model}, revision {sw}, ROM KB.16.01.0009",
        ARUBA_OUI
    ),
];

pub(super) const ROUTERS: &[Family] = &[
    fam!(
        "Cisco",
        [
            "ISR4331/K9",
            "ISR4321/K9",
            "C1111-8P",
            "C8200L-1N-4T",
            "CISCO2911/K9"
        ],
        "FLM####@###",
        ["17.9.4a", "16.9.8", "15.7(3)M8", "17.12.1"],
        ["16.12(2r)", "17.3(1r)", "15.0(1r)M16"],
        "Cisco IOS XE Software, Version {sw}, Cisco IOS Software [Cupertino], ISR Software (X86_64_LINUX_IOSD-UNIVERSALK9-M), RELEASE SOFTWARE (fc3)",
        CISCO_OUI
    ),
    fam!(
        "MikroTik",
        ["CCR2004-16G-2S+", "RB5009UG+S+IN", "RB4011iGS+"],
        "%%%%%%%%%%%%",
        ["7.13.5", "7.11.2", "6.49.10"],
        ["7.13.5", "7.11.2"],
        "RouterOS {model}",
        [0x48, 0xa9, 0x8a]
    ),
    fam!(
        "Ubiquiti",
        ["EdgeRouter 4", "EdgeRouter 12", "UniFi Dream Router"],
        "%%%%%%%%%%%%",
        ["v2.0.9-hotfix.7", "v2.0.9-hotfix.6", "3.2.12"],
        ["v2.0.9", "3.2.12"],
        "EdgeOS {sw}.5574651.230512.0933",
        UBNT_OUI
    ),
    fam!(
        "DrayTek",
        ["Vigor2927", "Vigor2865", "Vigor3910"],
        "#####@######",
        ["4.4.5", "4.4.3.1", "4.3.2.6"],
        ["4.4.5", "4.4.3.1"],
        "DrayTek Corporation, Router Model: {model}, Version: {sw}, Build Date/Time:Feb 15 2024 18:35:59",
        [0x00, 0x1d, 0xaa]
    ),
];

pub(super) const FIREWALLS: &[Family] = &[
    fam!(
        "Fortinet",
        [
            "FortiGate-60F",
            "FortiGate-40F",
            "FortiGate-100F",
            "FortiGate-80F"
        ],
        "FGT60F@@########",
        ["v7.2.8,build1639", "v7.4.3,build2573", "v7.0.15,build0632"],
        ["v7.2.8", "v7.4.3"],
        "{model} {sw} (GA.M)",
        FORTI_OUI
    ),
    fam!(
        "Palo Alto Networks",
        ["PA-440", "PA-220", "PA-3220", "PA-850"],
        "0############",
        ["10.2.9-h1", "11.1.2-h3", "10.1.11-h4"],
        ["10.2.9-h1", "11.1.2-h3"],
        "Palo Alto Networks {model} series firewall",
        [0xb4, 0x0c, 0x25]
    ),
    fam!(
        "SonicWall",
        ["TZ470", "TZ370", "NSa 2700", "TZ270"],
        "2CB8ED%%%%%%",
        [
            "SonicOS 7.0.1-5145",
            "SonicOS 7.1.1-7051",
            "SonicOS 6.5.4.15-116n"
        ],
        ["7.0.1-5145", "6.5.4.15"],
        "SonicWALL {model} ({sw})",
        [0x2c, 0xb8, 0xed]
    ),
    fam!(
        "Meraki",
        ["MX68", "MX67", "MX85", "MX105"],
        "Q2##-****-****",
        ["MX 18.107.10", "MX 18.211.2"],
        ["18.107.10", "18.211.2"],
        "Meraki {model} Cloud Managed Security Appliance",
        MERAKI_OUI
    ),
    fam!(
        "WatchGuard",
        ["Firebox T45", "Firebox T85", "Firebox M290"],
        "%%%%%%%%%%%%%",
        ["12.10.3.B691290", "12.9.4.B681519"],
        ["12.10.3", "12.9.4"],
        "WatchGuard {model} Fireware {sw}",
        [0x00, 0x90, 0x7f]
    ),
];

pub(super) const UTMS: &[Family] = &[
    fam!(
        "Sophos",
        ["XGS 2100", "XGS 116", "XG 125", "SG 135"],
        "X########@####",
        ["SFOS 20.0.1 MR-1-Build342", "SFOS 19.5.3 MR-3-Build652"],
        ["20.0.1", "19.5.3"],
        "Sophos {model} {sw}",
        [0x7c, 0x5a, 0x1c]
    ),
    fam!(
        "Fortinet",
        ["FortiWiFi-60F", "FortiGate-70F"],
        "FWF60F@@########",
        ["v7.2.8,build1639", "v7.4.4,build2662"],
        ["v7.2.8", "v7.4.4"],
        "{model} {sw} (GA.M)",
        FORTI_OUI
    ),
];

pub(super) const SECURITY_APPLIANCES: &[Family] = &[
    fam!(
        "Check Point",
        [
            "Quantum Spark 1590",
            "Check Point 3600",
            "Quantum Spark 1570"
        ],
        "##########",
        ["R81.10.10 (996001742)", "R80.20.50"],
        ["R81.10.10", "R80.20.50"],
        "Check Point {model} Gaia {sw}",
        [0x00, 0x1c, 0x7f]
    ),
    fam!(
        "Barracuda Networks",
        ["CloudGen Firewall F183R", "Email Security Gateway 300"],
        "#######",
        ["9.0.2-021", "8.3.1-118"],
        ["9.0.2", "8.3.1"],
        "Barracuda {model} firmware {sw}",
        [0x00, 0x0d, 0x48]
    ),
];

pub(super) const ACCESS_POINTS: &[Family] = &[
    fam!(
        "Ubiquiti",
        [
            "U6-Pro",
            "U6-LR",
            "UAP-AC-PRO",
            "U6-Lite",
            "UAP-AC-LR",
            "M Series Access Point"
        ],
        "%%%%%%%%%%%%",
        ["6.6.77.15402", "6.5.62.14789", "4.3.28.11361"],
        ["unifi-v1.6.7.249-gb74e0282", "6.6.77", "6.5.62"],
        "Linux 4.4.153 #1 SMP PREEMPT Fri Apr 19 11:18:19 CST 2024 aarch64",
        UBNT_OUI
    ),
    fam!(
        "Aruba",
        ["AP-515", "AP-505", "Instant On AP22", "AP-635"],
        "CN##@@####",
        ["8.10.0.12", "8.11.2.1", "2.8.0"],
        ["8.10.0.12", "2.8.0"],
        "ArubaOS (MODEL: {model}), Version {sw}",
        ARUBA_OUI
    ),
    fam!(
        "Meraki",
        ["MR36", "MR46", "MR44", "MR28", "CW9164I"],
        "Q3##-****-****",
        ["MR 29.7.1", "MR 30.6", "MR 31.1.5"],
        ["29.7.1", "30.6"],
        "Meraki {model} Cloud Managed AP",
        MERAKI_OUI
    ),
    fam!(
        "Ruckus",
        ["R550", "R650", "R350"],
        "############",
        ["116.0.0.0.1634", "112.1.0.0.287"],
        ["116.0.0.0", "112.1.0.0"],
        "Ruckus Wireless {model} Multimedia Hotzone Wireless AP",
        [0xc8, 0x08, 0x73]
    ),
    fam!(
        "TP-Link",
        ["EAP670", "EAP245", "EAP225"],
        "#############",
        ["1.1.3 Build 20231017", "5.0.6 Build 20220722"],
        ["1.1.3", "5.0.6"],
        "Omada {model} {sw}",
        [0x50, 0xc7, 0xbf]
    ),
];

pub(super) const THIN_APS: &[Family] = &[
    fam!(
        "Cisco",
        [
            "AIR-AP1832I-B-K9",
            "C9120AXI-B",
            "AIR-CAP2702I-B-K9",
            "C9130AXI-B"
        ],
        "FJC####@###",
        ["8.10.185.0", "17.9.4.27", "8.5.182.0"],
        ["8.10.185.0", "17.9.4"],
        "Cisco AP Software, ap3g3-k9w8 Version: {sw}",
        CISCO_OUI
    ),
    fam!(
        "Aruba",
        ["AP-305", "AP-315", "AP-535"],
        "CN##@@####",
        ["8.6.0.21", "8.10.0.12"],
        ["8.6.0.21", "8.10.0.12"],
        "ArubaOS (MODEL: {model}), Version {sw}",
        ARUBA_OUI
    ),
];

pub(super) const CONTROLLERS: &[Family] = &[
    fam!(
        "Cisco",
        [
            "C9800-L-C-K9",
            "AIR-CT3504-K9",
            "AIR-CT2504-K9",
            "C9800-40-K9"
        ],
        "FCL####@###",
        ["17.9.4a", "8.10.185.0", "17.12.2"],
        ["17.9.4a", "8.10.185.0"],
        "Cisco Controller {model} {sw}",
        CISCO_OUI
    ),
    fam!(
        "Ubiquiti",
        [
            "UniFi Dream Machine Pro",
            "UniFi Cloud Key Gen2 Plus",
            "UniFi Dream Machine SE"
        ],
        "%%%%%%%%%%%%",
        ["3.2.12", "4.0.6", "3.1.16"],
        ["3.2.12", "4.0.6"],
        "UniFi OS {sw} {model}",
        UBNT_OUI
    ),
    fam!(
        "Aruba",
        ["Aruba7010", "Aruba7205", "Aruba9004"],
        "CV##@@####",
        ["8.10.0.12", "8.6.0.21"],
        ["8.10.0.12", "8.6.0.21"],
        "ArubaOS (MODEL: {model}), Version {sw}",
        ARUBA_OUI
    ),
    fam!(
        "Ruckus",
        ["SmartZone 100", "Virtual SmartZone"],
        "############",
        ["6.1.2.0.329", "5.2.2.0.1563"],
        ["6.1.2.0", "5.2.2.0"],
        "Ruckus {model} {sw}",
        [0xc8, 0x08, 0x73]
    ),
];

pub(super) const VOIP_SWITCHES: &[Family] = &[
    fam!(
        "Cisco",
        ["CBS350-48FP-4G", "C9200-48PXG-4X", "WS-C2960X-24PS-L"],
        "FOC####*###",
        ["3.3.0.16", "17.9.4a", "15.2(7)E8"],
        ["3.3.0.16", "15.2(7r)E"],
        "Cisco IOS Software, {model} Software (voice VLAN), Version {sw}, RELEASE SOFTWARE (fc2)",
        CISCO_OUI
    ),
    fam!(
        "Avaya",
        ["ERS 4850GTS-PWR+", "ERS 4826GTS-PWR+"],
        "@@##########",
        ["v5.12.6.005", "v5.11.2.010"],
        ["5.12.6", "5.11.2"],
        "Ethernet Routing Switch {model} HW:10 FW:5.8.0.1 SW:{sw}",
        [0x00, 0x1b, 0x4f]
    ),
];

pub(super) const STACKS: &[Family] = &[
    fam!(
        "Cisco",
        [
            "Catalyst 9300 Stack",
            "Catalyst 3850 Stack",
            "Catalyst 2960X Stack"
        ],
        "FOC####*###",
        ["17.9.4a", "16.12.10a", "15.2(7)E8"],
        ["17.9.4a", "16.12.2r"],
        "Cisco IOS Software [Cupertino], {model}, Version {sw}, RELEASE SOFTWARE (fc3)",
        CISCO_OUI
    ),
    fam!(
        "Aruba",
        ["Aruba 2930M Stack", "Aruba 6300M VSF Stack"],
        "SG##@@####",
        ["WC.16.11.0015", "FL.10.13.1010"],
        ["WC.16.01.0008", "FL.10.13.1010"],
        "{model}, revision {sw}",
        ARUBA_OUI
    ),
];

pub(super) const WORKSTATIONS: &[Family] = &[
    fam!(
        "Dell Inc.",
        [
            "OptiPlex 7090",
            "OptiPlex 7010",
            "Latitude 5440",
            "Latitude 7420",
            "Precision 3660"
        ],
        "*******",
        [
            "Microsoft Windows 11 Pro 10.0.22631",
            "Microsoft Windows 10 Pro 10.0.19045",
            "Microsoft Windows 11 Enterprise 10.0.22621"
        ],
        ["1.19.0", "1.23.1", "2.17.0"],
        "Hardware: Intel64 Family 6 Model 167 Stepping 1 AT/AT COMPATIBLE - Software: Windows Version 6.3 (Build {sw} Multiprocessor Free)",
        DELL_OUI
    ),
    fam!(
        "HP",
        [
            "HP EliteDesk 800 G6 SFF",
            "HP ProBook 450 G9",
            "HP EliteBook 840 G8",
            "HP ProDesk 400 G7"
        ],
        "MXL####@##",
        [
            "Microsoft Windows 11 Pro 10.0.22631",
            "Microsoft Windows 10 Pro 10.0.19045"
        ],
        [
            "S01 Ver. 02.17.00",
            "T37 Ver. 01.15.00",
            "S25 Ver. 02.12.00"
        ],
        "Hardware: Intel64 Family 6 Model 165 Stepping 5 AT/AT COMPATIBLE - Software: Windows Version 6.3 (Build {sw} Multiprocessor Free)",
        HP_OUI
    ),
    fam!(
        "LENOVO",
        [
            "ThinkCentre M70q Gen 3",
            "ThinkPad T14 Gen 3",
            "ThinkPad E15 Gen 4",
            "ThinkCentre M90s"
        ],
        "PF######",
        [
            "Microsoft Windows 11 Pro 10.0.22631",
            "Microsoft Windows 10 Pro 10.0.19045"
        ],
        ["M3GKT4DA", "N3MET19W (1.18 )", "R1QET50W (1.30 )"],
        "Hardware: AMD64 Family 25 Model 80 Stepping 0 AT/AT COMPATIBLE - Software: Windows Version 6.3 (Build {sw} Multiprocessor Free)",
        LENOVO_OUI
    ),
    fam!(
        "Apple",
        ["iMac24,1", "MacBookPro18,3", "Mac14,2", "Macmini9,1"],
        "C02@@#####@@",
        ["macOS 14.4.1", "macOS 13.6.6", "macOS 14.2"],
        ["10151.101.3", "8422.141.2"],
        "Darwin 23.4.0 Darwin Kernel Version 23.4.0: root:xnu-10063.101.17~1/RELEASE_ARM64_T8103 arm64",
        [0xf0, 0x18, 0x98]
    ),
    fam!(
        "ASUS",
        [
            "System Product Name",
            "PRIME B560M-A",
            "ExpertCenter D500SC"
        ],
        "M#@#KS######",
        [
            "Microsoft Windows 10 Pro 10.0.19045",
            "Microsoft Windows 11 Home 10.0.22631"
        ],
        ["1601", "2801", "0603"],
        "Hardware: Intel64 Family 6 Model 151 Stepping 5 AT/AT COMPATIBLE - Software: Windows Version 6.3 (Build {sw} Multiprocessor Free)",
        [0x04, 0x92, 0x26]
    ),
];

pub(super) const SERVERS: &[Family] = &[
    fam!(
        "Dell Inc.",
        [
            "PowerEdge R650",
            "PowerEdge R740",
            "PowerEdge T440",
            "PowerEdge R750xs",
            "PowerEdge T150"
        ],
        "*******",
        [
            "Microsoft Windows Server 2022 Standard 10.0.20348",
            "Microsoft Windows Server 2019 Standard 10.0.17763",
            "Ubuntu 22.04.4 LTS"
        ],
        ["2.19.1", "1.12.2", "2.21.2"],
        "Hardware: Intel64 Family 6 Model 106 Stepping 6 AT/AT COMPATIBLE - Software: Windows Version 6.3 (Build {sw} Multiprocessor Free)",
        DELL_OUI
    ),
    fam!(
        "HPE",
        [
            "ProLiant DL380 Gen10",
            "ProLiant ML350 Gen10",
            "ProLiant DL360 Gen11",
            "ProLiant MicroServer Gen10 Plus"
        ],
        "CZ#####@##",
        [
            "Microsoft Windows Server 2022 Standard 10.0.20348",
            "Red Hat Enterprise Linux 9.3",
            "Microsoft Windows Server 2016 Standard 10.0.14393"
        ],
        ["U30 v2.90 (01/31/2024)", "U46 v1.52 (12/12/2023)"],
        "Hardware: Intel64 Family 6 Model 85 Stepping 7 AT/AT COMPATIBLE - Software: Windows Version 6.3 (Build {sw} Multiprocessor Free)",
        [0x94, 0x40, 0xc9]
    ),
    fam!(
        "Lenovo",
        [
            "ThinkSystem SR650",
            "ThinkSystem ST250 V2",
            "ThinkSystem SR630 V2"
        ],
        "J30#####",
        [
            "Microsoft Windows Server 2022 Datacenter 10.0.20348",
            "Debian GNU/Linux 12 (bookworm)"
        ],
        ["TEE172M-3.20", "U8E136J-1.60"],
        "Linux {model} 6.1.0-18-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 x86_64",
        LENOVO_OUI
    ),
    fam!(
        "Supermicro",
        ["SYS-5019C-M", "SYS-1029P-WTR", "SuperServer 6029P-TRT"],
        "S#####X#######",
        [
            "Ubuntu 20.04.6 LTS",
            "Proxmox VE 8.1.4",
            "Microsoft Windows Server 2019 Standard 10.0.17763"
        ],
        ["3.4", "1.8", "2.1a"],
        "Linux {model} 5.15.0-101-generic #111-Ubuntu SMP x86_64",
        [0x3c, 0xec, 0xef]
    ),
];

pub(super) const VIRTUAL_MACHINES: &[Family] = &[
    fam!(
        "VMware, Inc.",
        ["VMware Virtual Platform", "VMware7,1", "VMware20,1"],
        "VMware-42 ^^ ^^ ^^ ^^ ^^ ^^ ^^-^^ ^^ ^^ ^^ ^^ ^^ ^^ ^^",
        [
            "Microsoft Windows Server 2022 Standard 10.0.20348",
            "Microsoft Windows Server 2019 Datacenter 10.0.17763",
            "Ubuntu 22.04.4 LTS"
        ],
        ["VMW71.00V.21100432.B64.2301110304", "6.00"],
        "Hardware: Intel64 Family 6 Model 85 Stepping 4 AT/AT COMPATIBLE - Software: Windows Version 6.3 (Build {sw} Multiprocessor Free)",
        VMWARE_OUI
    ),
    fam!(
        "Microsoft Corporation",
        ["Virtual Machine"],
        "####-####-####-####-####-####-##",
        [
            "Microsoft Windows Server 2022 Standard 10.0.20348",
            "Microsoft Windows 10 Enterprise 10.0.19045"
        ],
        ["Hyper-V UEFI Release v4.1"],
        "Hardware: Intel64 Family 6 Model 106 Stepping 6 AT/AT COMPATIBLE - Software: Windows Version 6.3 (Build {sw} Multiprocessor Free)",
        MSFT_OUI
    ),
];

pub(super) const HYPERVISORS: &[Family] = &[
    fam!(
        "Dell Inc.",
        ["PowerEdge R750", "PowerEdge R650xs", "PowerEdge R640"],
        "*******",
        [
            "VMware ESXi 8.0.2 build-22380479",
            "VMware ESXi 7.0.3 build-21930508"
        ],
        ["1.11.2", "2.19.1"],
        "VMware ESXi {sw} VMware, Inc. x86_64",
        DELL_OUI
    ),
    fam!(
        "HPE",
        ["ProLiant DL380 Gen10 Plus", "ProLiant DL360 Gen10"],
        "CZ#####@##",
        [
            "VMware ESXi 7.0.3 build-22348816",
            "Microsoft Hyper-V Server 2019 10.0.17763"
        ],
        ["U46 v1.52 (12/12/2023)", "U32 v2.90 (01/31/2024)"],
        "VMware ESXi {sw} VMware, Inc. x86_64",
        [0x94, 0x40, 0xc9]
    ),
];

pub(super) const STORAGE: &[Family] = &[
    fam!(
        "Synology",
        ["DS920+", "DS1522+", "RS1221+", "DS224+"],
        "####@@@######",
        ["DSM 7.2.1-69057 Update 5", "DSM 7.1.1-42962 Update 6"],
        ["7.2.1-69057", "7.1.1-42962"],
        "Linux {model} 4.4.302+ #69057 SMP Fri Jan 12 17:02:28 CST 2024 x86_64",
        [0x00, 0x11, 0x32]
    ),
    fam!(
        "QNAP",
        ["TS-873A", "TS-464", "TVS-h874"],
        "Q###@#####",
        ["QTS 5.1.5.2645", "QuTS hero h5.1.4"],
        ["5.1.5.2645", "h5.1.4"],
        "Linux TS-873A 5.10.60-qnap #1 SMP x86_64",
        [0x24, 0x5e, 0xbe]
    ),
    fam!(
        "NetApp",
        ["FAS2750", "AFF A250"],
        "############",
        ["NetApp Release 9.13.1P6", "NetApp Release 9.12.1P10"],
        ["11.7", "11.8"],
        "NetApp Release {sw}: Thu Nov 30 2023 UTC",
        [0x00, 0xa0, 0x98]
    ),
];

pub(super) const PRINTERS: &[Family] = &[
    fam!(
        "HP",
        [
            "HP LaserJet Pro M404dn",
            "HP Color LaserJet Pro M454dw",
            "HP LaserJet Enterprise M507",
            "HP OfficeJet Pro 9025e"
        ],
        "PHB@######",
        ["002_2339A", "2409081_052631", "5.7.0.2"],
        ["002_2339A", "2409081_052631"],
        "HP ETHERNET MULTI-ENVIRONMENT,ROM none,JETDIRECT,JD153,EEPROM JSI24090012,CIDATE 09/20/2023",
        HP_OUI
    ),
    fam!(
        "Brother",
        ["HL-L8360CDW", "MFC-L8900CDW", "HL-L6200DW"],
        "U63881@#N######",
        ["1.07", "Ver.ZD"],
        ["Ver.ZD", "1.07"],
        "Brother NC-8800w, Firmware Ver.ZD  ,MID 8CE-F13,FID 2",
        [0x30, 0x05, 0x5c]
    ),
    fam!(
        "Lexmark",
        ["MX622ade", "CS531dw", "MS821dn"],
        "#####@#####@@",
        ["CXTMM.231.037", "MSNGM.230.215"],
        ["CXTMM.231.037", "MSNGM.230.215"],
        "Lexmark {model} version {sw} kernel 5.4.210-yocto-standard",
        [0x00, 0x21, 0xb7]
    ),
];

pub(super) const COPIERS: &[Family] = &[
    fam!(
        "Canon",
        [
            "imageRUNNER ADVANCE DX C5840i",
            "imageRUNNER ADVANCE C3530i III",
            "imageRUNNER 2630i"
        ],
        "@@@#####",
        ["Ver. 72.05", "Ver. 65.10"],
        ["72.05", "65.10"],
        "Canon {model} /P",
        [0x00, 0x1e, 0x8f]
    ),
    fam!(
        "RICOH",
        ["IM C3000", "MP C4504ex", "IM 430F"],
        "##########@",
        ["1.21", "2.05"],
        ["1.21", "2.05"],
        "RICOH {model} 1.21 / RICOH Network Printer C model / RICOH Network Scanner C model",
        [0x00, 0x26, 0x73]
    ),
    fam!(
        "KONICA MINOLTA",
        ["bizhub C300i", "bizhub C450i", "bizhub 4752"],
        "A##@######",
        ["GC7-M0", "GC7-J0"],
        ["GC7-M0", "GC7-J0"],
        "KONICA MINOLTA {model}",
        [0x00, 0x20, 0x6b]
    ),
];

pub(super) const PHONES: &[Family] = &[
    fam!(
        "Yealink",
        ["SIP-T54W", "SIP-T46U", "SIP-T33G", "SIP-T57W"],
        "################",
        ["96.86.0.100", "108.86.0.75", "124.86.0.40"],
        ["96.86.0.100", "108.86.0.75"],
        "Yealink {model} {sw}",
        [0x80, 0x5e, 0xc0]
    ),
    fam!(
        "Poly",
        ["VVX 450", "VVX 350", "CCX 500", "Edge E450"],
        "64167F######",
        ["6.4.6.2290", "8.1.3.1301"],
        ["6.4.6.2290", "8.1.3.1301"],
        "Polycom {model} UC Software {sw}",
        [0x64, 0x16, 0x7f]
    ),
    fam!(
        "Cisco",
        ["IP Phone 8845", "IP Phone 7841", "IP Phone 8865"],
        "FCH####@###",
        ["sip88xx.14-2-1-0201-60", "sip78xx.14-1-1SR1-1"],
        ["14-2-1", "14-1-1"],
        "Cisco {model} {sw}",
        CISCO_OUI
    ),
];

pub(super) const MOBILE: &[Family] = &[
    fam!(
        "Apple",
        [
            "iPhone 14",
            "iPad (9th generation)",
            "iPhone 13",
            "iPad Air (5th generation)"
        ],
        "@@@@@@@@@@",
        ["iOS 17.4.1", "iPadOS 17.4", "iOS 16.7.7"],
        ["17.4.1", "16.7.7"],
        "Apple {model}",
        [0xf0, 0x18, 0x98]
    ),
    fam!(
        "Samsung",
        ["Galaxy S23", "Galaxy Tab S8", "Galaxy A54"],
        "R5C@#######",
        ["Android 14", "Android 13"],
        ["S911BXXS3BXC1", "X700XXS5CXB1"],
        "Samsung {model}",
        [0x8c, 0x79, 0xf5]
    ),
];

pub(super) const HANDHELDS: &[Family] = &[fam!(
    "Zebra Technologies",
    ["TC52", "TC57", "MC3300", "TC21"],
    "##########",
    [
        "Android 11 11-49-18.00-RG-U00-STD",
        "Android 10 10-16-10.00-QG-U120-STD"
    ],
    ["11-49-18.00", "10-16-10.00"],
    "Zebra {model} {sw}",
    [0x00, 0x15, 0x70]
)];

pub(super) const MULTIMEDIA: &[Family] = &[
    fam!(
        "Samsung",
        ["QM55R", "QB65R", "UN55TU7000"],
        "0#@@3@@N######",
        ["T-KTM2ELAKUC-1310.3", "T-KTM2AKUC-1250.2"],
        ["1310.3", "1250.2"],
        "Samsung {model} Smart Signage",
        [0x8c, 0x79, 0xf5]
    ),
    fam!(
        "Apple",
        ["Apple TV 4K (3rd generation)", "Apple TV HD"],
        "@@@@@@@@@@",
        ["tvOS 17.4", "tvOS 16.6"],
        ["17.4", "16.6"],
        "Apple {model}",
        [0xf0, 0x18, 0x98]
    ),
];

pub(super) const AUDIO_VISUAL: &[Family] = &[
    fam!(
        "Crestron",
        ["CP4N", "TSW-1070", "DM-NVX-360"],
        "##########",
        ["2.8001.00163", "3.0000.00004"],
        ["2.8001.00163", "3.0000.00004"],
        "Crestron Electronics {model} (Version {sw})",
        [0x00, 0x10, 0x7f]
    ),
    fam!(
        "Biamp",
        ["TesiraFORTE X 1600", "Parlé TCM-X"],
        "0########",
        ["4.8.0.23", "4.7.1.2"],
        ["4.8.0.23", "4.7.1.2"],
        "Biamp Systems {model} {sw}",
        [0x00, 0x90, 0x5e]
    ),
];

pub(super) const CAMERAS: &[Family] = &[
    fam!(
        "Axis Communications",
        ["AXIS P3245-V", "AXIS M3106-L Mk II", "AXIS Q6135-LE"],
        "ACCC8E%%%%%%",
        ["10.12.220", "11.8.64"],
        ["10.12.220", "11.8.64"],
        "Linux {model} 4.9.206-axis8 #1 PREEMPT armv7l",
        [0xac, 0xcc, 0x8e]
    ),
    fam!(
        "Hikvision",
        ["DS-2CD2143G2-I", "DS-2CD2387G2-LU", "DS-7616NI-K2"],
        "DS-2CD2143G2-I20220101AAWR@########",
        ["V5.7.3 build 220112", "V5.5.800 build 210628"],
        ["V5.7.3", "V5.5.800"],
        "Hikvision {model} {sw}",
        [0xbc, 0xad, 0x28]
    ),
    fam!(
        "Ubiquiti",
        ["UVC-G4-Bullet", "UVC-G5-Dome", "UVC-G4-Pro"],
        "%%%%%%%%%%%%",
        ["4.69.55", "4.72.32"],
        ["4.69.55", "4.72.32"],
        "UniFi Protect {model} {sw}",
        UBNT_OUI
    ),
];

pub(super) const UPS: &[Family] = &[
    fam!(
        "APC",
        [
            "Smart-UPS 1500",
            "Smart-UPS X 3000",
            "Back-UPS Pro 1500",
            "Smart-UPS SRT 3000"
        ],
        "AS####1#####",
        ["UPS 09.8 (ID18)", "UPS 15.5 (ID1029)"],
        ["AOS v6.9.6", "AOS v7.0.4"],
        "APC Web/SNMP Management Card (MB:v4.2.1 PF:v6.9.6 PN:apc_hw05_aos_696.bin AF1:v6.9.6 AN1:apc_hw05_sumx_696.bin MN:{model} HR:09)",
        [0x00, 0xc0, 0xb7]
    ),
    fam!(
        "Eaton",
        ["5PX 1500", "9PX 3000", "5P 1550R"],
        "G###@#####",
        ["02.08.0006", "01.04.0019"],
        ["3.1.5", "2.6.2"],
        "Eaton {model} Network Management Card {sw}",
        [0x00, 0x20, 0x85]
    ),
    fam!(
        "CyberPower",
        ["OR1500LCDRM1U", "PR1500LCDRT2U"],
        "@@@@@#######",
        ["1.4.3", "1.3.6"],
        ["1.4.3", "1.3.6"],
        "CyberPower RMCARD205 {model} {sw}",
        [0x00, 0x0c, 0x15]
    ),
];

pub(super) const PDUS: &[Family] = &[
    fam!(
        "APC",
        ["AP8941", "AP7900B", "AP8853"],
        "5A####E#####",
        ["v7.0.6", "v6.9.6"],
        ["v7.0.6", "v6.9.6"],
        "APC Web/SNMP Management Card (MN:{model} rpdu2g {sw})",
        [0x00, 0xc0, 0xb7]
    ),
    fam!(
        "Raritan",
        ["PX3-5190R", "PX3-1493R"],
        "@########",
        ["4.0.20.5-49038", "3.6.10.5-48525"],
        ["4.0.20", "3.6.10"],
        "Raritan {model} firmware {sw}",
        [0x00, 0x0d, 0x5d]
    ),
];

pub(super) const AIR_CONDITIONERS: &[Family] = &[
    fam!(
        "Schneider Electric",
        ["InRow RC ACRC301S", "Uniflair LE"],
        "JK##########",
        ["v6.8.8", "v7.0.2"],
        ["v6.8.8", "v7.0.2"],
        "APC Web/SNMP Management Card (MN:{model} {sw})",
        [0x00, 0xc0, 0xb7]
    ),
    fam!(
        "Vertiv",
        ["Liebert CRV CR035", "Liebert PDX"],
        "##########",
        ["4.6.0.0_0000001", "4.4.1.0"],
        ["4.6.0.0", "4.4.1.0"],
        "Vertiv {model} IS-UNITY {sw}",
        [0x00, 0x09, 0xf5]
    ),
];

pub(super) const IOT: &[Family] = &[
    fam!(
        "Raspberry Pi Foundation",
        [
            "Raspberry Pi 4 Model B Rev 1.5",
            "Raspberry Pi 5 Model B Rev 1.0"
        ],
        "1000000%%%%%%%%%",
        [
            "Raspbian GNU/Linux 12 (bookworm)",
            "Raspbian GNU/Linux 11 (bullseye)"
        ],
        ["2024-04-20", "2023-05-11"],
        "Linux raspberrypi 6.6.20+rpt-rpi-v8 #1 SMP PREEMPT Debian aarch64",
        [0xdc, 0xa6, 0x32]
    ),
    fam!(
        "Espressif Inc.",
        ["ESP32-S3", "Shelly Plus 1PM"],
        "%%%%%%%%%%%%",
        ["1.2.2", "1.0.8"],
        ["1.2.2", "1.0.8"],
        "Espressif {model} {sw}",
        [0x24, 0x0a, 0xc4]
    ),
    fam!(
        "Google",
        ["Nest Learning Thermostat", "Nest Hub"],
        "09AA01AC########",
        ["6.2.3-4", "3.7.2"],
        ["6.2.3-4", "3.7.2"],
        "Google {model}",
        [0x18, 0xb4, 0x30]
    ),
];

pub(super) const BACKUP_DEVICES: &[Family] = &[
    fam!(
        "Datto",
        ["SIRIS S5-2", "SIRIS S5-4", "ALTO 4"],
        "%%%%%%%%%%%%",
        ["Datto OS 24.04", "Datto OS 22.04"],
        ["24.04", "22.04"],
        "Datto {model} {sw}",
        [0x00, 0x25, 0x90]
    ),
    fam!(
        "Barracuda Networks",
        ["Backup 490", "Backup 690"],
        "#######",
        ["6.6.06.001", "6.5.05.002"],
        ["6.6.06", "6.5.05"],
        "Barracuda {model} firmware {sw}",
        [0x00, 0x0d, 0x48]
    ),
];

pub(super) const TIME_CLOCKS: &[Family] = &[fam!(
    "ADP",
    ["ADP 4500", "InTouch DX"],
    "#####-######",
    ["4.5.1.0", "3.3.0.26"],
    ["4.5.1.0", "3.3.0.26"],
    "ADP Time Clock {model} {sw}",
    [0x00, 0x17, 0xc8]
)];

pub(super) const LIGHTING: &[Family] = &[
    fam!(
        "Signify",
        ["Philips Hue Bridge v2", "Interact Pro Gateway"],
        "%%%%%%%%%%%%",
        ["1962097030", "1959194040"],
        ["1962097030", "1959194040"],
        "Philips {model} {sw}",
        [0xec, 0xb5, 0xfa]
    ),
    fam!(
        "Lutron",
        ["Caseta Smart Bridge PRO", "RadioRA 3 Processor"],
        "0%%%%%%%",
        ["08.25.17f000", "21.10.0"],
        ["08.25.17f000", "21.10.0"],
        "Lutron {model} {sw}",
        [0x50, 0x8c, 0xb1]
    ),
];

pub(super) const ALARMS: &[Family] = &[
    fam!(
        "Bosch Security Systems",
        ["B5512", "B6512"],
        "##########",
        ["3.14.012", "3.12.020"],
        ["3.14.012", "3.12.020"],
        "Bosch {model} Control Panel {sw}",
        [0x00, 0x04, 0x63]
    ),
    fam!(
        "Honeywell",
        ["VISTA-20P with TUXEDOW", "ProSeries 128"],
        "##########",
        ["5.14.2", "6.6.4"],
        ["5.14.2", "6.6.4"],
        "Honeywell {model} {sw}",
        [0x00, 0xd0, 0x2d]
    ),
];

pub(super) const BUILDING_MANAGEMENT: &[Family] = &[
    fam!(
        "Johnson Controls",
        ["Metasys NAE55", "Metasys SNE10500"],
        "@@@@@@#####",
        ["12.0.0.3003", "11.0.0.7105"],
        ["12.0.0.3003", "11.0.0.7105"],
        "Johnson Controls {model} {sw}",
        [0x00, 0x0c, 0x29]
    ),
    fam!(
        "Schneider Electric",
        ["EcoStruxure Building Operation AS-P", "SmartX AS-B-24"],
        "@@##########",
        ["5.0.3.117", "4.0.4.5000"],
        ["5.0.3.117", "4.0.4"],
        "Schneider Electric {model} {sw}",
        [0x00, 0x80, 0xf4]
    ),
];

pub(super) const IPMI: &[Family] = &[
    fam!(
        "Dell Inc.",
        ["iDRAC9", "iDRAC8"],
        "*******",
        ["7.00.00.172", "2.84.84.84"],
        ["7.00.00.172", "2.84.84.84"],
        "Dell Inc. {model} Integrated Dell Remote Access Controller {sw}",
        DELL_OUI
    ),
    fam!(
        "HPE",
        ["iLO 5", "iLO 6"],
        "ILOCZ#####@##",
        ["2.98 Mar 22 2024", "1.58 Feb 12 2024"],
        ["2.98", "1.58"],
        "Integrated Lights-Out {model} {sw}",
        [0x94, 0x40, 0xc9]
    ),
    fam!(
        "Supermicro",
        ["X11SCM-F BMC", "X12STH-F BMC"],
        "OM######X####",
        ["01.73.12", "01.01.26"],
        ["01.73.12", "01.01.26"],
        "Supermicro BMC {model} {sw}",
        [0x3c, 0xec, 0xef]
    ),
];

pub(super) const THIN_CLIENTS: &[Family] = &[
    fam!(
        "Dell Inc.",
        ["Wyse 5070 Thin Client", "OptiPlex 3000 Thin Client"],
        "*******",
        [
            "ThinOS 9.4.1141",
            "Windows 10 IoT Enterprise LTSC 10.0.19044"
        ],
        ["1.27.0", "1.12.1"],
        "Dell {model} {sw}",
        DELL_OUI
    ),
    fam!(
        "HP",
        ["HP t640 Thin Client", "HP t540 Thin Client"],
        "5CG####@##",
        [
            "HP ThinPro 8.0 SP8",
            "Windows 10 IoT Enterprise LTSC 10.0.19044"
        ],
        ["T85 Ver. 01.17.00", "T88 Ver. 01.12.00"],
        "HP {model} {sw}",
        HP_OUI
    ),
];

pub(super) const NETWORK_MISC: &[Family] = &[
    fam!(
        "Ubiquiti",
        [
            "NanoStation 5AC",
            "LiteBeam 5AC Gen2",
            "airFiber AF-5XHD",
            "PowerBeam 5AC Gen2"
        ],
        "%%%%%%%%%%%%",
        ["XC.v8.7.11", "v4.1.2", "WA.v8.7.11"],
        ["XC.v8.7.11", "v4.1.2"],
        "Linux 2.6.32.71 #1 Thu Nov 18 12:08:55 EET 2022 mips",
        UBNT_OUI
    ),
    fam!(
        "Cambium Networks",
        ["ePMP 3000", "PTP 670", "ePMP Force 300-25"],
        "0004560#####",
        ["4.7.0.1", "5.8.0"],
        ["4.7.0.1", "5.8.0"],
        "Cambium {model} {sw}",
        [0x00, 0x04, 0x56]
    ),
];

pub(super) const HUBS: &[Family] = &[fam!(
    "TP-Link",
    ["TL-SG1016", "TL-SG108E", "TL-SF1024D"],
    "#############",
    ["1.0.0 Build 20230218", "1.0.2 Build 20180327"],
    ["1.0.0", "1.0.2"],
    "TP-Link {model} unmanaged switch",
    [0x50, 0xc7, 0xbf]
)];

pub(super) const MODEMS: &[Family] = &[
    fam!(
        "Arris",
        ["SURFboard SB8200", "TG3452", "CM8200A"],
        "#####################",
        ["AB01.02.053.05_051921_193.0A.NSH", "9.1.103J6"],
        ["AB01.02.053", "9.1.103J6"],
        "ARRIS DOCSIS 3.1 / EuroDOCSIS 3.0 Touchstone Cable Modem <<HW_REV: 6; VENDOR: ARRIS Group, Inc.; BOOTR: 2.2.0.45; SW_REV: {sw}; MODEL: {model}>>",
        [0x3c, 0x36, 0xe4]
    ),
    fam!(
        "Cradlepoint",
        ["IBR900-600M", "E300-C4D", "AER2200-600M"],
        "WA##########",
        ["7.24.30", "7.23.40"],
        ["7.24.30", "7.23.40"],
        "Cradlepoint {model}, Firmware Version {sw}",
        [0x00, 0x30, 0x44]
    ),
];

pub(super) const LOAD_BALANCERS: &[Family] = &[
    fam!(
        "F5 Networks",
        ["BIG-IP i2600", "BIG-IP i4800", "BIG-IP Virtual Edition"],
        "f5-^^^^-^^^^",
        ["BIG-IP 16.1.4.1 Build 0.50.5", "BIG-IP 17.1.1 Build 0.0.4"],
        ["16.1.4.1", "17.1.1"],
        "BIG-IP {model} : Linux 3.10.0-862.14.4.el7.ve.x86_64 : {sw}",
        [0x00, 0x94, 0xa1]
    ),
    fam!(
        "Kemp Technologies",
        ["LoadMaster LM-X15", "LoadMaster VLM-200"],
        "#######",
        ["7.2.59.2.22338", "7.2.54.8.21112"],
        ["7.2.59.2", "7.2.54.8"],
        "Kemp {model} {sw}",
        [0x00, 0x16, 0x3e]
    ),
];

pub(super) const PACKET_PROCESSORS: &[Family] = &[fam!(
    "Gigamon",
    ["GigaVUE-HC1", "GigaVUE-HC3", "GigaVUE-TA25"],
    "1####-####",
    ["6.5.00", "6.3.01"],
    ["6.5.00", "6.3.01"],
    "GigaVUE {model} {sw}",
    [0x00, 0x1d, 0xac]
)];

pub(super) const CHASSIS: &[Family] = &[
    fam!(
        "Cisco",
        ["N7K-C7706", "N9K-C9504", "WS-C6509-E"],
        "FXS####@###",
        ["8.4(7)", "10.3(4a)", "15.5(1)SY11"],
        ["8.4(7)", "10.3(4a)"],
        "Cisco NX-OS(tm) {model}, Software ({sw}), Copyright (c) 2002-2023 by Cisco Systems, Inc.",
        CISCO_OUI
    ),
    fam!(
        "Aruba",
        [
            "Aruba 5412R zl2 Switch (J9851A)",
            "Aruba 5406R zl2 Switch (J9850A)"
        ],
        "SG##@@####",
        ["KB.16.11.0016", "KB.16.10.0025"],
        ["KB.16.01.0009"],
        "{model}, revision {sw}, ROM KB.16.01.0009",
        ARUBA_OUI
    ),
];

pub(super) const MODULES: &[Family] = &[
    fam!(
        "Cisco",
        ["C9300-NM-8X", "C9300-NM-4G", "NIM-4G", "PWR-C1-715WAC-P"],
        "FOC####@###",
        ["17.9.4a", "16.12.10a"],
        ["V02", "V03"],
        "Cisco {model} network module",
        CISCO_OUI
    ),
    fam!(
        "Aruba",
        [
            "J9990A 20p PoE+ / 4p SFP+ v3 zl2 Mod",
            "JL083A 3810M/2930M 4SFP+ Module"
        ],
        "SG##@@####",
        ["KB.16.11.0016"],
        ["KB.16.01.0009"],
        "Aruba {model}",
        ARUBA_OUI
    ),
];

pub(super) const TELECOM: &[Family] = &[
    fam!(
        "Mitel",
        ["MiVoice Business 3300 ICP", "MiVoice Office 400 SMBC"],
        "@@#########",
        ["9.4 SP2", "6.3 SP2"],
        ["9.4.2.14", "6.3.2"],
        "Mitel {model} {sw}",
        [0x08, 0x00, 0x0f]
    ),
    fam!(
        "Avaya",
        ["IP Office 500 V2", "IP Office Server Edition"],
        "##@#########",
        ["11.1.3.1.0 build 6", "11.0.4.8.0 build 3"],
        ["11.1.3.1.0", "11.0.4.8.0"],
        "Avaya {model} {sw}",
        [0x00, 0x1b, 0x4f]
    ),
    fam!(
        "Adtran",
        ["NetVanta 7060", "Total Access 908e"],
        "LBADTN##########",
        ["R13.12.0.E", "R12.7.1"],
        ["R13.12.0.E", "R12.7.1"],
        "ADTRAN, Inc. OS version {sw} Platform: {model}",
        [0x00, 0xa0, 0xc8]
    ),
];

pub(super) const VIRTUAL_APPLIANCES: &[Family] = &[
    fam!(
        "VMware, Inc.",
        ["VMware vCenter Server Appliance", "VMware NSX Manager"],
        "VMware-56 ^^ ^^ ^^ ^^ ^^ ^^ ^^-^^ ^^ ^^ ^^ ^^ ^^ ^^ ^^",
        ["8.0.2.00300", "7.0.3.01800"],
        ["8.0.2", "7.0.3"],
        "VMware {model} {sw}",
        VMWARE_OUI
    ),
    fam!(
        "Fortinet",
        ["FortiGate-VM64", "FortiAnalyzer-VM64"],
        "FGVMSL##########",
        ["v7.2.8,build1639", "v7.4.2,build2571"],
        ["v7.2.8", "v7.4.2"],
        "{model} {sw} (GA.M)",
        FORTI_OUI
    ),
    fam!(
        "Cisco",
        ["CSR1000V", "C8000V", "ASAv"],
        "9##@@@@####",
        ["17.3.8a", "17.9.4a", "9.18(4)"],
        ["17.3.8a", "9.18(4)"],
        "Cisco IOS XE Software, Version {sw}, {model}",
        CISCO_OUI
    ),
];

pub(super) const UNKNOWN: &[Family] = &[
    fam!(
        "Intel Corporate",
        ["Ethernet Connection I219-LM"],
        "%%%%%%%%%%%%",
        ["Linux 5.15"],
        ["0.4.0"],
        "Linux",
        INTEL_OUI
    ),
    fam!(
        "Amazon Technologies Inc.",
        ["Echo Dot", "Fire TV Stick 4K"],
        "G0#@##########",
        ["Fire OS 7.6.6.8", "Fire OS 8.1.0.3"],
        ["7.6.6.8", "8.1.0.3"],
        "Amazon {model}",
        [0xf0, 0x27, 0x2d]
    ),
    fam!(
        "Sonos, Inc.",
        ["Sonos One", "Sonos Era 100"],
        "%%-%%-%%-%%-%%-%%:#",
        ["16.1 (build 78135250)"],
        ["78135250"],
        "Sonos {model}",
        [0x48, 0xa6, 0xb8]
    ),
];
