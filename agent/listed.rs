//! An asset's *list fields* in their encoded form: what the store keeps in `assets.listed`
//! and what ListAssets copies into each page without decoding it.
//!
//! The form is the API's own: `Asset` fields 6 (name) to 17 (managed) of
//! `proto/assetd/v1/assetd.proto`, protobuf-encoded as prost encodes them. They are one
//! contiguous run of field numbers, so an asset's encoding stays in field order, byte for
//! byte what prost writes. It lives here, below both the store (which writes it) and the
//! API (which sends it), so neither depends on the other; `api::wire`'s tests hold the bytes
//! equal to prost's encoding of `api::rpc::asset_to_proto`, so a field or number that
//! drifts from the proto fails them.

use crate::model::Category;
use prost::encoding::{self, WireType};

/// `Asset`'s field numbers 6-17 in `assetd.proto`.
mod tag {
    pub const NAME: u32 = 6;
    pub const CATEGORY: u32 = 7;
    pub const VENDOR_TYPE: u32 = 8;
    pub const MANUFACTURER: u32 = 9;
    pub const MODEL: u32 = 10;
    pub const SERIAL: u32 = 11;
    pub const MAC_ADDRESSES: u32 = 12;
    pub const IP_ADDRESSES: u32 = 13;
    pub const OS: u32 = 14;
    pub const FIRMWARE: u32 = 15;
    pub const ONLINE_STATUS: u32 = 16;
    pub const MANAGED: u32 = 17;
}

/// The list fields of one asset, borrowed from wherever they are.
pub struct ListedFields<'a> {
    pub name: &'a str,
    pub category: Option<Category>,
    pub vendor_type: &'a str,
    pub manufacturer: &'a str,
    pub model: &'a str,
    pub serial: &'a str,
    pub mac_addresses: &'a [std::borrow::Cow<'a, str>],
    pub ip_addresses: &'a [std::borrow::Cow<'a, str>],
    pub os: &'a str,
    pub firmware: &'a str,
    pub online_status: &'a str,
    pub managed: Option<bool>,
}

/// The value of `assetd.v1.Category` for `c` (the enum lists the categories in the order
/// of `Category::ALL`, from 1; 0 is `CATEGORY_UNSPECIFIED`).
pub fn category_number(c: Category) -> i32 {
    Category::ALL
        .iter()
        .position(|x| *x == c)
        .map_or(0, |i| i as i32 + 1)
}

/// Appends `f`'s encoding to `buf`: defaults left out (proto3), `managed` present when known.
pub fn encode(f: &ListedFields<'_>, buf: &mut Vec<u8>) {
    string(tag::NAME, f.name, buf);
    let category = category_number(f.category.unwrap_or(Category::Unknown));
    if category != 0 {
        encoding::int64::encode(tag::CATEGORY, &i64::from(category), buf);
    }
    string(tag::VENDOR_TYPE, f.vendor_type, buf);
    string(tag::MANUFACTURER, f.manufacturer, buf);
    string(tag::MODEL, f.model, buf);
    string(tag::SERIAL, f.serial, buf);
    // Repeated strings keep their empty items.
    for mac in f.mac_addresses {
        length_delimited(tag::MAC_ADDRESSES, mac.as_bytes(), buf);
    }
    for ip in f.ip_addresses {
        length_delimited(tag::IP_ADDRESSES, ip.as_bytes(), buf);
    }
    string(tag::OS, f.os, buf);
    string(tag::FIRMWARE, f.firmware, buf);
    string(tag::ONLINE_STATUS, f.online_status, buf);
    // `optional bool`: present when known, even when false.
    if let Some(managed) = f.managed {
        encoding::bool::encode(tag::MANAGED, &managed, buf);
    }
}

fn string(tag: u32, s: &str, buf: &mut Vec<u8>) {
    if !s.is_empty() {
        length_delimited(tag, s.as_bytes(), buf);
    }
}

fn length_delimited(tag: u32, bytes: &[u8], buf: &mut Vec<u8>) {
    encoding::encode_key(tag, WireType::LengthDelimited, buf);
    encoding::encode_varint(bytes.len() as u64, buf);
    buf.extend_from_slice(bytes);
}
