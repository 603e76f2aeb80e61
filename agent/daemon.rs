//! The daemon's lifetime: load the config, lock and open the database, bind the listeners,
//! start syncing, serve, reload on change, and stop cleanly. `assetd run` and `assetd demo`
//! both run exactly this.

use crate::api::rpc::Api;
use crate::config::{self, ConfigErrors};
use crate::server::{self, ServerError};
use crate::service::Service;
use crate::store::{Store, StoreError};
use crate::supervise::{self, ServiceManager};
use crate::watch;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    // Not `#[from]`: that would also make the errors the source, and reports that print
    // the cause chain would list every error twice.
    #[error("invalid config:\n{0}")]
    Config(ConfigErrors),
    #[error(
        "database {0} is in use by another assetd; stop it first (two agents must not share a database)"
    )]
    DatabaseLocked(PathBuf),
    #[error("cannot lock {path}: {reason}")]
    Lock { path: PathBuf, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Server(#[from] ServerError),
    #[error("cannot watch the config: {0}")]
    Watch(std::io::Error),
}

impl From<ConfigErrors> for DaemonError {
    fn from(e: ConfigErrors) -> Self {
        DaemonError::Config(e)
    }
}

/// An exclusive lock next to the database, held for the process's life, so a second agent
/// on the same database refuses to start instead of racing the first.
fn lock_database(db: &Path) -> Result<File, DaemonError> {
    let path = config::database_lock_path(db);
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        let _ = std::fs::create_dir_all(dir);
    }
    // 0600 from creation and never through a symlink (issue 21: the lock file stayed 0644).
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path)
        .and_then(|f| {
            f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
            Ok(f)
        })
        .map_err(|e| DaemonError::Lock {
            path: path.clone(),
            reason: lock_failure(&e, &path),
        })?;
    // Exclusive and non-blocking: `flock(LOCK_EX | LOCK_NB)` on Linux. Any failure, held by
    // another process or not, refuses the start.
    if file.try_lock().is_err() {
        return Err(DaemonError::DatabaseLocked(db.to_path_buf()));
    }
    Ok(file)
}

/// Why the lock file cannot be opened, and what to do. This is the first write at start, so
/// an unwritable database directory shows here, before anything is created or changed.
fn lock_failure(e: &std::io::Error, lock: &Path) -> String {
    let dir = lock
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let need = format!(
        "the database directory {} must be writable (assetd keeps the database, its WAL and this lock there)",
        dir.display()
    );
    if e.raw_os_error() == Some(libc::ELOOP) {
        return format!(
            "{e}: it is a symbolic link, which assetd does not follow; remove it (it holds nothing)"
        );
    }
    match e.kind() {
        std::io::ErrorKind::ReadOnlyFilesystem => format!(
            "{e}: the file system is read-only; {need}: remount it read-write or set agent.database to a writable path"
        ),
        std::io::ErrorKind::PermissionDenied => {
            format!("{e}; {need} by the user assetd runs as (the packaged unit uses user `assetd`)")
        }
        _ => e.to_string(),
    }
}

/// Who learns how the start went.
#[derive(Default)]
pub struct Observers {
    /// Told once the database is open, every listener is bound (with its permissions set)
    /// and served, and the sources are started; dropped unsent if the start fails.
    pub ready: Option<tokio::sync::oneshot::Sender<()>>,
    /// The service manager (systemd `Type=notify`): READY=1 at that same moment, STATUS=
    /// lines, RELOADING=1 around reloads, STOPPING=1, and watchdog pings (`supervise`).
    pub service_manager: Option<Arc<ServiceManager>>,
}

