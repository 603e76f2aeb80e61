//! Auvik's JSON:API documents, written straight from the simulator's data with borrowed
//! `Serialize` views (no intermediate `serde_json::Value`), because a benchmark page holds a
//! thousand devices. These types describe what the simulator *sends*; they are not shared with
//! the connector, which reads the same documents through its own types.

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::{Serialize, Serializer};

use super::SimDevice;
use super::store::TenantState;

/// Auvik's timestamp format: `YYYY-MM-DDTHH:MM:SS.sssZ`.
pub struct Ts(pub DateTime<Utc>);

impl fmt::Display for Ts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Hand-rolled: chrono's strftime-style formatting was a third of a page's render time.
        let t = &self.0;
        let mut out = *b"0000-00-00T00:00:00.000Z";
        let mut put = |at: usize, width: usize, mut v: u32| {
            for i in (at..at + width).rev() {
                out[i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        put(0, 4, t.year().clamp(0, 9999).unsigned_abs());
        put(5, 2, t.month());
        put(8, 2, t.day());
        put(11, 2, t.hour());
        put(14, 2, t.minute());
        put(17, 2, t.second());
        put(20, 3, t.timestamp_subsec_millis().min(999));
        f.write_str(std::str::from_utf8(&out).map_err(|_| fmt::Error)?)
    }
}

impl Serialize for Ts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The URLs inside resources, formatted while serializing instead of allocated per device.
pub enum Url<'a> {
    /// `{base}/v1/inventory/{what}/{id}`.
    Api {
        base: &'a str,
        what: &'static str,
        id: &'a str,
    },
    /// The web UI page of an entity.
    Dashboard {
        prefix: &'a str,
        entity: &'static str,
        num: u64,
    },
}

impl fmt::Display for Url<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Url::Api { base, what, id } => write!(f, "{base}/v1/inventory/{what}/{id}"),
            Url::Dashboard {
                prefix,
                entity,
                num,
            } => {
                write!(
                    f,
                    "https://{prefix}.my.auvik.com/#entity/{entity}/{num}/dashboard"
                )
            }
        }
    }
}

impl Serialize for Url<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[derive(Serialize)]
pub struct Rel<T> {
    pub data: T,
}

#[derive(Serialize)]
pub struct ResLinks<'a> {
    pub dashboard: Url<'a>,
    #[serde(rename = "self")]
    pub self_: Url<'a>,
}

#[derive(Serialize)]
pub struct PrefixAttr<'a> {
    #[serde(rename = "domainPrefix")]
    pub domain_prefix: &'a str,
}

/// A device's or detail's `tenant` relationship.
#[derive(Serialize)]
pub struct TenantRef<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    attributes: PrefixAttr<'a>,
}

impl<'a> TenantRef<'a> {
    fn of(t: &'a TenantState) -> Rel<Self> {
        Rel {
            data: TenantRef {
                kind: "tenant",
                id: &t.info().id,
                attributes: PrefixAttr {
                    domain_prefix: &t.info().domain_prefix,
                },
            },
        }
    }
}

/// `type: "deviceWarranty"` resource of `/v1/inventory/device/warranty` (spec
/// `deviceWarrantyResourceObject`): the device's id, its record, its tenant.
#[derive(Serialize)]
pub struct WarrantyRes<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    attributes: WarrantyAttrs<'a>,
    relationships: TenantOnly<'a>,
    links: ResLinks<'a>,
}

/// Every attribute the spec lists, `null` when unknown (no skip: five are "required").
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WarrantyAttrs<'a> {
    device_name: &'a str,
    service_coverage_status: Option<&'a str>,
    service_attachment_status: Option<&'a str>,
    contract_renewal_availability: Option<&'a str>,
    warranty_coverage_status: Option<&'a str>,
    warranty_expiration_date: Option<&'a str>,
    recommended_software_version: Option<&'a str>,
}

#[derive(Serialize)]
struct TenantOnly<'a> {
    tenant: Rel<TenantRef<'a>>,
}

