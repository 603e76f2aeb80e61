//! Proto messages → the records assetctl prints, and so the shapes of `-o json`.
//!
//! The shapes are a contract, written down in `docs/cli-json.md` (every command's output,
//! every record's fields and their JSON types, and the stability promise: fields are only
//! ever added). `tests/e2e/cli_json.rs` reads that document and checks every command's
//! output against it, so a field added or changed here must be added there too.
//!
//! In short: one JSON value per command; field names and order are stable; fields are
//! never omitted (absent values are `null`, empty strings stay `""`; only `raw` is left out
//! where there is none); timestamps are RFC 3339 UTC strings, durations humantime strings,
//! enums lowercase names. An enum value the agent sends but this assetctl does not know
//! prints as `unspecified` (`unknown` for a category).

use chrono::{DateTime, SecondsFormat, Utc};
use prost_types::{Duration as PbDuration, Timestamp};
use serde::Serialize;

use crate::output::{Col, Field, Record, flex, left, right};
use crate::proto;

/// The category names of CONTRACT §4, in proto enum order: read from the generated enum, so
/// the list is written once, in the proto.
pub fn category_names() -> Vec<String> {
    (1..)
        .map_while(|v| proto::Category::try_from(v).ok())
        .map(|c| category_name(c as i32))
        .collect()
}

/// A proto enum name without its prefix, lowercased: `CATEGORY_L3_SWITCH` → `l3_switch`.
fn enum_name(full: &str, prefix: &str) -> String {
    full.strip_prefix(prefix)
        .unwrap_or(full)
        .to_ascii_lowercase()
}

/// The CONTRACT §4 name of a category enum value; unspecified or unrecognised → `unknown`.
pub fn category_name(value: i32) -> String {
    match proto::Category::try_from(value) {
        Ok(proto::Category::Unspecified) | Err(_) => "unknown".to_owned(),
        Ok(c) => enum_name(c.as_str_name(), "CATEGORY_"),
    }
}

/// The category for a CONTRACT §4 name (case-insensitive).
pub fn category_from_name(name: &str) -> Option<proto::Category> {
    let c = proto::Category::from_str_name(&format!("CATEGORY_{}", name.to_ascii_uppercase()))?;
    (c != proto::Category::Unspecified).then_some(c)
}

