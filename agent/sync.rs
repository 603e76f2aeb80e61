//! Scheduling and running syncs: one task per configured source.
//!
//! Each source task owns its schedule and is the only place that starts runs for it, so
//! "at most one run per source" holds by construction: a trigger that arrives during a
//! run is answered with that run's id (it *joins* it). While a run fetches, its records
//! flow through a small bounded channel into the store's staging area, so memory stays
//! flat however large the inventory; `Store::finish_run` then applies it atomically.

use crate::config::{Config, RemovalLimit, SourceConfig};
use crate::metrics::{Metrics, RunReport, SourceMetrics};
use crate::model::{RunKind, RunState, RunTrigger, SyncRun};
use crate::store::{Apply, Removals, RunEnd, Store, StoreError};
use crate::vendors::{self, Batch, Connector, FetchContext, Presence, Progress, VendorError};
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("no source named `{0}` in the config")]
    UnknownSource(String),
    /// The source stopped calling its vendor; the config must change first.
    #[error("{0}")]
    Halted(String),
    #[error("the agent is shutting down")]
    ShuttingDown,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why the scheduler failed a liveness probe (`Engine::probe`).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProbeError {
    #[error("the scheduler's source table stayed locked for {0:?}")]
    SchedulerBusy(Duration),
    #[error("source `{name}`'s scheduling loop did not answer within {within:?}")]
    SourceUnresponsive { name: String, within: Duration },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceState {
    Pending,
    Ok,
    Syncing,
    Partial,
    Failed,
    CredentialsRejected,
    /// The last full run held its removals (more than `max_removals`): the detail says how
    /// many and how to accept them.
    RemovalsHeld,
}

impl SourceState {
    /// The state a source's last finished run leaves it in.
    pub fn after(run: &SyncRun) -> SourceState {
        SourceState::after_end(run.state, run.counts.removals_held)
    }

    /// The state a run that ends in `state`, holding `removals_held` removals, leaves its
    /// source in (unless the source halts: `execute`).
    fn after_end(state: RunState, removals_held: i64) -> SourceState {
        match state {
            _ if removals_held > 0 => SourceState::RemovalsHeld,
            RunState::Ok => SourceState::Ok,
            RunState::Partial => SourceState::Partial,
            _ => SourceState::Failed,
        }
    }

    /// The contract's name (`assetctl sources`, `source.state_changed`).
    pub fn as_str(self) -> &'static str {
        match self {
            SourceState::Pending => "pending",
            SourceState::Ok => "ok",
            SourceState::Syncing => "syncing",
            SourceState::Partial => "partial",
            SourceState::Failed => "failed",
            SourceState::CredentialsRejected => "credentials_rejected",
            SourceState::RemovalsHeld => "removals_held",
        }
    }
}

/// What the scheduler knows of a source right now.
#[derive(Debug, Clone)]
pub struct SourceStatus {
    pub state: SourceState,
    /// What is wrong and what to do, when the state is not Ok.
    pub state_detail: String,
    pub next_run_at: Option<DateTime<Utc>>,
    /// Set when the vendor must not be called again until the config changes
    /// (rejected credentials, wrong region).
    pub halted: bool,
}

/// A run as it progresses; the last one sent has the finished run.
#[derive(Debug, Clone)]
pub struct RunSnapshot {
    pub run: SyncRun,
    pub clients_done: i64,
    pub clients_total: i64,
}

#[derive(Debug, Clone, Copy)]
pub struct Triggered {
    pub run_id: i64,
    pub joined: bool,
}

struct TriggerRequest {
    full: bool,
    /// Apply the removals the next full run finds, past `max_removals`.
    accept_removals: bool,
    trigger: RunTrigger,
    reply: oneshot::Sender<Result<Triggered, SyncError>>,
}

/// What a source task is asked, on the one channel its loop always listens to.
enum SourceMsg {
    Trigger(TriggerRequest),
    /// "Are you turning?": answered by the loop itself, so an answer proves the source's
    /// scheduling is alive (the watchdog's question, see `Engine::probe`).
    Probe(oneshot::Sender<()>),
}

