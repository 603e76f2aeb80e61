use super::lifecycle::{coverage_status, support_status};
use super::*;

/// The spec's attribute enum for the lifecycle statuses, and the coverage words the spec
/// and Cisco use, each mapped; text that states nothing maps to nothing.
#[test]
fn warranty_and_support_statuses_map_as_the_spec_writes_them() {
    use SupportStatus::*;
    for (text, want) in [
        ("covered", Some(Covered)),
        ("available", Some(Available)),
        ("expired", Some(Expired)),
        ("securityOnly", Some(SecurityOnly)),
        ("unpublished", Some(Unpublished)),
        ("empty", None),
        ("", None),
        ("Security Only", Some(SecurityOnly)),
        ("something new", None),
    ] {
        assert_eq!(support_status(text), want, "{text:?}");
    }
    for (text, want) in [
        ("Covered", Some(WarrantyStatus::Covered)),
        ("Not Covered", Some(WarrantyStatus::NotCovered)),
        ("NOT_COVERED", Some(WarrantyStatus::NotCovered)),
        ("Expired", Some(WarrantyStatus::Expired)),
        ("", None),
        ("Unknown", None),
    ] {
        assert_eq!(coverage_status(text), want, "{text:?}");
    }
}

/// Records as the spec shapes them, with the odd values it warns of: a date that is not
/// one (kept as given and counted), nulls everywhere, numbers where text is expected,
/// and a lifecycle record that names its device by relationship.
#[test]
fn lifecycle_records_read_leniently_and_never_invent_a_date() {
    let page: LifecyclePage = serde_json::from_value(serde_json::json!({
        "data": [
            {"type": "deviceWarranty", "id": "dev-1", "attributes": {
                "deviceName": "core", "warrantyCoverageStatus": "Covered",
                "warrantyExpirationDate": "2027-07-31T00:00:00.000Z",
                "serviceCoverageStatus": null, "contractRenewalAvailability": "Available",
                "recommendedSoftwareVersion": null},
             "relationships": {"tenant": {"data": {"type": "tenant", "id": "1"}}}},
            {"type": "deviceWarranty", "id": "dev-2", "attributes": {
                "warrantyCoverageStatus": null, "warrantyExpirationDate": "Not Available"}},
            {"type": "deviceWarranty", "id": "dev-3", "attributes": {
                "warrantyCoverageStatus": "Not Covered", "warrantyExpirationDate": null}},
            {"type": "deviceWarranty", "id": "dev-4", "attributes": null},
            {"type": "deviceWarranty", "id": "dev-5", "attributes": {
                "warrantyExpirationDate": 20270731}}
        ],
        "links": {"next": null}
    }))
    .unwrap();
    let unreadable = UnreadableDates::default();
    let reports: Vec<LifecycleReport> = page
        .records()
        .into_iter()
        .map(|r| r.into_report(LifecyclePart::Warranty, &unreadable))
        .collect();
    let w = |i: usize| reports[i].warranty.clone().unwrap();
    assert_eq!(reports[0].external_id, "dev-1");
    assert_eq!(
        w(0).warranty_expires,
        Some(VendorDate::Date(
            NaiveDate::from_ymd_opt(2027, 7, 31).unwrap()
        ))
    );
    assert_eq!(w(0).stated, Some(WarrantyStatus::Covered));
    assert_eq!(
        w(1).warranty_expires,
        Some(VendorDate::Unreadable("Not Available".into()))
    );
    assert_eq!(w(1).stated, None);
    assert_eq!(w(2).warranty_expires, None);
    assert_eq!(w(2).stated, Some(WarrantyStatus::NotCovered));
    assert_eq!(w(3), WarrantyFacts::default());
    assert_eq!(
        w(4).warranty_expires,
        Some(VendorDate::Unreadable("20270731".into()))
    );
    assert!(reports.iter().all(|r| r.support.is_none()));
    let note = unreadable.note().expect("a note");
    assert!(note.contains("2 warranty expiration dates"), "{note}");
    assert!(note.contains("Not Available"), "{note}");

    let page: LifecyclePage = serde_json::from_value(serde_json::json!({
        "data": [
            {"type": "deviceLifecycle", "id": "lc-1", "attributes": {
                "salesAvailability": "expired", "softwareMaintenanceStatus": "available",
                "securitySoftwareMaintenanceStatus": "securityOnly",
                "lastSupportStatus": "securityOnly"},
             "relationships": {"device": {"data": {"type": "device", "id": "dev-9"}}}},
            {"type": "deviceLifecycle", "id": "dev-8", "attributes": {
                "lastSupportStatus": "empty"}}
        ]
    }))
    .unwrap();
    let reports: Vec<LifecycleReport> = page
        .records()
        .into_iter()
        .map(|r| r.into_report(LifecyclePart::Support, &unreadable))
        .collect();
    assert_eq!(
        reports[0].external_id, "dev-9",
        "the relationship names the device"
    );
    assert_eq!(reports[0].support, Some(Some(SupportStatus::SecurityOnly)));
    assert_eq!(reports[1].external_id, "dev-8");
    assert_eq!(reports[1].support, Some(None), "empty is no status");
    assert!(reports.iter().all(|r| r.warranty.is_none()));
}

