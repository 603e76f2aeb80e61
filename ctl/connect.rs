//! Finding the agent and opening a gRPC channel to it.
//!
//! Without `--socket`/`--endpoint`: `$ASSETD_ENDPOINT`, then `$ASSETD_SOCKET`, then
//! `/run/assetd/assetd.sock` if it exists, then the per-user socket of `assetd demo`:
//! `$XDG_RUNTIME_DIR/assetd/assetd.sock`, or `/tmp/assetd-$UID/assetd.sock` without
//! `XDG_RUNTIME_DIR`. That one is used only in a directory that is the user's alone: anyone
//! may create `/tmp/assetd-$UID` first and put a socket of their own in it.
//!
//! Over TCP: `https://` is TLS (rustls, through tonic), trusting `--ca-file` alone when given
//! and the system's CAs otherwise, with an optional client certificate; `http://` is plain
//! text and allowed to carry a token only to loopback, as the agent serves it only there. The
//! token goes over TCP only: on a Unix socket the file's permissions decide who may query,
//! and whoever answers there (a socket someone else made) must not learn it.

use std::ffi::OsString;
use std::io;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, anyhow};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic::{Request, Status};

use crate::cli::{EndpointArg, parse_endpoint};
use crate::error::{CtlError, tls_failure};
use crate::proto::agent_service_client::AgentServiceClient;
use crate::proto::asset_service_client::AssetServiceClient;
use crate::proto::event_service_client::EventServiceClient;
use crate::proto::sync_service_client::SyncServiceClient;

/// The system socket (CONTRACT §2).
pub const SYSTEM_SOCKET: &str = "/run/assetd/assetd.sock";

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Unary calls give up after this; streams (export, watch) have no deadline.
const UNARY_TIMEOUT: Duration = Duration::from_secs(120);
/// Replies can be large (ListClients is not paged).
const MAX_MESSAGE: usize = 64 * 1024 * 1024;

/// The socket to use and, when none was named, every path that was considered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    pub path: PathBuf,
    pub considered: Vec<PathBuf>,
    /// Whether it is the per-user fallback, trusted only in a private directory
    /// (`check_per_user_dir`).
    pub per_user: bool,
}

/// Find the socket from the environment; `system` is normally [`SYSTEM_SOCKET`].
pub fn discover(system: &Path) -> Discovered {
    let non_empty = |v: Option<OsString>| v.filter(|v| !v.is_empty());
    if let Some(p) = non_empty(std::env::var_os("ASSETD_SOCKET")) {
        let path = PathBuf::from(p);
        return Discovered {
            considered: vec![path.clone()],
            path,
            per_user: false,
        };
    }
    // A path we may not stat (a 0750 directory) still counts as existing: connecting to it
    // then reports the permission problem instead of sending the user elsewhere.
    if system.try_exists().unwrap_or(true) {
        return Discovered {
            path: system.to_path_buf(),
            considered: vec![system.to_path_buf()],
            per_user: false,
        };
    }
    let user = match non_empty(std::env::var_os("XDG_RUNTIME_DIR")).map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir.join("assetd").join("assetd.sock"),
        _ => {
            let uid = rustix::process::getuid().as_raw();
            PathBuf::from(format!("/tmp/assetd-{uid}/assetd.sock"))
        }
    };
    Discovered {
        considered: vec![system.to_path_buf(), user.clone()],
        path: user,
        per_user: true,
    }
}

