//! The metrics endpoint: `GET /metrics` on `agent.metrics_listen`, plain HTTP, in
//! Prometheus' text format. Each scrape renders the counters of `Metrics` and samples the
//! gauges (source states, asset counts, last successes) from the agent.
//!
//! No TLS and no token: Prometheus scrapes plain HTTP by default, and what is here is
//! counts and timings labelled with source names and vendor kinds. The listener is bound
//! by `server::bind_metrics` with the gRPC listeners, so a bad address stops the start with
//! the others' clear messages.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::metrics::{Gauges, SourceGauge, text};
use crate::service::{ApiError, Service};
use crate::sync::SourceState;

/// Serves `/metrics` on `listener` until `shutdown` is cancelled.
pub async fn serve(listener: TcpListener, agent: Arc<Service>, shutdown: CancellationToken) {
    let app = Router::new()
        .route("/metrics", get(scrape))
        .with_state(agent);
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await;
    if let Err(e) = served {
        tracing::error!(error = %e, "The metrics endpoint stopped; gRPC goes on.");
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
                state: state_name(s.state),
                assets: s.asset_count,
                last_run: s.last_run.as_ref().map(|r| r.counts).unwrap_or_default(),
                vendor: s.kind,
                source: s.name,
            })
            .collect(),
    })
}

/// The state names of `assetctl sources` (and `super::SOURCE_STATES`).
fn state_name(s: SourceState) -> &'static str {
    match s {
        SourceState::Pending => "pending",
        SourceState::Ok => "ok",
        SourceState::Syncing => "syncing",
        SourceState::Partial => "partial",
        SourceState::Failed => "failed",
        SourceState::CredentialsRejected => "credentials_rejected",
        SourceState::RemovalsHeld => "removals_held",
    }
}
