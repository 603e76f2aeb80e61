//! Dispatch of the verbs that talk to the agent, and the small ones.

use std::io::{self, BufWriter};

use anyhow::Result;

use crate::cli::{AssetsCommand, Command, LifecycleArgs, ListArgs};
use crate::connect::{Agent, unary};
use crate::convert::{
    AssetRecord, ChangeRecord, ClientRecord, CountsRecord, DeviceRecord, LifecycleRecord,
    PeriodCountsRecord, PurgeRecord, RunRecord, SourceRecord, StatusRecord, pb_duration,
};
use crate::error::{Call, CtlError, EXIT_OK, call, rpc_error};
use crate::output::{Format, Record, Sink, print_json_object, print_list, print_text, table_width};
use crate::proto;
use crate::{status, sync};

/// What every verb needs.
pub struct Ctx {
    pub format: Format,
    pub agent: Agent,
}

const PAGE: u64 = 1000;

/// Run one verb; returns the exit code.
pub async fn run(ctx: &Ctx, command: Command) -> Result<i32> {
    match command {
        Command::Status => status_cmd(ctx).await,
        Command::Sources => sources(ctx).await,
        Command::Clients { unmapped } => clients(ctx, unmapped).await,
        Command::Assets(AssetsCommand::List(args)) => assets_list(ctx, &args).await,
        Command::Assets(AssetsCommand::Get { id }) => assets_get(ctx, id).await,
        Command::Assets(AssetsCommand::History { id }) => assets_history(ctx, id).await,
        Command::Devices { client, lifecycle } => devices(ctx, client, &lifecycle).await,
        Command::Lifecycle { client, within } => lifecycle(ctx, client, &within).await,
        Command::Counts { client, period } => counts(ctx, client, period).await,
        Command::Sync {
            sources,
            full,
            accept_removals,
            wait,
        } => sync::sync(ctx, sources, (full, accept_removals), wait).await,
        Command::Runs { source, limit } => runs(ctx, source, limit).await,
        Command::Export {
            format,
            include_removed,
        } => export(ctx, format, include_removed).await,
        Command::Purge { source, yes } => purge(ctx, &source, yes).await,
        Command::Events {
            after,
            follow,
            types,
            sources,
        } => crate::events::events(ctx, after, follow, types, sources).await,
        Command::Hooks { command } => crate::events::hooks(ctx, command).await,
        Command::Completions { .. } => Err(anyhow::anyhow!(
            "completions are generated without connecting"
        )),
    }
}

fn stdout_sink<R: Record>(format: Format) -> Sink<R, BufWriter<io::Stdout>> {
    Sink::new(format, BufWriter::new(io::stdout()), table_width())
}

/// Say on stderr that a table came out empty (JSON and CSV speak for themselves).
fn note_empty(format: Format, count: u64, what: &str) {
    if format == Format::Table && count == 0 {
        eprintln!("{what}");
    }
}

fn page_size(remaining: Option<u64>) -> i32 {
    i32::try_from(remaining.map_or(PAGE, |r| r.min(PAGE))).unwrap_or(1000)
}

/// Guard against an agent that hands back the same page token forever.
fn next_token(current: &str, next: String) -> Result<Option<String>> {
    if next.is_empty() {
        Ok(None)
    } else if next == current {
        Err(anyhow::anyhow!(
            "the agent returned the same page token twice; stopping"
        ))
    } else {
        Ok(Some(next))
    }
}

/// Walk a paged list: `fetch(page_token, page_size)` asks for one page and returns its
/// items and the next page token; each item goes to `each`, until `limit` items have gone
/// or the last page is in.
async fn walk_pages<T, F, Fut>(
    limit: Option<u64>,
    mut fetch: F,
    mut each: impl FnMut(T) -> Result<()>,
) -> Result<()>
where
    F: FnMut(String, i32) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, String)>>,
{
    let mut remaining = limit;
    let mut token = String::new();
    loop {
        let (items, next) = fetch(token.clone(), page_size(remaining)).await?;
        for item in items {
            if remaining == Some(0) {
                break;
            }
            each(item)?;
            remaining = remaining.map(|r| r - 1);
        }
        if remaining == Some(0) {
            break;
        }
        match next_token(&token, next)? {
            Some(t) => token = t,
            None => break,
        }
    }
    Ok(())
}