fn state_name<E>(value: i32, as_str: fn(&E) -> &'static str, prefix: &str) -> String
where
    E: TryFrom<i32>,
{
    match E::try_from(value) {
        Ok(e) => enum_name(as_str(&e), prefix),
        Err(_) => "unspecified".to_owned(),
    }
}

pub fn source_state_name(v: i32) -> String {
    state_name(v, proto::SourceState::as_str_name, "SOURCE_STATE_")
}
pub fn run_kind_name(v: i32) -> String {
    state_name(v, proto::RunKind::as_str_name, "RUN_KIND_")
}
pub fn run_trigger_name(v: i32) -> String {
    state_name(v, proto::RunTrigger::as_str_name, "RUN_TRIGGER_")
}
pub fn run_state_name(v: i32) -> String {
    state_name(v, proto::RunState::as_str_name, "RUN_STATE_")
}
pub fn config_state_name(v: i32) -> String {
    state_name(v, proto::ConfigState::as_str_name, "CONFIG_STATE_")
}

/// The CONTRACT §4 name of a warranty status; unspecified or unrecognised → `unknown`.
pub fn warranty_status_name(v: i32) -> String {
    match proto::WarrantyStatus::try_from(v) {
        Ok(proto::WarrantyStatus::Unspecified) | Err(_) => "unknown".to_owned(),
        Ok(w) => enum_name(w.as_str_name(), "WARRANTY_STATUS_"),
    }
}

/// The CONTRACT §4 name of a support status; `None` when the vendor gives none (an enum
/// value this assetctl does not know prints as `unspecified`).
pub fn support_status_name(v: i32) -> Option<String> {
    match proto::SupportStatus::try_from(v) {
        Ok(proto::SupportStatus::Unspecified) => None,
        Ok(s) => Some(enum_name(s.as_str_name(), "SUPPORT_STATUS_")),
        Err(_) => Some("unspecified".to_owned()),
    }
}

/// A date field as JSON has it: `"YYYY-MM-DD"`, or `null` for none.
fn opt_text(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// A timestamp as RFC 3339 UTC (`Z`), fractional seconds only when present.
pub fn timestamp(t: Option<&Timestamp>) -> Option<String> {
    let t = t?;
    let nanos = u32::try_from(t.nanos).ok()?;
    let dt = DateTime::<Utc>::from_timestamp(t.seconds, nanos)?;
    Some(dt.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// A proto duration as a std one (negative → zero).
pub fn std_duration(d: &PbDuration) -> std::time::Duration {
    let secs = u64::try_from(d.seconds).unwrap_or(0);
    let nanos = u32::try_from(d.nanos).unwrap_or(0).min(999_999_999);
    std::time::Duration::new(secs, nanos)
}

/// A duration as a humantime string, to the second.
pub fn duration(d: Option<&PbDuration>) -> Option<String> {
    let d = std_duration(d?);
    Some(humantime::format_duration(std::time::Duration::from_secs(d.as_secs())).to_string())
}

/// A std duration as a proto one.
pub fn pb_duration(d: std::time::Duration) -> PbDuration {
    PbDuration {
        seconds: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        nanos: i32::try_from(d.subsec_nanos()).unwrap_or(0),
    }
}

// ---------------------------------------------------------------------------
// Records

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AssetRecord {
    pub id: i64,
    pub source: String,
    pub external_id: String,
    pub client: String,
    pub source_client: String,
    pub name: String,
    pub category: String,
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
    pub billable: bool,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub updated_at: Option<String>,
    pub removed_at: Option<String>,
    pub device_id: i64,
    pub purchase_date: Option<String>,
    pub warranty_expires: Option<String>,
    pub warranty_status: String,
    pub support_status: Option<String>,
    pub age_days: Option<i64>,
    pub purchase_date_raw: String,
    pub warranty_expires_raw: String,
    /// The vendor's record verbatim; only `assets get` has it (lists leave it out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw: Option<serde_json::Value>,
}

impl From<proto::Asset> for AssetRecord {
    fn from(a: proto::Asset) -> Self {
        Self {
            id: a.id,
            category: category_name(a.category),
            first_seen: timestamp(a.first_seen.as_ref()),
            last_seen: timestamp(a.last_seen.as_ref()),
            updated_at: timestamp(a.updated_at.as_ref()),
            removed_at: timestamp(a.removed_at.as_ref()),
            source: a.source,
            external_id: a.external_id,
            client: a.client,
            source_client: a.source_client,
            name: a.name,
            vendor_type: a.vendor_type,
            manufacturer: a.manufacturer,
            model: a.model,
            serial: a.serial,
            mac_addresses: a.mac_addresses,
            ip_addresses: a.ip_addresses,
            os: a.os,
            firmware: a.firmware,
            online_status: a.online_status,
            managed: a.managed,
            billable: a.billable,
            device_id: a.device_id,
            purchase_date: opt_text(a.purchase_date),
            warranty_expires: opt_text(a.warranty_expires),
            warranty_status: warranty_status_name(a.warranty_status),
            support_status: support_status_name(a.support_status),
            age_days: a.age_days,
            purchase_date_raw: a.purchase_date_raw,
            warranty_expires_raw: a.warranty_expires_raw,
            raw: (!a.raw.is_empty())
                .then(|| serde_json::from_str(&a.raw).unwrap_or(serde_json::Value::String(a.raw))),
        }
    }
}

fn opt_bool(b: Option<bool>) -> String {
    b.map(|b| b.to_string()).unwrap_or_default()
}

fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_default()
}

/// A cell for tables: `-` when empty.
fn cell(s: &str) -> String {
    if s.is_empty() {
        "-".to_owned()
    } else {
        s.to_owned()
    }
}

/// `2025-03-01 12:00` from an RFC 3339 string; `-` when absent.
pub fn short_ts(s: &Option<String>) -> String {
    match s {
        Some(s) => s.get(..16).unwrap_or(s).replacen('T', " ", 1),
        None => "-".to_owned(),
    }
}

/// A number of seconds in at most two units: `3m 12s`, `2h 5m`, `4days 1h`.
pub fn human_secs(secs: u64) -> String {
    let text = humantime::format_duration(std::time::Duration::from_secs(secs)).to_string();
    text.split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

/// `5m ago` or `in 25m`, relative to `now`; `-` when absent or unparseable.
pub fn relative(s: &Option<String>, now: DateTime<Utc>) -> String {
    let Some(t) = s
        .as_deref()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
    else {
        return "-".to_owned();
    };
    let delta = t
        .with_timezone(&Utc)
        .signed_duration_since(now)
        .num_seconds();
    if delta.abs() < 1 {
        "now".to_owned()
    } else if delta > 0 {
        format!("in {}", human_secs(delta.unsigned_abs()))
    } else {
        format!("{} ago", human_secs(delta.unsigned_abs()))
    }
}

/// The time between two RFC 3339 strings, in at most two units.
pub fn elapsed(from: &Option<String>, to: &Option<String>) -> Option<String> {
    let from = DateTime::parse_from_rfc3339(from.as_deref()?).ok()?;
    let to = DateTime::parse_from_rfc3339(to.as_deref()?).ok()?;
    let secs = to.signed_duration_since(from).num_seconds();
    Some(human_secs(u64::try_from(secs).unwrap_or(0)))
}

impl Record for AssetRecord {
    const TABLE: &'static [(Col, Field<Self>)] = &[
        (right("ID"), |a| a.id.to_string()),
        (left("SOURCE"), |a| a.source.clone()),
        (flex("CLIENT"), |a| cell(&a.client)),
        (flex("NAME"), |a| cell(&a.name)),
        (left("CATEGORY"), |a| a.category.clone()),
        (flex("MODEL"), |a| cell(&a.model)),
        (left("SERIAL"), |a| cell(&a.serial)),
        (left("IP"), |a| cell(&a.ip_addresses.join(","))),
        (left("STATUS"), |a| {
            if a.removed_at.is_some() {
                "removed".to_owned()
            } else {
                cell(&a.online_status)
            }
        }),
        (left("LAST SEEN"), |a| short_ts(&a.last_seen)),
    ];
    const CSV: &'static [(&'static str, Field<Self>)] = &[
        ("id", |a| a.id.to_string()),
        ("source", |a| a.source.clone()),
        ("external_id", |a| a.external_id.clone()),
        ("client", |a| a.client.clone()),
        ("source_client", |a| a.source_client.clone()),
        ("name", |a| a.name.clone()),
        ("category", |a| a.category.clone()),
        ("vendor_type", |a| a.vendor_type.clone()),
        ("manufacturer", |a| a.manufacturer.clone()),
        ("model", |a| a.model.clone()),
        ("serial", |a| a.serial.clone()),
        ("mac_addresses", |a| a.mac_addresses.join(";")),
        ("ip_addresses", |a| a.ip_addresses.join(";")),
        ("os", |a| a.os.clone()),
        ("firmware", |a| a.firmware.clone()),
        ("online_status", |a| a.online_status.clone()),
        ("managed", |a| opt_bool(a.managed)),
        ("billable", |a| a.billable.to_string()),
        ("first_seen", |a| opt(&a.first_seen)),
        ("last_seen", |a| opt(&a.last_seen)),
        ("updated_at", |a| opt(&a.updated_at)),
        ("removed_at", |a| opt(&a.removed_at)),
        ("device_id", |a| a.device_id.to_string()),
        ("purchase_date", |a| opt(&a.purchase_date)),
        ("warranty_expires", |a| opt(&a.warranty_expires)),
        ("warranty_status", |a| a.warranty_status.clone()),
        ("support_status", |a| opt(&a.support_status)),
        ("age_days", |a| {
            a.age_days.map(|d| d.to_string()).unwrap_or_default()
        }),
        ("purchase_date_raw", |a| a.purchase_date_raw.clone()),
        ("warranty_expires_raw", |a| a.warranty_expires_raw.clone()),
    ];
}

impl AssetRecord {
    /// One asset as `field  value` lines, for `assets get` in table form.
    pub fn detail(&self) -> String {
        let managed = match self.managed {
            Some(b) => b.to_string(),
            None => "unknown".to_owned(),
        };
        let ts = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".to_owned());
        // A date the vendor gave as text that is not a date shows that text, marked.
        let date = |d: &Option<String>, raw: &str| match (d, raw.is_empty()) {
            (Some(d), _) => d.clone(),
            (None, false) => format!("- (the vendor wrote {raw:?}, not a date)"),
            (None, true) => "-".to_owned(),
        };
        let fields: [(&str, String); 28] = [
            ("id", self.id.to_string()),
            ("source", cell(&self.source)),
            ("external_id", cell(&self.external_id)),
            ("client", cell(&self.client)),
            ("source_client", cell(&self.source_client)),
            ("name", cell(&self.name)),
            ("category", self.category.clone()),
            ("vendor_type", cell(&self.vendor_type)),
            ("manufacturer", cell(&self.manufacturer)),
            ("model", cell(&self.model)),
            ("serial", cell(&self.serial)),
            ("mac_addresses", cell(&self.mac_addresses.join(", "))),
            ("ip_addresses", cell(&self.ip_addresses.join(", "))),
            ("os", cell(&self.os)),
            ("firmware", cell(&self.firmware)),
            ("online_status", cell(&self.online_status)),
            ("managed", managed),
            ("billable", self.billable.to_string()),
            ("first_seen", ts(&self.first_seen)),
            ("last_seen", ts(&self.last_seen)),
            ("updated_at", ts(&self.updated_at)),
            ("removed_at", ts(&self.removed_at)),
            ("device_id", self.device_id.to_string()),
            (
                "purchase_date",
                date(&self.purchase_date, &self.purchase_date_raw),
            ),
            (
                "warranty_expires",
                date(&self.warranty_expires, &self.warranty_expires_raw),
            ),
            ("warranty_status", self.warranty_status.clone()),
            (
                "support_status",
                self.support_status
                    .clone()
                    .unwrap_or_else(|| "-".to_owned()),
            ),
            (
                "age_days",
                self.age_days
                    .map_or_else(|| "-".to_owned(), |d| d.to_string()),
            ),
        ];
        let mut out = String::new();
        for (k, v) in fields {
            out.push_str(&format!("{k:<16} {}\n", crate::output::sanitize(&v)));
        }
        if let Some(raw) = &self.raw {
            // The vendor's record, indented, after the canonical fields.
            let pretty = serde_json::to_string_pretty(raw).unwrap_or_default();
            out.push_str("raw:\n");
            for line in pretty.lines() {
                out.push_str(&format!("  {}\n", crate::output::sanitize(line)));
            }
        }
        out
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ChangeRecord {
    pub asset_id: i64,
    pub run_id: i64,
    pub changed_at: Option<String>,
    pub field: String,
    pub old_value: String,
    pub new_value: String,
}

impl From<proto::AssetChange> for ChangeRecord {
    fn from(c: proto::AssetChange) -> Self {
        Self {
            asset_id: c.asset_id,
            run_id: c.run_id,
            changed_at: timestamp(c.changed_at.as_ref()),
            field: c.field,
            old_value: c.old_value,
            new_value: c.new_value,
        }
    }
}

impl Record for ChangeRecord {
    const TABLE: &'static [(Col, Field<Self>)] = &[
        (left("CHANGED"), |c| short_ts(&c.changed_at)),
        (right("RUN"), |c| c.run_id.to_string()),
        (left("FIELD"), |c| c.field.clone()),
        (flex("OLD"), |c| cell(&c.old_value)),
        (flex("NEW"), |c| cell(&c.new_value)),
    ];
    const CSV: &'static [(&'static str, Field<Self>)] = &[
        ("asset_id", |c| c.asset_id.to_string()),
        ("run_id", |c| c.run_id.to_string()),
        ("changed_at", |c| opt(&c.changed_at)),
        ("field", |c| c.field.clone()),
        ("old_value", |c| c.old_value.clone()),
        ("new_value", |c| c.new_value.clone()),
    ];
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DeviceRecord {
    pub id: i64,
    pub client: String,
    pub name: String,
    pub category: String,
    pub serial: String,
    pub sources: Vec<String>,
    pub asset_ids: Vec<i64>,
    pub managed: Option<bool>,
    pub billable: bool,
    pub purchase_date: Option<String>,
    pub purchase_date_source: Option<String>,
    pub warranty_expires: Option<String>,
    pub warranty_expires_source: Option<String>,
    pub warranty_status: String,
    pub support_status: Option<String>,
    pub age_days: Option<i64>,
}

impl From<proto::Device> for DeviceRecord {
    fn from(d: proto::Device) -> Self {
        Self {
            id: d.id,
            category: category_name(d.category),
            purchase_date: opt_text(d.purchase_date),
            purchase_date_source: opt_text(d.purchase_date_source),
            warranty_expires: opt_text(d.warranty_expires),
            warranty_expires_source: opt_text(d.warranty_expires_source),
            warranty_status: warranty_status_name(d.warranty_status),
            support_status: support_status_name(d.support_status),
            age_days: d.age_days,
            client: d.client,
            name: d.name,
            serial: d.serial,
            sources: d.sources,
            asset_ids: d.asset_ids,
            managed: d.managed,
            billable: d.billable,
        }
    }
}

impl Record for DeviceRecord {
    const TABLE: &'static [(Col, Field<Self>)] = &[
        (right("ID"), |d| d.id.to_string()),
        (flex("CLIENT"), |d| cell(&d.client)),
        (flex("NAME"), |d| cell(&d.name)),
        (left("CATEGORY"), |d| d.category.clone()),
        (left("SERIAL"), |d| cell(&d.serial)),
        (left("SOURCES"), |d| cell(&d.sources.join(","))),
        (left("ASSETS"), |d| cell(&join_ids(&d.asset_ids, ","))),
        (left("MANAGED"), |d| {
            d.managed
                .map_or_else(|| "unknown".to_owned(), |b| yes_no(b).to_owned())
        }),
        (left("BILLABLE"), |d| yes_no(d.billable).to_owned()),
        (left("WARRANTY"), |d| d.warranty_status.clone()),
        (left("EXPIRES"), |d| {
            d.warranty_expires.clone().unwrap_or_else(|| "-".to_owned())
        }),
    ];
    const CSV: &'static [(&'static str, Field<Self>)] = &[
        ("id", |d| d.id.to_string()),
        ("client", |d| d.client.clone()),
        ("name", |d| d.name.clone()),
        ("category", |d| d.category.clone()),
        ("serial", |d| d.serial.clone()),
        ("sources", |d| d.sources.join(";")),
        ("asset_ids", |d| join_ids(&d.asset_ids, ";")),
        ("managed", |d| opt_bool(d.managed)),
        ("billable", |d| d.billable.to_string()),
        ("purchase_date", |d| opt(&d.purchase_date)),
        ("purchase_date_source", |d| opt(&d.purchase_date_source)),
        ("warranty_expires", |d| opt(&d.warranty_expires)),
        ("warranty_expires_source", |d| {
            opt(&d.warranty_expires_source)
        }),
        ("warranty_status", |d| d.warranty_status.clone()),
        ("support_status", |d| opt(&d.support_status)),
        ("age_days", |d| {
            d.age_days.map(|a| a.to_string()).unwrap_or_default()
        }),
    ];
}

