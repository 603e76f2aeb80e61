//! Vendor API simulators (DESIGN §8).
//!
//! Each simulator is an HTTP server faithful to one vendor's real API, seeded deterministically,
//! mutable between syncs and with fault injection. Tests, benchmarks and `assetd demo` run them
//! in-process; `assetd sim <kind>` runs one alone ([`run_standalone`]).

pub mod auvik;
pub mod faults;
pub mod names;
pub mod server;

use std::io::Write;
use std::net::SocketAddr;

/// The simulators `assetd sim` can run.
pub const KINDS: &[&str] = &["auvik"];

/// `assetd sim <kind> ...`: runs one simulator until the process is killed. Prints exactly one
/// JSON line on stdout first (flushed), e.g. `{"vendor":"auvik","base_url":"http://127.0.0.1:PORT",
/// "username":"...","api_key":"...","domain_prefix":"mspdemo","region":"us1"}`.
pub async fn run_standalone(
    kind: &str,
    listen: SocketAddr,
    seed: u64,
    clients: usize,
    assets_per_client: usize,
) -> std::io::Result<()> {
    let line = match kind {
        "auvik" => {
            let sim = auvik::AuvikSim::new(auvik::AuvikSimOptions {
                seed,
                clients,
                assets_per_client,
                ..Default::default()
            });
            let listener = tokio::net::TcpListener::bind(listen).await?;
            let server = sim.start(listener).await?;
            let line = serde_json::json!({
                "vendor": "auvik",
                "base_url": server.base_url,
                "username": sim.username(),
                "api_key": sim.api_key(),
                "domain_prefix": sim.domain_prefix(),
                "region": sim.region(),
            });
            // The server must outlive this function's wait below.
            std::mem::forget(server);
            line
        }
        other => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("unknown simulator {other:?}; known: {}", KINDS.join(", ")),
            ));
        }
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()?;
    drop(out);
    // Serve until the process is killed.
    std::future::pending::<()>().await;
    Ok(())
}
