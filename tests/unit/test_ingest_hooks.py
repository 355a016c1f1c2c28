"""What a hook event is allowed to be, and the job it becomes."""

from __future__ import annotations

import importlib.util
import json
from types import ModuleType

import pytest
from pydantic import ValidationError

from stash2plex.common.contracts import EntityChange, SyncJob, SyncReason
from stash2plex.ingest.hooks import HookEvent, jobs_for
from tests.harness.plugin import PLUGIN_SOURCE


def event(**fields: object) -> HookEvent:
    return HookEvent.model_validate({"event_id": "abcdef012345", **fields})


def test_a_scene_update_becomes_one_sync_job_keyed_by_the_event() -> None:
    job = jobs_for(event(type="Scene.Update.Post", id=45, inputFields=["title"]))
    assert isinstance(job, SyncJob)
    assert job.subject == "s2p.sync.scene.45"
    assert job.reason is SyncReason.HOOK
    assert job.msg_id == "sync:45:abcdef012345"


def test_a_destroyed_scene_keeps_its_path() -> None:
    job = jobs_for(event(type="Scene.Destroy.Post", id=3, destroyed={"path": "/m/a.mp4", "oshash": "ff"}))
    assert isinstance(job, SyncJob)
    assert job.reason is SyncReason.DESTROY
    assert job.destroyed_paths == ["/m/a.mp4"]


@pytest.mark.parametrize(
    ("hook", "kind"),
    [("Performer.Update.Post", "performer"), ("Studio.Destroy.Post", "studio"), ("Tag.Merge.Post", "tag"),
     ("Group.Update.Post", "group")],
)  # fmt: skip
def test_entity_hooks_become_entity_changes(hook: str, kind: str) -> None:
    job = jobs_for(event(type=hook, id=9))
    assert isinstance(job, EntityChange)
    assert job.kind == kind
    assert job.subject == f"s2p.entity.{kind}.9"


@pytest.mark.parametrize(
    "hook", ["Performer.Create.Post", "Image.Update.Post", "Movie.Update.Post", "Gallery.Create.Post"]
)
def test_hooks_with_no_effect_on_plex_are_ignored(hook: str) -> None:
    assert jobs_for(event(type=hook, id=1)) is None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"type": "Scene.Update.Post"}, "id"),
        ({"type": "Scene.Updated", "id": 1}, "type"),
        ({"type": "Scene.Update.Post", "id": "1; drop"}, "id"),
        ({"type": "Scene.Update.Post", "id": 1, "event_id": "x"}, "event_id"),
    ],
)
def test_bad_events_are_refused_naming_the_field(fields: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        HookEvent.model_validate({"event_id": "abcdef012345", **fields})
    assert field in str(caught.value)


def load_forwarder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("stash2plex_forward", PLUGIN_SOURCE / "stash2plex_forward.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_forwarder_keeps_only_what_ingest_needs() -> None:
    forwarder = load_forwarder()
    cover = "data:image/jpeg;base64," + "A" * 5_000_000
    hook = {
        "id": 12, "type": "Scene.Update.Post", "inputFields": ["cover_image", "title", "id"],
        "input": {"id": "12", "title": "x", "cover_image": cover},
    }  # fmt: skip
    slim = forwarder.slim_event(hook)
    text = json.dumps(slim)
    assert len(text) < 400
    assert slim["id"] == "12"
    assert slim["input_fields"] == ["title", "id"]
    assert "destroyed" not in slim
    # What the forwarder sends is exactly what ingest accepts.
    assert jobs_for(HookEvent.model_validate(slim)) is not None


def test_forwarder_keeps_a_destroyed_scenes_path_and_hashes() -> None:
    forwarder = load_forwarder()
    hook = {
        "id": 5,
        "type": "Scene.Destroy.Post",
        "input": {"id": "5", "path": "/v/a.mp4", "checksum": "c", "oshash": "o"},
    }
    assert forwarder.slim_event(hook)["destroyed"] == {"path": "/v/a.mp4", "checksum": "c", "oshash": "o"}


def test_forwarder_maps_stashs_wildcard_host_to_loopback() -> None:
    forwarder = load_forwarder()
    assert forwarder.stash_url({"Scheme": "http", "Host": "0.0.0.0", "Port": 9999}) == "http://127.0.0.1:9999"
