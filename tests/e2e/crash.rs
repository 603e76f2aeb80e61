//! End-to-end crash safety and shutdown/restart (issue 6, parts 2 and 4): the real `assetd`
//! against the Auvik simulator, killed with SIGKILL at random points of a large sync, starved
//! of disk space, given a read-only database directory, stopped with SIGTERM mid-run, and
//! doubled up on one socket or database. Between the blows the database file is opened
//! directly (read-only) and checked: `PRAGMA integrity_check`, and that the assets it shows
//! are exactly the state before the run or exactly the state after it, never a mix.
//!
//! The kill loop is seeded: `ASSETD_CRASH_SEED=N` repeats a failing sequence (the seed and
//! the iteration are printed on failure), `ASSETD_CRASH_ITERATIONS=N` runs more kills.
//! The full-disk and read-only tests mount a tmpfs; where mounting is not permitted (not
//! root), they print why and pass without testing.

use crate::common;
use crate::common::{ASSETCTL, Agent, Sim, run_until_exit, start_auvik, write_private};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// external_id → name of every present (not removed) asset of the Auvik source.
type State = BTreeMap<String, String>;

// ---------------------------------------------------------------------------------------
// The simulator's generations: every run has a distinguishable "before" and "after".

/// The device's name without a generation marker.
fn base_name(name: &str) -> &str {
    name.strip_prefix("[g")
        .and_then(|rest| rest.split_once("] "))
        .map_or(name, |(_, base)| base)
}

/// The generation marker of an asset name (`[g7] core-sw` → 7).
fn marker(name: &str) -> Option<u32> {
    name.strip_prefix("[g")?.split_once(']')?.0.parse().ok()
}

/// What the simulator serves now, as the agent should store it.
fn truth(sim: &Sim) -> State {
    sim.sim
        .devices()
        .into_iter()
        .map(|d| (d.id, d.name.trim().to_string()))
        .collect()
}

/// Moves the simulator to generation `g`: `removed` random devices go, `added` new ones
/// arrive in random client tenants, and every device is renamed `[g<g>] <base name>`, so
/// each asset row says which generation it belongs to. Returns the new truth.
fn next_generation(
    sim: &Sim,
    g: u32,
    rng: &mut fastrand::Rng,
    removed: usize,
    added: usize,
) -> State {
    for _ in 0..removed {
        let devices = sim.sim.devices();
        if !devices.is_empty() {
            sim.sim
                .remove_device(&devices[rng.usize(..devices.len())].id);
        }
    }
    let clients: Vec<String> = sim
        .sim
        .tenants()
        .into_iter()
        .filter(|t| t.tenant_type == "client")
        .map(|t| t.id)
        .collect();
    for _ in 0..added {
        sim.sim.add_device(&clients[rng.usize(..clients.len())]);
    }
    for d in sim.sim.devices() {
        let name = format!("[g{g}] {}", base_name(&d.name));
        sim.sim.update_device(&d.id, |d| d.name = name);
    }
    truth(sim)
}

// ---------------------------------------------------------------------------------------
// Reading the database file directly (read-only: the agent's own recovery must do the rest).

fn open_ro(db: &Path) -> Connection {
    let c = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap_or_else(|e| panic!("open {} read-only: {e}", db.display()));
    c.busy_timeout(Duration::from_secs(10))
        .expect("busy_timeout");
    c
}

fn integrity(c: &Connection) -> String {
    let mut st = c
        .prepare("PRAGMA integrity_check")
        .expect("integrity_check");
    let rows: Vec<String> = st
        .query_map([], |r| r.get(0))
        .expect("integrity_check")
        .collect::<Result<_, _>>()
        .expect("integrity_check rows");
    rows.join("; ")
}

fn visible(c: &Connection) -> State {
    let mut st = c
        .prepare(
            "SELECT external_id, name FROM assets WHERE source = 'auvik' AND removed_at IS NULL",
        )
        .expect("prepare");
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("assets")
        .collect::<Result<_, _>>()
        .expect("asset rows")
}

