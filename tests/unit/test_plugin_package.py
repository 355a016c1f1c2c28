"""The Stash plugin packaged for Stash's plugin manager: a zip Stash unpacks into its plugin
folder, and an index.yml it reads (a YAML list with id, name, version, date, path, sha256)."""

from __future__ import annotations

import hashlib
import shutil
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from stash2plex.cli.plugin_package import PackageError, package
from tests.conftest import REPO_ROOT

SOURCE = REPO_ROOT / "deploy" / "stash-plugin"
DATE = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def test_index_lists_the_zip_with_its_checksum_and_the_manifest_version(tmp_path: Path) -> None:
    entry = package(SOURCE, tmp_path, DATE)
    index = yaml.safe_load((tmp_path / "index.yml").read_text())
    assert isinstance(index, list)
    assert len(index) == 1
    (listed,) = index
    manifest = yaml.safe_load((SOURCE / "Stash2Plex.yml").read_text())
    assert listed["id"] == "Stash2Plex"
    assert listed["name"] == manifest["name"]
    assert listed["version"] == str(manifest["version"])
    assert listed["date"] == "2026-03-04 05:06:07"  # the format Stash parses (UTC)
    assert listed["path"] == "Stash2Plex.zip"  # beside the index: Stash resolves it relative to index.yml
    assert listed["sha256"] == hashlib.sha256((tmp_path / "Stash2Plex.zip").read_bytes()).hexdigest()
    assert listed["sha256"] == entry.sha256
    assert listed["metadata"]["description"] == manifest["description"]


def test_the_zip_unpacks_to_the_plugin_folder_without_run_time_state(tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(SOURCE, source)
    (source / "spool.jsonl").write_text('{"left": "behind"}\n')  # what a running forwarder writes
    (source / ".settings-cache.json").write_text("{}")
    package(source, tmp_path / "out", DATE)
    with zipfile.ZipFile(tmp_path / "out" / "Stash2Plex.zip") as archive:
        names = sorted(archive.namelist())
        forwarder = archive.getinfo("stash2plex_forward.py")
        archive.extractall(tmp_path / "installed")
    assert names == sorted(p.name for p in SOURCE.iterdir() if p.is_file() and p.name not in ("spool.jsonl",))
    assert "Stash2Plex.yml" in names  # top level: Stash installs into plugins/<source>/<id>/
    assert (forwarder.external_attr >> 16) & 0o111  # executable
    for name in names:
        assert (tmp_path / "installed" / name).read_bytes() == (SOURCE / name).read_bytes()


def test_the_same_sources_give_the_same_bytes(tmp_path: Path) -> None:
    first = package(SOURCE, tmp_path / "a", DATE)
    second = package(SOURCE, tmp_path / "b", DATE)
    assert first.sha256 == second.sha256
    changed = tmp_path / "changed"
    shutil.copytree(SOURCE, changed)
    (changed / "stash2plex_forward.py").write_text((SOURCE / "stash2plex_forward.py").read_text() + "\n# edited\n")
    assert package(changed, tmp_path / "c", DATE).sha256 != first.sha256


def test_a_base_url_makes_the_path_absolute(tmp_path: Path) -> None:
    entry = package(SOURCE, tmp_path, DATE, base_url="https://example.invalid/stash2plex/")
    assert entry.path == "https://example.invalid/stash2plex/Stash2Plex.zip"


def test_a_folder_that_is_not_the_plugin_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PackageError, match="not found"):
        package(tmp_path, tmp_path / "out", DATE)
    shutil.copytree(SOURCE, tmp_path / "two")
    (tmp_path / "two" / "Other.yml").write_text("name: Other\nversion: 1\n")
    with pytest.raises(PackageError, match=r"other \.yml files"):
        package(tmp_path / "two", tmp_path / "out", DATE)