struct SourceSlot {
    config_tx: watch::Sender<SourceConfig>,
    trigger_tx: mpsc::Sender<SourceMsg>,
    status: Arc<Mutex<SourceStatus>>,
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

type ActiveRuns = Arc<Mutex<HashMap<i64, watch::Receiver<RunSnapshot>>>>;

pub struct Engine {
    store: Store,
    /// Counters of every source's runs and requests since the start; reloads keep them.
    metrics: Arc<Metrics>,
    sources: tokio::sync::Mutex<HashMap<String, SourceSlot>>,
    active: ActiveRuns,
    shutdown: CancellationToken,
    /// Sources whose last run a crash cut short: at the first load they run again at once.
    interrupted: Vec<String>,
    /// Woken whenever a source's state changes or sources come and go (`changes`).
    changes: Arc<Notify>,
    /// The first and longest wait before a panicked source task restarts.
    restart_waits: (Duration, Duration),
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Engine {
    pub fn new(store: Store, interrupted: Vec<String>) -> Arc<Engine> {
        Arc::new(Engine {
            store,
            metrics: Arc::new(Metrics::default()),
            sources: tokio::sync::Mutex::new(HashMap::new()),
            active: Arc::new(Mutex::new(HashMap::new())),
            shutdown: CancellationToken::new(),
            interrupted,
            changes: Arc::new(Notify::new()),
            restart_waits: (RESTART_FIRST_WAIT, RESTART_MAX_WAIT),
        })
    }

    /// Notified (one stored permit, so nothing is missed between waits) whenever a
    /// source's state changes or sources are added or removed: the one consumer re-reads
    /// `statuses()` (the service manager's STATUS= line).
    pub fn changes(&self) -> Arc<Notify> {
        self.changes.clone()
    }

    /// Whether every source's scheduling loop answers within `within`. Each is asked on
    /// the channel it takes triggers on, and answers from its own loop (idle, or between
    /// the steps of a run), so success means the scheduler turns, not merely that the
    /// runtime is alive. A loop stuck in a store call that does not return (a database
    /// locked by someone else past the busy timeout, a deadlock) fails it.
    pub async fn probe(&self, within: Duration) -> Result<(), ProbeError> {
        let deadline = tokio::time::Instant::now() + within;
        let senders: Vec<(String, mpsc::Sender<SourceMsg>)> =
            match tokio::time::timeout_at(deadline, self.sources.lock()).await {
                Ok(sources) => sources
                    .iter()
                    .map(|(name, slot)| (name.clone(), slot.trigger_tx.clone()))
                    .collect(),
                Err(_) => return Err(ProbeError::SchedulerBusy(within)),
            };
        let asks = senders.into_iter().map(|(name, tx)| async move {
            let (answer, answered) = oneshot::channel();
            let ok = tokio::time::timeout_at(deadline, async {
                tx.send(SourceMsg::Probe(answer)).await.is_ok() && answered.await.is_ok()
            })
            .await
            .unwrap_or(false);
            (name, ok)
        });
        let mut silent: Vec<String> = futures_util::future::join_all(asks)
            .await
            .into_iter()
            .filter(|(_, ok)| !ok)
            .map(|(name, _)| name)
            .collect();
        silent.sort();
        match silent.into_iter().next() {
            None => Ok(()),
            Some(name) => Err(ProbeError::SourceUnresponsive { name, within }),
        }
    }

    /// Brings the running sources in line with `config`: starts new ones (with an
    /// immediate full sync), stops removed ones (their data stays), restarts those whose
    /// connection or credentials changed (full sync at once, a rejection forgotten), and
    /// hands schedule-only changes to the running task without interrupting it.
    pub async fn apply_config(&self, config: &Config, first_load: bool) {
        let mut sources = self.sources.lock().await;
        let wanted: HashMap<&str, &SourceConfig> = config
            .sources
            .iter()
            .map(|s| (s.name.as_str(), s))
            .collect();
        let stale: Vec<String> = sources
            .iter()
            .filter(|(name, slot)| {
                wanted
                    .get(name.as_str())
                    .is_none_or(|new| !slot.config_tx.borrow().connection_eq(new))
            })
            .map(|(name, _)| name.clone())
            .collect();
        for name in stale {
            if let Some(slot) = sources.remove(&name) {
                slot.cancel.cancel();
                // The task records its in-flight run as cancelled before it ends.
                let _ = tokio::time::timeout(Duration::from_secs(30), slot.task).await;
                if !wanted.contains_key(name.as_str()) {
                    tracing::info!(source = %name, "Source removed from the config; it stops syncing and its data stays (purge deletes it).");
                }
            }
        }
        for source in &config.sources {
            if let Some(slot) = sources.get(&source.name) {
                if *slot.config_tx.borrow() != *source {
                    let _ = slot.config_tx.send(source.clone());
                }
                continue;
            }
            // A source new to this process: at the first load it follows its schedule
            // (a never-synced one runs at once, and so does one whose run a crash cut
            // short: a full run, as nothing of it was kept); added or changed later, it
            // syncs fully now.
            let initial = if first_load {
                self.interrupted
                    .contains(&source.name)
                    .then_some(RunTrigger::Schedule)
            } else {
                Some(RunTrigger::Config)
            };
            match self.spawn_source(source.clone(), initial).await {
                Ok(slot) => {
                    sources.insert(source.name.clone(), slot);
                }
                Err(e) => {
                    tracing::error!(source = %source.name, error = %e, "Could not start the source.")
                }
            }
        }
        self.changes.notify_one();
    }

    async fn spawn_source(
        &self,
        config: SourceConfig,
        initial: Option<RunTrigger>,
    ) -> Result<SourceSlot, SyncError> {
        let connector = vendors::connector_for(&config);
        self.spawn_source_with(config, initial, connector).await
    }

    async fn spawn_source_with(
        &self,
        config: SourceConfig,
        initial: Option<RunTrigger>,
        connector: Result<Arc<dyn Connector>, VendorError>,
    ) -> Result<SourceSlot, SyncError> {
        let (name, kind) = (config.name.clone(), config.kind());
        self.store
            .call(move |s| s.ensure_source(&name, kind))
            .await?;
        let last_run = {
            let name = config.name.clone();
            self.store
                .call(move |s| Ok(s.list_runs(Some(&name), 0, 1)?.into_iter().next()))
                .await?
        };
        let status = Arc::new(Mutex::new(SourceStatus {
            state: last_run
                .as_ref()
                .map_or(SourceState::Pending, SourceState::after),
            state_detail: last_run.map(|r| r.error).unwrap_or_default(),
            next_run_at: None,
            halted: false,
        }));
        let (config_tx, config_rx) = watch::channel(config.clone());
        let (trigger_tx, trigger_rx) = mpsc::channel(16);
        let cancel = self.shutdown.child_token();
        let metrics = self.metrics.source(&config.name, config.kind());
        let task = SourceTask {
            store: self.store.clone(),
            config: config_rx,
            triggers: trigger_rx,
            status: status.clone(),
            changes: self.changes.clone(),
            cancel: cancel.clone(),
            active: self.active.clone(),
            not_before: None,
            metrics,
            accept_removals: Arc::new(AtomicBool::new(false)),
            in_flight: None,
            restart_waits: self.restart_waits,
        };
        // Everything the source logs (its runs, its vendor's retries) carries `source`.
        let span = tracing::info_span!("source", source = %config.name);
        let task = tokio::spawn(task.supervise(connector, initial).instrument(span));
        Ok(SourceSlot {
            config_tx,
            trigger_tx,
            status,
            cancel,
            task,
        })
    }

    /// Starts a run of each named source (all when empty), or joins the one in progress.
    /// With `accept_removals`, the next full run of each applies the removals it finds even
    /// past the source's `max_removals` (the run in progress, if it is full and has not yet
    /// settled its removals).
    pub async fn trigger(
        &self,
        names: &[String],
        full: bool,
        accept_removals: bool,
    ) -> Result<Vec<(String, Triggered)>, SyncError> {
        let requests = {
            let sources = self.sources.lock().await;
            let names: Vec<String> = if names.is_empty() {
                let mut all: Vec<String> = sources.keys().cloned().collect();
                all.sort();
                all
            } else {
                names.to_vec()
            };
            let mut requests = Vec::new();
            for name in names {
                let slot = sources
                    .get(&name)
                    .ok_or_else(|| SyncError::UnknownSource(name.clone()))?;
                requests.push((name, slot.trigger_tx.clone()));
            }
            requests
        };
        let mut out = Vec::new();
        for (name, tx) in requests {
            let (reply, rx) = oneshot::channel();
            tx.send(SourceMsg::Trigger(TriggerRequest {
                full,
                accept_removals,
                trigger: RunTrigger::Manual,
                reply,
            }))
            .await
            .map_err(|_| SyncError::ShuttingDown)?;
            let triggered = rx.await.map_err(|_| SyncError::ShuttingDown)??;
            out.push((name, triggered));
        }
        Ok(out)
    }

    /// The metrics of every source since the start.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Progress of a run in progress; `None` once it has finished (read it from the store).
    pub fn watch(&self, run_id: i64) -> Option<watch::Receiver<RunSnapshot>> {
        lock(&self.active).get(&run_id).cloned()
    }

    /// The configured sources with their config and scheduler status, by name.
    pub async fn statuses(&self) -> Vec<(SourceConfig, SourceStatus)> {
        let sources = self.sources.lock().await;
        let mut out: Vec<_> = sources
            .values()
            .map(|slot| (slot.config_tx.borrow().clone(), lock(&slot.status).clone()))
            .collect();
        out.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        out
    }

    /// Cancels every run in progress (recorded as cancelled) and waits for the source
    /// tasks, at most `grace`.
    pub async fn shutdown(&self, grace: Duration) {
        self.shutdown.cancel();
        let mut sources = self.sources.lock().await;
        let tasks: Vec<_> = sources.drain().map(|(_, slot)| slot.task).collect();
        let _ = tokio::time::timeout(grace, futures_util::future::join_all(tasks)).await;
        self.changes.notify_one();
    }
}

struct SourceTask {
    store: Store,
    config: watch::Receiver<SourceConfig>,
    triggers: mpsc::Receiver<SourceMsg>,
    status: Arc<Mutex<SourceStatus>>,
    changes: Arc<Notify>,
    cancel: CancellationToken,
    active: ActiveRuns,
    /// Set when a run could not even be recorded (a full disk): no scheduled run before
    /// then, so a broken database is not hammered, while triggers still go through at once.
    not_before: Option<DateTime<Utc>>,
    metrics: Arc<SourceMetrics>,
    /// Set by a trigger with `accept_removals`; taken by the next full run that settles its
    /// removals.
    accept_removals: Arc<AtomicBool>,
    /// The run in progress, so that one a panic cut short is recorded as failed.
    in_flight: Option<SyncRun>,
    /// `Engine::restart_waits`.
    restart_waits: (Duration, Duration),
}

/// The first wait before a source whose task panicked runs again; it doubles with each
/// panic in a row, up to `RESTART_MAX_WAIT`.
const RESTART_FIRST_WAIT: Duration = Duration::from_secs(10);
const RESTART_MAX_WAIT: Duration = Duration::from_secs(600);
/// A task that has turned this long since its last restart starts from the first wait again.
const RESTART_HEALTHY_AFTER: Duration = Duration::from_secs(3600);

impl SourceTask {
    /// The source's life: its loop, run again whenever it panics. A panic is a bug, but
    /// one source's bug must not leave it silently unsynced while `sources` says ok (the
    /// operator bills from it): the run it cut short is recorded as failed, the source shows
    /// `failed` with what happened, and the loop restarts after a growing wait.
    async fn supervise(
        mut self,
        connector: Result<Arc<dyn Connector>, VendorError>,
        mut initial: Option<RunTrigger>,
    ) {
        use futures_util::FutureExt;
        let connector = match connector {
            Ok(c) => c,
            Err(e) => return self.stay_halted(e).await,
        };
        let (first_wait, max_wait) = self.restart_waits;
        let mut wait = first_wait;
        loop {
            let started = std::time::Instant::now();
            let turn = std::panic::AssertUnwindSafe(self.run(connector.clone(), initial.take()))
                .catch_unwind()
                .await;
            let Err(panic) = turn else { return };
            if started.elapsed() >= RESTART_HEALTHY_AFTER {
                wait = first_wait;
            }
            let what = panic_text(panic.as_ref());
            tracing::error!(panic = %what, restart_in_ms = wait.as_millis() as u64, "The source's task failed on an internal error (a bug: please report it with this log); it restarts.");
            self.metrics.task_restarted();
            self.abandon_in_flight(&what).await;
            let restart_at = Utc::now()
                + chrono::Duration::milliseconds(wait.as_millis().try_into().unwrap_or(0));
            let detail = format!(
                "assetd's task for this source failed on an internal error ({what}); it restarts by itself in {}. This is a bug: please report it with the log",
                humantime::format_duration(wait)
            );
            self.set_status(SourceState::Failed, detail.clone(), Some(restart_at));
            // A panic between runs fails no run: the state is recorded on its own (when a
            // run was cut short, its end recorded it already, and this changes nothing).
            self.record_state(SourceState::Failed, detail).await;
            if !self.wait_out(wait).await {
                return;
            }
            wait = (wait * 2).min(max_wait);
        }
    }

