//! The canonical model (CONTRACT §4): what every connector produces and every query returns.
//! Vendors' own shapes stop at `vendors/`; the store and the RPC layer see only these types.

use chrono::{DateTime, NaiveDate, Utc};
use std::fmt;
use std::str::FromStr;

/// What kind of thing an asset is. The string forms are the CONTRACT §4 names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    Firewall,
    Router,
    Switch,
    L3Switch,
    VoipSwitch,
    SwitchStack,
    Controller,
    AccessPoint,
    Server,
    Workstation,
    Laptop,
    VirtualMachine,
    Hypervisor,
    Storage,
    Printer,
    Phone,
    Ups,
    Camera,
    Iot,
    Other,
    Unknown,
}

impl Category {
    pub const ALL: [Category; 21] = [
        Category::Firewall,
        Category::Router,
        Category::Switch,
        Category::L3Switch,
        Category::VoipSwitch,
        Category::SwitchStack,
        Category::Controller,
        Category::AccessPoint,
        Category::Server,
        Category::Workstation,
        Category::Laptop,
        Category::VirtualMachine,
        Category::Hypervisor,
        Category::Storage,
        Category::Printer,
        Category::Phone,
        Category::Ups,
        Category::Camera,
        Category::Iot,
        Category::Other,
        Category::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Firewall => "firewall",
            Category::Router => "router",
            Category::Switch => "switch",
            Category::L3Switch => "l3_switch",
            Category::VoipSwitch => "voip_switch",
            Category::SwitchStack => "switch_stack",
            Category::Controller => "controller",
            Category::AccessPoint => "access_point",
            Category::Server => "server",
            Category::Workstation => "workstation",
            Category::Laptop => "laptop",
            Category::VirtualMachine => "virtual_machine",
            Category::Hypervisor => "hypervisor",
            Category::Storage => "storage",
            Category::Printer => "printer",
            Category::Phone => "phone",
            Category::Ups => "ups",
            Category::Camera => "camera",
            Category::Iot => "iot",
            Category::Other => "other",
            Category::Unknown => "unknown",
        }
    }

    /// The categories a managed device is billed for (CONTRACT §5: Auvik's billable classes).
    pub fn is_billable_class(self) -> bool {
        matches!(
            self,
            Category::Router
                | Category::Switch
                | Category::L3Switch
                | Category::VoipSwitch
                | Category::SwitchStack
                | Category::Firewall
                | Category::Controller
        )
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown category `{0}`")]
pub struct UnknownCategory(pub String);

impl FromStr for Category {
    type Err = UnknownCategory;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownCategory(s.to_string()))
    }
}

/// Whether a device counts for billing: a billable class, managed (unknown is not), present.
pub fn is_billable(category: Category, managed: Option<bool>) -> bool {
    category.is_billable_class() && managed == Some(true)
}

/// A client as one source knows it (an Auvik tenant, a Syncro customer, a Passportal client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceClient {
    pub external_id: String,
    /// The vendor's display name, HTML entities decoded and trimmed.
    pub name: String,
    /// Other names the vendor knows it by that `[[client]]` members may use (Auvik: the
    /// domain prefix).
    pub aliases: Vec<String>,
}

/// A vendor's own billing figure for one of its clients over one month (Auvik's billing
/// usage), kept to reconcile assetd's billable counts against what the vendor bills.
#[derive(Debug, Clone, PartialEq)]
pub struct VendorUsage {
    /// The source client's external id (an Auvik tenant id).
    pub source_client_id: String,
    /// The month, "YYYY-MM".
    pub period: String,
    /// Days the vendor's figure covers (the month so far for the current month).
    pub days: i64,
    /// Billable device-days over those days.
    pub device_days: f64,
    /// Average billable devices per day: what the vendor bills.
    pub average_billable: f64,
}

/// One asset as a connector reports it: the CONTRACT §4 fields the vendor owns.
/// assetd's own fields (id, first_seen, removed_at, client, device) are the store's.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReportedAsset {
    pub external_id: String,
    /// The `SourceClient::external_id` it belongs to.
    pub source_client_id: String,
    pub name: String,
    pub category: Option<Category>,
    pub vendor_type: String,
    pub manufacturer: String,
    pub model: String,
    pub serial: String,
    pub mac_addresses: Vec<String>,
    pub ip_addresses: Vec<String>,
    pub os: String,
    pub firmware: String,
    pub online_status: String,
    pub managed: Option<bool>,
    pub last_seen: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    /// The vendor's record verbatim (JSON), for what the canonical fields do not carry;
    /// empty when the canonical fields carry everything (Auvik).
    pub raw: String,
}

