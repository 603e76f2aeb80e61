"""The Auvik simulator's responses validated against Auvik's own OpenAPI spec (CONTRACT §8).

Starts `$ASSETD_BIN sim auvik ...`, calls every path the simulator serves, successes and errors
(400, 401, 403, 404), and validates each body against the response schema that
`auvik-openapi-v1.json` declares for that path and status, with $refs resolved and
OpenAPI 3.0 `nullable` honoured. The spec is not part of the repository: it is loaded from the
folder `$ASSETD_VENDOR_SPECS` names (the module is skipped without it; `tests/python_interop.rs`
leaves it out and says so) and adjusted in exactly two ways, both asserted below:

* `nullable: true` on the five device attributes that real Auvik sends as `null`
  (serialNumber, softwareVersion, firmwareVersion, vendorName, makeModel; research/auvik.md §4.3).
  No other `null` may appear anywhere in a response.
* `name` dropped from the `required` lists of `tenantAttributes` and `tenantDetailAttributes`:
  the spec requires a property it never defines while forbidding undefined properties
  (`additionalProperties: false`), so as published no document could satisfy it
  (research/auvik.md §3.1 notes the quirk).
* `nullable: true` on the warranty and lifecycle attributes other than `deviceName` (and
  `null` added to the lifecycle statuses' enum, which `nullable` alone does not admit): the
  spec calls `warrantyExpirationDate` "not guaranteed to be a date", and these records come
  from Cisco's data with gaps (issue 22). A `null` there is allowed; nowhere else.
"""

import base64
import copy
import json
import os
import re
import select
import signal
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from openapi_schema_validator import OAS30Validator

REPO = Path(__file__).resolve().parents[2]
SPECS = os.environ.get("ASSETD_VENDOR_SPECS")
SPEC_PATH = Path(SPECS or ".") / "auvik-openapi-v1.json"
if not SPECS or not SPEC_PATH.is_file():
    pytest.skip(
        "checks against Auvik's published OpenAPI spec: set ASSETD_VENDOR_SPECS to the folder "
        "holding auvik-openapi-v1.json to run them",
        allow_module_level=True,
    )
ASSETD = os.environ.get("ASSETD_BIN") or str(REPO / "target" / "debug" / "assetd")

VND = "application/vnd.api+json"
NULLABLE_DEVICE_FIELDS = ["serialNumber", "softwareVersion", "firmwareVersion", "vendorName", "makeModel"]
NULLABLE_WARRANTY_FIELDS = ["serviceCoverageStatus", "serviceAttachmentStatus", "contractRenewalAvailability",
                            "warrantyCoverageStatus", "warrantyExpirationDate", "recommendedSoftwareVersion"]
NULLABLE_LIFECYCLE_FIELDS = ["salesAvailability", "softwareMaintenanceStatus", "securitySoftwareMaintenanceStatus",
                             "lastSupportStatus"]
CLIENTS, PER_CLIENT = 5, 40


def load_spec():
    spec = json.loads(SPEC_PATH.read_text())
    schemas = spec["components"]["schemas"]
    attrs = schemas["deviceAttributes"]["properties"]
    for field in NULLABLE_DEVICE_FIELDS:
        attrs[field]["nullable"] = True
    for field in NULLABLE_WARRANTY_FIELDS:
        schemas["deviceWarrantyAttributes"]["properties"][field]["nullable"] = True
    for field in NULLABLE_LIFECYCLE_FIELDS:
        prop = schemas["deviceLifecycleAttributes"]["properties"][field]
        prop["nullable"] = True
        assert "enum" in prop, "spec changed"
        prop["enum"] = prop["enum"] + [None]
    for name in ("tenantAttributes", "tenantDetailAttributes"):
        s = schemas[name]
        assert "name" in s["required"] and "name" not in s["properties"], "spec quirk changed"
        assert s.get("additionalProperties") is False
        s["required"] = [r for r in s["required"] if r != "name"]
    return spec


SPEC = load_spec()


