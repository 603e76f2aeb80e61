//! Syncro's JSON documents, written from the simulator's data with borrowed `Serialize` views.
//! Field order follows the spec's examples (the asset list example, the customer list example),
//! with the two asset fields only the spec's asset detail schema names (`has_live_chat`,
//! `snmp_enabled`) and `rmm_store.override_low_hd_thresholds` appended. These types describe what
//! the simulator *sends*; they are not shared with the connector, which reads the same documents
//! through its own types.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};
use serde_json::Value;

use super::{SimAsset, SimCustomer};

/// Syncro's (Rails') timestamp format: `YYYY-MM-DDTHH:MM:SS.sssZ`.
#[derive(Clone, Copy)]
pub struct Ts(pub DateTime<Utc>);

impl fmt::Display for Ts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::Millis, true))
    }
}

impl Serialize for Ts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Account-wide facts the documents need besides the record itself.
pub struct Account<'a> {
    pub subdomain: &'a str,
    pub account_id: i64,
}

/// A customer, as in `/customers` (with `location_name` and `contacts`) or nested in an asset
/// (without them, as the spec's asset example shows it).
#[derive(Serialize)]
pub struct CustomerDoc<'a> {
    id: i64,
    firstname: &'a str,
    lastname: &'a str,
    fullname: &'a str,
    business_name: Option<&'a str>,
    email: &'a str,
    phone: &'a str,
    mobile: Option<&'a str>,
    created_at: Ts,
    updated_at: Ts,
    pdf_url: Option<&'a str>,
    address: Option<&'a str>,
    address_2: Option<&'a str>,
    city: Option<&'a str>,
    state: Option<&'a str>,
    zip: Option<&'a str>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    notes: Option<&'a str>,
    get_sms: bool,
    opt_out: bool,
    disabled: bool,
    no_email: bool,
    /// Present (as `null`: the account has no locations) only outside assets.
    #[serde(skip_serializing_if = "Option::is_none")]
    location_name: Option<Option<&'a str>>,
    location_id: Option<i64>,
    properties: &'a Value,
    online_profile_url: String,
    tax_rate_id: Option<i64>,
    notification_email: Option<&'a str>,
    invoice_cc_emails: Option<&'a str>,
    invoice_term_id: Option<i64>,
    referred_by: Option<&'a str>,
    ref_customer_id: Option<i64>,
    business_and_full_name: &'a str,
    business_then_name: &'a str,
    /// Present only outside assets; the simulator holds no contacts, so always empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    contacts: Option<[(); 0]>,
}

impl<'a> CustomerDoc<'a> {
    pub fn new(c: &'a SimCustomer, acct: &Account<'_>, nested: bool) -> Self {
        CustomerDoc {
            id: c.id,
            firstname: &c.firstname,
            lastname: &c.lastname,
            fullname: &c.fullname,
            business_name: c.business_name.as_deref(),
            email: &c.email,
            phone: &c.phone,
            mobile: c.mobile.as_deref(),
            created_at: Ts(c.created_at),
            updated_at: Ts(c.updated_at),
            pdf_url: None,
            address: c.address.as_deref(),
            address_2: c.address_2.as_deref(),
            city: c.city.as_deref(),
            state: c.state.as_deref(),
            zip: c.zip.as_deref(),
            latitude: None,
            longitude: None,
            notes: c.notes.as_deref(),
            get_sms: false,
            opt_out: false,
            disabled: c.disabled,
            no_email: c.no_email,
            location_name: if nested { None } else { Some(None) },
            location_id: None,
            properties: &c.properties,
            online_profile_url: format!(
                "https://{}.syncromsp.com/my_profile/v2/index?portal_key={}",
                acct.subdomain, c.portal_key
            ),
            tax_rate_id: None,
            notification_email: None,
            invoice_cc_emails: None,
            invoice_term_id: None,
            referred_by: None,
            ref_customer_id: None,
            business_and_full_name: &c.business_and_full_name,
            business_then_name: &c.business_then_name,
            contacts: if nested { None } else { Some([]) },
        }
    }
}

/// An asset as `/customer_assets` lists it and `/customer_assets/{id}` wraps it.
#[derive(Serialize)]
pub struct AssetDoc<'a> {
    id: i64,
    name: &'a str,
    customer_id: i64,
    contact_id: Option<i64>,
    created_at: Ts,
    updated_at: Ts,
    properties: &'a Value,
    asset_type: &'a str,
    asset_serial: Option<&'a str>,
    external_rmm_link: Option<&'a str>,
    customer: CustomerDoc<'a>,
    rmm_links: [(); 0],
    rmm_store: RmmStore,
    address: AddressDoc<'a>,
    has_live_chat: bool,
    snmp_enabled: Option<bool>,
}

