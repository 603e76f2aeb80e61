//! Binding the listeners and serving the gRPC services, with health and reflection so
//! grpcurl and any grpcio client work without the .proto file.
//!
//! Unix sockets are guarded by their file permissions. TCP listeners (CONTRACT §6) serve the
//! same services behind `auth::RequireToken` (every request needs a bearer token, health and
//! reflection included) and, when the agent has `tls_cert`/`tls_key`, behind TLS. The TLS
//! accept is done here rather than by tonic's `ServerTlsConfig`, which is fixed when the
//! server starts: each connection takes the certificate, key and client CA of the config in
//! force, so a reload (e.g. after renewing the certificate) applies without closing the
//! listener, and a failed handshake is logged with the peer's address.

pub mod auth;
pub mod guard;
pub mod metrics;

use crate::api::proto::{self as pb};
use crate::api::rpc::Api;
use crate::config::{Config, Listen};
use crate::secret::{BearerToken, QueryGroup};
use auth::RequireToken;
use guard::{Admission, Backoff, Guarded, RefusalLog, Ticket};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(
        "another assetd is already serving on {0}; stop it first (or use another `agent.listen` path)"
    )]
    AlreadyRunning(PathBuf),
    #[error("cannot listen on {path}: {reason}")]
    Bind { path: PathBuf, reason: String },
    #[error(
        "cannot listen on {path}: it is {what}, not a socket; assetd replaces only a socket left behind by an agent that stopped, never another file. Point `agent.listen` at a path of its own (e.g. unix:///run/assetd/assetd.sock), or move that file away if nothing needs it"
    )]
    NotASocket { path: PathBuf, what: &'static str },
    #[error("cannot listen on tcp://{addr}: {reason}")]
    BindTcp { addr: SocketAddr, reason: String },
    #[error("cannot serve metrics on {addr} (`agent.metrics_listen`): {reason}")]
    BindMetrics { addr: SocketAddr, reason: String },
    #[error("gRPC server: {0}")]
    Serve(String),
}

/// The config in force: the agent's, replaced on every successful reload.
pub type CurrentConfig = Arc<dyn Fn() -> Arc<Config> + Send + Sync>;

/// A bound Unix socket, removed again when dropped (if the file at its path is still it).
pub struct BoundSocket {
    pub path: PathBuf,
    /// Its group, in words (who may use it).
    pub group: String,
    /// The socket file's device and inode, so that only our own socket is removed.
    node: (u64, u64),
    listener: Option<UnixListener>,
}

