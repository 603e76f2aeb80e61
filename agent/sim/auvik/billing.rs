//! `/v1/billing/usage/client` and `/v1/billing/usage/device/{id}`: Auvik's billable usage,
//! computed from the simulator's current devices as if they had been in their current state for
//! the whole period (the simulator keeps no history).
//!
//! Billable, per Auvik's "What counts as a billable device?": routers, switches (including layer
//! 3, VoIP and stacks), firewalls (including UTM and security appliances) and controllers, when
//! managed.
//!
//! Both need the API user's billing-view permission; without it
//! ([`super::AuvikSim::deny_billing`]) they answer 403.

use chrono::{Days, NaiveDate};
use serde::Serialize;
use serde_json::{Value, json};

use super::SimDevice;
use super::api::{ApiError, ApiResult, App, Query, refusal};
use super::store::TenantState;

const BILLABLE_TYPES: [&str; 9] = [
    "router",
    "switch",
    "l3Switch",
    "voipSwitch",
    "stack",
    "firewall",
    "utm",
    "securityAppliance",
    "controller",
];

pub fn is_billable(d: &SimDevice) -> bool {
    d.manage_status && BILLABLE_TYPES.contains(&d.device_type.as_str())
}

/// The usage period from `filter[fromDate]` / `filter[thruDate]` (both inclusive).
struct Period {
    from: NaiveDate,
    thru: NaiveDate,
}

impl Period {
    fn parse(q: &Query) -> Result<Self, ApiError> {
        let date = |key: &str| {
            let v = q.get(key).ok_or_else(|| {
                ApiError::bad_request(format!("Missing required query parameter {key}"))
            })?;
            // The spec's pattern is 20[0-9]{2}-[01][0-9]-[0123][0-9].
            let shaped = v.len() == 10 && v.starts_with("20");
            NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .ok()
                .filter(|_| shaped)
                .ok_or_else(|| {
                    ApiError::bad_request(format!("Invalid date {v:?} for {key}; use YYYY-MM-DD"))
                })
        };
        let (from, thru) = (date("filter[fromDate]")?, date("filter[thruDate]")?);
        if thru < from {
            return Err(ApiError::bad_request(
                "filter[thruDate] is before filter[fromDate]",
            ));
        }
        Ok(Self { from, thru })
    }

    fn days(&self) -> u64 {
        (self.thru - self.from).num_days().unsigned_abs() + 1
    }

    fn json(&self) -> Value {
        let end = self
            .thru
            .checked_add_days(Days::new(1))
            .unwrap_or(self.thru);
        json!({
            "startDate": format!("{}T00:00:00Z", self.from),
            "endDate": format!("{end}T00:00:00Z"),
            "lengthInDays": self.days(),
        })
    }

    fn query(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("filter[fromDate]", &self.from.to_string())
            .append_pair("filter[thruDate]", &self.thru.to_string())
            .finish()
    }
}

/// `{notier, light, essentials, performance}` with `value` under `tier`.
fn by_tier(tier: &str, value: f64) -> Value {
    let mut m = serde_json::Map::new();
    for t in ["notier", "light", "essentials", "performance"] {
        m.insert(t.to_owned(), json!(if t == tier { value } else { 0.0 }));
    }
    Value::Object(m)
}

/// Sums across tiers: one by-tier object from several.
fn add_tiers(into: &mut Value, other: &Value) {
    if let (Value::Object(a), Value::Object(b)) = (into, other) {
        for (k, v) in b {
            let sum = a.get(k).and_then(Value::as_f64).unwrap_or(0.0) + v.as_f64().unwrap_or(0.0);
            a.insert(k.clone(), json!(sum));
        }
    }
}

/// 403 while the API user lacks the billing-view permission ([`super::AuvikSim::deny_billing`]),
/// in the same `basicError` shape as a denied tenant's. Checked before the query, as a role check
/// comes before looking at what was asked. The text never says "rate limit": clients read a 403
/// that does as throttling (research §6).
fn require_billing_view(app: &App) -> Result<(), ApiError> {
    if app.sim.billing_denied() {
        return Err(ApiError::forbidden(
            "You do not have permission to view billing information. Ask an administrator for \
             a role with the billing view permission.",
        ));
    }
    Ok(())
}