/// Runs the agent until `shutdown` is cancelled.
pub async fn run(
    config_path: &Path,
    shutdown: CancellationToken,
    observers: Observers,
) -> Result<(), DaemonError> {
    let Observers {
        ready,
        service_manager,
    } = observers;
    if let Some(m) = &service_manager {
        m.notifier
            .status(&format!("Starting: loading {}", config_path.display()));
    }
    let config = {
        let p = config_path.to_path_buf();
        tokio::task::spawn_blocking(move || config::load(&p))
            .await
            .map_err(|e| DaemonError::Watch(std::io::Error::other(e)))??
    };
    if rustix::process::geteuid().is_root() {
        tracing::warn!(
            "Running as root. The packaged unit runs assetd as user `assetd`; do the same."
        );
    }
    if let Some(m) = &service_manager {
        m.notifier.status(&format!(
            "Starting: opening {}",
            config.agent.database.display()
        ));
    }
    let _lock = lock_database(&config.agent.database)?;
    let store = {
        let db = config.agent.database.clone();
        tokio::task::spawn_blocking(move || Store::open(&db))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))??
    };
    let interrupted = match store.call(|s| s.recover()).await {
        Ok(sources) => sources,
        // Still serve what the database holds: queries work on a full disk, and each run
        // says why it fails until space is freed.
        Err(e) if e.is_disk_full() => {
            tracing::error!(error = %e, "Could not record the runs the last stop interrupted.");
            Vec::new()
        }
        Err(e) => return Err(e.into()),
    };
    if !interrupted.is_empty() {
        tracing::warn!(
            sources = ?interrupted,
            "Runs interrupted by the last stop were marked failed; they start over now."
        );
    }
    let mut listeners = server::bind(
        &config.agent.listen,
        config.agent.tls.is_some(),
        &config.agent.socket_group,
    )
    .await?;
    listeners.metrics = server::bind_metrics(config.agent.metrics_listen)?;
    let listening = listeners.describe();
    let agent = Service::start(config_path, config, store, interrupted).await?;
    let mut watcher =
        watch::start(config_path, Duration::from_millis(300)).map_err(DaemonError::Watch)?;
    let reloader = {
        let agent = agent.clone();
        let manager = service_manager.clone();
        tokio::spawn(async move {
            while let Some(cause) = watcher.rx.recv().await {
                tracing::info!(?cause, "Reloading the config.");
                // `systemctl reload` waits for READY=1 after RELOADING=1; a refused config
                // is a finished reload too (the old config runs, STATUS says why).
                if let Some(m) = &manager {
                    m.notifier.reloading();
                }
                let _ = agent.reload().await;
                if let Some(m) = &manager {
                    m.notifier.ready(&supervise::status_line(&agent).await);
                }
            }
        })
    };
    let current: server::CurrentConfig = {
        let agent = agent.clone();
        std::sync::Arc::new(move || agent.config())
    };
    // Serving before anyone is told we are ready: the listeners are bound, so a client
    // that connects at once waits in the backlog for at most this spawn.
    let server = tokio::spawn(server::serve(
        Api::new(agent.clone()),
        listeners,
        current,
        shutdown.clone(),
    ));
    tracing::info!(version = env!("CARGO_PKG_VERSION"), listen = ?listening, "assetd is serving.");
    if let Some(ready) = ready {
        let _ = ready.send(());
    }
    if let Some(m) = &service_manager {
        let status = supervise::status_line(&agent).await;
        m.notifier.ready(&status);
        supervise::spawn(m.clone(), agent.clone(), shutdown.clone(), status);
    }
    shutdown.cancelled().await;
    if let Some(m) = &service_manager {
        m.notifier.stopping();
    }
    tracing::info!("Stopping: cancelling runs in progress.");
    agent.stop_sources(Duration::from_secs(10)).await;
    reloader.abort();
    match tokio::time::timeout(Duration::from_secs(5), server).await {
        Ok(Ok(r)) => r?,
        Ok(Err(e)) => tracing::error!(error = %e, "The server task failed."),
        Err(_) => tracing::warn!("Open RPC streams did not close in time; stopping anyway."),
    }
    agent.checkpoint().await;
    tracing::info!("Stopped.");
    Ok(())
}

/// Cancels `token` on SIGTERM or SIGINT.
pub fn cancel_on_signals(token: CancellationToken) -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        token.cancel();
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_lock_is_private_and_never_a_symlink() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("a.db");
        let lock = lock_database(&db).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let path = dir.path().join("a.db.lock");
        assert_eq!(mode(&path), 0o600);
        // A second agent on the same database is refused while the first holds it.
        assert!(matches!(
            lock_database(&db),
            Err(DaemonError::DatabaseLocked(_))
        ));
        drop(lock);
        // One left 0644 by an older version is tightened.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        drop(lock_database(&db).unwrap());
        assert_eq!(mode(&path), 0o600);
        // A symlink planted at the lock's path is not followed.
        let other = dir.path().join("b.db");
        let target = dir.path().join("planted");
        std::os::unix::fs::symlink(&target, dir.path().join("b.db.lock")).unwrap();
        assert!(lock_database(&other).is_err());
        assert!(!target.exists());
    }
}