/// Print a paged list (see [`walk_pages`]) as records, saying `empty` when a table is empty.
async fn print_pages<T, R, F, Fut>(
    ctx: &Ctx,
    limit: Option<u64>,
    empty: &str,
    record: fn(T) -> R,
    fetch: F,
) -> Result<i32>
where
    R: Record,
    F: FnMut(String, i32) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, String)>>,
{
    let mut sink = stdout_sink::<R>(ctx.format);
    walk_pages(limit, fetch, |item| sink.push(&record(item))).await?;
    let n = sink.finish()?;
    note_empty(ctx.format, n, empty);
    Ok(EXIT_OK)
}

async fn assets_list(ctx: &Ctx, args: &ListArgs) -> Result<i32> {
    const C: Call = call("ListAssets", "assets list");
    let agent = &ctx.agent;
    let fetch = |page_token, page_size| async move {
        let req = proto::ListAssetsRequest {
            page_size,
            page_token,
            source: args.source.clone().unwrap_or_default(),
            client: args.client.clone().unwrap_or_default(),
            category: args.category.map_or(0, |c| c as i32),
            query: args.query.clone().unwrap_or_default(),
            not_seen_since: args.not_seen_since.map(pb_duration),
            include_removed: args.include_removed,
            warranty_expires_within: args.lifecycle.warranty_expires_within.map(pb_duration),
            warranty_expired: args.lifecycle.warranty_expired,
            older_than: args.lifecycle.older_than.map(pb_duration),
        };
        let resp = agent
            .assets()
            .list_assets(unary(req))
            .await
            .map_err(|s| rpc_error(s, C))?
            .into_inner();
        anyhow::Ok((resp.assets, resp.next_page_token))
    };
    print_pages(ctx, args.limit, "no assets match", AssetRecord::from, fetch).await
}

/// NOT_FOUND for an asset id says which; other statuses as usual.
fn no_asset(id: i64, c: Call) -> impl Fn(tonic::Status) -> CtlError {
    move |s| {
        if s.code() == tonic::Code::NotFound {
            CtlError::NotFound(format!("no asset with id {id}"))
        } else {
            rpc_error(s, c)
        }
    }
}

/// Print one record: `table` renders it for `-o table`; JSON is one object, CSV one row.
fn print_record<R: Record>(
    format: Format,
    record: R,
    table: impl FnOnce(&R) -> String,
) -> Result<()> {
    match format {
        Format::Table => print_text(&table(&record))?,
        Format::Json => print_json_object(&record)?,
        Format::Csv => {
            print_list(Format::Csv, &[record])?;
        }
    }
    Ok(())
}

async fn assets_get(ctx: &Ctx, id: i64) -> Result<i32> {
    let asset = ctx
        .agent
        .assets()
        .get_asset(unary(proto::GetAssetRequest { id }))
        .await
        .map_err(no_asset(id, call("GetAsset", "assets get")))?
        .into_inner();
    print_record(ctx.format, AssetRecord::from(asset), AssetRecord::detail)?;
    Ok(EXIT_OK)
}

async fn assets_history(ctx: &Ctx, id: i64) -> Result<i32> {
    const C: Call = call("ListAssetChanges", "assets history");
    let agent = &ctx.agent;
    let fetch = |page_token, page_size| async move {
        let req = proto::ListAssetChangesRequest {
            asset_id: id,
            page_size,
            page_token,
        };
        let resp = agent
            .assets()
            .list_asset_changes(unary(req))
            .await
            .map_err(no_asset(id, C))?
            .into_inner();
        anyhow::Ok((resp.changes, resp.next_page_token))
    };
    let empty = format!("no changes recorded for asset {id}");
    print_pages(ctx, None, &empty, ChangeRecord::from, fetch).await
}

async fn devices(
    ctx: &Ctx,
    client_filter: Option<String>,
    lifecycle: &LifecycleArgs,
) -> Result<i32> {
    const C: Call = call("ListDevices", "devices");
    let agent = &ctx.agent;
    let client_filter = &client_filter;
    let fetch = |page_token, page_size| async move {
        let req = proto::ListDevicesRequest {
            page_size,
            page_token,
            client: client_filter.clone().unwrap_or_default(),
            warranty_expires_within: lifecycle.warranty_expires_within.map(pb_duration),
            warranty_expired: lifecycle.warranty_expired,
            older_than: lifecycle.older_than.map(pb_duration),
        };
        let resp = agent
            .assets()
            .list_devices(unary(req))
            .await
            .map_err(|s| rpc_error(s, C))?
            .into_inner();
        anyhow::Ok((resp.devices, resp.next_page_token))
    };
    print_pages(ctx, None, "no devices", DeviceRecord::from, fetch).await
}

