//! End-to-end: the real `assetd` and `assetctl` binaries against the Auvik simulator.

use crate::common;
use crate::common::{Agent, start_auvik};
use assetd::vendors::auvik::category_for;
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

fn by_external_id(assets: &[Value]) -> HashMap<String, Value> {
    assets
        .iter()
        .map(|a| {
            (
                a["external_id"].as_str().unwrap_or_default().to_string(),
                a.clone(),
            )
        })
        .collect()
}

fn n(run: &Value, field: &str) -> i64 {
    run[field]
        .as_i64()
        .unwrap_or_else(|| panic!("run has no numeric `{field}`: {run}"))
}

#[test]
fn full_sync_lands_every_device_and_a_resync_writes_nothing() {
    let sim = start_auvik(11, 6, 40);
    let agent = Agent::start(&sim, "");
    agent.wait_for("the first sync", |a| a.source_state() == "ok");

    let truth = sim.sim.devices();
    let names: HashMap<String, String> = sim
        .sim
        .tenants()
        .into_iter()
        .map(|t| (t.id.clone(), t.display_name.clone()))
        .collect();
    let assets = by_external_id(&agent.assets(false));
    assert_eq!(assets.len(), truth.len(), "every device lands once");
    for d in &truth {
        let a = &assets[&d.id];
        assert_eq!(a["source"], "auvik");
        assert_eq!(
            a["client"].as_str(),
            names.get(&d.tenant_id).map(|s| s.trim()),
            "client of {}",
            d.id
        );
        let category = category_for(&d.device_type).expect("spec type").as_str();
        assert_eq!(
            a["category"], category,
            "category of {} ({})",
            d.id, d.device_type
        );
        assert_eq!(a["vendor_type"], d.device_type.as_str());
        assert_eq!(
            a["managed"],
            Value::Bool(d.manage_status),
            "managed of {}",
            d.id
        );
        assert_eq!(
            a["serial"],
            d.serial.clone().unwrap_or_default().trim(),
            "serial of {}",
            d.id
        );
        assert_eq!(a["name"], d.name.trim());
        assert!(a["removed_at"].is_null());
    }

    let changes_before =
        agent.json(&["assets", "history", &assets[&truth[0].id]["id"].to_string()]);
    let run = agent.sync(true);
    assert_eq!(run["state"], "ok", "{run}");
    assert_eq!(run["kind"], "full");
    assert_eq!(
        (n(&run, "added"), n(&run, "updated"), n(&run, "removed")),
        (0, 0, 0),
        "{run}"
    );
    assert_eq!(n(&run, "unchanged"), truth.len() as i64, "{run}");
    assert_eq!(n(&run, "fetched"), truth.len() as i64, "{run}");
    let changes_after = agent.json(&["assets", "history", &assets[&truth[0].id]["id"].to_string()]);
    assert_eq!(
        changes_before, changes_after,
        "a resync without upstream change writes no history"
    );
}

#[test]
fn changes_get_history_and_removal_waits_for_a_full_run() {
    let sim = start_auvik(12, 3, 20);
    let agent = Agent::start(&sim, "");
    agent.wait_for("the first sync", |a| a.source_state() == "ok");
    let truth = sim.sim.devices();
    let (changed, removed) = (truth[0].id.clone(), truth[1].id.clone());

    assert!(
        sim.sim
            .update_device(&changed, |d| d.name = "core-sw-renamed".into())
    );
    let run = agent.sync(false);
    assert_eq!(
        (run["kind"].as_str(), run["state"].as_str()),
        (Some("incremental"), Some("ok")),
        "{run}"
    );
    assert_eq!(n(&run, "updated"), 1, "{run}");
    let assets = by_external_id(&agent.assets(false));
    assert_eq!(assets[&changed]["name"], "core-sw-renamed");
    let id = assets[&changed]["id"].to_string();
    let history = agent.json(&["assets", "history", &id]);
    assert!(
        history
            .as_array()
            .expect("array")
            .iter()
            .any(|h| h["field"] == "name" && h["new_value"] == "core-sw-renamed"),
        "{history}"
    );

    assert!(sim.sim.remove_device(&removed));
    let run = agent.sync(false);
    assert_eq!(
        n(&run, "removed"),
        0,
        "an incremental run removes nothing: {run}"
    );
    assert!(by_external_id(&agent.assets(false)).contains_key(&removed));

    let run = agent.sync(true);
    assert_eq!(
        (run["state"].as_str(), n(&run, "removed")),
        (Some("ok"), 1),
        "{run}"
    );
    assert!(!by_external_id(&agent.assets(false)).contains_key(&removed));
    let all = by_external_id(&agent.assets(true));
    assert!(
        all[&removed]["removed_at"].is_string(),
        "kept, with removed_at: {}",
        all[&removed]
    );
}