impl ReportedAsset {
    pub fn category(&self) -> Category {
        self.category.unwrap_or(Category::Unknown)
    }
}

/// What a full run read to the end, and so where an asset it did not see may be gone
/// (CONTRACT §5 Removal is scoped to what was read). Connectors say it; the store confines
/// removal candidates to it. The default, `Nothing`, removes nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Coverage {
    /// No unit was read to the end: nothing may be removed.
    #[default]
    Nothing,
    /// The whole listing was read to the end (Syncro's and Passportal's, which give no
    /// narrower unit that can be trusted).
    Everything,
    /// The listings of these source clients (by `SourceClient::external_id`) were read to the
    /// end. `listed` is every client the vendor listed in a client list that was itself read
    /// to the end: an asset whose client is no longer listed at all belongs to a client the
    /// vendor has dropped, and may be gone too.
    Clients {
        read: std::collections::HashSet<String>,
        listed: std::collections::HashSet<String>,
    },
}

impl Coverage {
    /// Whether an absent asset of source client `client` (its external id; empty when
    /// unknown) lies in what was read.
    pub fn covers(&self, client: &str) -> bool {
        match self {
            Coverage::Nothing => false,
            Coverage::Everything => true,
            Coverage::Clients { read, listed } => read.contains(client) || !listed.contains(client),
        }
    }
}

/// Full runs also detect removals; incremental runs fetch only what changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunKind {
    Full,
    Incremental,
}

impl RunKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Full => "full",
            RunKind::Incremental => "incremental",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "full" => Some(RunKind::Full),
            "incremental" => Some(RunKind::Incremental),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunTrigger {
    Schedule,
    Manual,
    Config,
}

impl RunTrigger {
    pub fn as_str(self) -> &'static str {
        match self {
            RunTrigger::Schedule => "schedule",
            RunTrigger::Manual => "manual",
            RunTrigger::Config => "config",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "schedule" => Some(RunTrigger::Schedule),
            "manual" => Some(RunTrigger::Manual),
            "config" => Some(RunTrigger::Config),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    Running,
    Ok,
    Partial,
    Failed,
    Cancelled,
}

impl RunState {
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Running => "running",
            RunState::Ok => "ok",
            RunState::Partial => "partial",
            RunState::Failed => "failed",
            RunState::Cancelled => "cancelled",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "running" => Some(RunState::Running),
            "ok" => Some(RunState::Ok),
            "partial" => Some(RunState::Partial),
            "failed" => Some(RunState::Failed),
            "cancelled" => Some(RunState::Cancelled),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunCounts {
    pub fetched: i64,
    pub added: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub removed: i64,
    /// Records the vendor listed but would not let the run read (a Passportal document the
    /// key may not open, or one deleted between the list and its detail): kept as they were.
    pub skipped: i64,
    /// Units (an Auvik tenant; a whole listing) the run could not read to the end: their
    /// assets are kept as they were.
    pub skipped_units: i64,
    /// Removals the run found but held, because there were more than the source's
    /// `max_removals` allow (`assetctl sync SOURCE --full --accept-removals` applies them).
    pub removals_held: i64,
}

/// One sync run as recorded (CONTRACT §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRun {
    pub id: i64,
    pub source: String,
    pub kind: RunKind,
    pub trigger: RunTrigger,
    pub started: DateTime<Utc>,
    pub finished: Option<DateTime<Utc>>,
    pub state: RunState,
    pub counts: RunCounts,
    pub requests: i64,
    pub retries: i64,
    pub error: String,
}

/// One asset as stored: the vendor's record plus assetd's own fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    pub id: i64,
    pub source: String,
    pub client: String,
    pub source_client: String,
    pub record: ReportedAsset,
    pub billable: bool,
    pub first_seen: DateTime<Utc>,
    pub removed_at: Option<DateTime<Utc>>,
    pub device_id: i64,
    pub lifecycle: Lifecycle,
}

/// An asset's warranty status (CONTRACT §4). The string forms are the contract's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WarrantyStatus {
    Covered,
    NotCovered,
    Expired,
    Unknown,
}

