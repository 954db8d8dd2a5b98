"""A progress display on a terminal (counts, failures as they happen); silent elsewhere."""
from __future__ import annotations

import contextlib

from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


@contextlib.contextmanager
def progress(ctx, description: str, total: int | None):
    """Yields ``event(item)`` to call as each target finishes; an item has ``name``, ``status``, ``detail``."""
    if not ctx.err.is_terminal or ctx.output == "json" or (total is not None and total <= 1):
        yield lambda item: None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.fields[failed]}"), console=ctx.err, transient=True) as bar:
        task = bar.add_task(description, total=total, failed="")
        failures = 0

        def event(item) -> None:
            nonlocal failures
            if item.failed:
                failures += 1
                bar.console.print(f"[red]failed:[/] {escape(item.name)}: {escape(item.detail)}")
            bar.update(task, advance=1, failed=f"[red]{failures} failed[/]" if failures else "")

        yield event
