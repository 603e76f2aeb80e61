use super::*;

fn keys(v: &impl Serialize) -> Vec<String> {
    match serde_json::to_value(v).expect("serialises") {
        serde_json::Value::Object(m) => m.keys().cloned().collect(),
        other => panic!("not an object: {other}"),
    }
}

fn sorted(names: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
    v.sort();
    v
}

fn ts(seconds: i64) -> Option<Timestamp> {
    Some(Timestamp { seconds, nanos: 0 })
}

#[test]
fn every_category_has_its_design_name() {
    let names = category_names();
    // CONTRACT §4's names, in the proto's order.
    assert_eq!(
        names,
        [
            "firewall",
            "router",
            "switch",
            "l3_switch",
            "voip_switch",
            "switch_stack",
            "controller",
            "access_point",
            "server",
            "workstation",
            "laptop",
            "virtual_machine",
            "hypervisor",
            "storage",
            "printer",
            "phone",
            "ups",
            "camera",
            "iot",
            "other",
            "unknown"
        ]
    );
    for (i, want) in names.iter().enumerate() {
        let value = i32::try_from(i + 1).expect("small");
        let c = proto::Category::try_from(value).expect("a category");
        assert_eq!(category_name(value), *want, "{c:?}");
        assert_eq!(category_from_name(want), Some(c));
        assert_eq!(category_from_name(&want.to_uppercase()), Some(c));
    }
    // The list covers the whole enum, and nothing maps to the zero value.
    assert!(proto::Category::try_from(22).is_err());
    assert_eq!(category_name(0), "unknown");
    assert_eq!(category_name(99), "unknown");
    assert_eq!(category_from_name("unspecified"), None);
    assert_eq!(category_from_name("toaster"), None);
    assert_eq!(category_name(proto::Category::L3Switch as i32), "l3_switch");
}

#[test]
fn state_names_are_lowercase_without_prefix() {
    use proto::{ConfigState, RunKind, RunState, RunTrigger, SourceState};
    let sources: Vec<String> = (1..=7).map(source_state_name).collect();
    assert_eq!(
        sources,
        [
            "pending",
            "ok",
            "syncing",
            "partial",
            "failed",
            "credentials_rejected",
            "removals_held"
        ]
    );
    assert_eq!(SourceState::try_from(8).ok(), None);
    let runs: Vec<String> = (1..=5).map(run_state_name).collect();
    assert_eq!(runs, ["running", "ok", "partial", "failed", "cancelled"]);
    assert_eq!(RunState::try_from(6).ok(), None);
    assert_eq!(run_kind_name(RunKind::Full as i32), "full");
    assert_eq!(run_kind_name(RunKind::Incremental as i32), "incremental");
    assert_eq!(run_trigger_name(RunTrigger::Schedule as i32), "schedule");
    assert_eq!(run_trigger_name(RunTrigger::Manual as i32), "manual");
    assert_eq!(run_trigger_name(RunTrigger::Config as i32), "config");
    assert_eq!(config_state_name(ConfigState::Ok as i32), "ok");
    assert_eq!(config_state_name(ConfigState::Rejected as i32), "rejected");
    assert_eq!(run_state_name(0), "unspecified");
    assert_eq!(run_state_name(42), "unspecified");
}

