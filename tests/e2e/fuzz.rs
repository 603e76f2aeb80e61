//! Malformed and extreme arguments to every RPC, over the real Unix socket: the agent must
//! answer each with a normal result or `INVALID_ARGUMENT` naming the field (`NOT_FOUND` and
//! `FAILED_PRECONDITION` where the argument is well-formed but names nothing, or the call
//! needs a confirmation); never `INTERNAL`, never a dropped connection; oversize messages are
//! refused by the size limit; and afterwards the agent still serves the same data.
//!
//! Hand-picked edge cases first, then seeded random requests (`ASSETD_FUZZ_SEED=N` repeats
//! a run; the seed is printed on failure).

use crate::common::{Agent, start_auvik};
use assetd::proto as pb;
use pb::agent_service_client::AgentServiceClient;
use pb::asset_service_client::AssetServiceClient;
use pb::sync_service_client::SyncServiceClient;
use std::time::Duration;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};

struct Clients {
    assets: AssetServiceClient<Channel>,
    sync: SyncServiceClient<Channel>,
    agent: AgentServiceClient<Channel>,
}

async fn clients(agent: &Agent) -> Clients {
    let channel = Endpoint::from_shared(format!("unix://{}", agent.socket.display()))
        .expect("endpoint")
        .connect_timeout(Duration::from_secs(10))
        .connect()
        .await
        .expect("connect");
    Clients {
        // The client may send up to 8 MiB so that the server's own limit is what refuses.
        assets: AssetServiceClient::new(channel.clone()).max_encoding_message_size(8 << 20),
        sync: SyncServiceClient::new(channel.clone()).max_encoding_message_size(8 << 20),
        agent: AgentServiceClient::new(channel),
    }
}

/// What a call may answer.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// INVALID_ARGUMENT whose message names this field.
    Invalid(&'static str),
    /// Anything a well-behaved server may say to odd but possibly valid input.
    Any,
}

const ACCEPTABLE: [Code; 4] = [
    Code::Ok,
    Code::InvalidArgument,
    Code::NotFound,
    Code::FailedPrecondition,
];

fn judge<T>(what: &str, r: Result<T, Status>, expect: Expect) {
    let code = r.as_ref().map(|_| Code::Ok).unwrap_or_else(Status::code);
    match (expect, &r) {
        (Expect::Invalid(field), Err(s)) if s.code() == Code::InvalidArgument => {
            assert!(
                s.message().contains(field),
                "{what}: INVALID_ARGUMENT must name `{field}`: {}",
                s.message()
            );
        }
        (Expect::Invalid(field), Ok(_)) => {
            panic!("{what}: expected INVALID_ARGUMENT naming `{field}`, got a normal answer")
        }
        (Expect::Invalid(field), Err(s)) => {
            panic!("{what}: expected INVALID_ARGUMENT naming `{field}`, got {s:?}")
        }
        (Expect::Any, _) => {
            assert!(
                ACCEPTABLE.contains(&code),
                "{what}: {code:?}: {:?}",
                r.as_ref().err()
            );
            if let Err(s) = &r {
                assert!(!s.message().is_empty(), "{what}: an error says why");
            }
        }
    }
}