pub fn client_usage(app: &App, q: &Query) -> ApiResult {
    require_billing_view(app)?;
    let period = Period::parse(q)?;
    let store = app.sim.store();
    let ords = if q.get("tenants").is_some() {
        app.tenant_selection(&store, q)?
    } else {
        vec![0]
    };
    let root_prefix = store.root().info().domain_prefix.clone();
    let base = app.link_base();
    let days = period.days();
    let period_query = period.query();
    let links = |t: &TenantState| {
        json!({
            "dashboard": format!("https://{}.my.auvik.com/#admin/settings/billingUsage", root_prefix),
            "tenantRecord": format!(
                "{}/v1/tenants/detail/{}?tenantDomainPrefix={}",
                base, t.info().id, root_prefix
            ),
            "self": format!(
                "{}/v1/billing/usage/client?tenants={}&{}",
                base, t.info().id, period_query
            ),
        })
    };
    let mut data = Vec::new();
    for ord in ords {
        let Some(t) = store.tenant(ord) else { continue };
        // A multi-client's usage covers its children; a client's covers itself.
        let members: Vec<&TenantState> = if t.info().tenant_type == "multiClient" {
            store
                .tenants()
                .filter(|c| c.info().parent_id.as_ref() == Some(&t.info().id) && c.readable())
                .collect()
        } else {
            vec![t]
        };
        let mut device_days = by_tier("", 0.0);
        let mut device_avg = by_tier("", 0.0);
        let mut client_days = by_tier("", 0.0);
        let mut client_avg = by_tier("", 0.0);
        let (mut billable, mut billed_clients, mut workstations, mut servers) = (0u64, 0u64, 0, 0);
        let mut devices: Vec<DeviceUsageRow> = Vec::new();
        for m in &members {
            let tier = m.seed.tier;
            let n = m.devices().filter(|d| is_billable(d)).count() as u64;
            billable += n;
            add_tiers(&mut device_days, &by_tier(tier, (n * days) as f64));
            add_tiers(&mut device_avg, &by_tier(tier, n as f64));
            if n > 0 {
                billed_clients += 1;
                add_tiers(&mut client_days, &by_tier(tier, days as f64));
                add_tiers(&mut client_avg, &by_tier(tier, 1.0));
            }
            workstations += m
                .devices()
                .filter(|d| d.device_type == "workstation")
                .count();
            servers += m.devices().filter(|d| d.device_type == "server").count();
            if members.len() == 1 {
                devices.extend(
                    m.devices()
                        .filter(|d| is_billable(d))
                        .map(|d| DeviceUsageRow {
                            attributes: DeviceUsageAttributes {
                                client_name: &m.info().domain_prefix,
                                name: &d.name,
                                total_days: days,
                            },
                            id: &d.id,
                            links: DeviceUsageLinks {
                                device_record: format!(
                                    "{}/v1/inventory/device/info/{}",
                                    base, d.id
                                ),
                                this: format!(
                                    "{}/v1/billing/usage/device/{}?{}",
                                    base, d.id, period_query
                                ),
                            },
                            kind: "deviceUsage",
                        }),
                );
            }
        }
        let clients: Vec<Value> = if t.info().tenant_type == "multiClient" {
            members
                .iter()
                .map(|c| {
                    let n = c.devices().filter(|d| is_billable(d)).count() as u64;
                    json!({
                        "id": c.info().id,
                        "type": "clientUsage",
                        "attributes": {
                            "domainPrefix": c.info().domain_prefix,
                            "totalBillableDays": if n > 0 { days } else { 0 },
                        },
                        "links": { "self": links(c)["self"].clone() },
                    })
                })
                .collect()
        } else {
            Vec::new()
        };
        let per_day = |key: &str, count: usize| -> Vec<Value> {
            (0..days)
                .filter_map(|i| period.from.checked_add_days(Days::new(i)))
                .map(|d| json!({ "date": d.to_string(), key: count }))
                .collect()
        };
        data.push(ClientUsageRow {
            id: &t.info().id,
            kind: "clientUsage",
            attributes: json!({
                "monitoredWorkstations": per_day("totalEndpoints", workstations),
                "monitoredServers": per_day("totalServers", servers),
                "maxMonitoredWorkstations": workstations,
                "maxMonitoredServers": servers,
                "domainPrefix": t.info().domain_prefix,
                "billableDays": billed_clients * days,
                "usagePeriod": period.json(),
                "deviceUsage": {
                    "totalDays": billable * days,
                    "averageDays": billable,
                    "totalDaysByClientType": device_days,
                    "averageDaysByClientType": device_avg,
                },
                "clientUsage": {
                    "totalDays": billed_clients * days,
                    "averagedDays": billed_clients,
                    "totalDaysByClientType": client_days,
                    "averageDaysByClientType": client_avg,
                },
                "asmUserUsage": { "totalAsmUsers": 0 },
            }),
            links: links(t),
            relationships: Relationships {
                asm_users: DataOf { data: [] },
                clients: DataOf { data: clients },
                devices: DataOf { data: devices },
            },
        });
    }
    Ok(serde_json::to_vec(&ClientUsageDoc { data })?)
}

