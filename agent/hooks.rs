//! Hooks (issue 23): each `[[hook]]` receives the events it subscribed to, in order, at
//! least once, from its durable outbox; and the event log is kept to `event_retention`.
//!
//! One task per hook reads the log after the hook's cursor (`store::HookRow`), one event at
//! a time, and moves the cursor only once the receiver has taken the event (a 2xx answer, or
//! a command that exited 0), so a crash between a commit and its delivery, or during one,
//! delivers that event again at most once more. A receiver that fails is retried with
//! exponential backoff and jitter (1 s doubling to 15 min) for 24 h; then the hook is marked
//! failing and waits, its backlog kept, for `assetctl hooks retry NAME`. Each task only reads
//! the log and writes its own row, so a stuck receiver holds nothing but its own queue:
//! syncs, `WatchEvents` streams and the other hooks go on.
//!
//! Webhooks POST `Event::to_json`'s bytes with `X-Assetd-Event`, `X-Assetd-Delivery` (the
//! event id, the same on every retry, so a receiver can drop duplicates) and
//! `X-Assetd-Signature-256: sha256=HEX`, HMAC-SHA256 of the exact body with the hook's
//! secret, as GitHub signs its webhooks. Redirects are never followed, answers are read to
//! at most 64 KiB, and no proxy is used. Commands run without a shell, in `/`, with only
//! `PATH` and the event's `ASSETD_*` variables in their environment (never the agent's,
//! which may hold secrets), the event on stdin, within the hook's timeout (then their process
//! group is killed), never as root: an agent running as root runs them as `nobody`. Their
//! output goes to the log, bounded.
//!
//! A hook added by a reload starts from "now": it receives the events committed after it
//! was added, not the log's past. A hook removed from the config loses its outbox.

use crate::config::{Config, HookConfig, HookTarget};
use crate::event::{Event, EventFilter};
use crate::store::{Attempt, HookRow, Store, StoreError};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// The first wait after a failed delivery; it doubles with each failure in a row.
const FIRST_RETRY: Duration = Duration::from_secs(1);
/// The longest wait between two attempts.
const MAX_RETRY: Duration = Duration::from_secs(15 * 60);
/// How long a hook is retried before it is marked failing.
pub const RETRY_WINDOW: chrono::TimeDelta = chrono::TimeDelta::hours(24);
/// Events read from the log at a time by a hook's task.
const PAGE: usize = 100;
/// The most of a receiver's answer, or of a command's stdout or stderr, that is read and kept.
const MAX_OUTPUT: usize = 64 << 10;
/// The most of a command's output that goes to the log, per stream.
const MAX_LOGGED: usize = 4 << 10;
/// How often the log is pruned to its retention, and in batches of how many events.
const PRUNE_EVERY: Duration = Duration::from_secs(600);
const PRUNE_BATCH: usize = 1000;

/// The running hooks: one delivery task each.
pub struct Hooks {
    store: Store,
    client: reqwest::Client,
    slots: tokio::sync::Mutex<HashMap<String, Slot>>,
    retention: Arc<Mutex<Duration>>,
    /// Wakes the pruning when the retention changes, so a shorter one applies at once.
    prune_now: Arc<Notify>,
    cancel: CancellationToken,
}

