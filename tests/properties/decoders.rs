//! Every connector's decoders (`vendors::<vendor>::decoders`, the connector's own code on a
//! body) on arbitrary bytes, arbitrary JSON, JSON shaped like the vendors' pages with
//! arbitrary values in every field, hostile sizes (numbers past every integer and float,
//! long strings) and deep nesting: each answers with a value or an error, never a panic nor
//! a stack overflow. Well-formed pages keep what they promise (one record per listed
//! device or asset, ids unchanged; a warranty date read where the vendor wrote one in a
//! form assetd reads, never where it did not).

use crate::fixed;
use assetd::model::VendorDate;
use assetd::vendors::{Presence, auvik, passportal, syncro};
use chrono::NaiveDate;
use proptest::prelude::*;
use serde_json::Value;

/// Runs every decoder of every vendor on `body`: none may panic.
fn decode_everything(body: &str) {
    let _ = auvik::decoders::devices(body, "tenant-1");
    let _ = auvik::decoders::tenants(body, Some(body), Some(body));
    let _ = auvik::decoders::tenants(body, None, None);
    let _ = auvik::decoders::billing(body, NaiveDate::from_ymd_opt(2026, 11, 1).unwrap());
    let _ = auvik::decoders::lifecycle(body, true);
    let _ = auvik::decoders::lifecycle(body, false);
    let _ = auvik::decoders::lookup(body, "1");
    let _ = auvik::decoders::error_detail(body);
    let _ = syncro::decoders::customers(body);
    let _ = syncro::decoders::assets(body);
    let _ = syncro::decoders::asset_dates(body, Some("Warranty Expires"), Some("purchased"));
    let _ = syncro::decoders::lookup(body);
    let _ = syncro::decoders::error_detail(body);
    let _ = passportal::decoders::list_page(body);
    let _ = passportal::decoders::clients(body);
    // A document is read for each item of a list page; any JSON may be either.
    let item: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let _ = passportal::decoders::document(&item, body);
    let _ = passportal::decoders::document_dates(&item, body);
    let _ = passportal::decoders::document(&serde_json::json!({"id": 7}), body);
    for item in passportal::decoders::list_page(body).unwrap_or_default() {
        let _ = passportal::decoders::document(&item, body);
        let _ = passportal::decoders::document_dates(&item, body);
        let _ = passportal::decoders::document(&item, DOCUMENT);
    }
}

/// A readable Passportal document, for the list items above.
const DOCUMENT: &str = r#"{"success":true,"details":{"1":{"name":"Type","value":{"text":"Firewall"}},"serial_number":"S1"}}"#;

/// The field names of the three vendors' answers: objects made of them meet the decoders'
/// wire types rather than being rejected at the first key.
const KEYS: &[&str] = &[
    // Auvik (JSON:API)
    "data",
    "links",
    "next",
    "included",
    "id",
    "type",
    "attributes",
    "relationships",
    "deviceName",
    "deviceType",
    "makeModel",
    "vendorName",
    "softwareVersion",
    "serialNumber",
    "firmwareVersion",
    "lastModified",
    "lastSeenTime",
    "onlineStatus",
    "ipAddresses",
    "tenant",
    "deviceDetail",
    "manageStatus",
    "interfaces",
    "macAddress",
    "domainPrefix",
    "tenantType",
    "displayName",
    "enabled",
    "running",
    "usagePeriod",
    "lengthInDays",
    "deviceUsage",
    "totalDays",
    "averageDays",
    "errors",
    "detail",
    "title",
    "device",
    "warrantyCoverageStatus",
    "warrantyExpirationDate",
    "lastSupportStatus",
    // Syncro
    "customers",
    "meta",
    "total_pages",
    "total_entries",
    "business_name",
    "firstname",
    "lastname",
    "fullname",
    "business_then_name",
    "disabled",
    "assets",
    "asset",
    "name",
    "customer_id",
    "asset_type",
    "asset_serial",
    "updated_at",
    "properties",
    "kabuto_information",
    "general",
    "form_factor",
    "os",
    "network_adapters",
    "physical_address",
    "ipv4",
    "MAC Address",
    "LAN IP(s)",
    "Warranty Expires",
    "error",
    "message",
    // Passportal
    "success",
    "results",
    "details",
    "client_id",
    "clientName",
    "label",
    "accessible",
    "last_modified",
    "templateName",
    "value",
    "text",
];

