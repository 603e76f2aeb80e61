//! The service manager's notification protocol (sd_notify(3)), written out rather than
//! linked: it is one datagram of `KEY=VALUE` lines to the socket named by `$NOTIFY_SOCKET`,
//! and libsystemd would be a C dependency for that.
//!
//! What the daemon tells systemd, and when, is decided in `supervise`; this module only
//! knows the wire protocol and the environment that switches it on.
//!
//! Why not the `sd-notify` crate (0.5.0, pure Rust; weighed for issue 20): it would replace
//! `send`, `monotonic_usec` and `watchdog_from_env`, while the messages and their one-line
//! STATUS= values stay ours either way; and what it would replace, it does differently. It
//! hands `$NOTIFY_SOCKET` straight to `connect`, so an abstract address (`@name`, which
//! systemd uses for user managers and in containers) is taken for a relative file name; it
//! reads the variable and opens a socket for every message (a watchdog ping every few
//! seconds), where this resolves the address once at start and reports a bad one once; its
//! `watchdog_enabled` takes `WATCHDOG_USEC=0` for a zero interval, where this, like
//! sd_watchdog_enabled(3), takes it for no watchdog; and it ends every assignment with a
//! newline, so the datagrams would change (the tests here pin their bytes).

use std::io;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(
        "NOTIFY_SOCKET={0:?} is neither an absolute path nor an abstract socket (@name); not notifying the service manager"
    )]
    UnsupportedAddress(String),
    #[error("NOTIFY_SOCKET={socket:?}: {source}")]
    Socket { socket: String, source: io::Error },
}

/// A channel to the service manager that started this process.
#[derive(Debug)]
pub struct Notifier {
    socket: UnixDatagram,
    addr: SocketAddr,
    /// For messages: the address as the environment gave it.
    name: String,
}

impl Notifier {
    /// The notifier `$NOTIFY_SOCKET` asks for, or `None` when the process was not started by
    /// a service manager that listens (foreground runs, `Type=simple`).
    pub fn from_env() -> Result<Option<Notifier>, NotifyError> {
        match std::env::var_os("NOTIFY_SOCKET") {
            None => Ok(None),
            Some(v) if v.is_empty() => Ok(None),
            Some(v) => Notifier::connect(&v.to_string_lossy()).map(Some),
        }
    }

    /// A notifier for the socket `name`: an absolute path, or `@name` for the abstract
    /// namespace (what systemd uses inside containers and user managers at times).
    pub fn connect(name: &str) -> Result<Notifier, NotifyError> {
        let fail = |source| NotifyError::Socket {
            socket: name.to_string(),
            source,
        };
        let addr = if let Some(abstract_name) = name.strip_prefix('@') {
            use std::os::linux::net::SocketAddrExt;
            SocketAddr::from_abstract_name(abstract_name.as_bytes()).map_err(fail)?
        } else if name.starts_with('/') {
            SocketAddr::from_pathname(name).map_err(fail)?
        } else {
            // `vsock:` addresses (VMs) and anything newer are not spoken here.
            return Err(NotifyError::UnsupportedAddress(name.to_string()));
        };
        let socket = UnixDatagram::unbound().map_err(fail)?;
        Ok(Notifier {
            socket,
            addr,
            name: name.to_string(),
        })
    }

    /// Sends one message: newline-separated `KEY=VALUE` assignments.
    pub fn send(&self, message: &str) -> io::Result<()> {
        self.socket
            .send_to_addr(message.as_bytes(), &self.addr)
            .map(|_| ())
    }

    /// Sends `message`, logging (not failing) when the manager cannot be reached: a daemon
    /// must keep serving even if its supervisor went away.
    pub fn tell(&self, message: &str) {
        if let Err(e) = self.send(message) {
            tracing::warn!(socket = %self.name, error = %e, "Cannot notify the service manager.");
        }
    }

    pub fn ready(&self, status: &str) {
        self.tell(&format!("READY=1\nSTATUS={}", status_value(status)));
    }

