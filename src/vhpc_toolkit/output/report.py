"""Render a Report: a table with a row per VM, host or switch, a summary line, any warnings."""
from __future__ import annotations

from rich.markup import escape

from vhpc_toolkit.output.tables import render_table
from vhpc_toolkit.results import HOST, SWITCH, VM

STYLE = {"changed": "green", "unchanged": "dim", "failed": "bold red", "destroyed": "green", "absent": "dim",
         "not started": "yellow"}
_COLUMN = {VM: "VM", HOST: "host", SWITCH: "switch"}


def render_report(report, ctx) -> None:
    rows = [[f"[bold]{escape(r.name)}[/]", f"[{STYLE.get(r.status, '')}]{r.status}[/]", escape(r.detail)]
            for r in report.results]
    render_table(ctx.out, report.operation, [_COLUMN.get(report.unit, report.unit), "status", "detail"], rows)
    ctx.out.print(report.summary(), highlight=False)
