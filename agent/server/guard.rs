//! What keeps an unauthenticated peer from starving the agent: every TCP connection is
//! admitted against a cap (in all, and per peer address; the excess is closed at once), must
//! say something within a short first-byte time and keep saying something (a live client
//! answers the server's HTTP/2 pings every 30 s), and accept errors (out of file
//! descriptors) back off instead of spinning. The Unix sockets have their own cap, so a
//! flood on TCP never reaches the operators' socket.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// How many connections a listener group admits.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    /// In all (pending handshakes included).
    pub total: usize,
    /// From one peer address (the whole group of listeners together).
    pub per_peer: usize,
}

/// gRPC over TCP: other services, each a few connections; a flood stays far below the
/// descriptors the unit allows (`LimitNOFILE=65536`).
pub const TCP_CAPS: Caps = Caps {
    total: 256,
    per_peer: 32,
};
/// The metrics endpoint: a scraper or two.
pub const METRICS_CAPS: Caps = Caps {
    total: 32,
    per_peer: 8,
};
/// The Unix sockets: operators and local services. One bucket (a Unix peer has no address).
pub const UNIX_CAPS: Caps = Caps {
    total: 256,
    per_peer: 256,
};

/// Time a new connection has to send its first byte (its TLS ClientHello, or its HTTP/2
/// preface), and a TLS handshake to finish.
pub const FIRST_BYTE_TIMEOUT: Duration = Duration::from_secs(5);
/// Time a connection may go without sending anything. A live gRPC client answers the
/// agent's keepalive ping every 30 s (and acknowledges data as it reads), so only a peer
/// that is gone, or never meant to talk, stays silent this long.
pub const READ_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// Admits connections against `Caps`; cheap to clone.
#[derive(Clone)]
pub struct Admission {
    caps: Caps,
    counts: Arc<Mutex<Counts>>,
}

#[derive(Default)]
struct Counts {
    total: usize,
    per_peer: HashMap<Option<IpAddr>, usize>,
}

fn lock(m: &Mutex<Counts>) -> std::sync::MutexGuard<'_, Counts> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Admission {
    pub fn new(caps: Caps) -> Admission {
        Admission {
            caps,
            counts: Arc::new(Mutex::new(Counts::default())),
        }
    }

    /// A ticket for a connection from `peer` (`None`: a Unix peer), or `None` when the caps
    /// are reached. The connection counts until its ticket is dropped.
    pub fn admit(&self, peer: Option<IpAddr>) -> Option<Ticket> {
        let mut counts = lock(&self.counts);
        let from_peer = counts.per_peer.get(&peer).copied().unwrap_or(0);
        if counts.total >= self.caps.total || from_peer >= self.caps.per_peer {
            return None;
        }
        counts.total += 1;
        *counts.per_peer.entry(peer).or_insert(0) += 1;
        Some(Ticket {
            peer,
            counts: self.counts.clone(),
        })
    }

    /// Connections admitted now.
    pub fn open(&self) -> usize {
        lock(&self.counts).total
    }
}

/// One admitted connection; dropping it frees its place.
pub struct Ticket {
    peer: Option<IpAddr>,
    counts: Arc<Mutex<Counts>>,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut counts = lock(&self.counts);
        counts.total = counts.total.saturating_sub(1);
        if let Some(n) = counts.per_peer.get_mut(&self.peer) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.per_peer.remove(&self.peer);
            }
        }
    }
}

/// A connection that holds its ticket, and fails once its peer has sent nothing for too
/// long (`FIRST_BYTE_TIMEOUT` before its first byte, `READ_IDLE_TIMEOUT` after), which makes
/// the server drop it.
pub struct Guarded<IO> {
    io: IO,
    _ticket: Ticket,
    idle: Pin<Box<Sleep>>,
    heard: bool,
}

impl<IO> Guarded<IO> {
    pub fn new(io: IO, ticket: Ticket) -> Guarded<IO> {
        Guarded {
            io,
            _ticket: ticket,
            idle: Box::pin(tokio::time::sleep(FIRST_BYTE_TIMEOUT)),
            heard: false,
        }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Guarded<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    self.heard = true;
                    let next = Instant::now() + READ_IDLE_TIMEOUT;
                    self.idle.as_mut().reset(next);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => match self.idle.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    if self.heard {
                        "the peer sent nothing for too long"
                    } else {
                        "the peer said nothing after connecting"
                    },
                ))),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Guarded<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

// Requests keep their connection's information (the peer address `auth` logs).
impl<IO: tonic::transport::server::Connected> tonic::transport::server::Connected for Guarded<IO> {
    type ConnectInfo = IO::ConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.io.connect_info()
    }
}

