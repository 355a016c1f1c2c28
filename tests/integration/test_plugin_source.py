"""The plugin source as Stash's plugin manager uses it: fetch index.yml over HTTP, resolve the
package path against the index's URL, check the sha256, unpack into plugins/<source>/<id>/,
and the installed forwarder delivers a hook to a real ingest."""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import posixpath
import threading
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import yaml

from stash2plex.cli.plugin_package import package
from tests.harness.broker import Broker
from tests.harness.plugin import InstalledPlugin
from tests.harness.services import ServiceProcess
from tests.sims.stash.server import StashSim

SOURCE = Path(__file__).resolve().parents[2] / "deploy" / "stash-plugin"
TOKEN = "plugin-source-token"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """dist/stash-plugin as a web server would serve it, under a sub-path like GitHub Pages."""
    site = tmp_path / "site"
    package(SOURCE, site / "stash2plex", datetime(2026, 5, 1, 12, 0, tzinfo=UTC))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/stash2plex/index.yml"
    finally:
        server.shutdown()
        server.server_close()


def resolve(index_url: str, path: str) -> str:
    """What Stash does with a package path: a URL as is, else relative to the index's folder."""
    if urlsplit(path).scheme:
        return path
    parts = urlsplit(index_url)
    joined = path if path.startswith("/") else posixpath.join(posixpath.dirname(parts.path), path)
    return urlunsplit((parts.scheme, parts.netloc, joined, "", ""))


def test_stash_installs_the_plugin_from_the_source_and_it_forwards_hooks(
    served: str, tmp_path: Path, broker: Broker, stash_sim: StashSim
) -> None:
    (entry,) = yaml.safe_load(httpx.get(served, timeout=5).text)
    archive = httpx.get(resolve(served, entry["path"]), timeout=5)
    assert archive.status_code == 200
    assert hashlib.sha256(archive.content).hexdigest() == entry["sha256"]

    installed = tmp_path / "plugins" / "stash2plex" / entry["id"]
    with zipfile.ZipFile(io.BytesIO(archive.content)) as unpacked:
        for member in unpacked.infolist():
            target = installed / posixpath.normpath(member.filename)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(unpacked.read(member))
    manifest = yaml.safe_load((installed / f"{entry['id']}.yml").read_text())
    assert manifest["version"] == entry["version"]

    env = {
        "STASH2PLEX_NATS__URL": broker.url, "STASH2PLEX_DATA_DIR": str(tmp_path / "data"),
        "STASH2PLEX_STASH__URL": stash_sim.url, "STASH2PLEX_STASH__API_KEY": stash_sim.api_key or "",
        "STASH2PLEX_INGEST__TOKEN": TOKEN,
    }  # fmt: skip
    with ServiceProcess("ingest", env, tmp_path) as ingest:
        plugin = InstalledPlugin(tmp_path / "run", ingest.url, TOKEN)
        plugin.folder = installed  # run the installed copy, not the repository's
        run = plugin.run_hook("Scene.Update.Post", 1)
        metrics = httpx.get(ingest.url + "/metrics", timeout=5).text
    assert run.code == 0, run.log
    assert 'stash2plex_ingest_hooks_total{hook="Scene.Update.Post",outcome="queued"} 1.0' in metrics
    assert plugin.spooled() == []  # delivered, not spooled