/// What a device's `warrantyExpirationDate` is sent as while odd dates are switched on
/// (`AuvikSim::set_odd_warranty_dates`): for about one record in three (fixed by the
/// device's number), text that is not a date, of the kinds Cisco's data carries.
pub fn odd_expiration(num: u64) -> Option<&'static str> {
    const ODD: [&str; 3] = ["Not Available", "Pending", "31/07/2027"];
    num.is_multiple_of(3).then(|| ODD[(num / 3 % 3) as usize])
}

impl<'a> WarrantyRes<'a> {
    /// `None` when the device has no warranty record.
    pub fn new(
        base: &'a str,
        t: &'a TenantState,
        num: u64,
        d: &'a SimDevice,
        odd_dates: bool,
    ) -> Option<Self> {
        let w = d.warranty.as_ref()?;
        let prefix = t.info().domain_prefix.as_str();
        let expiration = match odd_expiration(num).filter(|_| odd_dates) {
            Some(odd) => Some(odd),
            None => w.expiration_date.as_deref(),
        };
        Some(WarrantyRes {
            kind: "deviceWarranty",
            id: &d.id,
            attributes: WarrantyAttrs {
                device_name: &d.name,
                service_coverage_status: w.service_coverage_status.as_deref(),
                service_attachment_status: w.service_attachment_status.as_deref(),
                contract_renewal_availability: w.contract_renewal_availability.as_deref(),
                warranty_coverage_status: w.coverage_status.as_deref(),
                warranty_expiration_date: expiration,
                recommended_software_version: w.recommended_software_version.as_deref(),
            },
            relationships: TenantOnly {
                tenant: TenantRef::of(t),
            },
            links: ResLinks {
                dashboard: Url::Dashboard {
                    prefix,
                    entity: "device",
                    num,
                },
                self_: Url::Api {
                    base,
                    what: "device/warranty",
                    id: &d.id,
                },
            },
        })
    }
}

/// `type: "deviceLifecycle"` resource of `/v1/inventory/device/lifecycle` (spec
/// `deviceLifecycleResourceObject`): keyed by the device's id, naming the device in its
/// `device` relationship too.
#[derive(Serialize)]
pub struct LifecycleRes<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    attributes: LifecycleAttrs<'a>,
    relationships: LifecycleRels<'a>,
    links: ResLinks<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LifecycleAttrs<'a> {
    device_name: &'a str,
    sales_availability: Option<&'a str>,
    software_maintenance_status: Option<&'a str>,
    security_software_maintenance_status: Option<&'a str>,
    last_support_status: Option<&'a str>,
}

#[derive(Serialize)]
struct LifecycleRels<'a> {
    tenant: Rel<TenantRef<'a>>,
    device: Rel<DeviceNameRef<'a>>,
}

#[derive(Serialize)]
struct DeviceNameRef<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    attributes: DeviceNameAttr<'a>,
}

#[derive(Serialize)]
struct DeviceNameAttr<'a> {
    #[serde(rename = "deviceName")]
    device_name: &'a str,
}

impl<'a> LifecycleRes<'a> {
    /// `None` when the device has no lifecycle record.
    pub fn new(base: &'a str, t: &'a TenantState, num: u64, d: &'a SimDevice) -> Option<Self> {
        let l = d.lifecycle.as_ref()?;
        let prefix = t.info().domain_prefix.as_str();
        Some(LifecycleRes {
            kind: "deviceLifecycle",
            id: &d.id,
            attributes: LifecycleAttrs {
                device_name: &d.name,
                sales_availability: l.sales_availability.as_deref(),
                software_maintenance_status: l.software_maintenance_status.as_deref(),
                security_software_maintenance_status: l
                    .security_software_maintenance_status
                    .as_deref(),
                last_support_status: l.last_support_status.as_deref(),
            },
            relationships: LifecycleRels {
                tenant: TenantRef::of(t),
                device: Rel {
                    data: DeviceNameRef {
                        kind: "device",
                        id: &d.id,
                        attributes: DeviceNameAttr {
                            device_name: &d.name,
                        },
                    },
                },
            },
            links: ResLinks {
                dashboard: Url::Dashboard {
                    prefix,
                    entity: "device",
                    num,
                },
                self_: Url::Api {
                    base,
                    what: "device/lifecycle",
                    id: &d.id,
                },
            },
        })
    }
}

