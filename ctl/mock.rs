//! A fake agent for tests: the three services over a Unix socket, with canned data.
//!
//! Besides the tests below, it can be run by hand to try assetctl without an agent:
//! `MOCK_SOCKET=/tmp/mock.sock cargo test --bin assetctl serve_mock_agent -- --ignored`
//! then `assetctl --socket /tmp/mock.sock status` (set `MOCK_TOKEN` to require a token).

use std::path::Path;
use std::pin::Pin;
use std::time::Duration;

use futures_util::Stream;
use prost_types::Timestamp;
use tokio::net::UnixListener;
use tokio_stream::wrappers::UnixListenerStream;
use tonic::{Request, Response, Status};

use assetd::proto::agent_service_server::{AgentService, AgentServiceServer};
use assetd::proto::asset_service_server::{AssetService, AssetServiceServer};
use assetd::proto::sync_service_server::{SyncService, SyncServiceServer};
use assetd::proto::*;

pub const ASSETS: i64 = 2500;

fn ts(seconds: i64) -> Option<Timestamp> {
    Some(Timestamp { seconds, nanos: 0 })
}

pub fn asset(id: i64) -> Asset {
    Asset {
        id,
        source: if id % 2 == 0 { "auvik" } else { "syncro" }.into(),
        external_id: format!("ext-{id}"),
        client: if id % 3 == 0 {
            "Contoso Ltd"
        } else {
            "Fabrikam, Inc."
        }
        .into(),
        source_client: "contoso".into(),
        name: format!("device-{id}"),
        category: i32::try_from(id % 21 + 1).unwrap_or(21),
        vendor_type: "switch".into(),
        manufacturer: "Cisco".into(),
        model: "C9300-48P".into(),
        serial: format!("FOC{id:06}"),
        mac_addresses: vec![format!(
            "00:11:22:33:{:02x}:{:02x}",
            id / 256 % 256,
            id % 256
        )],
        ip_addresses: vec![format!("10.0.{}.{}", id / 250, id % 250)],
        os: "IOS-XE".into(),
        firmware: "17.9.4".into(),
        online_status: "online".into(),
        managed: if id % 5 == 0 { None } else { Some(id % 2 == 0) },
        billable: id % 4 == 0,
        first_seen: ts(1_700_000_000),
        last_seen: ts(1_700_000_000 + id),
        updated_at: ts(1_700_000_000),
        removed_at: None,
        device_id: id,
    }
}

fn run(id: i64, source: &str, state: RunState, fetched: i64) -> SyncRun {
    let done = state != RunState::Running;
    SyncRun {
        id,
        source: source.into(),
        kind: RunKind::Full as i32,
        trigger: RunTrigger::Manual as i32,
        started: ts(1_700_000_000),
        finished: if done { ts(1_700_000_062) } else { None },
        state: state as i32,
        counts: Some(RunCounts {
            fetched,
            added: 3,
            updated: 2,
            unchanged: fetched.saturating_sub(5),
            removed: 0,
        }),
        requests: 12,
        retries: 1,
        error: if state == RunState::Failed {
            "Syncro answered 500 three times; the next scheduled run retries".into()
        } else {
            String::new()
        },
    }
}

fn sources() -> Vec<Source> {
    let src = |name: &str, state: SourceState, detail: &str, last: SyncRun| Source {
        name: name.into(),
        kind: name.into(),
        state: state as i32,
        state_detail: detail.into(),
        base_url: format!("https://{name}.example"),
        interval: Some(prost_types::Duration {
            seconds: 1800,
            nanos: 0,
        }),
        full_interval: Some(prost_types::Duration {
            seconds: 86400,
            nanos: 0,
        }),
        last_run: Some(last),
        next_run_at: ts(4_000_000_000),
        asset_count: 1250,
        removed_from_config: false,
    };
    vec![
        src(
            "auvik",
            SourceState::Ok,
            "",
            run(98, "auvik", RunState::Ok, 1250),
        ),
        src(
            "syncro",
            SourceState::CredentialsRejected,
            "Syncro rejected the API key (401); put a valid api_key in the config",
            run(99, "syncro", RunState::Failed, 0),
        ),
    ]
}

#[derive(Clone, Default)]
pub struct Mock {
    pub token: Option<String>,
}

