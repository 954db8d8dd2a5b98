"""Tables that never lose a character, at any width from 60 columns up.

Every table of the toolkit goes through :func:`render_table`, so each one gets the same
guarantee: columns empty in every row are dropped; host names lose the domain they all share
(said once above the table); a cell's words are never split. The column widths are computed
here, not left to rich (whose own layout crops a table's right edge when the widest columns
cannot shrink enough): each column is at least as wide as its longest word, and the room left
goes to the columns whose text would wrap. When even the longest words do not fit side by side,
every row is shown as a block of ``column  value`` lines instead. A table without rows is not
drawn; its title goes above it as a line of its own, wrapped at spaces like any text.
"""
from __future__ import annotations

from rich.cells import cell_len
from rich.markup import escape
from rich.table import Table
from rich.text import Text

EMPTY = ("", "-")
_EDGES = 1   # the left border; each column adds its padding (2) and its right border (1)


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


def _measure(texts: list[str]) -> tuple[int, int]:
    """(longest word, longest line) of a column's texts, in terminal cells."""
    word = line = 0
    for text in texts:
        for part in text.splitlines():
            line = max(line, cell_len(part))
            word = max([word] + [cell_len(w) for w in part.split()])
    return word, max(line, word)


def column_widths(headers: list[str], plain_rows: list[list[str]], width: int) -> list[int] | None:
    """Each column's width so that the table fits ``width`` with no word split, or None when even
    the longest words side by side do not fit. Room beyond the longest words goes to the columns
    whose text would wrap, in proportion to what they lack."""
    measures = [_measure([h] + [r[c] for r in plain_rows]) for c, h in enumerate(headers)]
    room = width - _EDGES - 3 * len(headers)
    least = [m[0] for m in measures]
    if sum(least) > room:
        return None
    most = [m[1] for m in measures]
    if sum(most) <= room:
        return most
    # Max-min fair shares of the room left: columns that need little get all they need (their
    # text stays on one line), the others share the rest equally.
    spare, widths = room - sum(least), list(least)
    waiting = sorted(range(len(widths)), key=lambda c: most[c] - least[c])
    while waiting and spare > 0:
        fair = max(spare // len(waiting), 1)
        c = waiting.pop(0)
        give = min(most[c] - least[c], fair, spare)
        widths[c] += give
        spare -= give
    return widths


def render_table(console, title: str, headers: list[str], rows: list[list[str]],
                 key_column: int = 0, styles: dict[str, str] | None = None, drop_empty: bool = True) -> None:
    """Print ``rows`` (cells in rich markup, already escaped) under ``headers``; nothing without rows.
    Columns empty in every row are left out unless ``drop_empty`` is false."""
    if not rows:
        return
    plain = [[_plain(cell) for cell in row] for row in rows]
    keep = [i for i, _ in enumerate(headers)
            if i == key_column or not drop_empty or any(r[i].strip() not in EMPTY for r in plain)]
    headers = [headers[i] for i in keep]
    rows = [[r[i] for i in keep] for r in rows]
    plain = [[r[i] for i in keep] for r in plain]
    if title:
        console.print(Text(title, style="table.title"))
    widths = column_widths(headers, plain, console.width)
    if widths is None:
        _render_blocks(console, headers, rows, plain)
        return
    table = Table(show_edge=True, expand=False)
    for header, width in zip(headers, widths):
        table.add_column(header, width=width, overflow="fold", style=(styles or {}).get(header))
    for row in rows:
        table.add_row(*row)
    console.print(table)


def _render_blocks(console, headers: list[str], rows: list[list[str]], plain: list[list[str]]) -> None:
    """The narrow layout: per row, its first cell, then its other cells under it, one per line,
    each after its column's name; a value wraps under itself."""
    label = max(cell_len(h) for h in headers[1:]) if len(headers) > 1 else 0
    values = min(max(console.width - label - 3, 1), max(_measure([c for r in plain for c in r[1:]] or [""])[1], 1))
    for row, text in zip(rows, plain):
        console.print(f"[dim]{escape(headers[0])}[/] [bold]{row[0]}[/]", highlight=False)
        grid = Table.grid(padding=(0, 1))
        grid.add_column(width=label + 2, no_wrap=True)   # "  header"
        grid.add_column(width=values, overflow="fold")
        for header, cell, words in zip(headers[1:], row[1:], text[1:]):
            if words.strip() not in EMPTY:
                grid.add_row(Text("  " + header, style="dim"), cell)
        if grid.row_count:
            console.print(grid)