/// `type: "device"` resource of `/v1/inventory/device/info`.
#[derive(Serialize)]
pub struct DeviceInfo<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    attributes: DeviceAttrs<'a>,
    relationships: DeviceRels<'a>,
    links: ResLinks<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeviceAttrs<'a> {
    ip_addresses: &'a [String],
    device_name: &'a str,
    device_type: &'a str,
    // These five are `null` when unknown, as real Auvik sends them (no skip).
    make_model: Option<&'a str>,
    vendor_name: Option<&'a str>,
    software_version: Option<&'a str>,
    serial_number: Option<&'a str>,
    description: &'a str,
    firmware_version: Option<&'a str>,
    last_modified: Ts,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_seen_time: Option<Ts>,
    online_status: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeviceRels<'a> {
    tenant: Rel<TenantRef<'a>>,
    networks: Rel<Vec<NetworkRef<'a>>>,
    device_detail: Rel<DetailRef<'a>>,
}

#[derive(Serialize)]
struct NetworkRef<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    attributes: NetworkAttrs<'a>,
    links: NetworkLinks<'a>,
}

#[derive(Serialize)]
struct NetworkAttrs<'a> {
    #[serde(rename = "networkName")]
    network_name: &'a str,
}

#[derive(Serialize)]
struct NetworkLinks<'a> {
    #[serde(rename = "self")]
    self_: Url<'a>,
    dashboard: Url<'a>,
}

#[derive(Serialize)]
struct DetailRef<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    links: ResLinks<'a>,
}

impl<'a> DeviceInfo<'a> {
    pub fn new(base: &'a str, t: &'a TenantState, num: u64, d: &'a SimDevice) -> Self {
        let prefix = t.info().domain_prefix.as_str();
        let networks = if d.ip_addresses.is_empty() {
            Vec::new()
        } else {
            vec![NetworkRef {
                kind: "network",
                id: &t.seed.network_id,
                attributes: NetworkAttrs {
                    network_name: &t.seed.network_name,
                },
                links: NetworkLinks {
                    self_: Url::Api {
                        base,
                        what: "network/info",
                        id: &t.seed.network_id,
                    },
                    dashboard: Url::Dashboard {
                        prefix,
                        entity: "network",
                        num: t.seed.network_num,
                    },
                },
            }]
        };
        DeviceInfo {
            kind: "device",
            id: &d.id,
            attributes: DeviceAttrs {
                ip_addresses: &d.ip_addresses,
                device_name: &d.name,
                device_type: &d.device_type,
                make_model: d.make_model.as_deref(),
                vendor_name: d.vendor_name.as_deref(),
                software_version: d.software.as_deref(),
                serial_number: d.serial.as_deref(),
                description: &d.description,
                firmware_version: d.firmware.as_deref(),
                last_modified: Ts(d.last_modified),
                last_seen_time: d.last_seen.map(Ts),
                online_status: &d.online_status,
            },
            relationships: DeviceRels {
                tenant: TenantRef::of(t),
                networks: Rel { data: networks },
                device_detail: Rel {
                    data: DetailRef {
                        kind: "deviceDetail",
                        id: &d.id,
                        links: ResLinks {
                            dashboard: Url::Dashboard {
                                prefix,
                                entity: "device",
                                num,
                            },
                            self_: Url::Api {
                                base,
                                what: "device/detail",
                                id: &d.id,
                            },
                        },
                    },
                },
            },
            links: ResLinks {
                dashboard: Url::Dashboard {
                    prefix,
                    entity: "device",
                    num,
                },
                self_: Url::Api {
                    base,
                    what: "device/info",
                    id: &d.id,
                },
            },
        }
    }
}

/// `type: "deviceDetail"` resource of `/v1/inventory/device/detail` (and `included[]`).
#[derive(Serialize)]
pub struct DeviceDetail<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    attributes: DetailAttrs<'a>,
    relationships: DetailRels<'a>,
    links: ResLinks<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DetailAttrs<'a> {
    discovery_status: &'a super::SimDiscovery,
    manage_status: bool,
    traffic_insights_status: &'a str,
}

