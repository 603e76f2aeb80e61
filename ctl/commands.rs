//! Dispatch of the verbs that talk to the agent, and the small ones.

use std::io::{self, BufWriter};

use anyhow::Result;

use crate::cli::{AssetsCommand, Command, ListArgs};
use crate::connect::{Agent, unary};
use crate::convert::{
    AssetRecord, ChangeRecord, ClientRecord, CountsRecord, DeviceRecord, PeriodCountsRecord,
    PurgeRecord, RunRecord, SourceRecord, StatusRecord,
};
use crate::error::{CtlError, EXIT_OK, call, rpc_error};
use crate::output::{Format, Sink, print_json_object, print_list, print_text, terminal_width};
use crate::{status, sync};
use assetd::proto;

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
        Command::Devices { client } => devices(ctx, client).await,
        Command::Counts { client, period } => counts(ctx, client, period).await,
        Command::Sync {
            sources,
            full,
            wait,
        } => sync::sync(ctx, sources, full, wait).await,
        Command::Runs { source, limit } => runs(ctx, source, limit).await,
        Command::Export {
            format,
            include_removed,
        } => export(ctx, format, include_removed).await,
        Command::Purge { source, yes } => purge(ctx, &source, yes).await,
        Command::Completions { .. } => Err(anyhow::anyhow!(
            "completions are generated without connecting"
        )),
    }
}

