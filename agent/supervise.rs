//! What the running daemon tells its service manager (systemd, through `notify`): a
//! STATUS= line with the sources' state, kept current as runs finish and configs load, and
//! WATCHDOG=1 pings sent only while the sync scheduler answers.

use crate::notify::{Notifier, NotifyError};
use crate::service::Service;
use crate::sync::SourceState;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The service manager that started this process, when there is one.
#[derive(Debug)]
pub struct ServiceManager {
    pub notifier: Notifier,
    /// How often it wants WATCHDOG=1 (`WatchdogSec=`), if at all.
    pub watchdog: Option<Duration>,
}

impl ServiceManager {
    /// From `$NOTIFY_SOCKET`, `$WATCHDOG_USEC` and `$WATCHDOG_PID`; `None` outside a
    /// `Type=notify` service.
    pub fn from_env() -> Result<Option<ServiceManager>, NotifyError> {
        Ok(Notifier::from_env()?.map(|notifier| ServiceManager {
            notifier,
            watchdog: crate::notify::watchdog_from_env(),
        }))
    }
}

/// Starts the tasks that keep the service manager informed; they end when `stop` is
/// cancelled (the daemon is stopping, and says STOPPING=1 itself). `sent`: the STATUS=
/// line the manager already has.
pub fn spawn(
    manager: Arc<ServiceManager>,
    agent: Arc<Service>,
    stop: CancellationToken,
    sent: String,
) {
    tokio::spawn(keep_status(
        manager.clone(),
        agent.clone(),
        stop.clone(),
        sent,
    ));
    if let Some(interval) = manager.watchdog {
        tokio::spawn(watchdog(manager, agent, interval, stop));
    }
}

/// Re-sends STATUS= whenever a source's state changes (a run starts or ends, sources come
/// and go). A burst of changes coalesces: the line is read after the wake-up.
async fn keep_status(
    manager: Arc<ServiceManager>,
    agent: Arc<Service>,
    stop: CancellationToken,
    mut last: String,
) {
    let changes = agent.changes();
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = changes.notified() => {}
        }
        let line = status_line(&agent).await;
        if line != last {
            manager.notifier.status(&line);
            last = line;
        }
    }
}

/// Pings at half the interval systemd asked for, each time only after every source's
/// scheduling loop has answered a probe (`Engine::probe`) within a quarter of it, so two
/// pings are never more than three quarters of the interval apart while all is well, and
/// a scheduler that stops turning stops the pings: systemd then restarts the service.
async fn watchdog(
    manager: Arc<ServiceManager>,
    agent: Arc<Service>,
    interval: Duration,
    stop: CancellationToken,
) {
    let mut tick = tokio::time::interval(interval / 2);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        match agent.probe(interval / 4).await {
            Ok(()) => {
                if stop.is_cancelled() {
                    return;
                }
                if failing {
                    tracing::info!("The scheduler answers again; watchdog pings resumed.");
                    failing = false;
                }
                manager.notifier.watchdog();
            }
            Err(e) => {
                if !failing {
                    tracing::warn!(error = %e,
                        "Not pinging the service manager's watchdog while the scheduler does not answer; \
                         systemd restarts assetd if this lasts WatchdogSec.");
                    failing = true;
                }
            }
        }
    }
}

/// The STATUS= line for the agent as it is now.
pub async fn status_line(agent: &Service) -> String {
    let sources: Vec<(String, SourceState, String)> = agent
        .source_states()
        .await
        .into_iter()
        .map(|(config, status)| (config.name, status.state, status.state_detail))
        .collect();
    let config = agent.config_status();
    summary(
        &sources,
        config.rejected.then_some(config.last_error.as_str()),
        &config.path.display().to_string(),
    )
}