#[derive(Serialize)]
struct DetailRels<'a> {
    tenant: Rel<TenantRef<'a>>,
    interfaces: Rel<Vec<InterfaceRef<'a>>>,
}

/// Interfaces are where Auvik v1 exposes MAC addresses.
#[derive(Serialize)]
struct InterfaceRef<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: String,
    attributes: InterfaceAttrs<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InterfaceAttrs<'a> {
    interface_name: String,
    mac_address: &'a str,
}

impl<'a> DeviceDetail<'a> {
    pub fn new(base: &'a str, t: &'a TenantState, num: u64, d: &'a SimDevice) -> Self {
        let prefix = t.info().domain_prefix.as_str();
        let gear = super::catalog::is_network_gear(&d.device_type);
        let interfaces = d
            .mac_addresses
            .iter()
            .enumerate()
            .map(|(k, mac)| InterfaceRef {
                kind: "interface",
                id: super::seed::entity_id(t.seed.site, num + 1 + k as u64),
                attributes: InterfaceAttrs {
                    interface_name: if gear {
                        format!("GigabitEthernet0/{k}")
                    } else {
                        format!("Ethernet{k}")
                    },
                    mac_address: mac,
                },
            })
            .collect();
        DeviceDetail {
            kind: "deviceDetail",
            id: &d.id,
            attributes: DetailAttrs {
                discovery_status: &d.discovery,
                manage_status: d.manage_status,
                traffic_insights_status: &d.traffic_insights_status,
            },
            relationships: DetailRels {
                tenant: TenantRef::of(t),
                interfaces: Rel { data: interfaces },
            },
            links: ResLinks {
                dashboard: Url::Dashboard {
                    prefix,
                    entity: "device",
                    num,
                },
                self_: Url::Api {
                    base,
                    what: "device/detail",
                    id: &d.id,
                },
            },
        }
    }
}

/// Top-level `links` of a paged list.
#[derive(Serialize)]
pub struct PageLinks {
    pub first: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prev: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    pub last: String,
}

#[derive(Serialize)]
pub struct Meta {
    #[serde(rename = "totalPages")]
    pub total_pages: u64,
}

/// A single-resource document (`/v1/tenants/detail/{id}`).
#[derive(Serialize)]
pub struct SingleDoc<T> {
    pub data: T,
}

/// An unpaged list document (`/v1/tenants`, `/v1/tenants/detail`).
#[derive(Serialize)]
pub struct DataDoc<T> {
    pub data: Vec<T>,
}

/// `type: "tenant"` of `/v1/tenants`.
#[derive(Serialize)]
pub struct TenantRes<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    attributes: TenantAttrs<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    relationships: Option<ParentRels<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TenantAttrs<'a> {
    domain_prefix: &'a str,
    tenant_type: &'a str,
}

#[derive(Serialize)]
struct ParentRels<'a> {
    parent: Rel<TypedId<'a>>,
}

#[derive(Serialize)]
struct TypedId<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
}

impl<'a> TenantRes<'a> {
    pub fn new(t: &'a TenantState) -> Self {
        let info = t.info();
        TenantRes {
            kind: "tenant",
            id: &info.id,
            attributes: TenantAttrs {
                domain_prefix: &info.domain_prefix,
                tenant_type: &info.tenant_type,
            },
            relationships: info.parent_id.as_deref().map(|p| ParentRels {
                parent: Rel {
                    data: TypedId {
                        kind: "tenant",
                        id: p,
                    },
                },
            }),
        }
    }
}

/// `type: "tenants"` (the legacy, plural type) of `/v1/tenants/detail`.
#[derive(Serialize)]
pub struct TenantDetailRes<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    attributes: TenantDetailAttrs<'a>,
    relationships: TenantDetailRels<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TenantDetailAttrs<'a> {
    domain_prefix: &'a str,
    display_name: &'a str,
    tenant_type: &'a str,
    enabled: bool,
    subscribed: bool,
    subscription_owner: &'a str,
    running: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    trial_start_date: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trial_end_date: Option<&'static str>,
    address: Address<'a>,
}

