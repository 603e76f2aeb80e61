//! The simulator's own control surface under `/_sim/` (not part of Auvik): the mutation and
//! fault API of [`AuvikSim`] as JSON over HTTP, for tools and tests outside the process
//! (`assetd sim auvik` users, the Python tests). No auth: it is meant for loopback use only.
//!
//! | method & path | body | answer |
//! |---|---|---|
//! | `GET /_sim/state` | | counts, request totals, denied and unavailable tenants, `billing_denied`, `public_base_url`, `clock_skew_seconds`, pending faults |
//! | `POST /_sim/tenants` | `{"display_name": "Smith & Sons", "domain_prefix": "smithsons"}` | 201 `{"id": …, "tenant": …}`; 409 if the prefix is taken |
//! | `GET /_sim/devices/{id}` | | the device's ground truth |
//! | `POST /_sim/devices` | `{"tenant_id": "…"}` | 201 `{"id": …, "device": …}` |
//! | `PATCH /_sim/devices/{id}` | Auvik attribute names, e.g. `{"deviceName":"x","manageStatus":true}`; `"warranty"` and `"lifecycle"` take a record's attributes by their spec names (each a string or null), or null for no record | the device |
//! | `DELETE /_sim/devices/{id}` | | 204 |
//! | `POST /_sim/rotate-key` | | `{"api_key": …}` |
//! | `PUT /_sim/tenants/{id}/denied` | `{"denied": true}` | 204 |
//! | `GET`/`PUT /_sim/tenants/{id}/state` | `{"enabled": false, "running": true}` (either) | `{"enabled", "running", "available"}` |
//! | `PUT /_sim/billing/denied` | `{"denied": true}` | 204 |
//! | `PUT /_sim/lifecycle/denied` | `{"denied": true}` | 204 (warranty and lifecycle answer 403) |
//! | `PUT /_sim/lifecycle/odd-dates` | `{"on": true}` | 204 (some warranty dates sent as text) |
//! | `PUT /_sim/paging/bare-next` | `{"on": true}` | 204 (`links.next` carries only `page[after]` and `page[first]`) |
//! | `GET`/`PUT /_sim/public-base-url` | `{"url": "https://auvikapi.us1.my.auvik.com"}` (`null`: the listening address) | `{"url": …}` |
//! | `GET`/`PUT /_sim/clock` | `{"skew_seconds": -600}` (may be fractional) | `{"skew_seconds": …, "now": …}` |
//! | `GET`/`POST`/`DELETE /_sim/faults` | a `FaultRule` for POST | the rules / 201 / 204 |
//!
//! Throttling is a fault rule, e.g. `POST /_sim/faults` with
//! `{"fault": {"kind": "throttle403", "message": "Request throttled", "retry_after": 300},
//! "times": 20, "path_prefix": "/v1/inventory"}`; a rule can name a query fragment too
//! (`"query_contains": "page[after]="`).
//!
//! A body that is not the JSON object described gets 400 with `{"error": …}`.

use crate::sim::control::{self, error, no_content, parse_object, reply};
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post, put};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::SimDevice;
use super::api::App;
use super::catalog::{DEVICE_TYPES, ONLINE_STATUSES, TRAFFIC_INSIGHTS_STATUSES};
use super::store::TenantRefusal;

type AppState = State<Arc<App>>;

pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/state", get(state))
        .route("/devices", post(add_device))
        .route(
            "/devices/{id}",
            get(get_device).patch(patch_device).delete(delete_device),
        )
        .route("/rotate-key", post(rotate_key))
        .route("/tenants", post(add_tenant))
        .route("/tenants/{id}/denied", put(deny_tenant))
        .route(
            "/tenants/{id}/state",
            get(tenant_state).put(set_tenant_state),
        )
        .route("/billing/denied", put(deny_billing))
        .route("/lifecycle/denied", put(deny_lifecycle))
        .route("/lifecycle/odd-dates", put(set_odd_dates))
        .route("/paging/bare-next", put(set_bare_next))
        .route(
            "/public-base-url",
            get(public_base_url).put(set_public_base_url),
        )
        .route("/clock", get(clock).put(set_clock))
        .route(
            "/faults",
            get(list_faults).post(push_fault).delete(clear_faults),
        )
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such control endpoint") })
}

fn device_json(d: &SimDevice) -> Value {
    serde_json::to_value(d).unwrap_or(Value::Null)
}