impl Drop for BoundSocket {
    fn drop(&mut self) {
        use std::os::unix::fs::MetadataExt;
        if let Ok(m) = std::fs::symlink_metadata(&self.path)
            && (m.dev(), m.ino()) == self.node
        {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A bound TCP listener.
pub struct BoundTcp {
    /// The address bound (with the port the system chose, for port 0).
    pub addr: SocketAddr,
    /// Decided at start by whether the config has TLS; a reload changes the certificate,
    /// never whether a listener speaks TLS.
    pub tls: bool,
    listener: Option<TcpListener>,
}

/// The bound metrics listener (`agent.metrics_listen`).
pub struct BoundMetrics {
    /// The address bound (with the port the system chose, for port 0).
    pub addr: SocketAddr,
    listener: Option<TcpListener>,
}

/// Every bound listener.
#[derive(Default)]
pub struct Listeners {
    pub unix: Vec<BoundSocket>,
    pub tcp: Vec<BoundTcp>,
    /// Set with `bind_metrics`.
    pub metrics: Option<BoundMetrics>,
}

impl Listeners {
    /// What each listener is, for the start-up log line (`tcp://` entries carry the bound
    /// port, which is how a port-0 listener's clients find it).
    pub fn describe(&self) -> Vec<String> {
        let unix = self
            .unix
            .iter()
            .map(|s| format!("unix://{}, for {}", s.path.display(), s.group));
        let tcp = self.tcp.iter().map(|t| {
            format!(
                "tcp://{} ({})",
                t.addr,
                if t.tls {
                    "TLS, bearer token"
                } else {
                    "plain text on loopback, bearer token"
                }
            )
        });
        let metrics = self
            .metrics
            .iter()
            .map(|m| format!("metrics http://{}/metrics", m.addr));
        unix.chain(tcp).chain(metrics).collect()
    }
}

/// Binds every configured listener. A socket file left by a crashed agent is replaced; one
/// that answers belongs to a live agent, and then this one refuses to start. `tls`: whether
/// the TCP listeners speak TLS (the config has `tls_cert` and `tls_key`); `group`: the Unix
/// sockets' group (`agent.socket_group`).
pub async fn bind(
    listen: &[Listen],
    tls: bool,
    group: &QueryGroup,
) -> Result<Listeners, ServerError> {
    let mut out = Listeners::default();
    for l in listen {
        match l {
            Listen::Unix(path) => out.unix.push(bind_unix(path, group).await?),
            Listen::Tcp(addr) => out.tcp.push(bind_tcp(*addr, tls)?),
        }
    }
    Ok(out)
}

fn bind_tcp(addr: SocketAddr, tls: bool) -> Result<BoundTcp, ServerError> {
    // Config validation refuses this; checked again here because serving plain text off
    // this machine must be impossible, not merely unconfigured.
    if !tls && !addr.ip().is_loopback() {
        return Err(ServerError::BindTcp {
            addr,
            reason: "a non-loopback listener needs tls_cert and tls_key".into(),
        });
    }
    let bind_err = |e: std::io::Error| ServerError::BindTcp {
        addr,
        reason: bind_reason(&e, 7443),
    };
    let (listener, addr) = bind_tcp_listener(addr).map_err(bind_err)?;
    Ok(BoundTcp {
        addr,
        tls,
        listener: Some(listener),
    })
}

/// Binds `agent.metrics_listen`, if set. Bound with the gRPC listeners, so an address in
/// use or not allowed stops the start with a message, instead of metrics silently missing.
pub fn bind_metrics(addr: Option<SocketAddr>) -> Result<Option<BoundMetrics>, ServerError> {
    let Some(addr) = addr else {
        return Ok(None);
    };
    let (listener, addr) = bind_tcp_listener(addr).map_err(|e| ServerError::BindMetrics {
        addr,
        reason: bind_reason(&e, 9187),
    })?;
    Ok(Some(BoundMetrics {
        addr,
        listener: Some(listener),
    }))
}

fn bind_tcp_listener(addr: SocketAddr) -> std::io::Result<(TcpListener, SocketAddr)> {
    let std_listener = std::net::TcpListener::bind(addr)?;
    std_listener.set_nonblocking(true)?;
    let listener = TcpListener::from_std(std_listener)?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}

/// Why a TCP bind failed, with what to do (`port`: a port to suggest).
fn bind_reason(e: &std::io::Error, port: u16) -> String {
    match e.kind() {
        std::io::ErrorKind::AddrInUse => format!(
            "{e}; another program (another assetd?) uses this port: stop it or pick another port"
        ),
        std::io::ErrorKind::PermissionDenied => {
            format!("{e}; ports below 1024 need CAP_NET_BIND_SERVICE: use a port such as {port}")
        }
        std::io::ErrorKind::AddrNotAvailable => {
            format!("{e}; this machine has no such address (0.0.0.0 listens on every interface)")
        }
        _ => e.to_string(),
    }
}

async fn bind_unix(path: &Path, group: &QueryGroup) -> Result<BoundSocket, ServerError> {
    let bind_err = |e: std::io::Error| ServerError::Bind {
        path: path.to_path_buf(),
        reason: match e.kind() {
            std::io::ErrorKind::PermissionDenied => {
                format!("{e}; run as a user that may write its directory")
            }
            _ => e.to_string(),
        },
    };
    if let Some(dir) = path.parent()
        && !dir.exists()
    {
        socket_directory(dir, group.gid).map_err(bind_err)?;
    }
    clear_stale_socket(path).await?;
    let (listener, node) = bind_socket_file(path, group.gid).map_err(bind_err)?;
    listener.set_nonblocking(true).map_err(bind_err)?;
    let listener = UnixListener::from_std(listener).map_err(bind_err)?;
    Ok(BoundSocket {
        path: path.to_path_buf(),
        group: group.label.clone(),
        node,
        listener: Some(listener),
    })
}

/// Creates the socket's directory (under systemd, RuntimeDirectory= makes it instead): 0750,
/// in the socket's group, so that group may reach the socket and others may not even list
/// it. Its mode and group are set through a descriptor opened without following a symlink.
fn socket_directory(dir: &Path, gid: u32) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o750)
        .create(dir)?;
    let handle = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW)
        .open(dir)?;
    if let Err(e) = std::os::unix::fs::fchown(&handle, None, Some(gid)) {
        tracing::warn!(directory = %dir.display(), error = %e,
            "Cannot give the socket's directory to the socket's group; it keeps the agent's group.");
    }
    // The umask may have taken group bits from mkdir's 0750.
    handle.set_permissions(std::fs::Permissions::from_mode(0o750))
}