impl Mock {
    fn check<T>(&self, req: &Request<T>) -> Result<(), Status> {
        let Some(token) = &self.token else {
            return Ok(());
        };
        let got = req
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        if got == Some(format!("Bearer {token}").as_str()) {
            Ok(())
        } else {
            Err(Status::unauthenticated("missing or wrong bearer token"))
        }
    }
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

fn offset(token: &str) -> Result<usize, Status> {
    if token.is_empty() {
        Ok(0)
    } else {
        token
            .parse()
            .map_err(|_| Status::invalid_argument("page_token: not a token from this agent"))
    }
}

fn page<T: Clone>(items: &[T], size: i32, token: &str) -> Result<(Vec<T>, String), Status> {
    let size = match size {
        0 => 100,
        s if s < 0 => return Err(Status::invalid_argument("page_size: must not be negative")),
        s => usize::try_from(s.min(1000)).unwrap_or(1000),
    };
    let start = offset(token)?.min(items.len());
    let end = (start + size).min(items.len());
    let next = if end < items.len() {
        end.to_string()
    } else {
        String::new()
    };
    Ok((items[start..end].to_vec(), next))
}

#[tonic::async_trait]
impl AssetService for Mock {
    type ExportAssetsStream = BoxStream<Asset>;

    async fn list_assets(
        &self,
        req: Request<ListAssetsRequest>,
    ) -> Result<Response<ListAssetsResponse>, Status> {
        self.check(&req)?;
        let r = req.into_inner();
        if r.query.chars().count() > 200 {
            return Err(Status::invalid_argument("query: at most 200 characters"));
        }
        let all: Vec<Asset> = (1..=ASSETS)
            .map(asset)
            .filter(|a| r.source.is_empty() || a.source == r.source)
            .filter(|a| r.category == 0 || a.category == r.category)
            .filter(|a| r.query.is_empty() || a.name.contains(&r.query))
            .collect();
        let (assets, next_page_token) = page(&all, r.page_size, &r.page_token)?;
        Ok(Response::new(ListAssetsResponse {
            assets,
            next_page_token,
        }))
    }

    async fn get_asset(&self, req: Request<GetAssetRequest>) -> Result<Response<Asset>, Status> {
        self.check(&req)?;
        let id = req.into_inner().id;
        if (1..=ASSETS).contains(&id) {
            Ok(Response::new(asset(id)))
        } else {
            Err(Status::not_found(format!("no asset with id {id}")))
        }
    }

    async fn list_asset_changes(
        &self,
        req: Request<ListAssetChangesRequest>,
    ) -> Result<Response<ListAssetChangesResponse>, Status> {
        self.check(&req)?;
        let r = req.into_inner();
        if !(1..=ASSETS).contains(&r.asset_id) {
            return Err(Status::not_found(format!(
                "no asset with id {}",
                r.asset_id
            )));
        }
        let changes = vec![
            AssetChange {
                asset_id: r.asset_id,
                run_id: 1,
                changed_at: ts(1_700_000_000),
                field: "name".into(),
                old_value: String::new(),
                new_value: "device".into(),
            },
            AssetChange {
                asset_id: r.asset_id,
                run_id: 7,
                changed_at: ts(1_700_086_400),
                field: "firmware".into(),
                old_value: "17.6.1".into(),
                new_value: "17.9.4".into(),
            },
        ];
        Ok(Response::new(ListAssetChangesResponse {
            changes,
            next_page_token: String::new(),
        }))
    }

    async fn list_devices(
        &self,
        req: Request<ListDevicesRequest>,
    ) -> Result<Response<ListDevicesResponse>, Status> {
        self.check(&req)?;
        Err(Status::unimplemented("not yet"))
    }

    async fn list_clients(
        &self,
        req: Request<ListClientsRequest>,
    ) -> Result<Response<ListClientsResponse>, Status> {
        self.check(&req)?;
        let unmapped = Client {
            name: "Fabrikam, Inc.".into(),
            members: vec![ClientMember {
                source: "syncro".into(),
                external_id: "77".into(),
                name: "Fabrikam, Inc.".into(),
                asset_count: 1666,
            }],
            asset_count: 1666,
            excluded: false,
            unmapped: true,
            suggestion: "[[client]]\nname = \"Fabrikam\"\nmembers = [\"auvik:fabrikam\", \"syncro:Fabrikam, Inc.\"]\n".into(),
        };
        let mut clients = vec![unmapped];
        if !req.get_ref().unmapped_only {
            clients.insert(
                0,
                Client {
                    name: "Contoso Ltd".into(),
                    members: vec![
                        ClientMember {
                            source: "auvik".into(),
                            external_id: "t1".into(),
                            name: "contoso".into(),
                            asset_count: 400,
                        },
                        ClientMember {
                            source: "syncro".into(),
                            external_id: "12".into(),
                            name: "Contoso, Ltd.".into(),
                            asset_count: 434,
                        },
                    ],
                    asset_count: 834,
                    ..Default::default()
                },
            );
        }
        Ok(Response::new(ListClientsResponse { clients }))
    }