impl WarrantyStatus {
    pub const ALL: [WarrantyStatus; 4] = [
        WarrantyStatus::Covered,
        WarrantyStatus::NotCovered,
        WarrantyStatus::Expired,
        WarrantyStatus::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WarrantyStatus::Covered => "covered",
            WarrantyStatus::NotCovered => "not_covered",
            WarrantyStatus::Expired => "expired",
            WarrantyStatus::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|w| w.as_str() == s)
    }

    /// How much a device's members' statuses weigh when they disagree: the most favourable
    /// wins, as the latest warranty expiry wins (ScalePad: "Expiry Date will resolve to the
    /// date furthest in the future"): one member still covered covers the device.
    pub fn rank(self) -> u8 {
        match self {
            WarrantyStatus::Covered => 4,
            WarrantyStatus::Expired => 3,
            WarrantyStatus::NotCovered => 2,
            WarrantyStatus::Unknown => 1,
        }
    }

    pub fn from_rank(rank: i64) -> Self {
        match rank {
            4 => WarrantyStatus::Covered,
            3 => WarrantyStatus::Expired,
            2 => WarrantyStatus::NotCovered,
            _ => WarrantyStatus::Unknown,
        }
    }
}

/// The vendor's support status of a device (CONTRACT §4): Auvik's `lastSupportStatus`
/// (Cisco's data), in snake_case; its `empty` is no status at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SupportStatus {
    Covered,
    Available,
    Expired,
    SecurityOnly,
    Unpublished,
}

impl SupportStatus {
    pub const ALL: [SupportStatus; 5] = [
        SupportStatus::Covered,
        SupportStatus::Available,
        SupportStatus::Expired,
        SupportStatus::SecurityOnly,
        SupportStatus::Unpublished,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SupportStatus::Covered => "covered",
            SupportStatus::Available => "available",
            SupportStatus::Expired => "expired",
            SupportStatus::SecurityOnly => "security_only",
            SupportStatus::Unpublished => "unpublished",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|w| w.as_str() == s)
    }

    /// When a device's members disagree, the most favourable status wins (as for warranty):
    /// a device is out of support only when every member that says anything says so.
    pub fn rank(self) -> u8 {
        match self {
            SupportStatus::Covered => 5,
            SupportStatus::Available => 4,
            SupportStatus::SecurityOnly => 3,
            SupportStatus::Unpublished => 2,
            SupportStatus::Expired => 1,
        }
    }

    pub fn from_rank(rank: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|s| i64::from(s.rank()) == rank)
    }
}

/// A date a vendor gave: one that reads as a calendar date, or its text as given when it
/// does not (never guessed at: CONTRACT §4 lifecycle).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VendorDate {
    Date(NaiveDate),
    Unreadable(String),
}

impl VendorDate {
    pub fn date(&self) -> Option<NaiveDate> {
        match self {
            VendorDate::Date(d) => Some(*d),
            VendorDate::Unreadable(_) => None,
        }
    }

    /// The vendor's text when it is not a date; empty otherwise.
    pub fn raw(&self) -> &str {
        match self {
            VendorDate::Date(_) => "",
            VendorDate::Unreadable(t) => t,
        }
    }
}

/// What a vendor says of one asset's warranty, as read by one run. `None` fields: the vendor
/// has nothing for them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WarrantyFacts {
    pub purchase_date: Option<VendorDate>,
    pub warranty_expires: Option<VendorDate>,
    /// The vendor's own statement of coverage, where it makes one (Auvik's
    /// `warrantyCoverageStatus`); never `Unknown`.
    pub stated: Option<WarrantyStatus>,
}

/// One asset's lifecycle as a run read it, by external id. A part that is `None` was not
/// read by this run (an incremental run, or an endpoint that failed): the stored values
/// stay. `Some` replaces them, nulls included: the vendor says it has nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecycleReport {
    pub external_id: String,
    pub warranty: Option<WarrantyFacts>,
    /// `Some(None)`: the vendor has no support status for it.
    pub support: Option<Option<SupportStatus>>,
}

/// The source clients (by external id) whose lifecycle listing a run read to the end, and
/// which parts: their assets that got no `LifecycleReport` for a part have nothing for it
/// (Auvik lists warranty and lifecycle records only for the devices that have them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LifecycleScope {
    pub clients: Vec<String>,
    pub warranty: bool,
    pub support: bool,
}

/// An asset's lifecycle facts as stored: what the vendors said when last read. What depends
/// on the calendar (its warranty status, its age) is derived on the day it is asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lifecycle {
    pub purchase_date: Option<NaiveDate>,
    pub warranty_expires: Option<NaiveDate>,
    /// The vendor's stated coverage (the store's `warranty_status` column).
    pub stated: Option<WarrantyStatus>,
    pub support_status: Option<SupportStatus>,
    /// The vendor's text for a date that is not one; empty otherwise.
    pub purchase_date_raw: String,
    pub warranty_expires_raw: String,
}