/// Binds a listening socket at `path` that is never more open than 0660 to its own group,
/// whatever the process's umask, and never reached through a symlink. Returns it with its
/// file's device and inode.
///
/// The file is made by `bind`, with the socket's own mode less the umask. So the socket is
/// made first and `fchmod`ed before `bind`: 0660, or 0600 when its group still has to change
/// (until then the group is the agent's, who may not be meant to use it). Then the group is
/// set and the mode widened to exactly 0660 (a umask such as the unit's 0077 takes the group's
/// bits) on the file opened with `O_PATH | O_NOFOLLOW` and checked to be a socket of ours,
/// never through a path a symlink could redirect; and only then `listen`, so no client
/// connects before all of this holds (until `listen`, a connection is refused). Changing the
/// umask for the bind instead would change it for every thread of the agent (it is per
/// process), and binding under a temporary name then renaming would leave the socket known to
/// the kernel (`ss -x`, /proc/net/unix) by the temporary name.
fn bind_socket_file(
    path: &Path,
    gid: u32,
) -> std::io::Result<(std::os::unix::net::UnixListener, (u64, u64))> {
    use rustix::fs::{AtFlags, FileType, Mode, OFlags};
    use rustix::net::{AddressFamily, SocketAddrUnix, SocketFlags, SocketType};
    const MODE: u32 = 0o660;
    let socket = rustix::net::socket_with(
        AddressFamily::UNIX,
        SocketType::STREAM,
        SocketFlags::CLOEXEC,
        None,
    )?;
    let regroup = gid != rustix::process::getegid().as_raw();
    let first = if regroup { 0o600 } else { MODE };
    rustix::fs::fchmod(&socket, Mode::from_raw_mode(first))?;
    rustix::net::bind(&socket, &SocketAddrUnix::new(path)?)?;
    let made = (|| {
        let node = rustix::fs::open(
            path,
            OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let stat = rustix::fs::fstat(&node)?;
        // Only the agent's user can write the socket's directory in any sane setup, but a
        // file swapped in between the bind and the open is refused, not changed.
        if FileType::from_raw_mode(stat.st_mode) != FileType::Socket
            || stat.st_uid != rustix::process::geteuid().as_raw()
        {
            return Err(std::io::Error::other(
                "the socket file was replaced while it was being set up; is another program using this path?",
            ));
        }
        // The config made sure the group is ours to give (`config::group`). Under the
        // packaged unit it is the agent's own group (Group=), so no chown is needed, which
        // is as well: its system call filter refuses the chown family.
        if stat.st_gid != gid {
            rustix::fs::chownat(
                &node,
                "",
                None,
                Some(rustix::process::Gid::from_raw(gid)),
                AtFlags::EMPTY_PATH,
            )
            .map_err(|e| {
                std::io::Error::other(format!("cannot give the socket to gid {gid}: {e}"))
            })?;
        }
        if stat.st_mode & 0o7777 != MODE {
            // chmod has no descriptor form for an O_PATH handle; its /proc link names exactly
            // the file opened, and never a symlink (the process may always use its own fds,
            // dumpable or not).
            rustix::fs::chmod(
                format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&node)),
                Mode::from_raw_mode(MODE),
            )?;
        }
        rustix::net::listen(&socket, LISTEN_BACKLOG)?;
        Ok((stat.st_dev, stat.st_ino))
    })();
    match made {
        Ok(node) => Ok((std::os::unix::net::UnixListener::from(socket), node)),
        Err(e) => {
            // Our own socket file only (not one swapped in).
            use std::os::unix::fs::{FileTypeExt, MetadataExt};
            if std::fs::symlink_metadata(path).is_ok_and(|m| {
                m.file_type().is_socket() && m.uid() == rustix::process::geteuid().as_raw()
            }) {
                let _ = std::fs::remove_file(path);
            }
            Err(e)
        }
    }
}