/// The per-user socket's directory must be the user's own and closed to everyone else
/// (`assetd demo` makes it so): `/tmp/assetd-$UID` can be made by anyone before the user's
/// first demo, with a socket in it that answers as the agent would. Checked without
/// following a symlink; a directory that is not there is fine (nothing listens, and
/// connecting says so).
pub fn check_per_user_dir(dir: &Path) -> Result<(), CtlError> {
    use std::os::unix::fs::MetadataExt;
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(CtlError::UntrustedSocketDir {
                dir: dir.display().to_string(),
                why: format!("it cannot be checked ({e})"),
                fix: "pass --socket with the agent's socket".into(),
            });
        }
    };
    let uid = rustix::process::getuid().as_raw();
    let shown = dir.display();
    let someone_elses = format!(
        "someone may have made it to pose as assetd: have it removed (`sudo rm -r {shown}`) and start `assetd demo` again, or pass --socket with the agent's socket"
    );
    let (why, fix) = if meta.file_type().is_symlink() {
        ("it is a symbolic link".to_owned(), someone_elses)
    } else if !meta.is_dir() {
        ("it is not a directory".to_owned(), someone_elses)
    } else if meta.uid() != uid {
        (
            format!("it belongs to uid {}, not to you (uid {uid})", meta.uid()),
            someone_elses,
        )
    } else if meta.mode() & 0o077 != 0 {
        (
            format!("others may use it (mode {:o})", meta.mode() & 0o7777),
            format!(
                "run `chmod 700 {shown}` if only you made what is in it, else remove it and start `assetd demo` again"
            ),
        )
    } else {
        return Ok(());
    };
    Err(CtlError::UntrustedSocketDir {
        dir: shown.to_string(),
        why,
        fix,
    })
}

/// Adds `authorization: Bearer …` to every call when a token was given.
#[derive(Clone, Default)]
pub struct Auth(Option<MetadataValue<Ascii>>);

impl Interceptor for Auth {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        if let Some(value) = &self.0 {
            req.metadata_mut().insert("authorization", value.clone());
        }
        Ok(req)
    }
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Auth(<token>)"
        } else {
            "Auth(none)"
        })
    }
}

/// Refuses a secret file that others may read, as the agent does with its own secrets: a
/// token or key anyone on the machine can read is no longer a secret.
fn check_private(path: &Path, what: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path)
        .with_context(|| format!("cannot read {what} {}", path.display()))?;
    if meta.permissions().mode() & 0o007 != 0 {
        return Err(CtlError::Usage(format!(
            "{what} {} is readable by others: run `chmod o-rwx {}` (0600 or 0640)",
            path.display(),
            path.display()
        ))
        .into());
    }
    Ok(())
}

/// Read a bearer token file (surrounding whitespace ignored). Messages never quote it.
pub fn read_token(path: &Path) -> anyhow::Result<Auth> {
    check_private(path, "token file")?;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read token file {}", path.display()))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(anyhow!("token file {} is empty", path.display()));
    }
    let mut value: MetadataValue<Ascii> = format!("Bearer {token}").parse().map_err(|_| {
        anyhow!(
            "token file {} holds characters that cannot be sent in a header",
            path.display()
        )
    })?;
    value.set_sensitive(true);
    Ok(Auth(Some(value)))
}

pub type Svc = InterceptedService<Channel, Auth>;

/// A connected agent.
pub struct Agent {
    channel: Channel,
    auth: Auth,
    /// The TCP endpoint connected to, if any (for `explain`).
    endpoint: Option<EndpointArg>,
}

impl Agent {
    pub fn assets(&self) -> AssetServiceClient<Svc> {
        AssetServiceClient::with_interceptor(self.channel.clone(), self.auth.clone())
            .max_decoding_message_size(MAX_MESSAGE)
    }
    pub fn sync(&self) -> SyncServiceClient<Svc> {
        SyncServiceClient::with_interceptor(self.channel.clone(), self.auth.clone())
            .max_decoding_message_size(MAX_MESSAGE)
    }
    pub fn agent(&self) -> AgentServiceClient<Svc> {
        AgentServiceClient::with_interceptor(self.channel.clone(), self.auth.clone())
            .max_decoding_message_size(MAX_MESSAGE)
    }
    pub fn events(&self) -> EventServiceClient<Svc> {
        EventServiceClient::with_interceptor(self.channel.clone(), self.auth.clone())
            .max_decoding_message_size(MAX_MESSAGE)
    }
}