fn count(c: &Connection, sql: &str) -> i64 {
    c.query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// A sync run as the database records it.
#[derive(Debug, Clone)]
struct RunRow {
    id: i64,
    state: String,
    trigger: String,
    kind: String,
    error: String,
}

fn run_row(r: &rusqlite::Row) -> rusqlite::Result<RunRow> {
    Ok(RunRow {
        id: r.get(0)?,
        state: r.get(1)?,
        trigger: r.get(2)?,
        kind: r.get(3)?,
        error: r.get(4)?,
    })
}

/// The newest run with an id above `after`.
fn newest_run(c: &Connection, after: i64) -> Option<RunRow> {
    c.query_row(
        "SELECT id, state, trigger, kind, error FROM sync_runs WHERE id > ?1 ORDER BY id DESC LIMIT 1",
        [after],
        run_row,
    )
    .optional()
    .expect("sync_runs")
}

fn run_by_id(c: &Connection, id: i64) -> RunRow {
    c.query_row(
        "SELECT id, state, trigger, kind, error FROM sync_runs WHERE id = ?1",
        [id],
        run_row,
    )
    .unwrap_or_else(|e| panic!("run {id}: {e}"))
}

fn max_run_id(c: &Connection) -> i64 {
    count(c, "SELECT COALESCE(MAX(id), 0) FROM sync_runs")
}

/// How a run is getting on, as the database shows it.
#[derive(Debug, Clone)]
struct Seen {
    run: Option<RunRow>,
    staged: i64,
}

impl Seen {
    fn finished(&self) -> bool {
        self.run.as_ref().is_some_and(|r| r.state != "running")
    }
}

/// Polls the database until `done` holds for the newest run above `after`.
fn wait_db(c: &Connection, after: i64, what: &str, mut done: impl FnMut(&Seen) -> bool) -> Seen {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let seen = Seen {
            run: newest_run(c, after),
            staged: count(c, "SELECT COUNT(*) FROM staged_assets"),
        };
        if done(&seen) {
            return seen;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {seen:?}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Says how `got` differs from `old` and `new`, for failure messages.
fn describe_mix(got: &State, old: &State, new: &State) -> String {
    let mut markers: BTreeMap<Option<u32>, usize> = BTreeMap::new();
    for name in got.values() {
        *markers.entry(marker(name)).or_default() += 1;
    }
    let not_old = got.iter().filter(|(k, v)| old.get(*k) != Some(v)).count();
    let not_new = got.iter().filter(|(k, v)| new.get(*k) != Some(v)).count();
    format!(
        "{} assets visible (old state {}, new state {}); by generation marker {markers:?}; \
         {not_old} rows differ from the old state, {not_new} from the new",
        got.len(),
        old.len(),
        new.len()
    )
}

/// Triggers a full sync and waits (at most a minute, unlike `sync --wait`) for that run to
/// end; returns its record.
fn sync_full(agent: &Agent) -> serde_json::Value {
    let triggered = agent.json(&["sync", "auvik", "--full"]);
    let id = triggered[0]["run_id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no run id: {triggered}"));
    let mut run = serde_json::Value::Null;
    agent.wait_for(&format!("run {id} to end"), |a| {
        run = a
            .json(&["runs", "--source", "auvik"])
            .as_array()
            .and_then(|runs| runs.iter().find(|r| r["id"] == id).cloned())
            .unwrap_or_default();
        !run.is_null() && run["state"] != "running"
    });
    run
}

fn log_tail(agent: &Agent, lines: usize) -> String {
    let log = agent.log_text();
    let all: Vec<&str> = log.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

// ---------------------------------------------------------------------------------------
// Kill -9 at random points of a large sync.

/// Where an iteration kills the agent.
#[derive(Debug, Clone, Copy)]
enum KillAt {
    /// Once this share of the inventory is staged (0: as soon as the run is triggered).
    Fetching(f64),
    /// This long after the whole inventory is staged: the billing figures are read and the
    /// final apply transaction runs.
    Applying(Duration),
    /// This long after the run is recorded finished.
    Finished(Duration),
}

/// Where the kill actually landed, read from the database afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Landed {
    /// Before the run was recorded.
    BeforeTheRun,
    /// While records were still being fetched and staged.
    Fetching,
    /// Everything staged, not yet committed: the billing figures or the final apply.
    Applying,
    /// After the run was committed.
    Finished,
}

/// Prints how to repeat the kill loop if it fails.
struct Repro {
    seed: u64,
    iteration: usize,
    kill: Option<KillAt>,
}

impl Drop for Repro {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "\nkill -9 loop FAILED at iteration {} (kill at {:?}); repeat with ASSETD_CRASH_SEED={}",
                self.iteration, self.kill, self.seed
            );
        }
    }
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