struct Slot {
    config: HookConfig,
    /// Woken by `retry`: the task re-reads its row at once.
    wake: Arc<Notify>,
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

/// A hook as `assetctl hooks` shows it.
#[derive(Debug, Clone)]
pub struct HookStatus {
    pub config: HookConfig,
    pub row: HookRow,
    /// Events it subscribed to that it has not yet received.
    pub backlog: i64,
}

impl HookStatus {
    /// `ok`, `retrying` (the last attempt failed; another follows) or `failing` (retried
    /// for 24 h; waits for `assetctl hooks retry`).
    pub fn state(&self) -> &'static str {
        if self.row.failing {
            "failing"
        } else if self.row.attempts > 0 {
            "retrying"
        } else {
            "ok"
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error("no hook named `{0}` in the config")]
    UnknownHook(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Hooks {
    /// Hooks with none running yet (`apply_config` starts them), and the log's pruning to
    /// `retention`, the first round at once.
    pub fn start(store: Store, retention: Duration) -> Arc<Hooks> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("assetd/", env!("CARGO_PKG_VERSION")))
            // A redirect could send a signed event elsewhere; receivers give their final URL.
            .redirect(reqwest::redirect::Policy::none())
            // The receiver is named by the operator; an environment's proxy is for vendors.
            .no_proxy()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "Cannot build the webhook HTTP client; using the default one.");
                reqwest::Client::new()
            });
        let hooks = Arc::new(Hooks {
            store,
            client,
            slots: tokio::sync::Mutex::new(HashMap::new()),
            retention: Arc::new(Mutex::new(retention)),
            prune_now: Arc::new(Notify::new()),
            cancel: CancellationToken::new(),
        });
        tokio::spawn(prune_loop(
            hooks.store.clone(),
            hooks.retention.clone(),
            hooks.prune_now.clone(),
            hooks.cancel.clone(),
        ));
        hooks
    }

    /// Brings the hooks in line with `config`: new ones start from now, removed ones stop
    /// and lose their outbox, changed ones restart where their outbox is (an event being
    /// delivered at that moment is delivered again), unchanged ones go on untouched.
    pub async fn apply_config(&self, config: &Config) -> Result<(), StoreError> {
        let retention =
            std::mem::replace(&mut *lock(&self.retention), config.agent.event_retention);
        if retention != config.agent.event_retention {
            self.prune_now.notify_one();
        }
        let names: Vec<String> = config.hooks.iter().map(|h| h.name.clone()).collect();
        let mut slots = self.slots.lock().await;
        let stale: Vec<String> = slots
            .iter()
            .filter(|(name, slot)| {
                config
                    .hooks
                    .iter()
                    .find(|h| &h.name == *name)
                    .is_none_or(|h| *h != slot.config)
            })
            .map(|(name, _)| name.clone())
            .collect();
        for name in stale {
            if let Some(slot) = slots.remove(&name) {
                slot.cancel.cancel();
                let _ = tokio::time::timeout(Duration::from_secs(5), slot.task).await;
            }
        }
        self.store.call(move |s| s.set_hooks(&names)).await?;
        for hook in &config.hooks {
            if slots.contains_key(&hook.name) {
                continue;
            }
            let wake = Arc::new(Notify::new());
            let cancel = self.cancel.child_token();
            let task = Delivery {
                store: self.store.clone(),
                client: self.client.clone(),
                config: hook.clone(),
                wake: wake.clone(),
                cancel: cancel.clone(),
            };
            let span = tracing::info_span!("hook", hook = %hook.name);
            let task = tokio::spawn(task.run().instrument(span));
            slots.insert(
                hook.name.clone(),
                Slot {
                    config: hook.clone(),
                    wake,
                    cancel,
                    task,
                },
            );
        }
        Ok(())
    }

    /// `assetctl hooks retry NAME`: a failing (or waiting) hook tries its next event now.
    pub async fn retry(&self, name: &str) -> Result<(), HookError> {
        let slots = self.slots.lock().await;
        let slot = slots
            .get(name)
            .ok_or_else(|| HookError::UnknownHook(name.to_string()))?;
        let n = name.to_string();
        self.store.call(move |s| s.retry_hook(&n)).await?;
        slot.wake.notify_one();
        Ok(())
    }

    /// Every configured hook with its outbox and backlog, by name.
    pub async fn statuses(&self) -> Result<Vec<HookStatus>, StoreError> {
        let configs: Vec<HookConfig> = {
            let slots = self.slots.lock().await;
            let mut c: Vec<HookConfig> = slots.values().map(|s| s.config.clone()).collect();
            c.sort_by(|a, b| a.name.cmp(&b.name));
            c
        };
        self.store
            .call(move |s| {
                let rows = s.hooks()?;
                let mut out = Vec::new();
                for config in configs {
                    let Some(row) = rows.iter().find(|r| r.name == config.name).cloned() else {
                        continue;
                    };
                    let filter = EventFilter {
                        types: config.events.clone(),
                        sources: Vec::new(),
                    };
                    let backlog = s.count_events_after(row.delivered_through, &filter)?;
                    out.push(HookStatus {
                        config,
                        row,
                        backlog,
                    });
                }
                Ok(out)
            })
            .await
    }

    /// Stops every delivery (an event in flight is delivered again at the next start) and
    /// the pruning, waiting at most `grace`.
    pub async fn shutdown(&self, grace: Duration) {
        self.cancel.cancel();
        let tasks: Vec<_> = self
            .slots
            .lock()
            .await
            .drain()
            .map(|(_, s)| s.task)
            .collect();
        let _ = tokio::time::timeout(grace, futures_util::future::join_all(tasks)).await;
    }
}

