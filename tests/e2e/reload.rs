//! Config reloads with the real agent: sources added, removed, and daemonizing.

use crate::common;
use crate::common::{Agent, start_auvik};
use std::os::unix::fs::MetadataExt;
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

    common::send_signal(pid as u32, libc::SIGTERM);
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

// ---------------------------------------------------------------------------------------
// Every way a config gets saved is one reload, observed through `status`'s
// `config.generation` (it counts loaded configs that changed something) and the running
// config itself (`sources` shows each source's interval).

/// A small simulator and an agent whose first sync has finished.
fn synced_agent(seed: u64) -> (common::Sim, Agent) {
    let sim = start_auvik(seed, 1, 3);
    let agent = Agent::start(&sim, "");
    agent.wait_for("the first sync", |a| a.source_state() == "ok");
    assert_eq!(agent.generation(), 1, "{}", agent.config_status());
    (sim, agent)
}

/// The running interval of `source`, as `sources` prints it (humantime: "1h", "30m").
fn interval_of(agent: &Agent, source: &str) -> String {
    agent
        .json(&["sources"])
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == source).cloned())
        .and_then(|s| s["interval"].as_str().map(str::to_string))
        .unwrap_or_default()
}

fn run_count(agent: &Agent, source: &str) -> usize {
    agent
        .json(&["runs", "--source", source])
        .as_array()
        .map_or(0, Vec::len)
}

/// Waits for the reload that makes `interval` the running one, and checks it was exactly
/// one reload, left no error, and restarted nothing (a schedule change runs no sync).
fn assert_one_reload_to(agent: &Agent, generation: i64, interval: &str) {
    agent.wait_for_generation(generation);
    let status = agent.config_status();
    assert_eq!(status["state"], "ok", "{status}");
    assert_eq!(status["last_error"], "", "{status}");
    assert_eq!(
        interval_of(agent, "auvik"),
        interval,
        "the new content runs"
    );
    assert_eq!(
        run_count(agent, "auvik"),
        1,
        "a schedule-only change keeps the source's schedule (no extra run)"
    );
}

fn reload_lines(agent: &Agent) -> usize {
    agent.log_text().matches("Reloading the config.").count()
}

#[test]
fn a_rename_over_save_is_one_reload() {
    let (sim, agent) = synced_agent(61);
    // What editors (vim, VS Code) and config management do: write a temporary file, then
    // rename it over the config. The harness's write_config does exactly that.
    let before = std::fs::metadata(&agent.config).map(|m| m.ino()).unwrap();
    agent.write_config(&agent.auvik_config(&sim, "interval = \"2h\""));
    assert_ne!(
        std::fs::metadata(&agent.config).map(|m| m.ino()).unwrap(),
        before,
        "a new file took the old one's name"
    );
    assert_one_reload_to(&agent, 2, "2h");
    assert_eq!(reload_lines(&agent), 1, "{}", agent.log_text());
}

#[test]
fn a_truncate_and_write_in_place_is_one_reload() {
    use std::io::Write;
    let (sim, agent) = synced_agent(62);
    let before = std::fs::metadata(&agent.config).map(|m| m.ino()).unwrap();
    // As editors that keep the inode (vim's backupcopy=yes, `cat > config.toml`) save:
    // truncate, then write in pieces. The file is briefly empty or half written; the
    // debounce must read it only once it is whole.
    let text = agent.auvik_config(&sim, "interval = \"3h\"");
    let (head, tail) = text.split_at(text.len() / 2);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&agent.config)
        .unwrap();
    f.flush().unwrap();
    f.write_all(head.as_bytes()).unwrap();
    f.flush().unwrap();
    f.write_all(tail.as_bytes()).unwrap();
    drop(f);
    assert_eq!(
        std::fs::metadata(&agent.config).map(|m| m.ino()).unwrap(),
        before,
        "written in place"
    );
    assert_one_reload_to(&agent, 2, "3h");
}

