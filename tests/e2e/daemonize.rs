//! `assetd run --daemonize --pidfile PATH`, as an init script uses it: it returns once the
//! daemon serves, the pidfile names the live daemon and keeps a second one out, a stale
//! pidfile is taken over, start-up errors reach the terminal, and SIGTERM cleans up.

use crate::common;
use crate::common::{ASSETCTL, ASSETD, Agent, short_tempdir};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Whether `pid` is a running process (a zombie, which a container's init may leave
/// unreaped, counts as gone).
fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    }
}

fn read_pid(path: &Path) -> i32 {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("pidfile {}: {e}", path.display()))
        .trim()
        .parse()
        .expect("a pid")
}

/// A daemon the test started; killed on drop if a test fails half-way.
struct Daemon {
    pidfile: PathBuf,
    pid: i32,
    log: PathBuf,
}

impl Daemon {
    fn stop(&self) {
        common::send_signal(self.pid as u32, libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(30);
        while alive(self.pid) {
            assert!(
                Instant::now() < deadline,
                "the daemon did not stop on SIGTERM:\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if alive(self.pid) {
            common::send_signal(self.pid as u32, libc::SIGKILL);
        }
    }
}

fn daemonize(config: &Path, pidfile: &Path, log: &Path) -> Output {
    Command::new(ASSETD)
        .args(["run", "--daemonize", "--config"])
        .arg(config)
        .arg("--pidfile")
        .arg(pidfile)
        .arg("--log-file")
        .arg(log)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .output()
        .expect("run assetd --daemonize")
}

fn start(agent: &Agent) -> Daemon {
    let pidfile = agent.dir.path().join("run").join("assetd.pid");
    let out = daemonize(&agent.config, &pidfile, &agent.log);
    assert!(
        out.status.success(),
        "--daemonize failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        agent.log_text()
    );
    let pid = read_pid(&pidfile);
    Daemon {
        pidfile,
        pid,
        log: agent.log.clone(),
    }
}

fn no_sources(agent: &Agent) -> String {
    agent.agent_section()
}

/// The session id and controlling terminal of `pid`, from `/proc/<pid>/stat`
/// (fields 6 and 7; the command name in field 2 may hold spaces, so count from its `)`).
fn session_and_tty(pid: i32) -> (i64, i64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc stat");
    let after_name = &stat[stat.rfind(')').expect("a stat line") + 1..];
    let fields: Vec<i64> = after_name
        .split_whitespace()
        .skip(1)
        .take(5)
        .map(|f| f.parse().expect("a number"))
        .collect();
    // After the state: ppid, pgrp, session, tty_nr, tpgid.
    (fields[2], fields[3])
}

#[test]
fn the_daemon_serves_holds_its_pidfile_and_cleans_up() {
    let agent = Agent::configure(no_sources);
    let daemon = start(&agent);

    // Returned 0 means serving: the socket answers at once, from a detached process.
    assert!(alive(daemon.pid));
    assert_ne!(daemon.pid as u32, std::process::id());
    let status = Command::new(ASSETCTL)
        .arg("--socket")
        .arg(&agent.socket)
        .arg("status")
        .output()
        .expect("assetctl");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    // Read from /proc rather than getsid(2): in a container the test's own session
    // may lie outside its PID namespace and read as 0, which rustix's getsid treats
    // as impossible and panics on.
    let (theirs, their_tty) = session_and_tty(daemon.pid);
    let (ours, _) = session_and_tty(std::process::id() as i32);
    assert_ne!(
        theirs, ours,
        "the daemon left this terminal's session (setsid)"
    );
    assert_ne!(
        theirs, 0,
        "the daemon's session is its own, inside this namespace"
    );
    assert_eq!(their_tty, 0, "the daemon has no controlling terminal");
    let cwd = std::fs::read_link(format!("/proc/{}/cwd", daemon.pid)).expect("cwd");
    assert_eq!(cwd, Path::new("/"), "the daemon holds no directory busy");

    // A second daemon on the same pidfile is refused with one line and a non-zero exit,
    // and the first one's pidfile is untouched.
    let second = daemonize(&agent.config, &daemon.pidfile, &agent.log);
    assert_eq!(second.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(
        stderr.trim(),
        format!(
            "assetd: another assetd (pid {}) holds the pidfile {}; stop it first",
            daemon.pid,
            daemon.pidfile.display()
        )
    );
    assert_eq!(read_pid(&daemon.pidfile), daemon.pid);
    assert!(alive(daemon.pid));

    // SIGTERM: the daemon stops and removes its pidfile and socket.
    daemon.stop();
    assert!(!daemon.pidfile.exists(), "a clean stop removes the pidfile");
    assert!(!agent.socket.exists(), "a clean stop removes the socket");
    let log = agent.log_text();
    assert!(
        log.contains("assetd is serving.") && log.contains("Stopped."),
        "the daemon's logs go to --log-file:\n{log}"
    );
}

#[test]
fn a_stale_pidfile_is_taken_over() {
    let agent = Agent::configure(no_sources);
    // A pid that surely belongs to no process any more: a child that has exited.
    let mut gone = Command::new("true").spawn().expect("spawn true");
    let stale_pid = gone.id() as i32;
    gone.wait().expect("reap");
    let pidfile = agent.dir.path().join("run").join("assetd.pid");
    std::fs::create_dir_all(pidfile.parent().unwrap()).unwrap();
    std::fs::write(&pidfile, format!("{stale_pid}\n")).unwrap();

    let out = daemonize(&agent.config, &pidfile, &agent.log);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        agent.log_text()
    );
    let daemon = Daemon {
        pid: read_pid(&pidfile),
        pidfile: pidfile.clone(),
        log: agent.log.clone(),
    };
    assert_ne!(daemon.pid, stale_pid);
    assert!(alive(daemon.pid));
    let mode = {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(&pidfile).unwrap().permissions().mode() & 0o777
    };
    assert_eq!(mode, 0o644, "pidfiles are readable by every admin");
    daemon.stop();
    assert!(!pidfile.exists());
}

#[test]
fn a_start_up_error_reaches_the_terminal_and_leaves_nothing_behind() {
    let dir = short_tempdir();
    let config = dir.path().join("config.toml");
    common::write_private(&config, "[agent]\nsync_interval = \"soon\"\n");
    let pidfile = dir.path().join("assetd.pid");
    let log = dir.path().join("assetd.log");
    let out = daemonize(&config, &pidfile, &log);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("config.toml:2:") && stderr.contains("sync_interval"),
        "the daemon's own error, with line:column, is printed by the parent: {stderr}"
    );
    assert!(!pidfile.exists(), "a failed start leaves no pidfile");

    // A database another agent holds: the refusal, too, is the parent's to print.
    let agent = Agent::configure(no_sources);
    let first = start(&agent);
    let other_pidfile = dir.path().join("other.pid");
    let out = daemonize(&agent.config, &other_pidfile, &log);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("is in use by another assetd"), "{stderr}");
    assert!(!other_pidfile.exists());
    first.stop();
}

#[test]
fn a_relative_config_path_is_resolved_before_the_daemon_leaves_for_slash() {
    let agent = Agent::configure(no_sources);
    let pidfile = agent.dir.path().join("assetd.pid");
    let out = Command::new(ASSETD)
        .current_dir(agent.dir.path())
        .args([
            "run",
            "--daemonize",
            "--config",
            "config.toml",
            "--pidfile",
            "assetd.pid",
            "--log-file",
            "agent.log",
        ])
        .stdin(Stdio::null())
        .output()
        .expect("run assetd --daemonize");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        agent.log_text()
    );
    let daemon = Daemon {
        pid: read_pid(&pidfile),
        pidfile,
        log: agent.log.clone(),
    };
    daemon.stop();
}
