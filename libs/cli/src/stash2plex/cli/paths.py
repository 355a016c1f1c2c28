"""``stash2plex paths test``: see what the path rules do with one path before a sync relies on them."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from rich.text import Text

from stash2plex.common.pathmap import AttemptOutcome, PathExplanation, PathMapper, PathRule, PathRuleError
from stash2plex.common.settings import CommonSettings, SettingsError, env_name, load_settings

EXIT_MAPPED = 0
EXIT_UNMAPPED = 1
EXIT_BAD_RULES = 2

RULES_VARIABLE = env_name("paths", "rules")

OUTCOME_STYLES = {
    AttemptOutcome.MATCHED: "bold green",
    AttemptOutcome.NO_MATCH: "yellow",
    AttemptOutcome.EMPTY_RESULT: "yellow",
    AttemptOutcome.NO_REVERSE: "magenta",
    AttemptOutcome.NOT_TRIED: "dim",
}

paths_app = typer.Typer(help="Path mapping between Stash and Plex.", no_args_is_help=True)


class RuleOptionError(ValueError):
    """A ``--rule`` that is not JSON or not a rule; the message names which one."""


def rules_from_options(options: list[str]) -> list[PathRule]:
    """Rules given as ``--rule`` JSON objects (or lists of them), in the order given."""
    rules: list[PathRule] = []
    for number, text in enumerate(options, start=1):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            raise RuleOptionError(f"--rule {number} is not JSON ({error}): {text!r}") from None
        for item in value if isinstance(value, list) else [value]:
            try:
                rules.append(PathRule.model_validate(item))
            except ValidationError as error:
                reasons = "; ".join(
                    f"{'.'.join(str(part) for part in problem['loc']) or 'rule'}: {problem['msg']}"
                    for problem in error.errors()
                )
                raise RuleOptionError(f"--rule {number}: {reasons}") from None
    return rules


def configured_mapper(options: list[str]) -> tuple[PathMapper, str]:
    """The mapper to test and where its rules come from; raises ``SettingsError`` or ``ValueError``."""
    if options:
        return PathMapper(rules_from_options(options)), "--rule"
    return load_settings(CommonSettings).paths.mapper(), RULES_VARIABLE


def render(explanation: PathExplanation, source: str, console: Console) -> None:
    """The rules tried as a table, then one line saying what became of the path."""
    arrow = "Stash → Plex" if explanation.direction == "to_plex" else "Plex → Stash"
    if explanation.attempts:
        table = Table(title=Text(f"{arrow}, rules from {source}"), title_justify="left")
        for column in ("#", "pattern", "template", "outcome", "why / result"):
            table.add_column(column, overflow="fold")
        for attempt in explanation.attempts:
            template = (attempt.template or "—") + (" (derived)" if attempt.derived else "")
            table.add_row(
                Text(str(attempt.rule_number)),
                Text(attempt.pattern or "—"),
                Text(template),
                Text(attempt.outcome.value.replace("_", " "), style=OUTCOME_STYLES[attempt.outcome]),
                Text(attempt.result if attempt.result is not None else attempt.detail),
            )
        console.print(table)
    else:
        console.print(Text(f"no path rules in {source}: Stash and Plex are taken to share paths"))
    if explanation.mapped:
        case = "" if explanation.case_sensitive else " (compared ignoring case)"
        line = f"rule {explanation.rule_number} maps {explanation.input} → {explanation.path}{case}"
        console.print(Text(line, style="bold green"), soft_wrap=True)
    else:
        console.print(Text(f"no rule matched: {explanation.input} stays as it is", style="bold yellow"), soft_wrap=True)


@paths_app.command("test")
def try_path(
    path: Annotated[str, typer.Argument(help="A Stash path (a Plex path with --reverse).")],
    reverse: Annotated[bool, typer.Option("--reverse", help="Map a Plex path back to its Stash path.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="The explanation as one JSON object.")] = False,
    rule: Annotated[
        list[str] | None,
        typer.Option(
            "--rule",
            help='A rule as JSON, e.g. \'{"stash": "^/data/(.*)$", "plex": "/media/\\\\1"}\'; repeatable. '
            f"Used instead of {RULES_VARIABLE}, to try a rule before saving it.",
        ),
    ] = None,
) -> None:
    """Show which rule maps PATH and to what.

    Exit codes: 0 a rule mapped the path, 1 no rule matched (the path stays as it is), 2 invalid rules.
    """
    console = Console(highlight=False)
    try:
        mapper, source = configured_mapper(rule or [])
    except (SettingsError, RuleOptionError, PathRuleError) as error:
        console.print(Text(f"stash2plex paths test: {error}", style="bold red"), soft_wrap=True)
        raise typer.Exit(EXIT_BAD_RULES) from None
    explanation = mapper.explain(path, direction="to_stash" if reverse else "to_plex")
    if as_json:
        print(explanation.model_dump_json(indent=2))
    else:
        render(explanation, source, console)
    raise typer.Exit(EXIT_MAPPED if explanation.mapped else EXIT_UNMAPPED)