/// Prunes the log to its retention at the start, every `PRUNE_EVERY` and when the
/// retention changes, a batch at a time with a pause between batches, so a sync never waits
/// for more than one batch.
async fn prune_loop(
    store: Store,
    retention: Arc<Mutex<Duration>>,
    now: Arc<Notify>,
    cancel: CancellationToken,
) {
    loop {
        let keep = *lock(&retention);
        let older_than = chrono::Duration::from_std(keep)
            .ok()
            .and_then(|k| Utc::now().checked_sub_signed(k))
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let mut pruned = 0usize;
        loop {
            match store
                .call(move |s| s.prune_events(older_than, PRUNE_BATCH))
                .await
            {
                Ok(0) => break,
                Ok(n) => pruned += n,
                Err(e) => {
                    tracing::warn!(error = %e, "Cannot prune the event log; the next round retries.");
                    break;
                }
            }
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_millis(20)) => {}
            }
        }
        if pruned > 0 {
            tracing::info!(
                pruned,
                retention = %humantime::format_duration(keep),
                "Pruned the event log to its retention."
            );
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = now.notified() => {}
            _ = tokio::time::sleep(PRUNE_EVERY) => {}
        }
    }
}

/// The next attempt after `attempts` failures in a row that began at `since`, and whether
/// the hook has now failed for the whole retry window: exponential backoff with jitter
/// (each wait drawn from its upper half), so receivers coming back are not hit by every
/// agent at once.
pub fn next_attempt(
    attempts: i64,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
    jitter: f64,
) -> (DateTime<Utc>, bool) {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    let wait = FIRST_RETRY
        .checked_mul(1u32 << doublings.min(20))
        .unwrap_or(MAX_RETRY)
        .min(MAX_RETRY)
        .mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0));
    let next = chrono::Duration::from_std(wait)
        .ok()
        .and_then(|w| now.checked_add_signed(w))
        .unwrap_or(now);
    (next, now - since >= RETRY_WINDOW)
}

/// One hook's delivery task.
struct Delivery {
    store: Store,
    client: reqwest::Client,
    config: HookConfig,
    wake: Arc<Notify>,
    cancel: CancellationToken,
}

/// Why a delivery did not go through, said the way `assetctl hooks` shows it.
type Failure = String;

