"""The configuration reference and ``.env.example``, generated from the settings models.

Written by hand they would drift from the code; generated, a test can say when they did
(``stash2plex config reference --check``). Every variable comes from walking the pydantic
models each service reads, so a new field shows up here with its type, default and description.
"""

from __future__ import annotations

import enum
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import AnyHttpUrl, BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from stash2plex.common.settings import CommonSettings, env_name
from stash2plex.ingest.settings import IngestSettings
from stash2plex.provider.settings import ProviderSettings
from stash2plex.reconciler.settings import ReconcilerSettings
from stash2plex.syncer.settings import SyncerSettings

SERVICE_SETTINGS: dict[str, type[CommonSettings]] = {
    "ingest": IngestSettings,
    "syncer": SyncerSettings,
    "reconciler": ReconcilerSettings,
    "provider": ProviderSettings,
}

MACHINE_DEPENDENT_DEFAULTS = {
    env_name("data_dir"): "the user data folder (`~/.local/share/stash2plex` on Linux; `/data` in the image)",
}
"""Defaults computed on the machine that reads them: shown in words, so the reference is the same everywhere."""

REQUIRED_IN_ENV_EXAMPLE = (
    env_name("stash", "url"),
    env_name("stash", "api_key"),
    env_name("plex", "url"),
    env_name("plex", "token"),
    env_name("ingest", "token"),
)
"""Left uncommented in ``.env.example``: what a Compose install must fill in."""

COMPOSE_VARIABLES = (
    ("STASH2PLEX_IMAGE", "stash2plex:latest", "Image the four services run (built from deploy/Dockerfile)."),
    ("STASH2PLEX_INGEST_PUBLISH", "9910", "Host port for ingest, which the Stash plugin posts to."),
    ("STASH2PLEX_PROVIDER_PUBLISH", "9913", "Host port for the metadata provider, which Plex calls."),
    ("STASH2PLEX_GRAFANA_PUBLISH", "3000", "Host port for Grafana."),
    ("STASH2PLEX_PROMETHEUS_PUBLISH", "127.0.0.1:9090", "Host address for Prometheus (this machine only)."),
    ("STASH2PLEX_GRAFANA_ADMIN_PASSWORD", "admin", "Grafana's admin password on its first start."),
)
"""Variables ``compose.yaml`` reads itself (not service settings)."""


@dataclass(frozen=True)
class Setting:
    """One environment variable."""

    env: str
    type: str
    default: str
    description: str
    section: str
    services: tuple[str, ...]
    secret: bool


def _unwrap(annotation: Any) -> Any:
    """``Annotated[X, ...]`` → ``X``; ``X | None`` → ``X``."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, types.UnionType):
        rest = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(rest) == 1:
            return _unwrap(rest[0])
    return annotation


def _is_group(annotation: Any) -> bool:
    inner = _unwrap(annotation)
    return isinstance(inner, type) and issubclass(inner, BaseModel)


def type_name(annotation: Any) -> str:
    """How a value is written in a variable, in a few words."""
    inner = _unwrap(annotation)
    origin = get_origin(inner)
    if origin is Literal:
        return "one of " + ", ".join(f"`{value}`" for value in get_args(inner))
    if origin is list:
        (item,) = get_args(inner)
        item = _unwrap(item)
        if isinstance(item, type) and issubclass(item, BaseModel):
            return f"JSON list of {item.__name__} objects"
        if isinstance(item, type) and issubclass(item, enum.Enum):
            return "comma-separated, of " + ", ".join(f"`{member.value}`" for member in item)
        return "comma-separated list"
    if isinstance(inner, type):
        if issubclass(inner, enum.Enum):
            return "one of " + ", ".join(f"`{member.value}`" for member in inner)
        if issubclass(inner, bool):
            return "`true` / `false`"
        if issubclass(inner, SecretStr):
            return "secret text"
        if issubclass(inner, AnyHttpUrl):
            return "URL"
        if issubclass(inner, Path):
            return "path"
        names = {int: "integer", float: "number", str: "text"}
        for kind, name in names.items():
            if issubclass(inner, kind):
                return name
    return str(inner)


def _default(env: str, info: FieldInfo) -> str:
    if env in MACHINE_DEPENDENT_DEFAULTS:
        return MACHINE_DEPENDENT_DEFAULTS[env]
    if info.default_factory is not None:
        value = info.default_factory()  # type: ignore[call-arg]
    elif info.default is PydanticUndefined:
        return ""
    else:
        value = info.default
    return _as_env_text(value)


def _as_env_text(value: Any) -> str:
    """A default as it would be written in the variable."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return ",".join(_as_env_text(item) for item in value)
    return str(value)