impl<'a> AssetDoc<'a> {
    pub fn new(a: &'a SimAsset, c: &'a SimCustomer, acct: &Account<'_>) -> Self {
        AssetDoc {
            id: a.id,
            name: &a.name,
            customer_id: a.customer_id,
            contact_id: a.contact_id,
            created_at: Ts(a.created_at),
            updated_at: Ts(a.updated_at),
            properties: &a.properties,
            asset_type: &a.asset_type,
            asset_serial: a.asset_serial.as_deref(),
            external_rmm_link: a.external_rmm_link.as_deref(),
            customer: CustomerDoc::new(c, acct, true),
            rmm_links: [],
            rmm_store: RmmStore::new(a, acct.account_id),
            address: AddressDoc::new(c, acct.account_id),
            has_live_chat: a.has_live_chat,
            snmp_enabled: a.snmp_enabled,
        }
    }
}

#[derive(Serialize)]
struct RmmStore {
    id: i64,
    asset_id: i64,
    account_id: i64,
    triggers: Triggers,
    windows_updates: Empty,
    emsisoft: Empty,
    general: Empty,
    created_at: Ts,
    updated_at: Ts,
    override_alert_agent_offline_mins: Option<i64>,
    override_alert_agent_rearm_after_mins: Option<i64>,
    override_low_hd_threshold: Option<i64>,
    override_autoresolve_offline_alert: Option<bool>,
    override_low_hd_thresholds: Option<Value>,
}

impl RmmStore {
    fn new(a: &SimAsset, account_id: i64) -> Self {
        let kabuto = a.properties.get("kabuto_information");
        // Seeded sync times are ISO strings, so comparing strings compares times.
        let synced = kabuto
            .and_then(|k| k.get("last_synced_at"))
            .and_then(Value::as_str);
        let offline = synced.is_some_and(|t| t < OFFLINE_BEFORE);
        let low_disk = kabuto
            .and_then(|k| k.pointer("/system_partition/free_percent"))
            .and_then(Value::as_u64)
            .is_some_and(|p| p < 10);
        RmmStore {
            // The RMM store table has its own sequence, a little behind the assets'.
            id: a.id - 3_512_877,
            asset_id: a.id,
            account_id,
            triggers: Triggers {
                agent_offline_triggered: flag(offline),
                low_hd_space_triggered: flag(low_disk),
                ..Triggers::default()
            },
            windows_updates: Empty {},
            emsisoft: Empty {},
            general: Empty {},
            created_at: Ts(a.created_at),
            updated_at: Ts(a.updated_at),
            override_alert_agent_offline_mins: None,
            override_alert_agent_rearm_after_mins: None,
            override_low_hd_threshold: None,
            override_autoresolve_offline_alert: None,
            override_low_hd_thresholds: None,
        }
    }
}

/// Agents silent since before this are "offline" in the seeded account (a day before its epoch).
const OFFLINE_BEFORE: &str = "2025-05-31T00:00:00.000Z";

fn flag(b: bool) -> &'static str {
    // Syncro stores these as the strings "true"/"false".
    if b { "true" } else { "false" }
}

#[derive(Serialize)]
struct Triggers {
    bsod_triggered: &'static str,
    time_triggered: &'static str,
    no_av_triggered: &'static str,
    defrag_triggered: &'static str,
    firewall_triggered: &'static str,
    app_crash_triggered: &'static str,
    low_hd_space_triggered: &'static str,
    smart_failure_triggered: &'static str,
    device_manager_triggered: &'static str,
    agent_offline_triggered: &'static str,
}

impl Default for Triggers {
    fn default() -> Self {
        Triggers {
            bsod_triggered: "false",
            time_triggered: "false",
            no_av_triggered: "false",
            defrag_triggered: "false",
            firewall_triggered: "false",
            app_crash_triggered: "false",
            low_hd_space_triggered: "false",
            smart_failure_triggered: "false",
            device_manager_triggered: "false",
            agent_offline_triggered: "false",
        }
    }
}

/// Serializes as `{}`.
#[derive(Serialize)]
struct Empty {}