impl Delivery {
    async fn run(self) {
        let name = self.config.name.clone();
        let filter = EventFilter {
            types: self.config.events.clone(),
            sources: Vec::new(),
        };
        // Subscribed before the first read, so no commit falls between the two.
        let mut committed = self.store.subscribe_events();
        // How far the log has been read for this hook; at least its cursor.
        let mut read = 0i64;
        loop {
            if self.cancel.is_cancelled() {
                return;
            }
            let row = {
                let n = name.clone();
                match self.store.call(move |s| s.hook(&n)).await {
                    Ok(Some(row)) => row,
                    // Removed from the config: its task is being stopped.
                    Ok(None) => return,
                    Err(e) => {
                        tracing::warn!(error = %e, "Cannot read the hook's outbox; retrying in a minute.");
                        if !self.pause(Duration::from_secs(60)).await {
                            return;
                        }
                        continue;
                    }
                }
            };
            if row.failing {
                // Until `assetctl hooks retry` (or a restart of the hook by a reload).
                tokio::select! {
                    _ = self.cancel.cancelled() => return,
                    _ = self.wake.notified() => continue,
                }
            }
            if let Some(at) = row.next_attempt {
                let wait = (at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
                if !wait.is_zero() {
                    if !self.pause(wait).await {
                        return;
                    }
                    continue;
                }
            }
            read = read.max(row.delivered_through);
            let upto = *committed.borrow_and_update();
            if read >= upto {
                if row.delivered_through < read {
                    // Caught up on events that were not for this hook: remember so, once.
                    let (n, through) = (name.clone(), read);
                    let _ = self
                        .store
                        .call(move |s| s.skip_hook_through(&n, through))
                        .await;
                    continue;
                }
                tokio::select! {
                    _ = self.cancel.cancelled() => return,
                    _ = self.wake.notified() => {}
                    changed = committed.changed() => if changed.is_err() { return },
                }
                continue;
            }
            let page = {
                let filter = filter.clone();
                self.store
                    .call(move |s| s.events_after(read, upto, &filter, PAGE))
                    .await
            };
            let events = match page {
                Ok(p) => p.events,
                Err(e) => {
                    tracing::warn!(error = %e, "Cannot read the event log; retrying in a minute.");
                    if !self.pause(Duration::from_secs(60)).await {
                        return;
                    }
                    continue;
                }
            };
            let complete = events.len() < PAGE;
            let mut failed = false;
            let mut retrying = row.attempts > 0;
            for event in &events {
                let outcome = tokio::select! {
                    _ = self.cancel.cancelled() => return,
                    r = self.deliver(event) => r,
                };
                let at = Utc::now();
                let attempt = match outcome {
                    Ok(()) => {
                        read = event.id;
                        Attempt::Delivered { id: event.id, at }
                    }
                    Err(error) => {
                        // The events before it were delivered or not for this hook.
                        read = event.id - 1;
                        failed = true;
                        let attempts = row.attempts + 1;
                        let since = row.failing_since.unwrap_or(at);
                        let (next_attempt, failing) =
                            next_attempt(attempts, since, at, fastrand::f64());
                        if failing {
                            tracing::error!(event_id = event.id, error = %error,
                                "The hook has failed for 24 hours; its events are kept until `assetctl hooks retry {name}`.");
                        } else {
                            tracing::warn!(event_id = event.id, attempts, error = %error,
                                retry_in_ms = (next_attempt - at).num_milliseconds(), "Could not deliver an event; retrying.");
                        }
                        Attempt::Failed {
                            error,
                            at,
                            next_attempt,
                            failing,
                        }
                    }
                };
                let n = name.clone();
                if let Err(e) = self
                    .store
                    .call(move |s| s.record_attempt(&n, &attempt))
                    .await
                {
                    // Not recorded: the event is delivered again later (at least once).
                    tracing::warn!(error = %e, "Cannot record the delivery in the hook's outbox.");
                    read = event.id - 1;
                    failed = true;
                }
                if failed {
                    break;
                }
                if retrying {
                    tracing::info!(
                        event_id = event.id,
                        "The hook's receiver takes events again."
                    );
                    retrying = false;
                }
            }
            if !failed && complete {
                read = upto;
            }
        }
    }

    /// Sleeps `wait`, cut short by `retry`; false when the hook is stopping.
    async fn pause(&self, wait: Duration) -> bool {
        tokio::select! {
            _ = self.cancel.cancelled() => false,
            _ = self.wake.notified() => true,
            _ = tokio::time::sleep(wait) => true,
        }
    }

    async fn deliver(&self, event: &Event) -> Result<(), Failure> {
        let body = event.to_json();
        match &self.config.target {
            HookTarget::Webhook { url, secret } => {
                post(
                    &self.client,
                    url,
                    secret.expose(),
                    event,
                    body,
                    self.config.timeout,
                )
                .await
            }
            HookTarget::Command { argv } => {
                run_command(&self.config.name, argv, event, body, self.config.timeout).await
            }
        }
    }
}

/// A webhook URL as assetd shows it (logs, `assetctl hooks`): its origin, and `/…` for
/// a path or query, which can hold a token (as chat tools' incoming-webhook URLs do).
pub fn shown_url(url: &url::Url) -> String {
    let origin = url.origin().ascii_serialization();
    if url.path() == "/" && url.query().is_none() {
        format!("{origin}/")
    } else {
        format!("{origin}/…")
    }
}

/// `sha256=` and the lowercase hex HMAC-SHA256 of `body` keyed with `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256=");
    // HMAC takes keys of any length; the error arm cannot be reached.
    if let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()) {
        mac.update(body);
        for b in mac.finalize().into_bytes() {
            out.push_str(&format!("{b:02x}"));
        }
    }
    out
}

