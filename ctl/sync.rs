//! `assetctl sync`: trigger runs, and with `--wait` follow them to the end.
//!
//! Progress: on a terminal, one self-overwriting line per run; otherwise plain lines such as
//! `auvik: run 12 running, 3400 fetched (17/50 clients)` (on each state change, and at most
//! every two seconds while counts move); at the end one summary line per run. With `-o json`
//! or `-o csv` there is no progress, only the final run records.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::commands::Ctx;
use crate::connect::unary;
use crate::convert::{RunRecord, TriggeredRecord, elapsed, run_state_name};
use crate::error::{CtlError, EXIT_ERROR, EXIT_OK, EXIT_SYNC_FAILED, call, rpc_error};
use crate::output::{Format, print_list, print_text, truncate, tty_columns};
use assetd::proto::{self, RunState};

const PLAIN_EVERY: Duration = Duration::from_secs(2);

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

/// The line for a run that is still going.
pub fn progress_line(source: &str, run_id: i64, event: Option<&proto::SyncEvent>) -> String {
    let Some(ev) = event else {
        return format!("{source}: run {run_id} waiting for the agent…");
    };
    let run = ev.run.clone().unwrap_or_default();
    let fetched = run.counts.map_or(0, |c| c.fetched);
    let mut line = format!(
        "{source}: run {run_id} {}, {fetched} fetched",
        run_state_name(run.state)
    );
    if ev.clients_total > 0 {
        line.push_str(&format!(
            " ({}/{} clients)",
            ev.clients_done, ev.clients_total
        ));
    } else if ev.clients_done > 0 {
        line.push_str(&format!(" ({} clients)", ev.clients_done));
    }
    line
}

/// The summary line for a finished run.
pub fn summary_line(r: &RunRecord) -> String {
    let took = elapsed(&r.started, &r.finished)
        .map(|t| format!(" in {t}"))
        .unwrap_or_default();
    let mut line = format!(
        "{}: run {} {}{took}: {} fetched, {} added, {} updated, {} unchanged, {} removed ({} requests, {} retries)",
        r.source,
        r.id,
        r.state,
        r.fetched,
        r.added,
        r.updated,
        r.unchanged,
        r.removed,
        r.requests,
        r.retries
    );
    if !r.error.trim().is_empty() {
        line.push_str(&format!("; error: {}", r.error.trim()));
    }
    crate::output::sanitize(&line).into_owned()
}

struct Tracked {
    source: String,
    run_id: i64,
    last: Option<proto::SyncEvent>,
    printed: Option<(String, Instant)>,
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
    fn line(&self) -> String {
        if is_finished(self.state()) {
            summary_line(&self.record())
        } else {
            progress_line(&self.source, self.run_id, self.last.as_ref())
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Quiet,
    Plain,
    Live,
}

/// Redraws one line per run in place.
struct Live {
    drawn: usize,
    width: usize,
}

impl Live {
    /// Draw over the previous lines. Until the last draw, lines are cut one character short
    /// of the width so none wraps (which would break the redraw); the last one is whole.
    fn draw(&mut self, lines: &[String], last: bool) -> io::Result<()> {
        let mut out = io::stdout().lock();
        if self.drawn > 0 {
            write!(out, "\x1b[{}A", self.drawn)?;
        }
        for l in lines {
            let l = if last {
                l.into()
            } else {
                truncate(l, self.width.saturating_sub(1))
            };
            write!(out, "\r\x1b[2K{l}\n")?;
        }
        self.drawn = lines.len();
        out.flush()
    }
}

pub async fn sync(ctx: &Ctx, sources: Vec<String>, full: bool, wait: bool) -> Result<i32> {
    let mut client = ctx.agent.sync();
    let resp = client
        .trigger_sync(unary(proto::TriggerSyncRequest { sources, full }))
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

    let mode = match ctx.format {
        Format::Json | Format::Csv => Mode::Quiet,
        Format::Table if tty_columns(libc::STDOUT_FILENO).is_some() => Mode::Live,
        Format::Table => Mode::Plain,
    };
    let mut tracked: BTreeMap<i64, Tracked> = BTreeMap::new();
    for t in &triggered {
        tracked.entry(t.run_id).or_insert_with(|| Tracked {
            source: t.source.clone(),
            run_id: t.run_id,
            last: None,
            printed: None,
            summarised: false,
        });
    }
    let order: Vec<i64> = tracked.keys().copied().collect();
    let mut live = Live {
        drawn: 0,
        width: tty_columns(libc::STDOUT_FILENO).unwrap_or(80),
    };
    let lines = |tracked: &BTreeMap<i64, Tracked>| -> Vec<String> {
        order
            .iter()
            .filter_map(|id| tracked.get(id).map(Tracked::line))
            .collect()
    };

    if !tracked.is_empty() {
        if mode == Mode::Live {
            live.draw(&lines(&tracked), false)?;
        }
        const W: crate::error::Call = call("WatchSync", "sync --wait");
        let mut stream = client
            .watch_sync(proto::WatchSyncRequest {
                run_ids: order.clone(),
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
            t.last = Some(ev);
            match mode {
                Mode::Plain => plain_update(t)?,
                Mode::Live => live.draw(&lines(&tracked), false)?,
                Mode::Quiet => {}
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
    match mode {
        Mode::Live => live.draw(&lines(&tracked), true)?,
        Mode::Plain => {
            for t in tracked.values_mut() {
                if is_finished(t.state()) && !t.summarised {
                    t.summarised = true;
                    print_text(&format!("{}\n", t.line()))?;
                }
            }
        }
        Mode::Quiet => {
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

fn plain_update(t: &mut Tracked) -> Result<()> {
    let state = run_state_name(t.state());
    if is_finished(t.state()) {
        if !t.summarised {
            t.summarised = true;
            print_text(&format!("{}\n", t.line()))?;
        }
        return Ok(());
    }
    let line = t.line();
    let due = match &t.printed {
        None => true,
        Some((last_state, at)) => *last_state != state || at.elapsed() >= PLAIN_EVERY,
    };
    if due {
        print_text(&format!("{line}\n"))?;
        t.printed = Some((state, Instant::now()));
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

    #[test]
    fn progress_and_summary_lines() {
        let ev = proto::SyncEvent {
            run: Some(proto::SyncRun {
                id: 12,
                source: "auvik".into(),
                state: RunState::Running as i32,
                counts: Some(proto::RunCounts {
                    fetched: 3400,
                    ..Default::default()
                }),
                ..Default::default()
            }),
            clients_done: 17,
            clients_total: 50,
        };
        assert_eq!(
            progress_line("auvik", 12, Some(&ev)),
            "auvik: run 12 running, 3400 fetched (17/50 clients)"
        );
        let no_clients = proto::SyncEvent {
            clients_done: 0,
            clients_total: 0,
            ..ev
        };
        assert_eq!(
            progress_line("auvik", 12, Some(&no_clients)),
            "auvik: run 12 running, 3400 fetched"
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
            requests: 120,
            retries: 2,
            error: "401 from Auvik:\nupdate api_key".into(),
        };
        assert_eq!(
            summary_line(&r),
            "auvik: run 12 failed in 1m 2s: 3400 fetched, 10 added, 5 updated, 3385 unchanged, 0 removed (120 requests, 2 retries); error: 401 from Auvik: update api_key"
        );
    }
}
