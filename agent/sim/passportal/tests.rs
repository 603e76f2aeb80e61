//! Tests of the Passportal simulator, in-process over real HTTP on loopback. The tests play the
//! client themselves (HMAC exchange, `x-access-token`), from the research notes' description.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::api::{
    CLIENTS_PATH, DOCUMENTS_PATH, KEY_VERIFICATION_FAILED, PAGE_NUM_MESSAGE, TOKEN_PATH,
};
use super::auth::hmac_hex;
use super::catalog::ASSET_FIELDS;
use super::seed::html_encode;
use super::*;
use crate::sim::faults::{Fault, FaultRule};
use crate::sim::names;

const ASSETS: &str = "/api/v2/documents?type=asset";

fn opts(seed: u64, clients: usize, per: usize) -> PassportalSimOptions {
    PassportalSimOptions {
        seed,
        clients,
        assets_per_client: per,
        ..Default::default()
    }
}

struct Harness {
    sim: PassportalSim,
    server: SimServer,
    http: reqwest::Client,
}

struct Reply {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

impl Harness {
    async fn new(o: PassportalSimOptions) -> Self {
        let sim = PassportalSim::new(o);
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

    async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = resp.bytes().await.expect("body").to_vec();
        Reply {
            status,
            content_type,
            body,
        }
    }

    /// The token exchange with a JSON body, signed with `secret`.
    async fn exchange_with(&self, key: &str, secret: &str, content: &str) -> Reply {
        let hash = hmac_hex(secret.as_bytes(), content.as_bytes());
        self.send(
            self.http
                .post(self.url(TOKEN_PATH))
                .header("x-key", key)
                .header("x-hash", hash)
                .json(&json!({ "scope": "docs_api", "content": content })),
        )
        .await
    }

    /// A fresh access token with the current credentials.
    async fn token(&self) -> String {
        let r = self
            .exchange_with(
                &self.sim.access_key_id(),
                &self.sim.secret_access_key(),
                "api-content-hash",
            )
            .await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        let v = r.json();
        assert_eq!(v["success"], true, "{v}");
        v["access_token"].as_str().expect("access_token").to_owned()
    }

    async fn get_with(&self, path: &str, token: &str) -> Reply {
        self.send(
            self.http
                .get(self.url(path))
                .header("x-access-token", token),
        )
        .await
    }

    async fn json(&self, path: &str, token: &str) -> Value {
        let r = self.get_with(path, token).await;
        assert_eq!(
            r.status,
            200,
            "{path}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(r.content_type, "application/json");
        r.json()
    }

    /// Every page of a list, looping as the notes tell clients to: until a page is short.
    async fn walk(&self, path: &str, per_page: usize, token: &str) -> Vec<Value> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut out = Vec::new();
        for page in 1.. {
            let v = self
                .json(
                    &format!("{path}{sep}resultsPerPage={per_page}&pageNum={page}"),
                    token,
                )
                .await;
            let results = v["results"].as_array().cloned().unwrap_or_default();
            let n = results.len();
            out.extend(results);
            if n < per_page {
                break;
            }
        }
        out
    }
}

/// The keys of a JSON object in the order they were sent (`Value` sorts them).
struct Keys(Vec<String>);

impl<'de> Deserialize<'de> for Keys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Keys;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Keys, A::Error> {
                let mut keys = Vec::new();
                while let Some((k, IgnoredAny)) = m.next_entry::<String, IgnoredAny>()? {
                    keys.push(k);
                }
                Ok(Keys(keys))
            }
        }
        d.deserialize_map(V)
    }
}

fn keys(json: &str) -> Vec<String> {
    serde_json::from_str::<Keys>(json).expect("a JSON object").0
}

/// The raw JSON text of `field` of an object.
fn member(json: &str, field: &str) -> String {
    let map: HashMap<String, Box<RawValue>> = serde_json::from_str(json).expect("a JSON object");
    map.get(field)
        .map(|r| r.get().to_owned())
        .expect("the field")
}

/// The raw JSON text of each item of the array `field`.
fn members(json: &str, field: &str) -> Vec<String> {
    let items: Vec<Box<RawValue>> = serde_json::from_str(&member(json, field)).expect("an array");
    items.into_iter().map(|r| r.get().to_owned()).collect()
}

fn text(body: &[u8]) -> &str {
    std::str::from_utf8(body).expect("UTF-8")
}

fn ids(items: &[Value]) -> Vec<i64> {
    items
        .iter()
        .map(|v| v["id"].as_i64().expect("integer id"))
        .collect()
}