/// The customer's address record, as the asset example carries it.
#[derive(Serialize)]
struct AddressDoc<'a> {
    id: i64,
    name: &'a str,
    customer_id: i64,
    address_type_id: i64,
    address1: &'a str,
    address2: &'a str,
    city: &'a str,
    state: &'a str,
    zip: &'a str,
    latitude: Option<f64>,
    longitude: Option<f64>,
    created_at: Ts,
    updated_at: Ts,
    account_id: i64,
}

impl<'a> AddressDoc<'a> {
    fn new(c: &'a SimCustomer, account_id: i64) -> Self {
        AddressDoc {
            id: c.address_id,
            name: if c.business_name.is_some() {
                "Main Office"
            } else {
                "Home"
            },
            customer_id: c.id,
            address_type_id: 2,
            address1: c.address.as_deref().unwrap_or(""),
            // Rails forms store an empty second line as "".
            address2: c.address_2.as_deref().unwrap_or(""),
            city: c.city.as_deref().unwrap_or(""),
            state: c.state.as_deref().unwrap_or(""),
            zip: c.zip.as_deref().unwrap_or(""),
            latitude: None,
            longitude: None,
            created_at: Ts(c.created_at),
            updated_at: Ts(c.created_at),
            account_id,
        }
    }
}

/// Paging facts of a list (`will_paginate`'s four numbers).
#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    pub total_pages: usize,
    pub total_entries: usize,
    pub per_page: usize,
    pub page: usize,
}

impl Meta {
    pub fn new(total_entries: usize, per_page: usize, page: usize) -> Self {
        Meta {
            // will_paginate reports one (empty) page for an empty list, not zero.
            total_pages: total_entries.div_ceil(per_page).max(1),
            total_entries,
            per_page,
            page,
        }
    }
}

/// `{"<key>":[<items>],"meta":{...}}` from already-rendered items; without `meta` when it is
/// `None` (the shape of the spec's own `/customer_assets` example).
pub fn list_document<'s>(
    key: &str,
    items: impl Iterator<Item = &'s str>,
    meta: Option<&Meta>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 * 1024);
    out.extend_from_slice(b"{\"");
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":[");
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(item.as_bytes());
    }
    out.push(b']');
    if let Some(meta) = meta {
        out.extend_from_slice(b",\"meta\":");
        // Four integers cannot fail to serialize.
        let _ = serde_json::to_writer(&mut out, meta);
    }
    out.push(b'}');
    out
}

/// `{"<key>":<item>}` from an already-rendered item.
pub fn single_document(key: &str, item: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(item.len() + key.len() + 8);
    out.extend_from_slice(b"{\"");
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
    out.extend_from_slice(item.as_bytes());
    out.push(b'}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn timestamps_have_milliseconds_and_z() {
        let t = Utc
            .timestamp_millis_opt(1_571_632_827_117)
            .single()
            .expect("valid");
        assert_eq!(Ts(t).to_string(), "2019-10-21T04:40:27.117Z");
        let whole = Utc
            .with_ymd_and_hms(2025, 1, 2, 3, 4, 5)
            .single()
            .expect("valid");
        assert_eq!(Ts(whole).to_string(), "2025-01-02T03:04:05.000Z");
    }

    #[test]
    fn meta_of_an_empty_list_has_one_page() {
        assert_eq!(Meta::new(0, 50, 1).total_pages, 1);
        assert_eq!(Meta::new(50, 50, 1).total_pages, 1);
        assert_eq!(Meta::new(51, 50, 3).total_pages, 2);
    }

    #[test]
    fn documents_are_json() {
        let meta = Meta::new(2, 25, 1);
        let doc = list_document(
            "assets",
            ["{\"id\":1}", "{\"id\":2}"].into_iter(),
            Some(&meta),
        );
        let v: Value = serde_json::from_slice(&doc).expect("json");
        assert_eq!(v["assets"][1]["id"], 2);
        assert_eq!(v["meta"]["per_page"], 25);
        let empty = list_document("customers", std::iter::empty(), Some(&meta));
        let v: Value = serde_json::from_slice(&empty).expect("json");
        assert_eq!(v["customers"], serde_json::json!([]));
        let bare: Value =
            serde_json::from_slice(&list_document("assets", ["{}"].into_iter(), None))
                .expect("json");
        assert_eq!(bare, serde_json::json!({"assets": [{}]}));
        let one: Value =
            serde_json::from_slice(&single_document("asset", "{\"id\":3}")).expect("json");
        assert_eq!(one["asset"]["id"], 3);
    }
}
