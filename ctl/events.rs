//! `assetctl events` and `assetctl hooks`: the agent's event log and its hooks' outboxes
//! (`EventService`, docs/events.md).
//!
//! `events` prints one line per event as it arrives (a table cannot wait for the end of a
//! stream that never ends): with `-o json` one JSON object per line (JSON Lines), the same
//! bytes a webhook receives; with `-o csv` a header and one row per event. With `--follow`
//! it rides out a restart of the agent, reconnecting and resuming after the last event it
//! printed, so nothing is printed twice and nothing is skipped.

use std::io::{self, Write};
use std::time::Duration;

use anyhow::Result;
use serde::Serialize;
use serde_json::value::RawValue;
use tonic::Code;

use crate::cli::HooksCommand;
use crate::commands::Ctx;
use crate::connect::unary;
use crate::convert::{AttentionRecord, short_ts, timestamp};
use crate::error::{CtlError, EXIT_OK, call, rpc_error};
use crate::output::{
    Col, Field, Format, Record, csv_line, flex, left, print_list, right, sanitize,
};
use crate::proto;

/// One event as `-o json` prints it: the fields and order of the agent's JSON form, so a
/// line is byte for byte what a webhook receives.
#[derive(Debug, Serialize)]
pub struct EventRecord {
    pub id: i64,
    pub time: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    pub source: String,
    pub run_id: Option<i64>,
    pub asset_id: Option<i64>,
    pub client: String,
    /// The agent's JSON object, verbatim.
    pub data: Box<RawValue>,
}

impl From<proto::Event> for EventRecord {
    fn from(e: proto::Event) -> Self {
        // The agent stores times with microseconds, and sends them so: printed the same way.
        let time = e.time.as_ref().and_then(|t| {
            let nanos = u32::try_from(t.nanos).ok()?;
            chrono::DateTime::<chrono::Utc>::from_timestamp(t.seconds, nanos)
                .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
        });
        let data = RawValue::from_string(e.data)
            .ok()
            .filter(|d| d.get().starts_with('{'))
            .unwrap_or_else(|| {
                RawValue::from_string("{}".into()).unwrap_or_else(|_| unreachable!())
            });
        EventRecord {
            id: e.id,
            time: time.or_else(|| timestamp(e.time.as_ref())),
            kind: e.r#type,
            source: e.source,
            run_id: (e.run_id != 0).then_some(e.run_id),
            asset_id: (e.asset_id != 0).then_some(e.asset_id),
            client: e.client,
            data,
        }
    }
}

impl EventRecord {
    fn value(&self) -> serde_json::Value {
        serde_json::from_str(self.data.get()).unwrap_or_default()
    }

    /// What happened, in a few words, for the table.
    pub fn summary(&self) -> String {
        let d = self.value();
        let s = |k: &str| d[k].as_str().unwrap_or_default().to_owned();
        let n = |k: &str| d[k].as_i64().unwrap_or(0);
        let text = match self.kind.as_str() {
            "run.started" => format!("{} run started ({})", s("kind"), s("trigger")),
            "run.finished" => {
                let mut t = format!(
                    "{} {}: {} fetched, {} added, {} updated, {} removed",
                    s("kind"),
                    s("state"),
                    n("fetched"),
                    n("added"),
                    n("updated"),
                    n("removed")
                );
                if !s("error").is_empty() {
                    t.push_str(" — ");
                    t.push_str(&s("error"));
                }
                t
            }
            "source.state_changed" => format!("{} → {}", s("old"), s("new")),
            "asset.added" if d["returned"] == true => {
                format!("{} ({}) is back", s("name"), s("category"))
            }
            "asset.added" | "asset.removed" => format!("{} ({})", s("name"), s("category")),
            "asset.changed" => {
                let fields: Vec<&str> = d["changes"]
                    .as_array()
                    .map(|c| c.iter().filter_map(|c| c["field"].as_str()).collect())
                    .unwrap_or_default();
                format!("{}: {}", s("name"), fields.join(", "))
            }
            "removals.held" => format!("{} removals held", n("held")),
            "counts.changed" => format!(
                "total_billable {} → {}",
                d["old"]["total_billable"].as_i64().unwrap_or(0),
                d["new"]["total_billable"].as_i64().unwrap_or(0)
            ),
            "warranty.expiring" => format!(
                "warranty expires {} ({} days)",
                s("warranty_expires"),
                n("days_left")
            ),
            _ => self.data.get().to_owned(),
        };
        sanitize(&text).into_owned()
    }

