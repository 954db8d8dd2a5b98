"""Start one task per VM with bounded concurrency and wait for them together.

Submitting is a SOAP call per job, done by a small thread pool so one slow
call does not hold the rest; waiting is one private PropertyCollector for all
tasks. Limits: ``total`` tasks in flight, and ``per_key`` per key (a host:
vSphere queues more than about 8 provisioning operations per host). As tasks
end, the next jobs start, so the pipeline stays full.

Each task has its own time limit (the session's ``task_timeout``, 3,600 s by
default: a full clone of a large disk on real storage takes many minutes), counted
from its submission, not a budget for the whole batch. A task past its limit is
asked to cancel and reported failed; the others go on. Every job ends with a
status: a job still queued when the run stops (Ctrl-C, a lost session) is
reported as "not started", never left as it was.
"""
from __future__ import annotations

import time
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable

from vhpc_toolkit.errors import ConnectionLost
from vhpc_toolkit.results import CHANGED, FAILED, NOT_STARTED, TargetResult
from vhpc_toolkit.vsphere.faults import error_message
from vhpc_toolkit.vsphere.tasks import TaskWatcher, task_timeout_of
from vhpc_toolkit.words import count

DEFAULT_CONCURRENCY = 32
SUBMIT_THREADS = 8
# After Ctrl-C: how long the tasks in flight (asked to cancel, or not cancellable: power, reconfigure,
# destroy) are given to end, so that the report says what vCenter holds. A second Ctrl-C stops waiting.
INTERRUPT_GRACE = 30.0


@dataclass(eq=False)
class Job:
    """One VM's task: ``start()`` makes the SOAP call that returns a vim.Task."""

    result: TargetResult
    start: Callable[[], Any]
    key: str = ""                                        # concurrency group (the host)
    on_success: Callable[[Any], None] | None = None      # gets the task's info.result


class Interrupted(Exception):
    """Ctrl-C during a run: in-flight tasks were asked to cancel, queued jobs were not started."""

    def __init__(self, cancelled: list[TargetResult], not_started: list[TargetResult] | None = None):
        self.cancelled = cancelled
        self.not_started = list(not_started or [])
        super().__init__(f"interrupted; cancel requested for {count(len(cancelled), 'task')} in flight, "
                         f"{len(self.not_started)} not started")


def _not_started(queue, why: str) -> list[TargetResult]:
    out = []
    for job in queue:
        job.result.status, job.result.detail = NOT_STARTED, f"not started: {why}"
        out.append(job.result)
    queue.clear()
    return out


class _Waiting:
    """Jobs not started yet, by key in their order; a wave takes them round-robin over the keys
    within the limits, in time proportional to the wave and the keys (not to the whole queue)."""

    def __init__(self, jobs: list[Job]):
        self._by_key: dict[str, deque[Job]] = {}
        for job in jobs:
            self._by_key.setdefault(job.key, deque()).append(job)

    def __bool__(self) -> bool:
        return bool(self._by_key)

    def __iter__(self):
        return (job for queue in self._by_key.values() for job in queue)

    def clear(self) -> None:
        self._by_key.clear()

    def take(self, free: int, per: Counter, per_key: int | None) -> list[Job]:
        wave: list[Job] = []
        took = True
        while free > 0 and took:
            took = False
            for key in list(self._by_key):
                if free == 0:
                    break
                if per_key and per[key] >= per_key:
                    continue
                queue = self._by_key[key]
                wave.append(queue.popleft())
                per[key] += 1
                free -= 1
                took = True
                if not queue:
                    del self._by_key[key]
        return wave


def _cancel(task) -> bool:
    try:
        task.CancelTask()
        return True
    except Exception:  # not cancellable (any more); it may still complete in vCenter
        return False


def run_jobs(session, jobs: list[Job], concurrency: int = DEFAULT_CONCURRENCY, per_key: int | None = None,
             task_timeout: float | None = None, on_event: Callable[[TargetResult], None] | None = None) -> None:
    """Run every job; each job's ``result`` ends CHANGED or FAILED (with the vSphere fault).

    ``task_timeout``: seconds each task may take (default: the session's). Raises
    Interrupted on Ctrl-C, with every job's result set.
    """
    if not jobs:
        return
    run = _Run(session, jobs, task_timeout if task_timeout is not None else task_timeout_of(session), on_event)
    try:
        with ThreadPoolExecutor(max_workers=SUBMIT_THREADS) as pool:
            while run.queue or run.inflight:
                run.start(pool, run.queue.take(concurrency - len(run.inflight), run.per, per_key))
                if run.inflight:
                    run.wait()
    except KeyboardInterrupt:
        _on_ctrl_c(jobs, run.queue, run.inflight, run.tasks, run.submitted, run.ended, run.watcher, run.finish)
    except Exception as exc:  # the session or the collector failed: say what became of every job
        for job in run.inflight.values():
            job.result.status, job.result.detail = FAILED, f"outcome unknown: {error_message(exc)}"
        _not_started(run.queue, f"the run stopped: {error_message(exc)}")
        raise
    finally:
        run.watcher.close()