async fn lifecycle(
    ctx: &Ctx,
    client: Option<String>,
    within: &[std::time::Duration],
) -> Result<i32> {
    let resp = ctx
        .agent
        .assets()
        .get_lifecycle_summary(unary(proto::GetLifecycleSummaryRequest {
            client: client.clone().unwrap_or_default(),
            within: within.iter().copied().map(pb_duration).collect(),
        }))
        .await
        .map_err(|s| rpc_error(s, call("GetLifecycleSummary", "lifecycle")))?
        .into_inner();
    let records: Vec<LifecycleRecord> = resp.summaries.into_iter().map(Into::into).collect();
    if ctx.format == Format::Table {
        // Its window columns depend on the reply (`--within`).
        let (cols, rows) = LifecycleRecord::table(&records);
        print_text(&crate::output::render_table(&cols, &rows, table_width()))?;
        if records.is_empty() {
            eprintln!(
                "{}",
                match client {
                    Some(c) => format!("no client named {c:?} (or it is excluded from counts)"),
                    None => "no clients yet (no source has synced)".to_owned(),
                }
            );
        } else {
            eprintln!("as of {} (UTC)", resp.today);
        }
    } else {
        print_list(ctx.format, &records)?;
    }
    Ok(EXIT_OK)
}

async fn export(
    ctx: &Ctx,
    format: Option<crate::cli::ExportFormat>,
    include_removed: bool,
) -> Result<i32> {
    const C: Call = call("ExportAssets", "export");
    let format = match (format, ctx.format) {
        (Some(crate::cli::ExportFormat::Csv), _) | (None, Format::Csv) => Format::Csv,
        _ => Format::Json,
    };
    let mut stream = ctx
        .agent
        .assets()
        .export_assets(proto::ExportAssetsRequest { include_removed })
        .await
        .map_err(|s| rpc_error(s, C))?
        .into_inner();
    let mut sink = stdout_sink::<AssetRecord>(format);
    while let Some(asset) = stream.message().await.map_err(|s| rpc_error(s, C))? {
        sink.push(&AssetRecord::from(asset))?;
    }
    sink.finish()?;
    Ok(EXIT_OK)
}

async fn clients(ctx: &Ctx, unmapped_only: bool) -> Result<i32> {
    let resp = ctx
        .agent
        .assets()
        .list_clients(unary(proto::ListClientsRequest { unmapped_only }))
        .await
        .map_err(|s| rpc_error(s, call("ListClients", "clients")))?
        .into_inner();
    let records: Vec<ClientRecord> = resp.clients.into_iter().map(Into::into).collect();
    print_list(ctx.format, &records)?;
    if ctx.format == Format::Table {
        if records.is_empty() {
            eprintln!(
                "{}",
                if unmapped_only {
                    "no unmapped clients: every client is present in more than one source, or only one source is configured"
                } else {
                    "no clients yet (no source has synced)"
                }
            );
        }
        let suggestions = suggestions_text(&records);
        if !suggestions.is_empty() {
            print_text(&suggestions)?;
        }
    }
    Ok(EXIT_OK)
}

/// The `[[client]]` snippets of unmapped clients, to paste into the config.
pub fn suggestions_text(records: &[ClientRecord]) -> String {
    let with: Vec<&ClientRecord> = records
        .iter()
        .filter(|c| !c.suggestion.trim().is_empty())
        .collect();
    if with.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "\nSuggested [[client]] tables for unmapped clients (suggestions only: review, then add to the config):\n",
    );
    for c in with {
        let sources: Vec<&str> = c.members.iter().map(|m| m.source.as_str()).collect();
        out.push_str(&format!(
            "\n# {} (only in {})\n{}\n",
            crate::output::sanitize(&c.name),
            sources.join(", "),
            c.suggestion.trim_end()
        ));
    }
    out
}

