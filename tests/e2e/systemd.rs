//! The agent under a (pretend) systemd: `Type=notify` readiness, STATUS= lines, the
//! watchdog, RELOADING=1 around a reload and STOPPING=1 on SIGTERM, read from the
//! datagram socket `$NOTIFY_SOCKET` names, as systemd reads them.

use crate::common;
use crate::common::{ASSETCTL, ASSETD, Agent, Sim, start_auvik};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The service manager's end: every message the agent sent, in order.
struct Manager {
    socket: UnixDatagram,
    seen: Vec<String>,
}

impl Manager {
    fn bind(path: &Path) -> Manager {
        let socket = UnixDatagram::bind(path).expect("bind the notify socket");
        Manager {
            socket,
            seen: Vec::new(),
        }
    }

    /// The next message, or `None` after `wait` without one.
    fn next(&mut self, wait: Duration) -> Option<String> {
        self.socket
            .set_read_timeout(Some(wait))
            .expect("read timeout");
        let mut buf = [0u8; 4096];
        let len = self.socket.recv(&mut buf).ok()?;
        let message = String::from_utf8_lossy(&buf[..len]).into_owned();
        self.seen.push(message.clone());
        Some(message)
    }

    /// The first message from index `from` on (already received or still to come, for up
    /// to `limit`) that satisfies `f`, with its index; panics with everything seen if none.
    fn find(
        &mut self,
        from: usize,
        what: &str,
        limit: Duration,
        f: impl Fn(&str) -> bool,
    ) -> (usize, String) {
        if let Some(i) = (from..self.seen.len()).find(|&i| f(&self.seen[i])) {
            return (i, self.seen[i].clone());
        }
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(m) = self.next(Duration::from_millis(200))
                && f(&m)
            {
                return (self.seen.len() - 1, m);
            }
        }
        panic!("no {what} within {limit:?}; got {:#?}", self.seen);
    }

    /// The next message (not yet received) that satisfies `f`.
    fn until(&mut self, what: &str, limit: Duration, f: impl Fn(&str) -> bool) -> String {
        let from = self.seen.len();
        self.find(from, what, limit, f).1
    }
}

fn has(message: &str, assignment: &str) -> bool {
    message.lines().any(|l| l == assignment)
}

fn status_of(message: &str) -> Option<&str> {
    message.lines().find_map(|l| l.strip_prefix("STATUS="))
}

/// An agent started the way systemd starts a `Type=notify` service with `WatchdogSec=1s`:
/// NOTIFY_SOCKET, WATCHDOG_USEC, and WATCHDOG_PID set to the service's own pid (a shell
/// exports its `$$` and execs the agent, which keeps that pid).
struct Service {
    agent: Agent,
    manager: Manager,
    child: Option<Child>,
}