/// Numbers as JSON text, including those no integer or float holds.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| f.to_string()),
        prop::sample::select(vec![
            "0",
            "-0",
            "1e999",
            "-1e999",
            "1e-999",
            "18446744073709551616",
            "-9223372036854775809",
            "123456789012345678901234567890123456789",
            "0.30000000000000004",
            "2.5e+308",
            "4.9e-324",
            "1E400",
        ])
        .prop_map(str::to_string),
    ]
}

/// A JSON string literal of arbitrary text: control characters, surrogate escapes, HTML
/// entities, MAC- and date-looking text, and long strings.
fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "\\PC{0,40}".prop_map(|s| Value::String(s).to_string()),
        1 => prop::sample::select(vec![
            "\"\\ud800\"", "\"\\udfff\\ud800\"", "\"\\u0000\"", "\"&amp;&#x1F600;&#99999999;&\"",
            "\"&#xD800;\"", "\"00:1a:2b:3c:4d:5e\"", "\"00-00-00-00-00-00\"",
            "\"2026-11-01T00:00:00Z\"", "\"+275760-09-13T00:00:00Z\"", "\"Please Select\"",
            "\"true\"", "\"false\"", "\"not found.\"", "\"syncro device\"", "\"\"",
        ])
        .prop_map(str::to_string),
        1 => (0usize..4_000).prop_map(|n| format!("\"{}\"", "x".repeat(n))),
    ]
}

/// Arbitrary JSON text, objects keyed mostly by the vendors' field names.
fn json() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_string()),
        Just("true".to_string()),
        Just("false".to_string()),
        number(),
        string(),
    ];
    leaf.prop_recursive(5, 48, 6, |inner| {
        let key = prop_oneof![
            4 => prop::sample::select(KEYS).prop_map(|k| Value::String(k.into()).to_string()),
            1 => string(),
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec((key, inner), 0..8).prop_map(|kv| {
                let fields: Vec<String> = kv.into_iter().map(|(k, v)| format!("{k}:{v}")).collect();
                format!("{{{}}}", fields.join(","))
            }),
        ]
    })
}

/// What a field of a page holds: mostly text (most fields are text in the vendors' answers),
/// else a number, a literal or any JSON.
fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => string(),
        1 => number(),
        1 => prop::sample::select(vec!["null", "true", "false", "[]", "{}"]).prop_map(str::to_string),
        2 => json(),
    ]
}

/// `depth` arrays (or objects) nested, around `core`.
fn nested(depth: usize, objects: bool, core: &str) -> String {
    let (open, close) = if objects {
        ("{\"data\":", "}")
    } else {
        ("[", "]")
    };
    format!("{}{core}{}", open.repeat(depth), close.repeat(depth))
}

/// Bodies that put deep nesting where each decoder looks: the top, and inside a field each
/// reads (Auvik's `data` and `included`, Syncro's `properties`, Passportal's `results` and
/// `details`).
fn deep_bodies(depth: usize) -> Vec<String> {
    let deep = nested(depth, false, "1");
    let deep_obj = nested(depth, true, "1");
    vec![
        deep.clone(),
        deep_obj.clone(),
        format!("{{\"data\":{deep}}}"),
        format!("{{\"data\":[{{\"id\":\"d\",\"attributes\":{deep_obj}}}],\"included\":{deep}}}"),
        format!("{{\"customers\":[],\"assets\":[{{\"id\":1,\"properties\":{deep_obj}}}]}}"),
        format!("{{\"assets\":[{deep}]}}"),
        format!(
            "{{\"success\":true,\"results\":[{{\"id\":1,\"x\":{deep}}}],\"details\":{deep_obj}}}"
        ),
        format!("{{\"errors\":[{{\"detail\":{deep}}}],\"error\":{deep},\"message\":{deep}}}"),
        // Unclosed: the decoder must stop at the depth limit, not read to the end first.
        "[".repeat(depth),
        "{\"a\":".repeat(depth),
    ]
}