    fn line(&self, format: Format) -> String {
        match format {
            Format::Json => serde_json::to_string(self).unwrap_or_default() + "\n",
            Format::Csv => csv_line(&[
                self.id.to_string(),
                self.time.clone().unwrap_or_default(),
                self.kind.clone(),
                self.source.clone(),
                self.run_id.map(|i| i.to_string()).unwrap_or_default(),
                self.asset_id.map(|i| i.to_string()).unwrap_or_default(),
                self.client.clone(),
                self.data.get().to_owned(),
            ]),
            Format::Table => {
                let client = if self.client.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", sanitize(&self.client))
                };
                format!(
                    "{:>8}  {}  {:<20}  {:<12}  {}{}\n",
                    self.id,
                    short_ts(&self.time),
                    self.kind,
                    sanitize(&self.source),
                    self.summary(),
                    client
                )
            }
        }
    }
}

const CSV_HEADER: [&str; 8] = [
    "id", "time", "type", "source", "run_id", "asset_id", "client", "data",
];

/// The response header where `WatchEvents` names the id its stream reads after (the
/// agent's `api::events::CURSOR_HEADER`; assetctl shares no code with the agent).
const CURSOR_HEADER: &str = "x-assetd-after";

/// How long `--follow` waits between attempts to reach an agent that went away.
const RECONNECT_EVERY: Duration = Duration::from_secs(1);

pub async fn events(
    ctx: &Ctx,
    after: Option<u64>,
    follow: bool,
    types: Vec<String>,
    sources: Vec<String>,
) -> Result<i32> {
    const C: crate::error::Call = call("WatchEvents", "events");
    // Without --after: everything retained, or with --follow only what happens from now.
    let mut after: String = match after {
        Some(n) => n.to_string(),
        None if follow => String::new(),
        None => "0".to_owned(),
    };
    let mut out = io::BufWriter::new(io::stdout().lock());
    if ctx.format == Format::Csv {
        out.write_all(csv_line(&CSV_HEADER).as_bytes())?;
    }
    if ctx.format == Format::Table {
        writeln!(
            out,
            "{:>8}  {:<16}  {:<20}  {:<12}  WHAT",
            "ID", "TIME", "TYPE", "SOURCE"
        )?;
    }
    out.flush()?;
    let mut printed = 0u64;
    let mut lost_since: Option<std::time::Instant> = None;
    loop {
        let request = proto::WatchEventsRequest {
            after: after.clone(),
            types: types.clone(),
            sources: sources.clone(),
            replay_only: !follow,
        };
        let started = ctx.agent.events().watch_events(request).await;
        let mut stream = match started {
            Ok(s) => {
                // Following from now: the agent names where "now" is, so a stream lost
                // before its first event resumes there rather than at a later "now".
                if after.is_empty()
                    && let Some(start) = s
                        .metadata()
                        .get(CURSOR_HEADER)
                        .and_then(|v| v.to_str().ok())
                        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                {
                    after = start.to_owned();
                }
                s.into_inner()
            }
            Err(s) if follow && lost_since.is_some() && reconnectable(&s) => {
                tokio::time::sleep(RECONNECT_EVERY).await;
                continue;
            }
            Err(s) => return Err(rpc_error(s, C).into()),
        };
        if lost_since.take().is_some() {
            eprintln!("assetctl: reconnected; resuming after event {after}");
        }
        let ended = loop {
            match stream.message().await {
                Ok(Some(event)) => {
                    let record = EventRecord::from(event);
                    // Once printed, this is where a reconnection resumes.
                    after = record.id.to_string();
                    out.write_all(record.line(ctx.format).as_bytes())?;
                    // One line at a time, so a pipe reader sees each event as it comes.
                    out.flush()?;
                    printed += 1;
                }
                Ok(None) => break None,
                Err(s) => break Some(s),
            }
        };
        match ended {
            None if !follow => break,
            // The agent ended a followed stream (it is stopping): wait for it to return.
            None => {}
            Some(s) if follow && reconnectable(&s) => {}
            Some(s) => return Err(rpc_error(s, C).into()),
        }
        if lost_since.is_none() {
            eprintln!(
                "assetctl: lost the agent; reconnecting, to resume after event {}",
                if after.is_empty() { "now" } else { &after }
            );
            lost_since = Some(std::time::Instant::now());
        }
        tokio::time::sleep(RECONNECT_EVERY).await;
    }
    if ctx.format == Format::Table && printed == 0 {
        eprintln!(
            "no events{}",
            if after == "0" {
                " retained"
            } else {
                " after that id"
            }
        );
    }
    Ok(EXIT_OK)
}