async fn state(State(app): AppState) -> Response {
    let sim = &app.sim;
    let (tenants, devices, denied, unavailable) = {
        let store = sim.store();
        let ids = |f: fn(&super::store::TenantState) -> bool| -> Vec<String> {
            store
                .tenants()
                .filter(|t| f(t))
                .map(|t| t.info().id.clone())
                .collect()
        };
        let denied = ids(|t| t.denied);
        let unavailable = ids(|t| !t.available());
        (
            store.tenants().count(),
            store.device_count(),
            denied,
            unavailable,
        )
    };
    reply(
        StatusCode::OK,
        &json!({
            "vendor": "auvik",
            "base_url": &*app.base_url,
            "domain_prefix": sim.domain_prefix(),
            "region": sim.region(),
            "tenants": tenants,
            "devices": devices,
            "requests": sim.request_count(),
            "denied_tenants": denied,
            "unavailable_tenants": unavailable,
            "billing_denied": sim.billing_denied(),
            "lifecycle_denied": sim.lifecycle_denied(),
            "odd_warranty_dates": sim.odd_warranty_dates(),
            "bare_next_links": sim.bare_next_links(),
            "public_base_url": sim.public_base_url(),
            "clock_skew_seconds": skew_seconds(sim.clock_skew()),
            "faults": sim.faults().rules(),
        }),
    )
}

async fn get_device(State(app): AppState, Path(id): Path<String>) -> Response {
    match app.sim.device(&id) {
        Some(d) => reply(StatusCode::OK, &device_json(&d)),
        None => error(StatusCode::NOT_FOUND, "no such device"),
    }
}

async fn add_device(State(app): AppState, body: Bytes) -> Response {
    let obj = match parse_object(&body) {
        Ok(o) => o,
        Err(msg) => return error(StatusCode::BAD_REQUEST, &msg),
    };
    let Some(tenant) = obj.get("tenant_id").and_then(Value::as_str) else {
        return error(
            StatusCode::BAD_REQUEST,
            "body needs \"tenant_id\" (a string)",
        );
    };
    match app.sim.try_add_device(tenant) {
        Some(id) => {
            let device = app
                .sim
                .device(&id)
                .as_ref()
                .map_or(Value::Null, device_json);
            reply(StatusCode::CREATED, &json!({ "id": id, "device": device }))
        }
        None => error(StatusCode::NOT_FOUND, "no such tenant"),
    }
}

async fn patch_device(State(app): AppState, Path(id): Path<String>, body: Bytes) -> Response {
    let obj = match parse_object(&body) {
        Ok(o) => o,
        Err(msg) => return error(StatusCode::BAD_REQUEST, &msg),
    };
    let patch = match Patch::parse(obj) {
        Ok(p) => p,
        Err(msg) => return error(StatusCode::BAD_REQUEST, &msg),
    };
    if !app.sim.update_device(&id, |d| patch.apply(d)) {
        return error(StatusCode::NOT_FOUND, "no such device");
    }
    match app.sim.device(&id) {
        Some(d) => reply(StatusCode::OK, &device_json(&d)),
        None => error(StatusCode::NOT_FOUND, "no such device"),
    }
}

async fn delete_device(State(app): AppState, Path(id): Path<String>) -> Response {
    if app.sim.remove_device(&id) {
        no_content()
    } else {
        error(StatusCode::NOT_FOUND, "no such device")
    }
}

async fn rotate_key(State(app): AppState) -> Response {
    reply(StatusCode::OK, &json!({ "api_key": app.sim.rotate_key() }))
}

async fn add_tenant(State(app): AppState, body: Bytes) -> Response {
    let obj = match parse_object(&body) {
        Ok(o) => o,
        Err(msg) => return error(StatusCode::BAD_REQUEST, &msg),
    };
    let field = |key: &str| obj.get(key).and_then(Value::as_str);
    let (Some(name), Some(prefix)) = (field("display_name"), field("domain_prefix")) else {
        return error(
            StatusCode::BAD_REQUEST,
            "body needs \"display_name\" and \"domain_prefix\" (strings)",
        );
    };
    match app.sim.try_add_tenant(name, prefix) {
        Ok(id) => {
            let tenant = app
                .sim
                .tenants()
                .into_iter()
                .find(|t| t.id == id)
                .map_or(Value::Null, |t| {
                    serde_json::to_value(t).unwrap_or(Value::Null)
                });
            reply(StatusCode::CREATED, &json!({ "id": id, "tenant": tenant }))
        }
        Err(TenantRefusal::Invalid(msg)) => error(StatusCode::BAD_REQUEST, &msg),
        Err(TenantRefusal::Taken) => error(
            StatusCode::CONFLICT,
            &format!("domain_prefix {prefix:?} is taken by another tenant"),
        ),
    }
}