proptest! {
    #![proptest_config(fixed(128))]

    /// Bytes from anywhere (a proxy's HTML page, a truncated body, binary): never a panic.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        decode_everything(&String::from_utf8_lossy(&bytes));
    }

    /// Arbitrary JSON with the vendors' field names, hostile numbers and long strings.
    #[test]
    fn arbitrary_json_never_panics(body in json()) {
        decode_everything(&body);
    }

}

proptest! {
    #![proptest_config(fixed(64))]

    /// A well-formed Auvik device page keeps every device, with its id, whatever its
    /// attributes hold.
    #[test]
    fn auvik_pages_keep_every_device(
        ids in prop::collection::vec("\\PC{1,16}", 0..10),
        names in prop::collection::vec(prop::option::of("\\PC{0,40}"), 10),
        macs in prop::collection::vec("[0-9a-fA-F:.-]{0,20}", 10),
    ) {
        let data: Vec<Value> = ids.iter().enumerate().map(|(i, id)| serde_json::json!({
            "id": id,
            "attributes": {"deviceName": names[i], "deviceType": "firewall", "ipAddresses": [null, "10.0.0.1"]},
        })).collect();
        let included: Vec<Value> = ids.iter().enumerate().map(|(i, id)| serde_json::json!({
            "type": "deviceDetail", "id": id,
            "attributes": {"manageStatus": i % 2 == 0},
            "relationships": {"interfaces": {"data": [{"attributes": {"macAddress": macs[i]}}]}},
        })).collect();
        let body = serde_json::json!({"data": data, "included": included, "links": {"next": null}}).to_string();
        let page = auvik::decoders::devices(&body, "tenant-1").expect("a well-formed page decodes");
        prop_assert_eq!(page.records.len(), ids.len());
        for (r, id) in page.records.iter().zip(&ids) {
            prop_assert_eq!(&r.external_id, id);
            prop_assert!(r.mac_addresses.iter().all(|m| m.len() == 17), "{:?}", r.mac_addresses);
        }
        prop_assert_eq!(page.next, None);
    }

    /// A well-formed Auvik warranty page keeps one report per record, for its device, and
    /// reads a date exactly where the vendor wrote one in a form assetd reads (ISO, with or
    /// without a time, MM/DD/YYYY, DD.MM.YYYY); text without a digit is never a date.
    #[test]
    fn auvik_warranty_dates_are_read_where_written_and_never_invented(
        values in prop::collection::vec(prop_oneof![
            (0i32..=3, 1900i32..2200, 1u32..=12, 1u32..=28).prop_map(|(form, y, m, d)| {
                let text = match form {
                    0 => format!("{y:04}-{m:02}-{d:02}"),
                    1 => format!("{y:04}-{m:02}-{d:02}T00:00:00.000Z"),
                    2 => format!("{m}/{d}/{y}"),
                    _ => format!("{d:02}.{m:02}.{y}"),
                };
                (Value::String(text), NaiveDate::from_ymd_opt(y, m, d))
            }),
            "[A-Za-z /.:-]{0,20}".prop_map(|t| (Value::String(t), None)),
            Just((Value::Null, None)),
        ], 0..8),
    ) {
        let data: Vec<Value> = values.iter().enumerate().map(|(i, (v, _))| serde_json::json!({
            "type": "deviceWarranty", "id": format!("dev-{i}"),
            "attributes": {"deviceName": "d", "warrantyCoverageStatus": "Covered",
                "warrantyExpirationDate": v, "serviceCoverageStatus": "Covered",
                "recommendedSoftwareVersion": ""},
        })).collect();
        let body = serde_json::json!({"data": data, "links": {}}).to_string();
        let page = auvik::decoders::lifecycle(&body, true).expect("a well-formed page decodes");
        prop_assert_eq!(page.reports.len(), values.len());
        for (i, (r, (v, want))) in page.reports.iter().zip(&values).enumerate() {
            prop_assert_eq!(&r.external_id, &format!("dev-{i}"));
            prop_assert_eq!(r.support, None, "a warranty page says nothing of support");
            let got = r.warranty.as_ref().and_then(|w| w.warranty_expires.clone());
            match want {
                Some(d) => prop_assert_eq!(got, Some(VendorDate::Date(*d)), "{}", v),
                None => prop_assert!(!matches!(got, Some(VendorDate::Date(_))), "{} read as {:?}", v, got),
            }
        }
        // The note counts exactly the values kept as text.
        let kept = page.reports.iter().filter(|r| matches!(
            r.warranty.as_ref().and_then(|w| w.warranty_expires.as_ref()),
            Some(VendorDate::Unreadable(_))
        )).count();
        prop_assert_eq!(page.note.is_some(), kept > 0, "{:?}", page.note);
    }

    /// A well-formed Syncro asset page keeps every asset with its id, whatever its free-form
    /// `properties` hold.
    #[test]
    fn syncro_pages_keep_every_asset(
        ids in prop::collection::vec(any::<i64>(), 0..6),
        names in prop::collection::vec("\\PC{0,40}", 6),
        properties in prop::collection::vec(json(), 6),
    ) {
        let assets: Vec<String> = ids.iter().enumerate().map(|(i, id)| format!(
            "{{\"id\":{id},\"name\":{},\"customer_id\":5,\"properties\":{}}}", Value::String(names[i].clone()), properties[i]
        )).collect();
        let body = format!("{{\"assets\":[{}],\"meta\":{{\"total_pages\":1}}}}", assets.join(","));
        // `properties` may itself be out of shape (a number past i64, say): then the page
        // fails as a whole, never in part.
        if let Ok(records) = syncro::decoders::assets(&body) {
            prop_assert_eq!(records.len(), ids.len());
            for (r, id) in records.iter().zip(&ids) {
                prop_assert_eq!(&r.external_id, &id.to_string());
            }
        }
    }

    /// Auvik's three tenant lists, well-formed with any names and states: every tenant of
    /// type `client` is read (or, without one, every tenant), named, and said unavailable
    /// exactly when Auvik says it is off or leaves it out of the available list (a list that
    /// leaves out every tenant read is not believed).
    #[test]
    fn auvik_tenant_lists_name_every_client(
        tenants in prop::collection::vec((
            "\\PC{0,12}",
            prop::option::of("\\PC{0,30}"),
            prop::sample::select(vec!["client", "multiClient", "reseller", ""]),
            prop::option::of(any::<bool>()),
            prop::option::of(any::<bool>()),
            any::<bool>(),
        ), 0..8),
    ) {
        let id = |i: usize| format!("t{i}");
        let list: Vec<Value> = tenants.iter().enumerate().map(|(i, (prefix, _, kind, ..))| serde_json::json!({
            "id": id(i), "attributes": {"domainPrefix": prefix, "tenantType": kind},
        })).collect();
        let details: Vec<Value> = tenants.iter().enumerate().map(|(i, (_, name, _, enabled, running, _))| serde_json::json!({
            "id": id(i), "attributes": {"displayName": name, "enabled": enabled, "running": running},
        })).collect();
        let available: Vec<Value> = tenants.iter().enumerate()
            .filter(|(_, t)| t.5)
            .map(|(i, _)| serde_json::json!({"id": id(i)}))
            .collect();
        let body = |data: Vec<Value>| serde_json::json!({"data": data}).to_string();
        let read = auvik::decoders::tenants(&body(list), Some(&body(details)), Some(&body(available)))
            .expect("well-formed lists decode");
        let clients = tenants.iter().filter(|t| t.2 == "client").count();
        prop_assert_eq!(read.len(), if clients == 0 { tenants.len() } else { clients });
        let index = |t: &auvik::decoders::TenantEntry| -> usize {
            t.client.external_id[1..].parse().unwrap()
        };
        let believed = read.iter().any(|t| tenants[index(t)].5);
        for t in &read {
            let (_, _, _, enabled, running, listed) = &tenants[index(t)];
            let off = *enabled == Some(false) || *running == Some(false) || (believed && !listed);
            prop_assert_eq!(t.unavailable.is_some(), off);
        }
    }

    /// Syncro's customer page, well-formed with any names: every customer becomes a client
    /// with its id and a name (its own, or one made from its id).
    #[test]
    fn syncro_customer_pages_name_every_customer(
        customers in prop::collection::vec((
            any::<i64>(),
            prop::option::of("\\PC{0,30}"),
            prop::option::of("\\PC{0,12}"),
            prop::option::of("\\PC{0,12}"),
            prop::option::of("\\PC{0,30}"),
        ), 0..8),
    ) {
        let page: Vec<Value> = customers.iter().map(|(id, business, first, last, full)| serde_json::json!({
            "id": id, "business_name": business, "firstname": first, "lastname": last, "fullname": full,
        })).collect();
        let body = serde_json::json!({"customers": page, "meta": {"total_pages": 1}}).to_string();
        let (clients, pages) = syncro::decoders::customers(&body).expect("a well-formed page decodes");
        prop_assert_eq!(pages, Some(1));
        prop_assert_eq!(clients.len(), customers.len());
        for (c, (id, ..)) in clients.iter().zip(&customers) {
            prop_assert_eq!(&c.external_id, &id.to_string());
            prop_assert!(!c.name.is_empty());
        }
    }

    /// A Passportal document, well-formed with any labels and detail texts, in both layouts:
    /// one record, with the list item's id.
    #[test]
    fn passportal_documents_become_one_record(
        label in prop::option::of("\\PC{0,30}"),
        texts in prop::collection::vec("\\PC{0,30}", 6),
        numbered in any::<bool>(),
    ) {
        let item = serde_json::json!({"id": 42, "client_id": 7, "label": label, "last_modified": texts[0]});
        let labels = ["Type", "Serial Number", "Manufacturer", "Model", "MAC Address", "Primary IP"];
        let details: serde_json::Map<String, Value> = labels.iter().zip(&texts).enumerate().map(|(i, (l, t))| {
            if numbered {
                (i.to_string(), serde_json::json!({"name": l, "value": {"text": t}}))
            } else {
                (l.to_ascii_lowercase().replace(' ', "_"), Value::String(t.clone()))
            }
        }).collect();
        let body = serde_json::json!({"success": true, "details": details}).to_string();
        let record = passportal::decoders::document(&item, &body)
            .expect("a well-formed document decodes")
            .expect("a readable document is a record");
        prop_assert_eq!(record.external_id, "42");
        prop_assert_eq!(record.source_client_id, "7");
    }

    /// A successful Passportal client page keeps every client with an id, named.
    #[test]
    fn passportal_pages_keep_every_client_with_an_id(
        names in prop::collection::vec(prop::option::of("\\PC{0,40}"), 0..20),
    ) {
        let results: Vec<Value> = names.iter().enumerate()
            .map(|(i, n)| serde_json::json!({"id": i + 1, "name": n}))
            .collect();
        let body = serde_json::json!({"success": "true", "results": results}).to_string();
        let clients = passportal::decoders::clients(&body).expect("a well-formed page decodes");
        prop_assert_eq!(clients.len(), names.len());
        for c in &clients {
            prop_assert!(!c.name.is_empty());
        }
    }

}