fn stdout_sink<R: crate::output::Record>(format: Format) -> Sink<R, BufWriter<io::Stdout>> {
    Sink::new(format, BufWriter::new(io::stdout()), terminal_width())
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

async fn assets_list(ctx: &Ctx, args: &ListArgs) -> Result<i32> {
    const C: crate::error::Call = call("ListAssets", "assets list");
    let mut client = ctx.agent.assets();
    let mut sink = stdout_sink::<AssetRecord>(ctx.format);
    let mut remaining = args.limit;
    let mut token = String::new();
    loop {
        let req = proto::ListAssetsRequest {
            page_size: page_size(remaining),
            page_token: token.clone(),
            source: args.source.clone().unwrap_or_default(),
            client: args.client.clone().unwrap_or_default(),
            category: args.category.map_or(0, |c| c as i32),
            query: args.query.clone().unwrap_or_default(),
            not_seen_since: args.not_seen_since.map(crate::convert::pb_duration),
            include_removed: args.include_removed,
        };
        let resp = client
            .list_assets(unary(req))
            .await
            .map_err(|s| rpc_error(s, C))?
            .into_inner();
        for asset in resp.assets {
            if remaining == Some(0) {
                break;
            }
            sink.push(&AssetRecord::from(asset))?;
            remaining = remaining.map(|r| r - 1);
        }
        if remaining == Some(0) {
            break;
        }
        match next_token(&token, resp.next_page_token)? {
            Some(t) => token = t,
            None => break,
        }
    }
    let n = sink.finish()?;
    note_empty(ctx.format, n, "no assets match");
    Ok(EXIT_OK)
}

fn no_asset(id: i64) -> impl Fn(tonic::Status) -> CtlError {
    move |s| {
        if s.code() == tonic::Code::NotFound {
            CtlError::NotFound(format!("no asset with id {id}"))
        } else {
            rpc_error(s, call("GetAsset", "assets get"))
        }
    }
}

async fn assets_get(ctx: &Ctx, id: i64) -> Result<i32> {
    let asset = ctx
        .agent
        .assets()
        .get_asset(unary(proto::GetAssetRequest { id }))
        .await
        .map_err(no_asset(id))?
        .into_inner();
    let record = AssetRecord::from(asset);
    match ctx.format {
        Format::Table => print_text(&record.detail())?,
        Format::Json => print_json_object(&record)?,
        Format::Csv => {
            print_list(Format::Csv, &[record])?;
        }
    }
    Ok(EXIT_OK)
}

async fn assets_history(ctx: &Ctx, id: i64) -> Result<i32> {
    const C: crate::error::Call = call("ListAssetChanges", "assets history");
    let mut client = ctx.agent.assets();
    let mut sink = stdout_sink::<ChangeRecord>(ctx.format);
    let mut token = String::new();
    loop {
        let req = proto::ListAssetChangesRequest {
            asset_id: id,
            page_size: page_size(None),
            page_token: token.clone(),
        };
        let resp = client
            .list_asset_changes(unary(req))
            .await
            .map_err(|s| {
                if s.code() == tonic::Code::NotFound {
                    CtlError::NotFound(format!("no asset with id {id}"))
                } else {
                    rpc_error(s, C)
                }
            })?
            .into_inner();
        for change in resp.changes {
            sink.push(&ChangeRecord::from(change))?;
        }
        match next_token(&token, resp.next_page_token)? {
            Some(t) => token = t,
            None => break,
        }
    }
    let n = sink.finish()?;
    note_empty(
        ctx.format,
        n,
        &format!("no changes recorded for asset {id}"),
    );
    Ok(EXIT_OK)
}

async fn devices(ctx: &Ctx, client_filter: Option<String>) -> Result<i32> {
    const C: crate::error::Call = call("ListDevices", "devices");
    let mut client = ctx.agent.assets();
    let mut sink = stdout_sink::<DeviceRecord>(ctx.format);
    let mut token = String::new();
    loop {
        let req = proto::ListDevicesRequest {
            page_size: page_size(None),
            page_token: token.clone(),
            client: client_filter.clone().unwrap_or_default(),
        };
        let resp = client
            .list_devices(unary(req))
            .await
            .map_err(|s| rpc_error(s, C))?
            .into_inner();
        for device in resp.devices {
            sink.push(&DeviceRecord::from(device))?;
        }
        match next_token(&token, resp.next_page_token)? {
            Some(t) => token = t,
            None => break,
        }
    }
    let n = sink.finish()?;
    note_empty(ctx.format, n, "no devices");
    Ok(EXIT_OK)
}

async fn export(
    ctx: &Ctx,
    format: Option<crate::cli::ExportFormat>,
    include_removed: bool,
) -> Result<i32> {
    const C: crate::error::Call = call("ExportAssets", "export");
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
            let records = PeriodCountsRecord::join(period, resp.counts, resp.maximum);
            if ctx.format == Format::Table {
                print_text(&format!(
                    "Billing period {period}: daily average/maximum per service\n"
                ))?;
            }
            print_list(ctx.format, &records)?
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
    const C: crate::error::Call = call("ListSyncRuns", "runs");
    let mut client = ctx.agent.sync();
    let mut sink = stdout_sink::<RunRecord>(ctx.format);
    let mut remaining = limit;
    let mut token = String::new();
    loop {
        let req = proto::ListSyncRunsRequest {
            source: source.clone().unwrap_or_default(),
            page_size: page_size(remaining),
            page_token: token.clone(),
        };
        let resp = client
            .list_sync_runs(unary(req))
            .await
            .map_err(|s| rpc_error(s, C))?
            .into_inner();
        for run in resp.runs {
            if remaining == Some(0) {
                break;
            }
            sink.push(&RunRecord::from(run))?;
            remaining = remaining.map(|r| r - 1);
        }
        if remaining == Some(0) {
            break;
        }
        match next_token(&token, resp.next_page_token)? {
            Some(t) => token = t,
            None => break,
        }
    }
    let n = sink.finish()?;
    note_empty(ctx.format, n, "no sync runs yet");
    Ok(EXIT_OK)
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
    match ctx.format {
        Format::Table => print_text(&format!(
            "purged source {source}: {} assets deleted, with their history and sync runs\n",
            record.assets_deleted
        ))?,
        Format::Json => print_json_object(&record)?,
        Format::Csv => {
            print_list(Format::Csv, &[record])?;
        }
    }
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
    let record = StatusRecord::from(resp);
    match ctx.format {
        Format::Table => print_text(&status::render(
            &record,
            chrono::Utc::now(),
            terminal_width(),
        ))?,
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