/// A unary request with a deadline.
pub fn unary<T>(message: T) -> Request<T> {
    let mut req = Request::new(message);
    req.set_timeout(UNARY_TIMEOUT);
    req
}

/// Where the command line says to connect.
pub struct Options<'a> {
    pub socket: Option<&'a Path>,
    pub endpoint: Option<&'a EndpointArg>,
    pub token_file: Option<&'a Path>,
    pub ca_file: Option<&'a Path>,
    pub cert_file: Option<&'a Path>,
    pub key_file: Option<&'a Path>,
}

pub async fn connect(opts: &Options<'_>) -> anyhow::Result<Agent> {
    // $ASSETD_ENDPOINT stands in for --endpoint when neither it nor --socket was given.
    let from_env = match (opts.endpoint, opts.socket) {
        (None, None) => std::env::var("ASSETD_ENDPOINT")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .map(|v| {
                parse_endpoint(v.trim())
                    .map_err(|e| CtlError::Usage(format!("ASSETD_ENDPOINT={v}: {e}")))
            })
            .transpose()?,
        _ => None,
    };
    let endpoint = opts.endpoint.or(from_env.as_ref());
    // The token is for TCP listeners, which require it; a Unix socket is guarded by its
    // permissions, and the token is neither read nor sent there.
    let tcp = matches!(endpoint, Some(EndpointArg::Https(_) | EndpointArg::Http(_)));
    let auth = match opts.token_file {
        Some(path) if tcp => read_token(path)?,
        _ => Auth::default(),
    };
    let tls_flags = opts.ca_file.is_some() || opts.cert_file.is_some();
    if tls_flags && !matches!(endpoint, Some(EndpointArg::Https(_))) {
        return Err(CtlError::Usage(
            "--ca-file, --cert-file and --key-file are for TLS: use them with --endpoint https://HOST:PORT".into(),
        )
        .into());
    }
    let channel = match (endpoint, opts.socket) {
        (Some(EndpointArg::Https(url)), _) => connect_tls(url, opts).await?,
        (Some(EndpointArg::Http(url)), _) => {
            if auth.0.is_some() && !is_loopback_url(url) {
                return Err(CtlError::Usage(format!(
                    "refusing to send the token in clear text to {url}; use https:// (the agent serves plain text only on loopback)"
                ))
                .into());
            }
            connect_tcp(url).await?
        }
        (Some(EndpointArg::Unix(path)), _) => {
            connect_unix(path, std::slice::from_ref(path)).await?
        }
        (None, Some(path)) => connect_unix(path, &[path.to_path_buf()]).await?,
        (None, None) => {
            let found = discover(Path::new(SYSTEM_SOCKET));
            if found.per_user
                && let Some(dir) = found.path.parent()
            {
                check_per_user_dir(dir)?;
            }
            connect_unix(&found.path, &found.considered).await?
        }
    };
    Ok(Agent {
        channel,
        auth,
        endpoint: endpoint.cloned(),
    })
}

/// Turns a failed command's error into what to do about it: an UNAUTHENTICATED answer says
/// whether to add a token or fix the one given; a connection that broke under a call over
/// https:// is checked for a TLS refusal. (With TLS 1.3 the agent judges the client's
/// certificate after the client considers the handshake done, so its refusal reaches tonic
/// only as a closed connection; a fresh handshake that reads the agent's first bytes gets
/// the alert, and with it the reason.)
pub async fn explain(err: anyhow::Error, agent: &Agent, opts: &Options<'_>) -> anyhow::Error {
    let err = crate::error::explain_unauthenticated(err, opts.token_file);
    let lost = err
        .chain()
        .find_map(|e| match e.downcast_ref::<CtlError>() {
            Some(CtlError::Lost(why)) => Some(why.clone()),
            _ => None,
        });
    match &agent.endpoint {
        Some(EndpointArg::Https(url)) if lost.is_some() => match tls_verdict(url, opts).await {
            Some(reason) => CtlError::Tls {
                target: url.to_owned(),
                reason,
            }
            .into(),
            None => err,
        },
        // A TLS listener answers an HTTP/2 preface with a TLS alert, which h2 reads as a
        // protocol error.
        Some(EndpointArg::Http(url)) if lost.is_some() => CtlError::Unreachable {
            target: url.to_owned(),
            reason: format!(
                "the connection broke ({}); if the agent serves TLS on this port, use https://{}",
                lost.unwrap_or_default(),
                url.trim_start_matches("http://")
            ),
        }
        .into(),
        _ => err,
    }
}