#[derive(Serialize)]
struct Address<'a> {
    address1: String,
    address2: &'static str,
    city: &'a str,
    #[serde(rename = "State/Province")]
    state_province: &'static str,
    #[serde(rename = "ZIP/PostalCode")]
    zip_postal_code: String,
    state: &'static str,
    #[serde(rename = "postalCode")]
    postal_code: String,
    country: &'static str,
}

#[derive(Serialize)]
struct TenantDetailRels<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    parent: Option<Rel<TypedId<'a>>>,
    authorizations: Rel<Vec<TypedIdOwned>>,
}

#[derive(Serialize)]
struct TypedIdOwned {
    #[serde(rename = "type")]
    kind: &'static str,
    id: String,
}

/// State/province, postal code prefix and country for each seeded city.
fn region_of(city: &str) -> (&'static str, &'static str, &'static str) {
    match city {
        "Waterloo" => ("Ontario", "N2L", "Canada"),
        "Toronto" => ("Ontario", "M5V", "Canada"),
        "Chicago" => ("Illinois", "606", "United States"),
        "Denver" => ("Colorado", "802", "United States"),
        "Austin" => ("Texas", "787", "United States"),
        "Seattle" => ("Washington", "981", "United States"),
        "Boston" => ("Massachusetts", "021", "United States"),
        _ => ("Georgia", "303", "United States"),
    }
}

impl<'a> TenantDetailRes<'a> {
    pub fn new(t: &'a TenantState, ord: usize, root_prefix: &'a str, user_num: u64) -> Self {
        let info = t.info();
        let (state, zip, country) = region_of(t.seed.city);
        let postal = if country == "Canada" {
            format!("{zip} {}A{}", ord % 10, (ord / 10) % 10)
        } else {
            format!("{zip}{:02}", ord % 100)
        };
        let is_root = info.parent_id.is_none();
        TenantDetailRes {
            kind: "tenants",
            id: &info.id,
            attributes: TenantDetailAttrs {
                domain_prefix: &info.domain_prefix,
                display_name: &info.display_name,
                tenant_type: &info.tenant_type,
                enabled: t.enabled,
                subscribed: true,
                subscription_owner: if is_root { "None" } else { root_prefix },
                running: t.running,
                trial_start_date: is_root.then_some("2019-03-04T09:15:00.000-0500"),
                trial_end_date: is_root.then_some("2019-03-18T09:15:00.000-0500"),
                address: Address {
                    address1: format!("{} King St.", 100 + ord * 7 % 900),
                    address2: if ord.is_multiple_of(3) {
                        "Suite 200"
                    } else {
                        ""
                    },
                    city: t.seed.city,
                    state_province: state,
                    zip_postal_code: postal.clone(),
                    state,
                    postal_code: postal,
                    country,
                },
            },
            relationships: TenantDetailRels {
                parent: info.parent_id.as_deref().map(|p| Rel {
                    data: TypedId {
                        kind: "tenants",
                        id: p,
                    },
                }),
                authorizations: Rel {
                    data: vec![TypedIdOwned {
                        kind: "authorizations",
                        id: format!("({user_num},{})", 7900 + ord),
                    }],
                },
            },
        }
    }
}

/// A device's rendered `device` and `deviceDetail` resources, for the base URL they were
/// rendered for.
#[derive(Default)]
pub struct JsonCache {
    info: OnceLock<(Arc<str>, Box<str>)>,
    detail: OnceLock<(Arc<str>, Box<str>)>,
}

