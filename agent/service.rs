//! The running agent: its config, store and sync engine, and the domain operations the
//! RPC layer exposes. Handlers in `rpc` validate and translate; the work is here.

use crate::clients::{self, ClientView};
use crate::config::{self, Config, ConfigErrors};
use crate::event::EventFilter;
use crate::hooks::{HookError, HookStatus, Hooks};
use crate::model::{Asset, AssetChange, RunState, SyncRun};
use crate::store::{
    AssetFilter, AssetSink, BillableCounts, ClientLifecycle, CountAssets, DeviceRow, EventPage,
    LifecycleFilter, Store, StoreError,
};
use crate::sync::{Engine, RunSnapshot, SourceState, SourceStatus, SyncError, Triggered};
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::watch;

/// Errors of domain operations; `rpc` maps each to one gRPC status.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{field}: {message}")]
    InvalidArgument {
        field: &'static str,
        message: String,
    },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    FailedPrecondition(String),
    #[error("{0}")]
    Unimplemented(String),
    #[error("{0}")]
    Unavailable(String),
    /// No valid bearer token on a TCP listener (`auth`).
    #[error("{0}")]
    Unauthenticated(String),
    /// Out of disk space: the caller's request may work once space is freed.
    #[error("{0}")]
    ResourceExhausted(String),
    /// A cursor outside the event log: older than its retention, or past its end.
    #[error("{0}")]
    OutOfRange(String),
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::InvalidArgument {
            field,
            message: message.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if e.is_disk_full() {
            ApiError::ResourceExhausted(e.to_string())
        } else if matches!(e, StoreError::SourceSyncing(_)) {
            ApiError::FailedPrecondition(e.to_string())
        } else {
            ApiError::Internal(e.to_string())
        }
    }
}

impl From<HookError> for ApiError {
    fn from(e: HookError) -> Self {
        match e {
            HookError::UnknownHook(_) => ApiError::NotFound(e.to_string()),
            HookError::Store(s) => s.into(),
        }
    }
}

impl From<SyncError> for ApiError {
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::UnknownSource(_) => ApiError::NotFound(e.to_string()),
            SyncError::Halted(_) => ApiError::FailedPrecondition(e.to_string()),
            SyncError::ShuttingDown => ApiError::Unavailable(e.to_string()),
            SyncError::Store(s) => s.into(),
        }
    }
}

/// Whether the file on disk is the config that runs.
#[derive(Debug, Clone)]
pub struct ConfigStatus {
    pub path: PathBuf,
    pub rejected: bool,
    pub last_error: String,
    pub loaded_at: DateTime<Utc>,
    pub generation: i64,
}

/// A source as `ListSources`/`GetStatus` show it: configured ones with their scheduler
/// status, plus ones only the database still remembers.
#[derive(Debug, Clone)]
pub struct SourceView {
    pub name: String,
    pub kind: String,
    pub state: SourceState,
    pub state_detail: String,
    pub base_url: String,
    pub interval: Option<Duration>,
    pub full_interval: Option<Duration>,
    pub last_run: Option<SyncRun>,
    pub next_run_at: Option<DateTime<Utc>>,
    pub asset_count: i64,
    pub removed_from_config: bool,
    /// Why the vendor's billing figures cannot be read ("" when they can).
    pub billing_note: String,
}

pub struct Service {
    // Private: the API and the daemon ask the service, which decides what each may see or
    // do (`GetStatus` asks `database_status`, not the store).
    store: Store,
    engine: Arc<Engine>,
    /// The hooks' deliveries and the event log's pruning.
    hooks: Arc<Hooks>,
    /// Cancelled when the agent stops: streams that would follow forever end then.
    stopping: tokio_util::sync::CancellationToken,
    config: RwLock<Arc<Config>>,
    config_status: Mutex<ConfigStatus>,
    pub started_at: DateTime<Utc>,
}

/// Where a `WatchEvents` stream starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventCursor {
    /// Only events committed from now on.
    Now,
    /// The events after this id that are retained (0: all of them).
    After(i64),
}

