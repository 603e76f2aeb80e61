//! `assetd`: the daemon, its config check, the demo and the vendor simulators.

use anyhow::Context;
use assetd::daemonize::{Pidfile, Role, Startup, StartupSender};
use assetd::logging::{LogFormat, LogTarget};
use assetd::supervise::ServiceManager;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// FILES, ENVIRONMENT and SIGNALS: in the man page as sections, in `--help` as text.
const SECTIONS: &[assetd::docs::Section] = &[
    assetd::docs::Section {
        title: "FILES",
        entries: &[
            (
                "/etc/assetd/config.toml",
                "the config; watched, and re-read on SIGHUP",
            ),
            ("/var/lib/assetd/assetd.db", "the database (0600)"),
            (
                "/run/assetd/assetd.sock",
                "the gRPC socket (0660, group assetd-query)",
            ),
            (
                "/usr/share/doc/assetd/config.example.toml",
                "a complete, commented config",
            ),
        ],
    },
    assetd::docs::Section {
        title: "ENVIRONMENT",
        entries: &[
            (
                "RUST_LOG",
                "log filter, default `info` (e.g. `info,assetd=debug`)",
            ),
            ("ASSETD_LOG_FORMAT", "as --log-format"),
            (
                "CREDENTIALS_DIRECTORY",
                "where `{ credential = NAME }` secrets are read (systemd LoadCredential=)",
            ),
            (
                "NOTIFY_SOCKET, WATCHDOG_USEC",
                "set by systemd for Type=notify and WatchdogSec=",
            ),
        ],
    },
    assetd::docs::Section {
        title: "SIGNALS",
        entries: &[
            ("SIGHUP", "re-read the config and every secret file"),
            (
                "SIGTERM, SIGINT",
                "stop cleanly: runs in progress are recorded as cancelled, the socket and pidfile removed",
            ),
        ],
    },
];

#[derive(Parser)]
#[command(
    name = "assetd",
    version,
    about = "On-prem asset agent for MSPs: syncs Auvik, SyncroMSP and N-able Passportal assets into SQLite and serves them over gRPC",
    after_long_help = assetd::docs::help_text(SECTIONS)
)]
struct Cli {
    /// How logs are written: `auto` is the systemd journal (structured fields) under
    /// systemd, syslog when daemonized without --log-file, else text.
    #[arg(
        long,
        global = true,
        value_enum,
        env = "ASSETD_LOG_FORMAT",
        ignore_case = true,
        default_value_t = LogFormat::Auto
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the agent (in the foreground unless told to daemonize; systemd runs it in the foreground).
    #[command(
        after_help = "Examples:\n  assetd run --config /etc/assetd/config.toml\n  assetd run --daemonize --pidfile /run/assetd/assetd.pid --log-file /var/log/assetd.log"
    )]
    Run {
        #[arg(long, default_value = assetd::config::DEFAULT_CONFIG_PATH)]
        config: PathBuf,
        /// Fork into the background once the agent serves (for systems without systemd).
        /// Exits 0 only when the daemon is serving; a start-up error is printed and exits 1.
        #[arg(long, requires = "pidfile")]
        daemonize: bool,
        /// Where to write the agent's pid. The file stays locked while the agent runs (a
        /// second agent on it refuses to start; one left by a crash is taken over) and is
        /// removed on a clean stop.
        #[arg(long, value_name = "PATH")]
        pidfile: Option<PathBuf>,
        /// Append the logs (and anything else written to stderr) to this file.
        #[arg(long, value_name = "PATH")]
        log_file: Option<PathBuf>,
    },
    /// Check a config file: exit 0 when valid, else print every error with line:column and exit 2.
    #[command(after_help = "Example:\n  assetd check-config /etc/assetd/config.toml")]
    CheckConfig { path: PathBuf },
    /// Run simulated vendors and an agent against them, with no credentials, until Ctrl-C.
    #[command(
        after_help = "Example:\n  assetd demo\n  # then, in another terminal:\n  assetctl assets list"
    )]
    Demo {
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long, default_value_t = 30)]
        clients: usize,
        #[arg(long, default_value_t = 100)]
        assets_per_client: usize,
    },
    /// Run one vendor simulator alone; prints one JSON line with its base_url and credentials.
    #[command(after_help = "Example:\n  assetd sim auvik --listen 127.0.0.1:8080 --clients 5")]
    Sim {
        /// auvik, syncro or passportal
        vendor: String,
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 10)]
        clients: usize,
        #[arg(long, default_value_t = 50)]
        assets_per_client: usize,
    },
}

