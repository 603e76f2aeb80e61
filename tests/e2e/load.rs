//! Load: 64 concurrent gRPC clients list, read, export and watch while full syncs run, each
//! doing a fixed number of requests (never a fixed duration, so a slow machine takes longer
//! but checks the same thing). Asserts no errors, every triggered sync finishes ok, memory
//! stays bounded, and clients that open `ExportAssets`/`WatchSync` streams and never read
//! them neither block the others nor make the agent grow, and are released on disconnect.
//! Latency percentiles are printed (`--nocapture`), never asserted.

use crate::common::{Agent, start_auvik};
use assetd::proto as pb;
use pb::asset_service_client::AssetServiceClient;
use pb::sync_service_client::SyncServiceClient;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tonic::transport::{Channel, Endpoint};

const TENANTS: usize = 20;
const DEVICES_PER_TENANT: usize = 100;
const CLIENTS: usize = 64;
/// Requests per client and round; 64 × this per round.
const REQUESTS_PER_CLIENT: usize = 16;
/// Full syncs triggered (one after another) during each round.
const SYNCS_PER_ROUND: usize = 3;
/// Streams of each kind opened and never read during the second round.
const STUCK_STREAMS: usize = 8;
/// A request that takes longer than this is an error (a hang), not a slow answer.
const REQUEST_LIMIT: Duration = Duration::from_secs(120);
/// Peak RSS the agent must stay under, whatever happens (a debug build).
const PEAK_LIMIT_KB: u64 = 512 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    ListAssets,
    ListAssetsFiltered,
    GetAsset,
    ListDevices,
    ListClients,
    GetBillableCounts,
    ExportAssets,
    WatchSync,
}

const MIX: [Kind; 8] = [
    Kind::ListAssets,
    Kind::GetAsset,
    Kind::ListAssetsFiltered,
    Kind::ListDevices,
    Kind::ExportAssets,
    Kind::ListClients,
    Kind::GetBillableCounts,
    Kind::WatchSync,
];

/// What every client shares: the dataset's facts and the results.
struct Shared {
    socket: PathBuf,
    asset_ids: Vec<i64>,
    client_names: Vec<String>,
    /// The run the sync driver started last; watchers subscribe to it.
    latest_run: AtomicI64,
    latencies: Mutex<BTreeMap<Kind, Vec<Duration>>>,
    errors: Mutex<Vec<String>>,
}

impl Shared {
    fn error(&self, what: String) {
        self.errors.lock().unwrap().push(what);
    }
}

async fn connect(socket: &Path) -> Channel {
    Endpoint::from_shared(format!("unix://{}", socket.display()))
        .expect("endpoint")
        .connect_timeout(Duration::from_secs(10))
        .connect()
        .await
        .expect("connect to the agent")
}

/// A client that reads slowly or not at all: HTTP/2 flow control stops the agent after
/// 64 KiB (grpcio's default window), so what it holds back is what the agent buffers.
async fn connect_small_window(socket: &Path) -> Channel {
    Endpoint::from_shared(format!("unix://{}", socket.display()))
        .expect("endpoint")
        .initial_stream_window_size(65_535)
        .initial_connection_window_size(65_535)
        .connect()
        .await
        .expect("connect to the agent")
}

