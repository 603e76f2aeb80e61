//! The fault matrix: every simulator fault against every connector, through the real agent.
//!
//! For each cell the run must end as it should (ok after a transient fault, failed after a
//! lasting one), say what happened and what to do, retry only where retrying makes sense
//! and only as often as `max_retries` allows, leave the previous data untouched, and the
//! agent must answer RPCs while the fault lasts. The sources run with short limits
//! (`request_timeout = "2s"`, `max_retries = 1`, `max_throttle_wait = "2s"`) so that hangs,
//! retries and throttling take seconds.

use crate::common;
use crate::common::Agent;
use assetd::sim::auvik::{AuvikSim, AuvikSimOptions};
use assetd::sim::faults::{Fault, FaultPlan, FaultRule};
use assetd::sim::passportal::{PassportalSim, PassportalSimOptions};
use assetd::sim::server::SimServer;
use assetd::sim::syncro::{SyncroSim, SyncroSimOptions};
use serde_json::Value;
use std::time::{Duration, Instant};

enum Sim {
    Auvik(AuvikSim),
    Syncro(SyncroSim),
    Passportal(PassportalSim),
}

impl Sim {
    fn faults(&self) -> &FaultPlan {
        match self {
            Sim::Auvik(s) => s.faults(),
            Sim::Syncro(s) => s.faults(),
            Sim::Passportal(s) => s.faults(),
        }
    }

    fn requests(&self) -> u64 {
        match self {
            Sim::Auvik(s) => s.request_count(),
            Sim::Syncro(s) => s.request_count(),
            Sim::Passportal(s) => s.request_count(),
        }
    }

    /// Issues a new secret (the old one is refused from now on) and returns it.
    fn rotate(&self) -> String {
        match self {
            Sim::Auvik(s) => s.rotate_key(),
            Sim::Syncro(s) => s.rotate_key(),
            Sim::Passportal(s) => s.rotate_secret(),
        }
    }

    /// The path of the asset listing: faults there hit a run after its clients are read.
    fn assets_path(&self) -> &'static str {
        match self {
            Sim::Auvik(_) => "/v1/inventory/device/info",
            Sim::Syncro(_) => "/api/v1/customer_assets",
            Sim::Passportal(_) => "/api/v2/documents",
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Sim::Auvik(_) => "auvik",
            Sim::Syncro(_) => "syncro",
            Sim::Passportal(_) => "passportal",
        }
    }
}

struct Bench {
    sim: Sim,
    server: SimServer,
    agent: Agent,
    _runtime: tokio::runtime::Runtime,
}

/// Throttling is waited out for the vendor's whole window by default (minutes); here two
/// seconds, so a lasting 429 fails the run in seconds.
const LIMITS: &str = "request_timeout = \"2s\"\nmax_retries = 1\nmax_throttle_wait = \"2s\"\n";

impl Bench {
    fn start(kind: &str) -> Bench {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let (clients, assets) = (3, 8);
        let sim = match kind {
            "auvik" => Sim::Auvik(AuvikSim::new(AuvikSimOptions {
                seed: 601,
                clients,
                assets_per_client: assets,
                ..AuvikSimOptions::default()
            })),
            // A generous budget on both sides: Syncro's real 180/min is tested elsewhere, and
            // here it would only make the endless-paging cell wait a minute for the next one.
            "syncro" => Sim::Syncro(SyncroSim::new(SyncroSimOptions {
                seed: 602,
                clients,
                assets_per_client: assets,
                requests_per_minute: 6000,
                ..SyncroSimOptions::default()
            })),
            _ => Sim::Passportal(PassportalSim::new(PassportalSimOptions {
                seed: 603,
                clients,
                assets_per_client: assets,
                ..PassportalSimOptions::default()
            })),
        };
        let server = runtime.block_on(async {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            match &sim {
                Sim::Auvik(s) => s.start(l).await,
                Sim::Syncro(s) => s.start(l).await,
                Sim::Passportal(s) => s.start(l).await,
            }
            .expect("start sim")
        });
        let secret = match &sim {
            Sim::Auvik(s) => s.api_key(),
            Sim::Syncro(s) => s.api_key(),
            Sim::Passportal(s) => s.secret_access_key(),
        };
        let agent = {
            let source = source_config(&sim, &server.base_url, LIMITS);
            Agent::start_with(|a| {
                common::write_private(&a.key_file, &secret);
                format!("{}{}", a.agent_section(), source(a))
            })
        };
        Bench {
            sim,
            server,
            agent,
            _runtime: runtime,
        }
    }

    fn config(&self, base_url: &str, limits: &str) -> String {
        format!(
            "{}{}",
            self.agent.agent_section(),
            source_config(&self.sim, base_url, limits)(&self.agent)
        )
    }
}