/// Every `deviceType` of Auvik's `DeviceTypeSchema` maps to a category. The list is the
/// project's own (`DEVICE_TYPES`); `tests/vendor_specs.rs` checks it equals the spec's enum.
#[test]
fn every_device_type_is_mapped() {
    let distinct: HashSet<&str> = DEVICE_TYPES.into_iter().collect();
    assert_eq!(
        distinct.len(),
        47,
        "Auvik's DeviceTypeSchema has 47 distinct device types"
    );
    for t in DEVICE_TYPES {
        assert!(category_for(t).is_some(), "deviceType `{t}` is not mapped");
    }
    assert_eq!(category_for("somethingNew"), None);
}

#[test]
fn billing_relevant_types_map_as_design_says() {
    for t in ["firewall", "utm", "securityAppliance"] {
        assert_eq!(category_for(t), Some(Category::Firewall));
    }
    for t in ["accessPoint", "thinAccessPoint"] {
        assert_eq!(category_for(t), Some(Category::AccessPoint));
    }
    assert_eq!(category_for("stack"), Some(Category::SwitchStack));
    assert_eq!(
        category_for("hub"),
        Some(Category::Other),
        "hubs are not billable switches"
    );
}

#[test]
fn billing_covers_this_month_so_far_and_the_whole_previous_month() {
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    assert_eq!(
        billing_periods(d("2026-03-15")),
        [
            (d("2026-03-01"), d("2026-03-15")),
            (d("2026-02-01"), d("2026-02-28"))
        ]
    );
    assert_eq!(
        billing_periods(d("2026-01-01")),
        [
            (d("2026-01-01"), d("2026-01-01")),
            (d("2025-12-01"), d("2025-12-31"))
        ]
    );
}

#[test]
fn billing_usage_rows_tolerate_nulls_and_derive_the_average() {
    let from = NaiveDate::from_ymd_opt(2019, 6, 1).unwrap();
    let parse = |v: serde_json::Value| -> Option<VendorUsage> {
        serde_json::from_value::<UsageResource>(v)
            .unwrap()
            .usage(from)
    };
    let full = parse(serde_json::json!({
        "id": "1", "type": "clientUsage",
        "attributes": {
            "usagePeriod": {"lengthInDays": 30},
            "deviceUsage": {"totalDays": 150, "averageDays": 5}
        }
    }))
    .unwrap();
    assert_eq!(
        (
            full.period.as_str(),
            full.days,
            full.device_days,
            full.average_billable
        ),
        ("2019-06", 30, 150.0, 5.0)
    );
    let derived = parse(serde_json::json!({
        "id": "1",
        "attributes": {
            "usagePeriod": {"lengthInDays": 30},
            "deviceUsage": {"totalDays": 45, "averageDays": null}
        }
    }))
    .unwrap();
    assert_eq!(derived.average_billable, 1.5);
    assert_eq!(
        parse(serde_json::json!({"id": "1", "attributes": {"deviceUsage": null}})),
        None
    );
    assert_eq!(
        parse(serde_json::json!({"id": "1", "attributes": null})),
        None
    );
}

