//! The event log's vocabulary (issue 23, `docs/events.md`): the event types, one event as
//! stored and sent, and the filter a watcher or a hook subscribes with.
//!
//! An event is written by the store in the same transaction as the change it describes;
//! `WatchEvents`, `assetctl events` and the hooks only read it. Its JSON form (`to_json`)
//! is what a webhook receives, what a command hook reads on stdin and what `assetctl -o json
//! events` prints, so the three can never drift apart. The names are fixed by the contract
//! and identical in the proto, the store, the CLI and the JSON.

use chrono::{DateTime, Utc};
use std::fmt;
use std::str::FromStr;

/// What happened. The string forms are the contract's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    RunStarted,
    RunFinished,
    SourceStateChanged,
    AssetAdded,
    AssetChanged,
    AssetRemoved,
    RemovalsHeld,
    CountsChanged,
    /// A covered device entering the 90-day window before its latest warranty expiry, at
    /// most once per device and expiry date (`store::events::warranty_expiring_events`).
    WarrantyExpiring,
}

impl EventType {
    pub const ALL: [EventType; 9] = [
        EventType::RunStarted,
        EventType::RunFinished,
        EventType::SourceStateChanged,
        EventType::AssetAdded,
        EventType::AssetChanged,
        EventType::AssetRemoved,
        EventType::RemovalsHeld,
        EventType::CountsChanged,
        EventType::WarrantyExpiring,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::RunStarted => "run.started",
            EventType::RunFinished => "run.finished",
            EventType::SourceStateChanged => "source.state_changed",
            EventType::AssetAdded => "asset.added",
            EventType::AssetChanged => "asset.changed",
            EventType::AssetRemoved => "asset.removed",
            EventType::RemovalsHeld => "removals.held",
            EventType::CountsChanged => "counts.changed",
            EventType::WarrantyExpiring => "warranty.expiring",
        }
    }

    /// Every name, comma-separated, for messages that list what is accepted.
    pub fn names() -> String {
        EventType::ALL
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event type `{0}`")]
pub struct UnknownEventType(pub String);

impl FromStr for EventType {
    type Err = UnknownEventType;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownEventType(s.to_string()))
    }
}

/// One entry of the durable log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Increasing, never reused (the cursor of `WatchEvents` and of each hook).
    pub id: i64,
    /// When the change was committed, as stored (`store::ts`: RFC 3339, microseconds, UTC).
    pub time: String,
    /// The type's name as stored; one of `EventType`'s (a name this build does not know,
    /// written by a later one, is passed through as is).
    pub kind: String,
    /// The `[[source]]` the change came from.
    pub source: String,
    /// The run that made the change, when one did.
    pub run_id: Option<i64>,
    /// The asset it concerns (asset.*), when one.
    pub asset_id: Option<i64>,
    /// The assetd client it concerns (asset.*, counts.changed); `""` when none or unknown.
    pub client: String,
    /// The type's own fields: a JSON object, as written in the same transaction.
    pub data: String,
}

impl Event {
    pub fn time(&self) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(&self.time)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    /// The event as one JSON object: `id`, `time`, `type`, `source`, `run_id`, `asset_id`,
    /// `client` and `data`. Webhooks POST exactly these bytes (the signature covers them),
    /// command hooks read them on stdin.
    pub fn to_json(&self) -> String {
        #[derive(serde::Serialize)]
        struct Wire<'a> {
            id: i64,
            time: &'a str,
            #[serde(rename = "type")]
            kind: &'a str,
            source: &'a str,
            run_id: Option<i64>,
            asset_id: Option<i64>,
            client: &'a str,
            data: &'a serde_json::value::RawValue,
        }
        // Written by the store from JSON functions, so always an object; anything else
        // (a hand-edited row) is sent as an empty object rather than as broken JSON.
        let empty = serde_json::value::RawValue::from_string("{}".to_string())
            .unwrap_or_else(|_| unreachable!("`{{}}` is JSON"));
        let parsed = serde_json::from_str::<Box<serde_json::value::RawValue>>(&self.data)
            .ok()
            .filter(|raw| raw.get().starts_with('{'));
        let data = parsed.as_deref().unwrap_or(&empty);
        serde_json::to_string(&Wire {
            id: self.id,
            time: &self.time,
            kind: &self.kind,
            source: &self.source,
            run_id: self.run_id,
            asset_id: self.asset_id,
            client: &self.client,
            data,
        })
        .unwrap_or_else(|_| format!("{{\"id\":{}}}", self.id))
    }
}

/// Which events a watcher or a hook wants: these types (empty: every type) of these sources
/// (empty: every source).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub types: Vec<EventType>,
    pub sources: Vec<String>,
}

impl EventFilter {
    pub fn matches(&self, e: &Event) -> bool {
        (self.types.is_empty() || self.types.iter().any(|t| t.as_str() == e.kind))
            && (self.sources.is_empty() || self.sources.contains(&e.source))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_the_contracts() {
        for t in EventType::ALL {
            assert_eq!(t.as_str().parse::<EventType>(), Ok(t));
        }
        assert_eq!(
            EventType::names(),
            "run.started, run.finished, source.state_changed, asset.added, asset.changed, \
             asset.removed, removals.held, counts.changed, warranty.expiring"
        );
        assert!("run.Started".parse::<EventType>().is_err());
    }

    #[test]
    fn json_carries_every_field_and_the_data_verbatim() {
        let e = Event {
            id: 7,
            time: "2026-01-02T03:04:05.000006Z".into(),
            kind: "asset.added".into(),
            source: "auvik".into(),
            run_id: Some(3),
            asset_id: None,
            client: "Contoso \"Ltd\"".into(),
            data: r#"{"name":"sw-1","n":1}"#.into(),
        };
        assert_eq!(
            e.to_json(),
            r#"{"id":7,"time":"2026-01-02T03:04:05.000006Z","type":"asset.added","source":"auvik","run_id":3,"asset_id":null,"client":"Contoso \"Ltd\"","data":{"name":"sw-1","n":1}}"#
        );
        let broken = Event {
            data: "not json".into(),
            ..e.clone()
        };
        assert!(broken.to_json().ends_with(r#""data":{}}"#));
        assert_eq!(
            e.time().map(|t| t.timestamp_subsec_micros()),
            Some(6),
            "the stored time parses"
        );
    }

    #[test]
    fn filters_match_types_and_sources() {
        let e = Event {
            id: 1,
            time: String::new(),
            kind: "run.finished".into(),
            source: "syncro".into(),
            run_id: None,
            asset_id: None,
            client: String::new(),
            data: "{}".into(),
        };
        assert!(EventFilter::default().matches(&e));
        let f = |types: Vec<EventType>, sources: Vec<&str>| EventFilter {
            types,
            sources: sources.into_iter().map(String::from).collect(),
        };
        assert!(f(vec![EventType::RunFinished], vec![]).matches(&e));
        assert!(!f(vec![EventType::RunStarted], vec![]).matches(&e));
        assert!(f(vec![], vec!["syncro", "auvik"]).matches(&e));
        assert!(!f(vec![EventType::RunFinished], vec!["auvik"]).matches(&e));
    }
}