/// How long `run --daemonize` waits for the daemon to say it serves (systemd's default
/// start timeout).
const STARTUP_LIMIT: Duration = Duration::from_secs(90);

fn main() -> ExitCode {
    assetd::heap::limit_arenas();
    let matches = assetd::docs::with_generate(Cli::command()).get_matches();
    if let Some(done) = assetd::docs::generate(&matches, Cli::command(), SECTIONS) {
        return finish(done.map_err(Into::into));
    }
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let format = cli.log_format;
    match cli.command {
        Command::CheckConfig { path } => {
            // It reads every secret too.
            if let Err(e) = forbid_dumps() {
                eprintln!("assetd: warning: {e}");
            }
            check_config(&path)
        }
        Command::Run {
            config,
            daemonize,
            pidfile,
            log_file,
        } => run_agent(format, config, daemonize, pidfile, log_file),
        Command::Demo {
            seed,
            clients,
            assets_per_client,
        } => {
            init_logging(&assetd::logging::target(format, false, false));
            finish(runtime().and_then(|rt| {
                rt.block_on(assetd::demo::run(seed, clients, assets_per_client))
                    .map_err(Into::into)
            }))
        }
        Command::Sim {
            vendor,
            listen,
            seed,
            clients,
            assets_per_client,
        } => {
            init_logging(&assetd::logging::target(format, false, false));
            finish(runtime().and_then(|rt| {
                rt.block_on(assetd::sim::run_standalone(
                    &vendor,
                    listen,
                    seed,
                    clients,
                    assets_per_client,
                ))
                .with_context(|| format!("simulator `{vendor}`"))
            }))
        }
    }
}

/// `assetd check-config PATH`: exit 0 when valid, else every error and exit 2.
fn check_config(path: &Path) -> ExitCode {
    match assetd::config::load(path) {
        Ok(c) => {
            println!(
                "{}: ok ({} source{})",
                path.display(),
                c.sources.len(),
                if c.sources.len() == 1 { "" } else { "s" }
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}

/// `assetd run`. Everything that can be refused on the user's terminal (the log file, a
/// held pidfile) is checked before forking, while there is still a terminal to print to;
/// after the fork the daemon reports its start through a pipe (`daemonize`).
fn run_agent(
    format: LogFormat,
    config: PathBuf,
    daemonize: bool,
    pidfile: Option<PathBuf>,
    log_file: Option<PathBuf>,
) -> ExitCode {
    let log = match log_file.as_deref().map(open_log).transpose() {
        Ok(f) => f,
        Err(e) => return finish(Err(e)),
    };
    let mut pidfile = match pidfile.as_deref().map(Pidfile::lock).transpose() {
        Ok(p) => p,
        Err(e) => return finish(Err(e.into())),
    };
    let target = assetd::logging::target(format, daemonize, log.is_some());
    let mut startup: Option<StartupSender> = None;
    // The daemon works from / (so it holds no directory busy): a relative config path is
    // resolved now, from where the user started it.
    let config = std::path::absolute(&config).unwrap_or(config);
    if daemonize {
        if target == LogTarget::Discard {
            eprintln!(
                "assetd: warning: no --log-file and no syslog at {}: the daemon's logs are discarded (start-up errors are still printed here)",
                assetd::logging::SYSLOG_SOCKET
            );
        }
        // Still one thread here: nothing before this point starts one, and fork keeps only
        // the calling thread.
        match assetd::daemonize::fork(log) {
            Ok(Role::Parent(report)) => {
                if let Some(p) = pidfile.take() {
                    p.leave_to_daemon();
                }
                return match report.wait(STARTUP_LIMIT) {
                    Startup::Serving => ExitCode::SUCCESS,
                    Startup::Failed(message) => {
                        eprintln!("assetd: {message}");
                        ExitCode::FAILURE
                    }
                    Startup::Vanished => {
                        eprintln!(
                            "assetd: the daemon exited during start-up without saying why; see its log"
                        );
                        ExitCode::FAILURE
                    }
                    Startup::StillStarting => {
                        eprintln!(
                            "assetd: the daemon has not reported serving after {}s; it keeps starting in the background (see its log)",
                            STARTUP_LIMIT.as_secs()
                        );
                        ExitCode::FAILURE
                    }
                };
            }
            Ok(Role::Daemon(sender)) => startup = Some(sender),
            Err(e) => return finish(Err(e.into())),
        }
    } else if let Some(file) = &log {
        redirect_stderr(file);
    }
    // From here on: the daemon, or the foreground agent.
    if let Some(p) = &mut pidfile
        && let Err(e) = p.write_pid(std::process::id())
    {
        return failed_start(startup, pidfile, e.into());
    }
    init_logging(&target);
    // Before the config (and so any secret) is read.
    if let Err(e) = forbid_dumps() {
        tracing::warn!("{e}");
    }
    // Under --daemonize the service manager (if any) is not waiting for this process.
    let service_manager = if daemonize {
        None
    } else {
        match ServiceManager::from_env() {
            Ok(m) => m.map(Arc::new),
            Err(e) => {
                tracing::warn!(error = %e, "Not notifying the service manager.");
                None
            }
        }
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => return failed_start(startup, pidfile, e),
    };
    let result = rt.block_on(serve(config, &mut startup, service_manager));
    // Failed before serving: the parent is still waiting to print why.
    let result = match result {
        Err(e) if startup.is_some() => return failed_start(startup, pidfile, e),
        r => r,
    };
    if daemonize && let Err(e) = &result {
        // The daemon's stderr is its log file or nothing: say it where the logs go too.
        tracing::error!(error = format!("{e:#}"), "assetd stopped on an error.");
    }
    // A clean stop (or a failure after start) removes the pidfile.
    drop(pidfile);
    finish(result)
}

/// A start that failed before serving: the pidfile is removed first (the parent exits as
/// soon as it hears, and must leave nothing behind), then the error is told to the waiting
/// parent, or printed.
fn failed_start(
    startup: Option<StartupSender>,
    pidfile: Option<Pidfile>,
    e: anyhow::Error,
) -> ExitCode {
    drop(pidfile);
    match startup {
        Some(s) => {
            s.failed(&format!("{e:#}"));
            ExitCode::FAILURE
        }
        None => finish(Err(e)),
    }
}

/// Opens `--log-file` for appending, never through a symlink: log files sit in shared
/// directories (/var/log, /tmp), and an agent started as root that followed a planted link
/// would create or append to its target.
fn open_log(path: &Path) -> anyhow::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o640)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                anyhow::anyhow!(
                    "the log file {} is a symbolic link, which assetd does not follow; give the real path",
                    path.display()
                )
            } else {
                anyhow::Error::new(e)
                    .context(format!("cannot open the log file {}", path.display()))
            }
        })
}