/// Connections waiting to be accepted (the kernel caps it at net.core.somaxconn).
const LISTEN_BACKLOG: i32 = 1024;

/// Makes way for binding `path`: nothing there is fine; a socket that answers belongs to a
/// live agent (refused); a socket nobody listens on was left by an agent that stopped
/// without cleaning up (a crash, kill -9) and is removed. Anything else (a database, a
/// config, a directory, a symlink) is never removed: a mistyped `listen` path must not cost
/// the operator a file. The type is read without following a symlink.
async fn clear_stale_socket(path: &Path) -> Result<(), ServerError> {
    use std::os::unix::fs::FileTypeExt;
    let bind_err = |e: std::io::Error| ServerError::Bind {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let kind = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta.file_type(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(bind_err(e)),
    };
    if !kind.is_socket() {
        let what = if kind.is_symlink() {
            "a symbolic link"
        } else if kind.is_dir() {
            "a directory"
        } else if kind.is_file() {
            "a regular file"
        } else if kind.is_fifo() {
            "a FIFO"
        } else {
            "a device"
        };
        return Err(ServerError::NotASocket {
            path: path.to_path_buf(),
            what,
        });
    }
    match UnixStream::connect(path).await {
        Ok(_) => Err(ServerError::AlreadyRunning(path.to_path_buf())),
        // Nobody listens: the socket of an agent that is gone.
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            std::fs::remove_file(path).map_err(bind_err)
        }
        // E.g. permission denied: a socket that may well be alive, and is not ours to take.
        Err(e) => Err(ServerError::Bind {
            path: path.to_path_buf(),
            reason: format!(
                "a socket is already there and cannot be checked ({e}); remove it if no agent uses it"
            ),
        }),
    }
}

/// Serves the API on every bound listener until `shutdown` resolves; health turns
/// NOT_SERVING first so load balancers and probes stop sending work. `current` gives the
/// TLS settings and tokens in force for each new TCP connection and request.
pub async fn serve(
    api: Api,
    mut listeners: Listeners,
    current: CurrentConfig,
    shutdown: tokio_util::sync::CancellationToken,
) -> Result<(), ServerError> {
    let agent = api.agent().clone();
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
    health
        .set_serving::<pb::event_service_server::EventServiceServer<Api>>()
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
    // One set of routes, served bare on the Unix sockets and behind the token check on TCP.
    let mut routes = tonic::service::Routes::builder();
    routes
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
            pb::event_service_server::EventServiceServer::new(api.clone())
                .max_decoding_message_size(MAX_MESSAGE),
        )
        .add_service(
            pb::agent_service_server::AgentServiceServer::new(api)
                .max_decoding_message_size(MAX_MESSAGE),
        );
    let routes = routes.routes();
    let unix_router = server_builder().add_routes(routes.clone());
    let tokens: auth::TokenSource = {
        let current = current.clone();
        Arc::new(move || -> Arc<[BearerToken]> { current().agent.auth_tokens.clone() })
    };
    let tcp_router = server_builder()
        .layer(RequireToken::new(tokens))
        .add_routes(routes);
    // Metrics run beside the gRPC servers; they end with the same shutdown, and their
    // failure is logged without taking the API down.
    let metrics = listeners
        .metrics
        .as_mut()
        .and_then(|m| m.listener.take())
        .map(|l| tokio::spawn(metrics::serve(l, agent.clone(), shutdown.clone())));

    let mut servers = Vec::new();
    let stopped = |stop: tokio_util::sync::CancellationToken,
                   health: tonic_health::server::HealthReporter| async move {
        stop.cancelled().await;
        health
            .set_not_serving::<pb::agent_service_server::AgentServiceServer<Api>>()
            .await;
    };
    // The Unix sockets and the TCP listeners are admitted separately, so a flood on TCP
    // never takes the operators' socket's places (`guard`).
    let unix_admission = Admission::new(guard::UNIX_CAPS);
    for socket in &mut listeners.unix {
        let Some(listener) = socket.listener.take() else {
            continue;
        };
        let signal = stopped(shutdown.clone(), health.clone());
        let router = unix_router.clone();
        let incoming = unix_incoming(listener, unix_admission.clone());
        servers.push(tokio::spawn(async move {
            router.serve_with_incoming_shutdown(incoming, signal).await
        }));
    }
    let tcp_admission = Admission::new(guard::TCP_CAPS);
    for tcp in &mut listeners.tcp {
        let Some(listener) = tcp.listener.take() else {
            continue;
        };
        let signal = stopped(shutdown.clone(), health.clone());
        let router = tcp_router.clone();
        let admission = tcp_admission.clone();
        if tcp.tls {
            let incoming = tls_incoming(listener, admission, current.clone());
            servers.push(tokio::spawn(async move {
                router.serve_with_incoming_shutdown(incoming, signal).await
            }));
        } else {
            let incoming = accept_loop(listener, admission, |stream, _peer, ticket| async move {
                Some(Guarded::new(stream, ticket))
            });
            servers.push(tokio::spawn(async move {
                router.serve_with_incoming_shutdown(incoming, signal).await
            }));
        }
    }
    let mut result = Ok(());
    for s in servers {
        match s.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => result = Err(ServerError::Serve(e.to_string())),
            Err(e) => result = Err(ServerError::Serve(e.to_string())),
        }
    }
    if let Some(m) = metrics {
        // A scraper holding a request open does not hold up the stop for long.
        let _ = tokio::time::timeout(Duration::from_secs(2), m).await;
    }
    drop(listeners); // removes the socket files
    result
}