fn html_decode(s: &str) -> String {
    s.replace("&#039;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

// ---- seeding ------------------------------------------------------------------------------------

#[test]
fn seeding_is_deterministic() {
    let a = PassportalSim::new(opts(7, 12, 30));
    let b = PassportalSim::new(opts(7, 12, 30));
    assert_eq!(a.clients(), b.clients());
    assert_eq!(a.assets(), b.assets());
    assert_eq!(a.access_key_id(), b.access_key_id());
    assert_eq!(a.secret_access_key(), b.secret_access_key());
    assert_eq!(a.organization_id(), b.organization_id());
    let c = PassportalSim::new(opts(8, 12, 30));
    assert_ne!(a.assets(), c.assets());
    assert_ne!(a.access_key_id(), c.access_key_id());
}

#[test]
fn credentials_can_be_given() {
    let sim = PassportalSim::new(PassportalSimOptions {
        access_key_id: "a14e6b4923ba5027189baded6ba7b68e6fcda742008c5d57b867f43a09768ece".into(),
        secret_access_key: "test-secret-access-key".into(),
        ..opts(1, 1, 1)
    });
    assert!(sim.access_key_id().starts_with("a14e"));
    assert_eq!(sim.secret_access_key(), "test-secret-access-key");
    // Rotation replaces a given secret with a derived one.
    let new = sim.rotate_secret();
    assert_ne!(new, "test-secret-access-key");
    assert_eq!(sim.secret_access_key(), new);
}

#[test]
fn seeded_tenant_has_the_observed_shape() {
    let (n, per) = (40, 12);
    let sim = PassportalSim::new(opts(3, n, per));
    let clients = sim.clients();
    assert_eq!(clients.len(), n + 1);
    let shared = names::client_names(3, n);
    let internal: Vec<_> = clients.iter().filter(|c| c.shared_name.is_none()).collect();
    assert_eq!(internal.len(), 1);
    assert_eq!(internal[0].decoded_name, INTERNAL_CLIENT);
    // Ids: 8-digit, ascending, the MSP's own client first.
    assert_eq!(clients[0].decoded_name, INTERNAL_CLIENT);
    for w in clients.windows(2) {
        assert!(w[0].id < w[1].id);
    }
    assert!(
        clients
            .iter()
            .all(|c| (10_000_000..100_000_000).contains(&c.id))
    );
    // Every shared name appears once; exactly 15% are spelled differently.
    let by_shared: HashMap<&str, &SimClient> = clients
        .iter()
        .filter_map(|c| Some((c.shared_name.as_deref()?, c)))
        .collect();
    assert_eq!(by_shared.len(), n);
    for s in &shared {
        assert!(by_shared.contains_key(s.as_str()), "{s}");
    }
    let respelled = clients
        .iter()
        .filter(|c| c.shared_name.as_ref().is_some_and(|s| *s != c.decoded_name))
        .count();
    assert_eq!(respelled, (n * 15 + 50) / 100);
    // Names are HTML-encoded exactly where htmlspecialchars changes them.
    let decoded: HashSet<&str> = clients.iter().map(|c| c.decoded_name.as_str()).collect();
    assert_eq!(decoded.len(), clients.len(), "names are distinct");
    for c in &clients {
        assert_eq!(c.name, html_encode(&c.decoded_name));
        assert_eq!(html_decode(&c.name), c.decoded_name);
    }
    assert!(clients.iter().any(|c| c.name.contains("&amp;")));
    assert!(clients.iter().any(|c| c.name.contains("&#039;")));
    // Assets: per client, plus a tenth for the MSP itself; 8-digit ids, unique.
    let assets = sim.assets();
    assert_eq!(assets.len(), n * per + per.div_ceil(10));
    let unique: HashSet<i64> = assets.iter().map(|a| a.id).collect();
    assert_eq!(unique.len(), assets.len());
    assert!(
        assets
            .iter()
            .all(|a| (10_000_000..100_000_000).contains(&a.id))
    );
    let client_ids: HashSet<i64> = clients.iter().map(|c| c.id).collect();
    assert!(assets.iter().all(|a| client_ids.contains(&a.client_id)));
    assert!(
        sim.document_count() > assets.len(),
        "locations, contacts and vendors exist"
    );
    assert!(assets.iter().all(|a| a.last_modified < seed::epoch()));
}

#[test]
fn seeded_assets_carry_real_world_variety() {
    let sim = PassportalSim::new(opts(5, 30, 40));
    let assets = sim.assets();
    let types: BTreeSet<&str> = assets
        .iter()
        .filter_map(|a| a.asset_type.as_deref())
        .collect();
    for t in [
        "Workstation",
        "Laptop",
        "Server",
        "Firewall",
        "Switch",
        "Wireless Access Point",
        "Printer",
        "Please Select",
    ] {
        assert!(types.contains(t), "no {t}: {types:?}");
    }
    let serial =
        |f: &dyn Fn(&str) -> bool| assets.iter().filter_map(|a| a.serial.as_deref()).any(f);
    assert!(
        assets.iter().any(|a| a.serial.is_none()),
        "no missing serial"
    );
    assert!(serial(&|s| s == "To be filled by O.E.M."
        || s == "Default string"
        || s == "0"));
    assert!(serial(&|s| s != s.trim()), "no serial with stray spaces");
    assert!(serial(
        &|s| s.chars().any(|c| c.is_ascii_lowercase()) && !s.starts_with("VMware")
    ));
    assert!(
        assets
            .iter()
            .any(|a| a.status.as_deref() == Some("Please Select"))
    );
    assert!(
        assets.iter().any(|a| a.label.contains('\'')),
        "no label with an apostrophe"
    );
    assert!(
        assets
            .iter()
            .any(|a| a.integration_type.is_some() && a.portal_url.is_some())
    );
    assert!(assets.iter().any(|a| a.manufacturer.is_none()));
    assert!(assets.iter().any(|a| a.firmware_version.is_some()));
    assert!(assets.iter().all(|a| a.purchased_by.is_none() || a.purchased_by.as_deref() == Some(INTERNAL_CLIENT)));
    let macs: Vec<&str> = assets
        .iter()
        .filter_map(|a| a.mac_address.as_deref())
        .collect();
    assert!(macs.iter().any(|m| m.contains('-')) && macs.iter().any(|m| m.contains(':')));
    let normal: HashSet<String> = macs
        .iter()
        .map(|m| m.replace('-', ":").to_uppercase())
        .collect();
    assert_eq!(normal.len(), macs.len(), "MACs are unique tenant-wide");
}

#[test]
fn generating_twenty_thousand_assets_is_quick() {
    let start = std::time::Instant::now();
    let sim = PassportalSim::new(opts(1, 100, 200));
    let took = start.elapsed();
    assert!(sim.assets().len() >= 20_000);
    let budget = if cfg!(debug_assertions) { 10 } else { 1 };
    assert!(took < Duration::from_secs(budget), "took {took:?}");
}

// ---- the token exchange -------------------------------------------------------------------------

#[tokio::test]
async fn the_exchange_accepts_json_and_form_bodies() {
    let h = Harness::new(opts(7, 2, 3)).await;
    let key = h.sim.access_key_id();
    let secret = h.sim.secret_access_key();
    let r = h.exchange_with(&key, &secret, "api-content-hash").await;
    assert_eq!(
        (r.status, r.content_type.as_str()),
        (200, "application/json")
    );
    let v = r.json();
    assert_eq!(
        keys(text(&r.body)),
        ["success", "access_token", "refresh_token", "expiry_time"]
    );
    assert_eq!(v["success"], true);
    let token = v["access_token"].as_str().expect("token");
    assert!(
        token.starts_with("eyJ") && token.split('.').count() == 3,
        "{token}"
    );
    let refresh = v["refresh_token"].as_str().expect("refresh");
    assert_eq!(refresh.len(), 33);
    assert!(refresh.bytes().all(|b| b.is_ascii_hexdigit()));
    // An absolute epoch an hour away (the default lifetime), as a number the first time.
    let exp = v["expiry_time"].as_i64().expect("numeric expiry_time");
    let now = chrono::Utc::now().timestamp();
    assert!((now + 3599..=now + 3602).contains(&exp), "{exp} vs {now}");

    // A form post (as the migration tool sends it), with upper-case header names, and any
    // content the caller likes.
    let content = "aUa&&XUQBJXz2x&";
    let r = h
        .send(
            h.http
                .post(h.url(TOKEN_PATH))
                .header("X-KEY", &key)
                .header("X-HASH", hmac_hex(secret.as_bytes(), content.as_bytes()))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("content={}&scope=docs_api", urlencode(content))),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    // The second exchange's expiry_time is a string of digits (the docs' format block).
    let v = r.json();
    let exp2 = v["expiry_time"].as_str().expect("string expiry_time");
    assert!(exp2.parse::<i64>().is_ok_and(|e| e >= exp));
    // A JSON body without a content type still parses.
    let r = h
        .send(
            h.http
                .post(h.url(TOKEN_PATH))
                .header("x-key", &key)
                .header("x-hash", hmac_hex(secret.as_bytes(), b"x"))
                .body(r#"{"scope":"docs_api","content":"x"}"#),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(h.sim.token_exchanges(), 3);
    assert_eq!(h.sim.rejected_token_exchanges(), 0);
    // Replaying the same content and hash works: nothing else is signed.
    assert_eq!(
        h.exchange_with(&key, &secret, "api-content-hash")
            .await
            .status,
        200
    );
    // Every token works.
    assert_eq!(h.get_with(CLIENTS_PATH, token).await.status, 200);
}

#[tokio::test]
async fn bad_credentials_are_refused_as_documented() {
    let h = Harness::new(opts(7, 1, 1)).await;
    let key = h.sim.access_key_id();
    let secret = h.sim.secret_access_key();
    let refused =
        json!({"success":false,"message":KEY_VERIFICATION_FAILED,"code":1000,"status":401});
    let refused_text =
        json!({"success":"false","message":KEY_VERIFICATION_FAILED,"code":1000,"status":401});

    // Unknown key: the documented 401 with a boolean false.
    let r = h.exchange_with("0".repeat(64).as_str(), &secret, "c").await;
    assert_eq!((r.status, r.json()), (401, refused.clone()));
    // Swapped key and secret (the commonest mistake): the key is unknown.
    let r = h.exchange_with(&secret, &key, "c").await;
    assert_eq!((r.status, r.json()), (401, refused.clone()));
    // A known key with the wrong secret: HTTP 200 whose body says "false" (mixed quirks).
    let r = h.exchange_with(&key, "wrong-secret", "c").await;
    assert_eq!((r.status, r.json()), (200, refused_text.clone()));
    // Upper-case hex, base64, or a hash of other content: refused.
    let upper = hmac_hex(secret.as_bytes(), b"c").to_uppercase();
    for hash in [
        upper.as_str(),
        "GPGzfBd5q2tMWvcO6vtQXMVcsnqf1/4gLhGtcskpBtk=",
        "",
    ] {
        let r = h
            .send(
                h.http
                    .post(h.url(TOKEN_PATH))
                    .header("x-key", &key)
                    .header("x-hash", hash)
                    .json(&json!({"scope":"docs_api","content":"c"})),
            )
            .await;
        assert_eq!((r.status, r.json()), (200, refused_text.clone()), "{hash}");
    }
    assert_eq!(h.sim.rejected_token_exchanges(), 6);
    assert_eq!(h.sim.token_exchanges(), 0);

    // The other pinned forms.
    h.sim.set_quirks(Quirks {
        auth_failure: AuthFailure::Documented,
        ..Quirks::default()
    });
    let r = h.exchange_with(&key, "wrong-secret", "c").await;
    assert_eq!((r.status, r.json()), (401, refused.clone()));
    h.sim.set_quirks(Quirks {
        auth_failure: AuthFailure::Http200,
        ..Quirks::default()
    });
    let r = h.exchange_with("nope", &secret, "c").await;
    assert_eq!((r.status, r.json()), (200, refused_text));

    // Scope and content are checked first, with the documented 400 envelope.
    let hash = hmac_hex(secret.as_bytes(), b"c");
    for (body, message) in [
        (json!({"scope":"docs-api","content":"c"}), "invalid scope"),
        (json!({"content":"c"}), "invalid scope"),
        (json!({"scope":"docs_api"}), "invalid content"),
        (json!({"scope":"docs_api","content":5}), "invalid content"),
        (json!(["docs_api"]), "invalid input"),
    ] {
        let r = h
            .send(
                h.http
                    .post(h.url(TOKEN_PATH))
                    .header("x-key", &key)
                    .header("x-hash", &hash)
                    .json(&body),
            )
            .await;
        assert_eq!(r.status, 400, "{body}");
        assert_eq!(
            r.json(),
            json!({"success":false,"code":0,"status":400,"message":message})
        );
    }
    // The exchange is POST only: the documented 405.
    let r = h.send(h.http.get(h.url(TOKEN_PATH))).await;
    assert_eq!(
        (r.status, r.json()),
        (
            405,
            json!({"success":false,"message":"Method not allowed","code":3000,"status":405})
        )
    );
}

// ---- tokens -------------------------------------------------------------------------------------

fn invalid_token(message: &str) -> Value {
    json!({"success":"false","message":message,"code":1006,"status":401})
}

#[tokio::test]
async fn calls_need_a_live_token() {
    let h = Harness::new(opts(7, 2, 3)).await;
    // No token, a garbage one, a foreign JWT, or the header the docs' table names.
    let r = h.send(h.http.get(h.url(CLIENTS_PATH))).await;
    assert_eq!(
        (r.status, r.json()),
        (
            401,
            invalid_token("Invalid token: Wrong number of segments.")
        )
    );
    let r = h.get_with(ASSETS, "a.b.c").await;
    assert_eq!(
        (r.status, r.json()),
        (
            401,
            invalid_token("Invalid token: Malformed UTF-8 characters.")
        )
    );
    let foreign = super::auth::issue(
        b"someone else",
        &super::auth::Claims {
            org: h.sim.organization_id(),
            iat: 0,
            exp: i64::MAX / 2000,
            jti: 1,
        },
    );
    let r = h.get_with(ASSETS, &foreign).await;
    assert_eq!(
        (r.status, r.json()),
        (
            401,
            invalid_token("Invalid token: Signature verification failed.")
        )
    );
    let token = h.token().await;
    let r = h
        .send(
            h.http
                .get(h.url(CLIENTS_PATH))
                .header("x-api-token", &token),
        )
        .await;
    assert_eq!(r.status, 401);
    let r = h
        .send(h.http.get(h.url(CLIENTS_PATH)).bearer_auth(&token))
        .await;
    assert_eq!(r.status, 401, "no Bearer");
    assert_eq!(h.get_with(CLIENTS_PATH, &token).await.status, 200);
}

#[tokio::test]
async fn tokens_expire_at_expiry_time_and_on_demand() {
    let h = Harness::new(opts(7, 2, 3)).await;
    let expired = invalid_token("Invalid token: Expired token.");
    let token = h.token().await;
    assert_eq!(h.get_with(ASSETS, &token).await.status, 200);
    // Just before the hour, it works; past it, it does not.
    h.sim.advance_clock(Duration::from_secs(3590));
    assert_eq!(h.get_with(ASSETS, &token).await.status, 200);
    h.sim.advance_clock(Duration::from_secs(12));
    let r = h.get_with(ASSETS, &token).await;
    assert_eq!((r.status, r.json()), (401, expired.clone()));
    // A new token works again; expire_tokens() ends it and every older one.
    let fresh = h.token().await;
    let other = h.token().await;
    assert_eq!(h.get_with(ASSETS, &fresh).await.status, 200);
    h.sim.expire_tokens();
    for t in [&fresh, &other] {
        let r = h.get_with(ASSETS, t).await;
        assert_eq!((r.status, r.json()), (401, expired.clone()));
    }
    let after = h.token().await;
    assert_eq!(h.get_with(ASSETS, &after).await.status, 200);
    // A shorter lifetime shows in expiry_time; zero is expired at once.
    h.sim.set_token_ttl(Duration::from_secs(5));
    h.sim.set_quirks(Quirks {
        expiry_time: ExpiryTime::Number,
        ..Quirks::default()
    });
    let r = h
        .exchange_with(&h.sim.access_key_id(), &h.sim.secret_access_key(), "x")
        .await
        .json();
    let now = h.sim.now().timestamp();
    let exp = r["expiry_time"].as_i64().expect("number");
    assert!((now + 5..=now + 6).contains(&exp), "{exp} vs {now}");
    h.sim.set_token_ttl(Duration::ZERO);
    let t = h.token().await;
    assert_eq!(h.get_with(ASSETS, &t).await.json(), expired);
    assert_eq!(h.sim.token_ttl(), Duration::ZERO);
}

#[tokio::test]
async fn rotating_the_secret_voids_tokens_and_the_old_secret() {
    let h = Harness::new(opts(7, 2, 3)).await;
    let key = h.sim.access_key_id();
    let old = h.sim.secret_access_key();
    let token = h.token().await;
    let new = h.sim.rotate_secret();
    assert_ne!(new, old);
    assert_eq!(h.sim.access_key_id(), key, "the key id stays");
    let r = h.get_with(ASSETS, &token).await;
    assert_eq!(
        (r.status, r.json()),
        (
            401,
            invalid_token("Invalid token: Signature verification failed.")
        )
    );
    let r = h.exchange_with(&key, &old, "c").await;
    assert_eq!(r.json()["success"], "false");
    assert_eq!(r.json()["code"], 1000);
    let r = h.exchange_with(&key, &new, "c").await;
    assert_eq!(r.json()["success"], true);
    let t = r.json()["access_token"].as_str().expect("token").to_owned();
    assert_eq!(h.get_with(ASSETS, &t).await.status, 200);
}

// ---- lists and paging ---------------------------------------------------------------------------

#[tokio::test]
async fn paging_returns_every_document_exactly_once() {
    let h = Harness::new(opts(7, 6, 37)).await;
    let token = h.token().await;
    let mut expected: Vec<i64> = h.sim.assets().iter().map(|a| a.id).collect();
    // By id, ascending and descending, at several page sizes.
    for per in [1000, 50, 17] {
        let got = h
            .walk(&format!("{ASSETS}&orderBy=id&orderDir=asc"), per, &token)
            .await;
        assert_eq!(ids(&got), expected, "per_page {per}");
    }
    let got = h
        .walk(&format!("{ASSETS}&orderBy=id&orderDir=desc"), 40, &token)
        .await;
    expected.reverse();
    assert_eq!(ids(&got), expected);
    expected.reverse();
    // The default order is by label (case-insensitively), ids breaking ties.
    let by_label = h.walk(ASSETS, 100, &token).await;
    assert_eq!(by_label.len(), expected.len());
    let keys: Vec<(String, i64)> = by_label
        .iter()
        .map(|v| {
            (
                v["label"].as_str().unwrap_or("").to_lowercase(),
                v["id"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    let desc = h.walk(&format!("{ASSETS}&orderDir=desc"), 30, &token).await;
    assert_eq!(
        ids(&desc),
        ids(&by_label).into_iter().rev().collect::<Vec<_>>()
    );
    // `/documents/all` is the same list; no `type` lists every document.
    let all = h
        .walk("/api/v2/documents/all?type=asset&orderBy=id", 100, &token)
        .await;
    assert_eq!(ids(&all), expected);
    let everything = h.walk("/api/v2/documents?orderBy=id", 100, &token).await;
    assert_eq!(everything.len(), h.sim.document_count());
    // Without resultsPerPage a page holds 100.
    let first = h.json(ASSETS, &token).await;
    assert_eq!(first["results"].as_array().map(Vec::len), Some(100));
    // Clients page the same way, by id.
    let clients = h.walk(CLIENTS_PATH, 2, &token).await;
    assert_eq!(
        ids(&clients),
        h.sim.clients().iter().map(|c| c.id).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn past_the_end_and_bad_pages() {
    let h = Harness::new(PassportalSimOptions {
        page_size_cap: 20,
        ..opts(7, 3, 10)
    })
    .await;
    let token = h.token().await;
    let assets = h.sim.assets().len();
    assert_eq!(assets, 31);
    // The cap: a bigger resultsPerPage gets 20.
    let capped = h
        .json(&format!("{ASSETS}&resultsPerPage=1000"), &token)
        .await;
    assert_eq!(capped["results"].as_array().map(Vec::len), Some(20));
    // Mixed (default): documents past the end are an empty list, clients `null`.
    let past = h
        .json(&format!("{ASSETS}&resultsPerPage=20&pageNum=3"), &token)
        .await;
    assert_eq!(past["results"], json!([]));
    assert_eq!(past["success"], true);
    let not_found = json!({"success":"false","message":"not found.","code":0,"status":404});
    let r = h
        .get_with(
            &format!("{CLIENTS_PATH}?resultsPerPage=4&pageNum=2"),
            &token,
        )
        .await;
    assert_eq!((r.status, r.json()["results"].clone()), (200, Value::Null));
    // Page 1 of an empty list is always an empty list.
    let none = h.json("/api/v2/documents?type=ssl", &token).await;
    assert_eq!(none["results"], json!([]));
    for (mode, docs_status, docs_results) in [
        (PastEnd::Empty, 200, json!([])),
        (PastEnd::Null, 200, Value::Null),
        (PastEnd::NotFound, 404, Value::Null),
    ] {
        h.sim.set_quirks(Quirks {
            past_end: mode,
            ..Quirks::default()
        });
        let r = h
            .get_with(&format!("{ASSETS}&resultsPerPage=20&pageNum=9"), &token)
            .await;
        assert_eq!(r.status, docs_status, "{mode:?}");
        if docs_status == 200 {
            assert_eq!(r.json()["results"], docs_results);
        } else {
            assert_eq!(r.json(), not_found);
        }
        let r = h
            .get_with(&format!("{CLIENTS_PATH}?pageNum=2"), &token)
            .await;
        assert_eq!(r.status, docs_status, "{mode:?}");
    }
    // pageNum outside 1..9999 or not an integer: the documented 404.
    let documented = json!({"success":"false","message":PAGE_NUM_MESSAGE,"code":0,"status":404});
    for bad in ["0", "10000", "two", "", "-1", "1.5"] {
        let r = h.get_with(&format!("{ASSETS}&pageNum={bad}"), &token).await;
        assert_eq!(
            (r.status, r.json()),
            (404, documented.clone()),
            "pageNum={bad}"
        );
        let r = h
            .get_with(&format!("{CLIENTS_PATH}?pageNum={bad}"), &token)
            .await;
        assert_eq!(r.status, 404);
    }
    assert_eq!(
        h.get_with(&format!("{ASSETS}&pageNum=9999"), &token)
            .await
            .status,
        404
    );
    // Other bad parameters: the 400 envelope.
    for bad in [
        "resultsPerPage=0",
        "resultsPerPage=many",
        "orderBy=name",
        "orderDir=up",
    ] {
        let r = h.get_with(&format!("{ASSETS}&{bad}"), &token).await;
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(r.json()["success"], false);
    }
}

#[tokio::test]
async fn filters_select_what_they_name() {
    let h = Harness::new(opts(11, 5, 20)).await;
    let token = h.token().await;
    let everything = h.walk("/api/v2/documents?orderBy=id", 1000, &token).await;
    let types: BTreeSet<&str> = everything
        .iter()
        .filter_map(|d| d["type"].as_str())
        .collect();
    assert_eq!(
        types,
        BTreeSet::from(["asset", "contact", "location", "vendor"])
    );
    for t in &types {
        let got = h
            .walk(
                &format!("/api/v2/documents?type={t}&orderBy=id"),
                1000,
                &token,
            )
            .await;
        let want: Vec<&Value> = everything.iter().filter(|d| d["type"] == *t).collect();
        assert_eq!(got.iter().collect::<Vec<_>>(), want, "{t}");
    }
    // An unknown type (`folders`, which a public client asked for) lists nothing.
    assert_eq!(
        h.json("/api/v2/documents?type=folders", &token).await["results"],
        json!([])
    );
    // clientId selects the client's documents, and every vendor (organization-wide).
    let client = h.sim.clients()[2].id;
    let got = h
        .walk(
            &format!("/api/v2/documents?clientId={client}&orderBy=id"),
            1000,
            &token,
        )
        .await;
    let want: Vec<&Value> = everything
        .iter()
        .filter(|d| d["client_id"] == client || d["type"] == "vendor")
        .collect();
    assert_eq!(got.iter().collect::<Vec<_>>(), want);
    let got = h
        .walk(&format!("{ASSETS}&clientId={client}&orderBy=id"), 7, &token)
        .await;
    assert_eq!(
        ids(&got),
        h.sim
            .assets()
            .iter()
            .filter(|a| a.client_id == client)
            .map(|a| a.id)
            .collect::<Vec<_>>()
    );
    // `clientID` is not `clientId`: ignored.
    let ignored = h
        .walk(&format!("{ASSETS}&clientID={client}"), 1000, &token)
        .await;
    assert_eq!(ignored.len(), h.sim.assets().len());
    assert_eq!(
        h.json(&format!("{ASSETS}&clientId=x"), &token).await["results"],
        json!([])
    );
    // templateUid, either form.
    for uid in ["tpl-79", "79", "TPL-79"] {
        let got = h
            .walk(
                &format!("/api/v2/documents?templateUid={uid}"),
                1000,
                &token,
            )
            .await;
        assert_eq!(got.len(), h.sim.assets().len(), "{uid}");
    }
    assert_eq!(
        h.json("/api/v2/documents?templateUid=tpl-x", &token).await["results"],
        json!([])
    );
    // searchTxt: case-insensitive, in the label.
    let a = &h.sim.assets()[3];
    let needle = a.label[..a.label.len().min(6)].to_uppercase();
    let got = h
        .walk(
            &format!("{ASSETS}&searchTxt={}", urlencode(&needle)),
            1000,
            &token,
        )
        .await;
    assert!(ids(&got).contains(&a.id));
    assert!(got.iter().all(|d| {
        d["label"]
            .as_str()
            .unwrap_or("")
            .to_lowercase()
            .contains(&needle.to_lowercase())
            || d["description"]
                .as_str()
                .unwrap_or("")
                .to_lowercase()
                .contains(&needle.to_lowercase())
    }));
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn list_items_have_the_observed_shape() {
    let h = Harness::new(opts(7, 8, 10)).await;
    let token = h.token().await;
    let clients: HashMap<i64, SimClient> = h.sim.clients().into_iter().map(|c| (c.id, c)).collect();
    let r = h
        .get_with("/api/v2/documents?resultsPerPage=1000", &token)
        .await;
    let v = r.json();
    assert_eq!(keys(text(&r.body)), ["success", "apiRequestUid", "results"]);
    for item in members(text(&r.body), "results") {
        assert_eq!(
            keys(&item),
            [
                "id",
                "organization_id",
                "label",
                "description",
                "client_id",
                "clientName",
                "customId",
                "templateId",
                "templateName",
                "type",
                "accessible",
                "last_modified"
            ]
        );
    }
    assert_eq!(v["success"], true);
    assert!(v["apiRequestUid"].is_string());
    let truth: HashMap<i64, SimAssetDoc> = h.sim.assets().into_iter().map(|a| (a.id, a)).collect();
    let stamp = regex_like_timestamp;
    for item in v["results"].as_array().expect("results") {
        assert_eq!(item["organization_id"], h.sim.organization_id());
        assert_eq!(item["accessible"], true);
        assert!(stamp(
            item["last_modified"].as_str().expect("last_modified")
        ));
        let client = &clients[&item["client_id"].as_i64().expect("client_id")];
        // clientName is the stored (encoded) name; labels are not encoded.
        assert_eq!(item["clientName"], client.name.as_str());
        if let Some(a) = truth.get(&item["id"].as_i64().expect("id")) {
            assert_eq!(item["label"], a.label.as_str());
            assert_eq!(item["templateId"], 79);
            assert_eq!(item["templateName"], "Generic Asset");
            assert_eq!(item["customId"], a.custom_id.as_str());
            assert_eq!(
                item["last_modified"],
                render::Ts(a.last_modified).to_string()
            );
        }
    }
    let r = h.get_with(CLIENTS_PATH, &token).await;
    assert_eq!(keys(text(&r.body)), ["success", "apiRequestUid", "results"]);
    for item in members(text(&r.body), "results") {
        assert_eq!(keys(&item), ["id", "name"]);
    }
    let c = r.json();
    assert_eq!(
        c["success"], "true",
        "the client list's success is a string (mixed quirks)"
    );
    for item in c["results"].as_array().expect("results") {
        assert_eq!(
            item["name"],
            clients[&item["id"].as_i64().expect("id")].name.as_str()
        );
    }
    // Pinned forms.
    h.sim.set_quirks(Quirks {
        success: SuccessForm::Boolean,
        ..Quirks::default()
    });
    assert_eq!(h.json(CLIENTS_PATH, &token).await["success"], true);
    h.sim.set_quirks(Quirks {
        success: SuccessForm::String,
        ..Quirks::default()
    });
    assert_eq!(h.json(ASSETS, &token).await["success"], "true");
    let id = h.sim.assets()[0].id;
    assert_eq!(
        h.json(&format!("{DOCUMENTS_PATH}/{id}"), &token).await["success"],
        "true"
    );
}

fn regex_like_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 20
        && b[19] == b'Z'
        && b[10] == b'T'
        && chrono::NaiveDateTime::parse_from_str(&s[..19], "%Y-%m-%dT%H:%M:%S").is_ok()
}

// ---- document details ---------------------------------------------------------------------------

#[tokio::test]
async fn asset_details_use_the_observed_numeric_layout() {
    let h = Harness::new(opts(9, 10, 20)).await;
    let token = h.token().await;
    let everything = h.walk("/api/v2/documents?orderBy=id", 1000, &token).await;
    let by_id: HashMap<i64, &Value> = everything
        .iter()
        .map(|d| (d["id"].as_i64().unwrap_or(0), d))
        .collect();
    let mut saw_reference = HashSet::new();
    let mut saw_null = false;
    for a in h.sim.assets().iter().step_by(3) {
        let r = h
            .get_with(&format!("{DOCUMENTS_PATH}/{}", a.id), &token)
            .await;
        let v = r.json();
        assert_eq!(
            keys(text(&r.body)),
            ["success", "templateUid", "id", "details", "apiRequestUid"]
        );
        assert_eq!(
            (
                v["success"].clone(),
                v["templateUid"].clone(),
                v["id"].clone()
            ),
            (json!(true), json!("tpl-79"), json!(a.id))
        );
        let d = v["details"].as_object().expect("details");
        let mut want: Vec<String> = vec!["name".into(), "tags".into()];
        want.extend((0..ASSET_FIELDS.len()).map(|i| i.to_string()));
        assert_eq!(keys(&member(text(&r.body), "details")), want);
        assert_eq!(d["name"], a.label.as_str());
        assert_eq!(d["tags"], json!([]));
        for (i, label) in ASSET_FIELDS.iter().enumerate() {
            let f = &d[&i.to_string()];
            let Some(text) = a.field(i) else {
                assert!(f.is_null(), "{label}: {f}");
                saw_null = true;
                continue;
            };
            assert_eq!(f["name"], *label);
            assert!(f["description"].is_string() || f["description"].is_null());
            assert_eq!(f["value"]["text"], text, "{label}");
            match f["value"]["type"].as_str() {
                Some("string") => {
                    assert_eq!(f["value"].as_object().map(|o| o.len()), Some(2));
                    assert!(f.get("attribute").is_none());
                }
                Some(kind @ ("vendors" | "locations" | "contacts")) => {
                    saw_reference.insert(kind.to_owned());
                    assert_eq!(f["attribute"], json!([f["value"].clone()]));
                    let target = by_id[&f["value"]["id"].as_i64().expect("ref id")];
                    assert_eq!(target["label"], text);
                    let want = match kind {
                        "vendors" => "vendor",
                        "locations" => "location",
                        _ => "contact",
                    };
                    assert_eq!(target["type"], want);
                    if kind != "vendors" {
                        assert_eq!(target["client_id"], a.client_id);
                    }
                }
                other => panic!("{label}: value type {other:?}"),
            }
        }
    }
    assert!(saw_null);
    assert_eq!(saw_reference.len(), 3, "{saw_reference:?}");
    // Other documents' details use the same layout with their own templates.
    let location = everything
        .iter()
        .find(|d| d["type"] == "location")
        .expect("a location");
    let v = h
        .json(&format!("{DOCUMENTS_PATH}/{}", location["id"]), &token)
        .await;
    assert_eq!(v["templateUid"], "tpl-5001");
    assert_eq!(
        v["details"]["0"]["value"],
        json!({"type":"string","text":location["label"]})
    );
    assert_eq!(v["details"]["1"]["name"], "Address 1");
}

#[tokio::test]
async fn missing_and_malformed_document_ids() {
    let h = Harness::new(opts(7, 1, 2)).await;
    let token = h.token().await;
    let invalid = json!({"success":false,"code":0,"status":400,"message":"invalid id"});
    for bad in ["abc", "0", "-5", "1e3"] {
        let r = h.get_with(&format!("{DOCUMENTS_PATH}/{bad}"), &token).await;
        assert_eq!((r.status, r.json()), (400, invalid.clone()), "{bad}");
    }
    let r = h.get_with(&format!("{DOCUMENTS_PATH}/12345"), &token).await;
    assert_eq!(
        (r.status, r.json()),
        (
            403,
            json!({"success":"false","message":"not found.","code":0,"status":403})
        )
    );
    // Unknown paths: 404 with the envelope, before any token check.
    for path in [
        "/api/v2/clients",
        "/api/v1/documents",
        "/api/v2/documents/1/2",
        "/",
    ] {
        let r = h.send(h.http.get(h.url(path))).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.json()["message"], "not found.");
    }
    // Writes are not simulated.
    let r = h
        .send(
            h.http
                .post(h.url(DOCUMENTS_PATH))
                .header("x-access-token", &token)
                .json(&json!({})),
        )
        .await;
    assert_eq!((r.status, r.json()["code"].clone()), (405, json!(3000)));
}

// ---- mutations ----------------------------------------------------------------------------------

#[tokio::test]
async fn mutations_show_in_the_api() {
    let h = Harness::new(opts(7, 3, 5)).await;
    let token = h.token().await;
    let client = h.sim.clients()[1].id;
    let before = h.sim.assets();
    let max = h
        .json(
            "/api/v2/documents?orderBy=id&orderDir=desc&resultsPerPage=1",
            &token,
        )
        .await["results"][0]["id"]
        .as_i64()
        .expect("id");
    let id = h.sim.add_asset(client).expect("added");
    assert!(id > max, "a new document has the highest id");
    assert_eq!(h.sim.add_asset(1), None);
    let listed = h.walk(&format!("{ASSETS}&orderBy=id"), 100, &token).await;
    assert_eq!(ids(&listed).last(), Some(&id));
    assert_eq!(listed.len(), before.len() + 1);
    let added = h.sim.asset(id).expect("asset");
    assert_eq!(added.client_id, client);
    assert!(added.last_modified >= seed::epoch());

    // Change fields; the detail and list follow, and last_modified moves.
    let target = before[2].id;
    assert!(h.sim.update_asset(target, |a| {
        a.serial = Some("SN-CHANGED".into());
        a.model = None;
        a.label = "aaa First By Label".into();
        a.manufacturer = Some("Acme Widgets".into());
        a.client_id = 1; // no such client: ignored
        a.id = 5; // ids cannot change
    }));
    let changed = h.sim.asset(target).expect("still there");
    assert_eq!(
        (changed.id, changed.client_id),
        (target, before[2].client_id)
    );
    assert!(changed.last_modified > before[2].last_modified);
    let d = h.json(&format!("{DOCUMENTS_PATH}/{target}"), &token).await;
    assert_eq!(d["details"]["8"]["value"]["text"], "SN-CHANGED");
    assert!(d["details"]["7"].is_null());
    assert_eq!(d["details"]["name"], "aaa First By Label");
    // A manufacturer without a vendor document is plain text.
    assert_eq!(
        d["details"]["10"]["value"],
        json!({"type":"string","text":"Acme Widgets"})
    );
    let first = h.json(&format!("{ASSETS}&resultsPerPage=1"), &token).await;
    assert_eq!(
        first["results"][0]["id"], target,
        "label order follows the new label"
    );
    assert_eq!(
        first["results"][0]["last_modified"],
        render::Ts(changed.last_modified).to_string()
    );
    assert!(!h.sim.update_asset(1, |_| {}));

    // Remove: gone from lists, and the detail is the documented 403.
    assert!(h.sim.remove_asset(target));
    assert!(!h.sim.remove_asset(target));
    assert_eq!(
        h.get_with(&format!("{DOCUMENTS_PATH}/{target}"), &token)
            .await
            .status,
        403
    );
    let listed = h.walk(ASSETS, 3, &token).await;
    assert_eq!(listed.len(), before.len());
    assert!(!ids(&listed).contains(&target));
    // Non-asset documents cannot be removed through the asset API.
    let vendor = h
        .json("/api/v2/documents?type=vendor&resultsPerPage=1", &token)
        .await["results"][0]["id"]
        .as_i64()
        .expect("vendor");
    assert!(!h.sim.remove_asset(vendor));
}

// ---- faults -------------------------------------------------------------------------------------

#[tokio::test]
async fn faults_look_like_passportal_and_its_proxies() {
    let h = Harness::new(opts(7, 2, 5)).await;
    let token = h.token().await;
    let plan = h.sim.faults();
    let get = |path: &'static str| h.get_with(path, &token);

    plan.push(FaultRule::times(
        Fault::Status429 {
            retry_after: Some(7),
        },
        1,
    ));
    let resp = h
        .http
        .get(h.url(ASSETS))
        .header("x-access-token", &token)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 429);
    assert_eq!(
        resp.headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("7")
    );
    let body: Value = resp.json().await.expect("json");
    assert_eq!(
        (body["success"].clone(), body["status"].clone()),
        (json!("false"), json!(429))
    );
    plan.push(FaultRule::times(Fault::Status429 { retry_after: None }, 1));
    let resp = h
        .http
        .get(h.url(ASSETS))
        .header("x-access-token", &token)
        .send()
        .await
        .expect("send");
    assert!(resp.status().as_u16() == 429 && resp.headers().get("retry-after").is_none());

    plan.push(FaultRule::times(Fault::ServerError(500), 1));
    let r = get(ASSETS).await;
    assert_eq!(
        (
            r.status,
            r.json()["success"].clone(),
            r.json()["status"].clone()
        ),
        (500, json!("false"), json!(500))
    );
    for code in [502, 503] {
        plan.push(FaultRule::times(Fault::ServerError(code), 1));
        let r = get(ASSETS).await;
        assert_eq!(
            (r.status, r.content_type.starts_with("text/html")),
            (code, true)
        );
    }
    plan.push(FaultRule::times(Fault::TruncatedJson, 1));
    let r = get(ASSETS).await;
    assert_eq!(r.status, 200);
    assert!(!r.body.is_empty() && serde_json::from_slice::<Value>(&r.body).is_err());
    plan.push(FaultRule::times(Fault::InvalidJson, 1));
    let r = get(ASSETS).await;
    assert_eq!(
        (r.status, r.content_type.as_str()),
        (200, "application/json")
    );
    assert!(serde_json::from_slice::<Value>(&r.body).is_err());
    plan.push(FaultRule::times(Fault::WrongContentType, 1));
    let r = get(ASSETS).await;
    assert_eq!(r.status, 200);
    assert!(r.content_type.starts_with("text/html"));
    assert!(String::from_utf8_lossy(&r.body).contains("Passportal | Login"));
    plan.push(FaultRule::times(Fault::RateLimit403, 1));
    assert_eq!(get(ASSETS).await.status, 403);
    // An injected 401 reads as an expired token on the API, a refused key on the exchange.
    plan.push(FaultRule::times(Fault::Unauthorized, 1));
    let r = get(ASSETS).await;
    assert_eq!(
        (r.status, r.json()),
        (401, invalid_token("Invalid token: Expired token."))
    );
    plan.push(FaultRule::times(Fault::Unauthorized, 1).on(TOKEN_PATH));
    let r = h
        .exchange_with(&h.sim.access_key_id(), &h.sim.secret_access_key(), "c")
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["code"], 1000);
    // A truncated token response still issued the token.
    let issued = h.sim.token_exchanges();
    plan.push(FaultRule::times(Fault::TruncatedJson, 1).on(TOKEN_PATH));
    let r = h
        .exchange_with(&h.sim.access_key_id(), &h.sim.secret_access_key(), "c")
        .await;
    assert!(serde_json::from_slice::<Value>(&r.body).is_err());
    assert_eq!(h.sim.token_exchanges(), issued + 1);
    plan.push(FaultRule::times(
        Fault::WrongRegion {
            region: "ca".into(),
        },
        1,
    ));
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let resp = no_redirects
        .get(h.url("/api/v2/documents?type=asset"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 308);
    assert_eq!(
        resp.headers().get("location").and_then(|v| v.to_str().ok()),
        Some("https://ca-clover.passportalmsp.com/api/v2/documents?type=asset")
    );

    // A path-restricted rule leaves other paths alone and is used up.
    plan.push(FaultRule::times(Fault::ServerError(502), 2).on(DOCUMENTS_PATH));
    assert_eq!(
        get(CLIENTS_PATH).await.status,
        502,
        "clients live under /documents too"
    );
    assert_eq!(get(ASSETS).await.status, 502);
    assert_eq!(get(ASSETS).await.status, 200);

    let quick = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    plan.push(FaultRule::times(Fault::Hang, 1));
    let err = quick
        .get(h.url(ASSETS))
        .header("x-access-token", &token)
        .send()
        .await
        .expect_err("hangs");
    assert!(err.is_timeout());
    plan.push(FaultRule::times(Fault::SlowBody, 1));
    let resp = quick
        .get(h.url(ASSETS))
        .header("x-access-token", &token)
        .send()
        .await
        .expect("headers arrive");
    assert_eq!(resp.status().as_u16(), 200);
    assert!(resp.bytes().await.expect_err("body stalls").is_timeout());
    assert!(plan.rules().is_empty());
    assert_eq!(h.sim.requests_for(TOKEN_PATH), 3);
    assert_eq!(h.sim.request_count(), h.sim.requests_for("/api/v2/"));
}

// ---- the control surface ------------------------------------------------------------------------

#[tokio::test]
async fn control_surface_mirrors_the_api() {
    let h = Harness::new(opts(7, 3, 4)).await;
    let ctl = |p: &str| h.url(&format!("/_sim{p}"));
    let state: Value = h
        .http
        .get(ctl("/state"))
        .send()
        .await
        .expect("state")
        .json()
        .await
        .expect("json");
    assert_eq!(state["vendor"], "passportal");
    assert_eq!(state["clients"], 4);
    assert_eq!(state["assets"], 3 * 4 + 1);
    assert_eq!(state["access_key_id"], h.sim.access_key_id().as_str());
    assert_eq!(state["token_ttl_seconds"], 3600.0);
    assert_eq!(
        state["quirks"],
        json!({"auth_failure":"mixed","expiry_time":"alternate","success":"mixed","past_end":"mixed","page_offset":"served","token_refusal":"documented"})
    );
    let clients: Value = h
        .http
        .get(ctl("/clients"))
        .send()
        .await
        .expect("clients")
        .json()
        .await
        .expect("json");
    assert_eq!(clients.as_array().map(Vec::len), Some(4));
    assert!(clients[0]["decoded_name"].is_string());
    let client = clients[1]["id"].as_i64().expect("id");

    let resp = h
        .http
        .post(ctl("/assets"))
        .json(&json!({"client_id": client}))
        .send()
        .await
        .expect("add");
    assert_eq!(resp.status().as_u16(), 201);
    let created: Value = resp.json().await.expect("json");
    let id = created["id"].as_i64().expect("id");
    assert_eq!(created["asset"]["client_id"], client);
    let resp = h
        .http
        .post(ctl("/assets"))
        .json(&json!({"client_id": 1}))
        .send()
        .await
        .expect("add");
    assert_eq!(resp.status().as_u16(), 404);
    let resp = h
        .http
        .patch(ctl(&format!("/assets/{id}")))
        .json(&json!({"serial": null, "model": "Model X", "label": "Patched", "description": "d"}))
        .send()
        .await
        .expect("patch");
    assert_eq!(resp.status().as_u16(), 200);
    let patched: Value = resp.json().await.expect("json");
    assert_eq!(
        (
            patched["serial"].clone(),
            patched["model"].clone(),
            patched["label"].clone()
        ),
        (Value::Null, json!("Model X"), json!("Patched"))
    );
    for bad in [
        json!({"serial": 5}),
        json!({"nope": "x"}),
        json!({"client_id": 1}),
        json!([1]),
    ] {
        let resp = h
            .http
            .patch(ctl(&format!("/assets/{id}")))
            .json(&bad)
            .send()
            .await
            .expect("patch");
        assert_eq!(resp.status().as_u16(), 400, "{bad}");
    }
    let one: Value = h
        .http
        .get(ctl(&format!("/assets/{id}")))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(one["label"], "Patched");
    let all: Value = h
        .http
        .get(ctl("/assets"))
        .send()
        .await
        .expect("all")
        .json()
        .await
        .expect("json");
    assert_eq!(all.as_array().map(Vec::len), Some(14));
    assert_eq!(
        h.http
            .delete(ctl(&format!("/assets/{id}")))
            .send()
            .await
            .expect("delete")
            .status()
            .as_u16(),
        204
    );
    assert_eq!(
        h.http
            .delete(ctl(&format!("/assets/{id}")))
            .send()
            .await
            .expect("delete")
            .status()
            .as_u16(),
        404
    );

    let token = h.token().await;
    assert_eq!(
        h.http
            .post(ctl("/expire-tokens"))
            .send()
            .await
            .expect("expire")
            .status()
            .as_u16(),
        204
    );
    assert_eq!(h.get_with(ASSETS, &token).await.status, 401);
    let ttl: Value = h
        .http
        .put(ctl("/token-ttl"))
        .json(&json!({"seconds": 2}))
        .send()
        .await
        .expect("ttl")
        .json()
        .await
        .expect("json");
    assert_eq!(ttl["seconds"], 2.0);
    assert_eq!(h.sim.token_ttl(), Duration::from_secs(2));
    assert_eq!(
        h.http
            .put(ctl("/token-ttl"))
            .json(&json!({"seconds": -1}))
            .send()
            .await
            .expect("ttl")
            .status()
            .as_u16(),
        400
    );
    let q: Value = h
        .http
        .put(ctl("/quirks"))
        .json(&json!({"past_end": "null"}))
        .send()
        .await
        .expect("quirks")
        .json()
        .await
        .expect("json");
    assert_eq!(q["past_end"], "null");
    assert_eq!(q["auth_failure"], "mixed");
    assert_eq!(h.sim.quirks().past_end, PastEnd::Null);
    assert_eq!(
        h.http
            .put(ctl("/quirks"))
            .json(&json!({"past_end": "maybe"}))
            .send()
            .await
            .expect("q")
            .status()
            .as_u16(),
        400
    );
    assert_eq!(
        h.http
            .put(ctl("/quirks"))
            .json(&json!({"colour": "red"}))
            .send()
            .await
            .expect("q")
            .status()
            .as_u16(),
        400
    );
    let old = h.sim.secret_access_key();
    let rotated: Value = h
        .http
        .post(ctl("/rotate-secret"))
        .send()
        .await
        .expect("rotate")
        .json()
        .await
        .expect("json");
    assert_ne!(rotated["secret_access_key"], old.as_str());
    assert_eq!(
        rotated["secret_access_key"],
        h.sim.secret_access_key().as_str()
    );

    let resp = h
        .http
        .post(ctl("/faults"))
        .json(&json!({"fault": {"kind": "server_error", "status": 503}, "path_prefix": TOKEN_PATH, "times": 1}))
        .send()
        .await
        .expect("fault");
    assert_eq!(resp.status().as_u16(), 201);
    let rules: Value = h
        .http
        .get(ctl("/faults"))
        .send()
        .await
        .expect("faults")
        .json()
        .await
        .expect("json");
    assert_eq!(rules.as_array().map(Vec::len), Some(1));
    assert_eq!(
        h.http
            .delete(ctl("/faults"))
            .send()
            .await
            .expect("clear")
            .status()
            .as_u16(),
        204
    );
    assert!(h.sim.faults().rules().is_empty());
    assert_eq!(
        h.http
            .get(ctl("/nope"))
            .send()
            .await
            .expect("nope")
            .status()
            .as_u16(),
        404
    );
    // The control surface is not counted as API traffic.
    assert_eq!(h.sim.request_count(), h.sim.requests_for("/api/"));
}

// ---- scale --------------------------------------------------------------------------------------

#[tokio::test]
async fn pages_of_a_large_tenant_are_quick_to_serve() {
    let h = Harness::new(opts(1, 50, 200)).await;
    let token = h.token().await;
    let total = h.sim.assets().len();
    let start = std::time::Instant::now();
    let all = h.walk(&format!("{ASSETS}&orderBy=id"), 1000, &token).await;
    assert_eq!(all.len(), total);
    let budget = if cfg!(debug_assertions) { 30 } else { 3 };
    assert!(
        start.elapsed() < Duration::from_secs(budget),
        "took {:?}",
        start.elapsed()
    );
    // Once rendered, a late page costs no more than an early one: both are slices.
    let t = std::time::Instant::now();
    for _ in 0..20 {
        h.get_with(&format!("{ASSETS}&resultsPerPage=100&pageNum=1"), &token)
            .await;
    }
    let early = t.elapsed();
    let t = std::time::Instant::now();
    let last = total.div_ceil(100);
    for _ in 0..20 {
        h.get_with(
            &format!("{ASSETS}&resultsPerPage=100&pageNum={last}&orderDir=desc"),
            &token,
        )
        .await;
    }
    let late = t.elapsed();
    assert!(
        late < early * 4 + Duration::from_millis(50),
        "early {early:?}, late {late:?}"
    );
}

#[tokio::test]
async fn dropping_the_server_stops_it() {
    let h = Harness::new(opts(7, 1, 1)).await;
    let url = h.url(ASSETS);
    h.sim.faults().push(FaultRule::always(Fault::Hang));
    let hung = tokio::spawn({
        let http = h.http.clone();
        let url = url.clone();
        async move { http.get(url).send().await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(h.server);
    let ended = tokio::time::timeout(Duration::from_secs(5), hung).await;
    assert!(ended.is_ok(), "a hung request ends when the server stops");
    assert!(h.http.get(url).send().await.is_err());
}

// ---- clients added by tests ---------------------------------------------------------------------

/// The value text of the details field labelled `label`.
fn field_text<'v>(details: &'v Value, label: &str) -> Option<&'v str> {
    let i = ASSET_FIELDS.iter().position(|f| *f == label)?;
    details[i.to_string()]["value"]["text"].as_str()
}

#[tokio::test]
async fn added_clients_are_listed_like_seeded_ones() {
    let h = Harness::new(opts(7, 3, 4)).await;
    let token = h.token().await;
    let before = h.sim.clients();
    let docs_before = h.sim.document_count();
    let max = before.iter().map(|c| c.id).max().expect("clients");
    let name = "Smith & O'Brien <Known> \"Answer\"";
    let id = h.sim.add_client(name);
    assert!(id > max, "the sequence goes on: {id} after {max}");
    assert_eq!(id.to_string().len(), 8);
    let second = h.sim.add_client("Second Known Answer");
    assert!(second > id);
    let c = h
        .sim
        .clients()
        .into_iter()
        .find(|c| c.id == id)
        .expect("held");
    assert_eq!(c.decoded_name, name);
    assert_eq!(
        c.name,
        "Smith &amp; O&#039;Brien &lt;Known&gt; &quot;Answer&quot;"
    );
    assert_eq!(c.shared_name, None);
    // Like seeded clients it comes with a location and contacts.
    assert!(h.sim.document_count() >= docs_before + 2 * 2);

    // The client list: last (id order), with the name encoded as Passportal stores it, shaped
    // like every other item.
    let r = h
        .get_with(&format!("{CLIENTS_PATH}?resultsPerPage=1000"), &token)
        .await;
    assert_eq!(r.status, 200);
    for item in members(text(&r.body), "results") {
        assert_eq!(keys(&item), ["id", "name"]);
    }
    let listed = r.json()["results"].as_array().cloned().expect("results");
    assert_eq!(listed.len(), before.len() + 2);
    assert_eq!(ids(&listed[listed.len() - 2..]), [id, second]);
    let mine = &listed[listed.len() - 2];
    assert_eq!(mine["name"], c.name.as_str());
    assert_eq!(html_decode(mine["name"].as_str().unwrap_or("")), name);

    // Its locations and contacts are documents of the client.
    let own = h
        .walk(&format!("/api/v2/documents?clientId={id}"), 100, &token)
        .await;
    let kinds: HashSet<&str> = own.iter().filter_map(|d| d["type"].as_str()).collect();
    assert!(
        kinds.contains("location") && kinds.contains("contact"),
        "{kinds:?}"
    );
    assert!(
        own.iter()
            .all(|d| d["client_id"] == id || d["type"] == "vendor")
    );
    let now = chrono::Utc::now() + chrono::Duration::seconds(5);
    for d in &own {
        let at = d["last_modified"].as_str().expect("last_modified");
        let at = chrono::DateTime::parse_from_rfc3339(at).expect("time");
        assert!(at <= now, "{at} is in the future");
    }

    // An asset added to it takes every identifying field a test sets.
    let asset = h.sim.add_asset(id).expect("client exists");
    assert!(h.sim.update_asset(asset, |a| {
        a.label = "KAL-FW01".to_owned();
        a.asset_type = Some("Firewall".to_owned());
        a.serial = Some("FGT60FTK20000001".to_owned());
        a.mac_address = Some("00:09:0F:AA:00:01, 00:09:0F:AA:00:02".to_owned());
        a.manufacturer = Some("Fortinet".to_owned());
        a.model = Some("FortiGate 60F".to_owned());
    }));
    let assets = h
        .walk(&format!("{ASSETS}&clientId={id}"), 100, &token)
        .await;
    assert_eq!(ids(&assets), [asset]);
    assert_eq!(assets[0]["label"], "KAL-FW01");
    assert_eq!(assets[0]["client_id"], id);
    assert_eq!(assets[0]["clientName"], c.name.as_str());
    let d = h.json(&format!("{DOCUMENTS_PATH}/{asset}"), &token).await;
    let details = &d["details"];
    assert_eq!(details["name"], "KAL-FW01");
    assert_eq!(field_text(details, "Type"), Some("Firewall"));
    assert_eq!(
        field_text(details, "Serial Number"),
        Some("FGT60FTK20000001")
    );
    assert_eq!(
        field_text(details, "MAC Address"),
        Some("00:09:0F:AA:00:01, 00:09:0F:AA:00:02")
    );
    assert_eq!(field_text(details, "Model"), Some("FortiGate 60F"));
    // Clearing a field sends null, as for seeded assets.
    h.sim.update_asset(asset, |a| a.serial = None);
    let d = h.json(&format!("{DOCUMENTS_PATH}/{asset}"), &token).await;
    let serial = ASSET_FIELDS
        .iter()
        .position(|f| *f == "Serial Number")
        .expect("field");
    assert!(d["details"][serial.to_string()].is_null());
}

#[tokio::test]
async fn a_tenant_without_clients_keeps_the_msps_own() {
    let h = Harness::new(opts(7, 0, 0)).await;
    let token = h.token().await;
    let clients = h.sim.clients();
    assert_eq!(clients.len(), 1);
    assert_eq!(clients[0].decoded_name, INTERNAL_CLIENT);
    assert!(h.sim.assets().is_empty());
    let listed = h.walk(CLIENTS_PATH, 10, &token).await;
    assert_eq!(ids(&listed), [clients[0].id]);
    assert!(h.walk(ASSETS, 10, &token).await.is_empty());
    // Its own locations and contacts are still there; vendors come only with assets.
    let docs = h.walk("/api/v2/documents", 100, &token).await;
    assert!(!docs.is_empty());
    assert!(docs.iter().all(|d| d["type"] != "vendor"));

    let a = h.sim.add_client("Alpha");
    let asset = h.sim.add_asset(a).expect("client exists");
    let listed = h.walk(CLIENTS_PATH, 10, &token).await;
    assert_eq!(ids(&listed), [clients[0].id, a]);
    assert_eq!(ids(&h.walk(ASSETS, 10, &token).await), [asset]);

    // Clients without assets are fine too.
    let h = Harness::new(opts(7, 4, 0)).await;
    assert_eq!(h.sim.clients().len(), 5);
    assert!(h.sim.assets().is_empty());
}

#[tokio::test]
async fn control_surface_adds_clients() {
    let h = Harness::new(opts(7, 2, 1)).await;
    let url = h.url("/_sim/clients");
    let resp = h
        .http
        .post(&url)
        .body(r#"{"name":"Smith & Sons Test"}"#)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 201);
    let created: Value = resp.json().await.expect("json");
    let id = created["id"].as_i64().expect("id");
    assert_eq!(created["client"]["id"], id);
    assert_eq!(created["client"]["decoded_name"], "Smith & Sons Test");
    assert_eq!(created["client"]["name"], "Smith &amp; Sons Test");
    let token = h.token().await;
    let listed = h.walk(CLIENTS_PATH, 100, &token).await;
    assert_eq!(listed.last().map(|c| c["id"].clone()), Some(json!(id)));
    assert_eq!(
        listed.last().map(|c| c["name"].clone()),
        Some(json!("Smith &amp; Sons Test"))
    );
    let resp = h
        .http
        .post(h.url("/_sim/assets"))
        .body(format!("{{\"client_id\":{id}}}"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 201);

    let count = h.sim.clients().len();
    for bad in [
        "nope",
        "[1]",
        "{}",
        r#"{"name":5}"#,
        r#"{"name":null}"#,
        r#"{"name":"  "}"#,
        r#"{"business_name":"Wrong key"}"#,
    ] {
        let resp = h.http.post(&url).body(bad).send().await.expect("send");
        assert_eq!(resp.status().as_u16(), 400, "{bad}");
        let body: Value = resp.json().await.expect("json");
        assert!(body["error"].is_string(), "{bad}");
    }
    assert_eq!(h.sim.clients().len(), count, "a bad body adds nothing");
}

// ---- Switches for what real Passportal may do (module docs, "Switches") ------------------------

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

fn not_found_403() -> Value {
    json!({"success":"false","message":"not found.","code":0,"status":403})
}

/// The list item of document `id` in a walk of every asset document, if listed.
async fn listed_item(h: &Harness, token: &str, id: i64) -> Option<Value> {
    h.walk(&format!("{ASSETS}&orderBy=id"), 1000, token)
        .await
        .into_iter()
        .find(|d| d["id"] == id)
}

#[tokio::test]
async fn unreadable_documents_are_listed_but_refused() {
    let h = Harness::new(opts(7, 2, 5)).await;
    let token = h.token().await;
    let id = h.sim.assets()[2].id;
    let detail = format!("{DOCUMENTS_PATH}/{id}");
    assert_eq!(h.sim.accessible(id), Some(true));
    assert_eq!(h.get_with(&detail, &token).await.status, 200);
    let before = listed_item(&h, &token, id).await.expect("listed");
    assert_eq!(before["accessible"], true);

    assert!(h.sim.set_accessible(id, false));
    assert!(!h.sim.set_accessible(1, false));
    assert_eq!(h.sim.accessible(id), Some(false));
    assert_eq!(h.sim.accessible(1), None);
    assert_eq!(h.sim.inaccessible_documents(), vec![id]);
    let item = listed_item(&h, &token, id).await.expect("still listed");
    assert_eq!(item["accessible"], false);
    assert_eq!(item["last_modified"], before["last_modified"], "no change");
    let r = h.get_with(&detail, &token).await;
    assert_eq!(
        (r.status, r.content_type.as_str()),
        (403, "application/json")
    );
    assert_eq!(r.json(), not_found_403());
    // A change to the document keeps it unreadable.
    assert!(h.sim.update_asset(id, |a| a.serial = Some("S-1".into())));
    assert_eq!(h.get_with(&detail, &token).await.status, 403);

    assert!(h.sim.set_accessible(id, true));
    assert_eq!(h.get_with(&detail, &token).await.status, 200);
    assert_eq!(
        listed_item(&h, &token, id).await.expect("listed")["accessible"],
        true
    );

    // Over HTTP, for any document type.
    let (status, _) = control(
        &h,
        reqwest::Method::PUT,
        &format!("/documents/{id}/accessible"),
        r#"{"accessible":false}"#,
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(h.get_with(&detail, &token).await.json(), not_found_403());
    let vendor = h
        .walk(&format!("{DOCUMENTS_PATH}?type=vendor"), 1000, &token)
        .await[0]["id"]
        .as_i64()
        .expect("a vendor document");
    let (status, _) = control(
        &h,
        reqwest::Method::PUT,
        &format!("/documents/{vendor}/accessible"),
        r#"{"accessible":false}"#,
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(
        h.get_with(&format!("{DOCUMENTS_PATH}/{vendor}"), &token)
            .await
            .status,
        403
    );
    let (_, state) = control(&h, reqwest::Method::GET, "/state", "").await;
    let mut want = vec![id, vendor];
    want.sort_unstable();
    assert_eq!(state["inaccessible_documents"], json!(want));
    for (path, body, code) in [
        ("/documents/1/accessible", r#"{"accessible":false}"#, 404),
        ("/documents/x/accessible", r#"{"accessible":false}"#, 404),
        ("/documents/1/accessible", r#"{"accessible":"no"}"#, 400),
    ] {
        assert_eq!(
            control(&h, reqwest::Method::PUT, path, body).await.0,
            code,
            "{path} {body}"
        );
    }
}

#[tokio::test]
async fn vanishing_documents_go_once_a_page_lists_them() {
    let h = Harness::new(opts(7, 2, 5)).await;
    let token = h.token().await;
    let assets = h.sim.assets();
    let doomed = assets
        .iter()
        .find(|a| a.client_id == assets[0].client_id)
        .expect("asset");
    let other_client = assets
        .iter()
        .map(|a| a.client_id)
        .find(|c| *c != doomed.client_id)
        .expect("another client");
    let id = doomed.id;
    let detail = format!("{DOCUMENTS_PATH}/{id}");
    assert!(h.sim.vanish_after_listing(id));
    assert!(!h.sim.vanish_after_listing(1));
    assert_eq!(h.sim.vanishing_documents(), vec![id]);
    // Until a page carries it, it is there; a page without it changes nothing.
    assert_eq!(h.get_with(&detail, &token).await.status, 200);
    let elsewhere = h
        .json(
            &format!("{ASSETS}&clientId={other_client}&resultsPerPage=1000"),
            &token,
        )
        .await;
    assert!(!ids(elsewhere["results"].as_array().expect("results")).contains(&id));
    assert!(h.sim.asset(id).is_some());

    // The page that lists it is the last to carry it.
    let page = h
        .json(
            &format!("{ASSETS}&clientId={}&resultsPerPage=1000", doomed.client_id),
            &token,
        )
        .await;
    assert!(ids(page["results"].as_array().expect("results")).contains(&id));
    assert!(h.sim.asset(id).is_none());
    assert!(h.sim.vanishing_documents().is_empty());
    let r = h.get_with(&detail, &token).await;
    assert_eq!((r.status, r.json()), (403, not_found_403()));
    assert!(listed_item(&h, &token, id).await.is_none());

    // Over HTTP.
    let next = h.sim.assets()[0].id;
    let (status, _) = control(
        &h,
        reqwest::Method::POST,
        &format!("/documents/{next}/vanish-after-listing"),
        "",
    )
    .await;
    assert_eq!(status, 204);
    let (_, state) = control(&h, reqwest::Method::GET, "/state", "").await;
    assert_eq!(state["vanishing_documents"], json!([next]));
    assert!(listed_item(&h, &token, next).await.is_some());
    assert!(listed_item(&h, &token, next).await.is_none());
    let (status, _) = control(
        &h,
        reqwest::Method::POST,
        "/documents/1/vanish-after-listing",
        "",
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn one_list_page_can_fail_in_passportals_envelope() {
    let h = Harness::new(opts(7, 2, 5)).await;
    let token = h.token().await;
    let page = |n: u32| format!("{ASSETS}&orderBy=id&resultsPerPage=3&pageNum={n}&x=1");
    let plan = h.sim.faults();
    let on_page_two = |f: Fault| {
        FaultRule::times(f, 1)
            .on(DOCUMENTS_PATH)
            .with_query("pageNum=2&")
    };

    plan.push(on_page_two(Fault::ErrorStatus {
        status: 404,
        message: PAGE_NUM_MESSAGE.to_owned(),
    }));
    assert_eq!(h.get_with(&page(1), &token).await.status, 200);
    assert_eq!(h.get_with(&page(3), &token).await.status, 200);
    let r = h.get_with(&page(2), &token).await;
    assert_eq!(
        (r.status, r.content_type.as_str()),
        (404, "application/json")
    );
    assert_eq!(
        r.json(),
        json!({"success":"false","message":PAGE_NUM_MESSAGE,"code":0,"status":404})
    );
    assert_eq!(h.get_with(&page(2), &token).await.status, 200, "used up");

    plan.push(on_page_two(Fault::SuccessFalse {
        message: "not found.".to_owned(),
    }));
    let r = h.get_with(&page(2), &token).await;
    assert_eq!(
        (r.status, r.content_type.as_str()),
        (200, "application/json")
    );
    assert_eq!(
        r.json(),
        json!({"success":"false","message":"not found.","code":0,"status":200})
    );

    plan.push(on_page_two(Fault::ServerError(500)));
    let r = h.get_with(&page(2), &token).await;
    assert_eq!(
        (r.status, r.json()),
        (
            500,
            json!({"success":"false","message":"Unexpected error.","code":0,"status":500})
        )
    );
    // A detail request is no list page.
    plan.push(on_page_two(Fault::ServerError(500)));
    let id = h.sim.assets()[0].id;
    assert_eq!(
        h.get_with(&format!("{DOCUMENTS_PATH}/{id}"), &token)
            .await
            .status,
        200
    );
    plan.clear();

    // Over HTTP.
    let (status, _) = control(
        &h,
        reqwest::Method::POST,
        "/faults",
        r#"{"fault":{"kind":"success_false","message":"Unexpected error."},
            "path_prefix":"/api/v2/documents","query_contains":"pageNum=2&","times":1}"#,
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(h.get_with(&page(1), &token).await.json()["success"], true);
    assert_eq!(
        h.get_with(&page(2), &token).await.json()["success"],
        "false"
    );
    assert_eq!(h.get_with(&page(2), &token).await.json()["success"], true);
}

fn date_of(r: &reqwest::Response) -> chrono::DateTime<chrono::Utc> {
    let raw = r
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
async fn clock_skew_moves_expiry_time_and_the_date() {
    use chrono::{Duration as Skew, Utc};
    let h = Harness::new(opts(7, 1, 2)).await;
    h.sim.set_quirks(Quirks {
        expiry_time: ExpiryTime::Number,
        ..Quirks::default()
    });
    let near = |a: i64, b: i64| (a - b).abs() <= 5;
    // Without skew: an hour from the host's now, and dated now.
    let resp = h
        .http
        .post(h.url(TOKEN_PATH))
        .header("x-key", h.sim.access_key_id())
        .header(
            "x-hash",
            hmac_hex(h.sim.secret_access_key().as_bytes(), b"c"),
        )
        .json(&json!({"scope": "docs_api", "content": "c"}))
        .send()
        .await
        .expect("send");
    assert!(near(date_of(&resp).timestamp(), Utc::now().timestamp()));
    let v: Value = resp.json().await.expect("json");
    let exp = v["expiry_time"].as_i64().expect("number");
    assert!(near(exp, Utc::now().timestamp() + 3600), "{exp}");

    // Half an hour behind: the token still lives an hour by the simulator's clock, but by the
    // host's clock its expiry_time is only half an hour away.
    h.sim.set_clock_skew(Skew::minutes(-30));
    assert_eq!(h.sim.clock_skew(), Skew::minutes(-30));
    let r = h
        .exchange_with(&h.sim.access_key_id(), &h.sim.secret_access_key(), "c")
        .await
        .json();
    let exp = r["expiry_time"].as_i64().expect("number");
    assert!(near(exp, Utc::now().timestamp() + 1800), "{exp}");
    let token = r["access_token"].as_str().expect("token").to_owned();
    let resp = h
        .http
        .get(h.url(ASSETS))
        .header("x-access-token", &token)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 200);
    assert!(near(
        date_of(&resp).timestamp(),
        (Utc::now() - Skew::minutes(30)).timestamp()
    ));

    // Two hours ahead (over HTTP): the same token is now past its expiry_time.
    let (status, v) = control(
        &h,
        reqwest::Method::PUT,
        "/clock",
        r#"{"skew_seconds":7200}"#,
    )
    .await;
    assert_eq!((status, v["skew_seconds"].as_f64()), (200, Some(7200.0)));
    let r = h.get_with(ASSETS, &token).await;
    assert_eq!(
        (r.status, r.json()),
        (401, invalid_token("Invalid token: Expired token."))
    );
    let resp = h.http.get(h.url(ASSETS)).send().await.expect("send");
    assert!(near(
        date_of(&resp).timestamp(),
        (Utc::now() + Skew::hours(2)).timestamp()
    ));
    // The skew stamps changes too.
    let id = h.sim.assets()[0].id;
    assert!(h.sim.update_asset(id, |a| a.model = Some("M".into())));
    let stamped = h.sim.asset(id).expect("asset").last_modified;
    assert!(
        near(
            stamped.timestamp(),
            (Utc::now() + Skew::hours(2)).timestamp()
        ),
        "{stamped}"
    );
    assert_eq!(
        control(&h, reqwest::Method::PUT, "/clock", "{}").await.0,
        400
    );
}

#[tokio::test]
async fn a_new_token_can_revoke_the_old_ones() {
    let h = Harness::new(opts(7, 1, 2)).await;
    let revoked = invalid_token("Invalid token: Token revoked.");
    // Off: every token lives until it expires.
    let (a, b) = (h.token().await, h.token().await);
    for t in [&a, &b] {
        assert_eq!(h.get_with(ASSETS, t).await.status, 200);
    }
    assert!(!h.sim.new_token_revokes_old());
    h.sim.set_new_token_revokes_old(true);
    assert!(h.sim.new_token_revokes_old());
    // Still valid until a new one is issued.
    assert_eq!(h.get_with(ASSETS, &a).await.status, 200);
    let exchanges = h.sim.token_exchanges();
    let c = h.token().await;
    assert_eq!(h.sim.token_exchanges(), exchanges + 1);
    for t in [&a, &b] {
        let r = h.get_with(ASSETS, t).await;
        assert_eq!((r.status, r.json()), (401, revoked.clone()));
    }
    assert_eq!(h.get_with(ASSETS, &c).await.status, 200);
    let d = h.token().await;
    assert_eq!(h.get_with(ASSETS, &c).await.json(), revoked);
    assert_eq!(h.get_with(ASSETS, &d).await.status, 200);

    // Over HTTP: off again, a new token leaves the last one alone.
    let (status, v) = control(
        &h,
        reqwest::Method::PUT,
        "/new-token-revokes-old",
        r#"{"on":false}"#,
    )
    .await;
    assert_eq!((status, v["on"].as_bool()), (200, Some(false)));
    let e = h.token().await;
    for t in [&d, &e] {
        assert_eq!(h.get_with(ASSETS, t).await.status, 200);
    }
    assert_eq!(
        control(&h, reqwest::Method::GET, "/new-token-revokes-old", "")
            .await
            .1["on"],
        false
    );
    assert_eq!(
        control(&h, reqwest::Method::PUT, "/new-token-revokes-old", "[]")
            .await
            .0,
        400
    );
}

#[tokio::test]
async fn last_modified_moves_with_every_change_and_only_then() {
    let h = Harness::new(opts(7, 2, 4)).await;
    let token = h.token().await;
    let id = h.sim.assets()[1].id;
    let stamp = |v: &Value| {
        v["last_modified"]
            .as_str()
            .expect("last_modified")
            .to_owned()
    };
    let first = stamp(&listed_item(&h, &token, id).await.expect("listed"));
    assert_eq!(
        stamp(&listed_item(&h, &token, id).await.expect("listed")),
        first
    );
    // Three changes within the same second still give three stamps.
    let mut seen = vec![first];
    for n in 0..3 {
        assert!(
            h.sim
                .update_asset(id, |a| a.notes = Some(format!("change {n}")))
        );
        let now = stamp(&listed_item(&h, &token, id).await.expect("listed"));
        assert!(now > *seen.last().expect("a stamp"), "{now} after {seen:?}");
        seen.push(now);
    }
    // Reading it (list, detail) changes nothing.
    let details_before = h.sim.detail_requests();
    let lists_before = h.sim.requests_for(DOCUMENTS_PATH);
    let d = h.get_with(&format!("{DOCUMENTS_PATH}/{id}"), &token).await;
    assert_eq!(d.status, 200);
    assert_eq!(
        h.get_with(&format!("{DOCUMENTS_PATH}/1"), &token)
            .await
            .status,
        403
    );
    assert_eq!(
        h.get_with(&format!("{DOCUMENTS_PATH}/x"), &token)
            .await
            .status,
        400
    );
    assert_eq!(h.get_with(CLIENTS_PATH, &token).await.status, 200);
    assert_eq!(
        h.get_with(&format!("{DOCUMENTS_PATH}/all"), &token)
            .await
            .status,
        200
    );
    assert_eq!(
        h.sim.detail_requests(),
        details_before + 3,
        "only the three detail calls"
    );
    assert_eq!(h.sim.requests_for(DOCUMENTS_PATH), lists_before + 5);
    assert_eq!(
        stamp(&listed_item(&h, &token, id).await.expect("listed")),
        *seen.last().expect("a stamp")
    );
    let (_, state) = control(&h, reqwest::Method::GET, "/state", "").await;
    assert_eq!(
        state["detail_requests"].as_u64(),
        Some(h.sim.detail_requests())
    );
}

/// A server capping pages cuts them with the size it serves, or (`PageOffset::Requested`)
/// starts them where the size asked says: then asking more than the cap skips documents.
#[tokio::test]
async fn page_offsets_follow_the_size_served_or_the_size_asked() {
    let h = Harness::new(PassportalSimOptions {
        page_size_cap: 20,
        ..opts(11, 6, 20)
    })
    .await;
    let token = h.token().await;
    let all: Vec<i64> = h.sim.assets().iter().map(|a| a.id).collect();
    assert!(all.len() >= 120, "{} documents", all.len());
    let page = |n: usize, per: usize| {
        let h = &h;
        let token = &token;
        async move {
            let v = h
                .json(
                    &format!("{ASSETS}&orderBy=id&resultsPerPage={per}&pageNum={n}"),
                    token,
                )
                .await;
            ids(v["results"].as_array().map_or(&[][..], Vec::as_slice))
        }
    };
    // Served (the default): page 2 of 100 asked is items 21..=40.
    assert_eq!(page(1, 100).await, all[..20]);
    assert_eq!(page(2, 100).await, all[20..40]);
    h.sim.set_quirks(Quirks {
        page_offset: PageOffset::Requested,
        ..Quirks::default()
    });
    // Requested: page 2 of 100 asked starts at item 101; asking the cap loses nothing.
    assert_eq!(page(1, 100).await, all[..20]);
    assert_eq!(page(2, 100).await, all[100..120]);
    assert_eq!(page(2, 20).await, all[20..40]);
    assert_eq!(
        h.walk(&format!("{ASSETS}&orderBy=id"), 20, &token)
            .await
            .len(),
        all.len()
    );
}

/// `TokenRefusal::Http200`: a refused token is answered 200, the 1006 envelope inside.
#[tokio::test]
async fn token_refusals_can_come_inside_a_200() {
    let h = Harness::new(opts(12, 2, 3)).await;
    let token = h.token().await;
    h.sim.expire_tokens();
    let r = h.get_with(ASSETS, &token).await;
    assert_eq!(
        (r.status, r.json()),
        (401, invalid_token("Invalid token: Expired token."))
    );
    h.sim.set_quirks(Quirks {
        token_refusal: TokenRefusal::Http200,
        ..Quirks::default()
    });
    let r = h.get_with(ASSETS, &token).await;
    assert_eq!(
        (r.status, r.json()),
        (200, invalid_token("Invalid token: Expired token."))
    );
    let fresh = h.token().await;
    assert_eq!(h.get_with(ASSETS, &fresh).await.status, 200);
}
