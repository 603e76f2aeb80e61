//! Vendor API simulators (CONTRACT §8).
//!
//! Each simulator is an HTTP server faithful to one vendor's real API, seeded deterministically,
//! mutable between syncs and with fault injection. Tests, benchmarks and `assetd demo` run them
//! in-process; `assetd sim <kind>` runs one alone ([`run_standalone`]).

pub mod auvik;
pub mod clock;
pub mod control;
pub mod faults;
pub mod names;
pub mod passportal;
pub mod requests;
pub mod server;
pub mod syncro;

use std::io::Write;
use std::net::SocketAddr;

/// The simulators `assetd sim` can run.
pub const KINDS: &[&str] = &["auvik", "syncro", "passportal"];

/// `assetd sim <kind> ...`: runs one simulator until the process is killed. Prints exactly one
/// JSON line on stdout first (flushed), e.g. `{"vendor":"auvik","base_url":"http://127.0.0.1:PORT",
/// "username":"...","api_key":"...","domain_prefix":"mspdemo","region":"us1"}`; for Syncro
/// `{"vendor":"syncro","base_url":…,"api_url":…/api/v1,"api_key":…,"limited_api_key":…,
/// "subdomain":"acme"}` (`base_url` stands for `https://<subdomain>.syncromsp.com`); for Passportal
/// `{"vendor":"passportal","base_url":…,"access_key_id":…,"secret_access_key":…,
/// "organization_id":…}` (`base_url` stands for `https://<dc>-clover.passportalmsp.com`).
pub async fn run_standalone(
    kind: &str,
    listen: SocketAddr,
    seed: u64,
    clients: usize,
    assets_per_client: usize,
) -> std::io::Result<()> {
    // The server value must stay alive for as long as this function waits below.
    let (line, _server) = match kind {
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
            (line, server)
        }
        "syncro" => {
            let sim = syncro::SyncroSim::new(syncro::SyncroSimOptions {
                seed,
                clients,
                assets_per_client,
                ..Default::default()
            });
            let listener = tokio::net::TcpListener::bind(listen).await?;
            let server = sim.start(listener).await?;
            let line = serde_json::json!({
                "vendor": "syncro",
                "base_url": server.base_url,
                "api_url": format!("{}/api/v1", server.base_url),
                "api_key": sim.api_key(),
                "limited_api_key": sim.limited_api_key(),
                "subdomain": sim.subdomain(),
            });
            (line, server)
        }
        "passportal" => {
            let sim = passportal::PassportalSim::new(passportal::PassportalSimOptions {
                seed,
                clients,
                assets_per_client,
                ..Default::default()
            });
            let listener = tokio::net::TcpListener::bind(listen).await?;
            let server = sim.start(listener).await?;
            let line = serde_json::json!({
                "vendor": "passportal",
                "base_url": server.base_url,
                "access_key_id": sim.access_key_id(),
                "secret_access_key": sim.secret_access_key(),
                "organization_id": sim.organization_id(),
            });
            (line, server)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unknown_kinds_are_refused_with_the_list() {
        let listen: SocketAddr = "127.0.0.1:0".parse().expect("address");
        let err = run_standalone("datto", listen, 1, 1, 1)
            .await
            .expect_err("refused");
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("auvik"), "{err}");
    }
}