/// Whether a failed stream is worth resuming: the agent stopped or the connection broke,
/// not a refused request.
fn reconnectable(s: &tonic::Status) -> bool {
    matches!(
        s.code(),
        Code::Unavailable | Code::Unknown | Code::Cancelled | Code::Internal
    ) && !matches!(
        rpc_error(s.clone(), call("WatchEvents", "events")),
        CtlError::Tls { .. }
    )
}

/// One hook as `assetctl hooks` prints it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HookRecord {
    pub name: String,
    pub kind: String,
    pub target: String,
    pub events: Vec<String>,
    pub state: String,
    pub delivered_through: i64,
    pub backlog: i64,
    pub last_delivery: Option<String>,
    pub last_error: String,
    pub attempts: i64,
    pub next_attempt: Option<String>,
    pub failing_since: Option<String>,
}

impl From<proto::Hook> for HookRecord {
    fn from(h: proto::Hook) -> Self {
        let state = proto::HookState::try_from(h.state)
            .map(|s| {
                s.as_str_name()
                    .trim_start_matches("HOOK_STATE_")
                    .to_ascii_lowercase()
            })
            .unwrap_or_else(|_| "unspecified".to_owned());
        HookRecord {
            name: h.name,
            kind: h.kind,
            target: h.target,
            events: if h.events.is_empty() {
                vec!["*".to_owned()]
            } else {
                h.events
            },
            state,
            delivered_through: h.delivered_through,
            backlog: h.backlog,
            last_delivery: timestamp(h.last_delivery.as_ref()),
            last_error: h.last_error,
            attempts: h.attempts,
            next_attempt: timestamp(h.next_attempt.as_ref()),
            failing_since: timestamp(h.failing_since.as_ref()),
        }
    }
}

impl Record for HookRecord {
    const TABLE: &'static [(Col, Field<Self>)] = &[
        (left("NAME"), |h| h.name.clone()),
        (left("KIND"), |h| h.kind.clone()),
        (left("STATE"), |h| h.state.clone()),
        (right("BACKLOG"), |h| h.backlog.to_string()),
        (left("LAST DELIVERY"), |h| short_ts(&h.last_delivery)),
        (left("NEXT ATTEMPT"), |h| short_ts(&h.next_attempt)),
        (flex("LAST ERROR"), |h| {
            if h.last_error.is_empty() {
                "-".to_owned()
            } else {
                h.last_error.clone()
            }
        }),
    ];
    const CSV: &'static [(&'static str, Field<Self>)] = &[
        ("name", |h| h.name.clone()),
        ("kind", |h| h.kind.clone()),
        ("target", |h| h.target.clone()),
        ("events", |h| h.events.join(";")),
        ("state", |h| h.state.clone()),
        ("delivered_through", |h| h.delivered_through.to_string()),
        ("backlog", |h| h.backlog.to_string()),
        ("last_delivery", |h| {
            h.last_delivery.clone().unwrap_or_default()
        }),
        ("last_error", |h| h.last_error.clone()),
        ("attempts", |h| h.attempts.to_string()),
        ("next_attempt", |h| {
            h.next_attempt.clone().unwrap_or_default()
        }),
        ("failing_since", |h| {
            h.failing_since.clone().unwrap_or_default()
        }),
    ];
}

/// What `assetctl status` says about hooks: each one that has failed for 24 hours.
pub fn hook_attention(hooks: &[HookRecord]) -> Vec<AttentionRecord> {
    hooks
        .iter()
        .filter(|h| h.state == "failing")
        .map(|h| AttentionRecord {
            subject: format!("hook {}", h.name),
            problem: format!(
                "failed for 24 hours; its {} undelivered events are kept",
                h.backlog
            ),
            detail: sanitize(&h.last_error).into_owned(),
            fix: format!("fix the receiver, then `assetctl hooks retry {}`", h.name),
        })
        .collect()
}

