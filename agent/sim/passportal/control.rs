//! The simulator's own control surface under `/_sim/` (not part of Passportal): the mutation,
//! credential, quirk and fault API of [`PassportalSim`] as JSON over HTTP, for tools and tests
//! outside the process (`assetd sim passportal` users, the Python tests). No auth and not
//! counted: it is meant for loopback use only.
//!
//! | method & path | body | answer |
//! |---|---|---|
//! | `GET /_sim/state` | | counts, request, exchange and `detail_requests` totals, token lifetime, quirks, `inaccessible_documents`, `vanishing_documents`, `clock_skew_seconds`, `new_token_revokes_old`, pending faults |
//! | `GET /_sim/clients` | | every client's ground truth (encoded and decoded name, shared name) |
//! | `POST /_sim/clients` | `{"name": "Smith & Sons"}` (plain, not encoded) | 201 `{"id": …, "client": …}` |
//! | `GET /_sim/assets` | | every asset document's ground truth |
//! | `GET /_sim/assets/{id}` | | one asset document's ground truth |
//! | `POST /_sim/assets` | `{"client_id": 41600123}` | 201 `{"id": …, "asset": …}` |
//! | `PATCH /_sim/assets/{id}` | fields, e.g. `{"serial":"X1","model":null,"label":"y"}` | the asset |
//! | `DELETE /_sim/assets/{id}` | | 204 |
//! | `POST /_sim/rotate-secret` | | `{"secret_access_key": …}` |
//! | `POST /_sim/expire-tokens` | | 204 |
//! | `GET`/`PUT /_sim/token-ttl` | `{"seconds": 5}` | `{"seconds": …}` |
//! | `GET`/`PUT /_sim/quirks` | any of `{"auth_failure","expiry_time","success","past_end","page_offset","token_refusal"}` | the quirks |
//! | `PUT /_sim/documents/{id}/accessible` | `{"accessible": false}` | 204; listed with `"accessible": false`, detail 403 "not found." |
//! | `POST /_sim/documents/{id}/vanish-after-listing` | | 204; deleted once a list page carrying it is served |
//! | `GET`/`PUT /_sim/clock` | `{"skew_seconds": -600}` (may be fractional) | `{"skew_seconds": …, "now": …}` |
//! | `GET`/`PUT /_sim/new-token-revokes-old` | `{"on": true}` | `{"on": …}` |
//! | `GET`/`POST`/`DELETE /_sim/faults` | a `FaultRule` for POST | the rules / 201 / 204 |
//!
//! One failing list page is a fault rule with a query fragment, e.g. `POST /_sim/faults` with
//! `{"fault": {"kind": "error_status", "status": 404, "message": "pageNum needs to be an integer
//! between 1 and 9999."}, "path_prefix": "/api/v2/documents", "query_contains": "pageNum=2&",
//! "times": 1}` (or `{"kind": "success_false", "message": "…"}`, `{"kind": "server_error"}`).
//!
//! A body that is not the JSON object described gets 400 with `{"error": …}`.

use crate::sim::control::{self, error, no_content, parse_object, reply};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post, put};
use serde_json::{Map, Value, json};

use super::api::App;
use super::render::TEXT_FIELDS;
use super::{Quirks, SimAssetDoc};

type AppState = State<Arc<App>>;

pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/state", get(state))
        .route("/clients", get(clients).post(add_client))
        .route("/assets", get(list_assets).post(add_asset))
        .route(
            "/assets/{id}",
            get(get_asset).patch(patch_asset).delete(delete_asset),
        )
        .route("/rotate-secret", post(rotate_secret))
        .route("/expire-tokens", post(expire_tokens))
        .route("/token-ttl", get(token_ttl).put(set_token_ttl))
        .route("/quirks", get(quirks).put(set_quirks))
        .route("/documents/{id}/accessible", put(set_accessible))
        .route(
            "/documents/{id}/vanish-after-listing",
            post(vanish_after_listing),
        )
        .route("/clock", get(clock).put(set_clock))
        .route(
            "/new-token-revokes-old",
            get(revokes_old).put(set_revokes_old),
        )
        .route(
            "/faults",
            get(list_faults).post(push_fault).delete(clear_faults),
        )
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such control endpoint") })
}

fn asset_json(a: &SimAssetDoc) -> Value {
    serde_json::to_value(a).unwrap_or(Value::Null)
}

