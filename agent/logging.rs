//! Where the daemon's logs go, and in what shape.
//!
//! - On a terminal: human-readable lines on stderr (coloured when stderr is a terminal).
//! - Under systemd (stderr is the journal stream named by `$JOURNAL_STREAM`): the journal's
//!   native protocol (`tracing-journald`), so every tracing field is a journal field:
//!   `journalctl -u assetd SOURCE=auvik`, `RUN_ID=17`, `CLIENT=…`, with the right priority
//!   per level. Lines on stderr would reach the journal too, but as one MESSAGE string.
//! - `--log-format json`: one JSON object per line, for log shippers.
//! - Daemonized without `--log-file`: syslog (`/dev/log`), as init-script daemons do.
//!
//! Filters come from `RUST_LOG` (default `info`).

use std::io::Write;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// What `--log-format` (or `$ASSETD_LOG_FORMAT`) asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// The journal under systemd, syslog when daemonized without --log-file, else text.
    #[default]
    Auto,
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
    /// The systemd journal's native protocol (structured fields).
    Journal,
    /// Syslog at /dev/log (facility daemon).
    Syslog,
}

/// Where logs actually go, once the situation is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogTarget {
    Text {
        ansi: bool,
    },
    Json,
    Journal,
    Syslog(PathBuf),
    /// Nowhere: a daemon with neither a log file nor a syslog.
    Discard,
}

/// Where syslog listens.
pub const SYSLOG_SOCKET: &str = "/dev/log";

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("cannot write to the systemd journal: {0}")]
    Journal(std::io::Error),
    #[error("cannot write to syslog at {path}: {source}")]
    Syslog {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Decides the target. `to_file`: stderr is a `--log-file`; `daemonized`: stderr is
/// /dev/null unless `to_file`.
pub fn target(format: LogFormat, daemonized: bool, to_file: bool) -> LogTarget {
    let plain = LogTarget::Text {
        ansi: !to_file && !daemonized && stderr_is_terminal(),
    };
    match format {
        LogFormat::Text => plain,
        LogFormat::Json => LogTarget::Json,
        LogFormat::Journal => LogTarget::Journal,
        LogFormat::Syslog => LogTarget::Syslog(PathBuf::from(SYSLOG_SOCKET)),
        LogFormat::Auto if to_file => plain,
        LogFormat::Auto if daemonized => {
            if Path::new(SYSLOG_SOCKET).exists() {
                LogTarget::Syslog(PathBuf::from(SYSLOG_SOCKET))
            } else {
                LogTarget::Discard
            }
        }
        LogFormat::Auto if stderr_is_journal() => LogTarget::Journal,
        LogFormat::Auto => plain,
    }
}

fn stderr_is_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal()
}

/// Whether stderr is the journal stream systemd connected (`$JOURNAL_STREAM` is
/// `DEVICE:INODE` of it). The variable alone is not enough: a child that inherited it may
/// have had its stderr redirected elsewhere.
pub fn stderr_is_journal() -> bool {
    let Some(stream) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    let Ok(st) = rustix::fs::fstat(std::io::stderr()) else {
        return false;
    };
    // The field types differ across platforms.
    #[allow(clippy::unnecessary_cast)]
    let (dev, ino) = (st.st_dev as u64, st.st_ino as u64);
    journal_stream_matches(&stream.to_string_lossy(), dev, ino)
}

fn journal_stream_matches(value: &str, dev: u64, ino: u64) -> bool {
    let Some((d, i)) = value.trim().split_once(':') else {
        return false;
    };
    d.parse::<u64>().ok() == Some(dev) && i.parse::<u64>().ok() == Some(ino)
}

fn filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"))
}

/// Installs the global subscriber for `target`. On error nothing is installed; the caller
/// may fall back to another target.
pub fn init(target: &LogTarget) -> Result<(), LogError> {
    let registry = tracing_subscriber::registry().with(filter());
    match target {
        LogTarget::Text { ansi } => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(*ansi),
            )
            .init(),
        LogTarget::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(std::io::stderr),
            )
            .init(),
        LogTarget::Journal => {
            // No field prefix: fields keep their own names (SOURCE, RUN_ID, CLIENT), which
            // is what `journalctl FIELD=value` users type. None of assetd's field names is
            // one of the journal's own (PRIORITY, MESSAGE_ID, …).
            let layer = tracing_journald::layer()
                .map_err(LogError::Journal)?
                .with_field_prefix(None)
                .with_syslog_identifier("assetd".to_string());
            registry.with(layer).init()
        }
        LogTarget::Syslog(path) => {
            let writer = Syslog::connect(path).map_err(|source| LogError::Syslog {
                path: path.clone(),
                source,
            })?;
            registry
                .with(
                    tracing_subscriber::fmt::layer()
                        .with_writer(writer)
                        .with_ansi(false)
                        // syslog stamps its own time.
                        .without_time(),
                )
                .init()
        }
        LogTarget::Discard => {}
    }
    Ok(())
}