/// `{"denied": bool}` from a body, or why the body is bad (answered 400).
fn denied_flag(body: &Bytes) -> Result<bool, String> {
    parse_object(body)?
        .get("denied")
        .and_then(Value::as_bool)
        .ok_or_else(|| "body needs \"denied\" (true or false)".to_owned())
}

async fn deny_tenant(State(app): AppState, Path(id): Path<String>, body: Bytes) -> Response {
    let denied = match denied_flag(&body) {
        Ok(d) => d,
        Err(msg) => return error(StatusCode::BAD_REQUEST, &msg),
    };
    if app.sim.deny_tenant(&id, denied) {
        no_content()
    } else {
        error(StatusCode::NOT_FOUND, "no such tenant")
    }
}

fn tenant_state_json(app: &App, id: &str) -> Option<Value> {
    let (enabled, running) = app.sim.tenant_state(id)?;
    Some(json!({
        "enabled": enabled,
        "running": running,
        "available": enabled && running,
    }))
}

async fn tenant_state(State(app): AppState, Path(id): Path<String>) -> Response {
    match tenant_state_json(&app, &id) {
        Some(v) => reply(StatusCode::OK, &v),
        None => error(StatusCode::NOT_FOUND, "no such tenant"),
    }
}

async fn set_tenant_state(State(app): AppState, Path(id): Path<String>, body: Bytes) -> Response {
    let obj = match parse_object(&body) {
        Ok(o) => o,
        Err(msg) => return error(StatusCode::BAD_REQUEST, &msg),
    };
    let Some((mut enabled, mut running)) = app.sim.tenant_state(&id) else {
        return error(StatusCode::NOT_FOUND, "no such tenant");
    };
    if obj.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "body needs \"enabled\" and/or \"running\" (true or false)",
        );
    }
    for (key, v) in &obj {
        let slot = match key.as_str() {
            "enabled" => &mut enabled,
            "running" => &mut running,
            other => {
                return error(
                    StatusCode::BAD_REQUEST,
                    &format!("unknown field {other:?}; known: enabled, running"),
                );
            }
        };
        match v.as_bool() {
            Some(b) => *slot = b,
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    &format!("{key} must be true or false"),
                );
            }
        }
    }
    app.sim.set_tenant_state(&id, enabled, running);
    match tenant_state_json(&app, &id) {
        Some(v) => reply(StatusCode::OK, &v),
        None => error(StatusCode::NOT_FOUND, "no such tenant"),
    }
}

async fn public_base_url(State(app): AppState) -> Response {
    reply(StatusCode::OK, &json!({ "url": app.sim.public_base_url() }))
}

async fn set_public_base_url(State(app): AppState, body: Bytes) -> Response {
    let obj = match parse_object(&body) {
        Ok(o) => o,
        Err(msg) => return error(StatusCode::BAD_REQUEST, &msg),
    };
    let url = match obj.get("url") {
        Some(Value::Null) => None,
        Some(Value::String(u))
            if (u.starts_with("http://") || u.starts_with("https://"))
                && !u.contains(char::is_whitespace) =>
        {
            Some(u.as_str())
        }
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "body needs \"url\": an http:// or https:// URL, or null",
            );
        }
    };
    app.sim.set_public_base_url(url);
    reply(StatusCode::OK, &json!({ "url": app.sim.public_base_url() }))
}

fn skew_seconds(skew: chrono::Duration) -> f64 {
    // Milliseconds fit an f64 exactly far beyond any useful skew.
    skew.num_milliseconds() as f64 / 1000.0
}

fn clock_json(app: &App) -> Value {
    json!({
        "skew_seconds": skew_seconds(app.sim.clock_skew()),
        "now": app.sim.now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    })
}

async fn clock(State(app): AppState) -> Response {
    reply(StatusCode::OK, &clock_json(&app))
}

async fn set_clock(State(app): AppState, body: Bytes) -> Response {
    match crate::sim::control::skew_from_body(&body) {
        Ok(skew) => {
            app.sim.set_clock_skew(skew);
            reply(StatusCode::OK, &clock_json(&app))
        }
        Err(msg) => error(StatusCode::BAD_REQUEST, &msg),
    }
}