// The answer is written without building a `Value` per device: a 100,000-device run's
// billing answers list every billable device, and building them as `Value`s was most of
// the simulator's CPU at the end of each full run. Fields are declared in sorted order,
// the order `json!` writes keys in, so the bytes are those it wrote.

#[derive(Serialize)]
struct ClientUsageDoc<'a> {
    data: Vec<ClientUsageRow<'a>>,
}

#[derive(Serialize)]
struct ClientUsageRow<'a> {
    attributes: Value,
    id: &'a str,
    links: Value,
    relationships: Relationships<'a>,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Relationships<'a> {
    asm_users: DataOf<[(); 0]>,
    clients: DataOf<Vec<Value>>,
    devices: DataOf<Vec<DeviceUsageRow<'a>>>,
}

#[derive(Serialize)]
struct DataOf<T> {
    data: T,
}

#[derive(Serialize)]
struct DeviceUsageRow<'a> {
    attributes: DeviceUsageAttributes<'a>,
    id: &'a str,
    links: DeviceUsageLinks,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeviceUsageAttributes<'a> {
    client_name: &'a str,
    name: &'a str,
    total_days: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeviceUsageLinks {
    device_record: String,
    #[serde(rename = "self")]
    this: String,
}

pub fn device_usage(app: &App, q: &Query, id: &str) -> ApiResult {
    require_billing_view(app)?;
    let period = Period::parse(q)?;
    let store = app.sim.store();
    let (ord, d) = store
        .device(id)
        .ok_or_else(|| ApiError::not_found(format!("Device {id} not found")))?;
    let t = store
        .tenant(ord)
        .ok_or_else(|| ApiError::not_found("Tenant not found"))?;
    if let Some(refused) = refusal(t) {
        return Err(refused);
    }
    let root_prefix = &store.root().info().domain_prefix;
    let base = app.link_base();
    let days = period.days();
    let total = if is_billable(d) { days } else { 0 };
    let tier = t.seed.tier;
    let doc = json!({
        "data": {
            "id": d.id,
            "type": "deviceUsage",
            "attributes": {
                "deviceName": d.name,
                "usagePeriod": period.json(),
                "totalDays": total,
                "averageDays": total as f64 / days as f64,
                "totalDaysByClientType": by_tier(tier, total as f64),
                "averageDaysByClientType": by_tier(tier, total as f64 / days as f64),
            },
            "relationships": {
                "client": {
                    "data": {
                        "id": t.info().id,
                        "type": "clientUsage",
                        "attributes": { "domainPrefix": t.info().domain_prefix },
                        "links": {
                            "dashboard": format!("https://{root_prefix}.my.auvik.com/#admin/settings/billingUsage"),
                            "tenantRecord": format!(
                                "{}/v1/tenants/detail/{}?tenantDomainPrefix={root_prefix}",
                                base, t.info().id
                            ),
                            "self": format!(
                                "{}/v1/billing/usage/client?tenants={}&{}",
                                base, t.info().id, period.query()
                            ),
                        },
                    },
                },
            },
            "links": {
                "deviceRecord": format!("{}/v1/inventory/device/info/{}", base, d.id),
                "self": format!("{}/v1/billing/usage/device/{}?{}", base, d.id, period.query()),
            },
        },
    });
    Ok(serde_json::to_vec(&doc)?)
}
