//! The Prometheus endpoint (`agent.metrics_listen`) against the real agent and simulator:
//! scraped with a plain HTTP client, parsed as Prometheus parses the text format, and held
//! to what the runs did: assets new/changed/removed, requests by status class (equal to the
//! requests the simulator received), retries after injected 429 and 500 answers, outcomes
//! and error reasons, all surviving a config reload.

use crate::common;
use crate::common::{Agent, http_get, metrics_port, start_auvik, with_metrics};
use assetd::sim::faults::{Fault, FaultRule};
use std::collections::BTreeMap;

/// One sample: metric name, labels, value.
type Sample = (String, BTreeMap<String, String>, f64);

/// Parses the text exposition format: `# HELP`/`# TYPE` lines and samples
/// `name{label="value",…} value`, with `\\`, `\"` and `\n` escapes in label values.
fn parse(text: &str) -> (Vec<Sample>, BTreeMap<String, String>) {
    let mut samples = Vec::new();
    let mut types = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            assert!(
                types.insert(name.to_owned(), kind.to_owned()).is_none(),
                "{name} typed twice"
            );
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (name, rest) = match line.find('{') {
            Some(i) => (&line[..i], &line[i + 1..]),
            None => {
                let (n, v) = line.split_once(' ').expect("name value");
                samples.push((n.to_owned(), BTreeMap::new(), v.parse().expect("value")));
                continue;
            }
        };
        let mut labels = BTreeMap::new();
        let mut chars = rest.char_indices().peekable();
        let value_at;
        loop {
            let key: String = chars
                .by_ref()
                .map(|(_, c)| c)
                .take_while(|&c| c != '=')
                .collect();
            assert_eq!(chars.next().map(|(_, c)| c), Some('"'), "{line}");
            let mut value = String::new();
            while let Some((_, c)) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => match chars.next().map(|(_, c)| c) {
                        Some('n') => value.push('\n'),
                        Some(c) => value.push(c),
                        None => panic!("dangling escape in {line}"),
                    },
                    c => value.push(c),
                }
            }
            labels.insert(key, value);
            match chars.next() {
                Some((_, ',')) => continue,
                Some((i, '}')) => {
                    value_at = i + 1;
                    break;
                }
                other => panic!("unexpected {other:?} in {line}"),
            }
        }
        let value = rest[value_at..].trim().parse().expect("value");
        samples.push((name.to_owned(), labels, value));
    }
    (samples, types)
}

struct Scrape {
    samples: Vec<Sample>,
    text: String,
}

impl Scrape {
    fn take(port: u16) -> Scrape {
        let (status, headers, body) = http_get(port, "/metrics");
        assert_eq!(status, "HTTP/1.1 200 OK", "{body}");
        let ct = headers
            .iter()
            .find(|(k, _)| k == "content-type")
            .map(|(_, v)| v.as_str());
        assert_eq!(ct, Some("text/plain; version=0.0.4; charset=utf-8"));
        let (samples, types) = parse(&body);
        // Every sample belongs to a typed family (histograms through their suffixes).
        for (name, _, _) in &samples {
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| {
                    name.strip_suffix(s)
                        .filter(|f| types.get(*f).is_some_and(|k| k == "histogram"))
                })
                .unwrap_or(name);
            assert!(types.contains_key(family), "{name} has no TYPE");
        }
        Scrape {
            samples,
            text: body,
        }
    }

    /// The one sample of `name` whose labels include `labels`.
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let found: Vec<f64> = self
            .samples
            .iter()
            .filter(|(n, l, _)| {
                n == name
                    && labels
                        .iter()
                        .all(|(k, v)| l.get(*k).is_some_and(|x| x == v))
            })
            .map(|(_, _, v)| *v)
            .collect();
        assert_eq!(
            found.len(),
            1,
            "{name}{labels:?}: {} samples\n{}",
            found.len(),
            self.text
        );
        found[0]
    }

    /// The sum of `name` over every sample whose labels include `labels`.
    fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.samples
            .iter()
            .filter(|(n, l, _)| {
                n == name
                    && labels
                        .iter()
                        .all(|(k, v)| l.get(*k).is_some_and(|x| x == v))
            })
            .map(|(_, _, v)| *v)
            .sum()
    }
}