fn join_ids(ids: &[i64], sep: &str) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(sep)
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MemberRecord {
    pub source: String,
    pub external_id: String,
    pub name: String,
    pub asset_count: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ClientRecord {
    pub name: String,
    pub members: Vec<MemberRecord>,
    pub asset_count: i64,
    pub excluded: bool,
    pub unmapped: bool,
    pub suggestion: String,
}

impl From<proto::Client> for ClientRecord {
    fn from(c: proto::Client) -> Self {
        Self {
            name: c.name,
            members: c
                .members
                .into_iter()
                .map(|m| MemberRecord {
                    source: m.source,
                    external_id: m.external_id,
                    name: m.name,
                    asset_count: m.asset_count,
                })
                .collect(),
            asset_count: c.asset_count,
            excluded: c.excluded,
            unmapped: c.unmapped,
            suggestion: c.suggestion,
        }
    }
}

impl ClientRecord {
    fn members_text(&self, sep: &str, counts: bool) -> String {
        self.members
            .iter()
            .map(|m| {
                if counts {
                    format!("{}:{} ({})", m.source, m.name, m.asset_count)
                } else {
                    format!("{}:{}", m.source, m.name)
                }
            })
            .collect::<Vec<_>>()
            .join(sep)
    }

    /// `excluded,unmapped`, or the one that applies.
    fn flags(&self) -> String {
        let mut flags = Vec::new();
        if self.excluded {
            flags.push("excluded");
        }
        if self.unmapped {
            flags.push("unmapped");
        }
        flags.join(",")
    }
}

impl Record for ClientRecord {
    const TABLE: &'static [(Col, Field<Self>)] = &[
        (flex("CLIENT"), |c| cell(&c.name)),
        (right("ASSETS"), |c| c.asset_count.to_string()),
        (left("FLAGS"), |c| cell(&c.flags())),
        (flex("MEMBERS"), |c| cell(&c.members_text(", ", true))),
    ];
    const CSV: &'static [(&'static str, Field<Self>)] = &[
        ("name", |c| c.name.clone()),
        ("members", |c| c.members_text(";", false)),
        ("asset_count", |c| c.asset_count.to_string()),
        ("excluded", |c| c.excluded.to_string()),
        ("unmapped", |c| c.unmapped.to_string()),
        ("suggestion", |c| c.suggestion.clone()),
    ];
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct CountsRecord {
    pub client: String,
    pub total_billable: i64,
    pub firewalls: i64,
    pub controllers: i64,
    pub routers: i64,
    pub l3_switches: i64,
    pub voip_switches: i64,
    pub switch_stacks: i64,
    pub total_switches: i64,
    pub access_points: i64,
}

