//! `assetd.v1.EventService` (proto/assetd/v1/events.proto): the event log as a resumable
//! stream, and the hooks' outboxes. Validation and conversion only; the cursor's rules are
//! the service's (`Service::event_start`).

use crate::api::proto as pb;
use crate::api::rpc::{Api, timestamp};
use crate::event::{Event, EventFilter, EventType};
use crate::hooks::HookStatus;
use crate::service::{ApiError, EventCursor, Service};
use std::pin::Pin;
use std::sync::Arc;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

/// Events read at a time by one stream: all a slow or stuck reader ever holds in the agent
/// (plus what HTTP/2's window lets through), however far behind it is.
const PAGE: usize = 200;
const MAX_FILTERS: usize = 100;
/// The response header naming the id a `WatchEvents` stream reads after (docs/events.md).
pub const CURSOR_HEADER: &str = "x-assetd-after";
const MAX_NAME_CHARS: usize = 256;

type EventStream = Pin<Box<dyn Stream<Item = Result<pb::Event, Status>> + Send>>;

fn event_to_proto(e: Event) -> pb::Event {
    pb::Event {
        id: e.id,
        time: e.time().map(timestamp),
        r#type: e.kind,
        source: e.source,
        run_id: e.run_id.unwrap_or(0),
        asset_id: e.asset_id.unwrap_or(0),
        client: e.client,
        data: e.data,
    }
}

fn hook_to_proto(h: HookStatus) -> pb::Hook {
    let state = match h.state() {
        "failing" => pb::HookState::Failing,
        "retrying" => pb::HookState::Retrying,
        _ => pb::HookState::Ok,
    };
    let (kind, target) = match &h.config.target {
        // Its origin only: a path or query can hold a token.
        crate::config::HookTarget::Webhook { url, .. } => ("webhook", crate::hooks::shown_url(url)),
        // Only the program: an argument could be a token.
        crate::config::HookTarget::Command { argv } => {
            ("command", argv.first().cloned().unwrap_or_default())
        }
    };
    pb::Hook {
        name: h.config.name.clone(),
        kind: kind.to_string(),
        target,
        events: h
            .config
            .events
            .iter()
            .map(|t| t.as_str().to_string())
            .collect(),
        state: state as i32,
        delivered_through: h.row.delivered_through,
        backlog: h.backlog,
        last_delivery: h.row.last_delivery.map(timestamp),
        last_error: h.row.last_error,
        attempts: h.row.attempts,
        next_attempt: h.row.next_attempt.map(timestamp),
        failing_since: h.row.failing_since.map(timestamp),
    }
}

/// `after`: empty for now, else a non-negative decimal id.
fn cursor(after: &str) -> Result<EventCursor, ApiError> {
    if after.is_empty() {
        return Ok(EventCursor::Now);
    }
    after
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 0 && after.bytes().all(|b| b.is_ascii_digit()))
        .map(EventCursor::After)
        .ok_or_else(|| {
            ApiError::invalid(
                "after",
                "give the id of the last event received, \"0\" for every retained event, or leave it empty for events from now on",
            )
        })
}

