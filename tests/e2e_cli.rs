//! assetctl against the real agent: exit codes, one-line errors and output formats.

mod common;

use common::{Agent, start_auvik};
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
