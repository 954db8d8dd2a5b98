"""Waiting for many vSphere tasks at once through the PropertyCollector (vsphere/watch.py).

``info.state``, ``info.error`` and ``info.result`` of every task are watched;
WaitForUpdatesEx blocks server-side until something changes, so there is no
polling loop and no call per task. Tasks can be added while others are running
(one CreateFilter per batch), which is how bounded schedulers keep the pipeline full.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from vhpc_toolkit import audit
from vhpc_toolkit.errors import TaskFailed
from vhpc_toolkit.vsphere.faults import fault_message

TASK_PROPS = ["info.state", "info.error", "info.result", "info.startTime", "info.completeTime"]
DEFAULT_TASK_TIMEOUT = 3600.0   # seconds one task may take (a full clone of a large disk takes minutes)


def task_timeout_of(session) -> float:
    """The session's per-task time limit (``--task-timeout``), else the default."""
    return getattr(session, "task_timeout", None) or DEFAULT_TASK_TIMEOUT


@dataclass
class TaskOutcome:
    task: Any
    state: str              # success | error
    result: Any = None
    error: str | None = None  # the vSphere fault's message
    seconds: float | None = None   # how long it ran (vCenter's startTime to completeTime), when both are known
    started: Any = None            # vCenter's startTime (a datetime), when it ran

    @property
    def ok(self) -> bool:
        return self.state == "success"


class TaskWatcher:
    """The tasks in flight, followed through one Watch over one ListView.

    A batch of new tasks and the tasks that ended since the last batch are one ModifyListView, so
    what the collector watches stays the tasks in flight (a filter per batch grew with every task
    ever watched, and a collector's work grows with what it watches).
    Calls: CreatePropertyCollector; CreateListView + CreateFilter at the first batch, then one
    ModifyListView per batch; WaitForUpdatesEx; the collector and the view go with the logout.
    """

    def __init__(self, session):
        from vhpc_toolkit.vsphere.watch import Watch

        self._session = session
        self._watch = Watch(session)
        self._audit = audit.of(session)
        self._view = None
        self._ended: list[Any] = []     # still in the view until the next batch
        self.pending: dict[str, Any] = {}
        # vCenter queues what its admission limits do not let run yet (TaskInfo.state "queued"):
        # the moment each pending task was first seen running, and the last state seen of each.
        self.started: dict[str, float] = {}
        self.start_times: dict[str, Any] = {}   # vCenter's startTime of the pending tasks that run
        self.states: dict[str, str] = {}
        self.starts = 0                  # tasks seen leaving the queue so far

    def add(self, tasks: Iterable[Any]) -> None:
        from pyVmomi import vim

        tasks = [t for t in tasks if t._moId not in self.pending]
        if not tasks:
            return
        for t in tasks:
            self.pending[t._moId] = t
        if self._view is None:
            self._view = self._watch.listed(tasks, TASK_PROPS, kind=vim.Task)
        else:
            self._view.modify(add=tasks, remove=self._ended)
        self._ended = []

    def afresh(self) -> None:
        """Follow the pending tasks through a new collector. After Ctrl-C in the middle of a wait, the
        collector may still be answering that lost wait (its changes then never come again): the
        tasks still in flight are watched anew, from what vCenter holds now."""
        from vhpc_toolkit.vsphere.watch import Watch

        pending = list(self.pending.values())
        self._watch.close()
        self._watch, self._view, self._ended, self.pending = Watch(self._session), None, [], {}
        self.add(pending)

    def wait(self, max_wait: float, until_started: bool = False) -> list[TaskOutcome]:
        """Block until some task ends (or ``max_wait`` seconds pass; with ``until_started``, also
        until some task leaves vCenter's queue); return those that ended."""
        done: list[TaskOutcome] = []
        deadline = time.monotonic() + max_wait
        began = self.starts
        while self.pending and not done and not (until_started and self.starts > began):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            for moid in self._watch.wait(remaining):
                if moid not in self.pending:   # ended already, or leaving the view
                    continue
                vals = self._watch.values[moid]
                state = self.states[moid] = vals.get("info.state")
                if state == "running" and moid not in self.started:
                    self.started[moid] = time.monotonic()
                    self.starts += 1
                if vals.get("info.startTime") is not None:
                    self.start_times[moid] = vals["info.startTime"]
                if state in ("success", "error"):
                    done.append(self._ended_now(moid, state))
                    if self._audit is not None:
                        self._audit.task_ended(moid, state, done[-1].error, done[-1].result)
        return done

    def _ended_now(self, moid: str, state: str) -> TaskOutcome:
        vals = self._watch.values.pop(moid)
        task = self.pending.pop(moid)
        self.started.pop(moid, None)
        self.start_times.pop(moid, None)
        self.states.pop(moid, None)
        self._ended.append(task)
        begin, end = vals.get("info.startTime"), vals.get("info.completeTime")
        return TaskOutcome(task=task, state=state, result=vals.get("info.result"),
                           error=fault_message(vals.get("info.error")) if state == "error" else None,
                           seconds=(end - begin).total_seconds() if begin is not None and end is not None else None,
                           started=begin)

    def forget(self, moids) -> None:
        """Stop waiting for these tasks (given up on); they leave the view with the next batch."""
        for moid in moids:
            task = self.pending.pop(moid, None)
            self.started.pop(moid, None)
            self.start_times.pop(moid, None)
            self.states.pop(moid, None)
            if task is not None:
                self._ended.append(task)

    def close(self) -> None:
        self._watch.close()


def wait_for_tasks(session, tasks: Iterable[Any], timeout: float | None = None,
                   on_done: Callable[[TaskOutcome], None] | None = None) -> dict[str, TaskOutcome]:
    """Wait until every task ends; returns outcomes keyed by task moid.

    Never raises for a failed task (the caller decides); raises TaskFailed on timeout
    (default: the session's per-task limit).
    """
    timeout = timeout if timeout is not None else task_timeout_of(session)
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


def wait_for_task(session, task, timeout: float | None = None, what: str = "task"):
    """Wait for one task; a failure raises TaskFailed with the fault's message."""
    outcome = wait_for_tasks(session, [task], timeout)[task._moId]
    if not outcome.ok:
        raise TaskFailed(f"{what} failed: {outcome.error}")
    return outcome.result
