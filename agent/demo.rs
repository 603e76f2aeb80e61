//! `assetd demo`: simulated Auvik, Syncro and Passportal on loopback with seeded data (the same clients,
//! some named a little differently, as in real MSP data) and a real agent against them on
//! the per-user socket, so `assetctl` works with no flags and no credentials.

use crate::config;
use crate::daemon::{self, DaemonError};
use crate::sim::auvik::{AuvikSim, AuvikSimOptions};
use crate::sim::passportal::{PassportalSim, PassportalSimOptions};
use crate::sim::syncro::{SyncroSim, SyncroSimOptions};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use tokio_util::sync::CancellationToken;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("demo: {0}")]
    Io(#[from] std::io::Error),
    /// The demo's directory is not the user's alone.
    #[error("demo: refusing {dir}: {why}; {fix}")]
    UnsafeDir {
        dir: PathBuf,
        why: String,
        fix: String,
    },
    #[error(transparent)]
    Daemon(#[from] DaemonError),
}

/// Writes a file only the user may read, never through a symlink.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    file.write_all(text.as_bytes())
}

/// Makes the demo's directory, or takes the one there only if it is the user's own: it may
/// be `/tmp/assetd-$UID`, which anyone can make first, to have the demo (and `assetctl`)
/// use their files, or, through a symlink, to have the demo change some other directory.
/// So: not a symlink (opened with `O_NOFOLLOW`), owned by the user, and writable by no one
/// else; it is then closed to group and others through that same descriptor.
fn private_dir(dir: &Path) -> Result<(), DemoError> {
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent)?;
    }
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e.into()),
    }
    let refuse = |why: String, fix: &str| DemoError::UnsafeDir {
        dir: dir.to_path_buf(),
        why,
        fix: fix.to_owned(),
    };
    let someone_elses = &format!(
        "someone else may have made it: have it removed (`sudo rm -r {}`), or set XDG_RUNTIME_DIR to a directory of your own",
        dir.display()
    );
    let handle = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW)
        .open(dir)
        .map_err(|e| match e.raw_os_error() {
            // With O_DIRECTORY, a symlink fails as "not a directory".
            Some(libc::ELOOP | libc::ENOTDIR) => {
                let link = std::fs::symlink_metadata(dir).is_ok_and(|m| m.is_symlink());
                let what = if link {
                    "it is a symbolic link"
                } else {
                    "it is not a directory"
                };
                refuse(what.into(), someone_elses)
            }
            _ => e.into(),
        })?;
    let meta = handle.metadata()?;
    let uid = rustix::process::getuid().as_raw();
    if meta.uid() != uid {
        return Err(refuse(
            format!("it belongs to uid {}, not to you (uid {uid})", meta.uid()),
            someone_elses,
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(refuse(
            format!(
                "group or others may write in it (mode {:o})",
                meta.mode() & 0o7777
            ),
            &format!(
                "remove it (`rm -r {}`) and start the demo again: what is in it may not be yours",
                dir.display()
            ),
        ));
    }
    handle.set_permissions(std::fs::Permissions::from_mode(0o700))?;
    Ok(())
}

pub async fn run(seed: u64, clients: usize, assets_per_client: usize) -> Result<(), DemoError> {
    let dir = config::per_user_runtime_dir();
    private_dir(&dir)?;
    let database = dir.join("demo.db");
    // Each demo starts from an empty database, so it always shows a first full sync.
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", database.display()));
    }

    let sim = AuvikSim::new(AuvikSimOptions {
        seed,
        clients,
        assets_per_client,
        ..AuvikSimOptions::default()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let server = sim.start(listener).await?;
    let syncro = SyncroSim::new(SyncroSimOptions {
        seed,
        clients,
        assets_per_client,
        ..SyncroSimOptions::default()
    });
    let syncro_server = syncro
        .start(tokio::net::TcpListener::bind("127.0.0.1:0").await?)
        .await?;
    let passportal = PassportalSim::new(PassportalSimOptions {
        seed,
        clients,
        assets_per_client,
        ..PassportalSimOptions::default()
    });
    let passportal_server = passportal
        .start(tokio::net::TcpListener::bind("127.0.0.1:0").await?)
        .await?;

    let key_file = dir.join("demo-auvik.key");
    write_private(&key_file, &sim.api_key())?;
    let syncro_key_file = dir.join("demo-syncro.key");
    write_private(&syncro_key_file, &syncro.api_key())?;
    let passportal_key_file = dir.join("demo-passportal.key");
    write_private(&passportal_key_file, &passportal.secret_access_key())?;
    let socket = config::per_user_socket();
    let config_path = dir.join("demo.toml");
    write_private(
        &config_path,
        &format!(
            "# Written by `assetd demo`: an agent against simulated Auvik, Syncro and Passportal.\n\
             [agent]\ndatabase = \"{db}\"\nlisten = [\"unix://{sock}\"]\nsync_interval = \"10m\"\n\n\
             [[source]]\nname = \"auvik\"\nkind = \"auvik\"\nusername = \"{user}\"\n\
             api_key = {{ file = \"{key}\" }}\ndomain_prefix = \"{prefix}\"\nbase_url = \"{url}\"\n\n\
             [[source]]\nname = \"syncro\"\nkind = \"syncro\"\nsubdomain = \"{sub}\"\n\
             api_key = {{ file = \"{skey}\" }}\nbase_url = \"{surl}\"\n\
             warranty_property = \"Warranty Expires\"\npurchase_property = \"Purchase Date\"\n\n\
             [[source]]\nname = \"passportal\"\nkind = \"passportal\"\ndatacenter = \"us\"\n\
             access_key_id = \"{pid}\"\nsecret_access_key = {{ file = \"{pkey}\" }}\nbase_url = \"{purl}\"\n",
            db = database.display(),
            sock = socket.display(),
            user = sim.username(),
            key = key_file.display(),
            prefix = sim.domain_prefix(),
            url = server.base_url,
            sub = syncro.subdomain(),
            skey = syncro_key_file.display(),
            surl = syncro_server.base_url,
            pid = passportal.access_key_id(),
            pkey = passportal_key_file.display(),
            purl = passportal_server.base_url,
        ),
    )?;

    let shutdown = CancellationToken::new();
    daemon::cancel_on_signals(shutdown.clone())?;
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let agent = {
        let shutdown = shutdown.clone();
        let config_path = config_path.clone();
        let observers = daemon::Observers {
            ready: Some(ready_tx),
            ..daemon::Observers::default()
        };
        tokio::spawn(async move { daemon::run(&config_path, shutdown, observers).await })
    };
    // A tenant the demo can switch off, to show a partial run (`/_sim/tenants/ID/state`).
    let tenant = sim
        .tenants()
        .into_iter()
        .find(|t| t.tenant_type == "client")
        .map(|t| t.id)
        .unwrap_or_default();
    if ready_rx.await.is_ok() {
        let via = if Path::new(config::DEFAULT_SOCKET).exists() {
            format!(" --socket {}", socket.display())
        } else {
            String::new()
        };
        println!(
            "assetd demo is running.\n\
             \n  simulated Auvik:  {url} ({clients} clients, {total} devices)\
             \n  simulated Syncro: {surl} ({clients} customers, {total} assets)\
             \n  simulated Passportal: {purl} ({clients} clients, {total} asset documents)\
             \n  agent socket:     {sock}\
             \n  config:           {cfg}\
             \n  database:         {db}\n\
             \nThe agent is syncing now. In another terminal, try:\n\
             \n  assetctl{via} status\
             \n  assetctl{via} sync --wait\
             \n  assetctl{via} clients\
             \n  assetctl{via} clients --unmapped\
             \n  assetctl{via} assets list --category firewall\
             \n  assetctl{via} assets list --query cisco -o json\
             \n  assetctl{via} lifecycle\
             \n  assetctl{via} assets list --warranty-expires-within 90d\
             \n  assetctl{via} runs\n\
             \nTo see a vendor misbehave, switch a simulator's fault on and sync again; here a tenant\
             \nthat Auvik reports disabled (the run is partial, its devices are kept as they were):\n\
             \n  curl -X PUT -H 'content-type: application/json' -d '{{\"enabled\":false}}' {url}/_sim/tenants/{tenant}/state\
             \n  assetctl{via} sync auvik --full --wait\n\
             \nEdit {cfg} and save: the agent reloads it. Ctrl-C stops everything.",
            url = server.base_url,
            surl = syncro_server.base_url,
            purl = passportal_server.base_url,
            total = clients * assets_per_client,
            sock = socket.display(),
            cfg = config_path.display(),
            db = database.display(),
        );
    }
    let result = agent
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    drop(server);
    drop(syncro_server);
    drop(passportal_server);
    result?;
    Ok(())
}