/// A rustls client config from the same flags tonic's was made from.
fn rustls_client_config(opts: &Options<'_>) -> anyhow::Result<rustls::ClientConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let mut roots = rustls::RootCertStore::empty();
    match opts.ca_file {
        Some(ca) => {
            for cert in CertificateDer::pem_slice_iter(&read_certificates(ca, "--ca-file")?) {
                roots.add(cert?)?;
            }
        }
        None => {
            roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        }
    }
    let builder = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots);
    let mut config = match (opts.cert_file, opts.key_file) {
        (Some(cert), Some(key)) => {
            let chain = CertificateDer::pem_slice_iter(&read_certificates(cert, "--cert-file")?)
                .collect::<Result<Vec<_>, _>>()?;
            check_private(key, "key file")?;
            let key = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| anyhow!("key file {}: {e}", key.display()))?;
            builder.with_client_auth_cert(chain, key)?
        }
        _ => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

/// Connects once more, completes the TLS handshake and reads the agent's first bytes: the
/// reason, if TLS refused us; `None` if TLS was not the problem (or it cannot be told).
async fn tls_verdict(url: &str, opts: &Options<'_>) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let uri: tonic::transport::Uri = url.parse().ok()?;
    let host = uri.host()?.trim_start_matches('[').trim_end_matches(']');
    let port = uri.port_u16()?;
    let name = rustls::pki_types::ServerName::try_from(host.to_owned()).ok()?;
    let config = std::sync::Arc::new(rustls_client_config(opts).ok()?);
    let tcp = tokio::time::timeout(
        CONNECT_TIMEOUT,
        tokio::net::TcpStream::connect((host, port)),
    )
    .await
    .ok()?
    .ok()?;
    let handshake = tokio_rustls::TlsConnector::from(config).connect(name, tcp);
    let mut tls = match tokio::time::timeout(CONNECT_TIMEOUT, handshake)
        .await
        .ok()?
    {
        Ok(tls) => tls,
        Err(e) => return tls_failure(&e),
    };
    // The agent speaks first (its HTTP/2 settings), unless it refused our certificate.
    let mut first = [0u8; 1];
    match tokio::time::timeout(CONNECT_TIMEOUT, tls.read(&mut first))
        .await
        .ok()?
    {
        Err(e) => tls_failure(&e),
        Ok(_) => None,
    }
}

/// Reads a PEM file of certificates, refusing one that holds none (tonic would skip what it
/// cannot parse, and the failure would show later as an untrusted agent).
fn read_certificates(path: &Path, flag: &str) -> anyhow::Result<Vec<u8>> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let pem =
        std::fs::read(path).with_context(|| format!("cannot read {flag} {}", path.display()))?;
    let count = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CtlError::Usage(format!("{flag} {} is not valid PEM: {e}", path.display())))?
        .len();
    if count == 0 {
        return Err(CtlError::Usage(format!(
            "{flag} {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            path.display()
        ))
        .into());
    }
    Ok(pem)
}

fn tls_config(opts: &Options<'_>) -> anyhow::Result<ClientTlsConfig> {
    let mut tls = ClientTlsConfig::new();
    tls = match opts.ca_file {
        // A private CA is how an MSP's agents are usually set up; trusting only it means
        // no public CA can vouch for an impostor.
        Some(ca) => tls.ca_certificate(Certificate::from_pem(read_certificates(ca, "--ca-file")?)),
        None => tls.with_native_roots(),
    };
    if let (Some(cert), Some(key)) = (opts.cert_file, opts.key_file) {
        let cert_pem = read_certificates(cert, "--cert-file")?;
        check_private(key, "key file")?;
        let key_pem = std::fs::read(key)
            .with_context(|| format!("cannot read key file {}", key.display()))?;
        tls = tls.identity(Identity::from_pem(cert_pem, key_pem));
    }
    Ok(tls)
}

