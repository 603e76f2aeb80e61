//! `assetctl sync`: trigger runs, and with `--wait` follow them to the end.
//!
//! Progress while waiting, by where it can go:
//! - **stderr is a terminal**: one live progress bar per run on stderr (indicatif): the
//!   clients read so far out of all when the vendor tells, else a spinner; with the records
//!   fetched, requests and retries beside it. The bars are cleared at the end, so what stays
//!   is the final output on stdout, whatever `-o` asks for.
//! - **otherwise, `-o table`**: plain lines on stdout, no escape codes: one when a run
//!   starts, one at most every [`PLAIN_EVERY`] while its counts move, and one summary with
//!   its counts when it ends, e.g.
//!   `auvik: run 12 running (full, manual)`,
//!   `auvik: run 12: 3400 fetched, 17/50 clients, 35 requests`,
//!   `auvik: run 12 ok in 1m 2s: 3400 fetched, 10 added, …`.
//! - **otherwise, `-o json`/`-o csv`**: no progress, only the final run records.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Result;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::commands::Ctx;
use crate::connect::unary;
use crate::convert::{
    RunRecord, TriggeredRecord, elapsed, run_kind_name, run_state_name, run_trigger_name,
};
use crate::error::{CtlError, EXIT_ERROR, EXIT_OK, EXIT_SYNC_FAILED, call, rpc_error};
use crate::output::{Format, print_list, print_text, sanitize, stderr_is_terminal};
use crate::proto::{self, RunState};

/// The plain progress lines of a run come at most this often (a state change is said at
/// once): enough to see a long run move in a log, few enough that an hour's Syncro scan
/// is a few hundred lines.
pub const PLAIN_EVERY: Duration = Duration::from_secs(5);

/// Whether a run state is final.
pub fn is_finished(state: i32) -> bool {
    matches!(
        RunState::try_from(state),
        Ok(RunState::Ok | RunState::Partial | RunState::Failed | RunState::Cancelled)
    )
}

/// The exit code for a set of final run states: 7 if any failed or was cancelled; 1 if any
/// is not final (the agent stopped reporting it); else 0 (partial included).
pub fn exit_code_for(states: &[i32]) -> i32 {
    let states: Vec<Option<RunState>> =
        states.iter().map(|&s| RunState::try_from(s).ok()).collect();
    if states
        .iter()
        .any(|s| matches!(s, Some(RunState::Failed | RunState::Cancelled)))
    {
        EXIT_SYNC_FAILED
    } else if states
        .iter()
        .all(|s| matches!(s, Some(RunState::Ok | RunState::Partial)))
    {
        EXIT_OK
    } else {
        EXIT_ERROR
    }
}

/// `N requests` with `, K retries` when there were any.
fn requests_text(requests: i64, retries: i64) -> String {
    let mut text = format!("{requests} request{}", if requests == 1 { "" } else { "s" });
    if retries > 0 {
        text.push_str(&format!(
            ", {retries} retr{}",
            if retries == 1 { "y" } else { "ies" }
        ));
    }
    text
}

/// What a running run has done so far: `3400 fetched, 17/50 clients, 35 requests`.
pub fn counts_text(ev: &proto::SyncEvent) -> String {
    let run = ev.run.clone().unwrap_or_default();
    let fetched = run.counts.map_or(0, |c| c.fetched);
    let mut text = format!("{fetched} fetched");
    if ev.clients_total > 0 {
        text.push_str(&format!(
            ", {}/{} clients",
            ev.clients_done, ev.clients_total
        ));
    } else if ev.clients_done > 0 {
        text.push_str(&format!(", {} clients", ev.clients_done));
    }
    text.push_str(&format!(", {}", requests_text(run.requests, run.retries)));
    text
}

/// The message beside a run's bar: its counts, less the clients when the bar shows them.
pub fn bar_message(ev: &proto::SyncEvent) -> String {
    let text = if ev.clients_total > 0 {
        let run = ev.run.clone().unwrap_or_default();
        format!(
            "{} fetched, {}",
            run.counts.map_or(0, |c| c.fetched),
            requests_text(run.requests, run.retries)
        )
    } else {
        counts_text(ev)
    };
    sanitize(&text).into_owned()
}

/// The plain line that says a run started: `auvik: run 12 running (full, manual)`.
pub fn start_line(source: &str, ev: &proto::SyncEvent) -> String {
    let run = ev.run.clone().unwrap_or_default();
    format!(
        "{source}: run {} {} ({}, {})",
        run.id,
        run_state_name(run.state),
        run_kind_name(run.kind),
        run_trigger_name(run.trigger)
    )
}