def _walk(model: type[BaseModel], loc: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], FieldInfo]]:
    for name, info in model.model_fields.items():
        if _is_group(info.annotation):
            yield from _walk(_unwrap(info.annotation), (*loc, name))
        else:
            yield (*loc, name), info


def _section(loc: tuple[str, ...]) -> str:
    return ".".join(loc[:-1]) or "general"


def catalogue() -> list[Setting]:
    """Every variable any service reads, each once, common groups first."""
    found: dict[str, Setting] = {}
    readers: dict[str, list[str]] = {}
    models: list[tuple[str, type[CommonSettings]]] = [("all", CommonSettings), *SERVICE_SETTINGS.items()]
    for service, model in models:
        for loc, info in _walk(model, ()):
            env = env_name(*loc)
            readers.setdefault(env, []).append(service)
            if env in found:
                continue
            found[env] = Setting(
                env=env,
                type=type_name(info.annotation),
                default=_default(env, info),
                description=(info.description or "").strip(),
                section=_section(loc),
                services=(),
                secret=_unwrap(info.annotation) is SecretStr,
            )
    out = []
    for env, setting in found.items():
        services = readers[env]
        who = ("every service",) if "all" in services else tuple(services)
        out.append(Setting(**{**setting.__dict__, "services": who}))
    return out


SECTION_TITLES = {
    "general": "General",
    "nats": "NATS (the broker)",
    "stash": "Stash",
    "plex": "Plex",
    "log": "Logging",
    "paths": "Path mapping",
}


def section_title(section: str) -> str:
    if section in SECTION_TITLES:
        return SECTION_TITLES[section]
    service, _, sub = section.partition(".")
    return f"{service} service" + (f": {sub.replace('.', ' ')}" if sub else "")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def reference_markdown() -> str:
    """``docs/configuration.md``."""
    lines = [
        "# Configuration reference",
        "",
        "<!-- Generated by `stash2plex config reference --output docs/configuration.md` from the settings",
        "     models; tests/unit/test_config_reference.py fails when this file and the code disagree. -->",
        "",
        "Every service reads its settings from environment variables (prefix `STASH2PLEX_`, groups joined",
        "with `__`) and from a `.env` file in its working directory. A value that does not validate stops",
        "the service with a message naming the variable; a missing Stash or Plex setting does not — the",
        "service starts and says on `/readyz` what to set. `.env.example` lists the same variables.",
        "",
        "Lists: path rules are a JSON list; other lists are comma-separated. Durations ending in `_s` are",
        "seconds. Secrets are never logged.",
        "",
    ]
    section = None
    for setting in catalogue():
        if setting.section != section:
            section = setting.section
            readers = ", ".join(setting.services)
            lines += ["", f"## {section_title(section)}", "", f"Read by: {readers}.", ""]
            lines += ["| variable | type | default | meaning |", "|---|---|---|---|"]
        if setting.env in MACHINE_DEPENDENT_DEFAULTS:
            default = setting.default
        else:
            default = f"`{setting.default}`" if setting.default else "empty"
        lines.append(f"| `{setting.env}` | {_cell(setting.type)} | {_cell(default)} | {_cell(setting.description)} |")
    lines += [
        "",
        "## Docker Compose",
        "",
        "Read by `compose.yaml` itself (interpolation), not by the services.",
        "",
        "| variable | default | meaning |",
        "|---|---|---|",
    ]
    lines += [f"| `{name}` | `{default}` | {meaning} |" for name, default, meaning in COMPOSE_VARIABLES]
    return "\n".join(lines) + "\n"


def env_example() -> str:
    """``.env.example``: every variable with its description; the ones a Compose install needs are open."""
    lines = [
        "# Stash2Plex settings. Copy to .env and fill in the first block; every other line shows a",
        "# default, commented out. Generated by `stash2plex config env-example --output .env.example`;",
        "# docs/configuration.md explains each variable.",
        "",
        "# --- needed ---",
    ]
    settings = catalogue()
    by_env = {setting.env: setting for setting in settings}
    for env in REQUIRED_IN_ENV_EXAMPLE:
        lines += [f"# {by_env[env].description}", f"{env}="]
    section = None
    for setting in settings:
        if setting.env in REQUIRED_IN_ENV_EXAMPLE:
            continue
        if setting.section != section:
            section = setting.section
            lines += ["", f"# --- {section_title(section)} ---"]
        kind = f" [{setting.type}]".replace("`", "")
        shown = "" if setting.secret or setting.env in MACHINE_DEPENDENT_DEFAULTS else setting.default
        lines += [f"# {setting.description}{kind}", f"# {setting.env}={shown}"]
    lines += ["", "# --- Docker Compose (read by compose.yaml, not by the services) ---"]
    for name, default, meaning in COMPOSE_VARIABLES:
        lines += [f"# {meaning}", f"# {name}={default}"]
    return "\n".join(lines) + "\n"