async fn connect_tls(url: &str, opts: &Options<'_>) -> anyhow::Result<Channel> {
    let endpoint = Endpoint::from_shared(url.to_owned())
        .with_context(|| format!("bad endpoint {url}"))?
        .connect_timeout(CONNECT_TIMEOUT)
        .tls_config(tls_config(opts)?)
        .map_err(|e| {
            let hint = if opts.ca_file.is_none() {
                "; pass --ca-file with the CA that signed the agent's certificate"
            } else {
                ""
            };
            CtlError::Usage(format!(
                "cannot set up TLS for {url}: {}{hint}",
                chain_text(&e)
            ))
        })?;
    endpoint.connect().await.map_err(|e| {
        if let Some(reason) = tls_failure(&e) {
            return CtlError::Tls {
                target: url.to_owned(),
                reason,
            }
            .into();
        }
        let reason = match io_kind(&e) {
            Some(io::ErrorKind::ConnectionRefused) => {
                "connection refused; is assetd running with this tcp:// entry in [agent] listen?"
                    .to_owned()
            }
            _ => chain_text(&e),
        };
        CtlError::Unreachable {
            target: url.to_owned(),
            reason,
        }
        .into()
    })
}

fn list_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" or ")
}

async fn connect_unix(path: &Path, considered: &[PathBuf]) -> anyhow::Result<Channel> {
    let shown = path.display().to_string();
    match std::fs::metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(CtlError::NoSocket {
                path: list_paths(considered),
            }
            .into());
        }
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            return Err(CtlError::SocketPermission {
                group: socket_group(path),
                path: shown,
            }
            .into());
        }
        Err(e) => return Err(anyhow::Error::new(e).context(format!("cannot use {shown}"))),
        Ok(meta) if !meta.file_type().is_socket() => {
            return Err(anyhow!(
                "{shown} is not a socket; point --socket or ASSETD_SOCKET at assetd's socket"
            ));
        }
        Ok(_) => {}
    }
    let text = path
        .to_str()
        .ok_or_else(|| anyhow!("socket path {shown} is not valid UTF-8"))?;
    let endpoint = Endpoint::from_shared(format!("unix://{text}"))
        .with_context(|| format!("bad socket path {shown}"))?
        .connect_timeout(CONNECT_TIMEOUT);
    endpoint
        .connect()
        .await
        .map_err(|e| classify_unix(&e, &shown).into())
}

async fn connect_tcp(url: &str) -> anyhow::Result<Channel> {
    let endpoint = Endpoint::from_shared(url.to_owned())
        .with_context(|| format!("bad endpoint {url}"))?
        .connect_timeout(CONNECT_TIMEOUT);
    endpoint.connect().await.map_err(|e| {
        let reason = match io_kind(&e) {
            Some(io::ErrorKind::ConnectionRefused) => {
                "connection refused; is assetd running with a tcp:// entry in [agent] listen?"
                    .to_owned()
            }
            _ => format!(
                "{}; if the agent serves TLS on this port, use https://{}",
                chain_text(&e),
                url.trim_start_matches("http://")
            ),
        };
        CtlError::Unreachable {
            target: url.to_owned(),
            reason,
        }
        .into()
    })
}

