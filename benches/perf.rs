//! assetd's performance benchmarks (issue 8; results and the machine in BENCHMARKS.md).
//!
//! ```text
//! cargo bench --bench perf                       # everything (about 10 minutes on 2 cores)
//! cargo bench --bench perf -- auvik floors       # some groups only
//! cargo bench --bench perf -- --quick            # a small smoke run of every group
//! cargo bench --bench perf -- --seed 7 --reps 5
//! ```
//!
//! Groups: `auvik` (100k first sync, resync, 1% incremental, 10k vs 100k memory), `floors`
//! (the network-and-JSON floor and the storage floor for the same 100k), `syncro` (20k assets
//! under a 600/min limit), `big` (a 1,000,000-asset database: ListAssets under load,
//! GetBillableCounts, GetLifecycleSummary, ExportAssets, start-up), `idle` (RSS and CPU of an
//! idle agent), `events` (the event log's cost on a 100k first sync, with a webhook
//! subscribed to `asset.added`, and its delivery throughput; `BENCH_EVENTS_BASELINE=/path/to/assetd`
//! of a build without the event log measures the log's own cost in the same run).
//!
//! Everything goes through the real path: in-process vendor simulators over loopback HTTP,
//! the real `assetd` binary (its connectors, its store), and real gRPC clients over the Unix
//! socket. Datasets are generated from the seed, so a run is reproducible. Each figure is
//! printed as min / median / max over the repetitions. Nothing here is a pass/fail test:
//! figures are compared with the targets by a reader (BENCHMARKS.md), never asserted.

use assetd::proto as pb;
use assetd::sim::auvik::{AuvikSim, AuvikSimOptions};
use assetd::sim::syncro::{SyncroSim, SyncroSimOptions};
use pb::agent_service_client::AgentServiceClient;
use pb::asset_service_client::AssetServiceClient;
use pb::sync_service_client::SyncServiceClient;
use std::collections::{HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The agent under test: this build's, or another build given in `ASSETD_BIN` (to compare
/// two versions in one run on the same machine).
fn assetd_bin() -> String {
    std::env::var("ASSETD_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_assetd").to_string())
}

struct Options {
    groups: Vec<String>,
    seed: u64,
    reps: usize,
    quick: bool,
}

fn options() -> Options {
    let mut o = Options {
        groups: Vec::new(),
        seed: 42,
        reps: 3,
        quick: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            // cargo bench passes --bench to every bench target.
            "--bench" => {}
            "--quick" => o.quick = true,
            "--seed" => o.seed = args.next().and_then(|v| v.parse().ok()).unwrap_or(o.seed),
            "--reps" => o.reps = args.next().and_then(|v| v.parse().ok()).unwrap_or(o.reps),
            g if !g.starts_with('-') => o.groups.push(g.to_string()),
            _ => {}
        }
    }
    o.reps = o.reps.max(1);
    o
}

