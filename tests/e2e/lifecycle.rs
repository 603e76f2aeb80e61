//! End-to-end: lifecycle (issue 22) over all three vendors, on simulator data built so that
//! every answer is known. Warranty and support facts are set on each simulated device
//! relative to the test's UTC date; the expected summary per client, the merged devices and
//! the filters are written out here from CONTRACT §4's rules, not from the agent's code.
//!
//! Also: unparseable dates are kept as given and reported, never invented; changes are
//! history rows; an incremental run keeps the values; a lifecycle endpoint the API user may
//! not read fails nothing and keeps them too.

use crate::common;
use crate::common::{Agent, ThreeSims};
use assetd::sim::auvik::{Fault, FaultRule, SimLifecycle, SimWarranty};
use chrono::{Days, NaiveDate, Utc};
use serde_json::{Value, json};
use std::collections::BTreeMap;

fn config(agent: &Agent, sims: &ThreeSims) -> String {
    let mut text = agent.agent_section();
    text += &sims.sources(
        agent.dir.path(),
        "requests_per_minute = 6000\n\
         warranty_property = \"Warranty Expires\"\npurchase_property = \"Purchase Date\"\n",
    );
    text += "[[client]]\nname = \"Internal Lab\"\nexclude = true\nmembers = [\"auvik:lab\"]\n";
    text
}

/// The test's UTC date, `n` days on (negative: back).
fn day(today: NaiveDate, n: i64) -> NaiveDate {
    if n >= 0 {
        today + Days::new(n.unsigned_abs())
    } else {
        today - Days::new(n.unsigned_abs())
    }
}

fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Auvik's form of a warranty expiration date (the spec's example's shape).
fn auvik_date(d: NaiveDate) -> String {
    format!("{}T00:00:00.000Z", iso(d))
}

fn warranty(status: Option<&str>, expires: Option<String>) -> Option<SimWarranty> {
    Some(SimWarranty {
        coverage_status: status.map(str::to_string),
        expiration_date: expires,
        ..SimWarranty::default()
    })
}

fn support(status: &str) -> Option<SimLifecycle> {
    Some(SimLifecycle {
        last_support_status: Some(status.to_string()),
        ..SimLifecycle::default()
    })
}