#[test]
fn asset_json_carries_the_design_field_names() {
    let asset = proto::Asset {
        id: 42,
        source: "auvik".into(),
        external_id: "dev-1".into(),
        client: "Contoso Ltd".into(),
        source_client: "contoso".into(),
        name: "core-sw1".into(),
        category: proto::Category::L3Switch as i32,
        vendor_type: "l3Switch".into(),
        manufacturer: "Cisco".into(),
        model: "C9300".into(),
        serial: "FOC123".into(),
        mac_addresses: vec!["00:11:22:33:44:55".into()],
        ip_addresses: vec!["10.0.0.2".into(), "10.0.1.2".into()],
        os: "IOS-XE".into(),
        firmware: "17.9".into(),
        online_status: "online".into(),
        managed: None,
        billable: false,
        first_seen: ts(1_700_000_000),
        last_seen: Some(Timestamp {
            seconds: 1_700_000_100,
            nanos: 500_000_000,
        }),
        updated_at: ts(1_700_000_050),
        removed_at: None,
        device_id: 7,
        raw: String::new(),
        purchase_date: "2021-03-01".into(),
        warranty_expires: String::new(),
        warranty_status: proto::WarrantyStatus::NotCovered as i32,
        support_status: proto::SupportStatus::SecurityOnly as i32,
        age_days: Some(1200),
        purchase_date_raw: String::new(),
        warranty_expires_raw: "31/13/2027".into(),
    };
    let record = AssetRecord::from(asset);
    let v = serde_json::to_value(&record).expect("json");
    assert_eq!(keys(&record), sorted(&AssetRecord::csv_header()));
    assert_eq!(v["category"], "l3_switch");
    assert_eq!(v["managed"], serde_json::Value::Null);
    assert_eq!(v["removed_at"], serde_json::Value::Null);
    assert_eq!(v["first_seen"], "2023-11-14T22:13:20Z");
    assert_eq!(v["last_seen"], "2023-11-14T22:15:00.500Z");
    assert_eq!(
        v["ip_addresses"],
        serde_json::json!(["10.0.0.2", "10.0.1.2"])
    );
    assert_eq!(v["id"], 42);
    assert_eq!(v["device_id"], 7);
    assert_eq!(v["purchase_date"], "2021-03-01");
    assert_eq!(v["warranty_expires"], serde_json::Value::Null);
    assert_eq!(v["warranty_status"], "not_covered");
    assert_eq!(v["support_status"], "security_only");
    assert_eq!(v["age_days"], 1200);
    assert_eq!(v["warranty_expires_raw"], "31/13/2027");
    // Field order in the output is the CONTRACT §4 order.
    let text = serde_json::to_string(&record).expect("json");
    let mut last = 0;
    for k in AssetRecord::csv_header() {
        let at = text.find(&format!("\"{k}\":")).expect("present");
        assert!(at >= last, "{k} out of order");
        last = at;
    }
    // CSV rows match the header.
    let row = record.csv_row();
    assert_eq!(row.len(), AssetRecord::csv_header().len());
    assert_eq!(row[12], "10.0.0.2;10.0.1.2");
    assert_eq!(row[16], "");
}

#[test]
fn run_json_has_counts_at_top_level() {
    let run = proto::SyncRun {
        id: 12,
        source: "auvik".into(),
        kind: proto::RunKind::Full as i32,
        trigger: proto::RunTrigger::Manual as i32,
        started: ts(1_700_000_000),
        finished: None,
        state: proto::RunState::Running as i32,
        counts: Some(proto::RunCounts {
            fetched: 3400,
            added: 1,
            updated: 2,
            unchanged: 3,
            removed: 4,
            skipped: 5,
            skipped_units: 1,
            removals_held: 30,
        }),
        requests: 50,
        retries: 2,
        error: String::new(),
    };
    let record = RunRecord::from(run);
    assert_eq!(
        keys(&record),
        sorted(&[
            "id",
            "source",
            "kind",
            "trigger",
            "started",
            "finished",
            "state",
            "fetched",
            "added",
            "updated",
            "unchanged",
            "removed",
            "skipped",
            "skipped_units",
            "removals_held",
            "requests",
            "retries",
            "error"
        ])
    );
    let v = serde_json::to_value(&record).expect("json");
    assert_eq!(v["kind"], "full");
    assert_eq!(v["trigger"], "manual");
    assert_eq!(v["state"], "running");
    assert_eq!(v["finished"], serde_json::Value::Null);
    assert_eq!(v["fetched"], 3400);
    assert_eq!(v["removed"], 4);
    assert_eq!(v["skipped"], 5);
    assert_eq!(v["skipped_units"], 1);
    assert_eq!(v["removals_held"], 30);
    assert_eq!(record.csv_row().len(), RunRecord::csv_header().len());
}