    /// Records the run a panic cut short as failed (nothing of it applied) and drops it
    /// from the live runs.
    async fn abandon_in_flight(&mut self, what: &str) {
        let Some(run) = self.in_flight.take() else {
            return;
        };
        lock(&self.active).remove(&run.id);
        let end = RunEnd {
            state: RunState::Failed,
            apply: Apply::Nothing,
            requests: 0,
            retries: 0,
            error: format!(
                "assetd failed on an internal error during this run ({what}); nothing of it was applied and the source restarts"
            ),
            skipped: 0,
            skipped_units: 0,
            removals_held: 0,
            watermark: None,
            keep_window: false,
            source_state: Some(SourceState::Failed.as_str()),
        };
        let recorded = self
            .store
            .call(move |s| s.finish_run(&run, end).map(|_| ()))
            .await;
        if let Err(e) = recorded {
            tracing::error!(error = %e, "Cannot record the failed run; the next start marks it interrupted.");
        }
    }

    /// Records a state decided without a run in the store (with `source.state_changed` when
    /// it changed). A failure is logged: the state shown stays right either way.
    async fn record_state(&self, state: SourceState, detail: String) {
        let name = self.name();
        if let Err(e) = self
            .store
            .call(move |s| s.record_source_state(&name, state.as_str(), &detail))
            .await
        {
            tracing::warn!(error = %e, "Cannot record the source's state in the event log.");
        }
    }

    /// Waits `wait` before a restart, answering probes and refusing triggers meanwhile.
    /// False when the source is stopping.
    async fn wait_out(&mut self, wait: Duration) -> bool {
        let sleep = tokio::time::sleep(wait);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = self.cancel.cancelled() => return false,
                _ = &mut sleep => return true,
                Some(msg) = self.triggers.recv() => match msg {
                    SourceMsg::Probe(answer) => { let _ = answer.send(()); }
                    SourceMsg::Trigger(req) => self.refuse(req),
                },
            }
        }
    }