#[test]
fn kill_9_at_random_points_never_corrupts_or_half_applies_a_run() {
    let seed = env_number("ASSETD_CRASH_SEED").unwrap_or(0x5eed_a55e);
    let iterations = env_number("ASSETD_CRASH_ITERATIONS").unwrap_or(20).max(1) as usize;
    println!("kill -9 loop: seed {seed}, {iterations} iterations (ASSETD_CRASH_SEED to repeat)");
    let mut repro = Repro {
        seed,
        iteration: 0,
        kill: None,
    };
    let mut rng = fastrand::Rng::with_seed(seed);

    // 24 tenants × 100 devices: a full sync takes about a second in a debug build, long
    // enough to land kills in each phase.
    let sim = start_auvik(seed, 24, 100);
    let mut states: Vec<State> = vec![State::new(), next_generation(&sim, 1, &mut rng, 0, 0)];
    // The first iteration's run is the one a never-synced source starts by itself.
    let mut agent = Agent::start(&sim, "");
    let db = agent.db();
    let mut before_trigger = 0i64;
    // From the whole inventory staged to the run committed, as last measured.
    let mut apply_window = Duration::from_millis(400);
    let mut landed: BTreeMap<Landed, usize> = BTreeMap::new();

    for i in 0..iterations {
        let (old, new) = (&states[i], &states[i + 1]);
        let total = new.len() as i64;
        let kill = match i % 3 {
            0 if rng.u8(..5) == 0 => KillAt::Fetching(0.0),
            0 => KillAt::Fetching(0.02 + rng.f64() * 0.9),
            1 => KillAt::Applying(apply_window.mul_f64(rng.f64() * 1.2)),
            _ => KillAt::Finished(Duration::from_millis(rng.u64(..100))),
        };
        repro.iteration = i;
        repro.kill = Some(kill);
        let ctx = format!("seed {seed}, iteration {i}, kill at {kill:?}");

        // Let the run get to the chosen point, then kill -9.
        {
            let c = open_ro(&db);
            match kill {
                KillAt::Fetching(share) if share > 0.0 => {
                    wait_db(&c, before_trigger, "the run to stage records", |s| {
                        s.run.is_some() && (s.staged as f64 >= share * total as f64 || s.finished())
                    });
                }
                KillAt::Fetching(_) => {}
                KillAt::Applying(after) => {
                    wait_db(&c, before_trigger, "the whole inventory staged", |s| {
                        s.run.is_some() && (s.staged >= total || s.finished())
                    });
                    std::thread::sleep(after);
                }
                KillAt::Finished(after) => {
                    wait_db(&c, before_trigger, "the run to finish", Seen::finished);
                    std::thread::sleep(after);
                }
            }
        }
        agent.kill9();
        assert!(
            agent.socket.exists(),
            "{ctx}: a killed agent leaves its socket file behind (the stale socket the restart must handle)"
        );

        // The database as the crash left it.
        let killed_run = {
            let c = open_ro(&db);
            assert_eq!(integrity(&c), "ok", "{ctx}: integrity_check after kill -9");
            let got = visible(&c);
            let run = newest_run(&c, before_trigger);
            let is_old = &got == old;
            let is_new = &got == new;
            assert!(
                is_old || is_new,
                "{ctx}: after kill -9 the database shows neither the old nor the new state: {}",
                describe_mix(&got, old, new)
            );
            // The run's record agrees with the data: committed together or not at all.
            let state = run.as_ref().map(|r| r.state.as_str());
            if is_new {
                assert_eq!(
                    state,
                    Some("ok"),
                    "{ctx}: new data, so the run is recorded ok"
                );
            } else {
                assert!(
                    matches!(state, None | Some("running")),
                    "{ctx}: old data, so the run cannot be recorded finished: {run:?}"
                );
            }
            let where_ = match &run {
                None => Landed::BeforeTheRun,
                Some(r) if r.state != "running" => Landed::Finished,
                Some(_) if count(&c, "SELECT COUNT(*) FROM staged_assets") < total => {
                    Landed::Fetching
                }
                Some(_) => Landed::Applying,
            };
            *landed.entry(where_).or_default() += 1;
            run
        };

        // Restart: the stale socket does not block it, recovery marks the run interrupted
        // and the agent runs it again by itself, to the new state.
        agent.spawn();
        {
            let c = open_ro(&db);
            match &killed_run {
                Some(r) if r.state == "running" => {
                    let recovered = run_by_id(&c, r.id);
                    assert_eq!(recovered.state, "failed", "{ctx}: {recovered:?}");
                    assert!(
                        recovered.error.contains("interrupted"),
                        "{ctx}: the recovered run says it was interrupted: {recovered:?}"
                    );
                    let t = Instant::now();
                    let mut staged_at = None;
                    let seen = wait_db(&c, r.id, "the interrupted run to be run again", |s| {
                        if staged_at.is_none() && s.run.is_some() && s.staged >= total {
                            staged_at = Some(t.elapsed());
                        }
                        s.finished()
                    });
                    if let Some(staged_at) = staged_at {
                        apply_window = t.elapsed().saturating_sub(staged_at);
                    }
                    let rerun = seen.run.expect("a run");
                    assert_eq!(
                        (
                            rerun.state.as_str(),
                            rerun.kind.as_str(),
                            rerun.trigger.as_str()
                        ),
                        ("ok", "full", "schedule"),
                        "{ctx}: the interrupted run is run again at start: {rerun:?}\n{}",
                        log_tail(&agent, 30)
                    );
                }
                _ if &visible(&c) != new => {
                    // Killed before the triggered run was recorded: the trigger is lost
                    // with the process, as a request to a crashed server is.
                    let run = sync_full(&agent);
                    assert_eq!(run["state"], "ok", "{ctx}: {run}");
                }
                _ => {}
            }
            assert_eq!(
                count(&c, "SELECT COUNT(*) FROM sync_runs WHERE state = 'running'"),
                0,
                "{ctx}: no run is left running"
            );
            // An ended run's staging is dropped just after its end (the agent's after-run
            // task), or at the next run's start after a crash.
            let t = Instant::now();
            while count(&c, "SELECT COUNT(*) FROM staged_assets") != 0
                && t.elapsed() < Duration::from_secs(10)
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            assert_eq!(
                count(&c, "SELECT COUNT(*) FROM staged_assets"),
                0,
                "{ctx}: staging is empty between runs"
            );
            let got = visible(&c);
            assert!(
                &got == new,
                "{ctx}: after recovery the database holds the new state: {}",
                describe_mix(&got, old, new)
            );
            assert_eq!(integrity(&c), "ok", "{ctx}: integrity_check after recovery");
            before_trigger = max_run_id(&c);
        }

        // The next run: a new generation, triggered by hand.
        if i + 1 < iterations {
            let g = states.len() as u32;
            let (removed, added) = (rng.usize(..=20), rng.usize(..=20));
            states.push(next_generation(&sim, g, &mut rng, removed, added));
            let out = agent.ctl(&["sync", "auvik", "--full"]);
            assert!(
                out.status.success(),
                "{ctx}: trigger: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    // What the RPC API shows agrees with the file.
    let listed = agent.assets(false);
    assert_eq!(listed.len(), states[iterations].len());
    println!(
        "kill -9 loop: kills landed {landed:?}; the last run took {apply_window:?} from fetched to committed"
    );
    assert!(
        landed.get(&Landed::Fetching).copied().unwrap_or(0) > 0
            && landed.get(&Landed::Finished).copied().unwrap_or(0) > 0,
        "the loop killed during fetches and after commits: {landed:?}"
    );
    if iterations >= 6 {
        assert!(
            landed.get(&Landed::Applying).copied().unwrap_or(0) > 0,
            "the loop killed between the end of a fetch and its commit at least once: {landed:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Mounts for the full-disk and read-only tests.

/// A tmpfs mounted for a test's life; unmounted when dropped.
struct Tmpfs {
    path: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` at `path` (created), or says why it could not.
    fn mount(path: &Path, size: &str) -> Result<Tmpfs, String> {
        std::fs::create_dir_all(path).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(path)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Tmpfs {
            path: path.to_path_buf(),
        })
    }

    /// `mount -o remount,OPTS`: `ro` or `rw`.
    fn remount(&self, opts: &str) {
        let out = Command::new("mount")
            .args(["-o", &format!("remount,{opts}")])
            .arg(&self.path)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "remount {opts}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazy: detaches at once even if a file in it is still open.
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

fn skip(test: &str, why: &str) {
    println!("SKIPPED {test}: {why} (these tests need root to mount a tmpfs)");
    eprintln!("SKIPPED {test}: {why} (these tests need root to mount a tmpfs)");
}

/// An agent whose database lives at `db` instead of its own directory.
fn agent_with_db(sim: &Sim, db: &Path) -> Agent {
    Agent::configure(|a| {
        write_private(&a.key_file, &sim.sim.api_key());
        a.auvik_config(sim, "")
            .replace(&a.db().display().to_string(), &db.display().to_string())
    })
}

/// Writes `path` until the file system is full.
fn fill(path: &Path) -> u64 {
    use std::io::Write;
    let mut f = std::fs::File::create(path).expect("create filler");
    let chunk = vec![0xa5u8; 64 * 1024];
    let mut written = 0u64;
    loop {
        match f.write(&chunk) {
            Ok(0) => break,
            Ok(n) => written += n as u64,
            Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => break,
            Err(e) => panic!("filling {}: {e}", path.display()),
        }
    }
    // Smaller writes take the last partial block.
    loop {
        match f.write(&chunk[..512]) {
            Ok(n) if n > 0 => written += n as u64,
            _ => break,
        }
    }
    let _ = f.sync_all();
    written
}

/// The agent answers, shows `expected`, says why the source failed, and the file is
/// intact with no run left `running` (unless `end_may_be_unsaved`: a run whose end did not
/// fit on the disk is written when the next run begins).
fn assert_still_serving(agent: &Agent, db: &Path, expected: &State, end_may_be_unsaved: bool) {
    assert!(agent.ctl(&["status"]).status.success(), "status answers");
    assert_eq!(
        agent.state_of("auvik"),
        "failed",
        "the source shows the failure"
    );
    let detail = agent.json(&["sources"])[0]["state_detail"].to_string();
    assert!(
        detail.contains("disk is full") && detail.contains("free space"),
        "the source says why and what to do: {detail}"
    );
    assert_eq!(
        agent.assets(false).len(),
        expected.len(),
        "queries still work"
    );
    let c = open_ro(db);
    assert_eq!(integrity(&c), "ok");
    assert_eq!(&visible(&c), expected, "the previous state, untouched");
    if !end_may_be_unsaved {
        assert_eq!(
            count(&c, "SELECT COUNT(*) FROM sync_runs WHERE state = 'running'"),
            0,
            "no run is left running"
        );
    }
}

/// Asserts that a run failed because the disk is full, saying what to do.
fn assert_disk_full_run(run: &serde_json::Value) {
    assert_eq!(run["state"], "failed", "{run}");
    let error = run["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("disk is full") && error.contains("free space"),
        "the error says the disk is full and what to do: {run}"
    );
}

#[test]
fn a_full_disk_fails_the_run_clearly_and_keeps_the_previous_state() {
    use assetd::sim::faults::{Fault, FaultRule};
    let dir = common::short_tempdir();
    let fs = match Tmpfs::mount(&dir.path().join("m"), "40m") {
        Ok(fs) => fs,
        Err(why) => return skip("a_full_disk_fails_the_run_clearly…", &why),
    };
    let db = fs.path.join("a.db");
    let mut rng = fastrand::Rng::with_seed(31);
    let sim = start_auvik(31, 8, 100);
    let gen1 = next_generation(&sim, 1, &mut rng, 0, 0);
    let mut agent = agent_with_db(&sim, &db);
    agent.spawn();
    agent.wait_for("the first sync", |a| a.source_state() == "ok");
    assert_eq!(visible(&open_ro(&db)), gen1);
    let gen2 = next_generation(&sim, 2, &mut rng, 10, 1500);

    // Not a byte left. Either not even the run's record fits, and the trigger says why,
    // or the run is recorded and fails saying why.
    let filler = fs.path.join("filler");
    let filled = fill(&filler);
    let out = agent.ctl(&["-o", "json", "sync", "auvik", "--full"]);
    if out.status.success() {
        let triggered: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("sync prints JSON");
        let id = triggered[0]["run_id"].as_i64().expect("run id");
        let mut run = serde_json::Value::Null;
        agent.wait_for("the run to fail", |a| {
            run = a.json(&["runs"])[0].clone();
            run["id"] == id && run["state"] != "running"
        });
        assert_disk_full_run(&run);
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("disk is full") && stderr.contains("free space"),
            "a trigger that cannot even record its run says why and what to do: {out:?}"
        );
    }
    assert_still_serving(&agent, &db, &gen1, false);

    // Some space comes back, far too little for the run: it is recorded, fails, says why.
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&filler)
        .expect("open filler");
    f.set_len(filled.saturating_sub(1 << 20))
        .expect("shrink filler");
    drop(f);
    assert_disk_full_run(&sync_full(&agent));
    assert_still_serving(&agent, &db, &gen1, false);

    // A restart on a completely full disk still comes up and serves.
    fill(&fs.path.join("filler2"));
    assert!(agent.stop().success(), "{}", log_tail(&agent, 20));
    agent.spawn();
    assert_still_serving(&agent, &db, &gen1, false);

    // Space is freed, and runs out again once the run has fetched everything: during
    // the billing figures (held up two seconds by a 429) and the final apply. The run
    // commits whole or not at all.
    std::fs::remove_file(&filler).expect("remove filler");
    std::fs::remove_file(fs.path.join("filler2")).expect("remove filler");
    sim.sim.faults().push(
        FaultRule::times(
            Fault::Status429 {
                retry_after: Some(2),
            },
            1,
        )
        .on("/v1/billing/usage/client"),
    );
    let before = max_run_id(&open_ro(&db));
    assert!(agent.ctl(&["sync", "auvik", "--full"]).status.success());
    wait_db(&open_ro(&db), before, "the whole inventory staged", |s| {
        s.run.is_some() && (s.staged >= gen2.len() as i64 || s.finished())
    });
    fill(&filler);
    agent.wait_for("the run to end", |a| a.source_state() != "syncing");
    {
        let c = open_ro(&db);
        assert_eq!(integrity(&c), "ok");
        let got = visible(&c);
        let unsaved = count(&c, "SELECT COUNT(*) FROM sync_runs WHERE state = 'running'");
        println!(
            "full disk at the final apply: source {}, {unsaved} run end(s) left to write",
            agent.source_state()
        );
        if agent.source_state() == "ok" {
            assert_eq!(got, gen2, "the run fitted: the new state");
        } else {
            assert_eq!(got, gen1, "the run did not fit: the old state");
            assert_still_serving(&agent, &db, &gen1, true);
        }
    }

    // Space is freed: the next run succeeds with everything, and no run is left
    // `running` even if the one before could not write its own end.
    std::fs::remove_file(&filler).expect("remove filler");
    let run = sync_full(&agent);
    assert_eq!(run["state"], "ok", "{run}");
    let c = open_ro(&db);
    assert_eq!(integrity(&c), "ok");
    assert_eq!(visible(&c), gen2);
    assert_eq!(count(&c, "SELECT COUNT(*) FROM staged_assets"), 0);
    let mut st = c
        .prepare("SELECT state, error FROM sync_runs ORDER BY id")
        .expect("runs");
    let runs: Vec<(String, String)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("runs")
        .collect::<Result<_, _>>()
        .expect("runs");
    for (state, error) in &runs {
        assert!(
            state == "ok" || (state == "failed" && error.contains("disk is full")),
            "every run is ok or failed for the full disk, saying so: {runs:?}"
        );
    }
}

/// Every file in `dir` with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| {
            let e = e.expect("entry");
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("read"),
            )
        })
        .collect()
}

/// The line `assetd` ends with when it refuses to start.
fn refusal(out: &std::process::Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    stderr
        .lines()
        .rev()
        .find(|l| l.starts_with("assetd: "))
        .unwrap_or_else(|| panic!("no `assetd: …` line in stderr:\n{stderr}"))
        .to_string()
}

#[test]
fn a_read_only_database_directory_refuses_start_clearly_and_touches_nothing() {
    let dir = common::short_tempdir();
    let fs = match Tmpfs::mount(&dir.path().join("m"), "64m") {
        Ok(fs) => fs,
        Err(why) => return skip("a_read_only_database_directory…", &why),
    };
    let db = fs.path.join("a.db");
    let sim = start_auvik(41, 2, 20);
    let mut agent = agent_with_db(&sim, &db);

    // No database yet, on a read-only file system.
    fs.remount("ro");
    let out = run_until_exit(&agent.config, Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let line = refusal(&out);
    assert!(
        line.contains(&fs.path.display().to_string())
            && line.contains("read-only")
            && line.contains("writable"),
        "names the path, the cause and the fix: {line}"
    );
    assert!(snapshot(&fs.path).is_empty(), "nothing was created");
    assert!(!agent.socket.exists(), "no socket was left behind");

    // An existing database, its directory turned read-only while the agent was stopped:
    // assetd refuses to start rather than serve a copy it can never update.
    fs.remount("rw");
    agent.spawn();
    agent.wait_for("the first sync", |a| a.source_state() == "ok");
    let before = visible(&open_ro(&db));
    assert_eq!(before.len(), 40);
    assert!(agent.stop().success());
    let files = snapshot(&fs.path);
    fs.remount("ro");
    let out = run_until_exit(&agent.config, Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let line = refusal(&out);
    assert!(
        line.contains(&fs.path.display().to_string())
            && line.contains("read-only")
            && line.contains("writable"),
        "names the path, the cause and the fix: {line}"
    );
    assert_eq!(snapshot(&fs.path), files, "not a byte changed");
    assert!(!agent.socket.exists(), "no socket was left behind");

    // Writable again: the agent starts on the same data.
    fs.remount("rw");
    agent.spawn();
    let c = open_ro(&db);
    assert_eq!(integrity(&c), "ok");
    assert_eq!(visible(&c), before);
    assert_eq!(agent.assets(false).len(), 40);
}

// ---------------------------------------------------------------------------------------
// Shutdown and restart.

/// A child process killed if the test ends before it.
struct ChildGuard(Option<Child>);

impl ChildGuard {
    /// Waits up to `limit` for the child to exit; its output.
    fn wait(&mut self, limit: Duration) -> Option<std::process::Output> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            let child = self.0.as_mut()?;
            if child.try_wait().ok().flatten().is_some() {
                return self.0.take()?.wait_with_output().ok();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Stops the agent with SIGTERM; asserts a clean exit within 10 s and the socket removed.
fn stop_clean(agent: &mut Agent, ctx: &str) {
    let t = Instant::now();
    let status = agent.stop();
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "{ctx}: exits within 10 s of SIGTERM (took {:?})",
        t.elapsed()
    );
    assert!(
        status.success(),
        "{ctx}: clean exit: {status}\n{}",
        log_tail(agent, 20)
    );
    assert!(!agent.socket.exists(), "{ctx}: the socket file is removed");
}

#[test]
fn sigterm_during_a_large_sync_cancels_it_cleanly_even_with_a_watcher_attached() {
    let mut rng = fastrand::Rng::with_seed(51);
    let sim = start_auvik(51, 16, 100);
    let gen1 = next_generation(&sim, 1, &mut rng, 0, 0);
    let mut agent = Agent::start(&sim, "");
    agent.wait_for("the first sync", |a| a.source_state() == "ok");
    let db = agent.db();

    // Mid-fetch, with `assetctl sync --wait` following the run.
    let gen2 = next_generation(&sim, 2, &mut rng, 5, 5);
    let before = max_run_id(&open_ro(&db));
    let mut watcher = ChildGuard(Some(
        Command::new(ASSETCTL)
            .arg("--socket")
            .arg(&agent.socket)
            .args(["sync", "auvik", "--full", "--wait"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn assetctl"),
    ));
    let total = gen2.len() as i64;
    wait_db(
        &open_ro(&db),
        before,
        "a third of the inventory staged",
        |s| s.run.is_some() && (s.staged * 3 >= total || s.finished()),
    );
    stop_clean(&mut agent, "mid-fetch");
    let out = watcher
        .wait(Duration::from_secs(10))
        .expect("assetctl sync --wait ends when the agent stops");
    assert!(
        !out.status.success(),
        "a cancelled run is not a success for `sync --wait`: {out:?}"
    );
    {
        let c = open_ro(&db);
        assert_eq!(integrity(&c), "ok");
        let run = newest_run(&c, before).expect("the run");
        assert_eq!(run.state, "cancelled", "{run:?}");
        assert_eq!(visible(&c), gen1, "nothing of the cancelled run is visible");
        assert_eq!(count(&c, "SELECT COUNT(*) FROM staged_assets"), 0);
    }

    // A clean stop leaves nothing to recover, and the cancelled run stays as it was.
    let log_len = agent.log_text().len();
    agent.spawn();
    assert!(
        !agent.log_text()[log_len..].contains("interrupted"),
        "nothing to recover after a clean stop:\n{}",
        &agent.log_text()[log_len..]
    );
    let runs = agent.json(&["runs"]);
    assert_eq!(runs[0]["state"], "cancelled", "{runs}");

    // At the end of the fetch: the run is either cancelled or, if its final apply had
    // begun, completed; the data agrees with the record either way.
    let before = max_run_id(&open_ro(&db));
    let out = agent.ctl(&["sync", "auvik", "--full"]);
    assert!(out.status.success());
    wait_db(&open_ro(&db), before, "the whole inventory staged", |s| {
        s.run.is_some() && (s.staged >= total || s.finished())
    });
    stop_clean(&mut agent, "at the end of the fetch");
    let c = open_ro(&db);
    assert_eq!(integrity(&c), "ok");
    let run = newest_run(&c, before).expect("the run");
    let got = visible(&c);
    match run.state.as_str() {
        "cancelled" => assert_eq!(got, gen1, "cancelled: the old state"),
        "ok" => assert_eq!(got, gen2, "completed: the new state"),
        other => panic!("a run stopped by SIGTERM ends cancelled or ok, not {other}: {run:?}"),
    }
}

#[test]
fn a_stale_socket_left_by_kill_9_does_not_block_the_next_start() {
    let sim = start_auvik(61, 1, 5);
    let mut agent = Agent::start(&sim, "");
    agent.wait_for("the first sync", |a| a.source_state() == "ok");
    agent.kill9();
    assert!(agent.socket.exists(), "kill -9 leaves the socket file");
    let out = agent.ctl(&["status"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "nothing answers on the stale socket: {out:?}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("nothing is listening"),
        "{out:?}"
    );

    agent.spawn();
    assert_eq!(agent.json(&["status"])["sources"][0]["name"], "auvik");
    assert_eq!(agent.assets(false).len(), 5, "the data survived the kill");
}

#[test]
fn a_second_agent_on_the_same_database_refuses_to_start() {
    let sim = start_auvik(71, 1, 5);
    let first = Agent::start(&sim, "");
    first.wait_for("the first sync", |a| a.source_state() == "ok");

    let second = agent_with_db(&sim, &first.db());
    let out = run_until_exit(&second.config, Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let line = refusal(&out);
    assert!(
        line.contains(&first.db().display().to_string())
            && line.contains("in use by another assetd")
            && line.contains("stop it first"),
        "{line}"
    );
    assert!(!second.socket.exists(), "the refused agent bound nothing");
    assert!(
        first.ctl(&["status"]).status.success(),
        "the first agent is unaffected"
    );
    assert_eq!(first.assets(false).len(), 5);
}

#[test]
fn a_second_agent_on_the_same_socket_refuses_to_start() {
    let sim = start_auvik(81, 1, 5);
    let first = Agent::start(&sim, "");
    first.wait_for("the first sync", |a| a.source_state() == "ok");

    let second = Agent::configure(|a| {
        write_private(&a.key_file, &sim.sim.api_key());
        a.auvik_config(&sim, "").replace(
            &a.socket.display().to_string(),
            &first.socket.display().to_string(),
        )
    });
    let out = run_until_exit(&second.config, Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let line = refusal(&out);
    assert!(
        line.contains(&first.socket.display().to_string())
            && line.contains("another assetd is already serving")
            && line.contains("stop it first"),
        "{line}"
    );
    assert!(
        first.socket.exists(),
        "the refused agent left the first one's socket alone"
    );
    assert!(
        first.ctl(&["status"]).status.success(),
        "the first agent still answers"
    );
    assert_eq!(first.assets(false).len(), 5);
}
