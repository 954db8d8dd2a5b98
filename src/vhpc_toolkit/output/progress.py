"""Progress on stderr: live bars on a terminal, plain lines in a log (CI, ``| tee``).

``progress`` is the one-bar display of per-VM commands. ``phases`` shows a cluster run phase by
phase (vhpc_toolkit/phases.py): on a terminal each running phase has a bar with its counts,
failures, a running clock and its tasks' states (running, queued in vCenter, waiting), and each
phase that ends leaves one line; off a terminal each phase writes a line when it starts and when
it ends, failures as they happen, and a heartbeat line every ``HEARTBEAT_SECONDS`` per running phase
(``cloning 240/1024, 0 failed, 3m10s (8 running, 12 queued in vCenter, 220 waiting)``).
"""
from __future__ import annotations

import contextlib
import threading

from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from vhpc_toolkit.phases import Phases, PhaseState, duration

HEARTBEAT_SECONDS = 30.0   # off a terminal: a line per running phase this often (tests make it short)


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


def _counts(state: PhaseState) -> str:
    tasks = f" ({state.tasks})" if state.tasks and state.ended is None else ""
    return f"{state.done}/{state.total}, {state.failed} failed, {duration(state.elapsed)}{tasks}"


def _failure(item) -> str | None:
    name, detail = getattr(item, "name", None), getattr(item, "detail", "")
    return f"{name}: {detail}" if name else None


class LinePhases(Phases):
    """Off a terminal: a line per phase start and end, failures, and a heartbeat per running phase."""

    def __init__(self, console, heartbeat: float | None = None):
        super().__init__()
        self.console = console
        self.interval = HEARTBEAT_SECONDS if heartbeat is None else heartbeat
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="vhpc-heartbeat", daemon=True)
        self._thread.start()

    def _line(self, text: str) -> None:
        self.console.print(escape(text), highlight=False, soft_wrap=True)

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            with self.lock:
                for state in self.running:
                    self._line(f"{state.name} {_counts(state)}")

    def started(self, state: PhaseState) -> None:
        self._line(f"{state.name}: started ({state.total})")

    def advanced(self, state: PhaseState, item, failed: bool) -> None:
        if failed and _failure(item):
            self._line(f"{state.name}: failed: {_failure(item)}")

    def ended(self, state: PhaseState) -> None:
        self._line(f"{state.name}: ended {_counts(state)}")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


class BarPhases(Phases):
    """On a terminal: a live bar per running phase with its counts, clock and tasks' states (running,
    queued in vCenter, waiting); a line when one ends."""

    live = True

    def __init__(self, console):
        super().__init__()
        self.bars = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                             TextColumn("{task.fields[failed]}"), TimeElapsedColumn(), TextColumn("{task.fields[tasks]}"),
                             console=console, transient=True)
        self.bars.start()
        self._tasks: dict[int, int] = {}

    def started(self, state: PhaseState) -> None:
        self._tasks[id(state)] = self.bars.add_task(escape(state.name), total=state.total or None, failed="",
                                                    tasks="")

    def restated(self, state: PhaseState) -> None:
        if id(state) in self._tasks:
            self.bars.update(self._tasks[id(state)], tasks=escape(state.tasks))

    def advanced(self, state: PhaseState, item, failed: bool) -> None:
        if failed and _failure(item):
            self.bars.console.print(f"[red]failed:[/] {escape(_failure(item))}", highlight=False)
        self.bars.update(self._tasks[id(state)], completed=state.done,
                         failed=f"[red]{state.failed} failed[/]" if state.failed else "")

    def ended(self, state: PhaseState) -> None:
        self.bars.remove_task(self._tasks.pop(id(state)))
        mark = "[red]✗[/]" if state.failed else "[green]✓[/]"
        self.bars.console.print(f"{mark} {escape(state.name)} {_counts(state)}", highlight=False)

    def close(self) -> None:
        self.bars.stop()


@contextlib.contextmanager
def phases(ctx, heartbeat: float | None = None):
    """The phases of a long run shown on stderr (bars on a terminal, lines elsewhere), in either
    output format: JSON on stdout stays one document."""
    shown = BarPhases(ctx.err) if ctx.err.is_terminal else LinePhases(ctx.err, heartbeat)
    try:
        yield shown
    finally:
        shown.close()