impl From<proto::BillableCounts> for CountsRecord {
    fn from(c: proto::BillableCounts) -> Self {
        Self {
            client: c.client,
            total_billable: c.total_billable,
            firewalls: c.firewalls,
            controllers: c.controllers,
            routers: c.routers,
            l3_switches: c.l3_switches,
            voip_switches: c.voip_switches,
            switch_stacks: c.switch_stacks,
            total_switches: c.total_switches,
            access_points: c.access_points,
        }
    }
}

impl Record for CountsRecord {
    const TABLE: &'static [(Col, Field<Self>)] = &[
        (flex("CLIENT"), |c| cell(&c.client)),
        (right("BILLABLE"), |c| c.total_billable.to_string()),
        (right("FW"), |c| c.firewalls.to_string()),
        (right("CTRL"), |c| c.controllers.to_string()),
        (right("ROUTERS"), |c| c.routers.to_string()),
        (right("L3"), |c| c.l3_switches.to_string()),
        (right("VOIP"), |c| c.voip_switches.to_string()),
        (right("STACKS"), |c| c.switch_stacks.to_string()),
        (right("SWITCHES"), |c| c.total_switches.to_string()),
        (right("APS"), |c| c.access_points.to_string()),
    ];
    const CSV: &'static [(&'static str, Field<Self>)] = &[
        ("client", |c| c.client.clone()),
        ("total_billable", |c| c.total_billable.to_string()),
        ("firewalls", |c| c.firewalls.to_string()),
        ("controllers", |c| c.controllers.to_string()),
        ("routers", |c| c.routers.to_string()),
        ("l3_switches", |c| c.l3_switches.to_string()),
        ("voip_switches", |c| c.voip_switches.to_string()),
        ("switch_stacks", |c| c.switch_stacks.to_string()),
        ("total_switches", |c| c.total_switches.to_string()),
        ("access_points", |c| c.access_points.to_string()),
    ];
}

/// One client's lifecycle (`assetctl lifecycle`): its devices out of warranty, expiring
/// within each window (cumulative), of unknown warranty, and out of support.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct LifecycleRecord {
    pub client: String,
    pub devices: i64,
    pub warranty_expired: i64,
    pub expiring_90d: i64,
    pub expiring_180d: i64,
    pub expiring_365d: i64,
    pub warranty_unknown: i64,
    pub out_of_support: i64,
    pub warranty_covered: i64,
    pub warranty_not_covered: i64,
    /// Every window (90, 180, 365 days and those asked with `--within`), ascending.
    pub expiring: Vec<WindowRecord>,
}

