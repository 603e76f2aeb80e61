//! The metrics endpoint: `GET /metrics` on `agent.metrics_listen`, plain HTTP, in
//! Prometheus' text format. Each scrape renders the counters of `Metrics` and samples the
//! gauges (source states, asset counts, last successes) from the agent.
//!
//! No TLS and no token: Prometheus scrapes plain HTTP by default, and what is here is
//! counts and timings labelled with source names and vendor kinds. The listener is bound
//! by `server::bind_metrics` with the gRPC listeners, so a bad address stops the start with
//! the others' clear messages.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::guard::{self, Admission, Backoff, Guarded, RefusalLog};
use crate::metrics::{Gauges, SourceGauge, text};
use crate::service::{ApiError, Service};

/// A scrape's request headers must arrive within this (a slowloris trickling them holds a
/// place no longer), and a whole connection lasts at most `CONNECTION_LIFETIME`.
const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
const CONNECTION_LIFETIME: Duration = Duration::from_secs(60);

/// Serves `/metrics` on `listener` until `shutdown` is cancelled. Connections are admitted
/// against caps of their own (`guard::METRICS_CAPS`; the excess is closed at once), and
/// failed accepts pause, as on the gRPC listeners.
pub async fn serve(listener: TcpListener, agent: Arc<Service>, shutdown: CancellationToken) {
    let app = Router::new()
        .route("/metrics", get(scrape))
        .with_state(agent);
    let admission = Admission::new(guard::METRICS_CAPS);
    let mut backoff = Backoff::new();
    let mut refusals = RefusalLog::new("the metrics endpoint", guard::METRICS_CAPS);
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.cancelled() => return,
        };
        let (stream, peer) = match accepted {
            Ok(a) => {
                backoff.reset();
                a
            }
            Err(e) => {
                let wait = backoff.failed();
                tracing::warn!(error = %e, wait_ms = wait.as_millis() as u64, "Accepting a metrics connection failed; retrying after a pause.");
                tokio::time::sleep(wait).await;
                continue;
            }
        };
        let Some(ticket) = admission.admit(Some(peer.ip())) else {
            refusals.refused(Some(peer.ip()));
            continue;
        };
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let stop = shutdown.clone();
        tokio::spawn(async move {
            let io = hyper_util::rt::TokioIo::new(Guarded::new(stream, ticket));
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(io, service);
            tokio::pin!(conn);
            tokio::select! {
                r = &mut conn => {
                    if let Err(e) = r {
                        tracing::debug!(%peer, error = %e, "A metrics connection ended with an error.");
                    }
                }
                _ = tokio::time::sleep(CONNECTION_LIFETIME) => {
                    tracing::debug!(%peer, "A metrics connection outlived its time; closed.");
                }
                _ = stop.cancelled() => conn.as_mut().graceful_shutdown(),
            }
        });
    }
}

async fn scrape(State(agent): State<Arc<Service>>) -> Response {
    match gauges(&agent).await {
        Ok(g) => (
            [(header::CONTENT_TYPE, text::CONTENT_TYPE)],
            agent.metrics().render(&g),
        )
            .into_response(),
        Err(e) => {
            // Prometheus records a failed scrape (`up` 0) rather than stale figures.
            tracing::error!(error = %e, "Could not read the agent's state for a metrics scrape.");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("assetd could not read its state: {e}\n"),
            )
                .into_response()
        }
    }
}

async fn gauges(agent: &Service) -> Result<Gauges, ApiError> {
    let sources = agent.sources().await?;
    let successes = agent.last_successes().await?;
    Ok(Gauges {
        config_ok: !agent.config_status().rejected,
        sources: sources
            .into_iter()
            .map(|s| SourceGauge {
                last_success: successes
                    .iter()
                    .find(|(name, _)| *name == s.name)
                    .map_or(0.0, |(_, t)| t.timestamp() as f64),
                state: s.state.as_str(),
                assets: s.asset_count,
                last_run: s.last_run.as_ref().map(|r| r.counts).unwrap_or_default(),
                vendor: s.kind,
                source: s.name,
            })
            .collect(),
    })
}