/// The `[[source]]` table for `sim` at `base_url` with `limits`, given the agent (for the
/// key file's path).
fn source_config<'a>(
    sim: &'a Sim,
    base_url: &'a str,
    limits: &'a str,
) -> impl Fn(&Agent) -> String + 'a {
    move |a: &Agent| {
        let key = a.key_file.display();
        match sim {
            Sim::Auvik(s) => format!(
                "[[source]]\nname = \"auvik\"\nkind = \"auvik\"\nregion = \"us1\"\nusername = \"{}\"\n\
                 api_key = {{ file = \"{key}\" }}\ndomain_prefix = \"{}\"\nbase_url = \"{base_url}\"\n{limits}",
                s.username(),
                s.domain_prefix()
            ),
            Sim::Syncro(s) => format!(
                "[[source]]\nname = \"syncro\"\nkind = \"syncro\"\nsubdomain = \"{}\"\n\
                 api_key = {{ file = \"{key}\" }}\nbase_url = \"{base_url}\"\nrequests_per_minute = 6000\n{limits}",
                s.subdomain()
            ),
            Sim::Passportal(s) => format!(
                "[[source]]\nname = \"passportal\"\nkind = \"passportal\"\ndatacenter = \"us\"\n\
                 access_key_id = \"{}\"\nsecret_access_key = {{ file = \"{key}\" }}\nbase_url = \"{base_url}\"\n{limits}",
                s.access_key_id()
            ),
        }
    }
}