    /// A source whose connector could not be built (a bad setting the config check could
    /// not see) stays and answers until the config changes it (which replaces this task):
    /// triggers learn why it is stopped, and the watchdog's probes see a live loop rather
    /// than a closed channel, which means a dead one.
    async fn stay_halted(mut self, e: VendorError) {
        lock(&self.status).halted = true;
        self.record_state(SourceState::Failed, e.to_string()).await;
        self.set_status(SourceState::Failed, e.to_string(), None);
        loop {
            tokio::select! {
                _ = self.cancel.cancelled() => return,
                Some(msg) = self.triggers.recv() => match msg {
                    SourceMsg::Probe(answer) => { let _ = answer.send(()); }
                    SourceMsg::Trigger(req) => self.refuse(req),
                },
            }
        }
    }

    async fn run(&mut self, connector: Arc<dyn Connector>, mut initial: Option<RunTrigger>) {
        loop {
            let (kind, due, schedule_trigger) = match initial.take() {
                Some(trigger) => (RunKind::Full, Some(Utc::now()), trigger),
                None => match self.next_due(connector.as_ref()).await {
                    Ok((kind, due)) => (kind, due, RunTrigger::Schedule),
                    Err(e) => {
                        tracing::error!(error = %e, "Cannot read the source's schedule; retrying in a minute.");
                        (
                            RunKind::Full,
                            Some(Utc::now() + chrono::Duration::minutes(1)),
                            RunTrigger::Schedule,
                        )
                    }
                },
            };
            let halted = lock(&self.status).halted;
            let due = if halted { None } else { due };
            let due = due.map(|d| self.not_before.map_or(d, |n| d.max(n)));
            lock(&self.status).next_run_at = due;
            let sleep_for = due
                .map(|d| (d - Utc::now()).to_std().unwrap_or(Duration::ZERO))
                .unwrap_or(Duration::from_secs(365 * 24 * 3600));
            // Pinned once: answering probes and refused triggers must not restart the wait
            // (nor re-roll its jitter).
            let sleep = tokio::time::sleep(sleep_for);
            tokio::pin!(sleep);
            let next = loop {
                tokio::select! {
                    _ = self.cancel.cancelled() => return,
                    _ = &mut sleep, if due.is_some() => break Some((kind, schedule_trigger, None)),
                    Some(msg) = self.triggers.recv() => match msg {
                        SourceMsg::Probe(answer) => { let _ = answer.send(()); }
                        SourceMsg::Trigger(req) if halted => self.refuse(req),
                        SourceMsg::Trigger(req) => {
                            if req.accept_removals {
                                self.accept_removals.store(true, Ordering::SeqCst);
                            }
                            let kind = if req.full || !connector.supports_incremental() { RunKind::Full } else { kind };
                            break Some((kind, req.trigger, Some(req.reply)));
                        }
                    },
                    Ok(()) = self.config.changed() => break None,
                }
            };
            let Some((kind, trigger, reply)) = next else {
                continue;
            };
            self.run_once(connector.clone(), kind, trigger, reply).await;
        }
    }

    /// Answers a trigger of a source that must not call its vendor until the config changes.
    fn refuse(&self, req: TriggerRequest) {
        let detail = lock(&self.status).state_detail.clone();
        let _ = req.reply.send(Err(SyncError::Halted(format!(
            "source `{}` is stopped: {detail}",
            self.name()
        ))));
    }

    fn name(&self) -> String {
        self.config.borrow().name.clone()
    }

    fn set_status(&self, state: SourceState, detail: String, next: Option<DateTime<Utc>>) {
        {
            let mut s = lock(&self.status);
            s.state = state;
            s.state_detail = detail;
            s.next_run_at = next;
        }
        self.changes.notify_one();
    }

    /// When the next scheduled run is due and whether it is full: the interval after the
    /// last run started (with ±10% jitter so sources and agents spread out), full when the
    /// last full run is older than the full interval.
    async fn next_due(
        &self,
        connector: &dyn Connector,
    ) -> Result<(RunKind, Option<DateTime<Utc>>), StoreError> {
        let config = self.config.borrow().clone();
        let name = config.name.clone();
        let schedule = self.store.call(move |s| s.source_schedule(&name)).await?;
        let (last_full, last_started) = (schedule.last_full_at, schedule.last_run_started);
        let now = Utc::now();
        let full_due = match last_full {
            None => true,
            Some(t) => {
                now - t
                    >= chrono::Duration::from_std(config.full_interval)
                        .unwrap_or(chrono::Duration::MAX)
            }
        };
        let kind = if full_due || !connector.supports_incremental() {
            RunKind::Full
        } else {
            RunKind::Incremental
        };
        let due = match last_started {
            None => now,
            Some(started) => {
                let jitter = 0.9 + fastrand::f64() * 0.2;
                let interval = config.interval.mul_f64(jitter);
                // Checked: an interval past the calendar's end means "not in this era",
                // never a panic that ends the source's task.
                chrono::Duration::from_std(interval)
                    .ok()
                    .and_then(|i| started.checked_add_signed(i))
                    .unwrap_or(DateTime::<Utc>::MAX_UTC)
            }
        };
        Ok((kind, Some(due)))
    }

