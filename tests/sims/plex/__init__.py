"""A Plex Media Server simulator speaking the part of the PMS API that plexapi uses.

Start one with :class:`PlexSim` (or the ``plex_sim`` fixture in :mod:`.fixtures`, or
``python -m tests.sims.plex``); change its :class:`Library` from tests; inject faults
through ``sim.faults``; assert on ``sim.writes``. How it differs from real PMS is listed
in README.md next to this file.
"""

from tests.sims.plex.faults import Faults
from tests.sims.plex.generate import make_library
from tests.sims.plex.model import Item, Library, TagValue
from tests.sims.plex.seed import load_library
from tests.sims.plex.sim import PlexSim

__all__ = ["Faults", "Item", "Library", "PlexSim", "TagValue", "load_library", "make_library"]