/// One request of `kind`; `Err` describes what went wrong.
async fn request(
    kind: Kind,
    n: usize,
    shared: &Shared,
    assets: &mut AssetServiceClient<Channel>,
    sync: &mut SyncServiceClient<Channel>,
    cursor: &mut String,
) -> Result<(), String> {
    let total = shared.asset_ids.len();
    match kind {
        Kind::ListAssets => {
            // Walks the whole list a page at a time across this client's requests.
            let page = assets
                .list_assets(pb::ListAssetsRequest {
                    page_size: 100,
                    page_token: std::mem::take(cursor),
                    ..Default::default()
                })
                .await
                .map_err(|e| format!("ListAssets: {e}"))?
                .into_inner();
            if page.assets.is_empty() || page.assets.len() > 100 {
                return Err(format!("ListAssets: a page of {}", page.assets.len()));
            }
            *cursor = page.next_page_token;
        }
        Kind::ListAssetsFiltered => {
            let client = &shared.client_names[n % shared.client_names.len()];
            let filters = [
                pb::ListAssetsRequest {
                    client: client.clone(),
                    page_size: 500,
                    ..Default::default()
                },
                pb::ListAssetsRequest {
                    category: pb::Category::Switch as i32,
                    page_size: 200,
                    ..Default::default()
                },
                pb::ListAssetsRequest {
                    query: "1".into(),
                    source: "auvik".into(),
                    page_size: 50,
                    ..Default::default()
                },
            ];
            let req = filters[n % filters.len()].clone();
            let page = assets
                .list_assets(req.clone())
                .await
                .map_err(|e| format!("ListAssets({req:?}): {e}"))?
                .into_inner();
            if !req.client.is_empty() && page.assets.iter().any(|a| a.client != req.client) {
                return Err("ListAssets: the client filter let others through".into());
            }
            if !req.client.is_empty() && page.assets.len() != DEVICES_PER_TENANT {
                return Err(format!(
                    "ListAssets: client {} has {} assets",
                    req.client,
                    page.assets.len()
                ));
            }
        }
        Kind::GetAsset => {
            let id = shared.asset_ids[(n * 7919) % total];
            let a = assets
                .get_asset(pb::GetAssetRequest { id })
                .await
                .map_err(|e| format!("GetAsset({id}): {e}"))?
                .into_inner();
            if a.id != id {
                return Err(format!("GetAsset({id}) answered {}", a.id));
            }
        }
        Kind::ListDevices => {
            let r = assets
                .list_devices(pb::ListDevicesRequest {
                    page_size: 200,
                    ..Default::default()
                })
                .await
                .map_err(|e| format!("ListDevices: {e}"))?
                .into_inner();
            if r.devices.is_empty() {
                return Err("ListDevices: empty".into());
            }
        }
        Kind::ListClients => {
            let r = assets
                .list_clients(pb::ListClientsRequest::default())
                .await
                .map_err(|e| format!("ListClients: {e}"))?
                .into_inner();
            if r.clients.len() != shared.client_names.len() {
                return Err(format!("ListClients: {} clients", r.clients.len()));
            }
        }
        Kind::GetBillableCounts => {
            let r = assets
                .get_billable_counts(pb::GetBillableCountsRequest::default())
                .await
                .map_err(|e| format!("GetBillableCounts: {e}"))?
                .into_inner();
            if r.counts.is_empty() {
                return Err("GetBillableCounts: no counts".into());
            }
        }
        Kind::ExportAssets => {
            let mut stream = assets
                .export_assets(pb::ExportAssetsRequest::default())
                .await
                .map_err(|e| format!("ExportAssets: {e}"))?
                .into_inner();
            let (mut count, mut last) = (0, 0);
            while let Some(a) = stream
                .message()
                .await
                .map_err(|e| format!("ExportAssets after {count}: {e}"))?
            {
                if a.id <= last {
                    return Err(format!("ExportAssets: id {} after {last}", a.id));
                }
                (count, last) = (count + 1, a.id);
            }
            // Syncs with no upstream change rewrite nothing: every export is complete.
            if count != total {
                return Err(format!("ExportAssets: {count} of {total} assets"));
            }
        }
        Kind::WatchSync => {
            let run_id = shared.latest_run.load(Ordering::SeqCst);
            let mut stream = sync
                .watch_sync(pb::WatchSyncRequest {
                    run_ids: vec![run_id],
                })
                .await
                .map_err(|e| format!("WatchSync({run_id}): {e}"))?
                .into_inner();
            let mut last = None;
            while let Some(e) = stream
                .message()
                .await
                .map_err(|e| format!("WatchSync({run_id}): {e}"))?
            {
                last = e.run;
            }
            match last {
                Some(r) if r.state == pb::RunState::Ok as i32 && r.finished.is_some() => {}
                other => return Err(format!("WatchSync({run_id}) ended with {other:?}")),
            }
        }
    }
    Ok(())
}

