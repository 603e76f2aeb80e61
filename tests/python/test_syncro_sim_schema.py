"""The Syncro simulator's responses validated against Syncro's own swagger document (CONTRACT §8).

Starts `$ASSETD_BIN sim syncro ...`, calls every path the simulator serves (successes, 401, 404,
429) with all three token forms, and validates each body against what
`syncro-swagger.json` declares for that path. The spec is not part of the repository: it is
loaded from the folder `$ASSETD_VENDOR_SPECS` names (the module is skipped without it;
`tests/python_interop.rs` leaves it out and says so); nothing of it is copied here. Syncro's
document gives a real response schema for only one of these paths, so:

* **Paths with only an example** (`GET /customer_assets`, `/customers`, `/customers/{id}`, `/me`,
  and the error bodies) are checked against a schema *derived from the spec's own example*: every
  key of the example is required, with the example value's JSON type, nested objects likewise,
  and no other keys. A key whose example value is `null` may hold anything (the example only says
  it can be null); an example `{}` is a free-form object, an example `[]` an array of anything.
* **`GET /customer_assets/{id}`** has a schema, but a malformed one (research/syncro.md §3.2): its
  field list sits under `properties.properties`, and the `rmm_store` block has lost its name. As
  published it is not a valid JSON Schema (asserted) and constrains nothing an `{"asset": …}` body
  has (asserted: the body passes it). The body is then validated against the schema as *repaired*
  (the field list put under `asset`, the nameless block under `asset.rmm_store`), and also against
  the schema derived from the spec's `POST /customer_assets` example, which is the same asset
  object wrapped the same way.

Relaxations, each with its reason (and nothing else may be `null`):

1. The `/customer_assets` example has no `meta`; real responses do (research/syncro.md §3.1, a
   live log and clients reading `meta.total_pages`). Its `meta` is derived from the `/customers`
   example's.
2. `asset.properties` is free-form (notes §3.3/§3.4: agent data or custom fields keyed by display
   names; the example's `OS`/`Size` keys are one asset's custom fields, not a fixed shape).
3. `asset_serial` may be `null` (notes §3.3: "may be null or empty in practice").
4. The asset carries `has_live_chat` and `snmp_enabled`, and `rmm_store` carries
   `override_low_hd_thresholds`: fields the spec's own detail schema names but its example lacks.
5. In the repaired detail schema, `customer` (typed `["null"]`) is the nested customer object every
   example shows; `external_rmm_link` (typed `["null"]`) is a string or null (notes §3.3: "string
   URL or null"); `asset_serial` as in 3; `rmm_links.items: []` (a draft-4 tuple form that is
   invalid in JSON Schema 2020-12) is dropped.
6. Error bodies: the spec declares no 401 or 429 on these paths. A 401 is checked against the 401
   example Syncro documents on `/contacts`, a 404 for an asset against the `/customer_assets/{id}/
   patches` 404 example, a 404 for a customer against the "Customer not found" 404 example of
   `POST /contacts`, and the simulator's 429 (undocumented at Syncro) against the same
   `{"error": …}` shape as the 401.
7. With the simulator's spec-example paging switched on, `/customer_assets` answers the shape of
   the spec's own example, without `meta`; that body is checked against the derived schema
   without relaxation 1.
"""

import copy
import json
import os
import re
import select
import signal
import subprocess
from pathlib import Path

import pytest
import requests
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

REPO = Path(__file__).resolve().parents[2]
SPECS = os.environ.get("ASSETD_VENDOR_SPECS")
SPEC_PATH = Path(SPECS or ".") / "syncro-swagger.json"
if not SPECS or not SPEC_PATH.is_file():
    pytest.skip(
        "checks against Syncro's published swagger document: set ASSETD_VENDOR_SPECS to the "
        "folder holding syncro-swagger.json to run them",
        allow_module_level=True,
    )
ASSETD = os.environ.get("ASSETD_BIN") or str(REPO / "target" / "debug" / "assetd")

SPEC = json.loads(SPEC_PATH.read_text())
CLIENTS, PER_CLIENT = 16, 30
JSON_CT = "application/json; charset=utf-8"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
PERMISSION_MESSAGE = "Not authorized. Please ask account admin to update your group permissions."
ASSET_EXTRAS = {"has_live_chat": {"type": "boolean"}, "snmp_enabled": {"type": ["boolean", "null"]}}
SEEN = {"nulls": set(), "types": set(), "statuses": set(), "big_ids": 0}