    async fn run_once(
        &mut self,
        connector: Arc<dyn Connector>,
        kind: RunKind,
        trigger: RunTrigger,
        reply: Option<oneshot::Sender<Result<Triggered, SyncError>>>,
    ) {
        let name = self.name();
        let since = if kind == RunKind::Incremental {
            let n = name.clone();
            self.store
                .call(move |s| s.source_schedule(&n))
                .await
                .ok()
                .and_then(|sch| sch.incremental_since)
        } else {
            None
        };
        let run = {
            let n = name.clone();
            self.store
                .call(move |s| s.begin_run(&n, kind, trigger))
                .await
        };
        let run = match run {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "Cannot record a new run.");
                self.set_status(
                    SourceState::Failed,
                    format!("cannot record a run: {e}"),
                    None,
                );
                if let Some(reply) = reply {
                    let _ = reply.send(Err(e.into()));
                }
                // Do not spin on a broken database: the schedule waits a minute. Not a
                // sleep here, which would leave triggers unanswered for that minute.
                self.not_before = Some(Utc::now() + chrono::Duration::minutes(1));
                return;
            }
        };
        self.not_before = None;
        // Everything logged during the run (vendor retries, warnings) carries `run_id`; the
        // source span around it adds `source`.
        let span = tracing::info_span!(
            "run",
            run_id = run.id,
            kind = kind.as_str(),
            trigger = trigger.as_str()
        );
        // Events are logged *inside* the span (not with `parent:`): the journal and JSON
        // layers take span fields from the current span stack, not an explicit parent.
        span.in_scope(|| tracing::info!("Sync started."));
        self.set_status(SourceState::Syncing, String::new(), None);
        let (snap_tx, snap_rx) = watch::channel(RunSnapshot {
            run: run.clone(),
            clients_done: 0,
            clients_total: 0,
        });
        lock(&self.active).insert(run.id, snap_rx);
        self.in_flight = Some(run.clone());
        // Only now answer the trigger: a caller that watches the run id at once must find
        // the live run, not its `running` record with no progress to follow.
        if let Some(reply) = reply {
            let _ = reply.send(Ok(Triggered {
                run_id: run.id,
                joined: false,
            }));
        }

        let (run_timeout, max_removals) = {
            let config = self.config.borrow();
            (config.limits.run_timeout, config.max_removals)
        };
        let execution = execute(
            self.store.clone(),
            connector,
            run.clone(),
            since,
            (self.cancel.clone(), run_timeout, self.metrics.clone()),
            RemovalPolicy {
                limit: max_removals,
                accept: self.accept_removals.clone(),
            },
            &snap_tx,
        )
        .instrument(span.clone());
        tokio::pin!(execution);
        // Answer triggers while the run goes on: they join it.
        let finished = loop {
            tokio::select! {
                r = &mut execution => break r,
                Some(msg) = self.triggers.recv() => match msg {
                    SourceMsg::Probe(answer) => { let _ = answer.send(()); }
                    SourceMsg::Trigger(req) => {
                        if req.accept_removals {
                            self.accept_removals.store(true, Ordering::SeqCst);
                        }
                        let _ = req.reply.send(Ok(Triggered { run_id: run.id, joined: true }));
                    }
                },
            }
        };
        let (finished, halt) = match finished {
            Ok(f) => f,
            Err(e) => {
                span.in_scope(|| tracing::error!(error = %e, "Could not save the run."));
                let mut failed = run.clone();
                failed.state = RunState::Failed;
                failed.error = e.to_string();
                // The stored record, unless even the failure could not be written to it.
                let stored = self.store.get_run(run.id).ok().flatten();
                (
                    stored
                        .filter(|r| r.state != RunState::Running)
                        .unwrap_or(failed),
                    None,
                )
            }
        };
        let state = match halt {
            Some(halted_state) => halted_state,
            None => SourceState::after(&finished),
        };
        if finished.counts.removals_held > 0 {
            span.in_scope(|| {
                tracing::warn!(held = finished.counts.removals_held, "{}", finished.error)
            });
        }
        if halt.is_some() {
            lock(&self.status).halted = true;
        }
        self.set_status(state, finished.error.clone(), None);
        let c = finished.counts;
        // The one line per run, with everything needed to judge it (RELIABILITY.md and the
        // README point at it).
        let duration_ms = finished
            .finished
            .map(|end| (end - finished.started).num_milliseconds().max(0))
            .unwrap_or(0);
        span.in_scope(|| {
            tracing::info!(
                state = finished.state.as_str(),
                fetched = c.fetched, added = c.added, updated = c.updated, unchanged = c.unchanged,
                removed = c.removed, skipped = c.skipped, skipped_units = c.skipped_units,
                removals_held = c.removals_held, requests = finished.requests,
                retries = finished.retries, duration_ms, error = %finished.error, "Sync finished."
            )
        });
        snap_tx.send_modify(|s| s.run = finished.clone());
        lock(&self.active).remove(&run.id);
        self.in_flight = None;
    }
}

/// A panic's message, for the log and the source's state (panics carry a `&str` or a
/// `String`; anything else is named as such).
fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string());
    // One line, and short: it lands in `state_detail`.
    let line = text.lines().next().unwrap_or_default();
    line.chars().take(200).collect()
}

/// How a source's full runs settle removals: the limit past which they are held, and the
/// operator's acceptance of the next full run's removals (taken by the run that uses it).
struct RemovalPolicy {
    limit: RemovalLimit,
    accept: Arc<AtomicBool>,
}