async fn post(
    client: &reqwest::Client,
    url: &url::Url,
    secret: &str,
    event: &Event,
    body: String,
    timeout: Duration,
) -> Result<(), Failure> {
    let sig = signature(secret, body.as_bytes());
    let shown = shown_url(url);
    let sent = client
        .post(url.clone())
        .timeout(timeout)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("X-Assetd-Event", event.kind.as_str())
        .header("X-Assetd-Delivery", event.id.to_string())
        .header("X-Assetd-Signature-256", sig)
        .body(body)
        .send()
        .await;
    let mut response = match sent {
        Ok(r) => r,
        Err(e) if e.is_timeout() => {
            return Err(format!(
                "{shown} did not answer within {} (the hook's `timeout`)",
                humantime::format_duration(timeout)
            ));
        }
        Err(e) if e.is_connect() => {
            return Err(format!("cannot connect to {shown}: {}", root_cause(&e)));
        }
        Err(e) => return Err(format!("sending to {shown} failed: {}", root_cause(&e))),
    };
    let status = response.status();
    // At most MAX_OUTPUT of the answer is read: a receiver cannot fill the agent's memory.
    let mut answer = Vec::new();
    while answer.len() < MAX_OUTPUT {
        match response.chunk().await {
            Ok(Some(chunk)) => answer.extend_from_slice(&chunk),
            _ => break,
        }
    }
    if status.is_success() {
        return Ok(());
    }
    let text = printable(&answer, 200);
    let redirect = if status.is_redirection() {
        " (redirects are not followed: set `url` to the final address)"
    } else {
        ""
    };
    Err(if text.is_empty() {
        format!("{shown} answered {status}{redirect}")
    } else {
        format!("{shown} answered {status}{redirect}: {text}")
    })
}

/// The innermost error's message (reqwest's outer ones repeat the URL).
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut inner = e;
    while let Some(next) = inner.source() {
        inner = next;
    }
    inner.to_string()
}

/// The first `max` characters of `bytes` as one printable line, runs of white space (an
/// HTML error page's indentation) as one space.
fn printable(bytes: &[u8], max: usize) -> String {
    String::from_utf8_lossy(bytes)
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(max)
        .collect()
}

/// The user commands run as when the agent is root: `nobody`'s ids (65534 where the
/// system has no such user). Read from `/etc/passwd`, where `nobody` always is, rather
/// than with `getpwnam`, whose static buffer another thread could overwrite meanwhile.
fn nobody() -> (u32, u32) {
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|text| nobody_in(&text))
        .unwrap_or((65534, 65534))
}

/// `nobody`'s uid and gid in a passwd file's text.
fn nobody_in(passwd: &str) -> Option<(u32, u32)> {
    passwd.lines().find_map(|line| {
        let mut f = line.split(':');
        if f.next()? != "nobody" {
            return None;
        }
        let (_password, uid, gid) = (f.next()?, f.next()?, f.next()?);
        Some((uid.parse().ok()?, gid.parse().ok()?))
    })
}

