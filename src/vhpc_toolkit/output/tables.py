"""Tables that read at 80 to 120 columns.

Columns empty in every row are dropped; host names lose the domain they all share
(said once above the table); a cell's words are never split: each column is at least
as wide as its longest word, and when even that does not fit the console, every row
is shown as a block of ``column: value`` lines instead.
"""
from __future__ import annotations

from rich.markup import escape
from rich.table import Table
from rich.text import Text

EMPTY = ("", "-")


def _plain(cell: str) -> str:
    return Text.from_markup(cell).plain


def common_domain(names: list[str]) -> str:
    """The dotted suffix every name shares (``.hpc.vmware.com``), or "" (also for a single name)."""
    names = [n for n in names if n and n != "-"]
    if len(set(names)) < 2:
        return ""
    parts = [n.split(".")[1:] for n in names]
    suffix: list[str] = []
    for labels in zip(*(reversed(p) for p in parts)):
        if len(set(labels)) != 1:
            break
        suffix.insert(0, labels[0])
    return "." + ".".join(suffix) if suffix else ""


def short(name: str | None, domain: str) -> str:
    if not name:
        return "-"
    return name[: -len(domain)] if domain and name.endswith(domain) else name


def domain_note(console, domain: str) -> None:
    """Say once which domain the shortened host names share."""
    if domain:
        console.print(f"[dim]host names end in {escape(domain)}[/]", highlight=False)


def render_table(console, title: str, headers: list[str], rows: list[list[str]],
                 key_column: int = 0, styles: dict[str, str] | None = None) -> None:
    """Print ``rows`` (cells in rich markup, already escaped) under ``headers``."""
    keep = [i for i, _ in enumerate(headers)
            if i == key_column or any(_plain(r[i]).strip() not in EMPTY for r in rows)]
    headers = [headers[i] for i in keep]
    rows = [[r[i] for i in keep] for r in rows]
    widths = []
    for c, header in enumerate(headers):
        words = [w for r in rows for line in _plain(r[c]).splitlines() for w in line.split()]
        widths.append(max([len(w) for w in words] + [len(header)]))
    if sum(widths) + 3 * len(widths) + 1 > console.width:
        _render_blocks(console, title, headers, rows)
        return
    table = Table(title=title, title_justify="left")
    for header, width in zip(headers, widths):
        table.add_column(header, min_width=width, overflow="fold", style=(styles or {}).get(header))
    for row in rows:
        table.add_row(*row)
    console.print(table)


def _render_blocks(console, title: str, headers: list[str], rows: list[list[str]]) -> None:
    """The narrow layout: per row, its first cell, then its other cells as `header: value` lines."""
    console.print(f"[bold]{escape(title)}[/]" if title else "")
    for row in rows:
        console.print(f"[bold]{row[0]}[/]", highlight=False)
        for header, cell in zip(headers[1:], row[1:]):
            if _plain(cell).strip() in EMPTY:
                continue
            lines = cell.splitlines() or [""]
            console.print(f"  {escape(header)}: {lines[0]}", highlight=False)
            for more in lines[1:]:
                console.print(f"    {more}", highlight=False)
