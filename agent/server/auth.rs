//! Bearer tokens on the TCP listeners (CONTRACT §6): every request on a TCP connection must
//! carry `authorization: Bearer <token>` with one of the configured `auth_tokens`. The Unix
//! socket has no such check; its file permissions decide who may connect.
//!
//! The check is a tower layer around the whole TCP router, so it covers every service
//! (health and reflection too) and no handler can forget it. Tokens are compared in
//! constant time, against every configured token, and never logged: a refusal is logged
//! with the peer address, the method and why, nothing of what was sent.

use crate::secret::BearerToken;
use crate::service::ApiError;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// Refusals logged per minute at most. Peers sending bad tokens as fast as they can (from
/// as many addresses as they like) must not be able to fill the disk or the journal's
/// rate limit through the agent's log; the refusals left out are counted in the next line.
const REFUSALS_LOGGED_PER_WINDOW: u32 = 10;
const REFUSAL_LOG_WINDOW: Duration = Duration::from_secs(60);

/// The budget of refusal log lines, shared by every connection of every TCP listener.
#[derive(Debug, Default)]
struct RefusalLog {
    window_start: Option<Instant>,
    logged: u32,
    unlogged: u64,
}

impl RefusalLog {
    /// Whether a refusal at `now` is logged: `Some(n)` with the refusals left unlogged
    /// since the last line, `None` when this window's budget is spent.
    fn admit(&mut self, now: Instant) -> Option<u64> {
        let expired = self
            .window_start
            .is_none_or(|start| now.saturating_duration_since(start) >= REFUSAL_LOG_WINDOW);
        if expired {
            self.window_start = Some(now);
            self.logged = 0;
        }
        if self.logged < REFUSALS_LOGGED_PER_WINDOW {
            self.logged += 1;
            Some(std::mem::take(&mut self.unlogged))
        } else {
            self.unlogged += 1;
            None
        }
    }
}

/// Why a request on a TCP listener was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error(
        "missing bearer token: TCP listeners require the metadata `authorization: Bearer <token>` with one of the agent's auth_tokens (assetctl: --token-file PATH)"
    )]
    Missing,
    #[error(
        "the authorization metadata is not `Bearer <token>`: send `authorization: Bearer <token>` with one of the agent's auth_tokens"
    )]
    Malformed,
    #[error(
        "the bearer token was refused: it is not one of the agent's auth_tokens (revoked or mistyped?); send a current token"
    )]
    Refused,
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        ApiError::Unauthenticated(e.to_string())
    }
}

/// Checks an `authorization` header value against `tokens`. Every token is compared, with
/// no early exit, so the time taken says nothing about which one (if any) matched.
pub fn check<'t>(
    tokens: &'t [BearerToken],
    authorization: Option<&[u8]>,
) -> Result<&'t BearerToken, AuthError> {
    let value = authorization.ok_or(AuthError::Missing)?;
    // RFC 6750 / RFC 9110: the scheme is case-insensitive, then one or more spaces.
    let (scheme, rest) = match value.iter().position(|&b| b == b' ') {
        Some(i) => value.split_at(i),
        None => return Err(AuthError::Malformed),
    };
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return Err(AuthError::Malformed);
    }
    let presented = rest.trim_ascii();
    if presented.is_empty() {
        return Err(AuthError::Missing);
    }
    let digest: [u8; 32] = Sha256::digest(presented).into();
    let mut found = None;
    for t in tokens {
        if t.has_digest(&digest) && found.is_none() {
            found = Some(t);
        }
    }
    found.ok_or(AuthError::Refused)
}

/// The peer of a TCP connection, plain or TLS, from what tonic records for the connection.
pub fn peer_addr(extensions: &http::Extensions) -> Option<SocketAddr> {
    use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
    extensions
        .get::<TcpConnectInfo>()
        .and_then(TcpConnectInfo::remote_addr)
        .or_else(|| {
            extensions
                .get::<TlsConnectInfo<TcpConnectInfo>>()
                .and_then(|i| i.get_ref().remote_addr())
        })
}

/// Where the layer finds the tokens in force: read on every request, so a reload that adds
/// or removes a token applies to the next request, on connections already open too.
pub type TokenSource = Arc<dyn Fn() -> Arc<[BearerToken]> + Send + Sync>;

/// The tower layer that requires a bearer token on every request.
#[derive(Clone)]
pub struct RequireToken {
    tokens: TokenSource,
    refusals: Arc<Mutex<RefusalLog>>,
}

impl RequireToken {
    pub fn new(tokens: TokenSource) -> RequireToken {
        RequireToken {
            tokens,
            refusals: Arc::default(),
        }
    }
}

impl<S> tower_layer::Layer<S> for RequireToken {
    type Service = RequireTokenService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        RequireTokenService {
            inner,
            tokens: self.tokens.clone(),
            refusals: self.refusals.clone(),
        }
    }
}