async fn deny_billing(State(app): AppState, body: Bytes) -> Response {
    match denied_flag(&body) {
        Ok(denied) => {
            app.sim.deny_billing(denied);
            no_content()
        }
        Err(msg) => error(StatusCode::BAD_REQUEST, &msg),
    }
}

async fn deny_lifecycle(State(app): AppState, body: Bytes) -> Response {
    match denied_flag(&body) {
        Ok(denied) => {
            app.sim.deny_lifecycle(denied);
            no_content()
        }
        Err(msg) => error(StatusCode::BAD_REQUEST, &msg),
    }
}

async fn set_odd_dates(State(app): AppState, body: Bytes) -> Response {
    switch(&body, |on| app.sim.set_odd_warranty_dates(on))
}

async fn set_bare_next(State(app): AppState, body: Bytes) -> Response {
    switch(&body, |on| app.sim.set_bare_next_links(on))
}

/// Sets an on/off switch from a body `{"on": true|false}`: 204, or 400 saying what to send.
fn switch(body: &Bytes, set: impl FnOnce(bool)) -> Response {
    match parse_object(body).and_then(|o| {
        o.get("on")
            .and_then(Value::as_bool)
            .ok_or_else(|| "body needs \"on\": true or false".to_owned())
    }) {
        Ok(on) => {
            set(on);
            no_content()
        }
        Err(msg) => error(StatusCode::BAD_REQUEST, &msg),
    }
}

async fn list_faults(State(app): AppState) -> Response {
    control::list_faults(app.sim.faults())
}

async fn push_fault(State(app): AppState, body: Bytes) -> Response {
    control::push_fault(app.sim.faults(), &body)
}

async fn clear_faults(State(app): AppState) -> Response {
    control::clear_faults(app.sim.faults())
}

/// A validated PATCH: every field checked before anything changes.
#[derive(Default)]
struct Patch {
    name: Option<String>,
    device_type: Option<String>,
    vendor_name: Option<Option<String>>,
    make_model: Option<Option<String>>,
    serial: Option<Option<String>>,
    software: Option<Option<String>>,
    firmware: Option<Option<String>>,
    description: Option<String>,
    ip_addresses: Option<Vec<String>>,
    mac_addresses: Option<Vec<String>>,
    online_status: Option<String>,
    manage_status: Option<bool>,
    traffic_insights_status: Option<String>,
    last_seen: Option<Option<DateTime<Utc>>>,
    warranty: Option<Option<super::SimWarranty>>,
    lifecycle: Option<Option<super::SimLifecycle>>,
}

