"""Render an OperationReport: a per-VM table and a summary line, or JSON."""
from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from vhpc_toolkit.output.jsonout import print_json

_STYLE = {"changed": "green", "unchanged": "dim", "failed": "bold red"}


def render_report(report, ctx) -> int:
    """Print the report in the context's format; return the exit code (1 if any VM failed)."""
    if ctx.output == "json":
        print_json(report.to_dict(), ctx.out)
    else:
        table = Table(title=report.operation, title_justify="left")
        table.add_column("VM", style="bold")
        table.add_column("status")
        table.add_column("detail", overflow="fold")
        for r in report.results:
            style = _STYLE.get(r.status, "")
            table.add_row(escape(r.vm), f"[{style}]{r.status}[/]", escape(r.detail))
        ctx.out.print(table)
        ctx.out.print(report.summary(), highlight=False)
    return 1 if report.failed else 0