/// The error for a failed connection to a Unix socket.
pub fn classify_unix(err: &(dyn std::error::Error + 'static), path: &str) -> CtlError {
    match io_kind(err) {
        Some(io::ErrorKind::NotFound) => CtlError::NoSocket {
            path: path.to_owned(),
        },
        Some(io::ErrorKind::ConnectionRefused) => CtlError::Refused {
            path: path.to_owned(),
        },
        Some(io::ErrorKind::PermissionDenied) => CtlError::SocketPermission {
            path: path.to_owned(),
            group: socket_group(Path::new(path)),
        },
        _ => CtlError::Unreachable {
            target: path.to_owned(),
            reason: chain_text(err),
        },
    }
}

/// The group to join to use the socket at `path`: the socket's own group, or its directory's
/// when the socket cannot even be looked at (the packaged /run/assetd is 0750 in the
/// socket's group), named from /etc/group. Never `assetd`, the group that reads the agent's
/// config and secrets (a socket in that group is an agent from before `assetd-query`): then,
/// and when nothing can be told, the package's querying group `assetd-query`.
pub fn socket_group(path: &Path) -> String {
    use std::os::unix::fs::MetadataExt;
    const QUERY_GROUP: &str = "assetd-query";
    let gid = std::fs::metadata(path)
        .or_else(|_| std::fs::metadata(path.parent().unwrap_or(Path::new("/"))))
        .map(|m| m.gid());
    let name = gid.ok().and_then(|gid| {
        let groups = std::fs::read_to_string("/etc/group").ok()?;
        groups.lines().find_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?;
            let id: u32 = fields.nth(1)?.parse().ok()?;
            (id == gid).then(|| name.to_owned())
        })
    });
    match name {
        Some(n) if n != "assetd" && n != "root" => n,
        _ => QUERY_GROUP.to_owned(),
    }
}

/// The kind of the first I/O error in an error's cause chain.
pub(crate) fn io_kind(err: &(dyn std::error::Error + 'static)) -> Option<io::ErrorKind> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<io::Error>() {
            return Some(io.kind());
        }
        cur = e.source();
    }
    None
}

/// An error and its causes, `: `-joined, without repeats.
pub(crate) fn chain_text(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        let s = e.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = e.source();
    }
    parts.join(": ")
}

