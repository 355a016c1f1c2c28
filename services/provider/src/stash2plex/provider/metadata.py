"""A Stash scene as Plex's ``Metadata`` object (movie), and the containers around it: pure functions.

Every field the provider spec defines for a movie and Stash has is filled: title, summary,
originallyAvailableAt, year, studio (and ``Studio`` with the parent network), contentRating,
isAdult, duration, rating, ``Genre`` from tags, ``Role`` from performers with their images,
``Director``, ``Image`` (coverPoster, background) and ``thumb``/``art``.

Plex requires ``originallyAvailableAt``; a scene without a date gets the day it was added
to Stash (and no ``year``, which would claim more than Stash knows).
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from stash2plex.common import plexguid
from stash2plex.provider.links import ImageLinks
from stash2plex.provider.stash import ProviderScene

METADATA_KEY = "/library/metadata"


def display_title(scene: ProviderScene) -> str:
    """Stash's title, or (as Stash itself shows it) the file name without extension."""
    if scene.title and scene.title.strip():
        return scene.title.strip()
    file = scene.primary_file
    if file is not None:
        name = file.basename.replace("\\", "/").rsplit("/", 1)[-1]
        return PurePosixPath(name).stem or name
    return f"Scene {scene.id}"


def release_date(scene: ProviderScene) -> str:
    return scene.date or scene.created_at.date().isoformat()


def year(scene: ProviderScene) -> int | None:
    if scene.date and scene.date[:4].isdigit():
        return int(scene.date[:4])
    return None


def is_empty(scene: ProviderScene) -> bool:
    """Stash knows nothing about the scene beyond its file: Plex would show the file name only."""
    return not (
        (scene.title and scene.title.strip())
        or (scene.details and scene.details.strip())
        or scene.date
        or scene.studio
        or scene.performers
        or scene.tags
        or scene.director
    )


def _identity(scene: ProviderScene) -> dict[str, Any]:
    rating_key = plexguid.rating_key(scene.id)
    return {
        "ratingKey": rating_key,
        "key": f"{METADATA_KEY}/{rating_key}",
        "guid": plexguid.guid(scene.id),
        "type": plexguid.METADATA_TYPE,
        "title": display_title(scene),
    }


def match_item(scene: ProviderScene, links: ImageLinks, score: int) -> dict[str, Any]:
    """What a match answer lists per candidate: enough for Plex's Fix Match dialog, plus ``score``."""
    item = _identity(scene)
    item["originallyAvailableAt"] = release_date(scene)
    scene_year = year(scene)
    if scene_year is not None:
        item["year"] = scene_year
    if scene.details and scene.details.strip():
        item["summary"] = scene.details.strip()
    poster = links.poster(scene)
    if poster:
        item["thumb"] = poster
    item["score"] = score
    return item


def images(scene: ProviderScene, links: ImageLinks) -> list[dict[str, str]]:
    """The ``Image`` array: the poster and the background, with the title as alt text."""
    alt = display_title(scene)
    found = []
    poster, background = links.poster(scene), links.screenshot(scene)
    if poster:
        found.append({"type": "coverPoster", "url": poster, "alt": alt})
    if background:
        found.append({"type": "background", "url": background, "alt": alt})
    return found


def movie(scene: ProviderScene, links: ImageLinks, *, content_rating: str, is_adult: bool) -> dict[str, Any]:
    """The full Metadata object of a scene."""
    item = _identity(scene)
    item["originallyAvailableAt"] = release_date(scene)
    scene_year = year(scene)
    if scene_year is not None:
        item["year"] = scene_year
    if scene.details and scene.details.strip():
        item["summary"] = scene.details.strip()
    if scene.studio is not None:
        item["studio"] = scene.studio.name
        studios = [scene.studio.name]
        if scene.studio.parent_studio is not None and scene.studio.parent_studio.name not in studios:
            studios.append(scene.studio.parent_studio.name)
        item["Studio"] = [{"tag": name} for name in studios]
    if content_rating:
        item["contentRating"] = content_rating
    item["isAdult"] = is_adult
    file = scene.primary_file
    if file is not None and file.duration:
        item["duration"] = round(file.duration * 1000)
    if scene.rating100 is not None:
        item["rating"] = round(scene.rating100 / 10, 1)
    item_images = images(scene, links)
    for image in item_images:
        item["thumb" if image["type"] == "coverPoster" else "art"] = image["url"]
    if item_images:
        item["Image"] = item_images
    if scene.tags:
        item["Genre"] = [{"tag": tag.name} for tag in scene.tags]
    if scene.performers:
        roles = []
        for order, performer in enumerate(scene.performers, start=1):
            role: dict[str, Any] = {"tag": performer.name, "order": order}
            photo = links.performer(performer)
            if photo:
                role["thumb"] = photo
            roles.append(role)
        item["Role"] = roles
    if scene.director and scene.director.strip():
        item["Director"] = [{"tag": scene.director.strip()}]
    return item


def container(identifier: str, total: int, offset: int = 0, **elements: list[dict[str, Any]]) -> dict[str, Any]:
    """``{"MediaContainer": {offset, totalSize, identifier, size, <elements>}}``; ``size`` counts this page."""
    size = sum(len(v) for v in elements.values())
    page = {"offset": offset, "totalSize": total, "identifier": identifier, "size": size}
    return {"MediaContainer": {**page, **elements}}
