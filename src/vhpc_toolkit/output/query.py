"""Render a QueryReport: per VM, a table of what its host offers (or the reason there is none)."""
from __future__ import annotations

from rich.markup import escape
from rich.table import Table


def render_query(report, ctx) -> None:
    for r in report.results:
        table = Table(title=f"{r.name} on {r.data.get('host') or '?'}", title_justify="left")
        for title, _ in report.columns:
            table.add_column(title)
        rows = r.data.get(report.rows_key) or []
        for row in rows:
            table.add_row(*(escape("" if row.get(key) is None else str(row.get(key))) for _, key in report.columns))
        ctx.out.print(table)
        if not rows:
            ctx.out.print(escape(r.detail), highlight=False)