async fn state(State(app): AppState) -> Response {
    let sim = &app.sim;
    let (clients, assets, documents) = {
        let store = sim.store();
        (
            store.clients().count(),
            store.asset_count(),
            store.document_count(),
        )
    };
    reply(
        StatusCode::OK,
        &json!({
            "vendor": "passportal",
            "base_url": &*app.base_url,
            "organization_id": sim.organization_id(),
            "access_key_id": sim.access_key_id(),
            "clients": clients,
            "assets": assets,
            "documents": documents,
            "requests": sim.request_count(),
            "token_exchanges": sim.token_exchanges(),
            "rejected_token_exchanges": sim.rejected_token_exchanges(),
            "token_ttl_seconds": sim.token_ttl().as_secs_f64(),
            "page_size_cap": sim.page_size_cap(),
            "quirks": sim.quirks(),
            "detail_requests": sim.detail_requests(),
            "inaccessible_documents": sim.inaccessible_documents(),
            "vanishing_documents": sim.vanishing_documents(),
            "clock_skew_seconds": sim.clock_skew().num_milliseconds() as f64 / 1000.0,
            "new_token_revokes_old": sim.new_token_revokes_old(),
            "faults": sim.faults().rules(),
        }),
    )
}

async fn clients(State(app): AppState) -> Response {
    let list = serde_json::to_value(app.sim.clients()).unwrap_or(Value::Null);
    reply(StatusCode::OK, &list)
}

async fn add_client(State(app): AppState, body: Bytes) -> Response {
    let obj = match parse_object(&body) {
        Ok(o) => o,
        Err(msg) => return error(StatusCode::BAD_REQUEST, &msg),
    };
    // Passportal's form requires a client name.
    let Some(name) = obj
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.trim().is_empty())
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "body needs \"name\" (a non-blank string, not HTML-encoded)",
        );
    };
    let id = app.sim.add_client(name);
    let client = app.sim.store().client(id).map_or(Value::Null, |c| {
        serde_json::to_value(c).unwrap_or(Value::Null)
    });
    reply(StatusCode::CREATED, &json!({ "id": id, "client": client }))
}

async fn list_assets(State(app): AppState) -> Response {
    let list = serde_json::to_value(app.sim.assets()).unwrap_or(Value::Null);
    reply(StatusCode::OK, &list)
}

async fn get_asset(State(app): AppState, Path(id): Path<String>) -> Response {
    match id.parse::<i64>().ok().and_then(|id| app.sim.asset(id)) {
        Some(a) => reply(StatusCode::OK, &asset_json(&a)),
        None => error(StatusCode::NOT_FOUND, "no such asset"),
    }
}

async fn add_asset(State(app): AppState, body: Bytes) -> Response {
    let obj = match parse_object(&body) {
        Ok(o) => o,
        Err(msg) => return error(StatusCode::BAD_REQUEST, &msg),
    };
    let Some(client) = obj.get("client_id").and_then(Value::as_i64) else {
        return error(
            StatusCode::BAD_REQUEST,
            "body needs \"client_id\" (an integer)",
        );
    };
    match app.sim.add_asset(client) {
        Some(id) => {
            let asset = app.sim.asset(id).as_ref().map_or(Value::Null, asset_json);
            reply(StatusCode::CREATED, &json!({ "id": id, "asset": asset }))
        }
        None => error(StatusCode::NOT_FOUND, "no such client"),
    }
}

/// A validated PATCH: every field checked before anything changes.
struct Patch {
    label: Option<String>,
    description: Option<String>,
    custom_id: Option<String>,
    client_id: Option<i64>,
    fields: Vec<(String, Option<String>)>,
}

impl Patch {
    fn parse(obj: Map<String, Value>) -> Result<Self, String> {
        let mut p = Patch {
            label: None,
            description: None,
            custom_id: None,
            client_id: None,
            fields: Vec::new(),
        };
        // A throwaway asset answers which names are text fields.
        let mut probe = SimAssetDoc::default();
        for (key, v) in obj {
            let string = || {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or(format!("{key} must be a string"))
            };
            match key.as_str() {
                "label" => p.label = Some(string()?),
                "description" => p.description = Some(string()?),
                "custom_id" => p.custom_id = Some(string()?),
                "client_id" => {
                    p.client_id = Some(v.as_i64().ok_or("client_id must be an integer")?)
                }
                k if probe.text_field_mut(k).is_some() => {
                    let value = match &v {
                        Value::Null => None,
                        Value::String(s) => Some(s.clone()),
                        _ => return Err(format!("{key} must be a string or null")),
                    };
                    p.fields.push((key, value));
                }
                other => {
                    return Err(format!(
                        "unknown field {other:?}; known: label, description, custom_id, \
                         client_id, {TEXT_FIELDS}"
                    ));
                }
            }
        }
        Ok(p)
    }

    fn apply(self, a: &mut SimAssetDoc) {
        if let Some(v) = self.label {
            a.label = v;
        }
        if let Some(v) = self.description {
            a.description = v;
        }
        if let Some(v) = self.custom_id {
            a.custom_id = v;
        }
        if let Some(v) = self.client_id {
            a.client_id = v;
        }
        for (k, v) in self.fields {
            if let Some(slot) = a.text_field_mut(&k) {
                *slot = v;
            }
        }
    }
}