#[test]
fn a_deleted_then_recreated_config_is_reloaded_and_the_old_one_runs_meanwhile() {
    let (sim, agent) = synced_agent(63);
    std::fs::remove_file(&agent.config).unwrap();
    agent.wait_for("the missing file to be refused", |a| {
        a.config_status()["state"] == "rejected"
    });
    let status = agent.config_status();
    assert!(
        status["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("cannot read the config file")),
        "{status}"
    );
    assert_eq!(status["generation"], 1, "nothing was loaded: {status}");
    // While there is no file, the running config goes on: the source is still configured
    // and syncs.
    assert_eq!(interval_of(&agent, "auvik"), "1h");
    let run = agent.sync(true);
    assert_eq!(run["state"], "ok", "{run}");

    // Re-created (not renamed over): a plain create-and-write.
    common::write_private(
        &agent.config,
        &agent.auvik_config(&sim, "interval = \"4h\""),
    );
    agent.wait_for_generation(2);
    let status = agent.config_status();
    assert_eq!(
        (status["state"].as_str(), status["last_error"].as_str()),
        (Some("ok"), Some("")),
        "a good file clears the error: {status}"
    );
    assert_eq!(interval_of(&agent, "auvik"), "4h");
}

/// Points `link` at `target` atomically, as `ln -sfn` and the kubelet do: a new symlink
/// under a temporary name, renamed over the old one.
fn swap_symlink(target: &str, link: &std::path::Path) {
    let tmp = link.with_file_name("..tmp_link");
    std::os::unix::fs::symlink(target, &tmp).unwrap();
    std::fs::rename(&tmp, link).unwrap();
}

#[test]
fn a_symlink_swap_like_a_configmap_update_is_one_reload() {
    let sim = start_auvik(64, 1, 3);
    // A mounted Kubernetes ConfigMap: config.toml -> ..data/config.toml and
    // ..data -> ..v1. An update writes ..v2 and swaps ..data; no event names config.toml.
    let mut agent = Agent::unstarted();
    common::write_private(&agent.key_file, &sim.sim.api_key());
    let dir = agent.dir.path().to_path_buf();
    let version = |agent: &Agent, name: &str, extra: &str| {
        std::fs::create_dir(dir.join(name)).unwrap();
        common::write_private(
            &dir.join(name).join("config.toml"),
            &agent.auvik_config(&sim, extra),
        );
    };
    version(&agent, "..v1", "");
    std::os::unix::fs::symlink("..v1", dir.join("..data")).unwrap();
    std::os::unix::fs::symlink("..data/config.toml", &agent.config).unwrap();
    agent.spawn();
    agent.wait_for("the first sync", |a| a.source_state() == "ok");
    assert_eq!(agent.generation(), 1);

    version(&agent, "..v2", "interval = \"5h\"");
    swap_symlink("..v2", &dir.join("..data"));
    std::fs::remove_dir_all(dir.join("..v1")).unwrap();
    assert_one_reload_to(&agent, 2, "5h");

    // The watch moved with the target: the next update is seen too.
    version(&agent, "..v3", "interval = \"6h\"");
    swap_symlink("..v3", &dir.join("..data"));
    std::fs::remove_dir_all(dir.join("..v2")).unwrap();
    assert_one_reload_to(&agent, 3, "6h");
    assert!(
        std::fs::symlink_metadata(&agent.config)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the config path stayed a symlink"
    );
}

#[test]
fn sighup_reloads_a_changed_secret_file_without_any_file_event() {
    let sim = start_auvik(65, 1, 3);
    let mut agent = Agent::unstarted();
    // The key lives in a subdirectory, which the watcher (on the config's directory,
    // not recursive) does not see: only SIGHUP can bring a change of it in.
    let secrets = agent.dir.path().join("secrets");
    std::fs::create_dir(&secrets).unwrap();
    agent.key_file = secrets.join("auvik.key");
    common::write_private(&agent.key_file, &sim.sim.api_key());
    let text = agent.auvik_config(&sim, "");
    agent.write_config(&text);
    agent.spawn();
    agent.wait_for("the first sync", |a| a.source_state() == "ok");

    // The key is rotated at the vendor: the agent's next run is refused.
    let new_key = sim.sim.rotate_key();
    let run = agent.sync(true);
    assert_eq!(run["state"], "failed", "{run}");
    agent.wait_for("the rejection", |a| {
        a.source_state() == "credentials_rejected"
    });
    common::write_private(&agent.key_file, &new_key);

    agent.signal(libc::SIGHUP);
    agent.wait_for_generation(2);
    // The changed credentials restart the source with a full sync at once.
    agent.wait_for("the source to recover", |a| a.source_state() == "ok");
    let run = &agent.json(&["runs", "--source", "auvik"])[0];
    assert_eq!(
        (
            run["trigger"].as_str(),
            run["kind"].as_str(),
            run["state"].as_str()
        ),
        (Some("config"), Some("full"), Some("ok")),
        "{run}"
    );
    let log = agent.log_text();
    assert!(log.contains("cause=Hangup"), "{log}");
    assert!(
        !log.contains("cause=FileChanged"),
        "no file event was involved: {log}"
    );
}

#[test]
fn a_burst_of_edits_is_one_reload_with_the_final_content() {
    let (sim, agent) = synced_agent(66);
    // Twenty saves in a row, alternating rename-over and in-place writes, as a script or
    // an editor's autosave might: one reload, and it reads the last version.
    const EDITS: u32 = 20;
    for i in 0..EDITS {
        let text = agent.auvik_config(&sim, &format!("interval = \"{}m\"", 30 + i));
        if i % 2 == 0 {
            agent.write_config(&text);
        } else {
            std::fs::write(&agent.config, text).unwrap();
        }
    }
    agent.wait_for_generation(2);
    assert_eq!(
        interval_of(&agent, "auvik"),
        format!("{}m", 30 + EDITS - 1),
        "the one reload read the final content"
    );
    assert_eq!(
        reload_lines(&agent),
        1,
        "one reload for the whole burst: {}",
        agent.log_text()
    );
    assert_eq!(run_count(&agent, "auvik"), 1);
}

// ---------------------------------------------------------------------------------------
// Bad configs are refused whole, with line:column in `status`, and the old config keeps
// running until a good file arrives.

/// 1-based line and column (in characters) of the `nth` (0-based) occurrence of `needle`.
fn position(text: &str, needle: &str, nth: usize) -> (usize, usize) {
    let offset = text
        .match_indices(needle)
        .nth(nth)
        .map(|(i, _)| i)
        .unwrap_or_else(|| panic!("`{needle}` #{nth} not in {text}"));
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Saves `bad` and checks it is refused with `file:line:col: …message…` in `status`, that
/// the old config keeps running (same generation and interval, the source still syncs),
/// and that a good file afterwards is loaded and clears the error.
fn assert_refused(
    sim: &common::Sim,
    agent: &Agent,
    bad: &str,
    (line, column): (usize, usize),
    message: &str,
) {
    agent.write_config(bad);
    agent.wait_for("the refusal", |a| a.config_status()["state"] == "rejected");
    let status = agent.config_status();
    let error = status["last_error"].as_str().unwrap_or_default();
    let located = format!("{}:{line}:{column}: ", agent.config.display());
    assert!(
        error.contains(&located),
        "the error says where ({located}): {error}"
    );
    assert!(error.contains(message), "the error says what: {error}");
    assert_eq!(status["generation"], 1, "nothing was loaded: {status}");
    // The human view says the same.
    let text = String::from_utf8_lossy(&agent.ctl(&["status"]).stdout).to_string();
    assert!(
        text.contains("rejected") && text.contains(&format!("{line}:{column}")),
        "{text}"
    );

    // The old config runs on: its one source, unchanged, still listed and still syncing.
    let sources = agent.json(&["sources"]);
    let names: Vec<_> = sources
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].clone(), s["removed_from_config"].clone()))
        .collect();
    assert_eq!(names, [("auvik".into(), false.into())], "{sources}");
    assert_eq!(interval_of(agent, "auvik"), "1h");
    let run = agent.sync(true);
    assert_eq!(
        (run["state"].as_str(), run["trigger"].as_str()),
        (Some("ok"), Some("manual")),
        "{run}"
    );

    agent.write_config(&agent.auvik_config(sim, "interval = \"2h\""));
    agent.wait_for_generation(2);
    let status = agent.config_status();
    assert_eq!(
        (status["state"].as_str(), status["last_error"].as_str()),
        (Some("ok"), Some("")),
        "a good file clears the error: {status}"
    );
    assert_eq!(interval_of(agent, "auvik"), "2h");
}

