//! End-to-end: what real vendors do that a well-behaved simulator does not (issue 19), each
//! switched on in the simulators, against the real binaries. Partial access, throttling worded
//! every way, empty, repeating, reordered and failing listings, skewed clocks: none of them
//! may cost an asset that was not read, nor a correct billable count.
//!
//! Counts, removals and run states are asserted exactly: which assets were removed, which
//! kept, which skipped, what the run says.

use crate::common;
use crate::common::{Agent, start_auvik};
use assetd::sim::faults::{Fault, FaultRule};
use assetd::sim::passportal::{
    PageOffset, PassportalSim, PassportalSimOptions, PastEnd, Quirks, TokenRefusal,
};
use assetd::sim::syncro::{SyncroSim, SyncroSimOptions};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};

fn n(run: &Value, f: &str) -> i64 {
    run[f]
        .as_i64()
        .unwrap_or_else(|| panic!("no `{f}` in {run}"))
}

/// Asserts how a run ended: its state and how many assets it removed.
#[track_caller]
fn assert_ended(run: &Value, state: &str, removed: i64) {
    assert_eq!(
        (run["state"].as_str(), n(run, "removed")),
        (Some(state), removed),
        "{run}"
    );
}

fn error(run: &Value) -> String {
    run["error"].as_str().unwrap_or_default().to_string()
}

