"""Waiting for many vSphere tasks at once through the PropertyCollector.

A collector of our own (destroyed afterwards) watches ``info.state``,
``info.error`` and ``info.result`` of every task; WaitForUpdatesEx blocks
server-side until something changes, so there is no polling loop and no call
per task. Tasks can be added while others are running (one ModifyListView per
batch, which also drops the tasks that ended), which is how bounded schedulers
keep the pipeline full.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from vhpc_toolkit.errors import TaskFailed

TASK_PROPS = ["info.state", "info.error", "info.result"]


@dataclass
class TaskOutcome:
    task: Any
    state: str              # success | error
    result: Any = None
    error: str | None = None  # the vSphere fault's message

    @property
    def ok(self) -> bool:
        return self.state == "success"


def fault_message(fault) -> str:
    """The most useful text vSphere gives for a fault."""
    if fault is None:
        return "unknown error"
    msg = getattr(fault, "msg", None) or getattr(fault, "localizedMessage", None)
    if not msg and getattr(fault, "faultMessage", None):
        msg = "; ".join(m.message for m in fault.faultMessage if getattr(m, "message", None))
    msg = msg or type(fault).__name__.split(".")[-1]
    if getattr(fault, "invalidProperty", None):  # InvalidArgument says which field
        msg += f" ({fault.invalidProperty})"
    return msg


class TaskWatcher:
    """A private PropertyCollector following the tasks in flight.

    The tasks are the content of one ListView, which one filter traverses: a batch of new tasks
    and the tasks that ended since the last batch are one ModifyListView, so what the collector
    watches stays the tasks in flight (a filter per batch grew with every task ever watched).
    Calls: CreatePropertyCollector; CreateListView + CreateFilter at the first batch, then one
    ModifyListView per batch; WaitForUpdatesEx; DestroyPropertyCollector + DestroyView at close.
    """

    def __init__(self, session):
        from pyVmomi import vmodl

        self._pc = vmodl.query.PropertyCollector
        self._content = session.content
        self._collector = session.content.propertyCollector.CreatePropertyCollector()
        self._view = None
        self._version = ""
        self._values: dict[str, dict[str, Any]] = {}  # tasks in flight only
        self._ended: list[Any] = []                    # still in the view until the next batch
        self.pending: dict[str, Any] = {}

    def add(self, tasks: Iterable[Any]) -> None:
        tasks = [t for t in tasks if t._moId not in self.pending]
        if not tasks:
            return
        for t in tasks:
            self.pending[t._moId] = t
        if self._view is not None:
            self._view.ModifyListView(add=tasks, remove=self._ended)
            self._ended = []
            return
        from pyVmomi import vim

        self._view = self._content.viewManager.CreateListView(obj=tasks)
        traverse = self._pc.TraversalSpec(name="view", path="view", skip=False, type=vim.view.ListView)
        self._collector.CreateFilter(self._pc.FilterSpec(
            objectSet=[self._pc.ObjectSpec(obj=self._view, skip=True, selectSet=[traverse])],
            propSet=[self._pc.PropertySpec(type=vim.Task, pathSet=TASK_PROPS)]), partialUpdates=False)

    def wait(self, max_wait: float) -> list[TaskOutcome]:
        """Block until some task ends (or ``max_wait`` seconds pass); return those that ended."""
        done: list[TaskOutcome] = []
        deadline = time.monotonic() + max_wait
        while self.pending and not done:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            update = self._collector.WaitForUpdatesEx(
                self._version, self._pc.WaitOptions(maxWaitSeconds=max(1, min(60, int(remaining + 0.999)))))
            if update is None:
                continue
            self._version = update.version
            for fs in update.filterSet or []:
                for oc in fs.objectSet or []:
                    moid = oc.obj._moId
                    if moid not in self.pending:  # ended already, or leaving the view
                        continue
                    vals = self._values.setdefault(moid, {})
                    for change in oc.changeSet or []:
                        vals[change.name] = change.val
                    state = vals.get("info.state")
                    if state in ("success", "error"):
                        self._values.pop(moid)
                        self._ended.append(oc.obj)
                        done.append(TaskOutcome(
                            task=self.pending.pop(moid), state=state, result=vals.get("info.result"),
                            error=fault_message(vals.get("info.error")) if state == "error" else None))
        return done

    def close(self) -> None:
        # The session may be gone (Ctrl-C); the server reaps both with the session.
        for destroy in (self._collector.DestroyPropertyCollector, self._view and self._view.DestroyView):
            try:
                if destroy:
                    destroy()
            except Exception:
                pass


def wait_for_tasks(session, tasks: Iterable[Any], timeout: float = 600.0,
                   on_done: Callable[[TaskOutcome], None] | None = None) -> dict[str, TaskOutcome]:
    """Wait until every task ends; returns outcomes keyed by task moid.

    Never raises for a failed task (the caller decides); raises TaskFailed on timeout.
    """
    tasks = list(tasks)
    outcomes: dict[str, TaskOutcome] = {}
    if not tasks:
        return outcomes
    watcher = TaskWatcher(session)
    try:
        watcher.add(tasks)
        deadline = time.monotonic() + timeout
        while watcher.pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                names = ", ".join(sorted(watcher.pending))
                raise TaskFailed(f"timed out after {timeout:.0f}s waiting for task(s) {names}")
            for outcome in watcher.wait(remaining):
                outcomes[outcome.task._moId] = outcome
                if on_done:
                    on_done(outcome)
        return outcomes
    finally:
        watcher.close()


def wait_for_task(session, task, timeout: float = 600.0, what: str = "task"):
    """Wait for one task; a failure raises TaskFailed with the fault's message."""
    outcome = wait_for_tasks(session, [task], timeout)[task._moId]
    if not outcome.ok:
        raise TaskFailed(f"{what} failed: {outcome.error}")
    return outcome.result
