"""Progress of a long run, phase by phase: what the engine says, not how it is shown.

The cluster engine names each phase as it starts (switches, cloning, customizing, waiting for
IPs, each barrier of scripts, checks) with the number of items it has, marks items done (or
failed) as they finish, and ends the phase. ``Phases`` itself records the counts and shows
nothing; output/progress.py shows them on a terminal or as lines in a log. Items finish on
worker threads, so every change holds the lock.
"""
from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field


@dataclass
class PhaseState:
    name: str
    total: int
    done: int = 0
    failed: int = 0
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    tasks: str = ""          # its tasks' states: "8 running, 12 queued in vCenter, 236 waiting"

    @property
    def elapsed(self) -> float:
        return (self.ended if self.ended is not None else time.monotonic()) - self.started


class Phase:
    """The handle of a running phase: ``done(item)`` as each item finishes."""

    def __init__(self, owner: "Phases", state: PhaseState):
        self._owner, self.state = owner, state

    def done(self, item=None, failed: bool | None = None) -> None:
        """One item finished; ``failed`` defaults to ``item.failed``."""
        if failed is None:
            failed = bool(getattr(item, "failed", False))
        self._owner.advance(self.state, item, failed)

    __call__ = done       # a phase can stand where an ``on_event(item)`` callback is expected

    def states(self, counts) -> None:
        """How many of the phase's tasks run, wait in vCenter's queue, or wait for room or for their
        source (an ops.runner.TaskStates), as they change."""
        parts = [f"{n} {what}" for what, n in (("running", counts.running), ("queued in vCenter", counts.queued),
                                                ("waiting", counts.waiting)) if n]
        self._owner.restate(self.state, ", ".join(parts))

    @property
    def live(self) -> bool:
        """Whether the display shows task states the moment they change (worth a wake-up at each start)."""
        return self._owner.live


class Phases:
    """Counts per phase; subclasses show them (the hooks are called with the lock held)."""

    live = False     # a display that shows changes as they come (a terminal's bars), not now and then

    def __init__(self):
        self.lock = threading.RLock()
        self.phases: list[PhaseState] = []

    @contextlib.contextmanager
    def phase(self, name: str, total: int):
        """A phase of ``total`` items, ended when the block ends (also on errors)."""
        state = PhaseState(name, total)
        with self.lock:
            self.phases.append(state)
            self.started(state)
        try:
            yield Phase(self, state)
        finally:
            with self.lock:
                state.ended = time.monotonic()
                self.ended(state)

    def advance(self, state: PhaseState, item, failed: bool) -> None:
        with self.lock:
            state.done += 1
            state.failed += bool(failed)
            self.advanced(state, item, failed)

    def restate(self, state: PhaseState, tasks: str) -> None:
        with self.lock:
            if tasks != state.tasks:
                state.tasks = tasks
                self.restated(state)

    @property
    def running(self) -> list[PhaseState]:
        with self.lock:
            return [p for p in self.phases if p.ended is None]

    # Hooks for the display.
    def started(self, state: PhaseState) -> None:
        pass

    def restated(self, state: PhaseState) -> None:
        pass

    def advanced(self, state: PhaseState, item, failed: bool) -> None:
        pass

    def ended(self, state: PhaseState) -> None:
        pass

    def close(self) -> None:
        pass


class Callback(Phases):
    """Phases that pass each finished item to an ``on_event(item)`` callback (the older interface)."""

    def __init__(self, on_event):
        super().__init__()
        self._on_event = on_event

    def advanced(self, state: PhaseState, item, failed: bool) -> None:
        if item is not None and self._on_event is not None:
            self._on_event(item)


def as_phases(progress) -> Phases:
    """A Phases from what a caller passed: Phases as is, a callable wrapped, None silent."""
    if isinstance(progress, Phases):
        return progress
    return Callback(progress) if progress is not None else Phases()


def duration(seconds: float) -> str:
    """``3m10s``, ``45s``, ``1h02m``: elapsed time in a line of a log."""
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