impl JsonCache {
    pub fn info<'a>(
        &'a self,
        base: &Arc<str>,
        render: impl FnOnce() -> Result<String, serde_json::Error>,
    ) -> Result<Cow<'a, str>, serde_json::Error> {
        Self::get(&self.info, base, render)
    }

    pub fn detail<'a>(
        &'a self,
        base: &Arc<str>,
        render: impl FnOnce() -> Result<String, serde_json::Error>,
    ) -> Result<Cow<'a, str>, serde_json::Error> {
        Self::get(&self.detail, base, render)
    }

    fn get<'a>(
        slot: &'a OnceLock<(Arc<str>, Box<str>)>,
        base: &Arc<str>,
        render: impl FnOnce() -> Result<String, serde_json::Error>,
    ) -> Result<Cow<'a, str>, serde_json::Error> {
        if let Some((b, json)) = slot.get() {
            if b == base {
                return Ok(Cow::Borrowed(json));
            }
            // Rendered for another server of the same simulator: render afresh, keep the first.
            return render().map(Cow::Owned);
        }
        let json = render()?.into_boxed_str();
        if let Err((_, json)) = slot.set((base.clone(), json)) {
            // Another request filled it meanwhile.
            return Ok(Cow::Owned(json.into_string()));
        }
        Ok(slot
            .get()
            .map_or(Cow::Borrowed(""), |(_, j)| Cow::Borrowed(j)))
    }
}

/// A rendered resource cut down to a JSON:API sparse fieldset (`fields[TYPE]=a,b`): only the
/// listed attributes and relationships stay, as a real server returns them, so a client that
/// forgets to ask for a field it reads sees it missing here too.
pub fn sparse(resource: &str, fields: &[&str]) -> Result<String, serde_json::Error> {
    use serde_json::value::RawValue;
    use std::collections::BTreeMap;
    // Two levels are looked into; everything below stays as rendered (no re-parse).
    let top: BTreeMap<&str, &RawValue> = serde_json::from_str(resource)?;
    let mut out: BTreeMap<&str, Box<RawValue>> = BTreeMap::new();
    for (name, value) in top {
        let kept = if name == "attributes" || name == "relationships" {
            let inner: BTreeMap<&str, &RawValue> = serde_json::from_str(value.get())?;
            let inner: BTreeMap<&str, &RawValue> = inner
                .into_iter()
                .filter(|(k, _)| fields.contains(k))
                .collect();
            serde_json::value::to_raw_value(&inner)?
        } else {
            value.to_owned()
        };
        out.insert(name, kept);
    }
    serde_json::to_string(&out)
}

/// Auvik's `basicError` document.
pub fn error_body(status: u16, title: &str, detail: &str) -> String {
    serde_json::json!({
        "errors": [{ "status": status.to_string(), "title": title, "detail": detail }]
    })
    .to_string()
}

/// `{"data":[…],"included":[…],"links":…,"meta":…}` around already rendered resources.
pub fn list_document(
    data: &[Cow<'_, str>],
    included: Option<&[Cow<'_, str>]>,
    links: &PageLinks,
    meta: &Meta,
) -> Result<Vec<u8>, serde_json::Error> {
    let size: usize = data
        .iter()
        .chain(included.unwrap_or_default())
        .map(|r| r.len() + 1)
        .sum();
    let mut out = Vec::with_capacity(size + 1024);
    out.extend_from_slice(b"{\"data\":");
    push_array(&mut out, data);
    if let Some(included) = included {
        out.extend_from_slice(b",\"included\":");
        push_array(&mut out, included);
    }
    out.extend_from_slice(b",\"links\":");
    serde_json::to_writer(&mut out, links)?;
    out.extend_from_slice(b",\"meta\":");
    serde_json::to_writer(&mut out, meta)?;
    out.push(b'}');
    Ok(out)
}

/// `{"data":…,"included":[…]}` around already rendered resources.
pub fn single_document(data: &str, included: Option<&str>) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + included.map_or(0, str::len) + 32);
    out.extend_from_slice(b"{\"data\":");
    out.extend_from_slice(data.as_bytes());
    if let Some(inc) = included {
        out.extend_from_slice(b",\"included\":[");
        out.extend_from_slice(inc.as_bytes());
        out.push(b']');
    }
    out.push(b'}');
    out
}

fn push_array(out: &mut Vec<u8>, items: &[Cow<'_, str>]) {
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(item.as_bytes());
    }
    out.push(b']');
}

/// Serializes a document; our views cannot fail to serialize, but a failure would be a
/// simulator bug worth a loud 500 rather than a panic in a server task.
pub fn to_vec<T: Serialize>(doc: &T) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(64 * 1024);
    serde_json::to_writer(&mut out, doc)?;
    Ok(out)
}