#[test]
fn invalid_toml_is_refused_and_the_old_config_keeps_running() {
    let (sim, agent) = synced_agent(67);
    // An unterminated string: a typo that makes the file unparseable. The parser points
    // at the end of the line, where the closing quote is missing.
    let bad = agent.auvik_config(&sim, "interval = \"2h\nfull_interval = \"48h\"");
    assert_refused(
        &sim,
        &agent,
        &bad,
        position(&bad, "\nfull_interval", 0),
        "invalid basic string",
    );
}

#[test]
fn an_unknown_key_is_refused_and_the_old_config_keeps_running() {
    let (sim, agent) = synced_agent(68);
    let bad = agent.auvik_config(&sim, "interval = \"2h\"\nintervall = \"3h\"");
    assert_refused(
        &sim,
        &agent,
        &bad,
        position(&bad, "intervall", 0),
        "unknown field `intervall`",
    );
}

#[test]
fn a_missing_secret_file_is_refused_and_the_old_config_keeps_running() {
    let (sim, agent) = synced_agent(69);
    let missing = agent.dir.path().join("no-such.key");
    let bad = agent.auvik_config(&sim, "interval = \"2h\"").replace(
        &agent.key_file.display().to_string(),
        &missing.display().to_string(),
    );
    assert_refused(
        &sim,
        &agent,
        &bad,
        position(&bad, "{ file = ", 0),
        "cannot read secret file",
    );
}

