"""Interop: a plain Python grpcio client against the real agent over its Unix socket.

Run by tests/python_interop.rs, which starts the simulator and the agent and sets
ASSETD_SOCKET, EXPECTED_ASSETS and PROTO_OUT (generated stubs).
"""
import os
import sys

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

SOCKET = os.environ.get("ASSETD_SOCKET")
pytestmark = pytest.mark.skipif(not SOCKET, reason="needs a running agent (run via cargo test --test python_interop)")

if SOCKET:
    sys.path.insert(0, os.environ["PROTO_OUT"])
    from assetd.v1 import assetd_pb2, assetd_pb2_grpc  # noqa: E402
    from assetd.v1 import events_pb2, events_pb2_grpc  # noqa: E402


@pytest.fixture(scope="module")
def channel():
    # grpcio >= 1.57 sends the %-encoded socket path as :authority over unix:, which
    # tonic/h2 rejects; the documented fix is an explicit authority.
    ch = grpc.insecure_channel(f"unix://{SOCKET}", options=[("grpc.default_authority", "localhost")])
    grpc.channel_ready_future(ch).result(timeout=10)
    yield ch
    ch.close()


def test_health_reports_every_service_serving(channel):
    stub = health_pb2_grpc.HealthStub(channel)
    for service in ("", "assetd.v1.AssetService", "assetd.v1.SyncService", "assetd.v1.AgentService",
                    "assetd.v1.EventService"):
        resp = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        assert resp.status == health_pb2.HealthCheckResponse.SERVING, service


def test_reflection_lists_the_services(channel):
    services = set(ProtoReflectionDescriptorDatabase(channel).get_services())
    for s in ("assetd.v1.AssetService", "assetd.v1.SyncService", "assetd.v1.AgentService", "assetd.v1.EventService",
              "grpc.health.v1.Health"):
        assert s in services, services


def test_watch_events_replays_the_log_from_a_cursor(channel):
    import json
    stub = events_pb2_grpc.EventServiceStub(channel)
    events = list(stub.WatchEvents(events_pb2.WatchEventsRequest(after="0", replay_only=True), timeout=30))
    ids = [e.id for e in events]
    assert ids == sorted(set(ids)), "increasing, no duplicates"
    types = [e.type for e in events]
    assert types[0] == "run.started" and "run.finished" in types
    added = [e for e in events if e.type == "asset.added"]
    assert len(added) == int(os.environ["EXPECTED_ASSETS"])
    assert all(json.loads(e.data)["external_id"] for e in added)
    assert all(e.source == "auvik" and e.time.seconds > 0 for e in events)
    # Resumed from a cursor: exactly the events after it, filtered by type.
    after = events[len(events) // 2].id
    rest = list(stub.WatchEvents(events_pb2.WatchEventsRequest(after=str(after), types=["run.finished"],
                                                              replay_only=True), timeout=30))
    assert [e.id for e in rest] == [e.id for e in events if e.id > after and e.type == "run.finished"]
    # A cursor from another database, and a type that does not exist, say what is wrong.
    with pytest.raises(grpc.RpcError) as e:
        list(stub.WatchEvents(events_pb2.WatchEventsRequest(after=str(ids[-1] + 1000)), timeout=5))
    assert e.value.code() == grpc.StatusCode.OUT_OF_RANGE
    assert "after" in e.value.details()
    with pytest.raises(grpc.RpcError) as e:
        list(stub.WatchEvents(events_pb2.WatchEventsRequest(types=["run.done"]), timeout=5))
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "types" in e.value.details()


def test_list_assets_pages_through_everything(channel):
    stub = assetd_pb2_grpc.AssetServiceStub(channel)
    seen, token, pages = [], "", 0
    while True:
        resp = stub.ListAssets(assetd_pb2.ListAssetsRequest(page_size=7, page_token=token), timeout=10)
        seen.extend(a.id for a in resp.assets)
        pages += 1
        token = resp.next_page_token
        if not token:
            break
        assert len(resp.assets) == 7
    assert len(seen) == int(os.environ["EXPECTED_ASSETS"])
    assert len(set(seen)) == len(seen), "no asset twice"
    assert seen == sorted(seen), "stable id order"
    assert pages > 1


def test_bad_arguments_name_the_field(channel):
    stub = assetd_pb2_grpc.AssetServiceStub(channel)
    with pytest.raises(grpc.RpcError) as e:
        stub.ListAssets(assetd_pb2.ListAssetsRequest(page_size=-1), timeout=5)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "page_size" in e.value.details()
    with pytest.raises(grpc.RpcError) as e:
        stub.ListAssets(assetd_pb2.ListAssetsRequest(page_token="forged"), timeout=5)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "page_token" in e.value.details()
    with pytest.raises(grpc.RpcError) as e:
        stub.GetAsset(assetd_pb2.GetAssetRequest(id=0), timeout=5)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as e:
        stub.GetAsset(assetd_pb2.GetAssetRequest(id=2**62), timeout=5)
    assert e.value.code() == grpc.StatusCode.NOT_FOUND


def test_status_and_sources(channel):
    status = assetd_pb2_grpc.AgentServiceStub(channel).GetStatus(assetd_pb2.GetStatusRequest(), timeout=5)
    assert status.version
    assert status.config.state == assetd_pb2.CONFIG_STATE_OK
    assert status.database.asset_count == int(os.environ["EXPECTED_ASSETS"])
    sources = assetd_pb2_grpc.SyncServiceStub(channel).ListSources(assetd_pb2.ListSourcesRequest(), timeout=5)
    assert [s.name for s in sources.sources] == ["auvik"]
    assert sources.sources[0].state == assetd_pb2.SOURCE_STATE_OK