/// The server settings every listener shares.
fn server_builder() -> tonic::transport::Server {
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
    tonic::transport::Server::builder()
        .max_concurrent_streams(MAX_STREAMS_PER_CONNECTION)
        .http2_keepalive_interval(Some(KEEPALIVE_INTERVAL))
        .http2_keepalive_timeout(Some(KEEPALIVE_TIMEOUT))
}

/// Accepts TCP connections and prepares each in its own task (`prepare`: a TLS handshake, or
/// nothing), so one slow client never holds up the others. Each is admitted first
/// (`guard::Admission`: a cap in all and per peer address, pending handshakes included); one
/// past the caps is closed at once. Connections come out of the stream ready to serve;
/// accept errors (e.g. out of file descriptors) are logged and retried after a growing
/// pause, never handed to tonic, which would stop serving the listener on them. The loop
/// ends when the server drops the stream, which closes the listener.
fn accept_loop<IO, F, Fut>(
    listener: TcpListener,
    admission: Admission,
    prepare: F,
) -> ReceiverStream<Result<IO, std::io::Error>>
where
    IO: Send + 'static,
    F: Fn(TcpStream, SocketAddr, Ticket) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Option<IO>> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        let mut backoff = Backoff::new();
        let mut refusals = RefusalLog::new("TCP", guard::TCP_CAPS);
        loop {
            let accepted = tokio::select! {
                a = listener.accept() => a,
                _ = tx.closed() => break,
            };
            let (stream, peer) = match accepted {
                Ok(a) => {
                    backoff.reset();
                    a
                }
                Err(e) => {
                    let wait = backoff.failed();
                    tracing::warn!(error = %e, wait_ms = wait.as_millis() as u64, "Accepting a TCP connection failed; retrying after a pause.");
                    tokio::time::sleep(wait).await;
                    continue;
                }
            };
            let Some(ticket) = admission.admit(Some(peer.ip())) else {
                refusals.refused(Some(peer.ip()));
                drop(stream);
                continue;
            };
            // gRPC is many small frames; Nagle's delay would only add latency.
            let _ = stream.set_nodelay(true);
            let ready = prepare(stream, peer, ticket);
            let tx = tx.clone();
            tokio::spawn(async move {
                if let Some(io) = ready.await {
                    let _ = tx.send(Ok(io)).await;
                }
            });
        }
    });
    ReceiverStream::new(rx)
}

