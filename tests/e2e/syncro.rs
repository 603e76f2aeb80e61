//! End-to-end: the real agent against the Syncro simulator.

use crate::common;
use crate::common::Agent;
use assetd::sim::syncro::{SyncroSim, SyncroSimOptions};
use assetd::vendors::normalise_mac;
use serde_json::Value;
use std::collections::HashMap;

struct Syncro {
    sim: SyncroSim,
    server: assetd::sim::server::SimServer,
    _runtime: tokio::runtime::Runtime,
}

fn start(opts: SyncroSimOptions) -> Syncro {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sim = SyncroSim::new(opts);
    let server = runtime.block_on(async {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        sim.start(l).await.unwrap()
    });
    Syncro {
        sim,
        server,
        _runtime: runtime,
    }
}

fn source(name: &str, s: &Syncro, key_file: &std::path::Path) -> String {
    format!(
        "[[source]]\nname = \"{name}\"\nkind = \"syncro\"\nsubdomain = \"{}\"\napi_key = {{ file = \"{}\" }}\nbase_url = \"{}\"\n\n",
        s.sim.subdomain(),
        key_file.display(),
        s.server.base_url
    )
}

fn agent_for(s: &Syncro, key: &str) -> Agent {
    Agent::start_with(|a| {
        common::write_private(&a.key_file, key);
        format!("{}{}", a.agent_section(), source("syncro", s, &a.key_file))
    })
}

fn n(run: &Value, f: &str) -> i64 {
    run[f]
        .as_i64()
        .unwrap_or_else(|| panic!("no `{f}` in {run}"))
}

#[test]
fn full_sync_lands_every_asset_and_a_resync_writes_nothing() {
    let s = start(SyncroSimOptions {
        seed: 61,
        clients: 8,
        assets_per_client: 40,
        ..SyncroSimOptions::default()
    });
    let agent = agent_for(&s, &s.sim.api_key());
    agent.wait_for("the first sync", |a| a.state_of("syncro") == "ok");

    let customers: HashMap<i64, _> = s.sim.customers().into_iter().map(|c| (c.id, c)).collect();
    let expected: Vec<_> = s
        .sim
        .assets()
        .into_iter()
        .filter(|a| !customers[&a.customer_id].disabled)
        .collect();
    assert!(expected.len() >= 250, "several hundred assets");
    let listed: HashMap<String, Value> = agent
        .assets(false)
        .into_iter()
        .map(|a| (a["external_id"].as_str().unwrap_or_default().to_string(), a))
        .collect();
    assert_eq!(
        listed.len(),
        expected.len(),
        "every asset of every enabled customer, once"
    );
    for a in &expected {
        let got = &listed[&a.id.to_string()];
        let c = &customers[&a.customer_id];
        let client = c
            .business_name
            .clone()
            .filter(|b| !b.trim().is_empty())
            .unwrap_or_else(|| c.fullname.clone());
        assert_eq!(
            got["client"].as_str(),
            Some(client.trim()),
            "client of asset {}",
            a.id
        );
        let kabuto = &a.properties["kabuto_information"];
        let serial = a
            .asset_serial
            .clone()
            .filter(|s| !s.trim().is_empty())
            .or_else(|| {
                kabuto["general"]["serial_number"]
                    .as_str()
                    .map(str::to_string)
            })
            .unwrap_or_default();
        assert_eq!(
            got["serial"].as_str(),
            Some(serial.trim()),
            "serial of asset {}",
            a.id
        );
        let macs: Vec<String> = kabuto["network_adapters"]
            .as_array()
            .map(|ads| {
                ads.iter()
                    .filter_map(|ad| ad["physical_address"].as_str())
                    .filter_map(normalise_mac)
                    .collect()
            })
            .unwrap_or_default();
        for mac in macs {
            assert!(
                got["mac_addresses"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|m| m == &mac),
                "MAC {mac} of asset {}",
                a.id
            );
        }
        if a.asset_type == "Syncro Device" {
            let ff = kabuto["general"]["form_factor"]
                .as_str()
                .unwrap_or("")
                .to_ascii_lowercase();
            let cat = got["category"].as_str().unwrap_or("");
            if ff.contains("laptop") || ff.contains("notebook") {
                assert_eq!(cat, "laptop", "asset {}", a.id);
            } else if ff.contains("server") || ff.contains("rack") {
                assert_eq!(cat, "server", "asset {}", a.id);
            }
        }
    }

    let run = agent.sync_source("syncro", false);
    assert_eq!(
        (run["state"].as_str(), run["kind"].as_str()),
        (Some("ok"), Some("full")),
        "every Syncro run is full: {run}"
    );
    assert_eq!(
        (n(&run, "added"), n(&run, "updated"), n(&run, "removed")),
        (0, 0, 0),
        "{run}"
    );
    assert_eq!(n(&run, "unchanged"), expected.len() as i64);

    // The raw record comes back verbatim from `assets get`.
    let any = &expected[0];
    let got = agent.json(&[
        "assets",
        "get",
        &listed[&any.id.to_string()]["id"].to_string(),
    ]);
    assert_eq!(got["raw"]["id"], Value::from(any.id), "{got}");

    let gone = expected[1].id;
    assert!(s.sim.remove_asset(gone));
    let run = agent.sync_source("syncro", false);
    assert_eq!(n(&run, "removed"), 1, "{run}");
    let all = agent.assets(true);
    let removed = all
        .iter()
        .find(|a| a["external_id"].as_str() == Some(gone.to_string().as_str()))
        .expect("kept");
    assert!(removed["removed_at"].is_string());
}