async fn counts(ctx: &Ctx, client: Option<String>, period: Option<String>) -> Result<i32> {
    let resp = ctx
        .agent
        .assets()
        .get_billable_counts(unary(proto::GetBillableCountsRequest {
            client: client.clone().unwrap_or_default(),
            period: period.clone().unwrap_or_default(),
        }))
        .await
        .map_err(|s| rpc_error(s, call("GetBillableCounts", "counts")))?
        .into_inner();
    if resp.counts.is_empty()
        && resp.maximum.is_empty()
        && let Some(c) = &client
    {
        return Err(CtlError::NotFound(format!("no counts for client {c:?}")).into());
    }
    let n = match &period {
        Some(period) => {
            let records =
                PeriodCountsRecord::join(period, resp.counts, resp.maximum, &resp.reconciliation);
            if ctx.format == Format::Table {
                print_text(&format!(
                    "Billing period {period}: daily average/maximum per service (FW firewalls, CTRL controllers, \
                     L3/VOIP switches); AVG is our daily average of billable devices, AUVIK_AVG Auvik's billed \
                     average, DIFF ours minus Auvik's\n"
                ))?;
            }
            let n = print_list(ctx.format, &records)?;
            // Notes go to stderr so `-o json`/`-o csv` stay one clean document.
            for note in &resp.notes {
                eprintln!("note: {note}");
            }
            n
        }
        None => {
            let records: Vec<CountsRecord> = resp.counts.into_iter().map(Into::into).collect();
            print_list(ctx.format, &records)?
        }
    };
    note_empty(ctx.format, n, "no clients to count yet");
    Ok(EXIT_OK)
}

async fn sources(ctx: &Ctx) -> Result<i32> {
    let resp = ctx
        .agent
        .sync()
        .list_sources(unary(proto::ListSourcesRequest {}))
        .await
        .map_err(|s| rpc_error(s, call("ListSources", "sources")))?
        .into_inner();
    let records: Vec<SourceRecord> = resp.sources.into_iter().map(Into::into).collect();
    let n = print_list(ctx.format, &records)?;
    note_empty(ctx.format, n, "no sources configured");
    Ok(EXIT_OK)
}

async fn runs(ctx: &Ctx, source: Option<String>, limit: Option<u64>) -> Result<i32> {
    const C: Call = call("ListSyncRuns", "runs");
    let agent = &ctx.agent;
    let source = &source;
    let fetch = |page_token, page_size| async move {
        let req = proto::ListSyncRunsRequest {
            source: source.clone().unwrap_or_default(),
            page_size,
            page_token,
        };
        let resp = agent
            .sync()
            .list_sync_runs(unary(req))
            .await
            .map_err(|s| rpc_error(s, C))?
            .into_inner();
        anyhow::Ok((resp.runs, resp.next_page_token))
    };
    print_pages(ctx, limit, "no sync runs yet", RunRecord::from, fetch).await
}

async fn purge(ctx: &Ctx, source: &str, yes: bool) -> Result<i32> {
    if !yes {
        // Say what would go; the count is a courtesy, so any failure to get it is ignored.
        let count = ctx
            .agent
            .sync()
            .list_sources(unary(proto::ListSourcesRequest {}))
            .await
            .ok()
            .and_then(|r| {
                r.into_inner()
                    .sources
                    .into_iter()
                    .find(|s| s.name == source)
            })
            .map(|s| s.asset_count);
        let what = match count {
            Some(n) => format!("its {n} present assets and any removed ones"),
            None => "all its assets".to_owned(),
        };
        return Err(CtlError::Usage(format!(
            "refusing to purge without --yes: this would delete every row of source {source} ({what}, their change history and its sync runs); re-run as `assetctl purge --source {source} --yes`"
        ))
        .into());
    }
    let resp = ctx
        .agent
        .sync()
        .purge_source(unary(proto::PurgeSourceRequest {
            source: source.to_owned(),
            confirm: true,
        }))
        .await
        .map_err(|s| rpc_error(s, call("PurgeSource", "purge")))?
        .into_inner();
    let record = PurgeRecord {
        source: source.to_owned(),
        assets_deleted: resp.assets_deleted,
    };
    print_record(ctx.format, record, |r| {
        format!(
            "purged source {source}: {} assets deleted, with their history and sync runs\n",
            r.assets_deleted
        )
    })?;
    Ok(EXIT_OK)
}