async fn run_command(
    hook: &str,
    argv: &[String],
    event: &Event,
    body: String,
    timeout: Duration,
) -> Result<(), Failure> {
    let Some((program, args)) = argv.split_first() else {
        return Err("the command is empty".into());
    };
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("ASSETD_HOOK", hook)
        .env("ASSETD_EVENT_ID", event.id.to_string())
        .env("ASSETD_EVENT_TYPE", &event.kind)
        .current_dir("/")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        // Its own process group, so a timeout kills whatever it started too.
        .process_group(0)
        .kill_on_drop(true);
    if rustix::process::geteuid().is_root() {
        let (uid, gid) = nobody();
        // std drops the supplementary groups too when a root parent sets the uid.
        cmd.uid(uid).gid(gid);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    let pid = child.id();
    let mut stdin = child.stdin.take();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let work = async {
        let feed = async {
            if let Some(mut stdin) = stdin.take() {
                // A command that does not read its stdin may close it: not an error.
                let _ = stdin.write_all(body.as_bytes()).await;
                let _ = stdin.shutdown().await;
            }
        };
        let (_, out, err, status) =
            tokio::join!(feed, bounded(stdout), bounded(stderr), child.wait());
        (out, err, status)
    };
    let (out, err, status) = match tokio::time::timeout(timeout, work).await {
        Ok(done) => done,
        Err(_) => {
            // The child leads its own group (process_group(0) above): killing the group also
            // kills whatever it started. If the group is already gone the kill fails with
            // ESRCH, which changes nothing here.
            if let Some(pid) = pid
                .and_then(|p| i32::try_from(p).ok())
                .and_then(rustix::process::Pid::from_raw)
            {
                let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
            }
            let _ = child.kill().await;
            return Err(format!(
                "{program} did not finish within {} (the hook's `timeout`) and was killed",
                humantime::format_duration(timeout)
            ));
        }
    };
    for (stream, bytes) in [("stdout", &out), ("stderr", &err)] {
        if !bytes.is_empty() {
            let text = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_LOGGED)]);
            tracing::info!(event_id = event.id, stream, output = %text.trim_end(), "Hook command output.");
        }
    }
    match status {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => {
            let why = printable(&err, 200);
            Err(if why.is_empty() {
                format!("{program} exited with {s}")
            } else {
                format!("{program} exited with {s}: {why}")
            })
        }
        Err(e) => Err(format!("cannot wait for {program}: {e}")),
    }
}