/// Covered devices whose warranty expires within `days` days, today included.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct WindowRecord {
    pub days: i64,
    pub devices: i64,
}

impl From<proto::LifecycleSummary> for LifecycleRecord {
    fn from(c: proto::LifecycleSummary) -> Self {
        Self {
            client: c.client,
            devices: c.devices,
            warranty_expired: c.warranty_expired,
            expiring_90d: c.expiring_90d,
            expiring_180d: c.expiring_180d,
            expiring_365d: c.expiring_365d,
            warranty_unknown: c.warranty_unknown,
            out_of_support: c.out_of_support,
            warranty_covered: c.warranty_covered,
            warranty_not_covered: c.warranty_not_covered,
            expiring: c
                .expiring
                .into_iter()
                .map(|w| WindowRecord {
                    days: w.days,
                    devices: w.devices,
                })
                .collect(),
        }
    }
}

impl LifecycleRecord {
    /// The table's columns for these records: fixed ones, with one `EXP <N>D` column per
    /// window the agent answered (the windows are the same for every record of a reply).
    /// Headers are `'static` (the table's type); a command prints one table and exits, so
    /// the few window headers are leaked rather than threaded through the table code.
    pub fn table(records: &[LifecycleRecord]) -> (Vec<Col>, Vec<Vec<String>>) {
        let windows: Vec<i64> = records
            .first()
            .map(|r| r.expiring.iter().map(|w| w.days).collect())
            .unwrap_or_else(|| vec![90, 180, 365]);
        let mut cols = vec![flex("CLIENT"), right("DEVICES"), right("EXPIRED")];
        for days in &windows {
            let header: &'static str = Box::leak(format!("EXP {days}D").into_boxed_str());
            cols.push(right(header));
        }
        cols.extend([
            right("UNKNOWN"),
            right("NOT COVERED"),
            right("OUT OF SUPPORT"),
        ]);
        let rows = records
            .iter()
            .map(|r| {
                let mut row = vec![
                    cell(&r.client),
                    r.devices.to_string(),
                    r.warranty_expired.to_string(),
                ];
                for days in &windows {
                    let n = r
                        .expiring
                        .iter()
                        .find(|w| w.days == *days)
                        .map_or(0, |w| w.devices);
                    row.push(n.to_string());
                }
                row.extend([
                    r.warranty_unknown.to_string(),
                    r.warranty_not_covered.to_string(),
                    r.out_of_support.to_string(),
                ]);
                row
            })
            .collect();
        (cols, rows)
    }

    /// `expiring` as one CSV field: `days:devices` pairs joined with `;`.
    fn windows_text(&self) -> String {
        self.expiring
            .iter()
            .map(|w| format!("{}:{}", w.days, w.devices))
            .collect::<Vec<_>>()
            .join(";")
    }
}

impl Record for LifecycleRecord {
    // The table is `LifecycleRecord::table` (its window columns vary); this is its shape
    // for the default windows.
    const TABLE: &'static [(Col, Field<Self>)] = &[
        (flex("CLIENT"), |c| cell(&c.client)),
        (right("DEVICES"), |c| c.devices.to_string()),
        (right("EXPIRED"), |c| c.warranty_expired.to_string()),
        (right("EXP 90D"), |c| c.expiring_90d.to_string()),
        (right("EXP 180D"), |c| c.expiring_180d.to_string()),
        (right("EXP 365D"), |c| c.expiring_365d.to_string()),
        (right("UNKNOWN"), |c| c.warranty_unknown.to_string()),
        (right("NOT COVERED"), |c| c.warranty_not_covered.to_string()),
        (right("OUT OF SUPPORT"), |c| c.out_of_support.to_string()),
    ];
    const CSV: &'static [(&'static str, Field<Self>)] = &[
        ("client", |c| c.client.clone()),
        ("devices", |c| c.devices.to_string()),
        ("warranty_expired", |c| c.warranty_expired.to_string()),
        ("expiring_90d", |c| c.expiring_90d.to_string()),
        ("expiring_180d", |c| c.expiring_180d.to_string()),
        ("expiring_365d", |c| c.expiring_365d.to_string()),
        ("warranty_unknown", |c| c.warranty_unknown.to_string()),
        ("out_of_support", |c| c.out_of_support.to_string()),
        ("warranty_covered", |c| c.warranty_covered.to_string()),
        ("warranty_not_covered", |c| {
            c.warranty_not_covered.to_string()
        }),
        ("expiring", LifecycleRecord::windows_text),
    ];
}

/// Counts over a billing period: the daily average (the nine service names) and the daily
/// maximum (`max_` + service name).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PeriodCountsRecord {
    pub client: String,
    pub period: String,
    pub total_billable: i64,
    pub firewalls: i64,
    pub controllers: i64,
    pub routers: i64,
    pub l3_switches: i64,
    pub voip_switches: i64,
    pub switch_stacks: i64,
    pub total_switches: i64,
    pub access_points: i64,
    pub max_total_billable: i64,
    pub max_firewalls: i64,
    pub max_controllers: i64,
    pub max_routers: i64,
    pub max_l3_switches: i64,
    pub max_voip_switches: i64,
    pub max_switch_stacks: i64,
    pub max_total_switches: i64,
    pub max_access_points: i64,
    pub days: i64,
    pub average_billable: f64,
    pub auvik_average_billable: Option<f64>,
    pub auvik_days: i64,
    pub difference: Option<f64>,
}

