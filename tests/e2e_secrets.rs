//! A canary secret must never leave the config: not in logs, RPC answers, the database,
//! or error messages, whatever happens to the run.

mod common;

use assetd::sim::auvik::{AuvikSim, AuvikSimOptions};
use base64::Engine as _;
use common::Agent;

const CANARY: &str = "CANARY-7d41c9e2-0b6f-4e55";

#[test]
fn the_api_key_never_leaves_the_config() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sim = AuvikSim::new(AuvikSimOptions {
        seed: 31,
        clients: 2,
        assets_per_client: 10,
        api_key: CANARY.into(),
        ..AuvikSimOptions::default()
    });
    let server = runtime.block_on(async {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        sim.start(l).await.unwrap()
    });
    let sim = common::Sim {
        sim,
        server,
        runtime,
    };
    assert_eq!(sim.sim.api_key(), CANARY);

    // Inline in a private config, the strictest place to keep it from leaking.
    let mut agent = Agent::start(&sim, "");
    let inline = agent.auvik_config(&sim, "").replace(
        &format!("api_key = {{ file = \"{}\" }}", agent.key_file.display()),
        &format!("api_key = \"{CANARY}\""),
    );
    assert!(inline.contains(CANARY));
    agent.write_config(&inline);
    agent.signal(libc::SIGHUP);
    agent.wait_for("the first sync", |a| a.source_state() == "ok");
    let _ = agent.sync(true);
    sim.sim.rotate_key(); // a 401 path too
    let _ = agent.sync(true);
    agent.wait_for("the rejection", |a| {
        a.source_state() == "credentials_rejected"
    });

    let mut seen = String::new();
    for args in [
        vec!["status"],
        vec!["sources"],
        vec!["runs"],
        vec!["clients"],
        vec!["assets", "list"],
        vec!["export", "--format", "csv"],
    ] {
        let mut full = vec!["-o", "json"];
        full.extend(args);
        let out = agent.ctl(&full);
        seen.push_str(&String::from_utf8_lossy(&out.stdout));
        seen.push_str(&String::from_utf8_lossy(&out.stderr));
    }
    // A config refused for an inline secret in a shared file must not echo it either.
    let shared = agent.dir.path().join("shared.toml");
    std::fs::write(&shared, &inline).unwrap();
    let out = std::process::Command::new(common::ASSETD)
        .arg("check-config")
        .arg(&shared)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    seen.push_str(&String::from_utf8_lossy(&out.stderr));

    agent.stop();
    seen.push_str(&agent.log_text());
    for entry in std::fs::read_dir(agent.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("a.db") {
            seen.push_str(&String::from_utf8_lossy(&std::fs::read(&path).unwrap()));
        }
    }
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{CANARY}", sim.sim.username()));
    assert!(!seen.contains(CANARY), "the canary leaked");
    assert!(!seen.contains(&basic), "the Basic auth header leaked");
    assert!(
        seen.contains("rejected the credentials"),
        "the checked output includes the 401 message"
    );
}