# ---- schemas derived from the spec -------------------------------------------------------------

def op(path, method="get"):
    return SPEC["paths"][path][method]


def example(path, status="200", method="get"):
    """The example the spec gives for a response (either `example` or the first `examples`)."""
    content = op(path, method)["responses"][status]["content"]
    (media,) = content.values()
    if "example" in media:
        return copy.deepcopy(media["example"])
    return copy.deepcopy(next(iter(media["examples"].values()))["value"])


def from_example(value):
    """A strict JSON Schema for documents shaped like the example value."""
    if value is None:
        return {}
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, float):
        return {"type": "number"}
    if isinstance(value, str):
        return {"type": "string"}
    if isinstance(value, list):
        return {"type": "array", "items": from_example(value[0])} if value else {"type": "array"}
    if not value:
        return {"type": "object"}
    return {
        "type": "object",
        "properties": {k: from_example(v) for k, v in value.items()},
        "required": list(value),
        "additionalProperties": False,
    }


def asset_item_schema(asset_example):
    """The list example's asset, with relaxations 2–4."""
    s = from_example(asset_example)
    props = s["properties"]
    assert set(props["properties"]["properties"]) == {"OS", "Size"}, "spec example changed"
    props["properties"] = {"type": "object"}  # 2
    assert props["asset_serial"] == {"type": "string"}
    props["asset_serial"] = {"type": ["string", "null"]}  # 3
    detail_fields = detail_published()["properties"]["properties"]
    for k, v in ASSET_EXTRAS.items():  # 4
        assert detail_fields[k] == v, "detail schema changed"
        props[k] = v
        s["required"].append(k)
    rmm = props["rmm_store"]
    assert "override_low_hd_thresholds" in detail_fields["properties"]
    rmm["properties"]["override_low_hd_thresholds"] = {}
    rmm["required"].append("override_low_hd_thresholds")
    return s


def asset_list_schema(meta=True):
    ex = example("/customer_assets")
    assert set(ex) == {"assets"}, "the spec's asset list example gained keys; revisit relaxation 1"
    s = {
        "type": "object",
        "properties": {
            "assets": {"type": "array", "items": asset_item_schema(ex["assets"][0])},
        },
        "required": ["assets"],
        "additionalProperties": False,
    }
    if meta:
        s["properties"]["meta"] = from_example(example("/customers")["meta"])  # 1
        s["required"].append("meta")
    return s


def asset_post_schema():
    ex = example("/customer_assets", method="post")
    return {
        "type": "object",
        "properties": {"asset": asset_item_schema(ex["asset"])},
        "required": ["asset"],
        "additionalProperties": False,
    }


def detail_published():
    return op("/customer_assets/{id}")["responses"]["200"]["content"]["*/*"]["schema"]


def detail_repaired():
    """Relaxation 5: the published detail schema with its nesting put right."""
    fields = copy.deepcopy(detail_published()["properties"]["properties"])
    assert fields.pop("type") == "object"
    rmm = fields.pop("properties")
    assert rmm.pop("type") == "object" and rmm.pop("properties") == {}
    fields["rmm_store"] = {"type": "object", "properties": rmm, "required": list(rmm)}
    assert fields["customer"] == {"type": ["null"]}
    nested_customer = from_example(example("/customer_assets")["assets"][0]["customer"])
    fields["customer"] = nested_customer
    assert fields["external_rmm_link"] == {"type": ["null"]}
    fields["external_rmm_link"] = {"type": ["string", "null"]}
    assert fields["asset_serial"] == {"type": "string"}
    fields["asset_serial"] = {"type": ["string", "null"]}
    assert fields["rmm_links"] == {"type": "array", "items": []}
    fields["rmm_links"] = {"type": "array"}
    asset = {"type": "object", "properties": fields, "required": list(fields)}
    return {"type": "object", "properties": {"asset": asset}, "required": ["asset"]}


def wrapped(key, item_schema):
    return {"type": "object", "properties": {key: item_schema}, "required": [key], "additionalProperties": False}


