//! Shared harness for end-to-end tests: an in-process vendor simulator, the real `assetd`
//! binary as a child process on a private config and socket, and `assetctl` runs.
//!
//! It is the `e2e` binary's module (`tests/e2e/main.rs`), which uses all of it; the
//! `python_interop` target borrows it too.

use assetd::sim::auvik::{AuvikSim, AuvikSimOptions};
use assetd::sim::passportal::{PassportalSim, PassportalSimOptions};
use assetd::sim::server::SimServer;
use assetd::sim::syncro::{SyncroSim, SyncroSimOptions};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const ASSETD: &str = env!("CARGO_BIN_EXE_assetd");
pub const ASSETCTL: &str = env!("CARGO_BIN_EXE_assetctl");

/// Sends `sig` (a `libc::SIG*` number) to the process `pid` a test started. A process
/// already gone is not an error: callers wait for the exit they expect and fail there.
pub fn send_signal(pid: u32, sig: i32) {
    let pid = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
        .expect("a child's pid");
    let sig = rustix::process::Signal::from_named_raw(sig).expect("a named signal");
    let _ = rustix::process::kill_process(pid, sig);
}

/// A child process a test started, killed and reaped when the test ends, even by a
/// failed assertion (a stopped process too: SIGKILL ends it).
pub struct Reap(pub std::process::Child);

impl std::ops::Deref for Reap {
    type Target = std::process::Child;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for Reap {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl Drop for Reap {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A private directory under /tmp (socket paths must stay short).
pub fn short_tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("ad")
        .tempdir_in("/tmp")
        .expect("tempdir")
}

pub fn write_private(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

/// A simulator serving on loopback from its own runtime, so tests can block freely.
pub struct Sim {
    pub sim: AuvikSim,
    pub server: assetd::sim::auvik::SimServer,
    /// Held, not used: the server runs on it until the `Sim` is dropped.
    _runtime: tokio::runtime::Runtime,
}

pub fn start_auvik(seed: u64, clients: usize, per_client: usize) -> Sim {
    serve_auvik(AuvikSimOptions {
        seed,
        clients,
        assets_per_client: per_client,
        ..AuvikSimOptions::default()
    })
}

/// An Auvik simulator made with `options` (e.g. a chosen API key), serving as `start_auvik`'s.
pub fn serve_auvik(options: AuvikSimOptions) -> Sim {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let sim = AuvikSim::new(options);
    let server = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        sim.start(listener).await.expect("start sim")
    });
    Sim {
        sim,
        server,
        _runtime: runtime,
    }
}

/// An agent process with its files.
pub struct Agent {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub socket: PathBuf,
    pub key_file: PathBuf,
    pub log: PathBuf,
    /// `RUST_LOG` for the agent process.
    pub log_filter: String,
    /// More environment for the agent process (e.g. `CREDENTIALS_DIRECTORY`).
    pub env: Vec<(String, String)>,
    child: Option<Child>,
}

impl Agent {
    /// Writes a config for one Auvik source against `sim` and starts the agent.
    pub fn start(sim: &Sim, extra_source_lines: &str) -> Agent {
        Agent::start_with(|agent| {
            write_private(&agent.key_file, &sim.sim.api_key());
            agent.auvik_config(sim, extra_source_lines)
        })
    }

    /// Starts an agent on the config `config` writes (given the agent's paths; the
    /// `[agent]` table is `agent_section()`).
    pub fn start_with(config: impl FnOnce(&Agent) -> String) -> Agent {
        let mut agent = Agent::configure(config);
        agent.spawn();
        agent
    }

    /// An agent's paths in a fresh directory, with no config written and no process yet:
    /// for tests that lay the files out themselves (e.g. a symlinked config), then `spawn`.
    pub fn unstarted() -> Agent {
        let dir = short_tempdir();
        Agent {
            config: dir.path().join("config.toml"),
            socket: dir.path().join("a.sock"),
            key_file: dir.path().join("auvik.key"),
            log: dir.path().join("agent.log"),
            log_filter: "info,assetd=debug".to_string(),
            env: Vec::new(),
            dir,
            child: None,
        }
    }