/// A `MakeWriter` that sends each formatted event as one syslog datagram (RFC 3164 as
/// /dev/log readers expect: `<PRI>assetd[PID]: message`, facility daemon).
pub struct Syslog {
    path: PathBuf,
    socket: std::sync::Mutex<UnixDatagram>,
    pid: u32,
}

impl Syslog {
    pub fn connect(path: &Path) -> std::io::Result<Syslog> {
        let socket = UnixDatagram::unbound()?;
        socket.connect(path)?;
        Ok(Syslog {
            path: path.to_path_buf(),
            socket: std::sync::Mutex::new(socket),
            pid: std::process::id(),
        })
    }

    fn send(&self, severity: u8, text: &[u8]) {
        const FACILITY_DAEMON: u8 = 3;
        let text = String::from_utf8_lossy(text);
        let message = format!(
            "<{}>assetd[{}]: {}",
            FACILITY_DAEMON * 8 + severity,
            self.pid,
            text.trim_end()
        );
        let mut socket = self.socket.lock().unwrap_or_else(|p| p.into_inner());
        if socket.send(message.as_bytes()).is_err() {
            // syslogd restarted: its socket is a new one. One reconnect, then give up on
            // this line rather than block logging.
            if let Ok(fresh) = UnixDatagram::unbound()
                && fresh.connect(&self.path).is_ok()
            {
                let _ = fresh.send(message.as_bytes());
                *socket = fresh;
            }
        }
    }
}

/// syslog severities: err, warning, info, debug.
fn severity(level: &tracing::Level) -> u8 {
    match *level {
        tracing::Level::ERROR => 3,
        tracing::Level::WARN => 4,
        tracing::Level::INFO => 6,
        _ => 7,
    }
}

/// One event's text, sent when the formatter is done with it.
pub struct SyslogLine<'a> {
    syslog: &'a Syslog,
    severity: u8,
    buf: Vec<u8>,
}

impl Write for SyslogLine<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for SyslogLine<'_> {
    fn drop(&mut self) {
        if !self.buf.is_empty() {
            self.syslog.send(self.severity, &self.buf);
        }
    }
}

impl<'a> MakeWriter<'a> for Syslog {
    type Writer = SyslogLine<'a>;
    fn make_writer(&'a self) -> Self::Writer {
        SyslogLine {
            syslog: self,
            severity: severity(&tracing::Level::INFO),
            buf: Vec::new(),
        }
    }
    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        SyslogLine {
            syslog: self,
            severity: severity(meta.level()),
            buf: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_stream_must_name_stderr() {
        assert!(journal_stream_matches("8:12345", 8, 12345));
        assert!(!journal_stream_matches("8:12345", 8, 12346));
        assert!(!journal_stream_matches("9:12345", 8, 12345));
        assert!(!journal_stream_matches("garbage", 8, 12345));
        assert!(!journal_stream_matches("", 8, 12345));
    }

    #[test]
    fn explicit_formats_win_and_auto_follows_the_situation() {
        assert_eq!(target(LogFormat::Json, true, false), LogTarget::Json);
        assert_eq!(target(LogFormat::Journal, false, false), LogTarget::Journal);
        assert_eq!(
            target(LogFormat::Auto, true, true),
            LogTarget::Text { ansi: false },
            "a daemon with a log file writes text to it"
        );
        assert_eq!(
            target(LogFormat::Text, false, true),
            LogTarget::Text { ansi: false },
            "no colour codes in a file"
        );
    }

    #[test]
    fn syslog_lines_carry_priority_and_pid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let rx = UnixDatagram::bind(&path).unwrap();
        let syslog = Syslog::connect(&path).unwrap();
        let meta_level = tracing::Level::WARN;
        {
            let mut line = SyslogLine {
                syslog: &syslog,
                severity: severity(&meta_level),
                buf: Vec::new(),
            };
            line.write_all(b" WARN assetd::sync: Sync failed.\n")
                .unwrap();
        }
        let mut buf = [0u8; 512];
        let len = rx.recv(&mut buf).unwrap();
        assert_eq!(
            std::str::from_utf8(&buf[..len]).unwrap(),
            format!(
                "<28>assetd[{}]:  WARN assetd::sync: Sync failed.",
                std::process::id()
            )
        );
    }
}