#[test]
fn region_is_read_from_a_redirect() {
    assert_eq!(
        region_of("https://auvikapi.eu2.my.auvik.com/v1/tenants").as_deref(),
        Some("eu2")
    );
    assert_eq!(region_of("https://evil.example/v1"), None);
}

#[test]
fn nulls_where_the_spec_says_required_are_tolerated() {
    let json = serde_json::json!({
        "data": [{"type": "device", "id": "X", "attributes": {
            "deviceName": "sw", "deviceType": "l3Switch", "makeModel": null, "vendorName": null,
            "serialNumber": null, "softwareVersion": null, "firmwareVersion": null,
            "ipAddresses": ["10.0.0.1", null], "lastModified": "2018-03-12T12:00:00.000Z",
            "onlineStatus": "online"},
            "relationships": {"tenant": {"data": {"type": "tenant", "id": "T"}}}}],
        "links": {"next": ""}
    });
    let doc: Document<Vec<DeviceResource>> = serde_json::from_value(json).unwrap();
    assert_eq!(doc.next_link(), None);
    // The detail list's interfaces give the MACs (any spelling; zeros and junk dropped).
    let detail: Document<Vec<DetailResource>> = serde_json::from_value(serde_json::json!({
            "data": [{"type": "deviceDetail", "id": "X",
                "attributes": {"manageStatus": true},
                "relationships": {"interfaces": {"data": [
                    {"type": "interface", "id": "i1", "attributes": {"macAddress": "00-1a-2b-3c-4d-5e"}},
                    {"type": "interface", "id": "i2", "attributes": {"macAddress": null}},
                    {"type": "interface", "id": "i3", "attributes": {"macAddress": "00:00:00:00:00:00"}},
                    {"type": "interface", "id": "i4", "attributes": {"macAddress": "00:1A:2B:3C:4D:5E"}}
                ]}}}]
        }))
        .unwrap();
    let mut details: HashMap<String, Detail> = detail
        .data
        .into_iter()
        .map(DetailResource::into_detail)
        .collect();
    let r = to_record(doc.data.into_iter().next().unwrap(), "T0", &mut details);
    assert_eq!(r.mac_addresses, vec!["00:1A:2B:3C:4D:5E"]);
    assert_eq!(r.category, Some(Category::L3Switch));
    assert_eq!(r.serial, "");
    assert_eq!(r.source_client_id, "T");
    assert_eq!(r.ip_addresses, vec!["10.0.0.1"]);
    assert_eq!(r.managed, Some(true));
    assert!(r.updated_at.is_some());
}

fn auvik_at(base: &str) -> Auvik {
    let cfg = AuvikConfig {
        region: "us1".into(),
        username: "u".into(),
        api_key: crate::secret::Secret::new("k"),
        domain_prefix: "p".into(),
    };
    Auvik::new(
        url::Url::parse(base).unwrap(),
        cfg,
        &RunLimits::default(),
        &Route::direct(),
    )
    .unwrap()
}

