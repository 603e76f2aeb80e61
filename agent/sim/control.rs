//! What every simulator's `/_sim/` control surface shares: JSON replies, body parsing and
//! the fault-plan endpoints. Each simulator adds its own data endpoints around these.

use super::faults::{FaultPlan, FaultRule};
use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Map, Value, json};

pub fn reply(status: StatusCode, body: &Value) -> Response {
    let mut resp = Response::new(Body::from(body.to_string()));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

pub fn error(status: StatusCode, msg: &str) -> Response {
    reply(status, &json!({ "error": msg }))
}

pub fn no_content() -> Response {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::NO_CONTENT;
    resp
}

pub fn parse_object(body: &Bytes) -> Result<Map<String, Value>, String> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err("body must be a JSON object".to_owned()),
        Err(e) => Err(format!("body is not JSON: {e}")),
    }
}

/// A clock skew from `{"skew_seconds": <number>}` (may be negative or fractional; at most ten
/// years either way), or why the body is bad (answered 400).
pub fn skew_from_body(body: &Bytes) -> Result<chrono::Duration, String> {
    const TEN_YEARS: f64 = 10.0 * 366.0 * 86_400.0;
    let secs = parse_object(body)?
        .get("skew_seconds")
        .and_then(Value::as_f64)
        .filter(|s| s.is_finite() && s.abs() <= TEN_YEARS)
        .ok_or_else(|| "body needs \"skew_seconds\" (a number of seconds)".to_owned())?;
    // Within ±10 years the milliseconds fit an i64 with room to spare.
    Ok(chrono::Duration::milliseconds(
        (secs * 1000.0).round() as i64
    ))
}

/// `GET /_sim/faults`: the rules in force.
pub fn list_faults(plan: &FaultPlan) -> Response {
    reply(StatusCode::OK, &json!(plan.rules()))
}

/// `POST /_sim/faults`: adds a rule (a `FaultRule` as JSON).
pub fn push_fault(plan: &FaultPlan, body: &Bytes) -> Response {
    match serde_json::from_slice::<FaultRule>(body) {
        Ok(rule) => {
            plan.push(rule);
            reply(StatusCode::CREATED, &json!(plan.rules()))
        }
        Err(e) => error(StatusCode::BAD_REQUEST, &format!("not a fault rule: {e}")),
    }
}

/// `DELETE /_sim/faults`: clears every rule.
pub fn clear_faults(plan: &FaultPlan) -> Response {
    plan.clear();
    no_content()
}