/// The plain line for a run that is still going.
pub fn progress_line(source: &str, run_id: i64, ev: &proto::SyncEvent) -> String {
    format!("{source}: run {run_id}: {}", counts_text(ev))
}

/// The summary line for a finished run.
pub fn summary_line(r: &RunRecord) -> String {
    let took = elapsed(&r.started, &r.finished)
        .map(|t| format!(" in {t}"))
        .unwrap_or_default();
    // Skipped records and held removals only when there are any: most runs have none.
    let mut extra = String::new();
    for (n, what) in [
        (r.skipped, "skipped"),
        (r.skipped_units, "units unread"),
        (r.removals_held, "removals held"),
    ] {
        if n > 0 {
            extra.push_str(&format!(", {n} {what}"));
        }
    }
    let mut line = format!(
        "{}: run {} {}{took}: {} fetched, {} added, {} updated, {} unchanged, {} removed{extra} ({})",
        r.source,
        r.id,
        r.state,
        r.fetched,
        r.added,
        r.updated,
        r.unchanged,
        r.removed,
        requests_text(r.requests, r.retries)
    );
    if !r.error.trim().is_empty() {
        line.push_str(&format!("; error: {}", r.error.trim()));
    }
    sanitize(&line).into_owned()
}

struct Tracked {
    source: String,
    run_id: i64,
    last: Option<proto::SyncEvent>,
    plain: PlainState,
    summarised: bool,
}

impl Tracked {
    fn state(&self) -> i32 {
        self.last
            .as_ref()
            .and_then(|e| e.run.as_ref())
            .map_or(0, |r| r.state)
    }
    fn record(&self) -> RunRecord {
        let run = self
            .last
            .as_ref()
            .and_then(|e| e.run.clone())
            .unwrap_or_else(|| proto::SyncRun {
                id: self.run_id,
                source: self.source.clone(),
                ..Default::default()
            });
        let mut r = RunRecord::from(run);
        if r.source.is_empty() {
            r.source.clone_from(&self.source);
        }
        r
    }
}

/// What the plain progress of one run has said so far.
#[derive(Debug, Default)]
pub struct PlainState {
    /// The run's state and counts when last said, and when.
    said: Option<(i32, String, Instant)>,
}

impl PlainState {
    /// The line to print for `ev` at `now`, if one is due: the start (or any state change)
    /// at once; moving counts at most every [`PLAIN_EVERY`]; nothing when nothing changed.
    /// Finished runs get their summary elsewhere.
    pub fn next_line(
        &mut self,
        source: &str,
        ev: &proto::SyncEvent,
        now: Instant,
    ) -> Option<String> {
        let run = ev.run.as_ref()?;
        if is_finished(run.state) {
            return None;
        }
        let counts = counts_text(ev);
        let line = match &self.said {
            Some((state, _, _)) if *state != run.state => start_line(source, ev),
            None => start_line(source, ev),
            Some((_, said, _)) if *said == counts => return None,
            Some((_, _, at)) if now.duration_since(*at) < PLAIN_EVERY => return None,
            Some(_) => progress_line(source, run.id, ev),
        };
        self.said = Some((run.state, counts, now));
        Some(sanitize(&line).into_owned())
    }
}

/// How `--wait` shows progress (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Quiet,
    Plain,
    Bars,
}

pub fn mode(format: Format, stderr_terminal: bool) -> Mode {
    match (stderr_terminal, format) {
        (true, _) => Mode::Bars,
        (false, Format::Table) => Mode::Plain,
        (false, _) => Mode::Quiet,
    }
}

/// One live bar per run on stderr.
struct Bars {
    multi: MultiProgress,
    bars: BTreeMap<i64, ProgressBar>,
    /// Whether each bar has switched to the clients bar (the vendor said how many).
    counted: BTreeMap<i64, bool>,
    counting: ProgressStyle,
}