    async fn get_billable_counts(
        &self,
        req: Request<GetBillableCountsRequest>,
    ) -> Result<Response<GetBillableCountsResponse>, Status> {
        self.check(&req)?;
        let r = req.into_inner();
        let counts = |client: &str, n: i64| BillableCounts {
            client: client.into(),
            total_billable: 7 * n,
            firewalls: n,
            controllers: n,
            routers: n,
            l3_switches: n,
            voip_switches: n,
            switch_stacks: n,
            total_switches: 4 * n,
            access_points: 3 * n,
        };
        let mut avg = vec![counts("Contoso Ltd", 2), counts("Fabrikam, Inc.", 1)];
        if !r.client.is_empty() {
            avg.retain(|c| c.client == r.client);
        }
        let maximum = if r.period.is_empty() {
            Vec::new()
        } else {
            avg.iter()
                .map(|c| BillableCounts {
                    total_billable: c.total_billable + 1,
                    ..c.clone()
                })
                .collect()
        };
        Ok(Response::new(GetBillableCountsResponse {
            counts: avg,
            maximum,
        }))
    }

    async fn export_assets(
        &self,
        req: Request<ExportAssetsRequest>,
    ) -> Result<Response<Self::ExportAssetsStream>, Status> {
        self.check(&req)?;
        let stream = tokio_stream::iter((1..=ASSETS).map(|id| Ok(asset(id))));
        Ok(Response::new(Box::pin(stream)))
    }
}

#[tonic::async_trait]
impl SyncService for Mock {
    type WatchSyncStream = BoxStream<SyncEvent>;

    async fn list_sources(
        &self,
        req: Request<ListSourcesRequest>,
    ) -> Result<Response<ListSourcesResponse>, Status> {
        self.check(&req)?;
        Ok(Response::new(ListSourcesResponse { sources: sources() }))
    }

    async fn trigger_sync(
        &self,
        req: Request<TriggerSyncRequest>,
    ) -> Result<Response<TriggerSyncResponse>, Status> {
        self.check(&req)?;
        let r = req.into_inner();
        let mut runs = Vec::new();
        for name in ["auvik", "syncro"] {
            if r.sources.is_empty() || r.sources.iter().any(|s| s == name) {
                runs.push(TriggeredRun {
                    source: name.into(),
                    run_id: if name == "auvik" { 100 } else { 101 },
                    joined: name == "syncro",
                });
            }
        }
        if let Some(unknown) = r.sources.iter().find(|s| *s != "auvik" && *s != "syncro") {
            return Err(Status::invalid_argument(format!(
                "sources: no source named {unknown:?} in the config"
            )));
        }
        Ok(Response::new(TriggerSyncResponse { runs }))
    }

