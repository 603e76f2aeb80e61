//! `assetctl status` as a report a human reads at a glance: the agent, config and
//! database on top, the sources as a table, then what needs attention and how to fix it.

use chrono::{DateTime, Utc};

use crate::convert::{SourceRecord, StatusRecord, relative, short_ts};
use crate::output::{Record, render_table, sanitize};

/// Bytes as `12.3 MiB`.
pub fn human_bytes(n: i64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n.max(0) as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// What needs attention, each item a few lines (problem, detail, fix). Empty when all is well.
pub fn attention(s: &StatusRecord, now: DateTime<Utc>) -> Vec<String> {
    let mut items = Vec::new();
    if s.config.state == "rejected" {
        items.push(format!(
            "config {path} was rejected; the previous config keeps running.\n    error: {err}\n    fix:   correct the file (`assetd check-config {path}` lists every error); it is reloaded on save or SIGHUP",
            path = s.config.path,
            err = one_line_or(&s.config.last_error, "(no detail given)"),
        ));
    }
    for src in &s.sources {
        if let Some(item) = source_attention(src, now) {
            items.push(item);
        }
    }
    items
}

fn one_line_or(text: &str, fallback: &str) -> String {
    let t = sanitize(text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if t.is_empty() { fallback.to_owned() } else { t }
}

fn source_attention(src: &SourceRecord, now: DateTime<Utc>) -> Option<String> {
    let name = &src.name;
    let run_error = src
        .last_run
        .as_ref()
        .map(|r| r.error.as_str())
        .unwrap_or("");
    let detail = if src.state_detail.trim().is_empty() {
        one_line_or(run_error, "(no detail given)")
    } else {
        one_line_or(&src.state_detail, "")
    };
    let item = match src.state.as_str() {
        "credentials_rejected" => format!(
            "source {name}: the vendor rejected the credentials; assetd has stopped calling it.\n    detail: {detail}\n    fix:    put working credentials for {name} in the config; it syncs again as soon as they change"
        ),
        "failed" => {
            let next = match &src.next_run_at {
                Some(_) => format!(
                    "the next scheduled run ({}) retries",
                    relative(&src.next_run_at, now)
                ),
                None => "no run is scheduled".to_owned(),
            };
            format!(
                "source {name}: the last run failed.\n    detail: {detail}\n    fix:    {next}; `assetctl sync {name} --wait` retries now"
            )
        }
        "partial" => format!(
            "source {name}: the last run was partial (some data could not be read; nothing was marked removed).\n    detail: {detail}\n    fix:    see the detail; `assetctl runs --source {name}` shows recent runs"
        ),
        _ if src.removed_from_config => format!(
            "source {name} is no longer in the config, but its {n} assets are still in the database.\n    fix:    `assetctl purge --source {name} --yes` deletes them (or put the source back in the config)",
            n = src.asset_count
        ),
        _ => return None,
    };
    Some(item)
}

/// The whole report.
pub fn render(s: &StatusRecord, now: DateTime<Utc>, width: Option<usize>) -> String {
    let mut out = String::new();
    let version = if s.version.is_empty() {
        "assetd".to_owned()
    } else {
        format!("assetd {}", sanitize(&s.version))
    };
    match (&s.uptime, &s.started_at) {
        (Some(up), Some(_)) => out.push_str(&format!(
            "{version}, up {} (since {} UTC)\n",
            crate::convert::human_secs(humantime::parse_duration(up).map_or(0, |d| d.as_secs())),
            short_ts(&s.started_at)
        )),
        (Some(up), None) => out.push_str(&format!("{version}, up {up}\n")),
        _ => out.push_str(&format!("{version}\n")),
    }
    let generation = if s.config.generation > 0 {
        format!(", generation {}", s.config.generation)
    } else {
        String::new()
    };
    let loaded = match &s.config.loaded_at {
        Some(_) => format!(", loaded {}", relative(&s.config.loaded_at, now)),
        None => String::new(),
    };
    out.push_str(&format!(
        "config:   {}: {}{generation}{loaded}\n",
        sanitize(&s.config.path),
        s.config.state
    ));
    out.push_str(&format!(
        "database: {}: {}, {} assets\n",
        sanitize(&s.database.path),
        human_bytes(s.database.size_bytes),
        s.database.asset_count
    ));
    out.push('\n');
    if s.sources.is_empty() {
        out.push_str("No sources configured: add [[source]] tables to the config.\n");
    } else {
        let rows: Vec<Vec<String>> = s.sources.iter().map(Record::table_row).collect();
        out.push_str(&render_table(&SourceRecord::table_columns(), &rows, width));
    }
    let items = attention(s, now);
    out.push('\n');
    if items.is_empty() {
        out.push_str("Nothing needs attention.\n");
    } else {
        out.push_str("Needs attention:\n");
        for item in items {
            out.push_str(&format!("  ! {item}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::{ConfigRecord, DatabaseRecord, RunRecord};

    fn source(name: &str, state: &str, detail: &str) -> SourceRecord {
        SourceRecord {
            name: name.into(),
            kind: "auvik".into(),
            state: state.into(),
            state_detail: detail.into(),
            base_url: String::new(),
            interval: Some("30m".into()),
            full_interval: Some("1day".into()),
            last_run: Some(RunRecord {
                id: 3,
                source: name.into(),
                kind: "full".into(),
                trigger: "schedule".into(),
                started: Some("2025-03-01T11:00:00Z".into()),
                finished: Some("2025-03-01T11:01:00Z".into()),
                state: "failed".into(),
                fetched: 0,
                added: 0,
                updated: 0,
                unchanged: 0,
                removed: 0,
                requests: 1,
                retries: 0,
                error: "HTTP 500 from vendor".into(),
            }),
            next_run_at: Some("2025-03-01T12:30:00Z".into()),
            asset_count: 5,
            removed_from_config: false,
        }
    }

    #[test]
    fn status_points_at_what_needs_fixing() {
        let now = DateTime::parse_from_rfc3339("2025-03-01T12:00:00Z")
            .expect("valid")
            .with_timezone(&Utc);
        let mut old = source("old", "ok", "");
        old.removed_from_config = true;
        let s = StatusRecord {
            version: "0.1.0".into(),
            started_at: Some("2025-03-01T09:00:00Z".into()),
            uptime: Some("3h 1s".into()),
            config: ConfigRecord {
                path: "/etc/assetd/config.toml".into(),
                state: "rejected".into(),
                last_error: "12:5: unknown key `intervall`".into(),
                loaded_at: Some("2025-03-01T09:00:00Z".into()),
                generation: 1,
            },
            database: DatabaseRecord {
                path: "/var/lib/assetd/assetd.db".into(),
                size_bytes: 5 * 1024 * 1024,
                asset_count: 10,
            },
            sources: vec![
                source(
                    "auvik",
                    "credentials_rejected",
                    "401 Unauthorized: check api_key",
                ),
                source("syncro", "failed", ""),
                source("fine", "ok", ""),
                old,
            ],
        };
        let text = render(&s, now, Some(120));
        assert!(text.starts_with("assetd 0.1.0, up 3h 1s (since 2025-03-01 09:00 UTC)\n"));
        assert!(text.contains("5.0 MiB, 10 assets"));
        assert!(text.contains("12:5: unknown key `intervall`"));
        assert!(text.contains("assetd check-config /etc/assetd/config.toml"));
        assert!(text.contains("source auvik: the vendor rejected the credentials"));
        assert!(text.contains("401 Unauthorized: check api_key"));
        // No state_detail: the last run's error stands in.
        assert!(text.contains("detail: HTTP 500 from vendor"));
        assert!(text.contains("the next scheduled run (in 30m) retries"));
        assert!(text.contains("assetctl purge --source old --yes"));
        assert!(!text.contains("source fine"));
        assert_eq!(attention(&s, now).len(), 4);

        let ok = StatusRecord {
            config: ConfigRecord {
                state: "ok".into(),
                ..s.config.clone()
            },
            sources: vec![source("fine", "ok", "")],
            ..s
        };
        assert!(render(&ok, now, Some(120)).contains("Nothing needs attention."));
    }

    #[test]
    fn bytes_are_human() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }
}
