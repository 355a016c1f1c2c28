"""The docs name only variables that exist, and link only to sections and files that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stash2plex.cli.config_docs import COMPOSE_VARIABLES, catalogue
from tests.conftest import REPO_ROOT

DOCS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
OTHER_VARIABLES = {
    "STASH2PLEX_HEALTHCHECK_URL": "the container health check",
    "STASH2PLEX_TEST_NATS": "the test harness's broker choice",
    "STASH2PLEX_INGEST_URL": "the Stash plugin, from Stash's environment",
    "STASH2PLEX_INGEST_TOKEN": "the Stash plugin, from Stash's environment",
    "STASH2PLEX_VENV": "run.py",
}
VARIABLE = re.compile(r"STASH2PLEX_[A-Z0-9_]*[A-Z0-9]")


def known() -> set[str]:
    return {s.env for s in catalogue()} | {name for name, _, _ in COMPOSE_VARIABLES} | set(OTHER_VARIABLES)


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_every_variable_the_docs_name_exists(path: Path) -> None:
    text = path.read_text()
    unknown = set()
    for match in VARIABLE.finditer(text):
        name = match.group(0)
        following = text[match.end() : match.end() + 1]
        if following in ("<", "*") or text[match.start() - 1 : match.start()] == "<":
            continue  # a pattern such as STASH2PLEX_<SERVICE>__PORT
        if name not in known() and not any(env.startswith(name + "__") for env in known()):
            unknown.add(name)
    assert unknown == set()


def _anchor(title: str) -> str:
    """GitHub's anchor of a heading."""
    slug = re.sub(r"[^\w\- ]", "", title.strip().lower())
    return slug.replace(" ", "-")


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_links_point_at_files_and_sections_that_exist(path: Path) -> None:
    text = path.read_text()
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if target.startswith(("http://", "https://")):
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(target)
            continue
        if anchor and linked.suffix == ".md":
            headings = re.findall(r"^#+ (.+)$", linked.read_text(), flags=re.MULTILINE)
            if anchor not in {_anchor(h) for h in headings}:
                broken.append(target)
    assert broken == []