/// "3 sources: 2 ok, 1 failing (auvik-main: credentials rejected)", plus a note when the
/// config file on disk was refused. Kept short: `systemctl status` shows it on one line.
pub fn summary(
    sources: &[(String, SourceState, String)],
    config_rejected: Option<&str>,
    config_path: &str,
) -> String {
    let mut line = if sources.is_empty() {
        format!("No sources configured: add [[source]] tables to {config_path}")
    } else {
        let count = |wanted: &[SourceState]| {
            sources
                .iter()
                .filter(|(_, state, _)| wanted.contains(state))
                .count()
        };
        let failing: Vec<String> = sources
            .iter()
            .filter(|(_, state, _)| {
                matches!(
                    state,
                    SourceState::Failed | SourceState::CredentialsRejected
                )
            })
            .map(|(name, state, detail)| format!("{name}: {}", reason(*state, detail)))
            .collect();
        let mut parts = Vec::new();
        for (n, what) in [
            (count(&[SourceState::Ok]), "ok"),
            (count(&[SourceState::Syncing]), "syncing"),
            (count(&[SourceState::Pending]), "pending"),
            (count(&[SourceState::Partial]), "partial"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        }
        // Held removals wait for a person: named, with how to accept them.
        let held: Vec<&str> = sources
            .iter()
            .filter(|(_, state, _)| *state == SourceState::RemovalsHeld)
            .map(|(name, _, _)| name.as_str())
            .collect();
        if !held.is_empty() {
            parts.push(format!(
                "{} holding removals ({}: `assetctl sources` says how to accept them)",
                held.len(),
                held.join(", ")
            ));
        }
        if !failing.is_empty() {
            const SHOWN: usize = 3;
            let mut named = failing[..failing.len().min(SHOWN)].join("; ");
            if failing.len() > SHOWN {
                named.push_str(&format!("; {} more", failing.len() - SHOWN));
            }
            parts.push(format!("{} failing ({named})", failing.len()));
        }
        format!(
            "{} source{}: {}",
            sources.len(),
            if sources.len() == 1 { "" } else { "s" },
            parts.join(", ")
        )
    };
    if let Some(error) = config_rejected {
        line.push_str(&format!(
            "; config change refused ({}), the previous config runs",
            short(error.lines().next().unwrap_or(error))
        ));
    }
    line
}

/// A failing source's reason in a few words.
fn reason(state: SourceState, detail: &str) -> String {
    match state {
        SourceState::CredentialsRejected => "credentials rejected".to_string(),
        _ if detail.trim().is_empty() => "failed".to_string(),
        _ => short(detail.split(';').next().unwrap_or(detail)),
    }
}

/// At most 60 characters, cut at a character boundary.
fn short(s: &str) -> String {
    const MAX: usize = 60;
    let s = s.trim();
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let cut: String = s.chars().take(MAX - 1).collect();
        format!("{}…", cut.trim_end())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(name: &str, state: SourceState, detail: &str) -> (String, SourceState, String) {
        (name.to_string(), state, detail.to_string())
    }

    #[test]
    fn the_line_counts_states_and_names_failures() {
        let line = summary(
            &[
                src("syncro", SourceState::Ok, ""),
                src("passportal", SourceState::Ok, ""),
                src(
                    "auvik-main",
                    SourceState::CredentialsRejected,
                    "Auvik refused the API key (401)",
                ),
            ],
            None,
            "/etc/assetd/config.toml",
        );
        assert_eq!(
            line,
            "3 sources: 2 ok, 1 failing (auvik-main: credentials rejected)"
        );
    }

    #[test]
    fn held_removals_are_named_with_where_to_accept_them() {
        let line = summary(
            &[
                src("auvik", SourceState::Ok, ""),
                src(
                    "syncro",
                    SourceState::RemovalsHeld,
                    "partial: 430 removals held",
                ),
            ],
            None,
            "/etc/assetd/config.toml",
        );
        assert_eq!(
            line,
            "2 sources: 1 ok, 1 holding removals (syncro: `assetctl sources` says how to accept them)"
        );
    }

    #[test]
    fn failures_are_shortened_and_capped() {
        let long = "could not connect to auvikapi.us1.my.auvik.com: connection refused by the peer after many tries; check the network";
        let sources: Vec<_> = (0..5)
            .map(|i| src(&format!("s{i}"), SourceState::Failed, long))
            .chain([src("new", SourceState::Pending, "")])
            .collect();
        let line = summary(&sources, None, "/c.toml");
        assert!(line.starts_with("6 sources: 1 pending, 5 failing (s0: could not connect"));
        assert!(line.ends_with("; 2 more)"), "{line}");
        assert!(!line.contains("check the network"), "{line}");
        assert!(line.contains('…'));
    }

    #[test]
    fn no_sources_and_a_refused_config_say_what_to_do() {
        assert_eq!(
            summary(&[], None, "/etc/assetd/config.toml"),
            "No sources configured: add [[source]] tables to /etc/assetd/config.toml"
        );
        let line = summary(
            &[src("a", SourceState::Syncing, "")],
            Some("/etc/assetd/config.toml:3:1: unknown field `nme`\nsecond error"),
            "/etc/assetd/config.toml",
        );
        assert_eq!(
            line,
            "1 source: 1 syncing; config change refused (/etc/assetd/config.toml:3:1: unknown field `nme`), the previous config runs"
        );
    }
}
