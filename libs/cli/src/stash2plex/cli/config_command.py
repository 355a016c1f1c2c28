"""``stash2plex config``: the configuration reference and ``.env.example``, from the settings models."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from stash2plex.cli import exits
from stash2plex.cli.common import fail
from stash2plex.cli.config_docs import env_example, reference_markdown

config_app = typer.Typer(help="Every setting, generated from the settings models.", no_args_is_help=True)

OutputOption = Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")]
CheckOption = Annotated[
    bool, typer.Option("--check", help="With --output: exit 1 if the file differs from what would be written.")
]


def emit(command: str, text: str, output: Path | None, check: bool) -> None:
    if output is None:
        if check:
            fail(command, "--check needs --output", exits.BAD_SETTINGS)
        print(text, end="")
        return
    if check:
        current = output.read_text() if output.exists() else ""
        if current != text:
            fail(command, f"{output} is out of date: run stash2plex {command} --output {output}", exits.NO)
        return
    output.write_text(text)


def _command(name: str, render: Callable[[], str]) -> Callable[[Path | None, bool], None]:
    def command(output: OutputOption = None, check: CheckOption = False) -> None:
        emit(f"config {name}", render(), output, check)

    return command


config_app.command("reference", help="Markdown reference of every variable (docs/configuration.md).")(
    _command("reference", reference_markdown)
)
config_app.command("env-example", help="A commented .env with every variable (.env.example).")(
    _command("env-example", env_example)
)
