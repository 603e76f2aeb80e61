//! assetctl against the real agent: exit codes, one-line errors and output formats.

use crate::common;
use crate::common::{Agent, start_auvik};
use std::process::Command;

fn code(out: &std::process::Output) -> Option<i32> {
    out.status.code()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[test]
fn errors_are_one_line_with_distinct_exit_codes() {
    let sim = start_auvik(41, 2, 5);
    let agent = Agent::start(&sim, "");
    agent.wait_for("the first sync", |a| a.source_state() == "ok");

    let out = agent.ctl(&["assets", "get", "999999"]);
    assert_eq!(code(&out), Some(5), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no asset with id 999999"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stderr(&out).trim().lines().count(), 1);

    let out = agent.ctl(&["assets", "get", "12abc"]);
    assert_eq!(
        code(&out),
        Some(2),
        "a bad id is refused before connecting: {}",
        stderr(&out)
    );

    let out = agent.ctl(&["counts", "--period", "2026-13"]);
    assert_eq!(
        code(&out),
        Some(2),
        "a bad month is refused: {}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("period"),
        "the message names the field: {}",
        stderr(&out)
    );

    let out = agent.ctl(&["purge", "--source", "auvik"]);
    assert_eq!(code(&out), Some(2), "purge needs --yes: {}", stderr(&out));
    assert_eq!(agent.assets(false).len(), 10, "nothing was purged");

    let out = agent.ctl(&["sync", "nosuch"]);
    assert_ne!(code(&out), Some(0));
    assert!(stderr(&out).contains("nosuch"), "{}", stderr(&out));

    let missing = agent.dir.path().join("none.sock");
    let out = Command::new(common::ASSETCTL)
        .arg("--socket")
        .arg(&missing)
        .arg("status")
        .output()
        .unwrap();
    assert_eq!(code(&out), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("not running"), "{}", stderr(&out));
}

#[test]
fn a_failed_run_makes_sync_wait_fail_and_csv_has_a_header() {
    use assetd::sim::faults::{Fault, FaultRule};
    let sim = start_auvik(42, 2, 5);
    let agent = Agent::start(&sim, "");
    agent.wait_for("the first sync", |a| a.source_state() == "ok");

    let out = agent.ctl(&["-o", "csv", "assets", "list"]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let header = text.lines().next().unwrap_or_default();
    assert!(
        header.starts_with("id,source,external_id,client"),
        "{header}"
    );
    assert_eq!(text.lines().count(), 11, "a header and ten rows");

    sim.sim
        .faults()
        .push(FaultRule::always(Fault::InvalidJson).on("/v1/tenants"));
    let out = agent.ctl(&["sync", "auvik", "--full", "--wait"]);
    assert_eq!(
        code(&out),
        Some(7),
        "a failed run exits 7: {}",
        stderr(&out)
    );

    let out = agent.ctl(&["purge", "--source", "auvik", "--yes"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    assert!(agent.assets(true).is_empty(), "purged");
}

/// Runs `assetctl ARGS` on a pseudo-terminal (util-linux `script`), as a person at a
/// terminal would; returns what the terminal showed and the exit code. `None` when `script`
/// is not installed.
fn on_a_terminal(agent: &Agent, args: &str) -> Option<(String, Option<i32>)> {
    let cmd = format!(
        "{} --socket {} {args}",
        common::ASSETCTL,
        agent.socket.display()
    );
    let out = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env("TERM", "xterm")
        .stdin(std::process::Stdio::null())
        .output()
        .ok()?;
    Some((String::from_utf8_lossy(&out.stdout).to_string(), code(&out)))
}

#[test]
fn sync_wait_draws_bars_on_a_terminal_and_plain_lines_in_a_pipe() {
    use assetd::sim::faults::{Fault, FaultRule};
    let sim = start_auvik(43, 2, 5);
    let agent = Agent::start(&sim, "");
    agent.wait_for("the first sync", |a| a.source_state() == "ok");
    // A throttled page makes the run wait a second for Retry-After, so the bars are up for
    // several redraws whatever the machine's speed.
    let throttle = || {
        sim.sim.faults().push(
            FaultRule::times(
                Fault::Status429 {
                    retry_after: Some(1),
                },
                1,
            )
            .on("/v1/inventory/device/info"),
        )
    };

    // In a pipe: plain lines, no escape codes, a start line and a summary with counts.
    throttle();
    let out = agent.ctl(&["sync", "auvik", "--full", "--wait"]);
    assert_eq!(code(&out), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(!text.contains('\x1b'), "no ANSI codes in a pipe: {text:?}");
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines.first().is_some_and(|l| l.starts_with("auvik: run ") && l.ends_with(" running (full, manual)")),
        "{text}"
    );
    let last = lines.last().copied().unwrap_or_default();
    assert!(
        last.contains(" ok in ")
            && last.contains(": 10 fetched, 0 added, 0 updated, 10 unchanged, 0 removed (")
            && last.contains("1 retry)"),
        "{text}"
    );

    // On a terminal: a bar (here a spinner and the counts) redrawn on stderr, then cleared,
    // and the same summary line.
    throttle();
    let Some((screen, exit)) = on_a_terminal(&agent, "sync auvik --full --wait") else {
        eprintln!("skipped the terminal half: util-linux `script` is not installed");
        return;
    };
    assert_eq!(exit, Some(0), "{screen}");
    assert!(
        screen.contains("\x1b["),
        "the bars are drawn with escape codes: {screen:?}"
    );
    assert!(
        screen.contains("auvik  run ") || screen.contains("auvik [="),
        "a bar names its source: {screen:?}"
    );
    assert!(
        screen.contains(" requests"),
        "the bar shows the requests: {screen:?}"
    );
    let summary = screen
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    assert!(
        summary.contains("auvik: run ")
            && summary.contains(" ok in ")
            && summary.contains("1 retry)"),
        "the summary is the last line: {screen:?}"
    );
}

/// `assetctl status` names everything that needs attention, one line each with what to
/// do, and `-o json` carries the same items and the agent's count of unmapped clients.
#[test]
fn status_says_what_needs_attention_and_how_to_fix_it() {
    let a = start_auvik(44, 2, 3);
    let b = start_auvik(45, 2, 3);
    let agent = Agent::start_with(|agent| {
        common::write_private(&agent.key_file, &a.sim.api_key());
        let b_key = agent.dir.path().join("b.key");
        common::write_private(&b_key, &b.sim.api_key());
        format!(
            "{}[[source]]\nname = \"other\"\nkind = \"auvik\"\nusername = \"{}\"\napi_key = {{ file = \"{}\" }}\n\
             domain_prefix = \"{}\"\nbase_url = \"{}\"\n",
            agent.auvik_config(&a, ""),
            b.sim.username(),
            b_key.display(),
            b.sim.domain_prefix(),
            b.server.base_url
        )
    });
    agent.wait_for("both first syncs", |x| {
        x.state_of("auvik") == "ok" && x.state_of("other") == "ok"
    });
    let json = agent.json(&["status"]);
    assert_eq!(
        json["attention"].as_array().map(Vec::len),
        Some(1),
        "only the unmapped clients: {json}"
    );
    let out = agent.ctl(&["status"]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    // The two simulators' clients have different names: each is in one source only.
    let unmapped = agent.json(&["clients", "--unmapped"]);
    let n = unmapped.as_array().map_or(0, Vec::len);
    assert!(n > 0, "{unmapped}");
    assert_eq!(json["unmapped_clients"], n, "{json}");
    assert!(
        text.contains(&format!(
            "! clients: {n} clients are found in only one source → `assetctl clients --unmapped` suggests"
        )),
        "{text}"
    );

    // Break things: rejected credentials, unreadable billing, a refused config.
    b.sim.rotate_key();
    a.sim.deny_billing(true);
    let _ = agent.sync_source("other", true);
    let _ = agent.sync_source("auvik", true);
    let good = std::fs::read_to_string(&agent.config).expect("config");
    agent.write_config(&format!("{good}\nbogus = 1\n"));
    agent.wait_for("the refusal", |x| x.config_status()["state"] == "rejected");

    let json = agent.json(&["status"]);
    let subjects: Vec<String> = json["attention"]
        .as_array()
        .expect("attention")
        .iter()
        .map(|a| {
            format!(
                "{}: {}",
                a["subject"].as_str().unwrap_or(""),
                a["problem"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        subjects,
        [
            "config: the changed config file was refused; the previous config keeps running",
            "source auvik: the vendor's billing figures cannot be read",
            "source other: the vendor rejected the credentials; assetd stopped calling it",
            &format!("clients: {n} clients are found in only one source"),
        ],
        "{json}"
    );
    let out = agent.ctl(&["status"]);
    assert_eq!(
        code(&out),
        Some(0),
        "status itself succeeded: {}",
        stderr(&out)
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let items: Vec<&str> = text.lines().filter(|l| l.starts_with("! ")).collect();
    assert_eq!(items.len(), 4, "{text}");
    for item in &items {
        assert!(item.contains(" → "), "each item says what to do: {item}");
    }
    assert!(
        items[0].contains("config.toml:") && items[0].contains("bogus"),
        "{text}"
    );
    assert!(items[1].contains("permission to view billing"), "{text}");
    assert!(
        items[2].contains("→ put working credentials for other in the config"),
        "{text}"
    );
    // In a pipe nothing is cut; with COLUMNS the detail gives way, never the fix.
    let narrow = Command::new(common::ASSETCTL)
        .arg("--socket")
        .arg(&agent.socket)
        .arg("status")
        .env("COLUMNS", "240")
        .output()
        .expect("assetctl");
    let narrow = String::from_utf8_lossy(&narrow.stdout).to_string();
    let full = items[2];
    assert!(full.chars().count() > 240, "the detail is long: {full}");
    let cut = narrow
        .lines()
        .find(|l| l.starts_with("! source other"))
        .unwrap_or_default();
    assert_eq!(cut.chars().count(), 240, "{cut}");
    assert!(cut.contains('…'), "{cut}");
    assert!(
        cut.ends_with("(SIGHUP after editing a secret file)"),
        "{cut}"
    );
}
