"""A pair of simulated libraries in step by file path: every Stash scene's files exist as a
Plex item, titled differently, so a sync has something to write."""

from __future__ import annotations

from dataclasses import dataclass

from stash2plex.syncer.mapping import multi_line, one_line
from tests.sims.plex.model import Library
from tests.sims.plex.sim import PlexSim, PlexSimFactory
from tests.sims.stash.fixtures import StashSimFactory
from tests.sims.stash.server import StashSim

SECTION_TITLE = "Stash Scenes"


@dataclass
class Libraries:
    stash: StashSim
    plex: PlexSim
    section_id: int
    rating_keys: dict[int, int]
    """Stash scene id → Plex rating key of its item."""

    def plex_title(self, scene_id: int) -> str:
        return self.plex.library.get(self.rating_keys[scene_id]).title

    def stash_title(self, scene_id: int) -> str:
        """The scene's title as the syncer writes it (cleaned and capped like Plex needs)."""
        scene = self.stash.data.scenes[scene_id]
        return one_line(scene.title)

    def in_step(self) -> list[int]:
        """Scenes whose Plex title and summary equal Stash's, as the syncer maps them."""
        done = []
        for scene_id, key in self.rating_keys.items():
            item = self.plex.library.get(key)
            scene = self.stash.data.scenes[scene_id]
            if item.title == one_line(scene.title) and (item.summary or "") == multi_line(scene.details):
                done.append(scene_id)
        return done


def paired_libraries(
    stash_factory: StashSimFactory, plex_factory: PlexSimFactory, scenes: int, seed: int = 3
) -> Libraries:
    stash = stash_factory(scenes=scenes, seed=seed)
    for scene in stash.data.scenes.values():  # every scene gets a title, so "in step" is unambiguous
        if not scene.title:
            scene.title = f"Scene {scene.id}"
    library = Library()
    section = library.add_section(SECTION_TITLE, locations=["/"])
    keys: dict[int, int] = {}
    for scene in stash.data.scenes.values():
        paths = [stash.data.file_path(f) for f in scene.files]
        item = library.add_item(section.id, f"placeholder {scene.id}", files=paths)
        keys[scene.id] = int(item.rating_key)
    plex = plex_factory(library)
    return Libraries(stash=stash, plex=plex, section_id=section.id, rating_keys=keys)
