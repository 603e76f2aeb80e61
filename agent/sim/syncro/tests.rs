//! Tests of the Syncro simulator, in-process over real HTTP on loopback.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde_json::Value;

use super::api::{NOT_AUTHORIZED, PERMISSION_MESSAGE};
use super::ratelimit::Clock;
use super::seed::epoch;
use super::*;
use crate::sim::faults::{Fault, FaultRule};
use crate::sim::names;

const ASSETS: &str = "/api/v1/customer_assets";
const CUSTOMERS: &str = "/api/v1/customers";

/// Options for HTTP tests: the limiter is off unless a test is about it.
fn opts(seed: u64, clients: usize, per: usize) -> SyncroSimOptions {
    SyncroSimOptions {
        seed,
        clients,
        assets_per_client: per,
        requests_per_minute: 0,
        ..Default::default()
    }
}

struct Harness {
    sim: SyncroSim,
    server: SimServer,
    http: reqwest::Client,
}

impl Harness {
    async fn new(o: SyncroSimOptions) -> Self {
        Self::with_sim(SyncroSim::new(o)).await
    }

    async fn with_sim(sim: SyncroSim) -> Self {
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
        format!("{}{}", self.server.base_url, path_and_query)
    }

    /// A GET with the full token as a Bearer header: status, content type, body.
    async fn get(&self, path: &str) -> (u16, String, Vec<u8>) {
        let key = self.sim.api_key();
        self.send(self.http.get(self.url(path)).bearer_auth(key))
            .await
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> (u16, String, Vec<u8>) {
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let ct = header(&resp, "content-type");
        let body = resp.bytes().await.expect("body").to_vec();
        (status, ct, body)
    }

    async fn json(&self, path: &str) -> Value {
        let (status, ct, body) = self.get(path).await;
        assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
        assert_eq!(ct, "application/json; charset=utf-8");
        serde_json::from_slice(&body).expect("JSON body")
    }

    /// Every page of a list, walking `page=1..=meta.total_pages` as Syncro clients do.
    async fn pages(&self, path: &str, key: &str) -> Vec<Value> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let first = self.json(&format!("{path}{sep}page=1")).await;
        let total = first["meta"]["total_pages"].as_u64().expect("total_pages");
        let mut pages = vec![first];
        for p in 2..=total {
            pages.push(self.json(&format!("{path}{sep}page={p}")).await);
        }
        for (i, p) in pages.iter().enumerate() {
            assert_eq!(p["meta"]["page"].as_u64(), Some(i as u64 + 1));
            assert_eq!(p["meta"]["total_pages"].as_u64(), Some(total));
            assert!(p[key].is_array(), "{p}");
        }
        pages
    }
}