proptest! {
    #![proptest_config(fixed(40))]

    /// The vendors' own page shapes, with any JSON in every field.
    #[test]
    fn page_shapes_with_arbitrary_fields_never_panic(
        values in prop::collection::vec(field(), 12),
        // Ids and `success` of the right type most of the time, so that the other fields
        // reach the mapping into records rather than failing the page at once.
        id in prop_oneof![3 => any::<i64>().prop_map(|n| n.to_string()), 1 => field()],
        success in prop_oneof![3 => Just("true".to_string()), 1 => Just("\"true\"".to_string()), 1 => field()],
        flags in prop::collection::vec(prop_oneof![
            3 => prop::sample::select(vec!["true", "false", "null"]).prop_map(str::to_string),
            1 => field(),
        ], 3),
    ) {
        let v = |i: usize| values[i].as_str();
        let (id, ok) = (id.as_str(), success.as_str());
        let flag = |i: usize| flags[i].as_str();
        for body in [
            format!("{{\"data\":[{{\"id\":{},\"attributes\":{},\"relationships\":{}}}],\"included\":[{{\"type\":\"deviceDetail\",\"id\":{},\"attributes\":{{\"manageStatus\":{}}},\"relationships\":{{\"interfaces\":{{\"data\":[{{\"attributes\":{{\"macAddress\":{}}}}}]}}}}}}],\"links\":{{\"next\":{}}}}}",
                v(0), v(1), v(2), v(0), flag(0), v(4), v(5)),
            format!("{{\"data\":[{{\"id\":\"t1\",\"attributes\":{{\"domainPrefix\":{},\"tenantType\":{},\"displayName\":{},\"enabled\":{},\"running\":{}}}}}]}}",
                v(6), v(7), v(8), flag(1), flag(2)),
            format!("{{\"data\":[{{\"id\":\"t1\",\"attributes\":{{\"usagePeriod\":{{\"lengthInDays\":{}}},\"deviceUsage\":{{\"totalDays\":{},\"averageDays\":{}}}}}}}]}}",
                v(0), v(1), v(2)),
            format!("{{\"customers\":[{{\"id\":{id},\"business_name\":{},\"firstname\":{},\"lastname\":{},\"fullname\":{},\"business_then_name\":{},\"disabled\":{}}}],\"meta\":{{\"total_pages\":{},\"total_entries\":{}}}}}",
                v(0), v(1), v(2), v(3), v(4), v(5), v(6), v(7)),
            format!("{{\"assets\":[{{\"id\":{id},\"name\":{},\"customer_id\":{id},\"asset_type\":{},\"asset_serial\":{},\"updated_at\":{},\"properties\":{{\"kabuto_information\":{{\"general\":{},\"os\":{},\"network_adapters\":[{{\"physical_address\":{},\"ipv4\":{}}}]}},\"MAC Address\":{},\"LAN IP(s)\":{},\"form_factor\":{}}}}}],\"meta\":{}}}",
                v(0), v(1), v(2), v(3), v(4), v(5), v(6), v(7), v(8), v(9), v(10), v(11)),
            format!("{{\"asset\":{{\"customer_id\":{}}}}}", v(0)),
            format!("{{\"success\":{ok},\"results\":[{{\"id\":{id},\"name\":{},\"client_id\":{},\"clientName\":{},\"label\":{},\"accessible\":{},\"last_modified\":{},\"templateName\":{}}}]}}",
                v(0), v(1), v(2), v(3), v(4), v(5), v(6)),
            format!("{{\"errors\":[{{\"detail\":{},\"title\":{}}}],\"error\":{},\"message\":{}}}",
                v(0), v(1), v(2), v(3)),
            format!("{{\"errors\":[{{\"title\":{}}}],\"message\":[{},{}]}}", v(4), v(5), v(6)),
            format!("{{\"success\":{ok},\"message\":{},\"details\":{{\"1\":{{\"name\":{},\"value\":{{\"text\":{}}}}},\"serial_number\":{},\"2\":{{\"name\":\"Type\",\"value\":{}}},\"3\":{{\"name\":\"MAC Address\",\"value\":{{\"text\":{}}}}}}}}}",
                v(8), v(9), v(10), v(11), v(0), v(1)),
        ] {
            decode_everything(&body);
        }
    }
}

