//! `assetctl status` as a report a human reads at a glance: the agent, config and
//! database on top, the sources as a table, then what needs attention, one line each
//! ending in `→ what to do`. The same items are the `attention` array of `-o json`.

use chrono::{DateTime, Utc};

use crate::convert::{AttentionRecord, SourceRecord, StatusRecord, relative, short_ts};
use crate::output::{Record, render_table, sanitize, truncate};

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

/// What needs attention, each with what to do; empty when all is well. In order: the
/// config, then each source (rejected credentials, failed, partial, removals held, no longer configured,
/// billing figures unreadable), then unmapped clients.
pub fn attention(s: &StatusRecord, now: DateTime<Utc>) -> Vec<AttentionRecord> {
    let mut items = Vec::new();
    if s.config.state == "rejected" {
        let path = sanitize(&s.config.path);
        items.push(AttentionRecord {
            subject: "config".into(),
            problem: "the changed config file was refused; the previous config keeps running"
                .into(),
            detail: one_line_or(&s.config.last_error, "(no detail given)"),
            fix: format!(
                "fix the file (`assetd check-config {path}` lists every error); it is reloaded on save or SIGHUP"
            ),
        });
    }
    for src in &s.sources {
        items.extend(source_attention(src, now));
    }
    if s.unmapped_clients > 0 {
        let n = s.unmapped_clients;
        items.push(AttentionRecord {
            subject: "clients".into(),
            problem: format!(
                "{n} client{} found in only one source",
                if n == 1 { " is" } else { "s are" }
            ),
            detail: String::new(),
            fix: "`assetctl clients --unmapped` suggests a [[client]] table for each that is named differently elsewhere".into(),
        });
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

fn source_attention(src: &SourceRecord, now: DateTime<Utc>) -> Vec<AttentionRecord> {
    let name = sanitize(&src.name).into_owned();
    let run_error = src
        .last_run
        .as_ref()
        .map(|r| r.error.as_str())
        .unwrap_or("");
    let detail = if src.state_detail.trim().is_empty() {
        one_line_or(run_error, "")
    } else {
        one_line_or(&src.state_detail, "")
    };
    let item = |problem: &str, detail: String, fix: String| AttentionRecord {
        subject: format!("source {name}"),
        problem: problem.to_owned(),
        detail,
        fix,
    };
    let mut items = Vec::new();
    if src.removed_from_config {
        items.push(item(
            &format!(
                "no longer in the config; its {} assets are still in the database",
                src.asset_count
            ),
            String::new(),
            format!(
                "`assetctl purge --source {name} --yes` deletes them (or put the source back in the config)"
            ),
        ));
        return items;
    }
    match src.state.as_str() {
        "credentials_rejected" => items.push(item(
            "the vendor rejected the credentials; assetd stopped calling it",
            detail,
            format!(
                "put working credentials for {name} in the config; it syncs again as soon as they change (SIGHUP after editing a secret file)"
            ),
        )),
        "failed" => {
            let next = match &src.next_run_at {
                Some(_) => format!(
                    "the next scheduled run ({}) retries",
                    relative(&src.next_run_at, now)
                ),
                None => "no run is scheduled until the config changes".to_owned(),
            };
            items.push(item(
                "the last run failed; the previous data is unchanged",
                detail,
                format!("{next}; `assetctl sync {name} --wait` retries now"),
            ));
        }
        "partial" => items.push(item(
            "the last run was partial: some data could not be read and was kept as it was",
            detail,
            format!("see the detail; `assetctl runs --source {name}` shows recent runs"),
        )),
        "removals_held" => items.push(item(
            "the last full run held its removals: more than `max_removals` allow",
            detail,
            format!(
                "if the vendor really dropped them, `assetctl sync {name} --full --accept-removals`; if not, check the \
                 API user's permissions and what the vendor lists"
            ),
        )),
        _ => {}
    }
    if !src.billing_note.trim().is_empty() {
        items.push(item(
            "the vendor's billing figures cannot be read",
            one_line_or(&src.billing_note, ""),
            format!(
                "see the detail; the next full run reads them again (`assetctl sync {name} --full`)"
            ),
        ));
    }
    items
}

/// One attention item as one line: `! SUBJECT: PROBLEM: DETAIL → FIX`. With a width, the
/// detail is shortened (with `…`) so the line fits, never the fix: the fix is what the
/// reader came for, and `assetctl sources` shows every detail whole.
pub fn attention_line(a: &AttentionRecord, width: Option<usize>) -> String {
    let head = format!("! {}: {}", a.subject, a.problem);
    let fix = format!(" → {}", a.fix);
    let mut detail = if a.detail.is_empty() {
        String::new()
    } else {
        format!(": {}", a.detail)
    };
    if let Some(width) = width {
        let fixed = head.chars().count() + fix.chars().count();
        let room = width.saturating_sub(fixed);
        if detail.chars().count() > room {
            // Keep at least a few characters of the detail, or drop it altogether.
            detail = if room >= 12 {
                truncate(&detail, room).into_owned()
            } else {
                String::new()
            };
        }
    }
    sanitize(&format!("{head}{detail}{fix}")).into_owned()
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
    out.push('\n');
    if s.attention.is_empty() {
        out.push_str("Nothing needs attention.\n");
    } else {
        out.push_str("Needs attention:\n");
        for item in &s.attention {
            out.push_str(&attention_line(item, width));
            out.push('\n');
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
                skipped: 0,
                skipped_units: 0,
                removals_held: 0,
                requests: 1,
                retries: 0,
                error: "HTTP 500 from vendor".into(),
            }),
            next_run_at: Some("2025-03-01T12:30:00Z".into()),
            asset_count: 5,
            removed_from_config: false,
            billing_note: String::new(),
        }
    }

    fn status(sources: Vec<SourceRecord>, config_state: &str, unmapped: i64) -> StatusRecord {
        StatusRecord {
            version: "0.1.0".into(),
            started_at: Some("2025-03-01T09:00:00Z".into()),
            uptime: Some("3h 1s".into()),
            config: ConfigRecord {
                path: "/etc/assetd/config.toml".into(),
                state: config_state.into(),
                last_error: "/etc/assetd/config.toml:12:5: unknown key `intervall`".into(),
                loaded_at: Some("2025-03-01T09:00:00Z".into()),
                generation: 1,
            },
            database: DatabaseRecord {
                path: "/var/lib/assetd/assetd.db".into(),
                size_bytes: 5 * 1024 * 1024,
                asset_count: 10,
            },
            sources,
            unmapped_clients: unmapped,
            attention: Vec::new(),
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2025-03-01T12:00:00Z")
            .expect("valid")
            .with_timezone(&Utc)
    }

    #[test]
    fn status_points_at_what_needs_fixing_one_line_each() {
        let mut old = source("old", "ok", "");
        old.removed_from_config = true;
        let mut billing = source("auvik2", "ok", "");
        billing.billing_note =
            "Auvik's billing usage is not readable by this API user (403): give the user permission to view billing".into();
        let mut s = status(
            vec![
                source(
                    "auvik",
                    "credentials_rejected",
                    "401 Unauthorized: check api_key",
                ),
                billing,
                source("passportal", "partial", "tenant 7 answered 403"),
                source("syncro", "failed", ""),
                source("syncro2", "removals_held", "430 removals held"),
                source("fine", "ok", ""),
                old,
            ],
            "rejected",
            3,
        );
        s.attention = attention(&s, now());
        let text = render(&s, now(), None);
        assert!(text.starts_with("assetd 0.1.0, up 3h 1s (since 2025-03-01 09:00 UTC)\n"));
        assert!(text.contains("5.0 MiB, 10 assets"));
        let lines: Vec<&str> = text
            .lines()
            .skip_while(|l| *l != "Needs attention:")
            .skip(1)
            .collect();
        assert_eq!(
            lines,
            [
                "! config: the changed config file was refused; the previous config keeps running: \
                 /etc/assetd/config.toml:12:5: unknown key `intervall` → fix the file (`assetd check-config \
                 /etc/assetd/config.toml` lists every error); it is reloaded on save or SIGHUP",
                "! source auvik: the vendor rejected the credentials; assetd stopped calling it: 401 Unauthorized: \
                 check api_key → put working credentials for auvik in the config; it syncs again as soon as they \
                 change (SIGHUP after editing a secret file)",
                "! source auvik2: the vendor's billing figures cannot be read: Auvik's billing usage is not readable \
                 by this API user (403): give the user permission to view billing → see the detail; the next full \
                 run reads them again (`assetctl sync auvik2 --full`)",
                "! source passportal: the last run was partial: some data could not be read and was kept as it \
                 was: tenant 7 answered 403 → see the detail; `assetctl runs --source passportal` shows recent runs",
                // No state_detail: the last run's error stands in.
                "! source syncro: the last run failed; the previous data is unchanged: HTTP 500 from vendor → the \
                 next scheduled run (in 30m) retries; `assetctl sync syncro --wait` retries now",
                "! source syncro2: the last full run held its removals: more than `max_removals` allow: 430 \
                 removals held → if the vendor really dropped them, `assetctl sync syncro2 --full \
                 --accept-removals`; if not, check the API user's permissions and what the vendor lists",
                "! source old: no longer in the config; its 5 assets are still in the database → `assetctl purge \
                 --source old --yes` deletes them (or put the source back in the config)",
                "! clients: 3 clients are found in only one source → `assetctl clients --unmapped` suggests a \
                 [[client]] table for each that is named differently elsewhere",
            ]
        );
        assert!(!text.contains("source fine"));

        let ok = status(vec![source("fine", "ok", "")], "ok", 0);
        assert!(attention(&ok, now()).is_empty());
        assert!(render(&ok, now(), Some(120)).contains("Nothing needs attention."));
    }

    #[test]
    fn a_narrow_terminal_shortens_the_detail_never_the_fix() {
        let a = AttentionRecord {
            subject: "source auvik".into(),
            problem: "the last run failed".into(),
            detail: "a very long vendor error message that goes on and on about what happened"
                .into(),
            fix: "`assetctl sync auvik --wait` retries now".into(),
        };
        let line = attention_line(&a, Some(100));
        assert_eq!(line.chars().count(), 100, "{line}");
        assert!(line.contains("…"), "{line}");
        assert!(
            line.ends_with(" → `assetctl sync auvik --wait` retries now"),
            "{line}"
        );
        // Too narrow for any detail: it goes, the fix stays whole.
        let line = attention_line(&a, Some(40));
        assert_eq!(
            line,
            "! source auvik: the last run failed → `assetctl sync auvik --wait` retries now"
        );
        // Off a terminal, everything.
        assert!(attention_line(&a, None).contains("goes on and on about what happened → "));
    }

    #[test]
    fn bytes_are_human() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }
}