/// Pauses after failed accepts, doubling from 10 ms to 1 s: running out of file
/// descriptors makes every accept fail at once, and retrying without a pause would spin a
/// core while nothing can be served anyway.
pub struct Backoff {
    next: Duration,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(10);
    const MOST: Duration = Duration::from_secs(1);

    pub fn new() -> Backoff {
        Backoff { next: Self::FIRST }
    }

    /// An accept succeeded.
    pub fn reset(&mut self) {
        self.next = Self::FIRST;
    }

    /// An accept failed: how long to wait before the next.
    pub fn failed(&mut self) -> Duration {
        let wait = self.next;
        self.next = (self.next * 2).min(Self::MOST);
        wait
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new()
    }
}

/// Logs refused connections at most once a minute per listener group, with how many, so a
/// flood is seen without flooding the log.
pub struct RefusalLog {
    what: &'static str,
    caps: Caps,
    since: Option<Instant>,
    refused: u64,
}

impl RefusalLog {
    pub fn new(what: &'static str, caps: Caps) -> RefusalLog {
        RefusalLog {
            what,
            caps,
            since: None,
            refused: 0,
        }
    }

    pub fn refused(&mut self, peer: Option<IpAddr>) {
        self.refused += 1;
        let now = Instant::now();
        if self
            .since
            .is_none_or(|t| now.duration_since(t) >= Duration::from_secs(60))
        {
            tracing::warn!(
                peer = %peer.map_or("(unix)".to_string(), |p| p.to_string()),
                refused = self.refused,
                "Refused {} connection(s) on {}: at most {} open in all and {} per peer address; \
                 the excess is closed at once.",
                self.refused, self.what, self.caps.total, self.caps.per_peer
            );
            self.since = Some(now);
            self.refused = 0;
        }
    }
}

/// Runs `fut` with at most `limit` time, as `tokio::time::timeout` does, returning `None`
/// when it ran out.
pub async fn within<F: Future>(limit: Duration, fut: F) -> Option<F::Output> {
    tokio::time::timeout(limit, fut).await.ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn admission_caps_in_all_and_per_peer_and_frees_on_drop() {
        let a = Admission::new(Caps {
            total: 3,
            per_peer: 2,
        });
        let p1 = Some(IpAddr::from([10, 0, 0, 1]));
        let p2 = Some(IpAddr::from([10, 0, 0, 2]));
        let t1 = a.admit(p1).expect("first");
        let _t2 = a.admit(p1).expect("second from p1");
        assert!(a.admit(p1).is_none(), "a third from one peer is refused");
        let _t3 = a.admit(p2).expect("another peer");
        assert!(a.admit(p2).is_none(), "the total is reached");
        assert_eq!(a.open(), 3);
        drop(t1);
        assert_eq!(a.open(), 2);
        assert!(a.admit(p1).is_some(), "a place freed is taken again");
    }

    #[test]
    fn accept_backoff_doubles_to_a_second_and_resets() {
        let mut b = Backoff::new();
        let waits: Vec<Duration> = (0..9).map(|_| b.failed()).collect();
        assert_eq!(waits[0], Duration::from_millis(10));
        assert_eq!(waits[1], Duration::from_millis(20));
        assert_eq!(*waits.last().expect("some"), Duration::from_secs(1));
        b.reset();
        assert_eq!(b.failed(), Duration::from_millis(10));
    }

    /// A peer that says nothing is cut off after the first-byte time; one that talks keeps
    /// its connection past it.
    #[tokio::test(start_paused = true)]
    async fn a_silent_peer_is_dropped_and_a_talking_one_kept() {
        let a = Admission::new(UNIX_CAPS);
        let (ours, mut theirs) = tokio::io::duplex(64);
        let mut silent = Guarded::new(ours, a.admit(None).expect("admit"));
        let mut buf = [0u8; 8];
        let e = silent.read(&mut buf).await.expect_err("timed out");
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);

        let (ours, mut theirs2) = tokio::io::duplex(64);
        let mut talking = Guarded::new(ours, a.admit(None).expect("admit"));
        theirs2.write_all(b"hi").await.expect("write");
        assert_eq!(talking.read(&mut buf).await.expect("read"), 2);
        // Past the first-byte time, within the idle time: still open.
        tokio::time::advance(FIRST_BYTE_TIMEOUT * 2).await;
        theirs2.write_all(b"again").await.expect("write");
        assert_eq!(talking.read(&mut buf).await.expect("read"), 5);
        let e = talking.read(&mut buf).await.expect_err("idle");
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        drop(silent);
        drop(talking);
        assert_eq!(a.open(), 0, "tickets freed with their connections");
        theirs.shutdown().await.ok();
    }
}