proptest! {
    #![proptest_config(fixed(16))]

    /// Nesting at any depth up to well past the parser's limit, in every place a decoder
    /// reads: an error or a value, never a stack overflow.
    #[test]
    fn nesting_at_any_depth_never_overflows(depth in 0usize..2000) {
        for body in deep_bodies(depth) {
            decode_everything(&body);
        }
    }
}

/// 10,000 nested arrays or objects, in every place a decoder reads: never a stack overflow,
/// and an error wherever the nesting is what the decoder must read (a field it skips may
/// hold anything). A body that is nothing but nesting is no vendor's answer.
#[test]
fn ten_thousand_nested_arrays_are_an_error_not_a_stack_overflow() {
    const DEPTH: usize = 10_000;
    for body in deep_bodies(DEPTH) {
        decode_everything(&body);
    }
    let from = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    for body in [
        nested(DEPTH, false, "1"),
        nested(DEPTH, true, "1"),
        "[".repeat(DEPTH),
        "{\"a\":".repeat(DEPTH),
    ] {
        let item = serde_json::json!({"id": 1});
        assert!(auvik::decoders::devices(&body, "t").is_err());
        assert!(auvik::decoders::tenants(&body, None, None).is_err());
        assert!(auvik::decoders::billing(&body, from).is_err());
        assert!(matches!(
            auvik::decoders::lookup(&body, "1"),
            Presence::Unknown(_)
        ));
        assert!(syncro::decoders::customers(&body).is_err());
        assert!(syncro::decoders::assets(&body).is_err());
        assert!(syncro::decoders::lookup(&body).is_err());
        assert!(passportal::decoders::list_page(&body).is_err());
        assert!(passportal::decoders::clients(&body).is_err());
        assert!(passportal::decoders::document(&item, &body).is_err());
    }
    let deep = nested(DEPTH, false, "1");
    let deep_obj = nested(DEPTH, true, "1");
    let body = format!("{{\"assets\":[{{\"id\":1,\"properties\":{deep_obj}}}]}}");
    assert!(syncro::decoders::assets(&body).is_err());
    let body = format!("{{\"success\":true,\"results\":[{deep}]}}");
    assert!(passportal::decoders::list_page(&body).is_err());
    let body = format!("{{\"success\":true,\"details\":{deep_obj}}}");
    assert!(passportal::decoders::document(&serde_json::json!({"id": 1}), &body).is_err());
    let body = format!("{{\"data\":{deep}}}");
    assert!(matches!(
        auvik::decoders::lookup(&body, "1"),
        Presence::Unknown(_)
    ));
}