/// Points stderr at `file`, so panics and early messages land in the log file too.
fn redirect_stderr(file: &std::fs::File) {
    // As before, a failure is ignored: stderr then stays where it was, and the log file
    // still gets the log.
    let _ = rustix::stdio::dup2_stderr(file);
}

/// Serves until SIGTERM/SIGINT. `startup` (the daemon's pipe to its parent) is told once the
/// agent serves; it is left untouched if the start fails, for the caller to report.
async fn serve(
    config: PathBuf,
    startup: &mut Option<StartupSender>,
    service_manager: Option<Arc<ServiceManager>>,
) -> anyhow::Result<()> {
    let shutdown = CancellationToken::new();
    assetd::daemon::cancel_on_signals(shutdown.clone()).context("cannot handle signals")?;
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let observers = assetd::daemon::Observers {
        ready: Some(ready_tx),
        service_manager,
    };
    let announce = async {
        if ready_rx.await.is_ok()
            && let Some(s) = startup.take()
        {
            s.ready();
        }
    };
    let (_, result) = tokio::join!(announce, assetd::daemon::run(&config, shutdown, observers));
    result?;
    Ok(())
}

/// Makes this process non-dumpable (`prctl(PR_SET_DUMPABLE, 0)`): it leaves no core file, and
/// other processes of the same user can neither ptrace it nor read its memory through /proc,
/// so none of them can lift the credentials it holds (root still can). The packaged unit also
/// sets `LimitCORE=0`; this covers every other way of running the agent. A fork (daemonize)
/// inherits it, and it is set after the fork all the same.
fn forbid_dumps() -> anyhow::Result<()> {
    use rustix::process::{DumpableBehavior, set_dumpable_behavior};
    set_dumpable_behavior(DumpableBehavior::NotDumpable).context(
        "cannot make the process non-dumpable (prctl PR_SET_DUMPABLE): a core dump or a debugger of the same user could read its secrets",
    )
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn finish(r: anyhow::Result<()>) -> ExitCode {
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("assetd: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Installs the log subscriber for `target`; if the journal or syslog cannot be reached,
/// falls back to text on stderr (which systemd also collects) and says why.
fn init_logging(target: &LogTarget) {
    if let Err(e) = assetd::logging::init(target) {
        let fallback = LogTarget::Text { ansi: false };
        if assetd::logging::init(&fallback).is_ok() {
            tracing::warn!(error = %e, "Logging as text on stderr instead.");
        }
    }
}