/// Present assets by external id.
fn present(agent: &Agent) -> HashMap<String, Value> {
    agent
        .assets(false)
        .into_iter()
        .map(|a| (a["external_id"].as_str().unwrap_or_default().to_string(), a))
        .collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

// ---------------------------------------------------------------------------------------
// Auvik

/// Auvik's billing rule, written here from Auvik's own list (not from the connector's
/// table): managed routers, switches, firewalls and controllers bill; access points do not.
fn auvik_bills(device_type: &str, managed: bool) -> bool {
    managed
        && matches!(
            device_type,
            "router"
                | "switch"
                | "l3Switch"
                | "voipSwitch"
                | "stack"
                | "firewall"
                | "utm"
                | "securityAppliance"
                | "controller"
        )
}

/// `total_billable` by client, as `assetctl counts` says.
fn counts(agent: &Agent) -> BTreeMap<String, i64> {
    agent
        .rows_by_client(&["counts"])
        .into_iter()
        .map(|(client, c)| (client, c["total_billable"].as_i64().unwrap_or(-1)))
        .collect()
}

fn client_tenants(sim: &common::Sim) -> Vec<assetd::sim::auvik::SimTenant> {
    sim.sim
        .tenants()
        .into_iter()
        .filter(|t| t.tenant_type == "client")
        .collect()
}

/// One forbidden tenant makes the run partial, but the tenants that were read are read to
/// the end and reconciled: devices removed there are removed (and confirmed), the forbidden
/// tenant's devices stay as they were, and every read tenant's billable count is Auvik's.
#[test]
fn a_forbidden_tenant_does_not_stop_removals_in_the_others() {
    let sim = start_auvik(1901, 4, 30);
    let agent = Agent::start(&sim, "max_throttle_wait = \"4s\"\n");
    agent.wait_for("the first sync", |a| a.source_state() == "ok");
    let tenants = client_tenants(&sim);
    let (forbidden, read) = (&tenants[0], &tenants[1..]);
    let devices = sim.sim.devices();
    // Two billable devices removed in each read tenant, one device in the forbidden one.
    let mut removed = Vec::new();
    for t in read {
        let gone: Vec<_> = devices
            .iter()
            .filter(|d| d.tenant_id == t.id && auvik_bills(&d.device_type, d.manage_status))
            .take(2)
            .collect();
        assert_eq!(gone.len(), 2, "tenant {} has billable devices", t.id);
        for d in gone {
            assert!(sim.sim.remove_device(&d.id));
            removed.push(d.id.clone());
        }
    }
    let kept = devices
        .iter()
        .find(|d| d.tenant_id == forbidden.id)
        .expect("a device in the forbidden tenant");
    assert!(sim.sim.remove_device(&kept.id));
    sim.sim.deny_tenant(&forbidden.id, true);

    let run = agent.sync(true);
    assert_eq!(run["state"], "partial", "{run}");
    assert_eq!(
        (
            n(&run, "removed"),
            n(&run, "skipped_units"),
            n(&run, "removals_held")
        ),
        (removed.len() as i64, 1, 0),
        "{run}"
    );
    let e = error(&run);
    assert!(
        e.contains(&forbidden.id) && e.contains("give the API user a role in this tenant"),
        "{e}"
    );
    let now = present(&agent);
    for id in &removed {
        assert!(!now.contains_key(id), "{id} was removed upstream");
    }
    assert!(
        now.contains_key(&kept.id),
        "the forbidden tenant's device stays as it was"
    );

    // Billable counts of every tenant read are Auvik's rule over what Auvik now has; the
    // forbidden tenant keeps its count from before.
    let truth = sim.sim.devices();
    let got = counts(&agent);
    for t in read {
        let want = truth
            .iter()
            .filter(|d| d.tenant_id == t.id && auvik_bills(&d.device_type, d.manage_status))
            .count() as i64;
        assert_eq!(
            got.get(t.display_name.trim()).copied().unwrap_or(0),
            want,
            "{}",
            t.display_name
        );
    }
    let before = devices
        .iter()
        .filter(|d| d.tenant_id == forbidden.id && auvik_bills(&d.device_type, d.manage_status))
        .count() as i64;
    assert_eq!(
        got.get(forbidden.display_name.trim()).copied().unwrap_or(0),
        before
    );
    let sources = agent.json(&["sources"]);
    assert_eq!(sources[0]["state"], "partial", "{sources}");
    assert!(
        sources[0]["state_detail"]
            .as_str()
            .unwrap_or_default()
            .contains(&forbidden.id),
        "{sources}"
    );
}

/// A tenant Auvik says is unavailable (disabled or not running) is not read at all: no 403s
/// to wait out, its devices stay, and the run says so.
#[test]
fn an_unavailable_tenant_is_not_read_and_its_devices_stay() {
    let sim = start_auvik(1902, 3, 20);
    let agent = Agent::start(&sim, "");
    agent.wait_for("the first sync", |a| a.source_state() == "ok");
    let tenants = client_tenants(&sim);
    let (off, on) = (&tenants[0], &tenants[1]);
    let devices = sim.sim.devices();
    let in_off = devices.iter().find(|d| d.tenant_id == off.id).unwrap();
    let in_on = devices.iter().find(|d| d.tenant_id == on.id).unwrap();
    assert!(sim.sim.remove_device(&in_off.id));
    assert!(sim.sim.remove_device(&in_on.id));
    assert!(sim.sim.set_tenant_state(&off.id, false, true));

    let run = agent.sync(true);
    assert_eq!(run["state"], "partial", "{run}");
    assert_eq!(
        (n(&run, "removed"), n(&run, "skipped_units")),
        (1, 1),
        "{run}"
    );
    let e = error(&run);
    assert!(
        e.contains(&off.id) && e.contains("unavailable") && e.contains("disabled"),
        "{e}"
    );
    let now = present(&agent);
    assert!(now.contains_key(&in_off.id) && !now.contains_key(&in_on.id));
}

/// Auvik throttles with 403s as often as with 429s, worded every way; each wording is
/// waited out and the run lands every device. One that never ends fails the run with the
/// cause seen, never "give the API user a role".
#[test]
fn throttling_403s_in_any_wording_are_waited_out() {
    let sim = start_auvik(1903, 3, 15);
    let agent = Agent::start(&sim, "max_throttle_wait = \"6s\"\n");
    agent.wait_for("the first sync", |a| a.source_state() == "ok");
    let total = sim.sim.devices().len();
    let wordings = [
        "API request quota exceeded. Try again later.",
        "Rate-limit reached",
        "Request throttled",
    ];
    for (i, message) in wordings.iter().enumerate() {
        let on = if i == 0 {
            "/v1/inventory/device/info"
        } else {
            "/v1/tenants"
        };
        sim.sim.faults().push(
            FaultRule::times(
                Fault::Throttle403 {
                    message: (*message).into(),
                    retry_after: None,
                },
                3,
            )
            .on(on),
        );
        let run = agent.sync(true);
        sim.sim.faults().clear();
        assert_eq!(run["state"], "ok", "{message}: {run}");
        assert!(n(&run, "retries") >= 3, "{message}: {run}");
        assert_eq!(n(&run, "fetched"), total as i64, "{message}: {run}");
        assert_eq!(n(&run, "skipped_units"), 0, "{message}: {run}");
    }
    assert_eq!(present(&agent).len(), total);

    sim.sim.faults().push(FaultRule::always(Fault::Throttle403 {
        message: wordings[0].into(),
        retry_after: None,
    }));
    let run = agent.sync(true);
    sim.sim.faults().clear();
    assert_eq!(run["state"], "failed", "{run}");
    let e = error(&run);
    assert!(
        e.contains("throttling") && e.contains("max_throttle_wait") && !e.contains("role"),
        "{e}"
    );
    assert_eq!(present(&agent).len(), total, "nothing changed");
}

/// Behind a `base_url` that is not Auvik's own host (a proxy), Auvik's `links.next` names
/// Auvik's host: paging follows the link's path on the configured origin and goes on.
#[test]
fn paging_goes_on_behind_a_proxy_base_url() {
    let sim = start_auvik(1904, 1, 1150);
    sim.sim
        .set_public_base_url(Some("https://auvikapi.us1.my.auvik.com"));
    let agent = Agent::start(&sim, "");
    agent.wait_for("the first sync", |a| a.source_state() == "ok");
    let run = &agent.json(&["runs"])[0];
    assert_eq!(n(run, "fetched"), 1150, "{run}");
    assert_eq!(present(&agent).len(), 1150);
}

/// Auvik's v1 spec states only the default page size (100); public clients ask for 1000.
/// An Auvik refusing pages of 1000 (400) is asked again at 100, and every device lands; a
/// 400 once pages have been read is not about the page size and fails the run with
/// nothing removed.
#[test]
fn a_page_size_auvik_refuses_is_asked_again_at_the_spec_default() {
    let sim = start_auvik(1906, 1, 1150);
    sim.sim.faults().push(
        FaultRule::always(Fault::ErrorStatus {
            status: 400,
            message: "page[first] must be between 1 and 100".into(),
        })
        .on("/v1/inventory/device/info")
        .with_query("page%5Bfirst%5D=1000"),
    );
    let agent = Agent::start(&sim, "");
    agent.wait_for("the first sync", |a| a.source_state() == "ok");
    let run = &agent.json(&["runs"])[0];
    assert_eq!(run["state"], "ok", "{run}");
    let total = sim.sim.devices().len();
    assert_eq!(n(run, "fetched") as usize, total, "{run}");
    assert_eq!(present(&agent).len(), total);

    // A bad request after the first page: the run fails and removes nothing.
    sim.sim.faults().clear();
    let gone = sim.sim.devices()[5].id.clone();
    assert!(sim.sim.remove_device(&gone));
    sim.sim.faults().push(
        FaultRule::always(Fault::ErrorStatus {
            status: 400,
            message: "Invalid cursor".into(),
        })
        .on("/v1/inventory/device/info")
        .with_query("after"),
    );
    let run = agent.sync(true);
    assert_ne!(run["state"], "ok", "{run}");
    assert_eq!(n(&run, "removed"), 0, "{run}");
    assert_eq!(present(&agent).len(), total);
    sim.sim.faults().clear();
    let run = agent.sync(true);
    assert_ended(&run, "ok", 1);
}

/// A tenant that fails in an incremental run (a server error, throttling that outlasts the
/// wait) has its changes since the last run unread: the next incremental run asks again from
/// where the failed run's window began, not from the failed run's start. Auvik's clock moves
/// an hour on before the failed run, so the change is older than that run's window.
#[test]
fn a_tenant_failing_in_an_incremental_run_has_its_changes_read_by_the_next() {
    let sim = start_auvik(1909, 2, 6);
    let agent = Agent::start(&sim, "max_retries = 0\n");
    agent.wait_for("the first sync", |a| a.source_state() == "ok");
    let tenant = client_tenants(&sim)[0].id.clone();
    let d = sim
        .sim
        .devices()
        .into_iter()
        .find(|d| d.tenant_id == tenant)
        .expect("a device in the tenant")
        .id;
    assert!(
        sim.sim
            .update_device(&d, |x| x.name = "changed-while-failing".into())
    );
    sim.sim.set_clock_skew(chrono::Duration::hours(1));
    sim.sim.faults().push(
        FaultRule::always(Fault::ServerError(500))
            .on("/v1/inventory/device/info")
            .with_query(&format!("tenants={tenant}")),
    );
    let run = agent.sync(false);
    assert_eq!(
        (run["kind"].as_str(), run["state"].as_str()),
        (Some("incremental"), Some("partial")),
        "{run}"
    );
    assert_ne!(present(&agent)[&d]["name"], "changed-while-failing");
    sim.sim.faults().clear();
    let run = agent.sync(false);
    assert_eq!(
        (run["kind"].as_str(), run["state"].as_str()),
        (Some("incremental"), Some("ok")),
        "{run}"
    );
    assert_eq!(present(&agent)[&d]["name"], "changed-while-failing");
}

/// A device missing from its tenant's complete listing whose lookup Auvik refuses (a plain
/// 403: the API user may not see it) is kept, however many full runs miss it, and each run
/// says so with what to do; once the lookup answers 404 it is removed.
#[test]
fn a_device_whose_lookup_is_refused_is_kept_and_said() {
    let sim = start_auvik(1910, 2, 8);
    let agent = Agent::start(&sim, "");
    agent.wait_for("the first sync", |a| a.source_state() == "ok");
    let gone = sim.sim.devices()[3].id.clone();
    assert!(sim.sim.remove_device(&gone));
    sim.sim.faults().push(
        FaultRule::always(Fault::ErrorStatus {
            status: 403,
            message: "Forbidden".into(),
        })
        .on(&format!("/v1/inventory/device/info/{gone}")),
    );
    for _ in 0..3 {
        let run = agent.sync(true);
        assert_ended(&run, "ok", 0);
        let said = error(&run);
        assert!(
            said.contains("1 asset missing from the listing kept")
                && said.contains("403")
                && said.contains("role"),
            "{run}"
        );
        assert!(present(&agent).contains_key(&gone));
    }
    sim.sim.faults().clear();
    let run = agent.sync(true);
    assert_ended(&run, "ok", 1);
    assert!(!present(&agent).contains_key(&gone));
}

/// A 404 that is a web page (a gateway's or a proxy's, not the vendor's API) does not confirm
/// a removal: the asset is kept until a second complete run misses it too. Auvik and Syncro.
#[test]
fn a_web_page_answering_404_does_not_confirm_a_removal() {
    let page = || Fault::PlainText {
        status: 404,
        body: "<html><body><h1>404 Not Found</h1>nginx</body></html>".into(),
    };
    let sim = start_auvik(1911, 2, 8);
    let agent = Agent::start(&sim, "");
    agent.wait_for("the first sync", |a| a.source_state() == "ok");
    let gone = sim.sim.devices()[2].id.clone();
    assert!(sim.sim.remove_device(&gone));
    sim.sim
        .faults()
        .push(FaultRule::always(page()).on(&format!("/v1/inventory/device/info/{gone}")));
    for removed in [0, 1] {
        let run = agent.sync(true);
        assert_ended(&run, "ok", removed);
    }
    assert!(!present(&agent).contains_key(&gone));

    let s = start_syncro(1916, 3, 5, 25);
    let agent = syncro_agent(&s, false);
    let gone = syncro_ids(&s)[4];
    assert!(s.sim.remove_asset(gone));
    s.sim
        .faults()
        .push(FaultRule::always(page()).on(&format!("/api/v1/customer_assets/{gone}")));
    for removed in [0, 1] {
        let run = agent.sync_source("syncro", true);
        assert_ended(&run, "ok", removed);
    }
    assert!(!present(&agent).contains_key(&gone.to_string()));
}

/// Auvik's `links.next` may carry only the cursor (`page[after]`, `page[first]`), as the
/// spec's one example of it does: pages 2+ are still read within the tenant and with each
/// device's detail, so every device lands once with its managed state and every tenant's
/// billable count is Auvik's.
#[test]
fn next_links_carrying_only_the_cursor_lose_no_detail() {
    let sim = start_auvik(1907, 2, 1150);
    sim.sim.set_bare_next_links(true);
    let agent = Agent::start(&sim, "");
    agent.wait_for("the first sync", |a| a.source_state() == "ok");
    let run = &agent.json(&["runs"])[0];
    let truth = sim.sim.devices();
    assert_eq!(run["state"], "ok", "{run}");
    assert_eq!(n(run, "fetched") as usize, truth.len(), "{run}");
    let now = present(&agent);
    assert_eq!(now.len(), truth.len());
    for d in &truth {
        assert_eq!(
            now[&d.id]["managed"],
            Value::Bool(d.manage_status),
            "managed of {}",
            d.id
        );
    }
    let got = counts(&agent);
    for t in client_tenants(&sim) {
        let want = truth
            .iter()
            .filter(|d| d.tenant_id == t.id && auvik_bills(&d.device_type, d.manage_status))
            .count() as i64;
        assert!(want > 0, "{}", t.display_name);
        assert_eq!(
            got.get(t.display_name.trim()).copied().unwrap_or(0),
            want,
            "{}",
            t.display_name
        );
    }
}

/// A page of 1000 devices with their details is Auvik's heaviest answer: a first page that
/// fails with a 5xx after retries, or times out, is asked again at the spec's default of
/// 100, and every device lands (and a device gone upstream is removed).
#[test]
fn a_first_page_auvik_cannot_produce_is_asked_again_at_the_spec_default() {
    let sim = start_auvik(1908, 1, 1150);
    let big_page = |fault: Fault| {
        FaultRule::always(fault)
            .on("/v1/inventory/device/info")
            .with_query("page%5Bfirst%5D=1000")
    };
    sim.sim.faults().push(big_page(Fault::ServerError(504)));
    let agent = Agent::start(&sim, "request_timeout = \"2s\"\nmax_retries = 1\n");
    agent.wait_for("the first sync", |a| a.source_state() == "ok");
    let run = &agent.json(&["runs"])[0];
    let total = sim.sim.devices().len();
    assert_eq!(run["state"], "ok", "{run}");
    assert_eq!(n(run, "fetched") as usize, total, "{run}");
    assert_eq!(present(&agent).len(), total);

    sim.sim.faults().clear();
    sim.sim.faults().push(big_page(Fault::Hang));
    let gone = sim.sim.devices()[7].id.clone();
    assert!(sim.sim.remove_device(&gone));
    let run = agent.sync(true);
    assert_eq!(
        (
            run["state"].as_str(),
            n(&run, "fetched") as usize,
            n(&run, "removed")
        ),
        (Some("ok"), total - 1, 1),
        "{run}"
    );
    assert!(!present(&agent).contains_key(&gone));
}

/// Incremental runs ask for changes from a margin before the previous run began, by
/// Auvik's own clock: a vendor clock two hours behind ours loses no change.
#[test]
fn incremental_windows_follow_the_vendors_clock() {
    let sim = start_auvik(1905, 2, 10);
    sim.sim.set_clock_skew(chrono::Duration::hours(-2));
    let agent = Agent::start(&sim, "");
    agent.wait_for("the first sync", |a| a.source_state() == "ok");
    let d = sim.sim.devices()[3].id.clone();
    assert!(
        sim.sim
            .update_device(&d, |x| x.name = "renamed-by-auvik".into())
    );
    let run = agent.sync(false);
    assert_eq!(
        (run["kind"].as_str(), run["state"].as_str()),
        (Some("incremental"), Some("ok")),
        "{run}"
    );
    assert_eq!(n(&run, "updated"), 1, "{run}");
    assert_eq!(present(&agent)[&d]["name"], "renamed-by-auvik");
}

// ---------------------------------------------------------------------------------------
// Syncro

struct Syncro {
    sim: SyncroSim,
    server: assetd::sim::server::SimServer,
    _runtime: tokio::runtime::Runtime,
}

fn start_syncro(seed: u64, clients: usize, per_client: usize, page_size: usize) -> Syncro {
    start_syncro_with(SyncroSimOptions {
        seed,
        clients,
        assets_per_client: per_client,
        requests_per_minute: 6000,
        assets_page_size: page_size,
        ..SyncroSimOptions::default()
    })
}

fn start_syncro_with(opts: SyncroSimOptions) -> Syncro {
    let runtime = runtime();
    let sim = SyncroSim::new(opts);
    let server = runtime.block_on(async {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        sim.start(l).await.unwrap()
    });
    Syncro {
        sim,
        server,
        _runtime: runtime,
    }
}

fn syncro_agent(s: &Syncro, metrics: bool) -> Agent {
    let agent = Agent::start_with(|a| {
        common::write_private(&a.key_file, &s.sim.api_key());
        let config = format!(
            "{}[[source]]\nname = \"syncro\"\nkind = \"syncro\"\nsubdomain = \"{}\"\napi_key = {{ file = \"{}\" }}\n\
             base_url = \"{}\"\nrequests_per_minute = 6000\n",
            a.agent_section(),
            s.sim.subdomain(),
            a.key_file.display(),
            s.server.base_url
        );
        if metrics {
            common::with_metrics(&config)
        } else {
            config
        }
    });
    agent.wait_for("the first sync", |a| a.state_of("syncro") == "ok");
    agent
}

/// The ids of the assets Syncro lists (of enabled customers, which are what is synced).
fn syncro_ids(s: &Syncro) -> Vec<i64> {
    let enabled: HashSet<i64> = s
        .sim
        .customers()
        .into_iter()
        .filter(|c| !c.disabled)
        .map(|c| c.id)
        .collect();
    s.sim
        .assets()
        .into_iter()
        .filter(|a| enabled.contains(&a.customer_id))
        .map(|a| a.id)
        .collect()
}

fn metric(port: u16, name: &str, labels: &str) -> f64 {
    let (_, _, body) = common::http_get(port, "/metrics");
    let prefix = format!("{name}{{{labels}");
    body.lines()
        .find(|l| l.starts_with(&prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {prefix} in\n{body}"))
}

/// A listing that comes back valid and empty (permissions or customer visibility changed)
/// holds its removals: nothing is removed, the source says how many and how to accept
/// them, and accepting looks each asset up, so those Syncro still has are kept. A real mass
/// deletion is held too, and accepting removes exactly the deleted assets.
#[test]
fn an_emptied_listing_holds_its_removals_until_accepted_and_confirmed() {
    let s = start_syncro(1911, 6, 10, 25);
    let agent = syncro_agent(&s, true);
    let port = common::metrics_port(&agent);
    let ids = syncro_ids(&s);
    let total = ids.len() as i64;
    assert!(total > 40, "{total} assets");

    s.sim.set_listing_hidden(true);
    let run = agent.sync_source("syncro", true);
    assert_eq!(run["state"], "partial", "{run}");
    assert_eq!(
        (n(&run, "removed"), n(&run, "removals_held")),
        (0, total),
        "{run}"
    );
    assert!(
        error(&run).contains("assetctl sync syncro --full --accept-removals"),
        "{run}"
    );
    assert_eq!(present(&agent).len() as i64, total, "nothing removed");
    assert_eq!(agent.state_of("syncro"), "removals_held");
    let status = agent.json(&["status"]);
    let detail = status["sources"][0]["state_detail"]
        .as_str()
        .unwrap_or_default();
    assert!(
        detail.contains(&format!("{total} removals held")),
        "{status}"
    );
    // One line, as written: no indentation of the source lines the message was broken over.
    assert!(!detail.contains("  "), "{detail}");
    assert_eq!(
        metric(port, "assetd_source_removals_held", "source=\"syncro\""),
        total as f64
    );
    assert_eq!(
        metric(
            port,
            "assetd_source_state",
            "source=\"syncro\",vendor=\"syncro\",state=\"removals_held\""
        ),
        1.0
    );

    // Accepted: every asset is looked up, Syncro still has them all, none is removed.
    let out = agent.ctl(&["sync", "syncro", "--full", "--accept-removals", "--wait"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = &agent.json(&["runs", "--source", "syncro"])[0];
    assert_eq!(
        (
            run["state"].as_str(),
            n(run, "removed"),
            n(run, "removals_held")
        ),
        (Some("ok"), 0, 0),
        "{run}"
    );
    assert_eq!(present(&agent).len() as i64, total);

    // The listing is back; then 30 assets are really deleted: held, then accepted.
    s.sim.set_listing_hidden(false);
    let run = agent.sync_source("syncro", true);
    assert_eq!(run["state"], "ok", "{run}");
    let deleted: Vec<i64> = ids.iter().copied().take(30).collect();
    for id in &deleted {
        assert!(s.sim.remove_asset(*id));
    }
    let run = agent.sync_source("syncro", true);
    assert_eq!(
        (
            run["state"].as_str(),
            n(&run, "removed"),
            n(&run, "removals_held")
        ),
        (Some("partial"), 0, 30),
        "{run}"
    );
    let out = agent.ctl(&["sync", "syncro", "--full", "--accept-removals", "--wait"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = &agent.json(&["runs", "--source", "syncro"])[0];
    assert_eq!(
        (run["state"].as_str(), n(run, "removed")),
        (Some("ok"), 30),
        "{run}"
    );
    let now = present(&agent);
    assert_eq!(now.len() as i64, total - 30);
    for id in &deleted {
        assert!(!now.contains_key(&id.to_string()));
    }
    assert_eq!(agent.state_of("syncro"), "ok");
    assert_eq!(
        metric(port, "assetd_source_removals_held", "source=\"syncro\""),
        0.0
    );
}

/// An asset the listing does not show but Syncro still has (looked up by id) is kept; one
/// Syncro answers 404 for is removed.
#[test]
fn absent_assets_are_looked_up_before_they_are_removed() {
    let s = start_syncro(1912, 4, 10, 25);
    let agent = syncro_agent(&s, false);
    let ids = syncro_ids(&s);
    let (hidden, deleted) = (ids[3], ids[7]);
    assert!(s.sim.hide_asset(hidden, true));
    assert!(s.sim.remove_asset(deleted));
    let before = s.sim.requests_for("/api/v1/customer_assets/");
    let run = agent.sync_source("syncro", true);
    assert_eq!(run["state"], "ok", "{run}");
    assert_eq!(n(&run, "removed"), 1, "{run}");
    assert_eq!(
        s.sim.requests_for("/api/v1/customer_assets/") - before,
        2,
        "one lookup per absent asset"
    );
    let now = present(&agent);
    assert!(now.contains_key(&hidden.to_string()), "Syncro still has it");
    assert!(!now.contains_key(&deleted.to_string()));
}

/// Rows that move between pages during a scan (the order is undocumented) never cost a
/// present asset: the scan sees fewer distinct assets than Syncro promised, and removes
/// nothing.
#[test]
fn rows_moving_between_pages_never_remove_a_present_asset() {
    let s = start_syncro(1913, 6, 10, 10);
    let agent = syncro_agent(&s, false);
    let total = syncro_ids(&s).len();
    s.sim.set_reorder_between_pages(true);
    for _ in 0..3 {
        let run = agent.sync_source("syncro", true);
        assert_ne!(run["state"], "failed", "{run}");
        assert_eq!(n(&run, "removed"), 0, "{run}");
        if run["state"] == "partial" {
            assert!(error(&run).contains("distinct"), "{run}");
        }
        assert_eq!(present(&agent).len(), total);
    }
}

/// A customer disabled while the customer list is walked moves every later row up one
/// place, so the walk misses an enabled customer without any page failing. Its assets must
/// not be taken for removed: the walk collected fewer customers than Syncro promised, so the
/// run is partial and removes nothing. A customer legitimately disabled has its assets go
/// only once a second complete run finds them absent (the lookup finds each still in
/// Syncro, under a customer the run did not list: no proof on its own).
#[test]
fn a_customer_missed_by_the_customer_walk_keeps_its_assets() {
    let s = start_syncro_with(SyncroSimOptions {
        seed: 1915,
        clients: 9,
        assets_per_client: 4,
        requests_per_minute: 6000,
        assets_page_size: 25,
        customers_page_size: 4,
        ..SyncroSimOptions::default()
    });
    let agent = syncro_agent(&s, false);
    let before: HashSet<String> = present(&agent).into_keys().collect();
    assert_eq!(before.len(), syncro_ids(&s).len());
    let customers = s.sim.customers();
    let first = customers[0].id;
    // The customer that moves onto page 1 when the first is disabled: the walk misses it.
    let missed = customers[4].id;
    let missed_assets: HashSet<String> = s
        .sim
        .assets()
        .into_iter()
        .filter(|a| a.customer_id == missed)
        .map(|a| a.id.to_string())
        .collect();
    assert!(!missed_assets.is_empty());

    s.sim.disable_a_customer_during_the_next_walk();
    let run = agent.sync_source("syncro", true);
    assert_eq!(run["state"], "partial", "{run}");
    assert_eq!(n(&run, "removed"), 0, "{run}");
    assert!(error(&run).contains("promised"), "{run}");
    assert!(!error(&run).contains("  "), "{run}");
    let after: HashSet<String> = present(&agent).into_keys().collect();
    assert!(
        missed_assets.is_subset(&after),
        "the missed customer's assets stay"
    );
    assert_eq!(after, before, "nothing was removed");
    assert!(
        s.sim
            .customers()
            .iter()
            .any(|c| c.id == first && c.disabled)
    );

    // The walk now sees every enabled customer: the disabled one's assets are out of scope,
    // kept by the first complete run that finds them absent, removed by the second.
    let first_assets = s
        .sim
        .assets()
        .iter()
        .filter(|a| a.customer_id == first)
        .count() as i64;
    let run = agent.sync_source("syncro", true);
    assert_ended(&run, "ok", 0);
    let run = agent.sync_source("syncro", true);
    assert_ended(&run, "ok", first_assets);
    let now: HashSet<String> = present(&agent).into_keys().collect();
    let expected: HashSet<String> = syncro_ids(&s).iter().map(i64::to_string).collect();
    assert_eq!(now, expected);
}

/// A server that ignores `page` and sends no `meta` (a mock served from Syncro's own
/// published example) is caught at the second page, not walked until the run's timeout.
#[test]
fn a_listing_that_repeats_its_first_page_stops_at_once() {
    let s = start_syncro(1914, 4, 10, 25);
    let agent = syncro_agent(&s, false);
    let total = syncro_ids(&s).len();
    s.sim.set_spec_example_paging(true);
    let before = s.sim.request_count();
    let run = agent.sync_source("syncro", true);
    assert_eq!(run["state"], "partial", "{run}");
    assert!(
        error(&run).contains("exactly the assets of page 1"),
        "{run}"
    );
    assert_eq!(n(&run, "removed"), 0, "{run}");
    assert!(
        s.sim.request_count() - before <= 6,
        "a few requests, not thousands"
    );
    assert_eq!(present(&agent).len(), total);
}

// ---------------------------------------------------------------------------------------
// Passportal

struct Passportal {
    sim: PassportalSim,
    server: assetd::sim::server::SimServer,
    _runtime: tokio::runtime::Runtime,
}

fn start_passportal(opts: PassportalSimOptions) -> Passportal {
    let runtime = runtime();
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

fn passportal_agent(p: &Passportal) -> Agent {
    Agent::start_with(|a| {
        common::write_private(&a.key_file, &p.sim.secret_access_key());
        format!(
            "{}[[source]]\nname = \"passportal\"\nkind = \"passportal\"\ndatacenter = \"us\"\naccess_key_id = \"{}\"\n\
             secret_access_key = {{ file = \"{}\" }}\nbase_url = \"{}\"\nmax_retries = 1\nmax_throttle_wait = \"2s\"\n",
            a.agent_section(),
            p.sim.access_key_id(),
            a.key_file.display(),
            p.server.base_url
        )
    })
}

/// Documents the key may not open (`accessible: false`) and documents deleted between the
/// list and their detail are skipped, not fatal: the readable others all land. A known
/// document that becomes unreadable stays as it was; a deleted one, whose lookup answers the
/// 403 N-able documents for access, is removed when a second complete run misses it too.
#[test]
fn unreadable_and_vanishing_documents_are_skipped_not_fatal() {
    let p = start_passportal(PassportalSimOptions {
        seed: 1921,
        clients: 5,
        assets_per_client: 52,
        ..PassportalSimOptions::default()
    });
    let docs = p.sim.assets();
    let total = docs.len() as i64;
    assert!(total >= 260, "{total} documents");
    for d in &docs[..3] {
        assert!(p.sim.set_accessible(d.id, false));
    }
    // The two last by id vanish, so they sit on the list's last page: a document deleted
    // from an earlier page would shift the pages after it by one (offset paging), and the
    // walk would not see the one that moved back onto the page already read.
    let mut by_id: Vec<i64> = docs.iter().map(|d| d.id).collect();
    by_id.sort_unstable();
    let vanishing = by_id[by_id.len() - 2..].to_vec();
    for id in &vanishing {
        assert!(!docs[..3].iter().any(|d| d.id == *id));
        assert!(p.sim.vanish_after_listing(*id));
    }
    let agent = passportal_agent(&p);
    agent.wait_for("the first sync", |a| a.state_of("passportal") == "partial");
    let run = &agent.json(&["runs", "--source", "passportal"])[0];
    assert_eq!(
        (n(run, "fetched"), n(run, "added"), n(run, "skipped")),
        (total - 5, total - 5, 5),
        "{run}"
    );
    let e = error(run);
    assert!(
        e.contains("3 documents the access key may not open")
            && e.contains("2 documents Passportal answered \"not found.\""),
        "{e}"
    );
    let now = present(&agent);
    assert_eq!(now.len() as i64, total - 5);
    for id in docs[..3]
        .iter()
        .map(|d| d.id)
        .chain(vanishing.iter().copied())
    {
        assert!(!now.contains_key(&id.to_string()), "never invented");
    }

    // A known document becomes unreadable (and changes): it stays as it was. Another is
    // deleted: its lookup's 403 does not confirm it, so a second complete run removes it.
    let (hidden, deleted) = (&docs[10], &docs[11]);
    let name_before = now[&hidden.id.to_string()]["name"].clone();
    assert!(
        p.sim
            .update_asset(hidden.id, |d| d.label = "renamed-while-hidden".into())
    );
    assert!(p.sim.set_accessible(hidden.id, false));
    assert!(p.sim.remove_asset(deleted.id));
    let run = agent.sync_source("passportal", true);
    assert_eq!(run["state"], "partial", "{run}");
    assert_eq!(
        (n(&run, "removed"), n(&run, "skipped"), n(&run, "updated")),
        (1, 4, 0),
        "{run}"
    );
    let now = present(&agent);
    assert_eq!(now.len() as i64, total - 6);
    assert_eq!(now[&hidden.id.to_string()]["name"], name_before);
    assert!(!now.contains_key(&deleted.id.to_string()));
}

/// A list page that fails in any way (404, `success: false` inside a 200, 500) fails the
/// run: it is never read as the end of the list, so nothing past it is removed.
#[test]
fn a_failing_list_page_is_never_the_end_of_the_list() {
    // A server that refuses past the end, too: a refusal mid-list must still not pass for
    // the end (the tail check sees the list go on, or is refused too).
    let p = start_passportal(PassportalSimOptions {
        seed: 1922,
        clients: 4,
        assets_per_client: 30,
        page_size_cap: 20,
        quirks: Quirks {
            past_end: PastEnd::NotFound,
            ..Quirks::default()
        },
        ..PassportalSimOptions::default()
    });
    let agent = passportal_agent(&p);
    agent.wait_for("the first sync", |a| a.state_of("passportal") == "ok");
    let total = present(&agent).len();
    assert_eq!(total, p.sim.assets().len());
    // A document on a later page is deleted: nothing may be removed while page 2 fails.
    let deleted = p.sim.assets()[100].id;
    assert!(p.sim.remove_asset(deleted));
    let faults = [
        (
            "404",
            Fault::ErrorStatus {
                status: 404,
                message: "pageNum needs to be an integer between 1 and 9999.".into(),
            },
        ),
        (
            "success false",
            Fault::SuccessFalse {
                message: "An error occurred.".into(),
            },
        ),
        ("500", Fault::ServerError(500)),
    ];
    // Page 2 of the document list whatever page size is asked (the tail check's page too),
    // or only at the size the walk asks (the server's cap, 20): the tail check then reads
    // page 2 cut at 19 and sees the list go on.
    let pages = ["pageNum=2", "resultsPerPage=20&pageNum=2"];
    for ((what, fault), page) in faults
        .iter()
        .flat_map(|f| pages.iter().map(move |p| (f.clone(), *p)))
    {
        p.sim.faults().clear();
        p.sim.faults().push(
            FaultRule::always(fault)
                .only_on("/api/v2/documents")
                .with_query(page),
        );
        let run = agent.sync_source("passportal", true);
        assert_eq!(run["state"], "failed", "{what} {page}: {run}");
        assert_eq!(n(&run, "removed"), 0, "{what} {page}: {run}");
        assert!(error(&run).contains("page 2"), "{what} {page}: {run}");
        assert_eq!(present(&agent).len(), total, "{what} {page}");
    }
    p.sim.faults().clear();
    let run = agent.sync_source("passportal", true);
    assert_ended(&run, "ok", 1);
}

/// What Passportal answers past the last page is not documented. A server answering 404
/// there (its documented "not found." envelope) must not fail every full run: the end is
/// checked by reading the list's tail, and then the run completes and removes what the
/// vendor confirms gone. Shown for a list on one short page, a list whose pages the server
/// caps and that fills its last page exactly, and the client list alike.
#[test]
fn a_server_refusing_past_the_end_of_a_list_still_completes_runs() {
    let opts = PassportalSimOptions {
        seed: 1930,
        clients: 4,
        assets_per_client: 30,
        quirks: Quirks {
            past_end: PastEnd::NotFound,
            ..Quirks::default()
        },
        ..PassportalSimOptions::default()
    };
    // The same seed gives the same documents: a cap that divides their number makes the
    // last page exactly full, so the list's end is only ever seen as a refused page.
    let documents = PassportalSim::new(opts.clone()).assets().len();
    let exact_cap = (5..=60)
        .rev()
        .find(|cap| documents.is_multiple_of(*cap) && documents / cap > 1)
        .expect("a cap dividing the documents");
    for cap in [1000, exact_cap] {
        let p = start_passportal(PassportalSimOptions {
            page_size_cap: cap,
            ..opts.clone()
        });
        let agent = passportal_agent(&p);
        agent.wait_for("the first sync", |a| a.state_of("passportal") != "never");
        let run = agent.sync_source("passportal", true);
        assert_eq!(run["state"], "ok", "cap {cap}: {run}");
        let total = p.sim.assets().len();
        assert_eq!(present(&agent).len(), total, "cap {cap}");
        let deleted = p.sim.assets()[37].id;
        assert!(p.sim.remove_asset(deleted));
        let run = agent.sync_source("passportal", true);
        assert_eq!(
            (run["state"].as_str(), n(&run, "removed")),
            (Some("ok"), 1),
            "cap {cap}: {run}"
        );
        assert!(!present(&agent).contains_key(&deleted.to_string()));
        assert_eq!(present(&agent).len(), total - 1, "cap {cap}");
    }
}

/// A server clock hours behind ours, and a token service that revokes a token as it issues
/// the next: one token exchange at a time, lifetimes from the server's clock, and the run
/// completes without the source being taken for rejected.
#[test]
fn skewed_clocks_and_revoking_token_services_do_not_reject_the_key() {
    let p = start_passportal(PassportalSimOptions {
        seed: 1923,
        clients: 4,
        assets_per_client: 40,
        ..PassportalSimOptions::default()
    });
    p.sim.set_clock_skew(chrono::Duration::hours(-3));
    p.sim.set_new_token_revokes_old(true);
    let agent = passportal_agent(&p);
    agent.wait_for("the first sync", |a| a.state_of("passportal") == "ok");
    assert_eq!(present(&agent).len(), p.sim.assets().len());
    assert_eq!(p.sim.token_exchanges(), 1, "one token serves the run");
    let run = agent.sync_source("passportal", true);
    assert_eq!(run["state"], "ok", "{run}");
    // Tokens that expire mid-run are renewed once, by one worker, for all of them.
    p.sim.set_token_ttl(std::time::Duration::from_secs(1));
    p.sim.expire_tokens();
    let exchanges = p.sim.token_exchanges();
    let run = agent.sync_source("passportal", true);
    assert_eq!(run["state"], "ok", "{run}");
    let used = p.sim.token_exchanges() - exchanges;
    assert!(
        (1..=20).contains(&used),
        "{used} exchanges for a run of {} details",
        p.sim.assets().len()
    );
    assert_eq!(p.sim.rejected_token_exchanges(), 0);
}

/// Hourly (incremental) runs read the detail of a document only when its list
/// `last_modified` changed; full runs read every detail.
#[test]
fn incremental_runs_read_only_changed_details() {
    let p = start_passportal(PassportalSimOptions {
        seed: 1924,
        clients: 4,
        assets_per_client: 25,
        ..PassportalSimOptions::default()
    });
    let agent = passportal_agent(&p);
    agent.wait_for("the first sync", |a| a.state_of("passportal") == "ok");
    let total = p.sim.assets().len() as i64;
    let doc = p.sim.assets()[42].id;
    assert!(
        p.sim
            .update_asset(doc, |d| d.label = "renamed-in-passportal".into())
    );
    let details = p.sim.detail_requests();
    let run = agent.sync_source("passportal", false);
    assert_eq!(
        (run["kind"].as_str(), run["state"].as_str()),
        (Some("incremental"), Some("ok")),
        "{run}"
    );
    assert_eq!(
        (n(&run, "fetched"), n(&run, "updated")),
        (total, 1),
        "{run}"
    );
    assert_eq!(p.sim.detail_requests() - details, 1, "one detail read");
    assert_eq!(
        present(&agent)[&doc.to_string()]["name"],
        "renamed-in-passportal"
    );
    let details = p.sim.detail_requests();
    let run = agent.sync_source("passportal", true);
    assert_eq!((run["state"].as_str(), n(&run, "updated")), (Some("ok"), 0));
    assert_eq!(
        p.sim.detail_requests() - details,
        total as u64,
        "a full run reads all"
    );
}

/// A server capping pages below the 100 asked loses no document, whether it cuts its pages
/// with the size it serves or starts them where the size asked says (which lost records for
/// a public client asking 1000, Hudu-PassPortal-Migration a3a4127): the walk goes on with
/// the size page 1 came back with. With refusals past the end, the tail check still proves
/// the end at that size.
#[test]
fn a_server_capping_pages_loses_no_document_however_it_offsets_them() {
    for (offset, past_end) in [
        (PageOffset::Served, PastEnd::Mixed),
        (PageOffset::Requested, PastEnd::Mixed),
        (PageOffset::Requested, PastEnd::NotFound),
    ] {
        let p = start_passportal(PassportalSimOptions {
            seed: 1931,
            clients: 24,
            assets_per_client: 6,
            page_size_cap: 20,
            quirks: Quirks {
                page_offset: offset,
                past_end,
                ..Quirks::default()
            },
            ..PassportalSimOptions::default()
        });
        let total = p.sim.assets().len();
        assert!(total > 100, "{total} documents, more than a page asked");
        let agent = passportal_agent(&p);
        agent.wait_for("the first sync", |a| a.state_of("passportal") != "never");
        let run = agent.sync_source("passportal", true);
        assert_eq!(run["state"], "ok", "{offset:?} {past_end:?}: {run}");
        let now = present(&agent);
        assert_eq!(now.len(), total, "{offset:?} {past_end:?}");
        for d in p.sim.assets() {
            assert!(now.contains_key(&d.id.to_string()), "{offset:?}: {}", d.id);
        }
    }
}

/// A list of one or two items, on one page shorter than asked, from a server refusing
/// past the end: page 1 asked one larger proves the end, so runs complete and removals
/// happen (the client list here holds two clients, the document list two, then one).
#[test]
fn lists_of_one_or_two_items_end_against_a_server_refusing_past_the_end() {
    let p = start_passportal(PassportalSimOptions {
        seed: 1932,
        clients: 0,
        assets_per_client: 0,
        quirks: Quirks {
            past_end: PastEnd::NotFound,
            ..Quirks::default()
        },
        ..PassportalSimOptions::default()
    });
    let client = p.sim.add_client("Lone Client");
    let docs: Vec<i64> = (0..2)
        .map(|_| p.sim.add_asset(client).expect("an asset"))
        .collect();
    assert_eq!(
        p.sim.clients().len(),
        2,
        "the MSP's own client and one more"
    );
    let agent = passportal_agent(&p);
    agent.wait_for("the first sync", |a| a.state_of("passportal") != "never");
    let run = agent.sync_source("passportal", true);
    assert_eq!(run["state"], "ok", "{run}");
    assert_eq!(present(&agent).len(), 2);
    assert!(p.sim.remove_asset(docs[0]));
    let run = agent.sync_source("passportal", true);
    assert_ended(&run, "ok", 1);
    let now = present(&agent);
    assert_eq!(now.len(), 1);
    assert!(now.contains_key(&docs[1].to_string()));
}

/// A detail answering N-able's documented 400 "invalid id" skips that document (the run is
/// partial, not failed). A removal is confirmed only by Passportal's own "not found."
/// envelope (on a 404, or the documented 403 a deleted document gets): a 404 that is not its
/// JSON (a proxy's page) and a 400 "invalid id" leave the asset until a second complete run
/// misses it too.
#[test]
fn only_passportals_own_not_found_confirms_a_removal() {
    let p = start_passportal(PassportalSimOptions {
        seed: 1933,
        clients: 3,
        assets_per_client: 10,
        ..PassportalSimOptions::default()
    });
    let agent = passportal_agent(&p);
    agent.wait_for("the first sync", |a| a.state_of("passportal") == "ok");
    let docs = p.sim.assets();
    let total = docs.len() as i64;
    let detail = |id: i64| format!("/api/v2/documents/{id}");
    let invalid_id = Fault::ErrorStatus {
        status: 400,
        message: "invalid id".into(),
    };
    let (a, b, c, d) = (docs[2].id, docs[5].id, docs[8].id, docs[11].id);
    p.sim
        .faults()
        .push(FaultRule::always(invalid_id).on(&detail(a)));
    let run = agent.sync_source("passportal", true);
    assert_eq!(
        (
            run["state"].as_str(),
            n(&run, "skipped"),
            n(&run, "fetched")
        ),
        (Some("partial"), 1, total - 1),
        "{run}"
    );
    assert!(error(&run).contains("invalid id"), "{run}");
    assert_eq!(present(&agent).len() as i64, total, "nothing removed");

    // Four deleted: `a` still answers 400 "invalid id", `b` Passportal's 404 envelope, `c` a
    // proxy's HTML 404, `d` the simulator's 403 "not found.".
    for id in [a, b, c, d] {
        assert!(p.sim.remove_asset(id));
    }
    p.sim.faults().push(
        FaultRule::always(Fault::ErrorStatus {
            status: 404,
            message: "not found.".into(),
        })
        .on(&detail(b)),
    );
    p.sim.faults().push(
        FaultRule::always(Fault::PlainText {
            status: 404,
            body: "<html><body><h1>404 Not Found</h1>nginx</body></html>".into(),
        })
        .on(&detail(c)),
    );
    let run = agent.sync_source("passportal", true);
    assert_ended(&run, "ok", 2);
    let now = present(&agent);
    for id in [b, d] {
        assert!(!now.contains_key(&id.to_string()), "{id} confirmed gone");
    }
    for id in [a, c] {
        assert!(now.contains_key(&id.to_string()), "{id} kept, unconfirmed");
    }
    let run = agent.sync_source("passportal", true);
    assert_ended(&run, "ok", 2);
    assert_eq!(present(&agent).len() as i64, total - 4);
}

/// Passportal reports failures inside HTTP 200 bodies: a refused token answered 200 with
/// `"status":401, "code":1006` inside is renewed as a 401 is, and the run completes.
#[test]
fn a_token_refused_inside_a_200_is_renewed() {
    let p = start_passportal(PassportalSimOptions {
        seed: 1934,
        clients: 3,
        assets_per_client: 10,
        quirks: Quirks {
            token_refusal: TokenRefusal::Http200,
            ..Quirks::default()
        },
        ..PassportalSimOptions::default()
    });
    let agent = passportal_agent(&p);
    agent.wait_for("the first sync", |a| a.state_of("passportal") == "ok");
    p.sim.expire_tokens();
    let exchanges = p.sim.token_exchanges();
    let run = agent.sync_source("passportal", true);
    assert_eq!(run["state"], "ok", "{run}");
    assert_eq!(n(&run, "unchanged"), p.sim.assets().len() as i64, "{run}");
    assert_eq!(p.sim.token_exchanges(), exchanges + 1, "one renewal");
    assert_eq!(p.sim.rejected_token_exchanges(), 0);
}
