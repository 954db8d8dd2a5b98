"""A progress display on a terminal (counts, failures as they happen); silent elsewhere."""
from __future__ import annotations

import contextlib

from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


@contextlib.contextmanager
def progress(ctx, description: str, total: int | None):
    """Yields ``event(item)`` to call as each target finishes; an item has ``name``, ``status``, ``detail``.
    On a terminal ``event.states(counts)`` shows how many tasks run, wait in vCenter's queue and wait
    for room (an ops.runner.TaskStates)."""
    if not ctx.err.is_terminal or ctx.output == "json" or (total is not None and total <= 1):
        yield lambda item: None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.fields[failed]}"), TextColumn("{task.fields[states]}"), console=ctx.err,
                  transient=True) as bar:
        task = bar.add_task(description, total=total, failed="", states="")
        failures = 0

        def event(item) -> None:
            nonlocal failures
            if item.failed:
                failures += 1
                bar.console.print(f"[red]failed:[/] {escape(item.name)}: {escape(item.detail)}")
            bar.update(task, advance=1, failed=f"[red]{failures} failed[/]" if failures else "")

        def states(counts) -> None:
            parts = [f"{n} {what}" for what, n in (("running", counts.running), ("queued in vCenter", counts.queued),
                                                    ("waiting", counts.waiting)) if n]
            bar.update(task, states=", ".join(parts))

        event.states = states
        yield event