    /// Like `start_with`, but only writes the config: `spawn` starts the agent (or
    /// `run_until_exit(&agent.config, …)` watches it refuse to).
    pub fn configure(config: impl FnOnce(&Agent) -> String) -> Agent {
        let agent = Agent::unstarted();
        let text = config(&agent);
        agent.write_config(&text);
        agent
    }

    /// The `[agent]` table every test config starts with.
    pub fn agent_section(&self) -> String {
        format!(
            "[agent]\ndatabase = \"{}\"\nlisten = [\"unix://{}\"]\nsync_interval = \"1h\"\n\n",
            self.dir.path().join("a.db").display(),
            self.socket.display()
        )
    }

    pub fn auvik_config(&self, sim: &Sim, extra_source_lines: &str) -> String {
        format!(
            "{agent}[[source]]\nname = \"auvik\"\nkind = \"auvik\"\nregion = \"us1\"\nusername = \"{user}\"\n\
             api_key = {{ file = \"{key}\" }}\ndomain_prefix = \"{prefix}\"\nbase_url = \"{url}\"\n{extra_source_lines}\n",
            agent = self.agent_section(),
            user = sim.sim.username(),
            key = self.key_file.display(),
            prefix = sim.sim.domain_prefix(),
            url = sim.server.base_url,
        )
    }

    /// Replaces the config the way editors do: write a temporary file, rename it over.
    pub fn write_config(&self, text: &str) {
        let tmp = self.dir.path().join(".config.toml.tmp");
        write_private(&tmp, text);
        std::fs::rename(&tmp, &self.config).expect("rename");
    }

    pub fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log");
        let child = Command::new(ASSETD)
            .args(["run", "--config"])
            .arg(&self.config)
            .env("RUST_LOG", &self.log_filter)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn assetd");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if self.ctl(&["status"]).status.success() {
                return;
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("assetd exited early ({status}):\n{}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("assetd did not start serving:\n{}", self.log_text());
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).expect("running")
    }

    pub fn signal(&self, sig: i32) {
        send_signal(self.pid(), sig);
    }

