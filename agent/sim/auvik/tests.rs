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
