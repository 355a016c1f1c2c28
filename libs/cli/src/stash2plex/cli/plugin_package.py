"""``stash2plex plugin package``: the Stash plugin as a zip and a plugin source index.

Stash's plugin manager (*Settings → Plugins → Available Plugins → Add Source*) reads an
``index.yml``: a YAML list of packages, each with ``id``, ``name``, ``version``, ``date``
(UTC, ``YYYY-MM-DD HH:MM:SS``), ``path`` (the zip, relative to the index or a URL) and the
zip's ``sha256``. It unpacks the zip into ``plugins/<source>/<id>/``, so the manifest sits at
the zip's top level and the plugin id is the manifest's file name. The zip is reproducible:
the same sources and date give the same bytes, so the checksum only changes with the plugin.
"""

from __future__ import annotations

import hashlib
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field

PLUGIN_ID = "Stash2Plex"
STASH_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
LEFT_OUT = {"spool.jsonl", "spool.lock", ".settings-cache.json"}
"""State the forwarder writes beside itself at run time: never shipped."""
EXECUTABLE = {"stash2plex_forward.py"}


class PackageError(ValueError):
    """The plugin folder is not a Stash plugin (no manifest, no version...)."""


class IndexEntry(BaseModel):
    """One package in a Stash plugin source index."""

    id: str
    name: str
    metadata: dict[str, Any] = Field(default_factory=dict)
    version: str
    date: str = Field(description="UTC, as Stash parses it: YYYY-MM-DD HH:MM:SS.")
    path: str
    sha256: str
    requires: list[str] = Field(default_factory=list)


def plugin_files(source: Path) -> list[Path]:
    """The files that make up the plugin, in a stable order."""
    files = []
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if path.is_dir() or path.name in LEFT_OUT or "__pycache__" in relative.parts or path.suffix == ".pyc":
            continue
        files.append(path)
    return files


def read_manifest(source: Path, plugin_id: str) -> dict[str, Any]:
    manifest_path = source / f"{plugin_id}.yml"
    if not manifest_path.is_file():
        raise PackageError(f"{manifest_path} not found: the plugin id is the manifest's file name")
    manifest = yaml.safe_load(manifest_path.read_text())
    if not isinstance(manifest, dict) or not manifest.get("name") or not manifest.get("version"):
        raise PackageError(f"{manifest_path} needs a name and a version")
    others = [p.name for p in source.glob("*.yml") if p != manifest_path]
    if others:
        raise PackageError(f"{source} holds other .yml files ({', '.join(others)}); Stash would load them as plugins")
    return manifest


def write_zip(source: Path, files: list[Path], target: Path, date: datetime) -> None:
    """Entries sorted, with one timestamp and fixed permissions, so the bytes depend on the content only."""
    stamp = date.astimezone(UTC).timetuple()[:6]
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            name = path.relative_to(source).as_posix()
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            mode = 0o755 if path.name in EXECUTABLE else 0o644
            info.external_attr = (0o100000 | mode) << 16
            archive.writestr(info, path.read_bytes())


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def package(
    source: Path, out: Path, date: datetime, base_url: str | None = None, plugin_id: str = PLUGIN_ID
) -> IndexEntry:
    """Write ``<out>/<id>.zip`` and ``<out>/index.yml``; returns the index entry."""
    manifest = read_manifest(source, plugin_id)
    out.mkdir(parents=True, exist_ok=True)
    zip_name = f"{plugin_id}.zip"
    write_zip(source, plugin_files(source), out / zip_name, date)
    entry = IndexEntry(
        id=plugin_id,
        name=str(manifest["name"]),
        metadata={"description": str(manifest.get("description", ""))},
        version=str(manifest["version"]),
        date=date.astimezone(UTC).strftime(STASH_TIME_FORMAT),
        path=f"{base_url.rstrip('/')}/{zip_name}" if base_url else zip_name,
        sha256=sha256_of(out / zip_name),
    )
    index = yaml.safe_dump([entry.model_dump()], sort_keys=False, allow_unicode=True)
    (out / "index.yml").write_text(index)
    return entry
