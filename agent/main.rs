//! `assetd`: the daemon, its config check, the demo and the vendor simulators.

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(
    name = "assetd",
    version,
    about = "On-prem asset agent for MSPs: syncs Auvik assets into SQLite and serves them over gRPC"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the agent (in the foreground unless told to daemonize; systemd runs it in the foreground).
    #[command(after_help = "Example:\n  assetd run --config /etc/assetd/config.toml")]
    Run {
        #[arg(long, default_value = assetd::config::DEFAULT_CONFIG_PATH)]
        config: PathBuf,
        /// Fork into the background (not under systemd).
        #[arg(long, requires = "pidfile")]
        daemonize: bool,
        /// With --daemonize: where to write the daemon's pid.
        #[arg(long)]
        pidfile: Option<PathBuf>,
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
        /// auvik
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::CheckConfig { path } => match assetd::config::load(&path) {
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
        },
        Command::Run {
            config,
            daemonize,
            pidfile,
        } => {
            if daemonize {
                // Fork before any thread exists: threads do not survive fork.
                let mut d = daemonix::Daemonize::new()
                    .working_directory("/")
                    .umask(0o027);
                if let Some(p) = &pidfile {
                    d = d.pid_file(p);
                }
                if let Err(e) = d.start() {
                    eprintln!(
                        "assetd: cannot daemonize: {e} (is another assetd holding the pidfile?)"
                    );
                    return ExitCode::FAILURE;
                }
            }
            init_logging();
            finish(runtime().and_then(|rt| rt.block_on(run(config))))
        }
        Command::Demo {
            seed,
            clients,
            assets_per_client,
        } => {
            init_logging();
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
            init_logging();
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

async fn run(config: PathBuf) -> anyhow::Result<()> {
    let shutdown = CancellationToken::new();
    assetd::daemon::cancel_on_signals(shutdown.clone())?;
    // Under systemd (Type=notify): READY=1, STATUS=, RELOADING=1, STOPPING=1, watchdog.
    let service_manager = match assetd::supervise::ServiceManager::from_env() {
        Ok(m) => m.map(std::sync::Arc::new),
        Err(e) => {
            tracing::warn!(error = %e, "Not notifying the service manager.");
            None
        }
    };
    let observers = assetd::daemon::Observers {
        ready: None,
        service_manager,
    };
    assetd::daemon::run(&config, shutdown, observers).await?;
    Ok(())
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

/// Logs to stderr: human-readable, or JSON lines with ASSETD_LOG_FORMAT=json; filtered by
/// RUST_LOG (default `info`).
fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("ASSETD_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        // SAFETY: isatty only inspects the descriptor.
        let tty = unsafe { libc::isatty(2) } == 1;
        builder.with_ansi(tty).init();
    }
}