SCHEMAS = {
    "assets": asset_list_schema(),
    "assets_spec_example": asset_list_schema(meta=False),  # 7
    "asset_post": asset_post_schema(),
    "asset_detail": detail_repaired(),
    "customers": from_example(example("/customers")),
    "customer": from_example(example("/customers/{id}")),
    "me": from_example(example("/me")),
    "401": from_example(example("/contacts", "401")),
    "404_asset": from_example(example("/customer_assets/{id}/patches", "404")),
    "404_customer": from_example(example("/contacts", "404", method="post")),
}
for _s in SCHEMAS.values():
    Draft202012Validator.check_schema(_s)


def validate(name, body):
    errors = sorted(Draft202012Validator(SCHEMAS[name]).iter_errors(body), key=lambda e: list(e.path))
    assert not errors, f"{name}: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def null_paths(value, path=""):
    if value is None:
        yield path
    elif isinstance(value, dict):
        for k, v in value.items():
            # Inside the free-form `properties`, nulls are data, not fields.
            if k != "properties":
                yield from null_paths(v, f"{path}/{k}")
    elif isinstance(value, list):
        for v in value:
            yield from null_paths(v, f"{path}/*")


def check(resp, status, schema):
    """Asserts status, content type and body of a response; returns the JSON."""
    assert resp.status_code == status, f"{resp.request.url}: {resp.status_code} {resp.text[:300]}"
    SEEN["statuses"].add(status)
    assert resp.headers.get("Content-Type") == JSON_CT, resp.headers.get("Content-Type")
    body = resp.json()
    validate(schema, body)
    for p in null_paths(body):
        SEEN["nulls"].add(re.sub(r"^/\w+(/\*)?", "", p))
    return body


def check_timestamps(obj):
    for key in ("created_at", "updated_at"):
        assert TIMESTAMP.match(obj[key]), obj[key]
    for nested in ("rmm_store", "address", "customer"):
        if isinstance(obj.get(nested), dict):
            check_timestamps(obj[nested])