#[test]
fn non_json_answers_fail_the_run_with_a_message_and_keep_the_data() {
    use assetd::sim::faults::{Fault, FaultRule};
    let s = start(SyncroSimOptions {
        seed: 64,
        clients: 2,
        assets_per_client: 5,
        ..SyncroSimOptions::default()
    });
    let agent = agent_for(&s, &s.sim.api_key());
    agent.wait_for("the first sync", |a| a.state_of("syncro") == "ok");
    let before = agent.assets(false).len();
    for fault in [
        Fault::PlainText {
            status: 200,
            body: "Disabled".into(),
        },
        Fault::PlainText {
            status: 422,
            body: "Disabled".into(),
        },
        Fault::WrongContentType,
        Fault::TruncatedJson,
    ] {
        s.sim.faults().clear();
        s.sim
            .faults()
            .push(FaultRule::always(fault.clone()).on("/api/v1/customer_assets"));
        let run = agent.sync_source("syncro", false);
        assert_eq!(run["state"], "failed", "{fault:?}: {run}");
        assert!(
            !run["error"].as_str().unwrap_or("").is_empty(),
            "{fault:?}: {run}"
        );
        assert_eq!(
            agent.assets(false).len(),
            before,
            "{fault:?}: the previous data stays"
        );
    }
    s.sim.faults().clear();
    assert_eq!(agent.sync_source("syncro", false)["state"], "ok");
}

#[test]
fn a_bad_token_and_a_token_without_permissions_say_different_things_and_stop_calls() {
    let s = start(SyncroSimOptions {
        seed: 62,
        clients: 2,
        assets_per_client: 5,
        ..SyncroSimOptions::default()
    });
    for (key, says) in [
        ("not-a-token", "rejected the API token"),
        (s.sim.limited_api_key().as_str(), "lacks permissions"),
    ] {
        let agent = agent_for(&s, key);
        agent.wait_for("the rejection", |a| {
            a.state_of("syncro") == "credentials_rejected"
        });
        let run = &agent.json(&["runs"])[0];
        assert!(run["error"].as_str().unwrap_or("").contains(says), "{run}");
        let calls = s.sim.request_count();
        assert!(!agent.ctl(&["sync", "syncro"]).status.success());
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert_eq!(s.sim.request_count(), calls, "no calls after a rejection");
    }
}