fn header(resp: &reqwest::Response, name: &str) -> String {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

fn ids(pages: &[Value], key: &str) -> Vec<i64> {
    pages
        .iter()
        .flat_map(|p| p[key].as_array().cloned().unwrap_or_default())
        .map(|a| a["id"].as_i64().expect("integer id"))
        .collect()
}

fn body_json(body: &[u8]) -> Value {
    serde_json::from_slice(body).expect("JSON body")
}

#[test]
fn seeding_is_deterministic() {
    let a = SyncroSim::new(opts(7, 12, 30));
    let b = SyncroSim::new(opts(7, 12, 30));
    assert_eq!(a.customers(), b.customers());
    assert_eq!(a.assets(), b.assets());
    assert_eq!(a.asset_types(), b.asset_types());
    assert_eq!(
        (a.api_key(), a.limited_api_key()),
        (b.api_key(), b.limited_api_key())
    );
    let c = SyncroSim::new(opts(8, 12, 30));
    assert_ne!(a.assets(), c.assets());
    assert_ne!(a.api_key(), c.api_key());
    assert_ne!(a.api_key(), a.limited_api_key());
    let custom = SyncroSim::new(SyncroSimOptions {
        api_key: "k1".into(),
        limited_api_key: "k2".into(),
        ..opts(7, 1, 1)
    });
    assert_eq!(
        (custom.api_key(), custom.limited_api_key()),
        ("k1".into(), "k2".into())
    );
}

#[test]
fn seeded_account_has_the_documented_shape() {
    let (n, per) = (40, 25);
    let sim = SyncroSim::new(opts(3, n, per));
    let customers = sim.customers();
    let (individuals, former) = (n / 8, n / 10);
    assert_eq!(customers.len(), n + individuals + former);
    assert!(customers.windows(2).all(|w| w[0].id < w[1].id), "id order");
    assert!(
        customers
            .iter()
            .all(|c| (20_000_000..30_000_000).contains(&c.id))
    );

    // Businesses carry the other simulators' names, ~15% spelled differently.
    let shared = names::client_names(3, n);
    let businesses: Vec<_> = customers
        .iter()
        .filter(|c| c.shared_name.is_some())
        .collect();
    assert_eq!(businesses.len(), n);
    let mut got: Vec<_> = businesses
        .iter()
        .filter_map(|c| c.shared_name.clone())
        .collect();
    got.sort();
    let mut want = shared.clone();
    want.sort();
    assert_eq!(got, want);
    // Exactly round(15%) spelled differently, round(3%) only by a space or an `&amp;`.
    let decoded = |s: &str| s.trim().replace("&amp;", "&");
    let differing = businesses
        .iter()
        .filter(|c| c.business_name.as_deref().map(decoded) != c.shared_name.clone())
        .count();
    let trivial = businesses
        .iter()
        .filter(|c| c.business_name != c.shared_name)
        .count()
        - differing;
    assert_eq!((differing, trivial), (6, 1), "of {n}");
    let names: HashSet<_> = customers.iter().map(|c| &c.business_then_name).collect();
    assert_eq!(names.len(), customers.len(), "display names are distinct");

    let people: Vec<_> = customers
        .iter()
        .filter(|c| c.business_name.is_none())
        .collect();
    assert_eq!(people.len(), individuals);
    assert!(
        people
            .iter()
            .all(|c| c.business_then_name == c.fullname && !c.disabled)
    );
    let disabled: Vec<_> = customers.iter().filter(|c| c.disabled).collect();
    assert_eq!(disabled.len(), former);
    assert!(
        disabled
            .iter()
            .all(|c| c.shared_name.is_none() && c.business_name.is_some())
    );

    let assets = sim.assets();
    let small = per.div_ceil(10);
    assert_eq!(assets.len(), n * per + (individuals + former) * small);
    assert!(assets.windows(2).all(|w| w[0].id < w[1].id), "id order");
    assert!(
        assets.iter().any(|a| a.id > i64::from(i32::MAX)),
        "ids past 2^31"
    );
    assert!(
        assets
            .iter()
            .filter(|a| a.id < 1 << 31)
            .all(|a| (12_000_000..14_500_000).contains(&a.id))
    );
    let by_customer: HashMap<i64, usize> = assets.iter().fold(HashMap::new(), |mut m, a| {
        *m.entry(a.customer_id).or_default() += 1;
        m
    });
    for c in &customers {
        let want = if c.shared_name.is_some() { per } else { small };
        assert_eq!(
            by_customer.get(&c.id),
            Some(&want),
            "{}",
            c.business_then_name
        );
    }
    for a in &assets {
        let c = customers
            .iter()
            .find(|c| c.id == a.customer_id)
            .expect("customer");
        assert!(a.created_at > c.created_at && a.created_at <= a.updated_at);
        assert!(a.updated_at < epoch());
    }
}

#[test]
fn seeded_assets_carry_real_world_variety() {
    let sim = SyncroSim::new(opts(5, 60, 50));
    let assets = sim.assets();
    let share = |f: &dyn Fn(&SimAsset) -> bool| {
        assets.iter().filter(|a| f(a)).count() as f64 / assets.len() as f64
    };
    let agent = share(&|a| a.asset_type == "Syncro Device");
    assert!((0.6..0.78).contains(&agent), "Syncro Device share {agent}");
    let types: HashSet<_> = assets.iter().map(|a| a.asset_type.as_str()).collect();
    for t in super::catalog::ASSET_TYPES {
        assert!(types.contains(t), "asset type {t} missing");
    }
    assert!(share(&|a| a.asset_serial.is_none()) > 0.05);
    assert!(share(&|a| a.asset_serial.as_deref() == Some("")) > 0.03);
    assert!(
        assets
            .iter()
            .any(|a| a.asset_serial.as_deref().is_some_and(|s| s.ends_with(' ')))
    );
    assert!(share(&|a| a.contact_id.is_some()) > 0.1);
    assert!(assets.iter().any(|a| a.external_rmm_link.is_some()));
    assert!(assets.iter().any(|a| a.snmp_enabled.is_none()));
    assert!(assets.iter().any(|a| a.snmp_enabled == Some(true)));

    let kabuto = |a: &SimAsset| a.properties.get("kabuto_information").cloned();
    let agents: Vec<_> = assets
        .iter()
        .filter(|a| a.asset_type == "Syncro Device")
        .collect();
    let with_data = agents.iter().filter_map(|a| kabuto(a)).collect::<Vec<_>>();
    assert!(with_data.len() < agents.len(), "some agents never reported");
    let form_factors: HashSet<_> = with_data
        .iter()
        .filter_map(|k| k.pointer("/general/form_factor").and_then(Value::as_str))
        .collect();
    for ff in ["Laptop", "Notebook", "Desktop", "Rack Mount Chassis"] {
        assert!(
            form_factors.contains(ff),
            "form factor {ff} missing: {form_factors:?}"
        );
    }
    for k in &with_data {
        for path in [
            "/general/manufacturer",
            "/general/model",
            "/general/serial_number",
            "/os/name",
            "/os/build",
            "/last_synced_at",
            "/cpu/0/name",
            "/ram_gb",
            "/network_adapters/0/physical_address",
        ] {
            assert!(k.pointer(path).is_some(), "{path} missing in {k}");
        }
    }
    // The one MAC that sits on many machines, and placeholder serials.
    let npcap = with_data
        .iter()
        .filter(|k| k.to_string().contains("02:00:4C:4F:4F:50"))
        .count();
    assert!(npcap >= 2, "{npcap}");
    assert!(with_data.iter().any(|k| {
        k.pointer("/general/serial_number")
            .and_then(Value::as_str)
            .is_some_and(|s| super::catalog::PLACEHOLDER_SERIALS.contains(&s))
    }));

    let custom: Vec<_> = assets
        .iter()
        .filter(|a| a.asset_type != "Syncro Device")
        .collect();
    let has = |key: &str| {
        custom
            .iter()
            .filter(|a| a.properties.get(key).is_some())
            .count()
    };
    for key in [
        "Make",
        "Model",
        "LAN IP(s)",
        "MAC Address",
        "Notes",
        "manufacturer",
    ] {
        assert!(has(key) > 0, "no custom asset has {key:?}");
    }
    let twins = assets
        .iter()
        .filter(|a| {
            let (u, l) = (a.properties.get("Notes"), a.properties.get("notes"));
            u.is_some() && l.is_some() && u != l
        })
        .count();
    assert!(twins > 0, "no Notes/notes case twins");
    // Lifecycle custom properties, typed as people type dates, with gaps.
    let typed: Vec<&str> = assets
        .iter()
        .filter_map(|a| a.properties.get("Warranty Expires").and_then(Value::as_str))
        .collect();
    assert!(
        typed.len() > 10 && typed.len() < assets.len() / 2,
        "{}",
        typed.len()
    );
    assert!(
        typed
            .iter()
            .any(|t| t.len() == 10 && t.as_bytes()[4] == b'-'),
        "{typed:?}"
    );
    assert!(typed.iter().any(|t| t.contains('/')), "{typed:?}");
    assert!(typed.iter().any(|t| t.contains('.')), "{typed:?}");
    assert!(
        assets
            .iter()
            .any(|a| a.properties.get("Purchase Date").is_some())
    );
    assert!(
        assets
            .iter()
            .any(|a| a.asset_type == "Syncro Device"
                && a.properties.get("Warranty Expires").is_some()),
        "agent devices carry them too"
    );
    assert!(custom.iter().any(|a| {
        a.properties
            .as_object()
            .is_some_and(|o| o.values().any(Value::is_null))
    }));
}

#[test]
fn generating_twenty_thousand_assets_is_quick() {
    let start = std::time::Instant::now();
    let sim = SyncroSim::new(opts(1, 100, 200));
    let took = start.elapsed();
    assert!(sim.assets().len() >= 20_000);
    // Well under a second in release; debug builds get slack.
    let budget = if cfg!(debug_assertions) { 10 } else { 1 };
    assert!(took < Duration::from_secs(budget), "took {took:?}");
}

#[tokio::test]
async fn paging_returns_every_asset_exactly_once() {
    let h = Harness::new(opts(7, 6, 37)).await;
    let expected: Vec<i64> = h.sim.assets().into_iter().map(|a| a.id).collect();
    // The default page size (50), and a client-chosen one.
    for (path, size) in [
        (ASSETS.to_owned(), 50),
        (format!("{ASSETS}?per_page=17"), 17),
    ] {
        let pages = h.pages(&path, "assets").await;
        assert_eq!(ids(&pages, "assets"), expected);
        assert_eq!(pages.len(), expected.len().div_ceil(size));
        for p in &pages {
            assert_eq!(p["meta"]["per_page"].as_u64(), Some(size as u64));
            assert_eq!(
                p["meta"]["total_entries"].as_u64(),
                Some(expected.len() as u64)
            );
        }
    }
    // `per_page` is capped at 100.
    let big = h.json(&format!("{ASSETS}?per_page=1000")).await;
    assert_eq!(big["assets"].as_array().map(Vec::len), Some(100));
    assert_eq!(big["meta"]["per_page"], 100);
    // Past the end: 200, empty, consistent meta.
    let past = h.json(&format!("{ASSETS}?page=99")).await;
    assert_eq!(past["assets"], serde_json::json!([]));
    assert_eq!(past["meta"]["page"], 99);
    assert_eq!(
        past["meta"]["total_pages"].as_u64(),
        Some(expected.len().div_ceil(50) as u64)
    );
    // Nonsense pages read as page 1.
    for p in ["0", "-3", "two", ""] {
        let first = h.json(&format!("{ASSETS}?page={p}")).await;
        assert_eq!(first["meta"]["page"], 1, "page={p}");
        assert_eq!(first["assets"][0]["id"].as_i64(), expected.first().copied());
    }
    // Customers page the same way.
    let pages = h
        .pages(&format!("{CUSTOMERS}?per_page=2"), "customers")
        .await;
    let want: Vec<i64> = h
        .sim
        .customers()
        .iter()
        .filter(|c| !c.disabled)
        .map(|c| c.id)
        .collect();
    assert_eq!(ids(&pages, "customers"), want);
}

#[tokio::test]
async fn asset_filters_select_what_they_name() {
    let h = Harness::new(opts(11, 8, 40)).await;
    let all = h.sim.assets();
    let check = |pages: Vec<Value>, want: Vec<i64>, what: &str| {
        assert!(!want.is_empty(), "{what}: nothing to find");
        assert_eq!(ids(&pages, "assets"), want, "{what}");
    };
    let customer = h.sim.customers()[2].id;
    let pages = h
        .pages(
            &format!("{ASSETS}?customer_id={customer}&per_page=7"),
            "assets",
        )
        .await;
    check(
        pages,
        all.iter()
            .filter(|a| a.customer_id == customer)
            .map(|a| a.id)
            .collect(),
        "customer_id",
    );

    let (type_id, _) = h
        .sim
        .asset_types()
        .into_iter()
        .find(|(_, n)| n == "Syncro Device")
        .expect("type");
    let pages = h
        .pages(&format!("{ASSETS}?asset_type_id={type_id}"), "assets")
        .await;
    check(
        pages,
        all.iter()
            .filter(|a| a.asset_type == "Syncro Device")
            .map(|a| a.id)
            .collect(),
        "asset_type_id",
    );
    let pages = h
        .pages(
            &format!("{ASSETS}?asset_type_id={type_id}&customer_id={customer}&per_page=3"),
            "assets",
        )
        .await;
    check(
        pages,
        all.iter()
            .filter(|a| a.asset_type == "Syncro Device" && a.customer_id == customer)
            .map(|a| a.id)
            .collect(),
        "type and customer",
    );
    let pages = h
        .pages(&format!("{ASSETS}?snmp_enabled=true"), "assets")
        .await;
    check(
        pages,
        all.iter()
            .filter(|a| a.snmp_enabled == Some(true))
            .map(|a| a.id)
            .collect(),
        "snmp_enabled",
    );
    let pages = h.pages(&format!("{ASSETS}?query=desktop-"), "assets").await;
    check(
        pages,
        all.iter()
            .filter(|a| a.name.to_lowercase().contains("desktop-"))
            .map(|a| a.id)
            .collect(),
        "query",
    );
    // Filters that name nothing give an empty list, not an error; unknown parameters are ignored.
    for q in [
        "customer_id=1",
        "customer_id=abc",
        "asset_type_id=5",
        "query=zzzzzz",
    ] {
        let page = h.json(&format!("{ASSETS}?{q}")).await;
        assert_eq!(page["assets"], serde_json::json!([]), "{q}");
        assert_eq!(page["meta"]["total_pages"], 1, "{q}");
        assert_eq!(page["meta"]["total_entries"], 0, "{q}");
    }
    let page = h
        .json(&format!("{ASSETS}?sort=name&since_updated_at=2020-01-01"))
        .await;
    assert_eq!(
        page["meta"]["total_entries"].as_u64(),
        Some(all.len() as u64)
    );
}

#[tokio::test]
async fn customers_list_filters_and_details() {
    let h = Harness::new(opts(9, 24, 2)).await;
    let customers = h.sim.customers();
    let enabled: Vec<i64> = customers
        .iter()
        .filter(|c| !c.disabled)
        .map(|c| c.id)
        .collect();
    let page = h.json(CUSTOMERS).await;
    assert_eq!(ids(std::slice::from_ref(&page), "customers"), enabled);
    assert_eq!(page["meta"]["per_page"], 100);
    let all = h.json(&format!("{CUSTOMERS}?include_disabled=true")).await;
    assert_eq!(ids(&[all], "customers").len(), customers.len());

    let target = customers
        .iter()
        .find(|c| c.business_name.is_some() && !c.disabled)
        .expect("business");
    let needle = target.business_name.clone().unwrap_or_default();
    let needle = &needle[..needle.len().min(6)].to_uppercase();
    let found = h
        .json(&format!("{CUSTOMERS}?business_name={}", urlencode(needle)))
        .await;
    assert!(ids(&[found], "customers").contains(&target.id));
    let two = h
        .json(&format!(
            "{CUSTOMERS}?id[]={}&id[]={}",
            enabled[0], enabled[1]
        ))
        .await;
    assert_eq!(ids(&[two], "customers"), enabled[..2].to_vec());
    let sorted = h
        .json(&format!("{CUSTOMERS}?sort=business_then_name%20DESC"))
        .await;
    let names: Vec<String> = sorted["customers"]
        .as_array()
        .expect("array")
        .iter()
        .map(|c| {
            c["business_then_name"]
                .as_str()
                .unwrap_or("")
                .to_lowercase()
        })
        .collect();
    assert!(names.windows(2).all(|w| w[0] >= w[1]), "{names:?}");

    let one = h.json(&format!("{CUSTOMERS}/{}", target.id)).await;
    assert_eq!(one["customer"], page_customer(&h, target.id).await);
    assert_eq!(one["customer"]["contacts"], serde_json::json!([]));
    let (status, _, body) = h.get(&format!("{CUSTOMERS}/1")).await;
    assert_eq!(
        (status, body_json(&body)),
        (404, serde_json::json!({"message": "Not found"}))
    );
    let (status, _, body) = h.get(&format!("{CUSTOMERS}/nope")).await;
    assert_eq!(
        (status, body_json(&body)["message"].clone()),
        (404, "Not found".into())
    );
    // A disabled customer can still be fetched by id.
    let gone = customers.iter().find(|c| c.disabled).expect("disabled");
    assert_eq!(
        h.json(&format!("{CUSTOMERS}/{}", gone.id)).await["customer"]["disabled"],
        true
    );
}

async fn page_customer(h: &Harness, id: i64) -> Value {
    let list = h.json(&format!("{CUSTOMERS}?id={id}")).await;
    list["customers"][0].clone()
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn asset_documents_have_syncro_shapes() {
    let h = Harness::new(opts(7, 4, 30)).await;
    let page = h.json(&format!("{ASSETS}?per_page=100")).await;
    let first = &page["assets"][0];
    for key in [
        "id",
        "name",
        "customer_id",
        "contact_id",
        "created_at",
        "updated_at",
        "properties",
        "asset_type",
        "asset_serial",
        "external_rmm_link",
        "customer",
        "rmm_links",
        "rmm_store",
        "address",
        "has_live_chat",
        "snmp_enabled",
    ] {
        assert!(first.get(key).is_some(), "{key} missing");
    }
    let customer = first["customer"].as_object().expect("nested customer");
    assert!(!customer.contains_key("contacts") && !customer.contains_key("location_name"));
    assert!(customer.contains_key("business_then_name"));
    let ts = first["created_at"].as_str().expect("string");
    assert!(
        ts.len() == 24 && ts.ends_with('Z') && &ts[19..20] == ".",
        "{ts}"
    );
    assert_eq!(first["rmm_store"]["asset_id"], first["id"]);
    assert_eq!(first["rmm_store"]["triggers"]["bsod_triggered"], "false");
    assert_eq!(page["meta"]["total_entries"].as_u64(), Some(120));

    // The detail is the same object, wrapped.
    for a in page["assets"].as_array().expect("array").iter().take(10) {
        let one = h.json(&format!("{ASSETS}/{}", a["id"])).await;
        assert_eq!(&one["asset"], a);
    }
    let (status, ct, body) = h.get(&format!("{ASSETS}/1")).await;
    assert_eq!(
        (status, ct.as_str()),
        (404, "application/json; charset=utf-8")
    );
    assert_eq!(
        body_json(&body),
        serde_json::json!({"error": "Asset not found"})
    );
    assert_eq!(h.get(&format!("{ASSETS}/x1")).await.0, 404);
    // Unknown paths are 404 even without a token (routing comes before auth).
    for path in [
        "/api/v1/assets",
        "/api/v2/customer_assets",
        "/",
        "/api/v1/customers/1/phones",
    ] {
        let (status, _, body) = h.send(h.http.get(h.url(path))).await;
        assert_eq!(
            (status, body_json(&body)),
            (404, serde_json::json!({"message": "Not found"})),
            "{path}"
        );
    }
    // Same bytes twice (the rendering is cached, not regenerated differently).
    let (_, _, a) = h.get(&format!("{ASSETS}?page=2")).await;
    let (_, _, b) = h.get(&format!("{ASSETS}?page=2")).await;
    assert_eq!(a, b);
}

#[tokio::test]
async fn the_three_token_forms_work_and_bad_tokens_get_401() {
    let h = Harness::new(opts(7, 2, 3)).await;
    let key = h.sim.api_key();
    let url = h.url(ASSETS);
    let ok = [
        h.http.get(&url).bearer_auth(&key),
        h.http
            .get(&url)
            .header("Authorization", format!("bearer {key}")),
        h.http
            .get(&url)
            .header("Authorization", format!("BEARER  {key} ")),
        h.http.get(&url).header("Authorization", key.clone()),
        h.http.get(format!("{url}?api_key={key}&page=1")),
        h.http.get(format!("{url}?page=1&api_key={key}")),
    ];
    for req in ok {
        let (status, _, body) = h.send(req).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    }
    let bad = [
        h.http.get(&url),
        h.http.get(&url).bearer_auth("T0000"),
        h.http
            .get(&url)
            .header("Authorization", format!("Basic {key}")),
        h.http.get(format!("{url}?api_key=")),
        h.http.get(format!("{url}?api_key={key}x")),
        // A header, when sent, is what counts.
        h.http
            .get(format!("{url}?api_key={key}"))
            .bearer_auth("wrong"),
        h.http.get(h.url("/api/v1/me")),
        h.http.get(h.url(CUSTOMERS)).bearer_auth("wrong"),
    ];
    for req in bad {
        let (status, ct, body) = h.send(req).await;
        assert_eq!(status, 401);
        assert_eq!(ct, "application/json; charset=utf-8");
        assert_eq!(
            body_json(&body),
            serde_json::json!({ "error": NOT_AUTHORIZED })
        );
    }
}

#[tokio::test]
async fn the_limited_token_cannot_read_assets() {
    let h = Harness::new(opts(7, 2, 3)).await;
    let limited = h.sim.limited_api_key();
    let asset = h.sim.assets()[0].id;
    for path in [
        ASSETS.to_owned(),
        format!("{ASSETS}/{asset}"),
        format!("{ASSETS}?page=2"),
    ] {
        let (status, _, body) = h.send(h.http.get(h.url(&path)).bearer_auth(&limited)).await;
        assert_eq!(status, 401, "{path}");
        assert_eq!(
            body_json(&body),
            serde_json::json!({ "error": PERMISSION_MESSAGE })
        );
    }
    let (status, _, body) = h
        .send(h.http.get(h.url(CUSTOMERS)).bearer_auth(&limited))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body_json(&body)["customers"].as_array().map(Vec::len),
        Some(2)
    );
    let (status, _, body) = h
        .send(h.http.get(h.url("/api/v1/me")).bearer_auth(&limited))
        .await;
    assert_eq!(status, 200);
    let me = body_json(&body);
    assert_eq!(me["permissions"]["asset"]["read"], false);
    assert_eq!(me["subdomain"], "acme");
    let me = h.json("/api/v1/me").await;
    assert_eq!(
        (
            me["permissions"]["asset"]["read"].clone(),
            me["admin"].clone()
        ),
        (true.into(), true.into())
    );
}

#[tokio::test]
async fn a_burst_over_the_limit_gets_429_and_pacing_at_it_never_does() {
    let sim = SyncroSim::with_clock(
        SyncroSimOptions {
            requests_per_minute: 60,
            ..opts(7, 1, 2)
        },
        Clock::manual(),
    );
    let h = Harness::with_sim(sim).await;
    let clock = &h.sim.inner.clock;
    // Pacing at exactly 60/min (one request per second of the simulator's clock) for three
    // minutes, through successes, 401s and 404s alike, is never refused.
    for i in 0..180 {
        let path = match i % 3 {
            0 => ASSETS,
            1 => "/api/v1/nothing",
            _ => CUSTOMERS,
        };
        let req = if i % 5 == 0 {
            h.http.get(h.url(path))
        } else {
            h.http.get(h.url(path)).bearer_auth(h.sim.api_key())
        };
        let (status, _, _) = h.send(req).await;
        assert_ne!(status, 429, "request {i}");
        clock.advance(Duration::from_secs(1));
    }
    assert_eq!(h.sim.rate_limited_count(), 0);

    // A burst: the last 60 s hold 59 of those, so one more passes, then 429s, which every
    // path gets, with a JSON body and no Retry-After by default.
    assert_eq!(h.get(ASSETS).await.0, 200);
    for path in [ASSETS, CUSTOMERS, "/api/v1/nothing"] {
        let (status, ct, body) = h.get(path).await;
        assert_eq!(
            (status, ct.as_str()),
            (429, "application/json; charset=utf-8")
        );
        assert!(
            body_json(&body)["error"]
                .as_str()
                .is_some_and(|e| e.contains("60 requests per minute"))
        );
    }
    let resp = h.http.get(h.url(ASSETS)).send().await.expect("send");
    assert!(resp.status().as_u16() == 429 && resp.headers().get("retry-after").is_none());
    assert_eq!(h.sim.rate_limited_count(), 4);

    // With Retry-After on: the oldest request in the window (sent at t=121 s; now is 180 s)
    // leaves it at 181 s.
    h.sim.set_retry_after(true);
    let resp = h.http.get(h.url(ASSETS)).send().await.expect("send");
    assert_eq!(
        (resp.status().as_u16(), header(&resp, "retry-after")),
        (429, "1".to_owned())
    );
    clock.advance(Duration::from_millis(999));
    assert_eq!(h.get(ASSETS).await.0, 429);
    clock.advance(Duration::from_millis(1));
    assert_eq!(h.get(ASSETS).await.0, 200);

    // Raising the limit takes effect at once; 0 turns it off.
    h.sim.set_requests_per_minute(0);
    for _ in 0..100 {
        assert_eq!(h.get(ASSETS).await.0, 200);
    }
    assert_eq!(h.sim.rate_limited_count(), 6);
    assert_eq!(h.sim.request_count(), 180 + 1 + 3 + 1 + 3 + 100);
}

#[tokio::test]
async fn the_default_limit_is_180_per_minute() {
    let h = Harness::new(SyncroSimOptions {
        requests_per_minute: SyncroSimOptions::default().requests_per_minute,
        ..opts(7, 1, 1)
    })
    .await;
    let mut statuses = Vec::new();
    for _ in 0..185 {
        statuses.push(h.send(h.http.get(h.url("/api/v1/me"))).await.0);
    }
    assert!(statuses[..180].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[180..].iter().all(|s| *s == 429), "{statuses:?}");
    assert_eq!(h.sim.rate_limited_count(), 5);
}

#[tokio::test]
async fn mutations_show_in_the_api() {
    let h = Harness::new(opts(7, 3, 10)).await;
    let customer = h.sim.customers()[1].id;
    let before: Vec<i64> = h.sim.assets().iter().map(|a| a.id).collect();

    let added = h.sim.add_asset(customer).expect("customer exists");
    assert!(added > *before.iter().max().expect("assets"));
    assert!(h.sim.add_asset(1).is_none());
    let a = h.sim.asset(added).expect("added");
    assert!(a.created_at > epoch() && a.updated_at == a.created_at);
    let pages = h.pages(ASSETS, "assets").await;
    let got = ids(&pages, "assets");
    assert_eq!(got.last(), Some(&added));
    assert_eq!(got.len(), before.len() + 1);

    let id = before[3];
    let old = h.json(&format!("{ASSETS}/{id}")).await;
    assert!(h.sim.update_asset(id, |a| {
        a.name = "Renamed".into();
        a.asset_serial = None;
        a.asset_type = "Tablet".into();
        a.id = 5;
    }));
    let new = h.json(&format!("{ASSETS}/{id}")).await;
    assert_eq!(new["asset"]["name"], "Renamed");
    assert_eq!(new["asset"]["asset_serial"], Value::Null);
    assert_eq!(new["asset"]["asset_type"], "Tablet");
    assert!(new["asset"]["updated_at"].as_str() > old["asset"]["updated_at"].as_str());
    assert_eq!(new["asset"]["created_at"], old["asset"]["created_at"]);
    let tablet = h
        .sim
        .asset_types()
        .into_iter()
        .find(|(_, n)| n == "Tablet")
        .expect("new type")
        .0;
    let listed = h.json(&format!("{ASSETS}?asset_type_id={tablet}")).await;
    assert_eq!(ids(&[listed], "assets"), vec![id]);
    // Moving to another customer re-renders the nested customer.
    let other = h.sim.customers()[2].id;
    assert!(h.sim.update_asset(id, |a| a.customer_id = other));
    let moved = h.json(&format!("{ASSETS}/{id}")).await;
    assert_eq!(moved["asset"]["customer"]["id"], other);
    assert!(h.sim.update_asset(id, |a| a.customer_id = 42));
    assert_eq!(h.sim.asset(id).map(|a| a.customer_id), Some(other));
    assert!(!h.sim.update_asset(1, |_| {}));

    assert!(h.sim.remove_asset(id));
    assert!(!h.sim.remove_asset(id));
    assert_eq!(h.get(&format!("{ASSETS}/{id}")).await.0, 404);
    let ids_now = ids(&h.pages(ASSETS, "assets").await, "assets");
    assert!(!ids_now.contains(&id) && ids_now.len() == before.len());

    let old_key = h.sim.api_key();
    let new_key = h.sim.rotate_key();
    assert_ne!(old_key, new_key);
    let (status, _, _) = h
        .send(h.http.get(h.url(ASSETS)).bearer_auth(&old_key))
        .await;
    assert_eq!(status, 401);
    let (status, _, _) = h
        .send(h.http.get(h.url(ASSETS)).bearer_auth(&new_key))
        .await;
    assert_eq!(status, 200);
    let (status, _, _) = h
        .send(
            h.http
                .get(h.url(CUSTOMERS))
                .bearer_auth(h.sim.limited_api_key()),
        )
        .await;
    assert_eq!(status, 200, "the limited token is not rotated");
}

#[tokio::test]
async fn faults_apply_after_the_limiter_and_before_handling() {
    let h = Harness::new(opts(7, 2, 5)).await;
    let plan = h.sim.faults();

    plan.push(FaultRule::times(
        Fault::Status429 {
            retry_after: Some(7),
        },
        1,
    ));
    let resp = h.http.get(h.url(ASSETS)).send().await.expect("send");
    assert_eq!(
        (resp.status().as_u16(), header(&resp, "retry-after")),
        (429, "7".to_owned())
    );
    assert!(resp.json::<Value>().await.expect("json")["error"].is_string());
    plan.push(FaultRule::times(Fault::Status429 { retry_after: None }, 1));
    let resp = h.http.get(h.url(ASSETS)).send().await.expect("send");
    assert!(resp.status().as_u16() == 429 && resp.headers().get("retry-after").is_none());
    assert_eq!(
        h.sim.rate_limited_count(),
        0,
        "injected 429s are not the limiter's"
    );

    plan.push(FaultRule::times(Fault::ServerError(500), 1));
    let (status, _, body) = h.get(ASSETS).await;
    assert_eq!((status, body.len()), (500, 0));
    for code in [502, 503] {
        plan.push(FaultRule::times(Fault::ServerError(code), 1));
        let (status, ct, _) = h.get(ASSETS).await;
        assert_eq!((status, ct.starts_with("text/html")), (code, true));
    }
    plan.push(FaultRule::times(Fault::TruncatedJson, 1));
    let (status, _, body) = h.get(ASSETS).await;
    assert_eq!(status, 200);
    assert!(!body.is_empty() && serde_json::from_slice::<Value>(&body).is_err());
    plan.push(FaultRule::times(Fault::InvalidJson, 1));
    let (status, ct, body) = h.get(ASSETS).await;
    assert_eq!(
        (status, ct.as_str()),
        (200, "application/json; charset=utf-8")
    );
    assert!(serde_json::from_slice::<Value>(&body).is_err());
    plan.push(FaultRule::times(Fault::WrongContentType, 1));
    let (status, ct, body) = h.get(ASSETS).await;
    assert_eq!((status, ct.as_str()), (200, "text/html; charset=utf-8"));
    assert!(String::from_utf8_lossy(&body).contains("Log In | Syncro"));
    plan.push(FaultRule::times(Fault::Unauthorized, 1));
    let (status, _, body) = h.get(ASSETS).await;
    assert_eq!(
        (status, body_json(&body)),
        (401, serde_json::json!({ "error": NOT_AUTHORIZED }))
    );
    plan.push(FaultRule::times(
        Fault::PlainText {
            status: 200,
            body: "Disabled".into(),
        },
        1,
    ));
    let (status, ct, body) = h.get(ASSETS).await;
    assert_eq!(
        (status, ct.as_str(), body.as_slice()),
        (200, "text/plain; charset=utf-8", &b"Disabled"[..])
    );
    plan.push(FaultRule::times(
        Fault::PlainText {
            status: 500,
            body: "Internal Server Error".into(),
        },
        1,
    ));
    assert_eq!(h.get(ASSETS).await.0, 500);

    // A path-restricted rule leaves other paths alone and is used up.
    plan.push(FaultRule::times(Fault::ServerError(502), 2).on(ASSETS));
    assert_eq!(h.get(CUSTOMERS).await.0, 200);
    assert_eq!(h.get(ASSETS).await.0, 502);
    assert_eq!(h.get(&format!("{ASSETS}/1")).await.0, 502);
    assert_eq!(h.get(ASSETS).await.0, 200);

    let quick = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    plan.push(FaultRule::times(Fault::Hang, 1));
    let err = quick
        .get(h.url(ASSETS))
        .bearer_auth(h.sim.api_key())
        .send()
        .await
        .expect_err("hangs");
    assert!(err.is_timeout());
    plan.push(FaultRule::times(Fault::SlowBody, 1));
    let resp = quick
        .get(h.url(ASSETS))
        .bearer_auth(h.sim.api_key())
        .send()
        .await
        .expect("headers arrive");
    assert_eq!(resp.status().as_u16(), 200);
    assert!(resp.bytes().await.expect_err("body stalls").is_timeout());

    assert!(plan.rules().is_empty());
    assert_eq!(h.get(ASSETS).await.0, 200);
    assert_eq!(h.sim.request_count(), 18);
    assert_eq!(h.sim.requests_for(ASSETS), 17);
    assert_eq!(h.sim.requests_for(CUSTOMERS), 1);
}

#[tokio::test]
async fn the_limiter_refuses_before_a_fault_is_used() {
    let sim = SyncroSim::with_clock(
        SyncroSimOptions {
            requests_per_minute: 1,
            ..opts(7, 1, 1)
        },
        Clock::manual(),
    );
    let h = Harness::with_sim(sim).await;
    assert_eq!(h.get(ASSETS).await.0, 200);
    h.sim
        .faults()
        .push(FaultRule::times(Fault::ServerError(503), 1));
    assert_eq!(h.get(ASSETS).await.0, 429);
    assert_eq!(
        h.sim.faults().rules().len(),
        1,
        "the fault waits for an admitted request"
    );
    h.sim.inner.clock.advance(Duration::from_secs(60));
    assert_eq!(h.get(ASSETS).await.0, 503);
}

#[tokio::test]
async fn control_surface_mirrors_the_api() {
    let h = Harness::new(opts(7, 2, 5)).await;
    let base = h.server.base_url.clone();
    let call = |method: reqwest::Method, path: &str, body: Option<Value>| {
        let mut req = h.http.request(method, format!("{base}/_sim{path}"));
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send()
    };
    let state: Value = call(reqwest::Method::GET, "/state", None)
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(state["vendor"], "syncro");
    assert_eq!(state["assets"], 10);
    assert_eq!(state["customers"], 2);
    assert_eq!(state["requests_per_minute"], 0);
    assert_eq!(state["asset_types"].as_array().map(Vec::len), Some(12));

    let customer = h.sim.customers()[0].id;
    let resp = call(
        reqwest::Method::POST,
        "/assets",
        Some(serde_json::json!({ "customer_id": customer })),
    )
    .await
    .expect("send");
    assert_eq!(resp.status().as_u16(), 201);
    let created: Value = resp.json().await.expect("json");
    let id = created["id"].as_i64().expect("id");
    assert_eq!(created["asset"]["customer_id"], customer);

    let resp = call(
        reqwest::Method::PATCH,
        &format!("/assets/{id}"),
        Some(serde_json::json!({
            "name": "Front desk & lobby, AP #2",
            "asset_serial": null,
            "properties": { "Notes": "a", "notes": "b", "MAC Address": null },
            "snmp_enabled": null,
            "contact_id": 9000001,
        })),
    )
    .await
    .expect("send");
    assert_eq!(resp.status().as_u16(), 200);
    let one = h.json(&format!("{ASSETS}/{id}")).await;
    assert_eq!(one["asset"]["name"], "Front desk & lobby, AP #2");
    assert_eq!(one["asset"]["properties"]["notes"], "b");
    assert_eq!(one["asset"]["contact_id"], 9_000_001);
    for bad in [
        serde_json::json!({ "nope": 1 }),
        serde_json::json!({ "asset_type": " " }),
        serde_json::json!({ "properties": [] }),
        serde_json::json!({ "customer_id": 5 }),
    ] {
        let resp = call(
            reqwest::Method::PATCH,
            &format!("/assets/{id}"),
            Some(bad.clone()),
        )
        .await
        .expect("send");
        assert_eq!(resp.status().as_u16(), 400, "{bad}");
    }
    let resp = call(reqwest::Method::DELETE, &format!("/assets/{id}"), None)
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 204);
    let resp = call(reqwest::Method::GET, &format!("/assets/{id}"), None)
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 404);

    let rotated: Value = call(reqwest::Method::POST, "/rotate-key", None)
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(rotated["api_key"].as_str(), Some(h.sim.api_key().as_str()));

    let settings: Value = call(
        reqwest::Method::PUT,
        "/rate-limit",
        Some(serde_json::json!({ "requests_per_minute": 2, "retry_after": true })),
    )
    .await
    .expect("send")
    .json()
    .await
    .expect("json");
    assert_eq!(
        (
            settings["requests_per_minute"].clone(),
            settings["retry_after"].clone()
        ),
        (2.into(), true.into())
    );
    assert_eq!(h.get(CUSTOMERS).await.0, 200);
    assert_eq!(h.get(CUSTOMERS).await.0, 200);
    let resp = h.http.get(h.url(CUSTOMERS)).send().await.expect("send");
    assert_eq!(resp.status().as_u16(), 429);
    assert!(
        header(&resp, "retry-after")
            .parse::<u64>()
            .is_ok_and(|s| (1..=60).contains(&s))
    );
    // The control surface itself is never limited.
    let resp = call(
        reqwest::Method::PUT,
        "/rate-limit",
        Some(serde_json::json!({ "requests_per_minute": 0 })),
    )
    .await
    .expect("send");
    assert_eq!(resp.status().as_u16(), 200);
    let resp = call(
        reqwest::Method::PUT,
        "/rate-limit",
        Some(serde_json::json!({ "requests_per_minute": -1 })),
    )
    .await
    .expect("send");
    assert_eq!(resp.status().as_u16(), 400);

    let resp = call(
        reqwest::Method::POST,
        "/faults",
        Some(serde_json::json!({ "fault": { "kind": "plain_text", "body": "Disabled" }, "times": 1 })),
    )
    .await
    .expect("send");
    assert_eq!(resp.status().as_u16(), 201);
    let (status, _, body) = h.get(CUSTOMERS).await;
    assert_eq!((status, body.as_slice()), (200, &b"Disabled"[..]));
    let resp = call(
        reqwest::Method::POST,
        "/faults",
        Some(serde_json::json!({ "fault": { "kind": "nope" } })),
    )
    .await
    .expect("send");
    assert_eq!(resp.status().as_u16(), 400);
    let list: Value = call(reqwest::Method::GET, "/customers", None)
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(list.as_array().map(Vec::len), Some(2));
    assert!(list[0]["shared_name"].is_string());
}