# ---- the simulator -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sim():
    proc = subprocess.Popen(
        [ASSETD, "sim", "syncro", "--listen", "127.0.0.1:0", "--seed", "7",
         "--clients", str(CLIENTS), "--assets-per-client", str(PER_CLIENT)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready, "the simulator printed nothing within 60 s"
        info = json.loads(proc.stdout.readline())
        for key in ("vendor", "base_url", "api_key", "limited_api_key", "subdomain"):
            assert key in info, f"{key} missing from {info}"
        assert info["vendor"] == "syncro" and info["base_url"].startswith("http://127.0.0.1:")
        assert info["api_url"] == info["base_url"] + "/api/v1"
        # Syncro's real 180/min would throttle this test; the limiter gets its own test below.
        assert control(info, "GET", "/rate-limit")["requests_per_minute"] == 180
        control(info, "PUT", "/rate-limit", {"requests_per_minute": 0})
        yield info
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)


def api(sim, path, token=None, how="bearer"):
    url = sim["base_url"] + "/api/v1" + path
    token = sim["api_key"] if token is None else token
    if how == "bearer":
        return requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    if how == "raw":
        return requests.get(url, headers={"Authorization": token}, timeout=30)
    if how == "query":
        sep = "&" if "?" in url else "?"
        return requests.get(f"{url}{sep}api_key={token}", timeout=30)
    return requests.get(url, timeout=30)


def control(sim, method, path, body=None):
    resp = requests.request(method, sim["base_url"] + "/_sim" + path, json=body, timeout=30)
    assert resp.status_code < 300, resp.text
    return resp.json() if resp.content else None


def all_assets(sim, query=""):
    sep = "&" if query else ""
    first = check(api(sim, f"/customer_assets?{query}{sep}page=1"), 200, "assets")
    pages = [first]
    for p in range(2, first["meta"]["total_pages"] + 1):
        pages.append(check(api(sim, f"/customer_assets?{query}{sep}page={p}"), 200, "assets"))
    for i, page in enumerate(pages, start=1):
        assert page["meta"]["page"] == i
        assert page["meta"]["total_pages"] == first["meta"]["total_pages"]
    return [a for page in pages for a in page["assets"]], first["meta"]


# ---- tests -------------------------------------------------------------------------------------

def test_the_published_detail_schema_is_malformed_and_vacuous(sim):
    with pytest.raises(SchemaError):
        Draft202012Validator.check_schema(detail_published())
    asset = check(api(sim, "/customer_assets?page=1"), 200, "assets")["assets"][0]
    body = check(api(sim, f"/customer_assets/{asset['id']}"), 200, "asset_detail")
    assert not list(Draft202012Validator(detail_published()).iter_errors(body))


def test_authentication(sim):
    for how in ("bearer", "raw", "query"):
        check(api(sim, "/customer_assets", how=how), 200, "assets")
        check(api(sim, "/customers", how=how), 200, "customers")
    lower = requests.get(sim["base_url"] + "/api/v1/me", headers={"Authorization": "bearer " + sim["api_key"]},
                         timeout=30)
    check(lower, 200, "me")
    for resp in (api(sim, "/customer_assets", how="none"), api(sim, "/customers", token="T-wrong"),
                 api(sim, "/me", token="T-wrong", how="query"), api(sim, "/customer_assets/1", how="none")):
        body = check(resp, 401, "401")
        assert body == {"error": "Not authorized"}
    limited = sim["limited_api_key"]
    for path in ("/customer_assets", "/customer_assets?page=2", "/customer_assets/12345678"):
        body = check(api(sim, path, token=limited), 401, "401")
        assert body == {"error": PERMISSION_MESSAGE}
    check(api(sim, "/customers", token=limited), 200, "customers")
    me = check(api(sim, "/me", token=limited), 200, "me")
    assert me["permissions"]["asset"]["read"] is False
    me = check(api(sim, "/me"), 200, "me")
    assert me["permissions"]["asset"]["read"] is True and me["subdomain"] == sim["subdomain"]


def test_asset_pages(sim):
    state = control(sim, "GET", "/state")
    assets, meta = all_assets(sim)
    assert meta["per_page"] == 50 and meta["total_entries"] == state["assets"] == len(assets)
    ids = [a["id"] for a in assets]
    assert ids == sorted(set(ids)), "ids unique and ascending"
    customers = {c["id"]: c for c in control(sim, "GET", "/customers")}
    for a in assets:
        check_timestamps(a)
        SEEN["types"].add(a["asset_type"])
        SEEN["big_ids"] += a["id"] > 2**31 - 1
        assert a["customer_id"] == a["customer"]["id"] and a["customer_id"] in customers
        assert a["rmm_store"]["asset_id"] == a["id"]
    for per_page in (7, 100):
        again, meta = all_assets(sim, f"per_page={per_page}")
        assert meta["per_page"] == per_page and [a["id"] for a in again] == ids
    capped = check(api(sim, "/customer_assets?per_page=500"), 200, "assets")
    assert capped["meta"]["per_page"] == 100
    past = check(api(sim, "/customer_assets?page=1000"), 200, "assets")
    assert past["assets"] == [] and past["meta"]["page"] == 1000
    assert past["meta"]["total_pages"] == -(-len(ids) // 50)


def test_asset_filters(sim):
    state = control(sim, "GET", "/state")
    assets, _ = all_assets(sim)
    customer = assets[len(assets) // 2]["customer_id"]
    got, _ = all_assets(sim, f"customer_id={customer}")
    assert [a["id"] for a in got] == [a["id"] for a in assets if a["customer_id"] == customer]
    for t in state["asset_types"]:
        got, meta = all_assets(sim, f"asset_type_id={t['id']}")
        assert [a["id"] for a in got] == [a["id"] for a in assets if a["asset_type"] == t["name"]], t
    got, _ = all_assets(sim, "snmp_enabled=true")
    assert got and all(a["snmp_enabled"] is True for a in got)
    got, _ = all_assets(sim, "query=laptop-")
    assert got and all("laptop-" in a["name"].lower() or "laptop-" in (a["asset_serial"] or "").lower()
                       for a in got)
    empty = check(api(sim, "/customer_assets?customer_id=1"), 200, "assets")
    assert empty["assets"] == [] and empty["meta"] == {"total_pages": 1, "total_entries": 0,
                                                       "per_page": 50, "page": 1}


def test_asset_details(sim):
    assets, _ = all_assets(sim)
    big = [a for a in assets if a["id"] > 2**31 - 1]
    assert big, "no ids past 2^31"
    for a in assets[::17] + big[:3]:
        resp = api(sim, f"/customer_assets/{a['id']}")
        body = check(resp, 200, "asset_detail")
        validate("asset_post", body)
        assert body["asset"] == a
    body = check(api(sim, "/customer_assets/1"), 404, "404_asset")
    assert body == {"error": "Asset not found"}
    check(api(sim, "/customer_assets/not-a-number"), 404, "404_asset")


def test_customers(sim):
    truth = control(sim, "GET", "/customers")
    listed = check(api(sim, "/customers"), 200, "customers")
    assert listed["meta"]["per_page"] == 100
    enabled = [c["id"] for c in truth if not c["disabled"]]
    assert [c["id"] for c in listed["customers"]] == enabled
    everyone = check(api(sim, "/customers?include_disabled=true"), 200, "customers")
    assert len(everyone["customers"]) == len(truth) == CLIENTS + CLIENTS // 8 + CLIENTS // 10
    assert any(c["business_name"] is None for c in everyone["customers"]), "no individuals"
    assert any(c["disabled"] for c in everyone["customers"]), "no disabled customers"
    paged = []
    for p in range(1, 100):
        page = check(api(sim, f"/customers?per_page=4&page={p}&include_disabled=true"), 200, "customers")
        paged += page["customers"]
        if p >= page["meta"]["total_pages"]:
            break
    assert paged == everyone["customers"]
    assets, _ = all_assets(sim)
    by_id = {c["id"]: c for c in everyone["customers"]}
    for c in everyone["customers"]:
        check_timestamps(c)
        one = check(api(sim, f"/customers/{c['id']}"), 200, "customer")
        assert one["customer"] == c
    for a in assets:
        # The nested customer is the listed one without `location_name` and `contacts`.
        full = {k: v for k, v in by_id[a["customer_id"]].items() if k not in ("location_name", "contacts")}
        assert a["customer"] == full
    name = next(c["business_name"] for c in truth if c["business_name"] and not c["disabled"])
    found = check(api(sim, "/customers?business_name=" + requests.utils.quote(name[:5].lower())), 200, "customers")
    assert name in [c["business_name"] for c in found["customers"]]
    body = check(api(sim, "/customers/1"), 404, "404_customer")
    assert body == {"message": "Not found"}


def test_rate_limit(sim):
    control(sim, "PUT", "/rate-limit", {"requests_per_minute": 3, "retry_after": True})
    try:
        for _ in range(3):
            check(api(sim, "/customers"), 200, "customers")
        resp = api(sim, "/customer_assets")
        body = check(resp, 429, "401")
        assert "rate limit" in body["error"].lower()
        assert 1 <= int(resp.headers["Retry-After"]) <= 60
        control(sim, "PUT", "/rate-limit", {"retry_after": False})
        resp = api(sim, "/me", how="none")
        check(resp, 429, "401")
        assert "Retry-After" not in resp.headers
        # An injected 429 (not the limiter's) has the same body shape.
        control(sim, "PUT", "/rate-limit", {"requests_per_minute": 0})
        control(sim, "POST", "/faults", {"fault": {"kind": "status429", "retry_after": 30}, "times": 1})
        resp = api(sim, "/customer_assets")
        check(resp, 429, "401")
        assert resp.headers["Retry-After"] == "30"
    finally:
        control(sim, "PUT", "/rate-limit", {"requests_per_minute": 0, "retry_after": False})
        control(sim, "DELETE", "/faults")


def test_mutations_stay_valid(sim):
    customer = next(c["id"] for c in control(sim, "GET", "/customers") if c["business_name"])
    created = control(sim, "POST", "/assets", {"customer_id": customer})
    aid = created["id"]
    control(sim, "PATCH", f"/assets/{aid}", {
        "name": "Lobby & Reception, AP #2", "asset_serial": None, "snmp_enabled": None,
        "contact_id": None, "external_rmm_link": None, "asset_type": "Wireless Bridge",
        "properties": {"Notes": "mounted high", "notes": "ladder needed", "MAC Address": None, "Ports": 8},
    })
    one = check(api(sim, f"/customer_assets/{aid}"), 200, "asset_detail")
    validate("asset_post", one)
    a = one["asset"]
    assert a["asset_serial"] is None and a["snmp_enabled"] is None and a["asset_type"] == "Wireless Bridge"
    assert a["properties"]["notes"] == "ladder needed" and a["properties"]["Notes"] == "mounted high"
    assets, _ = all_assets(sim)
    assert assets[-1]["id"] == aid, "a new asset has the highest id"
    control(sim, "DELETE", f"/assets/{aid}")
    check(api(sim, f"/customer_assets/{aid}"), 404, "404_asset")
    old = sim["api_key"]
    new = control(sim, "POST", "/rotate-key")["api_key"]
    try:
        check(api(sim, "/customers", token=old), 401, "401")
        check(api(sim, "/customers", token=new), 200, "customers")
    finally:
        sim["api_key"] = new


def test_non_json_faults_are_what_they_say(sim):
    """Faults send deliberately broken bodies; these are not validated, only recognised."""
    control(sim, "POST", "/faults", {"fault": {"kind": "plain_text"}, "times": 1})
    resp = api(sim, "/customer_assets")
    assert (resp.status_code, resp.headers["Content-Type"], resp.text) == (200, "text/plain; charset=utf-8",
                                                                          "Disabled")
    control(sim, "POST", "/faults", {"fault": {"kind": "wrong_content_type"}, "times": 1})
    resp = api(sim, "/customer_assets")
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/html")
    control(sim, "POST", "/faults", {"fault": {"kind": "unauthorized"}, "times": 1})
    check(api(sim, "/customer_assets"), 401, "401")
    assert control(sim, "GET", "/faults") == []


def test_list_switches_stay_valid(sim):
    """The simulator's switches for what real Syncro may do still answer valid bodies."""
    assets, meta = all_assets(sim)
    try:
        control(sim, "PUT", "/listing", {"hidden": True})
        empty = check(api(sim, "/customer_assets?page=2"), 200, "assets")
        assert empty["assets"] == [] and empty["meta"] == {"total_pages": 1, "total_entries": 0,
                                                           "per_page": 50, "page": 2}
        check(api(sim, f"/customer_assets/{assets[0]['id']}"), 200, "asset_detail")
        control(sim, "PUT", "/listing", {"hidden": False})

        hidden = assets[1]["id"]
        control(sim, "PUT", f"/assets/{hidden}/hidden", {"hidden": True})
        fewer, fewer_meta = all_assets(sim)
        assert hidden not in [a["id"] for a in fewer]
        assert fewer_meta["total_entries"] == meta["total_entries"] - 1
        check(api(sim, f"/customer_assets/{hidden}"), 200, "asset_detail")
        control(sim, "PUT", f"/assets/{hidden}/hidden", {"hidden": False})

        control(sim, "PUT", "/reorder", {"on": True})
        walked, walked_meta = all_assets(sim, "per_page=25")
        assert len(walked) == walked_meta["total_entries"] == meta["total_entries"]
        control(sim, "PUT", "/reorder", {"on": False})

        control(sim, "PUT", "/spec-example-paging", {"on": True})
        one = check(api(sim, "/customer_assets?page=1"), 200, "assets_spec_example")
        two = check(api(sim, "/customer_assets?page=2"), 200, "assets_spec_example")
        assert "meta" not in one and one == two
    finally:
        control(sim, "PUT", "/listing", {"hidden": False})
        control(sim, "PUT", "/reorder", {"on": False})
        control(sim, "PUT", "/spec-example-paging", {"on": False})


def test_coverage_of_the_run(sim):
    """Runs last (pytest keeps file order): what the calls above must have exercised."""
    assert {"Syncro Device", "Firewall", "Switch", "Access Point", "Printer"} <= SEEN["types"], SEEN["types"]
    assert SEEN["big_ids"] > 0
    for field in ("/asset_serial", "/contact_id", "/snmp_enabled", "/external_rmm_link", "/business_name"):
        assert field in SEEN["nulls"], f"{field} never null: {sorted(SEEN['nulls'])}"
    assert {200, 401, 404, 429} <= SEEN["statuses"]