/// Connections on a Unix socket, admitted and guarded like TCP ones (with caps of their
/// own), with the same pause after failed accepts.
fn unix_incoming(
    listener: UnixListener,
    admission: Admission,
) -> ReceiverStream<Result<Guarded<UnixStream>, std::io::Error>> {
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        let mut backoff = Backoff::new();
        let mut refusals = RefusalLog::new("the Unix socket", guard::UNIX_CAPS);
        loop {
            let accepted = tokio::select! {
                a = listener.accept() => a,
                _ = tx.closed() => break,
            };
            let stream = match accepted {
                Ok((stream, _)) => {
                    backoff.reset();
                    stream
                }
                Err(e) => {
                    let wait = backoff.failed();
                    tracing::warn!(error = %e, wait_ms = wait.as_millis() as u64, "Accepting a Unix socket connection failed; retrying after a pause.");
                    tokio::time::sleep(wait).await;
                    continue;
                }
            };
            let Some(ticket) = admission.admit(None) else {
                refusals.refused(None);
                continue;
            };
            if tx.send(Ok(Guarded::new(stream, ticket))).await.is_err() {
                break;
            }
        }
    });
    ReceiverStream::new(rx)
}

/// TLS connections, each accepted with the TLS settings in force when it arrives.
fn tls_incoming(
    listener: TcpListener,
    admission: Admission,
    current: CurrentConfig,
) -> ReceiverStream<Result<Guarded<tokio_rustls::server::TlsStream<TcpStream>>, std::io::Error>> {
    accept_loop(listener, admission, move |stream, peer, ticket| {
        let tls = current().agent.tls.as_ref().map(|t| t.rustls_config());
        async move {
            let Some(tls) = tls else {
                // Reload keeps TLS settings while TLS listeners run (`Service::reload`), so
                // this is a bug; refusing the connection keeps it from becoming plain text.
                tracing::error!(%peer, "No TLS settings for a TLS listener; connection closed.");
                return None;
            };
            let accept = tokio_rustls::TlsAcceptor::from(tls).accept(stream);
            // A peer that connects and says nothing holds its place this long at most.
            match guard::within(guard::FIRST_BYTE_TIMEOUT, accept).await {
                Some(Ok(io)) => Some(Guarded::new(io, ticket)),
                Some(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    // Port scanners and TCP health checks connect and close at once.
                    tracing::debug!(%peer, "A TCP connection closed before its TLS handshake.");
                    None
                }
                Some(Err(e)) => {
                    tracing::warn!(%peer, error = %e, "Refused a connection: the TLS handshake failed{}.", handshake_hint(&e));
                    None
                }
                None => {
                    tracing::warn!(%peer, "Refused a connection: no TLS handshake within {:?}.", guard::FIRST_BYTE_TIMEOUT);
                    None
                }
            }
        }
    })
}

/// What a failed handshake most likely means, for the operator reading the log.
fn handshake_hint(e: &std::io::Error) -> &'static str {
    use rustls::{AlertDescription, CertificateError, Error};
    let Some(err) = e.get_ref().and_then(|i| i.downcast_ref::<Error>()) else {
        return "";
    };
    match err {
        Error::InvalidMessage(_) => {
            " (not a TLS client: a plain-text client must use https:// here)"
        }
        Error::NoCertificatesPresented => {
            " (the client sent no certificate; this listener requires one signed by tls_client_ca)"
        }
        Error::InvalidCertificate(CertificateError::UnknownIssuer)
        | Error::InvalidCertificate(CertificateError::BadSignature) => {
            " (the client's certificate is not signed by tls_client_ca)"
        }
        Error::InvalidCertificate(_) => " (the client's certificate is not valid)",
        Error::AlertReceived(AlertDescription::UnknownCA)
        | Error::AlertReceived(AlertDescription::BadCertificate)
        | Error::AlertReceived(AlertDescription::CertificateUnknown) => {
            " (the client does not trust tls_cert: give it the CA that signed it)"
        }
        Error::NoApplicationProtocol => " (the client does not speak HTTP/2, which gRPC needs)",
        _ => "",
    }
}