/// Auvik names its own host in `links.next`; behind a proxy `base_url` only the link's
/// path and query are followed, on the configured origin, so paging goes on and the
/// credentials go nowhere else.
#[test]
fn next_links_are_followed_on_the_configured_origin() {
    let a = auvik_at("http://127.0.0.1:9/");
    let cur = url::Url::parse("http://127.0.0.1:9/v1/inventory/device/info?x=1").unwrap();
    let same = "http://127.0.0.1:9/v1/inventory/device/info?page%5Bafter%5D=abc";
    assert_eq!(a.follow(&cur, same).unwrap().as_str(), same);
    assert_eq!(
        a.follow(&cur, "/v1/inventory/device/info?page%5Bafter%5D=abc")
            .unwrap()
            .as_str(),
        same
    );
    let auvik_host =
        "https://auvikapi.us1.my.auvik.com/v1/inventory/device/info?page%5Bafter%5D=abc";
    assert_eq!(a.follow(&cur, auvik_host).unwrap().as_str(), same);
    let elsewhere = a.follow(&cur, "https://evil.example/steal?k=1").unwrap();
    assert_eq!(elsewhere.as_str(), "http://127.0.0.1:9/steal?k=1");
    // A proxy serving Auvik under a prefix keeps it.
    let proxied = auvik_at("https://proxy.msp.example/auvik/");
    let cur = url::Url::parse("https://proxy.msp.example/auvik/v1/inventory/device/info").unwrap();
    assert_eq!(
        proxied.follow(&cur, auvik_host).unwrap().as_str(),
        "https://proxy.msp.example/auvik/v1/inventory/device/info?page%5Bafter%5D=abc"
    );
}

#[test]
fn throttling_is_recognised_in_every_wording_public_clients_met() {
    for body in [
        r#"{"errors":[{"detail":"API request quota exceeded. Try again later."}]}"#,
        "Rate limit exceeded",
        "rate-limit reached",
        "RATE LIMIT",
        "ratelimit",
        "Request throttled; slow down",
        "Too many requests: throttling in effect",
    ] {
        assert!(says_throttled(body), "{body}");
    }
    for body in [
        r#"{"errors":[{"detail":"You do not have access to tenant 123"}]}"#,
        "Forbidden",
        "accurate limits",
        "",
    ] {
        assert!(!says_throttled(body), "{body}");
    }
}

/// A run's context whose batches go nowhere (the tests below read answers, not batches).
fn quiet_ctx() -> (FetchContext, tokio::sync::mpsc::Receiver<Batch>) {
    let (sink, rx) = tokio::sync::mpsc::channel(64);
    let ctx = FetchContext {
        kind: RunKind::Full,
        modified_since: None,
        known: Arc::default(),
        sink,
        progress: Arc::default(),
        cancel: tokio_util::sync::CancellationToken::new(),
    };
    (ctx, rx)
}

/// An Auvik at `base` that waits out throttling for a few milliseconds only.
fn auvik_quick(base: &str) -> Auvik {
    let cfg = AuvikConfig {
        region: "us1".into(),
        username: "u".into(),
        api_key: crate::secret::Secret::new("k"),
        domain_prefix: "p".into(),
    };
    let limits = RunLimits {
        max_retries: 0,
        max_throttle_wait: Some(Duration::from_millis(60)),
        ..RunLimits::default()
    };
    Auvik::new(
        url::Url::parse(base).unwrap(),
        cfg,
        &limits,
        &Route::direct(),
    )
    .unwrap()
}

