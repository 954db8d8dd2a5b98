"""Start one task per VM with bounded concurrency and wait for them together.

Submitting is a SOAP call per job, done by a small thread pool so one slow
call does not hold the rest; waiting is one private PropertyCollector for all
tasks. Limits: ``total`` tasks in flight, and ``per_key`` per key (a host:
vSphere queues more than about 8 provisioning operations per host). As tasks
end, the next jobs start, so the pipeline stays full.

With a ``budget`` (ops/admission.py: vCenter's admission model), a job that says what it
takes (``charges``: units per host) starts only when its hosts have the units, and a job that
needs another one's result first (``ready``: a clone from a copy still being made) waits for it:
the run keeps in flight what vCenter would run, instead of filling vCenter's queue.

Each task has its own time limit (the session's ``task_timeout``, 3,600 s by
default: a full clone of a large disk on real storage takes many minutes), counted
from its start, not a budget for the whole batch: a task vCenter still holds in its
queue (TaskInfo.state "queued") is not late. A task past its limit is asked to cancel
and reported failed; the others go on. Every job ends with a status: a job still
waiting when the run stops (Ctrl-C, a lost session) is reported as "not started",
never left as it was.
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
GATHER_MARGIN = 0.1     # seconds: how much later than expected a gathered task may end
MAX_QUEUED_WAIT = 60.0   # seconds one wait lasts while no task in flight has a deadline yet (all queued)


@dataclass(eq=False)
class Job:
    """One VM's task: ``start()`` makes the SOAP call that returns a vim.Task."""

    result: TargetResult
    start: Callable[[], Any]
    key: str = ""                                        # concurrency group (the host)
    on_success: Callable[[Any], None] | None = None      # gets the task's info.result
    charges: Callable[[], dict] | None = None            # units per host while it runs (with a budget)
    ready: Callable[[], bool] | None = None              # False while what it needs is not made yet
    seconds: float | None = None                         # how long its task ran, as vCenter reports it


@dataclass
class TaskStates:
    """How many of a run's jobs wait for room on our side, wait in vCenter's queue, and run: a
    progress display shows them (``on_states``)."""

    waiting: int = 0
    queued: int = 0
    running: int = 0


class Interrupted(Exception):
    """Ctrl-C during a run: in-flight tasks were asked to cancel, queued jobs were not started."""

    def __init__(self, cancelled: list[TargetResult], not_started: list[TargetResult] | None = None):
        self.cancelled = cancelled
        self.not_started = list(not_started or [])
        super().__init__(f"interrupted; cancel requested for {count(len(cancelled), 'task')} in flight, "
                         f"{len(self.not_started)} not started")


def _not_started(queue, why: str | Callable[[Job], str]) -> list[TargetResult]:
    """Every job of ``queue`` not started, ``why`` (or ``why(job)``) said; the queue emptied."""
    out = []
    for job in queue:
        job.result.status, job.result.detail = NOT_STARTED, f"not started: {why(job) if callable(why) else why}"
        out.append(job.result)
    queue.clear()
    return out


def _why_stuck(job: Job) -> str:
    """Why a job can never start once nothing runs: what it needs was not made, or vCenter's room."""
    if job.ready is not None and not job.ready():
        return "the copy it is cloned from was not made (it failed or did not start)"
    return "vCenter's admission limits leave no room for it"


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

    def __len__(self) -> int:
        return sum(len(q) for q in self._by_key.values())

    def take(self, free: int, per: Counter, per_key: int | None,
             admit: Callable[[Job], bool] | None = None) -> list[Job]:
        """``admit(job)``: whether the head of a key's queue may start now (it takes what it needs)."""
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
                if admit is not None and not admit(queue[0]):
                    continue
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
             task_timeout: float | None = None, on_event: Callable[[TargetResult], None] | None = None,
             budget=None, on_states: Callable[[TaskStates], None] | None = None, pace: float = 0.0,
             wake_on_start: bool | None = None) -> None:
    """Run every job; each job's ``result`` ends CHANGED or FAILED (with the vSphere fault).

    ``task_timeout``: seconds each task may take once it runs (default: the session's).
    ``budget``: vCenter's admission (ops/admission.Ledger) for the jobs with ``charges``.
    ``on_states``: called with the counts of waiting, queued and running jobs as they change; with
    ``wake_on_start`` (default: whenever there is an ``on_states``) a task that leaves vCenter's queue
    is told at once, else with the next answer (one wait fewer per round).
    ``pace``: when tasks end, wait up to this long for those that started with them (long clones end in
    rounds, a little apart: their ends gathered, the next clones start in one wave, not several).
    Raises Interrupted on Ctrl-C, with every job's result set.
    """
    if jobs:
        _Run(session, jobs, concurrency, per_key, task_timeout, on_event, budget, on_states, pace,
             on_states is not None if wake_on_start is None else wake_on_start).run()