impl Bars {
    fn new(tracked: &BTreeMap<i64, Tracked>) -> Result<Bars> {
        // No colours: the bar and its counts are legible on any terminal theme.
        let spinner = ProgressStyle::with_template("{spinner} {prefix}  {wide_msg} {elapsed:>4}")?;
        let counting = ProgressStyle::with_template(
            "{spinner} {prefix} [{bar:24}] {pos}/{len} clients  {wide_msg} {elapsed:>4}",
        )?
        .progress_chars("=> ");
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let width = tracked
            .values()
            .map(|t| t.source.chars().count())
            .max()
            .unwrap_or(0);
        let mut bars = BTreeMap::new();
        let mut counted = BTreeMap::new();
        for (id, t) in tracked {
            let bar = multi.add(
                ProgressBar::no_length()
                    .with_style(spinner.clone())
                    .with_prefix(format!("{:<width$}", t.source))
                    .with_message(format!("run {id}: waiting for the agent…")),
            );
            // The spinner turns while the agent is quiet (a long page, a Retry-After wait),
            // so a slow run does not look hung.
            bar.enable_steady_tick(Duration::from_millis(120));
            bars.insert(*id, bar);
            counted.insert(*id, false);
        }
        Ok(Bars {
            multi,
            bars,
            counted,
            counting,
        })
    }

    fn update(&mut self, t: &Tracked) {
        let (Some(bar), Some(ev)) = (self.bars.get(&t.run_id), t.last.as_ref()) else {
            return;
        };
        if ev.clients_total > 0 {
            if self.counted.insert(t.run_id, true) != Some(true) {
                bar.set_style(self.counting.clone());
            }
            bar.set_length(u64::try_from(ev.clients_total).unwrap_or(0));
            bar.set_position(u64::try_from(ev.clients_done).unwrap_or(0));
        }
        bar.set_message(bar_message(ev));
        if is_finished(t.state()) {
            bar.finish();
        }
    }

    /// Takes the bars off the screen: the final output follows on stdout.
    fn clear(self) {
        for bar in self.bars.values() {
            bar.finish_and_clear();
        }
        let _ = self.multi.clear();
    }
}

pub async fn sync(
    ctx: &Ctx,
    sources: Vec<String>,
    (full, accept_removals): (bool, bool),
    wait: bool,
) -> Result<i32> {
    let mut client = ctx.agent.sync();
    let resp = client
        .trigger_sync(unary(proto::TriggerSyncRequest {
            sources,
            full,
            accept_removals,
        }))
        .await
        .map_err(|s| rpc_error(s, call("TriggerSync", "sync")))?
        .into_inner();
    let triggered: Vec<TriggeredRecord> = resp.runs.into_iter().map(Into::into).collect();
    if triggered.is_empty() {
        eprintln!("no runs started: no sources are configured");
    }
    if !wait {
        match ctx.format {
            Format::Table => {
                let mut text = String::new();
                for t in &triggered {
                    if t.joined {
                        text.push_str(&format!(
                            "{}: joined run {} (already in progress)\n",
                            t.source, t.run_id
                        ));
                    } else {
                        text.push_str(&format!("{}: started run {}\n", t.source, t.run_id));
                    }
                }
                print_text(&text)?;
            }
            _ => {
                print_list(ctx.format, &triggered)?;
            }
        }
        return Ok(EXIT_OK);
    }

    let mode = mode(ctx.format, stderr_is_terminal());
    let mut tracked: BTreeMap<i64, Tracked> = BTreeMap::new();
    for t in &triggered {
        tracked.entry(t.run_id).or_insert_with(|| Tracked {
            source: t.source.clone(),
            run_id: t.run_id,
            last: None,
            plain: PlainState::default(),
            summarised: false,
        });
    }
    let mut bars = match mode {
        Mode::Bars if !tracked.is_empty() => Some(Bars::new(&tracked)?),
        _ => None,
    };

    if !tracked.is_empty() {
        const W: crate::error::Call = call("WatchSync", "sync --wait");
        let mut stream = client
            .watch_sync(proto::WatchSyncRequest {
                run_ids: tracked.keys().copied().collect(),
            })
            .await
            .map_err(|s| rpc_error(s, W))?
            .into_inner();
        while let Some(ev) = stream.message().await.map_err(|s| rpc_error(s, W))? {
            let Some(id) = ev.run.as_ref().map(|r| r.id) else {
                continue;
            };
            let Some(t) = tracked.get_mut(&id) else {
                continue;
            };
            if mode == Mode::Plain
                && let Some(line) = t.plain.next_line(&t.source, &ev, Instant::now())
            {
                print_text(&format!("{line}\n"))?;
            }
            t.last = Some(ev);
            if let Some(bars) = bars.as_mut() {
                bars.update(t);
            }
            if mode == Mode::Plain {
                summarise_if_finished(t)?;
            }
            if tracked.values().all(|t| is_finished(t.state())) {
                break;
            }
        }
    }

    // A run that finished before the watch began may never have been reported: ask for it.
    for t in tracked.values_mut() {
        if !is_finished(t.state())
            && let Some(run) = find_run(ctx, &t.source, t.run_id).await?
        {
            t.last = Some(proto::SyncEvent {
                run: Some(run),
                clients_done: 0,
                clients_total: 0,
            });
        }
    }
    if let Some(bars) = bars {
        bars.clear();
    }
    match ctx.format {
        Format::Table => {
            for t in tracked.values_mut() {
                summarise_if_finished(t)?;
            }
        }
        _ => {
            let records: Vec<RunRecord> = tracked.values().map(Tracked::record).collect();
            print_list(ctx.format, &records)?;
        }
    }

    let mut failed = Vec::new();
    let mut unfinished = Vec::new();
    for t in tracked.values() {
        let r = t.record();
        match RunState::try_from(t.state()) {
            Ok(RunState::Partial) => eprintln!(
                "assetctl: {}: run {} was partial: {}",
                r.source,
                r.id,
                if r.error.trim().is_empty() {
                    "some of the vendor's data could not be read; nothing was marked removed"
                        .to_owned()
                } else {
                    r.error.split_whitespace().collect::<Vec<_>>().join(" ")
                }
            ),
            Ok(RunState::Failed | RunState::Cancelled) => {
                failed.push(format!("{} run {} {}", r.source, r.id, r.state));
            }
            Ok(RunState::Ok) => {}
            _ => unfinished.push(format!("{} run {}", r.source, r.id)),
        }
    }
    let states: Vec<i32> = tracked.values().map(Tracked::state).collect();
    match exit_code_for(&states) {
        EXIT_SYNC_FAILED => {
            Err(CtlError::SyncFailed(format!("sync did not succeed: {}", failed.join(", "))).into())
        }
        EXIT_OK => Ok(EXIT_OK),
        _ => Err(anyhow::anyhow!(
            "the agent stopped reporting before {} finished; `assetctl runs` shows where they stand",
            unfinished.join(", ")
        )),
    }
}