async fn status_cmd(ctx: &Ctx) -> Result<i32> {
    let resp = ctx
        .agent
        .agent()
        .get_status(unary(proto::GetStatusRequest {}))
        .await
        .map_err(|s| rpc_error(s, call("GetStatus", "status")))?
        .into_inner();
    let now = chrono::Utc::now();
    let mut record = StatusRecord::from(resp);
    record.attention = status::attention(&record, now);
    // Hooks that gave up need a person too; an agent without hooks (or too old to have
    // them) leaves nothing to add.
    if let Ok(hooks) = ctx
        .agent
        .events()
        .list_hooks(unary(proto::ListHooksRequest {}))
        .await
    {
        let hooks: Vec<crate::events::HookRecord> = hooks
            .into_inner()
            .hooks
            .into_iter()
            .map(Into::into)
            .collect();
        record
            .attention
            .extend(crate::events::hook_attention(&hooks));
    }
    match ctx.format {
        Format::Table => print_text(&status::render(&record, now, table_width()))?,
        Format::Json => print_json_object(&record)?,
        Format::Csv => {
            let kv = record.key_values();
            let mut text = crate::output::csv_line(&["key", "value"]);
            for (k, v) in kv {
                text.push_str(&crate::output::csv_line(&[k, v]));
            }
            print_text(&text)?;
        }
    }
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_helpers() {
        assert_eq!(page_size(None), 1000);
        assert_eq!(page_size(Some(5)), 5);
        assert_eq!(page_size(Some(5000)), 1000);
        assert_eq!(next_token("", String::new()).ok(), Some(None));
        assert_eq!(next_token("", "a".into()).ok(), Some(Some("a".into())));
        assert!(next_token("a", "a".into()).is_err());
    }

    #[tokio::test]
    async fn pages_are_walked_to_the_limit() {
        // Pages of two (of five), whatever page size is asked for.
        let page = |token: &str| match token {
            "" => (vec![1, 2], "a"),
            "a" => (vec![3, 4], "b"),
            _ => (vec![5], ""),
        };
        let cases = [
            (
                None,
                vec![1, 2, 3, 4, 5],
                vec![("", 1000), ("a", 1000), ("b", 1000)],
            ),
            (Some(3), vec![1, 2, 3], vec![("", 3), ("a", 1)]),
            (Some(2), vec![1, 2], vec![("", 2)]),
        ];
        for (limit, want, asked) in cases {
            let mut requests = Vec::new();
            let mut got = Vec::new();
            let fetch = |token: String, size| {
                let (items, next) = page(&token);
                requests.push((token, size));
                async move { anyhow::Ok((items, next.to_owned())) }
            };
            walk_pages(limit, fetch, |item| {
                got.push(item);
                Ok(())
            })
            .await
            .expect("walks");
            assert_eq!(got, want, "limit {limit:?}");
            let asked: Vec<(String, i32)> = asked.iter().map(|(t, n)| ((*t).into(), *n)).collect();
            assert_eq!(requests, asked, "limit {limit:?}");
        }
    }

    #[tokio::test]
    async fn a_repeated_page_token_stops_the_walk() {
        let mut got = Vec::new();
        let fetch = |_token, _size| async { anyhow::Ok((vec![1], "same".to_owned())) };
        let err = walk_pages(None, fetch, |item| {
            got.push(item);
            Ok(())
        })
        .await
        .expect_err("stops");
        assert_eq!(
            err.to_string(),
            "the agent returned the same page token twice; stopping"
        );
        assert_eq!(got, [1, 1]);
    }

    #[test]
    fn suggestions_are_listed_after_the_table() {
        let rec = ClientRecord {
            name: "Contoso, Ltd.".into(),
            members: vec![crate::convert::MemberRecord {
                source: "syncro".into(),
                external_id: "1".into(),
                name: "Contoso, Ltd.".into(),
                asset_count: 2,
            }],
            asset_count: 2,
            excluded: false,
            unmapped: true,
            suggestion:
                "[[client]]\nname = \"Contoso Ltd\"\nmembers = [\"auvik:contoso\", \"syncro:Contoso, Ltd.\"]\n"
                    .into(),
        };
        let text = suggestions_text(&[rec]);
        assert!(text.contains("# Contoso, Ltd. (only in syncro)\n[[client]]\n"));
        assert!(suggestions_text(&[]).is_empty());
    }
}
