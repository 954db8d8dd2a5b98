"""A progress display on a terminal (per-phase counts, failures as they happen); silent elsewhere."""
from __future__ import annotations

import contextlib

from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


@contextlib.contextmanager
def progress(ctx, description: str, total: int | None):
    """Yields ``event(item)`` to call as each VM finishes; items have ``.status`` and a name."""
    if not ctx.err.is_terminal or ctx.output == "json" or (total is not None and total <= 1):
        def quiet(*_):
            return None
        yield quiet
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.fields[failed]}"), console=ctx.err, transient=True) as bar:
        task = bar.add_task(description, total=total, failed="")
        failures = 0

        def event(*args):
            nonlocal failures
            item = args[-1]
            status = getattr(item, "status", None) or (item.get("status") if isinstance(item, dict) else "")
            name = getattr(item, "name", None) or getattr(item, "vm", None) or \
                (item.get("name") if isinstance(item, dict) else "?")
            if status == "failed":
                failures += 1
                bar.console.print(f"[red]failed:[/] {escape(str(name))}: {escape(str(getattr(item, 'detail', '')))}")
            bar.update(task, advance=1, failed=f"[red]{failures} failed[/]" if failures else "")

        yield event