/// A record's attributes by their spec names, each a string or null (absent: null).
fn record_fields(
    key: &str,
    v: &Value,
    names: &[&str],
) -> Result<Option<Vec<Option<String>>>, String> {
    let obj = match v {
        Value::Null => return Ok(None),
        Value::Object(o) => o,
        _ => return Err(format!("{key} must be an object or null")),
    };
    if let Some(bad) = obj.keys().find(|k| !names.contains(&k.as_str())) {
        return Err(format!(
            "{key}: unknown attribute {bad:?}; known: {}",
            names.join(", ")
        ));
    }
    names
        .iter()
        .map(|n| match obj.get(*n) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("{key}.{n} must be a string or null")),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

impl Patch {
    fn parse(obj: Map<String, Value>) -> Result<Self, String> {
        let mut p = Patch::default();
        for (key, v) in obj {
            let string = || {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or(format!("{key} must be a string"))
            };
            let nullable = || match &v {
                Value::Null => Ok(None),
                Value::String(s) => Ok(Some(s.clone())),
                _ => Err(format!("{key} must be a string or null")),
            };
            let strings = || {
                v.as_array()
                    .and_then(|a| a.iter().map(|x| x.as_str().map(str::to_owned)).collect())
                    .ok_or(format!("{key} must be an array of strings"))
            };
            let member = |allowed: &[&str]| {
                let s = string()?;
                if allowed.contains(&s.as_str()) {
                    Ok(s)
                } else {
                    Err(format!("{key} must be one of: {}", allowed.join(", ")))
                }
            };
            match key.as_str() {
                "deviceName" => p.name = Some(string()?),
                "deviceType" => p.device_type = Some(member(&DEVICE_TYPES)?),
                "vendorName" => p.vendor_name = Some(nullable()?),
                "makeModel" => p.make_model = Some(nullable()?),
                "serialNumber" => p.serial = Some(nullable()?),
                "softwareVersion" => p.software = Some(nullable()?),
                "firmwareVersion" => p.firmware = Some(nullable()?),
                "description" => p.description = Some(string()?),
                "ipAddresses" => p.ip_addresses = Some(strings()?),
                "macAddresses" => p.mac_addresses = Some(strings()?),
                "onlineStatus" => p.online_status = Some(member(&ONLINE_STATUSES)?),
                "manageStatus" => {
                    p.manage_status = Some(v.as_bool().ok_or("manageStatus must be true or false")?)
                }
                "trafficInsightsStatus" => {
                    p.traffic_insights_status = Some(member(&TRAFFIC_INSIGHTS_STATUSES)?)
                }
                "lastSeenTime" => {
                    p.last_seen = Some(match nullable()? {
                        None => None,
                        Some(s) => Some(
                            DateTime::parse_from_rfc3339(&s)
                                .map_err(|_| "lastSeenTime must be an RFC 3339 time".to_owned())?
                                .to_utc(),
                        ),
                    })
                }
                "warranty" => {
                    let names = [
                        "warrantyCoverageStatus",
                        "warrantyExpirationDate",
                        "serviceCoverageStatus",
                        "serviceAttachmentStatus",
                        "contractRenewalAvailability",
                        "recommendedSoftwareVersion",
                    ];
                    p.warranty = Some(record_fields(&key, &v, &names)?.map(|mut f| {
                        let mut take = |i: usize| f.get_mut(i).and_then(Option::take);
                        super::SimWarranty {
                            coverage_status: take(0),
                            expiration_date: take(1),
                            service_coverage_status: take(2),
                            service_attachment_status: take(3),
                            contract_renewal_availability: take(4),
                            recommended_software_version: take(5),
                        }
                    }));
                }
                "lifecycle" => {
                    let names = [
                        "salesAvailability",
                        "softwareMaintenanceStatus",
                        "securitySoftwareMaintenanceStatus",
                        "lastSupportStatus",
                    ];
                    let fields = record_fields(&key, &v, &names)?;
                    if let Some(bad) = fields
                        .iter()
                        .flatten()
                        .flatten()
                        .find(|s| !super::catalog::LIFECYCLE_STATUSES.contains(&s.as_str()))
                    {
                        return Err(format!(
                            "lifecycle: {bad:?} is not one of: {}",
                            super::catalog::LIFECYCLE_STATUSES.join(", ")
                        ));
                    }
                    p.lifecycle = Some(fields.map(|mut f| {
                        let mut take = |i: usize| f.get_mut(i).and_then(Option::take);
                        super::SimLifecycle {
                            sales_availability: take(0),
                            software_maintenance_status: take(1),
                            security_software_maintenance_status: take(2),
                            last_support_status: take(3),
                        }
                    }));
                }
                other => {
                    return Err(format!(
                        "unknown attribute {other:?}; known: deviceName, deviceType, vendorName, \
                         makeModel, serialNumber, softwareVersion, firmwareVersion, description, \
                         ipAddresses, macAddresses, onlineStatus, manageStatus, \
                         trafficInsightsStatus, lastSeenTime, warranty, lifecycle"
                    ));
                }
            }
        }
        Ok(p)
    }

    fn apply(self, d: &mut SimDevice) {
        fn set<T>(slot: &mut T, v: Option<T>) {
            if let Some(v) = v {
                *slot = v;
            }
        }
        set(&mut d.name, self.name);
        set(&mut d.device_type, self.device_type);
        set(&mut d.vendor_name, self.vendor_name);
        set(&mut d.make_model, self.make_model);
        set(&mut d.serial, self.serial);
        set(&mut d.software, self.software);
        set(&mut d.firmware, self.firmware);
        set(&mut d.description, self.description);
        set(&mut d.ip_addresses, self.ip_addresses);
        set(&mut d.mac_addresses, self.mac_addresses);
        set(&mut d.online_status, self.online_status);
        set(&mut d.manage_status, self.manage_status);
        set(&mut d.traffic_insights_status, self.traffic_insights_status);
        set(&mut d.last_seen, self.last_seen);
        set(&mut d.warranty, self.warranty);
        set(&mut d.lifecycle, self.lifecycle);
    }
}