#[test]
fn rejected_credentials_stop_calls_until_the_key_changes() {
    let sim = start_auvik(13, 2, 10);
    let agent = Agent::start(&sim, "");
    agent.wait_for("the first sync", |a| a.source_state() == "ok");

    let new_key = sim.sim.rotate_key();
    let run = agent.sync(true);
    assert_eq!(run["state"], "failed", "{run}");
    assert!(
        run["error"]
            .as_str()
            .unwrap_or("")
            .contains("rejected the credentials"),
        "{run}"
    );
    assert_eq!(agent.source_state(), "credentials_rejected");

    let calls = sim.sim.request_count();
    let out = agent.ctl(&["sync", "auvik"]);
    assert!(
        !out.status.success(),
        "a manual sync is refused while the key is rejected"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("credentials"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        sim.sim.request_count(),
        calls,
        "no vendor calls while rejected"
    );

    // The operator fixes the key file and reloads: the source recovers by itself.
    common::write_private(&agent.key_file, &new_key);
    agent.signal(libc::SIGHUP);
    agent.wait_for("recovery after the key changed", |a| {
        a.source_state() == "ok"
    });
    let runs = agent.json(&["runs", "--source", "auvik"]);
    assert_eq!(runs[0]["trigger"], "config", "{}", runs[0]);
    assert_eq!(runs[0]["kind"], "full");
}

#[test]
fn a_garbage_config_is_refused_and_queries_keep_working() {
    let sim = start_auvik(14, 2, 10);
    let agent = Agent::start(&sim, "");
    agent.wait_for("the first sync", |a| a.source_state() == "ok");
    let before = agent.assets(false).len();
    let good = std::fs::read_to_string(&agent.config).expect("config");

    agent.write_config(&format!("{good}\nbogus_key = [unclosed\n"));
    agent.wait_for("the config to be rejected", |a| {
        a.json(&["status"])["config"]["state"] == "rejected"
    });
    let status = agent.json(&["status"]);
    let err = status["config"]["last_error"].as_str().unwrap_or_default();
    assert!(
        err.contains("config.toml:"),
        "the error has line:column: {err}"
    );
    assert_eq!(
        agent.assets(false).len(),
        before,
        "queries keep working on the old config"
    );
    assert_eq!(agent.source_state(), "ok");

    agent.write_config(&good);
    agent.wait_for("the good config to return", |a| {
        a.json(&["status"])["config"]["state"] == "ok"
    });
}

#[test]
fn a_forbidden_tenant_makes_a_partial_run_that_keeps_other_data() {
    let sim = start_auvik(15, 3, 10);
    // A plain 403 is asked again after a pause before the tenant is called forbidden; the
    // pause scales with `max_throttle_wait`.
    let agent = Agent::start(&sim, "max_throttle_wait = \"4s\"\n");
    agent.wait_for("the first sync", |a| a.source_state() == "ok");
    let total = agent.assets(false).len();
    let denied = sim
        .sim
        .tenants()
        .into_iter()
        .find(|t| t.tenant_type == "client")
        .expect("a client tenant");
    sim.sim.deny_tenant(&denied.id, true);
    let run = agent.sync(true);
    assert_eq!(run["state"], "partial", "{run}");
    assert!(
        run["error"].as_str().unwrap_or("").contains(&denied.id),
        "{run}"
    );
    assert_eq!(
        n(&run, "removed"),
        0,
        "a partial run removes nothing: {run}"
    );
    assert_eq!(
        agent.assets(false).len(),
        total,
        "the denied tenant's devices stay"
    );
    assert_eq!(agent.source_state(), "partial");
}

#[test]
fn a_wrong_region_names_the_right_one() {
    use assetd::sim::faults::{Fault, FaultRule};
    let sim = start_auvik(16, 1, 5);
    sim.sim.faults().push(FaultRule::always(Fault::WrongRegion {
        region: "eu2".into(),
    }));
    let agent = Agent::start(&sim, "");
    agent.wait_for("the first run", |a| a.source_state() == "failed");
    let run = &agent.json(&["runs"])[0];
    assert!(
        run["error"]
            .as_str()
            .unwrap_or("")
            .contains("region = \"eu2\""),
        "{run}"
    );
}

#[test]
fn sigterm_mid_sync_records_a_cancelled_run_and_removes_the_socket() {
    use assetd::sim::faults::{Fault, FaultRule};
    let sim = start_auvik(17, 2, 10);
    sim.sim
        .faults()
        .push(FaultRule::always(Fault::Hang).on("/v1/inventory/device/info"));
    let mut agent = Agent::start(&sim, "");
    agent.wait_for("a run in progress", |a| a.source_state() == "syncing");
    // A trigger during the run joins it.
    let joined = agent.json(&["sync", "auvik"]);
    assert_eq!(joined[0]["joined"], true, "{joined}");
    let status = agent.stop();
    assert!(
        status.success(),
        "clean exit on SIGTERM: {status}\n{}",
        agent.log_text()
    );
    assert!(!agent.socket.exists(), "the socket file is removed");

    sim.sim.faults().clear();
    agent.spawn();
    let runs = agent.json(&["runs"]);
    let cancelled = runs
        .as_array()
        .expect("runs")
        .iter()
        .find(|r| r["state"] == "cancelled");
    assert!(
        cancelled.is_some(),
        "the interrupted run is recorded as cancelled: {runs}"
    );
    assert!(agent.assets(false).is_empty(), "nothing half-written");
}

#[test]
fn auvik_billing_sits_beside_our_counts_and_a_403_on_it_is_said_once() {
    let sim = start_auvik(17, 3, 30);
    sim.sim.deny_billing(true);
    let agent = Agent::start(&sim, "");
    agent.wait_for("the first sync", |a| a.source_state() == "ok");
    // Not being allowed to read billing costs the comparison only, not the run.
    let run = agent.sync(true);
    assert_eq!(run["state"], "ok", "{run}");
    let warning = "billing usage is not readable by this API user";
    assert_eq!(
        agent.log_text().matches(warning).count(),
        1,
        "said once over two runs:\n{}",
        agent.log_text()
    );
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    let out = agent.ctl(&["-o", "json", "counts", "--period", &month]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(warning) && stderr.contains("permission to view billing"),
        "{stderr}"
    );
    let rows: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout only");
    let rows = rows.as_array().expect("array");
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r["auvik_average_billable"].is_null()));

    // Allowed again: the next full run brings Auvik's figures and the note goes.
    sim.sim.deny_billing(false);
    let run = agent.sync(true);
    assert_eq!(run["state"], "ok", "{run}");
    let out = agent.ctl(&["-o", "json", "counts", "--period", &month]);
    assert!(
        String::from_utf8_lossy(&out.stderr).trim().is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let names: HashMap<String, String> = sim
        .sim
        .tenants()
        .into_iter()
        .map(|t| (t.id.clone(), t.display_name.clone()))
        .collect();
    // Auvik's figure per client: its managed devices of a billable type (the simulator's
    // ground truth, counted here by Auvik's rule, not the agent's).
    let billable_types = [
        "router",
        "switch",
        "l3Switch",
        "voipSwitch",
        "stack",
        "firewall",
        "utm",
        "securityAppliance",
        "controller",
    ];
    let mut expected: HashMap<String, f64> = HashMap::new();
    for d in sim.sim.devices() {
        let billable = d.manage_status && billable_types.contains(&d.device_type.as_str());
        *expected.entry(names[&d.tenant_id].clone()).or_default() += f64::from(u8::from(billable));
    }
    for row in rows.as_array().expect("array") {
        let client = row["client"].as_str().unwrap_or_default();
        let theirs = expected[client];
        assert_eq!(
            row["auvik_average_billable"].as_f64(),
            Some(theirs),
            "{row}"
        );
        let ours = row["average_billable"].as_f64().unwrap_or(-1.0);
        assert_eq!(row["difference"].as_f64(), Some(ours - theirs), "{row}");
        assert_eq!(
            ours,
            row["total_billable"].as_f64().unwrap_or(-1.0),
            "one day: {row}"
        );
        // Auvik alone, one rule: nothing to reconcile.
        assert_eq!(ours, theirs, "{row}");
    }
}
