//! Tests of the Auvik simulator, in-process over real HTTP on loopback.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde_json::Value;

use super::catalog::DEVICE_TYPES;
use super::seed::{PLACEHOLDER_SERIALS, epoch};
use super::*;
use crate::sim::faults::{Fault, FaultRule};

fn opts(seed: u64, clients: usize, per: usize) -> AuvikSimOptions {
    AuvikSimOptions {
        seed,
        clients,
        assets_per_client: per,
        ..Default::default()
    }
}

struct Harness {
    sim: AuvikSim,
    server: SimServer,
    http: reqwest::Client,
}

impl Harness {
    async fn new(o: AuvikSimOptions) -> Self {
        let sim = AuvikSim::new(o);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let server = sim.start(listener).await.expect("start");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .expect("client");
        Self { sim, server, http }
    }

    fn url(&self, path_and_query: &str) -> String {
        if path_and_query.starts_with("http") {
            path_and_query.to_owned()
        } else {
            format!("{}{}", self.server.base_url, path_and_query)
        }
    }

    /// An authenticated GET: status, content type, body.
    async fn get(&self, path: &str) -> (u16, String, Vec<u8>) {
        self.get_as(path, &self.sim.username(), &self.sim.api_key())
            .await
    }

    async fn get_as(&self, path: &str, user: &str, key: &str) -> (u16, String, Vec<u8>) {
        let resp = self
            .http
            .get(self.url(path))
            .basic_auth(user, Some(key))
            .send()
            .await
            .expect("request");
        response_parts(resp).await
    }

    async fn json(&self, path: &str) -> Value {
        let (status, _, body) = self.get(path).await;
        assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
        serde_json::from_slice(&body).expect("JSON body")
    }

    /// Follows `links.next` from `path`, returning every page.
    async fn pages(&self, path: &str) -> Vec<Value> {
        let mut pages = Vec::new();
        let mut next = Some(path.to_owned());
        while let Some(url) = next.take() {
            let page = self.json(&url).await;
            next = page["links"]["next"].as_str().map(str::to_owned);
            pages.push(page);
            assert!(pages.len() < 10_000, "paging does not end");
        }
        pages
    }
}

async fn response_parts(resp: reqwest::Response) -> (u16, String, Vec<u8>) {
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = resp.bytes().await.expect("body").to_vec();
    (status, ct, body)
}