#[tokio::test]
async fn dropping_the_server_stops_it() {
    let h = Harness::new(opts(7, 1, 1)).await;
    let url = h.url(ASSETS);
    let key = h.sim.api_key();
    h.sim.faults().push(FaultRule::always(Fault::Hang));
    let hung = tokio::spawn({
        let http = h.http.clone();
        let (url, key) = (url.clone(), key.clone());
        async move { http.get(url).bearer_auth(key).send().await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(h.server);
    let ended = tokio::time::timeout(Duration::from_secs(5), hung).await;
    assert!(ended.is_ok(), "a hung request ends when the server stops");
    assert!(h.http.get(url).bearer_auth(key).send().await.is_err());
}

#[tokio::test]
async fn pages_of_a_large_account_are_quick_to_serve() {
    let h = Harness::new(opts(1, 50, 200)).await;
    let total = h.sim.assets().len();
    let start = std::time::Instant::now();
    let pages = h.pages(&format!("{ASSETS}?per_page=100"), "assets").await;
    assert_eq!(ids(&pages, "assets").len(), total);
    let budget = if cfg!(debug_assertions) { 30 } else { 3 };
    assert!(
        start.elapsed() < Duration::from_secs(budget),
        "took {:?}",
        start.elapsed()
    );
    // Once rendered, a late page costs no more than an early one: both are slices.
    let t = std::time::Instant::now();
    for _ in 0..20 {
        h.get(&format!("{ASSETS}?page=1")).await;
    }
    let early = t.elapsed();
    let t = std::time::Instant::now();
    let last = total.div_ceil(50);
    for _ in 0..20 {
        h.get(&format!("{ASSETS}?page={last}")).await;
    }
    let late = t.elapsed();
    assert!(
        late < early * 4 + Duration::from_millis(50),
        "early {early:?}, late {late:?}"
    );
}

/// The keys of a JSON object, recursively (`a.b.c`), so two records can be compared by shape.
fn shape_of(v: &Value) -> std::collections::BTreeSet<String> {
    fn walk(v: &Value, at: &str, out: &mut std::collections::BTreeSet<String>) {
        if let Value::Object(m) = v {
            for (k, x) in m {
                let path = format!("{at}.{k}");
                out.insert(path.clone());
                walk(x, &path, out);
            }
        }
    }
    let mut out = std::collections::BTreeSet::new();
    walk(v, "", &mut out);
    out
}

#[tokio::test]
async fn added_customers_are_listed_like_seeded_ones() {
    let h = Harness::new(opts(7, 3, 4)).await;
    let before = h.sim.customers();
    let max = before.iter().map(|c| c.id).max().expect("seeded customers");
    let name = "Known Answer Labs & Co.";
    let id = h.sim.add_customer(name);
    assert!(id > max, "the sequence goes on: {id} after {max}");
    let second = h.sim.add_customer("Second Known Answer");
    assert!(second > id);
    let c = h
        .sim
        .customers()
        .into_iter()
        .find(|c| c.id == id)
        .expect("held");
    assert_eq!(c.business_name.as_deref(), Some(name));
    assert_eq!(c.business_then_name, name);
    assert!(c.business_and_full_name.starts_with(&format!("{name} - ")));
    assert!(!c.disabled);
    assert_eq!(c.shared_name, None);
    assert!(c.created_at > epoch(), "created now, after the seeded data");

    // Listed by `/customers` (id order: last two), shaped like a seeded business customer.
    let page = h.json(CUSTOMERS).await;
    let listed = ids(std::slice::from_ref(&page), "customers");
    assert_eq!(&listed[listed.len() - 2..], &[id, second]);
    let list = page["customers"].as_array().expect("customers");
    let mine = list.iter().find(|x| x["id"] == id).expect("listed");
    assert_eq!(mine["business_name"], name);
    assert_eq!(mine["business_then_name"], name);
    assert_eq!(mine["disabled"], false);
    let seeded = list
        .iter()
        .find(|x| x["business_name"].is_string() && x["id"] != id && x["id"] != second)
        .expect("a seeded business");
    assert_eq!(shape_of(mine), shape_of(seeded));
    let found = h
        .json(&format!(
            "{CUSTOMERS}?business_name={}",
            urlencode("known answer labs")
        ))
        .await;
    assert_eq!(ids(&[found], "customers"), [id]);
    let one = h.json(&format!("{CUSTOMERS}/{id}")).await;
    assert_eq!(one["customer"]["business_name"], name);

    // Assets added to it take every identifying field a test sets.
    let fw = h.sim.add_asset(id).expect("customer exists");
    let pc = h.sim.add_asset(id).expect("customer exists");
    assert!(h.sim.update_asset(fw, |a| {
        a.asset_type = "Firewall".to_owned();
        a.asset_serial = Some("FGT60FTK20000001".to_owned());
        a.properties = serde_json::json!({
            "Make": "Fortinet",
            "Model": "FortiGate 60F",
            "MAC Address": "00:09:0F:AA:00:01",
        });
    }));
    assert!(h.sim.update_asset(pc, |a| {
        a.name = "KAL-WS001".to_owned();
        a.asset_type = "Syncro Device".to_owned();
        a.asset_serial = None;
        a.properties = serde_json::json!({
            "kabuto_information": {
                "last_synced_at": "2025-05-31T12:00:00.000Z",
                "general": {
                    "name": "KAL-WS001",
                    "manufacturer": "Dell Inc.",
                    "model": "OptiPlex 7010",
                    "serial_number": "7K2QJH3",
                    "form_factor": "Desktop",
                },
                "os": { "name": "Microsoft Windows 11 Pro" },
                "network_adapters": [{ "physical_address": "D4:81:D7:00:00:01", "ipv4": "10.9.0.20" }],
            },
        });
    }));
    let assets = h.json(&format!("{ASSETS}?customer_id={id}")).await;
    let list = assets["assets"].as_array().expect("assets");
    assert_eq!(list.len(), 2);
    let by_id = |want: i64| {
        list.iter()
            .find(|a| a["id"] == want)
            .cloned()
            .expect("listed")
    };
    let f = by_id(fw);
    assert_eq!(f["customer_id"], id);
    assert_eq!(f["customer"]["business_name"], name);
    assert_eq!(f["asset_type"], "Firewall");
    assert_eq!(f["asset_serial"], "FGT60FTK20000001");
    assert_eq!(f["properties"]["MAC Address"], "00:09:0F:AA:00:01");
    assert_eq!(f["properties"]["Make"], "Fortinet");
    let p = by_id(pc);
    assert_eq!(p["name"], "KAL-WS001");
    assert_eq!(p["asset_type"], "Syncro Device");
    assert_eq!(p["asset_serial"], Value::Null);
    let k = &p["properties"]["kabuto_information"];
    assert_eq!(k["general"]["serial_number"], "7K2QJH3");
    assert_eq!(k["general"]["form_factor"], "Desktop");
    assert_eq!(
        k["network_adapters"][0]["physical_address"],
        "D4:81:D7:00:00:01"
    );
    // Shaped like any other asset.
    let seeded = h
        .json(&format!("{ASSETS}?customer_id={}", before[0].id))
        .await;
    let other = &seeded["assets"][0];
    assert_eq!(
        shape_of(&f)
            .into_iter()
            .filter(|k| !k.starts_with(".properties"))
            .collect::<Vec<_>>(),
        shape_of(other)
            .into_iter()
            .filter(|k| !k.starts_with(".properties"))
            .collect::<Vec<_>>()
    );
    // The detail endpoint and the type filter see the pinned values too.
    let one = h.json(&format!("{ASSETS}/{fw}")).await;
    assert_eq!(one["asset"]["asset_serial"], "FGT60FTK20000001");
    let firewall_type = h
        .sim
        .asset_types()
        .into_iter()
        .find(|(_, n)| n == "Firewall")
        .map(|(i, _)| i)
        .expect("type id");
    let typed = h
        .json(&format!(
            "{ASSETS}?customer_id={id}&asset_type_id={firewall_type}"
        ))
        .await;
    assert_eq!(ids(&[typed], "assets"), [fw]);
}

#[tokio::test]
async fn an_account_without_customers_works() {
    let h = Harness::new(opts(7, 0, 0)).await;
    assert!(h.sim.customers().is_empty());
    assert!(h.sim.assets().is_empty());
    for (path, key) in [(CUSTOMERS, "customers"), (ASSETS, "assets")] {
        let page = h.json(path).await;
        assert_eq!(page[key], Value::Array(Vec::new()), "{path}");
        assert_eq!(page["meta"]["total_pages"], 1, "{path}");
        assert_eq!(page["meta"]["total_entries"], 0, "{path}");
    }
    assert_eq!(h.get("/api/v1/me").await.0, 200);

    let a = h.sim.add_customer("Alpha");
    let b = h.sim.add_customer("Beta");
    let asset = h.sim.add_asset(b).expect("customer exists");
    let page = h.json(CUSTOMERS).await;
    assert_eq!(ids(&[page], "customers"), [a, b]);
    let page = h.json(ASSETS).await;
    assert_eq!(ids(&[page], "assets"), [asset]);

    // Customers without assets are fine too.
    let h = Harness::new(opts(7, 4, 0)).await;
    assert!(!h.sim.customers().is_empty());
    assert!(h.sim.assets().is_empty());
    assert_eq!(h.json(ASSETS).await["assets"], Value::Array(Vec::new()));
}

#[tokio::test]
async fn control_surface_adds_customers() {
    let h = Harness::new(opts(7, 2, 1)).await;
    let url = format!("{}/_sim/customers", h.server.base_url);
    let resp = h
        .http
        .post(&url)
        .body(r#"{"business_name":"Smith & Sons Test"}"#)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 201);
    let created: Value = resp.json().await.expect("json");
    let id = created["id"].as_i64().expect("id");
    assert_eq!(created["customer"]["id"], id);
    assert_eq!(created["customer"]["business_name"], "Smith & Sons Test");
    assert_eq!(created["customer"]["disabled"], false);
    let page = h.json(&format!("{CUSTOMERS}?id={id}")).await;
    assert_eq!(page["customers"][0]["business_name"], "Smith & Sons Test");
    let resp = h
        .http
        .post(format!("{}/_sim/assets", h.server.base_url))
        .body(format!("{{\"customer_id\":{id}}}"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 201);

    let count = h.sim.customers().len();
    for bad in [
        "nope",
        "[1]",
        "{}",
        r#"{"business_name":5}"#,
        r#"{"business_name":null}"#,
        r#"{"business_name":"   "}"#,
        r#"{"name":"Right field, wrong key"}"#,
    ] {
        let resp = h.http.post(&url).body(bad).send().await.expect("send");
        assert_eq!(resp.status().as_u16(), 400, "{bad}");
        let body: Value = resp.json().await.expect("json");
        assert!(body["error"].is_string(), "{bad}");
    }
    assert_eq!(h.sim.customers().len(), count, "a bad body adds nothing");
}

// ---- Switches for what real Syncro may do (module docs, "Switches") ----------------------------

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

#[tokio::test]
async fn a_hidden_listing_is_empty_but_assets_stay_readable() {
    let h = Harness::new(opts(7, 2, 10)).await;
    let all: Vec<i64> = h.sim.assets().iter().map(|a| a.id).collect();
    let n = all.len();
    assert!(!h.sim.listing_hidden());

    h.sim.set_listing_hidden(true);
    assert!(h.sim.listing_hidden());
    for page in [1, 2] {
        let v = h.json(&format!("{ASSETS}?page={page}")).await;
        assert_eq!(v["assets"], serde_json::json!([]));
        assert_eq!(
            v["meta"],
            serde_json::json!({"total_pages": 1, "total_entries": 0, "per_page": 50, "page": page})
        );
    }
    let v = h
        .json(&format!("{ASSETS}?customer_id={}", h.sim.customers()[0].id))
        .await;
    assert_eq!(v["meta"]["total_entries"], 0);
    for id in [all[0], all[n - 1]] {
        let one = h.json(&format!("{ASSETS}/{id}")).await;
        assert_eq!(one["asset"]["id"], id);
    }
    h.sim.set_listing_hidden(false);
    assert_eq!(ids(&h.pages(ASSETS, "assets").await, "assets"), all);

    // One asset at a time.
    let gone = all[3];
    assert!(h.sim.hide_asset(gone, true));
    assert!(!h.sim.hide_asset(1, true));
    assert_eq!(h.sim.hidden_assets(), vec![gone]);
    let pages = h.pages(&format!("{ASSETS}?per_page=7"), "assets").await;
    let listed = ids(&pages, "assets");
    assert_eq!(listed.len(), n - 1);
    assert!(!listed.contains(&gone));
    assert_eq!(
        pages[0]["meta"]["total_entries"].as_u64(),
        Some(n as u64 - 1)
    );
    let owner = h.sim.asset(gone).expect("asset").customer_id;
    let by_customer = h
        .json(&format!("{ASSETS}?customer_id={owner}&per_page=100"))
        .await;
    assert!(!ids(&[by_customer], "assets").contains(&gone));
    assert_eq!(
        h.json(&format!("{ASSETS}/{gone}")).await["asset"]["id"],
        gone
    );
    assert!(h.sim.hide_asset(gone, false));
    assert_eq!(ids(&h.pages(ASSETS, "assets").await, "assets"), all);

    // Over HTTP.
    let (status, v) = control(&h, reqwest::Method::PUT, "/listing", r#"{"hidden":true}"#).await;
    assert_eq!((status, v["hidden"].as_bool()), (200, Some(true)));
    assert_eq!(h.json(ASSETS).await["assets"], serde_json::json!([]));
    let (_, v) = control(&h, reqwest::Method::GET, "/listing", "").await;
    assert_eq!(v["hidden"], true);
    control(&h, reqwest::Method::PUT, "/listing", r#"{"hidden":false}"#).await;
    let path = format!("/assets/{gone}/hidden");
    let (status, _) = control(&h, reqwest::Method::PUT, &path, r#"{"hidden":true}"#).await;
    assert_eq!(status, 204);
    assert_eq!(
        h.json(ASSETS).await["meta"]["total_entries"].as_u64(),
        Some(n as u64 - 1)
    );
    let (_, state) = control(&h, reqwest::Method::GET, "/state", "").await;
    assert_eq!(state["hidden_assets"], serde_json::json!([gone]));
    assert_eq!(state["listing_hidden"], false);
    for (path, body, want) in [
        ("/assets/1/hidden", r#"{"hidden":true}"#, 404),
        (path.as_str(), r#"{"hidden":"yes"}"#, 400),
        ("/listing", "{}", 400),
    ] {
        assert_eq!(
            control(&h, reqwest::Method::PUT, path, body).await.0,
            want,
            "{path}"
        );
    }
    // Removing the asset forgets the flag.
    assert!(h.sim.remove_asset(gone));
    assert!(h.sim.hidden_assets().is_empty());
}

/// A page walk with `per_page=10`: the ids in the order seen, and the pages; every page's
/// `total_entries` must be `n`.
async fn walk_by_tens(h: &Harness, n: usize) -> (Vec<i64>, Vec<Value>) {
    let pages = h.pages(&format!("{ASSETS}?per_page=10"), "assets").await;
    for p in &pages {
        assert_eq!(p["meta"]["total_entries"].as_u64(), Some(n as u64));
    }
    (ids(&pages, "assets"), pages)
}

#[tokio::test]
async fn reordering_between_pages_repeats_and_misses_assets() {
    let h = Harness::new(opts(7, 3, 20)).await;
    let all: HashSet<i64> = h.sim.assets().iter().map(|a| a.id).collect();
    let n = all.len();
    let (plain, _) = walk_by_tens(&h, n).await;
    assert_eq!(plain.len(), n);
    assert_eq!(plain.iter().copied().collect::<HashSet<_>>(), all);

    h.sim.set_reorder_between_pages(true);
    assert!(h.sim.reorder_between_pages());
    let before = h.sim.assets();
    let (seen, pages) = walk_by_tens(&h, n).await;
    // Each page is newest first.
    for p in &pages {
        let stamps: Vec<&str> = p["assets"]
            .as_array()
            .expect("assets")
            .iter()
            .map(|a| a["updated_at"].as_str().expect("updated_at"))
            .collect();
        assert!(stamps.windows(2).all(|w| w[0] >= w[1]), "{stamps:?}");
    }
    let unique: HashSet<i64> = seen.iter().copied().collect();
    assert_eq!(seen.len(), n, "as many rows as total_entries promised");
    assert!(unique.len() < n, "some assets were seen twice");
    let missed: Vec<&i64> = all.difference(&unique).collect();
    assert!(!missed.is_empty(), "some assets were never seen");
    // The missed ones checked in during the walk: their `updated_at` moved.
    for id in missed {
        let was = before
            .iter()
            .find(|a| a.id == *id)
            .expect("asset")
            .updated_at;
        assert!(h.sim.asset(*id).expect("asset").updated_at > was);
    }

    // Over HTTP, off again: a walk sees everything once (in id order).
    let (status, v) = control(&h, reqwest::Method::PUT, "/reorder", r#"{"on":false}"#).await;
    assert_eq!((status, v["on"].as_bool()), (200, Some(false)));
    let (again, _) = walk_by_tens(&h, n).await;
    assert_eq!(again, plain);
    let (status, _) = control(&h, reqwest::Method::PUT, "/reorder", r#"{"on":true}"#).await;
    assert_eq!(status, 200);
    assert!(h.sim.reorder_between_pages());
    assert_eq!(
        control(&h, reqwest::Method::GET, "/reorder", "").await.1["on"],
        true
    );
    assert_eq!(
        control(&h, reqwest::Method::PUT, "/reorder", r#"{"on":1}"#)
            .await
            .0,
        400
    );
}

#[tokio::test]
async fn spec_example_paging_has_no_meta_and_ignores_page() {
    let h = Harness::new(opts(7, 3, 30)).await;
    let page2 = h.json(&format!("{ASSETS}?page=2")).await;
    h.sim.set_spec_example_paging(true);
    assert!(h.sim.spec_example_paging());
    let one = h.json(&format!("{ASSETS}?page=1")).await;
    let two = h.json(&format!("{ASSETS}?page=2")).await;
    let obj = one.as_object().expect("object");
    assert_eq!(obj.keys().collect::<Vec<_>>(), vec!["assets"], "no meta");
    assert_eq!(one, two, "page is ignored");
    assert_eq!(one["assets"].as_array().map(Vec::len), Some(50));
    assert_ne!(ids(&[two], "assets"), ids(&[page2], "assets"));
    // Customers keep their meta.
    assert!(h.json(CUSTOMERS).await.get("meta").is_some());

    let (status, v) = control(
        &h,
        reqwest::Method::PUT,
        "/spec-example-paging",
        r#"{"on":false}"#,
    )
    .await;
    assert_eq!((status, v["on"].as_bool()), (200, Some(false)));
    assert_eq!(h.json(&format!("{ASSETS}?page=2")).await["meta"]["page"], 2);
    control(
        &h,
        reqwest::Method::PUT,
        "/spec-example-paging",
        r#"{"on":true}"#,
    )
    .await;
    assert!(h.json(ASSETS).await.get("meta").is_none());
    let (_, state) = control(&h, reqwest::Method::GET, "/state", "").await;
    assert_eq!(state["spec_example_paging"], true);
}

#[tokio::test]
async fn assets_are_looked_up_by_id_as_listed() {
    let h = Harness::new(opts(7, 2, 5)).await;
    let list = h.json(&format!("{ASSETS}?per_page=100")).await;
    let items = list["assets"].as_array().expect("assets");
    for item in items {
        let id = item["id"].as_i64().expect("id");
        let one = h.json(&format!("{ASSETS}/{id}")).await;
        assert_eq!(one.as_object().map(|o| o.len()), Some(1));
        assert_eq!(&one["asset"], item, "the same object as in the list");
    }
    let id = items[0]["id"].as_i64().expect("id");
    assert!(h.sim.remove_asset(id));
    for path in [
        format!("{ASSETS}/{id}"),
        format!("{ASSETS}/1"),
        format!("{ASSETS}/x"),
    ] {
        let (status, ct, body) = h.get(&path).await;
        assert_eq!((status, ct.as_str()), (404, super::api::JSON), "{path}");
        assert_eq!(
            body_json(&body),
            serde_json::json!({"error": "Asset not found"})
        );
    }
}

#[tokio::test]
async fn after_the_window_a_request_succeeds_without_retry_after() {
    let sim = SyncroSim::with_clock(
        SyncroSimOptions {
            requests_per_minute: 5,
            ..opts(7, 1, 2)
        },
        Clock::manual(),
    );
    let h = Harness::with_sim(sim).await;
    let clock = &h.sim.inner.clock;
    assert!(!h.sim.retry_after());
    for _ in 0..5 {
        assert_eq!(h.get(ASSETS).await.0, 200);
        clock.advance(Duration::from_secs(1));
    }
    let resp = h
        .http
        .get(h.url(ASSETS))
        .bearer_auth(h.sim.api_key())
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 429);
    assert!(resp.headers().get("retry-after").is_none());
    // The first request left the window 60 s after it was admitted (at t=0); now is t=5 s.
    clock.advance(Duration::from_millis(54_999));
    assert_eq!(h.get(ASSETS).await.0, 429);
    clock.advance(Duration::from_millis(1));
    assert_eq!(h.get(ASSETS).await.0, 200);
    assert_eq!(h.get(ASSETS).await.0, 429, "the second left at 61 s");
    clock.advance(Duration::from_secs(60));
    for _ in 0..5 {
        assert_eq!(
            h.get(ASSETS).await.0,
            200,
            "a whole window later, all five pass"
        );
    }
}