    async fn watch_sync(
        &self,
        req: Request<WatchSyncRequest>,
    ) -> Result<Response<Self::WatchSyncStream>, Status> {
        self.check(&req)?;
        let ids = req.into_inner().run_ids;
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        tokio::spawn(async move {
            for step in 0..=5i64 {
                for &id in &ids {
                    let (source, last) = if id == 100 {
                        ("auvik", RunState::Ok)
                    } else {
                        ("syncro", RunState::Failed)
                    };
                    let state = if step == 5 { last } else { RunState::Running };
                    let ev = SyncEvent {
                        run: Some(run(id, source, state, step * 700)),
                        clients_done: step * 10,
                        clients_total: 50,
                    };
                    if tx.send(Ok(ev)).await.is_err() {
                        return;
                    }
                }
                tokio::time::sleep(Duration::from_millis(150)).await;
            }
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }

    async fn list_sync_runs(
        &self,
        req: Request<ListSyncRunsRequest>,
    ) -> Result<Response<ListSyncRunsResponse>, Status> {
        self.check(&req)?;
        let r = req.into_inner();
        let all: Vec<SyncRun> = (1..=99)
            .rev()
            .map(|id| {
                let source = if id % 2 == 0 { "auvik" } else { "syncro" };
                run(id, source, RunState::Ok, 1250)
            })
            .filter(|run| r.source.is_empty() || run.source == r.source)
            .collect();
        let (runs, next_page_token) = page(&all, r.page_size, &r.page_token)?;
        Ok(Response::new(ListSyncRunsResponse {
            runs,
            next_page_token,
        }))
    }

    async fn purge_source(
        &self,
        req: Request<PurgeSourceRequest>,
    ) -> Result<Response<PurgeSourceResponse>, Status> {
        self.check(&req)?;
        let r = req.into_inner();
        if !r.confirm {
            return Err(Status::failed_precondition("confirm: must be true"));
        }
        Ok(Response::new(PurgeSourceResponse {
            assets_deleted: 1250,
        }))
    }
}

#[tonic::async_trait]
impl AgentService for Mock {
    async fn get_status(
        &self,
        req: Request<GetStatusRequest>,
    ) -> Result<Response<GetStatusResponse>, Status> {
        self.check(&req)?;
        Ok(Response::new(GetStatusResponse {
            version: "0.1.0-mock".into(),
            started_at: ts(1_700_000_000),
            uptime: Some(prost_types::Duration {
                seconds: 3 * 3600 + 125,
                nanos: 0,
            }),
            config: Some(ConfigStatus {
                path: "/etc/assetd/config.toml".into(),
                state: ConfigState::Rejected as i32,
                last_error: "line 12, column 1: unknown key `intervall` in [[source]] \"auvik\"; did you mean `interval`?".into(),
                loaded_at: ts(1_700_000_000),
                generation: 1,
            }),
            database: Some(DatabaseStatus {
                path: "/var/lib/assetd/assetd.db".into(),
                size_bytes: 12_345_678,
                asset_count: ASSETS,
            }),
            sources: sources(),
        }))
    }
}

/// Serve the mock on `path` until the future is dropped.
pub async fn serve(path: &Path, mock: Mock) -> anyhow::Result<()> {
    let listener = UnixListener::bind(path)?;
    tonic::transport::Server::builder()
        .add_service(AssetServiceServer::new(mock.clone()))
        .add_service(SyncServiceServer::new(mock.clone()))
        .add_service(AgentServiceServer::new(mock))
        .serve_with_incoming(UnixListenerStream::new(listener))
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{AssetsCommand, Command};
    use crate::commands::{Ctx, run};
    use crate::connect::{Options, connect};
    use crate::error::{CtlError, EXIT_SYNC_FAILED, exit_code};
    use crate::output::Format;

    #[tokio::test]
    #[ignore = "serves a fake agent on $MOCK_SOCKET until killed, for trying assetctl by hand"]
    async fn serve_mock_agent() {
        let path = std::env::var("MOCK_SOCKET").unwrap_or_else(|_| "/tmp/assetd-mock.sock".into());
        let _ = std::fs::remove_file(&path);
        let mock = Mock {
            token: std::env::var("MOCK_TOKEN").ok(),
        };
        serve(Path::new(&path), mock).await.expect("serve");
    }

    async fn ctx_for(dir: &Path, token: Option<&str>, format: Format) -> Ctx {
        let sock = dir.join("agent.sock");
        if !sock.exists() {
            let mock = Mock {
                token: Some("t0ken".into()),
            };
            let path = sock.clone();
            tokio::spawn(async move { serve(&path, mock).await });
            for _ in 0..100 {
                if sock.exists() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        let token_file = token.map(|t| {
            let p = dir.join("token");
            std::fs::write(&p, t).expect("write token");
            p
        });
        let agent = connect(&Options {
            socket: Some(&sock),
            endpoint: None,
            token_file: token_file.as_deref(),
        })
        .await
        .expect("connect");
        Ctx { format, agent }
    }

    #[tokio::test]
    async fn errors_from_the_agent_become_one_line_with_their_code() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ctx = ctx_for(dir.path(), Some("t0ken"), Format::Json).await;

        let err = run(&ctx, Command::Assets(AssetsCommand::Get { id: 99_999 }))
            .await
            .expect_err("not found");
        assert_eq!(err.to_string(), "no asset with id 99999");
        assert_eq!(exit_code(&err), crate::error::EXIT_NOT_FOUND);

        let err = run(&ctx, Command::Devices { client: None })
            .await
            .expect_err("unimplemented");
        assert_eq!(
            err.to_string(),
            "this agent does not support ListDevices (`assetctl devices`) yet; upgrade assetd"
        );

        let err = run(
            &ctx,
            Command::Sync {
                sources: vec!["nosuch".into()],
                full: false,
                wait: false,
            },
        )
        .await
        .expect_err("invalid");
        assert_eq!(
            err.to_string(),
            "sources: no source named \"nosuch\" in the config"
        );

        let err = run(
            &ctx,
            Command::Purge {
                source: "auvik".into(),
                yes: false,
            },
        )
        .await
        .expect_err("refused");
        assert!(err.to_string().contains("its 1250 present assets"), "{err}");
        assert_eq!(exit_code(&err), crate::error::EXIT_USAGE);

        // Watching: the syncro run fails, so the command fails with exit code 7.
        let err = run(
            &ctx,
            Command::Sync {
                sources: vec![],
                full: true,
                wait: true,
            },
        )
        .await
        .expect_err("a run failed");
        assert_eq!(exit_code(&err), EXIT_SYNC_FAILED);
        assert!(matches!(
            err.downcast_ref::<CtlError>(),
            Some(CtlError::SyncFailed(m)) if m.contains("syncro run 101 failed")
        ));

        // A wrong token is refused as unauthenticated.
        let bad = ctx_for(dir.path(), Some("wrong"), Format::Json).await;
        let err = run(&bad, Command::Status).await.expect_err("denied");
        assert!(err.to_string().contains("--token-file"));
        assert_eq!(exit_code(&err), crate::error::EXIT_ACCESS);
    }
}
