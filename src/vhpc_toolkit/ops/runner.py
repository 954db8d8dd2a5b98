"""Start one task per VM with bounded concurrency and wait for them together.

Submitting is a SOAP call per job, done by a small thread pool so one slow
call does not hold the rest; waiting is one private PropertyCollector for all
tasks. Limits: ``total`` tasks in flight, and ``per_key`` per key (a host:
vSphere queues more than about 8 provisioning operations per host). As tasks
end, the next jobs start, so the pipeline stays full.
"""
from __future__ import annotations

import time
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable

from vhpc_toolkit.errors import ConnectionLost
from vhpc_toolkit.results import CHANGED, FAILED, TargetResult
from vhpc_toolkit.vsphere.faults import error_message
from vhpc_toolkit.vsphere.tasks import TaskWatcher

DEFAULT_CONCURRENCY = 32
SUBMIT_THREADS = 8


@dataclass(eq=False)
class Job:
    """One VM's task: ``start()`` makes the SOAP call that returns a vim.Task."""

    result: TargetResult
    start: Callable[[], Any]
    key: str = ""                                        # concurrency group (the host)
    on_success: Callable[[Any], None] | None = None      # gets the task's info.result


class Interrupted(Exception):
    """Ctrl-C during a run: in-flight tasks were asked to cancel."""

    def __init__(self, cancelled: list[TargetResult]):
        self.cancelled = cancelled
        super().__init__(f"interrupted; cancel requested for {len(cancelled)} task(s) in flight")


def run_jobs(session, jobs: list[Job], concurrency: int = DEFAULT_CONCURRENCY, per_key: int | None = None,
             timeout: float = 1800.0, on_event: Callable[[TargetResult], None] | None = None) -> None:
    """Run every job; each job's ``result`` ends CHANGED or FAILED (with the vSphere fault)."""
    if not jobs:
        return
    queue = deque(jobs)
    inflight: dict[str, Job] = {}
    tasks: dict[str, Any] = {}
    per = Counter()
    watcher = TaskWatcher(session)
    deadline = time.monotonic() + timeout

    def finish(job: Job, ok: bool, detail: str | None = None, value: Any = None) -> None:
        if ok:
            job.result.status = CHANGED
            if job.on_success:
                job.on_success(value)
        else:
            job.result.status, job.result.detail = FAILED, detail or "task failed"
        if on_event:
            on_event(job.result)

    def submit(job: Job):
        try:
            return job, job.start(), None
        except Exception as exc:  # a fault raised by the call itself (e.g. InvalidState)
            if isinstance(exc, ConnectionLost):   # vCenter may have started it: callers look again
                job.result.data["uncertain"] = True
            return job, None, error_message(exc)

    try:
        with ThreadPoolExecutor(max_workers=SUBMIT_THREADS) as pool:
            while queue or inflight:
                wave = []
                for _ in range(len(queue)):
                    job = queue.popleft()
                    if len(inflight) + len(wave) >= concurrency or (per_key and per[job.key] >= per_key):
                        queue.append(job)
                        continue
                    per[job.key] += 1
                    wave.append(job)
                started = []
                for job, task, error in pool.map(submit, wave):
                    if task is None:
                        per[job.key] -= 1
                        finish(job, False, error)
                    else:
                        inflight[task._moId] = job
                        tasks[task._moId] = task
                        started.append(task)
                watcher.add(started)
                if not inflight:
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    for job in inflight.values():
                        finish(job, False, f"timed out after {timeout:.0f}s")
                    inflight.clear()
                    break
                for outcome in watcher.wait(remaining):
                    job = inflight.pop(outcome.task._moId)
                    per[job.key] -= 1
                    finish(job, outcome.ok, outcome.error, outcome.result)
    except KeyboardInterrupt:
        cancelled = []
        for moid, job in inflight.items():
            try:
                tasks[moid].CancelTask()
            except Exception:  # not cancellable at this stage; it may still complete
                pass
            job.result.status, job.result.detail = FAILED, "interrupted (cancel requested)"
            cancelled.append(job.result)
        raise Interrupted(cancelled) from None
    finally:
        watcher.close()