class _Run:
    """One run_jobs: the jobs waiting, the tasks in flight, their limits."""

    def __init__(self, session, jobs, concurrency, per_key, task_timeout, on_event, budget, on_states, pace=0.0,
                 wake_on_start: bool = False):
        self.limit = task_timeout if task_timeout is not None else task_timeout_of(session)
        self.concurrency, self.per_key, self.on_event = concurrency, per_key, on_event
        self.budget, self.on_states, self.shown = budget, on_states, None
        self.queue = _Waiting(jobs)
        self.inflight: dict[str, Job] = {}
        self.tasks: dict[str, Any] = {}
        self.deadlines: dict[str, float] = {}     # from each task's start (vCenter may queue it first)
        self.charged: dict[int, dict] = {}
        self.per = Counter()
        self.gated = budget is not None or any(job.ready is not None for job in jobs)
        self.pace, self.wake_on_start = pace, wake_on_start
        self.watcher = TaskWatcher(session)
        self.jobs = jobs
        self.ended: set[int] = set()   # jobs whose outcome is known
        self.submitted: dict[int, tuple[Job, Any]] = {}   # every task started (a Ctrl-C may come before it is in flight)

    def admit(self, job: Job) -> bool:
        if job.ready is not None and not job.ready():
            return False
        if self.budget is None or job.charges is None:
            return True
        charges = job.charges()
        if not self.budget.admit(charges):
            return False
        self.charged[id(job)] = charges
        return True

    def done_with(self, job: Job) -> None:
        self.per[job.key] -= 1
        if id(job) in self.charged:
            self.budget.release(self.charged.pop(id(job)))

    def finish(self, job: Job, ok: bool, detail: str | None = None, value: Any = None) -> None:
        self.ended.add(id(job))
        self.done_with(job)
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

    def submit_wave(self, pool) -> None:
        admit = self.admit if self.gated else None
        wave = self.queue.take(self.concurrency - len(self.inflight), self.per, self.per_key, admit)
        started = []
        for job, task, error in pool.map(self.submit, wave):
            if task is None:
                self.finish(job, False, error)
            else:
                self.inflight[task._moId] = job
                self.tasks[task._moId] = task
                started.append(task)
        self.watcher.add(started)
        if not wave and not self.inflight and self.queue:   # nothing can ever start: say so, do not spin
            _not_started(self.queue, _why_stuck)

    def expire(self, now: float) -> None:
        for moid, begun in self.watcher.started.items():
            self.deadlines.setdefault(moid, begun + self.limit)
        for moid in [m for m, t in self.deadlines.items() if t <= now]:
            job = self.inflight.pop(moid)
            del self.deadlines[moid]
            self.watcher.forget([moid])
            cancelled = _cancel(self.tasks[moid])
            self.finish(job, False, f"timed out after {self.limit:.0f}s (--task-timeout); " +
                        ("cancel requested" if cancelled else "the task could not be cancelled and may still complete"))

    def show_states(self) -> None:
        if self.on_states is None:
            return
        queued = sum(1 for moid in self.inflight if self.watcher.states.get(moid) == "queued")
        now = (len(self.queue), queued, len(self.inflight) - queued)
        if now != self.shown:
            self.shown = now
            self.on_states(TaskStates(*now))

    def step(self, pool) -> None:
        self.submit_wave(pool)
        self.show_states()
        if not self.inflight:
            return
        now = time.monotonic()
        self.expire(now)
        if not self.inflight:
            return
        wait = min(self.deadlines.values()) - now if self.deadlines else MAX_QUEUED_WAIT
        # Back as soon as a task leaves vCenter's queue when its limit or the progress needs to know.
        ended = self.watcher.wait(wait, until_started=self.wake_on_start or self.limit < wait)
        for outcome in ended + self.gather(ended):
            moid = outcome.task._moId
            job = self.inflight.pop(moid)
            self.deadlines.pop(moid, None)
            job.seconds = outcome.seconds
            self.finish(job, outcome.ok, outcome.error, outcome.result)

    def gather(self, ended: list) -> list:
        """With a pace: tasks that vCenter started within the pace after the last of those that just
        ended end about that much later; wait for them (one pause, one more answer) so that the next
        wave takes them all."""
        begun = [o.started for o in ended if o.started is not None]
        if not self.pace or not begun:
            return []
        last = max(begun)
        lags = [(t - last).total_seconds() for t in self.watcher.start_times.values()]
        soon = [lag for lag in lags if 0 <= lag <= self.pace]
        if not soon:
            return []
        time.sleep(min(max(soon) + GATHER_MARGIN, self.pace))
        return self.watcher.wait(GATHER_MARGIN)

    def run(self) -> None:
        try:
            with ThreadPoolExecutor(max_workers=SUBMIT_THREADS) as pool:
                while self.queue or self.inflight:
                    self.step(pool)
        except KeyboardInterrupt:
            _on_ctrl_c(self.jobs, self.queue, self.inflight, self.tasks, self.submitted, self.ended, self.watcher,
                       self.finish)
        except Exception as exc:  # the session or the collector failed: say what became of every job
            for job in self.inflight.values():
                job.result.status, job.result.detail = FAILED, f"outcome unknown: {error_message(exc)}"
            _not_started(self.queue, f"the run stopped: {error_message(exc)}")
            raise
        finally:
            self.watcher.close()




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
        if inflight:
            watcher.afresh()   # the Ctrl-C may have cut a wait short: its answer is lost
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