/// One client: its own connection, `REQUESTS_PER_CLIENT` requests of the mix in turn.
async fn client(index: usize, shared: Arc<Shared>) {
    let channel = connect(&shared.socket).await;
    let mut assets = AssetServiceClient::new(channel.clone());
    let mut sync = SyncServiceClient::new(channel);
    let mut cursor = String::new();
    for i in 0..REQUESTS_PER_CLIENT {
        let kind = MIX[(index + i) % MIX.len()];
        let n = index * REQUESTS_PER_CLIENT + i;
        let started = Instant::now();
        let result = tokio::time::timeout(
            REQUEST_LIMIT,
            request(kind, n, &shared, &mut assets, &mut sync, &mut cursor),
        )
        .await
        .unwrap_or_else(|_| Err(format!("{kind:?}: no answer in {REQUEST_LIMIT:?}")));
        match result {
            Ok(()) => shared
                .latencies
                .lock()
                .unwrap()
                .entry(kind)
                .or_default()
                .push(started.elapsed()),
            Err(e) => shared.error(format!("client {index}: {e}")),
        }
    }
}

/// Triggers `SYNCS_PER_ROUND` full syncs one after another, each watched to its end, and
/// returns their run ids.
async fn sync_driver(shared: Arc<Shared>) -> Vec<i64> {
    let mut sync = SyncServiceClient::new(connect(&shared.socket).await);
    let mut runs = Vec::new();
    for _ in 0..SYNCS_PER_ROUND {
        let triggered = match sync
            .trigger_sync(pb::TriggerSyncRequest {
                sources: vec![],
                full: true,
                accept_removals: false,
            })
            .await
        {
            Ok(r) => r.into_inner().runs,
            Err(e) => {
                shared.error(format!("TriggerSync: {e}"));
                continue;
            }
        };
        let Some(run) = triggered.first() else {
            shared.error("TriggerSync started nothing".into());
            continue;
        };
        runs.push(run.run_id);
        shared.latest_run.store(run.run_id, Ordering::SeqCst);
        match sync
            .watch_sync(pb::WatchSyncRequest {
                run_ids: vec![run.run_id],
            })
            .await
        {
            Ok(r) => {
                let mut stream = r.into_inner();
                loop {
                    match stream.message().await {
                        Ok(Some(_)) => {}
                        Ok(None) => break,
                        Err(e) => {
                            shared.error(format!("WatchSync({}): {e}", run.run_id));
                            break;
                        }
                    }
                }
            }
            Err(e) => shared.error(format!("WatchSync({}): {e}", run.run_id)),
        }
    }
    runs
}

/// A stream a stuck client opened and never reads, with its connection.
type Held<T> = (Channel, tonic::Streaming<T>);

/// One round: the sync driver and every client at once. Once the first sync runs,
/// `stuck_watchers` more clients subscribe to it and never read. Returns the driver's run
/// ids and the stuck watchers (connected until the caller drops them).
async fn round(
    shared: &Arc<Shared>,
    stuck_watchers: usize,
) -> (Vec<i64>, Vec<Held<pb::SyncEvent>>) {
    let driver = tokio::spawn(sync_driver(shared.clone()));
    // Let the first run start, so watchers have something in progress to watch.
    while shared.latest_run.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let run_id = shared.latest_run.load(Ordering::SeqCst);
    let mut watchers = Vec::new();
    for _ in 0..stuck_watchers {
        let channel = connect_small_window(&shared.socket).await;
        let stream = SyncServiceClient::new(channel.clone())
            .watch_sync(pb::WatchSyncRequest {
                run_ids: vec![run_id],
            })
            .await
            .expect("a stuck watch starts")
            .into_inner();
        watchers.push((channel, stream));
    }
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| tokio::spawn(client(i, shared.clone())))
        .collect();
    for c in clients {
        c.await.expect("client task");
    }
    (driver.await.expect("sync driver"), watchers)
}