/// A small Auvik written for these tests: single-device lookups answer by the id asked
/// ("hidden": a plain 403, "throttled": a throttling 403 past any wait, "gone": 404, any
/// other: the device); the device listing answers its first page with one device and a
/// `links.next` carrying only the cursor (the spec's example), and its second page with
/// no `data` at all. Every listing query is recorded.
async fn small_auvik() -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    use axum::extract::{Path, RawQuery};
    use axum::http::StatusCode as S;
    use axum::response::IntoResponse;
    let queries = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = queries.clone();
    let json = |s: S, body: String| {
        (s, [("content-type", "application/vnd.api+json")], body).into_response()
    };
    let app = axum::Router::new()
        .route(
            "/v1/inventory/device/info/{id}",
            axum::routing::get(move |Path(id): Path<String>| async move {
                match id.as_str() {
                    "hidden" => json(
                        S::FORBIDDEN,
                        r#"{"errors":[{"status":"403","title":"Forbidden","detail":"You do not have access to this tenant"}]}"#.into(),
                    ),
                    "throttled" => json(
                        S::FORBIDDEN,
                        r#"{"errors":[{"detail":"Rate limit exceeded"}]}"#.into(),
                    ),
                    "gone" => json(S::NOT_FOUND, r#"{"errors":[{"status":"404"}]}"#.into()),
                    _ => json(S::OK, format!(r#"{{"data":{{"type":"device","id":"{id}"}}}}"#)),
                }
            }),
        )
        .route(
            "/v1/inventory/device/info",
            axum::routing::get(move |RawQuery(q): RawQuery| async move {
                let q = q.unwrap_or_default();
                seen.lock().unwrap().push(q.clone());
                if q.contains("page%5Bafter%5D") {
                    json(S::OK, r#"{"links":{"first":"/v1/inventory/device/info?page%5Bfirst%5D=1000"}}"#.into())
                } else {
                    json(
                        S::OK,
                        r#"{"data":[{"type":"device","id":"d1","relationships":{"deviceDetail":{"data":{"type":"deviceDetail","id":"d1"}}}}],
                            "included":[{"type":"deviceDetail","id":"d1","attributes":{"manageStatus":true}}],
                            "links":{"next":"/v1/inventory/device/info?page%5Bafter%5D=YWJj&page%5Bfirst%5D=1000"}}"#
                            .into(),
                    )
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/"), queries)
}

/// A plain 403 on the removal lookup says the API user may not see the device, not that it
/// is gone: the device is kept (refused), never counted towards its removal. A throttling
/// 403 past the wait says nothing (kept until a second absence); 404 is gone.
#[tokio::test]
async fn a_refused_lookup_keeps_the_device() {
    let (base, _) = small_auvik().await;
    let a = auvik_quick(&base);
    let (ctx, _rx) = quiet_ctx();
    let ids: Vec<String> = ["hidden", "throttled", "gone", "here"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let got = a.confirm_absent(&ctx, &ids).await.unwrap();
    assert!(
        matches!(&got[0], Presence::Refused(why) if why.contains("403") && why.contains("role")),
        "403: not for us to see, kept: {:?}",
        got[0]
    );
    assert!(matches!(got[1], Presence::Unknown(_)), "{:?}", got[1]);
    assert_eq!(got[2], Presence::Gone);
    assert_eq!(got[3], Presence::Present);
}

/// A next link carrying only the cursor gets the first request's parameters back (never
/// twice, never over the link's own cursor and page size), and a page without `data` is
/// the end of an empty listing, not a failure.
#[tokio::test]
async fn next_links_get_the_first_requests_parameters_back() {
    let (base, queries) = small_auvik().await;
    let a = auvik_quick(&base);
    let (ctx, _rx) = quiet_ctx();
    let first = a
        .url(
            "v1/inventory/device/info",
            &[
                ("tenants", "42"),
                ("page[first]", "1000"),
                ("include", "deviceDetail"),
                ("fields[deviceDetail]", "manageStatus,interfaces"),
                ("filter[modifiedAfter]", "2026-01-01T00:00:00.000Z"),
            ],
        )
        .unwrap();
    let mut records = Vec::new();
    a.paginate(first, &ctx, |page: InfoPage| {
        records.extend(page.into_records("42"));
        async { Ok(()) }
    })
    .await
    .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].managed, Some(true));
    let queries = queries.lock().unwrap().clone();
    assert_eq!(queries.len(), 2, "{queries:?}");
    let second: Vec<(String, String)> = url::form_urlencoded::parse(queries[1].as_bytes())
        .into_owned()
        .collect();
    let pairs = |k: &str| -> Vec<&str> {
        second
            .iter()
            .filter(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    assert_eq!(pairs("page[after]"), ["YWJj"]);
    assert_eq!(pairs("page[first]"), ["1000"]);
    assert_eq!(pairs("tenants"), ["42"]);
    assert_eq!(pairs("include"), ["deviceDetail"]);
    assert_eq!(pairs("fields[deviceDetail]"), ["manageStatus,interfaces"]);
    assert_eq!(pairs("filter[modifiedAfter]"), ["2026-01-01T00:00:00.000Z"]);

    // The link's own values win over the first request's.
    let first = url::Url::parse("http://h/v1/x?tenants=1&page%5Bfirst%5D=1000&include=d").unwrap();
    let next =
        url::Url::parse("http://h/v1/x?page%5Bafter%5D=c&page%5Bfirst%5D=100&tenants=1").unwrap();
    assert_eq!(
        with_first_parameters(next, &first).as_str(),
        "http://h/v1/x?page%5Bafter%5D=c&page%5Bfirst%5D=100&tenants=1&include=d"
    );
}

/// A listing page whose `data` is missing or null is an empty page (Auvik's "non-standard
/// responses, such as a response for a query with no results"), when the body is otherwise
/// a JSON:API document; another shape without `data` is still not understood.
#[test]
fn a_page_without_data_is_an_empty_page() {
    for body in [
        r#"{"links":{"first":"x"}}"#,
        r#"{"data":null,"meta":{}}"#,
        r#"{"data":null,"included":null,"links":{"next":null}}"#,
        "{}",
    ] {
        let page = decoders::devices(body, "t").unwrap_or_else(|e| panic!("{body}: {e}"));
        assert!(page.records.is_empty() && page.next.is_none(), "{body}");
        let page = decoders::lifecycle(body, true).unwrap_or_else(|e| panic!("{body}: {e}"));
        assert!(page.reports.is_empty(), "{body}");
    }
    for body in [
        r#"{"status":"ok","items":[],"next":null}"#,
        r#"{"errors":[{"status":"500"}]}"#,
        r#"{"data":{}}"#,
        "null",
    ] {
        assert!(decoders::devices(body, "t").is_err(), "{body}");
        assert!(decoders::lifecycle(body, false).is_err(), "{body}");
    }
}

/// A lookup's 200 says the device is there only when `data` is that device.
#[test]
fn a_lookup_is_present_only_when_it_returns_the_device_asked() {
    assert_eq!(
        decoders::lookup(r#"{"data":{"type":"device","id":"d1"}}"#, "d1"),
        Presence::Present
    );
    for body in [
        r#"{"data":[]}"#,
        r#"{"data":{}}"#,
        r#"{"data":null}"#,
        "{}",
        r#"{"data":{"type":"device","id":"d2"}}"#,
        r#"{"data":[{"type":"device","id":"d1"}]}"#,
        r#"{"data":"d1"}"#,
    ] {
        assert!(
            matches!(decoders::lookup(body, "d1"), Presence::Unknown(_)),
            "{body}: {:?}",
            decoders::lookup(body, "d1")
        );
    }
}

/// `filter[availableTenants]` leaving out every client tenant (or listing none) is not
/// believed: every tenant is tried. One that leaves out some marks those unavailable.
#[test]
fn an_available_tenants_filter_that_leaves_out_everyone_is_ignored() {
    let list = r#"{"data":[
        {"id":"1","attributes":{"domainPrefix":"root","tenantType":"multiClient"}},
        {"id":"2","attributes":{"domainPrefix":"a","tenantType":"client"}},
        {"id":"3","attributes":{"domainPrefix":"b","tenantType":"client"}}]}"#;
    for available in [r#"{"data":[]}"#, r#"{"data":[{"id":"1","attributes":{}}]}"#] {
        let got = decoders::tenants(list, None, Some(available)).unwrap();
        assert_eq!(got.len(), 2, "{available}");
        assert!(
            got.iter().all(|t| t.unavailable.is_none()),
            "{available}: {got:?}"
        );
    }
    let got =
        decoders::tenants(list, None, Some(r#"{"data":[{"id":"2","attributes":{}}]}"#)).unwrap();
    let left_out: Vec<&str> = got
        .iter()
        .filter(|t| t.unavailable.is_some())
        .map(|t| t.client.external_id.as_str())
        .collect();
    assert_eq!(left_out, ["3"]);
}