/// Two sources on one Syncro host share one 60/min budget: many pages, zero 429s, and the
/// runs end within 10% of the fastest time the limit allows.
#[test]
fn the_request_budget_is_shared_and_used_to_the_full() {
    let s = start(SyncroSimOptions {
        seed: 63,
        clients: 3,
        assets_per_client: 15,
        requests_per_minute: 60,
        assets_page_size: 1,
        ..SyncroSimOptions::default()
    });
    let agent = Agent::start_with(|a| {
        common::write_private(&a.key_file, &s.sim.api_key());
        let budget = "requests_per_minute = 60\n";
        format!(
            "{}{}\n{budget}\n{}\n{budget}",
            a.agent_section(),
            source("syncro-a", &s, &a.key_file).trim_end(),
            source("syncro-b", &s, &a.key_file).trim_end()
        )
    });
    // More than a minute's budget cannot take less than a minute.
    agent.wait_up_to(std::time::Duration::from_secs(180), "both runs", |a| {
        a.state_of("syncro-a") == "ok" && a.state_of("syncro-b") == "ok"
    });
    assert_eq!(
        s.sim.rate_limited_count(),
        0,
        "no request was refused for the rate limit"
    );
    let runs = agent.json(&["runs"]);
    let runs = runs.as_array().unwrap();
    let requests: i64 = runs.iter().map(|r| n(r, "requests")).sum();
    assert!(
        requests > 60,
        "more requests than one minute's budget: {requests}"
    );
    let time =
        |r: &Value, f: &str| chrono::DateTime::parse_from_rfc3339(r[f].as_str().unwrap()).unwrap();
    let start = runs.iter().map(|r| time(r, "started")).min().unwrap();
    let end = runs.iter().map(|r| time(r, "finished")).max().unwrap();
    let took = (end - start).num_milliseconds() as f64 / 1000.0;
    // Fastest possible: the first 60 requests at once, the rest one minute later.
    let fastest = ((requests - 1) / 60) as f64 * 60.0;
    println!(
        "{requests} requests at 60/min shared by two sources: {took:.2}s (fastest allowed {fastest:.0}s), 0 refused"
    );
    assert!(
        took >= fastest * 0.99,
        "faster than the limit allows ({took}s < {fastest}s)?"
    );
    assert!(
        took <= fastest * 1.10,
        "took {took}s; the limit allows {fastest}s"
    );
}

/// Issue 21 §3: with HTTP_PROXY set, a loopback http:// Syncro's key went to the proxy
/// (`authorization: Bearer …`) and the run blamed Syncro for the proxy's 502. A vendor on
/// loopback, or on http://, is never proxied, whatever the environment says.
#[test]
fn proxy_variables_never_carry_a_loopback_vendors_requests() {
    use std::io::Read;
    let s = start(SyncroSimOptions {
        seed: 62,
        clients: 2,
        assets_per_client: 5,
        ..SyncroSimOptions::default()
    });
    // A "proxy" that records whatever reaches it.
    let proxy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
    proxy.set_nonblocking(true).unwrap();
    let mut agent = Agent::unstarted();
    let key = s.sim.api_key();
    common::write_private(&agent.key_file, &key);
    agent.write_config(&format!(
        "{}{}",
        agent.agent_section(),
        source("syncro", &s, &agent.key_file)
    ));
    for var in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        agent.env.push((var.to_string(), proxy_url.clone()));
    }
    agent.env.push(("NO_PROXY".to_string(), String::new()));
    agent.spawn();
    agent.wait_for("the first sync", |a| a.state_of("syncro") == "ok");
    assert_eq!(agent.assets(false).len(), s.sim.assets().len());
    let mut reached = String::new();
    while let Ok((mut c, _)) = proxy.accept() {
        c.set_nonblocking(false).unwrap();
        c.set_read_timeout(Some(std::time::Duration::from_secs(1)))
            .unwrap();
        let _ = c.read_to_string(&mut reached);
    }
    assert!(reached.is_empty(), "the proxy was sent: {reached}");
}
