"""``X-Plex-Container-Start`` / ``-Size``: headers or query parameters, as the provider spec allows."""

from __future__ import annotations

from dataclasses import dataclass

from stash2plex.provider.answers import BadRequestError

DEFAULT_SIZE = 20
MAX_SIZE = 1000
START = "X-Plex-Container-Start"
SIZE = "X-Plex-Container-Size"


@dataclass(frozen=True)
class Page:
    """Items ``start`` to ``start + size`` of a list (``start`` counts from 0, like ``offset``)."""

    start: int = 0
    size: int = DEFAULT_SIZE

    def of(self, items: list[object]) -> list[object]:
        return items[self.start : self.start + self.size]


DEFAULT_PAGE = Page()


def _number(name: str, raw: str | None, default: int) -> int:
    if raw is None or not raw.strip():
        return default
    text = raw.strip()
    if not text.isascii() or not text.lstrip("+").isdigit():
        raise BadRequestError(f"{name} must be a whole number of 0 or more, got {raw[:40]!r}")
    return int(text)


def page_of(headers: dict[str, str], query: dict[str, str]) -> Page:
    """The page asked for; a header wins over a query parameter of the same name."""

    def raw(name: str) -> str | None:
        return headers.get(name.lower(), query.get(name))

    start = _number(START, raw(START), 0)
    size = _number(SIZE, raw(SIZE), DEFAULT_SIZE)
    return Page(start=start, size=min(size, MAX_SIZE))
