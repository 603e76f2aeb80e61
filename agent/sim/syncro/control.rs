//! The simulator's own control surface under `/_sim/` (not part of Syncro): the mutation, limiter
//! and fault API of [`SyncroSim`] as JSON over HTTP, for tools and tests outside the process
//! (`assetd sim syncro` users, the Python tests). No auth, and not rate-limited or counted: it is
//! meant for loopback use only.
//!
//! | method & path | body | answer |
//! |---|---|---|
//! | `GET /_sim/state` | | counts, request totals, limiter settings, asset types, the list switches (`listing_hidden`, `hidden_assets`, `reorder_between_pages`, `spec_example_paging`), pending faults |
//! | `GET /_sim/customers` | | every customer's ground truth (disabled ones too) |
//! | `POST /_sim/customers` | `{"business_name": "Smith & Sons"}` | 201 `{"id": …, "customer": …}` |
//! | `GET /_sim/assets/{id}` | | the asset's ground truth |
//! | `POST /_sim/assets` | `{"customer_id": 21400123}` | 201 `{"id": …, "asset": …}` |
//! | `PATCH /_sim/assets/{id}` | asset fields, e.g. `{"name":"x","asset_serial":null}` | the asset |
//! | `DELETE /_sim/assets/{id}` | | 204 |
//! | `PUT /_sim/assets/{id}/hidden` | `{"hidden": true}` | 204; the asset leaves `/customer_assets` but stays readable by id |
//! | `GET`/`PUT /_sim/listing` | `{"hidden": true}` | `{"hidden": …}`; `/customer_assets` lists nothing |
//! | `GET`/`PUT /_sim/reorder` | `{"on": true}` | `{"on": …}`; `/customer_assets` by `updated_at`, changing under a page walk |
//! | `GET`/`PUT /_sim/spec-example-paging` | `{"on": true}` | `{"on": …}`; `/customer_assets` without `meta`, `page` ignored |
//! | `POST /_sim/rotate-key` | | `{"api_key": …}` |
//! | `GET`/`PUT /_sim/rate-limit` | `{"requests_per_minute": 60, "retry_after": true}` (either) | the settings |
//! | `GET`/`POST`/`DELETE /_sim/faults` | a `FaultRule` for POST | the rules / 201 / 204 |
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
use serde_json::{Map, Value, json};

use super::SimAsset;
use super::api::App;

type AppState = State<Arc<App>>;

pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/state", get(state))
        .route("/customers", get(customers).post(add_customer))
        .route("/assets", post(add_asset))
        .route(
            "/assets/{id}",
            get(get_asset).patch(patch_asset).delete(delete_asset),
        )
        .route("/assets/{id}/hidden", put(hide_asset))
        .route("/listing", get(listing).put(set_listing))
        .route("/reorder", get(reorder).put(set_reorder))
        .route(
            "/spec-example-paging",
            get(spec_example_paging).put(set_spec_example_paging),
        )
        .route("/rotate-key", post(rotate_key))
        .route("/rate-limit", get(rate_limit).put(set_rate_limit))
        .route(
            "/faults",
            get(list_faults).post(push_fault).delete(clear_faults),
        )
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such control endpoint") })
}

fn asset_json(a: &SimAsset) -> Value {
    serde_json::to_value(a).unwrap_or(Value::Null)
}

fn parse_id(raw: &str) -> Option<i64> {
    raw.parse().ok()
}

async fn state(State(app): AppState) -> Response {
    let sim = &app.sim;
    let (customers, assets, types) = {
        let store = sim.store();
        (
            store.customers().count(),
            store.asset_count(),
            store.asset_types(),
        )
    };
    let types: Vec<Value> = types
        .into_iter()
        .map(|(id, name)| json!({ "id": id, "name": name }))
        .collect();
    reply(
        StatusCode::OK,
        &json!({
            "vendor": "syncro",
            "base_url": &*app.base_url,
            "subdomain": sim.subdomain(),
            "customers": customers,
            "assets": assets,
            "asset_types": types,
            "requests": sim.request_count(),
            "rate_limited": sim.rate_limited_count(),
            "requests_per_minute": sim.requests_per_minute(),
            "retry_after": sim.retry_after(),
            "listing_hidden": sim.listing_hidden(),
            "hidden_assets": sim.hidden_assets(),
            "reorder_between_pages": sim.reorder_between_pages(),
            "spec_example_paging": sim.spec_example_paging(),
            "faults": sim.faults().rules(),
        }),
    )
}

async fn customers(State(app): AppState) -> Response {
    let list = serde_json::to_value(app.sim.customers()).unwrap_or(Value::Null);
    reply(StatusCode::OK, &list)
}