/// Runs one fetch into the store. Returns the finished run and, when the source must stop
/// calling the vendor until its config changes, the state to show for it.
async fn execute(
    store: Store,
    connector: Arc<dyn Connector>,
    run: SyncRun,
    since: Option<DateTime<Utc>>,
    (stop, run_timeout, metrics): (CancellationToken, Duration, Arc<SourceMetrics>),
    removal_policy: RemovalPolicy,
    snapshots: &watch::Sender<RunSnapshot>,
) -> Result<(SyncRun, Option<SourceState>), StoreError> {
    let started = std::time::Instant::now();
    let progress = Arc::new(Progress::for_source(metrics.clone()));
    // The run's own token: cancelled when the agent stops or the config changes (`stop`),
    // or when the run outlives `run_timeout`, so a vendor that stalls cannot hold the
    // source (and its next runs) forever.
    let cancel = stop.child_token();
    let deadline = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(run_timeout).await;
            cancel.cancel();
        })
    };
    // An incremental run of a connector that skips unchanged records gets their versions;
    // without them it reads every record, which costs requests, not correctness.
    let known = if run.kind == RunKind::Incremental && connector.wants_known() {
        let source = run.source.clone();
        store
            .call(move |s| s.known_versions(&source))
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "Cannot read the stored records' versions; this run reads every record.");
                HashMap::new()
            })
    } else {
        HashMap::new()
    };
    // Two batches in flight: the connector fetches the next page while one is written.
    let (tx, rx) = mpsc::channel::<Batch>(2);
    let ctx = FetchContext {
        kind: run.kind,
        modified_since: since,
        known: Arc::new(known),
        sink: tx,
        progress: progress.clone(),
        cancel: cancel.clone(),
    };
    // The removal lookups after the fetch share its counters, token and clock, but not its
    // sink (nothing is sent then).
    let lookup_ctx = FetchContext {
        sink: mpsc::channel(1).0,
        known: ctx.known.clone(),
        progress: ctx.progress.clone(),
        cancel: ctx.cancel.clone(),
        ..ctx
    };
    // `ctx` (and with it the only sender) moves into the fetch, so the writer below sees
    // the channel close when the fetch ends.
    let fetching = connector.clone();
    let fetch = async move { fetching.fetch(&ctx).await };
    let write = async {
        // Owned here, so a writer that stops early (a full disk) drops it and the fetch's
        // next send fails at once, instead of waiting forever for room in the channel.
        let mut rx = rx;
        let mut fetched = 0i64;
        while let Some(batch) = rx.recv().await {
            let id = run.id;
            match batch {
                Batch::Clients(c) => store.call(move |s| s.stage_clients(id, &c)).await?,
                Batch::Assets(a) => {
                    fetched += a.len() as i64;
                    let staging_run = run.clone();
                    store
                        .call(move |s| s.stage_assets(&staging_run, &a))
                        .await?
                }
                Batch::Unchanged(ids) => {
                    fetched += ids.len() as i64;
                    let staging_run = run.clone();
                    store
                        .call(move |s| s.stage_unchanged(&staging_run, &ids))
                        .await?
                }
                Batch::Usage(u) => store.call(move |s| s.stage_usage(id, &u)).await?,
                Batch::Lifecycle(reports) => {
                    store.call(move |s| s.stage_lifecycle(id, &reports)).await?
                }
                Batch::LifecycleRead(scope) => {
                    store
                        .call(move |s| s.stage_lifecycle_scope(id, &scope))
                        .await?
                }
                Batch::UsageUnavailable(note) => {
                    let source = run.source.clone();
                    let logged = note.clone();
                    // Said once: the note is kept with the source and logged only when it
                    // changes, so a user without billing rights is not warned every run.
                    if store
                        .call(move |s| s.set_billing_note(&source, &note))
                        .await?
                    {
                        tracing::warn!("{logged}");
                    }
                }
            }
            snapshots.send_modify(|s| {
                s.run.counts.fetched = fetched;
                s.run.requests = progress.http.requests.load(Ordering::Relaxed);
                s.run.retries = progress.http.retries.load(Ordering::Relaxed);
                s.clients_done = progress.clients_done.load(Ordering::Relaxed);
                s.clients_total = progress.clients_total.load(Ordering::Relaxed);
            });
        }
        Ok::<(), StoreError>(())
    };
    let (mut fetched, mut written) = tokio::join!(fetch, write);
    // A full run that fetched and wrote everything settles what it found absent.
    let mut settled = Settled::default();
    if let (Ok(outcome), Ok(())) = (&fetched, &written)
        && run.kind == RunKind::Full
    {
        match settle_removals(
            &store,
            connector.as_ref(),
            &lookup_ctx,
            &run,
            outcome,
            &removal_policy,
        )
        .await
        {
            Ok(s) => settled = s,
            Err(SettleError::Store(e)) => written = Err(e),
            Err(SettleError::Vendor(e)) => fetched = Err(e),
        }
    }
    deadline.abort();
    let timed_out = cancel.is_cancelled() && !stop.is_cancelled();
    let requests = progress.http.requests.load(Ordering::Relaxed);
    let retries = progress.http.retries.load(Ordering::Relaxed);
    let end = |state, apply, error: String| RunEnd {
        state,
        apply,
        requests,
        retries,
        error,
        skipped: 0,
        skipped_units: 0,
        removals_held: 0,
        watermark: None,
        keep_window: false,
        source_state: None,
    };
    let reason = failure_reason(&fetched, &written, timed_out);
    let mut halt = None;
    let end = match (fetched, written) {
        (_, Err(e)) => {
            // A full disk's message already says what to do.
            let msg = if e.is_disk_full() {
                e.to_string()
            } else {
                format!("could not write to the database: {e}")
            };
            end(RunState::Failed, Apply::Nothing, msg)
        }
        (Err(VendorError::Cancelled), _) if timed_out => end(
            RunState::Failed,
            Apply::Nothing,
            format!(
                "the run took longer than run_timeout ({}) and was stopped; the previous data is unchanged and \
                 the next run starts over. A vendor that stalls does this; if the inventory is simply that large, \
                 raise `run_timeout`",
                humantime::format_duration(run_timeout)
            ),
        ),
        (Err(VendorError::Cancelled), _) => end(
            RunState::Cancelled,
            Apply::Nothing,
            "cancelled: the agent is stopping or the source's config changed; the previous data is unchanged".into(),
        ),
        (Err(e), _) => {
            halt = match e {
                VendorError::CredentialsRejected(_) => Some(SourceState::CredentialsRejected),
                ref e if e.stops_calls() => Some(SourceState::Failed),
                _ => None,
            };
            end(RunState::Failed, Apply::Nothing, e.to_string())
        }
        (Ok(outcome), Ok(())) => {
            // Best-effort data the run could not read: said, never a partial run.
            for note in &outcome.notes {
                tracing::warn!("{note}");
            }
            let report = RunReportText::of(&outcome, &settled, &run.source);
            let state = if report.is_partial() {
                RunState::Partial
            } else {
                RunState::Ok
            };
            let apply = if run.kind == RunKind::Full {
                Apply::Reconcile(std::mem::take(&mut settled.removals))
            } else {
                Apply::Upserts
            };
            RunEnd {
                skipped: outcome.skipped_records.len() as i64,
                skipped_units: outcome.skipped_units.len() as i64,
                removals_held: settled.held,
                watermark: outcome.vendor_started,
                keep_window: outcome.keep_window,
                ..end(state, apply, report.text())
            }
        }
    };
    let state = end.state;
    // The state the run leaves its source in is recorded with the run, so its change is an
    // event of the same transaction. A cancelled run (the agent stopping, the source's
    // config changing) says nothing about the source and leaves it as it was.
    let mut end = end;
    end.source_state = (state != RunState::Cancelled).then(|| {
        halt.unwrap_or_else(|| SourceState::after_end(state, end.removals_held))
            .as_str()
    });
    let finished = store.call(move |s| s.finish_run(&run, end)).await;
    let counts = finished.as_ref().map(|r| r.counts).unwrap_or_default();
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    metrics.run_finished(&RunReport {
        outcome: match (&finished, state) {
            (Err(_), _) | (_, RunState::Failed | RunState::Running) => "failed",
            (_, RunState::Ok) => "ok",
            (_, RunState::Partial) => "partial",
            (_, RunState::Cancelled) => "cancelled",
        },
        reason: match &finished {
            Err(_) => Some("storage"),
            Ok(_) if state == RunState::Failed => reason,
            Ok(_) => None,
        },
        duration: started.elapsed(),
        fetched: count(counts.fetched),
        added: count(counts.added),
        updated: count(counts.updated),
        removed: count(counts.removed),
    });
    // Off the run's path: drop its staging, and recount so the next GetBillableCounts
    // does not pay for it.
    let warm = store.clone();
    tokio::spawn(async move {
        if let Err(e) = warm.call(|s| s.drop_staging()).await {
            tracing::debug!(error = %e, "Could not drop the run's staging; the next run does.");
        }
        let today = crate::model::today();
        if let Err(e) = warm.call(move |s| s.warm_lifecycle(None, today)).await {
            tracing::debug!(error = %e, "Could not precompute the lifecycle summary.");
        }
        if let Err(e) = warm.call(|s| s.warm_counts(None)).await {
            tracing::debug!(error = %e, "Could not precompute billable counts.");
        }
    });
    Ok((finished?, halt))
}