fn ids(pages: &[Value]) -> Vec<String> {
    pages
        .iter()
        .flat_map(|p| p["data"].as_array().cloned().unwrap_or_default())
        .map(|d| d["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn error_detail(body: &[u8]) -> String {
    let v: Value = serde_json::from_slice(body).expect("basicError is JSON");
    let errors = v["errors"].as_array().expect("errors array");
    assert_eq!(
        v.as_object().map(|o| o.len()),
        Some(1),
        "basicError has only `errors`"
    );
    errors[0]["detail"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn seeding_is_deterministic() {
    let a = AuvikSim::new(opts(7, 5, 40));
    let b = AuvikSim::new(opts(7, 5, 40));
    assert_eq!(a.tenants(), b.tenants());
    assert_eq!(a.devices(), b.devices());
    assert_eq!(a.api_key(), b.api_key());
    let c = AuvikSim::new(opts(8, 5, 40));
    assert_ne!(a.devices(), c.devices());
    assert_ne!(a.api_key(), c.api_key());
}

#[test]
fn seeded_account_has_the_documented_shape() {
    let sim = AuvikSim::new(opts(7, 5, 40));
    let tenants = sim.tenants();
    assert_eq!(tenants.len(), 6);
    let root = &tenants[0];
    assert_eq!(
        (root.tenant_type.as_str(), root.domain_prefix.as_str()),
        ("multiClient", "mspdemo")
    );
    assert_eq!(root.parent_id, None);
    for t in &tenants {
        assert!((17..=18).contains(&t.id.len()) && t.id.bytes().all(|b| b.is_ascii_digit()));
    }
    let names: HashSet<_> = tenants.iter().map(|t| &t.display_name).collect();
    assert_eq!(names.len(), tenants.len(), "display names are distinct");
    let prefixes: HashSet<_> = tenants.iter().map(|t| &t.domain_prefix).collect();
    assert_eq!(
        prefixes.len(),
        tenants.len(),
        "domain prefixes are distinct"
    );

    let devices = sim.devices();
    let mut per_tenant: HashMap<&str, usize> = HashMap::new();
    for d in &devices {
        *per_tenant.entry(&d.tenant_id).or_default() += 1;
    }
    for t in &tenants[1..] {
        assert_eq!(
            per_tenant.get(t.id.as_str()),
            Some(&40),
            "{}",
            t.display_name
        );
        assert_eq!(t.parent_id.as_deref(), Some(root.id.as_str()));
    }
    let types: HashSet<_> = devices.iter().map(|d| d.device_type.as_str()).collect();
    for t in DEVICE_TYPES {
        assert!(types.contains(t), "device type {t} missing");
    }
    let ids: HashSet<_> = devices.iter().map(|d| &d.id).collect();
    assert_eq!(ids.len(), devices.len(), "device ids are unique");
    for d in &devices {
        let raw = base64::Engine::decode(&base64::engine::general_purpose::STANDARD_NO_PAD, &d.id)
            .expect("id is unpadded base64");
        let text = String::from_utf8(raw).expect("utf8");
        let (a, b) = text.split_once(',').expect("two numbers");
        assert!(a.len() == 18 && b.len() == 18, "{text}");
        assert!(d.last_modified < epoch());
    }
    assert!(devices.iter().any(|d| d.manage_status) && devices.iter().any(|d| !d.manage_status));
}

#[test]
fn seeded_data_has_realistic_gaps_and_overlaps() {
    let sim = AuvikSim::new(opts(3, 50, 200));
    let devices = sim.devices();
    let n = devices.len() as f64;
    let share = |f: &dyn Fn(&SimDevice) -> bool| devices.iter().filter(|d| f(d)).count() as f64 / n;
    for (field, pct) in [
        ("serialNumber", share(&|d| d.serial.is_none())),
        ("softwareVersion", share(&|d| d.software.is_none())),
        ("firmwareVersion", share(&|d| d.firmware.is_none())),
        ("vendorName", share(&|d| d.vendor_name.is_none())),
        ("makeModel", share(&|d| d.make_model.is_none())),
    ] {
        assert!((0.04..=0.11).contains(&pct), "{field} null share {pct}");
    }
    for p in PLACEHOLDER_SERIALS {
        assert!(
            devices.iter().any(|d| d.serial.as_deref() == Some(p)),
            "placeholder {p:?}"
        );
    }
    // Some real serial appears in two different tenants.
    let mut tenants_of: HashMap<&str, HashSet<&str>> = HashMap::new();
    for d in &devices {
        if let Some(s) = d
            .serial
            .as_deref()
            .filter(|s| !PLACEHOLDER_SERIALS.contains(s))
        {
            tenants_of.entry(s).or_default().insert(&d.tenant_id);
        }
    }
    assert!(tenants_of.values().any(|t| t.len() == 2));
    let names: Vec<_> = sim.tenants().into_iter().map(|t| t.display_name).collect();
    for c in ['&', ',', '.'] {
        assert!(
            names.iter().any(|n| n.contains(c)),
            "a client name with {c:?}"
        );
    }
}

#[test]
fn generating_a_large_account_is_quick() {
    let start = std::time::Instant::now();
    let sim = AuvikSim::new(opts(1, 500, 200));
    let took = start.elapsed();
    assert_eq!(sim.devices().len(), 100_000);
    // Well under a second in release; debug builds get slack.
    let budget = if cfg!(debug_assertions) { 10 } else { 1 };
    assert!(took < Duration::from_secs(budget), "took {took:?}");
}

#[tokio::test]
async fn paging_returns_every_device_exactly_once() {
    let h = Harness::new(opts(7, 5, 40)).await;
    let expected: Vec<String> = h.sim.devices().into_iter().map(|d| d.id).collect();
    let pages = h.pages("/v1/inventory/device/info?page[first]=7").await;
    assert_eq!(ids(&pages), expected);
    assert_eq!(pages.len(), expected.len().div_ceil(7));
    for (i, p) in pages.iter().enumerate() {
        assert_eq!(p["meta"]["totalPages"].as_u64(), Some(pages.len() as u64));
        let links = &p["links"];
        for k in ["first", "last"] {
            assert!(
                links[k]
                    .as_str()
                    .is_some_and(|u| u.starts_with(&h.server.base_url))
            );
        }
        assert_eq!(links.get("prev").is_some(), i > 0, "prev on page {i}");
        assert_eq!(
            links.get("next").is_some(),
            i + 1 < pages.len(),
            "next on page {i}"
        );
    }
    let next = pages[0]["links"]["next"].as_str().expect("next");
    assert!(
        next.contains("page%5Bafter%5D=") && next.contains("page%5Bfirst%5D=7"),
        "{next}"
    );

    // Backwards from the last page via `prev` covers the same devices.
    let mut back = Vec::new();
    let mut url = pages[0]["links"]["last"].as_str().map(str::to_owned);
    while let Some(u) = url.take() {
        let page = h.json(&u).await;
        url = page["links"]["prev"].as_str().map(str::to_owned);
        back.insert(0, page);
    }
    assert_eq!(ids(&back), expected);
}

#[tokio::test]
async fn paging_carries_filters_and_tenants() {
    let h = Harness::new(opts(7, 5, 40)).await;
    let tenants = h.sim.tenants();
    let pick = format!("{},{}", tenants[3].id, tenants[1].id);
    let path =
        format!("/v1/inventory/device/info?tenants={pick}&filter[deviceType]=switch&page[first]=3");
    let pages = h.pages(&path).await;
    let got = ids(&pages);
    let expected: Vec<String> = h
        .sim
        .devices()
        .into_iter()
        .filter(|d| {
            (d.tenant_id == tenants[1].id || d.tenant_id == tenants[3].id)
                && d.device_type == "switch"
        })
        .map(|d| d.id)
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(got, expected);
    if let Some(next) = pages[0]["links"]["next"].as_str() {
        assert!(
            next.contains("tenants=") && next.contains("filter%5BdeviceType%5D=switch"),
            "{next}"
        );
    }
}

#[tokio::test]
async fn large_pages_are_quick_to_serve() {
    let h = Harness::new(opts(1, 50, 200)).await;
    let start = std::time::Instant::now();
    let pages = h.pages("/v1/inventory/device/info?page[first]=1000").await;
    assert_eq!(ids(&pages).len(), 10_000);
    let budget = if cfg!(debug_assertions) { 30 } else { 2 };
    assert!(
        start.elapsed() < Duration::from_secs(budget),
        "took {:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn resync_without_changes_is_byte_identical() {
    let h = Harness::new(opts(7, 3, 20)).await;
    let path = "/v1/inventory/device/info?page[first]=25&include=deviceDetail";
    let (_, _, a) = h.get(path).await;
    let (_, _, b) = h.get(path).await;
    assert_eq!(a, b);
}

#[tokio::test]
async fn modified_after_returns_only_changes() {
    let h = Harness::new(opts(7, 5, 40)).await;
    let since = "2025-06-01T00:00:00.000Z";
    let path = format!("/v1/inventory/device/info?filter[modifiedAfter]={since}");
    assert!(ids(&h.pages(&path).await).is_empty());

    let devices = h.sim.devices();
    let tenant = h.sim.tenants()[2].id.clone();
    let changed = devices[10].id.clone();
    assert!(h.sim.update_device(&changed, |d| d.name = "renamed".into()));
    let added = h.sim.add_device(&tenant);
    let removed = devices[20].id.clone();
    assert!(h.sim.remove_device(&removed));

    let mut got = ids(&h.pages(&path).await);
    got.sort();
    let mut want = vec![changed.clone(), added.clone()];
    want.sort();
    assert_eq!(got, want);
    let all = ids(&h.pages("/v1/inventory/device/info?page[first]=1000").await);
    assert!(!all.contains(&removed) && all.contains(&added));
    assert_eq!(all.len(), devices.len());

    // A cut-off after the first change leaves only the second.
    let first = h.sim.device(&changed).expect("changed").last_modified;
    let cut = render::Ts(first).to_string();
    let got = ids(&h
        .pages(&format!(
            "/v1/inventory/device/info?filter[modifiedAfter]={cut}"
        ))
        .await);
    assert_eq!(got, vec![added.clone()]);

    let page = h
        .json(&format!("/v1/inventory/device/info/{changed}"))
        .await;
    assert_eq!(page["data"]["attributes"]["deviceName"], "renamed");
    assert_eq!(page["data"]["attributes"]["lastModified"], cut.as_str());
    let (status, _, _) = h.get(&format!("/v1/inventory/device/info/{removed}")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn auth_is_basic_and_401s_are_empty() {
    let h = Harness::new(opts(7, 2, 5)).await;
    let (status, _, body) = h.get("/v1/authentication/verify").await;
    assert_eq!((status, body.len()), (200, 0));
    for (user, key) in [
        ("svc-assetd@msp.example", "wrong"),
        ("someone@else.example", &*h.sim.api_key()),
    ] {
        let (status, _, body) = h.get_as("/v1/tenants", user, key).await;
        assert_eq!((status, body.len()), (401, 0));
    }
    let resp = h.http.get(h.url("/v1/nope")).send().await.expect("send");
    let (status, _, body) = response_parts(resp).await;
    assert_eq!(
        (status, body.len()),
        (401, 0),
        "unauthenticated requests 401 on any path"
    );

    let old = h.sim.api_key();
    let new = h.sim.rotate_key();
    assert_ne!(old, new);
    let user = h.sim.username();
    assert_eq!(
        h.get_as("/v1/authentication/verify", &user, &old).await.0,
        401
    );
    assert_eq!(
        h.get_as("/v1/authentication/verify", &user, &new).await.0,
        200
    );
    assert_eq!(
        h.get_as("/v1/authentication/verify", &user.to_uppercase(), &new)
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn errors_use_basic_error_bodies() {
    let h = Harness::new(opts(7, 3, 5)).await;
    let t = h.sim.tenants();
    let cases: Vec<(String, u16)> = vec![
        ("/v1/nope".into(), 404),
        ("/v1/inventory/device/info/bm9wZSxub3Bl".into(), 404),
        ("/v1/inventory/device/info?page[first]=0".into(), 400),
        ("/v1/inventory/device/info?page[first]=1001".into(), 400),
        ("/v1/inventory/device/info?page[first]=ten".into(), 400),
        ("/v1/inventory/device/info?page[after]=%21%21".into(), 400),
        (
            "/v1/inventory/device/info?page[first]=5&page[last]=5".into(),
            400,
        ),
        (
            "/v1/inventory/device/info?filter[deviceType]=toaster".into(),
            400,
        ),
        (
            "/v1/inventory/device/info?filter[modifiedAfter]=yesterday".into(),
            400,
        ),
        ("/v1/inventory/device/info?include=everything".into(), 400),
        ("/v1/inventory/device/info?tenants=abc".into(), 400),
        (
            "/v1/inventory/device/info?tenants=123456789012345678".into(),
            403,
        ),
        (
            "/v1/inventory/device/detail?filter[manageStatus]=yes".into(),
            400,
        ),
        ("/v1/tenants/detail".into(), 400),
        (
            format!(
                "/v1/tenants/detail?tenantDomainPrefix={}",
                t[1].domain_prefix
            ),
            400,
        ),
        ("/v1/tenants/detail?tenantDomainPrefix=stranger".into(), 403),
        (
            "/v1/tenants/detail/1?tenantDomainPrefix=mspdemo".into(),
            404,
        ),
        (
            "/v1/billing/usage/client?filter[fromDate]=2025-01-01".into(),
            400,
        ),
    ];
    for (path, want) in cases {
        let (status, ct, body) = h.get(&path).await;
        assert_eq!(status, want, "{path}");
        assert!(ct.starts_with("application/vnd.api+json"), "{path}: {ct}");
        assert!(!error_detail(&body).is_empty(), "{path}");
    }

    let denied = &t[2].id;
    h.sim.deny_tenant(denied, true);
    let (status, _, body) = h
        .get(&format!("/v1/inventory/device/info?tenants={denied}"))
        .await;
    assert_eq!(status, 403);
    assert!(!error_detail(&body).to_lowercase().contains("rate limit"));
    // Unnamed, a denied tenant's devices are simply not listed.
    let all = ids(&h.pages("/v1/inventory/device/info").await);
    assert_eq!(all.len(), 10);
    let one = h
        .sim
        .devices()
        .into_iter()
        .find(|d| &d.tenant_id == denied)
        .expect("device");
    assert_eq!(
        h.get(&format!("/v1/inventory/device/detail/{}", one.id))
            .await
            .0,
        403
    );
    h.sim.deny_tenant(denied, false);
    assert_eq!(ids(&h.pages("/v1/inventory/device/info").await).len(), 15);
}

#[tokio::test]
async fn content_type_alternates_charset() {
    let h = Harness::new(opts(7, 1, 1)).await;
    let mut seen = HashSet::new();
    for _ in 0..4 {
        seen.insert(h.get("/v1/tenants").await.1);
    }
    let want: HashSet<String> = [
        "application/vnd.api+json",
        "application/vnd.api+json; charset=utf-8",
    ]
    .map(String::from)
    .into();
    assert_eq!(seen, want);
}

#[tokio::test]
async fn documents_have_auvik_shapes() {
    let h = Harness::new(opts(7, 3, 10)).await;
    let tenants = h.json("/v1/tenants").await;
    let data = tenants["data"].as_array().expect("data");
    assert_eq!(data.len(), 4);
    assert_eq!(data[0]["type"], "tenant");
    assert_eq!(data[0]["attributes"]["tenantType"], "multiClient");
    assert_eq!(
        data[1]["relationships"]["parent"]["data"]["id"],
        data[0]["id"]
    );

    let detail = h
        .json("/v1/tenants/detail?tenantDomainPrefix=mspdemo")
        .await;
    let first = &detail["data"][1];
    assert_eq!(first["type"], "tenants");
    assert_eq!(
        first["attributes"]["displayName"],
        h.sim.tenants()[1].display_name.as_str()
    );
    let one = h
        .json(&format!(
            "/v1/tenants/detail/{}?tenantDomainPrefix=mspdemo",
            first["id"].as_str().unwrap_or("")
        ))
        .await;
    assert_eq!(one["data"]["id"], first["id"]);

    let d = &h.sim.devices()[0];
    let info = h
        .json(&format!(
            "/v1/inventory/device/info/{}?include=deviceDetail",
            d.id
        ))
        .await;
    assert_eq!(info["data"]["type"], "device");
    assert_eq!(
        info["data"]["relationships"]["deviceDetail"]["data"]["id"],
        d.id.as_str()
    );
    assert_eq!(info["included"][0]["type"], "deviceDetail");
    assert_eq!(
        info["included"][0]["attributes"]["manageStatus"],
        d.manage_status
    );
    let lm = info["data"]["attributes"]["lastModified"]
        .as_str()
        .expect("lastModified");
    assert_eq!(lm.len(), 24, "{lm}");
    assert!(lm.ends_with('Z') && &lm[19..20] == ".");

    let list = h
        .json("/v1/inventory/device/info?include=deviceDetail&page[first]=5")
        .await;
    assert_eq!(list["included"].as_array().map(Vec::len), Some(5));

    // A sparse fieldset keeps only the listed attributes and relationships, as JSON:API says.
    let sparse = h
        .json("/v1/inventory/device/info?include=deviceDetail&fields[deviceDetail]=manageStatus&page[first]=5")
        .await;
    let detail = &sparse["included"][0];
    assert_eq!(detail["type"], "deviceDetail");
    let attrs: Vec<&String> = detail["attributes"]
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    assert_eq!(attrs, ["manageStatus"]);
    assert_eq!(
        detail["relationships"].as_object().map(|m| m.len()),
        Some(0)
    );
    let with_macs = h
        .json("/v1/inventory/device/info?include=deviceDetail&fields[deviceDetail]=manageStatus,interfaces&page[first]=5")
        .await;
    assert!(with_macs["included"][0]["relationships"]["interfaces"]["data"].is_array());

    let details = h
        .pages("/v1/inventory/device/detail?filter[manageStatus]=true&page[first]=4")
        .await;
    let managed: Vec<String> = h
        .sim
        .devices()
        .into_iter()
        .filter(|d| d.manage_status)
        .map(|d| d.id)
        .collect();
    assert_eq!(ids(&details), managed);
    assert_eq!(details[0]["data"][0]["type"], "deviceDetail");

    let usage = h
        .json(&format!(
            "/v1/billing/usage/client?tenants={}&filter[fromDate]=2025-06-01&filter[thruDate]=2025-06-30",
            h.sim.tenants()[1].id
        ))
        .await;
    let billable = usage["data"][0]["attributes"]["deviceUsage"]["averageDays"].as_u64();
    let devices = usage["data"][0]["relationships"]["devices"]["data"]
        .as_array()
        .map(Vec::len);
    assert_eq!(billable.map(|b| b as usize), devices);
    let dev = h
        .json(&format!(
            "/v1/billing/usage/device/{}?filter[fromDate]=2025-06-01&filter[thruDate]=2025-06-30",
            d.id
        ))
        .await;
    assert_eq!(dev["data"]["attributes"]["usagePeriod"]["lengthInDays"], 30);
}

#[tokio::test]
async fn faults_apply_before_handling() {
    let h = Harness::new(opts(7, 2, 5)).await;
    let plan = h.sim.faults();

    plan.push(FaultRule::times(
        Fault::Status429 {
            retry_after: Some(7),
        },
        1,
    ));
    let resp = h.http.get(h.url("/v1/tenants")).send().await.expect("send");
    assert_eq!(resp.status().as_u16(), 429);
    assert_eq!(
        resp.headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("7")
    );
    plan.push(FaultRule::times(Fault::Status429 { retry_after: None }, 1));
    let resp = h.http.get(h.url("/v1/tenants")).send().await.expect("send");
    assert!(resp.status().as_u16() == 429 && resp.headers().get("retry-after").is_none());

    plan.push(FaultRule::times(Fault::RateLimit403, 1));
    let (status, _, body) = h.get("/v1/tenants").await;
    assert_eq!(status, 403);
    assert!(error_detail(&body).to_lowercase().contains("rate limit"));

    for code in [500, 502, 503, 504] {
        plan.push(FaultRule::times(Fault::ServerError(code), 1));
        assert_eq!(h.get("/v1/tenants").await.0, code);
    }

    plan.push(FaultRule::times(
        Fault::WrongRegion {
            region: "eu1".into(),
        },
        1,
    ));
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let resp = no_redirects
        .get(h.url("/v1/inventory/device/info?page[first]=5"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 308);
    assert_eq!(
        resp.headers().get("location").and_then(|v| v.to_str().ok()),
        Some("https://auvikapi.eu1.my.auvik.com/v1/inventory/device/info?page[first]=5")
    );

    plan.push(FaultRule::times(Fault::TruncatedJson, 1));
    let (status, _, body) = h.get("/v1/tenants").await;
    assert_eq!(status, 200);
    assert!(!body.is_empty() && serde_json::from_slice::<Value>(&body).is_err());
    plan.push(FaultRule::times(Fault::InvalidJson, 1));
    let (_, ct, body) = h.get("/v1/tenants").await;
    assert!(ct.starts_with("application/vnd.api+json"));
    assert!(serde_json::from_slice::<Value>(&body).is_err());
    plan.push(FaultRule::times(Fault::WrongContentType, 1));
    let (status, ct, _) = h.get("/v1/tenants").await;
    assert_eq!((status, ct.starts_with("text/html")), (200, true));
    plan.push(FaultRule::times(Fault::Unauthorized, 1));
    let (status, _, body) = h.get("/v1/tenants").await;
    assert_eq!((status, body.len()), (401, 0));

    // A path-restricted rule leaves other paths alone and is used up.
    plan.push(FaultRule::times(Fault::ServerError(502), 2).on("/v1/inventory"));
    assert_eq!(h.get("/v1/tenants").await.0, 200);
    assert_eq!(h.get("/v1/inventory/device/info").await.0, 502);
    assert_eq!(h.get("/v1/inventory/device/detail").await.0, 502);
    assert_eq!(h.get("/v1/inventory/device/info").await.0, 200);

    let quick = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    let auth = |r: reqwest::RequestBuilder| r.basic_auth(h.sim.username(), Some(h.sim.api_key()));
    plan.push(FaultRule::times(Fault::Hang, 1));
    let err = auth(quick.get(h.url("/v1/tenants")))
        .send()
        .await
        .expect_err("hangs");
    assert!(err.is_timeout());
    plan.push(FaultRule::times(Fault::SlowBody, 1));
    let resp = auth(quick.get(h.url("/v1/tenants")))
        .send()
        .await
        .expect("headers arrive");
    assert_eq!(resp.status().as_u16(), 200);
    assert!(resp.bytes().await.expect_err("body stalls").is_timeout());

    assert!(plan.rules().is_empty());
    assert_eq!(h.get("/v1/tenants").await.0, 200);
    assert_eq!(h.sim.request_count(), 19);
    assert_eq!(h.sim.requests_for("/v1/inventory/device/detail"), 1);
}

#[tokio::test]
async fn control_surface_mirrors_the_mutation_api() {
    let h = Harness::new(opts(7, 2, 5)).await;
    let base = h.server.base_url.clone();
    let tenant = h.sim.tenants()[1].id.clone();

    let state: Value = h
        .http
        .get(format!("{base}/_sim/state"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(
        (state["tenants"].as_u64(), state["devices"].as_u64()),
        (Some(3), Some(10))
    );

    let resp = h
        .http
        .post(format!("{base}/_sim/devices"))
        .body(format!("{{\"tenant_id\":\"{tenant}\"}}"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 201);
    let created: Value = resp.json().await.expect("json");
    let id = created["id"].as_str().expect("id").to_owned();
    assert_eq!(h.sim.device(&id).map(|d| d.tenant_id), Some(tenant.clone()));

    let resp = h
        .http
        .patch(format!("{base}/_sim/devices/{id}"))
        .body(r#"{"deviceName":"x","manageStatus":true,"serialNumber":null}"#)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 200);
    let d = h.sim.device(&id).expect("device");
    assert_eq!(
        (d.name.as_str(), d.manage_status, d.serial),
        ("x", true, None)
    );
    for bad in [
        r#"{"deviceType":"toaster"}"#,
        r#"{"colour":"red"}"#,
        "[1]",
        "nope",
    ] {
        let resp = h
            .http
            .patch(format!("{base}/_sim/devices/{id}"))
            .body(bad)
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status().as_u16(), 400, "{bad}");
    }

    let resp = h
        .http
        .delete(format!("{base}/_sim/devices/{id}"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 204);
    assert!(h.sim.device(&id).is_none());
    let resp = h
        .http
        .delete(format!("{base}/_sim/devices/{id}"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 404);

    let old = h.sim.api_key();
    let rotated: Value = h
        .http
        .post(format!("{base}/_sim/rotate-key"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(rotated["api_key"].as_str(), Some(h.sim.api_key().as_str()));
    assert_ne!(h.sim.api_key(), old);

    let resp = h
        .http
        .post(format!("{base}/_sim/faults"))
        .body(r#"{"fault":{"kind":"server_error","status":503},"times":1}"#)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 201);
    assert_eq!(h.get("/v1/tenants").await.0, 503);
    h.http
        .post(format!("{base}/_sim/faults"))
        .body(r#"{"fault":{"kind":"hang"}}"#)
        .send()
        .await
        .expect("send");
    assert_eq!(h.sim.faults().rules().len(), 1);
    let resp = h
        .http
        .delete(format!("{base}/_sim/faults"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 204);
    assert!(h.sim.faults().rules().is_empty());

    let resp = h
        .http
        .put(format!("{base}/_sim/tenants/{tenant}/denied"))
        .body(r#"{"denied":true}"#)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 204);
    assert_eq!(
        h.get(&format!("/v1/inventory/device/info?tenants={tenant}"))
            .await
            .0,
        403
    );
    // Control requests are not API requests.
    let before = h.sim.request_count();
    h.http
        .get(format!("{base}/_sim/state"))
        .send()
        .await
        .expect("send");
    assert_eq!(h.sim.request_count(), before);
}

#[tokio::test]
async fn dropping_the_server_stops_it() {
    let h = Harness::new(opts(7, 1, 1)).await;
    let url = h.url("/v1/authentication/verify");
    h.sim.faults().push(FaultRule::times(Fault::Hang, 1));
    let hung = tokio::spawn({
        let (http, user, key, url) = (
            h.http.clone(),
            h.sim.username(),
            h.sim.api_key(),
            url.clone(),
        );
        async move {
            http.get(url)
                .basic_auth(user, Some(key))
                .send()
                .await
                .map(|r| r.status())
        }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let Harness { server, http, .. } = h;
    server.shutdown();
    // The hung request ends instead of waiting for the client's timeout.
    let ended = tokio::time::timeout(Duration::from_secs(5), hung).await;
    assert!(ended.is_ok(), "hung request outlived the server");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let fresh = reqwest::Client::new();
    assert!(
        fresh.get(&url).send().await.is_err(),
        "still accepting after shutdown"
    );
    drop(http);
}

/// The benchmark's load: 1000 pages of 1000 devices (ten full syncs of 100,000 devices).
/// Run with `cargo test --release --lib sim::auvik::tests::thousand_pages -- --ignored`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark; run in release"]
async fn thousand_pages_of_a_thousand() {
    #[derive(serde::Deserialize)]
    struct Links {
        next: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct PageLinksOnly {
        links: Links,
    }
    let start = std::time::Instant::now();
    let h = Harness::new(opts(1, 500, 200)).await;
    let seeded = start.elapsed();
    let start = std::time::Instant::now();
    let (mut pages, mut bytes) = (0, 0);
    let mut parse = Duration::ZERO;
    for _ in 0..10 {
        let mut next = Some(h.url("/v1/inventory/device/info?page[first]=1000"));
        while let Some(url) = next.take() {
            let (status, _, body) = h.get(&url).await;
            assert_eq!(status, 200);
            bytes += body.len();
            pages += 1;
            let t0 = std::time::Instant::now();
            next = serde_json::from_slice::<PageLinksOnly>(&body)
                .expect("page")
                .links
                .next;
            parse += t0.elapsed();
        }
    }
    let took = start.elapsed();
    println!(
        "seeded in {seeded:?}; {pages} pages, {} MB in {took:?}, of which client-side parsing \
         {parse:?}",
        bytes / 1_000_000
    );
    assert_eq!(pages, 1000);
}

/// The keys of a JSON object, recursively (`a.b.c`), so two resources can be compared by shape.
fn shape(v: &Value, at: &str, out: &mut std::collections::BTreeSet<String>) {
    if let Value::Object(m) = v {
        for (k, x) in m {
            let path = format!("{at}.{k}");
            out.insert(path.clone());
            shape(x, &path, out);
        }
    }
}

fn shape_of(v: &Value) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    shape(v, "", &mut out);
    out
}

const JUNE: &str = "filter[fromDate]=2025-06-01&filter[thruDate]=2025-06-30";

#[tokio::test]
async fn added_tenants_are_listed_like_seeded_clients() {
    let h = Harness::new(opts(7, 2, 3)).await;
    let before = h.sim.tenants();
    let root = before[0].clone();
    let id = h
        .sim
        .add_tenant("Known Answer Labs, Inc.", "knownanswer")
        .expect("a new prefix is accepted");
    assert!(
        (17..=18).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit()),
        "{id}"
    );
    let num: u64 = id.parse().expect("numeric");
    for t in &before {
        assert!(num > t.id.parse::<u64>().expect("numeric"), "ids increase");
    }
    let tenants = h.sim.tenants();
    assert_eq!(tenants.len(), 4);
    let added = tenants.last().expect("added last");
    assert_eq!(
        (
            added.id.as_str(),
            added.display_name.as_str(),
            added.domain_prefix.as_str(),
            added.tenant_type.as_str(),
            added.parent_id.as_deref(),
        ),
        (
            id.as_str(),
            "Known Answer Labs, Inc.",
            "knownanswer",
            "client",
            Some(root.id.as_str()),
        )
    );

    // Refused: a taken prefix (in any case, the root's too), a prefix that is no DNS label, a
    // blank name. Nothing is added by a refusal.
    for (name, prefix) in [
        ("Other", "knownanswer"),
        ("Other", "KnownAnswer"),
        ("Other", root.domain_prefix.as_str()),
        ("Other", before[1].domain_prefix.as_str()),
        ("Other", ""),
        ("Other", "bad prefix"),
        ("Other", "-dash"),
        ("Other", "dash-"),
        ("Other", "ünïcode"),
        ("Other", &"x".repeat(64)),
        ("  ", "blankname"),
    ] {
        assert_eq!(h.sim.add_tenant(name, prefix), None, "{name:?} {prefix:?}");
    }
    assert_eq!(h.sim.tenants().len(), 4);

    // `/v1/tenants`: listed last, shaped exactly like a seeded client.
    let list = h.json("/v1/tenants").await;
    let data = list["data"].as_array().expect("data");
    assert_eq!(data.len(), 4);
    let mine = &data[3];
    assert_eq!(mine["id"], id.as_str());
    assert_eq!(mine["type"], "tenant");
    assert_eq!(mine["attributes"]["domainPrefix"], "knownanswer");
    assert_eq!(mine["attributes"]["tenantType"], "client");
    assert_eq!(
        mine["relationships"]["parent"]["data"]["id"],
        root.id.as_str()
    );
    assert_eq!(shape_of(mine), shape_of(&data[1]));

    // `/v1/tenants/detail` and `/v1/tenants/detail/{id}`.
    let detail = h
        .json("/v1/tenants/detail?tenantDomainPrefix=mspdemo")
        .await;
    let rows = detail["data"].as_array().expect("data");
    let row = rows
        .iter()
        .find(|r| r["id"] == id.as_str())
        .expect("listed in detail");
    assert_eq!(row["type"], "tenants");
    assert_eq!(row["attributes"]["displayName"], "Known Answer Labs, Inc.");
    assert_eq!(row["attributes"]["domainPrefix"], "knownanswer");
    assert_eq!(row["attributes"]["tenantType"], "client");
    assert_eq!(row["attributes"]["subscriptionOwner"], "mspdemo");
    assert_eq!(
        row["relationships"]["parent"]["data"]["id"],
        root.id.as_str()
    );
    assert_eq!(shape_of(row), shape_of(&rows[1]));
    let available = h
        .json("/v1/tenants/detail?tenantDomainPrefix=mspdemo&filter[availableTenants]=true")
        .await;
    assert!(
        available["data"]
            .as_array()
            .is_some_and(|a| a.iter().any(|r| r["id"] == id.as_str()))
    );
    let one = h
        .json(&format!(
            "/v1/tenants/detail/{id}?tenantDomainPrefix=mspdemo"
        ))
        .await;
    assert_eq!(
        one["data"]["attributes"]["displayName"],
        "Known Answer Labs, Inc."
    );

    // A device added to it, with every identifying field pinned, is served as set.
    assert!(
        h.get(&format!("/v1/inventory/device/info?tenants={id}"))
            .await
            .2
            .starts_with(br#"{"data":[]"#)
    );
    let dev = h.sim.add_device(&id);
    assert!(h.sim.update_device(&dev, |d| {
        d.device_type = "firewall".to_owned();
        d.serial = Some("FGT60FTK20000001".to_owned());
        d.mac_addresses = vec![
            "00:09:0f:aa:00:01".to_owned(),
            "00:09:0f:aa:00:02".to_owned(),
        ];
        d.manage_status = true;
    }));
    let info = h
        .json(&format!(
            "/v1/inventory/device/info?tenants={id}&include=deviceDetail"
        ))
        .await;
    let items = info["data"].as_array().expect("data");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], dev.as_str());
    assert_eq!(items[0]["attributes"]["deviceType"], "firewall");
    assert_eq!(items[0]["attributes"]["serialNumber"], "FGT60FTK20000001");
    assert_eq!(
        items[0]["relationships"]["tenant"]["data"]["attributes"]["domainPrefix"],
        "knownanswer"
    );
    let detail = h
        .json(&format!("/v1/inventory/device/detail?tenants={id}"))
        .await;
    let d = &detail["data"][0];
    assert_eq!(d["id"], dev.as_str());
    assert_eq!(d["attributes"]["manageStatus"], true);
    let macs: Vec<&str> = d["relationships"]["interfaces"]["data"]
        .as_array()
        .expect("interfaces")
        .iter()
        .filter_map(|i| i["attributes"]["macAddress"].as_str())
        .collect();
    assert_eq!(macs, ["00:09:0f:aa:00:01", "00:09:0f:aa:00:02"]);
    // The whole-account list has it too, last (its tenant pages last).
    let all = ids(&h.pages("/v1/inventory/device/info?page[first]=4").await);
    assert_eq!(all.len(), 7);
    assert_eq!(all.last(), Some(&dev));

    // Billing counts it: in its own usage and in the root's.
    let usage = h
        .json(&format!("/v1/billing/usage/client?tenants={id}&{JUNE}"))
        .await;
    let u = &usage["data"][0];
    assert_eq!(u["attributes"]["domainPrefix"], "knownanswer");
    assert_eq!(u["attributes"]["deviceUsage"]["averageDays"], 1);
    assert_eq!(u["relationships"]["devices"]["data"][0]["id"], dev.as_str());
    let root_usage = h.json(&format!("/v1/billing/usage/client?{JUNE}")).await;
    let clients = root_usage["data"][0]["relationships"]["clients"]["data"]
        .as_array()
        .expect("clients");
    let entry = clients
        .iter()
        .find(|c| c["id"] == id.as_str())
        .expect("the root's usage lists the added client");
    assert_eq!(entry["attributes"]["totalBillableDays"], 30);
    let per_device = h
        .json(&format!("/v1/billing/usage/device/{dev}?{JUNE}"))
        .await;
    assert_eq!(per_device["data"]["attributes"]["totalDays"], 30);

    // Unmanaged, it stops being billable.
    h.sim.update_device(&dev, |d| d.manage_status = false);
    let usage = h
        .json(&format!("/v1/billing/usage/client?tenants={id}&{JUNE}"))
        .await;
    assert_eq!(
        usage["data"][0]["attributes"]["deviceUsage"]["averageDays"],
        0
    );
}

#[tokio::test]
async fn an_account_without_clients_serves_its_root_alone() {
    let h = Harness::new(opts(7, 0, 0)).await;
    let tenants = h.sim.tenants();
    assert_eq!(tenants.len(), 1);
    assert_eq!(tenants[0].tenant_type, "multiClient");
    assert!(h.sim.devices().is_empty());
    let list = h.json("/v1/tenants").await;
    assert_eq!(list["data"].as_array().map(Vec::len), Some(1));
    let detail = h
        .json("/v1/tenants/detail?tenantDomainPrefix=mspdemo")
        .await;
    assert_eq!(detail["data"].as_array().map(Vec::len), Some(1));
    for path in ["/v1/inventory/device/info", "/v1/inventory/device/detail"] {
        let page = h.json(path).await;
        assert_eq!(page["data"].as_array().map(Vec::len), Some(0), "{path}");
        assert_eq!(page["meta"]["totalPages"], 0, "{path}");
        assert!(page["links"].get("next").is_none(), "{path}");
    }
    let usage = h.json(&format!("/v1/billing/usage/client?{JUNE}")).await;
    assert_eq!(
        usage["data"][0]["attributes"]["deviceUsage"]["totalDays"],
        0
    );
    assert_eq!(
        usage["data"][0]["relationships"]["clients"]["data"]
            .as_array()
            .map(Vec::len),
        Some(0)
    );

    // Then a known-answer account built from nothing.
    let a = h.sim.add_tenant("Alpha", "alpha").expect("alpha");
    let b = h.sim.add_tenant("Beta", "beta").expect("beta");
    let da = h.sim.add_device(&a);
    let db = h.sim.add_device(&b);
    let all = ids(&h.pages("/v1/inventory/device/info").await);
    assert_eq!(all, [da, db]);
    let usage = h.json(&format!("/v1/billing/usage/client?{JUNE}")).await;
    assert_eq!(
        usage["data"][0]["relationships"]["clients"]["data"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );

    // Clients without devices are fine too.
    let h = Harness::new(opts(7, 3, 0)).await;
    assert_eq!(h.sim.tenants().len(), 4);
    assert_eq!(
        h.json("/v1/inventory/device/info").await["data"],
        Value::Array(vec![])
    );
}

#[tokio::test]
async fn billing_can_be_denied() {
    let h = Harness::new(opts(7, 2, 10)).await;
    let tenant = h.sim.tenants()[1].id.clone();
    let device = h.sim.devices()[0].id.clone();
    let client = format!("/v1/billing/usage/client?tenants={tenant}&{JUNE}");
    let per_device = format!("/v1/billing/usage/device/{device}?{JUNE}");
    assert!(!h.sim.billing_denied());
    assert_eq!(h.get(&client).await.0, 200);
    assert_eq!(h.get(&per_device).await.0, 200);

    h.sim.deny_billing(true);
    assert!(h.sim.billing_denied());
    // Denied whatever the query: the role is checked first.
    for path in [
        client.clone(),
        per_device.clone(),
        format!("/v1/billing/usage/client?{JUNE}"),
        "/v1/billing/usage/client".to_owned(),
        "/v1/billing/usage/device/bm9wZSxub3Bl".to_owned(),
    ] {
        let (status, ct, body) = h.get(&path).await;
        assert_eq!(status, 403, "{path}");
        assert!(ct.starts_with("application/vnd.api+json"), "{path}: {ct}");
        let v: Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(v["errors"][0]["status"], "403", "{path}");
        assert_eq!(v["errors"][0]["title"], "Forbidden", "{path}");
        let detail = error_detail(&body).to_lowercase();
        assert!(detail.contains("billing"), "{detail}");
        assert!(!detail.contains("rate limit"), "{detail}");
    }
    // Same shape as a denied tenant's 403.
    h.sim.deny_tenant(&tenant, true);
    let (_, _, tenant_body) = h
        .get(&format!("/v1/inventory/device/info?tenants={tenant}"))
        .await;
    h.sim.deny_tenant(&tenant, false);
    let (_, _, billing_body) = h.get(&client).await;
    let (a, b): (Value, Value) = (
        serde_json::from_slice(&tenant_body).expect("JSON"),
        serde_json::from_slice(&billing_body).expect("JSON"),
    );
    assert_eq!(shape_of(&a["errors"][0]), shape_of(&b["errors"][0]));
    assert_eq!(a["errors"][0]["title"], b["errors"][0]["title"]);
    // Only billing is denied.
    assert_eq!(h.get("/v1/tenants").await.0, 200);
    assert_eq!(h.get("/v1/inventory/device/info").await.0, 200);

    h.sim.deny_billing(false);
    assert_eq!(h.get(&client).await.0, 200);
    assert_eq!(h.get(&per_device).await.0, 200);
}

#[tokio::test]
async fn control_surface_adds_tenants_and_denies_billing() {
    let h = Harness::new(opts(7, 1, 2)).await;
    let base = h.server.base_url.clone();
    let post = |body: &'static str| {
        h.http
            .post(format!("{base}/_sim/tenants"))
            .body(body)
            .send()
    };

    let resp = post(r#"{"display_name":"Smith & Sons Test","domain_prefix":"smithtest"}"#)
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 201);
    let created: Value = resp.json().await.expect("json");
    let id = created["id"].as_str().expect("id").to_owned();
    assert_eq!(created["tenant"]["display_name"], "Smith & Sons Test");
    assert_eq!(created["tenant"]["domain_prefix"], "smithtest");
    assert_eq!(created["tenant"]["tenant_type"], "client");
    assert!(h.sim.tenants().iter().any(|t| t.id == id));
    let listed = h.json("/v1/tenants").await;
    assert!(
        listed["data"]
            .as_array()
            .is_some_and(|a| a.iter().any(|t| t["id"] == id.as_str()))
    );
    // Devices can be added to it over HTTP as well.
    let resp = h
        .http
        .post(format!("{base}/_sim/devices"))
        .body(format!("{{\"tenant_id\":\"{id}\"}}"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 201);

    let resp = post(r#"{"display_name":"Again","domain_prefix":"smithtest"}"#)
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 409);
    for bad in [
        "nope",
        "[1]",
        "{}",
        r#"{"display_name":"x"}"#,
        r#"{"domain_prefix":"x"}"#,
        r#"{"display_name":1,"domain_prefix":"x"}"#,
        r#"{"display_name":"x","domain_prefix":"Not A Label"}"#,
        r#"{"display_name":"","domain_prefix":"emptyname"}"#,
    ] {
        let resp = post(bad).await.expect("send");
        assert_eq!(resp.status().as_u16(), 400, "{bad}");
        let body: Value = resp.json().await.expect("json");
        assert!(body["error"].is_string(), "{bad}");
    }
    assert_eq!(h.sim.tenants().len(), 3);

    let state = |h: &Harness| {
        let url = format!("{}/_sim/state", h.server.base_url);
        let http = h.http.clone();
        async move {
            http.get(url)
                .send()
                .await
                .expect("send")
                .json::<Value>()
                .await
                .expect("json")
        }
    };
    assert_eq!(state(&h).await["billing_denied"], false);
    let put = |body: &'static str| {
        h.http
            .put(format!("{base}/_sim/billing/denied"))
            .body(body)
            .send()
    };
    let usage = format!("/v1/billing/usage/client?{JUNE}");
    assert_eq!(
        put(r#"{"denied":true}"#)
            .await
            .expect("send")
            .status()
            .as_u16(),
        204
    );
    assert!(h.sim.billing_denied());
    assert_eq!(state(&h).await["billing_denied"], true);
    assert_eq!(h.get(&usage).await.0, 403);
    for bad in ["nope", "[true]", "{}", r#"{"denied":"yes"}"#] {
        let resp = put(bad).await.expect("send");
        assert_eq!(resp.status().as_u16(), 400, "{bad}");
    }
    assert!(h.sim.billing_denied(), "a bad body changes nothing");
    assert_eq!(
        put(r#"{"denied":false}"#)
            .await
            .expect("send")
            .status()
            .as_u16(),
        204
    );
    assert_eq!(state(&h).await["billing_denied"], false);
    assert_eq!(h.get(&usage).await.0, 200);
}

#[test]
fn domain_prefixes_are_compared_ignoring_case() {
    // The root's prefix comes from the options and may carry capitals; it still names the same
    // host as its lower-case spelling.
    let sim = AuvikSim::new(AuvikSimOptions {
        domain_prefix: "MspDemo".to_owned(),
        clients: 0,
        assets_per_client: 0,
        ..Default::default()
    });
    assert_eq!(sim.add_tenant("Clash", "mspdemo"), None);
    assert!(sim.add_tenant("Fine", "mspdemo2").is_some());
}

// ---- Switches for what real Auvik does (module docs, "Switches") -------------------------------

/// A control-surface call: status and JSON body (`Null` when empty).
async fn control(h: &Harness, method: reqwest::Method, path: &str, body: &str) -> (u16, Value) {
    let resp = h
        .http
        .request(method, format!("{}/_sim{path}", h.server.base_url))
        .body(body.to_owned())
        .send()
        .await
        .expect("send");
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.expect("body");
    let v = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("JSON")
    };
    (status, v)
}

fn detail_ids(doc: &Value) -> Vec<String> {
    doc["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|t| t["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn unavailable_tenants_are_left_out_and_refused() {
    let h = Harness::new(opts(7, 3, 5)).await;
    let tenants = h.sim.tenants();
    let (off, denied) = (tenants[1].id.clone(), tenants[2].id.clone());
    let available = "/v1/tenants/detail?tenantDomainPrefix=mspdemo&filter[availableTenants]=true";
    let unavailable =
        "/v1/tenants/detail?tenantDomainPrefix=mspdemo&filter[availableTenants]=false";
    assert_eq!(detail_ids(&h.json(available).await).len(), 4);
    assert!(detail_ids(&h.json(unavailable).await).is_empty());
    assert_eq!(h.sim.tenant_state(&off), Some((true, true)));

    assert!(h.sim.set_tenant_state(&off, false, true));
    assert!(!h.sim.set_tenant_state("123", false, false));
    assert_eq!(h.sim.tenant_state(&off), Some((false, true)));
    // A denied tenant is refused but stays available.
    assert!(h.sim.deny_tenant(&denied, true));

    let avail = detail_ids(&h.json(available).await);
    assert!(
        !avail.contains(&off) && avail.contains(&denied),
        "{avail:?}"
    );
    assert_eq!(avail.len(), 3);
    assert_eq!(detail_ids(&h.json(unavailable).await), vec![off.clone()]);
    assert_eq!(
        detail_ids(
            &h.json("/v1/tenants/detail?tenantDomainPrefix=mspdemo")
                .await
        )
        .len(),
        4
    );
    let one = h
        .json(&format!(
            "/v1/tenants/detail/{off}?tenantDomainPrefix=mspdemo"
        ))
        .await;
    assert_eq!(one["data"]["attributes"]["enabled"], false);
    assert_eq!(one["data"]["attributes"]["running"], true);
    // `/v1/tenants` still lists it.
    assert!(detail_ids(&h.json("/v1/tenants").await).contains(&off));

    // Its devices: refused by name, left out unnamed.
    let device = h
        .sim
        .devices()
        .into_iter()
        .find(|d| d.tenant_id == off)
        .expect("device")
        .id;
    for path in [
        format!("/v1/inventory/device/info?tenants={off}"),
        format!("/v1/inventory/device/detail?tenants={off}"),
        format!("/v1/inventory/device/info/{device}"),
        format!("/v1/inventory/device/detail/{device}"),
        format!("/v1/billing/usage/client?tenants={off}&{JUNE}"),
        format!("/v1/billing/usage/device/{device}?{JUNE}"),
    ] {
        let (status, ct, body) = h.get(&path).await;
        assert_eq!(status, 403, "{path}");
        assert!(ct.starts_with("application/vnd.api+json"), "{path}");
        let detail = error_detail(&body);
        assert!(detail.contains("not available"), "{path}: {detail}");
    }
    let listed = ids(&h.pages("/v1/inventory/device/info").await);
    assert_eq!(listed.len(), 5, "only the third client's devices remain");
    assert!(!listed.contains(&device));

    // `running: false` alone is unavailable too; both back on restores everything.
    assert!(h.sim.set_tenant_state(&off, true, false));
    assert_eq!(detail_ids(&h.json(unavailable).await), vec![off.clone()]);
    assert!(h.sim.set_tenant_state(&off, true, true));
    h.sim.deny_tenant(&denied, false);
    assert_eq!(ids(&h.pages("/v1/inventory/device/info").await).len(), 15);
    assert_eq!(
        h.get(&format!("/v1/inventory/device/info/{device}"))
            .await
            .0,
        200
    );

    // Over HTTP.
    let path = format!("/tenants/{off}/state");
    let (status, v) = control(&h, reqwest::Method::PUT, &path, r#"{"running":false}"#).await;
    assert_eq!(status, 200);
    assert_eq!(
        v,
        serde_json::json!({"enabled": true, "running": false, "available": false})
    );
    assert_eq!(h.sim.tenant_state(&off), Some((true, false)));
    assert_eq!(detail_ids(&h.json(unavailable).await), vec![off.clone()]);
    let (status, v) = control(&h, reqwest::Method::GET, &path, "").await;
    assert_eq!((status, v["available"].as_bool()), (200, Some(false)));
    let (_, state) = control(&h, reqwest::Method::GET, "/state", "").await;
    assert_eq!(
        state["unavailable_tenants"],
        serde_json::json!([off.clone()])
    );
    for bad in ["{}", r#"{"enabled":"no"}"#, r#"{"paused":true}"#, "[]"] {
        let (status, _) = control(&h, reqwest::Method::PUT, &path, bad).await;
        assert_eq!(status, 400, "{bad}");
    }
    let (status, _) = control(
        &h,
        reqwest::Method::PUT,
        "/tenants/1/state",
        r#"{"enabled":true}"#,
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn throttling_403s_use_the_wording_asked_for_and_last() {
    let h = Harness::new(opts(7, 2, 5)).await;
    let plan = h.sim.faults();
    for (message, retry) in [
        ("API request quota exceeded. Try again later.", Some(300)),
        ("Request throttled", None),
        ("Rate-limit reached", Some(5)),
    ] {
        plan.push(
            FaultRule::times(
                Fault::Throttle403 {
                    message: message.to_owned(),
                    retry_after: retry,
                },
                3,
            )
            .on("/v1/inventory"),
        );
        // Other paths are unaffected.
        assert_eq!(h.get("/v1/tenants").await.0, 200);
        for _ in 0..3 {
            let resp = h
                .http
                .get(h.url("/v1/inventory/device/info?page[first]=2"))
                .basic_auth(h.sim.username(), Some(h.sim.api_key()))
                .send()
                .await
                .expect("send");
            let got_retry = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let (status, ct, body) = response_parts(resp).await;
            assert_eq!(status, 403);
            assert!(ct.starts_with("application/vnd.api+json"), "{ct}");
            assert_eq!(error_detail(&body), message);
            assert_eq!(got_retry, retry.map(|s| s.to_string()));
        }
        assert_eq!(h.get("/v1/inventory/device/info").await.0, 200, "used up");
    }

    // Over HTTP, restricted to one page by its query.
    let first = h.json("/v1/inventory/device/info?page[first]=2").await;
    let next = first["links"]["next"].as_str().expect("next").to_owned();
    let (status, _) = control(
        &h,
        reqwest::Method::POST,
        "/faults",
        r#"{"fault":{"kind":"throttle403","message":"Request throttled","retry_after":60},
            "path_prefix":"/v1/inventory","query_contains":"page%5Bafter%5D=","times":1}"#,
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(
        h.get("/v1/inventory/device/info?page[first]=2").await.0,
        200
    );
    let (status, _, body) = h.get(&next).await;
    assert_eq!(
        (status, error_detail(&body).as_str()),
        (403, "Request throttled")
    );
    assert_eq!(h.get(&next).await.0, 200);
    assert!(plan.rules().is_empty());
}

#[tokio::test]
async fn links_name_the_public_host_when_one_is_set() {
    const PUBLIC: &str = "https://auvikapi.us1.my.auvik.com";
    let h = Harness::new(AuvikSimOptions {
        public_base_url: Some(format!("{PUBLIC}/")),
        ..opts(7, 2, 5)
    })
    .await;
    assert_eq!(h.sim.public_base_url().as_deref(), Some(PUBLIC));
    let page = h
        .json("/v1/inventory/device/info?page[first]=3&include=deviceDetail")
        .await;
    let mut urls = Vec::new();
    collect_urls(&page, &mut urls);
    let api_urls: Vec<&String> = urls.iter().filter(|u| u.contains("/v1/")).collect();
    assert!(api_urls.len() > 10, "{urls:?}");
    for u in &api_urls {
        assert!(u.starts_with(PUBLIC), "{u}");
    }
    assert!(!urls.iter().any(|u| u.contains("127.0.0.1")), "{urls:?}");
    let next = page["links"]["next"].as_str().expect("next");
    // The same path and query on the listening address is the next page.
    let local = next.replacen(PUBLIC, &h.server.base_url, 1);
    let second = h.json(&local).await;
    assert_eq!(second["data"].as_array().map(Vec::len), Some(3));
    let tenant = h.sim.tenants()[1].id.clone();
    let billing = h
        .json(&format!("/v1/billing/usage/client?tenants={tenant}&{JUNE}"))
        .await;
    let mut urls = Vec::new();
    collect_urls(&billing, &mut urls);
    assert!(urls.iter().any(|u| u.starts_with(PUBLIC)), "{urls:?}");
    assert!(!urls.iter().any(|u| u.contains("127.0.0.1")), "{urls:?}");

    // Back to the listening address, then over HTTP.
    h.sim.set_public_base_url(None);
    let page = h.json("/v1/inventory/device/info?page[first]=3").await;
    assert!(
        page["links"]["next"]
            .as_str()
            .is_some_and(|n| n.starts_with(&h.server.base_url))
    );
    assert!(
        page["data"][0]["links"]["self"]
            .as_str()
            .is_some_and(|n| n.starts_with(&h.server.base_url))
    );
    let (status, v) = control(
        &h,
        reqwest::Method::PUT,
        "/public-base-url",
        r#"{"url":"https://auvikapi.lnx.my.auvik.com"}"#,
    )
    .await;
    assert_eq!(
        (status, v["url"].as_str()),
        (200, Some("https://auvikapi.lnx.my.auvik.com"))
    );
    let page = h.json("/v1/inventory/device/info?page[first]=3").await;
    assert!(
        page["links"]["next"]
            .as_str()
            .is_some_and(|n| n.starts_with("https://auvikapi.lnx.my.auvik.com/v1/"))
    );
    assert!(
        page["data"][0]["links"]["self"]
            .as_str()
            .is_some_and(|n| n.starts_with("https://auvikapi.lnx.my.auvik.com/v1/"))
    );
    for bad in [r#"{"url":"ftp://x"}"#, r#"{"url":3}"#, "{}"] {
        let (status, _) = control(&h, reqwest::Method::PUT, "/public-base-url", bad).await;
        assert_eq!(status, 400, "{bad}");
    }
    let (_, v) = control(
        &h,
        reqwest::Method::PUT,
        "/public-base-url",
        r#"{"url":null}"#,
    )
    .await;
    assert_eq!(v["url"], Value::Null);
    assert_eq!(h.sim.public_base_url(), None);
}

fn collect_urls(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.starts_with("http") => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| collect_urls(x, out)),
        Value::Object(o) => o.values().for_each(|x| collect_urls(x, out)),
        _ => {}
    }
}

#[tokio::test]
async fn single_devices_are_looked_up_by_id() {
    let h = Harness::new(opts(7, 2, 5)).await;
    let d = h.sim.devices()[3].clone();
    let one = h.json(&format!("/v1/inventory/device/info/{}", d.id)).await;
    assert_eq!(one["data"]["id"], d.id.as_str());
    assert_eq!(one["data"]["type"], "device");
    assert_eq!(one["data"]["attributes"]["deviceName"], d.name.as_str());
    assert!(one.get("included").is_none());
    // The same resource as in the list.
    let listed = ids(&h.pages("/v1/inventory/device/info").await);
    assert!(listed.contains(&d.id));
    let with = h
        .json(&format!(
            "/v1/inventory/device/info/{}?include=deviceDetail&fields[deviceDetail]=manageStatus",
            d.id
        ))
        .await;
    let included = with["included"].as_array().expect("included");
    assert_eq!(included.len(), 1);
    assert_eq!(included[0]["type"], "deviceDetail");
    assert_eq!(included[0]["attributes"]["manageStatus"], d.manage_status);
    assert!(included[0]["attributes"].get("discoveryStatus").is_none());

    // Denied tenant: 403; removed or unknown: 404 in basicError shape.
    h.sim.deny_tenant(&d.tenant_id, true);
    assert_eq!(
        h.get(&format!("/v1/inventory/device/info/{}", d.id))
            .await
            .0,
        403
    );
    h.sim.deny_tenant(&d.tenant_id, false);
    assert!(h.sim.remove_device(&d.id));
    for id in [d.id.as_str(), "bm9wZSxub3Bl"] {
        let (status, ct, body) = h.get(&format!("/v1/inventory/device/info/{id}")).await;
        assert_eq!(status, 404, "{id}");
        assert!(ct.starts_with("application/vnd.api+json"));
        let v: Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(v["errors"][0]["status"], "404");
        assert!(!error_detail(&body).is_empty());
    }
}

fn date_header(resp: &reqwest::Response) -> chrono::DateTime<chrono::Utc> {
    let raw = resp
        .headers()
        .get("date")
        .and_then(|v| v.to_str().ok())
        .expect("a Date header");
    assert!(
        raw.ends_with(" GMT") && raw.len() == 29,
        "IMF-fixdate: {raw}"
    );
    chrono::DateTime::parse_from_rfc2822(raw)
        .expect("parses")
        .to_utc()
}

#[tokio::test]
async fn clock_skew_dates_responses_and_stamps() {
    use chrono::{Duration as Skew, Utc};
    let h = Harness::new(AuvikSimOptions {
        clock_skew: Skew::hours(2),
        ..opts(7, 2, 5)
    })
    .await;
    let near =
        |a: chrono::DateTime<Utc>, b: chrono::DateTime<Utc>| (a - b).abs() < Skew::seconds(5);
    let get = |path: &str| {
        h.http
            .get(h.url(path))
            .basic_auth(h.sim.username(), Some(h.sim.api_key()))
            .send()
    };
    // Every response is dated by the simulator's clock: successes, errors, faults, 401s.
    let resp = get("/v1/tenants").await.expect("send");
    assert!(near(date_header(&resp), Utc::now() + Skew::hours(2)));
    let resp = h.http.get(h.url("/v1/tenants")).send().await.expect("send");
    assert_eq!(resp.status().as_u16(), 401);
    assert!(near(date_header(&resp), Utc::now() + Skew::hours(2)));
    h.sim
        .faults()
        .push(FaultRule::times(Fault::ServerError(503), 1));
    let resp = get("/v1/tenants").await.expect("send");
    assert_eq!(resp.status().as_u16(), 503);
    assert!(near(date_header(&resp), Utc::now() + Skew::hours(2)));

    // Stamps: a change made now is stamped two hours ahead, so a client asking for changes
    // after its own clock's "an hour from now" still gets it.
    let devices = h.sim.devices();
    let ahead = devices[0].id.clone();
    assert!(h.sim.update_device(&ahead, |d| d.name = "ahead".into()));
    let stamped = h.sim.device(&ahead).expect("device").last_modified;
    assert!(near(stamped, Utc::now() + Skew::hours(2)), "{stamped}");
    let after = |t: chrono::DateTime<Utc>| {
        format!(
            "/v1/inventory/device/info?filter[modifiedAfter]={}",
            render::Ts(t)
        )
    };
    assert_eq!(
        ids(&h.pages(&after(Utc::now() + Skew::hours(1))).await),
        vec![ahead.clone()]
    );

    // Set back two hours behind: later changes are stamped in the past, and a client asking
    // for changes since its own "a minute ago" misses them.
    h.sim.set_clock_skew(Skew::hours(-2));
    assert_eq!(h.sim.clock_skew(), Skew::hours(-2));
    let since = Utc::now() - Skew::minutes(1);
    let behind = devices[1].id.clone();
    assert!(h.sim.update_device(&behind, |d| d.name = "behind".into()));
    let stamped = h.sim.device(&behind).expect("device").last_modified;
    assert!(near(stamped, Utc::now() - Skew::hours(2)), "{stamped}");
    let got = ids(&h.pages(&after(since)).await);
    assert!(!got.contains(&behind) && got.contains(&ahead), "{got:?}");
    let resp = get("/v1/tenants").await.expect("send");
    assert!(near(date_header(&resp), Utc::now() - Skew::hours(2)));

    // Over HTTP.
    let (status, v) = control(
        &h,
        reqwest::Method::PUT,
        "/clock",
        r#"{"skew_seconds": 600.5}"#,
    )
    .await;
    assert_eq!((status, v["skew_seconds"].as_f64()), (200, Some(600.5)));
    assert_eq!(h.sim.clock_skew(), Skew::milliseconds(600_500));
    let resp = get("/v1/tenants").await.expect("send");
    assert!(near(date_header(&resp), Utc::now() + Skew::seconds(600)));
    for bad in ["{}", r#"{"skew_seconds":"1"}"#, r#"{"skew_seconds":1e12}"#] {
        let (status, _) = control(&h, reqwest::Method::PUT, "/clock", bad).await;
        assert_eq!(status, 400, "{bad}");
    }
}

#[tokio::test]
async fn responses_carry_a_date_without_skew() {
    let h = Harness::new(opts(7, 1, 1)).await;
    let resp = h
        .http
        .get(h.url("/v1/authentication/verify"))
        .basic_auth(h.sim.username(), Some(h.sim.api_key()))
        .send()
        .await
        .expect("send");
    let date = date_header(&resp);
    assert!((date - chrono::Utc::now()).abs() < chrono::Duration::seconds(5));
}

/// Warranty and lifecycle listings (spec `readMultipleDeviceWarranty`,
/// `readMultipleDeviceLifecycle`): paged per tenant like device info, only devices with a
/// record, mostly Cisco gear; single lookups 404 without a record; the permission switch
/// and the odd-dates switch.
#[tokio::test]
async fn warranty_and_lifecycle_are_listed_for_devices_that_have_records() {
    let h = Harness::new(opts(31, 4, 60)).await;
    let devices = h.sim.devices();
    let with_warranty: HashSet<String> = devices
        .iter()
        .filter(|d| d.warranty.is_some())
        .map(|d| d.id.clone())
        .collect();
    let with_lifecycle: HashSet<String> = devices
        .iter()
        .filter(|d| d.lifecycle.is_some())
        .map(|d| d.id.clone())
        .collect();
    assert!(!with_warranty.is_empty() && !with_lifecycle.is_empty());
    assert!(
        devices.iter().filter(|d| d.warranty.is_some()).all(|d| d
            .vendor_name
            .as_deref()
            .is_none_or(|v| v.starts_with("Cisco"))),
        "only Cisco gear has records"
    );
    let tenants: Vec<String> = h
        .sim
        .tenants()
        .iter()
        .skip(1)
        .map(|t| t.id.clone())
        .collect();
    let listed = |pages: &[Value]| -> HashSet<String> { ids(pages).into_iter().collect() };
    let warranty = h
        .pages(&format!(
            "/v1/inventory/device/warranty?tenants={}&page[first]=7",
            tenants.join(",")
        ))
        .await;
    assert_eq!(listed(&warranty), with_warranty);
    let lifecycle = h
        .pages(&format!(
            "/v1/inventory/device/lifecycle?tenants={}&page[first]=7",
            tenants.join(",")
        ))
        .await;
    assert_eq!(listed(&lifecycle), with_lifecycle);
    let first = &warranty[0]["data"][0];
    assert_eq!(first["type"], "deviceWarranty");
    for key in [
        "deviceName",
        "warrantyCoverageStatus",
        "warrantyExpirationDate",
        "serviceCoverageStatus",
        "recommendedSoftwareVersion",
    ] {
        assert!(first["attributes"].get(key).is_some(), "{key} is required");
    }
    let lc = &lifecycle[0]["data"][0];
    assert_eq!(lc["type"], "deviceLifecycle");
    assert_eq!(lc["relationships"]["device"]["data"]["id"], lc["id"]);
    // One tenant's listing has only its devices.
    let one = h
        .pages(&format!(
            "/v1/inventory/device/warranty?tenants={}",
            tenants[0]
        ))
        .await;
    let own: HashSet<String> = devices
        .iter()
        .filter(|d| d.tenant_id == tenants[0] && d.warranty.is_some())
        .map(|d| d.id.clone())
        .collect();
    assert_eq!(listed(&one), own);
    // Filters from the spec.
    let covered = h
        .pages("/v1/inventory/device/warranty?filter[coveredUnderWarranty]=true")
        .await;
    for p in &covered {
        for r in p["data"].as_array().unwrap() {
            assert_eq!(r["attributes"]["warrantyCoverageStatus"], "Covered");
        }
    }
    let (status, _, _) = h
        .get("/v1/inventory/device/lifecycle?filter[lastSupportStatus]=forever")
        .await;
    assert_eq!(status, 400);
    // Single lookups: a record, or 404 without one.
    let id = with_warranty.iter().next().unwrap();
    let single = h.json(&format!("/v1/inventory/device/warranty/{id}")).await;
    assert_eq!(single["data"]["id"], id.as_str());
    let bare = devices.iter().find(|d| d.warranty.is_none()).unwrap();
    let (status, _, _) = h
        .get(&format!("/v1/inventory/device/warranty/{}", bare.id))
        .await;
    assert_eq!(status, 404);

    // Odd dates: some expirations are text, the rest as stored.
    h.sim.set_odd_warranty_dates(true);
    let odd = h.pages("/v1/inventory/device/warranty").await;
    let texts: Vec<String> = odd
        .iter()
        .flat_map(|p| p["data"].as_array().cloned().unwrap_or_default())
        .filter_map(|r| {
            r["attributes"]["warrantyExpirationDate"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert!(
        texts.iter().any(|t| !t.ends_with("T00:00:00.000Z")),
        "{texts:?}"
    );
    assert!(
        texts.iter().any(|t| t.ends_with("T00:00:00.000Z")),
        "{texts:?}"
    );
    h.sim.set_odd_warranty_dates(false);

    // Without the permission: 403 in basicError shape, device info unaffected.
    h.sim.deny_lifecycle(true);
    for path in [
        "/v1/inventory/device/warranty".to_owned(),
        format!("/v1/inventory/device/lifecycle/{id}"),
    ] {
        let (status, _, body) = h.get(&path).await;
        assert_eq!(status, 403, "{path}");
        assert!(error_detail(&body).contains("Hardware lifecycle"), "{path}");
    }
    assert_eq!(h.get("/v1/inventory/device/info").await.0, 200);
    h.sim.deny_lifecycle(false);

    // Records are data: set, changed and taken away like any other attribute.
    assert!(h.sim.update_device(&bare.id, |d| {
        d.warranty = Some(SimWarranty {
            expiration_date: Some("N/A".into()),
            ..SimWarranty::default()
        })
    }));
    let set = h
        .json(&format!("/v1/inventory/device/warranty/{}", bare.id))
        .await;
    assert_eq!(set["data"]["attributes"]["warrantyExpirationDate"], "N/A");
    assert_eq!(
        set["data"]["attributes"]["warrantyCoverageStatus"],
        Value::Null
    );
    let (status, body) = control(
        &h,
        reqwest::Method::PATCH,
        &format!("/devices/{}", bare.id),
        r#"{"warranty": null, "lifecycle": {"lastSupportStatus": "securityOnly"}}"#,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        h.get(&format!("/v1/inventory/device/warranty/{}", bare.id))
            .await
            .0,
        404
    );
    let lc = h
        .json(&format!("/v1/inventory/device/lifecycle/{}", bare.id))
        .await;
    assert_eq!(
        lc["data"]["attributes"]["lastSupportStatus"],
        "securityOnly"
    );
    assert_eq!(lc["data"]["attributes"]["salesAvailability"], Value::Null);
    let (status, _) = control(
        &h,
        reqwest::Method::PUT,
        "/lifecycle/denied",
        r#"{"denied": true}"#,
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(h.get("/v1/inventory/device/lifecycle").await.0, 403);
}