#[test]
fn a_duplicate_source_name_is_refused_and_the_old_config_keeps_running() {
    let (sim, agent) = synced_agent(70);
    let good = agent.auvik_config(&sim, "interval = \"2h\"");
    let source = &good[good.find("[[source]]").unwrap()..];
    let bad = format!("{good}\n{source}");
    assert_refused(
        &sim,
        &agent,
        &bad,
        position(&bad, "\"auvik\"", 2), // name, kind, then the second name
        "duplicate source name `auvik`",
    );
}

/// A source taken out of the config stops syncing, even on a schedule, and everything it
/// synced stays queryable until purged.
#[test]
fn a_removed_source_stops_its_schedule_and_its_assets_stay_queryable() {
    let first = start_auvik(71, 2, 3);
    let second = start_auvik(72, 2, 4);
    // Both sources sync every second, so the remaining one's runs show time passing.
    let fast = "interval = \"1s\"";
    let agent = Agent::start_with(|a| {
        common::write_private(&a.key_file, &first.sim.api_key());
        let key = a.dir.path().join("b.key");
        common::write_private(&key, &second.sim.api_key());
        format!(
            "{}\n[[source]]\nname = \"auvik-b\"\nkind = \"auvik\"\nusername = \"{}\"\napi_key = {{ file = \"{}\" }}\n\
             domain_prefix = \"{}\"\nbase_url = \"{}\"\n{fast}\n",
            a.auvik_config(&first, fast),
            second.sim.username(),
            key.display(),
            second.sim.domain_prefix(),
            second.server.base_url
        )
    });
    agent.wait_for("a few scheduled runs of both", |a| {
        run_count(a, "auvik") >= 2 && run_count(a, "auvik-b") >= 2
    });
    let b_assets = agent.json(&["assets", "list", "--source", "auvik-b"]);
    assert_eq!(b_assets.as_array().map(Vec::len), Some(8), "{b_assets}");

    agent.write_config(&agent.auvik_config(&first, fast));
    agent.wait_for("auvik-b to leave the config", |a| {
        a.json(&["sources"]).as_array().is_some_and(|s| {
            s.iter()
                .any(|s| s["name"] == "auvik-b" && s["removed_from_config"] == true)
        })
    });
    let requests = second.sim.request_count();
    let b_runs = agent.json(&["runs", "--source", "auvik-b"]);
    let a_runs = run_count(&agent, "auvik");
    // Three more scheduled runs of the remaining source: auvik-b would have run too.
    agent.wait_for("three more runs of the remaining source", |a| {
        run_count(a, "auvik") >= a_runs + 3
    });
    assert_eq!(
        second.sim.request_count(),
        requests,
        "the removed source called its vendor again"
    );
    assert_eq!(
        agent.json(&["runs", "--source", "auvik-b"]),
        b_runs,
        "the removed source ran again"
    );
    assert!(
        b_runs
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["state"] != "running"),
        "no run of it is left running: {b_runs}"
    );

    // Its assets stay, listed, filterable and readable one by one.
    assert_eq!(
        agent.json(&["assets", "list", "--source", "auvik-b"]),
        b_assets,
        "its assets are unchanged"
    );
    let id = b_assets[0]["id"].as_i64().unwrap().to_string();
    let one = agent.json(&["assets", "get", &id]);
    assert_eq!(one["source"], "auvik-b", "{one}");
    assert_eq!(agent.assets(false).len(), 6 + 8);
}

#[test]
fn an_emptied_config_is_refused_while_sources_run() {
    let (sim, agent) = synced_agent(71);
    // The moment between an in-place truncate and the write, frozen: an empty file.
    std::fs::write(&agent.config, "").unwrap();
    agent.wait_for("the empty file to be refused", |a| {
        a.config_status()["state"] == "rejected"
    });
    let status = agent.config_status();
    assert!(
        status["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("the file is empty")),
        "{status}"
    );
    assert_eq!(status["generation"], 1, "nothing was loaded: {status}");
    assert_eq!(interval_of(&agent, "auvik"), "1h", "the source still runs");
    // The write that follows loads as usual.
    std::fs::write(&agent.config, agent.auvik_config(&sim, "interval = \"3h\"")).unwrap();
    agent.wait_for_generation(2);
    assert_eq!(interval_of(&agent, "auvik"), "3h");
}
