"""Cover images per job: fetched once, only when needed; the record says what is done."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from stash2plex.syncer.images import MAX_UPLOAD_BYTES, CoverImages, ImageRejected
from stash2plex.syncer.sync_record import ItemRecord, SyncRecord, content_digest


def counting_fetcher(data: bytes) -> tuple[list[str], CoverImages]:
    calls: list[str] = []

    def fetch(url: str) -> bytes:
        calls.append(url)
        return data

    return calls, CoverImages(fetch)


def test_an_unchanged_url_uses_the_recorded_digest_without_fetching() -> None:
    calls, covers = counting_fetcher(b"jpeg")
    previous = ItemRecord(rating_key="1", section_id="1", images={"thumb": "d"}, image_urls={"thumb": "u?t=1"})
    assert covers.digest("thumb", "u?t=1", previous) == "d"
    assert calls == []


def test_a_new_url_is_fetched_once_for_every_item_and_element() -> None:
    calls, covers = counting_fetcher(b"jpeg")
    previous = ItemRecord(rating_key="1", section_id="1", images={"thumb": "d"}, image_urls={"thumb": "u?t=1"})
    for element in ("thumb", "art"):
        assert covers.digest(element, "u?t=2", previous) == content_digest(b"jpeg")
    assert covers.data("u?t=2") == b"jpeg"
    assert calls == ["u?t=2"]


@pytest.mark.parametrize("data", [b"", b"x" * (MAX_UPLOAD_BYTES + 1)])
def test_an_unusable_image_is_rejected_with_its_reason(data: bytes) -> None:
    _, covers = counting_fetcher(data)
    with pytest.raises(ImageRejected, match=r"empty|more than Plex takes") as caught:
        covers.data("http://stash/scene/1/screenshot?t=3&apikey=never-shown")
    assert "never-shown" not in str(caught.value)


def test_a_record_is_complete_only_with_items_and_nothing_pending() -> None:
    moment = datetime(2024, 1, 1, tzinfo=UTC)
    done = ItemRecord(rating_key="2", section_id="1")
    record = SyncRecord(scene_id="7", stash_updated_at=moment, content_hash="h", items=(done,), synced_at=moment)
    assert record.complete
    assert record.rating_keys == ("2",)
    assert not record.model_copy(update={"items": ()}).complete
    waiting = done.model_copy(update={"pending": ("thumb",)})
    assert not record.model_copy(update={"items": (done, waiting)}).complete
    assert SyncRecord.model_validate_json(record.model_dump_json()) == record