/// A field of /proc/PID/status in kB (VmRSS, VmHWM).
fn proc_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/{pid}/status"))
}

/// Resets the peak RSS (VmHWM) so the next phase's peak is its own (Linux 4.0+; false if
/// not permitted, and then peaks are compared as running maxima).
fn reset_peak(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

/// Connections the agent has open on its socket: /proc/net/unix names accepted sockets
/// by the listener's path (client ends are unnamed), so these are the agent's, less the
/// listener itself.
fn agent_connections(socket: &Path) -> usize {
    let path = socket.display().to_string();
    let table = std::fs::read_to_string("/proc/net/unix").expect("/proc/net/unix");
    let named = table
        .lines()
        .filter(|l| l.split_whitespace().last() == Some(path.as_str()))
        .count();
    named.saturating_sub(1)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn report(title: &str, shared: &Shared) {
    println!("{title}");
    println!(
        "  {:<20} {:>6} {:>9} {:>9} {:>9} {:>9}",
        "rpc", "count", "p50", "p90", "p99", "max"
    );
    let ms = |d: Duration| format!("{:.1}ms", d.as_secs_f64() * 1000.0);
    for (kind, lat) in shared.latencies.lock().unwrap().iter() {
        let mut lat = lat.clone();
        lat.sort();
        println!(
            "  {:<20} {:>6} {:>9} {:>9} {:>9} {:>9}",
            format!("{kind:?}"),
            lat.len(),
            ms(percentile(&lat, 0.50)),
            ms(percentile(&lat, 0.90)),
            ms(percentile(&lat, 0.99)),
            ms(*lat.last().unwrap_or(&Duration::ZERO)),
        );
    }
}

fn assert_no_errors(shared: &Shared) {
    let errors = shared.errors.lock().unwrap();
    assert!(
        errors.is_empty(),
        "{} requests failed; the first: {:#?}",
        errors.len(),
        &errors[..errors.len().min(10)]
    );
}

fn assert_runs_ok(agent: &Agent, ids: &[i64]) {
    assert_eq!(ids.len(), SYNCS_PER_ROUND, "every sync was triggered");
    let runs = agent.json(&["runs", "--source", "auvik"]);
    for id in ids {
        let run = runs
            .as_array()
            .and_then(|r| r.iter().find(|r| r["id"] == *id))
            .unwrap_or_else(|| panic!("run {id} is recorded: {runs}"));
        assert_eq!(
            (run["state"].as_str(), run["kind"].as_str()),
            (Some("ok"), Some("full")),
            "a sync under load finished ok: {run}"
        );
        assert_eq!(
            run["fetched"].as_i64(),
            Some((TENANTS * DEVICES_PER_TENANT) as i64),
            "{run}"
        );
    }
}

fn fresh(shared: &Shared) -> Arc<Shared> {
    Arc::new(Shared {
        socket: shared.socket.clone(),
        asset_ids: shared.asset_ids.clone(),
        client_names: shared.client_names.clone(),
        latest_run: AtomicI64::new(0),
        latencies: Mutex::new(BTreeMap::new()),
        errors: Mutex::new(Vec::new()),
    })
}

#[test]
fn sixty_four_clients_while_syncing_and_stuck_streams_do_not_hurt() {
    let started = Instant::now();
    let sim = start_auvik(81, TENANTS, DEVICES_PER_TENANT);
    let agent = Agent::start(&sim, "");
    agent.wait_for("the first sync", |a| a.source_state() == "ok");
    let pid = agent.pid();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    // The dataset as the agent holds it.
    let (asset_ids, client_names) = rt.block_on(async {
        let mut assets = AssetServiceClient::new(connect(&agent.socket).await);
        let mut stream = assets
            .export_assets(pb::ExportAssetsRequest::default())
            .await
            .unwrap()
            .into_inner();
        let mut ids = Vec::new();
        while let Some(a) = stream.message().await.unwrap() {
            ids.push(a.id);
        }
        let clients = assets
            .list_clients(pb::ListClientsRequest::default())
            .await
            .unwrap()
            .into_inner()
            .clients;
        (ids, clients.into_iter().map(|c| c.name).collect::<Vec<_>>())
    });
    assert_eq!(asset_ids.len(), TENANTS * DEVICES_PER_TENANT);
    let shared = Arc::new(Shared {
        socket: agent.socket.clone(),
        asset_ids,
        client_names,
        latest_run: AtomicI64::new(0),
        latencies: Mutex::new(BTreeMap::new()),
        errors: Mutex::new(Vec::new()),
    });
    let rss_idle = proc_kb(pid, "VmRSS");
    let peaks_reset = reset_peak(pid);

    // Round 1: the load alone.
    let (runs, _) = rt.block_on(round(&shared, 0));
    report(
        &format!(
            "round 1: {CLIENTS} clients × {REQUESTS_PER_CLIENT} requests, {SYNCS_PER_ROUND} full syncs"
        ),
        &shared,
    );
    assert_no_errors(&shared);
    assert_runs_ok(&agent, &runs);
    let peak_plain = proc_kb(pid, "VmHWM");
    let rss_plain = proc_kb(pid, "VmRSS");

    // Round 2: the same load, while stuck clients hold streams they never read.
    let shared = fresh(&shared);
    agent.wait_for("round 1's connections to close", |a| {
        agent_connections(&a.socket) == 0
    });
    if peaks_reset {
        reset_peak(pid);
    }
    let stuck: Vec<Held<pb::Asset>> = rt.block_on(async {
        let mut held = Vec::new();
        for _ in 0..STUCK_STREAMS {
            let channel = connect_small_window(&shared.socket).await;
            let stream = AssetServiceClient::new(channel.clone())
                .export_assets(pb::ExportAssetsRequest {
                    include_removed: true,
                })
                .await
                .expect("a stuck export starts")
                .into_inner();
            held.push((channel, stream));
        }
        held
    });
    let (runs, watchers) = rt.block_on(round(&shared, STUCK_STREAMS));
    report(
        &format!(
            "round 2: the same, with {STUCK_STREAMS} stuck ExportAssets and {STUCK_STREAMS} stuck WatchSync streams"
        ),
        &shared,
    );
    assert_no_errors(&shared);
    assert_runs_ok(&agent, &runs);
    let peak_stuck = proc_kb(pid, "VmHWM");
    let rss_stuck = proc_kb(pid, "VmRSS");
    let connected = agent_connections(&agent.socket);

    println!(
        "agent memory: idle RSS {} MiB; round 1 peak {} MiB (RSS after {} MiB); round 2 peak {} MiB (RSS after {} MiB){}",
        rss_idle / 1024,
        peak_plain / 1024,
        rss_plain / 1024,
        peak_stuck / 1024,
        rss_stuck / 1024,
        if peaks_reset {
            ", peaks per round"
        } else {
            ", peaks since start"
        }
    );
    assert!(
        peak_plain < PEAK_LIMIT_KB && peak_stuck < PEAK_LIMIT_KB,
        "the agent's peak RSS stays under {} MiB",
        PEAK_LIMIT_KB / 1024
    );
    // Stuck clients cost the agent a bounded buffer each, not a copy of what they have
    // not read: the round with them peaks near the round without.
    assert!(
        peak_stuck < peak_plain * 3 / 2 + 32 * 1024,
        "stuck streams made the agent grow: {} MiB against {} MiB",
        peak_stuck / 1024,
        peak_plain / 1024
    );

    // Disconnecting releases them: the agent closes their connections.
    assert!(
        connected >= 2 * STUCK_STREAMS,
        "the stuck clients are still connected: {connected} connections"
    );
    drop(stuck);
    drop(watchers);
    agent.wait_for("the stuck clients' connections to close", |a| {
        agent_connections(&a.socket) == 0
    });
    // And the agent still answers at once.
    let _ = agent.json(&["status"]);
    rt.shutdown_timeout(Duration::from_secs(5));
    println!("load test took {:.1}s", started.elapsed().as_secs_f64());
}

/// A client that opens an export and stops reading costs the agent a bounded buffer, not
/// the rest of the export: with a larger inventory (each export holds back about 3 MB of
/// encoded assets), clients that never read grow the agent by far less than that each,
/// do not slow down other clients' exports, and are released when they disconnect.
#[test]
fn exports_nobody_reads_cost_a_bounded_buffer_each() {
    const TENANTS: usize = 10;
    const DEVICES: usize = 1000;
    const STUCK: usize = 32;
    /// Well under what each stuck client holds back (measured below), and well over the
    /// page plus HTTP/2 buffers the agent keeps for it.
    const PER_STREAM_LIMIT_KB: u64 = 1024;
    let sim = start_auvik(82, TENANTS, DEVICES);
    let agent = Agent::start(&sim, "");
    agent.wait_for("the first sync", |a| a.source_state() == "ok");
    let pid = agent.pid();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // A complete export, read to the end: its size, and a warm agent to measure against.
    let export = |socket: PathBuf| async move {
        let mut stream = AssetServiceClient::new(connect(&socket).await)
            .export_assets(pb::ExportAssetsRequest::default())
            .await
            .expect("export")
            .into_inner();
        let (mut count, mut bytes) = (0, 0);
        while let Some(a) = stream.message().await.expect("export message") {
            count += 1;
            bytes += prost::Message::encoded_len(&a);
        }
        (count, bytes)
    };
    let (count, bytes) = rt.block_on(export(agent.socket.clone()));
    assert_eq!(count, TENANTS * DEVICES);
    let before = proc_kb(pid, "VmRSS");

    let stuck: Vec<Held<pb::Asset>> = rt.block_on(async {
        let mut held = Vec::new();
        for _ in 0..STUCK {
            let channel = connect_small_window(&agent.socket).await;
            let mut stream = AssetServiceClient::new(channel.clone())
                .export_assets(pb::ExportAssetsRequest::default())
                .await
                .expect("a stuck export starts")
                .into_inner();
            // One message, so the export is under way; then it is never read again.
            stream
                .message()
                .await
                .expect("first message")
                .expect("an asset");
            held.push((channel, stream));
        }
        held
    });
    // Another client's complete export goes through meanwhile (and by its end every
    // stuck stream has long filled its window and stalled).
    let (count, _) = rt.block_on(export(agent.socket.clone()));
    assert_eq!(
        count,
        TENANTS * DEVICES,
        "a stuck client does not block others"
    );
    let after = proc_kb(pid, "VmRSS");
    let per_stream = after.saturating_sub(before) / STUCK as u64;
    println!(
        "{STUCK} exports nobody reads: the agent grew {} KiB ({per_stream} KiB each) while each held back ~{} KiB of a {} KiB export",
        after.saturating_sub(before),
        (bytes / 1024).saturating_sub(64),
        bytes / 1024
    );
    assert!(
        (bytes as u64 / 1024) > 2 * PER_STREAM_LIMIT_KB,
        "the export is large enough to tell a bounded buffer from a copy"
    );
    assert!(
        per_stream < PER_STREAM_LIMIT_KB,
        "a stuck export costs {per_stream} KiB; the agent buffers what the client does not read"
    );
    assert!(agent_connections(&agent.socket) >= STUCK);
    drop(stuck);
    agent.wait_for("the stuck clients' connections to close", |a| {
        agent_connections(&a.socket) == 0
    });
    rt.shutdown_timeout(Duration::from_secs(5));
}