impl PeriodCountsRecord {
    pub fn new(period: &str, avg: CountsRecord, max: CountsRecord) -> Self {
        Self {
            days: 0,
            average_billable: avg.total_billable as f64,
            auvik_average_billable: None,
            auvik_days: 0,
            difference: None,
            period: period.to_owned(),
            total_billable: avg.total_billable,
            firewalls: avg.firewalls,
            controllers: avg.controllers,
            routers: avg.routers,
            l3_switches: avg.l3_switches,
            voip_switches: avg.voip_switches,
            switch_stacks: avg.switch_stacks,
            total_switches: avg.total_switches,
            access_points: avg.access_points,
            max_total_billable: max.total_billable,
            max_firewalls: max.firewalls,
            max_controllers: max.controllers,
            max_routers: max.routers,
            max_l3_switches: max.l3_switches,
            max_voip_switches: max.voip_switches,
            max_switch_stacks: max.switch_stacks,
            max_total_switches: max.total_switches,
            max_access_points: max.access_points,
            client: avg.client,
        }
    }

    /// Join the average and maximum lists of GetBillableCounts by client, keeping the
    /// agent's order (clients only in `maximum` come last, with a zero average).
    pub fn join(
        period: &str,
        counts: Vec<proto::BillableCounts>,
        maximum: Vec<proto::BillableCounts>,
        reconciliation: &[proto::BillableReconciliation],
    ) -> Vec<Self> {
        let mut maxima: Vec<Option<CountsRecord>> =
            maximum.into_iter().map(|m| Some(m.into())).collect();
        let mut take_max = |client: &str| {
            maxima
                .iter_mut()
                .find(|m| m.as_ref().is_some_and(|m| m.client == client))
                .and_then(Option::take)
        };
        let mut out: Vec<Self> = counts
            .into_iter()
            .map(|c| {
                let avg = CountsRecord::from(c);
                let max = take_max(&avg.client).unwrap_or_else(|| CountsRecord {
                    client: avg.client.clone(),
                    ..CountsRecord::default()
                });
                Self::new(period, avg, max)
            })
            .collect();
        for max in maxima.into_iter().flatten() {
            let avg = CountsRecord {
                client: max.client.clone(),
                ..CountsRecord::default()
            };
            out.push(Self::new(period, avg, max));
        }
        for r in &mut out {
            if let Some(rec) = reconciliation.iter().find(|x| x.client == r.client) {
                r.days = i64::from(rec.days);
                r.average_billable = rec.average_billable;
                r.auvik_average_billable = rec.auvik_average_billable;
                r.auvik_days = i64::from(rec.auvik_days);
                r.difference = rec.difference;
            }
        }
        out
    }
}

/// A period cell: `average/maximum`.
fn avg_max(avg: i64, max: i64) -> String {
    format!("{avg}/{max}")
}

/// A fractional figure as people read it: two decimals at most, no trailing zeros.
fn decimal(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

fn optional_decimal(v: Option<f64>) -> String {
    v.map(decimal).unwrap_or_default()
}

/// A difference with its sign, so "+2" reads as "we count two more than Auvik".
fn signed_decimal(v: Option<f64>) -> String {
    match v {
        Some(d) if d > 0.004 => format!("+{}", decimal(d)),
        Some(d) => decimal(d),
        None => "-".into(),
    }
}

impl Record for PeriodCountsRecord {
    /// The columns of `counts`; cells are `average/maximum`.
    const TABLE: &'static [(Col, Field<Self>)] = &[
        (flex("CLIENT"), |p| cell(&p.client)),
        (right("BILLABLE"), |p| {
            avg_max(p.total_billable, p.max_total_billable)
        }),
        (right("FW"), |p| avg_max(p.firewalls, p.max_firewalls)),
        (right("CTRL"), |p| avg_max(p.controllers, p.max_controllers)),
        (right("ROUTERS"), |p| avg_max(p.routers, p.max_routers)),
        (right("L3"), |p| avg_max(p.l3_switches, p.max_l3_switches)),
        (right("VOIP"), |p| {
            avg_max(p.voip_switches, p.max_voip_switches)
        }),
        (right("STACKS"), |p| {
            avg_max(p.switch_stacks, p.max_switch_stacks)
        }),
        (right("SWITCHES"), |p| {
            avg_max(p.total_switches, p.max_total_switches)
        }),
        (right("APS"), |p| {
            avg_max(p.access_points, p.max_access_points)
        }),
        (right("AVG"), |p| decimal(p.average_billable)),
        (right("AUVIK_AVG"), |p| {
            p.auvik_average_billable
                .map(decimal)
                .unwrap_or_else(|| "-".into())
        }),
        (right("DIFF"), |p| signed_decimal(p.difference)),
    ];
    const CSV: &'static [(&'static str, Field<Self>)] = &[
        ("client", |p| p.client.clone()),
        ("period", |p| p.period.clone()),
        ("total_billable", |p| p.total_billable.to_string()),
        ("firewalls", |p| p.firewalls.to_string()),
        ("controllers", |p| p.controllers.to_string()),
        ("routers", |p| p.routers.to_string()),
        ("l3_switches", |p| p.l3_switches.to_string()),
        ("voip_switches", |p| p.voip_switches.to_string()),
        ("switch_stacks", |p| p.switch_stacks.to_string()),
        ("total_switches", |p| p.total_switches.to_string()),
        ("access_points", |p| p.access_points.to_string()),
        ("max_total_billable", |p| p.max_total_billable.to_string()),
        ("max_firewalls", |p| p.max_firewalls.to_string()),
        ("max_controllers", |p| p.max_controllers.to_string()),
        ("max_routers", |p| p.max_routers.to_string()),
        ("max_l3_switches", |p| p.max_l3_switches.to_string()),
        ("max_voip_switches", |p| p.max_voip_switches.to_string()),
        ("max_switch_stacks", |p| p.max_switch_stacks.to_string()),
        ("max_total_switches", |p| p.max_total_switches.to_string()),
        ("max_access_points", |p| p.max_access_points.to_string()),
        ("days", |p| p.days.to_string()),
        ("average_billable", |p| decimal(p.average_billable)),
        ("auvik_average_billable", |p| {
            optional_decimal(p.auvik_average_billable)
        }),
        ("auvik_days", |p| p.auvik_days.to_string()),
        ("difference", |p| optional_decimal(p.difference)),
    ];
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RunRecord {
    pub id: i64,
    pub source: String,
    pub kind: String,
    pub trigger: String,
    pub started: Option<String>,
    pub finished: Option<String>,
    pub state: String,
    pub fetched: i64,
    pub added: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub removed: i64,
    pub skipped: i64,
    pub skipped_units: i64,
    pub removals_held: i64,
    pub requests: i64,
    pub retries: i64,
    pub error: String,
}

