"""What Plex may send the provider, read strictly: a clear 400 for anything malformed, never a guess."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from stash2plex.provider.answers import BadRequestError
from stash2plex.provider.fastpath import _route, _segments
from stash2plex.provider.match import parse_body
from stash2plex.provider.paging import MAX_SIZE, Page, page_of
from stash2plex.provider.settings import ProviderOptions, ProviderSettings


def body(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


def test_a_plex_match_body_is_read_and_extra_fields_ignored() -> None:
    parsed = parse_body(
        body(type=1, title=" Sunset ", year=2024, filename="/m/a.mp4", manual=1, includeElements="Metadata")
    )
    assert (parsed.type, parsed.title, parsed.year, parsed.filename, parsed.manual) == (
        1,
        "Sunset",
        2024,
        "/m/a.mp4",
        True,
    )
    assert parse_body(body(type="1", manual="0")).manual is False
    assert parse_body(body(type=1, filename="")).filename is None


@pytest.mark.parametrize(
    ("raw", "complaint"),
    [
        (b"", "needs a JSON body"),
        (b"{bad", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b"{}", "type: Field required"),
        (body(type=7), "7 is not a Plex metadata type"),
        (body(type=2), "type 2 (show) is not served"),
        (body(type="movie"), "type: Input should be a valid integer"),
        (body(type=1, manual=2), "manual: must be 0 or 1"),
        (body(type=1, year=-3), "year: Input should be greater than or equal to 0"),
        (body(type=1, title=["a"]), "title: Input should be a valid string"),
        (body(type=1, filename="a\x00b"), "filename: must not contain NUL"),
        (body(type=1, filename="x" * 5000), "filename: String should have at most 4096"),
    ],
)
def test_malformed_match_bodies_are_named(raw: bytes, complaint: str) -> None:
    with pytest.raises(BadRequestError, match=r"invalid match request|needs a JSON body") as error:
        parse_body(raw)
    assert complaint in str(error.value)


def test_paging_comes_from_headers_or_query_parameters() -> None:
    assert page_of({}, {}) == Page(0, 20)
    assert page_of({"x-plex-container-start": "5", "x-plex-container-size": "2"}, {}) == Page(5, 2)
    assert page_of({}, {"X-Plex-Container-Start": "3"}) == Page(3, 20)
    assert page_of({"x-plex-container-size": "1"}, {"X-Plex-Container-Size": "9"}) == Page(0, 1)
    assert page_of({"x-plex-container-size": str(10**9)}, {}) == Page(0, MAX_SIZE)
    assert Page(1, 2).of([1, 2, 3, 4]) == [2, 3]


@pytest.mark.parametrize("bad", ["-1", "1.5", "ten", "٣"])
def test_bad_paging_is_a_400(bad: str) -> None:
    with pytest.raises(BadRequestError, match="X-Plex-Container-Size must be a whole number"):
        page_of({"x-plex-container-size": bad}, {})


def scope(raw_path: bytes) -> dict[str, Any]:
    return {"raw_path": raw_path, "path": raw_path.decode("latin-1")}


@pytest.mark.parametrize(
    ("path", "route"),
    [
        (b"/", ("root", "GET", [])),
        (b"/library/metadata/matches", ("match", "POST", [])),
        (b"/library/metadata/scene-4", ("metadata", "GET", ["scene-4"])),
        (b"/library/metadata/scene-4/images", ("images", "GET", ["scene-4"])),
        (b"/library/metadata/scene-4/extras", ("extras", "GET", ["scene-4"])),
        (b"/library/metadata/scene-4/children", ("unknown", "GET", ["scene-4", "children"])),
        (b"/library/metadata/scene-4%2Fimages", ("metadata", "GET", ["scene-4/images"])),
        (b"/images/scene/4/poster", ("image", "GET", ["poster", "4"])),
        (b"/images/performer/9", ("image", "GET", ["performer", "9"])),
        (b"/images/elsewhere", ("unknown", "GET", ["elsewhere"])),
        (b"/healthz", None),
        (b"/library/metadata", None),
    ],
)
def test_routing(path: bytes, route: tuple[str, str, list[str]] | None) -> None:
    assert _route(_segments(scope(path))) == route


def test_a_path_that_is_not_utf8_is_a_400() -> None:
    with pytest.raises(BadRequestError, match="UTF-8"):
        _segments(scope(b"/library/metadata/%ff"))


def test_the_secret_segment_must_be_long_and_plain() -> None:
    assert ProviderOptions(secret_path="A" * 16).mount == "/" + "A" * 16
    assert ProviderOptions(secret_path="").mount == ""
    for bad in ("short", "has/slash-0123456789", "has space 0123456789"):
        with pytest.raises(ValidationError, match="16 to 128 characters"):
            ProviderOptions(secret_path=bad)


def test_the_public_url_is_a_plain_base_and_the_secret_is_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="without \\?query"):
        ProviderOptions(public_url="http://plexhost:9913/?token=1")
    monkeypatch.setenv("STASH2PLEX_PROVIDER__SECRET_PATH", "s3cret-segment-0123")
    monkeypatch.setenv("STASH2PLEX_PROVIDER__PUBLIC_URL", "http://10.0.0.5:9913")
    settings = ProviderSettings()
    assert str(settings.provider.public_url) == "http://10.0.0.5:9913/"
    assert "s3cret-segment-0123" in settings.secrets()
