"""The Passportal simulator's responses checked against what is known of Passportal (CONTRACT §8).

Passportal publishes no machine-readable spec. What is known is in `research/passportal.md`: the
token response, error bodies and a document sample from N-able's own pages, plus real list items
and a real document detail that a public client committed. This test reads those verbatim samples
from the team's notes, which are not part of the repository: `research/passportal.md` in the
folder that holds the folder `$ASSETD_VENDOR_SPECS` names (the module is skipped without it;
`tests/python_interop.rs` leaves it out and says so) — nothing of them is copied here — and
derives a strict JSON Schema from each: every key of the sample is required, with the sample
value's JSON type, nested objects likewise, and no other keys.

It starts `$ASSETD_BIN sim passportal ...`, performs the HMAC-SHA256 token exchange itself with
Python's `hmac` (JSON and form bodies), walks every endpoint the simulator serves (clients,
documents by type and filter, `/documents/all`, every document's detail, and the documented
errors), and validates each body. Relaxations, each with its reason (nothing else may differ):

1. Token `expiry_time`: the sample's integer, or a string of digits (the docs' format block types
   it "string"; the simulator alternates).
2. `success` in a successful response: `true` or `"true"` (the docs show both forms; the simulator
   sends the string on the client list). Error bodies: `success` takes the types the documented
   error examples themselves use (`false` and `"false"`).
3. List envelope: the documented shape is known only as far as `success`, `apiRequestUid` and
   `results` (a third-party paraphrase adds an unconfirmed top-level `description`, which may be
   absent). `results` may be `null` past the last page (the notes: unknown; a public client
   guards against it).
4. List items: the live sample's twelve keys; the third-party paraphrase's keys must be a subset.
5. Clients: only `id` and `name` are known (from a client's log line, where `decodedName` is that
   client's own addition and is not expected).
6. Document detail: the top-level keys of N-able's documented sample, with `details` in the
   observed layout (N-able's sample uses another one; the notes say the real API sends this):
   `name`, `tags`, then numeric keys whose values are `null` or a field object shaped like the
   observed sample's scalar field ("0") or reference field ("10"). A field's `description` may be
   a string or `null` (the notes: "<string|null>").
"""

import hashlib
import hmac
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

REPO = Path(__file__).resolve().parents[2]
SPECS = os.environ.get("ASSETD_VENDOR_SPECS")
NOTES_PATH = Path(SPECS or ".").resolve().parent / "research" / "passportal.md"
if not SPECS or not NOTES_PATH.is_file():
    pytest.skip(
        "checks against Passportal's documented samples: set ASSETD_VENDOR_SPECS to the vendors' "
        "specs folder, with the notes' research/passportal.md in the folder beside it, to run them",
        allow_module_level=True,
    )
NOTES = NOTES_PATH.read_text()
ASSETD = os.environ.get("ASSETD_BIN") or str(REPO / "target" / "debug" / "assetd")

CLIENTS, PER_CLIENT = 12, 25
JSON_CT = "application/json"
TOKEN = "/api/v2/auth/client_token"
SEEN = {"statuses": set(), "success": set(), "expiry": set(), "nulls": 0, "refs": set(), "labels": set()}


# ---- the notes' verbatim samples ---------------------------------------------------------------

BLOCKS = re.findall(r"^[ \t]*```[a-z]*\n(.*?)^[ \t]*```", NOTES, re.S | re.M)


def block(*needles):
    """The one fenced block of the notes that contains every needle."""
    found = [b for b in BLOCKS if all(n in b for n in needles)]
    assert len(found) == 1, f"{needles}: {len(found)} blocks in the notes (did they change?)"
    return found[0]


def token_sample():
    return json.loads(block('"refresh_token"', "1634808171"))


def list_envelope_sample():
    return json.loads(block('"apiRequestUid"', '"results"', '"templateName"'))


def live_items():
    return [json.loads(b) for b in BLOCKS if b.lstrip().startswith("{") and '"last_modified"' in b]


def documented_detail_sample():
    return json.loads(block('"templateUid": "tpl-101"'))


