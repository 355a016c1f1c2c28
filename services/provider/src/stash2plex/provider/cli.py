"""``stash2plex provider register``: the provider's commands for the operator CLI.

The CLI mounts :data:`provider_app` as its ``provider`` group. Exit codes: 0 registered (or
already registered), 1 Plex refused, 2 bad or missing settings, 3 Plex unreachable.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console

from stash2plex.common.settings import SettingsError, env_name, load_settings
from stash2plex.provider.register import NEXT_STEPS, RegistrationError, default_provider_url, register
from stash2plex.provider.settings import ProviderSettings

EXIT_BAD_SETTINGS = 2

provider_app = typer.Typer(help="The Plex metadata provider: register it with Plex.", no_args_is_help=True)


@provider_app.callback()
def provider_group() -> None:
    """The Plex metadata provider."""


@provider_app.command("register")
def register_command(
    url: Annotated[
        str | None,
        typer.Option("--url", help="Provider URL as Plex reaches it (default: PROVIDER public URL, else its address)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object, for scripts.")] = False,
) -> None:
    """Register the provider with Plex (STASH2PLEX_PLEX__URL / __TOKEN) and say what to click next."""
    console = Console(highlight=False)
    try:
        settings = load_settings(ProviderSettings)
    except SettingsError as error:
        console.print(f"[bold red]stash2plex provider register:[/] {error}")
        raise typer.Exit(EXIT_BAD_SETTINGS) from None
    missing = settings.missing_for("plex")
    if missing:
        console.print(f"[bold red]stash2plex provider register:[/] set {', '.join(missing)}")
        raise typer.Exit(EXIT_BAD_SETTINGS)
    assert settings.plex.url is not None
    assert settings.plex.token is not None
    uri = url or default_provider_url(settings)
    try:
        token = settings.plex.token.get_secret_value()
        result = asyncio.run(register(str(settings.plex.url), token, uri, request_timeout_s=settings.plex.timeout_s))
    except RegistrationError as error:
        console.print(f"[bold red]not registered:[/] {error}")
        raise typer.Exit(error.exit_code) from None
    if as_json:
        print(result.model_dump_json())
        return
    if result.warning:
        console.print(f"[yellow]warning:[/] {result.warning}")
    if result.outcome == "registered":
        console.print(
            f"[green]registered[/] {result.identifier} at {result.uri} (Plex provider id {result.provider_id})"
        )
    else:
        console.print(f"[green]already registered[/] {result.identifier} (Plex provider id {result.provider_id})")
        if result.registered_uri and result.registered_uri.rstrip("/") != uri.rstrip("/"):
            console.print(
                f"[yellow]Plex has it at {result.registered_uri}, not {uri}:[/] remove it in Settings → Metadata "
                "Agents and register again to change the URL"
            )
    console.print(NEXT_STEPS.format(title=settings.provider.title))
    if not url and settings.provider.public_url is None:
        console.print(f"(the URL came from the listen address; set {env_name('provider', 'public_url')} for another)")