#[test]
fn counts_json_has_client_and_the_nine_services() {
    let c = proto::BillableCounts {
        client: "Contoso Ltd".into(),
        total_billable: 9,
        firewalls: 1,
        controllers: 1,
        routers: 1,
        l3_switches: 1,
        voip_switches: 1,
        switch_stacks: 1,
        total_switches: 5,
        access_points: 3,
    };
    let nine = [
        "total_billable",
        "firewalls",
        "controllers",
        "routers",
        "l3_switches",
        "voip_switches",
        "switch_stacks",
        "total_switches",
        "access_points",
    ];
    let record = CountsRecord::from(c.clone());
    let mut want = vec!["client"];
    want.extend(nine);
    assert_eq!(keys(&record), sorted(&want));
    assert_eq!(CountsRecord::csv_header(), &want[..]);

    let max = proto::BillableCounts {
        total_billable: 11,
        ..c.clone()
    };
    let other = proto::BillableCounts {
        client: "Fabrikam".into(),
        total_billable: 2,
        ..Default::default()
    };
    let rec = proto::BillableReconciliation {
        client: "Contoso Ltd".into(),
        average_billable: 9.25,
        days: 28,
        auvik_average_billable: Some(8.0),
        auvik_days: 31,
        difference: Some(1.25),
        auvik_fetched_at: None,
    };
    let joined = PeriodCountsRecord::join("2025-03", vec![c], vec![other, max], &[rec]);
    assert_eq!(joined.len(), 2);
    assert_eq!(joined[0].client, "Contoso Ltd");
    assert_eq!(joined[0].total_billable, 9);
    assert_eq!(joined[0].max_total_billable, 11);
    assert_eq!(joined[1].client, "Fabrikam");
    assert_eq!(joined[1].total_billable, 0);
    assert_eq!(joined[1].max_total_billable, 2);
    let mut want = vec!["client", "period"];
    want.extend(nine);
    let maxes: Vec<String> = nine.iter().map(|n| format!("max_{n}")).collect();
    want.extend(maxes.iter().map(String::as_str));
    want.extend([
        "days",
        "average_billable",
        "auvik_average_billable",
        "auvik_days",
        "difference",
    ]);
    assert_eq!(keys(&joined[0]), sorted(&want));
    assert_eq!(PeriodCountsRecord::csv_header(), &want[..]);
    assert_eq!(joined[0].csv_row().len(), want.len());
    let row = joined[0].table_row();
    assert_eq!(row[1], "9/11");
    assert_eq!(row[row.len() - 3..], ["9.25", "8", "+1.25"]);
    // A client without Auvik's figure: null in JSON, empty in CSV, "-" in the table.
    assert_eq!(joined[1].auvik_average_billable, None);
    let json = serde_json::to_value(&joined[1]).unwrap();
    assert!(json["auvik_average_billable"].is_null() && json["difference"].is_null());
    assert_eq!(joined[1].csv_row().last().map(String::as_str), Some(""));
    assert_eq!(joined[1].table_row().last().map(String::as_str), Some("-"));
}