    pub fn status(&self, status: &str) {
        self.tell(&format!("STATUS={}", status_value(status)));
    }

    /// Reload started: `READY=1` ends it. MONOTONIC_USEC lets systemd (253+, Type=notify-reload)
    /// match this message to the reload it asked for; older versions ignore it.
    pub fn reloading(&self) {
        self.tell(&format!(
            "RELOADING=1\nMONOTONIC_USEC={}\nSTATUS=Reloading the config",
            monotonic_usec()
        ));
    }

    pub fn stopping(&self) {
        self.tell("STOPPING=1\nSTATUS=Stopping: cancelling runs in progress");
    }

    pub fn watchdog(&self) {
        self.tell("WATCHDOG=1");
    }
}

/// A STATUS= value is one line; a newline would start a new assignment.
fn status_value(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

fn monotonic_usec() -> u64 {
    // std's Instant hides its value; the service manager wants CLOCK_MONOTONIC itself.
    let ts = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    (ts.tv_sec as u64) * 1_000_000 + (ts.tv_nsec as u64) / 1_000
}

/// How often the service manager wants `WATCHDOG=1`, from `$WATCHDOG_USEC`; `None` when it
/// wants none, or when `$WATCHDOG_PID` names another process (the variables were inherited
/// from a parent they were meant for).
pub fn watchdog_from_env() -> Option<Duration> {
    watchdog_interval(
        std::env::var("WATCHDOG_USEC").ok().as_deref(),
        std::env::var("WATCHDOG_PID").ok().as_deref(),
        std::process::id(),
    )
}

fn watchdog_interval(usec: Option<&str>, pid: Option<&str>, me: u32) -> Option<Duration> {
    let usec: u64 = usec?.trim().parse().ok()?;
    if usec == 0 {
        return None;
    }
    if let Some(pid) = pid
        && pid.trim().parse::<u32>().ok() != Some(me)
    {
        return None;
    }
    Some(Duration::from_micros(usec))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watchdog_env_is_honoured_only_for_this_process() {
        let d = Duration::from_micros(30_000_000);
        assert_eq!(watchdog_interval(Some("30000000"), None, 7), Some(d));
        assert_eq!(watchdog_interval(Some("30000000"), Some("7"), 7), Some(d));
        assert_eq!(watchdog_interval(Some("30000000"), Some("8"), 7), None);
        assert_eq!(watchdog_interval(Some("30000000"), Some("x"), 7), None);
        assert_eq!(watchdog_interval(Some("0"), None, 7), None);
        assert_eq!(watchdog_interval(Some("soon"), None, 7), None);
        assert_eq!(watchdog_interval(None, Some("7"), 7), None);
    }

    #[test]
    fn messages_reach_path_and_abstract_sockets() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let rx = UnixDatagram::bind(&path).unwrap();
        let n = Notifier::connect(path.to_str().unwrap()).unwrap();
        n.ready("1 source: 1 ok\nsecond line");
        let mut buf = [0u8; 256];
        let len = rx.recv(&mut buf).unwrap();
        assert_eq!(
            std::str::from_utf8(&buf[..len]).unwrap(),
            "READY=1\nSTATUS=1 source: 1 ok second line"
        );

        use std::os::linux::net::SocketAddrExt;
        let name = format!("assetd-notify-test-{}", std::process::id());
        let rx = UnixDatagram::bind_addr(&SocketAddr::from_abstract_name(&name).unwrap()).unwrap();
        Notifier::connect(&format!("@{name}")).unwrap().watchdog();
        let len = rx.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"WATCHDOG=1");
    }

    #[test]
    fn relative_and_vsock_addresses_are_refused() {
        assert!(matches!(
            Notifier::connect("run/notify"),
            Err(NotifyError::UnsupportedAddress(_))
        ));
        assert!(matches!(
            Notifier::connect("vsock:2:1234"),
            Err(NotifyError::UnsupportedAddress(_))
        ));
    }
}
