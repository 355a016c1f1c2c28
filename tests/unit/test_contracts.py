"""Message contracts: round trips, versions, subjects and dedup ids."""

from __future__ import annotations

import pytest

from stash2plex.common.contracts import ContractError, DeadLetter, ErrorClass, Gap, SyncJob, SyncReason, utcnow
from stash2plex.common.subjects import GapKind, control_subject, scene_id_of, sync_subject, token


def test_sync_job_round_trips_and_names_its_subject() -> None:
    job = SyncJob(scene_id="42", reason=SyncReason.HOOK, hook="Scene.Update.Post")
    assert SyncJob.from_bytes(job.to_bytes()) == job
    assert job.subject == "s2p.sync.scene.42"
    assert scene_id_of(job.subject) == "42"


def test_replayed_event_keeps_its_dedup_id_but_a_new_edit_does_not() -> None:
    first = SyncJob(scene_id="7", reason=SyncReason.HOOK, event_id="evt-1")
    replay = SyncJob.from_bytes(first.to_bytes())
    newer = SyncJob(scene_id="7", reason=SyncReason.HOOK, event_id="evt-2")
    assert replay.msg_id == first.msg_id
    assert newer.msg_id != first.msg_id


def test_a_newer_message_version_is_refused_clearly() -> None:
    with pytest.raises(ContractError, match="newer than this service understands"):
        SyncJob.from_bytes(b'{"v": 2, "scene_id": "1", "reason": "hook"}')


def test_garbage_is_a_contract_error() -> None:
    with pytest.raises(ContractError):
        SyncJob.from_bytes(b"not json")


@pytest.mark.parametrize("bad", ["1 2", "a.b", "*", ">", "", "x\ny"])
def test_ids_that_would_break_a_subject_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="subject token"):
        token(bad)
    with pytest.raises(ValueError, match="scene_id"):
        SyncJob(scene_id=bad, reason=SyncReason.MANUAL)


def test_gap_subjects_use_the_scene_or_the_plex_item() -> None:
    stale = Gap(kind=GapKind.STALE, scene_id="9", pass_id="p1")
    orphan = Gap(kind=GapKind.MISSING_IN_STASH, plex_rating_key="5001", pass_id="p1")
    assert stale.subject == "s2p.gap.stale.9"
    assert orphan.subject == "s2p.gap.missing_in_stash.5001"
    assert stale.msg_id == "gap:stale:9:p1"
    assert not GapKind.MISSING_IN_STASH.actionable
    assert GapKind.PLEX_EMPTY.actionable
    with pytest.raises(ContractError):
        _ = Gap(kind=GapKind.MISSING_IN_STASH, scene_id="9").subject


def test_dead_letter_keeps_the_original_job() -> None:
    job = SyncJob(scene_id="3", reason=SyncReason.HOOK)
    now = utcnow()
    letter = DeadLetter(
        job=job, error_class=ErrorClass.PERMANENT, error="400 Bad Request", attempts=3,
        first_failure_at=now, last_failure_at=now,
    )  # fmt: skip
    back = DeadLetter.from_bytes(letter.to_bytes())
    assert back.job == job
    assert back.subject == "s2p.dlq.scene.3"


def test_control_subject() -> None:
    assert sync_subject(1) == "s2p.sync.scene.1"
    assert control_subject("syncer", "status") == "s2p.ctl.syncer.status"
