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
