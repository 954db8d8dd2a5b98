"""Waiting for many vSphere tasks at once through the PropertyCollector.

A collector of our own (destroyed afterwards) watches ``info.state`` and
``info.error`` of every task; WaitForUpdatesEx blocks server-side until
something changes, so there is no polling loop and no call per task.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from vhpc_toolkit.errors import TaskFailed


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


def wait_for_tasks(session, tasks: Iterable[Any], timeout: float = 600.0,
                   on_done: Callable[[TaskOutcome], None] | None = None) -> dict[str, TaskOutcome]:
    """Wait until every task ends; returns outcomes keyed by task moid.

    Never raises for a failed task (the caller decides); raises TaskFailed on timeout.
    """
    from pyVmomi import vmodl

    tasks = list(tasks)
    pending = {t._moId: t for t in tasks}
    outcomes: dict[str, TaskOutcome] = {}
    if not pending:
        return outcomes
    pc_type = vmodl.query.PropertyCollector
    collector = session.content.propertyCollector.CreatePropertyCollector()
    try:
        spec = pc_type.FilterSpec(
            objectSet=[pc_type.ObjectSpec(obj=t) for t in tasks],
            propSet=[pc_type.PropertySpec(type=type(tasks[0]), pathSet=["info.state", "info.error", "info.result"])],
        )
        collector.CreateFilter(spec, partialUpdates=False)
        deadline = time.monotonic() + timeout
        version = ""
        states: dict[str, dict[str, Any]] = {}
        while pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                names = ", ".join(sorted(pending))
                raise TaskFailed(f"timed out after {timeout:.0f}s waiting for task(s) {names}")
            update = collector.WaitForUpdatesEx(
                version, pc_type.WaitOptions(maxWaitSeconds=max(1, min(60, int(remaining)))))
            if update is None:
                continue
            version = update.version
            for fs in update.filterSet or []:
                for oc in fs.objectSet or []:
                    vals = states.setdefault(oc.obj._moId, {})
                    for change in oc.changeSet or []:
                        vals[change.name] = change.val
                    state = vals.get("info.state")
                    moid = oc.obj._moId
                    if moid in pending and state in ("success", "error"):
                        outcome = TaskOutcome(
                            task=pending.pop(moid), state=state, result=vals.get("info.result"),
                            error=fault_message(vals.get("info.error")) if state == "error" else None)
                        outcomes[moid] = outcome
                        if on_done:
                            on_done(outcome)
        return outcomes
    finally:
        collector.DestroyPropertyCollector()


def wait_for_task(session, task, timeout: float = 600.0, what: str = "task"):
    """Wait for one task; a failure raises TaskFailed with the fault's message."""
    outcome = wait_for_tasks(session, [task], timeout)[task._moId]
    if not outcome.ok:
        raise TaskFailed(f"{what} failed: {outcome.error}")
    return outcome.result