const SRC: (&str, &str) = ("source", "auvik");

#[test]
fn metrics_count_what_the_runs_did_and_survive_a_reload() {
    let sim = start_auvik(81, 3, 4);
    // The first run meets a 429 (Retry-After: 0) and a 500 on the inventory: two retries.
    sim.sim.faults().push(
        FaultRule::times(
            Fault::Status429 {
                retry_after: Some(0),
            },
            1,
        )
        .on("/v1/inventory/device/info"),
    );
    sim.sim
        .faults()
        .push(FaultRule::times(Fault::ServerError(500), 1).on("/v1/inventory/device/info"));
    let mut agent = Agent::start_with(|a| {
        common::write_private(&a.key_file, &sim.sim.api_key());
        with_metrics(&a.auvik_config(&sim, ""))
    });
    agent.wait_for("the first sync", |a| a.source_state() == "ok");
    let port = metrics_port(&agent);
    let devices = sim.sim.devices().len() as f64;
    assert!(devices > 0.0);

    let run = agent.json(&["runs"])[0].clone();
    assert_eq!(run["state"], "ok", "{run}");
    let m = Scrape::take(port);
    assert_eq!(
        m.get("assetd_sync_runs_total", &[SRC, ("outcome", "ok")]),
        1.0
    );
    assert_eq!(
        m.get("assetd_sync_runs_total", &[SRC, ("outcome", "failed")]),
        0.0
    );
    assert_eq!(
        m.get("assetd_sync_assets_total", &[SRC, ("change", "new")]),
        devices
    );
    assert_eq!(
        m.get("assetd_sync_assets_total", &[SRC, ("change", "changed")]),
        0.0
    );
    assert_eq!(
        m.get("assetd_sync_assets_total", &[SRC, ("change", "removed")]),
        0.0
    );
    assert_eq!(m.get("assetd_sync_assets_fetched_total", &[SRC]), devices);
    assert_eq!(m.get("assetd_assets", &[SRC, ("vendor", "auvik")]), devices);
    // Every request the simulator received, by class; the same as the run record says.
    let requests = m.sum("assetd_vendor_requests_total", &[SRC]);
    assert_eq!(requests, sim.sim.request_count() as f64);
    assert_eq!(requests, run["requests"].as_f64().unwrap_or(-1.0));
    assert_eq!(
        m.get(
            "assetd_vendor_requests_total",
            &[SRC, ("status_class", "4xx")]
        ),
        1.0
    );
    assert_eq!(
        m.get(
            "assetd_vendor_requests_total",
            &[SRC, ("status_class", "5xx")]
        ),
        1.0
    );
    assert_eq!(
        m.get(
            "assetd_vendor_requests_total",
            &[SRC, ("status_class", "2xx")]
        ),
        requests - 2.0
    );
    assert_eq!(
        m.get(
            "assetd_vendor_requests_total",
            &[SRC, ("status_class", "error")]
        ),
        0.0
    );
    assert_eq!(m.get("assetd_vendor_retries_total", &[SRC]), 2.0);
    assert_eq!(run["retries"], 2);
    assert_eq!(m.get("assetd_sync_duration_seconds_count", &[SRC]), 1.0);
    assert_eq!(
        m.get(
            "assetd_sync_duration_seconds_bucket",
            &[SRC, ("le", "+Inf")]
        ),
        1.0
    );
    let finished = chrono::DateTime::parse_from_rfc3339(run["finished"].as_str().expect("finished"))
        .expect("RFC 3339")
        .timestamp() as f64;
    assert_eq!(
        m.get("assetd_sync_last_success_timestamp_seconds", &[SRC]),
        finished
    );
    assert_eq!(m.get("assetd_source_state", &[SRC, ("state", "ok")]), 1.0);
    assert_eq!(
        m.get("assetd_source_state", &[SRC, ("state", "failed")]),
        0.0
    );
    assert_eq!(m.get("assetd_config_last_reload_successful", &[]), 1.0);
    assert_eq!(
        m.get(
            "assetd_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        1.0
    );
    // Labels carry source names and vendor kinds, never client names.
    for tenant in sim.sim.tenants() {
        assert!(
            !m.text.contains(&tenant.display_name),
            "{} in metrics",
            tenant.display_name
        );
    }
    // Only /metrics is served.
    let (status, _, _) = http_get(port, "/");
    assert!(status.starts_with("HTTP/1.1 404"), "{status}");

    // A reload (a new interval, and a new metrics address, which needs a restart) keeps
    // the endpoint where it is and every counter where it was.
    let changed = with_metrics(&agent.auvik_config(&sim, "interval = \"2h\""))
        .replace("127.0.0.1:0", "127.0.0.1:1");
    agent.write_config(&changed);
    agent.wait_for_generation(2);
    assert!(
        agent.log_text().contains("take effect at the next restart"),
        "{}",
        agent.log_text()
    );
    let devs = sim.sim.devices();
    sim.sim
        .update_device(&devs[0].id, |d| d.name = format!("{}-renamed", d.name));
    sim.sim.remove_device(&devs[1].id);
    let second = agent.sync(true);
    assert_eq!(second["state"], "ok", "{second}");
    let m = Scrape::take(port);
    assert_eq!(
        m.get("assetd_sync_runs_total", &[SRC, ("outcome", "ok")]),
        2.0
    );
    assert_eq!(
        m.get("assetd_sync_assets_total", &[SRC, ("change", "new")]),
        devices
    );
    assert_eq!(
        m.get("assetd_sync_assets_total", &[SRC, ("change", "changed")]),
        1.0
    );
    assert_eq!(
        m.get("assetd_sync_assets_total", &[SRC, ("change", "removed")]),
        1.0
    );
    assert_eq!(m.get("assetd_assets", &[SRC]), devices - 1.0);
    assert_eq!(
        m.sum("assetd_vendor_requests_total", &[SRC]),
        sim.sim.request_count() as f64
    );
    assert_eq!(m.get("assetd_vendor_retries_total", &[SRC]), 2.0);
    assert_eq!(m.get("assetd_sync_duration_seconds_count", &[SRC]), 2.0);

    // Rejected credentials: a failed run with its reason, and the source's state.
    sim.sim.rotate_key();
    let third = agent.sync(true);
    assert_eq!(third["state"], "failed", "{third}");
    let m = Scrape::take(port);
    assert_eq!(
        m.get("assetd_sync_runs_total", &[SRC, ("outcome", "failed")]),
        1.0
    );
    assert_eq!(
        m.get(
            "assetd_sync_errors_total",
            &[SRC, ("reason", "credentials_rejected")]
        ),
        1.0
    );
    assert_eq!(
        m.get("assetd_sync_errors_total", &[SRC, ("reason", "transport")]),
        0.0
    );
    assert_eq!(
        m.get(
            "assetd_source_state",
            &[SRC, ("state", "credentials_rejected")]
        ),
        1.0
    );
    // The first run's 429, the second run's lookup of the device it found absent (404:
    // gone, which confirmed the removal), and this run's 401.
    assert_eq!(
        m.get(
            "assetd_vendor_requests_total",
            &[SRC, ("status_class", "4xx")]
        ),
        3.0
    );
    // The last success is still the second run's.
    let finished =
        chrono::DateTime::parse_from_rfc3339(second["finished"].as_str().expect("finished"))
            .expect("RFC 3339")
            .timestamp() as f64;
    assert_eq!(
        m.get("assetd_sync_last_success_timestamp_seconds", &[SRC]),
        finished
    );

    // A second agent asked to serve metrics on the same port refuses to start, and says why.
    let other = Agent::configure(|a| {
        common::write_private(&a.key_file, &sim.sim.api_key());
        with_metrics(&a.auvik_config(&sim, "")).replace("127.0.0.1:0", &format!("127.0.0.1:{port}"))
    });
    let out = common::run_until_exit(&other.config, std::time::Duration::from_secs(30));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains(&format!(
            "cannot serve metrics on 127.0.0.1:{port} (`agent.metrics_listen`)"
        )) && err.contains("another program"),
        "{err}"
    );
    agent.stop();
}
