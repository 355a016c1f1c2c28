"""The provider service's HTTP app: a Plex custom metadata provider answering from Stash.

Where things are: settings in :mod:`.settings`; request handling in :mod:`.handlers` (one
method per endpoint), reached through :mod:`.fastpath` (the outermost app: routing, secret
path) and documented in :mod:`.routes` (on the FastAPI app, which also serves the
operations routes); matching in :mod:`.match` and :mod:`.scoring`; the Plex Metadata
object in :mod:`.metadata`; Stash reads (cached, coalesced) in :mod:`.lookups`;
the image proxy in :mod:`.images`; gap publishing in :mod:`.gaps`.
"""

from __future__ import annotations

from fastapi import FastAPI

from stash2plex.common.http import create_service_app
from stash2plex.common.runtime import Dependency, ServiceRuntime
from stash2plex.common.settings import SettingsError, env_name
from stash2plex.provider import letterbox
from stash2plex.provider.fastpath import ProviderFastPath
from stash2plex.provider.gaps import GapPublisher
from stash2plex.provider.handlers import ProviderHandlers
from stash2plex.provider.images import ImageProxy
from stash2plex.provider.lookups import SceneLookups
from stash2plex.provider.routes import router
from stash2plex.provider.settings import PosterMode, ProviderSettings

SERVICE = "provider"
NEEDS: tuple[Dependency, ...] = ("stash",)


def create_app(settings: ProviderSettings) -> ProviderFastPath:
    """The app the server runs: Plex's endpoints on the fast path, the rest on FastAPI (``.api``)."""
    options = settings.provider
    if options.poster_mode is PosterMode.LETTERBOX and not letterbox.pillow_available():
        raise SettingsError(
            f"{env_name('provider', 'poster_mode')}=letterbox needs Pillow: install it (pip install pillow) "
            "or set the mode to screenshot"
        )
    runtime = ServiceRuntime(SERVICE, settings, needs=NEEDS)
    handlers = ProviderHandlers(
        options,
        SceneLookups(settings.stash, options),
        settings.paths.mapper(),
        GapPublisher(runtime, options.gaps, options.gap_repeat_s),
        ImageProxy(settings.stash, options),
    )
    runtime.on_stopping(handlers.close)
    api = create_service_app(runtime, title="Stash2Plex provider")
    _without_opentelemetry(api)
    api.state.provider = handlers
    api.include_router(router)
    return ProviderFastPath(api, handlers, options)


def _without_opentelemetry(app: FastAPI) -> None:
    """Turn off FastAPI's OpenTelemetry hooks, as ``FastAPI(telemetry=...)`` would.

    Without an OpenTelemetry SDK they do nothing, but still cost every request a look at
    the environment: a third of what a cached match answer costs. Metrics here are Prometheus.
    """
    config = getattr(app, "_telemetry", None)
    if isinstance(config, dict):
        config.update(tracing=False, metrics=False, logs=False)