pub async fn hooks(ctx: &Ctx, command: Option<HooksCommand>) -> Result<i32> {
    match command {
        None => {
            let resp = ctx
                .agent
                .events()
                .list_hooks(unary(proto::ListHooksRequest {}))
                .await
                .map_err(|s| rpc_error(s, call("ListHooks", "hooks")))?
                .into_inner();
            let records: Vec<HookRecord> = resp.hooks.into_iter().map(Into::into).collect();
            print_list(ctx.format, &records)?;
            if ctx.format == Format::Table {
                if records.is_empty() {
                    eprintln!("no hooks: add [[hook]] tables to the config (see docs/events.md)");
                }
                for h in records.iter().filter(|h| h.state == "failing") {
                    eprintln!(
                        "hook `{}` has failed for 24 hours; its {} events are kept. Fix the receiver, then `assetctl hooks retry {}`",
                        h.name, h.backlog, h.name
                    );
                }
            }
        }
        Some(HooksCommand::Retry { name }) => {
            let resp = ctx
                .agent
                .events()
                .retry_hook(unary(proto::RetryHookRequest { name: name.clone() }))
                .await
                .map_err(|s| rpc_error(s, call("RetryHook", "hooks retry")))?
                .into_inner();
            let record: Vec<HookRecord> = resp.hook.into_iter().map(Into::into).collect();
            print_list(ctx.format, &record)?;
            if ctx.format == Format::Table {
                eprintln!("hook `{name}` tries its next event now");
            }
        }
    }
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, data: &str) -> EventRecord {
        EventRecord::from(proto::Event {
            id: 12,
            time: Some(prost_types::Timestamp {
                seconds: 1_767_225_600,
                nanos: 120_000_000,
            }),
            r#type: kind.into(),
            source: "auvik".into(),
            run_id: 3,
            asset_id: 0,
            client: "Contoso".into(),
            data: data.into(),
        })
    }

    #[test]
    fn a_json_line_is_the_agents_json_form() {
        let e = event("asset.added", r#"{"name":"sw-1","category":"switch"}"#);
        assert_eq!(
            e.line(Format::Json),
            "{\"id\":12,\"time\":\"2026-01-01T00:00:00.120000Z\",\"type\":\"asset.added\",\"source\":\"auvik\",\
             \"run_id\":3,\"asset_id\":null,\"client\":\"Contoso\",\"data\":{\"name\":\"sw-1\",\"category\":\"switch\"}}\n"
        );
        assert_eq!(e.summary(), "sw-1 (switch)");
        // Data that is not an object (an agent bug) still prints valid JSON.
        assert!(
            event("x", "oops")
                .line(Format::Json)
                .contains("\"data\":{}")
        );
    }

    #[test]
    fn only_a_failing_hook_needs_attention() {
        let hook = |state: &str| HookRecord {
            name: "psa".into(),
            kind: "webhook".into(),
            target: "https://psa.example/…".into(),
            events: vec!["*".into()],
            state: state.into(),
            delivered_through: 10,
            backlog: 42,
            last_delivery: None,
            last_error: "https://psa.example/… answered 503\nService Unavailable".into(),
            attempts: 300,
            next_attempt: None,
            failing_since: None,
        };
        assert!(hook_attention(&[hook("ok"), hook("retrying")]).is_empty());
        let a = hook_attention(&[hook("failing")]);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].subject, "hook psa");
        assert!(a[0].problem.contains("42 undelivered events are kept"));
        assert!(!a[0].detail.contains('\n'));
        assert_eq!(
            a[0].fix,
            "fix the receiver, then `assetctl hooks retry psa`"
        );
    }

    #[test]
    fn summaries_say_what_happened() {
        assert_eq!(
            event(
                "source.state_changed",
                r#"{"old":"ok","new":"credentials_rejected"}"#
            )
            .summary(),
            "ok → credentials_rejected"
        );
        assert_eq!(
            event(
                "counts.changed",
                r#"{"old":{"total_billable":4},"new":{"total_billable":5}}"#
            )
            .summary(),
            "total_billable 4 → 5"
        );
        assert_eq!(
            event(
                "asset.changed",
                r#"{"name":"fw","changes":[{"field":"serial"},{"field":"os"}]}"#
            )
            .summary(),
            "fw: serial, os"
        );
        let csv = event("run.started", r#"{"kind":"full","trigger":"manual"}"#).line(Format::Csv);
        assert!(
            csv.starts_with("12,2026-01-01T00:00:00.120000Z,run.started,auvik,3,,Contoso,"),
            "{csv}"
        );
    }
}