    /// Stops the agent with SIGTERM and waits for it.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        send_signal(child.id(), libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(s)) = child.try_wait() {
                return s;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("assetd did not stop on SIGTERM:\n{}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the agent with SIGKILL (a crash: no cleanup runs) and reaps it.
    pub fn kill9(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        let _ = child.kill();
        child.wait().expect("reap assetd")
    }

    /// The database file of the default config (`agent_section`).
    pub fn db(&self) -> PathBuf {
        self.dir.path().join("a.db")
    }

    pub fn ctl(&self, args: &[&str]) -> Output {
        Command::new(ASSETCTL)
            .arg("--socket")
            .arg(&self.socket)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run assetctl")
    }

    /// `assetctl -o json ARGS`, parsed; panics with stderr on failure.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut full = vec!["-o", "json"];
        full.extend_from_slice(args);
        let out = self.ctl(&full);
        assert!(
            out.status.success(),
            "assetctl {args:?} failed: {}\n--- agent log ---\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.log_text()
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "assetctl {args:?} printed no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// `assetctl -o json ARGS` for a verb that prints one row per client (`counts`,
    /// `lifecycle`), by client name.
    pub fn rows_by_client(&self, args: &[&str]) -> std::collections::BTreeMap<String, Value> {
        self.json(args)
            .as_array()
            .expect("array")
            .iter()
            .map(|r| {
                (
                    r["client"].as_str().unwrap_or_default().to_string(),
                    r.clone(),
                )
            })
            .collect()
    }

    /// Triggers a sync of the Auvik source and waits for it; returns the finished run.
    pub fn sync(&self, full: bool) -> Value {
        self.sync_source("auvik", full)
    }

    /// Triggers a sync of `source` and waits for it; returns the finished run record.
    pub fn sync_source(&self, source: &str, full: bool) -> Value {
        let mut args = vec!["sync", source, "--wait"];
        if full {
            args.push("--full");
        }
        // The exit status depends on the run's state; the record tells.
        let out = self.ctl(&args);
        let run = self
            .json(&["runs", "--source", source])
            .as_array()
            .and_then(|r| r.first().cloned())
            .expect("a run record");
        assert_ne!(
            run["state"],
            "running",
            "`assetctl {args:?}` returned while its run still runs: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        run
    }

    /// Waits until `f` holds, polling, for up to a minute.
    pub fn wait_for(&self, what: &str, f: impl FnMut(&Agent) -> bool) {
        self.wait_up_to(Duration::from_secs(60), what, f)
    }

    pub fn wait_up_to(&self, limit: Duration, what: &str, mut f: impl FnMut(&Agent) -> bool) {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if f(self) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "timed out waiting for {what}\n--- agent log ---\n{}",
            self.log_text()
        );
    }

    /// `assetctl status`'s `config` object: `state`, `last_error`, `loaded_at`, `generation`.
    pub fn config_status(&self) -> Value {
        self.json(&["status"])["config"].clone()
    }

    /// How many changed configs the agent has loaded since it started (1 at start).
    pub fn generation(&self) -> i64 {
        self.config_status()["generation"]
            .as_i64()
            .expect("config.generation")
    }

    /// Waits until the agent has loaded a changed config `generation`; panics with the
    /// status if it skips past it (two reloads where one was expected).
    pub fn wait_for_generation(&self, generation: i64) {
        self.wait_for(&format!("config generation {generation}"), |a| {
            let g = a.generation();
            assert!(
                g <= generation,
                "config generation went past {generation} to {g}: {}",
                a.config_status()
            );
            g == generation
        });
    }

    /// Every asset, through `assets list` (including removed ones when asked).
    pub fn assets(&self, include_removed: bool) -> Vec<Value> {
        let mut args = vec!["assets", "list", "--limit", "1000000"];
        if include_removed {
            args.push("--include-removed");
        }
        self.json(&args).as_array().cloned().expect("array")
    }

    pub fn source_state(&self) -> String {
        self.state_of("auvik")
    }

    pub fn state_of(&self, source: &str) -> String {
        self.json(&["sources"])
            .as_array()
            .and_then(|s| s.iter().find(|s| s["name"] == source).cloned())
            .map(|s| s["state"].as_str().unwrap_or("").to_string())
            .unwrap_or_default()
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Runs `assetd run --config CONFIG` expecting it to exit by itself within `limit` (a
/// refused start); panics (after killing it) if it is still running then.
pub fn run_until_exit(config: &Path, limit: Duration) -> Output {
    let mut child = Command::new(ASSETD)
        .args(["run", "--config"])
        .arg(config)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn assetd");
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if child.try_wait().ok().flatten().is_some() {
            return child.wait_with_output().expect("collect output");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let out = child.wait_with_output().expect("collect output");
    panic!(
        "assetd was still running after {limit:?}; expected it to refuse to start:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `config` with `metrics_listen = "127.0.0.1:0"` added to its `[agent]` table (as written
/// by `agent_section`).
pub fn with_metrics(config: &str) -> String {
    assert!(config.contains("sync_interval = \"1h\"\n"), "{config}");
    config.replacen(
        "sync_interval = \"1h\"\n",
        "sync_interval = \"1h\"\nmetrics_listen = \"127.0.0.1:0\"\n",
        1,
    )
}

/// The port of the agent's metrics endpoint, from its start-up log line (the agent logs
/// the port the system chose for port 0, so tests need not race for a free one).
pub fn metrics_port(agent: &Agent) -> u16 {
    let log = agent.log_text();
    let line = log
        .lines()
        .find(|l| l.contains("assetd is serving"))
        .unwrap_or_else(|| panic!("no start-up line:\n{log}"));
    let at = line
        .find("metrics http://127.0.0.1:")
        .unwrap_or_else(|| panic!("no metrics endpoint in {line}"))
        + "metrics http://127.0.0.1:".len();
    let digits: String = line[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let port: u16 = digits.parse().expect("port");
    assert_ne!(port, 0, "the log shows the bound port, not 0");
    port
}

/// A plain HTTP/1.1 GET of `path` on 127.0.0.1:`port`: the status line, the headers
/// (lower-cased names) and the body.
pub fn http_get(port: u16, path: &str) -> (String, Vec<(String, String)>, String) {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    conn.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw).expect("read");
    let text = String::from_utf8(raw).expect("UTF-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("headers end");
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    (status, headers, body)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).expect("chunk size");
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        body = &rest[n + 2..];
    }
    out
}

/// The three vendors' simulators, empty (a test adds exactly the clients and records it
/// asserts on), each on a loopback port of its own, with the runtime that serves them.
pub struct ThreeSims {
    pub auvik: AuvikSim,
    pub syncro: SyncroSim,
    pub passportal: PassportalSim,
    pub auvik_url: String,
    pub syncro_url: String,
    pub passportal_url: String,
    _servers: Vec<SimServer>,
    _runtime: tokio::runtime::Runtime,
}

impl ThreeSims {
    /// The three `[[source]]` tables (`auvik`, `syncro`, `passportal`) for these simulators,
    /// each key written to a private file in `dir`; `syncro_lines` adds keys to Syncro's.
    pub fn sources(&self, dir: &Path, syncro_lines: &str) -> String {
        let key = |name: &str, secret: &str| {
            let path = dir.join(name);
            write_private(&path, secret);
            path.display().to_string()
        };
        format!(
            "[[source]]\nname = \"auvik\"\nkind = \"auvik\"\nregion = \"us1\"\nusername = \"{}\"\n\
             api_key = {{ file = \"{}\" }}\ndomain_prefix = \"{}\"\nbase_url = \"{}\"\n\n\
             [[source]]\nname = \"syncro\"\nkind = \"syncro\"\nsubdomain = \"{}\"\n\
             api_key = {{ file = \"{}\" }}\nbase_url = \"{}\"\n{syncro_lines}\n\
             [[source]]\nname = \"passportal\"\nkind = \"passportal\"\ndatacenter = \"us\"\n\
             access_key_id = \"{}\"\nsecret_access_key = {{ file = \"{}\" }}\nbase_url = \"{}\"\n\n",
            self.auvik.username(),
            key("auvik.key", &self.auvik.api_key()),
            self.auvik.domain_prefix(),
            self.auvik_url,
            self.syncro.subdomain(),
            key("syncro.key", &self.syncro.api_key()),
            self.syncro_url,
            self.passportal.access_key_id(),
            key("passportal.key", &self.passportal.secret_access_key()),
            self.passportal_url,
        )
    }
}

/// `ThreeSims` seeded `seed + 1`, `+ 2` and `+ 3`; Syncro admits `syncro_requests_per_minute`
/// (its real 180 when `None`).
pub fn start_three_sims(seed: u64, syncro_requests_per_minute: Option<u32>) -> ThreeSims {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let auvik = AuvikSim::new(AuvikSimOptions {
        seed: seed + 1,
        clients: 0,
        assets_per_client: 0,
        ..AuvikSimOptions::default()
    });
    let defaults = SyncroSimOptions::default();
    let syncro = SyncroSim::new(SyncroSimOptions {
        seed: seed + 2,
        clients: 0,
        assets_per_client: 0,
        requests_per_minute: syncro_requests_per_minute.unwrap_or(defaults.requests_per_minute),
        ..defaults
    });
    let passportal = PassportalSim::new(PassportalSimOptions {
        seed: seed + 3,
        clients: 0,
        assets_per_client: 0,
        ..PassportalSimOptions::default()
    });
    let servers = runtime.block_on(async {
        let bind = || async {
            tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind")
        };
        vec![
            auvik.start(bind().await).await.expect("auvik sim"),
            syncro.start(bind().await).await.expect("syncro sim"),
            passportal
                .start(bind().await)
                .await
                .expect("passportal sim"),
        ]
    });
    ThreeSims {
        auvik_url: servers[0].base_url.clone(),
        syncro_url: servers[1].base_url.clone(),
        passportal_url: servers[2].base_url.clone(),
        auvik,
        syncro,
        passportal,
        _servers: servers,
        _runtime: runtime,
    }
}