/// The dataset, dated around `today` (see each line for what it means); returns the Auvik
/// devices' ids by name.
fn load(sims: &ThreeSims, today: NaiveDate) -> BTreeMap<&'static str, String> {
    let d = |n| day(today, n);
    let contoso = sims
        .auvik
        .add_tenant("Contoso Ltd", "contoso")
        .expect("tenant");
    let fabrikam = sims
        .auvik
        .add_tenant("Fabrikam", "fabrikam")
        .expect("tenant");
    let lab = sims
        .auvik
        .add_tenant("Internal Lab", "lab")
        .expect("tenant");
    let mut auvik = BTreeMap::new();
    let mut add = |name: &'static str,
                   tenant: &str,
                   serial: &str,
                   w: Option<SimWarranty>,
                   l: Option<SimLifecycle>| {
        let id = sims.auvik.add_device(tenant);
        assert!(sims.auvik.update_device(&id, |dev| {
            dev.name = name.to_string();
            dev.device_type = "switch".into();
            dev.serial = Some(serial.to_string());
            dev.mac_addresses = Vec::new();
            dev.manage_status = true;
            dev.warranty = w;
            dev.lifecycle = l;
        }));
        auvik.insert(name, id);
    };
    // Expires today: still covered, and expiring (windows include today).
    add(
        "a1-today",
        &contoso,
        "SN-A1",
        warranty(Some("Covered"), Some(auvik_date(d(0)))),
        support("covered"),
    );
    // Expired yesterday, though Auvik's statement still says covered; out of support.
    add(
        "a2-yesterday",
        &contoso,
        "SN-A2",
        warranty(Some("Covered"), Some(auvik_date(d(-1)))),
        support("expired"),
    );
    // The 90-day window's last day, and the day after it.
    add(
        "a3-plus90",
        &contoso,
        "SN-A3",
        warranty(None, Some(auvik_date(d(90)))),
        None,
    );
    add(
        "a4-plus91",
        &contoso,
        "SN-A4",
        warranty(None, Some(auvik_date(d(91)))),
        None,
    );
    // A date that is not one: kept as given, unknown.
    add(
        "a5-odd",
        &contoso,
        "SN-A5",
        warranty(None, Some("Not Available".into())),
        support("empty"),
    );
    // No warranty record at all; a support status only.
    add("a6-none", &contoso, "SN-A6", None, support("securityOnly"));
    // Auvik says not covered.
    add(
        "a7-notcovered",
        &contoso,
        "SN-A7",
        warranty(Some("Not Covered"), None),
        None,
    );
    // Expired by Auvik's date, but the same device (serial) is reported by Syncro with a
    // later expiry and by Passportal with an earlier purchase date.
    add(
        "a8-merged",
        &contoso,
        "SN-MERGED",
        warranty(Some("Covered"), Some(auvik_date(d(-10)))),
        None,
    );
    // A year and a day: covered, in no window.
    add(
        "f1-plus366",
        &fabrikam,
        "SN-F1",
        warranty(Some("Covered"), Some(auvik_date(d(366)))),
        None,
    );
    // An excluded client's expired device.
    add(
        "l1-lab",
        &lab,
        "SN-L1",
        warranty(None, Some(auvik_date(d(-400)))),
        support("expired"),
    );

    let s_contoso = sims.syncro.add_customer("Contoso Ltd");
    let s_fabrikam = sims.syncro.add_customer("Fabrikam");
    let add = |name: &'static str, customer: i64, serial: &str, props: Value| {
        let id = sims.syncro.add_asset(customer).expect("asset");
        assert!(sims.syncro.update_asset(id, |a| {
            a.name = name.to_string();
            a.asset_type = "Switch".into();
            a.asset_serial = Some(serial.to_string());
            a.properties = props;
        }));
    };
    // MM/DD/YYYY, as US MSPs type it.
    add(
        "s1-merged",
        s_contoso,
        "SN-MERGED",
        json!({"Warranty Expires": d(200).format("%m/%d/%Y").to_string(),
               "Purchase Date": d(-1000).format("%d.%m.%Y").to_string()}),
    );
    // Day-first with slashes is not guessed; the purchase date is US style.
    add(
        "s2-odd",
        s_fabrikam,
        "SN-S2",
        json!({"Warranty Expires": "31/12/2027", "Purchase Date": "03/04/2021"}),
    );
    add(
        "s3-nothing",
        s_fabrikam,
        "SN-S3",
        json!({"Make": "Netgear"}),
    );

    let p_contoso = sims.passportal.add_client("Contoso Ltd");
    let p_northwind = sims.passportal.add_client("Northwind");
    let add = |name: &'static str,
               client: i64,
               serial: &str,
               purchase: Option<String>,
               install: Option<String>,
               expires: Option<String>| {
        let id = sims.passportal.add_asset(client).expect("asset");
        assert!(sims.passportal.update_asset(id, |a| {
            a.label = name.to_string();
            a.asset_type = Some("Switch".into());
            a.serial = Some(serial.to_string());
            a.mac_address = None;
            a.purchase_date = purchase;
            a.install_date = install;
            a.expiration_date = expires;
        }));
    };
    add(
        "p1-merged",
        p_contoso,
        "SN-MERGED",
        Some(iso(d(-1200))),
        None,
        Some(iso(d(100))),
    );
    add(
        "n1-plus30",
        p_northwind,
        "SN-N1",
        None,
        None,
        Some(iso(d(30))),
    );
    // No purchase date: the install date stands in; an expiry in words is kept as given.
    add(
        "n2-odd",
        p_northwind,
        "SN-N2",
        None,
        Some(iso(d(-400))),
        Some("next year".into()),
    );
    auvik
}

#[derive(Debug, PartialEq, Eq)]
struct Expected {
    devices: i64,
    warranty_expired: i64,
    expiring: [i64; 3],
    warranty_unknown: i64,
    out_of_support: i64,
    warranty_covered: i64,
    warranty_not_covered: i64,
}