impl Service {
    fn start(sim: &Sim) -> Service {
        let agent = Agent::configure(|a| {
            common::write_private(&a.key_file, &sim.sim.api_key());
            a.auvik_config(sim, "")
        });
        let notify: PathBuf = agent.dir.path().join("notify");
        let manager = Manager::bind(&notify);
        let log = std::fs::File::create(&agent.log).expect("log");
        let child = Command::new("sh")
            .arg("-c")
            .arg(r#"WATCHDOG_PID=$$; export WATCHDOG_PID; exec "$0" run --config "$1""#)
            .arg(ASSETD)
            .arg(&agent.config)
            .env("NOTIFY_SOCKET", &notify)
            .env("WATCHDOG_USEC", "1000000")
            .env("RUST_LOG", "info,assetd=debug")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn assetd");
        Service {
            agent,
            manager,
            child: Some(child),
        }
    }

    fn signal(&self, sig: i32) {
        let pid = self.child.as_ref().expect("running").id();
        common::send_signal(pid, sig);
    }

    /// Waits for the agent to exit (after SIGTERM) and returns its status.
    fn wait_exit(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the agent did not stop:\n{}",
                self.agent.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log(&self) -> String {
        self.agent.log_text()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn ready_status_watchdog_reload_and_stopping_reach_the_service_manager() {
    let sim = start_auvik(81, 2, 5);
    let mut service = Service::start(&sim);

    // READY=1 only once the socket exists and answers: checked the moment it arrives.
    let ready = service
        .manager
        .until("READY=1", Duration::from_secs(60), |m| has(m, "READY=1"));
    assert!(
        service.agent.socket.exists(),
        "READY=1 before the socket exists"
    );
    let status = Command::new(ASSETCTL)
        .arg("--socket")
        .arg(&service.agent.socket)
        .arg("status")
        .output()
        .expect("assetctl");
    assert!(
        status.status.success(),
        "READY=1 was sent but the agent does not answer: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    assert!(
        status_of(&ready).is_some_and(|s| s.starts_with("1 source:")),
        "READY=1 comes with the sources' state: {ready:?}"
    );
    let before_ready = &service.manager.seen[..service.manager.seen.len() - 1];
    assert!(
        before_ready.iter().all(|m| !has(m, "WATCHDOG=1")),
        "no watchdog ping before READY=1: {before_ready:#?}"
    );
    assert!(
        before_ready
            .iter()
            .all(|m| status_of(m).is_some_and(|s| s.starts_with("Starting"))),
        "only start-up progress before READY=1: {before_ready:#?}"
    );

    // The watchdog is fed (WATCHDOG_PID is the agent's own pid), and STATUS= follows the
    // first sync (a new source syncs at once) to its end.
    let ready_at = service.manager.seen.len() - 1;
    service
        .manager
        .find(ready_at, "WATCHDOG=1", Duration::from_secs(30), |m| {
            has(m, "WATCHDOG=1")
        });
    service.manager.find(
        ready_at,
        "a STATUS= with the synced source",
        Duration::from_secs(60),
        |m| status_of(m) == Some("1 source: 1 ok"),
    );

    // A reload: RELOADING=1 (with the monotonic time systemd 253+ matches), then READY=1.
    let seen_before_reload = service.manager.seen.len();
    service.signal(libc::SIGHUP);
    let reloading = service
        .manager
        .until("RELOADING=1", Duration::from_secs(30), |m| {
            has(m, "RELOADING=1")
        });
    assert!(
        reloading.lines().any(|l| l.starts_with("MONOTONIC_USEC=")),
        "{reloading:?}"
    );
    let done = service
        .manager
        .until("READY=1 after the reload", Duration::from_secs(30), |m| {
            has(m, "READY=1")
        });
    assert_eq!(status_of(&done), Some("1 source: 1 ok"), "{done:?}");
    assert!(
        service.manager.seen[seen_before_reload..]
            .iter()
            .all(|m| !has(m, "STOPPING=1")),
        "{:#?}",
        service.manager.seen
    );

    // SIGTERM: STOPPING=1, then a clean exit.
    service.signal(libc::SIGTERM);
    service
        .manager
        .until("STOPPING=1", Duration::from_secs(30), |m| {
            has(m, "STOPPING=1")
        });
    let exit = service.wait_exit();
    assert!(exit.success(), "{exit}\n{}", service.log());
    // Nothing after STOPPING=1 claims the agent is alive.
    let stopping_at = service
        .manager
        .seen
        .iter()
        .position(|m| has(m, "STOPPING=1"))
        .expect("STOPPING=1 seen");
    while service.manager.next(Duration::from_millis(300)).is_some() {}
    assert!(
        service.manager.seen[stopping_at + 1..]
            .iter()
            .all(|m| !has(m, "WATCHDOG=1") && !has(m, "READY=1")),
        "{:#?}",
        service.manager.seen
    );
}

/// A scheduler that cannot turn stops the pings. The agent's source loop is wedged from
/// outside, with no hook in the agent: the test holds SQLite's write lock on the agent's
/// database, so starting a run blocks in the store (for SQLite's busy timeout) and the
/// source cannot answer the watchdog's probe.
#[test]
fn a_wedged_scheduler_stops_the_watchdog_and_a_free_one_resumes_it() {
    let sim = start_auvik(82, 2, 5);
    let mut service = Service::start(&sim);
    service
        .manager
        .find(0, "the first sync", Duration::from_secs(60), |m| {
            status_of(m) == Some("1 source: 1 ok")
        });
    service
        .manager
        .find(0, "WATCHDOG=1", Duration::from_secs(30), |m| {
            has(m, "WATCHDOG=1")
        });

    let db = rusqlite::Connection::open(service.agent.db()).expect("open the agent's database");
    db.execute_batch("BEGIN EXCLUSIVE")
        .expect("take the write lock");

    // Trigger runs until the pings stop: each trigger wedges the source in `begin_run`
    // for SQLite's busy timeout, after which the run fails and the loop turns again, so
    // a slow start is retried rather than missed. Silence is two seconds without a ping,
    // four times the ping period.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut trigger: Option<Child> = None;
    let silent = loop {
        assert!(
            Instant::now() < deadline,
            "the watchdog kept being pinged while the scheduler was wedged:\n{}",
            service.log()
        );
        if trigger
            .as_mut()
            .is_none_or(|t| t.try_wait().ok().flatten().is_some())
        {
            trigger = Some(
                Command::new(ASSETCTL)
                    .arg("--socket")
                    .arg(&service.agent.socket)
                    .args(["sync", "auvik"])
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("assetctl sync"),
            );
        }
        let quiet_since = Instant::now();
        let mut pinged = false;
        while quiet_since.elapsed() < Duration::from_secs(2) {
            match service.manager.next(Duration::from_millis(200)) {
                Some(m) if has(&m, "WATCHDOG=1") => {
                    pinged = true;
                    break;
                }
                _ => {}
            }
        }
        if !pinged {
            break true;
        }
    };
    assert!(silent);

    drop(db); // releases the lock (the open transaction is rolled back)
    service.manager.until(
        "WATCHDOG=1 once the scheduler turns again",
        Duration::from_secs(60),
        |m| has(m, "WATCHDOG=1"),
    );
    let log = service.log();
    assert!(
        log.contains("Not pinging the service manager's watchdog"),
        "{log}"
    );
    assert!(log.contains("watchdog pings resumed"), "{log}");
    if let Some(mut t) = trigger {
        let _ = t.kill();
        let _ = t.wait();
    }
    service.signal(libc::SIGTERM);
    assert!(service.wait_exit().success(), "{}", service.log());
}