class _Run:
    """One run_jobs: the jobs waiting, the tasks in flight with their deadlines, the one watcher."""

    def __init__(self, session, jobs: list[Job], limit: float, on_event):
        self.limit, self.on_event = limit, on_event
        self.queue = _Waiting(jobs)
        self.inflight: dict[str, Job] = {}
        self.tasks: dict[str, Any] = {}
        self.deadlines: dict[str, float] = {}
        self.per: Counter = Counter()
        self.watcher = TaskWatcher(session)
        self.ended: set[int] = set()   # jobs whose outcome is known
        self.submitted: dict[int, tuple[Job, Any]] = {}   # every task started (a Ctrl-C may come before it is in flight)

    def finish(self, job: Job, ok: bool, detail: str | None = None, value: Any = None) -> None:
        self.ended.add(id(job))
        if ok:
            job.result.status = CHANGED
            if job.on_success:
                job.on_success(value)
        else:
            job.result.status, job.result.detail = FAILED, detail or "task failed"
        if self.on_event:
            self.on_event(job.result)

    def submit(self, job: Job):
        try:
            task = job.start()
            self.submitted[id(job)] = (job, task)
            return job, task, None
        except Exception as exc:  # a fault raised by the call itself (e.g. InvalidState)
            if isinstance(exc, ConnectionLost):   # vCenter may have started it: callers look again
                job.result.data["uncertain"] = True
            return job, None, error_message(exc)

    def start(self, pool, wave: list[Job]) -> None:
        """Start a wave of jobs (their calls in parallel) and watch the tasks they started."""
        started = []
        for job, task, error in pool.map(self.submit, wave):
            if task is None:
                self.per[job.key] -= 1
                self.finish(job, False, error)
            else:
                self.inflight[task._moId] = job
                self.tasks[task._moId] = task
                self.deadlines[task._moId] = time.monotonic() + self.limit
                started.append(task)
        self.watcher.add(started)

    def _done(self, moid: str) -> Job:
        job = self.inflight.pop(moid)
        del self.deadlines[moid]
        self.per[job.key] -= 1
        return job

    def wait(self) -> None:
        """Give up on the tasks past their deadline, then wait for some task to end (or the next deadline)."""
        now = time.monotonic()
        for moid in [m for m, t in self.deadlines.items() if t <= now]:
            job = self._done(moid)
            self.watcher.forget([moid])
            cancelled = _cancel(self.tasks[moid])
            self.finish(job, False, f"timed out after {self.limit:.0f}s (--task-timeout); " +
                        ("cancel requested" if cancelled else "the task could not be cancelled and may still complete"))
        if not self.inflight:
            return
        for outcome in self.watcher.wait(min(self.deadlines.values()) - now):
            self.finish(self._done(outcome.task._moId), outcome.ok, outcome.error, outcome.result)


def _on_ctrl_c(jobs: list[Job], queue: _Waiting, inflight: dict[str, Job], tasks: dict[str, Any],
               submitted: dict[int, tuple[Job, Any]], ended: set[int], watcher: TaskWatcher, finish) -> None:
    """Ctrl-C: queued jobs are not started; the tasks in flight (also those started while the Ctrl-C
    came) are asked to cancel and given their time to end; raises Interrupted with every job's result."""
    not_started = _not_started(queue, "the run was interrupted")
    late = [(job, task) for job, task in submitted.values() if task._moId not in tasks]
    for job, task in late:   # started while the Ctrl-C came: in flight as much as the others
        inflight[task._moId], tasks[task._moId] = job, task
    try:
        watcher.add([task for _, task in late])
    except Exception:   # vCenter gone: the callers read back what they can
        pass
    waiting = {id(j) for j in inflight.values()} | {id(r) for r in not_started}
    for job in jobs:   # taken for a wave whose call raised before a task started
        if id(job) not in ended and id(job) not in waiting and id(job.result) not in waiting:
            job.result.status, job.result.detail = NOT_STARTED, "not started: the run was interrupted"
            not_started.append(job.result)
    for moid, job in inflight.items():
        cancelled = _cancel(tasks[moid])
        job.result.status = FAILED
        job.result.detail = "interrupted (cancel requested)" if cancelled else "interrupted"
    _settle(watcher, inflight, finish)
    raise Interrupted([job.result for job in jobs if job.result.status == FAILED and
                       job.result.detail.startswith("interrupted")], not_started) from None


def _settle(watcher: TaskWatcher, inflight: dict[str, Job], finish, grace: float = INTERRUPT_GRACE) -> None:
    """After Ctrl-C: wait (at most ``grace`` seconds) for the tasks in flight to end, and record how
    each ended, so that no report calls a VM still there that is gone a moment later."""
    deadline = time.monotonic() + grace
    try:
        while inflight and deadline > time.monotonic():
            for outcome in watcher.wait(deadline - time.monotonic()):
                job = inflight.pop(outcome.task._moId, None)
                if job is None:
                    continue
                if outcome.ok:      # it ended before the cancel took (or could not be cancelled)
                    finish(job, True, value=outcome.result)
                else:
                    error = outcome.error or "task failed"
                    job.result.detail += ": " + ("cancelled" if "cancel" in error.lower() else error)
    except KeyboardInterrupt:   # a second Ctrl-C: report what is known now
        pass
    except Exception:           # vCenter gone meanwhile: the callers read back what they can
        pass
    for job in inflight.values():
        job.result.detail += "; its task was still running (it may yet complete)"


def run_batch(session, jobs: list[Job], **kwargs) -> bool:
    """``run_jobs`` for per-VM commands: a Ctrl-C is returned (True), every job's result set,
    so the command can still report each VM."""
    try:
        run_jobs(session, jobs, **kwargs)
    except Interrupted:
        return True
    return False


def run_calls(work: list[tuple[TargetResult, Callable[[], None]]], concurrency: int = 8) -> None:
    """Run synchronous vSphere calls (host settings, switch edits) a few at a time; each result ends
    CHANGED, or FAILED with the fault."""
    def one(item):
        result, call = item
        try:
            call()
            result.status = CHANGED
        except Exception as exc:  # a vSphere fault of a synchronous call
            result.status, result.detail = FAILED, f"{result.detail}: failed: {error_message(exc)}"

    if work:
        with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(work)))) as pool:
            list(pool.map(one, work))