def observed_details_sample():
    """The real detail (abridged with `…` lines in the notes); `Fields` is `response.details`."""
    text = block('"Fields"', '"Serial Number"')
    lines = [line for line in text.splitlines() if line.strip() != "…"]
    return json.loads("\n".join(lines).strip().rstrip(","))["Fields"]


def error_samples():
    """The documented error bodies (the table rows of the notes' error section)."""
    out = []
    for row in NOTES.splitlines():
        if not row.startswith("|"):
            continue
        for raw in re.findall(r"`(\{[^`]*\})`", row):
            try:
                body = json.loads(raw)
            except json.JSONDecodeError:
                continue  # the 500 example is cut off in the docs' copy
            if {"message", "status"} <= set(body):
                out.append(body)
    return out


def client_sample():
    (m,) = re.findall(r"@\{id=(\d+); name=([^;]+); decodedName=[^}]+\}", NOTES)
    return {"id": int(m[0]), "name": m[1]}


# ---- schemas derived from the samples ----------------------------------------------------------

def from_example(value):
    """A strict JSON Schema for documents shaped like the example value."""
    if value is None:
        return {"type": "null"}
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
    return {
        "type": "object",
        "properties": {k: from_example(v) for k, v in value.items()},
        "required": list(value),
        "additionalProperties": False,
    }


TRUE = {"enum": [True, "true"]}  # 2


def token_schema():
    s = from_example(token_sample())
    assert s["properties"]["expiry_time"] == {"type": "integer"}
    s["properties"]["expiry_time"] = {"anyOf": [{"type": "integer"}, {"type": "string", "pattern": r"^\d+$"}]}  # 1
    assert s["properties"]["success"] == {"type": "boolean"}
    s["properties"]["success"] = {"const": True}
    return s


def error_schema():
    samples = error_samples()
    assert len(samples) >= 6, samples
    s = from_example(samples[0])
    # 2: `success` as the examples send it, both forms.
    s["properties"]["success"] = {"enum": list({json.dumps(x["success"]): x["success"] for x in samples}.values())}
    assert set(map(json.dumps, s["properties"]["success"]["enum"])) == {"false", '"false"'}
    for x in samples:
        assert set(x) == set(s["required"]), x
    return s


def list_item_schema():
    items = live_items()
    assert len(items) == 2
    s = from_example(items[0])
    for other in items[1:]:
        assert from_example(other) == s, "the live samples disagree"
    paraphrase = list_envelope_sample()["results"][0]
    assert set(paraphrase) <= set(s["properties"]), "4"
    return s


def list_schema(item):
    envelope = list_envelope_sample()
    assert {"success", "apiRequestUid", "results"} <= set(envelope)
    return {
        "type": "object",
        "properties": {
            "success": TRUE,
            "apiRequestUid": {"type": "string"},
            "results": {"anyOf": [{"type": "array", "items": item}, {"type": "null"}]},  # 3
            "description": {"type": "string"},
        },
        "required": ["success", "apiRequestUid", "results"],
        "additionalProperties": False,
    }


def detail_schema():
    documented = documented_detail_sample()
    observed = observed_details_sample()
    scalar = from_example(observed["0"])
    reference = from_example(observed["10"])
    assert observed["0"]["value"]["type"] == "string" and observed["10"]["value"]["type"] == "vendors"
    for field in (scalar, reference):
        field["properties"]["description"] = {"type": ["string", "null"]}  # 6
    reference["properties"]["value"]["properties"]["type"] = {"enum": ["vendors", "locations", "assets",
                                                                        "credentials", "contacts"]}
    scalar["properties"]["value"]["properties"]["type"] = {"const": "string"}
    assert observed["9"] is None and observed["34"] is None
    details = {
        "type": "object",
        "properties": {"name": from_example(observed["name"]), "tags": from_example(observed["tags"])},
        "patternProperties": {r"^(0|[1-9][0-9]*)$": {"oneOf": [{"type": "null"}, scalar, reference]}},
        "required": ["name", "tags"],
        "additionalProperties": False,
    }
    s = from_example({k: v for k, v in documented.items() if k != "details"})
    s["properties"]["details"] = details
    s["required"] = list(documented)
    s["properties"]["success"] = TRUE  # 2
    return s