/// What a full run decided about the assets it found absent.
#[derive(Debug, Default)]
struct Settled {
    removals: Removals,
    /// Removals held past `max_removals`, and the limit's words for the message.
    held: i64,
    limit: String,
    /// Absent assets the vendor still has (kept), and those it could not confirm for the
    /// first time (kept until a second complete run finds them absent).
    still_there: usize,
    unconfirmed: usize,
    /// Why the vendor could not confirm, once.
    unconfirmed_why: String,
    /// Absent assets the vendor would not let us look up (kept, never counted towards their
    /// removal), and why with what to do, once.
    refused: usize,
    refused_why: String,
}

enum SettleError {
    Store(StoreError),
    Vendor(VendorError),
}

/// Settles a full run's removals (CONTRACT §5): the present assets it did not see in what it
/// read to the end are the candidates; past the source's `max_removals` they are all held
/// (no lookups: a listing that came back empty must not cost thousands of requests), unless
/// the operator accepted this run's removals. Otherwise the vendor is asked about each, and
/// an asset is removed when the vendor says it is gone, or when the vendor cannot say and a
/// previous complete run already found it absent (two consecutive absences). Asking first
/// is chosen where a lookup exists because a listing can miss a row that moved between its
/// pages (Syncro's order is undocumented) or that it hides; the second absence covers the
/// vendors, and the answers, that cannot say.
async fn settle_removals(
    store: &Store,
    connector: &dyn Connector,
    ctx: &FetchContext,
    run: &SyncRun,
    outcome: &vendors::FetchOutcome,
    policy: &RemovalPolicy,
) -> Result<Settled, SettleError> {
    // An acceptance is for the next full run that settles its removals, whatever it finds:
    // one left set would wave through a later, unrelated mass removal.
    let accepted = policy.accept.swap(false, Ordering::SeqCst);
    let coverage = outcome.coverage.clone();
    let skipped: HashSet<String> = outcome
        .skipped_records
        .iter()
        .map(|r| r.external_id.clone())
        .collect();
    let candidates = {
        let run = run.clone();
        store
            .call(move |s| s.removal_candidates(&run, &coverage, &skipped))
            .await
            .map_err(SettleError::Store)?
    };
    if candidates.is_empty() {
        return Ok(Settled::default());
    }
    let present = {
        let source = run.source.clone();
        store
            .call(move |s| s.present_assets(&source))
            .await
            .map_err(SettleError::Store)?
    };
    let n = candidates.len() as u64;
    if !accepted
        && policy
            .limit
            .exceeded(n, u64::try_from(present).unwrap_or(0))
    {
        return Ok(Settled {
            removals: Removals {
                absent: candidates.iter().map(|c| c.id).collect(),
                ..Removals::default()
            },
            held: candidates.len() as i64,
            limit: policy.limit.describe(),
            ..Settled::default()
        });
    }
    if accepted {
        tracing::info!(
            candidates = n,
            "Removals accepted by the operator for this run."
        );
    }
    let ids: Vec<String> = candidates.iter().map(|c| c.external_id.clone()).collect();
    let answers = connector
        .confirm_absent(ctx, &ids)
        .await
        .map_err(SettleError::Vendor)?;
    let mut settled = Settled::default();
    for (candidate, answer) in candidates.iter().zip(answers) {
        match answer {
            Presence::Gone => settled.removals.remove.push(candidate.id),
            Presence::Present => {
                settled.removals.present.push(candidate.id);
                settled.still_there += 1;
            }
            Presence::Unknown(_) if candidate.absent_before => {
                settled.removals.remove.push(candidate.id)
            }
            Presence::Unknown(why) => {
                settled.removals.absent.push(candidate.id);
                settled.unconfirmed += 1;
                if settled.unconfirmed_why.is_empty() {
                    settled.unconfirmed_why = why;
                }
            }
            // Kept as if present: its absence note is cleared, so a refusal, however long it
            // lasts, never adds up to a second absence.
            Presence::Refused(why) => {
                settled.removals.present.push(candidate.id);
                settled.refused += 1;
                if settled.refused_why.is_empty() {
                    settled.refused_why = why;
                }
            }
        }
    }
    if settled.refused > 0 {
        tracing::warn!(kept = settled.refused, why = %settled.refused_why,
            "Assets missing from the listing were kept: the vendor refused their lookup.");
    }
    if settled.still_there > 0 {
        tracing::info!(
            kept = settled.still_there,
            "Assets missing from the listing were kept: the vendor still has them (looked up one by one)."
        );
    }
    if settled.unconfirmed > 0 {
        tracing::info!(kept = settled.unconfirmed, why = %settled.unconfirmed_why,
            "Assets missing from the listing are kept until a second complete run confirms them.");
    }
    Ok(settled)
}

/// The run's message: what could not be read and what was held, each with what to do
/// (`parts`, which make the run partial), then the notes on best-effort data (lifecycle),
/// which do not.
struct RunReportText {
    parts: Vec<String>,
    notes: Vec<String>,
}

