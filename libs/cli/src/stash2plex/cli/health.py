"""``stash2plex health``: is every service ready, and if not, what does each one wait for?

The same question as the Stash plugin's *Health check* task, asked the same way: each
service's own readiness report over its control subject.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from stash2plex.cli.broker import connected
from stash2plex.common import control


async def read_health(url: str, timeout_s: float) -> control.HealthReport:
    async with connected(url) as (nc, _):
        return await control.health(nc, timeout_s)


def _checks(report: dict[str, Any]) -> Text:
    if "error" in report and "checks" not in report:
        return Text(str(report["error"]), style="red")
    lines = Text()
    for check in report.get("checks", []):
        if lines:
            lines.append("\n")
        mark, style = ("ok", "green") if check.get("ok") else ("not ok", "red")
        lines.append(f"{check.get('name')}: {mark}", style=style)
        if check.get("detail"):
            lines.append(f" — {check['detail']}")
    return lines


def render(health: control.HealthReport, console: Console) -> None:
    verdict = "every service is ready" if health.healthy else "not ready: " + ", ".join(health.not_ready())
    table = Table(title=f"Stash2Plex health: {verdict}", title_justify="left")
    for column in ("service", "ready", "checks", "up for"):
        table.add_column(column, overflow="fold")
    for name, report in health.services.items():
        ready = Text("yes", style="bold green") if report.get("ready") else Text("no", style="bold red")
        uptime = report.get("uptime_s")
        table.add_row(name, ready, _checks(report), f"{uptime:.0f} s" if isinstance(uptime, int | float) else "-")
    console.print(table)
