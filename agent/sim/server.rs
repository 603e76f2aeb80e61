//! Running a simulator's axum router on a listener, and stopping it again.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use axum::Router;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// A simulator serving in a background task. Dropping it (or calling [`SimServer::shutdown`])
/// stops accepting connections, closes idle ones and ends hung or stalled responses.
#[derive(Debug)]
pub struct SimServer {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub base_url: String,
    /// The address the listener is bound to.
    pub local_addr: SocketAddr,
    shutdown: CancellationToken,
}

impl SimServer {
    /// Serves `router` (built for this server's base URL and shutdown token) on `listener`.
    pub(crate) fn spawn(
        listener: TcpListener,
        router: impl FnOnce(&str, CancellationToken) -> Router,
    ) -> std::io::Result<Self> {
        let local_addr = listener.local_addr()?;
        let base_url = base_url_for(local_addr);
        let shutdown = CancellationToken::new();
        let app = router(&base_url, shutdown.clone());
        // Pages are written in one piece; Nagle would only delay the last segment.
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let stop = shutdown.clone();
        tokio::spawn(async move {
            // With the peer address, per-IP limits (Syncro's) see each client separately.
            let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await;
            if let Err(e) = served {
                tracing::warn!(error = %e, "simulator server stopped with an error");
            }
        });
        Ok(Self {
            base_url,
            local_addr,
            shutdown,
        })
    }

    /// Stops serving (the same as dropping it).
    pub fn shutdown(self) {}

    /// A token that is cancelled when this server stops.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// The URL clients use to reach a listener: an unspecified bind address is reached on loopback.
fn base_url_for(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        assert_eq!(
            base_url_for("127.0.0.1:8080".parse().unwrap()),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            base_url_for("0.0.0.0:81".parse().unwrap()),
            "http://127.0.0.1:81"
        );
        assert_eq!(base_url_for("[::]:82".parse().unwrap()), "http://[::1]:82");
    }
}