impl RunReportText {
    fn of(outcome: &vendors::FetchOutcome, settled: &Settled, source: &str) -> RunReportText {
        let mut parts = Vec::new();
        if !outcome.skipped_units.is_empty() {
            parts.push(format!(
                "{} could not be read to the end, so nothing of {} was changed or removed: {}",
                plural(outcome.skipped_units.len(), "unit", "units"),
                if outcome.skipped_units.len() == 1 {
                    "it"
                } else {
                    "them"
                },
                outcome.skipped_units.join("; ")
            ));
        }
        if !outcome.skipped_records.is_empty() {
            // Grouped by reason, in the order first met.
            let mut reasons: Vec<(&str, usize)> = Vec::new();
            for r in &outcome.skipped_records {
                match reasons.iter_mut().find(|(why, _)| *why == r.why) {
                    Some((_, n)) => *n += 1,
                    None => reasons.push((&r.why, 1)),
                }
            }
            let reasons: Vec<String> = reasons
                .into_iter()
                .map(|(why, n)| format!("{n} {why}"))
                .collect();
            parts.push(format!(
                "{} skipped ({}); they are kept as they were, and new ones are not added",
                plural(outcome.skipped_records.len(), "record was", "records were"),
                reasons.join("; ")
            ));
        }
        if settled.held > 0 {
            parts.push(format!(
                "{} held: this run would remove {} of the source's assets, more than `max_removals` \
                 allows ({}); nothing was removed. If the vendor really dropped them, accept with \
                 `assetctl sync {source} --full --accept-removals`; if not, check the API user's \
                 permissions and what the vendor lists",
                plural(settled.held as usize, "removal", "removals"),
                settled.held,
                settled.limit
            ));
        }
        let mut notes = outcome.notes.clone();
        if settled.refused > 0 {
            notes.push(format!(
                "{} missing from the listing kept: {}",
                plural(settled.refused, "asset", "assets"),
                settled.refused_why
            ));
        }
        RunReportText { parts, notes }
    }

    fn is_partial(&self) -> bool {
        !self.parts.is_empty()
    }

    fn text(&self) -> String {
        let notes = self.notes.join("; ");
        match (self.parts.is_empty(), notes.is_empty()) {
            (true, _) => notes,
            (false, true) => format!(
                "partial: {}; everything else was synced",
                self.parts.join("; ")
            ),
            (false, false) => format!(
                "partial: {}; everything else was synced; {notes}",
                self.parts.join("; ")
            ),
        }
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Why a run failed, in the words of `assetd_sync_errors_total{reason}`; `None` when the
/// fetch and the writes went through (or the run was merely cancelled).
fn failure_reason(
    fetched: &Result<vendors::FetchOutcome, VendorError>,
    written: &Result<(), StoreError>,
    timed_out: bool,
) -> Option<&'static str> {
    match (fetched, written) {
        (_, Err(_)) => Some("storage"),
        (Err(VendorError::Cancelled), _) if timed_out => Some("timeout"),
        (Err(e), _) => e.reason(),
        (Ok(_), Ok(())) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Coverage;
    use futures_util::future::BoxFuture;
    use std::sync::atomic::AtomicUsize;

    /// A connector whose first fetch panics, as a bug in a decoder would.
    struct PanicsOnce(AtomicUsize);

    impl Connector for PanicsOnce {
        fn supports_incremental(&self) -> bool {
            false
        }
        fn fetch<'a>(
            &'a self,
            _ctx: &'a FetchContext,
        ) -> BoxFuture<'a, Result<vendors::FetchOutcome, VendorError>> {
            Box::pin(async move {
                if self.0.fetch_add(1, Ordering::SeqCst) == 0 {
                    panic!("decoder bug at record 7");
                }
                Ok(vendors::FetchOutcome {
                    coverage: Coverage::Everything,
                    ..Default::default()
                })
            })
        }
    }

    async fn until<T>(what: &str, mut f: impl AsyncFnMut() -> Option<T>) -> T {
        for _ in 0..200 {
            if let Some(t) = f().await {
                return t;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("timed out waiting for {what}")
    }

    #[tokio::test]
    async fn a_source_task_that_panics_is_reported_and_restarted() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("a.db")).unwrap();
        let mut engine = Engine::new(store.clone(), Vec::new());
        Arc::get_mut(&mut engine).unwrap().restart_waits =
            (Duration::from_secs(1), Duration::from_secs(2));
        let config = crate::config::parse(
            std::path::Path::new("c.toml"),
            "[[source]]\nname = \"syncro\"\nkind = \"syncro\"\nsubdomain = \"acme\"\napi_key = \"t\"\n",
            true,
        )
        .unwrap();
        let source = config.sources[0].clone();
        let connector: Arc<dyn Connector> = Arc::new(PanicsOnce(AtomicUsize::new(0)));
        let slot = engine
            .spawn_source_with(source, Some(RunTrigger::Config), Ok(connector))
            .await
            .unwrap();
        engine.sources.lock().await.insert("syncro".into(), slot);

        // The run the panic cut short is recorded as failed, and the source says so.
        let failed = until("the failed run", async || {
            let runs = store.list_runs(Some("syncro"), 0, 10).unwrap();
            runs.into_iter().find(|r| r.state == RunState::Failed)
        })
        .await;
        assert!(failed.error.contains("internal error"), "{}", failed.error);
        assert!(
            failed.error.contains("decoder bug at record 7"),
            "{}",
            failed.error
        );
        // The run is recorded before the task's state is: wait for the state, not assume it.
        let status = until("the source's failed state", async || {
            let (_, status) = engine.statuses().await.remove(0);
            (status.state == SourceState::Failed).then_some(status)
        })
        .await;
        assert!(
            status.state_detail.contains("restarts by itself"),
            "{}",
            status.state_detail
        );
        assert!(status.next_run_at.is_some());
        assert!(engine.active.lock().unwrap().is_empty());
        // The task still turns (the watchdog's probe is answered) ...
        engine.probe(Duration::from_secs(2)).await.unwrap();
        // ... and once restarted, runs again.
        let triggered = until("the restarted task", async || {
            engine
                .trigger(&["syncro".to_string()], true, false)
                .await
                .ok()
        })
        .await;
        let run_id = triggered[0].1.run_id;
        assert!(run_id > failed.id);
        let run = until("the second run", async || {
            store
                .get_run(run_id)
                .unwrap()
                .filter(|r| r.state != RunState::Running)
        })
        .await;
        assert_ne!(run.state, RunState::Failed, "{}", run.error);
        let metrics = engine.metrics.render(&crate::metrics::Gauges::default());
        assert!(
            metrics.contains(
                "assetd_source_task_restarts_total{source=\"syncro\",vendor=\"syncro\"} 1"
            ),
            "{metrics}"
        );
        engine.shutdown(Duration::from_secs(5)).await;
    }
}