impl Lifecycle {
    pub fn warranty_status(&self, today: NaiveDate) -> WarrantyStatus {
        warranty_status(self.stated, self.warranty_expires, today)
    }

    pub fn age_days(&self, today: NaiveDate) -> Option<i64> {
        age_days(self.purchase_date, today)
    }
}

/// The warranty status on `today` (CONTRACT §4): the vendor's statement where it makes one
/// (`not_covered`, `expired`; `covered` until its expiry date, if it gives one, has passed,
/// since a statement is only as fresh as the vendor's last look), otherwise the expiry date
/// (`covered` through that day, `expired` from the next), otherwise `unknown`. An expiry
/// the vendor gave as text that is not a date is no date: `unknown` unless stated.
pub fn warranty_status(
    stated: Option<WarrantyStatus>,
    expires: Option<NaiveDate>,
    today: NaiveDate,
) -> WarrantyStatus {
    match (stated, expires) {
        (Some(WarrantyStatus::NotCovered), _) => WarrantyStatus::NotCovered,
        (Some(WarrantyStatus::Expired), _) => WarrantyStatus::Expired,
        (_, Some(e)) if e < today => WarrantyStatus::Expired,
        (_, Some(_)) | (Some(WarrantyStatus::Covered), None) => WarrantyStatus::Covered,
        (_, None) => WarrantyStatus::Unknown,
    }
}

/// Whole days from the purchase date to `today` (negative for a purchase date in the future,
/// as a typo at the vendor makes it); `None` without a purchase date.
pub fn age_days(purchase: Option<NaiveDate>, today: NaiveDate) -> Option<i64> {
    purchase.map(|p| (today - p).num_days())
}

/// The agent's "today" for lifecycle questions: the UTC calendar date (CONTRACT §4).
pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// One field of one asset changed by one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetChange {
    pub asset_id: i64,
    pub run_id: i64,
    pub changed_at: DateTime<Utc>,
    pub field: String,
    pub old_value: String,
    pub new_value: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_names_round_trip() {
        for c in Category::ALL {
            assert_eq!(c.as_str().parse::<Category>(), Ok(c));
        }
        assert!("Switch".parse::<Category>().is_err());
    }

    #[test]
    fn lifecycle_names_round_trip() {
        for w in WarrantyStatus::ALL {
            assert_eq!(WarrantyStatus::parse(w.as_str()), Some(w));
            assert_eq!(WarrantyStatus::from_rank(i64::from(w.rank())), w);
        }
        for s in SupportStatus::ALL {
            assert_eq!(SupportStatus::parse(s.as_str()), Some(s));
            assert_eq!(SupportStatus::from_rank(i64::from(s.rank())), Some(s));
        }
        assert_eq!(SupportStatus::from_rank(0), None);
    }

    #[test]
    fn warranty_status_follows_the_statement_then_the_calendar() {
        use WarrantyStatus::*;
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let today = d("2026-06-15");
        let cases = [
            (None, None, Unknown),
            (None, Some("2026-06-15"), Covered),
            (None, Some("2026-06-14"), Expired),
            (None, Some("2030-01-01"), Covered),
            (Some(Covered), None, Covered),
            (Some(Covered), Some("2026-06-16"), Covered),
            (Some(Covered), Some("2026-06-14"), Expired),
            (Some(NotCovered), Some("2030-01-01"), NotCovered),
            (Some(NotCovered), None, NotCovered),
            (Some(Expired), Some("2030-01-01"), Expired),
            (Some(Expired), None, Expired),
        ];
        for (stated, expires, want) in cases {
            assert_eq!(
                warranty_status(stated, expires.map(d), today),
                want,
                "{stated:?} {expires:?}"
            );
        }
        assert_eq!(age_days(Some(d("2026-06-14")), today), Some(1));
        assert_eq!(age_days(Some(d("2025-06-15")), today), Some(365));
        assert_eq!(age_days(None, today), None);
    }

    #[test]
    fn billable_needs_class_and_managed() {
        assert!(is_billable(Category::Firewall, Some(true)));
        assert!(!is_billable(Category::Firewall, None));
        assert!(!is_billable(Category::Firewall, Some(false)));
        assert!(!is_billable(Category::AccessPoint, Some(true)));
    }
}