fn token(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

/// Tokens a client might forge or garble.
fn bad_tokens() -> Vec<String> {
    vec![
        "garbage".into(),
        "%%%".into(),
        "\0".into(),
        "x".repeat(10_000),
        token("assets:-5"),
        token("nosuchlist:1"),
        token("assets:99999999999999999999999"),
        token("assets:1:2"),
        token("\u{1F600}:1"),
    ]
}

/// Names that are not names: too long, control characters, SQL.
fn odd_names() -> Vec<String> {
    vec![
        "'; DROP TABLE assets; --".into(),
        "\" OR 1=1 --".into(),
        "%".into(),
        "_".into(),
        "\u{0}\u{1b}[2J".into(),
        "名前".into(),
        " ".into(),
    ]
}

async fn edge_cases(c: &mut Clients) {
    use Expect::*;
    // --- ListAssets
    for (n, e) in [
        (-1, Invalid("page_size")),
        (i32::MIN, Invalid("page_size")),
        (i32::MAX, Any),
        (1001, Any),
        (0, Any),
    ] {
        let r = c
            .assets
            .list_assets(pb::ListAssetsRequest {
                page_size: n,
                ..Default::default()
            })
            .await;
        judge(&format!("ListAssets page_size={n}"), r, e);
    }
    for t in bad_tokens() {
        let r = c
            .assets
            .list_assets(pb::ListAssetsRequest {
                page_token: t.clone(),
                ..Default::default()
            })
            .await;
        judge(
            &format!("ListAssets page_token={:.40}", t),
            r,
            Invalid("page_token"),
        );
    }
    for name in odd_names() {
        for (field, req) in text_fields(&name) {
            let r = c.assets.list_assets(req).await;
            judge(&format!("ListAssets {field}={name:?}"), r, Any);
        }
    }
    let long = "x".repeat(257);
    for (field, req) in text_fields(&long) {
        let r = c.assets.list_assets(req).await;
        judge(&format!("ListAssets long {field}"), r, Invalid(field));
    }
    for v in [-1, 999, i32::MAX] {
        let r = c
            .assets
            .list_assets(pb::ListAssetsRequest {
                category: v,
                ..Default::default()
            })
            .await;
        judge(&format!("ListAssets category={v}"), r, Invalid("category"));
    }
    for (secs, nanos, e) in [
        (-5, 0, Invalid("not_seen_since")),
        (i64::MAX, 0, Invalid("not_seen_since")),
        // Representable as a span, but reaching before year 0: must not panic the handler.
        (9_000_000_000_000_000, 0, Invalid("not_seen_since")),
        (0, -1, Invalid("not_seen_since")),
        (1, 2_000_000_000, Invalid("not_seen_since")),
        (3600, 0, Any),
    ] {
        let r = c
            .assets
            .list_assets(pb::ListAssetsRequest {
                not_seen_since: Some(prost_types::Duration {
                    seconds: secs,
                    nanos,
                }),
                ..Default::default()
            })
            .await;
        judge(&format!("ListAssets not_seen_since={secs}s{nanos}ns"), r, e);
    }
    // --- GetAsset
    for id in [0, -1, i64::MAX, i64::MIN] {
        let r = c.assets.get_asset(pb::GetAssetRequest { id }).await;
        judge(&format!("GetAsset id={id}"), r, Any);
        if let Err(s) = c.assets.get_asset(pb::GetAssetRequest { id }).await {
            assert_ne!(s.code(), Code::Ok);
        }
    }
    // --- ListAssetChanges
    for id in [-1, i64::MAX, i64::MIN] {
        let r = c
            .assets
            .list_asset_changes(pb::ListAssetChangesRequest {
                asset_id: id,
                ..Default::default()
            })
            .await;
        judge(&format!("ListAssetChanges asset_id={id}"), r, Any);
    }
    for t in bad_tokens() {
        let r = c
            .assets
            .list_asset_changes(pb::ListAssetChangesRequest {
                page_token: t,
                ..Default::default()
            })
            .await;
        judge("ListAssetChanges bad token", r, Invalid("page_token"));
    }
    let r = c
        .assets
        .list_asset_changes(pb::ListAssetChangesRequest {
            page_size: -7,
            ..Default::default()
        })
        .await;
    judge("ListAssetChanges page_size=-7", r, Invalid("page_size"));
    // --- ListDevices
    for t in bad_tokens() {
        let r = c
            .assets
            .list_devices(pb::ListDevicesRequest {
                page_token: t,
                ..Default::default()
            })
            .await;
        judge("ListDevices bad token", r, Invalid("page_token"));
    }
    for name in odd_names() {
        let r = c
            .assets
            .list_devices(pb::ListDevicesRequest {
                client: name.clone(),
                ..Default::default()
            })
            .await;
        judge(&format!("ListDevices client={name:?}"), r, Any);
    }
    let r = c
        .assets
        .list_devices(pb::ListDevicesRequest {
            client: long.clone(),
            ..Default::default()
        })
        .await;
    judge("ListDevices long client", r, Invalid("client"));
    // --- ListClients
    for unmapped_only in [false, true] {
        let r = c
            .assets
            .list_clients(pb::ListClientsRequest { unmapped_only })
            .await;
        judge("ListClients", r, Any);
    }
    // --- GetBillableCounts
    for p in [
        "2026-13",
        "2026-1",
        "abcd-ef",
        "9999-99",
        "2026-11-01",
        "-2026-11",
        "2026-00",
        "２０２６-１１",
    ] {
        let r = c
            .assets
            .get_billable_counts(pb::GetBillableCountsRequest {
                period: p.into(),
                ..Default::default()
            })
            .await;
        judge(
            &format!("GetBillableCounts period={p}"),
            r,
            Invalid("period"),
        );
    }
    for p in ["1970-01", "9999-12", "2026-11"] {
        let r = c
            .assets
            .get_billable_counts(pb::GetBillableCountsRequest {
                period: p.into(),
                ..Default::default()
            })
            .await;
        judge(&format!("GetBillableCounts period={p}"), r, Any);
    }
    for name in odd_names() {
        let r = c
            .assets
            .get_billable_counts(pb::GetBillableCountsRequest {
                client: name,
                ..Default::default()
            })
            .await;
        judge("GetBillableCounts odd client", r, Any);
    }
    // --- TriggerSync
    for (what, sources, (full, accept_removals), e) in [
        ("unknown", vec!["nope".to_string()], (false, false), Any),
        (
            "empty name",
            vec![String::new()],
            (false, false),
            Invalid("sources"),
        ),
        (
            "long name",
            vec![long.clone()],
            (false, false),
            Invalid("sources"),
        ),
        (
            "too many",
            vec!["auvik".to_string(); 101],
            (false, false),
            Invalid("sources"),
        ),
        (
            "accepting removals without a full run",
            vec!["auvik".to_string()],
            (false, true),
            Invalid("accept_removals"),
        ),
        (
            "accepting removals of every source unnamed",
            vec![],
            (true, true),
            Invalid("accept_removals"),
        ),
    ] {
        let r = c
            .sync
            .trigger_sync(pb::TriggerSyncRequest {
                sources,
                full,
                accept_removals,
            })
            .await;
        judge(&format!("TriggerSync {what}"), r, e);
    }
    // --- WatchSync
    for (what, ids, e) in [
        ("none", vec![], Invalid("run_ids")),
        ("too many", vec![1; 101], Invalid("run_ids")),
        ("negative", vec![-1], Any),
        ("huge", vec![i64::MAX], Any),
    ] {
        let r = c
            .sync
            .watch_sync(pb::WatchSyncRequest { run_ids: ids })
            .await;
        judge(&format!("WatchSync {what}"), r.map(|_| ()), e);
    }
    // --- ListSyncRuns
    for t in bad_tokens() {
        let r = c
            .sync
            .list_sync_runs(pb::ListSyncRunsRequest {
                page_token: t,
                ..Default::default()
            })
            .await;
        judge("ListSyncRuns bad token", r, Invalid("page_token"));
    }
    for name in odd_names() {
        let r = c
            .sync
            .list_sync_runs(pb::ListSyncRunsRequest {
                source: name,
                ..Default::default()
            })
            .await;
        judge("ListSyncRuns odd source", r, Any);
    }
    // --- PurgeSource: never on a real source without the confirmation.
    let r = c
        .sync
        .purge_source(pb::PurgeSourceRequest {
            source: String::new(),
            confirm: true,
        })
        .await;
    judge("PurgeSource no source", r, Invalid("source"));
    let r = c
        .sync
        .purge_source(pb::PurgeSourceRequest {
            source: "auvik".into(),
            confirm: false,
        })
        .await;
    judge("PurgeSource unconfirmed", r, Invalid("confirm"));
    for name in odd_names() {
        let r = c
            .sync
            .purge_source(pb::PurgeSourceRequest {
                source: name,
                confirm: true,
            })
            .await;
        judge("PurgeSource odd source", r, Any);
    }
    // --- Oversize messages: refused by the server's size limit, the connection survives.
    let huge = "q".repeat(2 << 20);
    let r = c
        .assets
        .list_assets(pb::ListAssetsRequest {
            query: huge,
            ..Default::default()
        })
        .await;
    let code = r.as_ref().map(|_| Code::Ok).unwrap_or_else(Status::code);
    assert!(
        matches!(
            code,
            Code::ResourceExhausted | Code::OutOfRange | Code::InvalidArgument
        ),
        "a 2 MiB request is refused by the size limit: {code:?}"
    );
    // --- Read-only calls with nothing to validate.
    judge(
        "ListSources",
        c.sync.list_sources(pb::ListSourcesRequest {}).await,
        Any,
    );
    judge(
        "GetStatus",
        c.agent.get_status(pb::GetStatusRequest {}).await,
        Any,
    );
}

/// One random request to a random RPC, from values chosen to be awkward.
async fn random_call(c: &mut Clients, rng: &mut fastrand::Rng) {
    let int32 = |rng: &mut fastrand::Rng| {
        *rng.choice(&[-1, 0, 1, 7, 1000, 1001, i32::MAX, i32::MIN])
            .unwrap_or(&0)
    };
    let int64 = |rng: &mut fastrand::Rng| {
        *rng.choice(&[-1, 0, 1, 42, i64::MAX, i64::MIN])
            .unwrap_or(&0)
    };
    let text = |rng: &mut fastrand::Rng| -> String {
        match rng.u8(0..6) {
            0 => String::new(),
            1 => "auvik".into(),
            2 => (0..rng.usize(0..300)).map(|_| rng.char(..)).collect(),
            3 => token(&format!("assets:{}", rng.i64(..))),
            4 => odd_names()[rng.usize(0..odd_names().len())].clone(),
            _ => (0..rng.usize(0..40)).map(|_| rng.alphanumeric()).collect(),
        }
    };
    let what = rng.u8(0..9);
    let r: Result<(), Status> = match what {
        0 => c
            .assets
            .list_assets(pb::ListAssetsRequest {
                page_size: int32(rng),
                page_token: text(rng),
                source: text(rng),
                client: text(rng),
                category: int32(rng),
                query: text(rng),
                not_seen_since: rng.bool().then(|| prost_types::Duration {
                    seconds: int64(rng),
                    nanos: int32(rng),
                }),
                include_removed: rng.bool(),
                warranty_expires_within: rng.bool().then(|| prost_types::Duration {
                    seconds: int64(rng),
                    nanos: int32(rng),
                }),
                warranty_expired: rng.bool(),
                older_than: rng.bool().then(|| prost_types::Duration {
                    seconds: int64(rng),
                    nanos: int32(rng),
                }),
            })
            .await
            .map(|_| ()),
        1 => c
            .assets
            .get_asset(pb::GetAssetRequest { id: int64(rng) })
            .await
            .map(|_| ()),
        2 => c
            .assets
            .list_asset_changes(pb::ListAssetChangesRequest {
                asset_id: int64(rng),
                page_size: int32(rng),
                page_token: text(rng),
            })
            .await
            .map(|_| ()),
        3 => c
            .assets
            .list_devices(pb::ListDevicesRequest {
                page_size: int32(rng),
                page_token: text(rng),
                client: text(rng),
                warranty_expires_within: rng.bool().then(|| prost_types::Duration {
                    seconds: int64(rng),
                    nanos: int32(rng),
                }),
                warranty_expired: rng.bool(),
                older_than: rng.bool().then(|| prost_types::Duration {
                    seconds: int64(rng),
                    nanos: int32(rng),
                }),
            })
            .await
            .map(|_| ()),
        4 => c
            .assets
            .get_billable_counts(pb::GetBillableCountsRequest {
                client: text(rng),
                period: text(rng),
            })
            .await
            .map(|_| ()),
        5 => c
            .sync
            .list_sync_runs(pb::ListSyncRunsRequest {
                source: text(rng),
                page_size: int32(rng),
                page_token: text(rng),
            })
            .await
            .map(|_| ()),
        6 => c
            .sync
            .watch_sync(pb::WatchSyncRequest {
                run_ids: (0..rng.usize(0..4)).map(|_| int64(rng)).collect(),
            })
            .await
            .map(|_| ()),
        7 => c
            .sync
            .purge_source(pb::PurgeSourceRequest {
                source: format!("x{}", text(rng)),
                confirm: rng.bool(),
            })
            .await
            .map(|_| ()),
        _ => c
            .assets
            .list_clients(pb::ListClientsRequest {
                unmapped_only: rng.bool(),
            })
            .await
            .map(|_| ()),
    };
    judge(&format!("random call #{what}"), r, Expect::Any);
}

#[test]
fn malformed_and_extreme_arguments_get_invalid_argument_or_a_normal_answer() {
    let sim = start_auvik(91, 3, 10);
    let agent = Agent::start(&sim, "");
    agent.wait_for("the first sync", |a| a.source_state() == "ok");
    let before = agent.assets(true);
    let seed: u64 = std::env::var("ASSETD_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(async {
            let mut c = clients(&agent).await;
            edge_cases(&mut c).await;
            let mut rng = fastrand::Rng::with_seed(seed);
            for _ in 0..400 {
                random_call(&mut c, &mut rng).await;
            }
        })
    }));
    if let Err(panic) = outcome {
        eprintln!("fuzz failed; repeat with ASSETD_FUZZ_SEED={seed}");
        std::panic::resume_unwind(panic);
    }
    // Still up, nothing changed by any of it (no injection, no purge).
    assert_eq!(agent.assets(true), before);
    assert_eq!(agent.source_state(), "ok");
    assert!(
        !agent.log_text().contains("Internal error answering an RPC"),
        "{}",
        agent.log_text()
    );
}

/// A ListAssets request for each of its free-text fields set to `value`, with the field's name.
fn text_fields(value: &str) -> [(&'static str, pb::ListAssetsRequest); 3] {
    let with = |set: fn(&mut pb::ListAssetsRequest, String)| {
        let mut r = pb::ListAssetsRequest::default();
        set(&mut r, value.to_owned());
        r
    };
    [
        ("source", with(|r, v| r.source = v)),
        ("client", with(|r, v| r.client = v)),
        ("query", with(|r, v| r.query = v)),
    ]
}