def response_schema(template, status):
    """The schema the spec declares for GET `template` answering `status`, or None for no body."""
    responses = SPEC["paths"][template]["get"]["responses"]
    assert str(status) in responses, f"the spec declares no {status} for {template}"
    content = responses[str(status)].get("content") or {}
    if not content:
        return None
    assert list(content) == [VND], content
    return content[VND]["schema"]


def validate(schema, body):
    # Resolve `#/components/...` refs against the (adjusted) spec itself.
    root = dict(copy.deepcopy(schema), components=SPEC["components"])
    OAS30Validator(root).validate(body)


def null_paths(value, path=""):
    if value is None:
        yield path
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from null_paths(v, f"{path}/{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from null_paths(v, f"{path}/{i}")


ALLOWED_NULL = re.compile(r"^/(data|included)(/\d+)?/attributes/(%s)$" % "|".join(
    NULLABLE_DEVICE_FIELDS + NULLABLE_WARRANTY_FIELDS + NULLABLE_LIFECYCLE_FIELDS))
SEEN = {"nulls": set(), "types": set(), "statuses": set()}


def check(resp, template, status):
    """Asserts status, Content-Type and body of a response against the spec; returns the JSON."""
    assert resp.status_code == status, f"{resp.request.url}: {resp.status_code} {resp.text[:300]}"
    SEEN["statuses"].add(status)
    if status == 401:
        # Auvik answers bad credentials with an empty body (research/auvik.md §2).
        assert resp.content == b""
        return None
    schema = response_schema(template, status) if template else SPEC["components"]["schemas"]["basicError"]
    if schema is None:
        assert resp.content == b"", f"{template} {status} has no body in the spec"
        return None
    ctype = resp.headers.get("Content-Type", "")
    assert ctype in (VND, VND + "; charset=utf-8"), ctype
    body = resp.json()
    validate(schema, body)
    for p in null_paths(body):
        assert ALLOWED_NULL.match(p), f"null at {p} in {resp.request.url}"
        SEEN["nulls"].add(p.rsplit("/", 1)[-1])
    if status >= 400:
        assert body["errors"] and body["errors"][0].get("detail"), body
    return body


@pytest.fixture(scope="module")
def sim():
    proc = subprocess.Popen(
        [ASSETD, "sim", "auvik", "--listen", "127.0.0.1:0", "--seed", "7",
         "--clients", str(CLIENTS), "--assets-per-client", str(PER_CLIENT)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready, "the simulator printed nothing within 60 s"
        info = json.loads(proc.stdout.readline())
        for key in ("vendor", "base_url", "username", "api_key", "domain_prefix", "region"):
            assert key in info, f"{key} missing from {info}"
        assert info["vendor"] == "auvik" and info["base_url"].startswith("http://127.0.0.1:")
        session = requests.Session()
        session.auth = (info["username"], info["api_key"])
        info["session"] = session
        yield info
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)


def get(sim, path, auth=True):
    url = path if path.startswith("http") else sim["base_url"] + path
    if auth:
        return sim["session"].get(url, timeout=30)
    return requests.get(url, timeout=30)


def control(sim, method, path, body=None):
    resp = requests.request(method, sim["base_url"] + "/_sim" + path, json=body, timeout=30)
    assert resp.status_code < 300, resp.text
    return resp.json() if resp.content else None


def tenants(sim):
    return check(get(sim, "/v1/tenants"), "/v1/tenants", 200)["data"]


def all_pages(sim, path, template):
    pages, url = [], path
    while url:
        page = check(get(sim, url), template, 200)
        pages.append(page)
        url = page["links"].get("next")
        assert len(pages) < 1000
    return pages


def test_authentication(sim):
    check(get(sim, "/v1/authentication/verify"), "/v1/authentication/verify", 200)
    resp = requests.get(sim["base_url"] + "/v1/authentication/verify", auth=(sim["username"], "wrong"), timeout=30)
    check(resp, "/v1/authentication/verify", 401)
    for path in ("/v1/tenants", "/v1/inventory/device/info", "/v1/no/such/path"):
        check(get(sim, path, auth=False), None, 401)


def test_tenants(sim):
    data = tenants(sim)
    assert len(data) == CLIENTS + 1
    root = [t for t in data if t["attributes"]["tenantType"] == "multiClient"]
    assert [t["attributes"]["domainPrefix"] for t in root] == [sim["domain_prefix"]]
    prefix = sim["domain_prefix"]
    detail = check(get(sim, f"/v1/tenants/detail?tenantDomainPrefix={prefix}"), "/v1/tenants/detail", 200)
    names = [t["attributes"]["displayName"] for t in detail["data"]]
    assert len(set(names)) == len(names) == CLIENTS + 1
    check(get(sim, f"/v1/tenants/detail?tenantDomainPrefix={prefix}&filter[availableTenants]=true"),
          "/v1/tenants/detail", 200)
    one = detail["data"][1]["id"]
    check(get(sim, f"/v1/tenants/detail/{one}?tenantDomainPrefix={prefix}"), "/v1/tenants/detail/{id}", 200)
    check(get(sim, "/v1/tenants/detail"), "/v1/tenants/detail", 400)
    check(get(sim, "/v1/tenants/detail?tenantDomainPrefix=somebody-else"), "/v1/tenants/detail", 403)
    check(get(sim, f"/v1/tenants/detail/1?tenantDomainPrefix={prefix}"), "/v1/tenants/detail/{id}", 404)
    check(get(sim, f"/v1/tenants/detail/{one}"), "/v1/tenants/detail/{id}", 400)


def test_device_info_pages(sim):
    pages = all_pages(sim, "/v1/inventory/device/info?page[first]=37&include=deviceDetail", "/v1/inventory/device/info")
    devices = [d for p in pages for d in p["data"]]
    assert len(devices) == CLIENTS * PER_CLIENT
    assert len({d["id"] for d in devices}) == len(devices)
    assert all(len(p["included"]) == len(p["data"]) for p in pages)
    assert "next" not in pages[-1]["links"]
    assert "page%5Bafter%5D=" in pages[0]["links"]["next"]
    assert pages[0]["meta"]["totalPages"] == len(pages)
    SEEN["types"].update(d["attributes"]["deviceType"] for d in devices)
    for d in devices:
        raw = base64.b64decode(d["id"] + "=" * (-len(d["id"]) % 4)).decode()
        assert re.fullmatch(r"\d{18},\d{18}", raw), raw
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", d["attributes"]["lastModified"])
    # Backwards from the last page.
    page = check(get(sim, pages[0]["links"]["last"]), "/v1/inventory/device/info", 200)
    check(get(sim, page["links"]["prev"]), "/v1/inventory/device/info", 200)
    # Filters, carried into the links.
    tenant = tenants(sim)[2]["id"]
    path = f"/v1/inventory/device/info?tenants={tenant}&filter[deviceType]=switch&page[first]=2"
    for p in all_pages(sim, path, "/v1/inventory/device/info"):
        assert all(d["attributes"]["deviceType"] == "switch" for d in p["data"])
    since = quote("2025-01-01T00:00:00.000Z")
    all_pages(sim, f"/v1/inventory/device/info?filter[modifiedAfter]={since}&filter[onlineStatus]=online",
              "/v1/inventory/device/info")


def test_device_info_errors(sim):
    t = "/v1/inventory/device/info"
    for bad in ("page[first]=0", "page[first]=1001", "filter[deviceType]=toaster",
                "filter[modifiedAfter]=yesterday", "page[after]=bm90LWEtY3Vyc29y", "tenants=abc",
                "include=everything"):
        check(get(sim, f"{t}?{bad}"), t, 400)
    check(get(sim, f"{t}?tenants=123456789012345678"), t, 403)
    check(get(sim, "/v1/inventory/device/info/bm90LGEsZGV2aWNl"), "/v1/inventory/device/info/{id}", 404)
    check(get(sim, "/v1/inventory/device/detail/bm90LGEsZGV2aWNl"), "/v1/inventory/device/detail/{id}", 404)
    check(get(sim, "/v1/inventory/device/detail?filter[manageStatus]=maybe"), "/v1/inventory/device/detail", 400)
    # Paths Auvik does not have: 404 with a basicError body.
    for path in ("/v1/inventory/device/infos", "/authentication/verify", "/v1/tenants/"):
        check(get(sim, path), None, 404)


def test_single_devices_and_details(sim):
    page = check(get(sim, "/v1/inventory/device/info?page[first]=20"), "/v1/inventory/device/info", 200)
    for d in page["data"]:
        one = check(get(sim, f"/v1/inventory/device/info/{d['id']}?include=deviceDetail"),
                    "/v1/inventory/device/info/{id}", 200)
        assert one["data"] == d
        check(get(sim, one["data"]["relationships"]["deviceDetail"]["data"]["links"]["self"]),
              "/v1/inventory/device/detail/{id}", 200)
    details = all_pages(sim, "/v1/inventory/device/detail?page[first]=50", "/v1/inventory/device/detail")
    assert sum(len(p["data"]) for p in details) == CLIENTS * PER_CLIENT
    managed = all_pages(sim, "/v1/inventory/device/detail?filter[manageStatus]=true&page[first]=50",
                        "/v1/inventory/device/detail")
    assert all(d["attributes"]["manageStatus"] is True for p in managed for d in p["data"])


def test_billing(sim):
    period = "filter[fromDate]=2025-05-01&filter[thruDate]=2025-05-31"
    ids = [t["id"] for t in tenants(sim)]
    check(get(sim, f"/v1/billing/usage/client?{period}"), "/v1/billing/usage/client", 200)
    body = check(get(sim, f"/v1/billing/usage/client?tenants={','.join(ids[1:3])}&{period}"),
                 "/v1/billing/usage/client", 200)
    assert len(body["data"]) == 2
    check(get(sim, "/v1/billing/usage/client?filter[fromDate]=2025-05-01"), "/v1/billing/usage/client", 400)
    check(get(sim, f"/v1/billing/usage/client?tenants=123456789012345678&{period}"), "/v1/billing/usage/client", 403)
    device = check(get(sim, "/v1/inventory/device/info?page[first]=1"), "/v1/inventory/device/info", 200)["data"][0]
    check(get(sim, f"/v1/billing/usage/device/{device['id']}?{period}"), "/v1/billing/usage/device/{id}", 200)
    check(get(sim, f"/v1/billing/usage/device/bm90LGEsZGV2aWNl?{period}"), "/v1/billing/usage/device/{id}", 404)
    check(get(sim, f"/v1/billing/usage/device/{device['id']}?filter[fromDate]=May"),
          "/v1/billing/usage/device/{id}", 400)


def test_denied_tenant_and_rate_limit(sim):
    tenant = tenants(sim)[3]["id"]
    control(sim, "PUT", f"/tenants/{tenant}/denied", {"denied": True})
    try:
        body = check(get(sim, f"/v1/inventory/device/info?tenants={tenant}"), "/v1/inventory/device/info", 403)
        assert "rate limit" not in json.dumps(body).lower()
        check(get(sim, f"/v1/inventory/device/detail?tenants={tenant}"), "/v1/inventory/device/detail", 403)
    finally:
        control(sim, "PUT", f"/tenants/{tenant}/denied", {"denied": False})
    control(sim, "POST", "/faults", {"fault": {"kind": "rate_limit403"}, "times": 1})
    body = check(get(sim, "/v1/inventory/device/info"), "/v1/inventory/device/info", 403)
    assert "rate limit" in json.dumps(body).lower()
    # 429 is not in Auvik's spec; its body is still a basicError.
    control(sim, "POST", "/faults", {"fault": {"kind": "status429", "retry_after": 3}, "times": 1})
    resp = get(sim, "/v1/tenants")
    assert resp.status_code == 429 and resp.headers.get("Retry-After") == "3"
    validate(SPEC["components"]["schemas"]["basicError"], resp.json())


def test_mutations_stay_valid(sim):
    tenant = tenants(sim)[1]["id"]
    created = control(sim, "POST", "/devices", {"tenant_id": tenant})
    control(sim, "PATCH", f"/devices/{created['id']}",
            {"serialNumber": None, "vendorName": None, "makeModel": None, "softwareVersion": None,
             "firmwareVersion": None, "manageStatus": True, "deviceName": "Lobby & Reception, AP #2"})
    one = check(get(sim, f"/v1/inventory/device/info/{created['id']}?include=deviceDetail"),
                "/v1/inventory/device/info/{id}", 200)
    attrs = one["data"]["attributes"]
    assert all(attrs[f] is None for f in NULLABLE_DEVICE_FIELDS)
    assert one["included"][0]["attributes"]["manageStatus"] is True
    since = quote(attrs["lastModified"][:-4] + "000Z")  # the start of that second
    changed = check(get(sim, f"/v1/inventory/device/info?filter[modifiedAfter]={since}"), "/v1/inventory/device/info", 200)
    assert created["id"] in [d["id"] for d in changed["data"]]
    control(sim, "DELETE", f"/devices/{created['id']}")
    check(get(sim, f"/v1/inventory/device/info/{created['id']}"), "/v1/inventory/device/info/{id}", 404)


def test_switches_stay_valid(sim):
    """The simulator's switches for what real Auvik does still answer what the spec declares."""
    prefix = sim["domain_prefix"]
    tenant = tenants(sim)[2]["id"]
    detail = "/v1/tenants/detail"
    try:
        control(sim, "PUT", f"/tenants/{tenant}/state", {"enabled": False, "running": False})
        off = check(get(sim, f"{detail}?tenantDomainPrefix={prefix}&filter[availableTenants]=false"), detail, 200)
        assert [t["id"] for t in off["data"]] == [tenant]
        attrs = off["data"][0]["attributes"]
        assert attrs["enabled"] is False and attrs["running"] is False
        on = check(get(sim, f"{detail}?tenantDomainPrefix={prefix}&filter[availableTenants]=true"), detail, 200)
        assert tenant not in [t["id"] for t in on["data"]]
        check(get(sim, f"{detail}/{tenant}?tenantDomainPrefix={prefix}"), detail + "/{id}", 200)
        check(get(sim, f"/v1/inventory/device/info?tenants={tenant}"), "/v1/inventory/device/info", 403)
    finally:
        control(sim, "PUT", f"/tenants/{tenant}/state", {"enabled": True, "running": True})
    for message in ("API request quota exceeded. Try again later.", "Request throttled", "Rate-limit reached"):
        control(sim, "POST", "/faults", {"fault": {"kind": "throttle403", "message": message, "retry_after": 300},
                                         "times": 1, "path_prefix": "/v1/inventory"})
        resp = get(sim, "/v1/inventory/device/info")
        body = check(resp, "/v1/inventory/device/info", 403)
        assert body["errors"][0]["detail"] == message and resp.headers["Retry-After"] == "300"
    public = "https://auvikapi.us1.my.auvik.com"
    control(sim, "PUT", "/public-base-url", {"url": public})
    control(sim, "PUT", "/clock", {"skew_seconds": -3600})
    try:
        page = check(get(sim, "/v1/inventory/device/info?page[first]=5&include=deviceDetail"),
                     "/v1/inventory/device/info", 200)
        assert page["links"]["next"].startswith(public + "/v1/inventory/device/info?")
        assert page["data"][0]["links"]["self"].startswith(public + "/v1/")
        local = page["links"]["next"].replace(public, sim["base_url"], 1)
        check(get(sim, local), "/v1/inventory/device/info", 200)
    finally:
        control(sim, "PUT", "/public-base-url", {"url": None})
        control(sim, "PUT", "/clock", {"skew_seconds": 0})


def test_warranty_and_lifecycle(sim):
    """Auvik's device warranty and lifecycle listings: pages, single records, the statuses."""
    for kind in ("warranty", "lifecycle"):
        path = f"/v1/inventory/device/{kind}"
        pages = all_pages(sim, f"{path}?page[first]=5", path)
        records = [r for p in pages for r in p["data"]]
        assert records, f"no {kind} records seeded"
        assert len({r["id"] for r in records}) == len(records)
        tenant = tenants(sim)[1]["id"]
        for p in all_pages(sim, f"{path}?tenants={tenant}&page[first]=2", path):
            assert all(r["relationships"]["tenant"]["data"]["id"] == tenant for r in p["data"])
        one = check(get(sim, f"{path}/{records[0]['id']}"), path + "/{id}", 200)
        assert one["data"]["id"] == records[0]["id"]
        check(get(sim, f"{path}/bm90LGEsZGV2aWNl"), path + "/{id}", 404)
        check(get(sim, f"{path}?tenants=123456789012345678"), path, 403)
    check(get(sim, "/v1/inventory/device/warranty?filter[coveredUnderWarranty]=maybe"),
          "/v1/inventory/device/warranty", 400)
    check(get(sim, "/v1/inventory/device/lifecycle?filter[lastSupportStatus]=forever"),
          "/v1/inventory/device/lifecycle", 400)
    covered = all_pages(sim, "/v1/inventory/device/warranty?filter[coveredUnderWarranty]=true",
                        "/v1/inventory/device/warranty")
    assert all(r["attributes"]["warrantyCoverageStatus"] == "Covered" for p in covered for r in p["data"])
    statuses = all_pages(sim, "/v1/inventory/device/lifecycle?filter[lastSupportStatus]=securityOnly",
                         "/v1/inventory/device/lifecycle")
    assert all(r["attributes"]["lastSupportStatus"] == "securityOnly" for p in statuses for r in p["data"])
    # Text that is not a date, still a string the spec allows.
    control(sim, "PUT", "/lifecycle/odd-dates", {"on": True})
    try:
        odd = all_pages(sim, "/v1/inventory/device/warranty", "/v1/inventory/device/warranty")
        dates = [r["attributes"]["warrantyExpirationDate"] for p in odd for r in p["data"]]
        assert any(d and not re.fullmatch(r"\d{4}-\d\d-\d\dT00:00:00\.000Z", d) for d in dates), dates
    finally:
        control(sim, "PUT", "/lifecycle/odd-dates", {"on": False})
    # A user without the Hardware lifecycle permission: 403, basicError.
    control(sim, "PUT", "/lifecycle/denied", {"denied": True})
    try:
        check(get(sim, "/v1/inventory/device/warranty"), "/v1/inventory/device/warranty", 403)
        check(get(sim, "/v1/inventory/device/lifecycle"), "/v1/inventory/device/lifecycle", 403)
    finally:
        control(sim, "PUT", "/lifecycle/denied", {"denied": False})


def test_coverage_of_the_run(sim):
    """Runs last (pytest keeps file order): what the calls above must have exercised."""
    spec_types = set(SPEC["components"]["schemas"]["DeviceTypeSchema"]["enum"])
    assert spec_types <= SEEN["types"], f"device types never served: {spec_types - SEEN['types']}"
    assert set(NULLABLE_DEVICE_FIELDS) <= SEEN["nulls"], f"nulls never served: {SEEN['nulls']}"
    assert SEEN["nulls"] & set(NULLABLE_WARRANTY_FIELDS), f"no warranty nulls served: {SEEN['nulls']}"
    assert SEEN["nulls"] & set(NULLABLE_LIFECYCLE_FIELDS), f"no lifecycle nulls served: {SEEN['nulls']}"
    assert {200, 400, 401, 403, 404} <= SEEN["statuses"]