fn filter(types: &[String], sources: &[String]) -> Result<EventFilter, ApiError> {
    if types.len() > MAX_FILTERS || sources.len() > MAX_FILTERS {
        return Err(ApiError::invalid(
            if types.len() > MAX_FILTERS {
                "types"
            } else {
                "sources"
            },
            format!("names at most {MAX_FILTERS}"),
        ));
    }
    let types = types
        .iter()
        .map(|t| {
            t.parse::<EventType>().map_err(|e| {
                ApiError::invalid(
                    "types",
                    format!("{e}; the types are {}", EventType::names()),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if sources
        .iter()
        .any(|s| s.is_empty() || s.chars().count() > MAX_NAME_CHARS)
    {
        return Err(ApiError::invalid(
            "sources",
            "a source name is empty or too long",
        ));
    }
    Ok(EventFilter {
        types,
        sources: sources.to_vec(),
    })
}

/// Where a `WatchEvents` stream is: the page being sent, how far the log has been read for
/// it, and the last event it sent (to say where to resume).
struct Watch {
    agent: Arc<Service>,
    filter: EventFilter,
    read: i64,
    sent: i64,
    page: std::vec::IntoIter<Event>,
    committed: tokio::sync::watch::Receiver<i64>,
    /// With `replay_only`: the last id committed at the call; the stream ends there.
    end: Option<i64>,
    stopping: tokio_util::sync::CancellationToken,
}

#[tonic::async_trait]
impl pb::event_service_server::EventService for Api {
    type WatchEventsStream = EventStream;

    async fn watch_events(
        &self,
        req: Request<pb::WatchEventsRequest>,
    ) -> Result<Response<Self::WatchEventsStream>, Status> {
        let r = req.into_inner();
        let cursor = cursor(&r.after)?;
        let filter = filter(&r.types, &r.sources)?;
        let agent = self.agent().clone();
        // Subscribed before the start is read: a commit in between is not missed.
        let committed = agent.subscribe_events();
        let start = agent.event_start(cursor).await?;
        let end = r.replay_only.then(|| *committed.borrow());
        let stopping = agent.stopping();
        let state = Watch {
            agent,
            filter,
            read: start,
            sent: start,
            page: Vec::new().into_iter(),
            committed,
            end,
            stopping,
        };
        // Pulled, not pushed, as ExportAssets: the next page is read only when the client
        // has taken this one, from the database, after this stream's own cursor. A reader
        // that falls behind holds its page and nothing else, and can neither slow the
        // writers nor make another stream lag or drop anything.
        let stream = futures_util::stream::try_unfold(state, |mut st| async move {
            loop {
                if let Some(e) = st.page.next() {
                    st.sent = e.id;
                    return Ok(Some((event_to_proto(e), st)));
                }
                let upto = match st.end {
                    Some(end) => end,
                    None => *st.committed.borrow_and_update(),
                };
                if st.read < upto {
                    let page = st
                        .agent
                        .event_page(st.read, upto, st.filter.clone(), PAGE)
                        .await?;
                    if st.read < page.pruned_through {
                        return Err(Status::from(
                            st.agent.events_pruned_error(st.sent, page.pruned_through),
                        ));
                    }
                    st.read = match page.events.last() {
                        Some(last) if page.events.len() == PAGE => last.id,
                        _ => upto,
                    };
                    st.page = page.events.into_iter();
                    continue;
                }
                if st.end.is_some() {
                    return Ok(None);
                }
                tokio::select! {
                    changed = st.committed.changed() => if changed.is_err() {
                        return Ok(None);
                    },
                    () = st.stopping.cancelled() => {
                        return Err(Status::unavailable(format!(
                            "the agent is stopping; resume with after = \"{}\" once it is back",
                            st.sent
                        )));
                    }
                }
            }
        });
        let mut response = Response::new(Box::pin(stream) as EventStream);
        // Where the stream starts, before any event: a reader that started "from now" and
        // loses the stream before its first event resumes after this id, missing nothing.
        response
            .metadata_mut()
            .insert(CURSOR_HEADER, tonic::metadata::MetadataValue::from(start));
        Ok(response)
    }

    async fn list_hooks(
        &self,
        _req: Request<pb::ListHooksRequest>,
    ) -> Result<Response<pb::ListHooksResponse>, Status> {
        let hooks = self.agent().hooks().await?;
        Ok(Response::new(pb::ListHooksResponse {
            hooks: hooks.into_iter().map(hook_to_proto).collect(),
        }))
    }

    async fn retry_hook(
        &self,
        req: Request<pb::RetryHookRequest>,
    ) -> Result<Response<pb::RetryHookResponse>, Status> {
        let name = req.into_inner().name;
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            return Err(Status::from(ApiError::invalid(
                "name",
                "give the hook's name, as in the config",
            )));
        }
        let hook = self.agent().retry_hook(&name).await?;
        Ok(Response::new(pb::RetryHookResponse {
            hook: Some(hook_to_proto(hook)),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_and_filters_are_checked_naming_the_field() {
        assert_eq!(cursor("").unwrap(), EventCursor::Now);
        assert_eq!(cursor("0").unwrap(), EventCursor::After(0));
        assert_eq!(cursor("42").unwrap(), EventCursor::After(42));
        for bad in ["-1", "+1", "1e3", " 1", "x", "99999999999999999999"] {
            let e = cursor(bad).unwrap_err().to_string();
            assert!(e.starts_with("after: "), "{bad}: {e}");
        }
        let f = filter(&["run.finished".into()], &["auvik".into()]).unwrap();
        assert_eq!(f.types, [EventType::RunFinished]);
        let e = filter(&["run.done".into()], &[]).unwrap_err().to_string();
        assert!(e.starts_with("types: unknown event type `run.done`"), "{e}");
        let e = filter(&[], &[String::new()]).unwrap_err().to_string();
        assert!(e.starts_with("sources: "), "{e}");
        let many: Vec<String> = (0..101).map(|i| format!("s{i}")).collect();
        assert!(filter(&[], &many).is_err());
    }
}
