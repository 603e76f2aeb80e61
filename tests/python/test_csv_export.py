"""CSV from assetctl, read back with Python's csv module (an RFC 4180 reader that knows
nothing of assetctl): the exports must open as they are.

Run by tests/python_interop.rs, which names devices with quotes, commas, a newline,
non-ASCII text and a formula, and sets ASSETD_SOCKET, ASSETCTL_BIN and EXPECTED_ASSETS.
"""
import csv
import io
import json
import os
import subprocess

import pytest

SOCKET = os.environ.get("ASSETD_SOCKET")
CTL = os.environ.get("ASSETCTL_BIN")
pytestmark = pytest.mark.skipif(not (SOCKET and CTL), reason="needs a running agent (run via cargo test --test python_interop)")

NINE = ["total_billable", "firewalls", "controllers", "routers", "l3_switches",
        "voip_switches", "switch_stacks", "total_switches", "access_points"]


def ctl(*args):
    out = subprocess.run([CTL, "--socket", SOCKET, *args], capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr.decode("utf-8", "replace")
    return out.stdout


def read_csv(raw: bytes):
    assert not raw.startswith(b"\xef\xbb\xbf"), "no byte-order mark"
    text = raw.decode("utf-8")  # strict: invalid UTF-8 fails here
    assert text.endswith("\r\n"), "RFC 4180 line ends"
    rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    header, body = rows[0], rows[1:]
    assert all(len(r) == len(header) for r in body), "every row has every column"
    return header, body


def test_export_csv_round_trips_every_asset_against_json():
    header, body = read_csv(ctl("export", "--format", "csv"))
    assets = json.loads(ctl("export", "--format", "json"))
    assert len(body) == len(assets) == int(os.environ["EXPECTED_ASSETS"])
    assert header == list(assets[0].keys()), "the JSON field names, in order"
    by_id = {str(a["id"]): a for a in assets}
    names = set()
    for row in body:
        record = dict(zip(header, row))
        a = by_id[record["id"]]
        names.add(record["name"])
        want = a["name"]
        if want[:1] in ("=", "+", "-", "@"):
            want = "'" + want  # defused for spreadsheets
        assert record["name"] == want
        assert record["serial"] == (a["serial"] or "")
        assert record["mac_addresses"] == ";".join(a["mac_addresses"])
    for hostile in ('Core "SW", rack 2', "Zürich — 東京", "two\nlines",
                    "'=HYPERLINK(\"http://example.invalid\",\"x\")"):
        assert hostile in names, hostile


def test_counts_csv_has_the_nine_services_as_numbers():
    header, body = read_csv(ctl("-o", "csv", "counts"))
    assert header == ["client", *NINE]
    assert body, "some clients"
    for row in body:
        assert all(int(v) >= 0 for v in row[1:]), row