fn from_json(v: &Value) -> Expected {
    let n = |k: &str| v[k].as_i64().unwrap_or_else(|| panic!("{k} in {v}"));
    Expected {
        devices: n("devices"),
        warranty_expired: n("warranty_expired"),
        expiring: [n("expiring_90d"), n("expiring_180d"), n("expiring_365d")],
        warranty_unknown: n("warranty_unknown"),
        out_of_support: n("out_of_support"),
        warranty_covered: n("warranty_covered"),
        warranty_not_covered: n("warranty_not_covered"),
    }
}

/// The summary the dataset must give, derived by hand from its definition above.
fn expected() -> BTreeMap<&'static str, Expected> {
    BTreeMap::from([
        (
            // a1..a7 and the merged device (a8 + s1 + p1): 8 devices. Expired: a2 (the merged
            // device is covered by Syncro's later date). Covered: a1 (0 days), a3 (90), a4
            // (91), merged (200). Unknown: a5, a6. Not covered: a7. Out of support: a2.
            "Contoso Ltd",
            Expected {
                devices: 8,
                warranty_expired: 1,
                expiring: [2, 3, 4],
                warranty_unknown: 2,
                out_of_support: 1,
                warranty_covered: 4,
                warranty_not_covered: 1,
            },
        ),
        (
            // f1 (366 days: covered, in no window), s2 (unreadable), s3 (nothing).
            "Fabrikam",
            Expected {
                devices: 3,
                warranty_expired: 0,
                expiring: [0, 0, 0],
                warranty_unknown: 2,
                out_of_support: 0,
                warranty_covered: 1,
                warranty_not_covered: 0,
            },
        ),
        (
            // n1 (30 days), n2 (unreadable).
            "Northwind",
            Expected {
                devices: 2,
                warranty_expired: 0,
                expiring: [1, 1, 1],
                warranty_unknown: 1,
                out_of_support: 0,
                warranty_covered: 1,
                warranty_not_covered: 0,
            },
        ),
    ])
}

/// Runs `check` with the UTC date; again if the date changed while it ran (the agent and the
/// test must agree on "today").
fn on_one_day(mut check: impl FnMut(NaiveDate) -> bool) {
    for _ in 0..2 {
        let before = Utc::now().date_naive();
        let ok = check(before);
        if Utc::now().date_naive() == before {
            assert!(ok);
            return;
        }
    }
    panic!("the UTC date changed twice during the test");
}

fn summary(agent: &Agent, args: &[&str]) -> BTreeMap<String, Value> {
    let mut full = vec!["lifecycle"];
    full.extend_from_slice(args);
    agent.rows_by_client(&full)
}

fn asset<'a>(assets: &'a [Value], name: &str) -> &'a Value {
    assets
        .iter()
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("no asset {name}"))
}

