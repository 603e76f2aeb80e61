//! Every RPC's request validation, on the real tonic service (`api::rpc::Api` over a real
//! `Service` and an empty database, called in-process): arbitrary field values never panic
//! a handler and never answer `INTERNAL`; a request with an invalid field (SECURITY.md:
//! page sizes not negative, page tokens only as this server issued them, names ≤ 256
//! characters, queries ≤ 200, known categories, durations without negative parts, nanos
//! under a second and within the clock's range, lifecycle windows of at most 100 years and
//! at most 16 of them, months as YYYY-MM, ids positive) answers
//! `INVALID_ARGUMENT` naming an invalid field, and a request without one never does.

use crate::fixed;
use assetd::api::rpc::Api;
use assetd::model::Category;
use assetd::proto as pb;
use assetd::service::Service;
use assetd::store::Store;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pb::agent_service_server::AgentService;
use pb::asset_service_server::AssetService;
use pb::sync_service_server::SyncService;
use proptest::prelude::*;
use std::path::Path;
use tonic::{Code, Request, Status};

/// The service, its runtime, and the directory holding its database.
struct Fixture {
    api: Api,
    rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("assetd.db");
        let text = format!(
            "[agent]\ndatabase = {:?}\nlisten = [{:?}]\n",
            db.display().to_string(),
            format!("unix://{}", dir.path().join("s.sock").display()),
        );
        let path = dir.path().join("config.toml");
        let config = assetd::config::parse(&path, &text, true).expect("a valid config");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let store = Store::open(&db).expect("database");
        let service = rt
            .block_on(Service::start(Path::new(&path), config, store, Vec::new()))
            .expect("service");
        Fixture {
            api: Api::new(service),
            rt,
            _dir: dir,
        }
    }
}

thread_local! {
    static FIXTURE: Fixture = Fixture::new();
}

/// The codes a handler may answer to odd input: it is a client's mistake, or names nothing.
const ACCEPTABLE: [Code; 4] = [
    Code::Ok,
    Code::InvalidArgument,
    Code::NotFound,
    Code::FailedPrecondition,
];

/// Judges one answer: `invalid` lists the fields the oracle finds invalid (empty: none).
fn judge<T>(what: &str, r: Result<T, Status>, invalid: &[&str]) -> Result<(), TestCaseError> {
    let code = r.as_ref().map_or_else(Status::code, |_| Code::Ok);
    let message = r
        .as_ref()
        .err()
        .map(|s| s.message().to_string())
        .unwrap_or_default();
    prop_assert!(
        ACCEPTABLE.contains(&code),
        "{what}: answered {code:?}: {message}"
    );
    if invalid.is_empty() {
        prop_assert!(
            code != Code::InvalidArgument,
            "{what}: a valid request was refused: {message}"
        );
    } else {
        prop_assert_eq!(
            code,
            Code::InvalidArgument,
            "{}: invalid {:?} accepted",
            what,
            invalid
        );
        prop_assert!(
            invalid
                .iter()
                .any(|f| message.starts_with(&format!("{f}:"))),
            "{what}: the message names none of {invalid:?}: {message}"
        );
    }
    Ok(())
}

// --- The documented rules, written from SECURITY.md and CONTRACT §6 (the oracle).

fn page_size_ok(n: i32) -> bool {
    n >= 0
}

fn name_ok(s: &str) -> bool {
    s.chars().count() <= 256
}

fn token_ok(token: &str, tag: &str) -> bool {
    if token.is_empty() {
        return true;
    }
    let Ok(raw) = URL_SAFE_NO_PAD.decode(token) else {
        return false;
    };
    let Ok(text) = String::from_utf8(raw) else {
        return false;
    };
    token.len() <= 64
        && text
            .split_once(':')
            .is_some_and(|(t, id)| t == tag && id.parse::<i64>().is_ok_and(|i| i >= 0))
}

fn category_ok(v: i32) -> bool {
    (0..=Category::ALL.len() as i64).contains(&i64::from(v))
}

fn duration_ok(d: &prost_types::Duration) -> bool {
    d.seconds >= 0
        && d.nanos >= 0
        && d.nanos < 1_000_000_000
        && chrono::Duration::try_seconds(d.seconds)
            .and_then(|span| chrono::Utc::now().checked_sub_signed(span))
            .is_some()
}

