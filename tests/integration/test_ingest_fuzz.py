"""Property-based fuzzing of ingest's HTTP API: whatever arrives, never a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.harness.broker import Broker
from tests.harness.services import ServiceProcess

TOKEN = "fuzz-token-0123456789"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
hook_types = st.sampled_from(
    ["Scene.Update.Post", "Scene.Destroy.Post", "Performer.Update.Post", "Tag.Merge.Post", "Image.Create.Post"]
) | st.text(max_size=30)
ids = st.integers(min_value=-5, max_value=10**20) | st.text(max_size=25) | st.none()
hook_bodies = st.fixed_dictionaries(
    {"event_id": st.text(min_size=0, max_size=70) | st.uuids().map(lambda u: u.hex), "type": hook_types},
    optional={
        "id": ids,
        "inputFields": st.lists(st.text(max_size=20), max_size=5) | json_values,
        "destroyed": st.fixed_dictionaries({}, optional={"path": st.text(max_size=50), "oshash": json_values}),
        "received_at": json_values,
        "spooled_at": json_values,
        "input": json_values,
    },
)


@pytest.fixture(scope="module")
def ingest(broker: Broker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    tmp = tmp_path_factory.mktemp("fuzz")
    env = {"STASH2PLEX_NATS__URL": broker.url, "STASH2PLEX_INGEST__TOKEN": TOKEN, "STASH2PLEX_DATA_DIR": str(tmp)}
    with ServiceProcess("ingest", env, tmp) as service:
        service.wait_ready(check="nats")
        yield service


@pytest.fixture(scope="module")
def client(ingest: ServiceProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ingest.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10) as session:
        yield session


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=hook_bodies | json_values)
def test_hook_endpoint_never_fails_with_a_5xx(client: httpx.Client, body: Any) -> None:
    answer = client.post("/v1/hooks/stash", json=body)
    assert answer.status_code in (202, 422), answer.text
    if answer.status_code == 422:
        assert answer.json()["detail"].startswith("invalid request")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    task=st.sampled_from(["status", "sync", "dlq-retry", "dlq-purge", "nope"]) | st.text(max_size=15), args=json_values
)
def test_task_endpoint_never_fails_with_a_5xx_other_than_unavailable(
    client: httpx.Client, task: str, args: Any
) -> None:
    try:
        answer = client.post(f"/v1/tasks/{task}", json=args)
    except httpx.InvalidURL:
        return  # not a request a client can even send
    assert answer.status_code < 500 or answer.status_code == 503, answer.text


def test_raw_bytes_and_wrong_content_never_fail(client: httpx.Client) -> None:
    for body in (b"", b"\xff\xfe", b"[]", b"null", b'{"event_id": 1e999}', b"{" * 5000):
        answer = client.post("/v1/hooks/stash", content=body)
        assert answer.status_code == 422, (body[:20], answer.text)