fn names(assets: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = assets
        .iter()
        .map(|a| a["name"].as_str().unwrap_or_default().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn lifecycle_counts_merges_filters_and_odd_dates_over_three_vendors() {
    let sims = common::start_three_sims(2200, Some(6000));
    let today = Utc::now().date_naive();
    let loaded = load(&sims, today);
    let agent = Agent::start_with(|a| config(a, &sims));
    agent.wait_for("the first syncs", |a| {
        ["auvik", "syncro", "passportal"]
            .iter()
            .all(|s| a.state_of(s) == "ok")
    });
    // Each full run read its lifecycle data: exact summaries per client; the excluded one
    // is left out; clients the dataset does not define (the MSP's own Passportal client)
    // have no devices.
    on_one_day(|t| {
        if t != today {
            return true; // the dataset is dated for `today`: nothing more to check then
        }
        let got = summary(&agent, &[]);
        assert!(
            !got.contains_key("Internal Lab"),
            "excluded clients are left out"
        );
        for (client, want) in expected() {
            let row = got
                .get(client)
                .unwrap_or_else(|| panic!("no summary for {client}: {got:#?}"));
            assert_eq!(&from_json(row), &want, "{client}: {row}");
        }
        for (client, row) in &got {
            if !expected().contains_key(client.as_str()) {
                assert_eq!(row["devices"], 0, "{client}");
            }
        }
        // --within adds windows; the list holds every window, ascending.
        let one = summary(&agent, &["--client", "Contoso Ltd", "--within", "0d,91d"]);
        assert_eq!(one.len(), 1);
        let windows: Vec<(i64, i64)> = one["Contoso Ltd"]["expiring"]
            .as_array()
            .expect("expiring")
            .iter()
            .map(|w| (w["days"].as_i64().unwrap(), w["devices"].as_i64().unwrap()))
            .collect();
        assert_eq!(windows, [(0, 1), (90, 2), (91, 3), (180, 3), (365, 4)]);
        true
    });

    // Assets carry the contract's fields; a date that is not one is kept as given.
    let assets = agent.assets(false);
    let a1 = asset(&assets, "a1-today");
    assert_eq!(a1["warranty_expires"], iso(today));
    assert_eq!(a1["warranty_status"], "covered");
    assert_eq!(a1["support_status"], "covered");
    assert_eq!(a1["purchase_date"], Value::Null);
    assert_eq!(a1["age_days"], Value::Null);
    let a2 = asset(&assets, "a2-yesterday");
    assert_eq!(
        (&a2["warranty_status"], &a2["support_status"]),
        (&json!("expired"), &json!("expired"))
    );
    let a5 = asset(&assets, "a5-odd");
    assert_eq!(a5["warranty_expires"], Value::Null, "never invented");
    assert_eq!(a5["warranty_expires_raw"], "Not Available");
    assert_eq!(a5["warranty_status"], "unknown");
    assert_eq!(a5["support_status"], Value::Null, "`empty` is no status");
    assert_eq!(asset(&assets, "a6-none")["support_status"], "security_only");
    assert_eq!(
        asset(&assets, "a7-notcovered")["warranty_status"],
        "not_covered"
    );
    let s1 = asset(&assets, "s1-merged");
    assert_eq!(s1["warranty_expires"], iso(day(today, 200)));
    assert_eq!(s1["purchase_date"], iso(day(today, -1000)));
    assert_eq!(s1["age_days"], 1000);
    let s2 = asset(&assets, "s2-odd");
    assert_eq!(s2["warranty_expires"], Value::Null);
    assert_eq!(s2["warranty_expires_raw"], "31/12/2027");
    assert_eq!(s2["purchase_date"], "2021-03-04");
    let n2 = asset(&assets, "n2-odd");
    assert_eq!(
        n2["purchase_date"],
        iso(day(today, -400)),
        "the install date stands in"
    );
    assert_eq!(n2["warranty_expires_raw"], "next year");
    // ... and reported: in the run's message (the run stays ok) and the log.
    for (source, text) in [
        ("auvik", "Not Available"),
        ("syncro", "31/12/2027"),
        ("passportal", "next year"),
    ] {
        let run = &agent.json(&["runs", "--source", source])[0];
        assert_eq!(run["state"], "ok", "{run}");
        let error = run["error"].as_str().unwrap_or_default();
        assert!(
            error.contains(text) && error.contains("not a date"),
            "{source}: {error}"
        );
    }
    assert!(agent.log_text().contains("Not Available"));

    // The merge rule: the device takes the earliest purchase date and the latest expiry of
    // its members, and says which source gave each.
    let devices = agent.json(&["devices", "--client", "Contoso Ltd"]);
    let merged = devices
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["asset_ids"].as_array().is_some_and(|a| a.len() == 3))
        .unwrap_or_else(|| panic!("no merged device: {devices:#}"));
    assert_eq!(merged["purchase_date"], iso(day(today, -1200)));
    assert_eq!(merged["purchase_date_source"], "passportal");
    assert_eq!(merged["warranty_expires"], iso(day(today, 200)));
    assert_eq!(merged["warranty_expires_source"], "syncro");
    assert_eq!(merged["warranty_status"], "covered");
    assert_eq!(merged["age_days"], 1200);
    assert_eq!(
        asset(&assets, "a8-merged")["warranty_status"],
        "expired",
        "the asset alone"
    );

    // The filters, on assets and on devices.
    let list = |args: &[&str]| {
        let mut full = vec!["assets", "list"];
        full.extend_from_slice(args);
        names(agent.json(&full).as_array().unwrap())
    };
    assert_eq!(
        list(&["--warranty-expires-within", "90d"]),
        ["a1-today", "a3-plus90", "n1-plus30"]
    );
    assert_eq!(
        list(&["--warranty-expires-within", "90d", "--client", "Northwind"]),
        ["n1-plus30"]
    );
    assert_eq!(
        list(&["--warranty-expired"]),
        ["a2-yesterday", "a8-merged", "l1-lab"]
    );
    assert_eq!(
        list(&["--older-than", "1000d"]),
        ["p1-merged", "s1-merged", "s2-odd"]
    );
    let expired_devices = agent.json(&["devices", "--warranty-expired"]);
    let mut expired_ids: Vec<i64> = expired_devices
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_i64().unwrap())
        .collect();
    expired_ids.sort();
    let mut want: Vec<i64> = ["a2-yesterday", "l1-lab"]
        .iter()
        .map(|n| asset(&assets, n)["device_id"].as_i64().unwrap())
        .collect();
    want.sort();
    assert_eq!(expired_ids, want, "the merged device is covered");
    assert_eq!(
        agent
            .json(&["devices", "--warranty-expires-within", "1y"])
            .as_array()
            .unwrap()
            .len(),
        4 + 1,
        "Contoso's four and Northwind's one"
    );

    // A renewal is a history row; an incremental Auvik run (which reads no lifecycle) keeps
    // every value.
    let a1_id = loaded["a1-today"].clone();
    let renewed = day(today, 700);
    assert!(sims.auvik.update_device(&a1_id, |d| {
        d.warranty = warranty(Some("Covered"), Some(auvik_date(renewed)));
    }));
    let run = agent.sync_source("auvik", true);
    assert_eq!(run["state"], "ok", "{run}");
    let a1_asset = asset(&agent.assets(false), "a1-today")["id"].to_string();
    let history = agent.json(&["assets", "history", &a1_asset]);
    assert!(
        history
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["field"] == "warranty_expires"
                && c["old_value"] == iso(today)
                && c["new_value"] == iso(renewed)),
        "{history:#}"
    );
    let before = agent.assets(false);
    let run = agent.sync_source("auvik", false);
    assert_eq!(run["kind"], "incremental", "{run}");
    let lifecycle_fields = |a: &Value| {
        [
            "purchase_date",
            "warranty_expires",
            "warranty_status",
            "support_status",
            "warranty_expires_raw",
        ]
        .map(|f| a[f].clone())
    };
    let after = agent.assets(false);
    for a in &before {
        let b = asset(&after, a["name"].as_str().unwrap());
        assert_eq!(lifecycle_fields(a), lifecycle_fields(b), "{}", a["name"]);
    }

    // Without the Hardware lifecycle permission: the full run is ok (not partial), its
    // devices, counts and removals are as before, the note says why, and the stored values
    // stay (the vendor did not say they are gone: it was not asked).
    let counts_before = agent.json(&["counts"]);
    sims.auvik.deny_lifecycle(true);
    let run = agent.sync_source("auvik", true);
    assert_eq!(run["state"], "ok", "{run}");
    assert_eq!(run["removed"], 0);
    let error = run["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("403") && error.contains("Hardware lifecycle"),
        "{error}"
    );
    assert!(agent.log_text().contains("Hardware lifecycle"));
    let denied = agent.assets(false);
    assert_eq!(denied.len(), before.len());
    for a in &before {
        let b = asset(&denied, a["name"].as_str().unwrap());
        assert_eq!(lifecycle_fields(a), lifecycle_fields(b), "{}", a["name"]);
    }
    assert_eq!(agent.json(&["counts"]), counts_before);
    sims.auvik.deny_lifecycle(false);

    // A listing that answers 404 is a note too; one that refuses pages of 1000 (400: the
    // spec documents only the default, 100) is asked again at 100 and read to the end.
    sims.auvik.faults().push(
        FaultRule::times(
            Fault::ErrorStatus {
                status: 404,
                message: "Not found".into(),
            },
            1,
        )
        .on("/v1/inventory/device/lifecycle"),
    );
    sims.auvik.faults().push(
        FaultRule::times(
            Fault::ErrorStatus {
                status: 400,
                message: "page[first] must be at most 100".into(),
            },
            1,
        )
        .on("/v1/inventory/device/warranty")
        .with_query("page%5Bfirst%5D=1000"),
    );
    let run = agent.sync_source("auvik", true);
    assert_eq!(run["state"], "ok", "{run}");
    let error = run["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("404") && error.contains("lifecycle"),
        "{error}"
    );
    assert!(
        !error.contains("warranty data could not be read"),
        "{error}"
    );
    assert_eq!(sims.auvik.faults().rules(), [], "both faults were served");
    let refetched = agent.assets(false);
    for a in &before {
        let b = asset(&refetched, a["name"].as_str().unwrap());
        assert_eq!(lifecycle_fields(a), lifecycle_fields(b), "{}", a["name"]);
    }
    sims.auvik.faults().clear();

    // The vendor dropping a record is a change like any other: the warranty goes, by history.
    assert!(sims.auvik.update_device(&a1_id, |d| d.warranty = None));
    let run = agent.sync_source("auvik", true);
    assert_eq!(run["state"], "ok");
    assert_eq!(
        asset(&agent.assets(false), "a1-today")["warranty_expires"],
        Value::Null
    );
    let history = agent.json(&["assets", "history", &a1_asset]);
    assert!(
        history
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["field"] == "warranty_expires"
                && c["old_value"] == iso(renewed)
                && c["new_value"] == ""),
        "{history:#}"
    );
}