async fn add_customer(State(app): AppState, body: Bytes) -> Response {
    let obj = match parse_object(&body) {
        Ok(o) => o,
        Err(msg) => return error(StatusCode::BAD_REQUEST, &msg),
    };
    // Syncro's form requires a name; a blank one would be a customer nobody can find.
    let Some(name) = obj
        .get("business_name")
        .and_then(Value::as_str)
        .filter(|n| !n.trim().is_empty())
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "body needs \"business_name\" (a non-blank string)",
        );
    };
    let id = app.sim.add_customer(name);
    let customer = app.sim.store().customer(id).map_or(Value::Null, |c| {
        serde_json::to_value(c).unwrap_or(Value::Null)
    });
    reply(
        StatusCode::CREATED,
        &json!({ "id": id, "customer": customer }),
    )
}

async fn get_asset(State(app): AppState, Path(id): Path<String>) -> Response {
    match parse_id(&id).and_then(|id| app.sim.asset(id)) {
        Some(a) => reply(StatusCode::OK, &asset_json(&a)),
        None => error(StatusCode::NOT_FOUND, "no such asset"),
    }
}

async fn add_asset(State(app): AppState, body: Bytes) -> Response {
    let obj = match parse_object(&body) {
        Ok(o) => o,
        Err(msg) => return error(StatusCode::BAD_REQUEST, &msg),
    };
    let Some(customer) = obj.get("customer_id").and_then(Value::as_i64) else {
        return error(
            StatusCode::BAD_REQUEST,
            "body needs \"customer_id\" (an integer)",
        );
    };
    match app.sim.add_asset(customer) {
        Some(id) => {
            let asset = app.sim.asset(id).as_ref().map_or(Value::Null, asset_json);
            reply(StatusCode::CREATED, &json!({ "id": id, "asset": asset }))
        }
        None => error(StatusCode::NOT_FOUND, "no such customer"),
    }
}

async fn patch_asset(State(app): AppState, Path(id): Path<String>, body: Bytes) -> Response {
    let Some(id) = parse_id(&id) else {
        return error(StatusCode::NOT_FOUND, "no such asset");
    };
    let obj = match parse_object(&body) {
        Ok(o) => o,
        Err(msg) => return error(StatusCode::BAD_REQUEST, &msg),
    };
    let patch = match Patch::parse(obj) {
        Ok(p) => p,
        Err(msg) => return error(StatusCode::BAD_REQUEST, &msg),
    };
    if let Some(c) = patch.customer_id
        && !app.sim.store().customers().any(|x| x.id == c)
    {
        return error(StatusCode::BAD_REQUEST, "customer_id names no customer");
    }
    if !app.sim.update_asset(id, |a| patch.apply(a)) {
        return error(StatusCode::NOT_FOUND, "no such asset");
    }
    match app.sim.asset(id) {
        Some(a) => reply(StatusCode::OK, &asset_json(&a)),
        None => error(StatusCode::NOT_FOUND, "no such asset"),
    }
}

async fn delete_asset(State(app): AppState, Path(id): Path<String>) -> Response {
    if parse_id(&id).is_some_and(|id| app.sim.remove_asset(id)) {
        no_content()
    } else {
        error(StatusCode::NOT_FOUND, "no such asset")
    }
}

/// The boolean `key` of a body, or why the body is bad (answered 400).
fn flag(body: &Bytes, key: &str) -> Result<bool, String> {
    parse_object(body)?
        .get(key)
        .and_then(Value::as_bool)
        .ok_or_else(|| format!("body needs \"{key}\" (true or false)"))
}

async fn hide_asset(State(app): AppState, Path(id): Path<String>, body: Bytes) -> Response {
    let hidden = match flag(&body, "hidden") {
        Ok(h) => h,
        Err(msg) => return error(StatusCode::BAD_REQUEST, &msg),
    };
    if parse_id(&id).is_some_and(|id| app.sim.hide_asset(id, hidden)) {
        no_content()
    } else {
        error(StatusCode::NOT_FOUND, "no such asset")
    }
}

async fn listing(State(app): AppState) -> Response {
    reply(
        StatusCode::OK,
        &json!({ "hidden": app.sim.listing_hidden() }),
    )
}

async fn set_listing(State(app): AppState, body: Bytes) -> Response {
    match flag(&body, "hidden") {
        Ok(h) => {
            app.sim.set_listing_hidden(h);
            reply(
                StatusCode::OK,
                &json!({ "hidden": app.sim.listing_hidden() }),
            )
        }
        Err(msg) => error(StatusCode::BAD_REQUEST, &msg),
    }
}

async fn reorder(State(app): AppState) -> Response {
    reply(
        StatusCode::OK,
        &json!({ "on": app.sim.reorder_between_pages() }),
    )
}

async fn set_reorder(State(app): AppState, body: Bytes) -> Response {
    match flag(&body, "on") {
        Ok(on) => {
            app.sim.set_reorder_between_pages(on);
            reply(
                StatusCode::OK,
                &json!({ "on": app.sim.reorder_between_pages() }),
            )
        }
        Err(msg) => error(StatusCode::BAD_REQUEST, &msg),
    }
}

async fn spec_example_paging(State(app): AppState) -> Response {
    reply(
        StatusCode::OK,
        &json!({ "on": app.sim.spec_example_paging() }),
    )
}