fn main() -> Result<()> {
    let opts = options();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    print_machine();
    println!("agent binary: {}", assetd_bin());
    let wants = |g: &str| opts.groups.is_empty() || opts.groups.iter().any(|x| x == g);
    rt.block_on(async {
        if wants("auvik") {
            auvik_group(&opts).await?;
        }
        if wants("floors") {
            floors_group(&opts).await?;
        }
        if wants("syncro") {
            syncro_group(&opts).await?;
        }
        if wants("big") {
            big_group(&opts).await?;
        }
        if wants("idle") {
            idle_group(&opts).await?;
        }
        if wants("events") {
            events_group(&opts).await?;
        }
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------
// Reporting

/// Prints `label: min / median / max unit` (and the target) for a set of samples.
fn report(label: &str, unit: &str, samples: &[f64], target: &str) {
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    let (min, max) = (s[0], s[s.len() - 1]);
    let median = if s.len() % 2 == 1 {
        s[s.len() / 2]
    } else {
        (s[s.len() / 2 - 1] + s[s.len() / 2]) / 2.0
    };
    println!(
        "  {label:<52} min {:>10} median {:>10} max {:>10} {unit:<8} (n={}; target {target})",
        fmt(min),
        fmt(median),
        fmt(max),
        s.len()
    );
}

/// Prints the ratio of each pair `a[i] / b[i]` (runs measured side by side) as
/// min / median / max.
fn report_ratio(label: &str, a: &[f64], b: &[f64]) {
    let ratios: Vec<f64> = a.iter().zip(b).map(|(x, y)| x / y).collect();
    if !ratios.is_empty() {
        report(label, "x", &ratios, "-");
    }
}

fn fmt(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn print_machine() {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().next().map(|l| l.to_string()))
        .unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("machine: {cpu}, {cores} cores, {}", mem.replace("  ", ""));
    println!("load average at start: {}", load.trim());
}

// ---------------------------------------------------------------------------------------
// The agent process

/// A running `assetd run` with its own directory, killed when dropped.
struct AgentProc {
    /// Another build to run than `assetd_bin()` (the events group's baseline).
    bin: Option<String>,
    dir: PathBuf,
    socket: PathBuf,
    config: PathBuf,
    child: Option<Child>,
    spawned: Instant,
}

impl AgentProc {
    /// A directory under /tmp with a short name: the socket path must stay under 100 bytes.
    fn new_dir() -> Result<PathBuf> {
        let dir =
            std::env::temp_dir().join(format!("ab{}-{}", std::process::id(), fastrand::u32(..)));
        std::fs::create_dir_all(&dir)?;
        Ok(dir)
    }

    /// Writes `sources` (TOML `[[source]]` tables) under a standard `[agent]` table.
    fn configure(dir: &Path, sources: &str) -> Result<AgentProc> {
        let socket = dir.join("a.sock");
        // The config in a directory of its own, as packaged (/etc/assetd beside
        // /var/lib/assetd): the agent watches the config's directory, and a database there
        // wakes that watcher on every WAL write (about a tenth of a first sync's CPU).
        let etc = dir.join("etc");
        std::fs::create_dir_all(&etc)?;
        let config = etc.join("config.toml");
        let text = format!(
            "[agent]\ndatabase = \"{}\"\nlisten = [\"unix://{}\"]\nsync_interval = \"1h\"\n\n{sources}",
            dir.join("a.db").display(),
            socket.display()
        );
        write_private(&config, &text)?;
        Ok(AgentProc {
            bin: None,
            dir: dir.to_path_buf(),
            socket,
            config,
            child: None,
            spawned: Instant::now(),
        })
    }

    fn db(&self) -> PathBuf {
        self.dir.join("a.db")
    }

    /// Starts the agent and returns when it answers the gRPC health check with SERVING
    /// (the API is up: every RPC is served from then on), with the time that took.
    async fn start(&mut self) -> Result<Duration> {
        let log = std::fs::File::create(self.dir.join("agent.log"))?;
        let t0 = Instant::now();
        self.spawned = t0;
        let child = Command::new(self.bin.clone().unwrap_or_else(assetd_bin))
            .args(["run", "--config"])
            .arg(&self.config)
            .env(
                "RUST_LOG",
                std::env::var("BENCH_AGENT_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()?;
        self.child = Some(child);
        loop {
            if let Ok(ch) = self.try_channel().await
                && HealthClient::new(ch)
                    .check(HealthCheckRequest {
                        service: String::new(),
                    })
                    .await
                    .is_ok_and(|r| r.into_inner().status == ServingStatus::Serving as i32)
            {
                return Ok(t0.elapsed());
            }
            if let Some(c) = self.child.as_mut()
                && let Some(status) = c.try_wait()?
            {
                return Err(
                    format!("assetd exited at start ({status}): {}", self.log_tail()).into(),
                );
            }
            if t0.elapsed() > Duration::from_secs(120) {
                return Err("assetd did not start serving within 120 s".into());
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.dir.join("agent.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(10)..].join("\n")
    }

    async fn try_channel(&self) -> Result<Channel> {
        Ok(
            Endpoint::from_shared(format!("unix://{}", self.socket.display()))?
                .connect()
                .await?,
        )
    }

    async fn channel(&self) -> Result<Channel> {
        self.try_channel().await
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// SIGTERM, and wait for the exit.
    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            if let Some(pid) = i32::try_from(c.id())
                .ok()
                .and_then(rustix::process::Pid::from_raw)
            {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
            }
            let t0 = Instant::now();
            while t0.elapsed() < Duration::from_secs(60) {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for AgentProc {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

/// `VmHWM` (peak) and `VmRSS` of a process, in MiB.
fn memory_mib(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map(|kib| kib / 1024.0)
            .unwrap_or(f64::NAN)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// User plus system CPU time of a process so far, in seconds.
/// Waits until the agent has finished what a run leaves for after its end (checkpoint,
/// dropping the staging, recounting) and returns the CPU that took. Runs are normally an
/// hour apart, so that work is not part of the next run's time; it is reported apart.
async fn settle(pid: u32) -> f64 {
    let start = cpu_seconds(pid);
    let mut last = start;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = cpu_seconds(pid);
        if now - last < 0.015 {
            break;
        }
        last = now;
    }
    cpu_seconds(pid) - start
}

fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may contain spaces) are space-separated;
    // utime and stime are fields 14 and 15 (1-based), i.e. 12 and 13 after ") ".
    let rest = stat.rsplit_once(") ").map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    let hz = rustix::param::clock_ticks_per_second() as f64;
    (ticks(11) + ticks(12)) / hz
}

// ---------------------------------------------------------------------------------------
// Syncing through the API

/// Triggers a run of `source` and follows it to the end; returns the finished run.
async fn sync(ch: &Channel, source: &str, full: bool) -> Result<pb::SyncRun> {
    let mut sync = SyncServiceClient::new(ch.clone());
    let triggered = sync
        .trigger_sync(pb::TriggerSyncRequest {
            sources: vec![source.to_string()],
            full,
            accept_removals: false,
        })
        .await?
        .into_inner();
    let run_id = triggered.runs.first().ok_or("no run triggered")?.run_id;
    wait_run(ch, run_id).await
}

async fn wait_run(ch: &Channel, run_id: i64) -> Result<pb::SyncRun> {
    let mut sync = SyncServiceClient::new(ch.clone());
    let mut stream = sync
        .watch_sync(pb::WatchSyncRequest {
            run_ids: vec![run_id],
        })
        .await?
        .into_inner();
    let mut last = None;
    while let Some(ev) = stream.message().await? {
        last = ev.run;
    }
    let mut run = last.ok_or("the run's watch ended without a run")?;
    // The run's end as this client saw it: some versions stamp `finished` before applying
    // the run, which would leave the apply out of its duration.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    run.finished = Some(prost_types::Timestamp {
        seconds: now.as_secs() as i64,
        nanos: now.subsec_nanos() as i32,
    });
    if run.state != pb::RunState::Ok as i32 {
        return Err(format!("run {} ended {:?}: {}", run.id, run.state, run.error).into());
    }
    Ok(run)
}

/// The run that is going on or last ended for `source` (the agent starts a never-synced
/// source's first run by itself).
async fn latest_run(ch: &Channel, source: &str) -> Result<Option<pb::SyncRun>> {
    let runs = SyncServiceClient::new(ch.clone())
        .list_sync_runs(pb::ListSyncRunsRequest {
            source: source.to_string(),
            page_size: 1,
            page_token: String::new(),
        })
        .await?
        .into_inner()
        .runs;
    Ok(runs.into_iter().next())
}

/// Waits for the agent's own first run of `source` and returns it when it ends.
async fn first_run(ch: &Channel, source: &str) -> Result<pb::SyncRun> {
    let t0 = Instant::now();
    loop {
        if let Some(run) = latest_run(ch, source).await? {
            return wait_run(ch, run.id).await;
        }
        if t0.elapsed() > Duration::from_secs(60) {
            return Err("the first run did not start".into());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The run's duration: from its start (the agent's clock) to when its end reached us (this
/// machine's same clock), so applying the run is included.
fn run_seconds(run: &pb::SyncRun) -> f64 {
    let secs = |t: &Option<prost_types::Timestamp>| {
        t.as_ref()
            .map(|t| t.seconds as f64 + t.nanos as f64 / 1e9)
            .unwrap_or(f64::NAN)
    };
    secs(&run.finished) - secs(&run.started)
}

fn counts(run: &pb::SyncRun) -> pb::RunCounts {
    run.counts.unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// Auvik

fn auvik_sim(seed: u64, tenants: usize, per_tenant: usize) -> AuvikSim {
    AuvikSim::new(AuvikSimOptions {
        seed,
        clients: tenants,
        assets_per_client: per_tenant,
        ..Default::default()
    })
}

async fn serve<F, Fut, S>(start: F) -> Result<S>
where
    F: FnOnce(tokio::net::TcpListener) -> Fut,
    Fut: std::future::Future<Output = std::io::Result<S>>,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    Ok(start(listener).await?)
}

fn auvik_source(dir: &Path, sim: &AuvikSim, base_url: &str) -> Result<String> {
    let key = dir.join("auvik.key");
    write_private(&key, &sim.api_key())?;
    Ok(format!(
        "[[source]]\nname = \"auvik\"\nkind = \"auvik\"\nregion = \"us1\"\nusername = \"{}\"\n\
         api_key = {{ file = \"{}\" }}\ndomain_prefix = \"{}\"\nbase_url = \"{base_url}\"\n",
        sim.username(),
        key.display(),
        sim.domain_prefix(),
    ))
}

/// A fresh agent on an empty database against `sim`; returns it once its first (full) run
/// has ended, with that run.
async fn agent_after_first_sync(
    sim: &AuvikSim,
    base_url: &str,
) -> Result<(AgentProc, Channel, pb::SyncRun)> {
    let dir = AgentProc::new_dir()?;
    let sources = auvik_source(&dir, sim, base_url)?;
    let mut agent = AgentProc::configure(&dir, &sources)?;
    agent.start().await?;
    let ch = agent.channel().await?;
    let run = first_run(&ch, "auvik")
        .await
        .map_err(|e| format!("{e}\nthe agent's log ends:\n{}", agent.log_tail()))?;
    Ok((agent, ch, run))
}

async fn auvik_group(o: &Options) -> Result<()> {
    let (tenants, per) = if o.quick { (50, 200) } else { (500, 200) };
    let n = tenants * per;
    println!(
        "\n== auvik: {tenants} tenants x {per} devices = {n} devices (seed {})",
        o.seed
    );
    let sim = auvik_sim(o.seed, tenants, per);
    let server = serve(|l| sim.start(l)).await?;
    let base = server.base_url.to_string();

    let (mut full, mut peak, mut resync, mut incr) = (vec![], vec![], vec![], vec![]);
    // Requests of a first sync, and those of them to the warranty and lifecycle listings
    // (issue 22: read on full runs only).
    let (mut full_requests, mut lifecycle_requests) = (vec![], vec![]);
    let lifecycle_paths = [
        "/v1/inventory/device/warranty",
        "/v1/inventory/device/lifecycle",
    ];
    let lifecycle_count =
        |sim: &AuvikSim| -> u64 { lifecycle_paths.iter().map(|p| sim.requests_for(p)).sum() };
    // The same full runs without those listings (the simulator refuses them, 403, as to a
    // user without the Hardware lifecycle permission: one request per listing and group of
    // tenants, then nothing), in pairs with the runs that read them, so the cost of reading
    // them is a ratio within one run of the bench. Resyncs alternate their order by rep.
    let (mut full_without, mut full_without_requests, mut full_without_cpu) =
        (vec![], vec![], vec![]);
    let mut resync_without_cpu = vec![];
    let (mut resync_with_requests, mut resync_without, mut resync_without_requests) =
        (vec![], vec![], vec![]);
    // The agent's own CPU time per run: steadier than wall time on a shared machine.
    let (mut full_cpu, mut resync_cpu, mut incr_cpu) = (vec![], vec![], vec![]);
    // This process's CPU in the same spans: the simulator serving the pages (and the bench
    // client, a few RPCs). Agent + simulator against 2 cores x wall says whether the run
    // is CPU-bound.
    let (mut full_sim_cpu, mut resync_sim_cpu) = (vec![], vec![]);
    let me = std::process::id();
    let mut after_cpu = vec![];
    let mut rng = fastrand::Rng::with_seed(o.seed);
    let devices = sim.devices();
    println!(
        "  devices with a warranty record {}, with a lifecycle record {}",
        devices.iter().filter(|d| d.warranty.is_some()).count(),
        devices.iter().filter(|d| d.lifecycle.is_some()).count()
    );
    let ids: Vec<String> = devices.into_iter().map(|d| d.id).collect();
    for rep in 0..o.reps {
        let sim_cpu0 = cpu_seconds(me);
        let (requests0, lifecycle0) = (sim.request_count(), lifecycle_count(&sim));
        let (agent, ch, run) = agent_after_first_sync(&sim, &base).await?;
        full_sim_cpu.push(cpu_seconds(me) - sim_cpu0);
        full_requests.push((sim.request_count() - requests0) as f64);
        lifecycle_requests.push((lifecycle_count(&sim) - lifecycle0) as f64);
        let c = counts(&run);
        check(
            c.added as usize == n,
            format!("first sync added {} of {n}", c.added),
        )?;
        full.push(run_seconds(&run));
        full_cpu.push(cpu_seconds(agent.pid()));
        // The agents this group measures may predate lifecycle (ASSETD_BIN): only a build
        // that reads it is held to having stored some.
        if lifecycle_requests.last().is_some_and(|n| *n > 0.0) {
            let dated: i64 = open_ro(&agent.db())?.query_row(
                "SELECT COUNT(*) FROM assets WHERE warranty_expires IS NOT NULL OR support_status IS NOT NULL",
                [],
                |r| r.get(0),
            )?;
            check(dated > 0, "no lifecycle values stored".to_string())?;
        }
        if std::env::var_os("BENCH_DEBUG").is_some() {
            println!(
                "  debug: agent alive {:.2} s, cpu {:.2} s\n{}",
                agent.spawned.elapsed().as_secs_f64(),
                cpu_seconds(agent.pid()),
                agent.log_tail()
            );
        }
        after_cpu.push(settle(agent.pid()).await);
        // After the after-run work, so the high-water mark covers it too.
        peak.push(memory_mib(agent.pid()).0);

        let changes_before = count_rows(&agent.db(), "asset_changes")?;
        let order = if rep % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for with_lifecycle in order {
            sim.deny_lifecycle(!with_lifecycle);
            let requests0 = sim.request_count();
            let cpu0 = cpu_seconds(agent.pid());
            let sim_cpu0 = cpu_seconds(me);
            let run = sync(&ch, "auvik", true).await;
            sim.deny_lifecycle(false);
            let run = run?;
            let requests = (sim.request_count() - requests0) as f64;
            let c = counts(&run);
            check(
                c.added == 0 && c.updated == 0 && c.removed == 0 && c.unchanged as usize == n,
                format!("resync wrote rows: {c:?}"),
            )?;
            check(
                count_rows(&agent.db(), "asset_changes")? == changes_before,
                "resync wrote history".to_string(),
            )?;
            if with_lifecycle {
                resync_cpu.push(cpu_seconds(agent.pid()) - cpu0);
                resync_sim_cpu.push(cpu_seconds(me) - sim_cpu0);
                resync.push(run_seconds(&run));
                resync_with_requests.push(requests);
            } else {
                resync_without_cpu.push(cpu_seconds(agent.pid()) - cpu0);
                resync_without.push(run_seconds(&run));
                resync_without_requests.push(requests);
            }
            settle(agent.pid()).await;
        }

        // 1% of the devices change upstream (a firmware upgrade); the incremental run must
        // write exactly those rows and their history.
        let changed: HashSet<String> = (0..n / 100)
            .map(|_| ids[rng.usize(..ids.len())].clone())
            .collect();
        for id in &changed {
            sim.update_device(id, |d| {
                d.firmware = Some(format!("bench-fw-{rep}-{}", fastrand::u32(..)))
            });
        }
        let cpu0 = cpu_seconds(agent.pid());
        let run = sync(&ch, "auvik", false).await?;
        incr_cpu.push(cpu_seconds(agent.pid()) - cpu0);
        let c = counts(&run);
        check(
            c.updated as usize == changed.len() && c.added == 0 && c.removed == 0,
            format!("incremental counts {c:?} for {} changed", changed.len()),
        )?;
        let written = changed_external_ids(&agent.db(), run.id)?;
        check(
            written == changed,
            format!(
                "incremental history covers {} assets, {} changed",
                written.len(),
                changed.len()
            ),
        )?;
        incr.push(run_seconds(&run));
        if std::env::var_os("BENCH_DEBUG").is_some() {
            println!("  debug: after the incremental run\n{}", agent.log_tail());
        }
        drop(agent);

        // The first sync again, into a fresh agent, without the lifecycle listings.
        sim.deny_lifecycle(true);
        let requests0 = sim.request_count();
        let first = agent_after_first_sync(&sim, &base).await;
        sim.deny_lifecycle(false);
        let (agent, _ch, run) = first?;
        full_without_requests.push((sim.request_count() - requests0) as f64);
        check(
            counts(&run).added as usize == n,
            format!("first sync without lifecycle added {}", counts(&run).added),
        )?;
        full_without.push(run_seconds(&run));
        full_without_cpu.push(cpu_seconds(agent.pid()));
        drop(agent);
    }
    report(
        &format!("full sync of {n} into an empty db"),
        "s",
        &full,
        "<= 3 s",
    );
    report("... agent CPU (start-up included)", "s", &full_cpu, "-");
    report("... requests to the simulator", "", &full_requests, "-");
    report(
        "... of which warranty and lifecycle listings",
        "",
        &lifecycle_requests,
        "-",
    );
    report("... simulator (bench process) CPU", "s", &full_sim_cpu, "-");
    report(
        "first sync without the lifecycle listings (403)",
        "s",
        &full_without,
        "-",
    );
    report(
        "... requests to the simulator",
        "",
        &full_without_requests,
        "-",
    );
    report(
        "... agent CPU (start-up included)",
        "s",
        &full_without_cpu,
        "-",
    );
    report_ratio(
        "first sync, with / without lifecycle listings",
        &full,
        &full_without,
    );
    report_ratio(
        "... agent CPU, with / without",
        &full_cpu,
        &full_without_cpu,
    );
    report("agent peak RSS (VmHWM) after it", "MiB", &peak, "<= 80 MB");
    report(
        "... after-run work (checkpoint, staging, recount) CPU",
        "s",
        &after_cpu,
        "-",
    );
    report(
        "full resync, no upstream change",
        "s",
        &resync,
        "<= 1.5 s, 0 rows",
    );
    report("... agent CPU", "s", &resync_cpu, "-");
    report(
        "... simulator (bench process) CPU",
        "s",
        &resync_sim_cpu,
        "-",
    );
    report(
        "... requests to the simulator",
        "",
        &resync_with_requests,
        "-",
    );
    report(
        "full resync without the lifecycle listings (403)",
        "s",
        &resync_without,
        "-",
    );
    report(
        "... requests to the simulator",
        "",
        &resync_without_requests,
        "-",
    );
    report("... agent CPU", "s", &resync_without_cpu, "-");
    report_ratio(
        "full resync, with / without lifecycle listings",
        &resync,
        &resync_without,
    );
    report_ratio(
        "... agent CPU, with / without",
        &resync_cpu,
        &resync_without_cpu,
    );
    report(
        "incremental run, 1% changed",
        "s",
        &incr,
        "<= 0.5 s, exactly those rows",
    );
    report("... agent CPU", "s", &incr_cpu, "-");

    // Memory must not grow with the inventory: the same sync at a tenth of the size.
    let small = auvik_sim(o.seed, tenants / 10, per);
    let small_server = serve(|l| small.start(l)).await?;
    let mut small_peak = vec![];
    for _ in 0..o.reps {
        let (agent, _ch, _run) =
            agent_after_first_sync(&small, &small_server.base_url.to_string()).await?;
        settle(agent.pid()).await;
        small_peak.push(memory_mib(agent.pid()).0);
    }
    report(
        &format!("agent peak RSS, first sync of {}", n / 10),
        "MiB",
        &small_peak,
        "flat vs. the full size",
    );
    Ok(())
}

fn check(ok: bool, what: String) -> Result<()> {
    if ok { Ok(()) } else { Err(what.into()) }
}

fn open_ro(db: &Path) -> Result<rusqlite::Connection> {
    Ok(rusqlite::Connection::open_with_flags(
        db,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )?)
}

fn count_rows(db: &Path, table: &str) -> Result<i64> {
    Ok(open_ro(db)?.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?)
}

fn changed_external_ids(db: &Path, run_id: i64) -> Result<HashSet<String>> {
    let c = open_ro(db)?;
    let mut st = c.prepare(
        "SELECT DISTINCT a.external_id FROM asset_changes h JOIN assets a ON a.id = h.asset_id
         WHERE h.run_id = ?1",
    )?;
    let ids = st
        .query_map([run_id], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<HashSet<_>>>()?;
    Ok(ids)
}

// ---------------------------------------------------------------------------------------
// Floors

async fn floors_group(o: &Options) -> Result<()> {
    let (tenants, per) = if o.quick { (50, 200) } else { (500, 200) };
    let n = tenants * per;
    println!("\n== floors: the same {n} devices (seed {})", o.seed);
    let sim = auvik_sim(o.seed, tenants, per);
    let server = serve(|l| sim.start(l)).await?;
    let base = server.base_url.to_string();

    let (mut sync_s, mut http_s, mut store_s) = (vec![], vec![], vec![]);
    for _ in 0..o.reps {
        let before = sim.request_count();
        let (agent, _ch, run) = agent_after_first_sync(&sim, &base).await?;
        sync_s.push(run_seconds(&run));
        let agent_requests = sim.request_count() - before;

        let before = sim.request_count();
        let t0 = Instant::now();
        http_floor(&sim, &base).await?;
        http_s.push(t0.elapsed().as_secs_f64());
        let floor_requests = sim.request_count() - before;
        if floor_requests != agent_requests {
            println!(
                "  note: the HTTP floor made {floor_requests} requests, the agent {agent_requests}"
            );
        }
        store_s.push(storage_floor(&agent.db())?);
    }
    report(
        "assetd full sync (same run)",
        "s",
        &sync_s,
        "close to the larger floor",
    );
    report(
        "HTTP floor: every page to a plain client",
        "s",
        &http_s,
        "-",
    );
    report(
        "storage floor: bulk insert of the same rows",
        "s",
        &store_s,
        "-",
    );
    Ok(())
}

/// The lists the Auvik connector reads per tenant (agent/vendors/auvik.rs), in order.
const FLOOR_TENANT_LISTS: [&str; 1] = [
    "/v1/inventory/device/info?tenants={tenant}&page%5Bfirst%5D=1000&include=deviceDetail\
     &fields%5BdeviceDetail%5D=manageStatus%2Cinterfaces",
];
/// The connector's `TENANT_CONCURRENCY`.
const FLOOR_TENANT_CONCURRENCY: usize = 4;

/// Reads every page the connector reads, as bytes, with the connector's concurrency: what
/// the simulator and loopback HTTP cost with no parsing or storing on our side.
async fn http_floor(sim: &AuvikSim, base: &str) -> Result<()> {
    let client = reqwest::Client::new();
    let auth = (sim.username(), sim.api_key());
    let get = |url: String| {
        let client = client.clone();
        let auth = auth.clone();
        async move {
            let resp = client
                .get(&url)
                .basic_auth(&auth.0, Some(&auth.1))
                .send()
                .await?
                .error_for_status()?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(resp.bytes().await?)
        }
    };
    get(format!("{base}/v1/authentication/verify")).await?;
    get(format!("{base}/v1/tenants")).await?;
    get(format!(
        "{base}/v1/tenants/detail?tenantDomainPrefix={}",
        sim.domain_prefix()
    ))
    .await?;
    let tenants: Vec<String> = sim
        .tenants()
        .into_iter()
        .filter(|t| t.tenant_type == "client")
        .map(|t| t.id)
        .collect();
    use futures_util::StreamExt;
    let pages = FLOOR_TENANT_LISTS;
    let results: Vec<Result<()>> = futures_util::stream::iter(tenants.iter().cloned())
        .map(|t| {
            let get = &get;
            async move {
                for first in pages {
                    let mut url = Some(format!("{base}{}", first.replace("{tenant}", &t)));
                    while let Some(u) = url.take() {
                        let body = get(u).await?;
                        url = next_link(&body);
                    }
                }
                Ok(())
            }
        })
        .buffer_unordered(FLOOR_TENANT_CONCURRENCY)
        .collect()
        .await;
    for r in results {
        r?;
    }
    use chrono::Datelike;
    let today = chrono::Utc::now().date_naive();
    let this_month = today.with_day(1).ok_or("date")?;
    let last_day = this_month.pred_opt().ok_or("date")?;
    let last_month = last_day.with_day(1).ok_or("date")?;
    // As the connector reads them: every request of both months, 4 at a time.
    let mut urls = Vec::new();
    for (from, thru) in [(this_month, today), (last_month, last_day)] {
        for chunk in tenants.chunks(50) {
            urls.push(format!(
                "{base}/v1/billing/usage/client?tenants={}&filter[fromDate]={from}&filter[thruDate]={thru}",
                chunk.join(",")
            ));
        }
    }
    let answers: Vec<_> = futures_util::stream::iter(urls)
        .map(&get)
        .buffered(FLOOR_TENANT_CONCURRENCY)
        .collect()
        .await;
    for a in answers {
        a?;
    }
    Ok(())
}

/// `links.next` of a JSON:API page, found without parsing the whole page.
fn next_link(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Links {
        next: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct Page {
        links: Option<Links>,
    }
    serde_json::from_slice::<Page>(body).ok()?.links?.next
}

/// Copies the agent's assets into a fresh database with the same schema (a new `Store`
/// migrates it) in one transaction through one prepared statement: how fast SQLite itself
/// stores these rows. Returns the seconds the insert took.
fn storage_floor(agent_db: &Path) -> Result<f64> {
    let src = open_ro(agent_db)?;
    let mut st = src.prepare(
        "SELECT source, external_id, source_client_id, name, category, vendor_type, manufacturer, model,
         serial, mac_addresses, ip_addresses, os, firmware, online_status, managed, billable, first_seen,
         last_seen, updated_at, raw, listed FROM assets",
    )?;
    let rows: Vec<Vec<rusqlite::types::Value>> = st
        .query_map([], |r| (0..21).map(|i| r.get(i)).collect())?
        .collect::<rusqlite::Result<_>>()?;
    let clients: Vec<(i64, String, String, String)> = src
        .prepare("SELECT id, source, external_id, name FROM source_clients")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let dir = AgentProc::new_dir()?;
    let path = dir.join("floor.db");
    drop(assetd::store::Store::open(&path)?);
    let mut c = rusqlite::Connection::open(&path)?;
    c.pragma_update(None, "journal_mode", "WAL")?;
    c.pragma_update(None, "synchronous", "NORMAL")?;
    let t0 = Instant::now();
    let tx = c.transaction()?;
    {
        let mut ins = tx.prepare(
            "INSERT INTO source_clients (id, source, external_id, name) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for (id, s, e, n) in &clients {
            ins.execute(rusqlite::params![id, s, e, n])?;
        }
        let mut ins = tx.prepare(
            "INSERT INTO assets (source, external_id, source_client_id, name, category, vendor_type,
             manufacturer, model, serial, mac_addresses, ip_addresses, os, firmware, online_status, managed,
             billable, first_seen, last_seen, updated_at, raw, listed)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
        )?;
        for r in &rows {
            ins.execute(rusqlite::params_from_iter(r.iter()))?;
        }
    }
    tx.commit()?;
    let secs = t0.elapsed().as_secs_f64();
    drop(c);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(secs)
}

// ---------------------------------------------------------------------------------------
// Syncro under its rate limit

async fn syncro_group(o: &Options) -> Result<()> {
    let (customers, per) = if o.quick { (20, 100) } else { (200, 100) };
    let per_minute = 600u32;
    let n = customers * per;
    println!(
        "\n== syncro: {n} assets, simulator limit {per_minute} requests/min (seed {})",
        o.seed
    );
    let sim = SyncroSim::new(SyncroSimOptions {
        seed: o.seed,
        clients: customers,
        assets_per_client: per,
        requests_per_minute: per_minute,
        ..Default::default()
    });
    let server = serve(|l| sim.start(l)).await?;
    // The simulator varies assets per customer around the mean, and some customers are
    // disabled (former clients): the connector leaves their assets out by default.
    let disabled: HashSet<i64> = sim
        .customers()
        .iter()
        .filter(|c| c.disabled)
        .map(|c| c.id)
        .collect();
    let all = sim.assets();
    let n = all
        .iter()
        .filter(|a| !disabled.contains(&a.customer_id))
        .count();
    println!(
        "  the simulator holds {} assets, {n} of them with active customers",
        all.len()
    );
    let (mut wall, mut ratio) = (vec![], vec![]);
    // One run takes over a minute at this limit; the repetitions are kept few.
    for _ in 0..o.reps.min(2) {
        // The simulator's window must be empty at the start, as for a first sync of the day.
        tokio::time::sleep(Duration::from_secs(61)).await;
        let dir = AgentProc::new_dir()?;
        let key = dir.join("syncro.key");
        write_private(&key, &sim.api_key())?;
        let sources = format!(
            "[[source]]\nname = \"syncro\"\nkind = \"syncro\"\nsubdomain = \"{}\"\n\
             api_key = {{ file = \"{}\" }}\nbase_url = \"{}\"\nrequests_per_minute = {per_minute}\n",
            sim.subdomain(),
            key.display(),
            server.base_url
        );
        let mut agent = AgentProc::configure(&dir, &sources)?;
        let limited_before = sim.rate_limited_count();
        let before = sim.request_count();
        agent.start().await?;
        let ch = agent.channel().await?;
        let run = first_run(&ch, "syncro").await?;
        check(
            counts(&run).added as usize == n,
            format!("syncro added {}", counts(&run).added),
        )?;
        let requests = sim.request_count() - before;
        let limited = sim.rate_limited_count() - limited_before;
        check(limited == 0, format!("{limited} requests got 429"))?;
        // The fastest the limit allows: request k (0-based) cannot start before
        // floor(k / limit) windows have passed.
        let minimum = ((requests.saturating_sub(1)) / per_minute as u64) as f64 * 60.0;
        let secs = run_seconds(&run);
        println!(
            "  run: {requests} requests, 0 x 429, {secs:.1} s; the limit's minimum {minimum:.0} s"
        );
        wall.push(secs);
        if minimum > 0.0 {
            ratio.push(secs / minimum);
        }
    }
    report(&format!("syncro full sync of {n}"), "s", &wall, "-");
    if !ratio.is_empty() {
        report(
            "... as a multiple of the limit's minimum",
            "x",
            &ratio,
            "<= 1.05",
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// A million assets

async fn big_group(o: &Options) -> Result<()> {
    let (tenants, per) = if o.quick { (100, 200) } else { (5000, 200) };
    let n = tenants * per;
    println!(
        "\n== big: {tenants} tenants x {per} = {n} assets (seed {})",
        o.seed
    );
    // BENCH_BIG_DB names a file to keep the loaded database in, and to start from when it
    // exists: loading 1M assets takes a minute, which matters when iterating on the queries.
    // The database still came through the connector; the figures below never include loading.
    let cached = std::env::var_os("BENCH_BIG_DB").map(PathBuf::from);
    let (mut agent, ch) = match cached.as_ref().filter(|p| p.exists()) {
        Some(path) => {
            let dir = AgentProc::new_dir()?;
            std::fs::copy(path, dir.join("a.db"))?;
            write_private(&dir.join("auvik.key"), "unused")?;
            // Nothing listens on port 1, so a scheduled run fails at once and writes nothing
            // but its own failed record.
            let sources = format!(
                "[[source]]\nname = \"auvik\"\nkind = \"auvik\"\nregion = \"us1\"\n\
                 username = \"bench\"\ndomain_prefix = \"bench\"\napi_key = {{ file = \"{}\" }}\n\
                 base_url = \"http://127.0.0.1:1\"\n",
                dir.join("auvik.key").display()
            );
            let mut agent = AgentProc::configure(&dir, &sources)?;
            agent.start().await?;
            let ch = agent.channel().await?;
            println!("  started from the kept database {}", path.display());
            (agent, ch)
        }
        None => {
            let t0 = Instant::now();
            let sim = auvik_sim(o.seed, tenants, per);
            let server = serve(|l| sim.start(l)).await?;
            println!("  simulator seeded in {:.1} s", t0.elapsed().as_secs_f64());
            let (mut agent, ch, run) =
                agent_after_first_sync(&sim, &server.base_url.to_string()).await?;
            println!(
                "  loaded through the Auvik connector in {:.1} s (peak RSS {:.0} MiB)",
                run_seconds(&run),
                memory_mib(agent.pid()).0
            );
            if let Some(path) = &cached {
                agent.stop();
                // Through SQLite, never the file alone: the agent's checkpoint at stop can
                // be refused (its background checkpoint may hold the WAL), and a database
                // file copied without its WAL is then malformed.
                let _ = std::fs::remove_file(path);
                rusqlite::Connection::open(agent.db())?
                    .execute("VACUUM INTO ?1", [path.to_string_lossy()])?;
                agent.start().await?;
            }
            (agent, ch)
        }
    };

    // Start-up on the full database.
    let (mut start, mut status) = (vec![], vec![]);
    for _ in 0..o.reps.max(5) {
        agent.stop();
        let serving = agent.start().await?;
        start.push(serving.as_secs_f64() * 1000.0);
        // The first status an operator asks for: it counts every source's assets.
        AgentServiceClient::new(agent.channel().await?)
            .get_status(pb::GetStatusRequest {})
            .await?;
        status.push(agent.spawned.elapsed().as_secs_f64() * 1000.0);
    }
    report(
        &format!("start to serving (health SERVING), {n}-asset db"),
        "ms",
        &start,
        "<= 300 ms",
    );
    report("start to the first GetStatus answered", "ms", &status, "-");
    let ch = if start.is_empty() {
        ch
    } else {
        agent.channel().await?
    };

    // GetBillableCounts for every client: through the API (the agent's cache, refilled after
    // each run), and the computation itself on a store with no cache yet.
    let mut assets = AssetServiceClient::new(ch.clone());
    let mut cold = vec![];
    let mut warm = vec![];
    for _ in 0..o.reps {
        let store = assetd::store::Store::open(&agent.db())?;
        let t0 = Instant::now();
        let counts = store.billable_counts(Some(chrono::Utc::now()))?;
        cold.push(t0.elapsed().as_secs_f64() * 1000.0);
        check(
            counts.len() == tenants,
            format!("{} clients counted", counts.len()),
        )?;
        for _ in 0..10 {
            let t0 = Instant::now();
            let r = assets
                .get_billable_counts(pb::GetBillableCountsRequest::default())
                .await?
                .into_inner();
            warm.push(t0.elapsed().as_secs_f64() * 1000.0);
            check(
                r.counts.len() == tenants,
                format!("{} clients counted", r.counts.len()),
            )?;
        }
    }
    report(
        "counting all clients, uncached (in-process store)",
        "ms",
        &cold,
        "-",
    );
    report(
        "GetBillableCounts, all clients, repeated",
        "ms",
        &warm,
        "<= 50 ms",
    );

    // GetLifecycleSummary for every client, as billable counts: the computation on a store
    // with no cache yet, then through the API (the agent's cache, for the UTC date).
    let mut cold = vec![];
    let mut warm = vec![];
    let today = chrono::Utc::now().date_naive();
    for _ in 0..o.reps {
        let store = assetd::store::Store::open(&agent.db())?;
        let t0 = Instant::now();
        let summary = store.lifecycle_summary(Some(chrono::Utc::now()), today)?;
        cold.push(t0.elapsed().as_secs_f64() * 1000.0);
        check(
            summary.len() == tenants,
            format!("{} clients summarised", summary.len()),
        )?;
        for _ in 0..10 {
            let t0 = Instant::now();
            let r = assets
                .get_lifecycle_summary(pb::GetLifecycleSummaryRequest::default())
                .await?
                .into_inner();
            warm.push(t0.elapsed().as_secs_f64() * 1000.0);
            check(
                r.summaries.len() == tenants,
                format!("{} clients summarised", r.summaries.len()),
            )?;
        }
    }
    report(
        "lifecycle of all clients, uncached (in-process store)",
        "ms",
        &cold,
        "-",
    );
    report(
        "GetLifecycleSummary, all clients, repeated",
        "ms",
        &warm,
        "<= 50 ms",
    );

    list_assets_load(&agent, o).await?;
    export(&agent, n, o).await?;
    Ok(())
}

/// 8 clients, each on its own connection, ask for a random client's first page of 100 as
/// fast as they can; then one client alone, for the latency of a page without queueing.
///
/// Twice over: clients that decode every asset into `pb::Asset`, and clients that pass
/// pages on with each asset left as its encoded bytes. The two cores are shared, so a
/// decoding client's CPU is taken from the agent's: the second load shows what the agent
/// serves when the load itself is light.
async fn list_assets_load(agent: &AgentProc, o: &Options) -> Result<()> {
    let clients: Vec<String> = AssetServiceClient::new(agent.channel().await?)
        .list_clients(pb::ListClientsRequest::default())
        .await?
        .into_inner()
        .clients
        .into_iter()
        .map(|c| c.name)
        .collect();
    let clients = Arc::new(clients);
    let secs = if o.quick { 2.0 } else { 5.0 };
    for kind in [PageClient::Decoding, PageClient::Relaying] {
        let mut loaded = Load::default();
        let mut alone = Load::default();
        for _ in 0..o.reps {
            loaded.run(agent, &clients, kind, 8, secs).await?;
            alone.run(agent, &clients, kind, 1, secs / 2.0).await?;
        }
        let who = kind.describe();
        report(
            &format!("ListAssets by client, page 100, 8 {who} clients: p50"),
            "ms",
            &loaded.p50,
            "<= 1 ms",
        );
        report("... p99", "ms", &loaded.p99, "<= 5 ms");
        report("... throughput", "req/s", &loaded.rps, ">= 5000");
        // What each side costs per request says how far apart the throughput and the
        // target are because of the agent and because of the load itself.
        report("... agent CPU per request", "us", &loaded.agent_cpu, "-");
        report(
            "... client (this bench) CPU per request",
            "us",
            &loaded.client_cpu,
            "-",
        );
        report(
            &format!("ListAssets by client, 1 {who} client alone: p50"),
            "ms",
            &alone.p50,
            "-",
        );
        report("... p99", "ms", &alone.p99, "-");
    }
    Ok(())
}

/// How a load's clients read each ListAssets page.
#[derive(Clone, Copy)]
enum PageClient {
    /// The generated client: every asset decoded into a `pb::Asset`.
    Decoding,
    /// A client that relays pages (a proxy, a cache): the same request on the same
    /// method, with the response read as `RawAssetsPage`.
    Relaying,
}

impl PageClient {
    fn describe(self) -> &'static str {
        match self {
            PageClient::Decoding => "decoding",
            PageClient::Relaying => "relaying",
        }
    }
}

/// `ListAssetsResponse` as a relaying client reads it: field 1 as each asset's encoded
/// bytes (slices of the received buffer), field 2 as the token.
#[derive(Clone, PartialEq, prost::Message)]
struct RawAssetsPage {
    #[prost(bytes = "bytes", repeated, tag = "1")]
    assets: Vec<prost::bytes::Bytes>,
    #[prost(string, tag = "2")]
    next_page_token: String,
}

/// A connection's client, of one `PageClient` kind.
enum PageReader {
    Decoding(AssetServiceClient<Channel>),
    Relaying(tonic::client::Grpc<Channel>),
}

impl PageReader {
    fn new(kind: PageClient, channel: Channel) -> PageReader {
        match kind {
            PageClient::Decoding => PageReader::Decoding(AssetServiceClient::new(channel)),
            PageClient::Relaying => PageReader::Relaying(tonic::client::Grpc::new(channel)),
        }
    }

    /// One ListAssets call; the number of assets on the page.
    async fn list(
        &mut self,
        request: pb::ListAssetsRequest,
    ) -> std::result::Result<usize, tonic::Status> {
        match self {
            PageReader::Decoding(api) => {
                Ok(api.list_assets(request).await?.into_inner().assets.len())
            }
            PageReader::Relaying(grpc) => {
                grpc.ready()
                    .await
                    .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
                let page: RawAssetsPage = grpc
                    .unary(
                        tonic::Request::new(request),
                        http::uri::PathAndQuery::from_static("/assetd.v1.AssetService/ListAssets"),
                        tonic_prost::ProstCodec::default(),
                    )
                    .await?
                    .into_inner();
                Ok(page.assets.len())
            }
        }
    }
}

/// Figures of repeated ListAssets loads, one entry per run.
#[derive(Default)]
struct Load {
    p50: Vec<f64>,
    p99: Vec<f64>,
    rps: Vec<f64>,
    agent_cpu: Vec<f64>,
    client_cpu: Vec<f64>,
}

impl Load {
    /// `workers` clients of `kind`, each on its own connection, for `secs`.
    async fn run(
        &mut self,
        agent: &AgentProc,
        clients: &Arc<Vec<String>>,
        kind: PageClient,
        workers: u64,
        secs: f64,
    ) -> Result<()> {
        let mut tasks = vec![];
        let cpu0 = (cpu_seconds(agent.pid()), cpu_seconds(std::process::id()));
        let t0 = Instant::now();
        for w in 0..workers {
            let mut reader = PageReader::new(kind, agent.channel().await?);
            let clients = clients.clone();
            tasks.push(tokio::spawn(async move {
                let mut rng = fastrand::Rng::with_seed(w);
                let mut lat = vec![];
                let start = Instant::now();
                while start.elapsed().as_secs_f64() < secs {
                    let request = pb::ListAssetsRequest {
                        page_size: 100,
                        client: clients[rng.usize(..clients.len())].clone(),
                        ..Default::default()
                    };
                    let t = Instant::now();
                    let assets = reader.list(request).await?;
                    lat.push(t.elapsed().as_secs_f64() * 1000.0);
                    if assets != 100 {
                        return Err(format!("a page had {assets} assets").into());
                    }
                }
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(lat)
            }));
        }
        let mut all = vec![];
        for t in tasks {
            all.extend(t.await??);
        }
        let elapsed = t0.elapsed().as_secs_f64();
        let n = all.len() as f64;
        self.agent_cpu
            .push((cpu_seconds(agent.pid()) - cpu0.0) / n * 1e6);
        self.client_cpu
            .push((cpu_seconds(std::process::id()) - cpu0.1) / n * 1e6);
        all.sort_by(f64::total_cmp);
        self.p50.push(percentile(&all, 0.5));
        self.p99.push(percentile(&all, 0.99));
        self.rps.push(n / elapsed);
        Ok(())
    }
}

/// Streams every asset; samples the agent's RSS meanwhile.
async fn export(agent: &AgentProc, n: usize, o: &Options) -> Result<()> {
    let (mut rate, mut growth) = (vec![], vec![]);
    for _ in 0..o.reps {
        let mut api = AssetServiceClient::new(agent.channel().await?);
        let pid = agent.pid();
        let rss_before = memory_mib(pid).1;
        let mut samples = VecDeque::new();
        let t0 = Instant::now();
        let mut stream = api
            .export_assets(pb::ExportAssetsRequest::default())
            .await?
            .into_inner();
        let mut got = 0usize;
        let mut last_sample = Instant::now();
        while let Some(a) = stream.message().await? {
            got += 1;
            std::hint::black_box(a);
            if last_sample.elapsed() > Duration::from_millis(100) {
                samples.push_back(memory_mib(pid).1);
                last_sample = Instant::now();
            }
        }
        let secs = t0.elapsed().as_secs_f64();
        check(got == n, format!("exported {got} of {n}"))?;
        rate.push(got as f64 / secs);
        let max = samples.iter().copied().fold(rss_before, f64::max);
        growth.push(max - rss_before);
    }
    report(
        &format!("ExportAssets of {n}"),
        "assets/s",
        &rate,
        ">= 200000",
    );
    report(
        "... agent RSS growth during the export",
        "MiB",
        &growth,
        "flat",
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Idle

async fn idle_group(o: &Options) -> Result<()> {
    let (tenants, per) = if o.quick { (50, 200) } else { (500, 200) };
    let n = tenants * per;
    println!("\n== idle: an agent holding {n} assets");
    let sim = auvik_sim(o.seed, tenants, per);
    let server = serve(|l| sim.start(l)).await?;
    let (agent, ch, _run) = agent_after_first_sync(&sim, &server.base_url.to_string()).await?;
    // A query or two, as an idle agent has served some.
    AssetServiceClient::new(ch.clone())
        .get_billable_counts(pb::GetBillableCountsRequest::default())
        .await?;
    let window = if o.quick { 5 } else { 20 };
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (mut rss, mut cpu) = (vec![], vec![]);
    for _ in 0..o.reps {
        let c0 = cpu_seconds(agent.pid());
        tokio::time::sleep(Duration::from_secs(window)).await;
        cpu.push((cpu_seconds(agent.pid()) - c0) * 1000.0);
        rss.push(memory_mib(agent.pid()).1);
    }
    report(&format!("idle RSS, {n} assets"), "MiB", &rss, "<= 30 MB");
    let status = std::fs::read_to_string(format!("/proc/{}/status", agent.pid()))?;
    let parts: Vec<&str> = status
        .lines()
        .filter(|l| l.starts_with("RssAnon:") || l.starts_with("RssFile:"))
        .map(str::trim)
        .collect();
    println!("  ... of which {}", parts.join(", "));
    report(&format!("CPU used in {window} s idle"), "ms", &cpu, "~0");
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Events

/// What the bench's webhook receiver has taken: `asset.added` events, when the first and the
/// last arrived, and whether every signature matched.
#[derive(Default)]
struct Received {
    added: u64,
    first: Option<Instant>,
    last: Option<Instant>,
    bad_signatures: u64,
}

const HOOK_SECRET: &str = "bench-hook-secret-0123456789abcdef";

/// A webhook receiver on loopback that checks each signature as a receiver should (HMAC of
/// the body, constant-time compare) and counts what it takes.
async fn receiver() -> Result<(String, Arc<std::sync::Mutex<Received>>)> {
    use axum::{body::Bytes, http::HeaderMap, routing::post};
    use hmac::Mac;
    let got = Arc::new(std::sync::Mutex::new(Received::default()));
    let state = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: Bytes| {
            let state = state.clone();
            async move {
                let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(HOOK_SECRET.as_bytes())
                    .expect("any key length");
                mac.update(&body);
                let sig = headers
                    .get("x-assetd-signature-256")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("sha256="))
                    .and_then(|hex| {
                        (0..hex.len())
                            .step_by(2)
                            .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
                            .collect::<Option<Vec<u8>>>()
                    })
                    .unwrap_or_default();
                let ok = mac.verify_slice(&sig).is_ok();
                let now = Instant::now();
                let mut g = state.lock().unwrap();
                if !ok {
                    g.bad_signatures += 1;
                }
                if headers
                    .get("x-assetd-event")
                    .is_some_and(|v| v == "asset.added")
                {
                    g.added += 1;
                    g.first.get_or_insert(now);
                    g.last = Some(now);
                }
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((url, got))
}

/// How the hook delivered a run's events: when the last arrived after the run's end, at
/// what rate from the first to the last, and the agent's CPU per event meanwhile.
struct DeliveryFigures {
    after_run: f64,
    rate: f64,
    cpu_per_event_us: f64,
}

/// A first sync of `n` devices with a webhook on `asset.added`: the run's seconds, the
/// agent's CPU seconds at its end, and the delivery of its `n` events.
async fn hooked_first_sync(
    sim: &AuvikSim,
    base: &str,
    n: usize,
) -> Result<(f64, f64, DeliveryFigures)> {
    let (url, got) = receiver().await?;
    let dir = AgentProc::new_dir()?;
    write_private(&dir.join("hook.secret"), HOOK_SECRET)?;
    let sources = format!(
        "{}\n[[hook]]\nname = \"bench\"\nevents = [\"asset.added\"]\nurl = \"{url}\"\nsecret = {{ file = \"{}\" }}\n",
        auvik_source(&dir, sim, base)?,
        dir.join("hook.secret").display()
    );
    let mut agent = AgentProc::configure(&dir, &sources)?;
    agent.start().await?;
    let ch = agent.channel().await?;
    let run = first_run(&ch, "auvik").await?;
    let ended = Instant::now();
    check(
        counts(&run).added as usize == n,
        "hooked run added all".into(),
    )?;
    let run_cpu = cpu_seconds(agent.pid());
    let t0 = Instant::now();
    loop {
        if got.lock().unwrap().added as usize >= n {
            break;
        }
        if t0.elapsed() > Duration::from_secs(1800) {
            return Err(format!(
                "only {} of {n} events delivered in 30 min",
                got.lock().unwrap().added
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let g = got.lock().unwrap();
    check(
        g.bad_signatures == 0,
        format!("{} bad signatures", g.bad_signatures),
    )?;
    let (first, last) = (g.first.unwrap_or(ended), g.last.unwrap_or(ended));
    let figures = DeliveryFigures {
        after_run: last.saturating_duration_since(ended).as_secs_f64(),
        rate: n as f64
            / last
                .saturating_duration_since(first)
                .as_secs_f64()
                .max(1e-3),
        cpu_per_event_us: (cpu_seconds(agent.pid()) - run_cpu) / n as f64 * 1e6,
    };
    drop(g);
    agent.stop();
    Ok((run_seconds(&run), run_cpu, figures))
}

/// The event log's cost on a first sync of 100k devices, with a webhook subscribed to
/// `asset.added` (100k events), against the same sync without a hook and, with
/// `BENCH_EVENTS_BASELINE`, against a build without the event log; the variants alternate
/// within each repetition so a shared machine's drift falls on all alike. Then how fast the
/// hook delivers those 100k events, signed, to a receiver that checks every signature.
async fn events_group(o: &Options) -> Result<()> {
    let (tenants, per) = if o.quick { (50, 200) } else { (500, 200) };
    let n = tenants * per;
    println!(
        "\n== events: first sync of {n} devices with a webhook on asset.added (seed {})",
        o.seed
    );
    let sim = auvik_sim(o.seed, tenants, per);
    let server = serve(|l| sim.start(l)).await?;
    let base = server.base_url.to_string();
    let baseline = std::env::var("BENCH_EVENTS_BASELINE").ok();
    if baseline.is_none() {
        println!(
            "  (set BENCH_EVENTS_BASELINE to an assetd built without the event log to measure the log's own cost)"
        );
    }
    let (mut without_log, mut no_hook, mut with_hook) = (vec![], vec![], vec![]);
    let (mut without_log_cpu, mut no_hook_cpu, mut with_hook_cpu) = (vec![], vec![], vec![]);
    let (mut delivered_after, mut rate, mut delivery_cpu) = (vec![], vec![], vec![]);
    // The variants in turn, starting one later each repetition, so none always runs first
    // (a cold page cache) or last (after the others' deliveries heated the machine).
    let variants: &[u8] = if baseline.is_some() {
        &[0, 1, 2]
    } else {
        &[1, 2]
    };
    for rep in 0..o.reps {
        for k in 0..variants.len() {
            match variants[(rep + k) % variants.len()] {
                0 => {
                    let bin = baseline.clone().unwrap_or_default();
                    let dir = AgentProc::new_dir()?;
                    let sources = auvik_source(&dir, &sim, &base)?;
                    let mut agent = AgentProc::configure(&dir, &sources)?;
                    agent.bin = Some(bin);
                    agent.start().await?;
                    let ch = agent.channel().await?;
                    let run = first_run(&ch, "auvik").await?;
                    check(
                        counts(&run).added as usize == n,
                        "baseline added all".into(),
                    )?;
                    without_log.push(run_seconds(&run));
                    without_log_cpu.push(cpu_seconds(agent.pid()));
                }
                1 => {
                    let (agent, _ch, run) = agent_after_first_sync(&sim, &base).await?;
                    check(
                        counts(&run).added as usize == n,
                        "no-hook run added all".into(),
                    )?;
                    no_hook.push(run_seconds(&run));
                    no_hook_cpu.push(cpu_seconds(agent.pid()));
                }
                _ => {
                    let (run, cpu, delivery) = hooked_first_sync(&sim, &base, n).await?;
                    with_hook.push(run);
                    with_hook_cpu.push(cpu);
                    delivered_after.push(delivery.after_run);
                    rate.push(delivery.rate);
                    delivery_cpu.push(delivery.cpu_per_event_us);
                }
            }
        }
    }
    if !without_log.is_empty() {
        report(
            "first sync, build without the event log",
            "s",
            &without_log,
            "-",
        );
        report("... agent CPU", "s", &without_log_cpu, "-");
    }
    report("first sync, event log, no hook", "s", &no_hook, "-");
    report("... agent CPU", "s", &no_hook_cpu, "-");
    report(
        "first sync, event log + a webhook on asset.added",
        "s",
        &with_hook,
        "-",
    );
    report(
        "... agent CPU (its deliveries during the run included)",
        "s",
        &with_hook_cpu,
        "-",
    );
    let ratio =
        |a: &[f64], b: &[f64]| -> Vec<f64> { a.iter().zip(b).map(|(x, y)| x / y).collect() };
    if !without_log.is_empty() {
        report(
            "ratio: with hook / without the log",
            "x",
            &ratio(&with_hook, &without_log),
            "<= 1.2",
        );
        report(
            "ratio: log, no hook / without the log",
            "x",
            &ratio(&no_hook, &without_log),
            "-",
        );
    }
    report(
        "ratio: with hook / log, no hook",
        "x",
        &ratio(&with_hook, &no_hook),
        "<= 1.2",
    );
    report(
        &format!("all {n} asset.added delivered, after the run's end"),
        "s",
        &delivered_after,
        "-",
    );
    report(
        "delivery throughput (first to last)",
        "events/s",
        &rate,
        "-",
    );
    report(
        "... agent CPU per delivered event, after the run",
        "us",
        &delivery_cpu,
        "-",
    );
    Ok(())
}
