//! End-to-end: the real agent against the Passportal simulator.

use crate::common;
use crate::common::Agent;
use assetd::sim::passportal::{PassportalSim, PassportalSimOptions};
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

struct Passportal {
    sim: PassportalSim,
    server: assetd::sim::server::SimServer,
    _runtime: tokio::runtime::Runtime,
}

fn start(opts: PassportalSimOptions) -> Passportal {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sim = PassportalSim::new(opts);
    let server = runtime.block_on(async {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        sim.start(l).await.unwrap()
    });
    Passportal {
        sim,
        server,
        _runtime: runtime,
    }
}

fn agent_for(p: &Passportal, secret: &str) -> Agent {
    Agent::start_with(|a| {
        common::write_private(&a.key_file, secret);
        format!(
            "{}[[source]]\nname = \"passportal\"\nkind = \"passportal\"\ndatacenter = \"us\"\naccess_key_id = \"{}\"\n\
             secret_access_key = {{ file = \"{}\" }}\nbase_url = \"{}\"\n",
            a.agent_section(),
            p.sim.access_key_id(),
            a.key_file.display(),
            p.server.base_url
        )
    })
}

fn n(run: &Value, f: &str) -> i64 {
    run[f]
        .as_i64()
        .unwrap_or_else(|| panic!("no `{f}` in {run}"))
}

fn text(v: &Option<String>) -> String {
    v.as_deref().map(str::trim).unwrap_or("").to_string()
}

#[test]
fn full_sync_lands_every_asset_document_and_a_resync_writes_nothing() {
    let p = start(PassportalSimOptions {
        seed: 71,
        clients: 6,
        assets_per_client: 60,
        ..PassportalSimOptions::default()
    });
    let agent = agent_for(&p, &p.sim.secret_access_key());
    agent.wait_for("the first sync", |a| a.state_of("passportal") == "ok");

    let clients: HashMap<i64, String> = p
        .sim
        .clients()
        .into_iter()
        .map(|c| (c.id, c.decoded_name))
        .collect();
    let docs = p.sim.assets();
    assert!(docs.len() >= 300, "several hundred asset documents");
    let listed: HashMap<String, Value> = agent
        .assets(false)
        .into_iter()
        .map(|a| (a["external_id"].as_str().unwrap_or_default().to_string(), a))
        .collect();
    assert_eq!(listed.len(), docs.len(), "every asset document, once");
    for d in &docs {
        let a = &listed[&d.id.to_string()];
        assert_eq!(
            a["client"].as_str(),
            clients.get(&d.client_id).map(|s| s.trim()),
            "client of {}",
            d.id
        );
        assert_eq!(
            a["serial"].as_str(),
            Some(text(&d.serial).as_str()),
            "serial of {}",
            d.id
        );
        assert_eq!(
            a["model"].as_str(),
            Some(text(&d.model).as_str()),
            "model of {}",
            d.id
        );
        assert_eq!(
            a["manufacturer"].as_str(),
            Some(text(&d.manufacturer).as_str()),
            "manufacturer of {}",
            d.id
        );
    }
    let run = agent.sync_source("passportal", false);
    assert_eq!(run["state"], "ok", "{run}");
    assert_eq!(
        (n(&run, "added"), n(&run, "updated"), n(&run, "removed")),
        (0, 0, 0),
        "{run}"
    );
    assert_eq!(n(&run, "unchanged"), docs.len() as i64);
}

#[test]
fn tokens_expiring_mid_sync_are_renewed_and_the_sync_completes() {
    let p = start(PassportalSimOptions {
        seed: 72,
        clients: 4,
        assets_per_client: 50,
        token_ttl: Duration::from_secs(2),
        ..PassportalSimOptions::default()
    });
    let agent = agent_for(&p, &p.sim.secret_access_key());
    agent.wait_for("the first sync", |a| a.state_of("passportal") == "ok");
    // Expire every token again and again while a full sync runs. Paced by requests, not by
    // the clock: a token expired before the agent could use it once would be a test artefact
    // (and a loaded machine would make it one), so each token serves a few dozen requests.
    let exchanges = p.sim.token_exchanges();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let expirer = {
        let (sim, stop) = (p.sim.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut last = sim.request_count();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if sim.request_count() >= last + 40 {
                    sim.expire_tokens();
                    last = sim.request_count();
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let run = agent.sync_source("passportal", true);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    expirer.join().unwrap();
    assert_eq!(run["state"], "ok", "{run}");
    assert_eq!(n(&run, "unchanged"), p.sim.assets().len() as i64, "{run}");
    assert!(
        p.sim.token_exchanges() > exchanges + 1,
        "tokens were renewed during the run"
    );
}

#[test]
fn a_wrong_secret_is_rejected_once_with_a_clear_message() {
    let p = start(PassportalSimOptions {
        seed: 73,
        clients: 2,
        assets_per_client: 5,
        ..PassportalSimOptions::default()
    });
    let agent = agent_for(&p, "not-the-secret");
    agent.wait_for("the rejection", |a| {
        a.state_of("passportal") == "credentials_rejected"
    });
    let run = &agent.json(&["runs"])[0];
    assert!(
        run["error"]
            .as_str()
            .unwrap_or("")
            .contains("refused the access key"),
        "{run}"
    );
    let calls = p.sim.request_count();
    assert!(
        !agent.ctl(&["sync", "passportal"]).status.success(),
        "no manual retry while rejected"
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(p.sim.request_count(), calls, "no calls after the rejection");

    // The right secret in the file and a reload: the source recovers by itself.
    common::write_private(&agent.key_file, &p.sim.secret_access_key());
    agent.signal(libc::SIGHUP);
    agent.wait_for("recovery", |a| a.state_of("passportal") == "ok");
}
