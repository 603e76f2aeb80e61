//! Passportal's JSON documents, written from the simulator's data with borrowed `Serialize`
//! views. Key order follows the verbatim samples in the research notes (a list item as a live
//! tenant returned it, the observed `details` layout, the documented token and error bodies).
//! These types describe what the simulator *sends*; the connector reads the same documents
//! through its own types.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use super::SimAssetDoc;
use super::catalog::{self, Template};
use super::seed::OtherDoc;

/// Passportal's `last_modified` format: ISO 8601, whole seconds, `Z`.
#[derive(Clone, Copy)]
pub struct Ts(pub DateTime<Utc>);

impl fmt::Display for Ts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%dT%H:%M:%SZ"))
    }
}

impl Serialize for Ts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A `success` value: Passportal sends both `true`/`false` and `"true"`/`"false"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Success {
    Bool(bool),
    Text(bool),
}

impl Success {
    pub fn json(self) -> &'static str {
        match self {
            Success::Bool(true) => "true",
            Success::Bool(false) => "false",
            Success::Text(true) => "\"true\"",
            Success::Text(false) => "\"false\"",
        }
    }
}

/// A list item of `/api/v2/documents` (the live sample's fields, in its order).
#[derive(Serialize)]
pub struct ListItem<'a> {
    pub id: i64,
    pub organization_id: i64,
    pub label: &'a str,
    pub description: &'a str,
    pub client_id: i64,
    #[serde(rename = "clientName")]
    pub client_name: &'a str,
    #[serde(rename = "customId")]
    pub custom_id: &'a str,
    #[serde(rename = "templateId")]
    pub template_id: i64,
    #[serde(rename = "templateName")]
    pub template_name: &'a str,
    #[serde(rename = "type")]
    pub doc_type: &'a str,
    pub accessible: bool,
    pub last_modified: Ts,
}

/// A client of `/api/v2/documents/clients`: only `id` and `name` are known to exist.
#[derive(Serialize)]
pub struct ClientItem<'a> {
    pub id: i64,
    pub name: &'a str,
}

/// A plain field value: `{"type":"string","text":…}`.
#[derive(Serialize)]
struct Scalar<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    text: &'a str,
}

/// A reference to another document: `{"text":…,"id":…,"type":"vendors"}`.
#[derive(Serialize, Clone, Copy)]
struct Reference<'a> {
    text: &'a str,
    id: i64,
    #[serde(rename = "type")]
    kind: &'static str,
}

/// One numbered entry of `details` when it has a value.
#[derive(Serialize)]
struct ScalarField<'a> {
    name: &'a str,
    description: Option<&'a str>,
    value: Scalar<'a>,
}

#[derive(Serialize)]
struct ReferenceField<'a> {
    name: &'a str,
    description: Option<&'a str>,
    value: Reference<'a>,
    attribute: [Reference<'a>; 1],
}

/// Finds the id of the document a reference field names.
pub trait Resolve {
    /// `kind` is the reference type (`vendors`, `locations`, `contacts`).
    fn reference(&self, client_id: i64, kind: &str, title: &str) -> Option<i64>;
}

/// An asset document's `details`: `name` (the title), `tags`, then `"0"`…`"34"` in template
/// order, each `null` or a field object.
pub struct AssetDetails<'a, R: Resolve> {
    pub doc: &'a SimAssetDoc,
    pub refs: &'a R,
}

impl SimAssetDoc {
    /// The value of the asset template's field `index` (see `catalog::ASSET_FIELDS`).
    pub fn field(&self, index: usize) -> Option<&str> {
        let v = match index {
            0 => return Some(&self.label),
            1 => &self.asset_type,
            2 => &self.status,
            3 => &self.asset_tag,
            4 => &self.hostname,
            5 => &self.assigned_user,
            6 => &self.location,
            7 => &self.model,
            8 => &self.serial,
            9 => &self.purchased_by,
            10 => &self.manufacturer,
            11 => &self.purchase_date,
            12 => &self.platform,
            13 => &self.primary_ip,
            14 => &self.secondary_ip,
            15 => &self.default_gateway,
            16 => &self.mac_address,
            17 => &self.operating_system,
            18 => &self.os_notes,
            19 => &self.firmware_version,
            20 => &self.processor,
            21 => &self.memory,
            22 => &self.storage,
            23 => &self.domain,
            24 => &self.portal_url,
            25 => &self.remote_launch_url,
            26 => &self.integration_type,
            27 => &self.rmm_id,
            28 => &self.last_logged_in_user,
            29 => &self.install_date,
            30 => &self.installed_by,
            31 => &self.expiration_date,
            32 => &self.antivirus,
            33 => &self.support_contract,
            34 => &self.notes,
            _ => return None,
        };
        v.as_deref()
    }

    /// The field a `/_sim/` patch names (the struct's own field names), for setting it.
    pub fn text_field_mut(&mut self, key: &str) -> Option<&mut Option<String>> {
        Some(match key {
            "asset_type" => &mut self.asset_type,
            "status" => &mut self.status,
            "asset_tag" => &mut self.asset_tag,
            "hostname" => &mut self.hostname,
            "assigned_user" => &mut self.assigned_user,
            "location" => &mut self.location,
            "model" => &mut self.model,
            "serial" => &mut self.serial,
            "purchased_by" => &mut self.purchased_by,
            "manufacturer" => &mut self.manufacturer,
            "purchase_date" => &mut self.purchase_date,
            "platform" => &mut self.platform,
            "primary_ip" => &mut self.primary_ip,
            "secondary_ip" => &mut self.secondary_ip,
            "default_gateway" => &mut self.default_gateway,
            "mac_address" => &mut self.mac_address,
            "operating_system" => &mut self.operating_system,
            "os_notes" => &mut self.os_notes,
            "firmware_version" => &mut self.firmware_version,
            "processor" => &mut self.processor,
            "memory" => &mut self.memory,
            "storage" => &mut self.storage,
            "domain" => &mut self.domain,
            "portal_url" => &mut self.portal_url,
            "remote_launch_url" => &mut self.remote_launch_url,
            "integration_type" => &mut self.integration_type,
            "rmm_id" => &mut self.rmm_id,
            "last_logged_in_user" => &mut self.last_logged_in_user,
            "install_date" => &mut self.install_date,
            "installed_by" => &mut self.installed_by,
            "expiration_date" => &mut self.expiration_date,
            "antivirus" => &mut self.antivirus,
            "support_contract" => &mut self.support_contract,
            "notes" => &mut self.notes,
            _ => return None,
        })
    }
}

/// The names [`SimAssetDoc::text_field_mut`] knows, for error messages.
pub const TEXT_FIELDS: &str = "asset_type, status, asset_tag, hostname, assigned_user, location, \
     model, serial, purchased_by, manufacturer, purchase_date, platform, primary_ip, \
     secondary_ip, default_gateway, mac_address, operating_system, os_notes, firmware_version, \
     processor, memory, storage, domain, portal_url, remote_launch_url, integration_type, rmm_id, \
     last_logged_in_user, install_date, installed_by, expiration_date, antivirus, \
     support_contract, notes";

/// Serializes `"tags": []`.
struct NoTags;

impl Serialize for NoTags {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_seq(Some(0))?.end()
    }
}

impl<R: Resolve> Serialize for AssetDetails<'_, R> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.doc;
        let mut map = s.serialize_map(Some(catalog::ASSET_FIELDS.len() + 2))?;
        map.serialize_entry("name", &d.label)?;
        map.serialize_entry("tags", &NoTags)?;
        for (i, label) in catalog::ASSET_FIELDS.iter().enumerate() {
            let key = i.to_string();
            let Some(text) = d.field(i) else {
                map.serialize_entry(&key, &())?;
                continue;
            };
            let description = if catalog::INTEGRATION_FIELDS.contains(&i) {
                None
            } else {
                Some("")
            };
            let reference = catalog::REFERENCE_FIELDS
                .iter()
                .find(|(at, _)| *at == i)
                .and_then(|(_, kind)| {
                    let id = self.refs.reference(d.client_id, kind, text)?;
                    Some(Reference { text, id, kind })
                });
            match reference {
                Some(r) => map.serialize_entry(
                    &key,
                    &ReferenceField {
                        name: label,
                        description,
                        value: r,
                        attribute: [r],
                    },
                )?,
                // Also a reference field whose target does not exist (a test named a new
                // manufacturer): Passportal would show the bare text.
                None => map.serialize_entry(
                    &key,
                    &ScalarField {
                        name: label,
                        description,
                        value: Scalar {
                            kind: "string",
                            text,
                        },
                    },
                )?,
            }
        }
        map.end()
    }
}

/// A location, contact or vendor document's `details`, in the same layout.
pub struct OtherDetails<'a>(pub &'a OtherDoc);

impl Serialize for OtherDetails<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.0;
        let t: &Template = d.template;
        let mut map = s.serialize_map(Some(t.fields.len() + 2))?;
        map.serialize_entry("name", &d.label)?;
        map.serialize_entry("tags", &NoTags)?;
        for (i, label) in t.fields.iter().enumerate() {
            let key = i.to_string();
            match d.values.get(i).and_then(Option::as_deref) {
                Some(text) => map.serialize_entry(
                    &key,
                    &ScalarField {
                        name: label,
                        description: Some(""),
                        value: Scalar {
                            kind: "string",
                            text,
                        },
                    },
                )?,
                None => map.serialize_entry(&key, &())?,
            }
        }
        map.end()
    }
}

/// `{"success":…,"apiRequestUid":"…","results":[<items>]}` (or `"results":null`) from
/// already-rendered items.
pub fn list_document<'s>(
    success: Success,
    request_uid: &str,
    items: Option<impl Iterator<Item = &'s str>>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 * 1024);
    out.extend_from_slice(b"{\"success\":");
    out.extend_from_slice(success.json().as_bytes());
    out.extend_from_slice(b",\"apiRequestUid\":");
    push_json_str(&mut out, request_uid);
    out.extend_from_slice(b",\"results\":");
    match items {
        None => out.extend_from_slice(b"null"),
        Some(items) => {
            out.push(b'[');
            for (i, item) in items.enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(item.as_bytes());
            }
            out.push(b']');
        }
    }
    out.push(b'}');
    out
}

/// `{"success":…,"templateUid":"tpl-N","id":N,"details":<details>,"apiRequestUid":"…"}`.
pub fn detail_document(
    success: Success,
    template_id: i64,
    id: i64,
    details: &str,
    request_uid: &str,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(details.len() + 128);
    out.extend_from_slice(b"{\"success\":");
    out.extend_from_slice(success.json().as_bytes());
    out.extend_from_slice(
        format!(",\"templateUid\":\"tpl-{template_id}\",\"id\":{id},\"details\":").as_bytes(),
    );
    out.extend_from_slice(details.as_bytes());
    out.extend_from_slice(b",\"apiRequestUid\":");
    push_json_str(&mut out, request_uid);
    out.push(b'}');
    out
}

/// The token response, in the documented sample's key order.
pub fn token_document(
    success: Success,
    access_token: &str,
    refresh_token: &str,
    expiry: i64,
    expiry_as_string: bool,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(access_token.len() + 160);
    out.extend_from_slice(b"{\"success\":");
    out.extend_from_slice(success.json().as_bytes());
    out.extend_from_slice(b",\"access_token\":");
    push_json_str(&mut out, access_token);
    out.extend_from_slice(b",\"refresh_token\":");
    push_json_str(&mut out, refresh_token);
    if expiry_as_string {
        out.extend_from_slice(format!(",\"expiry_time\":\"{expiry}\"}}").as_bytes());
    } else {
        out.extend_from_slice(format!(",\"expiry_time\":{expiry}}}").as_bytes());
    }
    out
}

/// Passportal's error envelope. The documented 400 example puts `code` and `status` before
/// `message`; every other example puts `message` first. Both orders are kept.
pub fn error_document(success: Success, code: i64, status: u16, message: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 64);
    out.extend_from_slice(b"{\"success\":");
    out.extend_from_slice(success.json().as_bytes());
    if status == 400 {
        out.extend_from_slice(
            format!(",\"code\":{code},\"status\":{status},\"message\":").as_bytes(),
        );
        push_json_str(&mut out, message);
    } else {
        out.extend_from_slice(b",\"message\":");
        push_json_str(&mut out, message);
        out.extend_from_slice(format!(",\"code\":{code},\"status\":{status}").as_bytes());
    }
    out.push(b'}');
    out
}

fn push_json_str(out: &mut Vec<u8>, s: &str) {
    // Serializing a string into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::{Value, json};

    #[test]
    fn timestamps_are_whole_seconds_with_z() {
        let t = Utc
            .with_ymd_and_hms(2025, 8, 1, 18, 42, 18)
            .single()
            .expect("valid");
        assert_eq!(Ts(t).to_string(), "2025-08-01T18:42:18Z");
    }

    #[test]
    fn envelopes_are_json_in_the_documented_order() {
        let e = error_document(Success::Bool(false), 0, 400, "invalid id");
        assert_eq!(
            String::from_utf8_lossy(&e),
            r#"{"success":false,"code":0,"status":400,"message":"invalid id"}"#
        );
        let e = error_document(Success::Text(false), 1006, 401, "Invalid token: \"x\"");
        let v: Value = serde_json::from_slice(&e).expect("json");
        assert_eq!(
            v,
            json!({"success":"false","message":"Invalid token: \"x\"","code":1006,"status":401})
        );
        let t = token_document(Success::Bool(true), "eyJ.a.b", "ab12", 1_634_808_171, false);
        assert_eq!(
            String::from_utf8_lossy(&t),
            r#"{"success":true,"access_token":"eyJ.a.b","refresh_token":"ab12","expiry_time":1634808171}"#
        );
        let t = token_document(Success::Bool(true), "eyJ.a.b", "ab12", 1_634_808_171, true);
        let v: Value = serde_json::from_slice(&t).expect("json");
        assert_eq!(v["expiry_time"], "1634808171");
        let l = list_document(Success::Text(true), "1-2", Some(["{\"id\":1}"].into_iter()));
        let v: Value = serde_json::from_slice(&l).expect("json");
        assert_eq!(
            v,
            json!({"success":"true","apiRequestUid":"1-2","results":[{"id":1}]})
        );
        let l = list_document(Success::Bool(true), "1-3", None::<std::iter::Empty<&str>>);
        let v: Value = serde_json::from_slice(&l).expect("json");
        assert_eq!(v["results"], Value::Null);
        let d = detail_document(Success::Bool(true), 79, 5, "{\"name\":\"x\"}", "1-4");
        let v: Value = serde_json::from_slice(&d).expect("json");
        assert_eq!(
            v,
            json!({"success":true,"templateUid":"tpl-79","id":5,"details":{"name":"x"},"apiRequestUid":"1-4"})
        );
    }
}