SCHEMAS = {
    "token": token_schema(),
    "error": error_schema(),
    "documents": list_schema(list_item_schema()),
    "clients": list_schema(from_example(client_sample())),  # 5
    "detail": detail_schema(),
}
for _s in SCHEMAS.values():
    Draft202012Validator.check_schema(_s)


def validate(name, body):
    errors = sorted(Draft202012Validator(SCHEMAS[name]).iter_errors(body), key=lambda e: list(e.path))
    assert not errors, f"{name}: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def check(resp, status, schema):
    """Asserts status, content type and body of a response; returns the JSON."""
    assert resp.status_code == status, f"{resp.request.url}: {resp.status_code} {resp.text[:300]}"
    SEEN["statuses"].add(status)
    assert resp.headers.get("Content-Type") == JSON_CT, resp.headers.get("Content-Type")
    body = resp.json()
    validate(schema, body)
    SEEN["success"].add(json.dumps(body["success"]))
    return body


# ---- the simulator -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sim():
    proc = subprocess.Popen(
        [ASSETD, "sim", "passportal", "--listen", "127.0.0.1:0", "--seed", "7",
         "--clients", str(CLIENTS), "--assets-per-client", str(PER_CLIENT)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready, "the simulator printed nothing within 60 s"
        info = json.loads(proc.stdout.readline())
        for key in ("vendor", "base_url", "access_key_id", "secret_access_key"):
            assert key in info, f"{key} missing from {info}"
        assert info["vendor"] == "passportal" and info["base_url"].startswith("http://127.0.0.1:")
        assert re.fullmatch(r"[0-9a-f]{64}", info["access_key_id"]), "the key id is 64 hex characters"
        assert not re.fullmatch(r"[0-9a-fA-F]{64}", info["secret_access_key"])
        yield info
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)


def x_hash(secret, content):
    return hmac.new(secret.encode(), content.encode(), hashlib.sha256).hexdigest()


def exchange(sim, content="api-content-hash", key=None, secret=None, form=False):
    key = sim["access_key_id"] if key is None else key
    secret = sim["secret_access_key"] if secret is None else secret
    headers = {"x-key": key, "x-hash": x_hash(secret, content)}
    body = {"scope": "docs_api", "content": content}
    url = sim["base_url"] + TOKEN
    if form:
        return requests.post(url, headers=headers, data=body, timeout=30)
    return requests.post(url, headers=headers, json=body, timeout=30)


@pytest.fixture(scope="module")
def token(sim):
    body = check(exchange(sim), 200, "token")
    return body["access_token"]


def api(sim, path, token):
    headers = {} if token is None else {"x-access-token": token}
    return requests.get(sim["base_url"] + path, headers=headers, timeout=30)


def control(sim, method, path, body=None):
    resp = requests.request(method, sim["base_url"] + "/_sim" + path, json=body, timeout=30)
    assert resp.status_code < 300, resp.text
    return resp.json() if resp.content else None


def walk(sim, token, path, per_page, schema="documents"):
    """Every page, looping until a short, empty or refused page, as the notes tell clients to."""
    sep = "&" if "?" in path else "?"
    out, page = [], 1
    while True:
        resp = api(sim, f"{path}{sep}resultsPerPage={per_page}&pageNum={page}", token)
        if resp.status_code == 404 and page > 1:
            check(resp, 404, "error")
            break
        body = check(resp, 200, schema)
        results = body["results"] or []
        out += results
        if len(results) < per_page:
            break
        page += 1
    return out


# ---- tests -------------------------------------------------------------------------------------

def test_the_research_notes_test_vector():
    assert x_hash("test-secret-access-key", "api-content-hash") == \
        "18f1b37c1779ab6b4c5af70eeafb505cc55cb27a9fd7fe202e11ad72c92906d9"
    assert "18f1b37c1779ab6b4c5af70eeafb505cc55cb27a9fd7fe202e11ad72c92906d9" in NOTES


def test_token_exchange(sim):
    control(sim, "PUT", "/quirks", {"expiry_time": "alternate"})
    forms = []
    for form in (False, True):
        body = check(exchange(sim, form=form), 200, "token")
        assert body["access_token"].startswith("eyJ") and body["access_token"].count(".") == 2
        assert re.fullmatch(r"[0-9a-f]{33}", body["refresh_token"])
        forms.append(type(body["expiry_time"]).__name__)
        SEEN["expiry"].add(type(body["expiry_time"]).__name__)
    assert sorted(forms) == ["int", "str"], forms
    # Header names are case-insensitive; the content is the caller's choice.
    content = "aUa&&XUQBJXz2x&"
    resp = requests.post(sim["base_url"] + TOKEN, timeout=30,
                         headers={"X-KEY": sim["access_key_id"], "X-HASH": x_hash(sim["secret_access_key"], content)},
                         data={"content": content, "scope": "docs_api"})
    check(resp, 200, "token")


def test_bad_credentials(sim):
    # Unknown key (here: key and secret swapped): the documented 401 with a boolean false.
    body = check(exchange(sim, key=sim["secret_access_key"], secret=sim["access_key_id"]), 401, "error")
    assert body == {"success": False, "message": "Key verification failed", "code": 1000, "status": 401}
    # Known key, wrong secret: HTTP 200 whose body says "false" — judge by `success`.
    body = check(exchange(sim, secret="not-the-secret"), 200, "error")
    assert body["success"] == "false" and body["code"] == 1000
    control(sim, "PUT", "/quirks", {"auth_failure": "documented"})
    try:
        check(exchange(sim, secret="not-the-secret"), 401, "error")
    finally:
        control(sim, "PUT", "/quirks", {"auth_failure": "mixed"})
    # Upper-case hex and the docs' "docs-api" spelling are refused.
    resp = requests.post(sim["base_url"] + TOKEN, timeout=30, json={"scope": "docs_api", "content": "c"},
                         headers={"x-key": sim["access_key_id"],
                                  "x-hash": x_hash(sim["secret_access_key"], "c").upper()})
    assert check(resp, 200, "error")["code"] == 1000
    resp = requests.post(sim["base_url"] + TOKEN, timeout=30, json={"scope": "docs-api", "content": "c"},
                         headers={"x-key": sim["access_key_id"], "x-hash": x_hash(sim["secret_access_key"], "c")})
    assert check(resp, 400, "error")["message"] == "invalid scope"
    body = check(requests.get(sim["base_url"] + TOKEN, timeout=30), 405, "error")
    assert body["code"] == 3000


def test_tokens(sim, token):
    for bad in (None, "garbage", "a.b.c", token + "x"):
        body = check(api(sim, "/api/v2/documents/clients", bad), 401, "error")
        assert body["code"] == 1006 and body["message"].startswith("Invalid token: ")
    check(api(sim, "/api/v2/documents/clients", token), 200, "clients")
    # The header the docs' parameter table names is not the one that works.
    resp = requests.get(sim["base_url"] + "/api/v2/documents", headers={"x-api-token": token}, timeout=30)
    check(resp, 401, "error")


def test_clients(sim, token):
    truth = control(sim, "GET", "/clients")
    assert len(truth) == CLIENTS + 1
    listed = walk(sim, token, "/api/v2/documents/clients", 5, "clients")
    assert [c["id"] for c in listed] == [c["id"] for c in truth]
    by_id = {c["id"]: c for c in truth}
    for c in listed:
        assert 10_000_000 <= c["id"] < 100_000_000
        assert c["name"] == by_id[c["id"]]["name"]
        # Names are HTML-entity encoded as PHP's htmlspecialchars does.
        decoded = by_id[c["id"]]["decoded_name"]
        assert c["name"] == decoded.replace("&", "&amp;").replace('"', "&quot;").replace("'", "&#039;") \
            .replace("<", "&lt;").replace(">", "&gt;")
    assert any("&amp;" in c["name"] or "&#039;" in c["name"] for c in listed)
    body = check(api(sim, "/api/v2/documents/clients", token), 200, "clients")
    assert body["success"] == "true"
    # Past the end of the client list: `results` is null (mixed quirks; the documents list
    # answers an empty list, and a 404 is a switch of its own).
    past = check(api(sim, "/api/v2/documents/clients?resultsPerPage=100&pageNum=2", token), 200, "clients")
    assert past["results"] is None


def test_documents(sim, token):
    state = control(sim, "GET", "/state")
    assets = walk(sim, token, "/api/v2/documents?type=asset&orderBy=id&orderDir=asc", 40)
    assert len(assets) == state["assets"] == CLIENTS * PER_CLIENT + -(-PER_CLIENT // 10)
    ids = [a["id"] for a in assets]
    assert ids == sorted(set(ids))
    clients = {c["id"]: c for c in control(sim, "GET", "/clients")}
    for a in assets:
        assert a["type"] == "asset" and a["templateId"] == 79 and a["templateName"] == "Generic Asset"
        assert a["organization_id"] == state["organization_id"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", a["last_modified"])
        assert a["clientName"] == clients[a["client_id"]]["name"]
        SEEN["labels"].add(a["label"])
    everything = walk(sim, token, "/api/v2/documents/all?orderBy=id", 1000)
    assert len(everything) == state["documents"]
    assert {d["type"] for d in everything} == {"asset", "location", "contact", "vendor"}
    by_label = walk(sim, token, "/api/v2/documents?type=asset", 100)
    keys = [(d["label"].lower(), d["id"]) for d in by_label]
    assert keys == sorted(keys), "the default order is by label"
    desc = walk(sim, token, "/api/v2/documents?type=asset&orderBy=id&orderDir=desc", 1000)
    assert [d["id"] for d in desc] == ids[::-1]
    client = assets[len(assets) // 2]["client_id"]
    mine = walk(sim, token, f"/api/v2/documents?type=asset&clientId={client}", 1000)
    assert sorted(d["id"] for d in mine) == [a["id"] for a in assets if a["client_id"] == client]
    vendors = walk(sim, token, f"/api/v2/documents?type=vendor&clientId={client}", 1000)
    assert vendors and all(v["client_id"] != client for v in vendors), "vendors ignore clientId"
    body = check(api(sim, "/api/v2/documents?type=folders", token), 200, "documents")
    assert body["results"] == []
    # Past the end of the documents: an empty list (mixed quirks); other forms on request.
    past = check(api(sim, "/api/v2/documents?type=asset&resultsPerPage=1000&pageNum=2", token), 200, "documents")
    assert past["results"] == []
    control(sim, "PUT", "/quirks", {"past_end": "null"})
    try:
        past = check(api(sim, "/api/v2/documents?type=asset&resultsPerPage=1000&pageNum=2", token), 200, "documents")
        assert past["results"] is None
    finally:
        control(sim, "PUT", "/quirks", {"past_end": "mixed"})
    for bad in ("0", "10000", "x"):
        body = check(api(sim, f"/api/v2/documents?pageNum={bad}", token), 404, "error")
        assert body["message"] == "pageNum needs to be an integer between 1 and 9999."
    check(api(sim, "/api/v2/documents?resultsPerPage=0", token), 400, "error")


def test_details(sim, token):
    truth = {a["id"]: a for a in control(sim, "GET", "/assets")}
    everything = walk(sim, token, "/api/v2/documents?orderBy=id", 1000)
    by_id = {d["id"]: d for d in everything}
    labels = {"Serial Number": "serial", "Model": "model", "Manufacturer": "manufacturer", "Type": "asset_type",
              "MAC Address": "mac_address", "Hostname": "hostname", "Operating System": "operating_system"}
    picked = list(truth)[::5] + [next(d["id"] for d in everything if d["type"] == t)
                                 for t in ("location", "contact", "vendor")]
    for doc_id in picked:
        body = check(api(sim, f"/api/v2/documents/{doc_id}", token), 200, "detail")
        assert body["id"] == doc_id
        details = body["details"]
        assert details["name"] == by_id[doc_id]["label"]
        numbered = [k for k in details if k not in ("name", "tags")]
        assert numbered == [str(i) for i in range(len(numbered))], "numeric keys in template order"
        SEEN["nulls"] += sum(details[k] is None for k in numbered)
        fields = {f["name"]: f for k in numbered if (f := details[k]) is not None}
        if doc_id not in truth:
            continue
        assert body["templateUid"] == "tpl-79" and len(numbered) == 35
        asset = truth[doc_id]
        for label, key in labels.items():
            if asset[key] is None:
                assert label not in fields, label
            else:
                assert fields[label]["value"]["text"] == asset[key], label
        for f in fields.values():
            if f["value"]["type"] != "string":
                SEEN["refs"].add(f["value"]["type"])
                assert f["attribute"] == [f["value"]]
                target = by_id[f["value"]["id"]]
                assert target["label"] == f["value"]["text"]
    body = check(api(sim, "/api/v2/documents/abc", token), 400, "error")
    assert body == {"success": False, "code": 0, "status": 400, "message": "invalid id"}
    body = check(api(sim, "/api/v2/documents/123", token), 403, "error")
    assert body["message"] == "not found."


def test_mutations_expiry_and_rotation(sim, token):
    client = control(sim, "GET", "/clients")[2]["id"]
    created = control(sim, "POST", "/assets", {"client_id": client})
    aid = created["id"]
    control(sim, "PATCH", f"/assets/{aid}", {"serial": None, "model": "Model & Co <X>", "label": "O'Hara's PC"})
    body = check(api(sim, f"/api/v2/documents/{aid}", token), 200, "detail")
    assert body["details"]["name"] == "O'Hara's PC", "labels are not encoded"
    assert body["details"]["8"] is None
    assert body["details"]["7"]["value"]["text"] == "Model & Co <X>"
    listed = walk(sim, token, "/api/v2/documents?type=asset&orderBy=id", 1000)
    assert listed[-1]["id"] == aid and listed[-1]["label"] == "O'Hara's PC"
    control(sim, "DELETE", f"/assets/{aid}")
    check(api(sim, f"/api/v2/documents/{aid}", token), 403, "error")
    # Expiry on demand, then a new token works.
    control(sim, "POST", "/expire-tokens")
    body = check(api(sim, "/api/v2/documents", token), 401, "error")
    assert body["message"] == "Invalid token: Expired token."
    fresh = check(exchange(sim), 200, "token")["access_token"]
    check(api(sim, "/api/v2/documents", fresh), 200, "documents")
    # Rotation: the old secret is refused and old tokens stop working.
    old = sim["secret_access_key"]
    new = control(sim, "POST", "/rotate-secret")["secret_access_key"]
    sim["secret_access_key"] = new
    check(api(sim, "/api/v2/documents", fresh), 401, "error")
    assert check(exchange(sim, secret=old), 200, "error")["success"] == "false"
    check(exchange(sim), 200, "token")


def test_faults(sim):
    token = check(exchange(sim), 200, "token")["access_token"]
    try:
        control(sim, "POST", "/faults", {"fault": {"kind": "status429", "retry_after": 30}, "times": 1})
        resp = api(sim, "/api/v2/documents", token)
        check(resp, 429, "error")
        assert resp.headers["Retry-After"] == "30"
        control(sim, "POST", "/faults", {"fault": {"kind": "server_error", "status": 500}, "times": 1})
        check(api(sim, "/api/v2/documents", token), 500, "error")
        control(sim, "POST", "/faults", {"fault": {"kind": "unauthorized"}, "times": 1})
        assert check(api(sim, "/api/v2/documents", token), 401, "error")["code"] == 1006
        # Deliberately broken bodies are not validated, only recognised.
        control(sim, "POST", "/faults", {"fault": {"kind": "wrong_content_type"}, "times": 1})
        resp = api(sim, "/api/v2/documents", token)
        assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/html")
        control(sim, "POST", "/faults", {"fault": {"kind": "truncated_json"}, "path_prefix": TOKEN, "times": 1})
        resp = exchange(sim)
        with pytest.raises(ValueError):
            resp.json()
        control(sim, "POST", "/faults", {"fault": {"kind": "server_error", "status": 502}, "times": 1})
        resp = api(sim, "/api/v2/documents", token)
        assert resp.status_code == 502 and resp.headers["Content-Type"].startswith("text/html")
        assert control(sim, "GET", "/faults") == []
    finally:
        control(sim, "DELETE", "/faults")


def test_switches_stay_valid(sim):
    """The simulator's switches for what real Passportal may do still answer valid bodies."""
    token = check(exchange(sim), 200, "token")["access_token"]
    assets = walk(sim, token, "/api/v2/documents?type=asset&orderBy=id", 1000)
    locked, doomed = assets[0]["id"], assets[1]["id"]
    try:
        control(sim, "PUT", f"/documents/{locked}/accessible", {"accessible": False})
        listed = walk(sim, token, "/api/v2/documents?type=asset&orderBy=id", 1000)
        assert [d["accessible"] for d in listed if d["id"] == locked] == [False]
        body = check(api(sim, f"/api/v2/documents/{locked}", token), 403, "error")
        assert body == {"success": "false", "message": "not found.", "code": 0, "status": 403}

        control(sim, "POST", f"/documents/{doomed}/vanish-after-listing")
        listed = walk(sim, token, "/api/v2/documents?type=asset&orderBy=id", 1000)
        assert doomed in [d["id"] for d in listed]
        check(api(sim, f"/api/v2/documents/{doomed}", token), 403, "error")
        assert doomed not in [d["id"] for d in walk(sim, token, "/api/v2/documents?type=asset", 1000)]

        page2 = {"path_prefix": "/api/v2/documents", "query_contains": "pageNum=2&", "times": 1}
        url = "/api/v2/documents?type=asset&orderBy=id&resultsPerPage=5&pageNum=2&x=1"
        control(sim, "POST", "/faults", {"fault": {"kind": "error_status", "status": 404, "message":
                                                   "pageNum needs to be an integer between 1 and 9999."}, **page2})
        check(api(sim, url.replace("pageNum=2", "pageNum=1"), token), 200, "documents")
        check(api(sim, url, token), 404, "error")
        control(sim, "POST", "/faults", {"fault": {"kind": "success_false", "message": "not found."}, **page2})
        body = check(api(sim, url, token), 200, "error")
        assert body["success"] == "false"
        check(api(sim, url, token), 200, "documents")

        control(sim, "PUT", "/new-token-revokes-old", {"on": True})
        newer = check(exchange(sim), 200, "token")["access_token"]
        body = check(api(sim, "/api/v2/documents", token), 401, "error")
        assert body["code"] == 1006
        check(api(sim, "/api/v2/documents", newer), 200, "documents")
        control(sim, "PUT", "/clock", {"skew_seconds": -1800})
        check(exchange(sim), 200, "token")
    finally:
        control(sim, "PUT", f"/documents/{locked}/accessible", {"accessible": True})
        control(sim, "PUT", "/new-token-revokes-old", {"on": False})
        control(sim, "PUT", "/clock", {"skew_seconds": 0})
        control(sim, "DELETE", "/faults")


def test_coverage_of_the_run(sim):
    """Runs last (pytest keeps file order): what the calls above must have exercised."""
    assert {"true", '"true"', "false", '"false"'} <= SEEN["success"], SEEN["success"]
    assert SEEN["expiry"] == {"int", "str"}
    assert SEEN["nulls"] > 0
    assert SEEN["refs"] == {"vendors", "locations", "contacts"}, SEEN["refs"]
    assert any("'" in label for label in SEEN["labels"]), "no label with an apostrophe"
    assert {200, 400, 401, 403, 404, 405, 429, 500} <= SEEN["statuses"], SEEN["statuses"]
    state = control(sim, "GET", "/state")
    assert state["token_exchanges"] >= 5 and state["rejected_token_exchanges"] >= 4