#[derive(Clone)]
pub struct RequireTokenService<S> {
    inner: S,
    tokens: TokenSource,
    refusals: Arc<Mutex<RefusalLog>>,
}

impl<S, ReqBody, ResBody> tower_service::Service<http::Request<ReqBody>> for RequireTokenService<S>
where
    S: tower_service::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    ResBody: Default,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future =
        futures_util::future::Either<S::Future, std::future::Ready<Result<S::Response, S::Error>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<ReqBody>) -> Self::Future {
        let tokens = (self.tokens)();
        let header = req
            .headers()
            .get(http::header::AUTHORIZATION)
            .map(|v| v.as_bytes());
        match check(&tokens, header) {
            Ok(token) => {
                tracing::debug!(
                    peer = %display_peer(peer_addr(req.extensions())),
                    method = req.uri().path(),
                    token = %token.label,
                    "Authenticated a request."
                );
                futures_util::future::Either::Left(self.inner.call(req))
            }
            Err(e) => {
                let admitted = self
                    .refusals
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .admit(Instant::now());
                if let Some(unlogged) = admitted {
                    tracing::warn!(
                        peer = %display_peer(peer_addr(req.extensions())),
                        method = req.uri().path(),
                        reason = ?e,
                        unlogged_since_last = unlogged,
                        "Refused a request on a TCP listener: no valid bearer token."
                    );
                }
                let status = tonic::Status::from(ApiError::from(e));
                futures_util::future::Either::Right(std::future::ready(Ok(status.into_http())))
            }
        }
    }
}

fn display_peer(addr: Option<SocketAddr>) -> String {
    addr.map_or_else(|| "unknown".to_string(), |a| a.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::{Secret, TokenError};

    /// A flood of refusals logs at most its budget a minute; the next window's first line
    /// says how many were left out, and a quiet minute starts afresh.
    #[test]
    fn refusals_are_logged_within_a_budget_and_the_rest_counted() {
        let mut log = RefusalLog::default();
        let t0 = Instant::now();
        let first: Vec<Option<u64>> = (0..25).map(|_| log.admit(t0)).collect();
        let budget = REFUSALS_LOGGED_PER_WINDOW as usize;
        assert!(first[..budget].iter().all(|a| *a == Some(0)));
        assert!(first[budget..].iter().all(Option::is_none));
        let just_before = t0 + REFUSAL_LOG_WINDOW - Duration::from_millis(1);
        assert_eq!(log.admit(just_before), None);
        let next = t0 + REFUSAL_LOG_WINDOW;
        assert_eq!(log.admit(next), Some(25 - budget as u64 + 1));
        assert_eq!(log.admit(next), Some(0));
        assert_eq!(log.admit(next + REFUSAL_LOG_WINDOW * 3), Some(0));
    }

    fn token(s: &str) -> BearerToken {
        BearerToken::new(&Secret::new(s), "test").expect("valid token")
    }

    #[test]
    fn short_and_unprintable_tokens_are_refused() {
        assert_eq!(
            BearerToken::new(&Secret::new("short"), "x"),
            Err(TokenError::TooShort(5))
        );
        assert_eq!(
            BearerToken::new(&Secret::new("has a space in the middle"), "x"),
            Err(TokenError::BadCharacters)
        );
        // Surrounding whitespace is not part of the token.
        assert_eq!(
            token(" 0123456789abcdef\n"),
            BearerToken::new(&Secret::new("0123456789abcdef"), "test").unwrap()
        );
    }

    #[test]
    fn every_configured_token_is_accepted_and_nothing_else() {
        let tokens = [
            token("first-token-0123456789"),
            token("second-token-0123456789"),
        ];
        assert_eq!(
            check(&tokens, Some(b"Bearer first-token-0123456789")),
            Ok(&tokens[0])
        );
        assert_eq!(
            check(&tokens, Some(b"bearer   second-token-0123456789")),
            Ok(&tokens[1])
        );
        assert_eq!(check(&tokens, None), Err(AuthError::Missing));
        assert_eq!(check(&tokens, Some(b"Bearer ")), Err(AuthError::Missing));
        assert_eq!(
            check(&tokens, Some(b"Basic Zmlyc3Q6dG9rZW4=")),
            Err(AuthError::Malformed)
        );
        assert_eq!(
            check(&tokens, Some(b"first-token-0123456789")),
            Err(AuthError::Malformed)
        );
        assert_eq!(
            check(&tokens, Some(b"Bearer first-token-012345678")),
            Err(AuthError::Refused)
        );
        assert_eq!(
            check(&tokens, Some(b"Bearer first-token-0123456789x")),
            Err(AuthError::Refused)
        );
        assert_eq!(
            check(&[], Some(b"Bearer first-token-0123456789")),
            Err(AuthError::Refused)
        );
    }

    #[test]
    fn debug_never_shows_the_token() {
        let t = token("canary-token-5f1e2d3c");
        assert!(!format!("{t:?}").contains("canary"));
    }
}