/// Reads a stream to its end, keeping at most `MAX_OUTPUT` bytes: the command is never
/// blocked on a full pipe, and never fills the agent's memory.
async fn bounded(stream: Option<impl AsyncRead + Unpin>) -> Vec<u8> {
    let Some(mut stream) = stream else {
        return Vec::new();
    };
    let mut kept = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return kept,
            Ok(n) => {
                let room = MAX_OUTPUT.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_githubs() {
        // GitHub's documented example: secret "It's a Secret to Everybody", payload
        // "Hello, World!".
        assert_eq!(
            signature("It's a Secret to Everybody", b"Hello, World!"),
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
    }

    #[test]
    fn nobody_is_found_in_a_passwd_file() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\nnobodyelse:x:1:1::/:/bin/false\n\
                      nobody:x:65534:65533:nobody:/nonexistent:/usr/sbin/nologin\n";
        assert_eq!(nobody_in(passwd), Some((65534, 65533)));
        assert_eq!(
            nobody_in("root:x:0:0::/:/bin/sh\nnobody:x:oops:1::/:\n"),
            None
        );
        assert_eq!(nobody_in(""), None);
    }

    #[test]
    fn answers_are_shown_on_one_short_line() {
        assert_eq!(
            printable(b"<html>\n    <body>\r\n\t<p>Error 401</p>  </body>", 200),
            "<html> <body> <p>Error 401</p> </body>"
        );
        assert_eq!(printable("ü".repeat(300).as_bytes(), 5), "üüüüü");
    }

    #[test]
    fn urls_are_shown_without_their_path_or_query() {
        let u = |s: &str| shown_url(&url::Url::parse(s).unwrap());
        assert_eq!(u("https://psa.example/"), "https://psa.example/");
        assert_eq!(
            u("https://hooks.chat.example/services/T0/B0/s3cr3t"),
            "https://hooks.chat.example/…"
        );
        assert_eq!(
            u("http://127.0.0.1:9000/?token=x"),
            "http://127.0.0.1:9000/…"
        );
    }

    #[test]
    fn retries_back_off_with_jitter_and_give_up_after_a_day() {
        let t0 = Utc::now();
        let wait = |attempts: i64, jitter: f64| {
            let (next, failing) = next_attempt(attempts, t0, t0, jitter);
            assert!(!failing);
            (next - t0).num_milliseconds()
        };
        assert_eq!(wait(1, 1.0), 1000);
        assert_eq!(wait(1, 0.0), 500);
        assert_eq!(wait(2, 1.0), 2000);
        assert_eq!(wait(5, 1.0), 16_000);
        // Capped at 15 minutes however long it has failed.
        assert_eq!(wait(40, 1.0), 900_000);
        assert_eq!(wait(i64::MAX, 0.0), 450_000);
        let later = t0 + RETRY_WINDOW - chrono::TimeDelta::seconds(1);
        assert!(!next_attempt(100, t0, later, 0.5).1);
        assert!(next_attempt(100, t0, t0 + RETRY_WINDOW, 0.5).1);
    }

    fn event() -> Event {
        Event {
            id: 42,
            time: "2026-01-02T03:04:05.000006Z".into(),
            kind: "run.finished".into(),
            source: "auvik".into(),
            run_id: Some(1),
            asset_id: None,
            client: String::new(),
            data: "{}".into(),
        }
    }

    #[tokio::test]
    async fn commands_get_the_event_on_stdin_and_nothing_of_the_agents_environment() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o777),
        )
        .unwrap();
        let script = format!(
            "cat > {out}; echo >> {out}; env >> {out}; id -u >> {out}",
            out = out.display()
        );
        let argv = vec!["/bin/sh".to_string(), "-c".into(), script];
        let e = event();
        run_command("h", &argv, &e, e.to_json(), Duration::from_secs(10))
            .await
            .unwrap();
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(text.starts_with(&e.to_json()), "{text}");
        assert!(text.contains("ASSETD_EVENT_ID=42"), "{text}");
        assert!(text.contains("ASSETD_EVENT_TYPE=run.finished"), "{text}");
        // Nothing of this process's environment (cargo's, the user's) reaches it: only what
        // assetd gives, and what the shell itself sets.
        let names: Vec<&str> = text
            .lines()
            .filter_map(|l| l.split_once('=').map(|(k, _)| k))
            .filter(|k| {
                k.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            })
            .collect();
        for name in &names {
            assert!(
                [
                    "PATH",
                    "ASSETD_HOOK",
                    "ASSETD_EVENT_ID",
                    "ASSETD_EVENT_TYPE",
                    "PWD",
                    "SHLVL",
                    "_",
                    "OLDPWD"
                ]
                .contains(name),
                "{name} leaked into the command's environment: {text}"
            );
        }
        assert!(names.contains(&"ASSETD_HOOK"), "{text}");
        if rustix::process::geteuid().is_root() {
            assert!(
                text.trim_end().ends_with(&nobody().0.to_string()),
                "run as nobody: {text}"
            );
        }
    }

    #[tokio::test]
    async fn a_failing_or_hanging_command_is_a_failed_delivery() {
        let e = event();
        let fails = vec![
            "/bin/sh".to_string(),
            "-c".into(),
            "echo 'the channel is gone' >&2; exit 3".into(),
        ];
        let err = run_command("h", &fails, &e, e.to_json(), Duration::from_secs(10))
            .await
            .unwrap_err();
        assert!(
            err.contains("exit status: 3") && err.contains("the channel is gone"),
            "{err}"
        );
        // It hangs, and so does the child it started: both are killed at the timeout.
        let hangs = vec![
            "/bin/sh".to_string(),
            "-c".into(),
            "sleep 60 & sleep 60".into(),
        ];
        let started = std::time::Instant::now();
        let err = run_command("h", &hangs, &e, e.to_json(), Duration::from_millis(300))
            .await
            .unwrap_err();
        assert!(err.contains("did not finish within 300ms"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
        let missing = vec!["/nonexistent/notify".to_string()];
        let err = run_command("h", &missing, &e, e.to_json(), Duration::from_secs(1))
            .await
            .unwrap_err();
        assert!(err.starts_with("cannot run /nonexistent/notify"), "{err}");
    }
}