async fn patch_asset(State(app): AppState, Path(id): Path<String>, body: Bytes) -> Response {
    let Ok(id) = id.parse::<i64>() else {
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
    if let Some(c) = patch.client_id
        && app.sim.store().client(c).is_none()
    {
        return error(StatusCode::BAD_REQUEST, "client_id names no client");
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
    if id.parse::<i64>().is_ok_and(|id| app.sim.remove_asset(id)) {
        no_content()
    } else {
        error(StatusCode::NOT_FOUND, "no such asset")
    }
}

async fn rotate_secret(State(app): AppState) -> Response {
    reply(
        StatusCode::OK,
        &json!({ "secret_access_key": app.sim.rotate_secret() }),
    )
}

async fn expire_tokens(State(app): AppState) -> Response {
    app.sim.expire_tokens();
    no_content()
}

fn ttl_json(app: &App) -> Value {
    json!({ "seconds": app.sim.token_ttl().as_secs_f64() })
}

async fn token_ttl(State(app): AppState) -> Response {
    reply(StatusCode::OK, &ttl_json(&app))
}

async fn set_token_ttl(State(app): AppState, body: Bytes) -> Response {
    let obj = match parse_object(&body) {
        Ok(o) => o,
        Err(msg) => return error(StatusCode::BAD_REQUEST, &msg),
    };
    let secs = obj
        .get("seconds")
        .and_then(Value::as_f64)
        .filter(|s| s.is_finite() && *s >= 0.0 && *s < 1e9);
    let Some(secs) = secs else {
        return error(
            StatusCode::BAD_REQUEST,
            "body needs \"seconds\" (a number, 0 or more)",
        );
    };
    app.sim.set_token_ttl(Duration::from_secs_f64(secs));
    reply(StatusCode::OK, &ttl_json(&app))
}

async fn quirks(State(app): AppState) -> Response {
    reply(StatusCode::OK, &json!(app.sim.quirks()))
}

/// Sets the named quirks; the others keep their current values.
async fn set_quirks(State(app): AppState, body: Bytes) -> Response {
    let obj = match parse_object(&body) {
        Ok(o) => o,
        Err(msg) => return error(StatusCode::BAD_REQUEST, &msg),
    };
    let mut merged = match serde_json::to_value(app.sim.quirks()) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    merged.extend(obj);
    match serde_json::from_value::<Quirks>(Value::Object(merged)) {
        Ok(q) => {
            app.sim.set_quirks(q);
            reply(StatusCode::OK, &json!(q))
        }
        Err(e) => error(
            StatusCode::BAD_REQUEST,
            &format!("not a quirk setting: {e}"),
        ),
    }
}

async fn set_accessible(State(app): AppState, Path(id): Path<String>, body: Bytes) -> Response {
    let accessible = match parse_object(&body).and_then(|o| {
        o.get("accessible")
            .and_then(Value::as_bool)
            .ok_or_else(|| "body needs \"accessible\" (true or false)".to_owned())
    }) {
        Ok(a) => a,
        Err(msg) => return error(StatusCode::BAD_REQUEST, &msg),
    };
    if id
        .parse::<i64>()
        .is_ok_and(|id| app.sim.set_accessible(id, accessible))
    {
        no_content()
    } else {
        error(StatusCode::NOT_FOUND, "no such document")
    }
}

async fn vanish_after_listing(State(app): AppState, Path(id): Path<String>) -> Response {
    if id
        .parse::<i64>()
        .is_ok_and(|id| app.sim.vanish_after_listing(id))
    {
        no_content()
    } else {
        error(StatusCode::NOT_FOUND, "no such document")
    }
}

fn clock_json(app: &App) -> Value {
    json!({
        "skew_seconds": app.sim.clock_skew().num_milliseconds() as f64 / 1000.0,
        "now": app.sim.now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    })
}

async fn clock(State(app): AppState) -> Response {
    reply(StatusCode::OK, &clock_json(&app))
}

async fn set_clock(State(app): AppState, body: Bytes) -> Response {
    match control::skew_from_body(&body) {
        Ok(skew) => {
            app.sim.set_clock_skew(skew);
            reply(StatusCode::OK, &clock_json(&app))
        }
        Err(msg) => error(StatusCode::BAD_REQUEST, &msg),
    }
}

async fn revokes_old(State(app): AppState) -> Response {
    reply(
        StatusCode::OK,
        &json!({ "on": app.sim.new_token_revokes_old() }),
    )
}

async fn set_revokes_old(State(app): AppState, body: Bytes) -> Response {
    let on = parse_object(&body).and_then(|o| {
        o.get("on")
            .and_then(Value::as_bool)
            .ok_or_else(|| "body needs \"on\" (true or false)".to_owned())
    });
    match on {
        Ok(on) => {
            app.sim.set_new_token_revokes_old(on);
            reply(
                StatusCode::OK,
                &json!({ "on": app.sim.new_token_revokes_old() }),
            )
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