/// A lifecycle duration (`warranty_expires_within`, `older_than`, `within`): whole days of
/// at most 100 years (36,525 days), no negative part, nanos under a second.
fn window_ok(d: &prost_types::Duration) -> bool {
    d.seconds >= 0 && d.nanos >= 0 && d.nanos < 1_000_000_000 && d.seconds / 86_400 <= 36_525
}

fn period_ok(p: &str) -> bool {
    p.is_empty()
        || (p.len() == 7
            && chrono::NaiveDate::parse_from_str(&format!("{p}-01"), "%Y-%m-%d").is_ok())
}

/// The fields of `checks` that fail.
fn failing<'a>(checks: &[(&'a str, bool)]) -> Vec<&'a str> {
    checks
        .iter()
        .filter(|(_, ok)| !ok)
        .map(|(f, _)| *f)
        .collect()
}

// --- Generators: awkward values, valid ones often enough that every branch is reached.

fn int32() -> impl Strategy<Value = i32> {
    prop_oneof![
        Just(0),
        Just(-1),
        Just(i32::MIN),
        Just(i32::MAX),
        -5i32..1100,
        any::<i32>(),
    ]
}

fn int64() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(0),
        Just(-1),
        Just(i64::MIN),
        Just(i64::MAX),
        -5i64..100,
        any::<i64>(),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just(String::new()),
        2 => "[a-z0-9-]{1,12}",
        2 => "\\PC{0,40}",
        1 => prop::sample::select(vec![
            "'; DROP TABLE assets; --", "\" OR 1=1 --", "%", "_", "\u{0}\u{1b}[2J", "名前", " ",
        ]).prop_map(str::to_string),
        // About the limits, in characters and in bytes.
        1 => (190usize..270, prop::sample::select(vec!["x", "é", "名", "😀"]))
            .prop_map(|(n, c)| c.repeat(n)),
    ]
}

fn token(tag: &'static str) -> impl Strategy<Value = String> {
    let encode = |s: String| URL_SAFE_NO_PAD.encode(s);
    prop_oneof![
        3 => Just(String::new()),
        2 => int64().prop_map(move |n| URL_SAFE_NO_PAD.encode(format!("{tag}:{n}"))),
        1 => (prop::sample::select(vec!["assets", "changes", "devices", "runs", ""]), int64())
            .prop_map(move |(t, n)| URL_SAFE_NO_PAD.encode(format!("{t}:{n}"))),
        1 => "\\PC{0,30}".prop_map(encode),
        1 => "[A-Za-z0-9_=+/%-]{0,90}",
        1 => "\\PC{0,20}",
    ]
}

fn duration() -> impl Strategy<Value = Option<prost_types::Duration>> {
    prop::option::of(
        (
            prop_oneof![
                int64(),
                Just(9_000_000_000_000_000),
                Just(8_000_000_000_000),
                0i64..100_000_000,
            ],
            prop_oneof![int32(), Just(999_999_999), Just(1_000_000_000)],
        )
            .prop_map(|(seconds, nanos)| prost_types::Duration { seconds, nanos }),
    )
}

fn period() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        (0u32..10_000, 0u32..14).prop_map(|(y, m)| format!("{y:04}-{m:02}")),
        "[0-9-]{0,9}",
        "\\PC{0,8}",
    ]
}

/// A lifecycle duration: about the 100-year limit, in days and in seconds, or any duration.
fn window() -> impl Strategy<Value = Option<prost_types::Duration>> {
    prop_oneof![
        duration(),
        (36_520i64..36_530, 0i64..86_400).prop_map(|(days, s)| Some(prost_types::Duration {
            seconds: days * 86_400 + s,
            nanos: 0
        })),
    ]
}

/// The lifecycle filters of ListAssets and ListDevices: expiring within, expired, older than.
type LifecycleFields = (
    Option<prost_types::Duration>,
    bool,
    Option<prost_types::Duration>,
);

fn lifecycle_fields() -> impl Strategy<Value = LifecycleFields> {
    (window(), any::<bool>(), window())
}

fn list_assets() -> impl Strategy<Value = pb::ListAssetsRequest> {
    (
        (
            int32(),
            token("assets"),
            text(),
            text(),
            prop_oneof![int32(), 0..=Category::ALL.len() as i32 + 1],
            text(),
            duration(),
            any::<bool>(),
        ),
        lifecycle_fields(),
    )
        .prop_map(
            |(
                (page_size, page_token, source, client, category, query, nss, include_removed),
                (within, expired, older),
            )| {
                pb::ListAssetsRequest {
                    page_size,
                    page_token,
                    source,
                    client,
                    category,
                    query,
                    not_seen_since: nss,
                    include_removed,
                    warranty_expires_within: within,
                    warranty_expired: expired,
                    older_than: older,
                }
            },
        )
}

