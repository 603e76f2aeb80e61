//! Config reloads with the real agent: sources added, removed, and daemonizing.

mod common;

use common::{Agent, start_auvik};
use std::time::{Duration, Instant};

#[test]
fn an_added_source_syncs_at_once_and_a_removed_one_keeps_its_data() {
    let first = start_auvik(51, 2, 5);
    let second = start_auvik(52, 3, 4);
    let agent = Agent::start(&first, "");
    agent.wait_for("the first sync", |a| a.source_state() == "ok");

    let key_b = agent.dir.path().join("b.key");
    common::write_private(&key_b, &second.sim.api_key());
    let base = agent.auvik_config(&first, "");
    let with_b = format!(
        "{base}\n[[source]]\nname = \"auvik-b\"\nkind = \"auvik\"\nusername = \"{}\"\napi_key = {{ file = \"{}\" }}\n\
         domain_prefix = \"{}\"\nbase_url = \"{}\"\n",
        second.sim.username(),
        key_b.display(),
        second.sim.domain_prefix(),
        second.server.base_url
    );
    agent.write_config(&with_b);
    agent.wait_for("the new source's first run", |a| {
        a.json(&["runs", "--source", "auvik-b"])
            .as_array()
            .is_some_and(|r| r.first().is_some_and(|r| r["state"] == "ok"))
    });
    let run = &agent.json(&["runs", "--source", "auvik-b"])[0];
    assert_eq!(
        (run["trigger"].as_str(), run["kind"].as_str()),
        (Some("config"), Some("full")),
        "{run}"
    );
    assert_eq!(agent.assets(false).len(), 10 + 12);
    let first_runs = agent
        .json(&["runs", "--source", "auvik"])
        .as_array()
        .map(Vec::len);
    assert_eq!(
        first_runs,
        Some(1),
        "the unchanged source kept its schedule (no extra run)"
    );

    agent.write_config(&base);
    agent.wait_for("auvik-b to leave the config", |a| {
        a.json(&["sources"]).as_array().is_some_and(|s| {
            s.iter()
                .any(|s| s["name"] == "auvik-b" && s["removed_from_config"] == true)
        })
    });
    assert_eq!(
        agent.assets(false).len(),
        22,
        "a removed source's data stays until purged"
    );
    let requests = second.sim.request_count();
    let out = agent.ctl(&["sync", "auvik-b"]);
    assert!(!out.status.success(), "a removed source cannot be synced");
    assert_eq!(second.sim.request_count(), requests);
}

#[test]
fn daemonize_writes_the_pidfile_and_a_second_agent_refuses() {
    let sim = start_auvik(53, 1, 3);
    let mut agent = Agent::start(&sim, "");
    agent.wait_for("the first sync", |a| a.source_state() == "ok");
    agent.stop();

    let pidfile = agent.dir.path().join("assetd.pid");
    let out = std::process::Command::new(common::ASSETD)
        .args(["run", "--daemonize", "--pidfile"])
        .arg(&pidfile)
        .arg("--config")
        .arg(&agent.config)
        .output()
        .expect("run --daemonize");
    assert!(
        out.status.success(),
        "the parent returns once forked: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while !agent.ctl(&["status"]).status.success() {
        assert!(Instant::now() < deadline, "the daemon never served");
        std::thread::sleep(Duration::from_millis(100));
    }
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .expect("pidfile")
        .trim()
        .parse()
        .expect("a pid");
    assert!(alive(pid), "the pid in the pidfile is alive");

    let second = std::process::Command::new(common::ASSETD)
        .args(["run", "--config"])
        .arg(&agent.config)
        .output()
        .expect("second agent");
    assert!(!second.status.success());
    let msg = String::from_utf8_lossy(&second.stderr);
    assert!(
        msg.contains("in use by another assetd") || msg.contains("already serving"),
        "{msg}"
    );

    // SAFETY: signalling the daemon this test started.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(20);
    while alive(pid) {
        assert!(
            Instant::now() < deadline,
            "the daemon did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!agent.socket.exists());
}

/// Whether a process runs; a zombie (exited, not yet reaped by whoever adopted the
/// daemon) counts as stopped.
fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => false,
        // The state follows the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z')),
    }
}

/// Auvik and Syncro name most clients alike (they group by themselves) and a few slightly
/// differently: those are unmapped, with a ready [[client]] snippet. Pasting the snippet
/// into the config re-links them at once, without a resync.
#[test]
fn a_suggested_client_table_relinks_without_a_resync() {
    use assetd::sim::syncro::{SyncroSim, SyncroSimOptions};
    let auvik = start_auvik(55, 8, 3);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let syncro = SyncroSim::new(SyncroSimOptions {
        seed: 55,
        clients: 8,
        assets_per_client: 3,
        ..SyncroSimOptions::default()
    });
    let syncro_server = runtime.block_on(async {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        syncro.start(l).await.unwrap()
    });
    let agent = Agent::start_with(|a| {
        common::write_private(&a.key_file, &auvik.sim.api_key());
        let key = a.dir.path().join("syncro.key");
        common::write_private(&key, &syncro.api_key());
        format!(
            "{}[[source]]\nname = \"syncro\"\nkind = \"syncro\"\nsubdomain = \"{}\"\napi_key = {{ file = \"{}\" }}\nbase_url = \"{}\"\n",
            a.auvik_config(&auvik, ""),
            syncro.subdomain(),
            key.display(),
            syncro_server.base_url
        )
    });
    agent.wait_for("both sources", |a| {
        a.state_of("auvik") == "ok" && a.state_of("syncro") == "ok"
    });

    let clients = agent.json(&["clients"]);
    let grouped = clients
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["members"].as_array().is_some_and(|m| m.len() == 2))
        .count();
    assert!(
        grouped > 0,
        "identical names group by themselves: {clients}"
    );
    let unmapped = agent.json(&["clients", "--unmapped"]);
    let with_snippet = unmapped
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["suggestion"]
                .as_str()
                .is_some_and(|s| s.contains("[[client]]"))
        })
        .cloned()
        .unwrap_or_else(|| panic!("a respelled client gets a suggestion: {unmapped}"));
    let snippet = with_snippet["suggestion"].as_str().unwrap();
    let runs_before = agent.json(&["runs"]).as_array().map(Vec::len);

    let config = std::fs::read_to_string(&agent.config).unwrap();
    agent.write_config(&format!("{config}\n{snippet}"));
    let group_name = snippet
        .lines()
        .find_map(|l| l.strip_prefix("name = "))
        .map(|n| n.trim_matches('"').to_string())
        .unwrap();
    agent.wait_for("the re-link", |a| {
        a.json(&["clients"]).as_array().unwrap().iter().any(|c| {
            c["name"] == group_name.as_str()
                && c["members"].as_array().is_some_and(|m| m.len() == 2)
                && c["unmapped"] == false
        })
    });
    assert_eq!(
        agent.json(&["runs"]).as_array().map(Vec::len),
        runs_before,
        "no resync was needed"
    );
    let still = agent.json(&["clients", "--unmapped"]);
    assert!(
        !still
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == with_snippet["name"]),
        "it is no longer unmapped: {still}"
    );
}