impl From<proto::SyncRun> for RunRecord {
    fn from(r: proto::SyncRun) -> Self {
        let counts = r.counts.unwrap_or_default();
        Self {
            id: r.id,
            kind: run_kind_name(r.kind),
            trigger: run_trigger_name(r.trigger),
            started: timestamp(r.started.as_ref()),
            finished: timestamp(r.finished.as_ref()),
            state: run_state_name(r.state),
            fetched: counts.fetched,
            added: counts.added,
            updated: counts.updated,
            unchanged: counts.unchanged,
            removed: counts.removed,
            skipped: counts.skipped,
            skipped_units: counts.skipped_units,
            removals_held: counts.removals_held,
            requests: r.requests,
            retries: r.retries,
            source: r.source,
            error: r.error,
        }
    }
}

impl Record for RunRecord {
    const TABLE: &'static [(Col, Field<Self>)] = &[
        (right("ID"), |r| r.id.to_string()),
        (left("SOURCE"), |r| r.source.clone()),
        (left("KIND"), |r| r.kind.clone()),
        (left("TRIGGER"), |r| r.trigger.clone()),
        (left("STARTED"), |r| short_ts(&r.started)),
        (left("TOOK"), |r| {
            elapsed(&r.started, &r.finished).unwrap_or_else(|| "-".to_owned())
        }),
        (left("STATE"), |r| r.state.clone()),
        (right("FETCHED"), |r| r.fetched.to_string()),
        (right("ADDED"), |r| r.added.to_string()),
        (right("UPDATED"), |r| r.updated.to_string()),
        (right("REMOVED"), |r| r.removed.to_string()),
        (right("SKIPPED"), |r| r.skipped.to_string()),
        (right("HELD"), |r| r.removals_held.to_string()),
        (right("REQUESTS"), |r| r.requests.to_string()),
        (right("RETRIES"), |r| r.retries.to_string()),
        (flex("ERROR"), |r| cell(&r.error)),
    ];
    const CSV: &'static [(&'static str, Field<Self>)] = &[
        ("id", |r| r.id.to_string()),
        ("source", |r| r.source.clone()),
        ("kind", |r| r.kind.clone()),
        ("trigger", |r| r.trigger.clone()),
        ("started", |r| opt(&r.started)),
        ("finished", |r| opt(&r.finished)),
        ("state", |r| r.state.clone()),
        ("fetched", |r| r.fetched.to_string()),
        ("added", |r| r.added.to_string()),
        ("updated", |r| r.updated.to_string()),
        ("unchanged", |r| r.unchanged.to_string()),
        ("removed", |r| r.removed.to_string()),
        ("skipped", |r| r.skipped.to_string()),
        ("skipped_units", |r| r.skipped_units.to_string()),
        ("removals_held", |r| r.removals_held.to_string()),
        ("requests", |r| r.requests.to_string()),
        ("retries", |r| r.retries.to_string()),
        ("error", |r| r.error.clone()),
    ];
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SourceRecord {
    pub name: String,
    pub kind: String,
    pub state: String,
    pub state_detail: String,
    pub base_url: String,
    pub interval: Option<String>,
    pub full_interval: Option<String>,
    pub last_run: Option<RunRecord>,
    pub next_run_at: Option<String>,
    pub asset_count: i64,
    pub removed_from_config: bool,
    pub billing_note: String,
}

impl From<proto::Source> for SourceRecord {
    fn from(s: proto::Source) -> Self {
        Self {
            state: source_state_name(s.state),
            interval: duration(s.interval.as_ref()),
            full_interval: duration(s.full_interval.as_ref()),
            last_run: s.last_run.map(RunRecord::from),
            next_run_at: timestamp(s.next_run_at.as_ref()),
            name: s.name,
            kind: s.kind,
            state_detail: s.state_detail,
            base_url: s.base_url,
            asset_count: s.asset_count,
            removed_from_config: s.removed_from_config,
            billing_note: s.billing_note,
        }
    }
}

impl SourceRecord {
    /// `#12 ok 5m ago` for the last run.
    pub fn last_run_text(&self, now: DateTime<Utc>) -> String {
        match &self.last_run {
            None => "never".to_owned(),
            Some(r) => {
                let when = r.finished.as_ref().or(r.started.as_ref()).cloned();
                format!("#{} {} {}", r.id, r.state, relative(&when, now))
            }
        }
    }

    /// The state, marked when the source is no longer in the config.
    fn state_text(&self) -> String {
        if self.removed_from_config {
            format!("{} (not in config)", self.state)
        } else {
            self.state.clone()
        }
    }

    /// `10m (full 1day)`, or whichever of the two is set; `-` for neither.
    fn interval_text(&self) -> String {
        match (&self.interval, &self.full_interval) {
            (Some(i), Some(f)) => format!("{i} (full {f})"),
            (Some(i), None) => i.clone(),
            (None, Some(f)) => format!("full {f}"),
            (None, None) => "-".to_owned(),
        }
    }

    /// A field of the last run, for CSV; empty when there is none.
    fn last_run_field(&self, field: Field<RunRecord>) -> String {
        self.last_run.as_ref().map(field).unwrap_or_default()
    }
}

