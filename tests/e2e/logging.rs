//! Logs as an operator reads them: one line per run with its counts and duration, and the
//! source, run id and client as real fields (JSON keys here; journal fields under systemd,
//! where the same tracing fields are sent natively).

use crate::common;
use crate::common::{ASSETD, Agent, start_auvik};
use serde_json::Value;

fn json_lines(agent: &Agent) -> Vec<Value> {
    agent
        .log_text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect()
}

/// The value of `field` in the event's span of that `name`.
fn span_field<'a>(event: &'a Value, span: &str, field: &str) -> Option<&'a Value> {
    event["spans"]
        .as_array()?
        .iter()
        .find(|s| s["name"] == span)
        .and_then(|s| s.get(field))
}

#[test]
fn json_logs_carry_source_run_id_and_client_and_one_line_per_run() {
    let sim = start_auvik(95, 3, 4);
    let mut agent = Agent::configure(|a| {
        common::write_private(&a.key_file, &sim.sim.api_key());
        // The refused tenant's second look waits a quarter of this.
        a.auvik_config(&sim, "max_throttle_wait = \"4s\"")
    });
    agent.log_filter = "info".into();
    agent.env.push(("ASSETD_LOG_FORMAT".into(), "json".into()));
    agent.spawn();
    agent.wait_for("the first sync", |a| a.source_state() == "ok");

    let denied = sim
        .sim
        .tenants()
        .into_iter()
        .find(|t| t.tenant_type == "client")
        .expect("a client tenant");
    sim.sim.deny_tenant(&denied.id, true);
    let run = agent.sync(true);
    assert_eq!(run["state"], "partial", "{run}");
    agent.stop();

    let events = json_lines(&agent);
    let finished: Vec<&Value> = events
        .iter()
        .filter(|e| e["fields"]["message"] == "Sync finished.")
        .collect();
    assert_eq!(finished.len(), 2, "one line per run: {finished:#?}");
    let last = finished[1];
    assert_eq!(
        span_field(last, "source", "source"),
        Some(&Value::from("auvik"))
    );
    assert_eq!(
        span_field(last, "run", "run_id"),
        Some(&run["id"]),
        "{last}"
    );
    assert_eq!(span_field(last, "run", "kind"), Some(&Value::from("full")));
    let fields = &last["fields"];
    for counter in [
        "fetched",
        "added",
        "updated",
        "unchanged",
        "removed",
        "requests",
        "retries",
        "duration_ms",
    ] {
        assert!(fields[counter].is_u64(), "`{counter}` in {last}");
    }
    assert_eq!(fields["state"], "partial");
    for counter in ["fetched", "added", "updated", "unchanged", "removed"] {
        assert_eq!(fields[counter], run[counter], "{last}\n{run}");
    }

    // The refused tenant is logged as a warning within its client's span.
    let skipped = events
        .iter()
        .find(|e| {
            e["level"] == "WARN"
                && e["fields"]["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("Skipped a tenant"))
        })
        .unwrap_or_else(|| panic!("no warning for the refused tenant: {events:#?}"));
    assert_eq!(
        span_field(skipped, "client", "client"),
        Some(&Value::from(denied.display_name.clone())),
        "{skipped}"
    );
    assert_eq!(span_field(skipped, "run", "run_id"), Some(&run["id"]));
    assert_eq!(
        span_field(skipped, "source", "source"),
        Some(&Value::from("auvik"))
    );
}

#[test]
fn text_logs_show_the_same_fields_and_unknown_formats_are_refused() {
    let sim = start_auvik(96, 1, 3);
    let mut agent = Agent::start(&sim, "");
    agent.wait_for("the first sync", |a| a.source_state() == "ok");
    agent.stop();
    let log = agent.log_text();
    let line = log
        .lines()
        .find(|l| l.contains("Sync finished."))
        .unwrap_or_else(|| panic!("no run line:\n{log}"));
    for part in [
        "source{source=auvik}:run{run_id=1 kind=\"full\"",
        "state=\"ok\"",
        "fetched=3",
        "added=3",
        "removed=0",
        "duration_ms=",
    ] {
        assert!(line.contains(part), "`{part}` missing: {line}");
    }
    assert!(
        !line.contains('\u{1b}'),
        "no colour codes when stderr is a file: {line}"
    );

    let out = std::process::Command::new(ASSETD)
        .args(["--log-format", "xml", "check-config", "/nonexistent"])
        .output()
        .expect("assetd");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("invalid value 'xml'") && stderr.contains("json"),
        "{stderr}"
    );
}