fn is_loopback_url(url: &str) -> bool {
    let Ok(uri) = url.parse::<tonic::transport::Uri>() else {
        return false;
    };
    let Some(host) = uri.host() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Tests that touch the process environment take this lock.
    static ENV_LOCK: Mutex<()> = Mutex::new(());

    fn set_env(key: &str, value: Option<&str>) {
        // SAFETY: every test that reads or writes these variables holds ENV_LOCK, and
        // nothing else in this test binary touches them.
        unsafe {
            match value {
                Some(v) => std::env::set_var(key, v),
                None => std::env::remove_var(key),
            }
        }
    }

    #[test]
    fn discovery_order() {
        let _guard = ENV_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let dir = tempfile::tempdir().expect("tempdir");
        let system = dir.path().join("run-assetd.sock");
        let uid = unsafe { libc::getuid() };

        // 1. $ASSETD_SOCKET wins, even when the system socket exists.
        std::fs::write(&system, b"").expect("create");
        set_env("ASSETD_SOCKET", Some("/somewhere/else.sock"));
        set_env("XDG_RUNTIME_DIR", Some("/run/user/1000"));
        assert_eq!(
            discover(&system).path,
            PathBuf::from("/somewhere/else.sock")
        );

        // 2. Then the system socket, if it exists.
        set_env("ASSETD_SOCKET", Some(""));
        assert_eq!(discover(&system).path, system);

        // 3. Then the per-user socket under $XDG_RUNTIME_DIR.
        std::fs::remove_file(&system).expect("remove");
        set_env("ASSETD_SOCKET", None);
        let found = discover(&system);
        assert_eq!(
            found.path,
            PathBuf::from("/run/user/1000/assetd/assetd.sock")
        );
        assert_eq!(
            found.considered,
            vec![
                system.clone(),
                PathBuf::from("/run/user/1000/assetd/assetd.sock")
            ]
        );
        assert!(found.per_user, "the fallback is checked before it is used");

        // 4. Without XDG_RUNTIME_DIR (or with an empty or relative one): /tmp/assetd-$UID.
        let tmp = PathBuf::from(format!("/tmp/assetd-{uid}/assetd.sock"));
        for xdg in [None, Some(""), Some("relative/dir")] {
            set_env("XDG_RUNTIME_DIR", xdg);
            assert_eq!(discover(&system).path, tmp, "XDG_RUNTIME_DIR={xdg:?}");
        }
    }

    #[tokio::test]
    async fn missing_and_stale_sockets_say_not_running() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("none.sock");
        let err = connect_unix(&missing, std::slice::from_ref(&missing))
            .await
            .expect_err("no socket");
        let msg = err.to_string();
        assert!(
            msg.starts_with("assetd is not running (no socket at "),
            "{msg}"
        );
        assert!(msg.contains("systemctl start assetd"), "{msg}");

        // A socket file with nobody listening: connection refused.
        let stale = dir.path().join("stale.sock");
        drop(std::os::unix::net::UnixListener::bind(&stale).expect("bind"));
        let err = connect_unix(&stale, std::slice::from_ref(&stale))
            .await
            .expect_err("refused");
        let ctl = err.downcast_ref::<CtlError>().expect("a CtlError");
        assert!(matches!(ctl, CtlError::Refused { .. }), "{ctl:?}");
        assert_eq!(ctl.exit_code(), crate::error::EXIT_NOT_RUNNING);

        // A regular file is not a socket.
        let file = dir.path().join("file");
        std::fs::write(&file, b"x").expect("write");
        let err = connect_unix(&file, std::slice::from_ref(&file))
            .await
            .expect_err("not a socket");
        assert!(err.to_string().contains("is not a socket"));
    }

    #[test]
    fn permission_errors_name_the_querying_group_never_the_secrets_one() {
        let e = classify_unix(
            &io::Error::from(io::ErrorKind::PermissionDenied),
            "/nonexistent/assetd/assetd.sock",
        );
        assert!(
            e.to_string().starts_with(
                "permission denied on /nonexistent/assetd/assetd.sock: add yourself to group assetd-query, the socket's group (`sudo usermod -aG assetd-query $USER`"
            ),
            "{e}"
        );
        assert_eq!(e.exit_code(), crate::error::EXIT_ACCESS);
        // A socket of another group names that group, read from the socket itself.
        let dir = tempfile::tempdir().expect("tempdir");
        let socket = dir.path().join("s.sock");
        drop(std::os::unix::net::UnixListener::bind(&socket).expect("bind"));
        let groups = std::fs::read_to_string("/etc/group").expect("/etc/group");
        let named = |gid: u32| {
            groups.lines().find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.get(2) == Some(&gid.to_string().as_str())).then(|| f[0].to_owned())
            })
        };
        use std::os::unix::fs::MetadataExt;
        let gid = std::fs::metadata(&socket).expect("socket").gid();
        match named(gid) {
            Some(name) if name != "assetd" && name != "root" => {
                assert_eq!(socket_group(&socket), name)
            }
            _ => assert_eq!(socket_group(&socket), "assetd-query"),
        }
    }

    #[test]
    fn tokens_are_read_trimmed_and_never_shown() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("token");
        std::fs::write(&path, "s3cr3t-token\n").expect("write");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let err = read_token(&path).expect_err("readable by others");
        assert!(err.to_string().contains("chmod o-rwx"), "{err}");
        assert!(!err.to_string().contains("s3cr3t"), "{err}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let auth = read_token(&path).expect("token");
        assert!(!format!("{auth:?}").contains("s3cr3t"));
        let mut auth2 = auth.clone();
        let req = auth2.call(Request::new(())).expect("intercept");
        assert_eq!(
            req.metadata()
                .get("authorization")
                .and_then(|v| v.to_str().ok()),
            Some("Bearer s3cr3t-token")
        );
        std::fs::write(&path, "  \n").expect("write");
        assert!(read_token(&path).is_err());
        std::fs::write(&path, "zz\u{1}secretvalue").expect("write");
        let err = read_token(&path).expect_err("control character");
        assert!(!err.to_string().contains("secretvalue"));
    }

    /// A Unix socket that answers every call with UNIMPLEMENTED, recording the
    /// `authorization` header of each request: what a socket planted by someone else learns.
    async fn recording_socket(path: &Path) -> std::sync::Arc<Mutex<Vec<Option<String>>>> {
        let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        let router = axum::Router::new().fallback(move |headers: http::HeaderMap| {
            let record = record.clone();
            async move {
                record.lock().unwrap_or_else(|e| e.into_inner()).push(
                    headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned),
                );
                (
                    [("content-type", "application/grpc"), ("grpc-status", "12")],
                    "",
                )
            }
        });
        let listener = tokio::net::UnixListener::bind(path).expect("bind");
        let incoming = tokio_stream::wrappers::UnixListenerStream::new(listener);
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_routes(tonic::service::Routes::from(router))
                .serve_with_incoming(incoming),
        );
        seen
    }

    #[tokio::test]
    async fn the_token_is_never_sent_over_a_unix_socket() {
        let dir = tempfile::tempdir().expect("tempdir");
        let socket = dir.path().join("s.sock");
        let seen = recording_socket(&socket).await;
        let token = dir.path().join("token");
        std::fs::write(&token, "s3cr3t-token-for-tcp-only\n").expect("write");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let endpoint = EndpointArg::Unix(socket.clone());
        // --socket PATH, then --endpoint unix://PATH.
        for (socket, endpoint) in [(Some(socket.as_path()), None), (None, Some(&endpoint))] {
            let opts = Options {
                socket,
                endpoint,
                token_file: Some(&token),
                ca_file: None,
                cert_file: None,
                key_file: None,
            };
            let agent = connect(&opts).await.expect("connect");
            let status = agent
                .agent()
                .get_status(unary(crate::proto::GetStatusRequest::default()))
                .await
                .expect_err("the recorder answers UNIMPLEMENTED");
            assert_eq!(status.code(), tonic::Code::Unimplemented, "{status:?}");
        }
        let seen = seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
        assert_eq!(seen, vec![None, None], "the calls arrived without a token");
    }

    #[test]
    fn the_per_user_socket_is_trusted_only_in_a_private_directory_of_ours() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("assetd");
        // Not there: fine (connecting says nothing runs).
        check_per_user_dir(&dir).expect("absent");
        std::fs::create_dir(&dir).expect("mkdir");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        check_per_user_dir(&dir).expect("ours, 0700");
        for mode in [0o755, 0o770, 0o707, 0o1777] {
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode)).expect("chmod");
            let e = check_per_user_dir(&dir).expect_err("open to others");
            let said = e.to_string();
            assert!(
                said.contains(&format!(
                    "refusing the per-user socket in {}",
                    dir.display()
                )) && said.contains("chmod 700"),
                "{mode:o}: {said}"
            );
            assert_eq!(e.exit_code(), crate::error::EXIT_ACCESS);
        }
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        let link = root.path().join("link");
        std::os::unix::fs::symlink(&dir, &link).expect("symlink");
        let said = check_per_user_dir(&link)
            .expect_err("a symlink")
            .to_string();
        assert!(
            said.contains("symbolic link") && said.contains("rm -r"),
            "{said}"
        );
        // Someone else's (acting as someone else needs root).
        if rustix::process::geteuid().is_root() {
            std::os::unix::fs::chown(&dir, Some(65534), None).expect("chown");
            let said = check_per_user_dir(&dir).expect_err("not ours").to_string();
            assert!(said.contains("belongs to uid 65534, not to you"), "{said}");
        }
    }

    #[test]
    fn loopback_detection() {
        assert!(is_loopback_url("http://127.0.0.1:7443"));
        assert!(is_loopback_url("http://localhost:7443"));
        assert!(is_loopback_url("http://[::1]:7443"));
        assert!(!is_loopback_url("http://10.0.0.5:7443"));
        assert!(!is_loopback_url("http://assetd.example:7443"));
    }
}