/// `assetctl lifecycle`'s table and CSV, and the JSON of an agent with nothing synced.
#[test]
fn the_lifecycle_verb_prints_every_format() {
    let sims = common::start_three_sims(2200, Some(6000));
    let today = Utc::now().date_naive();
    load(&sims, today);
    let agent = Agent::start_with(|a| config(a, &sims));
    agent.wait_for("the first syncs", |a| {
        ["auvik", "syncro", "passportal"]
            .iter()
            .all(|s| a.state_of(s) == "ok")
    });
    let table = agent.ctl(&["lifecycle", "--within", "30d"]);
    assert!(table.status.success());
    let text = String::from_utf8_lossy(&table.stdout);
    let header = text.lines().next().unwrap_or_default();
    for col in [
        "CLIENT",
        "DEVICES",
        "EXPIRED",
        "EXP 30D",
        "EXP 90D",
        "EXP 365D",
        "UNKNOWN",
        "OUT OF SUPPORT",
    ] {
        assert!(header.contains(col), "{header}");
    }
    assert!(text.contains("Contoso Ltd"), "{text}");
    assert!(String::from_utf8_lossy(&table.stderr).contains("(UTC)"));
    let csv = agent.ctl(&["-o", "csv", "lifecycle"]);
    let csv = String::from_utf8_lossy(&csv.stdout);
    assert!(
        csv.starts_with(
            "client,devices,warranty_expired,expiring_90d,expiring_180d,expiring_365d,warranty_unknown,out_of_support,warranty_covered,warranty_not_covered,expiring\r\n"
        ),
        "{csv}"
    );
    let export = agent.ctl(&["export", "--format", "csv"]);
    let export = String::from_utf8_lossy(&export.stdout);
    let head = export.lines().next().unwrap_or_default();
    assert!(
        head.ends_with(
            "purchase_date,warranty_expires,warranty_status,support_status,age_days,purchase_date_raw,warranty_expires_raw"
        ),
        "{head}"
    );
    let missing = agent.ctl(&["lifecycle", "--client", "Nobody"]);
    assert!(missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no client named"));
    let bad = agent.ctl(&["lifecycle", "--within", "soon"]);
    assert_eq!(bad.status.code(), Some(2));
}
