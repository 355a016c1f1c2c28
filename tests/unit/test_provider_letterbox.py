"""Letterboxing Stash's 16:9 screenshots onto Plex's 2:3 poster canvas: nothing cropped, bars black."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from stash2plex.provider import letterbox
from stash2plex.provider.letterbox import Geometry


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((1920, 1080), Geometry(1920, 2880, 0, 900)),  # 16:9: bars above and below
        ((320, 180), Geometry(320, 480, 0, 150)),
        ((200, 300), Geometry(200, 300, 0, 0)),  # already 2:3
        ((100, 400), Geometry(267, 400, 83, 0)),  # taller than 2:3: bars left and right
        ((301, 100), Geometry(301, 452, 0, 176)),  # odd sizes round the canvas up
    ],
)
def test_geometry(size: tuple[int, int], expected: Geometry) -> None:
    box = letterbox.geometry(*size)
    assert box == expected
    assert box.width * 3 == pytest.approx(box.height * 2, abs=3)
    assert box.x + size[0] <= box.width
    assert box.y + size[1] <= box.height


def test_an_empty_image_cannot_be_letterboxed() -> None:
    with pytest.raises(ValueError, match="0x10"):
        letterbox.geometry(0, 10)


def _jpeg(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="JPEG", quality=95)
    return out.getvalue()


def test_a_screenshot_becomes_a_two_by_three_poster_with_black_bars() -> None:
    poster = Image.open(io.BytesIO(letterbox.letterbox(_jpeg((320, 180), (250, 250, 250)))))
    assert poster.format == "JPEG"
    assert poster.size == (320, 480)
    rgb = poster.convert("RGB")

    def pixel(x: int, y: int) -> tuple[int, ...]:
        value = rgb.getpixel((x, y))
        assert isinstance(value, tuple)
        return value

    assert max(pixel(160, 10)) < 16  # top bar
    assert max(pixel(160, 470)) < 16  # bottom bar
    assert min(pixel(160, 240)) > 230  # the picture, whole, in the middle
    assert min(pixel(2, 152)) > 230  # its top left corner
    assert min(pixel(317, 327)) > 230  # and bottom right


def test_bytes_that_are_no_image_are_refused() -> None:
    assert letterbox.pillow_available()
    with pytest.raises(ValueError, match="not an image"):
        letterbox.letterbox(b"<html>oops</html>")