async fn set_spec_example_paging(State(app): AppState, body: Bytes) -> Response {
    match flag(&body, "on") {
        Ok(on) => {
            app.sim.set_spec_example_paging(on);
            reply(
                StatusCode::OK,
                &json!({ "on": app.sim.spec_example_paging() }),
            )
        }
        Err(msg) => error(StatusCode::BAD_REQUEST, &msg),
    }
}

async fn rotate_key(State(app): AppState) -> Response {
    reply(StatusCode::OK, &json!({ "api_key": app.sim.rotate_key() }))
}

fn limiter_settings(app: &App) -> Value {
    json!({
        "requests_per_minute": app.sim.requests_per_minute(),
        "retry_after": app.sim.retry_after(),
        "rate_limited": app.sim.rate_limited_count(),
    })
}

async fn rate_limit(State(app): AppState) -> Response {
    reply(StatusCode::OK, &limiter_settings(&app))
}

async fn set_rate_limit(State(app): AppState, body: Bytes) -> Response {
    let obj = match parse_object(&body) {
        Ok(o) => o,
        Err(msg) => return error(StatusCode::BAD_REQUEST, &msg),
    };
    let mut rpm = None;
    let mut retry = None;
    for (key, v) in &obj {
        match key.as_str() {
            "requests_per_minute" => match v.as_u64().and_then(|n| u32::try_from(n).ok()) {
                Some(n) => rpm = Some(n),
                None => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "requests_per_minute must be a whole number (0 turns the limit off)",
                    );
                }
            },
            "retry_after" => match v.as_bool() {
                Some(b) => retry = Some(b),
                None => return error(StatusCode::BAD_REQUEST, "retry_after must be true or false"),
            },
            other => {
                return error(
                    StatusCode::BAD_REQUEST,
                    &format!("unknown setting {other:?}; known: requests_per_minute, retry_after"),
                );
            }
        }
    }
    if let Some(n) = rpm {
        app.sim.set_requests_per_minute(n);
    }
    if let Some(b) = retry {
        app.sim.set_retry_after(b);
    }
    reply(StatusCode::OK, &limiter_settings(&app))
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
    asset_type: Option<String>,
    asset_serial: Option<Option<String>>,
    properties: Option<Value>,
    customer_id: Option<i64>,
    contact_id: Option<Option<i64>>,
    external_rmm_link: Option<Option<String>>,
    has_live_chat: Option<bool>,
    snmp_enabled: Option<Option<bool>>,
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
            let nullable_string = || match &v {
                Value::Null => Ok(None),
                Value::String(s) => Ok(Some(s.clone())),
                _ => Err(format!("{key} must be a string or null")),
            };
            match key.as_str() {
                "name" => p.name = Some(string()?),
                "asset_type" => {
                    let t = string()?;
                    if t.trim().is_empty() {
                        // Syncro's own 422 text for this.
                        return Err("Asset type can't be blank".to_owned());
                    }
                    p.asset_type = Some(t);
                }
                "asset_serial" => p.asset_serial = Some(nullable_string()?),
                "external_rmm_link" => p.external_rmm_link = Some(nullable_string()?),
                "properties" => {
                    if !v.is_object() {
                        return Err("properties must be a JSON object".to_owned());
                    }
                    p.properties = Some(v.clone());
                }
                "customer_id" => {
                    p.customer_id = Some(v.as_i64().ok_or("customer_id must be an integer")?)
                }
                "contact_id" => {
                    p.contact_id = Some(match &v {
                        Value::Null => None,
                        _ => Some(v.as_i64().ok_or("contact_id must be an integer or null")?),
                    })
                }
                "has_live_chat" => {
                    p.has_live_chat =
                        Some(v.as_bool().ok_or("has_live_chat must be true or false")?)
                }
                "snmp_enabled" => {
                    p.snmp_enabled = Some(match &v {
                        Value::Null => None,
                        _ => Some(
                            v.as_bool()
                                .ok_or("snmp_enabled must be true, false or null")?,
                        ),
                    })
                }
                other => {
                    return Err(format!(
                        "unknown field {other:?}; known: name, asset_type, asset_serial, \
                         properties, customer_id, contact_id, external_rmm_link, has_live_chat, \
                         snmp_enabled"
                    ));
                }
            }
        }
        Ok(p)
    }

    fn apply(self, a: &mut SimAsset) {
        fn set<T>(slot: &mut T, v: Option<T>) {
            if let Some(v) = v {
                *slot = v;
            }
        }
        set(&mut a.name, self.name);
        set(&mut a.asset_type, self.asset_type);
        set(&mut a.asset_serial, self.asset_serial);
        set(&mut a.properties, self.properties);
        set(&mut a.customer_id, self.customer_id);
        set(&mut a.contact_id, self.contact_id);
        set(&mut a.external_rmm_link, self.external_rmm_link);
        set(&mut a.has_live_chat, self.has_live_chat);
        set(&mut a.snmp_enabled, self.snmp_enabled);
    }
}
