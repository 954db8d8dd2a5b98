"""Render a QueryReport: per VM, a table of what its host offers (or the reason there is none)."""
from __future__ import annotations

from rich.markup import escape

from vhpc_toolkit.output.tables import render_table


def render_query(report, ctx) -> None:
    for r in report.results:
        rows = r.data.get(report.rows_key) or []
        render_table(ctx.out, f"{r.name} on {r.data.get('host') or '?'}", [title for title, _ in report.columns],
                     [[escape("-" if row.get(key) is None else str(row.get(key))) for _, key in report.columns]
                      for row in rows], drop_empty=False)
        if not rows:
            ctx.out.print(escape(f"{r.name}: {r.detail}"), highlight=False)
