//! Binding the listeners and serving the gRPC services, with health and reflection so
//! grpcurl and any grpcio client work without the .proto file.

use crate::config::Listen;
use crate::proto::{self as pb};
use crate::rpc::Api;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::net::UnixListener;
use tokio_stream::wrappers::UnixListenerStream;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(
        "another assetd is already serving on {0}; stop it first (or use another `agent.listen` path)"
    )]
    AlreadyRunning(PathBuf),
    #[error("cannot listen on {path}: {reason}")]
    Bind { path: PathBuf, reason: String },
    #[error("gRPC server: {0}")]
    Serve(String),
}

/// A bound Unix socket, removed again when dropped.
pub struct BoundSocket {
    pub path: PathBuf,
    listener: Option<UnixListener>,
}

impl Drop for BoundSocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Binds every configured listener. A socket file left by a crashed agent is replaced; one
/// that answers belongs to a live agent, and then this one refuses to start.
pub async fn bind(listen: &[Listen]) -> Result<Vec<BoundSocket>, ServerError> {
    let mut out = Vec::new();
    for l in listen {
        let Listen::Unix(path) = l;
        out.push(bind_unix(path).await?);
    }
    Ok(out)
}

async fn bind_unix(path: &Path) -> Result<BoundSocket, ServerError> {
    use std::os::unix::fs::PermissionsExt;
    let bind_err = |e: std::io::Error| ServerError::Bind {
        path: path.to_path_buf(),
        reason: match e.kind() {
            std::io::ErrorKind::PermissionDenied => {
                format!("{e}; run as a user that may write its directory")
            }
            _ => e.to_string(),
        },
    };
    let group = assetd_gid();
    if let Some(dir) = path.parent()
        && !dir.exists()
    {
        // A directory of our own, open to the socket's group only (under systemd,
        // RuntimeDirectory= makes it).
        std::fs::create_dir_all(dir).map_err(bind_err)?;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o750));
        if let Some(gid) = group {
            let _ = std::os::unix::fs::chown(dir, None, Some(gid));
        }
    }
    if path.exists() {
        if tokio::net::UnixStream::connect(path).await.is_ok() {
            return Err(ServerError::AlreadyRunning(path.to_path_buf()));
        }
        std::fs::remove_file(path).map_err(bind_err)?;
    }
    let listener = UnixListener::bind(path).map_err(bind_err)?;
    // Owner and group may connect; set before the socket is served or readiness told.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660)).map_err(bind_err)?;
    // The group is `assetd` where the system has one (the package creates it), so granting
    // access is `usermod -aG assetd`; elsewhere it stays the agent's own group.
    if let Some(gid) = group
        && let Err(e) = std::os::unix::fs::chown(path, None, Some(gid))
    {
        tracing::warn!(socket = %path.display(), error = %e,
            "Cannot give the socket to group `assetd`; it keeps the agent's group. Run the agent as a member of `assetd`.");
    }
    Ok(BoundSocket {
        path: path.to_path_buf(),
        listener: Some(listener),
    })
}

/// The gid of group `assetd`, if the system has one.
fn assetd_gid() -> Option<libc::gid_t> {
    let name = std::ffi::CString::new("assetd").ok()?;
    // SAFETY: `name` is NUL-terminated; getgrnam returns null or a pointer to static storage
    // that stays valid until the next getgr* call, and the gid is copied out at once. Nothing
    // else in the process calls getgr*, and binding happens once, at start-up.
    let entry = unsafe { libc::getgrnam(name.as_ptr()) };
    if entry.is_null() {
        None
    } else {
        // SAFETY: checked non-null just above.
        Some(unsafe { (*entry).gr_gid })
    }
}

/// Serves the API on every bound socket until `shutdown` resolves; health turns
/// NOT_SERVING first so load balancers and probes stop sending work.
pub async fn serve(
    api: Api,
    mut sockets: Vec<BoundSocket>,
    shutdown: tokio_util::sync::CancellationToken,
) -> Result<(), ServerError> {
    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_serving::<pb::asset_service_server::AssetServiceServer<Api>>()
        .await;
    health
        .set_serving::<pb::sync_service_server::SyncServiceServer<Api>>()
        .await;
    health
        .set_serving::<pb::agent_service_server::AgentServiceServer<Api>>()
        .await;
    let reflection = |b: tonic_reflection::server::Builder<'static>| {
        b.register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let reflection_v1 = reflection(tonic_reflection::server::Builder::configure())
        .build_v1()
        .map_err(|e| ServerError::Serve(e.to_string()))?;
    let reflection_v1alpha = reflection(tonic_reflection::server::Builder::configure())
        .build_v1alpha()
        .map_err(|e| ServerError::Serve(e.to_string()))?;
    // Requests larger than this are refused before they reach a handler.
    const MAX_MESSAGE: usize = 1 << 20;
    // Streams one connection may have open at once. tonic's default is *no* limit (it
    // overrides hyper's 200), so one client could open streams without end, each holding
    // a page of an export; past this, a client's further calls wait their turn on its own
    // connection (HTTP/2 queues them) and nobody else's.
    const MAX_STREAMS_PER_CONNECTION: u32 = 128;
    // A peer that stops answering HTTP/2 pings (its process frozen, its host gone) is
    // disconnected, which drops its streams and whatever they hold. A client that is alive
    // but does not read only stalls its own streams: flow control stops the agent after
    // one window, and the streams keep a bounded page each (see `rpc::export_assets`).
    const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30);
    const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);
    let router = tonic::transport::Server::builder()
        .max_concurrent_streams(MAX_STREAMS_PER_CONNECTION)
        .http2_keepalive_interval(Some(KEEPALIVE_INTERVAL))
        .http2_keepalive_timeout(Some(KEEPALIVE_TIMEOUT))
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(
            pb::asset_service_server::AssetServiceServer::new(api.clone())
                .max_decoding_message_size(MAX_MESSAGE),
        )
        .add_service(
            pb::sync_service_server::SyncServiceServer::new(api.clone())
                .max_decoding_message_size(MAX_MESSAGE),
        )
        .add_service(
            pb::agent_service_server::AgentServiceServer::new(api)
                .max_decoding_message_size(MAX_MESSAGE),
        );
    let mut servers = Vec::new();
    for socket in &mut sockets {
        let Some(listener) = socket.listener.take() else {
            continue;
        };
        let router = router.clone();
        let stop = shutdown.clone();
        let health = health.clone();
        servers.push(tokio::spawn(async move {
            router
                .serve_with_incoming_shutdown(UnixListenerStream::new(listener), async move {
                    stop.cancelled().await;
                    health
                        .set_not_serving::<pb::agent_service_server::AgentServiceServer<Api>>()
                        .await;
                })
                .await
        }));
    }
    let mut result = Ok(());
    for s in servers {
        match s.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => result = Err(ServerError::Serve(e.to_string())),
            Err(e) => result = Err(ServerError::Serve(e.to_string())),
        }
    }
    drop(sockets); // removes the socket files
    result
}