impl Record for SourceRecord {
    const TABLE: &'static [(Col, Field<Self>)] = &[
        (left("NAME"), |s| s.name.clone()),
        (left("KIND"), |s| cell(&s.kind)),
        (left("STATE"), |s| s.state_text()),
        (right("ASSETS"), |s| s.asset_count.to_string()),
        (left("INTERVAL"), |s| s.interval_text()),
        (left("LAST RUN"), |s| s.last_run_text(Utc::now())),
        (left("NEXT RUN"), |s| relative(&s.next_run_at, Utc::now())),
        (flex("DETAIL"), |s| cell(&s.state_detail)),
    ];
    /// The last run is flattened into `last_run_*` columns.
    const CSV: &'static [(&'static str, Field<Self>)] = &[
        ("name", |s| s.name.clone()),
        ("kind", |s| s.kind.clone()),
        ("state", |s| s.state.clone()),
        ("state_detail", |s| s.state_detail.clone()),
        ("base_url", |s| s.base_url.clone()),
        ("interval", |s| opt(&s.interval)),
        ("full_interval", |s| opt(&s.full_interval)),
        ("last_run_id", |s| s.last_run_field(|r| r.id.to_string())),
        ("last_run_state", |s| s.last_run_field(|r| r.state.clone())),
        ("last_run_started", |s| {
            s.last_run_field(|r| opt(&r.started))
        }),
        ("last_run_finished", |s| {
            s.last_run_field(|r| opt(&r.finished))
        }),
        ("last_run_error", |s| s.last_run_field(|r| r.error.clone())),
        ("next_run_at", |s| opt(&s.next_run_at)),
        ("asset_count", |s| s.asset_count.to_string()),
        ("removed_from_config", |s| s.removed_from_config.to_string()),
        ("billing_note", |s| s.billing_note.clone()),
    ];
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConfigRecord {
    pub path: String,
    pub state: String,
    pub last_error: String,
    pub loaded_at: Option<String>,
    pub generation: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DatabaseRecord {
    pub path: String,
    pub size_bytes: i64,
    pub asset_count: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StatusRecord {
    pub version: String,
    pub started_at: Option<String>,
    pub uptime: Option<String>,
    pub config: ConfigRecord,
    pub database: DatabaseRecord,
    pub sources: Vec<SourceRecord>,
    pub unmapped_clients: i64,
    /// What needs attention and how to fix it; filled by `status` (it depends on the time).
    pub attention: Vec<AttentionRecord>,
}

/// One thing that needs attention: what it concerns, what is wrong, the detail the agent
/// gave, and what to do.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AttentionRecord {
    /// `config`, `clients`, `source NAME`, or `hook NAME`.
    pub subject: String,
    pub problem: String,
    pub detail: String,
    pub fix: String,
}

impl From<proto::GetStatusResponse> for StatusRecord {
    fn from(s: proto::GetStatusResponse) -> Self {
        let config = s.config.unwrap_or_default();
        let database = s.database.unwrap_or_default();
        Self {
            version: s.version,
            started_at: timestamp(s.started_at.as_ref()),
            uptime: duration(s.uptime.as_ref()),
            config: ConfigRecord {
                state: config_state_name(config.state),
                loaded_at: timestamp(config.loaded_at.as_ref()),
                path: config.path,
                last_error: config.last_error,
                generation: config.generation,
            },
            database: DatabaseRecord {
                path: database.path,
                size_bytes: database.size_bytes,
                asset_count: database.asset_count,
            },
            sources: s.sources.into_iter().map(SourceRecord::from).collect(),
            unmapped_clients: s.unmapped_clients,
            attention: Vec::new(),
        }
    }
}

impl StatusRecord {
    /// `key,value` pairs in record order, for `status -o csv`: `version`, `started_at`,
    /// `uptime`, `config.*`, `database.*`, then `sources.NAME.COLUMN` with the columns of
    /// `sources -o csv`.
    pub fn key_values(&self) -> Vec<(String, String)> {
        let mut kv: Vec<(String, String)> = vec![
            ("version".into(), self.version.clone()),
            ("started_at".into(), opt(&self.started_at)),
            ("uptime".into(), opt(&self.uptime)),
            ("config.path".into(), self.config.path.clone()),
            ("config.state".into(), self.config.state.clone()),
            ("config.last_error".into(), self.config.last_error.clone()),
            ("config.loaded_at".into(), opt(&self.config.loaded_at)),
            (
                "config.generation".into(),
                self.config.generation.to_string(),
            ),
            ("database.path".into(), self.database.path.clone()),
            (
                "database.size_bytes".into(),
                self.database.size_bytes.to_string(),
            ),
            (
                "database.asset_count".into(),
                self.database.asset_count.to_string(),
            ),
            ("unmapped_clients".into(), self.unmapped_clients.to_string()),
        ];
        for (i, a) in self.attention.iter().enumerate() {
            kv.push((format!("attention.{}.subject", i + 1), a.subject.clone()));
            kv.push((format!("attention.{}.problem", i + 1), a.problem.clone()));
            kv.push((format!("attention.{}.detail", i + 1), a.detail.clone()));
            kv.push((format!("attention.{}.fix", i + 1), a.fix.clone()));
        }
        for src in &self.sources {
            for (column, value) in SourceRecord::csv_header().iter().zip(src.csv_row()) {
                if *column != "name" {
                    kv.push((format!("sources.{}.{column}", src.name), value));
                }
            }
        }
        kv
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TriggeredRecord {
    pub source: String,
    pub run_id: i64,
    pub joined: bool,
}

impl From<proto::TriggeredRun> for TriggeredRecord {
    fn from(t: proto::TriggeredRun) -> Self {
        Self {
            source: t.source,
            run_id: t.run_id,
            joined: t.joined,
        }
    }
}

impl Record for TriggeredRecord {
    const TABLE: &'static [(Col, Field<Self>)] = &[
        (left("SOURCE"), |t| t.source.clone()),
        (right("RUN"), |t| t.run_id.to_string()),
        (left("NOTE"), |t| {
            if t.joined {
                "joined the run already in progress"
            } else {
                "started"
            }
            .to_owned()
        }),
    ];
    const CSV: &'static [(&'static str, Field<Self>)] = &[
        ("source", |t| t.source.clone()),
        ("run_id", |t| t.run_id.to_string()),
        ("joined", |t| t.joined.to_string()),
    ];
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PurgeRecord {
    pub source: String,
    pub assets_deleted: i64,
}

impl Record for PurgeRecord {
    const TABLE: &'static [(Col, Field<Self>)] = &[
        (left("SOURCE"), |p| p.source.clone()),
        (right("ASSETS DELETED"), |p| p.assets_deleted.to_string()),
    ];
    const CSV: &'static [(&'static str, Field<Self>)] = &[
        ("source", |p| p.source.clone()),
        ("assets_deleted", |p| p.assets_deleted.to_string()),
    ];
}

#[cfg(test)]
mod tests;