/// Hostile sizes where the decoders read numbers: ids past i64 are refused, not wrapped;
/// billing figures past f64's range are refused, not taken as infinity.
#[test]
fn numbers_past_every_type_are_refused_not_wrapped() {
    let body = r#"{"customers":[{"id":18446744073709551616}]}"#;
    assert!(syncro::decoders::customers(body).is_err());
    let body = r#"{"assets":[{"id":9223372036854775808}]}"#;
    assert!(syncro::decoders::assets(body).is_err());
    let body = r#"{"data":[{"id":"t","attributes":{"deviceUsage":{"totalDays":1e999}}}]}"#;
    let from = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    assert!(auvik::decoders::billing(body, from).is_err());
    // Within range, a huge figure is kept as it is (saturating where it becomes a day count).
    let body = r#"{"data":[{"id":"t","attributes":{"usagePeriod":{"lengthInDays":1e300},"deviceUsage":{"totalDays":1e308}}}]}"#;
    let usage = auvik::decoders::billing(body, from).unwrap();
    assert_eq!(usage[0].days, i64::MAX);
}

/// Long strings (a MiB of two-byte characters) in the fields that become record text:
/// kept whole, not cut or refused, and no decoder slows to a crawl on them.
#[test]
fn long_strings_are_kept_whole() {
    let long = "é".repeat(512 << 10);
    let body =
        serde_json::json!({"data": [{"id": "d", "attributes": {"deviceName": long}}]}).to_string();
    let page = auvik::decoders::devices(&body, "t").unwrap();
    assert_eq!(page.records[0].name, long);
    let body = serde_json::json!({"assets": [{"id": 1, "name": long, "properties": {"MAC Address": long}}]}).to_string();
    assert_eq!(syncro::decoders::assets(&body).unwrap()[0].name, long);
    let body =
        serde_json::json!({"success": true, "results": [{"id": 1, "name": long}]}).to_string();
    assert_eq!(passportal::decoders::clients(&body).unwrap()[0].name, long);
    decode_everything(&body);
}