/// Prints a finished run's summary line on stdout, once.
fn summarise_if_finished(t: &mut Tracked) -> Result<()> {
    if is_finished(t.state()) && !t.summarised {
        t.summarised = true;
        print_text(&format!("{}\n", summary_line(&t.record())))?;
    }
    Ok(())
}

/// Look a run up in the source's recent runs.
async fn find_run(ctx: &Ctx, source: &str, run_id: i64) -> Result<Option<proto::SyncRun>> {
    let mut client = ctx.agent.sync();
    let mut token = String::new();
    for _ in 0..5 {
        let resp = client
            .list_sync_runs(unary(proto::ListSyncRunsRequest {
                source: source.to_owned(),
                page_size: 200,
                page_token: token.clone(),
            }))
            .await
            .map_err(|s| rpc_error(s, call("ListSyncRuns", "sync --wait")))?
            .into_inner();
        if let Some(run) = resp.runs.into_iter().find(|r| r.id == run_id) {
            return Ok(Some(run));
        }
        if resp.next_page_token.is_empty() || resp.next_page_token == token {
            break;
        }
        token = resp.next_page_token;
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_states_map_to_exit_codes() {
        let ok = RunState::Ok as i32;
        let partial = RunState::Partial as i32;
        let failed = RunState::Failed as i32;
        let cancelled = RunState::Cancelled as i32;
        let running = RunState::Running as i32;
        assert_eq!(exit_code_for(&[]), EXIT_OK);
        assert_eq!(exit_code_for(&[ok]), EXIT_OK);
        assert_eq!(exit_code_for(&[ok, partial]), EXIT_OK);
        assert_eq!(exit_code_for(&[ok, failed]), EXIT_SYNC_FAILED);
        assert_eq!(exit_code_for(&[cancelled]), EXIT_SYNC_FAILED);
        assert_eq!(exit_code_for(&[running, failed]), EXIT_SYNC_FAILED);
        assert_eq!(exit_code_for(&[ok, running]), EXIT_ERROR);
        assert_eq!(exit_code_for(&[0]), EXIT_ERROR);
        assert!(is_finished(partial) && !is_finished(running) && !is_finished(0));
    }

    fn running(
        fetched: i64,
        requests: i64,
        retries: i64,
        done: i64,
        total: i64,
    ) -> proto::SyncEvent {
        proto::SyncEvent {
            run: Some(proto::SyncRun {
                id: 12,
                source: "auvik".into(),
                kind: proto::RunKind::Full as i32,
                trigger: proto::RunTrigger::Manual as i32,
                state: RunState::Running as i32,
                counts: Some(proto::RunCounts {
                    fetched,
                    ..Default::default()
                }),
                requests,
                retries,
                ..Default::default()
            }),
            clients_done: done,
            clients_total: total,
        }
    }

    #[test]
    fn progress_and_summary_lines() {
        let ev = running(3400, 35, 1, 17, 50);
        assert_eq!(
            start_line("auvik", &ev),
            "auvik: run 12 running (full, manual)"
        );
        assert_eq!(
            progress_line("auvik", 12, &ev),
            "auvik: run 12: 3400 fetched, 17/50 clients, 35 requests, 1 retry"
        );
        assert_eq!(bar_message(&ev), "3400 fetched, 35 requests, 1 retry");
        assert_eq!(
            bar_message(&running(7, 2, 0, 3, 0)),
            "7 fetched, 3 clients, 2 requests"
        );
        assert_eq!(
            counts_text(&running(3400, 1, 0, 0, 0)),
            "3400 fetched, 1 request"
        );
        assert_eq!(
            counts_text(&running(0, 2, 3, 4, 0)),
            "0 fetched, 4 clients, 2 requests, 3 retries"
        );
        let r = RunRecord {
            id: 12,
            source: "auvik".into(),
            kind: "full".into(),
            trigger: "manual".into(),
            started: Some("2025-03-01T12:00:00Z".into()),
            finished: Some("2025-03-01T12:01:02Z".into()),
            state: "failed".into(),
            fetched: 3400,
            added: 10,
            updated: 5,
            unchanged: 3385,
            removed: 0,
            skipped: 0,
            skipped_units: 0,
            removals_held: 0,
            requests: 120,
            retries: 2,
            error: "401 from Auvik:\nupdate api_key".into(),
        };
        let partial = RunRecord {
            state: "partial".into(),
            skipped: 5,
            removals_held: 30,
            error: String::new(),
            ..r.clone()
        };
        assert_eq!(
            summary_line(&partial),
            "auvik: run 12 partial in 1m 2s: 3400 fetched, 10 added, 5 updated, 3385 unchanged, 0 removed, 5 skipped, 30 removals held (120 requests, 2 retries)"
        );
        assert_eq!(
            summary_line(&r),
            "auvik: run 12 failed in 1m 2s: 3400 fetched, 10 added, 5 updated, 3385 unchanged, 0 removed (120 requests, 2 retries); error: 401 from Auvik: update api_key"
        );
    }

    #[test]
    fn plain_lines_say_the_start_at_once_then_moving_counts_at_most_every_few_seconds() {
        let t0 = Instant::now();
        let mut plain = PlainState::default();
        let line = |p: &mut PlainState, ev, at| p.next_line("auvik", &ev, t0 + at);
        let s = Duration::from_secs;
        assert_eq!(
            line(&mut plain, running(0, 1, 0, 0, 0), s(0)).as_deref(),
            Some("auvik: run 12 running (full, manual)")
        );
        // Counts moved, but too soon after the last line.
        assert_eq!(line(&mut plain, running(100, 2, 0, 0, 0), s(1)), None);
        assert_eq!(
            line(&mut plain, running(200, 3, 0, 1, 3), PLAIN_EVERY).as_deref(),
            Some("auvik: run 12: 200 fetched, 1/3 clients, 3 requests")
        );
        // Nothing moved: nothing to say, however long the wait (a Retry-After pause).
        assert_eq!(line(&mut plain, running(200, 3, 0, 1, 3), s(60)), None);
        // A finished run is summarised elsewhere, from its record.
        let mut done = running(300, 4, 0, 3, 3);
        if let Some(run) = done.run.as_mut() {
            run.state = RunState::Ok as i32;
        }
        assert_eq!(line(&mut plain, done, s(61)), None);
    }

    #[test]
    fn bars_only_on_a_terminal_and_plain_lines_only_for_tables() {
        assert_eq!(mode(Format::Table, true), Mode::Bars);
        assert_eq!(mode(Format::Json, true), Mode::Bars);
        assert_eq!(mode(Format::Table, false), Mode::Plain);
        assert_eq!(mode(Format::Json, false), Mode::Quiet);
        assert_eq!(mode(Format::Csv, false), Mode::Quiet);
    }
}