fn run<T>(f: impl std::future::Future<Output = T>) -> T {
    FIXTURE.with(|fx| fx.rt.block_on(f))
}

fn api() -> Api {
    FIXTURE.with(|fx| fx.api.clone())
}

proptest! {
    #![proptest_config(fixed(256))]

    #[test]
    fn list_assets_validates_every_field(r in list_assets()) {
        let invalid = failing(&[
            ("page_size", page_size_ok(r.page_size)),
            ("page_token", token_ok(&r.page_token, "assets")),
            ("source", name_ok(&r.source)),
            ("client", name_ok(&r.client)),
            ("category", category_ok(r.category)),
            ("query", r.query.chars().count() <= 200),
            ("not_seen_since", r.not_seen_since.as_ref().is_none_or(duration_ok)),
            ("warranty_expires_within", r.warranty_expires_within.as_ref().is_none_or(window_ok)),
            ("older_than", r.older_than.as_ref().is_none_or(window_ok)),
        ]);
        let answer = run(api().list_assets(Request::new(r.clone())));
        judge(&format!("ListAssets {r:?}"), answer, &invalid)?;
    }

    #[test]
    fn get_asset_and_its_changes_validate_ids_sizes_and_tokens(
        id in int64(), page_size in int32(), page_token in token("changes"),
    ) {
        let answer = run(api().get_asset(Request::new(pb::GetAssetRequest { id })));
        let invalid = failing(&[("id", id > 0)]);
        judge(&format!("GetAsset {id}"), answer, &invalid)?;
        let r = pb::ListAssetChangesRequest { asset_id: id, page_size, page_token };
        let invalid = failing(&[
            ("asset_id", id >= 0),
            ("page_size", page_size_ok(page_size)),
            ("page_token", token_ok(&r.page_token, "changes")),
        ]);
        let answer = run(api().list_asset_changes(Request::new(r.clone())));
        judge(&format!("ListAssetChanges {r:?}"), answer, &invalid)?;
    }

    #[test]
    fn list_devices_clients_and_counts_validate_their_fields(
        page_size in int32(), page_token in token("devices"), client in text(),
        period in period(), unmapped_only in any::<bool>(), lifecycle in lifecycle_fields(),
    ) {
        let r = pb::ListDevicesRequest {
            page_size,
            page_token,
            client: client.clone(),
            warranty_expires_within: lifecycle.0,
            warranty_expired: lifecycle.1,
            older_than: lifecycle.2,
        };
        let invalid = failing(&[
            ("page_size", page_size_ok(page_size)),
            ("page_token", token_ok(&r.page_token, "devices")),
            ("client", name_ok(&client)),
            ("warranty_expires_within", r.warranty_expires_within.as_ref().is_none_or(window_ok)),
            ("older_than", r.older_than.as_ref().is_none_or(window_ok)),
        ]);
        let answer = run(api().list_devices(Request::new(r.clone())));
        judge(&format!("ListDevices {r:?}"), answer, &invalid)?;
        let r = pb::GetBillableCountsRequest { client: client.clone(), period: period.clone() };
        let invalid = failing(&[("client", name_ok(&client)), ("period", period_ok(&period))]);
        let answer = run(api().get_billable_counts(Request::new(r.clone())));
        judge(&format!("GetBillableCounts {r:?}"), answer, &invalid)?;
        let answer = run(api().list_clients(Request::new(pb::ListClientsRequest { unmapped_only })));
        judge("ListClients", answer, &[])?;
    }

    #[test]
    fn lifecycle_summary_validates_its_client_and_windows(
        client in text(),
        within in prop::collection::vec(window(), 0..20),
    ) {
        // `within` is repeated: an unset element is a zero duration on the wire.
        let within: Vec<prost_types::Duration> = within.into_iter().map(Option::unwrap_or_default).collect();
        let r = pb::GetLifecycleSummaryRequest { client: client.clone(), within: within.clone() };
        let invalid = failing(&[
            ("client", name_ok(&client)),
            ("within", within.len() <= 16 && within.iter().all(window_ok)),
        ]);
        let answer = run(api().get_lifecycle_summary(Request::new(r.clone())));
        judge(&format!("GetLifecycleSummary {r:?}"), answer, &invalid)?;
    }

    #[test]
    fn sync_rpcs_validate_sources_runs_and_confirmations(
        sources in prop::collection::vec(text(), 0..4),
        many in prop::sample::select(vec![0usize, 1, 100, 101]),
        full in any::<bool>(), accept_removals in any::<bool>(),
        run_ids in prop::collection::vec(int64(), 0..4),
        page_size in int32(), page_token in token("runs"), source in text(),
        confirm in any::<bool>(),
    ) {
        // Sometimes exactly at and past the limit of 100 names or ids.
        let sources = if many > 1 { vec!["auvik".to_string(); many] } else { sources };
        let r = pb::TriggerSyncRequest { sources: sources.clone(), full, accept_removals };
        let invalid = failing(&[
            ("sources", sources.len() <= 100 && sources.iter().all(|s| !s.is_empty() && name_ok(s))),
            ("accept_removals", !accept_removals || (full && !sources.is_empty())),
        ]);
        let answer = run(api().trigger_sync(Request::new(r.clone())));
        judge(&format!("TriggerSync {:.200}", format!("{r:?}")), answer, &invalid)?;

        let run_ids = if many > 1 { vec![1; many] } else { run_ids };
        let invalid = failing(&[("run_ids", !run_ids.is_empty() && run_ids.len() <= 100)]);
        let answer = run(api().watch_sync(Request::new(pb::WatchSyncRequest { run_ids: run_ids.clone() })));
        judge(&format!("WatchSync {:.200}", format!("{run_ids:?}")), answer.map(|_| ()), &invalid)?;

        let r = pb::ListSyncRunsRequest { source: source.clone(), page_size, page_token };
        let invalid = failing(&[
            ("page_size", page_size_ok(page_size)),
            ("page_token", token_ok(&r.page_token, "runs")),
            ("source", name_ok(&source)),
        ]);
        let answer = run(api().list_sync_runs(Request::new(r.clone())));
        judge(&format!("ListSyncRuns {r:?}"), answer, &invalid)?;

        // No source is configured, so nothing can be purged whatever the name.
        let r = pb::PurgeSourceRequest { source: source.clone(), confirm };
        let invalid = failing(&[
            ("confirm", confirm),
            ("source", !source.is_empty() && name_ok(&source)),
        ]);
        let answer = run(api().purge_source(Request::new(r.clone())));
        judge(&format!("PurgeSource {r:?}"), answer, &invalid)?;
    }

    #[test]
    fn calls_without_arguments_and_exports_always_answer(include_removed in any::<bool>()) {
        judge("ListSources", run(api().list_sources(Request::new(pb::ListSourcesRequest {}))), &[])?;
        judge("GetStatus", run(api().get_status(Request::new(pb::GetStatusRequest {}))), &[])?;
        let answer = run(api().export_assets(Request::new(pb::ExportAssetsRequest { include_removed })));
        judge("ExportAssets", answer.map(|_| ()), &[])?;
    }
}

// --- Regressions the properties found, kept as explicit cases.

/// ListAssets with category i32::MIN panicked the handler (`v - 1` overflowed).
#[test]
fn regression_category_i32_min_is_invalid_argument() {
    let r = pb::ListAssetsRequest {
        category: i32::MIN,
        ..Default::default()
    };
    let s = run(api().list_assets(Request::new(r))).unwrap_err();
    assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");
    assert!(s.message().starts_with("category:"), "{s:?}");
}

/// TriggerSync refused a name of 200 accented letters (400 bytes) that every other RPC
/// takes: names are at most 256 characters, not bytes.
#[test]
fn regression_trigger_sync_counts_characters_not_bytes() {
    let r = pb::TriggerSyncRequest {
        sources: vec!["é".repeat(200)],
        ..Default::default()
    };
    let s = run(api().trigger_sync(Request::new(r))).unwrap_err();
    assert_eq!(
        s.code(),
        Code::NotFound,
        "an unknown source, not a bad name: {s:?}"
    );
    let r = pb::TriggerSyncRequest {
        sources: vec!["é".repeat(257)],
        ..Default::default()
    };
    let s = run(api().trigger_sync(Request::new(r))).unwrap_err();
    assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");
}