/// The database as `GetStatus` shows it.
#[derive(Debug, Clone)]
pub struct DatabaseView {
    pub path: PathBuf,
    pub size_bytes: i64,
    pub asset_count: i64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Service {
    /// Starts an agent on an already loaded config: links clients and starts the sources.
    /// `interrupted`: sources whose run the last stop cut short (`Store::recover`); they
    /// run again at once.
    pub async fn start(
        config_path: &Path,
        config: Config,
        store: Store,
        interrupted: Vec<String>,
    ) -> Result<Arc<Service>, StoreError> {
        let groups = config.clients.clone();
        store.call(move |s| s.set_client_groups(groups)).await?;
        let engine = Engine::new(store.clone(), interrupted);
        // Hooks first: a first run's events are committed as soon as sources start.
        let hooks = Hooks::start(store.clone(), config.agent.event_retention);
        hooks.apply_config(&config).await?;
        engine.apply_config(&config, true).await;
        let agent = Arc::new(Service {
            store,
            engine,
            hooks,
            stopping: tokio_util::sync::CancellationToken::new(),
            config: RwLock::new(Arc::new(config)),
            config_status: Mutex::new(ConfigStatus {
                path: config_path.to_path_buf(),
                rejected: false,
                last_error: String::new(),
                loaded_at: Utc::now(),
                generation: 1,
            }),
            started_at: Utc::now(),
        });
        // Count now, in the background: otherwise the first GetBillableCounts (and
        // GetLifecycleSummary) after a start pays for a pass over every asset (seconds on a
        // million).
        let warm = agent.clone();
        tokio::spawn(async move {
            let cutoff = warm.grace_cutoff();
            if let Err(e) = warm.store.call(move |s| s.warm_counts(Some(cutoff))).await {
                tracing::debug!(error = %e, "Could not precompute billable counts.");
            }
            warm.warm_lifecycle().await;
        });
        // The lifecycle summary is for a UTC date: recomputed as each day begins, so the
        // first question of the day does not wait for it. Weak: this task must not keep the
        // service alive.
        let daily = Arc::downgrade(&agent);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(until_next_utc_day(Utc::now())).await;
                let Some(agent) = daily.upgrade() else { return };
                agent.warm_lifecycle().await;
            }
        });
        Ok(agent)
    }

    /// Where the database is, how large, and how many assets it holds.
    pub async fn database_status(&self) -> Result<DatabaseView, ApiError> {
        let path = self.store.path().to_path_buf();
        let (size_bytes, asset_count) = self
            .store
            .call(|s| Ok((s.size_bytes(), s.count_assets()?)))
            .await?;
        Ok(DatabaseView {
            path,
            size_bytes,
            asset_count,
        })
    }

    /// When each source's last successful (`ok`) run finished, for the metrics.
    pub async fn last_successes(&self) -> Result<Vec<(String, DateTime<Utc>)>, ApiError> {
        Ok(self.store.call(|s| s.last_successes()).await?)
    }

    /// The configured sources with their scheduler status, by name.
    pub async fn source_states(&self) -> Vec<(crate::config::SourceConfig, SourceStatus)> {
        self.engine.statuses().await
    }

    /// The counters of every source's runs and requests since the start.
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        self.engine.metrics()
    }

    /// Woken whenever a source's state changes (see `Engine::changes`).
    pub fn changes(&self) -> Arc<tokio::sync::Notify> {
        self.engine.changes()
    }

    /// Whether every source's scheduling loop answers within `within` (the watchdog's
    /// question; see `Engine::probe`).
    pub async fn probe(&self, within: Duration) -> Result<(), crate::sync::ProbeError> {
        self.engine.probe(within).await
    }

    /// Cancels every run in progress (recorded as cancelled) and waits for the sources, at
    /// most `grace`; stops the hooks (an event being delivered is delivered again at the
    /// next start) and ends the event streams.
    pub async fn stop_sources(&self, grace: Duration) {
        self.stopping.cancel();
        self.engine.shutdown(grace).await;
        self.hooks.shutdown(Duration::from_secs(2)).await;
    }

    /// Cancelled when the agent stops.
    pub fn stopping(&self) -> tokio_util::sync::CancellationToken {
        self.stopping.clone()
    }

    /// Where a `WatchEvents` stream from `cursor` starts reading (the id it reads after),
    /// or why it cannot: a cursor older than what is retained, or past the log's end.
    pub async fn event_start(&self, cursor: EventCursor) -> Result<i64, ApiError> {
        let (pruned, last) = self.store.call(|s| s.event_horizon()).await?;
        let retention = humantime::format_duration(self.config().agent.event_retention);
        match cursor {
            EventCursor::Now => Ok(last),
            // Everything retained: what was pruned is not missed, it was never asked for.
            EventCursor::After(0) => Ok(pruned),
            EventCursor::After(n) if n > last => Err(ApiError::OutOfRange(format!(
                "after: event {n} is past the last event ({last}): this cursor belongs to another database \
                 (a restored or replaced one?). Start again with after = \"0\" for every retained event, \
                 or leave it empty for events from now on"
            ))),
            EventCursor::After(n) if n < pruned => Err(ApiError::OutOfRange(format!(
                "after: the events after {n} up to {pruned} are older than event_retention ({retention}) and were \
                 pruned, so some were missed. Read the current state again (ListAssets, GetBillableCounts), \
                 then resume with after = \"{pruned}\" (or \"0\", every retained event)"
            ))),
            EventCursor::After(n) => Ok(n),
        }
    }

    /// A page of events after `after`, up to `upto` (the last id known committed).
    pub async fn event_page(
        &self,
        after: i64,
        upto: i64,
        filter: EventFilter,
        limit: usize,
    ) -> Result<EventPage, ApiError> {
        Ok(self
            .store
            .call(move |s| s.events_after(after, upto, &filter, limit))
            .await?)
    }

    /// The event log's last committed id, changed after each commit that adds events.
    pub fn subscribe_events(&self) -> watch::Receiver<i64> {
        self.store.subscribe_events()
    }

    /// What a stream that has read up to `after` missed when the log was pruned past it.
    pub fn events_pruned_error(&self, after: i64, pruned: i64) -> ApiError {
        let retention = humantime::format_duration(self.config().agent.event_retention);
        ApiError::OutOfRange(format!(
            "the events after {after} up to {pruned} were pruned (event_retention {retention}) before this \
             stream read them. Read the current state again, then resume with after = \"{pruned}\""
        ))
    }

    /// The configured hooks with their outboxes.
    pub async fn hooks(&self) -> Result<Vec<HookStatus>, ApiError> {
        Ok(self.hooks.statuses().await?)
    }

    /// Tries a hook's next event at once, clearing its failing state.
    pub async fn retry_hook(&self, name: &str) -> Result<HookStatus, ApiError> {
        self.hooks.retry(name).await?;
        self.hooks()
            .await?
            .into_iter()
            .find(|h| h.config.name == name)
            .ok_or_else(|| ApiError::NotFound(format!("no hook named `{name}` in the config")))
    }

    /// Checkpoints the database, as the last thing before the agent exits. A WAL left
    /// behind is read through at the next start (about 0.3 s on a 1M-asset database).
    pub async fn checkpoint(&self) {
        if let Err(e) = self.store.call(|s| s.checkpoint()).await {
            tracing::debug!(error = %e, "Could not checkpoint the database at stop; the next start replays its WAL.");
        }
    }

    pub fn config(&self) -> Arc<Config> {
        self.config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn config_status(&self) -> ConfigStatus {
        lock(&self.config_status).clone()
    }

    /// Re-reads the config file: a valid one replaces the running config (sources added,
    /// removed, restarted as needed; clients re-linked at once); an invalid one is refused,
    /// the running config stays, and the error shows in `GetStatus` until a good file
    /// arrives. Settings that need a restart (database, listen, socket_group,
    /// metrics_listen) keep their running values.
    pub async fn reload(&self) -> Result<bool, ConfigErrors> {
        let path = lock(&self.config_status).path.clone();
        let had_sources = !self.config().sources.is_empty();
        let loaded = {
            let p = path.clone();
            tokio::task::spawn_blocking(move || {
                // A SIGHUP (or a watcher event) can land while an editor is still writing:
                // a file cut short may still parse, and applying it would stop the sources
                // it has not reached yet.
                wait_until_settled(&p, CONFIG_SETTLE, CONFIG_SETTLE_TRIES);
                // An editor that truncates and then writes leaves the file empty for a moment;
                // loading that would stop every source. An empty file is never a config
                // someone meant while sources run.
                let empty = std::fs::read_to_string(&p).is_ok_and(|t| t.trim().is_empty());
                if empty && had_sources {
                    return Err(ConfigErrors(vec![config::ConfigError {
                        path: p.clone(),
                        line: 0,
                        column: 0,
                        message: "the file is empty (a save still being written?); the running config stays. \
                                  To run with no sources, keep an [agent] table in it"
                            .into(),
                    }]));
                }
                config::load(&p)
            })
                .await
                .unwrap_or_else(|e| {
                    Err(ConfigErrors(vec![config::ConfigError {
                        path: path.clone(),
                        line: 0,
                        column: 0,
                        message: format!("reading the config failed: {e}"),
                    }]))
                })
        };
        let mut new = match loaded {
            Ok(c) => c,
            Err(e) => {
                let mut st = lock(&self.config_status);
                st.rejected = true;
                st.last_error = e.to_string();
                tracing::error!(error = %e, "The changed config is invalid; the running config stays.");
                return Err(e);
            }
        };
        let current = self.config();
        if new.agent.database != current.agent.database
            || new.agent.listen != current.agent.listen
            || new.agent.socket_group != current.agent.socket_group
            || new.agent.metrics_listen != current.agent.metrics_listen
        {
            tracing::warn!(
                "`agent.database`, `agent.listen`, `agent.socket_group` and `agent.metrics_listen` changes take effect at the next restart."
            );
            new.agent.database = current.agent.database.clone();
            new.agent.listen = current.agent.listen.clone();
            new.agent.socket_group = current.agent.socket_group.clone();
            new.agent.metrics_listen = current.agent.metrics_listen;
        }
        // Whether the TCP listeners speak TLS was settled when they were bound: a new
        // certificate, key or client CA applies to the next connection, but turning TLS on
        // or off needs a restart, and until then the running settings stay (a TLS listener
        // must never be left without a certificate).
        if new.agent.tls.is_some() != current.agent.tls.is_some() {
            tracing::warn!(
                "Adding or removing `tls_cert`/`tls_key` takes effect at the next restart; the TCP listeners keep their TLS settings."
            );
            new.agent.tls = current.agent.tls.clone();
        }
        let changed = new != *current;
        if changed {
            if new.clients != current.clients {
                let groups = new.clients.clone();
                if let Err(e) = self.store.call(move |s| s.set_client_groups(groups)).await {
                    tracing::error!(error = %e, "Could not re-link clients.");
                }
            }
            if new.hooks != current.hooks
                || new.agent.event_retention != current.agent.event_retention
            {
                // A hook added now starts from now; a removed one's outbox goes.
                if let Err(e) = self.hooks.apply_config(&new).await {
                    tracing::error!(error = %e, "Could not apply the hooks of the new config.");
                }
            }
            self.engine.apply_config(&new, false).await;
            *self.config.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(new);
            tracing::info!("Config reloaded.");
        }
        let mut st = lock(&self.config_status);
        st.rejected = false;
        st.last_error.clear();
        if changed {
            st.loaded_at = Utc::now();
            st.generation += 1;
        }
        Ok(changed)
    }

    /// Assets removed after this instant still count as present (`removed_grace`).
    pub fn grace_cutoff(&self) -> DateTime<Utc> {
        let grace = self.config().agent.removed_grace;
        // Checked: a grace reaching before the calendar's start counts every removal.
        let now = Utc::now();
        chrono::Duration::from_std(grace)
            .ok()
            .and_then(|g| now.checked_sub_signed(g))
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// Hands `sink` one page of assets (see `Store::visit_assets`), off the async threads;
    /// gives the sink back with the page in it.
    pub async fn visit_assets<S: AssetSink + Send + 'static>(
        &self,
        mut filter: AssetFilter,
        after_id: i64,
        limit: usize,
        mut sink: S,
    ) -> Result<S, ApiError> {
        filter.removed_grace_cutoff = Some(self.grace_cutoff());
        Ok(self
            .store
            .call(move |s| {
                s.visit_assets(&filter, after_id, limit, &mut sink)?;
                Ok(sink)
            })
            .await?)
    }

    pub async fn get_asset(&self, id: i64) -> Result<Asset, ApiError> {
        self.store
            .call(move |s| s.get_asset(id))
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no asset with id {id}")))
    }

    pub async fn list_changes(
        &self,
        asset_id: i64,
        after_id: i64,
        limit: usize,
    ) -> Result<Vec<(i64, AssetChange)>, ApiError> {
        if asset_id != 0 {
            self.get_asset(asset_id).await?;
        }
        Ok(self
            .store
            .call(move |s| s.list_changes(asset_id, after_id, limit))
            .await?)
    }

    pub async fn list_clients(&self) -> Result<Vec<ClientView>, ApiError> {
        self.clients(CountAssets::Present(Some(self.grace_cutoff())))
            .await
    }

    async fn clients(&self, count: CountAssets) -> Result<Vec<ClientView>, ApiError> {
        let rows = self
            .store
            .call(move |s| s.list_source_clients(count))
            .await?;
        let config = self.config();
        let sources: Vec<String> = config.sources.iter().map(|s| s.name.clone()).collect();
        Ok(clients::build(rows, &config.clients, &sources))
    }

    /// How many clients are unmapped: present in only one of several configured sources.
    /// Status asks this often, so it does not count assets.
    pub async fn unmapped_client_count(&self) -> Result<i64, ApiError> {
        let clients = self.clients(CountAssets::No).await?;
        Ok(clients.iter().filter(|c| c.unmapped).count() as i64)
    }

    pub async fn list_runs(
        &self,
        source: Option<String>,
        before_id: i64,
        limit: usize,
    ) -> Result<Vec<SyncRun>, ApiError> {
        Ok(self
            .store
            .call(move |s| s.list_runs(source.as_deref(), before_id, limit))
            .await?)
    }

    pub async fn trigger(
        &self,
        sources: &[String],
        full: bool,
        accept_removals: bool,
    ) -> Result<Vec<(String, Triggered)>, ApiError> {
        Ok(self.engine.trigger(sources, full, accept_removals).await?)
    }

    /// A run's progress while it runs, or its final record once finished.
    pub async fn watch_run(
        &self,
        run_id: i64,
    ) -> Result<Result<watch::Receiver<RunSnapshot>, SyncRun>, ApiError> {
        // A run is recorded (and listed) a moment before its progress can be watched; a
        // client that found it in that moment must get the live run, not its `running`
        // record and an ended stream. A run still `running` but never live is one a crash
        // left behind (start-up marks those failed), so the wait is short.
        const WAITS: u32 = 50;
        for wait in 0..=WAITS {
            if let Some(rx) = self.engine.watch(run_id) {
                return Ok(Ok(rx));
            }
            match self.store.call(move |s| s.get_run(run_id)).await? {
                Some(run) if run.state == RunState::Running && wait < WAITS => {
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
                Some(run) => return Ok(Err(run)),
                None => break,
            }
        }
        Err(ApiError::NotFound(format!("no sync run with id {run_id}")))
    }

    pub async fn sources(&self) -> Result<Vec<SourceView>, ApiError> {
        let cutoff = self.grace_cutoff();
        let rows = self
            .store
            .call(move |s| s.list_sources(Some(cutoff)))
            .await?;
        let statuses = self.engine.statuses().await;
        let mut views: Vec<SourceView> = statuses
            .into_iter()
            .map(|(cfg, status): (_, SourceStatus)| {
                let row = rows.iter().find(|r| r.name == cfg.name);
                SourceView {
                    name: cfg.name.clone(),
                    kind: cfg.kind().to_string(),
                    state: status.state,
                    state_detail: status.state_detail,
                    base_url: cfg.base_url.to_string(),
                    interval: Some(cfg.interval),
                    full_interval: Some(cfg.full_interval),
                    last_run: row.and_then(|r| r.last_run.clone()),
                    next_run_at: status.next_run_at,
                    asset_count: row.map_or(0, |r| r.asset_count),
                    removed_from_config: false,
                    billing_note: row.map(|r| r.billing_note.clone()).unwrap_or_default(),
                }
            })
            .collect();
        for row in rows {
            if views.iter().any(|v| v.name == row.name) {
                continue;
            }
            views.push(SourceView {
                name: row.name.clone(),
                kind: row.kind.clone(),
                state: row
                    .last_run
                    .as_ref()
                    .map_or(SourceState::Pending, SourceState::after),
                state_detail: format!(
                    "no longer in the config; its data stays until `assetctl purge --source {} --yes`",
                    row.name
                ),
                base_url: String::new(),
                interval: None,
                full_interval: None,
                last_run: row.last_run,
                next_run_at: None,
                asset_count: row.asset_count,
                removed_from_config: true,
                billing_note: row.billing_note,
            });
        }
        views.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(views)
    }

    /// Current billable counts per client (excluded clients left out), or with `period`
    /// ("YYYY-MM") each service's daily average and maximum over that month.
    pub async fn billable_counts(
        &self,
        client: Option<String>,
        period: Option<String>,
    ) -> Result<CountsReport, ApiError> {
        let config = self.config();
        let excluded: Vec<String> = config
            .clients
            .iter()
            .filter(|g| g.exclude)
            .map(|g| g.name.clone())
            .collect();
        let keep = |name: &str| {
            !excluded.iter().any(|e| e == name) && client.as_deref().is_none_or(|c| c == name)
        };
        let Some(month) = period else {
            let cutoff = self.grace_cutoff();
            let rows = self
                .store
                .call(move |s| s.billable_counts(Some(cutoff)))
                .await?
                .iter()
                .filter(|(c, _)| keep(c))
                .map(|(c, n)| (c.clone(), *n, None))
                .collect();
            return Ok(CountsReport {
                rows,
                ..CountsReport::default()
            });
        };
        let m = month.clone();
        let (rows, own, vendor, sources) = self
            .store
            .call(move |s| {
                Ok((
                    s.period_counts(&m)?,
                    s.own_averages(&m)?,
                    s.vendor_usage(&m)?,
                    s.usage_sources(&m)?,
                ))
            })
            .await?;
        let rows: Vec<_> = rows
            .into_iter()
            .filter(|(c, _, _)| keep(c))
            .map(|(c, avg, max)| (c, avg, Some(max)))
            .collect();
        let reconciliation = rows
            .iter()
            .map(|(client, _, _)| {
                let ours = own.iter().find(|o| &o.client == client);
                let theirs = vendor.iter().find(|v| &v.client == client);
                let average = ours.map(|o| o.average_billable).unwrap_or(0.0);
                Reconciliation {
                    client: client.clone(),
                    average_billable: average,
                    days: ours.map(|o| o.days).unwrap_or(0),
                    auvik_average_billable: theirs.map(|v| v.average_billable),
                    auvik_days: theirs.map(|v| v.days).unwrap_or(0),
                    difference: theirs.map(|v| average - v.average_billable),
                    auvik_fetched_at: theirs.and_then(|v| v.fetched_at),
                }
            })
            .collect();
        let notes = sources
            .into_iter()
            .filter(|s| s.kind == "auvik")
            .filter_map(|s| {
                if !s.note.is_empty() {
                    Some(format!("{}: {}", s.source, s.note))
                } else if !s.has_period {
                    Some(format!(
                        "{}: no Auvik billing figures for {month}; assetd reads the current and the previous month on each full sync",
                        s.source
                    ))
                } else {
                    None
                }
            })
            .collect();
        Ok(CountsReport {
            rows,
            reconciliation,
            notes,
        })
    }

    pub async fn list_devices(
        &self,
        client: Option<String>,
        lifecycle: LifecycleFilter,
        after_id: i64,
        limit: usize,
    ) -> Result<Vec<DeviceRow>, ApiError> {
        let cutoff = self.grace_cutoff();
        Ok(self
            .store
            .call(move |s| {
                s.list_devices(client.as_deref(), Some(cutoff), &lifecycle, after_id, limit)
            })
            .await?)
    }

    /// Each client's devices' lifecycle on `today` (excluded clients left out, as in
    /// billable counts), or one client's.
    pub async fn lifecycle_summary(
        &self,
        client: Option<String>,
        today: chrono::NaiveDate,
    ) -> Result<Vec<ClientLifecycle>, ApiError> {
        let config = self.config();
        let cutoff = self.grace_cutoff();
        let all = self
            .store
            .call(move |s| s.lifecycle_summary(Some(cutoff), today))
            .await?;
        Ok(all
            .iter()
            .filter(|c| {
                !config
                    .clients
                    .iter()
                    .any(|g| g.exclude && g.name == c.client)
                    && client.as_deref().is_none_or(|want| want == c.client)
            })
            .cloned()
            .collect())
    }

    /// Computes today's lifecycle summary ahead of the first question (see `start`).
    pub async fn warm_lifecycle(&self) {
        let cutoff = self.grace_cutoff();
        let today = crate::model::today();
        if let Err(e) = self
            .store
            .call(move |s| s.warm_lifecycle(Some(cutoff), today))
            .await
        {
            tracing::debug!(error = %e, "Could not precompute the lifecycle summary.");
        }
    }

    pub async fn purge_source(&self, source: String) -> Result<i64, ApiError> {
        let known = self.sources().await?.into_iter().find(|s| s.name == source);
        match known {
            None => Err(ApiError::NotFound(format!(
                "no source named `{source}` in the database"
            ))),
            // Whether a run is in progress is decided inside the purge's transaction
            // (`StoreError::SourceSyncing`), not here, where one could start meanwhile.
            Some(_) => Ok(self.store.call(move |s| s.purge_source(&source)).await?),
        }
    }
}

/// From `now` to just after the next UTC midnight (a second after, so the date has changed
/// for whoever asks then).
fn until_next_utc_day(now: DateTime<Utc>) -> Duration {
    let next = now
        .date_naive()
        .succ_opt()
        .and_then(|d| d.and_hms_opt(0, 0, 1))
        .map(|t| t.and_utc());
    next.and_then(|t| (t - now).to_std().ok())
        .unwrap_or(Duration::from_secs(3600))
}

/// How long the config file must read the same before a reload applies it, and how many
/// such waits at most (a file rewritten without pause for longer is read as it then is,
/// and validation judges it).
const CONFIG_SETTLE: Duration = Duration::from_millis(200);
const CONFIG_SETTLE_TRIES: u32 = 25;

/// Waits until two reads of `path` `settle` apart agree (at most `tries` waits). A read
/// that fails ends the wait: loading reports it.
fn wait_until_settled(path: &std::path::Path, settle: Duration, tries: u32) {
    let Ok(mut seen) = std::fs::read(path) else {
        return;
    };
    for _ in 0..tries {
        std::thread::sleep(settle);
        match std::fs::read(path) {
            Ok(now) if now == seen => return,
            Ok(now) => seen = now,
            Err(_) => return,
        }
    }
}

/// Billable counts as `GetBillableCounts` answers them.
#[derive(Debug, Default)]
pub struct CountsReport {
    /// Per client: current counts, or the period's daily average and maximum.
    pub rows: Vec<(String, BillableCounts, Option<BillableCounts>)>,
    /// With a period: each client's figure beside Auvik's.
    pub reconciliation: Vec<Reconciliation>,
    /// With a period: why Auvik's figures are missing, per source.
    pub notes: Vec<String>,
}

/// One client's billable devices over a period, ours beside what Auvik bills.
#[derive(Debug, Clone, PartialEq)]
pub struct Reconciliation {
    pub client: String,
    /// Our daily average of `total_billable`, unrounded.
    pub average_billable: f64,
    /// Days of the period with a snapshot of ours.
    pub days: i64,
    pub auvik_average_billable: Option<f64>,
    pub auvik_days: i64,
    /// Ours minus Auvik's.
    pub difference: Option<f64>,
    pub auvik_fetched_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reload_waits_for_a_save_still_being_written() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[agent]\n").unwrap();
        // An editor writing the file in pieces, 50 ms apart.
        let writer = {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut f = std::fs::OpenOptions::new()
                    .append(true)
                    .open(&path)
                    .unwrap();
                for i in 0..8 {
                    std::thread::sleep(Duration::from_millis(50));
                    writeln!(f, "# part {i}").unwrap();
                }
            })
        };
        std::thread::sleep(Duration::from_millis(20));
        wait_until_settled(&path, Duration::from_millis(150), 25);
        // Returned only once the last piece was in.
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("# part 7"), "{text}");
        writer.join().unwrap();
        // A file that cannot be read is not waited for (loading reports it): one wait
        // would take the whole 5 s.
        let started = std::time::Instant::now();
        wait_until_settled(&dir.path().join("missing.toml"), Duration::from_secs(5), 25);
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