#[test]
fn source_and_status_json_field_names() {
    let source = proto::Source {
        name: "auvik".into(),
        kind: "auvik".into(),
        state: proto::SourceState::CredentialsRejected as i32,
        state_detail: "401: update api_key".into(),
        base_url: "https://auvikapi.us1.my.auvik.com".into(),
        interval: Some(PbDuration {
            seconds: 1800,
            nanos: 0,
        }),
        full_interval: Some(PbDuration {
            seconds: 86400,
            nanos: 0,
        }),
        last_run: Some(proto::SyncRun {
            id: 3,
            state: proto::RunState::Failed as i32,
            ..Default::default()
        }),
        next_run_at: None,
        asset_count: 10,
        removed_from_config: false,
        billing_note: String::new(),
    };
    let record = SourceRecord::from(source.clone());
    assert_eq!(
        keys(&record),
        sorted(&[
            "name",
            "kind",
            "state",
            "state_detail",
            "base_url",
            "interval",
            "full_interval",
            "last_run",
            "next_run_at",
            "asset_count",
            "removed_from_config",
            "billing_note"
        ])
    );
    let v = serde_json::to_value(&record).expect("json");
    assert_eq!(v["state"], "credentials_rejected");
    assert_eq!(v["interval"], "30m");
    assert_eq!(v["full_interval"], "1day");
    assert_eq!(v["last_run"]["state"], "failed");
    assert_eq!(v["last_run"]["fetched"], 0);
    assert_eq!(v["next_run_at"], serde_json::Value::Null);
    assert_eq!(record.csv_row().len(), SourceRecord::csv_header().len());

    let status = StatusRecord::from(proto::GetStatusResponse {
        version: "0.1.0".into(),
        started_at: ts(1_700_000_000),
        uptime: Some(PbDuration {
            seconds: 3725,
            nanos: 7,
        }),
        config: Some(proto::ConfigStatus {
            path: "/etc/assetd/config.toml".into(),
            state: proto::ConfigState::Rejected as i32,
            last_error: "3:1 unknown key".into(),
            loaded_at: ts(1_700_000_000),
            generation: 2,
        }),
        database: None,
        sources: vec![source],
        unmapped_clients: 3,
    });
    let v = serde_json::to_value(&status).expect("json");
    assert_eq!(
        keys(&status),
        sorted(&[
            "version",
            "started_at",
            "uptime",
            "config",
            "database",
            "sources",
            "unmapped_clients",
            "attention"
        ])
    );
    assert_eq!(
        keys(&status.config),
        sorted(&["path", "state", "last_error", "loaded_at", "generation"])
    );
    assert_eq!(
        keys(&status.database),
        sorted(&["path", "size_bytes", "asset_count"])
    );
    assert_eq!(v["uptime"], "1h 2m 5s");
    assert_eq!(v["config"]["state"], "rejected");
    assert_eq!(v["database"]["size_bytes"], 0);
    assert_eq!(v["sources"][0]["name"], "auvik");
    assert_eq!(v["unmapped_clients"], 3);
    assert_eq!(v["attention"], serde_json::json!([]));
    let kv = status.key_values();
    assert_eq!(kv[0], ("version".to_owned(), "0.1.0".to_owned()));
    assert!(kv.contains(&("config.state".to_owned(), "rejected".to_owned())));
    assert!(kv.contains(&(
        "sources.auvik.state".to_owned(),
        "credentials_rejected".to_owned()
    )));
}