/// What a cell expects of the run.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    /// The fault passed; the run succeeded after at least this many retries.
    RecoveredAfter(i64),
    /// The run failed with exactly `max_retries` retries of the faulty request, and its error
    /// says this.
    FailedRetried(&'static str),
    /// The run failed without retrying (retrying cannot help), and its error says this.
    FailedAtOnce(&'static str),
}

fn cells(sim: &Sim) -> Vec<(&'static str, FaultRule, Outcome)> {
    use Outcome::*;
    let always = |f: Fault| FaultRule::always(f).on(sim.assets_path());
    let once = |f: Fault| FaultRule::times(f, 1).on(sim.assets_path());
    let mut cells = vec![
        (
            "429 with Retry-After, once",
            once(Fault::Status429 {
                retry_after: Some(1),
            }),
            RecoveredAfter(1),
        ),
        (
            "429 without Retry-After, lasting",
            always(Fault::Status429 { retry_after: None }),
            FailedRetried("429"),
        ),
        (
            "500, lasting",
            always(Fault::ServerError(500)),
            FailedRetried("500"),
        ),
        (
            "502, once",
            once(Fault::ServerError(502)),
            RecoveredAfter(1),
        ),
        (
            "503, lasting",
            always(Fault::ServerError(503)),
            FailedRetried("503"),
        ),
        (
            "504, once",
            once(Fault::ServerError(504)),
            RecoveredAfter(1),
        ),
        (
            "a server that never answers",
            always(Fault::Hang),
            FailedRetried("timed out"),
        ),
        (
            "a body that stalls halfway",
            always(Fault::SlowBody),
            FailedRetried(""),
        ),
        (
            "truncated JSON",
            always(Fault::TruncatedJson),
            FailedAtOnce(""),
        ),
        ("not JSON", always(Fault::InvalidJson), FailedAtOnce("")),
        (
            "valid JSON of the wrong shape",
            always(Fault::WrongShape),
            FailedAtOnce(""),
        ),
        (
            "an HTML page",
            always(Fault::WrongContentType),
            FailedAtOnce("expected JSON"),
        ),
    ];
    if let Sim::Auvik(_) = sim {
        // Auvik's throttling 403 is retried like a 429; elsewhere a 403 is a refusal.
        cells.push((
            "Auvik's 403 rate-limit text, once",
            once(Fault::RateLimit403),
            RecoveredAfter(1),
        ));
        // Cursor paging that points back at itself (Syncro and Passportal page by number).
        cells.push((
            "a cursor that loops back",
            always(Fault::LoopingPages),
            FailedAtOnce("loops"),
        ));
    }
    // Last: a redirect to another region stops the source's calls until its config changes.
    cells.push((
        "308 to another region",
        always(Fault::WrongRegion {
            region: "eu1".into(),
        }),
        FailedAtOnce("308"),
    ));
    cells
}

/// The agent's assets, sorted, as comparable JSON.
fn snapshot(agent: &Agent) -> Vec<Value> {
    let mut assets = agent.assets(true);
    assets.sort_by_key(|a| a["id"].as_i64());
    assets
}

/// Runs a full sync while checking, every few milliseconds, that the agent answers RPCs.
/// Returns the finished run record and how many status calls were answered meanwhile.
fn sync_while_polling(b: &Bench) -> (Value, u32) {
    let name = b.sim.name();
    std::thread::scope(|scope| {
        let sync = scope.spawn(|| b.agent.sync_source(name, true));
        let mut answered = 0;
        while !sync.is_finished() {
            let out = b.agent.ctl(&["-o", "json", "status"]);
            assert!(
                out.status.success(),
                "status must answer during a faulty run: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            answered += 1;
            std::thread::sleep(Duration::from_millis(50));
        }
        (sync.join().expect("sync thread"), answered)
    })
}

fn n(run: &Value, field: &str) -> i64 {
    run[field].as_i64().unwrap_or(-1)
}

fn matrix(kind: &str) {
    let b = Bench::start(kind);
    b.agent
        .wait_for("the first sync", |a| a.state_of(kind) == "ok");
    let before = snapshot(&b.agent);
    assert!(!before.is_empty());
    for (what, rule, outcome) in cells(&b.sim) {
        b.sim.faults().clear();
        b.sim.faults().push(rule);
        let (run, answered) = sync_while_polling(&b);
        b.sim.faults().clear();
        let cell = format!("{kind} × {what}");
        let error = run["error"].as_str().unwrap_or_default().to_string();
        match outcome {
            Outcome::RecoveredAfter(min) => {
                assert_eq!(run["state"], "ok", "{cell}: {run}");
                assert!(n(&run, "retries") >= min, "{cell}: retried: {run}");
            }
            Outcome::FailedRetried(says) | Outcome::FailedAtOnce(says) => {
                assert_eq!(run["state"], "failed", "{cell}: {run}");
                assert!(
                    error.contains(says),
                    "{cell}: the error names the cause: {error}"
                );
                // What to do, not only what went wrong.
                let advice = [
                    "retry", "check", "set ", "give ", "proxy", "raise", "free ", "lower ",
                ];
                assert!(
                    advice.iter().any(|a| error.contains(a)),
                    "{cell}: the error says what to do: {error}"
                );
                let retries = n(&run, "retries");
                if matches!(outcome, Outcome::FailedRetried(_)) {
                    // One request hit the fault and was retried max_retries (1) times;
                    // concurrent requests (Passportal's details) may have retried too.
                    assert!(retries >= 1, "{cell}: bounded retries happened: {run}");
                } else {
                    assert_eq!(retries, 0, "{cell}: no retry where it cannot help: {run}");
                }
            }
        }
        assert_eq!(
            snapshot(&b.agent),
            before,
            "{cell}: the previous data is untouched"
        );
        assert!(answered > 0 || run["state"] == "ok", "{cell}: polled");
    }
    // After the 308 the source calls the vendor no more until its config changes: another
    // run would only be redirected again.
    let calls = b.sim.requests();
    let refused = b.agent.ctl(&["sync", kind, "--wait"]);
    assert!(!refused.status.success(), "{kind}: no run after a 308");
    assert_eq!(
        b.sim.requests(),
        calls,
        "{kind}: no vendor call after a 308"
    );
}

#[test]
fn fault_matrix_auvik() {
    matrix("auvik");
}

#[test]
fn fault_matrix_syncro() {
    matrix("syncro");
}

#[test]
fn fault_matrix_passportal() {
    matrix("passportal");
}

/// Connection refused, a run that outlives `run_timeout`, and a key rotated mid-sync, for
/// each connector: each needs a config change, so they run apart from the matrix.
fn config_cells(kind: &str) {
    let b = Bench::start(kind);
    b.agent
        .wait_for("the first sync", |a| a.state_of(kind) == "ok");
    let before = snapshot(&b.agent);
    let generation = |a: &Agent| a.json(&["status"])["config"]["generation"].as_i64();

    // Connection refused: a port nothing listens on.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}/", l.local_addr().expect("addr"))
    };
    let g = generation(&b.agent);
    b.agent.write_config(&b.config(&closed, LIMITS));
    b.agent.wait_for("the reload", |a| generation(a) != g);
    let run = b.agent.sync_source(kind, true);
    assert_eq!(run["state"], "failed", "{kind} refused: {run}");
    let error = run["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("could not connect") && error.contains("retry"),
        "{kind} refused: {error}"
    );
    assert!(n(&run, "retries") >= 1, "{kind} refused: {run}");
    assert_eq!(snapshot(&b.agent), before, "{kind} refused: data untouched");

    // A run that outlives run_timeout: a server that never answers, with a request timeout
    // longer than the run's.
    let g = generation(&b.agent);
    b.agent.write_config(&b.config(
        &b.server.base_url,
        "request_timeout = \"60s\"\nrun_timeout = \"2s\"\nmax_retries = 1\n",
    ));
    b.agent.wait_for("the reload", |a| generation(a) != g);
    // The reload restarts the source with a full sync; wait for it before faulting.
    b.agent.wait_for("the resync", |a| a.state_of(kind) == "ok");
    b.sim
        .faults()
        .push(FaultRule::always(Fault::Hang).on(b.sim.assets_path()));
    let started = Instant::now();
    let (run, _) = sync_while_polling(&b);
    b.sim.faults().clear();
    assert_eq!(run["state"], "failed", "{kind} run timeout: {run}");
    assert!(
        run["error"]
            .as_str()
            .unwrap_or_default()
            .contains("run_timeout"),
        "{kind} run timeout: {run}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{kind}: the run stopped at its timeout, not the request's"
    );
    assert_eq!(
        snapshot(&b.agent),
        before,
        "{kind} run timeout: data untouched"
    );

    // A list that never ends (Auvik: fresh `next` links to the same devices; Syncro: a
    // `total_pages` in the billions past empty pages) stops at once, within a few pages,
    // rather than spending the vendor's budget until run_timeout: Auvik's tenants fail their
    // listing (all of them: a failed run), Syncro's listing is cut short (partial: what was
    // read is kept, nothing removed). (Passportal's list ends at the first empty page.)
    if !matches!(b.sim, Sim::Passportal(_)) {
        b.sim
            .faults()
            .push(FaultRule::always(Fault::EndlessPages).on(b.sim.assets_path()));
        let (run, _) = sync_while_polling(&b);
        b.sim.faults().clear();
        let (state, says) = match b.sim {
            Sim::Auvik(_) => ("failed", "same devices"),
            _ => ("partial", "came back empty"),
        };
        assert_eq!(run["state"], state, "{kind} endless pages: {run}");
        assert!(
            run["error"].as_str().unwrap_or_default().contains(says),
            "{kind} endless pages: {run}"
        );
        assert!(
            n(&run, "requests") <= 12,
            "{kind}: it stopped within a few pages: {run}"
        );
        assert_eq!(n(&run, "removed"), 0, "{kind} endless pages: {run}");
        assert_eq!(
            snapshot(&b.agent),
            before,
            "{kind} endless pages: data untouched"
        );
    }

    // A key rotated mid-sync: the asset listing is the first request after the switch.
    let g = generation(&b.agent);
    b.agent.write_config(&b.config(&b.server.base_url, LIMITS));
    b.agent.wait_for("the reload", |a| generation(a) != g);
    b.agent.wait_for("the resync", |a| a.state_of(kind) == "ok");
    let rotated = std::sync::Mutex::new(None);
    let run = std::thread::scope(|scope| {
        let sync = scope.spawn(|| b.agent.sync_source(kind, true));
        // Rotate as soon as the run has made its first request.
        let start = b.sim.requests();
        while b.sim.requests() == start && !sync.is_finished() {
            std::thread::sleep(Duration::from_millis(1));
        }
        *rotated.lock().expect("lock") = Some(b.sim.rotate());
        sync.join().expect("sync")
    });
    let state = b.agent.state_of(kind);
    if run["state"] == "ok" {
        // The run read everything before the switch took effect: rare, but a fair outcome.
        // The next run must then be refused.
        let run = b.agent.sync_source(kind, true);
        assert_eq!(run["state"], "failed", "{kind} rotated: {run}");
    } else {
        assert_eq!(run["state"], "failed", "{kind} rotated: {run}");
    }
    assert_eq!(
        b.agent.state_of(kind),
        "credentials_rejected",
        "{kind} rotated (was {state})"
    );
    let calls = b.sim.requests();
    let refused = b.agent.ctl(&["sync", kind, "--wait"]);
    assert!(!refused.status.success(), "{kind}: no run while rejected");
    assert_eq!(
        b.sim.requests(),
        calls,
        "{kind}: no vendor call while the credentials are rejected"
    );
    assert_eq!(snapshot(&b.agent), before, "{kind} rotated: data untouched");
    // The new secret in its file and a reload: the source recovers by itself.
    let secret = rotated.lock().expect("lock").clone().expect("rotated");
    common::write_private(&b.agent.key_file, &secret);
    b.agent.signal(libc::SIGHUP);
    b.agent
        .wait_for("recovery with the new secret", |a| a.state_of(kind) == "ok");
}

#[test]
fn refused_connections_run_timeouts_and_rotated_keys_auvik() {
    config_cells("auvik");
}

#[test]
fn refused_connections_run_timeouts_and_rotated_keys_syncro() {
    config_cells("syncro");
}

#[test]
fn refused_connections_run_timeouts_and_rotated_keys_passportal() {
    config_cells("passportal");
}
