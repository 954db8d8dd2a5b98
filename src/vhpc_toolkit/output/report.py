"""Render a Report: a table with a row per VM, host or switch, a summary line, any warnings."""
from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from vhpc_toolkit.results import HOST, SWITCH, VM

STYLE = {"changed": "green", "unchanged": "dim", "failed": "bold red", "destroyed": "green", "absent": "dim",
         "not started": "yellow"}
_COLUMN = {VM: "VM", HOST: "host", SWITCH: "switch"}


def report_table(report) -> Table:
    table = Table(title=report.operation, title_justify="left")
    table.add_column(_COLUMN.get(report.unit, report.unit), style="bold")
    table.add_column("status")
    table.add_column("detail", overflow="fold")
    for r in report.results:
        table.add_row(escape(r.name), f"[{STYLE.get(r.status, '')}]{r.status}[/]", escape(r.detail))
    return table


def render_report(report, ctx) -> None:
    ctx.out.print(report_table(report))
    ctx.out.print(report.summary(), highlight=False)