#[test]
fn client_change_device_json_field_names() {
    let client = ClientRecord::from(proto::Client {
        name: "Contoso Ltd".into(),
        members: vec![proto::ClientMember {
            source: "syncro".into(),
            external_id: "77".into(),
            name: "Contoso, Ltd.".into(),
            asset_count: 3,
        }],
        asset_count: 3,
        excluded: false,
        unmapped: true,
        suggestion: "[[client]]\nname = \"Contoso Ltd\"\n".into(),
    });
    assert_eq!(
        keys(&client),
        sorted(&[
            "name",
            "members",
            "asset_count",
            "excluded",
            "unmapped",
            "suggestion"
        ])
    );
    assert_eq!(
        keys(&client.members[0]),
        sorted(&["source", "external_id", "name", "asset_count"])
    );
    assert_eq!(client.csv_row()[1], "syncro:Contoso, Ltd.");

    let change = ChangeRecord::from(proto::AssetChange {
        asset_id: 42,
        run_id: 3,
        changed_at: ts(0),
        field: "serial".into(),
        old_value: "A".into(),
        new_value: "B".into(),
    });
    assert_eq!(
        keys(&change),
        sorted(&[
            "asset_id",
            "run_id",
            "changed_at",
            "field",
            "old_value",
            "new_value"
        ])
    );
    assert_eq!(change.changed_at.as_deref(), Some("1970-01-01T00:00:00Z"));

    let device = DeviceRecord::from(proto::Device {
        id: 1,
        category: proto::Category::Firewall as i32,
        managed: Some(true),
        ..Default::default()
    });
    assert_eq!(
        keys(&device),
        sorted(&[
            "id",
            "client",
            "name",
            "category",
            "serial",
            "sources",
            "asset_ids",
            "managed",
            "billable",
            "purchase_date",
            "purchase_date_source",
            "warranty_expires",
            "warranty_expires_source",
            "warranty_status",
            "support_status",
            "age_days"
        ])
    );
    assert_eq!(device.category, "firewall");
    assert_eq!(
        device.warranty_status, "unknown",
        "unspecified reads as unknown"
    );
    assert_eq!(device.support_status, None);

    let summary = LifecycleRecord::from(proto::LifecycleSummary {
        client: "Contoso Ltd".into(),
        devices: 9,
        warranty_expired: 2,
        expiring_90d: 1,
        expiring_180d: 2,
        expiring_365d: 4,
        expiring: vec![
            proto::ExpiringWithin {
                days: 30,
                devices: 0,
            },
            proto::ExpiringWithin {
                days: 90,
                devices: 1,
            },
        ],
        ..Default::default()
    });
    assert_eq!(
        keys(&summary),
        sorted(&[
            "client",
            "devices",
            "warranty_expired",
            "expiring_90d",
            "expiring_180d",
            "expiring_365d",
            "warranty_unknown",
            "out_of_support",
            "warranty_covered",
            "warranty_not_covered",
            "expiring"
        ])
    );
    assert_eq!(
        summary.csv_row().last().map(String::as_str),
        Some("30:0;90:1")
    );
    let (cols, rows) = LifecycleRecord::table(std::slice::from_ref(&summary));
    let headers: Vec<&str> = cols.iter().map(|c| c.header).collect();
    assert_eq!(
        headers,
        [
            "CLIENT",
            "DEVICES",
            "EXPIRED",
            "EXP 30D",
            "EXP 90D",
            "UNKNOWN",
            "NOT COVERED",
            "OUT OF SUPPORT"
        ]
    );
    assert_eq!(rows[0][3..5], ["0".to_owned(), "1".to_owned()]);
}

#[test]
fn time_helpers() {
    assert_eq!(
        short_ts(&Some("2025-03-01T12:34:56Z".into())),
        "2025-03-01 12:34"
    );
    assert_eq!(short_ts(&None), "-");
    assert_eq!(human_secs(3725), "1h 2m");
    assert_eq!(human_secs(59), "59s");
    let now = DateTime::parse_from_rfc3339("2025-03-01T12:00:00Z")
        .expect("valid")
        .with_timezone(&Utc);
    assert_eq!(
        relative(&Some("2025-03-01T11:55:00Z".into()), now),
        "5m ago"
    );
    assert_eq!(
        relative(&Some("2025-03-01T12:25:00Z".into()), now),
        "in 25m"
    );
    assert_eq!(relative(&None, now), "-");
    assert_eq!(
        elapsed(
            &Some("2025-03-01T11:55:00Z".into()),
            &Some("2025-03-01T11:56:02Z".into())
        ),
        Some("1m 2s".to_owned())
    );
    assert_eq!(
        timestamp(Some(&Timestamp {
            seconds: 0,
            nanos: -1
        })),
        None
    );
    assert_eq!(
        pb_duration(std::time::Duration::from_secs(30 * 86400)),
        PbDuration {
            seconds: 2_592_000,
            nanos: 0
        }
    );
}
